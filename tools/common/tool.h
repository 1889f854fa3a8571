/*
 * What the tools that read the log share about ending: a message
 * prefixed with the program's name on standard error, then the exit
 * status; a bad command line also points at --help and exits 2. And
 * the time options (--since, --until, --at), as when.h reads them.
 */
#ifndef XSC_TOOL_H
#define XSC_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define TOOL_EXIT_USAGE	2

extern const char	*tool_name;	/* set by main() */

void	tool_exit(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	tool_usage_error(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
struct option;
void	tool_bad_option(int, char **, const char *, const struct option *)
	    __attribute__((noreturn));
uint64_t tool_time(const char *, const char *, uint64_t);
void	*tool_dup(const void *, size_t);

/* A history change read with_old: whether its value, or its permissions,
 * differ from the ones before; whether it changed nothing at all (a
 * parent touched when a child was made, a value written again). */
bool	 tool_value_differs(const struct db_hchange *);
bool	 tool_perms_differ(const struct db_hchange *);
bool	 tool_change_noop(const struct db_hchange *);
/* Who committed a change: "dom5" or "sock#12". */
void	 tool_origin(uint32_t origin, char *buf, size_t size);

/* The gaps of the history (db_history_gaps) a time window concerns:
 * the window's generations, and whether a gap has commits in them. */
void	 tool_gen_window(struct db *, uint64_t since_ns, uint64_t until_ns,
	    uint64_t *lo, uint64_t *hi);
bool	 tool_gap_within(uint64_t lo, uint64_t hi, uint64_t win_lo,
	    uint64_t win_hi);

#endif
