/*
 * bootstorm: a boot storm against a xenstore daemon, through libxenstore,
 * modelled on libxl's VM creation and the Linux xenbus split drivers.
 *
 * For each VM (domid base..base+N-1) a worker:
 *
 *   1. writes the domain in one transaction, as libxl__domain_make and
 *      libxl__device_generic_add write it: /local/domain/<id> (dom0's,
 *      readable by the guest), /vm/<uuid>, /libxl/<id>, the guest's own
 *      directories, and two disks (vbd 51712, 51728) and one NIC (vif 0):
 *      backend /local/domain/0/backend/<type>/<id>/<devid> (dom0's,
 *      readable by the guest) and frontend /local/domain/<id>/device/
 *      <type>/<devid> (the guest's, readable by dom0), both in state 1;
 *      again on EAGAIN, as libxl does;
 *   2. plays the backend (dom0's xenbus: a watch on backend/<type>/<id>,
 *      then one on each frontend's state) and the frontend (the guest's
 *      xenbus: a watch on its device/ directory, then one on each
 *      backend's state) through watch events only: the backend probes
 *      (features, state 2), the frontend writes its ring references and
 *      event channel in a transaction and switches to 3, the backend
 *      connects (disk size in a transaction) and switches to 4, the
 *      frontend switches to 4. Every state switch is a transaction
 *      reading and writing the state node, as Linux's xenbus_switch_state
 *      does; every transaction is retried on EAGAIN and counted.
 *
 * A VM is created when its three devices are Connected (4) on both sides.
 * The toolstack, the backend and the frontend are three connections of
 * the worker, all dom0 Unix socket clients. A worker runs one request at
 * a time, so two transactions of one VM never overlap: every EAGAIN is a
 * conflict with another, independent VM.
 *
 *   bootstorm [-N vms] [-P workers] [-b base] [-T secs] [-V every]
 *             [-l label]
 *   bootstorm -m SIMROOT [-N vms] [-b base]
 *
 * The daemons refuse permissions naming a domain that does not exist, as
 * on Xen, where libxl makes the domain in the hypervisor first. So before
 * the daemon starts, -m makes the domains' directories on the simulated
 * host (../shared/sim-abi.md: state running, name, uuid, pages) and
 * exits; the daemon then serves that root (--sim-root). No domain is
 * introduced: every agent is a dom0 socket client.
 *
 * The store's socket is XENSTORED_PATH. After the run every -V'th VM
 * created (default every one; 0: none) is read back: its nodes, values,
 * permissions, and state 4 on both sides of each device; a mismatch is
 * printed and the exit status is 1. Prints one line starting "RESULT".
 */

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#define BS_DEVS		3	/* two disks and a NIC per VM */
#define BS_TXN_TRIES	10000	/* EAGAINs before a transaction gives up */
#define BS_STALL_SECS	120	/* no progress this long on a VM: an error */
#define BS_GRACE_SECS	15	/* after the limit, wait this long for workers */
#define BS_DIR		64	/* a VM's directories */
#define BS_DEVPATH	128	/* a device's directories */
#define BS_PATH		256	/* any path */

enum bs_kind {
	BS_VBD,
	BS_VIF
};

/* A device of every VM. */
struct bs_devspec {
	enum bs_kind	 kind;
	const char	*type;
	unsigned	 devid;
	const char	*vdev;
};

static const struct bs_devspec bs_devspecs[BS_DEVS] = {
	{ BS_VBD, "vbd", 51712, "xvda" },
	{ BS_VBD, "vbd", 51728, "xvdb" },
	{ BS_VIF, "vif", 0, NULL },
};

/* One device of the VM being booted, as the two agents see it. */
struct bs_dev {
	char	be[BS_DEVPATH];	/* backend directory */
	char	fe[BS_DEVPATH];	/* frontend directory */
	int	be_state;	/* 0 until probed, then 2, 4 */
	int	fe_state;	/* 0 until discovered, then 1, 3, 4 */
};

/* The VM a worker is booting. */
struct bs_vm {
	unsigned	id;
	char		dom[BS_DIR];
	char		vm[BS_DIR];
	char		libxl[BS_DIR];
	char		uuid[40];
	struct bs_dev	dev[BS_DEVS];
	bool		discovered;
	int		connected;
	unsigned	retries;
	struct timespec	progress;
};

/* What is kept of each VM once it is created. */
struct bs_vmres {
	atomic_bool	done;
	unsigned	retries;
	uint64_t	usecs;
};

struct bs_run;

/* A worker: one thread, three store connections. */
struct bs_worker {
	struct bs_run		*run;
	pthread_t		 thread;
	struct xs_handle	*ts;	/* the toolstack */
	struct xs_handle	*be;	/* the backend driver (dom0) */
	struct xs_handle	*fe;	/* the guest's frontend driver */
	uint64_t		 last_done_ns;
};

/* The whole run. */
struct bs_run {
	unsigned		 n, p, base, every;
	double			 limit;
	const char		*label;
	struct timespec		 t0;
	atomic_uint		 next;
	atomic_uint		 done;
	atomic_uint		 finished;	/* workers returned */
	atomic_bool		 stop;
	atomic_bool		 failed;
	atomic_uint_fast64_t	 retries_create;
	atomic_uint_fast64_t	 retries_dev;
	atomic_uint_fast64_t	 txns;
	struct bs_vmres		*res;
	pthread_mutex_t		 lock;		/* the error message */
	char			 error[512];
};

/* The path of this thread's last failed request, for the error message. */
static __thread char	bs_failed[BS_PATH + 16];

/* A transaction's body: false with errno set on failure. */
typedef bool (*bs_txn_fn)(struct xs_handle *, xs_transaction_t, void *);

static uint64_t	bs_elapsed_ns(const struct timespec *);
static void	bs_fail(struct bs_run *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	bs_txn(struct bs_run *, struct bs_vm *, struct xs_handle *,
		    bool, bs_txn_fn, void *);
static bool	bs_write(struct xs_handle *, xs_transaction_t, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static bool	bs_mknod(struct xs_handle *, xs_transaction_t,
		    struct xs_permissions *, unsigned, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static char	*bs_read(struct xs_handle *, xs_transaction_t, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static int	bs_read_int(struct xs_handle *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static bool	bs_create_body(struct xs_handle *, xs_transaction_t, void *);
static int	bs_switch_state(struct bs_run *, struct bs_vm *,
		    struct xs_handle *, const char *, int);
static int	bs_be_probe(struct bs_worker *, struct bs_vm *, int);
static int	bs_be_otherend(struct bs_worker *, struct bs_vm *, int);
static int	bs_fe_discover(struct bs_worker *, struct bs_vm *);
static int	bs_fe_otherend(struct bs_worker *, struct bs_vm *, int);
static int	bs_be_event(struct bs_worker *, struct bs_vm *, const char *,
		    const char *);
static int	bs_fe_event(struct bs_worker *, struct bs_vm *, const char *,
		    const char *);
static int	bs_drain(struct bs_worker *, struct bs_vm *, bool);
static int	bs_boot(struct bs_worker *, struct bs_vm *);
static void	*bs_worker_main(void *);
static int	bs_verify_vm(struct xs_handle *, unsigned, char *, size_t);
static int	bs_verify(struct bs_run *);
static int	bs_make_domains(const char *, unsigned, unsigned);
static int	bs_cmp_u64(const void *, const void *);
static void	bs_usage(void);

/* Nanoseconds since a CLOCK_MONOTONIC time. */
static uint64_t
bs_elapsed_ns(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((uint64_t)(now.tv_sec - t0->tv_sec) * 1000000000u +
	    (uint64_t)now.tv_nsec - (uint64_t)t0->tv_nsec);
}

/* Record the run's first error and stop every worker. */
static void
bs_fail(struct bs_run *run, const char *fmt, ...)
{
	va_list	ap;

	pthread_mutex_lock(&run->lock);
	if (!atomic_load(&run->failed)) {
		va_start(ap, fmt);
		vsnprintf(run->error, sizeof run->error, fmt, ap);
		va_end(ap);
		atomic_store(&run->failed, true);
	}
	pthread_mutex_unlock(&run->lock);
	atomic_store(&run->stop, true);
}

/*
 * Run a transaction until it commits, as libxl and Linux's xenbus do:
 * again on EAGAIN, each retry counted against the VM. 0, or -errno.
 */
static int
bs_txn(struct bs_run *run, struct bs_vm *vm, struct xs_handle *h,
    bool create, bs_txn_fn body, void *arg)
{
	xs_transaction_t	t;
	int			tries;

	for (tries = 0; tries < BS_TXN_TRIES; tries++) {
		if (atomic_load(&run->stop))
			return (-ECANCELED);
		if (tries > 0) {
			vm->retries++;
			atomic_fetch_add(create ? &run->retries_create :
			    &run->retries_dev, 1);
		}
		atomic_fetch_add(&run->txns, 1);
		if ((t = xs_transaction_start(h)) == XBT_NULL)
			return (-errno);
		errno = 0;
		if (!body(h, t, arg)) {
			int e = errno != 0 ? errno : EIO;

			xs_transaction_end(h, t, true);
			if (e == EAGAIN)
				continue;
			return (-e);
		}
		if (xs_transaction_end(h, t, false))
			return (0);
		if (errno != EAGAIN)
			return (-errno);
	}
	return (-EDEADLK);
}

/* Write a formatted value to a path. */
static bool
bs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
    const char *fmt, ...)
{
	char	v[BS_PATH];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	if (xs_write(h, t, path, v, strlen(v)))
		return (true);
	snprintf(bs_failed, sizeof bs_failed, "write %s", path);
	return (false);
}

/* Make a directory with permissions, as libxl__xs_mknod does. */
static bool
bs_mknod(struct xs_handle *h, xs_transaction_t t, struct xs_permissions *perms,
    unsigned nperms, const char *fmt, ...)
{
	char	path[BS_PATH];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (!xs_mkdir(h, t, path)) {
		snprintf(bs_failed, sizeof bs_failed, "mkdir %s", path);
		return (false);
	}
	if (!xs_set_permissions(h, t, path, perms, nperms)) {
		snprintf(bs_failed, sizeof bs_failed, "set_perms %s", path);
		return (false);
	}
	return (true);
}

/* Read a path's value (malloc'd), or NULL with errno. */
static char *
bs_read(struct xs_handle *h, xs_transaction_t t, const char *fmt, ...)
{
	char		path[BS_PATH];
	unsigned	len;
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	return (xs_read(h, t, path, &len));
}

/* Read a path's integer value; -1 if it is missing or not a number. */
static int
bs_read_int(struct xs_handle *h, const char *fmt, ...)
{
	char		path[BS_PATH], *v, *end;
	unsigned	len;
	long		n;
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if ((v = xs_read(h, XBT_NULL, path, &len)) == NULL)
		return (-1);
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0')
		n = -1;
	free(v);
	return ((int)n);
}

/* Path helper for the body below: "<dir>/<name>". */
#define BS_W(h, t, dir, name, ...)					\
	do {								\
		char p_[BS_PATH];					\
		snprintf(p_, sizeof p_, "%s/%s", (dir), (name));	\
		if (!bs_write((h), (t), p_, __VA_ARGS__))		\
			return (false);					\
	} while (0)

/*
 * The domain and its devices, as libxl__domain_make and
 * libxl__device_generic_add write them (here in one transaction).
 */
static bool
bs_create_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
	static const char	*rw_dirs[] = { "device", "data", "drivers",
				    "feature", "attr", "error",
				    "device/suspend" };
	static const char	*rw_ctl[] = { "shutdown", "sysrq",
				    "feature-poweroff", "feature-reboot",
				    "feature-suspend" };
	struct bs_vm		*vm = arg;
	struct xs_permissions	 ro[2], no[1], rw[1], fe[2], be[2];
	char			*v;
	unsigned		 id = vm->id;
	size_t			 i;
	int			 k;

	ro[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
	ro[1] = (struct xs_permissions){ .id = id, .perms = XS_PERM_READ };
	no[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
	rw[0] = (struct xs_permissions){ .id = id, .perms = XS_PERM_NONE };
	fe[0] = (struct xs_permissions){ .id = id, .perms = XS_PERM_NONE };
	fe[1] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_READ };
	be[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
	be[1] = (struct xs_permissions){ .id = id, .perms = XS_PERM_READ };

	/* libxl__domain_make */
	if (!bs_mknod(h, t, ro, 2, "%s", vm->dom) ||
	    !bs_mknod(h, t, ro, 2, "%s", vm->vm) ||
	    !bs_mknod(h, t, no, 1, "%s", vm->libxl))
		return (false);
	for (i = 0; i < sizeof rw_dirs / sizeof rw_dirs[0]; i++)
		if (!bs_mknod(h, t, rw, 1, "%s/%s", vm->dom, rw_dirs[i]))
			return (false);
	if (!bs_mknod(h, t, ro, 2, "%s/control", vm->dom))
		return (false);
	for (i = 0; i < sizeof rw_ctl / sizeof rw_ctl[0]; i++)
		if (!bs_mknod(h, t, rw, 1, "%s/control/%s", vm->dom,
		    rw_ctl[i]))
			return (false);
	BS_W(h, t, vm->dom, "vm", "%s", vm->vm);
	BS_W(h, t, vm->dom, "name", "storm-%u", id);
	BS_W(h, t, vm->dom, "domid", "%u", id);
	BS_W(h, t, vm->dom, "control/platform-feature-multiprocessor-suspend",
	    "1");
	BS_W(h, t, vm->dom, "control/platform-feature-xs_reset_watches", "1");
	BS_W(h, t, vm->dom, "cpu/0/availability", "online");
	BS_W(h, t, vm->dom, "cpu/1/availability", "online");
	BS_W(h, t, vm->dom, "memory/static-max", "1048576");
	BS_W(h, t, vm->dom, "memory/target", "1048576");
	BS_W(h, t, vm->dom, "memory/videoram", "-1");
	BS_W(h, t, vm->dom, "store/port", "1");
	BS_W(h, t, vm->dom, "store/ring-ref", "%u", 0x100000 + id);
	BS_W(h, t, vm->vm, "uuid", "%s", vm->uuid);
	BS_W(h, t, vm->vm, "name", "storm-%u", id);
	BS_W(h, t, vm->vm, "image/ostype", "linux");
	BS_W(h, t, vm->vm, "image/kernel", "/boot/vmlinuz-6.1.0-28-amd64");
	BS_W(h, t, vm->vm, "start_time", "1763900000.%02u", id % 100);
	BS_W(h, t, vm->libxl, "type", "pv");
	BS_W(h, t, vm->libxl, "dm-version", "qemu_xen");

	/* libxl__device_generic_add, for each device */
	for (k = 0; k < BS_DEVS; k++) {
		const struct bs_devspec	*s = &bs_devspecs[k];
		const struct bs_dev	*d = &vm->dev[k];
		char			 lp[BS_DEVPATH];

		/* libxl__device_exists: the device must be new. */
		snprintf(lp, sizeof lp, "%s/device/%s/%u", vm->libxl,
		    s->type, s->devid);
		if ((v = bs_read(h, t, "%s", lp)) != NULL) {
			free(v);
			errno = EEXIST;
			return (false);
		}
		if (errno != ENOENT)
			return (false);
		if (!bs_mknod(h, t, fe, 2, "%s", d->fe) ||
		    !bs_mknod(h, t, be, 2, "%s", d->be))
			return (false);
		BS_W(h, t, d->fe, "backend", "%s", d->be);
		BS_W(h, t, d->fe, "backend-id", "0");
		BS_W(h, t, d->fe, "state", "1");
		BS_W(h, t, d->be, "frontend", "%s", d->fe);
		BS_W(h, t, d->be, "frontend-id", "%u", id);
		BS_W(h, t, d->be, "online", "1");
		BS_W(h, t, d->be, "state", "1");
		if (s->kind == BS_VBD) {
			BS_W(h, t, d->fe, "virtual-device", "%u", s->devid);
			BS_W(h, t, d->fe, "device-type", "disk");
			BS_W(h, t, d->be, "params",
			    "/var/lib/storm/%u-%s.img", id, s->vdev);
			BS_W(h, t, d->be, "script",
			    "/etc/xen/scripts/block");
			BS_W(h, t, d->be, "type", "phy");
			BS_W(h, t, d->be, "mode", "w");
			BS_W(h, t, d->be, "removable", "0");
			BS_W(h, t, d->be, "bootable", "1");
			BS_W(h, t, d->be, "dev", "%s", s->vdev);
			BS_W(h, t, d->be, "device-type", "disk");
			BS_W(h, t, d->be, "discard-enable", "1");
			BS_W(h, t, d->be, "specification", "xen");
		} else {
			BS_W(h, t, d->fe, "handle", "%u", s->devid);
			BS_W(h, t, d->fe, "mac", "00:16:3e:%02x:%02x:%02x",
			    (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
			BS_W(h, t, d->fe, "mtu", "1500");
			BS_W(h, t, d->be, "script",
			    "/etc/xen/scripts/vif-bridge");
			BS_W(h, t, d->be, "mac", "00:16:3e:%02x:%02x:%02x",
			    (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
			BS_W(h, t, d->be, "bridge", "xenbr0");
			BS_W(h, t, d->be, "handle", "%u", s->devid);
			BS_W(h, t, d->be, "type", "vif");
			BS_W(h, t, d->be, "mtu", "1500");
		}
		BS_W(h, t, lp, "frontend", "%s", d->fe);
		BS_W(h, t, lp, "backend", "%s", d->be);
	}
	return (true);
}

/* A state switch's body: its argument. */
struct bs_switch {
	const char	*dir;
	int		 state;
};

/* xenbus_switch_state's transaction: read the state, write the new one. */
static bool
bs_switch_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
	struct bs_switch	*sw = arg;
	char			 p[BS_PATH], *v;

	snprintf(p, sizeof p, "%s/state", sw->dir);
	if ((v = bs_read(h, t, "%s", p)) == NULL)
		return (false);
	free(v);
	return (bs_write(h, t, p, "%d", sw->state));
}

/* Switch a device side's state, as Linux's xenbus_switch_state. */
static int
bs_switch_state(struct bs_run *run, struct bs_vm *vm, struct xs_handle *h,
    const char *dir, int state)
{
	struct bs_switch	sw = { dir, state };

	return (bs_txn(run, vm, h, false, bs_switch_body, &sw));
}

/* A device transaction's argument. */
struct bs_devarg {
	struct bs_vm	*vm;
	int		 k;
};

/* The ring references and event channel a frontend grants: made up. */
static unsigned
bs_ring_ref(unsigned id, int k, int which)
{
	return ((id << 4) | (unsigned)(k << 1) | (unsigned)which);
}

/* The disk size the backend reports, in 512-byte sectors: made up. */
static unsigned long
bs_sectors(unsigned id, int k)
{
	return (20971520ul + id * 8ul + (unsigned long)k);
}

/* blkfront's talk_to_blkback and netfront's talk_to_netback transaction. */
static bool
bs_talk_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
	struct bs_devarg	*a = arg;
	const struct bs_dev	*d = &a->vm->dev[a->k];
	unsigned		 id = a->vm->id;

	if (bs_devspecs[a->k].kind == BS_VBD) {
		BS_W(h, t, d->fe, "ring-ref", "%u", bs_ring_ref(id, a->k, 0));
		BS_W(h, t, d->fe, "event-channel", "%d", 10 + a->k);
		BS_W(h, t, d->fe, "protocol", "x86_64-abi");
		BS_W(h, t, d->fe, "feature-persistent", "1");
	} else {
		BS_W(h, t, d->fe, "tx-ring-ref", "%u",
		    bs_ring_ref(id, a->k, 0));
		BS_W(h, t, d->fe, "rx-ring-ref", "%u",
		    bs_ring_ref(id, a->k, 1));
		BS_W(h, t, d->fe, "event-channel", "%d", 10 + a->k);
		BS_W(h, t, d->fe, "request-rx-copy", "1");
		BS_W(h, t, d->fe, "feature-rx-notify", "1");
		BS_W(h, t, d->fe, "feature-sg", "1");
		BS_W(h, t, d->fe, "feature-gso-tcpv4", "1");
	}
	return (true);
}

/* blkback's connect() transaction: what the frontend needs of the disk. */
static bool
bs_connect_body(struct xs_handle *h, xs_transaction_t t, void *arg)
{
	struct bs_devarg	*a = arg;
	const struct bs_dev	*d = &a->vm->dev[a->k];

	BS_W(h, t, d->be, "feature-flush-cache", "1");
	BS_W(h, t, d->be, "feature-discard", "0");
	BS_W(h, t, d->be, "feature-persistent", "1");
	BS_W(h, t, d->be, "sectors", "%lu", bs_sectors(a->vm->id, a->k));
	BS_W(h, t, d->be, "info", "0");
	BS_W(h, t, d->be, "sector-size", "512");
	BS_W(h, t, d->be, "physical-sector-size", "512");
	return (true);
}

/* Compare a node's value with the expected one; false with a message. */
static bool
bs_expect(struct xs_handle *h, const char *path, const char *want,
    char *msg, size_t len)
{
	char		*v;
	unsigned	 n;
	bool		 ok;

	if ((v = xs_read(h, XBT_NULL, path, &n)) == NULL) {
		snprintf(msg, len, "%s: %s (expected \"%s\")", path,
		    strerror(errno), want);
		return (false);
	}
	if (!(ok = strcmp(v, want) == 0))
		snprintf(msg, len, "%s is \"%s\", expected \"%s\"", path, v,
		    want);
	free(v);
	return (ok);
}

/* Mark progress on a VM (a state changed). */
static void
bs_progress(struct bs_vm *vm)
{
	clock_gettime(CLOCK_MONOTONIC, &vm->progress);
}

/*
 * The backend sees a device of its VM (or not yet): once its backend
 * directory is there in state 1, read the other end, write the features,
 * switch to InitWait and watch the frontend's state.
 */
static int
bs_be_probe(struct bs_worker *w, struct bs_vm *vm, int k)
{
	struct bs_dev	*d = &vm->dev[k];
	char		 path[BS_PATH], tok[32], msg[BS_PATH * 2];
	int		 s, r;

	if (d->be_state != 0)
		return (0);
	if ((s = bs_read_int(w->be, "%s/state", d->be)) < 0)
		return (errno == ENOENT ? 0 : -errno);
	if (s != 1)
		return (-EPROTO);
	snprintf(path, sizeof path, "%s/frontend", d->be);
	if (!bs_expect(w->be, path, d->fe, msg, sizeof msg)) {
		bs_fail(w->run, "VM %u: backend probe: %s", vm->id, msg);
		return (-EPROTO);
	}
	if (bs_read_int(w->be, "%s/frontend-id", d->be) != (int)vm->id)
		return (-EPROTO);
	if (bs_devspecs[k].kind == BS_VBD) {
		if (!bs_write(w->be, XBT_NULL, (snprintf(path, sizeof path,
		    "%s/feature-max-indirect-segments", d->be), path), "256") ||
		    !bs_write(w->be, XBT_NULL, (snprintf(path, sizeof path,
		    "%s/max-ring-page-order", d->be), path), "4"))
			return (-errno);
	} else {
		static const char	*feat[] = { "feature-sg",
					    "feature-gso-tcpv4",
					    "feature-rx-copy",
					    "feature-split-event-channels" };
		size_t			 i;

		for (i = 0; i < sizeof feat / sizeof feat[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", d->be, feat[i]);
			if (!bs_write(w->be, XBT_NULL, path, "1"))
				return (-errno);
		}
	}
	if ((r = bs_switch_state(w->run, vm, w->be, d->be, 2)) < 0)
		return (r);
	d->be_state = 2;
	bs_progress(vm);
	snprintf(path, sizeof path, "%s/state", d->fe);
	snprintf(tok, sizeof tok, "b%u:%d", vm->id, k);
	if (!xs_watch(w->be, path, tok))
		return (-errno);
	return (0);
}

/*
 * The frontend's state changed: once it is Initialised, read its ring
 * references and event channel, connect (disks: in a transaction) and
 * switch to Connected.
 */
static int
bs_be_otherend(struct bs_worker *w, struct bs_vm *vm, int k)
{
	struct bs_dev		*d = &vm->dev[k];
	struct bs_devarg	 a = { vm, k };
	int			 s, r;

	if (d->be_state != 2)
		return (0);
	if ((s = bs_read_int(w->be, "%s/state", d->fe)) < 0)
		return (-errno);
	if (s != 3)
		return (0);
	if (bs_read_int(w->be, "%s/%s", d->fe, bs_devspecs[k].kind == BS_VBD ?
	    "ring-ref" : "tx-ring-ref") != (int)bs_ring_ref(vm->id, k, 0) ||
	    bs_read_int(w->be, "%s/event-channel", d->fe) != 10 + k) {
		bs_fail(w->run, "VM %u: backend %s: the frontend's ring "
		    "reference or event channel is wrong", vm->id, d->be);
		return (-EPROTO);
	}
	if (bs_devspecs[k].kind == BS_VBD &&
	    (r = bs_txn(w->run, vm, w->be, false, bs_connect_body, &a)) < 0)
		return (r);
	if ((r = bs_switch_state(w->run, vm, w->be, d->be, 4)) < 0)
		return (r);
	d->be_state = 4;
	bs_progress(vm);
	return (0);
}

/*
 * The guest's xenbus lists its devices: each one found gets its backend
 * read and a watch on the backend's state.
 */
static int
bs_fe_discover(struct bs_worker *w, struct bs_vm *vm)
{
	char		**ents, path[BS_PATH], tok[32], want[16], msg[BS_PATH * 2];
	unsigned	  n, i;
	int		  k, found = 0;

	for (k = 0; k < BS_DEVS; k++) {
		struct bs_dev	*d = &vm->dev[k];
		bool		 listed = false;

		if (d->fe_state != 0) {
			found++;
			continue;
		}
		snprintf(path, sizeof path, "%s/device/%s", vm->dom,
		    bs_devspecs[k].type);
		if ((ents = xs_directory(w->fe, XBT_NULL, path, &n)) == NULL) {
			if (errno == ENOENT)
				continue;
			return (-errno);
		}
		snprintf(want, sizeof want, "%u", bs_devspecs[k].devid);
		for (i = 0; i < n; i++)
			if (strcmp(ents[i], want) == 0)
				listed = true;
		free(ents);
		if (!listed)
			continue;
		snprintf(path, sizeof path, "%s/backend", d->fe);
		if (!bs_expect(w->fe, path, d->be, msg, sizeof msg)) {
			bs_fail(w->run, "VM %u: frontend: %s", vm->id, msg);
			return (-EPROTO);
		}
		if (bs_read_int(w->fe, "%s/backend-id", d->fe) != 0)
			return (-EPROTO);
		d->fe_state = 1;
		found++;
		snprintf(path, sizeof path, "%s/state", d->be);
		snprintf(tok, sizeof tok, "f%u:%d", vm->id, k);
		if (!xs_watch(w->fe, path, tok))
			return (-errno);
	}
	vm->discovered = found == BS_DEVS;
	return (0);
}

/*
 * The backend's state changed: at InitWait, grant the ring and switch
 * to Initialised; at Connected, read the disk's size and switch to
 * Connected.
 */
static int
bs_fe_otherend(struct bs_worker *w, struct bs_vm *vm, int k)
{
	struct bs_dev		*d = &vm->dev[k];
	struct bs_devarg	 a = { vm, k };
	int			 s, r;

	if ((s = bs_read_int(w->fe, "%s/state", d->be)) < 0)
		return (-errno);
	if (d->fe_state == 1 && s == 2) {
		if ((r = bs_txn(w->run, vm, w->fe, false, bs_talk_body,
		    &a)) < 0)
			return (r);
		if ((r = bs_switch_state(w->run, vm, w->fe, d->fe, 3)) < 0)
			return (r);
		d->fe_state = 3;
		bs_progress(vm);
	} else if (d->fe_state == 3 && s == 4) {
		if (bs_devspecs[k].kind == BS_VBD &&
		    (bs_read_int(w->fe, "%s/sector-size", d->be) != 512 ||
		    bs_read_int(w->fe, "%s/info", d->be) != 0 ||
		    bs_read_int(w->fe, "%s/feature-flush-cache", d->be) != 1)) {
			bs_fail(w->run, "VM %u: frontend %s: the disk's "
			    "details are wrong", vm->id, d->fe);
			return (-EPROTO);
		}
		if ((r = bs_switch_state(w->run, vm, w->fe, d->fe, 4)) < 0)
			return (r);
		d->fe_state = 4;
		vm->connected++;
		bs_progress(vm);
	}
	return (0);
}

/* The device a path under a backend bus watch is about, or -1 for all. */
static int
bs_be_device(struct bs_vm *vm, const char *path)
{
	size_t	l;
	int	k;

	for (k = 0; k < BS_DEVS; k++) {
		l = strlen(vm->dev[k].be);
		if (strncmp(path, vm->dev[k].be, l) == 0 &&
		    (path[l] == '\0' || path[l] == '/'))
			return (k);
	}
	return (-1);
}

/* A watch event on the backend's connection. */
static int
bs_be_event(struct bs_worker *w, struct bs_vm *vm, const char *path,
    const char *token)
{
	unsigned	id;
	int		k, r;

	if (token[0] == 'B' && sscanf(token + 1, "%u", &id) == 1) {
		if (id != vm->id)
			return (0);
		if ((k = bs_be_device(vm, path)) >= 0)
			return (bs_be_probe(w, vm, k));
		for (k = 0; k < BS_DEVS; k++)
			if ((r = bs_be_probe(w, vm, k)) < 0)
				return (r);
		return (0);
	}
	if (token[0] == 'b' && sscanf(token + 1, "%u:%d", &id, &k) == 2 &&
	    id == vm->id && k >= 0 && k < BS_DEVS)
		return (bs_be_otherend(w, vm, k));
	return (0);
}

/* A watch event on the frontend's connection. */
static int
bs_fe_event(struct bs_worker *w, struct bs_vm *vm, const char *path,
    const char *token)
{
	unsigned	id;
	int		k;

	(void)path;
	if (token[0] == 'F' && sscanf(token + 1, "%u", &id) == 1) {
		if (id != vm->id || vm->discovered)
			return (0);
		return (bs_fe_discover(w, vm));
	}
	if (token[0] == 'f' && sscanf(token + 1, "%u:%d", &id, &k) == 2 &&
	    id == vm->id && k >= 0 && k < BS_DEVS)
		return (bs_fe_otherend(w, vm, k));
	return (0);
}

/* Handle every watch event waiting on one side's connection. */
static int
bs_drain(struct bs_worker *w, struct bs_vm *vm, bool backend)
{
	struct xs_handle	*h = backend ? w->be : w->fe;
	char			**ev;
	int			  r;

	for (;;) {
		if ((ev = xs_check_watch(h)) == NULL)
			return (errno == EAGAIN ? 0 : -errno);
		r = backend ?
		    bs_be_event(w, vm, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]) :
		    bs_fe_event(w, vm, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
		if (r < 0)
			return (r);
	}
}

/* Boot one VM: its transaction, then the handshake. 0 or -errno. */
static int
bs_boot(struct bs_worker *w, struct bs_vm *vm)
{
	struct pollfd	pfd[2];
	char		path[BS_PATH], tok[32];
	const char	*types[] = { "vbd", "vif" };
	unsigned	id = vm->id;
	size_t		i;
	int		k, r;

	snprintf(vm->dom, sizeof vm->dom, "/local/domain/%u", id);
	snprintf(vm->uuid, sizeof vm->uuid,
	    "5707a000-0000-4000-8000-%012x", id);
	snprintf(vm->vm, sizeof vm->vm, "/vm/%s", vm->uuid);
	snprintf(vm->libxl, sizeof vm->libxl, "/libxl/%u", id);
	for (k = 0; k < BS_DEVS; k++) {
		snprintf(vm->dev[k].fe, sizeof vm->dev[k].fe,
		    "%s/device/%s/%u", vm->dom, bs_devspecs[k].type,
		    bs_devspecs[k].devid);
		snprintf(vm->dev[k].be, sizeof vm->dev[k].be,
		    "/local/domain/0/backend/%s/%u/%u", bs_devspecs[k].type,
		    id, bs_devspecs[k].devid);
	}
	bs_progress(vm);

	/* The backend driver is up before the domain is made. */
	snprintf(tok, sizeof tok, "B%u", id);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "/local/domain/0/backend/%s/%u",
		    types[i], id);
		if (!xs_watch(w->be, path, tok))
			return (-errno);
	}
	if ((r = bs_txn(w->run, vm, w->ts, true, bs_create_body, vm)) < 0)
		return (r);
	bs_progress(vm);
	/* The guest's kernel starts once its devices are there. */
	snprintf(path, sizeof path, "%s/device", vm->dom);
	snprintf(tok, sizeof tok, "F%u", id);
	if (!xs_watch(w->fe, path, tok))
		return (-errno);

	pfd[0].fd = xs_fileno(w->be);
	pfd[1].fd = xs_fileno(w->fe);
	pfd[0].events = pfd[1].events = POLLIN;
	while (vm->connected < BS_DEVS) {
		if (atomic_load(&w->run->stop))
			return (-ECANCELED);
		if (bs_elapsed_ns(&vm->progress) / 1000000000u >
		    BS_STALL_SECS) {
			char	st[128];
			size_t	o = 0;

			for (k = 0; k < BS_DEVS; k++)
				o += (size_t)snprintf(st + o, sizeof st - o,
				    " %s/%u be %d fe %d", bs_devspecs[k].type,
				    bs_devspecs[k].devid, vm->dev[k].be_state,
				    vm->dev[k].fe_state);
			bs_fail(w->run, "VM %u: no progress in %d s:%s", id,
			    BS_STALL_SECS, st);
			return (-ETIMEDOUT);
		}
		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			return (-errno);
		if ((r = bs_drain(w, vm, true)) < 0 ||
		    (r = bs_drain(w, vm, false)) < 0)
			return (r);
	}

	/* The backend's bus watch is one for all VMs on a real host. */
	snprintf(tok, sizeof tok, "B%u", id);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "/local/domain/0/backend/%s/%u",
		    types[i], id);
		if (!xs_unwatch(w->be, path, tok))
			return (-errno);
	}
	return (0);
}

/* A worker: boot VMs until there are none left or the run stops. */
static void *
bs_worker_main(void *arg)
{
	struct bs_worker	*w = arg;
	struct bs_run		*run = w->run;
	struct bs_vm		*vm;
	struct timespec		 t;
	unsigned		 i;
	int			 r;

	if ((vm = malloc(sizeof *vm)) == NULL) {
		bs_fail(run, "out of memory");
		goto out;
	}
	if ((w->ts = xs_open(0)) == NULL || (w->be = xs_open(0)) == NULL ||
	    (w->fe = xs_open(0)) == NULL) {
		bs_fail(run, "cannot connect to the store: %s",
		    strerror(errno));
		goto out;
	}
	if (xs_fileno(w->be) < 0 || xs_fileno(w->fe) < 0) {
		bs_fail(run, "xs_fileno: %s", strerror(errno));
		goto out;
	}
	while (!atomic_load(&run->stop)) {
		if ((i = atomic_fetch_add(&run->next, 1)) >= run->n)
			break;
		memset(vm, 0, sizeof *vm);
		vm->id = run->base + i;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((r = bs_boot(w, vm)) == -ECANCELED)
			break;
		if (r < 0) {
			bs_fail(run, "VM %u: %s (last failed request: %s)",
			    vm->id, strerror(-r), bs_failed);
			break;
		}
		run->res[i].usecs = bs_elapsed_ns(&t) / 1000u;
		run->res[i].retries = vm->retries;
		atomic_store(&run->res[i].done, true);
		atomic_fetch_add(&run->done, 1);
		w->last_done_ns = bs_elapsed_ns(&run->t0);
	}
out:
	free(vm);
	atomic_fetch_add(&run->finished, 1);
	return (NULL);
}

/* Read back one created VM; 0, or -1 with a message. */
static int
bs_verify_vm(struct xs_handle *h, unsigned id, char *msg, size_t len)
{
	struct xs_permissions	*perms;
	char			 dom[BS_DIR], vm[BS_DIR], p[BS_PATH];
	char			 v[BS_PATH];
	unsigned		 n;
	int			 k;

	snprintf(dom, sizeof dom, "/local/domain/%u", id);
	snprintf(vm, sizeof vm, "/vm/5707a000-0000-4000-8000-%012x", id);
#define BS_EXPECT(path, ...)						\
	do {								\
		snprintf(v, sizeof v, __VA_ARGS__);			\
		if (!bs_expect(h, (path), v, msg, len))			\
			return (-1);					\
	} while (0)
#define BS_P(dir, name) (snprintf(p, sizeof p, "%s/%s", (dir), (name)), p)
	if ((perms = xs_get_permissions(h, XBT_NULL, dom, &n)) == NULL) {
		snprintf(msg, len, "%s: permissions: %s", dom,
		    strerror(errno));
		return (-1);
	}
	if (n != 2 || perms[0].id != 0 || perms[0].perms != XS_PERM_NONE ||
	    perms[1].id != id || perms[1].perms != XS_PERM_READ) {
		free(perms);
		snprintf(msg, len, "%s: permissions are not n0,r%u", dom, id);
		return (-1);
	}
	free(perms);
	BS_EXPECT(BS_P(dom, "name"), "storm-%u", id);
	BS_EXPECT(BS_P(dom, "vm"), "%s", vm);
	BS_EXPECT(BS_P(dom, "memory/target"), "1048576");
	BS_EXPECT(BS_P(dom, "control/platform-feature-xs_reset_watches"),
	    "1");
	BS_EXPECT(BS_P(vm, "uuid"), "5707a000-0000-4000-8000-%012x", id);
	BS_EXPECT(BS_P(vm, "name"), "storm-%u", id);
	snprintf(p, sizeof p, "/libxl/%u/type", id);
	BS_EXPECT(p, "pv");
	for (k = 0; k < BS_DEVS; k++) {
		const struct bs_devspec	*s = &bs_devspecs[k];
		char			 fe[BS_DEVPATH], be[BS_DEVPATH];

		snprintf(fe, sizeof fe, "%s/device/%s/%u", dom, s->type,
		    s->devid);
		snprintf(be, sizeof be, "/local/domain/0/backend/%s/%u/%u",
		    s->type, id, s->devid);
		BS_EXPECT(BS_P(fe, "state"), "4");
		BS_EXPECT(BS_P(be, "state"), "4");
		BS_EXPECT(BS_P(fe, "backend"), "%s", be);
		BS_EXPECT(BS_P(be, "frontend"), "%s", fe);
		BS_EXPECT(BS_P(be, "frontend-id"), "%u", id);
		BS_EXPECT(BS_P(fe, "event-channel"), "%d", 10 + k);
		if ((perms = xs_get_permissions(h, XBT_NULL, fe, &n)) ==
		    NULL) {
			snprintf(msg, len, "%s: permissions: %s", fe,
			    strerror(errno));
			return (-1);
		}
		if (n != 2 || perms[0].id != id ||
		    perms[0].perms != XS_PERM_NONE || perms[1].id != 0 ||
		    perms[1].perms != XS_PERM_READ) {
			free(perms);
			snprintf(msg, len, "%s: permissions are not n%u,r0",
			    fe, id);
			return (-1);
		}
		free(perms);
		if (s->kind == BS_VBD) {
			BS_EXPECT(BS_P(fe, "ring-ref"), "%u",
			    bs_ring_ref(id, k, 0));
			BS_EXPECT(BS_P(be, "sectors"), "%lu",
			    bs_sectors(id, k));
			BS_EXPECT(BS_P(be, "params"), "/var/lib/storm/%u-%s.img",
			    id, s->vdev);
		} else {
			BS_EXPECT(BS_P(fe, "rx-ring-ref"), "%u",
			    bs_ring_ref(id, k, 1));
			BS_EXPECT(BS_P(be, "mac"), "00:16:3e:%02x:%02x:%02x",
			    (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
		}
	}
#undef BS_P
#undef BS_EXPECT
	return (0);
}

/* Read back every -V'th created VM; the number that were wrong. */
static int
bs_verify(struct bs_run *run)
{
	struct xs_handle	*h;
	char			 msg[BS_PATH * 3];
	unsigned		 i, checked = 0;
	int			 bad = 0;

	if ((h = xs_open(0)) == NULL) {
		fprintf(stderr, "bootstorm: verify: cannot connect: %s\n",
		    strerror(errno));
		return (-1);
	}
	for (i = 0; i < run->n; i += run->every) {
		if (!atomic_load(&run->res[i].done))
			continue;
		checked++;
		if (bs_verify_vm(h, run->base + i, msg, sizeof msg) < 0) {
			if (bad++ < 10)
				fprintf(stderr, "bootstorm: VERIFY FAILED: "
				    "VM %u: %s\n", run->base + i, msg);
		}
	}
	xs_close(h);
	fprintf(stderr, "bootstorm: verified %u VMs, %d wrong\n", checked,
	    bad);
	return (bad);
}

/* Write a small file in a directory; 0 or -errno. */
static int
bs_put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char	path[BS_PATH];
	int	fd, e = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return (-errno);
	if (write(fd, data, len) != (ssize_t)len)
		e = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && e == 0)
		e = -errno;
	return (e);
}

/*
 * The hypervisor's part of making the domains, on the simulated host:
 * a directory per domain with its pages, name, uuid and, last, state.
 * 0, or -1 (said).
 */
static int
bs_make_domains(const char *root, unsigned base, unsigned n)
{
	static const char	page[4096];
	char			dir[BS_PATH], sub[BS_PATH + 8], line[64];
	unsigned		i, id;
	int			e;

	snprintf(dir, sizeof dir, "%s/domains", root);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "bootstorm: mkdir %s: %s\n", dir,
		    strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		id = base + i;
		snprintf(dir, sizeof dir, "%s/domains/%u", root, id);
		snprintf(sub, sizeof sub, "%s/gnttab", dir);
		if (mkdir(dir, 0755) != 0 || mkdir(sub, 0755) != 0) {
			fprintf(stderr, "bootstorm: mkdir %s: %s\n", dir,
			    strerror(errno));
			return (-1);
		}
		e = bs_put_file(sub, "0", page, sizeof page);
		if (e == 0)
			e = bs_put_file(sub, "1", page, sizeof page);
		snprintf(line, sizeof line, "storm-%u\n", id);
		if (e == 0)
			e = bs_put_file(dir, "name", line, strlen(line));
		snprintf(line, sizeof line,
		    "5707a000-0000-4000-8000-%012x\n", id);
		if (e == 0)
			e = bs_put_file(dir, "uuid", line, strlen(line));
		if (e == 0)
			e = bs_put_file(dir, "state", "running\n", 8);
		if (e != 0) {
			fprintf(stderr, "bootstorm: domain %u: %s\n", id,
			    strerror(-e));
			return (-1);
		}
	}
	return (0);
}

/* qsort comparison of uint64_t. */
static int
bs_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Say how to call us. */
static void
bs_usage(void)
{
	fprintf(stderr, "usage: bootstorm [-N vms] [-P workers] [-b base-domid]"
	    " [-T limit-secs] [-V verify-every] [-l label]\n"
	    "       bootstorm -m simroot [-N vms] [-b base-domid]\n"
	    "  the store's socket is $XENSTORED_PATH\n");
}

int
main(int argc, char **argv)
{
	static struct bs_run	 run;
	struct rusage		 ru;
	struct bs_worker	*ws;
	uint64_t		*lat, end_ns = 0, retries, maxr = 0;
	unsigned		 i, nlat = 0, retried = 0;
	const char		*verdict = "skipped", *simroot = NULL;
	double			 secs;
	bool			 hung = false, complete;
	int			 ch, bad = 0, status;

	run.n = 1000;
	run.p = 8;
	run.base = 1;
	run.every = 1;
	run.limit = 300;
	run.label = "store";
	while ((ch = getopt(argc, argv, "b:hl:m:N:P:T:V:")) != -1) {
		switch (ch) {
		case 'b': run.base = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l': run.label = optarg; break;
		case 'm': simroot = optarg; break;
		case 'N': run.n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': run.p = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': run.limit = strtod(optarg, NULL); break;
		case 'V': run.every = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default: bs_usage(); return (2);
		}
	}
	if (run.n == 0 || run.p == 0 || run.base == 0 || run.limit <= 0) {
		bs_usage();
		return (2);
	}
	if (simroot != NULL)
		return (bs_make_domains(simroot, run.base, run.n) == 0 ? 0 : 1);
	if (run.p > run.n)
		run.p = run.n;
	pthread_mutex_init(&run.lock, NULL);
	if ((run.res = calloc(run.n, sizeof *run.res)) == NULL ||
	    (ws = calloc(run.p, sizeof *ws)) == NULL ||
	    (lat = calloc(run.n, sizeof *lat)) == NULL) {
		fprintf(stderr, "bootstorm: out of memory\n");
		return (1);
	}

	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	for (i = 0; i < run.p; i++) {
		ws[i].run = &run;
		if ((errno = pthread_create(&ws[i].thread, NULL,
		    bs_worker_main, &ws[i])) != 0) {
			fprintf(stderr, "bootstorm: pthread_create: %s\n",
			    strerror(errno));
			return (1);
		}
	}
	/* Workers stop at the limit; one stuck in a request is left. */
	while (atomic_load(&run.finished) < run.p) {
		double el = (double)bs_elapsed_ns(&run.t0) / 1e9;

		if (el > run.limit)
			atomic_store(&run.stop, true);
		if (el > run.limit + BS_GRACE_SECS) {
			hung = true;
			break;
		}
		usleep(20000);
	}
	complete = atomic_load(&run.done) == run.n;
	if (!hung)
		for (i = 0; i < run.p; i++)
			pthread_join(ws[i].thread, NULL);
	for (i = 0; i < run.p; i++)
		if (ws[i].last_done_ns > end_ns)
			end_ns = ws[i].last_done_ns;
	secs = complete ? (double)end_ns / 1e9 : run.limit;
	for (i = 0; i < run.n; i++) {
		if (!atomic_load(&run.res[i].done))
			continue;
		lat[nlat++] = run.res[i].usecs;
		if (run.res[i].retries > maxr)
			maxr = run.res[i].retries;
		if (run.res[i].retries > 0)
			retried++;
	}
	qsort(lat, nlat, sizeof *lat, bs_cmp_u64);
	if (atomic_load(&run.failed))
		fprintf(stderr, "bootstorm: ERROR: %s\n", run.error);
	if (!hung && !atomic_load(&run.failed) && run.every > 0 && nlat > 0) {
		bad = bs_verify(&run);
		verdict = bad == 0 ? "ok" : "FAILED";
	}
	getrusage(RUSAGE_SELF, &ru);
	retries = atomic_load(&run.retries_create) +
	    atomic_load(&run.retries_dev);
	printf("RESULT target=%s vms=%u p=%u done=%u complete=%d secs=%.3f "
	    "vms_per_s=%.1f retries=%" PRIu64 " retries_independent=%" PRIu64
	    " retries_create=%" PRIu64 " retries_dev=%" PRIu64
	    " retries_max_vm=%" PRIu64 " vms_retried=%u txns=%" PRIu64
	    " vm_p50_ms=%.1f vm_p99_ms=%.1f driver_cpu_s=%.2f limit=%g"
	    " hung=%d failed=%d verify=%s\n",
	    run.label, run.n, run.p, atomic_load(&run.done), complete, secs,
	    secs > 0 ? atomic_load(&run.done) / secs : 0.0, retries, retries,
	    (uint64_t)atomic_load(&run.retries_create),
	    (uint64_t)atomic_load(&run.retries_dev), maxr, retried,
	    (uint64_t)atomic_load(&run.txns),
	    nlat ? lat[(nlat - 1) / 2] / 1e3 : 0.0,
	    nlat ? lat[(nlat * 99 + 99) / 100 - 1] / 1e3 : 0.0,
	    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, run.limit,
	    hung, atomic_load(&run.failed), verdict);
	fflush(stdout);
	if (atomic_load(&run.failed) || bad != 0)
		status = 1;
	else if (!complete)
		status = 3;
	else
		status = 0;
	if (hung)
		_exit(status);
	return (status);
}
