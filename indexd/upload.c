/*
 * upload.c: twine's legacy upload, streamed. Only the handful of form
 * fields indexd needs are kept (bounded); everything else, including a
 * long description, is parsed and dropped. The "content" part goes to a
 * temp file under DATA/tmp while being hashed, and the request is only
 * answered once the file has been verified and recorded (or refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hash.h"
#include "indexd_auth.h"
#include "indexd_multipart.h"
#include "indexd_upload.h"
#include "ingest.h"
#include "log.h"
#include "util.h"

#define FIELD_MAX	1024

enum field_id {
	F_ACTION, F_NAME, F_VERSION, F_SHA256, F_FILETYPE, F_PROTOCOL,
	F__COUNT, F_NONE = -1, F_CONTENT = -2
};

static const char *const field_names[F__COUNT] = {
	":action", "name", "version", "sha256_digest", "filetype",
	"protocol_version"
};

struct upload {
	const struct upload_env	*env;
	struct http_request	*req;
	struct multipart	*mp;
	struct auth_result	 auth;
	int			 fd;
	char			 tmppath[1024];
	char			 filename[256];
	int			 have_content;
	uint64_t		 size;
	struct sha256		 sha;
	int			 sha_open;
	int			 cur;		/* enum field_id being read */
	char			 fields[F__COUNT][FIELD_MAX];
	size_t			 flen[F__COUNT];
	int			 seen[F__COUNT];
	int			 status;	/* error to answer, 0 = none */
	char			 msg[512];
};

int
upload_status_for(int code)
{
	switch (code) {
	case INGEST_E_DIGEST:
	case INGEST_E_PLATFORM:
		return 400;
	case INGEST_E_PROJECT:
		return 403;
	case INGEST_E_CONFLICT:
		return 409;
	case INGEST_E_DB:
		return 503;
	case INGEST_E_STORE:
		return 500;
	default:
		return code < 100 ? 400 : 500;	/* < 100: the file is bad */
	}
}

static void
upload_free(struct upload *u)
{
	if (u == NULL)
		return;
	if (u->fd != -1)
		close(u->fd);
	if (u->tmppath[0] != '\0')
		unlink(u->tmppath);
	if (u->sha_open)
		sha256_final(&u->sha, NULL);
	if (u->mp != NULL)
		multipart_free(u->mp);
	free(u);
}

/* Remember the first error; the response goes out when parsing stops. */
static int
upload_fail(struct upload *u, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
upload_fail(struct upload *u, int status, const char *fmt, ...)
{
	va_list ap;

	if (u->status == 0) {
		u->status = status;
		va_start(ap, fmt);
		vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A distribution filename must be one plain path component. */
static int
filename_ok(const char *f)
{
	const unsigned char *p;
	size_t len = strlen(f);

	if (len == 0 || len > 255 || f[0] == '.' || f[0] == '-')
		return 0;
	for (p = (const unsigned char *)f; *p; p++)
		if (*p < 0x21 || *p >= 0x7f || *p == '/' || *p == '\\')
			return 0;
	return 1;
}

static int
mp_begin(const struct multipart_part *p, void *arg)
{
	struct upload *u = arg;
	int i;

	u->cur = F_NONE;
	if (strcmp(p->name, "content") == 0) {
		if (u->have_content)
			return upload_fail(u, 400, "more than one \"content\" "
			    "part in the upload");
		if (p->filename == NULL || !filename_ok(p->filename))
			return upload_fail(u, 400, "the \"content\" part needs "
			    "a plain file name, got \"%.200s\"",
			    p->filename ? p->filename : "(none)");
		util_strlcpy(u->filename, p->filename, sizeof(u->filename));
		u->fd = store_mktemp(u->env->store, "upload-", u->tmppath,
		    sizeof(u->tmppath));
		if (u->fd == -1) {
			u->tmppath[0] = '\0';
			log_warn("%s: store_mktemp", __func__);
			return upload_fail(u, 500, "cannot create a temporary "
			    "file for the upload");
		}
		if (sha256_init(&u->sha) == -1)
			return upload_fail(u, 500, "cannot hash the upload");
		u->sha_open = 1;
		u->have_content = 1;
		u->cur = F_CONTENT;
		return 0;
	}
	for (i = 0; i < F__COUNT; i++)
		if (strcmp(p->name, field_names[i]) == 0) {
			if (u->seen[i])
				return upload_fail(u, 400, "form field \"%s\" "
				    "given twice", field_names[i]);
			u->seen[i] = 1;
			u->cur = i;
			break;
		}
	return 0;
}

static int
mp_data(const void *data, size_t len, void *arg)
{
	struct upload *u = arg;
	const char *p = data;
	ssize_t n;

	if (u->cur == F_CONTENT) {
		u->size += len;
		if (u->size > u->env->max_upload_size)
			return upload_fail(u, 413, "the file is larger than "
			    "the upload limit of %llu bytes",
			    (unsigned long long)u->env->max_upload_size);
		sha256_update(&u->sha, data, len);
		while (len > 0) {
			n = write(u->fd, p, len);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				log_warn("%s: write %s", __func__, u->tmppath);
				return upload_fail(u, errno == ENOSPC ? 507 :
				    500, "cannot store the upload");
			}
			p += n;
			len -= (size_t)n;
		}
		return 0;
	}
	if (u->cur >= 0) {
		if (u->flen[u->cur] + len >= FIELD_MAX)
			return upload_fail(u, 400, "form field \"%s\" is too "
			    "long", field_names[u->cur]);
		memcpy(u->fields[u->cur] + u->flen[u->cur], data, len);
		u->flen[u->cur] += len;
		u->fields[u->cur][u->flen[u->cur]] = '\0';
	}
	return 0;
}

static int
mp_end(void *arg)
{
	struct upload *u = arg;

	u->cur = F_NONE;
	return 0;
}

static void
respond_error(struct upload *u)
{
	struct http_request *r = u->req;

	metrics_upload(u->env->metrics, u->env->metrics_slot, u->status >= 500 ? UPLOAD_ERROR :
	    UPLOAD_REJECTED);
	if (u->status == 413)
		http_response_close(r);
	http_response_error(r, u->status, "%s", u->msg);
}

static int
on_body(struct http_request *r, const void *data, size_t len, void *arg)
{
	struct upload *u = arg;

	if (multipart_feed(u->mp, data, len) == -1) {
		if (u->status == 0)
			upload_fail(u, 400, "malformed multipart body: %s",
			    multipart_error(u->mp));
		respond_error(u);
		return -1;
	}
	return 0;
}

static void
finish_upload(struct upload *u)
{
	const struct upload_env *env = u->env;
	struct verify_result *vr = NULL;
	struct ingest_opts opts;
	struct wwerr err;
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN], origin[200];
	const char *want;
	size_t i;
	int rc, status;

	if (multipart_finish(u->mp) == -1)
		upload_fail(u, 400, "malformed multipart body: %s",
		    multipart_error(u->mp));
	else if (!u->seen[F_ACTION])
		upload_fail(u, 400, "missing form field \":action\"");
	else if (strcmp(u->fields[F_ACTION], "file_upload") != 0)
		upload_fail(u, 400, "unsupported :action \"%.100s\"",
		    u->fields[F_ACTION]);
	else if (!u->have_content)
		upload_fail(u, 400, "no file in the upload (form field "
		    "\"content\")");
	if (u->status != 0) {
		respond_error(u);
		return;
	}
	sha256_final(&u->sha, d);
	u->sha_open = 0;
	hash_hex(d, sizeof(d), hex);
	want = u->seen[F_SHA256] ? u->fields[F_SHA256] : NULL;
	if (want != NULL) {
		char lower[HASH_SHA256_HEXLEN];
		for (i = 0; want[i] != '\0' && i + 1 < sizeof(lower); i++)
			lower[i] = (char)(want[i] >= 'A' && want[i] <= 'F' ?
			    want[i] + 32 : want[i]);
		lower[i] = '\0';
		if (!hash_is_hex64(lower) || strcmp(lower, hex) != 0) {
			upload_fail(u, 400, "sha256_digest %.80s does not match "
			    "the uploaded file (sha256 %s)", want, hex);
			respond_error(u);
			return;
		}
	}
	close(u->fd);
	u->fd = -1;

	memset(&opts, 0, sizeof(opts));
	opts.filename = u->filename;
	snprintf(origin, sizeof(origin), "upload:%s", u->auth.token_name);
	opts.origin = origin;
	opts.expect_sha256 = hex;
	opts.project = u->auth.project[0] ? u->auth.project : NULL;
	wwerr_clear(&err);
	rc = ingest_file(env->store, env->cat, u->tmppath, &opts, env->limits,
	    &vr, &err);
	verify_result_free(vr);
	if (rc == INGEST_ADDED) {
		if (env->changed != NULL)
			env->changed(env->arg);
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_ADDED);
		log_info("upload: %s added by token %s", u->filename,
		    u->auth.token_name);
		http_response_begin(u->req, 200, NULL);
		http_response_header(u->req, "Content-Type",
		    "text/plain; charset=utf-8");
		{
			char msg[400];
			int n = snprintf(msg, sizeof(msg), "uploaded %s\n",
			    u->filename);
			http_response_end(u->req, msg, (size_t)n);
		}
		return;
	}
	if (rc == INGEST_EXISTS) {
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_EXISTS);
		http_response_begin(u->req, 200, NULL);
		http_response_header(u->req, "Content-Type",
		    "text/plain; charset=utf-8");
		http_response_end(u->req, "file already exists with identical "
		    "content; nothing changed\n", 54);
		return;
	}
	status = upload_status_for(err.code);
	if (status == 409)
		upload_fail(u, 409, "file already exists with different "
		    "content: %s", err.msg);
	else
		upload_fail(u, status, "%s", err.msg);
	log_info("upload: %s refused (%d): %s", u->filename, status, err.msg);
	respond_error(u);
}

static void
on_done(struct http_request *r, int status, void *arg)
{
	struct upload *u = arg;

	if (status == 0 && !u->status)
		finish_upload(u);
	upload_free(u);
}

void
upload_handle(const struct upload_env *env, struct http_request *r)
{
	static const struct multipart_callbacks mcb = {
		mp_begin, mp_data, mp_end
	};
	char boundary[MULTIPART_MAX_BOUNDARY + 8];
	struct upload *u;
	struct wwerr err;
	int64_t clen;

	http_request_set_tag(r, ROUTE_UPLOAD);
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		http_response_error(r, 500, "out of memory");
		return;
	}
	u->env = env;
	u->req = r;
	u->fd = -1;
	u->cur = F_NONE;
	/* Authenticate before reading a byte of the body. */
	if (auth_check(env->cat, http_request_header(r, "Authorization"),
	    (1u << TOKEN_UPLOAD) | (1u << TOKEN_ADMIN), &u->auth,
	    &err) == -1) {
		log_warnx("%s: %s", __func__, err.msg);
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_ERROR);
		http_response_error(r, 503, "cannot check the token: catalog "
		    "unavailable");
		free(u);
		return;
	}
	if (u->auth.token_name[0] != '\0')
		http_request_set_user(r, u->auth.token_name);
	if (u->auth.status != 0) {
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_UNAUTHORIZED);
		http_response_begin(r, u->auth.status, u->auth.reason);
		if (u->auth.status == 401)
			http_response_header(r, "WWW-Authenticate",
			    "Basic realm=\"wheelwright\"");
		http_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
		{
			char msg[200];
			int n = snprintf(msg, sizeof(msg), "%s\n",
			    u->auth.reason);
			http_response_end(r, msg, (size_t)n);
		}
		free(u);
		return;
	}
	if (multipart_boundary(http_request_header(r, "Content-Type"),
	    boundary, sizeof(boundary)) == -1) {
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_REJECTED);
		http_response_error(r, 415, "expected a multipart/form-data "
		    "body with a boundary");
		free(u);
		return;
	}
	clen = http_request_content_length(r);
	if (clen <= 0) {
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_REJECTED);
		http_response_error(r, clen == 0 ? 400 : 411, "%s", clen == 0 ?
		    "empty upload body" : "uploads need a Content-Length");
		free(u);
		return;
	}
	if ((uint64_t)clen > env->max_upload_size) {
		metrics_upload(env->metrics, env->metrics_slot, UPLOAD_REJECTED);
		http_response_close(r);
		http_response_error(r, 413, "upload of %lld bytes exceeds the "
		    "limit of %llu bytes", (long long)clen,
		    (unsigned long long)env->max_upload_size);
		free(u);
		return;
	}
	if (multipart_new(boundary, &mcb, u, &u->mp) == -1) {
		http_response_error(r, 500, "out of memory");
		free(u);
		return;
	}
	http_request_read_body(r, on_body, on_done, u);
}
