/*
 * The store's durable copy, as the engine sees it: callbacks the daemon
 * gives (it keeps the copy in db/), fed with every commit, the domains
 * served on rings and their watches; and, at start, the way back from
 * that copy to a running store. docs/store.md, "Restart", says what a
 * restart keeps and what it loses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "domain.h"
#include "log.h"
#include "path.h"
#include "perms.h"
#include "tree.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd-private.h"

/* Permissions as text: "n0,r5". */
static char *
persist_perms_text(const struct perms *ps, char *buf, size_t size)
{
	size_t	len = perms_format(ps, buf, size), i;

	if (len == 0) {
		buf[0] = '\0';
		return (buf);
	}
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == '\0')
			buf[i] = ',';
	}
	return (buf);
}

/* The store's commit hook: the same changes, permissions as text. */
static void
persist_commit(uint64_t gen, const struct actor *a, bool in_txn,
    const struct store_change *sc, size_t n, void *arg)
{
	struct xsd		*xsd = arg;
	struct xsd_change	*xc, one;
	char			*text, *p, small[256];
	size_t			 i, tlen = 0;

	for (i = 0; i < n; i++) {
		if (!sc[i].deleted)
			tlen += perms_format_len(sc[i].perms) + 1;
	}
	/* A commit per request: a single change needs no allocation. */
	xc = n == 1 ? &one : xcalloc(n, sizeof *xc);
	p = text = tlen < sizeof small ? small : xmalloc(tlen + 1);
	for (i = 0; i < n; i++) {
		memset(&xc[i], 0, sizeof xc[i]);
		xc[i].path = sc[i].path;
		xc[i].deleted = sc[i].deleted;
		xc[i].created = sc[i].created;
		if (sc[i].deleted)
			continue;
		xc[i].value = sc[i].value;
		xc[i].vlen = sc[i].vlen;
		xc[i].perms = persist_perms_text(sc[i].perms, p,
		    text + tlen + 1 - p);
		p += strlen(p) + 1;
	}
	(void)a;
	xsd->persist->commit(gen, xsd->origin, in_txn, xc, n,
	    xsd->persist_arg);
	if (xc != &one)
		free(xc);
	if (text != small)
		free(text);
}

/* Nodes given to the durable copy at once by xsd_persist_all. */
#define PERSIST_ALL_CHUNK	256

struct persist_all {
	struct xsd		*xsd;
	struct store_change	 sc[PERSIST_ALL_CHUNK];
	size_t			 n;
};

static void
persist_all_flush(struct persist_all *pa)
{
	if (pa->n > 0)
		persist_commit(pa->xsd->store->gen, NULL, false, pa->sc, pa->n,
		    pa->xsd);
	pa->n = 0;
}

static void
persist_all_node(struct node *n, void *arg)
{
	struct persist_all	*pa = arg;
	struct store_change	*sc = &pa->sc[pa->n++];

	sc->path = n->path;
	sc->deleted = false;
	sc->created = true;
	sc->value = n->value;
	sc->vlen = n->vlen;
	sc->perms = n->perms;
	if (pa->n == PERSIST_ALL_CHUNK)
		persist_all_flush(pa);
}

/*
 * Give the durable copy the whole store as it is now, when it has fallen
 * behind (db_store_resync): every node, parents first and siblings in
 * their order, as commits of the current generation that make them; the
 * domains served and their watches; the special nodes' permissions.
 */
void
xsd_persist_all(struct xsd *xsd)
{
	struct persist_all	*pa;

	if (xsd->persist == NULL)
		return;
	pa = xcalloc(1, sizeof *pa);
	pa->xsd = xsd;
	tree_walk(xsd->store->tree->root, persist_all_node, pa);
	persist_all_flush(pa);
	free(pa);
	domain_persist_all(xsd);
	persist_special(xsd, "@introduceDomain");
	persist_special(xsd, "@releaseDomain");
}

/* Keep a durable copy through these callbacks from now on. */
void
xsd_set_persist(struct xsd *xsd, const struct xsd_persist_ops *ops,
    void *arg)
{
	xsd->persist = ops;
	xsd->persist_arg = arg;
	xsd->store->commit_cb = ops != NULL ? persist_commit : NULL;
	xsd->store->commit_arg = xsd;
}

/* A domain is served on a ring (introduced, or its target set). */
void
persist_domain(struct xsd *xsd, uint32_t domid, uint64_t gfn, uint32_t port,
    uint32_t target)
{
	struct xsd_domain_rec	rec = { domid, gfn, port, target };

	if (xsd->persist != NULL)
		xsd->persist->domain_put(&rec, xsd->persist_arg);
}

/* A domain is no longer served; its watches go with it. */
void
persist_domain_gone(struct xsd *xsd, uint32_t domid)
{
	if (xsd->persist != NULL)
		xsd->persist->domain_del(domid, xsd->persist_arg);
}

/* A ring connection's watch was added or removed. It is kept in the form
 * the guest gave: relative to its home, or absolute. */
void
persist_watch(struct conn *c, const struct watch *w, bool added)
{
	struct xsd	*xsd = c->xsd;
	const char	*path = watch_path(w);

	if (xsd->persist == NULL || !c->ring || c->actor.domid == 0)
		return;
	if (w->relative)
		path = path_relative_to(path, c->home);
	if (added)
		xsd->persist->watch_put(c->actor.domid, path, w->token,
		    w->depth, xsd->persist_arg);
	else
		xsd->persist->watch_del(c->actor.domid, path, w->token,
		    xsd->persist_arg);
}

/* Every permission list naming a gone domain was edited in place. */
void
persist_perms_forget(struct xsd *xsd, uint32_t domid)
{
	if (xsd->persist != NULL)
		xsd->persist->perms_forget(xsd->store->gen, domid,
		    xsd->persist_arg);
}

/* A special node's permissions were set, or edited by a forget. */
void
persist_special(struct xsd *xsd, const char *name)
{
	struct perms	**ps;
	char		  buf[XENSTORE_PAYLOAD_MAX];

	if (xsd->persist == NULL || xsd->persist->special_perms == NULL ||
	    (ps = domain_special_perms(xsd, name)) == NULL || *ps == NULL)
		return;
	xsd->persist->special_perms(name, persist_perms_text(*ps, buf,
	    sizeof buf), xsd->persist_arg);
}

/* Permissions from their text form. */
static int
persist_perms_parse(const char *text, struct perms **out)
{
	char		*buf = xstrdup(text), *s;
	uint32_t	 n = 1;
	size_t		 len = strlen(text) + 1;
	int		 e;

	for (s = buf; *s != '\0'; s++) {
		if (*s == ',') {
			*s = '\0';
			n++;
		}
	}
	e = perms_parse(buf, len, n, out);
	free(buf);
	return (e);
}

/*
 * One node of the durable copy, at start: added below its parent (which
 * came before it), or, for the nodes a new store has already ("/",
 * /tool...), given the copy's value and permissions. -EINVAL for a node
 * that cannot be (no parent, bad permissions): the copy is not ours to
 * guess at, and the daemon says so.
 */
int
xsd_restore_node(struct xsd *xsd, const char *path, const void *value,
    uint32_t vlen, const char *ptext, uint64_t gen)
{
	struct tree	*tree = xsd->store->tree;
	struct perms	*perms;
	struct node	*n, *parent;
	char		*ppath;

	if (path[0] != '/' || !path_valid_chars(path) ||
	    persist_perms_parse(ptext, &perms) != 0)
		return (-EINVAL);
	xsd->restored = true;
	if ((n = tree_lookup(tree, path)) != NULL) {
		tree_set_value(tree, n, value, vlen, gen);
		if (!perms_equal(n->perms, perms))
			tree_set_perms(tree, n, perms_ref(perms), gen);
		perms_unref(perms);
		return (0);
	}
	ppath = path_parent(path);
	parent = tree_lookup(tree, ppath);
	free(ppath);
	if (parent == NULL) {
		perms_unref(perms);
		return (-EINVAL);
	}
	n = tree_add(tree, parent, path, perms, value, vlen, gen);
	n->vgen = gen;
	return (0);
}

/* The generation of the copy's last commit: the next one follows it. */
void
xsd_restore_gen(struct xsd *xsd, uint64_t gen)
{
	if (gen > xsd->store->gen)
		xsd->store->gen = gen;
}

/*
 * This run's epoch of transaction ids (conn.h), from the last run's as
 * kept (had: whether one was): the next, wrapping. A new store starts at
 * 0; a copy kept before epochs were (its guests' ids from 1 up, or from
 * the time of a restart) goes on at 1. The caller keeps the result
 * durably before any guest is served, so that no two runs in a row share
 * an epoch: an id a guest holds from before a restart is never given to
 * it again after.
 */
uint32_t
xsd_restore_txn_epoch(struct xsd *xsd, uint32_t last, bool had)
{
	if (had)
		xsd->txn_epoch = (last + 1) & CONN_TXN_EPOCH_MASK;
	else
		xsd->txn_epoch = xsd->restored ? 1 : 0;
	return (xsd->txn_epoch);
}

/*
 * A domain the copy says was served: map its page and serve its ring as
 * it is, without a reset (the guest may be half way through a request),
 * and record it again. A domain that cannot be mapped is dead or going;
 * the scan in xsd_restore_done releases what it owned.
 */
int
xsd_restore_domain(struct xsd *xsd, const struct xsd_domain_rec *rec)
{
	int	e;

	if (xsd->hv == NULL)
		return (-ENOSYS);
	if ((e = domain_restore(xsd, rec->domid, rec->gfn, rec->port)) != 0)
		return (e);
	if (rec->target != UINT32_MAX)
		domain_set_target(xsd, rec->domid, rec->target);
	return (0);
}

/* A restored domain's watch: added again and fired once, so the guest
 * looks again at what it watches (events it had not read are lost). */
int
xsd_restore_watch(struct xsd *xsd, uint32_t domid, const char *path,
    const char *token, int depth)
{
	struct conn	*c = domain_conn(xsd, domid);

	if (c == NULL)
		return (-ENOENT);
	return (conn_watch(c, NULL, path, token, depth));
}

/* The copy is all given back: look at which restored domains are still
 * alive (those that died meanwhile are released now). */
void
xsd_restore_done(struct xsd *xsd)
{
	log_info("store restored: %llu nodes, generation %llu, %u domains",
	    (unsigned long long)xsd->store->tree->nnodes,
	    (unsigned long long)xsd->store->gen, xsd->ndomains);
	xsd_domains_changed(xsd);
}

/* A special node's permissions, as kept (-EINVAL: not a special name,
 * or not permissions). */
int
xsd_restore_special(struct xsd *xsd, const char *name, const char *ptext)
{
	struct perms	**ps, *perms;

	if ((ps = domain_special_perms(xsd, name)) == NULL ||
	    persist_perms_parse(ptext, &perms) != 0)
		return (-EINVAL);
	perms_unref(*ps);
	*ps = perms;
	return (0);
}
