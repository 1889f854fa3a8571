/*
 * The history codec: a run of consecutive commits, stored as one row of
 * table hbatch (docs/console-db.md, "The store's history"). Per commit,
 * varints (LEB128, shortest form) of: the generation's step from the
 * previous commit's (the first's from 0; never 0 after the first), the
 * time's step (zigzag: a clock may step back), the origin, the flags
 * (1: in a transaction), the number of changes; then per change its
 * flags (HBLOB_DELETED, HBLOB_CREATED), its path's length and the path
 * with its NUL, and unless deleted the value's length and the value,
 * the perms' length and the perms with their NUL. The whole is one zstd
 * frame; the row keeps the counts and the raw length beside it. A blob
 * read back is untrusted: a corrupt one gives -EIO, never a crash (the
 * fuzz target, tests/fuzz_hblob.c, drives this file alone).
 */
#ifndef XSC_HBLOB_H
#define XSC_HBLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HBLOB_DELETED	1u
#define HBLOB_CREATED	2u
#define HBLOB_MAX_RAW	(1ULL << 30)	/* larger blobs are corrupt */
#define HBLOB_MIN_COMMIT 5		/* the fewest bytes a commit takes */
#define HBLOB_MIN_CHANGE 3		/* ... and a change */

/* A decoded commit: its changes are ch[first .. first + n). */
struct hblob_commit {
	uint64_t	 gen, ns;
	uint32_t	 origin;
	bool		 in_txn;
	size_t		 first, n;
};

/* A decoded change; path and perms are NUL-terminated, in the blob. */
struct hblob_change {
	const char	*path;
	const void	*value;		/* NULL if deleted */
	const char	*perms;		/* NULL if deleted */
	uint32_t	 flags;
	uint32_t	 vlen;
	size_t		 commit;	/* index in c */
};

/* A decoded blob: everything points into raw. */
struct hblob {
	unsigned char		*raw;
	struct hblob_commit	*c;
	size_t			 nc;
	struct hblob_change	*ch;
	size_t			 nch;
};

/* A blob being built, commit by commit. */
struct hblob_enc {
	unsigned char	*buf;
	size_t		 len, cap;
	uint64_t	 commits, changes;
	uint64_t	 gen_lo, gen_hi, ns_lo, ns_hi;
	uint64_t	 left;		/* changes the open commit still owes */
};

void	 hblob_enc_commit(struct hblob_enc *, uint64_t gen, uint64_t ns,
	    uint32_t origin, bool in_txn, uint32_t nchanges);
void	 hblob_enc_change(struct hblob_enc *, uint32_t flags, const char *,
	    const void *, uint32_t, const char *);
int	 hblob_compress(struct hblob_enc *, void *zctx, int level,
	    unsigned char **, size_t *, size_t *);
void	 hblob_enc_reset(struct hblob_enc *);
void	 hblob_enc_free(struct hblob_enc *);

int	 hblob_decode(void *, const void *, size_t, uint64_t raw,
	    uint64_t commits, uint64_t changes, struct hblob *);
void	 hblob_free(struct hblob *);

#endif
