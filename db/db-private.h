/*
 * What db.c (opening, the schema, prepared statements), writer.c (the
 * writer thread) and reader.c (the query API) share. Only db/ sees it.
 */
#ifndef XSC_DB_PRIVATE_H
#define XSC_DB_PRIVATE_H

#include <sqlite3.h>

#include "chunk.h"
#include "db.h"

#define DB_APPLICATION_ID	0x78736364	/* "xscd" */

/* An hbatch row's columns, in struct hbatch_row's order (hbatch_read). */
#define HB_COLUMNS \
	"gen_lo, gen_hi, ns_lo, ns_hi, commits, changes, raw_bytes, size, data"

/* Every statement either side runs, prepared once on first use. */
enum db_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INC_FIND,
	ST_INC_INSERT,
	ST_INC_RING_START,
	ST_INC_RENAME,
	ST_INC_LOAD,
	ST_INC_UPDATE,
	ST_INC_GONE,
	ST_INC_KEPT_SUB,
	ST_INC_TOTAL,
	ST_CHUNK_INSERT,
	ST_CHUNK_OLDEST_OF,
	ST_CHUNK_DELETE_SEQ,
	ST_CHUNK_OLDEST,
	ST_CHUNK_DELETE_ID,
	ST_DEAD_FIND,
	ST_DEAD_CHUNKS,
	ST_DEAD_INC,
	ST_INCS_BY_DOMID,
	ST_INCS_BY_NAME,
	ST_INCS_LIVE,
	ST_INC_GET,
	ST_CHUNKS_AFTER,
	ST_LAST_SEQ,
	ST_INC_UNKEPT,
	ST_TAIL,
	ST_DATA_VERSION,
	/* The durable store and its history (history.c, hthin.c). */
	ST_NODE_DELETE,
	ST_NODE_INSERT,
	ST_NODE_UPDATE,
	ST_NODE_ALL,
	ST_NODE_FORGET,
	ST_HBATCH_INSERT,
	ST_HBATCH_PATHS,
	ST_HPATH_INSERT,
	ST_HSUBJ_INSERT,
	ST_HNAME_INSERT,
	ST_DOMAIN_PUT,
	ST_DOMAIN_DEL,
	ST_WATCH_DEL_DOMAIN,
	ST_WATCH_PUT,
	ST_WATCH_DEL,
	ST_META_PUT,
	ST_META_DEL,
	ST_HSTATE_LOAD,
	ST_HSTATE_SAVE,
	ST_SNAP_INSERT,
	ST_HPATH_DELETE,
	ST_HSUBJ_DELETE,
	ST_HBATCH_DELETE,
	ST_HNAME_PRUNE,
	ST_HBATCH_SINCE_NS,
	ST_HBATCH_AFTER_NS,
	ST_HBATCH_BEFORE,
	ST_HBATCH_AT,
	ST_HBATCH_NEXT,
	ST_HBATCH_FIRST,
	ST_HBATCH_LAST,
	ST_SNAP_OLD,
	ST_SNAP_DELETE,
	ST_HGAP_INSERT,
	/* Readers of the history (hreader.c). */
	ST_HPATH_PREV,
	ST_SNAP_AT,
	ST_NAMED,
	ST_HNAME_NEXT,
	ST_NAME_LAST,
	ST_LIFE_FIRST,
	ST_LIFE_END,
	ST_HGAP_AT,
	ST_HGAP_ALL,
	ST_HGAP_AFTER,
	ST_SNAP_TIME,
	ST_SNAP_LAST,
	DB_NSTMT
};

struct db_writer;

struct db {
	sqlite3			*sql;
	char			*path;
	sqlite3_stmt		*stmt[DB_NSTMT];
	struct chunk_codec	*codec;
	struct db_writer	*w;		/* NULL for a reader */
	void			*dctx;		/* ZSTD_DCtx for the history's
						   batches, made on first use
						   (by the thread using db) */
	int64_t			 data_version;	/* last seen by db_changed */
	int			 version;	/* the file's schema version */
	bool			 retrying;	/* the writer's commits fail: a
						   statement's error is logged
						   at debug level (the first
						   failure was logged) */
};

struct db	*db_open_common(const char *, bool, char *, size_t);
void		 db_close_common(struct db *);
sqlite3_stmt	*db_stmt(struct db *, enum db_stmt);
int		 db_step_done(struct db *, enum db_stmt);
int		 db_errno(int);
void		 db_errf(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Writer side, in writer.c. */
int		 writer_start(struct db *, const struct db_config *, char *,
		    size_t);
void		 writer_stop(struct db *);

#endif
