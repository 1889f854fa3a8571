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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/xs_wire.h>

#include "config.h"
#include "consoled.h"
#include "db.h"
#include "durable.h"
#include "hv.h"
#include "log.h"
#include "settings.h"
#include "xmalloc.h"
#include "xsd.h"

#define DEFAULT_SOCKET		"/run/xenstored/socket"
#define DEFAULT_PIDFILE		"/run/xsconsoled.pid"
#define DEFAULT_LOGFILE		"/var/log/xen/xsconsoled.log"
#define DEFAULT_CONFIG		SYSCONFDIR "/xsconsoled.conf"

/* A setting given on the command line: it overrides the config file. */
struct option_setting {
	const char	*opt;		/* for messages */
	char		*name;
	char		*value;
};

struct options {
	int		 foreground;
	const char	*socket;
	const char	*pidfile;
	const char	*logfile;
	const char	*sim_root;
	const char	*config;
	bool		 config_given;	/* a missing file is an error */
	const char	*db_path;
	bool		 db_given;	/* --db: keep the store even
					   without guests */
	struct option_setting *sets;
	size_t		 nsets;
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
	OPT_CONFIG,
	OPT_SET,
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
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "set", required_argument, NULL, OPT_SET },
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
"      --config FILE      settings (default " DEFAULT_CONFIG ",\n"
"                         if it exists; docs/config.md)\n"
"      --set NAME=VALUE   a setting, as in the config file (overrides it)\n"
"      --socket PATH      store socket (default " DEFAULT_SOCKET ")\n"
"      --pid-file PATH    pid file (default " DEFAULT_PIDFILE ")\n"
"      --log-file PATH    log file (default, when daemonized:\n"
"                         " DEFAULT_LOGFILE ";\n"
"                         in the foreground, stderr)\n"
"      --log-level LEVEL  error, warn, info (default) or debug\n"
"      --stall-timeout S  drop a socket client that leaves its replies\n"
"                         unread for S seconds (default 60, 0: never)\n"
"      --sim-root DIR     serve the guests of the simulated host in DIR\n"
"                         (default $XSC_SIM_ROOT; else Xen if\n"
"                         /dev/xen/privcmd exists, else no guests)\n"
"      --quota NAME=N     a per-domain quota: nodes, watches,\n"
"                         transactions, outstanding, transaction-nodes,\n"
"                         node-size, path-max, permissions, memory\n"
"      --db PATH          the console log (default\n"
"                         " DB_DEFAULT_PATH ")\n"
"      --console-rate B   bytes a second one guest may print for long\n"
"                         (default 4194304; 0: no limit)\n"
"      --console-burst B  bytes it may print at once (default 16777216)\n"
"      --log-max-bytes B  the console log's budget (default 1 GiB)\n"
"      --log-domain-bytes B  one incarnation's budget (default 64 MiB)\n"
"      --log-keep-dead S  seconds a dead domain's log is kept (7 days)\n"
"  -h, --help             this help\n"
"  -V, --version          the version\n");
}

/* Note a setting given on the command line. */
static void
option_setting(struct options *opts, const char *opt, const char *name,
    size_t namelen, const char *value)
{
	struct option_setting	*os;

	opts->sets = xrealloc(opts->sets, (opts->nsets + 1) *
	    sizeof *opts->sets);
	os = &opts->sets[opts->nsets++];
	os->opt = opt;
	os->name = xstrndup(name, namelen);
	os->value = xstrdup(value);
}

/* An option of the form NAME=VALUE, as the setting prefix/NAME. */
static void
option_setting_pair(struct options *opts, const char *opt,
    const char *prefix, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	char		*name;

	if (eq == NULL || eq == arg) {
		fprintf(stderr, "xsconsoled: %s NAME=VALUE: %s\n", opt, arg);
		exit(2);
	}
	xasprintf(&name, "%s%.*s", prefix, (int)(eq - arg), arg);
	option_setting(opts, opt, name, strlen(name), eq + 1);
	free(name);
}

/* Read the command line into opts. */
static void
parse_options(int argc, char **argv, struct options *opts)
{
	static const struct {
		int		 opt;
		const char	*name;
		const char	*setting;
	} plain[] = {
		{ OPT_LOGLEVEL, "--log-level", "log-level" },
		{ OPT_STALL, "--stall-timeout", "stall-timeout" },
		{ OPT_CONSOLE_RATE, "--console-rate", "console/rate" },
		{ OPT_CONSOLE_BURST, "--console-burst", "console/burst" },
		{ OPT_DB_MAX, "--log-max-bytes", "db/max-bytes" },
		{ OPT_DB_DOMAIN_MAX, "--log-domain-bytes",
		    "db/max-incarnation-bytes" },
		{ OPT_DB_KEEP, "--log-keep-dead", "db/keep-dead-seconds" },
	};
	size_t	i;
	int	ch;

	memset(opts, 0, sizeof *opts);
	opts->socket = DEFAULT_SOCKET;
	opts->pidfile = DEFAULT_PIDFILE;
	opts->config = DEFAULT_CONFIG;
	opts->db_path = DB_DEFAULT_PATH;

	while ((ch = getopt_long(argc, argv, "FhV", long_options, NULL)) != -1) {
		for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
			if (ch == plain[i].opt)
				break;
		}
		if (i < sizeof plain / sizeof plain[0]) {
			option_setting(opts, plain[i].name, plain[i].setting,
			    strlen(plain[i].setting), optarg);
			continue;
		}
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
		case OPT_SIMROOT:
			opts->sim_root = optarg;
			break;
		case OPT_QUOTA:
			option_setting_pair(opts, "--quota", "quota/", optarg);
			break;
		case OPT_SET:
			option_setting_pair(opts, "--set", "", optarg);
			break;
		case OPT_CONFIG:
			opts->config = optarg;
			opts->config_given = true;
			break;
		case OPT_DB:
			opts->db_path = optarg;
			opts->db_given = true;
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

/* The engines, as the settings' callbacks and statistics reach them
 * (each NULL until made, or when there is none). */
struct engines {
	struct xsd	*xsd;
	struct consoled	*cd;
	struct db	*db;
	struct durable	*durable;
	const char	*db_path;
	time_t		 started;
};

/* --- settings (docs/config.md) ------------------------------------------ */

#define KIB		1024ull
#define MIB		(1024ull * KIB)
#define GIB		(1024ull * MIB)
#define TIB		(1024ull * GIB)
#define DAY		86400ull
#define YEAR		(365ull * DAY)

/* The engine's quotas and socket settings from the registry. */
static void
settings_to_xsd(struct settings *s, struct xsd_config *cfg)
{
	const char	*name;
	char		 key[64];
	size_t		 i;

	xsd_config_defaults(cfg);
	for (i = 0; (name = xsd_quota_name(i)) != NULL; i++) {
		snprintf(key, sizeof key, "quota/%s", name);
		xsd_quota_set(&cfg->quota, name, (long)settings_get(s, key));
	}
	cfg->stall_timeout = (unsigned)settings_get(s, "stall-timeout");
}

/* The drainer's settings from the registry. */
static void
settings_to_consoled(struct settings *s, struct consoled_config *cfg)
{
	consoled_config_defaults(cfg);
	cfg->rate = settings_get(s, "console/rate");
	cfg->burst = settings_get(s, "console/burst");
	cfg->backlog = (size_t)settings_get(s, "console/backlog");
	cfg->pty_limit = (size_t)settings_get(s, "console/pty-limit");
}

/* The log database's settings from the registry. */
static void
settings_to_db(struct settings *s, const char *path, struct db_config *cfg)
{
	db_config_defaults(cfg);
	cfg->path = path;
	cfg->flush_ms = (unsigned)settings_get(s, "db/flush-ms");
	cfg->max_bytes = settings_get(s, "db/max-bytes");
	cfg->max_incarnation_bytes = settings_get(s,
	    "db/max-incarnation-bytes");
	cfg->keep_dead_s = settings_get(s, "db/keep-dead-seconds");
	cfg->history_full_s = settings_get(s, "history/full-seconds");
	cfg->history_full_commits = settings_get(s, "history/full-commits");
	cfg->history_minute_s = settings_get(s, "history/minute-seconds");
	cfg->history_max_bytes = settings_get(s, "history/max-bytes");
	cfg->snapshot_interval_s = settings_get(s,
	    "history/snapshot-interval-seconds");
	cfg->busy_ms = (unsigned)settings_get(s, "db/busy-ms");
	cfg->store_backlog_max = settings_get(s, "db/store-backlog");
}

/* log-level, live. */
static int
apply_log(struct settings *s, void *arg)
{
	(void)arg;
	log_set_level((enum log_level)settings_get(s, "log-level"));
	return (0);
}

/* quota/... and stall-timeout, live. */
static int
apply_xsd(struct settings *s, void *arg)
{
	struct engines		*en = arg;
	struct xsd_config	 cfg;
	const char		*name;
	unsigned		 v;
	size_t			 i;

	if (en->xsd == NULL)
		return (0);
	settings_to_xsd(s, &cfg);
	for (i = 0; (name = xsd_quota_name(i)) != NULL; i++) {
		xsd_quota_get(&cfg.quota, name, &v);
		if (xsd_set_quota(en->xsd, name, (long)v) != 0)
			return (-EINVAL);
	}
	xsd_set_stall_timeout(en->xsd, cfg.stall_timeout);
	return (0);
}

/* console/..., live. */
static int
apply_consoled(struct settings *s, void *arg)
{
	struct engines		*en = arg;
	struct consoled_config	 cfg;

	if (en->cd == NULL)
		return (0);
	settings_to_consoled(s, &cfg);
	consoled_set_limits(en->cd, &cfg);
	return (0);
}

/* db/... and history/..., live: the database may refuse a combination. */
static int
apply_db(struct settings *s, void *arg)
{
	struct engines		*en = arg;
	struct db_config	 cfg;

	if (en->db == NULL)
		return (0);
	settings_to_db(s, en->db_path, &cfg);
	return (db_set_limits(en->db, &cfg));
}

/* Register every setting at its default (the engines' own). */
static void
settings_register(struct settings *s, struct engines *en)
{
	struct xsd_config	 x;
	struct consoled_config	 c;
	struct db_config	 d;
	const char		*name;
	char			 key[64];
	unsigned		 q;
	size_t			 i;

	xsd_config_defaults(&x);
	consoled_config_defaults(&c);
	db_config_defaults(&d);
	const struct {
		const char		*name;
		uint64_t		 min, max, def;
		settings_apply_fn	*apply;
	} numbers[] = {
		{ "stall-timeout", 0, 30 * DAY, x.stall_timeout, apply_xsd },
		{ "console/rate", 0, TIB, c.rate, apply_consoled },
		{ "console/burst", 4 * KIB, TIB, c.burst, apply_consoled },
		{ "console/backlog", 64 * KIB, 64 * GIB, c.backlog,
		    apply_consoled },
		{ "console/pty-limit", 4 * KIB, GIB, c.pty_limit,
		    apply_consoled },
		{ "db/flush-ms", 1, 60000, d.flush_ms, apply_db },
		{ "db/max-bytes", MIB, 1024 * TIB, d.max_bytes, apply_db },
		{ "db/max-incarnation-bytes", 64 * KIB, 1024 * TIB,
		    d.max_incarnation_bytes, apply_db },
		{ "db/keep-dead-seconds", 0, 100 * YEAR, d.keep_dead_s,
		    apply_db },
		{ "db/busy-ms", 1, 600000, d.busy_ms, apply_db },
		{ "db/store-backlog", 64 * KIB, 64 * GIB, d.store_backlog_max,
		    apply_db },
		{ "history/full-seconds", 0, 100 * YEAR, d.history_full_s,
		    apply_db },
		{ "history/full-commits", 0, 1000000000000ull,
		    d.history_full_commits, apply_db },
		{ "history/minute-seconds", 0, 100 * YEAR, d.history_minute_s,
		    apply_db },
		{ "history/max-bytes", MIB, 1024 * TIB, d.history_max_bytes,
		    apply_db },
		{ "history/snapshot-interval-seconds", 60, 100 * YEAR,
		    d.snapshot_interval_s, apply_db },
	};

	settings_add(s, "log-level", SETTING_LOG_LEVEL, LOG_LEVEL_ERROR,
	    LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, apply_log, en);
	for (i = 0; (name = xsd_quota_name(i)) != NULL; i++) {
		snprintf(key, sizeof key, "quota/%s", name);
		xsd_quota_get(&x.quota, name, &q);
		/* The path limit is one for guests (dom0 keeps the
		 * protocol's): no longer than the protocol allows. */
		if (strcmp(name, "path-max") == 0)
			settings_add(s, key, SETTING_NUMBER, 1,
			    XENSTORE_ABS_PATH_MAX, q, apply_xsd, en);
		else
			settings_add(s, key, SETTING_NUMBER, 1, INT32_MAX, q,
			    apply_xsd, en);
	}
	for (i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		settings_add(s, numbers[i].name, SETTING_NUMBER,
		    numbers[i].min, numbers[i].max, numbers[i].def,
		    numbers[i].apply, en);
}

/* The config file, then the command line over it; exits on an error. */
static void
settings_load_all(struct settings *s, const struct options *opts)
{
	char	err[512];
	size_t	i;
	int	e;

	if (settings_load(s, opts->config, opts->config_given, err,
	    sizeof err) != 0) {
		fprintf(stderr, "xsconsoled: %s\n", err);
		exit(2);
	}
	for (i = 0; i < opts->nsets; i++) {
		e = settings_set(s, opts->sets[i].name, opts->sets[i].value);
		if (e == -ENOENT) {
			fprintf(stderr, "xsconsoled: %s: no setting %s\n",
			    opts->sets[i].opt, opts->sets[i].name);
			exit(2);
		} else if (e != 0) {
			fprintf(stderr, "xsconsoled: %s: bad value for %s: "
			    "%s\n", opts->sets[i].opt, opts->sets[i].name,
			    opts->sets[i].value);
			exit(2);
		}
	}
}

/* The statistics the daemon adds to the engine's (stats/<name>). */
static uint64_t
stat_consoles(void *arg)
{
	struct engines	*en = arg;

	return (en->cd != NULL ? consoled_count(en->cd) : 0);
}

/* The console drainer's statistics, zero without one. */
static struct consoled_stats
console_stats(const struct engines *en)
{
	struct consoled_stats	st;

	memset(&st, 0, sizeof st);
	if (en->cd != NULL)
		consoled_stats(en->cd, &st);
	return (st);
}

static uint64_t
stat_console_bytes(void *arg)
{
	return (console_stats(arg).bytes);
}

static uint64_t
stat_console_dropped(void *arg)
{
	return (console_stats(arg).pty_dropped);
}

static uint64_t
stat_console_lost(void *arg)
{
	return (console_stats(arg).lost);
}

static uint64_t
stat_db_file_bytes(void *arg)
{
	struct engines	*en = arg;
	struct stat	 sb;
	char		 wal[PATH_MAX];
	uint64_t	 n = 0;

	if (en->db == NULL)
		return (0);
	if (stat(en->db_path, &sb) == 0)
		n += (uint64_t)sb.st_size;
	snprintf(wal, sizeof wal, "%s-wal", en->db_path);
	if (stat(wal, &sb) == 0)
		n += (uint64_t)sb.st_size;
	return (n);
}

/* The log writer's statistics (all 0 without a database). */
static struct db_stats
engines_db_stats(struct engines *en)
{
	struct db_stats	st;

	memset(&st, 0, sizeof st);
	if (en->db != NULL)
		db_stats(en->db, &st);
	return (st);
}

static uint64_t
stat_db_kept_bytes(void *arg)
{
	return (engines_db_stats(arg).kept);
}

static uint64_t
stat_db_lost_bytes(void *arg)
{
	return (engines_db_stats(arg).lost);
}

/* Console bytes cut into chunks and kept for a retry while commits
 * fail: what a kill -9 now would lose beside console-bytes-pending. */
static uint64_t
stat_console_held(void *arg)
{
	return (engines_db_stats(arg).held);
}

/* Console bytes drained and not yet committed: what a kill -9 now would
 * lose of the consoles. */
static uint64_t
stat_console_pending(void *arg)
{
	struct engines	*en = arg;

	return (en->db != NULL ? db_queued(en->db) : 0);
}

static uint64_t
stat_store_durable_gen(void *arg)
{
	return (engines_db_stats(arg).durable_gen);
}

static uint64_t
stat_store_resyncs(void *arg)
{
	struct engines	*en = arg;

	return (en->durable != NULL ? durable_resyncs(en->durable) : 0);
}

static uint64_t
stat_memory_rss(void *arg)
{
	unsigned long	 size, rss = 0;
	FILE		*f = fopen("/proc/self/statm", "r");

	(void)arg;
	if (f == NULL)
		return (0);
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return ((uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE));
}

static uint64_t
stat_uptime(void *arg)
{
	struct engines	*en = arg;

	return ((uint64_t)(time(NULL) - en->started));
}

/* Register the daemon's statistics. */
static void
settings_register_stats(struct settings *s, struct engines *en)
{
	settings_add_stat(s, "consoles", stat_consoles, en);
	settings_add_stat(s, "console-bytes", stat_console_bytes, en);
	settings_add_stat(s, "console-bytes-dropped", stat_console_dropped,
	    en);
	settings_add_stat(s, "console-bytes-pending", stat_console_pending,
	    en);
	settings_add_stat(s, "console-bytes-held", stat_console_held, en);
	settings_add_stat(s, "console-bytes-lost", stat_console_lost, en);
	settings_add_stat(s, "db-file-bytes", stat_db_file_bytes, en);
	settings_add_stat(s, "db-kept-bytes", stat_db_kept_bytes, en);
	settings_add_stat(s, "db-lost-bytes", stat_db_lost_bytes, en);
	settings_add_stat(s, "store-resyncs", stat_store_resyncs, en);
	settings_add_stat(s, "store-durable-generation",
	    stat_store_durable_gen, en);
	settings_add_stat(s, "memory-rss", stat_memory_rss, en);
	settings_add_stat(s, "uptime-seconds", stat_uptime, en);
}

/* A virtual IRQ from the hypervisor. */
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
	struct durable		*durable = NULL;
	struct engines		 en;
	struct settings		*settings;
	struct xsd_config	 xcfg;
	struct consoled_config	 ccfg;
	struct db_config	 dcfg;
	char			 err[512];
	FILE			*logf = NULL;
	const char		*logfile;
	int			 ready_fd = -1, pid_fd, e;
	size_t			 i;

	parse_options(argc, argv, &opts);
	memset(&en, 0, sizeof en);
	en.db_path = opts.db_path;
	en.started = time(NULL);
	settings = settings_create();
	settings_register(settings, &en);
	settings_load_all(settings, &opts);
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
	log_open(logf, (enum log_level)settings_get(settings, "log-level"));
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
	settings_to_xsd(settings, &xcfg);
	xsd = xsd_create(base, &xcfg);
	en.xsd = xsd;
	/* The database keeps the store and the consoles. Without guests it
	 * is opened only when asked for (--db): a socket-only store is
	 * then not kept across restarts. */
	if (hv != NULL || opts.db_given) {
		settings_to_db(settings, opts.db_path, &dcfg);
		if ((db = db_open_writer(&dcfg, err, sizeof err)) == NULL) {
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
	if (db != NULL && (e = durable_start(xsd, db, base, hv != NULL,
	    &durable)) != 0) {
		log_error("database: loading the store: %s", strerror(-e));
		unlink(opts.pidfile);
		return (1);
	}
	en.db = db;
	en.durable = durable;
	if (hv != NULL) {
		settings_to_consoled(settings, &ccfg);
		en.cd = consoled_create(base, xsd, hv, db, &ccfg);
	}
	/* After the store is loaded: the file and command line win. */
	xsd_attach_settings(xsd, settings);
	settings_register_stats(settings, &en);
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
	en.cd = NULL;
	durable_free(durable);
	en.durable = NULL;
	xsd_free(xsd);
	en.xsd = NULL;
	if (db != NULL)
		db_close(db);
	en.db = NULL;
	settings_free(settings);
	for (i = 0; i < opts.nsets; i++) {
		free(opts.sets[i].name);
		free(opts.sets[i].value);
	}
	free(opts.sets);
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
