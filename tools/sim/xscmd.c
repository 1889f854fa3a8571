/*
 * xsc-sim xs: a xenstore client that speaks the raw protocol over a
 * guest's ring, as the guest's kernel would. Commands come from the
 * arguments or stdin; each prints exactly one line ("OK", "OK <value>",
 * "ERR <ERRNAME>", "EVENT <path> <token>" or "TIMEOUT"). Replies are
 * matched by req_id; watch events that arrive meanwhile wait in a queue
 * for the `event` command.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "sim.h"
#include "simdom.h"
#include "xmalloc.h"
#include "xsring.h"

#define XSC_TIMEOUT_MS		5000
#define XSC_POLL_MS		10	/* events can be dropped: look anyway */
#define XSC_MAX_ARGS		64

/* How a reply is printed. */
enum xsc_kind {
	XSC_ACK,	/* "OK" */
	XSC_VALUE,	/* "OK <bytes>", exactly as they came */
	XSC_STRING,	/* "OK <string>", its NUL dropped */
	XSC_LIST,	/* "OK a b c": NUL-separated strings */
	XSC_RAW,	/* "OK <bytes>", NULs shown as \x00 */
};

/* A watch event waiting for `event`, or a watch this process set. */
struct xsc_pair {
	char			*path;
	char			*token;
	TAILQ_ENTRY(xsc_pair)	 entry;
};
TAILQ_HEAD(xsc_pairs, xsc_pair);

struct xsc {
	struct simdom		 sd;
	struct xsring		 xr;
	uint32_t		 next_req;
	uint32_t		 tx;		/* from txstart until txend */
	uint64_t		 timeout_us;
	bool			 kick;		/* a notification is owed */
	int			 status;	/* the exit status so far */
	struct xsc_pairs	 events;
	struct xsc_pairs	 watches;	/* removed again at exit */
};

/* One decoded argument of a command. */
struct xsc_arg {
	char	*s;
	size_t	 len;
};

struct xsc_cmd {
	const char	*name;
	uint32_t	 type;
	int		 min;		/* arguments */
	int		 max;
	enum xsc_kind	 kind;
	bool		 in_tx;		/* goes in the open transaction */
};

static const struct xsc_cmd xsc_cmds[] = {
	{ "read", XS_READ, 1, 1, XSC_VALUE, true },
	{ "mkdir", XS_MKDIR, 1, 1, XSC_ACK, true },
	{ "rm", XS_RM, 1, 1, XSC_ACK, true },
	{ "dir", XS_DIRECTORY, 1, 1, XSC_LIST, true },
	{ "getperms", XS_GET_PERMS, 1, 1, XSC_LIST, true },
	{ "setperms", XS_SET_PERMS, 2, XSC_MAX_ARGS, XSC_ACK, true },
	{ "watch", XS_WATCH, 2, 2, XSC_ACK, false },
	{ "unwatch", XS_UNWATCH, 2, 2, XSC_ACK, false },
	{ "domainpath", XS_GET_DOMAIN_PATH, 1, 1, XSC_STRING, false },
	{ "introduced", XS_IS_DOMAIN_INTRODUCED, 1, 1, XSC_STRING, false },
};

static void	xsc_usage(FILE *);
static void	xsc_set_status(struct xsc *, int);
static void	xsc_pair_add(struct xsc_pairs *, const char *, const char *);
static void	xsc_pair_free(struct xsc_pairs *, struct xsc_pair *);
static void	xsc_close(struct xsc *);
static int	xsc_broken(struct xsc *, int);
static int	xsc_service(struct xsc *, uint32_t, struct xsr_msg *, bool *);
static void	xsc_repair(struct xsc *);
static void	xsc_wait(struct xsc *, uint64_t);
static int	xsc_call(struct xsc *, uint32_t, uint32_t, const void *,
		    size_t, struct xsr_msg *);
static void	xsc_print_reply(struct xsc *, const struct xsr_msg *,
		    uint32_t, enum xsc_kind);
static int	xsc_split(const char *, struct xsc_arg *, int, const char **);
static void	xsc_payload(const struct xsc_arg *, int, char **, size_t *);
static int	xsc_run_store(struct xsc *, const struct xsc_cmd *,
		    struct xsc_arg *, int);
static int	xsc_run_write(struct xsc *, struct xsc_arg *, int,
		    const char *);
static int	xsc_run_txstart(struct xsc *, int);
static int	xsc_run_txend(struct xsc *, struct xsc_arg *, int);
static bool	xsc_type_in_tx(uint32_t);
static int	xsc_run_raw(struct xsc *, struct xsc_arg *, int, bool);
static int	xsc_run_error(struct xsc *, struct xsc_arg *, int);
static int	xsc_run_event(struct xsc *, struct xsc_arg *, int);
static int	xsc_run_sleep(struct xsc *, struct xsc_arg *, int);
static int	xsc_run_corrupt(struct xsc *, int);
static int	xsc_run(struct xsc *, const char *);
static void	xsc_bad(struct xsc *, const char *, const char *);
static int	xsc_finish(struct xsc *, int, struct xsr_msg *, uint32_t,
		    enum xsc_kind);

/* Print the usage of xs. */
static void
xsc_usage(FILE *f)
{
	fprintf(f, "usage: xsc-sim xs [--timeout MS] ID [COMMAND...]\n"
	    "commands: read P | write P V | mkdir P | rm P | dir P | "
	    "getperms P |\n"
	    "  setperms P PERM... | watch P TOKEN | unwatch P TOKEN | txstart "
	    "| txend T|F |\n"
	    "  domainpath ID | introduced ID | raw TYPE [STRING...] |\n"
	    "  rawtx TX TYPE [STRING...] | event [TIMEOUT_MS] | sleep MS |\n"
	    "  corrupt | error [WAIT_MS]\n");
}

/* Keep the worst exit status seen. */
static void
xsc_set_status(struct xsc *c, int status)
{
	if (status > c->status)
		c->status = status;
}

/* Add a (path, token) pair to a list. */
static void
xsc_pair_add(struct xsc_pairs *list, const char *path, const char *token)
{
	struct xsc_pair	*p = xcalloc(1, sizeof *p);

	p->path = xstrdup(path);
	p->token = xstrdup(token);
	TAILQ_INSERT_TAIL(list, p, entry);
}

/* Take a pair off its list and free it. */
static void
xsc_pair_free(struct xsc_pairs *list, struct xsc_pair *p)
{
	TAILQ_REMOVE(list, p, entry);
	free(p->path);
	free(p->token);
	free(p);
}

/* The daemon broke the ring protocol: say how, and give up. */
static int
xsc_broken(struct xsc *c, int e)
{
	struct xenstore_domain_interface	*intf = c->xr.intf;

	if (e == -EPROTO)
		fprintf(stderr, "xsc-sim xs: domain %u: the daemon sent a "
		    "reply header announcing %u bytes (more than %d)\n",
		    c->sd.domid, c->xr.hdr.len, XENSTORE_PAYLOAD_MAX);
	else
		fprintf(stderr, "xsc-sim xs: domain %u: impossible ring "
		    "indices: req_cons %u req_prod %u, rsp_cons %u rsp_prod "
		    "%u\n", c->sd.domid, intf->req_cons, intf->req_prod,
		    intf->rsp_cons, intf->rsp_prod);
	xsc_set_status(c, SIM_EXIT_BROKEN);
	return (e);
}

/*
 * Move bytes both ways once: push queued requests, take every complete
 * message (watch events to the queue; the reply to want, if given, into
 * *reply with *got set; anything else is stale and dropped), and notify
 * the daemon if either ring moved. 0, or <0 if the ring is broken.
 */
static int
xsc_service(struct xsc *c, uint32_t want, struct xsr_msg *reply, bool *got)
{
	struct xsr_msg	 m;
	const char	*name;
	size_t		 moved = 0, plen;
	ssize_t		 n;
	int		 e;

	if ((n = xsring_push(&c->xr)) < 0)
		return (xsc_broken(c, (int)n));
	if (n > 0)
		c->kick = true;
	while ((e = xsring_pull(&c->xr, &m, &moved)) == 1) {
		if (m.hdr.type == XS_WATCH_EVENT) {
			/* "path\0token\0"; body[len] is a NUL too. */
			plen = strnlen(m.body, m.hdr.len);
			xsc_pair_add(&c->events, m.body, plen < m.hdr.len ?
			    m.body + plen + 1 : "");
			xsr_msg_free(&m);
		} else if (got != NULL && !*got && m.hdr.req_id == want) {
			*reply = m;
			*got = true;
		} else {
			name = sim_type_name(m.hdr.type);
			fprintf(stderr, "xsc-sim xs: ignoring a stale %s%s "
			    "reply to request %u\n", name ? "" : "type ",
			    name ? name : "?", m.hdr.req_id);
			xsr_msg_free(&m);
		}
	}
	if (e < 0)
		return (xsc_broken(c, e));
	if (moved > 0)
		c->kick = true;
	if (c->kick && simdom_notify(&c->sd, SIM_XS_PORT) == 0)
		c->kick = false;
	return (0);
}

/* Impossible indices left by an earlier process are reset, as Linux
 * does; say so, since a daemon may have cut this guest off for them. */
static void
xsc_repair(struct xsc *c)
{
	struct xenstore_domain_interface	*intf = c->xr.intf;
	uint32_t				 rc = intf->req_cons,
						 rp = intf->req_prod,
						 sc = intf->rsp_cons,
						 sp = intf->rsp_prod;

	if (xsring_repair(&c->xr) == 0)
		return;
	fprintf(stderr, "xsc-sim xs: domain %u: impossible ring indices "
	    "left on the page (req_cons %u req_prod %u, rsp_cons %u rsp_prod "
	    "%u): reset to 0, as Linux's xenbus does\n", c->sd.domid, rc, rp,
	    sc, sp);
}

/* Wait for an event from the daemon, at most until deadline and never
 * longer than XSC_POLL_MS. */
static void
xsc_wait(struct xsc *c, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now = now_us();
	int		ms = XSC_POLL_MS;

	if (deadline <= now)
		return;
	if ((deadline - now) / 1000 < (uint64_t)ms)
		ms = (int)((deadline - now + 999) / 1000);
	pfd.fd = c->sd.fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) > 0)
		simdom_drain(&c->sd);
}

/* Send one request and wait for its reply: 1 and the reply in *reply, 0
 * on timeout, <0 if the ring broke. */
static int
xsc_call(struct xsc *c, uint32_t type, uint32_t tx, const void *payload,
    size_t len, struct xsr_msg *reply)
{
	uint64_t	deadline = now_us() + c->timeout_us;
	uint32_t	req_id;
	bool		got = false;
	int		e;

	if ((req_id = c->next_req++) == 0)
		req_id = c->next_req++;
	xsring_queue(&c->xr, type, req_id, tx, payload, len);
	for (;;) {
		if ((e = xsc_service(c, req_id, reply, &got)) < 0)
			return (e);
		if (got)
			return (1);
		if (now_us() >= deadline)
			break;
		xsc_wait(c, deadline);
	}
	/* What did not go stays queued: half a request in the ring must
	 * be finished, or the daemon would read the next one askew. */
	return (0);
}

/* Print a reply as the command's kind says, or "ERR <name>". */
static void
xsc_print_reply(struct xsc *c, const struct xsr_msg *m, uint32_t type,
    enum xsc_kind kind)
{
	size_t	len = m->hdr.len, i, start;

	if (m->hdr.type == XS_ERROR) {
		printf("ERR ");
		sim_esc_write(stdout, m->body, strnlen(m->body, len));
		printf("\n");
		xsc_set_status(c, SIM_EXIT_ERR);
		return;
	}
	if (m->hdr.type != type && kind != XSC_RAW) {
		printf("ERR BADTYPE:%u\n", m->hdr.type);
		fprintf(stderr, "xsc-sim xs: a %s request got a reply of type "
		    "%u\n", sim_type_name(type), m->hdr.type);
		xsc_set_status(c, SIM_EXIT_ERR);
		return;
	}
	switch (kind) {
	case XSC_ACK:
		printf("OK\n");
		return;
	case XSC_STRING:
		if (len > 0 && m->body[len - 1] == '\0')
			len--;
		/* FALLTHROUGH */
	case XSC_VALUE:
	case XSC_RAW:
		printf(len > 0 ? "OK " : "OK");
		sim_esc_write(stdout, m->body, len);
		printf("\n");
		return;
	case XSC_LIST:
		printf("OK");
		if (len > 0 && m->body[len - 1] == '\0')
			len--;
		for (start = 0, i = 0; len > 0 && i <= len; i++) {
			if (i < len && m->body[i] != '\0')
				continue;
			printf(" ");
			sim_esc_write(stdout, m->body + start, i - start);
			start = i + 1;
		}
		printf("\n");
		return;
	}
}

/*
 * Split a command line into words at blanks, decoding \xNN in each.
 * Returns the count (-1 if more than max); *rest points at what follows
 * the second word, for `write P V` whose value may hold blanks (for
 * write, the split stops there).
 */
static int
xsc_split(const char *line, struct xsc_arg *args, int max, const char **rest)
{
	const char	*p = line, *start;
	int		 n = 0;

	*rest = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (n == 2 && *rest == NULL) {
			*rest = p;
			/* write's value is the rest of the line, as it is. */
			if (strcmp(args[0].s, "write") == 0)
				break;
		}
		if (*p == '\0')
			break;
		if (n == max)
			return (-1);
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		args[n].s = sim_unescape(start, (size_t)(p - start),
		    &args[n].len);
		n++;
	}
	if (*rest == NULL)
		*rest = p;
	return (n);
}

/* A payload of strings, each NUL-terminated. */
static void
xsc_payload(const struct xsc_arg *args, int n, char **out, size_t *len)
{
	size_t	total = 0;
	int	i;

	for (i = 0; i < n; i++)
		total += args[i].len + 1;
	*out = xmalloc(total + 1);
	*len = 0;
	for (i = 0; i < n; i++) {
		memcpy(*out + *len, args[i].s, args[i].len);
		*len += args[i].len;
		(*out)[(*len)++] = '\0';
	}
}

/* A bad command: one line for the output, the reason for stderr. */
static void
xsc_bad(struct xsc *c, const char *cmd, const char *why)
{
	printf("ERR USAGE\n");
	fprintf(stderr, "xsc-sim xs: %s: %s\n", cmd, why);
	xsc_set_status(c, SIM_EXIT_ERR);
}

/* After a call: print its reply, TIMEOUT, or nothing if the ring broke.
 * Returns <0 if the ring broke. */
static int
xsc_finish(struct xsc *c, int r, struct xsr_msg *m, uint32_t type,
    enum xsc_kind kind)
{
	if (r < 0)
		return (r);
	if (r == 0) {
		printf("TIMEOUT\n");
		xsc_set_status(c, SIM_EXIT_TIMEOUT);
		return (0);
	}
	xsc_print_reply(c, m, type, kind);
	xsr_msg_free(m);
	return (0);
}

/* A plain store command: its arguments as NUL-terminated strings. */
static int
xsc_run_store(struct xsc *c, const struct xsc_cmd *cmd, struct xsc_arg *args,
    int n)
{
	struct xsc_pair	*w;
	struct xsr_msg	 m;
	char		*payload;
	size_t		 len;
	int		 r;

	if (n - 1 < cmd->min || n - 1 > cmd->max) {
		xsc_bad(c, cmd->name, "wrong number of arguments");
		return (0);
	}
	xsc_payload(args + 1, n - 1, &payload, &len);
	r = xsc_call(c, cmd->type, cmd->in_tx ? c->tx : 0, payload, len, &m);
	free(payload);
	if (r == 1 && m.hdr.type == XS_WATCH && cmd->type == XS_WATCH)
		xsc_pair_add(&c->watches, args[1].s, args[2].s);
	if (r == 1 && m.hdr.type == XS_UNWATCH && cmd->type == XS_UNWATCH) {
		TAILQ_FOREACH(w, &c->watches, entry) {
			if (strcmp(w->path, args[1].s) == 0 &&
			    strcmp(w->token, args[2].s) == 0) {
				xsc_pair_free(&c->watches, w);
				break;
			}
		}
	}
	return (xsc_finish(c, r, &m, cmd->type, cmd->kind));
}

/* write P V: the path NUL-terminated, then the value's bytes (all of the
 * rest of the line, blanks included). */
static int
xsc_run_write(struct xsc *c, struct xsc_arg *args, int n, const char *rest)
{
	struct xsr_msg	 m;
	char		*payload, *value;
	size_t		 len, vlen;
	int		 r;

	if (n < 2) {
		xsc_bad(c, "write", "usage: write PATH VALUE");
		return (0);
	}
	value = sim_unescape(rest, strlen(rest), &vlen);
	len = args[1].len + 1 + vlen;
	payload = xmalloc(len);
	memcpy(payload, args[1].s, args[1].len + 1);
	memcpy(payload + args[1].len + 1, value, vlen);
	r = xsc_call(c, XS_WRITE, c->tx, payload, len, &m);
	free(payload);
	free(value);
	return (xsc_finish(c, r, &m, XS_WRITE, XSC_ACK));
}

/* txstart: open a transaction; later commands go in it. */
static int
xsc_run_txstart(struct xsc *c, int n)
{
	struct xsr_msg	 m;
	uint64_t	 id;
	int		 r;

	if (n != 1) {
		xsc_bad(c, "txstart", "takes no arguments");
		return (0);
	}
	if (c->tx != 0)
		fprintf(stderr, "xsc-sim xs: txstart: transaction %u is "
		    "still open; the new one replaces it here\n", c->tx);
	if ((r = xsc_call(c, XS_TRANSACTION_START, 0, "", 1, &m)) <= 0)
		return (xsc_finish(c, r, &m, XS_TRANSACTION_START, XSC_STRING));
	if (m.hdr.type == XS_TRANSACTION_START) {
		if (sim_parse_u64(m.body, UINT32_MAX, &id) != 0 || id == 0) {
			printf("ERR BADID\n");
			fprintf(stderr, "xsc-sim xs: txstart: not a "
			    "transaction id: ");
			sim_esc_write(stderr, m.body, m.hdr.len);
			fprintf(stderr, "\n");
			xsc_set_status(c, SIM_EXIT_ERR);
			xsr_msg_free(&m);
			return (0);
		}
		c->tx = (uint32_t)id;
	}
	return (xsc_finish(c, r, &m, XS_TRANSACTION_START, XSC_STRING));
}

/* txend T|F: close the transaction, whatever the answer. */
static int
xsc_run_txend(struct xsc *c, struct xsc_arg *args, int n)
{
	struct xsr_msg	m;
	int		r;

	if (n != 2) {
		xsc_bad(c, "txend", "usage: txend T|F");
		return (0);
	}
	if (c->tx == 0)
		fprintf(stderr, "xsc-sim xs: txend: no transaction open; "
		    "sending it outside one\n");
	r = xsc_call(c, XS_TRANSACTION_END, c->tx, args[1].s, args[1].len + 1,
	    &m);
	if (r != 0)
		c->tx = 0;
	return (xsc_finish(c, r, &m, XS_TRANSACTION_END, XSC_ACK));
}

/* Does a request of this type go in the open transaction? The same ones
 * as the named commands, as libxenstore sends them. */
static bool
xsc_type_in_tx(uint32_t type)
{
	switch (type) {
	case XS_READ:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_SET_PERMS:
	case XS_TRANSACTION_END:
		return (true);
	default:
		return (false);
	}
}

/*
 * raw TYPE [STRING...]: any type, the strings NUL-terminated, in the open
 * transaction if the type would be. rawtx TX TYPE [STRING...]: the same
 * with the transaction id given.
 */
static int
xsc_run_raw(struct xsc *c, struct xsc_arg *args, int n, bool with_tx)
{
	struct xsr_msg	 m;
	char		*payload;
	size_t		 len;
	uint64_t	 tx = 0;
	uint32_t	 type;
	int		 r, skip = with_tx ? 1 : 0;

	if (n < 2 + skip || (with_tx && sim_parse_u64(args[1].s, UINT32_MAX,
	    &tx) != 0) || sim_type_parse(args[1 + skip].s, &type) != 0) {
		xsc_bad(c, args[0].s, with_tx ? "usage: rawtx TX TYPE "
		    "[STRING...]" : "usage: raw TYPE [STRING...], TYPE a "
		    "number or a name such as READ");
		return (0);
	}
	if (!with_tx && xsc_type_in_tx(type))
		tx = c->tx;
	xsc_payload(args + 2 + skip, n - 2 - skip, &payload, &len);
	r = xsc_call(c, type, (uint32_t)tx, payload, len, &m);
	free(payload);
	return (xsc_finish(c, r, &m, type, XSC_RAW));
}

/* error [WAIT_MS]: the page's error field; with WAIT_MS, wait that long
 * for it to become non-zero (the daemon takes a moment to react). */
static int
xsc_run_error(struct xsc *c, struct xsc_arg *args, int n)
{
	uint64_t	ms = 0, deadline;
	int		e;

	if (n > 2 || (n == 2 && sim_parse_ms(args[1].s, &ms) != 0)) {
		xsc_bad(c, "error", "usage: error [WAIT_MS]");
		return (0);
	}
	deadline = now_us() + ms * 1000;
	while (c->xr.intf->error == XENSTORE_ERROR_NONE && now_us() <
	    deadline) {
		if ((e = xsc_service(c, 0, NULL, NULL)) < 0)
			return (e);
		xsc_wait(c, deadline);
	}
	printf("OK %u\n", c->xr.intf->error);
	return (0);
}

/* event [TIMEOUT_MS]: the next watch event, or TIMEOUT (which is not a
 * failure: waiting for an event that must not come is a fine test). */
static int
xsc_run_event(struct xsc *c, struct xsc_arg *args, int n)
{
	struct xsc_pair	*ev;
	uint64_t	 ms, deadline;
	int		 e;

	if (n > 2 || (n == 2 && sim_parse_ms(args[1].s, &ms) != 0)) {
		xsc_bad(c, "event", "usage: event [TIMEOUT_MS]");
		return (0);
	}
	deadline = now_us() + (n == 2 ? ms * 1000 : c->timeout_us);
	for (;;) {
		if ((e = xsc_service(c, 0, NULL, NULL)) < 0)
			return (e);
		if ((ev = TAILQ_FIRST(&c->events)) != NULL)
			break;
		if (now_us() >= deadline) {
			printf("TIMEOUT\n");
			return (0);
		}
		xsc_wait(c, deadline);
	}
	printf("EVENT ");
	sim_esc_write(stdout, ev->path, strlen(ev->path));
	printf(" ");
	sim_esc_write(stdout, ev->token, strlen(ev->token));
	printf("\n");
	xsc_pair_free(&c->events, ev);
	return (0);
}

/* sleep MS: wait, still taking in what the daemon sends. */
static int
xsc_run_sleep(struct xsc *c, struct xsc_arg *args, int n)
{
	uint64_t	ms, deadline;
	int		e;

	if (n != 2 || sim_parse_ms(args[1].s, &ms) != 0) {
		xsc_bad(c, "sleep", "usage: sleep MS");
		return (0);
	}
	deadline = now_us() + ms * 1000;
	for (;;) {
		if ((e = xsc_service(c, 0, NULL, NULL)) < 0)
			return (e);
		if (now_us() >= deadline)
			break;
		xsc_wait(c, deadline);
	}
	printf("OK\n");
	return (0);
}

/* corrupt: what a hostile guest does: req_prod 64 KiB past req_cons. */
static int
xsc_run_corrupt(struct xsc *c, int n)
{
	struct xenstore_domain_interface	*intf = c->xr.intf;

	if (n != 1) {
		xsc_bad(c, "corrupt", "takes no arguments");
		return (0);
	}
	intf->req_prod = intf->req_cons + 0x10000;
	ring_wmb();
	simdom_notify(&c->sd, SIM_XS_PORT);
	printf("OK\n");
	return (0);
}

/* Run one command line; <0 if the ring broke (stop then). */
static int
xsc_run(struct xsc *c, const char *line)
{
	struct xsc_arg	 args[XSC_MAX_ARGS + 2];
	const char	*rest;
	size_t		 i;
	int		 n, r = 0;

	if ((n = xsc_split(line, args, XSC_MAX_ARGS + 2, &rest)) < 0) {
		printf("ERR USAGE\n");
		fprintf(stderr, "xsc-sim xs: too many words: %s\n", line);
		xsc_set_status(c, SIM_EXIT_ERR);
		return (0);
	}
	if (n == 0)
		return (0);
	for (i = 0; i < sizeof xsc_cmds / sizeof xsc_cmds[0]; i++) {
		if (strcmp(args[0].s, xsc_cmds[i].name) == 0)
			break;
	}
	if (i < sizeof xsc_cmds / sizeof xsc_cmds[0])
		r = xsc_run_store(c, &xsc_cmds[i], args, n);
	else if (strcmp(args[0].s, "write") == 0)
		r = xsc_run_write(c, args, n, rest);
	else if (strcmp(args[0].s, "txstart") == 0)
		r = xsc_run_txstart(c, n);
	else if (strcmp(args[0].s, "txend") == 0)
		r = xsc_run_txend(c, args, n);
	else if (strcmp(args[0].s, "raw") == 0)
		r = xsc_run_raw(c, args, n, false);
	else if (strcmp(args[0].s, "rawtx") == 0)
		r = xsc_run_raw(c, args, n, true);
	else if (strcmp(args[0].s, "event") == 0)
		r = xsc_run_event(c, args, n);
	else if (strcmp(args[0].s, "sleep") == 0)
		r = xsc_run_sleep(c, args, n);
	else if (strcmp(args[0].s, "corrupt") == 0)
		r = xsc_run_corrupt(c, n);
	else if (strcmp(args[0].s, "error") == 0)
		r = xsc_run_error(c, args, n);
	else
		xsc_bad(c, args[0].s, "unknown command or bad arguments");
	while (n-- > 0)
		free(args[n].s);
	fflush(stdout);
	return (r);
}

/*
 * Leave as Linux's /dev/xen/xenbus does when its file is closed: the
 * watches this process set are removed and its open transaction is
 * ended (aborted), so that the next process on this guest's ring starts
 * clean. Then free everything.
 */
static void
xsc_close(struct xsc *c)
{
	struct xsc_pair	*p;
	struct xsr_msg	 m;
	char		*payload;
	size_t		 plen, tlen;

	if (c->timeout_us > 1000000)
		c->timeout_us = 1000000;
	while ((p = TAILQ_FIRST(&c->watches)) != NULL) {
		if (c->status < SIM_EXIT_BROKEN) {
			plen = strlen(p->path) + 1;
			tlen = strlen(p->token) + 1;
			payload = xmalloc(plen + tlen);
			memcpy(payload, p->path, plen);
			memcpy(payload + plen, p->token, tlen);
			if (xsc_call(c, XS_UNWATCH, 0, payload, plen + tlen,
			    &m) == 1)
				xsr_msg_free(&m);
			free(payload);
		}
		xsc_pair_free(&c->watches, p);
	}
	if (c->tx != 0 && c->status < SIM_EXIT_BROKEN &&
	    xsc_call(c, XS_TRANSACTION_END, c->tx, "F", 2, &m) == 1)
		xsr_msg_free(&m);
	while ((p = TAILQ_FIRST(&c->events)) != NULL)
		xsc_pair_free(&c->events, p);
	xsring_free(&c->xr);
	simdom_close(&c->sd);
}

/* xs [--timeout MS] ID [COMMAND...] */
int
xscmd_main(const struct sim_env *env, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xsc			 c;
	char				 err[512], *line = NULL;
	size_t				 cap = 0, moved = 0;
	ssize_t				 len;
	uint64_t			 ms = XSC_TIMEOUT_MS;
	uint32_t			 domid;
	int				 ch, i, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (sim_parse_ms(optarg, &ms) != 0 || ms == 0) {
				fprintf(stderr, "xsc-sim xs: --timeout: "
				    "milliseconds, 1 to 86400000: %s\n",
				    optarg);
				return (SIM_EXIT_ERR);
			}
			break;
		case 'h':
			xsc_usage(stdout);
			return (SIM_EXIT_OK);
		default:
			xsc_usage(stderr);
			return (SIM_EXIT_ERR);
		}
	}
	if (optind >= argc || sim_parse_domid(argv[optind], &domid) != 0) {
		xsc_usage(stderr);
		return (SIM_EXIT_ERR);
	}
	if (sim_need_root(env, "xs") != 0)
		return (SIM_EXIT_ERR);

	memset(&c, 0, sizeof c);
	TAILQ_INIT(&c.events);
	TAILQ_INIT(&c.watches);
	c.timeout_us = ms * 1000;
	/* Far from an earlier process's ids, whose replies may linger. */
	c.next_req = (uint32_t)(now_us() ^ ((uint64_t)getpid() << 16));
	if (simdom_open(&c.sd, env->root, domid, SIMDOM_XS, err,
	    sizeof err) != 0) {
		fprintf(stderr, "xsc-sim xs: domain %u: %s\n", domid, err);
		return (SIM_EXIT_ERR);
	}
	xsring_init(&c.xr, c.sd.xs_page);
	xsc_repair(&c);
	if ((n = xsring_discard(&c.xr, &moved)) < 0) {
		xsc_broken(&c, n);
		goto out;
	}
	if (n > 0)
		fprintf(stderr, "discarded %d stale messages\n", n);
	if (moved > 0)
		simdom_notify(&c.sd, SIM_XS_PORT);

	if (optind + 1 < argc) {
		for (i = optind + 1; i < argc; i++) {
			if (xsc_run(&c, argv[i]) < 0)
				break;
		}
	} else {
		while ((len = getline(&line, &cap, stdin)) > 0) {
			while (len > 0 && (line[len - 1] == '\n' ||
			    line[len - 1] == '\r'))
				line[--len] = '\0';
			if (xsc_run(&c, line) < 0)
				break;
		}
		free(line);
	}

out:
	xsc_close(&c);
	if (fflush(stdout) != 0)
		xsc_set_status(&c, SIM_EXIT_ERR);
	return (c.status);
}
