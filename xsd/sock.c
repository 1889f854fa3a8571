/*
 * Socket connections. Requests are read with one read(2) per wake-up of a
 * persistent read event; replies are written at once, in one write per
 * batch of requests, and a write event (which also carries the stall
 * timeout) is armed only while output is left over. That is three system
 * calls per request where a bufferevent takes seven.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "log.h"
#include "xmalloc.h"
#include "xsd-private.h"

struct sock {
	int		 fd;
	struct event	*rev;		/* persistent while reading */
	struct event	*wev;		/* armed while output waits */
	struct evbuffer	*in;
	struct evbuffer	*out;
	bool		 feeding;	/* replies wait for the batch's end */
	bool		 reading;
};

static void	sock_flush(struct conn *);

/* Queue output; outside a batch of our own requests, send it now. */
static void
sock_write(struct conn *c, const void *data, size_t len)
{
	struct sock	*s = c->ops_arg;

	evbuffer_add(s->out, data, len);
	if (!s->feeding)
		sock_flush(c);
}

/* Bytes waiting to go out. */
static size_t
sock_queued(struct conn *c)
{
	return (evbuffer_get_length(((struct sock *)c->ops_arg)->out));
}

/* Close the socket and free its buffers and events. */
static void
sock_free(struct conn *c)
{
	struct sock	*s = c->ops_arg;

	event_free(s->rev);
	event_free(s->wev);
	evbuffer_free(s->in);
	evbuffer_free(s->out);
	close(s->fd);
	free(s);
}

static const struct conn_ops sock_ops = {
	"socket", sock_write, sock_queued, sock_free, NULL, NULL
};

/* Start or stop reading requests. */
static void
sock_set_reading(struct sock *s, bool on)
{
	if (on == s->reading)
		return;
	s->reading = on;
	if (on)
		event_add(s->rev, NULL);
	else
		event_del(s->rev);
}

/* Process what requests are complete; stop reading while backed up. */
static void
sock_process(struct conn *c)
{
	struct sock	*s = c->ops_arg;
	int		 e;

	s->feeding = true;
	e = conn_feed(c, s->in);
	s->feeding = false;
	if (e != 0) {
		conn_close(c, "protocol error");
		return;
	}
	sock_flush(c);
	if (!c->closing)
		sock_set_reading(s, sock_queued(c) <= c->xsd->cfg.out_high);
}

/* Write what output we can; arm the write event for the rest. */
static void
sock_flush(struct conn *c)
{
	struct sock	*s = c->ops_arg;
	struct timeval	 tv;
	int		 n;

	if (c->closing)
		return;
	while (evbuffer_get_length(s->out) != 0) {
		n = evbuffer_write(s->out, s->fd);
		if (n > 0)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c, strerror(errno));
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (evbuffer_get_length(s->out) == 0) {
		event_del(s->wev);
		return;
	}
	if (!event_pending(s->wev, EV_WRITE, NULL)) {
		tv.tv_sec = c->xsd->cfg.stall_timeout;
		tv.tv_usec = 0;
		event_add(s->wev, c->xsd->cfg.stall_timeout != 0 ? &tv : NULL);
	}
}

/* Requests arrived (or the client left). */
static void
sock_readable(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;
	struct sock	*s = c->ops_arg;
	char		 buf[16384];
	ssize_t		 n;

	(void)events;
	n = read(fd, buf, sizeof buf);
	if (n == 0) {
		conn_close(c, "client closed the connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, strerror(errno));
		return;
	}
	evbuffer_add(s->in, buf, (size_t)n);
	sock_process(c);
}

/* The client took some output, or left it untaken too long. The write
 * event is not persistent: flushing re-arms it, with a fresh timeout,
 * while output remains. */
static void
sock_writable(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;
	struct sock	*s = c->ops_arg;

	(void)fd;
	if (events & EV_TIMEOUT) {
		conn_close(c, "client left its replies unread too long");
		return;
	}
	sock_flush(c);
	/* Drained below half the mark: take requests again. */
	if (!c->closing && !s->reading &&
	    sock_queued(c) <= c->xsd->cfg.out_high / 2)
		sock_process(c);
}

/* A new socket client on fd: privileged, as dom0. */
void
sock_accept(struct xsd *xsd, int fd)
{
	struct sock	*s = xcalloc(1, sizeof *s);
	struct conn	*c;

	evutil_make_socket_nonblocking(fd);
	s->fd = fd;
	s->in = evbuffer_new();
	s->out = evbuffer_new();
	c = conn_create(xsd, &sock_ops, s, 0, true);
	s->rev = event_new(xsd->base, fd, EV_READ | EV_PERSIST, sock_readable,
	    c);
	s->wev = event_new(xsd->base, fd, EV_WRITE, sock_writable, c);
	sock_set_reading(s, true);
}
