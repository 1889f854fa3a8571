/* What the hv backends share: the dispatch table and the objects. */
#ifndef XSC_HV_PRIVATE_H
#define XSC_HV_PRIVATE_H

#include "hv.h"

struct hv_ops {
	const char	*name;
	void		(*close)(struct hv *);
	int		(*domains)(struct hv *, struct hv_dominfo **, size_t *);
	int		(*domain)(struct hv *, uint32_t, struct hv_dominfo *);
	int		(*state)(struct hv *, uint32_t, enum hv_dom_state *);
	void		*(*map_grant)(struct hv *, uint32_t, uint32_t,
			    uint64_t);
	void		(*unmap)(struct hv *, void *);
	int		(*bind)(struct hv *, struct hv_port *);
	void		(*unbind)(struct hv *, struct hv_port *);
	int		(*notify)(struct hv *, struct hv_port *);
	int		(*console)(struct hv *, char *, size_t, size_t *);
};

struct hv {
	const struct hv_ops	*ops;
	struct event_base	*base;
	hv_virq_cb		*virq_cb;
	void			*virq_arg;
	void			*priv;		/* the backend's state */
};

struct hv_port {
	struct hv		*hv;
	uint32_t		 domid;
	uint32_t		 remote;	/* the guest's port */
	uint32_t		 local;		/* ours (xen: the bound port) */
	hv_port_cb		*cb;
	void			*arg;
	void			*priv;		/* the backend's */
};

void	hv_virq(struct hv *, unsigned);
void	hv_port_event(struct hv_port *);

#endif
