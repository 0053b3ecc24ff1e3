/* test_version.c: unit tests for PEP 440 version parsing, normalization
 * and ordering (expected values are packaging 23.0's answers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "version.h"

static const struct { const char *in, *norm; } norm_cases[] = {
	{ "1.0", "1.0" }, { "v1.0", "1.0" }, { "V1.0", "1.0" },
	{ " 1.0 ", "1.0" }, { "\t1.0\n", "1.0" }, { "\x0b\x1c" "1.0\x1f", "1.0" },
	{ "1.0\xc2\xa0", "1.0" }, { "\xe3\x80\x80" "1.0\xe2\x80\x83", "1.0" },
	{ "1.0a", "1.0a0" }, { "1.0A1", "1.0a1" }, { "1.0alpha1", "1.0a1" },
	{ "1.0-alpha-1", "1.0a1" }, { "1.0_ALPHA_1", "1.0a1" },
	{ "1.0.a.1", "1.0a1" }, { "1.0b2", "1.0b2" }, { "1.0beta2", "1.0b2" },
	{ "1.0c3", "1.0rc3" }, { "1.0pre3", "1.0rc3" },
	{ "1.0preview3", "1.0rc3" }, { "1.0rc3", "1.0rc3" },
	{ "1.0RC3", "1.0rc3" }, { "1.0-1", "1.0.post1" },
	{ "1.0-0", "1.0.post0" }, { "1.0.post", "1.0.post0" },
	{ "1.0post1", "1.0.post1" }, { "1.0-post-1", "1.0.post1" },
	{ "1.0_post_1", "1.0.post1" }, { "1.0rev1", "1.0.post1" },
	{ "1.0r1", "1.0.post1" }, { "1.0.r", "1.0.post0" },
	{ "1.0dev", "1.0.dev0" }, { "1.0.dev", "1.0.dev0" },
	{ "1.0-dev-1", "1.0.dev1" }, { "1.0_dev_1", "1.0.dev1" },
	{ "1.0DEV456", "1.0.dev456" },
	{ "1.0a1.post2.dev3", "1.0a1.post2.dev3" },
	{ "1.0rc1-1.dev2", "1.0rc1.post1.dev2" }, { "0!1.0", "1.0" },
	{ "00!01.00", "1.0" }, { "1!2.0", "1!2.0" }, { "2012.10", "2012.10" },
	{ "1.0+abc.5", "1.0+abc.5" }, { "1.0+ABC-5", "1.0+abc.5" },
	{ "1.0+abc_05", "1.0+abc.5" }, { "1.0+0", "1.0+0" },
	{ "1.0+00abc", "1.0+00abc" }, { "01.002.0003", "1.2.3" },
	{ "1.0a.1", "1.0a1" }, { "1.0a-1", "1.0a1" },
	{ "1.0.post.dev", "1.0.post0.dev0" }, { "1.0-r-1", "1.0.post1" },
	{ "1.0.dev.1", "1.0.dev1" }, { "1.0a.-1", "1.0a0.post1" },
	{ "1!1.0a01.post02.dev03+Ubuntu-01.Z",
	    "1!1.0a1.post2.dev3+ubuntu.1.z" },
	{ "18446744073709551616.1", "18446744073709551616.1" },
	{ "000000000000000000000000000000001.0", "1.0" },
	{ "1.0+000", "1.0+0" }, { "0", "0" }, { "0.0.0.0.0", "0.0.0.0.0" },
};

static const char *invalid_cases[] = {
	"", " ", "v", "V", "1.", "1..0", ".1", "1.0+", "1.0+a..b", "1.0+a.",
	"1.0-", "1.0a1a1", "1.0.post1.post2", "1.0dev1dev2", "1.0-alpha-beta",
	"1.0 +abc", "1 .0", "1.0.*", "!1.0", "1!", "1!!1", "1.0-1-1", "1.0 1",
	"-1.0", "1.0ab", "1.0+_a", "1.0+a_", "1.0 a1", "v v1",
	"1.0.dev1.post1", "1.0post1a1", "1.0+a+b", "1.0x", "1,0", "vv1",
	"1.0\x01", "1.0\xc2", "1.0p\xc5\xbft1", "1.0+\xc5\xbf", "1.0--1",
	"1.0a1-", "\xc2\xa0", "1.0_1", "1.0.1-", "1.0-.1", "1.0pre.view1",
	"1.0prev", "1.0re", "1.0alph", "1.0de", "1.0+a-", "+1", "1!v1",
};

static void
test_normalize(void **state)
{
	struct version *v;
	char out[VERSION_STR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		if (version_parse(norm_cases[i].in, &v) != 0)
			fail_msg("'%s' should parse", norm_cases[i].in);
		assert_string_equal(version_str(v), norm_cases[i].norm);
		version_free(v);
		assert_int_equal(version_normalize(norm_cases[i].in, out,
		    sizeof(out)), 0);
		assert_string_equal(out, norm_cases[i].norm);
		/* The normalized form is a fixed point. */
		assert_int_equal(version_normalize(norm_cases[i].norm, out,
		    sizeof(out)), 0);
		assert_string_equal(out, norm_cases[i].norm);
	}
	assert_int_equal(version_normalize("1.0a", out, 6), 0);
	assert_int_equal(version_normalize("1.0a", out, 5), -1);
	assert_int_equal(version_normalize("1.0a", out, 0), -1);
}

static void
test_invalid(void **state)
{
	struct version *v = (struct version *)&v;
	struct wwerr err;
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]);
	    i++) {
		if (version_parse(invalid_cases[i], &v) != -1)
			fail_msg("'%s' should be invalid (got %s)",
			    invalid_cases[i], version_str(v));
		assert_null(v);
		assert_int_equal(version_normalize(invalid_cases[i], out,
		    sizeof(out)), -1);
		assert_string_equal(out, "");
	}
	assert_int_equal(version_parse(NULL, &v), -1);

	assert_int_equal(version_parse_err("1.0x", &v, &err), -1);
	assert_int_equal(err.code, VERSION_EINVAL);
	assert_non_null(strstr(err.msg, "'1.0x'"));
	assert_non_null(strstr(err.msg, "offset 3"));
	assert_int_equal(version_parse_err("1.0\n\x01", &v, &err), -1);
	assert_non_null(strstr(err.msg, "'1.0\\x0a\\x01'"));
	assert_int_equal(version_parse_err("", &v, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(version_parsen("1.0", 2, &v, &err), -1);
	assert_non_null(strstr(err.msg, "'1.'"));
	assert_int_equal(version_parsen("1.0abc", 3, &v, &err), 0);
	assert_string_equal(version_str(v), "1.0");
	version_free(v);
}

static void
test_length_bounds(void **state)
{
	char s[VERSION_MAX_LEN + 2];
	struct version *v;
	struct wwerr err;
	size_t i;

	(void)state;
	/* 1.1.1...: the longest accepted input, 128 release segments. */
	for (i = 0; i < VERSION_MAX_LEN; i++)
		s[i] = (i % 2) ? '.' : '1';
	s[VERSION_MAX_LEN - 1] = '1';
	s[VERSION_MAX_LEN] = '\0';
	assert_int_equal(version_parse(s, &v), 0);
	assert_int_equal(version_release_len(v), VERSION_MAX_LEN / 2);
	assert_string_equal(version_str(v), s);
	version_free(v);
	s[VERSION_MAX_LEN] = '1';
	s[VERSION_MAX_LEN + 1] = '\0';
	assert_int_equal(version_parse_err(s, &v, &err), -1);
	assert_int_equal(err.code, VERSION_ETOOLONG);

	/* Implicit parts grow the normalized form beyond the input; it
	 * must stay within the bound so it parses again. */
	memset(s, '9', VERSION_MAX_LEN - 5);
	memcpy(s + VERSION_MAX_LEN - 5, "crdev", 6);
	assert_int_equal(strlen(s), VERSION_MAX_LEN);
	assert_int_equal(version_parse_err(s, &v, &err), -1);
	assert_int_equal(err.code, VERSION_ETOOLONG);
	assert_non_null(strstr(err.msg, "normalized form too long"));
	memset(s, '9', VERSION_MAX_LEN - 14);
	memcpy(s + VERSION_MAX_LEN - 14, "crdev", 6);
	assert_int_equal(version_parse(s, &v), 0);
	assert_int_equal(strlen(version_str(v)), VERSION_MAX_LEN);
	assert_non_null(strstr(version_str(v), "9rc0.post0.dev0"));
	version_free(v);
}

/* Each entry sorts strictly after the previous one (PEP 440 examples). */
static const char *ordered[] = {
	"0.dev0", "0", "0.0.1", "0.1", "1.0.dev456", "1.0a1", "1.0a2.dev456",
	"1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
	"1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",
	"1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34",
	"1.0.post456", "1.0.15", "1.1.dev1", "1.1a1", "1.1", "1.1.post1",
	"2", "9", "10", "18446744073709551615", "18446744073709551616",
	"99999999999999999999999", "1!0.dev0", "1!0", "2!0", "10!0",
};

static void
test_order(void **state)
{
	struct version *v[sizeof(ordered) / sizeof(ordered[0])];
	size_t n = sizeof(ordered) / sizeof(ordered[0]), i, j;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(version_parse(ordered[i], &v[i]), 0);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = version_cmp(v[i], v[j]);
			int want = i < j ? -1 : i > j;

			if (c != want)
				fail_msg("cmp(%s, %s) = %d, want %d",
				    ordered[i], ordered[j], c, want);
		}
	for (i = 0; i < n; i++)
		version_free(v[i]);
}

static int
cmp_str(const char *a, const char *b)
{
	struct version *va, *vb;
	int c;

	assert_int_equal(version_parse(a, &va), 0);
	assert_int_equal(version_parse(b, &vb), 0);
	c = version_cmp(va, vb);
	assert_int_equal(version_cmp(vb, va), -c);
	version_free(va);
	version_free(vb);
	return c;
}

static void
test_equal_and_local(void **state)
{
	(void)state;
	/* Trailing zeros in the release do not count. */
	assert_int_equal(cmp_str("1.0", "1.0.0.0"), 0);
	assert_int_equal(cmp_str("1", "1.0"), 0);
	assert_int_equal(cmp_str("0", "0.0"), 0);
	assert_int_equal(cmp_str("1.0a1", "1.0.0alpha1"), 0);
	assert_int_equal(cmp_str("1.0.post0", "1.0-0"), 0);
	assert_int_equal(cmp_str("0!1.0", "1.0"), 0);
	assert_int_equal(cmp_str("1.01", "1.1"), 0);
	assert_int_equal(cmp_str("1.0.1", "1.0.0.1"), 1);
	assert_int_equal(cmp_str("1.0.0.1", "1.0.1"), -1);
	/* Local labels: numeric > alphanumeric, shorter first. */
	assert_int_equal(cmp_str("1.0+1", "1.0+01"), 0);
	assert_int_equal(cmp_str("1.0+a", "1.0+A"), 0);
	assert_int_equal(cmp_str("1.0+a-1", "1.0+a.1"), 0);
	assert_int_equal(cmp_str("1.0+1", "1.0+z"), 1);
	assert_int_equal(cmp_str("1.0+a", "1.0+a.0"), -1);
	assert_int_equal(cmp_str("1.0+a", "1.0+aa"), -1);
	assert_int_equal(cmp_str("1.0+ab", "1.0+b"), -1);
	assert_int_equal(cmp_str("1.0+9", "1.0+10"), -1);
	assert_int_equal(cmp_str("1.0+1a", "1.0+1"), -1);
	assert_int_equal(cmp_str("1.0+1a", "1.0+1b"), -1);
	assert_int_equal(cmp_str("1.0", "1.0+0"), -1);
	assert_int_equal(cmp_str("1.0+zzz", "1.0.post0"), -1);
	/* dev without pre sorts before pre; with pre or post it does not. */
	assert_int_equal(cmp_str("1.0.dev9", "1.0a0"), -1);
	assert_int_equal(cmp_str("1.0a0.dev9", "1.0a0"), -1);
	assert_int_equal(cmp_str("1.0.post0.dev0", "1.0"), 1);
	assert_int_equal(cmp_str("1.0.post0.dev0", "1.0.post0"), -1);
	assert_int_equal(cmp_str("1.0rc1", "1.0c1"), 0);
	assert_int_equal(cmp_str("1.0b9", "1.0rc0"), -1);
}

static void
test_accessors(void **state)
{
	struct version *v;
	char out[64];

	(void)state;
	assert_int_equal(version_parse("V3!1.2.0RC1.post2.dev3+Local-7", &v),
	    0);
	assert_string_equal(version_str(v), "3!1.2.0rc1.post2.dev3+local.7");
	assert_string_equal(version_public(v), "3!1.2.0rc1.post2.dev3");
	assert_string_equal(version_base(v), "3!1.2.0");
	assert_string_equal(version_local(v), "local.7");
	assert_true(version_is_prerelease(v));
	assert_true(version_is_postrelease(v));
	assert_true(version_is_devrelease(v));
	assert_true(version_has_local(v));
	assert_int_equal(version_epoch(v), 3);
	assert_int_equal(version_release_len(v), 3);
	assert_int_equal(version_release_at(v, 0), 1);
	assert_int_equal(version_release_at(v, 1), 2);
	assert_int_equal(version_release_at(v, 2), 0);
	assert_int_equal(version_release_at(v, 3), 0);
	assert_int_equal(version_canonical(v, 1, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "3!1.2rc1.post2.dev3+local.7");
	assert_int_equal(version_canonical(v, 1, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "3!1.2rc1.post2.dev3");
	assert_int_equal(version_canonical(v, 0, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "3!1.2.0rc1.post2.dev3");
	assert_int_equal(version_canonical(v, 1, 1, out, 27), -1);
	assert_int_equal(version_canonical(v, 1, 1, out, 28), 0);
	version_free(v);

	assert_int_equal(version_parse("0.0.0", &v), 0);
	assert_int_equal(version_canonical(v, 1, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "0");
	assert_false(version_is_prerelease(v));
	assert_false(version_is_postrelease(v));
	assert_false(version_has_local(v));
	assert_null(version_local(v));
	assert_int_equal(version_epoch(v), 0);
	version_free(v);

	assert_int_equal(version_parse("1.10.0", &v), 0);
	assert_int_equal(version_canonical(v, 1, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "1.10");
	version_free(v);

	/* Values beyond 64 bits saturate in the numeric accessors. */
	assert_int_equal(version_parse("99999999999999999999999!"
	    "18446744073709551616.18446744073709551615", &v), 0);
	assert_true(version_epoch(v) == (unsigned long)-1);
	assert_true(version_release_at(v, 0) == UINT64_MAX);
	assert_true(version_release_at(v, 1) == UINT64_MAX);
	version_free(v);

	assert_int_equal(version_parse("1.0.dev1", &v), 0);
	assert_true(version_is_prerelease(v));
	assert_false(version_is_postrelease(v));
	version_free(v);
}

static void
test_cmp_public_base(void **state)
{
	struct version *a, *b;

	(void)state;
	assert_int_equal(version_parse("1.0+abc", &a), 0);
	assert_int_equal(version_parse("1.0.0", &b), 0);
	assert_int_equal(version_cmp_public(a, b), 0);
	assert_int_equal(version_cmp(a, b), 1);
	version_free(b);
	assert_int_equal(version_parse("1.0rc1.post1", &b), 0);
	assert_int_equal(version_cmp_base(a, b), 0);
	assert_int_equal(version_cmp_public(a, b), 1);
	version_free(a);
	assert_int_equal(version_parse("1!1.0", &a), 0);
	assert_int_equal(version_cmp_base(a, b), 1);
	version_free(a);
	version_free(b);
}

static void
test_space(void **state)
{
	(void)state;
	assert_int_equal(version_space_len(" ", 1), 1);
	assert_int_equal(version_space_len("\x1f", 1), 1);
	assert_int_equal(version_space_len("\x1b", 1), 0);
	assert_int_equal(version_space_len("\xc2\x85", 2), 2);
	assert_int_equal(version_space_len("\xc2\x85", 1), 0);
	assert_int_equal(version_space_len("\xe2\x80\x8a", 3), 3);
	assert_int_equal(version_space_len("\xe2\x80\x8b", 3), 0);
	assert_int_equal(version_space_len("\xe2\x80\xaf", 3), 3);
	assert_int_equal(version_space_len("\xe2\x81\x9f", 3), 3);
	assert_int_equal(version_space_len("\xe1\x9a\x80", 2), 0);
	assert_int_equal(version_space_len("a", 1), 0);
	assert_int_equal(version_space_len("", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_equal_and_local),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_cmp_public_base),
		cmocka_unit_test(test_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
