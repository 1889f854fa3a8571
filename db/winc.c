/*
 * The writer thread's incarnations: a cache of those it writes to (their
 * committed state loaded on first use), and each one's pending chunk,
 * built as records come: line starts noted with the time and generation
 * of their first byte, the chunk cut when it is full, when it is due, or
 * when the incarnation ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "writer.h"
#include "xmalloc.h"

/* The hash bucket of incarnation id. */
static struct winc_list *
winc_bucket(struct db_writer *w, int64_t id)
{
	uint64_t	h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;

	return (&w->hash[(h >> 32) & (w->nhash - 1)]);
}

/* Double the hash table. */
void
winc_grow(struct db_writer *w)
{
	struct winc_list	*old = w->hash;
	struct winc		*wi;
	size_t			 i, n = w->nhash;

	w->nhash = n == 0 ? 64 : n * 2;
	w->hash = xcalloc(w->nhash, sizeof *w->hash);
	for (i = 0; i < w->nhash; i++)
		LIST_INIT(&w->hash[i]);
	for (i = 0; i < n; i++) {
		while ((wi = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(wi, hash_entry);
			LIST_INSERT_HEAD(winc_bucket(w, wi->id), wi, hash_entry);
		}
	}
	free(old);
}

/* Load an incarnation's committed state; -ENOENT if it has no row. */
int
winc_load(struct db_writer *w, struct winc *wi)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_stmt(w->db, ST_INC_LOAD)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, wi->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		wi->bytes = (uint64_t)sqlite3_column_int64(st, 0);
		wi->kept = (uint64_t)sqlite3_column_int64(st, 1);
		wi->seq = sqlite3_column_int64(st, 2);
		wi->line_open = sqlite3_column_int(st, 3) != 0;
		wi->has_ring = sqlite3_column_type(st, 4) != SQLITE_NULL;
		wi->ring_pos = (uint32_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (0);
	if (rc == SQLITE_DONE)
		return (-ENOENT);
	log_error("%s: loading incarnation %lld: %s", w->db->path,
	    (long long)wi->id, sqlite3_errmsg(w->db->sql));
	return (-db_errno(rc));
}

/* Find an incarnation, loading it on first use; NULL if unknown. */
struct winc *
winc_get(struct db_writer *w, int64_t id)
{
	struct winc	*wi;
	int		 error;

	LIST_FOREACH(wi, winc_bucket(w, id), hash_entry) {
		if (wi->id == id)
			return (wi);
	}
	wi = xcalloc(1, sizeof *wi);
	wi->id = id;
	if ((error = winc_load(w, wi)) != 0) {
		if (error == -ENOENT)
			log_warn("%s: console bytes for unknown incarnation "
			    "%lld dropped", w->db->path, (long long)id);
		free(wi);
		return (NULL);
	}
	wi->next_seq = wi->seq + 1;
	wi->open = wi->line_open;
	if (w->nincs >= w->nhash)
		winc_grow(w);
	LIST_INSERT_HEAD(winc_bucket(w, id), wi, hash_entry);
	w->nincs++;
	return (wi);
}

/* Note that an incarnation's committed state changed in this batch. */
void
winc_dirty(struct db_writer *w, struct winc *wi)
{
	if (!wi->dirty) {
		wi->dirty = 1;
		TAILQ_INSERT_TAIL(&w->dirty, wi, dirty_entry);
	}
}

/* Free a chunk. */
void
wchunk_free(struct wchunk *c)
{
	free(c->raw);
	lineidx_free(&c->idx);
	free(c);
}

/* Forget an incarnation (its pending bytes, if any, are lost). */
void
winc_forget(struct db_writer *w, struct winc *wi)
{
	if (wi->cur != NULL) {
		TAILQ_REMOVE(&w->pending, wi, pending_entry);
		w->discarded += wi->cur->acct;
		wchunk_free(wi->cur);
	}
	if (wi->dirty)
		TAILQ_REMOVE(&w->dirty, wi, dirty_entry);
	LIST_REMOVE(wi, hash_entry);
	w->nincs--;
	free(wi);
}

/* Find an incarnation already known; NULL if not loaded. */
struct winc *
winc_find(struct db_writer *w, int64_t id)
{
	struct winc	*wi;

	LIST_FOREACH(wi, winc_bucket(w, id), hash_entry) {
		if (wi->id == id)
			return (wi);
	}
	return (NULL);
}

/* Move an incarnation's pending chunk to the ready list. */
void
winc_cut(struct db_writer *w, struct winc *wi)
{
	struct wchunk	*c = wi->cur;

	if (c == NULL)
		return;
	TAILQ_REMOVE(&w->pending, wi, pending_entry);
	wi->cur = NULL;
	c->seq = wi->next_seq++;
	if (TAILQ_EMPTY(&w->ready) || c->start < w->ready_start)
		w->ready_start = c->start;
	TAILQ_INSERT_TAIL(&w->ready, c, entry);
	w->ready_raw += c->len;
}

enum { WINC_RING_NONE, WINC_RING_BYTES, WINC_RING_AT };

/* Append bytes to an incarnation's stream, cutting full chunks; the
 * line index gets every line start with the time of its first byte.
 * Bytes from a ring (ring WINC_RING_BYTES) end at ring position ring_end:
 * each chunk notes where its last byte ends; a marker for ring bytes
 * (WINC_RING_AT) puts its chunk at ring_end whole. */
static void
winc_add(struct db_writer *w, struct winc *wi, const unsigned char *p,
    size_t len, uint64_t ns, uint64_t gen, uint64_t acct, uint64_t start,
    int ring, uint32_t ring_end)
{
	struct wchunk		*c;
	const unsigned char	*nl, *end;
	size_t			 n, want;

	while (len > 0) {
		if ((c = wi->cur) == NULL) {
			c = wi->cur = xcalloc(1, sizeof *c);
			c->inc = wi->id;
			c->first_ns = ns;
			c->first_gen = gen;
			c->continues = wi->open;
			c->start = start;
			lineidx_init(&c->idx, ns, gen);
			lineidx_add(&c->idx, 0, ns, gen);
			TAILQ_INSERT_TAIL(&w->pending, wi, pending_entry);
		} else if (!wi->open)
			lineidx_add(&c->idx, (uint32_t)c->len, ns, gen);
		n = w->cfg.chunk_bytes - c->len;
		if (n > len)
			n = len;
		if (c->cap < c->len + n) {
			want = c->cap == 0 ? 4096 : c->cap;
			while (want < c->len + n)
				want *= 2;
			if (want > w->cfg.chunk_bytes)
				want = w->cfg.chunk_bytes;
			c->raw = xrealloc(c->raw, want);
			c->cap = want;
		}
		memcpy(c->raw + c->len, p, n);
		/* Line starts inside this piece: after each '\n' but its last
		 * byte (that one is noted when the next byte comes). */
		end = p + n - 1;
		for (nl = p; (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL;
		    nl++)
			lineidx_add(&c->idx, (uint32_t)(c->len + (size_t)(nl -
			    p) + 1), ns, gen);
		wi->open = p[n - 1] != '\n';
		c->len += n;
		c->last_ns = ns;
		c->last_gen = gen;
		if (acct > 0) {
			uint64_t	a = acct < n ? acct : n;

			c->acct += a;
			acct -= a;
		}
		p += n;
		len -= n;
		if (ring != WINC_RING_NONE) {
			c->has_ring = 1;
			c->ring_end = ring == WINC_RING_AT ? ring_end :
			    ring_end - (uint32_t)len;
		}
		if (c->len == w->cfg.chunk_bytes)
			winc_cut(w, wi);
	}
}

/* Handle one queued record. */
void
winc_record(struct db_writer *w, const struct wrec *r,
    const unsigned char *bytes, uint64_t start)
{
	struct winc	*wi;
	char		 marker[128];
	int		 n;

	if (r->ns > w->clock_ns)
		w->clock_ns = r->ns;
	switch (r->type) {
	case WREC_APPEND:
		if ((wi = winc_get(w, r->inc)) == NULL) {
			w->discarded += r->len;
			return;
		}
		winc_add(w, wi, bytes, r->len, r->ns, r->gen, r->len, start,
		    r->flags & WREC_F_RING ? WINC_RING_BYTES : WINC_RING_NONE,
		    r->pad);
		return;
	case WREC_DROPPED:
		if ((wi = winc_get(w, r->inc)) == NULL)
			return;
		/* The marker is a line of its own. */
		n = snprintf(marker, sizeof marker, "%s[xsconsoled: %llu bytes "
		    "%s]\n", wi->open ? "\n" : "", (unsigned long long)r->len,
		    r->flags & WREC_F_LOST ? "lost here: read, not written, "
		    "when the daemon stopped" : "dropped");
		winc_add(w, wi, (const unsigned char *)marker, (size_t)n,
		    r->ns, r->gen, 0, start, r->flags & WREC_F_RING ?
		    WINC_RING_AT : WINC_RING_NONE, r->pad);
		return;
	case WREC_END:
		if ((wi = winc_get(w, r->inc)) == NULL)
			return;
		winc_cut(w, wi);
		wi->ended = 1;
		if (w->nends == w->capends) {
			w->capends = w->capends == 0 ? 16 : w->capends * 2;
			w->ends = xrealloc(w->ends, w->capends * sizeof *w->ends);
		}
		w->ends[w->nends].id = r->inc;
		w->ends[w->nends].ns = r->ns;
		w->nends++;
		return;
	case WREC_BEGIN:
		w->begin = r->begin;
		return;
	}
	log_fatal("%s: unknown writer record %u", __func__, r->type);
}
