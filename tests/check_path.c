/* Unit tests for xsd/path.c: canonical store paths and walking them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "path.h"

#define PMAX	2048	/* Xen 4.17's path-max quota */

/* Canonicalize in for domid, expecting success and the given result. */
static void
canon_ok(const char *in, unsigned domid, bool special, const char *want)
{
	char	*out = (char *)1;
	int	 r;

	r = path_canonical(in, domid, PMAX, special, &out);
	ck_assert_msg(r == 0, "\"%.60s\": %d", in, r);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, want);
	free(out);
}

/* Canonicalize in for domid, expecting EINVAL and no result. */
static void
canon_bad(const char *in, unsigned domid, bool special)
{
	char	*out = (char *)1;
	int	 r;

	r = path_canonical(in, domid, PMAX, special, &out);
	ck_assert_msg(r == -EINVAL, "\"%.60s\": %d, expected -EINVAL", in, r);
	ck_assert_ptr_null(out);
}

/* A string of n copies of c after prefix; the caller frees it. */
static char *
long_path(const char *prefix, size_t n, char c)
{
	size_t	 plen = strlen(prefix);
	char	*s = malloc(plen + n + 1);

	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	s[plen + n] = '\0';
	return (s);
}

/* Relative paths resolve below the caller's /local/domain/<id>. */
START_TEST(canonical_relative)
{
	canon_ok("foo", 5, false, "/local/domain/5/foo");
	canon_ok("foo/bar", 0, false, "/local/domain/0/foo/bar");
	canon_ok("a", 32752, false, "/local/domain/32752/a");
	canon_ok("device/vif/0/state", 17, false,
	    "/local/domain/17/device/vif/0/state");
}
END_TEST

/* Absolute paths come back unchanged, "/" included. */
START_TEST(canonical_absolute)
{
	canon_ok("/", 5, false, "/");
	canon_ok("/a", 5, false, "/a");
	canon_ok("/local/domain/7/x", 5, false, "/local/domain/7/x");
	canon_ok("/aZ09-_@/q", 0, false, "/aZ09-_@/q");
	canon_ok("/a@b", 0, false, "/a@b");
}
END_TEST

/* Empty paths, trailing or doubled slashes and bad characters fail. */
START_TEST(canonical_malformed)
{
	static const char *bad[] = {
		"", "/a/", "//", "/a//b", "a//b", "a/", "//a", "/a b",
		"/a.b", "/a\tb", "/a\nb", "/a:b", "/a%b", "/a+b", "/a~b",
		"/a\\b", "/\xc3\xa9", "a.b", "/a*", "/a?", "/a,b", "/a=b",
		"/a\"b", "/a'b", "/a!b", "/a#b",
	};
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		canon_bad(bad[i], 5, false);
		canon_bad(bad[i], 5, true);
	}
}
END_TEST

/* "@" names are allowed only when asked for, unchanged, any bytes. */
START_TEST(canonical_special)
{
	canon_bad("@introduceDomain", 0, false);
	canon_bad("@releaseDomain", 5, false);
	canon_ok("@introduceDomain", 0, true, "@introduceDomain");
	canon_ok("@releaseDomain", 5, true, "@releaseDomain");
	/* Xen checks only the length of a special watch path. */
	canon_ok("@releaseDomain/5", 5, true, "@releaseDomain/5");
	canon_ok("@x y.z//", 5, true, "@x y.z//");
	/* "@" inside a path is an ordinary character, even when not asked. */
	canon_ok("a@b", 3, false, "/local/domain/3/a@b");
}
END_TEST

/* The part after /local/domain/<id>/ may be path_max bytes, not more. */
START_TEST(canonical_length_relative)
{
	char	*in, *want;

	in = long_path("", PMAX, 'x');
	want = long_path("/local/domain/5/", PMAX, 'x');
	canon_ok(in, 5, false, want);
	free(in);
	free(want);

	in = long_path("", PMAX + 1, 'x');
	canon_bad(in, 5, false);
	free(in);

	/* The same limit for an absolute path below any domain's home. */
	in = long_path("/local/domain/7/", PMAX, 'y');
	canon_ok(in, 5, false, in);
	free(in);
	in = long_path("/local/domain/7/", PMAX + 1, 'y');
	canon_bad(in, 5, false);
	free(in);
	in = long_path("/local/domain/12345/", PMAX, 'y');
	canon_ok(in, 0, false, in);
	free(in);
}
END_TEST

/* Any other absolute path may be path_max bytes in total. */
START_TEST(canonical_length_absolute)
{
	char	*in;

	in = long_path("/", PMAX - 1, 'z');
	canon_ok(in, 0, false, in);
	free(in);
	in = long_path("/", PMAX, 'z');
	canon_bad(in, 0, false);
	free(in);

	/* /local/domain itself and malformed homes get no allowance. */
	in = long_path("/local/domain/", PMAX, 'z');
	canon_bad(in, 0, false);
	free(in);
	in = long_path("/local/domain/x/", PMAX, 'z');
	canon_bad(in, 0, false);
	free(in);
	/* Xen scans the domid with %5u: six digits are no home. */
	in = long_path("/local/domain/123456/", PMAX - 21, 'z');
	canon_ok(in, 0, false, in);
	free(in);
	in = long_path("/local/domain/123456/", PMAX - 20, 'z');
	canon_bad(in, 0, false);
	free(in);

	/* Special names: path_max bytes in total. */
	in = long_path("@", PMAX - 1, 's');
	canon_ok(in, 0, true, in);
	free(in);
	in = long_path("@", PMAX, 's');
	canon_bad(in, 0, true);
	free(in);
}
END_TEST

/* A smaller path_max is honoured for relative and absolute paths. */
START_TEST(canonical_small_limit)
{
	char	*out;

	ck_assert_int_eq(path_canonical("abcd", 1, 4, false, &out), 0);
	ck_assert_str_eq(out, "/local/domain/1/abcd");
	free(out);
	ck_assert_int_eq(path_canonical("abcde", 1, 4, false, &out), -EINVAL);
	ck_assert_int_eq(path_canonical("/abc", 1, 4, false, &out), 0);
	free(out);
	ck_assert_int_eq(path_canonical("/abcd", 1, 4, false, &out), -EINVAL);
}
END_TEST

/* Which characters a path may hold. */
START_TEST(valid_chars)
{
	int	c;
	char	s[3] = { '/', 0, 0 };
	bool	want;

	for (c = 1; c < 256; c++) {
		s[1] = (char)c;
		want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '/' ||
		    c == '_' || c == '@';
		ck_assert_msg(path_valid_chars(s) == want, "char %d", c);
	}
	ck_assert(path_valid_chars(""));
	ck_assert(path_is_special("@x"));
	ck_assert(!path_is_special("/@x"));
}
END_TEST

/* Parents: lengths and strings. */
START_TEST(parent_of)
{
	char	*p;

	ck_assert_uint_eq(path_parent_len("/"), 1);
	ck_assert_uint_eq(path_parent_len("/a"), 1);
	ck_assert_uint_eq(path_parent_len("/abc"), 1);
	ck_assert_uint_eq(path_parent_len("/a/b"), 2);
	ck_assert_uint_eq(path_parent_len("/abc/de/f"), 7);

	p = path_parent("/a/b/c");
	ck_assert_str_eq(p, "/a/b");
	free(p);
	p = path_parent("/a");
	ck_assert_str_eq(p, "/");
	free(p);
	p = path_parent("/");
	ck_assert_str_eq(p, "/");
	free(p);
	p = path_parent("/local/domain/5");
	ck_assert_str_eq(p, "/local/domain");
	free(p);
}
END_TEST

/* The last component of a path. */
START_TEST(basename_of)
{
	ck_assert_str_eq(path_basename("/"), "");
	ck_assert_str_eq(path_basename("/a"), "a");
	ck_assert_str_eq(path_basename("/a/bc"), "bc");
	ck_assert_str_eq(path_basename("/local/domain/5"), "5");
}
END_TEST

/* At-or-below checks compare whole components. */
START_TEST(is_below)
{
	ck_assert(path_is_below("/a", "/a"));
	ck_assert(path_is_below("/a/b", "/a"));
	ck_assert(path_is_below("/a/b/c", "/a"));
	ck_assert(!path_is_below("/ab", "/a"));
	ck_assert(!path_is_below("/a", "/a/b"));
	ck_assert(!path_is_below("/b/a", "/a"));
	ck_assert(path_is_below("/", "/"));
	ck_assert(path_is_below("/x", "/"));
	ck_assert(path_is_below("/x/y", "/"));
	ck_assert(!path_is_below("@releaseDomain", "/"));
	ck_assert(path_is_below("@releaseDomain", "@releaseDomain"));
	ck_assert(!path_is_below("@releaseDomainX", "@releaseDomain"));
}
END_TEST

/* Paths below home are shown relative to it; others as they are. */
START_TEST(relative_to)
{
	const char	*home = "/local/domain/5";

	ck_assert_str_eq(path_relative_to("/local/domain/5/a", home), "a");
	ck_assert_str_eq(path_relative_to("/local/domain/5/a/b", home),
	    "a/b");
	ck_assert_str_eq(path_relative_to("/local/domain/50/a", home),
	    "/local/domain/50/a");
	ck_assert_str_eq(path_relative_to("/local/domain/6/a", home),
	    "/local/domain/6/a");
	ck_assert_str_eq(path_relative_to("/other", home), "/other");
	ck_assert_str_eq(path_relative_to("@releaseDomain", home),
	    "@releaseDomain");
}
END_TEST

/* Where the part after a domain's home starts (0: not below a home). */
START_TEST(domain_offset)
{
	ck_assert_uint_eq(path_domain_offset("/local/domain/5/x"), 16);
	ck_assert_uint_eq(path_domain_offset("/local/domain/5/"), 16);
	ck_assert_uint_eq(path_domain_offset("/local/domain/12345/x"), 20);
	ck_assert_uint_eq(path_domain_offset("/local/domain/00005/x"), 20);
	ck_assert_uint_eq(path_domain_offset("/local/domain/5"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domain/"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domain//x"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domain/x/y"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domain/5x/y"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domainx/5/y"), 0);
	ck_assert_uint_eq(path_domain_offset("/local/domain/123456/x"), 0);
	ck_assert_uint_eq(path_domain_offset("/local"), 0);
	ck_assert_uint_eq(path_domain_offset("/"), 0);
	ck_assert_uint_eq(path_domain_offset("local/domain/5/x"), 0);
}
END_TEST

/* All of path.c's tests. */
static Suite *
path_suite(void)
{
	Suite	*s = suite_create("path");
	TCase	*tc;

	tc = tcase_create("canonical");
	tcase_add_test(tc, canonical_relative);
	tcase_add_test(tc, canonical_absolute);
	tcase_add_test(tc, canonical_malformed);
	tcase_add_test(tc, canonical_special);
	tcase_add_test(tc, canonical_length_relative);
	tcase_add_test(tc, canonical_length_absolute);
	tcase_add_test(tc, canonical_small_limit);
	tcase_add_test(tc, valid_chars);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_test(tc, parent_of);
	tcase_add_test(tc, basename_of);
	tcase_add_test(tc, is_below);
	tcase_add_test(tc, relative_to);
	tcase_add_test(tc, domain_offset);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(path_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
