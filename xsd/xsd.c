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
#include "settings.h"
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
	/* Stopping is not forgetting: the durable copy keeps the domains
	 * and their watches for the next start. */
	xsd_set_persist(xsd, NULL, NULL);
	while ((c = TAILQ_FIRST(&xsd->conns)) != NULL)
		conn_free(c);
	domain_fini(xsd);
	if (xsd->settings != NULL)
		settings_detach(xsd->settings);
	if (xsd->rate_tick != NULL)
		event_free(xsd->rate_tick);
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

/* Write a node as dom0, firing watches as a client's write would. The
 * commit is the daemon's own (origin 0), also when a request led to it
 * (the console's pty path, written as XS_INTRODUCE sets the console up). */
int
xsd_write(struct xsd *xsd, const char *path, const void *value, size_t len)
{
	uint32_t	origin = xsd->origin;
	int		error;

	if (len > XENSTORE_PAYLOAD_MAX)
		return (-E2BIG);
	xsd->origin = 0;
	error = store_write(xsd->store, NULL, &xsd_dom0, path, value,
	    (uint32_t)len);
	xsd->origin = origin;
	return (error);
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

/* Change one quota live (as the quota/<name> setting). */
int
xsd_set_quota(struct xsd *xsd, const char *name, long v)
{
	return (xsd_quota_set(&xsd->cfg.quota, name, v));
}

/* Change the socket stall timeout live; armed timers keep theirs. */
void
xsd_set_stall_timeout(struct xsd *xsd, unsigned seconds)
{
	xsd->cfg.stall_timeout = seconds;
}

/* Count the requests once a second, for the rates. */
static void
xsd_rate_tick(evutil_socket_t fd, short events, void *arg)
{
	struct xsd	*xsd = arg;

	(void)fd;
	(void)events;
	memmove(xsd->rate_samples + 1, xsd->rate_samples,
	    (XSD_RATE_SAMPLES - 1) * sizeof xsd->rate_samples[0]);
	xsd->rate_samples[0] = xsd->requests;
	if (xsd->rate_nsamples < XSD_RATE_SAMPLES)
		xsd->rate_nsamples++;
}

/* Requests a second over the last n seconds (fewer just after start). */
static uint64_t
xsd_rate(const struct xsd *xsd, unsigned n)
{
	if (xsd->rate_nsamples < 2)
		return (0);
	if (n > xsd->rate_nsamples - 1)
		n = xsd->rate_nsamples - 1;
	return ((xsd->rate_samples[0] - xsd->rate_samples[n]) / n);
}

/* The statistics (stats/<name>). */
static uint64_t
xsd_stat_connections(void *arg)
{
	return (((struct xsd *)arg)->nconns);
}

static uint64_t
xsd_stat_domains(void *arg)
{
	return (((struct xsd *)arg)->ndomains);
}

static uint64_t
xsd_stat_requests(void *arg)
{
	return (((struct xsd *)arg)->requests);
}

static uint64_t
xsd_stat_rate1(void *arg)
{
	return (xsd_rate(arg, 1));
}

static uint64_t
xsd_stat_rate10(void *arg)
{
	return (xsd_rate(arg, 10));
}

static uint64_t
xsd_stat_commits(void *arg)
{
	return (((struct xsd *)arg)->store->commits);
}

static uint64_t
xsd_stat_conflicts(void *arg)
{
	return (((struct xsd *)arg)->store->conflicts);
}

static uint64_t
xsd_stat_generation(void *arg)
{
	return (((struct xsd *)arg)->store->gen);
}

static uint64_t
xsd_stat_nodes(void *arg)
{
	return (((struct xsd *)arg)->store->tree->nnodes);
}

static uint64_t
xsd_stat_watches(void *arg)
{
	return (watch_count(((struct xsd *)arg)->store->watches));
}

static uint64_t
xsd_stat_events_sent(void *arg)
{
	return (((struct xsd *)arg)->events_sent);
}

static uint64_t
xsd_stat_events_dropped(void *arg)
{
	return (((struct xsd *)arg)->dropped_events);
}

static uint64_t
xsd_stat_conns_dropped(void *arg)
{
	return (((struct xsd *)arg)->dropped_conns);
}

/*
 * Serve the settings below /tool/xsconsoled (their nodes are written
 * now, from the registry's values) with the engine's statistics.
 */
void
xsd_attach_settings(struct xsd *xsd, struct settings *s)
{
	static const struct {
		const char		*name;
		settings_stat_fn	*fn;
	} stats[] = {
		{ "connections", xsd_stat_connections },
		{ "domains", xsd_stat_domains },
		{ "requests", xsd_stat_requests },
		{ "requests-per-second", xsd_stat_rate1 },
		{ "requests-per-second-10s", xsd_stat_rate10 },
		{ "commits", xsd_stat_commits },
		{ "conflicts", xsd_stat_conflicts },
		{ "generation", xsd_stat_generation },
		{ "nodes", xsd_stat_nodes },
		{ "watches", xsd_stat_watches },
		{ "watch-events", xsd_stat_events_sent },
		{ "watch-events-dropped", xsd_stat_events_dropped },
		{ "connections-dropped", xsd_stat_conns_dropped },
	};
	struct timeval	tv = { 1, 0 };
	size_t		i;

	for (i = 0; i < sizeof stats / sizeof stats[0]; i++)
		settings_add_stat(s, stats[i].name, stats[i].fn, xsd);
	settings_attach(s, xsd->store);
	xsd->settings = s;
	if (xsd->rate_tick == NULL) {
		xsd->rate_tick = event_new(xsd->base, -1, EV_PERSIST,
		    xsd_rate_tick, xsd);
		event_add(xsd->rate_tick, &tv);
	}
}
