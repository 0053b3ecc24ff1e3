/*
 * test_indexd_multipart.c: the streaming multipart/form-data parser, fed a
 * body shaped like twine's (requests-toolbelt) in every chunk size, plus
 * tricky payloads (partial delimiters in data) and malformed bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "indexd_multipart.h"

struct rec {
	struct buf	 log;	/* "B name|filename|ctype\n" "D..." "E\n" */
	struct buf	 cur;
	int		 fail_on_begin;
};

static int
rec_begin(const struct multipart_part *p, void *arg)
{
	struct rec *r = arg;

	if (r->fail_on_begin)
		return -1;
	buf_printf(&r->log, "B %s|%s|%s\n", p->name,
	    p->filename ? p->filename : "-",
	    p->content_type ? p->content_type : "-");
	buf_reset(&r->cur);
	return 0;
}

static int
rec_data(const void *d, size_t len, void *arg)
{
	struct rec *r = arg;

	return buf_add(&r->cur, d, len);
}

static int
rec_end(void *arg)
{
	struct rec *r = arg;

	buf_printf(&r->log, "D %zu:", r->cur.len);
	buf_add(&r->log, r->cur.ptr, r->cur.len);
	buf_addstr(&r->log, "\nE\n");
	return 0;
}

static const struct multipart_callbacks cbs = { rec_begin, rec_data,
    rec_end };

/* Parse body in chunks of `chunk` bytes; returns the event log. */
static int
run(const char *boundary, const void *body, size_t len, size_t chunk,
    struct rec *r, char *err, size_t errlen)
{
	struct multipart *m;
	size_t off, n;
	int rc = 0;

	buf_init(&r->log, 1 << 20);
	buf_init(&r->cur, 1 << 20);
	assert_int_equal(multipart_new(boundary, &cbs, r, &m), 0);
	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off < chunk ? len - off : chunk;
		rc = multipart_feed(m, (const char *)body + off, n);
	}
	if (rc == 0)
		rc = multipart_finish(m);
	if (err)
		snprintf(err, errlen, "%s", multipart_error(m));
	multipart_free(m);
	return rc;
}

static const char twine_body[] =
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\":action\"\r\n\r\n"
    "file_upload\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"name\"\r\n\r\n"
    "demo\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
    "line one\r\n--b0undar not a boundary\r\n\r\r\n-- b0undary\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"content\"; "
    "filename=\"demo-1.0-py3-none-any.whl\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "PK\x03\x04\r\n\r\n--b0undar\r--b0undaryX\0binary\r\n"
    "--b0undary--\r\n"
    "epilogue is ignored --b0undary\r\n";

static const char twine_log[] =
    "B :action|-|-\nD 11:file_upload\nE\n"
    "B name|-|-\nD 4:demo\nE\n"
    "B description|-|-\nD 50:line one\r\n--b0undar not a boundary\r\n"
    "\r\r\n-- b0undary\nE\n"
    "B content|demo-1.0-py3-none-any.whl|application/octet-stream\n"
    "D 36:PK\x03\x04\r\n\r\n--b0undar\r--b0undaryX\0binary\nE\n";

static void
test_every_chunk_size(void **state)
{
	struct rec r;
	size_t chunk, len = sizeof(twine_body) - 1;
	char err[256];

	(void)state;
	for (chunk = 1; chunk <= len; chunk++) {
		memset(&r, 0, sizeof(r));
		if (run("b0undary", twine_body, len, chunk, &r, err,
		    sizeof(err)) != 0)
			fail_msg("chunk %zu: %s", chunk, err);
		assert_int_equal(r.log.len, sizeof(twine_log) - 1);
		assert_memory_equal(r.log.ptr, twine_log, r.log.len);
		buf_free(&r.log);
		buf_free(&r.cur);
	}
}

static void
test_preamble_and_empty_parts(void **state)
{
	static const char body[] =
	    "this is a preamble\r\n--xx\r\n"
	    "Content-Disposition: form-data; name=empty\r\n\r\n"
	    "\r\n--xx  \t\r\n"
	    "content-disposition: FORM-DATA; name=\"q\\\"uoted\"; "
	    "filename=\"a b.txt\"\r\n\r\n\r\n--xx--";
	struct rec r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(run("xx", body, sizeof(body) - 1, 7, &r, NULL, 0),
	    0);
	assert_string_equal(r.log.ptr, "B empty|-|-\nD 0:\nE\n"
	    "B q\"uoted|a b.txt|-\nD 0:\nE\n");
	buf_free(&r.log);
	buf_free(&r.cur);
}

static void
expect_error(const char *boundary, const char *body, const char *want)
{
	struct rec r;
	char err[256];
	size_t chunk;

	for (chunk = 1; chunk <= strlen(body) + 1; chunk += 5) {
		memset(&r, 0, sizeof(r));
		assert_int_equal(run(boundary, body, strlen(body), chunk, &r,
		    err, sizeof(err)), -1);
		if (strstr(err, want) == NULL)
			fail_msg("body %s: error \"%s\", want \"%s\"", body, err,
			    want);
		buf_free(&r.log);
		buf_free(&r.cur);
	}
}

static void
test_malformed(void **state)
{
	char big[MULTIPART_MAX_HEADER + 200];

	(void)state;
	expect_error("xx", "", "no multipart boundary");
	expect_error("xx", "no boundary at all", "no multipart boundary");
	expect_error("xx", "--xx\r\nContent-Disposition: form-data; "
	    "name=a\r\n\r\ndata without end", "before the closing");
	expect_error("xx", "--xx\r\nContent-Disposition: form-data; "
	    "name=a\r\n\r\ndata\r\n--xx", "before the closing");
	expect_error("xx", "--xxGARBAGE\r\n", "garbage after a boundary");
	expect_error("xx", "--xx-x", "garbage after a boundary");
	expect_error("xx", "--xx\rX", "CR without LF");
	expect_error("xx", "--xx\r\nContent-Type: text/plain\r\n\r\nx\r\n"
	    "--xx--", "without Content-Disposition");
	expect_error("xx", "--xx\r\nContent-Disposition: attachment; "
	    "name=a\r\n\r\nx\r\n--xx--", "not form-data");
	expect_error("xx", "--xx\r\nContent-Disposition: form-data; "
	    "filename=a\r\n\r\nx\r\n--xx--", "without a field name");
	expect_error("xx", "--xx\r\nContent-Disposition: form-data; "
	    "name=\"unterminated\r\n\r\nx\r\n--xx--", "malformed Content");
	expect_error("xx", "--xx\r\nno colon here\r\n\r\nx\r\n--xx--",
	    "without ':'");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "--xx\r\nX-Long: ", 14);
	expect_error("xx", big, "header block too large");
}

static void
test_callback_stop(void **state)
{
	struct rec r;
	char err[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.fail_on_begin = 1;
	assert_int_equal(run("b0undary", twine_body, sizeof(twine_body) - 1,
	    64, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rejected by the handler"));
	buf_free(&r.log);
	buf_free(&r.cur);
}

static void
test_boundary_param(void **state)
{
	char b[MULTIPART_MAX_BOUNDARY + 8];

	(void)state;
	assert_int_equal(multipart_boundary("multipart/form-data; "
	    "boundary=abc123", b, sizeof(b)), 0);
	assert_string_equal(b, "abc123");
	assert_int_equal(multipart_boundary("Multipart/Form-Data;charset=utf-8;"
	    " BOUNDARY=\"with space'()+_,-./:=?\"", b, sizeof(b)), 0);
	assert_string_equal(b, "with space'()+_,-./:=?");
	assert_int_equal(multipart_boundary("multipart/form-data; "
	    "boundary=abc; x=y", b, sizeof(b)), 0);
	assert_string_equal(b, "abc");
	/* not form-data, no boundary, bad characters, too long */
	assert_int_equal(multipart_boundary("multipart/mixed; boundary=a", b,
	    sizeof(b)), -1);
	assert_int_equal(multipart_boundary("multipart/form-data", b,
	    sizeof(b)), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; "
	    "boundary=\"\"", b, sizeof(b)), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; "
	    "boundary=\"a\r\nb\"", b, sizeof(b)), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary="
	    "\"ends in space \"", b, sizeof(b)), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary="
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa", b, sizeof(b)), -1);
	assert_int_equal(multipart_boundary(NULL, b, sizeof(b)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunk_size),
		cmocka_unit_test(test_preamble_and_empty_parts),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_boundary_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
