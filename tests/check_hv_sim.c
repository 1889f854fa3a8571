/*
 * Unit tests for common/hv-sim.c, the simulated host of
 * ../shared/sim-abi.md, in a fresh mkdtemp(3) directory per test: the
 * test plays the toolstack (domain directories, page files) and the
 * guests (datagram sockets, sometimes in a child process) exactly as the
 * ABI describes them, and checks what the backend does.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/xs_wire.h>

#include "hv.h"
#include "log.h"
#include "ring.h"

#define PAGE	4096

/* What the callbacks saw. */
struct seen {
	int		 count;
	struct hv_port	*port;		/* the port of the last event */
};

static char			 dir[64];
static struct event_base	*base;
static struct hv		*hv;
static unsigned			 virqs[16];
static int			 nvirqs;

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

/* Write a whole file under the root, creating or truncating it. */
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

/* Append text to a file under the root. */
static void
append_file(const char *rel, const char *text)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	close(fd);
}

/* Make a directory under the root. */
static void
put_dir(const char *rel)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* Play the toolstack: a domain directory with its state, optional name
 * and uuid, and two zero-filled pages. */
static void
make_domain(uint32_t domid, const char *state, const char *name,
    const char *uuid)
{
	static const char	zero[PAGE];
	char			rel[128], line[128];

	snprintf(rel, sizeof rel, "domains/%u", domid);
	put_dir(rel);
	snprintf(rel, sizeof rel, "domains/%u/gnttab", domid);
	put_dir(rel);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/0", domid);
	put_file(rel, zero, sizeof zero);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/1", domid);
	put_file(rel, zero, sizeof zero);
	if (name != NULL) {
		snprintf(rel, sizeof rel, "domains/%u/name", domid);
		snprintf(line, sizeof line, "%s\n", name);
		put_file(rel, line, strlen(line));
	}
	if (uuid != NULL) {
		snprintf(rel, sizeof rel, "domains/%u/uuid", domid);
		snprintf(line, sizeof line, "%s\n", uuid);
		put_file(rel, line, strlen(line));
	}
	/* state last: a directory without it is a domain being made. */
	snprintf(rel, sizeof rel, "domains/%u/state", domid);
	snprintf(line, sizeof line, "%s\n", state);
	put_file(rel, line, strlen(line));
}

/* Fill a Unix socket address for a path under the root. */
static void
sock_addr(const char *rel, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	ck_assert_int_lt(snprintf(sun->sun_path, sizeof sun->sun_path,
	    "%s/%s", dir, rel), (int)sizeof sun->sun_path);
}

/* Send a raw datagram to the daemon's DIR/evtchn.sock, as a guest does
 * from its own (unbound) socket. */
static void
send_raw(const void *data, size_t len)
{
	struct sockaddr_un	sun;
	int			fd;

	sock_addr("evtchn.sock", &sun);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sendto(fd, data, len, 0, (struct sockaddr *)&sun,
	    sizeof sun), (ssize_t)len);
	close(fd);
}

/* Encode {domid, port} as the ABI says: two little-endian uint32. */
static void
event_encode(uint32_t domid, uint32_t port, unsigned char out[8])
{
	int	i;

	for (i = 0; i < 4; i++) {
		out[i] = (unsigned char)(domid >> (8 * i));
		out[4 + i] = (unsigned char)(port >> (8 * i));
	}
}

/* A guest kicks the daemon on its port. */
static void
send_event(uint32_t domid, uint32_t port)
{
	unsigned char	msg[8];

	event_encode(domid, port, msg);
	send_raw(msg, sizeof msg);
}

/* Run the event base without blocking until *counter reaches want, for
 * at most two seconds. True if it did. */
static int
run_until(const int *counter, int want)
{
	struct timespec	 start, now, nap = { 0, 1000000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (*counter >= want)
			return (1);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 2)
			return (0);
		nanosleep(&nap, NULL);
	}
}

/* A bound port's callback: count the event. */
static void
port_cb(struct hv_port *p, void *arg)
{
	struct seen	*s = arg;

	s->count++;
	s->port = p;
}

/* The virtual IRQ callback: record the number. */
static void
virq_cb(unsigned virq, void *arg)
{
	(void)arg;
	if (nvirqs < (int)(sizeof virqs / sizeof virqs[0]))
		virqs[nvirqs] = virq;
	nvirqs++;
}

/* Bind a datagram socket at a path under the root. */
static int
guest_socket_at(const char *rel)
{
	struct sockaddr_un	sun;
	int			fd;

	sock_addr(rel, &sun);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return (fd);
}

/* Bind DIR/domains/<domid>/evtchn.sock, as the guest process does. */
static int
guest_socket(uint32_t domid)
{
	char	rel[64];

	snprintf(rel, sizeof rel, "domains/%u/evtchn.sock", domid);
	return (guest_socket_at(rel));
}

/* Whether a path under the root exists and has the given type. */
static int
has_type(const char *rel, mode_t type)
{
	struct stat	st;
	char		path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if (lstat(path, &st) != 0)
		return (0);
	return ((st.st_mode & S_IFMT) == type);
}

/* Each test: a fresh root, an event base and the sim backend on it. */
static void
setup(void)
{
	char	err[256] = "";

	log_open(NULL, LOG_LEVEL_ERROR);
	snprintf(dir, sizeof dir, "%s", "/tmp/check_hv_sim.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "hv_open_sim: %s", err);
	nvirqs = 0;
}

/* Close the backend and remove the root. */
static void
teardown(void)
{
	hv_close(hv);
	hv = NULL;
	event_base_free(base);
	rm_rf(dir);
}

/* Opening makes DIR/domains and binds DIR/evtchn.sock; closing removes
 * the socket. */
START_TEST(test_open_close)
{
	char		 sub[128], err[256] = "";
	struct hv	*hv2;

	ck_assert_str_eq(hv_name(hv), "sim");
	ck_assert(has_type("domains", S_IFDIR));
	ck_assert(has_type("evtchn.sock", S_IFSOCK));

	/* A root that does not exist yet is made. */
	snprintf(sub, sizeof sub, "%s/fresh", dir);
	hv2 = hv_open_sim(base, sub, err, sizeof err);
	ck_assert_msg(hv2 != NULL, "hv_open_sim: %s", err);
	ck_assert(has_type("fresh/domains", S_IFDIR));
	ck_assert(has_type("fresh/evtchn.sock", S_IFSOCK));
	hv_close(hv2);
	ck_assert(!has_type("fresh/evtchn.sock", S_IFSOCK));
	ck_assert(has_type("fresh/domains", S_IFDIR));

	hv_close(hv);
	hv = NULL;
	ck_assert(!has_type("evtchn.sock", S_IFSOCK));

	/* A stale socket left by a crash does not stop a new open. */
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "hv_open_sim: %s", err);
	hv_close(hv);
	hv = NULL;
	close(guest_socket_at("evtchn.sock"));
	hv = hv_open_sim(base, dir, err, sizeof err);
	ck_assert_msg(hv != NULL, "hv_open_sim over a stale socket: %s",
	    err);
	ck_assert(has_type("evtchn.sock", S_IFSOCK));
}
END_TEST

/* Order dominfo by domid, for qsort. */
static int
dominfo_cmp(const void *a, const void *b)
{
	const struct hv_dominfo	*x = a, *y = b;

	return (x->domid < y->domid ? -1 : x->domid > y->domid);
}

/* The domain list: numeric directories with a state file, their state,
 * name and uuid; everything else skipped. */
START_TEST(test_domains)
{
	static const char	 uuid[] =
	    "8d3c2b1a-0f4e-4a6b-9c7d-112233445566";
	struct hv_dominfo	*list, info;
	char			 path[PATH_MAX];
	size_t			 n;

	ck_assert_int_eq(hv_domains(hv, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);

	make_domain(0, "running", "Domain-0", NULL);
	make_domain(5, "shutdown", "guest5", uuid);
	make_domain(7, "dying", NULL, NULL);
	make_domain(123, "running", NULL, uuid);
	put_dir("domains/9");			/* no state: being made */
	put_dir("domains/foo");			/* not a domid */
	put_file("domains/foo/state", "running\n", 8);
	put_dir("domains/12a");
	put_file("domains/12a/state", "running\n", 8);
	put_dir("domains/-3");
	put_file("domains/-3/state", "running\n", 8);

	ck_assert_int_eq(hv_domains(hv, &list, &n), 0);
	ck_assert_uint_eq(n, 4);
	qsort(list, n, sizeof *list, dominfo_cmp);

	ck_assert_uint_eq(list[0].domid, 0);
	ck_assert_int_eq(list[0].state, HV_DOM_RUNNING);
	ck_assert_str_eq(list[0].name, "Domain-0");
	ck_assert_str_eq(list[0].uuid, "");

	ck_assert_uint_eq(list[1].domid, 5);
	ck_assert_int_eq(list[1].state, HV_DOM_SHUTDOWN);
	ck_assert_str_eq(list[1].name, "guest5");
	ck_assert_str_eq(list[1].uuid, uuid);

	ck_assert_uint_eq(list[2].domid, 7);
	ck_assert_int_eq(list[2].state, HV_DOM_DYING);
	ck_assert_str_eq(list[2].name, "");
	ck_assert_str_eq(list[2].uuid, "");

	ck_assert_uint_eq(list[3].domid, 123);
	ck_assert_int_eq(list[3].state, HV_DOM_RUNNING);
	ck_assert_str_eq(list[3].uuid, uuid);
	free(list);

	/* One domain, a missing one, one without state. */
	ck_assert_int_eq(hv_domain_info(hv, 5, &info), 0);
	ck_assert_uint_eq(info.domid, 5);
	ck_assert_int_eq(info.state, HV_DOM_SHUTDOWN);
	ck_assert_int_eq(hv_domain_info(hv, 6, &info), -ENOENT);
	ck_assert_int_eq(hv_domain_info(hv, 9, &info), -ENOENT);

	/* Dying in place: the state file is rewritten, the list follows. */
	put_file("domains/0/state", "dying\n", 6);
	ck_assert_int_eq(hv_domain_info(hv, 0, &info), 0);
	ck_assert_int_eq(info.state, HV_DOM_DYING);

	/* A domain exists while its directory exists. */
	snprintf(path, sizeof path, "%s/domains/7", dir);
	rm_rf(path);
	ck_assert_int_eq(hv_domain_info(hv, 7, &info), -ENOENT);
}
END_TEST

/* Read a whole page file under the root. */
static void
read_page_file(const char *rel, unsigned char *buf)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, PAGE, 0), PAGE);
	close(fd);
}

/* A mapped grant is the page file itself, shared both ways. */
START_TEST(test_map_grant)
{
	struct xenstore_domain_interface	*intf;
	unsigned char				 file[PAGE];
	unsigned char				*cons, *xs;
	struct ring				 rsp;
	char					 path[PATH_MAX];
	int					 fd;

	make_domain(3, "running", NULL, NULL);
	cons = hv_map_grant(hv, 3, 0, 0);
	ck_assert_ptr_nonnull(cons);
	xs = hv_map_grant(hv, 3, 1, 0xdeadbeef);	/* gfn is unused */
	ck_assert_ptr_nonnull(xs);
	ck_assert_ptr_ne(cons, xs);

	/* The daemon writes through the mapping: the file sees it. */
	memcpy(xs + 100, "through the map", 15);
	read_page_file("domains/3/gnttab/1", file);
	ck_assert_mem_eq(file + 100, "through the map", 15);
	read_page_file("domains/3/gnttab/0", file);
	ck_assert_uint_eq(file[100], 0);

	/* The guest writes the file: the mapping sees it. */
	snprintf(path, sizeof path, "%s/domains/3/gnttab/0", dir);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "from the guest", 14, PAGE - 14), 14);
	close(fd);
	ck_assert_mem_eq(cons + PAGE - 14, "from the guest", 14);

	/* A ring reply on the mapped xenstore page lands in the file. */
	intf = (struct xenstore_domain_interface *)xs;
	rsp.buf = intf->rsp;
	rsp.size = XENSTORE_RING_SIZE;
	rsp.cons = &intf->rsp_cons;
	rsp.prod = &intf->rsp_prod;
	ck_assert_int_eq(ring_write(&rsp, "reply", 5), 5);
	read_page_file("domains/3/gnttab/1", file);
	intf = (struct xenstore_domain_interface *)file;
	ck_assert_mem_eq(intf->rsp, "reply", 5);
	ck_assert_uint_eq(intf->rsp_prod, 5);

	hv_unmap(hv, cons);
	hv_unmap(hv, xs);
	hv_unmap(hv, NULL);
}
END_TEST

/* Map a page that must not map: its errno (0 if none was set). Check's
 * asserts may change errno, so it is taken before any. */
static int
map_errno(uint32_t domid, uint32_t gref)
{
	void	*p;
	int	 e;

	errno = 0;
	p = hv_map_grant(hv, domid, gref, 0);
	e = errno;
	ck_assert_ptr_null(p);
	return (e);
}

/* A missing or wrong-sized page file is NULL with errno, not a crash. */
START_TEST(test_map_grant_fail)
{
	static const char	 small[100], big[2 * PAGE];
	void			*p;

	ck_assert_int_eq(map_errno(4, 1), ENOENT);	/* no domain */
	make_domain(4, "running", NULL, NULL);
	ck_assert_int_eq(map_errno(4, 2), ENOENT);	/* no such gref */
	put_file("domains/4/gnttab/0", small, sizeof small);
	ck_assert_int_ne(map_errno(4, 0), 0);
	put_file("domains/4/gnttab/0", big, sizeof big);
	ck_assert_int_ne(map_errno(4, 0), 0);
	put_file("domains/4/gnttab/0", small, 0);
	ck_assert_int_ne(map_errno(4, 0), 0);

	/* The good page next to them still maps. */
	p = hv_map_grant(hv, 4, 1, 0);
	ck_assert_ptr_nonnull(p);
	hv_unmap(hv, p);
}
END_TEST

/* A guest's {domid, port} runs the bound port's callback, and only it. */
START_TEST(test_event_bound)
{
	struct seen	 a = { 0, NULL }, b = { 0, NULL }, c = { 0, NULL };
	struct hv_port	*pa, *pb, *pc;

	pa = hv_evtchn_bind(hv, 3, 10, port_cb, &a);
	pb = hv_evtchn_bind(hv, 3, 11, port_cb, &b);
	pc = hv_evtchn_bind(hv, 4, 10, port_cb, &c);
	ck_assert_ptr_nonnull(pa);
	ck_assert_ptr_nonnull(pb);
	ck_assert_ptr_nonnull(pc);
	ck_assert_uint_eq(hv_port_remote(pa), 10);
	ck_assert_uint_eq(hv_port_remote(pb), 11);

	/* Nothing runs before an event. */
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(a.count + b.count + c.count, 0);

	send_event(3, 10);
	ck_assert(run_until(&a.count, 1));
	ck_assert_ptr_eq(a.port, pa);
	ck_assert_int_eq(b.count, 0);
	ck_assert_int_eq(c.count, 0);

	send_event(4, 10);
	ck_assert(run_until(&c.count, 1));
	ck_assert_ptr_eq(c.port, pc);
	ck_assert_int_eq(a.count, 1);
	ck_assert_int_eq(b.count, 0);

	/* Several queued events: one callback each. */
	send_event(3, 11);
	send_event(3, 11);
	send_event(3, 11);
	ck_assert(run_until(&b.count, 3));
	ck_assert_int_eq(a.count, 1);
	ck_assert_int_eq(c.count, 1);

	/* Binding the same pair twice fails. */
	ck_assert_ptr_null(hv_evtchn_bind(hv, 3, 10, port_cb, &b));

	hv_evtchn_unbind(hv, pa);
	hv_evtchn_unbind(hv, pb);
	hv_evtchn_unbind(hv, pc);
}
END_TEST

/* The guest is another process: its events arrive all the same. */
START_TEST(test_event_from_guest_process)
{
	struct seen	 a = { 0, NULL };
	struct hv_port	*pa;
	pid_t		 pid;
	int		 status;

	pa = hv_evtchn_bind(hv, 17, 1, port_cb, &a);
	ck_assert_ptr_nonnull(pa);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sockaddr_un	sun;
		unsigned char		msg[8];
		int			fd, i;

		sock_addr("evtchn.sock", &sun);
		event_encode(17, 1, msg);
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		for (i = 0; i < 5; i++) {
			if (sendto(fd, msg, sizeof msg, 0,
			    (struct sockaddr *)&sun, sizeof sun) != 8)
				_exit(1);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(run_until(&a.count, 5));
	ck_assert_ptr_eq(a.port, pa);
	hv_evtchn_unbind(hv, pa);
}
END_TEST

/* An event for a pair nobody bound is ignored; so is one for a port
 * after it was unbound. Datagrams arrive in order, so once a later
 * event has been seen the earlier ones have been handled. */
START_TEST(test_event_unbound)
{
	struct seen	 a = { 0, NULL }, z = { 0, NULL };
	struct hv_port	*pa, *pz;

	pa = hv_evtchn_bind(hv, 3, 10, port_cb, &a);
	pz = hv_evtchn_bind(hv, 99, 99, port_cb, &z);	/* the sentinel */
	hv_set_virq_cb(hv, virq_cb, NULL);

	send_event(3, 11);
	send_event(4, 10);
	send_event(10, 3);
	send_event(0x7FEF, 10);
	send_event(99, 99);
	ck_assert(run_until(&z.count, 1));
	ck_assert_int_eq(a.count, 0);
	ck_assert_int_eq(nvirqs, 0);

	hv_evtchn_unbind(hv, pa);
	send_event(3, 10);
	send_event(99, 99);
	ck_assert(run_until(&z.count, 2));
	ck_assert_int_eq(a.count, 0);

	/* Rebinding works after an unbind. */
	pa = hv_evtchn_bind(hv, 3, 10, port_cb, &a);
	ck_assert_ptr_nonnull(pa);
	send_event(3, 10);
	ck_assert(run_until(&a.count, 1));
	hv_evtchn_unbind(hv, pa);
	hv_evtchn_unbind(hv, pz);
}
END_TEST

/* Every datagram is exactly 8 bytes: shorter or longer ones are
 * ignored, even when their first 8 bytes name a bound port. */
START_TEST(test_event_wrong_size)
{
	struct seen	 a = { 0, NULL }, z = { 0, NULL };
	struct hv_port	*pa, *pz;
	unsigned char	 msg[16];

	pa = hv_evtchn_bind(hv, 3, 10, port_cb, &a);
	pz = hv_evtchn_bind(hv, 99, 99, port_cb, &z);	/* the sentinel */
	hv_set_virq_cb(hv, virq_cb, NULL);
	memset(msg, 0, sizeof msg);
	event_encode(3, 10, msg);
	event_encode(3, 10, msg + 8);

	send_raw(msg, 0);
	send_raw(msg, 4);
	send_raw(msg, 7);
	send_raw(msg, 9);
	send_raw(msg, 12);
	send_raw(msg, 16);
	event_encode(HV_DOMID_XEN, HV_VIRQ_DOM_EXC, msg);
	send_raw(msg, 12);
	send_event(99, 99);
	ck_assert(run_until(&z.count, 1));
	ck_assert_int_eq(a.count, 0);
	ck_assert_int_eq(nvirqs, 0);

	hv_evtchn_unbind(hv, pa);
	hv_evtchn_unbind(hv, pz);
}
END_TEST

/* {DOMID_XEN, 3} and {DOMID_XEN, 8} are the virtual IRQs, passed on
 * with their numbers, in order. */
START_TEST(test_virq)
{
	static const unsigned char	dom_exc[8] = { 0xF0, 0x7F, 0, 0,
					    3, 0, 0, 0 };
	struct seen			a = { 0, NULL };
	struct hv_port			*pa;

	/* No callback yet: a virq is dropped, not a crash. */
	send_event(HV_DOMID_XEN, HV_VIRQ_DOM_EXC);
	pa = hv_evtchn_bind(hv, 1, 1, port_cb, &a);
	send_event(1, 1);
	ck_assert(run_until(&a.count, 1));

	hv_set_virq_cb(hv, virq_cb, NULL);
	send_raw(dom_exc, sizeof dom_exc);	/* the bytes, spelled out */
	send_event(0x7FF0, 8);
	send_event(0x7FF0, 3);
	ck_assert(run_until(&nvirqs, 3));
	ck_assert_int_eq(nvirqs, 3);
	ck_assert_uint_eq(virqs[0], 3);
	ck_assert_uint_eq(virqs[1], 8);
	ck_assert_uint_eq(virqs[2], 3);
	ck_assert_int_eq(a.count, 1);
	hv_evtchn_unbind(hv, pa);
}
END_TEST

/* hv_notify sends exactly {domid, remote port}, 8 little-endian bytes,
 * to DIR/domains/<domid>/evtchn.sock. */
START_TEST(test_notify)
{
	struct seen	 a = { 0, NULL };
	struct hv_port	*pa;
	unsigned char	 got[64], want[8];
	ssize_t		 n;
	int		 fd, e;

	make_domain(6, "running", NULL, NULL);
	fd = guest_socket(6);
	pa = hv_evtchn_bind(hv, 6, 0x01020304, port_cb, &a);
	ck_assert_ptr_nonnull(pa);

	ck_assert_int_eq(hv_notify(hv, pa), 0);
	ck_assert_int_eq(recv(fd, got, sizeof got, MSG_DONTWAIT), 8);
	event_encode(6, 0x01020304, want);
	ck_assert_mem_eq(got, want, 8);
	n = recv(fd, got, sizeof got, MSG_DONTWAIT);
	e = errno;
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(e, EAGAIN);

	/* Twice: two datagrams. */
	ck_assert_int_eq(hv_notify(hv, pa), 0);
	ck_assert_int_eq(hv_notify(hv, pa), 0);
	ck_assert_int_eq(recv(fd, got, sizeof got, MSG_DONTWAIT), 8);
	ck_assert_int_eq(recv(fd, got, sizeof got, MSG_DONTWAIT), 8);
	ck_assert_mem_eq(got, want, 8);

	/* Notifying does not call our own callback. */
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(a.count, 0);
	close(fd);
	hv_evtchn_unbind(hv, pa);
}
END_TEST

/* A guest that is not listening is not an error: no directory, no
 * socket, a socket file nobody reads, or a full socket. */
START_TEST(test_notify_not_listening)
{
	struct hv_port	*p;
	unsigned char	 got[8];
	int		 fd, i;

	p = hv_evtchn_bind(hv, 8, 2, port_cb, NULL);
	ck_assert_int_eq(hv_notify(hv, p), 0);		/* no directory */
	make_domain(8, "running", NULL, NULL);
	ck_assert_int_eq(hv_notify(hv, p), 0);		/* no socket */
	fd = guest_socket(8);
	close(fd);
	ck_assert_int_eq(hv_notify(hv, p), 0);		/* nobody bound */
	hv_evtchn_unbind(hv, p);

	/* A guest that never reads: its queue fills, sends drop. */
	make_domain(9, "running", NULL, NULL);
	fd = guest_socket(9);
	p = hv_evtchn_bind(hv, 9, 2, port_cb, NULL);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(hv_notify(hv, p), 0);
	ck_assert_int_eq(recv(fd, got, sizeof got, MSG_DONTWAIT), 8);
	close(fd);
	hv_evtchn_unbind(hv, p);
}
END_TEST

/* The hypervisor console: only the new bytes of DIR/hv-console each
 * time, none when it does not exist or has not grown. */
START_TEST(test_hypervisor_console)
{
	char	buf[64];
	size_t	len = 99;

	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 0);

	append_file("hv-console", "(XEN) hello\n");
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_mem_eq(buf, "(XEN) hello\n", 12);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 0);

	append_file("hv-console", "(XEN) world\n");
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_mem_eq(buf, "(XEN) world\n", 12);

	/* A small buffer takes the rest in pieces, nothing lost. */
	append_file("hv-console", "abcdefgh");
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, 3, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, 3, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "def", 3);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(buf, "gh", 2);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* hv_open with no root given takes $XSC_SIM_ROOT and opens the sim. */
START_TEST(test_open_env)
{
	struct hv	*hv2;
	char		 root[128], err[256] = "";

	snprintf(root, sizeof root, "%s/env-root", dir);
	ck_assert_int_eq(setenv("XSC_SIM_ROOT", root, 1), 0);
	hv2 = hv_open(base, NULL, err, sizeof err);
	ck_assert_msg(hv2 != NULL, "hv_open: %s", err);
	ck_assert_str_eq(hv_name(hv2), "sim");
	ck_assert(has_type("env-root/domains", S_IFDIR));
	ck_assert(has_type("env-root/evtchn.sock", S_IFSOCK));
	hv_close(hv2);

	/* An empty root is no root: the environment still wins. */
	hv2 = hv_open(base, "", err, sizeof err);
	ck_assert_ptr_nonnull(hv2);
	ck_assert_str_eq(hv_name(hv2), "sim");
	hv_close(hv2);
	ck_assert(!has_type("env-root/evtchn.sock", S_IFSOCK));
	unsetenv("XSC_SIM_ROOT");
}
END_TEST

/* Build the suite. */
static Suite *
hv_sim_suite(void)
{
	Suite	*s = suite_create("hv_sim");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_close);
	tcase_add_test(tc, test_domains);
	tcase_add_test(tc, test_map_grant);
	tcase_add_test(tc, test_map_grant_fail);
	tcase_add_test(tc, test_event_bound);
	tcase_add_test(tc, test_event_from_guest_process);
	tcase_add_test(tc, test_event_unbound);
	tcase_add_test(tc, test_event_wrong_size);
	tcase_add_test(tc, test_virq);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_notify_not_listening);
	tcase_add_test(tc, test_hypervisor_console);
	tcase_add_test(tc, test_open_env);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(hv_sim_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
