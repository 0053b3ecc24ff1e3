/*
 * api_jobs.c: the CI-agent build-job API (see indexd_api_jobs.h). The
 * body is small JSON, read into a bounded buffer; everything else goes
 * through the shared job store (jobs.h) in short transactions, so indexd
 * and builderd never wait on each other for long.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "indexd_api_jobs.h"
#include "indexd_auth.h"
#include "jobs.h"
#include "log.h"
#include "name.h"
#include "requirement.h"
#include "specifier.h"
#include "util.h"
#include "version.h"

#define API_PRIORITY	5	/* ahead of reconcile, behind rebuilds */

struct body {
	struct api_jobs_env	*env;
	struct auth_result	 auth;
	struct buf		 b;
	int			 answered;
};

void
api_jobs_env_init(struct api_jobs_env *env, struct catalog *cat,
    const struct config *const *conf)
{
	memset(env, 0, sizeof(*env));
	env->cat = cat;
	env->conf = conf;
}

void
api_jobs_env_free(struct api_jobs_env *env)
{
	jobs_close(env->jobs);
	env->jobs = NULL;
}

int
api_jobs_match(const char *path)
{
	size_t n = strlen(API_JOBS_PREFIX);

	return strncmp(path, API_JOBS_PREFIX, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* ---- responses ---- */

static void
send_json(struct http_request *r, int status, json_t *j)
{
	char *s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		json_decref(j);
		http_response_error(r, 500, "out of memory");
		return;
	}
	json_decref(j);
	http_response_begin(r, status, NULL);
	http_response_header(r, "Content-Type", "application/json");
	http_response_header(r, "Cache-Control", "no-store");
	http_response_end(r, s, strlen(s));
	free(s);
}

static void
send_error(struct http_request *r, int status, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
send_error(struct http_request *r, int status, const char *field,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_json(r, status, field ? json_pack("{s:s, s:s}", "error", msg,
	    "field", field) : json_pack("{s:s}", "error", msg));
}

/* The job store's JSON, plus where to find the job over HTTP. */
static json_t *
api_job_json(const struct job *j)
{
	char url[64], log[80], wurl[600];
	json_t *o;

	if ((o = job_json(j)) == NULL)
		return NULL;
	snprintf(url, sizeof(url), API_JOBS_PREFIX "/%lld", (long long)j->id);
	snprintf(log, sizeof(log), "%s/log", url);
	if (j->wheel != NULL)
		snprintf(wurl, sizeof(wurl), "/files/%s", j->wheel);
	if (json_object_set_new(o, "url", json_string(url)) == -1 ||
	    json_object_set_new(o, "log_url", json_string(log)) == -1 ||
	    json_object_set_new(o, "wheel_url", j->wheel != NULL ?
	    util_json_text(wurl) : json_null()) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
not_allowed(struct http_request *r, const char *allow, const char *msg)
{
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	http_response_begin(r, 405, NULL);
	http_response_header(r, "Allow", allow);
	http_response_header(r, "Content-Type", "application/json");
	http_response_end(r, s ? s : "{}", s ? strlen(s) : 2);
	free(s);
}

/* ---- the job store ---- */

static struct jobs *
get_jobs(struct api_jobs_env *env, struct wwerr *err)
{
	if (env->jobs == NULL && jobs_open(env->cat, &env->jobs, err) == -1)
		return NULL;
	return env->jobs;
}

/* Authenticate for any route: 0 granted, -1 answered. */
static int
authenticate(struct api_jobs_env *env, struct http_request *r,
    struct auth_result *a)
{
	struct wwerr err;

	if (auth_check(env->cat, http_request_header(r, "Authorization"),
	    (1u << TOKEN_SUBMIT) | (1u << TOKEN_ADMIN), a, &err) == -1) {
		log_warnx("%s: %s", __func__, err.msg);
		send_error(r, 503, NULL, "cannot check the token: catalog "
		    "unavailable");
		return -1;
	}
	if (a->token_name[0] != '\0')
		http_request_set_user(r, a->token_name);
	if (a->status != 0) {
		http_response_begin(r, a->status, a->reason);
		if (a->status == 401)
			http_response_header(r, "WWW-Authenticate",
			    "Basic realm=\"wheelwright\"");
		http_response_header(r, "Content-Type", "application/json");
		{
			json_t *j = json_pack("{s:s}", "error", a->reason);
			char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

			json_decref(j);
			http_response_end(r, s ? s : "{}", s ? strlen(s) : 2);
			free(s);
		}
		return -1;
	}
	return 0;
}

/* ---- POST /api/v1/jobs ---- */

/*
 * The requirement must pin one release ("name==1.2", "name===1.2"): a
 * build is of a release, and which one must not depend on when indexd
 * happens to look.
 */
static int
pinned(const char *text, struct requirement **reqp, char *version,
    size_t vlen, char *why, size_t whylen)
{
	struct requirement *req;
	struct wwerr err;
	const char *s;

	*reqp = NULL;
	if (requirement_parse(text, &req, &err) == -1) {
		snprintf(why, whylen, "\"%.200s\" is not a PEP 508 requirement: "
		    "%s", text, err.msg);
		return -1;
	}
	if (req->url != NULL || req->marker != NULL) {
		snprintf(why, whylen, "\"%.200s\": URLs and markers are not "
		    "accepted; name one release, e.g. numpy==1.26.4", text);
		goto fail;
	}
	s = specset_str(req->spec);
	if (specset_count(req->spec) != 1 || strncmp(s, "==", 2) != 0 ||
	    strchr(s, '*') != NULL) {
		snprintf(why, whylen, "\"%.200s\" must pin one version with == "
		    "(e.g. %s==1.0)", text, req->normalized);
		goto fail;
	}
	s += s[2] == '=' ? 3 : 2;
	if (version_normalize(s, version, vlen) == -1) {
		snprintf(why, whylen, "\"%.200s\": \"%.100s\" is not a PEP 440 "
		    "version", text, s);
		goto fail;
	}
	*reqp = req;
	return 0;
fail:
	requirement_free(req);
	return -1;
}

static void
submit(struct body *bd, struct http_request *r)
{
	struct api_jobs_env *env = bd->env;
	const struct config *conf = *env->conf;
	const char *targets[CONFIG_MAX_LIST], *key, *reqtext;
	struct requirement *req = NULL;
	struct job_spec spec;
	struct job job;
	struct jobs *js;
	struct wwerr err;
	json_error_t jerr;
	json_t *root = NULL, *v, *arr = NULL, *t;
	char version[VERSION_STR_MAX], why[600], origin[JOB_ORIGIN_MAX];
	char field[32];
	int64_t ids[CONFIG_MAX_LIST];
	int existing[CONFIG_MAX_LIST];
	size_t ntargets = 0, i, k;
	int rebuild = 0, build = 0, rc;

	root = json_loadb(bd->b.ptr ? bd->b.ptr : "", bd->b.len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		send_error(r, 400, "body", "the body is not JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column);
		return;
	}
	if (!json_is_object(root)) {
		send_error(r, 400, "body", "the body must be a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "requirement") && strcmp(key, "targets") &&
		    strcmp(key, "rebuild")) {
			send_error(r, 400, key, "unknown field \"%.100s\" (the "
			    "fields are requirement, targets, rebuild)", key);
			goto out;
		}
	}
	v = json_object_get(root, "requirement");
	if (v == NULL || !json_is_string(v)) {
		send_error(r, 400, "requirement", v == NULL ? "requirement is "
		    "missing" : "requirement must be a string");
		goto out;
	}
	reqtext = json_string_value(v);
	if (strlen(reqtext) > 1024) {
		send_error(r, 400, "requirement", "requirement is longer than "
		    "1024 bytes");
		goto out;
	}
	if (pinned(reqtext, &req, version, sizeof(version), why,
	    sizeof(why)) == -1) {
		send_error(r, 400, "requirement", "%s", why);
		goto out;
	}
	if (bd->auth.project[0] != '\0' &&
	    strcmp(bd->auth.project, req->normalized) != 0) {
		send_error(r, 403, "requirement", "token %s may submit builds "
		    "of %s only, not %s", bd->auth.token_name,
		    bd->auth.project, req->normalized);
		goto out;
	}
	if ((v = json_object_get(root, "rebuild")) != NULL) {
		if (!json_is_boolean(v)) {
			send_error(r, 400, "rebuild", "rebuild must be true or "
			    "false");
			goto out;
		}
		rebuild = json_is_true(v);
	}
	arr = json_object_get(root, "targets");
	if (arr == NULL) {
		for (i = 0; i < conf->ntargets; i++)
			targets[ntargets++] = conf->targets[i].name;
	} else if (!json_is_array(arr) || json_array_size(arr) == 0) {
		send_error(r, 400, "targets", "targets must be a non-empty array "
		    "of target names");
		goto out;
	} else {
		json_array_foreach(arr, i, t) {
			snprintf(field, sizeof(field), "targets[%zu]", i);
			if (!json_is_string(t)) {
				send_error(r, 400, field, "%s must be a string",
				    field);
				goto out;
			}
			if (config_target(conf, json_string_value(t)) == NULL) {
				char known[512];
				size_t off = 0;

				known[0] = '\0';
				for (k = 0; k < conf->ntargets &&
				    off < sizeof(known); k++)
					off += (size_t)snprintf(known + off,
					    sizeof(known) - off, "%s%s",
					    k ? ", " : "",
					    conf->targets[k].name);
				send_error(r, 400, field, "%s: unknown target "
				    "\"%.100s\" (configured: %s)", field,
				    json_string_value(t),
				    known[0] ? known : "none");
				goto out;
			}
			for (k = 0; k < ntargets; k++)
				if (!strcmp(targets[k], json_string_value(t)))
					break;
			if (k < ntargets)
				continue;	/* named twice: once */
			if (ntargets == CONFIG_MAX_LIST) {
				send_error(r, 400, "targets", "too many "
				    "targets");
				goto out;
			}
			targets[ntargets++] = json_string_value(t);
		}
	}
	if (ntargets == 0) {
		send_error(r, 400, "targets", "no target is configured on this "
		    "server");
		goto out;
	}
	if ((js = get_jobs(env, &err)) == NULL) {
		log_warnx("%s: %s", __func__, err.msg);
		send_error(r, 503, NULL, "the job store is unavailable");
		goto out;
	}

	snprintf(origin, sizeof(origin), "api:%s", bd->auth.token_name);
	memset(&spec, 0, sizeof(spec));
	spec.project = req->normalized;
	spec.requirement = requirement_str(req);
	spec.version = version;
	spec.max_attempts = conf->max_attempts;
	spec.priority = API_PRIORITY;
	spec.origin = origin;
	memset(ids, 0, sizeof(ids));
	memset(existing, 0, sizeof(existing));
	if (rebuild) {
		if (jobs_enqueue_rebuild(js, &spec, targets, ntargets, ids,
		    &build, &err) == -1)
			goto dberr;
	} else {
		for (i = 0; i < ntargets; i++) {
			spec.target = targets[i];
			/* Built, building or waiting already: that job. */
			rc = jobs_release_blocked(js, req->normalized, version,
			    targets[i], &ids[i], &err);
			if (rc == -1)
				goto dberr;
			if (rc == 1) {
				existing[i] = 1;
				continue;
			}
			if ((rc = jobs_enqueue(js, &spec, &ids[i], &err)) == -1)
				goto dberr;
			existing[i] = rc == 1;
		}
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < ntargets; i++) {
		json_t *o;

		memset(&job, 0, sizeof(job));
		if (jobs_get(js, ids[i], &job, &err) != 0)
			goto dberr;
		o = api_job_json(&job);
		json_object_set_new(o, "existing", json_boolean(existing[i]));
		json_array_append_new(arr, o);
		job_free(&job);
	}
	log_info("api: %s submitted %s for %zu target%s%s", origin,
	    requirement_str(req), ntargets, ntargets == 1 ? "" : "s",
	    rebuild ? " (rebuild)" : "");
	send_json(r, 202, json_pack("{s:o}", "jobs", arr));
	goto out;
dberr:
	log_warnx("%s: %s", __func__, err.msg);
	if (err.code == JOBS_E_INVALID)
		send_error(r, 400, "requirement", "%s", err.msg);
	else
		send_error(r, 503, NULL, "the job store is unavailable");
out:
	requirement_free(req);
	json_decref(root);
}

static int
body_data(struct http_request *r, const void *data, size_t len, void *arg)
{
	struct body *bd = arg;

	if (buf_add(&bd->b, data, len) == -1) {
		send_error(r, 413, "body", "the body is larger than %d bytes",
		    API_JOBS_MAX_BODY);
		bd->answered = 1;
		return -1;
	}
	return 0;
}

static void
body_done(struct http_request *r, int status, void *arg)
{
	struct body *bd = arg;

	if (status == 0 && !bd->answered)
		submit(bd, r);
	buf_free(&bd->b);
	free(bd);
}

/* ---- GET ---- */

static void
get_job(struct api_jobs_env *env, struct http_request *r, int64_t id,
    int want_log)
{
	struct wwerr err;
	struct jobs *js;
	struct job j;
	struct stat st;
	int rc, fd;

	if ((js = get_jobs(env, &err)) == NULL) {
		log_warnx("%s: %s", __func__, err.msg);
		send_error(r, 503, NULL, "the job store is unavailable");
		return;
	}
	memset(&j, 0, sizeof(j));
	if ((rc = jobs_get(js, id, &j, &err)) == -1) {
		log_warnx("%s: %s", __func__, err.msg);
		send_error(r, 503, NULL, "the job store is unavailable");
		return;
	}
	if (rc == 1) {
		send_error(r, 404, "id", "no job %lld", (long long)id);
		return;
	}
	if (!want_log) {
		send_json(r, 200, api_job_json(&j));
		job_free(&j);
		return;
	}
	if (j.log_path == NULL) {
		send_error(r, 404, NULL, "job %lld has no log yet (it is %s)",
		    (long long)id, job_state_name(j.state));
		job_free(&j);
		return;
	}
	fd = open(j.log_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			close(fd);
		send_error(r, 404, NULL, "job %lld: its log %s is not there",
		    (long long)id, j.log_path);
		job_free(&j);
		return;
	}
	job_free(&j);
	http_response_begin(r, 200, NULL);
	http_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(r, "Cache-Control", "no-store");
	http_response_end_file(r, fd, 0, st.st_size);
}

void
api_jobs_handle(struct api_jobs_env *env, struct http_request *r,
    const char *path)
{
	struct auth_result a;
	struct body *bd;
	enum http_method m = http_request_method(r);
	const char *rest = path + strlen(API_JOBS_PREFIX);
	char idtext[32];
	int64_t id, len;
	size_t n;
	int want_log = 0;

	if (*rest == '\0' || !strcmp(rest, "/")) {
		if (m != HTTP_M_POST) {
			not_allowed(r, "POST", "use POST to submit a job");
			return;
		}
		if (authenticate(env, r, &a) == -1)
			return;
		len = http_request_content_length(r);
		if (len < 0) {
			send_error(r, 411, "body", "a Content-Length is "
			    "required");
			return;
		}
		if (len > API_JOBS_MAX_BODY) {
			send_error(r, 413, "body", "the body is larger than %d "
			    "bytes", API_JOBS_MAX_BODY);
			return;
		}
		if ((bd = calloc(1, sizeof(*bd))) == NULL) {
			http_response_error(r, 500, "out of memory");
			return;
		}
		bd->env = env;
		bd->auth = a;
		buf_init(&bd->b, API_JOBS_MAX_BODY);
		http_request_read_body(r, body_data, body_done, bd);
		return;
	}

	/* /ID or /ID/log */
	rest++;
	n = strcspn(rest, "/");
	if (rest[n] == '/') {
		if (strcmp(rest + n, "/log") != 0) {
			send_error(r, 404, NULL, "no such resource");
			return;
		}
		want_log = 1;
	}
	if (n == 0 || n >= sizeof(idtext)) {
		send_error(r, 400, "id", "\"%.40s\" is not a job id", rest);
		return;
	}
	memcpy(idtext, rest, n);
	idtext[n] = '\0';
	if (util_parse_i64(idtext, 1, INT64_MAX, &id) == -1) {
		send_error(r, 400, "id", "\"%s\" is not a job id", idtext);
		return;
	}
	if (m != HTTP_M_GET && m != HTTP_M_HEAD) {
		not_allowed(r, "GET, HEAD", "use GET");
		return;
	}
	if (authenticate(env, r, &a) == -1)
		return;
	get_job(env, r, id, want_log);
}
