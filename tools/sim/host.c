/*
 * The toolstack's part of the simulated host: domains are made and
 * destroyed as sim-abi.md says (a directory with state, name, uuid and
 * two page files), and their store keys are written as libxl writes them,
 * through libxenstore on the daemon's Unix socket, one transaction per
 * domain. One store handle serves every domain: 10,000 domains take
 * seconds.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "sim.h"
#include "simdom.h"
#include "xmalloc.h"

#define HOST_XS_GFN(id)		(0x100000u + (id))	/* xenstore page */
#define HOST_CONS_GFN(id)	(0x200000u + (id))	/* console page */
#define HOST_CONSOLE_LIMIT	1048576
#define HOST_TX_RETRIES		100

/* One transaction's writes; the first failure is kept, later steps skip. */
struct host_tx {
	struct xs_handle	*xsh;
	xs_transaction_t	 t;
	char			 failed[256];	/* the path that failed */
	int			 e;
};

static struct xs_handle *host_store_open(const struct sim_env *,
		    const char *);
static int	host_put_file(const char *, const char *, const char *,
		    size_t);
static int	host_make_page(const char *, unsigned);
static void	host_uuid(char [37]);
static int	host_next_domid(const char *, uint32_t *);
static int	host_domain_files(const char *, uint32_t, const char *,
		    const char *);
static void	host_node(struct host_tx *, const char *,
		    struct xs_permissions *, unsigned, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static int	host_domain_store(struct xs_handle *, uint32_t, const char *,
		    const char *, uint64_t);
static void	host_undo_store(struct xs_handle *, uint32_t, const char *);
static int	host_set_state(const char *, uint32_t, const char *);
static int	host_parse_ids(const char *, int, char **, uint32_t **);
static void	host_dom_exc(const char *, const char *);
static void	host_create_usage(FILE *);
static void	host_destroy_usage(FILE *);

/* Connect to the store as the toolstack does: libxenstore honours
 * XENSTORED_PATH, so the socket we were given goes there. */
static struct xs_handle *
host_store_open(const struct sim_env *env, const char *cmd)
{
	struct xs_handle	*xsh;

	if (setenv("XENSTORED_PATH", env->socket, 1) != 0) {
		fprintf(stderr, "xsc-sim %s: setenv: %s\n", cmd,
		    strerror(errno));
		return (NULL);
	}
	if ((xsh = xs_open(0)) == NULL)
		fprintf(stderr, "xsc-sim %s: cannot connect to the store at "
		    "%s: %s\n", cmd, env->socket, strerror(errno));
	return (xsh);
}

/* Write a whole small file dir/name by writing a temporary and renaming
 * it: the daemon reads either the old contents or the new. 0 or -errno. */
static int
host_put_file(const char *dir, const char *name, const char *data,
    size_t len)
{
	char	tmp[PATH_MAX], path[PATH_MAX];
	int	fd, e = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return (-errno);
	if (write(fd, data, len) != (ssize_t)len)
		e = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && e == 0)
		e = -errno;
	if (e == 0 && rename(tmp, path) != 0)
		e = -errno;
	if (e != 0)
		unlink(tmp);
	return (e);
}

/* Make gnttab/<gref>: exactly one page of zeros. 0 or -errno. */
static int
host_make_page(const char *dir, unsigned gref)
{
	char	path[PATH_MAX];
	int	fd, e = 0;

	snprintf(path, sizeof path, "%s/gnttab/%u", dir, gref);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return (-errno);
	if (ftruncate(fd, SIM_PAGE_SIZE) != 0)
		e = -errno;
	close(fd);
	return (e);
}

/* A random (version 4) uuid, as text. */
static void
host_uuid(char out[37])
{
	unsigned char	b[16];
	size_t		got = 0;
	ssize_t		n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	if (got < sizeof b) {
		/* No kernel randomness: a uuid need only be unique here. */
		srandom((unsigned)(now_us() ^ (uint64_t)getpid()));
		for (; got < sizeof b; got++)
			b[got] = (unsigned char)random();
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* One more than the highest domid under root/domains, or 1. */
static int
host_next_domid(const char *root, uint32_t *out)
{
	struct dirent	*de;
	char		 path[PATH_MAX];
	uint32_t	 id, max = 0;
	DIR		*dir;

	snprintf(path, sizeof path, "%s/domains", root);
	if ((dir = opendir(path)) == NULL) {
		if (errno != ENOENT)
			return (-errno);
		*out = 1;
		return (0);
	}
	while ((de = readdir(dir)) != NULL) {
		if (sim_parse_domid(de->d_name, &id) == 0 && id > max)
			max = id;
	}
	closedir(dir);
	*out = max + 1;
	return (0);
}

/* The domain's directory: pages, name and uuid first and state last, as
 * a directory without state is a domain being made. 0 or -1 (said). */
static int
host_domain_files(const char *root, uint32_t domid, const char *name,
    const char *uuid)
{
	char		 dir[PATH_MAX], sub[PATH_MAX], line[128];
	const char	*what = dir;
	int		 e;

	if ((size_t)snprintf(dir, sizeof dir, "%s/domains/%u", root, domid) >=
	    sizeof dir || (size_t)snprintf(sub, sizeof sub, "%s/gnttab",
	    dir) >= sizeof sub) {
		fprintf(stderr, "xsc-sim create: %s: path too long\n", root);
		return (-1);
	}
	if (mkdir(dir, 0755) != 0) {
		e = -errno;
		if (e == -EEXIST)
			fprintf(stderr, "xsc-sim create: domain %u already "
			    "exists (%s)\n", domid, dir);
		else
			fprintf(stderr, "xsc-sim create: mkdir %s: %s\n", dir,
			    strerror(-e));
		return (-1);
	}
	if (mkdir(sub, 0755) != 0) {
		e = -errno;
		what = sub;
		goto fail;
	}
	what = "gnttab/0";
	if ((e = host_make_page(dir, 0)) != 0)
		goto fail;
	what = "gnttab/1";
	if ((e = host_make_page(dir, 1)) != 0)
		goto fail;
	what = "name";
	snprintf(line, sizeof line, "%s\n", name);
	if ((e = host_put_file(dir, "name", line, strlen(line))) != 0)
		goto fail;
	what = "uuid";
	snprintf(line, sizeof line, "%s\n", uuid);
	if ((e = host_put_file(dir, "uuid", line, strlen(line))) != 0)
		goto fail;
	what = "state";
	if ((e = host_put_file(dir, "state", "running\n", 8)) != 0)
		goto fail;
	return (0);

fail:
	fprintf(stderr, "xsc-sim create: domain %u: %s: %s\n", domid, what,
	    strerror(-e));
	sim_rm_rf(dir);
	return (-1);
}

/* One node of a transaction: a directory (value NULL) or a value, and
 * the permissions if given (otherwise it inherits its parent's, as the
 * store does for a node dom0 makes). After a failure, nothing. */
static void
host_node(struct host_tx *tx, const char *value, struct xs_permissions *perms,
    unsigned nperms, const char *fmt, ...)
{
	va_list	ap;
	char	path[256];
	bool	ok;

	if (tx->e != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	if (value == NULL)
		ok = xs_mkdir(tx->xsh, tx->t, path);
	else
		ok = xs_write(tx->xsh, tx->t, path, value, strlen(value));
	if (ok && perms != NULL)
		ok = xs_set_permissions(tx->xsh, tx->t, path, perms, nperms);
	if (!ok) {
		tx->e = errno != 0 ? errno : EIO;
		snprintf(tx->failed, sizeof tx->failed, "%s", path);
	}
}

/*
 * The store keys of a new domain, as libxl's libxl__domain_make and
 * libxl__build_post write them, in one transaction (again on EAGAIN):
 * /local/domain/<id> is dom0's and readable by the guest; the guest owns
 * device, data, drivers, feature, attr, error and control/shutdown;
 * console/ is the guest's (readable by the backend, dom0), with the ring
 * reference and port in it read-only for the guest. 0 or -1 (said).
 */
static int
host_domain_store(struct xs_handle *xsh, uint32_t domid, const char *name,
    const char *uuid, uint64_t limit)
{
	static const char	*rw_dirs[] = { "device", "data", "drivers",
				    "feature", "attr", "error",
				    "control/shutdown" };
	struct xs_permissions	 ro[2], rw[1], front[2];
	struct host_tx		 tx;
	char			 dom[64], vm[64], v[64];
	size_t			 i;
	int			 tries;

	ro[0].id = 0;
	ro[0].perms = XS_PERM_NONE;
	ro[1].id = domid;
	ro[1].perms = XS_PERM_READ;
	rw[0].id = domid;
	rw[0].perms = XS_PERM_NONE;
	front[0].id = domid;
	front[0].perms = XS_PERM_NONE;
	front[1].id = 0;
	front[1].perms = XS_PERM_READ;
	snprintf(dom, sizeof dom, "/local/domain/%u", domid);
	snprintf(vm, sizeof vm, "/vm/%s", uuid);

	for (tries = 0; tries < HOST_TX_RETRIES; tries++) {
		memset(&tx, 0, sizeof tx);
		tx.xsh = xsh;
		if ((tx.t = xs_transaction_start(xsh)) == XBT_NULL) {
			fprintf(stderr, "xsc-sim create: domain %u: "
			    "transaction start: %s\n", domid, strerror(errno));
			return (-1);
		}
		/* A leftover of an earlier domain with this id goes. */
		xs_rm(xsh, tx.t, dom);
		host_node(&tx, NULL, ro, 2, "%s", dom);
		host_node(&tx, NULL, ro, 2, "%s", vm);
		host_node(&tx, uuid, NULL, 0, "%s/uuid", vm);
		host_node(&tx, name, NULL, 0, "%s/name", vm);
		host_node(&tx, vm, NULL, 0, "%s/vm", dom);
		host_node(&tx, name, NULL, 0, "%s/name", dom);
		snprintf(v, sizeof v, "%u", domid);
		host_node(&tx, v, NULL, 0, "%s/domid", dom);
		host_node(&tx, NULL, ro, 2, "%s/control", dom);
		host_node(&tx, "1", NULL, 0,
		    "%s/control/platform-feature-multiprocessor-suspend", dom);
		host_node(&tx, "1", NULL, 0,
		    "%s/control/platform-feature-xs_reset_watches", dom);
		for (i = 0; i < sizeof rw_dirs / sizeof rw_dirs[0]; i++)
			host_node(&tx, NULL, rw, 1, "%s/%s", dom, rw_dirs[i]);
		host_node(&tx, "262144", NULL, 0, "%s/memory/static-max", dom);
		host_node(&tx, "262144", NULL, 0, "%s/memory/target", dom);
		snprintf(v, sizeof v, "%u", HOST_XS_GFN(domid));
		host_node(&tx, v, NULL, 0, "%s/store/ring-ref", dom);
		snprintf(v, sizeof v, "%u", SIM_XS_PORT);
		host_node(&tx, v, NULL, 0, "%s/store/port", dom);
		host_node(&tx, NULL, front, 2, "%s/console", dom);
		host_node(&tx, "0", NULL, 0, "%s/console/backend-id", dom);
		snprintf(v, sizeof v, "%" PRIu64, limit);
		host_node(&tx, v, NULL, 0, "%s/console/limit", dom);
		host_node(&tx, "xenconsoled", NULL, 0, "%s/console/type", dom);
		host_node(&tx, "pty", NULL, 0, "%s/console/output", dom);
		snprintf(v, sizeof v, "%u", HOST_CONS_GFN(domid));
		host_node(&tx, v, ro, 2, "%s/console/ring-ref", dom);
		snprintf(v, sizeof v, "%u", SIM_CONS_PORT);
		host_node(&tx, v, ro, 2, "%s/console/port", dom);
		if (tx.e != 0) {
			xs_transaction_end(xsh, tx.t, true);
			fprintf(stderr, "xsc-sim create: domain %u: %s: %s%s\n",
			    domid, tx.failed, strerror(tx.e), tx.e == ENOENT ?
			    " (the daemon accepts permissions only for "
			    "domains it sees: is it running with --sim-root "
			    "on this root?)" : "");
			return (-1);
		}
		if (xs_transaction_end(xsh, tx.t, false))
			return (0);
		if (errno != EAGAIN) {
			fprintf(stderr, "xsc-sim create: domain %u: "
			    "transaction end: %s\n", domid, strerror(errno));
			return (-1);
		}
	}
	fprintf(stderr, "xsc-sim create: domain %u: transaction conflicted "
	    "%d times, giving up\n", domid, HOST_TX_RETRIES);
	return (-1);
}

/* Remove what host_domain_store wrote, as libxl does for a domain it
 * could not finish making. */
static void
host_undo_store(struct xs_handle *xsh, uint32_t domid, const char *uuid)
{
	char	path[64];

	snprintf(path, sizeof path, "/local/domain/%u", domid);
	xs_rm(xsh, XBT_NULL, path);
	snprintf(path, sizeof path, "/vm/%s", uuid);
	xs_rm(xsh, XBT_NULL, path);
}

/* Print the usage of create. */
static void
host_create_usage(FILE *f)
{
	fprintf(f, "usage: xsc-sim create [--first ID] [--name PREFIX] "
	    "[--no-introduce] [--console-limit N] N\n");
}

/* create: make N domains, write their store keys and introduce them. */
int
host_create(const struct sim_env *env, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "first", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "no-introduce", no_argument, NULL, 'I' },
		{ "console-limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xs_handle		*xsh;
	const char			*prefix = "guest";
	char				 name[128], uuid[37];
	uint64_t			 count, limit = HOST_CONSOLE_LIMIT;
	uint32_t			 first = 0, id;
	int				 ch, introduce = 1, e;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (sim_parse_domid(optarg, &first) != 0) {
				fprintf(stderr, "xsc-sim create: --first: "
				    "not a domid (1-%u): %s\n", SIM_DOMID_MAX,
				    optarg);
				return (SIM_EXIT_ERR);
			}
			break;
		case 'n':
			if (strlen(optarg) > 64 || strchr(optarg, '/') ||
			    strchr(optarg, '\n')) {
				fprintf(stderr, "xsc-sim create: --name: a "
				    "prefix of at most 64 bytes, no '/' or "
				    "newline\n");
				return (SIM_EXIT_ERR);
			}
			prefix = optarg;
			break;
		case 'I':
			introduce = 0;
			break;
		case 'l':
			if (sim_parse_u64(optarg, UINT64_MAX, &limit) != 0) {
				fprintf(stderr, "xsc-sim create: "
				    "--console-limit: not a number: %s\n",
				    optarg);
				return (SIM_EXIT_ERR);
			}
			break;
		case 'h':
			host_create_usage(stdout);
			return (SIM_EXIT_OK);
		default:
			host_create_usage(stderr);
			return (SIM_EXIT_ERR);
		}
	}
	if (argc - optind != 1 || sim_parse_u64(argv[optind], SIM_DOMID_MAX,
	    &count) != 0 || count == 0) {
		host_create_usage(stderr);
		return (SIM_EXIT_ERR);
	}
	if (sim_need_root(env, "create") != 0)
		return (SIM_EXIT_ERR);
	if (first == 0 && (e = host_next_domid(env->root, &first)) != 0) {
		fprintf(stderr, "xsc-sim create: %s/domains: %s\n", env->root,
		    strerror(-e));
		return (SIM_EXIT_ERR);
	}
	if ((uint64_t)first + count - 1 > SIM_DOMID_MAX) {
		fprintf(stderr, "xsc-sim create: domids %u to %" PRIu64
		    " go past the last one, %u\n", first,
		    (uint64_t)first + count - 1, SIM_DOMID_MAX);
		return (SIM_EXIT_ERR);
	}
	snprintf(name, sizeof name, "%s/domains", env->root);
	if (mkdir(name, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "xsc-sim create: mkdir %s: %s\n", name,
		    strerror(errno));
		return (SIM_EXIT_ERR);
	}
	if ((xsh = host_store_open(env, "create")) == NULL)
		return (SIM_EXIT_ERR);
	for (id = first; id < first + count; id++) {
		snprintf(name, sizeof name, "%s%u", prefix, id);
		host_uuid(uuid);
		if (host_domain_files(env->root, id, name, uuid) != 0)
			goto fail;
		if (host_domain_store(xsh, id, name, uuid, limit) != 0)
			goto undo;
		if (introduce && !xs_introduce_domain(xsh, id, HOST_XS_GFN(id),
		    SIM_XS_PORT)) {
			fprintf(stderr, "xsc-sim create: introducing domain "
			    "%u: %s\n", id, strerror(errno));
			host_undo_store(xsh, id, uuid);
			goto undo;
		}
		printf("%u\n", id);
	}
	xs_close(xsh);
	return (fflush(stdout) == 0 ? SIM_EXIT_OK : SIM_EXIT_ERR);

undo:
	/* No half-made domain is left behind. */
	snprintf(name, sizeof name, "%s/domains/%u", env->root, id);
	sim_rm_rf(name);
fail:
	fflush(stdout);
	xs_close(xsh);
	return (SIM_EXIT_ERR);
}

/*
 * introduce [--times FILE] ID...: send XS_INTRODUCE for domains made with
 * create --no-introduce, one after the other, as a toolstack starting
 * them would; with --times, write "<domid> <microseconds>" for each.
 */
int
host_introduce(const struct sim_env *env, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "times", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xs_handle		*xsh;
	const char			*times = NULL;
	FILE				*tf = NULL;
	uint32_t			*ids;
	uint64_t			 t0;
	int				 ch, n, i, rc = SIM_EXIT_OK;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			times = optarg;
			break;
		case 'h':
			printf("usage: xsc-sim introduce [--times FILE] ID...\n");
			return (SIM_EXIT_OK);
		default:
			fprintf(stderr, "usage: xsc-sim introduce [--times FILE] "
			    "ID...\n");
			return (SIM_EXIT_ERR);
		}
	}
	if ((n = host_parse_ids("introduce", argc - optind, argv + optind,
	    &ids)) < 0)
		return (SIM_EXIT_ERR);
	if (times != NULL && (tf = fopen(times, "w")) == NULL) {
		fprintf(stderr, "xsc-sim introduce: %s: %s\n", times,
		    strerror(errno));
		free(ids);
		return (SIM_EXIT_ERR);
	}
	if ((xsh = host_store_open(env, "introduce")) == NULL) {
		if (tf != NULL)
			fclose(tf);
		free(ids);
		return (SIM_EXIT_ERR);
	}
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (!xs_introduce_domain(xsh, ids[i], HOST_XS_GFN(ids[i]),
		    SIM_XS_PORT)) {
			fprintf(stderr, "xsc-sim introduce: domain %u: %s\n",
			    ids[i], strerror(errno));
			rc = SIM_EXIT_ERR;
			continue;
		}
		if (tf != NULL)
			fprintf(tf, "%u %llu\n", ids[i],
			    (unsigned long long)(now_us() - t0));
	}
	xs_close(xsh);
	if (tf != NULL && fclose(tf) != 0) {
		fprintf(stderr, "xsc-sim introduce: %s: %s\n", times,
		    strerror(errno));
		rc = SIM_EXIT_ERR;
	}
	free(ids);
	return (rc);
}

/* Rewrite a domain's state file; 0, or -1 (said). */
static int
host_set_state(const char *root, uint32_t domid, const char *state)
{
	struct stat	st;
	char		dir[PATH_MAX], line[32];
	int		e;

	snprintf(dir, sizeof dir, "%s/domains/%u", root, domid);
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "xsc-sim: domain %u: %s: %s\n", domid, dir,
		    strerror(errno));
		return (-1);
	}
	snprintf(line, sizeof line, "%s\n", state);
	if ((e = host_put_file(dir, "state", line, strlen(line))) != 0) {
		fprintf(stderr, "xsc-sim: domain %u: writing state: %s\n",
		    domid, strerror(-e));
		return (-1);
	}
	return (0);
}

/* Parse the domids of destroy or shutdown into a new array; its length,
 * or -1 (said). */
static int
host_parse_ids(const char *cmd, int argc, char **argv, uint32_t **out)
{
	uint32_t	*ids;
	int		 i;

	if (argc == 0) {
		fprintf(stderr, "xsc-sim %s: which domains?\n", cmd);
		return (-1);
	}
	ids = xcalloc((size_t)argc, sizeof *ids);
	for (i = 0; i < argc; i++) {
		if (sim_parse_domid(argv[i], &ids[i]) != 0) {
			fprintf(stderr, "xsc-sim %s: not a domid (1-%u): %s\n",
			    cmd, SIM_DOMID_MAX, argv[i]);
			free(ids);
			return (-1);
		}
	}
	*out = ids;
	return (argc);
}

/* Raise VIRQ_DOM_EXC, saying so if nobody listens. */
static void
host_dom_exc(const char *root, const char *cmd)
{
	int	e;

	if ((e = sim_send_virq(root, SIM_VIRQ_DOM_EXC)) != 0)
		fprintf(stderr, "xsc-sim %s: VIRQ_DOM_EXC to %s/evtchn.sock: "
		    "%s (is the daemon running with this sim root?)\n", cmd,
		    root, strerror(-e));
}

/* Print the usage of destroy. */
static void
host_destroy_usage(FILE *f)
{
	fprintf(f, "usage: xsc-sim destroy [--timeout SEC] ID...\n");
}

/*
 * destroy: the two-step death. Every domain is marked dying and one
 * VIRQ_DOM_EXC raised (again each second, events being droppable); once
 * the daemon has released a domain (or the timeout passed), its store
 * keys and its directory go.
 */
int
host_destroy(const struct sim_env *env, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct xs_handle		*xsh;
	uint32_t			*ids;
	bool				*live;
	char				 path[PATH_MAX], *vm, *end;
	uint64_t			 deadline, kick, nap;
	double				 timeout = 10;
	unsigned			 len;
	int				 ch, n, i, rc = SIM_EXIT_OK, e;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			timeout = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(timeout >= 0)
			    || timeout > 86400) {
				fprintf(stderr, "xsc-sim destroy: --timeout: "
				    "seconds, 0 to 86400: %s\n", optarg);
				return (SIM_EXIT_ERR);
			}
			break;
		case 'h':
			host_destroy_usage(stdout);
			return (SIM_EXIT_OK);
		default:
			host_destroy_usage(stderr);
			return (SIM_EXIT_ERR);
		}
	}
	if (sim_need_root(env, "destroy") != 0)
		return (SIM_EXIT_ERR);
	if ((n = host_parse_ids("destroy", argc - optind, argv + optind,
	    &ids)) < 0)
		return (SIM_EXIT_ERR);
	live = xcalloc((size_t)n, sizeof *live);
	for (i = 0; i < n; i++) {
		if (host_set_state(env->root, ids[i], "dying") == 0)
			live[i] = true;
		else
			rc = SIM_EXIT_ERR;
	}
	host_dom_exc(env->root, "destroy");
	if ((xsh = host_store_open(env, "destroy")) == NULL)
		rc = SIM_EXIT_ERR;

	/* Wait for the daemon to release each domain. */
	deadline = now_us() + (uint64_t)(timeout * 1e6);
	kick = now_us() + 1000000;
	for (i = 0; xsh != NULL && i < n; i++) {
		nap = 1000;
		while (live[i] && xs_is_domain_introduced(xsh, ids[i])) {
			if (now_us() >= deadline) {
				fprintf(stderr, "xsc-sim destroy: domain %u "
				    "not released by the daemon after %g s; "
				    "removing it anyway\n", ids[i], timeout);
				rc = SIM_EXIT_TIMEOUT;
				break;
			}
			if (now_us() >= kick) {
				host_dom_exc(env->root, "destroy");
				kick = now_us() + 1000000;
			}
			sim_sleep_us(nap);
			nap = nap < 20000 ? nap * 2 : nap;
		}
	}

	/* Then what libxl removes, and the domain itself. */
	for (i = 0; i < n; i++) {
		if (!live[i])
			continue;
		if (xsh != NULL) {
			snprintf(path, sizeof path, "/local/domain/%u/vm",
			    ids[i]);
			vm = xs_read(xsh, XBT_NULL, path, &len);
			if (vm != NULL && strncmp(vm, "/vm/", 4) == 0 &&
			    !xs_rm(xsh, XBT_NULL, vm) && errno != ENOENT)
				fprintf(stderr, "xsc-sim destroy: rm %s: %s\n",
				    vm, strerror(errno));
			free(vm);
			snprintf(path, sizeof path, "/local/domain/%u",
			    ids[i]);
			if (!xs_rm(xsh, XBT_NULL, path) && errno != ENOENT) {
				fprintf(stderr, "xsc-sim destroy: rm %s: %s\n",
				    path, strerror(errno));
				rc = rc == SIM_EXIT_OK ? SIM_EXIT_ERR : rc;
			}
		}
		snprintf(path, sizeof path, "%s/domains/%u", env->root,
		    ids[i]);
		if ((e = sim_rm_rf(path)) != 0) {
			fprintf(stderr, "xsc-sim destroy: removing %s: %s\n",
			    path, strerror(-e));
			rc = rc == SIM_EXIT_OK ? SIM_EXIT_ERR : rc;
		}
	}
	if (xsh != NULL)
		xs_close(xsh);
	free(live);
	free(ids);
	return (rc);
}

/* shutdown: mark domains shut down and raise VIRQ_DOM_EXC. */
int
host_shutdown(const struct sim_env *env, int argc, char **argv)
{
	uint32_t	*ids;
	int		 n, i, rc = SIM_EXIT_OK;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: xsc-sim shutdown ID...\n");
		return (SIM_EXIT_OK);
	}
	if (sim_need_root(env, "shutdown") != 0)
		return (SIM_EXIT_ERR);
	if ((n = host_parse_ids("shutdown", argc - 1, argv + 1, &ids)) < 0)
		return (SIM_EXIT_ERR);
	for (i = 0; i < n; i++) {
		if (host_set_state(env->root, ids[i], "shutdown") != 0)
			rc = SIM_EXIT_ERR;
	}
	host_dom_exc(env->root, "shutdown");
	free(ids);
	return (rc);
}
