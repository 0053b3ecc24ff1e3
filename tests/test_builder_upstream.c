/*
 * test_builder_upstream.c: unit tests for upstream indexes. The parsers
 * get real-shaped and hostile PEP 691 JSON and PEP 503 HTML; the HTTP
 * client talks to a real server on 127.0.0.1 (tests/lib/upstream_server.py)
 * that negotiates JSON/HTML, sends ETags and 304s, and misbehaves on
 * purpose (503s, stalls, oversized pages, going down, redirects); dir:
 * upstreams read a real directory tree.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "hash.h"
#include "upstream.h"
#include "util.h"

static char tmpdir[PATH_MAX];

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int
group_setup(void **state)
{
	const char *base = getenv("WW_TEST_TMP");

	(void)state;
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_upstream.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	curl_global_cleanup();
	return 0;
}

static const struct upstream_file *
find_file(const struct upstream_page *p, const char *filename)
{
	size_t i;

	for (i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].filename, filename))
			return &p->files[i];
	return NULL;
}

static struct upstream_page *
parse(int json, const char *project, const char *url, const char *body)
{
	struct upstream_page *p = NULL;
	struct wwerr err;
	int rc;

	if (json)
		rc = upstream_parse_json(project, url, body, strlen(body), &p,
		    &err);
	else
		rc = upstream_parse_html(project, url, body, strlen(body), &p,
		    &err);
	if (rc == -1)
		fail_msg("parse: %s", err.msg);
	return p;
}

#define H64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H64B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define H64b "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
test_json_parse(void **state)
{
	const char *page =
	    "{\"meta\": {\"api-version\": \"1.1\"}, \"name\": \"Foo.Bar\","
	    " \"files\": ["
	    /* relative URL, hash, requires-python, size, metadata */
	    "{\"filename\": \"foo_bar-1.0.tar.gz\","
	    " \"url\": \"../../files/foo_bar-1.0.tar.gz\","
	    " \"hashes\": {\"sha256\": \"" H64B "\", \"md5\": \"x\"},"
	    " \"requires-python\": \">=3.8\", \"size\": 1234,"
	    " \"core-metadata\": {\"sha256\": \"" H64A "\"}},"
	    /* yanked with a reason, absolute URL, legacy metadata key */
	    "{\"filename\": \"Foo.Bar-2.0-py3-none-any.whl\","
	    " \"url\": \"https://files.example/p/Foo.Bar-2.0-py3-none-any.whl\","
	    " \"hashes\": {}, \"yanked\": \"broken build\","
	    " \"dist-info-metadata\": true},"
	    /* yanked true; "" is not yanked (as pip) */
	    "{\"filename\": \"foo-bar-3.0.tar.gz\", \"url\": \"foo-bar-3.0.tar.gz\","
	    " \"hashes\": {}, \"yanked\": true},"
	    "{\"filename\": \"foo-bar-3.1.zip\", \"url\": \"foo-bar-3.1.zip\","
	    " \"hashes\": {}, \"yanked\": \"\"},"
	    /* not ours: other project, egg, javascript:, file:, bad hash,
	     * filename disagreeing with the URL, missing hashes */
	    "{\"filename\": \"other-1.0.tar.gz\", \"url\": \"other-1.0.tar.gz\","
	    " \"hashes\": {}},"
	    "{\"filename\": \"foo_bar-1.0-py2.7.egg\","
	    " \"url\": \"foo_bar-1.0-py2.7.egg\", \"hashes\": {}},"
	    "{\"filename\": \"foo_bar-4.0.tar.gz\","
	    " \"url\": \"javascript:alert(1)//foo_bar-4.0.tar.gz\", \"hashes\": {}},"
	    "{\"filename\": \"foo_bar-4.0.tar.gz\","
	    " \"url\": \"file:///etc/foo_bar-4.0.tar.gz\", \"hashes\": {}},"
	    "{\"filename\": \"foo_bar-5.0.tar.gz\", \"url\": \"foo_bar-5.0.tar.gz\","
	    " \"hashes\": {\"sha256\": \"xyz\"}},"
	    "{\"filename\": \"foo_bar-6.0.tar.gz\", \"url\": \"foo_bar-7.0.tar.gz\","
	    " \"hashes\": {}},"
	    "{\"filename\": \"foo_bar-8.0.tar.gz\", \"url\": \"foo_bar-8.0.tar.gz\"},"
	    "42, null"
	    "]}";
	struct upstream_page *p;
	const struct upstream_file *f;

	(void)state;
	p = parse(1, "foo-bar", "https://idx.example/simple/foo-bar/", page);
	assert_int_equal(p->format, UPSTREAM_FMT_JSON);
	assert_string_equal(p->project, "foo-bar");
	assert_int_equal(p->nfiles, 4);
	assert_int_equal(p->nskipped, 9);

	assert_non_null(f = find_file(p, "foo_bar-1.0.tar.gz"));
	assert_string_equal(f->url,
	    "https://idx.example/files/foo_bar-1.0.tar.gz");
	assert_int_equal(f->kind, 's');
	assert_string_equal(f->version, "1.0");
	assert_string_equal(f->sha256, H64b);
	assert_string_equal(f->requires_python, ">=3.8");
	assert_int_equal(f->size, 1234);
	assert_true(f->has_metadata);
	assert_string_equal(f->metadata_sha256, H64A);
	assert_false(f->yanked);

	assert_non_null(f = find_file(p, "Foo.Bar-2.0-py3-none-any.whl"));
	assert_int_equal(f->kind, 'w');
	assert_string_equal(f->version, "2.0");
	assert_string_equal(f->sha256, "");
	assert_true(f->yanked);
	assert_string_equal(f->yanked_reason, "broken build");
	assert_true(f->has_metadata);
	assert_string_equal(f->metadata_sha256, "");
	assert_int_equal(f->size, -1);
	assert_null(f->requires_python);

	assert_non_null(f = find_file(p, "foo-bar-3.0.tar.gz"));
	assert_true(f->yanked);
	assert_null(f->yanked_reason);
	assert_string_equal(f->url,
	    "https://idx.example/simple/foo-bar/foo-bar-3.0.tar.gz");
	assert_non_null(f = find_file(p, "foo-bar-3.1.zip"));
	assert_false(f->yanked);
	upstream_page_free(p);
}

static void
test_json_errors(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"files\": []}",
		"{\"meta\": {\"api-version\": \"2.0\"}, \"files\": []}",
		"{\"meta\": {\"api-version\": 1}, \"files\": []}",
		"{\"meta\": {\"api-version\": \"1.0\"}}",
		"{\"meta\": {\"api-version\": \"1.0\"}, \"files\": {}}",
		"{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [",
	};
	struct upstream_page *p;
	struct wwerr err;
	size_t i;

	(void)state;
	for (i = 0; i < WW_ARRLEN(bad); i++) {
		p = (struct upstream_page *)1;
		assert_int_equal(upstream_parse_json("x", "http://h/simple/x/",
		    bad[i], strlen(bad[i]), &p, &err), -1);
		assert_null(p);
		assert_int_equal(err.code, UPSTREAM_E_PARSE);
		assert_non_null(strstr(err.msg, "http://h/simple/x/"));
	}
	/* The page URL itself must be http(s). */
	assert_int_equal(upstream_parse_json("x", "file:///x", "{}", 2, &p,
	    &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_ARG);
	/* An empty file list is a valid page. */
	p = parse(1, "x", "http://h/simple/x/",
	    "{\"meta\": {\"api-version\": \"1.0\"}, \"files\": []}");
	assert_int_equal(p->nfiles, 0);
	upstream_page_free(p);
}

static void
test_html_parse(void **state)
{
	const char *page =
	    "<!DOCTYPE html>\n<html><head><title>Links for pkg</title>"
	    "<script>document.write('<a href=\"pkg-9.0.tar.gz\">x</a>')</script>"
	    "</head><body>\n"
	    "<!-- <a href=\"pkg-8.0.tar.gz\">commented out</a> -->\n"
	    /* relative with hash, escaped requires-python */
	    "<a href=\"../../files/pkg-1.0.tar.gz#sha256=" H64B "\""
	    " data-requires-python=\"&gt;=3.7,&lt;4&#x2c;!=3.9.*\">pkg-1.0.tar.gz</a><br/>\n"
	    /* upper case, single quotes, yanked with an entity in the reason,
	     * PEP 714 metadata with a hash */
	    "<A HREF='https://cdn.example/x/pkg-1.1-py3-none-any.whl#md5=abc'"
	    " DATA-YANKED='bad &amp; broken' data-core-metadata=\"sha256=" H64A "\">"
	    "pkg-1.1-py3-none-any.whl</A>\n"
	    /* valueless data-yanked still means yanked (PEP 592); unquoted
	     * attribute; legacy metadata attribute */
	    "<a href=pkg-1.2.tar.gz data-yanked data-dist-info-metadata=true>x</a>\n"
	    /* percent-encoded filename, duplicate href: the last one wins */
	    "<a href=\"nope-1.0.tar.gz\" href=\"/p/pkg%2D1.3.tar.gz\">x</a>\n"
	    /* protocol-relative */
	    "<a href=\"//mirror.example/pkg-1.4.zip\">x</a>\n"
	    /* not ours */
	    "<a href=\"other-1.0.tar.gz\">other</a>\n"
	    "<a href=\"javascript:void(0)\">js</a>\n"
	    "<a href=\"data:text/plain,pkg-2.0.tar.gz\">data</a>\n"
	    "<a href=\"pkg-1.5.tar.gz%00.whl\">nul</a>\n"
	    "<a name=\"anchor\">no href</a>\n"
	    "<a href=\"\">empty</a>\n"
	    "</body></html>\n";
	struct upstream_page *p;
	const struct upstream_file *f;

	(void)state;
	p = parse(0, "pkg", "https://idx.example/simple/pkg/", page);
	assert_int_equal(p->format, UPSTREAM_FMT_HTML);
	assert_int_equal(p->nfiles, 5);

	assert_non_null(f = find_file(p, "pkg-1.0.tar.gz"));
	assert_string_equal(f->url, "https://idx.example/files/pkg-1.0.tar.gz");
	assert_string_equal(f->sha256, H64b);
	assert_string_equal(f->requires_python, ">=3.7,<4,!=3.9.*");
	assert_false(f->yanked);
	assert_false(f->has_metadata);

	assert_non_null(f = find_file(p, "pkg-1.1-py3-none-any.whl"));
	assert_string_equal(f->url,
	    "https://cdn.example/x/pkg-1.1-py3-none-any.whl");
	assert_string_equal(f->sha256, "");	/* md5 is not used */
	assert_true(f->yanked);
	assert_string_equal(f->yanked_reason, "bad & broken");
	assert_true(f->has_metadata);
	assert_string_equal(f->metadata_sha256, H64A);

	assert_non_null(f = find_file(p, "pkg-1.2.tar.gz"));
	assert_true(f->yanked);
	assert_null(f->yanked_reason);
	assert_true(f->has_metadata);
	assert_string_equal(f->url,
	    "https://idx.example/simple/pkg/pkg-1.2.tar.gz");

	assert_non_null(f = find_file(p, "pkg-1.3.tar.gz"));
	assert_string_equal(f->url, "https://idx.example/p/pkg%2D1.3.tar.gz");
	assert_non_null(f = find_file(p, "pkg-1.4.zip"));
	assert_string_equal(f->url, "https://mirror.example/pkg-1.4.zip");
	assert_null(find_file(p, "pkg-9.0.tar.gz"));
	assert_null(find_file(p, "pkg-8.0.tar.gz"));
	upstream_page_free(p);

	/* <base href> changes what relative links resolve against. */
	p = parse(0, "pkg", "https://idx.example/simple/pkg/",
	    "<html><head><base href=\"https://files.example/root/\">"
	    "<base href=\"https://ignored.example/\"></head>"
	    "<a href=\"pkg-1.0.tar.gz\">pkg-1.0.tar.gz</a>");
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].url,
	    "https://files.example/root/pkg-1.0.tar.gz");
	upstream_page_free(p);
}

/* Hostile HTML must never crash, hang or invent files. */
static void
test_html_hostile(void **state)
{
	static const char *const pages[] = {
		"<", "<a", "<a href", "<a href=", "<a href=\"", "<a href='pkg-1.0.tar.gz",
		"<a href=\"pkg-1.0.tar.gz\"", "<!--", "<!-- <a href=pkg-1.0.tar.gz>",
		"<script><a href=pkg-1.0.tar.gz>", "&#", "&#x", "&#99999999999999;",
		"<a href=\"pkg-1.0.tar.gz#sha256=zz\">", "<<<<<<<<a href=pkg-1.0.tar.gz>",
		"<a href=\"&#0;pkg-1.0.tar.gz\">", "<a href=\"http://[::1\">",
		"<a href=\"http://exa mple.com/pkg-1.0.tar.gz\">",
		"<a href=\"pkg-1.0.tar.gz\x01\">", "<a\x00href=pkg-1.0.tar.gz>",
		"<a href=\"../../../../../../etc/pkg-1.0.tar.gz\">",
		"<a href=\"pkg-1.0.tar.gz/\">", "<a href=\"?pkg-1.0.tar.gz\">",
	};
	struct upstream_page *p;
	struct wwerr err;
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < WW_ARRLEN(pages); i++) {
		/* Include the NUL of the "\x00" case: lengths are explicit. */
		size_t len = strlen(pages[i]);
		if (i == 19)
			len = 24;
		assert_int_equal(upstream_parse_html("pkg",
		    "https://idx.example/simple/pkg/", pages[i], len, &p, &err),
		    0);
		if (p->nfiles > 1)
			fail_msg("page %zu: %zu files", i, p->nfiles);
		if (p->nfiles == 1) {
			if (strcmp(p->files[0].filename, "pkg-1.0.tar.gz"))
				fail_msg("page %zu: %s", i, p->files[0].filename);
			assert_int_equal(strncmp(p->files[0].url, "https://", 8),
			    0);
			assert_string_equal(p->files[0].sha256, "");
		}
		upstream_page_free(p);
	}
	/* A traversal-looking link resolves inside the URL space, and the
	 * filename is only ever the last path component. */
	p = parse(0, "pkg", "https://idx.example/simple/pkg/",
	    "<a href=\"../../../../../../etc/pkg-1.0.tar.gz\">x</a>");
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].url,
	    "https://idx.example/etc/pkg-1.0.tar.gz");
	upstream_page_free(p);

	/* Megabytes of unclosed tags and a huge attribute: bounded work,
	 * the oversized attribute skipped. */
	buf_init(&b, 16 << 20);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_addstr(&b, "<a href=pkg-1.0.tar.gz "), 0);
	assert_int_equal(upstream_parse_html("pkg", "https://i/simple/pkg/",
	    b.ptr, b.len, &p, &err), 0);
	assert_int_equal(p->nfiles, 0);	/* never closed: no tag at all */
	upstream_page_free(p);
	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "<a data-requires-python=\""), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_addstr(&b, ">=3.8 "), 0);
	assert_int_equal(buf_addstr(&b, "\" href=\"pkg-1.0.tar.gz\">x</a>"
	    "<a href=\"pkg-"), 0);
	for (i = 0; i < 70000; i++)
		assert_int_equal(buf_addc(&b, '1'), 0);
	assert_int_equal(buf_addstr(&b, ".tar.gz\">x</a>"), 0);
	assert_int_equal(upstream_parse_html("pkg", "https://i/simple/pkg/",
	    b.ptr, b.len, &p, &err), 0);
	assert_int_equal(p->nfiles, 1);
	assert_null(p->files[0].requires_python);
	upstream_page_free(p);
	/* Many valid links: all of them, quickly. */
	buf_reset(&b);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_printf(&b, "<a href=\"pkg-1.%zu.tar.gz\">x"
		    "</a>\n", i), 0);
	assert_int_equal(upstream_parse_html("pkg", "https://i/simple/pkg/",
	    b.ptr, b.len, &p, &err), 0);
	assert_int_equal(p->nfiles, 20000);
	upstream_page_free(p);
	buf_free(&b);
}

/* --- dir: upstreams ------------------------------------------------------ */

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_dir_upstream(void **state)
{
	struct config_upstream cu;
	struct upstream *u;
	struct upstream_page *p;
	const struct upstream_file *f;
	char dir[PATH_MAX], path[PATH_MAX], dest[PATH_MAX];
	char hex[HASH_SHA256_HEXLEN], want[HASH_SHA256_HEXLEN];
	unsigned char d[HASH_SHA256_LEN];
	struct wwerr err;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/dirup", tmpdir);
	assert_int_equal(util_mkdirs(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/Flat_Pkg-1.0.tar.gz", dir);
	write_file(path, "sdist bytes");
	snprintf(path, sizeof(path), "%s/flat_pkg-1.1-py3-none-any.whl", dir);
	write_file(path, "wheel bytes");
	snprintf(path, sizeof(path), "%s/other-2.0.tar.gz", dir);
	write_file(path, "other");
	snprintf(path, sizeof(path), "%s/.flat_pkg-9.0.tar.gz", dir);
	write_file(path, "hidden");
	snprintf(path, sizeof(path), "%s/flat_pkg-junk.txt", dir);
	write_file(path, "junk");
	/* One subdirectory per project, named in any spelling. */
	snprintf(path, sizeof(path), "%s/Sub.Pkg", dir);
	assert_int_equal(util_mkdirs(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/Sub.Pkg/sub_pkg-3.0.zip", dir);
	write_file(path, "zip bytes");
	snprintf(path, sizeof(path), "%s/Sub.Pkg/flat_pkg-7.0.tar.gz", dir);
	write_file(path, "misfiled");

	memset(&cu, 0, sizeof(cu));
	util_strlcpy(cu.name, "local", sizeof(cu.name));
	snprintf(cu.url, sizeof(cu.url), "dir:%s", dir);
	cu.timeout = 5;
	if (upstream_open(&cu, NULL, &u, &err) == -1)
		fail_msg("open: %s", err.msg);
	assert_int_equal(upstream_get_project(u, "FLAT-PKG", 0, &p, &err), 0);
	assert_int_equal(p->format, UPSTREAM_FMT_DIR);
	assert_int_equal(p->source, UPSTREAM_LOCAL);
	assert_string_equal(p->upstream, "local");
	assert_int_equal(p->nfiles, 2);
	assert_non_null(f = find_file(p, "Flat_Pkg-1.0.tar.gz"));
	assert_int_equal(f->kind, 's');
	assert_int_equal(f->size, 11);
	snprintf(path, sizeof(path), "%s/Flat_Pkg-1.0.tar.gz", dir);
	assert_string_equal(f->url, path);

	/* Download: copied atomically, hashed. */
	snprintf(dest, sizeof(dest), "%s/fetched.tar.gz", tmpdir);
	assert_int_equal(upstream_download(u, f, dest, 1024, hex, &err), 0);
	hash_sha256_mem("sdist bytes", 11, d);
	hash_hex(d, sizeof(d), want);
	assert_string_equal(hex, want);
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_size, 11);
	unlink(dest);
	/* Over the limit: refused, nothing left behind. */
	assert_int_equal(upstream_download(u, f, dest, 5, hex, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_TOOBIG);
	assert_int_equal(stat(dest, &st), -1);
	upstream_page_free(p);

	assert_int_equal(upstream_get_project(u, "sub-pkg", 0, &p, &err), 0);
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].filename, "sub_pkg-3.0.zip");
	assert_int_equal(p->nskipped, 1);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "absent", 0, &p, &err), 1);
	assert_null(p);
	assert_int_equal(upstream_get_project(u, "no good!", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_ARG);

	/* New files show up without reopening. */
	sleep(0);
	snprintf(path, sizeof(path), "%s/absent-1.0.tar.gz", dir);
	write_file(path, "new");
	{
		struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
		/* Make sure the directory mtime moves even on coarse clocks. */
		ts[1].tv_sec = time(NULL) + 5;
		ts[1].tv_nsec = 0;
		assert_int_equal(utimensat(AT_FDCWD, dir, ts, 0), 0);
	}
	assert_int_equal(upstream_get_project(u, "absent", 0, &p, &err), 0);
	assert_int_equal(p->nfiles, 1);
	upstream_page_free(p);
	upstream_close(u);

	/* A missing directory is a clear error. */
	snprintf(cu.url, sizeof(cu.url), "dir:%s/nope", dir);
	assert_int_equal(upstream_open(&cu, NULL, &u, &err), 0);
	assert_int_equal(upstream_get_project(u, "x", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_IO);
	assert_non_null(strstr(err.msg, "nope"));
	upstream_close(u);
	util_strlcpy(cu.url, "dir:relative/path", sizeof(cu.url));
	assert_int_equal(upstream_open(&cu, NULL, &u, &err), -1);
	util_strlcpy(cu.url, "http://x/simple/", sizeof(cu.url));
	util_strlcpy(cu.name, "../evil", sizeof(cu.name));
	assert_int_equal(upstream_open(&cu, NULL, &u, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_ARG);
}

/* --- HTTP against a real server ----------------------------------------- */

struct server {
	pid_t	pid;
	int	port;
	char	base[128];	/* http://127.0.0.1:PORT */
};

static void
server_start(struct server *s, const char *spec)
{
	char specpath[PATH_MAX], script[PATH_MAX], line[64];
	const char *src = getenv("WW_SOURCE_DIR");
	int fds[2];
	FILE *f;
	static int n;

	assert_non_null(src);
	snprintf(specpath, sizeof(specpath), "%s/spec%d.json", tmpdir, n++);
	write_file(specpath, spec);
	snprintf(script, sizeof(script), "%s/tests/lib/upstream_server.py",
	    src);
	assert_int_equal(pipe(fds), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", script, specpath,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "PORT %d", &s->port) != 1)
		fail_msg("upstream_server.py did not start");
	fclose(f);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

static void
server_stop(struct server *s)
{
	int st;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &st, 0);
		s->pid = 0;
	}
}

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	return buf_add(arg, p, sz * n) == 0 ? sz * n : 0;
}

/* Requests the server saw for path; header (lowercase) of the last one. */
static int
server_count(struct server *s, const char *path, const char *hname,
    char *hval, size_t hlen)
{
	char url[256];
	struct buf b;
	json_t *root, *v;
	CURL *c;
	int n = 0;

	snprintf(url, sizeof(url), "%s/_stats", s->base);
	buf_init(&b, 1 << 20);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	root = json_loadb(b.ptr, b.len, 0, NULL);
	assert_non_null(root);
	v = json_object_get(json_object_get(root, "requests"), path);
	if (json_is_integer(v))
		n = (int)json_integer_value(v);
	if (hval != NULL) {
		hval[0] = '\0';
		v = json_object_get(json_object_get(json_object_get(root,
		    "headers"), path), hname);
		if (json_is_string(v))
			util_strlcpy(hval, json_string_value(v), hlen);
	}
	json_decref(root);
	buf_free(&b);
	return n;
}

static struct upstream *
open_http(struct server *s, const char *name, int timeout, int retries,
    uint64_t max, const char *cache)
{
	struct config_upstream cu;
	struct upstream *u;
	struct wwerr err;

	memset(&cu, 0, sizeof(cu));
	util_strlcpy(cu.name, name, sizeof(cu.name));
	snprintf(cu.url, sizeof(cu.url), "%s/simple", s->base);
	cu.timeout = timeout;
	cu.retries = retries;
	cu.max_response = max;
	if (upstream_open(&cu, cache, &u, &err) == -1)
		fail_msg("open: %s", err.msg);
	upstream_set_retry_delay(u, 20);
	return u;
}

static const char spec_main[] =
    "{\"projects\": {"
    " \"Alpha\": {\"files\": ["
    "   {\"filename\": \"alpha-1.0.tar.gz\", \"content\": \"alpha one\","
    "    \"requires_python\": \">=3.8\"},"
    "   {\"filename\": \"alpha-1.1.tar.gz\", \"content\": \"alpha two\","
    "    \"yanked\": \"oops\"},"
    "   {\"filename\": \"alpha-1.1-py3-none-any.whl\", \"content\": \"w\","
    "    \"metadata\": true},"
    "   {\"filename\": \"alpha-2.0.tar.gz\", \"content\": \"bad\","
    "    \"bad_hash\": true},"
    "   {\"filename\": \"alpha-2.1.tar.gz\", \"content\": \"nohash\","
    "    \"no_hash\": true},"
    "   {\"filename\": \"alpha-3.0.tar.gz\", \"size\": 300000}]},"
    " \"oldstyle\": {\"html_only\": true, \"files\": ["
    "   {\"filename\": \"oldstyle-0.1.tar.gz\", \"content\": \"o\","
    "    \"requires_python\": \">=3.6, <4\"}]},"
    " \"cached\": {\"max_age\": 600, \"files\": ["
    "   {\"filename\": \"cached-1.0.tar.gz\", \"content\": \"c\"}]},"
    " \"big\": {\"pad\": 200000, \"files\": []},"
    " \"bigchunked\": {\"pad\": 200000, \"chunked\": true, \"files\": []},"
    " \"flaky\": {\"fail\": 2, \"files\": ["
    "   {\"filename\": \"flaky-1.0.tar.gz\", \"content\": \"f\"}]},"
    " \"veryflaky\": {\"fail\": 5, \"files\": []},"
    " \"slow\": {\"delay\": 3, \"files\": []},"
    " \"forbidden\": {\"status\": 403, \"files\": []},"
    " \"fragile\": {\"down_after\": 1, \"files\": ["
    "   {\"filename\": \"fragile-1.0.tar.gz\", \"content\": \"x\"}]},"
    " \"moved\": {\"redirect\": true, \"files\": ["
    "   {\"filename\": \"moved-1.0.tar.gz\", \"content\": \"m\"}]},"
    " \"absolute\": {\"relative\": false, \"files\": ["
    "   {\"filename\": \"absolute-1.0.tar.gz\", \"content\": \"a\"}]}"
    "}}";

static void
test_http_negotiation_and_cache(void **state)
{
	struct server s;
	struct upstream *u;
	struct upstream_page *p, *p2;
	const struct upstream_file *f;
	char cache[PATH_MAX], hv[512], want[256];
	struct wwerr err;
	size_t i;

	(void)state;
	server_start(&s, spec_main);
	snprintf(cache, sizeof(cache), "%s/cache1", tmpdir);
	u = open_http(&s, "test", 10, 2, 1 << 20, cache);

	/* JSON is preferred and understood. */
	if (upstream_get_project(u, "ALPHA", 0, &p, &err) != 0)
		fail_msg("alpha: %s", err.msg);
	assert_int_equal(p->format, UPSTREAM_FMT_JSON);
	assert_int_equal(p->source, UPSTREAM_FETCHED);
	assert_int_equal(p->nfiles, 6);
	assert_non_null(f = find_file(p, "alpha-1.0.tar.gz"));
	snprintf(want, sizeof(want), "%s/files/alpha-1.0.tar.gz", s.base);
	assert_string_equal(f->url, want);
	assert_string_equal(f->requires_python, ">=3.8");
	assert_int_equal(f->size, 9);
	assert_true(hash_is_hex64(f->sha256));
	assert_non_null(f = find_file(p, "alpha-1.1.tar.gz"));
	assert_true(f->yanked);
	assert_string_equal(f->yanked_reason, "oops");
	assert_non_null(f = find_file(p, "alpha-1.1-py3-none-any.whl"));
	assert_true(f->has_metadata);
	assert_int_equal(server_count(&s, "/simple/alpha/", "accept", hv,
	    sizeof(hv)), 1);
	assert_non_null(strstr(hv, "application/vnd.pypi.simple.v1+json"));
	assert_non_null(strstr(hv, "text/html;q=0.1"));

	/* max-age 0: the next call revalidates with the ETag, gets a 304
	 * and reuses the cached body. */
	if (upstream_get_project(u, "alpha", 0, &p2, &err) != 0)
		fail_msg("alpha again: %s", err.msg);
	assert_int_equal(p2->source, UPSTREAM_REVALIDATED);
	assert_int_equal(p2->nfiles, p->nfiles);
	for (i = 0; i < p->nfiles; i++) {
		assert_string_equal(p2->files[i].filename,
		    p->files[i].filename);
		assert_string_equal(p2->files[i].url, p->files[i].url);
		assert_string_equal(p2->files[i].sha256, p->files[i].sha256);
	}
	assert_int_equal(server_count(&s, "/simple/alpha/", "if-none-match", hv,
	    sizeof(hv)), 2);
	assert_true(hv[0] == '"');
	upstream_page_free(p2);
	upstream_page_free(p);

	/* An index that only speaks HTML. */
	if (upstream_get_project(u, "oldstyle", 0, &p, &err) != 0)
		fail_msg("oldstyle: %s", err.msg);
	assert_int_equal(p->format, UPSTREAM_FMT_HTML);
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].requires_python, ">=3.6, <4");
	assert_true(hash_is_hex64(p->files[0].sha256));
	upstream_page_free(p);

	/* max-age 600: no request at all the second time; REVALIDATE asks. */
	assert_int_equal(upstream_get_project(u, "cached", 0, &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_FETCHED);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "cached", 0, &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_CACHED);
	assert_int_equal(p->nfiles, 1);
	upstream_page_free(p);
	assert_int_equal(server_count(&s, "/simple/cached/", NULL, NULL, 0), 1);
	assert_int_equal(upstream_get_project(u, "cached", UPSTREAM_REVALIDATE,
	    &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_REVALIDATED);
	upstream_page_free(p);
	assert_int_equal(server_count(&s, "/simple/cached/", NULL, NULL, 0), 2);

	/* A damaged cache body is detected and fetched again in full. */
	{
		char body[PATH_MAX];
		snprintf(body, sizeof(body), "%s/test/cached.body", cache);
		write_file(body, "{\"meta\": {\"api-version\": \"1.0\"}, "
		    "\"files\": []}");
	}
	assert_int_equal(upstream_get_project(u, "cached", 0, &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_FETCHED);
	assert_int_equal(p->nfiles, 1);
	upstream_page_free(p);
	/* Cache-only mode uses the copy, or fails without a request. */
	assert_int_equal(upstream_get_project(u, "cached", UPSTREAM_CACHE_ONLY,
	    &p, &err), 0);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "moved", UPSTREAM_CACHE_ONLY,
	    &p, &err), -1);
	assert_int_equal(server_count(&s, "/simple/moved/", NULL, NULL, 0), 0);

	/* Redirects are followed; links resolve against the final URL. */
	assert_int_equal(upstream_get_project(u, "moved", 0, &p, &err), 0);
	assert_int_equal(p->nfiles, 1);
	snprintf(want, sizeof(want), "%s/files/moved-1.0.tar.gz", s.base);
	assert_string_equal(p->files[0].url, want);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "absolute", 0, &p, &err), 0);
	snprintf(want, sizeof(want), "%s/files/absolute-1.0.tar.gz", s.base);
	assert_string_equal(p->files[0].url, want);
	upstream_page_free(p);

	/* Unknown project: 1, not an error. */
	assert_int_equal(upstream_get_project(u, "nonexistent", 0, &p, &err), 1);
	assert_null(p);
	/* Other client errors are errors, without retries. */
	assert_int_equal(upstream_get_project(u, "forbidden", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_HTTP);
	assert_non_null(strstr(err.msg, "403"));
	assert_int_equal(server_count(&s, "/simple/forbidden/", NULL, NULL, 0),
	    1);
	upstream_close(u);

	/* The same upstream name pointed elsewhere: the old copies are not
	 * used (the page cached above is fresh for 600 s). */
	{
		struct config_upstream cu;

		memset(&cu, 0, sizeof(cu));
		util_strlcpy(cu.name, "test", sizeof(cu.name));
		snprintf(cu.url, sizeof(cu.url), "%s/other-index/", s.base);
		cu.timeout = 5;
		assert_int_equal(upstream_open(&cu, cache, &u, &err), 0);
		assert_int_equal(upstream_get_project(u, "cached",
		    UPSTREAM_CACHE_ONLY, &p, &err), -1);
		assert_int_equal(upstream_get_project(u, "cached", 0, &p, &err),
		    1);
		upstream_close(u);
	}
	server_stop(&s);
}

static void
test_http_failures(void **state)
{
	struct server s;
	struct upstream *u;
	struct upstream_page *p;
	char cache[PATH_MAX];
	struct wwerr err;
	int64_t t0, dt;

	(void)state;
	server_start(&s, spec_main);
	snprintf(cache, sizeof(cache), "%s/cache2", tmpdir);
	u = open_http(&s, "test", 1, 2, 100000, cache);

	/* Oversized pages are refused, with or without Content-Length. */
	assert_int_equal(upstream_get_project(u, "big", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_TOOBIG);
	assert_non_null(strstr(err.msg, "100000"));
	assert_int_equal(upstream_get_project(u, "bigchunked", 0, &p, &err),
	    -1);
	assert_int_equal(err.code, UPSTREAM_E_TOOBIG);
	/* Not retried: a size refusal is not transient. */
	assert_int_equal(server_count(&s, "/simple/big/", NULL, NULL, 0), 1);

	/* Two 503s, then success on the third attempt (retries = 2). */
	if (upstream_get_project(u, "flaky", 0, &p, &err) != 0)
		fail_msg("flaky: %s", err.msg);
	assert_int_equal(p->nfiles, 1);
	upstream_page_free(p);
	assert_int_equal(server_count(&s, "/simple/flaky/", NULL, NULL, 0), 3);
	/* Five 503s outlast three attempts. */
	assert_int_equal(upstream_get_project(u, "veryflaky", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_UNREACHABLE);
	assert_non_null(strstr(err.msg, "503"));
	assert_non_null(strstr(err.msg, "3 attempts"));
	assert_int_equal(server_count(&s, "/simple/veryflaky/", NULL, NULL, 0),
	    3);

	/* A stalled server hits the timeout, on every attempt. */
	t0 = util_now_us();
	assert_int_equal(upstream_get_project(u, "slow", 0, &p, &err), -1);
	dt = util_now_us() - t0;
	assert_int_equal(err.code, UPSTREAM_E_UNREACHABLE);
	assert_true(dt >= 2900000 && dt < 6000000);
	assert_int_equal(server_count(&s, "/simple/slow/", NULL, NULL, 0), 3);

	/* The index goes down after one answer: the stale copy serves. */
	assert_int_equal(upstream_get_project(u, "fragile", 0, &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_FETCHED);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "fragile", 0, &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_STALE);
	assert_int_equal(p->nfiles, 1);
	upstream_page_free(p);
	upstream_close(u);
	server_stop(&s);

	/* Nobody listening: unreachable, quickly, and stale copies still
	 * serve. */
	u = open_http(&s, "test", 2, 1, 100000, cache);
	t0 = util_now_us();
	assert_int_equal(upstream_get_project(u, "flaky", UPSTREAM_REVALIDATE,
	    &p, &err), 0);
	assert_int_equal(p->source, UPSTREAM_STALE);
	upstream_page_free(p);
	assert_int_equal(upstream_get_project(u, "never-seen", 0, &p, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_UNREACHABLE);
	assert_true(util_now_us() - t0 < 3000000);
	upstream_close(u);
}

static void
test_http_download(void **state)
{
	struct server s;
	struct upstream *u;
	struct upstream_page *p;
	const struct upstream_file *f;
	char dest[PATH_MAX], hex[HASH_SHA256_HEXLEN], *data;
	struct wwerr err;
	struct stat st;
	size_t len;

	(void)state;
	server_start(&s, spec_main);
	u = open_http(&s, "dl", 10, 1, 1 << 20, NULL);
	if (upstream_get_project(u, "alpha", 0, &p, &err) != 0)
		fail_msg("alpha: %s", err.msg);
	snprintf(dest, sizeof(dest), "%s/dl-alpha.tar.gz", tmpdir);

	assert_non_null(f = find_file(p, "alpha-1.0.tar.gz"));
	assert_int_equal(upstream_download(u, f, dest, 1 << 20, hex, &err), 0);
	assert_string_equal(hex, f->sha256);
	assert_int_equal(util_read_file(dest, 1024, &data, &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(data, "alpha one", 9);
	free(data);
	unlink(dest);

	/* The index's hash does not match the bytes: refused, nothing left. */
	assert_non_null(f = find_file(p, "alpha-2.0.tar.gz"));
	assert_int_equal(upstream_download(u, f, dest, 1 << 20, hex, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_DIGEST);
	assert_int_equal(stat(dest, &st), -1);
	assert_string_equal(hex, "");

	/* No hash given: the digest of what arrived. */
	assert_non_null(f = find_file(p, "alpha-2.1.tar.gz"));
	assert_string_equal(f->sha256, "");
	assert_int_equal(upstream_download(u, f, dest, 1 << 20, hex, &err), 0);
	assert_true(hash_is_hex64(hex));
	unlink(dest);

	/* Larger than allowed: refused before (size known) and while
	 * streaming (size not trusted). */
	assert_non_null(f = find_file(p, "alpha-3.0.tar.gz"));
	assert_int_equal(upstream_download(u, f, dest, 1000, hex, &err), -1);
	assert_int_equal(err.code, UPSTREAM_E_TOOBIG);
	{
		struct upstream_file g = *f;
		g.size = -1;
		assert_int_equal(upstream_download(u, &g, dest, 1000, hex, &err),
		    -1);
		assert_int_equal(err.code, UPSTREAM_E_TOOBIG);
	}
	assert_int_equal(stat(dest, &st), -1);
	{
		struct upstream_file g = *f;
		char url[256];
		snprintf(url, sizeof(url), "%s/files/missing-1.0.tar.gz", s.base);
		g.url = url;
		g.size = -1;
		assert_int_equal(upstream_download(u, &g, dest, 1 << 20, hex,
		    &err), -1);
		assert_int_equal(err.code, UPSTREAM_E_NOTFOUND);
	}
	/* No temporary files left in the directory. */
	{
		char cmd[PATH_MAX + 64];
		snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q part", tmpdir);
		assert_int_not_equal(system(cmd), 0);
	}
	upstream_page_free(p);
	upstream_close(u);
	server_stop(&s);
}

static void
test_upstream_set_priority(void **state)
{
	struct server a, b;
	struct config *c;
	struct upstream_set *set;
	struct upstream_page *p;
	struct upstream *from;
	struct wwerr err;

	(void)state;
	server_start(&a, "{\"projects\": {\"shared\": {\"files\": ["
	    "{\"filename\": \"shared-1.0.tar.gz\", \"content\": \"a\"}]},"
	    " \"broken\": {\"status\": 500, \"files\": []}}}");
	server_start(&b, "{\"projects\": {\"shared\": {\"files\": ["
	    "{\"filename\": \"shared-6.6.6.tar.gz\", \"content\": \"evil\"}]},"
	    " \"onlyb\": {\"files\": ["
	    "{\"filename\": \"onlyb-2.0.tar.gz\", \"content\": \"b\"}]},"
	    " \"broken\": {\"files\": ["
	    "{\"filename\": \"broken-6.6.6.tar.gz\", \"content\": \"evil\"}]}}}");
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	config_defaults(c);
	c->nupstreams = 2;
	/* Listed second but with the higher priority (lower number). */
	util_strlcpy(c->upstreams[0].name, "second", 64);
	snprintf(c->upstreams[0].url, 1024, "%s/simple/", b.base);
	c->upstreams[0].priority = 5;
	util_strlcpy(c->upstreams[1].name, "first", 64);
	snprintf(c->upstreams[1].url, 1024, "%s/simple/", a.base);
	c->upstreams[1].priority = 1;
	c->upstreams[0].timeout = c->upstreams[1].timeout = 5;
	c->upstreams[0].retries = c->upstreams[1].retries = 0;
	if (upstream_set_open(c, NULL, &set, &err) == -1)
		fail_msg("set: %s", err.msg);
	assert_int_equal(upstream_set_count(set), 2);
	assert_string_equal(upstream_name(upstream_set_at(set, 0)), "first");
	assert_non_null(upstream_set_find(set, "second"));
	assert_null(upstream_set_find(set, "third"));

	assert_int_equal(upstream_set_get_project(set, "shared", 0, &p, &from,
	    &err), 0);
	assert_string_equal(upstream_name(from), "first");
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].version, "1.0");
	upstream_page_free(p);
	assert_int_equal(upstream_set_get_project(set, "onlyb", 0, &p, &from,
	    &err), 0);
	assert_string_equal(upstream_name(from), "second");
	assert_string_equal(p->upstream, "second");
	upstream_page_free(p);
	/* The first index failing does not let the second one answer. */
	assert_int_equal(upstream_set_get_project(set, "broken", 0, &p, &from,
	    &err), -1);
	assert_null(from);
	assert_int_equal(upstream_set_get_project(set, "nowhere", 0, &p, &from,
	    &err), 1);
	upstream_set_close(set);
	free(c);
	server_stop(&a);
	server_stop(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_html_parse),
		cmocka_unit_test(test_html_hostile),
		cmocka_unit_test(test_dir_upstream),
		cmocka_unit_test(test_http_negotiation_and_cache),
		cmocka_unit_test(test_http_failures),
		cmocka_unit_test(test_http_download),
		cmocka_unit_test(test_upstream_set_priority),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
