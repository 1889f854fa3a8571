/*
 * The only door to the hypervisor. Two backends: "xen" (libxenctrl,
 * libxengnttab, libxenforeignmemory, libxenevtchn; used when
 * /dev/xen/privcmd exists) and "sim" (the simulated host of
 * ../shared/sim-abi.md, a directory on disk). The engines see pages,
 * event channel ports, a domain list and two virtual IRQs; how those come
 * about is this interface's business. Every backend registers its file
 * descriptors on the event base it is given.
 */
#ifndef XSC_HV_H
#define XSC_HV_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hv;
struct hv_port;

#define HV_DOMID_XEN		0x7FF0u	/* DOMID_XEN */
#define HV_VIRQ_DOM_EXC		3u	/* some domain changed state */
#define HV_VIRQ_CON_RING	8u	/* the hypervisor console grew */

enum hv_dom_state {
	HV_DOM_RUNNING,
	HV_DOM_SHUTDOWN,
	HV_DOM_DYING,
};

struct hv_dominfo {
	uint32_t		domid;
	enum hv_dom_state	state;
	char			uuid[37];	/* "" if unknown */
	char			name[64];	/* "" if unknown */
};

/* An event arrived on a bound port. */
typedef void hv_port_cb(struct hv_port *, void *);
/* A virtual IRQ fired (HV_VIRQ_*). */
typedef void hv_virq_cb(unsigned, void *);

struct hv	*hv_open(struct event_base *, const char *, char *, size_t);
struct hv	*hv_open_sim(struct event_base *, const char *, char *, size_t);
struct hv	*hv_open_xen(struct event_base *, char *, size_t);
void		 hv_close(struct hv *);	/* unbind ports first */
const char	*hv_name(const struct hv *);

void		 hv_set_virq_cb(struct hv *, hv_virq_cb *, void *);
int		 hv_domains(struct hv *, struct hv_dominfo **, size_t *);
int		 hv_domain_info(struct hv *, uint32_t, struct hv_dominfo *);
int		 hv_domain_state(struct hv *, uint32_t, enum hv_dom_state *);

void		*hv_map_grant(struct hv *, uint32_t, uint32_t, uint64_t);
void		 hv_unmap(struct hv *, void *);

struct hv_port	*hv_evtchn_bind(struct hv *, uint32_t, uint32_t, hv_port_cb *,
		    void *);
void		 hv_evtchn_unbind(struct hv *, struct hv_port *);
int		 hv_notify(struct hv *, struct hv_port *);
uint32_t	 hv_port_remote(const struct hv_port *);

int		 hv_hypervisor_console(struct hv *, char *, size_t, size_t *);

/* dom0's own xenstore page and port (/proc/xen/xsd_kva, xsd_port): xen
 * backend only, -EOPNOTSUPP on others. Unmap with hv_unmap. */
int		 hv_xen_dom0_ring(struct hv *, void **, uint32_t *);

#endif
