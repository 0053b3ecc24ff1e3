/*
 * test_indexd_render.c: the simple-API page renderers. JSON output is
 * parsed back with jansson and checked field by field (PEP 691/700);
 * HTML is checked for every attribute PEP 503/592/629/658/714 define,
 * with hostile strings to prove the escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "indexd_render.h"
#include "util.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_M "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
fill(struct catalog_file *f, const char *filename, const char *version,
    char kind, const char *rp, int yanked, const char *reason)
{
	memset(f, 0, sizeof(*f));
	f->project = (char *)"demo-pkg";
	f->filename = (char *)filename;
	f->version = (char *)version;
	f->kind = kind;
	memcpy(f->sha256, kind == 'w' ? SHA_A : SHA_B, 65);
	f->size = 12345;
	f->requires_python = (char *)rp;
	f->has_metadata = kind == 'w';
	if (f->has_metadata)
		memcpy(f->metadata_sha256, SHA_M, 65);
	f->upload_time_us = 1700000000123456LL;
	f->yanked = yanked;
	f->yanked_reason = (char *)reason;
}

static struct catalog_file files[5];

static int
setup(void **state)
{
	(void)state;
	fill(&files[0], "demo_pkg-1.0-py3-none-any.whl", "1.0", 'w',
	    ">=3.8,<4", 0, NULL);
	fill(&files[1], "demo_pkg-1.0.tar.gz", "1.0", 's', NULL, 0, NULL);
	fill(&files[2], "demo_pkg-1.10-py3-none-any.whl", "1.10", 'w', NULL,
	    1, "broken \"quote\" <b>&'\n\x01");
	fill(&files[3], "demo_pkg-1.9+local.1-py3-none-any.whl", "1.9+local.1",
	    'w', "", 1, NULL);
	fill(&files[4], "demo_pkg-1.0rc1-py3-none-any.whl", "1.0rc1", 'w',
	    "\xff\xfe bad utf8 \xe2\x82\xac", 0, NULL);
	return 0;
}

static void
test_project_json(void **state)
{
	struct buf b;
	json_t *root, *f, *v;
	json_error_t jerr;
	size_t i;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(render_project_json(&b, "demo-pkg", files, 5), 0);
	root = json_loadb(b.ptr, b.len, 0, &jerr);
	if (root == NULL)
		fail_msg("invalid JSON (%s): %s", jerr.text, b.ptr);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    root, "meta"), "api-version")), "1.1");
	assert_string_equal(json_string_value(json_object_get(root, "name")),
	    "demo-pkg");
	/* PEP 700 versions: distinct, PEP 440 order (1.0rc1 < 1.0 < 1.9 <
	 * 1.10), with the local label kept */
	v = json_object_get(root, "versions");
	assert_int_equal(json_array_size(v), 4);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "1.0rc1");
	assert_string_equal(json_string_value(json_array_get(v, 1)), "1.0");
	assert_string_equal(json_string_value(json_array_get(v, 2)),
	    "1.9+local.1");
	assert_string_equal(json_string_value(json_array_get(v, 3)), "1.10");
	assert_int_equal(json_array_size(json_object_get(root, "files")), 5);

	f = json_array_get(json_object_get(root, "files"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "filename")),
	    "demo_pkg-1.0-py3-none-any.whl");
	assert_string_equal(json_string_value(json_object_get(f, "url")),
	    "../../files/demo_pkg-1.0-py3-none-any.whl");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    f, "hashes"), "sha256")), SHA_A);
	assert_string_equal(json_string_value(json_object_get(f,
	    "requires-python")), ">=3.8,<4");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    f, "core-metadata"), "sha256")), SHA_M);
	/* PEP 714: never the old key in JSON (old pips crash on it) */
	assert_null(json_object_get(f, "dist-info-metadata"));
	assert_int_equal(json_integer_value(json_object_get(f, "size")),
	    12345);
	assert_string_equal(json_string_value(json_object_get(f,
	    "upload-time")), "2023-11-14T22:13:20.123456Z");
	assert_true(json_is_false(json_object_get(f, "yanked")));

	/* sdist: no metadata, no requires-python key */
	f = json_array_get(json_object_get(root, "files"), 1);
	assert_true(json_is_false(json_object_get(f, "core-metadata")));
	assert_null(json_object_get(f, "dist-info-metadata"));
	assert_null(json_object_get(f, "requires-python"));

	/* yanked with a reason that needs escaping, and without one */
	f = json_array_get(json_object_get(root, "files"), 2);
	assert_string_equal(json_string_value(json_object_get(f, "yanked")),
	    "broken \"quote\" <b>&'\n\x01");
	f = json_array_get(json_object_get(root, "files"), 3);
	assert_true(json_is_true(json_object_get(f, "yanked")));
	assert_string_equal(json_string_value(json_object_get(f, "url")),
	    "../../files/demo_pkg-1.9%2Blocal.1-py3-none-any.whl");
	/* invalid UTF-8 replaced, valid kept */
	f = json_array_get(json_object_get(root, "files"), 4);
	assert_string_equal(json_string_value(json_object_get(f,
	    "requires-python")), "\xef\xbf\xbd\xef\xbf\xbd bad utf8 \xe2\x82\xac");
	for (i = 0; i < 5; i++)
		assert_non_null(json_object_get(json_array_get(
		    json_object_get(root, "files"), i), "yanked"));
	json_decref(root);
	buf_free(&b);
}

static void
test_project_html(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(render_project_html(&b, "demo-pkg", files, 5), 0);
	assert_non_null(strstr(b.ptr, "<meta name=\"pypi:repository-version\" "
	    "content=\"1.1\">"));
	assert_non_null(strstr(b.ptr, "<a href=\"../../files/demo_pkg-1.0-py3-"
	    "none-any.whl#sha256=" SHA_A "\" data-requires-python=\"&gt;=3.8,"
	    "&lt;4\" data-dist-info-metadata=\"sha256=" SHA_M "\" "
	    "data-core-metadata=\"sha256=" SHA_M "\">demo_pkg-1.0-py3-none-"
	    "any.whl</a><br>"));
	assert_non_null(strstr(b.ptr, "<a href=\"../../files/demo_pkg-1.0.tar"
	    ".gz#sha256=" SHA_B "\">demo_pkg-1.0.tar.gz</a>"));
	assert_non_null(strstr(b.ptr, " data-yanked=\"broken &quot;quote&quot; "
	    "&lt;b&gt;&amp;&#39;\n\x01\">"));
	/* yanked without reason: present and empty; empty requires-python
	 * is left out */
	assert_non_null(strstr(b.ptr, "demo_pkg-1.9%2Blocal.1-py3-none-any.whl"
	    "#sha256=" SHA_A "\" data-dist-info-metadata=\"sha256=" SHA_M "\" "
	    "data-core-metadata=\"sha256=" SHA_M "\" data-yanked=\"\">"));
	assert_null(strstr(b.ptr, "<script"));
	assert_null(strstr(b.ptr, "\"broken \"quote"));
	buf_free(&b);
}

static void
test_index(void **state)
{
	static const struct render_project p[] = {
		{ "demo-pkg", "Demo_Pkg" },
		{ "evil", "<script>alert(1)</script>\"" },
		{ "nodisplay", NULL },
	};
	struct buf b;
	json_t *root, *arr;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(render_index_html(&b, p, 3), 0);
	assert_non_null(strstr(b.ptr, "<a href=\"demo-pkg/\">Demo_Pkg</a>"));
	assert_non_null(strstr(b.ptr, "<a href=\"evil/\">&lt;script&gt;alert(1)"
	    "&lt;/script&gt;&quot;</a>"));
	assert_non_null(strstr(b.ptr, "<a href=\"nodisplay/\">nodisplay</a>"));
	assert_non_null(strstr(b.ptr, "pypi:repository-version"));
	buf_reset(&b);
	assert_int_equal(render_index_json(&b, p, 3), 0);
	root = json_loadb(b.ptr, b.len, 0, NULL);
	assert_non_null(root);
	arr = json_object_get(root, "projects");
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    arr, 1), "name")), "<script>alert(1)</script>\"");
	json_decref(root);
	buf_reset(&b);
	assert_int_equal(render_index_json(&b, NULL, 0), 0);
	assert_string_equal(b.ptr, "{\"meta\":{\"api-version\":\"1.1\"},"
	    "\"projects\":[]}\n");
	buf_free(&b);
}

/* PEP 700 upload-time, formatted without gmtime: compare with it. */
static void
test_upload_times(void **state)
{
	static const int64_t secs[] = { 0, 951782400 /* 2000-02-29 */,
	    951868799, 1078099199, 1709251199 /* 2024-02-29T23:59:59 */,
	    4102444800 /* 2100-01-01 */, 1700000000, 253402300799 };
	struct catalog_file f;
	struct buf b;
	json_t *root;
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		fill(&f, "x-1.0.tar.gz", "1.0", 's', NULL, 0, NULL);
		f.upload_time_us = secs[i] * 1000000 + 7;
		buf_init(&b, 1 << 16);
		assert_int_equal(render_project_json(&b, "x", &f, 1), 0);
		root = json_loadb(b.ptr, b.len, 0, NULL);
		assert_non_null(root);
		util_format_time_us(f.upload_time_us, want, sizeof(want));
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(json_object_get(root, "files"), 0),
		    "upload-time")), want);
		json_decref(root);
		buf_free(&b);
	}
}

static void
test_not_found_and_limits(void **state)
{
	struct buf b;
	json_t *root;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(render_not_found(&b, 1, "no project \"x\""), 0);
	root = json_loadb(b.ptr, b.len, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "message")),
	    "no project \"x\"");
	json_decref(root);
	buf_reset(&b);
	assert_int_equal(render_not_found(&b, 0, "<x>"), 0);
	assert_non_null(strstr(b.ptr, "&lt;x&gt;"));
	buf_free(&b);
	/* a page that does not fit the buffer's cap is an error, not a
	 * truncated page */
	buf_init(&b, 100);
	assert_int_equal(render_project_html(&b, "demo-pkg", files, 5), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_json),
		cmocka_unit_test(test_project_html),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_upload_times),
		cmocka_unit_test(test_not_found_and_limits),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
