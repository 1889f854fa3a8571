/*
 * Times for the tools that read the log (xsconsole-tail, xsc-history):
 * --since/--until as journalctl takes them, and the formats times are
 * printed with. All in ns since the epoch.
 */
#ifndef XSC_WHEN_H
#define XSC_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int		 when_parse(const char *, uint64_t now_ns, uint64_t *);
uint64_t	 when_now(void);
void		 when_iso(uint64_t, char *, size_t);
void		 when_iso_utc_us(uint64_t, char *, size_t);
void		 when_short(uint64_t, bool, char *, size_t);

#endif
