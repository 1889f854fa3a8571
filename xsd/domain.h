/* Guest domains: introduced by the toolstack, served over their shared
 * xenstore ring, released when they die. */
#ifndef XSD_DOMAIN_H
#define XSD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct conn;
struct perms;
struct xsd;

/* Bit 2 of the ring page's server feature bitmap: WATCH takes a depth
 * (docs/misc/xenstore-ring.txt; Xen 4.17's xs_wire.h has no name for it). */
#define DOMAIN_FEATURE_WATCH_DEPTH	(1u << 2)

void		 domain_init(struct xsd *);
void		 domain_fini(struct xsd *);
int		 domain_introduce(struct xsd *, uint32_t, uint64_t, uint32_t);
int		 domain_release(struct xsd *, uint32_t);
int		 domain_restore(struct xsd *, uint32_t, uint64_t, uint32_t);
struct conn	*domain_conn(struct xsd *, uint32_t);
int		 domain_resume(struct xsd *, uint32_t);
int		 domain_set_target(struct xsd *, uint32_t, uint32_t);
bool		 domain_is_introduced(struct xsd *, uint32_t);
bool		 domain_exists(struct xsd *, uint32_t);
void		 domain_charge(struct xsd *, uint32_t, unsigned);
int		 domain_quota_report(struct xsd *, uint32_t, FILE *);
struct perms	**domain_special_perms(struct xsd *, const char *);
void		 domain_persist_all(struct xsd *);

#endif
