/* A transaction's branch of the store, as the store's operations use it.
 * Outside a transaction, each change runs as an implicit one, so that
 * every change reaches the tree through txn_end() and store_commit(). */
#ifndef XSD_TXN_H
#define XSD_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct txn_node;

#define TXN_EVENT_TREE	1	/* fire watches on the path and above */
#define TXN_EVENT_EXACT	2	/* fire watches on exactly the path */

#define TXN_READ_VALUE	1	/* the transaction saw the node's value */
#define TXN_READ_PERMS	2	/* ... or its permissions */

struct txn_node	*txn_node_get(struct txn *, const char *, int *);
void		 txn_node_read(struct txn_node *, int);
void		 txn_node_view(const struct txn_node *, struct nodeview *);
const char	*txn_node_path(const struct txn_node *);
int		 txn_node_children(struct txn *, struct txn_node *,
		    store_child_cb *, void *);
void		 txn_node_create(struct txn *, struct txn_node *,
		    struct txn_node *, struct perms *, const void *, uint32_t);
void		 txn_node_implicit(struct txn_node *);
void		 txn_node_set_value(struct txn *, struct txn_node *,
		    const void *, uint32_t);
void		 txn_node_set_perms(struct txn *, struct txn_node *,
		    struct perms *);
void		 txn_node_delete(struct txn *, struct txn_node *,
		    struct txn_node *);
void		 txn_event(struct txn *, struct txn_node *, int);
const struct actor *txn_actor(const struct txn *);
bool		 txn_is_implicit(const struct txn *);
uint32_t	 txn_culprit(const struct txn *);
unsigned	 txn_nopen(const struct store *);
void		 txn_log_free(struct store *);
size_t		 txn_log_bytes(const struct store *);

#endif
