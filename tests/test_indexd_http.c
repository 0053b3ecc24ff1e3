/*
 * test_indexd_http.c: the HTTP/1.1 layer on a real loopback socket: the
 * server runs its event loop in a thread, the test talks raw HTTP over
 * blocking sockets. Covers keep-alive, pipelining, HEAD, body streaming
 * with 100-continue, early answers with lingering close, files with
 * ranges, every limit (431, 414, 400, 505, 411, 408, 503), drain, and the
 * pure helpers.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "buf.h"
#include "hash.h"
#include "indexd_http.h"
#include "util.h"

struct srv {
	struct event_base	*base;
	struct http_server	*http;
	struct http_conn_limit	 cl;
	struct event		*stop_ev;
	int			 stop_pipe[2];
	pthread_t		 thr;
	char			 port[16];
	char			 filepath[512];
	int			 ref_freed;	/* atomic */
	int			 logged;	/* atomic */
	int			 last_status;	/* atomic */
	int			 drained;
};

static struct srv S;

/* ---- handler ---- */

struct bodystate {
	struct sha256	 h;
	uint64_t	 n;
};

static int
body_data(struct http_request *r, const void *d, size_t len, void *arg)
{
	struct bodystate *b = arg;

	sha256_update(&b->h, d, len);
	b->n += len;
	return 0;
}

static void
body_done(struct http_request *r, int status, void *arg)
{
	struct bodystate *b = arg;
	unsigned char d[32];
	char hex[65], msg[200];
	int n;

	sha256_final(&b->h, d);
	if (status == 0) {
		hash_hex(d, 32, hex);
		n = snprintf(msg, sizeof(msg), "len=%llu sha=%s",
		    (unsigned long long)b->n, hex);
		http_response_begin(r, 200, NULL);
		http_response_end(r, msg, (size_t)n);
	}
	free(b);
}

static void
ref_cleanup(const void *data, size_t len, void *arg)
{
	__atomic_add_fetch(&S.ref_freed, 1, __ATOMIC_SEQ_CST);
}

static void
handler(struct http_request *r, void *arg)
{
	const char *path = http_request_path(r);
	char buf[512];
	int n;

	if (!strcmp(path, "/echo")) {
		const char *q = http_request_query(r);
		const char *x = http_request_header(r, "x-test");
		n = snprintf(buf, sizeof(buf), "%s %s q=%s x=%s",
		    http_request_method_str(r), path, q ? q : "-",
		    x ? x : "-");
		http_response_begin(r, 200, NULL);
		http_response_header(r, "Content-Type", "text/plain");
		http_response_end(r, buf, (size_t)n);
	} else if (!strcmp(path, "/body")) {
		struct bodystate *b = calloc(1, sizeof(*b));
		sha256_init(&b->h);
		http_request_read_body(r, body_data, body_done, b);
	} else if (!strcmp(path, "/early")) {
		http_response_error(r, 413, "too big for me");
	} else if (!strcmp(path, "/ref")) {
		static const char body[] = "by reference";
		http_response_begin(r, 200, NULL);
		http_response_end_ref(r, body, sizeof(body) - 1, ref_cleanup,
		    NULL);
	} else if (!strcmp(path, "/file")) {
		int fd = open(S.filepath, O_RDONLY);
		uint64_t first, last;
		int rr = http_parse_range(http_request_header(r, "Range"),
		    1000000, &first, &last);
		if (rr == 2) {
			close(fd);
			http_response_begin(r, 416, NULL);
			http_response_end(r, "", 0);
		} else if (rr == 1) {
			http_response_begin(r, 206, NULL);
			http_response_end_file(r, fd, (off_t)first,
			    (off_t)(last - first + 1));
		} else {
			http_response_begin(r, 200, NULL);
			http_response_end_file(r, fd, 0, 1000000);
		}
	} else if (!strcmp(path, "/reason")) {
		http_response_begin(r, 409, "file exists\r\nX-Injected: 1");
		http_response_end(r, "", 0);
	} else {
		http_response_error(r, 404, "nothing at %s", path);
	}
}

static void
on_log(const struct http_log_entry *e, void *arg)
{
	__atomic_store_n(&S.last_status, e->status, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&S.logged, 1, __ATOMIC_SEQ_CST);
}

static void
drained(void *arg)
{
	S.drained = 1;
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;

	if (read(fd, &c, 1) != 1)
		return;
	if (c == 'd') {
		http_server_drain(S.http, drained, NULL);
		return;
	}
	event_base_loopexit(S.base, NULL);
}

static void *
srv_main(void *arg)
{
	event_base_dispatch(S.base);
	return NULL;
}

static int
setup(void **state)
{
	struct http_limits lim;
	struct http_callbacks cb;
	char ebuf[256] = "";
	const char *tmp = getenv("WW_TEST_TMP");
	char *data;
	int fd, i;

	signal(SIGPIPE, SIG_IGN);
	memset(&S, 0, sizeof(S));
	snprintf(S.filepath, sizeof(S.filepath), "%s/test_indexd_http.%d",
	    tmp ? tmp : "/tmp", (int)getpid());
	data = malloc(1000000);
	for (i = 0; i < 1000000; i++)
		data[i] = (char)(i * 7);
	fd = open(S.filepath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, data, 1000000), 1000000);
	close(fd);
	free(data);

	memset(&lim, 0, sizeof(lim));
	lim.max_header_size = 1024;
	lim.max_url_len = 256;
	lim.max_headers = 20;
	lim.header_timeout = 1;
	lim.read_timeout = 1;
	lim.write_timeout = 5;
	lim.linger_timeout = 2;
	lim.discard_max = 4096;
	memset(&cb, 0, sizeof(cb));
	cb.request = handler;
	cb.log = on_log;
	S.cl.max = 4;
	S.base = event_base_new();
	assert_int_equal(http_server_new(S.base, &lim, &cb, &S.cl, &S.http),
	    0);
	fd = http_bind("127.0.0.1", "0", 0, 64, S.port, sizeof(S.port), ebuf,
	    sizeof(ebuf));
	if (fd == -1)
		fail_msg("bind: %s", ebuf);
	assert_int_equal(http_server_listen_fd(S.http, fd, 0), 0);
	assert_int_equal(pipe(S.stop_pipe), 0);
	S.stop_ev = event_new(S.base, S.stop_pipe[0], EV_READ | EV_PERSIST,
	    stop_cb, NULL);
	event_add(S.stop_ev, NULL);
	assert_int_equal(pthread_create(&S.thr, NULL, srv_main, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	assert_int_equal(write(S.stop_pipe[1], "q", 1), 1);
	pthread_join(S.thr, NULL);
	http_server_free(S.http);
	event_free(S.stop_ev);
	event_base_free(S.base);
	close(S.stop_pipe[0]);
	close(S.stop_pipe[1]);
	unlink(S.filepath);
	return 0;
}

/* ---- client ---- */

static int
connect_srv(void)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	uint64_t port;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(util_parse_u64(S.port, 65535, &port), 0);
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
send_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = send(fd, c, len, MSG_NOSIGNAL);
		assert_true(n > 0);
		c += n;
		len -= (size_t)n;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

struct resp {
	int	 status;
	char	 head[4096];
	char	*body;
	size_t	 blen;
	int	 closed;	/* server closed after it */
};

/* Read bytes into b until it holds at least want bytes (or EOF). */
static int
fill(int fd, struct buf *b, size_t want)
{
	char tmp[65536];
	ssize_t n;

	while (b->len < want) {
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			return -1;
		buf_add(b, tmp, (size_t)n);
	}
	return 0;
}

/* Parse one response from the stream in b (reading more as needed). */
static int
read_resp(int fd, struct buf *b, int head_only, struct resp *r)
{
	char *end, *cl;
	size_t hlen, blen = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if ((end = strstr(b->ptr ? b->ptr : "", "\r\n\r\n")) != NULL)
			break;
		if (fill(fd, b, b->len + 1) == -1)
			return -1;
	}
	hlen = (size_t)(end - b->ptr) + 4;
	assert_true(hlen < sizeof(r->head));
	memcpy(r->head, b->ptr, hlen);
	r->head[hlen] = '\0';
	r->status = atoi(r->head + 9);	/* banned:ok (test) */
	if ((cl = strcasestr(r->head, "\r\nContent-Length: ")) != NULL &&
	    !head_only)
		blen = strtoull(cl + 18, NULL, 10);
	if (fill(fd, b, hlen + blen) == -1)
		return -1;
	r->body = malloc(blen + 1);
	memcpy(r->body, b->ptr + hlen, blen);
	r->body[blen] = '\0';
	r->blen = blen;
	memmove(b->ptr, b->ptr + hlen + blen, b->len - hlen - blen);
	b->len -= hlen + blen;
	b->ptr[b->len] = '\0';
	return 0;
}

static int
is_closed(int fd)
{
	char c;

	return recv(fd, &c, 1, 0) == 0;
}

/* One request on a fresh connection; returns the response. */
static void
roundtrip(const char *req, struct resp *r)
{
	struct buf b;
	int fd = connect_srv();

	buf_init(&b, 1 << 24);
	send_str(fd, req);
	assert_int_equal(read_resp(fd, &b, 0, r), 0);
	r->closed = is_closed(fd);
	buf_free(&b);
	close(fd);
}

/* ---- tests ---- */

static void
test_keepalive_pipelining_head(void **state)
{
	struct resp r;
	struct buf b;
	int fd = connect_srv(), i;

	(void)state;
	buf_init(&b, 1 << 24);
	send_str(fd, "GET /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: one\r\n\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "GET /echo q=a=1 x=one");
	assert_non_null(strstr(r.head, "\r\nDate: "));
	assert_null(strstr(r.head, "Connection: close"));
	free(r.body);
	/* three pipelined requests, one of them HEAD, in one write */
	send_str(fd, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
	    "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /ref HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_string_equal(r.body, "GET /echo q=- x=-");
	free(r.body);
	assert_int_equal(read_resp(fd, &b, 1, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "Content-Length: 18\r\n"));
	free(r.body);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_string_equal(r.body, "by reference");
	free(r.body);
	/* the server drops its reference once the bytes are written */
	for (i = 0; i < 100 && __atomic_load_n(&S.ref_freed,
	    __ATOMIC_SEQ_CST) == 0; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&S.ref_freed, __ATOMIC_SEQ_CST), 1);
	/* HTTP/1.0 closes unless asked */
	send_str(fd, "GET /echo HTTP/1.0\r\n\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_true(is_closed(fd));
	free(r.body);
	close(fd);
	buf_free(&b);

	/* HTTP/1.0 keep-alive on request; absolute-form target */
	fd = connect_srv();
	buf_init(&b, 1 << 24);
	send_str(fd, "GET http://example.org/echo?z HTTP/1.0\r\n"
	    "Connection: keep-alive\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_string_equal(r.body, "GET /echo q=z x=-");
	assert_non_null(strstr(r.head, "Connection: keep-alive"));
	free(r.body);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_true(is_closed(fd));
	free(r.body);
	close(fd);
	buf_free(&b);
}

static void
test_reason_sanitized(void **state)
{
	struct resp r;

	(void)state;
	roundtrip("GET /reason HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.head, "409 file exists X-Injected: 1\r\n"));
	assert_null(strstr(r.head, "\r\nX-Injected"));
	free(r.body);
}

static void
test_body_streaming(void **state)
{
	struct resp r;
	struct buf b;
	unsigned char d[32];
	char hex[65], want[200], head[200];
	char *body;
	size_t len = 3 * 1024 * 1024 + 17, i;
	int fd;

	(void)state;
	body = malloc(len);
	for (i = 0; i < len; i++)
		body[i] = (char)(i % 251);
	hash_sha256_mem(body, len, d);
	hash_hex(d, 32, hex);
	snprintf(want, sizeof(want), "len=%zu sha=%s", len, hex);

	fd = connect_srv();
	buf_init(&b, 1 << 24);
	snprintf(head, sizeof(head), "POST /body HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	send_str(fd, head);
	send_all(fd, body, len);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, want);
	free(r.body);

	/* same connection: Expect: 100-continue gets a 100 first */
	snprintf(head, sizeof(head), "POST /body HTTP/1.1\r\nHost: x\r\n"
	    "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n", len);
	send_str(fd, head);
	assert_int_equal(read_resp(fd, &b, 1, &r), 0);
	assert_int_equal(r.status, 100);
	free(r.body);
	send_all(fd, body, len);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_string_equal(r.body, want);
	free(r.body);
	close(fd);
	buf_free(&b);
	free(body);
}

static void
test_early_answer(void **state)
{
	struct resp r;
	struct buf b;
	char *body;
	size_t len = 2 * 1024 * 1024;
	int fd;

	(void)state;
	/* small unread body: discarded, connection kept */
	fd = connect_srv();
	buf_init(&b, 1 << 24);
	send_str(fd, "POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
	    "\r\n0123456789GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_int_equal(r.status, 413);
	assert_null(strstr(r.head, "Connection: close"));
	free(r.body);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_string_equal(r.body, "GET /echo q=- x=-");
	free(r.body);
	close(fd);
	buf_reset(&b);

	/* big unread body: the client can still send it all (lingering)
	 * and then read the answer, which closes the connection */
	body = calloc(1, len);
	fd = connect_srv();
	send_str(fd, "POST /early HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2097152\r\n\r\n");
	send_all(fd, body, len);
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_string_equal(r.body, "too big for me\n");
	assert_true(is_closed(fd));
	free(r.body);
	close(fd);
	buf_free(&b);
	free(body);
}

static void
test_file_ranges(void **state)
{
	struct resp r;
	size_t i;
	int ok = 1;

	(void)state;
	roundtrip("GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 1000000);
	for (i = 0; i < r.blen; i++)
		ok &= r.body[i] == (char)(i * 7);
	assert_true(ok);
	free(r.body);
	roundtrip("GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=999990-\r\n"
	    "\r\n", &r);
	assert_int_equal(r.status, 206);
	assert_int_equal(r.blen, 10);
	assert_int_equal(r.body[0], (char)(999990 * 7));
	free(r.body);
	roundtrip("GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-\r\n"
	    "\r\n", &r);
	assert_int_equal(r.status, 416);
	free(r.body);
}

static void
expect_status(const char *req, int status)
{
	struct resp r;

	roundtrip(req, &r);
	if (r.status != status)
		fail_msg("request %.60s: status %d, want %d", req, r.status,
		    status);
	assert_true(r.closed);
	free(r.body);
}

static void
test_limits(void **state)
{
	char big[4096];

	(void)state;
	/* header block over 1024 bytes */
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + strlen(big), 'a', 1200);
	strcat(big, "\r\n\r\n");	/* banned:ok (test, sized) */
	expect_status(big, 431);
	/* target over 256 bytes, with and without the head complete */
	memset(big, 0, sizeof(big));
	memcpy(big, "GET /", 5);
	memset(big + 5, 'u', 300);
	strcat(big, " HTTP/1.1\r\nHost: x\r\n\r\n");	/* banned:ok */
	expect_status(big, 414);
	big[5 + 300] = '\0';
	memset(big + 5, 'u', 1100);
	big[1105] = '\0';
	expect_status(big, 414);
	/* too many header fields (20) */
	memset(big, 0, sizeof(big));
	strcat(big, "GET /echo HTTP/1.1\r\nHost: x\r\n");	/* banned:ok */
	{
		int i;
		for (i = 0; i < 25; i++)
			strcat(big, "A: b\r\n");	/* banned:ok */
	}
	strcat(big, "\r\n");	/* banned:ok */
	expect_status(big, 431);
	expect_status("GARBAGE\r\n\r\n", 400);
	{
		static const char nul[] = "GET /echo HTTP/1.1\r\nHost: x\0\r\n"
		    "X: y\r\n\r\n";
		struct resp r;
		struct buf b;
		int fd = connect_srv();

		buf_init(&b, 1 << 20);
		send_all(fd, nul, sizeof(nul) - 1);
		assert_int_equal(read_resp(fd, &b, 0, &r), 0);
		assert_int_equal(r.status, 400);
		assert_true(is_closed(fd));
		free(r.body);
		buf_free(&b);
		close(fd);
	}
	expect_status("GET /echo HTTP/1.1\r\n\r\n", 400);	/* no Host */
	expect_status("GET /echo HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400);
	expect_status("GET /echo HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
	    400);
	expect_status("GET echo HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_status("GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	expect_status("GET /echo FTP/1.0\r\nHost: x\r\n\r\n", 400);
	expect_status("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411);
	expect_status("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\nContent-Length: 5\r\n\r\nhello", 400);
	expect_status("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\nhello!", 400);
	expect_status("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n"
	    "\r\n", 400);
	expect_status("GET /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n",
	    417);
}

static void
test_timeouts(void **state)
{
	struct buf b;
	struct resp r;
	struct timeval t0, t1;
	int fd;

	(void)state;
	/* slowloris: a byte at a time never completes the head in time */
	fd = connect_srv();
	buf_init(&b, 1 << 20);
	gettimeofday(&t0, NULL);
	send_str(fd, "GET /echo HTTP/1.1\r\n");
	usleep(400000);
	send_str(fd, "Host: x\r\n");
	usleep(400000);
	send_str(fd, "X-A: b\r\n");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	gettimeofday(&t1, NULL);
	assert_int_equal(r.status, 408);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_true(is_closed(fd));
	free(r.body);
	close(fd);
	buf_reset(&b);

	/* idle connection: closed without a response */
	fd = connect_srv();
	assert_true(is_closed(fd));
	close(fd);

	/* a body that stops arriving */
	fd = connect_srv();
	send_str(fd, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
	    "\r\n0123456789");
	assert_int_equal(read_resp(fd, &b, 0, &r), 0);
	assert_int_equal(r.status, 408);
	assert_true(is_closed(fd));
	free(r.body);
	close(fd);
	buf_free(&b);
}

static void
test_max_connections(void **state)
{
	int fds[4], extra, i;
	struct buf b;
	struct resp r;

	(void)state;
	/* connections of earlier tests may still be lingering */
	for (i = 0; i < 500 && __atomic_load_n(&S.cl.current,
	    __ATOMIC_SEQ_CST) > 0; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&S.cl.current, __ATOMIC_SEQ_CST), 0);
	for (i = 0; i < 4; i++) {
		fds[i] = connect_srv();
		send_str(fds[i], "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	}
	buf_init(&b, 1 << 20);
	for (i = 0; i < 4; i++) {
		assert_int_equal(read_resp(fds[i], &b, 0, &r), 0);
		assert_int_equal(r.status, 200);
		free(r.body);
	}
	extra = connect_srv();
	send_str(extra, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(extra, &b, 0, &r), 0);
	assert_int_equal(r.status, 503);
	assert_true(is_closed(extra));
	free(r.body);
	close(extra);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	usleep(200000);		/* let the server see the closes */
	extra = connect_srv();
	send_str(extra, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(extra, &b, 0, &r), 0);
	assert_int_equal(r.status, 200);
	free(r.body);
	close(extra);
	buf_free(&b);
}

static void
test_logging(void **state)
{
	struct resp r;
	int before = __atomic_load_n(&S.logged, __ATOMIC_SEQ_CST);

	(void)state;
	roundtrip("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	usleep(100000);
	assert_int_equal(__atomic_load_n(&S.logged, __ATOMIC_SEQ_CST),
	    before + 1);
	assert_int_equal(__atomic_load_n(&S.last_status, __ATOMIC_SEQ_CST),
	    404);
}

/* last: drain closes idle connections and stops listening */
static void
test_drain(void **state)
{
	struct resp r;
	struct buf b;
	int idle, busy;

	(void)state;
	idle = connect_srv();
	busy = connect_srv();
	buf_init(&b, 1 << 20);
	send_str(busy, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(busy, &b, 0, &r), 0);
	free(r.body);
	/* a request whose head is half there when the drain starts */
	send_str(busy, "GET /echo HTTP/1.1\r\n");
	usleep(100000);
	assert_int_equal(write(S.stop_pipe[1], "d", 1), 1);
	assert_true(is_closed(idle));
	send_str(busy, "Host: x\r\n\r\n");
	assert_int_equal(read_resp(busy, &b, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "Connection: close"));
	assert_true(is_closed(busy));
	free(r.body);
	close(idle);
	close(busy);
	buf_free(&b);
}

static void
test_helpers(void **state)
{
	char out[64];
	uint64_t a, z;

	(void)state;
	assert_int_equal(http_urldecode("a%2Bb%20c+d", 11, out, sizeof(out)),
	    0);
	assert_string_equal(out, "a+b c+d");
	assert_int_equal(http_urldecode("%zz", 3, out, sizeof(out)), -1);
	assert_int_equal(http_urldecode("%2", 2, out, sizeof(out)), -1);
	assert_int_equal(http_urldecode("a%00", 4, out, sizeof(out)), -1);
	assert_int_equal(http_urldecode("abcdef", 6, out, 6), -1);
	assert_int_equal(http_urldecode("abcde", 5, out, 6), 0);

	assert_int_equal(http_query_get("a=1&format=json&b", "format", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "json");
	assert_int_equal(http_query_get("format=application%2Fvnd.pypi.simple."
	    "v1%2Bjson", "format", out, sizeof(out)), 0);
	assert_string_equal(out, "application/vnd.pypi.simple.v1+json");
	assert_int_equal(http_query_get("b&a=x+y", "a", out, sizeof(out)), 0);
	assert_string_equal(out, "x y");
	assert_int_equal(http_query_get("b", "b", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(http_query_get("a=1", "format", out, sizeof(out)), -1);

	assert_int_equal(http_parse_range("bytes=0-99", 1000, &a, &z), 1);
	assert_true(a == 0 && z == 99);
	assert_int_equal(http_parse_range("bytes=900-", 1000, &a, &z), 1);
	assert_true(a == 900 && z == 999);
	assert_int_equal(http_parse_range("bytes=500-5000", 1000, &a, &z), 1);
	assert_true(a == 500 && z == 999);
	assert_int_equal(http_parse_range("bytes=-100", 1000, &a, &z), 1);
	assert_true(a == 900 && z == 999);
	assert_int_equal(http_parse_range("bytes=-5000", 1000, &a, &z), 1);
	assert_true(a == 0 && z == 999);
	assert_int_equal(http_parse_range("bytes=1000-", 1000, &a, &z), 2);
	assert_int_equal(http_parse_range("bytes=-0", 1000, &a, &z), 2);
	assert_int_equal(http_parse_range("bytes=0-0", 0, &a, &z), 2);
	assert_int_equal(http_parse_range("bytes=0-1,5-6", 1000, &a, &z), 0);
	assert_int_equal(http_parse_range("bytes=5-1", 1000, &a, &z), -1);
	assert_int_equal(http_parse_range("items=0-1", 1000, &a, &z), -1);
	assert_int_equal(http_parse_range("bytes=x-1", 1000, &a, &z), -1);
	assert_int_equal(http_parse_range("bytes=99999999999999999999999-",
	    1000, &a, &z), -1);

	assert_true(http_etag_match("\"abc\"", "\"abc\""));
	assert_true(http_etag_match("W/\"abc\"", "\"abc\""));
	assert_true(http_etag_match("\"x\", \"abc\"", "\"abc\""));
	assert_true(http_etag_match("*", "\"abc\""));
	assert_false(http_etag_match("\"abcd\"", "\"abc\""));
	assert_false(http_etag_match("\"ab", "\"abc\""));
	assert_false(http_etag_match(NULL, "\"abc\""));

	http_format_date(784111777, out, sizeof(out));
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_string_equal(http_status_reason(416), "Range Not Satisfiable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_keepalive_pipelining_head),
		cmocka_unit_test(test_reason_sanitized),
		cmocka_unit_test(test_body_streaming),
		cmocka_unit_test(test_early_answer),
		cmocka_unit_test(test_file_ranges),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_max_connections),
		cmocka_unit_test(test_logging),
		cmocka_unit_test(test_drain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
