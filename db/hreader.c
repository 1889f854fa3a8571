/*
 * The history's readers (xsc-history, xsconsole-tail --store): changes
 * selected by path, subject, generations and times, through the indexes
 * (hchange_path, hchange_subject, hcommit_time); the tree at an old
 * generation, rebuilt from a snapshot and the kept changes after it; the
 * domids a name was given to. Read-only, on a db_open_reader handle. A
 * version 1 file has no history: -ENOENT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "hmap.h"
#include "log.h"
#include "snapshot.h"
#include "xmalloc.h"

#define HR_DELETED	1
#define HR_CREATED	2

/* A node of a rebuilt tree, in creation order. */
struct hnode {
	char		*path;		/* the hmap key: first */
	unsigned char	*value;
	uint32_t	 vlen;
	char		*perms;
	uint64_t	 gen;
	struct hnode	*prev, *next;
};

/* A tree being rebuilt: nodes by path, and in order. */
struct htree {
	struct hmap	*map;
	struct hnode	*head, *tail;
};

/* A history reader needs a version 2 file. */
static int
hreader_check(struct db *db)
{
	if (db->w != NULL)
		return (-EINVAL);
	return (db->version >= 2 ? 0 : -ENOENT);
}

/* Report an SQLite failure; -errno. */
static int
hreader_fail(struct db *db, int rc)
{
	log_debug("%s: %s", db->path, sqlite3_errmsg(db->sql));
	return (-db_errno(rc));
}

/* The generation bounds a query's time bounds give: commits' times are
 * taken to grow with generations (hcommit_time finds the edges); the
 * times themselves are checked again on each row. *empty: none fit. */
static int
hreader_time_gens(struct db *db, const struct db_hquery *q, uint64_t *lo,
    uint64_t *hi, bool *empty)
{
	sqlite3_stmt	*st;
	int		 rc;

	*lo = q->gen_min;
	*hi = q->gen_max != 0 ? q->gen_max : INT64_MAX;
	*empty = false;
	if (q->ns_min != 0) {
		if ((st = db_stmt(db, ST_GEN_SINCE)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, q->ns_min > INT64_MAX ? INT64_MAX :
		    (int64_t)q->ns_min);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t g = (uint64_t)sqlite3_column_int64(st, 0);

			if (g > *lo)
				*lo = g;
		} else if (rc == SQLITE_DONE)
			*empty = true;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return (hreader_fail(db, rc));
	}
	if (q->ns_max != 0) {
		if ((st = db_stmt(db, ST_GEN_AT)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, q->ns_max > INT64_MAX ? INT64_MAX :
		    (int64_t)q->ns_max);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t g = (uint64_t)sqlite3_column_int64(st, 0);

			if (g < *hi)
				*hi = g;
		} else if (rc == SQLITE_DONE)
			*empty = true;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return (hreader_fail(db, rc));
	}
	if (*lo > *hi)
		*empty = true;
	return (0);
}

/* The end of a subtree's key range: the path with '0' ('/' + 1) after
 * it; every path below sorts in [path + "/", that). */
static char *
hreader_subtree_end(const char *path)
{
	char	*end;

	xasprintf(&end, "%s0", path);
	return (end);
}

/* The previous kept change of a change's path, for with_old. */
static int
hreader_old(struct db *db, struct db_hchange *c, int64_t seq)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_stmt(db, ST_HPREV)) == NULL)
		return (-EIO);
	sqlite3_bind_text(st, 1, c->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->gen);
	sqlite3_bind_int64(st, 3, seq);
	c->old_known = c->old_exists = false;
	c->old_value = c->old_perms = NULL;
	c->old_vlen = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->old_known = true;
		c->old_exists = !(sqlite3_column_int(st, 0) & HR_DELETED);
		if (c->old_exists) {
			c->old_value = sqlite3_column_blob(st, 1);
			c->old_vlen = (uint32_t)sqlite3_column_bytes(st, 1);
			c->old_perms = (const char *)sqlite3_column_text(st, 2);
			if (c->old_value == NULL)
				c->old_value = "";
		}
		return (0);		/* reset by the caller, after cb */
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? 0 : hreader_fail(db, rc));
}

/*
 * The changes a query selects, in generation order, to cb. One
 * statement, built for the query: an exact path or a subject is an
 * index equality, a subtree an index range, and the generation bounds
 * (with those the times give) a range on what follows.
 */
int
db_history(struct db *db, const struct db_hquery *q, db_hchange_cb *cb,
    void *arg)
{
	struct db_hchange	 c;
	sqlite3_stmt		*st;
	char			 sql[1024], *end = NULL;
	uint64_t		 lo, hi;
	bool			 empty, subtree;
	int			 rc, error, ret = 0, n;

	if ((error = hreader_check(db)) != 0)
		return (error);
	if ((error = hreader_time_gens(db, q, &lo, &hi, &empty)) != 0)
		return (error);
	if (empty)
		return (0);
	subtree = q->path != NULL && q->subtree;
	if (subtree && strcmp(q->path, "/") == 0)
		subtree = false;	/* everything */
	n = snprintf(sql, sizeof sql, "SELECT c.gen, h.time_ns, h.origin,"
	    " h.in_txn, c.seq, c.path, c.flags, c.value, c.perms"
	    " FROM hchange c JOIN hcommit h ON h.gen = c.gen"
	    " WHERE %sc.gen >= ?1 AND %sc.gen <= ?2%s%s%s%s%s"
	    " ORDER BY c.gen %s, c.seq %s%s",
	    subtree ? "+" : "", subtree ? "+" : "",
	    q->path != NULL && !q->subtree ? " AND c.path = ?3" : "",
	    subtree ? " AND c.path >= ?3 AND c.path < ?4 AND (c.path = ?3 OR"
	    " substr(c.path, length(?3) + 1, 1) = '/')" : "",
	    q->subject >= 0 ? " AND c.subject = ?5" : "",
	    q->ns_min != 0 ? " AND h.time_ns >= ?6" : "",
	    q->ns_max != 0 ? " AND h.time_ns <= ?7" : "",
	    q->newest_first ? "DESC" : "ASC", q->newest_first ? "DESC" : "ASC",
	    q->limit != 0 ? " LIMIT ?8" : "");
	if (n < 0 || (size_t)n >= sizeof sql)
		return (-EINVAL);
	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
		return (hreader_fail(db, rc));
	sqlite3_bind_int64(st, 1, (int64_t)lo);
	sqlite3_bind_int64(st, 2, hi > INT64_MAX ? INT64_MAX : (int64_t)hi);
	if (q->path != NULL && (!q->subtree || subtree))
		sqlite3_bind_text(st, 3, q->path, -1, SQLITE_STATIC);
	if (subtree) {
		end = hreader_subtree_end(q->path);
		sqlite3_bind_text(st, 4, end, -1, SQLITE_STATIC);
	}
	if (q->subject >= 0)
		sqlite3_bind_int64(st, 5, q->subject);
	if (q->ns_min != 0)
		sqlite3_bind_int64(st, 6, q->ns_min > INT64_MAX ? INT64_MAX :
		    (int64_t)q->ns_min);
	if (q->ns_max != 0)
		sqlite3_bind_int64(st, 7, q->ns_max > INT64_MAX ? INT64_MAX :
		    (int64_t)q->ns_max);
	if (q->limit != 0)
		sqlite3_bind_int64(st, 8, q->limit > INT64_MAX ? INT64_MAX :
		    (int64_t)q->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int	flags = sqlite3_column_int(st, 6);

		memset(&c, 0, sizeof c);
		c.gen = (uint64_t)sqlite3_column_int64(st, 0);
		c.time_ns = (uint64_t)sqlite3_column_int64(st, 1);
		c.origin = (uint32_t)sqlite3_column_int64(st, 2);
		c.in_txn = sqlite3_column_int(st, 3) != 0;
		c.path = (const char *)sqlite3_column_text(st, 5);
		c.deleted = (flags & HR_DELETED) != 0;
		c.created = (flags & HR_CREATED) != 0;
		if (!c.deleted) {
			c.value = sqlite3_column_blob(st, 7);
			c.vlen = (uint32_t)sqlite3_column_bytes(st, 7);
			c.perms = (const char *)sqlite3_column_text(st, 8);
			if (c.value == NULL)
				c.value = "";
		}
		if (q->with_old && (ret = hreader_old(db, &c,
		    sqlite3_column_int64(st, 4))) != 0)
			break;
		ret = cb(&c, arg);
		if (q->with_old)
			sqlite3_reset(db->stmt[ST_HPREV]);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = hreader_fail(db, rc);
	sqlite3_finalize(st);
	free(end);
	return (ret);
}

/* The extent of the history, and what thinning has done to it. */
int
db_history_info(struct db *db, struct db_hinfo *info)
{
	sqlite3_stmt	*st;
	uint64_t	 thin_min = 0;
	int		 rc, error;

	memset(info, 0, sizeof *info);
	if ((error = hreader_check(db)) != 0)
		return (error);
	if ((st = db_stmt(db, ST_HSTATE_LOAD)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info->bytes = (uint64_t)sqlite3_column_int64(st, 1);
		info->commits = (uint64_t)sqlite3_column_int64(st, 2);
		info->changes = (uint64_t)sqlite3_column_int64(st, 3);
		info->snapshots = (uint64_t)sqlite3_column_int64(st, 4);
		thin_min = (uint64_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return (rc == SQLITE_DONE ? -EIO : hreader_fail(db, rc));
	if ((st = db_stmt(db, ST_HCOMMIT_FIRST)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info->first_gen = (uint64_t)sqlite3_column_int64(st, 0);
		info->first_ns = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (hreader_fail(db, rc));
	if ((st = db_stmt(db, ST_HCOMMIT_LAST)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info->last_gen = (uint64_t)sqlite3_column_int64(st, 0);
		info->last_ns = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (hreader_fail(db, rc));
	info->full_from_gen = thin_min > info->first_gen ? thin_min :
	    info->first_gen;
	return (0);
}

/* The last commit at or before ns; -ERANGE before the history. */
int
db_gen_at(struct db *db, uint64_t ns, uint64_t *gen)
{
	sqlite3_stmt	*st;
	int		 rc, error;

	*gen = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if ((st = db_stmt(db, ST_GEN_AT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, ns > INT64_MAX ? INT64_MAX : (int64_t)ns);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? -ERANGE : hreader_fail(db, rc));
}

/* Whether path is below (or is) root; root "/" holds everything. */
static bool
hreader_below(const char *path, const char *root, size_t rlen)
{
	if (rlen == 1 && root[0] == '/')
		return (true);
	return (strncmp(path, root, rlen) == 0 &&
	    (path[rlen] == '\0' || path[rlen] == '/'));
}

/* Unlink and free a node of a rebuilt tree. */
static void
htree_remove(struct htree *t, const char *path)
{
	struct hnode	*n;

	if ((n = hmap_remove(t->map, path)) == NULL)
		return;
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		t->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		t->tail = n->prev;
	free(n->path);
	free(n->value);
	free(n->perms);
	free(n);
}

/* Set a node of a rebuilt tree: created ones go last; others keep their
 * place (and are made, last, if they are missing). */
static void
htree_set(struct htree *t, const char *path, const void *v, uint32_t vlen,
    const char *perms, uint64_t gen, bool created)
{
	struct hnode	*n;

	if (created)
		htree_remove(t, path);
	if ((n = hmap_find(t->map, path)) == NULL) {
		n = xcalloc(1, sizeof *n);
		n->path = xstrdup(path);
		n->prev = t->tail;
		if (t->tail != NULL)
			t->tail->next = n;
		else
			t->head = n;
		t->tail = n;
		hmap_insert(t->map, n);
	} else {
		free(n->value);
		free(n->perms);
	}
	n->value = xmemdup(vlen > 0 ? v : "", vlen > 0 ? vlen : 1);
	n->vlen = vlen;
	n->perms = xstrdup(perms != NULL ? perms : "");
	n->gen = gen;
}

/* Free a rebuilt tree. */
static void
htree_free(struct htree *t)
{
	while (t->head != NULL)
		htree_remove(t, t->head->path);
	hmap_free(t->map);
}

/* What a snapshot's nodes go to: a tree, and the subtree wanted. */
struct hsnap {
	struct htree	*t;
	const char	*root;
	size_t		 rlen;
};

/* A node of a snapshot: into the tree if it is below the root. */
static int
hreader_snap_node(const struct snapshot_node *n, void *arg)
{
	struct hsnap	*s = arg;
	char		*ps, *pm;

	ps = xstrndup(n->path, n->plen);
	if (hreader_below(ps, s->root, s->rlen)) {
		pm = xstrndup(n->perms, n->permslen);
		htree_set(s->t, ps, n->value, n->vlen, pm, n->gen, false);
		free(pm);
	}
	free(ps);
	return (0);
}

/* Apply the kept changes of generations (from, to] below root. */
static int
hreader_replay(struct db *db, struct htree *t, uint64_t from, uint64_t to,
    const char *root)
{
	sqlite3_stmt	*st;
	char		*end = NULL;
	const char	*path;
	bool		 all = strcmp(root, "/") == 0;
	int		 rc, flags;

	rc = sqlite3_prepare_v2(db->sql, all ?
	    "SELECT path, flags, value, perms, gen FROM hchange"
	    " WHERE gen > ?1 AND gen <= ?2 ORDER BY gen, seq" :
	    "SELECT path, flags, value, perms, gen FROM hchange"
	    " WHERE +gen > ?1 AND +gen <= ?2 AND path >= ?3 AND path < ?4"
	    " AND (path = ?3 OR substr(path, length(?3) + 1, 1) = '/')"
	    " ORDER BY gen, seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (hreader_fail(db, rc));
	sqlite3_bind_int64(st, 1, (int64_t)from);
	sqlite3_bind_int64(st, 2, to > INT64_MAX ? INT64_MAX : (int64_t)to);
	if (!all) {
		end = hreader_subtree_end(root);
		sqlite3_bind_text(st, 3, root, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, end, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(st, 0);
		flags = sqlite3_column_int(st, 1);
		if (flags & HR_DELETED)
			htree_remove(t, path);
		else
			htree_set(t, path, sqlite3_column_blob(st, 2),
			    (uint32_t)sqlite3_column_bytes(st, 2),
			    (const char *)sqlite3_column_text(st, 3),
			    (uint64_t)sqlite3_column_int64(st, 4),
			    (flags & HR_CREATED) != 0);
	}
	sqlite3_finalize(st);
	free(end);
	return (rc == SQLITE_DONE ? 0 : hreader_fail(db, rc));
}

/*
 * The tree below path as it was just after commit gen, in creation
 * order: the newest snapshot at or before gen, and the kept changes
 * after it. -ERANGE when no snapshot serves: none at or before gen, or
 * the budget has deleted commits after the newest one (then only its
 * own generation is served).
 */
int
db_tree_at(struct db *db, uint64_t gen, const char *path, db_tree_cb *cb,
    void *arg)
{
	struct htree	 t;
	struct hsnap	 snap;
	struct hnode	*n;
	sqlite3_stmt	*st;
	uint64_t	 sgen, nodes, raw, dropped = 0;
	int		 rc, error, ret = 0;

	if ((error = hreader_check(db)) != 0)
		return (error);
	if (path == NULL || path[0] != '/')
		return (-EINVAL);
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (hreader_fail(db, SQLITE_ERROR));
	if ((st = db_stmt(db, ST_HSTATE_LOAD)) == NULL) {
		ret = -EIO;
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		dropped = (uint64_t)sqlite3_column_int64(st, 7);
	sqlite3_reset(st);
	if ((st = db_stmt(db, ST_SNAP_AT)) == NULL) {
		ret = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, gen > INT64_MAX ? INT64_MAX : (int64_t)gen);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		ret = rc == SQLITE_DONE ? -ERANGE : hreader_fail(db, rc);
		goto out;
	}
	sgen = (uint64_t)sqlite3_column_int64(st, 0);
	if (sgen < dropped && sgen != gen) {
		sqlite3_reset(st);
		ret = -ERANGE;
		goto out;
	}
	nodes = (uint64_t)sqlite3_column_int64(st, 1);
	raw = (uint64_t)sqlite3_column_int64(st, 2);
	memset(&t, 0, sizeof t);
	t.map = hmap_create();
	snap.t = &t;
	snap.root = path;
	snap.rlen = strlen(path);
	ret = snapshot_decode(sqlite3_column_blob(st, 3),
	    (size_t)sqlite3_column_bytes(st, 3), raw, nodes, hreader_snap_node,
	    &snap);
	sqlite3_reset(st);
	if (ret == 0 && gen > sgen)
		ret = hreader_replay(db, &t, sgen, gen, path);
	for (n = t.head; ret == 0 && n != NULL; n = n->next)
		ret = cb(n->path, n->value, n->vlen, n->perms, n->gen, arg);
	htree_free(&t);
out:
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	return (ret);
}

/*
 * The domids whose /local/domain/<id>/name was ever name (hchange_name
 * finds them), most recent first, each with when it last had it: when
 * its name next changed (or went), or the history's last commit time
 * if it still has it.
 */
int
db_domids_named(struct db *db, const char *name, uint32_t **domids,
    uint64_t **last_ns, size_t *count)
{
	sqlite3_stmt	*st;
	uint32_t	*ids = NULL;
	uint64_t	*gens = NULL, *ns = NULL, now = 0, t;
	size_t		 n = 0, cap = 0, i, j;
	char		 path[64];
	int		 rc, error;

	*domids = NULL;
	*last_ns = NULL;
	*count = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (hreader_fail(db, SQLITE_ERROR));
	if ((st = db_stmt(db, ST_HCOMMIT_LAST)) == NULL) {
		error = -EIO;
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		now = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if ((st = db_stmt(db, ST_NAMED)) == NULL) {
		error = -EIO;
		goto out;
	}
	sqlite3_bind_blob(st, 1, name, (int)strlen(name), SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			ids = xrealloc(ids, cap * sizeof *ids);
			gens = xrealloc(gens, cap * sizeof *gens);
		}
		ids[n] = (uint32_t)sqlite3_column_int64(st, 0);
		gens[n++] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = hreader_fail(db, rc);
		goto out;
	}
	ns = xcalloc(n > 0 ? n : 1, sizeof *ns);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/local/domain/%u/name", ids[i]);
		if ((st = db_stmt(db, ST_HNEXT)) == NULL) {
			error = -EIO;
			goto out;
		}
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)gens[i]);
		rc = sqlite3_step(st);
		ns[i] = rc == SQLITE_ROW ?
		    (uint64_t)sqlite3_column_int64(st, 0) : now;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			error = hreader_fail(db, rc);
			goto out;
		}
	}
	/* Most recent first (few entries: insertion sort). */
	for (i = 1; i < n; i++) {
		uint32_t	id = ids[i];

		t = ns[i];
		for (j = i; j > 0 && ns[j - 1] < t; j--) {
			ns[j] = ns[j - 1];
			ids[j] = ids[j - 1];
		}
		ns[j] = t;
		ids[j] = id;
	}
	*domids = ids;
	*last_ns = ns;
	*count = n;
	ids = NULL;
	ns = NULL;
out:
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	free(ids);
	free(gens);
	free(ns);
	return (error);
}
