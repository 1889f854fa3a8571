/*
 * Transactions are branches of the store. Starting one costs O(1): the
 * branch holds only the nodes the transaction touches (read or changed).
 * A transaction reads the store as it was when it started (a snapshot):
 * while transactions are open, every commit logs what it changed, as the
 * state before (txn_log), and a branch's first look at a node goes
 * through that log back to its start generation.
 *
 * Ending it checks what it read (existence, value, permissions, list of
 * children, as flagged by the operations in store.c) against the tree
 * now: if all is as at its start, the result is the same as running it
 * alone now, so its changes are applied; else it fails with EAGAIN. A
 * transaction that changed nothing always succeeds: it serializes at its
 * start. The cost is proportional to what it touched.
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
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
	uint64_t		 base_gen;	/* gen at the start */
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
	uint8_t			 read;		/* TXN_READ_* seen of the base */
	bool			 base_exists;
	bool			 children_read;
	bool			 exists;
	bool			 fresh;		/* committed children hidden */
	bool			 implicit;	/* made only as a missing parent:
						   no value or permissions of
						   its own */
	bool			 absence_read;	/* a request saw it missing */
	bool			 listed;	/* its children were listed */
	bool			 value_set;
	bool			 perms_set;
	char			 path[];
};

struct txn {
	struct store		*store;
	uint32_t		 id;
	struct actor		 actor;
	uint64_t		 start;		/* the generation it reads */
	bool			 open;		/* on the log's list */
	TAILQ_ENTRY(txn)	 open_entry;
	void			*index;		/* tsearch(3) by path */
	TAILQ_HEAD(, txn_node)	 nodes;
	uint32_t		 nnodes;
	uint64_t		 nchanges;
	uint32_t		 nevents;
	int32_t			 owned_delta;	/* nodes of the actor's
						   domain made less deleted */
	uint32_t		 culprit;	/* whose commit made it fail */
};

#define UNDO_NODE	0	/* the node before the commit */
#define UNDO_ADD	1	/* a child was added to the node's list */
#define UNDO_DEL	2	/* a child was removed from the node's list */

/* One change a commit made to one path, as what was there before. */
struct txn_undo {
	TAILQ_ENTRY(txn_undo)	 log_entry;	/* every record, oldest first */
	TAILQ_ENTRY(txn_undo)	 path_entry;	/* the path's, oldest first */
	struct txn_upath	*up;
	uint64_t		 gen;		/* the commit that changed it */
	uint64_t		 node_gen;	/* the node's gen before it */
	uint32_t		 domid;		/* who committed it */
	size_t			 size;		/* bytes held */
	int			 kind;		/* UNDO_* */
	bool			 existed;	/* UNDO_NODE: the node before */
	struct perms		*perms;
	char			*value;
	uint32_t		 vlen;
	char			*child;		/* UNDO_ADD, UNDO_DEL */
	char			*prev;		/* UNDO_DEL: sibling before it */
};

/* The records of one path. */
struct txn_upath {
	const char		*key;		/* == path */
	TAILQ_HEAD(txn_undo_list, txn_undo) recs;
	char			 path[];
};

/*
 * The undo log: kept only while explicit transactions are open, and only
 * back to the oldest one's start. Past max bytes, the oldest commits'
 * records go, and transactions that started before them lose their
 * snapshot (they fail with EAGAIN at the end).
 */
struct txn_log {
	struct hmap		*index;		/* txn_upath by path */
	TAILQ_HEAD(, txn_undo)	 recs;
	TAILQ_HEAD(, txn)	 open;		/* oldest start first */
	unsigned		 nopen;
	uint32_t		 committer;	/* domid of the commit logged */
	size_t			 bytes;
	uint64_t		 horizon;	/* snapshots before it are lost */
};

/* The state of a node at a transaction's start. */
struct txn_base {
	bool		 exists;
	const char	*value;
	uint32_t	 vlen;
	struct perms	*perms;
	uint64_t	 gen;
};

/* A list of children's names (pointing into the tree and the log). */
struct txn_names {
	const char	**v;
	uint32_t	  n;
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

/* Free one undo record (already off its lists). */
static void
txn_undo_free(struct txn_undo *u)
{
	perms_unref(u->perms);
	free(u->value);
	free(u->child);
	free(u->prev);
	free(u);
}

/* Drop the oldest undo record, and its path's entry when it was the last. */
static void
txn_log_drop_first(struct txn_log *log)
{
	struct txn_undo		*u = TAILQ_FIRST(&log->recs);
	struct txn_upath	*up = u->up;

	TAILQ_REMOVE(&log->recs, u, log_entry);
	TAILQ_REMOVE(&up->recs, u, path_entry);
	log->bytes -= u->size;
	txn_undo_free(u);
	if (TAILQ_EMPTY(&up->recs)) {
		hmap_remove(log->index, up->path);
		log->bytes -= sizeof *up + strlen(up->path) + 1;
		free(up);
	}
}

/* Forget the records no open transaction needs: those of commits up to
 * the oldest one's start (all of them when none is open). */
static void
txn_log_trim(struct store *store)
{
	struct txn_log	*log = store->txn_log;
	struct txn	*oldest;

	if (log == NULL)
		return;
	oldest = TAILQ_FIRST(&log->open);
	while (!TAILQ_EMPTY(&log->recs) && (oldest == NULL ||
	    TAILQ_FIRST(&log->recs)->gen <= oldest->start))
		txn_log_drop_first(log);
}

/* Keep the log under its bound by dropping the oldest commits' records;
 * transactions that started before them lose their snapshot. */
static void
txn_log_bound(struct store *store)
{
	struct txn_log	*log = store->txn_log;
	uint64_t	 gen;

	while (log->bytes > store->txn_log_max &&
	    !TAILQ_EMPTY(&log->recs)) {
		gen = TAILQ_FIRST(&log->recs)->gen;
		while (!TAILQ_EMPTY(&log->recs) &&
		    TAILQ_FIRST(&log->recs)->gen == gen)
			txn_log_drop_first(log);
		if (gen > log->horizon) {
			log->horizon = gen;
			/* Logged at the 1st, 2nd, 4th, 8th... time. */
			store->snapshots_lost++;
			if ((store->snapshots_lost &
			    (store->snapshots_lost - 1)) == 0)
				log_info("transaction log over %zu bytes: "
				    "snapshots before generation %llu lost",
				    store->txn_log_max,
				    (unsigned long long)gen);
		}
	}
}

/* Free the undo log (the store is going). */
void
txn_log_free(struct store *store)
{
	struct txn_log	*log = store->txn_log;
	struct txn	*txn;

	if (log == NULL)
		return;
	while (!TAILQ_EMPTY(&log->recs))
		txn_log_drop_first(log);
	while ((txn = TAILQ_FIRST(&log->open)) != NULL) {
		TAILQ_REMOVE(&log->open, txn, open_entry);
		txn->open = false;
	}
	hmap_free(log->index);
	free(log);
	store->txn_log = NULL;
}

/* How many bytes the undo log holds. */
size_t
txn_log_bytes(const struct store *store)
{
	return (store->txn_log != NULL ? store->txn_log->bytes : 0);
}

/* Is the commit about to be made worth logging (someone may read it)? */
static bool
txn_log_active(const struct store *store)
{
	return (store->txn_log != NULL && !TAILQ_EMPTY(&store->txn_log->open));
}

/* Append a record for path, made by the commit of generation gen. */
static struct txn_undo *
txn_log_add(struct store *store, const char *path, int kind, uint64_t gen,
    uint64_t node_gen)
{
	struct txn_log		*log = store->txn_log;
	struct txn_upath	*up;
	struct txn_undo		*u;
	size_t			 plen;

	up = hmap_find(log->index, path);
	if (up == NULL) {
		plen = strlen(path) + 1;
		up = xcalloc(1, sizeof *up + plen);
		memcpy(up->path, path, plen);
		up->key = up->path;
		TAILQ_INIT(&up->recs);
		hmap_insert(log->index, up);
		log->bytes += sizeof *up + plen;
	}
	u = xcalloc(1, sizeof *u);
	u->up = up;
	u->kind = kind;
	u->gen = gen;
	u->node_gen = node_gen;
	u->domid = log->committer;
	u->size = sizeof *u;
	TAILQ_INSERT_TAIL(&up->recs, u, path_entry);
	TAILQ_INSERT_TAIL(&log->recs, u, log_entry);
	return (u);
}

/* Log a node's state (n NULL: absent) before the commit of generation gen
 * first changes it. */
static void
txn_log_node(struct store *store, const char *path, const struct node *n,
    uint64_t gen)
{
	struct txn_upath	*up = hmap_find(store->txn_log->index, path);
	struct txn_undo		*u;

	if (up != NULL) {
		TAILQ_FOREACH_REVERSE(u, &up->recs, txn_undo_list,
		    path_entry) {
			if (u->gen != gen)
				break;
			if (u->kind == UNDO_NODE)
				return;
		}
	}
	u = txn_log_add(store, path, UNDO_NODE, gen, n != NULL ? n->gen : 0);
	if (n != NULL) {
		u->existed = true;
		u->perms = perms_ref(n->perms);
		if (n->vlen != 0)
			u->value = xmemdup(n->value, n->vlen);
		u->vlen = n->vlen;
		u->size += n->vlen;
	}
	store->txn_log->bytes += u->size;
}

/* Log a child added to (prev NULL) or removed from a node's list. */
static void
txn_log_child(struct store *store, const struct node *parent, int kind,
    const char *child, const char *prev, uint64_t gen)
{
	struct txn_undo	*u;

	u = txn_log_add(store, parent->path, kind, gen, parent->gen);
	u->child = xstrdup(child);
	u->size += strlen(child) + 1;
	if (prev != NULL) {
		u->prev = xstrdup(prev);
		u->size += strlen(prev) + 1;
	}
	store->txn_log->bytes += u->size;
}

/* Log the removal of a subtree, as if it went node by node: children
 * before parents, each list from its last child back (so that undoing
 * the records in reverse rebuilds every list in order). */
static void
txn_log_removal(struct store *store, const struct node *n, uint64_t gen)
{
	const struct node	*c;

	for (c = n->child_last; c != NULL; c = c->prev)
		txn_log_removal(store, c, gen);
	txn_log_node(store, n->path, n, gen);
	txn_log_child(store, n->parent, UNDO_DEL, tree_node_name(n),
	    n->prev != NULL ? tree_node_name(n->prev) : NULL, gen);
}

/* Has the transaction lost its snapshot to the log's bound? */
static bool
txn_stale(const struct txn *txn)
{
	const struct txn_log	*log = txn->store->txn_log;

	return (!txn_is_implicit(txn) && log != NULL &&
	    txn->start < log->horizon);
}

/* The records of a path made after the transaction started; NULL if
 * none (the node is as it was then). */
static struct txn_undo *
txn_log_since(const struct txn *txn, const char *path)
{
	const struct txn_log	*log = txn->store->txn_log;
	struct txn_upath	*up;
	struct txn_undo		*u;

	if (log == NULL || txn_is_implicit(txn) || txn_stale(txn) ||
	    (up = hmap_find(log->index, path)) == NULL)
		return (NULL);
	TAILQ_FOREACH(u, &up->recs, path_entry) {
		if (u->gen > txn->start)
			return (u);
	}
	return (NULL);
}

/* A node as it was when the transaction started. */
static void
txn_base(const struct txn *txn, const char *path, struct txn_base *b)
{
	struct txn_undo	*first = txn_log_since(txn, path), *u;
	struct node	*n;

	memset(b, 0, sizeof *b);
	for (u = first; u != NULL; u = TAILQ_NEXT(u, path_entry)) {
		if (u->kind != UNDO_NODE)
			continue;
		b->exists = u->existed;
		b->value = u->value;
		b->vlen = u->vlen;
		b->perms = u->perms;
		b->gen = first->node_gen;
		return;
	}
	if ((n = tree_lookup(txn->store->tree, path)) == NULL)
		return;
	b->exists = true;
	b->value = n->value;
	b->vlen = n->vlen;
	b->perms = n->perms;
	b->gen = first != NULL ? first->node_gen : n->gen;
}

/* Find a name in a list of names; its index or -1. */
static int
txn_names_index(const struct txn_names *l, const char *name)
{
	uint32_t	i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], name) == 0)
			return ((int)i);
	}
	return (-1);
}

/* A node's children in the tree now. */
static void
txn_names_now(const struct node *n, struct txn_names *l)
{
	const struct node	*c;

	l->n = 0;
	l->v = xcalloc(n != NULL ? n->nchildren + 1 : 1, sizeof *l->v);
	for (c = n != NULL ? n->child_first : NULL; c != NULL; c = c->next)
		l->v[l->n++] = tree_node_name(c);
}

/*
 * A node's children when the transaction started: the list now with the
 * records since undone, newest first (an addition went last; a removal
 * goes back after the sibling it followed).
 */
static void
txn_names_base(const struct txn *txn, const char *path, struct txn_names *l)
{
	struct txn_undo	*first = txn_log_since(txn, path), *u;
	int		 i;
	uint32_t	 cap;

	txn_names_now(tree_lookup(txn->store->tree, path), l);
	if (first == NULL)
		return;
	cap = l->n + 1;
	for (u = TAILQ_LAST(&first->up->recs, txn_undo_list); u != NULL;
	    u = TAILQ_PREV(u, txn_undo_list, path_entry)) {
		if (u->kind == UNDO_ADD) {
			for (i = (int)l->n - 1; i >= 0; i--) {
				if (strcmp(l->v[i], u->child) == 0)
					break;
			}
			if (i < 0)
				log_fatal("undo log: %s not in %s", u->child,
				    path);
			memmove(l->v + i, l->v + i + 1, (l->n - (uint32_t)i -
			    1) * sizeof *l->v);
			l->n--;
		} else if (u->kind == UNDO_DEL) {
			i = u->prev != NULL ? txn_names_index(l, u->prev) + 1
			    : 0;
			if (u->prev != NULL && i == 0)
				log_fatal("undo log: %s not in %s", u->prev,
				    path);
			if (l->n + 1 > cap) {
				cap = 2 * cap;
				l->v = xrealloc(l->v, cap * sizeof *l->v);
			}
			memmove(l->v + i + 1, l->v + i, (l->n - (uint32_t)i) *
			    sizeof *l->v);
			l->v[i] = u->child;
			l->n++;
		}
		if (u == first)
			break;
	}
}

/* Start a transaction (id 0: an implicit one for a single request). */
struct txn *
txn_create(struct store *store, uint32_t id, const struct actor *actor)
{
	struct txn	*txn = xcalloc(1, sizeof *txn);

	txn->store = store;
	txn->id = id;
	txn->actor = *actor;
	txn->start = store->gen;
	txn->culprit = DOMID_INVALID;
	TAILQ_INIT(&txn->nodes);
	if (id == 0)
		return (txn);
	if (store->txn_log == NULL) {
		store->txn_log = xcalloc(1, sizeof *store->txn_log);
		store->txn_log->index = hmap_create();
		TAILQ_INIT(&store->txn_log->recs);
		TAILQ_INIT(&store->txn_log->open);
	}
	TAILQ_INSERT_TAIL(&store->txn_log->open, txn, open_entry);
	store->txn_log->nopen++;
	txn->open = true;
	return (txn);
}

/* The transaction no longer reads: the log may forget what only it
 * needed. */
static void
txn_close(struct txn *txn)
{
	if (!txn->open)
		return;
	TAILQ_REMOVE(&txn->store->txn_log->open, txn, open_entry);
	txn->store->txn_log->nopen--;
	txn->open = false;
	txn_log_trim(txn->store);
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
	txn_close(txn);
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
 * The branch's node for a path, made on first touch from the node as it
 * was at the transaction's start (its existence is read). created, if
 * given, says whether it is new to the branch (for the caller's quota of
 * touched nodes).
 */
struct txn_node *
txn_node_get(struct txn *txn, const char *path, int *created)
{
	void		*const *found;
	struct txn_node	*tn;
	struct txn_base	 b;
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
	txn_base(txn, path, &b);
	if (b.exists) {
		tn->base_exists = tn->exists = true;
		tn->base_gen = b.gen;
		tn->perms = perms_ref(b.perms);
		if (b.vlen != 0)
			tn->value = xmemdup(b.value, b.vlen);
		tn->vlen = b.vlen;
	}
	if (tsearch(tn, &txn->index, txn_cmp) == NULL)
		log_fatal("tsearch failed");
	TAILQ_INSERT_TAIL(&txn->nodes, tn, entry);
	txn->nnodes++;
	if (created != NULL)
		*created = 1;
	return (tn);
}

/* Note that the transaction looked at a node's value or permissions
 * (TXN_READ_*): what it saw must not have changed when it commits. What
 * the branch set itself does not count. */
void
txn_node_read(struct txn_node *tn, int what)
{
	if (!tn->exists) {
		tn->absence_read = true;
		return;
	}
	/* What the branch set itself is not read from the tree; the empty
	 * value of a node it made only if missing is (one made meanwhile
	 * would have had another). */
	if (tn->value_set && !tn->implicit)
		what &= ~TXN_READ_VALUE;
	if (tn->perms_set)
		what &= ~TXN_READ_PERMS;
	tn->read |= (uint8_t)what;
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
 * List a branch node's children: those it had at the transaction's start
 * that the branch has not deleted (unless it replaced the node), then
 * those it created. Listing reads the list. Stops early if cb returns
 * non-zero, and returns that.
 */
int
txn_node_children(struct txn *txn, struct txn_node *tn, store_child_cb *cb,
    void *arg)
{
	struct txn_names	 l;
	uint32_t		 i;
	int			 r = 0;

	if (!tn->exists)
		return (0);
	tn->listed = true;
	if (!tn->fresh && tn->base_exists) {
		tn->children_read = true;
		txn_names_base(txn, tn->path, &l);
		for (i = 0; i < l.n && r == 0; i++) {
			if (tn->nremoved != 0 && txn_names_find(tn->removed,
			    tn->nremoved, l.v[i]) >= 0)
				continue;
			r = cb(l.v[i], arg);
		}
		free(l.v);
		if (r != 0)
			return (r);
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

/* The node was made only as a missing parent of another. */
void
txn_node_implicit(struct txn_node *tn)
{
	tn->implicit = true;
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
	tn->implicit = false;
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
	tn->implicit = false;
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
	tn->implicit = false;
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

/* Are two lists of names the same, in the same order? */
static bool
txn_names_equal(const struct txn_names *a, const struct txn_names *b)
{
	uint32_t	i;

	if (a->n != b->n)
		return (false);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]) != 0)
			return (false);
	}
	return (true);
}

/* Is what the branch read of a node at its start still so now? */
static bool
txn_node_unchanged(struct txn *txn, struct txn_node *tn)
{
	struct txn_names	 then, now;
	struct txn_base		 b;
	struct node		*n;
	bool			 same;

	if (txn_log_since(txn, tn->path) == NULL)
		return (true);		/* no commit touched it since */
	txn_base(txn, tn->path, &b);
	n = tree_lookup(txn->store->tree, tn->path);
	/* Made here, made meanwhile by another commit too: nothing here
	 * depended on its absence (no request saw it missing, nothing
	 * listed it, nothing read the empty value of a node made only if
	 * missing) and it is as this branch made it (same permissions, so
	 * what the branch made below it inherited the same): running the
	 * branch alone now would have found it and used it. */
	if (!b.exists && n != NULL && tn->exists && tn->fresh &&
	    !tn->absence_read && !tn->listed &&
	    !(tn->read & TXN_READ_VALUE) && perms_equal(n->perms, tn->perms))
		return (true);
	if (b.exists != (n != NULL))
		return (false);
	if (n == NULL)
		return (true);
	if ((tn->read & TXN_READ_VALUE) && (b.vlen != n->vlen ||
	    (b.vlen != 0 && memcmp(b.value, n->value, b.vlen) != 0)))
		return (false);
	if ((tn->read & TXN_READ_PERMS) && !perms_equal(b.perms, n->perms))
		return (false);
	if (!tn->children_read)
		return (true);
	txn_names_base(txn, tn->path, &then);
	txn_names_now(n, &now);
	same = txn_names_equal(&then, &now);
	free(then.v);
	free(now.v);
	return (same);
}

/* Has anything the branch read changed in the tree since its start? If
 * so, note whose commit first changed it. */
static bool
txn_conflicts(struct txn *txn)
{
	struct txn_node	*tn;

	if (txn_stale(txn))
		return (true);
	TAILQ_FOREACH(tn, &txn->nodes, entry) {
		if (!txn_node_unchanged(txn, tn)) {
			txn->culprit = txn_log_since(txn, tn->path)->domid;
			return (true);
		}
	}
	return (false);
}

/* The domain whose commit made the transaction fail with EAGAIN
 * (DOMID_INVALID if none is known). */
uint32_t
txn_culprit(const struct txn *txn)
{
	return (txn->culprit);
}

/* How many explicit transactions are open. */
unsigned
txn_nopen(const struct store *store)
{
	return (store->txn_log != NULL ? store->txn_log->nopen : 0);
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

/* Apply one changed node's final state to the tree (its parent exists),
 * logging what it replaces when transactions are open. */
static bool
txn_apply_node(struct store *store, struct txn_node *tn, uint64_t gen)
{
	struct tree	*tree = store->tree;
	struct node	*n, *parent;
	char		*ppath;
	bool		 logged = txn_log_active(store);

	n = tree_lookup(tree, tn->path);
	if (n == NULL) {
		ppath = path_parent(tn->path);
		parent = tree_lookup(tree, ppath);
		if (parent == NULL)
			log_fatal("commit: no parent for %s", tn->path);
		free(ppath);
		if (logged) {
			txn_log_node(store, tn->path, NULL, gen);
			txn_log_child(store, parent, UNDO_ADD,
			    path_basename(tn->path), NULL, gen);
		}
		tree_add(tree, parent, tn->path, perms_ref(tn->perms),
		    tn->value, tn->vlen, gen);
		return (true);
	}
	if (logged && (tn->value_set || (tn->perms_set &&
	    !perms_equal(n->perms, tn->perms))))
		txn_log_node(store, tn->path, n, gen);
	if (tn->value_set)
		tree_set_value(tree, n, tn->value, tn->vlen, gen);
	if (tn->perms_set && !perms_equal(n->perms, tn->perms))
		tree_set_perms(tree, n, perms_ref(tn->perms), gen);
	return (false);
}

/*
 * The one commit path: apply a branch's changes to the tree as one new
 * generation, tell the history, then fire the watches. Deletions go
 * first (a node deleted and made again replaces the committed one),
 * then creations and updates, parents before children. What the history
 * and the watches see of a node is the tree's after the commit (a blind
 * write keeps permissions others set meanwhile).
 */
static void
store_commit(struct txn *txn)
{
	struct store		*store = txn->store;
	struct txn_node		*tn, **changed, **fired;
	struct store_change	*chg;
	struct node		*n;
	struct perms		*old;
	size_t			 nchanged = 0, nfired = 0, i;
	uint64_t		 gen = store->gen + 1;

	changed = xcalloc(txn->nnodes, sizeof *changed);
	fired = xcalloc(txn->nnodes, sizeof *fired);
	TAILQ_FOREACH(tn, &txn->nodes, entry) {
		/* A missing parent another commit has made meanwhile (the
		 * conflict check found it as this branch made it): kept. */
		if (tn->implicit && tn->exists && !tn->base_exists &&
		    tree_lookup(store->tree, tn->path) != NULL)
			continue;
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
	if (store->txn_log != NULL)
		store->txn_log->committer = txn->actor.domid;

	/* A SET_PERMS's watchers are checked against the list it replaced
	 * in the tree, not the one the branch first saw. */
	for (i = 0; i < nfired; i++) {
		tn = fired[i];
		if (tn->old_perms != NULL &&
		    (n = tree_lookup(store->tree, tn->path)) != NULL) {
			old = tn->old_perms;
			tn->old_perms = perms_ref(n->perms);
			perms_unref(old);
		}
	}
	for (i = 0; i < nchanged; i++) {
		tn = changed[i];
		if (tn->exists && !(tn->fresh && tn->base_exists))
			continue;
		n = tree_lookup(store->tree, tn->path);
		if (n == NULL || n->parent == NULL)
			continue;
		if (txn_log_active(store))
			txn_log_removal(store, n, gen);
		tree_remove(store->tree, n, gen, NULL, NULL);
	}
	chg = xcalloc(nchanged, sizeof *chg);
	for (i = 0; i < nchanged; i++) {
		tn = changed[i];
		if (tn->exists)
			chg[i].created = txn_apply_node(store, tn, gen);
	}
	for (i = 0; i < nchanged; i++) {
		tn = changed[i];
		n = tn->exists ? tree_lookup(store->tree, tn->path) : NULL;
		chg[i].path = tn->path;
		chg[i].deleted = n == NULL;
		chg[i].value = n != NULL ? n->value : NULL;
		chg[i].vlen = n != NULL ? n->vlen : 0;
		chg[i].perms = n != NULL ? n->perms : tn->perms;
	}
	store->gen = gen;
	store->commits++;
	if (store->commit_cb != NULL && nchanged != 0)
		store->commit_cb(gen, &txn->actor, !txn_is_implicit(txn), chg,
		    nchanged, store->commit_arg);
	free(chg);
	if (txn_log_active(store))
		txn_log_bound(store);

	for (i = 0; i < nfired; i++) {
		tn = fired[i];
		n = tree_lookup(store->tree, tn->path);
		watch_fire(store->watches, tn->path,
		    tn->event == TXN_EVENT_EXACT, n != NULL ? n->perms :
		    tn->perms, tn->old_perms);
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

/* Has the branch changed anything? */
static bool
txn_changed(const struct txn *txn)
{
	return (txn->nchanges != 0 || txn->nevents != 0);
}

/*
 * End a transaction: commit (0, or -EAGAIN if something it read changed
 * since its start, or the error of the special nodes' check) or abort.
 * One that changed nothing always succeeds (unless it lost its
 * snapshot). The caller frees it either way.
 */
int
txn_end(struct txn *txn, bool commit)
{
	bool	stale = txn_stale(txn), conflict;
	int	r;

	if (!commit || (!txn_changed(txn) && !stale)) {
		txn_close(txn);
		return (0);
	}
	conflict = !txn_is_implicit(txn) && txn_conflicts(txn);
	txn_close(txn);
	if (conflict) {
		txn->store->conflicts++;
		log_debug("transaction %u conflicts%s", txn->id,
		    stale ? " (its snapshot was lost)" : "");
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
