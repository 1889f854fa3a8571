/*
 * Unit tests for xsd/domain.c: guests served over their xenstore rings on
 * the simulated host (common/hv-sim.c), in a fresh directory per test.
 * The test plays the toolstack (domain directories, INTRODUCE, RELEASE,
 * the two-step death) and the guests (writing requests into the shared
 * page and sending events, as sim-abi.md says), and runs the engine's
 * event loop in between.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/xs_wire.h>

#include "domain.h"
#include "hv.h"
#include "log.h"
#include "path.h"
#include "ring.h"
#include "simtest.h"
#include "store.h"
#include "tree.h"
#include "txn.h"
#include "xsd-private.h"

#define GUEST_PORT	7
#define MAX_GUESTS	128

struct guest {
	uint32_t				 domid;
	struct xenstore_domain_interface	*intf;
	struct ring				 req;	/* we write */
	struct ring				 rsp;	/* we read */
	uint32_t				 next_id;
	char					 events[64][256];
	int					 nevents;
};

static char			*dir;
static struct event_base	*base;
static struct hv		*hv;
static struct xsd		*xsd;
static int			 evsock = -1;

#define put_file(rel, data, len)	simtest_put(dir, rel, data, len)
#define send_event(domid, port)		simtest_event(evsock, dir, domid, port)
#define spin()				simtest_spin(base)
static struct guest		 guests[MAX_GUESTS];
static char			 heard[32][128];
static int			 nheard;

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };

/* The daemon's hv callback, as daemon/main.c has it. */
static void
on_virq(unsigned virq, void *arg)
{
	if (virq == HV_VIRQ_DOM_EXC)
		xsd_domains_changed(arg);
}

/* An in-process watcher: remembers what it heard. */
static void
record(const char *path, void *arg)
{
	(void)arg;
	if (nheard < 32)
		snprintf(heard[nheard++], sizeof heard[0], "%s", path);
}

/* Play the toolstack: the domain's directory and pages, a home owned by
 * dom0 the guest may read, and a data/ directory the guest owns. */
static struct guest *
make_guest(uint32_t domid)
{
	struct guest		*g = &guests[domid % MAX_GUESTS];
	struct perm		 home[2] = { { 0, PERM_NONE }, { domid, PERM_READ } };
	struct perm		 own = { domid, PERM_NONE };
	struct perms		*ps;
	char			 path[PATH_MAX];

	simtest_domain(dir, domid);
	memset(g, 0, sizeof *g);
	g->domid = domid;
	g->intf = simtest_map(dir, domid, 1);
	g->req = (struct ring){ g->intf->req, XENSTORE_RING_SIZE,
	    &g->intf->req_cons, &g->intf->req_prod };
	g->rsp = (struct ring){ g->intf->rsp, XENSTORE_RING_SIZE,
	    &g->intf->rsp_cons, &g->intf->rsp_prod };

	snprintf(path, sizeof path, "/local/domain/%u", domid);
	ck_assert_int_eq(xsd_write(xsd, path, "", 0), 0);
	ps = perms_create(home, 2);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0, path, ps),
	    0);
	perms_unref(ps);
	snprintf(path, sizeof path, "/local/domain/%u/data", domid);
	ck_assert_int_eq(xsd_write(xsd, path, "", 0), 0);
	ps = perms_create(&own, 1);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0, path, ps),
	    0);
	perms_unref(ps);
	return (g);
}

/* INTRODUCE the guest as the toolstack would. */
static void
introduce(struct guest *g)
{
	ck_assert_int_eq(domain_introduce(xsd, g->domid, 0, GUEST_PORT), 0);
	spin();
}

/* Write one request into the guest's ring and signal the daemon. */
static uint32_t
guest_send(struct guest *g, uint32_t type, uint32_t tx, const void *p,
    size_t len)
{
	struct xsd_sockmsg	hdr = { type, ++g->next_id, tx, (uint32_t)len };
	char			msg[sizeof hdr + XENSTORE_PAYLOAD_MAX + 64];

	size_t			done = 0;
	ssize_t			n;
	int			tries = 0;

	ck_assert_uint_le(len, sizeof msg - sizeof hdr);
	memcpy(msg, &hdr, sizeof hdr);
	memcpy(msg + sizeof hdr, p, len);
	/* A message longer than the ring goes in as the daemon makes room. */
	while (done < sizeof hdr + len) {
		n = ring_write(&g->req, msg + done, sizeof hdr + len - done);
		ck_assert_int_ge(n, 0);
		done += (size_t)n;
		send_event(g->domid, GUEST_PORT);
		if (done < sizeof hdr + len) {
			ck_assert_int_lt(++tries, 1000);
			spin();
		}
	}
	return (hdr.req_id);
}

/* Take one whole message from the response ring if there is one. */
static bool
guest_take(struct guest *g, struct xsd_sockmsg *hdr, char *buf, size_t size)
{
	ssize_t	avail = ring_readable(&g->rsp);

	ck_assert_int_ge(avail, 0);
	if ((size_t)avail < sizeof *hdr)
		return (false);
	/* Peek at the header without consuming. */
	{
		uint32_t	cons = *g->rsp.cons;
		char		raw[sizeof *hdr];
		size_t		i;

		for (i = 0; i < sizeof raw; i++)
			raw[i] = g->rsp.buf[(cons + i) & (XENSTORE_RING_SIZE - 1)];
		memcpy(hdr, raw, sizeof raw);
	}
	ck_assert_uint_le(hdr->len, XENSTORE_PAYLOAD_MAX);
	if ((size_t)avail < sizeof *hdr + hdr->len)
		return (false);
	ring_read(&g->rsp, hdr, sizeof *hdr);
	ck_assert_uint_lt(hdr->len, size);
	ring_read(&g->rsp, buf, hdr->len);
	buf[hdr->len] = '\0';
	return (true);
}

/* Wait for the reply to a request; watch events seen meanwhile are kept.
 * Returns the reply's type; its payload is in buf. */
static uint32_t
guest_wait(struct guest *g, uint32_t id, char *buf, size_t size)
{
	struct xsd_sockmsg	hdr;
	int			tries;

	for (tries = 0; tries < 200; tries++) {
		spin();
		while (guest_take(g, &hdr, buf, size)) {
			if (hdr.type == XS_WATCH_EVENT) {
				ck_assert_int_lt(g->nevents, 64);
				snprintf(g->events[g->nevents++], 256, "%s %s",
				    buf, buf + strlen(buf) + 1);
				continue;
			}
			ck_assert_uint_eq(hdr.req_id, id);
			send_event(g->domid, GUEST_PORT);  /* room freed */
			return (hdr.type);
		}
		usleep(1000);
	}
	ck_abort_msg("domain %u: no reply to request %u", g->domid, id);
	return (XS_INVALID);
}

/* One request, its reply. */
static uint32_t
guest_req(struct guest *g, uint32_t type, uint32_t tx, const void *p,
    size_t len, char *buf, size_t size)
{
	return (guest_wait(g, guest_send(g, type, tx, p, len), buf, size));
}

#define S(lit)	lit, sizeof(lit) - 1

/* Expect an error by name. */
#define EXPECT_ERR(g, type, lit, err) do {				\
	char	 b_[XENSTORE_PAYLOAD_MAX + 1];				\
	ck_assert_uint_eq(guest_req(g, type, 0, S(lit), b_, sizeof b_),	\
	    XS_ERROR);							\
	ck_assert_str_eq(b_, err);					\
} while (0)

/* Expect success with a reply payload. */
#define EXPECT_REPLY(g, type, lit, want) do {				\
	char	 b_[XENSTORE_PAYLOAD_MAX + 1];				\
	ck_assert_uint_eq(guest_req(g, type, 0, S(lit), b_, sizeof b_),	\
	    type);							\
	ck_assert_str_eq(b_, want);					\
} while (0)

/* Write value at path from the guest, expecting what. */
static void
guest_write(struct guest *g, const char *path, const char *value,
    const char *want)
{
	char	p[XENSTORE_PAYLOAD_MAX], b[XENSTORE_PAYLOAD_MAX + 1];
	size_t	plen = strlen(path) + 1, vlen = strlen(value);
	uint32_t type;

	memcpy(p, path, plen);
	memcpy(p + plen, value, vlen);
	type = guest_req(g, XS_WRITE, 0, p, plen + vlen, b, sizeof b);
	if (strcmp(want, "OK") == 0)
		ck_assert_uint_eq(type, XS_WRITE);
	else
		ck_assert_uint_eq(type, XS_ERROR);
	ck_assert_str_eq(b, want);
}

static void
setup(void)
{
	struct xsd_config	cfg;
	char			err[256];

	log_open(NULL, LOG_LEVEL_ERROR);
	dir = simtest_root();
	base = event_base_new();
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "%s", err);
	xsd_config_defaults(&cfg);
	xsd = xsd_create(base, &cfg);
	xsd_attach_hv(xsd, hv);
	hv_set_virq_cb(hv, on_virq, xsd);
	evsock = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(evsock, 0);
	nheard = 0;
}

static void
teardown(void)
{
	size_t	i;

	xsd_free(xsd);
	hv_close(hv);
	event_base_free(base);
	close(evsock);
	for (i = 0; i < MAX_GUESTS; i++) {
		if (guests[i].intf != NULL)
			munmap(guests[i].intf, SIMTEST_PAGE);
		guests[i].intf = NULL;
	}
	simtest_rm_rf(dir);
	free(dir);
}

/* Every kind of request works over the ring, in the guest's home. */
START_TEST(test_ring_requests)
{
	struct guest	*g = make_guest(5);
	char		 b[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t	 id, tx;

	introduce(g);
	ck_assert(domain_is_introduced(xsd, 5));
	ck_assert(!domain_is_introduced(xsd, 6));
	/* The page says what this server offers. */
	ck_assert_uint_eq(g->intf->server_features &
	    DOMAIN_FEATURE_WATCH_DEPTH, DOMAIN_FEATURE_WATCH_DEPTH);
	ck_assert_uint_eq(g->intf->server_features &
	    XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_ERROR);

	guest_write(g, "data/x", "hello", "OK");
	EXPECT_REPLY(g, XS_READ, "data/x\0", "hello");
	EXPECT_REPLY(g, XS_READ, "/local/domain/5/data/x\0", "hello");
	EXPECT_REPLY(g, XS_MKDIR, "data/d\0", "OK");
	EXPECT_REPLY(g, XS_DIRECTORY, "data\0", "x");	/* "x\0d\0" */
	EXPECT_REPLY(g, XS_GET_PERMS, "data/x\0", "n5");
	EXPECT_REPLY(g, XS_SET_PERMS, "data/x\0n5\0r0\0", "OK");
	EXPECT_ERR(g, XS_SET_PERMS, "data/x\0n0\0", "EPERM");
	EXPECT_REPLY(g, XS_GET_DOMAIN_PATH, "5\0", "/local/domain/5");
	EXPECT_REPLY(g, XS_RM, "data/d\0", "OK");
	EXPECT_ERR(g, XS_READ, "data/d\0", "ENOENT");
	/* Privileged requests are refused. */
	EXPECT_ERR(g, XS_INTRODUCE, "6\0" "0\0" "1\0", "EACCES");
	EXPECT_ERR(g, XS_RELEASE, "5\0", "EACCES");
	EXPECT_ERR(g, XS_IS_DOMAIN_INTRODUCED, "5\0", "EACCES");
	EXPECT_ERR(g, XS_CONTROL, "print\0x\0", "EACCES");

	/* A transaction: isolation, then commit. */
	ck_assert_uint_eq(guest_req(g, XS_TRANSACTION_START, 0, S("\0"), b,
	    sizeof b), XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(b, NULL, 10);
	ck_assert_uint_ne(tx, 0);
	id = guest_send(g, XS_WRITE, tx, S("data/t\0v"));
	ck_assert_uint_eq(guest_wait(g, id, b, sizeof b), XS_WRITE);
	EXPECT_ERR(g, XS_READ, "data/t\0", "ENOENT");
	id = guest_send(g, XS_TRANSACTION_END, tx, S("T\0"));
	ck_assert_uint_eq(guest_wait(g, id, b, sizeof b), XS_TRANSACTION_END);
	EXPECT_REPLY(g, XS_READ, "data/t\0", "v");

	/* A watch: fired at once, then on a change, relative to home. */
	EXPECT_REPLY(g, XS_WATCH, "data\0tok\0", "OK");
	guest_write(g, "data/y", "1", "OK");
	spin();
	EXPECT_REPLY(g, XS_UNWATCH, "data\0tok\0", "OK");
	ck_assert_int_eq(g->nevents, 2);
	ck_assert_str_eq(g->events[0], "data tok");
	ck_assert_str_eq(g->events[1], "data/y tok");
	EXPECT_REPLY(g, XS_RESET_WATCHES, "", "OK");
}
END_TEST

/* A guest may not touch another guest's home; the answers are Xen's. */
START_TEST(test_confinement)
{
	struct guest	*a = make_guest(5), *b = make_guest(6);

	introduce(a);
	introduce(b);
	guest_write(b, "data/secret", "s", "OK");
	EXPECT_ERR(a, XS_READ, "/local/domain/6/data/secret\0", "EACCES");
	EXPECT_ERR(a, XS_READ, "/local/domain/6/data/none\0", "EACCES");
	EXPECT_ERR(a, XS_DIRECTORY, "/local/domain/6/data\0", "EACCES");
	EXPECT_ERR(a, XS_WRITE, "/local/domain/6/data/x\0v", "EACCES");
	EXPECT_ERR(a, XS_RM, "/local/domain/6/data/secret\0", "EACCES");
	EXPECT_ERR(a, XS_READ, "/tool\0", "EACCES");	/* "/" is n0 */
	/* Its own home it may read, but not write to directly. */
	EXPECT_REPLY(a, XS_READ, "/local/domain/5\0", "");
	EXPECT_ERR(a, XS_WRITE, "/local/domain/5/x\0v", "EACCES");
	EXPECT_ERR(a, XS_READ, "data/none\0", "ENOENT");
	/* A watch on the other home never fires for it. */
	EXPECT_REPLY(a, XS_WATCH, "/local/domain/6\0w\0", "OK");
	guest_write(b, "data/secret", "t", "OK");
	spin();
	EXPECT_REPLY(a, XS_READ, "data\0", "");
	ck_assert_int_eq(a->nevents, 1);	/* only the first firing */
}
END_TEST

/* Each quota, exceeded, answers as Xen does and leaves others alone. */
START_TEST(test_quotas)
{
	struct guest	*a = make_guest(5), *b = make_guest(6);
	char		 big[3000], p[3100];
	int		 i;

	introduce(a);
	introduce(b);
	xsd->cfg.quota.nodes = 4;	/* data/ is one of them */
	guest_write(a, "data/1", "", "OK");
	guest_write(a, "data/2", "", "OK");
	guest_write(a, "data/3", "", "OK");
	guest_write(a, "data/4", "", "ENOSPC");
	guest_write(a, "data/3", "overwrite is fine", "OK");
	guest_write(b, "data/1", "", "OK");
	guest_write(b, "data/2", "", "OK");
	EXPECT_REPLY(a, XS_RM, "data/3\0", "OK");
	guest_write(a, "data/4", "", "OK");
	xsd->cfg.quota.nodes = 1000;

	xsd->cfg.quota.watches = 2;
	EXPECT_REPLY(a, XS_WATCH, "data\0w1\0", "OK");
	EXPECT_REPLY(a, XS_WATCH, "data\0w2\0", "OK");
	EXPECT_ERR(a, XS_WATCH, "data\0w3\0", "E2BIG");
	EXPECT_REPLY(b, XS_WATCH, "data\0w3\0", "OK");

	xsd->cfg.quota.transactions = 1;
	EXPECT_REPLY(a, XS_TRANSACTION_START, "\0", "1");
	EXPECT_ERR(a, XS_TRANSACTION_START, "\0", "ENOSPC");
	EXPECT_REPLY(b, XS_TRANSACTION_START, "\0", "1");

	/* Node size. */
	memset(big, 'x', sizeof big);
	memcpy(p, "data/big", 9);
	memcpy(p + 9, big, sizeof big);
	{
		char	r[XENSTORE_PAYLOAD_MAX + 1];

		ck_assert_uint_eq(guest_req(a, XS_WRITE, 0, p, 9 + sizeof big,
		    r, sizeof r), XS_ERROR);
		ck_assert_str_eq(r, "ENOSPC");
	}
	/* Permissions per node. */
	EXPECT_ERR(a, XS_SET_PERMS, "data/1\0n5\0r1\0r2\0r3\0r4\0r6\0",
	    "ENOSPC");
	/* Nodes touched by one transaction. */
	xsd->cfg.quota.txn_nodes = 3;
	for (i = 0; i < 5; i++) {
		char		r[XENSTORE_PAYLOAD_MAX + 1], path[32];
		uint32_t	id;

		snprintf(path, sizeof path, "data/%d", i);
		id = guest_send(a, XS_READ, 1, path, strlen(path) + 1);
		guest_wait(a, id, r, sizeof r);
		if (i >= 3)
			ck_assert_str_eq(r, "ENOSPC");
	}
	/* Dom0 is never limited. */
	ck_assert_int_eq(xsd_write(xsd, "/local/domain/5/data/d0", big,
	    sizeof big), 0);
}
END_TEST

/* A guest sending many requests without reading replies has at most the
 * outstanding quota of them answered; the rest wait, then all arrive. */
START_TEST(test_outstanding)
{
	struct guest	*a = make_guest(5), *b = make_guest(6);
	char		 v[1000], p[1100], r[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg hdr;
	uint32_t	 first = 0, id;
	int		 i, got = 0;
	FILE		*f;
	char		*text;
	size_t		 len;

	introduce(a);
	introduce(b);
	memset(v, 'v', sizeof v);
	memcpy(p, "data/v", 7);
	memcpy(p + 7, v, sizeof v);
	ck_assert_uint_eq(guest_req(a, XS_WRITE, 0, p, 7 + sizeof v, r,
	    sizeof r), XS_WRITE);
	/* 30 reads of 1000 bytes: the ring holds one reply at a time. */
	for (i = 0; i < 30; i++) {
		id = guest_send(a, XS_READ, 0, S("data/v\0"));
		if (i == 0)
			first = id;
	}
	spin();
	f = open_memstream(&text, &len);
	ck_assert_int_eq(domain_quota_report(xsd, 5, f), 0);
	fclose(f);
	ck_assert_msg(strstr(text, "outstanding     :       20\n") != NULL,
	    "%s", text);
	free(text);
	/* Another guest is served meanwhile. */
	guest_write(b, "data/x", "1", "OK");
	/* Reading its replies, the guest gets all 30, in order. */
	for (i = 0; i < 200 && got < 30; i++) {
		spin();
		while (guest_take(a, &hdr, r, sizeof r)) {
			ck_assert_uint_eq(hdr.type, XS_READ);
			ck_assert_uint_eq(hdr.req_id, first + (uint32_t)got);
			ck_assert_uint_eq(hdr.len, sizeof v);
			got++;
			send_event(5, GUEST_PORT);
		}
	}
	ck_assert_int_eq(got, 30);
}
END_TEST

/* Bad indices and over-long messages cut the guest off, with the reason
 * on its page; 100 other guests keep working. */
START_TEST(test_hostile_guests)
{
	struct guest	*bad, *proto, *g;
	struct xsd_sockmsg hdr = { XS_READ, 1, 0, 5000 };
	char		 path[64];
	uint32_t	 d;

	for (d = 1; d <= 100; d++)
		introduce(make_guest(d));
	bad = make_guest(101);
	introduce(bad);
	proto = make_guest(102);
	introduce(proto);

	bad->intf->req_prod = bad->intf->req_cons + 0x10000;
	send_event(101, GUEST_PORT);
	ring_write(&proto->req, &hdr, sizeof hdr);
	send_event(102, GUEST_PORT);
	spin();
	ck_assert_uint_eq(bad->intf->error, XENSTORE_ERROR_RINGIDX);
	ck_assert_uint_eq(proto->intf->error, XENSTORE_ERROR_PROTO);
	for (d = 1; d <= 100; d++) {
		g = &guests[d];
		snprintf(path, sizeof path, "data/k%u", d);
		guest_write(g, path, "ok", "OK");
		ck_assert_uint_eq(g->intf->error, XENSTORE_ERROR_NONE);
	}
	/* The broken ones stay cut off, even when their rings look sane. */
	bad->intf->req_prod = bad->intf->req_cons;
	guest_send(bad, XS_READ, 0, S("data\0"));
	spin();
	ck_assert_int_eq(ring_readable(&bad->rsp), 0);
	/* Asking to reconnect gives a fresh start. */
	bad->intf->connection = XENSTORE_RECONNECT;
	send_event(101, GUEST_PORT);
	spin();
	ck_assert_uint_eq(bad->intf->connection, XENSTORE_CONNECTED);
	ck_assert_uint_eq(bad->intf->error, XENSTORE_ERROR_NONE);
	ck_assert_uint_eq(bad->intf->req_prod, 0);
	EXPECT_REPLY(bad, XS_READ, "data\0", "");
}
END_TEST

/* Death in two steps: the domain's nodes and perms entries go, and
 * @releaseDomain fires for in-process and permitted guest watchers. */
START_TEST(test_death)
{
	struct guest	*a = make_guest(5), *b = make_guest(6);
	struct xsd_watch *w1, *w2;
	char		 r[XENSTORE_PAYLOAD_MAX + 1];
	struct perm	 pl[2] = { { 0, PERM_NONE }, { 6, PERM_READ } };
	struct perms	*ps;
	char		*v;

	w1 = xsd_watch_add(xsd, "@introduceDomain", record, NULL);
	w2 = xsd_watch_add(xsd, "@releaseDomain", record, NULL);
	introduce(a);
	introduce(b);
	ck_assert_int_eq(nheard, 2);
	ck_assert_str_eq(heard[0], "@introduceDomain/5");
	ck_assert_str_eq(heard[1], "@introduceDomain/6");

	/* Guest 6 may hear of releases once allowed, with a depth. */
	EXPECT_REPLY(b, XS_WATCH, "@releaseDomain\0r\0", "OK");
	EXPECT_REPLY(b, XS_WATCH, "@releaseDomain\0rd\0" "1\0", "OK");
	EXPECT_REPLY(b, XS_WATCH, "@releaseDomain/5\0r5\0", "OK");
	EXPECT_ERR(b, XS_WATCH, "@releaseDomain\0bad\0" "2\0", "EINVAL");
	ps = perms_create(pl, 2);
	perms_unref(*domain_special_perms(xsd, "@releaseDomain"));
	*domain_special_perms(xsd, "@releaseDomain") = ps;

	guest_write(a, "data/x", "1", "OK");
	EXPECT_REPLY(a, XS_SET_PERMS, "data/x\0n5\0r6\0", "OK");
	ck_assert_int_eq(xsd_write(xsd, "/tool/t", "", 0), 0);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0, "/tool/t",
	    (ps = perms_create((struct perm[]){ { 0, PERM_NONE },
	    { 5, PERM_READ } }, 2))), 0);
	perms_unref(ps);
	ck_assert_uint_eq(tree_owned(xsd->store->tree, 5), 2);

	put_file("domains/5/state", "dying\n", 6);
	send_event(HV_DOMID_XEN, HV_VIRQ_DOM_EXC);
	spin();
	ck_assert(!domain_is_introduced(xsd, 5));
	ck_assert_int_eq(nheard, 3);
	ck_assert_str_eq(heard[2], "@releaseDomain/5");
	ck_assert_int_eq(xsd_read(xsd, "/local/domain/5/data", &v, NULL),
	    -ENOENT);
	ck_assert_int_eq(xsd_read(xsd, "/local/domain/5", &v, NULL), 0);
	free(v);
	ck_assert_uint_eq(tree_owned(xsd->store->tree, 5), 0);
	ck_assert_int_eq(tree_check(xsd->store->tree, stderr), 0);
	/* Its entry is gone from dom0's node. */
	ck_assert_uint_eq(tree_lookup(xsd->store->tree, "/tool/t")->perms->n,
	    1);
	EXPECT_REPLY(b, XS_READ, "data\0", "");
	ck_assert_int_eq(b->nevents, 6);	/* 3 at once, 3 now */
	ck_assert_str_eq(b->events[3], "@releaseDomain r");
	ck_assert_str_eq(b->events[4], "@releaseDomain/5 rd");
	ck_assert_str_eq(b->events[5], "@releaseDomain/5 r5");

	/* RELEASE does the same for a live domain. */
	guest_write(b, "data/y", "1", "OK");
	ck_assert_int_eq(domain_release(xsd, 6), 0);
	spin();
	ck_assert_int_eq(nheard, 4);
	ck_assert_str_eq(heard[3], "@releaseDomain/6");
	ck_assert_int_eq(xsd_read(xsd, "/local/domain/6/data", &v, NULL),
	    -ENOENT);
	ck_assert_int_eq(domain_release(xsd, 6), -ENOENT);
	/* A vanished guest (no directory) is released on the next scan. */
	(void)r;
	xsd_watch_remove(xsd, w1);
	xsd_watch_remove(xsd, w2);
}
END_TEST

/* What the durable copy was given (xsd_persist_all), a line each. */
static char	persisted[16384];
static size_t	npersisted;

static void
plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
plog(const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(persisted + npersisted, sizeof persisted - npersisted,
	    fmt, ap);
	va_end(ap);
	ck_assert_int_lt(npersisted + (size_t)n + 1, sizeof persisted);
	npersisted += (size_t)n;
	persisted[npersisted++] = '\n';
	persisted[npersisted] = '\0';
}

static void
p_commit(uint64_t gen, uint32_t origin, bool in_txn,
    const struct xsd_change *xc, size_t n, void *arg)
{
	size_t	i;

	(void)origin;
	(void)arg;
	for (i = 0; i < n; i++)
		plog("node %llu %s=%.*s %s%s%s", (unsigned long long)gen,
		    xc[i].path, (int)xc[i].vlen, (const char *)xc[i].value,
		    xc[i].perms, xc[i].created ? " new" : "",
		    in_txn || xc[i].deleted ? " odd" : "");
}

static void
p_forget(uint64_t gen, uint32_t domid, void *arg)
{
	(void)arg;
	plog("forget %llu %u", (unsigned long long)gen, domid);
}

static void
p_domain_put(const struct xsd_domain_rec *r, void *arg)
{
	(void)arg;
	plog("domain %u %llu %u %d", r->domid, (unsigned long long)r->gfn,
	    r->port, (int)r->target);
}

static void
p_domain_del(uint32_t domid, void *arg)
{
	(void)arg;
	plog("gone %u", domid);
}

static void
p_watch_put(uint32_t domid, const char *path, const char *token, int depth,
    void *arg)
{
	(void)arg;
	plog("watch %u %s %s %d", domid, path, token, depth);
}

static void
p_watch_del(uint32_t domid, const char *path, const char *token, void *arg)
{
	(void)arg;
	plog("unwatch %u %s %s", domid, path, token);
}

static void
p_special(const char *name, const char *perms, void *arg)
{
	(void)arg;
	plog("special %s %s", name, perms);
}

static const struct xsd_persist_ops p_ops = {
	p_commit, p_forget, p_domain_put, p_domain_del, p_watch_put,
	p_watch_del, p_special
};

/* Check that each node line of persisted names a node whose parent came
 * before it; the number of node lines. */
static size_t
persisted_nodes_in_order(void)
{
	char	*copy = strdup(persisted), *line, *save, *eq, *slash;
	char	 seen[256][128];
	size_t	 nseen = 0, i;
	bool	 found;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "node ", 5) != 0)
			continue;
		line = strchr(line + 5, ' ') + 1;
		eq = strchr(line, '=');
		*eq = '\0';
		if (strcmp(line, "/") != 0) {
			slash = strrchr(line, '/');
			*slash = '\0';
			for (i = 0, found = false; i < nseen && !found; i++)
				found = strcmp(seen[i], *line != '\0' ? line :
				    "/") == 0;
			ck_assert_msg(found, "%s/%s before its parent", line,
			    slash + 1);
			*slash = '/';
		}
		ck_assert_uint_lt(nseen, 256);
		snprintf(seen[nseen++], sizeof seen[0], "%s", line);
	}
	free(copy);
	return (nseen);
}

/* The whole store given to the durable copy again (xsd_persist_all, for
 * a copy that fell behind): every node once, parents first, as made at
 * the current generation; the guests served (not dom0), their targets and
 * watches; the special nodes' permissions. */
START_TEST(test_persist_all)
{
	struct guest	*a = make_guest(5), *b = make_guest(6);
	struct perm	 pl[2] = { { 0, PERM_NONE }, { 6, PERM_READ } };
	char		 want[256];

	introduce(a);
	introduce(b);
	ck_assert_int_eq(domain_set_target(xsd, 6, 5), 0);
	EXPECT_REPLY(a, XS_WATCH, "data\0tok\0", "OK");
	EXPECT_REPLY(b, XS_WATCH, "@releaseDomain\0rel\0" "1\0", "OK");
	guest_write(a, "data/x", "1", "OK");
	perms_unref(*domain_special_perms(xsd, "@releaseDomain"));
	*domain_special_perms(xsd, "@releaseDomain") = perms_create(pl, 2);

	npersisted = 0;
	persisted[0] = '\0';
	xsd_set_persist(xsd, &p_ops, NULL);
	xsd_persist_all(xsd);
	xsd_set_persist(xsd, NULL, NULL);

	ck_assert_uint_eq(persisted_nodes_in_order(),
	    xsd->store->tree->nnodes);
	snprintf(want, sizeof want, "node %llu /local/domain/5/data/x=1 n5 "
	    "new\n", (unsigned long long)xsd_generation(xsd));
	ck_assert_msg(strstr(persisted, want) != NULL, "%s", persisted);
	ck_assert_ptr_null(strstr(persisted, " odd"));
	ck_assert_ptr_nonnull(strstr(persisted, "\ndomain 5 0 7 -1\n"
	    "watch 5 data tok -1\n"
	    "domain 6 0 7 5\n"
	    "watch 6 @releaseDomain rel 1\n"
	    "special @introduceDomain n0\n"
	    "special @releaseDomain n0,r6\n"));
	ck_assert_ptr_null(strstr(persisted, "domain 0 "));
}
END_TEST

/* Transactions that do not conflict cannot together take a guest past
 * its node quota: the end checks again. */
START_TEST(test_quota_across_transactions)
{
	struct guest	*a = make_guest(5);
	char		 r[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t	 id;

	introduce(a);
	xsd->cfg.quota.nodes = 3;	/* data/ and two more */
	EXPECT_REPLY(a, XS_TRANSACTION_START, "\0", "1");
	EXPECT_REPLY(a, XS_TRANSACTION_START, "\0", "2");
	id = guest_send(a, XS_WRITE, 1, S("data/a\0x"));
	ck_assert_uint_eq(guest_wait(a, id, r, sizeof r), XS_WRITE);
	id = guest_send(a, XS_WRITE, 1, S("data/b\0x"));
	ck_assert_uint_eq(guest_wait(a, id, r, sizeof r), XS_WRITE);
	id = guest_send(a, XS_WRITE, 2, S("data/c\0x"));
	ck_assert_uint_eq(guest_wait(a, id, r, sizeof r), XS_WRITE);
	id = guest_send(a, XS_TRANSACTION_END, 1, S("T\0"));
	ck_assert_uint_eq(guest_wait(a, id, r, sizeof r), XS_TRANSACTION_END);
	id = guest_send(a, XS_TRANSACTION_END, 2, S("T\0"));
	ck_assert_uint_eq(guest_wait(a, id, r, sizeof r), XS_ERROR);
	ck_assert_str_eq(r, "ENOSPC");
	ck_assert_uint_eq(tree_owned(xsd->store->tree, 5), 3);
	EXPECT_ERR(a, XS_READ, "data/c\0", "ENOENT");
}
END_TEST

/* A domain never introduced, named in a permission list, is stripped
 * from it once the hypervisor no longer knows it; a device model acting
 * for a released domain acts for nobody. */
START_TEST(test_forget_unintroduced)
{
	struct guest	*dm = make_guest(5), *t = make_guest(6);
	struct perm	 own6 = { 6, PERM_NONE };
	struct perm	 pl[2] = { { 0, PERM_NONE }, { 7, PERM_READ } };
	struct perms	*ps;
	char		 path[PATH_MAX];

	make_guest(7);	/* exists, never introduced */
	introduce(dm);
	introduce(t);
	ck_assert_int_eq(domain_set_target(xsd, 5, 6), 0);
	ck_assert_int_eq(domain_set_target(xsd, 5, 9), -ENOENT);
	ck_assert_int_eq(xsd_write(xsd, "/tool/t", "", 0), 0);
	ps = perms_create(pl, 2);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0, "/tool/t",
	    ps), 0);
	perms_unref(ps);
	/* The device model may use its target's nodes. */
	guest_write(dm, "/local/domain/6/data/dm", "1", "OK");

	snprintf(path, sizeof path, "%s/domains/7/state", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(domain_release(xsd, 6), 0);
	send_event(HV_DOMID_XEN, HV_VIRQ_DOM_EXC);
	spin();
	ck_assert_uint_eq(tree_lookup(xsd->store->tree, "/tool/t")->perms->n,
	    1);
	ck_assert(!perms_names(7));
	/* A new domain 6: the device model has no rights on it. */
	ck_assert_int_eq(xsd_write(xsd, "/local/domain/6/data/new", "", 0), 0);
	ps = perms_create(&own6, 1);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0,
	    "/local/domain/6/data", ps), 0);
	perms_unref(ps);
	guest_write(dm, "/local/domain/6/data/dm", "2", "EACCES");
}
END_TEST

/* Introducing a known domain again rebinds its port and gives it a fresh
 * connection, as Xen does; a guest with no event socket is no error. */
START_TEST(test_reintroduce)
{
	struct guest	*a = make_guest(5);
	char		 path[PATH_MAX];

	introduce(a);
	EXPECT_REPLY(a, XS_WATCH, "data\0w\0", "OK");
	ck_assert_uint_eq(xsd->store->watches != NULL, 1);
	ck_assert_int_eq(domain_introduce(xsd, 5, 0, GUEST_PORT), 0);
	spin();
	ck_assert_uint_eq(a->intf->rsp_prod, 0);
	a->nevents = 0;
	guest_write(a, "data/z", "1", "OK");
	spin();
	EXPECT_REPLY(a, XS_READ, "data/z\0", "1");
	ck_assert_int_eq(a->nevents, 0);	/* the watch is gone */
	/* Unknown domains cannot be introduced; dom0 is not a guest. */
	ck_assert_int_eq(domain_introduce(xsd, 77, 0, 1), -ENOENT);
	ck_assert_int_eq(domain_introduce(xsd, 0, 0, 1), -EINVAL);
	snprintf(path, sizeof path, "%s/domains/5/evtchn.sock", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* Has the domain had writes delayed for want of write credit? */
static bool
writes_delayed(uint32_t domid)
{
	char	*rep = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&rep, &len);
	bool	 yes;

	ck_assert_int_eq(domain_quota_report(xsd, domid, f), 0);
	fclose(f);
	yes = strstr(rep, "writes-delayed") != NULL;
	free(rep);
	return (yes);
}

/* Milliseconds since t0. */
static double
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6);
}

/* A guest's write flood is paced (write-rate after write-burst) while a
 * transaction is open, not before; the toolstack's transaction commits. */
START_TEST(test_write_rate)
{
	struct guest	*g = make_guest(5);
	struct timespec	 t0;
	struct txn	*t;
	double		 ms;
	int		 i;

	introduce(g);
	xsd->cfg.quota.write_rate = 100;
	for (i = 0; i < 30; i++)
		guest_write(g, "data/x", "v", "OK");
	ck_assert(!writes_delayed(5));

	t = txn_create(xsd->store, 1, &dom0);
	ck_assert_int_eq(store_write(xsd->store, t, &dom0, "/vm/1", "1", 1),
	    0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 30; i++)
		guest_write(g, "data/x", "v", "OK");
	ms = ms_since(&t0);
	/* 20 writes beyond the burst of 10, at 100 a second. */
	ck_assert_msg(ms >= 150, "30 writes in %.0f ms", ms);
	ck_assert(writes_delayed(5));
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
}
END_TEST

/* A guest whose commit makes another domain's transaction fail is
 * charged conflict-cost and its next writes wait; the victim is not
 * charged and its retry commits. */
START_TEST(test_conflict_charge)
{
	struct guest	*a = make_guest(5), *v = make_guest(6);
	struct perm	 shared[2] = { { 5, PERM_NONE }, { 6, PERM_READ } };
	struct perms	*ps;
	struct timespec	 t0;
	char		 r[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t	 id;
	double		 ms;

	introduce(a);
	introduce(v);
	xsd->cfg.quota.write_rate = 100;
	ck_assert_int_eq(xsd_write(xsd, "/local/domain/5/data/x", "0", 1), 0);
	ps = perms_create(shared, 2);
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0,
	    "/local/domain/5/data/x", ps), 0);
	perms_unref(ps);

	EXPECT_REPLY(v, XS_TRANSACTION_START, "\0", "1");
	id = guest_send(v, XS_READ, 1, S("/local/domain/5/data/x\0"));
	ck_assert_uint_eq(guest_wait(v, id, r, sizeof r), XS_READ);
	id = guest_send(v, XS_WRITE, 1, S("data/y\0z"));
	ck_assert_uint_eq(guest_wait(v, id, r, sizeof r), XS_WRITE);
	guest_write(a, "data/x", "changed", "OK");
	id = guest_send(v, XS_TRANSACTION_END, 1, S("T\0"));
	ck_assert_uint_eq(guest_wait(v, id, r, sizeof r), XS_ERROR);
	ck_assert_str_eq(r, "EAGAIN");

	/* Credit 10 - 1 - 20: the next write waits about 110 ms. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	guest_write(a, "data/x", "again", "OK");
	ms = ms_since(&t0);
	ck_assert_msg(ms >= 50, "write after a conflict in %.0f ms", ms);
	ck_assert(writes_delayed(5));
	ck_assert(!writes_delayed(6));

	EXPECT_REPLY(v, XS_TRANSACTION_START, "\0", "2");
	id = guest_send(v, XS_WRITE, 2, S("data/y\0z"));
	ck_assert_uint_eq(guest_wait(v, id, r, sizeof r), XS_WRITE);
	id = guest_send(v, XS_TRANSACTION_END, 2, S("T\0"));
	ck_assert_uint_eq(guest_wait(v, id, r, sizeof r), XS_TRANSACTION_END);
	ck_assert(!writes_delayed(6));
}
END_TEST

static Suite *
domain_suite(void)
{
	Suite	*s = suite_create("domain");
	TCase	*tc = tcase_create("domain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ring_requests);
	tcase_add_test(tc, test_confinement);
	tcase_add_test(tc, test_quotas);
	tcase_add_test(tc, test_outstanding);
	tcase_add_test(tc, test_hostile_guests);
	tcase_add_test(tc, test_death);
	tcase_add_test(tc, test_persist_all);
	tcase_add_test(tc, test_reintroduce);
	tcase_add_test(tc, test_quota_across_transactions);
	tcase_add_test(tc, test_forget_unintroduced);
	tcase_add_test(tc, test_write_rate);
	tcase_add_test(tc, test_conflict_charge);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(domain_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
