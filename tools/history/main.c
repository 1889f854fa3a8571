/*
 * xsc-history: the store's history, as xsconsoled keeps it in its log
 * (db/, read-only): the changes to a path and below (git log), the tree
 * as it was at a generation or a time (--at), and the extent of what is
 * kept (--info). This file reads the command line, opens the log, says
 * why it cannot, and prints --info.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dbopen.h"
#include "history.h"
#include "log.h"
#include "xmalloc.h"

enum {
	OPT_DB = 256,
	OPT_RAW,
	OPT_FROM,
	OPT_TO,
	OPT_AT,
	OPT_INFO,
	OPT_EXACT,
	OPT_DOMAIN,
};

static void	 hist_info(struct hist *);

/* Print the usage. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: xsc-history [OPTION...] [PATH]\n"
"       xsc-history [--db PATH] [-p] [--raw] --at GEN|TIME [PATH]\n"
"       xsc-history [--db PATH] [-o json] --info\n"
"\n"
"The changes to the store at PATH and below (default /), oldest first,\n"
"from xsconsoled's log; or the store as it was (--at).\n"
"\n"
"      --db PATH           the log (default $XSC_CONSOLE_DB, else\n"
"                          " DB_DEFAULT_PATH ")\n"
"  -x, --exact             the changes to PATH alone, not below it\n"
"  -n, --lines N           the last N changes\n"
"  -r, --reverse           newest first\n"
"  -S, --since TIME        changes committed at or after TIME\n"
"  -U, --until TIME        changes committed at or before TIME\n"
"                          TIME: \"2026-11-23 20:15:00\", \"20:15\",\n"
"                          2026-11-23T20:15:00Z, @EPOCH, -5min, \"1h ago\",\n"
"                          now, today, yesterday\n"
"      --from GEN          changes of generation GEN and later\n"
"      --to GEN            changes of generation GEN and earlier\n"
"  -d, --domain ID|NAME    the changes concerning a guest: its home\n"
"                          /local/domain/ID and its backends (a NAME:\n"
"                          that guest's life only, not others' on ID)\n"
"  -a, --all               also writes that changed nothing (a parent\n"
"                          touched by its children, a value rewritten)\n"
"  -o, --output FORMAT     short (default), short-iso, short-precise,\n"
"                          cat (no time), json\n"
"  -p, --perms             permissions on every line, as xenstore-ls -p\n"
"      --raw               values as they are, unescaped\n"
"      --at GEN|TIME       the tree below PATH just after commit GEN, or\n"
"                          as it was at TIME, as xenstore-ls -f prints it\n"
"      --info              the extent of the history kept\n"
"  -h, --help              this help;  -V, --version  the version\n"
"\n"
"Exit status: 0 ok, 1 nothing found or out of the history, 2 usage,\n"
"3 no database, 4 database not readable, 5 database unusable, 6 write\n"
"error.\n");
}

/* Report a failed read of the log and exit. */
void
hist_db_fail(struct hist *h, int error)
{
	char	msg[1024];
	int	status;

	if (error == -ENOENT)
		tool_exit(HIST_EXIT_DB, "%s has no store history (a log of "
		    "schema version 1, from before xsconsoled kept one)",
		    h->dbpath);
	status = dbopen_failed(h->dbpath, error, msg, sizeof msg);
	tool_exit(status, "%s", msg);
}

/* Write the line made in h->out; a write error ends the program. */
void
hist_flush(struct hist *h)
{
	if (h->out.len > 0 &&
	    fwrite(h->out.p, 1, h->out.len, stdout) != h->out.len)
		tool_exit(HIST_EXIT_WRITE, "write: %s", strerror(errno));
	esc_reset(&h->out);
}

/* Add a value to the line: escaped as xenstore-ls does (and its quotes
 * too, when a line holds more than one), or as it is with --raw. */
void
hist_value(struct hist *h, const void *v, size_t len, bool quotes)
{
	if (h->raw)
		esc_add(&h->out, v, len);
	else
		esc_xenstore(&h->out, v, len, quotes);
}

/* Parse a number option; exits on garbage. */
static uint64_t
hist_number(const char *opt, const char *s)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	if (*s < '0' || *s > '9')
		tool_usage_error("%s: not a valid number: '%s'", opt, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		tool_usage_error("%s: not a valid number: '%s'", opt, s);
	return (v);
}

/* Parse -o. */
static enum hist_format
hist_format(const char *s)
{
	if (strcmp(s, "short") == 0)
		return (HIST_SHORT);
	if (strcmp(s, "short-iso") == 0)
		return (HIST_SHORT_ISO);
	if (strcmp(s, "short-precise") == 0)
		return (HIST_SHORT_PRECISE);
	if (strcmp(s, "cat") == 0)
		return (HIST_CAT);
	if (strcmp(s, "json") == 0)
		return (HIST_JSON);
	tool_usage_error("-o: unknown format '%s' (short, short-iso, "
	    "short-precise, cat, json)", s);
}

/* Whether s is all digits (a generation or a domid, not a time). */
static bool
hist_digits(const char *s)
{
	if (*s == '\0')
		return (false);
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return (false);
	return (true);
}

/* The path argument, absolute, without a trailing slash. */
static char *
hist_path(const char *s)
{
	char	*p;
	size_t	 n;

	if (*s != '/')
		tool_usage_error("'%s': the path must be absolute (start "
		    "with /)%s%s", s, hist_digits(s) ? "; a domain's changes: -d "
		    : "", hist_digits(s) ? s : "");
	p = xstrdup(s);
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return (p);
}

/* --domain: a domid (every guest it served), or the guest most recently
 * named so: its domid, over that guest's life (a domid is served again
 * by other guests after it). */
static void
hist_domain(struct hist *h, const char *s)
{
	uint32_t	*domids;
	uint64_t	*last, lo, hi;
	size_t		 n;
	char		 when[64];
	int		 error;

	if (hist_digits(s)) {
		h->subject = (int64_t)hist_number("--domain", s);
		if (h->subject > UINT32_MAX)
			tool_usage_error("--domain: no such domid: '%s'", s);
		return;
	}
	if ((error = db_domids_named(h->db, s, &domids, &last, &n)) != 0)
		hist_db_fail(h, error);
	if (n == 0)
		tool_exit(HIST_EXIT_NOTFOUND, "no domain was ever named '%s' "
		    "in the store history", s);
	h->subject = domids[0];
	if ((error = db_name_life(h->db, s, domids[0], &lo, &hi)) != 0)
		hist_db_fail(h, error);
	if (lo > h->gen_from)
		h->gen_from = lo;
	if (hi != UINT64_MAX && (h->gen_to == 0 || hi < h->gen_to))
		h->gen_to = hi;
	if (n > 1) {
		when_iso(last[1], when, sizeof when);
		fprintf(stderr, "xsc-history: '%s' is domain %u; it was "
		    "domain %u until %s (--domain %u for that one)\n", s,
		    domids[0], domids[1], when, domids[1]);
	}
	free(domids);
	free(last);
}

/* The generation --at names: a number, or the last commit at a time. */
static uint64_t
hist_at(struct hist *h, const char *s, uint64_t now)
{
	struct db_hinfo	info;
	uint64_t	gen, ns;
	char		when[64];
	int		error;

	if ((error = db_history_info(h->db, &info)) != 0)
		hist_db_fail(h, error);
	if (hist_digits(s)) {
		gen = hist_number("--at", s);
		if (gen > info.last_gen)
			tool_exit(HIST_EXIT_NOTFOUND, "no generation %" PRIu64
			    " yet: the last is %" PRIu64, gen,
			    info.last_gen);
		return (gen);
	}
	ns = tool_time("--at", s, now);
	if (ns > now) {
		when_iso(ns, when, sizeof when);
		tool_exit(HIST_EXIT_NOTFOUND, "%s is in the future: the last "
		    "commit is generation %" PRIu64, when, info.last_gen);
	}
	if ((error = db_gen_at(h->db, ns, &gen)) == -ERANGE)
		hist_before(&info);
	if (error != 0)
		hist_db_fail(h, error);
	return (gen);
}

/* Exit: what was asked is before the history kept (info, read). It
 * starts at generation 1 unless the oldest went (the budget, thinning). */
void
hist_before(const struct db_hinfo *info)
{
	char	when[64];

	when_iso(info->first_ns, when, sizeof when);
	tool_exit(HIST_EXIT_NOTFOUND, "history starts at generation %" PRIu64
	    " (%s)%s", info->first_gen, when, info->first_gen > 1 ?
	    "; older ones were thinned out" : ": the store was not kept "
	    "before");
}

/* --info: the extent of the history kept. */
static void
hist_info(struct hist *h)
{
	struct db_hinfo	i;
	char		first[64], last[64];
	uint64_t	*lo, *hi;
	size_t		 n, k;
	int		error;

	if ((error = db_history_info(h->db, &i)) != 0)
		hist_db_fail(h, error);
	if ((error = db_history_gaps(h->db, &lo, &hi, &n)) != 0)
		hist_db_fail(h, error);
	if (h->format == HIST_JSON) {
		when_iso_utc_us(i.first_ns, first, sizeof first);
		when_iso_utc_us(i.last_ns, last, sizeof last);
		esc_addf(&h->out, "{\"first_gen\":%" PRIu64 ",\"first_time\":"
		    "%" PRIu64 ",\"first_iso\":\"%s\",\"last_gen\":%" PRIu64
		    ",\"last_time\":%" PRIu64 ",\"last_iso\":\"%s\","
		    "\"whole_from_gen\":%" PRIu64 ",\"commits\":%" PRIu64
		    ",\"changes\":%" PRIu64 ",\"snapshots\":%" PRIu64
		    ",\"bytes\":%" PRIu64 ",\"gaps\":[", i.first_gen,
		    i.first_ns / 1000, first, i.last_gen, i.last_ns / 1000,
		    last, i.full_from_gen, i.commits, i.changes, i.snapshots,
		    i.bytes);
		for (k = 0; k < n; k++)
			esc_addf(&h->out, "%s{\"first\":%" PRIu64 ",\"last\":%"
			    PRIu64 "}", k > 0 ? "," : "", lo[k] + 1, hi[k] - 1);
		esc_adds(&h->out, "]}\n");
		free(lo);
		free(hi);
		hist_flush(h);
		return;
	}
	if (i.last_gen == 0) {
		esc_adds(&h->out, "no commits kept yet\n");
	} else {
		when_iso(i.first_ns, first, sizeof first);
		when_iso(i.last_ns, last, sizeof last);
		esc_addf(&h->out, "first:      generation %" PRIu64 " at %s\n"
		    "last:       generation %" PRIu64 " at %s\n"
		    "whole from: generation %" PRIu64 "%s\n", i.first_gen,
		    first, i.last_gen, last, i.full_from_gen,
		    i.full_from_gen > i.first_gen ? " (older ones thinned)" :
		    "");
	}
	for (k = 0; k < n; k++)
		esc_addf(&h->out, "gap:        generations %" PRIu64 " to %"
		    PRIu64 " given up (the store written whole again at %"
		    PRIu64 ")\n", lo[k] + 1, hi[k] - 1, hi[k]);
	esc_addf(&h->out, "commits:    %" PRIu64 "\nchanges:    %" PRIu64
	    "\nsnapshots:  %" PRIu64 "\nbytes:      %" PRIu64 "\n", i.commits,
	    i.changes, i.snapshots, i.bytes);
	free(lo);
	free(hi);
	hist_flush(h);
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "exact", no_argument, NULL, 'x' },
		{ "lines", required_argument, NULL, 'n' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "domain", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "perms", no_argument, NULL, 'p' },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "at", required_argument, NULL, OPT_AT },
		{ "info", no_argument, NULL, OPT_INFO },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char		 shortopts[] = ":xn:rS:U:d:ao:phV";
	struct hist			 h;
	const char			*at = NULL, *domain = NULL;
	char				*path = NULL, msg[1024];
	uint64_t			 now = when_now(), gen;
	bool				 info = false, log_opts = false;
	int				 ch, status;

	setlocale(LC_CTYPE, "");
	log_open(NULL, LOG_LEVEL_ERROR);
	memset(&h, 0, sizeof h);
	h.subject = -1;
	h.dbpath = getenv("XSC_CONSOLE_DB");
	if (h.dbpath == NULL || *h.dbpath == '\0')
		h.dbpath = DB_DEFAULT_PATH;
	tool_name = "xsc-history";
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (ch) {
		case OPT_DB:
			h.dbpath = optarg;
			break;
		case 'x':
			h.exact = log_opts = true;
			break;
		case 'n':
			h.limit = hist_number("-n", optarg);
			if (h.limit == 0)
				tool_usage_error("-n: at least 1");
			log_opts = true;
			break;
		case 'r':
			h.reverse = log_opts = true;
			break;
		case 'S':
			h.since_ns = tool_time("--since", optarg, now);
			log_opts = true;
			break;
		case 'U':
			h.until_ns = tool_time("--until", optarg, now);
			log_opts = true;
			break;
		case OPT_FROM:
			h.gen_from = hist_number("--from", optarg);
			log_opts = true;
			break;
		case OPT_TO:
			h.gen_to = hist_number("--to", optarg);
			if (h.gen_to == 0)
				tool_usage_error("--to: at least 1");
			log_opts = true;
			break;
		case 'd':
			domain = optarg;
			log_opts = true;
			break;
		case 'a':
			h.all = log_opts = true;
			break;
		case 'o':
			h.format = hist_format(optarg);
			break;
		case 'p':
			h.perms = true;
			break;
		case OPT_RAW:
			h.raw = true;
			break;
		case OPT_AT:
			at = optarg;
			break;
		case OPT_INFO:
			info = true;
			break;
		case 'h':
			usage(stdout);
			return (HIST_EXIT_OK);
		case 'V':
			printf("xsc-history %s\n", PACKAGE_VERSION);
			return (HIST_EXIT_OK);
		default:
			tool_bad_option(ch, argv, shortopts, opts);
		}
	}
	if (optind + 1 == argc)
		h.path = path = hist_path(argv[optind]);
	else if (optind < argc)
		tool_usage_error("one path at a time");
	else
		h.path = "/";
	if (info && (at != NULL || path != NULL || log_opts))
		tool_usage_error("--info takes no path and no other option "
		    "but --db and -o");
	if (at != NULL && log_opts)
		tool_usage_error("--at shows a tree: it takes a path, -p and "
		    "--raw, not the options that select changes");
	if (at != NULL && h.format != HIST_SHORT)
		tool_usage_error("--at prints as xenstore-ls -f: no -o");
	if (h.since_ns != 0 && h.until_ns != 0 && h.since_ns > h.until_ns)
		tool_usage_error("--since is after --until");
	if (h.gen_to != 0 && h.gen_from > h.gen_to)
		tool_usage_error("--from is after --to");

	if ((status = dbopen_reader(h.dbpath, &h.db, msg, sizeof msg)) != 0)
		tool_exit(status, "%s", msg);
	if (info) {
		hist_info(&h);
	} else if (at != NULL) {
		gen = hist_at(&h, at, now);
		tree_show(&h, gen);
	} else {
		if (domain != NULL)
			hist_domain(&h, domain);
		changes_show(&h);
	}
	if (fflush(stdout) != 0)
		tool_exit(HIST_EXIT_WRITE, "write: %s", strerror(errno));
	db_close(h.db);
	esc_free(&h.out);
	free(path);
	if (!info && h.shown == 0)
		return (HIST_EXIT_NOTFOUND);
	return (HIST_EXIT_OK);
}
