/*
 * --store: the store changes concerning the guest (its home
 * /local/domain/<id>/ and its backends), from the history the daemon
 * keeps (db_history), merged with its console lines by generation: a
 * line captured at generation g was printed after commit g, so the
 * changes up to g come before it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"
#include "xmalloc.h"


/* A change, copied out of db_history's callback. */
struct store_change {
	uint64_t	 gen, ns;
	uint32_t	 origin;
	bool		 in_txn, deleted, created;
	char		*path;
	char		*value, *perms;
	uint32_t	 vlen;
	bool		 old_exists, old_known;
	char		*old_value, *old_perms;
	uint32_t	 old_vlen;
	bool		 ripe;			/* fetched a poll ago */
	uint64_t	 gap_last;		/* not 0: a gap of the history,
						   commits gen to gap_last */
};

/* The changes of the incarnation being shown, oldest first. */
struct store {
	size_t			 inc;		/* index in tail.incs */
	bool			 begun;
	uint64_t		 gen_next;	/* fetch from here */
	struct store_change	*v;
	size_t			 n, cap, head;	/* printed: before head */
	uint64_t		 win_lo, win_hi;	/* the generations of
						   the window shown */
	uint64_t		 gaps_to;	/* gaps up to here are in v */
};

static void	 store_print(struct tail *, const struct store_change *);
static struct store_change *store_grow(struct store *);

/* Keep one change; a db_hchange_cb. */
static int
store_keep(const struct db_hchange *h, void *arg)
{
	struct store		*s = arg;
	struct store_change	*c;

	if (h->gen >= s->gen_next)
		s->gen_next = h->gen + 1;
	/* A parent touched by its children, or a value written again: no
	 * change to show (xsc-history -a shows them). */
	if (tool_change_noop(h))
		return (0);
	c = store_grow(s);
	memset(c, 0, sizeof *c);
	c->gen = h->gen;
	c->ns = h->time_ns;
	c->origin = h->origin;
	c->in_txn = h->in_txn;
	c->deleted = h->deleted;
	c->created = h->created;
	c->path = tool_dup(h->path, strlen(h->path));
	c->value = tool_dup(h->value, h->vlen);
	c->vlen = h->vlen;
	c->perms = h->perms != NULL ? tool_dup(h->perms, strlen(h->perms)) :
	    NULL;
	c->old_exists = h->old_exists;
	c->old_known = h->old_known;
	c->old_value = tool_dup(h->old_value, h->old_vlen);
	c->old_vlen = h->old_vlen;
	c->old_perms = h->old_perms != NULL ? tool_dup(h->old_perms,
	    strlen(h->old_perms)) : NULL;
	return (0);
}

/* Make room for one more change in v. */
static struct store_change *
store_grow(struct store *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	return (&s->v[s->n++]);
}

/*
 * The gaps of the history (store commits given up while the database
 * could not be written) in the window and not yet in v, each put among
 * the changes where it falls: after commit lo, before any line captured
 * after it. What the guest's nodes did then is not known, which the
 * output says rather than be silent. With -f a gap is known only once
 * the store is written whole again, so it comes after the lines
 * captured while it was behind.
 */
static void
store_gaps(struct tail *t)
{
	struct store		*s = t->hist;
	struct store_change	*c;
	uint64_t		*lo, *hi;
	size_t			 n, i, at;

	if (db_history_gaps(t->db, &lo, &hi, &n) != 0)
		return;			/* the changes still show */
	for (i = 0; i < n; i++) {
		if (hi[i] <= s->gaps_to ||
		    !tool_gap_within(lo[i], hi[i], s->win_lo, s->win_hi))
			continue;
		s->gaps_to = hi[i];
		for (at = s->head; at < s->n && s->v[at].gen <= lo[i]; at++)
			;
		(void)store_grow(s);
		memmove(&s->v[at + 1], &s->v[at], (s->n - 1 - at) *
		    sizeof *s->v);
		c = &s->v[at];
		memset(c, 0, sizeof *c);
		c->gen = lo[i] + 1;
		c->gap_last = hi[i] - 1;
		if (db_commit_time(t->db, lo[i], &c->ns) != 0)
			c->ns = t->incs[s->inc].first_ns;
	}
	free(lo);
	free(hi);
}

/* The generations of the incarnation's time and the --since/--until
 * window, for the gaps to show. */
static void
store_window(struct tail *t)
{
	struct store			*s = t->hist;
	const struct db_incarnation	*inc = &t->incs[s->inc];
	uint64_t			 until = inc->gone_ns;

	if (t->until_ns != 0 && (until == 0 || t->until_ns < until))
		until = t->until_ns;
	/* A guest gone while the store was behind: the gap right after
	 * its last commit is in the window (tool_gen_window). */
	tool_gen_window(t->db, inc->first_ns > t->since_ns ? inc->first_ns :
	    t->since_ns, until, &s->win_lo, &s->win_hi);
}

/* Fetch the changes from gen_next on, within the incarnation's time
 * and the --since/--until window. */
static void
store_fetch(struct tail *t)
{
	struct store			*s = t->hist;
	const struct db_incarnation	*inc = &t->incs[s->inc];
	struct db_hquery		 q;
	int				 error;

	memset(&q, 0, sizeof q);
	q.subject = inc->domid;
	q.with_old = true;
	q.gen_min = s->gen_next;
	q.ns_min = inc->first_ns;
	if (t->since_ns > q.ns_min)
		q.ns_min = t->since_ns;
	q.ns_max = inc->gone_ns;
	if (t->until_ns != 0 && (q.ns_max == 0 || t->until_ns < q.ns_max))
		q.ns_max = t->until_ns;
	if ((error = db_history(t->db, &q, store_keep, s)) != 0)
		tail_db_fail(t, error);
	store_gaps(t);
}

/* Start on the changes of incarnation i, from generation gen_min. */
void
store_begin(struct tail *t, size_t i, uint64_t gen_min)
{
	struct store	*s = t->hist;

	store_end(t);
	s->inc = i;
	s->begun = true;
	s->gen_next = gen_min;
	s->gaps_to = 0;
	store_window(t);
	if (gen_min > s->win_lo)
		s->win_lo = gen_min;
	store_fetch(t);
}

/* Free the changes printed so far. */
static void
store_drop(struct store *s)
{
	struct store_change	*c;
	size_t			 i;

	for (i = 0; i < s->head; i++) {
		c = &s->v[i];
		free(c->path);
		free(c->value);
		free(c->perms);
		free(c->old_value);
		free(c->old_perms);
	}
	if (s->n > s->head)
		memmove(s->v, s->v + s->head, (s->n - s->head) * sizeof *s->v);
	s->n -= s->head;
	s->head = 0;
}

/* Print the changes up to generation gen (those before a line of it). */
void
store_until(struct tail *t, uint64_t gen)
{
	struct store	*s = t->hist;

	while (s->head < s->n && s->v[s->head].gen <= gen)
		store_print(t, &s->v[s->head++]);
	store_drop(s);
}

/* Print all the changes fetched; done with this incarnation. */
void
store_end(struct tail *t)
{
	struct store	*s = t->hist;

	if (!s->begun)
		return;
	store_until(t, UINT64_MAX);
	s->begun = false;
}

/* -f: fetch the changes committed since the last poll. */
void
store_poll(struct tail *t)
{
	if (t->hist->begun)
		store_fetch(t);
}

/*
 * -f, after a poll's lines: print the changes fetched by an earlier poll
 * (every line older than them was committed before them, so it was read
 * by now) and mark the others for the next. Whether any wait.
 */
bool
store_ripe(struct tail *t)
{
	struct store	*s = t->hist;
	size_t		 i;

	while (s->head < s->n && s->v[s->head].ripe)
		store_print(t, &s->v[s->head++]);
	store_drop(s);
	for (i = 0; i < s->n; i++)
		s->v[i].ripe = true;
	return (s->n > 0);
}

/* Free what --store holds. */
void
store_free(struct tail *t)
{
	struct store	*s = t->hist;

	if (s == NULL)
		return;
	s->head = s->n;
	store_drop(s);
	free(s->v);
	free(s);
	t->hist = NULL;
}

/* Create the --store state. */
void
store_create(struct tail *t)
{
	t->hist = xcalloc(1, sizeof *t->hist);
}

/* Append bytes to a growing buffer. */
static void
store_add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*cap - *len < n + 1) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Append a value: as is, or "" when empty. */
static void
store_add_value(char **buf, size_t *len, size_t *cap, const char *v,
    size_t n)
{
	if (n == 0)
		store_add(buf, len, cap, "\"\"", 2);
	else
		store_add(buf, len, cap, v, n);
}

/* The path as shown: relative to the guest's home when under it. */
static const char *
store_path(const struct db_incarnation *inc, const char *path)
{
	char	home[64];
	size_t	n;

	n = (size_t)snprintf(home, sizeof home, "/local/domain/%u/",
	    inc->domid);
	if (strncmp(path, home, n) == 0 && path[n] != '\0')
		return (path + n);
	return (path);
}

/* The text of a change: "gen 1234  device/vif/0/state 3 -> 4". */
static char *
store_text(const struct db_incarnation *inc, const struct store_change *c,
    size_t *lenp)
{
	char		*buf = NULL, num[64];
	const char	*path = store_path(inc, c->path);
	size_t		 len = 0, cap = 0;
	bool		 vchange, pchange;

	snprintf(num, sizeof num, "gen %" PRIu64 "  ", c->gen);
	store_add(&buf, &len, &cap, num, strlen(num));
	store_add(&buf, &len, &cap, path, strlen(path));
	if (c->deleted) {
		store_add(&buf, &len, &cap, " (removed)", 10);
	} else if (c->created || !c->old_known || !c->old_exists) {
		if (c->created)
			store_add(&buf, &len, &cap, " (new)", 6);
		store_add(&buf, &len, &cap, " = ", 3);
		store_add_value(&buf, &len, &cap, c->value, c->vlen);
		if (c->perms != NULL) {
			store_add(&buf, &len, &cap, "  perms ", 8);
			store_add(&buf, &len, &cap, c->perms,
			    strlen(c->perms));
		}
	} else {
		vchange = c->vlen != c->old_vlen || (c->vlen > 0 &&
		    memcmp(c->value, c->old_value, c->vlen) != 0);
		pchange = c->perms != NULL && c->old_perms != NULL &&
		    strcmp(c->perms, c->old_perms) != 0;
		if (vchange) {
			store_add(&buf, &len, &cap, " ", 1);
			store_add_value(&buf, &len, &cap, c->old_value,
			    c->old_vlen);
			store_add(&buf, &len, &cap, " -> ", 4);
			store_add_value(&buf, &len, &cap, c->value, c->vlen);
		}
		if (pchange) {
			store_add(&buf, &len, &cap, "  perms ", 8);
			store_add(&buf, &len, &cap, c->old_perms,
			    strlen(c->old_perms));
			store_add(&buf, &len, &cap, " -> ", 4);
			store_add(&buf, &len, &cap, c->perms,
			    strlen(c->perms));
		}
		if (!vchange && !pchange) {
			store_add(&buf, &len, &cap, " = ", 3);
			store_add_value(&buf, &len, &cap, c->value, c->vlen);
			store_add(&buf, &len, &cap, " (unchanged)", 12);
		}
	}
	*lenp = len;
	return (buf);
}

/* Print a change in the output format (-g applies to its text). */
static void
store_print(struct tail *t, const struct store_change *c)
{
	const struct db_incarnation	*inc = &t->incs[t->hist->inc];
	char				*text, buf[160], who[32];
	size_t				 len;

	if (c->gap_last != 0) {		/* shown whatever -g says */
		if (t->format == TAIL_JSON) {
			render_json_head("gap", inc, c->ns);
			snprintf(buf, sizeof buf, ",\"first\":%" PRIu64
			    ",\"last\":%" PRIu64 "}\n", c->gen, c->gap_last);
		} else {
			render_end_line(t);
			snprintf(buf, sizeof buf, "-- store commits %" PRIu64
			    " to %" PRIu64 " were given up while the database "
			    "could not be written --\n", c->gen, c->gap_last);
		}
		render_write(buf, strlen(buf));
		return;
	}
	text = store_text(inc, c, &len);
	if (!show_match(t, text, len)) {
		free(text);
		return;
	}
	if (t->format == TAIL_JSON) {
		render_json_head("store", inc, c->ns);
		tool_origin(c->origin, who, sizeof who);
		snprintf(buf, sizeof buf, ",\"gen\":%" PRIu64 ",\"origin\":"
		    "\"%s\",\"origin_%s\":%" PRIu32 ",\"in_txn\":%s", c->gen,
		    who, c->origin & DB_ORIGIN_SOCKET ? "conn" : "domid",
		    c->origin & ~DB_ORIGIN_SOCKET, c->in_txn ? "true" : "false");
		render_write(buf, strlen(buf));
		render_json_field("path", c->path, strlen(c->path));
		snprintf(buf, sizeof buf, ",\"deleted\":%s,\"created\":%s",
		    c->deleted ? "true" : "false",
		    c->created ? "true" : "false");
		render_write(buf, strlen(buf));
		if (!c->deleted)
			render_json_field("value", c->value != NULL ?
			    c->value : "", c->vlen);
		if (c->perms != NULL)
			render_json_field("perms", c->perms,
			    strlen(c->perms));
		if (c->old_known && c->old_exists) {
			render_json_field("old_value", c->old_value != NULL ?
			    c->old_value : "", c->old_vlen);
			if (c->old_perms != NULL)
				render_json_field("old_perms", c->old_perms,
				    strlen(c->old_perms));
		}
		render_json_field("text", text, len);
		render_write("}\n", 2);
	} else {
		render_end_line(t);
		render_prefix(t, inc, c->ns);
		render_text(t, text, len, false);
		render_write("\n", 1);
	}
	free(text);
}

