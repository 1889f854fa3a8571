/*
 * Unit tests for the durable store and its history (db/history.c,
 * db/hthin.c, db/hreader.c), through db.h only: scripted commits read
 * back through db_history and db_tree_at, db_store_load after a close,
 * thinning per band with explicit times, the byte budget, the subject
 * rule, db_set_limits, history spread over many batches, and the
 * conversion of a version 2 history. The writer's clock is the newest
 * time it was given, so nothing here sleeps.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "dbtest.h"
#include "log.h"

#define S		1000000000ULL
#define T0		(472222ULL * 3600 * S)	/* on an hour boundary */

static char	dir[64];
static char	path[128];

/* What a callback collected: lines of text. */
struct lines {
	char	buf[16384];
	size_t	len;
	int	n;
};

/* Fresh directory and database path for a test. */
static void
setup(void)
{
	dbtest_setup("check_history", "console.db", dir, sizeof dir, path, sizeof path);
}

/* Remove the test's directory. */
static void
teardown(void)
{
	dbtest_teardown(dir);
}

/* Open a writer with this configuration (path filled in). */
static struct db *
open_writer(struct db_config *cfg)
{
	struct db	*db;
	char		 err[256];

	cfg->path = path;
	if ((db = db_open_writer(cfg, err, sizeof err)) == NULL)
		ck_abort_msg("db_open_writer: %s", err);
	return (db);
}

/* Open a writer with the defaults. */
static struct db *
open_default(void)
{
	struct db_config	cfg;

	db_config_defaults(&cfg);
	return (open_writer(&cfg));
}

/* Open a reader. */
static struct db *
open_reader(void)
{
	struct db	*db;
	char		 err[256];

	if ((db = db_open_reader(path, err, sizeof err)) == NULL)
		ck_abort_msg("db_open_reader: %s", err);
	return (db);
}

/* Add a line to a collection. */
static void
lines_add(struct lines *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
lines_add(struct lines *l, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(l->len + (size_t)n + 1, sizeof l->buf);
	l->len += (size_t)n;
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
	l->n++;
}

/* A change as a line: "gen path=value perms [c|d] [old]". */
static int
collect_change(const struct db_hchange *c, void *arg)
{
	struct lines	*l = arg;
	char		 old[128] = "";

	if (c->old_known && c->old_exists)
		snprintf(old, sizeof old, " old=%.*s", (int)c->old_vlen,
		    (const char *)c->old_value);
	else if (c->old_known)
		snprintf(old, sizeof old, " old=gone");
	if (c->deleted)
		lines_add(l, "%llu %s del%s%s", (unsigned long long)c->gen,
		    c->path, c->in_txn ? " txn" : "", old);
	else
		lines_add(l, "%llu %s=%.*s %s%s%s%s", (unsigned long long)c->gen,
		    c->path, (int)c->vlen, (const char *)c->value, c->perms,
		    c->created ? " new" : "", c->in_txn ? " txn" : "", old);
	return (0);
}

/* A node as a line: "path=value perms". */
static int
collect_node(const char *p, const void *v, uint32_t vlen, const char *perms,
    uint64_t gen, void *arg)
{
	(void)gen;
	lines_add(arg, "%s=%.*s %s", p, (int)vlen, (const char *)v, perms);
	return (0);
}

/* Query the history into lines. */
static void
history(struct db *rd, const struct db_hquery *q, struct lines *l)
{
	memset(l, 0, sizeof *l);
	ck_assert_int_eq(db_history(rd, q, collect_change, l), 0);
}

/* The tree at gen below root, as lines. */
static int
tree_at(struct db *rd, uint64_t gen, const char *root, struct lines *l)
{
	memset(l, 0, sizeof *l);
	return (db_tree_at(rd, gen, root, collect_node, l));
}

/* A query of everything. */
static struct db_hquery
query_all(void)
{
	struct db_hquery	q;

	memset(&q, 0, sizeof q);
	q.subject = -1;
	return (q);
}

/* One change to a commit. */
#define SET(p, v, pm)	{ (p), false, false, (v), sizeof(v) - 1, (pm) }
#define NEW(p, v, pm)	{ (p), false, true, (v), sizeof(v) - 1, (pm) }
#define DEL(p)		{ (p), true, false, NULL, 0, NULL }
#define COMMIT(db, gen, t, txn, ...) do {				\
	struct db_change _c[] = { __VA_ARGS__ };			\
	db_commit((db), (gen), (t), 0, (txn), _c,			\
	    sizeof _c / sizeof _c[0]);					\
} while (0)

/* The scripted store of test_script, written through db, gens 1..6. */
static void
script(struct db *db)
{
	struct db_domain	d = { 5, 0x1234, 7, UINT32_MAX, 1 };
	struct db_watch		wa = { 5, "/local/domain/5", "tok", 0 };
	struct db_watch		wb = { 5, "@releaseDomain", "rel", 1 };

	COMMIT(db, 1, T0 + 1 * S, false,
	    NEW("/local", "", "n0"),
	    NEW("/local/domain", "", "n0"),
	    NEW("/local/domain/5", "", "n0,r5"),
	    NEW("/local/domain/5/name", "vm5", "n0,r5"));
	db_domain_put(db, &d);
	db_watch_put(db, &wa);
	db_watch_put(db, &wb);
	COMMIT(db, 2, T0 + 2 * S, true,
	    SET("/local/domain/5/name", "web", "n0,r5"),
	    NEW("/local/domain/5/device", "", "n5"));
	COMMIT(db, 3, T0 + 3 * S, false,
	    NEW("/local/domain/0", "", "n0"),
	    NEW("/local/domain/0/backend", "", "n0"),
	    NEW("/local/domain/0/backend/vif", "", "n0"),
	    NEW("/local/domain/0/backend/vif/5", "", "n0,r5"),
	    NEW("/local/domain/0/backend/vif/5/0", "1", "n0,b5,r7"),
	    NEW("/vm", "", "n0"));
	db_meta_put(db, "boot", "1");
	db_meta_put(db, "gone", "x");
	db_meta_put(db, "gone", NULL);
	/* The name is deleted and made again: it goes last. */
	COMMIT(db, 4, T0 + 4 * S, false,
	    NEW("/local/domain/5/name", "web", "n5"),
	    SET("/local/domain/0/backend/vif/5/0", "4", "n0,b5,r7"));
	db_watch_del(db, &wb);
	/* The domain goes: its home with every node below. */
	COMMIT(db, 5, T0 + 5 * S, false,
	    DEL("/local/domain/5/device"),
	    DEL("/local/domain/5/name"),
	    DEL("/local/domain/5"));
	db_perms_forget(db, 5, 5);
	db_domain_del(db, 5);
	COMMIT(db, 6, T0 + 6 * S, false,
	    NEW("/vm/x", "y", "n5,r5"));
}

/* The tree after gen 6, as db_tree_at and db_store_load give it. */
static const char *tree6 =
	"/local= n0\n"
	"/local/domain= n0\n"
	"/local/domain/0= n0\n"
	"/local/domain/0/backend= n0\n"
	"/local/domain/0/backend/vif= n0\n"
	"/local/domain/0/backend/vif/5= n0\n"
	"/local/domain/0/backend/vif/5/0=4 n0,r7\n"
	"/vm= n0\n"
	"/vm/x=y n5,r5\n";

/* A scripted sequence of commits read back exactly. */
START_TEST(test_script)
{
	struct db		*db = open_default(), *rd;
	struct db_hquery	 q = query_all();
	struct db_hinfo		 info;
	struct lines		 l;
	uint32_t		*ids;
	uint64_t		*ns, gen;
	size_t			 n;

	script(db);
	db_flush(db);
	rd = open_reader();

	history(rd, &q, &l);
	ck_assert_str_eq(l.buf,
	    "1 /local= n0 new\n"
	    "1 /local/domain= n0 new\n"
	    "1 /local/domain/5= n0,r5 new\n"
	    "1 /local/domain/5/name=vm5 n0,r5 new\n"
	    "2 /local/domain/5/name=web n0,r5 txn\n"
	    "2 /local/domain/5/device= n5 new txn\n"
	    "3 /local/domain/0= n0 new\n"
	    "3 /local/domain/0/backend= n0 new\n"
	    "3 /local/domain/0/backend/vif= n0 new\n"
	    "3 /local/domain/0/backend/vif/5= n0,r5 new\n"
	    "3 /local/domain/0/backend/vif/5/0=1 n0,b5,r7 new\n"
	    "3 /vm= n0 new\n"
	    "4 /local/domain/5/name=web n5 new\n"
	    "4 /local/domain/0/backend/vif/5/0=4 n0,b5,r7\n"
	    "5 /local/domain/5/device del\n"
	    "5 /local/domain/5/name del\n"
	    "5 /local/domain/5 del\n"
	    "6 /vm/x=y n5,r5 new\n");

	/* Subject 5: its home and the backend serving it. */
	q.subject = 5;
	q.with_old = true;
	q.gen_min = 2;
	q.gen_max = 5;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf,
	    "2 /local/domain/5/name=web n0,r5 txn old=vm5\n"
	    "2 /local/domain/5/device= n5 new txn\n"
	    "3 /local/domain/0/backend/vif/5= n0,r5 new\n"
	    "3 /local/domain/0/backend/vif/5/0=1 n0,b5,r7 new\n"
	    "4 /local/domain/5/name=web n5 new old=web\n"
	    "4 /local/domain/0/backend/vif/5/0=4 n0,b5,r7 old=1\n"
	    "5 /local/domain/5/device del old=\n"
	    "5 /local/domain/5/name del old=web\n"
	    "5 /local/domain/5 del old=\n");

	/* A path exactly, newest first, limited; a subtree; times. */
	q = query_all();
	q.path = "/local/domain/5/name";
	q.newest_first = true;
	q.limit = 2;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf, "5 /local/domain/5/name del\n"
	    "4 /local/domain/5/name=web n5 new\n");
	q = query_all();
	q.path = "/local/domain/0/backend";
	q.subtree = true;
	q.ns_min = T0 + 3 * S;
	q.ns_max = T0 + 3 * S;
	history(rd, &q, &l);
	ck_assert_int_eq(l.n, 4);
	q.path = "/local/domain/5/name";
	q.subtree = false;
	q.ns_min = T0 + 1 * S + 1;
	q.ns_max = T0 + 4 * S;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf, "2 /local/domain/5/name=web n0,r5 txn\n"
	    "4 /local/domain/5/name=web n5 new\n");
	q.path = "/local/domain/5/nam";	/* not a prefix match */
	history(rd, &q, &l);
	ck_assert_int_eq(l.n, 0);

	/* The tree at each generation. */
	ck_assert_int_eq(tree_at(rd, 0, "/", &l), 0);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(tree_at(rd, 2, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/local= n0\n/local/domain= n0\n"
	    "/local/domain/5= n0,r5\n/local/domain/5/name=web n0,r5\n"
	    "/local/domain/5/device= n5\n");
	ck_assert_int_eq(tree_at(rd, 4, "/local/domain/5", &l), 0);
	ck_assert_str_eq(l.buf, "/local/domain/5= n0,r5\n"
	    "/local/domain/5/device= n5\n/local/domain/5/name=web n5\n");
	/* perms_forget is not a commit: the history has b5 still. */
	ck_assert_int_eq(tree_at(rd, 6, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=y n5,r5\n");

	ck_assert_int_eq(db_gen_at(rd, T0 + 3 * S + 5, &gen), 0);
	ck_assert_uint_eq(gen, 3);
	ck_assert_int_eq(db_gen_at(rd, T0, &gen), -ERANGE);
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.first_gen, 1);
	ck_assert_uint_eq(info.last_gen, 6);
	ck_assert_uint_eq(info.first_ns, T0 + S);
	ck_assert_uint_eq(info.last_ns, T0 + 6 * S);
	ck_assert_uint_eq(info.commits, 6);
	ck_assert_uint_eq(info.changes, 18);
	ck_assert_uint_eq(info.full_from_gen, 1);
	ck_assert_uint_ge(info.snapshots, 1);

	ck_assert_int_eq(db_domids_named(rd, "web", &ids, &ns, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ids[0], 5);
	ck_assert_uint_eq(ns[0], T0 + 5 * S);	/* when it went */
	free(ids);
	free(ns);
	ck_assert_int_eq(db_domids_named(rd, "nobody", &ids, &ns, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(ids);
	free(ns);
	db_close(rd);
	db_close(db);
}
END_TEST

/* What db_store_load gave. */
struct loaded {
	struct lines	 nodes, rest;
};

/* The file saying the durable store is behind, as "LO HI\n" (it is
 * padded to 64 bytes, a newline last), or NULL. */
static const char *
marker(void)
{
	static char		 text[128];
	char			 mpath[160];
	unsigned long long	 lo, hi;
	FILE			*f;
	size_t			 n;

	snprintf(mpath, sizeof mpath, "%s-behind", path);
	if ((f = fopen(mpath, "r")) == NULL)
		return (NULL);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	ck_assert_uint_eq(n, 64);
	ck_assert_int_eq(text[63], '\n');
	text[n] = '\0';
	ck_assert_int_eq(sscanf(text, "%llu %llu", &lo, &hi), 2);
	snprintf(text, sizeof text, "%llu %llu\n", lo, hi);
	return (text);
}

/* Whether the spare of that file is there. */
static bool
marker_spare(void)
{
	char	mpath[160];

	snprintf(mpath, sizeof mpath, "%s-behind.spare", path);
	return (access(mpath, F_OK) == 0);
}

/* db_store_load callbacks. */
static int
load_node(const char *p, const void *v, uint32_t vlen, const char *perms,
    uint64_t gen, void *arg)
{
	return (collect_node(p, v, vlen, perms, gen,
	    &((struct loaded *)arg)->nodes));
}

static int
load_domain(const struct db_domain *d, void *arg)
{
	lines_add(&((struct loaded *)arg)->rest, "domain %u %llx %u %u %u",
	    d->domid, (unsigned long long)d->mfn, d->port, d->target,
	    d->features);
	return (0);
}

static int
load_watch(const struct db_watch *wa, void *arg)
{
	lines_add(&((struct loaded *)arg)->rest, "watch %u %s %s %u",
	    wa->domid, wa->path, wa->token, wa->depth);
	return (0);
}

static int
load_meta(const char *k, const char *v, void *arg)
{
	lines_add(&((struct loaded *)arg)->rest, "meta %s=%s", k, v);
	return (0);
}

static const struct db_load_ops load_ops = {
	load_node, load_domain, load_watch, load_meta
};

/* sqlite3_exec callback: count the rows. */
static int
count_row(void *arg, int n, char **v, char **names)
{
	(void)n;
	(void)v;
	(void)names;
	(*(int *)arg)++;
	return (0);
}

/* After a close and a reopen: the tree (order included), the domains,
 * watches and meta, the generation; the history goes on. */
START_TEST(test_reload)
{
	struct db_domain	 d = { 9, 0x99, 3, 0, 0 };
	struct db_watch		 wa = { 9, "/a", "t", 2 };
	struct db		*db = open_default(), *rd;
	struct db_hquery	 q = query_all();
	struct loaded		 ld;
	struct lines		 l;
	uint64_t		 gen = 99;

	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 0);
	ck_assert_int_eq(ld.nodes.n + ld.rest.n, 0);
	script(db);
	db_close(db);

	db = open_default();
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 6);
	ck_assert_str_eq(ld.nodes.buf, tree6);
	ck_assert_str_eq(ld.rest.buf, "meta boot=1\n");
	db_domain_put(db, &d);
	db_watch_put(db, &wa);
	COMMIT(db, 7, T0 + 7 * S, false, SET("/vm/x", "z", "n0"));
	db_close(db);

	db = open_default();
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 7);
	ck_assert_ptr_nonnull(strstr(ld.nodes.buf, "/vm/x=z n0\n"));
	ck_assert_str_eq(ld.rest.buf, "domain 9 99 3 0 0\n"
	    "watch 9 /a t 2\nmeta boot=1\n");
	db_close(db);

	rd = open_reader();
	q.gen_min = 6;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf, "6 /vm/x=y n5,r5 new\n7 /vm/x=z n0\n");
	ck_assert_int_eq(tree_at(rd, 7, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=z n0\n");
	db_close(rd);
}
END_TEST

/* Updates reach table node about once a second; after a kill -9 the
 * history has the rest: db_store_load replays what came after
 * hstate.node_gen (made stale here by hand, as a kill leaves it: a
 * permission forget flushes the updates first, so a replay never
 * starts before one). */
START_TEST(test_replay)
{
	struct db	*db = open_default();
	struct loaded	 ld;
	sqlite3		*sql;
	uint64_t	 gen;
	int		 rows = 0;

	script(db);
	COMMIT(db, 7, T0 + 7 * S, false, SET("/vm/x", "z", "n0"));
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql,
	    "UPDATE node SET value = CAST('y' AS BLOB), perms = 'n5,r5'"
	    " WHERE path = '/vm/x';"
	    "UPDATE hstate SET node_gen = 6;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(sql);
	db = open_default();
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 7);
	ck_assert_ptr_nonnull(strstr(ld.nodes.buf, "/vm= n0\n/vm/x=z n0\n"));
	ck_assert_int_eq(ld.nodes.n, 9);
	/* Updates wait in the writer, and a close writes them. */
	COMMIT(db, 8, T0 + 8 * S, false, SET("/vm/x", "w", "n0"));
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT 1 FROM node WHERE"
	    " path = '/vm/x' AND value = CAST('w' AS BLOB) AND gen = 8"
	    " AND (SELECT node_gen FROM hstate) = 8", count_row, &rows,
	    NULL), SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_int_eq(rows, 1);
}
END_TEST

/* sqlite3_exec callback: a node row as a line "path=value perms gen". */
static int
node_row(void *arg, int n, char **v, char **names)
{
	(void)n;
	(void)names;
	lines_add(arg, "%s=%s %s %s", v[0], v[1], v[2], v[3]);
	return (0);
}

#define PEND_PATHS	200
#define PEND_GENS	600
/* Perms too long to be kept in a noted update's entry. */
#define PEND_LONG	"n0,r1,r2,r3,r4,r5,r6,r7,r8,r9,r10,r11"

/*
 * Many updates of many paths in one batch, as the writer notes them for
 * the tree (a lookup per change, with the lookahead's prefetching):
 * perms short and long in turn, deletions and re-creations between
 * them. After a close, the node table has each path's last value,
 * perms and generation, against a model kept here.
 */
START_TEST(test_pend_many)
{
	struct db_change	 c[3];
	struct lines		 got, want;
	struct db		*db = open_default();
	sqlite3			*sql;
	char			 paths[PEND_PATHS][16], vals[3][32];
	char			 mval[PEND_PATHS][32];
	const char		*mperms[PEND_PATHS];
	uint64_t		 mgen[PEND_PATHS];
	bool			 live[PEND_PATHS];
	unsigned		 g, k, i, n;

	memset(&got, 0, sizeof got);
	memset(&want, 0, sizeof want);
	COMMIT(db, 1, T0, false, NEW("/t", "", "n0"));
	for (i = 0; i < PEND_PATHS; i++) {
		snprintf(paths[i], sizeof paths[i], "/t/p%03u", i);
		live[i] = false;
	}
	for (g = 2; g <= PEND_GENS; g++) {
		for (k = n = 0; k < 3; k++) {
			i = (g * 7 + k * 67) % PEND_PATHS;
			memset(&c[n], 0, sizeof c[n]);
			c[n].path = paths[i];
			if (live[i] && g % 11 == 0 && k == 0) {
				c[n].deleted = true;
				live[i] = false;
				n++;
				continue;
			}
			snprintf(vals[n], sizeof vals[n], "v%u.%u", g, k);
			c[n].created = !live[i];
			c[n].value = vals[n];
			c[n].vlen = (uint32_t)strlen(vals[n]);
			c[n].perms = (g + k) % 3 == 0 ? PEND_LONG : "n0,r1";
			live[i] = true;
			strcpy(mval[i], vals[n]);
			mperms[i] = c[n].perms;
			mgen[i] = g;
			n++;
		}
		db_commit(db, g, T0 + g, 0, false, c, n);
	}
	db_close(db);

	for (i = 0; i < PEND_PATHS; i++) {
		if (live[i])
			lines_add(&want, "%s=%s %s %" PRIu64, paths[i], mval[i],
			    mperms[i], mgen[i]);
	}
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT path, CAST(value AS TEXT),"
	    " perms, gen FROM node WHERE path LIKE '/t/%' ORDER BY path",
	    node_row, &got, NULL), SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_int_gt(want.n, PEND_PATHS / 2);
	ck_assert_str_eq(got.buf, want.buf);
}
END_TEST

/*
 * db_name_life: a guest's life on a domid, from the name written after
 * the home was last removed to the home's next removal; a rename stays
 * within the life; a name the domid never had is -ENOENT.
 */
START_TEST(test_name_life)
{
	struct db	*db = open_default(), *rd;
	uint64_t	 lo, hi;

	COMMIT(db, 1, T0 + 1, false, NEW("/local", "", "n0"),
	    NEW("/local/domain", "", "n0"));
	COMMIT(db, 2, T0 + 2, false, NEW("/local/domain/5", "", "n0"),
	    NEW("/local/domain/5/name", "web", "n0"));
	COMMIT(db, 3, T0 + 3, false, SET("/local/domain/5/name", "www", "n0"));
	COMMIT(db, 4, T0 + 4, false, NEW("/local/domain/5/x", "1", "n5"));
	COMMIT(db, 5, T0 + 5, false, DEL("/local/domain/5/x"),
	    DEL("/local/domain/5/name"), DEL("/local/domain/5"));
	COMMIT(db, 6, T0 + 6, false, NEW("/local/domain/5", "", "n0"),
	    NEW("/local/domain/5/name", "db", "n0"));
	COMMIT(db, 7, T0 + 7, false, SET("/local/domain/5/name", "web", "n0"));
	db_close(db);
	rd = open_reader();
	/* web, then www: one life, 2 to 5. */
	ck_assert_int_eq(db_name_life(rd, "www", 5, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 2);
	ck_assert_uint_eq(hi, 5);
	/* db, renamed web later: the life from 6, not over yet; "web" is
	 * that life's (its last). */
	ck_assert_int_eq(db_name_life(rd, "db", 5, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 6);
	ck_assert_uint_eq(hi, UINT64_MAX);
	ck_assert_int_eq(db_name_life(rd, "web", 5, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 6);
	ck_assert_uint_eq(hi, UINT64_MAX);
	ck_assert_int_eq(db_name_life(rd, "nosuch", 5, &lo, &hi), -ENOENT);
	ck_assert_int_eq(db_name_life(rd, "web", 6, &lo, &hi), -ENOENT);
	db_close(rd);
}
END_TEST

/* perms_forget: every list naming the domid edited, its ownership
 * given to 0; a domid reused later in the same batch keeps its new
 * entries. */
START_TEST(test_perms_forget)
{
	struct db	*db = open_default();
	struct loaded	 ld;
	uint64_t	 gen;

	COMMIT(db, 1, T0, false,
	    NEW("/a", "", "n3,r3,b12,w3"),
	    NEW("/b", "", "b12,r3"),
	    NEW("/c", "", "n1,r2"));
	db_perms_forget(db, 1, 3);
	db_perms_forget(db, 1, 0);		/* never */
	COMMIT(db, 2, T0 + 1, false, NEW("/d", "", "n3"));
	db_close(db);
	db = open_default();
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_str_eq(ld.nodes.buf, "/a= n0,b12\n/b= b12\n/c= n1,r2\n"
	    "/d= n3\n");
	db_close(db);
}
END_TEST

/* Subjects: home paths, backend paths, others. */
START_TEST(test_subject)
{
	struct db		*db = open_default(), *rd;
	struct db_hquery	 q = query_all();
	struct lines		 l;

	COMMIT(db, 1, T0, false,
	    NEW("/local/domain/7", "", "n0"),
	    NEW("/local/domain/7/name", "a", "n0"),
	    NEW("/local/domain/0/backend/vbd/7/51712/state", "4", "n0"),
	    NEW("/local/domain/0/backend/vbd/7", "", "n0"),
	    NEW("/local/domain/0/backend/vbd", "", "n0"),
	    NEW("/local/domain/0/backend/vbd/x/1", "", "n0"),
	    NEW("/local/domain/70", "", "n0"),
	    NEW("/local/domain/7x/y", "", "n0"),
	    NEW("/local/domain/4294967296", "", "n0"),
	    NEW("/vm/7", "", "n0"),
	    NEW("/tool/x", "", "n0"));
	db_close(db);
	rd = open_reader();
	q.subject = 7;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf,
	    "1 /local/domain/7= n0 new\n"
	    "1 /local/domain/7/name=a n0 new\n"
	    "1 /local/domain/0/backend/vbd/7/51712/state=4 n0 new\n"
	    "1 /local/domain/0/backend/vbd/7= n0 new\n");
	q.subject = 0;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf,
	    "1 /local/domain/0/backend/vbd= n0 new\n"
	    "1 /local/domain/0/backend/vbd/x/1= n0 new\n");
	q.subject = 70;
	history(rd, &q, &l);
	ck_assert_int_eq(l.n, 1);
	db_close(rd);
}
END_TEST

/* The value of /a in each kept change, oldest first. */
static void
values_of(struct db *rd, const char *p, struct lines *l)
{
	struct db_hquery	q = query_all();

	q.path = p;
	history(rd, &q, l);
}

/*
 * Thinning, per band, with explicit times: full band 600 s (and the
 * newest 2 generations), minute band 1 h, hour band beyond. The clock
 * ends at E = T0 + 3 h.
 */
START_TEST(test_thin_bands)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct db_hinfo		 info;
	struct lines		 l;
	uint64_t		 E = T0 + 3 * 3600 * S, M = E - 3000 * S;
	uint64_t		 F = E - 300 * S;

	db_config_defaults(&cfg);
	cfg.history_full_s = 600;
	cfg.history_full_commits = 2;
	cfg.history_minute_s = 3600;
	cfg.snapshot_interval_s = 1000000;
	db = open_writer(&cfg);
	/* Hour band (T0's hour): /a three times, /b once. */
	COMMIT(db, 1, T0, false, NEW("/a", "h1", "n0"));
	COMMIT(db, 2, T0 + 300 * S, false, NEW("/b", "hb", "n0"));
	COMMIT(db, 3, T0 + 600 * S, false, SET("/a", "h2", "n0"));
	COMMIT(db, 4, T0 + 1200 * S, false, SET("/a", "h3", "n0"));
	/* The next hour: one change, alone in its bucket. */
	COMMIT(db, 5, T0 + 3700 * S, false, SET("/a", "h4", "n0"));
	/* Minute band: two in one minute (M is on a minute), one in the
	 * next minute. */
	COMMIT(db, 6, M, false, SET("/a", "m1", "n0"));
	COMMIT(db, 7, M + 30 * S, false, SET("/a", "m2", "n0"));
	COMMIT(db, 8, M + 61 * S, false, SET("/a", "m3", "n0"));
	/* Full band: two in one second. */
	COMMIT(db, 9, F, false, SET("/a", "f1", "n0"));
	COMMIT(db, 10, F, false, SET("/a", "f2", "n0"));
	COMMIT(db, 11, E, false, NEW("/z", "", "n0"));
	db_flush(db);

	rd = open_reader();
	values_of(rd, "/a", &l);
	ck_assert_str_eq(l.buf,
	    "4 /a=h3 n0 new\n"
	    "5 /a=h4 n0\n"
	    "7 /a=m2 n0\n"
	    "8 /a=m3 n0\n"
	    "9 /a=f1 n0\n"
	    "10 /a=f2 n0\n");
	values_of(rd, "/b", &l);
	ck_assert_str_eq(l.buf, "2 /b=hb n0 new\n");
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.commits, 8);	/* 1, 3, 6 are gone */
	ck_assert_uint_eq(info.changes, 8);
	ck_assert_uint_eq(info.full_from_gen, 9);
	/* The tree at the end of a thinned period has the values; /a's
	 * creation is now in gen 4, after /b's. */
	ck_assert_int_eq(tree_at(rd, 4, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/b=hb n0\n/a=h3 n0\n");
	ck_assert_int_eq(tree_at(rd, 11, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/b=hb n0\n/a=f2 n0\n/z= n0\n");

	/* Only the newest 2 generations whole now: f1 goes (same minute
	 * as f2), and a second later m2, m3 and f2 are in the hour band
	 * (minute band 0 s): E's hour holds m2, m3 and f2, f2 stays. */
	cfg.history_full_s = 0;
	cfg.history_minute_s = 0;
	ck_assert_int_eq(db_set_limits(db, &cfg), 0);
	COMMIT(db, 12, E + S, false, SET("/z", "1", "n0"));
	db_flush(db);
	values_of(rd, "/a", &l);
	ck_assert_str_eq(l.buf, "4 /a=h3 n0 new\n5 /a=h4 n0\n"
	    "10 /a=f2 n0\n");
	db_close(rd);
	db_close(db);
}
END_TEST

/* A snapshot is taken once snapshot_interval_s of the clock passed;
 * db_tree_at starts from it, or from an older one, the same. */
START_TEST(test_snapshot)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct db_hinfo		 info;
	struct lines		 l;

	db_config_defaults(&cfg);
	cfg.snapshot_interval_s = 10;
	db = open_writer(&cfg);
	COMMIT(db, 1, T0 + 1 * S, false, NEW("/a", "1", "n0"),
	    NEW("/b", "1", "n0"));
	COMMIT(db, 2, T0 + 2 * S, false, NEW("/a", "2", "n0"));
	COMMIT(db, 3, T0 + 3 * S, false, SET("/b", "3", "n0,r1"));
	db_flush(db);
	COMMIT(db, 4, T0 + 100 * S, false, NEW("/c", "4", "n0"),
	    SET("/a", "4", "n0"));
	db_flush(db);		/* a snapshot at 4 */
	COMMIT(db, 5, T0 + 101 * S, false, DEL("/b"));
	COMMIT(db, 6, T0 + 102 * S, false, NEW("/b", "6", "n0"));
	db_close(db);

	rd = open_reader();
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.snapshots, 2);
	ck_assert_int_eq(tree_at(rd, 3, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/b=3 n0,r1\n/a=2 n0\n");
	ck_assert_int_eq(tree_at(rd, 4, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/b=3 n0,r1\n/a=4 n0\n/c=4 n0\n");
	ck_assert_int_eq(tree_at(rd, 6, "/", &l), 0);
	ck_assert_str_eq(l.buf, "/a=4 n0\n/c=4 n0\n/b=6 n0\n");
	ck_assert_int_eq(tree_at(rd, 5, "/b", &l), 0);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(tree_at(rd, 99, "/c", &l), 0);
	ck_assert_str_eq(l.buf, "/c=4 n0\n");
	db_close(rd);
}
END_TEST

/* Wait (up to 10 s) until the database has commit gen, read from
 * another connection as a reader would. */
static void
wait_durable(uint64_t gen)
{
	sqlite3		*sql;
	sqlite3_stmt	*st;
	int64_t		 last = 0;
	int		 i;

	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(sql, "SELECT last_gen FROM hstate",
	    -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < 10000 && (uint64_t)last < gen; i++) {
		if (sqlite3_step(st) == SQLITE_ROW)
			last = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if ((uint64_t)last < gen)
			usleep(1000);
	}
	sqlite3_finalize(st);
	sqlite3_close(sql);
	ck_assert_uint_ge((uint64_t)last, gen);
}

/*
 * A periodic snapshot is read on a thread of its own, from a read
 * transaction begun right after the commit it copies: commits the writer
 * makes meanwhile (here, while 200,000 nodes are read) are not in it.
 */
START_TEST(test_snapshot_aside)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct db_hinfo		 info;
	struct lines		 l;
	char			 p[32];
	uint64_t		 i;

	db_config_defaults(&cfg);
	cfg.snapshot_interval_s = 10;
	cfg.flush_ms = 1;
	db = open_writer(&cfg);
	for (i = 0; i < 200000; i++) {
		struct db_change	c = { p, false, true, "v", 1, "n0" };

		snprintf(p, sizeof p, "/n%" PRIu64, i);
		db_commit(db, 1, T0 + S, 0, false, &c, 1);
	}
	COMMIT(db, 2, T0 + 2 * S, false, NEW("/z", "old", "n0"));
	db_flush(db);
	/* Due: taken after the commit of 3, while 4 and 5 go on. */
	COMMIT(db, 3, T0 + 100 * S, false, SET("/z", "three", "n0"));
	wait_durable(3);	/* in a transaction of its own */
	COMMIT(db, 4, T0 + 101 * S, false, SET("/z", "four", "n0"));
	COMMIT(db, 5, T0 + 102 * S, false, DEL("/n199999"));
	db_close(db);

	rd = open_reader();
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.snapshots, 2);	/* the empty one, and 3 */
	ck_assert_int_eq(tree_at(rd, 3, "/z", &l), 0);
	ck_assert_str_eq(l.buf, "/z=three n0\n");
	ck_assert_int_eq(tree_at(rd, 3, "/n199999", &l), 0);
	ck_assert_str_eq(l.buf, "/n199999=v n0\n");
	ck_assert_int_eq(tree_at(rd, 5, "/z", &l), 0);
	ck_assert_str_eq(l.buf, "/z=four n0\n");
	ck_assert_int_eq(tree_at(rd, 5, "/n199999", &l), 0);
	ck_assert_int_eq(l.n, 0);
	/* The snapshot is the one at 3, with its nodes. */
	{
		sqlite3		*sql;
		sqlite3_stmt	*st;

		ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(sql, "SELECT gen, nodes"
		    " FROM snapshot WHERE gen > 0", -1, &st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int64(st, 0), 3);
		ck_assert_int_eq(sqlite3_column_int64(st, 1), 200001);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		sqlite3_close(sql);
	}
	db_close(rd);
}
END_TEST

static void	noise(char *, size_t, uint64_t);

/* The byte budget holds; what is left is the newest, whole. */
START_TEST(test_budget)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct db_hinfo		 info;
	struct db_hquery	 q = query_all();
	struct lines		 l;
	char			 value[200], p[32];
	uint64_t		 g;

	db_config_defaults(&cfg);
	cfg.history_max_bytes = 64 << 10;
	cfg.snapshot_interval_s = 1000000;
	db = open_writer(&cfg);
	for (g = 1; g <= 2000; g++) {
		struct db_change	c = { p, false, g <= 10, value,
		    sizeof value, "n0" };

		/* Values that do not compress: the budget counts what is
		 * stored, compressed. */
		noise(value, sizeof value, g);
		snprintf(p, sizeof p, "/n%llu", (unsigned long long)(g % 10));
		db_commit(db, g, T0 + g * S, 0, false, &c, 1);
	}
	db_close(db);
	rd = open_reader();
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_le(info.bytes, 64 << 10);
	ck_assert_uint_gt(info.bytes, 48 << 10);
	ck_assert_uint_eq(info.last_gen, 2000);
	ck_assert_uint_eq(info.commits, 2000 - info.first_gen + 1);
	ck_assert_uint_eq(info.changes, info.commits);
	/* Dropped history has no tree any more; the newest is whole. */
	ck_assert_int_eq(tree_at(rd, 100, "/", &l), -ERANGE);
	q.gen_min = 1991;
	history(rd, &q, &l);
	ck_assert_int_eq(l.n, 10);
	db_close(rd);
}
END_TEST

/* A value of n bytes that does not compress (xorshift). */
static void
noise(char *v, size_t n, uint64_t seed)
{
	uint64_t	x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t		i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (char)('a' + x % 26);
	}
}

/* A change with a long value as a short line: "gen path=first 11
 * bytes [old=first 11 bytes]", in a big buffer. */
struct biglines {
	char	*buf;
	size_t	 len, cap;
	int	 n;
};

static int
collect_short(const struct db_hchange *c, void *arg)
{
	struct biglines	*l = arg;
	char		 line[128];
	int		 k;

	k = snprintf(line, sizeof line, "%llu %s=%.*s%s%.*s\n",
	    (unsigned long long)c->gen, c->path,
	    (int)(c->vlen < 11 ? c->vlen : 11), (const char *)c->value,
	    c->old_known && c->old_exists ? " old=" : "",
	    c->old_known && c->old_exists ? (int)(c->old_vlen < 11 ?
	    c->old_vlen : 11) : 0, (const char *)c->old_value);
	if (l->len + (size_t)k + 1 > l->cap) {
		l->cap = (l->cap + (size_t)k + 1) * 2;
		l->buf = realloc(l->buf, l->cap);
		ck_assert_ptr_nonnull(l->buf);
	}
	memcpy(l->buf + l->len, line, (size_t)k + 1);
	l->len += (size_t)k;
	l->n++;
	return (0);
}

/* Query into a big collection. */
static void
history_big(struct db *rd, const struct db_hquery *q, struct biglines *l)
{
	free(l->buf);
	memset(l, 0, sizeof *l);
	ck_assert_int_eq(db_history(rd, q, collect_short, l), 0);
}

/*
 * History over many batches (a batch is cut at 1 MiB raw; 12 MB of
 * values here): queries
 * newest first with a limit, old values across batch edges, a subtree,
 * the tree at a generation in the middle, thinning across batches.
 */
START_TEST(test_batches)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct db_hquery	 q = query_all();
	struct db_hinfo		 info;
	struct lines		 l;
	struct biglines		 bl = { NULL, 0, 0, 0 };
	char			 value[4001], p[32], want[96];
	sqlite3			*sql;
	uint64_t		 g, n = 3000;
	int			 rows = 0;

	db_config_defaults(&cfg);
	cfg.snapshot_interval_s = 1000000;
	db = open_writer(&cfg);
	for (g = 1; g <= n; g++) {
		struct db_change	c = { p, false, g <= 3, value, 4000,
		    "n0" };

		snprintf(p, sizeof p, "/k/%llu", (unsigned long long)(g % 3));
		noise(value, 4000, g);
		/* The value starts with its generation. */
		snprintf(value, 12, "%010llu", (unsigned long long)g);
		value[10] = ':';
		db_commit(db, g, T0 + g * S, 0, false, &c, 1);
	}
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT 1 FROM hbatch", count_row,
	    &rows, NULL), SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_int_ge(rows, 10);
	rd = open_reader();
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.commits, n);
	ck_assert_uint_eq(info.changes, n);
	ck_assert_uint_eq(info.first_gen, 1);
	ck_assert_uint_eq(info.last_gen, n);

	/* Every change of /k/1, newest first, each with the one before
	 * (three generations back, in the same batch or the one before). */
	q.path = "/k/1";
	q.newest_first = true;
	q.with_old = true;
	history_big(rd, &q, &bl);
	ck_assert_int_eq(bl.n, (int)(n / 3));
	for (g = 1; g <= n; g += 3) {
		if (g > 1)
			snprintf(want, sizeof want, "%llu /k/1=%010llu: "
			    "old=%010llu:\n", (unsigned long long)g,
			    (unsigned long long)g, (unsigned long long)g - 3);
		else
			snprintf(want, sizeof want, "\n1 /k/1=%010llu:\n",
			    (unsigned long long)g);
		ck_assert_msg(strstr(bl.buf, want) != NULL, "no %s", want);
	}
	q.limit = 2;
	history_big(rd, &q, &bl);
	ck_assert_str_eq(bl.buf, "2998 /k/1=0000002998: old=0000002995:\n"
	    "2995 /k/1=0000002995: old=0000002992:\n");
	/* Old values at every batch edge: each change's old is its
	 * generation minus 3. */
	q = query_all();
	q.path = "/k";
	q.subtree = true;
	q.with_old = true;
	q.gen_min = 4;
	history_big(rd, &q, &bl);
	ck_assert_int_eq(bl.n, (int)n - 3);
	for (g = 4; g <= n; g++) {
		snprintf(want, sizeof want, "%llu /k/%llu=%010llu: "
		    "old=%010llu:\n", (unsigned long long)g,
		    (unsigned long long)(g % 3), (unsigned long long)g,
		    (unsigned long long)g - 3);
		ck_assert_msg(strstr(bl.buf, want) != NULL, "no %s", want);
	}
	/* The tree in the middle. */
	ck_assert_int_eq(tree_at(rd, 1500, "/k", &l), 0);
	ck_assert_int_eq(l.n, 3);
	snprintf(want, sizeof want, "/k/0=%010llu:", 1500ULL);
	ck_assert_msg(strstr(l.buf, want) != NULL, "%.300s", l.buf);
	db_close(rd);

	/* Thinning across the batches: everything older than the newest
	 * commit keeps the last change per path per hour. */
	cfg.history_full_s = 0;
	cfg.history_full_commits = 1;
	cfg.history_minute_s = 0;
	db = open_writer(&cfg);
	COMMIT(db, n + 1, T0 + (n + 2) * S, false, SET("/k/0", "x", "n0"));
	db_close(db);
	rd = open_reader();
	q = query_all();
	history_big(rd, &q, &bl);
	/* The hour T0 holds gens 1..3599: 2998, 2999, 3000 are the last
	 * of /k/1, /k/2, /k/0; then the new one. */
	ck_assert_str_eq(bl.buf, "2998 /k/1=0000002998:\n"
	    "2999 /k/2=0000002999:\n3000 /k/0=0000003000:\n3001 /k/0=x\n");
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.commits, 4);
	ck_assert_uint_eq(info.changes, 4);
	db_close(rd);
	free(bl.buf);
}
END_TEST

/* Thinning a bucket over two runs gives what one run would: the part
 * thinned before is taken again. */
START_TEST(test_thin_straddle)
{
	struct db_config	 cfg;
	struct db		*db, *rd;
	struct lines		 l;
	uint64_t		 M = T0 + 600 * S;

	db_config_defaults(&cfg);
	cfg.history_full_s = 0;
	cfg.history_full_commits = 1;
	cfg.snapshot_interval_s = 1000000;
	db = open_writer(&cfg);
	COMMIT(db, 1, M, false, NEW("/a", "1", "n0"));
	COMMIT(db, 2, M + 1 * S, false, SET("/a", "2", "n0"));
	db_flush(db);
	COMMIT(db, 3, M + 2 * S, false, SET("/a", "3", "n0"));
	COMMIT(db, 4, M + 3 * S, false, SET("/a", "4", "n0"));
	db_close(db);
	rd = open_reader();
	values_of(rd, "/a", &l);
	ck_assert_str_eq(l.buf, "3 /a=3 n0 new\n4 /a=4 n0\n");
	db_close(rd);
}
END_TEST

/* A version 2 file's history (a row per commit and per change) is
 * converted when the writer opens it, and reads back the same. */
START_TEST(test_migrate_v2)
{
	struct db		*db, *rd;
	struct db_hquery	 q = query_all();
	struct db_hinfo		 info;
	struct lines		 l;
	sqlite3			*sql;
	uint32_t		*ids;
	uint64_t		*ns;
	size_t			 n;
	char			*msg = NULL;

	db = open_default();
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(sql,
	    "DROP TABLE hbatch; DROP TABLE hpath; DROP TABLE hsubject;"
	    "DROP TABLE hgap; DROP TABLE hname;"
	    "ALTER TABLE hstate DROP COLUMN node_gen;"
	    "ALTER TABLE incarnation DROP COLUMN ring_pos;"
	    "CREATE TABLE hcommit (gen INTEGER PRIMARY KEY,"
	    " time_ns INTEGER NOT NULL, origin INTEGER NOT NULL,"
	    " in_txn INTEGER NOT NULL);"
	    "CREATE INDEX hcommit_time ON hcommit(time_ns);"
	    "CREATE TABLE hchange (gen INTEGER NOT NULL, seq INTEGER NOT NULL,"
	    " path TEXT NOT NULL, subject INTEGER, flags INTEGER NOT NULL,"
	    " value BLOB, perms TEXT, PRIMARY KEY (gen, seq)) WITHOUT ROWID;"
	    "INSERT INTO hcommit VALUES (1, 1000, 0, 0), (2, 2000, 7, 1),"
	    " (3, 3000, 0, 0);"
	    "INSERT INTO hchange VALUES"
	    " (1, 0, '/local/domain/7', 7, 2, x'', 'n0,r7'),"
	    " (1, 1, '/local/domain/7/name', 7, 6, CAST('vm7' AS BLOB),"
	    "  'n0,r7'),"
	    " (2, 0, '/local/domain/7/name', 7, 4, CAST('web' AS BLOB),"
	    "  'n7'),"
	    " (2, 1, '/vm', NULL, 2, x'', 'n0'),"
	    " (3, 0, '/local/domain/7/name', 7, 1, NULL, NULL);"
	    "UPDATE hstate SET last_gen = 3, commits = 3, changes = 5;"
	    "PRAGMA user_version = 2;", NULL, NULL, &msg) == SQLITE_OK,
	    "%s", msg);
	sqlite3_close(sql);

	db = open_default();		/* converts */
	db_close(db);
	rd = open_reader();
	q.with_old = true;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf,
	    "1 /local/domain/7= n0,r7 new\n"
	    "1 /local/domain/7/name=vm7 n0,r7 new\n"
	    "2 /local/domain/7/name=web n7 txn old=vm7\n"
	    "2 /vm= n0 new txn\n"
	    "3 /local/domain/7/name del old=web\n");
	ck_assert_int_eq(db_history_info(rd, &info), 0);
	ck_assert_uint_eq(info.commits, 3);
	ck_assert_uint_eq(info.changes, 5);
	ck_assert_uint_eq(info.first_ns, 1000);
	ck_assert_uint_eq(info.last_ns, 3000);
	ck_assert_int_eq(db_domids_named(rd, "web", &ids, &ns, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ids[0], 7);
	ck_assert_uint_eq(ns[0], 3000);
	free(ids);
	free(ns);
	db_close(rd);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT 1 FROM hchange", NULL,
	    NULL, NULL), SQLITE_ERROR);	/* dropped */
	sqlite3_close(sql);
}
END_TEST

/* db_set_limits refuses nonsense and takes the rest. */
START_TEST(test_limits)
{
	struct db_config	 cfg, bad;
	struct db		*db = open_default(), *rd;

	db_config_defaults(&cfg);
	ck_assert_uint_eq(cfg.history_full_s, 3600);
	ck_assert_uint_eq(cfg.history_full_commits, 100000);
	ck_assert_uint_eq(cfg.history_minute_s, 86400);
	ck_assert_uint_eq(cfg.history_max_bytes, 256ULL << 20);
	ck_assert_uint_eq(cfg.snapshot_interval_s, 3600);
	ck_assert_int_eq(db_set_limits(db, &cfg), 0);
	bad = cfg;
	bad.flush_ms = 0;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad.flush_ms = 60001;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad = cfg;
	bad.max_bytes = (1 << 20) - 1;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad = cfg;
	bad.max_incarnation_bytes = 1000;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad = cfg;
	bad.history_max_bytes = 0;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad = cfg;
	bad.history_minute_s = bad.history_full_s - 1;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	bad = cfg;
	bad.snapshot_interval_s = 0;
	ck_assert_int_eq(db_set_limits(db, &bad), -EINVAL);
	cfg.flush_ms = 60000;
	cfg.max_bytes = 1 << 20;
	ck_assert_int_eq(db_set_limits(db, &cfg), 0);
	db_flush(db);
	rd = open_reader();
	ck_assert_int_eq(db_set_limits(rd, &cfg), -EINVAL);
	db_close(rd);
	db_close(db);
}
END_TEST

/*
 * A disk that fails (another process holds the lock) beyond
 * store_backlog_max: the store's records are given up, and so are those
 * that come while behind; once commits work again db_store_behind says
 * so, the store written whole (db_store_resync; its first commit fails
 * too, and is retried) replaces the durable tree, domains and watches,
 * and the history goes on from a snapshot at its generation, without the
 * commits given up, a gap readers can tell.
 */
START_TEST(test_resync)
{
	struct db_config	 cfg;
	struct db_domain	 d9 = { 9, 0x99, 4, UINT32_MAX, 0 };
	struct db_watch		 w9 = { 9, "/local/domain/9", "t9", 0 };
	struct db		*db, *rd;
	struct db_hquery	 q = query_all();
	struct loaded		 ld;
	struct lines		 l;
	sqlite3			*sql;
	char			 value[512];
	uint32_t		*ids;
	uint64_t		*ns, *los, *his, gen, g, lo, hi;
	size_t			 n;

	db_config_defaults(&cfg);
	cfg.flush_ms = 10;
	cfg.busy_ms = 10;
	cfg.store_backlog_max = 4096;
	db = open_writer(&cfg);
	script(db);
	db_flush(db);
	ck_assert(!db_store_behind(db));

	/* The lock taken: 12 KiB of commits fail and are given up. */
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	memset(value, 'v', sizeof value);
	for (g = 7; g < 31; g++) {
		struct db_change c = { "/vm/x", false, false, value,
		    sizeof value, "n0" };

		db_commit(db, g, T0 + g * S, 0, false, &c, 1);
	}
	db_flush(db);
	ck_assert(!db_store_behind(db));	/* commits still fail */
	COMMIT(db, 31, T0 + 31 * S, false, SET("/vm/x", "late", "n0"));
	db_flush(db);
	ck_assert(!db_store_behind(db));

	/* The lock let go: the next commit works, and is given up too. */
	ck_assert_int_eq(sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(sql);
	COMMIT(db, 32, T0 + 32 * S, false, NEW("/vm/y", "lost", "n0"));
	db_flush(db);
	ck_assert(db_store_behind(db));
	/* The file beside the database says so, for a restart. */
	ck_assert_str_eq(marker(), "6 32\n");

	/* The whole store, as the daemon has it at generation 40; its
	 * first commit fails (the lock again) and is retried whole. */
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	db_store_resync(db, 40);
	ck_assert(!db_store_behind(db));
	COMMIT(db, 40, T0 + 40 * S, false,
	    NEW("/local", "", "n0"),
	    NEW("/local/domain", "", "n0"),
	    NEW("/local/domain/9", "", "n0,r9"),
	    NEW("/local/domain/9/name", "nine", "n0,r9"));
	COMMIT(db, 40, T0 + 40 * S, false,
	    NEW("/vm", "", "n0"),
	    NEW("/vm/x", "final", "n0"),
	    NEW("/vm/y", "kept", "n0"));
	db_domain_put(db, &d9);
	db_watch_put(db, &w9);
	db_meta_put(db, "perms:@releaseDomain", "n0,r9");
	db_store_resync_end(db);
	db_flush(db);
	ck_assert(!db_store_behind(db));
	ck_assert_int_eq(sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(sql);
	COMMIT(db, 41, T0 + 41 * S, false, SET("/vm/x", "after", "n0"));
	db_flush(db);
	ck_assert(!db_store_behind(db));
	ck_assert_ptr_null(marker());
	db_close(db);

	db = open_default();
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 41);
	ck_assert_str_eq(ld.nodes.buf, "/local= n0\n/local/domain= n0\n"
	    "/local/domain/9= n0,r9\n/local/domain/9/name=nine n0,r9\n"
	    "/vm= n0\n/vm/x=after n0\n/vm/y=kept n0\n");
	ck_assert_str_eq(ld.rest.buf, "domain 9 99 4 4294967295 0\n"
	    "watch 9 /local/domain/9 t9 0\n"
	    "meta boot=1\nmeta perms:@releaseDomain=n0,r9\n");
	db_close(db);

	rd = open_reader();
	q.gen_min = 7;
	history(rd, &q, &l);
	ck_assert_str_eq(l.buf, "41 /vm/x=after n0\n");
	ck_assert_int_eq(tree_at(rd, 40, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=final n0\n/vm/y=kept n0\n");
	/* The commits given up are a gap readers can tell; around it the
	 * tree is exact. */
	ck_assert_int_eq(tree_at(rd, 20, "/vm", &l), -ENODATA);
	ck_assert_int_eq(db_history_gap(rd, 20, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 6);
	ck_assert_uint_eq(hi, 40);
	ck_assert_int_eq(db_history_gap(rd, 39, &lo, &hi), 0);
	ck_assert_int_eq(db_history_gap(rd, 6, &lo, &hi), -ENOENT);
	ck_assert_int_eq(db_history_gap(rd, 40, &lo, &hi), -ENOENT);
	ck_assert_int_eq(db_history_gaps(rd, &los, &his, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(los[0], 6);
	ck_assert_uint_eq(his[0], 40);
	free(los);
	free(his);
	ck_assert_int_eq(tree_at(rd, 6, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=y n5,r5\n");
	ck_assert_int_eq(db_domids_named(rd, "nine", &ids, &ns, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ids[0], 9);
	free(ids);
	free(ns);
	db_close(rd);
}
END_TEST

/*
 * A writer stopped while its durable store is behind: the next one
 * learns it from the file beside the database, says the store is behind
 * at once, goes on numbering after the commits given up, and once the
 * store is written whole again the history has the gap and the file is
 * gone.
 */
START_TEST(test_behind_restart)
{
	struct db_config	 cfg;
	struct db_stats		 stats;
	struct db		*db, *rd;
	struct loaded		 ld;
	struct lines		 l;
	sqlite3			*sql;
	uint64_t		 gen, g, lo, hi;

	db_config_defaults(&cfg);
	cfg.flush_ms = 10;
	cfg.busy_ms = 10;
	db = open_writer(&cfg);
	script(db);
	db_flush(db);
	ck_assert_ptr_null(marker());
	ck_assert(marker_spare());	/* made at the start, for a full disk */
	/* A commit that fails is kept for a retry (under the backlog): the
	 * file says it is not written yet, until the retry writes it. The
	 * spare becomes the file, and the file the spare again. */
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	COMMIT(db, 7, T0 + 7 * S, false, SET("/vm/x", "seven", "n0"));
	db_flush(db);
	ck_assert_str_eq(marker(), "6 7\n");
	ck_assert(!marker_spare());
	ck_assert(!db_store_behind(db));
	db_stats(db, &stats);
	ck_assert_uint_eq(stats.durable_gen, 6);	/* 7 not written */
	ck_assert_int_eq(sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	db_flush(db);
	ck_assert_ptr_null(marker());
	ck_assert(marker_spare());
	db_stats(db, &stats);
	ck_assert_uint_eq(stats.durable_gen, 7);
	db_close(db);

	/* Past the backlog: given up, the store behind. */
	cfg.store_backlog_max = 64;
	db = open_writer(&cfg);
	ck_assert_int_eq(sqlite3_exec(sql, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	for (g = 8; g <= 20; g++) {
		COMMIT(db, g, T0 + g * S, false, SET("/vm/x", "gone", "n0"));
		db_flush(db);
	}
	ck_assert_str_eq(marker(), "7 20\n");
	db_close(db);		/* its last commit fails too */
	ck_assert_int_eq(sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_str_eq(marker(), "7 20\n");

	/* The restart: behind at once, going on from 21 (8 to 20 were
	 * handed out), the store written whole as it loaded, as the daemon
	 * does (durable_start), at that generation. */
	db = open_writer(&cfg);
	ck_assert(db_store_behind(db));
	db_stats(db, &stats);
	ck_assert_uint_eq(stats.durable_gen, 7);	/* as opened */
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 21);
	ck_assert_ptr_nonnull(strstr(ld.nodes.buf, "/vm/x=seven n0\n"));
	db_store_resync(db, gen);
	COMMIT(db, gen, T0 + 21 * S, false, NEW("/vm", "", "n0"),
	    NEW("/vm/x", "seven", "n0"));
	db_store_resync_end(db);
	db_flush(db);
	ck_assert(!db_store_behind(db));
	ck_assert_ptr_null(marker());
	COMMIT(db, 22, T0 + 22 * S, false, SET("/vm/x", "on", "n0"));
	db_close(db);

	rd = open_reader();
	/* The gap: 8 to 20, the last lost commit too. */
	ck_assert_int_eq(db_history_gap(rd, 20, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 7);
	ck_assert_uint_eq(hi, 21);
	ck_assert_int_eq(db_history_gap(rd, 7, &lo, &hi), -ENOENT);
	ck_assert_int_eq(tree_at(rd, 7, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=seven n0\n");
	ck_assert_int_eq(tree_at(rd, 21, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=seven n0\n");
	ck_assert_int_eq(tree_at(rd, 22, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=on n0\n");
	db_close(rd);

	/* A file left from before the store was written whole (a daemon
	 * killed between the two) is stale: removed, nothing behind. */
	{
		char	mpath[160];
		FILE	*f;

		snprintf(mpath, sizeof mpath, "%s-behind", path);
		ck_assert_ptr_nonnull(f = fopen(mpath, "w"));
		fprintf(f, "7 21\n");
		fclose(f);
	}
	db = open_writer(&cfg);
	ck_assert(!db_store_behind(db));
	ck_assert_ptr_null(marker());
	memset(&ld, 0, sizeof ld);
	ck_assert_int_eq(db_store_load(db, &load_ops, &ld, &gen), 0);
	ck_assert_uint_eq(gen, 22);
	db_close(db);
}
END_TEST

/* A version 3 file (no hgap, no incarnation.ring_pos) is read as it is,
 * without gaps, and a writer takes it to version 5. */
START_TEST(test_v3)
{
	struct db	*db = open_default(), *rd;
	struct lines	 l;
	sqlite3		*sql;
	uint64_t	 lo, hi, *los, *his;
	size_t		 n;
	int		 rows = 0;

	script(db);
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "DROP TABLE hgap;"
	    " ALTER TABLE incarnation DROP COLUMN ring_pos;"
	    " PRAGMA user_version = 3;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(sql);
	rd = open_reader();
	ck_assert_int_eq(tree_at(rd, 6, "/vm", &l), 0);
	ck_assert_str_eq(l.buf, "/vm= n0\n/vm/x=y n5,r5\n");
	ck_assert_int_eq(db_history_gap(rd, 3, &lo, &hi), -ENOENT);
	ck_assert_int_eq(db_history_gaps(rd, &los, &his, &n), 0);
	ck_assert_uint_eq(n, 0);
	db_close(rd);
	db = open_default();
	db_close(db);
	ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT 1 FROM sqlite_master"
	    " WHERE name = 'hgap' AND (SELECT user_version FROM"
	    " pragma_user_version) = 5", count_row, &rows, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(sql, "SELECT ring_pos FROM incarnation",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(sql);
	ck_assert_int_eq(rows, 1);
}
END_TEST

/* The suite. */
static Suite *
history_suite(void)
{
	Suite	*s = suite_create("history");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_script);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_pend_many);
	tcase_add_test(tc, test_name_life);
	tcase_add_test(tc, test_perms_forget);
	tcase_add_test(tc, test_subject);
	tcase_add_test(tc, test_thin_bands);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_snapshot_aside);
	tcase_add_test(tc, test_budget);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_batches);
	tcase_add_test(tc, test_thin_straddle);
	tcase_add_test(tc, test_migrate_v2);
	tcase_add_test(tc, test_resync);
	tcase_add_test(tc, test_behind_restart);
	tcase_add_test(tc, test_v3);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(history_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
