/*
 * The readers' side: a read-only connection (it works while the daemon
 * writes, thanks to WAL, and after it stopped), the incarnations of a
 * domain, and the lines of an incarnation's chunks in order. Every query
 * is one statement, so it sees one committed state of the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-private.h"
#include "log.h"
#include "xmalloc.h"

/* Open the database at path read-only; NULL with errno set (ENOENT if
 * there is no such file) and a message in err on failure. */
struct db *
db_open_reader(const char *path, char *err, size_t errlen)
{
	struct db	*db;

	if ((db = db_open_common(path, false, err, errlen)) == NULL)
		return (NULL);
	db->codec = chunk_codec_create(0);
	return (db);
}

/* Copy a text column into a fixed buffer, cut if need be. */
static void
reader_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	snprintf(buf, size, "%s", s != NULL ? (const char *)s : "");
}

/* Fill an incarnation from a row of INC_COLUMNS. */
static void
reader_incarnation(sqlite3_stmt *st, struct db_incarnation *inc)
{
	memset(inc, 0, sizeof *inc);
	inc->id = sqlite3_column_int64(st, 0);
	inc->domid = (uint32_t)sqlite3_column_int64(st, 1);
	reader_text(st, 2, inc->uuid, sizeof inc->uuid);
	reader_text(st, 3, inc->name, sizeof inc->name);
	inc->first_ns = (uint64_t)sqlite3_column_int64(st, 4);
	inc->gone_ns = (uint64_t)sqlite3_column_int64(st, 5);	/* NULL: 0 */
	inc->bytes = (uint64_t)sqlite3_column_int64(st, 6);
	inc->kept = (uint64_t)sqlite3_column_int64(st, 7);
	inc->last_seq = sqlite3_column_int64(st, 8);
}

/* Collect the rows of a bound incarnation query, newest first. */
static int
reader_incarnations(struct db *db, sqlite3_stmt *st,
    struct db_incarnation **out, size_t *count)
{
	struct db_incarnation	*incs = NULL;
	size_t			 n = 0, cap = 0;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			incs = xrealloc(incs, cap * sizeof *incs);
		}
		reader_incarnation(st, &incs[n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_debug("%s: %s", db->path, sqlite3_errmsg(db->sql));
		free(incs);
		return (-db_errno(rc));
	}
	*out = incs;
	*count = n;
	return (0);
}

/* The incarnations of domid, newest first (an array to free()). */
int
db_incarnations(struct db *db, uint32_t domid, struct db_incarnation **out,
    size_t *count)
{
	sqlite3_stmt	*st;

	*out = NULL;
	*count = 0;
	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_INCS_BY_DOMID)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, domid);
	return (reader_incarnations(db, st, out, count));
}

/* The incarnations of domains named name, newest first. */
int
db_incarnations_by_name(struct db *db, const char *name,
    struct db_incarnation **out, size_t *count)
{
	sqlite3_stmt	*st;

	*out = NULL;
	*count = 0;
	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_INCS_BY_NAME)) == NULL)
		return (-EIO);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return (reader_incarnations(db, st, out, count));
}

/*
 * The incarnations not gone, oldest first. With the daemon's handle, read
 * on a connection of their own: what is committed (the writer has the
 * daemon's).
 */
int
db_incarnations_live(struct db *db, struct db_incarnation **out,
    size_t *count)
{
	struct db	*rd;
	sqlite3_stmt	*st;
	char		 err[256];
	int		 error;

	*out = NULL;
	*count = 0;
	if (db->w != NULL) {
		if ((rd = db_open_reader(db->path, err, sizeof err)) == NULL) {
			log_warn("%s", err);
			return (-errno);
		}
		error = db_incarnations_live(rd, out, count);
		db_close(rd);
		return (error);
	}
	if ((st = db_stmt(db, ST_INCS_LIVE)) == NULL)
		return (-EIO);
	return (reader_incarnations(db, st, out, count));
}

/* One incarnation by id; 0, -ENOENT or -errno. */
int
db_incarnation_get(struct db *db, int64_t id, struct db_incarnation *inc)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_INC_GET)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		reader_incarnation(st, inc);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (0);
	return (rc == SQLITE_DONE ? -ENOENT : -db_errno(rc));
}

/*
 * Whether the chunks of inc before the first one kept were lost rather
 * than removed by retention: all it ever stored is still there (its
 * bytes, which retention leaves alone, are those of its chunks). Read
 * while db_lines' statement runs: the same snapshot.
 */
static bool
db_lost_before(struct db *db, int64_t inc)
{
	sqlite3_stmt	*st;
	bool		 lost = false;

	if ((st = db_stmt(db, ST_INC_UNKEPT)) == NULL)
		return (false);
	sqlite3_bind_int64(st, 1, inc);
	if (sqlite3_step(st) == SQLITE_ROW)
		lost = sqlite3_column_int64(st, 0) == 0;
	sqlite3_reset(st);
	return (lost);
}

/*
 * Hand cb the lines of the chunks of inc with seq > after, in order:
 * 0, cb's first non-zero return, -EIO for a corrupt chunk, or -errno.
 * Chunks are numbered as the writer cuts them; it loses some only when
 * commits failed for longer than it keeps output (db/writer.c,
 * writer_retain). A number skipped after chunk `after` (while it is
 * still kept) or after a chunk read here marks the next line after_gap;
 * so does one before the first chunk, read from the start, if
 * retention has removed nothing of inc (db_lost_before). Otherwise a
 * skip before the first chunk kept says nothing: retention removes the
 * oldest, `after` too meanwhile (a follower held up, a tail read racing
 * it). The statement gives chunk `after` too, unread, to tell.
 */
int
db_lines(struct db *db, int64_t inc, int64_t after, db_line_cb *cb,
    void *arg)
{
	struct chunk_row	 row;
	sqlite3_stmt		*st;
	int64_t			 prev = 0;
	int			 rc, error = 0;

	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_CHUNKS_AFTER)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, inc);
	sqlite3_bind_int64(st, 2, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof row);
		row.seq = sqlite3_column_int64(st, 0);
		if (row.seq == after) {		/* kept: a skip after it counts */
			prev = after;
			continue;
		}
		row.first_ns = (uint64_t)sqlite3_column_int64(st, 1);
		row.first_gen = (uint64_t)sqlite3_column_int64(st, 2);
		row.raw_bytes = (uint64_t)sqlite3_column_int64(st, 3);
		row.lines = (uint64_t)sqlite3_column_int64(st, 4);
		row.continues = sqlite3_column_int64(st, 5) != 0;
		row.data = sqlite3_column_blob(st, 6);
		row.data_len = (size_t)sqlite3_column_bytes(st, 6);
		row.idx = sqlite3_column_blob(st, 7);
		row.idx_len = (size_t)sqlite3_column_bytes(st, 7);
		row.after_gap = prev > 0 ? row.seq > prev + 1 :
		    after == 0 && row.seq > 1 && db_lost_before(db, inc);
		prev = row.seq;
		if ((error = chunk_lines(db->codec, &row, cb, arg)) != 0) {
			if (error == -EIO)
				log_debug("%s: chunk %lld of incarnation %lld "
				    "is corrupt", db->path, (long long)row.seq,
				    (long long)inc);
			break;
		}
	}
	sqlite3_reset(st);
	if (error != 0)
		return (error);
	return (rc == SQLITE_DONE ? 0 : -db_errno(rc));
}

/*
 * Whether output of inc was lost at the end of what is kept of it: the
 * writer gave up its chunks after `seq` (the newest chunk a reader read
 * of it, 0 if none) and kept none after them, so no line carries
 * after_gap. Read inc before the lines. With no chunk kept, only if it
 * never had any stored (retention removes a dead guest's whole log).
 */
bool
db_lost_after(const struct db_incarnation *inc, int64_t seq)
{
	return (inc->last_seq > seq && (seq > 0 || inc->bytes == 0));
}

/* The newest chunk's seq of inc, 0 if it has none, or -errno. */
int64_t
db_last_seq(struct db *db, int64_t inc)
{
	sqlite3_stmt	*st;
	int64_t		 seq = 0;
	int		 rc;

	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_LAST_SEQ)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, inc);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (rc == SQLITE_ROW ? seq : -db_errno(rc));
}

/* Where to start (an after_seq for db_lines) to get at least the last
 * nlines lines of inc: counting back the lines that start in each chunk
 * (not the one it may continue), the seq of the chunk kept before the
 * first one needed (so db_lines can tell a gap after it). 0 if every
 * chunk kept is needed; -errno. */
int64_t
db_tail_seq(struct db *db, int64_t inc, uint64_t nlines)
{
	sqlite3_stmt	*st;
	uint64_t	 seen = 0;
	int64_t		 seq = 0;
	int		 rc;

	if (nlines == 0)
		return (db_last_seq(db, inc));
	if (db->w != NULL)
		return (-EINVAL);
	if ((st = db_stmt(db, ST_TAIL)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, inc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (seen >= nlines) {
			seq = sqlite3_column_int64(st, 0);
			break;
		}
		seen += (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (-db_errno(rc));
	return (seq);
}

/* Whether another connection committed since the last call (the first
 * call says yes): 1, 0, or -errno. */
int
db_changed(struct db *db)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;
	int		 rc;

	if ((st = db_stmt(db, ST_DATA_VERSION)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return (-db_errno(rc));
	if (v == db->data_version)
		return (0);
	db->data_version = v;
	return (1);
}
