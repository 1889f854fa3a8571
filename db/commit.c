/*
 * One transaction of the writer thread: the cut chunks compressed and
 * inserted, the incarnations' running totals written, retention (per
 * incarnation, global, dead incarnations), ends marked, a begin
 * answered; the store's records (history.c) first, its upkeep last. A
 * failure rolls everything back and reloads the totals.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "writer.h"

/* Insert one cut chunk, compressing it; 0 or -errno. */
static int
commit_insert(struct db_writer *w, struct wchunk *c)
{
	struct db	*db = w->db;
	struct winc	*wi;
	sqlite3_stmt	*st;
	const void	*z;
	size_t		 zlen;
	uint64_t	 size;
	int		 error;

	if ((error = chunk_compress(db->codec, c->raw, c->len, &z, &zlen)) != 0)
		return (error);
	if ((st = db_stmt(db, ST_CHUNK_INSERT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, c->inc);
	sqlite3_bind_int64(st, 2, c->seq);
	sqlite3_bind_int64(st, 3, (int64_t)c->first_ns);
	sqlite3_bind_int64(st, 4, (int64_t)c->last_ns);
	sqlite3_bind_int64(st, 5, (int64_t)c->first_gen);
	sqlite3_bind_int64(st, 6, (int64_t)c->last_gen);
	sqlite3_bind_int64(st, 7, (int64_t)c->len);
	sqlite3_bind_int64(st, 8, c->idx.count);
	sqlite3_bind_int(st, 9, c->continues);
	sqlite3_bind_blob(st, 10, z, (int)zlen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 11, c->idx.buf, (int)c->idx.len, SQLITE_STATIC);
	if ((error = db_step_done(db, ST_CHUNK_INSERT)) != 0)
		return (error);
	size = zlen + c->idx.len;
	w->stats.stored += size;
	w->total += size;
	if ((wi = winc_find(w, c->inc)) != NULL) {
		wi->bytes += c->len;
		wi->kept += size;
		wi->seq = c->seq;
		wi->line_open = c->raw[c->len - 1] != '\n';
		if (c->has_ring) {
			wi->has_ring = 1;
			wi->ring_pos = c->ring_end;
		}
		winc_dirty(w, wi);
	}
	return (0);
}

/* Drop an incarnation's oldest chunks until it fits its budget. */
static int
commit_retain_incarnation(struct db_writer *w, struct winc *wi)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 seqs[WRITER_RETAIN_ROWS];
	uint64_t	 sizes[WRITER_RETAIN_ROWS];
	int		 n, i, rc, error;

	while (wi->kept > w->cfg.max_incarnation_bytes) {
		if ((st = db_stmt(db, ST_CHUNK_OLDEST_OF)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, wi->id);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			seqs[n] = sqlite3_column_int64(st, 0);
			sizes[n] = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		if (n == 0)
			return (0);
		for (i = 0; i < n && wi->kept > w->cfg.max_incarnation_bytes;
		    i++) {
			st = db_stmt(db, ST_CHUNK_DELETE_SEQ);
			if (st == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, wi->id);
			sqlite3_bind_int64(st, 2, seqs[i]);
			if ((error = db_step_done(db, ST_CHUNK_DELETE_SEQ)) != 0)
				return (error);
			wi->kept -= sizes[i] < wi->kept ? sizes[i] : wi->kept;
			w->total -= sizes[i] < w->total ? sizes[i] : w->total;
		}
	}
	return (0);
}

/* Subtract a deleted chunk's size from its incarnation's kept bytes. */
static int
commit_unkeep(struct db_writer *w, int64_t inc, uint64_t size)
{
	struct winc	*wi;
	sqlite3_stmt	*st;

	w->total -= size < w->total ? size : w->total;
	if ((wi = winc_find(w, inc)) != NULL) {
		wi->kept -= size < wi->kept ? size : wi->kept;
		winc_dirty(w, wi);
		return (0);
	}
	if ((st = db_stmt(w->db, ST_INC_KEPT_SUB)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, inc);
	sqlite3_bind_int64(st, 2, (int64_t)size);
	return (db_step_done(w->db, ST_INC_KEPT_SUB));
}

/* Drop the oldest chunks of all until the total fits the budget. */
static int
commit_retain_global(struct db_writer *w)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 ids[WRITER_RETAIN_ROWS], incs[WRITER_RETAIN_ROWS];
	uint64_t	 sizes[WRITER_RETAIN_ROWS];
	int		 n, i, rc, error;

	while (w->total > w->cfg.max_bytes) {
		if ((st = db_stmt(db, ST_CHUNK_OLDEST)) == NULL)
			return (-EIO);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			ids[n] = sqlite3_column_int64(st, 0);
			incs[n] = sqlite3_column_int64(st, 1);
			sizes[n] = (uint64_t)sqlite3_column_int64(st, 2);
		}
		sqlite3_reset(st);
		if (n == 0) {
			w->total = 0;
			return (0);
		}
		for (i = 0; i < n && w->total > w->cfg.max_bytes; i++) {
			if ((st = db_stmt(db, ST_CHUNK_DELETE_ID)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, ids[i]);
			if ((error = db_step_done(db, ST_CHUNK_DELETE_ID)) != 0)
				return (error);
			if ((error = commit_unkeep(w, incs[i], sizes[i])) != 0)
				return (error);
		}
	}
	return (0);
}

/* Delete incarnations gone for longer than keep_dead_s, with their
 * chunks; at most once per second of the records' clock. */
static int
commit_expire(struct db_writer *w)
{
	struct db	*db = w->db;
	struct winc	*wi;
	sqlite3_stmt	*st;
	int64_t		 ids[WRITER_RETAIN_ROWS];
	uint64_t	 kept[WRITER_RETAIN_ROWS], keep_ns, before;
	int		 n, i, rc, error;

	if (w->clock_ns - w->expired_at < WRITER_EXPIRE_NS &&
	    w->expired_at != 0)
		return (0);
	w->expired_at = w->clock_ns;
	keep_ns = w->cfg.keep_dead_s > UINT64_MAX / NS_PER_S ? UINT64_MAX :
	    w->cfg.keep_dead_s * NS_PER_S;
	if (w->clock_ns <= keep_ns)
		return (0);
	before = w->clock_ns - keep_ns;
	if (before > INT64_MAX)
		before = INT64_MAX;
	do {
		if ((st = db_stmt(db, ST_DEAD_FIND)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, (int64_t)before);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			ids[n] = sqlite3_column_int64(st, 0);
			kept[n] = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		for (i = 0; i < n; i++) {
			if ((st = db_stmt(db, ST_DEAD_CHUNKS)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, ids[i]);
			if ((error = db_step_done(db, ST_DEAD_CHUNKS)) != 0)
				return (error);
			if ((st = db_stmt(db, ST_DEAD_INC)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, ids[i]);
			if ((error = db_step_done(db, ST_DEAD_INC)) != 0)
				return (error);
			if ((wi = winc_find(w, ids[i])) != NULL) {
				kept[i] = wi->kept;
				winc_forget(w, wi);
			}
			w->total -= kept[i] < w->total ? kept[i] : w->total;
			log_debug("%s: incarnation %lld expired", db->path,
			    (long long)ids[i]);
		}
	} while (n == WRITER_RETAIN_ROWS);
	return (0);
}

/* Write the committed state of the incarnations changed in this batch. */
static int
commit_incarnations(struct db_writer *w)
{
	struct winc	*wi;
	sqlite3_stmt	*st;
	int		 error;

	TAILQ_FOREACH(wi, &w->dirty, dirty_entry) {
		if ((error = commit_retain_incarnation(w, wi)) != 0)
			return (error);
	}
	if ((error = commit_retain_global(w)) != 0)
		return (error);
	if ((error = commit_expire(w)) != 0)
		return (error);
	while ((wi = TAILQ_FIRST(&w->dirty)) != NULL) {
		TAILQ_REMOVE(&w->dirty, wi, dirty_entry);
		wi->dirty = 0;
		if ((st = db_stmt(w->db, ST_INC_UPDATE)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, wi->id);
		sqlite3_bind_int64(st, 2, (int64_t)wi->bytes);
		sqlite3_bind_int64(st, 3, (int64_t)wi->kept);
		if (wi->lost_seq > wi->seq) {
			wi->seq = wi->lost_seq;
			if (wi->lost_has_ring) {
				wi->has_ring = 1;
				wi->ring_pos = wi->lost_ring_pos;
			}
		}
		sqlite3_bind_int64(st, 4, wi->seq);
		sqlite3_bind_int(st, 5, wi->line_open);
		if (wi->has_ring)
			sqlite3_bind_int64(st, 6, wi->ring_pos);
		else
			sqlite3_bind_null(st, 6);
		if ((error = db_step_done(w->db, ST_INC_UPDATE)) != 0)
			return (error);
	}
	return (0);
}

/* Mark the incarnations that ended in this batch gone. */
static int
commit_ends(struct db_writer *w)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 error;

	for (i = 0; i < w->nends; i++) {
		if ((st = db_stmt(w->db, ST_INC_GONE)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, w->ends[i].id);
		sqlite3_bind_int64(st, 2, (int64_t)w->ends[i].ns);
		if ((error = db_step_done(w->db, ST_INC_GONE)) != 0)
			return (error);
	}
	return (0);
}

/* The writer's idea of an incarnation whose position was just set, if it
 * has one loaded. */
static void
commit_ring_start(struct db_writer *w, int64_t id, uint32_t pos)
{
	struct winc	*wi;

	if ((wi = winc_find(w, id)) != NULL && !wi->has_ring) {
		wi->has_ring = 1;
		wi->ring_pos = pos;
	}
}

/* Answer a begin: the live incarnation of that domid and uuid, or a new
 * one; its id or -errno. */
static int64_t
commit_begin(struct db_writer *w, struct wbegin *b)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	const char	*name;
	int64_t		 id = 0;
	int		 rc, rename = 0, error;

	if ((st = db_stmt(db, ST_INC_FIND)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, b->domid);
	sqlite3_bind_text(st, 2, b->uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		rename = name == NULL || strcmp(name, b->name) != 0;
		b->ring_pos = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
		    (int64_t)(uint32_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (-db_errno(rc));
	if (id != 0 && rename) {
		if ((st = db_stmt(db, ST_INC_RENAME)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
		if ((error = db_step_done(db, ST_INC_RENAME)) != 0)
			return (error);
	}
	if (id != 0) {
		/* One without a position yet (made before version 5, or
		 * without a ring) starts at the ring's now. */
		if (b->has_ring && b->ring_pos < 0) {
			if ((st = db_stmt(db, ST_INC_RING_START)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, b->ring_now);
			if ((error = db_step_done(db, ST_INC_RING_START)) != 0)
				return (error);
			commit_ring_start(w, id, b->ring_now);
		}
		log_debug("%s: domain %u continues incarnation %lld", db->path,
		    b->domid, (long long)id);
		return (id);
	}
	if ((st = db_stmt(db, ST_INC_INSERT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, b->domid);
	sqlite3_bind_text(st, 2, b->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)b->ns);
	if (b->has_ring)
		sqlite3_bind_int64(st, 5, b->ring_now);
	else
		sqlite3_bind_null(st, 5);
	if ((error = db_step_done(db, ST_INC_INSERT)) != 0)
		return (error);
	id = sqlite3_last_insert_rowid(db->sql);
	log_debug("%s: domain %u (%s) begins incarnation %lld", db->path,
	    b->domid, b->name, (long long)id);
	return (id);
}

/* Run one statement of ST_BEGIN, ST_COMMIT or ST_ROLLBACK. While
 * commits fail, the retries' errors are logged at debug level only (the
 * writer logged the first failure, and logs the recovery). */
static int
commit_txn(struct db_writer *w, enum db_stmt which)
{
	int	error;

	/* SQLite rolls back on its own after some errors (a full disk, an
	 * I/O error): there is nothing left to roll back. */
	if (which == ST_ROLLBACK && sqlite3_get_autocommit(w->db->sql))
		return (0);
	if (db_stmt(w->db, which) == NULL)
		return (-EIO);
	w->db->retrying = w->failing;
	error = db_step_done(w->db, which);
	w->db->retrying = false;
	return (error);
}

/* After a failed commit: what is in memory is no longer what is in the
 * database; reload the committed state of every incarnation. */
static void
commit_reload(struct db_writer *w)
{
	struct winc	*wi;
	sqlite3_stmt	*st;
	size_t		 i;

	while ((wi = TAILQ_FIRST(&w->dirty)) != NULL) {
		TAILQ_REMOVE(&w->dirty, wi, dirty_entry);
		wi->dirty = 0;
	}
	for (i = 0; i < w->nhash; i++) {
		LIST_FOREACH(wi, &w->hash[i], hash_entry) {
			if (winc_load(w, wi) != 0)
				wi->ended = 1;	/* writer_retain looks again */
		}
	}
	if ((st = db_stmt(w->db, ST_INC_TOTAL)) != NULL &&
	    sqlite3_step(st) == SQLITE_ROW)
		w->total = (uint64_t)sqlite3_column_double(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
}

/* A flush or a close: the snapshot being taken on the side (hsnap.c),
 * waited for and stored in a transaction of its own. */
void
commit_snapshot(struct db_writer *w)
{
	int	error;

	if (w->snap == NULL)
		return;
	if ((error = commit_txn(w, ST_BEGIN)) != 0)
		return;			/* the next transaction has it */
	if ((error = hsnap_collect(w, true)) == 0 && w->hchanged &&
	    (error = history_save(w)) == 0)
		w->hchanged = 0;
	if (error == 0)
		error = commit_txn(w, ST_COMMIT);
	if (error != 0) {
		commit_txn(w, ST_ROLLBACK);
		history_reload(w);
	}
	hsnap_done(w, error);
}

/* Commit the store's records, the ready chunks, the ends, a begin,
 * retention and the history's upkeep in one transaction; 0 or -errno (everything in it is then lost). */
int
commit_batch(struct db_writer *w)
{
	struct wchunk	*c;
	int64_t		 id = 0;
	int		 error;

	if ((error = commit_txn(w, ST_BEGIN)) != 0) {
		if (w->begin != NULL)
			w->begin->result = error;
		return (error);
	}
	/* A retry's statements fail as the first try's did: not logged
	 * each time. */
	w->db->retrying = w->failing;
	if ((error = history_apply(w)) != 0)
		goto fail;
	TAILQ_FOREACH(c, &w->ready, entry) {
		if ((error = commit_insert(w, c)) != 0)
			goto fail;
	}
	if ((error = commit_incarnations(w)) != 0)
		goto fail;
	if ((error = commit_ends(w)) != 0)
		goto fail;
	if (w->begin != NULL && (id = commit_begin(w, w->begin)) < 0) {
		error = (int)id;
		goto fail;
	}
	if ((error = history_maintain(w)) != 0)
		goto fail;
	w->db->retrying = false;
	if ((error = commit_txn(w, ST_COMMIT)) != 0)
		goto fail;
	if (w->begin != NULL)
		w->begin->result = id;
	return (0);

fail:
	w->db->retrying = false;
	commit_txn(w, ST_ROLLBACK);
	commit_reload(w);
	history_reload(w);
	if (w->begin != NULL)
		w->begin->result = error;
	return (error);
}
