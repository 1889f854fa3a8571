/* Node permissions: a shared, reference-counted list of (domid, mode). */
#ifndef XSD_PERMS_H
#define XSD_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

#define PERM_NONE	0x0
#define PERM_READ	0x1
#define PERM_WRITE	0x2
#define PERM_BOTH	(PERM_READ|PERM_WRITE)

struct perm {
	uint32_t	domid;
	uint32_t	mode;
};

/* Entry 0 is the owner; its mode is everyone else's default. Lists are
 * shared by the nodes that inherit them and never change, except when a
 * domain dies: then every list naming it is edited in place (perms_forget),
 * which reaches all the nodes sharing it at once. */
struct perms_link;
struct perms {
	uint32_t		 refs;
	uint32_t		 n;
	struct perms_link	*links;		/* one per guest domid named,
						   in the index by domid */
	uint32_t		 nlinks;
	struct perm		 p[];
};

/* Who asks: a domain, maybe privileged, maybe acting for a target. */
struct actor {
	uint32_t	domid;
	uint32_t	target;		/* PERMS_NO_TARGET if none */
	int		privileged;
};
#define PERMS_NO_TARGET	UINT32_MAX

struct perms	*perms_create(const struct perm *, uint32_t);
struct perms	*perms_ref(struct perms *);
void		 perms_unref(struct perms *);
int		 perms_parse(const char *, size_t, uint32_t, struct perms **);
size_t		 perms_format(const struct perms *, char *, size_t);
size_t		 perms_format_len(const struct perms *);
unsigned	 perms_mode(const struct perms *, const struct actor *);
struct perms	*perms_for_new(struct perms *, const struct actor *);
int		 perms_equal(const struct perms *, const struct perms *);
int		 perms_has_domid(const struct perms *, uint32_t);
struct perms	*perms_without(struct perms *, uint32_t);
void		 perms_forget(uint32_t);
bool		 perms_names(uint32_t);

#endif
