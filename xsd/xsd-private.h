/* What the engine's files share about the engine as a whole. */
#ifndef XSD_PRIVATE_H
#define XSD_PRIVATE_H

#include "queue.h"

#include "conn.h"
#include "store.h"
#include "xsd.h"

struct evconnlistener;
struct event;
struct domain;
struct hv;
struct perms;
struct settings;

#define XSD_RATE_SAMPLES	11	/* requests counted each second */

struct xsd {
	struct event_base	*base;
	struct xsd_config	 cfg;
	struct store		*store;
	TAILQ_HEAD(, conn)	 conns;
	unsigned		 nconns;
	unsigned		 next_conn_id;
	struct evconnlistener	*listener;
	char			*socket_path;
	struct event		*reaper;	/* frees closing connections */
	uint64_t		 requests;
	uint64_t		 events_sent;
	uint64_t		 dropped_conns;
	uint64_t		 dropped_events;	/* over a guest's quota */

	/* Live settings and statistics (settings.c), or NULL. */
	struct settings		*settings;
	struct event		*rate_tick;
	uint64_t		 rate_samples[XSD_RATE_SAMPLES];
	unsigned		 rate_nsamples;

	/* Domains (domain.c). */
	struct hv		*hv;		/* NULL: no guests */
	struct domain		**domtab;	/* by domid */
	TAILQ_HEAD(, domain)	 domains;
	unsigned		 ndomains;
	struct event		*dom_scan;	/* VIRQ_DOM_EXC, coalesced */
	struct event		*dom_sweep;	/* periodic ring check */
	struct perms		*intro_perms;	/* @introduceDomain's */
	struct perms		*release_perms;	/* @releaseDomain's */
	uint32_t		*unserved;	/* served before a restart, not
						   after: released by the scan
						   if gone */
	size_t			 nunserved;

	/* The durable copy (persist.c); NULL: none. */
	const struct xsd_persist_ops *persist;
	void			*persist_arg;
	bool			 restored;	/* started from a copy */
	uint32_t		 txn_epoch;	/* this run's, in transaction
						   ids (conn.h) */
	uint32_t		 origin;	/* who makes the commits now: the
						   request's connection (0 between
						   requests: the daemon itself) */
};

void	persist_domain(struct xsd *, uint32_t, uint64_t, uint32_t, uint32_t);
void	persist_domain_gone(struct xsd *, uint32_t);
void	persist_watch(struct conn *, const struct watch *, bool);
void	persist_perms_forget(struct xsd *, uint32_t);
void	persist_special(struct xsd *, const char *);

void	xsd_schedule_reap(struct xsd *);
void	sock_accept(struct xsd *, int);
void	xsd_stats_text(struct xsd *, char **, size_t *);

#endif
