/*
 * The guest end of a xenstore page (see xsring.h). The indices the daemon
 * writes (req_cons, rsp_prod) are checked by ring.c; a reply header
 * announcing more than XENSTORE_PAYLOAD_MAX bytes is a broken daemon, as
 * Linux's xenbus treats it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "xsring.h"

/* Start using a mapped xenstore page. Its indices stay as they are: an
 * earlier guest process may have left messages in flight. */
void
xsring_init(struct xsring *xr, void *page)
{
	memset(xr, 0, sizeof *xr);
	xr->intf = page;
	xr->req.buf = xr->intf->req;
	xr->req.size = XENSTORE_RING_SIZE;
	xr->req.cons = &xr->intf->req_cons;
	xr->req.prod = &xr->intf->req_prod;
	xr->rsp.buf = xr->intf->rsp;
	xr->rsp.size = XENSTORE_RING_SIZE;
	xr->rsp.cons = &xr->intf->rsp_cons;
	xr->rsp.prod = &xr->intf->rsp_prod;
}

/* Free the buffers (the page is the caller's). */
void
xsring_free(struct xsring *xr)
{
	free(xr->out);
	free(xr->body);
	xr->out = xr->body = NULL;
	xr->outlen = xr->outoff = xr->outcap = 0;
}

/* Queue a request: header and payload. Any length goes (a test may want
 * an oversized one); xsring_push sends it as the ring makes room. */
void
xsring_queue(struct xsring *xr, uint32_t type, uint32_t req_id,
    uint32_t tx_id, const void *payload, size_t len)
{
	struct xsd_sockmsg	hdr;
	size_t			need;

	if (xr->outoff == xr->outlen)
		xr->outoff = xr->outlen = 0;
	need = xr->outlen + sizeof hdr + len;
	if (need > xr->outcap) {
		xr->outcap = need < 2 * xr->outcap ? 2 * xr->outcap : need;
		xr->out = xrealloc(xr->out, xr->outcap);
	}
	hdr.type = type;
	hdr.req_id = req_id;
	hdr.tx_id = tx_id;
	hdr.len = (uint32_t)len;
	memcpy(xr->out + xr->outlen, &hdr, sizeof hdr);
	if (len > 0)
		memcpy(xr->out + xr->outlen + sizeof hdr, payload, len);
	xr->outlen = need;
}

/* Request bytes queued and not yet in the ring. */
size_t
xsring_pending(const struct xsring *xr)
{
	return (xr->outlen - xr->outoff);
}

/* Move queued bytes into the req ring; returns how many (notify the
 * daemon if more than 0) or -EIO if the daemon's req_cons is impossible. */
ssize_t
xsring_push(struct xsring *xr)
{
	ssize_t	n;

	if (xr->outoff == xr->outlen)
		return (0);
	n = ring_write(&xr->req, xr->out + xr->outoff,
	    xr->outlen - xr->outoff);
	if (n > 0)
		xr->outoff += (size_t)n;
	return (n);
}

/*
 * Take the next complete message out of the rsp ring: 1 and the message
 * in m (free it with xsr_msg_free), 0 if none is complete yet, -EIO if
 * the daemon's rsp_prod is impossible, -EPROTO if a header announces too
 * long a payload. Bytes consumed are added to *moved: notify the daemon
 * when it grew, so that it can write more.
 */
int
xsring_pull(struct xsring *xr, struct xsr_msg *m, size_t *moved)
{
	ssize_t	n;

	if (xr->hdrgot < sizeof xr->hdr) {
		n = ring_read(&xr->rsp, (char *)&xr->hdr + xr->hdrgot,
		    sizeof xr->hdr - xr->hdrgot);
		if (n < 0)
			return ((int)n);
		xr->hdrgot += (size_t)n;
		*moved += (size_t)n;
		if (xr->hdrgot < sizeof xr->hdr)
			return (0);
		if (xr->hdr.len > XENSTORE_PAYLOAD_MAX)
			return (-EPROTO);
		xr->body = xmalloc(xr->hdr.len + 1);
		xr->bodygot = 0;
	}
	if (xr->hdr.len > XENSTORE_PAYLOAD_MAX)
		return (-EPROTO);
	if (xr->bodygot < xr->hdr.len) {
		n = ring_read(&xr->rsp, xr->body + xr->bodygot,
		    xr->hdr.len - xr->bodygot);
		if (n < 0)
			return ((int)n);
		xr->bodygot += (size_t)n;
		*moved += (size_t)n;
		if (xr->bodygot < xr->hdr.len)
			return (0);
	}
	xr->body[xr->hdr.len] = '\0';
	m->hdr = xr->hdr;
	m->body = xr->body;
	xr->body = NULL;
	xr->hdrgot = xr->bodygot = 0;
	return (1);
}

/* Drop every complete message waiting, left by an earlier process; a
 * partial one stays to be finished (and ignored) later. Returns how many
 * were dropped, or what xsring_pull failed with. */
int
xsring_discard(struct xsring *xr, size_t *moved)
{
	struct xsr_msg	m;
	int		n = 0, e;

	while ((e = xsring_pull(xr, &m, moved)) == 1) {
		xsr_msg_free(&m);
		n++;
	}
	return (e < 0 ? e : n);
}

/*
 * Reset a ring whose indices are impossible to 0/0, as Linux's xenbus
 * does when it finds them so: what an earlier process left (`xs corrupt`
 * does it on purpose) must not stop this one from talking. Returns which
 * were reset: 1 the req ring, 2 the rsp ring.
 */
int
xsring_repair(struct xsring *xr)
{
	int	fixed = 0;

	if (ring_readable(&xr->req) < 0) {
		xr->intf->req_cons = xr->intf->req_prod = 0;
		fixed |= 1;
	}
	if (ring_readable(&xr->rsp) < 0) {
		xr->intf->rsp_cons = xr->intf->rsp_prod = 0;
		fixed |= 2;
	}
	if (fixed != 0)
		ring_mb();
	return (fixed);
}

/* Free a pulled message's body. */
void
xsr_msg_free(struct xsr_msg *m)
{
	free(m->body);
	m->body = NULL;
}
