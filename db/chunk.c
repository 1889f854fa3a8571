/*
 * The chunk codec (see chunk.h): the line index's varints, zstd with
 * contexts kept for reuse, and the reader's walk over a chunk's lines.
 * A chunk read back is checked whole before the first line is handed
 * out: the frame must decompress to exactly raw_bytes, and the index
 * must name exactly the line starts the bytes have (offset 0 and the
 * byte after each '\n' but the last byte), in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "chunk.h"
#include "xmalloc.h"

struct chunk_codec {
	ZSTD_CCtx	*cctx;
	ZSTD_DCtx	*dctx;
	int		 level;
	unsigned char	*zbuf;			/* compressed output */
	size_t		 zcap;
	unsigned char	*raw;			/* decompressed input */
	size_t		 rawcap;
};

/* One decoded index entry and the running state it is a delta from. */
struct lineidx_entry {
	uint64_t	off;
	uint64_t	ns;
	uint64_t	gen;
};

/* Map a signed delta (as unsigned, two's complement) to a small varint. */
static uint64_t
zigzag(uint64_t d)
{
	return ((d << 1) ^ (0 - (d >> 63)));
}

/* Undo zigzag(). */
static uint64_t
unzigzag(uint64_t z)
{
	return ((z >> 1) ^ (0 - (z & 1)));
}

/* Write v as a little-endian base-128 varint; returns its length. */
size_t
lineidx_put_varint(unsigned char *p, uint64_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return (n);
}

/* Read a varint at *pp (not past end); 0, or -EIO if cut or too long. */
int
lineidx_get_varint(const unsigned char **pp, const unsigned char *end,
    uint64_t *out)
{
	const unsigned char	*p = *pp;
	uint64_t		 v = 0;
	unsigned		 shift = 0, i;

	for (i = 0; i < CHUNK_VARINT_MAX; i++) {
		if (p == end)
			return (-EIO);
		if (shift == 63 && *p > 1)
			return (-EIO);
		v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p++ & 0x80) == 0) {
			*pp = p;
			*out = v;
			return (0);
		}
		shift += 7;
	}
	return (-EIO);
}

/* Start an empty index for a chunk whose first byte has these values. */
void
lineidx_init(struct lineidx *li, uint64_t first_ns, uint64_t first_gen)
{
	memset(li, 0, sizeof *li);
	li->prev_ns = first_ns;
	li->prev_gen = first_gen;
}

/* Add the line starting at off (entries come in increasing order). An
 * entry is varint(offset delta << 1 | changed), then, if changed, the
 * time and generation deltas: lines captured together cost a byte. */
void
lineidx_add(struct lineidx *li, uint32_t off, uint64_t ns, uint64_t gen)
{
	uint64_t	changed = ns != li->prev_ns || gen != li->prev_gen;

	if (li->cap - li->len < 3 * CHUNK_VARINT_MAX) {
		li->cap = li->cap == 0 ? 256 : li->cap * 2;
		li->buf = xrealloc(li->buf, li->cap);
	}
	li->len += lineidx_put_varint(li->buf + li->len,
	    (uint64_t)(off - li->prev_off) << 1 | changed);
	if (changed) {
		li->len += lineidx_put_varint(li->buf + li->len,
		    zigzag(ns - li->prev_ns));
		li->len += lineidx_put_varint(li->buf + li->len,
		    zigzag(gen - li->prev_gen));
	}
	li->prev_off = off;
	li->prev_ns = ns;
	li->prev_gen = gen;
	li->count++;
}

/* Free an index's buffer. */
void
lineidx_free(struct lineidx *li)
{
	free(li->buf);
	li->buf = NULL;
	li->len = li->cap = 0;
}

/* Decode the next entry into e (which holds the previous one). */
static int
lineidx_next(const unsigned char **pp, const unsigned char *end,
    struct lineidx_entry *e)
{
	uint64_t	head, dns, dgen;

	if (lineidx_get_varint(pp, end, &head) != 0)
		return (-EIO);
	if ((head >> 1) > UINT32_MAX)
		return (-EIO);
	e->off += head >> 1;
	if ((head & 1) == 0)
		return (0);
	if (lineidx_get_varint(pp, end, &dns) != 0 ||
	    lineidx_get_varint(pp, end, &dgen) != 0)
		return (-EIO);
	e->ns += unzigzag(dns);
	e->gen += unzigzag(dgen);
	return (0);
}

/* Make a codec compressing at level (contexts are made on first use). */
struct chunk_codec *
chunk_codec_create(int level)
{
	struct chunk_codec	*c = xcalloc(1, sizeof *c);

	c->level = level;
	return (c);
}

/* Free a codec and its contexts. */
void
chunk_codec_free(struct chunk_codec *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c->zbuf);
	free(c->raw);
	free(c);
}

/* Compress len bytes; *out stays valid until the next call. */
int
chunk_compress(struct chunk_codec *c, const void *src, size_t len,
    const void **out, size_t *outlen)
{
	size_t	bound = ZSTD_compressBound(len), n;

	if (c->cctx == NULL && (c->cctx = ZSTD_createCCtx()) == NULL)
		return (-ENOMEM);
	if (c->zcap < bound) {
		free(c->zbuf);
		c->zbuf = xmalloc(bound);
		c->zcap = bound;
	}
	n = ZSTD_compressCCtx(c->cctx, c->zbuf, c->zcap, src, len, c->level);
	if (ZSTD_isError(n))
		return (-EIO);
	*out = c->zbuf;
	*outlen = n;
	return (0);
}

/* Check the index against the bytes: exactly their line starts. */
static int
chunk_check_index(const struct chunk_row *row, const unsigned char *raw)
{
	const unsigned char	*p = row->idx, *end = p + row->idx_len, *nl;
	struct lineidx_entry	 e = { 0, row->first_ns, row->first_gen };
	uint64_t		 i, at = 0;

	for (i = 0; i < row->lines; i++) {
		if (lineidx_next(&p, end, &e) != 0)
			return (-EIO);
		if (i == 0) {
			if (e.off != 0)
				return (-EIO);
			continue;
		}
		if (e.off <= at || e.off >= row->raw_bytes)
			return (-EIO);
		nl = memchr(raw + at, '\n', e.off - at);
		if (nl != raw + e.off - 1)
			return (-EIO);
		at = e.off;
	}
	if (p != end)
		return (-EIO);
	/* No line starts after the last entry; the last byte may end it. */
	if (row->raw_bytes - at > 1 &&
	    memchr(raw + at, '\n', row->raw_bytes - 1 - at) != NULL)
		return (-EIO);
	return (0);
}

/* Decompress a chunk row, check it, and hand its lines to cb in order:
 * 0, cb's first non-zero return, or -EIO if the row is corrupt. */
int
chunk_lines(struct chunk_codec *c, const struct chunk_row *row,
    db_line_cb *cb, void *arg)
{
	const unsigned char	*p, *end;
	struct lineidx_entry	 e, next;
	struct db_line		 line;
	uint64_t		 i, stop;
	size_t			 n;
	int			 error;

	if (row->raw_bytes == 0 || row->raw_bytes > CHUNK_MAX_RAW ||
	    row->lines == 0 || row->lines > row->raw_bytes ||
	    row->data == NULL || row->idx == NULL)
		return (-EIO);
	if (c->dctx == NULL && (c->dctx = ZSTD_createDCtx()) == NULL)
		return (-ENOMEM);
	if (c->rawcap < row->raw_bytes) {
		free(c->raw);
		c->raw = xmalloc(row->raw_bytes);
		c->rawcap = row->raw_bytes;
	}
	n = ZSTD_decompressDCtx(c->dctx, c->raw, row->raw_bytes, row->data,
	    row->data_len);
	if (ZSTD_isError(n) || n != row->raw_bytes)
		return (-EIO);
	if ((error = chunk_check_index(row, c->raw)) != 0)
		return (error);

	/* Checked: decode again, each line ending where the next starts. */
	p = row->idx;
	end = p + row->idx_len;
	e.off = 0;
	e.ns = row->first_ns;
	e.gen = row->first_gen;
	if (lineidx_next(&p, end, &e) != 0)
		return (-EIO);
	next = e;
	for (i = 0; i < row->lines; i++) {
		memset(&line, 0, sizeof line);
		if (i + 1 < row->lines) {
			next = e;
			if (lineidx_next(&p, end, &next) != 0)
				return (-EIO);
			stop = next.off - 1;
		} else {
			stop = row->raw_bytes;
			if (c->raw[stop - 1] == '\n')
				stop--;
			else
				line.partial = true;
		}
		line.text = (const char *)c->raw + e.off;
		line.len = (size_t)(stop - e.off);
		line.time_ns = e.ns;
		line.gen = e.gen;
		line.seq = row->seq;
		line.continued = i == 0 && row->continues;
		line.after_gap = i == 0 && row->after_gap;
		if ((error = cb(&line, arg)) != 0)
			return (error);
		e = next;
	}
	return (0);
}
