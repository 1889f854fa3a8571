/*
 * The writer: db_append() and friends run on the daemon's event loop and
 * only copy records into a queue under a mutex; one writer thread takes
 * the whole queue at a time, builds a pending chunk per incarnation,
 * cuts chunks (full, or old enough that their bytes are due), and
 * commits many chunks per transaction, compressing them as it inserts.
 * Retention runs in the same transactions, from running totals.
 *
 * Time: every byte must reach a commit within flush_ms (F). When the
 * queue turns non-empty it notes the time (start): its bytes arrived no
 * earlier. A pending chunk is due at start + F/2; when the writer wakes
 * for the earliest due chunk it also cuts those due within the next F/4,
 * so a slow console makes one chunk per F/4..F/2 and commits group many
 * consoles. The other half of F is the margin for compressing and
 * committing.
 *
 * This file holds the queue and the thread; winc.c builds the chunks,
 * commit.c runs the transactions.
 *
 * Ordering: the queue keeps the caller's order. An incarnation's end is
 * committed with (or after) its last chunk; db_incarnation_begin() is
 * answered after the commit that holds everything queued before it, so
 * an end then a begin of the same domid and uuid makes a new incarnation.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "writer.h"
#include "xmalloc.h"

static void	*writer_main(void *);
static struct wblock *writer_recycle(struct db_writer *);
static void	 writer_free_blocks(struct wblock *);
static void	 writer_append(struct db *, int64_t, const void *, size_t,
		    uint64_t, uint64_t, uint16_t, uint32_t);
static void	 writer_marker(struct db *, int64_t, uint64_t, uint64_t,
		    uint64_t, uint16_t, uint32_t);
static int64_t	 writer_begin(struct db *, uint32_t, const char *,
		    const char *, uint64_t, int, uint32_t, int64_t *);

/* Monotonic time in ns. */
uint64_t
writer_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec);
}

/* Take a chunk off the ready list and free it, adding up its bytes
 * (raw) and what db_queued counts of them (acct). */
static void
writer_free_chunk(struct db_writer *w, struct wchunk *c, uint64_t *acct,
    uint64_t *raw)
{
	TAILQ_REMOVE(&w->ready, c, entry);
	*acct += c->acct;
	*raw += c->len;
	wchunk_free(c);
}

/*
 * A transaction failed (disk full, the lock held past db/busy-ms): its
 * chunks and incarnation ends stay for the next one, so a failure that
 * passes loses nothing. Up to WRITER_RETAIN_BYTES: beyond, the oldest
 * chunks go (a disk that stays full must not stall every console), as
 * do those of an incarnation whose row vanished (they could never be
 * written); their bytes (raw) are lost, their accounting (acct) given
 * back.
 */
static void
writer_retain(struct db_writer *w, uint64_t *acct, uint64_t *raw)
{
	struct wchunk	*c, *next;
	struct winc	*wi;
	size_t		 i;

	for (i = 0; i < w->nhash; i++) {
		struct winc	*wnext;

		LIST_FOREACH_SAFE(wi, &w->hash[i], hash_entry, wnext) {
			if (wi->ended && wi->cur == NULL && winc_load(w, wi) ==
			    -ENOENT)
				winc_forget(w, wi);
			else if (wi->lost_seq > wi->seq)
				winc_dirty(w, wi);	/* still to store */
		}
	}
	w->ready_raw = 0;
	TAILQ_FOREACH_SAFE(c, &w->ready, entry, next) {
		/* Kept bytes no longer count in db_queued: the console
		 * driver goes on draining (it pauses past its backlog,
		 * which may be below what is kept). */
		*acct += c->acct;
		c->acct = 0;
		if (winc_find(w, c->inc) != NULL)
			w->ready_raw += c->len;
		else
			writer_free_chunk(w, c, acct, raw);
	}
	while (w->ready_raw > WRITER_RETAIN_BYTES &&
	    (c = TAILQ_FIRST(&w->ready)) != NULL) {
		w->ready_raw -= c->len;
		if ((wi = winc_find(w, c->inc)) != NULL &&
		    c->seq > wi->lost_seq) {
			wi->lost_seq = c->seq;
			wi->lost_has_ring = c->has_ring;
			wi->lost_ring_pos = c->ring_end;
			winc_dirty(w, wi);
		}
		writer_free_chunk(w, c, acct, raw);
	}
	/* The next try half a flush_ms later, then twice as long after
	 * each failure up to a second: a full disk fails at each try,
	 * which compresses and inserts what is kept again. */
	w->retry_ns = w->retry_ns == 0 ? w->flush_ns / 2 : w->retry_ns * 2;
	if (w->retry_ns > NS_PER_S)
		w->retry_ns = NS_PER_S > w->flush_ns / 2 ? NS_PER_S :
		    w->flush_ns / 2;
	w->ready_start = writer_now();
	w->retry_at = w->ready_start + w->retry_ns;
}

/* The writer stops and its last commit failed: what it kept is lost. */
static void
writer_drop_ready(struct db_writer *w, uint64_t *raw)
{
	struct wchunk	*c;
	uint64_t	 acct = 0;	/* given back by writer_retain */

	while ((c = TAILQ_FIRST(&w->ready)) != NULL)
		writer_free_chunk(w, c, &acct, raw);
	w->ready_raw = 0;
	if (*raw > 0)
		log_error("%s: %llu bytes of console output lost: the "
		    "database could not be written before the daemon stopped",
		    w->db->path, (unsigned long long)*raw);
}

/* Finish a batch (committed, failed with error, or nothing to commit):
 * account for it, wake the callers, free it (or keep it for a retry). */
static void
writer_finish(struct db_writer *w, int committed, int error,
    uint64_t flush_want, int stop)
{
	struct wchunk	*c;
	struct winc	*wi;
	struct timespec	 ts;
	uint64_t	 acct = w->discarded, raw = 0, chunks = 0, lost = 0;
	size_t		 i;

	if (committed && error != 0) {
		writer_retain(w, &acct, &lost);
		if (stop)
			writer_drop_ready(w, &lost);
	} else if (committed) {
		w->retry_ns = 0;
		for (; (c = TAILQ_FIRST(&w->ready)) != NULL; chunks++)
			writer_free_chunk(w, c, &acct, &raw);
		w->ready_raw = 0;
		for (i = 0; i < w->nends; i++) {
			wi = winc_find(w, w->ends[i].id);
			if (wi != NULL && wi->cur == NULL)
				winc_forget(w, wi);
		}
		w->nends = 0;
	}
	w->discarded = 0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

	pthread_mutex_lock(&w->lock);
	__atomic_sub_fetch(&w->queued, acct, __ATOMIC_RELAXED);
	if (committed && error == 0) {
		w->stats.committed += raw;
		w->stats.chunks += chunks;
		w->stats.commits++;
	}
	w->stats.lost += lost;
	if (committed)
		w->stats.held = error != 0 ? w->ready_raw : 0;
	w->stats.kept = w->total;
	w->stats.durable_gen = w->h.last_gen;
	w->stats.writer_cpu_ns = (uint64_t)ts.tv_sec * NS_PER_S +
	    (uint64_t)ts.tv_nsec;
	if (w->begin != NULL) {
		w->begin->done = 1;
		w->begin = NULL;
	}
	if (flush_want > w->flush_done)
		w->flush_done = flush_want;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->lock);
}

/* When the writer must next act on its own: the earliest due chunk.
 * Never while the whole store is being queued (db_store_resync): nothing
 * is committed before its end comes, and records coming wake it. */
static uint64_t
writer_due(struct db_writer *w)
{
	uint64_t	due = TIME_NEVER, half = w->flush_ns / 2;
	struct winc	*wi;

	if (w->resync_open)
		return (TIME_NEVER);
	if ((wi = TAILQ_FIRST(&w->pending)) != NULL)
		due = wi->cur->start + half;
	if (!TAILQ_EMPTY(&w->ready) && w->ready_start + half < due)
		due = w->ready_start + half;
	if (w->hq.len > 0 && w->hq.start + half < due)
		due = w->hq.start + half;
	if (history_pending(w) && w->pend_due < due)
		due = w->pend_due;
	/* After a failure, the next try then (ends kept alone too). */
	if (w->failing && (w->nends > 0 || due < w->retry_at))
		due = w->retry_at;
	return (due);
}

/* Wait (under lock) until there is something to do. */
static void
writer_wait(struct db_writer *w, uint64_t due)
{
	struct timespec	ts;
	uint64_t	now, t;

	for (;;) {
		if (w->stop || w->urgent || w->flush_req != w->flush_done)
			return;
		now = writer_now();
		t = due;
		if (w->q.head != NULL) {
			if (w->q.bytes >= WRITER_WAKE_BYTES)
				return;
			if (w->q.start + w->flush_ns / 4 < t)
				t = w->q.start + w->flush_ns / 4;
		}
		if (t <= now)
			return;
		w->sleep_until = t;
		if (t == TIME_NEVER)
			pthread_cond_wait(&w->work, &w->lock);
		else {
			ts.tv_sec = (time_t)(t / NS_PER_S);
			ts.tv_nsec = (long)(t % NS_PER_S);
			pthread_cond_timedwait(&w->work, &w->lock, &ts);
		}
		w->sleep_until = 0;
	}
}

/* Take the limits db_set_limits() left (under lock). */
static void
writer_take_limits(struct db_writer *w)
{
	const struct db_config	*l = &w->limits;

	if (!w->limits_set)
		return;
	w->limits_set = 0;
	w->cfg.max_bytes = l->max_bytes;
	w->cfg.max_incarnation_bytes = l->max_incarnation_bytes;
	w->cfg.keep_dead_s = l->keep_dead_s;
	w->cfg.flush_ms = l->flush_ms;
	w->cfg.history_full_s = l->history_full_s;
	w->cfg.history_full_commits = l->history_full_commits;
	w->cfg.history_minute_s = l->history_minute_s;
	w->cfg.history_max_bytes = l->history_max_bytes;
	w->cfg.snapshot_interval_s = l->snapshot_interval_s;
	w->cfg.store_backlog_max = l->store_backlog_max;
	if (w->cfg.busy_ms != l->busy_ms) {
		w->cfg.busy_ms = l->busy_ms;
		sqlite3_busy_timeout(w->db->sql, (int)w->cfg.busy_ms);
	}
	w->flush_ns = (uint64_t)w->cfg.flush_ms * NS_PER_MS;
	w->thinned_at = 0;		/* thin by the new rule now */
	log_debug("%s: new limits taken", w->db->path);
}

/* The writer thread. */
static void *
writer_main(void *arg)
{
	struct db_writer	*w = arg;
	struct wqueue		 q;
	struct wblock		*blk, *next, *excess;
	struct wrec		 r;
	struct winc		*wi;
	uint64_t		 flush_want, now, window;
	size_t			 at;
	int			 stop, all, commit, txn, error, pend_now, wait;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		writer_wait(w, writer_due(w));
		writer_take_limits(w);
		q = w->q;
		memset(&w->q, 0, sizeof w->q);
		excess = writer_recycle(w);
		w->urgent = 0;
		flush_want = w->flush_req;
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		writer_free_blocks(excess);

		for (blk = q.head; blk != NULL; blk = next) {
			for (at = 0; at < blk->len; ) {
				memcpy(&r, blk->data + at, sizeof r);
				at += sizeof r;
				if (WREC_STORE(r.type))
					history_take(w, &r, blk->data + at,
					    q.start);
				else
					winc_record(w, &r, blk->data + at,
					    q.start);
				if (r.type == WREC_APPEND || WREC_STORE(r.type))
					at += (r.len + 7) & ~(uint64_t)7;
			}
			next = blk->next;
			blk->next = w->used_blocks;
			w->used_blocks = blk;
		}
		if (w->resync_open && !stop)
			continue;	/* the whole store goes in at once */

		/* Cut what is due now or within the next F/4. */
		all = stop || flush_want != w->flush_done;
		now = writer_now();
		window = now + w->flush_ns / 4;
		commit = all || w->begin != NULL || w->nends > 0 ||
		    w->ready_raw >= WRITER_BATCH_BYTES || hsnap_ready(w) ||
		    (!TAILQ_EMPTY(&w->ready) &&
		    w->ready_start + w->flush_ns / 2 <= window) ||
		    (w->hq.len > 0 && w->hq.start + w->flush_ns / 2 <= window);
		while ((wi = TAILQ_FIRST(&w->pending)) != NULL &&
		    (all || wi->cur->start + w->flush_ns / 2 <= window)) {
			winc_cut(w, wi);
			commit = 1;
		}
		/* After a failure, the next try waits (writer_retain), but
		 * for a flush, a close or a caller waiting to begin. */
		wait = w->failing && !all && w->begin == NULL &&
		    now < w->retry_at;
		/* Node updates waiting a second (a store gone quiet) are
		 * written on their own: the store's records queued since
		 * wait for their own time (flush_ms). */
		pend_now = history_pending(w) && w->pend_due <= now;
		w->hq_defer = pend_now && !commit;
		w->flush_all = all || pend_now;
		commit = (commit || pend_now) && !wait;
		w->snap_wait = all;
		txn = commit && (!TAILQ_EMPTY(&w->ready) || w->nends > 0 ||
		    w->begin != NULL || w->hq.len > 0 || hsnap_ready(w) ||
		    (all && w->snap != NULL) ||
		    (w->flush_all && history_pending(w)));
		error = 0;
		if (txn) {
			error = commit_batch(w);
			if (error != 0 && !w->failing)
				log_error("%s: commit failed (%s), %zu bytes of "
				    "console output waiting: console output kept "
				    "for a retry (up to %u MiB, the oldest lost "
				    "beyond)", w->db->path, strerror(-error),
				    w->ready_raw, WRITER_RETAIN_BYTES >> 20);
			else if (error == 0 && w->failing)
				log_info("%s: commits work again", w->db->path);
			w->failing = error != 0;
			history_done(w, error, now);
			/* A snapshot that commit started, stored before a
			 * flush or a close returns. */
			if (error == 0 && all)
				commit_snapshot(w);
		}
		if (commit || w->discarded > 0)
			writer_finish(w, txn, error, flush_want, stop);
		if (stop)
			break;
	}
	return (NULL);
}

/* Open the database for writing and start the writer thread; NULL with
 * errno set and a message in err on failure. */
struct db *
db_open_writer(const struct db_config *cfg, char *err, size_t errlen)
{
	struct db	*db;
	int		 error;

	if ((db = db_open_common(cfg->path != NULL ? cfg->path :
	    DB_DEFAULT_PATH, true, err, errlen)) == NULL)
		return (NULL);
	if ((error = writer_start(db, cfg, err, errlen)) != 0) {
		db_close_common(db);
		errno = -error;
		return (NULL);
	}
	return (db);
}

/* Set up the writer's state and start its thread (signals blocked, so
 * they reach the event loop's thread). */
int
writer_start(struct db *db, const struct db_config *cfg, char *err,
    size_t errlen)
{
	struct db_writer	*w = xcalloc(1, sizeof *w);
	pthread_condattr_t	 ca;
	sqlite3_stmt		*st;
	sigset_t		 all, old;
	int			 error;

	w->db = db;
	w->cfg = *cfg;
	if (w->cfg.flush_ms == 0)
		w->cfg.flush_ms = 1;
	if (w->cfg.chunk_bytes < 256)
		w->cfg.chunk_bytes = 256;
	if (w->cfg.chunk_bytes > CHUNK_MAX_RAW)
		w->cfg.chunk_bytes = CHUNK_MAX_RAW;
	if (w->cfg.store_backlog_max == 0)
		w->cfg.store_backlog_max = 64ULL << 20;
	if (w->cfg.busy_ms == 0)
		w->cfg.busy_ms = 5000;
	sqlite3_busy_timeout(db->sql, (int)w->cfg.busy_ms);
	w->flush_ns = (uint64_t)w->cfg.flush_ms * NS_PER_MS;
	TAILQ_INIT(&w->pending);
	TAILQ_INIT(&w->dirty);
	TAILQ_INIT(&w->ready);
	winc_grow(w);
	db->codec = chunk_codec_create(cfg->level);

	if ((st = db_stmt(db, ST_INC_TOTAL)) == NULL ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_errf(err, errlen, "%s: %s", db->path,
		    sqlite3_errmsg(db->sql));
		free(w->hash);
		free(w);
		return (-EIO);
	}
	w->total = (uint64_t)sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	w->stats.kept = w->total;
	if ((error = history_start(w, err, errlen)) != 0) {
		free(w->hash);
		free(w);
		return (error);
	}
	w->stats.durable_gen = w->h.last_gen;

	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->done, NULL);

	db->w = w;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		db_errf(err, errlen, "%s: cannot start the writer thread: %s",
		    db->path, strerror(error));
		db->w = NULL;
		history_stop(w);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
		pthread_mutex_destroy(&w->lock);
		free(w->hash);
		free(w);
		return (-error);
	}
	return (0);
}

/* Commit everything, stop the thread and free the writer's state. */
void
writer_stop(struct db *db)
{
	struct db_writer	*w = db->w;
	struct winc		*wi;
	size_t			 i;

	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);

	for (i = 0; i < w->nhash; i++) {
		while ((wi = LIST_FIRST(&w->hash[i])) != NULL)
			winc_forget(w, wi);
	}
	history_stop(w);
	free(w->hash);
	free(w->ends);
	writer_free_blocks(w->q.head);
	writer_free_blocks(w->free_blocks);
	writer_free_blocks(w->used_blocks);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w);
	db->w = NULL;
}

/* Room for n more bytes at the queue's tail (under lock). */
static unsigned char *
writer_queue_reserve(struct db_writer *w, size_t n)
{
	struct wqueue	*q = &w->q;
	struct wblock	*blk = q->tail;

	if (blk == NULL || blk->cap - blk->len < n) {
		if (n <= WRITER_BLOCK && (blk = w->free_blocks) != NULL) {
			w->free_blocks = blk->next;
			w->nfree_blocks--;
		} else {
			blk = xmalloc(sizeof *blk + (n > WRITER_BLOCK ? n :
			    WRITER_BLOCK));
			blk->cap = n > WRITER_BLOCK ? n : WRITER_BLOCK;
		}
		blk->next = NULL;
		blk->len = 0;
		if (q->tail != NULL)
			q->tail->next = blk;
		else
			q->head = blk;
		q->tail = blk;
	}
	return (blk->data + blk->len);
}

/* Give the blocks the writer has read back for reuse (under lock);
 * returns the oversized ones and those beyond WRITER_FREE_BLOCKS, to be
 * freed once the lock is released. */
static struct wblock *
writer_recycle(struct db_writer *w)
{
	struct wblock	*blk, *excess = NULL;

	while ((blk = w->used_blocks) != NULL) {
		w->used_blocks = blk->next;
		if (blk->cap != WRITER_BLOCK ||
		    w->nfree_blocks >= WRITER_FREE_BLOCKS) {
			blk->next = excess;
			excess = blk;
			continue;
		}
		blk->next = w->free_blocks;
		w->free_blocks = blk;
		w->nfree_blocks++;
	}
	return (excess);
}

/* Free a list of blocks. */
static void
writer_free_blocks(struct wblock *blk)
{
	struct wblock	*next;

	for (; blk != NULL; blk = next) {
		next = blk->next;
		free(blk);
	}
}

/* Queue a record with room for len bytes after it (under lock), which
 * the caller fills before unlocking; wake the writer if it sleeps past
 * when these bytes need it. */
unsigned char *
writer_queue_rec(struct db_writer *w, const struct wrec *r, size_t len)
{
	struct wqueue	*q = &w->q;
	unsigned char	*p;
	size_t		 padded = (len + 7) & ~(size_t)7;
	int		 wake = 0;

	if (q->head == NULL) {
		q->start = writer_now();
		wake = w->sleep_until > q->start + w->flush_ns / 4;
	}
	p = writer_queue_reserve(w, sizeof *r + padded);
	memcpy(p, r, sizeof *r);
	if (padded > len)
		memset(p + sizeof *r + len, 0, padded - len);
	q->tail->len += sizeof *r + padded;
	q->bytes += len;
	if (q->bytes >= WRITER_WAKE_BYTES && w->sleep_until != 0)
		wake = 1;
	if (wake) {
		w->sleep_until = 0;
		pthread_cond_signal(&w->work);
	}
	return (p + sizeof *r);
}

/* Queue a record and its bytes (under lock). */
static void
writer_queue(struct db_writer *w, const struct wrec *r, const void *bytes,
    size_t len)
{
	unsigned char	*p = writer_queue_rec(w, r, len);

	if (len > 0)
		memcpy(p, bytes, len);
}

/* Hand console bytes over to the writer; never blocks on disk. */
void
db_append(struct db *db, int64_t inc, const void *buf, size_t len,
    uint64_t ns, uint64_t gen)
{
	writer_append(db, inc, buf, len, ns, gen, 0, 0);
}

/* The same, from a console ring: ring_end is its position after them. */
void
db_append_ring(struct db *db, int64_t inc, const void *buf, size_t len,
    uint64_t ns, uint64_t gen, uint32_t ring_end)
{
	writer_append(db, inc, buf, len, ns, gen, WREC_F_RING, ring_end);
}

static void
writer_append(struct db *db, int64_t inc, const void *buf, size_t len,
    uint64_t ns, uint64_t gen, uint16_t flags, uint32_t ring_end)
{
	struct db_writer	*w = db->w;
	struct wrec		 r;

	if (w == NULL || len == 0 || inc <= 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = WREC_APPEND;
	r.flags = flags;
	r.pad = ring_end;
	r.inc = inc;
	r.ns = ns;
	r.gen = gen;
	r.len = len;
	pthread_mutex_lock(&w->lock);
	writer_queue(w, &r, buf, len);
	w->stats.appended += len;
	__atomic_add_fetch(&w->queued, len, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->lock);
}

/* Mark nbytes the caller dropped with a line in the incarnation's log. */
void
db_dropped(struct db *db, int64_t inc, uint64_t nbytes, uint64_t ns,
    uint64_t gen)
{
	writer_marker(db, inc, nbytes, ns, gen, 0, 0);
}

/* Mark nbytes read from the ring and never committed; the ring is at
 * ring_now (what the marker stands for ends there). */
void
db_lost(struct db *db, int64_t inc, uint64_t nbytes, uint64_t ns,
    uint64_t gen, uint32_t ring_now)
{
	writer_marker(db, inc, nbytes, ns, gen, WREC_F_LOST | WREC_F_RING,
	    ring_now);
}

static void
writer_marker(struct db *db, int64_t inc, uint64_t nbytes, uint64_t ns,
    uint64_t gen, uint16_t flags, uint32_t ring_now)
{
	struct db_writer	*w = db->w;
	struct wrec		 r;

	if (w == NULL || inc <= 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = WREC_DROPPED;
	r.flags = flags;
	r.pad = ring_now;
	r.inc = inc;
	r.ns = ns;
	r.gen = gen;
	r.len = nbytes;
	pthread_mutex_lock(&w->lock);
	writer_queue(w, &r, NULL, 0);
	pthread_mutex_unlock(&w->lock);
}

/* An incarnation ended: its last chunk is cut, and it is marked gone
 * in the same commit. */
void
db_incarnation_end(struct db *db, int64_t inc, uint64_t ns)
{
	struct db_writer	*w = db->w;
	struct wrec		 r;

	if (w == NULL || inc <= 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = WREC_END;
	r.inc = inc;
	r.ns = ns;
	pthread_mutex_lock(&w->lock);
	writer_queue(w, &r, NULL, 0);
	pthread_mutex_unlock(&w->lock);
}

/* The incarnation of domid with this uuid that is not gone (a restarted
 * daemon continues it), or a new one; its id, or -errno. Waits for the
 * writer to commit what was queued before, and the answer. */
int64_t
db_incarnation_begin(struct db *db, uint32_t domid, const char *uuid,
    const char *name, uint64_t ns)
{
	return (writer_begin(db, domid, uuid, name, ns, 0, 0, NULL));
}

/* The same, for a ring now at ring_now; *ring_pos (if not NULL) is where
 * the committed bytes of the incarnation continued end in its ring, or
 * -1. */
int64_t
db_incarnation_begin_ring(struct db *db, uint32_t domid, const char *uuid,
    const char *name, uint64_t ns, uint32_t ring_now, int64_t *ring_pos)
{
	return (writer_begin(db, domid, uuid, name, ns, 1,
	    ring_now, ring_pos));
}

static int64_t
writer_begin(struct db *db, uint32_t domid, const char *uuid,
    const char *name, uint64_t ns, int has_ring, uint32_t ring_now,
    int64_t *ring_pos)
{
	struct db_writer	*w = db->w;
	struct wbegin		 b;
	struct wrec		 r;

	if (w == NULL)
		return (-EINVAL);
	memset(&b, 0, sizeof b);
	b.domid = domid;
	b.uuid = uuid != NULL ? uuid : "";
	b.name = name != NULL ? name : "";
	b.ns = ns;
	b.has_ring = has_ring;
	b.ring_now = ring_now;
	b.ring_pos = -1;
	memset(&r, 0, sizeof r);
	r.type = WREC_BEGIN;
	r.ns = ns;
	r.begin = &b;
	pthread_mutex_lock(&w->lock);
	writer_queue(w, &r, NULL, 0);
	w->urgent = 1;
	w->sleep_until = 0;
	pthread_cond_signal(&w->work);
	while (!b.done)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
	if (ring_pos != NULL)
		*ring_pos = b.result > 0 ? b.ring_pos : -1;
	return (b.result);
}

/*
 * New limits for a running writer (thread-safe; they take effect at the
 * writer's next batch): the retention budgets, flush_ms, the history's
 * bands and budget, the snapshot interval. 0 or -EINVAL for nonsense
 * (and then nothing changes). path, chunk_bytes and level are ignored.
 */
int
db_set_limits(struct db *db, const struct db_config *cfg)
{
	struct db_writer	*w = db != NULL ? db->w : NULL;

	if (w == NULL || cfg == NULL)
		return (-EINVAL);
	if (cfg->flush_ms == 0 || cfg->flush_ms > 60000 ||
	    cfg->max_bytes < DB_MIN_BUDGET ||
	    cfg->max_incarnation_bytes < DB_MIN_BUDGET ||
	    cfg->history_max_bytes < DB_MIN_BUDGET ||
	    cfg->history_minute_s < cfg->history_full_s ||
	    cfg->history_minute_s > UINT64_MAX / NS_PER_S ||
	    cfg->keep_dead_s > UINT64_MAX / NS_PER_S ||
	    cfg->snapshot_interval_s == 0 ||
	    cfg->snapshot_interval_s > UINT64_MAX / NS_PER_S ||
	    cfg->store_backlog_max == 0 || cfg->busy_ms == 0 ||
	    cfg->busy_ms > 600000)
		return (-EINVAL);
	pthread_mutex_lock(&w->lock);
	w->limits = *cfg;
	w->limits_set = 1;
	pthread_mutex_unlock(&w->lock);
	return (0);
}

/* Commit everything queued so far and wait for it. */
void
db_flush(struct db *db)
{
	struct db_writer	*w = db->w;
	uint64_t		 want;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	want = ++w->flush_req;
	w->sleep_until = 0;
	pthread_cond_signal(&w->work);
	while (w->flush_done < want)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Bytes accepted by db_append() and not yet committed (or lost). */
size_t
db_queued(const struct db *db)
{
	if (db->w == NULL)
		return (0);
	return (__atomic_load_n(&db->w->queued, __ATOMIC_RELAXED));
}

/* The writer's counters. */
void
db_stats(struct db *db, struct db_stats *out)
{
	struct db_writer	*w = db->w;

	memset(out, 0, sizeof *out);
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}
