/*
 * test_store.c: unit tests for the immutable file store on a real data
 * directory: atomic put, identical re-put as a no-op, refusal of different
 * bytes and unsafe names, metadata files, digest checks, the link fast
 * path for files already in DATA/tmp, and leftover temp cleanup.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "hash.h"
#include "store.h"
#include "util.h"

struct fixture {
	char	 dir[PATH_MAX];
	char	 data[PATH_MAX];
	struct store *s;
};

static int
setup(void **state)
{
	struct fixture *fx;
	struct wwerr err;
	const char *base = getenv("WW_TEST_TMP");

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_store.XXXXXX", base);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->data, sizeof(fx->data), "%s/data/sub", fx->dir);
	if (store_open(fx->data, &fx->s, &err) == -1)
		fail_msg("store_open: %s", err.msg);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[PATH_MAX + 32];

	store_close(fx->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx->dir);
	free(fx);
	return 0;
}

/* Write a source file outside the store; returns its sha256. */
static void
mksrc(struct fixture *fx, const char *name, const char *content,
    char *path, size_t pathlen, char hex[HASH_SHA256_HEXLEN])
{
	unsigned char d[HASH_SHA256_LEN];

	snprintf(path, pathlen, "%s/%s", fx->dir, name);
	assert_int_equal(util_write_atomic(path, content, strlen(content)), 0);
	hash_sha256_mem(content, strlen(content), d);
	hash_hex(d, sizeof(d), hex);
}

static void
assert_file(struct fixture *fx, const char *name, const char *content)
{
	char path[PATH_MAX], *data;
	size_t len;

	assert_int_equal(store_path(fx->s, name, path, sizeof(path)), 0);
	if (util_read_file(path, 1 << 20, &data, &len) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(len, strlen(content));
	assert_memory_equal(data, content, len);
	free(data);
}

static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void
test_layout(void **state)
{
	struct fixture *fx = *state;
	char want[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	struct stat st;

	assert_non_null(realpath(fx->data, real));
	assert_string_equal(store_datadir(fx->s), real);
	snprintf(want, sizeof(want), "%s/files", real);
	assert_string_equal(store_filesdir(fx->s), want);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(want, sizeof(want), "%s/tmp", real);
	assert_string_equal(store_tmpdir(fx->s), want);
	assert_int_equal(stat(want, &st), 0);
	snprintf(want, sizeof(want), "%s/catalog.sqlite", real);
	assert_string_equal(store_catalog_path(fx->s), want);
	assert_int_equal(store_path(fx->s, "a-1.0.tar.gz", path, sizeof(path)),
	    0);
	snprintf(want, sizeof(want), "%s/files/a-1.0.tar.gz", real);
	assert_string_equal(path, want);
	assert_int_equal(store_path(fx->s, "a-1.0.tar.gz", path, 10), -1);
}

static void
test_put_new_then_identical(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX], hex[HASH_SHA256_HEXLEN], path[PATH_MAX];
	struct wwerr err;
	struct stat st;
	const char *meta = "Metadata-Version: 2.1\nName: a\nVersion: 1.0\n";

	mksrc(fx, "a.src", "wheel bytes", src, sizeof(src), hex);
	assert_int_equal(store_put(fx->s, src, "a-1.0-py3-none-any.whl", hex,
	    meta, strlen(meta), &err), 0);
	assert_file(fx, "a-1.0-py3-none-any.whl", "wheel bytes");
	assert_file(fx, "a-1.0-py3-none-any.whl.metadata", meta);
	/* Stored files are read-only, and the source is left alone. */
	assert_int_equal(store_path(fx->s, "a-1.0-py3-none-any.whl", path,
	    sizeof(path)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_int_equal(access(src, F_OK), 0);
	/* No temp files left behind. */
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 0);

	/* Identical again: no-op. Also without an expected digest. */
	assert_int_equal(store_put(fx->s, src, "a-1.0-py3-none-any.whl", hex,
	    meta, strlen(meta), &err), 1);
	assert_int_equal(store_put(fx->s, src, "a-1.0-py3-none-any.whl", NULL,
	    meta, strlen(meta), &err), 1);
	assert_int_equal(count_entries(store_filesdir(fx->s)), 2);
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 0);
}

static void
test_put_different_bytes_refused(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX], src2[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	char hex2[HASH_SHA256_HEXLEN];
	struct wwerr err;

	mksrc(fx, "one", "original", src, sizeof(src), hex);
	mksrc(fx, "two", "impostor", src2, sizeof(src2), hex2);
	assert_int_equal(store_put(fx->s, src, "b-1.0.tar.gz", hex, "M", 1,
	    &err), 0);
	assert_int_equal(store_put(fx->s, src2, "b-1.0.tar.gz", hex2, "M", 1,
	    &err), -1);
	assert_int_equal(err.code, STORE_E_EXISTS);
	assert_non_null(strstr(err.msg, "b-1.0.tar.gz"));
	assert_int_equal(store_put(fx->s, src2, "b-1.0.tar.gz", NULL, NULL, 0,
	    &err), -1);
	assert_int_equal(err.code, STORE_E_EXISTS);
	assert_file(fx, "b-1.0.tar.gz", "original");
	/* Same distribution bytes, different metadata: refused too. */
	assert_int_equal(store_put(fx->s, src, "b-1.0.tar.gz", hex, "X", 1,
	    &err), -1);
	assert_int_equal(err.code, STORE_E_EXISTS);
	assert_file(fx, "b-1.0.tar.gz.metadata", "M");
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 0);
}

static void
test_put_digest_mismatch(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX], hex[HASH_SHA256_HEXLEN], other[HASH_SHA256_HEXLEN];
	char path[PATH_MAX];
	struct wwerr err;

	mksrc(fx, "c", "content", src, sizeof(src), hex);
	memcpy(other, hex, sizeof(other));
	other[0] = other[0] == '0' ? '1' : '0';
	assert_int_equal(store_put(fx->s, src, "c-1.0.tar.gz", other, "M", 1,
	    &err), -1);
	assert_int_equal(err.code, STORE_E_DIGEST);
	assert_int_equal(store_put(fx->s, src, "c-1.0.tar.gz", "NOTHEX", NULL,
	    0, &err), -1);
	assert_int_equal(err.code, STORE_E_DIGEST);
	assert_int_equal(store_path(fx->s, "c-1.0.tar.gz", path, sizeof(path)),
	    0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_entries(store_filesdir(fx->s)), 0);
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 0);

	/* A missing source is an I/O error, not a crash. */
	assert_int_equal(store_put(fx->s, "/nonexistent/x", "c-1.0.tar.gz",
	    hex, NULL, 0, &err), -1);
	assert_int_equal(err.code, STORE_E_IO);
	assert_int_equal(store_put(fx->s, fx->dir, "c-1.0.tar.gz", hex, NULL,
	    0, &err), -1);
	assert_int_equal(err.code, STORE_E_IO);
}

static void
test_unsafe_names(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX], hex[HASH_SHA256_HEXLEN], path[PATH_MAX];
	char longname[300];
	struct wwerr err;
	const char *bad[] = {
		"", ".", "..", "../evil.whl", "a/b.whl", "/etc/passwd",
		".hidden.whl", "back\\slash.whl", "tab\there.whl",
		"x.whl.metadata", "nl\n.whl",
	};
	size_t i;

	mksrc(fx, "d", "content", src, sizeof(src), hex);
	for (i = 0; i < WW_ARRLEN(bad); i++) {
		assert_int_equal(store_put(fx->s, src, bad[i], hex, NULL, 0,
		    &err), -1);
		assert_int_equal(err.code, STORE_E_NAME);
	}
	assert_int_equal(store_put(fx->s, src, NULL, hex, NULL, 0, &err), -1);
	assert_int_equal(err.code, STORE_E_NAME);
	memset(longname, 'a', sizeof(longname));
	longname[256] = '\0';
	assert_int_equal(store_put(fx->s, src, longname, hex, NULL, 0, &err),
	    -1);
	assert_int_equal(err.code, STORE_E_NAME);
	/* 250 bytes fits, but not with ".metadata" after it. */
	longname[250] = '\0';
	assert_int_equal(store_put(fx->s, src, longname, hex, "M", 1, &err),
	    -1);
	assert_int_equal(err.code, STORE_E_NAME);
	assert_int_equal(store_put(fx->s, src, longname, hex, NULL, 0, &err),
	    0);

	assert_int_equal(store_path(fx->s, "../x", path, sizeof(path)), -1);
	assert_int_equal(store_path(fx->s, "..", path, sizeof(path)), -1);
	assert_int_equal(store_path(fx->s, "ok.whl.metadata", path,
	    sizeof(path)), 0);
	assert_false(store_name_ok("a/b"));
	assert_true(store_name_ok("pip-23.0.1-py3-none-any.whl"));
	/* Nothing escaped the files directory. */
	snprintf(path, sizeof(path), "%s/evil.whl", store_datadir(fx->s));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_entries(store_filesdir(fx->s)), 1);
}

static void
test_missing_metadata_repaired(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX], hex[HASH_SHA256_HEXLEN], path[PATH_MAX];
	struct wwerr err;

	mksrc(fx, "e", "content", src, sizeof(src), hex);
	assert_int_equal(store_put(fx->s, src, "e-1.0.tar.gz", hex, NULL, 0,
	    &err), 0);
	assert_int_equal(store_path(fx->s, "e-1.0.tar.gz.metadata", path,
	    sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	/* The file is there; the metadata is added. */
	assert_int_equal(store_put(fx->s, src, "e-1.0.tar.gz", hex, "META", 4,
	    &err), 1);
	assert_file(fx, "e-1.0.tar.gz.metadata", "META");

	assert_int_equal(store_remove(fx->s, "e-1.0.tar.gz"), 0);
	assert_int_equal(count_entries(store_filesdir(fx->s)), 0);
	assert_int_equal(store_remove(fx->s, "e-1.0.tar.gz"), 0);
	assert_int_equal(store_remove(fx->s, "../e"), -1);
}

static void
test_link_from_tmp(void **state)
{
	struct fixture *fx = *state;
	char tmp[PATH_MAX], hex[HASH_SHA256_HEXLEN], path[PATH_MAX];
	unsigned char d[HASH_SHA256_LEN];
	const char *body = "uploaded body";
	struct stat a, b;
	struct wwerr err;
	int fd;

	fd = store_mktemp(fx->s, "upload", tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_int_equal(strncmp(tmp, store_tmpdir(fx->s),
	    strlen(store_tmpdir(fx->s))), 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	hash_sha256_mem(body, strlen(body), d);
	hash_hex(d, sizeof(d), hex);
	assert_int_equal(store_put(fx->s, tmp, "f-1.0.tar.gz", hex, NULL, 0,
	    &err), 0);
	/* Linked, not copied: same inode. */
	assert_int_equal(store_path(fx->s, "f-1.0.tar.gz", path, sizeof(path)),
	    0);
	assert_int_equal(stat(tmp, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(b.st_mode & 0777, 0444);
	unlink(tmp);
	assert_file(fx, "f-1.0.tar.gz", body);
	assert_int_equal(store_mktemp(fx->s, "../x", tmp, sizeof(tmp)), -1);
}

static void
test_clean_tmp(void **state)
{
	struct fixture *fx = *state;
	char tmp[PATH_MAX];
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	int fd;

	fd = store_mktemp(fx->s, "stale", tmp, sizeof(tmp));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(utimensat(AT_FDCWD, tmp, old, 0), 0);
	fd = store_mktemp(fx->s, "fresh", tmp, sizeof(tmp));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(store_clean_tmp(fx->s, 3600), 1);
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 1);
	assert_int_equal(access(tmp, F_OK), 0);
}

static void
test_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct store *s = NULL;
	struct wwerr err;
	char path[PATH_MAX];

	assert_int_equal(store_open("", &s, &err), -1);
	assert_null(s);
	snprintf(path, sizeof(path), "%s/plainfile", fx->dir);
	assert_int_equal(util_write_atomic(path, "x", 1), 0);
	assert_int_equal(store_open(path, &s, &err), -1);
	assert_int_equal(err.code, STORE_E_IO);
	assert_null(s);
}

static void
test_put_not_regular(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	char path[PATH_MAX];

	/* A FIFO is refused at once, not waited on for a writer. */
	snprintf(path, sizeof(path), "%s/pipe", fx->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(store_put(fx->s, path, "a-1.0.tar.gz", NULL, NULL, 0,
	    &err), -1);
	assert_int_equal(err.code, STORE_E_IO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(count_entries(store_filesdir(fx->s)), 0);
	assert_int_equal(count_entries(store_tmpdir(fx->s)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_new_then_identical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_put_different_bytes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_digest_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_metadata_repaired,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_from_tmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_not_regular, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
