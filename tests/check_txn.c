/* Unit tests for transactions (xsd/txn.c): each case of the conflict rule
 * documented in docs/store.md ("Transactions: when they conflict"),
 * snapshot reads and their undo log, and the serializability property. */
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

/* End and free a transaction; its result. */
static int
end(struct txn *t)
{
	int	r = txn_end(t, true);

	txn_free(t);
	return (r);
}

/* Case "sibling creation": transactions creating different children of
 * one parent (two guests' homes, two backends) all commit. */
START_TEST(sibling_creation)
{
	struct store	*st = mkstore();
	struct txn	*t1, *t2, *t3, *t4;

	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/local/domain"), 0);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, "/backend/vbd"), 0);
	t1 = txn_create(st, 1, &dom0);
	t2 = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t1, &dom0, "/local/domain/5/name", "a"), 0);
	ck_assert_int_eq(wr(st, t1, &dom0, "/backend/vbd/5/51712", "x"), 0);
	ck_assert_int_eq(wr(st, t2, &dom0, "/local/domain/7/name", "b"), 0);
	ck_assert_int_eq(wr(st, t2, &dom0, "/backend/vbd/7/51712", "y"), 0);
	/* Something outside, under the same parents, meanwhile. */
	ck_assert_int_eq(wr(st, NULL, &dom0, "/local/domain/9", ""), 0);
	ck_assert_int_eq(end(t2), 0);
	/* A guest making siblings in its own home, too. */
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/9", "n9"), 0);
	t3 = txn_create(st, 3, &dom0);
	t4 = txn_create(st, 4, &dom0);
	ck_assert_int_eq(end(t1), 0);
	ck_assert_int_eq(store_mkdir(st, t3, &dom0, "/local/domain/9/x"), 0);
	ck_assert_int_eq(store_mkdir(st, t4, &dom0, "/local/domain/9/y"), 0);
	ck_assert_int_eq(end(t4), 0);
	ck_assert_int_eq(end(t3), 0);
	children_are(st, NULL, "/local/domain", "9,7,5,");
	children_are(st, NULL, "/backend/vbd", "7,5,");
	children_are(st, NULL, "/local/domain/9", "y,x,");
	ck_assert_uint_eq(st->conflicts, 0);
	freestore(st);
}
END_TEST

/* Case "same node written by both": blind writes merge (the last commit
 * wins, as if run one after the other); if either read the node first,
 * the later one conflicts. */
START_TEST(same_node_written)
{
	struct store	*st = mkstore();
	struct txn	*t1, *t2;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/n", "0"), 0);
	t1 = txn_create(st, 1, &dom0);
	t2 = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t1, &dom0, "/n", "1"), 0);
	ck_assert_int_eq(wr(st, t2, &dom0, "/n", "2"), 0);
	ck_assert_int_eq(end(t2), 0);
	ck_assert_int_eq(end(t1), 0);
	value_is(st, NULL, "/n", "1");

	/* Read-modify-write: the second one conflicts. */
	t1 = txn_create(st, 3, &dom0);
	t2 = txn_create(st, 4, &dom0);
	value_is(st, t1, "/n", "1");
	value_is(st, t2, "/n", "1");
	ck_assert_int_eq(wr(st, t1, &dom0, "/n", "11"), 0);
	ck_assert_int_eq(wr(st, t2, &dom0, "/n", "12"), 0);
	ck_assert_int_eq(end(t1), 0);
	ck_assert_int_eq(end(t2), -EAGAIN);
	value_is(st, NULL, "/n", "11");
	freestore(st);
}
END_TEST

/* Case "blind write vs read": a write does not read the value it
 * replaces; a transaction that read a value another one then wrote
 * conflicts. An unprivileged writer reads the permissions (its access
 * check), a privileged one does not. */
START_TEST(blind_write_vs_read)
{
	struct store	*st = mkstore();
	struct txn	*reader, *writer;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/x", "0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/local/domain/5/x", "0"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5", "n5"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5/x", "n5"), 0);

	reader = txn_create(st, 1, &dom0);
	writer = txn_create(st, 2, &dom0);
	value_is(st, reader, "/x", "0");
	ck_assert_int_eq(wr(st, reader, &dom0, "/y", "from x"), 0);
	ck_assert_int_eq(wr(st, writer, &dom0, "/x", "1"), 0);
	ck_assert_int_eq(end(writer), 0);
	ck_assert_int_eq(end(reader), -EAGAIN);

	/* The other order: the reader commits first, then the writer. */
	reader = txn_create(st, 3, &dom0);
	writer = txn_create(st, 4, &dom0);
	value_is(st, reader, "/x", "1");
	ck_assert_int_eq(wr(st, reader, &dom0, "/y", "from x"), 0);
	ck_assert_int_eq(wr(st, writer, &dom0, "/x", "2"), 0);
	ck_assert_int_eq(end(reader), 0);
	ck_assert_int_eq(end(writer), 0);
	value_is(st, NULL, "/x", "2");

	/* A privileged blind write keeps permissions set meanwhile. */
	writer = txn_create(st, 5, &dom0);
	ck_assert_int_eq(wr(st, writer, &dom0, "/x", "3"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/x", "r7"), 0);
	ck_assert_int_eq(end(writer), 0);
	value_is(st, NULL, "/x", "3");

	/* A guest's blind write to its node: a value written meanwhile
	 * merges, permissions changed meanwhile conflict. */
	writer = txn_create(st, 6, &dom5);
	ck_assert_int_eq(wr(st, writer, &dom5, "/local/domain/5/x", "g"),
	    0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/local/domain/5/x", "t"), 0);
	ck_assert_int_eq(end(writer), 0);
	value_is(st, NULL, "/local/domain/5/x", "g");
	writer = txn_create(st, 7, &dom5);
	ck_assert_int_eq(wr(st, writer, &dom5, "/local/domain/5/x", "h"),
	    0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/local/domain/5/x", "n0"), 0);
	ck_assert_int_eq(end(writer), -EAGAIN);
	value_is(st, NULL, "/local/domain/5/x", "g");
	freestore(st);
}
END_TEST

/* Case "read-only with concurrent writes": a transaction that changes
 * nothing always succeeds, and sees the store as at its start. */
START_TEST(read_only)
{
	struct store	*st = mkstore();
	struct txn	*t, *w;
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "a0"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/b", "b0"), 0);
	t = txn_create(st, 1, &dom0);
	value_is(st, t, "/a", "a0");
	/* One commit changes both; the reader still sees both as before. */
	w = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, w, &dom0, "/a", "a1"), 0);
	ck_assert_int_eq(wr(st, w, &dom0, "/b", "b1"), 0);
	ck_assert_int_eq(wr(st, w, &dom0, "/c", "c1"), 0);
	ck_assert_int_eq(end(w), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/a"), 0);
	value_is(st, t, "/b", "b0");
	value_is(st, t, "/a", "a0");
	ck_assert_int_eq(rd(st, t, &dom0, "/c", buf, sizeof buf), -ENOENT);
	children_are(st, t, "/", "tool,a,b,");
	children_are(st, NULL, "/", "tool,b,c,");
	/* mkdir of what exists and rm of what is missing change nothing. */
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/b"), 0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/nothing"), 0);
	ck_assert_int_eq(end(t), 0);
	ck_assert_uint_eq(st->conflicts, 0);
	freestore(st);
}
END_TEST

/* Case "directory listed then child added elsewhere": a listing reads the
 * list of children, not the node's value. */
START_TEST(list_then_child_added)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/c", ""), 0);
	t = txn_create(st, 1, &dom0);
	children_are(st, t, "/p", "c,");
	ck_assert_int_eq(wr(st, t, &dom0, "/q", ""), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/d", ""), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	/* A child removed. */
	t = txn_create(st, 2, &dom0);
	children_are(st, t, "/p", "c,d,");
	ck_assert_int_eq(wr(st, t, &dom0, "/q", ""), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/p/d"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	/* The listed node's value, a grandchild: no conflict. A child
	 * added and removed again leaves the list as it was: none. */
	t = txn_create(st, 3, &dom0);
	children_are(st, t, "/p", "c,");
	ck_assert_int_eq(wr(st, t, &dom0, "/q", "2"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", "value"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/c/g", ""), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p/tmp", ""), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/p/tmp"), 0);
	ck_assert_int_eq(end(t), 0);
	value_is(st, NULL, "/q", "2");
	freestore(st);
}
END_TEST

/* Case "node read as absent then created": conflicts; created and removed
 * again meanwhile does not. */
START_TEST(absent_then_created)
{
	struct store	*st = mkstore();
	struct txn	*t;

	t = txn_create(st, 1, &dom0);
	missing(st, t, "/n");
	ck_assert_int_eq(wr(st, t, &dom0, "/q", ""), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/n", "here"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	/* Creating a node does not read its absence: both creating it,
	 * the branch's write goes over the other's, as run alone at its
	 * end. A node made only if missing (a parent, MKDIR) keeps the
	 * other's value, unless the branch read its own empty one. */
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/m", "mine"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/m", "theirs"), 0);
	ck_assert_int_eq(end(t), 0);
	value_is(st, NULL, "/m", "mine");
	t = txn_create(st, 20, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/vm/a/name", "a"), 0);
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/dir"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/vm/b/name", "b"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/dir", "full"), 0);
	ck_assert_int_eq(end(t), 0);
	value_is(st, NULL, "/dir", "full");
	value_is(st, NULL, "/vm/a/name", "a");
	value_is(st, NULL, "/vm/b/name", "b");
	t = txn_create(st, 21, &dom0);
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/dir2"), 0);
	value_is(st, t, "/dir2", "");
	ck_assert_int_eq(wr(st, NULL, &dom0, "/dir2", "full"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	t = txn_create(st, 3, &dom0);
	missing(st, t, "/o");
	ck_assert_int_eq(wr(st, t, &dom0, "/q", "ok"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/deep", "x"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/o"), 0);
	ck_assert_int_eq(end(t), 0);
	value_is(st, NULL, "/q", "ok");
	freestore(st);
}
END_TEST

/* Case "rm of a subtree changed meanwhile": removing reads every list of
 * children and every permission list below; a node added or removed
 * there, or permissions changed, conflict. A value written there does
 * not (the subtree goes either way). */
START_TEST(rm_subtree_changed)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/a/b", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/c", "2"), 0);

	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/a/b/new", ""), 0);
	ck_assert_int_eq(end(t), -EAGAIN);
	value_is(st, NULL, "/s/a/b/new", "");

	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/s/a/b/new"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	t = txn_create(st, 3, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/s/a/b", "r5"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);

	t = txn_create(st, 4, &dom0);
	ck_assert_int_eq(store_rm(st, t, &dom0, "/s"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/s/a/b", "changed"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/elsewhere", ""), 0);
	ck_assert_int_eq(end(t), 0);
	missing(st, NULL, "/s");
	missing(st, NULL, "/s/a/b");
	freestore(st);
}
END_TEST

/* Case "perms change on a parent of a created node": creating reads the
 * parent's permissions (inherited, and checked); its value is not read. */
START_TEST(parent_perms_changed)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", ""), 0);
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/p/c", "x"), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/p", "n0,r5"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);
	missing(st, NULL, "/p/c");

	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(store_mkdir(st, t, &dom0, "/p/c"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", "new value"), 0);
	/* The same list set again is no change. */
	ck_assert_int_eq(sp(st, NULL, &dom0, "/p", "n0,r5"), 0);
	ck_assert_int_eq(end(t), 0);
	value_is(st, NULL, "/p/c", "");
	freestore(st);
}
END_TEST

/* Case "write under a parent deleted meanwhile": conflicts (the parent's
 * existence was read), also when the parent is made again. */
START_TEST(parent_deleted)
{
	struct store	*st = mkstore();
	struct txn	*t;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", ""), 0);
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/p/c", "x"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/p"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);
	missing(st, NULL, "/p");

	/* Deleted and made again with other permissions. */
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", ""), 0);
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, "/p/c", "x"), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/p"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/p", ""), 0);
	ck_assert_int_eq(sp(st, NULL, &dom0, "/p", "r0"), 0);
	ck_assert_int_eq(end(t), -EAGAIN);
	missing(st, NULL, "/p/c");
	freestore(st);
}
END_TEST

/* Snapshots rebuild lists exactly: children removed, made again, whole
 * subtrees gone, in their order at the start. */
START_TEST(snapshot_lists)
{
	struct store	*st = mkstore();
	struct txn	*t, *w;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/a", "1"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/b/x/y", "2"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/b/z", "3"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/c", "4"), 0);
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/o/b"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/d", ""), 0);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/o/a"), 0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/o/a", "again"), 0);
	w = txn_create(st, 2, &dom0);
	ck_assert_int_eq(store_rm(st, w, &dom0, "/o/c"), 0);
	ck_assert_int_eq(wr(st, w, &dom0, "/o/c", "new"), 0);
	ck_assert_int_eq(wr(st, w, &dom0, "/o/b", "new b"), 0);
	ck_assert_int_eq(end(w), 0);
	children_are(st, NULL, "/o", "d,a,c,b,");

	children_are(st, t, "/o", "a,b,c,");
	children_are(st, t, "/o/b", "x,z,");
	children_are(st, t, "/o/b/x", "y,");
	value_is(st, t, "/o/a", "1");
	value_is(st, t, "/o/b/x/y", "2");
	value_is(st, t, "/o/c", "4");
	missing(st, t, "/o/d");
	/* Its own changes on top of the snapshot. */
	ck_assert_int_eq(store_rm(st, t, &dom0, "/o/b/x"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, "/o/b/w", ""), 0);
	children_are(st, t, "/o/b", "z,w,");
	ck_assert_int_eq(end(t), -EAGAIN);
	freestore(st);
}
END_TEST

/* The undo log lives only while transactions are open, and only back to
 * the oldest one's start. */
START_TEST(log_freed)
{
	struct store	*st = mkstore();
	struct txn	*t1, *t2;

	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "1"), 0);
	ck_assert_uint_eq(txn_log_bytes(st), 0);
	t1 = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "2"), 0);
	ck_assert_uint_gt(txn_log_bytes(st), 0);
	t2 = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "3"), 0);
	ck_assert_int_eq(end(t1), 0);
	/* Only t2's records are left: the commit after its start. */
	ck_assert_uint_gt(txn_log_bytes(st), 0);
	value_is(st, t2, "/a", "2");
	ck_assert_int_eq(end(t2), 0);
	ck_assert_uint_eq(txn_log_bytes(st), 0);
	/* Nothing is logged with no transaction open. */
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "4"), 0);
	ck_assert_uint_eq(txn_log_bytes(st), 0);
	freestore(st);
}
END_TEST

/* Over its bound, the log drops the oldest commits: transactions started
 * before them fail at the end (even read-only ones); later ones do not. */
START_TEST(log_bound)
{
	struct store	*st = mkstore();
	struct txn	*old, *ro, *young;
	char		 big[1024];
	int		 i;

	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	st->txn_log_max = 16 * 1024;
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "0"), 0);
	old = txn_create(st, 1, &dom0);
	ro = txn_create(st, 2, &dom0);
	value_is(st, old, "/a", "0");
	value_is(st, ro, "/a", "0");
	ck_assert_int_eq(wr(st, old, &dom0, "/b", "x"), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(wr(st, NULL, &dom0, "/big", big), 0);
	young = txn_create(st, 3, &dom0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(wr(st, NULL, &dom0, "/big", big), 0);
	ck_assert_uint_le(txn_log_bytes(st), st->txn_log_max);
	ck_assert_uint_gt(st->snapshots_lost, 0);
	ck_assert_int_eq(end(old), -EAGAIN);
	ck_assert_int_eq(end(ro), -EAGAIN);
	/* young lost its snapshot too (20 big commits since); one started
	 * now has its snapshot. */
	ck_assert_int_eq(end(young), -EAGAIN);
	young = txn_create(st, 4, &dom0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/a", "1"), 0);
	value_is(st, young, "/a", "0");
	ck_assert_int_eq(end(young), 0);
	young = txn_create(st, 5, &dom0);
	ck_assert_int_eq(wr(st, NULL, &dom0, "/d", "1"), 0);
	value_is(st, young, "/a", "1");
	ck_assert_int_eq(wr(st, young, &dom0, "/c", "c"), 0);
	ck_assert_int_eq(end(young), 0);
	ck_assert_uint_eq(txn_log_bytes(st), 0);
	freestore(st);
}
END_TEST

/*
 * The serializability property. A random schedule starts 2-5 transactions
 * at random moments, interleaves their operations with single requests
 * outside any, and ends them. Then, replaying serially on a simple model
 * (single requests and transactions that changed something in commit
 * order, read-only transactions at their start), every result each one
 * saw must be what it sees there, and the final tree must equal the
 * model's.
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
#define MAX_TXNS	5
#define MODEL_MAX	256

struct mnode {
	char	path[24];
	char	value[8];
	bool	live;
};
struct model {
	struct mnode	n[MODEL_MAX];
	size_t		len;
};

struct rtxn {
	struct txn	*txn;
	struct model	 start;		/* the model when it started */
	struct op	 ops[MAX_OPS];
	int		 nops;
	int		 next;
	bool		 started;
	bool		 done;
};

struct tally {
	unsigned	runs;
	unsigned	commits;	/* that changed something */
	unsigned	read_only;	/* commits that changed nothing */
	unsigned	conflicts;
	unsigned	aborts;
};

static const char *keys[] = {
	"/k/a", "/k/b", "/k/c", "/k/a/x", "/k/a/y", "/k/b/x", "/k/a/x/q",
	"/k/c/z", "/k", "/k/b/x/r",
};
#define NKEYS	(sizeof keys / sizeof keys[0])

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

/* Drop dead entries, keeping the order. */
static void
model_compact(struct model *m)
{
	size_t	i, k;

	for (i = k = 0; i < m->len; i++) {
		if (m->n[i].live)
			m->n[k++] = m->n[i];
	}
	m->len = k;
}

/* Make a node and its missing parents, appended to their parents' lists. */
static void
model_create(struct model *m, const char *path, const char *value)
{
	struct mnode	*mn;
	char		 parent[24];

	if (model_find(m, path) != NULL)
		return;
	parent_of(path, parent);
	model_create(m, parent, "");
	if (m->len == MODEL_MAX)
		model_compact(m);
	ck_assert_uint_lt(m->len, MODEL_MAX);
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
	char		 parent[24];
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
	op->path = keys[rnd(s) % NKEYS];
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
	return (changed && op->rc == 0);
}

/* The engine's tree equals the model (values, children and their order,
 * nothing more). */
static void
compare_tree(struct store *st, struct model *m, uint64_t seed)
{
	struct op	 op;
	size_t		 i, live = 0;
	char		 who[32];

	ck_assert_int_eq(tree_check(st->tree, stderr), 0);
	snprintf(who, sizeof who, "final tree");
	for (i = 0; i < m->len; i++) {
		if (!m->n[i].live)
			continue;
		live++;
		memset(&op, 0, sizeof op);
		op.path = m->n[i].path;
		op.type = OP_READ;
		engine_apply(st, NULL, &op);
		replay(m, &op, seed, who);
		op.type = OP_LIST;
		engine_apply(st, NULL, &op);
		replay(m, &op, seed, who);
	}
	ck_assert_uint_eq(st->tree->nnodes, live);
}

/* End transaction i of a schedule and check it against the model. */
static void
end_txn(struct store *st, struct model *m, struct rtxn *tx, int i,
    uint64_t seed, uint64_t *s, struct tally *tally)
{
	struct model	*alone;
	char		 who[32];
	uint64_t	 gen = st->gen;
	bool		 changes = false;
	int		 j, rc;

	tx->done = true;
	if (rnd(s) % 10 == 0) {
		ck_assert_int_eq(txn_end(tx->txn, false), 0);
		ck_assert_uint_eq(st->gen, gen);
		tally->aborts++;
		return;
	}
	/* Did it change anything? Its branch ran on the model at its start. */
	alone = malloc(sizeof *alone);
	*alone = tx->start;
	snprintf(who, sizeof who, "txn %d at its start", i + 1);
	for (j = 0; j < tx->nops; j++)
		changes |= replay(alone, &tx->ops[j], seed, who);
	free(alone);

	rc = txn_end(tx->txn, true);
	if (!changes) {
		/* Read-only: always succeeds, serialized at its start (just
		 * checked). */
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(st->gen, gen);
		tally->read_only++;
		return;
	}
	if (rc == -EAGAIN) {
		ck_assert_uint_eq(st->gen, gen);
		tally->conflicts++;
		return;
	}
	ck_assert_int_eq(rc, 0);
	tally->commits++;
	snprintf(who, sizeof who, "txn %d at its commit", i + 1);
	for (j = 0; j < tx->nops; j++)
		replay(m, &tx->ops[j], seed, who);
	ck_assert_uint_eq(st->gen, gen + 1);
}

/* One random schedule. */
static void
run_schedule(uint64_t seed, struct tally *tally)
{
	struct store	*st = mkstore();
	struct model	*m = calloc(1, sizeof *m);
	struct rtxn	*tx = calloc(MAX_TXNS, sizeof *tx);
	struct op	 op;
	uint64_t	 s = seed * 0x9e3779b97f4a7c15ULL + 1, gen;
	int		 ntx, i, active, rc;
	bool		 changed;
	char		 out[128];

	strcpy(m->n[0].path, "/");
	strcpy(m->n[1].path, "/tool");
	strcpy(m->n[2].path, "/tool/xenstored");
	m->n[0].live = m->n[1].live = m->n[2].live = true;
	m->len = 3;
	for (i = 0; i < 4; i++) {
		random_op(&s, &op);
		op.type = OP_WRITE;
		engine_apply(st, NULL, &op);
		ck_assert_int_eq(op.rc, 0);
		model_apply(m, &op, &rc, out);
	}

	ntx = 2 + (int)(rnd(&s) % (MAX_TXNS - 1));
	for (i = 0; i < ntx; i++) {
		tx[i].nops = 1 + (int)(rnd(&s) % MAX_OPS);
		for (rc = 0; rc < tx[i].nops; rc++)
			random_op(&s, &tx[i].ops[rc]);
	}
	active = ntx;
	while (active > 0) {
		if (rnd(&s) % 6 == 0) {
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
		if (!tx[i].started) {
			tx[i].txn = txn_create(st, (uint32_t)i + 1, &dom0);
			tx[i].start = *m;
			tx[i].started = true;
		} else if (tx[i].next < tx[i].nops)
			engine_apply(st, tx[i].txn, &tx[i].ops[tx[i].next++]);
		else {
			end_txn(st, m, &tx[i], i, seed, &s, tally);
			txn_free(tx[i].txn);
			active--;
		}
	}
	compare_tree(st, m, seed);
	ck_assert_uint_eq(txn_log_bytes(st), 0);
	tally->runs++;
	free(tx);
	free(m);
	freestore(st);
}

/* Thousands of random schedules with fixed seeds (fewer when
 * CHECK_TXN_RUNS says so, e.g. under sanitizers). */
START_TEST(serializable)
{
	struct tally	 tally;
	const char	*env = getenv("CHECK_TXN_RUNS");
	uint64_t	 runs = env != NULL ? strtoull(env, NULL, 10) : 20000;
	uint64_t	 seed;

	memset(&tally, 0, sizeof tally);
	for (seed = 1; seed <= runs; seed++)
		run_schedule(seed, &tally);
	fprintf(stderr, "serializable: %u runs, %u commits, %u read-only, "
	    "%u conflicts, %u aborts\n", tally.runs, tally.commits,
	    tally.read_only, tally.conflicts, tally.aborts);
	/* The schedules exercise every outcome. */
	ck_assert_uint_gt(tally.commits, runs / 2);
	ck_assert_uint_gt(tally.read_only, runs / 20);
	ck_assert_uint_gt(tally.conflicts, runs / 20);
}
END_TEST

/* All of the transaction tests. */
static Suite *
txn_suite(void)
{
	Suite	*s = suite_create("txn");
	TCase	*tc;

	tc = tcase_create("conflicts");
	tcase_add_test(tc, sibling_creation);
	tcase_add_test(tc, same_node_written);
	tcase_add_test(tc, blind_write_vs_read);
	tcase_add_test(tc, read_only);
	tcase_add_test(tc, list_then_child_added);
	tcase_add_test(tc, absent_then_created);
	tcase_add_test(tc, rm_subtree_changed);
	tcase_add_test(tc, parent_perms_changed);
	tcase_add_test(tc, parent_deleted);
	suite_add_tcase(s, tc);

	tc = tcase_create("snapshots");
	tcase_add_test(tc, snapshot_lists);
	tcase_add_test(tc, log_freed);
	tcase_add_test(tc, log_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("serializable");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, serializable);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(txn_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
