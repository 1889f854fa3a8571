/*
 * The guest's side of the simulated host (see simdom.h). Sends never
 * block: events are hints, and a notification the daemon's full queue
 * refused is reported to the caller, who tries again on its next tick.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "simdom.h"

/* Make the address of root/rel; -ENAMETOOLONG if it does not fit. */
int
sim_sockaddr(struct sockaddr_un *sun, const char *root, const char *rel)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s",
	    root, rel) >= sizeof sun->sun_path)
		return (-ENAMETOOLONG);
	return (0);
}

/* Map DIR/domains/<domid>/gnttab/<gref> shared; NULL and a message in err
 * if it is missing or not exactly one page. */
void *
sim_page_map(const char *root, uint32_t domid, uint32_t gref, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	void		*page;
	int		 fd;

	snprintf(path, sizeof path, "%s/domains/%u/gnttab/%u", root, domid,
	    gref);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) != 0 || st.st_size != SIM_PAGE_SIZE) {
		snprintf(err, errlen, "%s: not a %d-byte page", path,
		    SIM_PAGE_SIZE);
		close(fd);
		return (NULL);
	}
	page = mmap(NULL, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (page == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	close(fd);
	return (page);
}

/* Unmap a page from sim_page_map. */
void
sim_page_unmap(void *page)
{
	if (page != NULL)
		munmap(page, SIM_PAGE_SIZE);
}

/* Send one {domid, port} datagram from fd (or a fresh socket if fd < 0)
 * to the daemon; 0 or -errno. */
static int
sim_send(int fd, const struct sockaddr_un *to, uint32_t domid, uint32_t port)
{
	uint32_t	msg[2];
	int		e = 0, own = fd < 0;

	if (own && (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (-errno);
	msg[0] = htole32(domid);
	msg[1] = htole32(port);
	if (sendto(fd, msg, sizeof msg, MSG_DONTWAIT,
	    (const struct sockaddr *)to, sizeof *to) != (ssize_t)sizeof msg)
		e = -errno;
	if (own)
		close(fd);
	return (e);
}

/* Raise a virtual IRQ at the daemon: {DOMID_XEN, virq}. 0 or -errno
 * (-ENOENT or -ECONNREFUSED: no daemon listening). */
int
sim_send_virq(const char *root, uint32_t virq)
{
	struct sockaddr_un	sun;
	int			e;

	if ((e = sim_sockaddr(&sun, root, "evtchn.sock")) != 0)
		return (e);
	return (sim_send(-1, &sun, SIM_DOMID_XEN, virq));
}

/*
 * Become domain domid's guest: map the pages asked for (SIMDOM_XS,
 * SIMDOM_CONS) and bind DIR/domains/<domid>/evtchn.sock, replacing a stale
 * socket a dead guest left. On failure, -1 and a message in err.
 */
int
simdom_open(struct simdom *sd, const char *root, uint32_t domid, int what,
    char *err, size_t errlen)
{
	struct stat	st;
	char		rel[64];
	int		size = 256 << 10;

	memset(sd, 0, sizeof *sd);
	sd->domid = domid;
	sd->fd = -1;
	snprintf(rel, sizeof rel, "domains/%u/evtchn.sock", domid);
	if (sim_sockaddr(&sd->self, root, rel) != 0 ||
	    sim_sockaddr(&sd->daemon, root, "evtchn.sock") != 0) {
		snprintf(err, errlen, "%s: path too long for a socket", root);
		return (-1);
	}
	if ((what & SIMDOM_XS) && (sd->xs_page = sim_page_map(root, domid, 1,
	    err, errlen)) == NULL)
		goto fail;
	if ((what & SIMDOM_CONS) && (sd->cons_page = sim_page_map(root, domid,
	    0, err, errlen)) == NULL)
		goto fail;
	sd->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sd->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	/* Bursts of events from a busy daemon; dropping them is allowed. */
	setsockopt(sd->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	unlink(sd->self.sun_path);
	if (bind(sd->fd, (struct sockaddr *)&sd->self, sizeof sd->self) != 0 ||
	    stat(sd->self.sun_path, &st) != 0) {
		snprintf(err, errlen, "bind %s: %s", sd->self.sun_path,
		    strerror(errno));
		goto fail;
	}
	sd->ino = st.st_ino;
	return (0);

fail:
	simdom_close(sd);
	return (-1);
}

/* Unmap the pages, close the socket and remove it unless another guest
 * process has bound the path since. */
void
simdom_close(struct simdom *sd)
{
	struct stat	st;

	if (sd->fd >= 0) {
		if (sd->ino != 0 && stat(sd->self.sun_path, &st) == 0 &&
		    st.st_ino == sd->ino)
			unlink(sd->self.sun_path);
		close(sd->fd);
	}
	sd->fd = -1;
	sim_page_unmap(sd->xs_page);
	sim_page_unmap(sd->cons_page);
	sd->xs_page = sd->cons_page = NULL;
}

/* Kick the daemon on one of our ports. 0, or -errno when the event did
 * not go (-EAGAIN: its queue is full; -ENOENT, -ECONNREFUSED: no daemon). */
int
simdom_notify(struct simdom *sd, uint32_t port)
{
	return (sim_send(sd->fd, &sd->daemon, sd->domid, port));
}

/* Read and drop every datagram waiting: they only say "look at the
 * rings", which the caller does next. Returns how many there were. */
int
simdom_drain(struct simdom *sd)
{
	uint32_t	msg[4];
	int		n = 0;

	while (recv(sd->fd, msg, sizeof msg, MSG_DONTWAIT) >= 0)
		n++;
	return (n);
}
