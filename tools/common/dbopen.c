/*
 * Opening the log read-only (dbopen.h): SQLite says "unable to open" for
 * a missing file and for one we may not read, so those are told apart
 * first, with a hint on who may read it.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbopen.h"

/* Who may read path: the hint after "Permission denied". */
static void
dbopen_hint(const char *path, char *buf, size_t size)
{
	struct stat	 st;
	struct group	*gr;

	if (stat(path, &st) == 0 && (st.st_mode & S_IRGRP) &&
	    (gr = getgrgid(st.st_gid)) != NULL && st.st_gid != 0)
		snprintf(buf, size, "run as root or as a member of group %s",
		    gr->gr_name);
	else
		snprintf(buf, size, "run as root");
}

/* Open the log: 0 and *db, or the exit status and why in msg. */
int
dbopen_reader(const char *path, struct db **db, char *msg, size_t size)
{
	struct stat	st;
	char		err[512], hint[128];
	int		error;

	*db = NULL;
	if (access(path, R_OK) != 0) {
		error = errno;
		if (error == ENOENT || error == ENOTDIR) {
			snprintf(msg, size, "no database at %s; is xsconsoled "
			    "running? (--db or XSC_CONSOLE_DB)", path);
			return (DBOPEN_EXIT_NODB);
		}
		return (dbopen_failed(path, -error, msg, size));
	}
	/* SQLite would say "disk I/O error". */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(msg, size, "%s is a directory, not the database "
		    "file (--db or XSC_CONSOLE_DB; e.g. "
		    "/var/lib/xsconsoled/console.db)", path);
		return (DBOPEN_EXIT_NODB);
	}
	if ((*db = db_open_reader(path, err, sizeof err)) == NULL) {
		error = errno;
		if (error == EACCES || error == EPERM) {
			dbopen_hint(path, hint, sizeof hint);
			snprintf(msg, size, "cannot read %s: %s (%s; %s)", path,
			    strerror(error), err, hint);
			return (DBOPEN_EXIT_PERM);
		}
		snprintf(msg, size, "%s", err);
		return (DBOPEN_EXIT_DB);
	}
	return (0);
}

/* A read of the log failed with -errno: the exit status, why in msg. */
int
dbopen_failed(const char *path, int error, char *msg, size_t size)
{
	char	hint[128];

	if (error == -EACCES || error == -EPERM) {
		dbopen_hint(path, hint, sizeof hint);
		snprintf(msg, size, "cannot read %s: %s (%s)", path,
		    strerror(-error), hint);
		return (DBOPEN_EXIT_PERM);
	}
	snprintf(msg, size, "%s: %s", path, strerror(-error));
	return (DBOPEN_EXIT_DB);
}
