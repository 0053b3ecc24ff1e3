/*
 * jobs.h: the build-job store, SQLite tables in the catalog database
 * shared by builderd (reconcile, executor), indexd (POST /api/v1/jobs)
 * and indexctl (jobs, log, cancel, status, rebuild).
 *
 * A job is one build of project==version for one target. It moves
 *   queued -> running -> succeeded | failed | cancelled
 * and a failed attempt goes back to queued with an exponential backoff
 * until max_attempts is used up, if its caller asks for a retry (builderd
 * retries only failures that may pass: build.h, build_failure_retry). Every transition is one short
 * transaction (or a savepoint inside the caller's, so the executor can
 * record the wheel and finish the job atomically); nothing here does I/O
 * besides SQLite.
 *
 * The tables are this module's own migrations (catalog_migrate, module
 * "jobs"), run by jobs_open on a read-write catalog.
 */
#ifndef WW_JOBS_H
#define WW_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

struct catalog;
struct jobs;			/* opaque; one per catalog connection */

enum jobs_err {
	JOBS_OK = 0,
	JOBS_E_DB,		/* SQLite error (or catalog error) */
	JOBS_E_INVALID,		/* bad argument: name, version, target ... */
	JOBS_E_NOTFOUND,	/* no such job */
	JOBS_E_STATE,		/* the job is not in a state that allows it */
};

enum job_state {
	JOB_QUEUED = 0,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB__NSTATES
};

enum job_failure {
	JOB_FAIL_NONE = 0,
	JOB_FAIL_BUILD_ERROR,		/* the build exited non-zero */
	JOB_FAIL_TIMEOUT,		/* wall-clock limit; container killed */
	JOB_FAIL_OOM,			/* memory limit; OOM killer */
	JOB_FAIL_VERIFY,		/* wheel failed verification / policy */
	JOB_FAIL_UPSTREAM,		/* could not fetch the sdist */
	JOB_FAIL_MISSING_DEP,		/* a build dependency is not available */
	JOB_FAIL_ENGINE_LOST,		/* engine died or vanished mid-build */
	JOB__NFAILURES
};

/* "queued", ...; "build_error", ... (NULL for out-of-range values). */
const char *job_state_name(enum job_state s);
const char *job_failure_name(enum job_failure f);
/* 0 and *out, or -1 for an unknown name. */
int	 job_state_parse(const char *s, enum job_state *out);
int	 job_failure_parse(const char *s, enum job_failure *out);

#define JOB_ORIGIN_MAX		128

struct job {
	int64_t		 id;
	char		*project;	/* PEP 503 normalized */
	char		*requirement;	/* the requirement text it came from */
	char		*version;	/* PEP 440 normalized */
	char		*target;	/* [target NAME] */
	int		 build_number;	/* wheel build tag; 0 = none */
	enum job_state	 state;
	int		 priority;	/* higher runs first */
	int		 attempts;	/* attempts started so far */
	int		 max_attempts;
	int		 requeues;	/* crash / engine-lost requeues */
	int64_t		 next_attempt_us; /* not claimed before this */
	char		*engine;	/* NULL unless running or finished */
	char		*container_id;	/* NULL until the container exists */
	int		 cancel_requested;
	int64_t		 created_us, started_us, finished_us; /* 0 = not yet */
	int		 has_exit_status;
	int		 exit_status;
	enum job_failure failure;	/* last failure (kept over retries) */
	char		*message;	/* its message, NULL if none */
	char		*log_path;	/* current attempt's log, NULL if none */
	char		*wheel;		/* resulting wheel filename */
	char		*origin;	/* "reconcile", "rebuild", "api:NAME",
					   "indexctl" */
};

void	 job_free(struct job *j);	/* frees the members, not j */
/*
 * The job as a JSON object (jansson; NULL if out of memory) with the
 * fields every reader shows (`indexctl jobs --json`, GET /api/v1/jobs/ID):
 * names, state, attempts, times (ISO 8601, null if not yet), engine, exit
 * status, failure and message (scrubbed to UTF-8), wheel and origin.
 * Callers add their own (local paths, URLs).
 */
struct json_t;
struct json_t *job_json(const struct job *j);

/*
 * Open the job store on an open catalog (which must outlive it), running
 * the jobs migrations if needed. On a CATALOG_RDONLY catalog whose jobs
 * tables do not exist yet, the store is empty and writes fail.
 */
int	 jobs_open(struct catalog *c, struct jobs **out, struct wwerr *err);
void	 jobs_close(struct jobs *js);
/*
 * Tests: pretend the time is now_us (UTC microseconds) for every
 * timestamp and due check; 0 returns to the real clock.
 */
void	 jobs_set_clock(struct jobs *js, int64_t now_us);

struct job_spec {
	const char	*project;	/* any spelling; normalized here */
	const char	*requirement;	/* required (e.g. "numpy==1.26.4") */
	const char	*version;	/* PEP 440; normalized here */
	const char	*target;	/* target name */
	int		 build_number;	/* 0 = none */
	int		 max_attempts;	/* >= 1 */
	int		 priority;	/* 0 for reconcile; higher is sooner */
	const char	*origin;	/* see struct job */
};

/*
 * Enqueue a job. If a queued or running job already exists for the same
 * project, version, target and build number, its id is returned instead
 * and nothing changes. 0 new job, 1 existing job, -1 error.
 */
int	 jobs_enqueue(struct jobs *js, const struct job_spec *spec,
	    int64_t *id, struct wwerr *err);
/*
 * The build number a rebuild of project==version must use: one more than
 * the highest used so far for that release by any job (any target) or by
 * any wheel in the catalog, so the new wheel's filename never equals an
 * old one and pip prefers it. Taken over all targets because pure and
 * abi3 wheels built for different targets share filenames.
 */
int	 jobs_next_build_number(struct jobs *js, const char *project,
	    const char *version, int *out, struct wwerr *err);
/*
 * jobs_next_build_number + jobs_enqueue for each target in one
 * transaction, so every target of one rebuild gets the same build number
 * and two concurrent rebuilds cannot both take it. ids[i] gets the job of
 * targets[i]; *build the number used.
 */
int	 jobs_enqueue_rebuild(struct jobs *js, const struct job_spec *spec,
	    const char *const *targets, size_t ntargets, int64_t *ids,
	    int *build, struct wwerr *err);

/*
 * Atomically take the most urgent due queued job (highest priority, then
 * oldest next_attempt, then lowest id) whose target is one of targets[],
 * marking it running on engine with attempts + 1. If logdir is not NULL
 * the attempt's log path is set to LOGDIR/job-ID.ATTEMPT.log. Two
 * processes claiming at once never get the same job.
 * 0 and *out filled, 1 nothing due, -1 error.
 */
int	 jobs_claim(struct jobs *js, const char *engine,
	    const char *const *targets, size_t ntargets, const char *logdir,
	    struct job *out, struct wwerr *err);
/* Record the container of a running job (and a log path if not NULL). */
int	 jobs_set_container(struct jobs *js, int64_t id,
	    const char *container_id, const char *log_path, struct wwerr *err);

/*
 * A running job succeeded with wheel (its filename). 0 done; -1 with
 * JOBS_E_STATE if the job is not running (e.g. it was requeued after its
 * engine was declared lost): the caller must then not claim the result.
 */
int	 jobs_succeed(struct jobs *js, int64_t id, const char *wheel,
	    int exit_status, struct wwerr *err);

/* exit_status for jobs_fail when there is none (no container ran). */
#define JOB_NO_EXIT	(-1000)

/*
 * A running job's attempt failed. If retry is non-zero, attempts remain
 * and no cancel was requested, it goes back to queued with
 *   next_attempt = now + backoff_base_s * 2^(attempts - 1)
 * (capped at a day); otherwise it ends failed. A job whose cancel was
 * requested ends cancelled. Returns the state it ends in, -1 on error
 * (JOBS_E_STATE if not running).
 */
int	 jobs_fail(struct jobs *js, int64_t id, enum job_failure failure,
	    const char *message, int exit_status, int retry, int backoff_base_s,
	    struct wwerr *err);
/* The delay jobs_fail applies after attempt number attempts (>= 1). */
int64_t	 jobs_backoff_us(int attempts, int backoff_base_s);

/*
 * Cancel: a queued job is cancelled at once (0); for a running job a
 * cancel is requested (1) and the executor kills its container and calls
 * jobs_cancelled. A finished job is left alone (2). -1 error
 * (JOBS_E_NOTFOUND).
 */
int	 jobs_cancel(struct jobs *js, int64_t id, struct wwerr *err);
/* The executor stopped a running job whose cancel was requested. */
int	 jobs_cancelled(struct jobs *js, int64_t id, struct wwerr *err);

/*
 * Crash recovery (builderd start-up, after removing orphaned containers):
 * every running job goes back to queued, due at once. An interrupted
 * attempt does not count against max_attempts, but each job may be
 * requeued so at most JOBS_MAX_REQUEUES times; past that it fails with
 * engine_lost, so a build that crashes its builder cannot loop forever.
 * Jobs whose cancel was requested end cancelled. Returns how many jobs
 * were requeued (or ended), -1 on error.
 */
#define JOBS_MAX_REQUEUES	5
int	 jobs_requeue_running(struct jobs *js, struct wwerr *err);
/* The same for the running jobs of one engine (it was lost). */
int	 jobs_requeue_engine(struct jobs *js, const char *engine,
	    struct wwerr *err);

/* 0 found, 1 no such job, -1 error. */
int	 jobs_get(struct jobs *js, int64_t id, struct job *out,
	    struct wwerr *err);

struct job_filter {
	int		 state;		/* enum job_state, or -1 for any */
	const char	*project;	/* any spelling, or NULL */
	const char	*version;	/* or NULL */
	const char	*target;	/* or NULL */
	const char	*engine;	/* or NULL */
	int		 cancel_requested; /* 1: only those; 0: any */
	size_t		 limit;		/* 0: no limit */
	int		 newest_first;	/* order by id descending */
};
void	 job_filter_init(struct job_filter *f);	/* everything */

/* Callbacks return 0 to go on, non-zero to stop (returned as is). */
typedef int (*jobs_cb)(const struct job *j, void *arg);
int	 jobs_foreach(struct jobs *js, const struct job_filter *f, jobs_cb cb,
	    void *arg, struct wwerr *err);

/* Counts per target and state, targets in name order. */
struct jobs_count {
	char		 target[64];
	int64_t		 n[JOB__NSTATES];
};
int	 jobs_counts(struct jobs *js, struct jobs_count **out, size_t *n,
	    struct wwerr *err);

/* The most recently finished failed jobs, newest first. */
int	 jobs_last_failures(struct jobs *js, size_t limit, jobs_cb cb,
	    void *arg, struct wwerr *err);

/*
 * What reconcile needs to know about a release on one target: 1 if a job
 * exists that makes a new one pointless (queued, running or succeeded;
 * also failed or cancelled ones, except failures that say nothing about
 * the package: upstream_unreachable and engine_lost), 0 if not; -1 error.
 * A failed build is not retried by every reconcile pass; `indexctl
 * rebuild` retries it. project and version are normalized; *id (if not
 * NULL) gets the newest such job.
 */
int	 jobs_release_blocked(struct jobs *js, const char *project,
	    const char *version, const char *target, int64_t *id,
	    struct wwerr *err);

#endif
