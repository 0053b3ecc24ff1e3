/*
 * reconcile.h: turns the requirement list into build jobs. For every
 * project in the requirements files and every configured target it
 * decides which release to build and enqueues a job unless one is not
 * needed:
 *   - the requirement's marker is false on the target: skip;
 *   - pinned (==V) and the catalog already has a wheel of V that installs
 *     on the target: done, without asking any upstream (this is what
 *     keeps a no-op pass over 1000 requirements x 4 targets far under a
 *     second);
 *   - otherwise ask the upstreams (cached, see upstream.h) for the newest
 *     release that matches every requirement line and constraint for the
 *     project, is not yanked (unless pinned exactly), is not a
 *     pre-release (unless a specifier names one or --pre), has a
 *     Requires-Python that admits the target's Python, and has an sdist
 *     or a wheel that installs on the target (and, with --hash, a file of
 *     one of those hashes);
 *   - the catalog has a wheel of that release that installs on the target
 *     (tags_rank: py3-none-any covers every target, abi3 later Pythons,
 *     manylinux_2_X every glibc >= 2.X): done;
 *   - a job for that release and target already exists (see
 *     jobs_release_blocked): done;
 *   - else enqueue.
 */
#ifndef WW_RECONCILE_H
#define WW_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "requirement.h"
#include "tags.h"
#include "wwerr.h"

struct catalog;
struct config;
struct config_target;
struct jobs;
struct upstream_set;

enum reconcile_err {
	RECONCILE_E_ARG = 1,	/* bad target configuration */
	RECONCILE_E_DB,		/* catalog or job store failed */
	RECONCILE_E_NOMEM,
};

/* What was decided for one project on one target. */
enum reconcile_action {
	RECON_SKIP_MARKER = 0,	/* the marker is false on this target */
	RECON_SATISFIED,	/* the catalog has an installable wheel */
	RECON_JOB_EXISTS,	/* a job already covers it */
	RECON_ENQUEUED,		/* a new job (or would be, in a dry run) */
	RECON_NO_CANDIDATE,	/* no release fits (detail says why) */
	RECON_NOT_FOUND,	/* no upstream has the project */
	RECON_UPSTREAM_ERROR,	/* the upstream failed (detail) */
	RECON_UNSUPPORTED,	/* "name @ url" requirements */
	RECON__NACTIONS
};

const char *reconcile_action_name(enum reconcile_action a);

struct reconcile_item {
	const char	*project;	/* normalized */
	const char	*requirement;	/* text of the (first) line */
	const char	*file;		/* where it came from */
	unsigned	 line;
	const char	*target;
	enum reconcile_action action;
	const char	*version;	/* chosen release, NULL if none */
	int64_t		 job_id;	/* job enqueued or found, else 0 */
	const char	*detail;	/* a sentence; never NULL */
};

typedef void (*reconcile_cb)(const struct reconcile_item *it, void *arg);

struct reconcile_opts {
	const char	*origin;	/* job origin; NULL: "reconcile" */
	int		 dry_run;	/* decide but enqueue nothing */
	int		 offline;	/* cached upstream pages only */
	int		 upstream_flags; /* extra UPSTREAM_* flags */
	int		 max_attempts;	/* 0: the config's */
	/* Only these targets (names); NULL: every configured target. */
	const char *const *targets;
	size_t		 ntargets;
};

struct reconcile_stats {
	size_t	projects;
	size_t	items;			/* projects x targets decided */
	size_t	by_action[RECON__NACTIONS];
	size_t	upstream_pages;		/* pages asked for (any source) */
	int64_t	elapsed_us;
};

/*
 * One pass over the requirements files rfs[0..nrf) (constraints in any
 * of them apply to requirements in all). cb (may be NULL) hears every
 * decision. Upstream trouble is per item (RECON_UPSTREAM_ERROR) and the
 * pass goes on; -1 only when the catalog or the job store fails or a
 * target is misconfigured.
 */
int	 reconcile_run(const struct config *conf, struct catalog *cat,
	    struct jobs *js, struct upstream_set *ups,
	    const struct reqfile *const *rfs, size_t nrf,
	    const struct reconcile_opts *opts, reconcile_cb cb, void *arg,
	    struct reconcile_stats *st, struct wwerr *err);

/*
 * The installation environment a target stands for: its CPython, its libc
 * (target "libc" key, else glibc 2.36 - Debian 12, the builder image - for
 * manylinux and musl 1.2 for musllinux) and its architecture.
 */
int	 reconcile_target_env(const struct config_target *t,
	    struct target_env *env, struct wwerr *err);

#endif
