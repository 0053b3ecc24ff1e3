/*
 * test_indexd_auth.c: Basic credentials and API-token checks against a
 * real SQLite catalog in a temp dir (tokens created, scoped, revoked).
 */
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
#include "indexd_auth.h"
#include "util.h"

static void
test_basic(void **state)
{
	char u[64], p[64];

	(void)state;
	/* "__token__:ww-secret" */
	assert_int_equal(auth_parse_basic("Basic X190b2tlbl9fOnd3LXNlY3JldA==",
	    u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(u, "__token__");
	assert_string_equal(p, "ww-secret");
	assert_int_equal(auth_parse_basic("basic   X190b2tlbl9fOnd3LXNlY3JldA "
	    " ", u, sizeof(u), p, sizeof(p)), 0);
	assert_string_equal(p, "ww-secret");
	/* "a:b:c": the password may contain ':' */
	assert_int_equal(auth_parse_basic("Basic YTpiOmM=", u, sizeof(u), p,
	    sizeof(p)), 0);
	assert_string_equal(u, "a");
	assert_string_equal(p, "b:c");
	/* no colon; other schemes; garbage; NUL inside ("a\0:b") */
	assert_int_equal(auth_parse_basic("Basic YWJj", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(auth_parse_basic("Bearer abc", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(auth_parse_basic("Basic", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(auth_parse_basic("Basic !!!!", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(auth_parse_basic("Basic YQA6Yg==", u, sizeof(u), p,
	    sizeof(p)), -1);
	assert_int_equal(auth_parse_basic(NULL, u, sizeof(u), p, sizeof(p)),
	    -1);
	/* too long for the caller's buffers */
	assert_int_equal(auth_parse_basic("Basic X190b2tlbl9fOnd3LXNlY3JldA==",
	    u, 4, p, sizeof(p)), -1);
}

/* Basic header for __token__:secret */
static void
basic_for(const char *user, const char *secret, char *out, size_t outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
	    "rstuvwxyz0123456789+/";
	char raw[512];
	size_t n, i, o;

	n = (size_t)snprintf(raw, sizeof(raw), "%s:%s", user, secret);
	o = (size_t)snprintf(out, outlen, "Basic ");
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)raw[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
test_tokens(void **state)
{
	char dir[512], path[600], hdr[600];
	char *up = NULL, *sub = NULL, *proj = NULL, *adm = NULL;
	const char *tmp = getenv("WW_TEST_TMP");
	struct catalog *c;
	struct auth_result r;
	struct wwerr err;
	const unsigned upload = (1u << TOKEN_UPLOAD) | (1u << TOKEN_ADMIN);

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_indexd_auth.XXXXXX",
	    tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/catalog.sqlite", dir);
	assert_int_equal(catalog_open(path, 0, &c, &err), 0);
	assert_int_equal(catalog_token_create(c, "ci", TOKEN_UPLOAD, NULL, &up,
	    &err), 0);
	assert_int_equal(catalog_token_create(c, "agent", TOKEN_SUBMIT, NULL,
	    &sub, &err), 0);
	assert_int_equal(catalog_token_create(c, "only-demo", TOKEN_UPLOAD,
	    "demo", &proj, &err), 0);
	assert_int_equal(catalog_token_create(c, "root", TOKEN_ADMIN, NULL,
	    &adm, &err), 0);

	assert_int_equal(auth_check(c, NULL, upload, &r, &err), 0);
	assert_int_equal(r.status, 401);
	assert_int_equal(auth_check(c, "Bearer x", upload, &r, &err), 0);
	assert_int_equal(r.status, 401);

	basic_for("__token__", up, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.token_name, "ci");
	assert_string_equal(r.project, "");
	assert_int_equal(r.scope, TOKEN_UPLOAD);

	basic_for("__token__", adm, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 0);

	basic_for("__token__", proj, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.project, "demo");

	/* out of scope */
	basic_for("__token__", sub, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.reason, "submit"));

	/* right secret, wrong user name; wrong secret */
	basic_for("admin", up, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 403);
	basic_for("__token__", "ww-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.reason, "invalid"));

	/* revoked */
	assert_int_equal(catalog_token_revoke(c, "ci", &err), 0);
	basic_for("__token__", up, hdr, sizeof(hdr));
	assert_int_equal(auth_check(c, hdr, upload, &r, &err), 0);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.reason, "revoked"));

	free(up);
	free(sub);
	free(proj);
	free(adm);
	catalog_close(c);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.sqlite-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.sqlite-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
