/* Per-test directories for the database's unit tests (dbtest.h). */
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "dbtest.h"
#include "log.h"

/* A fresh directory /tmp/<name>.XXXXXX in dir, the database path rel
 * below it in path; warnings and errors logged. */
void
dbtest_setup(const char *name, const char *rel, char *dir, size_t dirsize,
    char *path, size_t pathsize)
{
	snprintf(dir, dirsize, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, pathsize, "%s/%s", dir, rel);
	log_open(stderr, LOG_LEVEL_WARN);
}

/* Remove a test's directory. */
void
dbtest_teardown(const char *dir)
{
	char	cmd[160];

	if (getenv("XSC_KEEP") != NULL)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}
