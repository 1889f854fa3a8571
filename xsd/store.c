/*
 * The store's operations with their permission rules. Reads outside a
 * transaction look at the tree directly; everything else goes through a
 * branch (txn.c): the caller's transaction, or an implicit one that is
 * committed at the end of the request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"
#include "perms.h"
#include "store.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd.h"

/* Make an empty store: "/" and /tool/xenstored, owned by dom0. */
struct store *
store_create(void)
{
	static const struct perm	 root = { 0, PERM_NONE };
	struct store			*store = xcalloc(1, sizeof *store);
	struct perms			*perms = perms_create(&root, 1);
	struct node			*tool;

	store->tree = tree_create(perms_ref(perms));
	tool = tree_add(store->tree, store->tree->root, "/tool",
	    perms_ref(perms), NULL, 0, 0);
	tree_add(store->tree, tool, "/tool/xenstored", perms, NULL, 0, 0);
	store->txn_log_max = STORE_TXN_LOG_MAX;
	return (store);
}

/* Free the store. */
void
store_free(struct store *store)
{
	if (store == NULL)
		return;
	txn_log_free(store);
	tree_free(store->tree);
	free(store);
}

/* View of a committed node. */
static void
store_view_node(const struct node *n, struct nodeview *nv)
{
	memset(nv, 0, sizeof *nv);
	if (n == NULL)
		return;
	nv->exists = true;
	nv->value = n->value;
	nv->vlen = n->vlen;
	nv->perms = n->perms;
	nv->gen = n->gen;
	nv->nchildren = n->nchildren;
	nv->children_len = n->children_len;
}

/* A node as the request sees it: in its branch (noting what of it the
 * request reads, TXN_READ_*, besides its existence), or committed. */
static void
store_view(struct store *store, struct txn *txn, const char *path,
    struct nodeview *nv, int reads)
{
	struct txn_node	*tn;

	if (txn != NULL) {
		tn = txn_node_get(txn, path, NULL);
		txn_node_read(tn, reads);
		txn_node_view(tn, nv);
	} else
		store_view_node(tree_lookup(store->tree, path), nv);
}

/* What an access check reads of a node: nothing for a privileged actor,
 * the permissions for any other. */
static int
store_check_reads(const struct actor *a)
{
	return (a->privileged ? 0 : TXN_READ_PERMS);
}

/*
 * Why a missing node cannot be had: ENOENT, unless the nearest existing
 * ancestor grants the caller none of the access it asked for, when it
 * must not learn even that (EACCES). As Xen's errno_from_parents.
 */
static int
store_missing(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, unsigned need)
{
	struct nodeview	 nv;
	char		*p = xstrdup(path);
	size_t		 len;

	nv.exists = false;
	while (!nv.exists && strcmp(p, "/") != 0) {
		len = path_parent_len(p);
		p[len] = '\0';
		store_view(store, txn, p, &nv, store_check_reads(a));
	}
	free(p);
	if (!nv.exists || !(perms_mode(nv.perms, a) & need))
		return (-EACCES);
	return (-ENOENT);
}

/* Get a node the caller needs the given access to, noting that the
 * request reads reads (TXN_READ_*) of it. */
static int
store_access(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, unsigned need, struct nodeview *nv, int reads)
{
	store_view(store, txn, path, nv, reads | store_check_reads(a));
	if (!nv->exists)
		return (store_missing(store, txn, a, path, need));
	if ((perms_mode(nv->perms, a) & need) != need)
		return (-EACCES);
	return (0);
}

/* Is the path in the computed subtree (store.h), its top included? */
static bool
store_in_virtual(const struct store *store, const char *path)
{
	const struct store_special	*sp = store->special;

	return (sp != NULL && sp->virt != NULL && path_is_below(path, sp->virt));
}

/* A computed node: readable as its real parent (the top) is. */
static int
store_virtual(struct store *store, const struct actor *a, const char *path,
    struct nodeview *nv)
{
	const struct store_special	*sp = store->special;
	struct node			*top = tree_lookup(store->tree, sp->virt);
	int				 r;

	memset(nv, 0, sizeof *nv);
	if (top == NULL)
		return (-ENOENT);
	if (!(perms_mode(top->perms, a) & PERM_READ))
		return (-EACCES);
	r = sp->virt_read(path + strlen(sp->virt) + 1, &nv->value, &nv->vlen,
	    sp->arg);
	if (r != 0)
		return (r);
	nv->exists = true;
	nv->perms = top->perms;
	nv->gen = top->gen;
	return (0);
}

/* READ (and GET_PERMS): a node's value and permissions. */
int
store_read(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, struct nodeview *nv)
{
	if (store_in_virtual(store, path) &&
	    strcmp(path, store->special->virt) != 0)
		return (store_virtual(store, a, path, nv));
	return (store_access(store, txn, a, path, PERM_READ, nv,
	    TXN_READ_VALUE | TXN_READ_PERMS));
}

/* DIRECTORY: a node's children, each passed to cb. */
int
store_list(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, struct nodeview *nv, store_child_cb *cb, void *arg)
{
	struct node	*n, *c;
	int		 r;

	if (store_in_virtual(store, path) &&
	    strcmp(path, store->special->virt) != 0)
		r = store_virtual(store, a, path, nv);
	else
		r = store_access(store, txn, a, path, PERM_READ, nv, 0);
	if (r != 0)
		return (r);
	if (store_in_virtual(store, path)) {
		if (strcmp(path, store->special->virt) != 0)
			return (0);
		return (store->special->virt_list(cb, arg, store->special->arg));
	}
	if (txn != NULL)
		return (txn_node_children(txn, txn_node_get(txn, path, NULL),
		    cb, arg));
	n = tree_lookup(store->tree, path);
	for (c = n->child_first; c != NULL; c = c->next) {
		if ((r = cb(tree_node_name(c), arg)) != 0)
			return (r);
	}
	return (0);
}

/* Run op in the caller's transaction or in an implicit one committed at
 * once. */
static int
store_run(struct store *store, struct txn *txn, const struct actor *a,
    int (*op)(struct txn *, const char *, const void *, uint32_t),
    const char *path, const void *data, uint32_t len)
{
	struct txn	*implicit;
	int		 r;

	if (store_in_virtual(store, path))
		return (-EACCES);
	if (txn != NULL)
		return (op(txn, path, data, len));
	implicit = txn_create(store, 0, a);
	r = op(implicit, path, data, len);
	if (r == 0)
		r = txn_end(implicit, true);
	txn_free(implicit);
	return (r);
}

/* May an unprivileged actor own one more node? (Nodes it makes are its
 * own; what it owns counts, less what the branch deletes.) */
static int
store_node_quota(struct txn *txn, const struct actor *a)
{
	struct store	*store = txn_store(txn);

	if (a->privileged || store->quota == NULL)
		return (0);
	if ((int64_t)tree_owned(store->tree, a->domid) +
	    txn_owned_delta(txn) >= (int64_t)store->quota->nodes)
		return (-ENOSPC);
	return (0);
}

/*
 * Make sure a node exists in the branch, creating missing parents with
 * empty values and inherited permissions. Creating needs write access
 * to the nearest existing ancestor (as in Xen). *made says whether the
 * node itself was created.
 */
static int
store_create_path(struct txn *txn, const char *path, const void *value,
    uint32_t vlen, struct txn_node **out, bool *made)
{
	const struct actor	*a = txn_actor(txn);
	struct txn_node		*tn, *parent;
	struct nodeview		 nv;
	char			*ppath;
	int			 r;

	tn = txn_node_get(txn, path, NULL);
	txn_node_view(tn, &nv);
	*out = tn;
	*made = false;
	if (nv.exists)
		return (0);
	if (strcmp(path, "/") == 0)
		return (-EACCES);

	/* A new node inherits its parent's permissions: they are read
	 * (a missing parent is made here, not seen missing). */
	ppath = path_parent(path);
	parent = txn_node_get(txn, ppath, NULL);
	txn_node_view(parent, &nv);
	if (nv.exists) {
		txn_node_read(parent, TXN_READ_PERMS);
		if (!(perms_mode(nv.perms, a) & PERM_WRITE))
			r = -EACCES;
		else
			r = 0;
	} else {
		bool	parent_made;

		r = store_create_path(txn, ppath, NULL, 0, &parent,
		    &parent_made);
		if (r == 0 && parent_made)
			txn_node_implicit(parent);
	}
	free(ppath);
	if (r != 0)
		return (r);
	if ((r = store_node_quota(txn, a)) != 0)
		return (r);
	txn_node_view(parent, &nv);
	txn_node_create(txn, parent, tn, perms_for_new(nv.perms, a), value,
	    vlen);
	*made = true;
	return (0);
}

/* WRITE in a branch. */
static int
store_write_op(struct txn *txn, const char *path, const void *value,
    uint32_t vlen)
{
	struct txn_node	*tn;
	struct nodeview	 nv;
	bool		 made;
	int		 r;

	/* A write does not read the value it replaces; one that makes the
	 * node does not depend on its absence either (see txn.c). */
	tn = txn_node_get(txn, path, NULL);
	txn_node_view(tn, &nv);
	if (nv.exists) {
		txn_node_read(tn, store_check_reads(txn_actor(txn)));
		if (!(perms_mode(nv.perms, txn_actor(txn)) & PERM_WRITE))
			return (-EACCES);
		txn_node_set_value(txn, tn, value, vlen);
	} else if ((r = store_create_path(txn, path, value, vlen, &tn,
	    &made)) != 0)
		return (r);
	txn_event(txn, tn, TXN_EVENT_TREE);
	return (0);
}

/* WRITE: set a node's value, creating it and its parents if needed. */
int
store_write(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, const void *value, uint32_t vlen)
{
	return (store_run(store, txn, a, store_write_op, path, value, vlen));
}

/* MKDIR in a branch. */
static int
store_mkdir_op(struct txn *txn, const char *path, const void *unused,
    uint32_t unused_len)
{
	struct txn_node	*tn;
	struct nodeview	 nv;
	bool		 made;
	int		 r;

	(void)unused;
	(void)unused_len;
	tn = txn_node_get(txn, path, NULL);
	txn_node_view(tn, &nv);
	if (nv.exists) {
		txn_node_read(tn, store_check_reads(txn_actor(txn)));
		if (!(perms_mode(nv.perms, txn_actor(txn)) & PERM_WRITE))
			return (-EACCES);
		return (0);
	}
	if ((r = store_create_path(txn, path, NULL, 0, &tn, &made)) != 0)
		return (r);
	/* Made only if missing: like a missing parent, it has no value of
	 * its own to impose on one made meanwhile. */
	if (made)
		txn_node_implicit(tn);
	txn_event(txn, tn, TXN_EVENT_TREE);
	return (0);
}

/* MKDIR: make a node with an empty value unless it exists. */
int
store_mkdir(struct store *store, struct txn *txn, const struct actor *a,
    const char *path)
{
	return (store_run(store, txn, a, store_mkdir_op, path, NULL, 0));
}

/* Collect a node's children names (the list changes as we delete). */
static int
store_collect_child(const char *name, void *arg)
{
	char	***names = arg;
	size_t	  n = 0;

	while ((*names)[n] != NULL)
		n++;
	*names = xrealloc(*names, (n + 2) * sizeof **names);
	(*names)[n] = xstrdup(name);
	(*names)[n + 1] = NULL;
	return (0);
}

/*
 * Delete a subtree in the branch, children before parents, each child
 * firing watches on exactly its path, the top on itself and above. It
 * reads every list of children and every node's permissions (the owner
 * counts for the quota, the watchers are checked against them).
 */
static void
store_rm_subtree(struct txn *txn, struct txn_node *parent,
    struct txn_node *tn, int how)
{
	char		**names = xcalloc(1, sizeof *names), *path;
	const char	*me = txn_node_path(tn);
	size_t		 i;

	txn_node_read(tn, TXN_READ_PERMS);
	txn_node_children(txn, tn, store_collect_child, &names);
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(me, "/") == 0)
			xasprintf(&path, "/%s", names[i]);
		else
			xasprintf(&path, "%s/%s", me, names[i]);
		store_rm_subtree(txn, tn, txn_node_get(txn, path, NULL),
		    TXN_EVENT_EXACT);
		free(path);
		free(names[i]);
	}
	free(names);
	txn_node_delete(txn, parent, tn);
	txn_event(txn, tn, how);
}

/* RM in a branch. */
static int
store_rm_op(struct txn *txn, const char *path, const void *unused,
    uint32_t unused_len)
{
	const struct actor	*a = txn_actor(txn);
	struct txn_node		*tn, *parent;
	struct nodeview		 nv;
	char			*ppath;
	int			 r;

	(void)unused;
	(void)unused_len;
	tn = txn_node_get(txn, path, NULL);
	txn_node_read(tn, store_check_reads(a));
	txn_node_view(tn, &nv);
	if (!nv.exists) {
		/* Removing what is not there is fine if the parent is. */
		if ((r = store_missing(NULL, txn, a, path, PERM_WRITE)) != -ENOENT)
			return (r);
		ppath = path_parent(path);
		txn_node_view(txn_node_get(txn, ppath, NULL), &nv);
		free(ppath);
		return (nv.exists ? 0 : -ENOENT);
	}
	if (!(perms_mode(nv.perms, a) & PERM_WRITE))
		return (-EACCES);
	if (strcmp(path, "/") == 0)
		return (-EINVAL);
	ppath = path_parent(path);
	parent = txn_node_get(txn, ppath, NULL);
	free(ppath);
	store_rm_subtree(txn, parent, tn, TXN_EVENT_TREE);
	return (0);
}

/* RM: remove a node and everything below it. */
int
store_rm(struct store *store, struct txn *txn, const struct actor *a,
    const char *path)
{
	return (store_run(store, txn, a, store_rm_op, path, NULL, 0));
}

/* SET_PERMS in a branch; data is the new list (reference passed in). */
static int
store_set_perms_op(struct txn *txn, const char *path, const void *data,
    uint32_t unused)
{
	const struct actor	*a = txn_actor(txn);
	struct perms		*perms = (struct perms *)data;
	struct txn_node		*tn;
	struct nodeview		 nv;

	(void)unused;
	tn = txn_node_get(txn, path, NULL);
	txn_node_read(tn, store_check_reads(a));
	txn_node_view(tn, &nv);
	if (!nv.exists)
		return (store_missing(NULL, txn, a, path, PERM_WRITE));
	/* Only the owner (or a privileged caller) may change them. */
	if (!a->privileged && !(nv.perms->p[0].domid == a->domid ||
	    (a->target != PERMS_NO_TARGET && nv.perms->p[0].domid ==
	    a->target)))
		return (-EACCES);
	if (!(perms_mode(nv.perms, a) & PERM_WRITE))
		return (-EACCES);
	if (!a->privileged && perms->p[0].domid != nv.perms->p[0].domid)
		return (-EPERM);
	txn_node_set_perms(txn, tn, perms_ref(perms));
	txn_event(txn, tn, TXN_EVENT_TREE);
	return (0);
}

/* SET_PERMS: replace a node's permission list. Does not take perms. */
int
store_set_perms(struct store *store, struct txn *txn, const struct actor *a,
    const char *path, struct perms *perms)
{
	return (store_run(store, txn, a, store_set_perms_op, path, perms, 0));
}
