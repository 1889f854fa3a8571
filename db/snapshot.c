/*
 * The snapshot codec (snapshot.h): the writer's encoder, streaming into
 * one zstd frame as it reads the node table, and db_tree_at's decoder,
 * which checks a blob whole before it hands out a node.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "codec.h"
#include "log.h"
#include "snapshot.h"
#include "xmalloc.h"

#define SNAP_IN_BYTES	(64u << 10)	/* compressed in pieces this big */

/* Compress what is in the input buffer (to the frame's end if end). */
static int
snapshot_enc_flush(struct snapshot_enc *e, int end)
{
	ZSTD_inBuffer	 ib = { e->in, e->inlen, 0 };
	ZSTD_outBuffer	 ob;
	size_t		 left;

	do {
		if (e->outcap - e->outlen < ZSTD_CStreamOutSize()) {
			e->outcap = e->outcap * 2 + ZSTD_CStreamOutSize();
			e->out = xrealloc(e->out, e->outcap);
		}
		ob.dst = e->out;
		ob.size = e->outcap;
		ob.pos = e->outlen;
		left = ZSTD_compressStream2(e->zc, &ob, &ib, end ? ZSTD_e_end :
		    ZSTD_e_continue);
		e->outlen = ob.pos;
		if (ZSTD_isError(left)) {
			log_error("snapshot: %s", ZSTD_getErrorName(left));
			return (-EIO);
		}
	} while (ib.pos < ib.size || (end && left != 0));
	e->raw += e->inlen;
	e->inlen = 0;
	return (0);
}

/* Start a snapshot; 0 or -ENOMEM. */
int
snapshot_enc_init(struct snapshot_enc *e, int level)
{
	memset(e, 0, sizeof *e);
	if ((e->zc = ZSTD_createCCtx()) == NULL)
		return (-ENOMEM);
	ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, level);
	return (0);
}

/* Add a node (after its parent: the caller's order is kept). */
void
snapshot_enc_add(struct snapshot_enc *e, const char *path, size_t plen,
    const void *value, uint32_t vlen, const char *perms, size_t permslen,
    uint64_t gen)
{
	if (e->error != 0)
		return;
	codec_put_varint(&e->in, &e->inlen, &e->incap, plen);
	codec_put(&e->in, &e->inlen, &e->incap, path, plen);
	codec_put_varint(&e->in, &e->inlen, &e->incap, vlen);
	codec_put(&e->in, &e->inlen, &e->incap, value, vlen);
	codec_put_varint(&e->in, &e->inlen, &e->incap, permslen);
	codec_put(&e->in, &e->inlen, &e->incap, perms, permslen);
	codec_put_varint(&e->in, &e->inlen, &e->incap, gen);
	e->nodes++;
	if (e->inlen >= SNAP_IN_BYTES)
		e->error = snapshot_enc_flush(e, 0);
}

/* End the frame: out, outlen, nodes and raw are the snapshot's. */
int
snapshot_enc_finish(struct snapshot_enc *e)
{
	if (e->error == 0)
		e->error = snapshot_enc_flush(e, 1);
	return (e->error);
}

/* Free an encoder's buffers and context. */
void
snapshot_enc_free(struct snapshot_enc *e)
{
	ZSTD_freeCCtx(e->zc);
	free(e->in);
	free(e->out);
	memset(e, 0, sizeof *e);
}

/* Read one node at *p; false if it does not fit. */
static bool
snapshot_node(const unsigned char **p, const unsigned char *end,
    struct snapshot_node *n)
{
	const unsigned char	*path, *v, *perms;
	uint64_t		 plen, vlen, permslen;

	if (!codec_field(p, end, &path, &plen) ||
	    !codec_field(p, end, &v, &vlen) ||
	    !codec_field(p, end, &perms, &permslen) ||
	    !codec_varint(p, end, &n->gen) || vlen > UINT32_MAX)
		return (false);
	n->path = (const char *)path;
	n->plen = (size_t)plen;
	n->value = v;
	n->vlen = (uint32_t)vlen;
	n->perms = (const char *)perms;
	n->permslen = (size_t)permslen;
	return (true);
}

/*
 * Decode a snapshot of nodes nodes and raw bytes, handing each node to
 * cb in order; 0, -EIO if corrupt (then cb was never called), -ENOMEM,
 * or cb's first non-zero return.
 */
int
snapshot_decode(const void *z, size_t zlen, uint64_t raw, uint64_t nodes,
    snapshot_node_cb *cb, void *arg)
{
	struct snapshot_node	 n;
	const unsigned char	*p, *end;
	unsigned char		*buf;
	uint64_t		 i;
	int			 error;

	if (raw == 0)
		return (nodes == 0 ? 0 : -EIO);
	if (raw > SNAPSHOT_MAX_RAW || raw >= SIZE_MAX || nodes > raw)
		return (-EIO);
	if ((error = codec_inflate(NULL, z, zlen, raw, &buf)) != 0)
		return (error);
	end = buf + raw;
	for (p = buf, i = 0; i < nodes; i++) {
		if (!snapshot_node(&p, end, &n))
			break;
	}
	if (i != nodes || p != end) {
		free(buf);
		return (-EIO);
	}
	for (p = buf, i = 0; i < nodes && error == 0; i++) {
		snapshot_node(&p, end, &n);
		error = cb(&n, arg);
	}
	free(buf);
	return (error);
}
