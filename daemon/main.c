/*
 * xsconsoled: one event-driven daemon for a Xen host's store and consoles.
 * This file reads the options, daemonizes, makes the event base and hands
 * it to each engine, and stops cleanly on SIGTERM or SIGINT.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "consoled.h"
#include "db.h"
#include "durable.h"
#include "hv.h"
#include "log.h"
#include "xmalloc.h"
#include "xsd.h"

#define DEFAULT_SOCKET		"/run/xenstored/socket"
#define DEFAULT_PIDFILE		"/run/xsconsoled.pid"
#define DEFAULT_LOGFILE		"/var/log/xen/xsconsoled.log"

struct options {
	int		 foreground;
	const char	*socket;
	const char	*pidfile;
	const char	*logfile;
	enum log_level	 level;
	const char	*sim_root;
	struct xsd_config cfg;
	struct db_config db;
	bool		 db_given;
	struct consoled_config cons;
};

enum {
	OPT_SOCKET = 256,
	OPT_PIDFILE,
	OPT_LOGFILE,
	OPT_LOGLEVEL,
	OPT_STALL,
	OPT_SIMROOT,
	OPT_QUOTA,
	OPT_DB,
	OPT_CONSOLE_RATE,
	OPT_CONSOLE_BURST,
	OPT_DB_MAX,
	OPT_DB_DOMAIN_MAX,
	OPT_DB_KEEP,
};

static const struct option long_options[] = {
	{ "foreground", no_argument, NULL, 'F' },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "pid-file", required_argument, NULL, OPT_PIDFILE },
	{ "log-file", required_argument, NULL, OPT_LOGFILE },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "sim-root", required_argument, NULL, OPT_SIMROOT },
	{ "quota", required_argument, NULL, OPT_QUOTA },
	{ "db", required_argument, NULL, OPT_DB },
	{ "console-rate", required_argument, NULL, OPT_CONSOLE_RATE },
	{ "console-burst", required_argument, NULL, OPT_CONSOLE_BURST },
	{ "log-max-bytes", required_argument, NULL, OPT_DB_MAX },
	{ "log-domain-bytes", required_argument, NULL, OPT_DB_DOMAIN_MAX },
	{ "log-keep-dead", required_argument, NULL, OPT_DB_KEEP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Print the usage. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: xsconsoled [options]\n"
"  -F, --foreground       stay in the foreground, log to stderr\n"
"      --socket PATH      store socket (default " DEFAULT_SOCKET ")\n"
"      --pid-file PATH    pid file (default " DEFAULT_PIDFILE ")\n"
"      --log-file PATH    log file (default " DEFAULT_LOGFILE
" when daemonized,\n"
"                         stderr in the foreground)\n"
"      --log-level LEVEL  error, warn, info (default) or debug\n"
"      --stall-timeout S  drop a socket client that leaves its replies\n"
"                         unread for S seconds (default 60, 0: never)\n"
"      --sim-root DIR     serve the guests of the simulated host in DIR\n"
"                         (default $XSC_SIM_ROOT; else Xen if\n"
"                         /dev/xen/privcmd exists, else no guests)\n"
"      --quota NAME=N     a per-domain quota: nodes, watches,\n"
"                         transactions, outstanding, transaction-nodes,\n"
"                         node-size, path-max, permissions, memory\n"
"      --db PATH          the console log (default " DB_DEFAULT_PATH ")\n"
"      --console-rate B   bytes a second one guest may print for long\n"
"                         (default 4194304; 0: no limit)\n"
"      --console-burst B  bytes it may print at once (default 16777216)\n"
"      --log-max-bytes B  the console log's budget (default 1 GiB)\n"
"      --log-domain-bytes B  one incarnation's budget (default 64 MiB)\n"
"      --log-keep-dead S  seconds a dead domain's log is kept (7 days)\n"
"  -h, --help             this help\n"
"  -V, --version          the version\n");
}

/* Parse a whole non-negative number, or exit with a message. */
static unsigned
parse_uint(const char *opt, const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > UINT_MAX) {
		fprintf(stderr, "xsconsoled: %s: not a number: %s\n", opt, s);
		exit(2);
	}
	return ((unsigned)v);
}

/* Parse a whole 64-bit number, or exit with a message. */
static uint64_t
parse_u64(const char *opt, const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0) {
		fprintf(stderr, "xsconsoled: %s: not a number: %s\n", opt, s);
		exit(2);
	}
	return ((uint64_t)v);
}

/* --quota NAME=N, or exit with a message. */
static void
parse_quota(struct xsd_quota *q, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	char		 name[64];

	if (eq == NULL || (size_t)(eq - arg) >= sizeof name) {
		fprintf(stderr, "xsconsoled: --quota NAME=N: %s\n", arg);
		exit(2);
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (xsd_quota_set(q, name, (long)parse_uint("--quota", eq + 1)) != 0) {
		fprintf(stderr, "xsconsoled: --quota: unknown quota or bad "
		    "value: %s\n", arg);
		exit(2);
	}
}

/* Read the command line into opts. */
static void
parse_options(int argc, char **argv, struct options *opts)
{
	int	ch;

	memset(opts, 0, sizeof *opts);
	opts->socket = DEFAULT_SOCKET;
	opts->pidfile = DEFAULT_PIDFILE;
	opts->level = LOG_LEVEL_INFO;
	xsd_config_defaults(&opts->cfg);
	db_config_defaults(&opts->db);
	consoled_config_defaults(&opts->cons);

	while ((ch = getopt_long(argc, argv, "FhV", long_options, NULL)) != -1) {
		switch (ch) {
		case 'F':
			opts->foreground = 1;
			break;
		case OPT_SOCKET:
			opts->socket = optarg;
			break;
		case OPT_PIDFILE:
			opts->pidfile = optarg;
			break;
		case OPT_LOGFILE:
			opts->logfile = optarg;
			break;
		case OPT_LOGLEVEL:
			if (log_level_parse(optarg, &opts->level) != 0) {
				fprintf(stderr, "xsconsoled: bad log level: "
				    "%s\n", optarg);
				exit(2);
			}
			break;
		case OPT_STALL:
			opts->cfg.stall_timeout = parse_uint("--stall-timeout",
			    optarg);
			break;
		case OPT_SIMROOT:
			opts->sim_root = optarg;
			break;
		case OPT_QUOTA:
			parse_quota(&opts->cfg.quota, optarg);
			break;
		case OPT_DB:
			opts->db.path = optarg;
			opts->db_given = true;
			break;
		case OPT_CONSOLE_RATE:
			opts->cons.rate = parse_u64("--console-rate", optarg);
			break;
		case OPT_CONSOLE_BURST:
			opts->cons.burst = parse_u64("--console-burst", optarg);
			break;
		case OPT_DB_MAX:
			opts->db.max_bytes = parse_u64("--log-max-bytes", optarg);
			break;
		case OPT_DB_DOMAIN_MAX:
			opts->db.max_incarnation_bytes =
			    parse_u64("--log-domain-bytes", optarg);
			break;
		case OPT_DB_KEEP:
			opts->db.keep_dead_s = parse_u64("--log-keep-dead",
			    optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("xsconsoled %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* Make the directory a file goes into, if missing (one level). */
static void
make_parent_dir(const char *path)
{
	char	*dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			log_warn("mkdir %s: %s", dir, strerror(errno));
	}
	free(dir);
}

/* Write and lock the pid file; fails if another daemon holds it. */
static int
pidfile_write(const char *path)
{
	char	buf[32];
	int	fd, n;

	make_parent_dir(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("%s: another xsconsoled is running", path);
		close(fd);
		return (-1);
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		log_error("%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);	/* kept open: the lock lives as long as we do */
}

/* Go into the background; the parent exits once the child is ready. */
static int
daemonize(int *ready_fd)
{
	int	p[2];
	pid_t	pid;
	char	c;

	if (pipe(p) != 0)
		return (-1);
	pid = fork();
	if (pid < 0)
		return (-1);
	if (pid > 0) {
		close(p[1]);
		/* Exit 0 only when the child says it is serving. */
		exit(read(p[0], &c, 1) == 1 && c == '0' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		return (-1);
	if (fork() != 0)
		_exit(0);
	if (chdir("/") != 0)
		return (-1);
	*ready_fd = p[1];
	return (0);
}

/* Point stdin/stdout/stderr at /dev/null. */
static void
detach_stdio(void)
{
	int	fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* SIGTERM or SIGINT: leave the loop; cleanup follows. */
static void
on_signal(evutil_socket_t sig, short events, void *arg)
{
	(void)events;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(arg);
}

/* Two file descriptors per console (its pty's two ends): take as many
 * as we are allowed, as xenconsoled does. */
static void
raise_fd_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("raising the open files limit: %s", strerror(errno));
}

/* A virtual IRQ from the hypervisor. */
struct engines {
	struct xsd	*xsd;
	struct consoled	*cd;
};

static void
on_virq(unsigned virq, void *arg)
{
	struct engines	*en = arg;

	if (virq == HV_VIRQ_DOM_EXC)
		xsd_domains_changed(en->xsd);
	else if (en->cd != NULL)
		consoled_virq(en->cd, virq);
}

/*
 * The hypervisor: the simulated host if asked for, else Xen if this is
 * a dom0, else none (the store serves its socket, but no guests). One
 * asked for or present that fails to open is an error (-1).
 */
static int
open_hypervisor(struct event_base *base, const struct options *opts,
    struct hv **out)
{
	const char	*sim = opts->sim_root;
	char		 err[512];

	*out = NULL;
	if (sim == NULL || *sim == '\0')
		sim = getenv("XSC_SIM_ROOT");
	if ((sim == NULL || *sim == '\0') &&
	    access("/dev/xen/privcmd", F_OK) != 0) {
		log_warn("no hypervisor (/dev/xen/privcmd does not exist and "
		    "no --sim-root): serving the socket only, no guests");
		return (0);
	}
	if ((*out = hv_open(base, sim, err, sizeof err)) == NULL) {
		log_error("%s", err);
		return (-1);
	}
	log_info("hypervisor: %s", hv_name(*out));
	return (0);
}

/* Start, serve, stop. */
int
main(int argc, char **argv)
{
	struct options		 opts;
	struct event_base	*base;
	struct event		*sigterm, *sigint;
	struct xsd		*xsd;
	struct hv		*hv;
	struct db		*db = NULL;
	struct engines		 en = { NULL, NULL };
	char			 err[512];
	FILE			*logf = NULL;
	const char		*logfile;
	int			 ready_fd = -1, pid_fd, e;

	parse_options(argc, argv, &opts);
	logfile = opts.logfile;
	if (logfile == NULL && !opts.foreground)
		logfile = DEFAULT_LOGFILE;
	if (logfile != NULL) {
		make_parent_dir(logfile);
		if ((logf = fopen(logfile, "a")) == NULL) {
			fprintf(stderr, "xsconsoled: %s: %s\n", logfile,
			    strerror(errno));
			return (1);
		}
	}
	log_open(logf, opts.level);
	if (!opts.foreground && daemonize(&ready_fd) != 0) {
		log_error("daemonize: %s", strerror(errno));
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	if ((pid_fd = pidfile_write(opts.pidfile)) < 0)
		return (1);
	if ((base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	if (open_hypervisor(base, &opts, &hv) != 0) {
		unlink(opts.pidfile);
		return (1);
	}
	xsd = xsd_create(base, &opts.cfg);
	en.xsd = xsd;
	/* The database keeps the store and the consoles. Without guests it
	 * is opened only when asked for (--db): a socket-only store is
	 * then not kept across restarts. */
	if (hv != NULL || opts.db_given) {
		if ((db = db_open_writer(&opts.db, err, sizeof err)) == NULL) {
			log_error("database: %s", err);
			unlink(opts.pidfile);
			return (1);
		}
	} else
		log_warn("no --db and no hypervisor: the store will not "
		    "survive a restart");
	if (hv != NULL) {
		hv_set_virq_cb(hv, on_virq, &en);
		xsd_attach_hv(xsd, hv);
	}
	if (db != NULL && (e = durable_start(xsd, db, hv != NULL)) != 0) {
		log_error("database: loading the store: %s", strerror(-e));
		unlink(opts.pidfile);
		return (1);
	}
	if (hv != NULL)
		en.cd = consoled_create(base, xsd, hv, db, &opts.cons);
	make_parent_dir(opts.socket);
	if ((e = xsd_listen(xsd, opts.socket)) != 0) {
		log_error("%s: %s", opts.socket, strerror(-e));
		unlink(opts.pidfile);
		return (1);
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);

	log_info("xsconsoled %s started (pid %ld)", PACKAGE_VERSION,
	    (long)getpid());
	if (ready_fd >= 0) {
		if (write(ready_fd, "0", 1) != 1)
			log_warn("could not tell the parent we are ready");
		close(ready_fd);
		detach_stdio();
	}
	event_base_dispatch(base);

	consoled_free(en.cd);
	xsd_free(xsd);
	if (db != NULL)
		db_close(db);
	hv_close(hv);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	unlink(opts.pidfile);
	close(pid_fd);
	log_info("stopped");
	log_close();
	return (0);
}
