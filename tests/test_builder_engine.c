/*
 * test_builder_engine.c: unit tests for builder/engine.c's pure parts (the
 * log stream demultiplexer, the container-create JSON, URL and time
 * parsing) and for how the client copes with a hostile or broken engine:
 * a real unix-socket server thread answers with oversized, malformed,
 * failing or silent responses. Tests against a real podman are in
 * tests/e2e_engine.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "engine.h"
#include "util.h"

/* ---- demultiplexer ---- */

struct capture {
	struct buf	out;
	struct buf	err;
	int		fail_after;	/* sink fails on this call (1-based) */
	int		calls;
};

static int
capture_sink(void *arg, int stream, const char *p, size_t n)
{
	struct capture *c = arg;

	c->calls++;
	if (c->fail_after && c->calls >= c->fail_after) {
		errno = ENOSPC;
		return -1;
	}
	return buf_add(stream == 2 ? &c->err : &c->out, p, n);
}

static void
capture_init(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->out, 1 << 24);
	buf_init(&c->err, 1 << 24);
}

static void
capture_free(struct capture *c)
{
	buf_free(&c->out);
	buf_free(&c->err);
}

static void
frame(struct buf *b, int stream, const char *p, size_t n)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0,
	    (unsigned char)(n >> 24), (unsigned char)(n >> 16),
	    (unsigned char)(n >> 8), (unsigned char)n };

	assert_int_equal(buf_add(b, h, 8), 0);
	assert_int_equal(buf_add(b, p, n), 0);
}

static void
test_demux_split_everywhere(void **state)
{
	struct buf s;
	struct capture c;
	struct engine_demux d;
	struct wwerr err;
	size_t cut1, cut2;

	(void)state;
	buf_init(&s, 1 << 20);
	frame(&s, 1, "hello ", 6);
	frame(&s, 2, "oops\n", 5);
	frame(&s, 1, "", 0);		/* empty frames are legal */
	frame(&s, 1, "world\n", 6);
	frame(&s, 2, "E", 1);
	/* Every way of cutting the stream into three chunks. */
	for (cut1 = 0; cut1 <= s.len; cut1++) {
		for (cut2 = cut1; cut2 <= s.len; cut2++) {
			capture_init(&c);
			engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink,
			    &c);
			assert_int_equal(engine_demux_feed(&d, s.ptr, cut1,
			    &err), 0);
			assert_int_equal(engine_demux_feed(&d, s.ptr + cut1,
			    cut2 - cut1, &err), 0);
			assert_int_equal(engine_demux_feed(&d, s.ptr + cut2,
			    s.len - cut2, &err), 0);
			assert_int_equal(engine_demux_finish(&d, &err), 0);
			assert_int_equal(d.mode, ENGINE_STREAM_MUX);
			assert_string_equal(buf_cstr(&c.out),
			    "hello world\n");
			assert_string_equal(buf_cstr(&c.err), "oops\nE");
			capture_free(&c);
		}
	}
	buf_free(&s);
}

static void
test_demux_large_frame(void **state)
{
	struct buf s;
	struct capture c;
	struct engine_demux d;
	struct wwerr err;
	char *big;
	size_t i, n = 300000, step;

	(void)state;
	big = malloc(n);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	buf_init(&s, 1 << 21);
	frame(&s, 1, big, n);
	frame(&s, 2, big, 1000);
	for (step = 1; step <= 65536; step *= 16) {
		capture_init(&c);
		engine_demux_init(&d, ENGINE_STREAM_MUX, capture_sink, &c);
		for (i = 0; i < s.len; i += step)
			assert_int_equal(engine_demux_feed(&d, s.ptr + i,
			    i + step > s.len ? s.len - i : step, &err), 0);
		assert_int_equal(engine_demux_finish(&d, &err), 0);
		assert_int_equal(c.out.len, n);
		assert_memory_equal(c.out.ptr, big, n);
		assert_int_equal(c.err.len, 1000);
		capture_free(&c);
	}
	buf_free(&s);
	free(big);
}

static void
test_demux_raw(void **state)
{
	struct capture c;
	struct engine_demux d;
	struct wwerr err;
	const char *tty = "$ make\r\ncc -c x.c\r\n";

	(void)state;
	/* A TTY stream starts with text, not a frame header. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, tty, 3, &err), 0);
	assert_int_equal(engine_demux_feed(&d, tty + 3, strlen(tty) - 3,
	    &err), 0);
	assert_int_equal(engine_demux_finish(&d, &err), 0);
	assert_int_equal(d.mode, ENGINE_STREAM_RAW);
	assert_string_equal(buf_cstr(&c.out), tty);
	assert_int_equal(c.err.len, 0);
	capture_free(&c);

	/* Starting with a byte that could open a header, then not. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, "\001\000x-raw", 7, &err), 0);
	assert_int_equal(engine_demux_finish(&d, &err), 0);
	assert_int_equal(c.out.len, 7);
	assert_memory_equal(c.out.ptr, "\001\000x-raw", 7);
	capture_free(&c);

	/* Fewer than four bytes in all: raw, delivered at finish. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, "\002\000", 2, &err), 0);
	assert_int_equal(c.out.len, 0);
	assert_int_equal(engine_demux_finish(&d, &err), 0);
	assert_int_equal(c.out.len, 2);
	capture_free(&c);

	/* Forced raw mode passes header-like bytes through untouched. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_RAW, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, "\001\000\000\000\000\000\000\001Z",
	    9, &err), 0);
	assert_int_equal(engine_demux_finish(&d, &err), 0);
	assert_int_equal(c.out.len, 9);
	capture_free(&c);

	/* Empty stream. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_finish(&d, &err), 0);
	assert_int_equal(c.out.len + c.err.len, 0);
	capture_free(&c);
}

static void
test_demux_errors(void **state)
{
	struct buf s;
	struct capture c;
	struct engine_demux d;
	struct wwerr err;

	(void)state;
	/* Cut inside a payload. */
	buf_init(&s, 4096);
	frame(&s, 1, "abcdef", 6);
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, s.ptr, s.len - 2, &err), 0);
	assert_int_equal(engine_demux_finish(&d, &err), -1);
	assert_int_equal(err.code, ENGINE_E_PROTO);
	assert_non_null(strstr(err.msg, "2 payload bytes missing"));
	capture_free(&c);

	/* Cut inside a header. */
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_MUX, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, s.ptr, 5, &err), 0);
	assert_int_equal(engine_demux_finish(&d, &err), -1);
	assert_int_equal(err.code, ENGINE_E_PROTO);
	capture_free(&c);

	/* A bad header after a good frame. */
	assert_int_equal(buf_add(&s, "\011\000\000\000\000\000\000\001x", 9),
	    0);
	capture_init(&c);
	engine_demux_init(&d, ENGINE_STREAM_AUTO, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, s.ptr, s.len, &err), -1);
	assert_int_equal(err.code, ENGINE_E_PROTO);
	assert_string_equal(buf_cstr(&c.out), "abcdef");
	/* Once failed, it stays failed. */
	assert_int_equal(engine_demux_feed(&d, "x", 1, &err), -1);
	assert_int_equal(engine_demux_finish(&d, &err), -1);
	capture_free(&c);

	/* The sink failing stops the demuxer with an I/O error. */
	capture_init(&c);
	c.fail_after = 2;
	buf_reset(&s);
	frame(&s, 1, "one", 3);
	frame(&s, 1, "two", 3);
	engine_demux_init(&d, ENGINE_STREAM_MUX, capture_sink, &c);
	assert_int_equal(engine_demux_feed(&d, s.ptr, s.len, &err), -1);
	assert_int_equal(err.code, ENGINE_E_IO);
	assert_string_equal(buf_cstr(&c.out), "one");
	capture_free(&c);
	buf_free(&s);
}

/* ---- container spec JSON ---- */

static json_t *
spec_parse(const struct engine_spec *s)
{
	struct wwerr err;
	char *js;
	json_t *j;

	wwerr_clear(&err);
	if (engine_spec_json(s, &js, &err) != 0)
		fail_msg("engine_spec_json: %s", err.msg);
	j = json_loads(js, 0, NULL);
	free(js);
	assert_non_null(j);
	return j;
}

static void
test_spec_json_full(void **state)
{
	const char *argv[] = { "python3", "-m", "pip", "wheel",
	    "pkg; rm -rf / #", "--no-index", NULL };
	const char *env[] = { "HOME=/tmp", "EMPTY=", "PIP_NO_INDEX=1", NULL };
	struct engine_kv labels[] = { { "wheelwright.job", "42" },
	    { "wheelwright.target", "cp311-x86_64" } };
	struct engine_mount mounts[] = {
		{ "/var/lib/ww/sdist/42", "/ww/src", 1 },
		{ "/var/lib/ww/out/42", "/ww/out", 0 },
		{ "/var/lib/ww/index", "/ww/index", 1 } };
	struct engine_spec s;
	json_t *j, *hc, *m;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.image = "localhost/wheelwright-builder:bookworm-amd64-0123abcd";
	s.argv = argv;
	s.env = env;
	s.workdir = "/ww/out";
	s.user = "10001:10001";
	s.labels = labels;
	s.nlabels = 2;
	s.mounts = mounts;
	s.nmounts = 3;
	s.memory = 2LL << 30;
	s.nano_cpus = 1500000000;
	s.pids_limit = 512;
	j = spec_parse(&s);
	assert_string_equal(json_string_value(json_object_get(j, "Image")),
	    s.image);
	/* argv[0] is the entrypoint, the rest Cmd, nothing split or joined. */
	assert_int_equal(json_array_size(json_object_get(j, "Entrypoint")), 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "Entrypoint"), 0)), "python3");
	assert_int_equal(json_array_size(json_object_get(j, "Cmd")), 5);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "Cmd"), 3)), "pkg; rm -rf / #");
	assert_int_equal(json_array_size(json_object_get(j, "Env")), 3);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "Env"), 1)), "EMPTY=");
	assert_string_equal(json_string_value(json_object_get(j,
	    "WorkingDir")), "/ww/out");
	assert_string_equal(json_string_value(json_object_get(j, "User")),
	    "10001:10001");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "Labels"), "wheelwright.job")), "42");
	assert_true(json_is_false(json_object_get(j, "Tty")));
	assert_true(json_is_true(json_object_get(j, "NetworkDisabled")));
	hc = json_object_get(j, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(hc,
	    "NetworkMode")), "none");
	assert_int_equal(json_integer_value(json_object_get(hc, "Memory")),
	    2LL << 30);
	/* Swap equal to memory: no swap, so OOM comes when it should. */
	assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwap")),
	    2LL << 30);
	assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")),
	    1500000000);
	assert_int_equal(json_integer_value(json_object_get(hc, "PidsLimit")),
	    512);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(hc, "CapDrop"), 0)), "ALL");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(hc, "SecurityOpt"), 0)), "no-new-privileges");
	assert_true(json_is_false(json_object_get(hc, "Privileged")));
	assert_true(json_is_false(json_object_get(hc, "AutoRemove")));
	assert_int_equal(json_array_size(json_object_get(hc, "Mounts")), 3);
	m = json_array_get(json_object_get(hc, "Mounts"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "Type")),
	    "bind");
	assert_string_equal(json_string_value(json_object_get(m, "Source")),
	    "/var/lib/ww/sdist/42");
	assert_string_equal(json_string_value(json_object_get(m, "Target")),
	    "/ww/src");
	assert_true(json_is_true(json_object_get(m, "ReadOnly")));
	m = json_array_get(json_object_get(hc, "Mounts"), 1);
	assert_true(json_is_false(json_object_get(m, "ReadOnly")));
	json_decref(j);
}

static void
test_spec_json_minimal(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	const char *tmpfs[] = { "/tmp:rw,size=64m,exec", "/home/wwbuild", NULL };
	struct engine_spec s;
	json_t *j, *hc;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.image = "debian:12";
	s.argv = argv;
	j = spec_parse(&s);
	assert_int_equal(json_array_size(json_object_get(j, "Cmd")), 0);
	assert_null(json_object_get(j, "Env"));
	assert_null(json_object_get(j, "User"));
	hc = json_object_get(j, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(hc,
	    "NetworkMode")), "none");
	assert_null(json_object_get(hc, "Memory"));
	assert_null(json_object_get(hc, "PidsLimit"));
	json_decref(j);

	/* Opting in to a network and to the engine's capabilities. */
	s.network = "bridge";
	s.keep_caps = 1;
	s.readonly_rootfs = 1;
	s.tmpfs = tmpfs;
	j = spec_parse(&s);
	hc = json_object_get(j, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    hc, "Tmpfs"), "/tmp")), "rw,size=64m,exec");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    hc, "Tmpfs"), "/home/wwbuild")), "");
	assert_string_equal(json_string_value(json_object_get(hc,
	    "NetworkMode")), "bridge");
	assert_null(json_object_get(j, "NetworkDisabled"));
	assert_null(json_object_get(hc, "CapDrop"));
	assert_true(json_is_true(json_object_get(hc, "ReadonlyRootfs")));
	json_decref(j);
}

static void
expect_spec_error(const struct engine_spec *s, const char *needle)
{
	struct wwerr err;
	char *js = NULL;

	wwerr_clear(&err);
	assert_int_equal(engine_spec_json(s, &js, &err), -1);
	assert_null(js);
	assert_int_equal(err.code, ENGINE_E_ARG);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void
test_spec_json_invalid(void **state)
{
	const char *argv[] = { "python3", NULL };
	const char *noargv[] = { NULL };
	const char *emptyargv[] = { "", NULL };
	const char *badenv[] = { "NOEQUALS", NULL };
	const char *badenv2[] = { "=value", NULL };
	const char *badutf[] = { "python3", "\xff\xfe", NULL };
	struct engine_kv badlabel[] = { { "a=b", "c" } };
	struct engine_kv emptylabel[] = { { "", "c" } };
	struct engine_mount rel[] = { { "relative/dir", "/ww/src", 1 } };
	struct engine_mount dots[] = { { "/srv/../etc", "/ww/src", 1 } };
	struct engine_mount root[] = { { "/srv/x", "/", 0 } };
	struct engine_mount nl[] = { { "/srv/x\n", "/ww/src", 0 } };
	struct engine_mount okdots[] = { { "/srv/a..b", "/ww/..x", 0 } };
	const char *tmpfs_rel[] = { "tmp:rw", NULL };
	const char *tmpfs_root[] = { "/", NULL };
	const char *tmpfs_space[] = { "/tmp:size=1g noexec", NULL };
	struct engine_spec s, t;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.image = "debian:12";
	s.argv = argv;

	t = s; t.image = NULL;
	expect_spec_error(&t, "no image");
	t = s; t.image = "debian 12";
	expect_spec_error(&t, "image reference");
	t = s; t.image = "../../etc";
	expect_spec_error(&t, "..");
	t = s; t.argv = noargv;
	expect_spec_error(&t, "argv");
	t = s; t.argv = emptyargv;
	expect_spec_error(&t, "never a shell string");
	t = s; t.env = badenv;
	expect_spec_error(&t, "NOEQUALS");
	t = s; t.env = badenv2;
	expect_spec_error(&t, "NAME=value");
	t = s; t.argv = badutf;
	expect_spec_error(&t, "UTF-8");
	t = s; t.labels = badlabel; t.nlabels = 1;
	expect_spec_error(&t, "label 0");
	t = s; t.labels = emptylabel; t.nlabels = 1;
	expect_spec_error(&t, "empty key");
	t = s; t.mounts = rel; t.nmounts = 1;
	expect_spec_error(&t, "not an absolute path");
	t = s; t.mounts = dots; t.nmounts = 1;
	expect_spec_error(&t, "'..' component");
	t = s; t.mounts = root; t.nmounts = 1;
	expect_spec_error(&t, "must not be '/'");
	t = s; t.mounts = nl; t.nmounts = 1;
	expect_spec_error(&t, "control character");
	t = s; t.workdir = "build";
	expect_spec_error(&t, "working directory");
	t = s; t.memory = 4096;
	expect_spec_error(&t, "6 MiB");
	t = s; t.pids_limit = -1;
	expect_spec_error(&t, "negative");

	t = s; t.tmpfs = tmpfs_rel;
	expect_spec_error(&t, "tmpfs path 'tmp'");
	t = s; t.tmpfs = tmpfs_root;
	expect_spec_error(&t, "must not be '/'");
	t = s; t.tmpfs = tmpfs_space;
	expect_spec_error(&t, "spaces");

	/* ".." inside a name is not a parent reference. */
	t = s; t.mounts = okdots; t.nmounts = 1;
	json_decref(spec_parse(&t));
}

/* ---- URLs and times ---- */

static void
test_open_urls(void **state)
{
	struct engine *e;
	struct engine_tls tls = { NULL, "/etc/ww/cert.pem", "/etc/ww/key.pem" };
	struct engine_tls certonly = { NULL, "/etc/ww/cert.pem", NULL };
	struct wwerr err;
	char longpath[200];
	const char *bad[] = { "", "unix://run/podman.sock", "ftp://h:1",
	    "https://", "https:///x", "https://u@h:1", "http://h:1/?q",
	    "unix:///a b", "docker.sock", NULL };
	size_t i;

	(void)state;
	assert_int_equal(engine_open("unix:///run/ww/engine.sock", NULL, &e,
	    &err), 0);
	assert_string_equal(engine_url(e), "unix:///run/ww/engine.sock");
	engine_close(e);
	assert_int_equal(engine_open("https://builder1.example:2376/", &tls,
	    &e, &err), 0);
	engine_close(e);
	assert_int_equal(engine_open("tcp://10.0.0.5:2376", &tls, &e, &err), 0);
	engine_close(e);
	assert_int_equal(engine_open("http://127.0.0.1:2375", NULL, &e, &err),
	    0);
	engine_close(e);

	for (i = 0; bad[i]; i++) {
		wwerr_clear(&err);
		e = (struct engine *)1;
		assert_int_equal(engine_open(bad[i], NULL, &e, &err), -1);
		assert_null(e);
		assert_int_equal(err.code, ENGINE_E_ARG);
		if (bad[i][0] && strstr(err.msg, bad[i]) == NULL)
			fail_msg("error '%s' does not name '%s'", err.msg,
			    bad[i]);
	}
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:///", 8);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(engine_open(longpath, NULL, &e, &err), -1);
	assert_non_null(strstr(err.msg, "longer than"));
	/* TLS files make no sense on a unix socket. */
	assert_int_equal(engine_open("unix:///s", &tls, &e, &err), -1);
	assert_non_null(strstr(err.msg, "TLS"));
	assert_int_equal(engine_open("https://h:1", &certonly, &e, &err), -1);
	assert_non_null(strstr(err.msg, "its key"));
}

static void
test_parse_time(void **state)
{
	int64_t us;

	(void)state;
	assert_int_equal(engine_parse_time("1970-01-01T00:00:01Z", &us), 0);
	assert_int_equal(us, 1000000);
	assert_int_equal(engine_parse_time(
	    "2026-11-25T21:49:18.605994455Z", &us), 0);
	assert_int_equal(us, 1795643358605994LL);
	assert_int_equal(engine_parse_time("2026-11-25T22:49:18.5+01:00", &us),
	    0);
	assert_int_equal(us, 1795643358500000LL);
	assert_int_equal(engine_parse_time("2026-11-25T20:49:18-01:00", &us),
	    0);
	assert_int_equal(us, 1795643358000000LL);
	assert_int_equal(engine_parse_time("0001-01-01T00:00:00Z", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(engine_parse_time("", &us), -1);
	assert_int_equal(engine_parse_time("2026-11-25", &us), -1);
	assert_int_equal(engine_parse_time("2026-13-25T21:49:18Z", &us), -1);
	assert_int_equal(engine_parse_time("2026-11-25T21:49:18.Z", &us), -1);
	assert_int_equal(engine_parse_time("2026-11-25T21:49:18Zjunk", &us),
	    -1);
	assert_int_equal(engine_parse_time("2026-11-25T21:49:18", &us), -1);
}

/* ---- a hostile engine on a real unix socket ---- */

struct fake {
	char		 dir[256];
	char		 sock[300];
	char		 url[320];
	int		 lfd;
	pthread_t	 th;
	const char	*head;		/* status line + headers */
	const char	*body;		/* may be NULL */
	size_t		 bodylen;
	size_t		 repeat;	/* body written this many times */
	int		 silent_ms;	/* sleep before answering */
	struct buf	 request;	/* what the client sent */
};

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;
	char rb[4096], hdr[512];
	ssize_t n;
	size_t i;
	int fd;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	while (strstr(buf_cstr(&f->request), "\r\n\r\n") == NULL) {
		if ((n = read(fd, rb, sizeof(rb))) <= 0)
			break;
		(void)buf_add(&f->request, rb, (size_t)n);
	}
	if (f->silent_ms)
		usleep((useconds_t)f->silent_ms * 1000);
	snprintf(hdr, sizeof(hdr), "%s\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n", f->head,
	    f->bodylen * (f->repeat ? f->repeat : 1));
	if (send(fd, hdr, strlen(hdr), MSG_NOSIGNAL) < 0)
		goto out;
	for (i = 0; f->body && i < (f->repeat ? f->repeat : 1); i++)
		if (send(fd, f->body, f->bodylen, MSG_NOSIGNAL) < 0)
			break;
out:
	shutdown(fd, SHUT_WR);
	/* Drain until the client closes, so it sees the whole answer. */
	while (read(fd, rb, sizeof(rb)) > 0)
		;
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f, const char *head, const char *body, size_t repeat)
{
	struct sockaddr_un sa;
	const char *tmp = getenv("WW_TEST_TMP");

	memset(f, 0, sizeof(*f));
	/* Socket paths are short: use /tmp when the build dir is deep. */
	snprintf(f->dir, sizeof(f->dir), "%s/engXXXXXX",
	    tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/s", f->dir);
	snprintf(f->url, sizeof(f->url), "unix://%s", f->sock);
	f->head = head;
	f->body = body;
	f->bodylen = body ? strlen(body) : 0;
	f->repeat = repeat;
	buf_init(&f->request, 1 << 20);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	util_strlcpy(sa.sun_path, f->sock, sizeof(sa.sun_path));
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
}

static void
fake_run(struct fake *f)
{
	assert_int_equal(pthread_create(&f->th, NULL, fake_serve, f), 0);
}

static void
fake_stop(struct fake *f)
{
	/* Wakes accept() when the client never connected (cancelled). */
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->sock);
	rmdir(f->dir);
	buf_free(&f->request);
}

static struct engine *
fake_engine(struct fake *f)
{
	struct engine *e;
	struct wwerr err;

	assert_int_equal(engine_open(f->url, NULL, &e, &err), 0);
	return e;
}

static void
test_hostile_too_big(void **state)
{
	struct fake f;
	struct engine *e;
	struct engine_version v;
	struct wwerr err;

	(void)state;
	/* 8 MiB of JSON-ish padding against a 4 MiB bound. */
	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Type: application/json",
	    "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
	    128 * 1024);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_version(e, &v, &err), -1);
	assert_int_equal(err.code, ENGINE_E_TOOBIG);
	assert_non_null(strstr(err.msg, f.url));
	assert_non_null(strstr(err.msg, "GET /version"));
	assert_non_null(strstr(err.msg, "larger than"));
	engine_close(e);
	fake_stop(&f);
}

static void
test_hostile_http_errors(void **state)
{
	struct fake f;
	struct engine *e;
	struct engine_state st;
	struct engine_image img;
	struct wwerr err;
	int exists;

	(void)state;
	fake_start(&f, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json",
	    "{\"cause\":\"no such container\",\"message\":\"no container with "
	    "name or ID \\\"abc\\\" found: no such container\",\"response\":404}",
	    1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_container_inspect(e, "abc", &st, &err), -1);
	assert_int_equal(err.code, ENGINE_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "GET /containers/abc/json: HTTP 404: "
	    "no container with name or ID \"abc\" found"));
	assert_non_null(strstr(err.msg, f.url));
	assert_non_null(strstr(buf_cstr(&f.request),
	    "GET /v1.41/containers/abc/json HTTP/1.1\r\n"));
	engine_close(e);
	fake_stop(&f);

	/* A 500 with a non-JSON body full of control characters. */
	fake_start(&f, "HTTP/1.1 500 Internal Server Error",
	    "engine\x1b[31m exploded\r\n\x07", 1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_image_inspect(e, "localhost/x:1", &img, &err),
	    -1);
	assert_int_equal(err.code, ENGINE_E_HTTP);
	assert_non_null(strstr(err.msg, "HTTP 500: engine [31m exploded"));
	assert_null(strchr(err.msg, '\x1b'));
	engine_close(e);
	fake_stop(&f);

	/* image_exists: 404 means "no", not an error. */
	fake_start(&f, "HTTP/1.1 404 Not Found", "{\"message\":\"no such "
	    "image\"}", 1);
	fake_run(&f);
	e = fake_engine(&f);
	exists = 7;
	assert_int_equal(engine_image_exists(e, "localhost/y:2", &exists,
	    &err), 0);
	assert_int_equal(exists, 0);
	engine_close(e);
	fake_stop(&f);

	/* Removing a container that is already gone is fine. */
	fake_start(&f, "HTTP/1.1 404 Not Found", "{\"message\":\"gone\"}", 1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_container_remove(e, "deadbeef", &err), 0);
	assert_non_null(strstr(buf_cstr(&f.request),
	    "DELETE /v1.41/containers/deadbeef?force=1&v=1 HTTP/1.1"));
	engine_close(e);
	fake_stop(&f);
}

static void
test_hostile_malformed(void **state)
{
	struct fake f;
	struct engine *e;
	struct engine_state st;
	struct engine_container *list;
	struct wwerr err;
	size_t n;

	(void)state;
	fake_start(&f, "HTTP/1.1 200 OK", "{\"State\": {\"Status\": ", 1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_container_inspect(e, "abc", &st, &err), -1);
	assert_int_equal(err.code, ENGINE_E_PROTO);
	assert_non_null(strstr(err.msg, "malformed JSON"));
	engine_close(e);
	fake_stop(&f);

	/* Right JSON, wrong shape. */
	fake_start(&f, "HTTP/1.1 200 OK", "{\"not\": \"a list\"}", 1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_container_list(e, "wheelwright.job", &list, &n,
	    &err), -1);
	assert_int_equal(err.code, ENGINE_E_PROTO);
	/* The label filter went out URL-encoded. */
	assert_non_null(strstr(buf_cstr(&f.request), "/containers/json?all=1"
	    "&filters=%7B%22label%22%3A%5B%22wheelwright.job%22%5D%7D "));
	engine_close(e);
	fake_stop(&f);

	/* Entries with unusable ids are skipped, the rest kept. */
	fake_start(&f, "HTTP/1.1 200 OK", "[{\"Id\": \"../../x\"}, {\"Id\": "
	    "\"abc123\", \"Names\": [\"/job-1\"], \"State\": \"running\", "
	    "\"Labels\": {\"wheelwright.job\": \"1\", \"k\": 5}}, 7]", 1);
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(engine_container_list(e, NULL, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, "abc123");
	assert_string_equal(list[0].name, "job-1");
	assert_string_equal(list[0].state, "running");
	assert_string_equal(engine_container_label(&list[0],
	    "wheelwright.job"), "1");
	assert_null(engine_container_label(&list[0], "k"));
	assert_null(engine_container_label(&list[0], "wheelwright"));
	engine_container_list_free(list, n);
	engine_close(e);
	fake_stop(&f);
}

static void
test_hostile_silent(void **state)
{
	struct fake f;
	struct engine *e;
	struct wwerr err;
	volatile sig_atomic_t cancel = 1;
	int64_t t0;

	(void)state;
	fake_start(&f, "HTTP/1.1 200 OK", "OK", 1);
	f.silent_ms = 1500;
	fake_run(&f);
	e = fake_engine(&f);
	engine_set_timeouts(e, 0, 300);
	t0 = util_now_us();
	assert_int_equal(engine_ping(e, &err), -1);
	assert_int_equal(err.code, ENGINE_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "timed out after 300 ms"));
	assert_true(util_now_us() - t0 < 1400000);
	engine_close(e);
	fake_stop(&f);

	/* A raised cancel flag ends the call early. */
	fake_start(&f, "HTTP/1.1 200 OK", "OK", 1);
	f.silent_ms = 3000;
	fake_run(&f);
	e = fake_engine(&f);
	engine_set_cancel(e, &cancel);
	t0 = util_now_us();
	assert_int_equal(engine_ping(e, &err), -1);
	assert_int_equal(err.code, ENGINE_E_CANCELLED);
	assert_true(util_now_us() - t0 < 2500000);
	engine_close(e);
	fake_stop(&f);
}

static void
test_logs_from_fake(void **state)
{
	struct fake f;
	struct engine *e;
	struct engine_logopts lo;
	struct engine_logstat st;
	struct wwerr err;
	struct buf body;
	char path[320], got[64];
	int fds[2], ofd;
	ssize_t n;

	(void)state;
	buf_init(&body, 4096);
	frame(&body, 1, "building wheel\n", 15);
	frame(&body, 2, "warning: x\n", 11);
	frame(&body, 1, "done\n", 5);
	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/vnd.docker.raw-stream", NULL, 1);
	f.body = body.ptr;
	f.bodylen = body.len;
	fake_run(&f);
	e = fake_engine(&f);
	assert_int_equal(pipe(fds), 0);
	snprintf(path, sizeof(path), "%s/out.log", f.dir);
	ofd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(ofd >= 0);
	memset(&lo, 0, sizeof(lo));
	lo.max_bytes = 12;	/* the rest is counted, not written */
	assert_int_equal(engine_container_logs(e, "abc", ofd, fds[1], &lo, &st,
	    &err), 0);
	close(ofd);
	close(fds[1]);
	assert_int_equal(st.written, 12);
	assert_int_equal(st.dropped, 31 - 12);
	n = read(fds[0], got, sizeof(got));
	assert_int_equal(n, 0);	/* stderr came after the cap */
	close(fds[0]);
	memset(got, 0, sizeof(got));
	ofd = open(path, O_RDONLY);
	assert_int_equal(read(ofd, got, sizeof(got)), 12);
	close(ofd);
	assert_string_equal(got, "building whe");
	unlink(path);
	assert_non_null(strstr(buf_cstr(&f.request), "GET /v1.41/containers/"
	    "abc/logs?stdout=1&stderr=1&follow=0 "));
	engine_close(e);
	fake_stop(&f);
	buf_free(&body);
}

/* ---- a scripted engine: one answer per request path ---- */

struct route {
	const char	*match;		/* substring of the request line */
	const char	*head;
	const char	*body;
	size_t		 bodylen;
};

struct rfake {
	struct fake	 f;		/* socket, dir, url */
	struct route	*routes;
	size_t		 nroutes;
	int		 served;
};

static void *
rfake_serve(void *arg)
{
	struct rfake *r = arg;
	char rb[4096], hdr[512];
	struct buf req;
	ssize_t n;
	size_t i;
	int fd;

	while ((fd = accept(r->f.lfd, NULL, NULL)) != -1) {
		buf_init(&req, 1 << 16);
		while (strstr(buf_cstr(&req), "\r\n\r\n") == NULL) {
			if ((n = read(fd, rb, sizeof(rb))) <= 0)
				break;
			(void)buf_add(&req, rb, (size_t)n);
		}
		(void)buf_add(&r->f.request, req.ptr, req.len);
		for (i = 0; i < r->nroutes; i++)
			if (strstr(buf_cstr(&req), r->routes[i].match) != NULL)
				break;
		if (i == r->nroutes)
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\n"
			    "Connection: close\r\nContent-Length: 0\r\n\r\n");
		else
			snprintf(hdr, sizeof(hdr), "%s\r\nConnection: close\r\n"
			    "Content-Length: %zu\r\n\r\n", r->routes[i].head,
			    r->routes[i].bodylen);
		if (send(fd, hdr, strlen(hdr), MSG_NOSIGNAL) >= 0 &&
		    i < r->nroutes && r->routes[i].bodylen > 0)
			(void)send(fd, r->routes[i].body, r->routes[i].bodylen,
			    MSG_NOSIGNAL);
		r->served++;
		buf_free(&req);
		shutdown(fd, SHUT_WR);
		while (read(fd, rb, sizeof(rb)) > 0)
			;
		close(fd);
	}
	return NULL;
}

#define JSON_OK		"HTTP/1.1 200 OK\r\nContent-Type: application/json"
#define STREAM_OK	"HTTP/1.1 200 OK\r\nContent-Type: " \
			"application/vnd.docker.raw-stream"

/*
 * engine_container_wait with a log that the follow stream delivers
 * differently from the stored copy (podman 4.3 garbles busy follow
 * streams now and then). The log file must end up holding exactly what
 * was there before plus the stored log, once.
 */
static void
wait_with_logs(const struct buf *followed, const struct buf *stored,
    const char *want_tail, uint64_t want_written)
{
	static const char inspect[] = "{\"State\": {\"Status\": \"exited\","
	    " \"Running\": false, \"ExitCode\": 0, \"OOMKilled\": false},"
	    " \"HostConfig\": {\"Memory\": 0}}";
	static const char waited[] = "{\"StatusCode\": 0}";
	struct route routes[] = {
		{ "logs?stdout=1&stderr=1&follow=1 ", STREAM_OK,
		    followed->ptr, followed->len },
		{ "logs?stdout=1&stderr=1&follow=0 ", STREAM_OK,
		    stored->ptr, stored->len },
		{ "POST /v1.41/containers/abc/wait", JSON_OK, waited,
		    sizeof(waited) - 1 },
		{ "GET /v1.41/containers/abc/json", JSON_OK, inspect,
		    sizeof(inspect) - 1 },
	};
	struct engine_waitopts wo;
	struct engine_result res;
	struct engine *e;
	struct wwerr err;
	struct rfake r;
	char path[320], *got;
	size_t len;
	int fd;

	memset(&r, 0, sizeof(r));
	fake_start(&r.f, "unused", NULL, 1);
	r.routes = routes;
	r.nroutes = WW_ARRLEN(routes);
	assert_int_equal(pthread_create(&r.f.th, NULL, rfake_serve, &r), 0);
	e = fake_engine(&r.f);

	/* As builderd opens job logs: O_APPEND, a line of its own first. */
	snprintf(path, sizeof(path), "%s/job.log", r.f.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "builderd: started\n", 18), 18);
	memset(&wo, 0, sizeof(wo));
	wo.log_fd = fd;
	wo.timeout_ms = 20000;
	assert_int_equal(engine_container_wait(e, "abc", &wo, &res, &err), 0);
	assert_int_equal(res.state.exit_code, 0);
	assert_false(res.timed_out);
	assert_int_equal(res.log.written, want_written);
	assert_int_equal(write(fd, "builderd: done\n", 15), 15);
	close(fd);
	assert_int_equal(util_read_file(path, 1 << 20, &got, &len), 0);
	assert_string_equal(got, want_tail);
	free(got);
	unlink(path);
	engine_close(e);
	fake_stop(&r.f);
}

static void
test_wait_log_catch_up(void **state)
{
	struct buf followed, stored;

	(void)state;
	buf_init(&followed, 4096);
	buf_init(&stored, 4096);
	frame(&stored, 1, "one\n", 4);
	frame(&stored, 2, "err\n", 4);
	frame(&stored, 1, "two\n", 4);
	frame(&stored, 1, "three\n", 6);

	/* The follow stream ended early: the rest is appended. */
	frame(&followed, 1, "one\n", 4);
	frame(&followed, 2, "err\n", 4);
	wait_with_logs(&followed, &stored, "builderd: started\n"
	    "one\nerr\ntwo\nthree\nbuilderd: done\n", 18);

	/* It skipped "two" and went on: the log is written again. */
	buf_reset(&followed);
	frame(&followed, 1, "one\n", 4);
	frame(&followed, 2, "err\n", 4);
	frame(&followed, 1, "three\n", 6);
	wait_with_logs(&followed, &stored, "builderd: started\n"
	    "one\nerr\ntwo\nthree\nbuilderd: done\n", 18);

	/* It repeated a chunk (longer than the stored log). */
	buf_reset(&followed);
	frame(&followed, 1, "one\n", 4);
	frame(&followed, 1, "one\n", 4);
	frame(&followed, 2, "err\n", 4);
	frame(&followed, 1, "two\n", 4);
	frame(&followed, 1, "three\n", 6);
	wait_with_logs(&followed, &stored, "builderd: started\n"
	    "one\nerr\ntwo\nthree\nbuilderd: done\n", 18);

	/* Identical: nothing rewritten, nothing doubled. */
	buf_reset(&followed);
	buf_add(&followed, stored.ptr, stored.len);
	wait_with_logs(&followed, &stored, "builderd: started\n"
	    "one\nerr\ntwo\nthree\nbuilderd: done\n", 18);
	buf_free(&followed);
	buf_free(&stored);
}

static void
test_unreachable(void **state)
{
	struct engine *e;
	struct wwerr err;

	(void)state;
	assert_int_equal(engine_open("unix:///nonexistent/ww/engine.sock",
	    NULL, &e, &err), 0);
	assert_int_equal(engine_ping(e, &err), -1);
	assert_int_equal(err.code, ENGINE_E_CONNECT);
	assert_non_null(strstr(err.msg, "engine unix:///nonexistent/ww/"
	    "engine.sock: GET /_ping: "));
	/* Ids are checked before anything is sent. */
	assert_int_equal(engine_container_start(e, "../images", &err), -1);
	assert_int_equal(err.code, ENGINE_E_ARG);
	assert_int_equal(engine_container_kill(e, "abc", "KILL&x=1", &err), -1);
	assert_int_equal(err.code, ENGINE_E_ARG);
	engine_close(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demux_split_everywhere),
		cmocka_unit_test(test_demux_large_frame),
		cmocka_unit_test(test_demux_raw),
		cmocka_unit_test(test_demux_errors),
		cmocka_unit_test(test_spec_json_full),
		cmocka_unit_test(test_spec_json_minimal),
		cmocka_unit_test(test_spec_json_invalid),
		cmocka_unit_test(test_open_urls),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_hostile_too_big),
		cmocka_unit_test(test_hostile_http_errors),
		cmocka_unit_test(test_hostile_malformed),
		cmocka_unit_test(test_hostile_silent),
		cmocka_unit_test(test_logs_from_fake),
		cmocka_unit_test(test_wait_log_catch_up),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
