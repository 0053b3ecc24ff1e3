/* test_util.c: unit tests for buf, util, hash, strv and wwerr. */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "hash.h"
#include "strv.h"
#include "util.h"
#include "wwerr.h"

static void
test_buf_bounded(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_addstr(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(buf_cstr(&b), "hello1234");
	assert_int_equal(buf_addstr(&b, "xy"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(buf_cstr(&b), "hello1234");
	assert_int_equal(buf_addc(&b, '!'), 0);
	assert_int_equal(b.len, 10);
	buf_free(&b);

	buf_init(&b, 100000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%03d,", i % 1000), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.ptr + 3996, "999,", 4);
	buf_free(&b);

	buf_init(&b, 35);
	assert_int_equal(buf_add_u64(&b, 0), 0);
	assert_int_equal(buf_addc(&b, ' '), 0);
	assert_int_equal(buf_add_u64(&b, 1234567), 0);
	assert_int_equal(buf_addc(&b, ' '), 0);
	assert_int_equal(buf_add_u64(&b, UINT64_MAX), 0);
	assert_string_equal(buf_cstr(&b), "0 1234567 18446744073709551615");
	assert_int_equal(buf_add_u64(&b, 1234567890), -1);	/* bounded */
	assert_int_equal(b.len, 30);
	buf_free(&b);

	/* An unbounded-looking cap is still one whose sizes cannot wrap. */
	buf_init(&b, SIZE_MAX);
	assert_true(b.max <= SIZE_MAX / 2);
	assert_int_equal(buf_addstr(&b, "ok"), 0);
	assert_int_equal(buf_add(&b, "x", SIZE_MAX - 3), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(buf_add(&b, "x", SIZE_MAX), -1);
	assert_string_equal(buf_cstr(&b), "ok");
	buf_free(&b);
}

static void
test_parse_numbers(void **state)
{
	uint64_t u;
	int64_t i;

	(void)state;
	assert_int_equal(util_parse_u64("42", 100, &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(util_parse_u64("101", 100, &u), -1);
	assert_int_equal(util_parse_u64("-1", 100, &u), -1);
	assert_int_equal(util_parse_u64("4x", 100, &u), -1);
	assert_int_equal(util_parse_u64("", 100, &u), -1);
	assert_int_equal(util_parse_u64("99999999999999999999999", UINT64_MAX,
	    &u), -1);
	assert_int_equal(util_parse_i64("-5", -10, 10, &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(util_parse_size("64M", &u), 0);
	assert_int_equal(u, 64ULL << 20);
	assert_int_equal(util_parse_size("2G", &u), 0);
	assert_int_equal(u, 2ULL << 30);
	assert_int_equal(util_parse_size("M", &u), -1);
}

static void
test_hash(void **state)
{
	unsigned char d[HASH_SHA256_LEN], back[64];
	char hex[HASH_SHA256_HEXLEN], b64[HASH_SHA256_B64LEN];
	size_t n;

	(void)state;
	assert_int_equal(hash_sha256_mem("abc", 3, d), 0);
	hash_hex(d, sizeof(d), hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(hash_is_hex64(hex));
	hash_b64url(d, sizeof(d), b64);
	assert_string_equal(b64, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
	assert_int_equal(hash_b64url_decode(b64, back, sizeof(back), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(back, d, 32);
	assert_int_equal(hash_b64url_decode("a$", back, sizeof(back), &n), -1);
	/* urlsafe: '=' ignored however many; the standard alphabet is not */
	assert_int_equal(hash_b64url_decode("aGVsbG8===", back, sizeof(back),
	    &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(hash_b64url_decode("+/+/", back, sizeof(back), &n),
	    -1);
	assert_int_equal(hash_b64url_decode("aGVsbG9", back, sizeof(back), &n),
	    -1);

	/* standard base64, RFC 4648 padding, length-delimited */
	assert_int_equal(hash_b64_decode("aGVsbG8=", 8, back, sizeof(back), &n),
	    0);
	assert_int_equal(n, 5);
	assert_memory_equal(back, "hello", 5);
	assert_int_equal(hash_b64_decode("aGVsbG8", 7, back, sizeof(back), &n),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(hash_b64_decode("aGVsbG8=junk", 8, back, sizeof(back),
	    &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(hash_b64_decode("", 0, back, sizeof(back), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hash_b64_decode("+/+/", 4, back, sizeof(back), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(back, "\xfb\xff\xbf", 3);
	/* bad characters, bad length, too much padding, padding to a length
	 * not a multiple of 4, non-canonical, urlsafe letters, a NUL */
	assert_int_equal(hash_b64_decode("aGV*bG8=", 8, back, sizeof(back), &n),
	    -1);
	assert_int_equal(hash_b64_decode("a", 1, back, sizeof(back), &n), -1);
	assert_int_equal(hash_b64_decode("aGVsbG8===", 10, back, sizeof(back),
	    &n), -1);
	assert_int_equal(hash_b64_decode("aGVsbA=", 7, back, sizeof(back), &n),
	    -1);
	assert_int_equal(hash_b64_decode("aGVsbG9=", 8, back, sizeof(back), &n),
	    -1);
	assert_int_equal(hash_b64_decode("-_-_", 4, back, sizeof(back), &n), -1);
	assert_int_equal(hash_b64_decode("aG\0s", 4, back, sizeof(back), &n),
	    -1);
	/* output bound */
	assert_int_equal(hash_b64_decode("aGVsbG8=", 8, back, 4, &n), -1);
	assert_int_equal(hash_b64_decode("aGVsbG8=", 8, back, 5, &n), 0);
	assert_false(hash_is_hex64("BA7816bf"));
}

static void
test_atomic_write(void **state)
{
	char dir[] = "/tmp/wwtestXXXXXX", path[512], *data;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(util_mkdirs(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/file", dir);
	assert_int_equal(util_write_atomic(path, "data", 4), 0);
	assert_int_equal(util_read_file(path, 100, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(data, "data");
	free(data);
	assert_int_equal(util_read_file(path, 3, &data, &len), -1);
	assert_int_equal(errno, EFBIG);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	rmdir(dir);
}

static void
test_small_helpers(void **state)
{
	char big[200000], back[200000];
	int fds[2], status;
	ssize_t n;
	size_t got = 0;

	(void)state;
	assert_true(util_has_suffix("a-1.0.tar.gz", 12, ".tar.gz"));
	assert_false(util_has_suffix("a-1.0.tar.gz", 11, ".tar.gz"));
	assert_true(util_has_suffix("x.whl", 5, ".whl"));
	assert_false(util_has_suffix("whl", 3, ".whl"));
	assert_true(util_has_suffix("", 0, ""));
	assert_string_equal(util_base_name("/a/b/c.whl"), "c.whl");
	assert_string_equal(util_base_name("c.whl"), "c.whl");
	assert_string_equal(util_base_name("dir/"), "");
	{
		char u[] = "ok \xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf|\xff"
		    "\xc3|\xe0\x80\x80|\xf4\x90\x80\x80|\xed\xb0\x80|\xc3";

		assert_int_equal(util_utf8_scrub(u), 13);
		assert_string_equal(u, "ok \xc3\xa9 \xe2\x82\xac "
		    "\xf4\x8f\xbf\xbf|??|???|????|???|?");
	}
	{
		/* JSON text: never refused, never invalid, valid text kept. */
		json_t *j = util_json_text("msg: caf\xe9 \xc3\xa9 \xed\xa0\x80");
		char *d;

		assert_non_null(j);
		assert_string_equal(json_string_value(j),
		    "msg: caf? \xc3\xa9 ???");
		d = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
		assert_string_equal(d, "\"msg: caf? \\u00E9 ???\"");
		free(d);
		json_decref(j);
		j = util_json_text("plain \xe2\x82\xac");
		assert_string_equal(json_string_value(j), "plain \xe2\x82\xac");
		json_decref(j);
		j = util_json_text(NULL);
		assert_true(json_is_null(j));
		json_decref(j);
	}

	/* More than a pipe holds: short writes are continued. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		_exit(util_write_all(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while ((n = read(fds[0], back + got, sizeof(back) - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	assert_true(wait(&status) > 0 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	assert_int_equal(got, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	assert_int_equal(util_write_all(-1, "x", 1), -1);
	assert_int_equal(errno, EBADF);
}

static void
test_strv(void **state)
{
	struct strv s = { 0 }, b = { .max = 2 };
	size_t i;

	(void)state;
	assert_null(s.v);
	strv_free(&s);				/* empty: nothing to free */
	assert_int_equal(strv_add(&s, "libz.so.1"), 0);
	assert_int_equal(strv_addn(&s, "libm.so.6 and more", 9), 0);
	assert_int_equal(strv_addu(&s, "libz.so.1"), 0);	/* there */
	assert_int_equal(strv_addu(&s, "libc.so.6"), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0], "libz.so.1");
	assert_string_equal(s.v[1], "libm.so.6");
	assert_string_equal(s.v[2], "libc.so.6");
	assert_null(s.v[3]);			/* NULL-terminated */
	assert_true(strv_has(&s, "libm.so.6"));
	assert_false(strv_has(&s, "libm.so"));
	for (i = 0; i < 100; i++)		/* grows */
		assert_int_equal(strv_add(&s, "x"), 0);
	assert_int_equal(s.n, 103);
	assert_null(s.v[103]);
	strv_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);

	/* bounded */
	assert_int_equal(strv_add(&b, "a"), 0);
	assert_int_equal(strv_add(&b, "b"), 0);
	errno = 0;
	assert_int_equal(strv_add(&b, "c"), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(b.n, 2);
	strv_free(&b);
	assert_int_equal(b.max, 2);
}

static void
test_open_beneath(void **state)
{
	char dir[] = "/tmp/wwtestXXXXXX", p[600], q[600], got[8];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/root/a/b", dir);
	assert_int_equal(util_mkdirs(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/a/b/f.whl", dir);
	assert_int_equal(util_write_atomic(p, "public", 6), 0);
	snprintf(p, sizeof(p), "%s/private", dir);
	assert_int_equal(util_mkdirs(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/private/f.whl", dir);
	assert_int_equal(util_write_atomic(p, "secret", 6), 0);
	snprintf(p, sizeof(p), "%s/root", dir);

	fd = util_open_beneath(p, "a/b/f.whl", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, 6), 6);
	assert_memory_equal(got, "public", 6);
	close(fd);
	fd = util_open_beneath(p, "/a//b/./f.whl", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);

	/* A directory swapped for a symlink after the walk. */
	snprintf(q, sizeof(q), "%s/root/a/b", dir);
	snprintf(p, sizeof(p), "%s/root/a/b.old", dir);
	assert_int_equal(rename(q, p), 0);
	snprintf(p, sizeof(p), "%s/private", dir);
	assert_int_equal(symlink(p, q), 0);
	snprintf(p, sizeof(p), "%s/root", dir);
	errno = 0;
	assert_int_equal(util_open_beneath(p, "a/b/f.whl", O_RDONLY), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(unlink(q), 0);

	/* The file itself swapped for a symlink. */
	snprintf(p, sizeof(p), "%s/root/a/b.old", dir);
	assert_int_equal(rename(p, q), 0);
	snprintf(q, sizeof(q), "%s/root/a/b/f.whl", dir);
	assert_int_equal(unlink(q), 0);
	snprintf(p, sizeof(p), "%s/private/f.whl", dir);
	assert_int_equal(symlink(p, q), 0);
	snprintf(p, sizeof(p), "%s/root", dir);
	errno = 0;
	assert_int_equal(util_open_beneath(p, "a/b/f.whl", O_RDONLY), -1);
	assert_int_equal(errno, ELOOP);

	/* No way up, nothing empty. */
	assert_int_equal(util_open_beneath(p, "a/../../private/f.whl",
	    O_RDONLY), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(util_open_beneath(p, "", O_RDONLY), -1);
	assert_int_equal(util_open_beneath(p, "a/..", O_RDONLY), -1);

	unlink(q);
	snprintf(p, sizeof(p), "%s/private/f.whl", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/private", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/root/a/b", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/root/a", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/root", dir);
	rmdir(p);
	rmdir(dir);
}

static void
test_wwerr(void **state)
{
	struct wwerr e;

	(void)state;
	assert_int_equal(wwerr_set(&e, 7, "bad %s", "thing"), -1);
	assert_int_equal(e.code, 7);
	wwerr_prefix(&e, "file.whl");
	assert_string_equal(e.msg, "file.whl: bad thing");
	assert_int_equal(wwerr_set(NULL, 1, "x"), -1);
	assert_int_equal(util_ct_memcmp("abc", "abc", 3), 0);
	assert_int_not_equal(util_ct_memcmp("abc", "abd", 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_small_helpers),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_open_beneath),
		cmocka_unit_test(test_wwerr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
