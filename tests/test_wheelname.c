/*
 * test_wheelname.c: unit tests for wheel and sdist filename parsing,
 * formatting and the .dist-info name rules, including the real wheels
 * Debian ships in /usr/share/python-wheels.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wheelname.h"

static void
parse_ok(const char *fn, struct wheelname *wn)
{
	struct wwerr err;

	if (wheelname_parse(fn, wn, &err) != 0)
		fail_msg("%s: %s", fn, err.msg);
	assert_int_equal(err.code, 0);
}

static int
parse_err(const char *fn)
{
	struct wheelname wn;
	struct wwerr err;

	memset(&err, 0, sizeof(err));
	if (wheelname_parse(fn, &wn, &err) != -1)
		fail_msg("%s: accepted", fn);
	assert_true(err.msg[0] != '\0');
	/* The parts of a refused name are never left half-filled. */
	return err.code;
}

static void
test_basic(void **state)
{
	struct wheelname wn;

	(void)state;
	parse_ok("pip-23.0.1-py3-none-any.whl", &wn);
	assert_string_equal(wn.name, "pip");
	assert_string_equal(wn.normalized, "pip");
	assert_string_equal(wn.version, "23.0.1");
	assert_string_equal(wn.version_norm, "23.0.1");
	assert_string_equal(wn.build, "");
	assert_int_equal(wn.build_num, 0);
	assert_string_equal(wn.python, "py3");
	assert_string_equal(wn.abi, "none");
	assert_string_equal(wn.platform, "any");
	assert_true(wheelname_is_canonical(&wn));

	parse_ok("numpy-1.24.2-cp311-cp311-manylinux_2_17_x86_64."
	    "manylinux2014_x86_64.whl", &wn);
	assert_string_equal(wn.normalized, "numpy");
	assert_string_equal(wn.python, "cp311");
	assert_string_equal(wn.abi, "cp311");
	assert_string_equal(wn.platform,
	    "manylinux_2_17_x86_64.manylinux2014_x86_64");
	assert_true(wheelname_is_canonical(&wn));
}

static void
test_build_tag(void **state)
{
	struct wheelname wn;
	char out[WHEELNAME_MAX + 1];

	(void)state;
	parse_ok("foo-1.0-12-py3-none-any.whl", &wn);
	assert_string_equal(wn.build, "12");
	assert_int_equal(wn.build_num, 12);
	parse_ok("foo-1.0-007abc.d_e-py3-none-any.whl", &wn);
	assert_string_equal(wn.build, "007abc.d_e");
	assert_int_equal(wn.build_num, 7);
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "foo-1.0-007abc.d_e-py3-none-any.whl");
	/* Must start with a digit, per the spec. */
	assert_int_equal(parse_err("foo-1.0-abc-py3-none-any.whl"),
	    WHEELNAME_E_BUILD);
	assert_int_equal(parse_err("foo-1.0-1+x-py3-none-any.whl"),
	    WHEELNAME_E_BUILD);
	/* A build number past unsigned long is refused, not wrapped. */
	assert_int_equal(parse_err("foo-1.0-99999999999999999999999-py3-"
	    "none-any.whl"), WHEELNAME_E_BUILD);
	parse_ok("foo-1.0-18446744073709551615-py3-none-any.whl", &wn);
	assert_true(wn.build_num == 18446744073709551615UL);
}

static void
test_legacy_names(void **state)
{
	struct wheelname wn;
	char out[WHEELNAME_MAX + 1];

	(void)state;
	/* Non-normalized case and '.' in names, as old tools wrote them. */
	parse_ok("MarkupSafe-2.1.2-cp311-cp311-manylinux_2_17_x86_64."
	    "manylinux2014_x86_64.whl", &wn);
	assert_string_equal(wn.name, "MarkupSafe");
	assert_string_equal(wn.normalized, "markupsafe");
	assert_false(wheelname_is_canonical(&wn));
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "markupsafe-2.1.2-cp311-cp311-manylinux_2_17_"
	    "x86_64.manylinux2014_x86_64.whl");

	parse_ok("zope.interface-5.5.2-cp311-cp311-manylinux1_x86_64.whl",
	    &wn);
	assert_string_equal(wn.normalized, "zope-interface");
	assert_false(wheelname_is_canonical(&wn));
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "zope_interface-5.5.2-cp311-cp311-manylinux1_x86_64.whl");

	/* pip reads '_' in a version as the '-' it stands for. */
	parse_ok("foo-1.0_1-py3-none-any.whl", &wn);
	assert_string_equal(wn.version, "1.0_1");
	assert_string_equal(wn.version_norm, "1.0.post1");
	assert_false(wheelname_is_canonical(&wn));
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "foo-1.0.post1-py3-none-any.whl");

	/* Non-normalized versions and upper-case tags. */
	parse_ok("Foo__Bar-1.0RC1-PY3-NONE-ANY.whl", &wn);
	assert_string_equal(wn.normalized, "foo-bar");
	assert_string_equal(wn.version_norm, "1.0rc1");
	assert_string_equal(wn.python, "PY3");
	assert_false(wheelname_is_canonical(&wn));
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "foo_bar-1.0rc1-py3-none-any.whl");

	parse_ok("foo-1!2.0.post3.dev4+Local.7-py3-none-any.whl", &wn);
	assert_string_equal(wn.version_norm, "1!2.0.post3.dev4+local.7");
	assert_false(wheelname_is_canonical(&wn));
	parse_ok("foo-1!2.0.post3.dev4+local.7-py3-none-any.whl", &wn);
	assert_true(wheelname_is_canonical(&wn));
}

static void
test_rejects(void **state)
{
	char big[WHEELNAME_MAX + 32];

	(void)state;
	assert_int_equal(parse_err("foo-1.0-py3-none-any.zip"),
	    WHEELNAME_E_SUFFIX);
	assert_int_equal(parse_err("foo-1.0-py3-none-any.WHL"),
	    WHEELNAME_E_SUFFIX);
	assert_int_equal(parse_err(".whl"), WHEELNAME_E_PARTS);
	assert_int_equal(parse_err("foo-1.0-none-any.whl"), WHEELNAME_E_PARTS);
	assert_int_equal(parse_err("foo-bar-1.0-1-py3-none-any.whl"),
	    WHEELNAME_E_PARTS);
	assert_int_equal(parse_err("-1.0-py3-none-any.whl"), WHEELNAME_E_NAME);
	assert_int_equal(parse_err("_foo-1.0-py3-none-any.whl"),
	    WHEELNAME_E_NAME);
	assert_int_equal(parse_err("foo.-1.0-py3-none-any.whl"),
	    WHEELNAME_E_NAME);
	assert_int_equal(parse_err("foo+x-1.0-py3-none-any.whl"),
	    WHEELNAME_E_NAME);
	assert_int_equal(parse_err("foo-1.0.x-py3-none-any.whl"),
	    WHEELNAME_E_VERSION);
	assert_int_equal(parse_err("foo--py3-none-any.whl"),
	    WHEELNAME_E_VERSION);
	assert_int_equal(parse_err("foo-1.0-py3..py2-none-any.whl"),
	    WHEELNAME_E_TAG);
	assert_int_equal(parse_err("foo-1.0-py3-none-.whl"), WHEELNAME_E_TAG);
	assert_int_equal(parse_err("foo-1.0-py3-none-any..whl"),
	    WHEELNAME_E_TAG);
	assert_int_equal(parse_err("foo-1.0-py3-no!ne-any.whl"),
	    WHEELNAME_E_TAG);
	assert_int_equal(parse_err("foo-1.0-py3-none-any+x.whl"),
	    WHEELNAME_E_TAG);
	/* Paths, spaces, controls and non-ASCII never get through. */
	assert_int_equal(parse_err("../foo-1.0-py3-none-any.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err("dir/foo-1.0-py3-none-any.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err("foo-1.0-py3-none-any\\x.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err("foo-1.0 -py3-none-any.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err("foo-1.0-py3-none-any\n.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err("f\xc3\xb6o-1.0-py3-none-any.whl"),
	    WHEELNAME_E_LENGTH);
	assert_int_equal(parse_err(""), WHEELNAME_E_LENGTH);

	memset(big, 'a', sizeof(big));
	memcpy(big + WHEELNAME_MAX - 20, "-1.0-py3-none-any.whl", 22);
	assert_int_equal(strlen(big), WHEELNAME_MAX + 1);
	assert_int_equal(parse_err(big), WHEELNAME_E_LENGTH);
	/* Name at 201 bytes: longer than any project name. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 201, "-1-py3-none-any.whl", 20);
	assert_int_equal(parse_err(big), WHEELNAME_E_NAME);
	/* Name at 200 bytes is fine. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 200, "-1-py3-none-any.whl", 20);
	{
		struct wheelname wn;

		parse_ok(big, &wn);
		assert_int_equal(strlen(wn.name), 200);
	}
}

static void
test_parsen_nul(void **state)
{
	static const char fn[] = "foo-1.0-py3-none-any.whl\0-x.whl";
	struct wheelname wn;
	struct wwerr err;

	(void)state;
	assert_int_equal(wheelname_parsen(fn, sizeof(fn) - 1, &wn, &err), -1);
	assert_int_equal(err.code, WHEELNAME_E_LENGTH);
	assert_non_null(strstr(err.msg, "NUL"));
	assert_int_equal(wheelname_parsen(fn, 24, &wn, &err), 0);
	assert_string_equal(wn.platform, "any");
	assert_int_equal(wheelname_parse(NULL, &wn, &err), -1);
}

static void
test_error_message_safe(void **state)
{
	struct wheelname wn;
	struct wwerr err;

	(void)state;
	assert_int_equal(wheelname_parse("foo\x1b[31m-1.0-py3-none-any.whl",
	    &wn, &err), -1);
	/* The hostile escape byte is shown as \x1b, not emitted raw. */
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "\\x1b"));
}

static void
test_format(void **state)
{
	struct wheelname wn;
	char out[WHEELNAME_MAX + 1];

	(void)state;
	memset(&wn, 0, sizeof(wn));
	snprintf(wn.name, sizeof(wn.name), "Foo.Bar-Baz");
	snprintf(wn.version, sizeof(wn.version), "1.0-1");
	snprintf(wn.python, sizeof(wn.python), "py2.py3");
	snprintf(wn.abi, sizeof(wn.abi), "none");
	snprintf(wn.platform, sizeof(wn.platform), "any");
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "foo_bar_baz-1.0.post1-py2.py3-none-any.whl");
	/* Too small an output buffer: -1 and an empty string. */
	assert_int_equal(wheelname_format(&wn, out, 10), -1);
	assert_string_equal(out, "");
	snprintf(wn.build, sizeof(wn.build), "x1");
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), -1);
	snprintf(wn.build, sizeof(wn.build), "2");
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "foo_bar_baz-1.0.post1-2-py2.py3-none-any.whl");
	snprintf(wn.version, sizeof(wn.version), "bogus");
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), -1);
	snprintf(wn.version, sizeof(wn.version), "1");
	snprintf(wn.platform, sizeof(wn.platform), "any-x");
	assert_int_equal(wheelname_format(&wn, out, sizeof(out)), -1);
}

static void
test_distinfo(void **state)
{
	struct wheelname wn;
	char out[600];

	(void)state;
	parse_ok("MarkupSafe-2.1.2-cp311-cp311-linux_x86_64.whl", &wn);
	assert_int_equal(wheelname_distinfo(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "MarkupSafe-2.1.2.dist-info");
	assert_int_equal(wheelname_datadir(&wn, out, sizeof(out)), 0);
	assert_string_equal(out, "MarkupSafe-2.1.2.data");
	assert_int_equal(wheelname_distinfo(&wn, out, 5), -1);

#define M(s) wheelname_distinfo_matches(&wn, s, strlen(s))
	assert_true(M("MarkupSafe-2.1.2.dist-info"));
	assert_true(M("markupsafe-2.1.2.dist-info"));
	assert_true(M("markup_safe-2.1.2.dist-info") == 0);
	assert_false(M("MarkupSafe-2.1.3.dist-info"));
	assert_false(M("MarkupSafe-2.1.2.data"));
	assert_false(M("MarkupSafe-2.1.2.dist-info/"));
	assert_false(M("MarkupSafe.dist-info"));
	assert_false(M("-2.1.2.dist-info"));
	assert_false(M("MarkupSafe-.dist-info"));
	assert_false(M(".dist-info"));
	assert_false(M("Other-2.1.2.dist-info"));
	assert_false(M("MarkupSafe-2.1.2x.dist-info"));
#undef M
	assert_true(wheelname_datadir_matches(&wn, "markupsafe-2.1.2.data",
	    21));
	assert_false(wheelname_datadir_matches(&wn,
	    "markupsafe-2.1.2.dist-info", 26));
	/* Only len bytes count. */
	assert_true(wheelname_distinfo_matches(&wn,
	    "MarkupSafe-2.1.2.dist-info/RECORD", 26));

	/* Names and versions compare normalized, both ways. */
	parse_ok("zope_interface-5.0-py3-none-any.whl", &wn);
	assert_true(wheelname_distinfo_matches(&wn, "zope.interface-5.0."
	    "dist-info", 28));
	parse_ok("foo-1.0_1-py3-none-any.whl", &wn);
	assert_true(wheelname_distinfo_matches(&wn, "foo-1.0.post1.dist-info",
	    23));
	assert_true(wheelname_distinfo_matches(&wn, "foo-1.0_1.dist-info",
	    19));
	parse_ok("foo-1.0rc1-py3-none-any.whl", &wn);
	assert_true(wheelname_distinfo_matches(&wn, "Foo-1.0.RC1.dist-info",
	    21));
	assert_false(wheelname_distinfo_matches(&wn, "Foo-1.0.dist-info", 17));
}

static void
sdist_ok(const char *fn, const char *norm, const char *ver,
    const char *suffix)
{
	struct sdistname sn;
	struct wwerr err;

	if (sdistname_parse(fn, &sn, &err) != 0)
		fail_msg("%s: %s", fn, err.msg);
	assert_string_equal(sn.normalized, norm);
	assert_string_equal(sn.version_norm, ver);
	assert_string_equal(sn.suffix, suffix);
}

static int
sdist_err(const char *fn)
{
	struct sdistname sn;
	struct wwerr err;

	if (sdistname_parse(fn, &sn, &err) != -1)
		fail_msg("%s: accepted", fn);
	assert_string_equal(sn.name, "");
	return err.code;
}

static void
test_sdist(void **state)
{
	struct sdistname sn;
	struct wwerr err;
	char out[WHEELNAME_MAX + 1];

	(void)state;
	sdist_ok("MarkupSafe-2.1.2.tar.gz", "markupsafe", "2.1.2", ".tar.gz");
	sdist_ok("foo-1.0.zip", "foo", "1.0", ".zip");
	/* Legacy names hold '-': the split is at the last '-'. */
	sdist_ok("python-dateutil-2.8.2.tar.gz", "python-dateutil", "2.8.2",
	    ".tar.gz");
	/* ... unless what follows is no version, then an earlier one. */
	sdist_ok("foo-1.0-beta.tar.gz", "foo", "1.0b0", ".tar.gz");
	sdist_ok("foo-bar-1.0-1.tar.gz", "foo-bar-1-0", "1", ".tar.gz");
	sdist_ok("zope.interface-5.5.2.tar.gz", "zope-interface", "5.5.2",
	    ".tar.gz");
	assert_int_equal(sdistname_parse("foo-1.0.tar.gz", &sn, &err), 0);
	assert_string_equal(sn.name, "foo");
	assert_string_equal(sn.version, "1.0");

	assert_int_equal(sdist_err("foo-1.0.tar.bz2"), WHEELNAME_E_SUFFIX);
	assert_int_equal(sdist_err("foo-1.0.whl"), WHEELNAME_E_SUFFIX);
	assert_int_equal(sdist_err("foo.tar.gz"), WHEELNAME_E_PARTS);
	assert_int_equal(sdist_err("foo-bar.tar.gz"), WHEELNAME_E_VERSION);
	assert_int_equal(sdist_err("foo-.tar.gz"), WHEELNAME_E_VERSION);
	/* '_' for '-' is a wheel convention only. */
	assert_int_equal(sdist_err("foo-1.0_1.tar.gz"), WHEELNAME_E_VERSION);
	assert_int_equal(sdist_err("-1.0.tar.gz"), WHEELNAME_E_NAME);
	assert_int_equal(sdist_err("_x-1.0.tar.gz"), WHEELNAME_E_NAME);
	assert_int_equal(sdist_err("../foo-1.0.tar.gz"), WHEELNAME_E_LENGTH);
	assert_int_equal(sdist_err("foo 1-1.0.tar.gz"), WHEELNAME_E_LENGTH);
	assert_int_equal(sdist_err(".tar.gz"), WHEELNAME_E_PARTS);
	assert_int_equal(sdistname_parse(NULL, &sn, &err), -1);

	assert_int_equal(sdistname_format("Zope.Interface", "5.5.2", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "zope_interface-5.5.2.tar.gz");
	assert_int_equal(sdistname_format("foo", "1.0-1", out, sizeof(out)),
	    0);
	assert_string_equal(out, "foo-1.0.post1.tar.gz");
	assert_int_equal(sdistname_format("foo", "x", out, sizeof(out)), -1);
	assert_int_equal(sdistname_format("-foo", "1", out, sizeof(out)), -1);
}

static void
test_kind(void **state)
{
	(void)state;
	assert_int_equal(distname_kind("a-1-py3-none-any.whl"), 'w');
	assert_int_equal(distname_kind("a-1.tar.gz"), 's');
	assert_int_equal(distname_kind("a-1.zip"), 's');
	assert_int_equal(distname_kind("a-1.tar.bz2"), 0);
	assert_int_equal(distname_kind("a-1.egg"), 0);
	assert_int_equal(distname_kind(""), 0);
	assert_int_equal(distname_kind(NULL), 0);
}

/* Every real wheel Debian ships parses, is canonical, and round-trips. */
static void
test_debian_wheels(void **state)
{
	struct wheelname wn, wn2;
	struct dirent *de;
	char out[WHEELNAME_MAX + 1];
	DIR *d;
	int n = 0;

	(void)state;
	d = opendir("/usr/share/python-wheels");
	if (d == NULL)
		skip();
	while ((de = readdir(d)) != NULL) {
		if (distname_kind(de->d_name) != 'w')
			continue;
		parse_ok(de->d_name, &wn);
		assert_true(wheelname_is_canonical(&wn));
		assert_int_equal(wheelname_format(&wn, out, sizeof(out)), 0);
		assert_string_equal(out, de->d_name);
		parse_ok(out, &wn2);
		assert_string_equal(wn2.normalized, wn.normalized);
		n++;
	}
	closedir(d);
	/* python3-pip-whl, -setuptools-whl, -wheel-whl are test deps. */
	assert_true(n >= 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_build_tag),
		cmocka_unit_test(test_legacy_names),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_parsen_nul),
		cmocka_unit_test(test_error_message_safe),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_distinfo),
		cmocka_unit_test(test_sdist),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_debian_wheels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
