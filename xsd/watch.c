/*
 * Watches. They are kept in buckets indexed by path (tsearch(3)), so a
 * change at /a/b/c looks up exactly four buckets ("/a/b/c", "/a/b", "/a",
 * "/"), whatever the number of watches and connections.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"
#include "watch.h"
#include "xmalloc.h"

struct watch_bucket {
	const char		*key;		/* == path */
	struct watch_list	 list;
	char			 path[];
};

struct watches {
	void			*index;
	uint64_t		 count;
	watch_deliver_cb	*deliver;
	void			*deliver_arg;
};

/* Order buckets by path. */
static int
watch_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Make an empty registry; deliver is how events reach connections. */
struct watches *
watch_create(watch_deliver_cb *deliver, void *arg)
{
	struct watches	*ws = xcalloc(1, sizeof *ws);

	ws->deliver = deliver;
	ws->deliver_arg = arg;
	return (ws);
}

/* Free one bucket and its watches. */
static void
watch_bucket_free(void *p)
{
	struct watch_bucket	*b = p;
	struct watch		*w, *next;

	TAILQ_FOREACH_SAFE(w, &b->list, bucket_entry, next) {
		free(w->token);
		free(w);
	}
	free(b);
}

/* Free the registry and every watch (owners must not use them after). */
void
watch_free_all(struct watches *ws)
{
	if (ws == NULL)
		return;
	tdestroy(ws->index, watch_bucket_free);
	free(ws);
}

/* Find a bucket. */
static struct watch_bucket *
watch_bucket_find(struct watches *ws, const char *path)
{
	void	*const *found = tfind(&path, &ws->index, watch_cmp);

	return (found == NULL ? NULL : *found);
}

/* Find or make a bucket. */
static struct watch_bucket *
watch_bucket_get(struct watches *ws, const char *path)
{
	struct watch_bucket	*b;
	size_t			 len;

	if ((b = watch_bucket_find(ws, path)) != NULL)
		return (b);
	len = strlen(path) + 1;
	b = xmalloc(sizeof *b + len);
	memcpy(b->path, path, len);
	b->key = b->path;
	TAILQ_INIT(&b->list);
	if (tsearch(b, &ws->index, watch_cmp) == NULL)
		log_fatal("tsearch failed");
	return (b);
}

/* Put a watch into its bucket. */
static void
watch_insert(struct watches *ws, struct watch_bucket *b, struct watch *w)
{
	w->bucket = b;
	TAILQ_INSERT_TAIL(&b->list, w, bucket_entry);
	ws->count++;
}

/*
 * Add a connection's watch on an absolute path (or special name).
 * -EEXIST if the owner already watches it with that token.
 */
int
watch_add(struct watches *ws, const char *path, const char *token,
    void *owner, bool relative, struct watch **out)
{
	struct watch	*w;

	if (watch_find(ws, path, token, owner) != NULL)
		return (-EEXIST);
	w = xcalloc(1, sizeof *w);
	w->owner = owner;
	w->token = xstrdup(token);
	w->relative = relative;
	w->depth = -1;
	watch_insert(ws, watch_bucket_get(ws, path), w);
	*out = w;
	return (0);
}

/* Add an in-process watch; func sees the absolute path of each change. */
struct watch *
watch_add_func(struct watches *ws, const char *path, watch_func_cb *func,
    void *arg)
{
	struct watch	*w = xcalloc(1, sizeof *w);

	w->func = func;
	w->func_arg = arg;
	w->token = xstrdup("");
	w->depth = -1;
	watch_insert(ws, watch_bucket_get(ws, path), w);
	return (w);
}

/* The absolute path a watch is on. */
const char *
watch_path(const struct watch *w)
{
	return (w->bucket->path);
}

/* Remove and free one watch; drop its bucket when empty. */
void
watch_remove_one(struct watches *ws, struct watch *w)
{
	struct watch_bucket	*b = w->bucket;

	TAILQ_REMOVE(&b->list, w, bucket_entry);
	ws->count--;
	free(w->token);
	free(w);
	if (TAILQ_EMPTY(&b->list)) {
		tdelete(b, &ws->index, watch_cmp);
		free(b);
	}
}

/* The owner's watch on path with token, or NULL. */
struct watch *
watch_find(struct watches *ws, const char *path, const char *token,
    void *owner)
{
	struct watch_bucket	*b = watch_bucket_find(ws, path);
	struct watch		*w;

	if (b == NULL)
		return (NULL);
	TAILQ_FOREACH(w, &b->list, bucket_entry) {
		if (w->owner == owner && w->func == NULL &&
		    strcmp(w->token, token) == 0)
			return (w);
	}
	return (NULL);
}

/* Deliver a change at path, levels below the bucket's path, to every
 * watch in the bucket that reaches that deep. */
static void
watch_fire_bucket(struct watches *ws, struct watch_bucket *b,
    const char *path, int levels, struct perms *perms, struct perms *alt)
{
	struct watch	*w, *next;

	TAILQ_FOREACH_SAFE(w, &b->list, bucket_entry, next) {
		if (w->depth >= 0 && levels > w->depth)
			continue;
		if (w->func != NULL)
			w->func(path, w->func_arg);
		else
			ws->deliver(w->owner, w, path, perms, alt,
			    ws->deliver_arg);
	}
}

/*
 * A change at path: fire watches on it and, unless exact, on each of its
 * ancestors. perms (and alt, the permissions before a change of them)
 * decide which watchers may hear of it.
 */
void
watch_fire(struct watches *ws, const char *path, bool exact,
    struct perms *perms, struct perms *alt)
{
	struct watch_bucket	*b;
	char			*p;
	size_t			 len;
	int			 levels = 0;

	if ((b = watch_bucket_find(ws, path)) != NULL)
		watch_fire_bucket(ws, b, path, 0, perms, alt);
	if (exact || path[0] != '/' || path[1] == '\0')
		return;
	p = xstrdup(path);
	for (;;) {
		len = path_parent_len(p);
		p[len] = '\0';
		levels++;
		if ((b = watch_bucket_find(ws, p)) != NULL)
			watch_fire_bucket(ws, b, path, levels, perms, alt);
		if (len == 1)
			break;
	}
	free(p);
}

/*
 * A special event ("@introduceDomain", "@releaseDomain") about a domain.
 * Watches on the name hear the name, or "@name/<domid>" if they asked
 * for depth 1 (in-process watchers always do); watches on "@name/<domid>"
 * hear of that domain only. perms are the special node's.
 */
void
watch_fire_special(struct watches *ws, const char *name, uint32_t domid,
    struct perms *perms)
{
	struct watch_bucket	*b;
	struct watch		*w, *next;
	char			 full[64];

	snprintf(full, sizeof full, "%s/%u", name, domid);
	if ((b = watch_bucket_find(ws, name)) != NULL) {
		TAILQ_FOREACH_SAFE(w, &b->list, bucket_entry, next) {
			if (w->func != NULL)
				w->func(full, w->func_arg);
			else
				ws->deliver(w->owner, w, w->depth == 1 ?
				    full : name, perms, NULL, ws->deliver_arg);
		}
	}
	if ((b = watch_bucket_find(ws, full)) != NULL)
		watch_fire_bucket(ws, b, full, 0, perms, NULL);
}

/* How many watches there are. */
uint64_t
watch_count(const struct watches *ws)
{
	return (ws->count);
}
