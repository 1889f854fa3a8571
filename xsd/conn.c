/*
 * Connections: framing requests out of an input buffer, queueing replies
 * and watch events, and what a connection owns (transactions, watches).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conn.h"
#include "log.h"
#include "path.h"
#include "tree.h"
#include "txn.h"
#include "xmalloc.h"
#include "xsd-private.h"

/* Make a connection for a domain (0 and socket clients are privileged). */
struct conn *
conn_create(struct xsd *xsd, const struct conn_ops *ops, void *ops_arg,
    unsigned domid, bool privileged)
{
	struct conn	*c = xcalloc(1, sizeof *c);

	c->xsd = xsd;
	c->ops = ops;
	c->ops_arg = ops_arg;
	c->id = ++xsd->next_conn_id;
	c->actor.domid = domid;
	c->actor.target = PERMS_NO_TARGET;
	c->actor.privileged = privileged;
	c->txn_id_base = c->next_txn_id = xsd->txn_epoch << CONN_TXN_SEQ_BITS;
	xasprintf(&c->home, "%s%u", PATH_DOMAIN_PREFIX, domid);
	LIST_INIT(&c->txns);
	TAILQ_INIT(&c->watches);
	TAILQ_INSERT_TAIL(&xsd->conns, c, entry);
	xsd->nconns++;
	log_debug("conn %u (%s, domain %u) connected", c->id, ops->kind,
	    domid);
	return (c);
}

/* Drop every watch the connection holds. */
void
conn_reset_watches(struct conn *c)
{
	struct watch	*w;

	while ((w = TAILQ_FIRST(&c->watches)) != NULL) {
		persist_watch(c, w, false);
		TAILQ_REMOVE(&c->watches, w, owner_entry);
		watch_remove_one(c->xsd->store->watches, w);
	}
	c->nwatches = 0;
}

/* Abort every open transaction of the connection. */
void
conn_reset_txns(struct conn *c)
{
	struct conn_txn	*ct;

	while ((ct = LIST_FIRST(&c->txns)) != NULL) {
		LIST_REMOVE(ct, entry);
		txn_free(ct->txn);
		free(ct);
	}
	c->ntxns = 0;
}

/* Free a connection and all it owns. */
void
conn_free(struct conn *c)
{
	struct xsd	*xsd = c->xsd;

	log_debug("conn %u freed", c->id);
	conn_reset_watches(c);
	conn_reset_txns(c);
	TAILQ_REMOVE(&xsd->conns, c, entry);
	xsd->nconns--;
	c->ops->free(c);
	free(c->home);
	free(c);
}

/* Mark a connection for closing; the event loop frees it soon, so that
 * nobody iterating over watches or connections sees it vanish. */
void
conn_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	log_info("conn %u (%s, domain %u): closing: %s", c->id, c->ops->kind,
	    c->actor.domid, why);
	c->closing = true;
	xsd_schedule_reap(c->xsd);
}

/* May the connection have another request processed now? */
static bool
conn_may_take(struct conn *c)
{
	if (c->ops->may_take != NULL)
		return (c->ops->may_take(c));
	return (c->ops->queued(c) <= c->xsd->cfg.out_high);
}

/*
 * Process every complete message in the buffer, in order. Returns 0, or
 * -EPROTO when the client broke the framing (payload over the maximum)
 * and must be dropped. Stops early if the connection is closing or its
 * output is backed up (the caller resumes when it drains).
 */
int
conn_feed(struct conn *c, struct evbuffer *in)
{
	struct xsd_sockmsg	 hdr;
	char			 payload[XENSTORE_PAYLOAD_MAX + 1];

	while (!c->closing && conn_may_take(c)) {
		if (evbuffer_copyout(in, &hdr, sizeof hdr) != sizeof hdr)
			break;
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			log_warn("conn %u: payload of %u bytes is over %u",
			    c->id, hdr.len, XENSTORE_PAYLOAD_MAX);
			return (-EPROTO);
		}
		if (evbuffer_get_length(in) < sizeof hdr + hdr.len)
			break;
		evbuffer_drain(in, sizeof hdr);
		evbuffer_remove(in, payload, hdr.len);
		payload[hdr.len] = '\0';
		c->requests++;
		c->xsd->requests++;
		req_process(c, &hdr, payload);
	}
	return (0);
}

/* Queue a message: the request's header echoed, with the reply's type.
 * The transport gets the whole message in one piece. */
void
conn_send(struct conn *c, const struct xsd_sockmsg *req, uint32_t type,
    const void *data, size_t len)
{
	char			 msg[sizeof(struct xsd_sockmsg) +
				    XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg	 hdr;

	if (len > XENSTORE_PAYLOAD_MAX) {
		conn_send_error(c, req, E2BIG);
		return;
	}
	hdr.type = type;
	hdr.req_id = req != NULL ? req->req_id : 0;
	hdr.tx_id = req != NULL ? req->tx_id : 0;
	hdr.len = (uint32_t)len;
	memcpy(msg, &hdr, sizeof hdr);
	if (len != 0)
		memcpy(msg + sizeof hdr, data, len);
	c->ops->write(c, msg, sizeof hdr + len);
}

/* Queue an error reply with the errno's name from xs_wire.h's table
 * (EINVAL for what the table lacks, as Xen does). */
void
conn_send_error(struct conn *c, const struct xsd_sockmsg *req, int err)
{
	const char	*name = "EINVAL";
	size_t		 i;

	for (i = 0; i < sizeof xsd_errors / sizeof xsd_errors[0]; i++) {
		if (xsd_errors[i].errnum == err) {
			name = xsd_errors[i].errstring;
			break;
		}
	}
	conn_send(c, req, XS_ERROR, name, strlen(name) + 1);
}

/*
 * May the connection hear of a change at path? As Xen's watch_permitted:
 * if it may read the node under its permissions now or before the change
 * (alt), or may read the node's parent as it stands after the change.
 */
static bool
conn_may_see(struct conn *c, const char *path, struct perms *perms,
    struct perms *alt)
{
	struct node	*parent;
	char		*ppath;

	if (c->actor.privileged)
		return (true);
	if (path[0] == '@')	/* a special node: its own list */
		return (perms == NULL ||
		    (perms_mode(perms, &c->actor) & PERM_READ));
	if (perms != NULL && (perms_mode(perms, &c->actor) & PERM_READ))
		return (true);
	if (alt != NULL && (perms_mode(alt, &c->actor) & PERM_READ))
		return (true);
	if (path[1] == '\0')
		return (false);
	ppath = path_parent(path);
	parent = tree_lookup(c->xsd->store->tree, ppath);
	free(ppath);
	return (parent != NULL &&
	    (perms_mode(parent->perms, &c->actor) & PERM_READ));
}

/*
 * A watch of this connection fired. The watcher hears of it if it may
 * see the node (conn_may_see). A connection whose queue is over the
 * limit is not reading: drop it.
 */
void
conn_deliver(void *owner, const struct watch *w, const char *path,
    struct perms *perms, struct perms *alt, void *arg)
{
	struct conn	*c = owner;
	const char	*shown = path;
	char		 buf[XENSTORE_PAYLOAD_MAX];
	size_t		 plen, tlen;

	(void)arg;
	if (c->closing)
		return;
	if (!conn_may_see(c, path, perms, alt))
		return;
	if (w->relative)
		shown = path_relative_to(path, c->home);
	plen = strlen(shown) + 1;
	tlen = strlen(w->token) + 1;
	if (plen + tlen > sizeof buf)
		return;
	if (c->ops->overflow != NULL) {
		if (c->ops->overflow(c))
			return;
	} else if (c->ops->queued(c) > c->xsd->cfg.out_max) {
		c->xsd->dropped_conns++;
		conn_close(c, "too many unread watch events");
		return;
	}
	memcpy(buf, shown, plen);
	memcpy(buf + plen, w->token, tlen);
	conn_send(c, NULL, XS_WATCH_EVENT, buf, plen + tlen);
	c->xsd->events_sent++;
}

/*
 * A transaction id a restored connection's guest may hold from before
 * the restart: not of this run's epoch (the ids given since all are).
 */
bool
conn_txn_lost(const struct conn *c, uint32_t id)
{
	return (c->restored && (id & ~CONN_TXN_SEQ_MASK) != c->txn_id_base);
}

/* Find an open transaction of the connection. */
struct txn *
conn_txn_find(struct conn *c, uint32_t id)
{
	struct conn_txn	*ct;

	LIST_FOREACH(ct, &c->txns, entry) {
		if (ct->id == id)
			return (ct->txn);
	}
	return (NULL);
}

/* Forget (and free) an open transaction. */
void
conn_txn_remove(struct conn *c, uint32_t id)
{
	struct conn_txn	*ct;

	LIST_FOREACH(ct, &c->txns, entry) {
		if (ct->id == id) {
			LIST_REMOVE(ct, entry);
			txn_free(ct->txn);
			free(ct);
			c->ntxns--;
			return;
		}
	}
}
