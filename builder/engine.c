/*
 * engine.c: the Docker Engine API (v1.41) client; see engine.h for what it
 * offers and why. One CURL easy handle per struct engine, reset between
 * requests (live connections survive a reset, so consecutive requests reuse
 * the socket). Archives are pulled through a curl multi handle so that
 * libarchive reads the tar while it arrives, with a bounded buffer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "engine.h"
#include "hash.h"
#include "log.h"
#include "util.h"

#define ENGINE_ERRBODY_MAX	(64 * 1024)	/* error bodies we keep */
#define ENGINE_LOG_DEFAULT	(64ULL * 1024 * 1024)
#define ENGINE_ARCHIVE_DEFAULT	(256ULL * 1024 * 1024)
#define ENGINE_PULL_HIGH	(1024 * 1024)	/* pause curl above this */
#define ENGINE_MAX_SYMLINKS	8
#define ENGINE_PATH_MAX		1024

struct engine {
	char			 url[1024];
	char			 base[1100];	/* scheme://host[:port][/prefix]/v1.41 */
	char			 sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 unixsock;
	int			 tls;
	char			*ca, *cert, *key;
	CURL			*curl;
	long			 connect_ms;
	long			 request_ms;
	size_t			 max_response;
	const volatile sig_atomic_t *cancel;
	char			 errbuf[CURL_ERROR_SIZE];
};

/*
 * One transfer. 2xx bodies go to the stream callback when there is one,
 * else into body (bounded by limit); error bodies go into body (bounded by
 * ENGINE_ERRBODY_MAX) so the engine's message can be reported.
 */
struct xfer {
	struct engine	*e;
	struct buf	 body;
	size_t		 limit;
	int		 toobig;
	long		 status;
	int		 (*stream)(void *arg, const char *p, size_t n,
			    struct wwerr *err);
	void		*stream_arg;
	int		 stream_failed;
	struct wwerr	 serr;
	const char	*want_header;	/* capture this response header */
	char		 header[4096];
	/* archive pulls (multi interface) */
	int		 pull;
	int		 paused;
	uint64_t	 total;
	uint64_t	 total_max;
};

static const char *
engine_errname(long status)
{
	switch (status) {
	case 400: return "bad request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not found";
	case 409: return "conflict";
	case 500: return "server error";
	case 503: return "unavailable";
	default: return "error";
	}
}

void
engine_close(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e);
}

const char *
engine_url(const struct engine *e)
{
	return e->url;
}

void
engine_set_timeouts(struct engine *e, long connect_ms, long request_ms)
{
	if (connect_ms > 0)
		e->connect_ms = connect_ms;
	if (request_ms > 0)
		e->request_ms = request_ms;
}

void
engine_set_max_response(struct engine *e, size_t bytes)
{
	if (bytes > 0)
		e->max_response = bytes;
}

void
engine_set_cancel(struct engine *e, const volatile sig_atomic_t *flag)
{
	e->cancel = flag;
}

static int
engine_str_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static char *
engine_strdup_opt(const char *s, int *fail)
{
	char *p;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((p = strdup(s)) == NULL)
		*fail = 1;
	return p;
}

int
engine_open(const char *url, const struct engine_tls *tls,
    struct engine **out, struct wwerr *err)
{
	struct engine *e = NULL;
	const char *rest, *scheme;
	size_t n;
	int fail = 0;

	*out = NULL;
	if (url == NULL || *url == '\0')
		return wwerr_set(err, ENGINE_E_ARG, "engine URL is empty");
	if (strlen(url) >= sizeof(e->url) || !engine_str_ok(url))
		return wwerr_set(err, ENGINE_E_ARG,
		    "engine URL '%.200s' is too long or has spaces or control "
		    "characters", url);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
	util_strlcpy(e->url, url, sizeof(e->url));
	e->connect_ms = 10000;
	e->request_ms = 60000;
	e->max_response = 4 * 1024 * 1024;

	if (strncmp(url, "unix://", 7) == 0) {
		rest = url + 7;
		if (rest[0] != '/') {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': the "
			    "socket path must be absolute (unix:///path)", url);
			goto fail;
		}
		if (strlen(rest) >= sizeof(e->sock)) {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': socket "
			    "path longer than %zu bytes", url,
			    sizeof(e->sock) - 1);
			goto fail;
		}
		util_strlcpy(e->sock, rest, sizeof(e->sock));
		e->unixsock = 1;
		/* The host name is ignored on a unix socket. */
		snprintf(e->base, sizeof(e->base), "http://localhost/v%s",
		    ENGINE_API_VERSION);
	} else {
		if (strncmp(url, "https://", 8) == 0) {
			scheme = "https";
			rest = url + 8;
		} else if (strncmp(url, "http://", 7) == 0) {
			scheme = "http";
			rest = url + 7;
		} else if (strncmp(url, "tcp://", 6) == 0) {
			scheme = (tls && tls->cert_file && *tls->cert_file) ?
			    "https" : "http";
			rest = url + 6;
		} else {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': scheme "
			    "must be unix://, https://, http:// or tcp://", url);
			goto fail;
		}
		if (*rest == '\0' || *rest == '/') {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': no host",
			    url);
			goto fail;
		}
		if (strchr(rest, '?') || strchr(rest, '#') ||
		    strchr(rest, '@')) {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': no "
			    "user, query or fragment allowed", url);
			goto fail;
		}
		n = strlen(rest);
		while (n > 0 && rest[n - 1] == '/')
			n--;
		snprintf(e->base, sizeof(e->base), "%s://%.*s/v%s", scheme,
		    (int)n, rest, ENGINE_API_VERSION);
		e->tls = strcmp(scheme, "https") == 0;
	}
	if (tls) {
		if (!e->tls && (tls->cert_file || tls->ca_file)) {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': TLS "
			    "files given but the URL does not use TLS", url);
			goto fail;
		}
		e->ca = engine_strdup_opt(tls->ca_file, &fail);
		e->cert = engine_strdup_opt(tls->cert_file, &fail);
		e->key = engine_strdup_opt(tls->key_file, &fail);
		if (fail) {
			wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
			goto fail;
		}
		if ((e->cert == NULL) != (e->key == NULL)) {
			wwerr_set(err, ENGINE_E_ARG, "engine URL '%s': a TLS "
			    "client certificate needs its key and vice versa",
			    url);
			goto fail;
		}
	}
	if ((e->curl = curl_easy_init()) == NULL) {
		wwerr_set(err, ENGINE_E_NOMEM, "engine %s: curl_easy_init "
		    "failed", url);
		goto fail;
	}
	*out = e;
	return 0;
fail:
	engine_close(e);
	return -1;
}

/* Path part of a request, without the query, for messages. */
static void
engine_reqname(const char *method, const char *path, char *out, size_t outlen)
{
	size_t n = strcspn(path, "?");

	if (n > 160)
		n = 160;
	snprintf(out, outlen, "%s %.*s", method, (int)n, path);
}

static size_t
engine_header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb, hl, vl;

	if (x->want_header == NULL)
		return len;
	hl = strlen(x->want_header);
	if (len > hl + 1 && strncasecmp(p, x->want_header, hl) == 0 &&
	    p[hl] == ':') {
		p += hl + 1;
		len -= hl + 1;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		vl = len;
		while (vl > 0 && (p[vl - 1] == '\r' || p[vl - 1] == '\n'))
			vl--;
		if (vl >= sizeof(x->header))
			vl = sizeof(x->header) - 1;
		memcpy(x->header, p, vl);
		x->header[vl] = '\0';
		return size * nmemb;
	}
	return size * nmemb;
}

static size_t
engine_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	if (x->status == 0)
		curl_easy_getinfo(x->e->curl, CURLINFO_RESPONSE_CODE,
		    &x->status);
	if (x->status >= 200 && x->status < 300) {
		if (x->pull) {
			/* Leave the rest in curl until libarchive caught up. */
			if (x->body.len >= ENGINE_PULL_HIGH) {
				x->paused = 1;
				return CURL_WRITEFUNC_PAUSE;
			}
			if (len > x->total_max - x->total) {
				x->toobig = 1;
				return 0;
			}
			x->total += len;
		}
		if (x->stream) {
			if (x->stream(x->stream_arg, p, len, &x->serr) == -1) {
				x->stream_failed = 1;
				return 0;
			}
			return len;
		}
		if (len > x->limit - x->body.len ||
		    buf_add(&x->body, p, len) == -1) {
			x->toobig = 1;
			return 0;
		}
		return len;
	}
	/* Error body: keep a bounded prefix for the message, drop the rest. */
	if (x->body.len < ENGINE_ERRBODY_MAX) {
		size_t keep = ENGINE_ERRBODY_MAX - x->body.len;

		if (keep > len)
			keep = len;
		(void)buf_add(&x->body, p, keep);
	}
	return len;
}

static int
engine_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct engine *e = arg;

	(void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
	return (e->cancel && *e->cancel) ? 1 : 0;
}

static void
xfer_init(struct xfer *x, struct engine *e, size_t limit)
{
	memset(x, 0, sizeof(*x));
	x->e = e;
	x->limit = limit ? limit : e->max_response;
	/* The body buffer holds either a bounded answer or an error body. */
	buf_init(&x->body, x->limit > ENGINE_ERRBODY_MAX ? x->limit :
	    ENGINE_ERRBODY_MAX);
}

static void
xfer_free(struct xfer *x)
{
	buf_free(&x->body);
}

/*
 * Sets up e->curl for one request. timeout_ms: > 0 that limit, 0 the
 * engine's request default, < 0 none (long polls: follow, wait).
 */
static int
engine_setup(struct engine *e, const char *method, const char *path,
    const char *json, long timeout_ms, struct xfer *x,
    struct curl_slist **hdrs, struct wwerr *err)
{
	CURL *c = e->curl;
	struct buf url;
	int rc = 0;

	curl_easy_reset(c);
	e->errbuf[0] = '\0';
	buf_init(&url, 8192);
	if (buf_printf(&url, "%s%s", e->base, path) == -1) {
		buf_free(&url);
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: request path "
		    "too long", e->url);
	}
	rc |= curl_easy_setopt(c, CURLOPT_URL, buf_cstr(&url));
	buf_free(&url);
	if (e->unixsock)
		rc |= curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, e->sock);
	rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->errbuf);
	rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->connect_ms);
	if (timeout_ms == 0)
		timeout_ms = e->request_ms;
	if (timeout_ms > 0)
		rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, engine_write_cb);
	rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, engine_header_cb);
	rc |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, engine_progress_cb);
	rc |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, e);
	rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "wheelwright-builderd");
	if (e->tls) {
		rc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		rc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		if (e->ca)
			rc |= curl_easy_setopt(c, CURLOPT_CAINFO, e->ca);
		if (e->cert) {
			rc |= curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
			rc |= curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
		}
	}
	*hdrs = curl_slist_append(NULL, "Expect:");
	if (json) {
		*hdrs = curl_slist_append(*hdrs,
		    "Content-Type: application/json");
		rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(json));
	} else if (strcmp(method, "POST") == 0) {
		rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (*hdrs == NULL)
		return wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
	rc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	if (strcmp(method, "HEAD") == 0)
		rc |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		rc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (rc != 0)
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: cannot set up "
		    "request (libcurl option refused)", e->url);
	return 0;
}

/* The engine's message from an error body: {"message": "..."} or text. */
static void
engine_body_message(const struct buf *body, char *out, size_t outlen)
{
	json_t *j, *m;
	size_t i, n;

	out[0] = '\0';
	if (body->len == 0)
		return;
	if ((j = json_loadb(body->ptr, body->len, 0, NULL)) != NULL) {
		m = json_object_get(j, "message");
		if (json_is_string(m))
			util_strlcpy(out, json_string_value(m), outlen);
		json_decref(j);
		if (out[0])
			return;
	}
	n = body->len < outlen - 1 ? body->len : outlen - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)body->ptr[i];

		out[i] = (ch < ' ' || ch == 0x7f) ? ' ' : (char)ch;
	}
	out[n] = '\0';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

/*
 * Turns the outcome of a transfer into 0 (status < 400) or -1 with a
 * message naming the engine, the request and the reason.
 */
static int
engine_finish(struct engine *e, const char *method, const char *path,
    CURLcode cc, struct xfer *x, long timeout_ms, struct wwerr *err)
{
	char req[200], msg[300];

	engine_reqname(method, path, req, sizeof(req));
	if (x->status == 0)
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (cc != CURLE_OK) {
		if (x->stream_failed) {
			return wwerr_set(err, x->serr.code ? x->serr.code :
			    ENGINE_E_IO, "engine %s: %s: %s", e->url, req,
			    x->serr.msg);
		}
		if (x->toobig) {
			if (x->pull)
				return wwerr_set(err, ENGINE_E_TOOBIG,
				    "engine %s: %s: archive larger than %llu "
				    "bytes", e->url, req,
				    (unsigned long long)x->total_max);
			return wwerr_set(err, ENGINE_E_TOOBIG, "engine %s: %s: "
			    "response larger than %zu bytes", e->url, req,
			    x->limit);
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK)
			return wwerr_set(err, ENGINE_E_CANCELLED,
			    "engine %s: %s: cancelled", e->url, req);
		if (cc == CURLE_OPERATION_TIMEDOUT)
			return wwerr_set(err, ENGINE_E_TIMEOUT, "engine %s: %s: "
			    "timed out after %ld ms", e->url, req,
			    timeout_ms > 0 ? timeout_ms : e->request_ms);
		return wwerr_set(err, ENGINE_E_CONNECT, "engine %s: %s: %s",
		    e->url, req, e->errbuf[0] ? e->errbuf :
		    curl_easy_strerror(cc));
	}
	if (x->status >= 400 || x->status < 100) {
		engine_body_message(&x->body, msg, sizeof(msg));
		return wwerr_set(err, x->status == 404 ? ENGINE_E_NOTFOUND :
		    x->status == 409 ? ENGINE_E_CONFLICT : ENGINE_E_HTTP,
		    "engine %s: %s: HTTP %ld: %s", e->url, req, x->status,
		    msg[0] ? msg : engine_errname(x->status));
	}
	return 0;
}

/* One blocking request; the answer (2xx) is in x->body or went to stream. */
static int
engine_req(struct engine *e, const char *method, const char *path,
    const char *json, long timeout_ms, struct xfer *x, struct wwerr *err)
{
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	int rc;

	if (engine_setup(e, method, path, json, timeout_ms, x, &hdrs,
	    err) == -1) {
		curl_slist_free_all(hdrs);
		return -1;
	}
	log_debug("engine %s: %s %s", e->url, method, path);
	cc = curl_easy_perform(e->curl);
	rc = engine_finish(e, method, path, cc, x, timeout_ms, err);
	curl_slist_free_all(hdrs);
	return rc;
}

/* Parses x->body as a JSON document of the given type. */
static json_t *
engine_json(struct engine *e, const char *what, struct xfer *x, int type,
    struct wwerr *err)
{
	json_error_t je;
	json_t *j;

	if ((j = json_loadb(x->body.ptr ? x->body.ptr : "", x->body.len, 0,
	    &je)) == NULL) {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: %s: malformed JSON "
		    "answer: %s", e->url, what, je.text);
		return NULL;
	}
	if ((int)json_typeof(j) != type) {
		json_decref(j);
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: %s: unexpected JSON "
		    "answer type", e->url, what);
		return NULL;
	}
	return j;
}

static void
engine_jstr(json_t *o, const char *key, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		util_strlcpy(out, json_string_value(v), outlen);
	else
		out[0] = '\0';
}

/*
 * Ids and names go into URL paths unescaped (the engines route on the raw
 * path, as docker's own client sends it), so only plain characters pass.
 */
static int
engine_check_ref(struct engine *e, const char *what, const char *s,
    int slash, struct wwerr *err)
{
	const char *p;

	if (s == NULL || *s == '\0')
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: empty %s",
		    e ? e->url : "-", what);
	if (strlen(s) > 512)
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: %s too long",
		    e ? e->url : "-", what);
	for (p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-')
			continue;
		if (slash && (*p == '/' || *p == ':' || *p == '@'))
			continue;
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: %s '%.100s' "
		    "has a character not allowed there", e ? e->url : "-",
		    what, s);
	}
	if (slash && strstr(s, ".."))
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: %s '%.100s' "
		    "contains '..'", e ? e->url : "-", what, s);
	return 0;
}

int
engine_ping(struct engine *e, struct wwerr *err)
{
	struct xfer x;
	int rc;

	xfer_init(&x, e, 4096);
	rc = engine_req(e, "GET", "/_ping", NULL, 0, &x, err);
	if (rc == 0 && strncmp(buf_cstr(&x.body), "OK", 2) != 0)
		rc = wwerr_set(err, ENGINE_E_PROTO, "engine %s: GET /_ping: "
		    "answer is not OK", e->url);
	xfer_free(&x);
	return rc;
}

int
engine_version(struct engine *e, struct engine_version *out,
    struct wwerr *err)
{
	struct xfer x;
	json_t *j = NULL, *comp, *c;
	size_t i;
	char name[128];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	xfer_init(&x, e, 0);
	if (engine_req(e, "GET", "/version", NULL, 0, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, "GET /version", &x, JSON_OBJECT, err)) == NULL)
		goto done;
	engine_jstr(j, "Version", out->version, sizeof(out->version));
	engine_jstr(j, "ApiVersion", out->api_version,
	    sizeof(out->api_version));
	engine_jstr(j, "MinAPIVersion", out->min_api_version,
	    sizeof(out->min_api_version));
	engine_jstr(j, "Os", out->os, sizeof(out->os));
	engine_jstr(j, "Arch", out->arch, sizeof(out->arch));
	engine_jstr(j, "KernelVersion", out->kernel, sizeof(out->kernel));
	comp = json_object_get(j, "Components");
	json_array_foreach(comp, i, c) {
		engine_jstr(c, "Name", name, sizeof(name));
		if (strstr(name, "Podman"))
			out->podman = 1;
	}
	if (out->api_version[0] == '\0') {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: GET /version: no "
		    "ApiVersion in the answer", e->url);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	xfer_free(&x);
	return rc;
}

int
engine_image_inspect(struct engine *e, const char *ref,
    struct engine_image *out, struct wwerr *err)
{
	struct xfer x;
	json_t *j = NULL, *cfg, *sz;
	char path[700];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (engine_check_ref(e, "image reference", ref, 1, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "/images/%s/json", ref);
	xfer_init(&x, e, 0);
	if (engine_req(e, "GET", path, NULL, 0, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, path, &x, JSON_OBJECT, err)) == NULL)
		goto done;
	engine_jstr(j, "Id", out->id, sizeof(out->id));
	engine_jstr(j, "Os", out->os, sizeof(out->os));
	engine_jstr(j, "Architecture", out->arch, sizeof(out->arch));
	engine_jstr(j, "Variant", out->variant, sizeof(out->variant));
	sz = json_object_get(j, "Size");
	out->size = json_is_integer(sz) ? json_integer_value(sz) : 0;
	cfg = json_object_get(j, "Config");
	if (json_is_object(cfg))
		engine_jstr(cfg, "User", out->user, sizeof(out->user));
	if (out->id[0] == '\0') {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: GET %s: no Id in the "
		    "answer", e->url, path);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	xfer_free(&x);
	return rc;
}

int
engine_image_exists(struct engine *e, const char *ref, int *exists,
    struct wwerr *err)
{
	struct engine_image img;
	struct wwerr e2;

	*exists = 0;
	wwerr_clear(&e2);
	if (engine_image_inspect(e, ref, &img, &e2) == 0) {
		*exists = 1;
		return 0;
	}
	if (e2.code == ENGINE_E_NOTFOUND)
		return 0;
	if (err)
		*err = e2;
	return -1;
}

/* Absolute, no "..", no control characters, not just "/" for targets. */
static int
engine_check_path(const char *what, const char *p, int target,
    struct wwerr *err)
{
	const char *s;

	if (p == NULL || p[0] != '/')
		return wwerr_set(err, ENGINE_E_ARG, "%s '%.200s' is not an "
		    "absolute path", what, p ? p : "(null)");
	if (strlen(p) >= ENGINE_PATH_MAX)
		return wwerr_set(err, ENGINE_E_ARG, "%s is longer than %d "
		    "bytes", what, ENGINE_PATH_MAX - 1);
	for (s = p; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return wwerr_set(err, ENGINE_E_ARG, "%s '%.200s' has a "
			    "control character", what, p);
	for (s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return wwerr_set(err, ENGINE_E_ARG, "%s '%.200s' "
			    "contains a '..' component", what, p);
	if (target && p[1] == '\0')
		return wwerr_set(err, ENGINE_E_ARG, "%s must not be '/'", what);
	return 0;
}

static int
engine_json_strarray(json_t *obj, const char *key, const char *const *v,
    size_t skip)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return -1;
	for (i = skip; v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) == -1) {
			json_decref(a);
			return -1;
		}
	return json_object_set_new(obj, key, a);
}

/* jansson refuses invalid UTF-8 (json_string() is NULL): say which. */
static int
engine_utf8_ok(const char *s)
{
	json_t *j;

	if (s == NULL)
		return 1;
	if ((j = json_string(s)) == NULL)
		return 0;
	json_decref(j);
	return 1;
}

static int
engine_spec_utf8(const struct engine_spec *s, struct wwerr *err)
{
	const char *bad = NULL;
	size_t i;

	for (i = 0; s->argv[i] && !bad; i++)
		if (!engine_utf8_ok(s->argv[i]))
			bad = "an argv entry";
	for (i = 0; s->env && s->env[i] && !bad; i++)
		if (!engine_utf8_ok(s->env[i]))
			bad = "an environment entry";
	for (i = 0; i < s->nlabels && !bad; i++)
		if (!engine_utf8_ok(s->labels[i].key) ||
		    !engine_utf8_ok(s->labels[i].value))
			bad = "a label";
	for (i = 0; i < s->nmounts && !bad; i++)
		if (!engine_utf8_ok(s->mounts[i].source) ||
		    !engine_utf8_ok(s->mounts[i].target))
			bad = "a mount path";
	if (!bad && (!engine_utf8_ok(s->workdir) || !engine_utf8_ok(s->user) ||
	    !engine_utf8_ok(s->network)))
		bad = "the working directory, user or network";
	for (i = 0; s->tmpfs && s->tmpfs[i] && !bad; i++)
		if (!engine_utf8_ok(s->tmpfs[i]))
			bad = "a tmpfs entry";
	if (bad)
		return wwerr_set(err, ENGINE_E_ARG, "container spec: %s is not "
		    "valid UTF-8", bad);
	return 0;
}

int
engine_spec_json(const struct engine_spec *s, char **out,
    struct wwerr *err)
{
	json_t *root = NULL, *hc = NULL, *labels, *mounts, *m, *a;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (s->image == NULL || s->image[0] == '\0')
		return wwerr_set(err, ENGINE_E_ARG, "container spec: no image");
	if (engine_check_ref(NULL, "image reference", s->image, 1, err) == -1)
		return -1;
	if (s->argv == NULL || s->argv[0] == NULL || s->argv[0][0] == '\0')
		return wwerr_set(err, ENGINE_E_ARG, "container spec: empty "
		    "argv (the command is an argv array, never a shell "
		    "string)");
	for (i = 0; s->env && s->env[i]; i++) {
		const char *eq = strchr(s->env[i], '=');

		if (eq == NULL || eq == s->env[i])
			return wwerr_set(err, ENGINE_E_ARG, "container spec: "
			    "environment entry '%.100s' is not NAME=value",
			    s->env[i]);
	}
	for (i = 0; i < s->nlabels; i++)
		if (s->labels[i].key == NULL || s->labels[i].key[0] == '\0' ||
		    s->labels[i].value == NULL ||
		    strchr(s->labels[i].key, '='))
			return wwerr_set(err, ENGINE_E_ARG, "container spec: "
			    "label %zu has an empty key, a NULL value or '=' "
			    "in its key", i);
	for (i = 0; i < s->nmounts; i++) {
		if (engine_check_path("mount source", s->mounts[i].source, 0,
		    err) == -1)
			return -1;
		if (engine_check_path("mount target", s->mounts[i].target, 1,
		    err) == -1)
			return -1;
	}
	if (s->workdir && engine_check_path("working directory", s->workdir,
	    0, err) == -1)
		return -1;
	for (i = 0; s->tmpfs && s->tmpfs[i]; i++) {
		char tp[ENGINE_PATH_MAX];
		size_t pl = strcspn(s->tmpfs[i], ":");

		if (pl >= sizeof(tp))
			return wwerr_set(err, ENGINE_E_ARG, "container spec: "
			    "tmpfs path too long");
		memcpy(tp, s->tmpfs[i], pl);
		tp[pl] = '\0';
		if (engine_check_path("tmpfs path", tp, 1, err) == -1)
			return -1;
		if (!engine_str_ok(s->tmpfs[i]))
			return wwerr_set(err, ENGINE_E_ARG, "container spec: "
			    "tmpfs '%.200s' has spaces or control characters",
			    s->tmpfs[i]);
	}
	if (s->memory < 0 || s->nano_cpus < 0 || s->pids_limit < 0)
		return wwerr_set(err, ENGINE_E_ARG, "container spec: negative "
		    "resource limit");
	if (engine_spec_utf8(s, err) == -1)
		return -1;
	if (s->memory > 0 && s->memory < 6 * 1024 * 1024)
		return wwerr_set(err, ENGINE_E_ARG, "container spec: memory "
		    "limit %lld bytes is below the engines' 6 MiB minimum",
		    (long long)s->memory);

	if ((root = json_object()) == NULL || (hc = json_object()) == NULL)
		goto nomem;
	/*
	 * Entrypoint = argv[0] and Cmd = the rest: the image's ENTRYPOINT and
	 * CMD then never prepend or append anything to the argv asked for.
	 */
	if ((a = json_array()) == NULL ||
	    json_object_set_new(root, "Entrypoint", a) == -1 ||
	    json_array_append_new(a, json_string(s->argv[0])) == -1)
		goto nomem;
	if (engine_json_strarray(root, "Cmd", s->argv, 1) == -1)
		goto nomem;
	if (json_object_set_new(root, "Image", json_string(s->image)) == -1)
		goto nomem;
	if (s->env && engine_json_strarray(root, "Env", s->env, 0) == -1)
		goto nomem;
	if (s->workdir && json_object_set_new(root, "WorkingDir",
	    json_string(s->workdir)) == -1)
		goto nomem;
	if (s->user && *s->user && json_object_set_new(root, "User",
	    json_string(s->user)) == -1)
		goto nomem;
	if ((labels = json_object()) == NULL ||
	    json_object_set_new(root, "Labels", labels) == -1)
		goto nomem;
	for (i = 0; i < s->nlabels; i++)
		if (json_object_set_new(labels, s->labels[i].key,
		    json_string(s->labels[i].value)) == -1)
			goto nomem;
	if (json_object_set_new(root, "Tty", json_false()) == -1 ||
	    json_object_set_new(root, "OpenStdin", json_false()) == -1 ||
	    json_object_set_new(root, "AttachStdin", json_false()) == -1 ||
	    json_object_set_new(root, "AttachStdout", json_false()) == -1 ||
	    json_object_set_new(root, "AttachStderr", json_false()) == -1)
		goto nomem;

	if (json_object_set_new(root, "HostConfig", hc) == -1) {
		hc = NULL;
		goto nomem;
	}
	if (json_object_set_new(hc, "NetworkMode", json_string(s->network &&
	    *s->network ? s->network : "none")) == -1)
		goto nomem;
	if (s->network == NULL || *s->network == '\0' ||
	    strcmp(s->network, "none") == 0)
		if (json_object_set_new(root, "NetworkDisabled",
		    json_true()) == -1)
			goto nomem;
	if ((mounts = json_array()) == NULL ||
	    json_object_set_new(hc, "Mounts", mounts) == -1)
		goto nomem;
	for (i = 0; i < s->nmounts; i++) {
		if ((m = json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind",
		    "Source", s->mounts[i].source, "Target",
		    s->mounts[i].target, "ReadOnly",
		    s->mounts[i].readonly ? 1 : 0)) == NULL)
			goto nomem;
		if (json_array_append_new(mounts, m) == -1)
			goto nomem;
	}
	if (s->memory > 0 && (json_object_set_new(hc, "Memory",
	    json_integer(s->memory)) == -1 ||
	    json_object_set_new(hc, "MemorySwap",
	    json_integer(s->memory)) == -1))
		goto nomem;
	if (s->nano_cpus > 0 && json_object_set_new(hc, "NanoCpus",
	    json_integer(s->nano_cpus)) == -1)
		goto nomem;
	if (s->pids_limit > 0 && json_object_set_new(hc, "PidsLimit",
	    json_integer(s->pids_limit)) == -1)
		goto nomem;
	if (!s->keep_caps) {
		if ((a = json_pack("[s]", "ALL")) == NULL ||
		    json_object_set_new(hc, "CapDrop", a) == -1)
			goto nomem;
		if ((a = json_pack("[s]", "no-new-privileges")) == NULL ||
		    json_object_set_new(hc, "SecurityOpt", a) == -1)
			goto nomem;
	}
	if (s->tmpfs && s->tmpfs[0]) {
		json_t *t = json_object();

		if (t == NULL || json_object_set_new(hc, "Tmpfs", t) == -1)
			goto nomem;
		for (i = 0; s->tmpfs[i]; i++) {
			const char *colon = strchr(s->tmpfs[i], ':');
			char *path = strndup(s->tmpfs[i], colon ?
			    (size_t)(colon - s->tmpfs[i]) : strlen(s->tmpfs[i]));
			int r;

			if (path == NULL)
				goto nomem;
			r = json_object_set_new(t, path,
			    json_string(colon ? colon + 1 : ""));
			free(path);
			if (r == -1)
				goto nomem;
		}
	}
	if (json_object_set_new(hc, "ReadonlyRootfs",
	    json_boolean(s->readonly_rootfs)) == -1 ||
	    json_object_set_new(hc, "AutoRemove", json_false()) == -1 ||
	    json_object_set_new(hc, "Privileged", json_false()) == -1)
		goto nomem;
	if ((*out = json_dumps(root, JSON_COMPACT)) == NULL)
		goto nomem;
	rc = 0;
	goto done;
nomem:
	wwerr_set(err, ENGINE_E_NOMEM, "container spec: out of memory");
done:
	json_decref(root);
	return rc;
}

int
engine_container_create(struct engine *e, const struct engine_spec *spec,
    char id[ENGINE_ID_MAX], struct wwerr *err)
{
	struct xfer x;
	json_t *j = NULL, *w, *v;
	struct buf path;
	char *body = NULL, *q;
	size_t i;
	int rc = -1;

	id[0] = '\0';
	buf_init(&path, 2048);
	xfer_init(&x, e, 0);
	if (spec->name && engine_check_ref(e, "container name", spec->name, 0,
	    err) == -1)
		goto done;
	if (spec->platform && engine_check_ref(e, "platform", spec->platform,
	    1, err) == -1)
		goto done;
	if (engine_spec_json(spec, &body, err) == -1) {
		wwerr_prefix(err, "engine %s", e->url);
		goto done;
	}
	buf_addstr(&path, "/containers/create");
	q = "?";
	if (spec->name) {
		buf_printf(&path, "%sname=%s", q, spec->name);
		q = "&";
	}
	if (spec->platform)
		buf_printf(&path, "%splatform=%s", q, spec->platform);
	if (engine_req(e, "POST", buf_cstr(&path), body, 0, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, "POST /containers/create", &x, JSON_OBJECT,
	    err)) == NULL)
		goto done;
	engine_jstr(j, "Id", id, ENGINE_ID_MAX);
	if (id[0] == '\0' || engine_check_ref(e, "container id", id, 0,
	    NULL) == -1) {
		id[0] = '\0';
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: POST "
		    "/containers/create: no usable Id in the answer", e->url);
		goto done;
	}
	w = json_object_get(j, "Warnings");
	json_array_foreach(w, i, v)
		if (json_is_string(v))
			log_debug("engine %s: create %.12s: warning: %s",
			    e->url, id, json_string_value(v));
	rc = 0;
done:
	json_decref(j);
	free(body);
	buf_free(&path);
	xfer_free(&x);
	return rc;
}

/* POST /containers/ID/VERB[?query] expecting no body back. */
static int
engine_container_post(struct engine *e, const char *id, const char *verb,
    const char *query, long timeout_ms, struct xfer *x, struct wwerr *err)
{
	char path[ENGINE_ID_MAX + 128];

	if (engine_check_ref(e, "container id", id, 0, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "/containers/%s/%s%s%s", id, verb,
	    query ? "?" : "", query ? query : "");
	return engine_req(e, "POST", path, NULL, timeout_ms, x, err);
}

int
engine_container_start(struct engine *e, const char *id, struct wwerr *err)
{
	struct xfer x;
	int rc;

	xfer_init(&x, e, 0);
	/* 304 (already started) is below 400, hence success. */
	rc = engine_container_post(e, id, "start", NULL, 0, &x, err);
	xfer_free(&x);
	return rc;
}

int
engine_container_kill(struct engine *e, const char *id, const char *sig,
    struct wwerr *err)
{
	struct xfer x;
	struct engine_state st;
	struct wwerr e2;
	char q[64];
	int rc;

	if (sig == NULL)
		sig = "KILL";
	if (engine_check_ref(e, "signal", sig, 0, err) == -1)
		return -1;
	snprintf(q, sizeof(q), "signal=%s", sig);
	xfer_init(&x, e, 0);
	wwerr_clear(&e2);
	rc = engine_container_post(e, id, "kill", q, 0, &x, &e2);
	xfer_free(&x);
	if (rc == 0)
		return 0;
	/*
	 * Docker answers 409 and podman 409 or 500 when the container is not
	 * running; that is what a kill wants anyway, so look before failing.
	 */
	if ((e2.code == ENGINE_E_CONFLICT || e2.code == ENGINE_E_HTTP) &&
	    engine_container_inspect(e, id, &st, NULL) == 0 && !st.running)
		return 0;
	if (err)
		*err = e2;
	return -1;
}

int
engine_container_remove(struct engine *e, const char *id, struct wwerr *err)
{
	struct xfer x;
	struct wwerr e2;
	char path[ENGINE_ID_MAX + 64];
	int rc;

	if (engine_check_ref(e, "container id", id, 0, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", id);
	xfer_init(&x, e, 0);
	wwerr_clear(&e2);
	rc = engine_req(e, "DELETE", path, NULL, 0, &x, &e2);
	xfer_free(&x);
	if (rc == -1 && e2.code != ENGINE_E_NOTFOUND) {
		if (err)
			*err = e2;
		return -1;
	}
	return 0;
}

static int
engine_parse_2digits(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int
engine_parse_time(const char *s, int64_t *us)
{
	struct tm tm;
	int year = 0, mon, mday, hh, mm, ss, i, oh, om, digits;
	int64_t frac = 0, t, off = 0;
	const char *p;

	*us = 0;
	if (s == NULL || strlen(s) < 20)
		return -1;
	for (i = 0; i < 4; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		year = year * 10 + (s[i] - '0');
	}
	if (s[4] != '-' || engine_parse_2digits(s + 5, &mon) == -1 ||
	    s[7] != '-' || engine_parse_2digits(s + 8, &mday) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    engine_parse_2digits(s + 11, &hh) == -1 || s[13] != ':' ||
	    engine_parse_2digits(s + 14, &mm) == -1 || s[16] != ':' ||
	    engine_parse_2digits(s + 17, &ss) == -1)
		return -1;
	if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || hh > 23 ||
	    mm > 59 || ss > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		for (digits = 0; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (engine_parse_2digits(p + 1, &oh) == -1 || p[3] != ':' ||
		    engine_parse_2digits(p + 4, &om) == -1 || oh > 23 ||
		    om > 59)
			return -1;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (year <= 1)		/* Go's zero time: never */
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = (int64_t)timegm(&tm);
	*us = (t - off) * 1000000 + frac;
	return 0;
}

int
engine_container_inspect(struct engine *e, const char *id,
    struct engine_state *out, struct wwerr *err)
{
	struct xfer x;
	json_t *j = NULL, *st, *v;
	char path[ENGINE_ID_MAX + 32], t[64];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (engine_check_ref(e, "container id", id, 0, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	xfer_init(&x, e, 0);
	if (engine_req(e, "GET", path, NULL, 0, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, path, &x, JSON_OBJECT, err)) == NULL)
		goto done;
	st = json_object_get(j, "State");
	if (!json_is_object(st)) {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: GET %s: no State in "
		    "the answer", e->url, path);
		goto done;
	}
	engine_jstr(st, "Status", out->status, sizeof(out->status));
	out->running = json_is_true(json_object_get(st, "Running"));
	out->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
	engine_jstr(st, "Error", out->error, sizeof(out->error));
	v = json_object_get(st, "ExitCode");
	if (!out->running && json_is_integer(v))
		out->exit_code = (int)json_integer_value(v);
	engine_jstr(st, "StartedAt", t, sizeof(t));
	(void)engine_parse_time(t, &out->started_us);
	engine_jstr(st, "FinishedAt", t, sizeof(t));
	(void)engine_parse_time(t, &out->finished_us);
	if (out->running)
		out->finished_us = 0;
	v = json_object_get(json_object_get(j, "HostConfig"), "Memory");
	out->memory_limit = json_is_integer(v) ? json_integer_value(v) : 0;
	rc = 0;
done:
	json_decref(j);
	xfer_free(&x);
	return rc;
}

/* ---- log stream demultiplexing ---- */

void
engine_demux_init(struct engine_demux *d, int mode, engine_sink_fn sink,
    void *arg)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->sink = sink;
	d->arg = arg;
}

static int
engine_demux_emit(struct engine_demux *d, int stream, const char *p,
    size_t n, struct wwerr *err)
{
	if (n == 0)
		return 0;
	if (d->sink(d->arg, stream, p, n) == -1) {
		d->failed = 1;
		return wwerr_set(err, ENGINE_E_IO, "log sink failed: %s",
		    strerror(errno));
	}
	return 0;
}

/* A Docker frame header: stream 0-3, three zero bytes, big-endian size. */
static int
engine_demux_is_header(const unsigned char *h, size_t n)
{
	if (n >= 1 && h[0] > 3)
		return 0;
	if (n >= 2 && h[1] != 0)
		return 0;
	if (n >= 3 && h[2] != 0)
		return 0;
	if (n >= 4 && h[3] != 0)
		return 0;
	return 1;
}

int
engine_demux_feed(struct engine_demux *d, const void *data, size_t len,
    struct wwerr *err)
{
	const unsigned char *p = data;
	size_t take;

	if (d->failed)
		return wwerr_set(err, ENGINE_E_PROTO, "log stream: demuxer "
		    "already failed");
	if (d->mode == ENGINE_STREAM_AUTO) {
		/*
		 * Decide from the first bytes: a multiplexed stream starts
		 * with a frame header; anything else is a TTY's raw bytes.
		 */
		while (len > 0 && d->hdrlen < 4) {
			d->hdr[d->hdrlen++] = *p++;
			len--;
			if (!engine_demux_is_header(d->hdr, d->hdrlen)) {
				d->mode = ENGINE_STREAM_RAW;
				take = d->hdrlen;
				d->hdrlen = 0;
				if (engine_demux_emit(d, 1, (char *)d->hdr,
				    take, err) == -1)
					return -1;
				return engine_demux_feed(d, p, len, err);
			}
		}
		if (d->hdrlen < 4)
			return 0;
		d->mode = ENGINE_STREAM_MUX;
	}
	if (d->mode == ENGINE_STREAM_RAW)
		return engine_demux_emit(d, 1, (const char *)p, len, err);

	while (len > 0) {
		if (d->remaining == 0 && d->hdrlen < 8) {
			take = 8 - d->hdrlen;
			if (take > len)
				take = len;
			memcpy(d->hdr + d->hdrlen, p, take);
			d->hdrlen += take;
			p += take;
			len -= take;
			if (d->hdrlen < 8)
				break;
			if (!engine_demux_is_header(d->hdr, 4)) {
				d->failed = 1;
				return wwerr_set(err, ENGINE_E_PROTO, "log "
				    "stream: bad frame header (stream byte "
				    "%u)", d->hdr[0]);
			}
			d->stream = d->hdr[0];
			d->remaining = (uint32_t)d->hdr[4] << 24 |
			    (uint32_t)d->hdr[5] << 16 |
			    (uint32_t)d->hdr[6] << 8 | (uint32_t)d->hdr[7];
			d->hdrlen = 0;
			continue;
		}
		take = d->remaining < len ? d->remaining : len;
		if (engine_demux_emit(d, d->stream, (const char *)p, take,
		    err) == -1)
			return -1;
		d->remaining -= (uint32_t)take;
		p += take;
		len -= take;
	}
	return 0;
}

int
engine_demux_finish(struct engine_demux *d, struct wwerr *err)
{
	size_t n;

	if (d->failed)
		return wwerr_set(err, ENGINE_E_PROTO, "log stream: demuxer "
		    "failed");
	if (d->mode == ENGINE_STREAM_AUTO && d->hdrlen > 0) {
		/* Fewer than 4 bytes in all that looked like a header. */
		n = d->hdrlen;
		d->hdrlen = 0;
		d->mode = ENGINE_STREAM_RAW;
		return engine_demux_emit(d, 1, (char *)d->hdr, n, err);
	}
	if (d->mode == ENGINE_STREAM_MUX && (d->remaining || d->hdrlen))
		return wwerr_set(err, ENGINE_E_PROTO, "log stream: cut off "
		    "inside a frame (%u payload bytes missing)",
		    d->remaining ? d->remaining : 0);
	return 0;
}

struct engine_logsink {
	int		 out_fd, err_fd;
	uint64_t	 max;
	struct engine_logstat st;
	struct engine_demux d;
	uint64_t	 seen[2];	/* payload bytes received per stream */
	uint64_t	 skip[2];	/* already delivered by an earlier read */
	/*
	 * podman 4.3 sometimes garbles a follow stream (chunks repeated or
	 * out of order near the end of a busy log). With check set, the
	 * follow pass hashes what it delivered per stream (sent[]) and the
	 * catch-up pass hashes the bytes it skips (again[]): a mismatch
	 * means the log must be re-read from the stored copy.
	 */
	int		 check;		/* 0, LS_CHECK_SENT or LS_CHECK_AGAIN */
	struct sha256	 sent[2], again[2];
};
#define LS_CHECK_SENT	1
#define LS_CHECK_AGAIN	2

static int
engine_logsink_cb(void *arg, int stream, const char *p, size_t n)
{
	struct engine_logsink *ls = arg;
	int which = (stream == 2 || stream == 3) ? 1 : 0;
	int fd = which ? ls->err_fd : ls->out_fd;
	uint64_t keep, skip;

	ls->seen[which] += n;
	if (ls->check == LS_CHECK_SENT)
		sha256_update(&ls->sent[which], p, n);
	if (ls->skip[which] > 0) {
		skip = ls->skip[which] < n ? ls->skip[which] : n;
		if (ls->check == LS_CHECK_AGAIN)
			sha256_update(&ls->again[which], p, (size_t)skip);
		ls->skip[which] -= skip;
		p += skip;
		n -= (size_t)skip;
	}
	if (fd < 0 || n == 0)
		return 0;
	keep = ls->max - ls->st.written;
	if (keep > n)
		keep = n;
	if (keep && util_write_all(fd, p, (size_t)keep) == -1)
		return -1;
	ls->st.written += keep;
	ls->st.dropped += n - keep;
	return 0;
}

static int
engine_logstream_cb(void *arg, const char *p, size_t n, struct wwerr *err)
{
	struct engine_logsink *ls = arg;

	return engine_demux_feed(&ls->d, p, n, err);
}

/*
 * One GET /logs into ls. skip[] lets a second, non-following read pick up
 * where a follow stream stopped: podman may end a follow stream as the
 * container exits before every buffered byte was sent.
 */
static int
engine_logs_into(struct engine *e, const char *id,
    const struct engine_logopts *o, struct engine_logsink *ls,
    struct wwerr *err)
{
	struct xfer x;
	char path[ENGINE_ID_MAX + 80];
	long timeout;
	int rc;

	if (engine_check_ref(e, "container id", id, 0, err) == -1)
		return -1;
	snprintf(path, sizeof(path),
	    "/containers/%s/logs?stdout=1&stderr=1&follow=%d", id,
	    o->follow ? 1 : 0);
	engine_demux_init(&ls->d, o->mode, engine_logsink_cb, ls);
	xfer_init(&x, e, 0);
	x.stream = engine_logstream_cb;
	x.stream_arg = ls;
	if (o->timeout_ms > 0)
		timeout = o->timeout_ms > LONG_MAX ? LONG_MAX :
		    (long)o->timeout_ms;
	else
		timeout = o->follow ? -1 : 0;
	rc = engine_req(e, "GET", path, NULL, timeout, &x, err);
	if (rc == 0 && engine_demux_finish(&ls->d, err) == -1) {
		wwerr_prefix(err, "engine %s: GET /containers/%.12s/logs",
		    e->url, id);
		rc = -1;
	}
	xfer_free(&x);
	return rc;
}

static void
engine_logsink_init(struct engine_logsink *ls, int out_fd, int err_fd,
    uint64_t max)
{
	memset(ls, 0, sizeof(*ls));
	ls->out_fd = out_fd;
	ls->err_fd = err_fd;
	ls->max = max ? max : ENGINE_LOG_DEFAULT;
}

/* Start hashing what a follow pass delivers (best effort). */
static void
engine_logsink_check(struct engine_logsink *ls)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sha256_init(&ls->sent[i]) == -1 ||
		    sha256_init(&ls->again[i]) == -1)
			return;
	ls->check = LS_CHECK_SENT;
}

/*
 * Release the hash contexts. Returns 1 if the catch-up pass confirmed
 * every byte the follow pass delivered, 0 if not, -1 if unchecked.
 */
static int
engine_logsink_done(struct engine_logsink *ls)
{
	unsigned char a[HASH_SHA256_LEN], b[HASH_SHA256_LEN];
	int i, ok = ls->check == LS_CHECK_AGAIN ? 1 : -1;

	for (i = 0; i < 2; i++) {
		if (ls->sent[i].ctx == NULL || ls->again[i].ctx == NULL) {
			sha256_final(&ls->sent[i], NULL);
			sha256_final(&ls->again[i], NULL);
			ok = -1;
			continue;
		}
		if (sha256_final(&ls->sent[i], a) == -1 ||
		    sha256_final(&ls->again[i], b) == -1)
			ok = -1;
		else if (ok == 1 && (ls->skip[i] != 0 ||
		    memcmp(a, b, sizeof(a)) != 0))
			ok = 0;
	}
	ls->check = 0;
	return ok;
}

int
engine_container_logs(struct engine *e, const char *id, int out_fd,
    int err_fd, const struct engine_logopts *o, struct engine_logstat *st,
    struct wwerr *err)
{
	struct engine_logsink ls;
	int rc;

	if (st)
		memset(st, 0, sizeof(*st));
	engine_logsink_init(&ls, out_fd, err_fd, o->max_bytes);
	rc = engine_logs_into(e, id, o, &ls, err);
	if (st)
		*st = ls.st;
	return rc;
}

/* POST /containers/ID/wait; *code gets StatusCode. */
static int
engine_wait_req(struct engine *e, const char *id, long timeout_ms,
    int *code, struct wwerr *err)
{
	struct xfer x;
	json_t *j = NULL, *v;
	int rc = -1;

	*code = -1;
	xfer_init(&x, e, 0);
	if (engine_container_post(e, id, "wait", "condition=not-running",
	    timeout_ms, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, "POST /containers/ID/wait", &x, JSON_OBJECT,
	    err)) == NULL)
		goto done;
	v = json_object_get(j, "StatusCode");
	if (json_is_integer(v))
		*code = (int)json_integer_value(v);
	rc = 0;
done:
	json_decref(j);
	xfer_free(&x);
	return rc;
}

int
engine_container_wait(struct engine *e, const char *id,
    const struct engine_waitopts *o, struct engine_result *out,
    struct wwerr *err)
{
	struct engine_logopts lo;
	struct engine_logsink ls;
	struct wwerr lerr;
	int64_t start = util_now_us(), deadline = 0, left;
	off_t log_start = -1;
	int code, followed = 0;

	memset(out, 0, sizeof(*out));
	out->state.exit_code = -1;
	if (o->timeout_ms > 0)
		deadline = start + o->timeout_ms * 1000;
	if (o->log_fd >= 0) {
		memset(&lo, 0, sizeof(lo));
		lo.follow = 1;
		lo.max_bytes = o->log_max;
		lo.mode = ENGINE_STREAM_AUTO;
		if (deadline) {
			left = (deadline - util_now_us()) / 1000;
			lo.timeout_ms = left > 0 ? left : 1;
		}
		wwerr_clear(&lerr);
		engine_logsink_init(&ls, o->log_fd, o->log_fd, lo.max_bytes);
		/* Where this container's log starts, if the fd can seek. */
		if ((log_start = lseek(o->log_fd, 0, SEEK_CUR)) != -1)
			engine_logsink_check(&ls);
		followed = 1;
		if (engine_logs_into(e, id, &lo, &ls, &lerr) == -1) {
			if (lerr.code == ENGINE_E_TIMEOUT)
				out->timed_out = 1;
			else if (lerr.code == ENGINE_E_CANCELLED ||
			    lerr.code == ENGINE_E_CONNECT) {
				engine_logsink_done(&ls);
				if (err)
					*err = lerr;
				return -1;
			} else {
				/* The outcome of the build still matters. */
				log_warnx("%s: %s", __func__, lerr.msg);
			}
		}
	}
	if (!out->timed_out) {
		long t = -1;

		if (deadline) {
			left = (deadline - util_now_us()) / 1000;
			/*
			 * When the log stream ended the container has most
			 * likely stopped: give the wait a moment even at the
			 * deadline.
			 */
			t = left > 1000 ? (long)left : 1000;
		}
		wwerr_clear(&lerr);
		if (engine_wait_req(e, id, t, &code, &lerr) == -1) {
			if (lerr.code != ENGINE_E_TIMEOUT) {
				if (followed)
					engine_logsink_done(&ls);
				if (err)
					*err = lerr;
				return -1;
			}
			out->timed_out = 1;
		}
	}
	if (out->timed_out) {
		log_debug("engine %s: %.12s: deadline of %lld ms passed, "
		    "killing", e->url, id, (long long)o->timeout_ms);
		if (engine_container_kill(e, id, "KILL", err) == -1) {
			if (followed)
				engine_logsink_done(&ls);
			return -1;
		}
		if (engine_wait_req(e, id, 30000, &code, err) == -1) {
			if (followed)
				engine_logsink_done(&ls);
			wwerr_prefix(err, "container %.12s did not stop after "
			    "SIGKILL", id);
			return -1;
		}
	}
	if (followed) {
		/* Catch up on whatever the follow stream did not deliver. */
		memset(&lo, 0, sizeof(lo));
		lo.mode = ENGINE_STREAM_AUTO;
		lo.timeout_ms = 30000;
		ls.skip[0] = ls.seen[0];
		ls.skip[1] = ls.seen[1];
		if (ls.check == LS_CHECK_SENT)
			ls.check = LS_CHECK_AGAIN;
		wwerr_clear(&lerr);
		if (engine_logs_into(e, id, &lo, &ls, &lerr) == -1) {
			log_warnx("%s: %s", __func__, lerr.msg);
			engine_logsink_done(&ls);
		} else if (engine_logsink_done(&ls) == 0) {
			/* The follow pass wrote garbage: write the stored
			 * log again in its place. */
			log_warnx("%s: engine %s: %.12s: the followed log "
			    "differs from the stored one; rewriting it",
			    __func__, e->url, id);
			engine_logsink_init(&ls, o->log_fd, o->log_fd,
			    o->log_max);
			wwerr_clear(&lerr);
			if (ftruncate(o->log_fd, log_start) == -1 ||
			    lseek(o->log_fd, log_start, SEEK_SET) == -1)
				log_warn("%s: rewinding the log", __func__);
			else if (engine_logs_into(e, id, &lo, &ls, &lerr) == -1)
				log_warnx("%s: %s", __func__, lerr.msg);
		}
		out->log = ls.st;
	}
	if (engine_container_inspect(e, id, &out->state, err) == -1)
		return -1;
	if (out->state.running)
		return wwerr_set(err, ENGINE_E_PROTO, "engine %s: container "
		    "%.12s still running after wait", e->url, id);
	out->oom = out->state.oom_killed;
	if (!out->oom && !out->timed_out && out->state.exit_code == 137 &&
	    out->state.memory_limit > 0) {
		out->oom = 1;
		out->oom_inferred = 1;
	}
	out->wall_us = util_now_us() - start;
	return 0;
}

/* ---- listing by label ---- */

void
engine_container_list_free(struct engine_container *list, size_t n)
{
	size_t i, k;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (k = 0; list[i].labels && list[i].labels[k]; k++)
			free(list[i].labels[k]);
		free(list[i].labels);
	}
	free(list);
}

const char *
engine_container_label(const struct engine_container *c, const char *key)
{
	size_t i, kl = strlen(key);

	for (i = 0; c->labels && c->labels[i]; i++)
		if (strncmp(c->labels[i], key, kl) == 0 &&
		    c->labels[i][kl] == '=')
			return c->labels[i] + kl + 1;
	return NULL;
}

int
engine_container_list(struct engine *e, const char *label,
    struct engine_container **out, size_t *n, struct wwerr *err)
{
	struct engine_container *list = NULL, *c;
	struct xfer x;
	struct buf path, kv;
	json_t *j = NULL, *it, *names, *labels, *v, *filt = NULL;
	const char *key;
	char *fs = NULL, *esc = NULL;
	size_t i, k, cnt = 0, nl;
	int rc = -1;

	*out = NULL;
	*n = 0;
	buf_init(&path, 8192);
	buf_init(&kv, 8192);
	xfer_init(&x, e, 0);
	buf_addstr(&path, "/containers/json?all=1");
	if (label) {
		if (*label == '\0' || *label == '=' || !engine_str_ok(label)) {
			wwerr_set(err, ENGINE_E_ARG, "engine %s: bad label "
			    "filter '%.100s'", e->url, label);
			goto done;
		}
		if ((filt = json_pack("{s:[s]}", "label", label)) == NULL ||
		    (fs = json_dumps(filt, JSON_COMPACT)) == NULL ||
		    (esc = curl_easy_escape(e->curl, fs, 0)) == NULL ||
		    buf_printf(&path, "&filters=%s", esc) == -1) {
			wwerr_set(err, ENGINE_E_ARG, "engine %s: cannot encode "
			    "label filter '%.100s'", e->url, label);
			goto done;
		}
	}
	if (engine_req(e, "GET", buf_cstr(&path), NULL, 0, &x, err) == -1)
		goto done;
	if ((j = engine_json(e, "GET /containers/json", &x, JSON_ARRAY,
	    err)) == NULL)
		goto done;
	if ((list = calloc(json_array_size(j) + 1, sizeof(*list))) == NULL) {
		wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(j, i, it) {
		if (!json_is_object(it))
			continue;
		c = &list[cnt];
		engine_jstr(it, "Id", c->id, sizeof(c->id));
		if (c->id[0] == '\0' || engine_check_ref(NULL, "id", c->id, 0,
		    NULL) == -1)
			continue;
		names = json_object_get(it, "Names");
		if (json_is_array(names) && json_is_string(json_array_get(
		    names, 0))) {
			const char *nm = json_string_value(
			    json_array_get(names, 0));

			util_strlcpy(c->name, nm[0] == '/' ? nm + 1 : nm,
			    sizeof(c->name));
		}
		engine_jstr(it, "Image", c->image, sizeof(c->image));
		engine_jstr(it, "State", c->state, sizeof(c->state));
		v = json_object_get(it, "Created");
		c->created = json_is_integer(v) ? json_integer_value(v) : 0;
		labels = json_object_get(it, "Labels");
		nl = json_is_object(labels) ? json_object_size(labels) : 0;
		cnt++;	/* from here on c is freed with the list */
		if ((c->labels = calloc(nl + 1, sizeof(char *))) == NULL) {
			wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
			goto done;
		}
		k = 0;
		json_object_foreach(labels, key, v) {
			if (!json_is_string(v) || k >= nl)
				continue;
			buf_reset(&kv);
			if (buf_printf(&kv, "%s=%s", key,
			    json_string_value(v)) == -1)
				continue;	/* absurd label: skip it */
			if ((c->labels[k] = strdup(buf_cstr(&kv))) == NULL) {
				wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
				goto done;
			}
			k++;
		}
	}
	*out = list;
	*n = cnt;
	list = NULL;
	rc = 0;
done:
	engine_container_list_free(list, cnt);
	json_decref(j);
	json_decref(filt);
	free(fs);
	curl_free(esc);
	buf_free(&path);
	buf_free(&kv);
	xfer_free(&x);
	return rc;
}

/* ---- archives ---- */

static int
engine_archive_path(struct engine *e, const char *id, const char *cpath,
    struct buf *path, struct wwerr *err)
{
	char *esc;
	int rc;

	if (engine_check_ref(e, "container id", id, 0, err) == -1)
		return -1;
	if (engine_check_path("container path", cpath, 0, err) == -1) {
		wwerr_prefix(err, "engine %s", e->url);
		return -1;
	}
	if ((esc = curl_easy_escape(e->curl, cpath, 0)) == NULL)
		return wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
	rc = buf_printf(path, "/containers/%s/archive?path=%s", id, esc);
	curl_free(esc);
	if (rc == -1)
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: path too long",
		    e->url);
	return 0;
}

int
engine_archive_stat(struct engine *e, const char *id, const char *cpath,
    struct engine_pathstat *out, struct wwerr *err)
{
	struct xfer x;
	struct buf path;
	unsigned char dec[3 * sizeof(x.header) / 4 + 4];
	json_t *j = NULL, *v;
	size_t hl, pad;
	int dl, rc = -1;
	uint64_t mode;

	memset(out, 0, sizeof(*out));
	buf_init(&path, 8192);
	xfer_init(&x, e, 0);
	if (engine_archive_path(e, id, cpath, &path, err) == -1)
		goto done;
	x.want_header = "X-Docker-Container-Path-Stat";
	if (engine_req(e, "HEAD", buf_cstr(&path), NULL, 0, &x, err) == -1) {
		/* HEAD has no body: name the path on a 404 at least. */
		if (err && err->code == ENGINE_E_NOTFOUND)
			wwerr_set(err, ENGINE_E_NOTFOUND, "engine %s: no such "
			    "path '%.300s' in container %.12s", e->url, cpath,
			    id);
		goto done;
	}
	hl = strlen(x.header);
	if (hl == 0 || hl % 4 != 0) {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: HEAD archive of "
		    "'%.300s': no usable path stat header", e->url, cpath);
		goto done;
	}
	dl = EVP_DecodeBlock(dec, (unsigned char *)x.header, (int)hl);
	pad = (x.header[hl - 1] == '=') + (x.header[hl - 2] == '=');
	if (dl < 0 || (size_t)dl < pad) {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: HEAD archive of "
		    "'%.300s': path stat header is not base64", e->url, cpath);
		goto done;
	}
	dl -= (int)pad;
	if ((j = json_loadb((char *)dec, (size_t)dl, 0, NULL)) == NULL ||
	    !json_is_object(j)) {
		wwerr_set(err, ENGINE_E_PROTO, "engine %s: HEAD archive of "
		    "'%.300s': path stat is not a JSON object", e->url, cpath);
		goto done;
	}
	engine_jstr(j, "name", out->name, sizeof(out->name));
	engine_jstr(j, "linkTarget", out->link_target,
	    sizeof(out->link_target));
	v = json_object_get(j, "size");
	out->size = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(j, "mode");
	/* Go's os.FileMode: ModeDir is bit 31, ModeSymlink bit 27. */
	mode = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	out->perm = (uint32_t)(mode & 07777);
	out->is_dir = (mode >> 31) & 1;
	out->is_symlink = (mode >> 27) & 1;
	rc = 0;
done:
	json_decref(j);
	buf_free(&path);
	xfer_free(&x);
	return rc;
}

struct engine_pull {
	struct engine	*e;
	struct xfer	*x;
	CURLM		*m;
	size_t		 off;
	int		 done;
	CURLcode	 result;
};

static la_ssize_t
engine_pull_read(struct archive *a, void *arg, const void **out)
{
	struct engine_pull *p = arg;
	struct xfer *x = p->x;
	CURLMsg *msg;
	int running, left;
	size_t n;

	if (p->off >= x->body.len) {
		buf_reset(&x->body);
		p->off = 0;
		if (x->paused) {
			x->paused = 0;
			curl_easy_pause(p->e->curl, CURLPAUSE_CONT);
		}
		while (x->body.len == 0 && !p->done) {
			if (curl_multi_perform(p->m, &running) != CURLM_OK) {
				archive_set_error(a, EIO, "curl multi failed");
				return -1;
			}
			while ((msg = curl_multi_info_read(p->m, &left)))
				if (msg->msg == CURLMSG_DONE) {
					p->done = 1;
					p->result = msg->data.result;
				}
			if (x->body.len > 0 || p->done)
				break;
			curl_multi_poll(p->m, NULL, 0, 1000, NULL);
		}
		if (x->status != 0 && (x->status < 200 || x->status >= 300)) {
			/* The error body is not a tar; finish it, then fail. */
			while (!p->done) {
				if (curl_multi_perform(p->m, &running) !=
				    CURLM_OK)
					break;
				while ((msg = curl_multi_info_read(p->m,
				    &left)))
					if (msg->msg == CURLMSG_DONE) {
						p->done = 1;
						p->result = msg->data.result;
					}
				if (!p->done)
					curl_multi_poll(p->m, NULL, 0, 1000,
					    NULL);
			}
			archive_set_error(a, EIO, "engine error");
			return -1;
		}
		if (x->body.len == 0) {
			if (p->result == CURLE_OK)
				return 0;
			archive_set_error(a, EIO, "transfer failed");
			return -1;
		}
	}
	*out = x->body.ptr + p->off;
	n = x->body.len - p->off;
	p->off = x->body.len;
	return (la_ssize_t)n;
}

int
engine_archive_get(struct engine *e, const char *id, const char *cpath,
    uint64_t max_bytes, engine_archive_fn fn, void *arg, struct wwerr *err)
{
	struct engine_pull p;
	struct xfer x;
	struct buf path;
	struct curl_slist *hdrs = NULL;
	struct archive *a = NULL;
	struct archive_entry *ent;
	char req[200];
	int r, rc = -1, cbrc, added = 0;

	memset(&p, 0, sizeof(p));
	buf_init(&path, 8192);
	xfer_init(&x, e, 0);
	/* The pull buffer: one high-water mark plus what curl hands at once. */
	buf_init(&x.body, ENGINE_PULL_HIGH + 4 * CURL_MAX_WRITE_SIZE +
	    ENGINE_ERRBODY_MAX);
	x.pull = 1;
	x.total_max = max_bytes ? max_bytes : ENGINE_ARCHIVE_DEFAULT;
	if (engine_archive_path(e, id, cpath, &path, err) == -1)
		goto done;
	engine_reqname("GET", buf_cstr(&path), req, sizeof(req));
	if (engine_setup(e, "GET", buf_cstr(&path), NULL, 0, &x, &hdrs,
	    err) == -1)
		goto done;
	p.e = e;
	p.x = &x;
	if ((p.m = curl_multi_init()) == NULL ||
	    curl_multi_add_handle(p.m, e->curl) != CURLM_OK) {
		wwerr_set(err, ENGINE_E_NOMEM, "engine %s: curl multi setup "
		    "failed", e->url);
		goto done;
	}
	added = 1;
	if ((a = archive_read_new()) == NULL ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK) {
		wwerr_set(err, ENGINE_E_NOMEM, "out of memory");
		goto done;
	}
	if (archive_read_open(a, &p, NULL, engine_pull_read, NULL) !=
	    ARCHIVE_OK)
		goto archerr;
	for (;;) {
		r = archive_read_next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			goto archerr;
		cbrc = fn(arg, a, ent, err);
		if (cbrc == -1)
			goto done;
		if (cbrc == 1)
			break;
	}
	rc = 0;
	goto done;
archerr:
	/* Prefer the transport's or the engine's explanation. */
	if (engine_finish(e, "GET", buf_cstr(&path), p.done ? p.result :
	    CURLE_OK, &x, 0, err) == 0)
		wwerr_set(err, ENGINE_E_ARCHIVE, "engine %s: %s: bad tar: %s",
		    e->url, req, archive_error_string(a) ?
		    archive_error_string(a) : "unknown error");
done:
	if (a)
		archive_read_free(a);
	if (added)
		curl_multi_remove_handle(p.m, e->curl);
	if (p.m)
		curl_multi_cleanup(p.m);
	curl_slist_free_all(hdrs);
	buf_free(&path);
	xfer_free(&x);
	return rc;
}

struct engine_copy {
	int		 fd;
	uint64_t	 max;
	const char	*want;
	int		 got;
};

static int
engine_copy_cb(void *arg, struct archive *a, struct archive_entry *ent,
    struct wwerr *err)
{
	struct engine_copy *c = arg;
	const void *blk;
	size_t len;
	la_int64_t off;
	uint64_t total = 0;
	int r;

	if (archive_entry_filetype(ent) != AE_IFREG)
		return wwerr_set(err, ENGINE_E_ARCHIVE, "'%s' is not a regular "
		    "file in the container", c->want);
	if (archive_entry_size_is_set(ent) && archive_entry_size(ent) >= 0 &&
	    (uint64_t)archive_entry_size(ent) > c->max)
		return wwerr_set(err, ENGINE_E_TOOBIG, "'%s' is %lld bytes, "
		    "over the %llu byte limit", c->want,
		    (long long)archive_entry_size(ent),
		    (unsigned long long)c->max);
	for (;;) {
		r = archive_read_data_block(a, &blk, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return wwerr_set(err, ENGINE_E_ARCHIVE, "reading '%s' "
			    "from the container: %s", c->want,
			    archive_error_string(a));
		/* Sparse files arrive with holes: refuse rather than guess. */
		if ((uint64_t)off != total)
			return wwerr_set(err, ENGINE_E_ARCHIVE, "'%s' is sparse "
			    "in the archive", c->want);
		if (len > c->max - total)
			return wwerr_set(err, ENGINE_E_TOOBIG, "'%s' is over "
			    "the %llu byte limit", c->want,
			    (unsigned long long)c->max);
		if (util_write_all(c->fd, blk, len) == -1)
			return wwerr_set(err, ENGINE_E_IO, "writing '%s': %s",
			    c->want, strerror(errno));
		total += len;
	}
	c->got = 1;
	return 1;
}

int
engine_copy_file(struct engine *e, const char *id, const char *cpath,
    int fd, uint64_t max_bytes, char *resolved, size_t resolvedlen,
    struct wwerr *err)
{
	struct engine_pathstat st;
	struct engine_copy c;
	char cur[ENGINE_PATH_MAX], next[2 * ENGINE_PATH_MAX];
	const char *slash;
	int hops;

	if (engine_check_path("container path", cpath, 0, err) == -1)
		return -1;
	util_strlcpy(cur, cpath, sizeof(cur));
	for (hops = 0;; hops++) {
		if (engine_archive_stat(e, id, cur, &st, err) == -1)
			return -1;
		if (!st.is_symlink)
			break;
		if (hops == ENGINE_MAX_SYMLINKS)
			return wwerr_set(err, ENGINE_E_ARG, "engine %s: '%s': "
			    "more than %d symlinks", e->url, cpath,
			    ENGINE_MAX_SYMLINKS);
		if (st.link_target[0] == '\0')
			return wwerr_set(err, ENGINE_E_PROTO, "engine %s: "
			    "'%s' is a symlink without a target", e->url, cur);
		if (st.link_target[0] == '/') {
			util_strlcpy(next, st.link_target, sizeof(next));
		} else {
			slash = strrchr(cur, '/');
			snprintf(next, sizeof(next), "%.*s/%s",
			    (int)(slash - cur), cur, st.link_target);
		}
		if (strcmp(next, cur) == 0)
			return wwerr_set(err, ENGINE_E_PROTO, "engine %s: '%s' "
			    "links to itself", e->url, cur);
		if (strlen(next) >= sizeof(cur))
			return wwerr_set(err, ENGINE_E_ARG, "engine %s: "
			    "symlink target of '%s' too long", e->url, cur);
		util_strlcpy(cur, next, sizeof(cur));
	}
	if (st.is_dir)
		return wwerr_set(err, ENGINE_E_ARG, "engine %s: '%s' is a "
		    "directory in container %.12s", e->url, cur, id);
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.max = max_bytes ? max_bytes : ENGINE_ARCHIVE_DEFAULT;
	c.want = cur;
	/* The tar holds the file plus its header: allow for that. */
	if (engine_archive_get(e, id, cur, c.max + 64 * 1024, engine_copy_cb,
	    &c, err) == -1)
		return -1;
	if (!c.got)
		return wwerr_set(err, ENGINE_E_PROTO, "engine %s: archive of "
		    "'%s' was empty", e->url, cur);
	if (resolved)
		util_strlcpy(resolved, cur, resolvedlen);
	return 0;
}
