/*
 * Transactions are branches of the store. Starting one costs O(1): the
 * branch holds only the nodes the transaction touches (read or changed),
 * each with what it saw of the committed node (existence, value
 * generation, children generation). Ending it re-checks those reads
 * against the current tree: if none changed, the result is the same as
 * running the transaction alone now, so its changes are applied; else
 * it fails with EAGAIN. The cost is proportional to what it touched.
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"
#include "perms.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd.h"

struct txn_node {
	const char		*key;		/* == path */
	TAILQ_ENTRY(txn_node)	 entry;		/* every node touched */
	uint64_t		 seq;		/* order of first change */
	uint64_t		 base_vgen;
	uint64_t		 base_gen;
	struct perms		*perms;		/* as the branch sees it */
	struct perms		*old_perms;	/* before a SET_PERMS */
	char			*value;
	uint32_t		 vlen;
	uint32_t		 depth;
	char			**added;	/* children created here */
	uint32_t		 nadded;
	char			**removed;	/* committed children deleted */
	uint32_t		 nremoved;
	uint32_t		 event_seq;
	uint8_t			 event;		/* TXN_EVENT_* */
	bool			 base_exists;
	bool			 children_read;
	bool			 exists;
	bool			 fresh;		/* committed children hidden */
	bool			 value_set;
	bool			 perms_set;
	char			 path[];
};

struct txn {
	struct store		*store;
	uint32_t		 id;
	struct actor		 actor;
	void			*index;		/* tsearch(3) by path */
	TAILQ_HEAD(, txn_node)	 nodes;
	uint32_t		 nnodes;
	uint64_t		 nchanges;
	uint32_t		 nevents;
	int32_t			 owned_delta;	/* nodes of the actor's
						   domain made less deleted */
};

static int	txn_cmp(const void *, const void *);

/* tdestroy(3) callback: the index does not own its entries. */
static void
txn_index_keep(void *p)
{
	(void)p;
}

/* Order branch nodes by path. */
static int
txn_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Start a transaction (id 0: an implicit one for a single request). */
struct txn *
txn_create(struct store *store, uint32_t id, const struct actor *actor)
{
	struct txn	*txn = xcalloc(1, sizeof *txn);

	txn->store = store;
	txn->id = id;
	txn->actor = *actor;
	TAILQ_INIT(&txn->nodes);
	return (txn);
}

/* Free a list of names. */
static void
txn_names_free(char **names, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Free one branch node. */
static void
txn_node_free(struct txn_node *tn)
{
	perms_unref(tn->perms);
	perms_unref(tn->old_perms);
	free(tn->value);
	txn_names_free(tn->added, tn->nadded);
	txn_names_free(tn->removed, tn->nremoved);
	free(tn);
}

/* Throw a transaction away. */
void
txn_free(struct txn *txn)
{
	struct txn_node	*tn, *next;

	if (txn == NULL)
		return;
	tdestroy(txn->index, txn_index_keep);
	TAILQ_FOREACH_SAFE(tn, &txn->nodes, entry, next)
		txn_node_free(tn);
	free(txn);
}

/* The transaction's id. */
uint32_t
txn_id(const struct txn *txn)
{
	return (txn->id);
}

/* How many nodes the transaction has touched. */
uint32_t
txn_nnodes(const struct txn *txn)
{
	return (txn->nnodes);
}

/* How many more nodes the actor's domain owns if the branch commits. */
int32_t
txn_owned_delta(const struct txn *txn)
{
	return (txn->owned_delta);
}

/* The store the branch is of. */
struct store *
txn_store(const struct txn *txn)
{
	return (txn->store);
}

/* Who runs the transaction. */
const struct actor *
txn_actor(const struct txn *txn)
{
	return (&txn->actor);
}

/* Is this the implicit transaction of a single request? */
bool
txn_is_implicit(const struct txn *txn)
{
	return (txn->id == 0);
}

/* A node's path. */
const char *
txn_node_path(const struct txn_node *tn)
{
	return (tn->path);
}

/* Count the components of a path: "/" is 0, "/a/b" is 2. */
static uint32_t
txn_depth(const char *path)
{
	uint32_t	d = 0;

	if (path[1] == '\0')
		return (0);
	for (; *path != '\0'; path++)
		d += *path == '/';
	return (d);
}

/*
 * The branch's node for a path, made on first touch from the committed
 * node (recording what was seen). created, if given, says whether it is
 * new to the branch (for the caller's quota of touched nodes).
 */
struct txn_node *
txn_node_get(struct txn *txn, const char *path, int *created)
{
	void		*const *found;
	struct txn_node	*tn;
	struct node	*n;
	size_t		 plen;

	if (created != NULL)
		*created = 0;
	found = tfind(&path, &txn->index, txn_cmp);
	if (found != NULL)
		return (*found);

	plen = strlen(path) + 1;
	tn = xcalloc(1, sizeof *tn + plen);
	memcpy(tn->path, path, plen);
	tn->key = tn->path;
	tn->depth = txn_depth(path);
	n = tree_lookup(txn->store->tree, path);
	if (n != NULL) {
		tn->base_exists = tn->exists = true;
		tn->base_vgen = n->vgen;
		tn->base_gen = n->gen;
		tn->perms = perms_ref(n->perms);
		if (n->vlen != 0)
			tn->value = xmemdup(n->value, n->vlen);
		tn->vlen = n->vlen;
	}
	if (tsearch(tn, &txn->index, txn_cmp) == NULL)
		log_fatal("tsearch failed");
	TAILQ_INSERT_TAIL(&txn->nodes, tn, entry);
	txn->nnodes++;
	if (created != NULL)
		*created = 1;
	return (tn);
}

/* Fill a view of a branch node (children counted on demand). */
void
txn_node_view(const struct txn_node *tn, struct nodeview *nv)
{
	memset(nv, 0, sizeof *nv);
	nv->exists = tn->exists;
	if (!tn->exists)
		return;
	nv->value = tn->value;
	nv->vlen = tn->vlen;
	nv->perms = tn->perms;
	nv->gen = tn->base_gen;
}

/* Find a name in a list; its index or -1. */
static int
txn_names_find(char **names, uint32_t n, const char *name)
{
	uint32_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Add a name to a list. */
static void
txn_names_add(char ***names, uint32_t *n, const char *name)
{
	*names = xrealloc(*names, (*n + 1) * sizeof **names);
	(*names)[(*n)++] = xstrdup(name);
}

/* Remove entry i from a list, keeping the order. */
static void
txn_names_del(char **names, uint32_t *n, int i)
{
	free(names[i]);
	memmove(names + i, names + i + 1, (*n - (uint32_t)i - 1) *
	    sizeof *names);
	(*n)--;
}

/*
 * List a branch node's children: the committed ones it has not deleted
 * (unless it replaced the node), then those it created. The first listing
 * records the committed node's generation. Stops early if cb returns
 * non-zero, and returns that.
 */
int
txn_node_children(struct txn *txn, struct txn_node *tn, store_child_cb *cb,
    void *arg)
{
	struct node	*n, *c;
	uint32_t	 i;
	int		 r;

	if (!tn->exists)
		return (0);
	if (!tn->fresh && tn->base_exists) {
		n = tree_lookup(txn->store->tree, tn->path);
		if (!tn->children_read) {
			tn->children_read = true;
			tn->base_gen = n != NULL ? n->gen : 0;
		}
		for (c = n != NULL ? n->child_first : NULL; c != NULL;
		    c = c->next) {
			if (tn->nremoved != 0 && txn_names_find(tn->removed,
			    tn->nremoved, tree_node_name(c)) >= 0)
				continue;
			if ((r = cb(tree_node_name(c), arg)) != 0)
				return (r);
		}
	}
	for (i = 0; i < tn->nadded; i++) {
		if ((r = cb(tn->added[i], arg)) != 0)
			return (r);
	}
	return (0);
}

/* Note the first change to a branch node, for the order of commit. */
static void
txn_node_changed(struct txn *txn, struct txn_node *tn)
{
	if (tn->seq == 0)
		tn->seq = ++txn->nchanges;
}

/*
 * Create tn (which does not exist in the branch) below parent (which
 * does). Takes the perms reference. A new child goes last in its
 * parent's list, even one made again after being removed (it stays in
 * the removed list, which hides the committed one), as outside a
 * transaction; its change sequence restarts so that the commit adds
 * siblings in this same order.
 */
void
txn_node_create(struct txn *txn, struct txn_node *parent,
    struct txn_node *tn, struct perms *perms, const void *value,
    uint32_t vlen)
{
	tn->exists = true;
	tn->fresh = true;
	tn->value_set = tn->perms_set = true;
	perms_unref(tn->perms);
	tn->perms = perms;
	free(tn->value);
	tn->value = vlen != 0 ? xmemdup(value, vlen) : NULL;
	tn->vlen = vlen;
	tn->seq = ++txn->nchanges;
	if (perms->p[0].domid == txn->actor.domid)
		txn->owned_delta++;

	txn_names_add(&parent->added, &parent->nadded,
	    path_basename(tn->path));
	txn_node_changed(txn, parent);
}

/* Set a branch node's value. */
void
txn_node_set_value(struct txn *txn, struct txn_node *tn, const void *value,
    uint32_t vlen)
{
	free(tn->value);
	tn->value = vlen != 0 ? xmemdup(value, vlen) : NULL;
	tn->vlen = vlen;
	tn->value_set = true;
	txn_node_changed(txn, tn);
}

/* Set a branch node's permissions, keeping the first old list for the
 * watch permission check. Takes the perms reference. */
void
txn_node_set_perms(struct txn *txn, struct txn_node *tn, struct perms *perms)
{
	if (tn->old_perms == NULL)
		tn->old_perms = tn->perms;
	else
		perms_unref(tn->perms);
	tn->perms = perms;
	tn->perms_set = true;
	txn_node_changed(txn, tn);
}

/*
 * Delete one branch node (its children already deleted) from below its
 * parent. Its permissions stay, for the watch check at commit.
 */
void
txn_node_delete(struct txn *txn, struct txn_node *parent,
    struct txn_node *tn)
{
	const char	*name = path_basename(tn->path);
	int		 i;

	if (tn->perms != NULL && tn->perms->p[0].domid == txn->actor.domid)
		txn->owned_delta--;
	tn->exists = false;
	tn->fresh = true;
	tn->value_set = tn->perms_set = false;
	free(tn->value);
	tn->value = NULL;
	tn->vlen = 0;
	txn_names_free(tn->added, tn->nadded);
	tn->added = NULL;
	tn->nadded = 0;
	txn_names_free(tn->removed, tn->nremoved);
	tn->removed = NULL;
	tn->nremoved = 0;
	txn_node_changed(txn, tn);

	i = txn_names_find(parent->added, parent->nadded, name);
	if (i >= 0)
		txn_names_del(parent->added, &parent->nadded, i);
	else
		txn_names_add(&parent->removed, &parent->nremoved, name);
	txn_node_changed(txn, parent);
}

/* Ask for watches to fire on a path when the transaction commits. A
 * path fired both ways fires as TXN_EVENT_TREE, at its first place. */
void
txn_event(struct txn *txn, struct txn_node *tn, int how)
{
	if (tn->event == 0)
		tn->event_seq = ++txn->nevents;
	if (tn->event != TXN_EVENT_TREE)
		tn->event = (uint8_t)how;
}

/* Has anything the branch read changed in the tree since? */
static bool
txn_conflicts(struct txn *txn)
{
	struct tree	*tree = txn->store->tree;
	struct txn_node	*tn;
	struct node	*n;

	TAILQ_FOREACH(tn, &txn->nodes, entry) {
		n = tree_lookup(tree, tn->path);
		if ((n != NULL) != tn->base_exists)
			return (true);
		if (n == NULL)
			continue;
		if (n->vgen != tn->base_vgen)
			return (true);
		if (tn->children_read && n->gen != tn->base_gen)
			return (true);
	}
	return (false);
}

/* Order changed nodes parents first, then by first change. */
static int
txn_change_cmp(const void *a, const void *b)
{
	const struct txn_node	*x = *(struct txn_node *const *)a;
	const struct txn_node	*y = *(struct txn_node *const *)b;

	if (x->depth != y->depth)
		return (x->depth < y->depth ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* Order nodes with events by their first event. */
static int
txn_event_cmp(const void *a, const void *b)
{
	const struct txn_node	*x = *(struct txn_node *const *)a;
	const struct txn_node	*y = *(struct txn_node *const *)b;

	return (x->event_seq < y->event_seq ? -1 : x->event_seq > y->event_seq);
}

/* Apply one changed node's final state to the tree (its parent exists). */
static void
txn_apply_node(struct tree *tree, struct txn_node *tn, uint64_t gen)
{
	struct node	*n, *parent;
	char		*ppath;

	n = tree_lookup(tree, tn->path);
	if (n == NULL) {
		ppath = path_parent(tn->path);
		parent = tree_lookup(tree, ppath);
		if (parent == NULL)
			log_fatal("commit: no parent for %s", tn->path);
		free(ppath);
		tree_add(tree, parent, tn->path, perms_ref(tn->perms),
		    tn->value, tn->vlen, gen);
		return;
	}
	if (tn->value_set)
		tree_set_value(tree, n, tn->value, tn->vlen, gen);
	if (tn->perms_set && !perms_equal(n->perms, tn->perms))
		tree_set_perms(tree, n, perms_ref(tn->perms), gen);
}

/*
 * The one commit path: apply a branch's changes to the tree as one new
 * generation, tell the history, then fire the watches. Deletions go
 * first (a node deleted and made again replaces the committed one),
 * then creations and updates, parents before children.
 */
static void
store_commit(struct txn *txn)
{
	struct store		*store = txn->store;
	struct txn_node		*tn, **changed, **fired;
	struct store_change	*chg;
	struct node		*n;
	size_t			 nchanged = 0, nfired = 0, i;
	uint64_t		 gen = store->gen + 1;

	changed = xcalloc(txn->nnodes, sizeof *changed);
	fired = xcalloc(txn->nnodes, sizeof *fired);
	TAILQ_FOREACH(tn, &txn->nodes, entry) {
		if (tn->seq != 0)
			changed[nchanged++] = tn;
		if (tn->event != 0)
			fired[nfired++] = tn;
	}
	if (nchanged == 0 && nfired == 0) {
		free(changed);
		free(fired);
		return;
	}
	qsort(changed, nchanged, sizeof *changed, txn_change_cmp);
	qsort(fired, nfired, sizeof *fired, txn_event_cmp);

	for (i = 0; i < nchanged; i++) {
		tn = changed[i];
		if (tn->exists && !(tn->fresh && tn->base_exists))
			continue;
		n = tree_lookup(store->tree, tn->path);
		if (n != NULL && n->parent != NULL)
			tree_remove(store->tree, n, gen, NULL, NULL);
	}
	chg = xcalloc(nchanged, sizeof *chg);
	for (i = 0; i < nchanged; i++) {
		tn = changed[i];
		if (tn->exists)
			txn_apply_node(store->tree, tn, gen);
		chg[i].path = tn->path;
		chg[i].deleted = !tn->exists;
		chg[i].created = tn->exists && tn->fresh;
		chg[i].value = tn->value;
		chg[i].vlen = tn->vlen;
		chg[i].perms = tn->perms;
	}
	store->gen = gen;
	store->commits++;
	if (store->commit_cb != NULL && nchanged != 0)
		store->commit_cb(gen, &txn->actor, !txn_is_implicit(txn), chg,
		    nchanged, store->commit_arg);
	free(chg);

	for (i = 0; i < nfired; i++) {
		tn = fired[i];
		watch_fire(store->watches, tn->path,
		    tn->event == TXN_EVENT_EXACT, tn->perms, tn->old_perms);
	}
	free(changed);
	free(fired);
}

/* Show the changes at or below the store's guarded prefix to its check
 * (store.h); nodes whose children alone changed are not shown. */
static int
txn_check_special(struct txn *txn)
{
	const struct store_special	*sp = txn->store->special;
	struct store_change		*chg;
	struct txn_node			*tn;
	size_t				 n = 0;
	int				 r = 0;

	if (sp == NULL || sp->check == NULL)
		return (0);
	chg = xcalloc(txn->nnodes, sizeof *chg);
	TAILQ_FOREACH(tn, &txn->nodes, entry) {
		if (tn->seq == 0 || !path_is_below(tn->path, sp->guard) ||
		    (tn->exists && !tn->value_set && !tn->perms_set))
			continue;
		chg[n].path = tn->path;
		chg[n].deleted = !tn->exists;
		chg[n].value = tn->value;
		chg[n].vlen = tn->vlen;
		chg[n].perms = tn->perms;
		n++;
	}
	if (n != 0)
		r = sp->check(chg, n, &txn->actor, sp->arg);
	free(chg);
	return (r);
}

/*
 * End a transaction: commit (0, or -EAGAIN if something it read changed
 * since, or the error of the special nodes' check) or abort. The caller
 * frees it either way.
 */
int
txn_end(struct txn *txn, bool commit)
{
	int	r;

	if (!commit)
		return (0);
	if (!txn_is_implicit(txn) && txn_conflicts(txn)) {
		txn->store->conflicts++;
		log_debug("transaction %u conflicts", txn->id);
		return (-EAGAIN);
	}
	/* Branches that do not conflict may each stay under the node quota
	 * and together go over it: check again at the end, as Xen does. */
	if (!txn->actor.privileged && txn->store->quota != NULL &&
	    txn->owned_delta > 0 &&
	    (int64_t)tree_owned(txn->store->tree, txn->actor.domid) +
	    txn->owned_delta > (int64_t)txn->store->quota->nodes)
		return (-ENOSPC);
	if ((r = txn_check_special(txn)) != 0)
		return (r);
	store_commit(txn);
	return (0);
}
