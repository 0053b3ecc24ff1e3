/*
 * tool_builder_sched.c: drives the scheduling half of builderd (upstream,
 * reconcile, jobs) from integration tests and benchmarks, on a real config
 * file, data directory and index, printing JSON:
 *
 *   parse html|json PROJECT PAGE_URL FILE   parse a saved page
 *   page -c CONF UPSTREAM PROJECT [--revalidate]
 *   download -c CONF UPSTREAM PROJECT FILENAME DEST
 *   reconcile -c CONF [--dry-run] [--offline] [--quiet] [--repeat N]
 *   claim -c CONF ENGINE TARGET [--log TEXT] [--succeed WHEEL |
 *       --fail CLASS [--retry]]   (an executor's moves, for indexctl tests)
 *   finish -c CONF JOB --succeed WHEEL | --fail CLASS [--retry] |
 *       --cancelled
 *   seed -c CONF [--unpinned VERSION]   catalog wheels that cover every
 *       pinned requirement (and unpinned ones at VERSION) on every
 *       target (benchmark set-up)
 *
 * Requirements files named in the config are relative to its directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "catalog.h"
#include "config.h"
#include "hash.h"
#include "jobs.h"
#include "log.h"
#include "reconcile.h"
#include "requirement.h"
#include "specifier.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

static void
die(const char *what, const struct wwerr *err)
{
	fprintf(stderr, "tool_builder_sched: %s: %s\n", what,
	    err ? err->msg : strerror(errno));
	exit(1);
}

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: tool_builder_sched parse|page|download|"
	    "reconcile|claim|seed ... (see the source)\n");
	exit(2);
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
print_page(const struct upstream_page *p)
{
	json_t *root, *files, *f;
	size_t i;
	static const char *const src[] = { "", "fetched", "revalidated",
	    "cached", "stale", "local" };
	static const char *const fmt[] = { "", "json", "html", "dir" };

	root = json_pack("{s:s, s:s, s:s, s:I, s:[]}", "project", p->project,
	    "format", fmt[p->format], "source", src[p->source], "skipped",
	    (json_int_t)p->nskipped, "files");
	files = json_object_get(root, "files");
	for (i = 0; i < p->nfiles; i++) {
		const struct upstream_file *u = &p->files[i];
		f = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:b,"
		    " s:o, s:I}", "filename", u->filename, "url", u->url,
		    "kind", u->kind == 'w' ? "wheel" : "sdist", "version",
		    u->version, "sha256", u->sha256[0] ? json_string(u->sha256) :
		    json_null(), "requires_python", jstr(u->requires_python),
		    "yanked", u->yanked, "yanked_reason", jstr(u->yanked_reason),
		    "has_metadata", u->has_metadata, "metadata_sha256",
		    u->metadata_sha256[0] ? json_string(u->metadata_sha256) :
		    json_null(), "size", (json_int_t)u->size);
		json_array_append_new(files, f);
	}
	json_dumpf(root, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(root);
}

static int
cmd_parse(int argc, char **argv)
{
	struct upstream_page *p;
	struct wwerr err;
	char *data;
	size_t len;
	int rc;

	if (argc != 5)
		usage();
	if (util_read_file(argv[4], 64 << 20, &data, &len) == -1)
		die(argv[4], NULL);
	if (!strcmp(argv[1], "html"))
		rc = upstream_parse_html(argv[2], argv[3], data, len, &p, &err);
	else if (!strcmp(argv[1], "json"))
		rc = upstream_parse_json(argv[2], argv[3], data, len, &p, &err);
	else
		usage();
	free(data);
	if (rc == -1) {
		printf("{\"error\": \"%d\"}\n", err.code);
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	print_page(p);
	upstream_page_free(p);
	return 0;
}

/* Options shared by the config-based commands. */
struct ctx {
	struct config	*conf;
	char		 confdir[PATH_MAX];
	struct store	*store;
	struct catalog	*cat;
	struct jobs	*js;
	struct upstream_set *ups;
};

static void
open_ctx(struct ctx *x, const char *confpath, int need_store)
{
	char cache[PATH_MAX], *slash;
	struct wwerr err;

	memset(x, 0, sizeof(*x));
	if (config_load(confpath, &x->conf, &err) == -1)
		die("config", &err);
	util_strlcpy(x->confdir, confpath, sizeof(x->confdir));
	if ((slash = strrchr(x->confdir, '/')) != NULL)
		*slash = '\0';
	else
		util_strlcpy(x->confdir, ".", sizeof(x->confdir));
	if (need_store) {
		if (store_open(x->conf->datadir, &x->store, &err) == -1)
			die("store", &err);
		if (catalog_open(store_catalog_path(x->store), 0, &x->cat,
		    &err) == -1)
			die("catalog", &err);
		if (jobs_open(x->cat, &x->js, &err) == -1)
			die("jobs", &err);
	}
	snprintf(cache, sizeof(cache), "%s/cache/upstream", x->conf->datadir);
	if (upstream_set_open(x->conf, cache, &x->ups, &err) == -1)
		die("upstreams", &err);
}

static void
close_ctx(struct ctx *x)
{
	upstream_set_close(x->ups);
	jobs_close(x->js);
	catalog_close(x->cat);
	store_close(x->store);
	config_free(x->conf);
}

static const char *
opt_conf(int *argc, char ***argv)
{
	if (*argc < 3 || strcmp((*argv)[1], "-c") != 0)
		usage();
	*argc -= 2;
	*argv += 2;
	return (*argv)[0];
}

static int
cmd_page(int argc, char **argv)
{
	struct upstream_page *p;
	struct upstream *u;
	struct wwerr err;
	struct ctx x;
	const char *conf = opt_conf(&argc, &argv);
	int rc, flags = 0;

	if (argc < 3)
		usage();
	if (argc > 3 && !strcmp(argv[3], "--revalidate"))
		flags = UPSTREAM_REVALIDATE;
	open_ctx(&x, conf, 0);
	if ((u = upstream_set_find(x.ups, argv[1])) == NULL) {
		fprintf(stderr, "no upstream %s\n", argv[1]);
		return 2;
	}
	rc = upstream_get_project(u, argv[2], flags, &p, &err);
	if (rc == 1)
		printf("{\"not_found\": true}\n");
	else if (rc == 0) {
		print_page(p);
		upstream_page_free(p);
	} else
		fprintf(stderr, "%s\n", err.msg);
	close_ctx(&x);
	return rc == -1 ? 1 : 0;
}

static int
cmd_download(int argc, char **argv)
{
	struct upstream_page *p;
	struct upstream *u;
	struct wwerr err;
	struct ctx x;
	char hex[HASH_SHA256_HEXLEN];
	const char *conf = opt_conf(&argc, &argv);
	size_t i;
	int rc = 1;

	if (argc != 5)
		usage();
	open_ctx(&x, conf, 0);
	if ((u = upstream_set_find(x.ups, argv[1])) == NULL ||
	    upstream_get_project(u, argv[2], 0, &p, &err) != 0) {
		fprintf(stderr, "no page for %s\n", argv[2]);
		return 1;
	}
	for (i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].filename, argv[3]))
			break;
	if (i == p->nfiles)
		fprintf(stderr, "no file %s\n", argv[3]);
	else if (upstream_download(u, &p->files[i], argv[4],
	    x.conf->limits.max_file_size, hex, &err) == -1)
		fprintf(stderr, "%s\n", err.msg);
	else {
		printf("{\"sha256\": \"%s\"}\n", hex);
		rc = 0;
	}
	upstream_page_free(p);
	close_ctx(&x);
	return rc;
}

static void
load_reqs(struct ctx *x, struct reqfile ***rfs, size_t *n)
{
	char path[PATH_MAX];
	struct wwerr err;
	size_t i;

	*rfs = calloc(x->conf->nrequirements + 1, sizeof(**rfs));
	if (*rfs == NULL)
		die("calloc", NULL);
	for (i = 0; i < x->conf->nrequirements; i++) {
		if (x->conf->requirements[i][0] == '/')
			util_strlcpy(path, x->conf->requirements[i],
			    sizeof(path));
		else
			snprintf(path, sizeof(path), "%s/%s", x->confdir,
			    x->conf->requirements[i]);
		if (reqfile_load(path, &(*rfs)[i], &err) == -1)
			die("requirements", &err);
	}
	*n = x->conf->nrequirements;
}

static void
item_cb(const struct reconcile_item *it, void *arg)
{
	json_t *o;

	(void)arg;
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:I, s:s}",
	    "project", it->project, "requirement", it->requirement, "file",
	    it->file, "target", it->target, "line", (int)it->line, "action",
	    reconcile_action_name(it->action), "version", jstr(it->version),
	    "job", (json_int_t)it->job_id, "detail", it->detail);
	json_dumpf(o, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(o);
}

static int
cmd_reconcile(int argc, char **argv)
{
	struct reconcile_opts o;
	struct reconcile_stats st;
	struct reqfile **rfs;
	struct wwerr err;
	struct ctx x;
	const char *conf = opt_conf(&argc, &argv);
	int64_t best = INT64_MAX, t0, load_us;
	uint64_t repeat = 1, r;
	size_t nrf, i;
	int quiet = 0, a;
	json_t *stats, *by;

	memset(&o, 0, sizeof(o));
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--dry-run"))
			o.dry_run = 1;
		else if (!strcmp(argv[a], "--offline"))
			o.offline = 1;
		else if (!strcmp(argv[a], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[a], "--repeat") && a + 1 < argc) {
			if (util_parse_u64(argv[++a], 100000, &repeat) == -1 ||
			    repeat == 0)
				usage();
		} else
			usage();
	}
	open_ctx(&x, conf, 1);
	t0 = util_now_us();
	load_reqs(&x, &rfs, &nrf);
	load_us = util_now_us() - t0;
	for (r = 0; r < repeat; r++) {
		if (reconcile_run(x.conf, x.cat, x.js, x.ups,
		    (const struct reqfile *const *)rfs, nrf, &o,
		    quiet || r > 0 ? NULL : item_cb, NULL, &st, &err) == -1)
			die("reconcile", &err);
		if (st.elapsed_us < best)
			best = st.elapsed_us;
	}
	by = json_object();
	for (i = 0; i < RECON__NACTIONS; i++)
		json_object_set_new(by, reconcile_action_name(i),
		    json_integer((json_int_t)st.by_action[i]));
	stats = json_pack("{s:{s:I, s:I, s:I, s:o, s:I, s:I, s:I}}", "stats",
	    "projects", (json_int_t)st.projects, "items",
	    (json_int_t)st.items, "upstream_pages",
	    (json_int_t)st.upstream_pages, "by_action", by, "elapsed_us",
	    (json_int_t)st.elapsed_us, "best_us", (json_int_t)best,
	    "load_us", (json_int_t)load_us);
	json_dumpf(stats, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(stats);
	for (i = 0; i < nrf; i++)
		reqfile_free(rfs[i]);
	free(rfs);
	close_ctx(&x);
	return 0;
}

static int
cmd_claim(int argc, char **argv)
{
	const char *conf = opt_conf(&argc, &argv);
	const char *log = NULL, *wheel = NULL, *fail = NULL, *targets[1];
	enum job_failure fc;
	struct wwerr err;
	struct ctx x;
	struct job j;
	int a, retry = 0, rc;

	if (argc < 3)
		usage();
	targets[0] = argv[2];
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "--log") && a + 1 < argc)
			log = argv[++a];
		else if (!strcmp(argv[a], "--succeed") && a + 1 < argc)
			wheel = argv[++a];
		else if (!strcmp(argv[a], "--fail") && a + 1 < argc)
			fail = argv[++a];
		else if (!strcmp(argv[a], "--retry"))
			retry = 1;
		else
			usage();
	}
	open_ctx(&x, conf, 1);
	if (util_mkdirs(x.conf->logdir, 0755) == -1)
		die(x.conf->logdir, NULL);
	rc = jobs_claim(x.js, argv[1], targets, 1, x.conf->logdir, &j, &err);
	if (rc == -1)
		die("claim", &err);
	if (rc == 1) {
		printf("{\"claimed\": null}\n");
		close_ctx(&x);
		return 3;
	}
	if (jobs_set_container(x.js, j.id, "0123456789abcdef", NULL,
	    &err) == -1)
		die("set container", &err);
	if (log != NULL && util_write_atomic(j.log_path, log,
	    strlen(log)) == -1)
		die(j.log_path, NULL);
	if (wheel != NULL && jobs_succeed(x.js, j.id, wheel, 0, &err) == -1)
		die("succeed", &err);
	if (fail != NULL) {
		if (job_failure_parse(fail, &fc) == -1 || fc == JOB_FAIL_NONE)
			usage();
		if (jobs_fail(x.js, j.id, fc, log ? log : fail, 1, retry,
		    x.conf->backoff_base, &err) == -1)
			die("fail", &err);
	}
	printf("{\"claimed\": %lld, \"project\": \"%s\", \"log\": \"%s\"}\n",
	    (long long)j.id, j.project, j.log_path);
	job_free(&j);
	close_ctx(&x);
	return 0;
}

static int
cmd_finish(int argc, char **argv)
{
	const char *conf = opt_conf(&argc, &argv);
	enum job_failure fc;
	struct wwerr err;
	struct ctx x;
	int64_t id;
	int rc = -1;

	if (argc < 3 || util_parse_i64(argv[1], 1, INT64_MAX, &id) == -1)
		usage();
	open_ctx(&x, conf, 1);
	if (!strcmp(argv[2], "--succeed") && argc == 4)
		rc = jobs_succeed(x.js, id, argv[3], 0, &err);
	else if (!strcmp(argv[2], "--fail") && argc >= 4) {
		if (job_failure_parse(argv[3], &fc) == -1)
			usage();
		rc = jobs_fail(x.js, id, fc, "failed by tool_builder_sched", 1,
		    argc == 5 && !strcmp(argv[4], "--retry"),
		    x.conf->backoff_base, &err);
	} else if (!strcmp(argv[2], "--cancelled") && argc == 3)
		rc = jobs_cancelled(x.js, id, &err);
	else
		usage();
	if (rc == -1)
		die("finish", &err);
	printf("{\"finished\": %lld}\n", (long long)id);
	close_ctx(&x);
	return 0;
}

/*
 * Catalog rows (no files: the no-op reconcile reads only the catalog) so
 * that every pinned requirement is covered on every target: every other
 * project by one py3-none-any wheel, the rest by one binary wheel per
 * target, so the tag checks do real work.
 */
static int
cmd_seed(int argc, char **argv)
{
	const char *conf = opt_conf(&argc, &argv);
	struct reqfile **rfs;
	struct catalog_file f;
	struct target_env env;
	struct wwerr err;
	struct ctx x;
	char fn[512], py[16], plat[128], pin[256], esc[256];
	unsigned char d[HASH_SHA256_LEN];
	const char *spec, *eq, *unpinned = NULL;
	size_t nrf, i, k, t, n = 0;

	if (argc == 3 && !strcmp(argv[1], "--unpinned"))
		unpinned = argv[2];
	else if (argc != 1)
		usage();
	open_ctx(&x, conf, 1);
	load_reqs(&x, &rfs, &nrf);
	if (catalog_begin(x.cat, &err) == -1)
		die("begin", &err);
	for (i = 0; i < nrf; i++)
		for (k = 0; k < rfs[i]->nentries; k++) {
			const struct reqfile_entry *e = &rfs[i]->entries[k];
			if (e->constraint)
				continue;
			spec = specset_str(e->req->spec);
			if (*spec == '\0' && unpinned != NULL)
				util_strlcpy(pin, unpinned, sizeof(pin));
			else if (strncmp(spec, "==", 2) != 0 ||
			    strchr(spec, ',') || strchr(spec, '*') ||
			    spec[2] == '=')
				continue;
			else
				util_strlcpy(pin, spec + 2, sizeof(pin));
			util_strlcpy(esc, e->req->normalized, sizeof(esc));
			for (eq = esc; *eq; eq++)
				if (*eq == '-')
					esc[eq - esc] = '_';
			memset(&f, 0, sizeof(f));
			f.project = e->req->normalized;
			f.project_display = e->req->name;
			f.version = pin;
			f.filename = fn;
			f.kind = 'w';
			f.size = 1000;
			f.origin = "seed";
			for (t = 0; t < x.conf->ntargets; t++) {
				if (n % 2 == 0 && t > 0)
					break;
				if (n % 2 == 0) {
					f.python_tag = "py3";
					f.abi_tag = "none";
					f.platform_tag = "any";
				} else {
					if (reconcile_target_env(
					    &x.conf->targets[t], &env, &err) == -1)
						die("target", &err);
					snprintf(py, sizeof(py), "cp%d%d",
					    env.py_major, env.py_minor);
					snprintf(plat, sizeof(plat), "%s_%s",
					    env.libc == LIBC_MUSL ?
					    "musllinux_1_1" : "manylinux_2_17",
					    env.arch);
					f.python_tag = py;
					f.abi_tag = py;
					f.platform_tag = plat;
				}
				snprintf(fn, sizeof(fn), "%s-%s-%s-%s-%s.whl", esc,
				    pin, f.python_tag, f.abi_tag, f.platform_tag);
				hash_sha256_mem(fn, strlen(fn), d);
				hash_hex(d, sizeof(d), f.sha256);
				if (catalog_add_file(x.cat, &f, &err) == -1)
					die(fn, &err);
			}
			n++;
		}
	if (catalog_commit(x.cat, &err) == -1)
		die("commit", &err);
	printf("{\"seeded\": %zu}\n", n);
	for (i = 0; i < nrf; i++)
		reqfile_free(rfs[i]);
	free(rfs);
	close_ctx(&x);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	log_init("tool_builder_sched", 0);
	if (argc < 2)
		usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(argv[1], "parse"))
		rc = cmd_parse(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "page"))
		rc = cmd_page(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "download"))
		rc = cmd_download(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "reconcile"))
		rc = cmd_reconcile(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "claim"))
		rc = cmd_claim(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "finish"))
		rc = cmd_finish(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "seed"))
		rc = cmd_seed(argc - 1, argv + 1);
	else
		usage();
	curl_global_cleanup();
	return rc;
}
