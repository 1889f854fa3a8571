/*
 * TEMPORARY -- DROP THIS FILE AT MERGE (and its line in Makefile.am).
 *
 * db_set_limits() is declared in db/db.h and implemented on the history
 * branch. Until that is merged, this weak stand-in lets the daemon link:
 * a live change of a db/... or history/... setting is accepted and shown
 * in the config nodes, but the open database keeps the limits it was
 * opened with (the config file and command line still reach it at start,
 * through db_open_writer).
 */
#include "db.h"
#include "log.h"

/* Stand-in: change nothing, say so. */
__attribute__((weak)) int
db_set_limits(struct db *db, const struct db_config *cfg)
{
	(void)db;
	(void)cfg;
	log_warn("db_set_limits is not in this build: the database keeps "
	    "its limits until the next start");
	return (0);
}
