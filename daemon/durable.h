/* The store kept in the database across restarts (daemon/durable.c). */
#ifndef XSC_DURABLE_H
#define XSC_DURABLE_H

#include <stdbool.h>

struct db;
struct xsd;

int	durable_start(struct xsd *, struct db *, bool);

#endif
