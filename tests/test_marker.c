/*
 * test_marker.c: unit tests for PEP 508 environment markers: the grammar,
 * canonical text, Python string escapes, evaluation for CPython build
 * targets (version vs string comparison, and/or precedence, extras,
 * undefined comparisons) and marker_env_linux.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "requirement.h"

static struct marker *
mparse(const char *s)
{
	struct marker *m = NULL;
	struct wwerr err;

	wwerr_clear(&err);
	if (marker_parse(s, &m, &err) != 0)
		fail_msg("%s: unexpected error: %s", s, err.msg);
	return m;
}

static void
mbad(const char *s, int code, const char *piece)
{
	struct marker *m = (struct marker *)0x1;
	struct wwerr err;

	wwerr_clear(&err);
	if (marker_parse(s, &m, &err) != -1)
		fail_msg("%s: accepted as %s", s, marker_str(m));
	assert_null(m);
	if (err.code != code)
		fail_msg("%s: code %d, want %d (%s)", s, err.code, code,
		    err.msg);
	if (piece != NULL && strstr(err.msg, piece) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, err.msg, piece);
}

static void
mcanon(const char *s, const char *want)
{
	struct marker *m = mparse(s), *m2;

	if (strcmp(marker_str(m), want) != 0)
		fail_msg("%s: canonical %s, want %s", s, marker_str(m), want);
	m2 = mparse(marker_str(m));
	assert_string_equal(marker_str(m2), want);
	marker_free(m2);
	marker_free(m);
}

static void
test_env_linux(void **state)
{
	struct marker_env env;
	struct marker_env_storage st;

	(void)state;
	marker_env_linux(&env, &st, "3.11.2", "x86_64");
	assert_string_equal(env.python_version, "3.11");
	assert_string_equal(env.python_full_version, "3.11.2");
	assert_string_equal(env.platform_machine, "x86_64");
	assert_string_equal(env.sys_platform, "linux");
	assert_string_equal(env.platform_system, "Linux");
	assert_string_equal(env.platform_python_implementation, "CPython");
	assert_string_equal(env.implementation_name, "cpython");
	assert_string_equal(env.implementation_version, "3.11.2");
	assert_string_equal(env.os_name, "posix");
	assert_string_equal(env.platform_release, "");
	assert_string_equal(env.platform_version, "");
	assert_null(env.extra);

	marker_env_linux(&env, &st, "3.13.0rc1", "arm64");
	assert_string_equal(env.python_version, "3.13");
	assert_string_equal(env.python_full_version, "3.13.0rc1");
	assert_string_equal(env.platform_machine, "aarch64");
	marker_env_linux(&env, &st, "3.8", "amd64");
	assert_string_equal(env.python_version, "3.8");
	assert_string_equal(env.platform_machine, "x86_64");
}

static const char *const pys[] = { "3.8.18", "3.11.2", "3.12.1" };
static const char *const machines[] = { "x86_64", "aarch64" };

/*
 * want: one character per target, in the order 3.8/x86_64, 3.8/aarch64,
 * 3.11/x86_64, ... ; '1' true, '0' false, 'u' undefined.
 */
static void
evals(const char *s, const char *extra, const char *want)
{
	struct marker_env env;
	struct marker_env_storage st;
	struct marker *m = mparse(s);
	struct wwerr err;
	size_t p, k, i = 0;
	int r;
	char got[8];

	for (p = 0; p < 3; p++)
		for (k = 0; k < 2; k++) {
			marker_env_linux(&env, &st, pys[p], machines[k]);
			env.extra = extra;
			wwerr_clear(&err);
			r = marker_eval(m, &env, &err);
			got[i++] = r == -1 ? 'u' : (char)('0' + r);
			assert_int_equal(marker_evaluate(m, &env), r == 1);
			if (r == -1)
				assert_int_equal(err.code, REQ_ERR_UNDEFINED);
		}
	got[i] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%s (extra %s): got %s, want %s", s,
		    extra ? extra : "none", got, want);
	marker_free(m);
}

static void
test_eval_versions(void **state)
{
	(void)state;
	/* version order, not string order: "3.11" > "3.8" */
	evals("python_version > '3.8'", NULL, "001111");
	evals("python_version >= '3.8'", NULL, "111111");
	evals("python_version < '3.10'", NULL, "110000");
	evals("python_version == '3.11'", NULL, "001100");
	evals("python_version != '3.11'", NULL, "110011");
	evals("python_version == '3.*'", NULL, "111111");
	evals("python_version == '3.1*'", NULL, "000000");	/* string */
	evals("python_version ~= '3.9'", NULL, "001111");
	evals("python_version === '3.11'", NULL, "001100");
	evals("'3.10' < python_version", NULL, "001111");
	evals("python_full_version >= '3.11.1'", NULL, "001111");
	evals("python_full_version < '3.12.0rc1'", NULL, "111100");
	evals("python_full_version == '3.12.*'", NULL, "000011");
	evals("implementation_version >= '3.12'", NULL, "000011");
	evals("python_version in '3.8 3.9'", NULL, "110000");
	evals("python_version not in '3.8 3.9'", NULL, "001111");
	/* "in" is a substring test: 3.1 is "in" 3.11 and 3.12 */
	evals("'3.1' in python_version", NULL, "001111");
}

static void
test_eval_strings(void **state)
{
	(void)state;
	evals("platform_machine == 'x86_64'", NULL, "101010");
	evals("platform_machine != 'x86_64'", NULL, "010101");
	evals("platform_machine in 'x86_64 i686'", NULL, "101010");
	evals("'arm' in platform_machine", NULL, "000000");
	evals("'arch' in platform_machine", NULL, "010101");
	evals("sys_platform == 'linux' and os_name == 'posix'", NULL, "111111");
	evals("sys.platform == 'win32'", NULL, "000000");
	evals("platform_system == 'Linux'", NULL, "111111");
	evals("platform.python_implementation == 'CPython'", NULL, "111111");
	evals("python_implementation == 'PyPy'", NULL, "000000");
	evals("implementation_name == 'cpython'", NULL, "111111");
	/* not a version on the left: Python string comparison */
	evals("platform_release >= '5'", NULL, "000000");
	evals("os_name < 'q'", NULL, "111111");
	evals("os_name > '1.0'", NULL, "111111");
	/* "===" compares the strings, case-insensitively */
	evals("os_name === 'POSIX'", NULL, "111111");
	/* two literals, two variables: their values */
	evals("'a' == 'a'", NULL, "111111");
	evals("python_version == python_version", NULL, "111111");
	evals("python_version == python_full_version", NULL, "000000");
}

static void
test_eval_logic(void **state)
{
	(void)state;
	/* and binds tighter than or */
	evals("os_name == 'nt' and python_version > '1' or os_name == 'posix'",
	    NULL, "111111");
	evals("os_name == 'nt' and (python_version > '1' or os_name == 'posix')",
	    NULL, "000000");
	evals("python_version < '3.9' or platform_machine == 'aarch64' and "
	    "python_version >= '3.12'", NULL, "110001");
	evals("(python_version < '3.9' or platform_machine == 'aarch64') and "
	    "python_version >= '3.12'", NULL, "000001");
	evals("((((python_version >= '3.11'))))", NULL, "001111");
}

static void
test_eval_extras(void **state)
{
	(void)state;
	evals("extra == 'test'", NULL, "000000");
	evals("extra == 'test'", "test", "111111");
	evals("extra == 'Test_Extra'", "test-extra", "111111");
	evals("extra == 'test-extra'", "TEST.EXTRA", "111111");
	evals("'Test.Extra' == extra", "test__extra", "111111");
	evals("extra != 'test'", NULL, "111111");
	evals("extra == 'docs' or extra == 'test'", "Docs", "111111");
	evals("extra == 'test' and python_version < '3.9'", "test", "110000");
	evals("extra == ''", NULL, "111111");
}

static void
test_eval_undefined(void **state)
{
	struct marker_env env;
	struct marker_env_storage st;
	struct marker *m;
	struct wwerr err;

	(void)state;
	evals("platform_machine ~= 'x86'", NULL, "uuuuuu");
	evals("python_version ~= '3'", NULL, "uuuuuu");	/* ~=3 is invalid */
	evals("os_name === 'a;b'", NULL, "uuuuuu");
	/* every comparison is evaluated, as packaging does */
	evals("os_name == 'posix' or platform_machine ~= 'x86'", NULL,
	    "uuuuuu");

	m = mparse("platform_machine ~= 'x86'");
	marker_env_linux(&env, &st, "3.11.2", "x86_64");
	wwerr_clear(&err);
	assert_int_equal(marker_eval(m, &env, &err), -1);
	assert_int_equal(err.code, REQ_ERR_UNDEFINED);
	assert_non_null(strstr(err.msg, "'x86_64' ~= 'x86'"));
	assert_int_equal(marker_evaluate(m, &env), 0);
	assert_int_equal(marker_eval(m, &env, NULL), -1);
	marker_free(m);
}

static void
test_canonical(void **state)
{
	(void)state;
	mcanon("python_version>'3'", "python_version > \"3\"");
	mcanon("  python_version  >=  \"3\"  ", "python_version >= \"3\"");
	mcanon("python_version>'3'and os_name=='a'",
	    "python_version > \"3\" and os_name == \"a\"");
	mcanon("(python_version>'3')", "python_version > \"3\"");
	mcanon("'x' in extra", "\"x\" in extra");
	mcanon("(os_name=='a' or os_name=='b') and extra=='X_Y'",
	    "(os_name == \"a\" or os_name == \"b\") and extra == \"x-y\"");
	mcanon("os_name=='a' or (os_name=='b' and os_name=='c')",
	    "os_name == \"a\" or (os_name == \"b\" and os_name == \"c\")");
	/* packaging 23.0 prints "x and a or b" here, changing the meaning */
	mcanon("os_name=='x' and ((os_name=='a' or os_name=='b'))",
	    "os_name == \"x\" and (os_name == \"a\" or os_name == \"b\")");
	mcanon("os_name not   in 'a'", "os_name not in \"a\"");
	mcanon("os.name=='a'", "os_name == \"a\"");
	mcanon("platform.version=='a'", "platform_version == \"a\"");
	mcanon("platform.machine=='a'", "platform_machine == \"a\"");
	mcanon("sys.platform=='a'", "sys_platform == \"a\"");
	/* every extra comparison is normalized, not just the first */
	mcanon("os_name=='a' and extra=='Foo.Bar'",
	    "os_name == \"a\" and extra == \"foo-bar\"");
	mcanon("'Foo_Bar' != extra", "\"foo-bar\" != extra");
}

static void
test_strings(void **state)
{
	struct marker *m;

	(void)state;
	/* quotes: as packaging prints them when that is faithful */
	mcanon("os_name == 'a\"b'", "os_name == 'a\"b'");
	mcanon("os_name == \"a'b\"", "os_name == \"a'b\"");
	mcanon("os_name == 'a\\x27b\"c'", "os_name == \"a'b\\x22c\"");
	/* a quote can not be escaped inside quotes of its own kind */
	mbad("os_name == 'a\\'b'", REQ_ERR_MARKER, "closing quote");
	/* escapes, as ast.literal_eval reads them */
	mcanon("os_name == 'a\\x41\\101\\u00e9\\U0001F600b'",
	    "os_name == \"aAA\xc3\xa9\xf0\x9f\x98\x80" "b\"");
	mcanon("os_name == 'a\\tb'", "os_name == \"a\tb\"");
	mcanon("os_name == 'a\\\\tb'", "os_name == \"a\\\\tb\"");
	mcanon("os_name == 'a\\qb'", "os_name == \"a\\qb\"");
	mcanon("os_name == 'a\\nb'", "os_name == \"a\\x0ab\"");
	mcanon("os_name == ''", "os_name == \"\"");
	mcanon("os_name == '\xc3\xa9'", "os_name == \"\xc3\xa9\"");
	m = mparse("os_name == 'a\\\nb'");	/* backslash-newline */
	assert_string_equal(marker_str(m), "os_name == \"ab\"");
	marker_free(m);

	mbad("os_name == 'a\\x4'", REQ_ERR_MARKER, "truncated \\x escape");
	mbad("os_name == 'a\\u12'", REQ_ERR_MARKER, "truncated \\u escape");
	mbad("os_name == 'a\\U00110000'", REQ_ERR_MARKER, "U+10FFFF");
	mbad("os_name == 'a\\N{DASH}'", REQ_ERR_MARKER, "\\N{...}");
	mbad("os_name == 'a\\x00'", REQ_ERR_MARKER, "NUL");
	mbad("os_name == 'a\\0'", REQ_ERR_MARKER, "NUL");
	mbad("os_name == 'a\\ud800'", REQ_ERR_MARKER, "surrogate");
	mbad("os_name == 'abc\\'", REQ_ERR_MARKER, "closing quote");
	mbad("os_name == 'a\nb'", REQ_ERR_MARKER, "line break");
	mbad("os_name == 'posix\"", REQ_ERR_MARKER, "unterminated");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	mbad("", REQ_ERR_MARKER, "marker variable or quoted string");
	mbad("python_version", REQ_ERR_MARKER, "expected marker operator");
	mbad("python_version >", REQ_ERR_MARKER, "variable or quoted string");
	mbad("python_version > '3' garbage", REQ_ERR_MARKER,
	    "expected 'and', 'or' or the end");
	mbad("Python_Version > '3'", REQ_ERR_MARKER, "variable or quoted");
	mbad("python_versions > '3'", REQ_ERR_MARKER, "variable or quoted");
	mbad("os_name = 'posix'", REQ_ERR_MARKER, "marker operator");
	mbad("os_name == posix", REQ_ERR_MARKER, "variable or quoted");
	mbad("os_name notin 'x'", REQ_ERR_MARKER, "marker operator");
	mbad("os_name not 'x'", REQ_ERR_MARKER, "'in' after 'not'");
	mbad("os_name not", REQ_ERR_MARKER, "whitespace after 'not'");
	mbad("os_name == 'a' and", REQ_ERR_MARKER, "variable or quoted");
	mbad("os_name == 'a' or or os_name == 'b'", REQ_ERR_MARKER, NULL);
	mbad("(os_name == 'a'", REQ_ERR_MARKER, "expected ')'");
	mbad("os_name == 'a')", REQ_ERR_MARKER, "or the end");
	mbad("os_name == 'a' andos_name == 'b'", REQ_ERR_MARKER, NULL);
	mbad("os_name == 'a'; os_name == 'b'", REQ_ERR_MARKER, NULL);
}

static void
test_depth(void **state)
{
	char s[512];
	struct marker *m;
	int i, n;

	(void)state;
	for (n = MARKER_MAX_DEPTH; n <= MARKER_MAX_DEPTH + 1; n++) {
		snprintf(s, sizeof(s), "%*sos_name == 'posix'%*s", n, "", n, "");
		for (i = 0; i < n; i++) {
			s[i] = '(';
			s[strlen(s) - 1 - i] = ')';
		}
		if (n == MARKER_MAX_DEPTH) {
			m = mparse(s);
			assert_string_equal(marker_str(m),
			    "os_name == \"posix\"");
			marker_free(m);
		} else
			mbad(s, REQ_ERR_TOO_LONG, "nested more than");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_linux),
		cmocka_unit_test(test_eval_versions),
		cmocka_unit_test(test_eval_strings),
		cmocka_unit_test(test_eval_logic),
		cmocka_unit_test(test_eval_extras),
		cmocka_unit_test(test_eval_undefined),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
