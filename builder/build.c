/*
 * build.c: the build executor (see build.h). One call, one job, in a
 * worker process; everything it learns goes to the job's log file as
 * "wheelwright: ..." lines around the container's own output, so that
 * `indexctl log` tells the whole story of an attempt.
 *
 * Order matters for crash safety: the work directory is private to the
 * attempt (the dispatcher removes it, and start-up removes any left), the
 * container carries labels that find it after a crash, and the wheel is
 * ingested and the job finished in one catalog transaction, so a crash at
 * any point either leaves the job running (requeued at start-up) or
 * finished with its wheel recorded.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "catalog.h"
#include "config.h"
#include "deps.h"
#include "engine.h"
#include "ingest.h"
#include "jobs.h"
#include "log.h"
#include "policy.h"
#include "reconcile.h"
#include "repair.h"
#include "repair_fetch.h"
#include "retag.h"
#include "store.h"
#include "upstream.h"
#include "util.h"
#include "tags.h"
#include "verify.h"
#include "version.h"
#include "wheelname.h"

/* How much of the container's output is read back for classification. */
#define TAIL_MAX	(512 * 1024)
#define HEAD_MAX	(8 * 1024)
/* Missing build dependencies provided within one attempt. */
#define BUILD_DEP_ROUNDS	8
/* The container's log is cut beyond this (the rest is counted). */
#define LOG_MAX		(64ULL * 1024 * 1024)
/* A fixed timestamp makes wheel builds reproducible (zip member times),
 * so the same pure wheel built for two targets has the same bytes. */
#define BUILD_EPOCH	"SOURCE_DATE_EPOCH=1577836800"

/*
 * Runs inside the container as `python -c DRIVER pip-args...`. It prints
 * the facts builderd needs about the image before any build code runs,
 * then hands over to pip. Package names only ever reach it as argv.
 */
static const char driver[] =
    "import subprocess, sys\n"
    "def out(s):\n"
    "    sys.stdout.write('wheelwright: ' + s + '\\n')\n"
    "    sys.stdout.flush()\n"
    "out('python %d.%d.%d' % sys.version_info[:3])\n"
    "try:\n"
    "    from pip._vendor.packaging import _manylinux, _musllinux\n"
    "    g = _manylinux._get_glibc_version()\n"
    "    if g[0] > 0:\n"
    "        out('glibc %d.%d' % g)\n"
    "    m = _musllinux._get_musl_version(sys.executable)\n"
    "    if m:\n"
    "        out('musl %d.%d' % (m.major, m.minor))\n"
    "except Exception as e:\n"
    "    out('probe failed: %r' % (e,))\n"
    "out('running pip')\n"
    "sys.exit(subprocess.call([sys.executable, '-m', 'pip'] + sys.argv[1:]))\n";

#define DRIVER_MARK	"wheelwright: running pip"

int
build_argv(const char *python_bin, const char *srcpath, int network,
    const char **argv, size_t max)
{
	const char *fixed[] = {
		"wheel", "--no-deps", "--no-cache-dir", "--progress-bar", "off",
		"--disable-pip-version-check", "--no-input", "-v",
		"--find-links", BUILD_INDEX_DIR, "--wheel-dir", BUILD_OUT_DIR,
	};
	size_t n = 0, i;

	if (max < WW_ARRLEN(fixed) + 8)
		return -1;
	argv[n++] = python_bin;
	argv[n++] = "-c";
	argv[n++] = driver;
	for (i = 0; i < WW_ARRLEN(fixed); i++)
		argv[n++] = fixed[i];
	if (network) {
		/* Build dependencies may come from the network too; prefer
		 * wheels but allow sdists there. */
		argv[n++] = "--prefer-binary";
	} else {
		/*
		 * Only our catalog, and only its wheels: a build dependency
		 * that exists only as an sdist is built as a job of its own
		 * (verified, recorded) rather than inside this container.
		 * The sdist being built is a path, which --only-binary does
		 * not affect.
		 */
		argv[n++] = "--no-index";
		argv[n++] = "--only-binary";
		argv[n++] = ":all:";
	}
	argv[n++] = srcpath;
	argv[n] = NULL;
	return (int)n;
}

static int
parse_pair(const char *s, int *a, int *b)
{
	char *end;
	long x, y;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || end == s || *end != '.' || x < 0 || x > 1000)
		return -1;
	s = end + 1;
	y = strtol(s, &end, 10);
	if (errno || end == s || y < 0 || y > 1000)
		return -1;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

void
build_probe_parse(const char *log, size_t len, struct build_probe *out)
{
	const char *p = log, *end = log + len, *eol;
	char line[128];
	size_t n;

	out->py_major = out->py_minor = -1;
	out->glibc_major = out->glibc_minor = -1;
	out->musl_major = out->musl_minor = -1;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;	/* an unfinished line is not trusted */
		n = (size_t)(eol - p);
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			if (strcmp(line, DRIVER_MARK) == 0)
				return;
			if (strncmp(line, "wheelwright: python ", 20) == 0)
				parse_pair(line + 20, &out->py_major,
				    &out->py_minor);
			else if (strncmp(line, "wheelwright: glibc ", 19) == 0)
				parse_pair(line + 19, &out->glibc_major,
				    &out->glibc_minor);
			else if (strncmp(line, "wheelwright: musl ", 18) == 0)
				parse_pair(line + 18, &out->musl_major,
				    &out->musl_minor);
		}
		p = eol + 1;
	}
}

enum job_failure
build_classify(const struct engine_result *r, const char *log, size_t len,
    char *dep, size_t deplen)
{
	if (deplen > 0)
		dep[0] = '\0';
	if (r->timed_out)
		return JOB_FAIL_TIMEOUT;
	if (r->oom)
		return JOB_FAIL_OOM;
	if (r->state.exit_code == 0)
		return JOB_FAIL_NONE;
	if (log != NULL && deps_parse_missing(log, len, dep, deplen) == 1)
		return JOB_FAIL_MISSING_DEP;
	return JOB_FAIL_BUILD_ERROR;
}

static const struct {
	const char	*arch;		/* wheel / uname -m name */
	const char	*oci;		/* engine platform */
	const char	*goarch;	/* what engines report */
	const char	*qemu;		/* binfmt_misc entry */
} arches[] = {
	{ "x86_64", "linux/amd64", "amd64", "qemu-x86_64" },
	{ "aarch64", "linux/arm64", "arm64", "qemu-aarch64" },
	{ "armv7l", "linux/arm/v7", "arm", "qemu-arm" },
	{ "ppc64le", "linux/ppc64le", "ppc64le", "qemu-ppc64le" },
	{ "s390x", "linux/s390x", "s390x", "qemu-s390x" },
	{ "riscv64", "linux/riscv64", "riscv64", "qemu-riscv64" },
	{ "i686", "linux/386", "386", "qemu-i386" },
};

static int
arch_index(const char *a)
{
	size_t i;

	for (i = 0; i < WW_ARRLEN(arches); i++)
		if (strcmp(a, arches[i].arch) == 0 ||
		    strcmp(a, arches[i].goarch) == 0)
			return (int)i;
	return -1;
}

int
build_arch_foreign(const char *target_arch, const char *engine_arch)
{
	int a = arch_index(target_arch), b = arch_index(engine_arch);

	if (a == -1 || b == -1)
		return strcmp(target_arch, engine_arch) != 0;
	return a != b;
}

const char *
build_oci_platform(const char *arch)
{
	int i = arch_index(arch);

	return i == -1 ? NULL : arches[i].oci;
}

const char *
build_qemu_name(const char *arch)
{
	int i = arch_index(arch);

	return i == -1 ? NULL : arches[i].qemu;
}

/* ---- the run ---- */

struct run {
	const struct build_env	*env;
	const struct job	*job;
	int			 logfd;
	char			 srcdir[PATH_MAX];
	char			 outdir[PATH_MAX];
	char			 finaldir[PATH_MAX];
	char			 sdist[256];
	char			 cid[ENGINE_ID_MAX];
	int64_t			 t0;
	int64_t			 container_us;
	struct build_probe	 probe;
};

static void
logline(struct run *r, const char *fmt, ...) WW_PRINTF(2, 3);

static void
logline(struct run *r, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (r->logfd < 0)
		return;
	memcpy(line, "wheelwright: ", 13);
	va_start(ap, fmt);
	n = vsnprintf(line + 13, sizeof(line) - 14, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(r->logfd, line, (size_t)n) < 0)
		log_warn("%s: job %lld log", __func__, (long long)r->job->id);
}

int
build_failure_retry(enum job_failure f, int attempts)
{
	switch (f) {
	case JOB_FAIL_UPSTREAM:
	case JOB_FAIL_MISSING_DEP:
	case JOB_FAIL_ENGINE_LOST:
		return 1;
	case JOB_FAIL_TIMEOUT:
	case JOB_FAIL_OOM:
		return attempts < 2;
	default:
		return 0;
	}
}

/* Record a failed attempt; the job store applies retries and backoff. */
static int
vfail(struct run *r, enum job_failure f, int retry, int exit_status,
    int backoff, struct wwerr *err, const char *fmt, va_list ap)
{
	char msg[1024];
	int st;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	logline(r, "attempt %d failed (%s): %s", r->job->attempts,
	    job_failure_name(f), msg);
	st = jobs_fail(r->env->jobs, r->job->id, f, msg, exit_status, retry,
	    backoff, err);
	if (st == -1) {
		if (err->code == JOBS_E_STATE) {
			/* Requeued or finished meanwhile: not ours now. */
			logline(r, "job %lld is no longer running; outcome "
			    "discarded", (long long)r->job->id);
			return BUILD_RECORDED;
		}
		err->code = BUILD_E_DB;
		return -1;
	}
	if (st == JOB_FAILED && !retry &&
	    r->job->attempts < r->job->max_attempts)
		logline(r, "not retried: %s",
		    (f == JOB_FAIL_TIMEOUT || f == JOB_FAIL_OOM) ?
		    "it failed the same way twice" :
		    "the same build would fail the same way "
		    "(`indexctl rebuild` tries again)");
	logline(r, "job %lld is now %s", (long long)r->job->id,
	    job_state_name((enum job_state)st));
	log_info("job %lld (%s %s, %s) attempt %d: %s: %s; now %s",
	    (long long)r->job->id, r->job->project, r->job->version,
	    r->job->target, r->job->attempts, job_failure_name(f), msg,
	    job_state_name((enum job_state)st));
	return BUILD_RECORDED;
}

/* A failed attempt, retried or not as its class says. */
static int
fail(struct run *r, enum job_failure f, int exit_status, int backoff,
    struct wwerr *err, const char *fmt, ...) WW_PRINTF(6, 7);

static int
fail(struct run *r, enum job_failure f, int exit_status, int backoff,
    struct wwerr *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, f, build_failure_retry(f, r->job->attempts),
	    exit_status, backoff, err, fmt, ap);
	va_end(ap);
	return rc;
}

/* A failed attempt whose cause may pass (an engine request), retried
 * whatever its class. */
static int
fail_transient(struct run *r, enum job_failure f, int exit_status,
    int backoff, struct wwerr *err, const char *fmt, ...) WW_PRINTF(6, 7);

static int
fail_transient(struct run *r, enum job_failure f, int exit_status,
    int backoff, struct wwerr *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, f, 1, exit_status, backoff, err, fmt, ap);
	va_end(ap);
	return rc;
}

/* The cancel flag went up: clean up, then cancelled or left running. */
static int
interrupted(struct run *r, struct wwerr *err)
{
	struct job j;
	int rc;

	engine_set_cancel(r->env->engine, NULL);
	engine_set_timeouts(r->env->engine, 3000, 10000);
	if (r->cid[0] != '\0')
		engine_container_remove(r->env->engine, r->cid, NULL);
	r->cid[0] = '\0';
	memset(&j, 0, sizeof(j));
	rc = jobs_get(r->env->jobs, r->job->id, &j, err);
	if (rc == -1) {
		err->code = BUILD_E_DB;
		return -1;
	}
	if (rc == 0 && j.state == JOB_RUNNING && j.cancel_requested) {
		job_free(&j);
		logline(r, "cancelled");
		if (jobs_cancelled(r->env->jobs, r->job->id, err) == -1 &&
		    err->code != JOBS_E_STATE) {
			err->code = BUILD_E_DB;
			return -1;
		}
		return BUILD_RECORDED;
	}
	if (rc == 0)
		job_free(&j);
	logline(r, "interrupted (builderd is stopping); the job will run "
	    "again");
	return BUILD_INTERRUPTED;
}

static int
cancelled(const struct run *r)
{
	return r->env->cancel != NULL && *r->env->cancel;
}

/*
 * An engine call failed. Cancelled: interrupted. If the engine no longer
 * answers, it is lost (the job stays running for the dispatcher to
 * requeue elsewhere); else the request itself failed: a failed attempt.
 */
static int
engine_failed(struct run *r, const char *what, struct wwerr *eerr,
    struct wwerr *err)
{
	struct wwerr perr;

	if (eerr->code == ENGINE_E_CANCELLED || cancelled(r))
		return interrupted(r, err);
	if (eerr->code == ENGINE_E_CONNECT || eerr->code == ENGINE_E_TIMEOUT) {
		engine_set_timeouts(r->env->engine, 3000, 5000);
		if (engine_ping(r->env->engine, &perr) == -1) {
			logline(r, "engine %s lost during %s: %s",
			    r->env->engine_name, what, eerr->msg);
			log_warnx("job %lld: engine %s lost during %s: %s",
			    (long long)r->job->id, r->env->engine_name, what,
			    eerr->msg);
			return BUILD_ENGINE_LOST;
		}
	}
	return fail_transient(r, JOB_FAIL_BUILD_ERROR, JOB_NO_EXIT,
	    r->env->cfg->backoff_base, err, "engine %s: %s failed: %s",
	    r->env->engine_name, what, eerr->msg);
}

static int
mkdir_in(char *out, size_t outlen, const char *parent, const char *name,
    int mode)
{
	if ((size_t)snprintf(out, outlen, "%s/%s", parent, name) >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(out, (mode_t)mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* ---- already built? ---- */

struct have {
	const struct target_env	*env;
	const struct tagset	*supported;
	struct version		*want;
	char			 filename[256];
	char			 origin[128];
	int			 rank;
};

static int
have_cb(const struct catalog_file *f, void *arg)
{
	struct have *h = arg;
	struct version *v;
	int rank, same;

	if (f->kind != 'w' || f->yanked || f->python_tag == NULL ||
	    f->abi_tag == NULL || f->platform_tag == NULL ||
	    version_parse(f->version, &v) == -1)
		return 0;
	same = version_cmp(v, h->want) == 0;
	version_free(v);
	if (!same)
		return 0;
	rank = tags_rank(h->env, h->supported, f->python_tag, f->abi_tag,
	    f->platform_tag);
	if (rank >= 0 && (h->filename[0] == '\0' || rank < h->rank)) {
		h->rank = rank;
		util_strlcpy(h->filename, f->filename, sizeof(h->filename));
		util_strlcpy(h->origin, f->origin ? f->origin : "",
		    sizeof(h->origin));
	}
	return 0;
}

/*
 * A job queued while another target's build of the same release was
 * running may find its wheel made meanwhile: a pure (py3-none-any) or
 * abi3 wheel installs on this target too. Then there is nothing to build.
 * Rebuilds (a build number) always build. 1 done, 0 build it, -1 error.
 */
static int
already_built(struct run *r, struct wwerr *err)
{
	struct target_env env;
	struct tagset supported = { NULL, 0 };
	struct have h;
	struct wwerr terr;
	int ret = 0;

	if (r->job->build_number > 0 ||
	    reconcile_target_env(r->env->target, &env, &terr) == -1 ||
	    tags_supported(&env, &supported) == -1)
		return 0;
	memset(&h, 0, sizeof(h));
	h.env = &env;
	h.supported = &supported;
	if (version_parse(r->job->version, &h.want) == -1)
		goto out;
	if (catalog_foreach_file(r->env->catalog, r->job->project, have_cb,
	    &h, &terr) == -1 || h.filename[0] == '\0')
		goto out;
	logline(r, "%s (from %s) is already in the catalog and installs on "
	    "target %s: nothing to build", h.filename, h.origin,
	    r->env->target->name);
	if (jobs_succeed(r->env->jobs, r->job->id, h.filename, 0, err) == -1 &&
	    err->code != JOBS_E_STATE) {
		err->code = BUILD_E_DB;
		ret = -1;
		goto out;
	}
	log_info("job %lld (%s %s, %s): satisfied by %s", (long long)r->job->id,
	    r->job->project, r->job->version, r->job->target, h.filename);
	ret = 1;
out:
	version_free(h.want);
	tagset_free(&supported);
	return ret;
}

struct earlier {
	int64_t	 id;
	int64_t	 found;
};

static int
earlier_cb(const struct job *j, void *arg)
{
	struct earlier *e = arg;

	if (j->id < e->id) {
		e->found = j->id;
		return 1;
	}
	return 0;
}

/*
 * Wait while an earlier job of the same release runs for another target:
 * the wheel it makes may serve this target too (pure, abi3). Ordering by
 * job id means two jobs never wait for each other. 1 when the release
 * turned out built, 0 to build, -1 error or cancelled (ret set).
 */
static int
wait_for_sibling(struct run *r, int *ret, struct wwerr *err)
{
	struct job_filter f;
	struct earlier e;
	struct wwerr ferr;
	int64_t deadline = util_now_us() +
	    (int64_t)r->env->target->timeout * 1000000;
	int said = 0, rc;

	if (r->job->build_number > 0)
		return 0;
	for (;;) {
		if ((rc = already_built(r, err)) != 0) {
			*ret = rc == 1 ? BUILD_RECORDED : -1;
			return rc == 1 ? 1 : -1;
		}
		job_filter_init(&f);
		f.state = JOB_RUNNING;
		f.project = r->job->project;
		f.version = r->job->version;
		memset(&e, 0, sizeof(e));
		e.id = r->job->id;
		if (jobs_foreach(r->env->jobs, &f, earlier_cb, &e,
		    &ferr) == -1 || e.found == 0 || util_now_us() > deadline)
			return 0;
		if (!said)
			logline(r, "waiting for job %lld, which builds the same "
			    "release for another target", (long long)e.found);
		said = 1;
		if (cancelled(r)) {
			*ret = interrupted(r, err);
			return -1;
		}
		sleep(1);
	}
}

/* ---- the sdist ---- */

static int
sdist_pick(const struct upstream_page *page, const char *version)
{
	size_t i;
	int best = -1;

	for (i = 0; i < page->nfiles; i++) {
		const struct upstream_file *f = &page->files[i];
		size_t n = strlen(f->filename);

		if (f->kind != 's' || strcmp(f->version, version) != 0 ||
		    !store_name_ok(f->filename))
			continue;
		/* .tar.gz (PEP 625) over a legacy .zip. */
		if (best == -1 || (n > 7 &&
		    strcmp(f->filename + n - 7, ".tar.gz") == 0))
			best = (int)i;
	}
	return best;
}

static int
fetch_sdist(struct run *r, struct wwerr *err)
{
	const struct build_env *env = r->env;
	const struct job *job = r->job;
	struct upstream_page *page = NULL;
	struct upstream *from = NULL;
	struct verify_result *vr = NULL;
	struct wwerr uerr;
	char dest[PATH_MAX], sha[HASH_SHA256_HEXLEN];
	const struct upstream_file *f;
	int rc, i, ret = -1;

	if (env->upstreams == NULL)
		return fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT, 0, err,
		    "no upstream index is configured to fetch the sdist of "
		    "%s %s from", job->project, job->version);
	wwerr_clear(&uerr);
	rc = upstream_set_get_project(env->upstreams, job->project, 0, &page,
	    &from, &uerr);
	if (rc == -1)
		return fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "%s", uerr.msg);
	if (rc == 1)
		return fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "no upstream index has "
		    "project %s", job->project);
	if ((i = sdist_pick(page, job->version)) == -1) {
		ret = fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "upstream %s has no sdist of "
		    "%s %s", upstream_name(from), job->project, job->version);
		goto out;
	}
	f = &page->files[i];
	if ((size_t)snprintf(dest, sizeof(dest), "%s/%s", r->srcdir,
	    f->filename) >= sizeof(dest)) {
		ret = fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT, 0, err,
		    "sdist name %s too long", f->filename);
		goto out;
	}
	logline(r, "fetching %s from upstream %s", f->filename,
	    upstream_name(from));
	if (upstream_download(from, f, dest, env->cfg->limits.max_file_size,
	    sha, &uerr) == -1) {
		ret = fail(r, JOB_FAIL_UPSTREAM, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "%s", uerr.msg);
		goto out;
	}
	/* The sdist is hostile like everything else: its archive is checked
	 * before pip unpacks it, and it must be the release we build. */
	if (verify_file(dest, NULL, &env->cfg->limits, &vr, &uerr) == -1) {
		ret = fail(r, JOB_FAIL_VERIFY, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "sdist %s refused: %s",
		    f->filename, uerr.msg);
		goto out;
	}
	if (strcmp(vr->normalized, job->project) != 0 ||
	    strcmp(vr->version, job->version) != 0) {
		ret = fail(r, JOB_FAIL_VERIFY, JOB_NO_EXIT,
		    env->cfg->backoff_base, err, "sdist %s is %s %s, not %s %s",
		    f->filename, vr->normalized, vr->version, job->project,
		    job->version);
		goto out;
	}
	util_strlcpy(r->sdist, f->filename, sizeof(r->sdist));
	logline(r, "sdist %s: sha256 %s, %llu bytes", f->filename, sha,
	    (unsigned long long)vr->size);
	ret = 0;
out:
	verify_result_free(vr);
	upstream_page_free(page);
	return ret;
}

/* ---- the container ---- */

/* Who the build runs as, and what its output directory must allow. */
static int
choose_user(struct run *r, char *user, size_t userlen, int *use_home_tmp,
    struct wwerr *eerr)
{
	const struct config_target *t = r->env->target;
	struct engine_image img;
	uint64_t uid, gid;
	char *colon, tmp[64];

	*use_home_tmp = 0;
	user[0] = '\0';
	if (engine_image_inspect(r->env->engine, t->image, &img, eerr) == -1)
		return -1;
	if (t->user[0] != '\0')
		util_strlcpy(user, t->user, userlen);
	else if (img.user[0] != '\0' && strcmp(img.user, "root") != 0 &&
	    strcmp(img.user, "0") != 0 && strncmp(img.user, "0:", 2) != 0)
		util_strlcpy(user, img.user, userlen);
	else {
		/* The image would run builds as root: use nobody. */
		util_strlcpy(user, BUILD_FALLBACK_USER, userlen);
		*use_home_tmp = 1;
	}
	/* Give that user the output directory. */
	util_strlcpy(tmp, user, sizeof(tmp));
	gid = (uint64_t)-1;
	if ((colon = strchr(tmp, ':')) != NULL) {
		*colon++ = '\0';
		if (util_parse_u64(colon, 0x7fffffff, &gid) == -1)
			gid = (uint64_t)-1;
	}
	if (util_parse_u64(tmp, 0x7fffffff, &uid) == 0) {
		if (chown(r->outdir, (uid_t)uid, gid == (uint64_t)-1 ?
		    (gid_t)-1 : (gid_t)gid) == -1)
			chmod(r->outdir, 0777);
	} else
		chmod(r->outdir, 0777);	/* a user name: uid unknown here */
	return 0;
}

static int
run_container(struct run *r, int round, struct engine_result *res,
    struct wwerr *err)
{
	const struct build_env *env = r->env;
	const struct config_target *t = env->target;
	const struct job *job = r->job;
	const char *argv[BUILD_ARGV_MAX], *envv[8];
	char srcpath[512], cflags[600], ldflags[600], user[64], name[200];
	char jobid[32], attempt[16];
	struct engine_kv labels[4 + 16];
	char extra[16][256];
	struct engine_mount mounts[3];
	struct engine_waitopts wo;
	struct engine_spec spec;
	struct wwerr eerr;
	size_t nl = 0, ne = 0, i;
	int home_tmp;

	wwerr_clear(&eerr);
	if (choose_user(r, user, sizeof(user), &home_tmp, &eerr) == -1) {
		if (eerr.code == ENGINE_E_NOTFOUND)
			return fail_transient(r, JOB_FAIL_BUILD_ERROR,
			    JOB_NO_EXIT, env->cfg->backoff_base, err,
			    "image %s is not on "
			    "engine %s (docker/build-image.sh makes the "
			    "builder images)", t->image, env->engine_name);
		return engine_failed(r, "image inspect", &eerr, err);
	}
	snprintf(srcpath, sizeof(srcpath), "%s/%s", BUILD_SRC_DIR, r->sdist);
	if (build_argv(t->python_bin, srcpath, t->network, argv,
	    WW_ARRLEN(argv)) == -1) {
		wwerr_set(err, BUILD_E_ARG, "argv too long");
		return -1;
	}
	envv[ne++] = BUILD_EPOCH;
	envv[ne++] = "PYTHONDONTWRITEBYTECODE=1";
	if (t->cflags[0] != '\0') {
		snprintf(cflags, sizeof(cflags), "CFLAGS=%s", t->cflags);
		envv[ne++] = cflags;
	}
	if (t->ldflags[0] != '\0') {
		snprintf(ldflags, sizeof(ldflags), "LDFLAGS=%s", t->ldflags);
		envv[ne++] = ldflags;
	}
	if (home_tmp)
		envv[ne++] = "HOME=/tmp";
	envv[ne] = NULL;

	snprintf(jobid, sizeof(jobid), "%lld", (long long)job->id);
	snprintf(attempt, sizeof(attempt), "%d", job->attempts);
	labels[nl++] = (struct engine_kv){ BUILD_LABEL_JOB, jobid };
	labels[nl++] = (struct engine_kv){ BUILD_LABEL_ATTEMPT, attempt };
	labels[nl++] = (struct engine_kv){ BUILD_LABEL_BUILDER,
	    env->instance };
	labels[nl++] = (struct engine_kv){ BUILD_LABEL_ENGINE,
	    env->engine_name };
	/* Extra "k=v" labels are split in a copy. */
	for (i = 0; env->extra_labels && env->extra_labels[i] &&
	    i < WW_ARRLEN(extra); i++) {
		char *eq;

		util_strlcpy(extra[i], env->extra_labels[i], sizeof(extra[i]));
		if ((eq = strchr(extra[i], '=')) == NULL)
			continue;
		*eq = '\0';
		labels[nl++] = (struct engine_kv){ extra[i], eq + 1 };
	}

	mounts[0] = (struct engine_mount){ r->srcdir, BUILD_SRC_DIR, 1 };
	mounts[1] = (struct engine_mount){ r->outdir, BUILD_OUT_DIR, 0 };
	mounts[2] = (struct engine_mount){ store_filesdir(env->store),
	    BUILD_INDEX_DIR, 1 };

	/* Unique even when engines share a store and an orphan of an
	 * interrupted attempt still holds the same job and attempt. */
	snprintf(name, sizeof(name), "ww-%s-job%lld-%d-%ld-%d", env->instance,
	    (long long)job->id, job->attempts, (long)getpid(), round);
	memset(&spec, 0, sizeof(spec));
	spec.image = t->image;
	spec.argv = argv;
	spec.env = envv;
	spec.workdir = "/tmp";
	spec.user = user;
	spec.name = name;
	spec.labels = labels;
	spec.nlabels = nl;
	spec.mounts = mounts;
	spec.nmounts = 3;
	spec.network = t->network ? "bridge" : NULL;
	spec.memory = (int64_t)t->memory;
	spec.nano_cpus = (int64_t)(t->cpus * 1e9);
	spec.pids_limit = t->pids;
	spec.platform = env->platform;

	logline(r, "container %s: image %s%s%s, user %s, network %s, memory "
	    "%llu, cpus %.2f, pids %d, timeout %d s", name, t->image,
	    env->platform ? ", platform " : "",
	    env->platform ? env->platform : "", user,
	    t->network ? "bridge" : "none", (unsigned long long)t->memory,
	    t->cpus, t->pids, t->timeout);
	if (cancelled(r))
		return interrupted(r, err);
	if (engine_container_create(env->engine, &spec, r->cid, &eerr) == -1 &&
	    eerr.code == ENGINE_E_CONFLICT) {
		/* A container of an interrupted earlier run of this attempt. */
		engine_container_remove(env->engine, name, NULL);
		wwerr_clear(&eerr);
		engine_container_create(env->engine, &spec, r->cid, &eerr);
	}
	if (eerr.code != 0) {
		r->cid[0] = '\0';
		return engine_failed(r, "create", &eerr, err);
	}
	if (jobs_set_container(env->jobs, job->id, r->cid, NULL, err) == -1) {
		engine_container_remove(env->engine, r->cid, NULL);
		if (err->code == JOBS_E_STATE || err->code == JOBS_E_NOTFOUND)
			return BUILD_RECORDED;
		err->code = BUILD_E_DB;
		return -1;
	}
	if (engine_container_start(env->engine, r->cid, &eerr) == -1)
		return engine_failed(r, "start", &eerr, err);
	logline(r, "container %.12s started on engine %s", r->cid,
	    env->engine_name);

	memset(&wo, 0, sizeof(wo));
	wo.timeout_ms = (int64_t)t->timeout * 1000;
	wo.log_fd = r->logfd;
	wo.log_max = LOG_MAX;
	if (engine_container_wait(env->engine, r->cid, &wo, res, &eerr) == -1)
		return engine_failed(r, "wait", &eerr, err);
	if (res->state.started_us > 0 &&
	    res->state.finished_us >= res->state.started_us)
		r->container_us = res->state.finished_us -
		    res->state.started_us;
	else
		r->container_us = res->wall_us;
	/* The exited container stays until the wheel is checked (repair
	 * copies libraries out of it); remove_container() ends it. */
	return 0;
}

static void
remove_container(struct run *r)
{
	struct wwerr eerr;

	if (r->cid[0] == '\0')
		return;
	engine_set_cancel(r->env->engine, NULL);
	if (engine_container_remove(r->env->engine, r->cid, &eerr) == -1)
		log_warnx("job %lld: %s", (long long)r->job->id, eerr.msg);
	r->cid[0] = '\0';
}

/* Read back [off, off + n) of the log, at most max bytes (the tail). */
static char *
read_log(int fd, off_t from, off_t to, size_t max, int head, size_t *len)
{
	size_t n;
	off_t start;
	ssize_t got;
	char *buf;

	*len = 0;
	if (to <= from)
		n = 0;
	else
		n = (size_t)(to - from);
	if (n > max) {
		start = head ? from : to - (off_t)max;
		n = max;
	} else
		start = from;
	if ((buf = malloc(n + 1)) == NULL)
		return NULL;
	got = n > 0 ? pread(fd, buf, n, start) : 0;
	if (got < 0)
		got = 0;
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

/* ---- after the build ---- */

struct wheel {
	char	*path;		/* final path (retagged or as built) */
	char	 name[256];
	int	 pure;
	char	 tag[200];	/* platform tag set after the policy */
};

static void
wheels_free(struct wheel *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(w[i].path);
}

static int
wheel_name_ok(const char *n)
{
	size_t l = strlen(n);

	return l > 4 && strcmp(n + l - 4, ".whl") == 0 && store_name_ok(n);
}

/* "a, b, c" of a string vector, cut to fit. */
static void
join(char *out, size_t outlen, char *const *v, size_t n)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < n && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s",
		    i ? ", " : "", v[i]);
}

/*
 * Bundle the libraries a wheel needs from outside the target's policy
 * (repair.h): copy them, and theirs, out of the exited build container
 * (repair_fetch.h), then rewrite the wheel into finaldir with the policy
 * tag it now meets. The fetch and the repair are called apart (rather
 * than as repair_container()) so that an engine failure is told from a
 * library that cannot be bundled: the first is worth another attempt,
 * the second is not. 0 repaired (w filled), -1 it cannot be (why names
 * the library and the reason), -2 the engine failed (eerr).
 */
static int
repair(struct run *r, const char *path, const struct verify_result *vr,
    const struct policy_result *pr, enum policy_libc libc, int musl_minor,
    struct wheel *w, char *why, size_t whylen, struct wwerr *eerr)
{
	const struct build_env *env = r->env;
	const struct config_target *t = env->target;
	struct repair_target rt;
	struct repair_fetch_opts fo;
	struct repair_fetched *f = NULL;
	struct repair_opts ro;
	struct repair_result res;
	struct wwerr rerr;
	char build[32], names[512];
	const char *base;
	size_t i;
	int ret = -1;

	memset(&res, 0, sizeof(res));
	join(names, sizeof(names), pr->external_libs, pr->nexternal_libs);
	if (r->cid[0] == '\0') {
		snprintf(why, whylen, "%s needs %s, outside the %s policy, and "
		    "there is no build container to copy it from",
		    vr->filename, names, t->policy);
		return -1;
	}
	logline(r, "repair: %s needs %s, outside the %s policy; copying the "
	    "libraries out of build container %.12s", vr->filename, names,
	    t->policy, r->cid);
	memset(&rt, 0, sizeof(rt));
	rt.db = env->policy;
	rt.arch = t->arch;
	rt.libc = libc;
	rt.musl_minor = musl_minor;
	memset(&fo, 0, sizeof(fo));
	fo.python_bin = t->python_bin;
	fo.max_lib = env->cfg->limits.max_elf_size;
	fo.max_total = env->cfg->limits.max_total_size;
	wwerr_clear(&rerr);
	if (repair_fetch(env->engine, r->cid, &rt, vr->elfs, vr->nelfs, &fo,
	    &f, &rerr) == -1) {
		if (rerr.code < REPAIR_E_ARGS) {
			*eerr = rerr;
			return -2;
		}
		snprintf(why, whylen, "%s cannot be repaired: %s", vr->filename,
		    rerr.msg);
		return -1;
	}
	for (i = 0; i < f->nlibs; i++)
		logline(r, "repair: found %s at %s (%zu bytes)",
		    f->libs[i].soname, f->libs[i].origin ? f->libs[i].origin :
		    "?", f->libs[i].len);
	rt.interp_libs = (const char *const *)f->interp_libs;
	memset(&ro, 0, sizeof(ro));
	ro.target = &rt;
	ro.libs = f->libs;
	ro.nlibs = f->nlibs;
	if (r->job->build_number > 0) {
		snprintf(build, sizeof(build), "%d", r->job->build_number);
		ro.build = build;
	}
	if (repair_wheel(path, r->finaldir, &ro, &env->cfg->limits, &res,
	    &rerr) == -1) {
		snprintf(why, whylen, "%s cannot be repaired: %s%s%s%s",
		    vr->filename, rerr.msg, rerr.code == REPAIR_E_MISSING ?
		    " (searched " : "", rerr.code == REPAIR_E_MISSING ?
		    f->search : "", rerr.code == REPAIR_E_MISSING ? ")" : "");
		goto out;
	}
	for (i = 0; i < res.nbundled; i++)
		logline(r, "repair: bundled %s from %s as %s (sha256 %s)",
		    res.bundled[i].soname, res.bundled[i].origin ?
		    res.bundled[i].origin : "?", res.bundled[i].path,
		    res.bundled[i].sha256);
	for (i = 0; i < res.nedited; i++)
		logline(r, "repair: rewrote %s", res.edited[i]);
	w->path = res.path;
	res.path = NULL;
	base = strrchr(w->path, '/') ? strrchr(w->path, '/') + 1 : w->path;
	util_strlcpy(w->name, base, sizeof(w->name));
	util_strlcpy(w->tag, res.tag, sizeof(w->tag));
	logline(r, "repaired %s as %s", vr->filename, w->name);
	ret = 0;
out:
	repair_result_free(&res);
	repair_fetched_free(f);
	return ret;
}

/*
 * Verify, policy-check and retag (or repair) one wheel into finaldir.
 * 0 done, -1 the wheel is refused (why), -2 the engine failed (eerr).
 */
static int
check_wheel(struct run *r, const char *path, struct wheel *w,
    char *why, size_t whylen, struct wwerr *eerr)
{
	const struct build_env *env = r->env;
	const struct config_target *t = env->target;
	struct verify_result *vr = NULL;
	struct policy_result pr;
	struct retag_opts ro;
	struct wwerr verr;
	char platform[200], build[32], *newpath = NULL;
	enum policy_libc libc;
	int musl_minor, ret = -1;
	size_t i, off;

	memset(&pr, 0, sizeof(pr));
	wwerr_clear(&verr);
	if (verify_file(path, NULL, &env->cfg->limits, &vr, &verr) == -1) {
		snprintf(why, whylen, "%s", verr.msg);
		return -1;
	}
	if (strcmp(vr->normalized, r->job->project) != 0 ||
	    strcmp(vr->version, r->job->version) != 0) {
		snprintf(why, whylen, "%s is %s %s, not the %s %s being built",
		    vr->filename, vr->normalized, vr->version,
		    r->job->project, r->job->version);
		goto out;
	}
	platform[0] = '\0';
	w->pure = vr->nelfs == 0;
	if (vr->nelfs > 0) {
		libc = strcmp(t->policy, "musllinux") == 0 ? POLICY_LIBC_MUSL :
		    POLICY_LIBC_GLIBC;
		musl_minor = r->probe.musl_major == 1 ? r->probe.musl_minor :
		    -1;
		if (policy_evaluate_target(env->policy, vr->elfs, vr->nelfs,
		    t->arch, libc, musl_minor, &pr, &verr) == -1) {
			snprintf(why, whylen, "%s: policy: %s", vr->filename,
			    verr.msg);
			goto out;
		}
		for (i = 0; i < pr.nviolations; i++)
			logline(r, "policy: %s", pr.violations[i]);
		for (i = 0; i < pr.nlimits; i++)
			logline(r, "policy limit: %s", pr.limits[i]);
		if ((pr.nviolations > 0 || pr.tag[0] == '\0') &&
		    pr.nexternal_libs > 0 && t->repair &&
		    pr.repair_tag[0] != '\0') {
			ret = repair(r, path, vr, &pr, libc, musl_minor, w,
			    why, whylen, eerr);
			goto out;
		}
		if (pr.nviolations > 0 || pr.tag[0] == '\0') {
			off = (size_t)snprintf(why, whylen, "%s is outside the "
			    "%s policy for %s", vr->filename, t->policy,
			    t->arch);
			for (i = 0; i < pr.nviolations && off < whylen; i++)
				off += (size_t)snprintf(why + off, whylen - off,
				    "%s %s", i ? ";" : ":", pr.violations[i]);
			if (pr.nexternal_libs > 0 && off < whylen)
				snprintf(why + off, whylen - off, "%s",
				    !t->repair ? " (target has repair = no, so "
				    "they are not bundled)" : " (bundling the "
				    "libraries would not fix the rest)");
			goto out;
		}
		if (pr.legacy_tag[0] != '\0')
			snprintf(platform, sizeof(platform), "%s.%s", pr.tag,
			    pr.legacy_tag);
		else
			util_strlcpy(platform, pr.tag, sizeof(platform));
		logline(r, "policy: %s allows %s", vr->filename, platform);
	}
	memset(&ro, 0, sizeof(ro));
	if (platform[0] != '\0' && strcmp(platform, vr->platform_tag) != 0)
		ro.platform = platform;
	if (r->job->build_number > 0) {
		snprintf(build, sizeof(build), "%d", r->job->build_number);
		if (strcmp(build, vr->build_tag) != 0)
			ro.build = build;
	}
	if (ro.platform != NULL || ro.build != NULL) {
		if (retag_wheel(path, r->finaldir, &ro, &env->cfg->limits,
		    &newpath, &verr) == -1) {
			snprintf(why, whylen, "retagging %s: %s", vr->filename,
			    verr.msg);
			goto out;
		}
		w->path = newpath;
		logline(r, "retagged %s as %s", vr->filename,
		    strrchr(newpath, '/') ? strrchr(newpath, '/') + 1 :
		    newpath);
	} else if ((w->path = strdup(path)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	util_strlcpy(w->name, strrchr(w->path, '/') ? strrchr(w->path, '/') +
	    1 : w->path, sizeof(w->name));
	util_strlcpy(w->tag, platform[0] ? platform : vr->platform_tag,
	    sizeof(w->tag));
	ret = 0;
out:
	policy_result_free(&pr);
	verify_result_free(vr);
	return ret;
}

/*
 * The wheels pip left in the output directory (regular files only), each
 * checked. 0, -1 refused (why), -2 the engine failed (eerr).
 */
static int
collect(struct run *r, struct wheel *w, size_t *nw, char *why,
    size_t whylen, struct wwerr *eerr)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	size_t n = 0;
	int dfd, rc, ret = -1;

	*nw = 0;
	if ((d = opendir(r->outdir)) == NULL) {
		snprintf(why, whylen, "%s: %s", r->outdir, strerror(errno));
		return -1;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* The build wrote this directory: no symlinks, no devices. */
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode)) {
			logline(r, "ignoring %s in the output (not a regular "
			    "file)", de->d_name);
			continue;
		}
		if (!wheel_name_ok(de->d_name)) {
			logline(r, "ignoring %s in the output (not a wheel)",
			    de->d_name);
			continue;
		}
		if (n == BUILD_MAX_WHEELS) {
			snprintf(why, whylen, "the build made more than %d "
			    "wheels", BUILD_MAX_WHEELS);
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", r->outdir, de->d_name);
		memset(&w[n], 0, sizeof(w[n]));
		if ((rc = check_wheel(r, path, &w[n], why, whylen,
		    eerr)) != 0) {
			ret = rc;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		snprintf(why, whylen, "pip exited 0 but left no wheel");
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	*nw = n;
	return ret;
}

/* Ingest every wheel and finish the job, in one transaction. */
static int
record(struct run *r, struct wheel *w, size_t nw, struct wwerr *err)
{
	const struct build_env *env = r->env;
	struct ingest_opts io;
	struct catalog_file have;
	struct wwerr ierr;
	char origin[64];
	size_t i;
	int rc;

	snprintf(origin, sizeof(origin), "build:job-%lld",
	    (long long)r->job->id);
	if (catalog_begin(env->catalog, err) == -1) {
		err->code = BUILD_E_DB;
		return -1;
	}
	for (i = 0; i < nw; i++) {
		memset(&io, 0, sizeof(io));
		io.filename = w[i].name;
		io.origin = origin;
		io.project = r->job->project;
		wwerr_clear(&ierr);
		rc = ingest_file(env->store, env->catalog, w[i].path, &io,
		    &env->cfg->limits, NULL, &ierr);
		if (rc == INGEST_EXISTS)
			logline(r, "%s is already in the catalog with the same "
			    "bytes", w[i].name);
		if (rc != -1)
			continue;
		/*
		 * A pure wheel of the same release built for another target
		 * is the same wheel: the one already recorded serves this
		 * target too.
		 */
		if (ierr.code == INGEST_E_CONFLICT && w[i].pure &&
		    catalog_get_file(env->catalog, w[i].name, &have,
		    NULL) == 0) {
			logline(r, "%s is already in the catalog (from %s); "
			    "it serves this target too", w[i].name,
			    have.origin ? have.origin : "?");
			catalog_file_free(&have);
			continue;
		}
		catalog_rollback(env->catalog);
		if (ierr.code == INGEST_E_DB || ierr.code == INGEST_E_STORE) {
			*err = ierr;
			err->code = BUILD_E_DB;
			return -1;
		}
		return fail(r, JOB_FAIL_VERIFY, 0, env->cfg->backoff_base, err,
		    "%s", ierr.msg);
	}
	if (jobs_succeed(env->jobs, r->job->id, w[0].name, 0, err) == -1) {
		catalog_rollback(env->catalog);
		if (err->code == JOBS_E_STATE) {
			logline(r, "job %lld is no longer running; the wheel "
			    "is not recorded", (long long)r->job->id);
			return BUILD_RECORDED;
		}
		err->code = BUILD_E_DB;
		return -1;
	}
	if (catalog_commit(env->catalog, err) == -1) {
		err->code = BUILD_E_DB;
		return -1;
	}
	return 0;
}

int
build_run(const struct build_env *env, const struct job *job,
    struct wwerr *err)
{
	struct run r;
	struct engine_result res;
	struct wheel wheels[BUILD_MAX_WHEELS];
	struct deps_ctx dc;
	struct deps_target dt;
	char why[2048], dep[512], lastdep[512], msg[1024];
	char *head = NULL, *tail = NULL;
	size_t nw = 0, headlen = 0, taillen = 0, i;
	off_t off0, off1;
	enum job_failure f;
	struct wwerr derr;
	int rc, rfd, round, ret = -1;

	memset(&r, 0, sizeof(r));
	r.env = env;
	r.job = job;
	r.logfd = -1;
	r.t0 = util_now_us();
	lastdep[0] = '\0';
	if (job->log_path == NULL || env->workdir == NULL) {
		wwerr_set(err, BUILD_E_ARG, "job %lld: no log path or work "
		    "directory", (long long)job->id);
		return -1;
	}
	r.logfd = open(job->log_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0640);
	if (r.logfd == -1) {
		wwerr_set(err, BUILD_E_IO, "%s: %s", job->log_path,
		    strerror(errno));
		return -1;
	}
	logline(&r, "job %lld: %s %s for target %s (attempt %d of %d)",
	    (long long)job->id, job->project, job->version, job->target,
	    job->attempts, job->max_attempts);
	if (job->build_number > 0)
		logline(&r, "build number %d", job->build_number);
	if (mkdir_in(r.srcdir, sizeof(r.srcdir), env->workdir, "src",
	    0755) == -1 ||
	    mkdir_in(r.outdir, sizeof(r.outdir), env->workdir, "out",
	    0755) == -1 ||
	    mkdir_in(r.finaldir, sizeof(r.finaldir), env->workdir, "final",
	    0700) == -1) {
		wwerr_set(err, BUILD_E_IO, "%s: %s", env->workdir,
		    strerror(errno));
		goto out;
	}
	/* The work directory lives in DATA/tmp (0700); the container only
	 * sees its own bind mounts. */
	chmod(env->workdir, 0711);

	if (wait_for_sibling(&r, &ret, err) != 0)
		goto out;
	if ((rc = fetch_sdist(&r, err)) != 0) {
		ret = rc;
		goto out;
	}
	if (cancelled(&r)) {
		ret = interrupted(&r, err);
		goto out;
	}

	for (round = 0;; round++) {
		remove_container(&r);
		free(head);
		free(tail);
		head = tail = NULL;
		off0 = lseek(r.logfd, 0, SEEK_END);
		memset(&res, 0, sizeof(res));
		if ((rc = run_container(&r, round, &res, err)) != 0) {
			ret = rc;
			goto out;
		}
		off1 = lseek(r.logfd, 0, SEEK_END);
		if (res.log.dropped > 0)
			logline(&r, "log cut: %llu bytes of output dropped",
			    (unsigned long long)res.log.dropped);
		if ((rfd = open(job->log_path, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) != -1) {
			head = read_log(rfd, off0, off1, HEAD_MAX, 1, &headlen);
			tail = read_log(rfd, off0, off1, TAIL_MAX, 0, &taillen);
			close(rfd);
		}
		if (head != NULL)
			build_probe_parse(head, headlen, &r.probe);
		logline(&r, "container exited %d after %.2f s%s%s",
		    res.state.exit_code, (double)r.container_us / 1e6,
		    res.timed_out ? " (killed at the deadline)" : "",
		    res.oom ? " (out of memory)" : "");
		if (r.probe.py_major > 0) {
			int want_major = 0, want_minor = 0;

			parse_pair(env->target->python, &want_major,
			    &want_minor);
			if (want_major != r.probe.py_major ||
			    want_minor != r.probe.py_minor) {
				ret = fail(&r, JOB_FAIL_BUILD_ERROR,
				    res.state.exit_code,
				    env->cfg->backoff_base, err, "image %s has "
				    "Python %d.%d, but target %s is Python %s",
				    env->target->image, r.probe.py_major,
				    r.probe.py_minor, env->target->name,
				    env->target->python);
				goto out;
			}
		}
		f = build_classify(&res, tail, tail ? taillen : 0, dep,
		    sizeof(dep));
		if (f != JOB_FAIL_MISSING_DEP)
			break;
		/*
		 * Provide the dependency; when it is now in the catalog, build
		 * again at once within this attempt (each round may uncover
		 * the next one, e.g. setuptools, then wheel).
		 */
		logline(&r, "missing build dependency: %s", dep);
		memset(&dc, 0, sizeof(dc));
		dc.cfg = env->cfg;
		dc.store = env->store;
		dc.catalog = env->catalog;
		dc.jobs = env->jobs;
		dc.upstreams = env->upstreams;
		memset(&dt, 0, sizeof(dt));
		dt.target = env->target;
		if (r.probe.glibc_major > 0) {
			dt.libc_major = r.probe.glibc_major;
			dt.libc_minor = r.probe.glibc_minor;
		} else if (r.probe.musl_major > 0) {
			dt.libc_major = r.probe.musl_major;
			dt.libc_minor = r.probe.musl_minor;
		}
		wwerr_clear(&derr);
		rc = deps_provide(&dc, &dt, job, dep, msg, sizeof(msg), &derr);
		if (rc == -1) {
			ret = fail(&r, derr.code == DEPS_E_UNREACHABLE ?
			    JOB_FAIL_UPSTREAM : JOB_FAIL_MISSING_DEP,
			    res.state.exit_code, env->cfg->backoff_base, err,
			    "missing build dependency %s: %s", dep, derr.msg);
			goto out;
		}
		/*
		 * Present already: another job provided it meanwhile, so try
		 * once more; the same dependency missing twice in a row means
		 * pip cannot use what the catalog has.
		 */
		if ((rc != DEPS_FETCHED && (rc != DEPS_PRESENT ||
		    strcmp(dep, lastdep) == 0)) ||
		    round + 1 >= BUILD_DEP_ROUNDS) {
			ret = fail(&r, f, res.state.exit_code,
			    env->cfg->backoff_base, err, "%s%s", msg,
			    round + 1 >= BUILD_DEP_ROUNDS ? " (too many missing "
			    "build dependencies in one attempt)" : "");
			goto out;
		}
		util_strlcpy(lastdep, dep, sizeof(lastdep));
		logline(&r, "%s; building again", msg);
		if (cancelled(&r)) {
			ret = interrupted(&r, err);
			goto out;
		}
	}

	switch (f) {
	case JOB_FAIL_NONE:
		break;
	case JOB_FAIL_TIMEOUT:
		ret = fail(&r, f, res.state.exit_code, env->cfg->backoff_base,
		    err, "the build ran past its %d s limit and was killed",
		    env->target->timeout);
		goto out;
	case JOB_FAIL_OOM:
		ret = fail(&r, f, res.state.exit_code, env->cfg->backoff_base,
		    err, "the build ran out of memory (limit %llu bytes)%s",
		    (unsigned long long)env->target->memory,
		    res.oom_inferred ? "; inferred from SIGKILL" : "");
		goto out;
	default:
		ret = fail(&r, f, res.state.exit_code, env->cfg->backoff_base,
		    err, "the build failed with exit status %d (see the log)",
		    res.state.exit_code);
		goto out;
	}

	memset(wheels, 0, sizeof(wheels));
	wwerr_clear(&derr);
	if ((rc = collect(&r, wheels, &nw, why, sizeof(why), &derr)) == -2) {
		ret = engine_failed(&r, "copying libraries for repair", &derr,
		    err);
		goto out;
	}
	if (rc == -1) {
		ret = fail(&r, JOB_FAIL_VERIFY, 0, env->cfg->backoff_base, err,
		    "%s", why);
		goto out;
	}
	if ((rc = record(&r, wheels, nw, err)) != 0) {
		ret = rc;
		goto out;
	}
	for (i = 0; i < nw; i++)
		logline(&r, "recorded %s", wheels[i].name);
	{
		int64_t total = util_now_us() - r.t0;

		logline(&r, "succeeded: %s; time %.3f s, in the container "
		    "%.3f s, overhead %.3f s", wheels[0].name,
		    (double)total / 1e6, (double)r.container_us / 1e6,
		    (double)(total - r.container_us) / 1e6);
		log_info("job %lld (%s %s, %s): built %s in %.1f s",
		    (long long)job->id, job->project, job->version,
		    job->target, wheels[0].name, (double)total / 1e6);
	}
	ret = BUILD_RECORDED;
out:
	if (ret != BUILD_ENGINE_LOST)
		remove_container(&r);
	wheels_free(wheels, nw);
	free(head);
	free(tail);
	if (r.logfd != -1)
		close(r.logfd);
	return ret;
}
