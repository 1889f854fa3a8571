/*
 * Unit tests for xsc-sim's guest side (tools/sim): the xenstore ring
 * client, the console text, and the `xs` and `guest` commands run as
 * programs. The test plays the daemon with the daemon's own sim backend
 * (common/hv-sim.c) on a fresh mkdtemp(3) root: it maps the pages with
 * hv_map_grant, hears the guest through hv_evtchn_bind, answers through
 * the rings with common/ring.c and kicks the guest with hv_notify. The
 * fake daemon acts on events only, never by polling, so a guest that
 * forgets to notify hangs and the test fails.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#include "console.h"
#include "hv.h"
#include "log.h"
#include "ring.h"
#include "simdom.h"
#include "xsring.h"

#define PAGE		4096
#define DOMID		5
#define OUT_MAX		(1 << 20)

/* The daemon's end of one domain, as the test plays it. */
struct fake {
	struct xenstore_domain_interface	*xs;
	struct xencons_interface		*cons;
	struct hv_port				*xs_port;
	struct hv_port				*cons_port;
	struct ring				 req, rsp, out, in;
	bool					 xs_pending;
	bool					 cons_pending;
	int					 xs_events;
	int					 cons_events;

	/* The request coming in. */
	struct xsd_sockmsg			 hdr;
	size_t					 hdrgot;
	char					 body[2 * XENSTORE_PAYLOAD_MAX];
	size_t					 bodygot;
	int					 requests;
	uint32_t				 last_type;
	uint32_t				 last_tx;

	/* Replies waiting for room in the rsp ring. */
	char					 reply[1 << 16];
	size_t					 replylen;

	/* What the guest printed. */
	char					*console;
	size_t					 conlen;

	int					 eagain_left;
	bool					 answer;	/* false: hold */
	bool					 broken;
};

static char			 dir[64];
static struct event_base	*base;
static struct hv		*hv;
static struct fake		 fk;

/* Remove one entry for rm_rf. */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* Remove a directory tree. */
static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a whole file under the root. */
static void
put_file(const char *rel, const void *data, size_t len)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Play the toolstack: a running domain with two zero pages. */
static void
make_domain(uint32_t domid)
{
	static const char	zero[PAGE];
	char			rel[128];

	snprintf(rel, sizeof rel, "%s/domains/%u", dir, domid);
	ck_assert_int_eq(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof rel, "%s/domains/%u/gnttab", dir, domid);
	ck_assert_int_eq(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/0", domid);
	put_file(rel, zero, sizeof zero);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/1", domid);
	put_file(rel, zero, sizeof zero);
	snprintf(rel, sizeof rel, "domains/%u/state", domid);
	put_file(rel, "running\n", 8);
}

/* The guest kicked the xenstore port. */
static void
xs_event(struct hv_port *p, void *arg)
{
	(void)p;
	(void)arg;
	fk.xs_pending = true;
	fk.xs_events++;
}

/* The guest kicked the console port. */
static void
cons_event(struct hv_port *p, void *arg)
{
	(void)p;
	(void)arg;
	fk.cons_pending = true;
	fk.cons_events++;
}

/* Map the domain's pages and bind its ports, as the daemon would. */
static void
fake_attach(uint32_t domid)
{
	fk.xs = hv_map_grant(hv, domid, 1, 0);
	fk.cons = hv_map_grant(hv, domid, 0, 0);
	ck_assert_ptr_nonnull(fk.xs);
	ck_assert_ptr_nonnull(fk.cons);
	fk.req = (struct ring){ fk.xs->req, XENSTORE_RING_SIZE,
	    &fk.xs->req_cons, &fk.xs->req_prod };
	fk.rsp = (struct ring){ fk.xs->rsp, XENSTORE_RING_SIZE,
	    &fk.xs->rsp_cons, &fk.xs->rsp_prod };
	fk.out = (struct ring){ fk.cons->out, sizeof fk.cons->out,
	    &fk.cons->out_cons, &fk.cons->out_prod };
	fk.in = (struct ring){ fk.cons->in, sizeof fk.cons->in,
	    &fk.cons->in_cons, &fk.cons->in_prod };
	fk.xs_port = hv_evtchn_bind(hv, domid, 1, xs_event, NULL);
	fk.cons_port = hv_evtchn_bind(hv, domid, 2, cons_event, NULL);
	ck_assert_ptr_nonnull(fk.xs_port);
	ck_assert_ptr_nonnull(fk.cons_port);
	fk.console = malloc(OUT_MAX);
	ck_assert_ptr_nonnull(fk.console);
	fk.answer = true;
}

/* Queue a reply and push what fits. */
static void
fake_reply(uint32_t type, const struct xsd_sockmsg *req, const void *body,
    size_t len)
{
	struct xsd_sockmsg	hdr;

	hdr.type = type;
	hdr.req_id = req->req_id;
	hdr.tx_id = req->tx_id;
	hdr.len = (uint32_t)len;
	ck_assert_uint_le(fk.replylen + sizeof hdr + len, sizeof fk.reply);
	memcpy(fk.reply + fk.replylen, &hdr, sizeof hdr);
	memcpy(fk.reply + fk.replylen + sizeof hdr, body, len);
	fk.replylen += sizeof hdr + len;
}

/* A literal as (pointer, length), its explicit "\0"s included. */
#define L(s)	(s), (sizeof(s) - 1)

/* Answer one request like a tiny store that knows a few paths. */
static void
fake_answer(const struct xsd_sockmsg *h, const char *body)
{
	static char	big[XENSTORE_PAYLOAD_MAX];
	static char	buf[2 * XENSTORE_PAYLOAD_MAX];
	int		n;

	switch (h->type) {
	case XS_READ:
		if (strcmp(body, "missing") == 0) {
			fake_reply(XS_ERROR, h, L("ENOENT\0"));
		} else if (strcmp(body, "noreply") == 0) {
			/* Say nothing. */
		} else if (strcmp(body, "evil") == 0) {
			fk.xs->rsp_prod = fk.xs->rsp_cons + 5000;
		} else if (strcmp(body, "huge") == 0) {
			struct xsd_sockmsg	hh = *h;

			hh.type = XS_READ;
			hh.len = XENSTORE_PAYLOAD_MAX + 1;
			memcpy(fk.reply + fk.replylen, &hh, sizeof hh);
			fk.replylen += sizeof hh;
		} else if (strcmp(body, "big") == 0) {
			memset(big, 'x', sizeof big);
			big[0] = '\n';
			fake_reply(XS_READ, h, big, sizeof big);
		} else {
			n = snprintf(buf, sizeof buf, "v:%s:%u", body,
			    h->tx_id);
			fake_reply(XS_READ, h, buf, (size_t)n);
		}
		break;
	case XS_WATCH:
		fake_reply(XS_WATCH, h, L("OK\0"));
		n = (int)strlen(body) + 1;
		n += (int)strlen(body + n) + 1;
		fake_reply(XS_WATCH_EVENT, &(struct xsd_sockmsg){ 0, 0, 0, 0 },
		    body, (size_t)n);
		break;
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
	case XS_UNWATCH:
		fake_reply(h->type, h, L("OK\0"));
		break;
	case XS_DIRECTORY:
		fake_reply(XS_DIRECTORY, h, L("a\0b\0"));
		break;
	case XS_GET_PERMS:
		fake_reply(XS_GET_PERMS, h, L("n0\0r5\0"));
		break;
	case XS_TRANSACTION_START:
		fake_reply(XS_TRANSACTION_START, h, L("7\0"));
		break;
	case XS_TRANSACTION_END:
		if (fk.eagain_left > 0) {
			fk.eagain_left--;
			fake_reply(XS_ERROR, h, L("EAGAIN\0"));
		} else
			fake_reply(XS_TRANSACTION_END, h, L("OK\0"));
		break;
	case XS_GET_DOMAIN_PATH:
		n = snprintf(buf, sizeof buf, "/local/domain/%s", body);
		fake_reply(XS_GET_DOMAIN_PATH, h, buf, (size_t)n + 1);
		break;
	case XS_IS_DOMAIN_INTRODUCED:
		fake_reply(XS_IS_DOMAIN_INTRODUCED, h, L("T\0"));
		break;
	default:
		fake_reply(XS_ERROR, h, L("EINVAL\0"));
		break;
	}
}

/* What the daemon does on the xenstore port: take whole requests,
 * answer them, and notify if either ring moved. */
static void
fake_xs_service(void)
{
	ssize_t	n;
	bool	moved = false;

	if (fk.broken)
		return;
	for (;;) {
		if (fk.hdrgot < sizeof fk.hdr) {
			n = ring_read(&fk.req, (char *)&fk.hdr + fk.hdrgot,
			    sizeof fk.hdr - fk.hdrgot);
			if (n < 0) {
				/* As the daemon does: say so, stop. */
				fk.xs->error = XENSTORE_ERROR_RINGIDX;
				fk.broken = true;
				return;
			}
			fk.hdrgot += (size_t)n;
			moved |= n > 0;
			if (fk.hdrgot < sizeof fk.hdr)
				break;
			ck_assert_uint_le(fk.hdr.len, sizeof fk.body - 1);
			fk.bodygot = 0;
		}
		n = ring_read(&fk.req, fk.body + fk.bodygot,
		    fk.hdr.len - fk.bodygot);
		ck_assert_int_ge(n, 0);
		fk.bodygot += (size_t)n;
		moved |= n > 0;
		if (fk.bodygot < fk.hdr.len)
			break;
		fk.body[fk.hdr.len] = '\0';
		fk.requests++;
		fk.last_type = fk.hdr.type;
		fk.last_tx = fk.hdr.tx_id;
		fk.hdrgot = 0;
		if (fk.answer)
			fake_answer(&fk.hdr, fk.body);
	}
	if (fk.replylen > 0) {
		n = ring_write(&fk.rsp, fk.reply, fk.replylen);
		ck_assert_int_ge(n, 0);
		memmove(fk.reply, fk.reply + n, fk.replylen - (size_t)n);
		fk.replylen -= (size_t)n;
		moved |= n > 0;
	}
	if (moved)
		hv_notify(hv, fk.xs_port);
}

/* What the daemon does on the console port: drain the output. */
static void
fake_cons_service(void)
{
	ssize_t	n;

	n = ring_read(&fk.out, fk.console + fk.conlen, OUT_MAX - fk.conlen);
	ck_assert_int_ge(n, 0);
	fk.conlen += (size_t)n;
	if (n > 0)
		hv_notify(hv, fk.cons_port);
}

/* Run the fake daemon once: events in, service the rings they name. */
static void
fake_step(void)
{
	struct timespec	nap = { 0, 200000 };

	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	/* Replies still waiting for room go when the guest reads. */
	if (fk.xs_pending || fk.replylen > 0) {
		fk.xs_pending = false;
		fake_xs_service();
	}
	if (fk.cons_pending) {
		fk.cons_pending = false;
		fake_cons_service();
	}
	nanosleep(&nap, NULL);
}

/* Each test: a fresh root, the sim backend on it, domain DOMID. */
static void
setup(void)
{
	char	err[256] = "";

	log_open(NULL, LOG_LEVEL_ERROR);
	snprintf(dir, sizeof dir, "%s", "/tmp/check_sim_guest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "hv_open_sim: %s", err);
	memset(&fk, 0, sizeof fk);
	make_domain(DOMID);
	fake_attach(DOMID);
}

/* Unbind, unmap, close, remove the root. */
static void
teardown(void)
{
	hv_evtchn_unbind(hv, fk.xs_port);
	hv_evtchn_unbind(hv, fk.cons_port);
	hv_unmap(hv, fk.xs);
	hv_unmap(hv, fk.cons);
	free(fk.console);
	hv_close(hv);
	event_base_free(base);
	rm_rf(dir);
}

/* Serve until the guest's pull gives a message, at most two seconds. */
static void
pull_one(struct simdom *sd, struct xsring *xr, struct xsr_msg *m)
{
	size_t	moved = 0;
	int	i, r;

	for (i = 0; i < 10000; i++) {
		ck_assert_int_ge(xsring_push(xr), 0);
		simdom_notify(sd, SIM_XS_PORT);
		fake_step();
		r = xsring_pull(xr, m, &moved);
		ck_assert_int_ge(r, 0);
		if (moved > 0)
			simdom_notify(sd, SIM_XS_PORT);
		moved = 0;
		if (r == 1)
			return;
	}
	ck_abort_msg("no message came");
}

/* Requests and replies larger than the 1024-byte rings go through in
 * pieces, events both ways, framing intact. */
START_TEST(test_ring_framing)
{
	struct simdom	 sd;
	struct xsring	 xr;
	struct xsr_msg	 m;
	char		 err[256], path[3000];
	int		 i, e;

	e = simdom_open(&sd, dir, DOMID, SIMDOM_XS, err, sizeof err);
	ck_assert_msg(e == 0, "simdom_open: %s", err);
	xsring_init(&xr, sd.xs_page);

	/* A long path: three ring-fulls of request. */
	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	xsring_queue(&xr, XS_READ, 41, 0, path, sizeof path);
	pull_one(&sd, &xr, &m);
	ck_assert_uint_eq(m.hdr.type, XS_READ);
	ck_assert_uint_eq(m.hdr.req_id, 41);
	ck_assert_uint_eq(m.hdr.len, 2 + sizeof path - 1 + 2);
	ck_assert_mem_eq(m.body, "v:ppp", 5);
	ck_assert_str_eq(m.body + m.hdr.len - 2, ":0");
	xsr_msg_free(&m);
	ck_assert_int_gt(fk.xs_events, 0);

	/* A 4096-byte reply, four ring-fulls of response. */
	xsring_queue(&xr, XS_READ, 42, 3, "big", 4);
	pull_one(&sd, &xr, &m);
	ck_assert_uint_eq(m.hdr.req_id, 42);
	ck_assert_uint_eq(m.hdr.tx_id, 3);
	ck_assert_uint_eq(m.hdr.len, XENSTORE_PAYLOAD_MAX);
	ck_assert_int_eq(m.body[0], '\n');
	for (i = 1; i < XENSTORE_PAYLOAD_MAX; i++)
		ck_assert_int_eq(m.body[i], 'x');
	ck_assert_int_eq(m.body[XENSTORE_PAYLOAD_MAX], '\0');
	xsr_msg_free(&m);

	/* Many small ones queued at once: each reply, in order, and the
	 * watch event after its ack. */
	for (i = 0; i < 50; i++)
		xsring_queue(&xr, XS_WRITE, 100 + (uint32_t)i, 0, "a\0b", 3);
	xsring_queue(&xr, XS_WATCH, 150, 0, "w\0tok", 6);
	for (i = 0; i < 51; i++) {
		pull_one(&sd, &xr, &m);
		ck_assert_uint_eq(m.hdr.req_id, 100 + (uint32_t)i);
		ck_assert_str_eq(m.body, "OK");
		xsr_msg_free(&m);
	}
	pull_one(&sd, &xr, &m);
	ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
	ck_assert_mem_eq(m.body, "w\0tok", 6);
	xsr_msg_free(&m);
	ck_assert_uint_eq(xsring_pending(&xr), 0);

	/* The daemon's notifications reach the guest's socket. */
	simdom_drain(&sd);
	hv_notify(hv, fk.xs_port);
	ck_assert_int_eq(simdom_drain(&sd), 1);

	xsring_free(&xr);
	simdom_close(&sd);
	snprintf(path, sizeof path, "%s/domains/%d/evtchn.sock", dir, DOMID);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* Impossible indices or an oversized header are errors, not crashes. */
START_TEST(test_ring_broken)
{
	struct simdom		sd;
	struct xsring		xr;
	struct xsr_msg		m;
	struct xsd_sockmsg	h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
	char			err[256];
	size_t			moved = 0;

	ck_assert_int_eq(simdom_open(&sd, dir, DOMID, SIMDOM_XS, err,
	    sizeof err), 0);
	xsring_init(&xr, sd.xs_page);

	fk.xs->rsp_prod = fk.xs->rsp_cons + XENSTORE_RING_SIZE + 1;
	ck_assert_int_eq(xsring_pull(&xr, &m, &moved), -EIO);
	fk.xs->rsp_prod = fk.xs->rsp_cons;

	fk.xs->req_cons = fk.xs->req_prod + 1;	/* consumed unwritten bytes */
	xsring_queue(&xr, XS_READ, 2, 0, "x", 2);
	ck_assert_int_eq(xsring_push(&xr), -EIO);
	fk.xs->req_cons = fk.xs->req_prod;

	ck_assert_int_eq(ring_write(&fk.rsp, &h, sizeof h), (ssize_t)sizeof h);
	ck_assert_int_eq(xsring_pull(&xr, &m, &moved), -EPROTO);
	ck_assert_int_eq(xsring_pull(&xr, &m, &moved), -EPROTO);

	xsring_free(&xr);
	simdom_close(&sd);
}
END_TEST

/* Complete messages left by an earlier process are dropped; a partial
 * one is finished later. */
START_TEST(test_ring_discard)
{
	struct simdom		sd;
	struct xsring		xr;
	struct xsr_msg		m;
	struct xsd_sockmsg	h = { XS_READ, 9, 0, 3 };
	char			err[256];
	size_t			moved = 0;

	ck_assert_int_eq(ring_write(&fk.rsp, &h, sizeof h), 16);
	ck_assert_int_eq(ring_write(&fk.rsp, "one", 3), 3);
	ck_assert_int_eq(ring_write(&fk.rsp, &h, sizeof h), 16);
	ck_assert_int_eq(ring_write(&fk.rsp, "two", 3), 3);
	h.req_id = 10;
	ck_assert_int_eq(ring_write(&fk.rsp, &h, sizeof h), 16);
	ck_assert_int_eq(ring_write(&fk.rsp, "t", 1), 1);

	ck_assert_int_eq(simdom_open(&sd, dir, DOMID, SIMDOM_XS, err,
	    sizeof err), 0);
	xsring_init(&xr, sd.xs_page);
	ck_assert_int_eq(xsring_discard(&xr, &moved), 2);
	ck_assert_uint_eq(moved, 3 * 16 + 3 + 3 + 1);
	ck_assert_int_eq(ring_write(&fk.rsp, "hr", 2), 2);
	ck_assert_int_eq(xsring_pull(&xr, &m, &moved), 1);
	ck_assert_uint_eq(m.hdr.req_id, 10);
	ck_assert_str_eq(m.body, "thr");
	xsr_msg_free(&m);
	xsring_free(&xr);
	simdom_close(&sd);
}
END_TEST

/* Generated console text: fixed-size lines, any byte from its offset. */
START_TEST(test_congen)
{
	static char	all[10 * CONGEN_LINE], part[500];
	uint64_t	off;

	congen_fill(7, 0, all, sizeof all);
	ck_assert_mem_eq(all, "dom7 line 0 ", 12);
	ck_assert_int_eq(all[CONGEN_LINE - 1], '\n');
	ck_assert_mem_eq(all + 3 * CONGEN_LINE, "dom7 line 3 ", 12);
	ck_assert_int_eq(all[4 * CONGEN_LINE - 1], '\n');
	for (off = 0; off + sizeof part <= sizeof all; off += 37) {
		congen_fill(7, off, part, sizeof part);
		ck_assert_mem_eq(part, all + off, sizeof part);
	}
	congen_fill(8, 0, part, 12);
	ck_assert_mem_eq(part, "dom8 line 0 ", 12);
}
END_TEST

/* Run the xsc-sim program with the fake daemon serving meanwhile;
 * returns its exit status, its stdout and stderr in out and errout. */
static int
run_tool(char *const argv[], char *out, size_t outsz, char *errout,
    size_t errsz)
{
	const char	*top = getenv("top_builddir");
	char		 prog[PATH_MAX];
	size_t		 outlen = 0, errlen = 0;
	ssize_t		 n;
	pid_t		 pid;
	time_t		 start = time(NULL);
	int		 po[2], pe[2], status, done = 0;

	snprintf(prog, sizeof prog, "%s/xsc-sim", top != NULL ? top : ".");
	ck_assert_msg(access(prog, X_OK) == 0, "%s: %s", prog,
	    strerror(errno));
	ck_assert_int_eq(pipe2(po, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pe, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		setenv("XSC_SIM_ROOT", dir, 1);
		execv(prog, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		fake_step();
		while ((n = read(po[0], out + outlen, outsz - 1 - outlen)) > 0)
			outlen += (size_t)n;
		while ((n = read(pe[0], errout + errlen, errsz - 1 -
		    errlen)) > 0)
			errlen += (size_t)n;
		if (done)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
			done = 1;	/* one more round for the pipes */
		else if (time(NULL) - start > 60) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("%s did not finish", prog);
		}
	}
	close(po[0]);
	close(pe[0]);
	out[outlen] = '\0';
	errout[errlen] = '\0';
	ck_assert_msg(WIFEXITED(status), "xsc-sim died: %d", status);
	return (WEXITSTATUS(status));
}

/* xs: every command's one line, tx ids, escapes, events queued while
 * waiting for replies, a stale reply dropped at start. */
START_TEST(test_xs_commands)
{
	static const char		 want[] =
	    "OK v:name:0\n"
	    "OK\n"
	    "OK\n"
	    "OK a b\n"
	    "OK n0 r5\n"
	    "OK\n"
	    "ERR ENOENT\n"
	    "OK\n"
	    "OK 7\n"
	    "OK v:data/x:7\n"
	    "OK\n"
	    "OK v:data/y:0\n"
	    "EVENT data/w tok\n"
	    "TIMEOUT\n"
	    "OK /local/domain/3\n"
	    "OK T\n"
	    "OK n0\\x00r5\\x00\n"
	    "OK v:a b:0\n"
	    "OK v:q:9\n"
	    "ERR EINVAL\n"
	    "OK\n"
	    "OK 0\n"
	    "ERR USAGE\n";
	struct xsd_sockmsg		 stale = { XS_READ, 77, 0, 2 };
	char				*argv[] = { "xsc-sim", "xs", "5",
	    "read name", "write data/x hello  world", "mkdir data/d",
	    "dir data", "getperms data", "setperms data n5 r0",
	    "read missing", "watch data/w tok", "txstart", "read data/x",
	    "txend T", "read data/y", "event", "event 50",
	    "domainpath 3", "introduced 3", "raw GET_PERMS data",
	    "raw xs_read a\\x20b", "rawtx 9 READ q",
	    "raw 999 a", "sleep 20", "error", "bogus", NULL };
	static char			 out[65536], errout[65536];
	int				 rc;

	ck_assert_int_eq(ring_write(&fk.rsp, &stale, sizeof stale), 16);
	ck_assert_int_eq(ring_write(&fk.rsp, "zz", 2), 2);
	rc = run_tool(argv, out, sizeof out, errout, sizeof errout);
	ck_assert_msg(strcmp(out, want) == 0, "got:\n%s\nstderr:\n%s", out,
	    errout);
	ck_assert_int_eq(rc, 1);		/* the ERRs */
	ck_assert_ptr_nonnull(strstr(errout, "discarded 1 stale messages"));
	ck_assert_uint_eq(fk.xs->req_prod, fk.xs->req_cons);
	/* On exit, its watch is removed, as Linux's /dev/xen/xenbus does. */
	ck_assert_uint_eq(fk.last_type, XS_UNWATCH);
}
END_TEST

/* On exit, an open transaction is ended (aborted). */
START_TEST(test_xs_exit_tx)
{
	char		*argv[] = { "xsc-sim", "xs", "5", "txstart", "read a",
			    NULL };
	static char	 out[4096], errout[4096];

	ck_assert_int_eq(run_tool(argv, out, sizeof out, errout,
	    sizeof errout), 0);
	ck_assert_str_eq(out, "OK 7\nOK v:a:7\n");
	ck_assert_uint_eq(fk.last_type, XS_TRANSACTION_END);
	ck_assert_uint_eq(fk.last_tx, 7);
}
END_TEST

/* xs from stdin; a reply that never comes is TIMEOUT and status 2. */
START_TEST(test_xs_timeout)
{
	char		*argv[] = { "xsc-sim", "xs", "--timeout", "300", "5",
			    "read noreply", "read name", NULL };
	static char	 out[4096], errout[4096];

	ck_assert_int_eq(run_tool(argv, out, sizeof out, errout,
	    sizeof errout), 2);
	ck_assert_str_eq(out, "TIMEOUT\nOK v:name:0\n");
}
END_TEST

/* A daemon that breaks the ring: reported, status 3, no crash. */
START_TEST(test_xs_broken)
{
	char		*argv[] = { "xsc-sim", "xs", "5", "read evil",
			    "read name", NULL };
	char		*argv2[] = { "xsc-sim", "xs", "5", "read huge", NULL };
	static char	 out[4096], errout[4096];

	ck_assert_int_eq(run_tool(argv, out, sizeof out, errout,
	    sizeof errout), 3);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(errout, "impossible ring indices"));

	fk.xs->rsp_prod = fk.xs->rsp_cons;
	fk.replylen = 0;
	ck_assert_int_eq(run_tool(argv2, out, sizeof out, errout,
	    sizeof errout), 3);
	ck_assert_ptr_nonnull(strstr(errout, "announcing 4097 bytes"));
}
END_TEST

/* corrupt: req_prod jumps 64 KiB past req_cons, the daemon hears and
 * says so in the page's error field, which `error` shows. */
START_TEST(test_xs_corrupt)
{
	char		*argv[] = { "xsc-sim", "xs", "5", "error", "corrupt",
			    "error 5000", NULL };
	static char	 out[4096], errout[4096];
	int		 events = fk.xs_events;

	fk.answer = false;
	fk.xs->req_cons = fk.xs->req_prod = 100;
	ck_assert_int_eq(run_tool(argv, out, sizeof out, errout,
	    sizeof errout), 0);
	ck_assert_str_eq(out, "OK 0\nOK\nOK 2\n");
	ck_assert(fk.broken);
	ck_assert_uint_eq(fk.xs->req_prod, 100 + 0x10000);
	ck_assert_int_gt(fk.xs_events, events);
}
END_TEST

/* Impossible indices an earlier process left are reset to 0, as Linux's
 * xenbus does, and the guest talks again. */
START_TEST(test_xs_repair)
{
	char		*argv[] = { "xsc-sim", "xs", "5", "read name", NULL };
	static char	 out[4096], errout[4096];

	fk.xs->req_cons = 100;
	fk.xs->req_prod = 100 + 0x10000;
	fk.xs->rsp_cons = 7;
	fk.xs->rsp_prod = 3;
	ck_assert_int_eq(run_tool(argv, out, sizeof out, errout,
	    sizeof errout), 0);
	ck_assert_str_eq(out, "OK v:name:0\n");
	ck_assert_ptr_nonnull(strstr(errout, "reset to 0"));
}
END_TEST

/* Read a whole small file under the root into buf. */
static size_t
read_file(const char *path, char *buf, size_t size)
{
	ssize_t	n;
	int	fd;

	fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, size - 1);
	ck_assert_int_ge(n, 0);
	close(fd);
	buf[n] = '\0';
	return ((size_t)n);
}

/* guest: console input recorded and echoed first, then generated text
 * in chunks, every byte; a boot with a retried transaction; round
 * trips; the report. */
START_TEST(test_guest_agent)
{
	static char	 out[65536], errout[65536], want[20000], report[4096];
	char		 rpath[PATH_MAX], ipath[PATH_MAX], buf[PATH_MAX + 16];
	char		*p, *argv[] = { "xsc-sim", "guest", "--console-bytes",
			    "10000", "--console-chunk", "300", "--boot",
			    "--rtt", "5", "--report", rpath, "--console-input",
			    ipath, "5", NULL };
	int		 rc;

	snprintf(rpath, sizeof rpath, "%s/report", dir);
	snprintf(ipath, sizeof ipath, "%s/input", dir);
	ck_assert_int_eq(ring_write(&fk.in, "hello\n", 6), 6);
	fk.eagain_left = 1;
	rc = run_tool(argv, out, sizeof out, errout, sizeof errout);
	ck_assert_msg(rc == 0, "status %d, stderr:\n%s", rc, errout);
	ck_assert_msg(strncmp(out, "boot 5 ", 7) == 0, "stdout: %s", out);

	memcpy(want, "hello\n", 6);
	congen_fill(5, 0, want + 6, 10000);
	ck_assert_uint_eq(fk.conlen, 10006);
	ck_assert_mem_eq(fk.console, want, 10006);
	/* Sent a chunk at a time, each notified: the notifications are
	 * hints and coalesce when the daemon's queue is full (10 datagrams
	 * here: net.unix.max_dgram_qlen), so count the chunks the guest
	 * wrote, and events that came. */
	ck_assert_int_gt(fk.cons_events, 0);

	snprintf(buf, sizeof buf, "%s.5", ipath);
	ck_assert_uint_eq(read_file(buf, report, sizeof report), 6);
	ck_assert_str_eq(report, "hello\n");

	read_file(rpath, report, sizeof report);
	ck_assert_msg(strstr(report, "guests 1\n") != NULL, "%s", report);
	ck_assert_msg(strstr(report, "errors 0\n") != NULL, "%s", report);
	ck_assert_msg(strstr(report, "timeouts 0\n") != NULL, "%s", report);
	ck_assert_msg(strstr(report, "tx_retries 1\n") != NULL, "%s", report);
	p = strstr(report, "console_writes ");
	ck_assert_msg(p != NULL, "%s", report);
	ck_assert_int_ge(atoi(p + 15), 10000 / 300 + 1);
	ck_assert_msg(strstr(report, "boots 1\n") != NULL, "%s", report);
	ck_assert_msg(strstr(report, "watch_events 1\n") != NULL, "%s",
	    report);
	ck_assert_msg(strstr(report, "console_bytes 10000\n") != NULL, "%s",
	    report);
	ck_assert_msg(strstr(report, "console_input_bytes 6\n") != NULL, "%s",
	    report);
	ck_assert_ptr_nonnull(strstr(report, "latency_p99_us "));
	/* 31 boot steps, 6 again for the conflict, 5 round trips. */
	ck_assert_msg(strstr(report, "ops 42\n") != NULL, "%s", report);
	ck_assert_int_eq(fk.requests, 42);
}
END_TEST

/* guest: a console the daemon stops reading is given up after the
 * timeout, status 2. */
START_TEST(test_guest_stall)
{
	static char	 out[4096], errout[4096];
	char		*argv[] = { "xsc-sim", "guest", "--console-bytes",
			    "5000", "--timeout", "300", "5", NULL };
	int		 rc;

	hv_evtchn_unbind(hv, fk.cons_port);	/* nobody drains */
	fk.cons_port = NULL;
	rc = run_tool(argv, out, sizeof out, errout, sizeof errout);
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(errout, "console output not read"));
	ck_assert_uint_eq(fk.cons->out_prod, sizeof fk.cons->out);
}
END_TEST

/* Build the suite. */
static Suite *
sim_guest_suite(void)
{
	Suite	*s = suite_create("sim_guest");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ring_framing);
	tcase_add_test(tc, test_ring_broken);
	tcase_add_test(tc, test_ring_discard);
	tcase_add_test(tc, test_congen);
	tcase_add_test(tc, test_xs_commands);
	tcase_add_test(tc, test_xs_exit_tx);
	tcase_add_test(tc, test_xs_timeout);
	tcase_add_test(tc, test_xs_broken);
	tcase_add_test(tc, test_xs_corrupt);
	tcase_add_test(tc, test_xs_repair);
	tcase_add_test(tc, test_guest_agent);
	tcase_add_test(tc, test_guest_stall);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(sim_guest_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
