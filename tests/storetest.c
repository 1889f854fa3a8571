/* Store helpers shared by the store's unit tests (see storetest.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "perms.h"
#include "storetest.h"
#include "tree.h"
#include "watch.h"
#include "testlib.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };

/* Watch deliveries go nowhere: these tests register no watches. */
static void
no_deliver(void *owner, const struct watch *w, const char *path,
    struct perms *perms, struct perms *alt, void *arg)
{
	(void)owner;
	(void)w;
	(void)path;
	(void)perms;
	(void)alt;
	(void)arg;
}

/* A fresh store with an (empty) watch registry. */
struct store *
mkstore(void)
{
	struct store	*st = store_create();

	st->watches = watch_create(no_deliver, NULL);
	return (st);
}

/* Free a store made by mkstore. */
void
freestore(struct store *st)
{
	ck_assert_int_eq(tree_check(st->tree, stderr), 0);
	watch_free_all(st->watches);
	store_free(st);
}

/* READ into a NUL-terminated buffer; returns the store's result. */
int
rd(struct store *st, struct txn *t, const struct actor *a, const char *path,
    char *buf, size_t size)
{
	struct nodeview	nv;
	int		r;

	buf[0] = '\0';
	r = store_read(st, t, a, path, &nv);
	if (r == 0) {
		ck_assert_uint_lt(nv.vlen, size);
		if (nv.vlen != 0)
			memcpy(buf, nv.value, nv.vlen);
		buf[nv.vlen] = '\0';
	}
	return (r);
}

/* Append a child's name and a comma. */
static int
ls_cb(const char *name, void *arg)
{
	char	*buf = arg;

	strcat(buf, name);
	strcat(buf, ",");
	return (0);
}

/* DIRECTORY as "a,b,"; returns the store's result. */
int
ls(struct store *st, struct txn *t, const struct actor *a, const char *path,
    char *buf)
{
	struct nodeview	nv;

	buf[0] = '\0';
	return (store_list(st, t, a, path, &nv, ls_cb, buf));
}

/* WRITE a string value. */
int
wr(struct store *st, struct txn *t, const struct actor *a, const char *path,
    const char *value)
{
	return (store_write(st, t, a, path, value, (uint32_t)strlen(value)));
}

/* SET_PERMS from text. */
int
sp(struct store *st, struct txn *t, const struct actor *a, const char *path,
    const char *text)
{
	struct perms	*ps = test_perms_text(text);
	int		 r;

	r = store_set_perms(st, t, a, path, ps);
	perms_unref(ps);
	return (r);
}

/* Expect a node's value. */
void
value_is(struct store *st, struct txn *t, const char *path, const char *want)
{
	char	buf[256];
	int	r;

	r = rd(st, t, &dom0, path, buf, sizeof buf);
	ck_assert_msg(r == 0, "read %s: %d", path, r);
	ck_assert_str_eq(buf, want);
}

/* Expect a node to be missing (as dom0 sees it). */
void
missing(struct store *st, struct txn *t, const char *path)
{
	char	buf[256];

	ck_assert_int_eq(rd(st, t, &dom0, path, buf, sizeof buf), -ENOENT);
}

/* Expect a node's children. */
void
children_are(struct store *st, struct txn *t, const char *path,
    const char *want)
{
	char	buf[1024];
	int	r;

	r = ls(st, t, &dom0, path, buf);
	ck_assert_msg(r == 0, "list %s: %d", path, r);
	ck_assert_str_eq(buf, want);
}

