/* A client of the store: a Unix socket now, a guest's ring later. Both
 * feed complete messages from an evbuffer to the same request code. */
#ifndef XSD_CONN_H
#define XSD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "perms.h"
#include "watch.h"

struct evbuffer;
struct txn;
struct xsd;
struct conn;

struct conn_ops {
	const char	*kind;
	void		(*write)(struct conn *, const void *, size_t);
	size_t		(*queued)(struct conn *);
	void		(*free)(struct conn *);
	/* Optional. May another request be taken now? (Default: while
	 * queued output is under out_high.) */
	bool		(*may_take)(struct conn *);
	/* Optional. Output is over the limit for watch events: deal with
	 * it (default: close the connection); the event is not sent. */
	bool		(*overflow)(struct conn *);
};

/*
 * Transaction ids: the daemon run's epoch (kept in the database, one more
 * at each start: xsd_restore_txn_epoch) in the high 12 bits, a count in
 * the low 20 that wraps within it. An id a guest got before a restart is
 * never given to it again after (docs/store.md, "Restart").
 */
#define CONN_TXN_SEQ_BITS	20
#define CONN_TXN_SEQ_MASK	((1u << CONN_TXN_SEQ_BITS) - 1)
#define CONN_TXN_EPOCH_MASK	(UINT32_MAX >> CONN_TXN_SEQ_BITS)

struct conn_txn {
	LIST_ENTRY(conn_txn)	 entry;
	struct txn		*txn;
	uint32_t		 id;
};

struct conn {
	struct xsd		*xsd;
	const struct conn_ops	*ops;
	void			*ops_arg;
	TAILQ_ENTRY(conn)	 entry;
	unsigned		 id;		/* for logs */
	struct actor		 actor;
	char			*home;		/* /local/domain/<domid> */
	LIST_HEAD(, conn_txn)	 txns;
	unsigned		 ntxns;
	uint32_t		 next_txn_id;
	struct watch_list	 watches;
	unsigned		 nwatches;
	bool			 closing;	/* freed from the loop soon */
	bool			 ring;		/* a guest's ring (else a
						   socket) */
	bool			 restored;	/* served again after a restart:
						   transaction ids of another
						   epoch get EAGAIN */
	uint32_t		 txn_id_base;	/* this run's epoch, as an id */
	uint64_t		 requests;
};

struct conn	*conn_create(struct xsd *, const struct conn_ops *, void *,
		    unsigned, bool);
void		 conn_free(struct conn *);
void		 conn_close(struct conn *, const char *);
int		 conn_feed(struct conn *, struct evbuffer *);
void		 conn_send(struct conn *, const struct xsd_sockmsg *,
		    uint32_t, const void *, size_t);
void		 conn_send_error(struct conn *, const struct xsd_sockmsg *, int);
void		 conn_deliver(void *, const struct watch *, const char *,
		    struct perms *, struct perms *, void *);
struct txn	*conn_txn_find(struct conn *, uint32_t);
bool		 conn_txn_lost(const struct conn *, uint32_t);
void		 conn_txn_remove(struct conn *, uint32_t);
void		 conn_reset_watches(struct conn *);
void		 conn_reset_txns(struct conn *);

void		 req_process(struct conn *, const struct xsd_sockmsg *,
		    const char *);
int		 conn_watch(struct conn *, const struct xsd_sockmsg *,
		    const char *, const char *, int);
int		 control_process(struct conn *, const char *, size_t,
		    char **, size_t *);

#endif
