/*
 * test_tags.c: unit tests for tag sets, platform tags and the supported
 * tag list / ranking (the order itself is checked against Python's
 * packaging by it_tags_differential.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tags.h"

static void
assert_tag(const struct tag *t, const char *s)
{
	char buf[TAG_PART_MAX * 4];

	assert_int_equal(tag_format(t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, s);
}

static void
test_expand(void **state)
{
	struct tagset ts;
	struct wwerr err;

	(void)state;
	assert_int_equal(tagset_expand("py3", "none", "any", &ts, &err), 0);
	assert_int_equal(ts.ntags, 1);
	assert_tag(&ts.tags[0], "py3-none-any");
	tagset_free(&ts);

	assert_int_equal(tagset_expand("py2.py3", "none", "any", &ts, &err), 0);
	assert_int_equal(ts.ntags, 2);
	assert_tag(&ts.tags[0], "py2-none-any");
	assert_tag(&ts.tags[1], "py3-none-any");
	tagset_free(&ts);

	assert_int_equal(tagset_expand("CP311.cp310", "abi3",
	    "manylinux_2_17_x86_64.MANYLINUX2014_x86_64", &ts, &err), 0);
	assert_int_equal(ts.ntags, 4);
	assert_tag(&ts.tags[0], "cp311-abi3-manylinux_2_17_x86_64");
	assert_tag(&ts.tags[1], "cp311-abi3-manylinux2014_x86_64");
	assert_tag(&ts.tags[2], "cp310-abi3-manylinux_2_17_x86_64");
	assert_tag(&ts.tags[3], "cp310-abi3-manylinux2014_x86_64");
	tagset_free(&ts);

	/* Duplicates (also by case) collapse, as in packaging's frozenset. */
	assert_int_equal(tagset_expand("py3.PY3.py3", "none", "any.ANY", &ts,
	    &err), 0);
	assert_int_equal(ts.ntags, 1);
	tagset_free(&ts);
	tagset_free(&ts);	/* idempotent */
}

static void
test_expand_rejects(void **state)
{
	static const char *const bad[][3] = {
		{ "", "none", "any" }, { "py3.", "none", "any" },
		{ ".py3", "none", "any" }, { "py3..py2", "none", "any" },
		{ "py3", "no-ne", "any" }, { "py3", "none", "any/x" },
		{ "py3", "none", "an y" }, { "py3", "none", "\xc3\xa4" },
	};
	char many[TAG_PART_MAX * 2], big[TAG_PART_MAX + 1];
	struct tagset ts;
	struct wwerr err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tagset_expand(bad[i][0], bad[i][1], bad[i][2],
		    &ts, &err), -1);
		assert_int_equal(err.code, TAGS_E_INVALID);
		assert_null(ts.tags);
		assert_int_equal(ts.ntags, 0);
	}
	assert_int_equal(tagset_expand(NULL, "none", "any", &ts, &err), -1);

	/* A part that does not fit struct tag. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tagset_expand(big, "none", "any", &ts, &err), -1);
	big[sizeof(big) - 2] = '\0';
	assert_int_equal(tagset_expand(big, "none", "any", &ts, &err), 0);
	tagset_free(&ts);

	/* 31 x 31 x 31 combinations: over TAGSET_MAX, refused. */
	for (i = 0; i + 2 < TAG_PART_MAX; i += 2) {
		many[i] = (char)('a' + i / 2 % 26);
		many[i + 1] = '.';
	}
	many[i - 1] = '\0';
	assert_int_equal(tagset_expand(many, many, many, &ts, &err), -1);
	assert_int_equal(err.code, TAGS_E_TOOMANY);
	assert_null(ts.tags);
}

static void
plat_ok(const char *tag, enum platform_kind kind, int major, int minor,
    const char *arch, int legacy, const char *canon, const char *alias)
{
	struct platform p;
	char out[TAG_PART_MAX * 2];

	if (platform_parse(tag, &p) != 0)
		fail_msg("%s: refused", tag);
	assert_int_equal(p.kind, kind);
	assert_int_equal(p.major, major);
	assert_int_equal(p.minor, minor);
	assert_string_equal(p.arch, arch);
	assert_int_equal(p.legacy, legacy);
	if (canon == NULL) {
		assert_int_equal(platform_format(&p, out, sizeof(out)), -1);
	} else {
		assert_int_equal(platform_format(&p, out, sizeof(out)), 0);
		assert_string_equal(out, canon);
	}
	if (alias == NULL) {
		assert_int_equal(platform_legacy_alias(&p, out, sizeof(out)),
		    -1);
	} else {
		assert_int_equal(platform_legacy_alias(&p, out, sizeof(out)),
		    0);
		assert_string_equal(out, alias);
	}
}

static void
test_platform(void **state)
{
	static const char *const bad[] = {
		"", "manylinux_2_x86_64", "manylinux_2_17", "manylinux_2_17_",
		"manylinux_02_17_x86_64", "manylinux_2_017_x86_64",
		"manylinux__17_x86_64", "musllinux_1_x86_64", "linux_",
		"manylinux1_", "manylinux2014_", "any.linux_x86_64",
		"linux-x86_64", "linux_x86 64", "manylinux_2_9999999_x86_64",
		"linux_abcdefghijklmnopqrstuvwxyz0123456789",
	};
	struct platform p;
	char out[8];
	size_t i;

	(void)state;
	plat_ok("any", PLAT_ANY, 0, 0, "", 0, "any", NULL);
	plat_ok("linux_x86_64", PLAT_LINUX, 0, 0, "x86_64", 0, "linux_x86_64",
	    NULL);
	plat_ok("manylinux_2_17_aarch64", PLAT_MANYLINUX, 2, 17, "aarch64", 0,
	    "manylinux_2_17_aarch64", "manylinux2014_aarch64");
	plat_ok("manylinux_2_28_x86_64", PLAT_MANYLINUX, 2, 28, "x86_64", 0,
	    "manylinux_2_28_x86_64", NULL);
	plat_ok("manylinux1_x86_64", PLAT_MANYLINUX, 2, 5, "x86_64", 1,
	    "manylinux_2_5_x86_64", "manylinux1_x86_64");
	plat_ok("manylinux1_i686", PLAT_MANYLINUX, 2, 5, "i686", 1,
	    "manylinux_2_5_i686", "manylinux1_i686");
	plat_ok("manylinux2010_i686", PLAT_MANYLINUX, 2, 12, "i686", 1,
	    "manylinux_2_12_i686", "manylinux2010_i686");
	plat_ok("MANYLINUX2014_PPC64LE", PLAT_MANYLINUX, 2, 17, "ppc64le", 1,
	    "manylinux_2_17_ppc64le", "manylinux2014_ppc64le");
	plat_ok("manylinux2014_s390x", PLAT_MANYLINUX, 2, 17, "s390x", 1,
	    "manylinux_2_17_s390x", "manylinux2014_s390x");
	/* No manylinux2010 exists for aarch64 (PEP 571 is x86 only). */
	plat_ok("manylinux_2_12_aarch64", PLAT_MANYLINUX, 2, 12, "aarch64", 0,
	    "manylinux_2_12_aarch64", NULL);
	plat_ok("manylinux_2_17_riscv64", PLAT_MANYLINUX, 2, 17, "riscv64", 0,
	    "manylinux_2_17_riscv64", NULL);
	plat_ok("musllinux_1_2_armv7l", PLAT_MUSLLINUX, 1, 2, "armv7l", 0,
	    "musllinux_1_2_armv7l", NULL);
	plat_ok("musllinux_1_0_x86_64", PLAT_MUSLLINUX, 1, 0, "x86_64", 0,
	    "musllinux_1_0_x86_64", NULL);
	plat_ok("macosx_10_9_x86_64", PLAT_OTHER, 0, 0, "", 0, NULL, NULL);
	plat_ok("win_amd64", PLAT_OTHER, 0, 0, "", 0, NULL, NULL);
	plat_ok("manylinux", PLAT_OTHER, 0, 0, "", 0, NULL, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (platform_parse(bad[i], &p) != -1)
			fail_msg("%s: accepted", bad[i]);
	assert_int_equal(platform_parse(NULL, &p), -1);

	assert_int_equal(platform_parse("manylinux_2_17_x86_64", &p), 0);
	assert_int_equal(platform_format(&p, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	p.kind = PLAT_MUSLLINUX;
	assert_int_equal(platform_legacy_alias(&p, out, sizeof(out)), -1);
}

static const struct target_env cp311_glibc236_x86 = {
	3, 11, "cp", LIBC_GLIBC, 2, 36, "x86_64"
};

static void
test_supported_glibc_x86(void **state)
{
	struct tagset ts;
	size_t i, P = 32 + 3;

	(void)state;
	assert_int_equal(tags_supported(&cp311_glibc236_x86, &ts), 0);
	/* own ABI, abi3, none, 9 older abi3 per platform; 13 py; 1 + 13 any */
	assert_int_equal(ts.ntags, P * 12 + P * 13 + 1 + 13);
	assert_tag(&ts.tags[0], "cp311-cp311-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[19], "cp311-cp311-manylinux_2_17_x86_64");
	assert_tag(&ts.tags[20], "cp311-cp311-manylinux2014_x86_64");
	assert_tag(&ts.tags[25], "cp311-cp311-manylinux_2_12_x86_64");
	assert_tag(&ts.tags[26], "cp311-cp311-manylinux2010_x86_64");
	assert_tag(&ts.tags[P - 2], "cp311-cp311-manylinux_2_5_x86_64");
	assert_tag(&ts.tags[P - 1], "cp311-cp311-manylinux1_x86_64");
	assert_tag(&ts.tags[P], "cp311-abi3-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[2 * P], "cp311-none-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[3 * P], "cp310-abi3-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[12 * P - 1], "cp32-abi3-manylinux1_x86_64");
	assert_tag(&ts.tags[12 * P], "py311-none-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[13 * P], "py3-none-manylinux_2_36_x86_64");
	assert_tag(&ts.tags[25 * P - 1], "py30-none-manylinux1_x86_64");
	assert_tag(&ts.tags[25 * P], "cp311-none-any");
	assert_tag(&ts.tags[25 * P + 1], "py311-none-any");
	assert_tag(&ts.tags[25 * P + 2], "py3-none-any");
	assert_tag(&ts.tags[ts.ntags - 1], "py30-none-any");
	for (i = 0; i < ts.ntags; i++) {
		assert_null(strstr(ts.tags[i].platform, "musllinux"));
		assert_true(strncmp(ts.tags[i].platform, "linux_", 6) != 0);
	}
	tagset_free(&ts);
}

static void
test_supported_other(void **state)
{
	struct target_env env = { 3, 8, NULL, LIBC_GLIBC, 2, 28, "aarch64" };
	struct tagset ts;
	size_t P = 12 + 1;

	(void)state;
	/* aarch64: manylinux_2_28 .. 2_17 plus manylinux2014, no older. */
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_tag(&ts.tags[0], "cp38-cp38-manylinux_2_28_aarch64");
	assert_tag(&ts.tags[P - 2], "cp38-cp38-manylinux_2_17_aarch64");
	assert_tag(&ts.tags[P - 1], "cp38-cp38-manylinux2014_aarch64");
	assert_tag(&ts.tags[P], "cp38-abi3-manylinux_2_28_aarch64");
	assert_int_equal(ts.ntags, P * 9 + P * 10 + 1 + 10);
	tagset_free(&ts);

	/* musl 1.2: musllinux_1_2 .. 1_0, no manylinux. */
	env = (struct target_env){ 3, 12, "cp", LIBC_MUSL, 1, 2, "armv7l" };
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_tag(&ts.tags[0], "cp312-cp312-musllinux_1_2_armv7l");
	assert_tag(&ts.tags[1], "cp312-cp312-musllinux_1_1_armv7l");
	assert_tag(&ts.tags[2], "cp312-cp312-musllinux_1_0_armv7l");
	assert_tag(&ts.tags[3], "cp312-abi3-musllinux_1_2_armv7l");
	assert_int_equal(ts.ntags, 3 * 13 + 3 * 14 + 1 + 14);
	tagset_free(&ts);

	/* Python 3.7 has the pymalloc "m" ABI. */
	env = (struct target_env){ 3, 7, "cp", LIBC_GLIBC, 2, 17, "ppc64le" };
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_tag(&ts.tags[0], "cp37-cp37m-manylinux_2_17_ppc64le");
	assert_tag(&ts.tags[1], "cp37-cp37m-manylinux2014_ppc64le");
	tagset_free(&ts);

	/* glibc older than the arch's floor: only the pure tags remain. */
	env = (struct target_env){ 3, 11, "cp", LIBC_GLIBC, 2, 12, "s390x" };
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_int_equal(ts.ntags, 1 + 13);
	assert_tag(&ts.tags[0], "cp311-none-any");
	tagset_free(&ts);

	/* An arch with no manylinux ABI (per packaging) gets none either. */
	env = (struct target_env){ 3, 11, "cp", LIBC_GLIBC, 2, 36, "sparc64" };
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_int_equal(ts.ntags, 14);
	tagset_free(&ts);

	/* A glibc 3.x (hypothetical) continues into 2.50 .. 2.5. */
	env = (struct target_env){ 3, 11, "cp", LIBC_GLIBC, 3, 1, "x86_64" };
	assert_int_equal(tags_supported(&env, &ts), 0);
	assert_tag(&ts.tags[0], "cp311-cp311-manylinux_3_1_x86_64");
	assert_tag(&ts.tags[1], "cp311-cp311-manylinux_3_0_x86_64");
	assert_tag(&ts.tags[2], "cp311-cp311-manylinux_2_50_x86_64");
	tagset_free(&ts);
}

static void
test_supported_bad_env(void **state)
{
	static const struct target_env bad[] = {
		{ 2, 7, "cp", LIBC_GLIBC, 2, 17, "x86_64" },
		{ 3, 11, "pp", LIBC_GLIBC, 2, 17, "x86_64" },
		{ 3, 11, "cp", LIBC_GLIBC, 1, 17, "x86_64" },
		{ 3, 11, "cp", LIBC_GLIBC, 2, -1, "x86_64" },
		{ 3, 11, "cp", LIBC_MUSL, 0, 2, "x86_64" },
		{ 3, 100, "cp", LIBC_GLIBC, 2, 17, "x86_64" },
		{ 3, 11, "cp", LIBC_GLIBC, 2, 17, "X86_64" },
		{ 3, 11, "cp", LIBC_GLIBC, 2, 17, "" },
		{ 3, 11, "cp", LIBC_GLIBC, 2, 17, NULL },
		{ 3, 11, "cp", LIBC_GLIBC, 2, 17, "x86-64" },
		{ 3, 11, "cp", (enum libc_kind)7, 2, 17, "x86_64" },
	};
	struct tagset ts;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tags_supported(&bad[i], &ts), -1);
		assert_null(ts.tags);
		assert_int_equal(tags_rank(&bad[i], NULL, "py3", "none", "any"),
		    -1);
	}
	assert_int_equal(tags_supported(NULL, &ts), -1);
}

static void
test_rank(void **state)
{
	const struct target_env *env = &cp311_glibc236_x86;
	struct target_env musl = { 3, 11, "cp", LIBC_MUSL, 1, 2, "x86_64" };
	struct tagset ts;
	int own, old, abi3, pure, r;

	(void)state;
	assert_int_equal(tags_supported(env, &ts), 0);
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311",
	    "manylinux_2_36_x86_64"), 0);
	own = tags_rank(env, &ts, "cp311", "cp311",
	    "manylinux_2_17_x86_64.manylinux2014_x86_64");
	assert_int_equal(own, 19);
	old = tags_rank(env, &ts, "cp311", "cp311", "manylinux1_x86_64");
	abi3 = tags_rank(env, &ts, "cp37", "abi3", "manylinux_2_28_x86_64");
	pure = tags_rank(env, &ts, "py3", "none", "any");
	assert_true(own < old && old < abi3 && abi3 < pure);
	assert_int_equal(pure, (int)ts.ntags - 12);
	assert_int_equal(tags_rank(env, &ts, "py2.py3", "none", "any"), pure);
	/* The best of a compressed set counts; case does not matter. */
	assert_int_equal(tags_rank(env, &ts, "CP311", "CP311",
	    "macosx_11_0_arm64.MANYLINUX_2_17_X86_64"), own);
	/* NULL computes the list itself, with the same answer. */
	assert_int_equal(tags_rank(env, NULL, "cp37", "abi3",
	    "manylinux_2_28_x86_64"), abi3);

	/* Not installable here. */
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311", "linux_x86_64"),
	    -1);
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311",
	    "manylinux_2_37_x86_64"), -1);
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311",
	    "manylinux_2_17_aarch64"), -1);
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311",
	    "musllinux_1_1_x86_64"), -1);
	assert_int_equal(tags_rank(env, &ts, "cp312", "cp312",
	    "manylinux_2_17_x86_64"), -1);
	assert_int_equal(tags_rank(env, &ts, "cp312", "abi3",
	    "manylinux_2_17_x86_64"), -1);
	assert_int_equal(tags_rank(env, &ts, "cp311", "cp311d",
	    "manylinux_2_17_x86_64"), -1);
	assert_int_equal(tags_rank(env, &ts, "py2", "none", "any"), -1);
	assert_int_equal(tags_rank(env, &ts, "pp39", "pypy39_pp73",
	    "manylinux_2_17_x86_64"), -1);
	/* Malformed tags rank as not installable. */
	assert_int_equal(tags_rank(env, &ts, "py3.", "none", "any"), -1);
	assert_int_equal(tags_rank(env, &ts, NULL, "none", "any"), -1);
	tagset_free(&ts);

	assert_int_equal(tags_rank(&musl, NULL, "cp311", "cp311",
	    "musllinux_1_1_x86_64"), 1);
	assert_int_equal(tags_rank(&musl, NULL, "cp311", "cp311",
	    "manylinux_2_17_x86_64"), -1);
	r = tags_rank(&musl, NULL, "py3", "none", "any");
	assert_true(r > 0);
}

static void
test_find(void **state)
{
	struct tagset ts;

	(void)state;
	assert_int_equal(tags_supported(&cp311_glibc236_x86, &ts), 0);
	assert_int_equal(tagset_find(&ts, "cp311", "cp311",
	    "manylinux_2_36_x86_64"), 0);
	assert_int_equal(tagset_find(&ts, "py3", "none", "any"),
	    (int)ts.ntags - 12);
	assert_int_equal(tagset_find(&ts, "py3", "none", "linux_x86_64"), -1);
	assert_int_equal(tagset_find(NULL, "py3", "none", "any"), -1);
	tagset_free(&ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_rejects),
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_supported_glibc_x86),
		cmocka_unit_test(test_supported_other),
		cmocka_unit_test(test_supported_bad_env),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
