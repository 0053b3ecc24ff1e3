/*
 * test_policy.c: unit tests for the manylinux/musllinux policy decision on
 * real ELF files (compiled at build time, see the ELF fixtures section of
 * tests/CMakeLists.txt). For glibc objects the expected tag is derived
 * independently of elf_inspect and policy.c: the symbol versions come
 * from binutils' `objdump -T`, and the oldest policy allowing them is
 * looked up in the JSON table directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "elf_inspect.h"
#include "policy.h"
#include "util.h"

#define MAXR	8

static struct policy_db *db;

static char *
fixture(const char *name)
{
	static char path[4][4096];
	static int k;
	const char *b = getenv("WW_BUILD_DIR");

	assert_non_null(b);
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/fixtures/elf/%s", b, name);
	return path[k];
}

static struct elf_report *
inspect_as(const char *file, const char *member)
{
	struct elf_report *r = NULL;
	struct wwerr err = { 0 };
	char *buf;
	size_t len;

	if (util_read_file(file, 256U << 20, &buf, &len) != 0)
		fail_msg("cannot read %s: %s", file, strerror(errno));
	if (elf_inspect_mem(member, buf, len, &r, &err) != 0)
		fail_msg("%s: %s", file, err.msg);
	free(buf);
	return r;
}

/* Evaluate fixtures as one wheel; names "file" or "file=member/path". */
static void
eval_target(struct policy_result *res, const char *arch, int musl_minor,
    enum policy_libc target, ...)
{
	struct elf_report *rs[MAXR];
	struct wwerr err = { 0 };
	const char *name, *eq;
	char file[256], member[256];
	size_t n = 0, i;
	va_list ap;

	va_start(ap, target);
	while ((name = va_arg(ap, const char *)) != NULL) {
		assert_true(n < MAXR);
		if ((eq = strchr(name, '=')) != NULL) {
			snprintf(file, sizeof(file), "%.*s", (int)(eq - name),
			    name);
			util_strlcpy(member, eq + 1, sizeof(member));
		} else {
			util_strlcpy(file, name, sizeof(file));
			snprintf(member, sizeof(member), "pkg/%s", name);
		}
		rs[n++] = inspect_as(fixture(file), member);
	}
	va_end(ap);
	if (policy_evaluate_target(db, rs, n, arch, target, musl_minor, res,
	    &err) != 0)
		fail_msg("policy_evaluate: %s", err.msg);
	for (i = 0; i < n; i++)
		elf_report_free(rs[i]);
}

#define EVAL(res, arch, ...) \
	eval_target(res, arch, -1, POLICY_LIBC_NONE, __VA_ARGS__, NULL)

static int
has_violation(const struct policy_result *r, const char *needle)
{
	size_t i;

	for (i = 0; i < r->nviolations; i++)
		if (strstr(r->violations[i], needle) != NULL)
			return 1;
	return 0;
}

static int
has_limit(const struct policy_result *r, const char *needle)
{
	size_t i;

	for (i = 0; i < r->nlimits; i++)
		if (strstr(r->limits[i], needle) != NULL)
			return 1;
	return 0;
}

static void
dump(const struct policy_result *r)
{
	size_t i;

	print_message("tag=%s repair=%s\n", r->tag, r->repair_tag);
	for (i = 0; i < r->nviolations; i++)
		print_message("  violation: %s\n", r->violations[i]);
	for (i = 0; i < r->nlimits; i++)
		print_message("  limit: %s\n", r->limits[i]);
}

/* ---- the independent oracle: objdump + the JSON table ---- */

struct vers {
	char	v[256][64];
	size_t	n;
};

/* Versioned requirements of the prefixes manylinux governs. */
static void
objdump_versions(const char *path, struct vers *out)
{
	static const char *const pfx[] = { "GLIBC_", "GLIBCXX_", "CXXABI_",
	    "GCC_" };
	char cmd[4200], line[2048], tok[64], *p;
	size_t i, k, n;
	FILE *f;

	out->n = 0;
	snprintf(cmd, sizeof(cmd), "objdump -T '%s'", path);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "*UND*") == NULL)
			continue;	/* only what the object needs */
		for (i = 0; i < WW_ARRLEN(pfx); i++) {
			if ((p = strstr(line, pfx[i])) == NULL)
				continue;
			if (p != line && p[-1] != '(' && p[-1] != ' ' &&
			    p[-1] != '\t')
				continue;
			n = strcspn(p, ") \t\n");
			if (n >= sizeof(tok))
				continue;
			memcpy(tok, p, n);
			tok[n] = '\0';
			for (k = 0; k < out->n; k++)
				if (strcmp(out->v[k], tok) == 0)
					break;
			if (k == out->n && out->n < 256)
				util_strlcpy(out->v[out->n++], tok, 64);
		}
	}
	assert_int_equal(pclose(f), 0);
}

static int
glibc_minor_max(const struct vers *v)
{
	size_t i;
	int m = -1, x;

	for (i = 0; i < v->n; i++)
		if (sscanf(v->v[i], "GLIBC_2.%d", &x) == 1 && x > m)
			m = x;
	return m;
}

/* The oldest policy in lib/data/manylinux-policy.json whose lists for
 * arch contain every version; "" if none. */
static void
oracle_tag(const struct vers *v, const char *arch, char *out, size_t outlen)
{
	char path[4096];
	json_t *root, *p, *best = NULL;
	json_error_t je;
	size_t i, k, j;

	snprintf(path, sizeof(path), "%s/lib/data/manylinux-policy.json",
	    getenv("WW_SOURCE_DIR"));
	assert_non_null(root = json_load_file(path, 0, &je));
	json_array_foreach(root, i, p) {
		json_t *a = json_object_get(json_object_get(p,
		    "symbol_versions"), arch);
		int ok = a != NULL;

		for (k = 0; ok && k < v->n; k++) {
			char pfx[64];
			const char *us = strchr(v->v[k], '_');
			json_t *lst, *e;

			snprintf(pfx, sizeof(pfx), "%.*s",
			    (int)(us - v->v[k]), v->v[k]);
			if ((lst = json_object_get(a, pfx)) == NULL)
				continue;
			ok = 0;
			json_array_foreach(lst, j, e)
				if (strcmp(json_string_value(e), us + 1) == 0)
					ok = 1;
		}
		if (ok && (best == NULL || json_integer_value(json_object_get(
		    p, "priority")) > json_integer_value(json_object_get(best,
		    "priority"))))
			best = p;
	}
	if (best == NULL)
		out[0] = '\0';
	else
		snprintf(out, outlen, "%s_%s", json_string_value(
		    json_object_get(best, "name")), arch);
	json_decref(root);
}

/* ---- tests ---- */

static int
setup(void **state)
{
	struct wwerr err = { 0 };

	(void)state;
	if (policy_db_load(NULL, &db, &err) != 0) {
		print_error("policy_db_load: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	policy_db_free(db);
	db = NULL;
	return 0;
}

/* Compiled glibc objects: tag == oracle(objdump), and never newer than
 * this machine's glibc (2.36 on Debian 12). */
static void
test_glibc_matches_objdump(void **state)
{
	static const char *const files[] = { "plain.so", "closefrom.so",
	    "arc4random.so", "cxx.so", "usehelper.so" };
	struct policy_result res;
	struct vers v;
	char want[128];
	size_t i;
	int gmax;

	(void)state;
	for (i = 0; i < WW_ARRLEN(files); i++) {
		objdump_versions(fixture(files[i]), &v);
		oracle_tag(&v, "x86_64", want, sizeof(want));
		gmax = glibc_minor_max(&v);
		assert_true(gmax >= 2 && gmax <= 36);
		if (strcmp(files[i], "usehelper.so") == 0)
			eval_target(&res, "x86_64", -1, POLICY_LIBC_NONE,
			    files[i], "libhelper.so.1=pkg.libs/libhelper.so.1",
			    NULL);
		else
			EVAL(&res, "x86_64", files[i]);
		print_message("%s: glibc 2.%d, oracle %s, got %s\n", files[i],
		    gmax, want, res.tag);
		if (strcmp(res.tag, want) != 0)
			dump(&res);
		assert_string_equal(res.tag, want);
		assert_int_equal(res.nviolations, 0);
		assert_int_equal(res.libc, POLICY_LIBC_GLIBC);
		assert_int_equal(res.major, 2);
		/* the chosen policy covers the newest GLIBC_2.x needed */
		assert_true(res.minor >= gmax && res.minor <= 36);
		assert_string_equal(res.repair_tag, res.tag);
		policy_result_free(&res);
	}

	/* and the concrete values these fixtures were written for */
	EVAL(&res, "x86_64", "plain.so");
	assert_string_equal(res.tag, "manylinux_2_17_x86_64");
	assert_string_equal(res.legacy_tag, "manylinux2014_x86_64");
	assert_true(has_limit(&res, "needs GLIBC_2.14, which "
	    "manylinux_2_12_x86_64 lacks"));
	policy_result_free(&res);
	EVAL(&res, "x86_64", "closefrom.so");
	assert_string_equal(res.tag, "manylinux_2_34_x86_64");
	assert_string_equal(res.legacy_tag, "");
	assert_int_equal(res.minor, 34);
	assert_true(has_limit(&res, "GLIBC_2.34"));
	policy_result_free(&res);
	EVAL(&res, "x86_64", "arc4random.so");
	assert_string_equal(res.tag, "manylinux_2_36_x86_64");
	policy_result_free(&res);
	/* a wheel's tag is the newest its members need */
	EVAL(&res, "x86_64", "plain.so", "closefrom.so", "cxx.so");
	assert_true(res.minor >= 34);
	policy_result_free(&res);
}

static void
test_external_library(void **state)
{
	struct policy_result res;
	struct vers v;
	char want[128];

	(void)state;
	EVAL(&res, "x86_64", "sqlite.so");
	assert_string_equal(res.tag, "");
	assert_true(has_violation(&res, "links libsqlite3.so.0, which no "
	    "manylinux policy allows (needed by pkg/sqlite.so)"));
	assert_int_equal(res.nexternal_libs, 1);
	assert_string_equal(res.external_libs[0], "libsqlite3.so.0");
	assert_null(res.external_libs[1]);
	/* bundling libsqlite3 (repair) would give what its versions allow */
	objdump_versions(fixture("sqlite.so"), &v);
	oracle_tag(&v, "x86_64", want, sizeof(want));
	assert_string_equal(res.repair_tag, want);
	policy_result_free(&res);

	/* the same need, hidden from section-header readers */
	EVAL(&res, "x86_64", "nosect.so");
	assert_true(has_violation(&res, "links libsqlite3.so.0"));
	policy_result_free(&res);
	EVAL(&res, "x86_64", "forged.so");
	assert_true(has_violation(&res, "links libsqlite3.so.0"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
}

static void
test_libraries_inside_wheel(void **state)
{
	struct policy_result res;

	(void)state;
	/* alone, the extension needs a library nobody provides */
	EVAL(&res, "x86_64", "usehelper.so");
	assert_true(has_violation(&res, "links libhelper.so.1"));
	assert_string_equal(res.external_libs[0], "libhelper.so.1");
	policy_result_free(&res);
	/* shipped in the wheel (matched by soname), it is fine */
	EVAL(&res, "x86_64", "usehelper.so",
	    "libhelper.so.1=mypkg.libs/libhelper.so.1");
	assert_int_equal(res.nviolations, 0);
	assert_string_not_equal(res.tag, "");
	policy_result_free(&res);
	/* matched by file name, for a library without a soname */
	EVAL(&res, "x86_64", "needinner.so", "libinner.so=pkg/libinner.so");
	assert_string_equal(res.tag, "manylinux_2_5_x86_64");
	assert_string_equal(res.legacy_tag, "manylinux1_x86_64");
	policy_result_free(&res);
	EVAL(&res, "x86_64", "needinner.so");
	assert_true(has_violation(&res, "links libinner.so"));
	policy_result_free(&res);
}

static void
test_loader_and_libpython_ignored(void **state)
{
	struct policy_result res;

	(void)state;
	/* ld-linux's GLIBC_2.3 and libpython are the interpreter's */
	EVAL(&res, "x86_64", "pyloader.so");
	assert_int_equal(res.nviolations, 0);
	assert_string_equal(res.tag, "manylinux_2_5_x86_64");
	policy_result_free(&res);
}

static void
test_musl(void **state)
{
	struct policy_result res;

	(void)state;
	EVAL(&res, "x86_64", "musl.so");
	assert_int_equal(res.libc, POLICY_LIBC_MUSL);
	assert_string_equal(res.tag, "musllinux_1_2_x86_64");
	assert_int_equal(res.major, 1);
	assert_int_equal(res.minor, 2);
	assert_int_equal(res.nviolations, 0);
	policy_result_free(&res);
	/* Y comes from the build environment's musl */
	eval_target(&res, "x86_64", 1, POLICY_LIBC_NONE, "musl.so", NULL);
	assert_string_equal(res.tag, "musllinux_1_1_x86_64");
	policy_result_free(&res);
	eval_target(&res, "x86_64", 2, POLICY_LIBC_MUSL, "musl.so", NULL);
	assert_string_equal(res.tag, "musllinux_1_2_x86_64");
	policy_result_free(&res);
	/* a newer musl than the table: its tag, the newest whitelist */
	eval_target(&res, "x86_64", 3, POLICY_LIBC_NONE, "musl.so", NULL);
	assert_string_equal(res.tag, "musllinux_1_3_x86_64");
	policy_result_free(&res);
	/* Alpine's libc soname */
	EVAL(&res, "aarch64", "a64_musl.so");
	assert_string_equal(res.tag, "musllinux_1_2_aarch64");
	policy_result_free(&res);
	EVAL(&res, "aarch64", "a64_exec_musl");
	assert_string_equal(res.tag, "musllinux_1_2_aarch64");
	policy_result_free(&res);
	/* the musllinux tables do not cover riscv64 */
	eval_target(&res, "riscv64", -1, POLICY_LIBC_MUSL, "riscv64.so", NULL);
	assert_true(has_violation(&res, "no musllinux policy covers arch "
	    "riscv64"));
	policy_result_free(&res);
}

static void
test_wrong_libc_for_target(void **state)
{
	struct policy_result res;

	(void)state;
	eval_target(&res, "x86_64", -1, POLICY_LIBC_GLIBC, "musl.so", NULL);
	assert_true(has_violation(&res, "needs musl (pkg/musl.so), but the "
	    "target is manylinux"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
	eval_target(&res, "x86_64", -1, POLICY_LIBC_MUSL, "plain.so", NULL);
	assert_true(has_violation(&res, "needs glibc (pkg/plain.so), but the "
	    "target is musllinux"));
	policy_result_free(&res);
	EVAL(&res, "x86_64", "plain.so", "musl.so");
	assert_true(has_violation(&res, "mixes glibc and musl"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
	EVAL(&res, "x86_64", "mixed.so");
	assert_true(has_violation(&res, "pkg/mixed.so mixes glibc and musl"));
	policy_result_free(&res);
}

static void
test_static_libc(void **state)
{
	struct policy_result res;

	(void)state;
	EVAL(&res, "x86_64", "muslstatic.so");
	assert_true(has_violation(&res, "pkg/muslstatic.so statically links "
	    "libc (defines memcpy, malloc"));
	assert_string_equal(res.tag, "");
	assert_string_equal(res.repair_tag, "");
	policy_result_free(&res);
	eval_target(&res, "x86_64", -1, POLICY_LIBC_MUSL, "muslstatic.so",
	    NULL);
	assert_true(has_violation(&res, "statically links libc"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
	EVAL(&res, "aarch64", "a64_static.so");
	assert_true(has_violation(&res, "statically links libc (defines "
	    "memcpy, malloc, strlen)"));
	policy_result_free(&res);
}

static void
test_no_libc_at_all(void **state)
{
	struct policy_result res;

	(void)state;
	/* e.g. a static helper executable: any Linux will do */
	EVAL(&res, "x86_64", "nolibc.so");
	assert_int_equal(res.libc, POLICY_LIBC_NONE);
	assert_string_equal(res.tag, "manylinux_2_5_x86_64");
	policy_result_free(&res);
	eval_target(&res, "x86_64", -1, POLICY_LIBC_MUSL, "nolibc.so", NULL);
	assert_string_equal(res.tag, "musllinux_1_2_x86_64");
	policy_result_free(&res);
}

static void
test_machines(void **state)
{
	static const struct {
		const char *file, *arch, *tag, *legacy;
	} cases[] = {
		{ "a64_217.so", "aarch64", "manylinux_2_17_aarch64",
		    "manylinux2014_aarch64" },
		{ "a64_228.so", "aarch64", "manylinux_2_28_aarch64", "" },
		{ "ppc64be.so", "ppc64", "manylinux_2_17_ppc64",
		    "manylinux2014_ppc64" },
		{ "ppc64le.so", "ppc64le", "manylinux_2_17_ppc64le",
		    "manylinux2014_ppc64le" },
		{ "s390x.so", "s390x", "manylinux_2_17_s390x",
		    "manylinux2014_s390x" },
		{ "armv7.so", "armv7l", "manylinux_2_17_armv7l",
		    "manylinux2014_armv7l" },
		{ "riscv64.so", "riscv64", "manylinux_2_31_riscv64", "" },
		{ "i686.so", "i686", "manylinux_2_5_i686", "manylinux1_i686" },
	};
	struct policy_result res;
	size_t i;

	(void)state;
	for (i = 0; i < WW_ARRLEN(cases); i++) {
		EVAL(&res, cases[i].arch, cases[i].file);
		if (strcmp(res.tag, cases[i].tag) != 0)
			dump(&res);
		assert_string_equal(res.tag, cases[i].tag);
		assert_string_equal(res.legacy_tag, cases[i].legacy);
		policy_result_free(&res);
	}
	EVAL(&res, "x86_64", "a64_217.so");
	assert_true(has_violation(&res, "pkg/a64_217.so: machine aarch64 does "
	    "not match target x86_64"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
	EVAL(&res, "aarch64", "plain.so", "a64_217.so");
	assert_true(has_violation(&res, "machine x86_64 does not match target "
	    "aarch64"));
	policy_result_free(&res);
	/* a relocatable object (an eBPF program shipped as data) is never
	 * loaded by ld.so: its machine does not matter */
	EVAL(&res, "x86_64", "plain.so", "bpf.o");
	assert_int_equal(res.nviolations, 0);
	assert_string_equal(res.tag, "manylinux_2_17_x86_64");
	policy_result_free(&res);
	EVAL(&res, "mips64", "mips64.so");
	assert_true(has_violation(&res, "no manylinux policy covers arch "
	    "mips64"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
}

static void
test_versions_beyond_policies(void **state)
{
	struct policy_result res;

	(void)state;
	EVAL(&res, "x86_64", "glibc299.so");
	assert_true(has_violation(&res, "needs GLIBC_2.99 (from "
	    "pkg/glibc299.so), newer than any manylinux policy for x86_64"));
	assert_string_equal(res.tag, "");
	assert_string_equal(res.repair_tag, "");
	policy_result_free(&res);
	EVAL(&res, "x86_64", "glibcpriv.so");
	assert_true(has_violation(&res, "needs GLIBC_PRIVATE (from "
	    "pkg/glibcpriv.so), which no manylinux policy for x86_64 allows"));
	policy_result_free(&res);
}

static void
test_blacklists(void **state)
{
	struct policy_result res;

	(void)state;
	/* blacklisted for libc.so.6 up to manylinux2014 only */
	EVAL(&res, "x86_64", "blthread.so");
	assert_string_equal(res.tag, "manylinux_2_24_x86_64");
	assert_true(has_limit(&res, "uses __cxa_thread_atexit_impl from "
	    "libc.so.6, which manylinux_2_17_x86_64 does not allow"));
	policy_result_free(&res);
	/* zlib internals are blacklisted everywhere */
	EVAL(&res, "x86_64", "blzlib.so");
	assert_true(has_violation(&res, "uses _tr_flush_block from libz.so.1 "
	    "(in pkg/blzlib.so), which no manylinux policy allows"));
	assert_string_equal(res.tag, "");
	policy_result_free(&res);
}

static void
test_pure_and_args(void **state)
{
	struct policy_result res;
	struct wwerr err = { 0 };

	(void)state;
	assert_int_equal(policy_evaluate(db, NULL, 0, "x86_64", -1, &res,
	    &err), 0);
	assert_int_equal(res.pure, 1);
	assert_string_equal(res.tag, "");
	assert_int_equal(res.nviolations, 0);
	policy_result_free(&res);
	assert_int_equal(policy_evaluate(db, NULL, 0, "", -1, &res, &err),
	    -1);
	assert_int_equal(err.code, POLICY_E_ARG);
}

static void
test_lib_allowed(void **state)
{
	(void)state;
	assert_true(policy_lib_allowed(db, "manylinux_2_17_x86_64",
	    "libz.so.1"));
	assert_true(policy_lib_allowed(db, "manylinux2014_x86_64",
	    "libexpat.so.1"));
	assert_true(policy_lib_allowed(db, "manylinux_2_17", "libGL.so.1"));
	/* libexpat joined in manylinux2010, libmvec in manylinux_2_24 */
	assert_false(policy_lib_allowed(db, "manylinux_2_5_x86_64",
	    "libexpat.so.1"));
	assert_false(policy_lib_allowed(db, "manylinux1_x86_64",
	    "libexpat.so.1"));
	assert_false(policy_lib_allowed(db, "manylinux_2_17_x86_64",
	    "libmvec.so.1"));
	assert_true(policy_lib_allowed(db, "manylinux_2_24_x86_64",
	    "libmvec.so.1"));
	assert_false(policy_lib_allowed(db, "manylinux_2_17_x86_64",
	    "libsqlite3.so.0"));
	assert_true(policy_lib_allowed(db, "musllinux_1_2_x86_64", "libc.so"));
	assert_true(policy_lib_allowed(db, "musllinux_1_2_x86_64",
	    "libc.musl-x86_64.so.1"));
	assert_false(policy_lib_allowed(db, "musllinux_1_2_x86_64",
	    "libc.musl-aarch64.so.1"));
	assert_true(policy_lib_allowed(db, "musllinux_1_3_aarch64",
	    "libz.so.1"));
	assert_false(policy_lib_allowed(db, "musllinux_1_2_x86_64",
	    "libc.so.6"));
	assert_false(policy_lib_allowed(db, "manylinux_2_1_x86_64",
	    "libc.so.6"));
	assert_false(policy_lib_allowed(db, "manylinux_2_17_sparc",
	    "libc.so.6"));
	assert_false(policy_lib_allowed(db, "win_amd64", "libc.so.6"));
	assert_false(policy_lib_allowed(NULL, "manylinux_2_17", "libc.so.6"));
}

/* ---- loading tables from files ---- */

static char *
write_tmp(const char *name, const char *text)
{
	static char path[4096];
	const char *tmp = getenv("WW_TEST_TMP");
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy-%ld-%s", tmp ? tmp : "/tmp",
	    (long)getpid(), name);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
expect_load_error(const char *path, int code, const char *needle)
{
	struct policy_db *d = NULL;
	struct wwerr err = { 0 };

	assert_int_equal(policy_db_load(path, &d, &err), -1);
	assert_null(d);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
	unlink(path);
}

/* The upstream table with one edit applied. */
static char *
edited_table(const char *name, void (*edit)(json_t *))
{
	char src[4096], *text, *path;
	json_t *root;
	json_error_t je;

	snprintf(src, sizeof(src), "%s/lib/data/manylinux-policy.json",
	    getenv("WW_SOURCE_DIR"));
	assert_non_null(root = json_load_file(src, 0, &je));
	edit(root);
	text = json_dumps(root, 0);
	path = write_tmp(name, text);
	free(text);
	json_decref(root);
	return path;
}

static json_t *
find_policy(json_t *root, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(root, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    name) == 0)
			return p;
	fail_msg("no policy %s", name);
	return NULL;
}

static void
edit_drop_version(json_t *root)
{
	json_t *l = json_object_get(json_object_get(json_object_get(
	    find_policy(root, "manylinux_2_28"), "symbol_versions"), "x86_64"),
	    "GLIBC");
	size_t i;
	json_t *v;

	json_array_foreach(l, i, v)
		if (strcmp(json_string_value(v), "2.17") == 0) {
			json_array_remove(l, i);
			return;
		}
}

static void
edit_drop_lib(json_t *root)
{
	json_array_remove(json_object_get(find_policy(root, "manylinux_2_31"),
	    "lib_whitelist"), 0);
}

static void
edit_bad_type(json_t *root)
{
	json_object_set_new(find_policy(root, "manylinux_2_24"),
	    "lib_whitelist", json_string("libz.so.1"));
}

static void
edit_allow_sqlite(json_t *root)
{
	size_t i;
	json_t *p;

	json_array_foreach(root, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    "linux") != 0)
			json_array_append_new(json_object_get(p,
			    "lib_whitelist"), json_string("libsqlite3.so.0"));
}

static void
test_load_tables(void **state)
{
	struct policy_db *d = NULL;
	struct wwerr err = { 0 };
	struct policy_result res;
	struct elf_report *r;
	char *path;

	(void)state;
	expect_load_error("/nonexistent/policy.json", POLICY_E_IO,
	    "/nonexistent/policy.json");
	expect_load_error(write_tmp("broken.json", "[{\"name\": "),
	    POLICY_E_TABLE, "line");
	expect_load_error(write_tmp("empty.json", "[]"), POLICY_E_TABLE,
	    "names no manylinux_X_Y");
	expect_load_error(write_tmp("badname.json", "[{\"name\": "
	    "\"manylinux_2_x\", \"priority\": 1, \"aliases\": [], "
	    "\"symbol_versions\": {}, \"lib_whitelist\": [], \"blacklist\": "
	    "{}}, {\"name\": \"manylinux_2_5\", \"priority\": 2, \"aliases\": "
	    "[], \"symbol_versions\": {}, \"lib_whitelist\": [], "
	    "\"blacklist\": {}}]"), POLICY_E_TABLE, "manylinux_2_x");
	expect_load_error(edited_table("dropver.json", edit_drop_version),
	    POLICY_E_TABLE, "manylinux_2_28 drops GLIBC_2.17 for x86_64");
	expect_load_error(edited_table("droplib.json", edit_drop_lib),
	    POLICY_E_TABLE, "manylinux_2_31 drops whitelisted library "
	    "libatomic.so.1");
	expect_load_error(edited_table("badtype.json", edit_bad_type),
	    POLICY_E_TABLE, "manylinux_2_24");

	/* a site table that allows libsqlite3 replaces the manylinux one */
	path = edited_table("sqlite.json", edit_allow_sqlite);
	assert_int_equal(policy_db_load(path, &d, &err), 0);
	unlink(path);
	r = inspect_as(fixture("sqlite.so"), "pkg/sqlite.so");
	assert_int_equal(policy_evaluate(d, &r, 1, "x86_64", -1, &res, &err),
	    0);
	assert_int_equal(res.nviolations, 0);
	assert_string_equal(res.tag, "manylinux_2_5_x86_64");
	policy_result_free(&res);
	/* the musllinux table is still the embedded one */
	assert_true(policy_lib_allowed(d, "musllinux_1_2_x86_64", "libc.so"));
	elf_report_free(r);
	policy_db_free(d);

	/* and a musllinux table from a file */
	path = write_tmp("musl.json", "[{\"name\": \"musllinux_1_2\", "
	    "\"priority\": 90, \"aliases\": [], \"symbol_versions\": "
	    "{\"x86_64\": {}}, \"lib_whitelist\": [\"libc.so\", "
	    "\"libfoo.so.1\"], \"blacklist\": {}}]");
	assert_int_equal(policy_db_load(path, &d, &err), 0);
	unlink(path);
	assert_true(policy_lib_allowed(d, "musllinux_1_2_x86_64",
	    "libfoo.so.1"));
	assert_false(policy_lib_allowed(d, "musllinux_1_2_aarch64",
	    "libfoo.so.1"));
	assert_true(policy_lib_allowed(d, "manylinux_2_17_x86_64",
	    "libz.so.1"));
	policy_db_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glibc_matches_objdump),
		cmocka_unit_test(test_external_library),
		cmocka_unit_test(test_libraries_inside_wheel),
		cmocka_unit_test(test_loader_and_libpython_ignored),
		cmocka_unit_test(test_musl),
		cmocka_unit_test(test_wrong_libc_for_target),
		cmocka_unit_test(test_static_libc),
		cmocka_unit_test(test_no_libc_at_all),
		cmocka_unit_test(test_machines),
		cmocka_unit_test(test_versions_beyond_policies),
		cmocka_unit_test(test_blacklists),
		cmocka_unit_test(test_pure_and_args),
		cmocka_unit_test(test_lib_allowed),
		cmocka_unit_test(test_load_tables),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
