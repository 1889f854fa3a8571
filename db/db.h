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
#define DB_SCHEMA_VERSION	1

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
	int64_t		 last_seq;		/* its newest chunk's seq */
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
	uint64_t	 kept;			/* stored bytes now kept, all
						   incarnations */
	uint64_t	 writer_cpu_ns;		/* the writer thread's CPU */
};

void		 db_config_defaults(struct db_config *);

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
void		 db_flush(struct db *);		/* commit now, wait for it */
size_t		 db_queued(const struct db *);	/* bytes not yet committed */
void		 db_stats(struct db *, struct db_stats *);

/*
 * Reader side (a handle from db_open_reader; errno ENOENT when there is
 * no such file). 0 or -errno; db_lines stops at the callback's first
 * non-zero return and returns it, and gives -EIO for a corrupt chunk.
 * Incarnation lists come newest first, in an array to free().
 * db_tail_seq gives the after_seq from which db_lines yields at least the
 * last n lines; db_changed whether another connection committed since
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
int		 db_lines(struct db *, int64_t, int64_t, db_line_cb *, void *);
int64_t		 db_last_seq(struct db *, int64_t);
int64_t		 db_tail_seq(struct db *, int64_t, uint64_t);
int		 db_changed(struct db *);

#endif
