/*
 * The blob codecs' shared pieces (codec.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "codec.h"
#include "xmalloc.h"

#define CODEC_OUT_FIRST	(64u << 10)	/* the decoder's first buffer */
#define CODEC_VARINT_MAX 10		/* bytes of a 64-bit varint */

/* Make room for n more bytes in a growing buffer. */
static void
codec_room(unsigned char **buf, size_t *len, size_t *cap, size_t n)
{
	if (*len + n > *cap) {
		while (*len + n > *cap)
			*cap = *cap * 2 + 64;
		*buf = xrealloc(*buf, *cap);
	}
}

/* Append bytes to a growing buffer. */
void
codec_put(unsigned char **buf, size_t *len, size_t *cap, const void *p,
    size_t n)
{
	codec_room(buf, len, cap, n);
	if (n > 0)
		memcpy(*buf + *len, p, n);
	*len += n;
}

/* Append a varint to a growing buffer, in place (the writer puts
 * several per store change). */
void
codec_put_varint(unsigned char **buf, size_t *len, size_t *cap,
    uint64_t v)
{
	unsigned char	*p;

	codec_room(buf, len, cap, CODEC_VARINT_MAX);
	p = *buf + *len;
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	*len = (size_t)(p - *buf);
}

/* Read a varint as the encoder writes it; false past the end, beyond
 * 64 bits, or not in its shortest form (one value, one encoding). */
bool
codec_varint(const unsigned char **p, const unsigned char *end,
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
bool
codec_field(const unsigned char **p, const unsigned char *end,
    const unsigned char **f, uint64_t *len)
{
	if (!codec_varint(p, end, len) || *len > (uint64_t)(end - *p))
		return (false);
	*f = *p;
	*p += *len;
	return (true);
}

/*
 * Decompress a frame of exactly raw bytes into *out. The buffer grows
 * with what the frame really gives (to raw + 1, to see a frame that
 * gives more), so a corrupt raw_bytes cannot make a reader allocate
 * gigabytes for a small blob; one frame, nothing after it.
 */
int
codec_inflate(void *dctx, const void *z, size_t zlen, uint64_t raw,
    unsigned char **out)
{
	ZSTD_DCtx	*dc = dctx;
	ZSTD_inBuffer	 ib = { z, zlen, 0 };
	ZSTD_outBuffer	 ob;
	size_t		 max = (size_t)raw + 1, in0, out0, left;
	int		 error = 0;

	*out = NULL;
	if (dc == NULL && (dc = ZSTD_createDCtx()) == NULL)
		return (-ENOMEM);
	ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
	ob.size = max < CODEC_OUT_FIRST ? max : CODEC_OUT_FIRST;
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
	if (dc != dctx)
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
 * Compress len bytes into *out (grown as needed, *cap its size) with
 * the caller's ZSTD_CCtx; *outlen the frame's length. 0 or -EIO.
 */
int
codec_deflate(void *zctx, int level, const void *in, size_t len,
    unsigned char **out, size_t *cap, size_t *outlen)
{
	size_t	bound = ZSTD_compressBound(len), n;

	if (*cap < bound) {
		*cap = bound;
		*out = xrealloc(*out, *cap);
	}
	n = ZSTD_compressCCtx(zctx, *out, *cap, in, len, level);
	if (ZSTD_isError(n))
		return (-EIO);
	*outlen = n;
	return (0);
}
