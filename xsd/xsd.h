/* The xenstore engine, as the daemon and the tests see it. */
#ifndef XSD_XSD_H
#define XSD_XSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hv;
struct xsd;

/* Per-domain limits; privileged connections are exempt. Defaults are
 * those of Xen 4.17's C xenstored. */
struct xsd_quota {
	unsigned	nodes;		/* nodes owned by one domain */
	unsigned	watches;	/* watches per connection */
	unsigned	transactions;	/* open transactions per connection */
	unsigned	node_size;	/* bytes of value + perms + children */
	unsigned	path_len;	/* relative path length */
	unsigned	outstanding;	/* requests waiting for a reply */
	unsigned	txn_nodes;	/* nodes touched by one transaction */
	unsigned	perms;		/* permission entries per node */
	unsigned	memory;		/* bytes of replies and watch events
					   a guest may leave unread */
	unsigned	write_rate;	/* writes per second a domain may
					   make while transactions are open */
	unsigned	write_burst;	/* writes it may make at once */
	unsigned	conflict_cost;	/* writes charged to a domain for
					   each transaction of another that
					   its commits make fail */
};

struct xsd_config {
	struct xsd_quota quota;
	size_t		 out_high;	/* queued output above which a
					   connection's requests wait */
	size_t		 out_max;	/* queued output above which a
					   connection is dropped as not
					   reading its watch events */
	unsigned	 stall_timeout;	/* seconds a socket client may leave
					   its replies unread (0: forever) */
};

void		 xsd_config_defaults(struct xsd_config *);
struct xsd	*xsd_create(struct event_base *, const struct xsd_config *);
void		 xsd_free(struct xsd *);
int		 xsd_listen(struct xsd *, const char *);
int		 xsd_quota_set(struct xsd_quota *, const char *, long);
void		 xsd_attach_hv(struct xsd *, struct hv *);
void		 xsd_domains_changed(struct xsd *);

/* In-process API for the other engines (the console drainer). Paths are
 * absolute; callers act as dom0. */
typedef void xsd_watch_cb(const char *path, void *arg);
struct xsd_watch;

int		 xsd_read(struct xsd *, const char *, char **, size_t *);
int		 xsd_write(struct xsd *, const char *, const void *, size_t);
struct xsd_watch *xsd_watch_add(struct xsd *, const char *, xsd_watch_cb *,
		    void *);
void		 xsd_watch_remove(struct xsd *, struct xsd_watch *);
uint64_t	 xsd_generation(struct xsd *);
bool		 xsd_domain_introduced(struct xsd *, uint32_t);

#endif
