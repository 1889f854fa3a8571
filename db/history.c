/*
 * The store, durable and versioned: the daemon's commits, permission
 * edits, domains, watches and meta records go through the writer's
 * queue like console bytes (the callers only copy), and the writer
 * thread applies them, in queue order, in its next transaction: to the
 * durable tree (table node), to the history (hcommit, hchange), and to
 * the domain, watch and meta tables. Every snapshot_interval_s of the
 * writer's clock it also stores a compressed copy of the whole tree
 * (table snapshot), so that db_tree_at can go back beyond thinned rows.
 * db_store_load reads it all back at a restart. Thinning and the byte
 * budget are in hthin.c, the history's readers in hreader.c; the schema
 * and the rules are in docs/console-db.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmap.h"
#include "hstore.h"
#include "log.h"
#include "snapshot.h"
#include "writer.h"
#include "xmalloc.h"


static int	 history_forget_flush(struct db_writer *);

/* Round up to the queue's alignment. */
static size_t
history_pad(size_t n)
{
	return ((n + 7) & ~(size_t)7);
}

/*
 * A commit, handed over on the caller's thread: its changes are copied
 * into the writer's queue in one piece (no allocation but a new queue
 * block now and then) and applied by the writer thread.
 */
void
db_commit(struct db *db, uint64_t gen, uint64_t time_ns, uint32_t origin,
    bool in_txn, const struct db_change *ch, size_t n)
{
	struct db_writer	*w = db->w;
	struct hrec_change	 h;
	struct wrec		 r;
	unsigned char		*p;
	const char		*perms;
	uint64_t		 count = n;
	size_t			 size = sizeof count, i;

	if (w == NULL)
		return;
	for (i = 0; i < n; i++) {
		perms = ch[i].perms != NULL ? ch[i].perms : "";
		size += sizeof h + strlen(ch[i].path) + 1 + strlen(perms) + 1;
		if (!ch[i].deleted)
			size += ch[i].vlen;
	}
	memset(&r, 0, sizeof r);
	r.type = WREC_COMMIT;
	r.gen = gen;
	r.ns = time_ns;
	r.pad = origin;
	r.inc = in_txn;
	r.len = size;
	pthread_mutex_lock(&w->lock);
	p = writer_queue_rec(w, &r, size);
	memcpy(p, &count, sizeof count);
	p += sizeof count;
	for (i = 0; i < n; i++) {
		perms = ch[i].perms != NULL ? ch[i].perms : "";
		h.flags = (ch[i].deleted ? HREC_DELETED : 0) |
		    (ch[i].created && !ch[i].deleted ? HREC_CREATED : 0);
		h.pathlen = (uint32_t)strlen(ch[i].path) + 1;
		h.vlen = ch[i].deleted ? 0 : ch[i].vlen;
		h.permslen = (uint32_t)strlen(perms) + 1;
		memcpy(p, &h, sizeof h);
		p += sizeof h;
		memcpy(p, ch[i].path, h.pathlen);
		p += h.pathlen;
		if (h.vlen > 0)
			memcpy(p, ch[i].value, h.vlen);
		p += h.vlen;
		memcpy(p, perms, h.permslen);
		p += h.permslen;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Queue a store record with its bytes. */
static void
history_queue(struct db *db, uint32_t type, uint64_t gen, int64_t inc,
    const void *a, size_t alen, const char *s1, const char *s2)
{
	struct db_writer	*w = db->w;
	struct wrec		 r;
	unsigned char		*p;
	size_t			 l1 = s1 != NULL ? strlen(s1) + 1 : 0;
	size_t			 l2 = s2 != NULL ? strlen(s2) + 1 : 0;

	if (w == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.type = type;
	r.gen = gen;
	r.inc = inc;
	r.len = alen + l1 + l2;
	pthread_mutex_lock(&w->lock);
	p = writer_queue_rec(w, &r, r.len);
	if (alen > 0)
		memcpy(p, a, alen);
	if (l1 > 0)
		memcpy(p + alen, s1, l1);
	if (l2 > 0)
		memcpy(p + alen + l1, s2, l2);
	pthread_mutex_unlock(&w->lock);
}

/* A domain is gone: its entries leave every permission list in the
 * durable tree, as the store did in place (no commit). */
void
db_perms_forget(struct db *db, uint64_t gen, uint32_t domid)
{
	if (domid != 0)
		history_queue(db, WREC_FORGET, gen, domid, NULL, 0, NULL, NULL);
}

/* A domain the store serves on a ring (replaces one of that domid). */
void
db_domain_put(struct db *db, const struct db_domain *d)
{
	history_queue(db, WREC_DOMAIN_PUT, 0, d->domid, d, sizeof *d, NULL,
	    NULL);
}

/* A domain is no longer served: it goes, with its watches. */
void
db_domain_del(struct db *db, uint32_t domid)
{
	history_queue(db, WREC_DOMAIN_DEL, 0, domid, NULL, 0, NULL, NULL);
}

/* A ring connection's watch, kept or forgotten. */
static void
history_watch(struct db *db, uint32_t type, const struct db_watch *wa)
{
	struct hrec_watch	h;

	memset(&h, 0, sizeof h);
	h.depth = wa->depth;
	h.pathlen = (uint32_t)strlen(wa->path) + 1;
	h.tokenlen = (uint32_t)strlen(wa->token) + 1;
	history_queue(db, type, 0, wa->domid, &h, sizeof h, wa->path,
	    wa->token);
}

/* A watch to restore with its domain. */
void
db_watch_put(struct db *db, const struct db_watch *wa)
{
	history_watch(db, WREC_WATCH_PUT, wa);
}

/* A watch removed. */
void
db_watch_del(struct db *db, const struct db_watch *wa)
{
	history_watch(db, WREC_WATCH_DEL, wa);
}

/* A meta record (value NULL: remove it). */
void
db_meta_put(struct db *db, const char *key, const char *value)
{
	struct hrec_meta	h;

	h.keylen = (uint32_t)strlen(key) + 1;
	h.vlen = value != NULL ? (uint32_t)strlen(value) + 1 : 0;
	history_queue(db, WREC_META_PUT, 0, 0, &h, sizeof h, key, value);
}

/*
 * Whether the durable store has fallen behind and can be written again:
 * the writer gave up store records (commits failed beyond
 * store_backlog_max) and has committed since. The caller should then
 * write the whole store again (db_store_resync).
 */
bool
db_store_behind(struct db *db)
{
	struct db_writer	*w = db->w;
	bool			 behind;

	if (w == NULL)
		return (false);
	pthread_mutex_lock(&w->lock);
	behind = w->want_resync && !w->resync_queued;
	pthread_mutex_unlock(&w->lock);
	return (behind);
}

/*
 * The whole store follows, as of generation gen: every node as commits
 * of that generation (db_commit, parents first, each change "created"),
 * every domain, watch and meta record, then db_store_resync_end. The
 * writer replaces the durable tree, domains and watches with them in one
 * transaction; the history has none of it (it lacks the commits given
 * up) but a snapshot at gen.
 */
void
db_store_resync(struct db *db, uint64_t gen)
{
	struct db_writer	*w = db->w;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->resync_queued = 1;
	w->want_resync = 0;
	pthread_mutex_unlock(&w->lock);
	history_queue(db, WREC_RESYNC, gen, 0, NULL, 0, NULL, NULL);
}

/* The end of what db_store_resync began. */
void
db_store_resync_end(struct db *db)
{
	history_queue(db, WREC_RESYNC_END, 0, 0, NULL, 0, NULL, NULL);
}

/* Take a store record from the queue (writer thread): copied, for the
 * next transaction. */
void
history_take(struct db_writer *w, const struct wrec *r,
    const unsigned char *bytes, uint64_t start)
{
	struct hqueue	*hq = &w->hq;
	size_t		 need = sizeof *r + history_pad(r->len);

	if (r->type == WREC_COMMIT && r->ns > w->clock_ns)
		w->clock_ns = r->ns;
	if (r->type == WREC_COMMIT && r->gen > w->taken_gen)
		w->taken_gen = r->gen;
	if (r->type == WREC_RESYNC)
		w->resync_open = 1;
	else if (r->type == WREC_RESYNC_END)
		w->resync_open = 0;
	if (hq->len + need > hq->cap) {
		while (hq->len + need > hq->cap)
			hq->cap = hq->cap == 0 ? 65536 : hq->cap * 2;
		hq->buf = xrealloc(hq->buf, hq->cap);
	}
	if (hq->len == 0 || start < hq->start)
		hq->start = start;
	memcpy(hq->buf + hq->len, r, sizeof *r);
	memcpy(hq->buf + hq->len + sizeof *r, bytes, history_pad(r->len));
	hq->len += need;
}

/* Bind a value: a zero-length value is a zero-length blob, not NULL. */
static void
history_bind_value(sqlite3_stmt *st, int col, const void *v, uint32_t len)
{
	if (len == 0)
		sqlite3_bind_zeroblob(st, col, 0);
	else
		sqlite3_bind_blob(st, col, v, (int)len, SQLITE_STATIC);
}

/* Parse one perms entry at *p ("r5"): its domid; *p moves past it and
 * its comma. -1 at the end. */
static int64_t
history_perm_next(const char **p, const char **start, const char **end)
{
	const char	*s = *p;
	uint64_t	 id = 0;

	if (*s == '\0')
		return (-1);
	*start = s;
	if (*s != '\0')
		s++;			/* the letter */
	while (*s >= '0' && *s <= '9') {
		if (id <= UINT32_MAX)
			id = id * 10 + (uint64_t)(*s - '0');
		s++;
	}
	while (*s != '\0' && *s != ',')	/* tolerate junk: skip it */
		s++;
	*end = s;
	if (*s == ',')
		s++;
	*p = s;
	return ((int64_t)id);
}

/* Whether domid is among the domids to forget. */
static bool
history_forgotten(const struct db_writer *w, int64_t domid)
{
	size_t	i;

	for (i = 0; i < w->nforget; i++) {
		if (w->forget[i] == domid)
			return (true);
	}
	return (false);
}

/* Whether a perms text names a domid to forget. */
static bool
history_perms_names(const struct db_writer *w, const char *perms)
{
	const char	*s, *e;
	int64_t		 id;

	while ((id = history_perm_next(&perms, &s, &e)) >= 0) {
		if (history_forgotten(w, id))
			return (true);
	}
	return (false);
}

/* SQL xsc_perms_names(perms): does it name a domid to forget? */
static void
history_sql_names(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct db_writer	*w = sqlite3_user_data(ctx);
	const char		*perms;

	(void)argc;
	perms = (const char *)sqlite3_value_text(argv[0]);
	sqlite3_result_int(ctx, perms != NULL &&
	    history_perms_names(w, perms));
}

/* SQL xsc_perms_forget(perms): the list without the forgotten domids'
 * entries, an owner among them replaced by 0 (as xsd's perms_forget). */
static void
history_sql_forget(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct db_writer	*w = sqlite3_user_data(ctx);
	const char		*perms, *p, *s, *e;
	char			*out;
	size_t			 len = 0;
	int64_t			 id;
	int			 first = 1;

	(void)argc;
	if ((perms = (const char *)sqlite3_value_text(argv[0])) == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	out = xmalloc(strlen(perms) + 3);
	for (p = perms; (id = history_perm_next(&p, &s, &e)) >= 0; first = 0) {
		if (!first && history_forgotten(w, id))
			continue;
		if (len > 0)
			out[len++] = ',';
		if (first && history_forgotten(w, id)) {
			out[len++] = *s;
			out[len++] = '0';
			continue;
		}
		memcpy(out + len, s, (size_t)(e - s));
		len += (size_t)(e - s);
	}
	sqlite3_result_text(ctx, out, (int)len, free);
}

static int	history_pend_flush(struct db_writer *);
static void	history_pend_free(struct db_writer *);

/* Apply the pending permission edits to the durable tree: one scan for
 * all the domids forgotten since the last. */
static int
history_forget_flush(struct db_writer *w)
{
	int	error;

	if (w->nforget == 0)
		return (0);
	/* The updates before the forget first (those after it that name
	 * the domid made it flush before them). */
	if ((error = history_pend_flush(w)) != 0)
		return (error);
	if (db_stmt(w->db, ST_NODE_FORGET) == NULL)
		return (-EIO);
	error = db_step_done(w->db, ST_NODE_FORGET);
	log_debug("%s: forgot %zu domains' permissions (%d nodes)",
	    w->db->path, w->nforget, sqlite3_changes(w->db->sql));
	w->nforget = 0;
	return (error);
}

/* Note a domid to forget (applied by history_forget_flush). */
static void
history_forget_add(struct db_writer *w, uint32_t domid)
{
	if (history_forgotten(w, domid))
		return;
	if (w->nforget == w->capforget) {
		w->capforget = w->capforget == 0 ? 16 : w->capforget * 2;
		w->forget = xrealloc(w->forget, w->capforget *
		    sizeof *w->forget);
	}
	w->forget[w->nforget++] = domid;
}

/*
 * Updates of existing nodes are applied to the durable tree once per
 * path per flush, the last one winning, and flushed about once a second
 * (before thinning, the budget or a snapshot, which need the tree or the
 * history up to date), when HIST_PEND_MAX paths wait, before a domain's
 * permissions are forgotten, and when everything is flushed (db_flush,
 * db_close). A store rewriting the same keys (device states, counters,
 * memory targets) costs one row update per key per second, not one per
 * commit. hstate.node_gen says up to where the tree has every update;
 * the history has the rest, and db_store_load replays it. Creations and
 * deletions are applied at once (they set the order of the nodes).
 */
#define HPEND_PERMS	24		/* perms kept in the entry */
struct hpend {
	char			*key;		/* the path */
	void			*value;
	char			*perms;		/* perms_in, or allocated */
	uint64_t		 gen;
	size_t			 at;		/* in w->pendv */
	uint64_t		 epoch;		/* the sink's batch it is
						   listed in, + 1 */
	uint32_t		 vlen, vcap;
	bool			 written;	/* in the open transaction */
	/* Short perms and the path in the entry: what a lookup and a
	 * rewrite read is in the lines hmap_prefetch_entry asks for. */
	char			 perms_in[HPEND_PERMS];
	char			 path[];	/* key points here */
};

static int	history_node_insert(struct db_writer *, uint64_t, uint32_t,
		    const char *, const void *, const char *);
static int	history_snapshot(struct db_writer *);

/* Free a pending update. */
static void
history_pend_free1(struct hpend *pe)
{
	free(pe->value);
	if (pe->perms != pe->perms_in)
		free(pe->perms);
	free(pe);
}

/* The path of the next change in hq after the lookahead's cursor, or
 * NULL at hq's end. */
static const char *
history_ahead_change(struct db_writer *w)
{
	struct hahead		*a = &w->ahead;
	struct hrec_change	 h;
	struct wrec		 r;
	const char		*path;

	while (a->left == 0) {
		if (a->at >= w->hq.len)
			return (NULL);
		memcpy(&r, w->hq.buf + a->at, sizeof r);
		a->at += sizeof r;
		if (r.type == WREC_COMMIT) {
			memcpy(&a->left, w->hq.buf + a->at, sizeof a->left);
			a->p = w->hq.buf + a->at + sizeof a->left;
		}
		a->at += history_pad(r.len);
	}
	memcpy(&h, a->p, sizeof h);
	path = (const char *)a->p + sizeof h;
	a->p += sizeof h + h.pathlen + h.vlen + h.permslen;
	a->left--;
	return (path);
}

/* Look one more change ahead: ask for its path's slot in w->pend, and
 * for the entry of the change that asked HIST_AHEAD changes ago. False
 * at hq's end. */
static bool
history_ahead_push(struct db_writer *w)
{
	struct hahead	*a = &w->ahead;
	const char	*path;
	unsigned	 i;

	if ((path = history_ahead_change(w)) == NULL)
		return (false);
	i = (a->head + a->n++) % (2 * HIST_AHEAD);
	a->path[i] = path;
	a->hash[i] = hmap_hash(path);
	if (w->pend == NULL)
		return (true);
	hmap_prefetch_slot(w->pend, a->hash[i]);
	if (a->n > HIST_AHEAD)
		hmap_prefetch_entry(w->pend, a->hash[(a->head + a->n - 1 -
		    HIST_AHEAD) % (2 * HIST_AHEAD)]);
	return (true);
}

/* Start looking ahead from hq's first record (the ring full, also
 * within one commit of many changes). */
static void
history_ahead_start(struct db_writer *w)
{
	struct hahead	*a = &w->ahead;

	memset(a, 0, sizeof *a);
	while (a->n < 2 * HIST_AHEAD && history_ahead_push(w))
		continue;
}

/* The hmap_hash of path, a change's in hq: the lookahead's, if it has
 * it (changes it passed that were not looked up, a batch given up, go). */
static uint32_t
history_ahead_hash(struct db_writer *w, const char *path)
{
	struct hahead	*a = &w->ahead;
	uint32_t	 h;
	bool		 found;

	while (a->n > 0 && (uintptr_t)a->path[a->head] <= (uintptr_t)path) {
		found = a->path[a->head] == path;
		h = a->hash[a->head];
		a->head = (a->head + 1) % (2 * HIST_AHEAD);
		a->n--;
		(void)history_ahead_push(w);
		if (found)
			return (h);
	}
	return (hmap_hash(path));
}

/*
 * Note an update of path, replacing one noted earlier. *listed (if not
 * NULL): whether the path is in the batch's list of paths already (an
 * update noted in this batch put it there), for hsink_change.
 */
static void
history_pend_add(struct db_writer *w, uint64_t gen,
    const struct hrec_change *h, const char *path, const void *value,
    const char *perms, int *listed)
{
	struct hpend	*pe;

	if (w->pend == NULL)
		w->pend = hmap_create();
	if ((pe = hmap_find_hashed(w->pend, path, history_ahead_hash(w,
	    path))) == NULL) {
		/* The path in the same allocation: a lookup's strcmp finds
		 * it next to the entry. */
		pe = xcalloc(1, sizeof *pe + strlen(path) + 1);
		pe->key = strcpy(pe->path, path);
		hmap_insert(w->pend, pe);
		if (w->npend == w->cappend) {
			w->cappend = w->cappend == 0 ? 256 : 2 * w->cappend;
			w->pendv = xrealloc(w->pendv, w->cappend *
			    sizeof *w->pendv);
		}
		pe->at = w->npend;
		w->pendv[w->npend++] = pe;
		if (w->npending++ == 0)
			w->pend_due = writer_now() + HIST_PEND_NS;
	} else if (pe->written && w->npending++ == 0)
		w->pend_due = writer_now() + HIST_PEND_NS;
	/* The buffers are reused: a key rewritten keeps its size. */
	if (pe->value == NULL || pe->vcap < h->vlen) {
		free(pe->value);
		pe->vcap = h->vlen > 0 ? h->vlen : 1;
		pe->value = xmalloc(pe->vcap);
	}
	if (h->vlen > 0)
		memcpy(pe->value, value, h->vlen);
	pe->vlen = h->vlen;
	if (pe->perms == NULL || strcmp(pe->perms, perms) != 0) {
		if (pe->perms != pe->perms_in)
			free(pe->perms);
		if (strlen(perms) < sizeof pe->perms_in)
			pe->perms = strcpy(pe->perms_in, perms);
		else
			pe->perms = xstrdup(perms);
	}
	if (listed != NULL) {
		*listed = pe->epoch == w->sink.epoch + 1 ? HSINK_LISTED :
		    HSINK_NEW;
		pe->epoch = w->sink.epoch + 1;
	}
	pe->gen = gen;
	pe->written = false;
}

/* Forget the update noted for path, if any. */
static void
history_pend_drop(struct db_writer *w, const char *path)
{
	struct hpend	*pe;

	if (w->pend == NULL || (pe = hmap_remove(w->pend, path)) == NULL)
		return;
	w->pendv[pe->at] = NULL;
	if (!pe->written)
		w->npending--;
	history_pend_free1(pe);
}

/* Whether updates wait for the durable tree. */
bool
history_pending(const struct db_writer *w)
{
	return (w->npending > 0);
}

/*
 * Write the noted updates not yet written, in the order their paths
 * were first seen. They stay noted (written) until the transaction
 * commits: history_done forgets them then, or notes them again if it
 * failed. The tree then has every update: node_gen moves up.
 */
static int
history_pend_flush(struct db_writer *w)
{
	struct db	*db = w->db;
	struct hpend	*pe;
	sqlite3_stmt	*st;
	size_t		 i;
	int		 error = 0;

	for (i = 0; i < w->npend && error == 0; i++) {
		if ((pe = w->pendv[i]) == NULL || pe->written)
			continue;
		if ((st = db_stmt(db, ST_NODE_UPDATE)) == NULL) {
			error = -EIO;
			break;
		}
		sqlite3_bind_text(st, 1, pe->key, -1, SQLITE_STATIC);
		history_bind_value(st, 2, pe->value, pe->vlen);
		sqlite3_bind_text(st, 3, pe->perms, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)pe->gen);
		if ((error = db_step_done(db, ST_NODE_UPDATE)) != 0)
			break;
		/* Not there (the daemon said it was): make it. */
		if (sqlite3_changes(db->sql) == 0 &&
		    (error = history_node_insert(w, pe->gen, pe->vlen,
		    pe->key, pe->value, pe->perms)) != 0)
			break;
		pe->written = true;
		w->npending--;
	}
	w->pend_due = writer_now() + HIST_PEND_NS;
	if (error == 0 && w->h.node_gen != w->h.last_gen) {
		w->h.node_gen = w->h.last_gen;
		w->hchanged = 1;
	}
	return (error);
}

/* The transaction ended: forget the updates written in it, or (it
 * failed) note them again. */
static void
history_pend_done(struct db_writer *w, int error)
{
	struct hpend	*pe;
	size_t		 i, n = 0;

	for (i = 0; i < w->npend; i++) {
		if ((pe = w->pendv[i]) == NULL)
			continue;
		if (!pe->written) {
			pe->at = n;
			w->pendv[n++] = pe;
		} else if (error != 0) {
			pe->written = false;
			w->npending++;
			pe->at = n;
			w->pendv[n++] = pe;
		} else {
			hmap_remove(w->pend, pe->key);
			history_pend_free1(pe);
		}
	}
	w->npend = n;
}

/* Free what the noted updates use (the writer is closing). */
static void
history_pend_free(struct db_writer *w)
{
	size_t	i;

	for (i = 0; i < w->npend; i++) {
		if (w->pendv[i] != NULL) {
			hmap_remove(w->pend, w->pendv[i]->key);
			history_pend_free1(w->pendv[i]);
		}
	}
	hmap_free(w->pend);
	free(w->pendv);
	w->pend = NULL;
	w->pendv = NULL;
	w->npend = w->cappend = w->npending = 0;
}

static int
history_node(struct db_writer *w, uint64_t gen, const struct hrec_change *h,
    const char *path, const void *value, const char *perms, int *listed)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;

	if (!(h->flags & (HREC_DELETED | HREC_CREATED))) {
		history_pend_add(w, gen, h, path, value, perms, listed);
		return (0);
	}
	if (listed != NULL)
		*listed = HSINK_LOOK;
	/* A deletion or a creation (INSERT OR REPLACE) makes an update of
	 * the same path earlier in the batch moot. */
	history_pend_drop(w, path);
	if (h->flags & HREC_DELETED) {
		if ((st = db_stmt(db, ST_NODE_DELETE)) == NULL)
			return (-EIO);
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		return (db_step_done(db, ST_NODE_DELETE));
	}
	return (history_node_insert(w, gen, h->vlen, path, value, perms));
}

/* Make (or replace) a node of the durable tree: it goes last. */
static int
history_node_insert(struct db_writer *w, uint64_t gen, uint32_t vlen,
    const char *path, const void *value, const char *perms)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;

	if ((st = db_stmt(db, ST_NODE_INSERT)) == NULL)
		return (-EIO);
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	history_bind_value(st, 2, value, vlen);
	sqlite3_bind_text(st, 3, perms, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)gen);
	return (db_step_done(db, ST_NODE_INSERT));
}

/* A change of /local/domain/<id>/name: a row of hname (every one is
 * kept, for db_domids_named). */
static int
history_name(struct db_writer *w, uint64_t gen, uint64_t ns, int64_t domid,
    const struct hrec_change *h, const void *value)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;

	if ((st = db_stmt(db, ST_HNAME_INSERT)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, domid);
	sqlite3_bind_int64(st, 2, (int64_t)gen);
	sqlite3_bind_int64(st, 3, (int64_t)ns);
	if (!(h->flags & HREC_DELETED))
		sqlite3_bind_blob(st, 4, value, (int)h->vlen, SQLITE_STATIC);
	return (db_step_done(db, ST_HNAME_INSERT));
}

/* Apply a commit: the durable tree, and the history unless the
 * generation is not newer than the last (a daemon that lost count). */
static int
history_commit(struct db_writer *w, const struct wrec *r,
    const unsigned char *p)
{
	struct db		*db = w->db;
	struct hrec_change	 h;
	const char		*path, *perms;
	const void		*value;
	uint64_t		 count, i;
	int64_t			 subject;
	bool			 hist = r->gen > w->h.last_gen, is_name;
	int			 error, listed;

	memcpy(&count, p, sizeof count);
	p += sizeof count;
	if (!hist && !w->resyncing && w->old_gens++ == 0)
		log_warn("%s: commit %llu is not newer than %llu: not in the "
		    "history", db->path, (unsigned long long)r->gen,
		    (unsigned long long)w->h.last_gen);
	if (hist) {
		hsink_commit(&w->sink, r->gen, r->ns, r->pad, r->inc != 0,
		    (uint32_t)count);
		w->h.last_gen = r->gen;
	}
	for (i = 0; i < count; i++) {
		memcpy(&h, p, sizeof h);
		p += sizeof h;
		path = (const char *)p;
		value = p + h.pathlen;
		perms = (const char *)p + h.pathlen + h.vlen;
		p += h.pathlen + h.vlen + h.permslen;
		if (w->nforget > 0 && !(h.flags & HREC_DELETED) &&
		    history_perms_names(w, perms) &&
		    (error = history_forget_flush(w)) != 0)
			return (error);
		if ((error = history_node(w, r->gen, &h, path, value,
		    perms, hist ? &listed : NULL)) != 0)
			return (error);
		/* The store written whole again: the names it has are
		 * noted, for guests made while the history was behind. */
		if (!hist && w->resyncing &&
		    (subject = hist_subject(path, &is_name)) >= 0 && is_name &&
		    (error = history_name(w, r->gen, r->ns, subject, &h,
		    value)) != 0)
			return (error);
		if (!hist)
			continue;
		subject = hsink_change(&w->sink, h.flags & (HBLOB_DELETED |
		    HBLOB_CREATED), path, value, h.vlen, perms, listed,
		    &is_name);
		if (subject >= 0 && is_name && (error = history_name(w, r->gen,
		    r->ns, subject, &h, value)) != 0)
			return (error);
	}
	/* Not in the history: nothing to replay it from. */
	return (hist ? hsink_maybe_flush(db, &w->sink) :
	    history_pend_flush(w));
}

/* Apply a domain, watch or meta record. */
static int
history_record(struct db_writer *w, const struct wrec *r,
    const unsigned char *p)
{
	struct db		*db = w->db;
	struct db_domain	 d;
	struct hrec_watch	 hw;
	struct hrec_meta	 hm;
	sqlite3_stmt		*st;
	enum db_stmt		 which;
	int			 error;

	switch (r->type) {
	case WREC_DOMAIN_PUT:
		memcpy(&d, p, sizeof d);
		if ((st = db_stmt(db, ST_DOMAIN_PUT)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, d.domid);
		sqlite3_bind_int64(st, 2, (int64_t)d.mfn);
		sqlite3_bind_int64(st, 3, d.port);
		sqlite3_bind_int64(st, 4, d.target);
		sqlite3_bind_int64(st, 5, d.features);
		return (db_step_done(db, ST_DOMAIN_PUT));
	case WREC_DOMAIN_DEL:
		if ((st = db_stmt(db, ST_DOMAIN_DEL)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, r->inc);
		if ((error = db_step_done(db, ST_DOMAIN_DEL)) != 0)
			return (error);
		if ((st = db_stmt(db, ST_WATCH_DEL_DOMAIN)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, r->inc);
		return (db_step_done(db, ST_WATCH_DEL_DOMAIN));
	case WREC_WATCH_PUT:
	case WREC_WATCH_DEL:
		memcpy(&hw, p, sizeof hw);
		p += sizeof hw;
		which = r->type == WREC_WATCH_PUT ? ST_WATCH_PUT : ST_WATCH_DEL;
		if ((st = db_stmt(db, which)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, r->inc);
		sqlite3_bind_text(st, 2, (const char *)p, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, (const char *)p + hw.pathlen, -1,
		    SQLITE_STATIC);
		if (which == ST_WATCH_PUT)
			sqlite3_bind_int64(st, 4, hw.depth);
		return (db_step_done(db, which));
	case WREC_META_PUT:
		memcpy(&hm, p, sizeof hm);
		p += sizeof hm;
		which = hm.vlen > 0 ? ST_META_PUT : ST_META_DEL;
		if ((st = db_stmt(db, which)) == NULL)
			return (-EIO);
		sqlite3_bind_text(st, 1, (const char *)p, -1, SQLITE_STATIC);
		if (hm.vlen > 0)
			sqlite3_bind_text(st, 2, (const char *)p + hm.keylen,
			    -1, SQLITE_STATIC);
		return (db_step_done(db, which));
	}
	log_fatal("%s: unknown store record %u", __func__, r->type);
}

/*
 * The whole store follows (db_store_resync): the durable tree, domains
 * and watches go, the records up to WREC_RESYNC_END make them again.
 * The history goes on from gen: its commits before are only those not
 * given up (a row of hgap says which are not), and a snapshot at the end
 * (history_apply) starts it again.
 */
static int
history_resync(struct db_writer *w, uint64_t gen)
{
	sqlite3_stmt	*st;
	char		*msg = NULL;
	int		 rc, error;

	/* The commits given up leave a gap readers can tell. */
	if (gen > w->h.last_gen + 1) {
		if ((st = db_stmt(w->db, ST_HGAP_INSERT)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, (int64_t)w->h.last_gen);
		sqlite3_bind_int64(st, 2, (int64_t)gen);
		if ((error = db_step_done(w->db, ST_HGAP_INSERT)) != 0)
			return (error);
	}
	rc = sqlite3_exec(w->db->sql, "DELETE FROM node; DELETE FROM domain;"
	    " DELETE FROM watch;", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("%s: writing the store again: %s", w->db->path,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (-EIO);
	}
	history_pend_free(w);
	w->nforget = 0;
	if (gen > w->h.last_gen)
		w->h.last_gen = gen;
	w->h.node_gen = w->h.last_gen;
	w->hchanged = 1;
	w->resynced = 1;
	w->resync_gen = gen;
	return (0);
}

/* Apply the store records taken since the last commit, in order (in the
 * writer's open transaction). While the durable store is behind, the
 * records before the whole store written again are given up too. */
int
history_apply(struct db_writer *w)
{
	struct wrec	 r;
	size_t		 at;
	int		 error = 0;
	bool		 skip = w->behind;

	w->resynced = 0;
	w->resyncing = 0;
	if (w->hq_defer)	/* a transaction for node updates only */
		return (0);
	history_ahead_start(w);
	for (at = 0; at < w->hq.len && error == 0; ) {
		memcpy(&r, w->hq.buf + at, sizeof r);
		at += sizeof r;
		if (r.type == WREC_RESYNC) {
			skip = false;
			w->resyncing = 1;
			error = history_resync(w, r.gen);
			continue;	/* no bytes */
		}
		if (r.type == WREC_RESYNC_END) {
			/* The history starts again from here. */
			w->resyncing = 0;
			if (w->h.last_gen == 0 && w->h.snapshots == 1) {
				/* A new database (durable_start): the store
				 * as it starts replaces the schema's empty
				 * snapshot at generation 0. */
				w->h.snapshots = 0;
				w->h.bytes -= HSNAPSHOT_BYTES;
				error = history_snapshot(w);
			} else if (w->h.last_gen != w->h.snapshot_gen)
				error = history_snapshot(w);
			w->h.snapshot_ns = w->clock_ns;
			continue;
		}
		if (skip) {
			at += history_pad(r.len);
			continue;
		}
		switch (r.type) {
		case WREC_COMMIT:
			error = history_commit(w, &r, w->hq.buf + at);
			break;
		case WREC_FORGET:
			history_forget_add(w, (uint32_t)r.inc);
			break;
		default:
			if (w->nforget > 0)
				error = history_forget_flush(w);
			if (error == 0)
				error = history_record(w, &r, w->hq.buf + at);
			break;
		}
		at += history_pad(r.len);
	}
	if (error == 0)
		error = history_forget_flush(w);
	if (error == 0)
		error = hsink_flush(w->db, &w->sink);
	hsink_discard(&w->sink);
	w->nforget = 0;
	/* What the batches stored, counted in (history_reload takes it
	 * back if the transaction fails). */
	w->h.commits += w->sink.commits;
	w->h.changes += w->sink.changes;
	w->h.bytes += w->sink.bytes;
	w->sink.commits = w->sink.changes = w->sink.bytes = 0;
	return (error);
}

/*
 * Store a snapshot of the durable tree as of the last commit (in the
 * open transaction), encoded as it is read (snapshot.c).
 */
static int
history_snapshot(struct db_writer *w)
{
	struct snapshot_enc	 e;
	sqlite3_stmt		*st;
	int			 error;

	if ((error = snapshot_enc_init(&e, w->cfg.level)) != 0)
		return (error);
	if ((st = db_stmt(w->db, ST_NODE_ALL)) == NULL)
		error = -EIO;
	else {
		error = hsnap_encode(st, sqlite3_step(st), &e, NULL);
		sqlite3_reset(st);
	}
	if (error == 0)
		error = hsnap_store(w, w->h.last_gen, w->clock_ns, &e);
	snapshot_enc_free(&e);
	return (error);
}

/* Write the running totals and marks (in the open transaction). */
int
history_save(struct db_writer *w)
{
	const struct hstate	*h = &w->h;
	sqlite3_stmt		*st;

	if ((st = db_stmt(w->db, ST_HSTATE_SAVE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, (int64_t)h->last_gen);
	sqlite3_bind_int64(st, 2, (int64_t)h->bytes);
	sqlite3_bind_int64(st, 3, (int64_t)h->commits);
	sqlite3_bind_int64(st, 4, (int64_t)h->changes);
	sqlite3_bind_int64(st, 5, (int64_t)h->snapshots);
	sqlite3_bind_int64(st, 6, (int64_t)h->thin_min);
	sqlite3_bind_int64(st, 7, (int64_t)h->thin_hour);
	sqlite3_bind_int64(st, 8, (int64_t)h->dropped_gen);
	sqlite3_bind_int64(st, 9, (int64_t)h->snapshot_ns);
	sqlite3_bind_int64(st, 10, (int64_t)h->snapshot_gen);
	sqlite3_bind_int64(st, 11, (int64_t)h->node_gen);
	return (db_step_done(w->db, ST_HSTATE_SAVE));
}

/*
 * The history's upkeep at the end of a transaction: a snapshot when one
 * is due (snapshot_interval_s of the writer's clock since the last, and
 * commits since), thinning once per second of that clock, the byte
 * budget, and the totals written.
 */
int
history_maintain(struct db_writer *w)
{
	uint64_t	ival = w->cfg.snapshot_interval_s * NS_PER_S;
	int		error, changed = w->hq.len > 0, thin, snap;
	bool		budget;

	/* A snapshot taken on the side since the last transaction. */
	if ((error = hsnap_collect(w, w->snap_wait)) != 0)
		return (error);
	/* The durable tree's updates first, when what follows needs them
	 * (a snapshot reads the tree; thinning and the budget rewrite the
	 * history db_store_load would replay). */
	thin = w->thinned_at == 0 || w->clock_ns >= w->thinned_at +
	    HIST_THIN_NS;
	snap = w->snap_want || (w->h.snapshot_ns != 0 &&
	    w->clock_ns >= w->h.snapshot_ns + ival);
	budget = w->h.bytes > w->cfg.history_max_bytes;
	if ((thin || snap || budget || w->flush_all || w->npending == 0 ||
	    w->npending >= HIST_PEND_MAX) &&
	    (error = history_pend_flush(w)) != 0)
		return (error);
	changed |= w->hchanged;
	w->hchanged = 0;

	if (w->h.snapshot_ns == 0)	/* a new history: its interval */
		w->h.snapshot_ns = w->clock_ns;
	else if (w->clock_ns >= w->h.snapshot_ns + ival) {
		/* Taken once this transaction commits (hsnap.c). */
		if (w->h.last_gen != w->h.snapshot_gen && w->snap == NULL)
			w->snap_want = 1;
		w->h.snapshot_ns = w->clock_ns;
		changed = 1;
	}
	if (thin) {
		w->thinned_at = w->clock_ns;
		if ((error = hthin_run(w)) != 0)
			return (error);
		changed = 1;
	}
	if (w->h.bytes > w->cfg.history_max_bytes) {
		if ((error = hthin_budget(w)) != 0)
			return (error);
		changed = 1;
	}
	return (changed ? history_save(w) : 0);
}

/*
 * The file beside the database that says its durable store is behind:
 * "LO HI", the last generation it has and the newest not written. It is
 * there while store records are not written (a failed transaction
 * keeps them for a retry, or they were given up), and goes once they
 * are, or once the store is written whole again; a daemon killed (or
 * stopped) before that finds it at its restart (history_start). It is
 * not in the database because the database is what cannot be written
 * then; and as a full disk is the likeliest cause, the file never needs
 * a block when it is made: a spare one of its size (<db>-behind.spare,
 * made at the start) is written in place and renamed, and renamed back
 * when the file goes.
 */
#define HMARK_LEN	64		/* the file's size: padded text */

static char *
history_marker(const struct db *db, const char *suffix)
{
	char	*path;

	xasprintf(&path, "%s-behind%s", db->path, suffix);
	return (path);
}

/* Write the file's text in place (a file of HMARK_LEN bytes, so no
 * block is needed) and sync it; 0 or -1 with errno set. */
static int
history_mark_write(const char *path, const char *text, int flags)
{
	char	buf[HMARK_LEN];
	size_t	len = strlen(text);
	int	fd, ok;

	memset(buf, ' ', sizeof buf);
	memcpy(buf, text, len < sizeof buf ? len : sizeof buf - 1);
	buf[sizeof buf - 1] = '\n';
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644)) < 0)
		return (-1);
	ok = pwrite(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf &&
	    fdatasync(fd) == 0;
	ok = close(fd) == 0 && ok;
	return (ok ? 0 : -1);
}

/* At the start: the spare file, for a disk full later. */
static void
history_mark_spare(struct db_writer *w)
{
	char	*spare = history_marker(w->db, ".spare");

	if (access(spare, F_OK) != 0 &&
	    history_mark_write(spare, "", O_CREAT) != 0)
		log_warn("%s: %s (the file saying the durable store is behind "
		    "will need room when made)", spare, strerror(errno));
	free(spare);
}

/* Note in the file how far the records not written go (a failure is
 * said once). */
static void
history_mark(struct db_writer *w)
{
	char	*path, *spare, text[HMARK_LEN];
	int	 ok;

	if (w->taken_gen <= w->marked_gen)
		return;
	path = history_marker(w->db, "");
	spare = history_marker(w->db, ".spare");
	snprintf(text, sizeof text, "%llu %llu",
	    (unsigned long long)w->h.last_gen,
	    (unsigned long long)w->taken_gen);
	/* There already: in place. Else the spare (made now if it is not
	 * there), renamed: never seen half written. */
	if (access(path, F_OK) == 0)
		ok = history_mark_write(path, text, 0) == 0;
	else
		ok = history_mark_write(spare, text, O_CREAT) == 0 &&
		    rename(spare, path) == 0;
	if (ok) {
		w->marked_gen = w->taken_gen;
		w->mark_failed = 0;
	} else {
		if (!w->mark_failed)
			log_error("%s: cannot note that the durable store is "
			    "behind: %s", path, strerror(errno));
		w->mark_failed = 1;
	}
	free(spare);
	free(path);
}

/* The records are written, or the store whole again: nothing is
 * behind. The file becomes the spare again. */
static void
history_unmark(struct db_writer *w)
{
	char	*path = history_marker(w->db, "");
	char	*spare = history_marker(w->db, ".spare");

	if (rename(path, spare) != 0 && errno != ENOENT &&
	    unlink(path) != 0)
		log_error("%s: %s", path, strerror(errno));
	w->marked_gen = 0;
	free(spare);
	free(path);
}

/*
 * At the start: a file left by a daemon whose durable store was behind
 * when it stopped. What it gave up is lost: the writer is behind (the
 * daemon writes the store whole again, as loaded), and generations go on
 * after the newest given up, which the history marks as a gap.
 */
static void
history_check_marker(struct db_writer *w)
{
	char			*path = history_marker(w->db, "");
	unsigned long long	 lo = 0, hi = 0;
	FILE			*f;
	int			 n = 0;

	if ((f = fopen(path, "r")) == NULL) {
		free(path);
		return;
	}
	n = fscanf(f, "%llu %llu", &lo, &hi);
	fclose(f);
	if (n == 2 && hi <= w->h.last_gen) {
		/* Written whole again before the file went: stale. */
		log_info("%s: left from before generation %llu; removed",
		    path, (unsigned long long)w->h.last_gen);
		free(path);
		history_unmark(w);
		return;
	}
	if (n != 2) {
		log_error("%s: the durable store was behind when the daemon "
		    "stopped (which commits were lost cannot be read): the "
		    "store restarts as it was at generation %llu, and is "
		    "written whole again", w->db->path,
		    (unsigned long long)w->h.last_gen);
		hi = 0;
	} else
		log_error("%s: the durable store was behind when the daemon "
		    "stopped: commits %llu to %llu were given up and are "
		    "lost; the store restarts as it was at generation %llu "
		    "and is written whole again as generation %llu",
		    w->db->path, (unsigned long long)w->h.last_gen + 1, hi,
		    (unsigned long long)w->h.last_gen, hi + 1);
	w->behind = 1;
	w->want_resync = 1;
	w->taken_gen = w->marked_gen = hi;
	/* A generation nobody was given: the rewrite's, after the gap. */
	w->restart_gen = hi != 0 ? hi + 1 : 0;
	free(path);
}

/* After a transaction: its store records are done, or kept for the
 * next one (a failure; not beyond store_backlog_max, and not before half
 * a flush_ms, so a failing disk is not hammered). */
void
history_done(struct db_writer *w, int error, uint64_t now)
{
	hsnap_done(w, error);
	history_pend_done(w, error);
	/* A snapshot wanted: table node is now the tree at last_gen (every
	 * update written) and stays so for a read transaction begun now. */
	if (error == 0 && w->snap_want && w->snap == NULL &&
	    w->npending == 0 && w->h.node_gen == w->h.last_gen) {
		/* One that cannot start (logged) waits for the next
		 * interval. */
		if (w->h.last_gen != w->h.snapshot_gen)
			(void)hsnap_start(w, w->h.last_gen, w->clock_ns);
		w->snap_want = 0;
	}
	if (w->hq_defer) {	/* its records were not taken */
		w->hq_defer = 0;
		return;
	}
	if (error == 0) {
		w->hq.len = 0;
		if (w->resynced && w->resync_gen == 0)	/* a new database */
			log_debug("%s: the store as it starts, written",
			    w->db->path);
		else if (w->resynced)
			log_info("%s: the store written whole again at "
			    "generation %llu (%llu bytes of records were given "
			    "up)", w->db->path,
			    (unsigned long long)w->resync_gen,
			    (unsigned long long)w->given_up);
		if (w->resynced) {
			w->behind = 0;
			w->given_up = 0;
			w->resynced = 0;
			history_unmark(w);
			pthread_mutex_lock(&w->lock);
			w->resync_queued = 0;
			pthread_mutex_unlock(&w->lock);
		} else if (w->behind) {
			/* Commits work again: the loop may write it all. */
			history_mark(w);	/* the records skipped */
			pthread_mutex_lock(&w->lock);
			w->want_resync = !w->resync_queued;
			pthread_mutex_unlock(&w->lock);
		} else if (w->marked_gen != 0)
			history_unmark(w);	/* the retry committed them */
		return;
	}
	w->resynced = 0;
	if (w->hq.len > w->cfg.store_backlog_max) {
		/* Holding more would not bound the memory: the records go,
		 * and the daemon writes the whole store again once commits
		 * work (db_store_behind). Until then the durable store is
		 * behind the daemon's, and records are given up as they
		 * come. */
		log_error("%s: %zu bytes of store records given up: the "
		    "durable store is behind until it can be written whole "
		    "again", w->db->path, w->hq.len);
		history_mark(w);
		w->given_up += w->hq.len;
		w->hq.len = 0;
		w->behind = 1;
		history_pend_free(w);
		pthread_mutex_lock(&w->lock);
		w->resync_queued = 0;
		w->want_resync = 0;
		pthread_mutex_unlock(&w->lock);
		return;
	}
	/* Kept for the next try (given up too if behind): a daemon killed
	 * before they are written learns at its restart that they are
	 * lost. */
	if (w->hq.len > 0 || w->behind)
		history_mark(w);
	w->hq.start = now;
}

/* Reload the committed totals and marks; 0 or -errno. */
int
history_reload(struct db_writer *w)
{
	struct hstate	*h = &w->h;
	sqlite3_stmt	*st;
	int		 rc;

	w->nforget = 0;
	if ((st = db_stmt(w->db, ST_HSTATE_LOAD)) == NULL)
		return (-EIO);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		h->last_gen = (uint64_t)sqlite3_column_int64(st, 0);
		h->bytes = (uint64_t)sqlite3_column_int64(st, 1);
		h->commits = (uint64_t)sqlite3_column_int64(st, 2);
		h->changes = (uint64_t)sqlite3_column_int64(st, 3);
		h->snapshots = (uint64_t)sqlite3_column_int64(st, 4);
		h->thin_min = (uint64_t)sqlite3_column_int64(st, 5);
		h->thin_hour = (uint64_t)sqlite3_column_int64(st, 6);
		h->dropped_gen = (uint64_t)sqlite3_column_int64(st, 7);
		h->snapshot_ns = (uint64_t)sqlite3_column_int64(st, 8);
		h->snapshot_gen = (uint64_t)sqlite3_column_int64(st, 9);
		h->node_gen = (uint64_t)sqlite3_column_int64(st, 10);
	}
	sqlite3_reset(st);
	return (rc == SQLITE_ROW ? 0 : -EIO);
}

/* Set the store's side of a writer up: its SQL functions, its totals. */
int
history_start(struct db_writer *w, char *err, size_t errlen)
{
	struct db	*db = w->db;
	int		 rc;

	hsink_init(&w->sink, HBATCH_LEVEL);
	rc = sqlite3_create_function(db->sql, "xsc_perms_names", 1,
	    SQLITE_UTF8, w, history_sql_names, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db->sql, "xsc_perms_forget", 1,
		    SQLITE_UTF8, w, history_sql_forget, NULL, NULL);
	if (rc != SQLITE_OK || history_reload(w) != 0) {
		db_errf(err, errlen, "%s: cannot load the history's state: %s",
		    db->path, sqlite3_errmsg(db->sql));
		return (-EIO);
	}
	history_check_marker(w);
	history_mark_spare(w);
	return (0);
}

/* Free the store's side of a writer. */
void
history_stop(struct db_writer *w)
{
	if (w->hq.len > 0)
		log_error("%s: %zu bytes of store records not committed",
		    w->db->path, w->hq.len);
	hsnap_stop(w);
	free(w->hq.buf);
	free(w->forget);
	history_pend_free(w);
	hsink_free(&w->sink);
	memset(&w->hq, 0, sizeof w->hq);
	w->forget = NULL;
	w->nforget = w->capforget = 0;
}

/* Run a load query, handing each row to fn; stops at fn's non-zero. */
static int
history_load_rows(struct db *rd, const char *sql,
    int (*fn)(sqlite3_stmt *, const struct db_load_ops *, void *),
    const struct db_load_ops *ops, void *arg)
{
	sqlite3_stmt	*st;
	int		 rc, ret = 0;

	if ((rc = sqlite3_prepare_v2(rd->sql, sql, -1, &st, NULL)) !=
	    SQLITE_OK) {
		log_error("%s: %s", rd->path, sqlite3_errmsg(rd->sql));
		return (-db_errno(rc));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = fn(st, ops, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		log_error("%s: %s", rd->path, sqlite3_errmsg(rd->sql));
		ret = -db_errno(rc);
	}
	sqlite3_finalize(st);
	return (ret);
}

/* A node row for db_store_load. */
static int
history_load_node(sqlite3_stmt *st, const struct db_load_ops *ops, void *arg)
{
	const void	*v = sqlite3_column_blob(st, 1);
	const char	*perms = (const char *)sqlite3_column_text(st, 2);

	if (ops->node == NULL)
		return (0);
	return (ops->node((const char *)sqlite3_column_text(st, 0),
	    v != NULL ? v : "", (uint32_t)sqlite3_column_bytes(st, 1),
	    perms != NULL ? perms : "", (uint64_t)sqlite3_column_int64(st, 3),
	    arg));
}

/* A domain row for db_store_load. */
static int
history_load_domain(sqlite3_stmt *st, const struct db_load_ops *ops,
    void *arg)
{
	struct db_domain	d;

	if (ops->domain == NULL)
		return (0);
	d.domid = (uint32_t)sqlite3_column_int64(st, 0);
	d.mfn = (uint64_t)sqlite3_column_int64(st, 1);
	d.port = (uint32_t)sqlite3_column_int64(st, 2);
	d.target = (uint32_t)sqlite3_column_int64(st, 3);
	d.features = (uint32_t)sqlite3_column_int64(st, 4);
	return (ops->domain(&d, arg));
}

/* A watch row for db_store_load. */
static int
history_load_watch(sqlite3_stmt *st, const struct db_load_ops *ops,
    void *arg)
{
	struct db_watch	wa;

	if (ops->watch == NULL)
		return (0);
	wa.domid = (uint32_t)sqlite3_column_int64(st, 0);
	wa.path = (const char *)sqlite3_column_text(st, 1);
	wa.token = (const char *)sqlite3_column_text(st, 2);
	wa.depth = (uint32_t)sqlite3_column_int64(st, 3);
	return (ops->watch(&wa, arg));
}

/* A meta row for db_store_load. */
static int
history_load_meta(sqlite3_stmt *st, const struct db_load_ops *ops, void *arg)
{
	if (ops->meta == NULL)
		return (0);
	return (ops->meta((const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1), arg));
}

/* A node row into the tree a replay rebuilds. */
static int
history_load_into(sqlite3_stmt *st, const struct db_load_ops *ops,
    void *arg)
{
	const void	*v = sqlite3_column_blob(st, 1);
	const char	*perms = (const char *)sqlite3_column_text(st, 2);

	(void)ops;
	htree_set(arg, (const char *)sqlite3_column_text(st, 0), v,
	    (uint32_t)sqlite3_column_bytes(st, 1), perms,
	    (uint64_t)sqlite3_column_int64(st, 3), false);
	return (0);
}

/*
 * The tree when updates after node_gen are not in table node (a kill
 * -9 before they were flushed): the table in memory, the history's
 * commits after node_gen applied to it (creations and deletions again:
 * that is harmless), then handed out in creation order.
 */
static int
history_load_replay(struct db *rd, uint64_t node_gen,
    const struct db_load_ops *ops, void *arg)
{
	const struct hblob_change	*ch;
	struct htree			 t;
	struct hbatch_row		 r;
	struct hblob			 b;
	struct hnode			*n;
	sqlite3_stmt			*st;
	uint64_t			 g, commits = 0;
	size_t				 i;
	int				 ret, rc;

	memset(&t, 0, sizeof t);
	t.map = hmap_create();
	ret = history_load_rows(rd, "SELECT path, value, perms, gen FROM node"
	    " ORDER BY id", history_load_into, ops, &t);
	if (ret == 0 && (rc = sqlite3_prepare_v2(rd->sql, "SELECT " HB_COLUMNS
	    " FROM hbatch WHERE gen_hi > ?1 ORDER BY gen_lo", -1, &st,
	    NULL)) != SQLITE_OK)
		ret = -db_errno(rc);
	if (ret == 0) {
		sqlite3_bind_int64(st, 1, (int64_t)node_gen);
		while ((ret = hbatch_read(rd, st, &r)) == 1) {
			if ((ret = hbatch_decode(rd, &r, &b)) != 0)
				break;
			for (i = 0; i < b.nch; i++) {
				ch = &b.ch[i];
				if ((g = b.c[ch->commit].gen) <= node_gen)
					continue;
				if (ch->flags & HBLOB_DELETED)
					htree_remove(&t, ch->path);
				else
					htree_set(&t, ch->path, ch->value,
					    ch->vlen, ch->perms, g,
					    (ch->flags & HBLOB_CREATED) != 0);
			}
			for (i = 0; i < b.nc; i++)
				commits += b.c[i].gen > node_gen;
			hblob_free(&b);
		}
		sqlite3_finalize(st);
	}
	if (ret == 0)
		log_info("%s: the durable tree had updates up to generation "
		    "%llu; %llu commits after it replayed from the history",
		    rd->path, (unsigned long long)node_gen,
		    (unsigned long long)commits);
	for (n = t.head; ret == 0 && n != NULL && ops->node != NULL;
	    n = n->next)
		ret = ops->node(n->path, n->value, n->vlen, n->perms, n->gen,
		    arg);
	htree_free(&t);
	return (ret);
}

/*
 * Restart: the durable store, read through a connection of its own
 * (the writer thread owns the writer's), each table in one ordered
 * SELECT. Blocks; called before any other writer call.
 */
int
db_store_load(struct db *db, const struct db_load_ops *ops, void *arg,
    uint64_t *gen)
{
	struct db	*rd;
	sqlite3_stmt	*st;
	char		 err[256];
	uint64_t	 node_gen = 0;
	int		 ret, rc;

	*gen = 0;
	if (db->w == NULL)
		return (-EINVAL);
	if ((rd = db_open_common(db->path, false, err, sizeof err)) == NULL) {
		log_error("%s", err);
		return (-errno);
	}
	ret = sqlite3_exec(rd->sql, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -EIO;
	if (ret == 0 && (st = db_stmt(rd, ST_HSTATE_LOAD)) != NULL) {
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*gen = (uint64_t)sqlite3_column_int64(st, 0);
			node_gen = (uint64_t)sqlite3_column_int64(st, 10);
		}
		sqlite3_reset(st);
	}
	if (ret == 0 && node_gen < *gen)
		ret = history_load_replay(rd, node_gen, ops, arg);
	else if (ret == 0)
		ret = history_load_rows(rd, "SELECT path, value, perms, gen"
		    " FROM node ORDER BY id", history_load_node, ops, arg);
	if (ret == 0)
		ret = history_load_rows(rd, "SELECT domid, mfn, port, target,"
		    " features FROM domain ORDER BY domid", history_load_domain,
		    ops, arg);
	if (ret == 0)
		ret = history_load_rows(rd, "SELECT domid, path, token, depth"
		    " FROM watch ORDER BY domid, rowid", history_load_watch, ops,
		    arg);
	if (ret == 0)
		ret = history_load_rows(rd, "SELECT key, value FROM meta"
		    " ORDER BY key", history_load_meta, ops, arg);
	sqlite3_exec(rd->sql, "COMMIT", NULL, NULL, NULL);
	db_close_common(rd);
	/* Generations given up before a restart are not used again. */
	if (db->w->restart_gen > *gen)
		*gen = db->w->restart_gen;
	return (ret);
}
