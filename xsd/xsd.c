/*
 * The engine as a whole: configuration, the Unix socket listener and the
 * in-process API.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conn.h"
#include "domain.h"
#include "log.h"
#include "path.h"
#include "store.h"
#include "tree.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd-private.h"

/* Fill in Xen 4.17's defaults. */
void
xsd_config_defaults(struct xsd_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->quota.nodes = 1000;
	cfg->quota.watches = 128;
	cfg->quota.transactions = 10;
	cfg->quota.node_size = 2048;
	cfg->quota.path_len = XENSTORE_REL_PATH_MAX;
	cfg->quota.outstanding = 20;
	cfg->quota.txn_nodes = 1024;
	cfg->quota.perms = 5;
	cfg->quota.memory = 2 * 1024 * 1024;
	cfg->quota.write_rate = 200;
	cfg->quota.write_burst = 10;
	cfg->quota.conflict_cost = 20;
	cfg->out_high = 64 * 1024;
	cfg->out_max = 16 * 1024 * 1024;
	cfg->stall_timeout = 60;
}

/* Free the connections marked closing. */
static void
xsd_reap(evutil_socket_t fd, short events, void *arg)
{
	struct xsd	*xsd = arg;
	struct conn	*c, *next;

	(void)fd;
	(void)events;
	TAILQ_FOREACH_SAFE(c, &xsd->conns, entry, next) {
		if (c->closing)
			conn_free(c);
	}
}

/* Have the loop free closing connections once the current work ends. */
void
xsd_schedule_reap(struct xsd *xsd)
{
	event_active(xsd->reaper, EV_TIMEOUT, 0);
}

/* Make the engine on an event base. */
struct xsd *
xsd_create(struct event_base *base, const struct xsd_config *cfg)
{
	struct xsd	*xsd = xcalloc(1, sizeof *xsd);

	xsd->base = base;
	xsd->cfg = *cfg;
	xsd->store = store_create();
	xsd->store->watches = watch_create(conn_deliver, xsd);
	xsd->store->quota = &xsd->cfg.quota;
	TAILQ_INIT(&xsd->conns);
	domain_init(xsd);
	xsd->reaper = event_new(base, -1, 0, xsd_reap, xsd);
	return (xsd);
}

/* Close everything and free the engine. */
void
xsd_free(struct xsd *xsd)
{
	struct conn	*c;

	if (xsd == NULL)
		return;
	if (xsd->listener != NULL)
		evconnlistener_free(xsd->listener);
	while ((c = TAILQ_FIRST(&xsd->conns)) != NULL)
		conn_free(c);
	domain_fini(xsd);
	if (xsd->socket_path != NULL) {
		unlink(xsd->socket_path);
		free(xsd->socket_path);
	}
	event_free(xsd->reaper);
	watch_free_all(xsd->store->watches);
	store_free(xsd->store);
	free(xsd);
}

/* A new socket client. */
static void
xsd_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	(void)sa;
	(void)salen;
	sock_accept(arg, fd);
}

/* The listener failed (out of fds, say): log it and go on. */
static void
xsd_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	log_error("accept: %s", strerror(EVUTIL_SOCKET_ERROR()));
}

/* Listen on a Unix socket at path (mode 0600, as Xen's). */
int
xsd_listen(struct xsd *xsd, const char *path)
{
	struct sockaddr_un	sun;
	mode_t			old;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return (-ENAMETOOLONG);
	strcpy(sun.sun_path, path);
	if (unlink(path) != 0 && errno != ENOENT)
		return (-errno);
	old = umask(0077);
	xsd->listener = evconnlistener_new_bind(xsd->base, xsd_accept, xsd,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (xsd->listener == NULL)
		return (errno != 0 ? -errno : -EIO);
	evconnlistener_set_error_cb(xsd->listener, xsd_accept_error);
	xsd->socket_path = xstrdup(path);
	log_info("listening on %s", path);
	return (0);
}

static const struct actor xsd_dom0 = { 0, PERMS_NO_TARGET, 1 };

/* Read a node's value as dom0; the value is NUL-terminated for ease. */
int
xsd_read(struct xsd *xsd, const char *path, char **value, size_t *len)
{
	struct nodeview	nv;
	int		e;

	*value = NULL;
	if ((e = store_read(xsd->store, NULL, &xsd_dom0, path, &nv)) != 0)
		return (e);
	*value = xmalloc(nv.vlen + 1);
	if (nv.vlen != 0)
		memcpy(*value, nv.value, nv.vlen);
	(*value)[nv.vlen] = '\0';
	if (len != NULL)
		*len = nv.vlen;
	return (0);
}

/* Write a node as dom0, firing watches as a client's write would. */
int
xsd_write(struct xsd *xsd, const char *path, const void *value, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX)
		return (-E2BIG);
	return (store_write(xsd->store, NULL, &xsd_dom0, path, value,
	    (uint32_t)len));
}

/* Watch a path (or special name) from inside the daemon. */
struct xsd_watch *
xsd_watch_add(struct xsd *xsd, const char *path, xsd_watch_cb *cb, void *arg)
{
	return ((struct xsd_watch *)watch_add_func(xsd->store->watches, path,
	    cb, arg));
}

/* Stop an in-process watch. */
void
xsd_watch_remove(struct xsd *xsd, struct xsd_watch *w)
{
	watch_remove_one(xsd->store->watches, (struct watch *)w);
}

/* The last commit's generation. */
uint64_t
xsd_generation(struct xsd *xsd)
{
	return (xsd->store->gen);
}
