/*
 * The console drainer (see consoled.h). For each console of type
 * "xenconsoled" the page is mapped (grant GNTTAB_RESERVED_CONSOLE, else
 * the frame in ring-ref) and the event channel in port bound. Every event
 * drains the output ring until it is empty: ring_read publishes out_cons
 * and reads out_prod again, so bytes written during the drain are taken in
 * the same turn. Every byte goes to the log; the pty gets them too, up to
 * the console's limit while nobody reads it (the oldest go first, as
 * xenconsoled does).
 *
 * Fairness: each domain has a token bucket (rate, burst). A domain out of
 * tokens is left undrained until they come back, so the guest itself
 * blocks on its full ring, as on Xen; nothing is dropped. When the log's
 * writer falls behind (more than backlog bytes waiting), all draining
 * pauses until it catches up: the daemon's memory stays bounded and still
 * nothing is dropped.
 *
 * Death loses nothing: when a domain is released, its ring is drained one
 * last time, whatever its bucket says, before the page is let go, and its
 * incarnation in the log is closed after those bytes.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <xen/grant_table.h>
#include <xen/io/console.h>

#include "consoled.h"
#include "db.h"
#include "hv.h"
#include "log.h"
#include "queue.h"
#include "ring.h"
#include "xmalloc.h"
#include "xsd.h"

#define CONSOLE_SWEEP_MS	200	/* rings checked for missed events */
#define CONSOLE_PAUSE_MS	10	/* re-check a full log queue */
#define CONSOLE_BUDGET		64	/* ring reads per turn */
#define CONSOLE_FINAL_READS	1024	/* a last drain's bound: a guest
					   still writing cannot hold the
					   loop */
#define CONSOLE_XEN_UUID	"00000000-0000-0000-0000-000000000000"

struct console {
	struct consoled		*cd;
	uint32_t		 domid;
	TAILQ_ENTRY(console)	 entry;
	int64_t			 inc;		/* incarnation in the log; <= 0
						   while none could be begun */
	uint64_t		 inc_tried_ns;
	char			 uuid[37];
	char			 name[65];
	struct xencons_interface *intf;		/* NULL: not set up */
	struct ring		 out;		/* guest to us */
	struct ring		 in;		/* us to guest */
	struct hv_port		*port;
	struct xsd_watch	*watch;		/* its console/ keys */
	char			*watch_path;
	struct xsd_watch	*name_watch;	/* its name */
	char			*name_path;
	/* The pty. */
	int			 ptm;
	int			 pts;		/* held open: no EIO when
						   clients come and go */
	struct event		*pty_read;
	struct event		*pty_write;
	struct evbuffer		*pty_out;
	size_t			 limit;		/* 0: cfg.pty_limit */
	uint64_t		 pty_dropped;
	bool			 pty_reading;
	/* Fairness. */
	int64_t			 tokens;
	uint64_t		 refilled_ns;
	struct event		*throttle;
	bool			 throttled;
	bool			 broken;
	uint64_t		 bytes;
};

struct consoled {
	struct event_base	*base;
	struct xsd		*xsd;
	struct hv		*hv;
	struct db		*db;
	struct consoled_config	 cfg;
	struct console		**bydomid;	/* DOMID_FIRST_RESERVED */
	TAILQ_HEAD(, console)	 consoles;
	unsigned		 nconsoles;
	struct xsd_watch	*w_intro;
	struct xsd_watch	*w_release;
	struct event		*sweep;
	struct event		*unpause;
	bool			 paused;	/* the log is behind */
	unsigned		 pty_failures;
	int64_t			 hv_inc;	/* the hypervisor's console */
	struct consoled_stats	 stats;
};

static void	console_drain(struct console *, bool);
static void	console_setup(struct consoled *, uint32_t);
static void	console_pty_open(struct console *);
static void	console_pty_close(struct console *);
static void	console_pty_broken(struct console *, const char *);
static bool	console_incarnation(struct console *, bool);

/* Nanoseconds since the epoch (capture times). */
static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Nanoseconds of a clock that never steps (the token buckets). */
static uint64_t
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Generous defaults: a guest printing its boot log at full speed is not
 * limited; one printing without end gets 4 MiB/s. */
void
consoled_config_defaults(struct consoled_config *cfg)
{
	cfg->rate = 4 * 1024 * 1024;
	cfg->burst = 16 * 1024 * 1024;
	cfg->backlog = 32 * 1024 * 1024;
	cfg->pty_limit = 1024 * 1024;
}

/* Read a store key as dom0; NULL if missing. */
static char *
console_key(struct consoled *cd, uint32_t domid, const char *key)
{
	char	 path[128], *v;

	snprintf(path, sizeof path, "/local/domain/%u/%s", domid, key);
	if (xsd_read(cd->xsd, path, &v, NULL) != 0)
		return (NULL);
	return (v);
}

/* Parse a whole unsigned number; -1 if it is not one. */
static int
console_number(const char *s, uint64_t *out)
{
	char	*end;

	if (s == NULL || *s == '\0')
		return (-1);
	errno = 0;
	*out = strtoull(s, &end, 0);
	return (*end != '\0' || errno != 0 ? -1 : 0);
}

/* Give the pty what it takes; keep at most limit bytes for later. */
static void
console_pty_flush(struct console *c)
{
	size_t	len;
	int	n;

	while ((len = evbuffer_get_length(c->pty_out)) != 0) {
		n = evbuffer_write(c->pty_out, c->ptm);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			console_pty_broken(c, strerror(errno));
			return;
		}
		if (n <= 0)
			break;
	}
	if (evbuffer_get_length(c->pty_out) != 0)
		event_add(c->pty_write, NULL);
	else
		event_del(c->pty_write);
}

/* Output for the pty: queued, the oldest dropped beyond the limit. */
static void
console_pty_queue(struct console *c, const void *buf, size_t len)
{
	size_t	have, limit = c->limit != 0 ? c->limit : c->cd->cfg.pty_limit;

	if (c->ptm < 0)
		return;
	evbuffer_add(c->pty_out, buf, len);
	have = evbuffer_get_length(c->pty_out);
	if (have > limit) {
		c->pty_dropped += have - limit;
		c->cd->stats.pty_dropped += have - limit;
		evbuffer_drain(c->pty_out, have - limit);
	}
	console_pty_flush(c);
}

static void
console_pty_writable(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	console_pty_flush(arg);
}

/* Start or stop reading what is typed (stop while the input ring is
 * full: the guest takes it at its pace). */
static void
console_pty_set_reading(struct console *c, bool on)
{
	if (c->ptm < 0 || on == c->pty_reading)
		return;
	c->pty_reading = on;
	if (on)
		event_add(c->pty_read, NULL);
	else
		event_del(c->pty_read);
}

/* Bytes typed into the pty go into the input ring. */
static void
console_pty_readable(evutil_socket_t fd, short events, void *arg)
{
	struct console	*c = arg;
	char		 buf[1024];
	ssize_t		 room, n;

	(void)events;
	if (c->intf == NULL)
		return;
	if ((room = ring_writable(&c->in)) <= 0) {
		console_pty_set_reading(c, false);
		return;
	}
	if ((size_t)room > sizeof buf)
		room = sizeof buf;
	n = read(fd, buf, (size_t)room);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Hung up: the master would stay readable forever. */
		console_pty_broken(c, n == 0 ? "end of file" :
		    strerror(errno));
		return;
	}
	if (n < 0)
		return;
	if (ring_write(&c->in, buf, (size_t)n) != n) {
		log_warn("console %u: bad input ring indices", c->domid);
		c->broken = true;
		return;
	}
	hv_notify(c->cd->hv, c->port);
}

/*
 * A pty for `xl console`: raw mode, its slave held open by us so that
 * the master never sees EIO when no client is attached, its path in
 * console/tty.
 */
static void
console_pty_open(struct console *c)
{
	struct consoled	*cd = c->cd;
	struct termios	 t;
	char		 path[128], *name;

	c->ptm = c->pts = -1;
	if ((c->ptm = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) < 0 || grantpt(c->ptm) != 0 || unlockpt(c->ptm) != 0 ||
	    (name = ptsname(c->ptm)) == NULL ||
	    (c->pts = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		/* Said once: at thousands of domains, kernel.pty.max (4096
		 * by default) or the open files limit runs out; the log
		 * still gets everything. */
		if (cd->pty_failures++ == 0)
			log_warn("console %u: no pty: %s (kernel.pty.max, or "
			    "the open files limit?); consoles without a pty "
			    "are still logged", c->domid, strerror(errno));
		else
			log_debug("console %u: no pty: %s", c->domid,
			    strerror(errno));
		if (c->ptm >= 0)
			close(c->ptm);
		c->ptm = -1;
		return;
	}
	if (tcgetattr(c->pts, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->pts, TCSANOW, &t);
	}
	c->pty_out = evbuffer_new();
	c->pty_read = event_new(cd->base, c->ptm, EV_READ | EV_PERSIST,
	    console_pty_readable, c);
	c->pty_write = event_new(cd->base, c->ptm, EV_WRITE,
	    console_pty_writable, c);
	console_pty_set_reading(c, true);
	snprintf(path, sizeof path, "/local/domain/%u/console/tty", c->domid);
	xsd_write(cd->xsd, path, name, strlen(name));
}

/* Close the pty (its buffered output is lost with it, never the log's). */
static void
console_pty_close(struct console *c)
{
	if (c->ptm < 0)
		return;
	event_free(c->pty_read);
	event_free(c->pty_write);
	evbuffer_free(c->pty_out);
	close(c->pts);
	close(c->ptm);
	c->ptm = c->pts = -1;
}

/* The pty was hung up (a client that took it as its controlling
 * terminal went away): make a new one, as xenconsoled does, and say where
 * it is in console/tty. */
static void
console_pty_broken(struct console *c, const char *why)
{
	log_info("console %u: pty broken (%s): making a new one", c->domid,
	    why);
	console_pty_close(c);
	console_pty_open(c);
}

/* Refill the bucket for the time gone by. */
static void
console_refill(struct console *c, uint64_t now)
{
	const struct consoled_config	*cfg = &c->cd->cfg;
	uint64_t			 add, ns;

	if (cfg->rate == 0)
		return;
	/* Long idle only fills the bucket: cap the time so that the
	 * product cannot overflow. */
	ns = now - c->refilled_ns;
	if (ns > (cfg->burst / cfg->rate + 1) * 1000000000u)
		ns = (cfg->burst / cfg->rate + 1) * 1000000000u;
	add = ns * cfg->rate / 1000000000u;
	if (add == 0)
		return;
	c->refilled_ns = now;
	c->tokens += (int64_t)add;
	if (c->tokens > (int64_t)cfg->burst)
		c->tokens = (int64_t)cfg->burst;
}

static void
console_unthrottle(evutil_socket_t fd, short events, void *arg)
{
	struct console	*c = arg;

	(void)fd;
	(void)events;
	c->throttled = false;
	console_drain(c, false);
}

/* Out of tokens: leave the ring alone until enough are back for a
 * ring's worth. */
static void
console_throttle(struct console *c)
{
	struct timeval	tv;
	uint64_t	us;

	if (!c->throttled)
		log_info("console %u: over %llu bytes/s: throttled", c->domid,
		    (unsigned long long)c->cd->cfg.rate);
	c->throttled = true;
	us = ((uint64_t)(c->tokens < 0 ? -c->tokens : 0) +
	    sizeof c->intf->out) * 1000000u / c->cd->cfg.rate + 1;
	tv.tv_sec = (time_t)(us / 1000000u);
	tv.tv_usec = (suseconds_t)(us % 1000000u);
	event_add(c->throttle, &tv);
}

static void
console_unpause(evutil_socket_t fd, short events, void *arg)
{
	struct consoled	*cd = arg;
	struct console	*c;
	struct timeval	 tv = { 0, CONSOLE_PAUSE_MS * 1000 };

	(void)fd;
	(void)events;
	if (db_queued(cd->db) > cd->cfg.backlog) {
		event_add(cd->unpause, &tv);
		return;
	}
	cd->paused = false;
	TAILQ_FOREACH(c, &cd->consoles, entry)
		console_drain(c, false);
}

/* The log is behind: stop draining everyone for a moment. */
static void
console_pause(struct consoled *cd)
{
	struct timeval	tv = { 0, CONSOLE_PAUSE_MS * 1000 };

	if (!cd->paused)
		log_info("console log %zu bytes behind: draining paused",
		    db_queued(cd->db));
	cd->paused = true;
	event_add(cd->unpause, &tv);
}

/*
 * Make sure the console has its incarnation in the log. Beginning one is
 * a commit; if it failed (disk full, say), it is tried again at most once
 * a second, and the ring is not drained meanwhile: the guest waits, and
 * nothing it prints is lost.
 *
 * An incarnation continued after a restart says where its committed
 * bytes end in the ring; what the ring's consumer index has gone past
 * that, the daemon before read and did not write (a kill -9, a crash,
 * a disk that failed): the log gets a line saying how many bytes were
 * lost there. An index gone backwards (the guest reset its ring, say)
 * is logged and not marked.
 */
static bool
console_incarnation(struct console *c, bool now)
{
	uint64_t	t = mono_ns();
	int64_t		ring_pos;
	uint32_t	pos, lost;

	if (c->inc > 0)
		return (true);
	if (!now && t - c->inc_tried_ns < 1000000000u)
		return (false);
	c->inc_tried_ns = t;
	pos = *c->out.cons;
	c->inc = db_incarnation_begin_ring(c->cd->db, c->domid, c->uuid,
	    c->name, now_ns(), pos, &ring_pos);
	if (c->inc <= 0) {
		log_warn("console %u: cannot begin its log: %s; not drained "
		    "until it can", c->domid, strerror((int)-c->inc));
		return (false);
	}
	if (ring_pos < 0)
		return (true);
	lost = pos - (uint32_t)ring_pos;
	if ((int32_t)lost < 0)
		log_warn("console %u: its ring's consumer index is %u bytes "
		    "before the log's last; not counted as lost (a ring "
		    "reset?)", c->domid, -lost);
	else if (lost > 0) {
		log_warn("console %u: %u bytes read before the restart were "
		    "not written; the log marks them lost", c->domid, lost);
		db_lost(c->cd->db, c->inc, lost, now_ns(),
		    xsd_generation(c->cd->xsd), pos);
		c->cd->stats.lost += lost;
	}
	return (true);
}

/*
 * Drain the output ring: until empty, or until the domain's tokens or
 * the turn's budget run out, or the log falls behind (final: until empty,
 * whatever the bucket says, but at most CONSOLE_FINAL_READS reads, 2 MiB:
 * a dead guest's ring holds 2 KiB, and one still writing must not hold
 * the loop). Each read publishes out_cons and looks at out_prod again.
 */
static void
console_drain(struct console *c, bool final)
{
	struct consoled	*cd = c->cd;
	char		 buf[sizeof c->intf->out];
	uint64_t	 now;
	ssize_t		 n;
	size_t		 want;
	bool		 moved = false;
	int		 budget = final ? CONSOLE_FINAL_READS : CONSOLE_BUDGET;

	if (c->intf == NULL || c->broken)
		return;
	if (!final && (c->throttled || cd->paused))
		return;
	if (!console_incarnation(c, final) && !final)
		return;
	now = now_ns();
	console_refill(c, mono_ns());
	while (budget-- > 0) {
		want = sizeof buf;
		if (!final && cd->cfg.rate != 0) {
			if (c->tokens <= 0) {
				console_throttle(c);
				break;
			}
			if ((uint64_t)c->tokens < want)
				want = (size_t)c->tokens;
		}
		if ((n = ring_read(&c->out, buf, want)) < 0) {
			log_warn("console %u: bad output ring indices: no "
			    "longer drained", c->domid);
			c->broken = true;
			break;
		}
		if (n == 0)
			break;
		moved = true;
		c->tokens -= n;
		c->bytes += (uint64_t)n;
		cd->stats.bytes += (uint64_t)n;
		db_append_ring(cd->db, c->inc, buf, (size_t)n, now,
		    xsd_generation(cd->xsd), *c->out.cons);
		console_pty_queue(c, buf, (size_t)n);
		if (!final && db_queued(cd->db) > cd->cfg.backlog) {
			console_pause(cd);
			break;
		}
	}
	/* Budget spent with more to read: go on after the others' turn
	 * (a zero timeout, so that the loop polls its descriptors first). */
	if (!final && budget < 0 && ring_readable(&c->out) > 0) {
		struct timeval	zero = { 0, 0 };

		event_add(c->throttle, &zero);
	}
	if (moved)
		hv_notify(cd->hv, c->port);
	/* The guest may have taken input: read the pty again. */
	if (ring_writable(&c->in) > 0)
		console_pty_set_reading(c, true);
}

/* The guest sent an event: output to drain, or input taken. */
static void
console_event(struct hv_port *p, void *arg)
{
	(void)p;
	console_drain(arg, false);
}

/* Every CONSOLE_SWEEP_MS: rings whose events were lost. */
static void
console_sweep(evutil_socket_t fd, short events, void *arg)
{
	struct consoled	*cd = arg;
	struct console	*c;

	(void)fd;
	(void)events;
	TAILQ_FOREACH(c, &cd->consoles, entry) {
		if (c->intf != NULL && c->intf->out_prod != c->intf->out_cons)
			console_drain(c, false);
	}
}

/* Let a console go: a last drain, its page and port and pty released,
 * and its incarnation closed if the domain is gone (else it stays open
 * for the daemon's next start to continue). */
static void
console_free(struct console *c, bool gone)
{
	struct consoled	*cd = c->cd;

	if (c->intf != NULL) {
		console_drain(c, true);
		if (c->pty_dropped != 0)
			log_info("console %u: %llu bytes never read from the "
			    "pty", c->domid,
			    (unsigned long long)c->pty_dropped);
		if (gone)
			db_incarnation_end(cd->db, c->inc, now_ns());
		hv_evtchn_unbind(cd->hv, c->port);
		hv_unmap(cd->hv, c->intf);
		c->intf = NULL;
	}
	console_pty_close(c);
	if (c->watch != NULL)
		xsd_watch_remove(cd->xsd, c->watch);
	if (c->name_watch != NULL)
		xsd_watch_remove(cd->xsd, c->name_watch);
	event_free(c->throttle);
	TAILQ_REMOVE(&cd->consoles, c, entry);
	cd->nconsoles--;
	cd->bydomid[c->domid] = NULL;
	log_info("console %u: closed after %llu bytes", c->domid,
	    (unsigned long long)c->bytes);
	free(c->watch_path);
	free(c->name_path);
	free(c);
}

/*
 * The domain's name changed (xl rename; a migrated guest, made as
 * "NAME--incoming" and renamed once it arrived): its log takes the new
 * name, so that xsconsole-tail finds the guest by the name it has now.
 * Begun again with it, the same incarnation (domid and uuid) is renamed
 * once what was queued before is committed, as at a boot.
 */
static void
console_name_changed(const char *path, void *arg)
{
	struct console	*c = arg;
	char		*name;
	int64_t		 inc;

	(void)path;
	if (c->intf == NULL ||
	    (name = console_key(c->cd, c->domid, "name")) == NULL)
		return;
	if (*name != '\0' && strncmp(name, c->name, sizeof c->name - 1) != 0) {
		log_info("console %u: renamed from '%s' to '%s'", c->domid,
		    c->name, name);
		snprintf(c->name, sizeof c->name, "%s", name);
		/* Not begun yet (console_incarnation retries): with it. */
		if (c->inc > 0 && (inc = db_incarnation_begin(c->cd->db,
		    c->domid, c->uuid, c->name, now_ns())) != c->inc)
			log_warn("console %u: renaming incarnation %lld: %s",
			    c->domid, (long long)c->inc, inc < 0 ?
			    strerror((int)-inc) : "another incarnation");
	}
	free(name);
}

/* The console's keys changed (or appeared): try to set it up. */
static void
console_keys_changed(const char *path, void *arg)
{
	struct console	*c = arg;

	(void)path;
	if (c->intf == NULL)
		console_setup(c->cd, c->domid);
}

/*
 * Set up domain domid's console if its keys say where it is: type
 * "xenconsoled", ring-ref, port (and limit). Until they do, a watch on
 * its console/ directory waits for them.
 */
static void
console_setup(struct consoled *cd, uint32_t domid)
{
	struct console		*c = cd->bydomid[domid];
	struct hv_dominfo	 info;
	char			*type, *ref, *port, *limit, *name;
	uint64_t		 gfn, evtchn, lim;
	void			*page;

	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->cd = cd;
		c->domid = domid;
		c->ptm = c->pts = -1;
		c->throttle = event_new(cd->base, -1, 0, console_unthrottle,
		    c);
		cd->bydomid[domid] = c;
		TAILQ_INSERT_TAIL(&cd->consoles, c, entry);
		cd->nconsoles++;
		xasprintf(&c->watch_path, "/local/domain/%u/console", domid);
		c->watch = xsd_watch_add(cd->xsd, c->watch_path,
		    console_keys_changed, c);
		xasprintf(&c->name_path, "/local/domain/%u/name", domid);
		c->name_watch = xsd_watch_add(cd->xsd, c->name_path,
		    console_name_changed, c);
	}
	if (c->intf != NULL)
		return;
	type = console_key(cd, domid, "console/type");
	ref = console_key(cd, domid, "console/ring-ref");
	port = console_key(cd, domid, "console/port");
	limit = console_key(cd, domid, "console/limit");
	/* No type is xenconsoled's, as in xenconsoled; others (ioemu) are
	 * not ours. */
	if ((type != NULL && strcmp(type, "xenconsoled") != 0) ||
	    console_number(ref, &gfn) != 0 ||
	    console_number(port, &evtchn) != 0 || evtchn == 0 ||
	    evtchn > UINT32_MAX)
		goto out;
	c->limit = console_number(limit, &lim) == 0 && lim != 0 ?
	    (size_t)lim : 0;
	page = hv_map_grant(cd->hv, domid, GNTTAB_RESERVED_CONSOLE, gfn);
	if (page == NULL) {
		log_warn("console %u: mapping its page: %s", domid,
		    strerror(errno));
		goto out;
	}
	c->port = hv_evtchn_bind(cd->hv, domid, (uint32_t)evtchn,
	    console_event, c);
	if (c->port == NULL) {
		log_warn("console %u: binding port %llu: %s", domid,
		    (unsigned long long)evtchn, strerror(errno));
		hv_unmap(cd->hv, page);
		goto out;
	}
	c->intf = page;
	c->out = (struct ring){ c->intf->out, sizeof c->intf->out,
	    &c->intf->out_cons, &c->intf->out_prod };
	c->in = (struct ring){ c->intf->in, sizeof c->intf->in,
	    &c->intf->in_cons, &c->intf->in_prod };
	c->tokens = (int64_t)cd->cfg.burst;
	c->refilled_ns = mono_ns();
	if (hv_domain_info(cd->hv, domid, &info) != 0)
		memset(&info, 0, sizeof info);
	name = console_key(cd, domid, "name");
	snprintf(c->uuid, sizeof c->uuid, "%s", info.uuid);
	snprintf(c->name, sizeof c->name, "%s", name != NULL ? name :
	    info.name);
	free(name);
	console_incarnation(c, true);
	console_pty_open(c);
	log_info("console %u: ring-ref %llu port %llu, log incarnation %lld",
	    domid, (unsigned long long)gfn, (unsigned long long)evtchn,
	    (long long)c->inc);
	console_drain(c, false);
out:
	free(type);
	free(ref);
	free(port);
	free(limit);
}

/* "@introduceDomain/<domid>" or "@releaseDomain/<domid>": the domid. */
static int
console_domid(const char *path, uint32_t *domid)
{
	const char	*slash = strrchr(path, '/');
	uint64_t	 v;

	if (slash == NULL || console_number(slash + 1, &v) != 0 ||
	    v == 0 || v >= HV_DOMID_XEN)
		return (-1);
	*domid = (uint32_t)v;
	return (0);
}

static void
consoled_introduced(const char *path, void *arg)
{
	uint32_t	domid;

	if (console_domid(path, &domid) == 0)
		console_setup(arg, domid);
}

/* A domain shut down (drain what it printed) or went away (a last
 * drain, then let its console go). */
static void
consoled_released(const char *path, void *arg)
{
	struct consoled	*cd = arg;
	struct console	*c;
	uint32_t	 domid;

	if (console_domid(path, &domid) != 0 ||
	    (c = cd->bydomid[domid]) == NULL)
		return;
	if (xsd_domain_introduced(cd->xsd, domid))
		console_drain(c, true);
	else
		console_free(c, true);
}

/* The hypervisor's own console grew. */
void
consoled_virq(struct consoled *cd, unsigned virq)
{
	char	buf[16384];
	size_t	len;
	int	i;

	if (virq != HV_VIRQ_CON_RING)
		return;
	if (cd->hv_inc <= 0)
		cd->hv_inc = db_incarnation_begin(cd->db, HV_DOMID_XEN,
		    CONSOLE_XEN_UUID, "xen", now_ns());
	if (cd->hv_inc <= 0)
		return;		/* tried again on the next VIRQ_CON_RING */
	for (i = 0; i < 64; i++) {
		if (hv_hypervisor_console(cd->hv, buf, sizeof buf, &len) != 0 ||
		    len == 0)
			break;
		db_append(cd->db, cd->hv_inc, buf, len, now_ns(),
		    xsd_generation(cd->xsd));
	}
}

/* Take a configuration. */
static void
consoled_config_use(struct consoled *cd, const struct consoled_config *cfg)
{
	cd->cfg = *cfg;
	/* A bucket smaller than a ring could never let a full ring out. */
	if (cd->cfg.rate != 0 && cd->cfg.burst < sizeof(((struct
	    xencons_interface *)0)->out) * 2)
		cd->cfg.burst = sizeof(((struct xencons_interface *)0)->out) * 2;
}

/* Change the limits live. A throttled console looks again at once, with
 * the new rate; a pty without its own limit key takes the new one. */
void
consoled_set_limits(struct consoled *cd, const struct consoled_config *cfg)
{
	struct console	*c;

	consoled_config_use(cd, cfg);
	TAILQ_FOREACH(c, &cd->consoles, entry) {
		if (c->tokens > (int64_t)cd->cfg.burst)
			c->tokens = (int64_t)cd->cfg.burst;
		if (c->throttled) {
			event_del(c->throttle);
			event_active(c->throttle, EV_TIMEOUT, 0);
		}
	}
	if (cd->paused) {
		event_del(cd->unpause);
		event_active(cd->unpause, EV_TIMEOUT, 0);
	}
}

/* What the drainer has done since it started. */
void
consoled_stats(const struct consoled *cd, struct consoled_stats *out)
{
	*out = cd->stats;
}

/*
 * The logs a daemon before this one left open, of domains not served now:
 * gone while no daemon ran (or the host rebooted). They end now, when
 * that is seen; else xsconsole-tail would show them alive for ever.
 */
static void
consoled_end_orphans(struct consoled *cd)
{
	struct db_incarnation	*incs;
	size_t			 n, i;
	int			 e;

	if (cd->db == NULL)
		return;
	if ((e = db_incarnations_live(cd->db, &incs, &n)) != 0) {
		log_warn("consoles: cannot look for logs left open: %s",
		    strerror(-e));
		return;
	}
	for (i = 0; i < n; i++) {
		if (incs[i].domid == 0 || incs[i].domid >= HV_DOMID_XEN ||
		    xsd_domain_introduced(cd->xsd, incs[i].domid))
			continue;
		log_info("console %u: its log (incarnation %lld) ends: the "
		    "domain went while the daemon was down", incs[i].domid,
		    (long long)incs[i].id);
		db_incarnation_end(cd->db, incs[i].id, now_ns());
	}
	free(incs);
}

/* Start draining consoles; domains introduced already are looked at, and
 * the logs of those gone since the last daemon ended. */
struct consoled *
consoled_create(struct event_base *base, struct xsd *xsd, struct hv *hv,
    struct db *db, const struct consoled_config *cfg)
{
	struct consoled	*cd = xcalloc(1, sizeof *cd);
	struct timeval	 tv = { 0, CONSOLE_SWEEP_MS * 1000 };
	uint32_t	 domid;

	cd->base = base;
	cd->xsd = xsd;
	cd->hv = hv;
	cd->db = db;
	consoled_config_use(cd, cfg);
	cd->bydomid = xcalloc(HV_DOMID_XEN, sizeof *cd->bydomid);
	TAILQ_INIT(&cd->consoles);
	cd->w_intro = xsd_watch_add(xsd, "@introduceDomain",
	    consoled_introduced, cd);
	cd->w_release = xsd_watch_add(xsd, "@releaseDomain",
	    consoled_released, cd);
	cd->sweep = event_new(base, -1, EV_PERSIST, console_sweep, cd);
	cd->unpause = event_new(base, -1, 0, console_unpause, cd);
	event_add(cd->sweep, &tv);
	for (domid = 1; domid < HV_DOMID_XEN; domid++) {
		if (xsd_domain_introduced(xsd, domid))
			console_setup(cd, domid);
	}
	consoled_end_orphans(cd);
	consoled_virq(cd, HV_VIRQ_CON_RING);
	return (cd);
}

/* Stop: every console drained one last time and closed, the log told. */
void
consoled_free(struct consoled *cd)
{
	struct console	*c;

	if (cd == NULL)
		return;
	xsd_watch_remove(cd->xsd, cd->w_intro);
	xsd_watch_remove(cd->xsd, cd->w_release);
	while ((c = TAILQ_FIRST(&cd->consoles)) != NULL)
		console_free(c, false);
	event_free(cd->sweep);
	event_free(cd->unpause);
	free(cd->bydomid);
	free(cd);
}

/* How many consoles are being drained. */
unsigned
consoled_count(const struct consoled *cd)
{
	return (cd->nconsoles);
}
