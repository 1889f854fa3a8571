/* A string-keyed open-addressing hash map (see hmap.h). */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "log.h"
#include "xmalloc.h"

#define HMAP_MIN_SIZE	16

struct hmap {
	void		**entries;	/* NULL: empty slot */
	uint32_t	 *hashes;	/* each entry's hash, to skip strcmp */
	size_t		  size;		/* a power of two */
	size_t		  count;
};

/* The key of an entry: its first member. */
static const char *
hmap_key(const void *entry)
{
	return (*(const char *const *)entry);
}

/* FNV-1a, 32 bits: short paths hash fast and spread well enough. */
uint32_t
hmap_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return (h);
}

/* Make an empty map. */
struct hmap *
hmap_create(void)
{
	struct hmap	*m = xcalloc(1, sizeof *m);

	m->size = HMAP_MIN_SIZE;
	m->entries = xcalloc(m->size, sizeof *m->entries);
	m->hashes = xcalloc(m->size, sizeof *m->hashes);
	return (m);
}

/* Empty the map (not freeing its entries), keeping its size. */
void
hmap_clear(struct hmap *m)
{
	memset(m->entries, 0, m->size * sizeof *m->entries);
	memset(m->hashes, 0, m->size * sizeof *m->hashes);
	m->count = 0;
}

/* Free the map (not its entries). */
void
hmap_free(struct hmap *m)
{
	if (m == NULL)
		return;
	free(m->entries);
	free(m->hashes);
	free(m);
}

/* Place an entry known to be absent, without growing. */
static void
hmap_place(struct hmap *m, void *entry, uint32_t h)
{
	size_t	i = h & (m->size - 1);

	while (m->entries[i] != NULL)
		i = (i + 1) & (m->size - 1);
	m->entries[i] = entry;
	m->hashes[i] = h;
}

/* Resize to a new power of two and re-place every entry. */
static void
hmap_resize(struct hmap *m, size_t size)
{
	void		**old = m->entries;
	uint32_t	 *oldh = m->hashes;
	size_t		  oldsize = m->size, i;

	m->entries = xcalloc(size, sizeof *m->entries);
	m->hashes = xcalloc(size, sizeof *m->hashes);
	m->size = size;
	for (i = 0; i < oldsize; i++) {
		if (old[i] != NULL)
			hmap_place(m, old[i], oldh[i]);
	}
	free(old);
	free(oldh);
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t
hmap_slot(const struct hmap *m, const char *key, uint32_t h)
{
	size_t	i = h & (m->size - 1);

	while (m->entries[i] != NULL) {
		if (m->hashes[i] == h && strcmp(hmap_key(m->entries[i]),
		    key) == 0)
			break;
		i = (i + 1) & (m->size - 1);
	}
	return (i);
}

/* Find the entry with a key. */
void *
hmap_find(const struct hmap *m, const char *key)
{
	return (m->entries[hmap_slot(m, key, hmap_hash(key))]);
}

/* Find the entry with a key whose hmap_hash the caller has. */
void *
hmap_find_hashed(const struct hmap *m, const char *key, uint32_t h)
{
	return (m->entries[hmap_slot(m, key, h)]);
}

/*
 * Prefetching, for a caller that knows the keys it will look up next (a
 * queue of records): a lookup in a large map waits on memory three times
 * (the slot, the entry, the key), one after the other. Some lookups
 * ahead, hmap_prefetch_slot asks for the slot of a key's hash; fewer
 * ahead, once that has arrived, hmap_prefetch_entry asks for the entry
 * the slot holds (its first 128 bytes: its key pointer, and a key stored
 * after a small entry). Both are hints: nothing is read that
 * could fault, and a wrong guess costs only the memory traffic.
 */
void
hmap_prefetch_slot(const struct hmap *m, uint32_t h)
{
	size_t	i = h & (m->size - 1);

	__builtin_prefetch(&m->entries[i]);
	__builtin_prefetch(&m->hashes[i]);
}

void
hmap_prefetch_entry(const struct hmap *m, uint32_t h)
{
	size_t	i = h & (m->size - 1);

	if (m->entries[i] != NULL && m->hashes[i] == h) {
		__builtin_prefetch(m->entries[i]);
		__builtin_prefetch((const char *)m->entries[i] + 64);
		__builtin_prefetch((const char *)m->entries[i] + 127);
	}
}

/* Insert an entry whose key is not in the map yet. Load stays <= 3/4. */
void
hmap_insert(struct hmap *m, void *entry)
{
	uint32_t	h = hmap_hash(hmap_key(entry));

	if ((m->count + 1) * 4 > m->size * 3)
		hmap_resize(m, m->size * 2);
	if (m->entries[hmap_slot(m, hmap_key(entry), h)] != NULL)
		log_fatal("hmap: duplicate key %s", hmap_key(entry));
	hmap_place(m, entry, h);
	m->count++;
}

/*
 * Remove and return the entry with a key. Later entries of the probe run
 * move back into the hole when their home slot allows it, so lookups
 * never need tombstones.
 */
void *
hmap_remove(struct hmap *m, const char *key)
{
	size_t	 mask = m->size - 1, i, j, home;
	void	*entry;

	i = hmap_slot(m, key, hmap_hash(key));
	if ((entry = m->entries[i]) == NULL)
		return (NULL);
	m->entries[i] = NULL;
	for (j = (i + 1) & mask; m->entries[j] != NULL; j = (j + 1) & mask) {
		home = m->hashes[j] & mask;
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->entries[i] = m->entries[j];
		m->hashes[i] = m->hashes[j];
		m->entries[j] = NULL;
		i = j;
	}
	m->count--;
	if (m->size > HMAP_MIN_SIZE && m->count * 8 < m->size)
		hmap_resize(m, m->size / 2);
	return (entry);
}

/* How many entries there are. */
size_t
hmap_count(const struct hmap *m)
{
	return (m->count);
}

/* Bytes the table itself takes. */
size_t
hmap_memory(const struct hmap *m)
{
	return (sizeof *m + m->size * (sizeof *m->entries +
	    sizeof *m->hashes));
}
