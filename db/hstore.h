/*
 * The history's rows (db/ only): batches of commits, each one row of
 * table hbatch holding an hblob (hblob.h), found through hpath (the
 * keys of the paths a batch changes: hist_key_len) and hsubject (the domids its changes concern).
 * hstore.c writes and deletes them and answers the questions both the
 * writer (thinning, the budget) and the readers (hreader.c) ask: which
 * commit is at a time, which batch holds a generation. The schema and
 * the rules are in docs/console-db.md.
 */
#ifndef XSC_HSTORE_H
#define XSC_HSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hblob.h"

struct db;
struct hmap;
struct sqlite3_stmt;

#define HBATCH_LEVEL	1		/* zstd: the writer's CPU is what
					   history costs the store */
/* A batch is cut at this many raw bytes (a commit is never split). Each
 * batch adds a row to hpath per directory it changes, each in its own
 * place in that index: smaller batches cost the writer more index pages
 * per commit (docs/console-db.md). */
#define HBATCH_RAW_MAX	(1024u << 10)
/* Stored bytes counted for history rows (docs/console-db.md): a batch
 * is HBATCH_BYTES + its blob + HKEY_BYTES + its length per path key,
 * HKEY_BYTES per subject key. */
#define HBATCH_BYTES	64
#define HKEY_BYTES	16

/* A batch row, as read (data not NUL-terminated; valid until the
 * statement moves). */
struct hbatch_row {
	uint64_t	 gen_lo, gen_hi, ns_lo, ns_hi;
	uint64_t	 commits, changes, raw, size;
	const void	*data;
	size_t		 len;
};

/* A node of a tree rebuilt from history (db_tree_at, db_store_load), in
 * creation order. */
struct hnode {
	char		*path;		/* the hmap key: first */
	unsigned char	*value;
	uint32_t	 vlen;
	char		*perms;
	uint64_t	 gen;
	struct hnode	*prev, *next;
};

/* A tree being rebuilt: nodes by path, and in order. */
struct htree {
	struct hmap	*map;
	struct hnode	*head, *tail;
};

void	 htree_set(struct htree *, const char *, const void *, uint32_t,
	    const char *, uint64_t, bool);
void	 htree_remove(struct htree *, const char *);
void	 htree_free(struct htree *);

/* A set of strings, in the order added (hstore.c). The strings are
 * carved from blocks freed together when the set is emptied. */
struct hstrset {
	struct hmap	*map;		/* of struct hstr */
	struct hstr	**v;
	size_t		 n, cap;
	size_t		 bytes;		/* their lengths, NULs included */
	struct hstrblk	*blk;		/* the newest block first */
};

/* A batch being built: the blob, its distinct keys, paths, subjects. */
struct hsink {
	struct hblob_enc enc;
	struct hstrset	 keys;		/* hist_key_len of each path */
	struct hstrset	 paths;
	int64_t		*subj;
	size_t		 nsubj, capsubj;
	void		*zc;		/* ZSTD_CCtx */
	unsigned char	*out, *pout, *plist;
	size_t		 outcap, poutcap, plistcap;
	int		 level;
	uint64_t	 epoch;		/* batches stored or given up */
	/* Totals of what hsink_flush stored. */
	uint64_t	 commits, changes, bytes;
};

void	 hstrset_init(struct hstrset *);
bool	 hstrset_add(struct hstrset *, const char *, size_t);
void	 hstrset_append(struct hstrset *, const char *, size_t);
void	 hstrset_clear(struct hstrset *);
void	 hstrset_free(struct hstrset *);

int64_t	 hist_subject(const char *, bool *);
size_t	 hist_key_len(const char *);

void	 hsink_init(struct hsink *, int level);
void	 hsink_commit(struct hsink *, uint64_t gen, uint64_t ns,
	    uint32_t origin, bool in_txn, uint32_t nchanges);
#define HSINK_LOOK	0
#define HSINK_NEW	1
#define HSINK_LISTED	2
int64_t	 hsink_change(struct hsink *, uint32_t flags, const char *path,
	    const void *, uint32_t, const char *perms, int listed,
	    bool *is_name);
int	 hsink_flush(struct db *, struct hsink *);
int	 hsink_maybe_flush(struct db *, struct hsink *);
void	 hsink_discard(struct hsink *);
void	 hsink_free(struct hsink *);

int	 hbatch_read(struct db *, struct sqlite3_stmt *,
	    struct hbatch_row *);
int	 hbatch_decode(struct db *, const struct hbatch_row *,
	    struct hblob *);
int	 hbatch_delete(struct db *, const struct hbatch_row *,
	    const struct hblob *);

int	 hbatch_first(struct db *, int, uint64_t, struct hbatch_row *);
int	 hbatch_from(struct db *, uint64_t, struct hbatch_row *,
	    struct hblob *);
int	 hbatch_has_path(struct db *, uint64_t, const char *, bool *);

int	 hist_gen_since(struct db *, uint64_t ns, uint64_t *gen, bool *);
int	 hist_gen_at(struct db *, uint64_t ns, uint64_t *gen, bool *);
int	 hstore_migrate(struct db *);
int	 hist_first_at(struct db *, uint64_t gen, uint64_t *, uint64_t *,
	    bool *);

#endif
