/*
 * Guest domains. The toolstack introduces a domain (INTRODUCE): its
 * xenstore page is mapped through hv, its event channel bound, and a
 * connection made for it that runs the same request code as socket
 * clients, confined to what the domain may do. Requests are copied out
 * of the ring into an input buffer; replies and watch events queue in an
 * output buffer copied into the ring as room appears. The guest is never
 * trusted: bad indices or an over-long message cut it off (the page's
 * error field says why), and a guest that floods requests or leaves its
 * replies unread is throttled by its own quotas, never at others' cost.
 *
 * A domain goes away when released (RELEASE) or when the hypervisor
 * says it is dying (VIRQ_DOM_EXC, then a rescan, as Xen does): its
 * connection is torn down, the nodes it owns removed, its entries
 * stripped from every permission list, and @releaseDomain fired.
 */
#include <stdint.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>

#include "domain.h"
#include "hv.h"
#include "log.h"
#include "path.h"
#include "ring.h"
#include "store.h"
#include "tree.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd-private.h"

#define DOMAIN_SWEEP_MS		200	/* rings checked for missed events */
#define DOMAIN_BUDGET		16	/* ring reads per turn before yielding */
#define DOMAIN_FEATURES		(XENSTORE_SERVER_FEATURE_RECONNECTION | \
				 XENSTORE_SERVER_FEATURE_ERROR | \
				 DOMAIN_FEATURE_WATCH_DEPTH)

struct domain {
	struct xsd		*xsd;
	uint32_t		 domid;
	TAILQ_ENTRY(domain)	 entry;
	struct conn		*conn;
	struct hv_port		*port;
	uint64_t		 gfn;		/* as introduced, and */
	uint32_t		 evtchn;	/* its port: for the durable
						   copy */
	struct xenstore_domain_interface *intf;	/* NULL once let go */
	struct ring		 req;		/* guest to us */
	struct ring		 rsp;		/* us to guest */
	struct evbuffer		*in;
	struct evbuffer		*out;		/* whole messages */
	struct event		*kick;		/* process soon */
	uint32_t		 head_left;	/* of out's first message */
	bool			 head_reply;
	unsigned		 replies;	/* queued, not yet in the ring */
	bool			 shutdown;
	bool			 broken;
	bool			 feeding;
	bool			 overflowed;
	bool			 busy;		/* in or out not empty: the
						   sweep need not look at the
						   buffers themselves */
	uint64_t		 dropped_events;
	int64_t			 credit;	/* write credit, in 1/1000
						   writes (domain_charge) */
	uint64_t		 credit_ms;	/* when last refilled (0:
						   never) */
	uint64_t		 writes_delayed;
};

static const struct actor domain_dom0 = { 0, PERMS_NO_TARGET, 1 };

static void	domain_process(struct domain *);
static struct domain *domain_attach(struct xsd *, uint32_t, void *, uint32_t,
		    bool, bool);

/* Have the domain's ring looked at once the current work is done. */
static void
domain_kick(struct domain *d)
{
	event_active(d->kick, EV_TIMEOUT, 0);
}

static void
domain_kick_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	domain_process(arg);
}

/* The guest sent an event. */
static void
domain_event(struct hv_port *p, void *arg)
{
	(void)p;
	domain_process(arg);
}

/* Tell the guest the rings moved. A guest not listening is fine. */
static void
domain_notify(struct domain *d)
{
	if (d->port != NULL)
		hv_notify(d->xsd->hv, d->port);
}

/* How much unread output an unprivileged guest may have. */
static size_t
domain_out_limit(const struct domain *d)
{
	if (d->conn->actor.privileged)
		return (d->xsd->cfg.out_max);
	return (d->xsd->cfg.quota.memory);
}

/* Forget everything the connection had: watches, transactions, what
 * was half read or not yet sent. */
static void
domain_conn_reset(struct domain *d)
{
	conn_reset_watches(d->conn);
	conn_reset_txns(d->conn);
	evbuffer_drain(d->in, evbuffer_get_length(d->in));
	evbuffer_drain(d->out, evbuffer_get_length(d->out));
	d->head_left = 0;
	d->replies = 0;
	d->overflowed = false;
	d->busy = false;
}

/* A fresh start on the ring, as Xen's INTRODUCE and reconnection do:
 * empty rings, no error, the connection's state dropped. */
static void
domain_ring_reset(struct domain *d)
{
	struct xenstore_domain_interface	*intf = d->intf;

	domain_conn_reset(d);
	intf->req_cons = intf->req_prod = 0;
	intf->rsp_cons = intf->rsp_prod = 0;
	intf->error = XENSTORE_ERROR_NONE;
	intf->server_features |= DOMAIN_FEATURES;
	ring_wmb();
	d->broken = false;
}

/* The guest broke the protocol: say why on its page and stop serving
 * it. Only a new INTRODUCE or a reconnection brings it back. */
static void
domain_break(struct domain *d, uint32_t err, const char *why)
{
	log_warn("domain %u: %s: no longer served", d->domid, why);
	d->broken = true;
	domain_conn_reset(d);
	d->intf->error = err;
	ring_wmb();
	domain_notify(d);
}

/* Queue a whole message for the guest. */
static void
domain_conn_write(struct conn *c, const void *data, size_t len)
{
	struct domain		*d = c->ops_arg;
	struct xsd_sockmsg	 hdr;

	if (d->broken || d->intf == NULL)
		return;
	memcpy(&hdr, data, sizeof hdr);
	evbuffer_add(d->out, data, len);
	d->busy = true;
	if (hdr.type != XS_WATCH_EVENT)
		d->replies++;
	if (!d->feeding)
		domain_kick(d);
}

static size_t
domain_conn_queued(struct conn *c)
{
	return (evbuffer_get_length(((struct domain *)c->ops_arg)->out));
}

/* Milliseconds on a monotonic clock. */
static uint64_t
domain_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Bring a domain's write credit up to now: write-rate writes a second
 * (that is, write-rate thousandths a millisecond), up to write-burst. */
static void
domain_credit_refill(struct domain *d)
{
	const struct xsd_quota	*q = &d->xsd->cfg.quota;
	uint64_t		 now = domain_now_ms();
	int64_t			 max = (int64_t)q->write_burst * 1000;

	if (d->credit_ms != 0)
		d->credit += (int64_t)(now - d->credit_ms) * q->write_rate;
	else
		d->credit = max;
	d->credit_ms = now;
	if (d->credit > max)
		d->credit = max;
}

/*
 * Charge an unprivileged guest for writes: its own while transactions
 * are open (req.c), or conflict-cost for each transaction of another domain
 * its commits made fail. Its debt is bounded to ten seconds of writes.
 */
void
domain_charge(struct xsd *xsd, uint32_t domid, unsigned writes)
{
	struct domain	*d;
	int64_t		 floor;

	if (domid >= DOMID_FIRST_RESERVED || (d = xsd->domtab[domid]) ==
	    NULL || d->conn == NULL || d->conn->actor.privileged)
		return;
	domain_credit_refill(d);
	d->credit -= (int64_t)writes * 1000;
	floor = -(int64_t)xsd->cfg.quota.write_rate * 10000;
	if (d->credit < floor)
		d->credit = floor;
}

/* Is the guest's next request a write or a commit that must wait for
 * its credit? If so, have the ring looked at again when it is back. */
static bool
domain_write_waits(struct domain *d)
{
	unsigned char		 buf[sizeof(struct xsd_sockmsg) + 1];
	struct xsd_sockmsg	 hdr;
	struct timeval		 tv;
	int64_t			 ms, rate = d->xsd->cfg.quota.write_rate;

	if (d->conn->actor.privileged || evbuffer_copyout(d->in, buf,
	    sizeof buf) < (ev_ssize_t)sizeof hdr)
		return (false);
	memcpy(&hdr, buf, sizeof hdr);
	switch (hdr.type) {
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
		break;
	case XS_TRANSACTION_END:
		/* Only a commit: an abort frees what the guest holds. */
		if (evbuffer_get_length(d->in) > sizeof hdr &&
		    buf[sizeof hdr] == 'T')
			break;
		return (false);
	default:
		return (false);
	}
	domain_credit_refill(d);
	if (d->credit >= 0)
		return (false);
	ms = (-d->credit + rate - 1) / rate + 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(d->kick, &tv);
	d->writes_delayed++;
	return (true);
}

/* Take another request only while the guest reads its replies: at most
 * the outstanding quota of them may wait (privileged guests: out_high
 * bytes, as socket clients); and a write only while the guest has write
 * credit. */
static bool
domain_conn_may_take(struct conn *c)
{
	struct domain	*d = c->ops_arg;

	if (d->broken || d->intf == NULL)
		return (false);
	if (evbuffer_get_length(d->out) > c->xsd->cfg.out_high)
		return (false);
	if (!c->actor.privileged &&
	    d->replies >= c->xsd->cfg.quota.outstanding)
		return (false);
	return (!domain_write_waits(d));
}

/* A guest cannot be hung up on: over its memory quota, watch events for
 * it are dropped (and counted) until it reads what is queued. */
static bool
domain_conn_overflow(struct conn *c)
{
	struct domain	*d = c->ops_arg;

	if (evbuffer_get_length(d->out) <= domain_out_limit(d))
		return (false);
	d->dropped_events++;
	c->xsd->dropped_events++;
	if (!d->overflowed) {
		log_warn("domain %u: %zu bytes of replies and events unread, "
		    "over its memory quota: dropping its watch events",
		    d->domid, evbuffer_get_length(d->out));
		d->overflowed = true;
	}
	return (true);
}

/* Let go of the hypervisor's resources: the port and the page. */
static void
domain_detach(struct domain *d)
{
	struct xsd	*xsd = d->xsd;

	if (xsd->domtab[d->domid] == d) {
		xsd->domtab[d->domid] = NULL;
		TAILQ_REMOVE(&xsd->domains, d, entry);
		xsd->ndomains--;
	}
	if (d->port != NULL) {
		hv_evtchn_unbind(xsd->hv, d->port);
		d->port = NULL;
	}
	if (d->intf != NULL) {
		hv_unmap(xsd->hv, d->intf);
		d->intf = NULL;
	}
}

/* The connection is being freed: so is the domain. */
static void
domain_conn_free(struct conn *c)
{
	struct domain	*d = c->ops_arg;

	domain_detach(d);
	event_free(d->kick);
	evbuffer_free(d->in);
	evbuffer_free(d->out);
	free(d);
}

static const struct conn_ops domain_conn_ops = {
	"ring", domain_conn_write, domain_conn_queued, domain_conn_free,
	domain_conn_may_take, domain_conn_overflow
};

/*
 * Copy queued output into the response ring, message by message, so
 * that a reply counts as outstanding until its last byte is in. Returns
 * the bytes copied, or -EIO if the guest broke the indices.
 */
static ssize_t
domain_flush(struct domain *d)
{
	struct xsd_sockmsg	 hdr;
	unsigned char		*p;
	ssize_t			 n, total = 0;

	while (evbuffer_get_length(d->out) != 0) {
		if (d->head_left == 0) {
			evbuffer_copyout(d->out, &hdr, sizeof hdr);
			d->head_left = (uint32_t)sizeof hdr + hdr.len;
			d->head_reply = hdr.type != XS_WATCH_EVENT;
		}
		p = evbuffer_pullup(d->out, d->head_left);
		if ((n = ring_write(&d->rsp, p, d->head_left)) < 0)
			return (n);
		if (n == 0)
			break;
		evbuffer_drain(d->out, (size_t)n);
		d->head_left -= (uint32_t)n;
		total += n;
		if (d->head_left == 0 && d->head_reply)
			d->replies--;
	}
	if (d->overflowed &&
	    evbuffer_get_length(d->out) <= domain_out_limit(d) / 2) {
		log_info("domain %u: reading again; %llu watch events were "
		    "dropped", d->domid,
		    (unsigned long long)d->dropped_events);
		d->overflowed = false;
	}
	return (total);
}

/*
 * Copy requests out of the ring: whole messages only, while a message
 * fits in the ring. Those are left in the ring (*later set) until their
 * replies are in the response ring, so that a daemon killed in between
 * finds them again after a restart rather than leaving the guest waiting
 * (it may then answer one twice: a reply nobody waits for, which guests
 * drop). A message longer than the ring is taken as it comes. The bytes
 * or -EIO.
 */
static ssize_t
domain_read(struct domain *d, char *buf, size_t size, bool *later)
{
	struct xsd_sockmsg	 hdr;
	ssize_t			 avail;
	size_t			 off = 0, total;

	*later = false;
	if (evbuffer_get_length(d->in) != 0)
		return (ring_read(&d->req, buf, size));
	if ((avail = ring_peek(&d->req, buf, size)) <= 0)
		return (avail);
	while ((size_t)avail - off >= sizeof hdr) {
		memcpy(&hdr, buf + off, sizeof hdr);
		total = sizeof hdr + (size_t)hdr.len;
		if (total > d->req.size)
			return (ring_read(&d->req, buf, off != 0 ? off : size));
		if ((size_t)avail - off < total)
			break;
		off += total;
	}
	*later = off != 0;
	return ((ssize_t)off);
}

/*
 * Serve the ring: replies out, requests in, until neither moves or the
 * turn's budget is spent (then the rest waits for the loop's next turn,
 * so that a busy guest never holds up the others). One notification
 * covers all the turn's moves.
 */
static void
domain_process(struct domain *d)
{
	char		 buf[XENSTORE_RING_SIZE];
	struct conn	*c = d->conn;
	uint64_t	 fed;
	ssize_t		 n, taken;
	bool		 moved = false, progress, later = false;
	int		 budget = DOMAIN_BUDGET, e;

	if (d->intf == NULL || c->closing)
		return;
	if (d->intf->connection == XENSTORE_RECONNECT) {
		log_info("domain %u: reconnecting, as it asked", d->domid);
		domain_ring_reset(d);
		d->intf->connection = XENSTORE_CONNECTED;
		ring_wmb();
		moved = true;
	}
	if (d->broken)
		goto out;
	do {
		progress = false;
		if ((n = domain_flush(d)) < 0) {
			domain_break(d, XENSTORE_ERROR_RINGIDX,
			    "bad response ring indices");
			return;
		}
		progress |= n > 0;
		taken = 0;
		if (domain_conn_may_take(c)) {
			if ((taken = domain_read(d, buf, sizeof buf,
			    &later)) < 0) {
				domain_break(d, XENSTORE_ERROR_RINGIDX,
				    "bad request ring indices");
				return;
			}
			if (taken > 0) {
				evbuffer_add(d->in, buf, (size_t)taken);
				progress = true;
			}
		}
		fed = c->requests;
		d->feeding = true;
		e = conn_feed(c, d->in);
		d->feeding = false;
		if (e != 0) {
			domain_break(d, XENSTORE_ERROR_PROTO,
			    "message over the payload limit");
			return;
		}
		if (later && taken > 0 && !c->closing && !d->broken) {
			/* Their replies in the response ring (as far as it
			 * has room), then the requests out of theirs. */
			if (domain_flush(d) < 0) {
				domain_break(d, XENSTORE_ERROR_RINGIDX,
				    "bad response ring indices");
				return;
			}
			ring_skip(&d->req, (size_t)taken);
		}
		progress |= c->requests != fed;
		moved |= progress;
	} while (progress && !c->closing && --budget > 0);
	/* Budget spent with more to do: go on after the loop has polled its
	 * descriptors (a zero timeout, not an activation, which would run
	 * in this same pass). */
	if (progress && budget == 0) {
		struct timeval	zero = { 0, 0 };

		event_add(d->kick, &zero);
	}
	if (domain_flush(d) > 0)
		moved = true;
	d->busy = evbuffer_get_length(d->in) != 0 ||
	    evbuffer_get_length(d->out) != 0;
out:
	if (moved)
		domain_notify(d);
}

/* Every DOMAIN_SWEEP_MS: serve rings whose events were lost (the
 * simulated host may drop them, as a full event socket drops a
 * datagram). Reading the indices is a hint only; processing re-reads. */
static void
domain_sweep(evutil_socket_t fd, short events, void *arg)
{
	struct xsd	*xsd = arg;
	struct domain	*d, *next;
	struct xenstore_domain_interface *intf;

	(void)fd;
	(void)events;
	TAILQ_FOREACH_SAFE(d, &xsd->domains, entry, next) {
		if ((intf = d->intf) == NULL)
			continue;
		if (intf->connection == XENSTORE_RECONNECT ||
		    (!d->broken && (d->busy ||
		    intf->req_prod != intf->req_cons)))
			domain_process(d);
	}
}

/* Remove the nodes a domain owns, each with what lies below, firing
 * watches as RM would. Its home is looked at first; the whole tree only
 * if it still owns nodes elsewhere. */
static void
domain_collect(struct node *n, uint32_t domid, char ***paths, size_t *np)
{
	struct node	*c;

	if (n->parent != NULL && n->perms->p[0].domid == domid) {
		*paths = xrealloc(*paths, (*np + 1) * sizeof **paths);
		(*paths)[(*np)++] = xstrdup(n->path);
		return;
	}
	for (c = n->child_first; c != NULL; c = c->next)
		domain_collect(c, domid, paths, np);
}

static void
domain_remove_nodes(struct xsd *xsd, uint32_t domid)
{
	struct tree	*tree = xsd->store->tree;
	struct node	*top;
	char		**paths = NULL, home[64];
	size_t		 n = 0, i;
	int		 pass;

	snprintf(home, sizeof home, "%s%u", PATH_DOMAIN_PREFIX, domid);
	for (pass = 0; pass < 2 && tree_owned(tree, domid) != 0; pass++) {
		top = pass == 0 ? tree_lookup(tree, home) : tree->root;
		if (top == NULL)
			continue;
		domain_collect(top, domid, &paths, &n);
		for (i = 0; i < n; i++) {
			store_rm(xsd->store, NULL, &domain_dom0, paths[i]);
			free(paths[i]);
		}
		if (n != 0)
			log_info("domain %u: removed %zu subtrees it owned",
			    domid, n);
		free(paths);
		paths = NULL;
		n = 0;
	}
}

/* A domain is gone: its nodes and its place in permission lists too. */
static void
domain_forget_nodes(struct xsd *xsd, uint32_t domid)
{
	domain_remove_nodes(xsd, domid);
	if (perms_names(domid)) {
		persist_perms_forget(xsd, domid);
		perms_forget(domid);
		/* The special nodes' lists are edited too. */
		persist_special(xsd, "@introduceDomain");
		persist_special(xsd, "@releaseDomain");
	} else
		perms_forget(domid);
	tree_owner_moved(xsd->store->tree, domid, 0);
}

/* A domain released: its nodes go, and @releaseDomain fires. */
static void
domain_released(struct xsd *xsd, uint32_t domid)
{
	domain_forget_nodes(xsd, domid);
	watch_fire_special(xsd->store->watches, "@releaseDomain", domid,
	    xsd->release_perms);
}

/* Release a domain for good and tell the watchers. */
static void
domain_forget(struct domain *d, const char *why)
{
	struct xsd	*xsd = d->xsd;
	uint32_t	 domid = d->domid;

	struct domain	*o;

	log_info("domain %u: %s: released", domid, why);
	persist_domain_gone(xsd, domid);
	domain_detach(d);
	conn_close(d->conn, why);
	/* Whoever acted for it (a device model) acts for nobody now. */
	TAILQ_FOREACH(o, &xsd->domains, entry) {
		if (o->conn->actor.target == domid)
			o->conn->actor.target = PERMS_NO_TARGET;
	}
	domain_released(xsd, domid);
}

/*
 * VIRQ_DOM_EXC: some domain changed state. As Xen does, ask about every
 * introduced domain: dying or gone means release; newly shut down fires
 * @releaseDomain (the toolstack then decides). Domains never introduced
 * but owning nodes or named in permission lists are cleaned up too once
 * the hypervisor forgets them.
 */
static void
domain_scan(evutil_socket_t fd, short events, void *arg)
{
	struct xsd		*xsd = arg;
	struct domain		*d, *next;
	enum hv_dom_state	 state;
	uint32_t		 domid;
	size_t			 i;
	int			 e;

	(void)fd;
	(void)events;
	/* Domains served before a restart that cannot be now: gone while
	 * the daemon was down, released as if they had died while served
	 * (their nodes below, and @releaseDomain). */
	for (i = 0; i < xsd->nunserved; i++) {
		domid = xsd->unserved[i];
		if (xsd->domtab[domid] != NULL)
			continue;
		e = hv_domain_state(xsd->hv, domid, &state);
		if (e != -ENOENT && !(e == 0 && state == HV_DOM_DYING))
			continue;
		log_info("domain %u: gone while the daemon was down: released",
		    domid);
		domain_released(xsd, domid);
	}
	free(xsd->unserved);
	xsd->unserved = NULL;
	xsd->nunserved = 0;
	TAILQ_FOREACH_SAFE(d, &xsd->domains, entry, next) {
		if (d->domid == 0)
			continue;
		e = hv_domain_state(xsd->hv, d->domid, &state);
		if (e == 0 && state != HV_DOM_DYING) {
			if (state == HV_DOM_SHUTDOWN && !d->shutdown) {
				d->shutdown = true;
				watch_fire_special(xsd->store->watches,
				    "@releaseDomain", d->domid,
				    xsd->release_perms);
			}
			continue;
		}
		if (e != 0 && e != -ENOENT) {
			log_warn("domain %u: state unknown: %s", d->domid,
			    strerror(-e));
			continue;
		}
		domain_forget(d, e == 0 ? "dying" : "gone");
	}
	for (domid = 1; domid < DOMID_FIRST_RESERVED; domid++) {
		if (xsd->domtab[domid] != NULL ||
		    (tree_owned(xsd->store->tree, domid) == 0 &&
		    !perms_names(domid)))
			continue;
		e = hv_domain_state(xsd->hv, domid, &state);
		if (e == -ENOENT || (e == 0 && state == HV_DOM_DYING))
			domain_forget_nodes(xsd, domid);
	}
}

/* The domain tables and the special nodes' permissions. */
void
domain_init(struct xsd *xsd)
{
	struct perm	none = { 0, PERM_NONE };

	TAILQ_INIT(&xsd->domains);
	xsd->domtab = xcalloc(DOMID_FIRST_RESERVED, sizeof *xsd->domtab);
	xsd->intro_perms = perms_create(&none, 1);
	xsd->release_perms = perms_create(&none, 1);
}

/* Start serving guests through a hypervisor backend. */
void
xsd_attach_hv(struct xsd *xsd, struct hv *hv)
{
	struct timeval	 tv = { 0, DOMAIN_SWEEP_MS * 1000 };
	void		*page;
	uint32_t	 port;

	xsd->hv = hv;
	xsd->dom_scan = event_new(xsd->base, -1, 0, domain_scan, xsd);
	xsd->dom_sweep = event_new(xsd->base, -1, EV_PERSIST, domain_sweep,
	    xsd);
	event_add(xsd->dom_sweep, &tv);
	/* On Xen, dom0's own kernel talks to the store over a ring too. */
	if (hv_xen_dom0_ring(hv, &page, &port) == 0) {
		if (domain_attach(xsd, 0, page, port, true, false) != NULL)
			log_info("serving dom0's ring (port %u)", port);
	}
}

/* A VIRQ_DOM_EXC arrived (the daemon's hv callback): rescan once the
 * current work is done (a burst of them costs one scan). */
void
xsd_domains_changed(struct xsd *xsd)
{
	if (xsd->hv != NULL)
		event_active(xsd->dom_scan, EV_TIMEOUT, 0);
}

/* Let every domain go (the daemon is stopping). Connections free their
 * domains; the tables go here. */
void
domain_fini(struct xsd *xsd)
{
	struct domain	*d;

	while ((d = TAILQ_FIRST(&xsd->domains)) != NULL)
		domain_detach(d);
	if (xsd->dom_scan != NULL)
		event_free(xsd->dom_scan);
	if (xsd->dom_sweep != NULL)
		event_free(xsd->dom_sweep);
	perms_unref(xsd->intro_perms);
	perms_unref(xsd->release_perms);
	free(xsd->unserved);
	free(xsd->domtab);
}

/*
 * Serve a domain's mapped page on its event channel: the domain and its
 * connection, on a fresh ring if reset (INTRODUCE), else on the ring as
 * it is (dom0's, whose kernel may have queued requests already). NULL
 * with errno set (and the page unmapped) if the port cannot be bound.
 */
static struct domain *
domain_attach(struct xsd *xsd, uint32_t domid, void *page, uint32_t port,
    bool privileged, bool reset)
{
	struct domain	*d;
	int		 e;

	d = xcalloc(1, sizeof *d);
	d->xsd = xsd;
	d->domid = domid;
	d->intf = page;
	d->port = hv_evtchn_bind(xsd->hv, domid, port, domain_event, d);
	if (d->port == NULL) {
		e = errno != 0 ? errno : EIO;
		log_warn("domain %u: binding port %u: %s", domid, port,
		    strerror(e));
		hv_unmap(xsd->hv, page);
		free(d);
		errno = e;
		return (NULL);
	}
	d->req.buf = d->intf->req;
	d->req.size = XENSTORE_RING_SIZE;
	d->req.cons = &d->intf->req_cons;
	d->req.prod = &d->intf->req_prod;
	d->rsp.buf = d->intf->rsp;
	d->rsp.size = XENSTORE_RING_SIZE;
	d->rsp.cons = &d->intf->rsp_cons;
	d->rsp.prod = &d->intf->rsp_prod;
	d->in = evbuffer_new();
	d->out = evbuffer_new();
	d->kick = event_new(xsd->base, -1, 0, domain_kick_cb, d);
	if (d->in == NULL || d->out == NULL || d->kick == NULL)
		log_fatal("domain %u: out of memory", domid);
	d->conn = conn_create(xsd, &domain_conn_ops, d, domid, privileged);
	d->conn->ring = true;
	xsd->domtab[domid] = d;
	TAILQ_INSERT_TAIL(&xsd->domains, d, entry);
	xsd->ndomains++;
	if (reset) {
		domain_ring_reset(d);
		if (d->intf->connection == XENSTORE_RECONNECT)
			d->intf->connection = XENSTORE_CONNECTED;
	} else {
		d->intf->server_features |= DOMAIN_FEATURES;
		ring_wmb();
		domain_kick(d);
	}
	return (d);
}

/*
 * INTRODUCE: map the domain's xenstore page (grant first, frame gfn if
 * need be), bind its event channel and serve it. A domain introduced
 * already gets its event channel bound again and, as in Xen, a fresh
 * connection on an emptied ring.
 */
int
domain_introduce(struct xsd *xsd, uint32_t domid, uint64_t gfn,
    uint32_t port)
{
	struct domain	*d;
	void		*page;
	int		 e;

	if (xsd->hv == NULL) {
		log_warn("INTRODUCE of domain %u: no hypervisor (start with "
		    "--sim-root for a simulated host)", domid);
		return (-ENOSYS);
	}
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return (-EINVAL);
	if ((d = xsd->domtab[domid]) != NULL) {
		if (d->port != NULL)
			hv_evtchn_unbind(xsd->hv, d->port);
		d->port = hv_evtchn_bind(xsd->hv, domid, port, domain_event,
		    d);
		if (d->port == NULL)
			log_warn("domain %u: binding port %u again: %s",
			    domid, port, strerror(errno));
		domain_ring_reset(d);
		d->gfn = gfn;
		d->evtchn = port;
		persist_domain(xsd, domid, gfn, port, d->conn->actor.target);
		log_info("domain %u introduced again (port %u)", domid, port);
		domain_notify(d);
		return (0);
	}
	page = hv_map_grant(xsd->hv, domid, GNTTAB_RESERVED_XENSTORE, gfn);
	if (page == NULL) {
		e = errno != 0 ? errno : EIO;
		log_warn("domain %u: mapping its xenstore page: %s", domid,
		    strerror(e));
		return (-e);
	}
	if ((d = domain_attach(xsd, domid, page, port, false, true)) == NULL)
		return (-errno);
	d->gfn = gfn;
	d->evtchn = port;
	persist_domain(xsd, domid, gfn, port, PERMS_NO_TARGET);
	log_info("domain %u introduced (port %u)", domid, port);
	watch_fire_special(xsd->store->watches, "@introduceDomain", domid,
	    xsd->intro_perms);
	domain_notify(d);
	return (0);
}

/* A domain served before a restart that cannot be served again: the
 * scan that follows the restore releases it if it is gone. */
static void
domain_unserved(struct xsd *xsd, uint32_t domid)
{
	xsd->unserved = xrealloc(xsd->unserved, (xsd->nunserved + 1) *
	    sizeof *xsd->unserved);
	xsd->unserved[xsd->nunserved++] = domid;
}

/*
 * A domain served before a restart, served again: its page mapped as
 * INTRODUCE maps it, its ring taken as it is (no reset: the guest may be
 * waiting on a request or half way through writing one), its old
 * transactions answered EAGAIN (their ids are of another epoch). No
 * @introduceDomain: nothing new came.
 */
int
domain_restore(struct xsd *xsd, uint32_t domid, uint64_t gfn, uint32_t port)
{
	struct domain	*d;
	void		*page;
	int		 e;

	if (domid == 0 || domid >= DOMID_FIRST_RESERVED ||
	    xsd->domtab[domid] != NULL)
		return (-EINVAL);
	page = hv_map_grant(xsd->hv, domid, GNTTAB_RESERVED_XENSTORE, gfn);
	if (page == NULL) {
		e = errno != 0 ? errno : EIO;
		log_warn("domain %u: mapping its xenstore page again: %s",
		    domid, strerror(e));
		domain_unserved(xsd, domid);
		return (-e);
	}
	if ((d = domain_attach(xsd, domid, page, port, false, false)) == NULL) {
		e = errno;
		domain_unserved(xsd, domid);
		return (-e);
	}
	d->gfn = gfn;
	d->evtchn = port;
	d->conn->restored = true;
	log_info("domain %u served again (port %u)", domid, port);
	return (0);
}

/* The connection of a served domain, or NULL. */
struct conn *
domain_conn(struct xsd *xsd, uint32_t domid)
{
	if (domid >= DOMID_FIRST_RESERVED || xsd->domtab[domid] == NULL)
		return (NULL);
	return (xsd->domtab[domid]->conn);
}

/* RELEASE: forget an introduced domain, as if it had died. */
int
domain_release(struct xsd *xsd, uint32_t domid)
{
	struct domain	*d;

	if (domid >= DOMID_FIRST_RESERVED ||
	    (d = xsd->domtab[domid]) == NULL)
		return (-ENOENT);
	domain_forget(d, "RELEASE");
	return (0);
}

/* RESUME: the domain runs again after a shutdown (suspend). */
int
domain_resume(struct xsd *xsd, uint32_t domid)
{
	struct domain	*d;

	if (domid >= DOMID_FIRST_RESERVED ||
	    (d = xsd->domtab[domid]) == NULL)
		return (-ENOENT);
	d->shutdown = false;
	return (0);
}

/* SET_TARGET: domid (a device model, say) acts for target, whose nodes
 * it may then use as if it owned them. Both must be introduced. */
int
domain_set_target(struct xsd *xsd, uint32_t domid, uint32_t target)
{
	struct domain	*d;

	if (domid >= DOMID_FIRST_RESERVED ||
	    (d = xsd->domtab[domid]) == NULL)
		return (-ENOENT);
	if (!domain_is_introduced(xsd, target) || target == 0)
		return (-ENOENT);
	d->conn->actor.target = target;
	persist_domain(xsd, domid, d->gfn, d->evtchn, target);
	return (0);
}

/* Give the durable copy every domain served on a ring (but dom0's, which
 * it never keeps) and their watches, as they are now. */
void
domain_persist_all(struct xsd *xsd)
{
	struct domain	*d;
	struct watch	*w;

	TAILQ_FOREACH(d, &xsd->domains, entry) {
		if (d->domid == 0)
			continue;
		persist_domain(xsd, d->domid, d->gfn, d->evtchn,
		    d->conn->actor.target);
		TAILQ_FOREACH(w, &d->conn->watches, owner_entry)
			persist_watch(d->conn, w, true);
	}
}

/* Is the domain served (dom0 always is)? */
bool
domain_is_introduced(struct xsd *xsd, uint32_t domid)
{
	return (domid == 0 || (domid < DOMID_FIRST_RESERVED &&
	    xsd->domtab[domid] != NULL));
}

/* Is the domain served? (For the console drainer.) */
bool
xsd_domain_introduced(struct xsd *xsd, uint32_t domid)
{
	return (domid != 0 && domain_is_introduced(xsd, domid));
}

/* Does the domain exist, for permission lists naming it? */
bool
domain_exists(struct xsd *xsd, uint32_t domid)
{
	enum hv_dom_state	state;

	if (domain_is_introduced(xsd, domid))
		return (true);
	return (xsd->hv != NULL && domid < DOMID_FIRST_RESERVED &&
	    hv_domain_state(xsd->hv, domid, &state) == 0);
}

/* CONTROL quota <domid>: what the domain uses of its quotas. */
int
domain_quota_report(struct xsd *xsd, uint32_t domid, FILE *f)
{
	struct domain	*d;

	if (domid >= DOMID_FIRST_RESERVED)
		return (-ENOENT);
	d = xsd->domtab[domid];
	if (d == NULL && domid != 0 &&
	    tree_owned(xsd->store->tree, domid) == 0)
		return (-ENOENT);
	fprintf(f, "Domain %u:\n", domid);
	fprintf(f, "%-16s: %8u\n", "nodes", tree_owned(xsd->store->tree,
	    domid));
	fprintf(f, "%-16s: %8u\n", "watches", d != NULL ?
	    d->conn->nwatches : 0);
	fprintf(f, "%-16s: %8u\n", "transactions", d != NULL ?
	    d->conn->ntxns : 0);
	fprintf(f, "%-16s: %8u\n", "outstanding", d != NULL ? d->replies : 0);
	fprintf(f, "%-16s: %8zu\n", "memory", d != NULL ?
	    evbuffer_get_length(d->out) : 0);
	if (d != NULL && d->dropped_events != 0)
		fprintf(f, "%-16s: %8llu\n", "dropped-events",
		    (unsigned long long)d->dropped_events);
	if (d != NULL && d->writes_delayed != 0)
		fprintf(f, "%-16s: %8llu\n", "writes-delayed",
		    (unsigned long long)d->writes_delayed);
	return (0);
}

/* The permission list of a special node, or NULL if the name is not one. */
struct perms **
domain_special_perms(struct xsd *xsd, const char *name)
{
	if (strcmp(name, "@introduceDomain") == 0)
		return (&xsd->intro_perms);
	if (strcmp(name, "@releaseDomain") == 0)
		return (&xsd->release_perms);
	return (NULL);
}
