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

/* Every statement either side runs, prepared once on first use. */
enum db_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INC_FIND,
	ST_INC_INSERT,
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
	ST_INC_GET,
	ST_CHUNKS_AFTER,
	ST_LAST_SEQ,
	ST_TAIL,
	ST_DATA_VERSION,
	DB_NSTMT
};

struct db_writer;

struct db {
	sqlite3			*sql;
	char			*path;
	sqlite3_stmt		*stmt[DB_NSTMT];
	struct chunk_codec	*codec;
	struct db_writer	*w;		/* NULL for a reader */
	int64_t			 data_version;	/* last seen by db_changed */
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
