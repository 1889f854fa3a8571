/*
 * db-bench: the console log writer (db/) under load, as the console
 * drainer will drive it. For 1, 200 and 1000 incarnations (-n), the
 * main thread plays the drainer: it appends console-like text in slices
 * of 64..2047 bytes (a ring drain, not aligned to lines), round robin
 * over the incarnations, and holds off while db_queued() is over 32 MiB
 * (the drainer's backpressure); then db_flush(). Printed per run: the
 * MB/s of text accepted and committed, the writer thread's CPU, the
 * time db_append() takes on the caller's thread (p50/p99/max), the
 * compression ratio (raw / stored, the line index included) and the
 * chunk sizes. A paced run follows (1000 incarnations printing one
 * line a second each, for 5 s): the writer's CPU on an idle-ish host
 * and the ratio of the small chunks a 100 ms flush makes. Last, the
 * zstd dictionary question: chunks of several sizes compressed at level
 * 3 with and without a dictionary trained on other text of the same kind.
 *
 * The text is synthetic console output (kernel, systemd, application
 * logs, a login prompt), or a file's bytes with -t FILE.
 *
 *   make bench/db-bench && bench/db-bench [-b MB] [-d DIR] [-m MB]
 *       [-n 1,200,1000] [-t FILE] [-p SECONDS]
 *
 * -b sets the global budget (max_bytes, default 4096 MB: no retention);
 * a small one keeps the writer deleting the oldest chunks as it goes.
 *
 * -H NODES runs the store's benchmark instead: NODES nodes made, one per
 * commit (150 per domain, half of them under a backend directory of
 * dom0 serving the domain), then NODES/3 writes to random nodes, at
 * 100,000 commits/s of commit time; printed: db_commit's cost on the
 * caller's thread (p50/p99/max), how long the writer took to make all
 * of it durable, the history's bytes per commit, the time db_store_load
 * takes after a reopen (1.5 M nodes: -H 1500000), and the readers' times
 * (one domain's changes in a 1 s window, one domain's whole history,
 * db_tree_at of one domain's home).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <zdict.h>
#include <zstd.h>

#include "bench.h"
#include "db.h"
#include "log.h"

#define POOL_BYTES	(32u << 20)
#define QUEUE_LIMIT	(32u << 20)
#define MB		(1024.0 * 1024.0)

static size_t	file_len;		/* -t: the file's own length */
static uint64_t	budget = 4ULL << 30;	/* -b: max_bytes */

static const char *kernel_msgs[] = {
	"virtio_net virtio0 enX0: renamed from eth0",
	"EXT4-fs (xvda1): mounted filesystem with ordered data mode. Quota mode: none.",
	"audit: type=1400 audit(%u.%03u:%u): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"/usr/sbin/chronyd\" pid=%u comm=\"apparmor_parser\"",
	"xen_netfront: Initialising Xen virtual ethernet driver",
	"blkfront: xvda: flush diskcache: enabled; persistent grants: enabled; indirect descriptors: enabled; bounce buffer: enabled",
	"random: crng init done",
	"systemd[1]: Detected virtualization xen.",
	"NET: Registered PF_INET6 protocol family",
	"Freeing unused kernel image (initmem) memory: %uK",
	"clocksource: Switched to clocksource xen",
	"TCP: request_sock_TCP: Possible SYN flooding on port %u. Sending cookies.",
	"Out of memory: Killed process %u (java) total-vm:%ukB, anon-rss:%ukB",
};

static const char *units[] = {
	"Journal Service", "Load Kernel Modules", "Network Time Synchronization",
	"OpenBSD Secure Shell server", "Regular background program processing daemon",
	"Permit User Sessions", "Getty on tty1", "Serial Getty on hvc0",
	"Daily apt download activities", "Rotate log files",
};

static const char *services[] = {
	"nginx", "api-gateway", "postgres", "worker", "sshd", "cron", "redis",
};

static const char *app_msgs[] = {
	"GET /api/v1/items/%u HTTP/1.1 200 %u ms",
	"POST /api/v1/orders HTTP/1.1 201 %u ms user=%u",
	"connection from 10.%u.%u.%u port %u accepted",
	"checkpoint complete: wrote %u buffers (%u.%u%%); 0 WAL file(s) added",
	"job %08x finished in %u ms, %u rows",
	"cache miss for key session:%08x, fetching from primary",
	"WARNING: slow query (%u ms): SELECT * FROM events WHERE id > %u",
	"Accepted publickey for deploy from 192.168.%u.%u port %u ssh2",
};

/* Append one console-like line to buf; returns its length. */
static int
gen_line(char *buf, size_t size, unsigned dom, uint64_t *clock)
{
	unsigned	r = (unsigned)(rng() % 100), a = (unsigned)rng() % 1000,
			b = (unsigned)rng() % 100000, c = (unsigned)rng() % 65536;
	char		msg[256];
	int		n;
	time_t		t;
	struct tm	tm;

	*clock += rng() % 50000000;
	if (r < 25) {
		snprintf(msg, sizeof msg,
		    kernel_msgs[rng() % (sizeof kernel_msgs / sizeof *kernel_msgs)],
		    b, a, c, c, b, a);
		n = snprintf(buf, size, "[%5u.%06u] %s\n",
		    (unsigned)(*clock / 1000000000), (unsigned)(*clock / 1000 %
		    1000000), msg);
	} else if (r < 33) {
		n = snprintf(buf, size, "[  OK  ] Started %s.\n",
		    units[rng() % (sizeof units / sizeof *units)]);
	} else if (r < 36) {
		n = snprintf(buf, size, "         Starting %s...\n",
		    units[rng() % (sizeof units / sizeof *units)]);
	} else if (r < 37) {
		n = snprintf(buf, size, "\r\nDebian GNU/Linux 12 guest%u hvc0"
		    "\r\n\r\nguest%u login: ", dom, dom);
	} else {
		snprintf(msg, sizeof msg,
		    app_msgs[rng() % (sizeof app_msgs / sizeof *app_msgs)],
		    b, a, c, a % 256, c, b);
		t = (time_t)(1795000000 + *clock / 1000000000);
		gmtime_r(&t, &tm);
		n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ "
		    "%s %s[%u]: %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (unsigned)(*clock / 1000000 % 1000),
		    r < 90 ? "INFO" : r < 97 ? "WARN" : "ERROR",
		    services[rng() % (sizeof services / sizeof *services)],
		    1000 + dom % 5000, msg);
	}
	return (n < (int)size ? n : (int)size - 1);
}

/* A pool of console text: 64 "guests" worth of lines, interleaved in
 * runs so that neighbouring bytes come from one guest. */
static char *
gen_pool(size_t size, uint64_t seed)
{
	char		*pool = malloc(size), line[512];
	uint64_t	 clocks[64] = { 0 };
	size_t		 at = 0, n;
	unsigned	 dom = 0;
	int		 k;

	rng_state = seed;
	while (at < size) {
		dom = (unsigned)(rng() % 64);
		for (k = (int)(rng() % 40); k >= 0 && at < size; k--) {
			n = (size_t)gen_line(line, sizeof line, dom + 1,
			    &clocks[dom]);
			if (n > size - at)
				n = size - at;
			memcpy(pool + at, line, n);
			at += n;
		}
	}
	return (pool);
}

/* Fill a pool from a file's bytes, repeated. */
static char *
file_pool(const char *path, size_t size)
{
	char	*pool = malloc(size);
	size_t	 at = 0, n;
	FILE	*f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "db-bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (at < size) {
		n = fread(pool + at, 1, size - at, f);
		if (n == 0) {
			if (at == 0) {
				fprintf(stderr, "db-bench: %s is empty\n", path);
				exit(1);
			}
			rewind(f);
		}
		at += n;
		if (file_len == 0 && n == 0)
			file_len = at;
	}
	if (file_len == 0)
		file_len = size;
	fclose(f);
	return (pool);
}

/* The counters of b minus those of a (a's kept is dropped). */
static void
stats_since(struct db_stats *b, const struct db_stats *a)
{
	b->appended -= a->appended;
	b->committed -= a->committed;
	b->stored -= a->stored;
	b->chunks -= a->chunks;
	b->commits -= a->commits;
	b->lost -= a->lost;
	b->writer_cpu_ns -= a->writer_cpu_ns;
}

/* A file's size in MB, 0 if it is missing. */
static double
file_mb(const char *path, const char *suffix)
{
	struct stat	st;
	char		p[600];

	snprintf(p, sizeof p, "%s%s", path, suffix);
	return (stat(p, &st) == 0 ? st.st_size / MB : 0);
}

/* Order ns values. */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* Open a fresh database at dir/name. */
static struct db *
bench_open(const char *dir, const char *name, char *path, size_t size)
{
	struct db_config	 cfg;
	struct db		*db;
	char			 err[256];

	snprintf(path, size, "%s/%s", dir, name);
	unlink(path);
	db_config_defaults(&cfg);
	cfg.path = path;
	cfg.max_bytes = budget;
	cfg.max_incarnation_bytes = 4ULL << 30;
	if ((db = db_open_writer(&cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "db-bench: %s\n", err);
		exit(1);
	}
	return (db);
}

/* Begin n incarnations. */
static int64_t *
bench_begin(struct db *db, unsigned n)
{
	int64_t		*ids = calloc(n, sizeof *ids);
	char		 uuid[64], name[32];
	unsigned	 i;

	for (i = 0; i < n; i++) {
		snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012u", i);
		snprintf(name, sizeof name, "guest%u", i + 1);
		ids[i] = db_incarnation_begin(db, i + 1, uuid, name, wall_ns());
		if (ids[i] <= 0) {
			fprintf(stderr, "db-bench: begin failed\n");
			exit(1);
		}
	}
	return (ids);
}

/* The process's CPU time in s. */
static double
process_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* One throughput run with n incarnations and total bytes of text. */
static void
bench_throughput(const char *dir, const char *pool, unsigned n, size_t total)
{
	struct db_stats	 st, st0;
	struct db	*db;
	char		 path[512], name[64];
	int64_t		*ids;
	size_t		*cursor, done = 0, calls = 0, maxcalls, len, slow;
	uint32_t	*lat;
	uint64_t	 t0, t1, a, b, stalled = 0, gen = 1;
	double		 secs, cpu;
	unsigned	 i = 0;

	snprintf(name, sizeof name, "bench-%u.db", n);
	db = bench_open(dir, name, path, sizeof path);
	ids = bench_begin(db, n);
	cursor = calloc(n, sizeof *cursor);
	for (i = 0; i < n; i++)
		cursor[i] = (size_t)(rng() % (POOL_BYTES - 4096));
	maxcalls = total / 64 + 1;
	lat = malloc(maxcalls * sizeof *lat);
	db_flush(db);
	db_stats(db, &st0);

	t0 = now_ns();
	for (i = 0; done < total; i = (i + 1) % n) {
		len = 64 + (size_t)(rng() % 1984);
		if (cursor[i] + len > POOL_BYTES)
			cursor[i] = 0;
		a = now_ns();
		db_append(db, ids[i], pool + cursor[i], len, wall_ns(), gen++);
		b = now_ns();
		if (calls < maxcalls)
			lat[calls++] = (uint32_t)(b - a);
		cursor[i] += len;
		done += len;
		while (db_queued(db) > QUEUE_LIMIT) {
			a = now_ns();
			usleep(200);
			stalled += now_ns() - a;
		}
	}
	db_flush(db);
	t1 = now_ns();
	db_stats(db, &st);
	stats_since(&st, &st0);
	secs = (double)(t1 - t0) / 1e9;
	cpu = st.writer_cpu_ns / 1e9;
	qsort(lat, calls, sizeof *lat, cmp_u32);
	for (slow = 0; slow < calls && lat[calls - 1 - slow] > 1000000; slow++)
		;
	printf("%5u incarnations: %7.1f MB in %5.2f s = %6.1f MB/s committed; "
	    "writer CPU %5.2f s (%3.0f%%, %5.1f MB/s per CPU s); "
	    "db_append p50 %u ns p99 %u ns p99.9 %u ns max %u ns "
	    "(%zu of %zu calls over 1 ms); stalled %.2f s; "
	    "ratio %.2f (%.1f MB stored); %llu chunks of %.1f KiB avg, "
	    "%llu commits; kept %.1f MB, file %.1f MB + WAL %.1f MB\n",
	    n, st.committed / MB, secs, st.committed / MB / secs, cpu,
	    100 * cpu / secs, st.committed / MB / cpu, lat[calls / 2],
	    lat[calls * 99 / 100], lat[calls * 999 / 1000], lat[calls - 1],
	    slow, calls, stalled / 1e9,
	    (double)st.committed / (double)st.stored, st.stored / MB,
	    (unsigned long long)st.chunks,
	    (double)st.committed / (double)st.chunks / 1024,
	    (unsigned long long)st.commits, st.kept / MB, file_mb(path, ""),
	    file_mb(path, "-wal"));
	fflush(stdout);
	db_close(db);
	unlink(path);
	free(lat);
	free(cursor);
	free(ids);
}

/* A paced run: n incarnations printing a line each per second. */
static void
bench_paced(const char *dir, const char *pool, unsigned n, unsigned secs)
{
	struct db_stats	 st, st0;
	struct db	*db;
	char		 path[512];
	const char	*nl;
	int64_t		*ids;
	size_t		*cursor, len;
	uint64_t	 t0, tick, ticks = (uint64_t)secs * 100, k;
	double		 pcpu0, cpu;
	unsigned	 i, per_tick = n / 100 ? n / 100 : 1, next = 0, j;

	db = bench_open(dir, "bench-paced.db", path, sizeof path);
	ids = bench_begin(db, n);
	cursor = calloc(n, sizeof *cursor);
	for (i = 0; i < n; i++)
		cursor[i] = (size_t)(rng() % (POOL_BYTES - 4096));
	db_flush(db);
	db_stats(db, &st0);
	pcpu0 = process_cpu();
	t0 = now_ns();
	for (k = 0; k < ticks; k++) {
		for (j = 0; j < per_tick; j++) {
			i = next++ % n;
			nl = memchr(pool + cursor[i], '\n', 4096);
			len = nl == NULL ? 80 : (size_t)(nl - (pool +
			    cursor[i])) + 1;
			if (cursor[i] + len + 4096 > POOL_BYTES)
				cursor[i] = 0;
			db_append(db, ids[i], pool + cursor[i], len, wall_ns(),
			    k);
			cursor[i] += len;
		}
		tick = t0 + (k + 1) * 10000000ULL;
		while (now_ns() < tick)
			usleep((useconds_t)((tick - now_ns()) / 1000 + 1));
	}
	db_flush(db);
	db_stats(db, &st);
	stats_since(&st, &st0);
	cpu = st.writer_cpu_ns / 1e9;
	printf("paced: %u incarnations x 1 line/s for %u s: %.2f MB; writer "
	    "CPU %.3f s (%.1f%% of one CPU), process CPU %.1f%%; ratio %.2f; "
	    "%llu chunks of %.0f B avg, %llu commits (%.1f/s)\n", n, secs,
	    st.committed / MB, cpu, 100 * cpu / secs,
	    100 * (process_cpu() - pcpu0) / secs,
	    (double)st.committed / (double)st.stored,
	    (unsigned long long)st.chunks,
	    (double)st.committed / (double)st.chunks,
	    (unsigned long long)st.commits, (double)st.commits / secs);
	fflush(stdout);
	db_close(db);
	unlink(path);
	free(cursor);
	free(ids);
}

/* Chunks of each size compressed at level 3, with and without a
 * dictionary trained on other text of the same kind (none of the test
 * bytes). */
static void
bench_dictionary(const char *test, size_t test_len, const char *train,
    size_t train_len)
{
	static const size_t	 sizes[] = { 256, 1024, 4096, 16384, 65536 };
	size_t			 dict_cap = 64 << 10, dict_len, nsamples,
				 sample = 2048, i, s, raw, zn, zd, off, cap;
	size_t			*samples;

	nsamples = train_len / sample < 2048 ? train_len / sample : 2048;
	if (nsamples < 64 || test_len < 2 * 65536) {
		printf("dictionary: not enough text to train and test\n");
		return;
	}
	samples = malloc(nsamples * sizeof *samples);
	char			*dict, *out;
	ZSTD_CCtx		*cctx;
	ZSTD_CDict		*cdict;
	uint64_t		 t0, tn, td;

	dict = malloc(dict_cap);
	cctx = ZSTD_createCCtx();

	for (i = 0; i < nsamples; i++)
		samples[i] = sample;
	t0 = now_ns();
	dict_len = ZDICT_trainFromBuffer(dict, dict_cap, train, samples,
	    (unsigned)nsamples);
	if (ZDICT_isError(dict_len)) {
		printf("dictionary: training failed: %s\n",
		    ZDICT_getErrorName(dict_len));
		return;
	}
	printf("dictionary: %zu bytes trained on %zu samples of %zu B (other "
	    "text of the same kind) in %.2f s\n", dict_len, nsamples, sample,
	    (now_ns() - t0) / 1e9);
	cdict = ZSTD_createCDict(dict, dict_len, 3);
	cap = ZSTD_compressBound(65536);
	out = malloc(cap);
	for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		raw = zn = zd = 0;
		tn = td = 0;
		for (off = 0; raw < (8u << 20); off += sizes[s] * 7) {
			off %= test_len - sizes[s];
			t0 = now_ns();
			zn += ZSTD_compressCCtx(cctx, out, cap, test + off,
			    sizes[s], 3);
			tn += now_ns() - t0;
			t0 = now_ns();
			zd += ZSTD_compress_usingCDict(cctx, out, cap,
			    test + off, sizes[s], cdict);
			td += now_ns() - t0;
			raw += sizes[s];
		}
		printf("  chunks of %5zu B: ratio %5.2f without, %5.2f with "
		    "the dictionary; %5.0f vs %5.0f MB/s\n", sizes[s],
		    (double)raw / zn, (double)raw / zd, raw / MB / (tn / 1e9),
		    raw / MB / (td / 1e9));
	}
	fflush(stdout);
	ZSTD_freeCDict(cdict);
	ZSTD_freeCCtx(cctx);
	free(out);
	free(dict);
	free(samples);
}

/* Order two uint64_t (qsort). */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* What db_store_load gave the benchmark. */
struct hload {
	uint64_t	nodes, bytes;
};

/* Count a loaded node. */
static int
hload_node(const char *path, const void *v, uint32_t vlen, const char *perms,
    uint64_t gen, void *arg)
{
	struct hload	*h = arg;

	(void)v;
	(void)gen;
	h->nodes++;
	h->bytes += strlen(path) + vlen + strlen(perms);
	return (0);
}

/* Count a change or a node a reader gave. */
static int
hcount_change(const struct db_hchange *c, void *arg)
{
	(void)c;
	(*(uint64_t *)arg)++;
	return (0);
}

static int
hcount_node(const char *path, const void *v, uint32_t vlen, const char *perms,
    uint64_t gen, void *arg)
{
	(void)path, (void)v, (void)vlen, (void)perms, (void)gen;
	(*(uint64_t *)arg)++;
	return (0);
}

/* The path of node i of the store benchmark. */
static void
hbench_path(char *buf, size_t size, uint64_t i, uint64_t ndom)
{
	uint64_t	dom = 1 + i % ndom, k = i / ndom;

	if (k % 2 == 0)
		snprintf(buf, size, "/local/domain/%llu/data/key%llu",
		    (unsigned long long)dom, (unsigned long long)k);
	else
		snprintf(buf, size, "/local/domain/0/backend/vif/%llu/0/key%llu",
		    (unsigned long long)dom, (unsigned long long)k);
}

/* The store's benchmark (-H). */
static void
bench_history(const char *dir, uint64_t nodes)
{
	struct db_config	 cfg;
	struct db_load_ops	 ops = { hload_node, NULL, NULL, NULL };
	struct db_hquery	 q;
	struct db_hinfo		 info;
	struct hload		 hl = { 0, 0 };
	struct db		*db, *rd;
	struct stat		 st;
	struct db_change	 c;
	char			 path[256], p[96], value[32], err[256];
	uint64_t		 ndom = nodes / 150 > 0 ? nodes / 150 : 1;
	uint64_t		 writes = nodes / 3, n = nodes + writes, i, gen;
	uint64_t		*cost, t, t0, t_start, ns0 = wall_ns(), count;
	double			 cpu0;

	snprintf(path, sizeof path, "%s/db-bench-store.db", dir);
	unlink(path);
	db_config_defaults(&cfg);
	cfg.path = path;
	cfg.history_max_bytes = 16ULL << 30;
	cost = malloc(n * sizeof *cost);
	if ((db = db_open_writer(&cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	cpu0 = process_cpu();
	t_start = now_ns();
	for (i = 0; i < n; i++) {
		uint64_t node = i < nodes ? i : rng() % nodes;

		hbench_path(p, sizeof p, node, ndom);
		snprintf(value, sizeof value, "v%llu", (unsigned long long)i);
		c.path = p;
		c.deleted = false;
		c.created = i < nodes;
		c.value = value;
		c.vlen = (uint32_t)strlen(value);
		c.perms = "n0,r5";
		t0 = now_ns();
		db_commit(db, i + 1, ns0 + i * 10000, 0, false, &c, 1);
		cost[i] = now_ns() - t0;
	}
	t = now_ns();
	db_flush(db);
	printf("store: %llu commits (%llu nodes made, %llu writes) handed "
	    "over in %.2f s, durable after %.2f s (process CPU %.2f s)\n",
	    (unsigned long long)n, (unsigned long long)nodes,
	    (unsigned long long)writes, (t - t_start) / 1e9,
	    (now_ns() - t_start) / 1e9, process_cpu() - cpu0);
	qsort(cost, n, sizeof *cost, cmp_u64);
	printf("store: db_commit on the caller's thread: p50 %.2f us, p99 "
	    "%.2f us, max %.1f us\n", cost[n / 2] / 1e3, cost[n * 99 / 100] /
	    1e3, cost[n - 1] / 1e3);
	free(cost);
	db_close(db);

	if ((db = db_open_writer(&cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	t = now_ns();
	if (db_store_load(db, &ops, &hl, &gen) != 0)
		fprintf(stderr, "db_store_load failed\n");
	printf("store: db_store_load: %llu nodes (%.1f MB of paths, values, "
	    "perms) in %.3f s, generation %llu\n", (unsigned long long)hl.nodes,
	    hl.bytes / MB, (now_ns() - t) / 1e9, (unsigned long long)gen);
	db_close(db);

	if ((rd = db_open_reader(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	db_history_info(rd, &info);
	stat(path, &st);
	printf("store: history %llu commits, %llu changes, %.1f MB counted "
	    "(%.0f bytes per commit); file %.1f MB (%.0f bytes per commit, "
	    "the node table included)\n", (unsigned long long)info.commits,
	    (unsigned long long)info.changes, info.bytes / MB,
	    (double)info.bytes / (double)info.commits, st.st_size / MB,
	    (double)st.st_size / (double)n);
	memset(&q, 0, sizeof q);
	q.subject = (int64_t)(ndom / 2);
	q.ns_min = ns0 + (nodes + writes / 2) * 10000;
	q.ns_max = q.ns_min + 1000000000ULL;
	count = 0;
	t = now_ns();
	db_history(rd, &q, hcount_change, &count);
	printf("store: one domain's changes in a 1 s window: %llu in %.2f ms\n",
	    (unsigned long long)count, (now_ns() - t) / 1e6);
	q.ns_min = q.ns_max = 0;
	q.with_old = true;
	count = 0;
	t = now_ns();
	db_history(rd, &q, hcount_change, &count);
	printf("store: one domain's whole history, with old values: %llu in "
	    "%.2f ms\n", (unsigned long long)count, (now_ns() - t) / 1e6);
	snprintf(p, sizeof p, "/local/domain/%llu",
	    (unsigned long long)(ndom / 2));
	count = 0;
	t = now_ns();
	db_tree_at(rd, nodes + writes / 2, p, hcount_node, &count);
	printf("store: db_tree_at of one domain's home (from the empty "
	    "snapshot): %llu nodes in %.2f ms\n", (unsigned long long)count,
	    (now_ns() - t) / 1e6);
	db_close(rd);
	unlink(path);
}

int
main(int argc, char **argv)
{
	const char	*dir = "/tmp", *text = NULL, *list = "1,200,1000";
	char		*pool, *train, *p, *end;
	size_t		 total = 256u << 20;
	unsigned	 paced = 5;
	unsigned long	 n;
	uint64_t	 store = 0;
	int		 ch;

	while ((ch = getopt(argc, argv, "b:d:H:m:n:t:p:")) != -1) {
		switch (ch) {
		case 'H':
			store = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			budget = (uint64_t)strtoull(optarg, NULL, 10) << 20;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'm':
			total = (size_t)strtoul(optarg, NULL, 10) << 20;
			break;
		case 'n':
			list = optarg;
			break;
		case 't':
			text = optarg;
			break;
		case 'p':
			paced = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: db-bench [-b MB] [-d DIR] "
			    "[-H NODES] [-m MB] [-n N,N...] [-t FILE] "
			    "[-p SECONDS]\n");
			return (2);
		}
	}
	log_open(stderr, LOG_LEVEL_WARN);
	if (store > 0) {
		bench_history(dir, store);
		return (0);
	}
	if (text != NULL)
		pool = file_pool(text, POOL_BYTES);
	else
		pool = gen_pool(POOL_BYTES, 1);
	printf("db-bench: %s text, %zu MB per run, flush 100 ms, chunks "
	    "64 KiB, zstd level 3, max_bytes %llu MB, %ld CPUs\n",
	    text != NULL ? text : "synthetic console", total >> 20,
	    (unsigned long long)(budget >> 20),
	    sysconf(_SC_NPROCESSORS_ONLN));
	for (p = (char *)list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		n = strtoul(p, &end, 10);
		if (end == p || n == 0)
			break;
		bench_throughput(dir, pool, (unsigned)n, total);
	}
	if (paced > 0)
		bench_paced(dir, pool, 1000, paced);
	if (text != NULL)	/* train on one half, test on the other */
		bench_dictionary(pool + file_len / 2, file_len - file_len / 2,
		    pool, file_len / 2);
	else {
		train = gen_pool(4u << 20, 2);
		bench_dictionary(pool, POOL_BYTES, train, 4u << 20);
		free(train);
	}
	free(pool);
	return (0);
}
