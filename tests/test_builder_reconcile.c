/*
 * test_builder_reconcile.c: unit tests for reconcile with real
 * requirements files, a real config file, a real catalog and job store,
 * and a real index on 127.0.0.1 (tests/lib/upstream_server.py) or a dir:
 * upstream: markers, pins, pre-releases, yanking, Requires-Python,
 * constraints, --hash, catalog wheels that do or do not cover a target
 * (pure, abi3, manylinux versions, musl), existing jobs, errors, and that
 * a pass the catalog satisfies asks no upstream anything.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "hash.h"
#include "jobs.h"
#include "reconcile.h"
#include "requirement.h"
#include "upstream.h"
#include "util.h"

static char tmpdir[PATH_MAX];

struct server {
	pid_t	pid;
	int	port;
	char	base[128];
};

struct fixture {
	char		 dir[PATH_MAX];
	struct server	 srv;
	struct config	*conf;
	struct catalog	*cat;
	struct jobs	*js;
	struct upstream_set *ups;
};

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(data, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
sha_hex(const char *s, char out[HASH_SHA256_HEXLEN])
{
	unsigned char d[HASH_SHA256_LEN];

	hash_sha256_mem(s, strlen(s), d);
	hash_hex(d, sizeof(d), out);
}

static void
server_start(struct server *s, const char *specpath)
{
	char script[PATH_MAX], line[64];
	const char *src = getenv("WW_SOURCE_DIR");
	int fds[2];
	FILE *f;

	assert_non_null(src);
	snprintf(script, sizeof(script), "%s/tests/lib/upstream_server.py",
	    src);
	assert_int_equal(pipe(fds), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", script, specpath,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "PORT %d", &s->port) != 1)
		fail_msg("upstream_server.py did not start");
	fclose(f);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

static void
server_stop(struct server *s)
{
	int st;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &st, 0);
		s->pid = 0;
	}
}

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	return buf_add(arg, p, sz * n) == 0 ? sz * n : 0;
}

/* Every request the server has seen, over all paths. */
static int
server_total(struct server *s, const char *path)
{
	char url[256];
	struct buf b;
	json_t *root, *reqs, *v;
	const char *k;
	CURL *c;
	int n = 0;

	snprintf(url, sizeof(url), "%s/_stats", s->base);
	buf_init(&b, 1 << 20);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	root = json_loadb(b.ptr, b.len, 0, NULL);
	assert_non_null(root);
	reqs = json_object_get(root, "requests");
	json_object_foreach(reqs, k, v)
		if (path == NULL || !strcmp(k, path))
			n += (int)json_integer_value(v);
	json_decref(root);
	buf_free(&b);
	return n;
}

#define SPEC_PROJECTS \
    "{\"projects\": {" \
    " \"pinned\": {\"files\": [" \
    "   {\"filename\": \"pinned-1.0.tar.gz\", \"content\": \"p\"}]}," \
    " \"alpha\": {\"files\": [" \
    "   {\"filename\": \"alpha-1.0.tar.gz\", \"content\": \"a10\"}," \
    "   {\"filename\": \"alpha-1.1.tar.gz\", \"content\": \"a11\"}," \
    "   {\"filename\": \"alpha-1.2.tar.gz\", \"content\": \"a12\"," \
    "    \"yanked\": \"broken\"}," \
    "   {\"filename\": \"alpha-2.0rc1.tar.gz\", \"content\": \"a2\"}]}," \
    " \"pyonly\": {\"files\": [" \
    "   {\"filename\": \"pyonly-2.0.tar.gz\", \"content\": \"p2\"," \
    "    \"requires_python\": \">=3.8\"}," \
    "   {\"filename\": \"pyonly-3.0.tar.gz\", \"content\": \"p3\"," \
    "    \"requires_python\": \">=3.12\"}]}," \
    " \"wheelonly\": {\"files\": [" \
    "   {\"filename\": \"wheelonly-1.0-cp311-cp311-win_amd64.whl\"," \
    "    \"content\": \"w\"}]}," \
    " \"purewheel\": {\"files\": [" \
    "   {\"filename\": \"purewheel-4.0-py3-none-any.whl\"," \
    "    \"content\": \"pw\"}]}," \
    " \"gamma\": {\"files\": [" \
    "   {\"filename\": \"gamma-1.5.tar.gz\", \"content\": \"g1\"}," \
    "   {\"filename\": \"gamma-2.5.tar.gz\", \"content\": \"g2\"}]}," \
    " \"delta\": {\"files\": [" \
    "   {\"filename\": \"delta-1.0.tar.gz\", \"content\": \"d10\"}," \
    "   {\"filename\": \"delta-1.1.tar.gz\", \"content\": \"d11\"}]}," \
    " \"hashed\": {\"files\": [" \
    "   {\"filename\": \"hashed-1.0.tar.gz\", \"content\": \"h1\"}," \
    "   {\"filename\": \"hashed-2.0.tar.gz\", \"content\": \"h2\"}]}," \
    " \"abi\": {\"files\": [" \
    "   {\"filename\": \"abi-2.0.tar.gz\", \"content\": \"abi\"}]}," \
    " \"newglibc\": {\"files\": [" \
    "   {\"filename\": \"newglibc-1.0.tar.gz\", \"content\": \"ng\"}]}," \
    " \"armonly\": {\"files\": [" \
    "   {\"filename\": \"armonly-1.0.tar.gz\", \"content\": \"arm\"}]}," \
    " \"broken\": {\"status\": 500, \"files\": []}" \
    "}}"

static const char config_fmt[] =
    "[global]\n"
    "datadir = %s/data\n"
    "[builderd]\n"
    "max_attempts = 3\n"
    "[upstream test]\n"
    "url = %s/simple/\n"
    "timeout = 5\n"
    "retries = 0\n"
    "[engine local]\n"
    "url = unix:///nonexistent.sock\n"
    "[target py311]\n"
    "python = 3.11.2\npolicy = manylinux\narch = x86_64\nimage = i\n"
    "engines = local\n"
    "[target py312]\n"
    "python = 3.12.1\npolicy = manylinux\narch = x86_64\nimage = i\n"
    "[target arm311]\n"
    "python = 3.11.2\npolicy = manylinux\narch = aarch64\nimage = i\n"
    "[target musl311]\n"
    "python = 3.11.2\npolicy = musllinux\narch = x86_64\nimage = i\n";

static int
setup(void **state)
{
	struct fixture *fx;
	char path[PATH_MAX], spec[PATH_MAX], cfg[8192];
	struct wwerr err;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/r.XXXXXX", tmpdir);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(spec, sizeof(spec), "%s/spec.json", fx->dir);
	write_file(spec, SPEC_PROJECTS);
	server_start(&fx->srv, spec);
	snprintf(cfg, sizeof(cfg), config_fmt, fx->dir, fx->srv.base);
	snprintf(path, sizeof(path), "%s/wheelwright.conf", fx->dir);
	write_file(path, cfg);
	if (config_load(path, &fx->conf, &err) == -1)
		fail_msg("config: %s", err.msg);
	snprintf(path, sizeof(path), "%s/catalog.sqlite", fx->dir);
	if (catalog_open(path, 0, &fx->cat, &err) == -1 ||
	    jobs_open(fx->cat, &fx->js, &err) == -1)
		fail_msg("catalog: %s", err.msg);
	snprintf(path, sizeof(path), "%s/cache", fx->dir);
	if (upstream_set_open(fx->conf, path, &fx->ups, &err) == -1)
		fail_msg("upstreams: %s", err.msg);
	upstream_set_retry_delay(upstream_set_at(fx->ups, 0), 10);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	server_stop(&fx->srv);
	upstream_set_close(fx->ups);
	jobs_close(fx->js);
	catalog_close(fx->cat);
	config_free(fx->conf);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* Decisions heard from a pass. */
struct decision {
	char	project[64];
	char	target[32];
	enum reconcile_action action;
	char	version[32];
	int64_t	job;
	char	detail[512];
};

struct decisions {
	struct decision d[256];
	size_t		n;
};

static void
record_cb(const struct reconcile_item *it, void *arg)
{
	struct decisions *ds = arg;
	struct decision *d;

	assert_true(ds->n < WW_ARRLEN(ds->d));
	d = &ds->d[ds->n++];
	util_strlcpy(d->project, it->project, sizeof(d->project));
	util_strlcpy(d->target, it->target, sizeof(d->target));
	d->action = it->action;
	util_strlcpy(d->version, it->version ? it->version : "",
	    sizeof(d->version));
	d->job = it->job_id;
	util_strlcpy(d->detail, it->detail, sizeof(d->detail));
	assert_non_null(it->requirement);
	assert_non_null(it->file);
	assert_true(it->line > 0);
}

static const struct decision *
find(const struct decisions *ds, const char *project, const char *target)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		if (!strcmp(ds->d[i].project, project) &&
		    !strcmp(ds->d[i].target, target))
			return &ds->d[i];
	fail_msg("no decision for %s on %s", project, target);
	return NULL;
}

static void
expect(const struct decisions *ds, const char *project, const char *target,
    enum reconcile_action action, const char *version)
{
	const struct decision *d = find(ds, project, target);

	if (d->action != action || strcmp(d->version, version ? version : ""))
		fail_msg("%s on %s: %s %s (%s), expected %s %s", project, target,
		    reconcile_action_name(d->action), d->version, d->detail,
		    reconcile_action_name(action), version ? version : "-");
}

static struct reqfile *
reqs(struct fixture *fx, const char *name, const char *text)
{
	char path[PATH_MAX];
	struct reqfile *rf;
	struct wwerr err;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	write_file(path, text);
	if (strstr(name, "constraints") != NULL)
		return NULL;
	if (reqfile_load(path, &rf, &err) == -1)
		fail_msg("reqfile: %s", err.msg);
	return rf;
}

static void
run(struct fixture *fx, struct reqfile **rfs, size_t nrf,
    const struct reconcile_opts *o, struct decisions *ds,
    struct reconcile_stats *st)
{
	struct wwerr err;

	memset(ds, 0, sizeof(*ds));
	if (reconcile_run(fx->conf, fx->cat, fx->js, fx->ups,
	    (const struct reqfile *const *)rfs, nrf, o, record_cb, ds, st,
	    &err) == -1)
		fail_msg("reconcile: %s", err.msg);
}

static void
add_wheel(struct fixture *fx, const char *project, const char *version,
    const char *py, const char *abi, const char *plat, const char *reqpy)
{
	struct catalog_file f;
	struct wwerr err;
	char fn[256];

	memset(&f, 0, sizeof(f));
	snprintf(fn, sizeof(fn), "%s-%s-%s-%s-%s.whl", project, version, py,
	    abi, plat);
	f.project = (char *)project;
	f.project_display = (char *)project;
	f.version = (char *)version;
	f.filename = fn;
	f.kind = 'w';
	f.python_tag = (char *)py;
	f.abi_tag = (char *)abi;
	f.platform_tag = (char *)plat;
	f.requires_python = (char *)reqpy;
	sha_hex(fn, f.sha256);
	f.size = 100;
	f.origin = "test";
	if (catalog_add_file(fx->cat, &f, &err) == -1)
		fail_msg("add %s: %s", fn, err.msg);
}

static size_t
count_jobs(struct fixture *fx)
{
	struct jobs_count *c;
	struct wwerr err;
	size_t n, i, total = 0;
	int s;

	assert_int_equal(jobs_counts(fx->js, &c, &n, &err), 0);
	for (i = 0; i < n; i++)
		for (s = 0; s < JOB__NSTATES; s++)
			total += (size_t)c[i].n[s];
	free(c);
	return total;
}

static void
test_target_env(void **state)
{
	struct config_target t;
	struct target_env env;
	struct wwerr err;

	(void)state;
	memset(&t, 0, sizeof(t));
	util_strlcpy(t.name, "t", sizeof(t.name));
	util_strlcpy(t.python, "3.12.1", sizeof(t.python));
	util_strlcpy(t.policy, "manylinux", sizeof(t.policy));
	util_strlcpy(t.arch, "aarch64", sizeof(t.arch));
	assert_int_equal(reconcile_target_env(&t, &env, &err), 0);
	assert_int_equal(env.py_major, 3);
	assert_int_equal(env.py_minor, 12);
	assert_int_equal(env.libc, LIBC_GLIBC);
	assert_int_equal(env.libc_major, 2);
	assert_int_equal(env.libc_minor, 36);
	assert_string_equal(env.arch, "aarch64");
	util_strlcpy(t.policy, "musllinux", sizeof(t.policy));
	assert_int_equal(reconcile_target_env(&t, &env, &err), 0);
	assert_int_equal(env.libc, LIBC_MUSL);
	assert_int_equal(env.libc_minor, 2);
	util_strlcpy(t.libc, "1.1", sizeof(t.libc));
	assert_int_equal(reconcile_target_env(&t, &env, &err), 0);
	assert_int_equal(env.libc_minor, 1);
	util_strlcpy(t.python, "3.12", sizeof(t.python));
	assert_int_equal(reconcile_target_env(&t, &env, &err), -1);
	assert_non_null(strstr(err.msg, "3.12"));
	util_strlcpy(t.python, "3.12.0", sizeof(t.python));
	util_strlcpy(t.policy, "win", sizeof(t.policy));
	assert_int_equal(reconcile_target_env(&t, &env, &err), -1);

	/* The config's libc key: the image's glibc, checked when loaded. */
	{
		char path[PATH_MAX];
		struct config *c;

		snprintf(path, sizeof(path), "%s/libc.conf", tmpdir);
		write_file(path, "[target new]\nimage = i\nlibc = 2.39\n");
		if (config_load(path, &c, &err) == -1)
			fail_msg("config: %s", err.msg);
		assert_string_equal(c->targets[0].libc, "2.39");
		assert_int_equal(reconcile_target_env(&c->targets[0], &env,
		    &err), 0);
		assert_int_equal(env.libc_minor, 39);
		config_free(c);
		write_file(path, "[target new]\nimage = i\nlibc = 2.x\n");
		assert_int_equal(config_load(path, &c, &err), -1);
		assert_non_null(strstr(err.msg, "libc.conf:3"));
		assert_non_null(strstr(err.msg, "2.x"));
	}
}

static void
test_decisions(void **state)
{
	struct fixture *fx = *state;
	struct reqfile *rf[2];
	struct reconcile_stats st;
	struct decisions *ds = calloc(1, sizeof(*ds));
	char hashline[256], h[HASH_SHA256_HEXLEN];
	struct job j;
	struct wwerr err;
	const struct decision *d;
	size_t njobs;

	assert_non_null(ds);
	/* Catalog: a pure wheel for the pin, an abi3 manylinux wheel for
	 * x86_64 only, a wheel needing glibc 2.38 (newer than Debian 12). */
	add_wheel(fx, "pinned", "1.0", "py3", "none", "any", NULL);
	add_wheel(fx, "abi", "2.0", "cp311", "abi3",
	    "manylinux_2_17_x86_64.manylinux2014_x86_64", ">=3.11");
	add_wheel(fx, "newglibc", "1.0", "cp311", "cp311",
	    "manylinux_2_38_x86_64", NULL);

	reqs(fx, "constraints.txt", "gamma<2\n# not built by itself:\n"
	    "delta!=1.1\nunlisted==1.0\n");
	sha_hex("h1", h);
	snprintf(hashline, sizeof(hashline), "hashed --hash=sha256:%s\n", h);
	rf[0] = reqs(fx, "requirements.txt",
	    "-c constraints.txt\n"
	    "pinned==1.0\n"
	    "alpha>=1.0\n"
	    "pyonly\n"
	    "wheelonly\n"
	    "purewheel\n"
	    "gamma\n"
	    "Delta>=1.0\n"
	    "abi==2.0\n"
	    "newglibc==1.0\n"
	    "armonly; platform_machine == 'aarch64'\n"
	    "winonly; sys_platform == 'win32'\n"
	    "missing-project\n"
	    "broken\n"
	    "urlpkg @ https://example.com/urlpkg-1.0.tar.gz\n");
	{
		char more[512];
		snprintf(more, sizeof(more), "%salpha!=1.1.*\n", hashline);
		rf[1] = reqs(fx, "more.txt", more);
	}

	run(fx, rf, 2, NULL, ds, &st);
	assert_int_equal(st.projects, 15);
	assert_int_equal(st.items, 15 * 4);

	/* The pin the catalog satisfies: no upstream request at all. */
	expect(ds, "pinned", "py311", RECON_SATISFIED, "1.0");
	expect(ds, "pinned", "musl311", RECON_SATISFIED, "1.0");
	expect(ds, "pinned", "arm311", RECON_SATISFIED, "1.0");
	assert_int_equal(server_total(&fx->srv, "/simple/pinned/"), 0);
	/* Both files' lines apply: >=1.0 and !=1.1.*; 1.2 is yanked and
	 * 2.0rc1 a pre-release: 1.0. */
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "1.0");
	expect(ds, "alpha", "musl311", RECON_ENQUEUED, "1.0");
	/* Requires-Python decides per target. */
	expect(ds, "pyonly", "py311", RECON_ENQUEUED, "2.0");
	expect(ds, "pyonly", "py312", RECON_ENQUEUED, "3.0");
	/* Only a Windows wheel: nothing to build from. */
	expect(ds, "wheelonly", "py311", RECON_NO_CANDIDATE, NULL);
	assert_non_null(strstr(find(ds, "wheelonly", "py311")->detail,
	    "no sdist or wheel"));
	/* A pure wheel upstream is a candidate (fetched, not built). */
	expect(ds, "purewheel", "arm311", RECON_ENQUEUED, "4.0");
	/* Constraints apply; a project only constrained is not built. */
	expect(ds, "gamma", "py311", RECON_ENQUEUED, "1.5");
	expect(ds, "delta", "py311", RECON_ENQUEUED, "1.0");
	for (size_t i = 0; i < ds->n; i++)
		assert_string_not_equal(ds->d[i].project, "unlisted");
	/* abi3 for cp311 x86_64 covers py311 and py312 but not arm or musl. */
	expect(ds, "abi", "py311", RECON_SATISFIED, "2.0");
	expect(ds, "abi", "py312", RECON_SATISFIED, "2.0");
	expect(ds, "abi", "arm311", RECON_ENQUEUED, "2.0");
	expect(ds, "abi", "musl311", RECON_ENQUEUED, "2.0");
	/* manylinux_2_38 does not install on glibc 2.36. */
	expect(ds, "newglibc", "py311", RECON_ENQUEUED, "1.0");
	/* Markers. */
	expect(ds, "armonly", "arm311", RECON_ENQUEUED, "1.0");
	expect(ds, "armonly", "py311", RECON_SKIP_MARKER, NULL);
	expect(ds, "winonly", "py311", RECON_SKIP_MARKER, NULL);
	expect(ds, "winonly", "arm311", RECON_SKIP_MARKER, NULL);
	assert_int_equal(server_total(&fx->srv, "/simple/winonly/"), 0);
	/* --hash: only the release with that sdist. */
	expect(ds, "hashed", "py311", RECON_ENQUEUED, "1.0");
	/* Not found, server error, direct URL. */
	expect(ds, "missing-project", "py311", RECON_NOT_FOUND, NULL);
	expect(ds, "broken", "py311", RECON_UPSTREAM_ERROR, NULL);
	assert_non_null(strstr(find(ds, "broken", "py311")->detail, "500"));
	expect(ds, "urlpkg", "py311", RECON_UNSUPPORTED, NULL);
	/* Each page was fetched once for all four targets. */
	assert_int_equal(server_total(&fx->srv, "/simple/alpha/"), 1);

	/* The jobs are real. */
	d = find(ds, "pyonly", "py312");
	assert_true(d->job > 0);
	assert_int_equal(jobs_get(fx->js, d->job, &j, &err), 0);
	assert_string_equal(j.project, "pyonly");
	assert_string_equal(j.version, "3.0");
	assert_string_equal(j.target, "py312");
	assert_string_equal(j.requirement, "pyonly");
	assert_string_equal(j.origin, "reconcile");
	assert_int_equal(j.max_attempts, 3);
	assert_int_equal(j.state, JOB_QUEUED);
	job_free(&j);
	njobs = count_jobs(fx);
	assert_int_equal(njobs, st.by_action[RECON_ENQUEUED]);

	/* Second pass: nothing new; existing jobs are found. */
	run(fx, rf, 2, NULL, ds, &st);
	assert_int_equal(st.by_action[RECON_ENQUEUED], 0);
	expect(ds, "alpha", "py311", RECON_JOB_EXISTS, "1.0");
	assert_int_equal(count_jobs(fx), njobs);

	/* A build that failed is not retried by reconcile; one that failed
	 * because the upstream was unreachable is. */
	{
		const char *targets[1] = { "py311" };
		struct job c;
		int64_t gid = find(ds, "gamma", "py311")->job;
		int64_t aid = find(ds, "alpha", "py311")->job;
		int got = 0;

		while (jobs_claim(fx->js, "local", targets, 1, NULL, &c,
		    &err) == 0) {
			if (c.id == gid)
				assert_int_equal(jobs_fail(fx->js, c.id,
				    JOB_FAIL_BUILD_ERROR, "gcc", 1, 0, 0, &err),
				    JOB_FAILED);
			else if (c.id == aid)
				assert_int_equal(jobs_fail(fx->js, c.id,
				    JOB_FAIL_UPSTREAM, "503", 0, 0, 0, &err),
				    JOB_FAILED);
			else
				assert_int_equal(jobs_cancel(fx->js, c.id, &err),
				    1);
			got++;
			job_free(&c);
		}
		assert_true(got >= 2);
	}
	run(fx, rf, 2, NULL, ds, &st);
	expect(ds, "gamma", "py311", RECON_JOB_EXISTS, "1.5");
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "1.0");
	assert_int_equal(st.by_action[RECON_ENQUEUED], 1);

	/* Once the catalog has the wheels, the pass is satisfied. */
	add_wheel(fx, "alpha", "1.0", "py3", "none", "any", NULL);
	run(fx, rf, 2, NULL, ds, &st);
	expect(ds, "alpha", "arm311", RECON_SATISFIED, "1.0");

	reqfile_free(rf[0]);
	reqfile_free(rf[1]);
	free(ds);
}

static void
test_pins_pre_and_yanked(void **state)
{
	struct fixture *fx = *state;
	struct reqfile *rf[1];
	struct reconcile_stats st;
	struct reconcile_opts o;
	struct decisions *ds = calloc(1, sizeof(*ds));
	const char *only[1] = { "py311" };

	assert_non_null(ds);
	memset(&o, 0, sizeof(o));
	o.targets = only;
	o.ntargets = 1;
	o.dry_run = 1;

	/* An exact pin allows its pre-release and its yanked release. */
	rf[0] = reqs(fx, "r1.txt", "alpha==1.2\n");
	run(fx, rf, 1, &o, ds, &st);
	assert_int_equal(st.items, 1);
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "1.2");
	reqfile_free(rf[0]);
	rf[0] = reqs(fx, "r2.txt", "alpha==2.0rc1\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "2.0rc1");
	reqfile_free(rf[0]);
	/* A specifier naming a pre-release, or --pre, allows them. */
	rf[0] = reqs(fx, "r3.txt", "alpha>=2.0a1\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "2.0rc1");
	reqfile_free(rf[0]);
	rf[0] = reqs(fx, "r4.txt", "--pre\nalpha\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_ENQUEUED, "2.0rc1");
	reqfile_free(rf[0]);
	/* Ranges never pick yanked releases. */
	rf[0] = reqs(fx, "r5.txt", "alpha>1.1,<2\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_NO_CANDIDATE, NULL);
	assert_non_null(strstr(find(ds, "alpha", "py311")->detail, "1 yanked"));
	reqfile_free(rf[0]);
	/* Conflicting lines: nothing fits. */
	rf[0] = reqs(fx, "r6.txt", "alpha==1.0\nalpha==1.1\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_NO_CANDIDATE, NULL);
	reqfile_free(rf[0]);
	/* A dry run enqueues nothing. */
	assert_int_equal(count_jobs(fx), 0);
	/* The pin of a missing release. */
	rf[0] = reqs(fx, "r7.txt", "alpha==9.9\n");
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_NO_CANDIDATE, NULL);
	reqfile_free(rf[0]);
	free(ds);
}

static void
test_offline_and_cache(void **state)
{
	struct fixture *fx = *state;
	struct reqfile *rf[1];
	struct reconcile_stats st;
	struct reconcile_opts o;
	struct decisions *ds = calloc(1, sizeof(*ds));
	int before;

	assert_non_null(ds);
	memset(&o, 0, sizeof(o));
	o.offline = 1;
	rf[0] = reqs(fx, "r.txt", "alpha\npyonly\n");
	/* Offline with nothing cached: errors, and no request. */
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "alpha", "py311", RECON_UPSTREAM_ERROR, NULL);
	assert_int_equal(server_total(&fx->srv, NULL), 0);
	/* Online once fills the cache; offline then decides the same. */
	o.offline = 0;
	o.dry_run = 1;
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "pyonly", "py312", RECON_ENQUEUED, "3.0");
	before = server_total(&fx->srv, NULL);
	assert_int_equal(before, 2);
	o.offline = 1;
	run(fx, rf, 1, &o, ds, &st);
	expect(ds, "pyonly", "py312", RECON_ENQUEUED, "3.0");
	expect(ds, "alpha", "musl311", RECON_ENQUEUED, "1.1");
	assert_int_equal(server_total(&fx->srv, NULL), before);
	reqfile_free(rf[0]);
	free(ds);
}

/* A dir: upstream (air-gapped site) instead of an index. */
static void
test_dir_upstream(void **state)
{
	struct fixture *fx = *state;
	struct config *c = fx->conf;
	struct upstream_set *ups;
	struct reqfile *rf[1];
	struct reconcile_stats st;
	struct decisions *ds = calloc(1, sizeof(*ds));
	char dir[PATH_MAX], path[PATH_MAX];
	struct wwerr err;

	assert_non_null(ds);
	snprintf(dir, sizeof(dir), "%s/sdists", fx->dir);
	assert_int_equal(util_mkdirs(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/localpkg-0.9.tar.gz", dir);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/localpkg-1.0.tar.gz", dir);
	write_file(path, "y");
	snprintf(path, sizeof(path), "%s/localpkg-1.1.dev0.tar.gz", dir);
	write_file(path, "z");
	snprintf(c->upstreams[0].url, sizeof(c->upstreams[0].url), "dir:%s",
	    dir);
	if (upstream_set_open(c, NULL, &ups, &err) == -1)
		fail_msg("%s", err.msg);
	rf[0] = reqs(fx, "r.txt", "localpkg<1.1\nnothere\n");
	memset(ds, 0, sizeof(*ds));
	if (reconcile_run(c, fx->cat, fx->js, ups,
	    (const struct reqfile *const *)rf, 1, NULL, record_cb, ds, &st,
	    &err) == -1)
		fail_msg("reconcile: %s", err.msg);
	expect(ds, "localpkg", "py311", RECON_ENQUEUED, "1.0");
	expect(ds, "nothere", "py311", RECON_NOT_FOUND, NULL);
	assert_int_equal(st.by_action[RECON_ENQUEUED], 4);
	reqfile_free(rf[0]);
	upstream_set_close(ups);
	free(ds);
}

static void
test_bad_target(void **state)
{
	struct fixture *fx = *state;
	struct reqfile *rf[1];
	struct reconcile_opts o;
	struct wwerr err;
	const char *only[1] = { "nope" };

	memset(&o, 0, sizeof(o));
	o.targets = only;
	o.ntargets = 1;
	rf[0] = reqs(fx, "r.txt", "alpha\n");
	assert_int_equal(reconcile_run(fx->conf, fx->cat, fx->js, fx->ups,
	    (const struct reqfile *const *)rf, 1, &o, NULL, NULL, NULL, &err),
	    -1);
	assert_int_equal(err.code, RECONCILE_E_ARG);
	assert_non_null(strstr(err.msg, "nope"));
	reqfile_free(rf[0]);
}

static int
group_setup(void **state)
{
	const char *base = getenv("WW_TEST_TMP");

	(void)state;
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_reconcile.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_env),
		cmocka_unit_test_setup_teardown(test_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins_pre_and_yanked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_offline_and_cache, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dir_upstream, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_target, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
