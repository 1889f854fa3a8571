/*
 * xsconsole-tail: the lines a domain's console printed, read from
 * xsconsoled's console log (db/, read-only), with the habits of tail(1)
 * and journalctl(1): the last N lines, -f, --since/--until, -g, -o,
 * every incarnation of a domain or one of them, and with --store the
 * guest's store changes in between. This file reads the command line,
 * opens the log and says why it cannot.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "config.h"
#include "dbopen.h"
#include "log.h"
#include "tail.h"

enum {
	OPT_DB = 256,
	OPT_RAW,
	OPT_STORE,
	OPT_CASE,
};

/* Print the usage. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: xsconsole-tail [OPTION...] DOMID|NAME\n"
"       xsconsole-tail [--db PATH] --list [DOMID|NAME]\n"
"\n"
"Print the lines of a domain's console, from xsconsoled's log.\n"
"\n"
"  --db PATH               the console log (default $XSC_CONSOLE_DB, else\n"
"                          " DB_DEFAULT_PATH ")\n"
"  -n, --lines N|+N        the last N lines (default %d; all with --since,\n"
"                          --until, -g or --all), or from the Nth on\n"
"  -f, --follow            print new lines as they come, and the next\n"
"                          incarnation of the domain when this one ends\n"
"  -S, --since TIME        lines captured at or after TIME\n"
"  -U, --until TIME        lines captured at or before TIME\n"
"                          TIME: \"2026-11-23 20:15:00\", \"20:15\",\n"
"                          2026-11-23T20:15:00Z, @EPOCH, -5min, \"1h ago\",\n"
"                          now, today, yesterday\n"
"  -a, --all               every incarnation of the domain, oldest first\n"
"  -i, --incarnation ID|-N incarnation ID (from --list), or the Nth before\n"
"                          the newest (0: the newest, the default)\n"
"  -l, --list              list the incarnations (of every domain if none\n"
"                          is given)\n"
"  -g, --grep PATTERN      lines matching PATTERN (POSIX extended regex)\n"
"      --case-sensitive[=yes|no]  default: only if PATTERN has capitals\n"
"  -o, --output FORMAT     cat (default), short, short-precise, json\n"
"  -t, --timestamps        with -o cat: each line's capture time first\n"
"      --raw               the bytes as the guest wrote them, control\n"
"                          characters and escape sequences included\n"
"      --store             the guest's store changes among its lines\n"
"  -h, --help              this help;  -V, --version  the version\n"
"\n"
"Exit status: 0 ok, 1 no such domain or incarnation, 2 usage, 3 no\n"
"database, 4 database not readable, 5 database unusable, 6 write error.\n",
	    TAIL_DEFAULT_LINES);
}

/* Report a failed read of the log and exit. */
void
tail_db_fail(struct tail *t, int error)
{
	char	msg[1024];
	int	status;

	if (error == -EIO && t->nincs > 0)
		tool_exit(TAIL_EXIT_DB, "%s: incarnation %" PRId64 " has a "
		    "corrupt chunk after %" PRId64, t->path,
		    t->incs[t->cur].id, t->seq);
	status = dbopen_failed(t->path, error, msg, sizeof msg);
	tool_exit(status, "%s", msg);
}

/* Open the log read-only, or exit saying why not. */
static void
tail_open(struct tail *t)
{
	char	msg[1024];
	int	status;

	if ((status = dbopen_reader(t->path, &t->db, msg, sizeof msg)) != 0)
		tool_exit(status, "%s", msg);
}

/* Whether s is a domid (all digits, fits in 32 bits). */
static bool
tail_domid(const char *s, uint32_t *out)
{
	unsigned long long	v;
	char			*end;

	if (*s < '0' || *s > '9')
		return (false);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return (false);
	*out = (uint32_t)v;
	return (true);
}

/* Parse a number option: digits, after a '-' if allow_negative (not
 * the blanks or sign strtoll(3) would take, so "-0" is refused as "-2"
 * is); exits on garbage. */
static long long
tail_number(const char *opt, const char *s, bool allow_negative)
{
	long long	 v;
	char		*end;
	const char	*digits = allow_negative && *s == '-' ? s + 1 : s;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*digits < '0' || *digits > '9' || errno != 0 || *end != '\0')
		tool_usage_error("%s: not a valid number: '%s'", opt, s);
	return (v);
}

/* Parse -o. */
static enum tail_format
tail_format(const char *s)
{
	if (strcmp(s, "cat") == 0)
		return (TAIL_CAT);
	if (strcmp(s, "short") == 0)
		return (TAIL_SHORT);
	if (strcmp(s, "short-precise") == 0)
		return (TAIL_SHORT_PRECISE);
	if (strcmp(s, "json") == 0)
		return (TAIL_JSON);
	tool_usage_error("-o: unknown format '%s' (cat, short, short-precise, "
	    "json)", s);
}

/* Whether a pattern has a capital letter, in the locale's character set
 * (É counts, in a UTF-8 locale); a byte that is no character there is
 * taken alone. */
static int
tail_has_capital(const char *pattern)
{
	mbstate_t	 st;
	wchar_t		 wc;
	const char	*p = pattern;
	size_t		 left = strlen(pattern), n;

	memset(&st, 0, sizeof st);
	while (left > 0) {
		n = mbrtowc(&wc, p, left, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof st);
			n = 1;
		} else if (iswupper((wint_t)wc)) {
			return (1);
		}
		p += n;
		left -= n;
	}
	return (0);
}

/* Compile -g, case-insensitive when the pattern has no capitals unless
 * --case-sensitive says otherwise (journalctl's rule). */
static void
tail_grep(struct tail *t, const char *pattern, int cs)
{
	char		 err[256];
	int		 flags = REG_EXTENDED | REG_NOSUB, error;

	if (cs < 0)
		cs = tail_has_capital(pattern);
	if (!cs)
		flags |= REG_ICASE;
	if ((error = regcomp(&t->re, pattern, flags)) != 0) {
		regerror(error, &t->re, err, sizeof err);
		tool_usage_error("-g: bad pattern '%s': %s", pattern, err);
	}
	t->grep = true;
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "all", no_argument, NULL, 'a' },
		{ "incarnation", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "grep", required_argument, NULL, 'g' },
		{ "case-sensitive", optional_argument, NULL, OPT_CASE },
		{ "output", required_argument, NULL, 'o' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "store", no_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char		 shortopts[] = ":n:fS:U:ai:lg:o:thV";
	struct tail			 t;
	const char			*pattern = NULL;
	uint64_t			 now = when_now();
	bool				 lines_given = false, which_given = false;
	int				 ch, cs = -1;

	setlocale(LC_CTYPE, "");
	log_open(NULL, LOG_LEVEL_ERROR);
	memset(&t, 0, sizeof t);
	t.lines = TAIL_DEFAULT_LINES;
	t.path = getenv("XSC_CONSOLE_DB");
	if (t.path == NULL || *t.path == '\0')
		t.path = DB_DEFAULT_PATH;
	tool_name = "xsconsole-tail";
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (ch) {
		case OPT_DB:
			t.path = optarg;
			break;
		case 'n':
			lines_given = true;
			if (*optarg == '+') {
				if (optarg[1] == '+' || optarg[1] == '-')
					tool_usage_error("-n: not a valid "
					    "number: '%s'", optarg);
				t.from_line = (uint64_t)tail_number("-n",
				    optarg + 1, false);
				if (t.from_line == 0)
					t.from_line = 1;
				t.lines = TAIL_NO_LIMIT;
			} else {
				t.lines = (uint64_t)tail_number("-n", optarg,
				    false);
				t.from_line = 0;
			}
			break;
		case 'f':
			t.follow = true;
			break;
		case 'S':
			t.since_ns = tool_time("--since", optarg, now);
			break;
		case 'U':
			t.until_ns = tool_time("--until", optarg, now);
			break;
		case 'a':
			t.all = true;
			break;
		case 'i':
			t.which = tail_number("--incarnation", optarg, true);
			which_given = true;
			break;
		case 'l':
			t.list = true;
			break;
		case 'g':
			pattern = optarg;
			break;
		case OPT_CASE:
			if (optarg == NULL || strcmp(optarg, "yes") == 0 ||
			    strcmp(optarg, "true") == 0 ||
			    strcmp(optarg, "1") == 0)
				cs = 1;
			else if (strcmp(optarg, "no") == 0 ||
			    strcmp(optarg, "false") == 0 ||
			    strcmp(optarg, "0") == 0)
				cs = 0;
			else
				tool_usage_error("--case-sensitive: yes or "
				    "no, not '%s'", optarg);
			break;
		case 'o':
			t.format = tail_format(optarg);
			break;
		case 't':
			t.timestamps = true;
			break;
		case OPT_RAW:
			t.raw = true;
			break;
		case OPT_STORE:
			t.store = true;
			break;
		case 'h':
			usage(stdout);
			return (TAIL_EXIT_OK);
		case 'V':
			printf("xsconsole-tail %s\n", PACKAGE_VERSION);
			return (TAIL_EXIT_OK);
		default:
			tool_bad_option(ch, argv, shortopts, opts);
		}
	}
	if (optind + 1 == argc)
		t.target = argv[optind];
	else if (!(t.list && optind == argc))
		tool_usage_error(optind == argc ? "which domain? (a domid or "
		    "a name)" : "one domain at a time");
	if (t.list && (lines_given || t.follow || t.since_ns != 0 ||
	    t.until_ns != 0 || pattern != NULL || t.all || which_given ||
	    t.store))
		tool_usage_error("--list lists incarnations: it takes a domain, "
		    "-o and --db, not the options that choose lines");
	if (t.all && which_given)
		tool_usage_error("--all and --incarnation exclude each other");
	if (t.follow && t.until_ns != 0)
		tool_usage_error("--follow and --until exclude each other");
	if (t.since_ns != 0 && t.until_ns != 0 && t.since_ns > t.until_ns)
		tool_usage_error("--since is after --until");
	if (pattern != NULL)
		tail_grep(&t, pattern, cs);
	if (!lines_given && (t.since_ns != 0 || t.until_ns != 0 || t.grep ||
	    t.all))
		t.lines = TAIL_NO_LIMIT;
	if (t.target != NULL)
		t.by_name = !tail_domid(t.target, &t.domid);

	tail_open(&t);
	if (t.list) {
		select_list(&t);
	} else {
		if (t.store)
			store_create(&t);
		select_incarnations(&t);
		show_all(&t);
		if (t.follow)
			show_follow(&t);
	}
	if (fflush(stdout) != 0)
		tool_exit(TAIL_EXIT_WRITE, "write: %s", strerror(errno));
	store_free(&t);
	free(t.incs);
	free(t.asm_line.buf);
	if (t.grep)
		regfree(&t.re);
	db_close(t.db);
	return (TAIL_EXIT_OK);
}
