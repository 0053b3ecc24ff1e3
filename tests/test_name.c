/* test_name.c: unit tests for PEP 503 name validation, normalization and
 * wheel-filename escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "name.h"

static void
test_valid(void **state)
{
	static const char *good[] = {
		"a", "A", "0", "requests", "Django", "zope.interface",
		"python-dateutil", "ruamel.yaml.clib", "a_b", "a--b", "a-_.b",
		"1password-cli", "0x20bf", "X1",
	};
	static const char *bad[] = {
		"", "-a", "a-", ".a", "a.", "_a", "a_", "a b", "a/b", "a+b",
		"a\tb", "a\n", " a", "é", "na\xc3\xafve", "a@b", "a!", "-",
		"..", "a\x7f",
	};
	char longname[NAME_MAX_LEN + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(name_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(name_valid(bad[i]));
	assert_false(name_valid(NULL));

	memset(longname, 'a', sizeof(longname));
	longname[NAME_MAX_LEN] = '\0';
	assert_true(name_valid(longname));
	longname[NAME_MAX_LEN] = 'a';
	longname[NAME_MAX_LEN + 1] = '\0';
	assert_false(name_valid(longname));

	assert_true(name_validn("abc-", 3));
	assert_false(name_validn("abc-", 4));
	assert_false(name_validn("abc", 0));
}

static void
test_normalize(void **state)
{
	static const struct { const char *in, *norm, *esc; } cases[] = {
		{ "Django", "django", "django" },
		{ "zope.interface", "zope-interface", "zope_interface" },
		{ "Ruamel.YAML.clib", "ruamel-yaml-clib", "ruamel_yaml_clib" },
		{ "a-_.b", "a-b", "a_b" },
		{ "a__b", "a-b", "a_b" },
		{ "A.B-C_D", "a-b-c-d", "a_b_c_d" },
		{ "friendly-bard", "friendly-bard", "friendly_bard" },
		{ "FrIeNdLy-._.-bArD", "friendly-bard", "friendly_bard" },
		{ "x", "x", "x" },
	};
	char out[NAME_MAX_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(name_normalize(cases[i].in, out, sizeof(out)),
		    0);
		assert_string_equal(out, cases[i].norm);
		assert_int_equal(name_escape(cases[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].esc);
	}
	assert_int_equal(name_normalizen("Foo.Bar trailing", 7, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "foo-bar");
	assert_int_equal(name_normalize("-bad", out, sizeof(out)), -1);
	assert_int_equal(name_normalize(NULL, out, sizeof(out)), -1);
	assert_int_equal(name_escape("bad-", out, sizeof(out)), -1);
	/* Too small an output is an error, never a truncated name. */
	assert_int_equal(name_normalize("abcdef", out, 6), -1);
	assert_int_equal(name_normalize("abcdef", out, 7), 0);
	assert_string_equal(out, "abcdef");
	assert_int_equal(name_normalize("abc", out, 0), -1);
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(name_equal("Zope.Interface", "zope_interface"));
	assert_true(name_equal("a", "A"));
	assert_false(name_equal("ab", "a-b"));
	assert_false(name_equal("-a", "-a"));
	assert_false(name_equal(NULL, "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
