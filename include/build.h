/*
 * build.h: builderd's build executor. build_run() takes one claimed job
 * to its end inside a worker process of its own: fetch and verify the
 * sdist, run `pip wheel` in a fresh container on one engine (no network
 * unless the target opts in, a non-root user, memory/CPU/pids limits, a
 * wall-clock deadline, the job id as a label, the output streamed to the
 * job's log file), then verify the wheel, check its ELF content against
 * the target's manylinux/musllinux policy, retag it (platform tag and the
 * job's build number) or, when it needs libraries outside the policy and
 * the target allows repair, bundle them (repair.h; the libraries are copied
 * out of the exited build container, repair_fetch.h), and ingest it and
 * finish the job in one catalog transaction. Every outcome is classified (enum job_failure) and written
 * to the job store, except the two that the dispatcher must handle: the
 * engine was lost, or the worker was told to stop.
 *
 * The pure helpers below (argv, classification, log parsing) are public
 * so that unit tests can check them without an engine.
 */
#ifndef WW_BUILD_H
#define WW_BUILD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "wwerr.h"

struct catalog;
struct config;
struct config_target;
struct engine;
struct engine_result;
struct jobs;
struct policy_db;
struct store;
struct upstream_set;

/* Labels on every build container (orphan clean-up finds them). */
#define BUILD_LABEL_JOB		"wheelwright.job"
#define BUILD_LABEL_ATTEMPT	"wheelwright.attempt"
#define BUILD_LABEL_BUILDER	"wheelwright.builder"
#define BUILD_LABEL_ENGINE	"wheelwright.engine"

/* Mount points inside the build container. */
#define BUILD_SRC_DIR		"/ww/src"
#define BUILD_OUT_DIR		"/ww/out"
#define BUILD_INDEX_DIR		"/ww/index"

/* The user builds run as when neither target nor image names one. */
#define BUILD_FALLBACK_USER	"65534:65534"

/* Most wheels one build may produce; more is a verification failure. */
#define BUILD_MAX_WHEELS	8

enum build_status {
	BUILD_RECORDED = 0,	/* the outcome is in the job store */
	BUILD_ENGINE_LOST,	/* engine unreachable mid-job: the job is left
				 * running for the dispatcher to requeue */
	BUILD_INTERRUPTED,	/* the cancel flag was raised: the container is
				 * gone; the job is cancelled if that was
				 * requested, else left running (shutdown) */
};

enum build_err {
	BUILD_E_ARG = 1,	/* bad environment or job */
	BUILD_E_IO,		/* local files (log, work directory) */
	BUILD_E_DB,		/* the job store failed */
};

struct build_env {
	const struct config		*cfg;
	const struct config_target	*target;
	const char			*engine_name;
	struct engine			*engine;
	const char			*platform;	/* "linux/arm64" or NULL */
	struct store			*store;
	struct catalog			*catalog;
	struct jobs			*jobs;
	struct upstream_set		*upstreams;	/* NULL: none */
	const struct policy_db		*policy;
	const char			*instance;	/* BUILD_LABEL_BUILDER */
	const char			*workdir;	/* private, exists */
	const volatile sig_atomic_t	*cancel;	/* may be NULL */
	const char *const		*extra_labels;	/* "k=v", NULL-ended */
};

/*
 * Run job (claimed: state running, log_path set) to its end. Returns an
 * enum build_status, or -1 when the job store itself failed (the job is
 * then left running; the dispatcher fails it).
 */
int	 build_run(const struct build_env *env, const struct job *job,
	    struct wwerr *err);

/*
 * The container's argv for building sdist (its basename under
 * BUILD_SRC_DIR): python_bin -c DRIVER pip-args... The driver prints
 * what the container is (Python version, glibc or musl version) before
 * it runs pip, so the log header tells builderd facts a build cannot
 * forge. network: 1 lets pip reach indexes besides the local one.
 * argv gets pointers to static strings and to python_bin/srcpath (which
 * must outlive it); returns the count, or -1 if max is too small.
 */
#define BUILD_ARGV_MAX		32
int	 build_argv(const char *python_bin, const char *srcpath, int network,
	    const char **argv, size_t max);

/* What the driver printed about the container. */
struct build_probe {
	int	py_major, py_minor;	/* -1 unknown */
	int	glibc_major, glibc_minor;
	int	musl_major, musl_minor;
};
/*
 * Parse the driver's lines from the start of the container's output
 * (only the lines before its "wheelwright: running pip" marker count, so
 * later output from the build cannot forge them).
 */
void	 build_probe_parse(const char *log, size_t len,
	    struct build_probe *out);

/*
 * Classify a finished container: timeout, oom, a missing build
 * dependency (pip's "No matching distribution found for X", X copied to
 * dep), else build_error; JOB_FAIL_NONE for exit status 0.
 */
enum job_failure build_classify(const struct engine_result *r,
	    const char *log, size_t len, char *dep, size_t deplen);

/*
 * Whether a failed attempt of class f (attempt number attempts, from 1) is
 * worth another attempt, after the backoff and within max_attempts:
 *  - upstream_unreachable, missing_build_dep, engine_lost: yes; the cause
 *    lies outside the package and may go away (an index back up, a
 *    dependency built meanwhile, another engine);
 *  - timeout, oom: once; a shared machine under load can make a build slow
 *    or hungry, but twice in a row it is the build;
 *  - build_error, verify_failed: no; the same sdist in the same image fails
 *    the same way (`indexctl rebuild` tries again once something changed).
 * An engine request that failed without the engine being lost is recorded
 * as build_error but retried: that is the executor's decision, not this
 * table's.
 */
int	 build_failure_retry(enum job_failure f, int attempts);

/* 1 if the target's arch differs from the engine's (QEMU needed). */
int	 build_arch_foreign(const char *target_arch, const char *engine_arch);
/* The OCI platform of an arch ("aarch64" -> "linux/arm64"), or NULL. */
const char *build_oci_platform(const char *arch);
/* The binfmt_misc entry QEMU registers for an arch ("qemu-aarch64"). */
const char *build_qemu_name(const char *arch);

#endif
