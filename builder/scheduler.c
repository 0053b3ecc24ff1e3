/*
 * scheduler.c: builderd's daemon loop (see scheduler.h).
 *
 * One process owns the job store's dispatching; each running job is a
 * forked worker (build_run) with its own SQLite connection, engine and
 * upstream handles. Workers die with the daemon (PR_SET_PDEATHSIG), so
 * after a SIGKILL of the daemon nothing keeps writing: the next start
 * finds their containers by label, removes them and requeues the jobs.
 *
 * Signals are blocked in the daemon and taken synchronously with
 * sigtimedwait(), so there are no handlers and no races with the loop.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "catalog.h"
#include "config.h"
#include "engine.h"
#include "hash.h"
#include "jobs.h"
#include "log.h"
#include "policy.h"
#include "reconcile.h"
#include "requirement.h"
#include "scheduler.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

#define MAX_WORKERS		256
#define PING_BUSY_US		(5 * 1000000LL)	/* engines with jobs */
#define PING_IDLE_US		(15 * 1000000LL)
#define CANCEL_POLL_US		(2 * 1000000LL)
#define STOP_GRACE_US		(30 * 1000000LL)
#define BINFMT_DIR		"/proc/sys/fs/binfmt_misc"

/* Worker exit statuses (besides 0, BUILD_RECORDED). */
#define WEXIT_ENGINE_LOST	10
#define WEXIT_INTERRUPTED	11
#define WEXIT_FAILED		12

struct worker {
	pid_t		 pid;
	int64_t		 job;
	char		 engine[64];
	char		 workdir[PATH_MAX];
	int		 signalled;
};

struct eng {
	char		 name[64];
	char		 url[1024];
	struct engine	*client;	/* the daemon's: pings, clean-up */
	int		 up;
	int		 known;		/* answered at least once */
	char		 arch[32];	/* engine host arch (Go name) */
	int		 local;		/* unix:// socket: binfmt is ours */
	int		 lost;		/* requeue when its workers are gone */
	int		 needs_cleanup;	/* remove its orphans when back */
	int64_t		 next_ping_us;
	const char	*targets[CONFIG_MAX_LIST];	/* usable here */
	size_t		 ntargets;
	const char	*native[CONFIG_MAX_LIST];	/* of those, no QEMU */
	size_t		 nnative;
};

struct sched {
	struct config		*cfg;
	struct sched_opts	 opts;
	struct store		*store;
	struct catalog		*catalog;
	struct jobs		*jobs;
	struct policy_db	*policy;
	char			 instance[13];
	int			 lockfd;
	sigset_t		 sigs;
	struct eng		 engines[CONFIG_MAX_LIST];
	size_t			 nengines;
	size_t			 rr;		/* round-robin start */
	struct worker		 workers[MAX_WORKERS];
	size_t			 nworkers;
	int			 stopping;
	int64_t			 next_cancel_us;
	int64_t			 next_reconcile_us;
	char			 cachedir[PATH_MAX];
	pid_t			 reconciler;	/* its child, or 0 */
	int			 reconcile_passes; /* started so far */
};

/* ---- helpers ---- */

int
sched_instance_id(const char *datadir, char out[13], struct wwerr *err)
{
	char real[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	unsigned char d[HASH_SHA256_LEN];

	if (realpath(datadir, real) == NULL)
		return wwerr_set(err, SCHED_E_IO, "%s: %s", datadir,
		    strerror(errno));
	if (hash_sha256_mem(real, strlen(real), d) == -1)
		return wwerr_set(err, SCHED_E_IO, "sha256 failed");
	hash_hex(d, sizeof(d), hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
	return 0;
}

int
sched_binfmt_check(const char *binfmt_dir, const char *arch, char *why,
    size_t whylen)
{
	const char *q = build_qemu_name(arch);
	char path[PATH_MAX], line[64];
	struct stat st;
	FILE *f;

	if (q == NULL) {
		snprintf(why, whylen, "no QEMU handler is known for arch %s",
		    arch);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/register", binfmt_dir);
	if (stat(path, &st) == -1) {
		snprintf(why, whylen, "binfmt_misc is not mounted at %s, so "
		    "%s binaries cannot run under QEMU (run docker/binfmt.sh "
		    "%s as root)", binfmt_dir, arch, arch);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", binfmt_dir, q);
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "no binfmt_misc handler %s is registered "
		    "(%s missing), so %s builds cannot run under QEMU; "
		    "register it with docker/binfmt.sh %s (as root, needs "
		    "qemu-user-static)", q, path, arch, arch);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "enabled") != 0) {
		snprintf(why, whylen, "binfmt_misc handler %s is registered but "
		    "%s; enable it with: echo 1 > %s", q, line[0] ? line :
		    "not enabled", path);
		return -1;
	}
	return 0;
}

static const char *
host_arch(void)
{
	static struct utsname u;

	if (u.machine[0] == '\0' && uname(&u) == -1)
		return "x86_64";
	return u.machine;
}

static int
target_serves(const struct config_target *t, const char *engine)
{
	size_t i;

	if (t->nengines == 0)
		return 1;
	for (i = 0; i < t->nengines; i++)
		if (strcmp(t->engines[i], engine) == 0)
			return 1;
	return 0;
}

int
sched_check_config(const struct config *cfg)
{
	struct reqfile *rf;
	struct wwerr err;
	char why[512];
	size_t i, j;
	int problems = 0, foreign_local;

	if (cfg->nengines == 0) {
		log_warnx("%s: no [engine NAME] section: builds cannot run",
		    cfg->path);
		problems++;
	}
	if (cfg->ntargets == 0) {
		log_warnx("%s: no [target NAME] section: nothing to build for",
		    cfg->path);
		problems++;
	}
	for (i = 0; i < cfg->ntargets; i++) {
		const struct config_target *t = &cfg->targets[i];

		if (build_oci_platform(t->arch) == NULL) {
			log_warnx("[target %s]: arch \"%s\" is not one builderd "
			    "knows (x86_64, aarch64, armv7l, ppc64le, s390x, "
			    "riscv64, i686)", t->name, t->arch);
			problems++;
			continue;
		}
		foreign_local = 0;
		for (j = 0; j < cfg->nengines; j++)
			if (target_serves(t, cfg->engines[j].name) &&
			    strncmp(cfg->engines[j].url, "unix://", 7) == 0 &&
			    build_arch_foreign(t->arch, host_arch()))
				foreign_local = 1;
		if (foreign_local && sched_binfmt_check(BINFMT_DIR, t->arch,
		    why, sizeof(why)) == -1) {
			log_warnx("[target %s]: %s", t->name, why);
			problems++;
		}
	}
	for (i = 0; i < cfg->nrequirements; i++) {
		if (reqfile_load(cfg->requirements[i], &rf, &err) == -1) {
			log_warnx("[builderd] requirements: %s", err.msg);
			problems++;
			continue;
		}
		reqfile_free(rf);
	}
	return problems;
}

/* rm -rf of a directory tree we made (no symlinks are followed). */
static int
rmtree_at(int dfd, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rmtree_at(fd, de->d_name) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

static void
rmtree(const char *path)
{
	if (rmtree_at(AT_FDCWD, path) == -1 && errno != ENOENT)
		log_warn("%s: removing %s", __func__, path);
}

/* Work directories (build-*) and dependency downloads (dep-*) left in
 * DATA/tmp by a crash. Nothing else there is ours to remove. */
static void
clean_workdirs(struct sched *s)
{
	const char *tmp = store_tmpdir(s->store);
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(tmp)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "build-", 6) != 0 &&
		    strncmp(de->d_name, "dep-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, de->d_name);
		rmtree(path);
		n++;
	}
	closedir(d);
	if (n > 0)
		log_info("removed %d work director%s left by an earlier run",
		    n, n == 1 ? "y" : "ies");
}

/* ---- engines ---- */

static void
eng_close(struct eng *e)
{
	engine_close(e->client);
	e->client = NULL;
}

static int
eng_open(struct sched *s, struct eng *e, const struct config_engine *ce)
{
	struct engine_tls tls;
	struct wwerr err;

	memset(e, 0, sizeof(*e));
	util_strlcpy(e->name, ce->name, sizeof(e->name));
	util_strlcpy(e->url, ce->url, sizeof(e->url));
	e->local = strncmp(ce->url, "unix://", 7) == 0;
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = ce->tls_ca[0] ? ce->tls_ca : NULL;
	tls.cert_file = ce->tls_cert[0] ? ce->tls_cert : NULL;
	tls.key_file = ce->tls_key[0] ? ce->tls_key : NULL;
	if (engine_open(ce->url, &tls, &e->client, &err) == -1) {
		log_warnx("engine %s: %s", ce->name, err.msg);
		return -1;
	}
	/* The daemon's own requests must never hold up the loop long. */
	engine_set_timeouts(e->client, 3000, 10000);
	(void)s;
	return 0;
}

/* Which targets this engine can run now. */
static void
eng_targets(struct sched *s, struct eng *e)
{
	char why[512];
	size_t i;

	e->ntargets = e->nnative = 0;
	for (i = 0; i < s->cfg->ntargets; i++) {
		const struct config_target *t = &s->cfg->targets[i];

		if (!target_serves(t, e->name) ||
		    build_oci_platform(t->arch) == NULL)
			continue;
		if (e->local && build_arch_foreign(t->arch, e->arch[0] ?
		    e->arch : host_arch()) &&
		    sched_binfmt_check(BINFMT_DIR, t->arch, why,
		    sizeof(why)) == -1) {
			log_warnx("target %s on engine %s: %s; its jobs wait "
			    "until that is fixed (then send SIGHUP)", t->name,
			    e->name, why);
			continue;
		}
		e->targets[e->ntargets++] = t->name;
		if (!build_arch_foreign(t->arch, e->arch[0] ? e->arch :
		    host_arch()))
			e->native[e->nnative++] = t->name;
	}
}

/* Remove this data directory's containers on an engine: all of them
 * (start-up), or those of one engine label (it came back). */
static void
eng_remove_orphans(struct sched *s, struct eng *e, const char *only_engine)
{
	struct engine_container *list = NULL;
	struct wwerr err;
	char label[128];
	const char *v;
	size_t n = 0, i;
	int removed = 0;

	snprintf(label, sizeof(label), "%s=%s", BUILD_LABEL_BUILDER,
	    s->instance);
	if (engine_container_list(e->client, label, &list, &n, &err) == -1) {
		log_warnx("engine %s: listing containers: %s", e->name,
		    err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		v = engine_container_label(&list[i], BUILD_LABEL_ENGINE);
		if (only_engine != NULL && (v == NULL ||
		    strcmp(v, only_engine) != 0))
			continue;
		if (engine_container_remove(e->client, list[i].id, &err) == -1)
			log_warnx("engine %s: removing orphaned container "
			    "%.12s: %s", e->name, list[i].id, err.msg);
		else {
			removed++;
			log_info("engine %s: removed orphaned container %.12s "
			    "(job %s)", e->name, list[i].id,
			    (v = engine_container_label(&list[i],
			    BUILD_LABEL_JOB)) ? v : "?");
		}
	}
	engine_container_list_free(list, n);
	(void)removed;
}

static int
eng_ping(struct sched *s, struct eng *e)
{
	struct engine_version v;
	struct wwerr err;

	if (engine_version(e->client, &v, &err) == -1) {
		if (e->up || !e->known)
			log_warnx("engine %s does not answer: %s", e->name,
			    err.msg);
		e->known = 1;
		return -1;
	}
	if (!e->up)
		log_info("engine %s up: %s %s, API %s, %s/%s", e->name,
		    v.podman ? "podman" : "engine", v.version, v.api_version,
		    v.os, v.arch);
	e->known = 1;
	util_strlcpy(e->arch, v.arch, sizeof(e->arch));
	(void)s;
	return 0;
}

static size_t
eng_running(const struct sched *s, const char *engine)
{
	size_t i, n = 0;

	for (i = 0; i < s->nworkers; i++)
		if (strcmp(s->workers[i].engine, engine) == 0)
			n++;
	return n;
}

static struct eng *
eng_find(struct sched *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nengines; i++)
		if (strcmp(s->engines[i].name, name) == 0)
			return &s->engines[i];
	return NULL;
}

/* The engine stopped answering: stop its workers; requeue later. */
static void
eng_lost(struct sched *s, struct eng *e)
{
	size_t i;

	if (e->lost)
		return;
	log_warnx("engine %s lost: its running jobs go back to the queue for "
	    "the other engines", e->name);
	e->up = 0;
	e->lost = 1;
	e->needs_cleanup = 1;
	e->next_ping_us = util_now_us() + PING_IDLE_US;
	for (i = 0; i < s->nworkers; i++)
		if (strcmp(s->workers[i].engine, e->name) == 0 &&
		    !s->workers[i].signalled) {
			kill(s->workers[i].pid, SIGTERM);
			s->workers[i].signalled = 1;
		}
}

static void
engines_check(struct sched *s, int64_t now)
{
	struct wwerr err;
	size_t i;
	int n;

	for (i = 0; i < s->nengines; i++) {
		struct eng *e = &s->engines[i];

		/* A lost engine's jobs are requeued once no worker of it is
		 * left to finish them. */
		if (e->lost && eng_running(s, e->name) == 0) {
			if ((n = jobs_requeue_engine(s->jobs, e->name,
			    &err)) == -1)
				log_warnx("engine %s: requeue: %s", e->name,
				    err.msg);
			else {
				if (n > 0)
					log_info("engine %s: %d job%s requeued",
					    e->name, n, n == 1 ? "" : "s");
				e->lost = 0;
			}
		}
		if (now < e->next_ping_us || s->stopping)
			continue;
		if (eng_ping(s, e) == 0) {
			if (!e->up) {
				if (e->needs_cleanup)
					eng_remove_orphans(s, e, e->name);
				e->needs_cleanup = 0;
				e->up = 1;
				eng_targets(s, e);
			}
			e->next_ping_us = now + (eng_running(s, e->name) ?
			    PING_BUSY_US : PING_IDLE_US);
		} else {
			if (e->up && eng_running(s, e->name) > 0)
				eng_lost(s, e);
			e->up = 0;
			e->next_ping_us = now + PING_BUSY_US;
		}
	}
}

/* ---- workers ---- */

static volatile sig_atomic_t worker_stop;

static void
worker_sig(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* In the child: everything opened afresh; never returns. */
static void
worker_main(struct sched *s, const struct eng *e, const struct job *job,
    const char *workdir, pid_t parent)
{
	const struct config *cfg = s->cfg;
	const struct config_engine *ce = config_engine(cfg, e->name);
	const struct config_target *t = config_target(cfg, job->target);
	struct store *store = NULL;
	struct catalog *cat = NULL;
	struct jobs *js = NULL;
	struct engine *eng = NULL;
	struct upstream_set *ups = NULL;
	struct engine_tls tls;
	struct build_env env;
	struct sigaction sa;
	struct wwerr err;
	const char *labels[CONFIG_MAX_LIST + 1];
	sigset_t none;
	size_t i;
	int rc, code = WEXIT_FAILED;

	/* Die with the daemon: a worker must never outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(WEXIT_INTERRUPTED);
	close(s->lockfd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (ce == NULL || t == NULL) {
		log_warnx("job %lld: engine %s or target %s is no longer "
		    "configured", (long long)job->id, e->name, job->target);
		_exit(WEXIT_INTERRUPTED);
	}
	if (store_open(cfg->datadir, &store, &err) == -1 ||
	    catalog_open(store_catalog_path(store), 0, &cat, &err) == -1 ||
	    jobs_open(cat, &js, &err) == -1) {
		log_warnx("job %lld: %s", (long long)job->id, err.msg);
		goto out;
	}
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = ce->tls_ca[0] ? ce->tls_ca : NULL;
	tls.cert_file = ce->tls_cert[0] ? ce->tls_cert : NULL;
	tls.key_file = ce->tls_key[0] ? ce->tls_key : NULL;
	if (engine_open(ce->url, &tls, &eng, &err) == -1) {
		log_warnx("job %lld: %s", (long long)job->id, err.msg);
		goto out;
	}
	engine_set_cancel(eng, &worker_stop);
	if (cfg->nupstreams > 0 &&
	    upstream_set_open(cfg, s->cachedir, &ups, &err) == -1) {
		log_warnx("job %lld: %s", (long long)job->id, err.msg);
		goto out;
	}
	for (i = 0; i < cfg->ncontainer_labels; i++)
		labels[i] = cfg->container_labels[i];
	labels[i] = NULL;

	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.target = t;
	env.engine_name = e->name;
	env.engine = eng;
	env.platform = build_arch_foreign(t->arch, e->arch[0] ? e->arch :
	    host_arch()) ? build_oci_platform(t->arch) : NULL;
	env.store = store;
	env.catalog = cat;
	env.jobs = js;
	env.upstreams = ups;
	env.policy = s->policy;
	env.instance = s->instance;
	env.workdir = workdir;
	env.cancel = &worker_stop;
	env.extra_labels = labels;
	rc = build_run(&env, job, &err);
	if (rc == -1)
		log_warnx("job %lld: %s", (long long)job->id, err.msg);
	code = rc == BUILD_RECORDED ? 0 : rc == BUILD_ENGINE_LOST ?
	    WEXIT_ENGINE_LOST : rc == BUILD_INTERRUPTED ? WEXIT_INTERRUPTED :
	    WEXIT_FAILED;
out:
	upstream_set_close(ups);
	engine_close(eng);
	jobs_close(js);
	catalog_close(cat);
	store_close(store);
	/* exit(), not _exit(): sanitizer builds check the worker for leaks. */
	exit(code);
}

static int
spawn(struct sched *s, struct eng *e, struct job *job)
{
	struct worker *w;
	struct wwerr err;
	pid_t pid, parent = getpid();

	if (s->nworkers == MAX_WORKERS)
		return -1;
	w = &s->workers[s->nworkers];
	memset(w, 0, sizeof(*w));
	w->job = job->id;
	util_strlcpy(w->engine, e->name, sizeof(w->engine));
	snprintf(w->workdir, sizeof(w->workdir), "%s/build-%lld.%d",
	    store_tmpdir(s->store), (long long)job->id, job->attempts);
	rmtree(w->workdir);
	if (mkdir(w->workdir, 0700) == -1) {
		log_warn("%s: %s", __func__, w->workdir);
		goto fail;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", __func__);
		rmtree(w->workdir);
		goto fail;
	}
	if (pid == 0)
		worker_main(s, e, job, w->workdir, parent);
	w->pid = pid;
	s->nworkers++;
	log_info("job %lld: %s %s for %s on engine %s (attempt %d, worker "
	    "%ld)", (long long)job->id, job->project, job->version,
	    job->target, e->name, job->attempts, (long)pid);
	return 0;
fail:
	if (jobs_fail(s->jobs, job->id, JOB_FAIL_ENGINE_LOST,
	    "builderd could not start a worker", JOB_NO_EXIT, 1,
	    s->cfg->backoff_base, &err) == -1)
		log_warnx("job %lld: %s", (long long)job->id, err.msg);
	return -1;
}

/* A worker ended: make sure its job is not left running for nothing. */
static void
worker_done(struct sched *s, struct worker *w, int status)
{
	struct eng *e = eng_find(s, w->engine);
	struct wwerr err;
	struct job j;
	char why[128];
	int code = -1;

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	if (code == 0 || (code == WEXIT_INTERRUPTED && (s->stopping ||
	    (e != NULL && e->lost))))
		goto out;
	if (code == WEXIT_ENGINE_LOST) {
		if (e != NULL)
			eng_lost(s, e);
		goto out;
	}
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the build worker was killed by "
		    "signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "the build worker failed (exit %d; "
		    "see builderd's log)", code);
	memset(&j, 0, sizeof(j));
	if (jobs_get(s->jobs, w->job, &j, &err) == 0) {
		if (j.state == JOB_RUNNING) {
			log_warnx("job %lld: %s", (long long)w->job, why);
			if (e != NULL && e->up && j.container_id != NULL)
				engine_container_remove(e->client,
				    j.container_id, NULL);
			if (jobs_fail(s->jobs, w->job, code == WEXIT_INTERRUPTED ?
			    JOB_FAIL_ENGINE_LOST : JOB_FAIL_BUILD_ERROR, why,
			    JOB_NO_EXIT, 1, s->cfg->backoff_base, &err) == -1)
				log_warnx("job %lld: %s", (long long)w->job,
				    err.msg);
		}
		job_free(&j);
	}
out:
	rmtree(w->workdir);
}

static void
reap(struct sched *s)
{
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->reconciler) {
			s->reconciler = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				log_warnx("reconcile pass failed (see above)");
			continue;
		}
		for (i = 0; i < s->nworkers; i++)
			if (s->workers[i].pid == pid)
				break;
		if (i == s->nworkers)
			continue;
		worker_done(s, &s->workers[i], status);
		s->workers[i] = s->workers[--s->nworkers];
	}
}

/* Running jobs whose cancel was requested: stop their workers. */
static int
cancel_cb(const struct job *j, void *arg)
{
	struct sched *s = arg;
	size_t i;

	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i].job == j->id && !s->workers[i].signalled) {
			log_info("job %lld: cancel requested", (long long)j->id);
			kill(s->workers[i].pid, SIGTERM);
			s->workers[i].signalled = 1;
		}
	return 0;
}

static void
check_cancels(struct sched *s)
{
	struct job_filter f;
	struct wwerr err;

	if (s->nworkers == 0)
		return;
	job_filter_init(&f);
	f.state = JOB_RUNNING;
	f.cancel_requested = 1;
	if (jobs_foreach(s->jobs, &f, cancel_cb, s, &err) == -1)
		log_warnx("cancel check: %s", err.msg);
}

/* Claim due jobs, one per engine per round, so work spreads. */
static void
dispatch(struct sched *s)
{
	struct wwerr err;
	struct job job;
	size_t k, limit;
	int any, rc;

	if (s->stopping)
		return;
	do {
		any = 0;
		for (k = 0; k < s->nengines; k++) {
			struct eng *e = &s->engines[(s->rr + k) %
			    s->nengines];
			const struct config_engine *ce =
			    config_engine(s->cfg, e->name);

			if (!e->up || e->lost || e->ntargets == 0 || ce == NULL)
				continue;
			limit = (size_t)ce->jobs;
			if (eng_running(s, e->name) >= limit ||
			    s->nworkers >= MAX_WORKERS)
				continue;
			/*
			 * Native targets first: their builds are many times
			 * faster than QEMU's, and a pure wheel they make
			 * spares the foreign targets that build altogether.
			 */
			memset(&job, 0, sizeof(job));
			rc = 1;
			if (e->nnative > 0)
				rc = jobs_claim(s->jobs, e->name, e->native,
				    e->nnative, s->cfg->logdir, &job, &err);
			if (rc == 1 && e->ntargets > e->nnative)
				rc = jobs_claim(s->jobs, e->name, e->targets,
				    e->ntargets, s->cfg->logdir, &job, &err);
			if (rc == -1) {
				log_warnx("claim on engine %s: %s", e->name,
				    err.msg);
				continue;
			}
			if (rc == 1)
				continue;
			any = 1;
			spawn(s, e, &job);
			job_free(&job);
		}
		s->rr++;
	} while (any);
}

/* ---- reconcile ---- */

static void
reconcile_log(const struct reconcile_item *it, void *arg)
{
	(void)arg;
	switch (it->action) {
	case RECON_ENQUEUED:
		log_info("reconcile: %s %s for %s: job %lld", it->project,
		    it->version ? it->version : "?", it->target,
		    (long long)it->job_id);
		break;
	case RECON_NO_CANDIDATE:
	case RECON_NOT_FOUND:
	case RECON_UPSTREAM_ERROR:
	case RECON_UNSUPPORTED:
		log_warnx("reconcile: %s for %s (%s:%u): %s: %s", it->project,
		    it->target, it->file, it->line,
		    reconcile_action_name(it->action), it->detail);
		break;
	default:
		log_debug("reconcile: %s for %s: %s", it->project, it->target,
		    reconcile_action_name(it->action));
	}
}

/* In the child: one pass over the requirement list; never returns. */
static void
reconcile_main(struct sched *s, pid_t parent)
{
	const struct config *cfg = s->cfg;
	struct reqfile *rfs[CONFIG_MAX_LIST];
	struct store *store = NULL;
	struct catalog *cat = NULL;
	struct jobs *js = NULL;
	struct upstream_set *ups = NULL;
	struct reconcile_stats st;
	struct reconcile_opts ro;
	struct wwerr err;
	sigset_t none;
	size_t i, nrf = 0;
	int code = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	close(s->lockfd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < cfg->nrequirements; i++) {
		if (reqfile_load(cfg->requirements[i], &rfs[nrf], &err) == -1) {
			log_warnx("reconcile: %s", err.msg);
			goto out;
		}
		nrf++;
	}
	if (store_open(cfg->datadir, &store, &err) == -1 ||
	    catalog_open(store_catalog_path(store), 0, &cat, &err) == -1 ||
	    jobs_open(cat, &js, &err) == -1 ||
	    (cfg->nupstreams > 0 &&
	    upstream_set_open(cfg, s->cachedir, &ups, &err) == -1)) {
		log_warnx("reconcile: %s", err.msg);
		goto out;
	}
	memset(&ro, 0, sizeof(ro));
	if (reconcile_run(cfg, cat, js, ups,
	    (const struct reqfile *const *)rfs, nrf, &ro, reconcile_log, NULL,
	    &st, &err) == -1) {
		log_warnx("reconcile: %s", err.msg);
		goto out;
	}
	log_info("reconcile: %zu project%s x targets: %zu enqueued, %zu "
	    "satisfied, %zu with a job, %zu without a candidate, %zu upstream "
	    "errors in %.2f s", st.projects, st.projects == 1 ? "" : "s",
	    st.by_action[RECON_ENQUEUED], st.by_action[RECON_SATISFIED],
	    st.by_action[RECON_JOB_EXISTS],
	    st.by_action[RECON_NO_CANDIDATE] + st.by_action[RECON_NOT_FOUND],
	    st.by_action[RECON_UPSTREAM_ERROR], (double)st.elapsed_us / 1e6);
	code = 0;
out:
	for (i = 0; i < nrf; i++)
		reqfile_free(rfs[i]);
	upstream_set_close(ups);
	jobs_close(js);
	catalog_close(cat);
	store_close(store);
	/* exit(), not _exit(): sanitizer builds check the worker for leaks. */
	exit(code);
}

/*
 * Reconcile runs in a child of its own: it may wait on upstream indexes
 * for a long time, and the loop must keep dispatching meanwhile.
 */
static void
reconcile_start(struct sched *s)
{
	pid_t pid, parent = getpid();

	if (s->reconciler > 0 || s->cfg->nrequirements == 0 ||
	    (s->opts.once && s->reconcile_passes > 0))
		return;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", __func__);
		return;
	}
	if (pid == 0)
		reconcile_main(s, parent);
	s->reconciler = pid;
	s->reconcile_passes++;
}

/* ---- lifecycle ---- */

static int
idle(struct sched *s)
{
	struct jobs_count *c = NULL;
	struct wwerr err;
	size_t n = 0, i, k;
	int busy = 0;

	if (s->nworkers > 0 || s->reconciler > 0)
		return 0;
	if (jobs_counts(s->jobs, &c, &n, &err) == -1) {
		log_warnx("%s", err.msg);
		return 0;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < s->cfg->ntargets; k++)
			if (strcmp(c[i].target, s->cfg->targets[k].name) == 0 &&
			    (c[i].n[JOB_QUEUED] > 0 || c[i].n[JOB_RUNNING] > 0))
				busy = 1;
	free(c);
	return !busy;
}

static void
setup_engines(struct sched *s)
{
	size_t i;

	s->nengines = 0;
	for (i = 0; i < s->cfg->nengines; i++) {
		struct eng *e = &s->engines[s->nengines];

		if (eng_open(s, e, &s->cfg->engines[i]) == -1)
			continue;
		s->nengines++;
	}
}

static void
reload(struct sched *s)
{
	struct config *nc;
	struct wwerr err;
	struct eng old[CONFIG_MAX_LIST];
	size_t nold = s->nengines, i, k;

	if (config_load(s->opts.config_path, &nc, &err) == -1) {
		log_warnx("reload: %s; keeping the old configuration", err.msg);
		return;
	}
	if (strcmp(nc->datadir, s->cfg->datadir) != 0) {
		log_warnx("reload: datadir cannot change while running; "
		    "keeping %s", s->cfg->datadir);
		util_strlcpy(nc->datadir, s->cfg->datadir, sizeof(nc->datadir));
	}
	memcpy(old, s->engines, sizeof(old));
	config_free(s->cfg);
	s->cfg = nc;
	log_setverbose(nc->verbose);
	setup_engines(s);
	/* Keep what was known about engines that stay. */
	for (i = 0; i < s->nengines; i++)
		for (k = 0; k < nold; k++)
			if (strcmp(old[k].name, s->engines[i].name) == 0 &&
			    strcmp(old[k].url, s->engines[i].url) == 0) {
				s->engines[i].lost = old[k].lost;
				s->engines[i].needs_cleanup =
				    old[k].needs_cleanup;
				util_strlcpy(s->engines[i].arch, old[k].arch,
				    sizeof(s->engines[i].arch));
			}
	for (k = 0; k < nold; k++)
		eng_close(&old[k]);
	engines_check(s, util_now_us());
	for (i = 0; i < s->nengines; i++)
		eng_targets(s, &s->engines[i]);
	s->next_reconcile_us = 0;
	log_info("reloaded %s: %zu engine%s, %zu target%s", nc->path,
	    s->nengines, s->nengines == 1 ? "" : "s", nc->ntargets,
	    nc->ntargets == 1 ? "" : "s");
}

static void
stop_workers(struct sched *s)
{
	int64_t deadline = util_now_us() + STOP_GRACE_US;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	size_t i;

	if (s->reconciler > 0)
		kill(s->reconciler, SIGTERM);
	for (i = 0; i < s->nworkers; i++)
		if (!s->workers[i].signalled) {
			kill(s->workers[i].pid, SIGTERM);
			s->workers[i].signalled = 1;
		}
	while ((s->nworkers > 0 || s->reconciler > 0) &&
	    util_now_us() < deadline) {
		reap(s);
		if (s->nworkers > 0 || s->reconciler > 0)
			nanosleep(&ts, NULL);
	}
	for (i = 0; i < s->nworkers; i++)
		kill(s->workers[i].pid, SIGKILL);
	if (s->reconciler > 0)
		kill(s->reconciler, SIGKILL);
	while (s->nworkers > 0 || s->reconciler > 0) {
		reap(s);
		if (s->nworkers > 0 || s->reconciler > 0)
			nanosleep(&ts, NULL);
	}
}

int
sched_new(struct config *cfg, const struct sched_opts *opts,
    struct sched **out, struct wwerr *err)
{
	struct sched *s;
	char path[PATH_MAX];
	size_t i;
	int n;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		config_free(cfg);
		return wwerr_set(err, SCHED_E_IO, "out of memory");
	}
	s->cfg = cfg;
	s->opts = *opts;
	s->lockfd = -1;
	if (store_open(cfg->datadir, &s->store, err) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/builderd.lock", cfg->datadir);
	if ((s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		wwerr_set(err, SCHED_E_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		wwerr_set(err, SCHED_E_LOCKED, "%s: another builderd runs on "
		    "data directory %s", path, cfg->datadir);
		goto fail;
	}
	if (sched_instance_id(cfg->datadir, s->instance, err) == -1)
		goto fail;
	if (util_mkdirs(cfg->logdir, 0755) == -1) {
		wwerr_set(err, SCHED_E_IO, "%s: %s", cfg->logdir,
		    strerror(errno));
		goto fail;
	}
	snprintf(s->cachedir, sizeof(s->cachedir), "%s/cache/upstream",
	    cfg->datadir);
	if (catalog_open(store_catalog_path(s->store), 0, &s->catalog,
	    err) == -1 || jobs_open(s->catalog, &s->jobs, err) == -1) {
		err->code = SCHED_E_DB;
		goto fail;
	}
	if (policy_db_load(NULL, &s->policy, err) == -1) {
		err->code = SCHED_E_CONFIG;
		goto fail;
	}
	clean_workdirs(s);
	setup_engines(s);
	if (s->nengines == 0)
		log_warnx("no usable engine is configured: jobs stay queued");
	for (i = 0; i < s->nengines; i++) {
		struct eng *e = &s->engines[i];

		if (eng_ping(s, e) == 0) {
			e->up = 1;
			eng_remove_orphans(s, e, NULL);
		} else
			e->needs_cleanup = 1;
		e->next_ping_us = util_now_us() + PING_IDLE_US;
		eng_targets(s, e);
	}
	/* Every running job is an orphan of a builderd that died. */
	if ((n = jobs_requeue_running(s->jobs, err)) == -1) {
		err->code = SCHED_E_DB;
		goto fail;
	}
	if (n > 0)
		log_info("requeued %d job%s interrupted by an earlier run", n,
		    n == 1 ? "" : "s");
	log_info("builderd %s on %s: %zu engine%s, %zu target%s", s->instance,
	    cfg->datadir, s->nengines, s->nengines == 1 ? "" : "s",
	    cfg->ntargets, cfg->ntargets == 1 ? "" : "s");
	*out = s;
	return 0;
fail:
	sched_free(s);
	return -1;
}

int
sched_run(struct sched *s)
{
	struct timespec ts;
	siginfo_t si;
	int64_t now, next;
	int sig;

	sigemptyset(&s->sigs);
	sigaddset(&s->sigs, SIGTERM);
	sigaddset(&s->sigs, SIGINT);
	sigaddset(&s->sigs, SIGHUP);
	sigaddset(&s->sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s->sigs, NULL);

	for (;;) {
		reap(s);
		now = util_now_us();
		engines_check(s, now);
		if (now >= s->next_cancel_us) {
			check_cancels(s);
			s->next_cancel_us = now + CANCEL_POLL_US;
		}
		if (!s->opts.no_reconcile && now >= s->next_reconcile_us) {
			reconcile_start(s);
			s->next_reconcile_us = now +
			    (int64_t)s->cfg->reconcile_interval * 1000000;
		}
		dispatch(s);
		if (s->opts.once && idle(s)) {
			log_info("nothing queued or running: exiting");
			break;
		}
		/* Sleep until a signal or the next poll (claims are cheap;
		 * new jobs from indexd or indexctl show up within a second). */
		next = 1000000;
		ts.tv_sec = next / 1000000;
		ts.tv_nsec = (long)(next % 1000000) * 1000;
		sig = sigtimedwait(&s->sigs, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping; running jobs go back to the "
			    "queue", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (sig == SIGHUP)
			reload(s);
	}
	s->stopping = 1;
	stop_workers(s);
	{
		struct wwerr err;
		int n = jobs_requeue_running(s->jobs, &err);

		if (n == -1)
			log_warnx("%s", err.msg);
		else if (n > 0)
			log_info("requeued %d running job%s", n,
			    n == 1 ? "" : "s");
	}
	return 0;
}

void
sched_free(struct sched *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nengines; i++)
		eng_close(&s->engines[i]);
	policy_db_free(s->policy);
	jobs_close(s->jobs);
	catalog_close(s->catalog);
	store_close(s->store);
	if (s->lockfd != -1)
		close(s->lockfd);
	config_free(s->cfg);
	free(s);
}
