/* The store kept in the database across restarts (daemon/durable.c). */
#ifndef XSC_DURABLE_H
#define XSC_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

struct db;
struct durable;
struct event_base;
struct xsd;

int	durable_start(struct xsd *, struct db *, struct event_base *, bool,
	    struct durable **);
void	durable_free(struct durable *);
uint64_t durable_resyncs(const struct durable *);

#endif
