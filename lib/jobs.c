/*
 * jobs.c: the build-job store (see jobs.h). The tables live in the
 * catalog database under this module's own migrations. Every transition
 * is a single UPDATE ... RETURNING, or a short IMMEDIATE transaction (a
 * savepoint when the caller already holds one), so builderd, indexd and
 * indexctl can all change jobs at once without holding the write lock
 * across anything slow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "catalog.h"
#include "db.h"
#include "jobs.h"
#include "name.h"
#include "util.h"
#include "version.h"

#define JOBS_TEXT_MAX		8192	/* requirement text, messages */
#define JOBS_BACKOFF_CAP_US	(86400LL * 1000000)

/*
 * Step i takes the jobs schema from version i to i+1. Append only.
 * jobs_active makes dedupe a constraint rather than a race: at most one
 * queued-or-running job per release, target and build number.
 */
static const char *const jobs_migrations[] = {
	/* 1: jobs */
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  project TEXT NOT NULL,"
	"  requirement TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  build_number INTEGER NOT NULL DEFAULT 0 CHECK (build_number >= 0),"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'running',"
	"    'succeeded', 'failed', 'cancelled')),"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),"
	"  requeues INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_us INTEGER NOT NULL,"
	"  engine TEXT,"
	"  container_id TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  created_us INTEGER NOT NULL,"
	"  started_us INTEGER NOT NULL DEFAULT 0,"
	"  finished_us INTEGER NOT NULL DEFAULT 0,"
	"  exit_status INTEGER,"
	"  failure TEXT CHECK (failure IS NULL OR failure IN ('build_error',"
	"    'timeout', 'oom', 'verify_failed', 'upstream_unreachable',"
	"    'missing_build_dep', 'engine_lost')),"
	"  message TEXT,"
	"  log_path TEXT,"
	"  wheel TEXT,"
	"  origin TEXT NOT NULL"
	");"
	"CREATE UNIQUE INDEX jobs_active ON jobs(project, version, target,"
	"  build_number) WHERE state IN ('queued', 'running');"
	"CREATE INDEX jobs_due ON jobs(state, priority, next_attempt_us);"
	"CREATE INDEX jobs_by_release ON jobs(project, version, target);"
	"CREATE INDEX jobs_by_target ON jobs(target, state);"
	"CREATE INDEX jobs_finished ON jobs(state, finished_us);",
};

#define JOB_COLUMNS \
	"id, project, requirement, version, target, build_number, state," \
	" priority, attempts, max_attempts, requeues, next_attempt_us," \
	" engine, container_id, cancel_requested, created_us, started_us," \
	" finished_us, exit_status, failure, message, log_path, wheel, origin"

enum jstmt {
	J_INSERT,
	J_ACTIVE,
	J_CLAIM,
	J_SET_CONTAINER,
	J_SUCCEED,
	J_STATE,
	J_FAIL,
	J_CANCEL_QUEUED,
	J_CANCEL_REQUEST,
	J_CANCELLED,
	J_GET,
	J_MAX_BUILD,
	J_BLOCKED,
	J_COUNTS,
	J_LAST_FAILURES,
	J__COUNT
};

static const char *const jstmt_sql[J__COUNT] = {
	[J_INSERT] = "INSERT INTO jobs(project, requirement, version, target,"
	    " build_number, state, priority, max_attempts, next_attempt_us,"
	    " created_us, origin) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7,"
	    " ?8, ?8, ?9) ON CONFLICT(project, version, target, build_number)"
	    " WHERE state IN ('queued', 'running') DO NOTHING RETURNING id",
	/* Versions compare in PEP 440 terms (1.1 == 1.1.0), so in C. */
	[J_ACTIVE] = "SELECT id, version FROM jobs WHERE project = ?1"
	    " AND target = ?2 AND build_number = ?3"
	    " AND state IN ('queued', 'running')",
	/* SET expressions see the old row, hence attempts + 1 in the path. */
	[J_CLAIM] = "UPDATE jobs SET state = 'running', engine = ?1,"
	    " attempts = attempts + 1, started_us = ?2, finished_us = 0,"
	    " container_id = NULL, exit_status = NULL,"
	    " log_path = CASE WHEN ?4 IS NULL THEN NULL ELSE"
	    " ?4 || '/job-' || id || '.' || (attempts + 1) || '.log' END"
	    " WHERE id = (SELECT id FROM jobs WHERE state = 'queued'"
	    " AND next_attempt_us <= ?2"
	    " AND target IN (SELECT value FROM json_each(?3))"
	    " ORDER BY priority DESC, next_attempt_us, id LIMIT 1)"
	    " RETURNING " JOB_COLUMNS,
	[J_SET_CONTAINER] = "UPDATE jobs SET container_id = ?2,"
	    " log_path = coalesce(?3, log_path)"
	    " WHERE id = ?1 AND state = 'running' RETURNING id",
	[J_SUCCEED] = "UPDATE jobs SET state = 'succeeded', wheel = ?2,"
	    " exit_status = ?3, finished_us = ?4, failure = NULL,"
	    " message = NULL WHERE id = ?1 AND state = 'running' RETURNING id",
	[J_STATE] = "SELECT state, attempts, max_attempts, cancel_requested"
	    " FROM jobs WHERE id = ?1",
	/* ?2 state, ?3 failure, ?4 message, ?5 exit, ?6 now, ?7 next. */
	[J_FAIL] = "UPDATE jobs SET state = ?2, failure = ?3, message = ?4,"
	    " exit_status = ?5, finished_us = CASE WHEN ?2 = 'queued' THEN 0"
	    " ELSE ?6 END, next_attempt_us = ?7,"
	    " engine = CASE WHEN ?2 = 'queued' THEN NULL ELSE engine END,"
	    " container_id = CASE WHEN ?2 = 'queued' THEN NULL"
	    " ELSE container_id END WHERE id = ?1 AND state = 'running'",
	[J_CANCEL_QUEUED] = "UPDATE jobs SET state = 'cancelled',"
	    " finished_us = ?2 WHERE id = ?1 AND state = 'queued'",
	[J_CANCEL_REQUEST] = "UPDATE jobs SET cancel_requested = 1"
	    " WHERE id = ?1 AND state = 'running'",
	[J_CANCELLED] = "UPDATE jobs SET state = 'cancelled', finished_us = ?2"
	    " WHERE id = ?1 AND state = 'running' RETURNING id",
	[J_GET] = "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1",
	[J_MAX_BUILD] = "SELECT version, build_number FROM jobs"
	    " WHERE project = ?1",
	[J_BLOCKED] = "SELECT id, version FROM jobs WHERE project = ?1"
	    " AND target = ?2 AND NOT (state = 'failed'"
	    " AND failure IN ('upstream_unreachable', 'engine_lost'))"
	    " ORDER BY id DESC",
	[J_COUNTS] = "SELECT target, state, count(*) FROM jobs"
	    " GROUP BY target, state ORDER BY target",
	[J_LAST_FAILURES] = "SELECT " JOB_COLUMNS " FROM jobs"
	    " WHERE state = 'failed' ORDER BY finished_us DESC, id DESC"
	    " LIMIT ?1",
};

struct jobs {
	struct catalog	*cat;
	sqlite3		*db;
	struct db_ctx	 dx;		/* db with our error prefix */
	int		 absent;	/* read-only and no tables yet */
	int64_t		 clock_us;	/* tests: fixed "now"; 0 = real */
	sqlite3_stmt	*st[J__COUNT];
};

static const char *const state_names[JOB__NSTATES] = {
	"queued", "running", "succeeded", "failed", "cancelled"
};

static const char *const failure_names[JOB__NFAILURES] = {
	"none", "build_error", "timeout", "oom", "verify_failed",
	"upstream_unreachable", "missing_build_dep", "engine_lost"
};

const char *
job_state_name(enum job_state s)
{
	if ((int)s < 0 || s >= JOB__NSTATES)
		return NULL;
	return state_names[s];
}

const char *
job_failure_name(enum job_failure f)
{
	if ((int)f < 0 || f >= JOB__NFAILURES)
		return NULL;
	return failure_names[f];
}

int
job_state_parse(const char *s, enum job_state *out)
{
	int i;

	for (i = 0; s != NULL && i < JOB__NSTATES; i++)
		if (!strcmp(s, state_names[i])) {
			*out = (enum job_state)i;
			return 0;
		}
	return -1;
}

int
job_failure_parse(const char *s, enum job_failure *out)
{
	int i;

	for (i = 0; s != NULL && i < JOB__NFAILURES; i++)
		if (!strcmp(s, failure_names[i])) {
			*out = (enum job_failure)i;
			return 0;
		}
	return -1;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->project);
	free(j->requirement);
	free(j->version);
	free(j->target);
	free(j->engine);
	free(j->container_id);
	free(j->message);
	free(j->log_path);
	free(j->wheel);
	free(j->origin);
	memset(j, 0, sizeof(*j));
}

static json_t *
json_time(int64_t us)
{
	char buf[64];

	if (us <= 0)
		return json_null();
	util_format_time_us(us, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
job_json(const struct job *j)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:i, s:s, s:i, s:i, s:i,"
	    " s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)j->id,
	    "project", util_json_text(j->project),
	    "version", util_json_text(j->version),
	    "requirement", util_json_text(j->requirement),
	    "target", util_json_text(j->target),
	    "build_number", j->build_number,
	    "state", job_state_name(j->state),
	    "priority", j->priority,
	    "attempts", j->attempts,
	    "max_attempts", j->max_attempts,
	    "next_attempt", j->state == JOB_QUEUED ?
	    json_time(j->next_attempt_us) : json_null(),
	    "engine", util_json_text(j->engine),
	    "cancel_requested", j->cancel_requested,
	    "created", json_time(j->created_us),
	    "started", json_time(j->started_us),
	    "finished", json_time(j->finished_us),
	    "exit_status", j->has_exit_status ?
	    json_integer(j->exit_status) : json_null(),
	    "failure", j->failure != JOB_FAIL_NONE ?
	    json_string(job_failure_name(j->failure)) : json_null(),
	    "message", util_json_text(j->message),
	    "wheel", util_json_text(j->wheel),
	    "origin", util_json_text(j->origin));
}

void
job_filter_init(struct job_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->state = -1;
}

/* --- plumbing --------------------------------------------------------- */

static int64_t
jobs_now(const struct jobs *js)
{
	return js->clock_us ? js->clock_us : util_now_us();
}

void
jobs_set_clock(struct jobs *js, int64_t now_us)
{
	js->clock_us = now_us;
}

/* A cached statement, reset and unbound; NULL on error. */
static sqlite3_stmt *
stmt(struct jobs *js, enum jstmt id, struct wwerr *err)
{
	sqlite3_stmt *st = js->st[id];

	if (js->absent) {
		wwerr_set(err, JOBS_E_DB, "jobs: the catalog is read-only and "
		    "has no job tables yet");
		return NULL;
	}
	if (st == NULL) {
		if (sqlite3_prepare_v3(js->db, jstmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			db_fail(&js->dx, err, "prepare");
			return NULL;
		}
		js->st[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Start a write (see db_tx_begin); not without the job tables. */
static int
tx_begin(struct jobs *js, struct db_tx *tx, struct wwerr *err)
{
	if (js->absent)
		return wwerr_set(err, JOBS_E_DB, "jobs: the catalog is "
		    "read-only and has no job tables yet");
	return db_tx_begin(&js->dx, tx, err);
}

/* Column i holds a version equal to v in PEP 440 terms. */
static int
same_version(sqlite3_stmt *st, int i, const struct version *v)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	struct version *o;
	int eq;

	if (s == NULL || version_parse(s, &o) == -1)
		return 0;
	eq = version_cmp(o, v) == 0;
	version_free(o);
	return eq;
}

static int
row_to_job(sqlite3_stmt *st, struct job *j)
{
	const char *s;

	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->project = db_col_strdup(st, 1);
	j->requirement = db_col_strdup(st, 2);
	j->version = db_col_strdup(st, 3);
	j->target = db_col_strdup(st, 4);
	j->build_number = sqlite3_column_int(st, 5);
	s = (const char *)sqlite3_column_text(st, 6);
	if (job_state_parse(s, &j->state) == -1)
		j->state = JOB_FAILED;
	j->priority = sqlite3_column_int(st, 7);
	j->attempts = sqlite3_column_int(st, 8);
	j->max_attempts = sqlite3_column_int(st, 9);
	j->requeues = sqlite3_column_int(st, 10);
	j->next_attempt_us = sqlite3_column_int64(st, 11);
	j->engine = db_col_strdup(st, 12);
	j->container_id = db_col_strdup(st, 13);
	j->cancel_requested = sqlite3_column_int(st, 14);
	j->created_us = sqlite3_column_int64(st, 15);
	j->started_us = sqlite3_column_int64(st, 16);
	j->finished_us = sqlite3_column_int64(st, 17);
	if (sqlite3_column_type(st, 18) != SQLITE_NULL) {
		j->has_exit_status = 1;
		j->exit_status = sqlite3_column_int(st, 18);
	}
	s = (const char *)sqlite3_column_text(st, 19);
	if (s == NULL || job_failure_parse(s, &j->failure) == -1)
		j->failure = JOB_FAIL_NONE;
	j->message = db_col_strdup(st, 20);
	j->log_path = db_col_strdup(st, 21);
	j->wheel = db_col_strdup(st, 22);
	j->origin = db_col_strdup(st, 23);
	if (j->project == NULL || j->requirement == NULL ||
	    j->version == NULL || j->target == NULL || j->origin == NULL ||
	    (sqlite3_column_type(st, 12) != SQLITE_NULL && j->engine == NULL) ||
	    (sqlite3_column_type(st, 13) != SQLITE_NULL &&
	    j->container_id == NULL) ||
	    (sqlite3_column_type(st, 20) != SQLITE_NULL && j->message == NULL) ||
	    (sqlite3_column_type(st, 21) != SQLITE_NULL && j->log_path == NULL) ||
	    (sqlite3_column_type(st, 22) != SQLITE_NULL && j->wheel == NULL)) {
		job_free(j);
		return -1;
	}
	return 0;
}

/* Target, engine and origin names: printable ASCII without quotes. */
static int
valid_label(const char *s, size_t max)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || strlen(s) > max)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\'' ||
		    *p == '/' || *p == '\\')
			return 0;
	return 1;
}

static int
valid_text(const char *s, size_t max)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || strlen(s) > max)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t')
			return 0;
	return 1;
}

/* --- open / close ------------------------------------------------------ */

int
jobs_open(struct catalog *c, struct jobs **out, struct wwerr *err)
{
	struct jobs *js;
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((js = calloc(1, sizeof(*js))) == NULL)
		return wwerr_set(err, JOBS_E_DB, "jobs: out of memory");
	js->cat = c;
	js->db = catalog_db(c);
	js->dx.h = js->db;
	js->dx.code = JOBS_E_DB;
	js->dx.who = "jobs";
	js->dx.savepoint = "jobs_sp";
	if (sqlite3_db_readonly(js->db, "main") == 1) {
		/* A read-only catalog cannot migrate; without tables the
		 * store is simply empty (nobody has enqueued anything). */
		if (sqlite3_prepare_v2(js->db, "SELECT count(*) FROM"
		    " sqlite_schema WHERE type = 'table' AND name = 'jobs'",
		    -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			db_fail(&js->dx, err, "open");
			sqlite3_finalize(st);
			free(js);
			return -1;
		}
		js->absent = sqlite3_column_int(st, 0) == 0;
		sqlite3_finalize(st);
		if (js->absent) {
			*out = js;
			return 0;
		}
	}
	rc = catalog_migrate(c, "jobs", jobs_migrations,
	    WW_ARRLEN(jobs_migrations), err);
	if (rc == -1) {
		if (err != NULL)
			err->code = JOBS_E_DB;
		free(js);
		return -1;
	}
	*out = js;
	return 0;
}

void
jobs_close(struct jobs *js)
{
	size_t i;

	if (js == NULL)
		return;
	for (i = 0; i < J__COUNT; i++)
		sqlite3_finalize(js->st[i]);
	free(js);
}

/* --- enqueue ----------------------------------------------------------- */

struct norm_spec {
	char	project[NAME_MAX_LEN + 1];
	char	version[VERSION_STR_MAX];
};

static int
check_spec(const struct job_spec *s, struct norm_spec *n, struct wwerr *err)
{
	if (s->project == NULL ||
	    name_normalize(s->project, n->project, sizeof(n->project)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "job: project \"%s\" is "
		    "not a valid project name", s->project ? s->project : "");
	if (s->version == NULL ||
	    version_normalize(s->version, n->version, sizeof(n->version)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "job: version \"%s\" of "
		    "%s is not a PEP 440 version", s->version ? s->version : "",
		    n->project);
	if (!valid_text(s->requirement, JOBS_TEXT_MAX))
		return wwerr_set(err, JOBS_E_INVALID, "job: requirement for "
		    "%s is empty, too long or has control characters",
		    n->project);
	if (!valid_label(s->target, 63))
		return wwerr_set(err, JOBS_E_INVALID, "job: target \"%s\" is "
		    "not a valid target name", s->target ? s->target : "");
	if (s->build_number < 0 || s->build_number > 1000000000)
		return wwerr_set(err, JOBS_E_INVALID, "job: build number %d "
		    "out of range", s->build_number);
	if (s->max_attempts < 1 || s->max_attempts > 1000)
		return wwerr_set(err, JOBS_E_INVALID, "job: max_attempts %d "
		    "out of range [1, 1000]", s->max_attempts);
	if (!valid_text(s->origin, JOB_ORIGIN_MAX))
		return wwerr_set(err, JOBS_E_INVALID, "job: origin \"%s\" is "
		    "empty, too long or has control characters",
		    s->origin ? s->origin : "");
	return 0;
}

/*
 * The active job of this release (equal in PEP 440 terms), target and
 * build number: 1 and *id, 0 none, -1 error.
 */
static int
find_active(struct jobs *js, const struct norm_spec *n, const char *target,
    int build, const struct version *v, int64_t *id, struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if ((st = stmt(js, J_ACTIVE, err)) == NULL)
		return -1;
	db_bind_text(st, 1, n->project);
	db_bind_text(st, 2, target);
	sqlite3_bind_int(st, 3, build);
	while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (same_version(st, 1, v)) {
			*id = sqlite3_column_int64(st, 0);
			found = 1;
		}
	done(st);
	if (!found && rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "enqueue");
	return found;
}

/* Insert, or find the active duplicate. Inside a write transaction, so
 * the lookup and the insert cannot be split by another writer. */
static int
enqueue_one(struct jobs *js, const struct job_spec *s,
    const struct norm_spec *n, int build, int64_t *id, struct wwerr *err)
{
	struct version *v;
	sqlite3_stmt *st;
	int rc;

	if (version_parse(n->version, &v) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "job: bad version %s",
		    n->version);
	rc = find_active(js, n, s->target, build, v, id, err);
	version_free(v);
	if (rc != 0)
		return rc;
	if ((st = stmt(js, J_INSERT, err)) == NULL)
		return -1;
	db_bind_text(st, 1, n->project);
	db_bind_text(st, 2, s->requirement);
	db_bind_text(st, 3, n->version);
	db_bind_text(st, 4, s->target);
	sqlite3_bind_int(st, 5, build);
	sqlite3_bind_int(st, 6, s->priority);
	sqlite3_bind_int(st, 7, s->max_attempts);
	sqlite3_bind_int64(st, 8, jobs_now(js));
	db_bind_text(st, 9, s->origin);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		done(st);
		if (rc != SQLITE_DONE)
			return db_fail(&js->dx, err, "enqueue");
		return 0;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "enqueue");
	/* The unique index caught what find_active missed: impossible in
	 * a write transaction, so say so rather than guess. */
	return db_fail(&js->dx, err, "enqueue: conflicting active job");
}

int
jobs_enqueue(struct jobs *js, const struct job_spec *spec, int64_t *id,
    struct wwerr *err)
{
	struct norm_spec n;
	struct db_tx tx;
	int rc;

	if (check_spec(spec, &n, err) == -1)
		return -1;
	if (tx_begin(js, &tx, err) == -1)
		return -1;
	if ((rc = enqueue_one(js, spec, &n, spec->build_number, id, err)) == -1) {
		db_tx_abort(&js->dx, &tx);
		return -1;
	}
	if (db_tx_commit(&js->dx, &tx, err) == -1)
		return -1;
	return rc;
}

struct maxbuild {
	const struct version *version;
	int		 max;
};

static int
maxbuild_cb(const struct catalog_file *f, void *arg)
{
	struct maxbuild *mb = arg;
	uint64_t v;
	char digits[16];
	size_t n;

	struct version *fv;
	int eq;

	if (f->kind != 'w' || f->build_tag == NULL || f->version == NULL ||
	    version_parse(f->version, &fv) == -1)
		return 0;
	eq = version_cmp(fv, mb->version) == 0;
	version_free(fv);
	if (!eq)
		return 0;
	n = strspn(f->build_tag, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return 0;
	memcpy(digits, f->build_tag, n);
	digits[n] = '\0';
	if (util_parse_u64(digits, 1000000000, &v) == 0 && (int)v > mb->max)
		mb->max = (int)v;
	return 0;
}

static int
next_build(struct jobs *js, const char *project, const char *version,
    int *out, struct wwerr *err)
{
	struct maxbuild mb;
	struct version *v;
	sqlite3_stmt *st;
	int rc;

	if (version_parse(version, &v) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "bad version %s", version);
	mb.version = v;
	mb.max = 0;
	if ((st = stmt(js, J_MAX_BUILD, err)) == NULL)
		goto fail;
	db_bind_text(st, 1, project);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_int(st, 1) > mb.max && same_version(st, 0, v))
			mb.max = sqlite3_column_int(st, 1);
	done(st);
	if (rc != SQLITE_DONE) {
		db_fail(&js->dx, err, "build number");
		goto fail;
	}
	if (catalog_foreach_file(js->cat, project, maxbuild_cb, &mb, err) == -1)
		goto fail;
	version_free(v);
	if (mb.max >= 1000000000)
		return wwerr_set(err, JOBS_E_INVALID, "%s %s: build numbers "
		    "exhausted", project, version);
	*out = mb.max + 1;
	return 0;
fail:
	version_free(v);
	return -1;
}

int
jobs_next_build_number(struct jobs *js, const char *project,
    const char *version, int *out, struct wwerr *err)
{
	struct norm_spec n;

	if (project == NULL ||
	    name_normalize(project, n.project, sizeof(n.project)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "project \"%s\" is not a "
		    "valid project name", project ? project : "");
	if (version == NULL ||
	    version_normalize(version, n.version, sizeof(n.version)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "version \"%s\" is not a "
		    "PEP 440 version", version ? version : "");
	return next_build(js, n.project, n.version, out, err);
}

int
jobs_enqueue_rebuild(struct jobs *js, const struct job_spec *spec,
    const char *const *targets, size_t ntargets, int64_t *ids, int *build,
    struct wwerr *err)
{
	struct job_spec s = *spec;
	struct norm_spec n;
	struct db_tx tx;
	size_t i;
	int b;

	if (ntargets == 0)
		return wwerr_set(err, JOBS_E_INVALID, "rebuild: no targets");
	for (i = 0; i < ntargets; i++) {
		s.target = targets[i];
		if (check_spec(&s, &n, err) == -1)
			return -1;
	}
	if (tx_begin(js, &tx, err) == -1)
		return -1;
	if (next_build(js, n.project, n.version, &b, err) == -1)
		goto fail;
	for (i = 0; i < ntargets; i++) {
		s.target = targets[i];
		if (enqueue_one(js, &s, &n, b, &ids[i], err) == -1)
			goto fail;
	}
	if (db_tx_commit(&js->dx, &tx, err) == -1)
		return -1;
	*build = b;
	return 0;
fail:
	db_tx_abort(&js->dx, &tx);
	return -1;
}

/* --- claim and finish -------------------------------------------------- */

int
jobs_claim(struct jobs *js, const char *engine, const char *const *targets,
    size_t ntargets, const char *logdir, struct job *out, struct wwerr *err)
{
	sqlite3_stmt *st;
	json_t *arr;
	char *tj;
	size_t i;
	int rc;

	if (!valid_label(engine, 63))
		return wwerr_set(err, JOBS_E_INVALID, "claim: engine \"%s\" is "
		    "not a valid engine name", engine ? engine : "");
	if (ntargets == 0)
		return 1;
	if ((arr = json_array()) == NULL)
		return wwerr_set(err, JOBS_E_DB, "claim: out of memory");
	for (i = 0; i < ntargets; i++)
		if (json_array_append_new(arr, json_string(targets[i])) == -1) {
			json_decref(arr);
			return wwerr_set(err, JOBS_E_INVALID, "claim: bad target "
			    "name");
		}
	tj = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (tj == NULL)
		return wwerr_set(err, JOBS_E_DB, "claim: out of memory");
	if ((st = stmt(js, J_CLAIM, err)) == NULL) {
		free(tj);
		return -1;
	}
	db_bind_text(st, 1, engine);
	sqlite3_bind_int64(st, 2, jobs_now(js));
	db_bind_text(st, 3, tj);
	db_bind_text(st, 4, logdir);
	free(tj);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (row_to_job(st, out) == -1) {
			/* Still step to the end so the claim is committed
			 * (or rolled back) and not left half-done. */
			while (sqlite3_step(st) == SQLITE_ROW)
				;
			done(st);
			return wwerr_set(err, JOBS_E_DB, "claim: out of memory");
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		done(st);
		if (rc != SQLITE_DONE) {
			job_free(out);
			return db_fail(&js->dx, err, "claim");
		}
		return 0;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "claim");
	return 1;
}

/* After an UPDATE ... WHERE state = 'running' changed nothing: why. */
static int
not_running(struct jobs *js, int64_t id, const char *what, struct wwerr *err)
{
	sqlite3_stmt *st;
	char state[16] = "";
	int rc;

	if ((st = stmt(js, J_STATE, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		util_strlcpy(state, (const char *)sqlite3_column_text(st, 0),
		    sizeof(state));
	done(st);
	if (rc == SQLITE_DONE)
		return wwerr_set(err, JOBS_E_NOTFOUND, "%s: no job %lld", what,
		    (long long)id);
	if (rc != SQLITE_ROW)
		return db_fail(&js->dx, err, what);
	return wwerr_set(err, JOBS_E_STATE, "%s: job %lld is %s, not running",
	    what, (long long)id, state);
}

/* Step an UPDATE ... RETURNING; 1 if it changed a row, 0 if not, -1. */
static int
step_returning(struct jobs *js, sqlite3_stmt *st, const char *what,
    struct wwerr *err)
{
	int rc, changed = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		changed = 1;
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(&js->dx, err, what);
	return changed;
}

int
jobs_set_container(struct jobs *js, int64_t id, const char *container_id,
    const char *log_path, struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_label(container_id, 255))
		return wwerr_set(err, JOBS_E_INVALID, "job %lld: bad container "
		    "id", (long long)id);
	if (log_path != NULL && !valid_text(log_path, 4096))
		return wwerr_set(err, JOBS_E_INVALID, "job %lld: bad log path",
		    (long long)id);
	if ((st = stmt(js, J_SET_CONTAINER, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, container_id);
	db_bind_text(st, 3, log_path);
	if ((rc = step_returning(js, st, "set container", err)) == -1)
		return -1;
	if (rc == 0)
		return not_running(js, id, "set container", err);
	return 0;
}

int
jobs_succeed(struct jobs *js, int64_t id, const char *wheel, int exit_status,
    struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_text(wheel, 255) || strchr(wheel, '/') != NULL)
		return wwerr_set(err, JOBS_E_INVALID, "job %lld: bad wheel "
		    "filename", (long long)id);
	if ((st = stmt(js, J_SUCCEED, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, wheel);
	sqlite3_bind_int(st, 3, exit_status);
	sqlite3_bind_int64(st, 4, jobs_now(js));
	if ((rc = step_returning(js, st, "succeed", err)) == -1)
		return -1;
	if (rc == 0)
		return not_running(js, id, "succeed", err);
	return 0;
}

int64_t
jobs_backoff_us(int attempts, int backoff_base_s)
{
	int64_t d;
	int i;

	if (backoff_base_s <= 0 || attempts < 1)
		return 0;
	d = (int64_t)backoff_base_s * 1000000;
	for (i = 1; i < attempts && d < JOBS_BACKOFF_CAP_US; i++)
		d *= 2;
	return d < JOBS_BACKOFF_CAP_US ? d : JOBS_BACKOFF_CAP_US;
}

int
jobs_fail(struct jobs *js, int64_t id, enum job_failure failure,
    const char *message, int exit_status, int retry, int backoff_base_s,
    struct wwerr *err)
{
	sqlite3_stmt *st;
	enum job_state end;
	struct db_tx tx;
	char state[16] = "", clean[JOBS_TEXT_MAX + 1];
	int rc, attempts = 0, max = 0, cancel = 0;
	int64_t now;

	if (failure <= JOB_FAIL_NONE || failure >= JOB__NFAILURES)
		return wwerr_set(err, JOBS_E_INVALID, "job %lld: bad failure "
		    "class %d", (long long)id, (int)failure);
	if (message != NULL && strlen(message) > JOBS_TEXT_MAX)
		return wwerr_set(err, JOBS_E_INVALID, "job %lld: failure "
		    "message too long", (long long)id);
	/* Build output is any bytes; every reader wants JSON-safe text. */
	if (message != NULL) {
		util_strlcpy(clean, message, sizeof(clean));
		util_utf8_scrub(clean);
		message = clean;
	}
	if (tx_begin(js, &tx, err) == -1)
		return -1;
	if ((st = stmt(js, J_STATE, err)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		util_strlcpy(state, (const char *)sqlite3_column_text(st, 0),
		    sizeof(state));
		attempts = sqlite3_column_int(st, 1);
		max = sqlite3_column_int(st, 2);
		cancel = sqlite3_column_int(st, 3);
	}
	done(st);
	if (rc == SQLITE_DONE) {
		wwerr_set(err, JOBS_E_NOTFOUND, "fail: no job %lld",
		    (long long)id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		db_fail(&js->dx, err, "fail");
		goto fail;
	}
	if (strcmp(state, "running") != 0) {
		wwerr_set(err, JOBS_E_STATE, "fail: job %lld is %s, not "
		    "running", (long long)id, state);
		goto fail;
	}
	now = jobs_now(js);
	if (cancel)
		end = JOB_CANCELLED;
	else if (retry && attempts < max)
		end = JOB_QUEUED;
	else
		end = JOB_FAILED;
	if ((st = stmt(js, J_FAIL, err)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, job_state_name(end));
	db_bind_text(st, 3, job_failure_name(failure));
	db_bind_text(st, 4, message);
	if (exit_status == JOB_NO_EXIT)
		sqlite3_bind_null(st, 5);
	else
		sqlite3_bind_int(st, 5, exit_status);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, end == JOB_QUEUED ?
	    now + jobs_backoff_us(attempts, backoff_base_s) : now);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE) {
		db_fail(&js->dx, err, "fail");
		goto fail;
	}
	if (db_tx_commit(&js->dx, &tx, err) == -1)
		return -1;
	return (int)end;
fail:
	db_tx_abort(&js->dx, &tx);
	return -1;
}

/* --- cancel ------------------------------------------------------------ */

int
jobs_cancel(struct jobs *js, int64_t id, struct wwerr *err)
{
	sqlite3_stmt *st;
	struct db_tx tx;
	char state[16] = "";
	int rc, result;

	if (tx_begin(js, &tx, err) == -1)
		return -1;
	if ((st = stmt(js, J_STATE, err)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		util_strlcpy(state, (const char *)sqlite3_column_text(st, 0),
		    sizeof(state));
	done(st);
	if (rc == SQLITE_DONE) {
		wwerr_set(err, JOBS_E_NOTFOUND, "cancel: no job %lld",
		    (long long)id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		db_fail(&js->dx, err, "cancel");
		goto fail;
	}
	if (!strcmp(state, "queued")) {
		if ((st = stmt(js, J_CANCEL_QUEUED, err)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 2, jobs_now(js));
		result = 0;
	} else if (!strcmp(state, "running")) {
		if ((st = stmt(js, J_CANCEL_REQUEST, err)) == NULL)
			goto fail;
		result = 1;
	} else {
		db_tx_abort(&js->dx, &tx);
		return 2;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE) {
		db_fail(&js->dx, err, "cancel");
		goto fail;
	}
	if (db_tx_commit(&js->dx, &tx, err) == -1)
		return -1;
	return result;
fail:
	db_tx_abort(&js->dx, &tx);
	return -1;
}

int
jobs_cancelled(struct jobs *js, int64_t id, struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = stmt(js, J_CANCELLED, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, jobs_now(js));
	if ((rc = step_returning(js, st, "cancelled", err)) == -1)
		return -1;
	if (rc == 0)
		return not_running(js, id, "cancelled", err);
	return 0;
}

/* --- recovery ---------------------------------------------------------- */

static int
requeue(struct jobs *js, const char *engine, const char *why,
    struct wwerr *err)
{
	/* ?1 engine or NULL for all, ?2 now, ?3 message, ?4 max requeues. */
	static const char *const sql[] = {
		"UPDATE jobs SET state = 'cancelled', finished_us = ?2"
		" WHERE state = 'running' AND cancel_requested = 1"
		" AND (?1 IS NULL OR engine = ?1)",
		"UPDATE jobs SET state = 'failed', failure = 'engine_lost',"
		" message = ?3 || ' (interrupted ' || (requeues + 1) ||"
		" ' times; giving up)', finished_us = ?2"
		" WHERE state = 'running' AND requeues + 1 > ?4"
		" AND (?1 IS NULL OR engine = ?1)",
		"UPDATE jobs SET state = 'queued', failure = 'engine_lost',"
		" message = ?3, attempts = max(attempts - 1, 0),"
		" requeues = requeues + 1, engine = NULL, container_id = NULL,"
		" next_attempt_us = ?2, finished_us = 0"
		" WHERE state = 'running' AND (?1 IS NULL OR engine = ?1)",
	};
	sqlite3_stmt *st = NULL;
	struct db_tx tx;
	size_t i;
	int n = 0;

	if (engine != NULL && !valid_label(engine, 63))
		return wwerr_set(err, JOBS_E_INVALID, "requeue: engine \"%s\" "
		    "is not a valid engine name", engine);
	if (tx_begin(js, &tx, err) == -1)
		return -1;
	for (i = 0; i < WW_ARRLEN(sql); i++) {
		if (sqlite3_prepare_v2(js->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK) {
			db_fail(&js->dx, err, "requeue");
			goto fail;
		}
		db_bind_text(st, 1, engine);
		sqlite3_bind_int64(st, 2, jobs_now(js));
		db_bind_text(st, 3, why);
		sqlite3_bind_int(st, 4, JOBS_MAX_REQUEUES);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail(&js->dx, err, "requeue");
			goto fail;
		}
		n += sqlite3_changes(js->db);
		sqlite3_finalize(st);
		st = NULL;
	}
	if (db_tx_commit(&js->dx, &tx, err) == -1)
		return -1;
	return n;
fail:
	sqlite3_finalize(st);
	db_tx_abort(&js->dx, &tx);
	return -1;
}

int
jobs_requeue_running(struct jobs *js, struct wwerr *err)
{
	return requeue(js, NULL, "builderd restarted during the build", err);
}

int
jobs_requeue_engine(struct jobs *js, const char *engine, struct wwerr *err)
{
	char why[128];

	if (engine == NULL)
		return wwerr_set(err, JOBS_E_INVALID, "requeue: no engine");
	snprintf(why, sizeof(why), "engine %.64s was lost during the build",
	    engine);
	return requeue(js, engine, why, err);
}

/* --- queries ----------------------------------------------------------- */

int
jobs_get(struct jobs *js, int64_t id, struct job *out, struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if (js->absent)
		return 1;
	if ((st = stmt(js, J_GET, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = row_to_job(st, out);
		done(st);
		if (rc == -1)
			return wwerr_set(err, JOBS_E_DB, "get: out of memory");
		return 0;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "get");
	return 1;
}

/* Run a SELECT of JOB_COLUMNS, calling cb per row. */
static int
run_select(struct jobs *js, sqlite3_stmt *st, jobs_cb cb, void *arg,
    struct wwerr *err)
{
	struct job j;
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_to_job(st, &j) == -1)
			return wwerr_set(err, JOBS_E_DB, "list: out of memory");
		stop = cb(&j, arg);
		job_free(&j);
		if (stop)
			return stop;
	}
	if (rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "list");
	return 0;
}

int
jobs_foreach(struct jobs *js, const struct job_filter *f, jobs_cb cb,
    void *arg, struct wwerr *err)
{
	char project[NAME_MAX_LEN + 1], version[VERSION_STR_MAX];
	char sql[1024];
	sqlite3_stmt *st = NULL;
	int rc;

	if (js->absent)
		return 0;
	if (f->state >= JOB__NSTATES)
		return wwerr_set(err, JOBS_E_INVALID, "list: bad state %d",
		    f->state);
	if (f->project != NULL && name_normalize(f->project, project,
	    sizeof(project)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "list: \"%s\" is not a "
		    "valid project name", f->project);
	if (f->version != NULL && version_normalize(f->version, version,
	    sizeof(version)) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "list: \"%s\" is not a "
		    "PEP 440 version", f->version);
	snprintf(sql, sizeof(sql), "SELECT " JOB_COLUMNS " FROM jobs WHERE"
	    " (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR project = ?2)"
	    " AND (?3 IS NULL OR version = ?3) AND (?4 IS NULL OR target = ?4)"
	    " AND (?5 IS NULL OR engine = ?5) AND (?6 = 0 OR cancel_requested)"
	    " ORDER BY id %s LIMIT ?7", f->newest_first ? "DESC" : "ASC");
	if (sqlite3_prepare_v2(js->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(&js->dx, err, "list");
	db_bind_text(st, 1, f->state >= 0 ?
	    job_state_name((enum job_state)f->state) : NULL);
	db_bind_text(st, 2, f->project ? project : NULL);
	db_bind_text(st, 3, f->version ? version : NULL);
	db_bind_text(st, 4, f->target);
	db_bind_text(st, 5, f->engine);
	sqlite3_bind_int(st, 6, f->cancel_requested ? 1 : 0);
	sqlite3_bind_int64(st, 7, f->limit ? (int64_t)f->limit : -1);
	rc = run_select(js, st, cb, arg, err);
	sqlite3_finalize(st);
	return rc;
}

int
jobs_counts(struct jobs *js, struct jobs_count **out, size_t *n,
    struct wwerr *err)
{
	struct jobs_count *v = NULL, *nv;
	sqlite3_stmt *st;
	enum job_state s;
	const char *t;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (js->absent)
		return 0;
	if ((st = stmt(js, J_COUNTS, err)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(st, 0);
		if (t == NULL || job_state_parse((const char *)
		    sqlite3_column_text(st, 1), &s) == -1)
			continue;
		if (cnt == 0 || strcmp(v[cnt - 1].target, t) != 0) {
			if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
				done(st);
				free(v);
				return wwerr_set(err, JOBS_E_DB, "counts: out of "
				    "memory");
			}
			v = nv;
			memset(&v[cnt], 0, sizeof(v[cnt]));
			util_strlcpy(v[cnt].target, t, sizeof(v[cnt].target));
			cnt++;
		}
		v[cnt - 1].n[s] += sqlite3_column_int64(st, 2);
	}
	done(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(&js->dx, err, "counts");
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
jobs_last_failures(struct jobs *js, size_t limit, jobs_cb cb, void *arg,
    struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if (js->absent)
		return 0;
	if ((st = stmt(js, J_LAST_FAILURES, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, limit ? (int64_t)limit : -1);
	/* The cached statement may be re-entered by cb (jobs_get is a
	 * different one), so it is only reset after the loop. */
	rc = run_select(js, st, cb, arg, err);
	done(st);
	return rc;
}

int
jobs_release_blocked(struct jobs *js, const char *project,
    const char *version, const char *target, int64_t *id, struct wwerr *err)
{
	struct version *v;
	sqlite3_stmt *st;
	int rc, found = 0;

	if (js->absent)
		return 0;
	if (version_parse(version, &v) == -1)
		return wwerr_set(err, JOBS_E_INVALID, "bad version %s", version);
	if ((st = stmt(js, J_BLOCKED, err)) == NULL) {
		version_free(v);
		return -1;
	}
	db_bind_text(st, 1, project);
	db_bind_text(st, 2, target);
	while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (same_version(st, 1, v)) {
			if (id != NULL)
				*id = sqlite3_column_int64(st, 0);
			found = 1;
		}
	done(st);
	version_free(v);
	if (!found && rc != SQLITE_DONE)
		return db_fail(&js->dx, err, "release lookup");
	return found;
}
