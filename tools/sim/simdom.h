/*
 * The guest's side of the simulated host (../shared/sim-abi.md): a
 * domain's two pages mapped shared, its event channel socket
 * DIR/domains/<id>/evtchn.sock, and events sent to the daemon's
 * DIR/evtchn.sock as 8-byte datagrams {domid, port}, little-endian.
 */
#ifndef XSC_SIMDOM_H
#define XSC_SIMDOM_H

#include <sys/types.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>

#define SIM_PAGE_SIZE		4096
#define SIM_DOMID_XEN		0x7FF0u		/* DOMID_XEN */
#define SIM_DOMID_MAX		0x7FEFu		/* DOMID_FIRST_RESERVED - 1 */
#define SIM_VIRQ_DOM_EXC	3u
#define SIM_XS_PORT		1u	/* the guests' xenstore port */
#define SIM_CONS_PORT		2u	/* the guests' console port */

/* What simdom_open maps. */
#define SIMDOM_XS		0x1	/* gnttab/1, the xenstore page */
#define SIMDOM_CONS		0x2	/* gnttab/0, the console page */

struct simdom {
	uint32_t		 domid;
	int			 fd;		/* our bound evtchn.sock */
	ino_t			 ino;		/* its inode, to unlink only ours */
	struct sockaddr_un	 self;
	struct sockaddr_un	 daemon;	/* DIR/evtchn.sock */
	void			*xs_page;
	void			*cons_page;
};

int	 simdom_open(struct simdom *, const char *, uint32_t, int, char *,
	    size_t);
void	 simdom_close(struct simdom *);
int	 simdom_notify(struct simdom *, uint32_t);
int	 simdom_drain(struct simdom *);

void	*sim_page_map(const char *, uint32_t, uint32_t, char *, size_t);
void	 sim_page_unmap(void *);
int	 sim_send_virq(const char *, uint32_t);
int	 sim_sockaddr(struct sockaddr_un *, const char *, const char *);

#endif
