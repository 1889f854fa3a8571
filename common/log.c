/* Logging with levels. The log state is the one process-wide setting
 * below daemon/: every part logs, and the level is changed live. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static FILE		*log_file;
static enum log_level	 log_level = LOG_LEVEL_INFO;

static const char *log_names[] = { "error", "warn", "info", "debug" };

/* Start logging to f (stderr when NULL) at the given level. */
void
log_open(FILE *f, enum log_level level)
{
	log_file = f;
	log_level = level;
}

/* Stop logging to a file; later messages go to stderr. */
void
log_close(void)
{
	if (log_file != NULL && log_file != stderr)
		fclose(log_file);
	log_file = NULL;
}

/* Change the level; returns the old one. */
int
log_set_level(enum log_level level)
{
	enum log_level	old = log_level;

	log_level = level;
	return (old);
}

/* The current level. */
enum log_level
log_get_level(void)
{
	return (log_level);
}

/* Parse a level name; 0 on success, -EINVAL otherwise. */
int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	return (-EINVAL);
}

/* The name of a level. */
const char *
log_level_name(enum log_level level)
{
	if ((size_t)level >= sizeof log_names / sizeof log_names[0])
		return ("?");
	return (log_names[level]);
}

/* Write one line with a time stamp and the level; the file's lock keeps
 * the line whole when the console log's writer thread logs too. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	FILE		*f = log_file != NULL ? log_file : stderr;
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(f);
	fprintf(f, "%s.%03ldZ %s: ", when, ts.tv_nsec / 1000000,
	    log_level_name(level));
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
	funlockfile(f);
}

/* Log a message if the level allows it. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

/* Log and exit: for our own broken invariants and out of memory only. */
void
log_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	abort();
}
