/*
 * deps.h: hermetic build dependencies. Builds get their build
 * dependencies only from our own catalog (its files directory is mounted
 * read-only as pip's --find-links). When pip reports one missing, builderd
 * provides it before the build is retried: a wheel from upstream that
 * installs on the target (verified and ingested like any other file), or
 * else a build of its sdist, queued ahead of the job that needs it.
 */
#ifndef WW_DEPS_H
#define WW_DEPS_H

#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

struct catalog;
struct config;
struct config_target;
struct jobs;
struct job;
struct store;
struct upstream_set;

/*
 * Find pip's "No matching distribution found for REQ" in a build log; the
 * last one wins (the innermost pip prints it last). 1 and REQ copied, 0
 * if absent.
 */
int	 deps_parse_missing(const char *log, size_t len, char *req,
	    size_t reqlen);

enum deps_action {
	DEPS_FETCHED = 0,	/* a wheel from upstream is now in the catalog */
	DEPS_PRESENT,		/* the catalog already has one that fits */
	DEPS_ENQUEUED,		/* no wheel upstream: a build of it is queued */
	DEPS_UNAVAILABLE,	/* no upstream has it at all */
};

/* The platform the dependency must install on. */
struct deps_target {
	const struct config_target *target;	/* python, policy, arch */
	int	libc_major, libc_minor;		/* glibc 2.36, musl 1.2; 0 0:
						   assume the oldest */
};

struct deps_ctx {
	const struct config	*cfg;
	struct store		*store;
	struct catalog		*catalog;
	struct jobs		*jobs;
	struct upstream_set	*upstreams;	/* NULL: none configured */
};

/*
 * Provide the build dependency reqtext (PEP 508) for job's target.
 * msg gets one sentence saying what was done (for the job's message and
 * log). Returns an enum deps_action, or -1 (err) when an upstream or the
 * catalog failed; -1 with err->code DEPS_E_UNREACHABLE means an upstream
 * could not be reached.
 */
enum deps_err {
	DEPS_E_ARG = 1,		/* reqtext is not a requirement */
	DEPS_E_UNREACHABLE,	/* upstream failed */
	DEPS_E_VERIFY,		/* the upstream wheel was refused */
	DEPS_E_DB,		/* catalog or job store */
	DEPS_E_IO,
};
int	 deps_provide(const struct deps_ctx *ctx, const struct deps_target *dt,
	    const struct job *job, const char *reqtext, char *msg,
	    size_t msglen, struct wwerr *err);

#endif
