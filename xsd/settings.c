/*
 * The settings registry and its nodes. A setting's value is a number (a
 * log level is stored as its enum value). Changes come as a group (a
 * commit, a config file line, a command-line option): every value is
 * checked, then set, then each apply callback concerned runs once; if
 * one refuses, every value of the group is put back and applied again,
 * so that a refused commit changes nothing, as the store promises.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"
#include "perms.h"
#include "settings.h"
#include "store.h"
#include "xmalloc.h"

struct setting {
	char			*name;
	enum setting_kind	 kind;
	uint64_t		 min;
	uint64_t		 max;
	uint64_t		 def;
	uint64_t		 value;
	settings_apply_fn	*apply;
	void			*arg;
};

struct settings_stat {
	char			*name;
	settings_stat_fn	*fn;
	void			*arg;
};

struct settings {
	struct setting		*v;
	size_t			 n;
	struct settings_stat	*stats;
	size_t			 nstats;
	struct store		*store;		/* attached: changes apply */
	struct store_special	 special;
	char			 statbuf[SETTINGS_VALUE_MAX];
};

/* One value of a group being changed. */
struct settings_change {
	struct setting	*st;
	uint64_t	 value;
	uint64_t	 old;
};

/* An empty registry. */
struct settings *
settings_create(void)
{
	return (xcalloc(1, sizeof (struct settings)));
}

/* Free the registry (detached from its store first). */
void
settings_free(struct settings *s)
{
	size_t	i;

	if (s == NULL)
		return;
	settings_detach(s);
	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	for (i = 0; i < s->nstats; i++)
		free(s->stats[i].name);
	free(s->v);
	free(s->stats);
	free(s);
}

/* Find a setting by name; NULL if unknown. */
static struct setting *
settings_find(const struct settings *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, name) == 0)
			return (&s->v[i]);
	}
	return (NULL);
}

/* Register a setting, at its default; apply may be NULL. Names are
 * lowercase words with dashes, grouped with slashes ("quota/nodes"). */
void
settings_add(struct settings *s, const char *name, enum setting_kind kind,
    uint64_t min, uint64_t max, uint64_t def, settings_apply_fn *apply,
    void *arg)
{
	struct setting	*st;

	if (settings_find(s, name) != NULL || min > max || def < min ||
	    def > max || strlen(name) >= 64)
		log_fatal("settings: bad registration of %s", name);
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	st = &s->v[s->n++];
	memset(st, 0, sizeof *st);
	st->name = xstrdup(name);
	st->kind = kind;
	st->min = min;
	st->max = max;
	st->def = st->value = def;
	st->apply = apply;
	st->arg = arg;
}

/* Register a statistic (a plain name, no slash). */
void
settings_add_stat(struct settings *s, const char *name, settings_stat_fn *fn,
    void *arg)
{
	struct settings_stat	*ss;

	if (strchr(name, '/') != NULL)
		log_fatal("settings: bad statistic name %s", name);
	s->stats = xrealloc(s->stats, (s->nstats + 1) * sizeof *s->stats);
	ss = &s->stats[s->nstats++];
	ss->name = xstrdup(name);
	ss->fn = fn;
	ss->arg = arg;
}

/* Parse a value for a setting: 0, -ENOENT for an unknown setting, or
 * -EINVAL for a value that is not one it takes. */
static int
settings_parse_one(const struct setting *st, const char *text, uint64_t *out)
{
	enum log_level		 level;
	unsigned long long	 v;
	const char		*p;
	char			*end;

	switch (st->kind) {
	case SETTING_LOG_LEVEL:
		if (log_level_parse(text, &level) != 0)
			return (-EINVAL);
		*out = (uint64_t)level;
		return (0);
	case SETTING_NUMBER:
		for (p = text; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return (-EINVAL);
		}
		if (p == text || p - text > 20)
			return (-EINVAL);
		errno = 0;
		v = strtoull(text, &end, 10);
		if (errno != 0 || *end != '\0' || v < st->min || v > st->max)
			return (-EINVAL);
		*out = (uint64_t)v;
		return (0);
	}
	return (-EINVAL);
}

/* Check a value for a named setting without changing anything. */
int
settings_parse(const struct settings *s, const char *name, const char *text,
    uint64_t *out)
{
	const struct setting	*st = settings_find(s, name);

	if (st == NULL)
		return (-ENOENT);
	return (settings_parse_one(st, text, out));
}

/* A value as text. */
static void
settings_text(const struct setting *st, uint64_t v, char *buf, size_t size)
{
	if (st->kind == SETTING_LOG_LEVEL)
		snprintf(buf, size, "%s", log_level_name((enum log_level)v));
	else
		snprintf(buf, size, "%" PRIu64, v);
}

/* Has an earlier change of the group the same apply callback? */
static bool
settings_applied_before(const struct settings_change *chg, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++) {
		if (chg[j].st->apply == chg[i].st->apply &&
		    chg[j].st->arg == chg[i].st->arg)
			return (true);
	}
	return (false);
}

/*
 * Set a group of checked values; when attached, run each apply callback
 * concerned once. If one refuses, put every old value back, apply those
 * again, and return its error.
 */
static int
settings_change(struct settings *s, struct settings_change *chg, size_t n)
{
	char	old[SETTINGS_VALUE_MAX], now[SETTINGS_VALUE_MAX];
	size_t	i, j;
	int	r = 0;

	for (i = 0; i < n; i++) {
		chg[i].old = chg[i].st->value;
		chg[i].st->value = chg[i].value;
	}
	if (s->store == NULL)
		return (0);
	for (i = 0; i < n && r == 0; i++) {
		if (chg[i].st->apply != NULL &&
		    !settings_applied_before(chg, i))
			r = chg[i].st->apply(s, chg[i].st->arg);
	}
	if (r != 0) {
		/* Callbacks 0..i-1 ran: run them again with the old values. */
		for (j = 0; j < n; j++)
			chg[j].st->value = chg[j].old;
		for (j = 0; j < i; j++) {
			if (chg[j].st->apply != NULL &&
			    !settings_applied_before(chg, j) &&
			    chg[j].st->apply(s, chg[j].st->arg) != 0)
				log_error("config: %s: the old value was "
				    "refused too", chg[j].st->name);
		}
		return (r < 0 ? r : -EINVAL);
	}
	for (i = 0; i < n; i++) {
		settings_text(chg[i].st, chg[i].old, old, sizeof old);
		settings_text(chg[i].st, chg[i].value, now, sizeof now);
		log_info("config: %s = %s (was %s)", chg[i].st->name, now, old);
	}
	return (0);
}

/* Set one setting from its text (0, -ENOENT or -EINVAL); once attached,
 * it applies at once (the store's node is not rewritten: for start). */
int
settings_set(struct settings *s, const char *name, const char *text)
{
	struct settings_change	chg;
	int			r;

	memset(&chg, 0, sizeof chg);
	if ((chg.st = settings_find(s, name)) == NULL)
		return (-ENOENT);
	if ((r = settings_parse_one(chg.st, text, &chg.value)) != 0)
		return (r);
	return (settings_change(s, &chg, 1));
}

/* A setting's value; an unknown name is our own bug. */
uint64_t
settings_get(const struct settings *s, const char *name)
{
	const struct setting	*st = settings_find(s, name);

	if (st == NULL)
		log_fatal("settings: no setting %s", name);
	return (st->value);
}

/* A setting's value as text (0 or -ENOENT). */
int
settings_format(const struct settings *s, const char *name, char *buf,
    size_t size)
{
	const struct setting	*st = settings_find(s, name);

	if (st == NULL)
		return (-ENOENT);
	settings_text(st, st->value, buf, size);
	return (0);
}

/* Trim white space at both ends, in place. */
static char *
settings_trim(char *p)
{
	char	*e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (p);
}

/*
 * Read "name = value" lines (# starts a comment; blank lines are fine)
 * from f, called name in messages. Stops at the first bad line: 0, or
 * -EINVAL with "name:line: why" in err.
 */
int
settings_load_file(struct settings *s, FILE *f, const char *fname, char *err,
    size_t errlen)
{
	char		*line = NULL, *p, *eq, *key, *value, *hash;
	size_t		 size = 0;
	unsigned	 lineno = 0;
	int		 r = 0;
	struct setting	*st;

	while (r == 0 && getline(&line, &size, f) != -1) {
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		p = settings_trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: not \"name = value\"",
			    fname, lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		key = settings_trim(p);
		value = settings_trim(eq + 1);
		if ((st = settings_find(s, key)) == NULL) {
			snprintf(err, errlen, "%s:%u: unknown setting \"%s\"",
			    fname, lineno, key);
			r = -EINVAL;
		} else if (settings_set(s, key, value) != 0) {
			if (st->kind == SETTING_LOG_LEVEL)
				snprintf(err, errlen, "%s:%u: %s: \"%s\" is not "
				    "error, warn, info or debug", fname, lineno,
				    key, value);
			else
				snprintf(err, errlen, "%s:%u: %s: \"%s\" is not "
				    "a number from %" PRIu64 " to %" PRIu64,
				    fname, lineno, key, value, st->min, st->max);
			r = -EINVAL;
		}
	}
	if (r == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", fname, strerror(errno));
		r = -EIO;
	}
	free(line);
	return (r);
}

/* Read the config file at path; a missing one is fine unless must_exist.
 * 0, or a negative errno with the reason in err. */
int
settings_load(struct settings *s, const char *path, bool must_exist,
    char *err, size_t errlen)
{
	FILE	*f;
	int	 r;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return (0);
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (r);
	}
	r = settings_load_file(s, f, path, err, errlen);
	fclose(f);
	return (r);
}

/* Every setting as "name = value", the config file's form. */
void
settings_print(const struct settings *s, FILE *f)
{
	char	buf[SETTINGS_VALUE_MAX];
	size_t	i;

	for (i = 0; i < s->n; i++) {
		settings_text(&s->v[i], s->v[i].value, buf, sizeof buf);
		fprintf(f, "%s = %s\n", s->v[i].name, buf);
	}
}

/* Every statistic as "name = value". */
void
settings_print_stats(struct settings *s, FILE *f)
{
	size_t	i;

	for (i = 0; i < s->nstats; i++)
		fprintf(f, "%s = %" PRIu64 "\n", s->stats[i].name,
		    s->stats[i].fn(s->stats[i].arg));
}

/* --- the nodes ----------------------------------------------------------- */

/* Is path one of our directories: the top, config, stats, or a group of
 * settings ("config/quota")? */
static bool
settings_is_dir(const struct settings *s, const char *path)
{
	const char	*rel;
	size_t		 i, len;

	if (strcmp(path, SETTINGS_ROOT) == 0 ||
	    strcmp(path, SETTINGS_CONFIG) == 0 ||
	    strcmp(path, SETTINGS_STATS) == 0)
		return (true);
	if (!path_is_below(path, SETTINGS_CONFIG))
		return (false);
	rel = path + strlen(SETTINGS_CONFIG) + 1;
	len = strlen(rel);
	for (i = 0; i < s->n; i++) {
		if (strncmp(s->v[i].name, rel, len) == 0 &&
		    s->v[i].name[len] == '/')
			return (true);
	}
	return (false);
}

/* Our nodes' permissions: dom0's, nobody else may even read them. */
static bool
settings_perms_ok(const struct perms *p)
{
	return (p != NULL && p->n == 1 && p->p[0].domid == 0 &&
	    p->p[0].mode == PERM_NONE);
}

/*
 * The store's check of a commit changing nodes below SETTINGS_ROOT:
 * only values written to known settings, valid ones, are allowed, and
 * they are applied here, before the commit, which cannot fail after.
 */
static int
settings_check(const struct store_change *chg, size_t n,
    const struct actor *a, void *arg)
{
	struct settings		*s = arg;
	struct settings_change	*sc;
	struct setting		*st;
	char			 text[SETTINGS_VALUE_MAX];
	size_t			 i, k = 0;
	int			 r = 0;

	if (!a->privileged)
		return (-EACCES);
	sc = xcalloc(n, sizeof *sc);
	for (i = 0; i < n && r == 0; i++) {
		if (chg[i].deleted || !settings_perms_ok(chg[i].perms)) {
			r = -EINVAL;
			break;
		}
		if (settings_is_dir(s, chg[i].path)) {
			if (chg[i].vlen != 0)
				r = -EINVAL;
			continue;
		}
		st = NULL;
		if (path_is_below(chg[i].path, SETTINGS_CONFIG))
			st = settings_find(s, chg[i].path +
			    strlen(SETTINGS_CONFIG) + 1);
		if (st == NULL || chg[i].vlen >= sizeof text ||
		    (chg[i].vlen != 0 &&
		    memchr(chg[i].value, '\0', chg[i].vlen) != NULL)) {
			r = -EINVAL;
			break;
		}
		if (chg[i].vlen != 0)
			memcpy(text, chg[i].value, chg[i].vlen);
		text[chg[i].vlen] = '\0';
		sc[k].st = st;
		if ((r = settings_parse_one(st, text, &sc[k].value)) == 0)
			k++;
	}
	if (r == 0 && k != 0)
		r = settings_change(s, sc, k);
	if (r != 0)
		log_info("config: a change below %s refused: %s",
		    SETTINGS_ROOT, strerror(-r));
	free(sc);
	return (r);
}

/* A statistic's value, computed now, for a READ of stats/<name>. */
static int
settings_stat_read(const char *name, const char **value, uint32_t *vlen,
    void *arg)
{
	struct settings	*s = arg;
	size_t		 i;
	int		 len;

	for (i = 0; i < s->nstats; i++) {
		if (strcmp(s->stats[i].name, name) != 0)
			continue;
		len = snprintf(s->statbuf, sizeof s->statbuf, "%" PRIu64,
		    s->stats[i].fn(s->stats[i].arg));
		*value = s->statbuf;
		*vlen = (uint32_t)len;
		return (0);
	}
	return (-ENOENT);
}

/* The statistics' names, for a DIRECTORY of stats. */
static int
settings_stat_list(store_child_cb *cb, void *cbarg, void *arg)
{
	struct settings	*s = arg;
	size_t		 i;
	int		 r;

	for (i = 0; i < s->nstats; i++) {
		if ((r = cb(s->stats[i].name, cbarg)) != 0)
			return (r);
	}
	return (0);
}

/*
 * Serve the settings from the store: (re)write every config node from
 * the current values, in one commit (what a restored tree held there is
 * replaced: the config file and command line are authoritative at
 * start), then guard them. From now on a change applies at once.
 */
void
settings_attach(struct settings *s, struct store *store)
{
	static const struct actor	 dom0 = { 0, PERMS_NO_TARGET, 1 };
	static const struct perm	 none = { 0, PERM_NONE };
	struct perms			*perms = perms_create(&none, 1);
	struct txn			*txn;
	char				 path[256], buf[SETTINGS_VALUE_MAX];
	size_t				 i;
	int				 r;

	settings_detach(s);
	txn = txn_create(store, 0, &dom0);
	r = store_rm(store, txn, &dom0, SETTINGS_ROOT);
	if (r == 0)
		r = store_mkdir(store, txn, &dom0, SETTINGS_ROOT);
	if (r == 0)
		r = store_set_perms(store, txn, &dom0, SETTINGS_ROOT, perms);
	if (r == 0)
		r = store_mkdir(store, txn, &dom0, SETTINGS_CONFIG);
	if (r == 0)
		r = store_mkdir(store, txn, &dom0, SETTINGS_STATS);
	for (i = 0; i < s->n && r == 0; i++) {
		snprintf(path, sizeof path, "%s/%s", SETTINGS_CONFIG,
		    s->v[i].name);
		settings_text(&s->v[i], s->v[i].value, buf, sizeof buf);
		r = store_write(store, txn, &dom0, path, buf,
		    (uint32_t)strlen(buf));
	}
	if (r == 0)
		r = txn_end(txn, true);
	txn_free(txn);
	perms_unref(perms);
	if (r != 0)
		log_fatal("settings: writing %s: %s", SETTINGS_ROOT,
		    strerror(-r));

	s->special.guard = SETTINGS_ROOT;
	s->special.check = settings_check;
	s->special.virt = SETTINGS_STATS;
	s->special.virt_read = settings_stat_read;
	s->special.virt_list = settings_stat_list;
	s->special.arg = s;
	store->special = &s->special;
	s->store = store;
}

/* Stop serving the settings from the store (the nodes stay). */
void
settings_detach(struct settings *s)
{
	if (s->store == NULL)
		return;
	if (s->store->special == &s->special)
		s->store->special = NULL;
	s->store = NULL;
}
