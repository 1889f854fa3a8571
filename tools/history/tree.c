/*
 * --at: the tree below a path as it was just after a commit (db_tree_at
 * gives it in creation order), printed as xenstore-ls -f (and -p) prints
 * the live store: depth first, the children of a node in the order they
 * were made, the path itself left out, values escaped as xenstore-ls
 * escapes them; so the two can be compared with diff. A path without
 * children prints its own line (xenstore-ls would print nothing).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "hmap.h"
#include "xmalloc.h"

/* A node of the tree as it was; path first, for the hmap. */
struct tree_node {
	char			*path;
	char			*value;
	uint32_t		 vlen;
	char			*perms;
	struct tree_node	*child, *last, *next;	/* in creation order */
};

/* The tree being rebuilt: nodes by path, and in creation order. */
struct tree {
	struct hmap		*map;
	struct tree_node	**v;
	size_t			 count, cap;
};

/* Add a node, in creation order; a db_tree_cb. */
static int
tree_add(const char *path, const void *value, uint32_t vlen,
    const char *perms, uint64_t gen, void *arg)
{
	struct tree		*t = arg;
	struct tree_node	*n;

	(void)gen;
	n = xcalloc(1, sizeof *n);
	n->path = xstrdup(path);
	n->value = xmalloc(vlen + 1);
	if (vlen > 0)
		memcpy(n->value, value, vlen);
	n->value[vlen] = '\0';
	n->vlen = vlen;
	n->perms = xstrdup(perms != NULL ? perms : "");
	if (t->count == t->cap) {
		t->cap = t->cap == 0 ? 256 : t->cap * 2;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->count++] = n;
	hmap_insert(t->map, n);
	return (0);
}

/*
 * Link each node to its parent, children in creation order. A parent
 * may come after its children: "/" is in the history only from the
 * first commit that changed it, after the daemon's first nodes.
 */
static void
tree_link(struct tree *t)
{
	struct tree_node	*n, *parent;
	char			*slash;
	size_t			 i;

	for (i = 0; i < t->count; i++) {
		n = t->v[i];
		parent = NULL;
		if (strcmp(n->path, "/") != 0 &&
		    (slash = strrchr(n->path, '/')) != NULL) {
			*slash = '\0';
			parent = hmap_find(t->map, slash == n->path ? "/" :
			    n->path);
			*slash = '/';
		}
		if (parent == NULL)
			continue;
		if (parent->last != NULL)
			parent->last->next = n;
		else
			parent->child = n;
		parent->last = n;
	}
}

/* Print a node as xenstore-ls -f [-p] does. */
static void
tree_print(struct hist *h, const struct tree_node *n)
{
	hist_value(h, n->path, strlen(n->path), false);
	esc_adds(&h->out, " = \"");
	hist_value(h, n->value, n->vlen, false);
	esc_adds(&h->out, "\"");
	if (h->perms)
		esc_addf(&h->out, "   (%s)", n->perms);
	esc_adds(&h->out, "\n");
	hist_flush(h);
	h->shown++;
}

/* Print the nodes below n, depth first (not n itself). */
static void
tree_below(struct hist *h, const struct tree_node *n)
{
	const struct tree_node	*c;

	for (c = n->child; c != NULL; c = c->next) {
		tree_print(h, c);
		tree_below(h, c);
	}
}

/* Print the tree below h->path just after commit gen. */
void
tree_show(struct hist *h, uint64_t gen)
{
	struct tree		 t;
	struct tree_node	*top, *n;
	size_t			 i;
	struct db_hinfo		 info;
	uint64_t		 gap_lo, gap_hi;
	int			 error;

	memset(&t, 0, sizeof t);
	t.map = hmap_create();
	error = db_tree_at(h->db, gen, h->path, tree_add, &t);
	if (error == -ERANGE) {
		if ((error = db_history_info(h->db, &info)) != 0)
			hist_db_fail(h, error);
		hist_before(&info);
	}
	if (error == -ENODATA &&
	    db_history_gap(h->db, gen, &gap_lo, &gap_hi) == 0)
		tool_exit(HIST_EXIT_NOTFOUND, "generation %" PRIu64 " is in a "
		    "gap of the history: commits %" PRIu64 " to %" PRIu64
		    " were given up while the database could not be written "
		    "(the tree is known at %" PRIu64 " and from %" PRIu64 ")",
		    gen, gap_lo + 1, gap_hi - 1, gap_lo, gap_hi);
	if (error != 0)
		hist_db_fail(h, error);
	tree_link(&t);
	top = hmap_find(t.map, h->path);
	if (top != NULL && top->child == NULL) {
		tree_print(h, top);
	} else if (top != NULL) {
		tree_below(h, top);
	} else {
		/* "/" before the history had it: the top nodes, below. */
		for (i = 0; i < t.count; i++) {
			n = t.v[i];
			if (strchr(n->path + 1, '/') != NULL)
				continue;
			tree_print(h, n);
			tree_below(h, n);
		}
	}
	if (h->shown == 0 && strcmp(h->path, "/") == 0)
		fprintf(stderr, "xsc-history: the store was empty at "
		    "generation %" PRIu64 "\n", gen);
	else if (h->shown == 0)
		fprintf(stderr, "xsc-history: %s did not exist at generation "
		    "%" PRIu64 "\n", h->path, gen);
	for (i = 0; i < t.count; i++) {
		n = t.v[i];
		free(n->path);
		free(n->value);
		free(n->perms);
		free(n);
	}
	free(t.v);
	hmap_free(t.map);
}
