/*
 * libFuzzer target for the chunk codec (db/chunk.c): what a reader does
 * with a chunk row read back from a database that may be corrupt. The
 * first byte chooses how the rest is used:
 *
 *   mode 0  a whole row: varints raw_bytes, lines, first_ns, first_gen,
 *           idx_len, then the line index and the zstd frame, verbatim
 *   mode 1  the same, but the frame is made by compressing the bytes
 *           after the index (raw_bytes 0: their length), so the index
 *           decoder meets real content
 *   mode 2  a round trip: varints first_ns, first_gen, then bytes whose
 *           index is built with lineidx_add() (times and generations
 *           drawn from the bytes, going back and forth), compressed, and
 *           read back: it must give back exactly those bytes and times
 *
 * Bit 2 of the first byte sets continues. In every mode chunk_lines()
 * returns 0, -EIO or the callback's value, and the lines it hands out
 * lie in the chunk, end-to-end, as many as the row says.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "chunk.h"


int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the callback saw. */
struct seen {
	const struct chunk_row	*row;
	unsigned char		*out;		/* the bytes, joined again */
	size_t			 len, cap;
	uint64_t		 n;
	const uint64_t		*want_ns, *want_gen;	/* mode 2 */
	int			 stop_at;
};

/* Check one line and append it to what was seen. */
static int
seen_line(const struct db_line *l, void *arg)
{
	struct seen	*s = arg;

	FUZZ_CHECK(l->seq == s->row->seq);
	FUZZ_CHECK(l->continued == (s->n == 0 && s->row->continues));
	FUZZ_CHECK(s->n < s->row->lines);
	FUZZ_CHECK(l->len + !l->partial <= s->row->raw_bytes - s->len);
	FUZZ_CHECK(l->partial == 0 || s->n + 1 == s->row->lines);
	FUZZ_CHECK(memchr(l->text, '\n', l->len) == NULL);
	if (s->want_ns != NULL) {
		FUZZ_CHECK(l->time_ns == s->want_ns[s->n]);
		FUZZ_CHECK(l->gen == s->want_gen[s->n]);
	}
	if (s->len + l->len + 1 > s->cap) {
		s->cap = (s->len + l->len + 1) * 2;
		s->out = realloc(s->out, s->cap);
		FUZZ_CHECK(s->out != NULL);
	}
	memcpy(s->out + s->len, l->text, l->len);
	s->len += l->len;
	if (!l->partial)
		s->out[s->len++] = '\n';
	s->n++;
	if (s->stop_at != 0 && s->n == (uint64_t)s->stop_at)
		return (42);
	return (0);
}

/* Read a varint or give 0 at the end of the input. */
static uint64_t
take(const unsigned char **p, const unsigned char *end)
{
	uint64_t	v = 0;

	if (lineidx_get_varint(p, end, &v) != 0)
		*p = end;
	return (v);
}

/* Decode a row and check what comes out. */
static void
fuzz_row(struct chunk_codec *c, const struct chunk_row *row,
    const unsigned char *want, const uint64_t *want_ns,
    const uint64_t *want_gen, int stop_at)
{
	struct seen	s;
	int		rc;

	memset(&s, 0, sizeof s);
	s.row = row;
	s.want_ns = want_ns;
	s.want_gen = want_gen;
	s.stop_at = stop_at;
	rc = chunk_lines(c, row, seen_line, &s);
	FUZZ_CHECK(rc == 0 || rc == -EIO || rc == 42);
	if (rc == -EIO)
		FUZZ_CHECK(s.n == 0);	/* checked whole before any line */
	if (rc == 0) {
		FUZZ_CHECK(s.n == row->lines);
		FUZZ_CHECK(s.len == row->raw_bytes);
	}
	if (want != NULL) {
		FUZZ_CHECK(rc == 0 || (rc == 42 && stop_at != 0));
		FUZZ_CHECK(memcmp(s.out, want, s.len) == 0);
	}
	free(s.out);
}

/* Mode 2: index built by the writer's code, then read back. */
static void
fuzz_roundtrip(struct chunk_codec *c, const unsigned char *p,
    const unsigned char *end, int continues)
{
	struct chunk_row	 row;
	struct lineidx		 li;
	const void		*z;
	uint64_t		*ns, *gen, t, g;
	size_t			 len, i, n = 0, zlen;

	memset(&row, 0, sizeof row);
	row.first_ns = take(&p, end);
	row.first_gen = take(&p, end);
	len = (size_t)(end - p);
	if (len == 0 || len > CHUNK_MAX_RAW)
		return;
	ns = calloc(len, sizeof *ns);
	gen = calloc(len, sizeof *gen);
	FUZZ_CHECK(ns != NULL && gen != NULL);
	lineidx_init(&li, row.first_ns, row.first_gen);
	t = row.first_ns;
	g = row.first_gen;
	for (i = 0; i < len; i++) {
		if (i != 0 && p[i - 1] != '\n')
			continue;
		if (i != 0) {
			/* Back and forth: a clock may step back. */
			t += (uint64_t)(int64_t)(int8_t)p[i] * 1000003u;
			g += (uint64_t)(p[i] & 3);
		}
		ns[n] = t;
		gen[n] = g;
		lineidx_add(&li, (uint32_t)i, t, g);
		n++;
	}
	FUZZ_CHECK(li.count == n);
	FUZZ_CHECK(chunk_compress(c, p, len, &z, &zlen) == 0);
	row.seq = 3;
	row.raw_bytes = len;
	row.lines = n;
	row.continues = continues;
	row.data = z;
	row.data_len = zlen;
	row.idx = li.buf;
	row.idx_len = li.len;
	/* z lives in the codec until the next compression: copy it. */
	row.data = malloc(zlen);
	FUZZ_CHECK(row.data != NULL);
	memcpy((void *)row.data, z, zlen);
	fuzz_row(c, &row, p, ns, gen, 0);
	fuzz_row(c, &row, p, ns, gen, 1);
	free((void *)row.data);
	lineidx_free(&li);
	free(ns);
	free(gen);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chunk_codec	*c;
	const unsigned char		*p = data, *end = data + size;
	struct chunk_row		 row;
	const void			*z;
	unsigned char			*copy;
	size_t				 zlen;
	uint64_t			 idx_len;
	int				 mode;

	if (c == NULL)
		c = chunk_codec_create(1);
	if (size == 0)
		return (0);
	mode = *p & 3;
	memset(&row, 0, sizeof row);
	row.continues = (*p++ & 4) != 0;
	row.seq = 1;
	if (mode >= 2) {
		fuzz_roundtrip(c, p, end, row.continues);
		return (0);
	}
	row.raw_bytes = take(&p, end);
	row.lines = take(&p, end);
	row.first_ns = take(&p, end);
	row.first_gen = take(&p, end);
	idx_len = take(&p, end);
	if (idx_len > (uint64_t)(end - p))
		idx_len = (uint64_t)(end - p);
	/* Copies, so that ASan sees any read past the row's blobs. */
	copy = malloc(size + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, p, (size_t)(end - p));
	row.idx = copy;
	row.idx_len = (size_t)idx_len;
	row.data = copy + idx_len;
	row.data_len = (size_t)(end - p) - (size_t)idx_len;
	if (mode == 1) {
		if (row.raw_bytes == 0)
			row.raw_bytes = row.data_len;
		if (row.data_len > CHUNK_MAX_RAW ||
		    chunk_compress(c, row.data, row.data_len, &z, &zlen) != 0) {
			free(copy);
			return (0);
		}
		row.data = z;
		row.data_len = zlen;
	}
	fuzz_row(c, &row, NULL, NULL, NULL, 0);
	free(copy);
	return (0);
}
