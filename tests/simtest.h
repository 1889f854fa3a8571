/* What the tests that play a simulated host (../shared/sim-abi.md) share:
 * the toolstack's files, a guest's page, events, the engine's loop. */
#ifndef XSC_SIMTEST_H
#define XSC_SIMTEST_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define SIMTEST_PAGE	4096

char	*simtest_root(void);
void	 simtest_rm_rf(const char *);
void	 simtest_put(const char *, const char *, const void *, size_t);
void	 simtest_domain(const char *, uint32_t);
void	*simtest_map(const char *, uint32_t, unsigned);
void	 simtest_event(int, const char *, uint32_t, uint32_t);
void	 simtest_spin(struct event_base *);

#endif
