/*
 * http.c: indexd's HTTP/1.1 server on libevent bufferevents (see
 * indexd_http.h for why not evhttp). One connection = one bufferevent plus
 * one timer; a connection moves through phases:
 *
 *   HEAD   waiting for a request head (total deadline: header_timeout)
 *   BODY   the request body is delivered to the handler or discarded
 *   CLOSE  the last response is queued; close once it is flushed
 *   LINGER after a close, read and drop what the client still sends so
 *          that it can read our response instead of getting a reset
 *
 * Handlers never free connections; every state change happens in
 * conn_advance(), called at the end of the read/write callbacks.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "indexd_http.h"
#include "log.h"
#include "util.h"

#define HTTP_OUT_HIGH		(64 * 1024)	/* pause pipelining above */
#define HTTP_REJECT_EXTRA	64		/* 503 conns beyond the cap */
#define HTTP_RESP_HDR_MAX	(32 * 1024)

enum conn_phase { PH_HEAD, PH_BODY, PH_CLOSE, PH_LINGER };

struct http_hdr {
	char	*name;
	char	*value;
};

struct http_request {
	struct http_conn *conn;
	enum http_method method;
	char		*method_str;
	char		*target;
	char		*path;		/* copy of target up to '?' */
	char		*query;
	char		*version_str;
	int		 minor;
	struct http_hdr	*hdrs;
	size_t		 nhdrs;
	int64_t		 clen;		/* -1: none */
	uint64_t	 body_left;
	int		 expect_continue;
	int		 keepalive;
	int		 has_te;
	/* body streaming */
	http_body_cb	 on_data;
	http_body_done_cb on_done;
	void		*body_arg;
	int		 reading_body;
	int		 body_stopped;	/* on_data said stop */
	int		 done_called;
	/* response */
	int		 status;
	int		 began;
	int		 responded;
	int		 close;
	int		 parsed;	/* a head was parsed (log it) */
	int		 logged;
	uint64_t	 bytes;
	uint64_t	 body_bytes;
	int		 tag;
	char		 user[128];
	void		*data;
	int64_t		 start_us;
};

struct http_conn {
	struct http_server *srv;
	struct bufferevent *bev;
	struct event	*timer;
	int		 fd;
	int		 tls;
	int		 reject;	/* over the cap: 503 and close */
	enum conn_phase	 phase;
	int		 got_bytes;	/* part of a head has arrived */
	int		 timer_armed;
	int		 eof;
	int		 read_to;	/* read timeout set now, -1: none */
	int		 corked;	/* TCP_CORK set for a file response */
	char		 peer[INET6_ADDRSTRLEN];
	char		*hbuf;
	size_t		 hcap;
	char		*pathbuf;
	size_t		 pcap;
	struct evbuffer	*stage;		/* a response before it is sent */
	struct buf	 rh;		/* response head being built */
	struct http_request req;
	TAILQ_ENTRY(http_conn) entry;
};

struct http_listener {
	struct http_server	*srv;
	struct evconnlistener	*l;
	int			 tls;
	TAILQ_ENTRY(http_listener) entry;
};

struct http_server {
	struct event_base	*base;
	struct http_limits	 lim;
	struct http_callbacks	 cb;
	struct http_conn_limit	*cl;
	SSL_CTX			*tls;
	int			 nconns;
	int			 draining;
	void			(*drained)(void *);
	void			*drained_arg;
	struct event		*drain_ev;
	char			 date[64];
	time_t			 date_sec;
	TAILQ_HEAD(, http_conn)	 conns;
	TAILQ_HEAD(, http_listener) listeners;
};

static int	conn_advance(struct http_conn *c);
static void	conn_free(struct http_conn *c);
static void	conn_arm_timer(struct http_conn *c, int secs);
static void	request_finish(struct http_conn *c);
static void	conn_set_timeouts(struct http_conn *c, int read_secs);
static void	request_log(struct http_conn *c);

/* ------------------------------------------------------------------ */
/* pure helpers */

static const struct {
	int		 code;
	const char	*reason;
} http_reasons[] = {
	{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
	{ 204, "No Content" }, { 206, "Partial Content" },
	{ 301, "Moved Permanently" }, { 302, "Found" },
	{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
	{ 408, "Request Timeout" }, { 409, "Conflict" },
	{ 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" }, { 422, "Unprocessable Content" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
	{ 507, "Insufficient Storage" },
};

const char *
http_status_reason(int status)
{
	size_t i;

	for (i = 0; i < WW_ARRLEN(http_reasons); i++)
		if (http_reasons[i].code == status)
			return http_reasons[i].reason;
	return "Unknown";
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
http_urldecode(const char *src, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo, ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if (ch == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = hexval((unsigned char)src[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)src[i + 2])) < 0)
				return -1;
			ch = hi * 16 + lo;
			if (ch == 0)
				return -1;
			i += 2;
		} else if (ch == '\0')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)ch;
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Form decoding: like http_urldecode but '+' means space. */
static int
form_decode(const char *src, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo, ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if (ch == '+')
			ch = ' ';
		else if (ch == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = hexval((unsigned char)src[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)src[i + 2])) < 0)
				return -1;
			ch = hi * 16 + lo;
			if (ch == 0)
				return -1;
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

int
http_query_get(const char *query, const char *key, char *out, size_t outlen)
{
	const char *p, *amp, *eq;
	char name[128];
	size_t klen;

	if (query == NULL || outlen == 0)
		return -1;
	for (p = query; *p != '\0'; p = amp + 1) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq ? eq : amp) - p);
		if (form_decode(p, klen, name, sizeof(name)) == 0 &&
		    strcmp(name, key) == 0) {
			if (eq == NULL) {
				out[0] = '\0';
				return 0;
			}
			return form_decode(eq + 1, (size_t)(amp - eq - 1), out,
			    outlen);
		}
		if (*amp == '\0')
			break;
	}
	return -1;
}

void
http_format_date(int64_t unix_sec, char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t t = (time_t)unix_sec;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
parse_u64_prefix(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

int
http_parse_range(const char *value, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	const char *p = value;
	uint64_t a, b;

	if (value == NULL)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "bytes", 5) != 0)
		return -1;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strchr(p, ',') != NULL)
		return 0;	/* multiple ranges: serve it all (allowed) */
	if (*p == '-') {
		p++;
		if (parse_u64_prefix(&p, &b) == -1)
			return -1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return -1;
		if (b == 0 || size == 0)
			return 2;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (parse_u64_prefix(&p, &a) == -1 || *p++ != '-')
		return -1;
	if (*p == '\0' || *p == ' ' || *p == '\t') {
		b = UINT64_MAX;
	} else {
		if (parse_u64_prefix(&p, &b) == -1 || b < a)
			return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return -1;
	if (a >= size)
		return 2;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

int
http_etag_match(const char *inm, const char *etag)
{
	const char *p = inm, *start, *tag = etag;
	size_t taglen;

	if (inm == NULL || etag == NULL)
		return 0;
	if (strncmp(tag, "W/", 2) == 0)
		tag += 2;
	taglen = strlen(tag);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		start = p;
		if (*p == '"') {
			p = strchr(p + 1, '"');
			if (p == NULL)
				return 0;
			p++;
		} else {
			while (*p != '\0' && *p != ',' && *p != ' ')
				p++;
		}
		if ((size_t)(p - start) == taglen &&
		    memcmp(start, tag, taglen) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* binding */

int
http_bind(const char *host, const char *port, int reuseport, int backlog,
    char *boundport, size_t boundportlen, char *errbuf, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(errbuf, errlen, "%s:%s: %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
			    sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		snprintf(errbuf, errlen, "%s:%s: %s", host, port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		if (errbuf[0] == '\0')
			snprintf(errbuf, errlen, "%s:%s: no usable address",
			    host, port);
		return -1;
	}
	if (boundport != NULL) {
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
			snprintf(errbuf, errlen, "getsockname: %s",
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (ss.ss_family == AF_INET6)
			snprintf(boundport, boundportlen, "%u", (unsigned)ntohs(
			    ((struct sockaddr_in6 *)&ss)->sin6_port));
		else
			snprintf(boundport, boundportlen, "%u", (unsigned)ntohs(
			    ((struct sockaddr_in *)&ss)->sin_port));
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* request accessors */

enum http_method
http_request_method(const struct http_request *r)
{
	return r->method;
}

const char *
http_request_method_str(const struct http_request *r)
{
	return r->method_str;
}

const char *
http_request_path(const struct http_request *r)
{
	return r->path;
}

const char *
http_request_query(const struct http_request *r)
{
	return r->query;
}

const char *
http_request_target(const struct http_request *r)
{
	return r->target;
}

int
http_request_version_minor(const struct http_request *r)
{
	return r->minor;
}

const char *
http_request_header(const struct http_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

int64_t
http_request_content_length(const struct http_request *r)
{
	return r->clen;
}

const char *
http_request_peer(const struct http_request *r)
{
	return r->conn->peer;
}

int
http_request_is_tls(const struct http_request *r)
{
	return r->conn->tls;
}

void
http_request_set_tag(struct http_request *r, int tag)
{
	r->tag = tag;
}

void
http_request_set_user(struct http_request *r, const char *user)
{
	util_strlcpy(r->user, user ? user : "", sizeof(r->user));
}

void
http_request_set_data(struct http_request *r, void *data)
{
	r->data = data;
}

void *
http_request_data(const struct http_request *r)
{
	return r->data;
}

void
http_request_read_body(struct http_request *r, http_body_cb on_data,
    http_body_done_cb on_done, void *arg)
{
	struct http_conn *c = r->conn;

	r->on_data = on_data;
	r->on_done = on_done;
	r->body_arg = arg;
	r->reading_body = 1;
	if (r->expect_continue && r->body_left > 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		bufferevent_write(c->bev, cont, sizeof(cont) - 1);
	}
	r->expect_continue = 0;
}

/* ------------------------------------------------------------------ */
/* responses */

static const char *
server_date(struct http_server *s)
{
	time_t now = time(NULL);

	if (now != s->date_sec) {
		s->date_sec = now;
		http_format_date((int64_t)now, s->date, sizeof(s->date));
	}
	return s->date;
}

void
http_response_begin(struct http_request *r, int status, const char *reason)
{
	struct http_conn *c = r->conn;
	char clean[256];
	size_t i, o = 0;

	if (r->began || r->responded) {
		log_warnx("%s: response already started (%d)", __func__,
		    status);
		return;
	}
	r->began = 1;
	r->status = status;
	if (reason == NULL)
		reason = http_status_reason(status);
	/* The reason phrase carries our error text (twine prints it). */
	for (i = 0; reason[i] != '\0' && o + 1 < sizeof(clean); i++) {
		unsigned char ch = (unsigned char)reason[i];
		if (ch >= 0x20 && ch < 0x7f)
			clean[o++] = (char)ch;
		else if (ch == '\t' || ch == '\n')
			clean[o++] = ' ';
	}
	clean[o] = '\0';
	buf_reset(&c->rh);
	buf_add(&c->rh, "HTTP/1.1 ", 9);
	buf_add_u64(&c->rh, (uint64_t)(status < 0 ? 0 : status));
	buf_addc(&c->rh, ' ');
	buf_add(&c->rh, clean, o);
	buf_add(&c->rh, "\r\nServer: ", 10);
	buf_addstr(&c->rh, c->srv->lim.server_name ? c->srv->lim.server_name :
	    "indexd");
	buf_add(&c->rh, "\r\nDate: ", 8);
	buf_addstr(&c->rh, server_date(c->srv));
	buf_add(&c->rh, "\r\n", 2);
}

int
http_response_header(struct http_request *r, const char *name,
    const char *value)
{
	struct http_conn *c = r->conn;

	if (!r->began || r->responded)
		return -1;
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	if (buf_addstr(&c->rh, name) == -1 || buf_add(&c->rh, ": ", 2) == -1 ||
	    buf_addstr(&c->rh, value) == -1 || buf_add(&c->rh, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int
http_response_headerf(struct http_request *r, const char *name,
    const char *fmt, ...)
{
	char val[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -1;
	return http_response_header(r, name, val);
}

void
http_response_close(struct http_request *r)
{
	r->close = 1;
}

/*
 * Decide keep-alive, finish the head with Content-Length/Connection and
 * queue it. Returns 0, or -1 if the head overflowed (then a bare 500 was
 * queued instead).
 */
static int
response_head(struct http_request *r, int has_len, uint64_t len)
{
	struct http_conn *c = r->conn;
	struct evbuffer *out = c->stage;
	int rc = 0;

	if (!r->keepalive || c->srv->draining || c->reject)
		r->close = 1;
	/*
	 * Unread body bytes get discarded to keep the connection, unless
	 * there are too many, or the client still waits for a 100-continue
	 * we will not send (then it may never send them).
	 */
	if (r->body_left > 0 && (r->body_left > c->srv->lim.discard_max ||
	    r->expect_continue))
		r->close = 1;
	if (has_len) {
		rc |= buf_add(&c->rh, "Content-Length: ", 16);
		rc |= buf_add_u64(&c->rh, len);
		rc |= buf_add(&c->rh, "\r\n", 2);
	}
	if (r->close)
		rc |= buf_addstr(&c->rh, "Connection: close\r\n");
	else if (r->minor == 0)
		rc |= buf_addstr(&c->rh, "Connection: keep-alive\r\n");
	rc |= buf_addstr(&c->rh, "\r\n");
	if (rc != 0) {
		static const char bare[] = "HTTP/1.1 500 Internal Server "
		    "Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		log_warnx("%s: response head too large", __func__);
		r->status = 500;
		r->close = 1;
		evbuffer_add(out, bare, sizeof(bare) - 1);
		r->bytes += sizeof(bare) - 1;
		return -1;
	}
	evbuffer_add(out, c->rh.ptr, c->rh.len);
	r->bytes += c->rh.len;
	return 0;
}

static int
response_check(struct http_request *r)
{
	if (r->responded) {
		log_warnx("%s: second response to one request", __func__);
		return -1;
	}
	if (!r->began)
		http_response_begin(r, 500, NULL);
	r->responded = 1;
	if (!r->reading_body || r->body_stopped)
		r->on_data = NULL;
	return 0;
}

/*
 * Send what the response staged, right now if the socket takes it: a
 * response that fits the socket buffer then costs one writev (or writev +
 * sendfile) and no wait for writability, no epoll changes. Whatever is
 * left goes to the bufferevent, which finishes it when writable. TLS
 * always goes through the bufferevent (it encrypts).
 */
static void
conn_flush(struct http_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int zero = 0;

	if (evbuffer_get_length(c->stage) == 0)
		return;
	if (!c->tls && evbuffer_get_length(out) == 0) {
		while (evbuffer_get_length(c->stage) > 0)
			if (evbuffer_write(c->stage, c->fd) <= 0)
				break;	/* EAGAIN or error: the bev sees it */
		if (evbuffer_get_length(c->stage) == 0 && c->corked) {
			setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero,
			    sizeof(zero));
			c->corked = 0;
		}
	}
	if (evbuffer_get_length(c->stage) > 0)
		evbuffer_add_buffer(out, c->stage);
}

/*
 * Account for the response (access log, metrics) before its bytes leave:
 * a client that has read it may look at /metrics at once.
 */
static void
response_done(struct http_request *r)
{
	request_log(r->conn);
	conn_flush(r->conn);
}

static void
response_end(struct http_request *r, const void *body, size_t len)
{
	if (response_check(r) == -1)
		return;
	if (response_head(r, 1, len) == -1)
		return;
	if (r->method != HTTP_M_HEAD && len > 0) {
		evbuffer_add(r->conn->stage, body, len);
		r->bytes += len;
		r->body_bytes += len;
	}
}

void
http_response_end(struct http_request *r, const void *body, size_t len)
{
	response_end(r, body, len);
	response_done(r);
}

static void
response_end_ref(struct http_request *r, const void *body, size_t len,
    void (*cleanup)(const void *, size_t, void *), void *arg)
{
	struct http_conn *c = r->conn;

	if (response_check(r) == -1 || response_head(r, 1, len) == -1 ||
	    r->method == HTTP_M_HEAD || len == 0) {
		cleanup(body, len, arg);
		return;
	}
	if (evbuffer_add_reference(c->stage, body, len,
	    cleanup, arg) == -1) {
		cleanup(body, len, arg);
		r->close = 1;
		return;
	}
	r->bytes += len;
	r->body_bytes += len;
}

void
http_response_end_ref(struct http_request *r, const void *body, size_t len,
    void (*cleanup)(const void *, size_t, void *), void *arg)
{
	response_end_ref(r, body, len, cleanup, arg);
	response_done(r);
}

static void
response_end_file(struct http_request *r, int fd, off_t offset, off_t len)
{
	struct http_conn *c = r->conn;

	if (response_check(r) == -1 || response_head(r, 1,
	    (uint64_t)len) == -1 || r->method == HTTP_M_HEAD || len == 0) {
		close(fd);
		return;
	}
	/*
	 * Cork while a head and a file go out (nginx's tcp_nopush): the
	 * head then shares segments with the file data instead of leaving
	 * as a packet of its own. Uncorked when the output drains.
	 */
	if (!c->tls && !c->corked) {
		int one = 1;
		if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one,
		    sizeof(one)) == 0)
			c->corked = 1;
	}
	if (evbuffer_add_file(c->stage, fd, offset, len) == -1) {
		log_warnx("%s: evbuffer_add_file failed", __func__);
		close(fd);
		r->close = 1;	/* the head promised bytes we cannot send */
		return;
	}
	r->bytes += (uint64_t)len;
	r->body_bytes += (uint64_t)len;
}

void
http_response_end_file(struct http_request *r, int fd, off_t offset,
    off_t len)
{
	response_end_file(r, fd, offset, len);
	response_done(r);
}

void
http_response_end_nobody(struct http_request *r)
{
	if (response_check(r) == -1)
		return;
	response_head(r, 0, 0);
	response_done(r);
}

void
http_response_error(struct http_request *r, int status, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	if (r->began) {
		/* a handler already started another response: keep it */
		if (r->status != status)
			log_warnx("%s: %d after %d", __func__, status,
			    r->status);
	} else {
		http_response_begin(r, status, msg[0] ? msg : NULL);
		http_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
	}
	msg[n] = '\n';
	http_response_end(r, msg, (size_t)n + 1);
}

/* ------------------------------------------------------------------ */
/* request head parsing */

static int
is_tchar(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static enum http_method
method_of(const char *m)
{
	if (!strcmp(m, "GET"))
		return HTTP_M_GET;
	if (!strcmp(m, "HEAD"))
		return HTTP_M_HEAD;
	if (!strcmp(m, "POST"))
		return HTTP_M_POST;
	if (!strcmp(m, "PUT"))
		return HTTP_M_PUT;
	if (!strcmp(m, "DELETE"))
		return HTTP_M_DELETE;
	if (!strcmp(m, "OPTIONS"))
		return HTTP_M_OPTIONS;
	return HTTP_M_OTHER;
}

/* Does a comma-separated header value contain token tok? */
static int
has_token(const char *value, const char *tok)
{
	size_t tlen = strlen(tok);
	const char *p = value;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, tok, tlen) == 0 && (p[tlen] == '\0' ||
		    p[tlen] == ',' || p[tlen] == ' ' || p[tlen] == '\t' ||
		    p[tlen] == ';'))
			return 1;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

/*
 * Find the end of the head in p[0..n): index just past the empty line,
 * or 0 if not there yet. Lines may end in CRLF or a bare LF.
 */
static size_t
head_end(const char *p, size_t n)
{
	const char *q = p, *end = p + n;

	/* leading empty lines before the request line are ignored */
	while (q < end && (*q == '\r' || *q == '\n'))
		q++;
	while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		q++;
		if (q < end && *q == '\n')
			return (size_t)(q + 1 - p);
		if (q + 1 < end && q[0] == '\r' && q[1] == '\n')
			return (size_t)(q + 2 - p);
		if (q >= end)
			break;
	}
	return 0;
}

/* Cut one line (LF or CRLF) at *pp; NULL at the end. */
static char *
next_line(char **pp)
{
	char *s = *pp, *nl;

	if ((nl = strchr(s, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*pp = nl + 1;
	return s;
}

/*
 * Parse the NUL-terminated head in c->hbuf into c->req. Returns 0, or the
 * HTTP status to answer with.
 */
static int
parse_head(struct http_conn *c)
{
	struct http_request *r = &c->req;
	const struct http_limits *lim = &c->srv->lim;
	char *p = c->hbuf, *line, *sp1, *sp2, *colon, *v, *e, *q;
	int have_host = 0;
	uint64_t clen;
	size_t i, plen;

	while (*p == '\r' || *p == '\n')
		p++;
	if ((line = next_line(&p)) == NULL)
		return 400;
	if ((sp1 = strchr(line, ' ')) == NULL)
		return 400;
	*sp1 = '\0';
	if ((sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return 400;
	*sp2 = '\0';
	r->method_str = line;
	r->target = sp1 + 1;
	r->version_str = sp2 + 1;
	if (line[0] == '\0' || strlen(line) > 32)
		return 400;
	for (q = line; *q; q++)
		if (!is_tchar((unsigned char)*q))
			return 400;
	r->method = method_of(line);
	if (strlen(r->target) > lim->max_url_len)
		return 414;
	if (r->target[0] == '\0')
		return 400;
	for (q = r->target; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q == 0x7f)
			return 400;
	if (strncmp(r->version_str, "HTTP/", 5) != 0)
		return 400;
	if (!strcmp(r->version_str, "HTTP/1.1"))
		r->minor = 1;
	else if (!strcmp(r->version_str, "HTTP/1.0"))
		r->minor = 0;
	else if (r->version_str[5] >= '0' && r->version_str[5] <= '9')
		return 505;
	else
		return 400;
	r->keepalive = r->minor == 1;

	/* absolute-form: keep only the path */
	if (strncasecmp(r->target, "http://", 7) == 0 ||
	    strncasecmp(r->target, "https://", 8) == 0) {
		q = strstr(r->target, "://") + 3;
		q = strchr(q, '/');
		r->path = q ? q : (char *)"/";
	} else if (r->target[0] == '/') {
		r->path = r->target;
	} else if (!strcmp(r->target, "*") && r->method == HTTP_M_OPTIONS) {
		r->path = r->target;
	} else
		return 400;
	/* the path is copied so that the logged target stays whole */
	if ((q = strchr(r->path, '?')) != NULL)
		r->query = q + 1;
	plen = q != NULL ? (size_t)(q - r->path) : strlen(r->path);
	if (plen + 1 > c->pcap) {
		char *nb = realloc(c->pathbuf, plen + 1);
		if (nb == NULL)
			return 500;
		c->pathbuf = nb;
		c->pcap = plen + 1;
	}
	memcpy(c->pathbuf, r->path, plen);
	c->pathbuf[plen] = '\0';
	r->path = c->pathbuf;

	r->nhdrs = 0;
	while ((line = next_line(&p)) != NULL) {
		if (line[0] == '\0')
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400;	/* obs-fold */
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return 400;
		*colon = '\0';
		for (q = line; *q; q++)
			if (!is_tchar((unsigned char)*q))
				return 400;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		for (q = v; *q; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') ||
			    (unsigned char)*q == 0x7f)
				return 400;
		if (r->nhdrs >= lim->max_headers)
			return 431;
		r->hdrs[r->nhdrs].name = line;
		r->hdrs[r->nhdrs].value = v;
		r->nhdrs++;
	}

	r->clen = -1;
	for (i = 0; i < r->nhdrs; i++) {
		const char *n = r->hdrs[i].name;

		v = r->hdrs[i].value;
		if (!strcasecmp(n, "Content-Length")) {
			if (util_parse_u64(v, (uint64_t)INT64_MAX, &clen) == -1)
				return 400;
			if (r->clen != -1 && (uint64_t)r->clen != clen)
				return 400;
			r->clen = (int64_t)clen;
		} else if (!strcasecmp(n, "Transfer-Encoding")) {
			r->has_te = 1;
		} else if (!strcasecmp(n, "Host")) {
			if (have_host++)
				return 400;
		} else if (!strcasecmp(n, "Connection")) {
			if (has_token(v, "close"))
				r->keepalive = 0;
			else if (has_token(v, "keep-alive"))
				r->keepalive = 1;
		} else if (!strcasecmp(n, "Expect")) {
			if (strcasecmp(v, "100-continue") != 0)
				return 417;
			r->expect_continue = r->minor == 1;
		}
	}
	if (r->minor == 1 && !have_host)
		return 400;
	if (r->has_te && r->clen != -1)
		return 400;	/* smuggling: both framings */
	if (r->has_te)
		return 411;
	r->body_left = r->clen > 0 ? (uint64_t)r->clen : 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* connections */

static void
request_reset(struct http_conn *c)
{
	struct http_request *r = &c->req;
	struct http_hdr *hdrs = r->hdrs;

	memset(r, 0, sizeof(*r));
	r->conn = c;
	r->hdrs = hdrs;
	r->tag = -1;
	r->clen = -1;
}

static void
request_log(struct http_conn *c)
{
	struct http_request *r = &c->req;
	struct http_log_entry e;

	if (r->logged || c->srv->cb.log == NULL)
		return;
	r->logged = 1;
	memset(&e, 0, sizeof(e));
	e.peer = c->peer;
	e.user = r->user[0] ? r->user : NULL;
	e.method = r->parsed ? r->method_str : NULL;
	e.target = r->parsed ? r->target : NULL;
	e.version = r->parsed ? r->version_str : NULL;
	if (r->parsed) {
		e.referer = http_request_header(r, "Referer");
		e.user_agent = http_request_header(r, "User-Agent");
	}
	/* 499: the client went away before a response (nginx's code) */
	e.status = r->responded ? r->status : 499;
	e.body_bytes = r->body_bytes;
	e.bytes = r->bytes;
	e.tag = r->tag;
	e.start_us = r->start_us;
	e.duration_us = util_now_us() - r->start_us;
	c->srv->cb.log(&e, c->srv->cb.arg);
}

/* Answer a request the handler never saw, then close. */
static void
conn_fail(struct http_conn *c, int status, const char *msg)
{
	struct http_request *r = &c->req;

	r->close = 1;
	r->keepalive = 0;
	http_response_error(r, status, "%s", msg);
	request_log(c);
	c->phase = PH_CLOSE;
}

/* Called once a request head has been copied into hbuf. */
static void
dispatch(struct http_conn *c)
{
	struct http_request *r = &c->req;
	struct http_server *s = c->srv;
	int status;

	r->start_us = util_now_us();
	if ((status = parse_head(c)) != 0) {
		const char *msg = status == 414 ? "request target too long" :
		    status == 431 ? "too many header fields" :
		    status == 411 ? "chunked request bodies are not supported;"
		    " send Content-Length" :
		    status == 505 ? "only HTTP/1.0 and HTTP/1.1 are supported" :
		    status == 417 ? "unsupported expectation" :
		    "malformed request";
		r->parsed = r->method_str != NULL && r->target != NULL &&
		    r->version_str != NULL && status != 400;
		conn_fail(c, status, msg);
		return;
	}
	r->parsed = 1;
	c->phase = PH_BODY;
	if (r->body_left > 0)
		conn_set_timeouts(c, s->lim.read_timeout);
	s->cb.request(r, s->cb.arg);
	if (!r->responded && !r->reading_body) {
		log_warnx("%s: handler neither answered nor read the body for "
		    "%s", __func__, r->target);
		http_response_error(r, 500, "internal error");
	}
}

/* Deliver or discard buffered body bytes. */
static void
consume_body(struct http_conn *c)
{
	struct http_request *r = &c->req;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail, n, contig;
	unsigned char *p;

	while (r->body_left > 0 && (avail = evbuffer_get_length(in)) > 0) {
		n = avail < r->body_left ? avail : (size_t)r->body_left;
		if (r->reading_body && !r->body_stopped && !r->responded &&
		    r->on_data != NULL) {
			contig = evbuffer_get_contiguous_space(in);
			if (contig > 0 && contig < n)
				n = contig;
			if ((p = evbuffer_pullup(in, (ssize_t)n)) == NULL) {
				r->body_stopped = 1;
				http_response_error(r, 500, "out of memory");
				continue;
			}
			r->body_left -= n;
			if (r->on_data(r, p, n, r->body_arg) == -1) {
				r->body_stopped = 1;
				if (!r->responded)
					http_response_error(r, 500,
					    "internal error");
			}
			evbuffer_drain(in, n);
		} else {
			evbuffer_drain(in, n);
			r->body_left -= n;
		}
	}
}

/* The handler's body state must always be released exactly once. */
static void
body_abort(struct http_conn *c)
{
	struct http_request *r = &c->req;

	if (r->reading_body && !r->done_called) {
		r->done_called = 1;
		if (r->on_done != NULL)
			r->on_done(r, -1, r->body_arg);
	}
}

/* Only when they change: each call re-adds events (epoll_ctl). */
static void
conn_set_timeouts(struct http_conn *c, int read_secs)
{
	struct timeval rt = { read_secs, 0 };
	struct timeval wt = { c->srv->lim.write_timeout, 0 };

	if (read_secs <= 0)
		read_secs = -1;
	if (c->read_to == read_secs)
		return;
	c->read_to = read_secs;
	bufferevent_set_timeouts(c->bev, read_secs > 0 ? &rt : NULL, &wt);
}

static void
conn_start_linger(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->phase = PH_LINGER;
	if (!c->tls)
		shutdown(c->fd, SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->read_to = -2;
	bufferevent_enable(c->bev, EV_READ);
	if (c->timer_armed)
		evtimer_del(c->timer);
	conn_arm_timer(c, c->srv->lim.linger_timeout);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The current request is over (response queued, body consumed). */
static void
request_finish(struct http_conn *c)
{
	struct http_request *r = &c->req;

	request_log(c);
	if (r->close) {
		c->phase = PH_CLOSE;
		return;
	}
	request_reset(c);
	c->phase = PH_HEAD;
	c->got_bytes = 0;
	conn_set_timeouts(c, 0);
}

/* 1: a request was dispatched, 0: wait for input/output, -1: freed. */
static int
try_head(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct http_limits *lim = &c->srv->lim;
	size_t len, n, end;
	unsigned char *p;

	len = evbuffer_get_length(in);
	if (len == 0) {
		if (evbuffer_get_length(out) == 0) {
			if (c->srv->draining || c->eof) {
				conn_free(c);
				return -1;
			}
			if (!c->timer_armed)
				conn_arm_timer(c, lim->header_timeout);
		}
		return 0;
	}
	if (evbuffer_get_length(out) > HTTP_OUT_HIGH)
		return 0;	/* the write callback resumes */
	if (!c->timer_armed)
		conn_arm_timer(c, lim->header_timeout);
	c->got_bytes = 1;
	n = len < lim->max_header_size + 4 ? len : lim->max_header_size + 4;
	if ((p = evbuffer_pullup(in, (ssize_t)n)) == NULL) {
		conn_free(c);
		return -1;
	}
	end = head_end((const char *)p, n);
	if (end == 0) {
		const void *nl = memchr(p, '\n', n);
		if (nl == NULL && n > lim->max_url_len + 64) {
			conn_fail(c, 414, "request target too long");
			return 1;
		}
		if (n >= lim->max_header_size + 4 ||
		    (nl != NULL && n >= lim->max_header_size)) {
			conn_fail(c, 431, "request header block too large");
			return 1;
		}
		if (c->eof) {
			conn_free(c);
			return -1;
		}
		return 0;
	}
	if (end > lim->max_header_size + 2) {
		conn_fail(c, 431, "request header block too large");
		return 1;
	}
	/* a NUL would cut the head short for every string function below,
	 * and what follows it would be read as the next request */
	if (memchr(p, '\0', end) != NULL) {
		evbuffer_drain(in, end);
		conn_fail(c, 400, "NUL byte in the request head");
		return 1;
	}
	if (end + 1 > c->hcap) {
		size_t cap = end + 1 < 1024 ? 1024 : end + 1;
		char *nb = realloc(c->hbuf, cap);
		if (nb == NULL) {
			conn_free(c);
			return -1;
		}
		c->hbuf = nb;
		c->hcap = cap;
	}
	memcpy(c->hbuf, p, end);
	c->hbuf[end] = '\0';
	evbuffer_drain(in, end);
	if (c->timer_armed) {
		evtimer_del(c->timer);
		c->timer_armed = 0;
	}
	dispatch(c);
	return 1;
}

/* Run the connection's state machine as far as it goes; -1 if freed. */
static int
conn_advance(struct http_conn *c)
{
	struct evbuffer *in, *out;
	struct http_request *r = &c->req;
	int rc;

	for (;;) {
		in = bufferevent_get_input(c->bev);
		out = bufferevent_get_output(c->bev);
		switch (c->phase) {
		case PH_HEAD:
			if ((rc = try_head(c)) <= 0)
				return rc;
			continue;
		case PH_BODY:
			consume_body(c);
			if (r->body_left > 0) {
				if (!(r->responded && r->close))
					return 0;
				/* no use reading the rest: answer, close */
				body_abort(c);
				request_log(c);
				c->phase = PH_CLOSE;
				continue;
			}
			if (r->reading_body && !r->done_called) {
				r->done_called = 1;
				if (r->on_done != NULL)
					r->on_done(r, 0, r->body_arg);
			}
			if (!r->responded)
				http_response_error(r, 500, "internal error");
			request_finish(c);
			continue;
		case PH_CLOSE:
			request_log(c);
			evbuffer_drain(in, evbuffer_get_length(in));
			if (evbuffer_get_length(out) > 0)
				return 0;	/* the write callback resumes */
			if (c->eof) {
				conn_free(c);
				return -1;
			}
			conn_start_linger(c);
			return 0;
		case PH_LINGER:
			evbuffer_drain(in, evbuffer_get_length(in));
			return 0;
		}
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_advance(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	if (c->corked && evbuffer_get_length(bufferevent_get_output(bev)) ==
	    0) {
		int zero = 0;
		setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
		c->corked = 0;
	}
	conn_advance(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;
	struct http_request *r = &c->req;

	if (what == BEV_EVENT_CONNECTED)
		return;		/* TLS handshake done */
	if (what & BEV_EVENT_TIMEOUT) {
		if ((what & BEV_EVENT_READING) && c->phase == PH_BODY &&
		    !r->responded) {
			body_abort(c);
			conn_fail(c, 408, "timed out reading the request body");
			conn_set_timeouts(c, 0);
			conn_advance(c);
			return;
		}
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		if (c->phase == PH_BODY && r->body_left > 0) {
			conn_free(c);	/* the body will never be complete */
			return;
		}
		if (c->phase == PH_LINGER ||
		    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			conn_free(c);
			return;
		}
		return;		/* flush what is queued, then go */
	}
	conn_free(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	c->timer_armed = 0;
	if (c->phase == PH_HEAD && c->got_bytes) {
		conn_fail(c, 408, "timed out reading the request head");
		conn_advance(c);
		return;
	}
	conn_free(c);
}

static void
conn_arm_timer(struct http_conn *c, int secs)
{
	struct timeval tv = { secs, 0 };

	evtimer_add(c->timer, &tv);
	c->timer_armed = 1;
}

static void
server_check_drained(struct http_server *s)
{
	if (s->draining && __atomic_load_n(&s->nconns, __ATOMIC_RELAXED) == 0 &&
	    s->drained != NULL) {
		void (*done)(void *) = s->drained;
		s->drained = NULL;
		done(s->drained_arg);
	}
}

static void
conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	body_abort(c);
	if (c->req.parsed && !c->req.logged)
		request_log(c);
	TAILQ_REMOVE(&s->conns, c, entry);
	__atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
	if (!c->reject)
		__atomic_sub_fetch(&s->cl->current, 1, __ATOMIC_RELAXED);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c->hbuf);
	free(c->pathbuf);
	free(c->req.hdrs);
	if (c->stage != NULL)
		evbuffer_free(c->stage);
	buf_free(&c->rh);
	free(c);
	server_check_drained(s);
}

static void
format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    (socklen_t)outlen);
	else
		util_strlcpy(out, "-", outlen);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct http_listener *hl = arg;

	http_server_adopt(hl->srv, fd, sa, hl->tls);
}

void
http_server_adopt(struct http_server *s, int fd, const struct sockaddr *sa,
    int tls)
{
	struct http_conn *c;
	struct timeval wt;
	int one = 1, cur, reject = 0;
	SSL *ssl;

	cur = __atomic_add_fetch(&s->cl->current, 1, __ATOMIC_RELAXED);
	if (cur > s->cl->max) {
		__atomic_sub_fetch(&s->cl->current, 1, __ATOMIC_RELAXED);
		if (__atomic_load_n(&s->nconns, __ATOMIC_RELAXED) >=
		    s->cl->max + HTTP_REJECT_EXTRA) {
			close(fd);
			return;
		}
		reject = 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->srv = s;
	c->fd = fd;
	c->reject = reject;
	buf_init(&c->rh, HTTP_RESP_HDR_MAX);
	format_peer(sa, c->peer, sizeof(c->peer));
	if ((c->req.hdrs = calloc(s->lim.max_headers + 1,
	    sizeof(*c->req.hdrs))) == NULL)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls && !reject) {
		if (s->tls == NULL || (ssl = SSL_new(s->tls)) == NULL)
			goto fail;
		c->tls = 1;
		c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		c->bev = bufferevent_socket_new(s->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	if ((c->stage = evbuffer_new()) == NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		fd = -1;
		goto fail;
	}
	/* so that files added to it go out with sendfile */
	if (!c->tls)
		evbuffer_set_flags(c->stage, EVBUFFER_FLAG_DRAINS_TO_FD);
	if ((c->timer = evtimer_new(s->base, conn_timer_cb, c)) == NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		fd = -1;
		goto fail;
	}
	request_reset(c);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	/* bound what a client can make us buffer */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    s->lim.max_header_size + 256 * 1024);
	/* libevent's default is 16 KB per write: big pages and files would
	 * take one loop iteration per 16 KB (nginx sends up to 2 MB) */
	bufferevent_set_max_single_write(c->bev, 2 * 1024 * 1024);
	bufferevent_set_max_single_read(c->bev, 64 * 1024);
	wt.tv_sec = s->lim.write_timeout;
	wt.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	c->read_to = -1;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	__atomic_add_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
	c->phase = PH_HEAD;
	if (reject) {
		c->req.keepalive = 0;
		c->req.minor = 1;
		http_response_begin(&c->req, 503, "too many connections");
		http_response_header(&c->req, "Retry-After", "1");
		http_response_header(&c->req, "Content-Type",
		    "text/plain; charset=utf-8");
		http_response_end(&c->req, "too many connections\n", 21);
		c->phase = PH_CLOSE;
		conn_advance(c);
		return;
	}
	conn_arm_timer(c, s->lim.header_timeout);
	return;
fail:
	log_warnx("%s: cannot set up a connection from fd %d", __func__, fd);
	if (c != NULL) {
		if (c->stage != NULL)
			evbuffer_free(c->stage);
		free(c->req.hdrs);
		buf_free(&c->rh);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else if (fd != -1)
			close(fd);
		free(c);
	} else
		close(fd);
	if (!reject)
		__atomic_sub_fetch(&s->cl->current, 1, __ATOMIC_RELAXED);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	/* EMFILE and friends: back off briefly instead of spinning */
	log_warn("%s: accept", __func__);
}

/* ------------------------------------------------------------------ */
/* servers */

int
http_server_new(struct event_base *base, const struct http_limits *lim,
    const struct http_callbacks *cb, struct http_conn_limit *cl,
    struct http_server **out)
{
	struct http_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->base = base;
	s->lim = *lim;
	if (s->lim.max_headers == 0)
		s->lim.max_headers = 100;
	s->cb = *cb;
	s->cl = cl;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->listeners);
	*out = s;
	return 0;
}

int
http_server_listen_fd(struct http_server *s, int fd, int tls)
{
	struct http_listener *hl;

	if ((hl = calloc(1, sizeof(*hl))) == NULL) {
		close(fd);
		return -1;
	}
	hl->srv = s;
	hl->tls = tls;
	hl->l = evconnlistener_new(s->base, accept_cb, hl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (hl->l == NULL) {
		close(fd);
		free(hl);
		return -1;
	}
	evconnlistener_set_error_cb(hl->l, accept_error_cb);
	TAILQ_INSERT_TAIL(&s->listeners, hl, entry);
	return 0;
}

void
http_server_set_limits(struct http_server *s, const struct http_limits *lim)
{
	size_t maxh = s->lim.max_headers;

	s->lim = *lim;
	/* the per-connection header arrays were sized for this */
	if (s->lim.max_headers == 0 || s->lim.max_headers > maxh)
		s->lim.max_headers = maxh;
}

void
http_server_set_tls(struct http_server *s, struct ssl_ctx_st *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	s->tls = ctx;
}

static void
free_listeners(struct http_server *s)
{
	struct http_listener *hl;

	while ((hl = TAILQ_FIRST(&s->listeners)) != NULL) {
		TAILQ_REMOVE(&s->listeners, hl, entry);
		evconnlistener_free(hl->l);
		free(hl);
	}
}

void
http_server_drain(struct http_server *s, void (*done)(void *), void *arg)
{
	struct http_conn *c, *next;

	s->draining = 1;
	s->drained = done;
	s->drained_arg = arg;
	free_listeners(s);
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if ((c->phase == PH_HEAD && !c->got_bytes &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) ||
		    c->phase == PH_LINGER)
			conn_free(c);
		/* the rest answer with Connection: close and go */
	}
	server_check_drained(s);
}

int
http_server_nconns(const struct http_server *s)
{
	return __atomic_load_n(&s->nconns, __ATOMIC_RELAXED);
}

void
http_server_free(struct http_server *s)
{
	struct http_conn *c;

	if (s == NULL)
		return;
	free_listeners(s);
	s->drained = NULL;
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_free(c);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	free(s);
}
