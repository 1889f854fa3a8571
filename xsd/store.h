/* The store's semantics: nodes as a request sees them (inside or outside
 * a transaction), permissions, and every change going through one commit. */
#ifndef XSD_STORE_H
#define XSD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "queue.h"

#include "perms.h"

struct tree;
struct watches;
struct txn;
struct txn_node;

/* One change a commit applied, for whoever records history. */
struct store_change {
	const char	*path;
	bool		 deleted;
	bool		 created;	/* made (again) by this commit: it
					   goes last among its siblings */
	const char	*value;
	uint32_t	 vlen;
	struct perms	*perms;
};

typedef void store_commit_cb(uint64_t gen, const struct actor *,
		    bool in_txn, const struct store_change *, size_t, void *);

struct xsd_quota;
struct txn_log;

#define STORE_TXN_LOG_MAX	(64 * 1024 * 1024)

/*
 * Nodes the daemon serves itself (xsd/settings.c). A commit changing
 * anything at or below guard is shown to check first, with all its
 * changes there (written, deleted, or given new permissions); a
 * non-zero return fails the commit with that error, nothing changed.
 * Below virt (itself a real node) nodes are computed on reading, never
 * stored: no commit, no generation, and nobody may change them (EACCES).
 */
typedef int store_child_cb(const char *name, void *arg);
struct store_special {
	const char	*guard;
	int		(*check)(const struct store_change *, size_t,
			    const struct actor *, void *);
	const char	*virt;
	int		(*virt_read)(const char *name, const char **value,
			    uint32_t *vlen, void *);
	int		(*virt_list)(store_child_cb *, void *cbarg, void *);
	void		*arg;
};

struct store {
	struct tree	*tree;
	const struct xsd_quota *quota;	/* limits for unprivileged actors
					   (NULL: none) */
	struct watches	*watches;
	uint64_t	 gen;		/* the last commit's generation */
	uint64_t	 commits;
	uint64_t	 conflicts;
	store_commit_cb	*commit_cb;
	void		*commit_arg;
	const struct store_special *special;	/* NULL: none */
	struct txn_log	*txn_log;	/* undo log for snapshot reads */
	size_t		 txn_log_max;	/* its bound in bytes */
	uint64_t	 snapshots_lost; /* times the bound cut it */
};

/* A node as one request sees it. value and perms stay valid until the
 * next change to the store or the transaction. */
struct nodeview {
	bool		 exists;
	const char	*value;
	uint32_t	 vlen;
	struct perms	*perms;
	uint64_t	 gen;
	uint32_t	 nchildren;
	uint32_t	 children_len;
};

struct store	*store_create(void);
void		 store_free(struct store *);

int		 store_read(struct store *, struct txn *, const struct actor *,
		    const char *, struct nodeview *);
int		 store_list(struct store *, struct txn *, const struct actor *,
		    const char *, struct nodeview *, store_child_cb *, void *);
int		 store_write(struct store *, struct txn *, const struct actor *,
		    const char *, const void *, uint32_t);
int		 store_mkdir(struct store *, struct txn *, const struct actor *,
		    const char *);
int		 store_rm(struct store *, struct txn *, const struct actor *,
		    const char *);
int		 store_set_perms(struct store *, struct txn *,
		    const struct actor *, const char *, struct perms *);

struct txn	*txn_create(struct store *, uint32_t, const struct actor *);
void		 txn_free(struct txn *);
uint32_t	 txn_id(const struct txn *);
uint32_t	 txn_nnodes(const struct txn *);
int32_t		 txn_owned_delta(const struct txn *);
struct store	*txn_store(const struct txn *);
int		 txn_end(struct txn *, bool);

#endif
