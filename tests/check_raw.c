/*
 * Raw wire-protocol tests of the store daemon.
 *
 * Each test starts $XSCONSOLED (default ./xsconsoled) in a fresh temporary
 * directory, talks to its Unix socket with hand-made xsd_sockmsg frames, and
 * stops it with SIGTERM, demanding exit status 0.  The expected replies are
 * those of the reference, Debian's C xenstored 4.17 (tests/README.md lists
 * each case); tests/peer-cxenstored.sh runs that reference with the same
 * options, so XSCONSOLED=tests/peer-cxenstored.sh checks the tests
 * themselves.
 *
 * Socket clients are domain 0: privileged, home /local/domain/0.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

/* How long a reply may take before the test gives up. */
#define REPLY_TIMEOUT_MS	5000
/* How long to listen for a message that must not come. */
#define QUIET_MS		200
/* Stashed watch events per client. */
#define MAX_EVENTS		64

/* One message as read from the socket; body is NUL-terminated for ease. */
struct msg {
	struct xsd_sockmsg	hdr;
	char			body[XENSTORE_PAYLOAD_MAX + 1];
};

/* A client connection and the watch events read while awaiting replies. */
struct client {
	int		 fd;
	uint32_t	 next_req;
	struct msg	*events[MAX_EVENTS];
	int		 nevents;
};

/* Sized so that every path fits sun_path (108 bytes); TMPDIR <= 60. */
static char	base_dir[80];
static char	test_dir[96];
static char	sock_path[108];
static pid_t	daemon_pid = -1;
static int	alive_count;

static const char *type_name(uint32_t);
static const char *esc(const void *, size_t);
static int64_t now_ms(void);
static int remove_entry(const char *, const struct stat *, int, struct FTW *);
static void remove_tree(const char *);
static void daemon_start(void);
/* --stall-timeout for the next daemon_start (our daemon's own option). */
static const char *daemon_stall_timeout;
static void daemon_stop(void);
static int connect_socket(void);
static struct client *client_open(void);
static void client_close(struct client *);
static int send_all(int, const void *, size_t);
static int read_full(int, void *, size_t, int);
static void send_msg(struct client *, uint32_t, uint32_t, uint32_t,
		    const void *, size_t);
static int recv_msg(struct client *, struct msg *, int);
static void recv_reply(struct client *, struct msg *, int);
static void request(struct client *, uint32_t, uint32_t, const void *, size_t,
		    struct msg *, int);
static void expect_reply(struct client *, uint32_t, uint32_t, const void *,
		    size_t, uint32_t, const void *, size_t, int);
static void expect_some_error(struct client *, uint32_t, uint32_t,
		    const void *, size_t, int);
static void expect_event(struct client *, const char *, const char *, int);
static void expect_no_event(struct client *, int, int);
static void expect_dropped(struct client *, int);
static uint32_t tx_start(struct client *, int);
static void do_write(struct client *, uint32_t, const char *, const char *,
		    int);
static void check_alive(void);
static size_t long_path(char *, const char *, size_t);
static size_t read_directory_part(struct client *, const char *, char *,
		    size_t, char *, size_t);
static void setup(void);
static void teardown(void);
static Suite *raw_suite(void);

/* A literal as (pointer, length), its explicit "\0"s included. */
#define L(s)	(s), (sizeof(s) - 1)

#define EXPECT(c, type, tx, req, rtype, rep) \
	expect_reply(c, type, tx, L(req), rtype, L(rep), __LINE__)
#define EXPECT_OK(c, type, tx, req) \
	expect_reply(c, type, tx, L(req), type, L("OK\0"), __LINE__)
#define EXPECT_ERR(c, type, tx, req, err) \
	expect_reply(c, type, tx, L(req), XS_ERROR, L(err "\0"), __LINE__)
#define EXPECT_SOME_ERR(c, type, tx, req) \
	expect_some_error(c, type, tx, L(req), __LINE__)
#define EXPECT_EVENT(c, path, token) \
	expect_event(c, path, token, __LINE__)
#define EXPECT_NO_EVENT(c) \
	expect_no_event(c, QUIET_MS, __LINE__)
#define WRITE(c, tx, path, value) \
	do_write(c, tx, path, value, __LINE__)

/* Name a message type for failure messages. */
static const char *
type_name(uint32_t type)
{
	static const char *names[] = {
		[XS_CONTROL] = "CONTROL",
		[XS_DIRECTORY] = "DIRECTORY",
		[XS_READ] = "READ",
		[XS_GET_PERMS] = "GET_PERMS",
		[XS_WATCH] = "WATCH",
		[XS_UNWATCH] = "UNWATCH",
		[XS_TRANSACTION_START] = "TRANSACTION_START",
		[XS_TRANSACTION_END] = "TRANSACTION_END",
		[XS_INTRODUCE] = "INTRODUCE",
		[XS_RELEASE] = "RELEASE",
		[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
		[XS_WRITE] = "WRITE",
		[XS_MKDIR] = "MKDIR",
		[XS_RM] = "RM",
		[XS_SET_PERMS] = "SET_PERMS",
		[XS_WATCH_EVENT] = "WATCH_EVENT",
		[XS_ERROR] = "ERROR",
		[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
		[XS_RESUME] = "RESUME",
		[XS_SET_TARGET] = "SET_TARGET",
		[XS_RESET_WATCHES] = "RESET_WATCHES",
		[XS_DIRECTORY_PART] = "DIRECTORY_PART",
	};
	static char	buf[4][16];
	static int	next;
	char	       *s;

	if (type < sizeof names / sizeof names[0] && names[type] != NULL)
		return names[type];
	s = buf[next++ % 4];
	snprintf(s, sizeof buf[0], "type %" PRIu32, type);
	return s;
}

/* Quote bytes C-style, NULs as \0, cut after 160 bytes. */
static const char *
esc(const void *p, size_t len)
{
	static char		 buf[4][800];
	static int		 next;
	const unsigned char	*s = p;
	char			*out = buf[next++ % 4], *o = out;
	size_t			 i;

	*o++ = '"';
	for (i = 0; i < len && i < 160; i++) {
		if (s[i] == '\0')
			o += sprintf(o, "\\0");
		else if (s[i] == '"' || s[i] == '\\')
			o += sprintf(o, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			o += sprintf(o, "\\x%02x", s[i]);
		else
			*o++ = s[i];
	}
	*o++ = '"';
	if (i < len)
		o += sprintf(o, "... (%zu bytes)", len);
	*o = '\0';
	return out;
}

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remove one entry of a tree being deleted. */
static int
remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove a directory tree, ignoring errors. */
static void
remove_tree(const char *path)
{
	if (getenv("XSC_KEEP") != NULL)
		return;
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Start the daemon in a new directory and wait up to 5 s for its socket. */
static void
daemon_start(void)
{
	const char	*prog = getenv("XSCONSOLED");
	char		 pidf[128], logf[128], stdiof[128];
	int64_t		 deadline;
	int		 fd, status;

	if (prog == NULL || *prog == '\0')
		prog = "./xsconsoled";
	ck_assert_msg(access(prog, X_OK) == 0,
	    "XSCONSOLED=%s is not executable: %s", prog, strerror(errno));

	snprintf(test_dir, sizeof test_dir, "%s/t.XXXXXX", base_dir);
	ck_assert_msg(mkdtemp(test_dir) != NULL, "mkdtemp %s: %s", test_dir,
	    strerror(errno));
	snprintf(sock_path, sizeof sock_path, "%s/socket", test_dir);
	snprintf(pidf, sizeof pidf, "%s/pid", test_dir);
	snprintf(logf, sizeof logf, "%s/log", test_dir);
	snprintf(stdiof, sizeof stdiof, "%s/stdio", test_dir);

	daemon_pid = fork();
	ck_assert_msg(daemon_pid != -1, "fork: %s", strerror(errno));
	if (daemon_pid == 0) {
		/* If the test process dies (timeout), take the daemon along. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open("/dev/null", O_RDONLY);
		if (fd != -1)
			dup2(fd, 0);
		fd = open(stdiof, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (daemon_stall_timeout != NULL)
			execl(prog, prog, "-F", "--socket", sock_path,
			    "--pid-file", pidf, "--log-file", logf,
			    "--log-level", "debug", "--stall-timeout",
			    daemon_stall_timeout, (char *)NULL);
		else
			execl(prog, prog, "-F", "--socket", sock_path,
			    "--pid-file", pidf, "--log-file", logf,
			    "--log-level", "debug", (char *)NULL);
		_exit(127);
	}

	deadline = now_ms() + 5000;
	for (;;) {
		fd = connect_socket();
		if (fd != -1) {
			close(fd);
			return;
		}
		if (waitpid(daemon_pid, &status, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			ck_abort_msg("%s exited (status 0x%x) before listening on"
			    " %s; see %s", prog, status, sock_path, stdiof);
		}
		ck_assert_msg(now_ms() < deadline,
		    "%s: no socket at %s after 5 s", prog, sock_path);
		usleep(20 * 1000);
	}
}

/* Stop the daemon with SIGTERM; it must exit 0 within 5 s. */
static void
daemon_stop(void)
{
	pid_t	pid = daemon_pid;
	int64_t	deadline;
	int	status;

	if (pid == -1)
		return;
	daemon_pid = -1;
	ck_assert_msg(kill(pid, SIGTERM) == 0, "kill daemon: %s",
	    strerror(errno));
	deadline = now_ms() + 5000;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("daemon ignored SIGTERM for 5 s");
		}
		usleep(10 * 1000);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "daemon did not exit cleanly on SIGTERM: %s %d (log in %s)",
	    WIFEXITED(status) ? "exit status" : "killed by signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	    test_dir);
	remove_tree(test_dir);
}

/* Connect to the daemon's socket; -1 on failure. */
static int
connect_socket(void)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open a client connection. */
static struct client *
client_open(void)
{
	struct client	*c;

	c = calloc(1, sizeof *c);
	ck_assert_msg(c != NULL, "out of memory");
	c->fd = connect_socket();
	ck_assert_msg(c->fd != -1, "connect %s: %s", sock_path,
	    strerror(errno));
	c->next_req = 0x1000;
	return c;
}

/* Close a client connection and forget its events. */
static void
client_close(struct client *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nevents; i++)
		free(c->events[i]);
	close(c->fd);
	free(c);
}

/* Write all of buf; 0, or -1 if the connection broke. */
static int
send_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Read exactly len bytes: 0, -1 on EOF or reset, -2 on timeout. */
static int
read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	char		*p = buf;
	int64_t		 deadline = now_ms() + timeout_ms, left;
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return -2;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Send one message with the given header fields and payload. */
static void
send_msg(struct client *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
    const void *payload, size_t len)
{
	char			buf[sizeof(struct xsd_sockmsg) +
				    XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg	hdr;

	ck_assert_msg(len <= XENSTORE_PAYLOAD_MAX, "payload too long to send");
	hdr.type = type;
	hdr.req_id = req_id;
	hdr.tx_id = tx_id;
	hdr.len = len;
	memcpy(buf, &hdr, sizeof hdr);
	memcpy(buf + sizeof hdr, payload, len);
	ck_assert_msg(send_all(c->fd, buf, sizeof hdr + len) == 0,
	    "sending %s: %s", type_name(type), strerror(errno));
}

/* Read one message: 0, -1 on EOF, -2 on timeout. */
static int
recv_msg(struct client *c, struct msg *m, int timeout_ms)
{
	int	rc;

	rc = read_full(c->fd, &m->hdr, sizeof m->hdr, timeout_ms);
	if (rc != 0)
		return rc;
	ck_assert_msg(m->hdr.len <= XENSTORE_PAYLOAD_MAX,
	    "daemon sent a %s of %" PRIu32 " bytes", type_name(m->hdr.type),
	    m->hdr.len);
	rc = read_full(c->fd, m->body, m->hdr.len, REPLY_TIMEOUT_MS);
	ck_assert_msg(rc == 0, "daemon sent a %s header but not its payload",
	    type_name(m->hdr.type));
	m->body[m->hdr.len] = '\0';
	return 0;
}

/* Read the next reply, stashing the watch events that come before it. */
static void
recv_reply(struct client *c, struct msg *m, int line)
{
	int	rc;

	for (;;) {
		rc = recv_msg(c, m, REPLY_TIMEOUT_MS);
		ck_assert_msg(rc == 0, "line %d: %s waiting for a reply", line,
		    rc == -1 ? "connection closed" : "timed out");
		if (m->hdr.type != XS_WATCH_EVENT)
			return;
		ck_assert_msg(c->nevents < MAX_EVENTS,
		    "line %d: more than %d unread watch events", line,
		    MAX_EVENTS);
		c->events[c->nevents] = malloc(sizeof *m);
		ck_assert_msg(c->events[c->nevents] != NULL, "out of memory");
		memcpy(c->events[c->nevents++], m, sizeof *m);
	}
}

/* Send a request and read its reply, which must echo req_id and tx_id. */
static void
request(struct client *c, uint32_t type, uint32_t tx, const void *req,
    size_t len, struct msg *m, int line)
{
	uint32_t	req_id = c->next_req++;

	send_msg(c, type, req_id, tx, req, len);
	recv_reply(c, m, line);
	ck_assert_msg(m->hdr.req_id == req_id && m->hdr.tx_id == tx,
	    "line %d: %s %s: reply %s %s has req_id %" PRIu32 " tx_id %" PRIu32
	    ", expected %" PRIu32 " %" PRIu32, line, type_name(type),
	    esc(req, len), type_name(m->hdr.type), esc(m->body, m->hdr.len),
	    m->hdr.req_id, m->hdr.tx_id, req_id, tx);
}

/* Send a request; its reply must be exactly rtype with payload rep. */
static void
expect_reply(struct client *c, uint32_t type, uint32_t tx, const void *req,
    size_t len, uint32_t rtype, const void *rep, size_t replen, int line)
{
	struct msg	*m;

	m = malloc(sizeof *m);
	ck_assert_msg(m != NULL, "out of memory");
	request(c, type, tx, req, len, m, line);
	ck_assert_msg(m->hdr.type == rtype && m->hdr.len == replen &&
	    memcmp(m->body, rep, replen) == 0,
	    "line %d: %s %s (tx %" PRIu32 "):\n  got      %s %s\n"
	    "  expected %s %s", line, type_name(type), esc(req, len), tx,
	    type_name(m->hdr.type), esc(m->body, m->hdr.len),
	    type_name(rtype), esc(rep, replen));
	free(m);
}

/*
 * Send a request; the reply must be an XS_ERROR naming some errno of the
 * xsd_errors table.  For malformed one-argument requests the reference
 * answers with a stale errno left over from earlier work (see README.md),
 * so only "an error" is pinned there.
 */
static void
expect_some_error(struct client *c, uint32_t type, uint32_t tx,
    const void *req, size_t len, int line)
{
	struct msg	*m;
	size_t		 i;
	int		 known = 0;

	m = malloc(sizeof *m);
	ck_assert_msg(m != NULL, "out of memory");
	request(c, type, tx, req, len, m, line);
	for (i = 0; i < sizeof xsd_errors / sizeof xsd_errors[0]; i++) {
		if (m->hdr.len == strlen(xsd_errors[i].errstring) + 1 &&
		    memcmp(m->body, xsd_errors[i].errstring, m->hdr.len) == 0)
			known = 1;
	}
	ck_assert_msg(m->hdr.type == XS_ERROR && known,
	    "line %d: %s %s: got %s %s, expected an ERROR", line,
	    type_name(type), esc(req, len), type_name(m->hdr.type),
	    esc(m->body, m->hdr.len));
	free(m);
}

/* The next watch event must be path and token, with req_id = tx_id = 0. */
static void
expect_event(struct client *c, const char *path, const char *token,
    int line)
{
	struct msg	*m;
	char		 want[XENSTORE_PAYLOAD_MAX];
	size_t		 wantlen;
	int		 rc;

	wantlen = strlen(path) + 1 + strlen(token) + 1;
	memcpy(want, path, strlen(path) + 1);
	memcpy(want + strlen(path) + 1, token, strlen(token) + 1);

	if (c->nevents > 0) {
		m = c->events[0];
		memmove(c->events, c->events + 1,
		    --c->nevents * sizeof c->events[0]);
	} else {
		m = malloc(sizeof *m);
		ck_assert_msg(m != NULL, "out of memory");
		rc = recv_msg(c, m, REPLY_TIMEOUT_MS);
		ck_assert_msg(rc == 0, "line %d: %s waiting for event %s",
		    line, rc == -1 ? "connection closed" : "timed out",
		    esc(want, wantlen));
	}
	ck_assert_msg(m->hdr.type == XS_WATCH_EVENT && m->hdr.req_id == 0 &&
	    m->hdr.tx_id == 0 && m->hdr.len == wantlen &&
	    memcmp(m->body, want, wantlen) == 0,
	    "line %d: got %s (req_id %" PRIu32 " tx_id %" PRIu32 ") %s,"
	    " expected WATCH_EVENT (0 0) %s", line, type_name(m->hdr.type),
	    m->hdr.req_id, m->hdr.tx_id, esc(m->body, m->hdr.len),
	    esc(want, wantlen));
	free(m);
}

/* No message at all may arrive within ms milliseconds. */
static void
expect_no_event(struct client *c, int ms, int line)
{
	struct msg	*m;
	int		 rc;

	ck_assert_msg(c->nevents == 0, "line %d: unexpected event %s", line,
	    c->nevents ? esc(c->events[0]->body, c->events[0]->hdr.len) : "");
	m = malloc(sizeof *m);
	ck_assert_msg(m != NULL, "out of memory");
	rc = recv_msg(c, m, ms);
	ck_assert_msg(rc != 0, "line %d: unexpected %s %s", line,
	    type_name(m->hdr.type), esc(m->body, m->hdr.len));
	ck_assert_msg(rc == -2, "line %d: connection closed unexpectedly",
	    line);
	free(m);
}

/* The daemon must close this connection within 5 s (pending replies
 * before the close are allowed and skipped). */
static void
expect_dropped(struct client *c, int line)
{
	struct msg	m;
	int64_t		deadline = now_ms() + REPLY_TIMEOUT_MS;
	int		rc;

	for (;;) {
		rc = read_full(c->fd, &m.hdr, sizeof m.hdr,
		    (int)(deadline - now_ms()));
		if (rc == -1)
			return;
		ck_assert_msg(rc == 0, "line %d: connection still open after"
		    " 5 s", line);
		if (m.hdr.len > XENSTORE_PAYLOAD_MAX)
			continue;
		if (read_full(c->fd, m.body, m.hdr.len,
		    (int)(deadline - now_ms())) == -1)
			return;
	}
}

/* Start a transaction and return its id. */
static uint32_t
tx_start(struct client *c, int line)
{
	struct msg	*m;
	char		*end;
	unsigned long	 id;

	m = malloc(sizeof *m);
	ck_assert_msg(m != NULL, "out of memory");
	request(c, XS_TRANSACTION_START, 0, L("\0"), m, line);
	ck_assert_msg(m->hdr.type == XS_TRANSACTION_START &&
	    m->hdr.len >= 2 && m->body[m->hdr.len - 1] == '\0',
	    "line %d: TRANSACTION_START: got %s %s", line,
	    type_name(m->hdr.type), esc(m->body, m->hdr.len));
	errno = 0;
	id = strtoul(m->body, &end, 10);
	ck_assert_msg(errno == 0 && *end == '\0' && end != m->body &&
	    id != 0 && id <= UINT32_MAX,
	    "line %d: TRANSACTION_START: bad id %s", line,
	    esc(m->body, m->hdr.len));
	free(m);
	return (uint32_t)id;
}

/* Write a string value (no NUL) to path; the reply must be OK. */
static void
do_write(struct client *c, uint32_t tx, const char *path, const char *value,
    int line)
{
	char	buf[XENSTORE_PAYLOAD_MAX];
	size_t	plen = strlen(path) + 1, vlen = strlen(value);

	ck_assert_msg(plen + vlen <= sizeof buf, "write too long");
	memcpy(buf, path, plen);
	memcpy(buf + plen, value, vlen);
	expect_reply(c, XS_WRITE, tx, buf, plen + vlen, XS_WRITE, L("OK\0"),
	    line);
}

/* A fresh connection still gets correct answers. */
static void
check_alive(void)
{
	struct client	*c = client_open();
	char		 path[64], value[64], req[128];
	size_t		 plen;

	snprintf(path, sizeof path, "/alive/n%d", alive_count);
	snprintf(value, sizeof value, "still here %d", alive_count++);
	do_write(c, 0, path, value, __LINE__);
	plen = strlen(path) + 1;
	memcpy(req, path, plen);
	expect_reply(c, XS_READ, 0, req, plen, XS_READ, value, strlen(value),
	    __LINE__);
	EXPECT_ERR(c, XS_READ, 0, "/alive/never-written\0", "ENOENT");
	client_close(c);
}

/* Per-test fixture: a fresh daemon. */
static void
setup(void)
{
	daemon_start();
}

/* Per-test fixture: the daemon still answers, then exits 0 on SIGTERM. */
static void
teardown(void)
{
	check_alive();
	daemon_stop();
}

/*
 * xsconsoled, not the reference: a client that sends requests and never
 * reads the replies is throttled, then dropped after --stall-timeout
 * seconds without taking any output, while others are served.
 */
START_TEST(test_stall_timeout_drops)
{
	struct client		*quiet, *other;
	struct xsd_sockmsg	 hdr = { XS_READ, 0, 0, sizeof("/tool") };
	char			 frame[64 * (sizeof hdr + sizeof("/tool"))];
	int64_t			 start, gone = -1;
	size_t			 i, off;
	ssize_t			 n;

	daemon_stop();
	daemon_stall_timeout = "1";
	daemon_start();
	daemon_stall_timeout = NULL;
	quiet = client_open();
	other = client_open();
	for (i = off = 0; i < 64; i++) {
		memcpy(frame + off, &hdr, sizeof hdr);
		memcpy(frame + off + sizeof hdr, "/tool", sizeof("/tool"));
		off += sizeof hdr + sizeof("/tool");
	}
	start = now_ms();
	while (now_ms() - start < 6000) {
		n = send(quiet->fd, frame, sizeof frame,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			gone = now_ms() - start;
			break;
		}
		if (n == -1)
			usleep(20 * 1000);
	}
	ck_assert_msg(gone >= 900 && gone < 4000, "a client that read "
	    "nothing was %s (after %" PRId64 " ms), expected a drop 1 s "
	    "after its output stalled", gone < 0 ? "never dropped" :
	    "dropped", gone);
	EXPECT(other, XS_READ, 0, "/tool\0", XS_READ, "");
	client_close(quiet);
	client_close(other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Wire format                                                          */
/* ------------------------------------------------------------------ */

/* Basic requests and exact replies, including binary values. */
START_TEST(test_basic)
{
	struct client	*c = client_open();

	EXPECT_OK(c, XS_WRITE, 0, "/basic/a\0hello");
	EXPECT(c, XS_READ, 0, "/basic/a\0", XS_READ, "hello");
	/* WRITE's value is the raw remainder, NULs included. */
	EXPECT_OK(c, XS_WRITE, 0, "/basic/bin\0x\0y\0");
	EXPECT(c, XS_READ, 0, "/basic/bin\0", XS_READ, "x\0y\0");
	EXPECT_OK(c, XS_WRITE, 0, "/basic/empty\0");
	EXPECT(c, XS_READ, 0, "/basic/empty\0", XS_READ, "");
	/* Missing parents are created with empty values. */
	EXPECT_OK(c, XS_WRITE, 0, "/basic/p/q/r\0deep");
	EXPECT(c, XS_READ, 0, "/basic/p\0", XS_READ, "");
	EXPECT(c, XS_READ, 0, "/basic/p/q\0", XS_READ, "");
	/* Children in creation order; a leaf has an empty list. */
	EXPECT(c, XS_DIRECTORY, 0, "/basic\0", XS_DIRECTORY,
	    "a\0bin\0empty\0p\0");
	EXPECT(c, XS_DIRECTORY, 0, "/basic/a\0", XS_DIRECTORY, "");
	EXPECT_OK(c, XS_WRITE, 0, "/basic/a\0again");
	EXPECT(c, XS_DIRECTORY, 0, "/basic\0", XS_DIRECTORY,
	    "a\0bin\0empty\0p\0");
	EXPECT(c, XS_READ, 0, "/\0", XS_READ, "");
	EXPECT_ERR(c, XS_READ, 0, "/basic/none\0", "ENOENT");
	EXPECT_ERR(c, XS_DIRECTORY, 0, "/basic/none\0", "ENOENT");
	/* Relative paths are below /local/domain/0. */
	EXPECT_OK(c, XS_WRITE, 0, "relnode\0rv");
	EXPECT(c, XS_READ, 0, "/local/domain/0/relnode\0", XS_READ, "rv");
	EXPECT(c, XS_READ, 0, "relnode\0", XS_READ, "rv");
	client_close(c);
}
END_TEST

/* Replies echo req_id and tx_id, for successes and errors alike. */
START_TEST(test_reqid_echo)
{
	static const uint32_t	 ids[] = { 0, 1, 0x7fffffff, 0xffffffff };
	struct client		*c = client_open();
	struct msg		 m;
	uint32_t		 tx;
	size_t			 i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		send_msg(c, XS_READ, ids[i], 0, L("/\0"));
		recv_reply(c, &m, __LINE__);
		ck_assert_msg(m.hdr.type == XS_READ && m.hdr.req_id == ids[i] &&
		    m.hdr.tx_id == 0, "READ req_id %" PRIu32 ": got %s req_id"
		    " %" PRIu32 " tx_id %" PRIu32, ids[i],
		    type_name(m.hdr.type), m.hdr.req_id, m.hdr.tx_id);
		send_msg(c, XS_READ, ids[i], 0, L("/none\0"));
		recv_reply(c, &m, __LINE__);
		ck_assert_msg(m.hdr.type == XS_ERROR && m.hdr.req_id == ids[i] &&
		    m.hdr.tx_id == 0, "failing READ req_id %" PRIu32 ": got %s"
		    " req_id %" PRIu32, ids[i], type_name(m.hdr.type),
		    m.hdr.req_id);
	}

	tx = tx_start(c, __LINE__);
	send_msg(c, XS_WRITE, 0xabcdef01, tx, L("/echo\0v"));
	recv_reply(c, &m, __LINE__);
	ck_assert_msg(m.hdr.type == XS_WRITE && m.hdr.req_id == 0xabcdef01 &&
	    m.hdr.tx_id == tx, "WRITE in tx %" PRIu32 ": got %s req_id %"
	    PRIx32 " tx_id %" PRIu32, tx, type_name(m.hdr.type),
	    m.hdr.req_id, m.hdr.tx_id);
	send_msg(c, XS_READ, 0x55, tx, L("/none\0"));
	recv_reply(c, &m, __LINE__);
	ck_assert_msg(m.hdr.type == XS_ERROR && m.hdr.req_id == 0x55 &&
	    m.hdr.tx_id == tx, "failing READ in tx: got %s req_id %" PRIu32
	    " tx_id %" PRIu32, type_name(m.hdr.type), m.hdr.req_id,
	    m.hdr.tx_id);
	/* An unknown transaction's id is echoed in the error too. */
	EXPECT_ERR(c, XS_READ, 0xdead, "/\0", "ENOENT");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	client_close(c);
}
END_TEST

/* A payload of exactly XENSTORE_PAYLOAD_MAX bytes is accepted. */
START_TEST(test_payload_max)
{
	struct client	*c = client_open();
	char		 req[XENSTORE_PAYLOAD_MAX];
	size_t		 vlen = XENSTORE_PAYLOAD_MAX - sizeof("/max");

	memcpy(req, "/max", sizeof("/max"));
	memset(req + sizeof("/max"), 'v', vlen);
	expect_reply(c, XS_WRITE, 0, req, sizeof req, XS_WRITE, L("OK\0"),
	    __LINE__);
	expect_reply(c, XS_READ, 0, L("/max\0"), XS_READ,
	    req + sizeof("/max"), vlen, __LINE__);
	client_close(c);
}
END_TEST

/* len > XENSTORE_PAYLOAD_MAX drops the connection, nothing else. */
START_TEST(test_payload_too_long)
{
	static const uint32_t	 lens[] = { XENSTORE_PAYLOAD_MAX + 1,
				    0x10000, 0xffffffff };
	struct client		*c, *other;
	struct xsd_sockmsg	 hdr;
	size_t			 i;

	other = client_open();
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		c = client_open();
		EXPECT_OK(c, XS_WRITE, 0, "/long/before\0x");
		hdr.type = XS_WRITE;
		hdr.req_id = 1;
		hdr.tx_id = 0;
		hdr.len = lens[i];
		ck_assert(send_all(c->fd, &hdr, sizeof hdr) == 0);
		/* Some payload too, as a real offender would send. */
		send_all(c->fd, "/long/x\0yyyy", 12);
		expect_dropped(c, __LINE__);
		client_close(c);
		/* Another client is unaffected. */
		EXPECT(other, XS_READ, 0, "/long/before\0", XS_READ, "x");
	}
	client_close(other);
}
END_TEST

/* Clients that vanish mid-header or mid-payload do not upset the daemon. */
START_TEST(test_partial_disconnect)
{
	struct client		*c;
	struct xsd_sockmsg	 hdr = { XS_WRITE, 9, 0, 20 };
	uint32_t		 tx;

	/* Mid-header. */
	c = client_open();
	ck_assert(send_all(c->fd, &hdr, 7) == 0);
	client_close(c);
	/* Header complete, no payload. */
	c = client_open();
	ck_assert(send_all(c->fd, &hdr, sizeof hdr) == 0);
	client_close(c);
	/* Mid-payload: the half-sent WRITE must not happen. */
	c = client_open();
	ck_assert(send_all(c->fd, &hdr, sizeof hdr) == 0);
	ck_assert(send_all(c->fd, "/partial\0abc", 12) == 0);
	client_close(c);
	/* Open transaction with writes, then gone: nothing is applied. */
	c = client_open();
	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/partial-tx", "never");
	client_close(c);

	usleep(100 * 1000);
	c = client_open();
	EXPECT_ERR(c, XS_READ, 0, "/partial\0", "ENOENT");
	EXPECT_ERR(c, XS_READ, 0, "/partial-tx\0", "ENOENT");
	client_close(c);
}
END_TEST

/* A request dribbled one byte at a time is answered once complete. */
START_TEST(test_byte_by_byte)
{
	struct client		*c = client_open();
	struct xsd_sockmsg	 hdr = { XS_WRITE, 77, 0, 8 };
	char			 buf[sizeof hdr + 8];
	struct msg		 m;
	size_t			 i;

	memcpy(buf, &hdr, sizeof hdr);
	memcpy(buf + sizeof hdr, "/slow\0ab", 8);
	for (i = 0; i < sizeof buf; i++) {
		ck_assert(send_all(c->fd, buf + i, 1) == 0);
		if (i + 1 < sizeof buf)
			ck_assert_msg(recv_msg(c, &m, 20) == -2,
			    "reply before the request was complete");
	}
	recv_reply(c, &m, __LINE__);
	ck_assert_msg(m.hdr.type == XS_WRITE && m.hdr.req_id == 77 &&
	    m.hdr.len == 3 && memcmp(m.body, "OK", 3) == 0,
	    "got %s %s", type_name(m.hdr.type), esc(m.body, m.hdr.len));
	EXPECT(c, XS_READ, 0, "/slow\0", XS_READ, "ab");
	client_close(c);
}
END_TEST

/* Many requests in one write are answered in order. */
START_TEST(test_pipelined)
{
	struct client	*c = client_open();
	char		 buf[200 * (sizeof(struct xsd_sockmsg) + 16)], *p = buf;
	struct xsd_sockmsg hdr;
	struct msg	 m;
	int		 i, len;

	for (i = 0; i < 200; i++) {
		char	payload[16];

		len = snprintf(payload, sizeof payload, "/pipe/%d", i % 10) + 1;
		len += snprintf(payload + len, sizeof payload - len, "%d", i);
		hdr.type = XS_WRITE;
		hdr.req_id = i;
		hdr.tx_id = 0;
		hdr.len = len;
		memcpy(p, &hdr, sizeof hdr);
		memcpy(p + sizeof hdr, payload, len);
		p += sizeof hdr + len;
	}
	ck_assert(send_all(c->fd, buf, p - buf) == 0);
	for (i = 0; i < 200; i++) {
		recv_reply(c, &m, __LINE__);
		ck_assert_msg(m.hdr.type == XS_WRITE && m.hdr.req_id ==
		    (uint32_t)i, "reply %d: %s req_id %" PRIu32, i,
		    type_name(m.hdr.type), m.hdr.req_id);
	}
	EXPECT(c, XS_READ, 0, "/pipe/3\0", XS_READ, "193");
	client_close(c);
}
END_TEST

/* Unknown and reply-only message types answer ENOSYS. */
START_TEST(test_unknown_types)
{
	static const uint32_t	 types[] = { XS_WATCH_EVENT, XS_ERROR,
				    XS_SET_TARGET + 1, XS_TYPE_COUNT, 99,
				    XS_INVALID, 0x10000, 0xffffffff };
	struct client		*c = client_open();
	size_t			 i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		expect_reply(c, types[i], 0, L(""), XS_ERROR, L("ENOSYS\0"),
		    __LINE__);
		expect_reply(c, types[i], 0, L("/x\0y\0"), XS_ERROR,
		    L("ENOSYS\0"), __LINE__);
	}
	client_close(c);
}
END_TEST

/*
 * Arguments without their NUL, or too few or too many.  Types whose
 * arguments are checked by count answer EINVAL; for the one-path types
 * (READ, DIRECTORY, GET_PERMS, MKDIR, RM) the reference answers a stale
 * errno, so only "an error" is pinned for those.
 */
START_TEST(test_bad_arguments)
{
	struct client	*c = client_open();
	struct msg	 m;
	uint32_t	 tx;

	EXPECT_OK(c, XS_WRITE, 0, "/args/n\0v");

	/* One path argument. */
	EXPECT_SOME_ERR(c, XS_READ, 0, "/args/n");
	EXPECT_SOME_ERR(c, XS_READ, 0, "");
	EXPECT_SOME_ERR(c, XS_READ, 0, "/args/n\0extra\0");
	EXPECT_SOME_ERR(c, XS_DIRECTORY, 0, "/args");
	EXPECT_SOME_ERR(c, XS_DIRECTORY, 0, "");
	EXPECT_SOME_ERR(c, XS_DIRECTORY, 0, "/args\0extra\0");
	EXPECT_SOME_ERR(c, XS_GET_PERMS, 0, "/args");
	EXPECT_SOME_ERR(c, XS_GET_PERMS, 0, "");
	EXPECT_SOME_ERR(c, XS_GET_PERMS, 0, "/args\0extra\0");
	EXPECT_SOME_ERR(c, XS_MKDIR, 0, "/args/m");
	EXPECT_SOME_ERR(c, XS_MKDIR, 0, "");
	EXPECT_SOME_ERR(c, XS_MKDIR, 0, "/args/m\0extra\0");
	EXPECT_SOME_ERR(c, XS_RM, 0, "/args/n");
	EXPECT_SOME_ERR(c, XS_RM, 0, "");
	EXPECT_SOME_ERR(c, XS_RM, 0, "/args/n\0extra\0");
	/* None of those did anything. */
	EXPECT(c, XS_READ, 0, "/args/n\0", XS_READ, "v");
	EXPECT_ERR(c, XS_READ, 0, "/args/m\0", "ENOENT");

	/* WRITE needs its path NUL-terminated and non-empty. */
	EXPECT_ERR(c, XS_WRITE, 0, "/args/w", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "\0", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "\0value", "EINVAL");

	/* WATCH and UNWATCH take exactly path and token. */
	EXPECT_ERR(c, XS_WATCH, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/args\0", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/args\0tok", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/args\0tok\0extra\0", "EINVAL");
	EXPECT_ERR(c, XS_UNWATCH, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/args\0", "EINVAL");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/args\0tok", "EINVAL");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/args\0tok\0extra\0", "EINVAL");
	EXPECT_NO_EVENT(c);

	/* SET_PERMS needs a path and at least one permission. */
	EXPECT_ERR(c, XS_SET_PERMS, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/args/n", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/args/n\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/args/n\0n0", "EINVAL");

	/* DIRECTORY_PART takes exactly path and offset. */
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "/args\0", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "/args\0" "0", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "/args\0" "0\0x\0", "EINVAL");

	/* One domid. */
	EXPECT_ERR(c, XS_GET_DOMAIN_PATH, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_GET_DOMAIN_PATH, 0, "0", "EINVAL");
	EXPECT_ERR(c, XS_GET_DOMAIN_PATH, 0, "0\0" "1\0", "EINVAL");
	EXPECT_ERR(c, XS_IS_DOMAIN_INTRODUCED, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_IS_DOMAIN_INTRODUCED, 0, "0", "EINVAL");
	EXPECT_ERR(c, XS_IS_DOMAIN_INTRODUCED, 0, "0\0" "1\0", "EINVAL");

	/* Domain management with too few arguments. */
	EXPECT_ERR(c, XS_INTRODUCE, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_INTRODUCE, 0, "1\0", "EINVAL");
	EXPECT_ERR(c, XS_RELEASE, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_RESUME, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_SET_TARGET, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_SET_TARGET, 0, "1\0", "EINVAL");
	EXPECT_ERR(c, XS_CONTROL, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_CONTROL, 0, "\0", "EINVAL");

	/* TRANSACTION_END: exactly "T" or "F". */
	EXPECT_ERR(c, XS_TRANSACTION_END, 0, "", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, 0, "T", "EINVAL");

	/* TRANSACTION_START and RESET_WATCHES ignore their payload. */
	request(c, XS_TRANSACTION_START, 0, L("junk"), &m, __LINE__);
	ck_assert_msg(m.hdr.type == XS_TRANSACTION_START,
	    "TRANSACTION_START \"junk\": got %s %s", type_name(m.hdr.type),
	    esc(m.body, m.hdr.len));
	tx = (uint32_t)strtoul(m.body, NULL, 10);
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	request(c, XS_TRANSACTION_START, 0, L(""), &m, __LINE__);
	ck_assert_msg(m.hdr.type == XS_TRANSACTION_START,
	    "TRANSACTION_START \"\": got %s %s", type_name(m.hdr.type),
	    esc(m.body, m.hdr.len));
	tx = (uint32_t)strtoul(m.body, NULL, 10);
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	EXPECT_OK(c, XS_RESET_WATCHES, 0, "");
	EXPECT_OK(c, XS_RESET_WATCHES, 0, "junk\0");
	client_close(c);
}
END_TEST

/* Path syntax: characters, //, trailing /, @ names, relative paths. */
START_TEST(test_invalid_paths)
{
	struct client	*c = client_open();

	EXPECT_ERR(c, XS_READ, 0, "/a b\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "/a.b\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "/a\x01" "b\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "/a\xc3\xa9\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "/a//b\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "//\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "/a/\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "rel/\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "@foo\0", "EINVAL");
	EXPECT_ERR(c, XS_READ, 0, "@introduceDomain\0", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "/a b\0v", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "/a/\0v", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "/a//b\0v", "EINVAL");
	EXPECT_ERR(c, XS_WRITE, 0, "@foo\0v", "EINVAL");
	EXPECT_ERR(c, XS_MKDIR, 0, "/a//b\0", "EINVAL");
	EXPECT_ERR(c, XS_MKDIR, 0, "@foo\0", "EINVAL");
	EXPECT_ERR(c, XS_RM, 0, "/a//b\0", "EINVAL");
	EXPECT_ERR(c, XS_RM, 0, "@foo\0", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY, 0, "/a/\0", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY, 0, "@foo\0", "EINVAL");
	EXPECT_ERR(c, XS_GET_PERMS, 0, "/a//b\0", "EINVAL");
	EXPECT_ERR(c, XS_GET_PERMS, 0, "@foo\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/a//b\0n0\0", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/a//b\0t\0", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/a/\0t\0", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "/a b\0t\0", "EINVAL");
	EXPECT_ERR(c, XS_WATCH, 0, "\0t\0", "EINVAL");
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "/a//b\0" "0\0", "EINVAL");
	EXPECT_NO_EVENT(c);
	/* Every allowed character. */
	EXPECT_OK(c, XS_WRITE, 0, "/ABCXYZabcxyz0189-_@/x@y\0ok");
	EXPECT(c, XS_READ, 0, "/ABCXYZabcxyz0189-_@/x@y\0", XS_READ, "ok");
	EXPECT_ERR(c, XS_READ, 0, "/A-Z_@09\0", "ENOENT");
	client_close(c);
}
END_TEST

/* Put prefix, n bytes of 'a' and a NUL in buf; return the length. */
static size_t
long_path(char *buf, const char *prefix, size_t n)
{
	size_t	plen = strlen(prefix);

	memcpy(buf, prefix, plen);
	memset(buf + plen, 'a', n);
	buf[plen + n] = '\0';
	return plen + n + 1;
}

/*
 * Path length: at most 2048 bytes (XENSTORE_REL_PATH_MAX) counted after a
 * leading "/local/domain/<id>/", and at most 2048 in all for other absolute
 * paths; relative paths count after the implicit "/local/domain/0/".
 */
START_TEST(test_path_length)
{
	struct client	*c = client_open();
	char		 buf[XENSTORE_PAYLOAD_MAX];
	size_t		 len;

	len = long_path(buf, "/", XENSTORE_REL_PATH_MAX - 1);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("ENOENT\0"),
	    __LINE__);
	len = long_path(buf, "/", XENSTORE_REL_PATH_MAX);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("EINVAL\0"),
	    __LINE__);
	len = long_path(buf, "/", XENSTORE_ABS_PATH_MAX);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("EINVAL\0"),
	    __LINE__);
	len = long_path(buf, "/local/domain/0/", XENSTORE_REL_PATH_MAX);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("ENOENT\0"),
	    __LINE__);
	len = long_path(buf, "/local/domain/0/", XENSTORE_REL_PATH_MAX + 1);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("EINVAL\0"),
	    __LINE__);
	len = long_path(buf, "/local/domain/12345/", XENSTORE_REL_PATH_MAX);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("ENOENT\0"),
	    __LINE__);
	len = long_path(buf, "", XENSTORE_REL_PATH_MAX);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("ENOENT\0"),
	    __LINE__);
	len = long_path(buf, "", XENSTORE_REL_PATH_MAX + 1);
	expect_reply(c, XS_READ, 0, buf, len, XS_ERROR, L("EINVAL\0"),
	    __LINE__);

	/* The longest absolute path can be written and read. */
	len = long_path(buf, "/", XENSTORE_REL_PATH_MAX - 1);
	memcpy(buf + len, "v", 1);
	expect_reply(c, XS_WRITE, 0, buf, len + 1, XS_WRITE, L("OK\0"),
	    __LINE__);
	expect_reply(c, XS_READ, 0, buf, len, XS_READ, L("v"), __LINE__);
	/* A too long watch path. */
	len = long_path(buf, "/", XENSTORE_REL_PATH_MAX);
	memcpy(buf + len, "t", 2);
	expect_reply(c, XS_WATCH, 0, buf, len + 2, XS_ERROR, L("EINVAL\0"),
	    __LINE__);
	client_close(c);
}
END_TEST

/*
 * A client that sends requests without ever reading replies.  The other
 * client must be served promptly throughout.  The reference keeps reading
 * and queueing replies without limit (for dom0 sockets: no quota), then
 * delivers them all in order; a daemon that drops such a client, or stops
 * reading from it, passes too.  What happened is printed on stderr.
 */
START_TEST(test_silent_client)
{
	struct client		*quiet = client_open(), *other = client_open();
	struct xsd_sockmsg	 hdr = { XS_READ, 0, 0, sizeof("/s") };
	char			 frame[sizeof hdr + sizeof("/s")];
	struct msg		 m;
	int64_t			 start, t0, lat, maxlat = 0, next_probe, sending;
	uint32_t		 sent = 0, got = 0;
	size_t			 off = 0;
	ssize_t			 n;
	int			 dropped = 0, stalls = 0, stalled = 0;

	EXPECT_OK(other, XS_WRITE, 0, "/s\0v");
	fcntl(quiet->fd, F_SETFL, O_NONBLOCK);
	start = now_ms();
	next_probe = start;
	while (now_ms() - start < 2000 && sent < 100000 && !dropped) {
		if (off == 0) {
			hdr.req_id = sent;
			memcpy(frame, &hdr, sizeof hdr);
			memcpy(frame + sizeof hdr, "/s", sizeof("/s"));
		}
		n = send(quiet->fd, frame + off, sizeof frame - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += n;
			if (off == sizeof frame) {
				off = 0;
				sent++;
			}
			stalled = 0;
		} else if (n == -1 && errno == EAGAIN) {
			if (!stalled)
				stalls++;
			stalled = 1;
			usleep(1000);
		} else if (n == -1 && errno != EINTR)
			dropped = 1;
		if (now_ms() >= next_probe) {
			t0 = now_ms();
			EXPECT(other, XS_READ, 0, "/s\0", XS_READ, "v");
			lat = now_ms() - t0;
			if (lat > maxlat)
				maxlat = lat;
			next_probe = now_ms() + 20;
		}
	}
	sending = now_ms() - start;
	EXPECT(other, XS_READ, 0, "/s\0", XS_READ, "v");
	ck_assert_msg(maxlat < 1000, "another client waited %" PRId64 " ms"
	    " while one client did not read its replies", maxlat);

	/* Whatever arrives must be the right replies, in order. */
	fcntl(quiet->fd, F_SETFL, 0);
	while (got < sent) {
		int rc = recv_msg(quiet, &m, REPLY_TIMEOUT_MS);

		if (rc == -1) {
			dropped = 1;
			break;
		}
		ck_assert_msg(rc == 0, "reply %" PRIu32 " of %" PRIu32 " never"
		    " came (connection open, nothing sent for 5 s)", got, sent);
		ck_assert_msg(m.hdr.type == XS_READ && m.hdr.req_id == got &&
		    m.hdr.len == 1 && m.body[0] == 'v',
		    "reply %" PRIu32 ": %s req_id %" PRIu32 " %s", got,
		    type_name(m.hdr.type), m.hdr.req_id,
		    esc(m.body, m.hdr.len));
		got++;
	}
	fprintf(stderr, "silent client: %" PRIu32 " requests sent in %" PRId64
	    " ms, send blocked %d times, %" PRIu32 " replies read back, %s;"
	    " other client's worst latency %" PRId64 " ms\n", sent,
	    sending, stalls, got,
	    dropped ? "then dropped" : "connection kept", maxlat);
	client_close(quiet);
	EXPECT(other, XS_READ, 0, "/s\0", XS_READ, "v");
	client_close(other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tree operations                                                      */
/* ------------------------------------------------------------------ */

/* DIRECTORY answers up to 4096 bytes of children, E2BIG past that. */
START_TEST(test_directory_e2big)
{
	struct client	*c = client_open();
	char		 req[128], want[XENSTORE_PAYLOAD_MAX];
	size_t		 len;
	int		 i;

	/* 64 children of 63 characters: exactly 4096 bytes. */
	for (i = 0; i < 64; i++) {
		len = snprintf(req, sizeof req, "/dir/c%02d-%059d", i, 0) + 1;
		memcpy(want + i * 64, req + 5, 64);
		expect_reply(c, XS_WRITE, 0, req, len, XS_WRITE, L("OK\0"),
		    __LINE__);
	}
	expect_reply(c, XS_DIRECTORY, 0, L("/dir\0"), XS_DIRECTORY, want,
	    sizeof want, __LINE__);
	EXPECT_OK(c, XS_WRITE, 0, "/dir/x\0");
	EXPECT_ERR(c, XS_DIRECTORY, 0, "/dir\0", "E2BIG");
	EXPECT_OK(c, XS_RM, 0, "/dir/x\0");
	expect_reply(c, XS_DIRECTORY, 0, L("/dir\0"), XS_DIRECTORY, want,
	    sizeof want, __LINE__);
	client_close(c);
}
END_TEST

/*
 * Read a whole child list with DIRECTORY_PART.  Each reply is the node's
 * generation, a NUL, then whole child names from the offset; the reply
 * that reaches the end of the list has one more, empty, string.
 */
static size_t
read_directory_part(struct client *c, const char *path, char *out,
    size_t outsize, char *gen, size_t gensize)
{
	char		 req[256];
	struct msg	 m;
	size_t		 off = 0, plen, glen, blen;
	int		 parts = 0;

	for (;;) {
		plen = strlen(path) + 1;
		memcpy(req, path, plen);
		plen += snprintf(req + plen, sizeof req - plen, "%zu", off) + 1;
		request(c, XS_DIRECTORY_PART, 0, req, plen, &m, __LINE__);
		ck_assert_msg(m.hdr.type == XS_DIRECTORY_PART,
		    "DIRECTORY_PART %s %zu: got %s %s", path, off,
		    type_name(m.hdr.type), esc(m.body, m.hdr.len));
		glen = strnlen(m.body, m.hdr.len);
		ck_assert_msg(glen > 0 && glen < m.hdr.len &&
		    strspn(m.body, "0123456789") == glen,
		    "DIRECTORY_PART %s %zu: no generation in %s", path, off,
		    esc(m.body, m.hdr.len));
		if (parts == 0)
			snprintf(gen, gensize, "%s", m.body);
		else
			ck_assert_msg(strcmp(gen, m.body) == 0,
			    "generation changed from %s to %s between parts",
			    gen, m.body);
		blen = m.hdr.len - glen - 1;
		ck_assert_msg(blen > 0 && m.body[m.hdr.len - 1] == '\0',
		    "DIRECTORY_PART %s %zu: %s does not end in NUL", path, off,
		    esc(m.body, m.hdr.len));
		parts++;
		if (blen >= 2 && m.body[m.hdr.len - 2] == '\0') {
			/* Last part: the list, then the empty string. */
			blen--;
			ck_assert(off + blen <= outsize);
			memcpy(out + off, m.body + glen + 1, blen);
			return off + blen;
		}
		if (blen == 1) {
			/* Offset at the end: just the empty string. */
			return off;
		}
		ck_assert(off + blen <= outsize);
		memcpy(out + off, m.body + glen + 1, blen);
		off += blen;
		ck_assert_msg(parts < 1000, "DIRECTORY_PART never ended");
	}
}

/* DIRECTORY_PART of a large directory, its format and generation. */
START_TEST(test_directory_part)
{
	struct client	*c = client_open();
	static char	 want[8192], got[8192];
	char		 req[128], gen[32], gen2[32], reply[64];
	size_t		 wlen = 0, glen, len;
	int		 i;

	for (i = 0; i < 300; i++) {
		len = snprintf(req, sizeof req, "/big/child%03d-abcdefghij", i)
		    + 1;
		memcpy(want + wlen, req + 5, len - 5);
		wlen += len - 5;
		expect_reply(c, XS_WRITE, 0, req, len, XS_WRITE, L("OK\0"),
		    __LINE__);
	}
	EXPECT_ERR(c, XS_DIRECTORY, 0, "/big\0", "E2BIG");
	glen = read_directory_part(c, "/big", got, sizeof got, gen,
	    sizeof gen);
	ck_assert_msg(glen == wlen && memcmp(got, want, wlen) == 0,
	    "DIRECTORY_PART list differs: got %zu bytes %s, expected %zu %s",
	    glen, esc(got, glen), wlen, esc(want, wlen));

	/* An offset past the end answers the generation and "". */
	len = snprintf(reply, sizeof reply, "%s", gen) + 1;
	reply[len++] = '\0';
	expect_reply(c, XS_DIRECTORY_PART, 0, L("/big\0" "100000\0"),
	    XS_DIRECTORY_PART, reply, len, __LINE__);
	expect_reply(c, XS_DIRECTORY_PART, 0, L("/big\0" "6000\0"),
	    XS_DIRECTORY_PART, reply, len, __LINE__);

	/* Adding a child changes the generation. */
	EXPECT_OK(c, XS_WRITE, 0, "/big/zz\0");
	memcpy(want + wlen, "zz", 3);
	wlen += 3;
	glen = read_directory_part(c, "/big", got, sizeof got, gen2,
	    sizeof gen2);
	ck_assert_msg(glen == wlen && memcmp(got, want, wlen) == 0,
	    "DIRECTORY_PART list after adding differs: got %s",
	    esc(got + glen - 40, 40));
	ck_assert_msg(strcmp(gen, gen2) != 0,
	    "generation stayed %s after a child was added", gen);

	/* Small directories and leaves. */
	EXPECT_OK(c, XS_WRITE, 0, "/small/a\0");
	EXPECT_OK(c, XS_WRITE, 0, "/small/bb\0");
	glen = read_directory_part(c, "/small", got, sizeof got, gen,
	    sizeof gen);
	ck_assert_msg(glen == 5 && memcmp(got, "a\0bb\0", 5) == 0,
	    "DIRECTORY_PART /small: %s", esc(got, glen));
	len = snprintf(reply, sizeof reply, "%s", gen) + 1;
	memcpy(reply + len, "a\0bb\0\0", 6);
	expect_reply(c, XS_DIRECTORY_PART, 0, L("/small\0" "0\0"),
	    XS_DIRECTORY_PART, reply, len + 6, __LINE__);
	glen = read_directory_part(c, "/small/a", got, sizeof got, gen,
	    sizeof gen);
	ck_assert_msg(glen == 0, "DIRECTORY_PART of a leaf: %s",
	    esc(got, glen));
	EXPECT_ERR(c, XS_DIRECTORY_PART, 0, "/nonexistent\0" "0\0", "ENOENT");
	client_close(c);
}
END_TEST

/* GET_PERMS and SET_PERMS: formats, inheritance, errors. */
START_TEST(test_perms)
{
	struct client	*c = client_open();

	EXPECT(c, XS_GET_PERMS, 0, "/\0", XS_GET_PERMS, "n0\0");
	EXPECT_OK(c, XS_WRITE, 0, "/perm/a\0v");
	EXPECT(c, XS_GET_PERMS, 0, "/perm/a\0", XS_GET_PERMS, "n0\0");
	EXPECT_OK(c, XS_SET_PERMS, 0, "/perm\0b0\0r1\0w2\0n3\0");
	EXPECT(c, XS_GET_PERMS, 0, "/perm\0", XS_GET_PERMS,
	    "b0\0r1\0w2\0n3\0");
	/* Existing children keep theirs; new ones inherit the parent's. */
	EXPECT(c, XS_GET_PERMS, 0, "/perm/a\0", XS_GET_PERMS, "n0\0");
	EXPECT_OK(c, XS_WRITE, 0, "/perm/b/c\0v");
	EXPECT(c, XS_GET_PERMS, 0, "/perm/b\0", XS_GET_PERMS,
	    "b0\0r1\0w2\0n3\0");
	EXPECT(c, XS_GET_PERMS, 0, "/perm/b/c\0", XS_GET_PERMS,
	    "b0\0r1\0w2\0n3\0");
	EXPECT_OK(c, XS_MKDIR, 0, "/perm/d\0");
	EXPECT(c, XS_GET_PERMS, 0, "/perm/d\0", XS_GET_PERMS,
	    "b0\0r1\0w2\0n3\0");
	/* Setting them again replaces the whole list. */
	EXPECT_OK(c, XS_SET_PERMS, 0, "/perm\0r0\0");
	EXPECT(c, XS_GET_PERMS, 0, "/perm\0", XS_GET_PERMS, "r0\0");
	/* Bytes after the last NUL are ignored. */
	EXPECT_OK(c, XS_SET_PERMS, 0, "/perm/a\0b0\0r5");
	EXPECT(c, XS_GET_PERMS, 0, "/perm/a\0", XS_GET_PERMS, "b0\0");
	/* Relative paths. */
	EXPECT_OK(c, XS_WRITE, 0, "relperm\0");
	EXPECT_OK(c, XS_SET_PERMS, 0, "relperm\0n0\0r7\0");
	EXPECT(c, XS_GET_PERMS, 0, "/local/domain/0/relperm\0",
	    XS_GET_PERMS, "n0\0r7\0");

	/* Errors. */
	EXPECT_ERR(c, XS_GET_PERMS, 0, "/perm/none\0", "ENOENT");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm/none\0n0\0", "ENOENT");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0q0\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0r\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0r0x\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0n0\0bogus\0", "EINVAL");
	/* An owner that is not a running domain (no domain 5 here). */
	EXPECT_ERR(c, XS_SET_PERMS, 0, "/perm\0n5\0", "ENOENT");
	/* None of the failures changed anything. */
	EXPECT(c, XS_GET_PERMS, 0, "/perm\0", XS_GET_PERMS, "r0\0");
	/* The special watch names take permissions but cannot show them. */
	EXPECT_OK(c, XS_SET_PERMS, 0, "@releaseDomain\0n0\0");
	EXPECT_OK(c, XS_SET_PERMS, 0, "@introduceDomain\0r0\0");
	EXPECT_ERR(c, XS_GET_PERMS, 0, "@releaseDomain\0", "EINVAL");
	EXPECT_ERR(c, XS_SET_PERMS, 0, "@other\0n0\0", "EINVAL");
	client_close(c);
}
END_TEST

/* RM: subtrees, missing nodes, the root. */
START_TEST(test_rm)
{
	struct client	*c = client_open();

	EXPECT_OK(c, XS_WRITE, 0, "/rm/a/b/c\0v");
	EXPECT_OK(c, XS_WRITE, 0, "/rm/a/d\0v");
	EXPECT_OK(c, XS_WRITE, 0, "/rm/e\0v");
	EXPECT_OK(c, XS_RM, 0, "/rm/a\0");
	EXPECT_ERR(c, XS_READ, 0, "/rm/a\0", "ENOENT");
	EXPECT_ERR(c, XS_READ, 0, "/rm/a/b\0", "ENOENT");
	EXPECT_ERR(c, XS_READ, 0, "/rm/a/b/c\0", "ENOENT");
	EXPECT_ERR(c, XS_READ, 0, "/rm/a/d\0", "ENOENT");
	EXPECT(c, XS_DIRECTORY, 0, "/rm\0", XS_DIRECTORY, "e\0");
	/* A missing node whose parent exists: fine. */
	EXPECT_OK(c, XS_RM, 0, "/rm/a\0");
	EXPECT_OK(c, XS_RM, 0, "/rm/never\0");
	/* A missing node whose parent is missing too. */
	EXPECT_ERR(c, XS_RM, 0, "/rm/a/b\0", "ENOENT");
	EXPECT_ERR(c, XS_RM, 0, "/nope/nope\0", "ENOENT");
	/* Not the root. */
	EXPECT_ERR(c, XS_RM, 0, "/\0", "EINVAL");
	EXPECT(c, XS_READ, 0, "/rm/e\0", XS_READ, "v");
	/* Re-created children go to the end of the list. */
	EXPECT_OK(c, XS_WRITE, 0, "/rm/a\0");
	EXPECT_OK(c, XS_RM, 0, "/rm/e\0");
	EXPECT_OK(c, XS_WRITE, 0, "/rm/e\0");
	EXPECT(c, XS_DIRECTORY, 0, "/rm\0", XS_DIRECTORY, "a\0e\0");
	client_close(c);
}
END_TEST

/* MKDIR of an existing node succeeds and changes nothing. */
START_TEST(test_mkdir)
{
	struct client	*c = client_open(), *w = client_open();

	EXPECT_OK(c, XS_MKDIR, 0, "/mk/a/b\0");
	EXPECT(c, XS_READ, 0, "/mk/a\0", XS_READ, "");
	EXPECT(c, XS_READ, 0, "/mk/a/b\0", XS_READ, "");
	EXPECT_OK(c, XS_WRITE, 0, "/mk/a\0value");
	EXPECT_OK(w, XS_WATCH, 0, "/mk\0t\0");
	EXPECT_EVENT(w, "/mk", "t");
	EXPECT_OK(c, XS_MKDIR, 0, "/mk/a\0");
	EXPECT(c, XS_READ, 0, "/mk/a\0", XS_READ, "value");
	EXPECT(c, XS_DIRECTORY, 0, "/mk/a\0", XS_DIRECTORY, "b\0");
	EXPECT_OK(c, XS_MKDIR, 0, "/\0");
	/* Only a real creation fires. */
	EXPECT_NO_EVENT(w);
	EXPECT_OK(c, XS_MKDIR, 0, "/mk/new\0");
	EXPECT_EVENT(w, "/mk/new", "t");
	client_close(w);
	client_close(c);
}
END_TEST

/* GET_DOMAIN_PATH and IS_DOMAIN_INTRODUCED for a socket (dom0) client. */
START_TEST(test_domain_queries)
{
	struct client	*c = client_open();

	EXPECT(c, XS_GET_DOMAIN_PATH, 0, "0\0", XS_GET_DOMAIN_PATH,
	    "/local/domain/0\0");
	EXPECT(c, XS_GET_DOMAIN_PATH, 0, "7\0", XS_GET_DOMAIN_PATH,
	    "/local/domain/7\0");
	EXPECT(c, XS_GET_DOMAIN_PATH, 0, "32767\0", XS_GET_DOMAIN_PATH,
	    "/local/domain/32767\0");
	EXPECT(c, XS_IS_DOMAIN_INTRODUCED, 0, "0\0", XS_IS_DOMAIN_INTRODUCED,
	    "T\0");
	EXPECT(c, XS_IS_DOMAIN_INTRODUCED, 0, "7\0", XS_IS_DOMAIN_INTRODUCED,
	    "F\0");
	/* DOMID_SELF. */
	EXPECT(c, XS_IS_DOMAIN_INTRODUCED, 0, "32752\0",
	    XS_IS_DOMAIN_INTRODUCED, "T\0");
	EXPECT_ERR(c, XS_RELEASE, 0, "77\0", "ENOENT");
	EXPECT_ERR(c, XS_RESUME, 0, "77\0", "ENOENT");
	client_close(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Watches                                                              */
/* ------------------------------------------------------------------ */

/* A new watch is acknowledged, then fires once with its own path. */
START_TEST(test_watch_fires_once)
{
	struct client	*c = client_open();

	EXPECT_OK(c, XS_WATCH, 0, "/wf/none\0tok\0");
	EXPECT_EVENT(c, "/wf/none", "tok");
	EXPECT_NO_EVENT(c);
	EXPECT_OK(c, XS_WATCH, 0, "@introduceDomain\0special\0");
	EXPECT_EVENT(c, "@introduceDomain", "special");
	EXPECT_OK(c, XS_WATCH, 0, "@releaseDomain\0special\0");
	EXPECT_EVENT(c, "@releaseDomain", "special");
	/* Tokens are opaque; the empty one is allowed. */
	EXPECT_OK(c, XS_WATCH, 0, "/wf\0\0");
	EXPECT_EVENT(c, "/wf", "");
	/* The tx_id of WATCH and UNWATCH is ignored. */
	EXPECT_OK(c, XS_WATCH, 4242, "/wf/tx\0t\0");
	EXPECT_EVENT(c, "/wf/tx", "t");
	EXPECT_OK(c, XS_UNWATCH, 4242, "/wf/tx\0t\0");
	EXPECT_NO_EVENT(c);
	client_close(c);
}
END_TEST

/* EEXIST for a duplicate watch, ENOENT for an unknown unwatch. */
START_TEST(test_watch_dup_unwatch)
{
	struct client	*c = client_open(), *d = client_open();

	EXPECT_OK(c, XS_WATCH, 0, "/wd\0tok\0");
	EXPECT_EVENT(c, "/wd", "tok");
	EXPECT_ERR(c, XS_WATCH, 0, "/wd\0tok\0", "EEXIST");
	/* Same path, other token; or another connection: fine. */
	EXPECT_OK(c, XS_WATCH, 0, "/wd\0tok2\0");
	EXPECT_EVENT(c, "/wd", "tok2");
	EXPECT_OK(d, XS_WATCH, 0, "/wd\0tok\0");
	EXPECT_EVENT(d, "/wd", "tok");
	EXPECT_NO_EVENT(c);

	EXPECT_ERR(c, XS_UNWATCH, 0, "/wd\0other\0", "ENOENT");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/wd/x\0tok\0", "ENOENT");
	EXPECT_ERR(c, XS_UNWATCH, 0, "@introduceDomain\0tok\0", "ENOENT");
	EXPECT_OK(c, XS_UNWATCH, 0, "/wd\0tok2\0");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/wd\0tok2\0", "ENOENT");

	/* Only the remaining watches fire. */
	EXPECT_OK(c, XS_WRITE, 0, "/wd/a\0v");
	EXPECT_EVENT(c, "/wd/a", "tok");
	EXPECT_NO_EVENT(c);
	EXPECT_EVENT(d, "/wd/a", "tok");
	EXPECT_NO_EVENT(d);
	/* A connection's watches go with it. */
	client_close(d);
	EXPECT_OK(c, XS_WRITE, 0, "/wd/b\0v");
	EXPECT_EVENT(c, "/wd/b", "tok");
	client_close(c);
}
END_TEST

/* Relative watch paths are reported relative, absolute ones absolute. */
START_TEST(test_watch_relative)
{
	struct client	*c = client_open(), *w = client_open();

	EXPECT_OK(w, XS_WATCH, 0, "rel\0r\0");
	EXPECT_EVENT(w, "rel", "r");
	EXPECT_OK(w, XS_WATCH, 0, "/local/domain/0/rel\0a\0");
	EXPECT_EVENT(w, "/local/domain/0/rel", "a");
	EXPECT_OK(c, XS_WRITE, 0, "/local/domain/0/rel/x\0v");
	EXPECT_EVENT(w, "rel/x", "r");
	EXPECT_EVENT(w, "/local/domain/0/rel/x", "a");
	EXPECT_OK(c, XS_WRITE, 0, "rel\0v");
	EXPECT_EVENT(w, "rel", "r");
	EXPECT_EVENT(w, "/local/domain/0/rel", "a");
	EXPECT_NO_EVENT(w);
	/* The same watch named both ways is a duplicate. */
	EXPECT_ERR(w, XS_WATCH, 0, "/local/domain/0/rel\0r\0", "EEXIST");
	/* Unwatching canonicalises too. */
	EXPECT_OK(w, XS_UNWATCH, 0, "/local/domain/0/rel\0r\0");
	EXPECT_OK(w, XS_UNWATCH, 0, "rel\0a\0");
	EXPECT_OK(c, XS_WRITE, 0, "rel/y\0v");
	EXPECT_NO_EVENT(w);
	client_close(w);
	client_close(c);
}
END_TEST

/* Which watches fire for writes, created parents and removed subtrees. */
START_TEST(test_watch_tree)
{
	struct client	*c = client_open(), *wa = client_open();
	struct client	*wabc = client_open(), *wroot = client_open();
	struct client	*wleaf = client_open();

	EXPECT_OK(c, XS_WRITE, 0, "/a/b/x\0v");
	EXPECT_OK(wa, XS_WATCH, 0, "/a\0ta\0");
	EXPECT_EVENT(wa, "/a", "ta");
	EXPECT_OK(wabc, XS_WATCH, 0, "/a/b/c\0tc\0");
	EXPECT_EVENT(wabc, "/a/b/c", "tc");
	EXPECT_OK(wroot, XS_WATCH, 0, "/\0tr\0");
	EXPECT_EVENT(wroot, "/", "tr");
	EXPECT_OK(wleaf, XS_WATCH, 0, "/a/b/c/d\0td\0");
	EXPECT_EVENT(wleaf, "/a/b/c/d", "td");

	/* A write fires watches on the node and its ancestors only. */
	EXPECT_OK(c, XS_WRITE, 0, "/a/b\0v");
	EXPECT_EVENT(wa, "/a/b", "ta");
	EXPECT_EVENT(wroot, "/a/b", "tr");
	EXPECT_NO_EVENT(wabc);
	EXPECT_NO_EVENT(wleaf);
	/* Writing the same value again still fires. */
	EXPECT_OK(c, XS_WRITE, 0, "/a/b\0v");
	EXPECT_EVENT(wa, "/a/b", "ta");
	EXPECT_EVENT(wroot, "/a/b", "tr");
	/* Prefixes that are not ancestors do not fire. */
	EXPECT_OK(c, XS_WRITE, 0, "/ab\0v");
	EXPECT_EVENT(wroot, "/ab", "tr");
	EXPECT_NO_EVENT(wa);

	/* Creating missing parents fires once, for the leaf. */
	EXPECT_OK(c, XS_WRITE, 0, "/a/b/c/d/e\0v");
	EXPECT_EVENT(wa, "/a/b/c/d/e", "ta");
	EXPECT_EVENT(wabc, "/a/b/c/d/e", "tc");
	EXPECT_EVENT(wroot, "/a/b/c/d/e", "tr");
	EXPECT_EVENT(wleaf, "/a/b/c/d/e", "td");
	EXPECT_NO_EVENT(wa);
	EXPECT_NO_EVENT(wabc);
	EXPECT_NO_EVENT(wroot);
	EXPECT_NO_EVENT(wleaf);

	/* RM: the removed root fires itself and ancestors; each removed
	 * descendant fires watches placed exactly on it. */
	EXPECT_OK(c, XS_RM, 0, "/a/b\0");
	EXPECT_EVENT(wa, "/a/b", "ta");
	EXPECT_EVENT(wroot, "/a/b", "tr");
	EXPECT_EVENT(wabc, "/a/b/c", "tc");
	EXPECT_EVENT(wleaf, "/a/b/c/d", "td");
	EXPECT_NO_EVENT(wa);
	EXPECT_NO_EVENT(wabc);
	EXPECT_NO_EVENT(wroot);
	EXPECT_NO_EVENT(wleaf);
	/* RM of a missing node fires nothing. */
	EXPECT_OK(c, XS_RM, 0, "/a/b\0");
	EXPECT_NO_EVENT(wa);
	/* SET_PERMS fires. */
	EXPECT_OK(c, XS_SET_PERMS, 0, "/a\0n0\0r1\0");
	EXPECT_EVENT(wa, "/a", "ta");
	EXPECT_EVENT(wroot, "/a", "tr");
	/* Reads do not. */
	EXPECT(c, XS_READ, 0, "/a\0", XS_READ, "");
	EXPECT(c, XS_DIRECTORY, 0, "/a\0", XS_DIRECTORY, "");
	EXPECT_NO_EVENT(wa);
	client_close(wleaf);
	client_close(wroot);
	client_close(wabc);
	client_close(wa);
	client_close(c);
}
END_TEST

/* The writer's own watches fire too (events may precede the ack). */
START_TEST(test_watch_own_writes)
{
	struct client	*c = client_open();

	EXPECT_OK(c, XS_WATCH, 0, "/own\0t\0");
	EXPECT_EVENT(c, "/own", "t");
	EXPECT_OK(c, XS_WRITE, 0, "/own/a\0v");
	EXPECT_EVENT(c, "/own/a", "t");
	EXPECT_OK(c, XS_RM, 0, "/own/a\0");
	EXPECT_EVENT(c, "/own/a", "t");
	EXPECT_NO_EVENT(c);
	client_close(c);
}
END_TEST

/* RESET_WATCHES forgets the caller's watches and transactions. */
START_TEST(test_reset_watches)
{
	struct client	*c = client_open(), *d = client_open();
	uint32_t	 tx;

	EXPECT_OK(c, XS_WATCH, 0, "/rw\0t\0");
	EXPECT_EVENT(c, "/rw", "t");
	EXPECT_OK(c, XS_WATCH, 0, "/rw/x\0u\0");
	EXPECT_EVENT(c, "/rw/x", "u");
	EXPECT_OK(d, XS_WATCH, 0, "/rw\0t\0");
	EXPECT_EVENT(d, "/rw", "t");
	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/rw/tx", "v");

	EXPECT_OK(c, XS_RESET_WATCHES, 0, "");
	EXPECT_OK(c, XS_WRITE, 0, "/rw/x\0v");
	EXPECT_NO_EVENT(c);
	EXPECT_EVENT(d, "/rw/x", "t");
	EXPECT_ERR(c, XS_UNWATCH, 0, "/rw\0t\0", "ENOENT");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "T\0", "ENOENT");
	EXPECT_ERR(c, XS_READ, 0, "/rw/tx\0", "ENOENT");
	/* The same watch can be set again. */
	EXPECT_OK(c, XS_WATCH, 0, "/rw\0t\0");
	EXPECT_EVENT(c, "/rw", "t");
	EXPECT_NO_EVENT(d);
	client_close(d);
	client_close(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Transactions                                                         */
/* ------------------------------------------------------------------ */

/* Unknown transaction ids answer ENOENT; ids are per connection. */
START_TEST(test_txn_unknown_id)
{
	struct client	*c = client_open(), *d = client_open();
	uint32_t	 tx;

	EXPECT_OK(c, XS_WRITE, 0, "/tu\0v");
	EXPECT_ERR(c, XS_READ, 42, "/tu\0", "ENOENT");
	EXPECT_ERR(c, XS_WRITE, 42, "/tu\0x", "ENOENT");
	EXPECT_ERR(c, XS_MKDIR, 42, "/tu/m\0", "ENOENT");
	EXPECT_ERR(c, XS_RM, 42, "/tu\0", "ENOENT");
	EXPECT_ERR(c, XS_DIRECTORY, 42, "/\0", "ENOENT");
	EXPECT_ERR(c, XS_DIRECTORY_PART, 42, "/\0" "0\0", "ENOENT");
	EXPECT_ERR(c, XS_GET_PERMS, 42, "/tu\0", "ENOENT");
	EXPECT_ERR(c, XS_SET_PERMS, 42, "/tu\0n0\0", "ENOENT");
	EXPECT_ERR(c, XS_TRANSACTION_END, 42, "T\0", "ENOENT");
	EXPECT_ERR(c, XS_TRANSACTION_START, 42, "\0", "ENOENT");
	EXPECT_ERR(c, XS_TRANSACTION_END, 0, "T\0", "ENOENT");
	EXPECT_ERR(c, XS_TRANSACTION_END, 0, "F\0", "ENOENT");
	EXPECT(c, XS_READ, 0, "/tu\0", XS_READ, "v");

	/* Another connection's transaction is unknown here. */
	tx = tx_start(c, __LINE__);
	EXPECT_ERR(d, XS_READ, tx + 1000, "/tu\0", "ENOENT");
	if (tx_start(d, __LINE__) != tx)
		EXPECT_ERR(d, XS_READ, tx, "/tu\0", "ENOENT");
	/* No nesting. */
	EXPECT_ERR(c, XS_TRANSACTION_START, tx, "\0", "EBUSY");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	client_close(d);
	client_close(c);
}
END_TEST

/* TRANSACTION_END with bad arguments leaves the transaction open. */
START_TEST(test_txn_end_bad_args)
{
	struct client	*c = client_open();
	uint32_t	 tx;

	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/te", "v");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "T", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "X\0", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "t\0", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "TRUE\0", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "T\0F\0", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "\0", "EINVAL");
	/* An unknown id is looked up before the argument is checked. */
	EXPECT_ERR(c, XS_TRANSACTION_END, 0, "X\0", "EINVAL");
	EXPECT_ERR(c, XS_TRANSACTION_END, 999, "X\0", "ENOENT");
	EXPECT(c, XS_READ, tx, "/te\0", XS_READ, "v");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "T\0");
	EXPECT_ERR(c, XS_TRANSACTION_END, tx, "T\0", "ENOENT");
	EXPECT(c, XS_READ, 0, "/te\0", XS_READ, "v");
	client_close(c);
}
END_TEST

/* A transaction sees its own changes; others see them at commit. */
START_TEST(test_txn_isolation)
{
	struct client	*c = client_open(), *d = client_open();
	uint32_t	 tx;

	EXPECT_OK(c, XS_WRITE, 0, "/iso/a\0old");
	EXPECT_OK(c, XS_WRITE, 0, "/iso/gone\0x");
	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/iso/a", "new");
	WRITE(c, tx, "/iso/n/deep", "z");
	EXPECT_OK(c, XS_RM, tx, "/iso/gone\0");
	EXPECT(c, XS_READ, tx, "/iso/a\0", XS_READ, "new");
	EXPECT(c, XS_READ, tx, "/iso/n/deep\0", XS_READ, "z");
	EXPECT_ERR(c, XS_READ, tx, "/iso/gone\0", "ENOENT");
	EXPECT(c, XS_DIRECTORY, tx, "/iso\0", XS_DIRECTORY, "a\0n\0");
	/* Outside, nothing changed yet. */
	EXPECT(c, XS_READ, 0, "/iso/a\0", XS_READ, "old");
	EXPECT(d, XS_READ, 0, "/iso/a\0", XS_READ, "old");
	EXPECT_ERR(d, XS_READ, 0, "/iso/n/deep\0", "ENOENT");
	EXPECT(d, XS_READ, 0, "/iso/gone\0", XS_READ, "x");
	EXPECT(d, XS_DIRECTORY, 0, "/iso\0", XS_DIRECTORY, "a\0gone\0");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "T\0");
	EXPECT(d, XS_READ, 0, "/iso/a\0", XS_READ, "new");
	EXPECT(d, XS_READ, 0, "/iso/n/deep\0", XS_READ, "z");
	EXPECT_ERR(d, XS_READ, 0, "/iso/gone\0", "ENOENT");
	EXPECT(d, XS_DIRECTORY, 0, "/iso\0", XS_DIRECTORY, "a\0n\0");

	/* Aborted: nothing applied. */
	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/iso/a", "aborted");
	WRITE(c, tx, "/iso/m", "aborted");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	EXPECT(d, XS_READ, 0, "/iso/a\0", XS_READ, "new");
	EXPECT_ERR(d, XS_READ, 0, "/iso/m\0", "ENOENT");
	client_close(d);
	client_close(c);
}
END_TEST

/* Watch events of a transaction fire at its end, none on abort. */
START_TEST(test_txn_events)
{
	struct client	*c = client_open(), *w = client_open();
	uint32_t	 tx;

	EXPECT_OK(c, XS_WRITE, 0, "/te/m\0v");
	EXPECT_OK(w, XS_WATCH, 0, "/te\0t\0");
	EXPECT_EVENT(w, "/te", "t");
	EXPECT_OK(c, XS_WATCH, 0, "/te\0own\0");
	EXPECT_EVENT(c, "/te", "own");

	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/te/z", "1");
	WRITE(c, tx, "/te/y", "2");
	WRITE(c, tx, "/te/z", "3");
	EXPECT_OK(c, XS_RM, tx, "/te/m\0");
	EXPECT_NO_EVENT(w);
	EXPECT_NO_EVENT(c);
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "T\0");
	/* One event per changed node, in the order of first change. */
	EXPECT_EVENT(w, "/te/z", "t");
	EXPECT_EVENT(w, "/te/y", "t");
	EXPECT_EVENT(w, "/te/m", "t");
	EXPECT_NO_EVENT(w);
	EXPECT_EVENT(c, "/te/z", "own");
	EXPECT_EVENT(c, "/te/y", "own");
	EXPECT_EVENT(c, "/te/m", "own");
	EXPECT_NO_EVENT(c);

	tx = tx_start(c, __LINE__);
	WRITE(c, tx, "/te/z", "4");
	WRITE(c, tx, "/te/x", "5");
	EXPECT_OK(c, XS_TRANSACTION_END, tx, "F\0");
	EXPECT_NO_EVENT(w);
	EXPECT_NO_EVENT(c);
	client_close(w);
	client_close(c);
}
END_TEST

/* Two transactions that read and wrote the same node: the second EAGAIN. */
START_TEST(test_txn_conflict)
{
	struct client	*c = client_open(), *d = client_open();
	struct client	*w = client_open();
	uint32_t	 tc, td;

	EXPECT_OK(c, XS_WRITE, 0, "/tc/k\0start");
	EXPECT_OK(w, XS_WATCH, 0, "/tc\0t\0");
	EXPECT_EVENT(w, "/tc", "t");
	tc = tx_start(c, __LINE__);
	td = tx_start(d, __LINE__);
	EXPECT(c, XS_READ, tc, "/tc/k\0", XS_READ, "start");
	EXPECT(d, XS_READ, td, "/tc/k\0", XS_READ, "start");
	WRITE(c, tc, "/tc/k", "from-c");
	WRITE(d, td, "/tc/k", "from-d");
	WRITE(d, td, "/tc/other", "from-d");
	EXPECT_OK(c, XS_TRANSACTION_END, tc, "T\0");
	EXPECT_EVENT(w, "/tc/k", "t");
	EXPECT_ERR(d, XS_TRANSACTION_END, td, "T\0", "EAGAIN");
	/* Nothing of the failed transaction was applied or fired. */
	EXPECT_NO_EVENT(w);
	EXPECT(d, XS_READ, 0, "/tc/k\0", XS_READ, "from-c");
	EXPECT_ERR(d, XS_READ, 0, "/tc/other\0", "ENOENT");
	/* And it is gone. */
	EXPECT_ERR(d, XS_TRANSACTION_END, td, "T\0", "ENOENT");

	/* A transaction that read what a plain write then changed conflicts
	 * when it writes; a read-only one succeeds, having seen the store as
	 * at its start (the C xenstored fails it too). */
	tc = tx_start(c, __LINE__);
	td = tx_start(d, __LINE__);
	EXPECT(c, XS_READ, tc, "/tc/k\0", XS_READ, "from-c");
	EXPECT(d, XS_READ, td, "/tc/k\0", XS_READ, "from-c");
	WRITE(c, tc, "/tc/mine", "x");
	WRITE(d, 0, "/tc/k", "plain");
	EXPECT_EVENT(w, "/tc/k", "t");
	EXPECT(d, XS_READ, td, "/tc/k\0", XS_READ, "from-c");
	EXPECT_ERR(c, XS_TRANSACTION_END, tc, "T\0", "EAGAIN");
	EXPECT_OK(d, XS_TRANSACTION_END, td, "T\0");
	/* The retry succeeds. */
	tc = tx_start(c, __LINE__);
	EXPECT(c, XS_READ, tc, "/tc/k\0", XS_READ, "plain");
	WRITE(c, tc, "/tc/k", "retried");
	EXPECT_OK(c, XS_TRANSACTION_END, tc, "T\0");
	EXPECT_EVENT(w, "/tc/k", "t");
	EXPECT(d, XS_READ, 0, "/tc/k\0", XS_READ, "retried");
	/* Aborting a conflicted transaction is fine. */
	tc = tx_start(c, __LINE__);
	EXPECT(c, XS_READ, tc, "/tc/k\0", XS_READ, "retried");
	WRITE(d, 0, "/tc/k", "again");
	EXPECT_EVENT(w, "/tc/k", "t");
	EXPECT_OK(c, XS_TRANSACTION_END, tc, "F\0");
	client_close(w);
	client_close(d);
	client_close(c);
}
END_TEST

/* Transactions that touched unrelated existing nodes both commit. */
START_TEST(test_txn_unrelated)
{
	struct client	*c = client_open(), *d = client_open();
	uint32_t	 tc, td;

	EXPECT_OK(c, XS_WRITE, 0, "/tn/a\0a0");
	EXPECT_OK(c, XS_WRITE, 0, "/tn/b\0b0");
	EXPECT_OK(c, XS_WRITE, 0, "/tn/c\0c0");
	tc = tx_start(c, __LINE__);
	td = tx_start(d, __LINE__);
	EXPECT(c, XS_READ, tc, "/tn/a\0", XS_READ, "a0");
	WRITE(c, tc, "/tn/a", "a1");
	EXPECT(d, XS_READ, td, "/tn/b\0", XS_READ, "b0");
	WRITE(d, td, "/tn/b", "b1");
	/* A plain write elsewhere does not matter either. */
	WRITE(c, 0, "/tn/c", "c1");
	EXPECT_OK(c, XS_TRANSACTION_END, tc, "T\0");
	EXPECT_OK(d, XS_TRANSACTION_END, td, "T\0");
	EXPECT(c, XS_READ, 0, "/tn/a\0", XS_READ, "a1");
	EXPECT(c, XS_READ, 0, "/tn/b\0", XS_READ, "b1");
	EXPECT(c, XS_READ, 0, "/tn/c\0", XS_READ, "c1");
	client_close(d);
	client_close(c);
}
END_TEST

/* Build the suite. */
static Suite *
raw_suite(void)
{
	Suite	*s = suite_create("raw");
	TCase	*tc;

	tc = tcase_create("wire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_reqid_echo);
	tcase_add_test(tc, test_payload_max);
	tcase_add_test(tc, test_payload_too_long);
	tcase_add_test(tc, test_partial_disconnect);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_unknown_types);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_invalid_paths);
	tcase_add_test(tc, test_path_length);
	tcase_add_test(tc, test_silent_client);
	tcase_add_test(tc, test_stall_timeout_drops);
	suite_add_tcase(s, tc);

	tc = tcase_create("tree");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_directory_e2big);
	tcase_add_test(tc, test_directory_part);
	tcase_add_test(tc, test_perms);
	tcase_add_test(tc, test_rm);
	tcase_add_test(tc, test_mkdir);
	tcase_add_test(tc, test_domain_queries);
	suite_add_tcase(s, tc);

	tc = tcase_create("watch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_watch_fires_once);
	tcase_add_test(tc, test_watch_dup_unwatch);
	tcase_add_test(tc, test_watch_relative);
	tcase_add_test(tc, test_watch_tree);
	tcase_add_test(tc, test_watch_own_writes);
	tcase_add_test(tc, test_reset_watches);
	suite_add_tcase(s, tc);

	tc = tcase_create("transaction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_txn_unknown_id);
	tcase_add_test(tc, test_txn_end_bad_args);
	tcase_add_test(tc, test_txn_isolation);
	tcase_add_test(tc, test_txn_events);
	tcase_add_test(tc, test_txn_conflict);
	tcase_add_test(tc, test_txn_unrelated);
	suite_add_tcase(s, tc);

	return s;
}

/* Run the suite; exit 0 only if every test passed. */
int
main(void)
{
	const char	*tmp = getenv("TMPDIR"), *prog = getenv("XSCONSOLED");
	SRunner		*sr;
	int		 failed;

	if (prog == NULL || *prog == '\0')
		prog = "./xsconsoled";
	if (access(prog, X_OK) != 0) {
		fprintf(stderr, "XSCONSOLED=%s is not executable: %s\n", prog,
		    strerror(errno));
		return 99;
	}
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(base_dir, sizeof base_dir, "%s/xsc-raw.XXXXXX", tmp);
	if (mkdtemp(base_dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", base_dir, strerror(errno));
		return 99;
	}
	signal(SIGPIPE, SIG_IGN);

	sr = srunner_create(raw_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tree(base_dir);
	return failed == 0 ? 0 : 1;
}
