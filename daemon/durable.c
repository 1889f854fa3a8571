/*
 * The store made durable: the engine's persistence callbacks wired to the
 * database's writer, and a restart's way back from the database to a
 * running store serving the same guests (docs/store.md, "Restart").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "db.h"
#include "durable.h"
#include "log.h"
#include "xmalloc.h"
#include "xsd.h"

/* The durable store of a running daemon. */
struct durable {
	struct xsd	*xsd;
	struct db	*db;
	struct event	*check;		/* once a second */
	uint64_t	 resyncs;
	uint32_t	 txn_epoch;	/* this run's (xsd_restore_txn_epoch) */
};

/* What a restart gives back after the tree: applied once the tree is. */
struct restore {
	struct xsd	*xsd;
	uint64_t	 nodes;
	uint64_t	 bad;
	struct db_domain *doms;
	size_t		 ndoms;
	struct rwatch {
		uint32_t domid;
		char	*path;
		char	*token;
		int	 depth;
	}		*watches;
	size_t		 nwatches;
	uint32_t	 txn_epoch;	/* the last run's */
	bool		 had_txn_epoch;
};

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void
durable_commit(uint64_t gen, uint32_t origin, bool in_txn,
    const struct xsd_change *xc, size_t n, void *arg)
{
	struct db_change	 one, *dc;
	size_t			 i;

	dc = n == 1 ? &one : xcalloc(n, sizeof *dc);
	for (i = 0; i < n; i++) {
		dc[i].path = xc[i].path;
		dc[i].deleted = xc[i].deleted;
		dc[i].created = xc[i].created;
		dc[i].value = xc[i].value;
		dc[i].vlen = xc[i].vlen;
		dc[i].perms = xc[i].perms;
	}
	db_commit(arg, gen, now_ns(), origin, in_txn, dc, n);
	if (dc != &one)
		free(dc);
}

static void
durable_perms_forget(uint64_t gen, uint32_t domid, void *arg)
{
	db_perms_forget(arg, gen, domid);
}

static void
durable_domain_put(const struct xsd_domain_rec *rec, void *arg)
{
	struct db_domain	d = { rec->domid, rec->gfn, rec->port,
				      rec->target, 0 };

	db_domain_put(arg, &d);
}

static void
durable_domain_del(uint32_t domid, void *arg)
{
	db_domain_del(arg, domid);
}

static void
durable_watch_put(uint32_t domid, const char *path, const char *token,
    int depth, void *arg)
{
	struct db_watch	w = { domid, path, token, depth < 0 ? 0 :
			      (uint32_t)depth + 1 };

	db_watch_put(arg, &w);
}

static void
durable_watch_del(uint32_t domid, const char *path, const char *token,
    void *arg)
{
	struct db_watch	w = { domid, path, token, 0 };

	db_watch_del(arg, &w);
}

/* A special node's permissions: a meta record "perms:<name>". */
#define DURABLE_SPECIAL	"perms:"
/* The run's epoch of transaction ids (xsd_restore_txn_epoch): a meta
 * record, written at each start before any guest is served. */
#define DURABLE_TXN_EPOCH "txn-epoch"

static void
durable_special_perms(const char *name, const char *perms, void *arg)
{
	char	*key;

	xasprintf(&key, DURABLE_SPECIAL "%s", name);
	db_meta_put(arg, key, perms);
	free(key);
}

static void
durable_txn_epoch(struct db *db, uint32_t epoch)
{
	char	buf[16];

	snprintf(buf, sizeof buf, "%" PRIu32, epoch);
	db_meta_put(db, DURABLE_TXN_EPOCH, buf);
}

static const struct xsd_persist_ops durable_ops = {
	durable_commit,
	durable_perms_forget,
	durable_domain_put,
	durable_domain_del,
	durable_watch_put,
	durable_watch_del,
	durable_special_perms,
};

static int
restore_node(const char *path, const void *value, uint32_t vlen,
    const char *perms, uint64_t gen, void *arg)
{
	struct restore	*r = arg;

	if (xsd_restore_node(r->xsd, path, value, vlen, perms, gen) != 0) {
		if (r->bad++ < 10)
			log_warn("restart: node %s (permissions \"%s\") cannot "
			    "be restored; left out", path, perms);
		return (0);
	}
	r->nodes++;
	return (0);
}

static int
restore_domain(const struct db_domain *d, void *arg)
{
	struct restore	*r = arg;

	r->doms = xrealloc(r->doms, (r->ndoms + 1) * sizeof *r->doms);
	r->doms[r->ndoms++] = *d;
	return (0);
}

static int
restore_watch(const struct db_watch *w, void *arg)
{
	struct restore	*r = arg;
	struct rwatch	*rw;

	r->watches = xrealloc(r->watches, (r->nwatches + 1) *
	    sizeof *r->watches);
	rw = &r->watches[r->nwatches++];
	rw->domid = w->domid;
	rw->path = xstrdup(w->path);
	rw->token = xstrdup(w->token);
	rw->depth = w->depth == 0 ? -1 : (int)w->depth - 1;
	return (0);
}

static int
restore_meta(const char *key, const char *value, void *arg)
{
	struct restore	*r = arg;
	char		*end;
	unsigned long	 epoch;

	if (strcmp(key, DURABLE_TXN_EPOCH) == 0) {
		errno = 0;
		epoch = strtoul(value, &end, 10);
		if (errno == 0 && end != value && *end == '\0' &&
		    epoch <= UINT32_MAX) {
			r->txn_epoch = (uint32_t)epoch;
			r->had_txn_epoch = true;
		} else
			log_warn("restart: the transaction id epoch \"%s\" "
			    "cannot be read; started again", value);
		return (0);
	}
	if (strncmp(key, DURABLE_SPECIAL, strlen(DURABLE_SPECIAL)) == 0 &&
	    xsd_restore_special(r->xsd, key + strlen(DURABLE_SPECIAL),
	    value) != 0)
		log_warn("restart: the permissions of %s (\"%s\") cannot be "
		    "restored; left as they start", key +
		    strlen(DURABLE_SPECIAL), value);
	return (0);
}

/* Write the store whole, as of generation gen, with this run's epoch of
 * transaction ids (a record given up while the disk failed may be it). */
static void
durable_write_whole(struct durable *d, uint64_t gen)
{
	db_store_resync(d->db, gen);
	xsd_persist_all(d->xsd);
	durable_txn_epoch(d->db, d->txn_epoch);
	db_store_resync_end(d->db);
}

/*
 * Once a second: a durable store that fell behind (its writer gave up
 * records while the disk failed, and can write again) is written whole,
 * as the store is now. It blocks the loop for the walk (0.17 s for 1.5
 * million nodes), once per failure.
 */
static void
durable_check(evutil_socket_t fd, short what, void *arg)
{
	struct durable	*d = arg;
	struct timespec	 t0, t1;
	uint64_t	 gen;

	(void)fd;
	(void)what;
	if (!db_store_behind(d->db))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gen = xsd_generation(d->xsd);
	durable_write_whole(d, gen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->resyncs++;
	log_warn("database: the durable store fell behind; the whole store "
	    "is written again at generation %llu (%.3f s)",
	    (unsigned long long)gen, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* How many times the store was written whole again. */
uint64_t
durable_resyncs(const struct durable *d)
{
	return (d->resyncs);
}

/* Stop watching over the durable store (the database is closed after). */
void
durable_free(struct durable *d)
{
	if (d == NULL)
		return;
	event_free(d->check);
	free(d);
}

/*
 * Load the store from the database (a new database gives an empty
 * store), serve again the domains it records (with a hypervisor), give
 * their watches back, then keep the database up to date with every
 * change from now on, and write the store whole again whenever the
 * database falls behind (*out, for durable_free). -errno if the database
 * cannot be read.
 */
int
durable_start(struct xsd *xsd, struct db *db, struct event_base *base,
    bool with_hv, struct durable **out)
{
	static const struct timeval	 second = { 1, 0 };
	struct durable			*d;
	static const struct db_load_ops	 ops = { restore_node, restore_domain,
					    restore_watch, restore_meta };
	struct restore			 r;
	struct timespec			 t0, t1;
	uint64_t			 gen = 0;
	uint32_t			 epoch;
	size_t				 i, served = 0;
	int				 e;

	memset(&r, 0, sizeof r);
	r.xsd = xsd;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((e = db_store_load(db, &ops, &r, &gen)) != 0)
		return (e < 0 ? e : -EIO);
	xsd_restore_gen(xsd, gen);
	/* A new epoch of transaction ids, durable before a guest can be
	 * given one: a restored guest's ids from before are then told
	 * apart from those it gets after, however many it got. */
	epoch = xsd_restore_txn_epoch(xsd, r.txn_epoch, r.had_txn_epoch);
	durable_txn_epoch(db, epoch);
	db_flush(db);
	for (i = 0; i < r.ndoms; i++) {
		if (!with_hv)
			continue;
		if (xsd_restore_domain(xsd, &(struct xsd_domain_rec){
		    r.doms[i].domid, r.doms[i].mfn, r.doms[i].port,
		    r.doms[i].target }) == 0)
			served++;
		else
			db_domain_del(db, r.doms[i].domid);
	}
	for (i = 0; i < r.nwatches; i++) {
		if (with_hv)
			xsd_restore_watch(xsd, r.watches[i].domid,
			    r.watches[i].path, r.watches[i].token,
			    r.watches[i].depth);
		free(r.watches[i].path);
		free(r.watches[i].token);
	}
	free(r.watches);
	free(r.doms);
	xsd_set_persist(xsd, &durable_ops, db);
	d = xcalloc(1, sizeof *d);
	d->xsd = xsd;
	d->db = db;
	d->txn_epoch = epoch;
	d->check = event_new(base, -1, EV_PERSIST, durable_check, d);
	event_add(d->check, &second);
	*out = d;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (gen != 0 || r.ndoms != 0) {
		log_info("restart: %llu nodes at generation %llu, %zu of %zu "
		    "domains served again, %zu watches, in %.3f s",
		    (unsigned long long)r.nodes, (unsigned long long)gen,
		    served, r.ndoms, r.nwatches,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (r.bad != 0)
			log_warn("restart: %llu nodes could not be restored",
			    (unsigned long long)r.bad);
		xsd_restore_done(xsd);
	}
	/* A durable store the daemon before left behind (the database
	 * says so at its opening) is written whole now, as loaded. */
	durable_check(-1, 0, d);
	/* A new database: the store as it starts ("/", /tool/xenstored),
	 * which no commit makes, written whole at generation 0; the
	 * history's first snapshot, so that its trees (xsc-history --at)
	 * have it. */
	if (gen == 0 && r.nodes == 0 && !db_store_behind(db))
		durable_write_whole(d, 0);
	return (0);
}
