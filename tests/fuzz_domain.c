/*
 * Fuzz target: a guest's xenstore ring as the daemon reads it. The engine
 * runs on a simulated host (common/hv-sim.c) with one introduced guest;
 * each input is what a hostile guest can do to its page: set the four
 * indices and the connection field to anything, or play fair and put
 * bytes (requests, fragments, garbage) into the request ring. The daemon
 * must never crash, hang or break the store's invariants, and must serve
 * the guest again after a re-introduction.
 *
 * Input: byte 0 is the mode (bit 0: raw indices from bytes 1..16, else
 * the bytes after byte 0 are written into the request ring as a guest
 * would; bit 1: set connection = XENSTORE_RECONNECT; bit 2: consume the
 * responses first).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <endian.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/xs_wire.h>

#include "domain.h"
#include "hv.h"
#include "log.h"
#include "ring.h"
#include "store.h"
#include "tree.h"
#include "xsd-private.h"

#define GUEST		1
#define GUEST_PORT	3

static char				 dir[64];
static struct event_base		*base;
static struct hv			*hv;
static struct xsd			*xsd;
static struct xenstore_domain_interface	*intf;
static int				 evsock = -1;
static struct sockaddr_un		 evaddr;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
cleanup(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file under the root, or die. */
static void
put(const char *rel, const void *data, size_t len)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* One simulated host, one guest with a home it owns part of. */
static void
init(void)
{
	static const char	zero[4096];
	struct xsd_config	cfg;
	char			err[256], path[PATH_MAX];
	int			fd;

	log_open(NULL, LOG_LEVEL_ERROR + 1);
	snprintf(dir, sizeof dir, "/tmp/fuzz_domain.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(path, sizeof path, "%s/domains", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/domains/%d", dir, GUEST);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/domains/%d/gnttab", dir, GUEST);
	mkdir(path, 0755);
	put("domains/1/state", "running\n", 8);
	put("domains/1/gnttab/0", zero, sizeof zero);
	put("domains/1/gnttab/1", zero, sizeof zero);

	base = event_base_new();
	if ((hv = hv_open_sim(base, dir, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	xsd_config_defaults(&cfg);
	xsd = xsd_create(base, &cfg);
	xsd_attach_hv(xsd, hv);
	xsd_write(xsd, "/local/domain/1/data", "", 0);
	if (domain_introduce(xsd, GUEST, 0, GUEST_PORT) != 0)
		abort();

	snprintf(path, sizeof path, "%s/domains/1/gnttab/1", dir);
	if ((fd = open(path, O_RDWR)) < 0)
		abort();
	intf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (intf == MAP_FAILED)
		abort();
	close(fd);
	evsock = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&evaddr, 0, sizeof evaddr);
	evaddr.sun_family = AF_UNIX;
	snprintf(evaddr.sun_path, sizeof evaddr.sun_path, "%s/evtchn.sock",
	    dir);
}

/* Signal the daemon and let it run. */
static void
kick(void)
{
	uint32_t	msg[2] = { htole32(GUEST), htole32(GUEST_PORT) };
	int		i;

	sendto(evsock, msg, sizeof msg, MSG_DONTWAIT,
	    (struct sockaddr *)&evaddr, sizeof evaddr);
	for (i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof v);
	return (le32toh(v));
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring	req;
	uint8_t		mode;

	if (xsd == NULL)
		init();
	if (size == 0)
		return (0);
	mode = data[0];
	data++;
	size--;
	/* A guest cut off last time is given a fresh start. */
	if (intf->error != XENSTORE_ERROR_NONE &&
	    domain_introduce(xsd, GUEST, 0, GUEST_PORT) != 0)
		abort();
	if (mode & 4)
		intf->rsp_cons = intf->rsp_prod;
	if (mode & 2)
		intf->connection = XENSTORE_RECONNECT;
	if ((mode & 1) && size >= 16) {
		intf->req_cons = get32(data);
		intf->req_prod = get32(data + 4);
		intf->rsp_cons = get32(data + 8);
		intf->rsp_prod = get32(data + 12);
		data += 16;
		size -= 16;
		if (size > XENSTORE_RING_SIZE)
			size = XENSTORE_RING_SIZE;
		memcpy(intf->req, data, size);
	} else {
		req.buf = intf->req;
		req.size = XENSTORE_RING_SIZE;
		req.cons = &intf->req_cons;
		req.prod = &intf->req_prod;
		while (size != 0) {
			ssize_t	n = ring_write(&req, data, size);

			if (n <= 0)
				break;	/* full, or indices broken */
			data += n;
			size -= (size_t)n;
			kick();
		}
	}
	kick();
	if (tree_check(xsd->store->tree, stderr) != 0)
		abort();
	return (0);
}
