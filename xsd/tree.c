/*
 * The committed store. Every node sits in one hash index keyed by its
 * absolute path (O(1) lookup, a cache miss or two whatever the size), and
 * in its parent's doubly linked list of children (O(1) add and remove,
 * listing proportional to the children only).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "log.h"
#include "path.h"
#include "perms.h"
#include "tree.h"
#include "xmalloc.h"

static struct node *tree_node_new(const char *, struct perms *,
		    const void *, uint32_t, uint64_t);
static void	tree_node_free(struct node *);

/* Allocate a node, not yet linked anywhere. Takes the perms reference. */
static struct node *
tree_node_new(const char *path, struct perms *perms, const void *value,
    uint32_t vlen, uint64_t gen)
{
	size_t		 plen = strlen(path) + 1;
	struct node	*n;

	n = xcalloc(1, sizeof *n + plen);
	memcpy(n->path, path, plen);
	n->key = n->path;
	n->perms = perms;
	if (vlen != 0)
		n->value = xmemdup(value, vlen);
	n->vlen = vlen;
	n->gen = n->vgen = gen;
	return (n);
}

/* Free one node's memory. */
static void
tree_node_free(struct node *n)
{
	perms_unref(n->perms);
	free(n->value);
	free(n);
}

/* Make a tree holding only "/", with the given permissions. */
struct tree *
tree_create(struct perms *root_perms)
{
	struct tree	*t = xcalloc(1, sizeof *t);

	t->index = hmap_create();
	t->owned = xcalloc(DOMID_FIRST_RESERVED, sizeof *t->owned);
	t->root = tree_node_new("/", root_perms, NULL, 0, 0);
	hmap_insert(t->index, t->root);
	t->nnodes = 1;
	t->path_bytes = 2;
	return (t);
}

/* Free a whole subtree without touching the index or the parent. */
static void
tree_free_subtree(struct node *n)
{
	struct node	*c, *next;

	for (c = n->child_first; c != NULL; c = next) {
		next = c->next;
		tree_free_subtree(c);
	}
	tree_node_free(n);
}

/* Free the tree; tdestroy frees only the index, the nodes go by hand. */
void
tree_free(struct tree *t)
{
	if (t == NULL)
		return;
	hmap_free(t->index);
	tree_free_subtree(t->root);
	free(t->owned);
	free(t);
}

/* Find the node at an absolute path. */
struct node *
tree_lookup(const struct tree *t, const char *path)
{
	return (hmap_find(t->index, path));
}

/* The last component of a node's path. */
const char *
tree_node_name(const struct node *n)
{
	return (path_basename(n->path));
}

/* Count a node for its owner (up) or no longer (down). */
static void
tree_count_owner(struct tree *t, const struct perms *perms, int up)
{
	uint32_t	owner = perms->p[0].domid;

	if (owner < DOMID_FIRST_RESERVED)
		t->owned[owner] += (uint32_t)up;
}

/* How many nodes a domain owns. */
uint32_t
tree_owned(const struct tree *t, uint32_t domid)
{
	return (domid < DOMID_FIRST_RESERVED ? t->owned[domid] : 0);
}

/* Every node of one owner now belongs to another (their shared lists
 * were edited in place when the first domain went away). */
void
tree_owner_moved(struct tree *t, uint32_t from, uint32_t to)
{
	if (from >= DOMID_FIRST_RESERVED || from == to)
		return;
	if (to < DOMID_FIRST_RESERVED)
		t->owned[to] += t->owned[from];
	t->owned[from] = 0;
}

/* Add a child below parent. Takes the perms reference. */
struct node *
tree_add(struct tree *t, struct node *parent, const char *path,
    struct perms *perms, const void *value, uint32_t vlen, uint64_t gen)
{
	struct node	*n;

	n = tree_node_new(path, perms, value, vlen, gen);
	hmap_insert(t->index, n);
	n->parent = parent;
	n->prev = parent->child_last;
	if (parent->child_last != NULL)
		parent->child_last->next = n;
	else
		parent->child_first = n;
	parent->child_last = n;
	parent->nchildren++;
	parent->children_len += (uint32_t)strlen(tree_node_name(n)) + 1;
	parent->gen = gen;
	tree_count_owner(t, perms, 1);
	t->nnodes++;
	t->path_bytes += strlen(path) + 1;
	t->value_bytes += vlen;
	return (n);
}

/* Replace a node's value. */
void
tree_set_value(struct tree *t, struct node *n, const void *value,
    uint32_t vlen, uint64_t gen)
{
	t->value_bytes -= n->vlen;
	free(n->value);
	n->value = vlen != 0 ? xmemdup(value, vlen) : NULL;
	n->vlen = vlen;
	t->value_bytes += vlen;
	n->gen = n->vgen = gen;
}

/* Replace a node's permissions. Takes the perms reference. */
void
tree_set_perms(struct tree *t, struct node *n, struct perms *perms,
    uint64_t gen)
{
	if (n->parent != NULL) {	/* the root is nobody's to count */
		tree_count_owner(t, n->perms, -1);
		tree_count_owner(t, perms, 1);
	}
	perms_unref(n->perms);
	n->perms = perms;
	n->gen = n->vgen = gen;
}

/* Visit a subtree, parents before children. */
void
tree_walk(struct node *n, tree_visit_cb *cb, void *arg)
{
	struct node	*c, *next;

	cb(n, arg);
	for (c = n->child_first; c != NULL; c = next) {
		next = c->next;
		tree_walk(c, cb, arg);
	}
}

/* Drop a subtree's nodes from the index and the counters, deepest first. */
static void
tree_unindex(struct tree *t, struct node *n)
{
	struct node	*c;

	for (c = n->child_first; c != NULL; c = c->next)
		tree_unindex(t, c);
	if (hmap_remove(t->index, n->path) != n)
		log_fatal("node %s missing from the index", n->path);
	tree_count_owner(t, n->perms, -1);
	t->nnodes--;
	t->path_bytes -= strlen(n->path) + 1;
	t->value_bytes -= n->vlen;
}

/*
 * Remove a subtree (never the root). cb, if given, sees every removed
 * node, the subtree's top first, while it is still whole.
 */
void
tree_remove(struct tree *t, struct node *n, uint64_t gen, tree_visit_cb *cb,
    void *arg)
{
	struct node	*parent = n->parent;

	if (parent == NULL)
		log_fatal("removing the root");
	if (cb != NULL)
		tree_walk(n, cb, arg);
	tree_unindex(t, n);

	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		parent->child_first = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		parent->child_last = n->prev;
	parent->nchildren--;
	parent->children_len -= (uint32_t)strlen(tree_node_name(n)) + 1;
	parent->gen = gen;
	tree_free_subtree(n);
}

struct tree_check_state {
	const struct tree	*t;
	FILE			*f;
	uint64_t		 seen;
	int			 errors;
	uint32_t		*owned;		/* counted again */
};

/* Report one broken invariant. */
static void
tree_check_fail(struct tree_check_state *s, const struct node *n,
    const char *what)
{
	if (s->f != NULL)
		fprintf(s->f, "%s: %s\n", n->path, what);
	s->errors++;
}

/* Check one node against its parent, children and the index. */
static void
tree_check_node(struct node *n, void *arg)
{
	struct tree_check_state	*s = arg;
	const struct node	*c, *prev = NULL;
	uint32_t		 count = 0, len = 0;
	size_t			 plen;

	s->seen++;
	if (n->parent != NULL && n->perms != NULL && n->perms->n != 0 &&
	    n->perms->p[0].domid < DOMID_FIRST_RESERVED)
		s->owned[n->perms->p[0].domid]++;
	if (tree_lookup(s->t, n->path) != n)
		tree_check_fail(s, n, "not found in the index");
	if (n->perms == NULL || n->perms->n == 0)
		tree_check_fail(s, n, "no permissions");
	if (n->vgen > n->gen)
		tree_check_fail(s, n, "value generation after node generation");
	if (n->parent != NULL) {
		plen = path_parent_len(n->path);
		if (strlen(n->parent->path) != plen ||
		    strncmp(n->parent->path, n->path, plen) != 0)
			tree_check_fail(s, n, "parent's path is not a prefix");
	}
	for (c = n->child_first; c != NULL; c = c->next) {
		if (c->parent != n)
			tree_check_fail(s, c, "child with the wrong parent");
		if (c->prev != prev)
			tree_check_fail(s, c, "broken sibling links");
		count++;
		len += (uint32_t)strlen(tree_node_name(c)) + 1;
		prev = c;
	}
	if (prev != n->child_last)
		tree_check_fail(s, n, "last child is wrong");
	if (count != n->nchildren || len != n->children_len)
		tree_check_fail(s, n, "child count or length is wrong");
}

/* Check every invariant of the tree; reports to f, returns the errors. */
int
tree_check(const struct tree *t, FILE *f)
{
	struct tree_check_state	s = { t, f, 0, 0, NULL };
	uint32_t		d;

	s.owned = xcalloc(DOMID_FIRST_RESERVED, sizeof *s.owned);
	tree_walk(t->root, tree_check_node, &s);
	for (d = 0; d < DOMID_FIRST_RESERVED; d++) {
		if (s.owned[d] == t->owned[d])
			continue;
		if (f != NULL)
			fprintf(f, "domain %u owns %u nodes, counted %u\n", d,
			    s.owned[d], t->owned[d]);
		s.errors++;
	}
	free(s.owned);
	if (s.seen != t->nnodes) {
		if (f != NULL)
			fprintf(f, "node count %llu, %llu reachable\n",
			    (unsigned long long)t->nnodes,
			    (unsigned long long)s.seen);
		s.errors++;
	}
	return (s.errors);
}

/* Print one node: path, generation, permissions and value. */
static void
tree_print_node(struct node *n, void *arg)
{
	FILE		*f = arg;
	char		 perms[256];
	size_t		 len, i;

	len = perms_format(n->perms, perms, sizeof perms);
	for (i = 0; i < len; i++) {
		if (perms[i] == '\0')
			perms[i] = i + 1 == len ? '\0' : ',';
	}
	fprintf(f, "%s gen=%llu perms=%s value=\"%.*s\"\n", n->path,
	    (unsigned long long)n->gen, len != 0 ? perms : "", (int)n->vlen,
	    n->value != NULL ? n->value : "");
}

/* Print the whole tree (XS_CONTROL print). */
void
tree_print(const struct tree *t, FILE *f)
{
	tree_walk(t->root, tree_print_node, f);
}
