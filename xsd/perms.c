/* Node permissions. The text form is one string per entry: a letter
 * (r, w, b for both, n for none) and a decimal domid, as in "n0\0r5\0". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "perms.h"
#include "xmalloc.h"

/*
 * Lists that name guest domains (other than dom0) are filed under each
 * guest domid they name, so that when a domain dies every list naming it
 * is found without walking the tree.
 */
#define PERMS_MAX_DOMID	0x10000
struct perms_link {
	LIST_ENTRY(perms_link)	 entry;
	struct perms		*ps;
};
LIST_HEAD(perms_list, perms_link);
static struct perms_list *perms_index;

/* Is entry i the first naming a guest domid (so the list is filed under
 * it once)? */
static bool
perms_files_under(const struct perms *ps, uint32_t i)
{
	uint32_t	d = ps->p[i].domid, j;

	if (d == 0 || d >= PERMS_MAX_DOMID)
		return (false);
	for (j = 0; j < i; j++) {
		if (ps->p[j].domid == d)
			return (false);
	}
	return (true);
}

/* File a list under each guest domid it names. */
static struct perms *
perms_file(struct perms *ps)
{
	struct perms_link	*l;
	uint32_t		 i;

	ps->links = NULL;
	ps->nlinks = 0;
	for (i = 0; i < ps->n; i++) {
		if (!perms_files_under(ps, i))
			continue;
		if (perms_index == NULL)
			perms_index = xcalloc(PERMS_MAX_DOMID,
			    sizeof *perms_index);
		if (ps->links == NULL)
			ps->links = xcalloc(ps->n, sizeof *ps->links);
		l = &ps->links[ps->nlinks++];
		l->ps = ps;
		LIST_INSERT_HEAD(&perms_index[ps->p[i].domid], l, entry);
	}
	return (ps);
}

/* Take a list out of the index. */
static void
perms_unfile(struct perms *ps)
{
	uint32_t	i;

	for (i = 0; i < ps->nlinks; i++)
		LIST_REMOVE(&ps->links[i], entry);
	free(ps->links);
	ps->links = NULL;
	ps->nlinks = 0;
}

/* A list of n entries (copied from p unless NULL), not yet filed. */
static struct perms *
perms_alloc(const struct perm *p, uint32_t n)
{
	struct perms	*ps;

	ps = xmalloc(sizeof *ps + n * sizeof ps->p[0]);
	ps->refs = 1;
	ps->n = n;
	ps->links = NULL;
	ps->nlinks = 0;
	if (p != NULL)
		memcpy(ps->p, p, n * sizeof ps->p[0]);
	return (ps);
}

/* Drop domid's entries after the owner's, keeping the order. */
static void
perms_strip(struct perms *ps, uint32_t domid)
{
	uint32_t	i, n;

	for (i = n = 1; i < ps->n; i++) {
		if (ps->p[i].domid != domid)
			ps->p[n++] = ps->p[i];
	}
	ps->n = n;
}

/* Make a list from entries. */
struct perms *
perms_create(const struct perm *p, uint32_t n)
{
	return (perms_file(perms_alloc(p, n)));
}

/* Take another reference. */
struct perms *
perms_ref(struct perms *ps)
{
	ps->refs++;
	return (ps);
}

/* Drop a reference. */
void
perms_unref(struct perms *ps)
{
	if (ps != NULL && --ps->refs == 0) {
		perms_unfile(ps);
		free(ps);
	}
}

/* The letter for a mode. */
static char
perms_letter(uint32_t mode)
{
	switch (mode & PERM_BOTH) {
	case PERM_READ:
		return ('r');
	case PERM_WRITE:
		return ('w');
	case PERM_BOTH:
		return ('b');
	default:
		return ('n');
	}
}

/* Parse one entry such as "r5"; 0 or -EINVAL. */
static int
perms_parse_one(const char *s, struct perm *out)
{
	char		*end;
	unsigned long	 id;

	switch (s[0]) {
	case 'r':
		out->mode = PERM_READ;
		break;
	case 'w':
		out->mode = PERM_WRITE;
		break;
	case 'b':
		out->mode = PERM_BOTH;
		break;
	case 'n':
		out->mode = PERM_NONE;
		break;
	default:
		return (-EINVAL);
	}
	if (s[1] < '0' || s[1] > '9')
		return (-EINVAL);
	errno = 0;
	id = strtoul(s + 1, &end, 10);
	if (*end != '\0' || errno != 0 || id > UINT16_MAX)
		return (-EINVAL);
	out->domid = (uint32_t)id;
	return (0);
}

/*
 * Parse n NUL-terminated entries from buf (len bytes, every entry ending
 * with its NUL). Returns 0 and a new list, or -EINVAL.
 */
int
perms_parse(const char *buf, size_t len, uint32_t n, struct perms **out)
{
	struct perms	*ps;
	const char	*s = buf;
	uint32_t	 i;

	*out = NULL;
	if (n == 0)
		return (-EINVAL);
	ps = perms_alloc(NULL, n);
	for (i = 0; i < n; i++) {
		if (s >= buf + len || perms_parse_one(s, &ps->p[i]) != 0) {
			free(ps);	/* not filed yet */
			return (-EINVAL);
		}
		s += strlen(s) + 1;
	}
	*out = perms_file(ps);
	return (0);
}

/* Decimal digits of v. */
static size_t
perms_digits(uint32_t v)
{
	size_t	n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return (n);
}

/* Bytes the text form takes, NULs included. */
size_t
perms_format_len(const struct perms *ps)
{
	size_t		len = 0;
	uint32_t	i;

	for (i = 0; i < ps->n; i++)
		len += 1 + perms_digits(ps->p[i].domid) + 1;
	return (len);
}

/*
 * Write the text form into buf (size bytes): each entry a letter, the
 * domid in decimal and a NUL. Returns the length used; an entry that
 * does not fit whole ends it. Every commit's permissions are formatted
 * for the history, on the event loop: no snprintf.
 */
size_t
perms_format(const struct perms *ps, char *buf, size_t size)
{
	size_t		off = 0, len, k;
	uint32_t	i, v;

	for (i = 0; i < ps->n; i++) {
		len = 1 + perms_digits(ps->p[i].domid) + 1;
		if (len > size - off)
			break;
		buf[off] = perms_letter(ps->p[i].mode);
		for (v = ps->p[i].domid, k = len - 2; ; v /= 10, k--) {
			buf[off + k] = (char)('0' + v % 10);
			if (v < 10)
				break;
		}
		buf[off + len - 1] = '\0';
		off += len;
	}
	return (off);
}

/*
 * What the actor may do with a node: everything if privileged, owner or
 * acting for the owner; else the first entry naming it (or its target);
 * else the default in entry 0.
 */
unsigned
perms_mode(const struct perms *ps, const struct actor *a)
{
	uint32_t	i;

	if (a->privileged || ps->p[0].domid == a->domid ||
	    (a->target != PERMS_NO_TARGET && ps->p[0].domid == a->target))
		return (PERM_BOTH);
	for (i = 1; i < ps->n; i++) {
		if (ps->p[i].domid == a->domid ||
		    (a->target != PERMS_NO_TARGET && ps->p[i].domid == a->target))
			return (ps->p[i].mode & PERM_BOTH);
	}
	return (ps->p[0].mode & PERM_BOTH);
}

/*
 * The list a node created by the actor gets: its parent's, with an
 * unprivileged creator made owner; the other entries stay (as Xen's
 * construct_node does).
 */
struct perms *
perms_for_new(struct perms *parent, const struct actor *a)
{
	struct perms	*ps;

	if (a->privileged || parent->p[0].domid == a->domid)
		return (perms_ref(parent));
	ps = perms_alloc(parent->p, parent->n);
	ps->p[0].domid = a->domid;
	return (perms_file(ps));
}

/* Are two lists the same? */
int
perms_equal(const struct perms *a, const struct perms *b)
{
	if (a == b)
		return (1);
	return (a->n == b->n && memcmp(a->p, b->p, a->n * sizeof a->p[0]) == 0);
}

/* Does the list name domid anywhere? */
int
perms_has_domid(const struct perms *ps, uint32_t domid)
{
	uint32_t	i;

	for (i = 0; i < ps->n; i++) {
		if (ps->p[i].domid == domid)
			return (1);
	}
	return (0);
}

/* A list with domid's entries (other than the owner) removed; takes ps. */
struct perms *
perms_without(struct perms *ps, uint32_t domid)
{
	struct perms	*out = perms_alloc(ps->p, ps->n);

	perms_strip(out, domid);
	perms_unref(ps);
	return (perms_file(out));
}

/* Does any permission list name the domain? */
bool
perms_names(uint32_t domid)
{
	return (perms_index != NULL && domid < PERMS_MAX_DOMID &&
	    !LIST_EMPTY(&perms_index[domid]));
}

/*
 * A domain is gone: strip its entries from every list naming it, and give
 * the lists it owned to dom0, in place, so that a new domain reusing the
 * domid inherits nothing. The caller has already removed the nodes it
 * owned under its home.
 */
void
perms_forget(uint32_t domid)
{
	struct perms	*ps;

	if (perms_index == NULL || domid == 0 || domid >= PERMS_MAX_DOMID)
		return;
	while (!LIST_EMPTY(&perms_index[domid])) {
		ps = LIST_FIRST(&perms_index[domid])->ps;
		perms_unfile(ps);
		if (ps->p[0].domid == domid)
			ps->p[0].domid = 0;
		perms_strip(ps, domid);
		perms_file(ps);
	}
	log_debug("perms: forgot domain %u", domid);
}
