/* test_specifier.c: unit tests for PEP 440 specifier sets (expected values
 * are packaging 23.0's SpecifierSet.contains with prereleases None, True
 * and False). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "specifier.h"
#include "version.h"

/* want: contains() with SPEC_PRE_DEFAULT, SPEC_PRE_ALLOW, SPEC_PRE_DENY. */
static const struct { const char *spec, *ver, *want; } contains_cases[] = {
	/* ~=: PEP 440's compatible release, with prefix from the text. */
	{ "~=2.2", "2.1", "000" }, { "~=2.2", "2.2", "111" },
	{ "~=2.2", "2.3", "111" }, { "~=2.2", "3.0", "000" },
	{ "~=2.2", "2.2.post3", "111" }, { "~=2.2", "2.3a1", "010" },
	{ "~=1.4.5", "1.4.4", "000" }, { "~=1.4.5", "1.4.9", "111" },
	{ "~=1.4.5", "1.5.0", "000" }, { "~=1.4.5", "1.4.5+local", "111" },
	{ "~=2.2.post3", "2.2", "000" }, { "~=2.2.post3", "2.3", "111" },
	{ "~=1.4.5a4", "1.4.5a3", "000" }, { "~=1.4.5a4", "1.4.5a4", "110" },
	{ "~=1.4.5a4", "1.4.9", "111" }, { "~=1.4.5a4", "1.5", "000" },
	{ "~=1.0.c1", "1.0.1", "111" }, { "~=1.0.c1", "1.1", "000" },
	{ "~=1.0rc1", "1.1", "111" }, { "~=1.0c1", "1.1", "000" },
	{ "~= 1.0", "1.9", "111" }, { "~=1!1.0", "1!1.5", "111" },
	{ "~=1!1.0", "1.5", "000" },
	/* == with .*: zero padding, epochs are not padded. */
	{ "==1.1.*", "1.1", "111" }, { "==1.1.*", "1.1.0", "111" },
	{ "==1.1.*", "1.1.post1", "111" }, { "==1.1.*", "1.1a1", "010" },
	{ "==1.1.*", "1.10", "000" }, { "==1.1.*", "1.2", "000" },
	{ "==1.1.*", "1.1.9+loc", "111" }, { "==2.0.*", "2", "111" },
	{ "==1!2.0.*", "1!2", "000" }, { "==1!2.0.*", "1!2.0", "000" },
	{ "==1!2.0.*", "1!2.0.1", "111" }, { "!=1.1.*", "1.1.5", "000" },
	{ "!=1.1.*", "1.2", "111" }, { "==V1.*", "1.5", "111" },
	/* == without .*: the candidate's local label only counts if the
	 * specifier has one. */
	{ "==1.1", "1.1", "111" }, { "==1.1", "1.1.0", "111" },
	{ "==1.1", "1.1+local", "111" }, { "==1.1", "1.1.post1", "000" },
	{ "==1.1+local", "1.1", "000" }, { "==1.1+local", "1.1+LOCAL", "111" },
	{ "==1.1+local", "1.1+other", "000" }, { "!=1.1", "1.1+x", "000" },
	{ "!=1.1", "1.2", "111" }, { "==1.0a1", "1.0a1", "110" },
	/* Exclusive ordered comparisons. */
	{ "<2.0", "1.9", "111" }, { "<2.0", "2.0a1", "000" },
	{ "<2.0", "2.0.dev1", "000" }, { "<2.0", "1.0a1", "010" },
	{ "<2.0", "2.0", "000" }, { "<2.0", "1.9+loc", "111" },
	{ "<2.0rc1", "2.0a1", "010" }, { "<2.0rc1", "2.0rc1", "000" },
	{ ">2.0", "2.0.post1", "000" }, { ">2.0", "2.0+loc", "000" },
	{ ">2.0", "2.0.1", "111" }, { ">2.0", "2.1a1", "010" },
	{ ">2.0", "2.0.1+loc", "111" }, { ">2.0.post1", "2.0.post2", "111" },
	{ ">2.0.post1", "2.0.post2+loc", "000" },
	{ "<=2.0", "2.0+loc", "111" }, { "<=2.0", "2.0.post1", "000" },
	{ "<=2.0", "2.0a1", "010" }, { ">=2.0", "2.0+loc", "111" },
	{ ">=2.0", "2.0a1", "000" }, { ">=2.0", "2.0.post1", "111" },
	{ ">=2.0a1", "2.0b1", "110" }, { ">=2.0a1", "2.0", "111" },
	{ "<1.0a1", "0.9a1", "010" },
	/* Arbitrary equality compares the normalized candidate. */
	{ "===1.0", "1.0", "111" }, { "===1.0", "1.0.0", "000" },
	{ "===1.0+LOCAL", "1.0+local", "111" }, { "===", "1.0", "000" },
	{ "===1.0a1", "1.0a1", "110" },
	{ "===1.0+\xe2\x84\xaa", "1.0+k", "111" },
	/* Sets: all must match; the empty set matches every final. */
	{ "", "1.0", "111" }, { "", "1.0a1", "010" },
	{ ">=1.0,<2.0", "0.9", "000" }, { ">=1.0,<2.0", "1.5", "111" },
	{ ">=1.0,<2.0", "2.0", "000" }, { ">=1.0,<2.0", "1.5a1", "010" },
	{ ">=1.0,<2.0,>=1.6a1", "1.5a1", "000" },
	{ ">=1.0,<2.0,>=1.5a1", "1.6a1", "110" },
	{ " >= 1.0 , , != 1.3 ,", "1.3", "000" },
	{ "\xe3\x80\x80>=1.0\xc2\xa0", "1.3", "111" },
	{ "==18446744073709551616.*", "18446744073709551616.5", "111" },
	{ ">18446744073709551615", "18446744073709551616", "111" },
};

static void
test_contains(void **state)
{
	static const int modes[3] = { SPEC_PRE_DEFAULT, SPEC_PRE_ALLOW,
	    SPEC_PRE_DENY };
	struct specset *ss;
	struct version *v;
	struct wwerr err;
	size_t i, m;

	(void)state;
	for (i = 0; i < sizeof(contains_cases) / sizeof(contains_cases[0]);
	    i++) {
		if (specset_parse(contains_cases[i].spec, &ss, &err) != 0)
			fail_msg("'%s': %s", contains_cases[i].spec, err.msg);
		assert_int_equal(version_parse(contains_cases[i].ver, &v), 0);
		for (m = 0; m < 3; m++) {
			int want = contains_cases[i].want[m] == '1';

			if (specset_contains(ss, v, modes[m]) != want ||
			    specset_contains_str(ss, contains_cases[i].ver,
			    modes[m]) != want)
				fail_msg("'%s' contains '%s' (mode %zu): want %d",
				    contains_cases[i].spec, contains_cases[i].ver,
				    m, want);
		}
		version_free(v);
		specset_free(ss);
	}
}

static void
test_str(void **state)
{
	static const struct { const char *in, *str; size_t n; int pre; }
	    cases[] = {
		{ "", "", 0, 0 }, { " , ,", "", 0, 0 },
		{ ">=1.0, !=1.0.1", "!=1.0.1,>=1.0", 2, 0 },
		{ " > = 1.0", NULL, 0, 0 },
		{ ">= V1.0 ", ">=V1.0", 1, 0 },
		{ "==1.0,==1.0.0", "==1.0", 1, 0 },
		{ "==1.0.0,==1.0", "==1.0.0", 1, 0 },
		{ "~=1.0,~=1.0.0", "~=1.0,~=1.0.0", 2, 0 },
		{ "==1.0.*,==1.0.0.*", "==1.0.*,==1.0.0.*", 2, 0 },
		{ "<2,>=1.0rc1", "<2,>=1.0rc1", 2, 1 },
		{ "<2.0a1", "<2.0a1", 1, 0 }, { "!=2.0a1", "!=2.0a1", 1, 0 },
		{ ">2.0a1", ">2.0a1", 1, 0 }, { "<=2.0a1", "<=2.0a1", 1, 1 },
		{ "~=2.0.dev1", "~=2.0.dev1", 1, 1 },
		{ "===2.0a1", "===2.0a1", 1, 1 }, { "===foo", "===foo", 1, 0 },
		{ "==2.0a1.dev0+x", "==2.0a1.dev0+x", 1, 1 },
	};
	struct specset *ss;
	struct wwerr err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].str == NULL) {
			assert_int_equal(specset_parse(cases[i].in, &ss, &err),
			    -1);
			assert_null(ss);
			continue;
		}
		if (specset_parse(cases[i].in, &ss, &err) != 0)
			fail_msg("'%s': %s", cases[i].in, err.msg);
		assert_string_equal(specset_str(ss), cases[i].str);
		assert_int_equal(specset_count(ss), cases[i].n);
		assert_int_equal(specset_mentions_prerelease(ss), cases[i].pre);
		specset_free(ss);
	}
}

static void
test_errors(void **state)
{
	static const struct { const char *in; int code; const char *msg; }
	    cases[] = {
		{ "1.0", SPEC_ESYNTAX, "expected an operator" },
		{ "=1.0", SPEC_ESYNTAX, "expected an operator" },
		{ ">=1.0,foo", SPEC_ESYNTAX, "'foo'" },
		{ ">=", SPEC_ESYNTAX, "no version after '>='" },
		{ "==1.0x", SPEC_EVERSION, "invalid version '1.0x'" },
		{ "> =1.0", SPEC_EVERSION, "invalid version '=1.0'" },
		{ "<==1.0", SPEC_EVERSION, "invalid specifier '<==1.0'" },
		{ ">=1.0 2", SPEC_EVERSION, "'>=1.0 2'" },
		{ "~=1", SPEC_EOPERAND, "at least two release numbers" },
		{ "~=1.0+local", SPEC_EOPERAND, "local version label" },
		{ "<1.0+local", SPEC_EOPERAND, "local version label" },
		{ ">=1.0.*", SPEC_EOPERAND, "only allowed with == and !=" },
		{ "~=1.0.*", SPEC_EOPERAND, "only allowed with == and !=" },
		{ "==1.0a1.*", SPEC_EOPERAND, "plain release" },
		{ "==1.0.post1.*", SPEC_EOPERAND, "plain release" },
		{ "==1.0 .*", SPEC_EOPERAND, "plain release" },
		{ "==1.*.*", SPEC_EVERSION, "invalid version" },
		{ "===a b", SPEC_ESYNTAX, "arbitrary version" },
		{ "===a;b", SPEC_ESYNTAX, "arbitrary version" },
		{ "===a)", SPEC_ESYNTAX, "arbitrary version" },
		{ "===a\xc2\xa0" "b", SPEC_ESYNTAX, "'a\\xc2\\xa0b'" },
		{ ">=1.0\n\x01", SPEC_EVERSION, "'>=1.0\\x0a\\x01'" },
	};
	struct specset *ss;
	struct wwerr err;
	size_t i;
	char *big;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wwerr_clear(&err);
		if (specset_parse(cases[i].in, &ss, &err) != -1)
			fail_msg("'%s' should be invalid", cases[i].in);
		assert_null(ss);
		if (err.code != cases[i].code ||
		    strstr(err.msg, cases[i].msg) == NULL ||
		    strstr(err.msg, "invalid specifier") == NULL)
			fail_msg("'%s': code %d, message '%s'", cases[i].in,
			    err.code, err.msg);
	}
	assert_int_equal(specset_parse(NULL, &ss, &err), -1);

	/* Bounds: text length and specifier count. */
	assert_non_null(big = malloc(SPECSET_MAX_LEN + 2));
	memset(big, ' ', SPECSET_MAX_LEN + 1);
	big[SPECSET_MAX_LEN + 1] = '\0';
	assert_int_equal(specset_parse(big, &ss, &err), -1);
	assert_int_equal(err.code, SPEC_ETOOLONG);
	big[SPECSET_MAX_LEN] = '\0';
	assert_int_equal(specset_parse(big, &ss, &err), 0);
	assert_int_equal(specset_count(ss), 0);
	specset_free(ss);
	/* 129 distinct specifiers "!=1.000", "!=1.001", ... */
	for (i = 0; i < SPECSET_MAX_SPECS + 1; i++)
		snprintf(big + i * 8, 9, "!=1.%03zu,", i);
	assert_int_equal(specset_parse(big, &ss, &err), -1);
	assert_int_equal(err.code, SPEC_ETOOLONG);
	big[SPECSET_MAX_SPECS * 8] = '\0';
	assert_int_equal(specset_parse(big, &ss, &err), 0);
	assert_int_equal(specset_count(ss), SPECSET_MAX_SPECS);
	specset_free(ss);
	free(big);
}

static void
test_invalid_versions(void **state)
{
	struct specset *ss;
	struct wwerr err;

	(void)state;
	assert_int_equal(specset_parse("===Foo-Bar", &ss, &err), 0);
	assert_true(specset_contains_str(ss, "foo-bar", SPEC_PRE_DEFAULT));
	assert_false(specset_contains_str(ss, "foo-baz", SPEC_PRE_DEFAULT));
	specset_free(ss);
	assert_int_equal(specset_parse(">=1.0", &ss, &err), 0);
	assert_false(specset_contains_str(ss, "foo", SPEC_PRE_ALLOW));
	assert_false(specset_contains_str(ss, NULL, SPEC_PRE_ALLOW));
	specset_free(ss);
	assert_int_equal(specset_parse("", &ss, &err), 0);
	assert_false(specset_contains_str(ss, "foo", SPEC_PRE_ALLOW));
	specset_free(ss);
}

static void
test_filter(void **state)
{
	static const char *vs_s[] = { "1.0a1", "1.0", "1.5", "2.0b1", "2.0" };
	static const struct { const char *spec; int pre; const char *want; }
	    cases[] = {
		{ "", SPEC_PRE_DEFAULT, "01101" },
		{ "", SPEC_PRE_ALLOW, "11111" },
		{ "", SPEC_PRE_DENY, "01101" },
		{ ">=1.2", SPEC_PRE_DEFAULT, "00101" },
		{ ">=1.2", SPEC_PRE_ALLOW, "00111" },
		{ ">=2.0b1", SPEC_PRE_DEFAULT, "00011" },
		{ ">=2.0b1", SPEC_PRE_DENY, "00001" },
		{ "<1.0", SPEC_PRE_DEFAULT, "00000" },
	};
	struct version *vs[5];
	struct specset *ss;
	struct wwerr err;
	unsigned char keep[5];
	size_t i, j, n, want;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(version_parse(vs_s[i], &vs[i]), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(specset_parse(cases[i].spec, &ss, &err), 0);
		n = specset_filter(ss, (const struct version *const *)vs, 5,
		    cases[i].pre, keep);
		for (j = 0; j < 5; j++)
			if (keep[j] != (cases[i].want[j] == '1'))
				fail_msg("filter '%s' pre %d: %s at %zu",
				    cases[i].spec, cases[i].pre, cases[i].want,
				    j);
		for (j = 0, want = 0; j < 5; j++)
			want += cases[i].want[j] == '1';
		assert_int_equal(n, want);
		specset_free(ss);
	}
	/* Only pre-releases: the empty set falls back to them. */
	assert_int_equal(specset_parse("", &ss, &err), 0);
	assert_int_equal(specset_filter(ss, (const struct version *const *)
	    &vs[3], 1, SPEC_PRE_DEFAULT, keep), 1);
	assert_int_equal(keep[0], 1);
	assert_int_equal(specset_filter(ss, (const struct version *const *)
	    &vs[3], 1, SPEC_PRE_DENY, keep), 0);
	specset_free(ss);
	for (i = 0; i < 5; i++)
		version_free(vs[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_invalid_versions),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
