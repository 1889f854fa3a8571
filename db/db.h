/*
 * The console log: one SQLite database (WAL) holding, for every domain
 * incarnation (domid + uuid + first seen, since domids are reused), the
 * exact bytes its console printed, in zstd-compressed chunks, with the
 * capture time of every line and the store generation current at the
 * time. Only db/ includes sqlite3.h and zstd.h.
 *
 * The writer (the daemon) hands bytes over without blocking: chunks are
 * cut, compressed and committed by one writer thread, in batches, at
 * most flush_ms after the bytes arrived. Readers (xsconsole-tail) open
 * the database read-only and may run while the daemon writes, or after.
 * The schema is in docs/console-db.md; its version is in the database.
 */
#ifndef XSC_DB_H
#define XSC_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_DEFAULT_PATH		"/var/lib/xsconsoled/console.db"
#define DB_SCHEMA_VERSION	5

struct db;

struct db_config {
	const char	*path;
	uint64_t	 max_bytes;		/* all chunks, compressed
						   (default 1 GiB) */
	uint64_t	 max_incarnation_bytes;	/* one incarnation's chunks,
						   compressed (default 64 MiB) */
	uint64_t	 keep_dead_s;		/* dead incarnations are kept
						   this long (default 7 days) */
	unsigned	 flush_ms;		/* bytes reach the database
						   within this (default 100) */
	size_t		 chunk_bytes;		/* a chunk is cut at this many
						   raw bytes (default 64 KiB) */
	int		 level;			/* zstd level (default 3) */

	/* Store history (db/history.c; docs/console-db.md, "History"). */
	uint64_t	 history_full_s;	/* commits younger than this are
						   kept whole (default 3600) */
	uint64_t	 history_full_commits;	/* ... and so are the newest
						   this many (default 100000) */
	uint64_t	 history_minute_s;	/* older than full, younger than
						   this: the last change per path
						   per minute (default 1 day);
						   older: per hour */
	uint64_t	 history_max_bytes;	/* all history rows and
						   snapshots (default 256 MiB);
						   the oldest go first */
	uint64_t	 snapshot_interval_s;	/* a copy of the whole tree is
						   kept this often, for
						   xsc-history --at beyond the
						   thinned rows (default 3600) */
	uint64_t	 store_backlog_max;	/* the store's records held
						   while commits fail (disk
						   full); beyond, they are given
						   up and the store is written
						   whole again later (default
						   64 MiB) */
	unsigned	 busy_ms;		/* the writer waits this long
						   for a lock another process
						   holds (default 5000) */
};

/* One incarnation, as readers see it. */
struct db_incarnation {
	int64_t		 id;
	uint32_t	 domid;
	char		 uuid[37];
	char		 name[65];
	uint64_t	 first_ns;		/* first seen, ns since epoch */
	uint64_t	 gone_ns;		/* 0 while alive */
	uint64_t	 bytes;			/* raw bytes logged */
	uint64_t	 kept;			/* stored bytes of its chunks
						   still in the database */
	int64_t		 last_seq;		/* its newest chunk's seq,
						   kept or given up */
};

/* A line as readers get it: its bytes (no newline; the last line of a
 * chunk may be partial, continued in the next chunk: partial = true),
 * when its first byte was captured, the store generation then. The
 * first line of a chunk may continue the previous chunk's partial line
 * (continued = true): its time is that of the chunk's first byte. */
struct db_line {
	const char	*text;
	size_t		 len;
	uint64_t	 time_ns;
	uint64_t	 gen;
	int64_t		 seq;			/* chunk sequence number */
	bool		 partial;
	bool		 continued;
	bool		 after_gap;		/* the first line of a chunk whose
						   predecessors in the log were
						   lost (never stored): chunks
						   of it missing before it */
};

/* What the writer has done since it was opened. */
struct db_stats {
	uint64_t	 appended;		/* bytes given to db_append */
	uint64_t	 committed;		/* raw bytes committed */
	uint64_t	 stored;		/* their compressed size, with
						   the line indexes */
	uint64_t	 chunks;
	uint64_t	 commits;
	uint64_t	 lost;			/* raw bytes of failed commits */
	uint64_t	 held;			/* raw bytes kept for a retry
						   while commits fail */
	uint64_t	 kept;			/* stored bytes now kept, all
						   incarnations */
	uint64_t	 writer_cpu_ns;		/* the writer thread's CPU */
	uint64_t	 durable_gen;		/* the newest store commit
						   the database has */
};

void		 db_config_defaults(struct db_config *);

/*
 * The store, durable and versioned (db/history.c, docs/console-db.md).
 * The daemon hands every commit over as it happens; like db_append, it
 * only copies into the writer's queue. The writer applies each commit
 * to the durable tree (table node) and appends it to the history in the
 * same SQLite transaction, in queue order with the domain and watch
 * records below, so what is durable is always the store as of one
 * commit: the last durable commit.
 */
#define DB_ORIGIN_SOCKET	0x80000000u	/* origin: socket conn id | this */

struct db_change {
	const char	*path;
	bool		 deleted;
	bool		 created;		/* new with this commit (or
						   replacing a node deleted in
						   it): goes last among its
						   siblings */
	const void	*value;			/* not for deleted */
	uint32_t	 vlen;
	const char	*perms;			/* "n0,r5" (owner first) */
};

/* A domain the store serves on a ring, for a restart to serve again. */
struct db_domain {
	uint32_t	 domid;
	uint64_t	 mfn;			/* as given to INTRODUCE */
	uint32_t	 port;			/* the guest's event channel */
	uint32_t	 target;		/* UINT32_MAX: none */
	uint32_t	 features;		/* as negotiated on the page */
};

/* A watch of a ring connection, restored with its domain. */
struct db_watch {
	uint32_t	 domid;
	const char	*path;
	const char	*token;
	uint32_t	 depth;			/* 0: the whole subtree; else
						   the levels below that fire
						   it, plus 1 */
};

void		 db_commit(struct db *, uint64_t gen, uint64_t time_ns,
		    uint32_t origin, bool in_txn, const struct db_change *,
		    size_t);
void		 db_perms_forget(struct db *, uint64_t gen, uint32_t domid);
void		 db_domain_put(struct db *, const struct db_domain *);
void		 db_domain_del(struct db *, uint32_t domid);	/* + watches */
void		 db_watch_put(struct db *, const struct db_watch *);
void		 db_watch_del(struct db *, const struct db_watch *);
void		 db_meta_put(struct db *, const char *, const char *);
bool		 db_store_behind(struct db *);
void		 db_store_resync(struct db *, uint64_t gen);
void		 db_store_resync_end(struct db *);
int		 db_set_limits(struct db *, const struct db_config *);

/*
 * Restart: called once, right after db_open_writer and before any other
 * writer call, on the event loop (it blocks). Gives the durable tree in
 * creation order (a parent before its children, siblings in the order
 * they were made), then the domains, their watches, and the meta
 * records; the generation of the last durable commit in *gen (0 for a
 * new database). A callback's non-zero return stops it and is returned.
 */
struct db_load_ops {
	int	(*node)(const char *path, const void *value, uint32_t vlen,
		    const char *perms, uint64_t gen, void *arg);
	int	(*domain)(const struct db_domain *, void *arg);
	int	(*watch)(const struct db_watch *, void *arg);
	int	(*meta)(const char *key, const char *value, void *arg);
};
int		 db_store_load(struct db *, const struct db_load_ops *, void *,
		    uint64_t *gen);

/*
 * Writer side; called from the daemon's event loop, never blocks on disk
 * (db_incarnation_begin and db_flush wait for the writer thread). Opening
 * gives NULL with errno and a message in the buffer on failure; begin
 * gives an incarnation id, or -errno.
 */
struct db	*db_open_writer(const struct db_config *, char *, size_t);
void		 db_close(struct db *);		/* commits what is pending */
int64_t		 db_incarnation_begin(struct db *, uint32_t, const char *,
		    const char *, uint64_t);
void		 db_incarnation_end(struct db *, int64_t, uint64_t);
void		 db_append(struct db *, int64_t, const void *, size_t,
		    uint64_t, uint64_t);
void		 db_dropped(struct db *, int64_t, uint64_t, uint64_t,
		    uint64_t);
/*
 * The same for a console ring's bytes; ring positions are the ring's
 * free-running out_cons. begin_ring is given the position now (ring_now)
 * and gives, for an incarnation it continues, the position after its
 * last committed byte, or -1 when none is known; a new incarnation (or
 * one without a position yet) starts at ring_now. append_ring gives the
 * position after these bytes. db_lost marks nbytes read from the ring
 * and never committed (the daemon stopped first) with a line in the
 * log, the ring then at ring_now.
 */
int64_t		 db_incarnation_begin_ring(struct db *, uint32_t,
		    const char *, const char *, uint64_t, uint32_t, int64_t *);
void		 db_append_ring(struct db *, int64_t, const void *, size_t,
		    uint64_t, uint64_t, uint32_t);
void		 db_lost(struct db *, int64_t, uint64_t, uint64_t, uint64_t,
		    uint32_t);
void		 db_flush(struct db *);		/* commit now, wait for it */
size_t		 db_queued(const struct db *);	/* bytes not yet committed */
void		 db_stats(struct db *, struct db_stats *);

/*
 * Reader side (a handle from db_open_reader; errno ENOENT when there is
 * no such file). 0 or -errno; db_lines stops at the callback's first
 * non-zero return and returns it, and gives -EIO for a corrupt chunk.
 * Incarnation lists come newest first, in an array to free().
 * db_tail_seq gives the after_seq from which db_lines yields at least the
 * last n lines (the seq of a chunk kept, or 0); db_changed whether another connection committed since
 * the last call (1, 0 or -errno).
 */
typedef int	 db_line_cb(const struct db_line *, void *);

struct db	*db_open_reader(const char *, char *, size_t);
int		 db_incarnations(struct db *, uint32_t,
		    struct db_incarnation **, size_t *);
int		 db_incarnations_by_name(struct db *, const char *,
		    struct db_incarnation **, size_t *);
int		 db_incarnation_get(struct db *, int64_t,
		    struct db_incarnation *);
int		 db_incarnations_live(struct db *, struct db_incarnation **,
		    size_t *);
int		 db_lines(struct db *, int64_t, int64_t, db_line_cb *, void *);
int64_t		 db_last_seq(struct db *, int64_t);
bool		 db_lost_after(const struct db_incarnation *, int64_t);
int64_t		 db_tail_seq(struct db *, int64_t, uint64_t);
int		 db_changed(struct db *);

/*
 * History, as xsc-history and xsconsole-tail --store read it. A query
 * selects changes by path (exact, or the subtree below it), by the
 * domain they concern (its home /local/domain/<id>/... and the backend
 * entries /local/domain/<any>/backend/<type>/<id>/...), and by a range
 * of generations and of times; they come in generation order (oldest
 * first; newest first with newest_first), each with the value the path
 * had before it when with_old is set (the previous change kept for that
 * path: thinned history may skip values in between).
 */
struct db_hchange {
	uint64_t	 gen;
	uint64_t	 time_ns;
	uint32_t	 origin;		/* domid, or DB_ORIGIN_SOCKET|conn */
	bool		 in_txn;
	const char	*path;
	bool		 deleted;
	bool		 created;
	const void	*value;
	uint32_t	 vlen;
	const char	*perms;
	bool		 old_exists;		/* with_old only */
	bool		 old_known;		/* false: nothing older kept */
	const void	*old_value;
	uint32_t	 old_vlen;
	const char	*old_perms;
};

struct db_hquery {
	const char	*path;			/* NULL: every path */
	bool		 subtree;		/* path and everything below */
	int64_t		 subject;		/* -1, or only changes that
						   concern this domid */
	uint64_t	 gen_min, gen_max;	/* inclusive; 0: unbounded */
	uint64_t	 ns_min, ns_max;	/* inclusive; 0: unbounded */
	bool		 with_old;
	bool		 newest_first;
	uint64_t	 limit;			/* 0: no limit */
};

/* The extent of the history kept, and what thinning has done to it. */
struct db_hinfo {
	uint64_t	 first_gen, last_gen;	/* 0, 0: none */
	uint64_t	 first_ns, last_ns;
	uint64_t	 full_from_gen;		/* whole from here on */
	uint64_t	 commits, changes, snapshots, bytes;
};

typedef int	 db_hchange_cb(const struct db_hchange *, void *);
typedef int	 db_tree_cb(const char *path, const void *value,
		    uint32_t vlen, const char *perms, uint64_t gen, void *);

/*
 * db_tree_at: the tree below path ("/" for all) as it was just after
 * commit gen, in creation order: the newest snapshot at or before gen,
 * with the kept changes after it up to gen applied. Exact wherever the
 * history is whole; in thinned history, exact at the end of each kept
 * period. -ERANGE when gen is older than anything kept. db_gen_at: the
 * last commit at or before a time (-ERANGE: before the history).
 * db_commit_time: the time of commit gen, or of the first kept after it
 * (-ERANGE: none).
 * db_domids_named: the domids whose /local/domain/<id>/name was ever
 * the name, most recent first, with when it last was (malloc'd arrays).
 * db_name_life: the generations of the life of domid in which it last
 * had the name: from its first name after its home was last removed
 * before, to the commit removing its home next (UINT64_MAX: not yet);
 * -ENOENT if it never had the name.
 */
int		 db_history(struct db *, const struct db_hquery *,
		    db_hchange_cb *, void *);
int		 db_history_info(struct db *, struct db_hinfo *);
int		 db_gen_at(struct db *, uint64_t ns, uint64_t *gen);
int		 db_commit_time(struct db *, uint64_t gen, uint64_t *ns);
int		 db_tree_at(struct db *, uint64_t gen, const char *path,
		    db_tree_cb *, void *);
int		 db_domids_named(struct db *, const char *name,
		    uint32_t **domids, uint64_t **last_ns, size_t *n);
int		 db_name_life(struct db *, const char *name, uint32_t domid,
		    uint64_t *lo, uint64_t *hi);
int		 db_history_gap(struct db *, uint64_t gen, uint64_t *lo,
		    uint64_t *hi);
int		 db_history_gaps(struct db *, uint64_t **lo, uint64_t **hi,
		    size_t *n);

#endif
