/*
 * libFuzzer target for the history codec (db/hblob.c): what the readers
 * and the thinning do with an hbatch row read back from a database that
 * may be corrupt. The first byte chooses how the rest is used:
 *
 *   mode 0  a whole row: varints commits, changes, raw_bytes, then the
 *           zstd frame, verbatim
 *   mode 1  the same, but the frame is made by compressing the bytes
 *           after the varints (raw_bytes 0: their length), so the
 *           commit decoder meets real content
 *   mode 2  a round trip: commits drawn from the bytes (records split at
 *           0xff, fields at 0xfe), encoded by the writer's encoder and
 *           decoded: it must give back exactly those commits; the row
 *           with one thing wrong (a byte less of frame, raw_bytes,
 *           commits or changes off by one) must give -EIO
 *
 * In every mode hblob_decode() returns 0 or -EIO; on 0 it gives as many
 * commits and changes as the row says, generations strictly growing,
 * each commit's changes in order and end to end, every string
 * NUL-terminated inside the raw bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fuzz.h"
#include "hblob.h"


#define FUZZ_MAX_RAW	(1u << 20)	/* mode 1: bytes compressed */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A change as the round trip made it. */
struct want {
	char		*path, *perms;
	unsigned char	*value;
	size_t		 vlen;
	uint32_t	 flags;
	uint64_t	 gen, ns;
	uint32_t	 origin;
	int		 first;		/* the first change of a commit */
};

/* Whether [p, p + strlen + 1) lies in [lo, hi). */
static int
inside(const char *s, const unsigned char *lo, const unsigned char *hi)
{
	const unsigned char	*p = (const unsigned char *)s;

	if (p < lo || p >= hi)
		return (0);
	return (memchr(p, '\0', (size_t)(hi - p)) != NULL);
}

/* Decode a row and check what comes out; its return. */
static int
fuzz_row(const void *z, size_t zlen, uint64_t raw, uint64_t commits,
    uint64_t changes, const struct want *want, size_t nwant)
{
	struct hblob	 b;
	const unsigned char *lo, *hi;
	void		*copy;
	size_t		 i, k = 0;
	unsigned	 sum = 0;
	int		 rc;

	/* A copy of exactly zlen bytes, so ASan sees a read past it. */
	copy = malloc(zlen > 0 ? zlen : 1);
	FUZZ_CHECK(copy != NULL);
	if (zlen > 0)
		memcpy(copy, z, zlen);
	rc = hblob_decode(NULL, copy, zlen, raw, commits, changes, &b);
	FUZZ_CHECK(rc == 0 || rc == -EIO);
	free(copy);
	if (rc != 0)
		return (rc);
	FUZZ_CHECK(b.nc == commits && b.nch == changes);
	lo = b.raw;
	hi = b.raw + raw;
	for (i = 0; i < b.nc; i++) {
		FUZZ_CHECK(i == 0 || b.c[i].gen > b.c[i - 1].gen);
		FUZZ_CHECK(b.c[i].first == k);
		k += b.c[i].n;
	}
	FUZZ_CHECK(k == b.nch);
	for (i = 0; i < b.nch; i++) {
		const struct hblob_change *c = &b.ch[i];

		FUZZ_CHECK(c->commit < b.nc);
		FUZZ_CHECK(inside(c->path, lo, hi));
		if (c->flags & HBLOB_DELETED) {
			FUZZ_CHECK(c->value == NULL && c->perms == NULL);
		} else {
			FUZZ_CHECK(inside(c->perms, lo, hi));
			FUZZ_CHECK((const unsigned char *)c->value >= lo &&
			    (const unsigned char *)c->value + c->vlen <= hi);
			if (c->vlen > 0)
				sum += ((const unsigned char *)c->value)
				    [c->vlen - 1];
		}
		if (want != NULL) {
			const struct want *w = &want[i];
			const struct hblob_commit *bc = &b.c[c->commit];

			FUZZ_CHECK(i < nwant);
			FUZZ_CHECK(strcmp(c->path, w->path) == 0);
			FUZZ_CHECK(c->flags == w->flags);
			FUZZ_CHECK(bc->gen == w->gen && bc->ns == w->ns &&
			    bc->origin == w->origin);
			FUZZ_CHECK(w->first == (bc->first == i));
			if (!(w->flags & HBLOB_DELETED)) {
				FUZZ_CHECK(c->vlen == w->vlen);
				FUZZ_CHECK(w->vlen == 0 ||
				    memcmp(c->value, w->value, w->vlen) == 0);
				FUZZ_CHECK(strcmp(c->perms, w->perms) == 0);
			}
		}
	}
	(void)sum;
	hblob_free(&b);
	return (0);
}

/* A field of [p, q) as a C string without NULs. */
static char *
field(const unsigned char *p, size_t n)
{
	char	*s = malloc(n + 1);
	size_t	 i, k = 0;

	FUZZ_CHECK(s != NULL);
	for (i = 0; i < n; i++) {
		if (p[i] != '\0')
			s[k++] = (char)p[i];
	}
	s[k] = '\0';
	return (s);
}

/* Mode 2: commits encoded by the writer's code, then read back. */
static void
fuzz_roundtrip(const unsigned char *p, const unsigned char *end, int level)
{
	struct hblob_enc	 e;
	struct want		*want;
	const unsigned char	*f[3], *rec;
	size_t			 fl[3], n = 0, cap = 16, k, i, c0;
	uint64_t		 gen = 0, ns = 1000000;
	unsigned char		*z = NULL;
	size_t			 zcap = 0, zlen;
	ZSTD_CCtx		*zc = ZSTD_createCCtx();

	FUZZ_CHECK(zc != NULL);
	memset(&e, 0, sizeof e);
	want = calloc(cap, sizeof *want);
	FUZZ_CHECK(want != NULL);
	while (p < end) {
		for (rec = p; p < end && *p != 0xff; p++)
			;
		/* Fields of [rec, p): path 0xfe value 0xfe perms. A record
		 * whose first byte is odd starts a new commit; its length
		 * gives the steps of generation and time. */
		fuzz_fields(rec, p, f, fl);
		if (n == cap) {
			cap *= 2;
			want = realloc(want, cap * sizeof *want);
			FUZZ_CHECK(want != NULL);
		}
		memset(&want[n], 0, sizeof want[n]);
		want[n].first = n == 0 || (rec < p && (*rec & 1));
		if (want[n].first) {
			gen += 1 + (uint64_t)(p - rec);
			ns = (p - rec) % 3 == 0 && ns > 7 ? ns - 7 :
			    ns + (uint64_t)(p - rec) * 1000;
		}
		want[n].gen = gen;
		want[n].ns = ns;
		want[n].origin = want[n].first ? (uint32_t)(p - rec) :
		    want[n - 1].origin;
		want[n].path = field(f[0], fl[0]);
		want[n].value = malloc(fl[1] + 1);
		FUZZ_CHECK(want[n].value != NULL);
		memcpy(want[n].value, f[1], fl[1]);
		want[n].vlen = fl[1];
		want[n].perms = field(f[2], fl[2]);
		want[n].flags = rec < p ? (*rec >> 1) % 4 : 0;
		n++;
		if (p < end)
			p++;
	}
	/* Encode: count each commit's changes first. */
	for (i = 0; i < n; i = c0) {
		for (c0 = i + 1; c0 < n && !want[c0].first; c0++)
			;
		hblob_enc_commit(&e, want[i].gen, want[i].ns, want[i].origin,
		    false, (uint32_t)(c0 - i));
		for (k = i; k < c0; k++)
			hblob_enc_change(&e, want[k].flags, want[k].path,
			    want[k].value, (uint32_t)want[k].vlen,
			    want[k].perms);
	}
	if (n > 0) {
		FUZZ_CHECK(hblob_compress(&e, zc, level, &z, &zcap,
		    &zlen) == 0);
		FUZZ_CHECK(fuzz_row(z, zlen, e.len, e.commits, e.changes,
		    want, n) == 0);
		FUZZ_CHECK(fuzz_row(z, zlen - 1, e.len, e.commits, e.changes,
		    NULL, 0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, zlen, e.len - 1, e.commits, e.changes,
		    NULL, 0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, zlen, e.len + 1, e.commits, e.changes,
		    NULL, 0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, zlen, e.len, e.commits + 1, e.changes,
		    NULL, 0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, zlen, e.len, e.commits, e.changes + 1,
		    NULL, 0) == -EIO);
		if (e.changes > 0)
			FUZZ_CHECK(fuzz_row(z, zlen, e.len, e.commits,
			    e.changes - 1, NULL, 0) == -EIO);
		if (e.commits > 1)
			FUZZ_CHECK(fuzz_row(z, zlen, e.len, e.commits - 1,
			    e.changes, NULL, 0) == -EIO);
	}
	for (i = 0; i < n; i++) {
		free(want[i].path);
		free(want[i].value);
		free(want[i].perms);
	}
	free(want);
	free(z);
	hblob_enc_free(&e);
	ZSTD_freeCCtx(zc);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p = data, *end = data + size;
	uint64_t		 commits, changes, raw;
	size_t			 len, zlen;
	void			*z;
	int			 mode;

	if (size == 0)
		return (0);
	mode = *p++ % 3;
	if (mode == 2) {
		fuzz_roundtrip(p, end, (data[0] >> 4) % 4 + 1);
		return (0);
	}
	commits = fuzz_take(&p, end);
	changes = fuzz_take(&p, end);
	raw = fuzz_take(&p, end);
	len = (size_t)(end - p);
	if (mode == 0) {
		fuzz_row(p, len, raw, commits, changes, NULL, 0);
		return (0);
	}
	if (len > FUZZ_MAX_RAW)
		return (0);
	if (raw == 0)
		raw = len;
	z = fuzz_compress(p, len, &zlen);
	fuzz_row(z, zlen, raw, commits, changes, NULL, 0);
	free(z);
	return (0);
}
