/*
 * console-probe: the measuring end of bench/console-bench.sh, on the
 * simulated host of ../shared/sim-abi.md. Built by the script:
 *
 *   gcc -O2 -o console-probe bench/console-probe.c -lsqlite3
 *
 * console-probe latency --root SIM --domid D [--port P] --count N
 *         [--interval-ms MS] [--wait-ms MS] --out FILE
 *         (--log-file PATH | --cmd SHELL-COMMAND)
 *     Play domain D's guest: write an 80-byte line "probe <seq> <ns> ..."
 *     into its console page (DIR/domains/D/gnttab/0, struct
 *     xencons_interface, the out ring) every MS milliseconds (default 50),
 *     notifying {D, P} (default port 2) on DIR/evtchn.sock, as a guest
 *     does; and watch where the console daemon puts it: the lines a
 *     command prints (xsconsole-tail -f), or the bytes appended to a log
 *     file (xenconsoled; inotify, and a look every 10 ms anyway). First a
 *     warm-up line, until it shows up (the command is started again while
 *     it exits, e.g. before the daemon logged anything of D). FILE gets
 *     "key value" lines: sent, received, lost, latency p50/p99/max in us
 *     (write to arrival, CLOCK_MONOTONIC in this one process), over_250ms,
 *     and, when the lines carry xsconsole-tail -t's capture time, the
 *     write-to-capture latency (ms resolution).
 *
 * console-probe drain --total BYTES --timeout-s S [--pid PID]
 *         (--db PATH | --log-dir DIR) -- COMMAND ARGS...
 *     Start COMMAND (the writers), then poll every 10 ms until BYTES are
 *     in the log: sum(bytes) of the incarnations in xsconsoled's SQLite
 *     log, or the sizes of DIR/guest-*.log (xenconsoled --log=guest).
 *     Prints logged_us (start to all logged), logged_bytes, cpu_ns (the
 *     daemon PID's CPU time over that span, all its threads, from
 *     /proc/PID/task/TID/schedstat), writer_rc, and "stopped ..." if the
 *     bytes did not all come within S seconds (or 3 s after COMMAND ended).
 *
 * console-probe verify DOMID BYTES
 *     Compare stdin with the BYTES bytes of generated console text xsc-sim
 *     guest --console-bytes writes for DOMID (80-byte lines "dom<id> line
 *     <k> <letters>\n", tools/sim/console.c). Prints "<domid> <bytes read>
 *     ok|short|long|differs at <offset>"; exit status 0 only if ok.
 *
 * console-probe cpu PID
 *     The process's CPU time in ns, all threads.
 */
#define _GNU_SOURCE
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <xen/io/console.h>

#define LINE		80
#define PAGE		4096
#define MAXLINE		8192

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "console-probe: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t
clock_ns(clockid_t c)
{
	struct timespec	ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono(void) { return clock_ns(CLOCK_MONOTONIC); }

/* ------------------------------------------------------------------ */
/* CPU time of a process, all its threads                              */

static uint64_t
proc_cpu_ns(pid_t pid)
{
	char		 path[64], buf[320];
	struct dirent	*de;
	uint64_t	 sum = 0;
	DIR		*d;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(buf, sizeof buf, "/proc/%d/task/%s/schedstat",
		    (int)pid, de->d_name);
		if ((f = fopen(buf, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL)
			sum += strtoull(buf, NULL, 10);
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* ------------------------------------------------------------------ */
/* Generated console text (as tools/sim/console.c makes it)            */

static void
congen_line(uint32_t domid, uint64_t k, char line[LINE])
{
	int	n, i;

	n = snprintf(line, LINE, "dom%" PRIu32 " line %" PRIu64 " ", domid,
	    k);
	for (i = n; i < LINE - 1; i++)
		line[i] = (char)('a' + (k + (uint64_t)i) % 26);
	line[LINE - 1] = '\n';
}

static int
cmd_verify(int argc, char **argv)
{
	char		 buf[65536], line[LINE];
	uint64_t	 want, off = 0, k = UINT64_MAX;
	uint32_t	 domid;
	ssize_t		 n, i;
	const char	*what = "ok";
	uint64_t	 bad = 0;
	bool		 differs = false;

	if (argc != 3)
		die("usage: console-probe verify DOMID BYTES");
	domid = (uint32_t)strtoul(argv[1], NULL, 10);
	want = strtoull(argv[2], NULL, 10);
	while ((n = read(0, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++, off++) {
			if (differs || off >= want)
				continue;
			if (off / LINE != k) {
				k = off / LINE;
				congen_line(domid, k, line);
			}
			if (buf[i] != line[off % LINE]) {
				differs = true;
				bad = off;
			}
		}
	}
	if (n < 0)
		die("read: %s", strerror(errno));
	if (differs) {
		printf("%u %" PRIu64 " differs at %" PRIu64 "\n", domid, off,
		    bad);
		return 1;
	}
	if (off < want)
		what = "short";
	else if (off > want)
		what = "long";
	printf("%u %" PRIu64 " %s\n", domid, off, what);
	return off == want ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* drain                                                               */

static uint64_t
logdir_bytes(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	uint64_t	 sum = 0;
	size_t		 len;
	DIR		*d;
	int		 dfd;

	if ((d = opendir(dir)) == NULL)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "guest-", 6) != 0 || len < 5 ||
		    strcmp(de->d_name + len - 4, ".log") != 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, 0) == 0)
			sum += (uint64_t)st.st_size;
	}
	closedir(d);
	return sum;
}

struct dbpoll {
	sqlite3		*db;
	sqlite3_stmt	*st;
	const char	*path;
};

/* Bytes logged in xsconsoled's database so far; keeps the last value
 * when the database is busy. */
static uint64_t
db_bytes(struct dbpoll *p, uint64_t last)
{
	uint64_t	v = last;
	int		rc;

	if (p->db == NULL) {
		if (sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READONLY,
		    NULL) != SQLITE_OK) {
			sqlite3_close(p->db);
			p->db = NULL;
			return last;
		}
		sqlite3_busy_timeout(p->db, 5);
	}
	if (p->st == NULL && sqlite3_prepare_v2(p->db,
	    "SELECT coalesce(sum(bytes), 0) FROM incarnation", -1, &p->st,
	    NULL) != SQLITE_OK) {
		p->st = NULL;
		return last;
	}
	rc = sqlite3_step(p->st);
	if (rc == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(p->st, 0);
	sqlite3_reset(p->st);
	return v;
}

static int
cmd_drain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "total", required_argument, NULL, 't' },
		{ "timeout-s", required_argument, NULL, 'T' },
		{ "pid", required_argument, NULL, 'p' },
		{ "db", required_argument, NULL, 'd' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct dbpoll	 dp = { NULL, NULL, NULL };
	const char	*logdir = NULL;
	uint64_t	 total = 0, timeout_ns = 60000000000ull, t0, t1, now;
	uint64_t	 cpu0 = 0, cpu1 = 0, logged = 0, ended = 0;
	struct timespec	 tick = { 0, 10000000 };
	pid_t		 pid = 0, child, w;
	int		 ch, status = 0, rc = -1;
	bool		 done = false, exited = false;

	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 't': total = strtoull(optarg, NULL, 10); break;
		case 'T': timeout_ns = strtoull(optarg, NULL, 10) *
		    1000000000ull; break;
		case 'p': pid = (pid_t)atoi(optarg); break;
		case 'd': dp.path = optarg; break;
		case 'l': logdir = optarg; break;
		default: die("drain: bad option");
		}
	}
	if (optind >= argc || total == 0 || (dp.path == NULL) ==
	    (logdir == NULL))
		die("usage: console-probe drain --total BYTES --timeout-s S "
		    "[--pid PID] (--db PATH | --log-dir DIR) -- COMMAND...");
	if (pid > 0)
		cpu0 = proc_cpu_ns(pid);
	t0 = mono();
	if ((child = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "console-probe: %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	t1 = t0;
	for (;;) {
		nanosleep(&tick, NULL);
		now = mono();
		logged = logdir ? logdir_bytes(logdir) : db_bytes(&dp, logged);
		if (logged >= total) {
			t1 = now;
			if (pid > 0)
				cpu1 = proc_cpu_ns(pid);
			done = true;
			break;
		}
		if (!exited && (w = waitpid(child, &status, WNOHANG)) ==
		    child) {
			exited = true;
			ended = now;
			rc = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		}
		if (now - t0 > timeout_ns ||
		    (exited && now - ended > 3000000000ull)) {
			t1 = now;
			if (pid > 0)
				cpu1 = proc_cpu_ns(pid);
			break;
		}
	}
	if (!exited) {
		/* The writers end once the daemon read everything. */
		while (mono() - t0 < timeout_ns + 5000000000ull) {
			if (waitpid(child, &status, WNOHANG) == child) {
				exited = true;
				break;
			}
			nanosleep(&tick, NULL);
		}
		if (!exited) {
			kill(child, SIGTERM);
			waitpid(child, &status, 0);
		}
		rc = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	}
	printf("logged_us %" PRIu64 "\n", (t1 - t0) / 1000);
	printf("logged_bytes %" PRIu64 "\n", logged);
	if (pid > 0)
		printf("cpu_ns %" PRIu64 "\n", cpu1 - cpu0);
	printf("writer_rc %d\n", rc);
	if (!done)
		printf("stopped logged %" PRIu64 " of %" PRIu64 " bytes in "
		    "%.1f s%s\n", logged, total, (t1 - t0) / 1e9,
		    exited ? " (writers ended)" : "");
	if (dp.st)
		sqlite3_finalize(dp.st);
	if (dp.db)
		sqlite3_close(dp.db);
	return done ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* latency                                                             */

struct probe {
	struct xencons_interface *intf;
	int			 evfd;
	struct sockaddr_un	 daemon;
	uint32_t		 domid, port;
	/* the reader */
	const char		*cmd;
	pid_t			 child;
	int			 rfd;		/* pipe or log file */
	int			 ino;		/* inotify, file mode */
	char			 buf[MAXLINE];
	size_t			 len;
	/* results */
	uint64_t		*sent_mono, *sent_real;
	int64_t			*lat_us, *cap_us;
	unsigned		 count, got;
	bool			 warm;
	bool			 stamped;	/* lines carry a capture time */
};

static void
notify(struct probe *p)
{
	uint32_t	msg[2] = { htole32(p->domid), htole32(p->port) };

	/* A hint: a full queue just drops it, the ring still has the line. */
	(void)sendto(p->evfd, msg, sizeof msg, MSG_DONTWAIT,
	    (struct sockaddr *)&p->daemon, sizeof p->daemon);
}

/* Put one line into the out ring (waiting for room, 5 s at most). */
static int
ring_put(struct probe *p, const char *s, size_t len)
{
	struct xencons_interface *intf = p->intf;
	XENCONS_RING_IDX	 cons, prod;
	uint64_t		 until = mono() + 5000000000ull;
	struct timespec		 ms = { 0, 1000000 };
	size_t			 i;

	for (;;) {
		cons = __atomic_load_n(&intf->out_cons, __ATOMIC_ACQUIRE);
		prod = intf->out_prod;
		if (prod - cons > sizeof intf->out)
			return -1;
		if (sizeof intf->out - (prod - cons) >= len)
			break;
		if (mono() > until)
			return -1;
		notify(p);
		nanosleep(&ms, NULL);
	}
	for (i = 0; i < len; i++)
		intf->out[MASK_XENCONS_IDX(prod + i, intf->out)] = s[i];
	__atomic_store_n(&intf->out_prod, prod + (XENCONS_RING_IDX)len,
	    __ATOMIC_RELEASE);
	notify(p);
	return 0;
}

static void
make_line(char line[LINE], const char *tag, uint64_t real)
{
	int	n, i;

	n = snprintf(line, LINE, "probe %s %" PRIu64 " ", tag, real);
	for (i = n; i < LINE - 1; i++)
		line[i] = (char)('a' + i % 26);
	line[LINE - 1] = '\n';
}

static void
start_reader(struct probe *p)
{
	int	fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	if ((p->child = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (p->child == 0) {
		dup2(fds[1], 1);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", p->cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	p->rfd = fds[0];
	fcntl(p->rfd, F_SETFL, O_NONBLOCK);
	p->len = 0;
}

static void
stop_reader(struct probe *p)
{
	int	status;

	if (p->child > 0) {
		kill(-p->child, SIGTERM);
		kill(p->child, SIGTERM);
		waitpid(p->child, &status, 0);
		p->child = 0;
	}
	if (p->rfd >= 0)
		close(p->rfd);
	p->rfd = -1;
}

/* "2026-11-23T19:01:02.123+01:00" at the start of s: ns since the epoch,
 * or 0. */
static uint64_t
parse_stamp(const char *s)
{
	struct tm	tm;
	int		y, mo, d, h, mi, se, ms, oh, om;
	char		sign;
	time_t		t;

	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%3d%c%d:%d", &y, &mo, &d, &h, &mi,
	    &se, &ms, &sign, &oh, &om) != 10)
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900; tm.tm_mon = mo - 1; tm.tm_mday = d;
	tm.tm_hour = h; tm.tm_min = mi; tm.tm_sec = se;
	t = timegm(&tm);
	t -= (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return (uint64_t)t * 1000000000u + (uint64_t)ms * 1000000u;
}

static void
got_line(struct probe *p, const char *line, uint64_t now)
{
	const char	*q = strstr(line, "probe ");
	uint64_t	 cap;
	unsigned long	 seq;
	char		*end;

	if (q == NULL)
		return;
	q += 6;
	if (strncmp(q, "warmup ", 7) == 0) {
		p->warm = true;
		return;
	}
	seq = strtoul(q, &end, 10);
	if (end == q || *end != ' ' || seq >= p->count ||
	    p->sent_mono[seq] == 0 || p->lat_us[seq] >= 0)
		return;
	p->lat_us[seq] = (int64_t)(now - p->sent_mono[seq]) / 1000;
	if (q - 6 != line && (cap = parse_stamp(line)) != 0) {
		p->stamped = true;
		p->cap_us[seq] = ((int64_t)cap - (int64_t)p->sent_real[seq]) /
		    1000;
	}
	p->got++;
}

/* Read what the reader has; false if the command ended. */
static bool
reader_read(struct probe *p)
{
	uint64_t	now;
	ssize_t		n;
	char		*nl, *s;

	for (;;) {
		if (p->len == sizeof p->buf - 1)
			p->len = 0;	/* a line that long is not ours */
		n = read(p->rfd, p->buf + p->len, sizeof p->buf - 1 - p->len);
		if (n == 0)
			return p->cmd == NULL;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		now = mono();
		p->len += (size_t)n;
		p->buf[p->len] = '\0';
		s = p->buf;
		while ((nl = memchr(s, '\n', p->len - (size_t)(s - p->buf)))
		    != NULL) {
			*nl = '\0';
			got_line(p, s, now);
			s = nl + 1;
		}
		p->len -= (size_t)(s - p->buf);
		memmove(p->buf, s, p->len);
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
pct(const int64_t *v, size_t n, unsigned p)
{
	size_t	i = (n * p + 99) / 100;

	return n ? v[i ? i - 1 : 0] : 0;
}

static int
cmd_latency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "domid", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'P' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "cmd", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe	 p;
	const char	*root = NULL, *out = NULL, *logfile = NULL;
	char		 path[PATH_MAX], line[LINE], tag[16];
	unsigned	 interval_ms = 50, wait_ms = 3000, i, over = 0;
	uint64_t	 next, until, now, last_start = 0;
	int64_t		*v;
	size_t		 nv, nc;
	struct pollfd	 pf[2];
	struct stat	 st;
	FILE		*f;
	int		 ch, fd, timeout;

	memset(&p, 0, sizeof p);
	p.port = 2;
	p.rfd = p.ino = -1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': root = optarg; break;
		case 'd': p.domid = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'P': p.port = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': p.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': interval_ms = (unsigned)strtoul(optarg, NULL, 10);
		    break;
		case 'w': wait_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'l': logfile = optarg; break;
		case 'c': p.cmd = optarg; break;
		default: die("latency: bad option");
		}
	}
	if (root == NULL || out == NULL || p.domid == 0 || p.count == 0 ||
	    (logfile == NULL) == (p.cmd == NULL))
		die("usage: console-probe latency --root SIM --domid D "
		    "[--port P] --count N [--interval-ms MS] [--wait-ms MS] "
		    "--out FILE (--log-file PATH | --cmd COMMAND)");
	signal(SIGPIPE, SIG_IGN);

	snprintf(path, sizeof path, "%s/domains/%u/gnttab/0", root, p.domid);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0
	    || st.st_size != PAGE)
		die("%s: not a console page", path);
	p.intf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p.intf == MAP_FAILED)
		die("mmap %s: %s", path, strerror(errno));
	close(fd);
	if ((p.evfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	p.daemon.sun_family = AF_UNIX;
	if ((size_t)snprintf(p.daemon.sun_path, sizeof p.daemon.sun_path,
	    "%s/evtchn.sock", root) >= sizeof p.daemon.sun_path)
		die("%s: path too long", root);

	p.sent_mono = calloc(p.count, sizeof *p.sent_mono);
	p.sent_real = calloc(p.count, sizeof *p.sent_real);
	p.lat_us = malloc(p.count * sizeof *p.lat_us);
	p.cap_us = malloc(p.count * sizeof *p.cap_us);
	v = malloc(p.count * sizeof *v);
	if (!p.sent_mono || !p.sent_real || !p.lat_us || !p.cap_us || !v)
		die("out of memory");
	for (i = 0; i < p.count; i++)
		p.lat_us[i] = p.cap_us[i] = -1;

	/* The reader, and the warm-up line until it comes through. */
	if (logfile != NULL) {
		until = mono() + 10000000000ull;
		while ((p.rfd = open(logfile, O_RDONLY | O_CLOEXEC |
		    O_NONBLOCK)) < 0) {
			if (mono() > until)
				die("%s: %s", logfile, strerror(errno));
			usleep(10000);
		}
		if ((p.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
		    inotify_add_watch(p.ino, logfile, IN_MODIFY) < 0)
			die("inotify %s: %s", logfile, strerror(errno));
	}
	make_line(line, "warmup", clock_ns(CLOCK_REALTIME));
	if (ring_put(&p, line, LINE) != 0)
		die("domain %u: console ring stuck or broken", p.domid);
	until = mono() + 20000000000ull;
	while (!p.warm) {
		now = mono();
		if (now > until) {
			stop_reader(&p);
			die("the warm-up line never showed up");
		}
		if (p.cmd != NULL && p.child == 0 && now > last_start +
		    200000000ull) {
			start_reader(&p);
			last_start = now;
		}
		if (p.rfd >= 0 && !reader_read(&p))
			stop_reader(&p);
		usleep(10000);
	}

	/* The timed lines. */
	next = mono();
	i = 0;
	until = 0;
	pf[0].fd = p.rfd;
	pf[0].events = POLLIN;
	pf[1].fd = p.ino;
	pf[1].events = POLLIN;
	for (;;) {
		now = mono();
		if (i < p.count && now >= next) {
			snprintf(tag, sizeof tag, "%06u", i);
			p.sent_real[i] = clock_ns(CLOCK_REALTIME);
			p.sent_mono[i] = mono();
			make_line(line, tag, p.sent_real[i]);
			if (ring_put(&p, line, LINE) != 0) {
				fprintf(stderr, "console-probe: console ring "
				    "stuck at line %u\n", i);
				break;
			}
			i++;
			next += (uint64_t)interval_ms * 1000000u;
			if (i == p.count)
				until = mono() + (uint64_t)wait_ms * 1000000u;
			continue;
		}
		if (i == p.count && (p.got == p.count || now > until))
			break;
		if (i < p.count)
			timeout = (int)((next - now) / 1000000) + 1;
		else
			timeout = (int)((until - now) / 1000000) + 1;
		if (logfile != NULL && timeout > 10)
			timeout = 10;	/* and look every 10 ms anyway */
		/* A regular file always polls readable: wait on inotify. */
		if (poll(logfile != NULL ? &pf[1] : &pf[0], 1, timeout) < 0 &&
		    errno != EINTR)
			die("poll: %s", strerror(errno));
		if (logfile != NULL) {
			char	evbuf[4096];

			while (read(p.ino, evbuf, sizeof evbuf) > 0)
				;
		}
		if (!reader_read(&p)) {
			fprintf(stderr, "console-probe: the reader ended\n");
			break;
		}
	}
	stop_reader(&p);

	if ((f = fopen(out, "w")) == NULL)
		die("%s: %s", out, strerror(errno));
	for (nv = nc = 0, i = 0; i < p.count; i++) {
		if (p.lat_us[i] >= 0) {
			v[nv++] = p.lat_us[i];
			if (p.lat_us[i] > 250000)
				over++;
		}
	}
	qsort(v, nv, sizeof *v, cmp_i64);
	fprintf(f, "sent %u\nreceived %zu\nlost %zu\n", i, nv, (size_t)i - nv);
	fprintf(f, "lat_p50_us %" PRId64 "\nlat_p99_us %" PRId64
	    "\nlat_max_us %" PRId64 "\nover_250ms %u\n", pct(v, nv, 50),
	    pct(v, nv, 99), nv ? v[nv - 1] : 0, over);
	if (p.stamped) {
		for (nc = 0, i = 0; i < p.count; i++)
			if (p.lat_us[i] >= 0)
				v[nc++] = p.cap_us[i];
		qsort(v, nc, sizeof *v, cmp_i64);
		fprintf(f, "cap_p50_us %" PRId64 "\ncap_p99_us %" PRId64
		    "\ncap_max_us %" PRId64 "\n", pct(v, nc, 50),
		    pct(v, nc, 99), nc ? v[nc - 1] : 0);
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "latency") == 0)
		return cmd_latency(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "drain") == 0)
		return cmd_drain(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "cpu") == 0) {
		printf("%" PRIu64 "\n", proc_cpu_ns((pid_t)atoi(argv[2])));
		return 0;
	}
	fprintf(stderr, "usage: console-probe latency|drain|verify|cpu ... "
	    "(see the comment at the top of bench/console-probe.c)\n");
	return 2;
}
