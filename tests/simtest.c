/* Shared pieces of the tests on a simulated host (see simtest.h). */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "simtest.h"

/* A fresh root in /tmp with its domains/ directory; the caller frees. */
char *
simtest_root(void)
{
	char	*dir = strdup("/tmp/simtest.XXXXXX"), path[PATH_MAX];

	ck_assert_ptr_nonnull(dir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/domains", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	return (dir);
}

static int
simtest_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* Remove a directory tree. */
void
simtest_rm_rf(const char *dir)
{
	nftw(dir, simtest_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a whole file under the root. */
void
simtest_put(const char *dir, const char *rel, const void *data, size_t len)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Play the toolstack: a running domain's directory and its two pages. */
void
simtest_domain(const char *dir, uint32_t domid)
{
	static const char	zero[SIMTEST_PAGE];
	char			path[PATH_MAX], rel[128];

	snprintf(path, sizeof path, "%s/domains/%u", dir, domid);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/domains/%u/gnttab", dir, domid);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/0", domid);
	simtest_put(dir, rel, zero, sizeof zero);
	snprintf(rel, sizeof rel, "domains/%u/gnttab/1", domid);
	simtest_put(dir, rel, zero, sizeof zero);
	snprintf(rel, sizeof rel, "domains/%u/state", domid);
	simtest_put(dir, rel, "running\n", 8);
}

/* Map one of a domain's pages as the guest does. */
void *
simtest_map(const char *dir, uint32_t domid, unsigned gref)
{
	char	 path[PATH_MAX];
	void	*page;
	int	 fd;

	snprintf(path, sizeof path, "%s/domains/%u/gnttab/%u", dir, domid,
	    gref);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	page = mmap(NULL, SIMTEST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	close(fd);
	return (page);
}

/* Send an 8-byte event datagram to the daemon's socket, without blocking:
 * a full socket drops it (the daemon's sweep still finds the work). */
void
simtest_event(int sock, const char *dir, uint32_t domid, uint32_t port)
{
	struct sockaddr_un	sun;
	uint32_t		msg[2] = { htole32(domid), htole32(port) };

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/evtchn.sock", dir);
	if (sendto(sock, msg, sizeof msg, MSG_DONTWAIT,
	    (struct sockaddr *)&sun, sizeof sun) != (ssize_t)sizeof msg)
		ck_assert_int_eq(errno, EAGAIN);
}

/* Run the engine's loop until nothing is left to do right now. */
void
simtest_spin(struct event_base *base)
{
	int	i;

	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}
