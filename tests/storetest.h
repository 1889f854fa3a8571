/* Store helpers the store's unit tests share (check_store, check_txn,
 * check_config): a store with a watch registry that delivers nowhere,
 * and short forms of its operations. value_is, missing and children_are
 * look as dom0 and fail the test on a mismatch. */
#ifndef XSC_STORETEST_H
#define XSC_STORETEST_H

#include <stddef.h>

#include "store.h"

struct store	*mkstore(void);
void		 freestore(struct store *);
int		 rd(struct store *, struct txn *, const struct actor *,
		    const char *, char *, size_t);
int		 ls(struct store *, struct txn *, const struct actor *,
		    const char *, char *);
int		 wr(struct store *, struct txn *, const struct actor *,
		    const char *, const char *);
int		 sp(struct store *, struct txn *, const struct actor *,
		    const char *, const char *);
void		 value_is(struct store *, struct txn *, const char *,
		    const char *);
void		 missing(struct store *, struct txn *, const char *);
void		 children_are(struct store *, struct txn *, const char *,
		    const char *);

#endif
