/* The hypervisor interface: choosing a backend, and what every backend
 * does the same way (see hv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv-private.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Open the simulated host at sim_root if given (or $XSC_SIM_ROOT), else
 * the real hypervisor if /dev/xen/privcmd exists. On failure, NULL and a
 * message for the operator in err.
 */
struct hv *
hv_open(struct event_base *base, const char *sim_root, char *err,
    size_t errlen)
{
	if (sim_root == NULL || *sim_root == '\0')
		sim_root = getenv("XSC_SIM_ROOT");
	if (sim_root != NULL && *sim_root != '\0')
		return (hv_open_sim(base, sim_root, err, errlen));
	if (access("/dev/xen/privcmd", F_OK) != 0) {
		snprintf(err, errlen, "no hypervisor: /dev/xen/privcmd does "
		    "not exist (not running on Xen dom0?); use --sim-root DIR "
		    "for a simulated host");
		return (NULL);
	}
	return (hv_open_xen(base, err, errlen));
}

/* Close the backend. Ports belong to their binders, who unbind them
 * first; the xen backend unmaps pages still mapped. */
void
hv_close(struct hv *hv)
{
	if (hv == NULL)
		return;
	hv->ops->close(hv);
	free(hv);
}

/* "xen" or "sim". */
const char *
hv_name(const struct hv *hv)
{
	return (hv->ops->name);
}

/* Say who hears VIRQ_DOM_EXC and VIRQ_CON_RING. */
void
hv_set_virq_cb(struct hv *hv, hv_virq_cb *cb, void *arg)
{
	hv->virq_cb = cb;
	hv->virq_arg = arg;
}

/* A backend saw a virtual IRQ: pass it on. */
void
hv_virq(struct hv *hv, unsigned virq)
{
	log_debug("hv: virq %u", virq);
	if (hv->virq_cb != NULL)
		hv->virq_cb(virq, hv->virq_arg);
}

/* A backend saw an event on a bound port: pass it on. */
void
hv_port_event(struct hv_port *p)
{
	p->cb(p, p->arg);
}

/* Every domain the hypervisor knows, in a new array. */
int
hv_domains(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	return (hv->ops->domains(hv, out, n));
}

/* One domain's information; -ENOENT if it does not exist. */
int
hv_domain_info(struct hv *hv, uint32_t domid, struct hv_dominfo *info)
{
	return (hv->ops->domain(hv, domid, info));
}

/* Only a domain's state, as cheaply as the backend can; -ENOENT if it
 * does not exist. */
int
hv_domain_state(struct hv *hv, uint32_t domid, enum hv_dom_state *state)
{
	struct hv_dominfo	info;
	int			e;

	if (hv->ops->state != NULL)
		return (hv->ops->state(hv, domid, state));
	if ((e = hv->ops->domain(hv, domid, &info)) == 0)
		*state = info.state;
	return (e);
}

/* Map one page a guest granted (gref), or by frame (gfn) if the grant
 * cannot be mapped. NULL with errno set on failure. */
void *
hv_map_grant(struct hv *hv, uint32_t domid, uint32_t gref, uint64_t gfn)
{
	return (hv->ops->map_grant(hv, domid, gref, gfn));
}

/* Unmap a page from hv_map_grant. */
void
hv_unmap(struct hv *hv, void *page)
{
	if (page != NULL)
		hv->ops->unmap(hv, page);
}

/* Bind to a guest's event channel port; cb runs on each event. */
struct hv_port *
hv_evtchn_bind(struct hv *hv, uint32_t domid, uint32_t remote,
    hv_port_cb *cb, void *arg)
{
	struct hv_port	*p = xcalloc(1, sizeof *p);
	int		 e;

	p->hv = hv;
	p->domid = domid;
	p->remote = remote;
	p->cb = cb;
	p->arg = arg;
	if ((e = hv->ops->bind(hv, p)) != 0) {
		free(p);
		errno = -e;
		return (NULL);
	}
	log_debug("hv: bound domain %u port %u", domid, remote);
	return (p);
}

/* Unbind and free a port. */
void
hv_evtchn_unbind(struct hv *hv, struct hv_port *p)
{
	if (p == NULL)
		return;
	hv->ops->unbind(hv, p);
	free(p);
}

/* Kick the guest. A guest that is not listening is not an error. */
int
hv_notify(struct hv *hv, struct hv_port *p)
{
	return (hv->ops->notify(hv, p));
}

/* The guest's port number. */
uint32_t
hv_port_remote(const struct hv_port *p)
{
	return (p->remote);
}

/* New bytes of the hypervisor's own console since the last call. */
int
hv_hypervisor_console(struct hv *hv, char *buf, size_t size, size_t *len)
{
	*len = 0;
	if (hv->ops->console == NULL)
		return (0);
	return (hv->ops->console(hv, buf, size, len));
}
