/*
 * cmd-inspect.c: indexctl inspect FILE. Everything Wheelwright decides
 * about one wheel or sdist, without touching the index: the parsed
 * filename, the verification result (or the error with its code), each
 * ELF's needs, and the manylinux/musllinux tag its content allows with
 * every violation, and the libraries bundled into it by a repair.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "elf_inspect.h"
#include "indexctl.h"
#include "policy.h"
#include "repair.h"
#include "tags.h"
#include "util.h"
#include "verify.h"
#include "wheelname.h"

static int cmd_inspect_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_inspect_entry = {
	"inspect",
	"inspect [--json] FILE",
	"show a wheel's or sdist's name, tags, verification, ELF needs and "
	"the platform tag its content allows",
	cmd_inspect_exec
};

static const char *
libc_name(int libc)
{
	switch (libc) {
	case ELF_LIBC_GLIBC:
		return "glibc";
	case ELF_LIBC_MUSL:
		return "musl";
	}
	return "none";
}

static json_t *
json_strs(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
elf_json(const struct elf_report *e)
{
	json_t *j, *sv = json_array();
	size_t i;

	for (i = 0; sv != NULL && i < e->nsymvers; i++)
		json_array_append_new(sv, json_pack("{s:s, s:s}", "library",
		    e->symvers[i].lib, "version", e->symvers[i].version));
	j = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
	    "s:o}", "path", e->path, "arch", e->arch ? e->arch : "unknown",
	    "class", e->elfclass, "interpreter", json_str_or_null(e->interp),
	    "soname", json_str_or_null(e->soname), "runpath",
	    json_str_or_null(e->runpath), "rpath", json_str_or_null(e->rpath),
	    "needed", json_strs(e->needed, e->nneeded), "symbol_versions", sv,
	    "libc", libc_name(e->libc), "static_libc_symbols",
	    json_strs(e->static_libc_syms, e->nstatic_libc_syms));
	return j;
}

static void
elf_print(const struct elf_report *e)
{
	size_t i, j;
	int first;

	printf("  %s\n", e->path);
	printf("    arch %s (ELF%d, %s-endian), libc %s\n",
	    e->arch ? e->arch : "unknown", e->elfclass,
	    e->little_endian ? "little" : "big", libc_name(e->libc));
	if (e->interp)
		printf("    interpreter %s\n", e->interp);
	if (e->soname)
		printf("    soname %s\n", e->soname);
	if (e->runpath)
		printf("    runpath %s\n", e->runpath);
	if (e->rpath)
		printf("    rpath %s\n", e->rpath);
	printf("    needed:");
	for (i = 0; i < e->nneeded; i++)
		printf(" %s", e->needed[i]);
	printf("%s\n", e->nneeded ? "" : " (nothing)");
	/* Symbol versions grouped by library, in report order. */
	for (i = 0; i < e->nsymvers; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(e->symvers[j].lib, e->symvers[i].lib) == 0)
				break;
		if (j < i)
			continue;
		printf("    versions from %s:", e->symvers[i].lib);
		first = 1;
		for (j = i; j < e->nsymvers; j++) {
			if (strcmp(e->symvers[j].lib, e->symvers[i].lib) != 0)
				continue;
			printf("%s%s", first ? " " : ", ",
			    e->symvers[j].version);
			first = 0;
		}
		printf("\n");
	}
	if (e->nstatic_libc_syms > 0) {
		printf("    defines libc symbols (statically linked libc?):");
		for (i = 0; i < e->nstatic_libc_syms && i < 8; i++)
			printf(" %s", e->static_libc_syms[i]);
		printf("%s\n", e->nstatic_libc_syms > 8 ? " ..." : "");
	}
}

/*
 * How the platform tags the wheel claims compare with what its content
 * allows: NULL if they agree, else a sentence (written into buf).
 */
static const char *
claim_verdict(const struct wheelname *wn, const struct policy_result *pr,
    char *buf, size_t buflen)
{
	struct platform p;
	char tag[128], *save = NULL, *t;

	snprintf(tag, sizeof(tag), "%s", wn->platform);
	for (t = strtok_r(tag, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		if (platform_parse(t, &p) == -1)
			continue;
		if (p.kind == PLAT_LINUX) {
			snprintf(buf, buflen, "claims %s, which no index may "
			    "serve; retag it to %s", t, pr->tag[0] ? pr->tag :
			    "a manylinux/musllinux tag once the violations are "
			    "fixed");
			return buf;
		}
		if (p.kind != PLAT_MANYLINUX && p.kind != PLAT_MUSLLINUX)
			continue;
		if (pr->tag[0] == '\0') {
			snprintf(buf, buflen, "claims %s, but no policy allows "
			    "the content", t);
			return buf;
		}
		if ((p.kind == PLAT_MANYLINUX) !=
		    (pr->libc != POLICY_LIBC_MUSL) && pr->libc !=
		    POLICY_LIBC_NONE) {
			snprintf(buf, buflen, "claims %s, but the content needs "
			    "%s", t, pr->tag);
			return buf;
		}
		if (p.major < pr->major || (p.major == pr->major &&
		    p.minor < pr->minor)) {
			snprintf(buf, buflen, "claims %s, more than the content "
			    "allows (%s)", t, pr->tag);
			return buf;
		}
	}
	return NULL;
}

/* The wheel's arch: from its (first Linux) platform tag, else its ELFs. */
static const char *
wheel_arch(const struct wheelname *wn, const struct verify_result *r,
    char *buf, size_t buflen)
{
	struct platform p;
	char tag[128], *save = NULL, *t;

	snprintf(tag, sizeof(tag), "%s", wn->platform);
	for (t = strtok_r(tag, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		if (platform_parse(t, &p) == 0 && p.arch[0] != '\0') {
			snprintf(buf, buflen, "%s", p.arch);
			return buf;
		}
	}
	if (r != NULL && r->nelfs > 0 && r->elfs[0]->arch != NULL)
		return r->elfs[0]->arch;
	return NULL;
}

static int
cmd_inspect_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct wheelname wn;
	struct sdistname sn;
	struct verify_result *r = NULL;
	struct policy_db *db = NULL;
	struct policy_result pr;
	struct wwerr err, verr, perr;
	const char *path, *fn, *arch = NULL;
	char archbuf[32], verdict[512], **bundled = NULL;
	size_t nbundled = 0;
	json_t *j = NULL, *jv = NULL, *jp = NULL, *jelfs = NULL;
	int ch, kind, rc = 1, have_policy = 0, parsed;
	size_t i;

	if (cmd_want_help(&cmd_inspect_entry, argc, argv))
		return 0;
	optind = 0;	/* 0: full getopt re-init (main used "+") */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(&cmd_inspect_entry);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_inspect_entry);
	path = argv[optind];
	fn = util_base_name(path);
	memset(&pr, 0, sizeof(pr));

	kind = distname_kind(fn);
	parsed = 0;
	wwerr_clear(&err);
	if (kind == 'w')
		parsed = wheelname_parse(fn, &wn, &err) == 0;
	else if (kind == 's')
		parsed = sdistname_parse(fn, &sn, &err) == 0;
	else
		wwerr_set(&err, 1, "%s: not a wheel (.whl) or sdist (.tar.gz, "
		    ".zip) file name", fn);

	wwerr_clear(&verr);
	if (verify_file(path, NULL, &ctx->conf->limits, &r, &verr) == -1)
		r = NULL;

	if (r != NULL && repair_list_bundled(r, &bundled, &nbundled) == -1) {
		fprintf(stderr, "indexctl: inspect: out of memory\n");
		goto out;
	}
	if (kind == 'w' && parsed && r != NULL && r->nelfs > 0) {
		arch = wheel_arch(&wn, r, archbuf, sizeof(archbuf));
		wwerr_clear(&perr);
		if (policy_db_load(NULL, &db, &perr) == -1)
			fprintf(stderr, "indexctl: inspect: policy tables: %s\n",
			    perr.msg);
		else if (arch == NULL)
			wwerr_set(&perr, 1, "cannot tell the architecture");
		else if (policy_evaluate(db, r->elfs, r->nelfs, arch, -1, &pr,
		    &perr) == -1)
			fprintf(stderr, "indexctl: inspect: policy: %s\n",
			    perr.msg);
		else
			have_policy = 1;
	}

	if (ctx->json) {
		j = json_object();
		json_object_set_new(j, "file", json_string(fn));
		json_object_set_new(j, "kind", kind == 'w' ? json_string("wheel")
		    : kind == 's' ? json_string("sdist") : json_null());
		if (parsed && kind == 'w')
			json_object_set_new(j, "filename", json_pack("{s:s, s:s, "
			    "s:s, s:o, s:s, s:s, s:s}", "name", wn.name,
			    "project", wn.normalized, "version", wn.version,
			    "build", wn.build[0] ? json_string(wn.build) :
			    json_null(), "python", wn.python, "abi", wn.abi,
			    "platform", wn.platform));
		else if (parsed)
			json_object_set_new(j, "filename", json_pack("{s:s, s:s, "
			    "s:s}", "name", sn.name, "project", sn.normalized,
			    "version", sn.version));
		else
			json_object_set_new(j, "filename", json_pack("{s:s}",
			    "error", err.msg));
		if (r != NULL)
			jv = json_pack("{s:b, s:s, s:s, s:I, s:I, s:I, s:s, s:s, "
			    "s:o, s:o, s:s}", "ok", 1, "name", r->name,
			    "version", r->version, "size", (json_int_t)r->size,
			    "members", (json_int_t)r->members, "uncompressed",
			    (json_int_t)r->uncompressed, "sha256", r->sha256,
			    "metadata_sha256", r->metadata_sha256,
			    "requires_python", json_str_or_null(
			    r->requires_python), "requires_dist",
			    json_strs(r->requires_dist, r->nrequires_dist),
			    "normalized", r->normalized);
		else
			jv = json_pack("{s:b, s:s, s:i, s:s}", "ok", 0, "error",
			    verify_err_name(verr.code), "code", verr.code,
			    "message", verr.msg);
		json_object_set_new(j, "verify", jv);
		jelfs = json_array();
		for (i = 0; r != NULL && i < r->nelfs; i++)
			json_array_append_new(jelfs, elf_json(r->elfs[i]));
		json_object_set_new(j, "elfs", jelfs);
		if (have_policy)
			jp = json_pack("{s:s, s:o, s:o, s:b, s:s, s:o, s:o}",
			    "arch", arch, "tag", pr.tag[0] ? json_string(pr.tag)
			    : json_null(), "claim", json_str_or_null(
			    claim_verdict(&wn, &pr, verdict, sizeof(verdict))),
			    "pure", pr.pure, "libc",
			    pr.libc == POLICY_LIBC_GLIBC ? "glibc" :
			    pr.libc == POLICY_LIBC_MUSL ? "musl" : "none",
			    "violations", json_strs(pr.violations,
			    pr.nviolations), "external_libs",
			    json_strs(pr.external_libs, pr.nexternal_libs));
		else if (kind == 'w' && r != NULL && r->nelfs == 0)
			jp = json_pack("{s:b, s:n}", "pure", 1, "tag");
		else
			jp = json_null();
		json_object_set_new(j, "policy", jp);
		/* Libraries a repair bundled (e.g. "pkg.libs/libyaml-0-
		 * 1a2b3c4d.so.2"). */
		json_object_set_new(j, "bundled_libs", json_strs(bundled,
		    nbundled));
		if (json_dumpf(j, stdout, JSON_INDENT(2)) == -1)
			goto out;
		printf("\n");
	} else {
		printf("file:          %s\n", fn);
		if (parsed && kind == 'w') {
			printf("kind:          wheel\n");
			printf("name:          %s (project %s)\n", wn.name,
			    wn.normalized);
			printf("version:       %s\n", wn.version);
			if (wn.build[0])
				printf("build:         %s\n", wn.build);
			printf("tags:          %s-%s-%s\n", wn.python, wn.abi,
			    wn.platform);
		} else if (parsed) {
			printf("kind:          sdist\n");
			printf("name:          %s (project %s)\n", sn.name,
			    sn.normalized);
			printf("version:       %s\n", sn.version);
		} else
			printf("filename:      %s\n", err.msg);
		if (r != NULL) {
			printf("verification:  ok\n");
			printf("sha256:        %s\n", r->sha256);
			printf("size:          %llu bytes, %llu members, %llu "
			    "bytes unpacked\n", (unsigned long long)r->size,
			    (unsigned long long)r->members,
			    (unsigned long long)r->uncompressed);
			printf("metadata:      %s %s%s%s\n", r->name, r->version,
			    r->requires_python ? ", Requires-Python " : "",
			    r->requires_python ? r->requires_python : "");
			for (i = 0; i < r->nrequires_dist; i++)
				printf("  requires     %s\n",
				    r->requires_dist[i]);
		} else
			printf("verification:  FAILED [%s] %s\n",
			    verify_err_name(verr.code), verr.msg);
		if (r != NULL && r->nelfs > 0) {
			printf("shared objects: %zu\n", r->nelfs);
			for (i = 0; i < r->nelfs; i++)
				elf_print(r->elfs[i]);
		}
		if (have_policy) {
			const char *v = claim_verdict(&wn, &pr, verdict,
			    sizeof(verdict));

			printf("policy:        %s\n", pr.tag[0] ? pr.tag :
			    "no manylinux/musllinux policy allows this content");
			if (v != NULL)
				printf("  claim:       %s\n", v);
			for (i = 0; i < pr.nviolations; i++)
				printf("  violation:   %s\n", pr.violations[i]);
			for (i = 0; i < pr.nexternal_libs; i++)
				printf("  external:    %s\n",
				    pr.external_libs[i]);
			for (i = 0; i < nbundled; i++)
				printf("  bundled:     %s\n", bundled[i]);
		} else if (kind == 'w' && r != NULL && r->nelfs == 0)
			printf("policy:        pure (no shared objects; any "
			    "platform tag it claims is up to its author)\n");
	}
	rc = r != NULL ? 0 : 1;
out:
	repair_strv_free(bundled);
	json_decref(j);
	if (have_policy)
		policy_result_free(&pr);
	policy_db_free(db);
	verify_result_free(r);
	return rc;
}
