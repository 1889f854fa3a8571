/* Unit tests for xsd/tree.c: the committed tree, its index, its child
 * lists, generations and byte counters. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "perms.h"
#include "tree.h"

/* A fresh one-entry list: owner domid with the given default mode. */
static struct perms *
mkperms(uint32_t domid, uint32_t mode)
{
	struct perm	p = { domid, mode };

	return (perms_create(&p, 1));
}

/* A tree holding only "/", owned by dom0 with no access for others. */
static struct tree *
mktree(void)
{
	return (tree_create(mkperms(0, PERM_NONE)));
}

/* Add path below the node at its parent's path; the caller's gen. */
static struct node *
add(struct tree *t, const char *path, const char *value, uint64_t gen)
{
	struct node	*parent;
	char		 ppath[256];
	const char	*slash = strrchr(path, '/');
	size_t		 plen = slash == path ? 1 : (size_t)(slash - path);

	memcpy(ppath, path, plen);
	ppath[plen] = '\0';
	parent = tree_lookup(t, ppath);
	ck_assert_msg(parent != NULL, "no parent for %s", path);
	return (tree_add(t, parent, path, mkperms(0, PERM_NONE), value,
	    value != NULL ? (uint32_t)strlen(value) : 0, gen));
}

/* The names of a node's children, each followed by a comma. */
static void
children(const struct node *n, char *buf, size_t size)
{
	const struct node	*c;
	size_t			 off = 0;

	buf[0] = '\0';
	for (c = n->child_first; c != NULL; c = c->next)
		off += (size_t)snprintf(buf + off, size - off, "%s,",
		    tree_node_name(c));
}

/* The tree has no broken invariant. */
static void
check_ok(const struct tree *t)
{
	ck_assert_int_eq(tree_check(t, stderr), 0);
}

/* Nodes are counted per owner through adds, permission changes and
 * removals; the root is nobody's. */
START_TEST(owner_counts)
{
	struct tree	*t = mktree();
	struct node	*a, *b;

	a = tree_add(t, t->root, "/a", mkperms(5, PERM_NONE), NULL, 0, 1);
	b = tree_add(t, a, "/a/b", mkperms(5, PERM_NONE), NULL, 0, 2);
	tree_add(t, b, "/a/b/c", mkperms(6, PERM_NONE), NULL, 0, 3);
	ck_assert_uint_eq(tree_owned(t, 5), 2);
	ck_assert_uint_eq(tree_owned(t, 6), 1);
	ck_assert_uint_eq(tree_owned(t, 0), 0);
	tree_set_perms(t, b, mkperms(6, PERM_READ), 4);
	ck_assert_uint_eq(tree_owned(t, 5), 1);
	ck_assert_uint_eq(tree_owned(t, 6), 2);
	tree_set_perms(t, t->root, mkperms(7, PERM_READ), 5);
	ck_assert_uint_eq(tree_owned(t, 7), 0);
	ck_assert_uint_eq(tree_owned(t, DOMID_FIRST_RESERVED), 0);
	ck_assert_int_eq(tree_check(t, stderr), 0);
	tree_remove(t, b, 6, NULL, NULL);
	ck_assert_uint_eq(tree_owned(t, 6), 0);
	ck_assert_uint_eq(tree_owned(t, 5), 1);
	tree_owner_moved(t, 5, 0);
	ck_assert_uint_eq(tree_owned(t, 5), 0);
	ck_assert_uint_eq(tree_owned(t, 0), 1);
	tree_free(t);
}
END_TEST

/* A new tree holds "/" alone, with its perms and empty value. */
START_TEST(create_root)
{
	struct tree	*t = mktree();

	ck_assert_ptr_nonnull(t->root);
	ck_assert_str_eq(t->root->path, "/");
	ck_assert_ptr_eq(tree_lookup(t, "/"), t->root);
	ck_assert_ptr_null(t->root->parent);
	ck_assert_uint_eq(t->root->vlen, 0);
	ck_assert_uint_eq(t->root->nchildren, 0);
	ck_assert_uint_eq(t->root->perms->n, 1);
	ck_assert_str_eq(tree_node_name(t->root), "");
	ck_assert_uint_eq(t->nnodes, 1);
	ck_assert_uint_eq(t->path_bytes, 2);
	ck_assert_uint_eq(t->value_bytes, 0);
	ck_assert_ptr_null(tree_lookup(t, "/a"));
	check_ok(t);
	tree_free(t);
}
END_TEST

/* Added nodes are found by path and linked to their parent. */
START_TEST(add_lookup)
{
	struct tree	*t = mktree();
	struct node	*a, *ab;

	a = add(t, "/a", "1", 1);
	ab = add(t, "/a/b", "hello", 2);
	ck_assert_ptr_eq(tree_lookup(t, "/a"), a);
	ck_assert_ptr_eq(tree_lookup(t, "/a/b"), ab);
	ck_assert_ptr_eq(a->parent, t->root);
	ck_assert_ptr_eq(ab->parent, a);
	ck_assert_str_eq(tree_node_name(ab), "b");
	ck_assert_uint_eq(ab->vlen, 5);
	ck_assert_mem_eq(ab->value, "hello", 5);
	ck_assert_ptr_null(tree_lookup(t, "/a/b/c"));
	ck_assert_ptr_null(tree_lookup(t, "/b"));
	ck_assert_ptr_null(tree_lookup(t, "/a/"));
	ck_assert_uint_eq(t->nnodes, 3);
	check_ok(t);
	tree_free(t);
}
END_TEST

/* Values are bytes: NULs inside and empty values are kept exactly. */
START_TEST(binary_values)
{
	struct tree	*t = mktree();
	struct node	*n;

	n = tree_add(t, t->root, "/bin", mkperms(0, PERM_NONE), "a\0b\0", 4,
	    1);
	ck_assert_uint_eq(n->vlen, 4);
	ck_assert_mem_eq(n->value, "a\0b\0", 4);
	ck_assert_uint_eq(t->value_bytes, 4);
	tree_set_value(t, n, "", 0, 2);
	ck_assert_uint_eq(n->vlen, 0);
	ck_assert_uint_eq(t->value_bytes, 0);
	tree_set_value(t, n, "xyz", 3, 3);
	ck_assert_mem_eq(n->value, "xyz", 3);
	ck_assert_uint_eq(t->value_bytes, 3);
	check_ok(t);
	tree_free(t);
}
END_TEST

/* Children are listed in insertion order; counts and name bytes kept. */
START_TEST(children_order)
{
	struct tree	*t = mktree();
	struct node	*p;
	char		 buf[256];

	p = add(t, "/p", NULL, 1);
	add(t, "/p/zeta", NULL, 2);
	add(t, "/p/alpha", NULL, 3);
	add(t, "/p/mid", NULL, 4);
	add(t, "/p/b", NULL, 5);
	children(p, buf, sizeof buf);
	ck_assert_str_eq(buf, "zeta,alpha,mid,b,");
	ck_assert_uint_eq(p->nchildren, 4);
	ck_assert_uint_eq(p->children_len, 5 + 6 + 4 + 2);

	/* Removing from the middle, the front and the end. */
	tree_remove(t, tree_lookup(t, "/p/alpha"), 6, NULL, NULL);
	children(p, buf, sizeof buf);
	ck_assert_str_eq(buf, "zeta,mid,b,");
	tree_remove(t, tree_lookup(t, "/p/zeta"), 7, NULL, NULL);
	children(p, buf, sizeof buf);
	ck_assert_str_eq(buf, "mid,b,");
	tree_remove(t, tree_lookup(t, "/p/b"), 8, NULL, NULL);
	children(p, buf, sizeof buf);
	ck_assert_str_eq(buf, "mid,");
	ck_assert_uint_eq(p->nchildren, 1);
	ck_assert_uint_eq(p->children_len, 4);

	/* A name added again goes to the end. */
	add(t, "/p/zeta", NULL, 9);
	add(t, "/p/alpha", NULL, 10);
	tree_remove(t, tree_lookup(t, "/p/mid"), 11, NULL, NULL);
	add(t, "/p/mid", NULL, 12);
	children(p, buf, sizeof buf);
	ck_assert_str_eq(buf, "zeta,alpha,mid,");
	ck_assert_ptr_eq(p->child_first, tree_lookup(t, "/p/zeta"));
	ck_assert_ptr_eq(p->child_last, tree_lookup(t, "/p/mid"));
	ck_assert_uint_eq(p->nchildren, 3);
	ck_assert_uint_eq(p->children_len, 5 + 6 + 4);
	check_ok(t);
	tree_free(t);
}
END_TEST

struct visit {
	char	buf[1024];
	size_t	off;
	size_t	count;
};

/* Remember a visited node's path (and that it is still whole). */
static void
visit_cb(struct node *n, void *arg)
{
	struct visit	*v = arg;

	v->off += (size_t)snprintf(v->buf + v->off, sizeof v->buf - v->off,
	    "%s,", n->path);
	v->count++;
}

/* Removing a subtree unindexes all of it; the callback sees it top first
 * while it is whole, and nothing else is touched. */
START_TEST(remove_subtree)
{
	struct tree	*t = mktree();
	struct visit	 v = { "", 0, 0 };
	struct node	*a;
	char		 buf[256];

	a = add(t, "/a", "A", 1);
	add(t, "/a/b", "B", 2);
	add(t, "/a/b/c", "C", 3);
	add(t, "/a/b/d", "D", 4);
	add(t, "/a/e", "E", 5);
	add(t, "/ab", "X", 6);
	add(t, "/a/e/f", "F", 7);
	ck_assert_uint_eq(t->nnodes, 8);

	tree_remove(t, tree_lookup(t, "/a/b"), 8, visit_cb, &v);
	ck_assert_str_eq(v.buf, "/a/b,/a/b/c,/a/b/d,");
	ck_assert_ptr_null(tree_lookup(t, "/a/b"));
	ck_assert_ptr_null(tree_lookup(t, "/a/b/c"));
	ck_assert_ptr_null(tree_lookup(t, "/a/b/d"));
	ck_assert_ptr_nonnull(tree_lookup(t, "/a/e/f"));
	ck_assert_ptr_nonnull(tree_lookup(t, "/ab"));
	children(a, buf, sizeof buf);
	ck_assert_str_eq(buf, "e,");
	ck_assert_uint_eq(t->nnodes, 5);
	check_ok(t);

	memset(&v, 0, sizeof v);
	tree_remove(t, a, 9, visit_cb, &v);
	ck_assert_str_eq(v.buf, "/a,/a/e,/a/e/f,");
	children(t->root, buf, sizeof buf);
	ck_assert_str_eq(buf, "ab,");
	ck_assert_uint_eq(t->nnodes, 2);
	ck_assert_uint_eq(t->path_bytes, 2 + 4);
	ck_assert_uint_eq(t->value_bytes, 1);
	check_ok(t);

	/* The same paths can be added again. */
	add(t, "/a", NULL, 10);
	add(t, "/a/b", NULL, 11);
	ck_assert_ptr_eq(tree_lookup(t, "/a/b")->parent, tree_lookup(t, "/a"));
	check_ok(t);
	tree_free(t);
}
END_TEST

/* tree_walk visits parents before children, children in order. */
START_TEST(walk_order)
{
	struct tree	*t = mktree();
	struct visit	 v = { "", 0, 0 };

	add(t, "/b", NULL, 1);
	add(t, "/a", NULL, 2);
	add(t, "/b/y", NULL, 3);
	add(t, "/b/x", NULL, 4);
	add(t, "/a/z", NULL, 5);
	tree_walk(t->root, visit_cb, &v);
	ck_assert_str_eq(v.buf, "/,/b,/b/y,/b/x,/a,/a/z,");
	ck_assert_uint_eq(v.count, t->nnodes);
	tree_free(t);
}
END_TEST

/* gen moves on child add/remove and value/perms changes; vgen only on
 * creation and value/perms changes. */
START_TEST(generations)
{
	struct tree	*t = mktree();
	struct node	*a, *b;

	ck_assert_uint_eq(t->root->gen, 0);
	a = add(t, "/a", "v", 5);
	ck_assert_uint_eq(a->gen, 5);
	ck_assert_uint_eq(a->vgen, 5);
	ck_assert_uint_eq(t->root->gen, 5);
	ck_assert_uint_eq(t->root->vgen, 0);

	b = add(t, "/a/b", NULL, 6);
	ck_assert_uint_eq(b->gen, 6);
	ck_assert_uint_eq(b->vgen, 6);
	ck_assert_uint_eq(a->gen, 6);
	ck_assert_uint_eq(a->vgen, 5);
	ck_assert_uint_eq(t->root->gen, 5);	/* grandchildren: no */

	tree_set_value(t, b, "w", 1, 7);
	ck_assert_uint_eq(b->gen, 7);
	ck_assert_uint_eq(b->vgen, 7);
	ck_assert_uint_eq(a->gen, 6);		/* parent: no */
	ck_assert_uint_eq(a->vgen, 5);

	tree_set_perms(t, a, mkperms(5, PERM_READ), 8);
	ck_assert_uint_eq(a->gen, 8);
	ck_assert_uint_eq(a->vgen, 8);
	ck_assert_uint_eq(a->perms->p[0].domid, 5);
	ck_assert_uint_eq(t->root->gen, 5);

	add(t, "/a/c", NULL, 9);
	ck_assert_uint_eq(a->gen, 9);
	ck_assert_uint_eq(a->vgen, 8);
	tree_remove(t, b, 10, NULL, NULL);
	ck_assert_uint_eq(a->gen, 10);
	ck_assert_uint_eq(a->vgen, 8);
	ck_assert_uint_eq(t->root->gen, 5);

	tree_remove(t, a, 11, NULL, NULL);
	ck_assert_uint_eq(t->root->gen, 11);
	ck_assert_uint_eq(t->root->vgen, 0);
	check_ok(t);
	tree_free(t);
}
END_TEST

/* Node, path byte and value byte counters follow adds, sets, removes. */
START_TEST(counters)
{
	struct tree	*t = mktree();
	struct node	*n;

	n = add(t, "/abc", "12345", 1);
	ck_assert_uint_eq(t->nnodes, 2);
	ck_assert_uint_eq(t->path_bytes, 2 + 5);
	ck_assert_uint_eq(t->value_bytes, 5);
	add(t, "/abc/de", "xy", 2);
	ck_assert_uint_eq(t->nnodes, 3);
	ck_assert_uint_eq(t->path_bytes, 2 + 5 + 8);
	ck_assert_uint_eq(t->value_bytes, 7);
	tree_set_value(t, n, "1", 1, 3);
	ck_assert_uint_eq(t->value_bytes, 3);
	tree_remove(t, n, 4, NULL, NULL);
	ck_assert_uint_eq(t->nnodes, 1);
	ck_assert_uint_eq(t->path_bytes, 2);
	ck_assert_uint_eq(t->value_bytes, 0);
	tree_free(t);
}
END_TEST

/* Permissions are references: nodes may share one list. */
START_TEST(shared_perms)
{
	struct tree	*t = mktree();
	struct perms	*ps = mkperms(7, PERM_READ);
	struct node	*a, *b;

	a = tree_add(t, t->root, "/a", perms_ref(ps), NULL, 0, 1);
	b = tree_add(t, a, "/a/b", perms_ref(ps), NULL, 0, 2);
	ck_assert_ptr_eq(a->perms, b->perms);
	ck_assert_uint_eq(ps->refs, 3);
	tree_set_perms(t, b, mkperms(0, PERM_NONE), 3);
	ck_assert_uint_eq(ps->refs, 2);
	tree_remove(t, a, 4, NULL, NULL);
	ck_assert_uint_eq(ps->refs, 1);
	perms_unref(ps);
	tree_free(t);
}
END_TEST

/* tree_check notices broken counts and links (it is not vacuous). */
START_TEST(check_detects)
{
	struct tree	*t = mktree();
	struct node	*a;
	char		*out = NULL;
	size_t		 size;
	FILE		*f;

	a = add(t, "/a", NULL, 1);
	add(t, "/a/b", NULL, 2);
	check_ok(t);

	a->nchildren++;
	ck_assert_int_gt(tree_check(t, NULL), 0);
	a->nchildren--;
	a->children_len++;
	ck_assert_int_gt(tree_check(t, NULL), 0);
	a->children_len--;
	a->vgen = a->gen + 1;
	f = open_memstream(&out, &size);
	ck_assert_int_gt(tree_check(t, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "/a"));
	free(out);
	a->vgen = a->gen;
	t->nnodes++;
	ck_assert_int_gt(tree_check(t, NULL), 0);
	t->nnodes--;
	check_ok(t);
	tree_free(t);
}
END_TEST

/* tree_print: one line per node, parents first. */
START_TEST(print_format)
{
	struct tree	*t = mktree();
	struct perm	 p[2] = { { 5, PERM_READ }, { 7, PERM_BOTH } };
	char		*out = NULL;
	size_t		 size;
	FILE		*f;

	tree_add(t, t->root, "/a", perms_create(p, 2), "va", 2, 3);
	add(t, "/a/b", NULL, 4);
	f = open_memstream(&out, &size);
	tree_print(t, f);
	fclose(f);
	ck_assert_str_eq(out,
	    "/ gen=3 perms=n0 value=\"\"\n"
	    "/a gen=4 perms=r5,b7 value=\"va\"\n"
	    "/a/b gen=4 perms=n0 value=\"\"\n");
	free(out);
	tree_free(t);
}
END_TEST

/* The random test's reference model: live nodes in insertion order. */
#define MODEL_MAX	4096
struct model_node {
	char	path[64];
	char	value[8];
	bool	live;
};
struct model {
	struct model_node	n[MODEL_MAX];
	size_t			len;
};

/* A small deterministic generator (xorshift64*). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* A random live model node (the root is entry 0). */
static struct model_node *
model_pick(struct model *m, uint64_t *s, bool root_ok)
{
	size_t	i, live = 0, k;

	for (i = root_ok ? 0 : 1; i < m->len; i++)
		live += m->n[i].live;
	if (live == 0)
		return (NULL);
	k = rnd(s) % live;
	for (i = root_ok ? 0 : 1; i < m->len; i++) {
		if (m->n[i].live && k-- == 0)
			return (&m->n[i]);
	}
	return (NULL);
}

/* The live model node at path, or NULL. */
static struct model_node *
model_find(struct model *m, const char *path)
{
	size_t	i;

	for (i = 0; i < m->len; i++) {
		if (m->n[i].live && strcmp(m->n[i].path, path) == 0)
			return (&m->n[i]);
	}
	return (NULL);
}

/* Is path equal to top or below it? */
static bool
below(const char *path, const char *top)
{
	size_t	len = strlen(top);

	if (strcmp(top, "/") == 0)
		return (true);
	return (strncmp(path, top, len) == 0 &&
	    (path[len] == '\0' || path[len] == '/'));
}

/* Compare the whole tree with the model. */
static void
model_compare(const struct tree *t, struct model *m)
{
	uint64_t	 nodes = 0, pbytes = 0, vbytes = 0;
	struct node	*n;
	char		 want[2048], got[2048];
	size_t		 i, j, off, plen;

	check_ok(t);
	for (i = 0; i < m->len; i++) {
		n = tree_lookup(t, m->n[i].path);
		if (!m->n[i].live) {
			if (model_find(m, m->n[i].path) == NULL)
				ck_assert_msg(n == NULL, "%s should be gone",
				    m->n[i].path);
			continue;
		}
		ck_assert_msg(n != NULL, "%s missing", m->n[i].path);
		nodes++;
		pbytes += strlen(m->n[i].path) + 1;
		vbytes += strlen(m->n[i].value);
		ck_assert_uint_eq(n->vlen, strlen(m->n[i].value));
		ck_assert_mem_eq(n->vlen != 0 ? n->value : "", m->n[i].value,
		    n->vlen);

		/* Children in the model's insertion order. */
		off = 0;
		want[0] = '\0';
		plen = strlen(m->n[i].path);
		for (j = 1; j < m->len; j++) {
			const char	*p = m->n[j].path;
			const char	*slash = strrchr(p, '/');
			size_t		 pl = slash == p ? 1 : (size_t)(slash - p);

			if (!m->n[j].live || pl != plen ||
			    strncmp(p, m->n[i].path, plen) != 0)
				continue;
			off += (size_t)snprintf(want + off, sizeof want - off,
			    "%s,", slash + 1);
		}
		children(n, got, sizeof got);
		ck_assert_str_eq(got, want);
	}
	ck_assert_uint_eq(t->nnodes, nodes);
	ck_assert_uint_eq(t->path_bytes, pbytes);
	ck_assert_uint_eq(t->value_bytes, vbytes);
}

struct removed {
	struct model	*m;
	const char	*top;
	size_t		 count;
	bool		 first_is_top;
};

/* Check a node reported removed is in the removed subtree, and live. */
static void
removed_cb(struct node *n, void *arg)
{
	struct removed	*r = arg;

	if (r->count++ == 0)
		r->first_is_top = strcmp(n->path, r->top) == 0;
	ck_assert_msg(below(n->path, r->top), "%s not below %s", n->path,
	    r->top);
	ck_assert_ptr_nonnull(model_find(r->m, n->path));
}

/* Thousands of random adds, sets and removes against the model. */
START_TEST(random_model)
{
	static const char	*names[] = { "a", "b", "c", "dd", "e-f", "g_h" };
	struct model		*m = calloc(1, sizeof *m);
	struct tree		*t = mktree();
	struct model_node	*mn, *cn;
	struct removed		 r;
	struct node		*n;
	uint64_t		 s = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	uint64_t		 gen = 0;
	char			 path[128];
	size_t			 i, depth, k, before;
	int			 step, op;
	const char		*p;

	strcpy(m->n[0].path, "/");
	m->n[0].live = true;
	m->len = 1;
	for (step = 0; step < 6000; step++) {
		op = (int)(rnd(&s) % 10);
		gen++;
		if (op < 6) {
			/* Add a child below a live node (depth at most 4). */
			mn = model_pick(m, &s, true);
			for (depth = 0, p = mn->path; *p != '\0'; p++)
				depth += *p == '/';
			if (depth >= 4 && strcmp(mn->path, "/") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s",
			    strcmp(mn->path, "/") == 0 ? "" : mn->path,
			    names[rnd(&s) % 6]);
			if (strlen(path) >= sizeof mn->path ||
			    model_find(m, path) != NULL)
				continue;
			if (m->len == MODEL_MAX) {
				/* Compact the model: drop dead entries. */
				for (i = k = 0; i < m->len; i++) {
					if (m->n[i].live)
						m->n[k++] = m->n[i];
				}
				m->len = k;
				mn = NULL;
			}
			cn = &m->n[m->len++];
			strcpy(cn->path, path);
			snprintf(cn->value, sizeof cn->value, "%u",
			    (unsigned)(rnd(&s) % 1000));
			if (rnd(&s) % 4 == 0)
				cn->value[0] = '\0';
			cn->live = true;
			add(t, path, cn->value, gen);
			ck_assert_uint_eq(tree_lookup(t, path)->gen, gen);
		} else if (op < 8) {
			/* Change a value. */
			if ((mn = model_pick(m, &s, false)) == NULL)
				continue;
			snprintf(mn->value, sizeof mn->value, "v%u",
			    (unsigned)(rnd(&s) % 100));
			n = tree_lookup(t, mn->path);
			tree_set_value(t, n, mn->value,
			    (uint32_t)strlen(mn->value), gen);
			ck_assert_uint_eq(n->vgen, gen);
		} else if (op < 9) {
			/* Change permissions. */
			if ((mn = model_pick(m, &s, true)) == NULL)
				continue;
			n = tree_lookup(t, mn->path);
			tree_set_perms(t, n, mkperms((uint32_t)(rnd(&s) % 4),
			    PERM_READ), gen);
			ck_assert_uint_eq(n->gen, gen);
		} else {
			/* Remove a subtree, seldom a top-level one. */
			if ((mn = model_pick(m, &s, false)) == NULL)
				continue;
			if (strchr(mn->path + 1, '/') == NULL &&
			    rnd(&s) % 8 != 0)
				continue;
			n = tree_lookup(t, mn->path);
			before = t->nnodes;
			r.m = m;
			r.top = mn->path;
			r.count = 0;
			r.first_is_top = false;
			tree_remove(t, n, gen, removed_cb, &r);
			ck_assert(r.first_is_top);
			k = 0;
			for (i = 0; i < m->len; i++) {
				if (m->n[i].live && below(m->n[i].path,
				    r.top) && &m->n[i] != mn) {
					m->n[i].live = false;
					k++;
				}
			}
			mn->live = false;
			k++;
			ck_assert_uint_eq(r.count, k);
			ck_assert_uint_eq(before - t->nnodes, k);
		}
		ck_assert_int_eq(tree_check(t, stderr), 0);
		if (step % 50 == 0)
			model_compare(t, m);
	}
	model_compare(t, m);
	tree_free(t);
	free(m);
}
END_TEST

/* All of tree.c's tests. */
static Suite *
tree_suite(void)
{
	Suite	*s = suite_create("tree");
	TCase	*tc;

	tc = tcase_create("basic");
	tcase_add_test(tc, owner_counts);
	tcase_add_test(tc, create_root);
	tcase_add_test(tc, add_lookup);
	tcase_add_test(tc, binary_values);
	tcase_add_test(tc, children_order);
	tcase_add_test(tc, remove_subtree);
	tcase_add_test(tc, walk_order);
	tcase_add_test(tc, generations);
	tcase_add_test(tc, counters);
	tcase_add_test(tc, shared_perms);
	tcase_add_test(tc, check_detects);
	tcase_add_test(tc, print_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, random_model, 0, 4);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(tree_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
