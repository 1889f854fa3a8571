/* The xenstore engine, as the daemon and the tests see it. */
#ifndef XSD_XSD_H
#define XSD_XSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hv;
struct settings;
struct xsd;

/* Per-domain limits; privileged connections are exempt. Defaults are
 * those of Xen 4.17's C xenstored. */
struct xsd_quota {
	unsigned	nodes;		/* nodes owned by one domain */
	unsigned	watches;	/* watches per connection */
	unsigned	transactions;	/* open transactions per connection */
	unsigned	node_size;	/* bytes of value + perms + children */
	unsigned	path_len;	/* relative path length */
	unsigned	outstanding;	/* requests waiting for a reply */
	unsigned	txn_nodes;	/* nodes touched by one transaction */
	unsigned	perms;		/* permission entries per node */
	unsigned	memory;		/* bytes of replies and watch events
					   a guest may leave unread */
	unsigned	write_rate;	/* writes per second a domain may
					   make while transactions are open */
	unsigned	write_burst;	/* writes it may make at once */
	unsigned	conflict_cost;	/* writes charged to a domain for
					   each transaction of another that
					   its commits make fail */
};

struct xsd_config {
	struct xsd_quota quota;
	size_t		 out_high;	/* queued output above which a
					   connection's requests wait */
	size_t		 out_max;	/* queued output above which a
					   connection is dropped as not
					   reading its watch events */
	unsigned	 stall_timeout;	/* seconds a socket client may leave
					   its replies unread (0: forever) */
};

void		 xsd_config_defaults(struct xsd_config *);
struct xsd	*xsd_create(struct event_base *, const struct xsd_config *);
void		 xsd_free(struct xsd *);
int		 xsd_listen(struct xsd *, const char *);
int		 xsd_quota_set(struct xsd_quota *, const char *, long);
int		 xsd_quota_get(const struct xsd_quota *, const char *,
		    unsigned *);
const char	*xsd_quota_name(size_t);
void		 xsd_attach_hv(struct xsd *, struct hv *);
void		 xsd_domains_changed(struct xsd *);

/* Live settings (xsd/settings.h): the nodes below /tool/xsconsoled, the
 * engine's statistics, and the setters the daemon's callbacks use. */
void		 xsd_attach_settings(struct xsd *, struct settings *);
int		 xsd_set_quota(struct xsd *, const char *, long);
void		 xsd_set_stall_timeout(struct xsd *, unsigned);

/* In-process API for the other engines (the console drainer). Paths are
 * absolute; callers act as dom0. */
typedef void xsd_watch_cb(const char *path, void *arg);
struct xsd_watch;

int		 xsd_read(struct xsd *, const char *, char **, size_t *);
int		 xsd_write(struct xsd *, const char *, const void *, size_t);
struct xsd_watch *xsd_watch_add(struct xsd *, const char *, xsd_watch_cb *,
		    void *);
void		 xsd_watch_remove(struct xsd *, struct xsd_watch *);
uint64_t	 xsd_generation(struct xsd *);
bool		 xsd_domain_introduced(struct xsd *, uint32_t);

/*
 * Persistence (xsd/persist.c; docs/store.md, "Restart"). The daemon
 * hands the engine callbacks that keep a durable copy: every commit as
 * it happens, domains served on rings, and their watches. At start it
 * gives the copy back, before listening and before any guest is served:
 * the nodes (a parent before its children), the generation, this run's
 * transaction id epoch (xsd_restore_txn_epoch), then, with
 * the hypervisor attached, the domains and their watches, the special
 * nodes' permissions (@introduceDomain, @releaseDomain); then
 * xsd_restore_done. Who made a commit: a domid, or XSD_ORIGIN_SOCKET |
 * the socket connection's number. Permissions are in the text form
 * "n0,r5" (owner first).
 */
#define XSD_ORIGIN_SOCKET	0x80000000u

struct xsd_change {
	const char	*path;
	bool		 deleted;
	bool		 created;	/* made (or made again) by this commit */
	const void	*value;
	uint32_t	 vlen;
	const char	*perms;
};

struct xsd_domain_rec {
	uint32_t	 domid;
	uint64_t	 gfn;
	uint32_t	 port;
	uint32_t	 target;	/* UINT32_MAX: none */
};

struct xsd_persist_ops {
	void	(*commit)(uint64_t gen, uint32_t origin, bool in_txn,
		    const struct xsd_change *, size_t, void *arg);
	void	(*perms_forget)(uint64_t gen, uint32_t domid, void *arg);
	void	(*domain_put)(const struct xsd_domain_rec *, void *arg);
	void	(*domain_del)(uint32_t domid, void *arg);
	void	(*watch_put)(uint32_t domid, const char *path,
		    const char *token, int depth, void *arg);
	void	(*watch_del)(uint32_t domid, const char *path,
		    const char *token, void *arg);
	void	(*special_perms)(const char *name, const char *perms,
		    void *arg);
};

void		 xsd_persist_all(struct xsd *);
void		 xsd_set_persist(struct xsd *, const struct xsd_persist_ops *,
		    void *);
int		 xsd_restore_node(struct xsd *, const char *, const void *,
		    uint32_t, const char *, uint64_t);
void		 xsd_restore_gen(struct xsd *, uint64_t);
uint32_t	 xsd_restore_txn_epoch(struct xsd *, uint32_t, bool);
int		 xsd_restore_domain(struct xsd *, const struct xsd_domain_rec *);
int		 xsd_restore_watch(struct xsd *, uint32_t, const char *,
		    const char *, int);
int		 xsd_restore_special(struct xsd *, const char *, const char *);
void		 xsd_restore_done(struct xsd *);

#endif
