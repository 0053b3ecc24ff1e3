/*
 * tool_verify: drive the verifier and retag from scripts (integration
 * tests, bench/verify_bench.sh). Prints one JSON object per file.
 *
 *   tool_verify [-l key=value]... [-n filename] [-r repeat] FILE...
 *   tool_verify -R platform [-b build] [-a path=srcfile]... -o outdir FILE
 *
 * -l overrides a limit (max_file_size, max_member_size, max_total_size,
 * max_members, max_ratio, max_metadata_size, max_elf_size, threads,
 * whole_member_max); -n
 * checks FILE under another filename; -r verifies each file that many
 * times (bench).
 * Exit status: 0 all verified, 1 some rejected, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "retag.h"
#include "util.h"
#include "verify.h"

static int
set_limit(struct limits *l, const char *kv)
{
	static const struct {
		const char *k;
		size_t off;
	} keys[] = {
		{ "max_file_size", offsetof(struct limits, max_file_size) },
		{ "max_member_size", offsetof(struct limits, max_member_size) },
		{ "max_total_size", offsetof(struct limits, max_total_size) },
		{ "max_members", offsetof(struct limits, max_members) },
		{ "max_ratio", offsetof(struct limits, max_ratio) },
		{ "max_metadata_size",
		    offsetof(struct limits, max_metadata_size) },
		{ "max_elf_size", offsetof(struct limits, max_elf_size) },
		{ "threads", offsetof(struct limits, threads) },
		{ "whole_member_max",
		    offsetof(struct limits, whole_member_max) },
	};
	const char *eq = strchr(kv, '=');
	size_t i;
	uint64_t v;

	if (eq == NULL || util_parse_size(eq + 1, &v) == -1)
		return -1;
	for (i = 0; i < WW_ARRLEN(keys); i++) {
		if (strlen(keys[i].k) == (size_t)(eq - kv) &&
		    strncmp(keys[i].k, kv, (size_t)(eq - kv)) == 0) {
			*(uint64_t *)((char *)l + keys[i].off) = v;
			return 0;
		}
	}
	return -1;
}

static json_t *
strlist(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
result_json(const char *file, const struct verify_result *r,
    const struct wwerr *err)
{
	json_t *o = json_object(), *elfs;
	size_t i, j;

	json_object_set_new(o, "file", json_string(file));
	if (r == NULL) {
		json_object_set_new(o, "ok", json_false());
		json_object_set_new(o, "error", json_pack("{s:s, s:i, s:s}",
		    "code", verify_err_name(err->code), "num", err->code,
		    "message", err->msg));
		return o;
	}
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "kind", json_string(r->kind == DIST_WHEEL ?
	    "wheel" : "sdist"));
	json_object_set_new(o, "filename", json_string(r->filename));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "normalized", json_string(r->normalized));
	json_object_set_new(o, "version", json_string(r->version));
	json_object_set_new(o, "sha256", json_string(r->sha256));
	json_object_set_new(o, "size", json_integer((json_int_t)r->size));
	if (r->kind == DIST_WHEEL) {
		json_object_set_new(o, "python_tag", json_string(r->python_tag));
		json_object_set_new(o, "abi_tag", json_string(r->abi_tag));
		json_object_set_new(o, "platform_tag",
		    json_string(r->platform_tag));
		json_object_set_new(o, "build_tag", json_string(r->build_tag));
		json_object_set_new(o, "root_is_purelib",
		    json_boolean(r->root_is_purelib));
	}
	json_object_set_new(o, "metadata_sha256",
	    json_string(r->metadata_sha256));
	json_object_set_new(o, "metadata_len",
	    json_integer((json_int_t)r->metadata_len));
	json_object_set_new(o, "requires_python", r->requires_python ?
	    json_string(r->requires_python) : json_null());
	json_object_set_new(o, "requires_dist",
	    strlist(r->requires_dist, r->nrequires_dist));
	elfs = json_array();
	for (i = 0; i < r->nelfs; i++) {
		const struct elf_report *e = r->elfs[i];
		json_t *sv = json_array();

		for (j = 0; j < e->nsymvers; j++)
			json_array_append_new(sv, json_pack("{s:s?, s:s?}",
			    "lib", e->symvers[j].lib, "version",
			    e->symvers[j].version));
		json_array_append_new(elfs, json_pack(
		    "{s:s, s:s, s:i, s:o, s:o, s:s?}",
		    "path", e->path, "arch", e->arch ? e->arch : "unknown",
		    "machine", e->machine,
		    "needed", strlist(e->needed, e->nneeded),
		    "symvers", sv, "interp", e->interp));
	}
	json_object_set_new(o, "elfs", elfs);
	json_object_set_new(o, "members", json_integer((json_int_t)r->members));
	json_object_set_new(o, "uncompressed",
	    json_integer((json_int_t)r->uncompressed));
	return o;
}

static void
emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(o);
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_verify [-l key=value]... [-n filename] "
	    "[-r repeat] FILE...\n"
	    "       tool_verify -R platform [-b build] [-a path=file]... "
	    "-o outdir FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct limits lim;
	struct verify_result *r;
	struct wwerr err;
	struct retag_opts ro;
	struct retag_member *add = NULL;
	const char *filename = NULL, *outdir = NULL, *platform = NULL;
	const char *build = NULL;
	uint64_t repeat = 1, k;
	size_t nadd = 0;
	int ch, i, bad = 0;

	/*
	 * libarchive converts zip DOS times with mktime(), and glibc stats
	 * /etc/localtime on every call unless TZ is set: naming the same
	 * zone explicitly saves a syscall per member without changing it.
	 */
	setenv("TZ", ":/etc/localtime", 0);
	limits_default(&lim);
	while ((ch = getopt(argc, argv, "a:b:l:n:o:r:R:")) != -1) {
		switch (ch) {
		case 'a': {
			const char *eq = strchr(optarg, '=');
			char *data = NULL, *p;
			size_t len;

			if (eq == NULL)
				usage();
			if (util_read_file(eq + 1, 1024 * 1024 * 1024, &data,
			    &len) == -1) {
				perror(eq + 1);
				return 2;
			}
			add = reallocarray(add, nadd + 1, sizeof(*add));
			if (add == NULL || (p = strndup(optarg,
			    (size_t)(eq - optarg))) == NULL)
				return 2;
			add[nadd].path = p;
			add[nadd].data = data;
			add[nadd].len = len;
			add[nadd].mode = 0755;
			nadd++;
			break;
		}
		case 'b': build = optarg; break;
		case 'l':
			if (set_limit(&lim, optarg) == -1)
				usage();
			break;
		case 'n': filename = optarg; break;
		case 'o': outdir = optarg; break;
		case 'r':
			if (util_parse_u64(optarg, 1000000, &repeat) == -1)
				usage();
			break;
		case 'R': platform = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (outdir != NULL) {
		char *out = NULL;
		json_t *o;

		if (argc != 1)
			usage();
		memset(&ro, 0, sizeof(ro));
		ro.platform = platform;
		ro.build = build;
		ro.add = add;
		ro.nadd = nadd;
		wwerr_clear(&err);
		o = json_object();
		json_object_set_new(o, "file", json_string(argv[0]));
		if (retag_wheel(argv[0], outdir, &ro, &lim, &out, &err) == -1) {
			json_object_set_new(o, "ok", json_false());
			json_object_set_new(o, "error", json_pack(
			    "{s:s, s:i, s:s}", "code", err.code < 100 ?
			    verify_err_name(err.code) : retag_err_name(err.code),
			    "num", err.code, "message", err.msg));
			bad = 1;
		} else {
			json_object_set_new(o, "ok", json_true());
			json_object_set_new(o, "path", json_string(out));
		}
		emit(o);
		free(out);
		for (k = 0; k < nadd; k++) {
			free((char *)add[k].path);
			free((void *)add[k].data);
		}
		free(add);
		return bad;
	}
	for (i = 0; i < argc; i++) {
		for (k = 0; k < repeat; k++) {
			wwerr_clear(&err);
			r = NULL;
			if (verify_file(argv[i], filename, &lim, &r, &err) == -1)
				bad = 1;
			if (k + 1 == repeat)
				emit(result_json(argv[i], r, &err));
			verify_result_free(r);
		}
	}
	return bad;
}
