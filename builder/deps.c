/*
 * deps.c: providing a missing build dependency (see deps.h). The wheel
 * chosen is the one pip in the build container would choose among the
 * upstream's files: the newest version the specifier allows (no
 * pre-releases unless it names one, nothing yanked, Requires-Python fits
 * the target), then the best-ranked tag for the target.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "deps.h"
#include "ingest.h"
#include "jobs.h"
#include "log.h"
#include "name.h"
#include "requirement.h"
#include "specifier.h"
#include "store.h"
#include "tags.h"
#include "upstream.h"
#include "util.h"
#include "version.h"
#include "wheelname.h"

#define MISSING_MARK	"No matching distribution found for "

int
deps_parse_missing(const char *log, size_t len, char *req, size_t reqlen)
{
	const char *p = log, *end = log + len, *hit = NULL, *q, *eol;
	size_t marklen = strlen(MISSING_MARK), n;

	while (p < end && (q = memmem(p, (size_t)(end - p), MISSING_MARK,
	    marklen)) != NULL) {
		hit = q + marklen;
		p = hit;
	}
	if (hit == NULL || reqlen == 0)
		return 0;
	eol = hit;
	while (eol < end && *eol != '\n' && *eol != '\r')
		eol++;
	while (eol > hit && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	n = (size_t)(eol - hit);
	if (n == 0 || n >= reqlen)
		return 0;
	memcpy(req, hit, n);
	req[n] = '\0';
	/* pip may print the requirement with its extras and marker; the
	 * rest is parsed as PEP 508 by deps_provide. Refuse control bytes. */
	for (q = req; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q == 0x7f)
			return 0;
	return 1;
}

/* The tags pip in the build container accepts. */
static int
target_env_of(const struct deps_target *dt, struct target_env *env,
    int *pymajor, int *pyminor)
{
	const struct config_target *t = dt->target;
	int64_t a, b;
	char tmp[16], *dot, *dot2;

	memset(env, 0, sizeof(*env));
	if (util_strlcpy(tmp, t->python, sizeof(tmp)) >= sizeof(tmp) ||
	    (dot = strchr(tmp, '.')) == NULL)
		return -1;
	*dot++ = '\0';
	if ((dot2 = strchr(dot, '.')) != NULL)
		*dot2 = '\0';
	if (util_parse_i64(tmp, 2, 9, &a) == -1 ||
	    util_parse_i64(dot, 0, 99, &b) == -1)
		return -1;
	*pymajor = (int)a;
	*pyminor = (int)b;
	env->py_major = (int)a;
	env->py_minor = (int)b;
	env->interpreter = "cp";
	env->arch = t->arch;
	if (strcmp(t->policy, "musllinux") == 0) {
		env->libc = LIBC_MUSL;
		env->libc_major = dt->libc_major ? dt->libc_major : 1;
		env->libc_minor = dt->libc_major ? dt->libc_minor : 1;
	} else {
		env->libc = LIBC_GLIBC;
		env->libc_major = dt->libc_major ? dt->libc_major : 2;
		env->libc_minor = dt->libc_major ? dt->libc_minor : 17;
	}
	return 0;
}

struct pick {
	const struct specset	*spec;
	const struct target_env	*env;
	const struct tagset	*supported;
	const char		*python;	/* full version of the target */
	int			 pre;		/* SPEC_PRE_* */
	/* best so far */
	struct version		*best_v;
	int			 best_rank;
	size_t			 best_i;
	int			 found;
};

static void
pick_reset(struct pick *pk)
{
	version_free(pk->best_v);
	pk->best_v = NULL;
	pk->found = 0;
	pk->best_rank = 0;
	pk->best_i = 0;
}

static int
python_fits(const char *requires_python, const char *python)
{
	struct specset *ss;
	int ok;

	if (requires_python == NULL || *requires_python == '\0')
		return 1;
	if (specset_parse(requires_python, &ss, NULL) == -1)
		return 0;	/* pip ignores such files too */
	ok = specset_contains_str(ss, python, SPEC_PRE_ALLOW);
	specset_free(ss);
	return ok == 1;
}

/*
 * Consider one file (version string, tags or NULL for an sdist). Keeps the
 * newest allowed version, then the best rank.
 */
static void
pick_consider(struct pick *pk, size_t i, const char *version,
    const char *py, const char *abi, const char *plat,
    const char *requires_python, int yanked)
{
	struct version *v;
	int rank = 0, c;

	if (yanked || !python_fits(requires_python, pk->python))
		return;
	if (version_parse(version, &v) == -1)
		return;
	if (specset_contains(pk->spec, v, pk->pre) != 1)
		goto skip;
	if (py != NULL && (rank = tags_rank(pk->env, pk->supported, py, abi,
	    plat)) < 0)
		goto skip;
	if (pk->found) {
		c = version_cmp(v, pk->best_v);
		if (c < 0 || (c == 0 && rank >= pk->best_rank))
			goto skip;
	}
	version_free(pk->best_v);
	pk->best_v = v;
	pk->best_rank = rank;
	pk->best_i = i;
	pk->found = 1;
	return;
skip:
	version_free(v);
}

struct catscan {
	struct pick	*pk;
};

static int
catalog_cb(const struct catalog_file *f, void *arg)
{
	struct catscan *cs = arg;

	if (f->kind == 'w' && f->python_tag != NULL && f->abi_tag != NULL &&
	    f->platform_tag != NULL)
		pick_consider(cs->pk, 0, f->version, f->python_tag, f->abi_tag,
		    f->platform_tag, f->requires_python, f->yanked);
	return 0;
}

int
deps_provide(const struct deps_ctx *ctx, const struct deps_target *dt,
    const struct job *job, const char *reqtext, char *msg, size_t msglen,
    struct wwerr *err)
{
	struct requirement *req = NULL;
	struct target_env env;
	struct tagset supported = { NULL, 0 };
	struct upstream_page *page = NULL;
	struct upstream *from = NULL;
	struct pick pk;
	struct catscan cs;
	const struct upstream_file *f;
	char dir[1024], dest[1400], sha[HASH_SHA256_HEXLEN], origin[128];
	struct ingest_opts io;
	struct job_spec spec;
	int pymajor, pyminor, rc, ret = -1;
	int64_t id;
	size_t i;

	memset(&pk, 0, sizeof(pk));
	dir[0] = '\0';
	msg[0] = '\0';
	if (requirement_parse(reqtext, &req, err) == -1) {
		err->code = DEPS_E_ARG;
		wwerr_prefix(err, "build dependency \"%s\"", reqtext);
		return -1;
	}
	if (req->url != NULL) {
		wwerr_set(err, DEPS_E_ARG, "build dependency \"%s\" is a URL; "
		    "only index requirements can be provided", reqtext);
		goto out;
	}
	if (target_env_of(dt, &env, &pymajor, &pyminor) == -1 ||
	    tags_supported(&env, &supported) == -1) {
		wwerr_set(err, DEPS_E_ARG, "target %s: python \"%s\" / arch "
		    "\"%s\" has no tag list", dt->target->name,
		    dt->target->python, dt->target->arch);
		goto out;
	}
	pk.spec = req->spec;
	pk.env = &env;
	pk.supported = &supported;
	pk.python = dt->target->python;
	pk.pre = SPEC_PRE_DEFAULT;

	/* Already there? Then pip had another reason to refuse it. */
	memset(&cs, 0, sizeof(cs));
	cs.pk = &pk;
	if (catalog_foreach_file(ctx->catalog, req->normalized, catalog_cb,
	    &cs, err) == -1) {
		err->code = DEPS_E_DB;
		goto out;
	}
	if (pk.found) {
		snprintf(msg, msglen, "the catalog already has %s %s for "
		    "target %s, but pip did not take it", req->normalized,
		    version_str(pk.best_v), dt->target->name);
		ret = DEPS_PRESENT;
		goto out;
	}
	pick_reset(&pk);

	if (ctx->upstreams == NULL) {
		snprintf(msg, msglen, "build dependency %s is not in the "
		    "catalog and no upstream is configured", reqtext);
		ret = DEPS_UNAVAILABLE;
		goto out;
	}
	rc = upstream_set_get_project(ctx->upstreams, req->normalized, 0,
	    &page, &from, err);
	if (rc == -1) {
		err->code = DEPS_E_UNREACHABLE;
		wwerr_prefix(err, "build dependency %s", req->normalized);
		goto out;
	}
	if (rc == 1) {
		snprintf(msg, msglen, "build dependency %s: no upstream has "
		    "project %s", reqtext, req->normalized);
		ret = DEPS_UNAVAILABLE;
		goto out;
	}

	/* A wheel that installs on the target? */
	for (i = 0; i < page->nfiles; i++) {
		const struct upstream_file *uf = &page->files[i];
		struct wheelname wn;

		if (uf->kind != 'w' ||
		    wheelname_parse(uf->filename, &wn, NULL) == -1)
			continue;
		pick_consider(&pk, i, uf->version, wn.python, wn.abi,
		    wn.platform,
		    uf->requires_python, uf->yanked);
	}
	if (pk.found) {
		f = &page->files[pk.best_i];
		if ((size_t)snprintf(dir, sizeof(dir), "%s/dep-%lld.%ld",
		    store_tmpdir(ctx->store), (long long)job->id,
		    (long)getpid()) >= sizeof(dir) ||
		    (mkdir(dir, 0700) == -1 && errno != EEXIST)) {
			wwerr_set(err, DEPS_E_IO, "%s: %s", dir,
			    strerror(errno));
			dir[0] = '\0';
			goto out;
		}
		if ((size_t)snprintf(dest, sizeof(dest), "%s/%s", dir,
		    f->filename) >= sizeof(dest)) {
			wwerr_set(err, DEPS_E_IO, "%s: path too long",
			    f->filename);
			goto out;
		}
		if (upstream_download(from, f, dest,
		    ctx->cfg->limits.max_file_size, sha, err) == -1) {
			err->code = DEPS_E_UNREACHABLE;
			wwerr_prefix(err, "build dependency %s", f->filename);
			goto out;
		}
		snprintf(origin, sizeof(origin), "upstream:%s",
		    upstream_name(from));
		memset(&io, 0, sizeof(io));
		io.origin = origin;
		io.expect_sha256 = f->sha256[0] ? f->sha256 : NULL;
		rc = ingest_file(ctx->store, ctx->catalog, dest, &io,
		    &ctx->cfg->limits, NULL, err);
		unlink(dest);
		if (rc == -1) {
			wwerr_prefix(err, "build dependency %s from %s",
			    f->filename, upstream_name(from));
			err->code = (err->code == INGEST_E_DB ||
			    err->code == INGEST_E_STORE) ? DEPS_E_DB :
			    DEPS_E_VERIFY;
			goto out;
		}
		snprintf(msg, msglen, "fetched build dependency %s from "
		    "upstream %s (%s)", f->filename, upstream_name(from),
		    rc == INGEST_EXISTS ? "already present" : "verified and "
		    "added to the catalog");
		ret = DEPS_FETCHED;
		goto out;
	}

	/* No wheel: build the newest allowed sdist first. */
	pick_reset(&pk);
	for (i = 0; i < page->nfiles; i++) {
		const struct upstream_file *uf = &page->files[i];

		if (uf->kind == 's')
			pick_consider(&pk, i, uf->version, NULL, NULL, NULL,
			    uf->requires_python, uf->yanked);
	}
	if (!pk.found) {
		snprintf(msg, msglen, "build dependency %s: upstream %s has no "
		    "wheel for target %s and no sdist that matches", reqtext,
		    upstream_name(from), dt->target->name);
		ret = DEPS_UNAVAILABLE;
		goto out;
	}
	f = &page->files[pk.best_i];
	rc = jobs_release_blocked(ctx->jobs, req->normalized, f->version,
	    dt->target->name, &id, err);
	if (rc == -1) {
		err->code = DEPS_E_DB;
		goto out;
	}
	if (rc == 1) {
		struct job dj;

		memset(&dj, 0, sizeof(dj));
		if (jobs_get(ctx->jobs, id, &dj, err) != 0) {
			err->code = DEPS_E_DB;
			goto out;
		}
		if (dj.state == JOB_QUEUED || dj.state == JOB_RUNNING) {
			snprintf(msg, msglen, "build dependency %s: waiting for "
			    "job %lld building %s %s", reqtext, (long long)id,
			    req->normalized, f->version);
			ret = DEPS_ENQUEUED;
		} else {
			snprintf(msg, msglen, "build dependency %s: job %lld "
			    "building %s %s ended %s", reqtext, (long long)id,
			    req->normalized, f->version,
			    job_state_name(dj.state));
			ret = DEPS_UNAVAILABLE;
		}
		job_free(&dj);
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(origin, sizeof(origin), "dep:job-%lld", (long long)job->id);
	spec.project = req->normalized;
	spec.requirement = reqtext;
	spec.version = f->version;
	spec.target = dt->target->name;
	spec.max_attempts = ctx->cfg->max_attempts;
	spec.priority = job->priority + 1;
	spec.origin = origin;
	if (jobs_enqueue(ctx->jobs, &spec, &id, err) == -1) {
		err->code = DEPS_E_DB;
		goto out;
	}
	snprintf(msg, msglen, "build dependency %s: upstream %s has no wheel "
	    "for target %s; queued job %lld to build %s %s first", reqtext,
	    upstream_name(from), dt->target->name, (long long)id,
	    req->normalized, f->version);
	ret = DEPS_ENQUEUED;
out:
	if (dir[0] != '\0')
		rmdir(dir);
	pick_reset(&pk);
	upstream_page_free(page);
	tagset_free(&supported);
	requirement_free(req);
	return ret;
}
