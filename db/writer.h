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
#include "queue.h"

#define NS_PER_MS		1000000ULL
#define NS_PER_S		1000000000ULL
#define TIME_NEVER		UINT64_MAX
#define WRITER_WAKE_BYTES	(256u << 10)	/* queued: start work now */
#define WRITER_BATCH_BYTES	(4u << 20)	/* cut and waiting: commit now */
#define WRITER_EXPIRE_NS	NS_PER_S	/* dead incarnations checked */
#define WRITER_RETAIN_ROWS	64		/* chunks per retention query */
#define WRITER_BLOCK		(64u << 10)	/* queue block */
#define WRITER_FREE_BLOCKS	64		/* blocks kept for reuse */

enum wrec_type {
	WREC_APPEND,
	WREC_DROPPED,
	WREC_END,
	WREC_BEGIN,
};

/* A queued record; an APPEND's bytes follow it, padded to 8. */
struct wrec {
	uint32_t	 type;
	uint32_t	 pad;
	int64_t		 inc;
	uint64_t	 ns;
	uint64_t	 gen;
	uint64_t	 len;		/* APPEND: bytes following; DROPPED:
					   bytes the caller dropped */
	struct wbegin	*begin;
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
};
LIST_HEAD(winc_list, winc);
TAILQ_HEAD(winc_queue, winc);

/* An incarnation's end, waiting for its commit. */
struct wend {
	int64_t		 id;
	uint64_t	 ns;
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
};

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

#endif
