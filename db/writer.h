/*
 * The writer's state, shared by its three files (db/ only): writer.c
 * (the callers' queue and the thread), winc.c (incarnations and their
 * pending chunks) and commit.c (one transaction: chunks, totals,
 * retention).
 */
#ifndef XSC_WRITER_H
#define XSC_WRITER_H

#include <pthread.h>

#include "db-private.h"
#include "hstore.h"
#include "queue.h"

#define NS_PER_MS		1000000ULL
#define NS_PER_S		1000000000ULL
#define TIME_NEVER		UINT64_MAX
#define WRITER_WAKE_BYTES	(256u << 10)	/* queued: start work now */
#define WRITER_BATCH_BYTES	(4u << 20)	/* cut and waiting: commit now */
#define WRITER_RETAIN_BYTES	(8u << 20)	/* console bytes kept while
						   commits fail */
#define WRITER_EXPIRE_NS	NS_PER_S	/* dead incarnations checked */
#define WRITER_RETAIN_ROWS	64		/* chunks per retention query */
#define WRITER_BLOCK		(64u << 10)	/* queue block */
#define WRITER_FREE_BLOCKS	64		/* blocks kept for reuse */
#define DB_MIN_BUDGET		(1u << 20)	/* db_set_limits: byte budgets */
#define HIST_THIN_NS		NS_PER_S	/* thinning runs this often */
#define HIST_PEND_MAX		65536		/* node updates waiting: flush */
#define HIST_PEND_NS		NS_PER_S	/* ... or waiting this long */
/* Stored bytes counted for a snapshot: this + its blob. */
#define HSNAPSHOT_BYTES		32

enum wrec_type {
	WREC_APPEND,
	WREC_DROPPED,
	WREC_END,
	WREC_BEGIN,
	/* The store's records (history.c); their bytes follow, len of
	 * them, padded to 8. */
	WREC_COMMIT,		/* gen, ns, pad: origin, inc: in_txn */
	WREC_FORGET,		/* gen, inc: domid */
	WREC_DOMAIN_PUT,	/* a struct db_domain */
	WREC_DOMAIN_DEL,	/* inc: domid */
	WREC_WATCH_PUT,		/* inc: domid; struct hrec_watch */
	WREC_WATCH_DEL,		/* the same */
	WREC_META_PUT,		/* struct hrec_meta */
	WREC_RESYNC,		/* gen: the whole store follows */
	WREC_RESYNC_END,
};
#define WREC_STORE(t)	((t) >= WREC_COMMIT)

/* A queued record; an APPEND's bytes follow it, padded to 8. */
#define WREC_F_RING	1u	/* APPEND, DROPPED: pad is the ring position
				   after */
#define WREC_F_LOST	2u	/* DROPPED: lost at a stop, not dropped */
struct wrec {
	uint16_t	 type;
	uint16_t	 flags;
	uint32_t	 pad;		/* COMMIT: origin; APPEND: ring
					   position (WREC_F_RING) */
	int64_t		 inc;
	uint64_t	 ns;
	uint64_t	 gen;
	uint64_t	 len;		/* APPEND: bytes following; DROPPED:
					   bytes the caller dropped */
	struct wbegin	*begin;
};

/* A WREC_COMMIT's bytes: a uint64_t count, then per change this header
 * and the path (NUL-terminated), the value, the perms (NUL-terminated). */
#define HREC_DELETED	1u
#define HREC_CREATED	2u
struct hrec_change {
	uint32_t	 flags;
	uint32_t	 pathlen;	/* with the NUL */
	uint32_t	 vlen;
	uint32_t	 permslen;	/* with the NUL */
};

/* A watch record's bytes: this, then path and token, NUL-terminated. */
struct hrec_watch {
	uint32_t	 depth;
	uint32_t	 pathlen;
	uint32_t	 tokenlen;
	uint32_t	 pad;
};

/* A meta record's bytes: this, then key and value, NUL-terminated. */
struct hrec_meta {
	uint32_t	 keylen;
	uint32_t	 vlen;		/* 0: delete the key */
};

/* A block of queued records. A record never straddles two blocks, so
 * the caller never copies what it queued before (a growing buffer
 * would, at the worst time: when the writer is behind). */
struct wblock {
	struct wblock	*next;
	size_t		 len, cap;
	unsigned char	 data[];
};

/* Records in arrival order. */
struct wqueue {
	struct wblock	*head, *tail;
	size_t		 bytes;		/* APPEND bytes in it */
	uint64_t	 start;		/* monotonic ns when it turned
					   non-empty */
};

/* A db_incarnation_begin() waiting for the writer. */
struct wbegin {
	uint32_t	 domid;
	const char	*uuid;
	const char	*name;
	uint64_t	 ns;
	int64_t		 result;
	int		 has_ring;	/* ring_now given */
	uint32_t	 ring_now;
	int64_t		 ring_pos;	/* of the incarnation continued */
	int		 done;
};

/* A chunk, pending (still growing) or cut and waiting for its commit. */
struct wchunk {
	TAILQ_ENTRY(wchunk) entry;
	int64_t		 inc;
	int64_t		 seq;
	uint64_t	 first_ns, last_ns;
	uint64_t	 first_gen, last_gen;
	unsigned char	*raw;
	size_t		 len, cap;
	struct lineidx	 idx;
	int		 continues;
	int		 has_ring;	/* ring_end known */
	uint32_t	 ring_end;	/* ring position after its last
					   byte from the ring */
	uint64_t	 acct;		/* bytes of it from db_append */
	uint64_t	 start;		/* its oldest byte arrived after this */
};
TAILQ_HEAD(wchunks, wchunk);

/* What the writer knows of an incarnation it writes to. */
struct winc {
	int64_t		 id;
	LIST_ENTRY(winc) hash_entry;
	TAILQ_ENTRY(winc) pending_entry;	/* while cur != NULL */
	TAILQ_ENTRY(winc) dirty_entry;		/* while dirty */
	struct wchunk	*cur;			/* the pending chunk */
	int64_t		 next_seq;
	int		 open;			/* last byte queued is not
						   a newline */
	int		 ended;
	int		 dirty;
	/* As committed (or about to be, in the open transaction). */
	uint64_t	 bytes, kept;
	int64_t		 seq;
	int		 line_open;
	int		 has_ring;	/* ring_pos known */
	uint32_t	 ring_pos;
	/* The newest seq of its chunks given up (writer_retain), and
	 * where that chunk ended in the ring; stored as last_seq (and
	 * ring_pos) with the next commit while no newer chunk is, so
	 * readers tell a hole at the end of its log and a restart does
	 * not count those bytes again. Not reloaded: a failed commit
	 * leaves them. */
	int64_t		 lost_seq;
	int		 lost_has_ring;
	uint32_t	 lost_ring_pos;
};
LIST_HEAD(winc_list, winc);
TAILQ_HEAD(winc_queue, winc);

/* An incarnation's end, waiting for its commit. */
struct wend {
	int64_t		 id;
	uint64_t	 ns;
};

/* The history's running totals and marks, as in table hstate. */
struct hstate {
	uint64_t	 last_gen;	/* the last durable commit */
	uint64_t	 bytes;		/* history rows and snapshots */
	uint64_t	 commits, changes, snapshots;
	uint64_t	 thin_min;	/* gens below: thinned per minute */
	uint64_t	 thin_hour;	/* gens below: thinned per hour */
	uint64_t	 dropped_gen;	/* every commit up to it deleted
					   (budget) */
	uint64_t	 snapshot_ns;	/* the newest snapshot's time */
	uint64_t	 snapshot_gen;	/* ... and generation */
	uint64_t	 node_gen;	/* table node has every update up to
					   it (later ones: replay history) */
};

/* The store's records taken from the queue, applied in the next
 * transaction (a copy: the queue's blocks are recycled before). */
struct hqueue {
	unsigned char	*buf;
	size_t		 len, cap;
	uint64_t	 start;		/* earliest queue start in it */
};

/*
 * The changes ahead in hq, for the node updates noted by path (w->pend):
 * their paths hashed, the map's slots and then entries asked for from
 * memory before the lookups come (hmap_prefetch_slot, _entry).
 */
#define HIST_AHEAD	8		/* changes between the two asks */
struct hahead {
	const char		*path[2 * HIST_AHEAD];	/* a ring */
	uint32_t		 hash[2 * HIST_AHEAD];
	unsigned		 head, n;
	size_t			 at;	/* the next record of hq to look in */
	const unsigned char	*p;	/* the next change of the one before */
	uint64_t		 left;	/* changes left in it */
};

struct db_writer {
	struct db		*db;
	struct db_config	 cfg;
	uint64_t		 flush_ns;
	pthread_t		 thread;

	/* Shared with the callers, under lock. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* the writer waits here */
	pthread_cond_t		 done;		/* callers wait here */
	struct wqueue		 q;
	struct wblock		*free_blocks;
	size_t			 nfree_blocks;
	uint64_t		 sleep_until;	/* 0: the writer is awake */
	int			 urgent;	/* a begin is queued */
	int			 stop;
	struct db_config	 limits;	/* db_set_limits, not taken */
	int			 limits_set;
	uint64_t		 flush_req, flush_done;
	size_t			 queued;	/* atomic; db_queued() */
	struct db_stats		 stats;

	/* The writer thread's own. */
	struct wblock		*used_blocks;	/* back to free_blocks soon */
	struct winc_list	*hash;
	size_t			 nhash, nincs;
	struct winc_queue	 pending;	/* by start */
	struct winc_queue	 dirty;
	struct wchunks		 ready;
	size_t			 ready_raw;
	uint64_t		 ready_start;	/* earliest start in ready */
	struct wend		*ends;
	size_t			 nends, capends;
	struct wbegin		*begin;
	uint64_t		 discarded;	/* acct of dropped records */
	uint64_t		 clock_ns;	/* latest time seen in a record */
	uint64_t		 expired_at;	/* clock_ns at the last check */
	uint64_t		 total;		/* kept bytes, all incarnations */
	int			 failing;	/* last commit failed */
	uint64_t		 retry_at;	/* not before then again */
	uint64_t		 retry_ns;	/* the wait after a failure */

	/* The store's side (history.c, hthin.c). */
	struct hqueue		 hq;
	struct hsink		 sink;		/* the batch being built */
	struct hstate		 h;
	uint64_t		 thinned_at;	/* clock_ns at the last thinning */
	uint32_t		*forget;	/* domids whose perms entries go */
	size_t			 nforget, capforget;
	uint64_t		 old_gens;	/* commits not newer than the
						   last (history skipped) */
	struct hmap		*pend;		/* node updates not yet in the
						   tree (or written in the open
						   transaction), by path: the
						   last one per path wins */
	struct hahead		 ahead;		/* their lookups to come */
	struct hpend		**pendv;	/* ... in the order first seen */
	size_t			 npend, cappend;
	size_t			 npending;	/* of them, not written */
	int			 hchanged;	/* hstate to save */
	int			 flush_all;	/* db_flush, db_close, or a
						   second passed: the tree gets
						   every update */
	uint64_t		 pend_due;	/* monotonic ns: write them */
	int			 hq_defer;	/* this transaction leaves hq
						   for later */
	/* Store records given up (db_store_resync): the durable store is
	 * behind the daemon's until it is written whole again. */
	int			 behind;
	uint64_t		 given_up;	/* bytes of records, since */
	int			 resync_open;	/* a RESYNC taken, not its END */
	int			 resyncing;	/* applying between the two */
	int			 resynced;	/* one applied in this txn, */
	uint64_t		 resync_gen;	/* ... at this generation */
	int			 want_resync;	/* under lock: db_store_behind */
	int			 resync_queued;	/* under lock */
	uint64_t		 taken_gen;	/* the newest commit taken */
	uint64_t		 marked_gen;	/* ... noted in <db>-behind */
	struct hsnap		*snap;		/* a snapshot being taken on
						   the side (hsnap.c) */
	int			 snap_want;	/* one is due: taken after the
						   next commit */
	int			 snap_wait;	/* this transaction waits for it
						   (a flush, a close) */
	uint64_t		 restart_gen;	/* that file's at the start:
						   db_store_load goes on from
						   it (set before the thread) */
	int			 mark_failed;	/* said once */
};

struct hmap;
struct hpend;

/* winc.c */
void		 winc_grow(struct db_writer *);
int		 winc_load(struct db_writer *, struct winc *);
struct winc	*winc_get(struct db_writer *, int64_t);
struct winc	*winc_find(struct db_writer *, int64_t);
void		 winc_dirty(struct db_writer *, struct winc *);
void		 winc_forget(struct db_writer *, struct winc *);
void		 winc_cut(struct db_writer *, struct winc *);
void		 winc_record(struct db_writer *, const struct wrec *,
		    const unsigned char *, uint64_t);
void		 wchunk_free(struct wchunk *);

/* commit.c */
int		 commit_batch(struct db_writer *);
void		 commit_snapshot(struct db_writer *);

/* writer.c */
unsigned char	*writer_queue_rec(struct db_writer *, const struct wrec *,
		    size_t);
uint64_t	 writer_now(void);

/* history.c: the store's records, applied in the writer's transaction. */
int		 history_start(struct db_writer *, char *, size_t);
void		 history_stop(struct db_writer *);
void		 history_take(struct db_writer *, const struct wrec *,
		    const unsigned char *, uint64_t);
int		 history_apply(struct db_writer *);
int		 history_maintain(struct db_writer *);
void		 history_done(struct db_writer *, int, uint64_t);
int		 history_reload(struct db_writer *);
int		 history_save(struct db_writer *);
bool		 history_pending(const struct db_writer *);

/* hsnap.c */
struct snapshot_enc;
int		 hsnap_encode(sqlite3_stmt *, int, struct snapshot_enc *,
		    const int *);
int		 hsnap_store(struct db_writer *, uint64_t, uint64_t,
		    const struct snapshot_enc *);
int		 hsnap_start(struct db_writer *, uint64_t, uint64_t);
bool		 hsnap_ready(struct db_writer *);
int		 hsnap_collect(struct db_writer *, bool);
void		 hsnap_done(struct db_writer *, int);
void		 hsnap_stop(struct db_writer *);

/* hthin.c: thinning and the byte budget. */
int		 hthin_run(struct db_writer *);
int		 hthin_budget(struct db_writer *);

#endif
