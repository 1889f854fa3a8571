/* Unit tests for common/hmap.c: the path index of the store. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

struct entry {
	const char	*key;
	char		 buf[32];
	int		 live;
};

/* Make an entry whose key is its own buffer. */
static void
entry_init(struct entry *e, int i)
{
	snprintf(e->buf, sizeof e->buf, "/local/domain/%d/x", i);
	e->key = e->buf;
	e->live = 0;
}

/* Insert, find and remove a few entries. */
START_TEST(test_basic)
{
	struct hmap	*m = hmap_create();
	struct entry	 a, b;

	entry_init(&a, 1);
	entry_init(&b, 2);
	ck_assert_ptr_null(hmap_find(m, a.key));
	hmap_insert(m, &a);
	hmap_insert(m, &b);
	ck_assert_uint_eq(hmap_count(m), 2);
	ck_assert_ptr_eq(hmap_find(m, "/local/domain/1/x"), &a);
	ck_assert_ptr_eq(hmap_find(m, "/local/domain/2/x"), &b);
	ck_assert_ptr_null(hmap_find(m, "/local/domain/3/x"));
	ck_assert_ptr_eq(hmap_remove(m, a.key), &a);
	ck_assert_ptr_null(hmap_remove(m, a.key));
	ck_assert_ptr_null(hmap_find(m, a.key));
	ck_assert_ptr_eq(hmap_find(m, b.key), &b);
	ck_assert_uint_eq(hmap_count(m), 1);
	hmap_free(m);
}
END_TEST

/* The empty string is a key like any other. */
START_TEST(test_empty_key)
{
	struct hmap	*m = hmap_create();
	struct entry	 e;

	e.key = "";
	hmap_insert(m, &e);
	ck_assert_ptr_eq(hmap_find(m, ""), &e);
	ck_assert_ptr_eq(hmap_remove(m, ""), &e);
	ck_assert_uint_eq(hmap_count(m), 0);
	hmap_free(m);
}
END_TEST

/*
 * Random inserts and removes against a model (the live flags), through
 * growing and shrinking, checking every key after each round: backward-
 * shift deletion must never lose an entry from its probe run.
 */
START_TEST(test_random_against_model)
{
	enum { N = 20000, ROUNDS = 40 };
	struct entry	*es = calloc(N, sizeof *es);
	struct hmap	*m = hmap_create();
	size_t		 live = 0;
	int		 i, r, k;

	srandom(12345);
	for (i = 0; i < N; i++)
		entry_init(&es[i], i);
	for (r = 0; r < ROUNDS; r++) {
		for (k = 0; k < N / 4; k++) {
			i = (int)(random() % N);
			/* Bias: fill up in early rounds, drain in late ones. */
			if (!es[i].live && (r < ROUNDS / 2 || random() % 4 == 0)) {
				hmap_insert(m, &es[i]);
				es[i].live = 1;
				live++;
			} else if (es[i].live) {
				ck_assert_ptr_eq(hmap_remove(m, es[i].key),
				    &es[i]);
				es[i].live = 0;
				live--;
			}
		}
		ck_assert_uint_eq(hmap_count(m), live);
		for (i = 0; i < N; i++) {
			if (es[i].live)
				ck_assert_ptr_eq(hmap_find(m, es[i].key),
				    &es[i]);
			else
				ck_assert_ptr_null(hmap_find(m, es[i].key));
		}
	}
	hmap_free(m);
	free(es);
}
END_TEST

/* A lookup with the caller's hash finds what hmap_find does; the
 * prefetch hints, for present and absent keys, change nothing. */
START_TEST(test_hashed)
{
	enum { N = 1000 };
	struct entry	*es = calloc(N, sizeof *es);
	struct hmap	*m = hmap_create();
	char		 key[32];
	int		 i;

	hmap_prefetch_slot(m, hmap_hash("/x"));
	hmap_prefetch_entry(m, hmap_hash("/x"));
	for (i = 0; i < N; i += 2) {
		entry_init(&es[i], i);
		hmap_insert(m, &es[i]);
	}
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "/local/domain/%d/x", i);
		hmap_prefetch_slot(m, hmap_hash(key));
		hmap_prefetch_entry(m, hmap_hash(key));
		ck_assert_ptr_eq(hmap_find_hashed(m, key, hmap_hash(key)),
		    i % 2 == 0 ? &es[i] : NULL);
		ck_assert_ptr_eq(hmap_find(m, key), i % 2 == 0 ? &es[i] :
		    NULL);
	}
	ck_assert_uint_eq(hmap_count(m), N / 2);
	hmap_free(m);
	free(es);
}
END_TEST

/* The table shrinks back when emptied, so memory follows the data. */
START_TEST(test_shrinks)
{
	enum { N = 10000 };
	struct entry	*es = calloc(N, sizeof *es);
	struct hmap	*m = hmap_create();
	size_t		 small = hmap_memory(m), big;
	int		 i;

	for (i = 0; i < N; i++) {
		entry_init(&es[i], i);
		hmap_insert(m, &es[i]);
	}
	big = hmap_memory(m);
	ck_assert_uint_gt(big, small * 100);
	for (i = 0; i < N; i++)
		hmap_remove(m, es[i].key);
	ck_assert_uint_lt(hmap_memory(m), big / 100);
	hmap_free(m);
	free(es);
}
END_TEST

/* Build the suite. */
static Suite *
hmap_suite(void)
{
	Suite	*s = suite_create("hmap");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_empty_key);
	tcase_add_test(tc, test_random_against_model);
	tcase_add_test(tc, test_shrinks);
	tcase_add_test(tc, test_hashed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(hmap_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
