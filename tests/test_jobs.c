/*
 * test_jobs.c: unit tests for the job store on real SQLite catalog files:
 * migration, every state transition, backoff timing, dedupe, rebuild
 * numbers, cancel, crash and engine-lost requeue, listing and counts,
 * jobs inside a caller's transaction, and claims racing from two
 * processes on one database.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "catalog.h"
#include "hash.h"
#include "jobs.h"
#include "util.h"

#define SEC	1000000LL
#define T0	(1700000000LL * SEC)

struct fixture {
	char	 dir[PATH_MAX];
	char	 db[PATH_MAX];
	struct catalog *c;
	struct jobs *js;
};

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int
setup(void **state)
{
	struct fixture *fx;
	struct wwerr err;
	const char *base = getenv("WW_TEST_TMP");

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_jobs.XXXXXX", base);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/catalog.sqlite", fx->dir);
	if (catalog_open(fx->db, 0, &fx->c, &err) == -1)
		fail_msg("catalog_open: %s", err.msg);
	if (jobs_open(fx->c, &fx->js, &err) == -1)
		fail_msg("jobs_open: %s", err.msg);
	jobs_set_clock(fx->js, T0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	jobs_close(fx->js);
	catalog_close(fx->c);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void
spec_init(struct job_spec *s, const char *project, const char *version,
    const char *target)
{
	memset(s, 0, sizeof(*s));
	s->project = project;
	s->version = version;
	s->target = target;
	s->requirement = project;
	s->max_attempts = 3;
	s->origin = "reconcile";
}

static int64_t
enqueue(struct jobs *js, const char *project, const char *version,
    const char *target, int expect_rc)
{
	struct job_spec s;
	struct wwerr err;
	int64_t id = 0;
	int rc;

	spec_init(&s, project, version, target);
	rc = jobs_enqueue(js, &s, &id, &err);
	if (rc == -1)
		fail_msg("enqueue %s %s %s: %s", project, version, target,
		    err.msg);
	assert_int_equal(rc, expect_rc);
	assert_true(id > 0);
	return id;
}

static void
get(struct jobs *js, int64_t id, struct job *j)
{
	struct wwerr err;
	int rc;

	rc = jobs_get(js, id, j, &err);
	if (rc == -1)
		fail_msg("get %lld: %s", (long long)id, err.msg);
	assert_int_equal(rc, 0);
}

static enum job_state
state_of(struct jobs *js, int64_t id)
{
	struct job j;
	enum job_state s;

	get(js, id, &j);
	s = j.state;
	job_free(&j);
	return s;
}

/* Claim for one target; returns the id or 0 if nothing was due. */
static int64_t
claim(struct jobs *js, const char *engine, const char *target)
{
	const char *targets[1] = { target };
	struct wwerr err;
	struct job j;
	int64_t id;
	int rc;

	rc = jobs_claim(js, engine, targets, 1, "/var/log/ww", &j, &err);
	if (rc == -1)
		fail_msg("claim: %s", err.msg);
	if (rc == 1)
		return 0;
	assert_int_equal(j.state, JOB_RUNNING);
	assert_string_equal(j.engine, engine);
	assert_string_equal(j.target, target);
	id = j.id;
	job_free(&j);
	return id;
}

static void
test_migration_and_readonly(void **state)
{
	struct fixture *fx = *state;
	struct catalog *ro = NULL, *c2 = NULL;
	struct jobs *rj = NULL, *j2 = NULL;
	struct job_filter f;
	struct wwerr err;
	sqlite3_stmt *st;
	char path[PATH_MAX];
	struct job_spec s;
	int64_t id;
	size_t n;
	struct jobs_count *counts;

	/* The module version is recorded; reopening migrates nothing. */
	assert_int_equal(sqlite3_prepare_v2(catalog_db(fx->c), "SELECT version"
	    " FROM schema_modules WHERE module = 'jobs'", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	if (catalog_open(fx->db, 0, &c2, &err) == -1 ||
	    jobs_open(c2, &j2, &err) == -1)
		fail_msg("reopen: %s", err.msg);
	jobs_close(j2);
	catalog_close(c2);

	/* A read-only catalog without job tables is an empty store. */
	snprintf(path, sizeof(path), "%s/other.sqlite", fx->dir);
	if (catalog_open(path, 0, &c2, &err) == -1)
		fail_msg("create: %s", err.msg);
	catalog_close(c2);
	if (catalog_open(path, CATALOG_RDONLY, &ro, &err) == -1 ||
	    jobs_open(ro, &rj, &err) == -1)
		fail_msg("read-only: %s", err.msg);
	job_filter_init(&f);
	assert_int_equal(jobs_counts(rj, &counts, &n, &err), 0);
	assert_int_equal(n, 0);
	free(counts);
	spec_init(&s, "foo", "1.0", "t");
	assert_int_equal(jobs_enqueue(rj, &s, &id, &err), -1);
	assert_int_equal(err.code, JOBS_E_DB);
	jobs_close(rj);
	catalog_close(ro);

	/* A read-only catalog with job tables reads them. */
	id = enqueue(fx->js, "foo", "1.0", "t", 0);
	if (catalog_open(fx->db, CATALOG_RDONLY, &ro, &err) == -1 ||
	    jobs_open(ro, &rj, &err) == -1)
		fail_msg("read-only: %s", err.msg);
	assert_int_equal(state_of(rj, id), JOB_QUEUED);
	assert_int_equal(jobs_cancel(rj, id, &err), -1);
	jobs_close(rj);
	catalog_close(ro);
}

static void
test_enqueue_dedupe(void **state)
{
	struct fixture *fx = *state;
	struct job_spec s;
	struct wwerr err;
	struct job j;
	int64_t a, b, c, d, id;

	a = enqueue(fx->js, "Foo_Bar", "1.0", "py311", 0);
	get(fx->js, a, &j);
	assert_string_equal(j.project, "foo-bar");
	assert_string_equal(j.version, "1.0");
	assert_string_equal(j.requirement, "Foo_Bar");
	assert_int_equal(j.state, JOB_QUEUED);
	assert_int_equal(j.attempts, 0);
	assert_int_equal(j.max_attempts, 3);
	assert_int_equal(j.build_number, 0);
	assert_true(j.created_us == T0 && j.next_attempt_us == T0);
	assert_int_equal(j.started_us, 0);
	assert_null(j.engine);
	assert_null(j.log_path);
	assert_false(j.has_exit_status);
	assert_string_equal(j.origin, "reconcile");
	job_free(&j);

	/* Same release and target under another spelling: the same job;
	 * versions compare as PEP 440 does (1.0 == 1.0.0 == 1.0.0.0). */
	b = enqueue(fx->js, "foo.bar", "1.0", "py311", 1);
	assert_int_equal(a, b);
	b = enqueue(fx->js, "foo-bar", "1.0.0", "py311", 1);
	assert_int_equal(a, b);
	assert_int_equal(jobs_release_blocked(fx->js, "foo-bar", "1.0.0.0",
	    "py311", &id, &err), 1);
	assert_int_equal(id, a);
	/* Other target, other version, other build number: new jobs. */
	c = enqueue(fx->js, "foo-bar", "1.0", "py312", 0);
	d = enqueue(fx->js, "foo-bar", "1.1", "py311", 0);
	assert_true(c != a && d != a && c != d);
	spec_init(&s, "foo-bar", "1.0", "py311");
	s.build_number = 2;
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), 0);
	assert_true(id != a);

	/* Still a duplicate while running ... */
	assert_int_equal(claim(fx->js, "e1", "py311"), a);
	assert_int_equal(enqueue(fx->js, "foo-bar", "1.0", "py311", 1), a);
	/* ... but not once finished. */
	assert_int_equal(jobs_succeed(fx->js, a, "foo_bar-1.0-py3-none-any.whl",
	    0, &err), 0);
	b = enqueue(fx->js, "foo-bar", "1.0", "py311", 0);
	assert_true(b != a);

	/* Bad input is refused with a reason, and nothing is written. */
	spec_init(&s, "-bad-", "1.0", "t");
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
	assert_int_equal(err.code, JOBS_E_INVALID);
	assert_non_null(strstr(err.msg, "-bad-"));
	spec_init(&s, "ok", "1.0-what?", "t");
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
	assert_non_null(strstr(err.msg, "PEP 440"));
	spec_init(&s, "ok", "1.0", "bad target");
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
	assert_non_null(strstr(err.msg, "target"));
	spec_init(&s, "ok", "1.0", "t");
	s.max_attempts = 0;
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
	spec_init(&s, "ok", "1.0", "t");
	s.requirement = "ok\n==1";
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
	spec_init(&s, "ok", "1.0", "t");
	s.origin = NULL;
	assert_int_equal(jobs_enqueue(fx->js, &s, &id, &err), -1);
}

static void
test_claim_order_and_targets(void **state)
{
	struct fixture *fx = *state;
	const char *both[2] = { "py311", "py312" };
	struct job_spec s;
	struct wwerr err;
	struct job j;
	int64_t a, b, c, hi;

	a = enqueue(fx->js, "a", "1", "py311", 0);
	jobs_set_clock(fx->js, T0 + 1);
	b = enqueue(fx->js, "b", "1", "py312", 0);
	jobs_set_clock(fx->js, T0 + 2);
	c = enqueue(fx->js, "c", "1", "py311", 0);
	spec_init(&s, "urgent", "1", "py312");
	s.priority = 10;
	s.origin = "rebuild";
	assert_int_equal(jobs_enqueue(fx->js, &s, &hi, &err), 0);

	/* Nothing for a target no job has; nothing for no targets. */
	assert_int_equal(claim(fx->js, "e1", "py313"), 0);
	assert_int_equal(jobs_claim(fx->js, "e1", both, 0, NULL, &j, &err), 1);
	/* Priority first, then the oldest. */
	assert_int_equal(jobs_claim(fx->js, "e1", both, 2, "/logs", &j, &err),
	    0);
	assert_int_equal(j.id, hi);
	assert_int_equal(j.attempts, 1);
	assert_int_equal(j.started_us, T0 + 2);
	{
		char want[64];
		snprintf(want, sizeof(want), "/logs/job-%lld.1.log",
		    (long long)hi);
		assert_string_equal(j.log_path, want);
	}
	job_free(&j);
	assert_int_equal(claim(fx->js, "e2", "py311"), a);
	assert_int_equal(claim(fx->js, "e2", "py311"), c);
	assert_int_equal(claim(fx->js, "e2", "py311"), 0);
	assert_int_equal(jobs_claim(fx->js, "e1", both, 2, NULL, &j, &err), 0);
	assert_int_equal(j.id, b);
	assert_null(j.log_path);
	job_free(&j);
	assert_int_equal(jobs_claim(fx->js, "e1", both, 2, NULL, &j, &err), 1);
	assert_int_equal(jobs_claim(fx->js, "bad engine", both, 2, NULL, &j,
	    &err), -1);

	/* The container id and log path are recorded while running. */
	assert_int_equal(jobs_set_container(fx->js, a, "0123abcd", "/l/a.log",
	    &err), 0);
	get(fx->js, a, &j);
	assert_string_equal(j.container_id, "0123abcd");
	assert_string_equal(j.log_path, "/l/a.log");
	assert_string_equal(j.engine, "e2");
	job_free(&j);
}

static void
test_succeed(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	struct job j;
	int64_t a, b;

	a = enqueue(fx->js, "a", "1", "t", 0);
	b = enqueue(fx->js, "b", "1", "t", 0);
	/* Not running yet: refused. */
	assert_int_equal(jobs_succeed(fx->js, a, "a-1-py3-none-any.whl", 0,
	    &err), -1);
	assert_int_equal(err.code, JOBS_E_STATE);
	assert_int_equal(jobs_set_container(fx->js, a, "c1", NULL, &err), -1);
	assert_int_equal(err.code, JOBS_E_STATE);
	assert_int_equal(jobs_succeed(fx->js, 999, "a-1-py3-none-any.whl", 0,
	    &err), -1);
	assert_int_equal(err.code, JOBS_E_NOTFOUND);

	assert_int_equal(claim(fx->js, "e", "t"), a);
	assert_int_equal(jobs_succeed(fx->js, a, "../evil.whl", 0, &err), -1);
	assert_int_equal(err.code, JOBS_E_INVALID);
	jobs_set_clock(fx->js, T0 + 5 * SEC);
	assert_int_equal(jobs_succeed(fx->js, a, "a-1-py3-none-any.whl", 0,
	    &err), 0);
	get(fx->js, a, &j);
	assert_int_equal(j.state, JOB_SUCCEEDED);
	assert_string_equal(j.wheel, "a-1-py3-none-any.whl");
	assert_true(j.has_exit_status);
	assert_int_equal(j.exit_status, 0);
	assert_int_equal(j.finished_us, T0 + 5 * SEC);
	assert_int_equal(j.failure, JOB_FAIL_NONE);
	job_free(&j);
	/* Twice: refused, the first result stands. */
	assert_int_equal(jobs_succeed(fx->js, a, "other.whl", 0, &err), -1);
	assert_int_equal(err.code, JOBS_E_STATE);
	assert_int_equal(state_of(fx->js, b), JOB_QUEUED);
}

static void
test_backoff_and_retries(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	struct job j;
	int64_t a, now = T0;
	int i, rc;

	assert_int_equal(jobs_backoff_us(1, 30), 30 * SEC);
	assert_int_equal(jobs_backoff_us(2, 30), 60 * SEC);
	assert_int_equal(jobs_backoff_us(3, 30), 120 * SEC);
	assert_int_equal(jobs_backoff_us(1, 0), 0);
	assert_int_equal(jobs_backoff_us(100, 30), 86400 * SEC);
	assert_int_equal(jobs_backoff_us(40, 86400), 86400 * SEC);

	a = enqueue(fx->js, "flaky", "2.0", "t", 0);	/* max_attempts 3 */
	for (i = 1; i <= 3; i++) {
		assert_int_equal(claim(fx->js, "e", "t"), a);
		rc = jobs_fail(fx->js, a, JOB_FAIL_BUILD_ERROR,
		    "error: command 'gcc' failed", 1, 1, 30, &err);
		if (rc == -1)
			fail_msg("fail: %s", err.msg);
		get(fx->js, a, &j);
		assert_int_equal(j.attempts, i);
		assert_int_equal(j.failure, JOB_FAIL_BUILD_ERROR);
		assert_string_equal(j.message, "error: command 'gcc' failed");
		assert_true(j.has_exit_status && j.exit_status == 1);
		if (i < 3) {
			int64_t delay = 30 * SEC << (i - 1);
			assert_int_equal(rc, JOB_QUEUED);
			assert_int_equal(j.state, JOB_QUEUED);
			assert_int_equal(j.next_attempt_us, now + delay);
			assert_null(j.engine);
			/* The failed attempt's log stays visible. */
			assert_non_null(j.log_path);
			/* Not due a microsecond early, due on time. */
			jobs_set_clock(fx->js, now + delay - 1);
			assert_int_equal(claim(fx->js, "e", "t"), 0);
			now += delay;
			jobs_set_clock(fx->js, now);
		} else {
			assert_int_equal(rc, JOB_FAILED);
			assert_int_equal(j.state, JOB_FAILED);
			assert_int_equal(j.finished_us, now);
			assert_string_equal(j.engine, "e");
		}
		job_free(&j);
	}
	assert_int_equal(claim(fx->js, "e", "t"), 0);
	/* Failing a job that is not running is refused. */
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_TIMEOUT, NULL, 1, 1, 30,
	    &err), -1);
	assert_int_equal(err.code, JOBS_E_STATE);
	assert_int_equal(jobs_fail(fx->js, 4242, JOB_FAIL_TIMEOUT, NULL, 1, 1,
	    30, &err), -1);
	assert_int_equal(err.code, JOBS_E_NOTFOUND);

	/* Build output in a message is any bytes: stored as UTF-8. */
	a = enqueue(fx->js, "latin1", "1.0", "t", 0);
	assert_int_equal(claim(fx->js, "e", "t"), a);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_BUILD_ERROR,
	    "x.c:1: caf\xe9 \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x94\xa7 \xc0\xaf",
	    1, 0, 30, &err), JOB_FAILED);
	get(fx->js, a, &j);
	assert_string_equal(j.message,
	    "x.c:1: caf? \xc3\xa9 ??? \xf0\x9f\x94\xa7 ??");
	{
		/* the JSON every reader shows; a row from elsewhere may hold
		 * any bytes, and still makes valid JSON */
		json_t *o;

		free(j.engine);
		j.engine = strdup("e\xff");
		o = job_json(&j);
		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "id")),
		    a);
		assert_string_equal(json_string_value(json_object_get(o,
		    "state")), "failed");
		assert_string_equal(json_string_value(json_object_get(o,
		    "failure")), "build_error");
		assert_string_equal(json_string_value(json_object_get(o,
		    "message")), j.message);
		assert_string_equal(json_string_value(json_object_get(o,
		    "engine")), "e?");
		assert_true(json_is_null(json_object_get(o, "next_attempt")));
		assert_true(json_is_string(json_object_get(o, "finished")));
		assert_true(json_is_null(json_object_get(o, "wheel")));
		assert_null(json_object_get(o, "log"));	/* callers' own */
		json_decref(o);
	}
	job_free(&j);

	/* No retry asked: failed at once; no exit status recorded. */
	a = enqueue(fx->js, "broken", "1.0", "t", 0);
	assert_int_equal(claim(fx->js, "e", "t"), a);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_VERIFY,
	    "libfoo.so.1 is outside manylinux_2_36", JOB_NO_EXIT, 0, 30, &err),
	    JOB_FAILED);
	get(fx->js, a, &j);
	assert_int_equal(j.failure, JOB_FAIL_VERIFY);
	assert_false(j.has_exit_status);
	assert_int_equal(j.attempts, 1);
	job_free(&j);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_NONE, NULL, 0, 0, 0,
	    &err), -1);
	assert_int_equal(err.code, JOBS_E_INVALID);
}

static void
test_cancel(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	struct job j;
	int64_t q, r, r2;

	q = enqueue(fx->js, "q", "1", "t", 0);
	r = enqueue(fx->js, "r", "1", "t", 0);
	r2 = enqueue(fx->js, "r2", "1", "t", 0);
	assert_int_equal(jobs_cancel(fx->js, q, &err), 0);
	assert_int_equal(state_of(fx->js, q), JOB_CANCELLED);
	assert_int_equal(jobs_cancel(fx->js, q, &err), 2);
	assert_int_equal(jobs_cancel(fx->js, 12345, &err), -1);
	assert_int_equal(err.code, JOBS_E_NOTFOUND);

	assert_int_equal(claim(fx->js, "e", "t"), r);
	assert_int_equal(claim(fx->js, "e", "t"), r2);
	assert_int_equal(jobs_cancel(fx->js, r, &err), 1);
	assert_int_equal(jobs_cancel(fx->js, r2, &err), 1);
	get(fx->js, r, &j);
	assert_int_equal(j.state, JOB_RUNNING);
	assert_int_equal(j.cancel_requested, 1);
	job_free(&j);
	/* The executor kills one and reports it; the other one's build fails:
	 * cancelled, never retried. */
	assert_int_equal(jobs_cancelled(fx->js, r, &err), 0);
	assert_int_equal(state_of(fx->js, r), JOB_CANCELLED);
	assert_int_equal(jobs_cancelled(fx->js, r, &err), -1);
	assert_int_equal(err.code, JOBS_E_STATE);
	assert_int_equal(jobs_fail(fx->js, r2, JOB_FAIL_BUILD_ERROR, "killed",
	    137, 1, 30, &err), JOB_CANCELLED);
	assert_int_equal(state_of(fx->js, r2), JOB_CANCELLED);
	assert_int_equal(claim(fx->js, "e", "t"), 0);
}

static int
collect_cb(const struct job *j, void *arg)
{
	int64_t *ids = arg;

	ids[++ids[0]] = j->id;
	return 0;
}

static void
test_cancel_requested_listing(void **state)
{
	struct fixture *fx = *state;
	struct job_filter f;
	struct wwerr err;
	int64_t ids[16] = { 0 }, a, b;

	a = enqueue(fx->js, "a", "1", "t", 0);
	b = enqueue(fx->js, "b", "1", "t", 0);
	assert_int_equal(claim(fx->js, "e1", "t"), a);
	assert_int_equal(claim(fx->js, "e2", "t"), b);
	assert_int_equal(jobs_cancel(fx->js, b, &err), 1);
	job_filter_init(&f);
	f.cancel_requested = 1;
	assert_int_equal(jobs_foreach(fx->js, &f, collect_cb, ids, &err), 0);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], b);
	ids[0] = 0;
	f.engine = "e1";
	assert_int_equal(jobs_foreach(fx->js, &f, collect_cb, ids, &err), 0);
	assert_int_equal(ids[0], 0);
}

static void
test_requeue(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	struct job j;
	int64_t a, b, c, q;
	int i;

	a = enqueue(fx->js, "a", "1", "t", 0);
	b = enqueue(fx->js, "b", "1", "t", 0);
	c = enqueue(fx->js, "c", "1", "t", 0);
	q = enqueue(fx->js, "q", "1", "t", 0);
	assert_int_equal(claim(fx->js, "e1", "t"), a);
	assert_int_equal(claim(fx->js, "e2", "t"), b);
	assert_int_equal(claim(fx->js, "e1", "t"), c);
	assert_int_equal(jobs_set_container(fx->js, a, "ctr-a", NULL, &err), 0);
	assert_int_equal(jobs_cancel(fx->js, c, &err), 1);

	/* Engine e1 is lost: its jobs only; the cancelled one ends. */
	jobs_set_clock(fx->js, T0 + 100 * SEC);
	assert_int_equal(jobs_requeue_engine(fx->js, "e1", &err), 2);
	get(fx->js, a, &j);
	assert_int_equal(j.state, JOB_QUEUED);
	assert_int_equal(j.attempts, 0);	/* not the job's fault */
	assert_int_equal(j.requeues, 1);
	assert_null(j.engine);
	assert_null(j.container_id);
	assert_int_equal(j.next_attempt_us, T0 + 100 * SEC);
	assert_int_equal(j.failure, JOB_FAIL_ENGINE_LOST);
	assert_non_null(strstr(j.message, "e1"));
	job_free(&j);
	assert_int_equal(state_of(fx->js, b), JOB_RUNNING);
	assert_int_equal(state_of(fx->js, c), JOB_CANCELLED);
	assert_int_equal(state_of(fx->js, q), JOB_QUEUED);

	/* builderd restarts: every running job goes back. */
	assert_int_equal(jobs_requeue_running(fx->js, &err), 1);
	assert_int_equal(state_of(fx->js, b), JOB_QUEUED);
	assert_int_equal(jobs_requeue_running(fx->js, &err), 0);

	/* A job that keeps crashing its builder eventually fails. */
	assert_int_equal(jobs_cancel(fx->js, b, &err), 0);
	assert_int_equal(jobs_cancel(fx->js, q, &err), 0);
	for (i = 1; i < JOBS_MAX_REQUEUES; i++) {
		assert_int_equal(claim(fx->js, "e1", "t"), a);
		assert_int_equal(jobs_requeue_running(fx->js, &err), 1);
		assert_int_equal(state_of(fx->js, a), JOB_QUEUED);
	}
	assert_int_equal(claim(fx->js, "e1", "t"), a);
	assert_int_equal(jobs_requeue_running(fx->js, &err), 1);
	get(fx->js, a, &j);
	assert_int_equal(j.state, JOB_FAILED);
	assert_int_equal(j.failure, JOB_FAIL_ENGINE_LOST);
	assert_non_null(strstr(j.message, "giving up"));
	job_free(&j);
	assert_int_equal(jobs_requeue_engine(fx->js, "bad/engine", &err), -1);
}

static void
test_rebuild_numbers(void **state)
{
	struct fixture *fx = *state;
	const char *targets[3] = { "py311", "py312", "musl" };
	struct catalog_file f;
	struct job_spec s;
	struct wwerr err;
	struct job j;
	int64_t ids[3];
	int b;

	assert_int_equal(jobs_next_build_number(fx->js, "Pkg", "1.0", &b, &err),
	    0);
	assert_int_equal(b, 1);
	/* A wheel in the catalog with build tag 3 (and one of another
	 * version with 9, which does not count). */
	memset(&f, 0, sizeof(f));
	f.project = "pkg";
	f.project_display = "Pkg";
	f.version = "1.0";
	f.filename = "pkg-1.0-3-cp311-cp311-manylinux_2_17_x86_64.whl";
	f.kind = 'w';
	f.python_tag = "cp311";
	f.abi_tag = "cp311";
	f.platform_tag = "manylinux_2_17_x86_64";
	f.build_tag = "3";
	memset(f.sha256, 'a', 64);
	f.origin = "test";
	if (catalog_add_file(fx->c, &f, &err) == -1)
		fail_msg("add: %s", err.msg);
	f.version = "2.0";
	f.filename = "pkg-2.0-9-cp311-cp311-manylinux_2_17_x86_64.whl";
	f.build_tag = "9";
	memset(f.sha256, 'b', 64);
	if (catalog_add_file(fx->c, &f, &err) == -1)
		fail_msg("add: %s", err.msg);
	assert_int_equal(jobs_next_build_number(fx->js, "pkg", "1.0", &b, &err),
	    0);
	assert_int_equal(b, 4);

	spec_init(&s, "pkg", "1.0", NULL);
	s.origin = "indexctl";
	s.priority = 10;
	assert_int_equal(jobs_enqueue_rebuild(fx->js, &s, targets, 3, ids, &b,
	    &err), 0);
	assert_int_equal(b, 4);
	get(fx->js, ids[2], &j);
	assert_int_equal(j.build_number, 4);
	assert_string_equal(j.target, "musl");
	assert_string_equal(j.origin, "indexctl");
	job_free(&j);
	/* Any spelling of the version counts. */
	assert_int_equal(jobs_next_build_number(fx->js, "pkg", "1.0.0", &b,
	    &err), 0);
	assert_int_equal(b, 5);
	/* The next rebuild goes above the jobs' numbers too. */
	assert_int_equal(jobs_enqueue_rebuild(fx->js, &s, targets, 1, ids, &b,
	    &err), 0);
	assert_int_equal(b, 5);
	assert_int_equal(jobs_next_build_number(fx->js, "pkg", "1.0", &b, &err),
	    0);
	assert_int_equal(b, 6);
	/* A bad target anywhere refuses the whole rebuild. */
	targets[1] = "no such";
	assert_int_equal(jobs_enqueue_rebuild(fx->js, &s, targets, 2, ids, &b,
	    &err), -1);
	assert_int_equal(jobs_next_build_number(fx->js, "pkg", "1.0", &b, &err),
	    0);
	assert_int_equal(b, 6);
}

static void
test_blocked(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	int64_t a, id = 0;

	assert_int_equal(jobs_release_blocked(fx->js, "p", "1.0", "t", &id,
	    &err), 0);
	a = enqueue(fx->js, "p", "1.0", "t", 0);
	assert_int_equal(jobs_release_blocked(fx->js, "p", "1.0", "t", &id,
	    &err), 1);
	assert_int_equal(id, a);
	assert_int_equal(jobs_release_blocked(fx->js, "p", "1.0", "u", &id,
	    &err), 0);
	/* Failed for a reason that says nothing about the package. */
	assert_int_equal(claim(fx->js, "e", "t"), a);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_UPSTREAM, "503", 0, 0, 0,
	    &err), JOB_FAILED);
	assert_int_equal(jobs_release_blocked(fx->js, "p", "1.0", "t", &id,
	    &err), 0);
	/* Failed building: blocked until someone rebuilds. */
	a = enqueue(fx->js, "p", "1.0", "t", 0);
	assert_int_equal(claim(fx->js, "e", "t"), a);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_BUILD_ERROR, "gcc", 1, 0,
	    0, &err), JOB_FAILED);
	assert_int_equal(jobs_release_blocked(fx->js, "p", "1.0", "t", &id,
	    &err), 1);
	assert_int_equal(id, a);
}

struct listing {
	int64_t	ids[32];
	int	n;
	int	stop_after;
};

static int
list_cb(const struct job *j, void *arg)
{
	struct listing *l = arg;

	l->ids[l->n++] = j->id;
	return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static void
test_list_counts_failures(void **state)
{
	struct fixture *fx = *state;
	struct jobs_count *counts;
	struct job_filter f;
	struct listing l;
	struct wwerr err;
	int64_t a, b, c, d;
	size_t n;

	a = enqueue(fx->js, "alpha", "1", "py311", 0);
	b = enqueue(fx->js, "beta", "1", "py311", 0);
	c = enqueue(fx->js, "alpha", "1", "musl", 0);
	d = enqueue(fx->js, "gamma", "1", "musl", 0);
	assert_int_equal(claim(fx->js, "e", "py311"), a);
	assert_int_equal(claim(fx->js, "e", "musl"), c);
	jobs_set_clock(fx->js, T0 + 10);
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_OOM, "oom", 137, 0, 0,
	    &err), JOB_FAILED);
	jobs_set_clock(fx->js, T0 + 20);
	assert_int_equal(jobs_fail(fx->js, c, JOB_FAIL_TIMEOUT, "t/o", 137, 0,
	    0, &err), JOB_FAILED);

	memset(&l, 0, sizeof(l));
	job_filter_init(&f);
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_true(l.ids[0] == a && l.ids[3] == d);
	memset(&l, 0, sizeof(l));
	f.project = "ALPHA";
	f.newest_first = 1;
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.ids[0] == c && l.ids[1] == a);
	memset(&l, 0, sizeof(l));
	job_filter_init(&f);
	f.state = JOB_QUEUED;
	f.target = "musl";
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ids[0], d);
	memset(&l, 0, sizeof(l));
	job_filter_init(&f);
	f.limit = 3;
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 3);
	/* A callback stops the walk and its value comes back. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	job_filter_init(&f);
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 7);
	job_filter_init(&f);
	f.project = "not a name!";
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), -1);

	assert_int_equal(jobs_counts(fx->js, &counts, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(counts[0].target, "musl");
	assert_int_equal(counts[0].n[JOB_FAILED], 1);
	assert_int_equal(counts[0].n[JOB_QUEUED], 1);
	assert_string_equal(counts[1].target, "py311");
	assert_int_equal(counts[1].n[JOB_FAILED], 1);
	assert_int_equal(counts[1].n[JOB_QUEUED], 1);
	assert_int_equal(counts[1].n[JOB_RUNNING], 0);
	free(counts);

	memset(&l, 0, sizeof(l));
	assert_int_equal(jobs_last_failures(fx->js, 10, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.ids[0] == c && l.ids[1] == a);
	memset(&l, 0, sizeof(l));
	assert_int_equal(jobs_last_failures(fx->js, 1, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 1);
	(void)b;
}

static void
test_inside_caller_transaction(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f, got;
	struct wwerr err;
	int64_t a;

	a = enqueue(fx->js, "tx", "1.0", "t", 0);
	assert_int_equal(claim(fx->js, "e", "t"), a);
	memset(&f, 0, sizeof(f));
	f.project = "tx";
	f.project_display = "tx";
	f.version = "1.0";
	f.filename = "tx-1.0-py3-none-any.whl";
	f.kind = 'w';
	f.python_tag = "py3";
	f.abi_tag = "none";
	f.platform_tag = "any";
	memset(f.sha256, 'c', 64);
	f.origin = "build:job-1";

	/* Ingest and finish together; a rollback undoes both. */
	assert_int_equal(catalog_begin(fx->c, &err), 0);
	assert_true(catalog_add_file(fx->c, &f, &err) >= 0);
	assert_int_equal(jobs_succeed(fx->js, a, f.filename, 0, &err), 0);
	catalog_rollback(fx->c);
	assert_int_equal(state_of(fx->js, a), JOB_RUNNING);
	assert_int_equal(catalog_get_file(fx->c, f.filename, &got, &err), 1);

	assert_int_equal(catalog_begin(fx->c, &err), 0);
	assert_true(catalog_add_file(fx->c, &f, &err) >= 0);
	assert_int_equal(jobs_succeed(fx->js, a, f.filename, 0, &err), 0);
	/* A failing step inside rolls back only its savepoint. */
	assert_int_equal(jobs_fail(fx->js, a, JOB_FAIL_TIMEOUT, NULL, 0, 1, 1,
	    &err), -1);
	assert_int_equal(catalog_commit(fx->c, &err), 0);
	assert_int_equal(state_of(fx->js, a), JOB_SUCCEEDED);
	assert_int_equal(catalog_get_file(fx->c, f.filename, &got, &err), 0);
	catalog_file_free(&got);
}

/*
 * Two processes, each with its own connection, claim from one queue as
 * fast as they can. Every job must be claimed exactly once.
 */
#define RACE_JOBS	300

static void
claimer(const char *db, int fd, const char *engine)
{
	const char *targets[1] = { "t" };
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	struct job j;
	int rc;

	if (catalog_open(db, 0, &c, &err) == -1 ||
	    jobs_open(c, &js, &err) == -1) {
		fprintf(stderr, "%s: %s\n", engine, err.msg);
		_exit(2);
	}
	catalog_set_busy_timeout(c, 30000);
	while ((rc = jobs_claim(js, engine, targets, 1, NULL, &j, &err)) == 0) {
		if (write(fd, &j.id, sizeof(j.id)) != sizeof(j.id))
			_exit(3);
		if (jobs_succeed(js, j.id, "x-1-py3-none-any.whl", 0,
		    &err) == -1) {
			fprintf(stderr, "%s: %s\n", engine, err.msg);
			_exit(4);
		}
		job_free(&j);
	}
	if (rc == -1) {
		fprintf(stderr, "%s: %s\n", engine, err.msg);
		_exit(5);
	}
	jobs_close(js);
	catalog_close(c);
	_exit(0);
}

static void
test_claim_race_two_processes(void **state)
{
	struct fixture *fx = *state;
	static unsigned char seen[RACE_JOBS + 1];
	struct job_filter f;
	struct listing l;
	struct wwerr err;
	char name[32];
	int64_t id, first = 0;
	pid_t pid[2];
	int fds[2][2], i, st, total = 0, per[2] = { 0, 0 };

	jobs_set_clock(fx->js, 0);
	for (i = 0; i < RACE_JOBS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		id = enqueue(fx->js, name, "1", "t", 0);
		if (first == 0)
			first = id;
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(fds[i][0]);
			claimer(fx->db, fds[i][1], i ? "e2" : "e1");
		}
		close(fds[i][1]);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 2; i++) {
		while (read(fds[i][0], &id, sizeof(id)) == sizeof(id)) {
			assert_true(id >= first && id < first + RACE_JOBS);
			assert_int_equal(seen[id - first], 0);
			seen[id - first] = 1;
			total++;
			per[i]++;
		}
		close(fds[i][0]);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(total, RACE_JOBS);
	/* Nothing left queued or running. */
	memset(&l, 0, sizeof(l));
	job_filter_init(&f);
	f.state = JOB_QUEUED;
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	f.state = JOB_RUNNING;
	assert_int_equal(jobs_foreach(fx->js, &f, list_cb, &l, &err), 0);
	assert_int_equal(l.n, 0);
	fprintf(stderr, "claims: e1 %d, e2 %d\n", per[0], per[1]);
}

static void
test_names(void **state)
{
	enum job_state s;
	enum job_failure f;
	int i;

	(void)state;
	for (i = 0; i < JOB__NSTATES; i++) {
		assert_int_equal(job_state_parse(job_state_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	for (i = 1; i < JOB__NFAILURES; i++) {
		assert_int_equal(job_failure_parse(job_failure_name(i), &f), 0);
		assert_int_equal(f, i);
	}
	assert_string_equal(job_failure_name(JOB_FAIL_MISSING_DEP),
	    "missing_build_dep");
	assert_null(job_state_name(JOB__NSTATES));
	assert_int_equal(job_state_parse("done", &s), -1);
	assert_int_equal(job_failure_parse(NULL, &f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_migration_and_readonly,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_dedupe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_and_targets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_succeed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_and_retries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_requested_listing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_numbers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_counts_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inside_caller_transaction,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race_two_processes,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
