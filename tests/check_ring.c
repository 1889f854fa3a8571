/*
 * Unit tests for common/ring.c: the byte rings of Xen's xenstore page
 * (struct xenstore_domain_interface, two 1024-byte rings) and console
 * page (struct xencons_interface, in[1024] and out[2048]). Every test
 * compares the whole page with what it should be, so a copy that strays
 * outside its ring or an index moved by mistake is caught too.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#include "ring.h"

/* The four rings the daemon uses, by which page and which half. */
enum which {
	XS_REQ,
	XS_RSP,
	CONS_IN,
	CONS_OUT,
	NWHICH
};

/* A page holding either layout, aligned as a mapped page would be. */
union page {
	struct xenstore_domain_interface	xs;
	struct xencons_interface		cons;
	unsigned char				raw[4096];
} __attribute__((aligned(4096)));

/* Check logs the place of every ck_assert (a write per call), too slow
 * for the per-byte loops below: those use this, which logs only a
 * failure. */
#define CHECK(c) do {							\
	if (!(c))							\
		ck_abort_msg("Assertion '%s' failed", #c);		\
} while (0)

static uint32_t	rng_state;

/* A small xorshift generator: the same stream on every machine. */
static uint32_t
rng_next(void)
{
	uint32_t	x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (rng_state = x);
}

/* The byte at position i of a test stream. */
static unsigned char
stream_byte(uint32_t i)
{
	return ((unsigned char)(i * 131u + (i >> 8) * 7u + 1u));
}

/* Describe ring w of page pg in r. */
static void
ring_of(union page *pg, enum which w, struct ring *r)
{
	switch (w) {
	case XS_REQ:
		r->buf = pg->xs.req;
		r->size = XENSTORE_RING_SIZE;
		r->cons = &pg->xs.req_cons;
		r->prod = &pg->xs.req_prod;
		break;
	case XS_RSP:
		r->buf = pg->xs.rsp;
		r->size = XENSTORE_RING_SIZE;
		r->cons = &pg->xs.rsp_cons;
		r->prod = &pg->xs.rsp_prod;
		break;
	case CONS_IN:
		r->buf = pg->cons.in;
		r->size = sizeof pg->cons.in;
		r->cons = &pg->cons.in_cons;
		r->prod = &pg->cons.in_prod;
		break;
	default:
		r->buf = pg->cons.out;
		r->size = sizeof pg->cons.out;
		r->cons = &pg->cons.out_cons;
		r->prod = &pg->cons.out_prod;
		break;
	}
}

/* Fill a page with a recognisable pattern, so stray writes show. */
static void
page_fill(union page *pg, unsigned char seed)
{
	size_t	i;

	for (i = 0; i < sizeof pg->raw; i++)
		pg->raw[i] = (unsigned char)(seed + i * 29u);
}

/* The rings' sizes are what the Xen headers say. */
START_TEST(test_sizes)
{
	union page	pg;
	struct ring	r;

	ring_of(&pg, XS_REQ, &r);
	ck_assert_uint_eq(r.size, 1024);
	ring_of(&pg, XS_RSP, &r);
	ck_assert_uint_eq(r.size, 1024);
	ring_of(&pg, CONS_IN, &r);
	ck_assert_uint_eq(r.size, 1024);
	ring_of(&pg, CONS_OUT, &r);
	ck_assert_uint_eq(r.size, 2048);
}
END_TEST

/* An empty ring: nothing to read, all of it free, a read copies nothing. */
START_TEST(test_empty)
{
	union page	pg, before;
	struct ring	r;
	unsigned char	out[64];
	uint32_t	starts[] = { 0, 1, 1023, 1024, 0x7FFFFFFFu,
			    0xFFFFFFFFu };
	size_t		i;
	int		w;

	for (w = 0; w < NWHICH; w++) {
		for (i = 0; i < sizeof starts / sizeof starts[0]; i++) {
			page_fill(&pg, (unsigned char)(w + i));
			ring_of(&pg, (enum which)w, &r);
			*r.cons = *r.prod = starts[i];
			before = pg;
			memset(out, 0xAA, sizeof out);
			ck_assert_int_eq(ring_readable(&r), 0);
			ck_assert_int_eq(ring_writable(&r), r.size);
			ck_assert_int_eq(ring_read(&r, out, sizeof out), 0);
			ck_assert_int_eq(ring_read(&r, out, 0), 0);
			ck_assert_uint_eq(out[0], 0xAA);
			ck_assert_mem_eq(&pg, &before, sizeof pg);
		}
	}
}
END_TEST

/* A full ring: nothing more goes in, everything comes out in order. */
START_TEST(test_full)
{
	union page	pg, before;
	struct ring	r;
	unsigned char	in[4096], out[4096];
	uint32_t	i;
	int		w;

	for (i = 0; i < sizeof in; i++)
		in[i] = stream_byte(i);
	for (w = 0; w < NWHICH; w++) {
		page_fill(&pg, (unsigned char)w);
		ring_of(&pg, (enum which)w, &r);
		*r.cons = *r.prod = 100;
		ck_assert_int_eq(ring_write(&r, in, r.size), r.size);
		ck_assert_uint_eq(*r.prod, 100 + r.size);
		ck_assert_uint_eq(*r.cons, 100);
		ck_assert_int_eq(ring_readable(&r), r.size);
		ck_assert_int_eq(ring_writable(&r), 0);

		/* Full is not corrupt: prod - cons == size is allowed. */
		before = pg;
		ck_assert_int_eq(ring_write(&r, in, 1), 0);
		ck_assert_int_eq(ring_write(&r, in, sizeof in), 0);
		ck_assert_mem_eq(&pg, &before, sizeof pg);

		memset(out, 0, sizeof out);
		ck_assert_int_eq(ring_read(&r, out, sizeof out), r.size);
		ck_assert_mem_eq(out, in, r.size);
		ck_assert_uint_eq(*r.cons, 100 + r.size);
		ck_assert_int_eq(ring_readable(&r), 0);
		ck_assert_int_eq(ring_writable(&r), r.size);
	}
}
END_TEST

/*
 * Write then read len bytes with the indices starting at every offset
 * of the ring: the bytes land at (index & (size - 1)), wrap to the
 * start of the buffer, and nothing else on the page changes.
 */
static void
check_wrap_at_every_offset(enum which w, uint32_t len, uint32_t base)
{
	union page	pg, expect;
	struct ring	r;
	unsigned char	in[4096], out[4096];
	volatile char	*ebuf;
	uint32_t	off, i, start;

	for (i = 0; i < len; i++)
		in[i] = stream_byte(i + len);
	for (off = 0; off < 2048; off++) {
		page_fill(&pg, (unsigned char)off);
		ring_of(&pg, w, &r);
		if (off >= r.size)
			break;
		start = base + off;
		*r.cons = *r.prod = start;
		expect = pg;
		ring_of(&expect, w, &r);
		ebuf = r.buf;
		for (i = 0; i < len; i++)
			ebuf[(start + i) & (r.size - 1)] = (char)in[i];
		*r.prod = start + len;

		ring_of(&pg, w, &r);
		CHECK(ring_write(&r, in, len) == (ssize_t)len);
		CHECK(memcmp(&pg, &expect, sizeof pg) == 0);
		CHECK(ring_readable(&r) == (ssize_t)len);
		CHECK(ring_writable(&r) == (ssize_t)(r.size - len));

		memset(out, 0xAA, sizeof out);
		CHECK(ring_read(&r, out, sizeof out) == (ssize_t)len);
		CHECK(memcmp(out, in, len) == 0);
		CHECK(out[len] == 0xAA);
		ring_of(&expect, w, &r);
		*r.cons = start + len;
		CHECK(memcmp(&pg, &expect, sizeof pg) == 0);
	}
}

/* Wrap-around copies at every offset, for several lengths and rings. */
START_TEST(test_wrap_every_offset)
{
	uint32_t	lens[] = { 1, 2, 7, 513, 1023, 1024, 1025, 2047,
			    2048 };
	size_t		i;
	int		w;

	for (w = 0; w < NWHICH; w++) {
		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			if (lens[i] > (w == CONS_OUT ? 2048u : 1024u))
				continue;
			check_wrap_at_every_offset((enum which)w, lens[i], 0);
			check_wrap_at_every_offset((enum which)w, lens[i],
			    0x12345000u);
		}
	}
}
END_TEST

/* Free-running indices: data crosses the 2^32 wrap of prod and cons. */
START_TEST(test_index_wrap)
{
	union page	pg;
	struct ring	r;
	unsigned char	in[2048], out[4096];
	uint32_t	backs[] = { 1, 2, 5, 100, 1023, 1024, 2047, 2048 };
	uint32_t	start, i, n;
	size_t		k;
	int		w;

	for (i = 0; i < sizeof in; i++)
		in[i] = stream_byte(i * 3);
	for (w = 0; w < NWHICH; w++) {
		for (k = 0; k < sizeof backs / sizeof backs[0]; k++) {
			memset(&pg, 0, sizeof pg);
			ring_of(&pg, (enum which)w, &r);
			start = 0u - backs[k];
			n = r.size;
			*r.cons = *r.prod = start;
			ck_assert_int_eq(ring_write(&r, in, n), n);
			ck_assert_uint_eq(*r.prod, start + n);
			ck_assert_int_eq(ring_readable(&r), n);
			ck_assert_int_eq(ring_writable(&r), 0);
			memset(out, 0, sizeof out);
			/* Read in two pieces, the first ending at the wrap
			 * of the index when it fits. */
			ck_assert_int_eq(ring_read(&r, out, backs[k]),
			    backs[k] < n ? backs[k] : n);
			ck_assert_int_eq(ring_read(&r, out + backs[k],
			    sizeof out), backs[k] < n ? n - backs[k] : 0);
			ck_assert_mem_eq(out, in, n);
			ck_assert_uint_eq(*r.cons, start + n);
			ck_assert_uint_eq(*r.cons, *r.prod);
		}

		/* prod has wrapped and cons has not: 7 bytes waiting. */
		memset(&pg, 0, sizeof pg);
		ring_of(&pg, (enum which)w, &r);
		*r.cons = 0xFFFFFFFEu;
		*r.prod = 5;
		ck_assert_int_eq(ring_readable(&r), 7);
		ck_assert_int_eq(ring_writable(&r), r.size - 7);
		ck_assert_int_eq(ring_read(&r, out, sizeof out), 7);
		ck_assert_uint_eq(*r.cons, 5);

		/* ... and full exactly across the wrap. */
		*r.cons = 0xFFFFFFFFu - r.size / 2;
		*r.prod = *r.cons + r.size;
		ck_assert_int_eq(ring_readable(&r), r.size);
		ck_assert_int_eq(ring_writable(&r), 0);
	}
}
END_TEST

/* Short reads and writes: a request for more than there is gets what
 * there is; a request for less gets exactly that much. */
START_TEST(test_partial)
{
	union page	pg;
	struct ring	r;
	unsigned char	in[4096], out[4096];
	uint32_t	i, got = 0;
	int		w;

	for (i = 0; i < sizeof in; i++)
		in[i] = stream_byte(i);
	for (w = 0; w < NWHICH; w++) {
		memset(&pg, 0, sizeof pg);
		ring_of(&pg, (enum which)w, &r);
		*r.cons = *r.prod = 0xFFFFFF00u;

		/* Fill all but 10 bytes, then offer 30: 10 go in. */
		ck_assert_int_eq(ring_write(&r, in, r.size - 10),
		    r.size - 10);
		ck_assert_int_eq(ring_write(&r, in + r.size - 10, 30), 10);
		ck_assert_int_eq(ring_writable(&r), 0);

		/* Read 3, then 1, then the rest with a huge buffer. */
		ck_assert_int_eq(ring_read(&r, out, 3), 3);
		ck_assert_int_eq(ring_readable(&r), r.size - 3);
		ck_assert_int_eq(ring_writable(&r), 3);
		ck_assert_int_eq(ring_read(&r, out + 3, 1), 1);
		got = 4;

		/* Three more bytes go in while the reader is behind. */
		ck_assert_int_eq(ring_write(&r, in + r.size, 3), 3);
		ck_assert_int_eq(ring_write(&r, in + r.size + 3, 3), 1);
		ck_assert_int_eq(ring_read(&r, out + got, sizeof out - got),
		    r.size);
		got += r.size;
		ck_assert_mem_eq(out, in, got);
		ck_assert_uint_eq(*r.cons, *r.prod);
		ck_assert_uint_eq(*r.prod, 0xFFFFFF00u + got);
	}
}
END_TEST

/*
 * Impossible indices, prod ahead by more than the size or behind cons:
 * every call says -EIO, copies nothing in either direction and moves
 * no index.
 */
START_TEST(test_corrupt_indices)
{
	union page	pg, before;
	struct ring	r;
	unsigned char	in[4096], out[4096], outcopy[4096];
	uint32_t	cons_vals[] = { 0, 5, 1000, 0x80000000u, 0xFFFFFF80u };
	uint32_t	size, cons, deltas[8];
	size_t		c, d;
	int		w;

	memset(in, 0x5C, sizeof in);
	for (w = 0; w < NWHICH; w++) {
		ring_of(&pg, (enum which)w, &r);
		size = r.size;
		deltas[0] = size + 1;		/* prod just too far ahead */
		deltas[1] = size * 2;
		deltas[2] = 0x7FFFFFFFu;
		deltas[3] = 0x80000000u;
		deltas[4] = 0u - 1;		/* prod one behind cons */
		deltas[5] = 0u - size;
		deltas[6] = 0u - size - 1;
		deltas[7] = 0u - 0x10000u;
		for (c = 0; c < sizeof cons_vals / sizeof cons_vals[0]; c++) {
			for (d = 0; d < 8; d++) {
				cons = cons_vals[c];
				page_fill(&pg, (unsigned char)(c * 8 + d));
				ring_of(&pg, (enum which)w, &r);
				*r.cons = cons;
				*r.prod = cons + deltas[d];
				before = pg;
				memset(out, 0xA5, sizeof out);
				memcpy(outcopy, out, sizeof out);

				ck_assert_int_eq(ring_readable(&r), -EIO);
				ck_assert_int_eq(ring_writable(&r), -EIO);
				ck_assert_int_eq(ring_read(&r, out, sizeof out),
				    -EIO);
				ck_assert_int_eq(ring_read(&r, out, 1), -EIO);
				ck_assert_int_eq(ring_read(&r, out, 0), -EIO);
				ck_assert_int_eq(ring_write(&r, in, sizeof in),
				    -EIO);
				ck_assert_int_eq(ring_write(&r, in, 1), -EIO);
				ck_assert_int_eq(ring_write(&r, in, 0), -EIO);
				ck_assert_mem_eq(out, outcopy, sizeof out);
				ck_assert_mem_eq(&pg, &before, sizeof pg);
				ck_assert_uint_eq(*r.cons, cons);
				ck_assert_uint_eq(*r.prod, cons + deltas[d]);
			}
		}
	}
}
END_TEST

/* One ring's corruption says nothing about the other ring on the page. */
START_TEST(test_corrupt_other_ring)
{
	union page	pg;
	struct ring	req, rsp;
	unsigned char	buf[16];

	memset(&pg, 0, sizeof pg);
	ring_of(&pg, XS_REQ, &req);
	ring_of(&pg, XS_RSP, &rsp);
	pg.xs.req_cons = 10;
	pg.xs.req_prod = 9;
	ck_assert_int_eq(ring_read(&req, buf, sizeof buf), -EIO);
	ck_assert_int_eq(ring_write(&rsp, "hello", 5), 5);
	ck_assert_uint_eq(pg.xs.rsp_prod, 5);
	ck_assert_mem_eq(pg.xs.rsp, "hello", 5);
	ck_assert_uint_eq(pg.xs.req_cons, 10);
	ck_assert_uint_eq(pg.xs.req_prod, 9);
}
END_TEST

/*
 * A producer and a consumer taking turns through one ring of a page,
 * with random chunk sizes from a fixed seed and indices that start just
 * before the 2^32 wrap: the consumer gets the producer's stream exactly,
 * and the rest of the page is never touched.
 */
static void
check_random_stream(enum which w, uint32_t seed)
{
	union page	pg, zero;
	struct ring	r;
	unsigned char	chunk[4096], got[4096];
	size_t		off;
	uint32_t	written = 0, readn = 0, start = 0xFFFF0000u, n, i;
	ssize_t		rc, avail;
	int		iter;

	rng_state = seed;
	memset(&pg, 0, sizeof pg);
	ring_of(&pg, w, &r);
	*r.cons = *r.prod = start;
	for (iter = 0; iter < 40000; iter++) {
		avail = ring_readable(&r);
		CHECK(avail == (ssize_t)(written - readn));
		CHECK(ring_writable(&r) == (ssize_t)r.size - avail);
		if (rng_next() & 1) {
			n = rng_next() % (r.size + r.size / 2 + 1);
			for (i = 0; i < n; i++)
				chunk[i] = stream_byte(written + i);
			rc = ring_write(&r, chunk, n);
			CHECK(rc == (n < r.size - avail ? (ssize_t)n :
			    (ssize_t)r.size - avail));
			written += (uint32_t)rc;
		} else {
			n = rng_next() % (r.size + r.size / 2 + 1);
			memset(got, 0xEE, sizeof got);
			rc = ring_read(&r, got, n);
			CHECK(rc == (n < avail ? (ssize_t)n : avail));
			for (i = 0; i < (uint32_t)rc; i++)
				CHECK(got[i] == stream_byte(readn + i));
			CHECK(got[rc] == 0xEE);
			readn += (uint32_t)rc;
		}
		CHECK(*r.prod == start + written);
		CHECK(*r.cons == start + readn);
	}
	ck_assert_uint_gt(readn, 0xFFFFu);	/* the indices wrapped */

	/* Besides this ring's buffer and indices, the page is still 0. */
	off = (size_t)((const volatile unsigned char *)r.buf - pg.raw);
	memset(&zero, 0, sizeof zero);
	memcpy(zero.raw + off, pg.raw + off, r.size);
	ring_of(&zero, w, &r);
	*r.cons = start + readn;
	*r.prod = start + written;
	ck_assert_mem_eq(&pg, &zero, sizeof pg);
}

/* The randomized producer/consumer test on all four rings. */
START_TEST(test_random_stream)
{
	check_random_stream(XS_REQ, 0x1234567u);
	check_random_stream(XS_RSP, 0x89ABCDEu);
	check_random_stream(CONS_IN, 0xC0FFEEu);
	check_random_stream(CONS_OUT, 0xBADC0DEu);
}
END_TEST

/* Build the suite. */
static Suite *
ring_suite(void)
{
	Suite	*s = suite_create("ring");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_wrap_every_offset);
	tcase_add_test(tc, test_index_wrap);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_corrupt_indices);
	tcase_add_test(tc, test_corrupt_other_ring);
	tcase_add_test(tc, test_random_stream);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(ring_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
