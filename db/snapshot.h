/*
 * The snapshot codec: a copy of the whole durable tree, as the writer
 * stores it in table snapshot and db_tree_at reads it back. Per node in
 * creation order: varints (LEB128) of the path's length, the path, the
 * value's length, the value, the perms' length, the perms, and the
 * node's generation; the whole in one zstd frame, with the node count
 * and the raw length kept beside it (columns nodes, raw_bytes). No
 * SQLite here: the fuzz target drives this file alone. A blob read back
 * is untrusted; a corrupt one gives -EIO, never a crash.
 */
#ifndef XSC_SNAPSHOT_H
#define XSC_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_MAX_RAW	(4ULL << 30)	/* larger blobs are corrupt */

/* A snapshot being built, node by node (compressed as it grows). */
struct snapshot_enc {
	void		*zc;		/* ZSTD_CCtx */
	unsigned char	*in, *out;
	size_t		 inlen, incap, outlen, outcap;
	uint64_t	 nodes, raw;
	int		 error;
};

/* One node, as the decoder hands it out: paths and perms are not
 * NUL-terminated and point into the decoder's buffer. */
struct snapshot_node {
	const char	*path;
	size_t		 plen;
	const void	*value;
	uint32_t	 vlen;
	const char	*perms;
	size_t		 permslen;
	uint64_t	 gen;
};

typedef int	 snapshot_node_cb(const struct snapshot_node *, void *);

int		 snapshot_enc_init(struct snapshot_enc *, int level);
void		 snapshot_enc_add(struct snapshot_enc *, const char *, size_t,
		    const void *, uint32_t, const char *, size_t, uint64_t);
int		 snapshot_enc_finish(struct snapshot_enc *);
void		 snapshot_enc_free(struct snapshot_enc *);

int		 snapshot_decode(const void *, size_t, uint64_t, uint64_t,
		    snapshot_node_cb *, void *);

#endif
