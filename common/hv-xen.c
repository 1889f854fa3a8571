/*
 * The real hypervisor: libxenctrl for the domain list and the hypervisor
 * console, libxengnttab (with libxenforeignmemory as the fallback) for
 * guests' pages, libxenevtchn for event channels. One xenevtchn handle
 * carries every port and both virtual IRQs; its file descriptor is the
 * only one this backend adds to the event base.
 *
 * Besides hv_open_xen, this file exports hv_xen_dom0_ring:
 * dom0's own xenstore page and event channel, from the kernel's
 * /proc/xen/xsd_kva and /proc/xen/xsd_port: dom0 cannot grant a page to
 * itself, so its ring comes from the xenbus driver, as in C xenstored.
 * The page is released with hv_unmap; the port is bound with
 * hv_evtchn_bind(hv, 0, port, ...).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "hv-private.h"
#include "log.h"
#include "xmalloc.h"

#define XEN_DOMAIN_BATCH	1024	/* domains per getinfolist hypercall */
#define XEN_EVENT_BUDGET	4096	/* events handled per wake-up */
#define XEN_PORTS_MAX		EVTCHN_FIFO_NR_CHANNELS	/* 2^17 */
#define XEN_KVA_PATH		"/proc/xen/xsd_kva"
#define XEN_PORT_PATH		"/proc/xen/xsd_port"

/* The libraries' log messages: passed to ours, the last error kept for
 * the message of a failed open. */
struct xen_log {
	xentoollog_logger	 xtl;		/* first: what they are given */
	char			 last[256];
	int			 last_errno;
};

/* Bound ports by local port number (small integers). */
struct xen_ports {
	struct hv_port		**v;
	size_t			  n;
};

/* Who mapped a page decides how it is unmapped. */
enum xen_map_kind {
	XEN_MAP_GRANT,		/* xengnttab_map_grant_ref */
	XEN_MAP_FOREIGN,	/* xenforeignmemory_map */
	XEN_MAP_KVA,		/* mmap of /proc/xen/xsd_kva */
};

struct xen_map {
	void			*addr;		/* first: the tsearch key */
	enum xen_map_kind	 kind;
	size_t			 len;		/* bytes, for XEN_MAP_KVA */
	uint32_t		 domid;
};

struct xen_virq {
	unsigned		 virq;		/* HV_VIRQ_* */
	int			 local;		/* bound port, -1 if none */
};

struct xen {
	struct xen_log		 log;
	xc_interface		*xc;
	xenevtchn_handle	*xce;
	xengnttab_handle	*xgt;
	xenforeignmemory_handle	*fmem;
	struct event		*ev;
	int			 nonblock;	/* xce's fd is O_NONBLOCK */
	struct xen_ports	 ports;
	struct xen_virq		 virqs[2];
	void			*maps;		/* tsearch(3) by address */
	size_t			 nmaps;
	uint32_t		 con_index;	/* xc_readconsolering's */
};

static void	 xen_log_vmessage(xentoollog_logger *, xentoollog_level, int,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));
static void	 xen_log_destroy(xentoollog_logger *);
static void	 xen_log_init(struct xen_log *);
static struct xen *xen_create(void);
static int	 xen_errno(int);
static const char *xen_strerror(const struct xen *, int);
static void	 xen_uuid_format(const uint8_t *, char *);
static void	 xen_dominfo_from(const xc_domaininfo_t *,
		    struct hv_dominfo *);
typedef int	 xen_getinfo_fn(void *, uint32_t, unsigned, xc_domaininfo_t *);
static int	 xen_domains_collect(xen_getinfo_fn *, void *, unsigned,
		    struct hv_dominfo **, size_t *);
static int	 xen_getinfolist(void *, uint32_t, unsigned,
		    xc_domaininfo_t *);
static int	 xen_ports_set(struct xen_ports *, uint32_t,
		    struct hv_port *);
static struct hv_port *xen_ports_get(const struct xen_ports *, uint32_t);
static void	 xen_ports_clear(struct xen_ports *, uint32_t);
static void	 xen_ports_free(struct xen_ports *);
static int	 xen_virq_of(const struct xen *, uint32_t);
static int	 xen_map_cmp(const void *, const void *);
static void	 xen_maps_add(struct xen *, void *, enum xen_map_kind, size_t,
		    uint32_t);
static struct xen_map *xen_maps_take(struct xen *, void *);
static void	 xen_map_release(struct xen *, struct xen_map *);
static int	 xen_parse_port(const char *, uint32_t *);
static int	 xen_read_port(const char *, uint32_t *);
static int	 xen_map_kva(struct xen *, const char *, const char *, void **,
		    uint32_t *);
static void	 xen_kick_all(struct hv *);
static void	 xen_dispatch(struct hv *, uint32_t);
static void	 xen_readable(evutil_socket_t, short, void *);
static void	 xen_free(struct xen *);
static void	 xen_close(struct hv *);
static int	 xen_domains(struct hv *, struct hv_dominfo **, size_t *);
static int	 xen_domain_one(xen_getinfo_fn *, void *, uint32_t,
		    struct hv_dominfo *);
static int	 xen_domain(struct hv *, uint32_t, struct hv_dominfo *);
static void	*xen_map_grant(struct hv *, uint32_t, uint32_t, uint64_t);
static void	 xen_unmap(struct hv *, void *);
static int	 xen_bind(struct hv *, struct hv_port *);
static void	 xen_unbind(struct hv *, struct hv_port *);
static int	 xen_notify(struct hv *, struct hv_port *);
static int	 xen_console(struct hv *, char *, size_t, size_t *);

static const struct hv_ops xen_ops = {
	.name = "xen",
	.close = xen_close,
	.domains = xen_domains,
	.domain = xen_domain,
	.map_grant = xen_map_grant,
	.unmap = xen_unmap,
	.bind = xen_bind,
	.unbind = xen_unbind,
	.notify = xen_notify,
	.console = xen_console,
};

/* A library said something: keep errors for the open message, log all
 * at debug (we report the failures that matter ourselves). */
static void
xen_log_vmessage(xentoollog_logger *xtl, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
{
	struct xen_log	*xl = (struct xen_log *)xtl;
	char		 msg[256];
	int		 saved = errno;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (level >= XTL_ERROR) {
		snprintf(xl->last, sizeof xl->last, "%s", msg);
		if (errnoval > 0)
			xl->last_errno = errnoval;
	}
	if (errnoval > 0) {
		log_debug("xen: %s: %s: %s", context != NULL ? context : "lib",
		    msg, strerror(errnoval));
	} else {
		log_debug("xen: %s: %s", context != NULL ? context : "lib",
		    msg);
	}
	errno = saved;
}

/* The libraries never destroy a logger they were given; nothing to do. */
static void
xen_log_destroy(xentoollog_logger *xtl)
{
	(void)xtl;
}

/* Make the logger handed to every library. */
static void
xen_log_init(struct xen_log *xl)
{
	memset(xl, 0, sizeof *xl);
	xl->xtl.vmessage = xen_log_vmessage;
	xl->xtl.progress = NULL;
	xl->xtl.destroy = xen_log_destroy;
}

/* A backend state with nothing open yet. */
static struct xen *
xen_create(void)
{
	struct xen	*x = xcalloc(1, sizeof *x);

	xen_log_init(&x->log);
	x->virqs[0].virq = HV_VIRQ_DOM_EXC;
	x->virqs[0].local = -1;
	x->virqs[1].virq = HV_VIRQ_CON_RING;
	x->virqs[1].local = -1;
	return (x);
}

/* -e, or -EIO when a library failed without saying why. */
static int
xen_errno(int e)
{
	return (e > 0 ? -e : -EIO);
}

/* The reason an open failed: errno, else what the library logged. */
static const char *
xen_strerror(const struct xen *x, int e)
{
	if (e > 0)
		return (strerror(e));
	if (x->log.last_errno > 0)
		return (strerror(x->log.last_errno));
	if (x->log.last[0] != '\0')
		return (x->log.last);
	return ("failed");
}

/* Format a domain handle as a lowercase uuid (36 chars and a NUL). */
static void
xen_uuid_format(const uint8_t *h, char *out)
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5],
	    h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* What the engines need of a domain: dying wins over shut down, because
 * a dying domain is also shut down and only "dying" means release it. */
static void
xen_dominfo_from(const xc_domaininfo_t *di, struct hv_dominfo *out)
{
	memset(out, 0, sizeof *out);
	out->domid = di->domain;
	if (di->flags & XEN_DOMINF_dying)
		out->state = HV_DOM_DYING;
	else if (di->flags & XEN_DOMINF_shutdown)
		out->state = HV_DOM_SHUTDOWN;
	else
		out->state = HV_DOM_RUNNING;
	xen_uuid_format(di->handle, out->uuid);
}

/*
 * Every domain, batch by batch: the hypervisor lists domains with an id
 * at least `first`, in id order, so each batch starts after the last id
 * of the one before; a short batch is the end.
 */
static int
xen_domains_collect(xen_getinfo_fn *fetch, void *arg, unsigned batch,
    struct hv_dominfo **out, size_t *n)
{
	xc_domaininfo_t		*buf = xcalloc(batch, sizeof *buf);
	struct hv_dominfo	*list = NULL;
	size_t			 count = 0, cap = 0;
	uint32_t		 first = 0;
	int			 got, i, e;

	for (;;) {
		errno = 0;
		if ((got = fetch(arg, first, batch, buf)) < 0) {
			e = xen_errno(errno);
			free(buf);
			free(list);
			return (e);
		}
		if ((unsigned)got > batch) {
			free(buf);
			free(list);
			return (-EIO);
		}
		if (count + (size_t)got > cap) {
			while (count + (size_t)got > cap)
				cap = cap == 0 ? 64 : cap * 2;
			list = xrealloc(list, cap * sizeof *list);
		}
		for (i = 0; i < got; i++)
			xen_dominfo_from(&buf[i], &list[count++]);
		if ((unsigned)got < batch || got == 0)
			break;
		first = (uint32_t)buf[got - 1].domain + 1;
		if (first >= DOMID_FIRST_RESERVED)
			break;
	}
	free(buf);
	if (list == NULL)
		list = xcalloc(1, sizeof *list);
	*out = list;
	*n = count;
	return (0);
}

/* The real fetch for xen_domains_collect. */
static int
xen_getinfolist(void *arg, uint32_t first, unsigned max,
    xc_domaininfo_t *buf)
{
	struct xen	*x = arg;

	return (xc_domain_getinfolist(x->xc, first, max, buf));
}

/* Remember the port bound at local; the table grows to fit. */
static int
xen_ports_set(struct xen_ports *t, uint32_t local, struct hv_port *p)
{
	size_t	n;

	if (local >= XEN_PORTS_MAX)
		return (-ERANGE);
	if (local >= t->n) {
		n = t->n == 0 ? 64 : t->n;
		while (n <= local)
			n *= 2;
		t->v = xrealloc(t->v, n * sizeof *t->v);
		memset(t->v + t->n, 0, (n - t->n) * sizeof *t->v);
		t->n = n;
	}
	t->v[local] = p;
	return (0);
}

/* The port bound at local, or NULL. */
static struct hv_port *
xen_ports_get(const struct xen_ports *t, uint32_t local)
{
	if (local >= t->n)
		return (NULL);
	return (t->v[local]);
}

/* Forget the port bound at local. */
static void
xen_ports_clear(struct xen_ports *t, uint32_t local)
{
	if (local < t->n)
		t->v[local] = NULL;
}

/* Free the table (the ports belong to their binders). */
static void
xen_ports_free(struct xen_ports *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* The virtual IRQ bound at local, or -1. */
static int
xen_virq_of(const struct xen *x, uint32_t local)
{
	size_t	i;

	for (i = 0; i < sizeof x->virqs / sizeof x->virqs[0]; i++) {
		if (x->virqs[i].local >= 0 &&
		    (uint32_t)x->virqs[i].local == local)
			return ((int)x->virqs[i].virq);
	}
	return (-1);
}

/* Order mappings by address. */
static int
xen_map_cmp(const void *a, const void *b)
{
	const struct xen_map	*x = a, *y = b;
	uintptr_t		 u = (uintptr_t)x->addr, v = (uintptr_t)y->addr;

	return (u < v ? -1 : u > v);
}

/* Remember who mapped addr. */
static void
xen_maps_add(struct xen *x, void *addr, enum xen_map_kind kind, size_t len,
    uint32_t domid)
{
	struct xen_map	*m = xcalloc(1, sizeof *m);

	m->addr = addr;
	m->kind = kind;
	m->len = len;
	m->domid = domid;
	if (tsearch(m, &x->maps, xen_map_cmp) == NULL)
		log_fatal("xen: out of memory recording a mapping");
	x->nmaps++;
}

/* Forget the mapping at addr and hand it back; NULL if unknown. */
static struct xen_map *
xen_maps_take(struct xen *x, void *addr)
{
	struct xen_map	 key, *m;
	void		*found;

	key.addr = addr;
	if ((found = tfind(&key, &x->maps, xen_map_cmp)) == NULL)
		return (NULL);
	m = *(struct xen_map **)found;
	tdelete(&key, &x->maps, xen_map_cmp);
	x->nmaps--;
	return (m);
}

/* Unmap a page the way it was mapped, and free its record. */
static void
xen_map_release(struct xen *x, struct xen_map *m)
{
	int	r = 0;

	switch (m->kind) {
	case XEN_MAP_GRANT:
		r = xengnttab_unmap(x->xgt, m->addr, 1);
		break;
	case XEN_MAP_FOREIGN:
		r = xenforeignmemory_unmap(x->fmem, m->addr, 1);
		break;
	case XEN_MAP_KVA:
		r = munmap(m->addr, m->len);
		break;
	}
	if (r != 0) {
		log_warn("xen: unmapping a page of domain %u: %s", m->domid,
		    strerror(errno));
	}
	free(m);
}

/* Parse what the kernel writes in xsd_port: a decimal port, a newline. */
static int
xen_parse_port(const char *s, uint32_t *port)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '9')
		return (-EINVAL);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || v >= XEN_PORTS_MAX)
		return (-ERANGE);
	while (*end == '\n' || *end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || v == 0)
		return (-EINVAL);
	*port = (uint32_t)v;
	return (0);
}

/* Read an event channel port from a file like xsd_port. */
static int
xen_read_port(const char *path, uint32_t *port)
{
	char	buf[32];
	ssize_t	n;
	int	fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-errno);
	n = read(fd, buf, sizeof buf - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return (-e);
	buf[n] = '\0';
	return (xen_parse_port(buf, port));
}

/* Map one page of kva (shared, read-write) and read the port beside it. */
static int
xen_map_kva(struct xen *x, const char *kva, const char *portpath,
    void **page, uint32_t *port)
{
	long	 pagesize = sysconf(_SC_PAGESIZE);
	void	*addr;
	int	 fd, e;

	if ((e = xen_read_port(portpath, port)) != 0) {
		log_warn("xen: %s: %s%s", portpath, strerror(-e),
		    e == -ENOENT ? " (is xenfs mounted on /proc/xen?)" : "");
		return (e);
	}
	if (pagesize <= 0)
		pagesize = XC_PAGE_SIZE;
	if ((fd = open(kva, O_RDWR | O_CLOEXEC)) < 0) {
		e = errno;
		log_warn("xen: %s: %s%s", kva, strerror(e), e == ENOENT ?
		    " (is xenfs mounted on /proc/xen?)" : "");
		return (-e);
	}
	addr = mmap(NULL, (size_t)pagesize, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (addr == MAP_FAILED) {
		log_warn("xen: mmap %s: %s", kva, strerror(e));
		return (-e);
	}
	xen_maps_add(x, addr, XEN_MAP_KVA, (size_t)pagesize, 0);
	*page = addr;
	log_debug("xen: dom0 xenstore page at %p, port %u", addr, *port);
	return (0);
}

/* dom0's own xenstore page and port (see the top of this file). */
int
hv_xen_dom0_ring(struct hv *hv, void **page, uint32_t *port)
{
	if (hv == NULL || hv->ops != &xen_ops)
		return (-EOPNOTSUPP);
	return (xen_map_kva(hv->priv, XEN_KVA_PATH, XEN_PORT_PATH, page,
	    port));
}

/* Events were lost: tell everyone, since they re-read their rings. */
static void
xen_kick_all(struct hv *hv)
{
	struct xen	*x = hv->priv;
	struct hv_port	*p;
	size_t		 i;

	hv_virq(hv, HV_VIRQ_DOM_EXC);
	hv_virq(hv, HV_VIRQ_CON_RING);
	for (i = 0; i < x->ports.n; i++) {
		if ((p = x->ports.v[i]) != NULL)
			hv_port_event(p);
	}
}

/*
 * An event on local: unmask first, so an event that arrives while the
 * callback works is delivered again (events are hints: the callback
 * re-reads the ring), and because the callback may unbind the port.
 */
static void
xen_dispatch(struct hv *hv, uint32_t local)
{
	struct xen	*x = hv->priv;
	struct hv_port	*p;
	int		 virq;

	if ((virq = xen_virq_of(x, local)) >= 0) {
		if (xenevtchn_unmask(x->xce, local) != 0)
			log_warn("xen: unmask of virq %d port %u: %s", virq,
			    local, strerror(errno));
		hv_virq(hv, (unsigned)virq);
		return;
	}
	if ((p = xen_ports_get(&x->ports, local)) == NULL) {
		log_debug("xen: event on unbound port %u", local);
		return;
	}
	if (xenevtchn_unmask(x->xce, local) != 0) {
		log_warn("xen: unmask of domain %u port %u: %s", p->domid,
		    local, strerror(errno));
	}
	hv_port_event(p);
}

/*
 * The event channel device is readable. With O_NONBLOCK, drain up to a
 * budget (the rest wakes us again); without, xenevtchn_pending could
 * block, so take one event per wake-up.
 */
static void
xen_readable(evutil_socket_t fd, short events, void *arg)
{
	struct hv	*hv = arg;
	struct xen	*x = hv->priv;
	int		 budget = x->nonblock ? XEN_EVENT_BUDGET : 1;
	int		 port;

	(void)fd;
	(void)events;
	while (budget-- > 0) {
		if ((port = xenevtchn_pending(x->xce)) >= 0) {
			xen_dispatch(hv, (uint32_t)port);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			break;
		if (errno == EFBIG) {
			/* The kernel sizes its ring for every bound port,
			 * so this should not happen. */
			log_error("xen: event ring overflowed: events lost");
			xen_kick_all(hv);
			break;
		}
		log_warn("xen: xenevtchn_pending: %s", strerror(errno));
		break;
	}
}

/* Free what was opened so far: used by close and by a failed open. */
static void
xen_free(struct xen *x)
{
	struct xen_map	*m;

	if (x->ev != NULL)
		event_free(x->ev);
	while (x->maps != NULL) {
		m = xen_maps_take(x, (*(struct xen_map **)x->maps)->addr);
		xen_map_release(x, m);
	}
	/* Closing the handle unbinds every port, the virtual IRQs too. */
	if (x->xce != NULL)
		xenevtchn_close(x->xce);
	if (x->xgt != NULL)
		xengnttab_close(x->xgt);
	if (x->fmem != NULL)
		xenforeignmemory_close(x->fmem);
	if (x->xc != NULL)
		xc_interface_close(x->xc);
	xen_ports_free(&x->ports);
	free(x);
}

/* Close the hypervisor interface, unmapping what is left. */
static void
xen_close(struct hv *hv)
{
	struct xen	*x = hv->priv;

	if (x->nmaps != 0)
		log_debug("xen: closing with %zu pages mapped", x->nmaps);
	xen_free(x);
	hv->priv = NULL;
}

/* Every domain the hypervisor knows. */
static int
xen_domains(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	return (xen_domains_collect(xen_getinfolist, hv->priv,
	    XEN_DOMAIN_BATCH, out, n));
}

/* One domain: the hypervisor lists from an id on, so ask for one entry
 * and check it is the one asked for. */
static int
xen_domain_one(xen_getinfo_fn *fetch, void *arg, uint32_t domid,
    struct hv_dominfo *info)
{
	xc_domaininfo_t	di;
	int		got;

	if (domid >= DOMID_FIRST_RESERVED)
		return (-ENOENT);
	errno = 0;
	if ((got = fetch(arg, domid, 1, &di)) < 0)
		return (xen_errno(errno));
	if (got == 0 || di.domain != domid)
		return (-ENOENT);
	xen_dominfo_from(&di, info);
	return (0);
}

static int
xen_domain(struct hv *hv, uint32_t domid, struct hv_dominfo *info)
{
	return (xen_domain_one(xen_getinfolist, hv->priv, domid, info));
}

/* Map a granted page; by frame number if the grant cannot be mapped
 * (a guest that did not set up the reserved grant entries). */
static void *
xen_map_grant(struct hv *hv, uint32_t domid, uint32_t gref, uint64_t gfn)
{
	struct xen	*x = hv->priv;
	xen_pfn_t	 pfn = (xen_pfn_t)gfn;
	void		*page;
	int		 e;

	page = xengnttab_map_grant_ref(x->xgt, domid, gref,
	    PROT_READ | PROT_WRITE);
	if (page != NULL) {
		xen_maps_add(x, page, XEN_MAP_GRANT, 0, domid);
		return (page);
	}
	e = errno > 0 ? errno : EIO;
	if (gfn == 0 || (uint64_t)pfn != gfn) {
		log_debug("xen: grant %u of domain %u: %s", gref, domid,
		    strerror(e));
		errno = e;
		return (NULL);
	}
	log_debug("xen: grant %u of domain %u: %s; mapping frame %#llx",
	    gref, domid, strerror(e), (unsigned long long)gfn);
	page = xenforeignmemory_map(x->fmem, domid, PROT_READ | PROT_WRITE, 1,
	    &pfn, NULL);
	if (page == NULL) {
		e = errno > 0 ? errno : EIO;
		log_debug("xen: frame %#llx of domain %u: %s",
		    (unsigned long long)gfn, domid, strerror(e));
		errno = e;
		return (NULL);
	}
	xen_maps_add(x, page, XEN_MAP_FOREIGN, 0, domid);
	return (page);
}

/* Unmap a page from xen_map_grant or hv_xen_dom0_ring. */
static void
xen_unmap(struct hv *hv, void *page)
{
	struct xen	*x = hv->priv;
	struct xen_map	*m;

	if ((m = xen_maps_take(x, page)) == NULL) {
		log_warn("xen: unmap of a page not mapped here (%p)", page);
		return;
	}
	xen_map_release(x, m);
}

/* Bind to a guest's port; our end's number goes in p->local. */
static int
xen_bind(struct hv *hv, struct hv_port *p)
{
	struct xen	*x = hv->priv;
	int		 local, e;

	if ((local = xenevtchn_bind_interdomain(x->xce, p->domid,
	    p->remote)) < 0)
		return (xen_errno(errno));
	if ((e = xen_ports_set(&x->ports, (uint32_t)local, p)) != 0) {
		xenevtchn_unbind(x->xce, (uint32_t)local);
		return (e);
	}
	p->local = (uint32_t)local;
	log_debug("xen: domain %u port %u bound to local %u", p->domid,
	    p->remote, p->local);
	return (0);
}

/* Unbind a port; events still queued for it are then ignored. */
static void
xen_unbind(struct hv *hv, struct hv_port *p)
{
	struct xen	*x = hv->priv;

	xen_ports_clear(&x->ports, p->local);
	if (xenevtchn_unbind(x->xce, p->local) != 0) {
		log_warn("xen: unbind of domain %u local port %u: %s",
		    p->domid, p->local, strerror(errno));
	}
}

/* Kick the guest. Xen drops a notification to a closed remote end. */
static int
xen_notify(struct hv *hv, struct hv_port *p)
{
	struct xen	*x = hv->priv;

	if (xenevtchn_notify(x->xce, p->local) != 0)
		return (xen_errno(errno));
	return (0);
}

/* New bytes of the hypervisor console since the last call; the index
 * survives between calls, and one too old restarts at the oldest byte
 * the hypervisor still holds. */
static int
xen_console(struct hv *hv, char *buf, size_t size, size_t *len)
{
	struct xen	*x = hv->priv;
	unsigned int	 n = size > UINT_MAX ? UINT_MAX : (unsigned int)size;

	*len = 0;
	if (n == 0)
		return (0);
	if (xc_readconsolering(x->xc, buf, &n, 0, 1, &x->con_index) != 0)
		return (xen_errno(errno));
	*len = n;
	return (0);
}

/*
 * Open the real hypervisor: the four libraries, the event channel fd on
 * the event base, and the two virtual IRQs. VIRQ_DOM_EXC is required
 * (without it no domain death is seen); VIRQ_CON_RING is not (another
 * daemon may hold it; the hypervisor console can still be read).
 */
struct hv *
hv_open_xen(struct event_base *base, char *err, size_t errlen)
{
	struct hv	*hv = xcalloc(1, sizeof *hv);
	struct xen	*x = xen_create();
	xentoollog_logger *xtl = &x->log.xtl;
	int		 fd, flags, local;

	hv->ops = &xen_ops;
	hv->base = base;
	hv->priv = x;

	errno = 0;
	if ((x->xc = xc_interface_open(xtl, xtl, 0)) == NULL) {
		snprintf(err, errlen, "xen: xc_interface_open: %s: is this a "
		    "Xen dom0 with privcmd (and are we root)?",
		    xen_strerror(x, errno));
		goto fail;
	}
	errno = 0;
	if ((x->xce = xenevtchn_open(xtl, 0)) == NULL) {
		snprintf(err, errlen, "xen: xenevtchn_open: %s: is the "
		    "xen-evtchn driver loaded (/dev/xen/evtchn)?",
		    xen_strerror(x, errno));
		goto fail;
	}
	errno = 0;
	if ((x->xgt = xengnttab_open(xtl, 0)) == NULL) {
		snprintf(err, errlen, "xen: xengnttab_open: %s: is the "
		    "xen-gntdev driver loaded (/dev/xen/gntdev)?",
		    xen_strerror(x, errno));
		goto fail;
	}
	errno = 0;
	if ((x->fmem = xenforeignmemory_open(xtl, 0)) == NULL) {
		snprintf(err, errlen, "xen: xenforeignmemory_open: %s: is "
		    "privcmd usable?", xen_strerror(x, errno));
		goto fail;
	}

	fd = xenevtchn_fd(x->xce);
	if ((flags = fcntl(fd, F_GETFL)) != -1 &&
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
		x->nonblock = 1;
	else
		log_warn("xen: event channel fd stays blocking: %s",
		    strerror(errno));
	x->ev = event_new(base, fd, EV_READ | EV_PERSIST, xen_readable, hv);
	if (x->ev == NULL || event_add(x->ev, NULL) != 0) {
		snprintf(err, errlen, "xen: cannot add the event channel fd "
		    "to the event loop");
		goto fail;
	}

	errno = 0;
	if ((local = xenevtchn_bind_virq(x->xce, HV_VIRQ_DOM_EXC)) < 0) {
		snprintf(err, errlen, "xen: xenevtchn_bind_virq(VIRQ_DOM_EXC): "
		    "%s: is another xenstored running?",
		    xen_strerror(x, errno));
		goto fail;
	}
	x->virqs[0].local = local;
	if ((local = xenevtchn_bind_virq(x->xce, HV_VIRQ_CON_RING)) < 0) {
		log_warn("xen: xenevtchn_bind_virq(VIRQ_CON_RING): %s: is "
		    "another xenconsoled running? The hypervisor console is "
		    "read only when asked", strerror(errno));
	} else
		x->virqs[1].local = local;

	log_info("xen: hypervisor interface open (virq ports %d, %d)",
	    x->virqs[0].local, x->virqs[1].local);
	return (hv);

fail:
	log_debug("%s", err != NULL && errlen != 0 ? err : "xen: open failed");
	xen_free(x);
	free(hv);
	return (NULL);
}
