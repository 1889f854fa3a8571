/*
 * Which incarnations the domain argument names: a domid, or a name
 * (through the incarnation table, else through the store history: the
 * domids that had the name, and their incarnations alive then); then
 * the one --incarnation picks, or all of them with --all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "tail.h"
#include "xmalloc.h"

/* Domids 0 to this (DOMID_FIRST_RESERVED - 1) are guests'. */
#define SELECT_MAX_DOMID	0x7fef
/* The hypervisor's own console is logged as this domid (DOMID_XEN,
 * HV_DOMID_XEN; docs/consoles.md). */
#define SELECT_DOMID_XEN	0x7ff0
/* The least width of --list's NAME column. */
#define SELECT_NAME_WIDTH	16

/* Append an incarnation to an array, unless it is in it already. */
static void
select_add(struct db_incarnation **incs, size_t *n, size_t *cap,
    const struct db_incarnation *inc)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if ((*incs)[i].id == inc->id)
			return;
	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*incs = xrealloc(*incs, *cap * sizeof **incs);
	}
	(*incs)[(*n)++] = *inc;
}

/* Newest first: by first seen, then by id. */
static int
select_cmp_newest(const void *a, const void *b)
{
	const struct db_incarnation	*x = a, *y = b;

	if (x->first_ns != y->first_ns)
		return (x->first_ns < y->first_ns ? 1 : -1);
	return (x->id < y->id ? 1 : x->id > y->id ? -1 : 0);
}

/*
 * A name the incarnation table does not know (it keeps the latest name
 * of each incarnation): the domids whose /local/domain/<id>/name was
 * ever that name, from the store history, and of each the incarnations
 * alive when it last had it. Newest first.
 */
static int
select_by_history(struct tail *t, struct db_incarnation **out, size_t *count)
{
	struct db_incarnation	*incs = NULL, *some;
	uint32_t		*domids = NULL;
	uint64_t		*last = NULL;
	size_t			 n = 0, cap = 0, nd = 0, ns, i, j;
	int			 error;

	if ((error = db_domids_named(t->db, t->target, &domids, &last,
	    &nd)) != 0)
		return (error == -ENOENT ? 0 : error);
	for (i = 0; i < nd; i++) {
		if ((error = db_incarnations(t->db, domids[i], &some,
		    &ns)) != 0)
			break;
		for (j = 0; j < ns; j++)
			if (some[j].first_ns <= last[i] &&
			    (some[j].gone_ns == 0 ||
			    some[j].gone_ns >= last[i]))
				select_add(&incs, &n, &cap, &some[j]);
		free(some);
	}
	free(domids);
	free(last);
	if (error != 0) {
		free(incs);
		return (error);
	}
	if (n > 1)
		qsort(incs, n, sizeof *incs, select_cmp_newest);
	*out = incs;
	*count = n;
	return (0);
}

/* The incarnations the argument names, newest first (maybe none). */
void
select_find(struct tail *t, struct db_incarnation **incs, size_t *n)
{
	int	error;

	if (t->by_name) {
		error = db_incarnations_by_name(t->db, t->target, incs, n);
		if (error == 0 && *n == 0) {
			free(*incs);
			error = select_by_history(t, incs, n);
		}
	} else
		error = db_incarnations(t->db, t->domid, incs, n);
	if (error != 0)
		tail_db_fail(t, error);
}

/* No log for the domain: say so and exit. */
static void __attribute__((noreturn))
select_none(struct tail *t)
{
	tool_exit(TAIL_EXIT_NOTFOUND, "no console log for domain '%s' "
	    "(try --list)", t->target);
}

/* Set t->incs (oldest first): --all, or the one --incarnation picks. */
void
select_incarnations(struct tail *t)
{
	struct db_incarnation	*incs, tmp;
	size_t			 n, i;

	select_find(t, &incs, &n);
	if (n == 0)
		select_none(t);
	if (t->all) {
		for (i = 0; i < n / 2; i++) {
			tmp = incs[i];
			incs[i] = incs[n - 1 - i];
			incs[n - 1 - i] = tmp;
		}
		t->incs = incs;
		t->nincs = n;
		return;
	}
	if (t->which > 0) {
		for (i = 0; i < n && incs[i].id != t->which; i++)
			;
		if (i == n)
			tool_exit(TAIL_EXIT_NOTFOUND, "no incarnation %lld of "
			    "domain '%s' (try --list %s)", t->which,
			    t->target, t->target);
	} else {
		if ((unsigned long long)-t->which >= n)
			tool_exit(TAIL_EXIT_NOTFOUND, "no incarnation %lld of "
			    "domain '%s': it has %zu (try --list %s)",
			    t->which, t->target, n, t->target);
		i = (size_t)-t->which;
	}
	t->incs = xmalloc(sizeof *t->incs);
	t->incs[0] = incs[i];
	t->nincs = 1;
	free(incs);
}

/* The incarnation after inc, if there is one yet (-f). */
bool
select_next(struct tail *t, struct db_incarnation *inc)
{
	struct db_incarnation	*incs;
	size_t			 n, i;
	bool			 found = false;

	select_find(t, &incs, &n);
	/* Newest first: the last one newer than ours comes right after. */
	for (i = n; i-- > 0; ) {
		if (incs[i].first_ns > inc->first_ns ||
		    (incs[i].first_ns == inc->first_ns &&
		    incs[i].id > inc->id)) {
			*inc = incs[i];
			found = true;
			break;
		}
	}
	free(incs);
	return (found);
}

/* Print one incarnation as a JSON object. */
static void
select_json(const struct db_incarnation *inc)
{
	char	first[64], gone[64];

	when_iso_utc_us(inc->first_ns, first, sizeof first);
	if (inc->gone_ns != 0)
		when_iso_utc_us(inc->gone_ns, gone, sizeof gone);
	printf("{\"incarnation\":%" PRId64 ",\"domid\":%u", inc->id,
	    inc->domid);
	render_json_field("name", inc->name, strlen(inc->name));
	render_json_field("uuid", inc->uuid, strlen(inc->uuid));
	printf(",\"first\":%" PRIu64 ",\"first_iso\":\"%s\"",
	    inc->first_ns / 1000, first);
	if (inc->gone_ns != 0)
		printf(",\"gone\":%" PRIu64 ",\"gone_iso\":\"%s\"",
		    inc->gone_ns / 1000, gone);
	else
		printf(",\"gone\":null");
	printf(",\"bytes\":%" PRIu64 ",\"kept\":%" PRIu64 "}\n",
	    inc->bytes, inc->kept);
}

/* The name as the list shows it (as render_text writes it) in b, and
 * its width in characters. */
static int
select_name(struct tail *t, const struct db_incarnation *inc,
    struct esc_buf *b)
{
	size_t	i;
	int	width = 0;

	esc_reset(b);
	if (t->raw)
		esc_add(b, inc->name, strlen(inc->name));
	else
		esc_terminal(b, inc->name, strlen(inc->name));
	for (i = 0; i < b->len; i++)
		if (((unsigned char)b->p[i] & 0xc0) != 0x80)
			width++;
	return (width);
}

/* Print one row of the list, its name padded to width. */
static void
select_row(struct tail *t, const struct db_incarnation *inc, int width,
    struct esc_buf *b)
{
	char	first[64], gone[64], buf[64];
	int	w;

	when_iso(inc->first_ns, first, sizeof first);
	if (inc->gone_ns != 0)
		when_iso(inc->gone_ns, gone, sizeof gone);
	else
		snprintf(gone, sizeof gone, "-");
	snprintf(buf, sizeof buf, "%-8" PRId64 " %-5u ", inc->id, inc->domid);
	render_write(buf, strlen(buf));
	w = select_name(t, inc, b);
	render_write(b->p, b->len);
	printf("%*s %-36s %-29s %-29s %" PRIu64 "\n", width - w, "",
	    inc->uuid, first, gone, inc->bytes);
}

/* --list with no domain: add domid's incarnations to incs. */
static void
select_list_domid(struct tail *t, uint32_t domid,
    struct db_incarnation **incs, size_t *n, size_t *cap)
{
	struct db_incarnation	*some;
	size_t			 ns;
	int			 error;

	if ((error = db_incarnations(t->db, domid, &some, &ns)) != 0)
		tail_db_fail(t, error);
	if (*n + ns > *cap) {
		*cap = (*n + ns) * 2;
		*incs = xrealloc(*incs, *cap * sizeof **incs);
	}
	if (ns > 0)
		memcpy(*incs + *n, some, ns * sizeof *some);
	*n += ns;
	free(some);
}

/* --list: the incarnations of the domain (or of every domain when none
 * is given, by domid then newest first: the guests', then the
 * hypervisor's console). The NAME column is as wide as the widest name
 * listed, SELECT_NAME_WIDTH at least, so that the columns line up. */
void
select_list(struct tail *t)
{
	struct db_incarnation	*incs = NULL;
	struct esc_buf		 b = { 0 };
	size_t			 n = 0, cap = 0, i;
	uint32_t		 domid;
	int			 width = SELECT_NAME_WIDTH, w;

	if (t->target != NULL) {
		select_find(t, &incs, &n);
		if (n == 0)
			select_none(t);
	} else {
		for (domid = 0; domid <= SELECT_MAX_DOMID; domid++)
			select_list_domid(t, domid, &incs, &n, &cap);
		select_list_domid(t, SELECT_DOMID_XEN, &incs, &n, &cap);
	}
	if (t->format == TAIL_JSON) {
		for (i = 0; i < n; i++)
			select_json(&incs[i]);
		free(incs);
		return;
	}
	for (i = 0; i < n; i++)
		if ((w = select_name(t, &incs[i], &b)) > width)
			width = w;
	printf("%-8s %-5s %-*s %-36s %-29s %-29s %s\n", "ID", "DOMID", width,
	    "NAME", "UUID", "FIRST SEEN", "GONE", "BYTES");
	for (i = 0; i < n; i++)
		select_row(t, &incs[i], width, &b);
	esc_free(&b);
	free(incs);
}
