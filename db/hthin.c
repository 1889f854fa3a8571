/*
 * The history's thinning and byte budget, in the writer thread's
 * transactions (docs/console-db.md, "Thinning"). Commits in the full
 * band (younger than history_full_s of the writer's clock, or among the
 * newest history_full_commits generations) are kept whole; older ones,
 * younger than history_minute_s, keep the last change per path per
 * minute; older still, the last per path per hour; commits left without
 * changes go. Then, while the history is over history_max_bytes, the
 * oldest commits go, and with them the snapshots they leave useless.
 * The history is in batches (hstore.h): thinning rewrites the batches
 * it changes. Each commit is thinned once per band it enters (with the
 * thinned part of the bucket it starts in): marks (hstate.thin_min,
 * thin_hour) say how far each band has been done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "log.h"
#include "writer.h"
#include "xmalloc.h"

#define NS_PER_MIN	(60 * NS_PER_S)
#define NS_PER_HOUR	(3600 * NS_PER_S)

/* A change, by generation and place in its commit. */
struct hthin_at {
	uint64_t	 gen;
	uint64_t	 seq;
};

/* The kept change of a path in the current bucket (pass 1). */
struct hthin_ent {
	char		*key;		/* the path */
	struct hthin_at	 at;
	bool		 created;	/* made in the bucket */
};

/* What pass 1 decided: changes to drop, and kept changes that inherit
 * created; both sorted for pass 2. */
struct hthin_plan {
	struct hthin_at	*drop, *made;
	size_t		 ndrop, capdrop, nmade, capmade;
	struct hmap	*map;
	struct hthin_ent **entv;
	size_t		 nent, capent;
	uint64_t	 bucket;
};

/* The first generation committed at or after ns (by the commits' times,
 * taken to grow with generations); none: last_gen + 1. */
static int
hthin_gen_since(struct db_writer *w, uint64_t ns, uint64_t *gen)
{
	bool	found;
	int	error;

	if ((error = hist_gen_since(w->db, ns, gen, &found)) != 0)
		return (error);
	if (!found)
		*gen = w->h.last_gen + 1;
	return (0);
}

/* Append to a list of changes. */
static void
hthin_push(struct hthin_at **v, size_t *n, size_t *cap, uint64_t gen,
    uint64_t seq)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 256 : *cap * 2;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[*n].gen = gen;
	(*v)[*n].seq = seq;
	(*n)++;
}

/* Order of changes. */
static int
hthin_cmp(const void *a, const void *b)
{
	const struct hthin_at	*x = a, *y = b;

	if (x->gen != y->gen)
		return (x->gen < y->gen ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* Whether (gen, seq) is in a sorted list (a cursor walks it in order). */
static bool
hthin_in(const struct hthin_at *v, size_t n, size_t *i, uint64_t gen,
    uint64_t seq)
{
	struct hthin_at	at = { gen, seq };

	while (*i < n && hthin_cmp(&v[*i], &at) < 0)
		(*i)++;
	return (*i < n && hthin_cmp(&v[*i], &at) == 0);
}

/* Whether a sorted list has a change of generations [lo, hi]. */
static bool
hthin_any(const struct hthin_at *v, size_t n, uint64_t lo, uint64_t hi)
{
	size_t	a = 0, b = n, m;

	while (a < b) {			/* the first at or after lo */
		m = a + (b - a) / 2;
		if (v[m].gen < lo)
			a = m + 1;
		else
			b = m;
	}
	return (a < n && v[a].gen <= hi);
}

/* Forget pass 1's paths (a new bucket, or the end). */
static void
hthin_plan_clear(struct hthin_plan *p)
{
	size_t	i;

	for (i = 0; i < p->nent; i++) {
		hmap_remove(p->map, p->entv[i]->key);
		free(p->entv[i]->key);
		free(p->entv[i]);
	}
	p->nent = 0;
}

/* Pass 1 over one commit: each change replaces the kept change of its
 * path in the same bucket, which goes (a node made in the bucket is
 * still made: the kept change inherits created). */
static void
hthin_plan_commit(struct hthin_plan *p, const struct hblob *b, size_t ci,
    uint64_t bucket_ns)
{
	const struct hblob_commit	*c = &b->c[ci];
	const struct hblob_change	*ch;
	struct hthin_ent		*e;
	uint64_t			 bucket = c->ns / bucket_ns;
	size_t				 j;
	bool				 created;

	if (bucket != p->bucket) {
		hthin_plan_clear(p);
		p->bucket = bucket;
	}
	for (j = 0; j < c->n; j++) {
		ch = &b->ch[c->first + j];
		created = (ch->flags & HBLOB_CREATED) != 0;
		if ((e = hmap_find(p->map, ch->path)) != NULL) {
			hthin_push(&p->drop, &p->ndrop, &p->capdrop,
			    e->at.gen, e->at.seq);
			if (e->created && !(ch->flags & (HBLOB_CREATED |
			    HBLOB_DELETED))) {
				created = true;
				hthin_push(&p->made, &p->nmade, &p->capmade,
				    c->gen, j);
			}
		} else {
			e = xcalloc(1, sizeof *e);
			e->key = xstrdup(ch->path);
			hmap_insert(p->map, e);
			if (p->nent == p->capent) {
				p->capent = p->capent == 0 ? 256 :
				    p->capent * 2;
				p->entv = xrealloc(p->entv, p->capent *
				    sizeof *p->entv);
			}
			p->entv[p->nent++] = e;
		}
		e->at.gen = c->gen;
		e->at.seq = j;
		e->created = created;
	}
}

/* Free a plan. */
static void
hthin_plan_free(struct hthin_plan *p)
{
	hthin_plan_clear(p);
	hmap_free(p->map);
	free(p->entv);
	free(p->drop);
	free(p->made);
}

/* Count a deleted batch out of the totals. */
static void
hthin_count_out(struct db_writer *w, const struct hbatch_row *r)
{
	struct hstate	*h = &w->h;

	h->commits -= r->commits < h->commits ? r->commits : h->commits;
	h->changes -= r->changes < h->changes ? r->changes : h->changes;
	h->bytes -= r->size < h->bytes ? r->size : h->bytes;
}

/* Count what the sink stored in. */
static void
hthin_count_in(struct db_writer *w)
{
	w->h.commits += w->sink.commits;
	w->h.changes += w->sink.changes;
	w->h.bytes += w->sink.bytes;
	w->sink.commits = w->sink.changes = w->sink.bytes = 0;
}

/* Copy a commit to the sink, whole or with the plan applied. */
static void
hthin_copy(struct hsink *s, const struct hblob *b, size_t ci, bool thin,
    const struct hthin_plan *p, size_t *di, size_t *mi)
{
	const struct hblob_commit	*c = &b->c[ci];
	const struct hblob_change	*ch;
	size_t				 j, keep = 0, d0 = di != NULL ? *di : 0;
	uint32_t			 flags;

	for (j = 0; j < c->n; j++) {
		if (!thin || !hthin_in(p->drop, p->ndrop, di, c->gen, j))
			keep++;
	}
	if (keep == 0)
		return;			/* a commit left without changes */
	if (di != NULL)
		*di = d0;
	hsink_commit(s, c->gen, c->ns, c->origin, c->in_txn, (uint32_t)keep);
	for (j = 0; j < c->n; j++) {
		ch = &b->ch[c->first + j];
		if (thin && hthin_in(p->drop, p->ndrop, di, c->gen, j))
			continue;
		flags = ch->flags;
		if (thin && hthin_in(p->made, p->nmade, mi, c->gen, j))
			flags |= HBLOB_CREATED;
		hsink_change(s, flags, ch->path, ch->value, ch->vlen,
		    ch->perms, HSINK_LOOK, NULL);
	}
}

/*
 * Thin the changes of generations [lo, hi) to the last per path per
 * bucket, dropping the commits left without changes. The bucket lo is
 * in may have been thinned before, up to lo: its thinned part (not
 * below floor, the band's start) is taken again, so the result is as if
 * the whole bucket were thinned at once. Pass 1 reads the batches and
 * plans; pass 2 rewrites the batches the plan touches.
 */
static int
hthin_range(struct db_writer *w, uint64_t lo, uint64_t hi,
    uint64_t bucket_ns, uint64_t floor)
{
	struct db		*db = w->db;
	struct hthin_plan	 p;
	struct hbatch_row	 r;
	struct hblob		 b;
	uint64_t		 g, t, from, gen;
	size_t			 i, di = 0, mi = 0;
	bool			 found;
	int			 ret, error = 0;

	if (lo >= hi)
		return (0);
	if ((error = hist_first_at(db, lo, &g, &t, &found)) != 0)
		return (error);
	if (!found || g >= hi)
		return (0);
	if ((error = hist_gen_since(db, t - t % bucket_ns, &from,
	    &found)) != 0)
		return (error);
	if (!found || from > g)
		from = g;
	if (from < floor)
		from = floor;

	memset(&p, 0, sizeof p);
	p.map = hmap_create();
	p.bucket = UINT64_MAX;
	for (gen = from; error == 0 && gen < hi; gen = r.gen_hi + 1) {
		if ((ret = hbatch_from(w->db, gen, &r, &b)) <= 0) {
			error = ret;
			break;
		}
		for (i = 0; i < b.nc; i++) {
			if (b.c[i].gen >= from && b.c[i].gen < hi)
				hthin_plan_commit(&p, &b, i, bucket_ns);
		}
		hblob_free(&b);
		if (r.gen_lo >= hi)
			break;
	}
	hthin_plan_clear(&p);
	if (error != 0 || p.ndrop == 0) {
		hthin_plan_free(&p);
		return (error);
	}
	qsort(p.drop, p.ndrop, sizeof *p.drop, hthin_cmp);
	if (p.nmade > 1)
		qsort(p.made, p.nmade, sizeof *p.made, hthin_cmp);

	for (gen = from; error == 0 && gen < hi; gen = r.gen_hi + 1) {
		if ((ret = hbatch_from(w->db, gen, &r, &b)) <= 0) {
			error = ret;
			break;
		}
		if (r.gen_lo >= hi) {
			hblob_free(&b);
			break;
		}
		/* A batch the plan does not touch stays as it is. */
		if (!hthin_any(p.drop, p.ndrop, r.gen_lo, r.gen_hi) &&
		    !hthin_any(p.made, p.nmade, r.gen_lo, r.gen_hi)) {
			error = hsink_flush(db, &w->sink);
			hblob_free(&b);
			continue;
		}
		if ((error = hbatch_delete(db, &r, &b)) == 0) {
			hthin_count_out(w, &r);
			for (i = 0; i < b.nc && error == 0; i++) {
				hthin_copy(&w->sink, &b, i, b.c[i].gen >= from &&
				    b.c[i].gen < hi, &p, &di, &mi);
				error = hsink_maybe_flush(db, &w->sink);
			}
		}
		hblob_free(&b);
	}
	if (error == 0)
		error = hsink_flush(db, &w->sink);
	hsink_discard(&w->sink);
	hthin_count_in(w);
	hthin_plan_free(&p);
	return (error);
}

/* ns seconds, saturated. */
static uint64_t
hthin_ns(uint64_t s)
{
	return (s > UINT64_MAX / NS_PER_S ? UINT64_MAX : s * NS_PER_S);
}

/*
 * Thin what left the full band since the last run (minute buckets), and
 * what left the minute band (hour buckets), oldest band first.
 */
int
hthin_run(struct db_writer *w)
{
	struct hstate	*h = &w->h;
	uint64_t	 clock = w->clock_ns, full_from, min_from, t, g, lo;
	int		 error;

	if (h->last_gen == 0)
		return (0);
	/* The full band: the newest full_commits generations, and the
	 * commits younger than full_s. */
	full_from = h->last_gen >= w->cfg.history_full_commits ?
	    h->last_gen - w->cfg.history_full_commits + 1 : 0;
	t = hthin_ns(w->cfg.history_full_s);
	t = clock > t ? clock - t : 0;
	if ((error = hthin_gen_since(w, t, &g)) != 0)
		return (error);
	if (g < full_from)
		full_from = g;
	/* The minute band: younger than minute_s, older than full. */
	t = hthin_ns(w->cfg.history_minute_s);
	t = clock > t ? clock - t : 0;
	if ((error = hthin_gen_since(w, t, &min_from)) != 0)
		return (error);
	if (min_from > full_from)
		min_from = full_from;

	if (min_from > h->thin_hour) {
		if ((error = hthin_range(w, h->thin_hour, min_from,
		    NS_PER_HOUR, 0)) != 0)
			return (error);
		log_debug("%s: history thinned per hour up to generation %llu",
		    w->db->path, (unsigned long long)min_from);
		h->thin_hour = min_from;
	}
	lo = h->thin_min > h->thin_hour ? h->thin_min : h->thin_hour;
	if (full_from > lo) {
		if ((error = hthin_range(w, lo, full_from, NS_PER_MIN,
		    h->thin_hour)) != 0)
			return (error);
		log_debug("%s: history thinned per minute up to generation "
		    "%llu", w->db->path, (unsigned long long)full_from);
	}
	if (full_from > h->thin_min)
		h->thin_min = full_from;
	if (h->thin_min < h->thin_hour)
		h->thin_min = h->thin_hour;
	return (0);
}

/* The raw bytes a commit takes, about (how much of a batch to drop). */
static uint64_t
hthin_commit_raw(const struct hblob *b, size_t ci)
{
	const struct hblob_change	*ch;
	uint64_t			 n = 8;
	size_t				 j;

	for (j = 0; j < b->c[ci].n; j++) {
		ch = &b->ch[b->c[ci].first + j];
		n += 4 + strlen(ch->path) + 1 + ch->vlen +
		    (ch->perms != NULL ? strlen(ch->perms) + 1 : 0);
	}
	return (n);
}

/*
 * Drop the oldest commits of the oldest batch, as many as the excess
 * over the budget asks for (the whole batch if it is no bigger than the
 * excess): the batch is rewritten without them.
 */
static int
hthin_drop_oldest(struct db_writer *w, uint64_t excess)
{
	struct db		*db = w->db;
	struct hbatch_row	 r;
	struct hblob		 b;
	uint64_t		 want, got = 0;
	size_t			 i, k;
	int			 ret, error;

	if (db_stmt(db, ST_HBATCH_FIRST) == NULL)
		return (-EIO);
	if ((ret = hbatch_read(db, db->stmt[ST_HBATCH_FIRST], &r)) == 1 &&
	    (ret = hbatch_decode(db, &r, &b)) == 0)
		ret = 1;
	sqlite3_reset(db->stmt[ST_HBATCH_FIRST]);
	if (ret <= 0)
		return (ret);
	/* The raw bytes to drop: the excess's share of the batch. */
	want = r.size <= excess ? r.raw : (uint64_t)((double)r.raw *
	    (double)excess / (double)r.size) + 1;
	for (k = 0; k < b.nc && got < want; k++)
		got += hthin_commit_raw(&b, k);
	if ((error = hbatch_delete(db, &r, &b)) == 0) {
		hthin_count_out(w, &r);
		for (i = k; i < b.nc && error == 0; i++) {
			hthin_copy(&w->sink, &b, i, false, NULL, NULL, NULL);
			error = hsink_maybe_flush(db, &w->sink);
		}
		if (error == 0)
			error = hsink_flush(db, &w->sink);
		hsink_discard(&w->sink);
		hthin_count_in(w);
		if (b.c[k - 1].gen > w->h.dropped_gen)
			w->h.dropped_gen = b.c[k - 1].gen;
	}
	hblob_free(&b);
	return (error != 0 ? error : 1);
}

/* Delete the snapshots older than gen, but the newest of all. */
static int
hthin_drop_snapshots(struct db_writer *w, uint64_t gen)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	int64_t		 gens[WRITER_RETAIN_ROWS];
	uint64_t	 sizes[WRITER_RETAIN_ROWS], size;
	int		 n, i, rc, error;

	do {
		if ((st = db_stmt(db, ST_SNAP_OLD)) == NULL)
			return (-EIO);
		sqlite3_bind_int64(st, 1, gen > INT64_MAX ? INT64_MAX :
		    (int64_t)gen);
		for (n = 0; n < WRITER_RETAIN_ROWS &&
		    (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			gens[n] = sqlite3_column_int64(st, 0);
			sizes[n] = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		for (i = 0; i < n; i++) {
			if ((st = db_stmt(db, ST_SNAP_DELETE)) == NULL)
				return (-EIO);
			sqlite3_bind_int64(st, 1, gens[i]);
			if ((error = db_step_done(db, ST_SNAP_DELETE)) != 0)
				return (error);
			size = sizes[i] + HSNAPSHOT_BYTES;
			w->h.snapshots -= w->h.snapshots > 0 ? 1 : 0;
			w->h.bytes -= size < w->h.bytes ? size : w->h.bytes;
		}
	} while (n == WRITER_RETAIN_ROWS);
	return (0);
}

/*
 * The byte budget: while the history (batches, their keys and the
 * snapshots, as counted) is over history_max_bytes, the oldest commits
 * go, and the snapshots older than what is left (but the newest
 * snapshot, always kept), and the names of what went.
 */
int
hthin_budget(struct db_writer *w)
{
	struct db	*db = w->db;
	sqlite3_stmt	*st;
	uint64_t	 max = w->cfg.history_max_bytes;
	int		 ret, error;

	while (w->h.bytes > max) {
		if ((ret = hthin_drop_oldest(w, w->h.bytes - max)) < 0)
			return (ret);
		if (ret == 0)
			break;
		if ((error = hthin_drop_snapshots(w, w->h.dropped_gen)) != 0)
			return (error);
	}
	if (w->h.bytes > max &&
	    (error = hthin_drop_snapshots(w, UINT64_MAX)) != 0)
		return (error);
	if ((st = db_stmt(db, ST_HNAME_PRUNE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, (int64_t)w->h.dropped_gen);
	if ((error = db_step_done(db, ST_HNAME_PRUNE)) != 0)
		return (error);
	log_debug("%s: history within its budget: %llu bytes, commits from "
	    "generation %llu on", db->path, (unsigned long long)w->h.bytes,
	    (unsigned long long)w->h.dropped_gen + 1);
	return (0);
}
