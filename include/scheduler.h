/*
 * scheduler.h: builderd's daemon: the loop that reconciles the
 * requirement list into jobs, claims due jobs per engine within each
 * engine's job limit, runs each in a worker process of its own (build.h),
 * watches the engines (a lost engine's jobs are requeued on the others),
 * cancels jobs on request, and shuts down or reloads on signals.
 *
 * The daemon process never talks to an engine while holding a database
 * transaction, and never waits on a build: workers do the slow parts,
 * and SIGCHLD brings their ends back into the loop. A single builderd
 * runs per data directory (DATA/builderd.lock).
 */
#ifndef WW_SCHEDULER_H
#define WW_SCHEDULER_H

#include <stddef.h>

#include "wwerr.h"

struct config;
struct sched;

enum sched_err {
	SCHED_E_CONFIG = 1,	/* unusable configuration */
	SCHED_E_LOCKED,		/* another builderd runs on the data dir */
	SCHED_E_IO,
	SCHED_E_DB,
};

struct sched_opts {
	const char	*config_path;	/* for SIGHUP reloads */
	int		 once;		/* exit when nothing is queued/running */
	int		 no_reconcile;	/* only run jobs already queued */
};

/*
 * Check a configuration without touching engines or the catalog: targets,
 * their engines, the QEMU binfmt_misc handlers foreign targets on local
 * engines need, and the requirement files. Every problem is logged;
 * returns the number of problems (0: usable).
 */
int	 sched_check_config(const struct config *cfg);

/*
 * Start: lock and open the data directory, clean what a crash left
 * (work directories, orphaned containers found by label on every engine
 * that answers, running jobs requeued), check engines and binfmt. Takes
 * ownership of cfg.
 */
int	 sched_new(struct config *cfg, const struct sched_opts *opts,
	    struct sched **out, struct wwerr *err);
/* Run until SIGTERM/SIGINT (or, with opts.once, until idle). 0 or 1. */
int	 sched_run(struct sched *s);
void	 sched_free(struct sched *s);

/*
 * The label value that marks this data directory's containers: 12 hex
 * digits of the SHA-256 of its real path.
 */
int	 sched_instance_id(const char *datadir, char out[13],
	    struct wwerr *err);

/*
 * Check the binfmt_misc handler QEMU needs for arch on this host: 0 if
 * registered and enabled, else -1 with why filled in (which handler is
 * missing and how to register it). binfmt_dir is normally
 * /proc/sys/fs/binfmt_misc (a parameter for tests).
 */
int	 sched_binfmt_check(const char *binfmt_dir, const char *arch,
	    char *why, size_t whylen);

#endif
