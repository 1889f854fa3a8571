/* Unit tests for xsd/settings.c: the validators, the config file parser,
 * group changes put back when a callback refuses, and the nodes below
 * /tool/xsconsoled as the store serves them (checked at commit, also in
 * transactions; statistics computed, never committed). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "log.h"
#include "perms.h"
#include "settings.h"
#include "store.h"
#include "storetest.h"
#include "tree.h"
#include "watch.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };
static const struct actor dom5 = { 5, PERMS_NO_TARGET, 0 };

/* What the callbacks saw. */
static int	applied_a, applied_b;
static uint64_t	seen_low, seen_high;
static uint64_t	stat_value;

/* Group "a": counts its calls. */
static int
apply_a(struct settings *s, void *arg)
{
	(void)s;
	(void)arg;
	applied_a++;
	return (0);
}

/* Group "b": refuses low >= high, as a database may refuse a combination. */
static int
apply_b(struct settings *s, void *arg)
{
	(void)arg;
	applied_b++;
	seen_low = settings_get(s, "g/low");
	seen_high = settings_get(s, "g/high");
	return (seen_low < seen_high ? 0 : -EINVAL);
}

/* A statistic. */
static uint64_t
stat_get(void *arg)
{
	(void)arg;
	return (stat_value);
}

/* A registry with a few settings of each kind. */
static struct settings *
mksettings(void)
{
	struct settings	*s = settings_create();

	applied_a = applied_b = 0;
	settings_add(s, "level", SETTING_LOG_LEVEL, LOG_LEVEL_ERROR,
	    LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, apply_a, NULL);
	settings_add(s, "quota/nodes", SETTING_NUMBER, 1, 1000000, 1000,
	    apply_a, NULL);
	settings_add(s, "g/low", SETTING_NUMBER, 0, 100, 10, apply_b, NULL);
	settings_add(s, "g/high", SETTING_NUMBER, 0, 100, 20, apply_b, NULL);
	settings_add_stat(s, "counter", stat_get, NULL);
	return (s);
}

/* A store with the registry attached. */
static struct store *
mkstore_with(struct settings *s)
{
	struct store	*st = mkstore();

	settings_attach(s, st);
	return (st);
}

/* Free both. */
static void
freeboth(struct store *st, struct settings *s)
{
	settings_free(s);
	freestore(st);
}

/* Gather child names as "a,b,c". */
static int
gather(const char *name, void *arg)
{
	char	*buf = arg;

	if (buf[0] != '\0')
		strcat(buf, ",");
	strcat(buf, name);
	return (0);
}

START_TEST(numbers)
{
	struct settings	*s = mksettings();
	uint64_t	 v;

	ck_assert_int_eq(settings_parse(s, "quota/nodes", "5", &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "0005", &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "1000000", &v), 0);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "1000001", &v),
	    -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "0", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "-1", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "+1", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", " 1", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "1k", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes", "0x10", &v),
	    -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes",
	    "99999999999999999999999", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/nodes",
	    "18446744073709551616", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "quota/none", "1", &v), -ENOENT);
	settings_free(s);
}
END_TEST

START_TEST(levels)
{
	struct settings	*s = mksettings();
	char		 buf[SETTINGS_VALUE_MAX];
	uint64_t	 v;

	ck_assert_int_eq(settings_parse(s, "level", "debug", &v), 0);
	ck_assert_uint_eq(v, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(settings_parse(s, "level", "WARN", &v), 0);
	ck_assert_uint_eq(v, LOG_LEVEL_WARN);
	ck_assert_int_eq(settings_parse(s, "level", "verbose", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "level", "3", &v), -EINVAL);
	ck_assert_int_eq(settings_parse(s, "level", "", &v), -EINVAL);
	ck_assert_int_eq(settings_set(s, "level", "error"), 0);
	ck_assert_int_eq(settings_format(s, "level", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "error");
	ck_assert_int_eq(settings_format(s, "nope", buf, sizeof buf),
	    -ENOENT);
	settings_free(s);
}
END_TEST

/* Load text as a config file; the error message in err. */
static int
load_text(struct settings *s, const char *text, char *err, size_t errlen)
{
	FILE	*f = fmemopen((void *)text, strlen(text), "r");
	int	 r;

	ck_assert_ptr_nonnull(f);
	err[0] = '\0';
	r = settings_load_file(s, f, "test.conf", err, errlen);
	fclose(f);
	return (r);
}

START_TEST(file_good)
{
	struct settings	*s = mksettings();
	char		 err[256];

	ck_assert_int_eq(load_text(s,
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "quota/nodes = 42   # trailing comment\n"
	    "level=debug\n"
	    "\tg/low\t=\t5\t\n"
	    "g/high = 6", err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 42);
	ck_assert_uint_eq(settings_get(s, "level"), LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(settings_get(s, "g/low"), 5);
	ck_assert_uint_eq(settings_get(s, "g/high"), 6);
	/* Not attached: values are kept, nothing is applied. */
	ck_assert_int_eq(applied_a + applied_b, 0);
	settings_free(s);
}
END_TEST

START_TEST(file_bad)
{
	struct settings	*s = mksettings();
	char		 err[256];

	ck_assert_int_eq(load_text(s, "quota/nodes = 1\nnonsense\n", err,
	    sizeof err), -EINVAL);
	ck_assert_str_eq(err, "test.conf:2: not \"name = value\"");
	ck_assert_int_eq(load_text(s, "\n\n\nquota/none = 1\n", err,
	    sizeof err), -EINVAL);
	ck_assert_str_eq(err, "test.conf:4: unknown setting \"quota/none\"");
	ck_assert_int_eq(load_text(s, "quota/nodes = x\n", err, sizeof err),
	    -EINVAL);
	ck_assert_str_eq(err, "test.conf:1: quota/nodes: \"x\" is not a "
	    "number from 1 to 1000000");
	ck_assert_int_eq(load_text(s, "level = loud\n", err, sizeof err),
	    -EINVAL);
	ck_assert_str_eq(err, "test.conf:1: level: \"loud\" is not error, "
	    "warn, info or debug");
	ck_assert_int_eq(load_text(s, "quota/nodes =\n", err, sizeof err),
	    -EINVAL);
	ck_assert_int_eq(load_text(s, "= 5\n", err, sizeof err), -EINVAL);
	/* The first line took; the bad ones changed nothing. */
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1);
	settings_free(s);
}
END_TEST

START_TEST(file_missing)
{
	struct settings	*s = mksettings();
	char		 err[256];

	ck_assert_int_eq(settings_load(s, "/nonexistent/x.conf", false, err,
	    sizeof err), 0);
	ck_assert_int_eq(settings_load(s, "/nonexistent/x.conf", true, err,
	    sizeof err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.conf"));
	settings_free(s);
}
END_TEST

START_TEST(nodes_written)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	struct nodeview	 nv;
	char		 buf[64], perms[64];

	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "1000");
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/level", buf,
	    sizeof buf), 0);
	ck_assert_str_eq(buf, "info");
	ck_assert_int_eq(store_read(st, NULL, &dom0, SETTINGS_CONFIG "/g/low",
	    &nv), 0);
	perms[perms_format(nv.perms, perms, sizeof perms) - 1] = '\0';
	ck_assert_str_eq(perms, "n0");
	/* One commit wrote them all. */
	ck_assert_uint_eq(st->gen, 1);
	buf[0] = '\0';
	ck_assert_int_eq(store_list(st, NULL, &dom0, SETTINGS_ROOT, &nv,
	    gather, buf), 0);
	ck_assert_str_eq(buf, "config,stats");
	freeboth(st, s);
}
END_TEST

START_TEST(write_valid_applies)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "7"), 0);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 7);
	ck_assert_int_eq(applied_a, 1);
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "7");
	ck_assert_uint_eq(st->gen, 2);
	freeboth(st, s);
}
END_TEST

START_TEST(write_invalid_refused)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	char		 buf[64];

	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "lots"), -EINVAL);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "0"), -EINVAL);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/level",
	    "verbose"), -EINVAL);
	ck_assert_int_eq(store_write(st, NULL, &dom0,
	    SETTINGS_CONFIG "/quota/nodes", "5\0", 2), -EINVAL);
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "1000");
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1000);
	ck_assert_int_eq(applied_a, 0);
	ck_assert_uint_eq(st->gen, 1);
	/* Unknown settings cannot be made; ours cannot be removed, nor
	 * opened to others, nor a directory given a value. */
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota/x", "1"),
	    -EINVAL);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_ROOT "/other", "1"),
	    -EINVAL);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, SETTINGS_CONFIG "/new"),
	    -EINVAL);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, SETTINGS_CONFIG "/level"),
	    -EINVAL);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, SETTINGS_ROOT), -EINVAL);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, "/tool"), -EINVAL);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota", "x"),
	    -EINVAL);
	{
		static const struct perm	 pr[] = { { 0, PERM_NONE },
						     { 5, PERM_READ } };
		struct perms			*p = perms_create(pr, 2);

		ck_assert_int_eq(store_set_perms(st, NULL, &dom0,
		    SETTINGS_CONFIG "/level", p), -EINVAL);
		perms_unref(p);
	}
	ck_assert_uint_eq(st->gen, 1);
	/* Mkdir of what exists changes nothing, and is fine. */
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, SETTINGS_CONFIG), 0);
	freeboth(st, s);
}
END_TEST

START_TEST(unprivileged)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	char		 buf[64], names[256] = "";
	struct nodeview	 nv;

	ck_assert_int_eq(rd(st, NULL, &dom5, SETTINGS_CONFIG "/quota/nodes",
	    buf, sizeof buf), -EACCES);
	ck_assert_int_eq(rd(st, NULL, &dom5, SETTINGS_CONFIG "/quota/none",
	    buf, sizeof buf), -EACCES);
	ck_assert_int_eq(wr(st, NULL, &dom5, SETTINGS_CONFIG "/quota/nodes",
	    "5"), -EACCES);
	ck_assert_int_eq(store_list(st, NULL, &dom5, SETTINGS_ROOT, &nv,
	    gather, names), -EACCES);
	ck_assert_int_eq(rd(st, NULL, &dom5, SETTINGS_STATS "/counter", buf,
	    sizeof buf), -EACCES);
	ck_assert_int_eq(store_list(st, NULL, &dom5, SETTINGS_STATS, &nv,
	    gather, names), -EACCES);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1000);
	freeboth(st, s);
}
END_TEST

START_TEST(txn_checked_at_end)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	struct txn	*t;
	char		 buf[64];

	/* A bad value is taken in the branch, refused at the end. */
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "9"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/level", "loud"),
	    0);
	ck_assert_int_eq(wr(st, t, &dom0, "/other", "x"), 0);
	ck_assert_int_eq(txn_end(t, true), -EINVAL);
	txn_free(t);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1000);
	ck_assert_int_eq(rd(st, NULL, &dom0, "/other", buf, sizeof buf),
	    -ENOENT);
	ck_assert_int_eq(applied_a, 0);

	/* Good values: applied once per group, with the commit. */
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "9"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/level", "warn"),
	    0);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1000);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 9);
	ck_assert_uint_eq(settings_get(s, "level"), LOG_LEVEL_WARN);
	ck_assert_int_eq(applied_a, 1);

	/* Aborted: nothing. */
	t = txn_create(st, 3, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "11"), 0);
	ck_assert_int_eq(txn_end(t, false), 0);
	txn_free(t);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 9);
	freeboth(st, s);
}
END_TEST

START_TEST(group_refused_put_back)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	struct txn	*t;

	/* Raising both in one commit is fine though low alone would not
	 * be: the group is applied with all its new values at once. */
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/g/low", "50"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/g/high", "60"),
	    0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	ck_assert_int_eq(applied_b, 1);
	ck_assert_uint_eq(seen_low, 50);
	ck_assert_uint_eq(seen_high, 60);

	/* Refused by the callback: the old values, applied again. */
	applied_a = applied_b = 0;
	t = txn_create(st, 2, &dom0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "3"), 0);
	ck_assert_int_eq(wr(st, t, &dom0, SETTINGS_CONFIG "/g/low", "70"), 0);
	ck_assert_int_eq(txn_end(t, true), -EINVAL);
	txn_free(t);
	ck_assert_uint_eq(settings_get(s, "g/low"), 50);
	ck_assert_uint_eq(settings_get(s, "quota/nodes"), 1000);
	ck_assert_uint_eq(seen_low, 50);
	ck_assert_uint_eq(seen_high, 60);
	ck_assert_int_eq(applied_a, 2);		/* new, then old */
	ck_assert_int_eq(applied_b, 2);		/* refused, then old */
	freeboth(st, s);
}
END_TEST

START_TEST(stats_virtual)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	struct nodeview	 nv;
	struct txn	*t;
	char		 buf[64], names[256] = "";
	uint64_t	 gen = st->gen;

	stat_value = 41;
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_STATS "/counter", buf,
	    sizeof buf), 0);
	ck_assert_str_eq(buf, "41");
	stat_value = 42;
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_STATS "/counter", buf,
	    sizeof buf), 0);
	ck_assert_str_eq(buf, "42");
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_STATS "/none", buf,
	    sizeof buf), -ENOENT);
	ck_assert_int_eq(store_list(st, NULL, &dom0, SETTINGS_STATS, &nv,
	    gather, names), 0);
	ck_assert_str_eq(names, "counter");
	/* Also inside a transaction, which it does not make conflict. */
	t = txn_create(st, 1, &dom0);
	ck_assert_int_eq(rd(st, t, &dom0, SETTINGS_STATS "/counter", buf,
	    sizeof buf), 0);
	ck_assert_str_eq(buf, "42");
	stat_value = 43;
	ck_assert_int_eq(wr(st, t, &dom0, "/x", "1"), 0);
	ck_assert_int_eq(txn_end(t, true), 0);
	txn_free(t);
	gen++;
	/* Nobody writes them, dom0 included. */
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_STATS "/counter", "1"),
	    -EACCES);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_STATS "/new", "1"),
	    -EACCES);
	ck_assert_int_eq(store_rm(st, NULL, &dom0, SETTINGS_STATS), -EACCES);
	ck_assert_int_eq(store_mkdir(st, NULL, &dom0, SETTINGS_STATS "/d"),
	    -EACCES);
	/* Reading is not committing. */
	ck_assert_uint_eq(st->gen, gen);
	freeboth(st, s);
}
END_TEST

START_TEST(reattach_rewrites)
{
	struct settings	*s = mksettings();
	struct store	*st = mkstore_with(s);
	char		 buf[64];

	/* What a restored tree held is replaced by the current values. */
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    "77"), 0);
	settings_detach(s);
	ck_assert_int_eq(wr(st, NULL, &dom0, SETTINGS_CONFIG "/stale", "1"),
	    0);
	ck_assert_int_eq(settings_set(s, "quota/nodes", "5"), 0);
	settings_attach(s, st);
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/quota/nodes",
	    buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "5");
	ck_assert_int_eq(rd(st, NULL, &dom0, SETTINGS_CONFIG "/stale", buf,
	    sizeof buf), -ENOENT);
	freeboth(st, s);
}
END_TEST

/* All of the settings' tests. */
static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, levels);
	tcase_add_test(tc, file_good);
	tcase_add_test(tc, file_bad);
	tcase_add_test(tc, file_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("nodes");
	tcase_add_test(tc, nodes_written);
	tcase_add_test(tc, write_valid_applies);
	tcase_add_test(tc, write_invalid_refused);
	tcase_add_test(tc, unprivileged);
	tcase_add_test(tc, txn_checked_at_end);
	tcase_add_test(tc, group_refused_put_back);
	tcase_add_test(tc, stats_virtual);
	tcase_add_test(tc, reattach_rewrites);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(config_suite());
	int	 failed;

	log_open(NULL, LOG_LEVEL_WARN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
