/*
 * libFuzzer target for the snapshot codec (db/snapshot.c): what
 * db_tree_at does with a snapshot row read back from a database that may
 * be corrupt. The first byte chooses how the rest is used:
 *
 *   mode 0  a whole row: varints nodes, raw_bytes, then the zstd frame,
 *           verbatim
 *   mode 1  the same, but the frame is made by compressing the bytes
 *           after the varints (raw_bytes 0: their length), so the node
 *           decoder meets real content
 *   mode 2  a round trip: nodes drawn from the bytes (records split at
 *           0xff, fields at 0xfe), encoded by the writer's encoder and
 *           decoded: it must give back exactly those nodes; the row with
 *           one thing wrong (a byte less of frame, raw_bytes or nodes
 *           off by one) must give -EIO
 *
 * In every mode snapshot_decode() returns 0, -EIO or the callback's
 * value, never calls the callback before it returns -EIO, and the nodes
 * it hands out lie in the raw bytes, end to end, as many as the row says.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fuzz.h"
#include "snapshot.h"


#define FUZZ_MAX_RAW	(1u << 20)	/* mode 1: bytes compressed */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A node as the round trip made it. */
struct want {
	const unsigned char	*path, *value, *perms;
	size_t			 plen, vlen, permslen;
	uint64_t		 gen;
};

/* What the callback saw. */
struct seen {
	uint64_t		 n, bytes;
	const struct want	*want;		/* mode 2 */
	uint64_t		 stop_at;
	unsigned		 sum;
};

/* Read every byte of a field. */
static void
touch(struct seen *s, const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		s->sum += b[i];
}

/* The bytes of a varint of v. */
static uint64_t
varint_len(uint64_t v)
{
	uint64_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

/* Check one node. */
static int
seen_node(const struct snapshot_node *n, void *arg)
{
	struct seen	*s = arg;
	const struct want *w;

	FUZZ_CHECK(n->path != NULL || n->plen == 0);
	FUZZ_CHECK(n->perms != NULL || n->permslen == 0);
	FUZZ_CHECK(n->value != NULL || n->vlen == 0);
	/* Touch every byte, so ASan sees a field out of the buffer. */
	touch(s, n->path, n->plen);
	touch(s, n->value, n->vlen);
	touch(s, n->perms, n->permslen);
	s->bytes += varint_len(n->plen) + n->plen + varint_len(n->vlen) +
	    n->vlen + varint_len(n->permslen) + n->permslen +
	    varint_len(n->gen);
	if (s->want != NULL) {
		w = &s->want[s->n];
		FUZZ_CHECK(n->plen == w->plen && n->vlen == w->vlen &&
		    n->permslen == w->permslen && n->gen == w->gen);
		FUZZ_CHECK(memcmp(n->path, w->path, w->plen) == 0);
		FUZZ_CHECK(w->vlen == 0 ||
		    memcmp(n->value, w->value, w->vlen) == 0);
		FUZZ_CHECK(memcmp(n->perms, w->perms, w->permslen) == 0);
	}
	s->n++;
	if (s->stop_at != 0 && s->n == s->stop_at)
		return (42);
	return (0);
}

/* Decode a row and check what comes out; its return. */
static int
fuzz_row(const void *z, size_t zlen, uint64_t raw, uint64_t nodes,
    const struct want *want, uint64_t stop_at)
{
	struct seen	s;
	void		*copy;
	int		rc;

	/* A copy of exactly zlen bytes, so ASan sees a read past it. */
	copy = malloc(zlen > 0 ? zlen : 1);
	FUZZ_CHECK(copy != NULL);
	if (zlen > 0)
		memcpy(copy, z, zlen);
	memset(&s, 0, sizeof s);
	s.want = want;
	s.stop_at = stop_at;
	rc = snapshot_decode(copy, zlen, raw, nodes, seen_node, &s);
	FUZZ_CHECK(rc == 0 || rc == -EIO || (rc == 42 && stop_at != 0));
	if (rc == -EIO)
		FUZZ_CHECK(s.n == 0);	/* checked whole before any node */
	if (rc == 0) {
		FUZZ_CHECK(s.n == nodes);
		FUZZ_CHECK(s.bytes == raw);
	}
	free(copy);
	return (rc);
}

/* Mode 2: nodes encoded by the writer's code, then read back. */
static void
fuzz_roundtrip(const unsigned char *p, const unsigned char *end, int level)
{
	struct snapshot_enc	 e;
	struct want		*want;
	const unsigned char	*f[3], *rec;
	size_t			 fl[3], n = 0, cap = 16;
	unsigned char		*z;

	want = calloc(cap, sizeof *want);
	FUZZ_CHECK(want != NULL);
	FUZZ_CHECK(snapshot_enc_init(&e, level) == 0);
	while (p < end) {
		for (rec = p; p < end && *p != 0xff; p++)
			;
		/* Fields of [rec, p): path 0xfe value 0xfe perms; gen
		 * from the record's length and first byte. */
		fuzz_fields(rec, p, f, fl);
		if (n == cap) {
			cap *= 2;
			want = realloc(want, cap * sizeof *want);
			FUZZ_CHECK(want != NULL);
		}
		want[n].path = f[0];
		want[n].plen = fl[0];
		want[n].value = f[1];
		want[n].vlen = fl[1];
		want[n].perms = f[2];
		want[n].permslen = fl[2];
		want[n].gen = (uint64_t)(p - rec) << (rec < p ? *rec % 57 : 0);
		snapshot_enc_add(&e, (const char *)f[0], fl[0], f[1],
		    (uint32_t)fl[1], (const char *)f[2], fl[2], want[n].gen);
		n++;
		if (p < end)
			p++;
	}
	FUZZ_CHECK(snapshot_enc_finish(&e) == 0);
	FUZZ_CHECK(e.nodes == n);
	z = e.out;
	FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw, e.nodes, want, 0) == 0);
	if (n > 0) {
		FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw, e.nodes, want, 1) ==
		    42);
		FUZZ_CHECK(fuzz_row(z, e.outlen - 1, e.raw, e.nodes, want,
		    0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw - 1, e.nodes, want,
		    0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw + 1, e.nodes, want,
		    0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw, e.nodes - 1, want,
		    0) == -EIO);
		FUZZ_CHECK(fuzz_row(z, e.outlen, e.raw, e.nodes + 1, want,
		    0) == -EIO);
	}
	snapshot_enc_free(&e);
	free(want);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p = data, *end = data + size;
	uint64_t		 nodes, raw;
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
	nodes = fuzz_take(&p, end);
	raw = fuzz_take(&p, end);
	len = (size_t)(end - p);
	if (mode == 0) {
		fuzz_row(p, len, raw, nodes, NULL, 0);
		return (0);
	}
	if (len > FUZZ_MAX_RAW)
		return (0);
	if (raw == 0)
		raw = len;
	z = fuzz_compress(p, len, &zlen);
	fuzz_row(z, zlen, raw, nodes, NULL, 0);
	free(z);
	return (0);
}
