/*
 * test_ingest.c: unit tests for ingest_file() with Debian's real wheels
 * (/usr/share/python-wheels, from python3-*-whl) into a real store and
 * catalog: added, no-op, digest/project checks, conflicts in the catalog
 * and in the store, repair of a missing file, uploads linked from
 * DATA/tmp, and cleanup when the catalog step fails.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
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
#include <sqlite3.h>

#include "catalog.h"
#include "hash.h"
#include "ingest.h"
#include "store.h"
#include "util.h"
#include "verify.h"

#define WHEELS	"/usr/share/python-wheels"

struct fixture {
	char	 dir[PATH_MAX];
	char	 wheel[PATH_MAX];	/* a real wheel */
	char	 name[256];		/* its filename */
	char	 sha[HASH_SHA256_HEXLEN];
	struct store *s;
	struct catalog *c;
};

static int
setup(void **state)
{
	struct fixture *fx;
	struct wwerr err;
	struct dirent *de;
	DIR *d;
	const char *base = getenv("WW_TEST_TMP");

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	if ((d = opendir(WHEELS)) == NULL)
		fail_msg("%s: %s (install python3-pip-whl)", WHEELS,
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "pip-", 4) == 0 &&
		    strstr(de->d_name, ".whl") != NULL)
			break;
	if (de == NULL)
		fail_msg("no pip wheel in %s", WHEELS);
	util_strlcpy(fx->name, de->d_name, sizeof(fx->name));
	closedir(d);
	snprintf(fx->wheel, sizeof(fx->wheel), "%s/%s", WHEELS, fx->name);
	assert_int_equal(hash_sha256_file(fx->wheel, fx->sha, NULL), 0);

	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_ingest.XXXXXX", base);
	assert_non_null(mkdtemp(fx->dir));
	if (store_open(fx->dir, &fx->s, &err) == -1)
		fail_msg("store_open: %s", err.msg);
	if (catalog_open(store_catalog_path(fx->s), 0, &fx->c, &err) == -1)
		fail_msg("catalog_open: %s", err.msg);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[PATH_MAX + 32];

	catalog_close(fx->c);
	store_close(fx->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx->dir);
	free(fx);
	return 0;
}

static int
stored(struct fixture *fx, const char *name)
{
	char path[PATH_MAX];

	if (store_path(fx->s, name, path, sizeof(path)) == -1)
		return 0;
	return access(path, F_OK) == 0;
}

static int64_t
nfiles(struct fixture *fx)
{
	struct catalog_stats st;
	struct wwerr err;

	if (catalog_stats(fx->c, &st, &err) == -1)
		fail_msg("stats: %s", err.msg);
	return st.files;
}

static int
count_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
copy_file(const char *src, const char *dst, size_t truncate_to)
{
	char *data;
	size_t len;

	assert_int_equal(util_read_file(src, 64 << 20, &data, &len), 0);
	if (truncate_to && truncate_to < len)
		len = truncate_to;
	assert_int_equal(util_write_atomic(dst, data, len), 0);
	free(data);
}

static void
test_added_then_exists(void **state)
{
	struct fixture *fx = *state;
	struct verify_result *r = NULL;
	struct ingest_opts o = { .origin = "test:unit" };
	struct catalog_file f;
	struct wwerr err;
	char meta[300], path[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	int64_t gen, gen2;

	if (ingest_file(fx->s, fx->c, fx->wheel, &o, NULL, &r, &err) !=
	    INGEST_ADDED)
		fail_msg("ingest %s: %s", fx->wheel, err.msg);
	assert_non_null(r);
	assert_string_equal(r->sha256, fx->sha);
	assert_int_equal(catalog_get_file(fx->c, fx->name, &f, &err), 0);
	assert_string_equal(f.project, "pip");
	assert_string_equal(f.project_display, r->name);
	assert_string_equal(f.version, r->version);
	assert_int_equal(f.kind, 'w');
	assert_string_equal(f.python_tag, "py3");
	assert_string_equal(f.abi_tag, "none");
	assert_string_equal(f.platform_tag, "any");
	assert_string_equal(f.sha256, fx->sha);
	assert_int_equal(f.size, r->size);
	assert_int_equal(f.has_metadata, 1);
	assert_string_equal(f.metadata_sha256, r->metadata_sha256);
	assert_string_equal(f.origin, "test:unit");
	if (r->requires_python)
		assert_string_equal(f.requires_python, r->requires_python);
	catalog_file_free(&f);

	/* The stored file and its .metadata hash to what the row says. */
	assert_int_equal(store_path(fx->s, fx->name, path, sizeof(path)), 0);
	assert_int_equal(hash_sha256_file(path, hex, NULL), 0);
	assert_string_equal(hex, fx->sha);
	snprintf(meta, sizeof(meta), "%s.metadata", fx->name);
	assert_int_equal(store_path(fx->s, meta, path, sizeof(path)), 0);
	assert_int_equal(hash_sha256_file(path, hex, NULL), 0);
	assert_string_equal(hex, r->metadata_sha256);
	verify_result_free(r);

	/* Again: a no-op that changes nothing, not even the generation. */
	assert_int_equal(catalog_global_generation(fx->c, &gen, &err), 0);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), INGEST_EXISTS);
	assert_int_equal(catalog_global_generation(fx->c, &gen2, &err), 0);
	assert_int_equal(gen, gen2);
	assert_int_equal(nfiles(fx), 1);
	assert_int_equal(count_dir(store_tmpdir(fx->s)), 0);
}

static void
test_digest_and_project(void **state)
{
	struct fixture *fx = *state;
	struct verify_result *r = (void *)1;
	struct ingest_opts o = { 0 };
	struct wwerr err;
	char bad[HASH_SHA256_HEXLEN], upper[HASH_SHA256_HEXLEN];
	size_t i;

	memcpy(bad, fx->sha, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	o.expect_sha256 = bad;
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, &o, NULL, &r,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_DIGEST);
	assert_null(r);
	assert_string_equal(ingest_err_name(err.code), "digest-mismatch");
	o.expect_sha256 = NULL;
	o.project = "setuptools";
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, &o, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_PROJECT);
	assert_non_null(strstr(err.msg, "setuptools"));
	assert_int_equal(nfiles(fx), 0);
	assert_false(stored(fx, fx->name));

	/* The right project and the digest in upper case are accepted. */
	for (i = 0; i < sizeof(upper) - 1; i++)
		upper[i] = (char)(fx->sha[i] >= 'a' ? fx->sha[i] - 32 :
		    fx->sha[i]);
	upper[sizeof(upper) - 1] = '\0';
	o.project = "pip";
	o.expect_sha256 = upper;
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, &o, NULL, NULL,
	    &err), INGEST_ADDED);
}

static void
test_bad_file_writes_nothing(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	struct wwerr err;
	char trunc[PATH_MAX];

	assert_int_equal(stat(fx->wheel, &st), 0);
	snprintf(trunc, sizeof(trunc), "%s/in", fx->dir);
	assert_int_equal(util_mkdirs(trunc, 0755), 0);
	snprintf(trunc, sizeof(trunc), "%s/in/%s", fx->dir, fx->name);
	copy_file(fx->wheel, trunc, (size_t)st.st_size / 2);
	assert_int_equal(ingest_file(fx->s, fx->c, trunc, NULL, NULL, NULL,
	    &err), -1);
	assert_true(err.code > 0 && err.code < 100);	/* a verify error */
	assert_string_not_equal(ingest_err_name(err.code), "");
	assert_int_equal(nfiles(fx), 0);
	assert_int_equal(count_dir(store_filesdir(fx->s)), 0);

	assert_int_equal(ingest_file(fx->s, fx->c, "/nonexistent/x.whl", NULL,
	    NULL, NULL, &err), -1);
	assert_true(err.code > 0 && err.code < 100);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel,
	    &(struct ingest_opts){ .filename = "../../evil.whl" }, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, VERIFY_E_FILENAME);
	assert_int_equal(count_dir(store_filesdir(fx->s)), 0);
}

static void
test_catalog_conflict(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f;
	struct wwerr err;

	/* The catalog already has this filename with other bytes. */
	memset(&f, 0, sizeof(f));
	f.project = "pip";
	f.project_display = "pip";
	f.version = "0";
	f.filename = fx->name;
	f.kind = 'w';
	f.python_tag = "py3";
	f.abi_tag = "none";
	f.platform_tag = "any";
	memset(f.sha256, 'e', 64);
	f.size = 1;
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_CONFLICT);
	assert_non_null(strstr(err.msg, fx->name));
	assert_string_equal(ingest_err_name(err.code), "conflict");
	/* Nothing was written to the store. */
	assert_int_equal(count_dir(store_filesdir(fx->s)), 0);
}

static void
test_store_conflict(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	char path[PATH_MAX];

	/* A stray store file (no row) with other bytes: refused, kept. */
	assert_int_equal(store_path(fx->s, fx->name, path, sizeof(path)), 0);
	assert_int_equal(util_write_atomic(path, "stray", 5), 0);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_CONFLICT);
	assert_int_equal(nfiles(fx), 0);
	assert_true(stored(fx, fx->name));
}

static void
test_repair_missing_file(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	char path[PATH_MAX], hex[HASH_SHA256_HEXLEN];

	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), INGEST_ADDED);
	assert_int_equal(store_remove(fx->s, fx->name), 0);
	assert_false(stored(fx, fx->name));
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), INGEST_EXISTS);
	assert_int_equal(store_path(fx->s, fx->name, path, sizeof(path)), 0);
	assert_int_equal(hash_sha256_file(path, hex, NULL), 0);
	assert_string_equal(hex, fx->sha);
	snprintf(path, sizeof(path), "%s.metadata", fx->name);
	assert_true(stored(fx, path));
}

static void
test_upload_from_tmp(void **state)
{
	struct fixture *fx = *state;
	struct ingest_opts o = { 0 };
	struct wwerr err;
	char tmp[PATH_MAX];
	char *data;
	size_t len;
	int fd;

	/* As indexd does: body streamed to DATA/tmp under a temp name. */
	fd = store_mktemp(fx->s, "upload", tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_int_equal(util_read_file(fx->wheel, 64 << 20, &data, &len), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	free(data);
	close(fd);
	o.filename = fx->name;
	o.origin = "upload:ci";
	o.expect_sha256 = fx->sha;
	if (ingest_file(fx->s, fx->c, tmp, &o, NULL, NULL, &err) !=
	    INGEST_ADDED)
		fail_msg("ingest upload: %s", err.msg);
	unlink(tmp);
	assert_true(stored(fx, fx->name));
	assert_int_equal(count_dir(store_tmpdir(fx->s)), 0);
}

static void
test_catalog_failure_cleans_up(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	struct catalog *other;
	char meta[300];

	/* Make the INSERT fail after the store step has run. */
	assert_int_equal(sqlite3_exec(catalog_db(fx->c), "CREATE TEMP TRIGGER "
	    "fail_insert BEFORE INSERT ON files BEGIN SELECT RAISE(ABORT, "
	    "'injected failure'); END", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_DB);
	assert_non_null(strstr(err.msg, "injected failure"));
	assert_int_equal(nfiles(fx), 0);
	/* What this ingest created is gone again: no stray file. */
	assert_false(stored(fx, fx->name));
	snprintf(meta, sizeof(meta), "%s.metadata", fx->name);
	assert_false(stored(fx, meta));
	assert_int_equal(count_dir(store_tmpdir(fx->s)), 0);

	/* When the cleanup cannot take the write lock, the file stays (a
	 * stray file is harmless; removing one a row points to is not). */
	if (catalog_open(store_catalog_path(fx->s), 0, &other, &err) == -1)
		fail_msg("second connection: %s", err.msg);
	catalog_set_busy_timeout(fx->c, 50);
	assert_int_equal(sqlite3_exec(catalog_db(fx->c), "DROP TRIGGER "
	    "fail_insert", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(catalog_begin(other, &err), 0);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), -1);
	assert_int_equal(err.code, INGEST_E_DB);
	catalog_rollback(other);
	catalog_close(other);
	assert_int_equal(nfiles(fx), 0);
	assert_true(stored(fx, fx->name));
	/* And the next ingest simply uses it. */
	catalog_set_busy_timeout(fx->c, 5000);
	assert_int_equal(ingest_file(fx->s, fx->c, fx->wheel, NULL, NULL, NULL,
	    &err), INGEST_ADDED);
}

static void
test_all_debian_wheels(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	struct wwerr err;
	char path[PATH_MAX];
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir(WHEELS));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".whl") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", WHEELS, de->d_name);
		if (ingest_file(fx->s, fx->c, path, NULL, NULL, NULL, &err) !=
		    INGEST_ADDED)
			fail_msg("%s: %s", path, err.msg);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
	assert_int_equal(nfiles(fx), n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_added_then_exists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_digest_and_project, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_writes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_repair_missing_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upload_from_tmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_catalog_failure_cleans_up,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_debian_wheels, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
