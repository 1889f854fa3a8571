/*
 * The console drainer: the xenconsoled half of the daemon. It learns of
 * consoles from the store's in-process watches (@introduceDomain,
 * @releaseDomain, /local/domain/<id>/console), maps each console page
 * through hv, drains its output ring on every event into the console log
 * (db/) and a pty for `xl console`, and puts what is typed into the pty
 * into the input ring.
 */
#ifndef XSC_CONSOLED_H
#define XSC_CONSOLED_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct event_base;
struct hv;
struct xsd;
struct consoled;

struct consoled_config {
	uint64_t	rate;		/* bytes a second one domain may print
					   for long (0: no limit) */
	uint64_t	burst;		/* bytes it may print at once beyond
					   the rate */
	size_t		backlog;	/* bytes waiting for the log above
					   which draining pauses */
	size_t		pty_limit;	/* bytes kept for a pty nobody reads,
					   unless console/limit says */
};

/* Since the drainer started. */
struct consoled_stats {
	uint64_t	bytes;		/* drained from the rings, logged */
	uint64_t	pty_dropped;	/* never read from a pty, dropped */
	uint64_t	lost;		/* read by the daemon before a
					   restart and never written */
};

void		 consoled_config_defaults(struct consoled_config *);
struct consoled	*consoled_create(struct event_base *, struct xsd *,
		    struct hv *, struct db *, const struct consoled_config *);
void		 consoled_free(struct consoled *);
void		 consoled_virq(struct consoled *, unsigned);
unsigned	 consoled_count(const struct consoled *);
void		 consoled_set_limits(struct consoled *,
		    const struct consoled_config *);
void		 consoled_stats(const struct consoled *, struct consoled_stats *);

#endif
