/*
 * The history's thinning and byte budget, in the writer thread's
 * transactions (docs/console-db.md, "Thinning"). Commits in the full
 * band (younger than history_full_s of the writer's clock, or among the
 * newest history_full_commits generations) are kept whole; older ones,
 * younger than history_minute_s, keep the last change per path per
 * minute; older still, the last per path per hour; commits left without
 * changes go. Then, while the history is over history_max_bytes, the
 * oldest commits go, and with them the snapshots they leave useless.
 * Each row is thinned once per band it enters: marks (hstate.thin_min,
 * thin_hour) say how far each band has been done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "writer.h"
#include "xmalloc.h"

#define NS_PER_MIN	(60 * NS_PER_S)
#define NS_PER_HOUR	(3600 * NS_PER_S)

/* A change being thinned. */
struct hthin_row {
	int64_t		 gen, seq;
	char		*path;
	int		 flags;
	uint64_t	 time_ns;
};

/* The first generation committed at or after ns (by the commits' times,
 * taken to grow with generations); none: last_gen + 1. */
static int
hthin_gen_since(struct db_writer *w, uint64_t ns, uint64_t *gen)
{
	sqlite3_stmt	*st;
	int		 rc;

	*gen = w->h.last_gen + 1;
	if ((st = db_stmt(w->db, ST_GEN_SINCE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, ns > INT64_MAX ? INT64_MAX : (int64_t)ns);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -db_errno(rc));
}

/* Delete one change row, counting it out. */
static int
hthin_delete(struct db_writer *w, int64_t gen, int64_t seq, uint64_t size)
{
	sqlite3_stmt	*st;
	int		 error;

	if ((st = db_stmt(w->db, ST_HCHANGE_DELETE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, gen);
	sqlite3_bind_int64(st, 2, seq);
	if ((error = db_step_done(w->db, ST_HCHANGE_DELETE)) != 0)
		return (error);
	w->h.changes -= w->h.changes > 0 ? 1 : 0;
	w->h.bytes -= size < w->h.bytes ? size : w->h.bytes;
	return (0);
}

/*
 * Thin one change: the previous kept change of its path goes when it is
 * in the same bucket (and not below floor, the band's start). A node
 * made in that bucket is still made: the kept change inherits created.
 */
static int
hthin_row(struct db_writer *w, struct hthin_row *r, uint64_t bucket_ns,
    uint64_t floor)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 pgen, pseq;
	uint64_t	 ptime, psize;
	int		 pflags, rc, error;

	if ((st = db_stmt(db, ST_THIN_PREV)) == NULL)
		return (-EIO);
	sqlite3_bind_text(st, 1, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->gen);
	sqlite3_bind_int64(st, 3, r->seq);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc == SQLITE_DONE ? 0 : -db_errno(rc));
	}
	pgen = sqlite3_column_int64(st, 0);
	pseq = sqlite3_column_int64(st, 1);
	pflags = sqlite3_column_int(st, 2);
	ptime = (uint64_t)sqlite3_column_int64(st, 3);
	psize = (uint64_t)sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	if ((uint64_t)pgen < floor || ptime / bucket_ns != r->time_ns / bucket_ns)
		return (0);
	if ((error = hthin_delete(w, pgen, pseq, psize)) != 0)
		return (error);
	if ((pflags & HREC_CREATED) &&
	    !(r->flags & (HREC_CREATED | HREC_DELETED))) {
		r->flags |= HREC_CREATED;
		if ((st = db_stmt(db, ST_HCHANGE_FLAGS)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, r->gen);
		sqlite3_bind_int64(st, 2, r->seq);
		sqlite3_bind_int(st, 3, r->flags);
		if ((error = db_step_done(db, ST_HCHANGE_FLAGS)) != 0)
			return (error);
	}
	return (0);
}

/* Thin the changes of generations [lo, hi) to the last per path per
 * bucket, then delete the commits left without changes. */
static int
hthin_range(struct db_writer *w, uint64_t lo, uint64_t hi,
    uint64_t bucket_ns, uint64_t floor)
{
	struct db		*db = w->db;
	struct hthin_row	 rows[HIST_THIN_ROWS];
	sqlite3_stmt		*st;
	int64_t			 gen = (int64_t)lo, seq = -1;
	int			 n, i, rc, error = 0, pruned;

	do {
		if ((st = db_stmt(db, ST_THIN_SCAN)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, gen);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, (int64_t)hi);
		for (n = 0; n < HIST_THIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			rows[n].gen = sqlite3_column_int64(st, 0);
			rows[n].seq = sqlite3_column_int64(st, 1);
			rows[n].path = xstrdup((const char *)
			    sqlite3_column_text(st, 2));
			rows[n].flags = sqlite3_column_int(st, 3);
			rows[n].time_ns = (uint64_t)sqlite3_column_int64(st, 4);
		}
		sqlite3_reset(st);
		if (n < HIST_THIN_ROWS && rc != SQLITE_DONE)
			error = -db_errno(rc);
		for (i = 0; i < n; i++) {
			if (error == 0)
				error = hthin_row(w, &rows[i], bucket_ns, floor);
			free(rows[i].path);
		}
		if (n > 0) {
			gen = rows[n - 1].gen;
			seq = rows[n - 1].seq;
		}
	} while (error == 0 && n == HIST_THIN_ROWS);
	if (error != 0)
		return (error);

	if ((st = db_stmt(db, ST_HCOMMIT_PRUNE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, (int64_t)lo);
	sqlite3_bind_int64(st, 2, (int64_t)hi);
	if ((error = db_step_done(db, ST_HCOMMIT_PRUNE)) != 0)
		return (error);
	pruned = sqlite3_changes(db->sql);
	w->h.commits -= (uint64_t)pruned < w->h.commits ? (uint64_t)pruned :
	    w->h.commits;
	w->h.bytes -= (uint64_t)pruned * HCOMMIT_BYTES < w->h.bytes ?
	    (uint64_t)pruned * HCOMMIT_BYTES : w->h.bytes;
	return (0);
}

/* ns seconds, saturated. */
static uint64_t
hthin_ns(uint64_t s)
{
	return (s > UINT64_MAX / NS_PER_S ? UINT64_MAX : s * NS_PER_S);
}

/*
 * Thin what left the full band since the last run (minute buckets), and
 * what left the minute band (hour buckets), oldest band first.
 */
int
hthin_run(struct db_writer *w)
{
	struct hstate	*h = &w->h;
	uint64_t	 clock = w->clock_ns, full_from, min_from, t, g, lo;
	int		 error;

	if (h->last_gen == 0)
		return (0);
	/* The full band: the newest full_commits generations, and the
	 * commits younger than full_s. */
	full_from = h->last_gen >= w->cfg.history_full_commits ?
	    h->last_gen - w->cfg.history_full_commits + 1 : 0;
	t = hthin_ns(w->cfg.history_full_s);
	t = clock > t ? clock - t : 0;
	if ((error = hthin_gen_since(w, t, &g)) != 0)
		return (error);
	if (g < full_from)
		full_from = g;
	/* The minute band: younger than minute_s, older than full. */
	t = hthin_ns(w->cfg.history_minute_s);
	t = clock > t ? clock - t : 0;
	if ((error = hthin_gen_since(w, t, &min_from)) != 0)
		return (error);
	if (min_from > full_from)
		min_from = full_from;

	if (min_from > h->thin_hour) {
		if ((error = hthin_range(w, h->thin_hour, min_from,
		    NS_PER_HOUR, 0)) != 0)
			return (error);
		log_debug("%s: history thinned per hour up to generation %llu",
		    w->db->path, (unsigned long long)min_from);
		h->thin_hour = min_from;
	}
	lo = h->thin_min > h->thin_hour ? h->thin_min : h->thin_hour;
	if (full_from > lo) {
		if ((error = hthin_range(w, lo, full_from, NS_PER_MIN,
		    h->thin_hour)) != 0)
			return (error);
		log_debug("%s: history thinned per minute up to generation "
		    "%llu", w->db->path, (unsigned long long)full_from);
	}
	if (full_from > h->thin_min)
		h->thin_min = full_from;
	if (h->thin_min < h->thin_hour)
		h->thin_min = h->thin_hour;
	return (0);
}

/* Delete one commit and its changes, counting them out. */
static int
hthin_drop_commit(struct db_writer *w, int64_t gen)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	uint64_t	 count = 0, size = 0;
	int		 rc, error;

	if ((st = db_stmt(db, ST_HCOMMIT_SIZE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, gen);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count = (uint64_t)sqlite3_column_int64(st, 0);
		size = (uint64_t)sqlite3_column_double(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return (-db_errno(rc));
	if ((st = db_stmt(db, ST_HCHANGE_DELETE_GEN)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, gen);
	if ((error = db_step_done(db, ST_HCHANGE_DELETE_GEN)) != 0)
		return (error);
	if ((st = db_stmt(db, ST_HCOMMIT_DELETE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, gen);
	if ((error = db_step_done(db, ST_HCOMMIT_DELETE)) != 0)
		return (error);
	size += HCOMMIT_BYTES;
	w->h.changes -= count < w->h.changes ? count : w->h.changes;
	w->h.commits -= w->h.commits > 0 ? 1 : 0;
	w->h.bytes -= size < w->h.bytes ? size : w->h.bytes;
	if ((uint64_t)gen > w->h.dropped_gen)
		w->h.dropped_gen = (uint64_t)gen;
	return (0);
}

/* Delete the snapshots older than gen, but the newest of all. */
static int
hthin_drop_snapshots(struct db_writer *w, uint64_t gen)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 gens[WRITER_RETAIN_ROWS];
	uint64_t	 sizes[WRITER_RETAIN_ROWS], size;
	int		 n, i, rc, error;

	do {
		if ((st = db_stmt(db, ST_SNAP_OLD)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, gen > INT64_MAX ? INT64_MAX :
		    (int64_t)gen);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			gens[n] = sqlite3_column_int64(st, 0);
			sizes[n] = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		for (i = 0; i < n; i++) {
			if ((st = db_stmt(db, ST_SNAP_DELETE)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, gens[i]);
			if ((error = db_step_done(db, ST_SNAP_DELETE)) != 0)
				return (error);
			size = sizes[i] + HSNAPSHOT_BYTES;
			w->h.snapshots -= w->h.snapshots > 0 ? 1 : 0;
			w->h.bytes -= size < w->h.bytes ? size : w->h.bytes;
		}
	} while (n == WRITER_RETAIN_ROWS);
	return (0);
}

/*
 * The byte budget: while the history (rows and snapshots, as counted)
 * is over history_max_bytes, the oldest commits go, and the snapshots
 * older than what is left (but the newest snapshot, always kept).
 */
int
hthin_budget(struct db_writer *w)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 gens[WRITER_RETAIN_ROWS];
	int		 n, i, rc, error;
	uint64_t	 max = w->cfg.history_max_bytes;

	while (w->h.bytes > max) {
		if ((st = db_stmt(db, ST_HCOMMIT_OLDEST)) == NULL)
			return (-EIO);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++)
			gens[n] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (n == 0)
			break;
		for (i = 0; i < n && w->h.bytes > max; i++) {
			if ((error = hthin_drop_commit(w, gens[i])) != 0)
				return (error);
		}
		if ((error = hthin_drop_snapshots(w, w->h.dropped_gen)) != 0)
			return (error);
	}
	if (w->h.bytes > max &&
	    (error = hthin_drop_snapshots(w, UINT64_MAX)) != 0)
		return (error);
	log_debug("%s: history within its budget: %llu bytes, commits from "
	    "generation %llu on", db->path, (unsigned long long)w->h.bytes,
	    (unsigned long long)w->h.dropped_gen + 1);
	return (0);
}
