/*
 * xsconsole-tail: the last lines a domain's console printed, read from
 * xsconsoled's console log (db/, read-only), like tail(1) or journalctl:
 * the guest's bytes as it wrote them, lines cut across chunks joined
 * again, optionally each line prefixed with its capture time; -f follows
 * the log as the daemon commits it, and, when the incarnation ends, the
 * next incarnation of the same domain (like tail -F).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "xmalloc.h"

#define TAIL_POLL_MS		50
#define TAIL_DEFAULT_LINES	10

/* A line kept for the last-N output; joined across chunks. */
struct tail_line {
	char		*buf;
	size_t		 len, cap;
	uint64_t	 ns;
	bool		 ended;			/* had its newline */
	bool		 fragment;		/* its start was not read */
};

/* What the domain argument names, and how the output goes. */
struct tail {
	const char		*path;
	const char		*target;	/* as given */
	bool			 by_name;
	uint32_t		 domid;
	bool			 timestamps;
	struct db		*db;
	struct db_incarnation	 inc;		/* the one being shown */
	int64_t			 seq;		/* last chunk shown */
	bool			 open;		/* output ends mid-line */
	struct tail_line	*lines;		/* for the last N */
	size_t			 nlines, caplines;
};

/* Print the usage. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: xsconsole-tail [--db PATH] [-n N] [-f] [-t] [-i N] DOMID|NAME\n"
"       xsconsole-tail [--db PATH] -l DOMID|NAME\n"
"\n"
"Print the last lines of a domain's console, from xsconsoled's log.\n"
"\n"
"  --db PATH             the console log (default $XSC_CONSOLE_DB, else\n"
"                        " DB_DEFAULT_PATH ")\n"
"  -n, --lines N         the last N lines (default %d)\n"
"  -f, --follow          print new lines as they come; follow the next\n"
"                        incarnation of the domain when this one ends\n"
"  -t, --timestamps      prefix each line with its capture time\n"
"  -i, --incarnation N   incarnation N (an id from -l), or with N <= 0 the\n"
"                        one -N before the newest (default 0: the newest)\n"
"  -l, --list            list the domain's incarnations, newest first\n"
"  -h, --help            this help;  -V, --version  the version\n",
	    TAIL_DEFAULT_LINES);
}

/* Format a time (ns since the epoch) as local ISO 8601 with ms. */
static void
tail_time(uint64_t ns, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / 1000000000);
	long		off;
	size_t		n;

	localtime_r(&t, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf + n, size - n, ".%03u%c%02ld:%02ld",
	    (unsigned)(ns / 1000000 % 1000), off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

/* Write bytes to stdout; a write error ends the program. */
static void
tail_write(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len) {
		fprintf(stderr, "xsconsole-tail: write: %s\n", strerror(errno));
		exit(1);
	}
}

/* Print one line (or piece of one): the time prefix at a line's start. */
static void
tail_print(struct tail *t, const char *text, size_t len, uint64_t ns,
    bool starts, bool ends)
{
	char	when[64];

	if (starts && t->timestamps) {
		tail_time(ns, when, sizeof when);
		tail_write(when, strlen(when));
		tail_write(" ", 1);
	}
	tail_write(text, len);
	if (ends)
		tail_write("\n", 1);
	t->open = !ends;
}

/* Collect a line for the last-N output. */
static int
tail_collect(const struct db_line *l, void *arg)
{
	struct tail		*t = arg;
	struct tail_line	*tl;

	if (l->seq > t->seq)
		t->seq = l->seq;
	if (t->nlines > 0 && !t->lines[t->nlines - 1].ended && l->continued)
		tl = &t->lines[t->nlines - 1];
	else {
		if (t->nlines == t->caplines) {
			t->caplines = t->caplines == 0 ? 64 : t->caplines * 2;
			t->lines = xrealloc(t->lines, t->caplines *
			    sizeof *t->lines);
		}
		tl = &t->lines[t->nlines++];
		memset(tl, 0, sizeof *tl);
		tl->ns = l->time_ns;
		tl->fragment = l->continued;
	}
	if (tl->cap - tl->len < l->len) {
		tl->cap = tl->len + l->len;
		tl->buf = xrealloc(tl->buf, tl->cap);
	}
	if (l->len > 0)
		memcpy(tl->buf + tl->len, l->text, l->len);
	tl->len += l->len;
	tl->ended = !l->partial;
	return (0);
}

/* Print a line as it comes, when following. */
static int
tail_stream(const struct db_line *l, void *arg)
{
	struct tail	*t = arg;

	if (l->seq > t->seq)
		t->seq = l->seq;
	tail_print(t, l->text, l->len, l->time_ns, !(l->continued && t->open),
	    !l->partial);
	return (0);
}

/* Report a failed read of the log and give up. */
static void
tail_fail(struct tail *t, int error)
{
	if (error == -EIO)
		fprintf(stderr, "xsconsole-tail: %s: incarnation %" PRId64
		    " has a corrupt chunk after %" PRId64 "\n", t->path,
		    t->inc.id, t->seq);
	else
		fprintf(stderr, "xsconsole-tail: %s: %s\n", t->path,
		    strerror(-error));
	exit(1);
}

/* Print the last n lines of the current incarnation. */
static void
tail_last(struct tail *t, uint64_t n)
{
	struct tail_line	*tl;
	int64_t			 from;
	size_t			 i, first;
	int			 error;

	if ((from = db_tail_seq(t->db, t->inc.id, n)) < 0)
		tail_fail(t, (int)from);
	t->seq = from;
	if (n == 0)
		return;
	if ((error = db_lines(t->db, t->inc.id, from, tail_collect, t)) != 0)
		tail_fail(t, error);
	first = t->nlines > n ? t->nlines - (size_t)n : 0;
	for (i = 0; i < t->nlines; i++) {
		tl = &t->lines[i];
		if (i >= first)
			tail_print(t, tl->buf, tl->len, tl->ns, true,
			    tl->ended);
		free(tl->buf);
	}
	free(t->lines);
	t->lines = NULL;
	t->nlines = t->caplines = 0;
}

/* The incarnations the argument names, newest first; exits if none. */
static void
tail_find(struct tail *t, struct db_incarnation **incs, size_t *n)
{
	int	error;

	if (t->by_name)
		error = db_incarnations_by_name(t->db, t->target, incs, n);
	else
		error = db_incarnations(t->db, t->domid, incs, n);
	if (error != 0) {
		fprintf(stderr, "xsconsole-tail: %s: %s\n", t->path,
		    strerror(-error));
		exit(1);
	}
}

/* Pick the incarnation to show: -i N, an id (N > 0) or an age (N <= 0). */
static void
tail_pick(struct tail *t, long long which)
{
	struct db_incarnation	*incs;
	size_t			 n, i;

	tail_find(t, &incs, &n);
	if (n == 0) {
		fprintf(stderr, "xsconsole-tail: no console log for domain %s "
		    "in %s\n", t->target, t->path);
		exit(1);
	}
	if (which > 0) {
		for (i = 0; i < n && incs[i].id != which; i++)
			;
		if (i == n) {
			fprintf(stderr, "xsconsole-tail: no incarnation %lld "
			    "of domain %s in %s\n", which, t->target, t->path);
			exit(1);
		}
	} else {
		if ((unsigned long long)-which >= n) {
			fprintf(stderr, "xsconsole-tail: domain %s has %zu "
			    "incarnation%s in %s\n", t->target, n,
			    n == 1 ? "" : "s", t->path);
			exit(1);
		}
		i = (size_t)-which;
	}
	t->inc = incs[i];
	if (!t->by_name)
		t->domid = t->inc.domid;
	free(incs);
}

/* List the incarnations of the domain. */
static void
tail_list(struct tail *t)
{
	struct db_incarnation	*incs;
	char			 first[64], gone[64];
	size_t			 n, i;

	tail_find(t, &incs, &n);
	if (n == 0) {
		fprintf(stderr, "xsconsole-tail: no console log for domain %s "
		    "in %s\n", t->target, t->path);
		exit(1);
	}
	printf("%-8s %-5s %-16s %-36s %-29s %-29s %s\n", "ID", "DOMID",
	    "NAME", "UUID", "FIRST SEEN", "GONE", "BYTES");
	for (i = 0; i < n; i++) {
		tail_time(incs[i].first_ns, first, sizeof first);
		if (incs[i].gone_ns != 0)
			tail_time(incs[i].gone_ns, gone, sizeof gone);
		else
			snprintf(gone, sizeof gone, "-");
		printf("%-8" PRId64 " %-5u %-16s %-36s %-29s %-29s %" PRIu64
		    "\n", incs[i].id, incs[i].domid, incs[i].name,
		    incs[i].uuid, first, gone, incs[i].bytes);
	}
	free(incs);
}

/* Say, on its own line, that an incarnation ended or began. */
static void
tail_announce(struct tail *t, const char *what, uint64_t ns)
{
	char	when[64];

	if (t->open)
		tail_write("\n", 1);
	t->open = false;
	if (ns != 0)
		tail_time(ns, when, sizeof when);
	printf("-- incarnation %" PRId64 " of domain %u (%s) %s%s%s --\n",
	    t->inc.id, t->inc.domid, t->inc.name, what, ns != 0 ? " at " : "",
	    ns != 0 ? when : "");
}

/* The incarnation after the current one, if there is one yet. */
static bool
tail_next(struct tail *t)
{
	struct db_incarnation	*incs;
	size_t			 n, i;
	bool			 found = false;

	tail_find(t, &incs, &n);
	/* Newest first: the last one newer than ours comes right after. */
	for (i = n; i-- > 0; ) {
		if (incs[i].first_ns > t->inc.first_ns ||
		    (incs[i].first_ns == t->inc.first_ns &&
		    incs[i].id > t->inc.id)) {
			t->inc = incs[i];
			found = true;
			break;
		}
	}
	free(incs);
	return (found);
}

/* Follow the log: print what is committed, then the next incarnation. */
static void
tail_follow(struct tail *t)
{
	struct db_incarnation	now;
	struct timespec		ts = { 0, TAIL_POLL_MS * 1000000L };
	bool			announced = false, missing, force = false;
	int			error;

	for (;;) {
		fflush(stdout);
		if (!force && (error = db_changed(t->db)) <= 0) {
			if (error < 0)
				tail_fail(t, error);
			nanosleep(&ts, NULL);
			continue;
		}
		force = false;
		/* Gone first, then the lines: all its chunks are then in. */
		error = db_incarnation_get(t->db, t->inc.id, &now);
		if (error != 0 && error != -ENOENT)
			tail_fail(t, error);
		missing = error == -ENOENT;
		if (!announced) {
			error = db_lines(t->db, t->inc.id, t->seq, tail_stream,
			    t);
			if (error != 0)
				tail_fail(t, error);
			if (missing || now.gone_ns != 0) {
				tail_announce(t, "ended", missing ? 0 :
				    now.gone_ns);
				announced = true;
			}
		}
		if (announced && tail_next(t)) {
			tail_announce(t, "began", t->inc.first_ns);
			t->seq = 0;
			announced = false;
			force = true;	/* read it now, not at the next change */
		}
	}
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

/* Parse a number option; exits on garbage. */
static long long
tail_number(const char *opt, const char *s, bool allow_negative)
{
	long long	 v;
	char		*end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' ||
	    (!allow_negative && v < 0)) {
		fprintf(stderr, "xsconsole-tail: %s: not a valid number: %s\n",
		    opt, s);
		exit(1);
	}
	return (v);
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "incarnation", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct tail			 t;
	char				 err[512];
	long long			 n = TAIL_DEFAULT_LINES, which = 0;
	bool				 follow = false, list = false;
	int				 ch;

	log_open(NULL, LOG_LEVEL_ERROR);
	memset(&t, 0, sizeof t);
	t.path = getenv("XSC_CONSOLE_DB");
	if (t.path == NULL || *t.path == '\0')
		t.path = DB_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "n:fti:lhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			t.path = optarg;
			break;
		case 'n':
			n = tail_number("-n", optarg, false);
			break;
		case 'f':
			follow = true;
			break;
		case 't':
			t.timestamps = true;
			break;
		case 'i':
			which = tail_number("-i", optarg, true);
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'V':
			printf("xsconsole-tail %s\n", PACKAGE_VERSION);
			return (0);
		default:
			usage(stderr);
			return (1);
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return (1);
	}
	t.target = argv[optind];
	t.by_name = !tail_domid(t.target, &t.domid);

	if ((t.db = db_open_reader(t.path, err, sizeof err)) == NULL) {
		if (errno == ENOENT)
			fprintf(stderr, "xsconsole-tail: %s: no such file; is "
			    "xsconsoled running? (--db)\n", t.path);
		else
			fprintf(stderr, "xsconsole-tail: %s\n", err);
		return (1);
	}
	if (list) {
		tail_list(&t);
		db_close(t.db);
		return (0);
	}
	tail_pick(&t, which);
	tail_last(&t, (uint64_t)n);
	if (follow)
		tail_follow(&t);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "xsconsole-tail: write: %s\n", strerror(errno));
		return (1);
	}
	db_close(t.db);
	return (0);
}
