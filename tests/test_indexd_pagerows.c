/*
 * test_indexd_pagerows.c: the rows a simple page is rendered from, loaded
 * from a real SQLite catalog in a temp dir: every field a page shows, the
 * order, NULLs kept NULL, strings that outlive the catalog's statement,
 * many rows across arena chunks, the project list, and unknown projects.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"
#include "hash.h"
#include "indexd_pagerows.h"
#include "util.h"

struct fixture {
	char		 dir[PATH_MAX];
	struct catalog	*c;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *base = getenv("WW_TEST_TMP");
	char db[PATH_MAX + 32];
	struct wwerr err;

	assert_non_null(fx);
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_pagerows.XXXXXX", base);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(db, sizeof(db), "%s/catalog.sqlite", fx->dir);
	if (catalog_open(db, 0, &fx->c, &err) == -1)
		fail_msg("catalog_open: %s", err.msg);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX + 32];

	catalog_close(fx->c);
	snprintf(path, sizeof(path), "%s/catalog.sqlite", fx->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.sqlite-wal", fx->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.sqlite-shm", fx->dir);
	unlink(path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
add(struct catalog *c, const char *project, const char *display,
    const char *version, const char *filename, const char *rp, int meta,
    int64_t when)
{
	struct catalog_file f;
	struct wwerr err;
	unsigned char d[HASH_SHA256_LEN];

	memset(&f, 0, sizeof(f));
	f.project = (char *)project;
	f.project_display = (char *)display;
	f.version = (char *)version;
	f.filename = (char *)filename;
	if (strstr(filename, ".whl") != NULL) {
		f.kind = 'w';
		f.python_tag = "py3";
		f.abi_tag = "none";
		f.platform_tag = "any";
	} else
		f.kind = 's';
	hash_sha256_mem(filename, strlen(filename), d);
	hash_hex(d, sizeof(d), f.sha256);
	f.size = strlen(filename) * 100;
	f.requires_python = (char *)rp;
	f.has_metadata = meta;
	if (meta) {
		hash_sha256_mem(version, strlen(version), d);
		hash_hex(d, sizeof(d), f.metadata_sha256);
	}
	f.upload_time_us = when;
	f.origin = "test";
	if (catalog_add_file(c, &f, &err) == -1)
		fail_msg("catalog_add_file %s: %s", filename, err.msg);
}

static void
test_files(void **state)
{
	struct fixture *fx = *state;
	struct pagerows_files l;
	struct wwerr err;
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN];
	int n;

	add(fx->c, "demo", "Demo", "1.0", "demo-1.0.tar.gz", NULL, 0, 1000);
	add(fx->c, "demo", "Demo", "1.0", "demo-1.0-py3-none-any.whl",
	    ">=3.8,<4", 1, 2000);
	add(fx->c, "demo", "Demo", "0.9", "demo-0.9-py3-none-any.whl",
	    NULL, 1, 3000);
	add(fx->c, "other", "Other", "2.0", "other-2.0-py3-none-any.whl",
	    NULL, 1, 4000);
	n = catalog_yank_file(fx->c, "demo-1.0.tar.gz", 1, "broken <sdist>",
	    &err);
	assert_int_equal(n, 1);

	assert_int_equal(pagerows_load_files(fx->c, "demo", &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_false(l.oom);
	/* by filename */
	assert_string_equal(l.v[0].filename, "demo-0.9-py3-none-any.whl");
	assert_string_equal(l.v[1].filename, "demo-1.0-py3-none-any.whl");
	assert_string_equal(l.v[2].filename, "demo-1.0.tar.gz");

	assert_true(l.v[1].id > 0);
	assert_string_equal(l.v[1].version, "1.0");
	assert_int_equal(l.v[1].kind, 'w');
	hash_sha256_mem(l.v[1].filename, strlen(l.v[1].filename), d);
	hash_hex(d, sizeof(d), hex);
	assert_string_equal(l.v[1].sha256, hex);
	assert_int_equal(l.v[1].size, strlen(l.v[1].filename) * 100);
	assert_string_equal(l.v[1].requires_python, ">=3.8,<4");
	assert_int_equal(l.v[1].has_metadata, 1);
	hash_sha256_mem("1.0", 3, d);
	hash_hex(d, sizeof(d), hex);
	assert_string_equal(l.v[1].metadata_sha256, hex);
	assert_int_equal(l.v[1].upload_time_us, 2000);
	assert_false(l.v[1].yanked);
	assert_null(l.v[1].yanked_reason);
	/* what a page does not show is left out */
	assert_null(l.v[1].project);
	assert_null(l.v[1].origin);
	assert_null(l.v[1].platform_tag);

	assert_null(l.v[0].requires_python);
	assert_int_equal(l.v[2].kind, 's');
	assert_int_equal(l.v[2].has_metadata, 0);
	assert_true(l.v[2].yanked);
	assert_string_equal(l.v[2].yanked_reason, "broken <sdist>");
	pagerows_files_free(&l);
	assert_null(l.v);

	/* an unknown project has no rows (its 404 is decided elsewhere) */
	assert_int_equal(pagerows_load_files(fx->c, "nope", &l, &err), 0);
	assert_int_equal(l.n, 0);
	pagerows_files_free(&l);
}

/* More rows than one arena chunk holds: every string stays intact. */
static void
test_many(void **state)
{
	struct fixture *fx = *state;
	struct pagerows_files l;
	struct wwerr err;
	char fn[128], ver[32], rp[600];
	size_t i;

	memset(rp, 'x', sizeof(rp) - 1);
	rp[sizeof(rp) - 1] = '\0';
	memcpy(rp, ">=3.", 4);
	assert_int_equal(catalog_begin(fx->c, &err), 0);
	for (i = 0; i < 1500; i++) {
		snprintf(ver, sizeof(ver), "%zu.%zu", i / 100, i % 100);
		snprintf(fn, sizeof(fn), "many-%s-py3-none-any.whl", ver);
		add(fx->c, "many", "Many", ver, fn, rp, 1, (int64_t)i);
	}
	assert_int_equal(catalog_commit(fx->c, &err), 0);
	assert_int_equal(pagerows_load_files(fx->c, "many", &l, &err), 0);
	assert_int_equal(l.n, 1500);
	for (i = 0; i < l.n; i++) {
		snprintf(fn, sizeof(fn), "many-%s-py3-none-any.whl",
		    l.v[i].version);
		assert_string_equal(l.v[i].filename, fn);
		assert_string_equal(l.v[i].requires_python, rp);
		if (i > 0)
			assert_true(strcmp(l.v[i - 1].filename,
			    l.v[i].filename) < 0);
	}
	pagerows_files_free(&l);
}

static void
test_projects(void **state)
{
	struct fixture *fx = *state;
	struct pagerows_projects l;
	struct wwerr err;

	assert_int_equal(pagerows_load_projects(fx->c, &l, &err), 0);
	assert_int_equal(l.n, 0);
	pagerows_projects_free(&l);

	add(fx->c, "zeta-pkg", "Zeta_Pkg", "1.0", "zeta_pkg-1.0.tar.gz",
	    NULL, 0, 1);
	add(fx->c, "alpha", "Alpha", "1.0", "alpha-1.0.tar.gz", NULL, 0, 1);
	assert_int_equal(pagerows_load_projects(fx->c, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].normalized, "alpha");
	assert_string_equal(l.v[0].display, "Alpha");
	assert_string_equal(l.v[1].normalized, "zeta-pkg");
	assert_string_equal(l.v[1].display, "Zeta_Pkg");
	pagerows_projects_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projects, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
