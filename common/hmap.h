/*
 * A hash map from strings to entries, for the store's path index. libc's
 * hsearch(3) cannot delete and tsearch(3) costs a cache miss per level,
 * so this is a small open-addressing table (linear probing, backward-
 * shift deletion, no tombstones). An entry's first member must be its
 * key, a `const char *` that stays valid while the entry is in the map.
 */
#ifndef XSC_HMAP_H
#define XSC_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

struct hmap	*hmap_create(void);
void		 hmap_free(struct hmap *);
void		 hmap_clear(struct hmap *);
void		*hmap_find(const struct hmap *, const char *);
void		*hmap_find_hashed(const struct hmap *, const char *, uint32_t);
void		 hmap_prefetch_slot(const struct hmap *, uint32_t);
void		 hmap_prefetch_entry(const struct hmap *, uint32_t);
void		 hmap_insert(struct hmap *, void *);
void		*hmap_remove(struct hmap *, const char *);
size_t		 hmap_count(const struct hmap *);
size_t		 hmap_memory(const struct hmap *);
uint32_t	 hmap_hash(const char *);

#endif
