/*
 * server.c: the indexd process. The main thread owns the listening
 * sockets and the signals: it accepts each connection and hands it to the
 * worker with the fewest connections (SO_REUSEPORT's hashing left one
 * worker with clearly more of a benchmark's keep-alive connections, which
 * cost ~25% on big responses). N worker threads each run an event loop
 * with their own catalog connection; nothing on the request path is
 * shared but the (locked) page cache.
 *
 * Freshness without per-request SQL: each request steps a prepared
 * "PRAGMA data_version" (which changes when another connection commits);
 * only then is the catalog's global generation re-read. Cached pages
 * remember the global generation they were last known valid at, and only
 * when that moved is the project's own generation compared.
 */
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#include "buf.h"
#include "catalog.h"
#include "indexd_accesslog.h"
#include "indexd_api_jobs.h"
#include "indexd_cache.h"
#include "indexd_http.h"
#include "indexd_metrics.h"
#include "indexd_negotiate.h"
#include "indexd_pagerows.h"
#include "indexd_render.h"
#include "indexd_server.h"
#include "indexd_upload.h"
#include "log.h"
#include "name.h"
#include "store.h"
#include "util.h"

#define SERVER_NAME		"indexd/0.1.0"
#define MAX_WORKERS		64
#define MAX_FILE_FACTS		65536
#define LOG_FLUSH_MS		200
#define LOG_FLUSH_BYTES		(32 * 1024)
#define RENDER_MAX		(256 * 1024 * 1024)
#define DRAIN_GRACE_SECS	30

#define CTL_RELOAD		0x1
#define CTL_DRAIN		0x2
#define CTL_ADOPT		0x4

struct worker {
	struct indexd		*d;
	int			 id;
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	struct http_server	*http;
	struct catalog		*cat;
	struct store		*store;
	sqlite3_stmt		*dv;
	int			 ino_fd;	/* inotify on DATA, or -1 */
	int64_t			 dv_last;
	uint64_t		 lw_last;
	int64_t			 gen;
	int			 synced;
	pthread_mutex_t		 qmtx;		/* handed-over connections */
	struct handoff		*q;
	size_t			 qn, qcap;
	int			 pending;	/* atomic: queued, not adopted */
	int			 ctl_fd;
	unsigned		 ctl;		/* atomic CTL_* bits */
	struct event		*ctl_ev;
	struct event		*flush_ev;
	struct event		*grace_ev;
	struct buf		 logbuf;
	struct buf		 scratch;
	const struct config	*conf;
	struct limits		 limits;
	struct upload_env	 uenv;
	struct api_jobs_env	 jenv;		/* POST/GET /api/v1/jobs */
	struct accesslog_clock	 clk;
	char			 cc_page[64];	/* Cache-Control values */
	char			 cc_page404[64];
	char			 cc_file[80];
};

struct handoff {
	int			 fd;
	int			 tls;
	struct sockaddr_storage	 ss;
};

struct listen_slot {
	struct indexd		*d;
	int			 fd;
	int			 tls;
	struct evconnlistener	*l;
};

struct oldconf {
	struct config	*conf;
	struct oldconf	*next;
};

struct indexd {
	pthread_mutex_t		 mtx;		/* conf, tls */
	struct config		*conf;
	struct oldconf		*old;		/* freed at exit */
	SSL_CTX			*tls;
	struct page_cache	*cache;
	struct metrics		*metrics;
	struct accesslog	*alog;
	struct http_conn_limit	 cl;
	uint64_t		 local_writes;	/* atomic */
	int64_t			 start_time;
	int			 nworkers;
	struct worker		*workers;
	struct listen_slot	 lsn[CONFIG_MAX_LISTEN];
	size_t			 nlsn;
	struct event_base	*base;		/* main thread: accept, signals */
};

/* ------------------------------------------------------------------ */
/* configuration-derived settings */

static void
limits_from_conf(const struct config *c, struct http_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_header_size = (size_t)c->max_header_size;
	l->max_url_len = (size_t)c->max_url_len;
	l->max_headers = 100;
	l->header_timeout = c->header_timeout;
	l->read_timeout = c->read_timeout;
	l->write_timeout = c->write_timeout;
	l->linger_timeout = c->read_timeout < 5 ? c->read_timeout : 5;
	l->discard_max = 64 * 1024;
	l->server_name = SERVER_NAME;
}

static SSL_CTX *
tls_load(const char *cert, const char *key, struct wwerr *err)
{
	SSL_CTX *ctx;
	unsigned long e;
	char ebuf[256];

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		wwerr_set(err, EINVAL, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		wwerr_set(err, EINVAL, "tls_cert %s: %s", cert, ebuf);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		wwerr_set(err, EINVAL, "tls_key %s: %s", key, ebuf);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		wwerr_set(err, EINVAL, "tls_key %s does not match tls_cert %s",
		    key, cert);
		goto fail;
	}
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

int
indexd_check_config(const struct config *conf, struct wwerr *err)
{
	struct stat st;
	SSL_CTX *ctx;

	if (stat(conf->datadir, &st) == -1 || !S_ISDIR(st.st_mode))
		return wwerr_set(err, ENOENT, "%s: datadir %s: %s", conf->path,
		    conf->datadir, errno ? strerror(errno) :
		    "not a directory");
	if (conf->nlisten == 0)
		return wwerr_set(err, EINVAL, "%s: [indexd] has no listen "
		    "address", conf->path);
	if (conf->tls_cert[0] != '\0') {
		if ((ctx = tls_load(conf->tls_cert, conf->tls_key, err)) ==
		    NULL) {
			wwerr_prefix(err, "%s", conf->path);
			return -1;
		}
		SSL_CTX_free(ctx);
	}
	if (conf->max_header_size < 1024)
		return wwerr_set(err, EINVAL, "%s: max_header_size must be at "
		    "least 1K", conf->path);
	if (conf->max_url_len < 64 || conf->max_url_len >
	    conf->max_header_size)
		return wwerr_set(err, EINVAL, "%s: max_url_length must be "
		    "between 64 and max_header_size", conf->path);
	return 0;
}

/* ------------------------------------------------------------------ */
/* catalog freshness */

/*
 * Did anything touch the catalog's files (DATA/catalog.sqlite*) since the
 * last look? Writers append to the WAL with write(2), which queues an
 * inotify event before their commit returns, so an event is never missed
 * by a request that starts after the commit. One read(2) when idle.
 */
static int
catalog_touched(struct worker *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n, off;
	int touched = 0;

	while ((n = read(w->ino_fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 &&
			    strncmp(ev->name, "catalog.sqlite", 14) == 0))
				touched = 1;
		}
	}
	return touched;
}

static int
worker_sync(struct worker *w)
{
	struct wwerr err;
	int64_t dv = 0, g;
	uint64_t lw;
	int rc;

	if (w->ino_fd != -1) {
		rc = catalog_touched(w);
		lw = __atomic_load_n(&w->d->local_writes, __ATOMIC_ACQUIRE);
		if (w->synced && !rc && lw == w->lw_last)
			return 0;
	} else {
		/* no inotify: ask SQLite (file locks on every request) */
		rc = sqlite3_step(w->dv);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(w->dv);
			log_warnx("%s: PRAGMA data_version: %s", __func__,
			    sqlite3_errmsg(catalog_db(w->cat)));
			return -1;
		}
		dv = sqlite3_column_int64(w->dv, 0);
		sqlite3_reset(w->dv);
		lw = __atomic_load_n(&w->d->local_writes, __ATOMIC_ACQUIRE);
		if (w->synced && dv == w->dv_last && lw == w->lw_last)
			return 0;
	}
	if (catalog_global_generation(w->cat, &g, &err) == -1) {
		log_warnx("%s: %s", __func__, err.msg);
		w->synced = 0;		/* look again next time */
		return -1;
	}
	w->gen = g;
	w->dv_last = dv;
	w->lw_last = lw;
	w->synced = 1;
	return 0;
}

static void
worker_changed(void *arg)
{
	struct worker *w = arg;

	__atomic_add_fetch(&w->d->local_writes, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* rendering */

static int
hex_to_bin(const char *hex, unsigned char *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < HASH_SHA256_LEN; i++) {
		hi = hex[2 * i];
		lo = hex[2 * i + 1];
		hi = hi >= 'a' ? hi - 'a' + 10 : hi - '0';
		lo = lo >= 'a' ? lo - 'a' + 10 : lo - '0';
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return -1;
		out[i] = (unsigned char)(hi * 16 + lo);
	}
	return 0;
}

static void
remember_file(struct worker *w, const struct catalog_file *f)
{
	struct fileinfo fi;

	memset(&fi, 0, sizeof(fi));
	fi.size = f->size;
	if (hex_to_bin(f->sha256, fi.sha256) == -1)
		return;
	fi.has_metadata = render_has_metadata(f) &&
	    hex_to_bin(f->metadata_sha256, fi.metadata_sha256) == 0;
	fileinfo_put(w->d->cache, f->filename, &fi);
}

/*
 * Render one form of a project page and cache it (the other form is
 * rendered when first asked for: most clients only ever want one).
 */
static struct page *
render_project_pages(struct worker *w, const char *name, int64_t pgen,
    int json, int *status)
{
	struct pagerows_files l;
	struct wwerr err;
	struct page *p = NULL;
	struct timespec t0, t1;
	char key[NAME_MAX_LEN + 8];
	int rc;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	if (pagerows_load_files(w->cat, name, &l, &err) == -1) {
		if (!l.oom)
			log_warnx("%s: %s: %s", __func__, name, err.msg);
		*status = l.oom ? 500 : 503;
		goto fail;
	}
	buf_reset(&w->scratch);
	rc = json ? render_project_json(&w->scratch, name, l.v, l.n) :
	    render_project_html(&w->scratch, name, l.v, l.n);
	if (rc == -1 || (p = page_new(w->d->cache, w->scratch.ptr,
	    w->scratch.len,
	    pgen)) == NULL) {
		*status = 500;
		goto fail;
	}
	buf_reset(&w->scratch);
	page_set_checked(p, w->gen);
	snprintf(key, sizeof(key), "%c:%s", json ? 'j' : 'h', name);
	page_cache_put(w->d->cache, key, p);
	page_cache_count_render(w->d->cache);
	/* file facts are learnt on a file's first request, not here: that
	 * kept 0.8 ms off a 2000-file render */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	log_debug("rendered %s (%s, %zu files, %zu bytes) in %.2f ms CPU",
	    name, json ? "json" : "html", l.n, p->len,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	pagerows_files_free(&l);
	return p;
fail:
	buf_reset(&w->scratch);
	pagerows_files_free(&l);
	return NULL;
}

static struct page *
project_page(struct worker *w, const char *name, int json, int *status)
{
	char key[NAME_MAX_LEN + 8], display[256];
	struct wwerr err;
	struct page *p;
	int64_t pgen;
	int rc;

	if (worker_sync(w) == -1) {
		*status = 503;
		return NULL;
	}
	snprintf(key, sizeof(key), "%c:%s", json ? 'j' : 'h', name);
	p = page_cache_get(w->d->cache, key);
	if (p != NULL && page_checked(p) == w->gen)
		return p;
	rc = catalog_project_generation(w->cat, name, &pgen, display,
	    sizeof(display), &err);
	if (rc != 0) {
		page_unref(p);
		if (rc == -1)
			log_warnx("%s: %s", __func__, err.msg);
		*status = rc == 1 ? 404 : 503;
		return NULL;
	}
	if (p != NULL && p->gen == pgen) {
		page_set_checked(p, w->gen);
		return p;
	}
	page_unref(p);
	return render_project_pages(w, name, pgen, json, status);
}

static struct page *
index_page(struct worker *w, int json, int *status)
{
	struct page *p, *html = NULL, *js = NULL;
	struct pagerows_projects l;
	struct wwerr err;

	if (worker_sync(w) == -1) {
		*status = 503;
		return NULL;
	}
	p = page_cache_get(w->d->cache, json ? "j:" : "h:");
	if (p != NULL && p->gen == w->gen)
		return p;
	page_unref(p);
	if (pagerows_load_projects(w->cat, &l, &err) == -1) {
		if (!l.oom)
			log_warnx("%s: %s", __func__, err.msg);
		*status = l.oom ? 500 : 503;
		goto fail;
	}
	buf_reset(&w->scratch);
	if (render_index_html(&w->scratch, l.v, l.n) == -1 ||
	    (html = page_new(w->d->cache, w->scratch.ptr, w->scratch.len,
	    w->gen)) == NULL)
		goto oom;
	buf_reset(&w->scratch);
	if (render_index_json(&w->scratch, l.v, l.n) == -1 ||
	    (js = page_new(w->d->cache, w->scratch.ptr, w->scratch.len,
	    w->gen)) == NULL)
		goto oom;
	buf_reset(&w->scratch);
	page_cache_put(w->d->cache, "h:", html);
	page_cache_put(w->d->cache, "j:", js);
	page_cache_count_render(w->d->cache);
	pagerows_projects_free(&l);
	if (json) {
		page_unref(html);
		return js;
	}
	page_unref(js);
	return html;
oom:
	*status = 500;
fail:
	buf_reset(&w->scratch);
	page_unref(html);
	page_unref(js);
	pagerows_projects_free(&l);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* responses */

static int
method_ok(struct http_request *r, int allow_post)
{
	enum http_method m = http_request_method(r);

	if (m == HTTP_M_GET || m == HTTP_M_HEAD ||
	    (allow_post && m == HTTP_M_POST))
		return 1;
	http_response_begin(r, 405, NULL);
	http_response_header(r, "Allow", allow_post ? "GET, HEAD, POST" :
	    "GET, HEAD");
	http_response_header(r, "Vary", "Accept");
	http_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	http_response_end(r, "method not allowed\n", 19);
	return 0;
}

static void
redirect(struct http_request *r, const char *path)
{
	const char *q = http_request_query(r);
	struct buf loc;

	http_request_set_tag(r, ROUTE_REDIRECT);
	buf_init(&loc, 16384);
	buf_addstr(&loc, path);
	if (q != NULL) {
		buf_addc(&loc, '?');
		buf_addstr(&loc, q);
	}
	http_response_begin(r, 301, NULL);
	if (http_response_header(r, "Location", buf_cstr(&loc)) == -1) {
		buf_free(&loc);
		http_response_error(r, 400, "bad redirect target");
		return;
	}
	http_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(r, "Vary", "Accept");
	http_response_header(r, "Cache-Control", "public, max-age=3600");
	http_response_end(r, "moved permanently\n", 18);
	buf_free(&loc);
}

static void
not_acceptable(struct http_request *r)
{
	static const char msg[] = "none of the available types is "
	    "acceptable: text/html, " NEGOTIATE_HTML_V1_TYPE ", "
	    NEGOTIATE_JSON_TYPE "\n";

	http_response_begin(r, 406, NULL);
	http_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(r, "Vary", "Accept");
	http_response_end(r, msg, sizeof(msg) - 1);
}

static void
page_error(struct worker *w, struct http_request *r, int status,
    enum simple_format fmt, const char *what)
{
	struct buf b;

	if (status != 404) {
		http_response_begin(r, status, NULL);
		http_response_header(r, "Vary", "Accept");
		http_response_header(r, "Retry-After", "1");
		http_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
		http_response_end(r, status == 503 ? "catalog unavailable\n" :
		    "internal error\n", status == 503 ? 20 : 15);
		return;
	}
	buf_init(&b, 64 * 1024);
	render_not_found(&b, negotiate_is_json(fmt), what);
	http_response_begin(r, 404, NULL);
	http_response_header(r, "Content-Type", negotiate_content_type(fmt));
	http_response_header(r, "Vary", "Accept");
	http_response_header(r, "Cache-Control", w->cc_page404);
	http_response_end(r, b.ptr, b.len);
	buf_free(&b);
}

static void
text_response(struct http_request *r, int status, const char *body)
{
	http_response_begin(r, status, NULL);
	http_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	http_response_end(r, body, strlen(body));
}

static void
send_page(struct worker *w, struct http_request *r, struct page *p,
    enum simple_format fmt)
{
	const char *inm = http_request_header(r, "If-None-Match");
	char etag[64];
	size_t n;
	int fd = -1;

	/* v1+html has the text/html bytes but is another representation */
	n = util_strlcpy(etag, p->etag, sizeof(etag));
	if (fmt == SIMPLE_FMT_HTML_V1 && n >= 2 && n + 3 < sizeof(etag)) {
		etag[n - 1] = '\0';
		util_strlcat(etag, "-v1\"", sizeof(etag));
	}
	if (inm != NULL && http_etag_match(inm, etag)) {
		http_response_begin(r, 304, NULL);
		http_response_header(r, "Content-Type",
		    negotiate_content_type(fmt));
		http_response_header(r, "ETag", etag);
		http_response_header(r, "Vary", "Accept");
		http_response_header(r, "Cache-Control", w->cc_page);
		http_response_end_nobody(r);
		page_unref(p);
		return;
	}
	/* big pages: a duplicate of the memfd goes out with sendfile */
	if (p->fd != -1 && (fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: dup", __func__);
		page_unref(p);
		text_response(r, 503, "out of file descriptors\n");
		return;
	}
	http_response_begin(r, 200, NULL);
	http_response_header(r, "Content-Type", negotiate_content_type(fmt));
	http_response_header(r, "Vary", "Accept");
	http_response_header(r, "ETag", etag);
	http_response_header(r, "Cache-Control", w->cc_page);
	if (fd != -1) {
		http_response_end_file(r, fd, 0, (off_t)p->len);
		page_unref(p);
		return;
	}
	http_response_end_ref(r, p->body, p->len, page_release_cb, p);
}

static enum simple_format
negotiate_request(struct http_request *r)
{
	char fmt[128];
	const char *q = http_request_query(r);
	const char *accept = http_request_header(r, "Accept");

	if (q != NULL && http_query_get(q, "format", fmt, sizeof(fmt)) == 0) {
		char *sp;
		/* a literal '+' in "v1+json" arrives as a space: media types
		 * have no spaces, so put it back */
		while ((sp = strchr(fmt, ' ')) != NULL)
			*sp = '+';
		return negotiate_simple(NULL, fmt);
	}
	return negotiate_simple(accept, NULL);
}

/* /simple, /simple/, /simple/<name>, /simple/<name>/ */
static void
route_simple(struct worker *w, struct http_request *r, const char *path)
{
	char raw[NAME_MAX_LEN * 3 + 8], name[NAME_MAX_LEN + 1], norm[256];
	char loc[NAME_MAX_LEN + 16];
	const char *rest, *slash;
	enum simple_format fmt;
	struct page *p;
	size_t len;
	int status = 500;

	if (!strcmp(path, "/simple")) {
		redirect(r, "/simple/");
		return;
	}
	rest = path + 8;	/* after "/simple/" */
	if (*rest == '\0') {
		http_request_set_tag(r, ROUTE_INDEX);
		if (!method_ok(r, 0))
			return;
		if ((fmt = negotiate_request(r)) == SIMPLE_FMT_NONE) {
			not_acceptable(r);
			return;
		}
		if ((p = index_page(w, negotiate_is_json(fmt), &status)) ==
		    NULL) {
			page_error(w, r, status, fmt, "index unavailable");
			return;
		}
		send_page(w, r, p, fmt);
		return;
	}
	http_request_set_tag(r, ROUTE_PROJECT);
	if (!method_ok(r, 0))
		return;
	slash = strchr(rest, '/');
	len = slash ? (size_t)(slash - rest) : strlen(rest);
	fmt = negotiate_request(r);
	if ((slash != NULL && slash[1] != '\0') || len >= sizeof(raw) ||
	    len == 0) {
		if (fmt == SIMPLE_FMT_NONE)
			fmt = SIMPLE_FMT_HTML;
		page_error(w, r, 404, fmt, "no such page");
		return;
	}
	memcpy(raw, rest, len);
	raw[len] = '\0';
	if (http_urldecode(raw, len, name, sizeof(name)) == -1 ||
	    name_normalize(name, norm, sizeof(norm)) == -1) {
		if (fmt == SIMPLE_FMT_NONE)
			fmt = SIMPLE_FMT_HTML;
		page_error(w, r, 404, fmt, "not a valid project name");
		return;
	}
	if (strcmp(norm, raw) != 0 || slash == NULL) {
		snprintf(loc, sizeof(loc), "/simple/%s/", norm);
		redirect(r, loc);
		return;
	}
	if (fmt == SIMPLE_FMT_NONE) {
		not_acceptable(r);
		return;
	}
	if ((p = project_page(w, norm, negotiate_is_json(fmt), &status)) ==
	    NULL) {
		char what[300];
		snprintf(what, sizeof(what), "no project named \"%s\"", norm);
		page_error(w, r, status, fmt, what);
		return;
	}
	send_page(w, r, p, fmt);
}

/* The file's facts: from the cache, else the catalog. 1 found. */
static int
file_facts(struct worker *w, const char *filename, struct fileinfo *fi,
    int *status)
{
	struct catalog_file f;
	struct wwerr err;
	int rc;

	if (fileinfo_get(w->d->cache, filename, fi))
		return 1;
	memset(&f, 0, sizeof(f));
	rc = catalog_get_file(w->cat, filename, &f, &err);
	if (rc == -1) {
		log_warnx("%s: %s", __func__, err.msg);
		*status = 503;
		return 0;
	}
	if (rc == 1) {
		*status = 404;
		return 0;
	}
	remember_file(w, &f);
	catalog_file_free(&f);
	if (fileinfo_get(w->d->cache, filename, fi))
		return 1;
	*status = 500;
	return 0;
}

static void
route_file(struct worker *w, struct http_request *r, const char *enc)
{
	char name[512], base[512], path[4096], etag[80], lm[64];
	unsigned char *sha;
	char hex[HASH_SHA256_HEXLEN];
	struct fileinfo fi;
	struct stat st;
	uint64_t first = 0, last = 0, size;
	const char *range, *ifr, *inm;
	size_t len;
	int fd, is_meta = 0, status = 500, rr;

	http_request_set_tag(r, ROUTE_FILE);
	if (!method_ok(r, 0))
		return;
	if (http_urldecode(enc, strlen(enc), name, sizeof(name)) == -1 ||
	    name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
		text_response(r, 404, "no such file\n");
		return;
	}
	len = strlen(name);
	util_strlcpy(base, name, sizeof(base));
	if (len > 9 && !strcmp(name + len - 9, ".metadata")) {
		is_meta = 1;
		base[len - 9] = '\0';
		http_request_set_tag(r, ROUTE_METADATA);
	}
	if (!file_facts(w, base, &fi, &status) ||
	    (is_meta && !fi.has_metadata)) {
		if (status == 503)
			text_response(r, 503, "catalog unavailable\n");
		else
			text_response(r, 404, "no such file\n");
		return;
	}
	if (store_path(w->store, name, path, sizeof(path)) == -1) {
		text_response(r, 404, "no such file\n");
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("%s: %s is in the catalog but not readable", __func__,
		    path);
		text_response(r, errno == ENOENT ? 404 : 500, errno == ENOENT ?
		    "no such file\n" : "cannot read the file\n");
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		text_response(r, 500, "cannot read the file\n");
		return;
	}
	size = (uint64_t)st.st_size;
	if (!is_meta && size != fi.size) {
		log_warnx("%s: %s is %llu bytes, the catalog says %llu",
		    __func__, path, (unsigned long long)size,
		    (unsigned long long)fi.size);
		close(fd);
		text_response(r, 500, "stored file does not match the "
		    "catalog\n");
		return;
	}
	sha = is_meta ? fi.metadata_sha256 : fi.sha256;
	hash_hex(sha, HASH_SHA256_LEN, hex);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	http_format_date((int64_t)st.st_mtime, lm, sizeof(lm));

	inm = http_request_header(r, "If-None-Match");
	if (inm != NULL && http_etag_match(inm, etag)) {
		close(fd);
		http_response_begin(r, 304, NULL);
		http_response_header(r, "ETag", etag);
		http_response_header(r, "Cache-Control", w->cc_file);
		http_response_end_nobody(r);
		return;
	}
	range = http_request_header(r, "Range");
	ifr = http_request_header(r, "If-Range");
	if (range != NULL && ifr != NULL && strcmp(ifr, etag) != 0)
		range = NULL;	/* changed (or a date): send it all */
	rr = range ? http_parse_range(range, size, &first, &last) : 0;
	if (rr == 2) {
		close(fd);
		http_response_begin(r, 416, NULL);
		http_response_headerf(r, "Content-Range", "bytes */%llu",
		    (unsigned long long)size);
		http_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
		http_response_end(r, "range not satisfiable\n", 22);
		return;
	}
	http_response_begin(r, rr == 1 ? 206 : 200, NULL);
	http_response_header(r, "Content-Type", is_meta ?
	    "text/plain; charset=utf-8" : "application/octet-stream");
	http_response_header(r, "ETag", etag);
	http_response_header(r, "Last-Modified", lm);
	http_response_header(r, "Cache-Control", w->cc_file);
	http_response_header(r, "Accept-Ranges", "bytes");
	if (rr == 1) {
		http_response_headerf(r, "Content-Range", "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)size);
		http_response_end_file(r, fd, (off_t)first,
		    (off_t)(last - first + 1));
	} else
		http_response_end_file(r, fd, 0, (off_t)size);
}

static void
route_metrics(struct worker *w, struct http_request *r)
{
	struct metrics_gauges g;
	struct wwerr err;
	struct buf b;

	memset(&g, 0, sizeof(g));
	g.connections = __atomic_load_n(&w->d->cl.current, __ATOMIC_RELAXED);
	g.workers = w->d->nworkers;
	g.start_time = w->d->start_time;
	if (worker_sync(w) == 0 &&
	    catalog_stats(w->cat, &g.catalog, &err) == 0) {
		g.have_catalog = 1;
		g.generation = w->gen;
	}
	page_cache_stats(w->d->cache, &g.cache);
	buf_init(&b, 4 * 1024 * 1024);
	if (metrics_render(w->d->metrics, &g, &b) == -1) {
		buf_free(&b);
		text_response(r, 500, "metrics too large\n");
		return;
	}
	http_response_begin(r, 200, NULL);
	http_response_header(r, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	http_response_header(r, "Cache-Control", "no-store");
	http_response_end(r, b.ptr, b.len);
	buf_free(&b);
}

static const char landing[] =
    "<!DOCTYPE html>\n<html>\n  <head><title>Wheelwright index</title>"
    "</head>\n  <body>\n    <h1>Wheelwright index</h1>\n"
    "    <p><a href=\"simple/\">simple/</a> (PEP 503/691). Upload with "
    "<code>twine upload --repository-url THIS_URL</code>.</p>\n"
    "  </body>\n</html>\n";

static void
on_request(struct http_request *r, void *arg)
{
	struct worker *w = arg;
	const char *path = http_request_path(r);

	if (!strncmp(path, "/simple", 7) && (path[7] == '\0' ||
	    path[7] == '/')) {
		route_simple(w, r, path);
		return;
	}
	if (!strncmp(path, "/files/", 7)) {
		route_file(w, r, path + 7);
		return;
	}
	if (api_jobs_match(path)) {
		http_request_set_tag(r, ROUTE_API);
		api_jobs_handle(&w->jenv, r, path);
		return;
	}
	if (!strcmp(path, "/") || !strcmp(path, "/legacy/") ||
	    !strcmp(path, "/legacy")) {
		if (!method_ok(r, 1))
			return;
		if (http_request_method(r) == HTTP_M_POST) {
			upload_handle(&w->uenv, r);
			return;
		}
		http_request_set_tag(r, ROUTE_OTHER);
		http_response_begin(r, 200, NULL);
		http_response_header(r, "Content-Type",
		    "text/html; charset=utf-8");
		http_response_end(r, landing, sizeof(landing) - 1);
		return;
	}
	if (!strcmp(path, "/healthz")) {
		http_request_set_tag(r, ROUTE_HEALTHZ);
		if (!method_ok(r, 0))
			return;
		if (worker_sync(w) == -1) {
			text_response(r, 503, "catalog unavailable\n");
			return;
		}
		http_response_begin(r, 200, NULL);
		http_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
		http_response_header(r, "Cache-Control", "no-store");
		http_response_end(r, "ok\n", 3);
		return;
	}
	if (!strcmp(path, "/metrics")) {
		http_request_set_tag(r, ROUTE_METRICS);
		if (!method_ok(r, 0))
			return;
		route_metrics(w, r);
		return;
	}
	http_request_set_tag(r, ROUTE_OTHER);
	text_response(r, 404, "not found\n");
}

static void
on_log(const struct http_log_entry *e, void *arg)
{
	struct worker *w = arg;

	metrics_request(w->d->metrics, w->id, e->tag, e->status, e->bytes,
	    e->duration_us);
	if (!accesslog_enabled(w->d->alog))
		return;
	accesslog_format(&w->logbuf, e, &w->clk);
	if (w->logbuf.len >= LOG_FLUSH_BYTES)
		accesslog_flush(w->d->alog, &w->logbuf);
}

/* ------------------------------------------------------------------ */
/* workers */

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (w->logbuf.len > 0)
		accesslog_flush(w->d->alog, &w->logbuf);
}

static void
drained_cb(void *arg)
{
	struct worker *w = arg;

	event_base_loopexit(w->base, NULL);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	log_warnx("worker %d: %d connection(s) still busy after %d s; "
	    "closing them", w->id, http_server_nconns(w->http),
	    DRAIN_GRACE_SECS);
	event_base_loopexit(w->base, NULL);
}

static void
worker_cache_control(struct worker *w)
{
	snprintf(w->cc_page, sizeof(w->cc_page), "public, max-age=%d",
	    w->conf->page_max_age);
	snprintf(w->cc_page404, sizeof(w->cc_page404), "public, max-age=%d",
	    w->conf->page_max_age < 60 ? w->conf->page_max_age : 60);
	snprintf(w->cc_file, sizeof(w->cc_file), "public, max-age=%d, "
	    "immutable", w->conf->file_max_age);
}

static void
worker_apply_conf(struct worker *w)
{
	struct http_limits lim;

	pthread_mutex_lock(&w->d->mtx);
	w->conf = w->d->conf;
	http_server_set_tls(w->http, w->d->tls);
	pthread_mutex_unlock(&w->d->mtx);
	limits_from_conf(w->conf, &lim);
	http_server_set_limits(w->http, &lim);
	w->limits = w->conf->limits;
	w->uenv.max_upload_size = w->conf->max_upload_size;
	worker_cache_control(w);
}

/* Take the connections the main thread queued for this worker. */
static void
worker_adopt(struct worker *w)
{
	struct handoff *q;
	size_t n, i;

	pthread_mutex_lock(&w->qmtx);
	q = w->q;
	n = w->qn;
	w->q = NULL;
	w->qn = w->qcap = 0;
	pthread_mutex_unlock(&w->qmtx);
	for (i = 0; i < n; i++) {
		http_server_adopt(w->http, q[i].fd,
		    (const struct sockaddr *)&q[i].ss, q[i].tls);
		__atomic_sub_fetch(&w->pending, 1, __ATOMIC_RELAXED);
	}
	free(q);
}

static void
ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { DRAIN_GRACE_SECS, 0 };
	uint64_t v;
	unsigned bits;

	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("%s: read", __func__);
	bits = __atomic_exchange_n(&w->ctl, 0, __ATOMIC_ACQ_REL);
	if (bits & CTL_RELOAD)
		worker_apply_conf(w);
	if (bits & CTL_ADOPT)
		worker_adopt(w);
	if (bits & CTL_DRAIN) {
		if (w->grace_ev == NULL) {
			w->grace_ev = evtimer_new(w->base, grace_cb, w);
			if (w->grace_ev != NULL)
				evtimer_add(w->grace_ev, &tv);
		}
		http_server_drain(w->http, drained_cb, w);
	}
}

static void
worker_post(struct worker *w, unsigned bits)
{
	uint64_t one = 1;

	__atomic_or_fetch(&w->ctl, bits, __ATOMIC_ACQ_REL);
	if (write(w->ctl_fd, &one, sizeof(one)) == -1)
		log_warn("%s: write", __func__);
}

static void
worker_cleanup(struct worker *w)
{
	size_t i;

	if (w->http != NULL)
		http_server_free(w->http);
	w->http = NULL;
	if (w->logbuf.len > 0)
		accesslog_flush(w->d->alog, &w->logbuf);
	buf_free(&w->logbuf);
	buf_free(&w->scratch);
	if (w->ctl_ev)
		event_free(w->ctl_ev);
	if (w->flush_ev)
		event_free(w->flush_ev);
	if (w->grace_ev)
		event_free(w->grace_ev);
	w->ctl_ev = w->flush_ev = w->grace_ev = NULL;
	if (w->dv != NULL)
		sqlite3_finalize(w->dv);
	w->dv = NULL;
	if (w->ino_fd != -1)
		close(w->ino_fd);
	w->ino_fd = -1;
	api_jobs_env_free(&w->jenv);
	if (w->cat != NULL)
		catalog_close(w->cat);
	w->cat = NULL;
	if (w->store != NULL)
		store_close(w->store);
	w->store = NULL;
	if (w->base != NULL)
		event_base_free(w->base);
	w->base = NULL;
	if (w->ctl_fd != -1)
		close(w->ctl_fd);
	w->ctl_fd = -1;
	for (i = 0; i < w->qn; i++)
		close(w->q[i].fd);
	free(w->q);
	w->q = NULL;
	w->qn = 0;
	pthread_mutex_destroy(&w->qmtx);
}

/* Everything a worker needs, set up in the main thread (errors fatal). */
static int
worker_init(struct worker *w, struct wwerr *err)
{
	struct http_callbacks cb;
	struct http_limits lim;
	struct timeval ft = { 0, LOG_FLUSH_MS * 1000 };
	const struct config *conf = w->d->conf;

	w->ctl_fd = -1;
	buf_init(&w->logbuf, 1024 * 1024);
	buf_init(&w->scratch, RENDER_MAX);
	if ((w->base = event_base_new()) == NULL)
		return wwerr_set(err, ENOMEM, "event_base_new failed");
	if (store_open(conf->datadir, &w->store, err) == -1)
		return -1;
	if (catalog_open(store_catalog_path(w->store), 0, &w->cat, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(catalog_db(w->cat), "PRAGMA data_version", -1,
	    &w->dv, NULL) != SQLITE_OK)
		return wwerr_set(err, EIO, "%s: %s",
		    store_catalog_path(w->store),
		    sqlite3_errmsg(catalog_db(w->cat)));
	w->conf = conf;
	w->limits = conf->limits;
	worker_cache_control(w);
	w->clk.sec = -1;
	w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ino_fd != -1 && inotify_add_watch(w->ino_fd, conf->datadir,
	    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE |
	    IN_CLOSE_WRITE) == -1) {
		log_warn("%s: inotify on %s (falling back to polling SQLite)",
		    __func__, conf->datadir);
		close(w->ino_fd);
		w->ino_fd = -1;
	}
	w->uenv.store = w->store;
	w->uenv.cat = w->cat;
	w->uenv.limits = &w->limits;
	w->uenv.max_upload_size = conf->max_upload_size;
	w->uenv.metrics = w->d->metrics;
	w->uenv.metrics_slot = w->id;
	w->uenv.changed = worker_changed;
	w->uenv.arg = w;
	api_jobs_env_init(&w->jenv, w->cat, &w->conf);
	limits_from_conf(conf, &lim);
	memset(&cb, 0, sizeof(cb));
	cb.request = on_request;
	cb.log = on_log;
	cb.arg = w;
	if (http_server_new(w->base, &lim, &cb, &w->d->cl, &w->http) == -1)
		return wwerr_set(err, ENOMEM, "http_server_new failed");
	http_server_set_tls(w->http, w->d->tls);
	if ((w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return wwerr_set(err, errno, "eventfd: %s", strerror(errno));
	w->ctl_ev = event_new(w->base, w->ctl_fd, EV_READ | EV_PERSIST,
	    ctl_cb, w);
	w->flush_ev = event_new(w->base, -1, EV_PERSIST, flush_cb, w);
	if (w->ctl_ev == NULL || w->flush_ev == NULL ||
	    event_add(w->ctl_ev, NULL) == -1 ||
	    event_add(w->flush_ev, &ft) == -1)
		return wwerr_set(err, ENOMEM, "event_new failed");
	if (worker_sync(w) == -1)
		return wwerr_set(err, EIO, "%s: cannot read the catalog",
		    store_catalog_path(w->store));
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	/* in-flight responses past the grace period are cut here */
	http_server_free(w->http);
	w->http = NULL;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* process */

static int
ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

static int
indexd_bind(struct indexd *d, struct wwerr *err)
{
	const struct config *conf = d->conf;
	char ebuf[512], port[16];
	size_t i;
	int fd;

	for (i = 0; i < conf->nlisten; i++) {
		const struct config_listen *l = &conf->listen[i];

		ebuf[0] = '\0';
		fd = http_bind(l->host, l->port, 0, 1024, port, sizeof(port),
		    ebuf, sizeof(ebuf));
		if (fd == -1)
			return wwerr_set(err, EADDRINUSE, "%s: listen %s",
			    conf->path, ebuf);
		d->lsn[d->nlsn].d = d;
		d->lsn[d->nlsn].fd = fd;
		d->lsn[d->nlsn].tls = l->tls;
		d->nlsn++;
		log_info("listening on %s:%s%s", l->host, port,
		    l->tls ? " (tls)" : "");
	}
	return 0;
}

int
indexd_new(struct config *conf, struct indexd **out, struct wwerr *err)
{
	struct indexd *d;
	char tmpdir[1100];
	int i;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		config_free(conf);
		return wwerr_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&d->mtx, NULL);
	d->conf = conf;
	d->start_time = util_now_us() / 1000000;
	d->cl.max = conf->max_connections;
	d->nworkers = conf->workers > 0 ? conf->workers : ncpus();
	if (indexd_check_config(conf, err) == -1)
		goto fail;
	if (conf->tls_cert[0] != '\0' &&
	    (d->tls = tls_load(conf->tls_cert, conf->tls_key, err)) == NULL)
		goto fail;
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", conf->datadir);
	if (util_mkdirs(tmpdir, 0700) == -1)
		log_warn("%s: %s", __func__, tmpdir);
	if (page_cache_new((size_t)conf->page_cache_size, MAX_FILE_FACTS,
	    tmpdir, &d->cache) == -1 || metrics_new(d->nworkers, &d->metrics) == -1) {
		wwerr_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (accesslog_open(conf->access_log, &d->alog, err) == -1)
		goto fail;
	if ((d->workers = calloc((size_t)d->nworkers,
	    sizeof(*d->workers))) == NULL) {
		wwerr_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < d->nworkers; i++) {
		d->workers[i].d = d;
		d->workers[i].id = i;
		d->workers[i].ctl_fd = -1;
		d->workers[i].ino_fd = -1;
		pthread_mutex_init(&d->workers[i].qmtx, NULL);
	}
	if (indexd_bind(d, err) == -1)
		goto fail;
	for (i = 0; i < d->nworkers; i++)
		if (worker_init(&d->workers[i], err) == -1)
			goto fail;
	*out = d;
	return 0;
fail:
	indexd_free(d);
	return -1;
}

static void
indexd_reload(struct indexd *d)
{
	struct config *nc;
	struct oldconf *o;
	struct wwerr err;
	SSL_CTX *ctx = NULL;
	int i;

	log_info("SIGHUP: reloading %s", d->conf->path);
	if (config_load(d->conf->path, &nc, &err) == -1) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    err.msg);
		return;
	}
	if (indexd_check_config(nc, &err) == -1 ||
	    (nc->tls_cert[0] != '\0' &&
	    (ctx = tls_load(nc->tls_cert, nc->tls_key, &err)) == NULL)) {
		log_warnx("reload failed, keeping the old configuration: %s",
		    err.msg);
		config_free(nc);
		return;
	}
	if (nc->nlisten != d->conf->nlisten ||
	    memcmp(nc->listen, d->conf->listen,
	    sizeof(nc->listen[0]) * nc->nlisten) != 0 ||
	    strcmp(nc->datadir, d->conf->datadir) != 0 ||
	    nc->workers != d->conf->workers)
		log_warnx("reload: listen, datadir and workers changes take "
		    "effect after a restart");
	if (strcmp(nc->access_log, d->conf->access_log) != 0 ||
	    nc->access_log[0] != '\0') {
		if (accesslog_reopen(d->alog, nc->access_log, &err) == -1)
			log_warnx("reload: %s", err.msg);
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_warnx("reload: out of memory");
		config_free(nc);
		SSL_CTX_free(ctx);
		return;
	}
	pthread_mutex_lock(&d->mtx);
	o->conf = d->conf;
	o->next = d->old;
	d->old = o;
	d->conf = nc;
	if (d->tls != NULL)
		SSL_CTX_free(d->tls);
	d->tls = ctx;
	pthread_mutex_unlock(&d->mtx);
	__atomic_store_n(&d->cl.max, nc->max_connections, __ATOMIC_RELAXED);
	page_cache_set_max(d->cache, (size_t)nc->page_cache_size);
	log_setverbose(nc->verbose);
	for (i = 0; i < d->nworkers; i++)
		worker_post(&d->workers[i], CTL_RELOAD);
	log_info("reloaded");
}

/* The least busy worker gets the connection. */
static void
main_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listen_slot *ls = arg;
	struct indexd *d = ls->d;
	struct worker *w = &d->workers[0];
	struct handoff *h;
	int i, load, best = -1;

	for (i = 0; i < d->nworkers; i++) {
		load = http_server_nconns(d->workers[i].http) +
		    __atomic_load_n(&d->workers[i].pending, __ATOMIC_RELAXED);
		if (best == -1 || load < best) {
			best = load;
			w = &d->workers[i];
		}
	}
	pthread_mutex_lock(&w->qmtx);
	if (w->qn == w->qcap) {
		size_t ncap = w->qcap ? w->qcap * 2 : 16;
		struct handoff *nq = reallocarray(w->q, ncap, sizeof(*nq));
		if (nq == NULL) {
			pthread_mutex_unlock(&w->qmtx);
			close(fd);
			return;
		}
		w->q = nq;
		w->qcap = ncap;
	}
	h = &w->q[w->qn++];
	h->fd = fd;
	h->tls = ls->tls;
	memset(&h->ss, 0, sizeof(h->ss));
	memcpy(&h->ss, sa, (size_t)salen < sizeof(h->ss) ? (size_t)salen :
	    sizeof(h->ss));
	__atomic_add_fetch(&w->pending, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->qmtx);
	worker_post(w, CTL_ADOPT);
}

static void
main_accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("%s: accept", __func__);
}

static void
stop_listening(struct indexd *d)
{
	size_t i;

	for (i = 0; i < d->nlsn; i++) {
		if (d->lsn[i].l != NULL)
			evconnlistener_free(d->lsn[i].l);	/* closes fd */
		else if (d->lsn[i].fd != -1)
			close(d->lsn[i].fd);
		d->lsn[i].l = NULL;
		d->lsn[i].fd = -1;
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct indexd *d = arg;

	if (sig == SIGHUP) {
		indexd_reload(d);
		return;
	}
	log_info("%s: finishing requests in flight",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	stop_listening(d);
	event_base_loopexit(d->base, NULL);
}

int
indexd_run(struct indexd *d)
{
	struct event *sigs[3] = { NULL, NULL, NULL };
	static const int signos[3] = { SIGHUP, SIGTERM, SIGINT };
	sigset_t set, old;
	size_t k;
	int i, rc = 0;

	/* Workers must not take signals: the main thread handles them. */
	sigemptyset(&set);
	for (i = 0; i < 3; i++)
		sigaddset(&set, signos[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if ((d->base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	for (i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(d->base, signos[i], signal_cb,
		    d)) == NULL || evsignal_add(sigs[i], NULL) == -1) {
			log_warnx("cannot handle signal %d", signos[i]);
			rc = 1;
		}
	for (k = 0; k < d->nlsn && rc == 0; k++) {
		d->lsn[k].l = evconnlistener_new(d->base, main_accept_cb,
		    &d->lsn[k], LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
		    0, d->lsn[k].fd);
		if (d->lsn[k].l == NULL) {
			log_warnx("cannot listen on socket %d", d->lsn[k].fd);
			rc = 1;
			break;
		}
		evconnlistener_set_error_cb(d->lsn[k].l, main_accept_error_cb);
	}
	for (i = 0; i < d->nworkers && rc == 0; i++) {
		if (pthread_create(&d->workers[i].thread, NULL, worker_main,
		    &d->workers[i]) != 0) {
			log_warnx("cannot start worker %d", i);
			rc = 1;
			break;
		}
		d->workers[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		log_info("ready: %d worker(s)", d->nworkers);
		event_base_dispatch(d->base);
	}
	stop_listening(d);
	for (i = 0; i < d->nworkers; i++)
		if (d->workers[i].started)
			worker_post(&d->workers[i], CTL_DRAIN);
	for (i = 0; i < d->nworkers; i++)
		if (d->workers[i].started) {
			pthread_join(d->workers[i].thread, NULL);
			d->workers[i].started = 0;
		}
	for (i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	event_base_free(d->base);
	d->base = NULL;
	log_info("stopped");
	return rc;
}

void
indexd_free(struct indexd *d)
{
	struct oldconf *o;
	int i;

	if (d == NULL)
		return;
	stop_listening(d);
	if (d->workers != NULL)
		for (i = 0; i < d->nworkers; i++)
			worker_cleanup(&d->workers[i]);
	free(d->workers);
	page_cache_free(d->cache);
	metrics_free(d->metrics);
	accesslog_free(d->alog);
	if (d->tls != NULL)
		SSL_CTX_free(d->tls);
	while ((o = d->old) != NULL) {
		d->old = o->next;
		config_free(o->conf);
		free(o);
	}
	config_free(d->conf);
	pthread_mutex_destroy(&d->mtx);
	free(d);
}
