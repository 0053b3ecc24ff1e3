/* test_indexd_negotiate.c: PEP 691 content negotiation (Accept, q, format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "indexd_negotiate.h"

#define J SIMPLE_FMT_JSON_V1
#define H SIMPLE_FMT_HTML
#define V SIMPLE_FMT_HTML_V1
#define N SIMPLE_FMT_NONE

static const struct {
	const char		*accept;
	const char		*format;
	enum simple_format	 want;
} cases[] = {
	/* what pip 23 sends */
	{ "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple"
	  ".v1+html; q=0.1, text/html; q=0.01", NULL, J },
	/* no header, empty, curl's default */
	{ NULL, NULL, H }, { "", NULL, H }, { "*/*", NULL, H },
	/* a browser */
	{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	  NULL, H },
	{ "application/vnd.pypi.simple.v1+html", NULL, V },
	{ "application/vnd.pypi.simple.latest+json", NULL, J },
	{ "application/vnd.pypi.simple.latest+html", NULL, V },
	{ "APPLICATION/VND.PYPI.SIMPLE.V1+JSON", NULL, J },
	/* q-values decide, not order */
	{ "text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.6", NULL,
	  J },
	{ "application/vnd.pypi.simple.v1+json;q=0.4, text/html;q=0.5", NULL,
	  H },
	/* q=0 refuses, even against a wildcard */
	{ "application/vnd.pypi.simple.v1+json;q=0, */*;q=0.1", NULL, H },
	{ "text/html;q=0, application/vnd.pypi.simple.v1+html;q=0, */*",
	  NULL, J },
	/* nothing acceptable: 406 */
	{ "application/json", NULL, N },
	{ "image/png, text/plain", NULL, N },
	{ "text/html;q=0", NULL, N },
	{ "application/vnd.pypi.simple.v2+json", NULL, N },
	/* wildcards by major type */
	{ "application/*", NULL, V },
	{ "application/*;q=0.2, text/*;q=0.1", NULL, V },
	{ "text/*", NULL, H },
	/* more specific ranges override wildcards */
	{ "*/*;q=0.9, text/html;q=0.1", NULL, V },
	/* invalid q: that range is ignored */
	{ "application/vnd.pypi.simple.v1+json;q=2, text/html;q=0.1", NULL,
	  H },
	{ "application/vnd.pypi.simple.v1+json;q=abc", NULL, N },
	{ "application/vnd.pypi.simple.v1+json; q=0.999", NULL, J },
	{ " , ,application/vnd.pypi.simple.v1+json ,", NULL, J },
	/* ?format= wins over Accept */
	{ "text/html", "application/vnd.pypi.simple.v1+json", J },
	{ "application/vnd.pypi.simple.v1+json", "text/html", H },
	{ NULL, "json", J }, { NULL, "html", H },
	{ NULL, "application/vnd.pypi.simple.v1+html", V },
	{ NULL, "application/xml", N },
};

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum simple_format got = negotiate_simple(cases[i].accept,
		    cases[i].format);
		if (got != cases[i].want)
			fail_msg("case %zu: Accept \"%s\" format \"%s\": got %d,"
			    " want %d", i, cases[i].accept ? cases[i].accept :
			    "(null)", cases[i].format ? cases[i].format :
			    "(null)", got, cases[i].want);
	}
}

static void
test_content_types(void **state)
{
	(void)state;
	assert_string_equal(negotiate_content_type(J),
	    "application/vnd.pypi.simple.v1+json");
	assert_string_equal(negotiate_content_type(V),
	    "application/vnd.pypi.simple.v1+html");
	assert_string_equal(negotiate_content_type(H),
	    "text/html; charset=utf-8");
	assert_true(negotiate_is_json(J));
	assert_false(negotiate_is_json(H));
}

static void
test_among(void **state)
{
	const char *pip_accept = "application/vnd.pypi.simple.v1+json, "
	    "application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
	const unsigned html = (1u << H) | (1u << V);

	(void)state;
	/* among HTML forms, pip's own preference (v1+html at 0.1) wins */
	assert_int_equal(negotiate_simple_among(pip_accept, NULL, html), V);
	assert_int_equal(negotiate_simple_among(NEGOTIATE_JSON_TYPE, NULL,
	    html), N);
	assert_int_equal(negotiate_simple_among(NULL, NULL, 1u << J), J);
	assert_int_equal(negotiate_simple_among(NULL, "json", html), N);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_among),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
