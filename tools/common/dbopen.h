/*
 * Opening the log read-only for a tool, and saying why it failed in the
 * words and exit status both tools use (docs/xsconsole-tail.1,
 * docs/xsc-history.1: 3 no database, 4 not readable, 5 unusable).
 */
#ifndef XSC_DBOPEN_H
#define XSC_DBOPEN_H

#include <stddef.h>

#include "db.h"

#define DBOPEN_EXIT_NODB	3	/* no database file */
#define DBOPEN_EXIT_PERM	4	/* the database is not readable */
#define DBOPEN_EXIT_DB		5	/* not a log, corrupt, I/O */

int	 dbopen_reader(const char *, struct db **, char *, size_t);
int	 dbopen_failed(const char *, int, char *, size_t);

#endif
