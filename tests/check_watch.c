/* Unit tests for xsd/watch.c and watch delivery (conn.c): which changes
 * fire which watches, when, and who may hear of them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "perms.h"
#include "store.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"
#include "xsd-private.h"
#include "xsd.h"
#include "testlib.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };

#define MAX_EVENTS	64

/* What the fake owner heard: one entry per delivery, in order. */
struct heard {
	unsigned	 n;
	char		 ev[MAX_EVENTS][128];	/* "token path" */
	char		 perms[MAX_EVENTS][32];	/* "perms|alt" as text */
};

static struct heard heard;

/* A list as "n0,r5" text ("-" for none). */
static void
perms_str(const struct perms *ps, char *out, size_t size)
{
	size_t	len, i;

	if (ps == NULL) {
		snprintf(out, size, "-");
		return;
	}
	len = perms_format(ps, out, size);
	for (i = 0; i + 1 < len; i++) {
		if (out[i] == '\0')
			out[i] = ',';
	}
	if (len == 0)
		out[0] = '\0';
}

/* The fake owner's delivery: remember token, path and permissions. */
static void
record_deliver(void *owner, const struct watch *w, const char *path,
    struct perms *perms, struct perms *alt, void *arg)
{
	char	p[16], a[16];

	(void)owner;
	ck_assert_ptr_eq(arg, &heard);
	ck_assert_uint_lt(heard.n, MAX_EVENTS);
	snprintf(heard.ev[heard.n], sizeof heard.ev[0], "%s %s", w->token,
	    path);
	perms_str(perms, p, sizeof p);
	perms_str(alt, a, sizeof a);
	snprintf(heard.perms[heard.n], sizeof heard.perms[0], "%s|%s", p, a);
	heard.n++;
}

/* An in-process watch's callback: arg is the tag to record. */
static void
record_func(const char *path, void *arg)
{
	ck_assert_uint_lt(heard.n, MAX_EVENTS);
	snprintf(heard.ev[heard.n], sizeof heard.ev[0], "%s %s",
	    (const char *)arg, path);
	heard.perms[heard.n][0] = '\0';
	heard.n++;
}

/* Where "token path" was heard (-1: never); it must be heard at most
 * once. */
static int
heard_at(const char *token, const char *path)
{
	char		want[128];
	unsigned	i;
	int		at = -1;

	snprintf(want, sizeof want, "%s %s", token, path);
	for (i = 0; i < heard.n; i++) {
		if (strcmp(heard.ev[i], want) == 0) {
			ck_assert_msg(at == -1, "\"%s\" heard twice", want);
			at = (int)i;
		}
	}
	return (at);
}

/* Assert "token path" was heard, once. */
#define HEARD(t, p)	ck_assert_msg(heard_at(t, p) >= 0, "not heard: %s %s", \
			    t, p)
/* Assert "token path" was not heard. */
#define NOT_HEARD(t, p)	ck_assert_msg(heard_at(t, p) < 0, "heard: %s %s", t, p)

/* Forget what was heard. */
static void
heard_reset(void)
{
	memset(&heard, 0, sizeof heard);
}

/* A store whose watches deliver to the recorder. */
static struct store *
mkstore(void)
{
	struct store	*st = store_create();

	st->watches = watch_create(record_deliver, &heard);
	heard_reset();
	return (st);
}

/* Free a store made by mkstore. */
static void
freestore(struct store *st)
{
	watch_free_all(st->watches);
	store_free(st);
}

/* Watch path with a token equal to the path, for a fake owner. */
static struct watch *
watch(struct store *st, const char *path, const char *token)
{
	struct watch	*w = NULL;
	static int	 owner;

	ck_assert_int_eq(watch_add(st->watches, path, token, &owner, false,
	    &w), 0);
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(watch_path(w), path);
	return (w);
}

/* WRITE a string value as dom0. */
static int
wr(struct store *st, struct txn *t, const char *path, const char *value)
{
	return (store_write(st, t, &dom0, path, value,
	    (uint32_t)strlen(value)));
}

/* SET_PERMS from text, as dom0. */
static int
sp(struct store *st, struct txn *t, const char *path, const char *text)
{
	struct perms	*ps = test_perms_text(text);
	int		 r;

	r = store_set_perms(st, t, &dom0, path, ps);
	perms_unref(ps);
	return (r);
}

/* A write fires watches on the node and its ancestors, not below, once
 * each, for the leaf only even when it makes parents. */
START_TEST(write_fires_up)
{
	struct store	*st = mkstore();

	watch(st, "/", "root");
	watch(st, "/a", "a");
	watch(st, "/a/b", "b");
	watch(st, "/a/b/c", "c");
	watch(st, "/a/b/c/d", "d");
	watch(st, "/a/bb", "bb");
	watch(st, "/x", "x");
	ck_assert_uint_eq(watch_count(st->watches), 7);

	ck_assert_int_eq(wr(st, NULL, "/a/b/c", "v"), 0);
	ck_assert_uint_eq(heard.n, 4);
	HEARD("root", "/a/b/c");
	HEARD("a", "/a/b/c");
	HEARD("b", "/a/b/c");
	HEARD("c", "/a/b/c");

	/* The same value again fires again. */
	heard_reset();
	ck_assert_int_eq(wr(st, NULL, "/a/b/c", "v"), 0);
	ck_assert_uint_eq(heard.n, 4);

	heard_reset();
	ck_assert_int_eq(wr(st, NULL, "/a/b", "v"), 0);
	ck_assert_uint_eq(heard.n, 3);
	NOT_HEARD("c", "/a/b");
	HEARD("b", "/a/b");
	freestore(st);
}
END_TEST

/* The events carry the node's permissions (and no old ones). */
START_TEST(write_event_perms)
{
	struct store	*st = mkstore();

	ck_assert_int_eq(wr(st, NULL, "/p", ""), 0);
	ck_assert_int_eq(sp(st, NULL, "/p", "r5,b7"), 0);
	watch(st, "/p", "p");
	ck_assert_int_eq(wr(st, NULL, "/p/q", "v"), 0);
	ck_assert_uint_eq(heard.n, 1);
	ck_assert_str_eq(heard.perms[0], "r5,b7|-");
	freestore(st);
}
END_TEST

/* MKDIR fires when it makes a node, not when the node exists; RM of a
 * missing node fires nothing; refused requests fire nothing. */
START_TEST(mkdir_rm_quiet)
{
	struct store		*st = mkstore();
	static const struct actor dom5 = { 5, PERMS_NO_TARGET, 0 };

	watch(st, "/", "root");
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/m"), 0);
	HEARD("root", "/m");
	heard_reset();
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/m"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/m/none"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/none/none"), -ENOENT);
	ck_assert_int_eq(store_write(st, NULL, &dom5, "/m/x", "v", 1),
	    -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/m"), -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/"), -EINVAL);
	ck_assert_uint_eq(heard.n, 0);
	freestore(st);
}
END_TEST

/* SET_PERMS fires up the tree, with the old permissions as well. */
START_TEST(set_perms_fires)
{
	struct store	*st = mkstore();

	ck_assert_int_eq(wr(st, NULL, "/s/t", ""), 0);
	watch(st, "/s", "s");
	watch(st, "/s/t", "t");
	watch(st, "/s/t/u", "u");
	ck_assert_int_eq(sp(st, NULL, "/s/t", "r5"), 0);
	ck_assert_uint_eq(heard.n, 2);
	HEARD("s", "/s/t");
	HEARD("t", "/s/t");
	ck_assert_str_eq(heard.perms[0], "r5|n0");
	freestore(st);
}
END_TEST

/* RM: the root fires on itself and its ancestors; each removed node
 * below it fires only watches exactly on it, children first. */
START_TEST(rm_fires)
{
	struct store	*st = mkstore();
	int		 y, x, r, z;

	ck_assert_int_eq(wr(st, NULL, "/r/x/y", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, "/r/z", "2"), 0);
	ck_assert_int_eq(wr(st, NULL, "/other", "3"), 0);
	watch(st, "/", "root");
	watch(st, "/r", "r");
	watch(st, "/r/x", "x");
	watch(st, "/r/x/y", "y");
	watch(st, "/r/z", "z");
	watch(st, "/r/nope", "nope");
	watch(st, "/r/x/y/deep", "deep");
	watch(st, "/other", "other");

	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/r"), 0);
	ck_assert_uint_eq(heard.n, 5);
	HEARD("root", "/r");
	HEARD("r", "/r");
	x = heard_at("x", "/r/x");
	y = heard_at("y", "/r/x/y");
	z = heard_at("z", "/r/z");
	r = heard_at("r", "/r");
	ck_assert_int_ge(x, 0);
	ck_assert_int_ge(y, 0);
	ck_assert_int_ge(z, 0);
	ck_assert_int_lt(y, x);
	ck_assert_int_lt(x, r);
	ck_assert_int_lt(z, r);
	/* A removed node's event carries its own permissions. */
	ck_assert_str_eq(heard.perms[y], "n0|-");
	freestore(st);
}
END_TEST

/* A transaction's events fire at its commit, once per node, in the
 * order the nodes were first changed; never on abort or EAGAIN. */
START_TEST(txn_events)
{
	struct store	*st = mkstore();
	struct nodeview	 nv;
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, "/t", ""), 0);
	watch(st, "/t", "t");
	heard_reset();

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, "/t/b", "1"), 0);
	ck_assert_int_eq(wr(st, t, "/t/a", "2"), 0);
	ck_assert_int_eq(wr(st, t, "/t/b", "3"), 0);
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/t/c"), 0);
	ck_assert_uint_eq(heard.n, 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(heard.n, 3);
	ck_assert_str_eq(heard.ev[0], "t /t/b");
	ck_assert_str_eq(heard.ev[1], "t /t/a");
	ck_assert_str_eq(heard.ev[2], "t /t/c");

	/* Abort. */
	heard_reset();
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, "/t/a", "x"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/t/b"), 0);
	ck_assert_int_eq(txn_end(t, false), 0);
	txn_free(t);
	ck_assert_uint_eq(heard.n, 0);

	/* EAGAIN (it read what was written outside): only the conflicting
	 * write outside is heard. */
	t = txn_create(st, 3, &dom0);
	ck_assert_int_eq(store_read(st, t, &dom0, "/t/a", &nv), 0);
	ck_assert_int_eq(wr(st, t, "/t/a", "x"), 0);
	ck_assert_int_eq(wr(st, NULL, "/t/a", "y"), 0);
	ck_assert_uint_eq(heard.n, 1);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	ck_assert_uint_eq(heard.n, 1);
	freestore(st);
}
END_TEST

/* RM inside a transaction fires the same events, at commit. */
START_TEST(txn_rm_events)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, "/r/x/y", "1"), 0);
	watch(st, "/", "root");
	watch(st, "/r/x", "x");
	watch(st, "/r/x/y", "y");
	watch(st, "/r/x/y/none", "none");
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/r"), 0);
	ck_assert_uint_eq(heard.n, 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(heard.n, 3);
	HEARD("root", "/r");
	HEARD("x", "/r/x");
	HEARD("y", "/r/x/y");
	freestore(st);
}
END_TEST

/* A path written and removed in one transaction fires once, up the
 * tree (the stronger of its two kinds of event). */
START_TEST(txn_write_then_rm)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, "/w/x", "1"), 0);
	watch(st, "/w", "w");
	watch(st, "/w/x/y", "y");
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, "/w/x/y", "2"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/w/x"), 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	HEARD("w", "/w/x");
	HEARD("w", "/w/x/y");
	HEARD("y", "/w/x/y");
	ck_assert_uint_eq(heard.n, 3);
	freestore(st);
}
END_TEST

/* Duplicates, lookups and removal in the registry. */
START_TEST(add_find_remove)
{
	struct store	*st = mkstore();
	struct watch	*w1, *w2, *w3, *dup = NULL;
	int		 owner_a, owner_b;

	ck_assert_int_eq(watch_add(st->watches, "/a", "tok", &owner_a, false,
	    &w1), 0);
	ck_assert_int_eq(watch_add(st->watches, "/a", "tok", &owner_a, true,
	    &dup), -EEXIST);
	ck_assert_ptr_null(dup);
	ck_assert_int_eq(watch_add(st->watches, "/a", "tok2", &owner_a, false,
	    &w2), 0);
	ck_assert_int_eq(watch_add(st->watches, "/a", "tok", &owner_b, false,
	    &w3), 0);
	ck_assert_uint_eq(watch_count(st->watches), 3);

	ck_assert_ptr_eq(watch_find(st->watches, "/a", "tok", &owner_a), w1);
	ck_assert_ptr_eq(watch_find(st->watches, "/a", "tok2", &owner_a), w2);
	ck_assert_ptr_eq(watch_find(st->watches, "/a", "tok", &owner_b), w3);
	ck_assert_ptr_null(watch_find(st->watches, "/a", "tok3", &owner_a));
	ck_assert_ptr_null(watch_find(st->watches, "/b", "tok", &owner_a));
	ck_assert_ptr_null(watch_find(st->watches, "/a/b", "tok", &owner_a));

	watch_remove_one(st->watches, w1);
	ck_assert_ptr_null(watch_find(st->watches, "/a", "tok", &owner_a));
	ck_assert_uint_eq(watch_count(st->watches), 2);
	ck_assert_int_eq(watch_add(st->watches, "/a", "tok", &owner_a, false,
	    &w1), 0);

	ck_assert_int_eq(wr(st, NULL, "/a", "v"), 0);
	ck_assert_uint_eq(heard.n, 3);
	watch_remove_one(st->watches, w1);
	watch_remove_one(st->watches, w2);
	watch_remove_one(st->watches, w3);
	ck_assert_uint_eq(watch_count(st->watches), 0);
	heard_reset();
	ck_assert_int_eq(wr(st, NULL, "/a", "v"), 0);
	ck_assert_uint_eq(heard.n, 0);
	freestore(st);
}
END_TEST

/* In-process watches hear absolute paths; they are not found by
 * watch_find nor clash with a connection's watches. */
START_TEST(func_watches)
{
	struct store	*st = mkstore();
	struct watch	*f1, *f2, *w;
	int		 owner;

	f1 = watch_add_func(st->watches, "/a", record_func, "f1");
	f2 = watch_add_func(st->watches, "/a", record_func, "f2");
	ck_assert_ptr_ne(f1, f2);
	ck_assert_ptr_null(watch_find(st->watches, "/a", "", &owner));
	ck_assert_ptr_null(watch_find(st->watches, "/a", "", NULL));
	ck_assert_int_eq(watch_add(st->watches, "/a", "", NULL, false, &w),
	    0);
	ck_assert_uint_eq(watch_count(st->watches), 3);

	ck_assert_int_eq(wr(st, NULL, "/a/b", "v"), 0);
	HEARD("f1", "/a/b");
	HEARD("f2", "/a/b");
	HEARD("", "/a/b");
	watch_remove_one(st->watches, f1);
	heard_reset();
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a"), 0);
	ck_assert_uint_eq(heard.n, 2);
	HEARD("f2", "/a");
	freestore(st);
}
END_TEST

/* Special names fire only watches exactly on them, never "/" ones. */
START_TEST(special_names)
{
	struct store	*st = mkstore();

	watch(st, "/", "root");
	watch(st, "@releaseDomain", "rel");
	watch(st, "@releaseDomain/5", "rel5");
	watch(st, "@introduceDomain", "intro");
	watch_fire(st->watches, "@releaseDomain", true, NULL, NULL);
	ck_assert_uint_eq(heard.n, 1);
	HEARD("rel", "@releaseDomain");
	heard_reset();
	watch_fire(st->watches, "@introduceDomain", false, NULL, NULL);
	ck_assert_uint_eq(heard.n, 1);
	HEARD("intro", "@introduceDomain");
	freestore(st);
}
END_TEST

/* A special event about a domain: the plain name for plain watches, the
 * name with the domid for depth-1 watches and for watches on it. */
START_TEST(special_with_domid)
{
	struct store	*st = mkstore();

	watch(st, "@releaseDomain", "rel");
	watch(st, "@releaseDomain", "reldepth")->depth = 1;
	watch(st, "@releaseDomain/5", "rel5");
	watch(st, "@releaseDomain/6", "rel6");
	watch_fire_special(st->watches, "@releaseDomain", 5, NULL);
	ck_assert_uint_eq(heard.n, 3);
	HEARD("rel", "@releaseDomain");
	HEARD("reldepth", "@releaseDomain/5");
	HEARD("rel5", "@releaseDomain/5");
	freestore(st);
}
END_TEST

/* A depth limits how far below its path a watch hears changes. */
START_TEST(depth_limits)
{
	struct store	*st = mkstore();

	watch(st, "/a", "any");
	watch(st, "/a", "zero")->depth = 0;
	watch(st, "/a", "one")->depth = 1;
	watch_fire(st->watches, "/a", false, NULL, NULL);
	ck_assert_uint_eq(heard.n, 3);
	heard_reset();
	watch_fire(st->watches, "/a/b", false, NULL, NULL);
	ck_assert_uint_eq(heard.n, 2);
	HEARD("any", "/a/b");
	HEARD("one", "/a/b");
	heard_reset();
	watch_fire(st->watches, "/a/b/c", false, NULL, NULL);
	ck_assert_uint_eq(heard.n, 1);
	HEARD("any", "/a/b/c");
	freestore(st);
}
END_TEST

/* watch_fire exact: only the path's own bucket. */
START_TEST(fire_exact)
{
	struct store	*st = mkstore();

	watch(st, "/", "root");
	watch(st, "/a", "a");
	watch(st, "/a/b", "b");
	watch_fire(st->watches, "/a/b", true, NULL, NULL);
	ck_assert_uint_eq(heard.n, 1);
	HEARD("b", "/a/b");
	heard_reset();
	watch_fire(st->watches, "/", false, NULL, NULL);
	ck_assert_uint_eq(heard.n, 1);
	HEARD("root", "/");
	freestore(st);
}
END_TEST

/*
 * Delivery through connections (conn.c): a fake transport that keeps
 * what the connection sends.
 */

struct engine {
	struct event_base	*base;
	struct xsd		*xsd;
	struct store		*st;
};

/* An engine on a fresh event base, with the given output limit. */
static void
engine_start(struct engine *e, size_t out_max)
{
	struct xsd_config	cfg;

	xsd_config_defaults(&cfg);
	if (out_max != 0)
		cfg.out_max = out_max;
	e->base = event_base_new();
	ck_assert_ptr_nonnull(e->base);
	e->xsd = xsd_create(e->base, &cfg);
	e->st = e->xsd->store;
}

/* Free the engine and its event base. */
static void
engine_stop(struct engine *e)
{
	xsd_free(e->xsd);
	event_base_free(e->base);
}

/* A connection for domid on the fake transport. */
static struct conn *
fake_conn(struct engine *e, unsigned domid, bool privileged)
{
	return (conn_create(e->xsd, &test_fake_ops, evbuffer_new(), domid,
	    privileged));
}

/* Send one request (payload of len bytes) to the connection. */
static void
request(struct conn *c, uint32_t type, const void *payload, size_t len)
{
	struct evbuffer		*in = evbuffer_new();
	struct xsd_sockmsg	 hdr = { type, 0, 0, (uint32_t)len };

	evbuffer_add(in, &hdr, sizeof hdr);
	evbuffer_add(in, payload, len);
	ck_assert_int_eq(conn_feed(c, in), 0);
	ck_assert_uint_eq(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

/* Take the next message from a connection's output: its type, and its
 * payload with NULs shown as '|'. Returns false when there is none. */
static bool
next_msg(struct conn *c, uint32_t *type, char *out, size_t size)
{
	struct evbuffer		*buf = c->ops_arg;
	struct xsd_sockmsg	 hdr;
	size_t			 i;

	if (evbuffer_get_length(buf) < sizeof hdr)
		return (false);
	evbuffer_remove(buf, &hdr, sizeof hdr);
	ck_assert_uint_lt(hdr.len, size);
	ck_assert_uint_ge(evbuffer_get_length(buf), hdr.len);
	evbuffer_remove(buf, out, hdr.len);
	for (i = 0; i < hdr.len; i++) {
		if (out[i] == '\0')
			out[i] = '|';
	}
	out[hdr.len] = '\0';
	*type = hdr.type;
	return (true);
}

/* Register a watch over the wire; expect OK then the initial event. */
static void
test_watch(struct conn *c, const char *path, const char *token)
{
	char		payload[256], msg[256], want[256];
	size_t		plen = strlen(path) + 1, tlen = strlen(token) + 1;
	uint32_t	type;

	memcpy(payload, path, plen);
	memcpy(payload + plen, token, tlen);
	request(c, XS_WATCH, payload, plen + tlen);
	ck_assert(next_msg(c, &type, msg, sizeof msg));
	ck_assert_uint_eq(type, XS_WATCH);
	ck_assert_str_eq(msg, "OK|");
	ck_assert(next_msg(c, &type, msg, sizeof msg));
	ck_assert_uint_eq(type, XS_WATCH_EVENT);
	snprintf(want, sizeof want, "%s|%s|", path, token);
	ck_assert_str_eq(msg, want);
	ck_assert(!next_msg(c, &type, msg, sizeof msg));
}

/* The events queued for a connection, as "path|token|;" each. */
static const char *
conn_events(struct conn *c)
{
	static char	all[2048];
	char		msg[512];
	uint32_t	type;

	all[0] = '\0';
	while (next_msg(c, &type, msg, sizeof msg)) {
		ck_assert_uint_eq(type, XS_WATCH_EVENT);
		strcat(all, msg);
		strcat(all, ";");
	}
	return (all);
}

/* The engine's store with nodes for the delivery tests:
 * /pub (r0) with /pub/secret (n0); /priv (n0) with /priv/open (r0);
 * /local/domain/5 (n5). */
static void
delivery_tree(struct engine *e)
{
	ck_assert_int_eq(wr(e->st, NULL, "/pub/secret", "s"), 0);
	ck_assert_int_eq(sp(e->st, NULL, "/pub", "r0"), 0);
	ck_assert_int_eq(wr(e->st, NULL, "/priv/open", "o"), 0);
	ck_assert_int_eq(sp(e->st, NULL, "/priv/open", "r0"), 0);
	ck_assert_int_eq(store_mkdir(e->st, NULL, &dom0, "/local/domain/5"),
	    0);
	ck_assert_int_eq(sp(e->st, NULL, "/local/domain/5", "n5"), 0);
}

/* A privileged connection hears of everything. */
START_TEST(deliver_privileged)
{
	struct engine	 e;
	struct conn	*c;

	engine_start(&e, 0);
	delivery_tree(&e);
	c = fake_conn(&e, 0, true);
	test_watch(c, "/", "all");
	ck_assert_int_eq(wr(e.st, NULL, "/priv/x", "1"), 0);
	ck_assert_int_eq(wr(e.st, NULL, "/pub/secret", "2"), 0);
	ck_assert_int_eq(store_rm(e.st, NULL, &dom0, "/priv"), 0);
	ck_assert_str_eq(conn_events(c),
	    "/priv/x|all|;/pub/secret|all|;/priv|all|;");
	engine_stop(&e);
}
END_TEST

/* An unprivileged watcher hears of a node it may read, or whose parent
 * it may read; not otherwise. */
START_TEST(deliver_readable)
{
	struct engine	 e;
	struct conn	*c;

	engine_start(&e, 0);
	delivery_tree(&e);
	c = fake_conn(&e, 5, false);
	test_watch(c, "/", "w");

	/* Readable node. */
	ck_assert_int_eq(wr(e.st, NULL, "/priv/open", "x"), 0);
	ck_assert_str_eq(conn_events(c), "/priv/open|w|;");
	/* Unreadable node and parent. */
	ck_assert_int_eq(wr(e.st, NULL, "/priv/closed", "x"), 0);
	ck_assert_int_eq(wr(e.st, NULL, "/priv", "x"), 0);
	ck_assert_str_eq(conn_events(c), "");
	/* Its own node. */
	ck_assert_int_eq(wr(e.st, NULL, "/local/domain/5/x", "x"), 0);
	ck_assert_str_eq(conn_events(c), "/local/domain/5/x|w|;");
	/* Unreadable node below a readable parent (Xen's watch_permitted
	 * accepts the parent). */
	ck_assert_int_eq(wr(e.st, NULL, "/pub/secret", "x"), 0);
	ck_assert_str_eq(conn_events(c), "/pub/secret|w|;");
	engine_stop(&e);
}
END_TEST

/* A change of permissions is heard by who could read before or after. */
START_TEST(deliver_set_perms)
{
	struct engine	 e;
	struct conn	*c;

	engine_start(&e, 0);
	delivery_tree(&e);
	c = fake_conn(&e, 5, false);
	test_watch(c, "/priv", "w");
	ck_assert_int_eq(sp(e.st, NULL, "/priv/open", "n0"), 0);
	ck_assert_str_eq(conn_events(c), "/priv/open|w|;");
	ck_assert_int_eq(sp(e.st, NULL, "/priv/open", "n0,r7"), 0);
	ck_assert_str_eq(conn_events(c), "");
	ck_assert_int_eq(sp(e.st, NULL, "/priv/open", "n0,r5"), 0);
	ck_assert_str_eq(conn_events(c), "/priv/open|w|;");
	engine_stop(&e);
}
END_TEST

/* Removal is heard under the removed node's own permissions. */
START_TEST(deliver_rm)
{
	struct engine	 e;
	struct conn	*c;

	engine_start(&e, 0);
	delivery_tree(&e);
	c = fake_conn(&e, 5, false);
	test_watch(c, "/priv/open", "o");
	test_watch(c, "/priv", "p");
	ck_assert_int_eq(store_rm(e.st, NULL, &dom0, "/priv"), 0);
	ck_assert_str_eq(conn_events(c), "/priv/open|o|;");
	engine_stop(&e);
}
END_TEST

/* Relative watches hear relative paths. */
START_TEST(deliver_relative)
{
	struct engine	 e;
	struct conn	*c, *c0;

	engine_start(&e, 0);
	delivery_tree(&e);
	c = fake_conn(&e, 5, false);
	c0 = fake_conn(&e, 0, true);
	test_watch(c, "foo", "rel");
	test_watch(c, "/local/domain/5/foo", "abs");
	test_watch(c0, "data", "rel0");
	ck_assert_int_eq(wr(e.st, NULL, "/local/domain/5/foo/bar", "1"), 0);
	ck_assert_int_eq(wr(e.st, NULL, "/local/domain/0/data/x", "1"), 0);
	ck_assert_str_eq(conn_events(c),
	    "foo/bar|rel|;/local/domain/5/foo/bar|abs|;");
	ck_assert_str_eq(conn_events(c0), "data/x|rel0|;");
	engine_stop(&e);
}
END_TEST

/* Each connection hears with its own token; removing a connection
 * removes its watches. */
START_TEST(deliver_two_conns)
{
	struct engine	 e;
	struct conn	*a, *b;

	engine_start(&e, 0);
	a = fake_conn(&e, 0, true);
	b = fake_conn(&e, 0, true);
	test_watch(a, "/x", "A");
	test_watch(b, "/x", "B");
	ck_assert_uint_eq(watch_count(e.st->watches), 2);
	ck_assert_int_eq(wr(e.st, NULL, "/x/y", "1"), 0);
	ck_assert_str_eq(conn_events(a), "/x/y|A|;");
	ck_assert_str_eq(conn_events(b), "/x/y|B|;");
	conn_free(a);
	ck_assert_uint_eq(watch_count(e.st->watches), 1);
	ck_assert_int_eq(wr(e.st, NULL, "/x/y", "2"), 0);
	ck_assert_str_eq(conn_events(b), "/x/y|B|;");
	engine_stop(&e);
}
END_TEST

/* A connection that lets its events pile up past out_max is dropped,
 * and freed from the event loop. */
START_TEST(deliver_overflow)
{
	struct engine	 e;
	struct conn	*c, *other;
	int		 i;

	engine_start(&e, 200);
	c = fake_conn(&e, 0, true);
	other = fake_conn(&e, 0, true);
	test_watch(c, "/", "t");
	test_watch(other, "/", "u");
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(wr(e.st, NULL, "/flood", "x"), 0);
		conn_events(other);
	}
	ck_assert(c->closing);
	ck_assert(!other->closing);
	ck_assert_uint_eq(e.xsd->dropped_conns, 1);
	ck_assert_uint_eq(e.xsd->nconns, 2);
	event_base_loop(e.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(e.xsd->nconns, 1);
	ck_assert_uint_eq(watch_count(e.st->watches), 1);
	ck_assert_int_eq(wr(e.st, NULL, "/flood", "y"), 0);
	ck_assert_str_eq(conn_events(other), "/flood|u|;");
	engine_stop(&e);
}
END_TEST

/* The in-process API: xsd_watch_add hears absolute paths of dom0's
 * writes through xsd_write. */
START_TEST(xsd_api_watch)
{
	struct engine		 e;
	struct xsd_watch	*w;
	char			*v;
	size_t			 len;

	engine_start(&e, 0);
	heard_reset();
	w = xsd_watch_add(e.xsd, "/a", record_func, "api");
	ck_assert_int_eq(xsd_write(e.xsd, "/a/b", "val", 3), 0);
	HEARD("api", "/a/b");
	ck_assert_int_eq(xsd_read(e.xsd, "/a/b", &v, &len), 0);
	ck_assert_str_eq(v, "val");
	ck_assert_uint_eq(len, 3);
	free(v);
	ck_assert_uint_eq(xsd_generation(e.xsd), e.st->gen);
	xsd_watch_remove(e.xsd, w);
	heard_reset();
	ck_assert_int_eq(xsd_write(e.xsd, "/a/b", "v2", 2), 0);
	ck_assert_uint_eq(heard.n, 0);
	engine_stop(&e);
}
END_TEST

/* All of the watch tests. */
static Suite *
watch_suite(void)
{
	Suite	*s = suite_create("watch");
	TCase	*tc;

	tc = tcase_create("fire");
	tcase_add_test(tc, write_fires_up);
	tcase_add_test(tc, write_event_perms);
	tcase_add_test(tc, mkdir_rm_quiet);
	tcase_add_test(tc, set_perms_fires);
	tcase_add_test(tc, rm_fires);
	tcase_add_test(tc, txn_events);
	tcase_add_test(tc, txn_rm_events);
	tcase_add_test(tc, txn_write_then_rm);
	tcase_add_test(tc, add_find_remove);
	tcase_add_test(tc, func_watches);
	tcase_add_test(tc, special_names);
	tcase_add_test(tc, special_with_domid);
	tcase_add_test(tc, depth_limits);
	tcase_add_test(tc, fire_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("deliver");
	tcase_add_test(tc, deliver_privileged);
	tcase_add_test(tc, deliver_readable);
	tcase_add_test(tc, deliver_set_perms);
	tcase_add_test(tc, deliver_rm);
	tcase_add_test(tc, deliver_relative);
	tcase_add_test(tc, deliver_two_conns);
	tcase_add_test(tc, deliver_overflow);
	tcase_add_test(tc, xsd_api_watch);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(watch_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
