/* Unit tests for xsd/store.c and xsd/txn.c: the store's operations and
 * permission rules, and transactions (isolation, atomic commit, the
 * conflict rule, serializability). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "perms.h"
#include "store.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"
#include "testlib.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };
static const struct actor dom5 = { 5, PERMS_NO_TARGET, 0 };
static const struct actor dom7 = { 7, PERMS_NO_TARGET, 0 };
static const struct actor dom3_for5 = { 3, 5, 0 };

/* Watch deliveries go nowhere: these tests register no watches. */
static void
no_deliver(void *owner, const struct watch *w, const char *path,
    struct perms *perms, struct perms *alt, void *arg)
{
	(void)owner;
	(void)w;
	(void)path;
	(void)perms;
	(void)alt;
	(void)arg;
}

/* A fresh store with an (empty) watch registry. */
static struct store *
mkstore(void)
{
	struct store	*st = store_create();

	st->watches = watch_create(no_deliver, NULL);
	return (st);
}

/* Free a store made by mkstore. */
static void
freestore(struct store *st)
{
	ck_assert_int_eq(tree_check(st->tree, stderr), 0);
	watch_free_all(st->watches);
	store_free(st);
}

/* READ into a NUL-terminated buffer; returns the store's result. */
static int
rd(struct store *st, struct txn *t, const struct actor *a, const char *path,
    char *buf, size_t size)
{
	struct nodeview	nv;
	int		r;

	buf[0] = '\0';
	r = store_read(st, t, a, path, &nv);
	if (r == 0) {
		ck_assert_uint_lt(nv.vlen, size);
		if (nv.vlen != 0)
			memcpy(buf, nv.value, nv.vlen);
		buf[nv.vlen] = '\0';
	}
	return (r);
}

/* Append a child's name and a comma. */
static int
ls_cb(const char *name, void *arg)
{
	char	*buf = arg;

	strcat(buf, name);
	strcat(buf, ",");
	return (0);
}

/* DIRECTORY as "a,b,"; returns the store's result. */
static int
ls(struct store *st, struct txn *t, const struct actor *a, const char *path,
    char *buf)
{
	struct nodeview	nv;

	buf[0] = '\0';
	return (store_list(st, t, a, path, &nv, ls_cb, buf));
}

/* WRITE a string value. */
static int
wr(struct store *st, struct txn *t, const struct actor *a, const char *path,
    const char *value)
{
	return (store_write(st, t, a, path, value, (uint32_t)strlen(value)));
}

/* SET_PERMS from text. */
static int
sp(struct store *st, struct txn *t, const struct actor *a, const char *path,
    const char *text)
{
	struct perms	*ps = test_perms_text(text);
	int		 r;

	r = store_set_perms(st, t, a, path, ps);
	perms_unref(ps);
	return (r);
}

/* A node's permissions as text such as "n5,r7" (as dom0 sees them). */
static const char *
gp(struct store *st, struct txn *t, const char *path)
{
	static char	 out[128];
	struct nodeview	 nv;
	size_t		 len, i;

	ck_assert_int_eq(store_read(st, t, &dom0, path, &nv), 0);
	len = perms_format(nv.perms, out, sizeof out);
	for (i = 0; i + 1 < len; i++) {
		if (out[i] == '\0')
			out[i] = ',';
	}
	return (out);
}

/* Expect a node's value. */
static void
value_is(struct store *st, struct txn *t, const char *path, const char *want)
{
	char	buf[256];
	int	r;

	r = rd(st, t, &dom0, path, buf, sizeof buf);
	ck_assert_msg(r == 0, "read %s: %d", path, r);
	ck_assert_str_eq(buf, want);
}

/* Expect a node to be missing (as dom0 sees it). */
static void
missing(struct store *st, struct txn *t, const char *path)
{
	char	buf[256];

	ck_assert_int_eq(rd(st, t, &dom0, path, buf, sizeof buf), -ENOENT);
}

/* Expect a node's children. */
static void
children_are(struct store *st, struct txn *t, const char *path,
    const char *want)
{
	char	buf[1024];
	int	r;

	r = ls(st, t, &dom0, path, buf);
	ck_assert_msg(r == 0, "list %s: %d", path, r);
	ck_assert_str_eq(buf, want);
}

/* Make /local/domain/5 owned by dom5, as the toolstack does. */
static void
make_home5(struct store *st)
{
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/local/domain/5"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5", "n5"), 0);
}

/* A new store holds /, /tool and /tool/xenstored, owned by dom0. */
START_TEST(initial)
{
	struct store	*st = mkstore();

	children_are(st, NULL, "/", "tool,");
	children_are(st, NULL, "/tool", "xenstored,");
	value_is(st, NULL, "/tool/xenstored", "");
	ck_assert_str_eq(gp(st, NULL, "/"), "n0");
	ck_assert_str_eq(gp(st, NULL, "/tool/xenstored"), "n0");
	ck_assert_uint_eq(st->gen, 0);
	freestore(st);
}
END_TEST

/* Values are bytes; rewriting keeps the permissions. */
START_TEST(read_write)
{
	struct store	*st = mkstore();
	struct nodeview	 nv;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "one"), 0);
	value_is(st, NULL, "/a", "one");
	ck_assert_int_eq(sp(st, NULL, &dom0, "/a", "r7,w5"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "two"), 0);
	value_is(st, NULL, "/a", "two");
	ck_assert_str_eq(gp(st, NULL, "/a"), "r7,w5");
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", ""), 0);
	value_is(st, NULL, "/a", "");

	ck_assert_int_eq(store_write(st, NULL, &dom0, "/bin", "x\0y", 3), 0);
	ck_assert_int_eq(store_read(st, NULL, &dom0, "/bin", &nv), 0);
	ck_assert_uint_eq(nv.vlen, 3);
	ck_assert_mem_eq(nv.value, "x\0y", 3);
	missing(st, NULL, "/nope");
	freestore(st);
}
END_TEST

/* A write creates missing parents with empty values and the parent's
 * permissions, all in one commit. */
START_TEST(write_creates_parents)
{
	struct store	*st = mkstore();
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", "top"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/p", "r7,b5"), 0);
	gen = st->gen;
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/a/b/c", "leaf"), 0);
	ck_assert_uint_eq(st->gen, gen + 1);
	value_is(st, NULL, "/p/a", "");
	value_is(st, NULL, "/p/a/b", "");
	value_is(st, NULL, "/p/a/b/c", "leaf");
	ck_assert_str_eq(gp(st, NULL, "/p/a"), "r7,b5");
	ck_assert_str_eq(gp(st, NULL, "/p/a/b/c"), "r7,b5");
	children_are(st, NULL, "/p", "a,");
	children_are(st, NULL, "/p/a/b", "c,");
	freestore(st);
}
END_TEST

/* An unprivileged creator owns what it makes (parents included), keeps
 * the inherited default and others' entries, and loses its own. */
START_TEST(unprivileged_ownership)
{
	struct store	*st = mkstore();
	char		 buf[64];

	make_home5(st);
	ck_assert_int_eq(wr(st, NULL, &dom5, "/local/domain/5/x/y", "v"), 0);
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/x"), "n5");
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/x/y"), "n5");
	/* A privileged creator keeps the parent's owner. */
	ck_assert_int_eq(wr(st, NULL, &dom0, "/local/domain/5/z", "v"), 0);
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/z"), "n5");

	ck_assert_int_eq(wr(st, NULL, &dom0, "/shared", ""), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/shared", "r0,b5,r7"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom5, "/shared/q/r", "mine"), 0);
	/* Xen's construct_node: only the owner changes. */
	ck_assert_str_eq(gp(st, NULL, "/shared/q"), "r5,b5,r7");
	ck_assert_str_eq(gp(st, NULL, "/shared/q/r"), "r5,b5,r7");
	/* dom7 may read it (its entry), not write it. */
	ck_assert_int_eq(rd(st, NULL, &dom7, "/shared/q/r", buf, sizeof buf),
	    0);
	ck_assert_str_eq(buf, "mine");
	ck_assert_int_eq(wr(st, NULL, &dom7, "/shared/q/r", "x"), -EACCES);
	/* dom5 owns it now: it may set its permissions. */
	ck_assert_int_eq(sp(st, NULL, &dom5, "/shared/q/r", "n5"), 0);
	ck_assert_int_eq(rd(st, NULL, &dom7, "/shared/q/r", buf, sizeof buf),
	    -EACCES);
	freestore(st);
}
END_TEST

/* ENOENT becomes EACCES where the nearest existing ancestor grants the
 * caller none of the access it asked for. */
START_TEST(enoent_eacces)
{
	struct store	*st = mkstore();
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, "/secret", "s"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/pub", "p"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/pub", "r0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/wo", "w"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/wo", "n0,w5"), 0);

	/* Existing, not readable. */
	ck_assert_int_eq(rd(st, NULL, &dom5, "/secret", buf, 64), -EACCES);
	/* Missing below an unreadable node, however deep. */
	ck_assert_int_eq(rd(st, NULL, &dom5, "/secret/x", buf, 64), -EACCES);
	ck_assert_int_eq(rd(st, NULL, &dom5, "/secret/x/y/z", buf, 64),
	    -EACCES);
	ck_assert_int_eq(ls(st, NULL, &dom5, "/secret/x", buf), -EACCES);
	ck_assert_int_eq(rd(st, NULL, &dom5, "/nothing", buf, 64), -EACCES);
	/* Privileged callers always learn ENOENT. */
	ck_assert_int_eq(rd(st, NULL, &dom0, "/secret/x/y", buf, 64), -ENOENT);

	/* Below a readable node: ENOENT for reads, EACCES for writes. */
	ck_assert_int_eq(rd(st, NULL, &dom5, "/pub", buf, 64), 0);
	ck_assert_int_eq(rd(st, NULL, &dom5, "/pub/x", buf, 64), -ENOENT);
	ck_assert_int_eq(rd(st, NULL, &dom5, "/pub/x/y", buf, 64), -ENOENT);
	ck_assert_int_eq(ls(st, NULL, &dom5, "/pub/x", buf), -ENOENT);
	ck_assert_int_eq(wr(st, NULL, &dom5, "/pub/x", "v"), -EACCES);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom5, "/pub/x/y"), -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/pub/x/y"), -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/pub/x"), -EACCES);
	ck_assert_int_eq(sp(st, NULL, &dom5, "/pub/x", "n5"), -EACCES);

	/* Below a write-only node: reads EACCES, writes go through. */
	ck_assert_int_eq(rd(st, NULL, &dom5, "/wo", buf, 64), -EACCES);
	ck_assert_int_eq(rd(st, NULL, &dom5, "/wo/x", buf, 64), -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/wo/x/y"), -ENOENT);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/wo/x"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom5, "/wo/x", "n5"), -ENOENT);
	ck_assert_int_eq(wr(st, NULL, &dom5, "/wo/x", "v"), 0);
	ck_assert_str_eq(gp(st, NULL, "/wo/x"), "n5,w5");
	ck_assert_int_eq(rd(st, NULL, &dom5, "/wo/x", buf, 64), 0);
	ck_assert_str_eq(buf, "v");
	/* The nearest existing ancestor is now dom5's own node. */
	ck_assert_int_eq(rd(st, NULL, &dom5, "/wo/x/q/r", buf, 64), -ENOENT);
	freestore(st);
}
END_TEST

/* The same rules hold inside a transaction, on what it sees. */
START_TEST(enoent_eacces_txn)
{
	struct store	*st = mkstore();
	struct txn	*t;
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, "/secret", "s"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/pub", "p"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/pub", "r0"), 0);
	t = txn_create(st, 1, &dom5);
	ck_assert_int_eq(rd(st, t, &dom5, "/secret/x", buf, 64), -EACCES);
	ck_assert_int_eq(rd(st, t, &dom5, "/pub/x", buf, 64), -ENOENT);
	ck_assert_int_eq(wr(st, t, &dom5, "/pub/x", "v"), -EACCES);
	ck_assert_int_eq(store_rm(st, t, &dom5, "/pub"), -EACCES);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	freestore(st);
}
END_TEST

/* RM: subtrees go; a missing node is fine if its parent exists; "/" is
 * EINVAL (EACCES for who may not write it). */
START_TEST(rm_rules)
{
	struct store	*st = mkstore();
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/a/b/c", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a/d", "2"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a/b"), 0);
	missing(st, NULL, "/a/b");
	missing(st, NULL, "/a/b/c");
	children_are(st, NULL, "/a", "d,");

	gen = st->gen;
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a/b"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a/zz"), 0);
	ck_assert_uint_eq(st->gen, gen);	/* nothing happened */
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a/b/c"), -ENOENT);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/x/y/z"), -ENOENT);

	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/"), -EINVAL);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/"), -EACCES);
	children_are(st, NULL, "/", "tool,a,");

	/* Write access to the node itself is needed, not to descendants. */
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/a"), -EACCES);
	make_home5(st);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/local/domain/5/k/l", "x"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5/k/l", "n0"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/local/domain/5/k/l"),
	    -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom5, "/local/domain/5/k"), 0);
	missing(st, NULL, "/local/domain/5/k/l");

	/* Removing everything below the root works. */
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/tool"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/local"), 0);
	children_are(st, NULL, "/", "");
	ck_assert_uint_eq(st->tree->nnodes, 1);
	freestore(st);
}
END_TEST

/* MKDIR on an existing node changes nothing; it still needs write. */
START_TEST(mkdir_rules)
{
	struct store	*st = mkstore();
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/m", "keep"), 0);
	gen = st->gen;
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/m"), 0);
	value_is(st, NULL, "/m", "keep");
	ck_assert_uint_eq(st->gen, gen);
	ck_assert_uint_eq(st->tree->nnodes, 4);

	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/m/a/b"), 0);
	ck_assert_uint_eq(st->gen, gen + 1);
	value_is(st, NULL, "/m/a", "");
	value_is(st, NULL, "/m/a/b", "");

	ck_assert_int_eq(sp(st, NULL, &dom0, "/m", "r0"), 0);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom5, "/m"), -EACCES);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/m", "w0"), 0);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom5, "/m"), 0);
	value_is(st, NULL, "/m", "keep");
	freestore(st);
}
END_TEST

/* SET_PERMS: the owner (or privileged) with write access; only the
 * privileged may give a node away. */
START_TEST(set_perms_rules)
{
	struct store	*st = mkstore();
	uint64_t	 gen;

	make_home5(st);
	ck_assert_int_eq(wr(st, NULL, &dom5, "/local/domain/5/n", "v"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom5, "/local/domain/5/n", "n5,b7"), 0);
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/n"), "n5,b7");
	/* Giving it away. */
	ck_assert_int_eq(sp(st, NULL, &dom5, "/local/domain/5/n", "n7"),
	    -EPERM);
	/* dom7 may write it, but is not the owner. */
	ck_assert_int_eq(wr(st, NULL, &dom7, "/local/domain/5/n", "w"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom7, "/local/domain/5/n", "n5"),
	    -EACCES);
	/* Acting for the owner is owning. */
	ck_assert_int_eq(sp(st, NULL, &dom3_for5, "/local/domain/5/n",
	    "r5"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom3_for5, "/local/domain/5/n",
	    "r3"), -EPERM);
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/n"), "r5");
	/* The privileged may change the owner. */
	gen = st->gen;
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5/n", "b7,n5"), 0);
	ck_assert_uint_eq(st->gen, gen + 1);
	ck_assert_str_eq(gp(st, NULL, "/local/domain/5/n"), "b7,n5");
	ck_assert_int_eq(sp(st, NULL, &dom5, "/local/domain/5/n", "n5"),
	    -EACCES);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5/none", "n5"),
	    -ENOENT);
	ck_assert_int_eq(sp(st, NULL, &dom5, "/local/domain/5/none", "n5"),
	    -ENOENT);
	ck_assert_int_eq(sp(st, NULL, &dom5, "/tool/none", "n5"), -EACCES);
	freestore(st);
}
END_TEST

/* Children list in insertion order; a re-made child goes last. */
START_TEST(list_order)
{
	struct store	*st = mkstore();

	ck_assert_int_eq(wr(st, NULL, &dom0, "/l/c", ""), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/l/a", ""), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/l/b", ""), 0);
	children_are(st, NULL, "/l", "c,a,b,");
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/l/c"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/l/c", ""), 0);
	children_are(st, NULL, "/l", "a,b,c,");
	freestore(st);
}
END_TEST

/* A transaction sees its own changes; nobody else does until commit. */
START_TEST(txn_isolation)
{
	struct store	*st = mkstore();
	struct txn	*t1, *t2;
	char		 buf[64];

	t1 = txn_create(st, 1, &dom0);
	t2 = txn_create(st, 2, &dom0);
	ck_assert_uint_eq(txn_id(t1), 1);
	ck_assert(!txn_is_implicit(t1));
	ck_assert_int_eq(wr(st, t1, &dom0, "/a/b", "mine"), 0);
	value_is(st, t1, "/a/b", "mine");
	value_is(st, t1, "/a", "");
	children_are(st, t1, "/", "tool,a,");
	ck_assert_int_eq(rd(st, NULL, &dom0, "/a/b", buf, 64), -ENOENT);
	ck_assert_int_eq(rd(st, t2, &dom0, "/a/b", buf, 64), -ENOENT);
	children_are(st, NULL, "/", "tool,");
	children_are(st, t2, "/", "tool,");
	ck_assert_uint_eq(st->gen, 0);

	ck_assert_int_eq(txn_end(t1, true), 0);
	txn_free(t1);
	value_is(st, NULL, "/a/b", "mine");
	children_are(st, NULL, "/", "tool,a,");
	/* t2 saw /a/b missing and "/" without a: it may not commit. */
	ck_assert_int_eq(wr(st, t2, &dom0, "/z", "z"), 0);
	ck_assert_int_eq(txn_end(t2, true), -EAGAIN);
	txn_free(t2);
	missing(st, NULL, "/z");
	ck_assert_uint_eq(st->gen, 1);
	ck_assert_uint_eq(st->conflicts, 1);
	freestore(st);
}
END_TEST

/* A commit applies everything as one generation; an abort nothing. */
START_TEST(txn_atomic)
{
	struct store	*st = mkstore();
	struct txn	*t;
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/old", "o"), 0);
	gen = st->gen;
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/x", "1"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/y/z", "2"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/old"), 0);
	ck_assert_int_eq(sp(st, t, &dom0, "/tool", "r0"), 0);
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/m"), 0);
	missing(st, NULL, "/x");
	value_is(st, NULL, "/old", "o");
	ck_assert_str_eq(gp(st, NULL, "/tool"), "n0");
	ck_assert_str_eq(gp(st, t, "/tool"), "r0");
	ck_assert_uint_eq(st->gen, gen);
	ck_assert_uint_gt(txn_nnodes(t), 5);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(st->gen, gen + 1);
	value_is(st, NULL, "/x", "1");
	value_is(st, NULL, "/y/z", "2");
	value_is(st, NULL, "/m", "");
	missing(st, NULL, "/old");
	ck_assert_str_eq(gp(st, NULL, "/tool"), "r0");
	children_are(st, NULL, "/", "tool,x,y,m,");
	/* Every node the commit changed carries its generation. */
	ck_assert_uint_eq(tree_lookup(st->tree, "/x")->gen, gen + 1);
	ck_assert_uint_eq(tree_lookup(st->tree, "/y/z")->vgen, gen + 1);
	ck_assert_uint_eq(tree_lookup(st->tree, "/tool")->vgen, gen + 1);
	ck_assert_uint_eq(st->tree->root->gen, gen + 1);

	gen = st->gen;
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/x", "changed"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/y"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/new", ""), 0);
	ck_assert_int_eq(txn_end(t, false), 0);
	txn_free(t);
	ck_assert_uint_eq(st->gen, gen);
	value_is(st, NULL, "/x", "1");
	value_is(st, NULL, "/y/z", "2");
	missing(st, NULL, "/new");
	freestore(st);
}
END_TEST

/* The generation advances by exactly one per commit that changes
 * something, inside a transaction or not. */
START_TEST(txn_generation)
{
	struct store	*st = mkstore();
	struct txn	*t;
	uint64_t	 i;

	for (i = 1; i <= 5; i++) {
		ck_assert_int_eq(wr(st, NULL, &dom0, "/g/a/b/c", "v"), 0);
		ck_assert_uint_eq(st->gen, 2 * i - 1);
		ck_assert_uint_eq(st->commits, 2 * i - 1);
		t = txn_create(st, (uint32_t)i, &dom0);
		ck_assert_int_eq(wr(st, t, &dom0, "/g/x", "1"), 0);
		ck_assert_int_eq(wr(st, t, &dom0, "/g/y", "2"), 0);
		ck_assert_int_eq(store_rm(st, t, &dom0, "/g/a"), 0);
		ck_assert_int_eq(txn_end(t, true), 0);
		txn_free(t);
		ck_assert_uint_eq(st->gen, 2 * i);
	}
	/* A read-only transaction changes nothing. */
	t = txn_create(st, 9, &dom0);
	value_is(st, t, "/g/x", "1");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(st->gen, 10);
	freestore(st);
}
END_TEST

/* Changes to what a transaction read make its commit fail (EAGAIN). */
START_TEST(txn_conflicts)
{
	struct store	*st = mkstore();
	struct txn	*t;
	char		 buf[64];
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "v0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/c", ""), 0);

	/* A value it read was written (even with the same value). */
	t = txn_create(st, 1, &dom0);
	value_is(st, t, "/k", "v0");
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "v0"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "o"), 0);
	gen = st->gen;
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	ck_assert_uint_eq(st->gen, gen);
	missing(st, NULL, "/other");

	/* A node it read was removed. */
	t = txn_create(st, 2, &dom0);
	value_is(st, t, "/k", "v0");
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/k"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A node it found missing was made. */
	t = txn_create(st, 3, &dom0);
	ck_assert_int_eq(rd(st, t, &dom0, "/k", buf, 64), -ENOENT);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "back"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A node it wrote (without reading) was written. */
	t = txn_create(st, 4, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/k", "mine"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "theirs"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	value_is(st, NULL, "/k", "theirs");

	/* Permissions of a node it read changed. */
	t = txn_create(st, 5, &dom0);
	value_is(st, t, "/k", "theirs");
	ck_assert_int_eq(sp(st, NULL, &dom0, "/k", "r0"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A listed node gained a child. */
	t = txn_create(st, 6, &dom0);
	children_are(st, t, "/p", "c,");
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/d", ""), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/q", ""), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A subtree it removed gained a node. */
	t = txn_create(st, 7, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/p"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/c/deep", ""), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	value_is(st, NULL, "/p/c/deep", "");

	/* Both created the same node. */
	t = txn_create(st, 8, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/p/same", "t"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/same", "other"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	value_is(st, NULL, "/p/same", "other");
	ck_assert_uint_eq(st->conflicts, 8);
	freestore(st);
}
END_TEST

/* Creating different children under one parent does not conflict. */
START_TEST(txn_sibling_creation)
{
	struct store	*st = mkstore();
	struct txn	*t1, *t2, *t3;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", ""), 0);
	t1 = txn_create(st, 1, &dom0);
	t2 = txn_create(st, 2, &dom0);
	t3 = txn_create(st, 3, &dom0);
	ck_assert_int_eq(wr(st, t1, &dom0, "/p/x", "1"), 0);
	ck_assert_int_eq(wr(st, t2, &dom0, "/p/y/deep", "2"), 0);
	ck_assert_int_eq(store_mkdir(st, t3, &dom0, "/p/z"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/w", "outside"), 0);
	ck_assert_int_eq(txn_end(t2, true), 0);
	ck_assert_int_eq(txn_end(t1, true), 0);
	ck_assert_int_eq(txn_end(t3, true), 0);
	txn_free(t1);
	txn_free(t2);
	txn_free(t3);
	children_are(st, NULL, "/p", "w,y,x,z,");
	value_is(st, NULL, "/p/y/deep", "2");
	ck_assert_uint_eq(st->conflicts, 0);
	freestore(st);
}
END_TEST

/* Commits to nodes a transaction never touched do not conflict. */
START_TEST(txn_unrelated)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "a"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/c/d", "d"), 0);
	t = txn_create(st, 1, &dom0);
	value_is(st, t, "/a", "a");
	ck_assert_int_eq(wr(st, t, &dom0, "/b", "b"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/c/d", "d2"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/c"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a2", "x"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a/child", "x"), 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	value_is(st, NULL, "/b", "b");
	freestore(st);
}
END_TEST

/* Removing a node and making it again in one transaction replaces it:
 * old children gone, new value, listed where a new child goes. */
START_TEST(txn_delete_recreate)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/d/c1", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/d/c2/g", "2"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/d", "dv"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/d", "r0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/e", ""), 0);

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/d"), 0);
	missing(st, t, "/d");
	missing(st, t, "/d/c1");
	missing(st, t, "/d/c2/g");
	children_are(st, t, "/", "tool,e,");
	ck_assert_int_eq(wr(st, t, &dom0, "/d/new", "n"), 0);
	value_is(st, t, "/d", "");
	ck_assert_str_eq(gp(st, t, "/d"), "n0");
	children_are(st, t, "/d", "new,");
	missing(st, t, "/d/c1");
	children_are(st, t, "/", "tool,e,d,");
	value_is(st, NULL, "/d", "dv");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);

	children_are(st, NULL, "/", "tool,e,d,");
	children_are(st, NULL, "/d", "new,");
	value_is(st, NULL, "/d", "");
	value_is(st, NULL, "/d/new", "n");
	ck_assert_str_eq(gp(st, NULL, "/d"), "n0");
	missing(st, NULL, "/d/c1");
	missing(st, NULL, "/d/c2");
	missing(st, NULL, "/d/c2/g");
	ck_assert_uint_eq(st->tree->nnodes, 6);
	freestore(st);
}
END_TEST

/* A child removed and made again inside a transaction goes last, as it
 * would outside one (and as Xen lists it). */
START_TEST(txn_recreate_child_order)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/a", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/b", "2"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/c", "3"), 0);

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/o/a"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/n", "new"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/a", "again"), 0);
	children_are(st, t, "/o", "b,c,n,a,");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	children_are(st, NULL, "/o", "b,c,n,a,");
	value_is(st, NULL, "/o/a", "again");

	/* Made, removed and made again: last again. */
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/x", ""), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/y", ""), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/o/x"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/x", ""), 0);
	children_are(st, t, "/o", "b,c,n,a,y,x,");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	children_are(st, NULL, "/o", "b,c,n,a,y,x,");
	freestore(st);
}
END_TEST

/* Removing a subtree inside a transaction, then listing and rebuilding
 * part of it. */
START_TEST(txn_rm_subtree_list)
{
	struct store	*st = mkstore();
	struct txn	*t;
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/a", "a"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/b/c/d", "d"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/b/e", "e"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/f", "f"), 0);

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s/b"), 0);
	children_are(st, t, "/s", "a,f,");
	ck_assert_int_eq(ls(st, t, &dom0, "/s/b", buf), -ENOENT);
	ck_assert_int_eq(ls(st, t, &dom0, "/s/b/c", buf), -ENOENT);
	missing(st, t, "/s/b/c/d");
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s/b/c"), -ENOENT);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s/b"), 0);
	children_are(st, NULL, "/s/b", "c,e,");

	ck_assert_int_eq(wr(st, t, &dom0, "/s/b/c/x", "x"), 0);
	children_are(st, t, "/s", "a,f,b,");
	children_are(st, t, "/s/b", "c,");
	children_are(st, t, "/s/b/c", "x,");
	missing(st, t, "/s/b/e");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);

	children_are(st, NULL, "/s", "a,f,b,");
	children_are(st, NULL, "/s/b", "c,");
	children_are(st, NULL, "/s/b/c", "x,");
	missing(st, NULL, "/s/b/c/d");
	missing(st, NULL, "/s/b/e");
	value_is(st, NULL, "/s/b", "");

	/* Removing everything below the root inside a transaction. */
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/tool"), 0);
	children_are(st, t, "/", "");
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	children_are(st, NULL, "/", "");
	ck_assert_uint_eq(st->tree->nnodes, 1);
	ck_assert_uint_eq(st->tree->path_bytes, 2);
	ck_assert_uint_eq(st->tree->value_bytes, 0);
	freestore(st);
}
END_TEST

struct commits {
	unsigned	calls;
	uint64_t	gen;
	bool		in_txn;
	char		paths[512];
};

/* Record what a commit reported. */
static void
commit_cb(uint64_t gen, const struct actor *a, bool in_txn,
    const struct store_change *chg, size_t n, void *arg)
{
	struct commits	*c = arg;
	size_t		 i;

	(void)a;
	c->calls++;
	c->gen = gen;
	c->in_txn = in_txn;
	c->paths[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(c->paths, chg[i].deleted ? "-" : "+");
		strcat(c->paths, chg[i].path);
		if (!chg[i].deleted)
			strncat(c->paths, chg[i].value ? chg[i].value : "",
			    chg[i].vlen);
		strcat(c->paths, ";");
	}
}

/* The commit callback sees each commit once, with its changes. */
START_TEST(commit_callback)
{
	struct store	*st = mkstore();
	struct commits	 c;
	struct txn	*t;

	memset(&c, 0, sizeof c);
	st->commit_cb = commit_cb;
	st->commit_arg = &c;
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "1"), 0);
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_uint_eq(c.gen, st->gen);
	ck_assert(!c.in_txn);
	ck_assert_ptr_nonnull(strstr(c.paths, "+/a1;"));

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/a"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/b", "2"), 0);
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(c.calls, 2);
	ck_assert(c.in_txn);
	ck_assert_ptr_nonnull(strstr(c.paths, "-/a;"));
	ck_assert_ptr_nonnull(strstr(c.paths, "+/b2;"));

	/* Nothing for aborts, conflicts and changes that change nothing. */
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/c", "3"), 0);
	ck_assert_int_eq(txn_end(t, false), 0);
	txn_free(t);
	t = txn_create(st, 3, &dom0);
	value_is(st, t, "/b", "2");
	ck_assert_int_eq(wr(st, t, &dom0, "/c", "3"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/b", "x"), 0);
	ck_assert_uint_eq(c.calls, 3);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/b"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/nothing"), 0);
	ck_assert_uint_eq(c.calls, 3);
	freestore(st);
}
END_TEST

/*
 * The serializability property. A random schedule interleaves 2-4
 * transactions (and some single requests outside any) on a small key
 * space; then the final tree must equal applying the committed ones in
 * commit order to a simple model, and every result a committed
 * transaction saw must be what it sees when replayed there.
 */

enum op_type { OP_READ, OP_LIST, OP_WRITE, OP_MKDIR, OP_RM };

struct op {
	enum op_type	 type;
	const char	*path;
	char		 value[8];
	int		 rc;		/* what the engine answered */
	char		 out[128];	/* value read or children listed */
};

#define MAX_OPS		6
#define MAX_TXNS	4

struct rtxn {
	struct txn	*txn;
	struct op	 ops[MAX_OPS];
	int		 nops;
	int		 next;
	bool		 done;
};

#define MODEL_MAX	512
struct mnode {
	char	path[32];
	char	value[8];
	bool	live;
};
struct model {
	struct mnode	n[MODEL_MAX];
	size_t		len;
};

static const char *keys[] = {
	"/k/a", "/k/b", "/k/c", "/k/a/x", "/k/a/y", "/k/b/x", "/k/a/x/q",
	"/k/c/z", "/k", "/k/b/x/r",
};

/* A small deterministic generator (xorshift64*). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* The live model node at path. */
static struct mnode *
model_find(struct model *m, const char *path)
{
	size_t	i;

	for (i = 0; i < m->len; i++) {
		if (m->n[i].live && strcmp(m->n[i].path, path) == 0)
			return (&m->n[i]);
	}
	return (NULL);
}

/* The parent of a path, into buf. */
static void
parent_of(const char *path, char *buf)
{
	const char	*slash = strrchr(path, '/');
	size_t		 len = slash == path ? 1 : (size_t)(slash - path);

	memcpy(buf, path, len);
	buf[len] = '\0';
}

/* Is path below top (strictly)? */
static bool
strictly_below(const char *path, const char *top)
{
	size_t	len = strlen(top);

	if (strcmp(top, "/") == 0)
		return (path[0] == '/' && path[1] != '\0');
	return (strncmp(path, top, len) == 0 && path[len] == '/');
}

/* Make a node and its missing parents, appended to their parents' lists;
 * compacts the model when it is full. */
static void
model_create(struct model *m, const char *path, const char *value)
{
	struct mnode	*mn;
	char		 parent[32];
	size_t		 i, k;

	if (model_find(m, path) != NULL)
		return;
	parent_of(path, parent);
	model_create(m, parent, "");
	if (m->len == MODEL_MAX) {
		for (i = k = 0; i < m->len; i++) {
			if (m->n[i].live)
				m->n[k++] = m->n[i];
		}
		m->len = k;
	}
	mn = &m->n[m->len++];
	strcpy(mn->path, path);
	strcpy(mn->value, value);
	mn->live = true;
}

/* Apply one operation to the model; its result into rc and out. Returns
 * whether it changed the store. */
static bool
model_apply(struct model *m, const struct op *op, int *rc, char *out)
{
	struct mnode	*mn = model_find(m, op->path);
	char		 parent[32];
	size_t		 i, plen;

	*rc = 0;
	out[0] = '\0';
	switch (op->type) {
	case OP_READ:
		if (mn == NULL)
			*rc = -ENOENT;
		else
			strcpy(out, mn->value);
		return (false);
	case OP_LIST:
		if (mn == NULL) {
			*rc = -ENOENT;
			return (false);
		}
		plen = strcmp(op->path, "/") == 0 ? 1 : strlen(op->path) + 1;
		for (i = 0; i < m->len; i++) {
			if (!m->n[i].live || !strictly_below(m->n[i].path,
			    op->path) || strchr(m->n[i].path + plen, '/')
			    != NULL)
				continue;
			strcat(out, m->n[i].path + plen);
			strcat(out, ",");
		}
		return (false);
	case OP_WRITE:
		if (mn != NULL)
			strcpy(mn->value, op->value);
		else
			model_create(m, op->path, op->value);
		return (true);
	case OP_MKDIR:
		if (mn != NULL)
			return (false);
		model_create(m, op->path, "");
		return (true);
	case OP_RM:
		if (mn == NULL) {
			parent_of(op->path, parent);
			if (model_find(m, parent) == NULL)
				*rc = -ENOENT;
			return (false);
		}
		for (i = 0; i < m->len; i++) {
			if (m->n[i].live && strictly_below(m->n[i].path,
			    op->path))
				m->n[i].live = false;
		}
		mn->live = false;
		return (true);
	}
	return (false);
}

/* Run one operation in the engine, recording its result. */
static void
engine_apply(struct store *st, struct txn *t, struct op *op)
{
	switch (op->type) {
	case OP_READ:
		op->rc = rd(st, t, &dom0, op->path, op->out, sizeof op->out);
		break;
	case OP_LIST:
		op->rc = ls(st, t, &dom0, op->path, op->out);
		break;
	case OP_WRITE:
		op->rc = wr(st, t, &dom0, op->path, op->value);
		break;
	case OP_MKDIR:
		op->rc = store_mkdir(st, t, &dom0, op->path);
		break;
	case OP_RM:
		op->rc = store_rm(st, t, &dom0, op->path);
		break;
	}
}

/* A random operation on the key space. */
static void
random_op(uint64_t *s, struct op *op)
{
	unsigned	r = (unsigned)(rnd(s) % 100);

	memset(op, 0, sizeof *op);
	op->path = keys[rnd(s) % (sizeof keys / sizeof keys[0])];
	if (r < 25)
		op->type = OP_READ;
	else if (r < 40)
		op->type = OP_LIST;
	else if (r < 70)
		op->type = OP_WRITE;
	else if (r < 80)
		op->type = OP_MKDIR;
	else
		op->type = OP_RM;
	snprintf(op->value, sizeof op->value, "v%u",
	    (unsigned)(rnd(s) % 1000));
}

/* Replay an operation on the model, checking the engine's result. */
static bool
replay(struct model *m, const struct op *op, uint64_t seed, const char *who)
{
	char	out[128];
	int	rc;
	bool	changed;

	changed = model_apply(m, op, &rc, out);
	ck_assert_msg(rc == op->rc && strcmp(out, op->out) == 0,
	    "seed %llu %s: op %d on %s: engine %d \"%s\", serial %d \"%s\"",
	    (unsigned long long)seed, who, op->type, op->path, op->rc,
	    op->out, rc, out);
	return (changed);
}

/* The engine's tree below /k equals the model (values, child order). */
static void
compare_tree(struct store *st, struct model *m, uint64_t seed)
{
	struct op	 op;
	size_t		 i, live = 0;
	char		 out[128];
	int		 rc;
	struct node	*k = tree_lookup(st->tree, "/k");
	uint64_t	 count = 0;

	ck_assert_int_eq(tree_check(st->tree, stderr), 0);
	for (i = 0; i < m->len; i++) {
		if (!m->n[i].live)
			continue;
		live++;
		memset(&op, 0, sizeof op);
		op.path = m->n[i].path;
		op.type = OP_READ;
		engine_apply(st, NULL, &op);
		model_apply(m, &op, &rc, out);
		ck_assert_msg(op.rc == rc && strcmp(op.out, out) == 0,
		    "seed %llu: %s is \"%s\" (%d), serially \"%s\" (%d)",
		    (unsigned long long)seed, op.path, op.out, op.rc, out, rc);
		op.type = OP_LIST;
		engine_apply(st, NULL, &op);
		model_apply(m, &op, &rc, out);
		ck_assert_msg(op.rc == rc && strcmp(op.out, out) == 0,
		    "seed %llu: %s lists \"%s\", serially \"%s\"",
		    (unsigned long long)seed, op.path, op.out, out);
	}
	/* Nothing more: the model holds /, /tool/xenstored and /k's
	 * subtree. */
	if (k != NULL) {
		struct node	*stack[64];
		int		 sp = 0;

		stack[sp++] = k;
		while (sp > 0) {
			struct node	*n = stack[--sp], *c;

			count++;
			for (c = n->child_first; c != NULL; c = c->next)
				stack[sp++] = c;
		}
	}
	ck_assert_uint_eq(count + 3, live);
	ck_assert_uint_eq(st->tree->nnodes, live);
}

/* One random schedule of transactions; returns commits and conflicts. */
static void
run_schedule(uint64_t seed, unsigned *ncommits, unsigned *nconflicts)
{
	struct store	*st = mkstore();
	struct model	*m = calloc(1, sizeof *m);
	struct rtxn	 tx[MAX_TXNS];
	struct op	 op;
	uint64_t	 s = seed * 0x9e3779b97f4a7c15ULL + 1, gen;
	int		 ntx, i, j, active, rc;
	bool		 changed;
	char		 who[32];

	/* The same starting tree in both. */
	strcpy(m->n[0].path, "/");
	strcpy(m->n[1].path, "/tool");
	strcpy(m->n[2].path, "/tool/xenstored");
	m->n[0].live = m->n[1].live = m->n[2].live = true;
	m->len = 3;
	memset(&op, 0, sizeof op);
	for (i = 0; i < 4; i++) {
		random_op(&s, &op);
		op.type = OP_WRITE;
		engine_apply(st, NULL, &op);
		ck_assert_int_eq(op.rc, 0);
		model_apply(m, &op, &rc, op.out);
	}

	ntx = 2 + (int)(rnd(&s) % (MAX_TXNS - 1));
	memset(tx, 0, sizeof tx);
	for (i = 0; i < ntx; i++) {
		tx[i].txn = txn_create(st, (uint32_t)i + 1, &dom0);
		tx[i].nops = 1 + (int)(rnd(&s) % MAX_OPS);
		for (j = 0; j < tx[i].nops; j++)
			random_op(&s, &tx[i].ops[j]);
	}
	active = ntx;
	while (active > 0) {
		if (rnd(&s) % 8 == 0) {
			/* A request outside any transaction. */
			random_op(&s, &op);
			gen = st->gen;
			engine_apply(st, NULL, &op);
			changed = replay(m, &op, seed, "outside");
			ck_assert_uint_eq(st->gen, gen + (changed ? 1 : 0));
			continue;
		}
		i = (int)(rnd(&s) % (uint64_t)ntx);
		if (tx[i].done)
			continue;
		if (tx[i].next < tx[i].nops) {
			engine_apply(st, tx[i].txn, &tx[i].ops[tx[i].next++]);
			continue;
		}
		tx[i].done = true;
		active--;
		if (rnd(&s) % 10 == 0) {
			gen = st->gen;
			ck_assert_int_eq(txn_end(tx[i].txn, false), 0);
			ck_assert_uint_eq(st->gen, gen);
			continue;
		}
		gen = st->gen;
		rc = txn_end(tx[i].txn, true);
		if (rc == -EAGAIN) {
			ck_assert_uint_eq(st->gen, gen);
			(*nconflicts)++;
			continue;
		}
		ck_assert_int_eq(rc, 0);
		(*ncommits)++;
		changed = false;
		snprintf(who, sizeof who, "txn %d", i + 1);
		for (j = 0; j < tx[i].nops; j++) {
			if (replay(m, &tx[i].ops[j], seed, who) &&
			    tx[i].ops[j].rc == 0)
				changed = true;
		}
		ck_assert_uint_eq(st->gen, gen + (changed ? 1 : 0));
	}
	compare_tree(st, m, seed);
	for (i = 0; i < ntx; i++)
		txn_free(tx[i].txn);
	free(m);
	freestore(st);
}

#define RUNS	4000	/* schedules per loop of the test below */

/* Thousands of random schedules with fixed seeds. */
START_TEST(serializable)
{
	unsigned	ncommits = 0, nconflicts = 0;
	uint64_t	seed;

	for (seed = (uint64_t)_i * RUNS + 1; seed <= (uint64_t)_i * RUNS +
	    RUNS; seed++)
		run_schedule(seed, &ncommits, &nconflicts);
	if (getenv("CHECK_STORE_VERBOSE") != NULL)
		fprintf(stderr, "%u commits, %u conflicts\n", ncommits,
		    nconflicts);
	/* The schedules exercise both outcomes. */
	ck_assert_uint_gt(ncommits, RUNS / 2);
	ck_assert_uint_gt(nconflicts, RUNS / 10);
}
END_TEST

/* All of the store's tests. */
static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = tcase_create("ops");
	tcase_add_test(tc, initial);
	tcase_add_test(tc, read_write);
	tcase_add_test(tc, write_creates_parents);
	tcase_add_test(tc, unprivileged_ownership);
	tcase_add_test(tc, enoent_eacces);
	tcase_add_test(tc, enoent_eacces_txn);
	tcase_add_test(tc, rm_rules);
	tcase_add_test(tc, mkdir_rules);
	tcase_add_test(tc, set_perms_rules);
	tcase_add_test(tc, list_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("txn");
	tcase_add_test(tc, txn_isolation);
	tcase_add_test(tc, txn_atomic);
	tcase_add_test(tc, txn_generation);
	tcase_add_test(tc, txn_conflicts);
	tcase_add_test(tc, txn_sibling_creation);
	tcase_add_test(tc, txn_unrelated);
	tcase_add_test(tc, txn_delete_recreate);
	tcase_add_test(tc, txn_recreate_child_order);
	tcase_add_test(tc, txn_rm_subtree_list);
	tcase_add_test(tc, commit_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("serializable");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, serializable, 0, 4);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(store_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
