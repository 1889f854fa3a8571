/* Watches: who wants to hear of changes at or below a path. */
#ifndef XSD_WATCH_H
#define XSD_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "queue.h"

struct perms;
struct watch;
struct watches;

/* Deliver an event to a connection's watch: reported path and token.
 * Returns whether the owner may see the node (perms check included). */
typedef void watch_deliver_cb(void *owner, const struct watch *,
		    const char *path, struct perms *, struct perms *,
		    void *arg);
typedef void watch_func_cb(const char *path, void *arg);

struct watch {
	TAILQ_ENTRY(watch)	 bucket_entry;
	TAILQ_ENTRY(watch)	 owner_entry;
	struct watch_bucket	*bucket;
	void			*owner;		/* a connection, or NULL */
	watch_func_cb		*func;		/* in-process watcher */
	void			*func_arg;
	char			*token;
	bool			 relative;
	int			 depth;		/* levels below the path
						   that fire it (-1: any); on
						   a special name, 1 reports
						   "@name/<domid>" */
};
TAILQ_HEAD(watch_list, watch);

struct watches	*watch_create(watch_deliver_cb *, void *);
void		 watch_free_all(struct watches *);
int		 watch_add(struct watches *, const char *, const char *, void *,
		    bool, struct watch **);
struct watch	*watch_add_func(struct watches *, const char *, watch_func_cb *,
		    void *);
struct watch	*watch_find(struct watches *, const char *, const char *,
		    void *);
void		 watch_remove_one(struct watches *, struct watch *);
const char	*watch_path(const struct watch *);
void		 watch_fire(struct watches *, const char *, bool,
		    struct perms *, struct perms *);
void		 watch_fire_special(struct watches *, const char *, uint32_t,
		    struct perms *);
uint64_t	 watch_count(const struct watches *);

#endif
