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

#include "log.h"
#include "snapshot.h"
#include "xmalloc.h"

#define SNAP_IN_BYTES	(64u << 10)	/* compressed in pieces this big */
#define SNAP_OUT_FIRST	(64u << 10)	/* the decoder's first buffer */

/* Append bytes to a growing buffer. */
static void
snapshot_put(unsigned char **buf, size_t *len, size_t *cap, const void *p,
    size_t n)
{
	if (*len + n > *cap) {
		while (*len + n > *cap)
			*cap = *cap * 2 + 64;
		*buf = xrealloc(*buf, *cap);
	}
	if (n > 0)
		memcpy(*buf + *len, p, n);
	*len += n;
}

/* Append a varint to a growing buffer. */
static void
snapshot_put_varint(unsigned char **buf, size_t *len, size_t *cap,
    uint64_t v)
{
	unsigned char	b[10];
	size_t		n = 0;

	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	snapshot_put(buf, len, cap, b, n);
}

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
	snapshot_put_varint(&e->in, &e->inlen, &e->incap, plen);
	snapshot_put(&e->in, &e->inlen, &e->incap, path, plen);
	snapshot_put_varint(&e->in, &e->inlen, &e->incap, vlen);
	snapshot_put(&e->in, &e->inlen, &e->incap, value, vlen);
	snapshot_put_varint(&e->in, &e->inlen, &e->incap, permslen);
	snapshot_put(&e->in, &e->inlen, &e->incap, perms, permslen);
	snapshot_put_varint(&e->in, &e->inlen, &e->incap, gen);
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

/* Read a varint as the encoder writes it; false past the end, beyond
 * 64 bits, or not in its shortest form (one value, one encoding). */
static bool
snapshot_varint(const unsigned char **p, const unsigned char *end,
    uint64_t *v)
{
	unsigned char	b;
	int		shift;

	*v = 0;
	for (shift = 0; *p < end && shift < 64; shift += 7) {
		b = *(*p)++;
		if (shift == 63 && b > 1)
			return (false);
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return (b != 0 || shift == 0);
	}
	return (false);
}

/* Read a length-prefixed field; false if it does not fit. */
static bool
snapshot_field(const unsigned char **p, const unsigned char *end,
    const unsigned char **f, uint64_t *len)
{
	if (!snapshot_varint(p, end, len) || *len > (uint64_t)(end - *p))
		return (false);
	*f = *p;
	*p += *len;
	return (true);
}

/* Read one node at *p; false if it does not fit. */
static bool
snapshot_node(const unsigned char **p, const unsigned char *end,
    struct snapshot_node *n)
{
	const unsigned char	*path, *v, *perms;
	uint64_t		 plen, vlen, permslen;

	if (!snapshot_field(p, end, &path, &plen) ||
	    !snapshot_field(p, end, &v, &vlen) ||
	    !snapshot_field(p, end, &perms, &permslen) ||
	    !snapshot_varint(p, end, &n->gen) || vlen > UINT32_MAX)
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
 * Decompress a frame of exactly raw bytes into *out. The buffer grows
 * with what the frame really gives (to raw + 1, to see a frame that
 * gives more), so a corrupt raw_bytes cannot make a reader allocate
 * gigabytes for a small blob; one frame, nothing after it.
 */
static int
snapshot_inflate(const void *z, size_t zlen, uint64_t raw,
    unsigned char **out)
{
	ZSTD_DCtx	*dc;
	ZSTD_inBuffer	 ib = { z, zlen, 0 };
	ZSTD_outBuffer	 ob;
	size_t		 max = (size_t)raw + 1, in0, out0, left;
	int		 error = 0;

	*out = NULL;
	if ((dc = ZSTD_createDCtx()) == NULL)
		return (-ENOMEM);
	ob.size = max < SNAP_OUT_FIRST ? max : SNAP_OUT_FIRST;
	ob.dst = xmalloc(ob.size);
	ob.pos = 0;
	for (;;) {
		in0 = ib.pos;
		out0 = ob.pos;
		left = ZSTD_decompressStream(dc, &ob, &ib);
		if (ZSTD_isError(left)) {
			error = -EIO;
			break;
		}
		if (left == 0)
			break;		/* the frame's end */
		if (ob.pos == ob.size) {
			if (ob.size == max) {
				error = -EIO;	/* more than raw */
				break;
			}
			ob.size = ob.size > max / 2 ? max : ob.size * 2;
			ob.dst = xrealloc(ob.dst, ob.size);
		} else if (ib.pos == ib.size || (ib.pos == in0 &&
		    ob.pos == out0)) {
			error = -EIO;		/* truncated */
			break;
		}
	}
	ZSTD_freeDCtx(dc);
	if (error == 0 && (ob.pos != raw || ib.pos != zlen))
		error = -EIO;
	if (error != 0) {
		free(ob.dst);
		return (error);
	}
	*out = ob.dst;
	return (0);
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
	if ((error = snapshot_inflate(z, zlen, raw, &buf)) != 0)
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
