/*
 * The history's rows (hstore.h): batches written (hsink) and deleted,
 * read back by generation or time, and the conversion of a version 2
 * history (a row per commit and per change) into batches.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "codec.h"
#include "db-private.h"
#include "hmap.h"
#include "hstore.h"
#include "log.h"
#include "xmalloc.h"


/* A string of a set (an hmap entry: the key first), its bytes after. */
struct hstr {
	char	*key;
};

/* A block strings are carved from. */
#define HSTR_BLOCK	65536
struct hstrblk {
	struct hstrblk	*next;
	size_t		 used, size;
	max_align_t	 data[];
};

/* Start an empty set. */
void
hstrset_init(struct hstrset *set)
{
	memset(set, 0, sizeof *set);
	set->map = hmap_create();
}

/* A new entry for the first len bytes of s, listed (not in the map). A
 * batch lists thousands of paths: one allocation per block, not two per
 * path. */
static struct hstr *
hstrset_new(struct hstrset *set, const char *s, size_t len)
{
	struct hstrblk	*b = set->blk;
	struct hstr	*e;
	size_t		 need;

	need = (sizeof *e + len + 1 + sizeof(max_align_t) - 1) &
	    ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->size - b->used < need) {
		size_t	size = need > HSTR_BLOCK ? need : HSTR_BLOCK;

		b = xmalloc(sizeof *b + size);
		b->size = size;
		b->used = 0;
		b->next = set->blk;
		set->blk = b;
	}
	e = (struct hstr *)((char *)b->data + b->used);
	b->used += need;
	e->key = (char *)(e + 1);
	memcpy(e->key, s, len);
	e->key[len] = '\0';
	if (set->n == set->cap) {
		set->cap = set->cap == 0 ? 256 : set->cap * 2;
		set->v = xrealloc(set->v, set->cap * sizeof *set->v);
	}
	set->v[set->n++] = e;
	set->bytes += len + 1;
	return (e);
}

/* Append the first len bytes of s to the list, not to the map (the
 * caller knows they are new, or does not mind them twice). */
void
hstrset_append(struct hstrset *set, const char *s, size_t len)
{
	hstrset_new(set, s, len);
}

/* Add the first len bytes of s unless the set has them; whether it
 * was added. */
bool
hstrset_add(struct hstrset *set, const char *s, size_t len)
{
	char	 buf[256], *k;
	bool	 found;

	k = len < sizeof buf ? buf : xmalloc(len + 1);
	memcpy(k, s, len);
	k[len] = '\0';
	found = hmap_find(set->map, k) != NULL;
	if (k != buf)
		free(k);
	if (!found)
		hmap_insert(set->map, hstrset_new(set, s, len));
	return (!found);
}

/* Empty a set, keeping one block for the next strings. */
void
hstrset_clear(struct hstrset *set)
{
	struct hstrblk	*b;

	if (set->n == 0)
		return;
	hmap_clear(set->map);
	while ((b = set->blk) != NULL && b->next != NULL) {
		set->blk = b->next;
		free(b);
	}
	if (b != NULL)
		b->used = 0;
	set->n = 0;
	set->bytes = 0;
}

/* Free a set. */
void
hstrset_free(struct hstrset *set)
{
	hstrset_clear(set);
	free(set->blk);
	hmap_free(set->map);
	free(set->v);
	memset(set, 0, sizeof *set);
}

/*
 * The domid a path concerns: N for /local/domain/N and below, except
 * /local/domain/M/backend/TYPE/N and below, which concern N (the guest
 * the backend serves); -1 for any other path. *is_name is set for
 * /local/domain/N/name.
 */
int64_t
hist_subject(const char *path, bool *is_name)
{
	const char	*p, *q;
	uint64_t	 id = 0, be = 0;
	int		 digits = 0;

	*is_name = false;
	if (strncmp(path, "/local/domain/", 14) != 0)
		return (-1);
	for (p = path + 14; *p >= '0' && *p <= '9' && digits < 11; p++) {
		id = id * 10 + (uint64_t)(*p - '0');
		digits++;
	}
	if (digits == 0 || digits > 10 || id > UINT32_MAX ||
	    (*p != '\0' && *p != '/'))
		return (-1);
	if (*p == '\0')
		return ((int64_t)id);
	p++;
	if (strcmp(p, "name") == 0)
		*is_name = true;
	if (strncmp(p, "backend/", 8) != 0)
		return ((int64_t)id);
	if ((q = strchr(p + 8, '/')) == NULL || q == p + 8)
		return ((int64_t)id);
	for (digits = 0, q++; *q >= '0' && *q <= '9' && digits < 11; q++) {
		be = be * 10 + (uint64_t)(*q - '0');
		digits++;
	}
	if (digits == 0 || digits > 10 || be > UINT32_MAX ||
	    (*q != '\0' && *q != '/'))
		return ((int64_t)id);
	return ((int64_t)be);
}

/*
 * The key a path is indexed under (hpath): its parent directory ("/"
 * for "/" and the top level); the length of the key, a prefix of path.
 * A batch gets one index row per directory it changes, not one per
 * path: a guest's or a device's keys written over and over cost one
 * row per batch, and the rows of a batch go to few pages. Which of the
 * directory's batches has the path itself, each batch's list of paths
 * says (hbatch_has_path).
 */
size_t
hist_key_len(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return (1);
	return ((size_t)(slash - path));
}

/* Start a sink; level is zstd's. */
void
hsink_init(struct hsink *s, int level)
{
	memset(s, 0, sizeof *s);
	hstrset_init(&s->keys);
	hstrset_init(&s->paths);
	if ((s->zc = ZSTD_createCCtx()) == NULL)
		log_fatal("%s: out of memory", __func__);
	s->level = level;
}

/* Start a commit of nchanges changes in the open batch. */
void
hsink_commit(struct hsink *s, uint64_t gen, uint64_t ns, uint32_t origin,
    bool in_txn, uint32_t nchanges)
{
	hblob_enc_commit(&s->enc, gen, ns, origin, in_txn, nchanges);
}

/*
 * Add a change to the open commit, and its path to the batch's list.
 * listed: HSINK_LISTED if the caller knows the path is in the list
 * already, HSINK_NEW if it knows it is not, HSINK_LOOK to look (a path
 * listed twice is harmless: a list is only searched). The domid the
 * path concerns (hist_subject), with *is_name, if is_name is not NULL.
 */
int64_t
hsink_change(struct hsink *s, uint32_t flags, const char *path,
    const void *value, uint32_t vlen, const char *perms, int listed,
    bool *is_name)
{
	int64_t		 subj;
	bool		 name;

	hblob_enc_change(&s->enc, flags, path, value, vlen, perms);
	if (listed == HSINK_LOOK)
		hstrset_add(&s->paths, path, strlen(path));
	else if (listed == HSINK_NEW)
		hstrset_append(&s->paths, path, strlen(path));
	subj = hist_subject(path, &name);
	if (subj >= 0 && (s->nsubj == 0 || s->subj[s->nsubj - 1] != subj)) {
		if (s->nsubj == s->capsubj) {
			s->capsubj = s->capsubj == 0 ? 64 : s->capsubj * 2;
			s->subj = xrealloc(s->subj, s->capsubj *
			    sizeof *s->subj);
		}
		s->subj[s->nsubj++] = subj;
	}
	if (is_name != NULL)
		*is_name = name;
	return (subj);
}

/* Order for the subject list. */
static int
hstore_cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Empty a sink's batch (after it was stored, or given up). */
void
hsink_discard(struct hsink *s)
{
	hstrset_clear(&s->keys);
	hstrset_clear(&s->paths);
	s->nsubj = 0;
	s->epoch++;
	hblob_enc_reset(&s->enc);
}

/* Bind and run an insert of a key row. */
static int
hstore_key(struct db *db, enum db_stmt which, const char *path,
    int64_t subj, uint64_t batch)
{
	sqlite3_stmt	*st;

	if ((st = db_stmt(db, which)) == NULL)
		return (-EIO);
	if (path != NULL)
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, subj);
	sqlite3_bind_int64(st, 2, (int64_t)batch);
	return (db_step_done(db, which));
}

/*
 * Store the open batch, if it has commits: its hbatch row, its hpath and
 * hsubject rows (in the caller's transaction). The sink's totals count
 * what was stored.
 */
int
hsink_flush(struct db *db, struct hsink *s)
{
	struct hblob_enc	*e = &s->enc;
	sqlite3_stmt		*st;
	size_t			 outlen, plen, i, n;
	uint64_t		 size;
	int			 error;

	if (e->commits == 0)
		return (0);
	if ((error = hblob_compress(e, s->zc, s->level, &s->out, &s->outcap,
	    &outlen)) != 0) {
		hsink_discard(s);
		return (error);
	}
	if (s->nsubj > 1)
		qsort(s->subj, s->nsubj, sizeof *s->subj, hstore_cmp_i64);
	for (i = n = 0; i < s->nsubj; i++) {
		if (n == 0 || s->subj[n - 1] != s->subj[i])
			s->subj[n++] = s->subj[i];
	}
	s->nsubj = n;
	/* The batch's keys: its paths' directories. */
	for (i = 0; i < s->paths.n; i++)
		hstrset_add(&s->keys, s->paths.v[i]->key,
		    hist_key_len(s->paths.v[i]->key));
	/* The batch's paths, NUL-terminated, in the order first changed:
	 * what with_old looks through before it decodes a batch. */
	if (s->plistcap < s->paths.bytes) {
		s->plistcap = s->paths.bytes;
		s->plist = xrealloc(s->plist, s->plistcap);
	}
	for (i = n = 0; i < s->paths.n; i++) {
		size_t	l = strlen(s->paths.v[i]->key) + 1;

		memcpy(s->plist + n, s->paths.v[i]->key, l);
		n += l;
	}
	if (codec_deflate(s->zc, s->level, s->plist, n, &s->pout,
	    &s->poutcap, &plen) != 0) {
		log_error("history: cannot compress a batch's paths");
		hsink_discard(s);
		return (-EIO);
	}
	size = HBATCH_BYTES + outlen + plen + s->nsubj * HKEY_BYTES +
	    s->keys.n * HKEY_BYTES + s->keys.bytes;
	if ((st = db_stmt(db, ST_HBATCH_INSERT)) == NULL) {
		hsink_discard(s);
		return (-EIO);
	}
	sqlite3_bind_int64(st, 1, (int64_t)e->gen_lo);
	sqlite3_bind_int64(st, 2, (int64_t)e->gen_hi);
	sqlite3_bind_int64(st, 3, (int64_t)e->ns_lo);
	sqlite3_bind_int64(st, 4, (int64_t)e->ns_hi);
	sqlite3_bind_int64(st, 5, (int64_t)e->commits);
	sqlite3_bind_int64(st, 6, (int64_t)e->changes);
	sqlite3_bind_int64(st, 7, (int64_t)e->len);
	sqlite3_bind_int64(st, 8, (int64_t)size);
	sqlite3_bind_blob(st, 9, s->out, (int)outlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (int64_t)n);
	sqlite3_bind_blob(st, 11, s->pout, (int)plen, SQLITE_STATIC);
	error = db_step_done(db, ST_HBATCH_INSERT);
	for (i = 0; i < s->keys.n && error == 0; i++)
		error = hstore_key(db, ST_HPATH_INSERT, s->keys.v[i]->key, 0,
		    e->gen_lo);
	for (i = 0; i < s->nsubj && error == 0; i++)
		error = hstore_key(db, ST_HSUBJ_INSERT, NULL, s->subj[i],
		    e->gen_lo);
	if (error == 0) {
		s->commits += e->commits;
		s->changes += e->changes;
		s->bytes += size;
	}
	hsink_discard(s);
	return (error);
}

/* Store the open batch if it is big enough (between commits only). */
int
hsink_maybe_flush(struct db *db, struct hsink *s)
{
	return (s->enc.len >= HBATCH_RAW_MAX ? hsink_flush(db, s) : 0);
}

/* Free a sink (what it had not stored is lost). */
void
hsink_free(struct hsink *s)
{
	hsink_discard(s);
	hstrset_free(&s->keys);
	hstrset_free(&s->paths);
	ZSTD_freeCCtx(s->zc);
	hblob_enc_free(&s->enc);
	free(s->subj);
	free(s->out);
	free(s->pout);
	free(s->plist);
	memset(s, 0, sizeof *s);
}

/*
 * Step a statement selecting HB_COLUMNS (prepared and bound by the
 * caller): 1 and the row (valid until the statement moves), 0 at the
 * end, or -errno.
 */
int
hbatch_read(struct db *db, sqlite3_stmt *st, struct hbatch_row *r)
{
	int	rc;

	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		return (0);
	if (rc != SQLITE_ROW) {
		log_error("%s: %s", db->path, sqlite3_errmsg(db->sql));
		return (-db_errno(rc));
	}
	r->gen_lo = (uint64_t)sqlite3_column_int64(st, 0);
	r->gen_hi = (uint64_t)sqlite3_column_int64(st, 1);
	r->ns_lo = (uint64_t)sqlite3_column_int64(st, 2);
	r->ns_hi = (uint64_t)sqlite3_column_int64(st, 3);
	r->commits = (uint64_t)sqlite3_column_int64(st, 4);
	r->changes = (uint64_t)sqlite3_column_int64(st, 5);
	r->raw = (uint64_t)sqlite3_column_int64(st, 6);
	r->size = (uint64_t)sqlite3_column_int64(st, 7);
	r->data = sqlite3_column_blob(st, 8);
	r->len = (size_t)sqlite3_column_bytes(st, 8);
	return (1);
}

/* The handle's zstd context for batches, made on first use (NULL if
 * it cannot be: codec_inflate then makes one of its own). */
static void *
hstore_dctx(struct db *db)
{
	if (db->dctx == NULL)
		db->dctx = ZSTD_createDCtx();
	return (db->dctx);
}

/* Decode a batch row's blob; 0 or -EIO (logged: the file is corrupt). */
int
hbatch_decode(struct db *db, const struct hbatch_row *r, struct hblob *b)
{
	int	error;

	error = hblob_decode(hstore_dctx(db), r->data, r->len, r->raw,
	    r->commits, r->changes, b);
	if (error == -EIO)
		log_error("history: the batch of generations %llu-%llu is "
		    "corrupt", (unsigned long long)r->gen_lo,
		    (unsigned long long)r->gen_hi);
	return (error);
}

/* Delete a batch and its key rows (b: its decoded blob). */
int
hbatch_delete(struct db *db, const struct hbatch_row *r,
    const struct hblob *b)
{
	struct hstrset	 keys;
	sqlite3_stmt	*st;
	int64_t		 subj, last = -1;
	size_t		 i;
	bool		 is_name;
	int		 error = 0;

	hstrset_init(&keys);
	for (i = 0; i < b->nch && error == 0; i++) {
		const char	*path = b->ch[i].path;

		subj = hist_subject(path, &is_name);
		if (subj >= 0 && subj != last) {
			error = hstore_key(db, ST_HSUBJ_DELETE, NULL, subj,
			    r->gen_lo);
			last = subj;
		}
		hstrset_add(&keys, path, hist_key_len(path));
	}
	for (i = 0; i < keys.n && error == 0; i++)
		error = hstore_key(db, ST_HPATH_DELETE, keys.v[i]->key, 0,
		    r->gen_lo);
	hstrset_free(&keys);
	if (error != 0)
		return (error);
	if ((st = db_stmt(db, ST_HBATCH_DELETE)) == NULL)
		return (-EIO);
	sqlite3_bind_int64(st, 1, (int64_t)r->gen_lo);
	return (db_step_done(db, ST_HBATCH_DELETE));
}

/*
 * Whether batch gen_lo changes path, from its list of paths (small,
 * without decoding the batch); 0, or -EIO if the list is corrupt.
 */
int
hbatch_has_path(struct db *db, uint64_t gen_lo, const char *path,
    bool *has)
{
	sqlite3_stmt		*st;
	unsigned char		*list = NULL;
	char			*needle;
	uint64_t		 raw;
	size_t			 plen = strlen(path) + 1;
	int			 rc, error = 0;

	*has = false;
	needle = xmalloc(plen + 1);
	needle[0] = '\0';
	memcpy(needle + 1, path, plen);
	if ((st = db_stmt(db, ST_HBATCH_PATHS)) == NULL) {
		free(needle);
		return (-EIO);
	}
	sqlite3_bind_int64(st, 1, (int64_t)gen_lo);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		raw = (uint64_t)sqlite3_column_int64(st, 0);
		if (raw == 0 || raw > HBLOB_MAX_RAW ||
		    codec_inflate(hstore_dctx(db), sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), raw, &list) != 0 ||
		    list[raw - 1] != '\0')
			error = -EIO;
		/* "path\0" at the start, or "\0path\0" anywhere. */
		if (error == 0 && raw >= plen)
			*has = memcmp(list, path, plen) == 0 ||
			    memmem(list, (size_t)raw, needle, plen + 1) != NULL;
		free(list);
	} else if (rc != SQLITE_DONE) {
		log_error("%s: %s", db->path, sqlite3_errmsg(db->sql));
		error = -db_errno(rc);
	}
	sqlite3_reset(st);
	free(needle);
	if (error == -EIO)
		log_error("history: the path list of batch %llu is corrupt",
		    (unsigned long long)gen_lo);
	return (error);
}

/* Unlink and free a node of a rebuilt tree. */
void
htree_remove(struct htree *t, const char *path)
{
	struct hnode	*n;

	if ((n = hmap_remove(t->map, path)) == NULL)
		return;
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		t->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		t->tail = n->prev;
	free(n->path);
	free(n->value);
	free(n->perms);
	free(n);
}

/* Set a node of a rebuilt tree: created ones go last; others keep their
 * place (and are made, last, if they are missing). */
void
htree_set(struct htree *t, const char *path, const void *v, uint32_t vlen,
    const char *perms, uint64_t gen, bool created)
{
	struct hnode	*n;

	if (created)
		htree_remove(t, path);
	if ((n = hmap_find(t->map, path)) == NULL) {
		n = xcalloc(1, sizeof *n);
		n->path = xstrdup(path);
		n->prev = t->tail;
		if (t->tail != NULL)
			t->tail->next = n;
		else
			t->head = n;
		t->tail = n;
		hmap_insert(t->map, n);
	} else {
		free(n->value);
		free(n->perms);
	}
	n->value = xmemdup(vlen > 0 ? v : "", vlen > 0 ? vlen : 1);
	n->vlen = vlen;
	n->perms = xstrdup(perms != NULL ? perms : "");
	n->gen = gen;
}

/* Free a rebuilt tree. */
void
htree_free(struct htree *t)
{
	while (t->head != NULL)
		htree_remove(t, t->head->path);
	hmap_free(t->map);
}

/* Run statement which (HB_COLUMNS), bound to v unless it takes none,
 * for its first row: 1 (reset the statement after), 0 or -errno. */
int
hbatch_first(struct db *db, int which, uint64_t v, struct hbatch_row *r)
{
	sqlite3_stmt	*st;

	if ((st = db_stmt(db, which)) == NULL)
		return (-EIO);
	if (which != ST_HBATCH_FIRST && which != ST_HBATCH_LAST)
		sqlite3_bind_int64(st, 1, v > INT64_MAX ? INT64_MAX :
		    (int64_t)v);
	return (hbatch_read(db, st, r));
}

/*
 * The first commit at or after time ns (times are taken to grow with
 * generations: the first batch that ends at or after ns holds it).
 * *found false: none.
 */
int
hist_gen_since(struct db *db, uint64_t ns, uint64_t *gen, bool *found)
{
	struct hbatch_row	r;
	struct hblob		b;
	size_t			i;
	int			ret;

	*found = false;
	if ((ret = hbatch_first(db, ST_HBATCH_SINCE_NS, ns, &r)) <= 0) {
		sqlite3_reset(db->stmt[ST_HBATCH_SINCE_NS]);
		return (ret);
	}
	if (r.ns_lo >= ns) {
		*gen = r.gen_lo;
		*found = true;
	} else if ((ret = hbatch_decode(db, &r, &b)) == 0) {
		for (i = 0; i < b.nc && !*found; i++) {
			if (b.c[i].ns >= ns) {
				*gen = b.c[i].gen;
				*found = true;
			}
		}
		hblob_free(&b);
	}
	sqlite3_reset(db->stmt[ST_HBATCH_SINCE_NS]);
	return (ret < 0 ? ret : 0);
}

/* The last commit at or before time ns; *found false: none. */
int
hist_gen_at(struct db *db, uint64_t ns, uint64_t *gen, bool *found)
{
	struct hbatch_row	r;
	struct hblob		b;
	uint64_t		lo = 0;
	size_t			i;
	int			ret, which;

	*found = false;
	/* The first batch that ends after ns: the commit is in it, or
	 * is the last of the batch before. */
	if ((ret = hbatch_first(db, ST_HBATCH_AFTER_NS, ns, &r)) < 0) {
		sqlite3_reset(db->stmt[ST_HBATCH_AFTER_NS]);
		return (ret);
	}
	if (ret == 1 && r.ns_lo <= ns) {
		if ((ret = hbatch_decode(db, &r, &b)) == 0) {
			for (i = 0; i < b.nc; i++) {
				if (b.c[i].ns <= ns) {
					*gen = b.c[i].gen;
					*found = true;
				}
			}
			hblob_free(&b);
		}
		sqlite3_reset(db->stmt[ST_HBATCH_AFTER_NS]);
		return (ret);
	}
	which = ret == 1 ? ST_HBATCH_BEFORE : ST_HBATCH_LAST;
	if (ret == 1)
		lo = r.gen_lo;
	sqlite3_reset(db->stmt[ST_HBATCH_AFTER_NS]);
	if ((ret = hbatch_first(db, which, lo, &r)) == 1) {
		*gen = r.gen_hi;
		*found = true;
	}
	sqlite3_reset(db->stmt[which]);
	return (ret < 0 ? ret : 0);
}

/* The batch holding generation gen, or the first after it, decoded
 * into b (free it): 1, 0 (none) or -errno. */
int
hbatch_from(struct db *db, uint64_t gen, struct hbatch_row *r,
    struct hblob *b)
{
	int	ret, which = ST_HBATCH_AT;

	if ((ret = hbatch_first(db, ST_HBATCH_AT, gen, r)) == 1 &&
	    r->gen_hi < gen)
		ret = 0;
	if (ret == 0) {
		sqlite3_reset(db->stmt[ST_HBATCH_AT]);
		which = ST_HBATCH_NEXT;
		ret = hbatch_first(db, ST_HBATCH_NEXT, gen, r);
	}
	if (ret == 1 && (ret = hbatch_decode(db, r, b)) == 0)
		ret = 1;
	if (db->stmt[which] != NULL)
		sqlite3_reset(db->stmt[which]);
	return (ret);
}

/* The first commit at or after generation gen: its generation and
 * time; *found false: none. */
int
hist_first_at(struct db *db, uint64_t gen, uint64_t *g, uint64_t *ns,
    bool *found)
{
	struct hbatch_row	r;
	struct hblob		b;
	size_t			i;
	int			ret;

	*found = false;
	if ((ret = hbatch_from(db, gen, &r, &b)) <= 0)
		return (ret);
	for (i = 0; i < b.nc && !*found; i++) {
		if (b.c[i].gen >= gen) {
			*g = b.c[i].gen;
			*ns = b.c[i].ns;
			*found = true;
		}
	}
	hblob_free(&b);
	return (0);
}

/*
 * Convert a version 2 history (hcommit, hchange) into batches, names
 * into hname, and recount the totals (in the migration's transaction).
 */
int
hstore_migrate(struct db *db)
{
	struct hsink	 s;
	sqlite3_stmt	*st;
	uint64_t	 gen, prev = 0;
	int		 rc, error = 0, flags;
	char		*msg = NULL;

	rc = sqlite3_prepare_v2(db->sql, "SELECT c.gen, h.time_ns, h.origin,"
	    " h.in_txn, c.path, c.flags, c.value, c.perms,"
	    " count(*) OVER (PARTITION BY c.gen)"
	    " FROM hchange c JOIN hcommit h ON h.gen = c.gen"
	    " ORDER BY c.gen, c.seq", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("%s: %s", db->path, sqlite3_errmsg(db->sql));
		return (-db_errno(rc));
	}
	hsink_init(&s, HBATCH_LEVEL);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void	*v = sqlite3_column_blob(st, 6);
		const char	*perms = (const char *)sqlite3_column_text(st, 7);

		gen = (uint64_t)sqlite3_column_int64(st, 0);
		if (gen != prev) {
			if ((error = hsink_maybe_flush(db, &s)) != 0)
				break;
			hsink_commit(&s, gen, (uint64_t)sqlite3_column_int64(st,
			    1), (uint32_t)sqlite3_column_int64(st, 2),
			    sqlite3_column_int(st, 3) != 0,
			    (uint32_t)sqlite3_column_int64(st, 8));
			prev = gen;
		}
		flags = sqlite3_column_int(st, 5) & (HBLOB_DELETED |
		    HBLOB_CREATED);
		hsink_change(&s, (uint32_t)flags,
		    (const char *)sqlite3_column_text(st, 4),
		    v != NULL ? v : "", (uint32_t)sqlite3_column_bytes(st, 6),
		    perms != NULL ? perms : "", HSINK_LOOK, NULL);
	}
	if (error == 0 && rc != SQLITE_DONE) {
		log_error("%s: %s", db->path, sqlite3_errmsg(db->sql));
		error = -db_errno(rc);
	}
	sqlite3_finalize(st);
	if (error == 0)
		error = hsink_flush(db, &s);
	if (error == 0)
		log_info("%s: history converted: %llu commits, %llu changes",
		    db->path, (unsigned long long)s.commits,
		    (unsigned long long)s.changes);
	hsink_free(&s);
	if (error != 0)
		return (error);
	rc = sqlite3_exec(db->sql, "INSERT OR REPLACE INTO hname"
	    " SELECT c.subject, c.gen, h.time_ns,"
	    "  CASE WHEN c.flags & 1 THEN NULL ELSE c.value END"
	    " FROM hchange c JOIN hcommit h ON h.gen = c.gen"
	    " WHERE c.path = '/local/domain/' || c.subject || '/name';"
	    "UPDATE hstate SET"
	    " bytes = (SELECT total(size) FROM hbatch) +"
	    "  (SELECT total(length(data) + 32) FROM snapshot),"
	    " commits = (SELECT total(commits) FROM hbatch),"
	    " changes = (SELECT total(changes) FROM hbatch)", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_error("%s: %s", db->path, msg);
		sqlite3_free(msg);
		return (-db_errno(rc));
	}
	return (0);
}
