/*
 * test_indexd_cache.c: indexd's page cache (LRU bound, refcounts that
 * outlive eviction, file-backed big pages, content ETags), the file-facts
 * cache, metrics exposition summed over worker slots, and access-log
 * lines (combined format, hostile strings escaped).
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "indexd_accesslog.h"
#include "indexd_cache.h"
#include "indexd_metrics.h"

static void
test_lru_and_refs(void **state)
{
	struct page_cache *c;
	struct page *a, *b, *p, *held;
	struct cache_stats st;
	char body[1000];

	(void)state;
	memset(body, 'x', sizeof(body));
	/* room for about three 1000-byte pages */
	assert_int_equal(page_cache_new(3500, 100, NULL, &c), 0);
	a = page_new(c, body, sizeof(body), 1);
	page_cache_put(c, "h:a", a);
	page_unref(a);
	b = page_new(c, body, sizeof(body), 2);
	page_cache_put(c, "h:b", b);
	page_unref(b);
	/* a response holds "a" while it is evicted */
	held = page_cache_get(c, "h:a");
	assert_non_null(held);
	assert_int_equal(held->gen, 1);
	p = page_new(c, body, sizeof(body), 3);
	page_cache_put(c, "h:c", p);
	page_unref(p);
	p = page_new(c, body, sizeof(body), 4);
	page_cache_put(c, "h:d", p);	/* evicts the least recent: b */
	page_unref(p);
	assert_null(page_cache_get(c, "h:b"));
	p = page_cache_get(c, "h:a");
	assert_ptr_equal(p, held);
	page_unref(p);
	/* replacing a key keeps the held page alive and readable */
	p = page_new(c, "new", 3, 9);
	page_cache_put(c, "h:a", p);
	page_unref(p);
	assert_int_equal(held->len, sizeof(body));
	assert_int_equal(held->body[999], 'x');
	page_release_cb(held->body, held->len, held);	/* what a response does */
	p = page_cache_get(c, "h:a");
	assert_int_equal(p->gen, 9);
	page_unref(p);
	page_cache_stats(c, &st);
	assert_true(st.page_bytes <= 3500);
	assert_true(st.evictions >= 1);
	assert_true(st.hits >= 3);
	/* a page bigger than half the cache is not kept */
	{
		char *big = calloc(1, 3000);
		p = page_new(c, big, 3000, 1);
		page_cache_put(c, "h:big", p);
		page_unref(p);
		assert_null(page_cache_get(c, "h:big"));
		free(big);
	}
	page_cache_set_max(c, 0);
	page_cache_stats(c, &st);
	assert_int_equal(st.pages, 0);
	page_cache_free(c);
}

static void
test_big_pages_and_etags(void **state)
{
	struct page_cache *c;
	struct page *p, *q;
	char *body, got[64];
	const char *tmp = getenv("WW_TEST_TMP");
	char dir[512];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp");
	assert_int_equal(page_cache_new(1 << 24, 100, dir, &c), 0);
	body = malloc(PAGE_FD_MIN + 100);
	memset(body, 'y', PAGE_FD_MIN + 100);
	p = page_new(c, body, PAGE_FD_MIN + 100, 1);
	assert_non_null(p);
	assert_true(p->fd != -1);		/* big: in a file */
	assert_null(p->body);
	assert_int_equal(fstat(p->fd, &st), 0);
	assert_int_equal(st.st_size, PAGE_FD_MIN + 100);
	assert_int_equal(pread(p->fd, got, 4, PAGE_FD_MIN), 4);
	assert_memory_equal(got, "yyyy", 4);
	/* the ETag is the content's: equal bytes, equal tag */
	q = page_new(c, body, PAGE_FD_MIN + 100, 2);
	assert_string_equal(p->etag, q->etag);
	page_unref(q);
	body[5] = 'z';
	q = page_new(c, body, PAGE_FD_MIN + 100, 1);
	assert_string_not_equal(p->etag, q->etag);
	assert_int_equal(p->etag[0], '"');
	page_unref(q);
	page_unref(p);
	q = page_new(c, "small", 5, 1);
	assert_int_equal(q->fd, -1);
	assert_memory_equal(q->body, "small", 5);
	page_unref(q);
	free(body);
	page_cache_free(c);
}

static void
test_fileinfo(void **state)
{
	struct page_cache *c;
	struct fileinfo fi, got;
	const char *names[3] = { "a-1.0.tar.gz", "b-1.0.tar.gz", "c.whl" };
	struct fileinfo many[3];
	char name[32];
	int i;

	(void)state;
	assert_int_equal(page_cache_new(1 << 20, 4, NULL, &c), 0);
	memset(&fi, 0, sizeof(fi));
	fi.size = 42;
	fi.sha256[0] = 0xab;
	fileinfo_put(c, "x-1.0.tar.gz", &fi);
	assert_int_equal(fileinfo_get(c, "x-1.0.tar.gz", &got), 1);
	assert_int_equal(got.size, 42);
	assert_int_equal(got.sha256[0], 0xab);
	assert_int_equal(fileinfo_get(c, "y", &got), 0);
	memset(many, 0, sizeof(many));
	for (i = 0; i < 3; i++)
		many[i].size = (uint64_t)i;
	fileinfo_put_many(c, names, many, 3);
	assert_int_equal(fileinfo_get(c, "c.whl", &got), 1);
	assert_int_equal(got.size, 2);
	/* bounded: past the cap it starts over, and stays correct */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fi.size = (uint64_t)i;
		fileinfo_put(c, name, &fi);
		assert_int_equal(fileinfo_get(c, name, &got), 1);
		assert_int_equal(got.size, (uint64_t)i);
	}
	page_cache_free(c);
}

static void
test_metrics(void **state)
{
	struct metrics *m;
	struct metrics_gauges g;
	struct buf b;

	(void)state;
	assert_int_equal(metrics_new(2, &m), 0);
	metrics_request(m, 0, ROUTE_PROJECT, 200, 100, 300);
	metrics_request(m, 1, ROUTE_PROJECT, 200, 50, 2000000);
	metrics_request(m, 1, ROUTE_FILE, 416, 10, 10);
	metrics_request(m, 7, -1, 999, 1, 1);	/* bad slot/route/status */
	metrics_upload(m, 1, UPLOAD_ADDED);
	memset(&g, 0, sizeof(g));
	g.have_catalog = 1;
	g.catalog.projects = 3;
	g.catalog.files = 30;
	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(m, &g, &b), 0);
	assert_non_null(strstr(b.ptr, "indexd_requests_total{route=\"project\","
	    "status=\"200\"} 2\n"));
	assert_non_null(strstr(b.ptr, "indexd_requests_total{route=\"file\","
	    "status=\"416\"} 1\n"));
	assert_non_null(strstr(b.ptr, "indexd_requests_total{route=\"other\","
	    "status=\"0\"} 1\n"));
	assert_non_null(strstr(b.ptr, "indexd_sent_bytes_total{route=\"project"
	    "\"} 150\n"));
	assert_non_null(strstr(b.ptr, "indexd_request_duration_seconds_bucket{"
	    "route=\"project\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(b.ptr, "indexd_request_duration_seconds_bucket{"
	    "route=\"project\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(b.ptr, "indexd_uploads_total{result=\"added\"} "
	    "1\n"));
	assert_non_null(strstr(b.ptr, "indexd_catalog_files 30\n"));
	buf_free(&b);
	metrics_free(m);
}

static void
test_accesslog_format(void **state)
{
	struct http_log_entry e;
	struct accesslog_clock clk = { -1, "" };
	struct buf b;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.peer = "127.0.0.1";
	e.method = "GET";
	e.target = "/simple/x/?a=\"b\"";
	e.version = "HTTP/1.1";
	e.user_agent = "evil\"\n\\ua\x01";
	e.status = 200;
	e.body_bytes = 1234;
	e.start_us = 1700000000LL * 1000000;
	buf_init(&b, 4096);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(accesslog_format(&b, &e, &clk), 0);
	assert_string_equal(b.ptr, "127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] "
	    "\"GET /simple/x/?a=\\x22b\\x22 HTTP/1.1\" 200 1234 \"-\" "
	    "\"evil\\x22\\x0A\\x5Cua\\x01\"\n");
	/* no request line (a request that never parsed), a user */
	buf_reset(&b);
	e.method = e.target = e.version = NULL;
	e.user = "ci";
	e.status = 400;
	assert_int_equal(accesslog_format(&b, &e, &clk), 0);
	assert_non_null(strstr(b.ptr, " - ci [14/Nov/2023:22:13:20 +0000] "
	    "\"-\" 400 1234 "));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru_and_refs),
		cmocka_unit_test(test_big_pages_and_etags),
		cmocka_unit_test(test_fileinfo),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_accesslog_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
