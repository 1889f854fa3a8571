/* What the engine's files share about the engine as a whole. */
#ifndef XSD_PRIVATE_H
#define XSD_PRIVATE_H

#include "queue.h"

#include "conn.h"
#include "store.h"
#include "xsd.h"

struct evconnlistener;
struct event;

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
};

void	xsd_schedule_reap(struct xsd *);
void	sock_accept(struct xsd *, int);
void	xsd_stats_text(struct xsd *, char **, size_t *);

#endif
