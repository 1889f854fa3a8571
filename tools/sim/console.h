/*
 * The guest end of a console page (struct xencons_interface): the guest
 * produces into out[] and consumes in[]. And the console text a
 * simulated guest prints: deterministic per domain, so that whoever reads
 * the log can check every byte.
 */
#ifndef XSC_CONSOLE_H
#define XSC_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include <xen/io/console.h>

#include "ring.h"

#define CONGEN_LINE	80	/* bytes per generated line, '\n' included */

struct conring {
	struct xencons_interface	*intf;
	struct ring			 out;	/* we write, the daemon reads */
	struct ring			 in;	/* the daemon writes, we read */
};

void	conring_init(struct conring *, void *);
void	congen_fill(uint32_t, uint64_t, char *, size_t);

#endif
