/* Unit tests for xsd/store.c and xsd/txn.c: the store's operations and
 * permission rules, and transactions (isolation, atomic commit, the
 * conflict rule). The conflict cases one by one and the serializability
 * property are in check_txn.c. */
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
#include "storetest.h"
#include "testlib.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };
static const struct actor dom5 = { 5, PERMS_NO_TARGET, 0 };
static const struct actor dom7 = { 7, PERMS_NO_TARGET, 0 };
static const struct actor dom3_for5 = { 3, 5, 0 };

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

/* Changes to what a transaction read make its commit fail (EAGAIN), if
 * it changes something (one that does not always succeeds). */
START_TEST(txn_conflicts)
{
	struct store	*st = mkstore();
	struct txn	*t;
	char		 buf[64];
	uint64_t	 gen;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "v0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/c", ""), 0);

	/* A value it read was written. */
	t = txn_create(st, 1, &dom0);
	value_is(st, t, "/k", "v0");
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "v1"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "o"), 0);
	gen = st->gen;
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	ck_assert_uint_eq(st->gen, gen);
	missing(st, NULL, "/other");

	/* A node it read was removed. */
	t = txn_create(st, 2, &dom0);
	value_is(st, t, "/k", "v1");
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/k"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "o"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A node it found missing was made. */
	t = txn_create(st, 3, &dom0);
	ck_assert_int_eq(rd(st, t, &dom0, "/k", buf, 64), -ENOENT);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "back"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "o"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);

	/* A node it read and wrote was written. */
	t = txn_create(st, 4, &dom0);
	value_is(st, t, "/k", "back");
	ck_assert_int_eq(wr(st, t, &dom0, "/k", "mine"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/k", "theirs"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	value_is(st, NULL, "/k", "theirs");

	/* Permissions of a node it read changed. */
	t = txn_create(st, 5, &dom0);
	value_is(st, t, "/k", "theirs");
	ck_assert_int_eq(sp(st, NULL, &dom0, "/k", "r0"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "o"), 0);
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

	/* Both created the same node, nobody having seen it missing: the
	 * branch's write goes over the other (as run alone at its end). */
	t = txn_create(st, 8, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/p/same", "t"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/same", "other"), 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	value_is(st, NULL, "/p/same", "t");

	/* The same after reading it missing: that read would differ now. */
	t = txn_create(st, 9, &dom0);
	missing(st, t, "/p/again");
	ck_assert_int_eq(wr(st, t, &dom0, "/p/again", "t"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/again", "other"), 0);
	ck_assert_int_eq(txn_end(t, true), -EAGAIN);
	txn_free(t);
	value_is(st, NULL, "/p/again", "other");
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
