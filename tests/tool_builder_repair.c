/*
 * tool_builder_repair.c: a command-line driver for repair_fetch.c and
 * repair.c, so the end-to-end test (tests/e2e_repair.py) runs the real
 * code against a real engine and a real build container:
 *
 *   tool_builder_repair URL CID fetch WHEEL [opts]
 *       what would be bundled: the libraries found in the container (with
 *       their container paths and sizes), the ones missing, the
 *       interpreter's libraries and the search path
 *   tool_builder_repair URL CID repair WHEEL OUTDIR [opts]
 *       repair_container(): the repaired wheel, its tag, the bundled
 *       libraries and the edited members
 *   opts: --arch A (default x86_64) --libc glibc|musl --musl-minor N
 *         --python BIN (default python3) --build TAG
 * Prints one JSON document on stdout. Errors go to stderr as
 * "tool_builder_repair: CODE: message", exit 1 (2 for usage).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "policy.h"
#include "repair.h"
#include "repair_fetch.h"
#include "util.h"
#include "verify.h"

static void
usage(void)
{
	fprintf(stderr, "usage: tool_builder_repair URL CID fetch WHEEL | "
	    "repair WHEEL OUTDIR [--arch A] [--libc glibc|musl] "
	    "[--musl-minor N] [--python BIN] [--build TAG]\n");
	exit(2);
}

static json_t *
strs(char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void
emit(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "libc", required_argument, NULL, 'l' },
		{ "musl-minor", required_argument, NULL, 'm' },
		{ "python", required_argument, NULL, 'p' },
		{ "build", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct repair_target t;
	struct repair_fetch_opts fo;
	struct repair_fetched *f = NULL;
	struct repair_result res;
	struct verify_result *vr = NULL;
	struct policy_db *db = NULL;
	struct engine *e = NULL;
	struct limits lim;
	struct wwerr err;
	const char *url, *cid, *cmd, *build = NULL;
	int64_t v;
	int ch, rc = 1;
	size_t i;
	json_t *j, *a;

	if (argc < 5)
		usage();
	url = argv[1];
	cid = argv[2];
	cmd = argv[3];
	memset(&t, 0, sizeof(t));
	t.arch = "x86_64";
	t.libc = POLICY_LIBC_GLIBC;
	t.musl_minor = -1;
	memset(&fo, 0, sizeof(fo));
	fo.python_bin = "python3";
	optind = 4;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a':
			t.arch = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "musl") == 0)
				t.libc = POLICY_LIBC_MUSL;
			else if (strcmp(optarg, "glibc") == 0)
				t.libc = POLICY_LIBC_GLIBC;
			else
				usage();
			break;
		case 'm':
			if (util_parse_i64(optarg, 0, 99, &v) == -1)
				usage();
			t.musl_minor = (int)v;
			break;
		case 'p':
			fo.python_bin = optarg;
			break;
		case 'b':
			build = optarg;
			break;
		default:
			usage();
		}
	}
	if ((strcmp(cmd, "fetch") == 0 && argc - optind != 1) ||
	    (strcmp(cmd, "repair") == 0 && argc - optind != 2) ||
	    (strcmp(cmd, "fetch") != 0 && strcmp(cmd, "repair") != 0))
		usage();

	wwerr_clear(&err);
	limits_default(&lim);
	if (policy_db_load(NULL, &db, &err) == -1 ||
	    engine_open(url, NULL, &e, &err) == -1 ||
	    verify_file(argv[optind], NULL, &lim, &vr, &err) == -1)
		goto fail;
	t.db = db;
	if (strcmp(cmd, "fetch") == 0) {
		if (repair_fetch(e, cid, &t, vr->elfs, vr->nelfs, &fo, &f,
		    &err) == -1)
			goto fail;
		a = json_array();
		for (i = 0; i < f->nlibs; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:I}",
			    "soname", f->libs[i].soname, "origin",
			    f->libs[i].origin, "size",
			    (json_int_t)f->libs[i].len));
		j = json_pack("{s:o, s:o, s:o, s:s}", "libs", a, "missing",
		    strs(f->missing), "interp_libs", strs(f->interp_libs),
		    "search", f->search);
		emit(j);
		rc = 0;
		goto out;
	}
	if (repair_container(e, cid, argv[optind], argv[optind + 1], &t,
	    vr->elfs, vr->nelfs, &fo, build, &lim, &res, &err) == -1)
		goto fail;
	a = json_array();
	for (i = 0; i < res.nbundled; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
		    "soname", res.bundled[i].soname, "path",
		    res.bundled[i].path, "origin", res.bundled[i].origin ?
		    res.bundled[i].origin : "", "sha256",
		    res.bundled[i].sha256));
	j = json_pack("{s:s, s:s, s:o, s:o}", "path", res.path, "tag", res.tag,
	    "bundled", a, "edited", strs(res.edited));
	emit(j);
	repair_result_free(&res);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "tool_builder_repair: %s: %s\n",
	    repair_err_name(err.code), err.msg);
out:
	repair_fetched_free(f);
	verify_result_free(vr);
	engine_close(e);
	policy_db_free(db);
	return rc;
}
