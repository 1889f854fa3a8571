/*
 * The console log's database: opening it for the writer (creating the
 * directory, the file and the schema) or a reader (read-only, refusing a
 * file that is not ours or a schema it does not know), and the prepared
 * statements both sides use. The schema is described, with its reasons,
 * in docs/console-db.md; change both together, and DB_SCHEMA_VERSION.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "db-private.h"
#include "hstore.h"
#include "log.h"
#include "xmalloc.h"

/* Version 1. Small columns come before the blobs so that reading a
 * chunk's metadata does not touch the blobs' overflow pages. */
static const char *db_schema_v1 =
	"CREATE TABLE incarnation ("
	"  id INTEGER PRIMARY KEY,"
	"  domid INTEGER NOT NULL,"
	"  uuid TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  first_ns INTEGER NOT NULL,"
	"  gone_ns INTEGER,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  kept INTEGER NOT NULL DEFAULT 0,"
	"  last_seq INTEGER NOT NULL DEFAULT 0,"
	"  line_open INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX incarnation_domid ON incarnation(domid, first_ns);"
	"CREATE INDEX incarnation_name ON incarnation(name, first_ns);"
	"CREATE INDEX incarnation_gone ON incarnation(gone_ns)"
	"  WHERE gone_ns IS NOT NULL;"
	"CREATE TABLE chunk ("
	"  id INTEGER PRIMARY KEY,"
	"  inc INTEGER NOT NULL REFERENCES incarnation(id),"
	"  seq INTEGER NOT NULL,"
	"  first_ns INTEGER NOT NULL,"
	"  last_ns INTEGER NOT NULL,"
	"  first_gen INTEGER NOT NULL,"
	"  last_gen INTEGER NOT NULL,"
	"  raw_bytes INTEGER NOT NULL,"
	"  lines INTEGER NOT NULL,"
	"  continues INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  lineidx BLOB NOT NULL);"
	"CREATE UNIQUE INDEX chunk_seq ON chunk(inc, seq);";

/*
 * Version 2 adds the durable store (node, domain, watch, meta) and its
 * history (hcommit, hchange, snapshot, hstate). hchange is WITHOUT ROWID
 * on (gen, seq): generation order is the table's order, and its indexes
 * carry (gen, seq) for free. A new history starts with an empty snapshot
 * at generation 0.
 */
static const char *db_schema_v2 =
	"CREATE TABLE node ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT UNIQUE NOT NULL,"
	"  value BLOB,"
	"  perms TEXT NOT NULL,"
	"  gen INTEGER NOT NULL);"
	"CREATE TABLE domain ("
	"  domid INTEGER PRIMARY KEY,"
	"  mfn INTEGER NOT NULL,"
	"  port INTEGER NOT NULL,"
	"  target INTEGER NOT NULL,"
	"  features INTEGER NOT NULL);"
	"CREATE TABLE watch ("
	"  domid INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  token TEXT NOT NULL,"
	"  depth INTEGER NOT NULL,"
	"  PRIMARY KEY (domid, path, token));"
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE hcommit ("
	"  gen INTEGER PRIMARY KEY,"
	"  time_ns INTEGER NOT NULL,"
	"  origin INTEGER NOT NULL,"
	"  in_txn INTEGER NOT NULL);"
	"CREATE INDEX hcommit_time ON hcommit(time_ns);"
	"CREATE TABLE hchange ("
	"  gen INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  subject INTEGER,"
	"  flags INTEGER NOT NULL,"
	"  value BLOB,"
	"  perms TEXT,"
	"  PRIMARY KEY (gen, seq)) WITHOUT ROWID;"
	"CREATE INDEX hchange_path ON hchange(path, gen);"
	"CREATE INDEX hchange_subject ON hchange(subject, gen)"
	"  WHERE subject IS NOT NULL;"
	"CREATE INDEX hchange_name ON hchange(value) WHERE flags & 4;"
	"CREATE TABLE snapshot ("
	"  gen INTEGER PRIMARY KEY,"
	"  time_ns INTEGER NOT NULL,"
	"  nodes INTEGER NOT NULL,"
	"  raw_bytes INTEGER NOT NULL,"
	"  data BLOB NOT NULL);"
	"CREATE TABLE hstate ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  last_gen INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  commits INTEGER NOT NULL,"
	"  changes INTEGER NOT NULL,"
	"  snapshots INTEGER NOT NULL,"
	"  thin_min INTEGER NOT NULL,"
	"  thin_hour INTEGER NOT NULL,"
	"  dropped_gen INTEGER NOT NULL,"
	"  snapshot_ns INTEGER NOT NULL,"
	"  snapshot_gen INTEGER NOT NULL);"
	"INSERT INTO snapshot VALUES (0, 0, 0, 0, x'');"
	"INSERT INTO hstate VALUES (1, 0, 32, 0, 0, 1, 0, 0, 0, 0, 0);";

/*
 * Version 3 keeps the history in batches (hstore.h): one row of hbatch
 * per run of consecutive commits, compressed whole (hblob.h), and two
 * small indexes of batches: the paths each changes (hpath) and the
 * domids its changes concern (hsubject); hname keeps every change of a
 * /local/domain/<id>/name. The v2 rows are converted (hstore_migrate),
 * then dropped.
 */
static const char *db_schema_v3 =
	"CREATE TABLE hbatch ("
	"  gen_lo INTEGER PRIMARY KEY,"
	"  gen_hi INTEGER NOT NULL,"
	"  ns_lo INTEGER NOT NULL,"
	"  ns_hi INTEGER NOT NULL,"
	"  commits INTEGER NOT NULL,"
	"  changes INTEGER NOT NULL,"
	"  raw_bytes INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  path_bytes INTEGER NOT NULL,"
	"  paths BLOB NOT NULL);"
	"CREATE INDEX hbatch_ns ON hbatch(ns_hi);"
	"CREATE TABLE hpath ("
	"  path TEXT NOT NULL,"
	"  batch INTEGER NOT NULL,"
	"  PRIMARY KEY (path, batch)) WITHOUT ROWID;"
	"CREATE TABLE hsubject ("
	"  subject INTEGER NOT NULL,"
	"  batch INTEGER NOT NULL,"
	"  PRIMARY KEY (subject, batch)) WITHOUT ROWID;"
	"CREATE TABLE hname ("
	"  domid INTEGER NOT NULL,"
	"  gen INTEGER NOT NULL,"
	"  time_ns INTEGER NOT NULL,"
	"  name BLOB,"
	"  PRIMARY KEY (domid, gen)) WITHOUT ROWID;"
	"CREATE INDEX hname_name ON hname(name);"
	"ALTER TABLE hstate ADD COLUMN node_gen INTEGER NOT NULL DEFAULT 0;"
	"UPDATE hstate SET node_gen = last_gen;";

/* Version 4: the gaps in the history, where the writer gave up the
 * store's commits (a disk that failed) and wrote the whole store again
 * at hi: the commits after lo and before hi are not in it. */
static const char *db_schema_v4 =
	"CREATE TABLE hgap ("
	"  lo INTEGER PRIMARY KEY,"
	"  hi INTEGER NOT NULL);";

/* Version 5: where each incarnation's committed bytes end in its
 * console ring (the ring's free-running out_cons after the last byte):
 * a restarted daemon tells from it how much it had read and not
 * written. NULL: not known (bytes given without it, or an older
 * daemon). */
static const char *db_schema_v5 =
	"ALTER TABLE incarnation ADD COLUMN ring_pos INTEGER;";

/* After the conversion: the v2 history rows go. */
static const char *db_schema_v3_drop =
	"DROP TABLE hchange;"
	"DROP TABLE hcommit;";

#define INC_COLUMNS \
	"id, domid, uuid, name, first_ns, gone_ns, bytes, kept, last_seq"

static const char *db_stmt_sql[DB_NSTMT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INC_FIND] = "SELECT id, name, ring_pos FROM incarnation"
	    " WHERE domid = ?1 AND uuid = ?2 AND gone_ns IS NULL"
	    " ORDER BY id DESC LIMIT 1",
	[ST_INC_INSERT] = "INSERT INTO incarnation (domid, uuid, name,"
	    " first_ns, ring_pos) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_INC_RING_START] = "UPDATE incarnation SET ring_pos = ?2"
	    " WHERE id = ?1 AND ring_pos IS NULL",
	[ST_INC_RENAME] = "UPDATE incarnation SET name = ?2 WHERE id = ?1",
	[ST_INC_LOAD] = "SELECT bytes, kept, last_seq, line_open, ring_pos"
	    " FROM incarnation WHERE id = ?1",
	[ST_INC_UPDATE] = "UPDATE incarnation SET bytes = ?2, kept = ?3,"
	    " last_seq = ?4, line_open = ?5,"
	    " ring_pos = coalesce(?6, ring_pos) WHERE id = ?1",
	[ST_INC_GONE] = "UPDATE incarnation SET gone_ns = ?2 WHERE id = ?1",
	[ST_INC_KEPT_SUB] = "UPDATE incarnation SET kept = kept - ?2"
	    " WHERE id = ?1",
	[ST_INC_TOTAL] = "SELECT total(kept) FROM incarnation",
	[ST_CHUNK_INSERT] = "INSERT INTO chunk (inc, seq, first_ns, last_ns,"
	    " first_gen, last_gen, raw_bytes, lines, continues, data, lineidx)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_CHUNK_OLDEST_OF] = "SELECT seq, length(data) + length(lineidx)"
	    " FROM chunk WHERE inc = ?1 ORDER BY seq LIMIT 64",
	[ST_CHUNK_DELETE_SEQ] = "DELETE FROM chunk WHERE inc = ?1 AND seq = ?2",
	[ST_CHUNK_OLDEST] = "SELECT id, inc, length(data) + length(lineidx)"
	    " FROM chunk ORDER BY id LIMIT 64",
	[ST_CHUNK_DELETE_ID] = "DELETE FROM chunk WHERE id = ?1",
	[ST_DEAD_FIND] = "SELECT id, kept FROM incarnation"
	    " WHERE gone_ns IS NOT NULL AND gone_ns <= ?1 LIMIT 64",
	[ST_DEAD_CHUNKS] = "DELETE FROM chunk WHERE inc = ?1",
	[ST_DEAD_INC] = "DELETE FROM incarnation WHERE id = ?1",
	[ST_INCS_BY_DOMID] = "SELECT " INC_COLUMNS " FROM incarnation"
	    " WHERE domid = ?1 ORDER BY first_ns DESC, id DESC",
	[ST_INCS_LIVE] = "SELECT " INC_COLUMNS " FROM incarnation"
	    " WHERE gone_ns IS NULL ORDER BY id",
	[ST_INCS_BY_NAME] = "SELECT " INC_COLUMNS " FROM incarnation"
	    " WHERE name = ?1 ORDER BY first_ns DESC, id DESC",
	[ST_INC_GET] = "SELECT " INC_COLUMNS " FROM incarnation WHERE id = ?1",
	[ST_CHUNKS_AFTER] = "SELECT seq, first_ns, first_gen, raw_bytes, lines,"
	    " continues, data, lineidx FROM chunk WHERE inc = ?1 AND seq >= ?2"
	    " ORDER BY seq",
	[ST_LAST_SEQ] = "SELECT max(seq) FROM chunk WHERE inc = ?1",
	[ST_INC_UNKEPT] = "SELECT bytes - (SELECT coalesce(sum(raw_bytes), 0)"
	    " FROM chunk WHERE inc = ?1) FROM incarnation WHERE id = ?1",
	[ST_TAIL] = "SELECT seq, lines - continues FROM chunk WHERE inc = ?1"
	    " ORDER BY seq DESC",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_NODE_DELETE] = "DELETE FROM node WHERE path = ?1",
	[ST_NODE_INSERT] = "INSERT OR REPLACE INTO node (path, value, perms, gen)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[ST_NODE_UPDATE] = "UPDATE node SET value = ?2, perms = ?3, gen = ?4"
	    " WHERE path = ?1",
	[ST_NODE_ALL] = "SELECT path, value, perms, gen FROM node ORDER BY id",
	[ST_NODE_FORGET] = "UPDATE node SET perms = xsc_perms_forget(perms)"
	    " WHERE xsc_perms_names(perms)",
	[ST_HBATCH_INSERT] = "INSERT INTO hbatch (" HB_COLUMNS ", path_bytes,"
	    " paths) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_HBATCH_PATHS] = "SELECT path_bytes, paths FROM hbatch"
	    " WHERE gen_lo = ?1",
	[ST_HPATH_INSERT] = "INSERT OR IGNORE INTO hpath (path, batch)"
	    " VALUES (?1, ?2)",
	[ST_HSUBJ_INSERT] = "INSERT OR IGNORE INTO hsubject (subject, batch)"
	    " VALUES (?1, ?2)",
	[ST_HNAME_INSERT] = "INSERT OR REPLACE INTO hname (domid, gen, time_ns,"
	    " name) VALUES (?1, ?2, ?3, ?4)",
	[ST_DOMAIN_PUT] = "INSERT OR REPLACE INTO domain (domid, mfn, port,"
	    " target, features) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_DOMAIN_DEL] = "DELETE FROM domain WHERE domid = ?1",
	[ST_WATCH_DEL_DOMAIN] = "DELETE FROM watch WHERE domid = ?1",
	[ST_WATCH_PUT] = "INSERT OR REPLACE INTO watch (domid, path, token,"
	    " depth) VALUES (?1, ?2, ?3, ?4)",
	[ST_WATCH_DEL] = "DELETE FROM watch WHERE domid = ?1 AND path = ?2"
	    " AND token = ?3",
	[ST_META_PUT] = "INSERT OR REPLACE INTO meta (key, value)"
	    " VALUES (?1, ?2)",
	[ST_META_DEL] = "DELETE FROM meta WHERE key = ?1",
	[ST_HSTATE_LOAD] = "SELECT last_gen, bytes, commits, changes,"
	    " snapshots, thin_min, thin_hour, dropped_gen, snapshot_ns,"
	    " snapshot_gen, node_gen FROM hstate WHERE id = 1",
	[ST_HSTATE_SAVE] = "UPDATE hstate SET last_gen = ?1, bytes = ?2,"
	    " commits = ?3, changes = ?4, snapshots = ?5, thin_min = ?6,"
	    " thin_hour = ?7, dropped_gen = ?8, snapshot_ns = ?9,"
	    " snapshot_gen = ?10, node_gen = ?11 WHERE id = 1",
	[ST_SNAP_INSERT] = "INSERT OR REPLACE INTO snapshot (gen, time_ns,"
	    " nodes, raw_bytes, data) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_HPATH_DELETE] = "DELETE FROM hpath WHERE path = ?1 AND batch = ?2",
	[ST_HSUBJ_DELETE] = "DELETE FROM hsubject WHERE subject = ?1"
	    " AND batch = ?2",
	[ST_HBATCH_DELETE] = "DELETE FROM hbatch WHERE gen_lo = ?1",
	[ST_HNAME_PRUNE] = "DELETE FROM hname WHERE gen <= ?1",
	[ST_HBATCH_SINCE_NS] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE ns_hi >= ?1 ORDER BY ns_hi, gen_lo LIMIT 1",
	[ST_HBATCH_AFTER_NS] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE ns_hi > ?1 ORDER BY ns_hi, gen_lo LIMIT 1",
	[ST_HBATCH_BEFORE] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE gen_lo < ?1 ORDER BY gen_lo DESC LIMIT 1",
	[ST_HBATCH_AT] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE gen_lo <= ?1 ORDER BY gen_lo DESC LIMIT 1",
	[ST_HBATCH_NEXT] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " WHERE gen_lo > ?1 ORDER BY gen_lo LIMIT 1",
	[ST_HBATCH_FIRST] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " ORDER BY gen_lo LIMIT 1",
	[ST_HBATCH_LAST] = "SELECT " HB_COLUMNS " FROM hbatch"
	    " ORDER BY gen_lo DESC LIMIT 1",
	[ST_SNAP_OLD] = "SELECT gen, length(data) FROM snapshot WHERE gen < ?1"
	    " AND gen < (SELECT max(gen) FROM snapshot) ORDER BY gen LIMIT 64",
	[ST_SNAP_DELETE] = "DELETE FROM snapshot WHERE gen = ?1",
	[ST_HGAP_INSERT] = "INSERT OR REPLACE INTO hgap (lo, hi) VALUES (?1, ?2)",
	[ST_HPATH_PREV] = "SELECT batch FROM hpath WHERE path = ?1"
	    " AND batch < ?2 ORDER BY batch DESC LIMIT 1",
	[ST_SNAP_AT] = "SELECT gen, nodes, raw_bytes, data FROM snapshot"
	    " WHERE gen <= ?1 ORDER BY gen DESC LIMIT 1",
	[ST_NAMED] = "SELECT domid, max(gen) FROM hname WHERE name = ?1"
	    " GROUP BY domid",
	[ST_HNAME_NEXT] = "SELECT time_ns FROM hname WHERE domid = ?1"
	    " AND gen > ?2 ORDER BY gen LIMIT 1",
	[ST_NAME_LAST] = "SELECT max(gen) FROM hname WHERE domid = ?1"
	    " AND name = ?2",
	/* A life: from the first name after the last removal before gen
	 * to the next removal (a row whose name is NULL). */
	[ST_LIFE_FIRST] = "SELECT min(gen) FROM hname WHERE domid = ?1"
	    " AND gen <= ?2 AND gen > coalesce((SELECT max(gen) FROM hname"
	    " WHERE domid = ?1 AND gen < ?2 AND name IS NULL), -1)",
	[ST_LIFE_END] = "SELECT min(gen) FROM hname WHERE domid = ?1"
	    " AND gen > ?2 AND name IS NULL",
	[ST_HGAP_AT] = "SELECT lo, hi FROM hgap WHERE lo < ?1 AND ?1 < hi"
	    " ORDER BY lo LIMIT 1",
	[ST_HGAP_ALL] = "SELECT lo, hi FROM hgap ORDER BY lo",
	[ST_HGAP_AFTER] = "SELECT lo, hi FROM hgap WHERE hi > ?1"
	    " ORDER BY lo LIMIT 1",
	[ST_SNAP_TIME] = "SELECT time_ns FROM snapshot WHERE gen = ?1",
	[ST_SNAP_LAST] = "SELECT gen, time_ns FROM snapshot"
	    " ORDER BY gen DESC LIMIT 1",
};

/* Format an error message for the caller's buffer (which may be NULL). */
void
db_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* An errno for an SQLite result code. */
int
db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return (ENOMEM);
	case SQLITE_FULL:
		return (ENOSPC);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return (EBUSY);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return (EACCES);
	case SQLITE_CANTOPEN:
		return (ENOENT);
	default:
		return (EIO);
	}
}

/* Fill in the defaults. */
void
db_config_defaults(struct db_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->path = DB_DEFAULT_PATH;
	cfg->max_bytes = 1ULL << 30;
	cfg->max_incarnation_bytes = 64ULL << 20;
	cfg->keep_dead_s = 7 * 24 * 3600;
	cfg->flush_ms = 100;
	cfg->chunk_bytes = 64 << 10;
	cfg->level = 3;
	cfg->history_full_s = 3600;
	cfg->history_full_commits = 100000;
	cfg->history_minute_s = 24 * 3600;
	cfg->history_max_bytes = 256ULL << 20;
	cfg->snapshot_interval_s = 3600;
	cfg->store_backlog_max = 64ULL << 20;
	cfg->busy_ms = 5000;
}

/* A statement, prepared on first use and reset for the caller. */
sqlite3_stmt *
db_stmt(struct db *db, enum db_stmt which)
{
	sqlite3_stmt	*st = db->stmt[which];
	int		 rc;

	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return (st);
	}
	rc = sqlite3_prepare_v3(db->sql, db_stmt_sql[which], -1,
	    SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("%s: cannot prepare \"%s\": %s", db->path,
		    db_stmt_sql[which], sqlite3_errmsg(db->sql));
		return (NULL);
	}
	db->stmt[which] = st;
	return (st);
}

/* Run a bound statement that returns no rows; 0 or -errno. */
int
db_step_done(struct db *db, enum db_stmt which)
{
	sqlite3_stmt	*st = db->stmt[which];
	int		 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if (db->retrying)
			log_debug("%s: \"%s\": %s", db->path,
			    db_stmt_sql[which], sqlite3_errmsg(db->sql));
		else
			log_error("%s: \"%s\": %s", db->path,
			    db_stmt_sql[which], sqlite3_errmsg(db->sql));
		return (-db_errno(rc));
	}
	return (0);
}

/* Run a one-number query (a pragma); 0 or an SQLite error code. */
static int
db_query_int(struct db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
		return (rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
	sqlite3_finalize(st);
	return (rc);
}

/* Make the directory holding path, and its parents (0755). */
static int
db_mkdirs(const char *path)
{
	char	*dir = xstrdup(path), *p;
	int	 error = 0;

	if ((p = strrchr(dir, '/')) == NULL) {
		free(dir);
		return (0);
	}
	*p = '\0';
	for (p = dir; p != NULL && *dir != '\0' && error == 0; ) {
		p = strchr(p + 1, '/');
		if (p != NULL)
			*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			error = -errno;
		if (p != NULL)
			*p = '/';
	}
	free(dir);
	return (error);
}

static int	db_migrate_v3(struct db *, char *, size_t);
static int	db_migrate_step(struct db *, const char *, int, char *,
		    size_t);

/* Create the schema in an empty database. */
static int
db_create_schema(struct db *db, char *err, size_t errlen)
{
	char	*msg = NULL, *sql;
	int	 rc, error;

	xasprintf(&sql, "BEGIN IMMEDIATE; %s %s PRAGMA application_id = %d;"
	    " PRAGMA user_version = 2; COMMIT;", db_schema_v1, db_schema_v2,
	    DB_APPLICATION_ID);
	rc = sqlite3_exec(db->sql, sql, NULL, NULL, &msg);
	free(sql);
	if (rc != SQLITE_OK) {
		db_errf(err, errlen, "%s: cannot create the schema: %s",
		    db->path, msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		return (-db_errno(rc));
	}
	log_info("%s: created the console log (schema version %d)", db->path,
	    DB_SCHEMA_VERSION);
	if ((error = db_migrate_v3(db, err, errlen)) != 0)
		return (error);
	if ((error = db_migrate_step(db, db_schema_v4, 4, err, errlen)) != 0)
		return (error);
	return (db_migrate_step(db, db_schema_v5, 5, err, errlen));
}

/* One migration step: the schema text, ending at version to. */
static int
db_migrate_step(struct db *db, const char *schema, int to, char *err,
    size_t errlen)
{
	char	*msg = NULL, *sql;
	int	 rc;

	xasprintf(&sql, "BEGIN IMMEDIATE; %s PRAGMA user_version = %d;"
	    " COMMIT;", schema, to);
	rc = sqlite3_exec(db->sql, sql, NULL, NULL, &msg);
	free(sql);
	if (rc != SQLITE_OK) {
		db_errf(err, errlen, "%s: cannot migrate to schema version %d:"
		    " %s", db->path, to, msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		return (-db_errno(rc));
	}
	log_info("%s: migrated the console log to schema version %d",
	    db->path, to);
	return (0);
}

/*
 * 2 to 3: the history in batches. The new tables, the v2 rows converted
 * (hstore_migrate), the old tables dropped: one transaction.
 */
static int
db_migrate_v3(struct db *db, char *err, size_t errlen)
{
	char	*msg = NULL;
	int	 rc, error = 0;

	rc = sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->sql, db_schema_v3, NULL, NULL, &msg);
	if (rc == SQLITE_OK && (error = hstore_migrate(db)) != 0)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->sql, db_schema_v3_drop, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->sql, "PRAGMA user_version = 3; COMMIT",
		    NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		db_errf(err, errlen, "%s: cannot migrate to schema version 3:"
		    " %s", db->path, msg != NULL ? msg : error != 0 ?
		    strerror(-error) : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		return (error != 0 ? error : -db_errno(rc));
	}
	return (0);
}

/*
 * Bring an older schema up to DB_SCHEMA_VERSION, one version at a time,
 * each step in its own transaction ending with the new user_version.
 * 1 to 2: the durable store and its history (new tables only); 3 to 4:
 * the history's gaps (a new table); 4 to 5: the incarnations' ring
 * positions (a new column).
 */
static int
db_migrate(struct db *db, int64_t from, char *err, size_t errlen)
{
	int	error;

	if (from == 1 &&
	    (error = db_migrate_step(db, db_schema_v2, 2, err, errlen)) != 0)
		return (error);
	if (from <= 2) {
		if ((error = db_migrate_v3(db, err, errlen)) != 0)
			return (error);
		log_info("%s: migrated the console log to schema version 3",
		    db->path);
	}
	if (from <= 3 &&
	    (error = db_migrate_step(db, db_schema_v4, 4, err, errlen)) != 0)
		return (error);
	if (from <= 4 &&
	    (error = db_migrate_step(db, db_schema_v5, 5, err, errlen)) != 0)
		return (error);
	return (0);
}

/* Check that the file is our database at a version we know; the writer
 * creates the schema in an empty file and migrates an older one. */
static int
db_check_schema(struct db *db, bool writer, char *err, size_t errlen)
{
	int64_t	appid, version, objects;
	int	rc;

	rc = db_query_int(db, "PRAGMA application_id", &appid);
	if (rc == SQLITE_OK)
		rc = db_query_int(db, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = db_query_int(db, "SELECT count(*) FROM sqlite_master",
		    &objects);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB) {
			db_errf(err, errlen, "%s: not an xsconsoled console "
			    "database (not an SQLite database)", db->path);
			return (-EINVAL);
		}
		db_errf(err, errlen, "%s: %s", db->path,
		    sqlite3_errmsg(db->sql));
		return (-db_errno(rc));
	}
	if (appid == 0 && version == 0 && objects == 0) {
		db->version = DB_SCHEMA_VERSION;
		if (writer)
			return (db_create_schema(db, err, errlen));
		db_errf(err, errlen, "%s: empty database, no console log yet",
		    db->path);
		return (-EINVAL);
	}
	if (appid != DB_APPLICATION_ID) {
		db_errf(err, errlen, "%s: not an xsconsoled console database "
		    "(application_id %#llx)", db->path,
		    (unsigned long long)appid);
		return (-EINVAL);
	}
	if (version > DB_SCHEMA_VERSION) {
		db_errf(err, errlen, "%s: schema version %lld is newer than "
		    "this program knows (%d)", db->path, (long long)version,
		    DB_SCHEMA_VERSION);
		return (-EPROTONOSUPPORT);
	}
	db->version = (int)version;
	if (version < DB_SCHEMA_VERSION) {
		if (writer) {
			db->version = DB_SCHEMA_VERSION;
			return (db_migrate(db, version, err, errlen));
		}
		/* Versions 1 and 2 have the same console log; their
		 * history is not read (db_history: -ENOENT). Version 3 is
		 * read whole: it has no gaps. Version 4 lacks only what
		 * readers do not read (incarnation.ring_pos). */
		if (version <= 4)
			return (0);
		db_errf(err, errlen, "%s: schema version %lld is older than "
		    "this program reads (%d); start xsconsoled to migrate it",
		    db->path, (long long)version, DB_SCHEMA_VERSION);
		return (-EPROTONOSUPPORT);
	}
	return (0);
}

/* Set the connection up for the writer: WAL, commits that survive a
 * crash of the process (not of the OS), a bounded WAL file. */
static int
db_writer_pragmas(struct db *db, char *err, size_t errlen)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(db->sql, "PRAGMA journal_mode = WAL;"
	    " PRAGMA synchronous = NORMAL;"
	    " PRAGMA journal_size_limit = 67108864;"
	    " PRAGMA cache_size = -65536;", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		db_errf(err, errlen, "%s: %s", db->path,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (-db_errno(rc));
	}
	return (0);
}

/* Whether path's -wal file is missing (no connection has the database
 * open, none crashed with changes in it), or empty if missing_only is
 * false: then the main file holds every committed change. */
static bool
db_wal_clean(const char *path, bool missing_only)
{
	struct stat	 st;
	char		*wal;
	bool		 clean;

	xasprintf(&wal, "%s-wal", path);
	if (stat(wal, &st) != 0)
		clean = errno == ENOENT;
	else
		clean = !missing_only && S_ISREG(st.st_mode) && st.st_size == 0;
	free(wal);
	return (clean);
}

/* Whether we may create files beside path (SQLite's -shm). */
static bool
db_dir_writable(const char *path)
{
	char	*dir = xstrdup(path), *p;
	bool	 ok;

	if ((p = strrchr(dir, '/')) == NULL)
		ok = access(".", W_OK) == 0;
	else {
		p[p == dir] = '\0';	/* "/x": the root */
		ok = access(dir, W_OK) == 0;
	}
	free(dir);
	return (ok);
}

/* The URI that opens path immutable: SQLite then takes no lock and
 * makes no -shm file, and reads the main file only. */
static char *
db_immutable_uri(const char *path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s;
	char			*uri, *u;

	uri = xmalloc(strlen(path) * 3 + sizeof "file://?immutable=1");
	u = uri + sprintf(uri, "file:%s", path[0] == '/' ? "//" : "");
	for (s = (const unsigned char *)path; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._-~", *s) != NULL)
			*u++ = (char)*s;
		else {
			*u++ = '%';
			*u++ = hex[*s >> 4];
			*u++ = hex[*s & 15];
		}
	}
	strcpy(u, "?immutable=1");
	return (uri);
}

/* Whether path's -shm file exists (a writer at work, or one killed). */
static bool
db_shm_exists(const char *path)
{
	struct stat	 st;
	char		*shm;
	bool		 exists;

	xasprintf(&shm, "%s-shm", path);
	exists = stat(shm, &st) == 0 || errno != ENOENT;
	free(shm);
	return (exists);
}

/* Open a connection and read from it once (a reader of a WAL database
 * needs its -shm file then); an SQLite result code. With private_wal the
 * connection takes no lock and keeps the WAL index on its heap, not in a
 * -shm file: exclusive locking mode before the first read, which with
 * the default VFS would take a write lock on the file, refused on one
 * opened read-only (EBADF), hence the lockless "unix-none" VFS; and no
 * checkpoint at the close, which would otherwise be tried (it takes
 * "locks" there) and write where the files allow it. */
static int
db_connect(struct db *db, const char *name, int flags, bool private_wal)
{
	int64_t	n;
	int	rc;

	if (db->sql != NULL) {
		sqlite3_close(db->sql);
		db->sql = NULL;
	}
	rc = sqlite3_open_v2(name, &db->sql, flags,
	    private_wal ? "unix-none" : NULL);
	if (rc != SQLITE_OK)
		return (rc);
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, 5000);
	if (private_wal) {
		rc = sqlite3_db_config(db->sql,
		    SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->sql,
			    "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL,
			    NULL);
		if (rc != SQLITE_OK)
			return (rc);
	}
	rc = db_query_int(db, "SELECT count(*) FROM sqlite_master", &n);
	return (rc == SQLITE_READONLY_CANTINIT || rc == SQLITE_READONLY ||
	    (rc & 0xff) == SQLITE_CANTOPEN ? rc : SQLITE_OK);
}

/*
 * A reader's connection. SQLite reads a WAL database only where it can
 * make or open the -shm file beside it, which a copy in a directory the
 * reader cannot write does not allow ("unable to open database file",
 * "attempt to write a readonly database"), nor a -wal file it cannot
 * make. Where no writer can be at work, the reader goes without: with
 * no -wal file, or an empty one (every commit is in the main file), it
 * opens the file immutable; with a -wal file that has frames but no
 * -shm (the two copied: a writer makes its -shm before it writes the
 * -wal, and one killed leaves it behind), it reads the WAL into its own
 * memory (db_connect's private_wal), without locks. Either way nothing
 * is written, and a writer that starts later is not seen
 * (docs/console-db.md, "Readers").
 */
static int
db_connect_reader(struct db *db, const char *path)
{
	char	*uri;
	int	 flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY, rc;

	if (db_dir_writable(path) || !db_wal_clean(path, true)) {
		rc = db_connect(db, path, flags, false);
		if (rc == SQLITE_OK || db->sql == NULL)
			return (rc);
		if (!db_wal_clean(path, false)) {
			if (db_dir_writable(path) || db_shm_exists(path))
				return (rc);
			log_debug("%s: %s: reading its WAL without a -shm",
			    path, sqlite3_errmsg(db->sql));
			return (db_connect(db, path, flags, true));
		}
		log_debug("%s: %s: opening it immutable", path,
		    sqlite3_errmsg(db->sql));
	}
	uri = db_immutable_uri(path);
	rc = db_connect(db, uri, flags | SQLITE_OPEN_URI, false);
	free(uri);
	return (rc);
}

/* Open the database at path, for the writer or read-only, and check its
 * schema; NULL with errno set and a message in err on failure. */
struct db *
db_open_common(const char *path, bool writer, char *err, size_t errlen)
{
	struct db	*db;
	struct stat	 st;
	int		 rc, error;

	if (writer && (error = db_mkdirs(path)) != 0) {
		db_errf(err, errlen, "%s: cannot make its directory: %s", path,
		    strerror(-error));
		errno = -error;
		return (NULL);
	}
	if (!writer && stat(path, &st) != 0) {
		error = errno;
		db_errf(err, errlen, "%s: %s", path, error == ENOENT ?
		    "no such file" : strerror(error));
		errno = error;
		return (NULL);
	}
	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	db->data_version = -1;
	if (writer)
		rc = db_connect(db, path, SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, false);
	else
		rc = db_connect_reader(db, path);
	if (rc != SQLITE_OK) {
		db_errf(err, errlen, "%s: %s", path, db->sql != NULL ?
		    sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
		error = -db_errno(rc);
		goto fail;
	}
	if ((error = db_check_schema(db, writer, err, errlen)) != 0)
		goto fail;
	if (writer && (error = db_writer_pragmas(db, err, errlen)) != 0)
		goto fail;
	return (db);

fail:
	db_close_common(db);
	errno = -error;
	return (NULL);
}

/* Finalize the statements and close the connection. */
void
db_close_common(struct db *db)
{
	int	i;

	for (i = 0; i < DB_NSTMT; i++)
		sqlite3_finalize(db->stmt[i]);
	if (db->sql != NULL && sqlite3_close(db->sql) != SQLITE_OK)
		log_error("%s: close: %s", db->path, sqlite3_errmsg(db->sql));
	chunk_codec_free(db->codec);
	ZSTD_freeDCtx(db->dctx);
	free(db->path);
	free(db);
}

/* Close a writer (committing what is pending first) or a reader. */
void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->w != NULL)
		writer_stop(db);
	db_close_common(db);
}
