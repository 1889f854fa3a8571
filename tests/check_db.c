/*
 * Unit tests for db/: the console log written through the writer thread
 * and read back through the reader API, byte for byte. Times given to
 * the writer are explicit (the writer's retention clock is the latest
 * time it was given), so nothing here sleeps for long. A few tests open
 * the database with SQLite directly, to break it on purpose.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "dbtest.h"
#include "log.h"

#define S		1000000000ULL		/* ns per second */
#define T0		(1700000000ULL * S)	/* a plausible capture time */

/* Check logs every ck_assert; loops use this, which logs failures only. */
#define CHECK(c) do {							\
	if (!(c))							\
		ck_abort_msg("Assertion '%s' failed", #c);		\
} while (0)

static char		 dir[64];
static char		 path[128];
static uint32_t		 rng_state;

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

/* Fresh directory and database path for a test. */
static void
setup(void)
{
	dbtest_setup("check_db", "sub/dir/console.db", dir, sizeof dir, path, sizeof path);
}

/* Remove the test's directory. */
static void
teardown(void)
{
	dbtest_teardown(dir);
}

/* Open a writer on the test's path with small chunks. */
static struct db *
open_writer(size_t chunk, unsigned flush_ms)
{
	struct db_config	 cfg;
	struct db		*db;
	char			 err[256];

	db_config_defaults(&cfg);
	cfg.path = path;
	cfg.chunk_bytes = chunk;
	cfg.flush_ms = flush_ms;
	db = db_open_writer(&cfg, err, sizeof err);
	if (db == NULL)
		ck_abort_msg("db_open_writer: %s", err);
	return (db);
}

/* Open a writer with the given retention. */
static struct db *
open_writer_retain(size_t chunk, uint64_t max, uint64_t max_inc,
    uint64_t keep_dead_s)
{
	struct db_config	 cfg;
	struct db		*db;
	char			 err[256];

	db_config_defaults(&cfg);
	cfg.path = path;
	cfg.chunk_bytes = chunk;
	cfg.max_bytes = max;
	cfg.max_incarnation_bytes = max_inc;
	cfg.keep_dead_s = keep_dead_s;
	db = db_open_writer(&cfg, err, sizeof err);
	if (db == NULL)
		ck_abort_msg("db_open_writer: %s", err);
	return (db);
}

/* Open a reader on the test's path. */
static struct db *
open_reader(void)
{
	struct db	*db;
	char		 err[256];

	if ((db = db_open_reader(path, err, sizeof err)) == NULL)
		ck_abort_msg("db_open_reader: %s", err);
	return (db);
}

/* A line as read back. */
struct rline {
	uint64_t	ns, gen;
	int64_t		seq;
	size_t		off;		/* where it starts in the stream */
	int		partial, continued, after_gap;
};

/* Everything read back of an incarnation: the stream and its lines. */
struct readback {
	unsigned char	*buf;
	size_t		 len, cap;
	struct rline	*lines;
	size_t		 n, capn;
	int64_t		 last_seq;
	int		 order_ok;
	int		 stop_after;	/* cb returns 7 after this many */
};

/* Collect a line. */
static int
readback_cb(const struct db_line *l, void *arg)
{
	struct readback	*rb = arg;
	size_t		 need = rb->len + l->len + 1;

	if (l->seq < rb->last_seq)
		rb->order_ok = 0;
	rb->last_seq = l->seq;
	if (need > rb->cap) {
		rb->cap = need * 2;
		rb->buf = realloc(rb->buf, rb->cap);
	}
	if (rb->n == rb->capn) {
		rb->capn = rb->capn == 0 ? 64 : rb->capn * 2;
		rb->lines = realloc(rb->lines, rb->capn * sizeof *rb->lines);
	}
	rb->lines[rb->n].ns = l->time_ns;
	rb->lines[rb->n].gen = l->gen;
	rb->lines[rb->n].seq = l->seq;
	rb->lines[rb->n].off = rb->len;
	rb->lines[rb->n].partial = l->partial;
	rb->lines[rb->n].continued = l->continued;
	rb->lines[rb->n].after_gap = l->after_gap;
	rb->n++;
	memcpy(rb->buf + rb->len, l->text, l->len);
	rb->len += l->len;
	if (!l->partial)
		rb->buf[rb->len++] = '\n';
	if (rb->stop_after > 0 && rb->n == (size_t)rb->stop_after)
		return (7);
	return (0);
}

/* Read an incarnation's log after seq; returns db_lines's result. */
static int
read_back(struct db *r, int64_t inc, int64_t after, struct readback *rb)
{
	memset(rb, 0, sizeof *rb);
	rb->order_ok = 1;
	return (db_lines(r, inc, after, readback_cb, rb));
}

/* Free what read_back collected. */
static void
readback_free(struct readback *rb)
{
	free(rb->buf);
	free(rb->lines);
}

/* Exact bytes, random binary (with newlines and NULs), random pieces,
 * empty appends, small chunks. */
START_TEST(test_roundtrip_random)
{
	struct readback	 rb;
	struct db	*w, *r;
	unsigned char	*data;
	size_t		 len = 200000, at, n, i;
	int64_t		 id;

	rng_state = 0x1234567;
	data = malloc(len);
	for (i = 0; i < len; i++) {
		data[i] = (unsigned char)rng_next();
		if ((rng_next() & 15) == 0)
			data[i] = '\n';
	}
	w = open_writer(1000, 50);
	id = db_incarnation_begin(w, 1, "uuid-1", "one", T0);
	ck_assert_int_gt(id, 0);
	for (at = 0; at < len; at += n) {
		n = rng_next() % 3000;
		if (n > len - at)
			n = len - at;
		db_append(w, id, data + at, n, T0 + at, at / 1000);
		if (n == 0)
			db_append(w, id, data, 0, T0, 0);
	}
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, len);
	ck_assert(memcmp(rb.buf, data, len) == 0);
	ck_assert(rb.order_ok);
	ck_assert_int_ge(db_last_seq(r, id), 200);
	/* Seqs count from 1, with no gaps. */
	ck_assert_int_eq(rb.lines[0].seq, 1);
	for (i = 1; i < rb.n; i++)
		CHECK(rb.lines[i].seq - rb.lines[i - 1].seq <= 1);
	readback_free(&rb);
	db_close(r);
	db_close(w);
	free(data);
}
END_TEST

/* A line much longer than a chunk: continued across chunks, joined
 * again by the reader; db_tail_seq counts it as one line. */
START_TEST(test_long_lines)
{
	struct readback	 rb;
	struct db	*w, *r;
	char		 line[10000];
	size_t		 i;
	int64_t		 id, last, from;

	memset(line, 'x', sizeof line);
	w = open_writer(1024, 50);
	id = db_incarnation_begin(w, 1, "uuid-1", "one", T0);
	db_append(w, id, "short\n", 6, T0 + 1, 1);
	db_append(w, id, line, sizeof line, T0 + 2, 2);
	db_append(w, id, "\n", 1, T0 + 3, 3);
	db_flush(w);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 6 + sizeof line + 1);
	ck_assert(memcmp(rb.buf, "short\n", 6) == 0);
	ck_assert(memcmp(rb.buf + 6, line, sizeof line) == 0);
	/* short, then the long line in 10 pieces (9 continued). */
	ck_assert_uint_eq(rb.n, 11);
	ck_assert(!rb.lines[0].partial && !rb.lines[0].continued);
	ck_assert(rb.lines[1].partial && !rb.lines[1].continued);
	for (i = 2; i < rb.n; i++)
		ck_assert(rb.lines[i].continued);
	ck_assert(!rb.lines[rb.n - 1].partial);
	ck_assert_uint_eq(rb.lines[1].ns, T0 + 2);
	last = db_last_seq(r, id);
	ck_assert_int_eq(last, 10);
	/* The last line starts in chunk 1: read from there. */
	from = db_tail_seq(r, id, 1);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(db_tail_seq(r, id, 0), last);
	ck_assert_int_eq(db_tail_seq(r, id, 100), 0);
	readback_free(&rb);
	db_close(r);
	db_close(w);
}
END_TEST

/* Each line has the time and generation of the append holding its
 * first byte, also when the previous append ended with its newline. */
START_TEST(test_line_times)
{
	struct readback	 rb;
	struct db	*w, *r;
	int64_t		 id;

	w = open_writer(64 << 10, 50);
	id = db_incarnation_begin(w, 3, "uuid-3", "three", T0);
	db_append(w, id, "a1\na2", 5, T0 + 10, 100);
	db_append(w, id, "a2\n", 3, T0 + 20, 101);
	db_append(w, id, "b1\nb2\n", 6, T0 + 30, 102);
	db_append(w, id, "c1\n", 3, T0 + 40, 103);
	db_append(w, id, "", 0, T0 + 45, 104);
	db_append(w, id, "\n", 1, T0 + 50, 105);
	db_append(w, id, "tail", 4, T0 + 60, 106);
	db_flush(w);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 22);
	ck_assert(memcmp(rb.buf, "a1\na2a2\nb1\nb2\nc1\n\ntail", 22) == 0);
	ck_assert_uint_eq(rb.n, 7);
	ck_assert_uint_eq(rb.lines[0].ns, T0 + 10);
	ck_assert_uint_eq(rb.lines[0].gen, 100);
	ck_assert_uint_eq(rb.lines[1].ns, T0 + 10);	/* a2a2 */
	ck_assert_uint_eq(rb.lines[2].ns, T0 + 30);	/* b1 */
	ck_assert_uint_eq(rb.lines[2].gen, 102);
	ck_assert_uint_eq(rb.lines[3].ns, T0 + 30);	/* b2 */
	ck_assert_uint_eq(rb.lines[4].ns, T0 + 40);	/* c1 */
	ck_assert_uint_eq(rb.lines[4].gen, 103);
	ck_assert_uint_eq(rb.lines[5].ns, T0 + 50);	/* empty line */
	ck_assert_uint_eq(rb.lines[5].gen, 105);
	ck_assert_uint_eq(rb.lines[6].ns, T0 + 60);	/* tail */
	ck_assert_uint_eq(rb.lines[6].gen, 106);
	ck_assert(rb.lines[6].partial);
	readback_free(&rb);

	/* A callback's non-zero return stops the walk and is returned. */
	memset(&rb, 0, sizeof rb);
	rb.stop_after = 2;
	ck_assert_int_eq(db_lines(r, id, 0, readback_cb, &rb), 7);
	ck_assert_uint_eq(rb.n, 2);
	readback_free(&rb);
	db_close(r);
	db_close(w);
}
END_TEST

/* Incarnations: the same live domid + uuid continues, an end makes the
 * next begin a new one, lists come newest first. */
START_TEST(test_incarnations)
{
	struct db_incarnation	*incs, one;
	struct db		*w, *r;
	size_t			 n;
	int64_t			 a, b, c, d;

	w = open_writer(4096, 50);
	a = db_incarnation_begin(w, 5, "uuid-a", "web", T0);
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(db_incarnation_begin(w, 5, "uuid-a", "web", T0 + S),
	    a);
	b = db_incarnation_begin(w, 5, "uuid-b", "web", T0 + 2 * S);
	ck_assert_int_ne(b, a);
	db_append(w, a, "x\n", 2, T0 + 3 * S, 1);
	db_incarnation_end(w, a, T0 + 4 * S);
	c = db_incarnation_begin(w, 5, "uuid-a", "web2", T0 + 5 * S);
	ck_assert_int_ne(c, a);
	ck_assert_int_ne(c, b);
	/* Renamed while alive: the name follows. */
	d = db_incarnation_begin(w, 5, "uuid-a", "web3", T0 + 6 * S);
	ck_assert_int_eq(d, c);
	ck_assert_int_gt(db_incarnation_begin(w, 6, "uuid-a", "web", T0), 0);
	db_flush(w);

	r = open_reader();
	ck_assert_int_eq(db_incarnations(r, 5, &incs, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(incs[0].id, c);
	ck_assert_str_eq(incs[0].name, "web3");
	ck_assert_uint_eq(incs[0].first_ns, T0 + 5 * S);
	ck_assert_uint_eq(incs[0].gone_ns, 0);
	ck_assert_int_eq(incs[1].id, b);
	ck_assert_int_eq(incs[2].id, a);
	ck_assert_str_eq(incs[2].uuid, "uuid-a");
	ck_assert_uint_eq(incs[2].domid, 5);
	ck_assert_uint_eq(incs[2].gone_ns, T0 + 4 * S);
	ck_assert_uint_eq(incs[2].bytes, 2);
	ck_assert_int_eq(incs[2].last_seq, 1);
	free(incs);
	ck_assert_int_eq(db_incarnations_by_name(r, "web", &incs, &n), 0);
	ck_assert_uint_eq(n, 3);	/* a, b, and domain 6 */
	free(incs);
	ck_assert_int_eq(db_incarnations(r, 99, &incs, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(db_incarnation_get(r, a, &one), 0);
	ck_assert_uint_eq(one.gone_ns, T0 + 4 * S);
	ck_assert_int_eq(db_incarnation_get(r, 12345, &one), -ENOENT);
	ck_assert_int_eq(db_last_seq(r, b), 0);
	/* The live ones, oldest first: b, c (d), domain 6's; a ended. */
	ck_assert_int_eq(db_incarnations_live(r, &incs, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(incs[0].id, b);
	ck_assert_int_eq(incs[1].id, c);
	ck_assert_uint_eq(incs[2].domid, 6);
	free(incs);
	/* The same through the writer's handle (a connection of its own),
	 * which sees what is committed: b ended and flushed is gone. */
	db_incarnation_end(w, b, T0 + 7 * S);
	db_flush(w);
	ck_assert_int_eq(db_incarnations_live(w, &incs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(incs[0].id, c);
	ck_assert_uint_eq(incs[1].domid, 6);
	free(incs);
	db_close(r);
	db_close(w);
}
END_TEST

/* The dropped marker is a line of its own, with its time. */
START_TEST(test_dropped)
{
	struct readback	 rb;
	struct db	*w, *r;
	const char	*want = "one\n[xsconsoled: 123 bytes dropped]\n"
			    "two\n[xsconsoled: 5 bytes dropped]\nthree\n";
	int64_t		 id;

	w = open_writer(4096, 50);
	id = db_incarnation_begin(w, 1, "u", "n", T0);
	db_append(w, id, "one\n", 4, T0 + 1, 1);
	db_dropped(w, id, 123, T0 + 2, 2);
	db_append(w, id, "two", 3, T0 + 3, 3);
	db_dropped(w, id, 5, T0 + 4, 4);
	db_append(w, id, "three\n", 6, T0 + 5, 5);
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, strlen(want));
	ck_assert(memcmp(rb.buf, want, rb.len) == 0);
	ck_assert_uint_eq(rb.lines[1].ns, T0 + 2);
	ck_assert_uint_eq(rb.lines[1].gen, 2);
	ck_assert_uint_eq(rb.lines[3].ns, T0 + 4);
	readback_free(&rb);
	db_close(r);
	db_close(w);
}
END_TEST

/* Fill buf with incompressible bytes ending in a newline. */
static void
noise(unsigned char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(rng_next() % 200 + 32);
	buf[len - 1] = '\n';
}

/* An incarnation over its budget loses its oldest chunks first. */
START_TEST(test_retention_incarnation)
{
	struct db_incarnation	 inc;
	struct readback		 rb;
	struct db		*w, *r;
	unsigned char		 buf[1024];
	int64_t			 a, b;
	int			 i;

	rng_state = 77;
	w = open_writer_retain(1024, 1ULL << 30, 8192, 3600);
	a = db_incarnation_begin(w, 1, "ua", "a", T0);
	b = db_incarnation_begin(w, 2, "ub", "b", T0);
	for (i = 0; i < 40; i++) {
		noise(buf, sizeof buf);
		db_append(w, a, buf, sizeof buf, T0 + (uint64_t)i, 0);
		if (i < 3)
			db_append(w, b, buf, sizeof buf, T0 + (uint64_t)i, 0);
		if (i % 8 == 0)
			db_flush(w);
	}
	db_flush(w);
	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), 0);
	ck_assert_uint_le(inc.kept, 8192);
	ck_assert_uint_gt(inc.kept, 8192 - 2 * 1100);
	ck_assert_uint_eq(inc.bytes, 40 * 1024);
	ck_assert_int_eq(inc.last_seq, 40);
	/* What is left is the newest chunks, in order, ending with the last
	 * bytes written. */
	ck_assert_int_eq(read_back(r, a, 0, &rb), 0);
	ck_assert_uint_ge(rb.lines[0].seq, 30);
	ck_assert_uint_eq(rb.len % 1024, 0);
	ck_assert(memcmp(rb.buf + rb.len - 1024, buf, 1024) == 0);
	readback_free(&rb);
	/* The other incarnation is untouched. */
	ck_assert_int_eq(read_back(r, b, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 3 * 1024);
	readback_free(&rb);
	db_close(r);
	db_close(w);
}
END_TEST

/* Over the global budget, the oldest chunks of all go first. */
START_TEST(test_retention_global)
{
	struct db_incarnation	 ia, ib;
	struct db_stats		 st;
	struct readback		 rb;
	struct db		*w, *r;
	unsigned char		 buf[1024];
	int64_t			 a, b;
	int			 i;

	rng_state = 99;
	w = open_writer_retain(1024, 16384, 1ULL << 30, 3600);
	a = db_incarnation_begin(w, 1, "ua", "a", T0);
	b = db_incarnation_begin(w, 2, "ub", "b", T0);
	for (i = 0; i < 10; i++) {
		noise(buf, sizeof buf);
		db_append(w, a, buf, sizeof buf, T0 + (uint64_t)i, 0);
		db_flush(w);
	}
	for (i = 0; i < 10; i++) {
		noise(buf, sizeof buf);
		db_append(w, b, buf, sizeof buf, T0 + 100 + (uint64_t)i, 0);
		db_flush(w);
	}
	db_stats(w, &st);
	ck_assert_uint_le(st.kept, 16384);
	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, a, &ia), 0);
	ck_assert_int_eq(db_incarnation_get(r, b, &ib), 0);
	/* b is newer: all of it is kept, a lost its oldest. */
	ck_assert_int_eq(read_back(r, b, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 10 * 1024);
	readback_free(&rb);
	ck_assert_int_eq(read_back(r, a, 0, &rb), 0);
	ck_assert_uint_lt(rb.len, 10 * 1024);
	if (rb.n > 0)
		ck_assert_int_gt(rb.lines[0].seq, 1);
	readback_free(&rb);
	ck_assert_uint_le(ia.kept + ib.kept, 16384);
	ck_assert_uint_eq(ia.kept + ib.kept, st.kept);
	db_close(r);
	db_close(w);

	/* Reopened: the running total comes back from the database. */
	w = open_writer_retain(1024, 16384, 1ULL << 30, 3600);
	db_stats(w, &st);
	ck_assert_uint_eq(st.kept, ia.kept + ib.kept);
	db_close(w);
}
END_TEST

/* Incarnations gone for longer than keep_dead_s go, with their chunks;
 * the clock is the newest time the writer was given. */
START_TEST(test_dead_expire)
{
	struct db_incarnation	 inc;
	struct db_stats		 st;
	struct db		*w, *r;
	int64_t			 a, b;

	w = open_writer_retain(1024, 1ULL << 30, 1ULL << 30, 10);
	a = db_incarnation_begin(w, 1, "ua", "a", T0);
	b = db_incarnation_begin(w, 2, "ub", "b", T0);
	db_append(w, a, "bye\n", 4, T0 + S, 0);
	db_incarnation_end(w, a, T0 + 2 * S);
	db_append(w, b, "tick\n", 5, T0 + 5 * S, 0);
	db_flush(w);
	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), 0);
	ck_assert_uint_eq(inc.gone_ns, T0 + 2 * S);
	db_append(w, b, "tock\n", 5, T0 + 11 * S, 0);
	db_flush(w);
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), 0);
	db_append(w, b, "tick\n", 5, T0 + 15 * S, 0);
	db_flush(w);
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), -ENOENT);
	ck_assert_int_eq(db_last_seq(r, a), 0);
	ck_assert_int_eq(db_incarnation_get(r, b, &inc), 0);
	db_stats(w, &st);
	ck_assert_uint_eq(st.kept, inc.kept);
	db_close(r);
	db_close(w);
}
END_TEST

/* What a concurrent reader sees is always a prefix of what was written,
 * and db_changed notices commits. */
START_TEST(test_reader_while_writer)
{
	struct readback	 rb;
	struct db	*w, *r;
	char		 line[64];
	char		*all;
	size_t		 len = 0;
	int64_t		 id;
	int		 i, n, changed = 0;

	all = malloc(1 << 20);
	w = open_writer(4096, 10);
	id = db_incarnation_begin(w, 1, "u", "n", T0);
	r = open_reader();
	ck_assert_int_eq(db_changed(r), 1);
	for (i = 0; i < 3000; i++) {
		n = snprintf(line, sizeof line, "line %d of the test\n", i);
		memcpy(all + len, line, (size_t)n);
		len += (size_t)n;
		db_append(w, id, line, (size_t)n, T0 + (uint64_t)i, 0);
		if (i % 300 == 0) {
			usleep(20000);
			changed += db_changed(r) == 1;
			ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
			ck_assert_uint_le(rb.len, len);
			ck_assert(memcmp(rb.buf, all, rb.len) == 0);
			readback_free(&rb);
		}
	}
	ck_assert_int_gt(changed, 0);
	db_flush(w);
	ck_assert_int_eq(db_changed(r), 1);
	ck_assert_int_eq(db_changed(r), 0);
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, len);
	ck_assert(memcmp(rb.buf, all, len) == 0);
	readback_free(&rb);
	db_close(w);
	/* And after the writer is gone. */
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, len);
	readback_free(&rb);
	db_close(r);
	free(all);
}
END_TEST

/* db_queued counts what was appended and not committed: 0 after a
 * flush, and 0 again within flush_ms without one. */
START_TEST(test_queued)
{
	struct timespec	 t0, t1;
	struct db_stats	 st;
	struct db	*w;
	int64_t		 id;
	double		 ms;

	w = open_writer(64 << 10, 100);
	id = db_incarnation_begin(w, 1, "u", "n", T0);
	ck_assert_uint_eq(db_queued(w), 0);
	db_append(w, id, "0123456789", 10, T0, 0);
	ck_assert_uint_le(db_queued(w), 10);
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	db_append(w, id, "abc\n", 4, T0 + 1, 0);
	db_dropped(w, id, 10, T0 + 2, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (db_queued(w) != 0)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(ms < 1000, "committed after %.0f ms", ms);
	db_stats(w, &st);
	ck_assert_uint_eq(st.appended, 14);
	ck_assert_uint_eq(st.committed, 14 + 31);
	ck_assert_uint_eq(st.lost, 0);
	/* Bytes for an incarnation that does not exist are let go. */
	db_append(w, 999, "lost\n", 5, T0, 0);
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	db_close(w);
}
END_TEST

/* A writer whose commits give up after 10 ms of a lock held (busy_ms),
 * committing every flush_ms. */
static struct db *
open_writer_busy(size_t chunk, unsigned flush_ms)
{
	struct db_config	 cfg;
	struct db		*w = open_writer(chunk, flush_ms);

	db_config_defaults(&cfg);
	cfg.flush_ms = flush_ms;
	cfg.busy_ms = 10;
	ck_assert_int_eq(db_set_limits(w, &cfg), 0);
	return (w);
}

/* Another connection holding the database's write lock. */
static sqlite3 *
hold_lock(void)
{
	sqlite3	*sql;

	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	return (sql);
}

/* Let go of it. */
static void
release_lock(sqlite3 *sql)
{
	ck_assert_int_eq(sqlite3_exec(sql, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(sql);
}

/* Run SQL on the database through a connection of its own (to damage
 * it, or make it older, as the tests need). */
static void
sql_exec(const char *stmts)
{
	sqlite3	*sql;

	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, stmts, NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(sql);
}

/* Console bytes whose commit fails (another process holds the write
 * lock past busy_ms) are kept and written by a later commit, in order;
 * the incarnation's end too; nothing counts as lost. */
START_TEST(test_kept_while_locked)
{
	struct readback		 rb;
	struct db_stats		 st;
	struct db		*w, *r;
	sqlite3			*sql;
	struct db_incarnation	 inc;
	int64_t			 id;
	int			 i;

	w = open_writer_busy(64, 20);
	id = db_incarnation_begin(w, 3, "u3", "three", T0);
	ck_assert_int_gt(id, 0);
	db_append(w, id, "before\n", 7, T0 + 1, 1);
	db_flush(w);
	sql = hold_lock();
	/* More than a chunk (64 bytes), a partial line, then the end. */
	for (i = 0; i < 10; i++)
		db_append(w, id, "while locked\n", 13, T0 + 2 + i, 2);
	db_append(w, id, "part", 4, T0 + 20, 2);
	db_incarnation_end(w, id, T0 + 21);
	usleep(300 * 1000);	/* commits tried and failed meanwhile */
	db_stats(w, &st);
	ck_assert_uint_eq(st.lost, 0);
	/* Kept, not queued: the console driver does not pause for it. */
	ck_assert_uint_eq(db_queued(w), 0);
	release_lock(sql);
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	db_stats(w, &st);
	ck_assert_uint_eq(st.lost, 0);
	db_close(w);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 7 + 10 * 13 + 4);	/* "part": no newline */
	ck_assert(memcmp(rb.buf, "before\nwhile locked\n", 20) == 0);
	ck_assert(memcmp(rb.buf + rb.len - 17, "while locked\npart", 17) ==
	    0);
	ck_assert(rb.order_ok);
	ck_assert_int_eq(db_incarnation_get(r, id, &inc), 0);
	ck_assert_uint_eq(inc.gone_ns, T0 + 21);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/* Kept while commits fail, but not beyond 8 MiB: the oldest chunks go
 * (counted lost), the newest are written once commits work. */
START_TEST(test_kept_bounded)
{
	struct db_stats		 st;
	struct db_incarnation	 inc;
	struct readback		 rb;
	struct db		*w, *r;
	sqlite3			*sql;
	static char		 piece[64 << 10];
	int64_t			 id;
	int			 i;

	memset(piece, 'x', sizeof piece);
	piece[sizeof piece - 1] = '\n';
	w = open_writer_busy(sizeof piece, 20);
	id = db_incarnation_begin(w, 4, "u4", "four", T0);
	ck_assert_int_gt(id, 0);
	sql = hold_lock();
	for (i = 0; i < 160; i++)	/* 10 MiB */
		db_append(w, id, piece, sizeof piece, T0 + 1 + i, 1);
	usleep(500 * 1000);
	db_stats(w, &st);
	ck_assert_uint_ge(st.lost, (2u << 20) - sizeof piece);
	ck_assert_uint_le(st.lost, (2u << 20) + sizeof piece);
	release_lock(sql);
	db_flush(w);
	ck_assert_uint_eq(db_queued(w), 0);
	db_close(w);
	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, id, &inc), 0);
	ck_assert_uint_eq(inc.bytes + st.lost, 160 * sizeof piece);
	/* The newest were kept: the first line left is one of the last
	 * 8 MiB's (piece i was appended at T0 + 1 + i). */
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_ge(rb.lines[0].ns, T0 + 1 + 160 - (8u << 20) /
	    sizeof piece - 1);
	ck_assert_uint_eq(rb.n, inc.bytes / sizeof piece);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/*
 * Output given up while commits failed (beyond what the writer keeps)
 * leaves chunk numbers unused: the reader marks the first line after
 * them (after_gap), also when it starts where db_tail_seq says, and no
 * other line; chunks missing before the first kept say nothing.
 */
START_TEST(test_kept_gap)
{
	struct readback		 rb;
	struct db_stats		 st;
	struct db		*w, *r;
	sqlite3			*sql;
	static char		 piece[64 << 10];
	int64_t			 id, from;
	size_t			 i, n, gaps, at = 0;

	memset(piece, 'x', sizeof piece);
	piece[sizeof piece - 1] = '\n';
	w = open_writer_busy(sizeof piece, 20);
	id = db_incarnation_begin(w, 4, "u4", "four", T0);
	ck_assert_int_gt(id, 0);
	db_append(w, id, "first\n", 6, T0 + 1, 1);
	db_flush(w);
	sql = hold_lock();
	for (i = 0; i < 160; i++)	/* 10 MiB: the oldest 2 go */
		db_append(w, id, piece, sizeof piece, T0 + 2 + i, 1);
	usleep(500 * 1000);
	db_stats(w, &st);
	ck_assert_uint_gt(st.lost, 0);
	release_lock(sql);
	db_append(w, id, "last\n", 5, T0 + 200, 1);
	db_flush(w);
	db_close(w);

	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert(memcmp(rb.buf, "first\n", 6) == 0);
	ck_assert(memcmp(rb.buf + rb.len - 5, "last\n", 5) == 0);
	for (i = gaps = 0; i < rb.n; i++) {
		if (rb.lines[i].after_gap) {
			gaps++;
			at = i;
		}
	}
	ck_assert_uint_eq(gaps, 1);
	ck_assert_uint_eq(at, 1);
	ck_assert_int_gt(rb.lines[1].seq, rb.lines[0].seq + 1);
	n = rb.n;
	readback_free(&rb);
	/* All but "first": from its chunk on, the gap still seen. */
	from = db_tail_seq(r, id, n - 1);
	ck_assert_int_eq(from, 1);
	ck_assert_int_eq(read_back(r, id, from, &rb), 0);
	ck_assert_uint_eq(rb.n, n - 1);
	ck_assert(rb.lines[0].after_gap);
	for (i = 1; i < rb.n; i++)
		ck_assert(!rb.lines[i].after_gap);
	readback_free(&rb);
	/* The first chunk gone too (as retention takes the oldest): what
	 * was missing before the first kept is not marked. */
	db_close(r);
	sql_exec("DELETE FROM chunk WHERE seq = 1");
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.n, n - 1);
	for (i = 0; i < rb.n; i++)
		ck_assert(!rb.lines[i].after_gap);
	ck_assert_int_eq(db_tail_seq(r, id, n - 1), 0);
	readback_free(&rb);
	/* A follower that had read chunk 1 before retention took it: what
	 * follows is not marked either. */
	ck_assert_int_eq(read_back(r, id, 1, &rb), 0);
	ck_assert_uint_eq(rb.n, n - 1);
	for (i = 0; i < rb.n; i++)
		ck_assert(!rb.lines[i].after_gap);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/* Wait (up to 10 s) until the writer has given up at least n bytes. */
static void
wait_lost(struct db *w, uint64_t n)
{
	struct db_stats	st;
	int		i;

	for (i = 0; i < 1000; i++) {
		db_stats(w, &st);
		if (st.lost >= n)
			break;
		usleep(10 * 1000);
	}
	ck_assert_uint_ge(st.lost, n);
}

/* Output given up at the end of a log (none kept after it, the guest
 * gone): the incarnation's last_seq says so (db_lost_after); not for a
 * log kept whole, nor one retention emptied. (A lock fails the BEGIN;
 * diskfull.sh has failures inside a transaction, which reload.) */
START_TEST(test_kept_trailing_gap)
{
	struct db_incarnation	 inc;
	struct db_stats		 st;
	struct db		*w, *r;
	sqlite3			*sql;
	static char		 piece[64 << 10];
	int64_t			 a, b, c, last;
	size_t			 i;

	memset(piece, 'x', sizeof piece);
	piece[sizeof piece - 1] = '\n';
	w = open_writer_busy(sizeof piece, 20);
	a = db_incarnation_begin(w, 4, "u4", "four", T0);
	b = db_incarnation_begin(w, 5, "u5", "five", T0);
	c = db_incarnation_begin(w, 6, "u6", "six", T0);
	ck_assert(a > 0 && b > 0 && c > 0);
	db_append(w, a, "first\n", 6, T0 + 1, 1);
	db_flush(w);
	sql = hold_lock();
	/* The oldest kept: a's and c's, then 10 MiB of b's. */
	for (i = 0; i < 2; i++)
		db_append(w, a, piece, sizeof piece, T0 + 2 + i, 1);
	db_append(w, c, piece, sizeof piece, T0 + 4, 1);
	db_incarnation_end(w, a, T0 + 5);
	db_incarnation_end(w, c, T0 + 5);
	for (i = 0; i < 160; i++)
		db_append(w, b, piece, sizeof piece, T0 + 10 + i, 1);
	wait_lost(w, 3 * sizeof piece);
	db_stats(w, &st);		/* held for the retry: the 8 MiB */
	ck_assert_uint_gt(st.held, 0);
	ck_assert_uint_le(st.held, 8 << 20);
	release_lock(sql);
	db_flush(w);
	db_stats(w, &st);
	ck_assert_uint_eq(st.held, 0);
	db_close(w);

	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), 0);
	ck_assert_uint_ne(inc.gone_ns, 0);
	last = db_last_seq(r, a);
	ck_assert_int_eq(last, 1);
	ck_assert_int_eq(inc.last_seq, 3);
	ck_assert(db_lost_after(&inc, last));
	ck_assert(!db_lost_after(&inc, 3));
	/* c: nothing of it was ever stored. */
	ck_assert_int_eq(db_incarnation_get(r, c, &inc), 0);
	ck_assert_int_eq(db_last_seq(r, c), 0);
	ck_assert_uint_eq(inc.bytes, 0);
	ck_assert(db_lost_after(&inc, 0));
	/* b: its newest chunks kept, its oldest lost before them. */
	ck_assert_int_eq(db_incarnation_get(r, b, &inc), 0);
	ck_assert_int_eq(inc.last_seq, db_last_seq(r, b));
	ck_assert(!db_lost_after(&inc, db_last_seq(r, b)));
	db_close(r);
	/* a's chunks all gone, as retention takes a dead guest's log: not
	 * taken for a loss. */
	sql_exec("DELETE FROM chunk WHERE inc = 1");
	r = open_reader();
	ck_assert_int_eq(db_incarnation_get(r, a, &inc), 0);
	ck_assert(!db_lost_after(&inc, db_last_seq(r, a)));
	db_close(r);
}
END_TEST

/* While commits fail: a caller beginning an incarnation is answered at
 * once (not after the retry's wait), and an incarnation's end kept
 * alone is written once commits work, without a flush. */
START_TEST(test_kept_retry_paths)
{
	struct db_incarnation	 inc;
	struct timespec		 t0, t1;
	struct db		*w, *r;
	sqlite3			*sql;
	int64_t			 id, id2;
	double			 ms;
	int			 i;

	w = open_writer_busy(4096, 2000);
	id = db_incarnation_begin(w, 6, "u6", "six", T0);
	ck_assert_int_gt(id, 0);
	sql = hold_lock();
	db_append(w, id, "x\n", 2, T0 + 1, 0);
	usleep(1500 * 1000);	/* due at flush/2: tried, failed */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	id2 = db_incarnation_begin(w, 7, "u7", "seven", T0 + 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_int_lt(id2, 0);
	ck_assert_msg(ms < 500, "begin answered after %.0f ms", ms);
	db_incarnation_end(w, id, T0 + 3);
	usleep(100 * 1000);
	release_lock(sql);
	r = open_reader();
	for (i = 0; i < 300; i++) {
		ck_assert_int_eq(db_incarnation_get(r, id, &inc), 0);
		if (inc.gone_ns != 0)
			break;
		usleep(10 * 1000);
	}
	ck_assert_uint_eq(inc.gone_ns, T0 + 3);
	ck_assert_uint_eq(inc.bytes, 2);
	db_close(r);
	db_close(w);
}
END_TEST

/* A reopened writer continues an incarnation: same id, next seq, a
 * partial line continued. */
START_TEST(test_reopen)
{
	struct readback	 rb;
	struct db	*w, *r;
	int64_t		 id, id2;

	w = open_writer(4096, 50);
	id = db_incarnation_begin(w, 4, "u4", "four", T0);
	db_append(w, id, "abc\npar", 7, T0 + 1, 1);
	db_close(w);
	w = open_writer(4096, 50);
	id2 = db_incarnation_begin(w, 4, "u4", "four", T0 + S);
	ck_assert_int_eq(id2, id);
	db_append(w, id, "tial\n", 5, T0 + 2, 2);
	db_close(w);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, 12);
	ck_assert(memcmp(rb.buf, "abc\npartial\n", 12) == 0);
	ck_assert_uint_eq(rb.n, 3);
	ck_assert_int_eq(rb.lines[2].seq, 2);
	ck_assert(rb.lines[1].partial);
	ck_assert(rb.lines[2].continued);
	ck_assert_int_eq(db_tail_seq(r, id, 1), 0);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/* A writer started again: it continues incarnation id (domid, uuid and
 * name as begun), its ring now at ring_now; *pos as begin_ring gives. */
static struct db *
ring_restart(uint32_t domid, const char *uuid, const char *name,
    uint64_t ns, uint32_t ring_now, int64_t id, int64_t *pos)
{
	struct db	*w = open_writer(4096, 50);

	ck_assert_int_eq(db_incarnation_begin_ring(w, domid, uuid, name, ns,
	    ring_now, pos), id);
	return (w);
}

/*
 * Chunks given up at the end of a log (commits failed past the 8 MiB
 * kept): the ring position kept moves past them, so a restarted daemon
 * does not count the same bytes again as read and not written (the
 * hole is noted already). Chunks given up before one committed do not
 * move it back. A log whose start was given up: its first line after
 * a gap, which retention (removing what was stored) does not make.
 */
START_TEST(test_ring_pos_given_up)
{
	struct readback		 rb;
	struct db		*w, *r;
	sqlite3			*sql;
	static char		 piece[64 << 10];
	int64_t			 a, b, c, pos;
	uint32_t		 end = 6;
	size_t			 i;

	memset(piece, 'x', sizeof piece);
	piece[sizeof piece - 1] = '\n';
	w = open_writer_busy(sizeof piece, 20);
	a = db_incarnation_begin_ring(w, 7, "u7", "seven", T0, 0, &pos);
	c = db_incarnation_begin_ring(w, 8, "u8", "eight", T0, 0, &pos);
	b = db_incarnation_begin(w, 9, "u9", "nine", T0);
	ck_assert(a > 0 && b > 0 && c > 0);
	db_append_ring(w, a, "first\n", 6, T0 + 1, 1, end);
	db_flush(w);
	sql = hold_lock();
	for (i = 0; i < 2; i++) {
		end += sizeof piece;
		db_append_ring(w, a, piece, sizeof piece, T0 + 2 + i, 1, end);
	}
	db_append_ring(w, c, piece, sizeof piece, T0 + 4, 1, sizeof piece);
	for (i = 0; i < 160; i++)
		db_append(w, b, piece, sizeof piece, T0 + 10 + i, 1);
	wait_lost(w, 3 * sizeof piece);
	release_lock(sql);
	db_append_ring(w, c, "after\n", 6, T0 + 200, 2, sizeof piece + 6);
	db_flush(w);
	db_close(w);

	w = ring_restart(7, "u7", "seven", T0 + S, end, a, &pos);
	ck_assert_int_eq(pos, end);
	db_close(w);
	w = ring_restart(8, "u8", "eight", T0 + S, sizeof piece + 6, c, &pos);
	ck_assert_int_eq(pos, sizeof piece + 6);
	db_close(w);

	r = open_reader();
	ck_assert_int_eq(read_back(r, c, 0, &rb), 0);
	ck_assert_uint_eq(rb.n, 1);
	ck_assert(rb.lines[0].after_gap);
	ck_assert(memcmp(rb.buf, "after", 5) == 0);
	readback_free(&rb);
	db_close(r);
	/* Retention removing what was stored: no gap said before the
	 * first chunk kept. */
	sql_exec("UPDATE incarnation SET bytes = bytes + 1 WHERE id = 2");
	r = open_reader();
	ck_assert_int_eq(read_back(r, c, 0, &rb), 0);
	ck_assert_uint_eq(rb.n, 1);
	ck_assert(!rb.lines[0].after_gap);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/*
 * Where an incarnation's committed bytes end in its ring: a new one
 * starts where the ring is (a kill before its first commit still tells
 * what was lost); kept across a reopen (and the 32-bit index's wrap);
 * not moved by bytes given without a position; a lost marker moves it
 * to the ring's position then, so the next start does not mark the same
 * bytes again. The marker's line.
 */
START_TEST(test_ring_pos)
{
	struct readback	 rb;
	struct db	*w, *r;
	const char	*want = "hello\nx\n[xsconsoled: 42 bytes lost here: "
			    "read, not written, when the daemon stopped]\nend";
	int64_t		 id, id2, pos;

	w = open_writer(4096, 50);
	id = db_incarnation_begin_ring(w, 5, "u5", "five", T0, 0xfffffff0u,
	    &pos);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(pos, -1);
	db_close(w);
	w = ring_restart(5, "u5", "five", T0 + 1, 0xfffffffau, id, &pos);
	ck_assert_int_eq(pos, 0xfffffff0u);
	db_append_ring(w, id, "hello\n", 6, T0 + 1, 1, 4);	/* from 2^32 - 2 */
	db_append(w, id, "x\n", 2, T0 + 2, 2);
	db_close(w);
	w = ring_restart(5, "u5", "five", T0 + S, 46, id, &pos);
	ck_assert_int_eq(pos, 4);
	db_lost(w, id, 42, T0 + S + 1, 3, 46);
	db_close(w);
	/* Nothing printed since: the same loss is not found again. */
	w = ring_restart(5, "u5", "five", T0 + S + 2, 46, id, &pos);
	ck_assert_int_eq(pos, 46);
	db_append_ring(w, id, "end", 3, T0 + S + 2, 4, 49);
	db_close(w);
	w = ring_restart(5, "u5", "five", T0 + 2 * S, 49, id, &pos);
	ck_assert_int_eq(pos, 49);
	/* Ended, the next of the same uuid is a new one, with no position
	 * to give; it starts at the ring's now. */
	db_incarnation_end(w, id, T0 + 2 * S + 1);
	id2 = db_incarnation_begin_ring(w, 5, "u5", "five", T0 + 2 * S + 2,
	    0, &pos);
	ck_assert_int_gt(id2, id);
	ck_assert_int_eq(pos, -1);
	db_close(w);
	w = ring_restart(5, "u5", "five", T0 + 3 * S, 7, id2, &pos);
	ck_assert_int_eq(pos, 0);
	db_close(w);
	r = open_reader();
	ck_assert_int_eq(read_back(r, id, 0, &rb), 0);
	ck_assert_uint_eq(rb.len, strlen(want));
	ck_assert(memcmp(rb.buf, want, rb.len) == 0);
	readback_free(&rb);
	db_close(r);
}
END_TEST

/* A version 4 file (no ring positions) is taken to version 5 by a
 * writer: an incarnation it continues has no position to give, and
 * starts at the ring's now. */
START_TEST(test_v4_ring_pos)
{
	struct db	*w;
	int64_t		 id, pos;

	w = open_writer(4096, 50);
	id = db_incarnation_begin_ring(w, 6, "u6", "six", T0, 0, &pos);
	db_append_ring(w, id, "a\n", 2, T0 + 1, 1, 2);
	db_close(w);
	sql_exec("ALTER TABLE incarnation DROP COLUMN ring_pos; PRAGMA"
	    " user_version = 4;");
	w = ring_restart(6, "u6", "six", T0 + S, 2, id, &pos);
	ck_assert_int_eq(pos, -1);
	db_close(w);
	w = ring_restart(6, "u6", "six", T0 + 2 * S, 2, id, &pos);
	ck_assert_int_eq(pos, 2);
	db_append_ring(w, id, "b\n", 2, T0 + 2 * S + 1, 2, 4);
	db_close(w);
	w = ring_restart(6, "u6", "six", T0 + 3 * S, 4, id, &pos);
	ck_assert_int_eq(pos, 4);
	db_close(w);
}
END_TEST

/* Many incarnations written at once each read back exactly. */
START_TEST(test_many_incarnations)
{
	struct readback	 rb;
	struct db	*w, *r;
	int64_t		 ids[300];
	char		 line[64], uuid[16], want[64];
	int		 i, k, n;

	w = open_writer(2048, 20);
	for (i = 0; i < 300; i++) {
		snprintf(uuid, sizeof uuid, "u%d", i);
		ids[i] = db_incarnation_begin(w, (uint32_t)i + 1, uuid, uuid,
		    T0);
	}
	for (k = 0; k < 50; k++) {
		for (i = 0; i < 300; i++) {
			n = snprintf(line, sizeof line, "dom %d line %d\n", i,
			    k);
			db_append(w, ids[i], line, (size_t)n,
			    T0 + (uint64_t)k, (uint64_t)k);
		}
	}
	db_flush(w);
	r = open_reader();
	for (i = 0; i < 300; i += 37) {
		ck_assert_int_eq(read_back(r, ids[i], 0, &rb), 0);
		ck_assert_uint_eq(rb.n, 50);
		for (k = 0; k < 50; k++) {
			n = snprintf(want, sizeof want, "dom %d line %d\n", i,
			    k);
			CHECK(memcmp(rb.buf + rb.lines[k].off, want,
			    (size_t)n) == 0);
			CHECK(rb.lines[k].ns == T0 + (uint64_t)k);
		}
		readback_free(&rb);
	}
	db_close(r);
	db_close(w);
}
END_TEST

/* Clear errors for a missing file, a file that is not a database, a
 * database of someone else, a schema version from the future. */
START_TEST(test_open_errors)
{
	struct db	*db;
	sqlite3		*sql;
	char		 err[256], other[160];
	FILE		*f;

	errno = 0;
	ck_assert_ptr_null(db_open_reader(path, err, sizeof err));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no such file"));

	snprintf(other, sizeof other, "%s/garbage", dir);
	f = fopen(other, "w");
	fputs("this is not a database, not at all, and it is long enough "
	    "to fill SQLite's header of a hundred bytes, surely by now!\n", f);
	fclose(f);
	ck_assert_ptr_null(db_open_reader(other, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "not an xsconsoled console"));

	snprintf(other, sizeof other, "%s/other.db", dir);
	ck_assert_int_eq(sqlite3_open(other, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "CREATE TABLE t(x)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_ptr_null(db_open_reader(other, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "not an xsconsoled console"));

	db_close(open_writer(4096, 50));
	sql_exec("PRAGMA user_version = 99");
	ck_assert_ptr_null(db_open_reader(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "schema version 99"));
	{
		struct db_config	cfg;

		db_config_defaults(&cfg);
		cfg.path = path;
		db = db_open_writer(&cfg, err, sizeof err);
		ck_assert_ptr_null(db);
		ck_assert_ptr_nonnull(strstr(err, "schema version 99"));
	}
}
END_TEST

/* A corrupt chunk row gives -EIO, never a crash or garbage. */
START_TEST(test_corrupt_chunk)
{
	static const char	*breakage[] = {
		"UPDATE chunk SET lineidx = x'05'",
		"UPDATE chunk SET lineidx = x''",
		"UPDATE chunk SET data = x'28b52ffd0000'",
		"UPDATE chunk SET data = zeroblob(100)",
		"UPDATE chunk SET raw_bytes = raw_bytes + 1",
		"UPDATE chunk SET raw_bytes = 1 << 40",
		"UPDATE chunk SET raw_bytes = -1",
		"UPDATE chunk SET lines = lines + 1",
		"UPDATE chunk SET lines = 0",
		"UPDATE chunk SET data = x''",
		"UPDATE chunk SET lineidx = x'00', lines = 1",
		"UPDATE chunk SET lineidx = x'0008', lines = 2",
		"UPDATE chunk SET lineidx = x'000a0a', lines = 3",
	};
	struct readback	 rb;
	struct db	*w, *r;
	size_t		 i;
	int64_t		 id;
	char		 keep[320];

	w = open_writer(4096, 50);
	id = db_incarnation_begin(w, 1, "u", "n", T0);
	db_append(w, id, "one\ntwo\nthree\n", 14, T0, 0);
	db_close(w);
	snprintf(keep, sizeof keep, "cp '%s' '%s.good'", path, path);
	ck_assert_int_eq(system(keep), 0);
	for (i = 0; i < sizeof breakage / sizeof breakage[0]; i++) {
		snprintf(keep, sizeof keep, "cp '%s.good' '%s'", path, path);
		ck_assert_int_eq(system(keep), 0);
		sql_exec(breakage[i]);
		r = open_reader();
		ck_assert_msg(read_back(r, id, 0, &rb) == -EIO, "%s",
		    breakage[i]);
		ck_assert_uint_eq(rb.n, 0);
		readback_free(&rb);
		db_close(r);
	}
}
END_TEST

/* Build the suite. */
static Suite *
db_suite(void)
{
	Suite	*s = suite_create("db");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip_random);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_line_times);
	tcase_add_test(tc, test_incarnations);
	tcase_add_test(tc, test_dropped);
	tcase_add_test(tc, test_retention_incarnation);
	tcase_add_test(tc, test_retention_global);
	tcase_add_test(tc, test_dead_expire);
	tcase_add_test(tc, test_reader_while_writer);
	tcase_add_test(tc, test_queued);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_ring_pos);
	tcase_add_test(tc, test_v4_ring_pos);
	tcase_add_test(tc, test_kept_while_locked);
	tcase_add_test(tc, test_kept_bounded);
	tcase_add_test(tc, test_kept_gap);
	tcase_add_test(tc, test_kept_trailing_gap);
	tcase_add_test(tc, test_ring_pos_given_up);
	tcase_add_test(tc, test_kept_retry_paths);
	tcase_add_test(tc, test_many_incarnations);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_corrupt_chunk);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(db_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
