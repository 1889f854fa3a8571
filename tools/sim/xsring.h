/*
 * The guest end of a xenstore page: requests go out through the req ring
 * (we produce, the daemon consumes), replies and watch events come in
 * through the rsp ring. Nothing here blocks or sends events: the caller
 * pushes, pulls, and notifies the daemon when either moved bytes.
 */
#ifndef XSC_XSRING_H
#define XSC_XSRING_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "ring.h"

struct xsr_msg {
	struct xsd_sockmsg	 hdr;
	char			*body;		/* hdr.len bytes, then a NUL */
};

struct xsring {
	struct xenstore_domain_interface *intf;
	struct ring		 req;
	struct ring		 rsp;

	char			*out;		/* queued request bytes */
	size_t			 outlen;
	size_t			 outoff;	/* how many already went */
	size_t			 outcap;

	struct xsd_sockmsg	 hdr;		/* the message coming in */
	size_t			 hdrgot;
	char			*body;
	size_t			 bodygot;
};

void	 xsring_init(struct xsring *, void *);
void	 xsring_free(struct xsring *);
void	 xsring_queue(struct xsring *, uint32_t, uint32_t, uint32_t,
	    const void *, size_t);
size_t	 xsring_pending(const struct xsring *);
ssize_t	 xsring_push(struct xsring *);
int	 xsring_pull(struct xsring *, struct xsr_msg *, size_t *);
int	 xsring_discard(struct xsring *, size_t *);
int	 xsring_repair(struct xsring *);
void	 xsr_msg_free(struct xsr_msg *);

#endif
