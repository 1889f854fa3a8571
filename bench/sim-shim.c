/*
 * sim-shim.c: an LD_PRELOAD shim that makes Debian's Xen 4.17 daemons
 * (xenstored, oxenstored, xenconsoled from xen-utils-4.17) serve the guests
 * of the simulated host of ../shared/sim-abi.md (version 1), so they can be
 * benchmarked on the same simulated guests as xsconsoled.
 *
 *   gcc -shared -fPIC -O2 -o sim-shim.so bench/sim-shim.c -ldl -lpthread
 *   XSC_SIM_ROOT=/path/to/sim XSSHIM_DIR=/path/to/private \
 *       LD_PRELOAD=$PWD/sim-shim.so /usr/lib/xen-4.17/bin/xenstored -N
 *
 * What it replaces (the peers' own imports, checked with objdump -T):
 *
 *   libxenctrl      xc_interface_open/close, xc_domain_getinfo,
 *                   xc_domain_getinfolist (oxenstored), xc_map_foreign_range
 *                   (oxenstored maps the store page by mfn: gnttab/1),
 *                   xc_evtchn_status and xc_readconsolering (xenconsoled),
 *                   xc_get_last_error / xc_clear_last_error (the OCaml stubs
 *                   read them on failure: the real ones would dereference
 *                   our fake handle).
 *   libxengnttab    open/close/set_max_grants, map_grant_ref: mmap of
 *                   DIR/domains/<domid>/gnttab/<ref>, unmap: munmap.
 *   libxenforeignmemory  xenconsoled's fallback mapping: gnttab/0.
 *   libxenevtchn    one datagram socket bound at DIR/evtchn.sock; see
 *                   "Event channels" below.
 *   open/open64     /proc/xen/xsd_port and /proc/xen/xsd_kva (dom0's own
 *                   ring, C xenstored) go to $XSSHIM_DIR/xsd_{port,kva};
 *                   without XSSHIM_DIR a private directory is made in $TMPDIR.
 *   setrlimit       RLIMIT_NOFILE is clamped to the hard limit (oxenstored
 *                   asks for more than an unprivileged container allows).
 *
 * Environment:
 *   XSC_SIM_ROOT         the simulated host (required)
 *   XSSHIM_DIR           directory with xsd_port ("1") and xsd_kva (4096
 *                        zero bytes); optional
 *   XSC_SIM_EVTCHN_SOCK  bind this path instead of DIR/evtchn.sock (to run
 *                        xenconsoled beside xenstored on one root: only one
 *                        process can own DIR/evtchn.sock)
 *   XSSHIM_DEBUG         log every call to stderr
 *
 * Event channels.  A handle is one file descriptor, what xenevtchn_fd()
 * returns.  While the process has a single handle (xenstored, oxenstored)
 * that descriptor IS the socket bound at DIR/evtchn.sock, and
 * xenevtchn_pending() reads the datagrams itself: no thread, no copy.  When
 * a second handle is opened (xenconsoled opens one per console) the shim
 * switches to a demultiplexing thread: every handle gets a pipe, the first
 * handle's pipe is dup3()ed onto the descriptor number it already handed
 * out, and the thread reads the socket and writes the 4-byte local port to
 * the pipe of the handle that bound it.
 *
 * xenevtchn_pending() returns one event per call, as the real driver does:
 * C xenstored and oxenstored call it once per poll wake-up and the
 * descriptor stays readable while datagrams are queued, so none is lost.
 * Datagrams for pairs nobody bound are dropped.  C xenstored exits if
 * pending() fails after poll said readable, so when a wake-up held only
 * such datagrams pending() reports a spurious event on the handle's first
 * interdomain port (dom0's for the store daemons); events are hints, both
 * daemons merely look at that ring again.  Only when nothing at all was
 * queued does it fail with EAGAIN.
 */
#define _GNU_SOURCE
#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#define PAGE		4096
#define DOMID_XEN_SIM	0x7FF0u		/* DOMID_XEN in sim-abi events */
#define NVIRQ		32
#define ST_NONE		(-1)
#define ST_RUNNING	0
#define ST_SHUTDOWN	1
#define ST_DYING	2

static int debug = -1;

#define LOG(...) do {							\
	if (debug < 0)							\
		debug = getenv("XSSHIM_DEBUG") != NULL;			\
	if (debug)							\
		fprintf(stderr, "[sim-shim] " __VA_ARGS__);		\
} while (0)

/* Errors worth seeing even without XSSHIM_DEBUG. */
#define WARN(...) fprintf(stderr, "[sim-shim] " __VA_ARGS__)

static int fake_xc, fake_gnttab, fake_xfm;

/* ------------------------------------------------------------------ */
/* Files of the simulated host                                         */

static const char *
sim_root(void)
{
	static char	*root;
	const char	*e;
	size_t		 n;

	if (root == NULL) {
		e = getenv("XSC_SIM_ROOT");
		if (e == NULL || *e == '\0') {
			WARN("XSC_SIM_ROOT is not set\n");
			return NULL;
		}
		root = strdup(e);
		n = strlen(root);
		while (n > 1 && root[n - 1] == '/')
			root[--n] = '\0';
	}
	return root;
}

static int (*real_open_fn)(const char *, int, ...);

/* open(2) without our redirection. */
static int
raw_open(const char *path, int flags)
{
	if (real_open_fn == NULL)
		real_open_fn = (int (*)(const char *, int, ...))
		    dlsym(RTLD_NEXT, "open");
	return real_open_fn(path, flags | O_CLOEXEC);
}

/* DIR/domains/<domid>/state: ST_* (ST_NONE: no such domain, or a
 * directory without readable state, i.e. a domain being made or gone).
 * Domain 0 always exists and always runs. */
static int
dom_state(uint32_t domid)
{
	const char	*root = sim_root();
	char		 path[PATH_MAX], buf[16];
	ssize_t		 n;
	int		 fd;

	if (domid == 0)
		return ST_RUNNING;
	if (root == NULL || domid >= DOMID_XEN_SIM)
		return ST_NONE;
	snprintf(path, sizeof path, "%s/domains/%u/state", root, domid);
	if ((fd = raw_open(path, O_RDONLY)) < 0)
		return ST_NONE;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return ST_NONE;
	buf[n] = '\0';
	if (strncmp(buf, "dying", 5) == 0)
		return ST_DYING;
	if (strncmp(buf, "shutdown", 8) == 0)
		return ST_SHUTDOWN;
	return ST_RUNNING;
}

/*
 * Sorted domids of DIR/domains, cached.  xenconsoled walks the domains one
 * xc_domain_getinfo(next, 1) at a time; rescanning 10,000 entries per call
 * would be quadratic.  The cache is trusted while the directory's mtime is
 * unchanged and the scan began more than 50 ms after that mtime (file
 * times come from a coarse clock: a change within the same tick as an
 * earlier one could keep the mtime).
 */
static uint32_t		*dl_ids;
static size_t		 dl_n, dl_cap;
static struct timespec	 dl_mtime;
static int		 dl_valid;
static pthread_mutex_t	 dl_lock = PTHREAD_MUTEX_INITIALIZER;

static int
ids_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
parse_domid(const char *s, uint32_t *out)
{
	char		*end;
	unsigned long	 v;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v >= DOMID_XEN_SIM)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Refresh the listing if needed; call with dl_lock held. */
static void
dl_refresh(void)
{
	const char	*root = sim_root();
	char		 path[PATH_MAX];
	struct timespec	 now;
	struct stat	 st;
	struct dirent	*de;
	uint32_t	 id;
	DIR		*d;
	int		 have0 = 0;

	if (root == NULL)
		return;
	snprintf(path, sizeof path, "%s/domains", root);
	clock_gettime(CLOCK_REALTIME, &now);
	if (stat(path, &st) != 0) {
		dl_n = 0;
		dl_valid = 0;
		goto dom0;
	}
	if (dl_valid && st.st_mtim.tv_sec == dl_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == dl_mtime.tv_nsec)
		return;
	dl_n = 0;
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (parse_domid(de->d_name, &id) != 0)
				continue;
			if (dl_n == dl_cap) {
				dl_cap = dl_cap ? dl_cap * 2 : 256;
				dl_ids = realloc(dl_ids, dl_cap * sizeof *dl_ids);
				if (dl_ids == NULL)
					abort();
			}
			if (id == 0)
				have0 = 1;
			dl_ids[dl_n++] = id;
		}
		closedir(d);
	}
	dl_mtime = st.st_mtim;
	/* Trust it next time only if no later change can share the mtime. */
	dl_valid = (now.tv_sec - st.st_mtim.tv_sec) * 1000000000LL +
	    (now.tv_nsec - st.st_mtim.tv_nsec) > 50000000LL;
dom0:
	if (!have0) {
		if (dl_n == dl_cap) {
			dl_cap = dl_cap ? dl_cap * 2 : 256;
			dl_ids = realloc(dl_ids, dl_cap * sizeof *dl_ids);
			if (dl_ids == NULL)
				abort();
		}
		dl_ids[dl_n++] = 0;
	}
	qsort(dl_ids, dl_n, sizeof *dl_ids, ids_cmp);
}

/*
 * The existing domains with domid >= first, in order, at most max: the
 * semantics of XEN_SYSCTL_getdomaininfolist.  ids[] and st[] get max
 * entries.
 */
static unsigned
list_domains(uint32_t first, unsigned max, uint32_t *ids, int *st)
{
	unsigned	n = 0;
	size_t		lo, hi, mid;
	int		s;

	if (max == 0)
		return 0;
	/* The common call: one given domain (C xenstored, oxenstored). */
	if ((s = dom_state(first)) != ST_NONE) {
		ids[0] = first;
		st[0] = s;
		n = 1;
		if (max == 1)
			return 1;
		first++;
	}
	pthread_mutex_lock(&dl_lock);
	dl_refresh();
	lo = 0;
	hi = dl_n;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (dl_ids[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < dl_n && n < max; lo++) {
		if ((s = dom_state(dl_ids[lo])) == ST_NONE)
			continue;
		ids[n] = dl_ids[lo];
		st[n] = s;
		n++;
	}
	pthread_mutex_unlock(&dl_lock);
	return n;
}

/* Map DIR/domains/<domid>/gnttab/<ref>, which must be one page. */
static void *
map_page(uint32_t domid, uint32_t ref, int prot)
{
	const char	*root = sim_root();
	char		 path[PATH_MAX];
	struct stat	 st;
	void		*p;
	int		 fd, e;

	if (root == NULL) {
		errno = ENOENT;
		return NULL;
	}
	snprintf(path, sizeof path, "%s/domains/%u/gnttab/%u", root, domid,
	    ref);
	fd = raw_open(path, (prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		LOG("map %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size != PAGE) {
		WARN("%s is not a %d-byte page\n", path, PAGE);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, PAGE, prot, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return NULL;
	}
	LOG("map dom%u gnttab/%u -> %p\n", domid, ref, p);
	return p;
}

/* ------------------------------------------------------------------ */
/* libxenctrl                                                          */

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild,
    unsigned flags)
{
	(void)logger; (void)dombuild; (void)flags;
	LOG("xc_interface_open\n");
	return (xc_interface *)&fake_xc;
}

int
xc_interface_close(xc_interface *xch)
{
	(void)xch;
	return 0;
}

const xc_error *
xc_get_last_error(xc_interface *xch)
{
	static xc_error none;

	(void)xch;
	none.code = XC_ERROR_NONE;
	return &none;
}

void
xc_clear_last_error(xc_interface *xch)
{
	(void)xch;
}

int
xc_domain_getinfo(xc_interface *xch, uint32_t first, unsigned int max,
    xc_dominfo_t *info)
{
	uint32_t	ids[64], first0 = first;
	int		st[64];
	unsigned	n, i, done = 0;

	(void)xch;
	/* In chunks, so that a large max needs no allocation. */
	while (done < max) {
		n = list_domains(first, max - done > 64 ? 64 : max - done,
		    ids, st);
		for (i = 0; i < n; i++) {
			xc_dominfo_t *d = &info[done + i];

			memset(d, 0, sizeof *d);
			d->domid = ids[i];
			d->running = st[i] == ST_RUNNING;
			d->blocked = 0;
			d->shutdown = st[i] == ST_SHUTDOWN;
			d->shutdown_reason = SHUTDOWN_poweroff;
			d->dying = st[i] == ST_DYING;
			d->crashed = 0;
			d->nr_online_vcpus = 1;
			d->max_vcpu_id = 0;
		}
		done += n;
		if (n == 0 || n < 64)
			break;
		first = ids[n - 1] + 1;
	}
	LOG("xc_domain_getinfo(%u, %u) -> %u\n", first0, max, done);
	return (int)done;
}

int
xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max,
    xc_domaininfo_t *info)
{
	uint32_t	ids[64], first0 = first;
	int		st[64];
	unsigned	n, i, done = 0;

	(void)xch;
	while (done < max) {
		n = list_domains(first, max - done > 64 ? 64 : max - done,
		    ids, st);
		for (i = 0; i < n; i++) {
			xc_domaininfo_t *d = &info[done + i];

			memset(d, 0, sizeof *d);
			d->domain = (domid_t)ids[i];
			if (st[i] == ST_RUNNING)
				d->flags |= XEN_DOMINF_running;
			if (st[i] == ST_SHUTDOWN)
				d->flags |= XEN_DOMINF_shutdown |
				    (SHUTDOWN_poweroff <<
				    XEN_DOMINF_shutdownshift);
			if (st[i] == ST_DYING)
				d->flags |= XEN_DOMINF_dying;
			d->nr_online_vcpus = 1;
			d->max_vcpu_id = 0;
		}
		done += n;
		if (n == 0 || n < 64)
			break;
		first = ids[n - 1] + 1;
	}
	LOG("xc_domain_getinfolist(%u, %u) -> %u\n", first0, max, done);
	return (int)done;
}

/* oxenstored maps the store page by its mfn (XS_INTRODUCE's, 0 in the
 * sim): the store page is gnttab/1 whatever the number. */
void *
xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
    unsigned long mfn)
{
	(void)xch;
	LOG("xc_map_foreign_range(dom%u, %d, mfn %lu)\n", dom, size, mfn);
	if (size != PAGE) {
		errno = EINVAL;
		return NULL;
	}
	return map_page(dom, GNTTAB_RESERVED_XENSTORE, prot);
}

/* Hypervisor console: DIR/hv-console from *pindex on. */
int
xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars,
    int clear, int incremental, uint32_t *pindex)
{
	const char	*root = sim_root();
	char		 path[PATH_MAX];
	struct stat	 st;
	uint32_t	 from = (incremental && pindex) ? *pindex : 0;
	ssize_t		 n;
	int		 fd;

	(void)xch; (void)clear;
	if (root == NULL) {
		*pnr_chars = 0;
		return 0;
	}
	snprintf(path, sizeof path, "%s/hv-console", root);
	if ((fd = raw_open(path, O_RDONLY)) < 0) {
		*pnr_chars = 0;
		return 0;
	}
	/* A file that shrank was replaced: read it again from the start. */
	if (fstat(fd, &st) == 0 && (off_t)from > st.st_size)
		from = 0;
	n = pread(fd, buffer, *pnr_chars, from);
	close(fd);
	if (n < 0)
		n = 0;
	*pnr_chars = (unsigned)n;
	if (pindex)
		*pindex = from + (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* libxengnttab and libxenforeignmemory                                */

xengnttab_handle *
xengnttab_open(xentoollog_logger *logger, unsigned open_flags)
{
	(void)logger; (void)open_flags;
	LOG("xengnttab_open\n");
	return (xengnttab_handle *)&fake_gnttab;
}

int
xengnttab_close(xengnttab_handle *xgt)
{
	(void)xgt;
	return 0;
}

int
xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	(void)xgt; (void)nr_grants;
	return 0;
}

void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
    uint32_t ref, int prot)
{
	(void)xgt;
	return map_page(domid, ref, prot);
}

int
xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	(void)xgt;
	return munmap(start_address, (size_t)count * PAGE);
}

xenforeignmemory_handle *
xenforeignmemory_open(xentoollog_logger *logger, unsigned open_flags)
{
	(void)logger; (void)open_flags;
	return (xenforeignmemory_handle *)&fake_xfm;
}

int
xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	(void)fmem;
	return 0;
}

/* Only xenconsoled calls it, for a console page it could not map by
 * grant: the console page is gnttab/0. */
void *
xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
    size_t pages, const xen_pfn_t arr[], int err[])
{
	void	*p;

	(void)fmem;
	LOG("xenforeignmemory_map(dom%u, %zu pages)\n", dom, pages);
	if (pages != 1) {
		errno = EINVAL;
		return NULL;
	}
	(void)arr;
	p = map_page(dom, GNTTAB_RESERVED_CONSOLE, prot);
	if (err)
		err[0] = p ? 0 : -errno;
	return p;
}

int
xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr,
    size_t pages)
{
	(void)fmem;
	return munmap(addr, pages * PAGE);
}

/* ------------------------------------------------------------------ */
/* libxenevtchn                                                        */

struct xenevtchn_handle {
	int			 fd;	/* what xenevtchn_fd() returns */
	int			 peer;	/* thread mode: write end of the pipe */
	uint32_t		 fallback; /* first interdomain port, or 0 */
	struct xenevtchn_handle	*next;
};

#define K_FREE		0
#define K_INTER		1
#define K_VIRQ		2

struct port {
	uint32_t		 domid, rport;	/* remote end; virq: rport */
	uint32_t		 hnext;		/* hash chain */
	uint8_t			 kind;
	struct xenevtchn_handle	*h;
};

static pthread_mutex_t	 ev_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 master = -1;	/* bound socket */
static int		 threaded;
static pthread_t	 demux_thread;
static struct xenevtchn_handle *handles;
static char		 master_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static struct port	*ports;		/* by local port; 0 is never used */
static uint32_t		 ports_cap, next_local = 1;
static uint32_t		*free_ports;
static size_t		 nfree, free_cap;
static uint32_t		*buckets;	/* (domid, rport) -> local port */
static uint32_t		 nbuckets, nbound;
static uint32_t		 virq_port[NVIRQ];

static uint32_t
hash_pair(uint32_t domid, uint32_t rport)
{
	uint64_t k = ((uint64_t)domid << 32 | rport) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(k >> 32);
}

static void
hash_insert(uint32_t lp)
{
	uint32_t b = hash_pair(ports[lp].domid, ports[lp].rport) &
	    (nbuckets - 1);

	ports[lp].hnext = buckets[b];
	buckets[b] = lp;
}

static void
hash_grow(void)
{
	uint32_t	lp;

	free(buckets);
	nbuckets = nbuckets ? nbuckets * 2 : 1024;
	buckets = calloc(nbuckets, sizeof *buckets);
	if (buckets == NULL)
		abort();
	for (lp = 1; lp < next_local; lp++)
		if (ports[lp].kind == K_INTER)
			hash_insert(lp);
}

static uint32_t
lookup_pair(uint32_t domid, uint32_t rport)
{
	uint32_t	lp;

	if (domid == DOMID_XEN_SIM)
		return rport < NVIRQ ? virq_port[rport] : 0;
	if (nbuckets == 0)
		return 0;
	for (lp = buckets[hash_pair(domid, rport) & (nbuckets - 1)]; lp != 0;
	    lp = ports[lp].hnext)
		if (ports[lp].domid == domid && ports[lp].rport == rport)
			return lp;
	return 0;
}

/* A free local port; call with ev_lock held. */
static uint32_t
alloc_port(void)
{
	if (nfree > 0)
		return free_ports[--nfree];
	if (next_local >= ports_cap) {
		ports_cap = ports_cap ? ports_cap * 2 : 1024;
		ports = realloc(ports, ports_cap * sizeof *ports);
		if (ports == NULL)
			abort();
	}
	memset(&ports[next_local], 0, sizeof ports[0]);
	return next_local++;
}

/* Forget a local port; call with ev_lock held. */
static void
release_port(uint32_t lp)
{
	struct port	*p = &ports[lp];
	uint32_t	*pp, l;

	if (p->kind == K_INTER) {
		for (pp = &buckets[hash_pair(p->domid, p->rport) &
		    (nbuckets - 1)]; *pp != 0; pp = &ports[*pp].hnext)
			if (*pp == lp) {
				*pp = p->hnext;
				break;
			}
		nbound--;
		if (p->h->fallback == lp) {
			p->h->fallback = 0;
			for (l = 1; l < next_local; l++)
				if (l != lp && ports[l].kind == K_INTER &&
				    ports[l].h == p->h) {
					p->h->fallback = l;
					break;
				}
		}
	} else if (p->kind == K_VIRQ)
		virq_port[p->rport] = 0;
	memset(p, 0, sizeof *p);
	if (nfree == free_cap) {
		free_cap = free_cap ? free_cap * 2 : 1024;
		free_ports = realloc(free_ports, free_cap * sizeof *free_ports);
		if (free_ports == NULL)
			abort();
	}
	free_ports[nfree++] = lp;
}

/* Bind the sim's event socket; -1 with errno on failure. */
static int
open_master(int cloexec)
{
	const char		*root = sim_root(), *over;
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX];
	int			 fd, probe, size = 4 << 20;

	if (root == NULL) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof path, "%s/domains", root);
	mkdir(root, 0755);
	mkdir(path, 0755);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	over = getenv("XSC_SIM_EVTCHN_SOCK");
	if (over != NULL && *over != '\0')
		snprintf(path, sizeof path, "%s", over);
	else
		snprintf(path, sizeof path, "%s/evtchn.sock", root);
	/* The guests' sockets must fit too, for xenevtchn_notify(). */
	if (strlen(path) >= sizeof sun.sun_path ||
	    strlen(root) + sizeof "/domains/32752/evtchn.sock" >
	    sizeof sun.sun_path) {
		WARN("sim root %s: socket paths too long for sun_path\n",
		    root);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* A live owner answers connect(); a stale socket refuses it. */
	probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(probe);
			WARN("%s is bound by a running process\n",
			    sun.sun_path);
			errno = EADDRINUSE;
			return -1;
		}
		close(probe);
	}
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
	    (cloexec ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -1;
	/* Room for bursts of events from thousands of guests. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		int e = errno;

		WARN("bind %s: %s\n", sun.sun_path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(master_path, sizeof master_path, "%s", sun.sun_path);
	LOG("bound %s (fd %d)\n", master_path, fd);
	return fd;
}

/* Decode one datagram to a bound local port (0: not ours / malformed). */
static uint32_t
decode(const uint32_t *msg, ssize_t n)
{
	if (n != 8)
		return 0;
	return lookup_pair(le32toh(msg[0]), le32toh(msg[1]));
}

/* Thread mode: route datagrams to the handles' pipes. */
static void *
demux(void *arg)
{
	struct pollfd	pfd;
	uint32_t	msg[3], lp;
	ssize_t		n;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&ev_lock);
		pfd.fd = master;
		pthread_mutex_unlock(&ev_lock);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) < 0)
			continue;
		while ((n = recv(pfd.fd, msg, sizeof msg, MSG_DONTWAIT)) >= 0) {
			pthread_mutex_lock(&ev_lock);
			lp = decode(msg, n);
			if (lp != 0 && ports[lp].h->peer >= 0 &&
			    write(ports[lp].h->peer, &lp, sizeof lp) < 0)
				LOG("event for port %u dropped: %s\n", lp,
				    strerror(errno));
			pthread_mutex_unlock(&ev_lock);
		}
	}
	return NULL;
}

/* A pipe for a handle in thread mode: p[0] read end (non-blocking). */
static int
handle_pipe(int p[2])
{
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	return 0;
}

/* Switch from one direct handle to the demultiplexing thread; call with
 * ev_lock held. */
static int
go_threaded(int cloexec_owner)
{
	struct xenevtchn_handle	*h = handles;
	int			 p[2], m;

	if ((m = fcntl(master, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	if (h != NULL) {
		/* The owner keeps its descriptor number: put a pipe there. */
		if (handle_pipe(p) != 0) {
			close(m);
			return -1;
		}
		if (dup3(p[0], master, cloexec_owner ? O_CLOEXEC : 0) < 0) {
			close(p[0]); close(p[1]); close(m);
			return -1;
		}
		fcntl(master, F_SETFL, O_NONBLOCK);
		close(p[0]);
		h->peer = p[1];
	} else
		close(master);
	master = m;
	if (pthread_create(&demux_thread, NULL, demux, NULL) != 0) {
		WARN("cannot start the event thread\n");
		return -1;
	}
	pthread_detach(demux_thread);
	threaded = 1;
	LOG("event thread started\n");
	return 0;
}

static int owner_cloexec = 1;

xenevtchn_handle *
xenevtchn_open(xentoollog_logger *logger, unsigned open_flags)
{
	struct xenevtchn_handle	*h;
	int			 cloexec = !(open_flags & XENEVTCHN_NO_CLOEXEC);
	int			 p[2];

	(void)logger;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return NULL;
	h->peer = -1;
	pthread_mutex_lock(&ev_lock);
	if (master < 0 && !threaded) {
		/* The first handle: the socket itself. */
		if ((master = open_master(cloexec)) < 0) {
			int e = errno;

			pthread_mutex_unlock(&ev_lock);
			free(h);
			errno = e;
			return NULL;
		}
		owner_cloexec = cloexec;
		h->fd = master;
	} else {
		if (!threaded && go_threaded(owner_cloexec) != 0)
			goto fail;
		if (handle_pipe(p) != 0)
			goto fail;
		if (!cloexec)
			fcntl(p[0], F_SETFD, 0);
		h->fd = p[0];
		h->peer = p[1];
	}
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&ev_lock);
	LOG("xenevtchn_open -> fd %d%s\n", h->fd, threaded ? " (thread)" : "");
	return h;
fail:
	pthread_mutex_unlock(&ev_lock);
	free(h);
	return NULL;
}

/* Live update hands the inherited socket back; the bindings are gone. */
xenevtchn_handle *
xenevtchn_fdopen(xentoollog_logger *logger, int fd, unsigned open_flags)
{
	struct xenevtchn_handle	*h;

	(void)logger; (void)open_flags;
	pthread_mutex_lock(&ev_lock);
	if (master >= 0 || threaded || (h = calloc(1, sizeof *h)) == NULL) {
		pthread_mutex_unlock(&ev_lock);
		errno = EBUSY;
		return NULL;
	}
	master = h->fd = fd;
	h->peer = -1;
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&ev_lock);
	return h;
}

int
xenevtchn_close(xenevtchn_handle *h)
{
	struct xenevtchn_handle	**pp;
	uint32_t		 lp;

	if (h == NULL)
		return 0;
	pthread_mutex_lock(&ev_lock);
	h->fallback = 0;	/* no need to look for another one */
	for (lp = 1; lp < next_local; lp++)
		if (ports[lp].kind != K_FREE && ports[lp].h == h)
			release_port(lp);
	for (pp = &handles; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	if (!threaded) {
		/* The direct owner: give the socket up. */
		close(master);
		unlink(master_path);
		master = -1;
	} else {
		close(h->fd);
		close(h->peer);
	}
	pthread_mutex_unlock(&ev_lock);
	free(h);
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
    evtchn_port_t remote_port)
{
	uint32_t	lp;

	if (domid >= DOMID_XEN_SIM || dom_state(domid) == ST_NONE) {
		LOG("bind_interdomain(%u, %u): no such domain\n", domid,
		    remote_port);
		errno = ESRCH;
		return -1;
	}
	pthread_mutex_lock(&ev_lock);
	if (lookup_pair(domid, remote_port) != 0) {
		/* Xen: the remote port is not an unbound one any more. */
		pthread_mutex_unlock(&ev_lock);
		errno = EINVAL;
		return -1;
	}
	lp = alloc_port();
	ports[lp].kind = K_INTER;
	ports[lp].domid = domid;
	ports[lp].rport = remote_port;
	ports[lp].h = h;
	if (++nbound > nbuckets)
		hash_grow();
	else
		hash_insert(lp);
	if (h->fallback == 0)
		h->fallback = lp;
	pthread_mutex_unlock(&ev_lock);
	LOG("bind_interdomain(%u, %u) -> %u\n", domid, remote_port, lp);
	return (xenevtchn_port_or_error_t)lp;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	uint32_t	lp;

	pthread_mutex_lock(&ev_lock);
	if (virq >= NVIRQ || virq_port[virq] != 0) {
		pthread_mutex_unlock(&ev_lock);
		errno = virq >= NVIRQ ? EINVAL : EEXIST;
		return -1;
	}
	lp = alloc_port();
	ports[lp].kind = K_VIRQ;
	ports[lp].domid = DOMID_XEN_SIM;
	ports[lp].rport = virq;
	ports[lp].h = h;
	virq_port[virq] = lp;
	pthread_mutex_unlock(&ev_lock);
	LOG("bind_virq(%u) -> %u\n", virq, lp);
	return (xenevtchn_port_or_error_t)lp;
}

int
xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	pthread_mutex_lock(&ev_lock);
	if (port == 0 || port >= next_local || ports[port].kind == K_FREE ||
	    ports[port].h != h) {
		pthread_mutex_unlock(&ev_lock);
		errno = EINVAL;
		return -1;
	}
	release_port(port);
	pthread_mutex_unlock(&ev_lock);
	LOG("unbind(%u)\n", port);
	return 0;
}

int
xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h; (void)port;
	return 0;
}

/* Send {domid, remote port} to the guest; a guest that is not listening
 * (no socket, refused, full) just misses this hint. */
int
xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	static int		 sendfd = -1;
	const char		*root = sim_root();
	struct sockaddr_un	 sun;
	uint32_t		 msg[2], domid;
	int			 fd;

	(void)h;
	pthread_mutex_lock(&ev_lock);
	if (port == 0 || port >= next_local || ports[port].kind == K_FREE) {
		pthread_mutex_unlock(&ev_lock);
		errno = EINVAL;
		return -1;
	}
	if (ports[port].kind != K_INTER) {
		pthread_mutex_unlock(&ev_lock);
		return 0;
	}
	domid = ports[port].domid;
	msg[0] = htole32(domid);
	msg[1] = htole32(ports[port].rport);
	if ((fd = master) < 0) {
		if (sendfd < 0)
			sendfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
		fd = sendfd;
	}
	pthread_mutex_unlock(&ev_lock);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%s/domains/%u/evtchn.sock", root, domid);
	if (sendto(fd, msg, sizeof msg, MSG_DONTWAIT, (struct sockaddr *)&sun,
	    sizeof sun) < 0)
		LOG("notify dom%u port %u: %s\n", domid, le32toh(msg[1]),
		    strerror(errno));
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t	msg[3], lp;
	ssize_t		n;
	int		skipped = 0;

	if (h->peer >= 0) {
		/* Thread mode: the thread wrote our local ports. */
		do
			n = read(h->fd, &lp, sizeof lp);
		while (n < 0 && errno == EINTR);
		if (n != sizeof lp) {
			errno = EAGAIN;
			return -1;
		}
		LOG("pending -> %u\n", lp);
		return (xenevtchn_port_or_error_t)lp;
	}
	for (;;) {
		n = recv(h->fd, msg, sizeof msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (skipped) {
				pthread_mutex_lock(&ev_lock);
				lp = h->fallback;
				pthread_mutex_unlock(&ev_lock);
				if (lp != 0) {
					LOG("pending -> %u (spurious)\n", lp);
					return (xenevtchn_port_or_error_t)lp;
				}
			}
			errno = EAGAIN;
			return -1;
		}
		pthread_mutex_lock(&ev_lock);
		lp = decode(msg, n);
		if (lp != 0 && ports[lp].h != h)
			lp = 0;
		pthread_mutex_unlock(&ev_lock);
		if (lp != 0) {
			LOG("pending -> %u\n", lp);
			return (xenevtchn_port_or_error_t)lp;
		}
		LOG("pending: dropped a datagram (%zd bytes) for no binding\n",
		    n);
		skipped++;
	}
}

/* xenconsoled: is its local port still bound? */
int
xc_evtchn_status(xc_interface *xch, xc_evtchn_status_t *status)
{
	uint32_t	lp = status->port;

	(void)xch;
	pthread_mutex_lock(&ev_lock);
	status->vcpu = 0;
	if (lp == 0 || lp >= next_local || ports[lp].kind == K_FREE)
		status->status = EVTCHNSTAT_closed;
	else if (ports[lp].kind == K_VIRQ) {
		status->status = EVTCHNSTAT_virq;
		status->u.virq = ports[lp].rport;
	} else {
		status->status = EVTCHNSTAT_interdomain;
		status->u.interdomain.dom = (domid_t)ports[lp].domid;
		status->u.interdomain.port = ports[lp].rport;
	}
	pthread_mutex_unlock(&ev_lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* dom0's own ring (C xenstored): /proc/xen/xsd_{port,kva}             */

static const char *
xsd_dir(void)
{
	static char	 made[PATH_MAX];
	const char	*d = getenv("XSSHIM_DIR"), *tmp;
	char		 path[PATH_MAX + 16];
	static const char zero[PAGE];
	int		 fd;

	if (d != NULL && *d != '\0')
		return d;
	if (made[0] != '\0')
		return made;
	tmp = getenv("TMPDIR");
	snprintf(made, sizeof made, "%s/sim-shim-xsd.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(made) == NULL) {
		made[0] = '\0';
		return NULL;
	}
	snprintf(path, sizeof path, "%s/xsd_port", made);
	if ((fd = raw_open(path, O_WRONLY | O_CREAT | O_TRUNC)) >= 0) {
		if (write(fd, "1", 1) != 1)
			WARN("write %s failed\n", path);
		close(fd);
	}
	snprintf(path, sizeof path, "%s/xsd_kva", made);
	if ((fd = raw_open(path, O_WRONLY | O_CREAT | O_TRUNC)) >= 0) {
		if (write(fd, zero, sizeof zero) != (ssize_t)sizeof zero)
			WARN("write %s failed\n", path);
		close(fd);
	}
	return made;
}

static const char *
redirect(const char *path, char *buf, size_t size)
{
	const char	*d, *name;

	if (strcmp(path, "/proc/xen/xsd_port") == 0)
		name = "xsd_port";
	else if (strcmp(path, "/proc/xen/xsd_kva") == 0)
		name = "xsd_kva";
	else
		return path;
	if ((d = xsd_dir()) == NULL)
		return path;
	snprintf(buf, size, "%s/%s", d, name);
	LOG("open(%s) -> %s\n", path, buf);
	return buf;
}

static int
do_open(const char *sym, const char *path, int flags, va_list ap)
{
	int		(*real)(const char *, int, ...);
	char		 buf[PATH_MAX];
	mode_t		 mode = 0;

	real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	if (flags & (O_CREAT | __O_TMPFILE))
		mode = va_arg(ap, mode_t);
	return real(redirect(path, buf, sizeof buf), flags, mode);
}

int
open(const char *path, int flags, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, flags);
	r = do_open("open", path, flags, ap);
	va_end(ap);
	return r;
}

int
open64(const char *path, int flags, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, flags);
	r = do_open("open64", path, flags, ap);
	va_end(ap);
	return r;
}

/* ------------------------------------------------------------------ */
/* oxenstored raises RLIMIT_NOFILE beyond what a container allows       */

int
setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	int		(*real)(__rlimit_resource_t, const struct rlimit *);
	struct rlimit	 cur, x = *rl;

	real = (int (*)(__rlimit_resource_t, const struct rlimit *))
	    dlsym(RTLD_NEXT, "setrlimit");
	if (res == RLIMIT_NOFILE && getrlimit(res, &cur) == 0) {
		if (x.rlim_max > cur.rlim_max)
			x.rlim_max = cur.rlim_max;
		if (x.rlim_cur > x.rlim_max)
			x.rlim_cur = x.rlim_max;
		LOG("setrlimit(NOFILE) clamped to %lu\n",
		    (unsigned long)x.rlim_max);
	}
	return real(res, &x);
}

int
setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	return setrlimit(res, (const struct rlimit *)rl);
}
