/*
 * Snapshots of the durable tree (table snapshot), the periodic ones
 * taken off the writer thread. Reading and compressing 1.5 million nodes
 * takes a second and a half; done in the writer's transaction it held
 * every console byte and store commit back that long, once an hour.
 *
 * Instead, right after the transaction that leaves table node exactly
 * the tree at a generation (every update written: history_maintain
 * flushes them when a snapshot is wanted) commits, the writer opens a
 * read connection of its own, begins a read transaction on it and reads
 * the first row (hsnap_start): SQLite's WAL keeps what that transaction
 * sees as it was at that commit, whatever the writer commits after. A
 * thread then reads the rest and compresses it (hsnap_main) while the
 * writer goes on, and the blob goes into table snapshot in the writer's
 * next transaction once it is done (hsnap_collect; db_flush and
 * db_close wait for it). A snapshot written again after the store fell
 * behind (history_resync) is taken in its transaction (hsnap_encode,
 * hsnap_store), as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "snapshot.h"
#include "writer.h"
#include "xmalloc.h"

/* A snapshot being read and compressed by its own thread. */
struct hsnap {
	pthread_t		 thread;
	struct db_writer	*w;		/* to wake it when done */
	sqlite3			*sql;		/* read-only, its own */
	sqlite3_stmt		*st;
	int			 rc;		/* of the last step */
	struct snapshot_enc	 e;
	uint64_t		 gen, ns;	/* what it is a copy of */
	uint64_t		 t0;		/* monotonic ns, started */
	double			 secs;		/* the thread's time */
	int			 error;		/* when done */
	int			 done;		/* under w->lock */
	int			 cancel;	/* atomic */
	int			 joined;
	int			 stored;	/* in the open transaction */
	int			 failures;	/* transactions that failed
						   with it */
};

#define HSNAP_TRIES	3	/* then it is given up */

/* Add the rows left in st (the last step gave rc) to e; -errno. */
int
hsnap_encode(sqlite3_stmt *st, int rc, struct snapshot_enc *e,
    const int *cancel)
{
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		if (cancel != NULL && __atomic_load_n(cancel, __ATOMIC_RELAXED))
			return (-ECANCELED);
		snapshot_enc_add(e, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0),
		    sqlite3_column_blob(st, 1),
		    (uint32_t)sqlite3_column_bytes(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2),
		    (uint64_t)sqlite3_column_int64(st, 3));
	}
	return (rc != SQLITE_DONE ? -db_errno(rc) : snapshot_enc_finish(e));
}

/* Store an encoded snapshot of generation gen (in the writer's open
 * transaction) and count it. */
int
hsnap_store(struct db_writer *w, uint64_t gen, uint64_t ns,
    const struct snapshot_enc *e)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int		 error;

	if ((st = db_stmt(db, ST_SNAP_INSERT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, (int64_t)gen);
	sqlite3_bind_int64(st, 2, (int64_t)ns);
	sqlite3_bind_int64(st, 3, (int64_t)e->nodes);
	sqlite3_bind_int64(st, 4, (int64_t)e->raw);
	sqlite3_bind_blob(st, 5, e->out, (int)e->outlen, SQLITE_STATIC);
	if ((error = db_step_done(db, ST_SNAP_INSERT)) != 0)
		return (error);
	w->h.snapshots++;
	w->h.bytes += HSNAPSHOT_BYTES + e->outlen;
	if (gen > w->h.snapshot_gen)
		w->h.snapshot_gen = gen;
	w->hchanged = 1;
	log_debug("%s: snapshot at generation %llu: %llu nodes, %zu bytes",
	    db->path, (unsigned long long)gen, (unsigned long long)e->nodes,
	    e->outlen);
	return (0);
}

/* The thread: the rest of the rows, compressed; then the writer is
 * woken to store them. */
static void *
hsnap_main(void *arg)
{
	struct hsnap		*s = arg;
	struct db_writer	*w = s->w;
	struct timespec		 ts;

	s->error = hsnap_encode(s->st, s->rc, &s->e, &s->cancel);
	sqlite3_finalize(s->st);
	s->st = NULL;
	sqlite3_exec(s->sql, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(s->sql);
	s->sql = NULL;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	s->secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_lock(&w->lock);
	s->done = 1;
	w->urgent = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	return (NULL);
}

/* Free a finished (joined) snapshot job. */
static void
hsnap_free(struct hsnap *s)
{
	if (s->st != NULL)
		sqlite3_finalize(s->st);
	if (s->sql != NULL)
		sqlite3_close(s->sql);
	snapshot_enc_free(&s->e);
	free(s);
}

/* Done with the writer's snapshot job. */
static void
hsnap_drop(struct db_writer *w)
{
	hsnap_free(w->snap);
	w->snap = NULL;
}

/*
 * Right after a commit that left table node the tree at generation gen
 * (the writer thread, between transactions): take a snapshot of it on a
 * thread of its own. 0, or -errno (none started; the caller tries after
 * its next commit).
 */
int
hsnap_start(struct db_writer *w, uint64_t gen, uint64_t ns)
{
	struct hsnap	*s;
	int		 rc, error;

	s = xcalloc(1, sizeof *s);
	s->w = w;
	s->gen = gen;
	s->ns = ns;
	s->t0 = writer_now();
	rc = sqlite3_open_v2(w->db->path, &s->sql, SQLITE_OPEN_READONLY,
	    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(s->sql, (int)w->cfg.busy_ms);
		rc = sqlite3_exec(s->sql, "BEGIN", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->sql, "SELECT path, value, perms, gen"
		    " FROM node ORDER BY id", -1, &s->st, NULL);
	/* The first row read: the read transaction now sees the tree as
	 * the writer's last commit left it, and goes on seeing it. */
	if (rc == SQLITE_OK)
		rc = s->rc = sqlite3_step(s->st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_error("%s: cannot read the tree for a snapshot: %s",
		    w->db->path, s->sql != NULL ? sqlite3_errmsg(s->sql) :
		    sqlite3_errstr(rc));
		hsnap_free(s);
		return (-EIO);
	}
	if ((error = snapshot_enc_init(&s->e, w->cfg.level)) != 0 ||
	    (error = -pthread_create(&s->thread, NULL, hsnap_main, s)) != 0) {
		log_error("%s: cannot take a snapshot: %s", w->db->path,
		    strerror(-error));
		hsnap_free(s);
		return (error);
	}
	w->snap = s;
	return (0);
}

/* Whether a snapshot's thread is done, its blob waiting to be stored. */
bool
hsnap_ready(struct db_writer *w)
{
	bool	ready;

	if (w->snap == NULL)
		return (false);
	if (w->snap->joined)
		return (true);
	pthread_mutex_lock(&w->lock);
	ready = w->snap->done != 0;
	pthread_mutex_unlock(&w->lock);
	return (ready);
}

/*
 * In the writer's transaction: store the snapshot taken on the side if
 * it is done, or (wait: a flush, a close) once it is. It stays until
 * that transaction commits (hsnap_done). A snapshot that failed is
 * given up (logged): the next is due an interval later.
 */
int
hsnap_collect(struct db_writer *w, bool wait)
{
	struct hsnap	*s = w->snap;
	int		 error;

	if (s == NULL || s->stored || (!wait && !hsnap_ready(w)))
		return (0);
	if (!s->joined)
		pthread_join(s->thread, NULL);
	s->joined = 1;
	/* Failed; or one as new was stored meanwhile (the store written
	 * whole again), and this one adds nothing. */
	if (s->error != 0 || s->gen <= w->h.snapshot_gen) {
		if (s->error != 0)
			log_error("%s: a snapshot at generation %llu failed: "
			    "%s", w->db->path, (unsigned long long)s->gen,
			    strerror(-s->error));
		hsnap_drop(w);
		return (0);
	}
	if ((error = hsnap_store(w, s->gen, s->ns, &s->e)) != 0)
		return (error);
	s->stored = 1;
	log_info("%s: snapshot at generation %llu: %llu nodes in %.3f s "
	    "(%.3f s of its thread's CPU, off the writer)", w->db->path,
	    (unsigned long long)s->gen, (unsigned long long)s->e.nodes,
	    (double)(writer_now() - s->t0) / 1e9, s->secs);
	return (0);
}

/* The writer's transaction ended: a snapshot stored in it is done with;
 * if it failed, the snapshot is stored again in the next (up to
 * HSNAP_TRIES transactions: a snapshot cannot hold the writer back). */
void
hsnap_done(struct db_writer *w, int error)
{
	struct hsnap	*s = w->snap;

	if (s == NULL || !s->stored)
		return;
	if (error != 0 && ++s->failures < HSNAP_TRIES) {
		s->stored = 0;
		return;
	}
	if (error != 0)
		log_error("%s: the snapshot at generation %llu is given up "
		    "after %d transactions failed with it", w->db->path,
		    (unsigned long long)s->gen, s->failures);
	hsnap_drop(w);
}

/* The writer is closing: a snapshot still being taken is given up. */
void
hsnap_stop(struct db_writer *w)
{
	struct hsnap	*s = w->snap;

	if (s == NULL)
		return;
	if (!s->joined) {
		__atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
		pthread_join(s->thread, NULL);
	}
	hsnap_drop(w);
}
