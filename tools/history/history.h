/*
 * xsc-history: the store's history, read from xsconsoled's log (db/,
 * read-only), as git log shows a repository's. One file per part:
 *
 *   main.c     options, opening the log, exit codes, --info
 *   changes.c  the changes: selecting, ordering, -n, the -o formats
 *   tree.c     --at: the tree as it was, as xenstore-ls -f prints it
 */
#ifndef XSC_HISTORY_H
#define XSC_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "esc.h"
#include "tool.h"
#include "when.h"

/* Exit status (docs/xsc-history.1, EXIT STATUS; as xsconsole-tail's). */
#define HIST_EXIT_OK		0
#define HIST_EXIT_NOTFOUND	1	/* nothing found, out of range */
#define HIST_EXIT_USAGE		2
#define HIST_EXIT_NODB		3	/* no database file */
#define HIST_EXIT_PERM		4	/* the database is not readable */
#define HIST_EXIT_DB		5	/* not a log, corrupt, I/O */
#define HIST_EXIT_WRITE		6	/* writing the output failed */

enum hist_format {
	HIST_SHORT,			/* "Nov 23 20:15:01" */
	HIST_SHORT_ISO,			/* "2026-11-23T20:15:01.123+01:00" */
	HIST_SHORT_PRECISE,		/* "Nov 23 20:15:01.123456" */
	HIST_CAT,			/* no time */
	HIST_JSON,			/* one object per change */
};

/* The command line and the state of one run. */
struct hist {
	const char		*dbpath;
	struct db		*db;

	const char		*path;		/* "/" unless given */
	bool			 exact;		/* the path alone */
	bool			 reverse;	/* newest first */
	bool			 all;		/* unchanged ones too */
	bool			 perms;		/* -p */
	bool			 raw;		/* values untouched */
	enum hist_format	 format;
	uint64_t		 limit;		/* -n; 0: all */
	uint64_t		 since_ns, until_ns;	/* 0: unbounded */
	uint64_t		 gen_from, gen_to;	/* 0: unbounded */
	int64_t			 subject;	/* --domain; -1: none */

	struct esc_buf		 out;		/* the line being made */
	int			 gen_width;	/* GEN's, short formats */
	uint64_t		 shown;
	uint64_t		 last_gen;	/* of the last change shown */
	uint64_t		*gap_lo, *gap_hi;	/* db_history_gaps */
	size_t			 ngaps;
	uint64_t		 win_lo, win_hi;	/* the generations
						   asked for */
};

/* main.c */
void		 hist_db_fail(struct hist *, int);
void		 hist_before(const struct db_hinfo *)
		    __attribute__((__noreturn__));
void		 hist_flush(struct hist *);
void		 hist_value(struct hist *, const void *, size_t, bool);

/* changes.c */
void		 changes_show(struct hist *);

/* tree.c */
void		 tree_show(struct hist *, uint64_t gen);

#endif
