/*
 * indexd_http.h: a small HTTP/1.1 server on libevent bufferevents, used by
 * indexd instead of evhttp because evhttp (2.1) buffers whole request
 * bodies in memory, has no separate header-phase deadline against
 * slowloris clients and no connection cap.
 *
 * One http_server per worker thread (its own event_base). It parses
 * requests with hard limits (header block, URL, header count), enforces a
 * total deadline for receiving headers, an idle deadline for bodies and a
 * write deadline, keeps connections alive (pipelining in order), streams
 * request bodies to the handler in chunks, and sends responses from
 * memory, by reference, or from a file (sendfile on plain sockets).
 * Plain TCP or TLS (OpenSSL bufferevents).
 */
#ifndef WW_INDEXD_HTTP_H
#define WW_INDEXD_HTTP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct sockaddr;
struct ssl_ctx_st;

struct http_server;		/* opaque; one per event_base */
struct http_request;		/* opaque; one in-flight request */

enum http_method {
	HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_PUT, HTTP_M_DELETE,
	HTTP_M_OPTIONS, HTTP_M_OTHER
};

struct http_limits {
	size_t	 max_header_size;	/* whole header block, bytes */
	size_t	 max_url_len;		/* request target, bytes */
	size_t	 max_headers;		/* number of header fields */
	int	 header_timeout;	/* seconds for a whole header block */
	int	 read_timeout;		/* seconds idle while reading a body */
	int	 write_timeout;		/* seconds idle while writing */
	int	 linger_timeout;	/* seconds to drain an unread body */
	size_t	 discard_max;		/* unread body discarded, keep-alive */
	const char *server_name;	/* Server: header */
};

/* What the layer reports when a request ends (access log, metrics). */
struct http_log_entry {
	const char	*peer;		/* "127.0.0.1" */
	const char	*user;		/* authenticated user or NULL */
	const char	*method;
	const char	*target;	/* raw request target, or NULL */
	const char	*version;	/* "HTTP/1.1" */
	const char	*referer;	/* NULL if absent */
	const char	*user_agent;	/* NULL if absent */
	int		 status;
	uint64_t	 body_bytes;	/* body bytes sent (0 for HEAD) */
	uint64_t	 bytes;		/* all bytes sent incl. headers */
	int		 tag;		/* handler's route tag, -1 if none */
	int64_t		 start_us;	/* wall clock at request start */
	int64_t		 duration_us;
};

struct http_callbacks {
	/* Headers are complete: respond now, or start reading the body. */
	void	(*request)(struct http_request *req, void *arg);
	/* The response to a request went out (or the connection died). */
	void	(*log)(const struct http_log_entry *e, void *arg);
	void	*arg;
};

/*
 * Shared connection counter so that max_connections holds across all
 * workers. The caller owns it; every server of a process points to one.
 */
struct http_conn_limit {
	int	 max;
	int	 current;		/* accessed atomically */
};

int	 http_server_new(struct event_base *base, const struct http_limits *lim,
	    const struct http_callbacks *cb, struct http_conn_limit *cl,
	    struct http_server **out);
/* Listen on an already bound and listening socket (ownership passes). */
int	 http_server_listen_fd(struct http_server *s, int fd, int tls);
/*
 * Take over a connection accepted elsewhere (indexd's main thread
 * accepts and hands connections to the least busy worker). Call from the
 * server's own thread; fd must be non-blocking; ownership passes.
 */
void	 http_server_adopt(struct http_server *s, int fd,
	    const struct sockaddr *sa, int tls);
/* Replace limits (SIGHUP); applies to new requests. */
void	 http_server_set_limits(struct http_server *s,
	    const struct http_limits *lim);
/* TLS context for tls listeners (reference taken; NULL drops it). */
void	 http_server_set_tls(struct http_server *s, struct ssl_ctx_st *ctx);
/*
 * Graceful stop: close listeners, close idle connections, let requests in
 * flight finish (then close). done() runs once no connection is left.
 */
void	 http_server_drain(struct http_server *s, void (*done)(void *),
	    void *arg);
/* Open connections; safe to read from any thread. */
int	 http_server_nconns(const struct http_server *s);
/* Closes every connection at once. */
void	 http_server_free(struct http_server *s);

/*
 * Bind and listen on host:port (port "0": any free port). With reuseport,
 * SO_REUSEPORT is set so each worker can own a socket on the same port.
 * The bound port is written to boundport if not NULL.
 */
int	 http_bind(const char *host, const char *port, int reuseport,
	    int backlog, char *boundport, size_t boundportlen, char *errbuf,
	    size_t errlen);

/* ---- requests ---- */
enum http_method http_request_method(const struct http_request *r);
const char *http_request_method_str(const struct http_request *r);
/* Raw path (before '?'), still percent-encoded. */
const char *http_request_path(const struct http_request *r);
/* Query string after '?', or NULL. */
const char *http_request_query(const struct http_request *r);
const char *http_request_target(const struct http_request *r);
int	 http_request_version_minor(const struct http_request *r);
/* Case-insensitive lookup; the first field with that name, or NULL. */
const char *http_request_header(const struct http_request *r,
	    const char *name);
/* -1 if the request has no body framing (no Content-Length). */
int64_t	 http_request_content_length(const struct http_request *r);
const char *http_request_peer(const struct http_request *r);
int	 http_request_is_tls(const struct http_request *r);
void	 http_request_set_tag(struct http_request *r, int tag);
/* For the access log's %u; copied. */
void	 http_request_set_user(struct http_request *r, const char *user);
/* Per-request handler state (freed by nobody: handler owns it). */
void	 http_request_set_data(struct http_request *r, void *data);
void	*http_request_data(const struct http_request *r);

/*
 * Stream the body to the handler. on_data returns 0 to go on, -1 to stop
 * (the handler must have sent a response by then). on_done gets 0 when
 * the whole body arrived, or -1 when the connection failed or timed out
 * (then nothing can be sent; just free handler state).
 * Sends "100 Continue" first if the client asked for it.
 */
typedef int	(*http_body_cb)(struct http_request *r, const void *data,
		    size_t len, void *arg);
typedef void	(*http_body_done_cb)(struct http_request *r, int status,
		    void *arg);
void	 http_request_read_body(struct http_request *r, http_body_cb on_data,
	    http_body_done_cb on_done, void *arg);

/* ---- responses (exactly one per request) ---- */
/* reason NULL: the standard phrase. CR/LF and controls are dropped. */
void	 http_response_begin(struct http_request *r, int status,
	    const char *reason);
/* Adds "name: value". Values with CR/LF are refused (-1). */
int	 http_response_header(struct http_request *r, const char *name,
	    const char *value);
int	 http_response_headerf(struct http_request *r, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ask for Connection: close after this response. */
void	 http_response_close(struct http_request *r);
/* Finish: body copied (Content-Length added; omitted for HEAD). */
void	 http_response_end(struct http_request *r, const void *body,
	    size_t len);
/*
 * Finish with a body owned elsewhere; cleanup(data, len, arg) runs once
 * the bytes are sent or discarded (also for HEAD, at once).
 */
void	 http_response_end_ref(struct http_request *r, const void *body,
	    size_t len, void (*cleanup)(const void *, size_t, void *),
	    void *arg);
/* Finish with len bytes of fd from offset; fd is always closed. */
void	 http_response_end_file(struct http_request *r, int fd, off_t offset,
	    off_t len);
/* Finish with no body and no Content-Length (304, 1xx-like cases). */
void	 http_response_end_nobody(struct http_request *r);
/* Convenience: status, text/plain body "message\n", and the reason. */
void	 http_response_error(struct http_request *r, int status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

const char *http_status_reason(int status);

/* ---- helpers (pure, unit-tested) ---- */
/*
 * Percent-decode src (len bytes) into out; -1 on a bad escape, on %00,
 * or if out is too small. '+' is kept (paths, not forms).
 */
int	 http_urldecode(const char *src, size_t len, char *out,
	    size_t outlen);
/* Find key in an application/x-www-form-urlencoded query (decoded). */
int	 http_query_get(const char *query, const char *key, char *out,
	    size_t outlen);
/* "Tue, 15 Nov 1994 08:12:31 GMT" */
void	 http_format_date(int64_t unix_sec, char *out, size_t outlen);

/*
 * Parse a Range header for a resource of size bytes.
 * 0: serve the whole resource (no/ignored Range, e.g. multiple ranges),
 * 1: single satisfiable range [*first, *last],
 * 2: unsatisfiable (416), -1: malformed (ignore it and serve 200).
 */
int	 http_parse_range(const char *value, uint64_t size, uint64_t *first,
	    uint64_t *last);
/* 1 if an If-None-Match value matches etag (weak comparison). */
int	 http_etag_match(const char *if_none_match, const char *etag);

#endif
