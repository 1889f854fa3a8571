/*
 * Unit tests for common/hv-xen.c, the real hypervisor backend, on a
 * machine without Xen: opening fails cleanly, and the logic that needs
 * no hypervisor (domain list conversion and batching, the port table,
 * the mapping records, dom0's ring files, the library logger) is pinned.
 *
 * The backend's helpers are static, so this file includes the source:
 * link it with hv.c, hv-sim.c, log.c, xmalloc.c, hmap.c, NOT hv-xen.o.
 *
 * Before the include, every Xen library call the backend makes is
 * renamed to a fake_* below. A fake passes through to the real library
 * unless fake.on is set; then it plays a small pretend Xen (a pipe for
 * the event channel device, anonymous pages for grants), so opening,
 * dispatching, mapping and closing run their real code here too.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#define xc_interface_open		fake_xc_interface_open
#define xc_interface_close		fake_xc_interface_close
#define xc_domain_getinfolist		fake_xc_domain_getinfolist
#define xc_readconsolering		fake_xc_readconsolering
#define xenevtchn_open			fake_xenevtchn_open
#define xenevtchn_close			fake_xenevtchn_close
#define xenevtchn_fd			fake_xenevtchn_fd
#define xenevtchn_bind_interdomain	fake_xenevtchn_bind_interdomain
#define xenevtchn_bind_virq		fake_xenevtchn_bind_virq
#define xenevtchn_unbind		fake_xenevtchn_unbind
#define xenevtchn_notify		fake_xenevtchn_notify
#define xenevtchn_pending		fake_xenevtchn_pending
#define xenevtchn_unmask		fake_xenevtchn_unmask
#define xengnttab_open			fake_xengnttab_open
#define xengnttab_close			fake_xengnttab_close
#define xengnttab_map_grant_ref		fake_xengnttab_map_grant_ref
#define xengnttab_unmap			fake_xengnttab_unmap
#define xenforeignmemory_open		fake_xenforeignmemory_open
#define xenforeignmemory_close		fake_xenforeignmemory_close
#define xenforeignmemory_map		fake_xenforeignmemory_map
#define xenforeignmemory_unmap		fake_xenforeignmemory_unmap

static xc_interface *fake_xc_interface_open(xentoollog_logger *,
		    xentoollog_logger *, unsigned);
static int	 fake_xc_interface_close(xc_interface *);
static int	 fake_xc_domain_getinfolist(xc_interface *, uint32_t,
		    unsigned int, xc_domaininfo_t *);
static int	 fake_xc_readconsolering(xc_interface *, char *,
		    unsigned int *, int, int, uint32_t *);
static xenevtchn_handle *fake_xenevtchn_open(struct xentoollog_logger *,
		    unsigned);
static int	 fake_xenevtchn_close(xenevtchn_handle *);
static int	 fake_xenevtchn_fd(xenevtchn_handle *);
static xenevtchn_port_or_error_t fake_xenevtchn_bind_interdomain(
		    xenevtchn_handle *, uint32_t, evtchn_port_t);
static xenevtchn_port_or_error_t fake_xenevtchn_bind_virq(
		    xenevtchn_handle *, unsigned int);
static int	 fake_xenevtchn_unbind(xenevtchn_handle *, evtchn_port_t);
static int	 fake_xenevtchn_notify(xenevtchn_handle *, evtchn_port_t);
static xenevtchn_port_or_error_t fake_xenevtchn_pending(xenevtchn_handle *);
static int	 fake_xenevtchn_unmask(xenevtchn_handle *, evtchn_port_t);
static xengnttab_handle *fake_xengnttab_open(struct xentoollog_logger *,
		    unsigned);
static int	 fake_xengnttab_close(xengnttab_handle *);
static void	*fake_xengnttab_map_grant_ref(xengnttab_handle *, uint32_t,
		    uint32_t, int);
static int	 fake_xengnttab_unmap(xengnttab_handle *, void *, uint32_t);
static xenforeignmemory_handle *fake_xenforeignmemory_open(
		    struct xentoollog_logger *, unsigned);
static int	 fake_xenforeignmemory_close(xenforeignmemory_handle *);
static void	*fake_xenforeignmemory_map(xenforeignmemory_handle *,
		    uint32_t, int, size_t, const xen_pfn_t[], int[]);
static int	 fake_xenforeignmemory_unmap(xenforeignmemory_handle *,
		    void *, size_t);

#include "hv-xen.c"

#undef xc_interface_open
#undef xc_interface_close
#undef xc_domain_getinfolist
#undef xc_readconsolering
#undef xenevtchn_open
#undef xenevtchn_close
#undef xenevtchn_fd
#undef xenevtchn_bind_interdomain
#undef xenevtchn_bind_virq
#undef xenevtchn_unbind
#undef xenevtchn_notify
#undef xenevtchn_pending
#undef xenevtchn_unmask
#undef xengnttab_open
#undef xengnttab_close
#undef xengnttab_map_grant_ref
#undef xengnttab_unmap
#undef xenforeignmemory_open
#undef xenforeignmemory_close
#undef xenforeignmemory_map
#undef xenforeignmemory_unmap

/* Where the pretend Xen fails on purpose. */
enum fake_fail {
	FAIL_NONE,
	FAIL_XC,
	FAIL_EVTCHN,
	FAIL_GNTTAB,
	FAIL_FMEM,
	FAIL_VIRQ_DOM_EXC,
	FAIL_VIRQ_CON_RING,
};

/* The pretend Xen's state, and what the backend did to it. */
static struct {
	int		 on;
	enum fake_fail	 fail;
	int		 opens, closes;		/* handles of all four */
	int		 pipe[2];		/* the event channel device */
	uint32_t	 next_local;
	uint32_t	 virq_local[16];
	int		 unmasks;
	uint32_t	 last_unmask;
	uint32_t	 last_unbind;
	uint32_t	 last_notify;
	uint32_t	 bound_domid, bound_remote;
	int		 grant_fail;		/* errno for grant maps */
	int		 grant_unmaps, foreign_unmaps;
	xen_pfn_t	 last_pfn;
	const uint16_t	*domids;
	size_t		 ndomids;
	char		 console[64];
	int		 handle;		/* its address is every handle */
} fake;

/* Reset the pretend Xen and switch it on. */
static void
fake_start(enum fake_fail fail)
{
	memset(&fake, 0, sizeof fake);
	fake.on = 1;
	fake.fail = fail;
	fake.next_local = 1;
	fake.pipe[0] = fake.pipe[1] = -1;
}

/* The one opaque handle the fakes hand out. */
static void *
fake_handle(void)
{
	fake.opens++;
	return (&fake.handle);
}

/* Post an event on a local port, as the kernel driver would. */
static void
fake_event(uint32_t local)
{
	ck_assert_int_eq(write(fake.pipe[1], &local, sizeof local),
	    (ssize_t)sizeof local);
}

/* Say something through a library logger, as libxenctrl does. */
static void
fake_say(xentoollog_logger *l, xentoollog_level level, int errnoval,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	l->vmessage(l, level, errnoval, "xencall", fmt, ap);
	va_end(ap);
}

/* Fake: libxenctrl open. */
static xc_interface *
fake_xc_interface_open(xentoollog_logger *l, xentoollog_logger *d,
    unsigned flags)
{
	if (!fake.on)
		return (xc_interface_open(l, d, flags));
	if (fake.fail == FAIL_XC) {
		fake_say(l, XTL_ERROR, EACCES, "fake %s", "failure");
		errno = EACCES;
		return (NULL);
	}
	return (fake_handle());
}

/* Fake: libxenctrl close. */
static int
fake_xc_interface_close(xc_interface *xc)
{
	if (!fake.on)
		return (xc_interface_close(xc));
	fake.closes++;
	return (0);
}

/* Fake: the domain list, from fake.domids. */
static int
fake_xc_domain_getinfolist(xc_interface *xc, uint32_t first,
    unsigned int max, xc_domaininfo_t *info)
{
	unsigned	got = 0;
	size_t		i;

	if (!fake.on)
		return (xc_domain_getinfolist(xc, first, max, info));
	for (i = 0; i < fake.ndomids && got < max; i++) {
		if (fake.domids[i] < first)
			continue;
		memset(&info[got], 0, sizeof info[got]);
		info[got].domain = fake.domids[i];
		info[got].handle[15] = (uint8_t)fake.domids[i];
		got++;
	}
	return ((int)got);
}

/* Fake: an ever-growing console, the index an offset into it. */
static int
fake_xc_readconsolering(xc_interface *xc, char *buf, unsigned int *n,
    int clear, int incremental, uint32_t *index)
{
	size_t	len, take;

	if (!fake.on)
		return (xc_readconsolering(xc, buf, n, clear, incremental,
		    index));
	ck_assert_int_eq(clear, 0);
	ck_assert_int_eq(incremental, 1);
	ck_assert_ptr_nonnull(index);
	len = strlen(fake.console);
	if (*index > len)
		*index = 0;
	take = len - *index;
	if (take > *n)
		take = *n;
	memcpy(buf, fake.console + *index, take);
	*index += (uint32_t)take;
	*n = (unsigned)take;
	return (0);
}

/* Fake: the event channel device, a pipe. */
static xenevtchn_handle *
fake_xenevtchn_open(struct xentoollog_logger *l, unsigned flags)
{
	if (!fake.on)
		return (xenevtchn_open(l, flags));
	if (fake.fail == FAIL_EVTCHN) {
		errno = ENOENT;
		return (NULL);
	}
	ck_assert_int_eq(pipe2(fake.pipe, O_CLOEXEC), 0);
	return (fake_handle());
}

/* Fake: closing the device. */
static int
fake_xenevtchn_close(xenevtchn_handle *h)
{
	if (!fake.on)
		return (xenevtchn_close(h));
	close(fake.pipe[0]);
	close(fake.pipe[1]);
	fake.pipe[0] = fake.pipe[1] = -1;
	fake.closes++;
	return (0);
}

/* Fake: the device's fd. */
static int
fake_xenevtchn_fd(xenevtchn_handle *h)
{
	if (!fake.on)
		return (xenevtchn_fd(h));
	return (fake.pipe[0]);
}

/* Fake: bind to a guest's port; local ports count up. */
static xenevtchn_port_or_error_t
fake_xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
    evtchn_port_t remote)
{
	if (!fake.on)
		return (xenevtchn_bind_interdomain(h, domid, remote));
	if (domid == 666) {
		errno = EINVAL;
		return (-1);
	}
	fake.bound_domid = domid;
	fake.bound_remote = remote;
	return ((int)fake.next_local++);
}

/* Fake: bind a virtual IRQ. */
static xenevtchn_port_or_error_t
fake_xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	if (!fake.on)
		return (xenevtchn_bind_virq(h, virq));
	if ((fake.fail == FAIL_VIRQ_DOM_EXC && virq == HV_VIRQ_DOM_EXC) ||
	    (fake.fail == FAIL_VIRQ_CON_RING && virq == HV_VIRQ_CON_RING)) {
		errno = EEXIST;
		return (-1);
	}
	fake.virq_local[virq] = fake.next_local;
	return ((int)fake.next_local++);
}

/* Fake: unbind. */
static int
fake_xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	if (!fake.on)
		return (xenevtchn_unbind(h, port));
	fake.last_unbind = port;
	return (0);
}

/* Fake: notify. */
static int
fake_xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	if (!fake.on)
		return (xenevtchn_notify(h, port));
	if (port == 0) {
		errno = EINVAL;
		return (-1);
	}
	fake.last_notify = port;
	return (0);
}

/* Fake: the next pending port, read from the pipe like the driver. */
static xenevtchn_port_or_error_t
fake_xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t	port;
	ssize_t		n;

	if (!fake.on)
		return (xenevtchn_pending(h));
	n = read(fake.pipe[0], &port, sizeof port);
	if (n < 0)
		return (-1);
	ck_assert_int_eq(n, (ssize_t)sizeof port);
	return ((int)port);
}

/* Fake: unmask. */
static int
fake_xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	if (!fake.on)
		return (xenevtchn_unmask(h, port));
	fake.unmasks++;
	fake.last_unmask = port;
	return (0);
}

/* Fake: grant table open. */
static xengnttab_handle *
fake_xengnttab_open(struct xentoollog_logger *l, unsigned flags)
{
	if (!fake.on)
		return (xengnttab_open(l, flags));
	if (fake.fail == FAIL_GNTTAB) {
		errno = ENOENT;
		return (NULL);
	}
	return (fake_handle());
}

/* Fake: grant table close. */
static int
fake_xengnttab_close(xengnttab_handle *h)
{
	if (!fake.on)
		return (xengnttab_close(h));
	fake.closes++;
	return (0);
}

/* Fake: map a grant (an anonymous page) unless told to fail. */
static void *
fake_xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
    uint32_t ref, int prot)
{
	void	*p;

	if (!fake.on)
		return (xengnttab_map_grant_ref(h, domid, ref, prot));
	if (fake.grant_fail != 0) {
		errno = fake.grant_fail;
		return (NULL);
	}
	p = mmap(NULL, XC_PAGE_SIZE, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);
}

/* Fake: unmap a grant. */
static int
fake_xengnttab_unmap(xengnttab_handle *h, void *addr, uint32_t count)
{
	if (!fake.on)
		return (xengnttab_unmap(h, addr, count));
	ck_assert_uint_eq(count, 1);
	fake.grant_unmaps++;
	return (munmap(addr, XC_PAGE_SIZE));
}

/* Fake: foreign memory open. */
static xenforeignmemory_handle *
fake_xenforeignmemory_open(struct xentoollog_logger *l, unsigned flags)
{
	if (!fake.on)
		return (xenforeignmemory_open(l, flags));
	if (fake.fail == FAIL_FMEM) {
		errno = ENOENT;
		return (NULL);
	}
	return (fake_handle());
}

/* Fake: foreign memory close. */
static int
fake_xenforeignmemory_close(xenforeignmemory_handle *h)
{
	if (!fake.on)
		return (xenforeignmemory_close(h));
	fake.closes++;
	return (0);
}

/* Fake: map a frame; frame 0xbad fails. */
static void *
fake_xenforeignmemory_map(xenforeignmemory_handle *h, uint32_t dom,
    int prot, size_t pages, const xen_pfn_t arr[], int err[])
{
	void	*p;

	if (!fake.on)
		return (xenforeignmemory_map(h, dom, prot, pages, arr, err));
	ck_assert_uint_eq(pages, 1);
	fake.last_pfn = arr[0];
	if (arr[0] == 0xbad) {
		errno = EFAULT;
		return (NULL);
	}
	p = mmap(NULL, XC_PAGE_SIZE, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);
}

/* Fake: unmap a frame. */
static int
fake_xenforeignmemory_unmap(xenforeignmemory_handle *h, void *addr,
    size_t pages)
{
	if (!fake.on)
		return (xenforeignmemory_unmap(h, addr, pages));
	ck_assert_uint_eq(pages, 1);
	fake.foreign_unmaps++;
	return (munmap(addr, XC_PAGE_SIZE));
}

#define PRIVCMD	"/dev/xen/privcmd"

/* Whether this machine has a hypervisor (the open tests expect none). */
static int
have_xen(void)
{
	return (access(PRIVCMD, F_OK) == 0);
}

/* A xen backend with nothing open, for the pure parts. */
static struct hv *
fake_xen(void)
{
	struct hv	*hv = xcalloc(1, sizeof *hv);

	hv->ops = &xen_ops;
	hv->priv = xen_create();
	return (hv);
}

/* Without a hypervisor, hv_open_xen says why and returns NULL. */
START_TEST(test_open_xen_fails_cleanly)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	char			 err[256];

	if (have_xen()) {
		event_base_free(base);
		return;
	}
	memset(err, 0, sizeof err);
	hv = hv_open_xen(base, err, sizeof err);
	ck_assert_ptr_null(hv);
	ck_assert_uint_gt(strlen(err), 0);
	ck_assert_ptr_nonnull(strstr(err, "xc_interface_open"));
	ck_assert_ptr_nonnull(strstr(err, "dom0"));
	fprintf(stderr, "hv_open_xen: %s\n", err);
	/* Nothing of ours left on the event base. */
	ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    0);
	event_base_free(base);
}
END_TEST

/* A short or absent message buffer is fine. */
START_TEST(test_open_xen_small_err)
{
	struct event_base	*base = event_base_new();
	char			 err[8];

	if (have_xen()) {
		event_base_free(base);
		return;
	}
	ck_assert_ptr_null(hv_open_xen(base, NULL, 0));
	memset(err, 'x', sizeof err);
	ck_assert_ptr_null(hv_open_xen(base, err, sizeof err));
	ck_assert_uint_eq(strlen(err), sizeof err - 1);
	event_base_free(base);
}
END_TEST

/* hv_open without a sim root and without privcmd names the device. */
START_TEST(test_open_no_hypervisor)
{
	struct event_base	*base = event_base_new();
	char			 err[256] = "";

	if (have_xen()) {
		event_base_free(base);
		return;
	}
	unsetenv("XSC_SIM_ROOT");
	ck_assert_ptr_null(hv_open(base, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, PRIVCMD));
	ck_assert_ptr_null(hv_open(base, "", err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, PRIVCMD));
	event_base_free(base);
}
END_TEST

/* Convert one getinfolist entry. */
static struct hv_dominfo
convert(uint16_t domid, uint32_t flags)
{
	xc_domaininfo_t		di;
	struct hv_dominfo	out;

	memset(&di, 0, sizeof di);
	di.domain = domid;
	di.flags = flags;
	memset(&out, 0xaa, sizeof out);
	xen_dominfo_from(&di, &out);
	return (out);
}

/* Flags to states: dying wins, shut down next, everything else runs. */
START_TEST(test_dominfo_states)
{
	struct hv_dominfo	d;
	uint32_t		crash = 2u << XEN_DOMINF_shutdownshift;

	d = convert(7, 0);
	ck_assert_uint_eq(d.domid, 7);
	ck_assert_int_eq(d.state, HV_DOM_RUNNING);
	ck_assert_str_eq(d.name, "");
	d = convert(1, XEN_DOMINF_running | XEN_DOMINF_blocked |
	    XEN_DOMINF_paused | XEN_DOMINF_hvm_guest | XEN_DOMINF_hap);
	ck_assert_int_eq(d.state, HV_DOM_RUNNING);
	d = convert(2, XEN_DOMINF_shutdown);
	ck_assert_int_eq(d.state, HV_DOM_SHUTDOWN);
	d = convert(3, XEN_DOMINF_shutdown | crash);
	ck_assert_int_eq(d.state, HV_DOM_SHUTDOWN);
	d = convert(4, XEN_DOMINF_dying);
	ck_assert_int_eq(d.state, HV_DOM_DYING);
	d = convert(5, XEN_DOMINF_dying | XEN_DOMINF_shutdown | crash);
	ck_assert_int_eq(d.state, HV_DOM_DYING);
	d = convert(0x7fef, XEN_DOMINF_paused);
	ck_assert_uint_eq(d.domid, 0x7fef);
	ck_assert_int_eq(d.state, HV_DOM_RUNNING);
	ck_assert_str_eq(d.uuid, "00000000-0000-0000-0000-000000000000");
}
END_TEST

/* Domain handles print as libxl prints uuids. */
START_TEST(test_uuid_format)
{
	xc_domaininfo_t		di;
	struct hv_dominfo	d;
	char			out[40];
	uint8_t			h[16];
	int			i;

	for (i = 0; i < 16; i++)
		h[i] = (uint8_t)(i * 0x11);
	memset(out, 'x', sizeof out);
	xen_uuid_format(h, out);
	ck_assert_str_eq(out, "00112233-4455-6677-8899-aabbccddeeff");
	memset(h, 0xff, sizeof h);
	xen_uuid_format(h, out);
	ck_assert_str_eq(out, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	ck_assert_uint_eq(strlen(out), 36);

	memset(&di, 0, sizeof di);
	di.domain = 9;
	di.flags = XEN_DOMINF_shutdown;
	for (i = 0; i < 16; i++)
		di.handle[i] = (uint8_t)(0xf0 | i);
	xen_dominfo_from(&di, &d);
	ck_assert_str_eq(d.uuid, "f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff");
}
END_TEST

/* A pretend hypervisor for xen_domains_collect. */
struct fake_list {
	const uint16_t	*ids;
	size_t		 n;
	int		 calls;
	int		 fail_at;	/* call number that fails, 0 never */
	int		 fail_errno;
	int		 overfill;	/* return more than asked */
};

/* Like XEN_SYSCTL_getdomaininfolist: ids >= first, in order, up to max. */
static int
fake_fetch(void *arg, uint32_t first, unsigned max, xc_domaininfo_t *buf)
{
	struct fake_list	*f = arg;
	unsigned		 got = 0;
	size_t			 i;

	f->calls++;
	if (f->fail_at == f->calls) {
		errno = f->fail_errno;
		return (-1);
	}
	if (f->overfill)
		return ((int)max + 1);
	for (i = 0; i < f->n && got < max; i++) {
		if (f->ids[i] < first)
			continue;
		memset(&buf[got], 0, sizeof buf[got]);
		buf[got].domain = f->ids[i];
		buf[got].flags = (f->ids[i] % 3 == 0) ? XEN_DOMINF_dying : 0;
		got++;
	}
	return ((int)got);
}

/* Collect a list in batches and compare it with the model. */
static void
collect_and_check(const uint16_t *ids, size_t n, unsigned batch,
    int calls)
{
	struct fake_list	 f = { ids, n, 0, 0, 0, 0 };
	struct hv_dominfo	*out = NULL;
	size_t			 got = 12345, i;

	ck_assert_int_eq(xen_domains_collect(fake_fetch, &f, batch, &out,
	    &got), 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(got, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].domid, ids[i]);
		ck_assert_int_eq(out[i].state, ids[i] % 3 == 0 ?
		    HV_DOM_DYING : HV_DOM_RUNNING);
	}
	if (calls >= 0)
		ck_assert_int_eq(f.calls, calls);
	free(out);
}

/* Batches resume after the last id seen; a short batch ends the list. */
START_TEST(test_domains_batches)
{
	enum { N = 3000 };
	uint16_t	*ids = calloc(N, sizeof *ids);
	uint16_t	 six[] = { 0, 1, 2, 10, 11, 40 };
	uint16_t	 top[] = { 0x7fed, 0x7fee, 0x7fef };
	size_t		 i;

	for (i = 0; i < N; i++)
		ids[i] = (uint16_t)(i * 7 + (i % 5));	/* with gaps */
	collect_and_check(ids, N, 1024, 3);
	collect_and_check(ids, N, 1000, 4);	/* 1000 x 3, then empty */
	collect_and_check(ids, N, 1, N + 1);
	collect_and_check(six, 6, 3, 3);	/* 3, 3, 0 */
	collect_and_check(six, 6, 4, 2);	/* 4, 2 */
	collect_and_check(six, 6, 6, 2);
	collect_and_check(six, 6, 7, 1);
	collect_and_check(six, 0, 1024, 1);	/* no domains: empty list */
	/* A full batch ending at the last ordinary id asks no more. */
	collect_and_check(top, 3, 3, 1);
	free(ids);
}
END_TEST

/* One domain: found only if the hypervisor's first entry from its id is
 * that very domain; reserved ids are never asked for. */
START_TEST(test_domain_one)
{
	uint16_t		 six[] = { 0, 1, 2, 10, 11, 40 };
	struct fake_list	 f = { six, 6, 0, 0, 0, 0 };
	struct hv_dominfo	 d;

	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, 10, &d), 0);
	ck_assert_uint_eq(d.domid, 10);
	ck_assert_int_eq(d.state, HV_DOM_RUNNING);
	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, 0, &d), 0);
	ck_assert_int_eq(d.state, HV_DOM_DYING);
	/* 5 is missing: the hypervisor answers with 10, which is not it. */
	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, 5, &d), -ENOENT);
	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, 41, &d), -ENOENT);
	ck_assert_int_eq(f.calls, 4);
	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, DOMID_FIRST_RESERVED,
	    &d), -ENOENT);
	ck_assert_int_eq(f.calls, 4);
	f.fail_at = 5;
	f.fail_errno = EPERM;
	ck_assert_int_eq(xen_domain_one(fake_fetch, &f, 1, &d), -EPERM);
}
END_TEST

/* A failing hypercall fails the list, with its errno, leaking nothing. */
START_TEST(test_domains_errors)
{
	uint16_t		 six[] = { 0, 1, 2, 10, 11, 40 };
	struct fake_list	 f = { six, 6, 0, 2, EACCES, 0 };
	struct hv_dominfo	*out = NULL;
	size_t			 n = 0;

	ck_assert_int_eq(xen_domains_collect(fake_fetch, &f, 2, &out, &n),
	    -EACCES);
	ck_assert_int_eq(f.calls, 2);
	f.calls = 0;
	f.fail_at = 1;
	f.fail_errno = 0;
	ck_assert_int_eq(xen_domains_collect(fake_fetch, &f, 2, &out, &n),
	    -EIO);
	f.calls = 0;
	f.fail_at = 0;
	f.overfill = 1;
	ck_assert_int_eq(xen_domains_collect(fake_fetch, &f, 2, &out, &n),
	    -EIO);
	ck_assert_ptr_null(out);
}
END_TEST

/* The local port table: grows, keeps entries, refuses absurd ports. */
START_TEST(test_ports_table)
{
	struct xen_ports	 t = { NULL, 0 };
	struct hv_port		 a, b, c;

	ck_assert_ptr_null(xen_ports_get(&t, 0));
	ck_assert_ptr_null(xen_ports_get(&t, 5));
	xen_ports_clear(&t, 5);			/* nothing there: fine */
	ck_assert_int_eq(xen_ports_set(&t, 5, &a), 0);
	ck_assert_ptr_eq(xen_ports_get(&t, 5), &a);
	ck_assert_ptr_null(xen_ports_get(&t, 4));
	ck_assert_ptr_null(xen_ports_get(&t, 6));
	ck_assert_int_eq(xen_ports_set(&t, 1000, &b), 0);
	ck_assert_uint_gt(t.n, 1000);
	ck_assert_ptr_eq(xen_ports_get(&t, 5), &a);
	ck_assert_ptr_eq(xen_ports_get(&t, 1000), &b);
	ck_assert_ptr_null(xen_ports_get(&t, 999));
	ck_assert_int_eq(xen_ports_set(&t, XEN_PORTS_MAX - 1, &c), 0);
	ck_assert_ptr_eq(xen_ports_get(&t, XEN_PORTS_MAX - 1), &c);
	ck_assert_ptr_eq(xen_ports_get(&t, 1000), &b);
	ck_assert_int_eq(xen_ports_set(&t, XEN_PORTS_MAX, &c), -ERANGE);
	ck_assert_int_eq(xen_ports_set(&t, UINT32_MAX, &c), -ERANGE);
	ck_assert_ptr_null(xen_ports_get(&t, XEN_PORTS_MAX));
	ck_assert_ptr_null(xen_ports_get(&t, UINT32_MAX));
	xen_ports_set(&t, 5, &c);		/* rebinding a number */
	ck_assert_ptr_eq(xen_ports_get(&t, 5), &c);
	xen_ports_clear(&t, 5);
	ck_assert_ptr_null(xen_ports_get(&t, 5));
	xen_ports_clear(&t, UINT32_MAX);
	xen_ports_free(&t);
	ck_assert_ptr_null(xen_ports_get(&t, 1000));
}
END_TEST

/* Virtual IRQ ports are told apart from guest ports; unbound is -1. */
START_TEST(test_virq_of)
{
	struct xen	*x = xen_create();

	ck_assert_int_eq(xen_virq_of(x, 0), -1);
	ck_assert_int_eq(xen_virq_of(x, UINT32_MAX), -1);
	x->virqs[0].local = 3;
	ck_assert_int_eq(xen_virq_of(x, 3), HV_VIRQ_DOM_EXC);
	ck_assert_int_eq(xen_virq_of(x, 4), -1);
	x->virqs[1].local = 4;
	ck_assert_int_eq(xen_virq_of(x, 4), HV_VIRQ_CON_RING);
	ck_assert_int_eq(xen_virq_of(x, 5), -1);
	free(x);
}
END_TEST

/* An event on a port nobody bound is dropped without touching Xen. */
START_TEST(test_dispatch_unbound)
{
	struct hv	*hv = fake_xen();

	xen_dispatch(hv, 17);
	xen_dispatch(hv, UINT32_MAX);
	hv_close(hv);
}
END_TEST

/* Mapping records: found by address, each once, with their kind. */
START_TEST(test_maps)
{
	struct xen	*x = xen_create();
	struct xen_map	*m;
	char		 pages[128];

	xen_maps_add(x, &pages[1], XEN_MAP_FOREIGN, 0, 7);
	xen_maps_add(x, &pages[0], XEN_MAP_GRANT, 0, 5);
	xen_maps_add(x, &pages[2], XEN_MAP_KVA, 4096, 0);
	ck_assert_uint_eq(x->nmaps, 3);
	ck_assert_ptr_null(xen_maps_take(x, &pages[0] + 100));
	m = xen_maps_take(x, &pages[1]);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->kind, XEN_MAP_FOREIGN);
	ck_assert_uint_eq(m->domid, 7);
	free(m);
	ck_assert_ptr_null(xen_maps_take(x, &pages[1]));
	m = xen_maps_take(x, &pages[2]);
	ck_assert_int_eq(m->kind, XEN_MAP_KVA);
	ck_assert_uint_eq(m->len, 4096);
	free(m);
	m = xen_maps_take(x, &pages[0]);
	ck_assert_int_eq(m->kind, XEN_MAP_GRANT);
	free(m);
	ck_assert_uint_eq(x->nmaps, 0);
	ck_assert_ptr_null(x->maps);
	free(x);
}
END_TEST

/* Unmapping a page this backend never mapped is a warning only. */
START_TEST(test_unmap_unknown)
{
	struct hv	*hv = fake_xen();
	char		 page;

	hv_unmap(hv, &page);
	hv_unmap(hv, NULL);
	hv_close(hv);
}
END_TEST

/* What the kernel writes in /proc/xen/xsd_port, and what it never does. */
START_TEST(test_parse_port)
{
	uint32_t	port = 99;

	ck_assert_int_eq(xen_parse_port("7\n", &port), 0);
	ck_assert_uint_eq(port, 7);
	ck_assert_int_eq(xen_parse_port("131071", &port), 0);
	ck_assert_uint_eq(port, 131071);
	ck_assert_int_eq(xen_parse_port("42 \n", &port), 0);
	ck_assert_uint_eq(port, 42);
	port = 99;
	ck_assert_int_eq(xen_parse_port("", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("\n", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("abc", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("-1", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port(" 7", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("12x", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("0", &port), -EINVAL);
	ck_assert_int_eq(xen_parse_port("131072", &port), -ERANGE);
	ck_assert_int_eq(xen_parse_port("99999999999999999999999", &port),
	    -ERANGE);
	ck_assert_uint_eq(port, 99);
}
END_TEST

/* Write a small file under dir. */
static void
put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* dom0's ring from files shaped like xsd_kva and xsd_port: the page is
 * shared with the file and released through hv_unmap. */
START_TEST(test_dom0_ring_files)
{
	struct hv	*hv = fake_xen();
	struct xen	*x = hv->priv;
	char		 dir[] = "/tmp/check_hv_xen.XXXXXX";
	char		 kva[PATH_MAX], portf[PATH_MAX], back[4];
	long		 pagesize = sysconf(_SC_PAGESIZE);
	char		*zero = xcalloc(1, (size_t)pagesize);
	void		*page = NULL;
	uint32_t	 port = 0;
	int		 fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(kva, sizeof kva, "%s/xsd_kva", dir);
	snprintf(portf, sizeof portf, "%s/xsd_port", dir);

	/* Missing files: -ENOENT, nothing mapped. */
	ck_assert_int_eq(xen_map_kva(x, kva, portf, &page, &port), -ENOENT);
	put_file(dir, "xsd_port", "23\n", 3);
	ck_assert_int_eq(xen_map_kva(x, kva, portf, &page, &port), -ENOENT);
	ck_assert_uint_eq(x->nmaps, 0);

	/* A bad port file is refused before anything is mapped. */
	put_file(dir, "xsd_kva", zero, (size_t)pagesize);
	put_file(dir, "xsd_port", "junk\n", 5);
	ck_assert_int_eq(xen_map_kva(x, kva, portf, &page, &port), -EINVAL);
	ck_assert_uint_eq(x->nmaps, 0);

	put_file(dir, "xsd_port", "23\n", 3);
	ck_assert_int_eq(xen_map_kva(x, kva, portf, &page, &port), 0);
	ck_assert_ptr_nonnull(page);
	ck_assert_uint_eq(port, 23);
	ck_assert_uint_eq(x->nmaps, 1);
	memcpy(page, "ring", 4);
	ck_assert_int_ge(fd = open(kva, O_RDONLY), 0);
	ck_assert_int_eq(pread(fd, back, 4, 0), 4);
	close(fd);
	ck_assert_int_eq(memcmp(back, "ring", 4), 0);
	hv_unmap(hv, page);
	ck_assert_uint_eq(x->nmaps, 0);

	/* Left mapped, it is unmapped by close. */
	ck_assert_int_eq(xen_map_kva(x, kva, portf, &page, &port), 0);
	ck_assert_uint_eq(x->nmaps, 1);
	hv_close(hv);

	unlink(kva);
	unlink(portf);
	rmdir(dir);
	free(zero);
}
END_TEST

/* hv_xen_dom0_ring wants the xen backend, and here finds no xenfs. */
START_TEST(test_dom0_ring_here)
{
	static const struct hv_ops other = { .name = "sim" };
	struct hv	 sim = { .ops = &other };
	struct hv	*hv = fake_xen();
	void		*page = NULL;
	uint32_t	 port = 0;

	ck_assert_int_eq(hv_xen_dom0_ring(&sim, &page, &port), -EOPNOTSUPP);
	ck_assert_int_eq(hv_xen_dom0_ring(NULL, &page, &port), -EOPNOTSUPP);
	if (access(XEN_PORT_PATH, F_OK) != 0) {
		ck_assert_int_eq(hv_xen_dom0_ring(hv, &page, &port), -ENOENT);
		ck_assert_ptr_null(page);
	}
	hv_close(hv);
}
END_TEST

/* Call the logger as the libraries do. */
static void
lib_log(struct xen_log *xl, xentoollog_level level, int errnoval,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	xl->xtl.vmessage(&xl->xtl, level, errnoval, "xc", fmt, ap);
	va_end(ap);
}

/* The libraries' errors are kept for the open message; errno survives. */
START_TEST(test_logger)
{
	struct xen	*x = xen_create();

	ck_assert_str_eq(xen_strerror(x, 0), "failed");
	lib_log(&x->log, XTL_DEBUG, -1, "chatter %d", 1);
	ck_assert_str_eq(x->log.last, "");
	ck_assert_str_eq(xen_strerror(x, 0), "failed");
	errno = EPERM;
	lib_log(&x->log, XTL_ERROR, -1, "could not %s", "open");
	ck_assert_int_eq(errno, EPERM);
	ck_assert_str_eq(x->log.last, "could not open");
	ck_assert_str_eq(xen_strerror(x, 0), "could not open");
	lib_log(&x->log, XTL_CRITICAL, ENOENT, "no %s", "privcmd");
	ck_assert_str_eq(x->log.last, "no privcmd");
	ck_assert_int_eq(x->log.last_errno, ENOENT);
	ck_assert_str_eq(xen_strerror(x, 0), strerror(ENOENT));
	ck_assert_str_eq(xen_strerror(x, EACCES), strerror(EACCES));
	ck_assert_int_eq(xen_errno(EACCES), -EACCES);
	ck_assert_int_eq(xen_errno(0), -EIO);
	x->log.xtl.destroy(&x->log.xtl);
	free(x);
}
END_TEST

/* Events on the base: ours is the only one a backend adds. */
static int
base_events(struct event_base *base)
{
	return (event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
}

/* With the libraries there, open binds both virtual IRQs, adds one fd,
 * and close gives every handle back. */
START_TEST(test_fake_open_close)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	struct xen		*x;
	char			 err[256] = "";

	fake_start(FAIL_NONE);
	hv = hv_open_xen(base, err, sizeof err);
	ck_assert_ptr_nonnull(hv);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(hv_name(hv), "xen");
	x = hv->priv;
	ck_assert_int_eq(fake.opens, 4);
	ck_assert_int_eq(x->nonblock, 1);
	ck_assert_int_ne(fcntl(fake.pipe[0], F_GETFL) & O_NONBLOCK, 0);
	ck_assert_uint_ne(fake.virq_local[HV_VIRQ_DOM_EXC], 0);
	ck_assert_uint_ne(fake.virq_local[HV_VIRQ_CON_RING], 0);
	ck_assert_int_eq(x->virqs[0].local,
	    (int)fake.virq_local[HV_VIRQ_DOM_EXC]);
	ck_assert_int_eq(x->virqs[1].local,
	    (int)fake.virq_local[HV_VIRQ_CON_RING]);
	ck_assert_int_eq(base_events(base), 1);
	hv_close(hv);
	ck_assert_int_eq(fake.closes, 4);
	ck_assert_int_eq(fake.pipe[0], -1);
	ck_assert_int_eq(base_events(base), 0);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* Each step of the open failing: a message naming it, and everything
 * opened before it closed again. */
START_TEST(test_fake_open_failures)
{
	static const struct {
		enum fake_fail	 fail;
		const char	*says;
		int		 opened;
	} cases[] = {
		{ FAIL_XC, "xc_interface_open: Permission denied: is this "
		    "a Xen dom0", 0 },
		{ FAIL_EVTCHN, "xenevtchn_open: No such file", 1 },
		{ FAIL_GNTTAB, "xengnttab_open: No such file", 2 },
		{ FAIL_FMEM, "xenforeignmemory_open: No such file", 3 },
		{ FAIL_VIRQ_DOM_EXC, "VIRQ_DOM_EXC): File exists: is another "
		    "xenstored running?", 4 },
	};
	struct event_base	*base = event_base_new();
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fake_start(cases[i].fail);
		err[0] = '\0';
		ck_assert_ptr_null(hv_open_xen(base, err, sizeof err));
		ck_assert_msg(strstr(err, cases[i].says) != NULL,
		    "case %zu: \"%s\"", i, err);
		ck_assert_int_eq(fake.opens, cases[i].opened);
		ck_assert_int_eq(fake.closes, fake.opens);
		ck_assert_int_eq(base_events(base), 0);
	}
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* Another daemon holding VIRQ_CON_RING is not fatal. */
START_TEST(test_fake_no_con_ring)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	struct xen		*x;
	char			 err[256] = "";

	fake_start(FAIL_VIRQ_CON_RING);
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));
	x = hv->priv;
	ck_assert_int_ge(x->virqs[0].local, 1);
	ck_assert_int_eq(x->virqs[1].local, -1);
	hv_close(hv);
	ck_assert_int_eq(fake.closes, 4);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* What the event callbacks saw. */
static struct {
	unsigned	 virqs[8];
	int		 nvirqs;
	int		 port_events;
	int		 unmasked_first;	/* every time */
} seen;

/* Record a virtual IRQ. */
static void
seen_virq(unsigned virq, void *arg)
{
	(void)arg;
	if (seen.nvirqs < 8)
		seen.virqs[seen.nvirqs++] = virq;
}

/* Record a port event; the port must be unmasked already. */
static void
seen_port(struct hv_port *p, void *arg)
{
	(void)arg;
	seen.port_events++;
	if (fake.last_unmask != p->local)
		seen.unmasked_first = 0;
}

/* A callback that unbinds its own port, as a dying guest's would. */
static void
seen_port_unbind(struct hv_port *p, void *arg)
{
	seen.port_events++;
	hv_evtchn_unbind(p->hv, p);
	*(struct hv_port **)arg = NULL;
}

/* Events: virtual IRQs and bound ports reach their callbacks, unmasked
 * first, all of a burst in one wake-up; unbound ports are dropped. */
START_TEST(test_fake_events)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	struct hv_port		*p, *q;
	char			 err[256];
	uint32_t		 plocal, qlocal;

	fake_start(FAIL_NONE);
	memset(&seen, 0, sizeof seen);
	seen.unmasked_first = 1;
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));
	hv_set_virq_cb(hv, seen_virq, NULL);

	p = hv_evtchn_bind(hv, 5, 9, seen_port, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fake.bound_domid, 5);
	ck_assert_uint_eq(fake.bound_remote, 9);
	ck_assert_uint_eq(hv_port_remote(p), 9);
	plocal = p->local;
	ck_assert_ptr_eq(xen_ports_get(&((struct xen *)hv->priv)->ports,
	    plocal), p);
	errno = 0;
	ck_assert_ptr_null(hv_evtchn_bind(hv, 666, 1, seen_port, NULL));
	ck_assert_int_eq(errno, EINVAL);

	fake_event(fake.virq_local[HV_VIRQ_DOM_EXC]);
	fake_event(plocal);
	fake_event(999);
	fake_event(fake.virq_local[HV_VIRQ_CON_RING]);
	fake_event(plocal);
	/* One round of the loop: the whole burst in one wake-up. */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	ck_assert_int_eq(seen.nvirqs, 2);
	ck_assert_uint_eq(seen.virqs[0], HV_VIRQ_DOM_EXC);
	ck_assert_uint_eq(seen.virqs[1], HV_VIRQ_CON_RING);
	ck_assert_int_eq(seen.port_events, 2);
	ck_assert_int_eq(seen.unmasked_first, 1);
	ck_assert_int_eq(fake.unmasks, 4);	/* not the unbound 999 */

	ck_assert_int_eq(hv_notify(hv, p), 0);
	ck_assert_uint_eq(fake.last_notify, plocal);

	/* A port whose callback unbinds it, with a second event queued. */
	q = hv_evtchn_bind(hv, 6, 2, seen_port_unbind, &q);
	ck_assert_ptr_nonnull(q);
	qlocal = q->local;
	seen.port_events = 0;
	fake_event(qlocal);
	fake_event(qlocal);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(seen.port_events, 1);
	ck_assert_ptr_null(q);
	ck_assert_uint_eq(fake.last_unbind, qlocal);

	/* After unbinding, its events are dropped. */
	hv_evtchn_unbind(hv, p);
	ck_assert_uint_eq(fake.last_unbind, plocal);
	seen.port_events = 0;
	fake_event(plocal);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(seen.port_events, 0);

	hv_close(hv);
	ck_assert_int_eq(fake.closes, 4);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* A failed notify is an error with its errno. */
START_TEST(test_fake_notify_error)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	struct hv_port		 p;
	char			 err[256];

	fake_start(FAIL_NONE);
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));
	memset(&p, 0, sizeof p);
	p.hv = hv;
	p.local = 0;
	ck_assert_int_eq(hv_notify(hv, &p), -EINVAL);
	hv_close(hv);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* Grants first, frames when the grant fails and a frame is known; each
 * page unmapped by whoever mapped it, the rest at close. */
START_TEST(test_fake_map)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	char			 err[256];
	char			*g, *f;

	fake_start(FAIL_NONE);
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));

	ck_assert_ptr_nonnull(g = hv_map_grant(hv, 3, GNTTAB_RESERVED_XENSTORE,
	    0x1234));
	ck_assert_uint_eq(fake.last_pfn, 0);	/* no fallback needed */
	g[0] = 1;
	hv_unmap(hv, g);
	ck_assert_int_eq(fake.grant_unmaps, 1);
	ck_assert_int_eq(fake.foreign_unmaps, 0);

	fake.grant_fail = ENOENT;
	errno = 0;
	ck_assert_ptr_null(hv_map_grant(hv, 3, GNTTAB_RESERVED_XENSTORE, 0));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(fake.last_pfn, 0);
	ck_assert_ptr_nonnull(f = hv_map_grant(hv, 3, GNTTAB_RESERVED_CONSOLE,
	    0x1234));
	ck_assert_uint_eq(fake.last_pfn, 0x1234);
	f[XC_PAGE_SIZE - 1] = 1;
	hv_unmap(hv, f);
	ck_assert_int_eq(fake.foreign_unmaps, 1);
	ck_assert_int_eq(fake.grant_unmaps, 1);
	errno = 0;
	ck_assert_ptr_null(hv_map_grant(hv, 3, GNTTAB_RESERVED_CONSOLE,
	    0xbad));
	ck_assert_int_eq(errno, EFAULT);

	/* Left mapped: one of each, unmapped at close. */
	ck_assert_ptr_nonnull(hv_map_grant(hv, 4, 1, 0x99));
	fake.grant_fail = 0;
	ck_assert_ptr_nonnull(hv_map_grant(hv, 4, 0, 0));
	ck_assert_uint_eq(((struct xen *)hv->priv)->nmaps, 2);
	hv_close(hv);
	ck_assert_int_eq(fake.grant_unmaps, 2);
	ck_assert_int_eq(fake.foreign_unmaps, 2);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* The domain list through hv_domains and hv_domain_info. */
START_TEST(test_fake_domains)
{
	static const uint16_t	 ids[] = { 0, 3, 7 };
	struct event_base	*base = event_base_new();
	struct hv_dominfo	*all, one;
	struct hv		*hv;
	char			 err[256];
	size_t			 n;

	fake_start(FAIL_NONE);
	fake.domids = ids;
	fake.ndomids = 3;
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));
	ck_assert_int_eq(hv_domains(hv, &all, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(all[2].domid, 7);
	ck_assert_str_eq(all[2].uuid, "00000000-0000-0000-0000-000000000007");
	free(all);
	ck_assert_int_eq(hv_domain_info(hv, 3, &one), 0);
	ck_assert_uint_eq(one.domid, 3);
	ck_assert_int_eq(one.state, HV_DOM_RUNNING);
	ck_assert_int_eq(hv_domain_info(hv, 4, &one), -ENOENT);
	hv_close(hv);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* The hypervisor console is read from where the last read stopped. */
START_TEST(test_fake_console)
{
	struct event_base	*base = event_base_new();
	struct hv		*hv;
	char			 err[256], buf[8];
	size_t			 len;

	fake_start(FAIL_NONE);
	snprintf(fake.console, sizeof fake.console, "0123456789");
	ck_assert_ptr_nonnull(hv = hv_open_xen(base, err, sizeof err));
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, 4, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(buf, "0123", 4), 0);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, 4, &len), 0);
	ck_assert_int_eq(memcmp(buf, "4567", 4), 0);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(buf, "89", 2), 0);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 0);
	strcat(fake.console, "ab");
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, sizeof buf, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(buf, "ab", 2), 0);
	ck_assert_int_eq(hv_hypervisor_console(hv, buf, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	hv_close(hv);
	fake.on = 0;
	event_base_free(base);
}
END_TEST

/* The suite. */
static Suite *
hv_xen_suite(void)
{
	Suite	*s = suite_create("hv-xen");
	TCase	*tc;

	tc = tcase_create("open");
	tcase_add_test(tc, test_open_xen_fails_cleanly);
	tcase_add_test(tc, test_open_xen_small_err);
	tcase_add_test(tc, test_open_no_hypervisor);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_dominfo_states);
	tcase_add_test(tc, test_uuid_format);
	tcase_add_test(tc, test_domains_batches);
	tcase_add_test(tc, test_domain_one);
	tcase_add_test(tc, test_domains_errors);
	tcase_add_test(tc, test_ports_table);
	tcase_add_test(tc, test_virq_of);
	tcase_add_test(tc, test_dispatch_unbound);
	tcase_add_test(tc, test_maps);
	tcase_add_test(tc, test_unmap_unknown);
	tcase_add_test(tc, test_parse_port);
	tcase_add_test(tc, test_dom0_ring_files);
	tcase_add_test(tc, test_dom0_ring_here);
	tcase_add_test(tc, test_logger);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake-xen");
	tcase_add_test(tc, test_fake_open_close);
	tcase_add_test(tc, test_fake_open_failures);
	tcase_add_test(tc, test_fake_no_con_ring);
	tcase_add_test(tc, test_fake_events);
	tcase_add_test(tc, test_fake_notify_error);
	tcase_add_test(tc, test_fake_map);
	tcase_add_test(tc, test_fake_domains);
	tcase_add_test(tc, test_fake_console);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status is the number of failures. */
int
main(void)
{
	SRunner	*sr = srunner_create(hv_xen_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
