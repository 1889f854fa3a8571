/* Ending a tool with a message (tool.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "tool.h"
#include "when.h"
#include "xmalloc.h"

const char	*tool_name = "xsconsoled-tool";

/* Print a message prefixed with the program's name, and exit. */
void
tool_exit(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

/* A bad command line: say why, and exit 2. */
void
tool_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tool_name);
	exit(TOOL_EXIT_USAGE);
}

/*
 * getopt_long(3) failed (ch '?' or ':'; main sets opterr to 0 and starts
 * optstring with ':'): say why as getopt would, but under the tool's
 * name, not argv[0]'s path, and exit 2. A long option's errors leave
 * optind past it; a short one's are told by optopt, a character.
 */
void
tool_bad_option(int ch, char **argv, const char *optstring,
    const struct option *opts)
{
	struct esc_buf	 more = { 0 };
	const char	*arg = argv[optind - 1];
	size_t		 len;
	int		 i, n;

	if (strncmp(arg, "--", 2) != 0 || (ch == '?' && optopt != 0 &&
	    optopt < 256 && (optopt == ':' ||
	    strchr(optstring, optopt) == NULL))) {
		if (ch == ':')
			tool_usage_error("option requires an argument -- "
			    "'%c'", optopt);
		tool_usage_error("invalid option -- '%c'", optopt);
	}
	len = strcspn(arg, "=");
	if (ch == ':')
		tool_usage_error("option '%s' requires an argument", arg);
	if (optopt != 0)
		tool_usage_error("option '%.*s' doesn't allow an argument",
		    (int)len, arg);
	for (i = n = 0; opts[i].name != NULL; i++) {
		if (strncmp(opts[i].name, arg + 2, len - 2) == 0) {
			esc_addf(&more, " '--%s'", opts[i].name);
			n++;
		}
	}
	if (n > 1)
		tool_usage_error("option '%.*s' is ambiguous; possibilities:%s",
		    (int)len, arg, more.p);
	tool_usage_error("unrecognized option '%s'", arg);
}

/* A time option's value in ns since the epoch (never 0, which means
 * "not given"), or a usage error. */
uint64_t
tool_time(const char *opt, const char *s, uint64_t now)
{
	uint64_t	ns;
	int		error;

	if ((error = when_parse(s, now, &ns)) == -ERANGE)
		tool_usage_error("%s: out of range: '%s' (times run from 1970 "
		    "to 2554)", opt, s);
	if (error != 0)
		tool_usage_error("%s: not a time: '%s' (e.g. \"2026-11-23 "
		    "20:15:00\", 20:15, @1700000000, -5min, \"1h ago\", "
		    "yesterday)", opt, s);
	return (ns == 0 ? 1 : ns);
}

/* Copy bytes (a value from the log may hold NULs) into a new buffer
 * with a NUL after them; NULL stays NULL. */
void *
tool_dup(const void *p, size_t len)
{
	char	*s;

	if (p == NULL)
		return (NULL);
	s = xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return (s);
}

/* Whether the value differs from the one before. */
bool
tool_value_differs(const struct db_hchange *c)
{
	return (c->vlen != c->old_vlen || (c->vlen > 0 &&
	    memcmp(c->value, c->old_value, c->vlen) != 0));
}

/* Whether the permissions differ from the ones before. */
bool
tool_perms_differ(const struct db_hchange *c)
{
	return (c->perms != NULL && c->old_perms != NULL &&
	    strcmp(c->perms, c->old_perms) != 0);
}

/* Whether the change changed nothing that was known before it. */
bool
tool_change_noop(const struct db_hchange *c)
{
	return (!c->deleted && !c->created && c->old_known &&
	    c->old_exists && !tool_value_differs(c) && !tool_perms_differ(c));
}

/* Who committed a change: "dom5" or "sock#12". */
void
tool_origin(uint32_t origin, char *buf, size_t size)
{
	if (origin & DB_ORIGIN_SOCKET)
		snprintf(buf, size, "sock#%u", origin & ~DB_ORIGIN_SOCKET);
	else
		snprintf(buf, size, "dom%u", origin);
}

/*
 * The generations of a time window (0: no bound that side): from the
 * last commit at or before since_ns, to the one after the last at or
 * before until_ns, since the commits of a gap right after it have no
 * time and may be before until_ns (0 when until_ns is before the
 * history).
 */
void
tool_gen_window(struct db *db, uint64_t since_ns, uint64_t until_ns,
    uint64_t *lo, uint64_t *hi)
{
	uint64_t	g;

	*lo = 0;
	if (since_ns != 0 && db_gen_at(db, since_ns, &g) == 0)
		*lo = g;
	*hi = UINT64_MAX;
	if (until_ns != 0)
		*hi = db_gen_at(db, until_ns, &g) == 0 ? g + 1 : 0;
}

/* Whether the gap between commits lo and hi (lo + 1 to hi - 1 given
 * up) has commits in the generations win_lo to win_hi. */
bool
tool_gap_within(uint64_t lo, uint64_t hi, uint64_t win_lo, uint64_t win_hi)
{
	return (hi - 1 >= win_lo && lo + 1 <= win_hi);
}
