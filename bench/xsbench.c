/*
 * xsbench: load driver for a xenstore daemon, speaking the raw wire protocol
 * over its Unix socket.
 *
 * Throughput mode: C clients, one connection each, every client doing
 * synchronous round trips (one request outstanding) under its own subtree
 * /bench/c<N>, for each op in turn: read, write, directory, txn.
 *
 * Fill mode (--fill N): lay out N nodes like a real host (N/150 domains of
 * ~150 nodes under /local/domain/<id>), with pipelined writes, then measure
 * read and write latency on random nodes of that tree.
 *
 * One line per measurement on stdout, starting with "RESULT".
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define XSB_KEYS	64	/* leaf nodes per client for read and write */
#define XSB_DIRENTS	16	/* children of the node listed by directory */
#define XSB_TXN_WRITES	5	/* writes inside each transaction */
#define XSB_MSG_MAX	(sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
#define XSB_FILL_DOMAIN	150	/* nodes per simulated domain */

enum xsb_op {
	XSB_READ,
	XSB_WRITE,
	XSB_DIRECTORY,
	XSB_TXN,
	XSB_NOPS
};

static const char *xsb_op_names[XSB_NOPS] = {
	"read", "write", "directory", "txn"
};

/* One node of the per-domain template; '@' in a value becomes the domid. */
struct xsb_tnode {
	const char	*path;
	const char	*value;
};

/*
 * What libxl, the backends and a guest write under /local/domain/<id> for a
 * PV guest with two disks and two network interfaces, plus guest agent data.
 * Parents come before their children; exactly XSB_FILL_DOMAIN entries.
 */
static const struct xsb_tnode xsb_template[] = {
	{ "", "" },
	{ "vm", "/vm/00000000-0000-0000-0000-00000000@" },
	{ "name", "guest-@" },
	{ "domid", "@" },
	{ "cpu", "" },
	{ "cpu/0", "" },
	{ "cpu/0/availability", "online" },
	{ "cpu/1", "" },
	{ "cpu/1/availability", "online" },
	{ "memory", "" },
	{ "memory/static-max", "2097152" },
	{ "memory/target", "2097153" },
	{ "memory/videoram", "-1" },
	{ "control", "" },
	{ "control/shutdown", "" },
	{ "control/feature-poweroff", "1" },
	{ "control/feature-reboot", "1" },
	{ "control/feature-suspend", "1" },
	{ "control/feature-s3", "1" },
	{ "control/feature-s4", "1" },
	{ "control/sysrq", "" },
	{ "control/platform-feature-multiprocessor-suspend", "1" },
	{ "control/platform-feature-xs_reset_watches", "1" },
	{ "data", "" },
	{ "data/updated", "1" },
	{ "data/os_name", "Debian GNU/Linux 12 (bookworm)" },
	{ "data/os_uname", "6.1.0-28-amd64" },
	{ "data/os_distro", "debian" },
	{ "data/os_majorver", "12" },
	{ "data/os_minorver", "8" },
	{ "data/meminfo_total", "2030592" },
	{ "data/meminfo_free", "1519364" },
	{ "attr", "" },
	{ "attr/PVAddons", "" },
	{ "attr/PVAddons/MajorVersion", "9" },
	{ "attr/PVAddons/MinorVersion", "3" },
	{ "attr/PVAddons/MicroVersion", "1" },
	{ "attr/PVAddons/BuildVersion", "0" },
	{ "attr/PVAddons/Installed", "1" },
	{ "attr/vif", "" },
	{ "attr/vif/0", "" },
	{ "attr/vif/0/ipv4", "" },
	{ "attr/vif/0/ipv4/0", "10.0.@.2" },
	{ "attr/vif/0/ipv6", "" },
	{ "attr/vif/0/ipv6/0", "fe80::216:3eff:fe00:@" },
	{ "drivers", "" },
	{ "drivers/0", "Linux 6.1.0-28-amd64" },
	{ "feature", "" },
	{ "error", "" },
	{ "image", "" },
	{ "image/device-model-pid", "0" },
	{ "store", "" },
	{ "store/port", "1" },
	{ "store/ring-ref", "1044476" },
	{ "console", "" },
	{ "console/backend", "/local/domain/0/backend/console/@/0" },
	{ "console/backend-id", "0" },
	{ "console/limit", "1048576" },
	{ "console/type", "xenconsoled" },
	{ "console/output", "pty" },
	{ "console/tty", "/dev/pts/@" },
	{ "console/port", "2" },
	{ "console/ring-ref", "1044475" },
	{ "serial", "" },
	{ "serial/0", "" },
	{ "serial/0/tty", "/dev/pts/@" },
	{ "device", "" },
	{ "device/suspend", "" },
	{ "device/suspend/event-channel", "" },
	{ "device/vbd", "" },
	{ "device/vbd/51712", "" },
	{ "device/vbd/51712/backend", "/local/domain/0/backend/vbd/@/51712" },
	{ "device/vbd/51712/backend-id", "0" },
	{ "device/vbd/51712/state", "4" },
	{ "device/vbd/51712/virtual-device", "51712" },
	{ "device/vbd/51712/device-type", "disk" },
	{ "device/vbd/51712/protocol", "x86_64-abi" },
	{ "device/vbd/51712/ring-ref", "8" },
	{ "device/vbd/51712/event-channel", "4" },
	{ "device/vbd/51712/feature-persistent", "1" },
	{ "device/vbd/51712/multi-queue-num-queues", "2" },
	{ "device/vbd/51728", "" },
	{ "device/vbd/51728/backend", "/local/domain/0/backend/vbd/@/51728" },
	{ "device/vbd/51728/backend-id", "0" },
	{ "device/vbd/51728/state", "4" },
	{ "device/vbd/51728/virtual-device", "51728" },
	{ "device/vbd/51728/device-type", "disk" },
	{ "device/vbd/51728/protocol", "x86_64-abi" },
	{ "device/vbd/51728/ring-ref", "9" },
	{ "device/vbd/51728/event-channel", "5" },
	{ "device/vbd/51728/feature-persistent", "1" },
	{ "device/vbd/51728/multi-queue-num-queues", "2" },
	{ "device/vif", "" },
	{ "device/vif/0", "" },
	{ "device/vif/0/backend", "/local/domain/0/backend/vif/@/0" },
	{ "device/vif/0/backend-id", "0" },
	{ "device/vif/0/state", "4" },
	{ "device/vif/0/handle", "0" },
	{ "device/vif/0/mac", "00:16:3e:00:00:01" },
	{ "device/vif/0/mtu", "1500" },
	{ "device/vif/0/multi-queue-num-queues", "2" },
	{ "device/vif/0/queue-0", "" },
	{ "device/vif/0/queue-0/tx-ring-ref", "1280" },
	{ "device/vif/0/queue-0/rx-ring-ref", "1281" },
	{ "device/vif/0/queue-0/event-channel-tx", "6" },
	{ "device/vif/0/queue-0/event-channel-rx", "7" },
	{ "device/vif/0/queue-1", "" },
	{ "device/vif/0/queue-1/tx-ring-ref", "1282" },
	{ "device/vif/0/queue-1/rx-ring-ref", "1283" },
	{ "device/vif/0/queue-1/event-channel-tx", "8" },
	{ "device/vif/0/queue-1/event-channel-rx", "9" },
	{ "device/vif/0/request-rx-copy", "1" },
	{ "device/vif/0/feature-rx-notify", "1" },
	{ "device/vif/0/feature-sg", "1" },
	{ "device/vif/0/feature-gso-tcpv4", "1" },
	{ "device/vif/0/feature-gso-tcpv6", "1" },
	{ "device/vif/0/feature-ipv6-csum-offload", "1" },
	{ "device/vif/1", "" },
	{ "device/vif/1/backend", "/local/domain/0/backend/vif/@/1" },
	{ "device/vif/1/backend-id", "0" },
	{ "device/vif/1/state", "4" },
	{ "device/vif/1/handle", "1" },
	{ "device/vif/1/mac", "00:16:3e:00:00:02" },
	{ "device/vif/1/mtu", "1500" },
	{ "device/vif/1/multi-queue-num-queues", "2" },
	{ "device/vif/1/queue-0", "" },
	{ "device/vif/1/queue-0/tx-ring-ref", "1284" },
	{ "device/vif/1/queue-0/rx-ring-ref", "1285" },
	{ "device/vif/1/queue-0/event-channel-tx", "10" },
	{ "device/vif/1/queue-0/event-channel-rx", "11" },
	{ "device/vif/1/queue-1", "" },
	{ "device/vif/1/queue-1/tx-ring-ref", "1286" },
	{ "device/vif/1/queue-1/rx-ring-ref", "1287" },
	{ "device/vif/1/queue-1/event-channel-tx", "12" },
	{ "device/vif/1/queue-1/event-channel-rx", "13" },
	{ "device/vif/1/request-rx-copy", "1" },
	{ "device/vif/1/feature-rx-notify", "1" },
	{ "device/vif/1/feature-sg", "1" },
	{ "device/vif/1/feature-gso-tcpv4", "1" },
	{ "device/vif/1/feature-gso-tcpv6", "1" },
	{ "device/vif/1/feature-ipv6-csum-offload", "1" },
	{ "device/vkbd", "" },
	{ "device/vkbd/0", "" },
	{ "device/vkbd/0/backend", "/local/domain/0/backend/vkbd/@/0" },
	{ "device/vkbd/0/backend-id", "0" },
	{ "device/vkbd/0/state", "4" },
	{ "device/vkbd/0/page-ref", "1044474" },
	{ "device/vkbd/0/page-gref", "1290" },
	{ "device/vkbd/0/event-channel", "14" },
	{ "device/vkbd/0/request-abs-pointer", "1" },
};

_Static_assert(sizeof xsb_template / sizeof xsb_template[0] == XSB_FILL_DOMAIN,
    "the domain template must hold XSB_FILL_DOMAIN nodes");

/* Latency samples in nanoseconds. */
struct xsb_samples {
	uint64_t	*v;
	size_t		 n;
	size_t		 size;
};

/* Shape of the tree written by --fill, read back by the fill phases. */
struct xsb_tree {
	unsigned	 ndomains;	/* domids 1..ndomains */
	unsigned	 last;		/* entries in the last domain */
};

/* What a phase does and until when. */
struct xsb_phase {
	enum xsb_op		 op;
	const struct xsb_tree	*tree;	/* non-NULL: random nodes of the fill */
	uint64_t		 end;	/* CLOCK_MONOTONIC ns */
};

/* One client: a connection doing one round trip at a time. */
struct xsb_client {
	int			 fd;
	unsigned		 id;
	uint32_t		 req_id;
	uint64_t		 rng;
	const struct xsb_phase	*phase;

	uint64_t		 op_start;
	int			 step;	/* txn: 0 start, 1..5 write, 6 end */
	uint32_t		 tx_id;
	int			 done;

	char			 rbuf[XSB_MSG_MAX];
	size_t			 rlen;

	struct xsb_samples	 lat;
	uint64_t		 ops;
	uint64_t		 errors;
	uint64_t		 retries;
};

/* A thread running an epoll loop over a slice of the clients. */
struct xsb_worker {
	pthread_t		 thread;
	struct xsb_client	*clients;
	unsigned		 nclients;
};

/* Command line settings. */
struct xsb_opts {
	const char	*path;
	const char	*target;
	unsigned	 clients[16];
	unsigned	 nclients;
	double		 seconds;
	int		 ops[XSB_NOPS];
	unsigned	 threads;
	unsigned long	 fill;
	unsigned	 window;
	unsigned	 fill_conns;
	double		 fill_timeout;
	long		 pid;
};

/* A stream of requests pipelined on one connection. */
struct xsb_pipe {
	int		 fd;
	unsigned	 window;	/* most requests outstanding */
	uint64_t	 count;
	size_t		(*gen)(char *, uint32_t, uint64_t, void *);
	void		*arg;
	const int	*stop;		/* atomic; if set, send no more */
	uint64_t	 acked;		/* atomic; replies received */
	uint64_t	 errors;
};

/* One connection of the fill: domids index+1, index+1+nconns, ... */
struct xsb_filler {
	pthread_t		 thread;
	const char		*path;
	unsigned		 index;
	unsigned		 nconns;
	const struct xsb_tree	*tree;
	struct xsb_pipe		 pipe;
	uint64_t		 end;		/* when the last reply came */
	int			 finished;	/* atomic */
};

static void		 xsb_fatal(const char *, ...)
			     __attribute__((format(printf, 1, 2), noreturn));
static uint64_t		 xsb_now(void);
static uint64_t		 xsb_rand(uint64_t *);
static void		*xsb_realloc(void *, size_t);
static void		 xsb_samples_add(struct xsb_samples *, uint64_t);
static int		 xsb_cmp_u64(const void *, const void *);
static double		 xsb_percentile(const uint64_t *, size_t, double);
static int		 xsb_connect(const char *);
static size_t		 xsb_msg_build(char *, uint32_t, uint32_t, uint32_t,
			     const char *, const char *, size_t);
static void		 xsb_write_all(int, const char *, size_t);
static size_t		 xsb_expand(char *, size_t, const char *, unsigned);
static unsigned		 xsb_domain_entries(const struct xsb_tree *, unsigned);
static size_t		 xsb_fill_request(char *, uint32_t, unsigned,
			     unsigned);
static size_t		 xsb_fill_gen_request(char *, uint32_t, uint64_t,
			     void *);
static uint64_t		 xsb_filler_count(const struct xsb_filler *);
static void		*xsb_filler_main(void *);
static size_t		 xsb_client_path(struct xsb_client *, char *, size_t,
			     int);
static void		 xsb_client_send(struct xsb_client *);
static int		 xsb_client_reply(struct xsb_client *,
			     const struct xsd_sockmsg *, const char *);
static void		 xsb_client_input(struct xsb_client *);
static void		*xsb_worker_main(void *);
static double		 xsb_proc_cpu(long);
static void		 xsb_phase_run(const struct xsb_opts *,
			     struct xsb_client *, unsigned, enum xsb_op,
			     const struct xsb_tree *, const char *);
static void		 xsb_pipeline(struct xsb_pipe *);
static size_t		 xsb_prepare_request(char *, uint32_t, uint64_t,
			     void *);
static void		 xsb_prepare(const char *, unsigned, unsigned);
static long		 xsb_proc_kb(long, const char *);
static struct xsb_client *xsb_clients_open(const char *, unsigned);
static void		 xsb_clients_close(struct xsb_client *, unsigned);
static void		 xsb_run_throughput(const struct xsb_opts *);
static unsigned		 xsb_fill_complete(const struct xsb_filler *,
			     unsigned, unsigned);
static void		 xsb_run_fill(const struct xsb_opts *);
static void		 xsb_parse_clients(struct xsb_opts *, const char *);
static void		 xsb_parse_ops(struct xsb_opts *, const char *);
static void		 xsb_usage(void) __attribute__((noreturn));

/* Print a message and exit. */
static void
xsb_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "xsbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* Monotonic time in nanoseconds. */
static uint64_t
xsb_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Next number of a xorshift64* generator. */
static uint64_t
xsb_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

/* Resize memory or exit. */
static void *
xsb_realloc(void *p, size_t size)
{
	void	*np;

	if ((np = realloc(p, size)) == NULL)
		xsb_fatal("out of memory");
	return (np);
}

/* Record one latency sample. */
static void
xsb_samples_add(struct xsb_samples *s, uint64_t ns)
{
	if (s->n == s->size) {
		s->size = s->size == 0 ? 4096 : s->size * 2;
		s->v = xsb_realloc(s->v, s->size * sizeof *s->v);
	}
	s->v[s->n++] = ns;
}

/* Order two samples for qsort. */
static int
xsb_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double
xsb_percentile(const uint64_t *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return (0);
	i = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return ((double)v[i - 1] / 1000.0);
}

/* Connect to the daemon's socket. */
static int
xsb_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		xsb_fatal("socket path too long: %s", path);
	strcpy(sun.sun_path, path);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		xsb_fatal("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		xsb_fatal("connect %s: %s", path, strerror(errno));
	return (fd);
}

/* Build a request: path with its NUL, then vlen bytes of value if any. */
static size_t
xsb_msg_build(char *buf, uint32_t type, uint32_t req_id, uint32_t tx_id,
    const char *path, const char *value, size_t vlen)
{
	struct xsd_sockmsg	hdr;
	size_t			plen = strlen(path) + 1;

	if (plen + vlen > XENSTORE_PAYLOAD_MAX)
		xsb_fatal("request too long: %s", path);
	hdr.type = type;
	hdr.req_id = req_id;
	hdr.tx_id = tx_id;
	hdr.len = (uint32_t)(plen + vlen);
	memcpy(buf, &hdr, sizeof hdr);
	memcpy(buf + sizeof hdr, path, plen);
	if (vlen != 0)
		memcpy(buf + sizeof hdr + plen, value, vlen);
	return (sizeof hdr + plen + vlen);
}

/* Write a whole buffer to a blocking socket. */
static void
xsb_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xsb_fatal("write: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Copy a template string, replacing '@' with the domid. */
static size_t
xsb_expand(char *out, size_t size, const char *in, unsigned domid)
{
	size_t	len = 0;
	int	n;

	for (; *in != '\0'; in++) {
		if (*in == '@') {
			n = snprintf(out + len, size - len, "%u", domid);
			len += (size_t)n;
		} else if (len + 1 < size)
			out[len++] = *in;
		if (len + 1 >= size)
			xsb_fatal("template expansion too long");
	}
	out[len] = '\0';
	return (len);
}

/* How many template entries a filled domain holds. */
static unsigned
xsb_domain_entries(const struct xsb_tree *tree, unsigned domid)
{
	return (domid == tree->ndomains ? tree->last : XSB_FILL_DOMAIN);
}

/* Build the write of template entry idx of a domain. */
static size_t
xsb_fill_request(char *buf, uint32_t req_id, unsigned domid, unsigned idx)
{
	const struct xsb_tnode	*t = &xsb_template[idx];
	char			 path[256], value[256];
	size_t			 vlen;
	int			 n;

	if (*t->path == '\0')
		n = snprintf(path, sizeof path, "/local/domain/%u", domid);
	else {
		n = snprintf(path, sizeof path, "/local/domain/%u/%s", domid,
		    t->path);
	}
	if (n < 0 || (size_t)n >= sizeof path)
		xsb_fatal("path too long");
	vlen = xsb_expand(value, sizeof value, t->value, domid);
	return (xsb_msg_build(buf, XS_WRITE, req_id, 0, path, value, vlen));
}

/* Generate the n-th write of a filler's domains. */
static size_t
xsb_fill_gen_request(char *buf, uint32_t req_id, uint64_t n, void *arg)
{
	struct xsb_filler	*f = arg;
	unsigned		 domid;

	domid = 1 + f->index + (unsigned)(n / XSB_FILL_DOMAIN) * f->nconns;
	return (xsb_fill_request(buf, req_id, domid,
	    (unsigned)(n % XSB_FILL_DOMAIN)));
}

/*
 * Send p->count requests keeping up to p->window of them outstanding,
 * matching each reply to its request by req_id. Requests are batched into
 * one write and replies read in large chunks. Errors are counted.
 */
static void
xsb_pipeline(struct xsb_pipe *p)
{
	struct xsd_sockmsg	 hdr;
	uint32_t		*slot, req_id = 1;
	char			*sbuf, *rbuf;
	size_t			 ssize, slen, rsize = 1 << 18, rlen = 0, off;
	uint64_t		 sent = 0, acked = 0, count = p->count;
	ssize_t			 n;

	slot = xsb_realloc(NULL, p->window * sizeof *slot);
	memset(slot, 0, p->window * sizeof *slot);
	ssize = (size_t)p->window * XSB_MSG_MAX;
	sbuf = xsb_realloc(NULL, ssize);
	rbuf = xsb_realloc(NULL, rsize);

	while (acked < count) {
		if (p->stop != NULL &&
		    __atomic_load_n(p->stop, __ATOMIC_RELAXED))
			count = sent;
		slen = 0;
		while (sent < count && sent - acked < p->window) {
			slot[req_id % p->window] = req_id;
			slen += p->gen(sbuf + slen, req_id, sent, p->arg);
			req_id++;
			sent++;
		}
		if (slen != 0)
			xsb_write_all(p->fd, sbuf, slen);
		if (acked == count)
			break;

		n = read(p->fd, rbuf + rlen, rsize - rlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			xsb_fatal("read: %s", n == 0 ? "EOF" : strerror(errno));
		rlen += (size_t)n;

		off = 0;
		while (rlen - off >= sizeof hdr) {
			memcpy(&hdr, rbuf + off, sizeof hdr);
			if (hdr.len > XENSTORE_PAYLOAD_MAX)
				xsb_fatal("reply too long (%u)", hdr.len);
			if (rlen - off < sizeof hdr + hdr.len)
				break;
			if (hdr.type == XS_WATCH_EVENT) {
				off += sizeof hdr + hdr.len;
				continue;
			}
			if (slot[hdr.req_id % p->window] != hdr.req_id)
				xsb_fatal("unexpected reply id %u", hdr.req_id);
			slot[hdr.req_id % p->window] = 0;
			if (hdr.type == XS_ERROR && p->errors++ == 0) {
				fprintf(stderr, "xsbench: pipelined write: "
				    "%.*s\n", (int)hdr.len,
				    rbuf + off + sizeof hdr);
			}
			acked++;
			off += sizeof hdr + hdr.len;
		}
		memmove(rbuf, rbuf + off, rlen - off);
		rlen -= off;
		__atomic_store_n(&p->acked, acked, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&p->acked, acked, __ATOMIC_RELAXED);
	free(rbuf);
	free(sbuf);
	free(slot);
}

/* How many writes a filler's share of the domains takes. */
static uint64_t
xsb_filler_count(const struct xsb_filler *f)
{
	const struct xsb_tree	*tree = f->tree;
	uint64_t		 ndoms, count;

	if (tree->ndomains <= f->index)
		return (0);
	ndoms = (tree->ndomains - 1 - f->index) / f->nconns + 1;
	count = ndoms * XSB_FILL_DOMAIN;
	if ((tree->ndomains - 1) % f->nconns == f->index)
		count -= XSB_FILL_DOMAIN - tree->last;
	return (count);
}

/* Fill one connection's share of the domains. */
static void *
xsb_filler_main(void *arg)
{
	struct xsb_filler	*f = arg;

	if (f->pipe.count != 0) {
		f->pipe.fd = xsb_connect(f->path);
		xsb_pipeline(&f->pipe);
		close(f->pipe.fd);
	}
	f->end = xsb_now();
	__atomic_store_n(&f->finished, 1, __ATOMIC_RELEASE);
	return (NULL);
}

/* Generate the n-th write of the per-client subtrees. */
static size_t
xsb_prepare_request(char *buf, uint32_t req_id, uint64_t n, void *arg)
{
	const unsigned	 per = XSB_KEYS + XSB_DIRENTS + XSB_TXN_WRITES;
	unsigned	 c = (unsigned)(n / per), k = (unsigned)(n % per);
	char		 path[128], value[32];
	int		 vlen;

	(void)arg;
	if (k < XSB_KEYS)
		snprintf(path, sizeof path, "/bench/c%u/k%u", c, k);
	else if (k < XSB_KEYS + XSB_DIRENTS) {
		snprintf(path, sizeof path, "/bench/c%u/dir/entry%u", c,
		    k - XSB_KEYS);
	} else {
		snprintf(path, sizeof path, "/bench/c%u/t/%u", c,
		    k - XSB_KEYS - XSB_DIRENTS);
	}
	vlen = snprintf(value, sizeof value, "initial-value-%u", k);
	return (xsb_msg_build(buf, XS_WRITE, req_id, 0, path, value,
	    (size_t)vlen));
}

/* Create the keys, directory and txn nodes under /bench/c<N>. */
static void
xsb_prepare(const char *path, unsigned nclients, unsigned window)
{
	struct xsb_pipe	p;

	memset(&p, 0, sizeof p);
	p.window = window;
	p.count = (uint64_t)nclients *
	    (XSB_KEYS + XSB_DIRENTS + XSB_TXN_WRITES);
	p.gen = xsb_prepare_request;
	p.fd = xsb_connect(path);
	xsb_pipeline(&p);
	close(p.fd);
	if (p.errors != 0)
		xsb_fatal("%" PRIu64 " errors preparing /bench", p.errors);
}

/* Path a client's next request addresses; leaf picks a leaf of the fill. */
static size_t
xsb_client_path(struct xsb_client *c, char *buf, size_t size, int leaf)
{
	const struct xsb_tree	*tree = c->phase->tree;
	const struct xsb_tnode	*t;
	unsigned		 domid, idx, n;
	int			 len;

	if (tree == NULL) {
		len = snprintf(buf, size, "/bench/c%u/k%u", c->id,
		    (unsigned)(xsb_rand(&c->rng) % XSB_KEYS));
		return ((size_t)len);
	}
	domid = 1 + (unsigned)(xsb_rand(&c->rng) % tree->ndomains);
	n = xsb_domain_entries(tree, domid);
	do {
		idx = (unsigned)(xsb_rand(&c->rng) % n);
		t = &xsb_template[idx];
	} while (leaf && *t->value == '\0' && n > 2);
	if (*t->path == '\0')
		len = snprintf(buf, size, "/local/domain/%u", domid);
	else {
		len = snprintf(buf, size, "/local/domain/%u/%s", domid,
		    t->path);
	}
	return ((size_t)len);
}

/* Send the client's next request for the current phase. */
static void
xsb_client_send(struct xsb_client *c)
{
	char		msg[XSB_MSG_MAX], path[256], value[32];
	size_t		len;
	uint32_t	tx_id = 0, type;
	int		vlen = 0;

	c->req_id++;
	switch (c->phase->op) {
	case XSB_READ:
		type = XS_READ;
		xsb_client_path(c, path, sizeof path, 0);
		break;
	case XSB_WRITE:
		type = XS_WRITE;
		xsb_client_path(c, path, sizeof path, 1);
		vlen = snprintf(value, sizeof value, "v%015" PRIu64,
		    c->ops);
		break;
	case XSB_DIRECTORY:
		type = XS_DIRECTORY;
		snprintf(path, sizeof path, "/bench/c%u/dir", c->id);
		break;
	case XSB_TXN:
		if (c->step == 0) {
			type = XS_TRANSACTION_START;
			path[0] = '\0';
		} else if (c->step <= XSB_TXN_WRITES) {
			type = XS_WRITE;
			tx_id = c->tx_id;
			snprintf(path, sizeof path, "/bench/c%u/t/%d", c->id,
			    c->step - 1);
			vlen = snprintf(value, sizeof value, "t%015" PRIu64,
			    c->ops);
		} else {
			type = XS_TRANSACTION_END;
			tx_id = c->tx_id;
			strcpy(path, "T");
		}
		break;
	default:
		abort();
	}
	len = xsb_msg_build(msg, type, c->req_id, tx_id, path, value,
	    (size_t)vlen);
	xsb_write_all(c->fd, msg, len);
}

/* Handle a reply; return 1 when the client's current op is complete. */
static int
xsb_client_reply(struct xsb_client *c, const struct xsd_sockmsg *hdr,
    const char *body)
{
	int	error = hdr->type == XS_ERROR;

	if (hdr->req_id != c->req_id)
		xsb_fatal("client %u: reply id %u, expected %u", c->id,
		    hdr->req_id, c->req_id);
	if (error && c->phase->op == XSB_TXN && c->step > XSB_TXN_WRITES &&
	    hdr->len >= 6 && memcmp(body, "EAGAIN", 6) == 0) {
		c->retries++;
		c->step = 0;
		return (0);
	}
	if (error && c->errors++ == 0) {
		fprintf(stderr, "xsbench: client %u: %s step %d: %.*s\n",
		    c->id, xsb_op_names[c->phase->op], c->step, (int)hdr->len,
		    body);
	}
	if (c->phase->op != XSB_TXN)
		return (1);

	if (error) {
		if (c->step == 0 || c->step > XSB_TXN_WRITES) {
			c->step = 0;
			return (1);
		}
	}
	if (c->step == 0) {
		if (hdr->len == 0 || body[hdr->len - 1] != '\0')
			xsb_fatal("bad TRANSACTION_START reply");
		c->tx_id = (uint32_t)strtoul(body, NULL, 10);
	}
	if (c->step++ > XSB_TXN_WRITES) {
		c->step = 0;
		return (1);
	}
	return (0);
}

/* Read what arrived for a client and move it along. */
static void
xsb_client_input(struct xsb_client *c)
{
	struct xsd_sockmsg	hdr;
	uint64_t		now;
	size_t			total;
	ssize_t			n;

	n = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		xsb_fatal("client %u: read: %s", c->id,
		    n == 0 ? "EOF" : strerror(errno));
	}
	c->rlen += (size_t)n;

	while (c->rlen >= sizeof hdr) {
		memcpy(&hdr, c->rbuf, sizeof hdr);
		if (hdr.len > XENSTORE_PAYLOAD_MAX)
			xsb_fatal("client %u: reply too long", c->id);
		total = sizeof hdr + hdr.len;
		if (c->rlen < total)
			return;
		if (hdr.type != XS_WATCH_EVENT &&
		    xsb_client_reply(c, &hdr, c->rbuf + sizeof hdr)) {
			now = xsb_now();
			if (now <= c->phase->end) {
				xsb_samples_add(&c->lat, now - c->op_start);
				c->ops++;
			}
			if (now >= c->phase->end)
				c->done = 1;
			else {
				c->op_start = now;
				xsb_client_send(c);
			}
		} else if (hdr.type != XS_WATCH_EVENT)
			xsb_client_send(c);
		memmove(c->rbuf, c->rbuf + total, c->rlen - total);
		c->rlen -= total;
	}
}

/* Drive a slice of clients until the phase ends. */
static void *
xsb_worker_main(void *arg)
{
	struct xsb_worker	*w = arg;
	struct epoll_event	 ev, evs[64];
	unsigned		 i, active = w->nclients;
	int			 epfd, n, j;
	struct xsb_client	*c;

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		xsb_fatal("epoll_create1: %s", strerror(errno));
	for (i = 0; i < w->nclients; i++) {
		c = &w->clients[i];
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			xsb_fatal("epoll_ctl: %s", strerror(errno));
		c->op_start = xsb_now();
		xsb_client_send(c);
	}

	while (active > 0) {
		n = epoll_wait(epfd, evs, 64, 10000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			xsb_fatal("epoll_wait: %s", strerror(errno));
		if (n == 0)
			xsb_fatal("daemon stopped answering");
		for (j = 0; j < n; j++) {
			c = evs[j].data.ptr;
			if (c->done)
				continue;
			xsb_client_input(c);
			if (c->done)
				active--;
		}
	}
	close(epfd);
	return (NULL);
}

/* Run one op for a phase's duration on every client and print its line. */
static void
xsb_phase_run(const struct xsb_opts *o, struct xsb_client *clients,
    unsigned nclients, enum xsb_op op, const struct xsb_tree *tree,
    const char *extra)
{
	struct xsb_phase	 phase;
	struct xsb_worker	*workers;
	struct xsb_samples	 all = { NULL, 0, 0 };
	unsigned		 i, nworkers, per, first;
	uint64_t		 start, ops = 0, errors = 0, retries = 0;
	double			 secs, cpu0, cpu1;
	struct xsb_client	*c;

	nworkers = o->threads < nclients ? o->threads : nclients;
	workers = xsb_realloc(NULL, nworkers * sizeof *workers);

	phase.op = op;
	phase.tree = tree;
	cpu0 = o->pid > 0 ? xsb_proc_cpu(o->pid) : -1;
	start = xsb_now();
	phase.end = start + (uint64_t)(o->seconds * 1e9);
	for (i = 0; i < nclients; i++) {
		c = &clients[i];
		c->phase = &phase;
		c->step = 0;
		c->done = 0;
		c->rlen = 0;
		c->lat.n = 0;
		c->ops = c->errors = c->retries = 0;
	}

	first = 0;
	for (i = 0; i < nworkers; i++) {
		per = nclients / nworkers + (i < nclients % nworkers);
		workers[i].clients = &clients[first];
		workers[i].nclients = per;
		first += per;
		if (pthread_create(&workers[i].thread, NULL, xsb_worker_main,
		    &workers[i]) != 0)
			xsb_fatal("pthread_create failed");
	}
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	secs = (double)(phase.end - start) / 1e9;

	for (i = 0; i < nclients; i++) {
		c = &clients[i];
		ops += c->ops;
		errors += c->errors;
		retries += c->retries;
		all.v = xsb_realloc(all.v, (all.n + c->lat.n) * sizeof *all.v +
		    1);
		memcpy(all.v + all.n, c->lat.v, c->lat.n * sizeof *all.v);
		all.n += c->lat.n;
	}
	qsort(all.v, all.n, sizeof *all.v, xsb_cmp_u64);

	printf("RESULT target=%s op=%s%s clients=%u ops_per_s=%.0f "
	    "p50_us=%.1f p99_us=%.1f ops=%" PRIu64 " errors=%" PRIu64,
	    o->target, xsb_op_names[op], tree != NULL ? "_filled" : "",
	    nclients, (double)ops / secs, xsb_percentile(all.v, all.n, 50),
	    xsb_percentile(all.v, all.n, 99), ops, errors);
	if (op == XSB_TXN)
		printf(" retries=%" PRIu64, retries);
	cpu1 = cpu0 >= 0 ? xsb_proc_cpu(o->pid) : -1;
	if (cpu0 >= 0 && cpu1 >= 0 && ops != 0)
		printf(" daemon_cpu_us_per_op=%.2f", (cpu1 - cpu0) * 1e6 /
		    (double)ops);
	printf("%s\n", extra);
	fflush(stdout);

	free(all.v);
	free(workers);
}

/* Open n client connections. */
static struct xsb_client *
xsb_clients_open(const char *path, unsigned n)
{
	struct xsb_client	*clients;
	unsigned		 i;

	clients = xsb_realloc(NULL, n * sizeof *clients);
	memset(clients, 0, n * sizeof *clients);
	for (i = 0; i < n; i++) {
		clients[i].id = i;
		clients[i].fd = xsb_connect(path);
		clients[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
	}
	return (clients);
}

/* Close and free client connections. */
static void
xsb_clients_close(struct xsb_client *clients, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++) {
		close(clients[i].fd);
		free(clients[i].lat.v);
	}
	free(clients);
}

/* Measure every op for every client count. */
static void
xsb_run_throughput(const struct xsb_opts *o)
{
	struct xsb_client	*clients;
	unsigned		 i, maxc = 0;
	int			 op;

	for (i = 0; i < o->nclients; i++) {
		if (o->clients[i] > maxc)
			maxc = o->clients[i];
	}
	xsb_prepare(o->path, maxc, o->window);

	for (i = 0; i < o->nclients; i++) {
		clients = xsb_clients_open(o->path, o->clients[i]);
		for (op = 0; op < XSB_NOPS; op++) {
			if (o->ops[op])
				xsb_phase_run(o, clients, o->clients[i], op,
				    NULL, "");
		}
		xsb_clients_close(clients, o->clients[i]);
	}
}

/* CPU time (user + system) a process has used, in seconds, or -1. */
static double
xsb_proc_cpu(long pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long		 ut, st;
	FILE			*f;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* Fields after the ")" closing the name: state is the 3rd field,
	 * utime and stime the 14th and 15th. */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return (-1);
	return ((double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
}

/* A field of /proc/<pid>/status in kB, or -1. */
static long
xsb_proc_kb(long pid, const char *field)
{
	char	 path[64], line[256];
	size_t	 flen = strlen(field);
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (kb);
}

/*
 * Largest D such that domains 1..D are all written: filler i's first
 * unfinished domain is 1 + i + nconns * (its acked writes / domain size).
 */
static unsigned
xsb_fill_complete(const struct xsb_filler *fillers, unsigned nconns,
    unsigned ndomains)
{
	uint64_t	d, best = ndomains;
	unsigned	i;

	for (i = 0; i < nconns; i++) {
		if (fillers[i].pipe.acked == fillers[i].pipe.count)
			continue;
		d = i + (fillers[i].pipe.acked / XSB_FILL_DOMAIN) * nconns;
		if (d < best)
			best = d;
	}
	return ((unsigned)best);
}

/*
 * Fill the tree to o->fill nodes (or as far as the time limit allows), then
 * measure read and write latency on random nodes of what was filled.
 */
static void
xsb_run_fill(const struct xsb_opts *o)
{
	struct xsb_tree		 plan, tree;
	struct xsb_filler	*fillers;
	struct xsb_client	*clients;
	unsigned		 i, finished, nconns = o->fill_conns;
	uint64_t		 start, now, end = 0, deadline = 0, report;
	uint64_t		 errors = 0, written;
	long			 rss0 = -1, rss1 = -1, hwm = -1;
	double			 secs;
	int			 stop = 0;
	char			 extra[256];

	plan.ndomains = (unsigned)((o->fill + XSB_FILL_DOMAIN - 1) /
	    XSB_FILL_DOMAIN);
	plan.last = (unsigned)(o->fill - (uint64_t)(plan.ndomains - 1) *
	    XSB_FILL_DOMAIN);
	if (plan.ndomains >= 0x7ff0)
		xsb_fatal("too many domains for --fill %lu", o->fill);
	if (nconns > plan.ndomains)
		nconns = plan.ndomains;

	if (o->pid > 0)
		rss0 = xsb_proc_kb(o->pid, "VmRSS");

	fillers = xsb_realloc(NULL, nconns * sizeof *fillers);
	memset(fillers, 0, nconns * sizeof *fillers);
	start = xsb_now();
	if (o->fill_timeout > 0)
		deadline = start + (uint64_t)(o->fill_timeout * 1e9);
	report = start + 10000000000ULL;
	for (i = 0; i < nconns; i++) {
		fillers[i].path = o->path;
		fillers[i].index = i;
		fillers[i].nconns = nconns;
		fillers[i].tree = &plan;
		fillers[i].pipe.window = o->window;
		fillers[i].pipe.count = xsb_filler_count(&fillers[i]);
		fillers[i].pipe.gen = xsb_fill_gen_request;
		fillers[i].pipe.arg = &fillers[i];
		fillers[i].pipe.stop = &stop;
		if (pthread_create(&fillers[i].thread, NULL, xsb_filler_main,
		    &fillers[i]) != 0)
			xsb_fatal("pthread_create failed");
	}
	now = start;
	for (;;) {
		finished = 0;
		for (i = 0; i < nconns; i++)
			finished += __atomic_load_n(&fillers[i].finished,
			    __ATOMIC_ACQUIRE);
		if (finished == nconns)
			break;
		usleep(now - start < 1000000000ULL ? 1000 : 50000);
		now = xsb_now();
		if (now >= report) {
			written = 0;
			for (i = 0; i < nconns; i++)
				written += __atomic_load_n(
				    &fillers[i].pipe.acked, __ATOMIC_RELAXED);
			fprintf(stderr, "xsbench: %s: filled %" PRIu64 " of "
			    "%lu nodes in %.0f s\n", o->target, written,
			    o->fill, (double)(now - start) / 1e9);
			report += 10000000000ULL;
		}
		if (deadline != 0 && now >= deadline && !stop) {
			fprintf(stderr, "xsbench: %s: fill time limit of "
			    "%.0f s reached, stopping\n", o->target,
			    o->fill_timeout);
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
		}
	}
	written = 0;
	for (i = 0; i < nconns; i++) {
		pthread_join(fillers[i].thread, NULL);
		written += fillers[i].pipe.acked;
		errors += fillers[i].pipe.errors;
		if (fillers[i].end > end)
			end = fillers[i].end;
	}
	secs = (double)(end - start) / 1e9;
	tree = plan;
	tree.ndomains = xsb_fill_complete(fillers, nconns, plan.ndomains);
	if (tree.ndomains != plan.ndomains)
		tree.last = XSB_FILL_DOMAIN;
	free(fillers);

	printf("RESULT target=%s op=fill nodes=%lu filled=%" PRIu64
	    " complete=%d domains=%u secs=%.3f ops_per_s=%.0f errors=%" PRIu64,
	    o->target, o->fill, written, written == o->fill, plan.ndomains,
	    secs, (double)written / secs, errors);
	if (o->pid > 0) {
		rss1 = xsb_proc_kb(o->pid, "VmRSS");
		hwm = xsb_proc_kb(o->pid, "VmHWM");
		printf(" rss_before_kb=%ld rss_after_kb=%ld hwm_kb=%ld "
		    "bytes_per_node=%.0f", rss0, rss1, hwm, written == 0 ? 0 :
		    (double)(rss1 - rss0) * 1024.0 / (double)written);
	}
	printf("\n");
	fflush(stdout);
	if (errors != 0)
		xsb_fatal("%" PRIu64 " errors during fill", errors);
	if (tree.ndomains == 0)
		xsb_fatal("not one domain filled within the time limit");

	snprintf(extra, sizeof extra, " nodes=%" PRIu64, written);
	for (i = 0; i < o->nclients; i++) {
		clients = xsb_clients_open(o->path, o->clients[i]);
		xsb_phase_run(o, clients, o->clients[i], XSB_READ, &tree,
		    extra);
		xsb_phase_run(o, clients, o->clients[i], XSB_WRITE, &tree,
		    extra);
		xsb_clients_close(clients, o->clients[i]);
	}
}

/* Parse "1,8,64" into the client counts. */
static void
xsb_parse_clients(struct xsb_opts *o, const char *arg)
{
	char		*copy, *tok, *save, *end;
	unsigned long	 n;

	o->nclients = 0;
	copy = strdup(arg);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		n = strtoul(tok, &end, 10);
		if (*end != '\0' || n == 0 || n > 4096)
			xsb_fatal("bad client count: %s", tok);
		if (o->nclients == sizeof o->clients / sizeof o->clients[0])
			xsb_fatal("too many client counts");
		o->clients[o->nclients++] = (unsigned)n;
	}
	free(copy);
	if (o->nclients == 0)
		xsb_fatal("no client count");
}

/* Parse "read,write,directory,txn" into the ops to run. */
static void
xsb_parse_ops(struct xsb_opts *o, const char *arg)
{
	char	*copy, *tok, *save;
	int	 op, found;

	memset(o->ops, 0, sizeof o->ops);
	copy = strdup(arg);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		found = 0;
		for (op = 0; op < XSB_NOPS; op++) {
			if (strcmp(tok, xsb_op_names[op]) == 0) {
				o->ops[op] = found = 1;
			}
		}
		if (strcmp(tok, "dir") == 0)
			o->ops[XSB_DIRECTORY] = found = 1;
		if (strcmp(tok, "all") == 0) {
			for (op = 0; op < XSB_NOPS; op++)
				o->ops[op] = found = 1;
		}
		if (!found)
			xsb_fatal("unknown op: %s", tok);
	}
	free(copy);
}

/* Explain the command line and exit. */
static void
xsb_usage(void)
{
	fprintf(stderr,
"usage: xsbench [-s socket] [-t target] [-c clients] [-d seconds]\n"
"               [-o ops] [-j threads] [-w window] [--fill nodes]\n"
"               [--fill-conns n] [--fill-timeout secs] [-p daemon-pid]\n"
"  -s PATH      daemon socket (default $XENSTORED_PATH or\n"
"               /run/xenstored/socket)\n"
"  -t NAME      target name printed in results (default \"xenstored\")\n"
"  -c LIST      client counts, comma separated (default 1,8,64;\n"
"               1 with --fill)\n"
"  -d SECS      seconds per measurement (default 3)\n"
"  -o LIST      ops: read,write,directory,txn or all (default all)\n"
"  -j N         driver threads sharing the clients (default 1)\n"
"  -w N         outstanding requests per connection when pipelining\n"
"               (default 256)\n"
"  --fill N     fill /local/domain with N nodes, then measure read and\n"
"               write latency on random nodes\n"
"  --fill-conns N  connections used to fill (default 2)\n"
"  --fill-timeout SECS  stop filling after SECS and measure what was\n"
"               filled (default: no limit)\n"
"  -p PID       report the daemon's VmRSS/VmHWM around the fill\n");
	exit(2);
}

/* Parse options and run the benchmark. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fill", required_argument, NULL, 'F' },
		{ "fill-conns", required_argument, NULL, 'K' },
		{ "fill-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xsb_opts	 o;
	const char	*clients = NULL;
	char		*end;
	int		 ch;

	memset(&o, 0, sizeof o);
	o.path = getenv("XENSTORED_PATH");
	if (o.path == NULL || *o.path == '\0')
		o.path = "/run/xenstored/socket";
	o.target = "xenstored";
	o.seconds = 3;
	o.threads = 1;
	o.window = 256;
	o.fill_conns = 2;
	xsb_parse_ops(&o, "all");

	while ((ch = getopt_long(argc, argv, "c:d:hj:o:p:s:t:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			clients = optarg;
			break;
		case 'd':
			o.seconds = strtod(optarg, &end);
			if (*end != '\0' || o.seconds <= 0 || o.seconds > 3600)
				xsb_fatal("bad seconds: %s", optarg);
			break;
		case 'j':
			o.threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.threads == 0 || o.threads > 256)
				xsb_fatal("bad thread count: %s", optarg);
			break;
		case 'o':
			xsb_parse_ops(&o, optarg);
			break;
		case 'p':
			o.pid = strtol(optarg, &end, 10);
			if (*end != '\0' || o.pid <= 0)
				xsb_fatal("bad pid: %s", optarg);
			break;
		case 's':
			o.path = optarg;
			break;
		case 't':
			o.target = optarg;
			break;
		case 'w':
			o.window = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.window == 0 || o.window > 65536)
				xsb_fatal("bad window: %s", optarg);
			break;
		case 'F':
			o.fill = strtoul(optarg, &end, 10);
			if (*end != '\0' || o.fill == 0)
				xsb_fatal("bad node count: %s", optarg);
			break;
		case 'T':
			o.fill_timeout = strtod(optarg, &end);
			if (*end != '\0' || o.fill_timeout < 0)
				xsb_fatal("bad time limit: %s", optarg);
			break;
		case 'K':
			o.fill_conns = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.fill_conns == 0 ||
			    o.fill_conns > 64)
				xsb_fatal("bad connection count: %s", optarg);
			break;
		default:
			xsb_usage();
		}
	}
	if (optind != argc)
		xsb_usage();
	xsb_parse_clients(&o, clients != NULL ? clients :
	    (o.fill != 0 ? "1" : "1,8,64"));

	if (o.fill != 0)
		xsb_run_fill(&o);
	else
		xsb_run_throughput(&o);
	return (0);
}
