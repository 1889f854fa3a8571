/*
 * Requests: argument checks, the store operation, the reply. Checks come
 * in Xen's order: unknown type (ENOSYS), privilege (EACCES), transaction
 * id (ENOENT), then the handler's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>

#include "conn.h"
#include "domain.h"
#include "log.h"
#include "path.h"
#include "store.h"
#include "txn.h"
#include "xmalloc.h"
#include "xsd-private.h"

#define REQ_PRIV	0x1	/* privileged connections only */
#define REQ_NOTID	0x2	/* tx_id is not looked at */

struct req {
	struct conn			*c;
	const struct xsd_sockmsg	*hdr;
	const char			*p;	/* payload, NUL after it */
	uint32_t			 len;
	struct txn			*txn;
};

typedef int req_fn(struct req *);

/* Send "OK". */
static int
req_ack(struct req *r)
{
	conn_send(r->c, r->hdr, r->hdr->type, "OK", 3);
	return (0);
}

/* Send a reply of the request's type. */
static int
req_reply(struct req *r, const void *data, size_t len)
{
	conn_send(r->c, r->hdr, r->hdr->type, data, len);
	return (0);
}

/* How many NUL-terminated strings the payload holds. */
static unsigned
req_count_strings(const struct req *r)
{
	unsigned	n = 0;
	uint32_t	i;

	for (i = 0; i < r->len; i++)
		n += r->p[i] == '\0';
	return (n);
}

/* The single argument: a non-empty payload with one NUL, at its end. */
static const char *
req_onearg(const struct req *r)
{
	if (r->len == 0 || r->p[r->len - 1] != '\0' ||
	    strlen(r->p) + 1 != r->len)
		return (NULL);
	return (r->p);
}

/* Make a request's path absolute and check it. */
static int
req_path(const struct req *r, const char *in, bool special, char **out)
{
	/* The path-max quota is a quota: privileged callers are not held
	 * to it, as in Xen (they keep the protocol's own limit). */
	return (path_canonical(in, r->c->actor.domid,
	    r->c->actor.privileged ? XENSTORE_REL_PATH_MAX :
	    r->c->xsd->cfg.quota.path_len, special, out));
}

/* The one-argument path requests' common start. */
static int
req_onepath(const struct req *r, char **out)
{
	const char	*arg = req_onearg(r);

	*out = NULL;
	if (arg == NULL)
		return (-EINVAL);
	return (req_path(r, arg, false, out));
}

/* XS_READ path: the value. */
static int
req_read(struct req *r)
{
	struct nodeview	 nv;
	char		*path;
	int		 e;

	if ((e = req_onepath(r, &path)) != 0)
		return (e);
	e = store_read(r->c->xsd->store, r->txn, &r->c->actor, path, &nv);
	free(path);
	if (e != 0)
		return (e);
	return (req_reply(r, nv.value, nv.vlen));
}

struct req_names {
	char	*buf;
	size_t	 len;
	size_t	 size;
	size_t	 max;		/* stop past this (0: no limit) */
};

/* Append one child's name and its NUL. */
static int
req_add_name(const char *name, void *arg)
{
	struct req_names	*n = arg;
	size_t			 len = strlen(name) + 1;

	if (n->max != 0 && n->len + len > n->max)
		return (-E2BIG);
	if (n->len + len > n->size) {
		n->size = (n->len + len) * 2;
		n->buf = xrealloc(n->buf, n->size);
	}
	memcpy(n->buf + n->len, name, len);
	n->len += len;
	return (0);
}

/* XS_DIRECTORY path: the children's names, or E2BIG when they do not fit
 * one message (the client then asks with XS_DIRECTORY_PART). */
static int
req_directory(struct req *r)
{
	struct req_names	 names = { NULL, 0, 0, XENSTORE_PAYLOAD_MAX };
	struct nodeview		 nv;
	char			*path;
	int			 e;

	if ((e = req_onepath(r, &path)) != 0)
		return (e);
	e = store_list(r->c->xsd->store, r->txn, &r->c->actor, path, &nv,
	    req_add_name, &names);
	free(path);
	if (e == 0)
		req_reply(r, names.buf, names.len);
	free(names.buf);
	return (e);
}

/*
 * XS_DIRECTORY_PART path offset: the node's generation, then whole names
 * from the byte offset into the list, and an empty string after the
 * last one.
 */
static int
req_directory_part(struct req *r)
{
	struct req_names	 names = { NULL, 0, 0, 0 };
	struct nodeview		 nv;
	char			 out[XENSTORE_PAYLOAD_MAX];
	char			*path;
	const char		*offarg;
	size_t			 off, genlen, maxlen, len = 0, n;
	int			 e;

	if (req_count_strings(r) != 2)
		return (-EINVAL);
	if ((e = req_path(r, r->p, false, &path)) != 0)
		return (e);
	offarg = r->p + strlen(r->p) + 1;
	off = (uint32_t)strtoul(offarg, NULL, 10);
	e = store_list(r->c->xsd->store, r->txn, &r->c->actor, path, &nv,
	    req_add_name, &names);
	free(path);
	if (e != 0) {
		free(names.buf);
		return (e);
	}
	genlen = (size_t)snprintf(out, sizeof out, "%" PRIu64, nv.gen) + 1;
	maxlen = sizeof out - genlen - 1;
	if (off >= names.len) {
		out[genlen] = '\0';
		free(names.buf);
		return (req_reply(r, out, genlen + 1));
	}
	while (off + len < names.len) {
		n = strlen(names.buf + off + len) + 1;
		if (len + n > maxlen)
			break;
		len += n;
	}
	memcpy(out + genlen, names.buf + off, len);
	if (off + len == names.len)
		out[genlen + len++] = '\0';
	free(names.buf);
	return (req_reply(r, out, genlen + len));
}

/* XS_GET_PERMS path: the permission list. */
static int
req_get_perms(struct req *r)
{
	struct nodeview	 nv;
	char		 buf[XENSTORE_PAYLOAD_MAX], *path;
	int		 e;

	if ((e = req_onepath(r, &path)) != 0)
		return (e);
	e = store_read(r->c->xsd->store, r->txn, &r->c->actor, path, &nv);
	free(path);
	if (e != 0)
		return (e);
	return (req_reply(r, buf, perms_format(nv.perms, buf, sizeof buf)));
}

/* XS_WRITE path value: the value is the raw rest of the payload. */
static int
req_write(struct req *r)
{
	const struct xsd_quota	*q = &r->c->xsd->cfg.quota;
	char			*path;
	size_t			 plen;
	int			 e;

	if (req_count_strings(r) < 1)
		return (-EINVAL);
	plen = strlen(r->p) + 1;
	if (!r->c->actor.privileged && r->len - plen > q->node_size)
		return (-ENOSPC);
	if ((e = req_path(r, r->p, false, &path)) != 0)
		return (e);
	e = store_write(r->c->xsd->store, r->txn, &r->c->actor, path,
	    r->p + plen, r->len - (uint32_t)plen);
	free(path);
	return (e != 0 ? e : req_ack(r));
}

/* XS_MKDIR path. */
static int
req_mkdir(struct req *r)
{
	char	*path;
	int	 e;

	if ((e = req_onepath(r, &path)) != 0)
		return (e);
	e = store_mkdir(r->c->xsd->store, r->txn, &r->c->actor, path);
	free(path);
	return (e != 0 ? e : req_ack(r));
}

/* XS_RM path. */
static int
req_rm(struct req *r)
{
	char	*path;
	int	 e;

	if ((e = req_onepath(r, &path)) != 0)
		return (e);
	e = store_rm(r->c->xsd->store, r->txn, &r->c->actor, path);
	free(path);
	return (e != 0 ? e : req_ack(r));
}

/* XS_SET_PERMS path perm...: at least one entry. */
static int
req_set_perms(struct req *r)
{
	const struct xsd_quota	*q = &r->c->xsd->cfg.quota;
	struct perms		*perms, **special;
	unsigned		 n = req_count_strings(r);
	size_t			 plen;
	char			*path;
	int			 e;

	if (n < 2)
		return (-EINVAL);
	n--;
	if (!r->c->actor.privileged && n > q->perms)
		return (-ENOSPC);
	plen = strlen(r->p) + 1;
	if (perms_parse(r->p + plen, r->len - plen, n, &perms) != 0)
		return (-EINVAL);
	if (!domain_exists(r->c->xsd, perms->p[0].domid)) {
		perms_unref(perms);
		return (-ENOENT);
	}
	if (path_is_special(r->p)) {
		/* Who may hear of domains coming and going. */
		if ((special = domain_special_perms(r->c->xsd, r->p)) ==
		    NULL)
			e = -EINVAL;
		else if (!r->c->actor.privileged)
			e = -EACCES;
		else {
			perms_unref(*special);
			*special = perms_ref(perms);
			persist_special(r->c->xsd, r->p);
			e = 0;
		}
		perms_unref(perms);
		return (e != 0 ? e : req_ack(r));
	}
	if ((e = req_path(r, r->p, false, &path)) == 0) {
		e = store_set_perms(r->c->xsd->store, r->txn, &r->c->actor,
		    path, perms);
		free(path);
	}
	perms_unref(perms);
	return (e != 0 ? e : req_ack(r));
}

/*
 * XS_WATCH path token [depth]: acknowledged, then fired once at once.
 * A depth limits the levels below path that fire it; on a special name
 * only 1 is allowed, and reports the domain ("@releaseDomain/<domid>").
 */
static int
req_watch(struct req *r)
{
	const char	*token, *darg;
	char		*end;
	long		 depth = -1;
	unsigned	 n = req_count_strings(r);

	if ((n != 2 && n != 3) || r->p[r->len - 1] != '\0')
		return (-EINVAL);
	token = r->p + strlen(r->p) + 1;
	if (n == 3) {
		darg = token + strlen(token) + 1;
		depth = strtol(darg, &end, 10);
		if (*darg == '\0' || *end != '\0' || depth < 0 ||
		    depth > XENSTORE_ABS_PATH_MAX ||
		    (path_is_special(r->p) && depth != 1))
			return (-EINVAL);
	}
	return (conn_watch(r->c, r->hdr, r->p, token, (int)depth));
}

/*
 * Add a watch as a client asked (path as given: relative to its home or
 * absolute; depth -1 for any), acknowledge the request hdr if given,
 * then fire the watch once at once, as Xen does. This also restores a
 * ring's watches after a restart (hdr NULL), where that first event is
 * what tells the guest to look again.
 */
int
conn_watch(struct conn *c, const struct xsd_sockmsg *hdr, const char *given,
    const char *token, int depth)
{
	struct watch	*w;
	char		*path, *ev;
	size_t		 plen, tlen;
	int		 e;

	if ((e = path_canonical(given, c->actor.domid,
	    c->actor.privileged ? XENSTORE_REL_PATH_MAX :
	    c->xsd->cfg.quota.path_len, true, &path)) != 0)
		return (e);
	if (!c->actor.privileged && c->nwatches >= c->xsd->cfg.quota.watches) {
		free(path);
		return (-E2BIG);
	}
	e = watch_add(c->xsd->store->watches, path, token, c,
	    given[0] != '/' && given[0] != '@', &w);
	free(path);
	if (e != 0)
		return (e);
	w->depth = depth;
	TAILQ_INSERT_TAIL(&c->watches, w, owner_entry);
	c->nwatches++;
	persist_watch(c, w, true);
	if (hdr != NULL)
		conn_send(c, hdr, hdr->type, "OK", 3);
	plen = strlen(given) + 1;
	tlen = strlen(token) + 1;
	ev = xmalloc(plen + tlen);
	memcpy(ev, given, plen);
	memcpy(ev + plen, token, tlen);
	conn_send(c, NULL, XS_WATCH_EVENT, ev, plen + tlen);
	free(ev);
	return (0);
}

/* XS_UNWATCH path token. */
static int
req_unwatch(struct req *r)
{
	struct conn	*c = r->c;
	struct watch	*w;
	char		*path;

	if (req_count_strings(r) != 2)
		return (-EINVAL);
	if (req_path(r, r->p, true, &path) != 0)
		return (-ENOENT);
	w = watch_find(c->xsd->store->watches, path, r->p + strlen(r->p) + 1,
	    c);
	free(path);
	if (w == NULL)
		return (-ENOENT);
	persist_watch(c, w, false);
	TAILQ_REMOVE(&c->watches, w, owner_entry);
	c->nwatches--;
	watch_remove_one(c->xsd->store->watches, w);
	return (req_ack(r));
}

/* XS_TRANSACTION_START: a new id of this run's epoch (conn.h), never 0,
 * not one in use. */
static int
req_transaction_start(struct req *r)
{
	struct conn	*c = r->c;
	struct conn_txn	*ct;
	char		 buf[16];
	uint32_t	 id;

	if (r->txn != NULL)
		return (-EBUSY);
	if ((!c->actor.privileged &&
	    c->ntxns >= c->xsd->cfg.quota.transactions) ||
	    c->ntxns >= CONN_TXN_SEQ_MASK)
		return (-ENOSPC);
	do {
		id = ++c->next_txn_id;
		if ((id & CONN_TXN_SEQ_MASK) == 0)	/* wraps in the epoch */
			id = c->next_txn_id = c->txn_id_base + 1;
	} while (conn_txn_find(c, id) != NULL);
	ct = xcalloc(1, sizeof *ct);
	ct->id = id;
	ct->txn = txn_create(c->xsd->store, id, &c->actor);
	LIST_INSERT_HEAD(&c->txns, ct, entry);
	c->ntxns++;
	return (req_reply(r, buf, (size_t)snprintf(buf, sizeof buf, "%u",
	    id) + 1));
}

/* XS_TRANSACTION_END T|F: commit or abort; the id is gone either way. */
static int
req_transaction_end(struct req *r)
{
	const char	*arg = req_onearg(r);
	bool		 commit;
	int		 e;

	if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return (-EINVAL);
	if (r->txn == NULL)
		return (-ENOENT);
	commit = arg[0] == 'T';
	e = txn_end(r->txn, commit);
	if (e == -EAGAIN && txn_culprit(r->txn) != r->c->actor.domid)
		domain_charge(r->c->xsd, txn_culprit(r->txn),
		    r->c->xsd->cfg.quota.conflict_cost);
	conn_txn_remove(r->c, r->hdr->tx_id);
	r->txn = NULL;
	return (e != 0 ? e : req_ack(r));
}

/* Parse a domid as Xen does (atoi: no validation). */
static unsigned
req_domid(const char *s)
{
	return ((unsigned)strtol(s, NULL, 10));
}

/* XS_GET_DOMAIN_PATH domid. */
static int
req_get_domain_path(struct req *r)
{
	const char	*arg = req_onearg(r);
	char		 buf[64];

	if (arg == NULL)
		return (-EINVAL);
	return (req_reply(r, buf, (size_t)snprintf(buf, sizeof buf, "%s%u",
	    PATH_DOMAIN_PREFIX, req_domid(arg)) + 1));
}

/* XS_IS_DOMAIN_INTRODUCED domid: dom0, DOMID_SELF, or a served guest. */
static int
req_is_domain_introduced(struct req *r)
{
	const char	*arg = req_onearg(r);
	unsigned	 domid;

	if (arg == NULL)
		return (-EINVAL);
	domid = req_domid(arg);
	return (req_reply(r, domid == DOMID_SELF ||
	    domain_is_introduced(r->c->xsd, domid) ? "T" : "F", 2));
}

/* XS_INTRODUCE domid gfn port: start serving a guest (domain.c). */
static int
req_introduce(struct req *r)
{
	const char	*gfn, *port;
	int		 e;

	if (req_count_strings(r) < 3)
		return (-EINVAL);
	gfn = r->p + strlen(r->p) + 1;
	port = gfn + strlen(gfn) + 1;
	if (req_domid(port) == 0 || (int)req_domid(port) < 0)
		return (-EINVAL);
	if ((e = domain_introduce(r->c->xsd, req_domid(r->p),
	    strtoull(gfn, NULL, 10), req_domid(port))) != 0)
		return (e);
	return (req_ack(r));
}

/* XS_RELEASE domid: forget a guest, as if it had died. */
static int
req_release(struct req *r)
{
	const char	*arg = req_onearg(r);
	int		 e;

	if (arg == NULL || req_domid(arg) == 0)
		return (-EINVAL);
	if ((e = domain_release(r->c->xsd, req_domid(arg))) != 0)
		return (e);
	return (req_ack(r));
}

/* XS_RESUME domid: a guest runs again after a shutdown. */
static int
req_resume(struct req *r)
{
	const char	*arg = req_onearg(r);
	int		 e;

	if (arg == NULL || req_domid(arg) == 0)
		return (-EINVAL);
	if ((e = domain_resume(r->c->xsd, req_domid(arg))) != 0)
		return (e);
	return (req_ack(r));
}

/* XS_SET_TARGET domid target: both must be introduced. */
static int
req_set_target(struct req *r)
{
	const char	*target;
	int		 e;

	if (req_count_strings(r) < 2)
		return (-EINVAL);
	target = r->p + strlen(r->p) + 1;
	if ((e = domain_set_target(r->c->xsd, req_domid(r->p),
	    req_domid(target))) != 0)
		return (e);
	return (req_ack(r));
}

/* XS_RESET_WATCHES: drop the connection's watches and transactions. */
static int
req_reset_watches(struct req *r)
{
	conn_reset_watches(r->c);
	conn_reset_txns(r->c);
	r->txn = NULL;
	return (req_ack(r));
}

/* XS_CONTROL cmd arg...: the daemon's own commands. */
static int
req_control(struct req *r)
{
	char	*out = NULL;
	size_t	 len = 0;
	int	 e;

	e = control_process(r->c, r->p, r->len, &out, &len);
	if (e == 0)
		req_reply(r, out, len);
	free(out);
	return (e);
}

static const struct {
	req_fn		*fn;
	unsigned	 flags;
	const char	*name;
} req_table[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { req_control, REQ_PRIV, "CONTROL" },
	[XS_DIRECTORY] = { req_directory, 0, "DIRECTORY" },
	[XS_READ] = { req_read, 0, "READ" },
	[XS_GET_PERMS] = { req_get_perms, 0, "GET_PERMS" },
	[XS_WATCH] = { req_watch, REQ_NOTID, "WATCH" },
	[XS_UNWATCH] = { req_unwatch, REQ_NOTID, "UNWATCH" },
	[XS_TRANSACTION_START] = { req_transaction_start, 0,
	    "TRANSACTION_START" },
	[XS_TRANSACTION_END] = { req_transaction_end, 0, "TRANSACTION_END" },
	[XS_INTRODUCE] = { req_introduce, REQ_PRIV, "INTRODUCE" },
	[XS_RELEASE] = { req_release, REQ_PRIV, "RELEASE" },
	[XS_GET_DOMAIN_PATH] = { req_get_domain_path, 0, "GET_DOMAIN_PATH" },
	[XS_WRITE] = { req_write, 0, "WRITE" },
	[XS_MKDIR] = { req_mkdir, 0, "MKDIR" },
	[XS_RM] = { req_rm, 0, "RM" },
	[XS_SET_PERMS] = { req_set_perms, 0, "SET_PERMS" },
	[XS_IS_DOMAIN_INTRODUCED] = { req_is_domain_introduced, REQ_PRIV,
	    "IS_DOMAIN_INTRODUCED" },
	[XS_RESUME] = { req_resume, REQ_PRIV, "RESUME" },
	[XS_SET_TARGET] = { req_set_target, REQ_PRIV, "SET_TARGET" },
	[XS_RESET_WATCHES] = { req_reset_watches, 0, "RESET_WATCHES" },
	[XS_DIRECTORY_PART] = { req_directory_part, 0, "DIRECTORY_PART" },
};

/*
 * Charge an unprivileged guest for a write outside a transaction, or a
 * commit, while other transactions are open (as Xen's write rate limit:
 * a guest's write flood must not starve the toolstack's transactions).
 * Writes inside a transaction count at its commit. domain.c makes the
 * guest's next writes wait while it is in debt.
 */
static void
req_charge(struct req *r)
{
	const struct xsd_sockmsg	*hdr = r->hdr;

	if (r->c->actor.privileged || txn_nopen(r->c->xsd->store) == 0)
		return;
	switch (hdr->type) {
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
		if (hdr->tx_id != 0)
			return;
		break;
	case XS_TRANSACTION_END:
		if (r->len == 0 || r->p[0] != 'T')
			return;
		break;
	default:
		return;
	}
	domain_charge(r->c->xsd, r->c->actor.domid, 1);
}

/* Process one request and queue its reply. */
void
req_process(struct conn *c, const struct xsd_sockmsg *hdr,
    const char *payload)
{
	struct req	 r = { c, hdr, payload, hdr->len, NULL };
	int		 e;

	/* Types Xen knows but this engine does not serve yet still get
	 * Xen's privilege and transaction checks before ENOSYS. */
	if (hdr->type >= XS_TYPE_COUNT || req_table[hdr->type].name == NULL) {
		log_debug("conn %u: type %u: ENOSYS", c->id, hdr->type);
		conn_send_error(c, hdr, ENOSYS);
		return;
	}
	if ((req_table[hdr->type].flags & REQ_PRIV) && !c->actor.privileged) {
		conn_send_error(c, hdr, EACCES);
		return;
	}
	if (!(req_table[hdr->type].flags & REQ_NOTID) && hdr->tx_id != 0) {
		r.txn = conn_txn_find(c, hdr->tx_id);
		if (r.txn == NULL) {
			/* One the guest started before a restart: gone, and
			 * EAGAIN says to run it again. */
			conn_send_error(c, hdr, conn_txn_lost(c, hdr->tx_id) ?
			    EAGAIN : ENOENT);
			return;
		}
	}
	if (r.txn != NULL && !c->actor.privileged &&
	    hdr->type != XS_TRANSACTION_END &&
	    txn_nnodes(r.txn) >= c->xsd->cfg.quota.txn_nodes) {
		/* The transaction touched as many nodes as it may. */
		conn_send_error(c, hdr, ENOSPC);
		return;
	}
	c->xsd->origin = c->ring ? c->actor.domid : XSD_ORIGIN_SOCKET | c->id;
	if (req_table[hdr->type].fn == NULL)
		e = -ENOSYS;
	else
		e = req_table[hdr->type].fn(&r);
	req_charge(&r);
	c->xsd->origin = 0;
	if (e != 0)
		conn_send_error(c, hdr, -e);
	log_debug("conn %u: %s tx %u: %s", c->id, req_table[hdr->type].name,
	    hdr->tx_id, e != 0 ? strerror(-e) : "ok");
}
