/*
 * Unit tests for consoled/: the drainer in-process, on the simulated host
 * (common/hv-sim.c) with the engine and a real console log in a fresh
 * directory. The test plays the toolstack (domain directory, console
 * keys, INTRODUCE, death) and the guest (writing into its console page's
 * output ring, reading its input ring), and reads the log back.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/console.h>

#include "consoled.h"
#include "db.h"
#include "domain.h"
#include "hv.h"
#include "log.h"
#include "ring.h"
#include "simtest.h"
#include "xsd-private.h"

#define CONS_PORT	2

struct guest {
	uint32_t			 domid;
	struct xencons_interface	*intf;
	struct ring			 out;	/* we write */
	struct ring			 in;	/* we read */
};

static char			*dir;
static struct event_base	*base;
static struct hv		*hv;
static struct xsd		*xsd;
static struct db		*db;
static struct consoled		*cd;
static int			 evsock = -1;

#define put_file(rel, data, len)	simtest_put(dir, rel, data, len)
#define send_event(domid, port)		simtest_event(evsock, dir, domid, port)
#define spin()				simtest_spin(base)

static void
on_virq(unsigned virq, void *arg)
{
	(void)arg;
	if (virq == HV_VIRQ_DOM_EXC)
		xsd_domains_changed(xsd);
	else
		consoled_virq(cd, virq);
}

/* The toolstack: directory, pages, the console keys libxl writes. */
static struct guest *
make_guest(uint32_t domid, const char *limit)
{
	struct guest		*g = calloc(1, sizeof *g);
	char			 rel[128], path[PATH_MAX], v[64];

	simtest_domain(dir, domid);
	snprintf(rel, sizeof rel, "domains/%u/uuid", domid);
	snprintf(v, sizeof v, "%08u-0000-4000-8000-000000000000", domid);
	put_file(rel, v, strlen(v));

	g->domid = domid;
	g->intf = simtest_map(dir, domid, 0);
	g->out = (struct ring){ g->intf->out, sizeof g->intf->out,
	    &g->intf->out_cons, &g->intf->out_prod };
	g->in = (struct ring){ g->intf->in, sizeof g->intf->in,
	    &g->intf->in_cons, &g->intf->in_prod };

#define KEY(k, val) do {						\
	snprintf(path, sizeof path, "/local/domain/%u/%s", domid, k);	\
	ck_assert_int_eq(xsd_write(xsd, path, val, strlen(val)), 0);	\
} while (0)
	snprintf(v, sizeof v, "guest%u", domid);
	KEY("name", v);
	KEY("console/type", "xenconsoled");
	snprintf(v, sizeof v, "%u", 0x200000 + domid);
	KEY("console/ring-ref", v);
	snprintf(v, sizeof v, "%u", CONS_PORT);
	KEY("console/port", v);
	if (limit != NULL)
		KEY("console/limit", limit);
#undef KEY
	ck_assert_int_eq(domain_introduce(xsd, domid, 0, 1), 0);
	spin();
	return (g);
}

/* The guest prints: all of it, waiting for the daemon to make room. */
static void
guest_print(struct guest *g, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;
	int		 tries = 0;

	while (len != 0) {
		n = ring_write(&g->out, p, len);
		ck_assert_int_ge(n, 0);
		p += n;
		len -= (size_t)n;
		send_event(g->domid, CONS_PORT);
		if (len != 0) {
			ck_assert_int_lt(++tries, 100000);
			spin();
		}
	}
	spin();
}

struct collect {
	char	*buf;
	size_t	 len;
};

/* Gather a domain's logged bytes, lines joined back as they were. */
static int
collect_line(const struct db_line *l, void *arg)
{
	struct collect	*c = arg;

	c->buf = realloc(c->buf, c->len + l->len + 1);
	memcpy(c->buf + c->len, l->text, l->len);
	c->len += l->len;
	if (!l->partial)
		c->buf[c->len++] = '\n';
	return (0);
}

/* Everything the log holds for the newest incarnation of domid. */
static struct collect
logged(uint32_t domid, size_t *nincs)
{
	struct collect		 c = { NULL, 0 };
	struct db_incarnation	*incs;
	struct db		*r;
	char			 err[256], path[PATH_MAX];
	size_t			 n;

	db_flush(db);
	snprintf(path, sizeof path, "%s/console.db", dir);
	r = db_open_reader(path, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(db_incarnations(r, domid, &incs, &n), 0);
	if (nincs != NULL)
		*nincs = n;
	if (n != 0)
		ck_assert_int_eq(db_lines(r, incs[0].id, -1, collect_line, &c),
		    0);
	free(incs);
	db_close(r);
	return (c);
}

static void
setup_with(uint64_t rate, uint64_t burst)
{
	struct xsd_config	cfg;
	struct db_config	dcfg;
	struct consoled_config	ccfg;
	char			err[256], path[PATH_MAX];

	log_open(NULL, LOG_LEVEL_ERROR);
	dir = simtest_root();
	base = event_base_new();
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "%s", err);
	xsd_config_defaults(&cfg);
	xsd = xsd_create(base, &cfg);
	xsd_attach_hv(xsd, hv);
	db_config_defaults(&dcfg);
	snprintf(path, sizeof path, "%s/console.db", dir);
	dcfg.path = path;
	dcfg.flush_ms = 20;
	db = db_open_writer(&dcfg, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	consoled_config_defaults(&ccfg);
	ccfg.rate = rate;
	ccfg.burst = burst;
	cd = consoled_create(base, xsd, hv, db, &ccfg);
	hv_set_virq_cb(hv, on_virq, NULL);
	evsock = socket(AF_UNIX, SOCK_DGRAM, 0);
}

static void
setup(void)
{
	setup_with(4 * 1024 * 1024, 16 * 1024 * 1024);
}

static void
teardown(void)
{
	consoled_free(cd);
	xsd_free(xsd);
	db_close(db);
	hv_close(hv);
	event_base_free(base);
	close(evsock);
	simtest_rm_rf(dir);
	free(dir);
}

/* Bytes of every value, lines longer than the ring, wraps: the log holds
 * exactly what the guest printed, in order. */
START_TEST(test_exact_bytes)
{
	struct guest	*g = make_guest(5, NULL);
	struct collect	 c;
	char		*data;
	size_t		 len = 300000, i, nincs;
	uint32_t	 x = 12345;

	ck_assert_uint_eq(consoled_count(cd), 1);
	data = malloc(len);
	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (i % 997 == 0) ? '\n' : (char)(x >> 16);
	}
	guest_print(g, data, len);
	c = logged(5, &nincs);
	ck_assert_uint_eq(nincs, 1);
	ck_assert_uint_eq(c.len, len);
	ck_assert(memcmp(c.buf, data, len) == 0);
	free(c.buf);
	free(data);
	munmap(g->intf, SIMTEST_PAGE);
	free(g);
}
END_TEST

/* What a dying guest printed last reaches the log, and the incarnation
 * is closed; a new domain with the same domid is a new incarnation. */
START_TEST(test_death_loses_nothing)
{
	struct guest	*g = make_guest(6, NULL);
	struct collect	 c;
	size_t		 nincs;

	guest_print(g, "booting\n", 8);
	/* Printed, no event sent: only the last drain can find it. */
	ck_assert_int_eq(ring_write(&g->out, "last words", 10), 10);
	put_file("domains/6/state", "dying\n", 6);
	send_event(HV_DOMID_XEN, HV_VIRQ_DOM_EXC);
	spin();
	ck_assert_uint_eq(consoled_count(cd), 0);
	c = logged(6, &nincs);
	ck_assert_uint_eq(nincs, 1);
	ck_assert_uint_eq(c.len, 18);
	ck_assert(memcmp(c.buf, "booting\nlast words", 18) == 0);
	free(c.buf);
	munmap(g->intf, SIMTEST_PAGE);
	free(g);
}
END_TEST

/* Typed into the pty, read by the guest from its input ring. */
START_TEST(test_pty)
{
	struct guest	*g = make_guest(7, NULL);
	char		*tty, buf[64];
	int		 fd, i;
	ssize_t		 n = 0;

	ck_assert_int_eq(xsd_read(xsd, "/local/domain/7/console/tty", &tty,
	    NULL), 0);
	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	free(tty);
	guest_print(g, "login: ", 7);
	for (i = 0; i < 100 && n <= 0; i++) {
		spin();
		n = read(fd, buf, sizeof buf);
	}
	ck_assert_int_eq(n, 7);
	ck_assert(memcmp(buf, "login: ", 7) == 0);
	ck_assert_int_eq(write(fd, "root\r", 5), 5);
	for (i = 0; i < 100 && ring_readable(&g->in) < 5; i++) {
		spin();
		usleep(1000);
	}
	ck_assert_int_eq(ring_read(&g->in, buf, sizeof buf), 5);
	ck_assert(memcmp(buf, "root\r", 5) == 0);
	close(fd);
	munmap(g->intf, SIMTEST_PAGE);
	free(g);
}
END_TEST

/* After a client hangs the pty up (TIOCVHANGUP), the console still has a
 * working pty at the path in console/tty. (Whether the master then reads
 * EIO, which the drainer answers with a new pty, depends on how the hangup
 * came; this test does not force that path.) */
START_TEST(test_pty_hangup)
{
	struct guest	*g = make_guest(11, NULL);
	char		*tty, buf[64];
	int		 fd, i;
	ssize_t		 n = 0;

	ck_assert_int_eq(xsd_read(xsd, "/local/domain/11/console/tty", &tty,
	    NULL), 0);
	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	free(tty);
	if (ioctl(fd, TIOCVHANGUP) != 0) {
		close(fd);
		munmap(g->intf, SIMTEST_PAGE);
		free(g);
		return;		/* not root: cannot hang a tty up */
	}
	close(fd);
	spin();
	ck_assert_int_eq(xsd_read(xsd, "/local/domain/11/console/tty", &tty,
	    NULL), 0);
	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	free(tty);
	guest_print(g, "after\n", 6);
	for (i = 0; i < 100 && n <= 0; i++) {
		spin();
		n = read(fd, buf, sizeof buf);
	}
	ck_assert_int_eq(n, 6);
	ck_assert(memcmp(buf, "after\n", 6) == 0);
	close(fd);
	munmap(g->intf, SIMTEST_PAGE);
	free(g);
}
END_TEST

/* The pty keeps at most the console's limit while nobody reads it; the
 * log keeps everything. */
START_TEST(test_pty_limit)
{
	struct guest	*g = make_guest(8, "4096");
	struct collect	 c;
	char		 data[100000];

	memset(data, 'a', sizeof data);
	guest_print(g, data, sizeof data);
	c = logged(8, NULL);
	ck_assert_uint_eq(c.len, sizeof data);
	free(c.buf);
	munmap(g->intf, SIMTEST_PAGE);
	free(g);
}
END_TEST

/* A guest over its rate is left undrained (its ring stays full) while
 * another guest's output is drained at once. */
START_TEST(test_rate_limit)
{
	struct guest	*flood = make_guest(9, NULL), *quiet = make_guest(10,
			    NULL);
	char		 data[4096];
	struct collect	 c;

	memset(data, 'f', sizeof data);
	/* Burst 8 KiB, 1 KiB/s: after the burst the flooder waits. */
	ck_assert_int_eq(ring_write(&flood->out, data, 2048), 2048);
	send_event(9, CONS_PORT);
	spin();
	ck_assert_int_eq(ring_write(&flood->out, data, 2048), 2048);
	send_event(9, CONS_PORT);
	spin();
	ck_assert_int_eq(ring_write(&flood->out, data, 2048), 2048);
	send_event(9, CONS_PORT);
	spin();
	ck_assert_int_eq(ring_write(&flood->out, data, 2048), 2048);
	send_event(9, CONS_PORT);
	spin();
	ck_assert_int_eq(ring_write(&flood->out, data, 2048), 2048);
	send_event(9, CONS_PORT);
	spin();
	/* Its tokens are gone: the ring stays full. */
	ck_assert_int_gt(ring_readable(&flood->out), 1900);
	guest_print(quiet, "hello\n", 6);
	ck_assert_int_eq(ring_readable(&quiet->out), 0);
	c = logged(10, NULL);
	ck_assert_uint_eq(c.len, 6);
	free(c.buf);
	munmap(flood->intf, SIMTEST_PAGE);
	munmap(quiet->intf, SIMTEST_PAGE);
	free(flood);
	free(quiet);
}
END_TEST

/* The hypervisor's console grows (VIRQ_CON_RING): its new bytes go into
 * the log as their own source, domid 0x7FF0. */
START_TEST(test_hypervisor_console)
{
	struct collect	 c;
	char		 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof path, "%s/hv-console", dir);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("(XEN) Xen version 4.17\n", f);
	fclose(f);
	send_event(HV_DOMID_XEN, HV_VIRQ_CON_RING);
	spin();
	f = fopen(path, "a");
	fputs("(XEN) Brought up 2 CPUs\n", f);
	fclose(f);
	send_event(HV_DOMID_XEN, HV_VIRQ_CON_RING);
	spin();
	c = logged(HV_DOMID_XEN, NULL);
	ck_assert_uint_eq(c.len, 47);
	ck_assert(memcmp(c.buf, "(XEN) Xen version 4.17\n(XEN) Brought up 2 CPUs\n",
	    47) == 0);
	free(c.buf);
}
END_TEST

static void
setup_slow(void)
{
	setup_with(1024, 8192);
}

static Suite *
consoled_suite(void)
{
	Suite	*s = suite_create("consoled");
	TCase	*tc = tcase_create("drain");
	TCase	*rl = tcase_create("rate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exact_bytes);
	tcase_add_test(tc, test_death_loses_nothing);
	tcase_add_test(tc, test_pty);
	tcase_add_test(tc, test_pty_limit);
	tcase_add_test(tc, test_pty_hangup);
	tcase_add_test(tc, test_hypervisor_console);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(rl, setup_slow, teardown);
	tcase_add_test(rl, test_rate_limit);
	suite_add_tcase(s, rl);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(consoled_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
