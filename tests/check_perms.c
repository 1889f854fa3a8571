/* Unit tests for xsd/perms.c: permission lists, their text form, and who
 * may do what with a node. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "perms.h"

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };
static const struct actor dom5 = { 5, PERMS_NO_TARGET, 0 };
static const struct actor dom7 = { 7, PERMS_NO_TARGET, 0 };
static const struct actor dom9 = { 9, PERMS_NO_TARGET, 0 };
static const struct actor dom3_for5 = { 3, 5, 0 };	/* target of 3 is 5 */

/* Parse a list from its wire text (len bytes), expecting success. */
static struct perms *
parse_ok(const char *text, size_t len, uint32_t n)
{
	struct perms	*ps = NULL;
	int		 r;

	r = perms_parse(text, len, n, &ps);
	ck_assert_msg(r == 0, "parse of %u entries: %d", n, r);
	ck_assert_ptr_nonnull(ps);
	ck_assert_uint_eq(ps->n, n);
	ck_assert_uint_eq(ps->refs, 1);
	return (ps);
}

/* Parse one entry, expecting -EINVAL. */
static void
parse_bad_one(const char *entry)
{
	struct perms	*ps = (struct perms *)1;
	int		 r;

	r = perms_parse(entry, strlen(entry) + 1, 1, &ps);
	ck_assert_msg(r == -EINVAL, "\"%s\": %d, expected -EINVAL", entry, r);
	ck_assert_ptr_null(ps);
}

/* Make a list from (domid, mode) pairs. */
static struct perms *
make(uint32_t n, const uint32_t *pairs)
{
	struct perm	p[16];
	uint32_t	i;

	for (i = 0; i < n; i++) {
		p[i].domid = pairs[2 * i];
		p[i].mode = pairs[2 * i + 1];
	}
	return (perms_create(p, n));
}

/* Check a list's wire text, byte for byte. */
static void
format_is(const struct perms *ps, const char *want, size_t wantlen)
{
	char	buf[256];
	size_t	len;

	memset(buf, 'X', sizeof buf);
	len = perms_format(ps, buf, sizeof buf);
	ck_assert_uint_eq(len, wantlen);
	ck_assert_uint_eq(perms_format_len(ps), wantlen);
	ck_assert_mem_eq(buf, want, wantlen);
}

/* Each letter and its mode; the domid is decimal. */
START_TEST(parse_letters)
{
	static const char	 text[] = "n0\0r5\0w7\0b9\0r65535";
	struct perms		*ps = parse_ok(text, sizeof text, 5);

	ck_assert_uint_eq(ps->p[0].domid, 0);
	ck_assert_uint_eq(ps->p[0].mode, PERM_NONE);
	ck_assert_uint_eq(ps->p[1].domid, 5);
	ck_assert_uint_eq(ps->p[1].mode, PERM_READ);
	ck_assert_uint_eq(ps->p[2].domid, 7);
	ck_assert_uint_eq(ps->p[2].mode, PERM_WRITE);
	ck_assert_uint_eq(ps->p[3].domid, 9);
	ck_assert_uint_eq(ps->p[3].mode, PERM_BOTH);
	ck_assert_uint_eq(ps->p[4].domid, 65535);
	ck_assert_uint_eq(ps->p[4].mode, PERM_READ);
	perms_unref(ps);
}
END_TEST

/* Only the first n entries are read; the rest of the buffer is ignored. */
START_TEST(parse_prefix)
{
	static const char	 text[] = "b12\0garbage";
	struct perms		*ps = parse_ok(text, sizeof text, 1);

	ck_assert_uint_eq(ps->p[0].domid, 12);
	ck_assert_uint_eq(ps->p[0].mode, PERM_BOTH);
	perms_unref(ps);
}
END_TEST

/* Bad letters, missing or trailing junk in the domid, no entries. */
START_TEST(parse_errors)
{
	static const char	*bad[] = {
		"", "r", "n", "x5", "R5", "5", "r5x", "rr5", "r5 ", "b-",
		"w/5", "nn0",
	};
	struct perms		*ps = (struct perms *)1;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		parse_bad_one(bad[i]);

	/* No entries at all. */
	ck_assert_int_eq(perms_parse("n0", 3, 0, &ps), -EINVAL);
	ck_assert_ptr_null(ps);
	/* Fewer entries than asked for. */
	ps = (struct perms *)1;
	ck_assert_int_eq(perms_parse("n0\0r5", 6, 3, &ps), -EINVAL);
	ck_assert_ptr_null(ps);
	/* A later entry bad. */
	ps = (struct perms *)1;
	ck_assert_int_eq(perms_parse("n0\0q5", 6, 2, &ps), -EINVAL);
	ck_assert_ptr_null(ps);
}
END_TEST

/*
 * Stricter than Xen on purpose (see the report): Xen's strtol(.., 0)
 * takes "r0x10", "r+5", "r-1"; this engine wants a plain decimal domid
 * that fits a domid_t.
 */
START_TEST(parse_strict_domid)
{
	parse_bad_one("r0x10");
	parse_bad_one("r+5");
	parse_bad_one("r-1");
	parse_bad_one("r 5");
	parse_bad_one("r65536");
	parse_bad_one("r99999999999999999999");
}
END_TEST

/* The wire text is letter, %u domid, NUL, for every entry. */
START_TEST(format_bytes)
{
	static const uint32_t	 pairs[] = {
		0, PERM_NONE, 5, PERM_READ, 7, PERM_WRITE, 65535, PERM_BOTH,
	};
	static const char	 want[] = "n0\0r5\0w7\0b65535";
	struct perms		*ps = make(4, pairs);

	format_is(ps, want, sizeof want);
	perms_unref(ps);
}
END_TEST

/* Parsing the formatted text gives the same list back. */
START_TEST(format_roundtrip)
{
	static const char	 text[] = "b3\0n12\0w0\0r32752";
	struct perms		*ps = parse_ok(text, sizeof text, 4), *again;
	char			 buf[64];
	size_t			 len;

	format_is(ps, text, sizeof text);
	len = perms_format(ps, buf, sizeof buf);
	again = parse_ok(buf, len, 4);
	ck_assert(perms_equal(ps, again));
	perms_unref(ps);
	perms_unref(again);
}
END_TEST

/* A short buffer holds only whole entries. */
START_TEST(format_short_buffer)
{
	static const uint32_t	 pairs[] = { 0, PERM_NONE, 123, PERM_READ };
	struct perms		*ps = make(2, pairs);
	char			 buf[8];

	memset(buf, 'X', sizeof buf);
	ck_assert_uint_eq(perms_format(ps, buf, 3), 3);
	ck_assert_mem_eq(buf, "n0\0", 3);
	ck_assert_uint_eq(perms_format(ps, buf, 6), 3);
	ck_assert_uint_eq(perms_format(ps, buf, 7), 3);
	ck_assert_uint_eq(perms_format(ps, buf, 8), 8);
	ck_assert_mem_eq(buf, "n0\0r123\0", 8);
	ck_assert_uint_eq(perms_format(ps, buf, 2), 0);
	perms_unref(ps);
}
END_TEST

/* Every digit count formats as printf's %u would, modes as letters. */
START_TEST(format_digits)
{
	static const uint32_t	 ids[] = { 0, 7, 9, 10, 99, 100, 32752,
				   65535, 999999999, 1000000000, UINT32_MAX };
	static const uint32_t	 modes[] = { PERM_NONE, PERM_READ, PERM_WRITE,
				   PERM_BOTH };
	uint32_t		 pairs[2 * 11];
	struct perms		*ps;
	char			 buf[256], want[256];
	size_t			 i, len, wlen = 0;

	for (i = 0; i < 11; i++) {
		pairs[2 * i] = ids[i];
		pairs[2 * i + 1] = modes[i % 4];
		wlen += (size_t)snprintf(want + wlen, sizeof want - wlen,
		    "%c%u", "nrwb"[i % 4], ids[i]) + 1;
	}
	ps = make(11, pairs);
	len = perms_format(ps, buf, sizeof buf);
	ck_assert_uint_eq(len, wlen);
	ck_assert_uint_eq(perms_format_len(ps), wlen);
	ck_assert_mem_eq(buf, want, wlen);
	/* one byte short of the whole: the last entry is left out */
	ck_assert_uint_eq(perms_format(ps, buf, wlen - 1), wlen - 12);
	perms_unref(ps);
}
END_TEST

/* Privileged callers and owners may do everything. */
START_TEST(mode_privileged_owner)
{
	static const uint32_t	 pairs[] = { 5, PERM_NONE, 7, PERM_NONE };
	struct perms		*ps = make(2, pairs);
	struct actor		 priv5 = { 9, PERMS_NO_TARGET, 1 };

	ck_assert_uint_eq(perms_mode(ps, &dom0), PERM_BOTH);
	ck_assert_uint_eq(perms_mode(ps, &priv5), PERM_BOTH);
	/* The owner, even with "n" as the default and no entry of its own. */
	ck_assert_uint_eq(perms_mode(ps, &dom5), PERM_BOTH);
	ck_assert_uint_eq(perms_mode(ps, &dom7), PERM_NONE);
	ck_assert_uint_eq(perms_mode(ps, &dom9), PERM_NONE);
	perms_unref(ps);
}
END_TEST

/* A domain acting for the owner (SET_TARGET) is treated as the owner;
 * entries naming its target apply to it. */
START_TEST(mode_target)
{
	static const uint32_t	 owned[] = { 5, PERM_NONE };
	static const uint32_t	 listed[] = { 0, PERM_NONE, 5, PERM_READ };
	static const uint32_t	 self_first[] = {
		0, PERM_NONE, 3, PERM_WRITE, 5, PERM_READ,
	};
	struct perms		*a = make(1, owned), *b = make(2, listed);
	struct perms		*c = make(3, self_first);

	ck_assert_uint_eq(perms_mode(a, &dom3_for5), PERM_BOTH);
	ck_assert_uint_eq(perms_mode(b, &dom3_for5), PERM_READ);
	ck_assert_uint_eq(perms_mode(c, &dom3_for5), PERM_WRITE);
	/* Without the target, 3 gets the default. */
	ck_assert_uint_eq(perms_mode(b, &(struct actor){ 3, PERMS_NO_TARGET,
	    0 }), PERM_NONE);
	perms_unref(a);
	perms_unref(b);
	perms_unref(c);
}
END_TEST

/* The first entry (from 1 on) naming the caller wins; else entry 0. */
START_TEST(mode_first_match_and_default)
{
	static const uint32_t	 pairs[] = {
		0, PERM_READ, 5, PERM_WRITE, 7, PERM_NONE, 5, PERM_BOTH,
		9, PERM_BOTH,
	};
	static const uint32_t	 none[] = { 0, PERM_NONE, 7, PERM_BOTH };
	static const uint32_t	 owner_listed[] = { 0, PERM_BOTH, 0, PERM_NONE };
	struct perms		*ps = make(5, pairs), *pn = make(2, none);
	struct perms		*po = make(2, owner_listed);
	struct actor		 dom0u = { 0, PERMS_NO_TARGET, 0 };
	struct actor		 dom11 = { 11, PERMS_NO_TARGET, 0 };

	ck_assert_uint_eq(perms_mode(ps, &dom5), PERM_WRITE);
	ck_assert_uint_eq(perms_mode(ps, &dom7), PERM_NONE);
	ck_assert_uint_eq(perms_mode(ps, &dom9), PERM_BOTH);
	ck_assert_uint_eq(perms_mode(ps, &dom11), PERM_READ);
	ck_assert_uint_eq(perms_mode(pn, &dom11), PERM_NONE);
	ck_assert_uint_eq(perms_mode(pn, &dom7), PERM_BOTH);
	/* An unprivileged owner is the owner whatever its entries say. */
	ck_assert_uint_eq(perms_mode(po, &dom0u), PERM_BOTH);
	perms_unref(ps);
	perms_unref(pn);
	perms_unref(po);
}
END_TEST

/* A privileged creator (or the parent's owner) shares the parent's list. */
START_TEST(for_new_shared)
{
	static const uint32_t	 pairs[] = { 5, PERM_READ, 7, PERM_WRITE };
	struct perms		*parent = make(2, pairs), *ps;

	ps = perms_for_new(parent, &dom0);
	ck_assert_ptr_eq(ps, parent);
	ck_assert_uint_eq(parent->refs, 2);
	perms_unref(ps);

	ps = perms_for_new(parent, &dom5);
	ck_assert_ptr_eq(ps, parent);
	ck_assert_uint_eq(parent->refs, 2);
	perms_unref(ps);
	ck_assert_uint_eq(parent->refs, 1);
	perms_unref(parent);
}
END_TEST

/* An unprivileged creator becomes the owner, keeping the default letter;
 * every other entry stays, in order (Xen's construct_node). */
START_TEST(for_new_unprivileged)
{
	static const uint32_t	 pairs[] = {
		0, PERM_READ, 7, PERM_WRITE, 9, PERM_NONE, 7, PERM_READ,
		3, PERM_BOTH,
	};
	static const char	 want7[] = "r7\0w7\0n9\0r7\0b3";
	static const char	 want9[] = "r9\0w7\0n9\0r7\0b3";
	struct perms		*parent = make(5, pairs), *ps;

	ps = perms_for_new(parent, &dom7);
	ck_assert_ptr_ne(ps, parent);
	ck_assert_uint_eq(ps->refs, 1);
	format_is(ps, want7, sizeof want7);
	perms_unref(ps);

	ps = perms_for_new(parent, &dom9);
	format_is(ps, want9, sizeof want9);
	perms_unref(ps);

	/* Acting for a target does not make the target the owner. */
	ps = perms_for_new(parent, &dom3_for5);
	ck_assert_uint_eq(ps->p[0].domid, 3);
	ck_assert_uint_eq(ps->p[0].mode, PERM_READ);
	perms_unref(ps);

	ck_assert_uint_eq(parent->refs, 1);
	perms_unref(parent);
}
END_TEST

/* Dropping a domain's entries keeps the owner and takes the reference. */
START_TEST(without)
{
	static const uint32_t	 pairs[] = {
		5, PERM_NONE, 3, PERM_READ, 7, PERM_WRITE, 3, PERM_BOTH,
	};
	static const char	 want[] = "n5\0w7";
	static const char	 all[] = "n5\0r3\0w7\0b3";
	struct perms		*ps = make(4, pairs), *out;

	perms_ref(ps);
	out = perms_without(ps, 3);
	ck_assert_uint_eq(ps->refs, 1);		/* one reference taken */
	format_is(out, want, sizeof want);
	ck_assert(!perms_has_domid(out, 3));
	perms_unref(out);

	/* The owner's entry stays even when it names the domain. */
	perms_ref(ps);
	out = perms_without(ps, 5);
	format_is(out, all, sizeof all);
	ck_assert(perms_equal(out, ps));
	perms_unref(out);

	out = perms_without(ps, 42);		/* takes the last reference */
	format_is(out, all, sizeof all);
	perms_unref(out);
}
END_TEST

/* References, equality and membership. */
START_TEST(refs_equal_has)
{
	static const uint32_t	 a[] = { 0, PERM_NONE, 5, PERM_READ };
	static const uint32_t	 b[] = { 0, PERM_NONE, 5, PERM_WRITE };
	struct perms		*pa = make(2, a), *pa2 = make(2, a);
	struct perms		*pb = make(2, b), *pc = make(1, a);

	ck_assert_uint_eq(pa->refs, 1);
	ck_assert_ptr_eq(perms_ref(pa), pa);
	ck_assert_uint_eq(pa->refs, 2);
	perms_unref(pa);
	ck_assert_uint_eq(pa->refs, 1);
	perms_unref(NULL);

	ck_assert(perms_equal(pa, pa));
	ck_assert(perms_equal(pa, pa2));
	ck_assert(!perms_equal(pa, pb));
	ck_assert(!perms_equal(pa, pc));
	ck_assert(perms_has_domid(pa, 0));
	ck_assert(perms_has_domid(pa, 5));
	ck_assert(!perms_has_domid(pa, 7));

	perms_unref(pa);
	perms_unref(pa2);
	perms_unref(pb);
	perms_unref(pc);
}
END_TEST

/* All of perms.c's tests. */
/*
 * A dead domain is forgotten in place: its entries go from every list that
 * names it, lists it owned pass to dom0, and a list filed under another
 * domain is reached too.
 */
START_TEST(forget)
{
	static const uint32_t	 owned[] = { 5, PERM_NONE, 7, PERM_READ,
	    5, PERM_READ };
	static const uint32_t	 named[] = { 7, PERM_READ, 5, PERM_BOTH };
	static const uint32_t	 other[] = { 0, PERM_READ, 7, PERM_WRITE };
	static const char	 want_owned[] = "n0\0r7";
	static const char	 want_named[] = "r7";
	static const char	 want_other[] = "r0\0w7";
	static const char	 want_named7[] = "r0";
	struct perms		*a = make(3, owned), *b = make(2, named);
	struct perms		*c = make(2, other);

	perms_forget(5);
	format_is(a, want_owned, sizeof want_owned);
	format_is(b, want_named, sizeof want_named);
	format_is(c, want_other, sizeof want_other);
	/* Forgetting again, or dom0, changes nothing. */
	perms_forget(5);
	perms_forget(0);
	format_is(a, want_owned, sizeof want_owned);
	/* b was filed under 7 all along; forgetting 7 reaches it. */
	perms_forget(7);
	format_is(b, want_named7, sizeof want_named7);
	format_is(c, want_named7, sizeof want_named7);
	perms_unref(a);
	perms_unref(b);
	perms_unref(c);
}
END_TEST

static Suite *
perms_suite(void)
{
	Suite	*s = suite_create("perms");
	TCase	*tc;

	tc = tcase_create("text");
	tcase_add_test(tc, parse_letters);
	tcase_add_test(tc, parse_prefix);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, parse_strict_domid);
	tcase_add_test(tc, format_bytes);
	tcase_add_test(tc, format_roundtrip);
	tcase_add_test(tc, format_short_buffer);
	tcase_add_test(tc, format_digits);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_add_test(tc, mode_privileged_owner);
	tcase_add_test(tc, mode_target);
	tcase_add_test(tc, mode_first_match_and_default);
	tcase_add_test(tc, for_new_shared);
	tcase_add_test(tc, for_new_unprivileged);
	tcase_add_test(tc, without);
	tcase_add_test(tc, forget);
	tcase_add_test(tc, refs_equal_has);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(perms_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
