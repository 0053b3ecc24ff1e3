/*
 * test_requirement.c: unit tests for PEP 508 requirement lines: the
 * grammar (names, extras, specifiers with and without parentheses,
 * "name @ url", markers), packaging 23.0's quirks, URL checks, canonical
 * text, errors with their column, and bounds. The broad agreement with
 * packaging is it_pep508_differential.py's job; these pin the behaviour.
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

static struct requirement *
parse_ok(const char *s)
{
	struct requirement *r = NULL;
	struct wwerr err;

	wwerr_clear(&err);
	if (requirement_parse(s, &r, &err) != 0)
		fail_msg("%s: unexpected error: %s", s, err.msg);
	assert_non_null(r);
	return r;
}

/* Parses to the expected canonical text, which parses to itself. */
static void
canon(const char *s, const char *want)
{
	struct requirement *r = parse_ok(s), *r2;

	if (strcmp(requirement_str(r), want) != 0)
		fail_msg("%s: canonical %s, want %s", s, requirement_str(r),
		    want);
	r2 = parse_ok(requirement_str(r));
	assert_string_equal(requirement_str(r2), want);
	requirement_free(r2);
	requirement_free(r);
}

/* Fails with code and a message containing each of the given pieces. */
static void
parse_bad(const char *s, int code, const char *piece, const char *piece2)
{
	struct requirement *r = (struct requirement *)0x1;
	struct wwerr err;

	wwerr_clear(&err);
	if (requirement_parse(s, &r, &err) != -1)
		fail_msg("%s: accepted", s);
	assert_null(r);
	if (err.code != code)
		fail_msg("%s: code %d, want %d (%s)", s, err.code, code,
		    err.msg);
	if (piece != NULL && strstr(err.msg, piece) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, err.msg, piece);
	if (piece2 != NULL && strstr(err.msg, piece2) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", s, err.msg, piece2);
}

static void
test_fields(void **state)
{
	struct requirement *r;

	(void)state;
	r = parse_ok("  Foo.Bar_baz [Sec_Urity , socks,SOCKS] (>=1.0 , <2) ;"
	    " python_version<'3.10'  ");
	assert_string_equal(r->name, "Foo.Bar_baz");
	assert_string_equal(r->normalized, "foo-bar-baz");
	assert_int_equal(r->nextras, 2);
	assert_string_equal(r->extras[0], "sec-urity");
	assert_string_equal(r->extras[1], "socks");
	assert_string_equal(specset_str(r->spec), "<2,>=1.0");
	assert_int_equal(specset_count(r->spec), 2);
	assert_null(r->url);
	assert_non_null(r->marker);
	assert_string_equal(marker_str(r->marker), "python_version < \"3.10\"");
	assert_string_equal(r->text, "Foo.Bar_baz [Sec_Urity , socks,SOCKS] "
	    "(>=1.0 , <2) ; python_version<'3.10'");
	assert_string_equal(requirement_str(r),
	    "Foo.Bar_baz[sec-urity,socks]<2,>=1.0; python_version < \"3.10\"");
	requirement_free(r);

	r = parse_ok("requests");
	assert_string_equal(r->name, "requests");
	assert_int_equal(r->nextras, 0);
	assert_null(r->extras);
	assert_non_null(r->spec);
	assert_int_equal(specset_count(r->spec), 0);
	assert_null(r->marker);
	assert_null(r->url);
	requirement_free(r);

	r = parse_ok("pip @ https://example.com/pip-23.0.whl ; os_name=='nt'");
	assert_string_equal(r->url, "https://example.com/pip-23.0.whl");
	assert_string_equal(marker_str(r->marker), "os_name == \"nt\"");
	assert_string_equal(requirement_str(r),
	    "pip @ https://example.com/pip-23.0.whl ; os_name == \"nt\"");
	requirement_free(r);
}

static void
test_canonical(void **state)
{
	(void)state;
	canon("foo", "foo");
	canon("FOO >= 1.0.0", "FOO>=1.0.0");
	canon("foo (>=1, <2)", "foo<2,>=1");
	canon("foo ( >=1 , <2 )", "foo<2,>=1");
	canon("foo(==1.*)", "foo==1.*");
	canon("foo[]", "foo");
	canon("foo[ ]", "foo");
	canon("foo()", "foo");
	canon("foo[b,a,A]", "foo[a,b]");
	canon("foo>=1,", "foo>=1");	/* packaging 23.0 accepts it */
	canon("foo===abc,>=1", "foo===abc,>=1");
	canon("foo===", "foo===");
	canon("foo;(python_version>'3')", "foo; python_version > \"3\"");
	canon("foo;((python_version>'3'))", "foo; python_version > \"3\"");
	canon("foo;os.name=='posix'", "foo; os_name == \"posix\"");
	canon("foo;python_implementation=='x'",
	    "foo; platform_python_implementation == \"x\"");
	canon("foo @ https://x/y;z", "foo @ https://x/y;z");
	canon("foo @ https://x/y ;os_name=='a'",
	    "foo @ https://x/y ; os_name == \"a\"");
	canon("foo[x]@file:///tmp/a.whl", "foo[x] @ file:///tmp/a.whl");
	/* names and extras packaging 23.0 takes though PEP 508 does not */
	canon("foo_", "foo_");
	canon("foo[a_]", "foo[a_]");
	canon("foo[a_,A._]", "foo[a_]");
	/* "$" also matches before one final newline */
	canon("foo\n", "foo");
}

static void
test_quirks(void **state)
{
	struct requirement *r;

	(void)state;
	r = parse_ok("foo_");
	assert_string_equal(r->normalized, "foo-");
	requirement_free(r);
	/* the URL runs to whitespace, so ";marker" is part of it */
	r = parse_ok("name @ http://x;python_version>\"3\"");
	assert_string_equal(r->url, "http://x;python_version>\"3\"");
	assert_null(r->marker);
	requirement_free(r);
	/* "and" needs no space before it after a quoted string */
	r = parse_ok("foo;python_version>\"3\"and os_name==\"posix\"");
	assert_string_equal(marker_str(r->marker),
	    "python_version > \"3\" and os_name == \"posix\"");
	requirement_free(r);
	/* whitespace inside one specifier */
	r = parse_ok("foo >= 1.0");
	assert_string_equal(specset_str(r->spec), ">=1.0");
	requirement_free(r);
	r = parse_ok("foo==1.0a.");
	assert_string_equal(specset_str(r->spec), "==1.0a.");
	requirement_free(r);
}

static void
test_errors(void **state)
{
	(void)state;
	parse_bad("", REQ_ERR_SYNTAX, "at the end: expected package name",
	    NULL);
	parse_bad("  ", REQ_ERR_SYNTAX, "expected package name", NULL);
	parse_bad("-foo", REQ_ERR_SYNTAX, "expected package name",
	    "column 1");
	parse_bad("foo-", REQ_ERR_SYNTAX, "at column 4 (\"-\"): expected end "
	    "or semicolon", NULL);
	parse_bad("foo >= 1.0 <2", REQ_ERR_SYNTAX,
	    "requirement \"foo >= 1.0 <2\": at column 12 (\"<2\"): expected "
	    "end or semicolon (after version specifier)", NULL);
	parse_bad("foo>=1.0.0.", REQ_ERR_SYNTAX, "expected end or semicolon",
	    NULL);
	parse_bad("foo=1.0", REQ_ERR_SYNTAX,
	    "after name and no valid version specifier", NULL);
	parse_bad("foo[a b]", REQ_ERR_SYNTAX, "comma between extra names",
	    NULL);
	parse_bad("foo[a,]", REQ_ERR_SYNTAX, "extra name after comma", NULL);
	parse_bad("foo[a", REQ_ERR_SYNTAX, "at the end: expected ']' to close "
	    "the '[' at column 4", NULL);
	parse_bad("foo (>=1", REQ_ERR_SYNTAX, "expected ')' to close the '(' "
	    "at column 5", NULL);
	parse_bad("foo >=1)", REQ_ERR_SYNTAX, "expected end or semicolon",
	    NULL);
	parse_bad("foo~=1", REQ_ERR_SYNTAX, NULL, NULL);
	parse_bad("foo>=1.*", REQ_ERR_SYNTAX, NULL, NULL);
	parse_bad("foo<1.0+local", REQ_ERR_SYNTAX, NULL, NULL);
	parse_bad("foo===a,b", REQ_ERR_SPECIFIER, "invalid specifier", NULL);
	parse_bad("foo @ ", REQ_ERR_SYNTAX, "expected URL after @", NULL);
	parse_bad("foo; ", REQ_ERR_MARKER, "marker variable or quoted string",
	    NULL);
	parse_bad("foo; python_version", REQ_ERR_MARKER,
	    "expected marker operator", NULL);
	parse_bad("foo; python_version > '3' garbage", REQ_ERR_SYNTAX,
	    "(\"garbage\"): expected end of dependency specifier", NULL);
	parse_bad("foo; os_name == 'posix", REQ_ERR_MARKER,
	    "unterminated quoted string", NULL);
	parse_bad("foo ; extra == 'a' ; extra == 'b'", REQ_ERR_SYNTAX, NULL,
	    NULL);
	parse_bad("foo\n\n", REQ_ERR_SYNTAX, NULL, NULL);
	/* the input is shown escaped */
	parse_bad("foo\t\"bar", REQ_ERR_SYNTAX, "requirement \"foo\\x09\\\"bar\"",
	    NULL);
}

static void
test_urls(void **state)
{
	static const char *good[] = {
		"foo @ https://example.com/foo-1.0.tar.gz",
		"foo @ git+https://github.com/a/b.git@v1.0#egg=foo",
		"foo @ file:///tmp/x.whl",
		"foo @ file://host/x",
		"foo @ file://",
		"foo @ file:///x?a#b",
		"foo @ http://[::1]/x",
		"foo @ http://[::1]:80/x",
		"foo @ http://u@[fe80::1%25eth0]/x",
		"foo @ http://[v1.x]/x",
		"foo @ ftp://h/x",
	};
	static const char *bad[] = {
		"foo @ file:/tmp/x.whl",	/* urlunparse gives file:/// */
		"foo @ file:",
		"foo @ FILE:///x",
		"foo @ file:///x?",
		"foo @ file:///x#",
		"foo @ file:relative",
		"foo @ ./local",
		"foo @ /abs/path",
		"foo @ C:\\path",
		"foo @ http:///x",		/* no host */
		"foo @ http://[bad/x",
		"foo @ http://bad]/x",
		"foo @ http://[1.2.3.4]/x",
		"foo @ http://[::1]x/x",
		"foo @ http://x[::1]/x",
		"foo @ http://u[x]@host/x",
	};
	struct requirement *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = parse_ok(good[i]);
		assert_non_null(r->url);
		requirement_free(r);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i], REQ_ERR_URL, "invalid URL", "column 7");
	parse_bad("foo @ file:/x", REQ_ERR_URL, "file:///path", NULL);
}

static void
test_applies(void **state)
{
	struct marker_env env;
	struct marker_env_storage st;
	struct requirement *r;

	(void)state;
	marker_env_linux(&env, &st, "3.11.2", "aarch64");
	r = parse_ok("foo");
	assert_int_equal(requirement_applies(r, &env), 1);
	requirement_free(r);
	r = parse_ok("foo; python_version >= '3.12'");
	assert_int_equal(requirement_applies(r, &env), 0);
	requirement_free(r);
	r = parse_ok("foo; platform_machine == 'aarch64'");
	assert_int_equal(requirement_applies(r, &env), 1);
	requirement_free(r);
	r = parse_ok("foo; extra == 'test'");
	assert_int_equal(requirement_applies(r, &env), 0);
	env.extra = "Test";
	assert_int_equal(requirement_applies(r, &env), 1);
	requirement_free(r);
}

static void
test_bounds(void **state)
{
	char *s;
	struct requirement *r;

	(void)state;
	s = malloc(REQ_MAX_LINE + 2);
	assert_non_null(s);
	memset(s, 'a', REQ_MAX_LINE + 1);
	s[REQ_MAX_LINE + 1] = '\0';
	parse_bad(s, REQ_ERR_TOO_LONG, "longer than", NULL);
	s[REQ_MAX_LINE] = '\0';		/* exactly the bound: fine */
	r = parse_ok(s);
	assert_int_equal(strlen(r->name), REQ_MAX_LINE);
	requirement_free(r);
	free(s);
}

/*
 * A marker string with a CR and double quotes can only be written back
 * with escapes (4 bytes per quote), so a line under the bound can have a
 * canonical text over it, which would not parse back (found by
 * fuzz_requirement). Such a line is refused; one whose canonical text
 * fits round-trips.
 */
static void
test_bounds_canonical(void **state)
{
	struct requirement *r, *r2;
	struct marker *m;
	struct wwerr err;
	char *s;
	size_t nq, i, o;

	(void)state;
	s = malloc(REQ_MAX_LINE);
	assert_non_null(s);
	for (nq = 1900; nq <= 2100; nq += 200) {
		o = (size_t)snprintf(s, REQ_MAX_LINE, "x; os_name == 'a\\r");
		for (i = 0; i < nq; i++)
			s[o++] = '"';
		s[o++] = '\'';
		s[o] = '\0';
		assert_true(o < 2200);
		if (nq == 1900) {
			r = parse_ok(s);
			assert_true(strlen(requirement_str(r)) > 4 * 1900);
			r2 = parse_ok(requirement_str(r));
			assert_string_equal(requirement_str(r2),
			    requirement_str(r));
			requirement_free(r2);
			requirement_free(r);
			assert_int_equal(marker_parse(s + 3, &m, &err), 0);
			marker_free(m);
		} else {
			parse_bad(s, REQ_ERR_TOO_LONG, "written canonically",
			    NULL);
			assert_int_equal(marker_parse(s + 3, &m, &err), -1);
			assert_int_equal(err.code, REQ_ERR_TOO_LONG);
		}
	}
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_quirks),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_applies),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bounds_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
