/*
 * xsc-sim guest: the guest agents of many domains in one process. Each
 * guest maps its two pages and binds its evtchn.sock; one epoll set holds
 * every guest's socket, and a 10 ms tick looks at every ring anyway
 * (events are hints that can be dropped, and rate limits need a clock).
 * A guest can write console output (a file, or generated text), take
 * console input (to a file, echoed back), boot (a Linux PV guest's
 * xenbus traffic) and measure read round trips.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "sim.h"
#include "simdom.h"
#include "xmalloc.h"
#include "xsring.h"

#define GUEST_TICK_US		10000	/* look at every ring this often */
#define GUEST_TIMEOUT_MS	5000	/* reply, or console stall */
#define GUEST_CHUNK		1024
#define GUEST_ECHO		1024	/* input waiting to be echoed */
#define GUEST_TX_RETRIES	100
#define GUEST_MAX_EVENTS	512
#define GUEST_ERRORS_SHOWN	10

/* One request of a Linux PV guest's boot, on its xenbus. */
struct boot_step {
	uint32_t	 type;
	const char	*path;
	const char	*value;		/* write's value, watch's token */
	bool		 in_tx;
};

/*
 * What a PV guest's kernel does over xenbus while it boots: read its name
 * and domid, its balloon target, publish its frontends (block, network)
 * and what its agent reports under data/, watch control/shutdown, and
 * switch two frontends to Connected in transactions.
 */
static const struct boot_step boot_steps[] = {
	{ XS_READ, "name", NULL, false },
	{ XS_READ, "domid", NULL, false },
	{ XS_READ, "memory/target", NULL, false },
	{ XS_WATCH, "control/shutdown", "shutdown", false },
	{ XS_WRITE, "device/vbd/51712/ring-ref", "8", false },
	{ XS_WRITE, "device/vbd/51712/event-channel", "3", false },
	{ XS_WRITE, "device/vbd/51712/protocol", "x86_64-abi", false },
	{ XS_WRITE, "device/vbd/51712/state", "3", false },
	{ XS_WRITE, "device/vif/0/tx-ring-ref", "9", false },
	{ XS_WRITE, "device/vif/0/rx-ring-ref", "10", false },
	{ XS_WRITE, "device/vif/0/event-channel", "4", false },
	{ XS_WRITE, "device/vif/0/request-rx-copy", "1", false },
	{ XS_WRITE, "device/vif/0/feature-sg", "1", false },
	{ XS_WRITE, "device/vif/0/state", "3", false },
	{ XS_TRANSACTION_START, NULL, NULL, false },
	{ XS_READ, "device/vbd/51712/state", NULL, true },
	{ XS_READ, "device/vbd/51712/ring-ref", NULL, true },
	{ XS_WRITE, "device/vbd/51712/feature-persistent", "1", true },
	{ XS_WRITE, "device/vbd/51712/state", "4", true },
	{ XS_TRANSACTION_END, NULL, "T", true },
	{ XS_TRANSACTION_START, NULL, NULL, false },
	{ XS_READ, "device/vif/0/state", NULL, true },
	{ XS_WRITE, "device/vif/0/feature-rx-notify", "1", true },
	{ XS_WRITE, "device/vif/0/state", "4", true },
	{ XS_TRANSACTION_END, NULL, "T", true },
	{ XS_WRITE, "data/os_name", "Debian GNU/Linux 12 (bookworm)", false },
	{ XS_WRITE, "data/os_uname", "6.1.0-sim", false },
	{ XS_WRITE, "data/os_distro", "debian", false },
	{ XS_WRITE, "data/os_majorver", "12", false },
	{ XS_WRITE, "data/os_minorver", "0", false },
	{ XS_WRITE, "data/updated", "1", false },
};
#define BOOT_STEPS	((int)(sizeof boot_steps / sizeof boot_steps[0]))

struct gopts {
	char		*file;		/* --console-file's bytes */
	uint64_t	 total;		/* console bytes to write per guest */
	uint64_t	 rate;		/* bytes/s per guest, 0: no limit */
	size_t		 chunk;
	const char	*input;		/* --console-input FILE prefix */
	bool		 echo;
	bool		 boot;
	uint64_t	 rtt;
	bool		 rtt_writes;	/* round trips write data/rtt = k */
	uint64_t	 rtt_gap_us;	/* between a reply and the next */
	const char	*report;
	bool		 forever;
	uint64_t	 timeout_us;
};

struct guest {
	struct simdom	 sd;
	struct xsring	 xr;
	struct conring	 cr;
	uint32_t	 domid;

	/* The store: boot steps, then round trips. */
	int		 step;
	int		 tx_step;	/* the open transaction's start */
	uint32_t	 tx;
	unsigned	 tx_tries;
	uint64_t	 rtt_done;
	uint32_t	 next_req;
	uint32_t	 want;		/* the request out, 0 if none */
	uint64_t	 sent_us;
	uint64_t	 replied_us;
	uint64_t	 start_us;
	uint64_t	 boot_us;
	bool		 store_done;
	bool		 xs_kick;	/* a notification is owed */

	/* The console. */
	uint64_t	 con_off;	/* output bytes written */
	uint32_t	 last_cons;
	uint64_t	 last_move;	/* when out_cons last moved */
	char		 echo[GUEST_ECHO];
	size_t		 echolen;
	bool		 con_done;
	bool		 in_broken;
	bool		 cons_kick;

	bool		 done;
};

struct gworld {
	struct gopts	 o;
	struct guest	*guests;
	size_t		 n;
	size_t		 active;	/* guests not done */
	char		*buf;		/* one chunk of console text */
	uint32_t	*lat;		/* round trips, microseconds */
	size_t		 nlat;
	size_t		 caplat;
	uint64_t	 ops;
	uint64_t	 errors;	/* ERR replies, broken rings, files */
	uint64_t	 timeouts;	/* replies, consoles not read */
	uint64_t	 said;
	uint64_t	 retries;
	uint64_t	 watch_events;
	uint64_t	 stale;
	uint64_t	 con_bytes;
	uint64_t	 con_writes;	/* chunks of text put in rings */
	uint64_t	 in_bytes;
	bool		 broken;
};

static void	guest_usage(FILE *);
static void	guest_say(struct gworld *, struct guest *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	guest_finish_store(struct guest *);
static void	guest_request(struct gworld *, struct guest *);
static void	guest_reply(struct gworld *, struct guest *, struct xsr_msg *);
static void	guest_store(struct gworld *, struct guest *, uint64_t);
static void	guest_input(struct gworld *, struct guest *);
static void	guest_output(struct gworld *, struct guest *, uint64_t);
static void	guest_service(struct gworld *, struct guest *);
static int	guest_all(const char *, uint32_t **, size_t *);
static int	guest_lat_cmp(const void *, const void *);
static int	guest_u64_cmp(const void *, const void *);
static uint32_t	guest_percentile(const uint32_t *, size_t, unsigned);
static int	guest_report(struct gworld *, uint64_t);
static int	guest_loop(struct gworld *, int, int);
static int	guest_read_file(const char *, char **, uint64_t *);
static void	guest_nofile(size_t);

/* Print the usage of guest. */
static void
guest_usage(FILE *f)
{
	fprintf(f, "usage: xsc-sim guest [--console-file F | --console-bytes "
	    "N] [--console-rate BPS]\n"
	    "           [--console-chunk N] [--console-input FILE] "
	    "[--no-echo] [--boot]\n"
	    "           [--rtt N [--rtt-writes] [--rtt-gap MS]] [--report FILE] "
	    "[--timeout MS] "
	    "[--forever] ID...|--all\n");
}

/* Say what went wrong with a guest: the first few times only, as ten
 * thousand guests can fail alike. The caller counts it. */
static void
guest_say(struct gworld *w, struct guest *g, const char *fmt, ...)
{
	va_list	ap;

	if (++w->said > GUEST_ERRORS_SHOWN)
		return;
	fprintf(stderr, "xsc-sim guest: domain %u: ", g->domid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (w->said == GUEST_ERRORS_SHOWN)
		fprintf(stderr, "xsc-sim guest: (further failures only "
		    "counted)\n");
}

/* The store work of a guest is over (done, or given up). */
static void
guest_finish_store(struct guest *g)
{
	g->store_done = true;
	g->want = 0;
}

/* Send the guest's next request, or finish its store work. */
static void
guest_request(struct gworld *w, struct guest *g)
{
	const struct boot_step	*s;
	char			 payload[256];
	size_t			 len = 0, n;
	uint32_t		 type;

	if (g->store_done || g->want != 0)
		return;
	if (w->o.boot && g->step < BOOT_STEPS) {
		s = &boot_steps[g->step];
		type = s->type;
		if (s->path != NULL) {
			n = strlen(s->path) + 1;
			memcpy(payload, s->path, n);
			len = n;
		}
		if (type == XS_WRITE) {
			n = strlen(s->value);
			memcpy(payload + len, s->value, n);
			len += n;
		} else if (s->value != NULL) {
			n = strlen(s->value) + 1;
			memcpy(payload + len, s->value, n);
			len += n;
		} else if (type == XS_TRANSACTION_START)
			payload[len++] = '\0';
		if (type == XS_TRANSACTION_START)
			g->tx_step = g->step;
		if ((g->want = g->next_req++) == 0)
			g->want = g->next_req++;
		xsring_queue(&g->xr, type, g->want, s->in_tx ? g->tx : 0,
		    payload, len);
	} else if (g->rtt_done < w->o.rtt) {
		if (g->rtt_done != 0 && w->o.rtt_gap_us != 0 &&
		    now_us() < g->replied_us + w->o.rtt_gap_us)
			return;
		if ((g->want = g->next_req++) == 0)
			g->want = g->next_req++;
		if (w->o.rtt_writes) {
			len = (size_t)snprintf(payload, sizeof payload,
			    "data/rtt%c%" PRIu64, '\0', g->rtt_done + 1);
			xsring_queue(&g->xr, XS_WRITE, g->want, 0, payload,
			    len);
		} else
			xsring_queue(&g->xr, XS_READ, g->want, 0, "name", 5);
	} else {
		guest_finish_store(g);
		return;
	}
	g->sent_us = now_us();
}

/* The reply to the guest's request: time it, judge it, move on. */
static void
guest_reply(struct gworld *w, struct guest *g, struct xsr_msg *m)
{
	const struct boot_step	*s = NULL;
	uint64_t		 now = now_us(), id;
	uint32_t		 type = XS_READ;

	if (w->nlat == w->caplat) {
		w->caplat = w->caplat == 0 ? 4096 : 2 * w->caplat;
		w->lat = xrealloc(w->lat, w->caplat * sizeof *w->lat);
	}
	w->lat[w->nlat++] = (uint32_t)(now - g->sent_us > UINT32_MAX ?
	    UINT32_MAX : now - g->sent_us);
	w->ops++;
	g->want = 0;
	g->replied_us = now;
	if (w->o.boot && g->step < BOOT_STEPS) {
		s = &boot_steps[g->step];
		type = s->type;
	} else if (w->o.rtt_writes)
		type = XS_WRITE;

	if (m->hdr.type == XS_ERROR) {
		if (type == XS_TRANSACTION_END && strcmp(m->body, "EAGAIN") ==
		    0 && ++g->tx_tries < GUEST_TX_RETRIES) {
			/* A conflict: the whole transaction again. */
			w->retries++;
			g->tx = 0;
			g->step = g->tx_step;
			return;
		}
		w->errors++;
		guest_say(w, g, "%s %s: %s", sim_type_name(type),
		    s != NULL && s->path != NULL ? s->path : "name", m->body);
		if (type == XS_TRANSACTION_START) {
			/* No transaction: skip its steps. */
			while (g->step + 1 < BOOT_STEPS &&
			    boot_steps[g->step + 1].in_tx)
				g->step++;
		}
		if (type == XS_TRANSACTION_END)
			g->tx = 0;
	} else if (m->hdr.type != type) {
		w->errors++;
		guest_say(w, g, "a %s request got a reply of type %u",
		    sim_type_name(type), m->hdr.type);
	} else if (type == XS_TRANSACTION_START) {
		if (sim_parse_u64(m->body, UINT32_MAX, &id) != 0 || id == 0) {
			w->errors++;
			guest_say(w, g, "TRANSACTION_START: bad id");
			while (g->step + 1 < BOOT_STEPS &&
			    boot_steps[g->step + 1].in_tx)
				g->step++;
		} else
			g->tx = (uint32_t)id;
	} else if (type == XS_TRANSACTION_END) {
		g->tx = 0;
		g->tx_tries = 0;
	}

	if (s != NULL) {
		if (++g->step == BOOT_STEPS) {
			g->boot_us = now - g->start_us;
			printf("boot %u %" PRIu64 "\n", g->domid, g->boot_us);
		}
	} else
		g->rtt_done++;
}

/* The xenstore ring: push requests, take replies, keep the next request
 * going; notice a reply that does not come. */
static void
guest_store(struct gworld *w, struct guest *g, uint64_t now)
{
	struct xsr_msg	m;
	size_t		moved = 0;
	ssize_t		n;
	int		e;

	if (g->store_done)
		return;
	guest_request(w, g);
	for (;;) {
		if ((n = xsring_push(&g->xr)) < 0) {
			e = (int)n;
			goto broken;
		}
		if (n > 0)
			g->xs_kick = true;
		while ((e = xsring_pull(&g->xr, &m, &moved)) == 1) {
			if (m.hdr.type == XS_WATCH_EVENT)
				w->watch_events++;
			else if (g->want != 0 && m.hdr.req_id == g->want)
				guest_reply(w, g, &m);
			else
				w->stale++;
			xsr_msg_free(&m);
		}
		if (e < 0)
			goto broken;
		if (g->want != 0 || g->store_done)
			break;
		guest_request(w, g);
		if (g->want == 0)	/* waiting out --rtt-gap */
			break;
	}
	if (moved > 0)
		g->xs_kick = true;
	if (g->xs_kick && simdom_notify(&g->sd, SIM_XS_PORT) == 0)
		g->xs_kick = false;
	if (g->want != 0 && now > g->sent_us + w->o.timeout_us) {
		w->timeouts++;
		guest_say(w, g, "no reply in %" PRIu64 " ms; its store work "
		    "stops", w->o.timeout_us / 1000);
		guest_finish_store(g);
	}
	return;

broken:
	w->broken = true;
	w->errors++;
	guest_say(w, g, "%s; its store work stops", e == -EPROTO ?
	    "a reply announces more than XENSTORE_PAYLOAD_MAX bytes" :
	    "impossible xenstore ring indices");
	guest_finish_store(g);
}

/* Console input: take what the daemon wrote, keep it in FILE.<id>, echo
 * it back as a terminal would. */
static void
guest_input(struct gworld *w, struct guest *g)
{
	char	buf[GUEST_ECHO], path[PATH_MAX];
	size_t	room = sizeof buf;
	ssize_t	n;
	int	fd;

	if (g->in_broken)
		return;
	if (w->o.echo)
		room = sizeof g->echo - g->echolen;
	if (room == 0)
		return;
	if ((n = ring_read(&g->cr.in, buf, room)) < 0) {
		g->in_broken = true;
		w->broken = true;
		w->errors++;
		guest_say(w, g, "impossible console input indices");
		return;
	}
	if (n == 0)
		return;
	g->cons_kick = true;
	w->in_bytes += (uint64_t)n;
	if (w->o.input != NULL) {
		snprintf(path, sizeof path, "%s.%u", w->o.input, g->domid);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);
		if (fd < 0 || write(fd, buf, (size_t)n) != n) {
			w->errors++;
			guest_say(w, g, "%s: %s", path, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	if (w->o.echo) {
		memcpy(g->echo + g->echolen, buf, (size_t)n);
		g->echolen += (size_t)n;
	}
}

/* Console output: echoed input first, then the guest's text, a chunk at
 * a time with a notification each, as far as the ring and the rate
 * allow. Done once all of it is written and the daemon has read it. */
static void
guest_output(struct gworld *w, struct guest *g, uint64_t now)
{
	uint64_t	left, allowed, sent;
	uint32_t	cons, prod;
	ssize_t		n, room;
	size_t		len;

	if (g->con_done && g->echolen == 0)
		return;
	for (;;) {
		if ((room = ring_writable(&g->cr.out)) < 0)
			goto broken;
		if (room == 0)
			break;
		if (g->echolen > 0) {
			if ((n = ring_write(&g->cr.out, g->echo,
			    g->echolen)) < 0)
				goto broken;
			memmove(g->echo, g->echo + n, g->echolen - (size_t)n);
			g->echolen -= (size_t)n;
		} else {
			left = g->con_done ? 0 : w->o.total - g->con_off;
			len = w->o.chunk;
			if (len > left)
				len = (size_t)left;
			if (len > (size_t)room)
				len = (size_t)room;
			if (w->o.rate > 0) {
				sent = (now - g->start_us) * w->o.rate /
				    1000000 + w->o.chunk;
				allowed = sent > g->con_off ? sent -
				    g->con_off : 0;
				if (len > allowed)
					len = (size_t)allowed;
			}
			if (len == 0)
				break;
			if (w->o.file != NULL)
				memcpy(w->buf, w->o.file + g->con_off, len);
			else
				congen_fill(g->domid, g->con_off, w->buf, len);
			if ((n = ring_write(&g->cr.out, w->buf, len)) < 0)
				goto broken;
			g->con_off += (uint64_t)n;
			w->con_bytes += (uint64_t)n;
			w->con_writes++;
		}
		if (simdom_notify(&g->sd, SIM_CONS_PORT) != 0)
			g->cons_kick = true;
	}

	/* Has the daemon read what is there? */
	cons = g->cr.intf->out_cons;
	prod = g->cr.intf->out_prod;
	if (cons != g->last_cons || cons == prod) {
		g->last_cons = cons;
		g->last_move = now;
	}
	if (g->con_done)
		return;
	if (g->con_off == w->o.total && cons == prod)
		g->con_done = true;
	else if (cons != prod && now > g->last_move + w->o.timeout_us) {
		w->timeouts++;
		guest_say(w, g, "console output not read for %" PRIu64
		    " ms (%u bytes waiting, %" PRIu64 " of %" PRIu64
		    " written); it stops", w->o.timeout_us / 1000,
		    prod - cons, g->con_off, w->o.total);
		g->con_done = true;
	}
	return;

broken:
	w->broken = true;
	w->errors++;
	guest_say(w, g, "impossible console output indices; it stops");
	g->con_done = true;
	g->echolen = 0;
}

/* Look at all of a guest's rings once. */
static void
guest_service(struct gworld *w, struct guest *g)
{
	uint64_t	now = now_us();

	if (g->done && !w->o.forever)
		return;
	guest_store(w, g, now);
	if (g->cr.intf != NULL) {
		guest_input(w, g);
		guest_output(w, g, now);
		if (g->cons_kick && simdom_notify(&g->sd, SIM_CONS_PORT) == 0)
			g->cons_kick = false;
	}
	if (!g->done && g->store_done && g->con_done) {
		g->done = true;
		w->active--;
	}
}

/* Every running domain under root/domains, in a new array. */
static int
guest_all(const char *root, uint32_t **out, size_t *count)
{
	struct dirent	*de;
	uint32_t	*ids = NULL, id;
	size_t		 n = 0, cap = 0;
	char		 path[PATH_MAX], state[32];
	FILE		*f;
	DIR		*dir;

	snprintf(path, sizeof path, "%s/domains", root);
	if ((dir = opendir(path)) == NULL)
		return (-errno);
	while ((de = readdir(dir)) != NULL) {
		if (sim_parse_domid(de->d_name, &id) != 0)
			continue;
		snprintf(path, sizeof path, "%s/domains/%u/state", root, id);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(state, sizeof state, f) == NULL)
			state[0] = '\0';
		fclose(f);
		if (strcmp(state, "running\n") != 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[n++] = id;
	}
	closedir(dir);
	*out = ids;
	*count = n;
	return (0);
}

/* Order round-trip times, for qsort. */
static int
guest_lat_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* Order boot times, for qsort. */
static int
guest_u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile of the sorted times. */
static uint32_t
guest_percentile(const uint32_t *lat, size_t n, unsigned p)
{
	size_t	i;

	if (n == 0)
		return (0);
	i = (n * p + 99) / 100;
	return (lat[i == 0 ? 0 : i - 1]);
}

/* Write the summary, one "key value" line per figure. */
static int
guest_report(struct gworld *w, uint64_t elapsed)
{
	uint64_t	*boots, sum = 0;
	size_t		 i, nb = 0;
	FILE		*f;

	if (w->o.report == NULL)
		return (0);
	if ((f = fopen(w->o.report, "w")) == NULL) {
		fprintf(stderr, "xsc-sim guest: %s: %s\n", w->o.report,
		    strerror(errno));
		return (-1);
	}
	qsort(w->lat, w->nlat, sizeof *w->lat, guest_lat_cmp);
	for (i = 0; i < w->nlat; i++)
		sum += w->lat[i];
	fprintf(f, "guests %zu\n", w->n);
	fprintf(f, "elapsed_us %" PRIu64 "\n", elapsed);
	fprintf(f, "ops %" PRIu64 "\n", w->ops);
	fprintf(f, "errors %" PRIu64 "\n", w->errors);
	fprintf(f, "timeouts %" PRIu64 "\n", w->timeouts);
	fprintf(f, "tx_retries %" PRIu64 "\n", w->retries);
	fprintf(f, "watch_events %" PRIu64 "\n", w->watch_events);
	fprintf(f, "stale_messages %" PRIu64 "\n", w->stale);
	fprintf(f, "latency_p50_us %u\n", guest_percentile(w->lat, w->nlat,
	    50));
	fprintf(f, "latency_p99_us %u\n", guest_percentile(w->lat, w->nlat,
	    99));
	fprintf(f, "latency_max_us %u\n", w->nlat ? w->lat[w->nlat - 1] : 0);
	fprintf(f, "latency_mean_us %" PRIu64 "\n", w->nlat ? sum / w->nlat :
	    0);
	if (w->o.boot) {
		boots = xcalloc(w->n, sizeof *boots);
		for (i = 0; i < w->n; i++) {
			if (w->guests[i].step == BOOT_STEPS)
				boots[nb++] = w->guests[i].boot_us;
		}
		qsort(boots, nb, sizeof *boots, guest_u64_cmp);
		fprintf(f, "boots %zu\n", nb);
		fprintf(f, "boot_p50_us %" PRIu64 "\n", nb ?
		    boots[(nb + 1) / 2 - 1] : 0);
		fprintf(f, "boot_max_us %" PRIu64 "\n", nb ? boots[nb - 1] :
		    0);
		free(boots);
	}
	fprintf(f, "console_bytes %" PRIu64 "\n", w->con_bytes);
	fprintf(f, "console_writes %" PRIu64 "\n", w->con_writes);
	fprintf(f, "console_input_bytes %" PRIu64 "\n", w->in_bytes);
	if (fclose(f) != 0) {
		fprintf(stderr, "xsc-sim guest: %s: %s\n", w->o.report,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Run until every guest is done (or, with --forever, until a signal). */
static int
guest_loop(struct gworld *w, int ep, int sigfd)
{
	struct epoll_event	 evs[GUEST_MAX_EVENTS];
	struct signalfd_siginfo	 si;
	struct guest		*g;
	uint64_t		 next_tick = now_us() + GUEST_TICK_US, now;
	size_t			 i;
	int			 n, k;

	while (w->o.forever || w->active > 0) {
		n = epoll_wait(ep, evs, GUEST_MAX_EVENTS, GUEST_TICK_US / 1000);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "xsc-sim guest: epoll_wait: %s\n",
			    strerror(errno));
			return (-1);
		}
		for (k = 0; k < n; k++) {
			if ((g = evs[k].data.ptr) == NULL) {
				if (read(sigfd, &si, sizeof si) > 0)
					return (0);
				continue;
			}
			simdom_drain(&g->sd);
			guest_service(w, g);
		}
		if ((now = now_us()) >= next_tick) {
			for (i = 0; i < w->n; i++)
				guest_service(w, &w->guests[i]);
			next_tick = now + GUEST_TICK_US;
		}
		fflush(stdout);
	}
	return (0);
}

/* Read a whole file into a new buffer. 0 or -errno. */
static int
guest_read_file(const char *path, char **out, uint64_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-errno);
	if (fstat(fd, &st) != 0) {
		e = -errno;
		close(fd);
		return (e);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			e = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return (e);
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return (0);
}

/* Raise the open-file limit as far as allowed: a socket per guest. */
static void
guest_nofile(size_t need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need + 64)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* guest [options] ID...|--all */
int
guest_main(const struct sim_env *env, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "console-file", required_argument, NULL, 'f' },
		{ "console-bytes", required_argument, NULL, 'b' },
		{ "console-rate", required_argument, NULL, 'r' },
		{ "console-chunk", required_argument, NULL, 'c' },
		{ "console-input", required_argument, NULL, 'i' },
		{ "no-echo", no_argument, NULL, 'E' },
		{ "boot", no_argument, NULL, 'B' },
		{ "rtt", required_argument, NULL, 'R' },
		{ "rtt-writes", no_argument, NULL, 'W' },
		{ "rtt-gap", required_argument, NULL, 'G' },
		{ "report", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "forever", no_argument, NULL, 'F' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gworld			 w;
	struct guest			*g;
	struct epoll_event		 ev;
	sigset_t			 mask;
	const char			*file = NULL;
	uint32_t			*ids = NULL;
	uint64_t			 v, start, ms = GUEST_TIMEOUT_MS, stale;
	size_t				 n = 0, i, moved;
	char				 err[512];
	int				 ch, all = 0, ep = -1, sigfd = -1, e;
	int				 rc = SIM_EXIT_ERR, bytes_given = 0;

	memset(&w, 0, sizeof w);
	w.o.chunk = GUEST_CHUNK;
	w.o.echo = true;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'b':
		case 'r':
		case 'c':
		case 'R':
			if (sim_parse_u64(optarg, ch == 'c' ? 1 << 20 :
			    ch == 'r' ? (uint64_t)1 << 40 : UINT64_MAX,
			    &v) != 0 || (ch == 'c' && v == 0)) {
				fprintf(stderr, "xsc-sim guest: %s: not a "
				    "number%s: %s\n", ch == 'b' ?
				    "--console-bytes" : ch == 'r' ?
				    "--console-rate" : ch == 'c' ?
				    "--console-chunk" : "--rtt",
				    ch == 'c' ? " from 1 to 1048576" :
				    ch == 'r' ? " up to 2^40" : "", optarg);
				goto out;
			}
			if (ch == 'b') {
				w.o.total = v;
				bytes_given = 1;
			} else if (ch == 'r')
				w.o.rate = v;
			else if (ch == 'c')
				w.o.chunk = (size_t)v;
			else
				w.o.rtt = v;
			break;
		case 'i':
			w.o.input = optarg;
			break;
		case 'E':
			w.o.echo = false;
			break;
		case 'B':
			w.o.boot = true;
			break;
		case 'W':
			w.o.rtt_writes = true;
			break;
		case 'G':
			if (sim_parse_ms(optarg, &v) != 0) {
				fprintf(stderr, "xsc-sim guest: --rtt-gap: "
				    "milliseconds: %s\n", optarg);
				goto out;
			}
			w.o.rtt_gap_us = v * 1000;
			break;
		case 'o':
			w.o.report = optarg;
			break;
		case 't':
			if (sim_parse_ms(optarg, &ms) != 0 || ms == 0) {
				fprintf(stderr, "xsc-sim guest: --timeout: "
				    "milliseconds, 1 to 86400000: %s\n",
				    optarg);
				goto out;
			}
			break;
		case 'F':
			w.o.forever = true;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			guest_usage(stdout);
			rc = SIM_EXIT_OK;
			goto out;
		default:
			guest_usage(stderr);
			goto out;
		}
	}
	w.o.timeout_us = ms * 1000;
	if (file != NULL && bytes_given) {
		fprintf(stderr, "xsc-sim guest: --console-file and "
		    "--console-bytes exclude each other\n");
		goto out;
	}
	if (all == (optind < argc)) {
		guest_usage(stderr);
		goto out;
	}
	if (sim_need_root(env, "guest") != 0)
		goto out;
	if (file != NULL && (e = guest_read_file(file, &w.o.file,
	    &w.o.total)) != 0) {
		fprintf(stderr, "xsc-sim guest: %s: %s\n", file, strerror(-e));
		goto out;
	}
	if (all) {
		if ((e = guest_all(env->root, &ids, &n)) != 0) {
			fprintf(stderr, "xsc-sim guest: %s/domains: %s\n",
			    env->root, strerror(-e));
			goto out;
		}
	} else {
		n = (size_t)(argc - optind);
		ids = xcalloc(n, sizeof *ids);
		for (i = 0; i < n; i++) {
			if (sim_parse_domid(argv[optind + (int)i],
			    &ids[i]) != 0) {
				fprintf(stderr, "xsc-sim guest: not a domid "
				    "(1-%u): %s\n", SIM_DOMID_MAX,
				    argv[optind + (int)i]);
				goto out;
			}
		}
	}

	/* Signals arrive through the epoll set, like everything else. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "xsc-sim guest: %s: %s\n", sigfd < 0 ?
		    "signalfd" : "epoll_create1", strerror(errno));
		goto out;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);

	guest_nofile(n);
	w.buf = xmalloc(w.o.chunk);
	w.guests = xcalloc(n > 0 ? n : 1, sizeof *w.guests);
	start = now_us();
	for (i = 0; i < n; i++) {
		g = &w.guests[i];
		g->domid = ids[i];
		if (simdom_open(&g->sd, env->root, g->domid, SIMDOM_XS |
		    SIMDOM_CONS, err, sizeof err) != 0) {
			fprintf(stderr, "xsc-sim guest: domain %u: %s\n",
			    g->domid, err);
			goto out;
		}
		w.n++;
		xsring_init(&g->xr, g->sd.xs_page);
		conring_init(&g->cr, g->sd.cons_page);
		if (xsring_repair(&g->xr) != 0)
			fprintf(stderr, "xsc-sim guest: domain %u: impossible "
			    "xenstore ring indices left on the page: reset to "
			    "0, as Linux's xenbus does\n", g->domid);
		moved = 0;
		if ((e = xsring_discard(&g->xr, &moved)) < 0) {
			fprintf(stderr, "xsc-sim guest: domain %u: the "
			    "response ring is broken already\n", g->domid);
			goto out;
		}
		w.stale += (uint64_t)e;
		if (moved > 0)
			g->xs_kick = true;
		g->next_req = (uint32_t)(now_us() ^ ((uint64_t)getpid() << 16)
		    ^ ((uint64_t)g->domid << 8));
		g->store_done = !w.o.boot && w.o.rtt == 0;
		g->con_done = w.o.total == 0;
		g->start_us = start;
		g->last_cons = g->cr.intf->out_cons;
		g->last_move = start;
		ev.events = EPOLLIN;
		ev.data.ptr = g;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, g->sd.fd, &ev) != 0) {
			fprintf(stderr, "xsc-sim guest: epoll_ctl: %s\n",
			    strerror(errno));
			goto out;
		}
	}
	if ((stale = w.stale) > 0)
		fprintf(stderr, "discarded %" PRIu64 " stale messages\n",
		    stale);
	w.stale = 0;
	w.active = w.n;
	for (i = 0; i < w.n; i++)
		guest_service(&w, &w.guests[i]);
	if (guest_loop(&w, ep, sigfd) != 0)
		goto out;
	if (fflush(stdout) != 0 || guest_report(&w, now_us() - start) != 0)
		goto out;
	if (w.broken)
		rc = SIM_EXIT_BROKEN;
	else if (w.timeouts > 0)
		rc = SIM_EXIT_TIMEOUT;
	else if (w.errors > 0)
		rc = SIM_EXIT_ERR;
	else
		rc = SIM_EXIT_OK;

out:
	for (i = 0; i < w.n; i++) {
		xsring_free(&w.guests[i].xr);
		simdom_close(&w.guests[i].sd);
	}
	if (ep >= 0)
		close(ep);
	if (sigfd >= 0)
		close(sigfd);
	free(w.guests);
	free(w.buf);
	free(w.lat);
	free(w.o.file);
	free(ids);
	return (rc);
}
