/*
 * The history's readers (xsc-history, xsconsole-tail --store): changes
 * selected by path, subject, generations and times, from the batches
 * (hstore.h) that the batch indexes (hpath, hsubject) name; the tree at
 * an old generation, rebuilt from a snapshot and the kept changes after
 * it; the domids a name was given to (hname). Read-only, on a
 * db_open_reader handle. A file older than version 3 has no history
 * these can read: -ENOENT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "hblob.h"
#include "hmap.h"
#include "hstore.h"
#include "log.h"
#include "snapshot.h"
#include "xmalloc.h"

#define HR_NONE		SIZE_MAX	/* no earlier change in the batch */

/* A distinct path of a decoded batch (an hmap entry: the key first). */
struct hrpath {
	const char	*key;		/* in the batch's blob */
	size_t		 last;		/* its last change */
};

/*
 * A decoded batch. With an index (for with_old): per change, the
 * batch's previous change of its path, and per path its last change.
 */
struct hrbatch {
	bool		 loaded;
	uint64_t	 gen_lo;
	struct hblob	 b;
	size_t		*prev;		/* per change, or HR_NONE */
	struct hmap	*paths;		/* of struct hrpath */
	struct hrpath	*pv;
};

/* The last change of a path an oldest-first walk has seen (with_old):
 * a copy, since its batch is gone when the path changes again. */
struct hrseen {
	char		*key;		/* the path */
	bool		 exists;
	unsigned char	*value;
	uint32_t	 vlen;
	char		*perms;
};

/* A db_history walk: the query, its generation bounds, what it has
 * handed out, the older batch read last for with_old, and (oldest
 * first) the last change seen of each path the query selects. */
struct hrwalk {
	const struct db_hquery	*q;
	uint64_t		 lo, hi;
	size_t			 plen;
	uint64_t		 n;
	bool			 done;		/* the limit is reached */
	db_hchange_cb		*cb;
	void			*arg;
	struct hrbatch		 old;
	struct hmap		*seen;		/* of struct hrseen */
	uint64_t		 first;		/* the first batch walked */
	struct hrseen		**seenv;
	size_t			 nseen, capseen;
};

/* A history reader needs a version 3 file. */
static int
hreader_check(struct db *db)
{
	if (db->w != NULL)
		return (-EINVAL);
	return (db->version >= 3 ? 0 : -ENOENT);
}

/* Report an SQLite failure; -errno. */
static int
hreader_fail(struct db *db, int rc)
{
	log_debug("%s: %s", db->path, sqlite3_errmsg(db->sql));
	return (-db_errno(rc));
}

/* A generation or a time as an SQLite integer (which is signed). */
static int64_t
hreader_i64(uint64_t v)
{
	return (v > INT64_MAX ? INT64_MAX : (int64_t)v);
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

/* Free a decoded batch (a zeroed one too); it is left zeroed. */
static void
hrbatch_free(struct hrbatch *hb)
{
	hblob_free(&hb->b);
	hmap_free(hb->paths);
	free(hb->prev);
	free(hb->pv);
	memset(hb, 0, sizeof *hb);
}

/* Move a decoded batch from src to dst (whose own is freed). */
static void
hrbatch_move(struct hrbatch *dst, struct hrbatch *src)
{
	hrbatch_free(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

/*
 * Index a decoded batch in one forward pass: each change's previous
 * change of the same path, and each path's last change.
 */
static void
hrbatch_index(struct hrbatch *hb)
{
	struct hrpath	*e;
	size_t		 i, n = hb->b.nch, npv = 0;

	hb->prev = xcalloc(n > 0 ? n : 1, sizeof *hb->prev);
	hb->pv = xcalloc(n > 0 ? n : 1, sizeof *hb->pv);
	hb->paths = hmap_create();
	for (i = 0; i < n; i++) {
		if ((e = hmap_find(hb->paths, hb->b.ch[i].path)) != NULL) {
			hb->prev[i] = e->last;
			e->last = i;
			continue;
		}
		hb->prev[i] = HR_NONE;
		e = &hb->pv[npv++];
		e->key = hb->b.ch[i].path;
		e->last = i;
		hmap_insert(hb->paths, e);
	}
}

/* Decode a batch row into hb (freed first), indexed if asked; 0, or
 * -EIO for a corrupt blob (logged), or -ENOMEM. */
static int
hrbatch_load(struct db *db, struct hrbatch *hb, const struct hbatch_row *r,
    bool index)
{
	int	error;

	hrbatch_free(hb);
	if ((error = hbatch_decode(db, r, &hb->b)) != 0)
		return (error);
	hb->loaded = true;
	hb->gen_lo = r->gen_lo;
	if (index)
		hrbatch_index(hb);
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

/*
 * Prepare the statement that selects the batches which may hold
 * changes of generations [lo, hi], in gen_lo order (descending if
 * desc): those of path (NULL: any; with subtree, the paths below it
 * too, but "/" is any) and of subject (-1: any), as the batch indexes
 * say. Batches do not overlap, so none before the one holding lo can
 * reach it: a rowid range. *end: the subtree's key end, to free after
 * the statement.
 */
static int
hreader_batches(struct db *db, uint64_t lo, uint64_t hi, const char *path,
    bool subtree, int64_t subject, bool desc, sqlite3_stmt **stp,
    char **end)
{
	sqlite3_stmt	*st;
	char		 sql[1024];
	bool		 exact;
	int		 rc, n;

	*stp = NULL;
	*end = NULL;
	if (path != NULL && subtree && strcmp(path, "/") == 0)
		path = NULL;		/* everything */
	exact = path != NULL && !subtree;
	n = snprintf(sql, sizeof sql, "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE gen_lo <= ?2 AND gen_hi >= ?1 AND gen_lo >= coalesce("
	    "(SELECT b.gen_lo FROM hbatch b WHERE b.gen_lo <= ?1"
	    " ORDER BY b.gen_lo DESC LIMIT 1), 0)%s%s ORDER BY gen_lo %s",
	    path == NULL ? "" : exact ?
	    " AND gen_lo IN (SELECT batch FROM hpath WHERE path = ?6"
	    " AND batch <= ?2)" :
	    " AND gen_lo IN (SELECT batch FROM hpath WHERE path = ?6"
	    " OR path = ?3 OR (path >= (?3 || '/') AND path < ?4))",
	    subject >= 0 ? " AND gen_lo IN (SELECT batch FROM hsubject"
	    " WHERE subject = ?5 AND batch <= ?2)" : "",
	    desc ? "DESC" : "ASC");
	if (n < 0 || (size_t)n >= sizeof sql)
		return (-EINVAL);
	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
		return (hreader_fail(db, rc));
	sqlite3_bind_int64(st, 1, hreader_i64(lo));
	sqlite3_bind_int64(st, 2, hreader_i64(hi));
	if (path != NULL) {
		sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, path, (int)hist_key_len(path),
		    SQLITE_STATIC);
	}
	if (path != NULL && !exact) {
		*end = hreader_subtree_end(path);
		sqlite3_bind_text(st, 4, *end, -1, SQLITE_STATIC);
	}
	if (subject >= 0)
		sqlite3_bind_int64(st, 5, subject);
	*stp = st;
	return (0);
}

/* The generation bounds a query's time bounds give: commits' times are
 * taken to grow with generations; the times themselves are checked
 * again on each change. *empty: none fit. */
static int
hreader_time_gens(struct db *db, const struct db_hquery *q, uint64_t *lo,
    uint64_t *hi, bool *empty)
{
	uint64_t	g;
	bool		found;
	int		error;

	*lo = q->gen_min;
	*hi = q->gen_max != 0 ? q->gen_max : INT64_MAX;
	*empty = false;
	if (q->ns_min != 0) {
		if ((error = hist_gen_since(db, q->ns_min, &g, &found)) < 0)
			return (error);
		if (!found)
			*empty = true;
		else if (g > *lo)
			*lo = g;
	}
	if (q->ns_max != 0) {
		if ((error = hist_gen_at(db, q->ns_max, &g, &found)) < 0)
			return (error);
		if (!found)
			*empty = true;
		else if (g < *hi)
			*hi = g;
	}
	if (*lo > *hi)
		*empty = true;
	return (0);
}

/* A change's old value: the change o before it. */
static void
hreader_set_old(struct db_hchange *c, const struct hblob_change *o)
{
	c->old_known = true;
	c->old_exists = (o->flags & HBLOB_DELETED) == 0;
	if (c->old_exists) {
		c->old_value = o->vlen > 0 ? o->value : "";
		c->old_vlen = o->vlen;
		c->old_perms = o->perms;
	}
}

/* Note a change as its path's last seen (oldest-first walks). */
static void
hreader_seen(struct hrwalk *w, const struct hblob_change *ch)
{
	struct hrseen	*e;

	if ((e = hmap_find(w->seen, ch->path)) == NULL) {
		e = xcalloc(1, sizeof *e);
		e->key = xstrdup(ch->path);
		hmap_insert(w->seen, e);
		if (w->nseen == w->capseen) {
			w->capseen = w->capseen == 0 ? 64 : w->capseen * 2;
			w->seenv = xrealloc(w->seenv, w->capseen *
			    sizeof *w->seenv);
		}
		w->seenv[w->nseen++] = e;
	}
	free(e->value);
	free(e->perms);
	e->value = NULL;
	e->perms = NULL;
	e->exists = (ch->flags & HBLOB_DELETED) == 0;
	if (e->exists) {
		e->value = xmemdup(ch->vlen > 0 ? ch->value : "",
		    ch->vlen > 0 ? ch->vlen : 1);
		e->vlen = ch->vlen;
		e->perms = xstrdup(ch->perms);
	}
}

/* Free what a walk saw. */
static void
hreader_seen_free(struct hrwalk *w)
{
	size_t	i;

	for (i = 0; i < w->nseen; i++) {
		hmap_remove(w->seen, w->seenv[i]->key);
		free(w->seenv[i]->key);
		free(w->seenv[i]->value);
		free(w->seenv[i]->perms);
		free(w->seenv[i]);
	}
	hmap_free(w->seen);
	free(w->seenv);
}

/*
 * The old value of a change that is its path's first in batch (for
 * with_old): the last change of the path in the newest earlier batch
 * that has it (of those hpath names for the path's key), read into
 * w->old unless it is there already. Nothing older kept: old_known
 * stays false.
 */
static int
hreader_old(struct db *db, struct hrwalk *w, uint64_t batch,
    struct db_hchange *c)
{
	struct hbatch_row	 r;
	struct hrpath		*e;
	sqlite3_stmt		*st;
	uint64_t		 prev;
	int			 rc, ret;
	bool			 has;

	/* The batches with the path's key, newest first, to the first
	 * that has the path (a key covers a guest's or a device's paths). */
	for (prev = batch;; ) {
		if ((st = db_stmt(db, ST_HPATH_PREV)) == NULL)
			return (-EIO);
		sqlite3_bind_text(st, 1, c->path, (int)hist_key_len(c->path),
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, hreader_i64(prev));
		rc = sqlite3_step(st);
		prev = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) :
		    0;
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return (0);
		if (rc != SQLITE_ROW)
			return (hreader_fail(db, rc));
		if (!w->old.loaded || w->old.gen_lo != prev) {
			/* Its list of paths first: most batches with the
			 * key have other paths of it. */
			if ((ret = hbatch_has_path(db, prev, c->path,
			    &has)) != 0)
				return (ret);
			if (!has)
				continue;
			if ((st = db_stmt(db, ST_HBATCH_AT)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, hreader_i64(prev));
			if ((ret = hbatch_read(db, st, &r)) == 1 &&
			    r.gen_lo != prev)
				ret = 0;
			if (ret == 1)
				ret = hrbatch_load(db, &w->old, &r, true);
			else if (ret == 0) {
				log_error("%s: history: batch %llu, which "
				    "hpath names, is missing", db->path,
				    (unsigned long long)prev);
				ret = -EIO;
			}
			sqlite3_reset(st);
			if (ret != 0)
				return (ret);
		}
		if (w->old.paths == NULL)	/* the batch just walked */
			hrbatch_index(&w->old);
		if ((e = hmap_find(w->old.paths, c->path)) != NULL)
			break;
	}
	hreader_set_old(c, &w->old.b.ch[e->last]);
	return (0);
}

/*
 * Change i of batch hb to the walk's callback if the query selects it;
 * 0 to go on, or what stops the walk (the callback's non-zero return,
 * -errno).
 */
static int
hreader_change(struct db *db, struct hrwalk *w, struct hrbatch *hb,
    size_t i)
{
	const struct db_hquery		*q = w->q;
	const struct hblob_change	*ch = &hb->b.ch[i];
	const struct hblob_commit	*cm = &hb->b.c[ch->commit];
	struct db_hchange		 c;
	bool				 is_name;
	int				 ret;
	struct hrseen			*e = NULL;

	if (q->path != NULL && (q->subtree ?
	    !hreader_below(ch->path, q->path, w->plen) :
	    strcmp(ch->path, q->path) != 0))
		return (0);
	if (q->subject >= 0 && hist_subject(ch->path, &is_name) != q->subject)
		return (0);
	if (cm->gen < w->lo || cm->gen > w->hi ||
	    (q->ns_min != 0 && cm->ns < q->ns_min) ||
	    (q->ns_max != 0 && cm->ns > q->ns_max)) {
		if (w->seen != NULL)
			hreader_seen(w, ch);
		return (0);
	}
	memset(&c, 0, sizeof c);
	c.gen = cm->gen;
	c.time_ns = cm->ns;
	c.origin = cm->origin;
	c.in_txn = cm->in_txn;
	c.path = ch->path;
	c.deleted = (ch->flags & HBLOB_DELETED) != 0;
	c.created = (ch->flags & HBLOB_CREATED) != 0;
	if (!c.deleted) {
		c.value = ch->vlen > 0 ? ch->value : "";
		c.vlen = ch->vlen;
		c.perms = ch->perms;
	}
	if (w->seen != NULL && (e = hmap_find(w->seen, ch->path)) != NULL) {
		c.old_known = true;
		c.old_exists = e->exists;
		c.old_value = e->value;
		c.old_vlen = e->vlen;
		c.old_perms = e->perms;
	} else if (q->with_old) {
		/* Oldest first, the walk saw every batch with the path
		 * since its first: look before that one only. */
		if (hb->prev != NULL && hb->prev[i] != HR_NONE)
			hreader_set_old(&c, &hb->b.ch[hb->prev[i]]);
		else if ((ret = hreader_old(db, w, w->seen != NULL ? w->first :
		    hb->gen_lo, &c)) != 0)
			return (ret);
	}
	ret = w->cb(&c, w->arg);
	if (w->seen != NULL)
		hreader_seen(w, ch);
	if (q->limit != 0 && ++w->n >= q->limit)
		w->done = true;
	return (ret);
}

/* The changes of a decoded batch that the query selects, in the
 * query's order; 0 to go on, or what stopped the walk. */
static int
hreader_walk(struct db *db, struct hrwalk *w, struct hrbatch *hb)
{
	size_t	n = hb->b.nch, k;
	int	ret = 0;

	for (k = 0; k < n && ret == 0 && !w->done; k++)
		ret = hreader_change(db, w, hb, w->q->newest_first ?
		    n - 1 - k : k);
	return (ret);
}

/*
 * The changes a query selects, in generation order, to cb. One
 * statement, built for the query, finds the batches that may hold them
 * (an exact path, a subtree or a subject through the batch indexes, the
 * generation bounds, with those the times give, as a range); each is
 * decoded and its changes tested one by one. For with_old, an older
 * batch stays decoded in the walk: oldest first, the one just walked;
 * newest first, the one the last old value came from, which is often
 * the next to walk.
 */
int
db_history(struct db *db, const struct db_hquery *q, db_hchange_cb *cb,
    void *arg)
{
	struct hrwalk		 w;
	struct hrbatch		 cur;
	struct hbatch_row	 r;
	sqlite3_stmt		*st;
	char			*end;
	bool			 empty;
	int			 error, ret;

	if ((error = hreader_check(db)) != 0)
		return (error);
	memset(&w, 0, sizeof w);
	memset(&cur, 0, sizeof cur);
	if ((error = hreader_time_gens(db, q, &w.lo, &w.hi, &empty)) != 0)
		return (error);
	if (empty)
		return (0);
	w.q = q;
	w.plen = q->path != NULL ? strlen(q->path) : 0;
	if (q->with_old && !q->newest_first)
		w.seen = hmap_create();
	w.cb = cb;
	w.arg = arg;
	if ((error = hreader_batches(db, w.lo, w.hi, q->path, q->subtree,
	    q->subject, q->newest_first, &st, &end)) != 0)
		return (error);
	while ((ret = hbatch_read(db, st, &r)) == 1) {
		if (w.first == 0)
			w.first = r.gen_lo;
		if (q->with_old && w.old.loaded && w.old.gen_lo == r.gen_lo)
			hrbatch_move(&cur, &w.old);
		else if ((ret = hrbatch_load(db, &cur, &r,
		    q->with_old && q->newest_first)) != 0)
			break;
		ret = hreader_walk(db, &w, &cur);
		if (q->with_old && !q->newest_first)
			hrbatch_move(&w.old, &cur);
		else
			hrbatch_free(&cur);
		if (ret != 0 || w.done)
			break;
	}
	hrbatch_free(&cur);
	hrbatch_free(&w.old);
	if (w.seen != NULL)
		hreader_seen_free(&w);
	sqlite3_finalize(st);
	free(end);
	return (ret);
}

/* The extent of the history, and what thinning has done to it. */
int
db_history_info(struct db *db, struct db_hinfo *info)
{
	struct hbatch_row	 r;
	sqlite3_stmt		*st;
	uint64_t		 thin_min = 0;
	int			 rc, error;

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
	if ((error = hbatch_first(db, ST_HBATCH_FIRST, 0, &r)) == 1) {
		info->first_gen = r.gen_lo;
		info->first_ns = r.ns_lo;
	}
	sqlite3_reset(db->stmt[ST_HBATCH_FIRST]);
	if (error < 0)
		return (error);
	if ((error = hbatch_first(db, ST_HBATCH_LAST, 0, &r)) == 1) {
		info->last_gen = r.gen_hi;
		info->last_ns = r.ns_hi;
	}
	sqlite3_reset(db->stmt[ST_HBATCH_LAST]);
	if (error < 0)
		return (error);
	/* The store written whole again after a gap, and nothing since:
	 * its snapshot is the last generation. */
	if ((st = db_stmt(db, ST_SNAP_LAST)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (uint64_t)sqlite3_column_int64(st, 0) > info->last_gen) {
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

/*
 * The last commit at or before ns is *gen; if a gap follows it, the
 * store was written whole again at the gap's end, at a time the
 * snapshot taken then gives: at or after that time the tree is that
 * generation's; before it, the commits given up may or may not have
 * come, so ns is in the gap (*gen its first generation, which
 * db_tree_at refuses). 0 or -errno.
 */
static int
hreader_gap_at(struct db *db, uint64_t ns, uint64_t *gen)
{
	sqlite3_stmt	*st;
	uint64_t	 lo, hi;
	int		 rc;

	if (db->version < 4)
		return (0);
	if ((st = db_stmt(db, ST_HGAP_AFTER)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, hreader_i64(*gen));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc == SQLITE_DONE ? 0 : hreader_fail(db, rc));
	}
	lo = (uint64_t)sqlite3_column_int64(st, 0);
	hi = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (lo > *gen)
		return (0);	/* commits kept before it are later than ns */
	if ((st = db_stmt(db, ST_SNAP_TIME)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, hreader_i64(hi));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    (uint64_t)sqlite3_column_int64(st, 0) <= ns)
		*gen = hi;
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*gen = lo + 1;
	sqlite3_reset(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    hreader_fail(db, rc));
}

/* The last commit at or before ns; -ERANGE before the history. */
int
db_gen_at(struct db *db, uint64_t ns, uint64_t *gen)
{
	bool	found;
	int	error;

	*gen = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if ((error = hist_gen_at(db, ns, gen, &found)) < 0)
		return (error);
	if (!found)
		return (-ERANGE);
	return (hreader_gap_at(db, ns, gen));
}

/* The time of commit gen, or of the first kept after it; -ERANGE:
 * none. */
int
db_commit_time(struct db *db, uint64_t gen, uint64_t *ns)
{
	uint64_t	g;
	bool		found;
	int		error;

	*ns = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if ((error = hist_first_at(db, gen, &g, ns, &found)) < 0)
		return (error);
	return (found ? 0 : -ERANGE);
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

/* Apply the kept changes of generations (from, to] below root, batch
 * by batch (below a root other than "/", the batches hpath names). */
static int
hreader_replay(struct db *db, struct htree *t, uint64_t from, uint64_t to,
    const char *root)
{
	const struct hblob_change	*ch;
	struct hbatch_row		 r;
	struct hblob			 b;
	sqlite3_stmt			*st;
	char				*end;
	size_t				 rlen = strlen(root), i;
	uint64_t			 g;
	int				 ret;

	if ((ret = hreader_batches(db, from + 1, to, root, true, -1, false,
	    &st, &end)) != 0)
		return (ret);
	while ((ret = hbatch_read(db, st, &r)) == 1) {
		if ((ret = hbatch_decode(db, &r, &b)) != 0)
			break;
		for (i = 0; i < b.nch; i++) {
			ch = &b.ch[i];
			if ((g = b.c[ch->commit].gen) > to)
				break;		/* generations grow */
			if (g <= from || !hreader_below(ch->path, root, rlen))
				continue;
			if (ch->flags & HBLOB_DELETED)
				htree_remove(t, ch->path);
			else
				htree_set(t, ch->path, ch->value, ch->vlen,
				    ch->perms, g,
				    (ch->flags & HBLOB_CREATED) != 0);
		}
		hblob_free(&b);
	}
	sqlite3_finalize(st);
	free(end);
	return (ret);
}

/*
 * Whether gen falls in a gap of the history (commits given up while the
 * database could not be written): 0 and the commits lo and hi around
 * it (the tree is known at both), or -ENOENT. Version 3 files have none.
 */
int
db_history_gap(struct db *db, uint64_t gen, uint64_t *lo, uint64_t *hi)
{
	sqlite3_stmt	*st;
	int		 rc, error;

	if ((error = hreader_check(db)) != 0)
		return (error);
	if (db->version < 4)
		return (-ENOENT);
	if ((st = db_stmt(db, ST_HGAP_AT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, hreader_i64(gen));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*lo = (uint64_t)sqlite3_column_int64(st, 0);
		*hi = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? -ENOENT : hreader_fail(db, rc));
}

/* Every gap of the history, oldest first (malloc'd arrays the caller
 * frees; none for a version 3 file). 0 or -errno. */
int
db_history_gaps(struct db *db, uint64_t **lo, uint64_t **hi, size_t *n)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	int		 rc, error;

	*lo = *hi = NULL;
	*n = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if (db->version < 4)
		return (0);
	if ((st = db_stmt(db, ST_HGAP_ALL)) == NULL)
		return (-EIO);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			*lo = xrealloc(*lo, cap * sizeof **lo);
			*hi = xrealloc(*hi, cap * sizeof **hi);
		}
		(*lo)[*n] = (uint64_t)sqlite3_column_int64(st, 0);
		(*hi)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(*lo);
		free(*hi);
		*lo = *hi = NULL;
		*n = 0;
		return (hreader_fail(db, rc));
	}
	return (0);
}

/*
 * The tree below path as it was just after commit gen, in creation
 * order: the newest snapshot at or before gen, and the kept changes
 * after it. -ERANGE when no snapshot serves: none at or before gen, or
 * the budget has deleted commits after the newest one (then only its
 * own generation is served); -ENODATA when gen falls in a gap of the
 * history (db_history_gap).
 */
int
db_tree_at(struct db *db, uint64_t gen, const char *path, db_tree_cb *cb,
    void *arg)
{
	struct htree	 t;
	struct hsnap	 snap;
	struct hnode	*n;
	sqlite3_stmt	*st;
	uint64_t	 sgen, nodes, raw, dropped = 0, gap_lo, gap_hi;
	int		 rc, error, ret = 0;

	if ((error = hreader_check(db)) != 0)
		return (error);
	if (path == NULL || path[0] != '/')
		return (-EINVAL);
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (hreader_fail(db, SQLITE_ERROR));
	if ((ret = db_history_gap(db, gen, &gap_lo, &gap_hi)) != -ENOENT) {
		if (ret == 0)
			ret = -ENODATA;
		goto out;
	}
	ret = 0;
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

/* Run a one-generation query of hname bound to domid and to gen, or to
 * name if not NULL: 1 and *out, 0 if it gives NULL, or -errno. */
static int
hreader_hname_gen(struct db *db, enum db_stmt which, uint32_t domid,
    uint64_t gen, const char *name, uint64_t *out)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	if ((st = db_stmt(db, which)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, domid);
	if (name != NULL)
		sqlite3_bind_blob(st, 2, name, (int)strlen(name),
		    SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, hreader_i64(gen));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (hreader_fail(db, rc));
	return (found);
}

/* The life of domid in which it last had name (db.h). */
int
db_name_life(struct db *db, const char *name, uint32_t domid, uint64_t *lo,
    uint64_t *hi)
{
	uint64_t	named = 0;
	int		error;

	if ((error = hreader_check(db)) != 0)
		return (error);
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (hreader_fail(db, SQLITE_ERROR));
	*lo = 0;
	*hi = UINT64_MAX;
	error = hreader_hname_gen(db, ST_NAME_LAST, domid, 0, name, &named);
	if (error == 0)
		error = -ENOENT;
	if (error > 0)
		error = hreader_hname_gen(db, ST_LIFE_FIRST, domid, named, NULL,
		    lo);
	if (error > 0)
		error = hreader_hname_gen(db, ST_LIFE_END, domid, named, NULL,
		    hi);
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	return (error < 0 ? error : 0);
}

/*
 * The domids whose /local/domain/<id>/name was ever name (hname
 * finds them), most recent first, each with when it last had it: when
 * its name next changed (or went), or the history's last commit time
 * if it still has it.
 */
int
db_domids_named(struct db *db, const char *name, uint32_t **domids,
    uint64_t **last_ns, size_t *count)
{
	struct hbatch_row	 r;
	sqlite3_stmt		*st;
	uint32_t		*ids = NULL;
	uint64_t		*gens = NULL, *ns = NULL, now = 0, t;
	size_t			 n = 0, cap = 0, i, j;
	int			 rc, error;

	*domids = NULL;
	*last_ns = NULL;
	*count = 0;
	if ((error = hreader_check(db)) != 0)
		return (error);
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (hreader_fail(db, SQLITE_ERROR));
	if ((error = hbatch_first(db, ST_HBATCH_LAST, 0, &r)) == 1)
		now = r.ns_hi;
	sqlite3_reset(db->stmt[ST_HBATCH_LAST]);
	if (error < 0)
		goto out;
	error = 0;
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
		if ((st = db_stmt(db, ST_HNAME_NEXT)) == NULL) {
			error = -EIO;
			goto out;
		}
		sqlite3_bind_int64(st, 1, (int64_t)ids[i]);
		sqlite3_bind_int64(st, 2, hreader_i64(gens[i]));
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
