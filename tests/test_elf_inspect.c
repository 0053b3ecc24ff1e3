/*
 * test_elf_inspect.c: unit tests for elf_inspect on real ELF files: shared
 * objects compiled at build time with gcc, g++ and musl-gcc (see the ELF
 * fixtures section of tests/CMakeLists.txt), foreign-machine objects from
 * fixtures/elf/mkelf.c, and the system's own libraries. Results are
 * cross-checked against binutils' readelf, and corrupted copies must give
 * errors, never crashes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elf_inspect.h"
#include "util.h"

static char *
fixture(const char *name)
{
	static char path[4096];
	const char *b = getenv("WW_BUILD_DIR");

	assert_non_null(b);
	snprintf(path, sizeof(path), "%s/fixtures/elf/%s", b, name);
	return path;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	char *buf;

	if (util_read_file(path, 256U << 20, &buf, len) != 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return (unsigned char *)buf;
}

static struct elf_report *
inspect_file(const char *path)
{
	struct elf_report *r = NULL;
	struct wwerr err = { 0 };
	unsigned char *buf;
	size_t len;

	buf = slurp(path, &len);
	if (elf_inspect_mem(path, buf, len, &r, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
	free(buf);
	return r;
}

static struct elf_report *
inspect_fixture(const char *name)
{
	return inspect_file(fixture(name));
}

static int
has_needed(const struct elf_report *r, const char *lib)
{
	size_t i;

	for (i = 0; i < r->nneeded; i++)
		if (strcmp(r->needed[i], lib) == 0)
			return 1;
	return 0;
}

static int
has_symver(const struct elf_report *r, const char *lib, const char *ver)
{
	size_t i;

	for (i = 0; i < r->nsymvers; i++)
		if (strcmp(r->symvers[i].lib, lib) == 0 &&
		    strcmp(r->symvers[i].version, ver) == 0)
			return 1;
	return 0;
}

static int
has_str(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/*
 * Compare with binutils: every "Shared library: [x]" of `readelf -d` and
 * every "File: lib ... Name: VER" of `readelf -V` must be in the report,
 * and the counts must agree.
 */
static void
crosscheck_readelf(const char *path, const struct elf_report *r)
{
	char cmd[4300], line[1024], file[256] = "", *p, *q;
	FILE *f;
	size_t nneeded = 0, nver = 0;
	int in_verneed = 0;

	snprintf(cmd, sizeof(cmd), "readelf -W -d -V '%s' 2>/dev/null", path);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, "Shared library: [")) != NULL) {
			p += strlen("Shared library: [");
			if ((q = strchr(p, ']')) != NULL)
				*q = '\0';
			if (!has_needed(r, p))
				fail_msg("%s: readelf NEEDED %s missing", path,
				    p);
			nneeded++;
		}
		if (strstr(line, "Version needs section") != NULL)
			in_verneed = 1;
		else if (strstr(line, "Version definition section") != NULL ||
		    strstr(line, "Version symbols section") != NULL)
			in_verneed = 0;
		if (!in_verneed)
			continue;
		if ((p = strstr(line, "File: ")) != NULL) {
			p += 6;
			q = p + strcspn(p, " \t\n");
			*q = '\0';
			util_strlcpy(file, p, sizeof(file));
		} else if ((p = strstr(line, "Name: ")) != NULL) {
			p += 6;
			q = p + strcspn(p, " \t\n");
			*q = '\0';
			if (!has_symver(r, file, p))
				fail_msg("%s: readelf needs %s from %s; report "
				    "lacks it", path, p, file);
			nver++;
		}
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(nneeded, r->nneeded);
	assert_int_equal(nver, r->nsymvers);
}

static void
test_plain_glibc(void **state)
{
	struct elf_report *r;
	size_t i;

	(void)state;
	r = inspect_fixture("plain.so");
	assert_string_equal(r->arch, "x86_64");
	assert_int_equal(r->machine, EM_X86_64);
	assert_int_equal(r->elfclass, 64);
	assert_int_equal(r->little_endian, 1);
	assert_int_equal(r->type, ET_DYN);
	assert_int_equal(r->libc, ELF_LIBC_GLIBC);
	assert_int_equal(r->mixed_libc, 0);
	assert_null(r->interp);
	assert_null(r->soname);
	assert_true(has_needed(r, "libc.so.6"));
	/* memcpy with a run-time length is memcpy@GLIBC_2.14 on x86_64 */
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.14"));
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.2.5"));
	assert_int_equal(r->nstatic_libc_syms, 0);
	assert_null(r->static_libc_syms);
	assert_true(has_str(r->undefined, r->nundefined, "memcpy"));
	assert_true(has_str(r->undefined, r->nundefined, "snprintf"));
	for (i = 1; i < r->nundefined; i++)	/* sorted, unique */
		assert_true(strcmp(r->undefined[i - 1], r->undefined[i]) < 0);
	assert_null(r->undefined[r->nundefined]);
	assert_null(r->needed[r->nneeded]);
	crosscheck_readelf(fixture("plain.so"), r);
	elf_report_free(r);
}

static void
test_cxx(void **state)
{
	struct elf_report *r;
	size_t i, nglibcxx = 0, ncxxabi = 0;

	(void)state;
	r = inspect_fixture("cxx.so");
	assert_int_equal(r->libc, ELF_LIBC_GLIBC);
	assert_true(has_needed(r, "libstdc++.so.6"));
	for (i = 0; i < r->nsymvers; i++) {
		if (strncmp(r->symvers[i].version, "GLIBCXX_3.4", 11) == 0) {
			assert_string_equal(r->symvers[i].lib,
			    "libstdc++.so.6");
			nglibcxx++;
		}
		if (strncmp(r->symvers[i].version, "CXXABI_1.3", 10) == 0)
			ncxxabi++;
	}
	assert_true(nglibcxx > 0);
	assert_true(ncxxabi > 0);
	crosscheck_readelf(fixture("cxx.so"), r);
	elf_report_free(r);
}

static void
test_other_compiled(void **state)
{
	static const char *const names[] = { "closefrom.so", "arc4random.so",
	    "sqlite.so", "libhelper.so.1", "usehelper.so", "musl.so" };
	struct elf_report *r;
	size_t i;

	(void)state;
	for (i = 0; i < WW_ARRLEN(names); i++) {
		r = inspect_fixture(names[i]);
		crosscheck_readelf(fixture(names[i]), r);
		elf_report_free(r);
	}
	r = inspect_fixture("closefrom.so");
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.34"));
	elf_report_free(r);
	r = inspect_fixture("arc4random.so");
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.36"));
	elf_report_free(r);
	r = inspect_fixture("sqlite.so");
	assert_true(has_needed(r, "libsqlite3.so.0"));
	elf_report_free(r);
	r = inspect_fixture("libhelper.so.1");
	assert_string_equal(r->soname, "libhelper.so.1");
	elf_report_free(r);
	r = inspect_fixture("usehelper.so");
	assert_true(has_needed(r, "libhelper.so.1"));
	elf_report_free(r);
}

static void
test_musl(void **state)
{
	struct elf_report *r;

	(void)state;
	r = inspect_fixture("musl.so");
	assert_int_equal(r->libc, ELF_LIBC_MUSL);
	assert_true(has_needed(r, "libc.so"));
	assert_int_equal(r->nsymvers, 0);	/* musl has no symbol versions */
	assert_int_equal(r->nstatic_libc_syms, 0);
	elf_report_free(r);

	r = inspect_fixture("a64_exec_musl");
	assert_int_equal(r->type, ET_EXEC);
	assert_string_equal(r->interp, "/lib/ld-musl-aarch64.so.1");
	assert_int_equal(r->libc, ELF_LIBC_MUSL);
	elf_report_free(r);
}

static void
test_static_libc(void **state)
{
	struct elf_report *r;

	(void)state;
	/* musl's libc.a linked into the extension: it defines memcpy and
	 * friends itself and needs no libc at all. */
	r = inspect_fixture("muslstatic.so");
	assert_int_equal(r->libc, ELF_LIBC_NONE);
	assert_int_equal(r->nneeded, 0);
	assert_true(r->nstatic_libc_syms >= 4);
	assert_string_equal(r->static_libc_syms[0], "memcpy");
	assert_string_equal(r->static_libc_syms[1], "malloc");
	assert_true(has_str(r->static_libc_syms, r->nstatic_libc_syms,
	    "snprintf"));
	assert_null(r->static_libc_syms[r->nstatic_libc_syms]);
	elf_report_free(r);

	r = inspect_fixture("a64_static.so");
	assert_int_equal(r->nstatic_libc_syms, 3);
	assert_string_equal(r->static_libc_syms[0], "memcpy");
	assert_string_equal(r->static_libc_syms[1], "malloc");
	assert_string_equal(r->static_libc_syms[2], "strlen");
	elf_report_free(r);
}

static void
test_foreign_machines(void **state)
{
	static const struct {
		const char *file, *arch;
		uint16_t machine;
		int cls, le;
		const char *ver;
	} cases[] = {
		{ "a64_217.so", "aarch64", EM_AARCH64, 64, 1, "GLIBC_2.17" },
		{ "ppc64be.so", "ppc64", EM_PPC64, 64, 0, "GLIBC_2.17" },
		{ "ppc64le.so", "ppc64le", EM_PPC64, 64, 1, "GLIBC_2.17" },
		{ "s390x.so", "s390x", EM_S390, 64, 0, "GLIBC_2.2" },
		{ "armv7.so", "armv7l", EM_ARM, 32, 1, "GLIBC_2.4" },
		{ "riscv64.so", "riscv64", EM_RISCV, 64, 1, "GLIBC_2.27" },
		{ "i686.so", "i686", EM_386, 32, 1, "GLIBC_2.1.3" },
		{ "mips64.so", "mips64", EM_MIPS, 64, 0, "GLIBC_2.0" },
	};
	struct elf_report *r;
	size_t i;

	(void)state;
	for (i = 0; i < WW_ARRLEN(cases); i++) {
		r = inspect_fixture(cases[i].file);
		assert_string_equal(r->arch, cases[i].arch);
		assert_int_equal(r->machine, cases[i].machine);
		assert_int_equal(r->elfclass, cases[i].cls);
		assert_int_equal(r->little_endian, cases[i].le);
		assert_int_equal(r->libc, ELF_LIBC_GLIBC);
		assert_true(has_needed(r, "libc.so.6"));
		assert_true(has_symver(r, "libc.so.6", cases[i].ver));
		crosscheck_readelf(fixture(cases[i].file), r);
		elf_report_free(r);
	}
	r = inspect_fixture("ppc64be.so");
	assert_string_equal(r->soname, "libbe.so.2");
	elf_report_free(r);
	r = inspect_fixture("a64_228.so");
	assert_string_equal(r->soname, "liba64.so.1");
	assert_string_equal(r->runpath, "$ORIGIN/../pkg.libs");
	assert_null(r->rpath);
	assert_true(has_needed(r, "libm.so.6"));
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.28"));
	assert_true(has_symver(r, "libm.so.6", "GLIBC_2.17"));
	assert_true(has_str(r->undefined, r->nundefined, "malloc"));
	assert_int_equal(r->nstatic_libc_syms, 0);
	crosscheck_readelf(fixture("a64_228.so"), r);
	elf_report_free(r);
}

static void
test_arch_names(void **state)
{
	(void)state;
	assert_string_equal(elf_machine_arch(EM_X86_64, 64), "x86_64");
	assert_string_equal(elf_machine_arch(EM_386, 32), "i686");
	assert_string_equal(elf_machine_arch(EM_AARCH64, 64), "aarch64");
	assert_string_equal(elf_machine_arch(EM_ARM, 32), "armv7l");
	assert_string_equal(elf_machine_arch(EM_PPC64, 64), "ppc64le");
	assert_string_equal(elf_machine_arch(EM_S390, 64), "s390x");
	assert_string_equal(elf_machine_arch(EM_RISCV, 64), "riscv64");
	assert_string_equal(elf_machine_arch(EM_LOONGARCH, 64),
	    "loongarch64");
	assert_string_equal(elf_machine_arch(0x7777, 64), "unknown");
	assert_string_equal(elf_machine_arch(EM_386, 64), "unknown");
	assert_string_equal(elf_arch_name(EM_PPC64, 64, 0), "ppc64");
	assert_string_equal(elf_arch_name(EM_AARCH64, 64, 0), "aarch64_be");
	assert_string_equal(elf_arch_name(EM_X86_64, 32, 1), "x32");
	assert_string_equal(elf_machine_arch(EM_BPF, 64), "bpf");
	assert_string_equal(elf_libc_name(ELF_LIBC_GLIBC), "glibc");
	assert_string_equal(elf_libc_name(ELF_LIBC_MUSL), "musl");
	assert_string_equal(elf_libc_name(ELF_LIBC_NONE), "none");
}

/* The loader's view wins over section headers that are gone or lie. */
static void
test_sections_stripped_or_forged(void **state)
{
	struct elf_report *r;

	(void)state;
	r = inspect_fixture("nosect.so");
	assert_true(has_needed(r, "libsqlite3.so.0"));
	assert_true(has_symver(r, "libc.so.6", "GLIBC_2.2.5"));
	elf_report_free(r);
	r = inspect_fixture("forged.so");
	assert_true(has_needed(r, "libsqlite3.so.0"));
	assert_true(has_needed(r, "libc.so.6"));
	elf_report_free(r);
}

static void
test_mixed_libc(void **state)
{
	struct elf_report *r;

	(void)state;
	r = inspect_fixture("mixed.so");
	assert_int_equal(r->mixed_libc, 1);
	elf_report_free(r);
	r = inspect_fixture("bpf.o");
	assert_int_equal(r->type, ET_REL);
	assert_string_equal(r->arch, "bpf");
	assert_int_equal(r->nneeded, 0);
	elf_report_free(r);
	r = inspect_fixture("nolibc.so");
	assert_int_equal(r->libc, ELF_LIBC_NONE);
	assert_int_equal(r->nstatic_libc_syms, 0);
	elf_report_free(r);
}

static int
inspect_err(const void *buf, size_t len, struct wwerr *err)
{
	struct elf_report *r = NULL;
	int rc;

	wwerr_clear(err);
	rc = elf_inspect_mem("t.so", buf, len, &r, err);
	if (rc == 0) {
		assert_non_null(r);
		elf_report_free(r);
	} else {
		assert_null(r);
		assert_true(err->code != 0);
		assert_non_null(strstr(err->msg, "t.so"));
	}
	return rc;
}

static uint64_t
rd64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Offset of the 64-bit LE field of mkelf output's PT_DYNAMIC. */
static size_t
dyn_off(const unsigned char *b)
{
	/* phdrs at 64; mkelf writes PT_LOAD then PT_DYNAMIC */
	assert_int_equal(b[120], PT_DYNAMIC);
	return (size_t)rd64(b + 128);
}

static void
patch64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Address of the value of the first dynamic entry with this tag. */
static unsigned char *
dyn_entry(unsigned char *b, uint64_t tag)
{
	unsigned char *p = b + dyn_off(b);

	for (;; p += 16) {
		uint64_t t = rd64(p);

		if (t == tag)
			return p + 8;
		assert_int_not_equal(t, DT_NULL);
	}
}

static void
test_specific_errors(void **state)
{
	struct wwerr err;
	unsigned char *orig, *b;
	size_t len;

	(void)state;
	assert_int_equal(inspect_err("hello world", 11, &err), -1);
	assert_int_equal(err.code, ELFI_E_NOT_ELF);
	assert_int_equal(inspect_err("", 0, &err), -1);
	assert_int_equal(err.code, ELFI_E_NOT_ELF);
	assert_false(elf_is_elf("\177EL", 3));
	assert_true(elf_is_elf("\177ELF", 4));

	orig = slurp(fixture("a64_228.so"), &len);
	b = malloc(len);

	/* truncated identification / header */
	assert_int_equal(inspect_err(orig, 10, &err), -1);
	assert_int_equal(err.code, ELFI_E_CORRUPT);
	assert_int_equal(inspect_err(orig, 40, &err), -1);

	/* bad class */
	memcpy(b, orig, len);
	b[EI_CLASS] = 7;
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_int_equal(err.code, ELFI_E_UNSUPPORTED);

	/* PT_DYNAMIC beyond the end of the file */
	memcpy(b, orig, len);
	patch64(b + 128, 0xfffffff0);
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_int_equal(err.code, ELFI_E_CORRUPT);
	assert_non_null(strstr(err.msg, "PT_DYNAMIC"));

	/* DT_STRTAB pointing outside every PT_LOAD */
	memcpy(b, orig, len);
	patch64(dyn_entry(b, DT_STRTAB), 0x40000000);
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_non_null(strstr(err.msg, "DT_STRTAB"));

	/* string table larger than the file */
	memcpy(b, orig, len);
	patch64(dyn_entry(b, DT_STRSZ), len * 4);
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_non_null(strstr(err.msg, "string table"));

	/* DT_NEEDED name offset outside the string table */
	memcpy(b, orig, len);
	patch64(dyn_entry(b, DT_NEEDED), 0x7fffffff);
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_non_null(strstr(err.msg, "DT_NEEDED"));

	/* version requirements outside the file, and a bad vn_version */
	memcpy(b, orig, len);
	b[rd64(dyn_entry(b, DT_VERNEED)) + 11] = 0x7f;	/* vn_aux */
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_int_equal(err.code, ELFI_E_CORRUPT);
	assert_non_null(strstr(err.msg, "outside the file"));
	memcpy(b, orig, len);
	patch64(dyn_entry(b, DT_VERNEED), 0x50000000);
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_non_null(strstr(err.msg, "DT_VERNEED"));
	memcpy(b, orig, len);
	b[rd64(dyn_entry(b, DT_VERNEED))] = 9;
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_int_equal(err.code, ELFI_E_UNSUPPORTED);

	/* no DT_NULL: the dynamic array runs to the end of its segment */
	memcpy(b, orig, len);
	{
		unsigned char *p = b + dyn_off(b);
		uint64_t sz = rd64(b + 152);
		size_t i;

		for (i = 0; i + 16 <= sz; i += 16)
			if (p[i] == DT_NULL && p[i + 1] == 0)
				p[i] = DT_SYMENT;
	}
	assert_int_equal(inspect_err(b, len, &err), -1);
	assert_non_null(strstr(err.msg, "DT_NULL"));

	/* untouched copy still fine */
	memcpy(b, orig, len);
	assert_int_equal(inspect_err(b, len, &err), 0);
	free(b);
	free(orig);
}

/* Deterministic corruption: every prefix and thousands of mutated copies
 * of real objects must give a report or an error, never a crash (ASan
 * and UBSan builds run this too). */
static void
test_corruption(void **state)
{
	static const char *const names[] = { "plain.so", "a64_228.so",
	    "ppc64be.so", "armv7.so", "cxx.so" };
	struct wwerr err;
	unsigned char *orig, *b;
	size_t len, i, k, n, cut;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int ok = 0, bad = 0;

	(void)state;
	for (n = 0; n < WW_ARRLEN(names); n++) {
		orig = slurp(fixture(names[n]), &len);
		b = malloc(len);
		for (cut = 0; cut < len && cut < 2048; cut++) {
			memcpy(b, orig, cut);
			inspect_err(b, cut, &err) == 0 ? ok++ : bad++;
		}
		for (cut = 2048; cut < len; cut += 97) {
			memcpy(b, orig, cut);
			inspect_err(b, cut, &err) == 0 ? ok++ : bad++;
		}
		for (i = 0; i < 1500; i++) {
			memcpy(b, orig, len);
			for (k = 0; k < 1 + i % 8; k++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				/* favour the headers and dynamic data */
				b[(i % 2 ? x % len : x % (len < 1024 ? len :
				    1024))] = (unsigned char)(x >> 32);
			}
			inspect_err(b, len, &err) == 0 ? ok++ : bad++;
		}
		free(b);
		free(orig);
	}
	/* both outcomes must occur, or the loop tests nothing */
	assert_true(ok > 100);
	assert_true(bad > 100);
}

/*
 * The machine's own libraries are the most varied real input there is:
 * every one must inspect without error. Python's own extension modules
 * must never look like they carry a static libc.
 */
static void
inspect_dir(const char *dir, size_t maxsize, size_t *count, int python_ext)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[4096];
	unsigned char *buf;
	size_t len;
	struct elf_report *r;
	struct wwerr err;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".so") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (size_t)st.st_size > maxsize)
			continue;
		buf = slurp(path, &len);
		if (!elf_is_elf(buf, len)) {
			free(buf);	/* linker scripts */
			continue;
		}
		if (elf_inspect_mem(path, buf, len, &r, &err) != 0)
			fail_msg("%s: %s", path, err.msg);
		assert_string_not_equal(r->arch, "unknown");
		if (python_ext && r->nstatic_libc_syms != 0)
			fail_msg("%s flagged as static libc (%s)", path,
			    r->static_libc_syms[0]);
		(*count)++;
		elf_report_free(r);
		free(buf);
	}
	closedir(d);
}

static void
test_system_libraries(void **state)
{
	size_t n = 0, npy = 0;
	struct elf_report *r;
	DIR *d;
	struct dirent *de;
	char dir[512];

	(void)state;
	inspect_dir("/usr/lib/x86_64-linux-gnu", 8U << 20, &n, 0);
	inspect_dir("/lib/x86_64-linux-gnu", 8U << 20, &n, 0);
	if ((d = opendir("/usr/lib")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "python3", 7) == 0) {
				snprintf(dir, sizeof(dir),
				    "/usr/lib/%s/lib-dynload", de->d_name);
				inspect_dir(dir, 8U << 20, &npy, 1);
			}
		closedir(d);
	}
	print_message("inspected %zu system libraries, %zu Python "
	    "extension modules\n", n, npy);
	assert_true(n >= 50);
	assert_true(npy >= 10);

	r = inspect_file("/usr/lib/x86_64-linux-gnu/libz.so.1");
	assert_string_equal(r->soname, "libz.so.1");
	assert_int_equal(r->libc, ELF_LIBC_GLIBC);
	assert_int_equal(r->nstatic_libc_syms, 0);
	elf_report_free(r);
	/* libc itself defines memcpy: it is what the check looks for */
	r = inspect_file("/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_true(r->nstatic_libc_syms > 0);
	elf_report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_glibc),
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_other_compiled),
		cmocka_unit_test(test_musl),
		cmocka_unit_test(test_static_libc),
		cmocka_unit_test(test_foreign_machines),
		cmocka_unit_test(test_arch_names),
		cmocka_unit_test(test_sections_stripped_or_forged),
		cmocka_unit_test(test_mixed_libc),
		cmocka_unit_test(test_specific_errors),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_system_libraries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
