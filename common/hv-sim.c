/*
 * The simulated host (../shared/sim-abi.md, version 1): a directory stands
 * in for the hypervisor. Pages are 4096-byte files mapped shared; event
 * channels are 8-byte datagrams {domid, port} (little-endian) on Unix
 * sockets; DOMID_XEN with VIRQ numbers are the virtual IRQs.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hv-private.h"
#include "log.h"
#include "xmalloc.h"

#define SIM_PAGE_SIZE	4096

struct sim {
	char		*root;
	int		 fd;		/* bound to root/evtchn.sock */
	struct event	*ev;
	void		*ports;		/* tsearch(3) by (domid, remote) */
	uint32_t	 next_local;
	off_t		 console_off;
};

/* Order ports by (domid, remote port). */
static int
sim_port_cmp(const void *a, const void *b)
{
	const struct hv_port	*x = a, *y = b;

	if (x->domid != y->domid)
		return (x->domid < y->domid ? -1 : 1);
	return (x->remote < y->remote ? -1 : x->remote > y->remote);
}

/* tdestroy(3) callback: ports belong to their binders. */
static void
sim_port_keep(void *p)
{
	(void)p;
}

/* Make a Unix socket address for a path under the root. */
static int
sim_addr(const struct sim *sim, const char *rel, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s",
	    sim->root, rel) >= sizeof sun->sun_path)
		return (-ENAMETOOLONG);
	return (0);
}

/* Datagrams arrived: guests' events and virtual IRQs. */
static void
sim_readable(evutil_socket_t fd, short events, void *arg)
{
	struct hv	*hv = arg;
	struct sim	*sim = hv->priv;
	struct hv_port	 key, *p;
	uint32_t	 msg[3];	/* one more: a long datagram shows */
	void		*found;
	ssize_t		 n;
	int		 budget = 4096;

	(void)events;
	while (budget-- > 0) {
		n = recv(fd, msg, sizeof msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		if (n != 2 * sizeof msg[0]) {
			log_warn("sim: ignoring a %zd-byte event datagram", n);
			continue;
		}
		key.domid = le32toh(msg[0]);
		key.remote = le32toh(msg[1]);
		if (key.domid == HV_DOMID_XEN) {
			hv_virq(hv, key.remote);
			continue;
		}
		found = tfind(&key, &sim->ports, sim_port_cmp);
		if (found == NULL) {
			log_debug("sim: event for unbound domain %u port %u",
			    key.domid, key.remote);
			continue;
		}
		p = *(struct hv_port **)found;
		hv_port_event(p);
	}
}

/* Close the simulated host. */
static void
sim_close(struct hv *hv)
{
	struct sim	*sim = hv->priv;
	char		 path[PATH_MAX];

	event_free(sim->ev);
	close(sim->fd);
	snprintf(path, sizeof path, "%s/evtchn.sock", sim->root);
	unlink(path);
	tdestroy(sim->ports, sim_port_keep);
	free(sim->root);
	free(sim);
}

/* Read a small file under a domain's directory, first line only. */
static int
sim_read_line(const char *root, uint32_t domid, const char *name, char *buf,
    size_t size)
{
	char	 path[PATH_MAX];
	FILE	*f;

	buf[0] = '\0';
	snprintf(path, sizeof path, "%s/domains/%u/%s", root, domid, name);
	if ((f = fopen(path, "r")) == NULL)
		return (-errno);
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return (0);
}

/* Parse a decimal domid directory name; -1 if it is not one. */
static long
sim_domid(const char *name)
{
	char	*end;
	long	 v;

	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1] != '\0'))
		return (-1);
	v = strtol(name, &end, 10);
	if (*end != '\0' || v < 0 || v >= HV_DOMID_XEN)
		return (-1);
	return (v);
}

/* A domain's state file; -ENOENT if it has none readable (a domain
 * being made or gone). */
static int
sim_state_read(const struct sim *sim, uint32_t domid, enum hv_dom_state *st)
{
	char	state[32];
	int	e;

	if ((e = sim_read_line(sim->root, domid, "state", state,
	    sizeof state)) != 0)
		return (e == -ENOTDIR ? -ENOENT : e);
	if (strcmp(state, "dying") == 0)
		*st = HV_DOM_DYING;
	else if (strcmp(state, "shutdown") == 0)
		*st = HV_DOM_SHUTDOWN;
	else
		*st = HV_DOM_RUNNING;
	return (0);
}

/* Fill in one domain's information. */
static int
sim_domain_read(const struct sim *sim, uint32_t domid, struct hv_dominfo *d)
{
	int	e;

	memset(d, 0, sizeof *d);
	if ((e = sim_state_read(sim, domid, &d->state)) != 0)
		return (e);
	d->domid = domid;
	sim_read_line(sim->root, domid, "name", d->name, sizeof d->name);
	sim_read_line(sim->root, domid, "uuid", d->uuid, sizeof d->uuid);
	return (0);
}

/* Every domain directory, with its state, name and uuid. */
static int
sim_domains(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	struct sim		*sim = hv->priv;
	struct hv_dominfo	*list = NULL;
	struct dirent		*de;
	char			 path[PATH_MAX];
	size_t			 count = 0, cap = 0;
	long			 domid;
	DIR			*dir;

	snprintf(path, sizeof path, "%s/domains", sim->root);
	if ((dir = opendir(path)) == NULL)
		return (-errno);
	while ((de = readdir(dir)) != NULL) {
		if ((domid = sim_domid(de->d_name)) < 0)
			continue;
		if (count == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			list = xrealloc(list, cap * sizeof *list);
		}
		if (sim_domain_read(sim, (uint32_t)domid, &list[count]) == 0)
			count++;
	}
	closedir(dir);
	*out = list;
	*n = count;
	return (0);
}

/* One domain's state: one file read. */
static int
sim_state(struct hv *hv, uint32_t domid, enum hv_dom_state *state)
{
	if (domid >= HV_DOMID_XEN)
		return (-ENOENT);
	return (sim_state_read(hv->priv, domid, state));
}

/* One domain, without listing the others. */
static int
sim_domain(struct hv *hv, uint32_t domid, struct hv_dominfo *info)
{
	if (domid >= HV_DOMID_XEN)
		return (-ENOENT);
	return (sim_domain_read(hv->priv, domid, info));
}

/* Map a domain's page file gnttab/<gref> shared; the frame is unused. */
static void *
sim_map_grant(struct hv *hv, uint32_t domid, uint32_t gref, uint64_t gfn)
{
	struct sim	*sim = hv->priv;
	struct stat	 st;
	char		 path[PATH_MAX];
	void		*page;
	int		 fd, e;

	(void)gfn;
	snprintf(path, sizeof path, "%s/domains/%u/gnttab/%u", sim->root,
	    domid, gref);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return (NULL);
	e = fstat(fd, &st) != 0 ? errno : st.st_size != SIM_PAGE_SIZE ?
	    EINVAL : 0;
	if (e != 0) {
		log_warn("sim: %s is not a %d-byte page", path, SIM_PAGE_SIZE);
		close(fd);
		errno = e;
		return (NULL);
	}
	page = mmap(NULL, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	e = errno;
	close(fd);
	if (page == MAP_FAILED) {
		errno = e;
		return (NULL);
	}
	return (page);
}

/* Unmap a page. */
static void
sim_unmap(struct hv *hv, void *page)
{
	(void)hv;
	munmap(page, SIM_PAGE_SIZE);
}

/* Bind (domid, remote): events the guest sends on that port reach p. */
static int
sim_bind(struct hv *hv, struct hv_port *p)
{
	struct sim	*sim = hv->priv;
	void		*found;

	found = tsearch(p, &sim->ports, sim_port_cmp);
	if (found == NULL)
		return (-ENOMEM);
	if (*(struct hv_port **)found != p)
		return (-EBUSY);
	p->local = ++sim->next_local;
	return (0);
}

/* Forget a binding. */
static void
sim_unbind(struct hv *hv, struct hv_port *p)
{
	struct sim	*sim = hv->priv;

	tdelete(p, &sim->ports, sim_port_cmp);
}

/* Send {domid, port} to the guest's socket; a guest that is gone or
 * whose socket is full just misses the hint. */
static int
sim_notify(struct hv *hv, struct hv_port *p)
{
	struct sim		*sim = hv->priv;
	struct sockaddr_un	 sun;
	uint32_t		 msg[2];
	char			 rel[64];

	snprintf(rel, sizeof rel, "domains/%u/evtchn.sock", p->domid);
	if (sim_addr(sim, rel, &sun) != 0)
		return (0);
	msg[0] = htole32(p->domid);
	msg[1] = htole32(p->remote);
	if (sendto(sim->fd, msg, sizeof msg, MSG_DONTWAIT,
	    (struct sockaddr *)&sun, sizeof sun) < 0)
		log_debug("sim: notify domain %u port %u: %s", p->domid,
		    p->remote, strerror(errno));
	return (0);
}

/* New bytes of root/hv-console since the last call. */
static int
sim_console(struct hv *hv, char *buf, size_t size, size_t *len)
{
	struct sim	*sim = hv->priv;
	struct stat	 st;
	char		 path[PATH_MAX];
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof path, "%s/hv-console", sim->root);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno == ENOENT ? 0 : -errno);
	/* A console file that shrank was replaced: start it again. */
	if (fstat(fd, &st) == 0 && st.st_size < sim->console_off)
		sim->console_off = 0;
	n = pread(fd, buf, size, sim->console_off);
	close(fd);
	if (n < 0)
		return (-errno);
	sim->console_off += n;
	*len = (size_t)n;
	return (0);
}

static const struct hv_ops sim_ops = {
	.name = "sim",
	.close = sim_close,
	.domains = sim_domains,
	.domain = sim_domain,
	.state = sim_state,
	.map_grant = sim_map_grant,
	.unmap = sim_unmap,
	.bind = sim_bind,
	.unbind = sim_unbind,
	.notify = sim_notify,
	.console = sim_console,
};

/* Open the simulated host at root: make root/domains if missing and bind
 * root/evtchn.sock. */
struct hv *
hv_open_sim(struct event_base *base, const char *root, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct sim		*sim;
	struct hv		*hv;
	char			 path[PATH_MAX];
	int			 fd, size = 4 << 20;

	snprintf(path, sizeof path, "%s/domains", root);
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "sim: %s: %s", root, strerror(errno));
		return (NULL);
	}
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "sim: %s: %s", path, strerror(errno));
		return (NULL);
	}
	sim = xcalloc(1, sizeof *sim);
	sim->root = xstrdup(root);
	if (sim_addr(sim, "evtchn.sock", &sun) != 0) {
		snprintf(err, errlen, "sim: %s: path too long", root);
		goto fail;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "sim: socket: %s", strerror(errno));
		goto fail;
	}
	/* Room for bursts of events from thousands of guests. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		snprintf(err, errlen, "sim: bind %s: %s", sun.sun_path,
		    strerror(errno));
		close(fd);
		goto fail;
	}
	sim->fd = fd;
	hv = xcalloc(1, sizeof *hv);
	hv->ops = &sim_ops;
	hv->base = base;
	hv->priv = sim;
	sim->ev = event_new(base, fd, EV_READ | EV_PERSIST, sim_readable, hv);
	event_add(sim->ev, NULL);
	log_info("sim: simulated host at %s", root);
	return (hv);

fail:
	free(sim->root);
	free(sim);
	return (NULL);
}
