/* What the database's unit tests share (check_db, check_history): a
 * fresh directory per test, its database path, and removing it after
 * (unless XSC_KEEP is set). */
#ifndef XSC_DBTEST_H
#define XSC_DBTEST_H

#include <stddef.h>

void	dbtest_setup(const char *, const char *, char *, size_t, char *,
	    size_t);
void	dbtest_teardown(const char *);

#endif
