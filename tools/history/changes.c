/*
 * The changes to the store, as db_history gives them (with the value
 * each path had before), one line each:
 *
 *   GEN TIME WHO TXN + PATH = "VALUE"                created
 *   GEN TIME WHO TXN ~ PATH = "NEW" (was "OLD")      value changed
 *   GEN TIME WHO TXN ~ PATH perms n0,r5 (was n0)     permissions changed
 *   GEN TIME WHO TXN - PATH                          removed
 *
 * GEN is right-aligned in the short formats (not in cat, for scripts).
 * WHO is the connection that committed: dom5 (a guest's ring, or the
 * daemon itself as dom0) or sock#12 (a socket connection); TXN says txn
 * when the change came in a transaction. A change that changed nothing
 * (a parent whose children changed, a value written again) shows only
 * with --all, as "= PATH = ...". Chronological (newest last, as
 * journalctl); -r reverses; -n N keeps the last N.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "xmalloc.h"

/* What a change did, as far as the history kept tells. */
enum changes_op {
	CHANGES_CREATED,
	CHANGES_CHANGED,
	CHANGES_SET,			/* nothing older kept */
	CHANGES_UNCHANGED,
	CHANGES_DELETED,
};

/* The last N changes (-n), copied out of db_history's callback. */
struct changes_last {
	struct hist		*h;
	struct db_hchange	*v;
	size_t			 n, cap;
};

/* What a change did. */
static enum changes_op
changes_op(const struct db_hchange *c)
{
	if (c->deleted)
		return (CHANGES_DELETED);
	if (c->created || (c->old_known && !c->old_exists))
		return (CHANGES_CREATED);
	if (!c->old_known)
		return (CHANGES_SET);
	return (tool_change_noop(c) ? CHANGES_UNCHANGED : CHANGES_CHANGED);
}

/* Whether the change is shown (--all shows those that changed nothing). */
static bool
changes_visible(const struct hist *h, const struct db_hchange *c)
{
	return (h->all || changes_op(c) != CHANGES_UNCHANGED);
}

/* Add a quoted value to the line. */
static void
changes_quoted(struct hist *h, const void *v, size_t len)
{
	esc_adds(&h->out, "\"");
	hist_value(h, v, len, true);
	esc_adds(&h->out, "\"");
}

/* The change as a line of the short and cat formats. */
static void
changes_line(struct hist *h, const struct db_hchange *c)
{
	static const char	 ops[] = { '+', '~', '~', '=', '-' };
	enum changes_op		 op = changes_op(c);
	char			 when[64], who[32];

	esc_addf(&h->out, "%*" PRIu64 " ", h->gen_width, c->gen);
	switch (h->format) {
	case HIST_SHORT:
	case HIST_SHORT_PRECISE:
		when_short(c->time_ns, h->format == HIST_SHORT_PRECISE, when,
		    sizeof when);
		esc_addf(&h->out, "%s ", when);
		break;
	case HIST_SHORT_ISO:
		when_iso(c->time_ns, when, sizeof when);
		esc_addf(&h->out, "%s ", when);
		break;
	default:
		break;
	}
	tool_origin(c->origin, who, sizeof who);
	esc_addf(&h->out, "%-8s %s %c ", who, c->in_txn ? "txn" : "   ",
	    ops[op]);
	hist_value(h, c->path, strlen(c->path), false);
	if (op == CHANGES_DELETED) {
		esc_adds(&h->out, "\n");
		return;
	}
	if (op != CHANGES_CHANGED || tool_value_differs(c)) {
		esc_adds(&h->out, " = ");
		changes_quoted(h, c->value, c->vlen);
	}
	if (op == CHANGES_CHANGED && tool_value_differs(c)) {
		esc_adds(&h->out, " (was ");
		changes_quoted(h, c->old_value, c->old_vlen);
		esc_adds(&h->out, ")");
	}
	if (op == CHANGES_CHANGED && tool_perms_differ(c))
		esc_addf(&h->out, " perms %s (was %s)", c->perms,
		    c->old_perms);
	else if (h->perms && c->perms != NULL)
		esc_addf(&h->out, " perms %s", c->perms);
	esc_adds(&h->out, "\n");
}

/* A JSON field of bytes: "key":"..." and, when they are not UTF-8,
 * "key_bytes":[...] with the exact bytes. */
static void
changes_json_field(struct hist *h, const char *key, const void *v,
    size_t len)
{
	esc_addf(&h->out, ",\"%s\":", key);
	if (esc_json(&h->out, v, len)) {
		esc_addf(&h->out, ",\"%s_bytes\":", key);
		esc_json_bytes(&h->out, v, len);
	}
}

/* The change as a JSON object. */
static void
changes_json(struct hist *h, const struct db_hchange *c)
{
	static const char	*ops[] = { "created", "changed", "set",
	    "unchanged", "deleted" };
	char			 iso[64], who[32];

	when_iso_utc_us(c->time_ns, iso, sizeof iso);
	tool_origin(c->origin, who, sizeof who);
	esc_addf(&h->out, "{\"gen\":%" PRIu64 ",\"time\":%" PRIu64
	    ",\"iso\":\"%s\",\"origin\":\"%s\",", c->gen, c->time_ns / 1000,
	    iso, who);
	if (c->origin & DB_ORIGIN_SOCKET)
		esc_addf(&h->out, "\"conn\":%u", c->origin & ~DB_ORIGIN_SOCKET);
	else
		esc_addf(&h->out, "\"domid\":%u", c->origin);
	esc_addf(&h->out, ",\"in_txn\":%s,\"op\":\"%s\"",
	    c->in_txn ? "true" : "false", ops[changes_op(c)]);
	changes_json_field(h, "path", c->path, strlen(c->path));
	if (!c->deleted) {
		changes_json_field(h, "value", c->value, c->vlen);
		if (c->perms != NULL)
			changes_json_field(h, "perms", c->perms,
			    strlen(c->perms));
	}
	esc_addf(&h->out, ",\"old_known\":%s", c->old_known ? "true" :
	    "false");
	if (c->old_known && c->old_exists) {
		changes_json_field(h, "old_value", c->old_value,
		    c->old_vlen);
		if (c->old_perms != NULL)
			changes_json_field(h, "old_perms", c->old_perms,
			    strlen(c->old_perms));
	}
	esc_adds(&h->out, "}\n");
}

/* Print gap i of the history: a line, as journalctl marks a reboot, or
 * in JSON an object of its own (no "gen": not a change). */
static void
changes_gap(struct hist *h, size_t i)
{
	uint64_t	first = h->gap_lo[i] + 1, last = h->gap_hi[i] - 1;
	char		line[160];

	if (h->format == HIST_JSON)
		snprintf(line, sizeof line, "{\"gap\":{\"first\":%" PRIu64
		    ",\"last\":%" PRIu64 "}}\n", first, last);
	else
		snprintf(line, sizeof line, "-- commits %" PRIu64 " to %"
		    PRIu64 " were given up while the database could not be "
		    "written --\n", first, last);
	esc_adds(&h->out, line);
	hist_flush(h);
}

/*
 * The gaps of the history (commits given up while the database could
 * not be written) in the generations asked for and strictly between
 * generations a and b (0: no bound that side), each once, in the order
 * shown. A listing marks them between the changes around them, and
 * before its first change and after its last, so that a change missing
 * from it for a gap is never silent.
 */
static void
changes_gaps(struct hist *h, uint64_t a, uint64_t b)
{
	size_t	i, k;

	for (k = 0; k < h->ngaps; k++) {
		i = h->reverse ? h->ngaps - 1 - k : k;
		if (!tool_gap_within(h->gap_lo[i], h->gap_hi[i], h->win_lo,
		    h->win_hi))
			continue;		/* outside what was asked */
		if ((a != 0 && h->gap_lo[i] < a) ||
		    (b != 0 && h->gap_hi[i] > b))
			continue;
		changes_gap(h, i);
	}
}

/* Print a change in the output format. */
static void
changes_print(struct hist *h, const struct db_hchange *c)
{
	uint64_t	a = h->shown == 0 ? 0 : h->last_gen;

	/* The gaps since the last change shown, or before the first. */
	if (h->reverse)
		changes_gaps(h, c->gen, a);
	else
		changes_gaps(h, a, c->gen);
	if (h->format == HIST_JSON)
		changes_json(h, c);
	else
		changes_line(h, c);
	hist_flush(h);
	h->shown++;
	h->last_gen = c->gen;
}

/* Print a change as it comes; a db_hchange_cb. */
static int
changes_stream(const struct db_hchange *c, void *arg)
{
	struct hist	*h = arg;

	if (changes_visible(h, c))
		changes_print(h, c);
	return (0);
}

/* Keep a change, newest first, until there are N; a db_hchange_cb. */
static int
changes_keep(const struct db_hchange *c, void *arg)
{
	struct changes_last	*l = arg;
	struct db_hchange	*k;

	if (!changes_visible(l->h, c))
		return (0);
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	k = &l->v[l->n++];
	*k = *c;
	k->path = tool_dup(c->path, strlen(c->path));
	k->value = tool_dup(c->value, c->vlen);
	k->perms = c->perms != NULL ? tool_dup(c->perms,
	    strlen(c->perms)) : NULL;
	k->old_value = tool_dup(c->old_value, c->old_vlen);
	k->old_perms = c->old_perms != NULL ? tool_dup(c->old_perms,
	    strlen(c->old_perms)) : NULL;
	return (l->n == l->h->limit ? 1 : 0);
}

/* Free a kept change. */
static void
changes_free(struct db_hchange *k)
{
	free((void *)k->path);
	free((void *)k->value);
	free((void *)k->perms);
	free((void *)k->old_value);
	free((void *)k->old_perms);
}

/* The generations asked for (-g, and --since and --until through the
 * commits' times), for the gaps to mark. */
static void
changes_window(struct hist *h)
{
	uint64_t	lo, hi;

	h->win_lo = h->gen_from;
	h->win_hi = h->gen_to != 0 ? h->gen_to : UINT64_MAX;
	if (h->ngaps == 0)
		return;
	tool_gen_window(h->db, h->since_ns, h->until_ns, &lo, &hi);
	if (lo > h->win_lo)
		h->win_lo = lo;
	if (hi < h->win_hi)
		h->win_hi = hi;
}

/* The width of GEN in the short formats (cat and json: 0, none), so
 * that their columns line up: that of the newest generation the listing
 * may show (one committed while it runs may be wider). */
static int
changes_gen_width(struct hist *h)
{
	struct db_hinfo	info;
	uint64_t	max;
	int		error, width;

	if (h->format == HIST_CAT || h->format == HIST_JSON)
		return (0);
	if ((error = db_history_info(h->db, &info)) != 0)
		hist_db_fail(h, error);
	max = info.last_gen;
	if (h->gen_to != 0 && h->gen_to < max)
		max = h->gen_to;
	for (width = 1; max >= 10; max /= 10)
		width++;
	return (width);
}

/* Print the changes the options select. */
void
changes_show(struct hist *h)
{
	struct db_hquery	q;
	struct changes_last	l;
	size_t			i;
	int			error;

	memset(&q, 0, sizeof q);
	if (h->exact) {
		q.path = h->path;
	} else if (strcmp(h->path, "/") != 0) {
		q.path = h->path;
		q.subtree = true;
	}
	q.subject = h->subject;
	q.gen_min = h->gen_from;
	q.gen_max = h->gen_to;
	q.ns_min = h->since_ns;
	q.ns_max = h->until_ns;
	q.with_old = true;
	if ((error = db_history_gaps(h->db, &h->gap_lo, &h->gap_hi,
	    &h->ngaps)) != 0)
		hist_db_fail(h, error);
	changes_window(h);
	h->gen_width = changes_gen_width(h);
	if (h->limit == 0) {
		q.newest_first = h->reverse;
		if ((error = db_history(h->db, &q, changes_stream, h)) != 0)
			hist_db_fail(h, error);
	} else {
		/* The last N: newest first, then in the order asked for. */
		q.newest_first = true;
		memset(&l, 0, sizeof l);
		l.h = h;
		error = db_history(h->db, &q, changes_keep, &l);
		if (error < 0)
			hist_db_fail(h, error);
		/* The last N: gaps before them are not asked for. */
		if (l.n == h->limit && l.v[l.n - 1].gen > h->win_lo)
			h->win_lo = l.v[l.n - 1].gen;
		for (i = 0; i < l.n; i++)
			changes_print(h, &l.v[h->reverse ? i : l.n - 1 - i]);
		for (i = 0; i < l.n; i++)
			changes_free(&l.v[i]);
		free(l.v);
	}
	/* The gaps after the last change shown (all of them if none was). */
	if (h->shown == 0)
		changes_gaps(h, 0, 0);
	else if (h->reverse)
		changes_gaps(h, 0, h->last_gen);
	else
		changes_gaps(h, h->last_gen, 0);
	free(h->gap_lo);
	free(h->gap_hi);
	if (h->shown == 0)
		fprintf(stderr, "xsc-history: no changes%s%s found\n",
		    strcmp(h->path, "/") != 0 ? " to " : "",
		    strcmp(h->path, "/") != 0 ? h->path : "");
}
