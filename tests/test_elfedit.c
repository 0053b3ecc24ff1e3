/*
 * test_elfedit.c: unit tests for elfedit on real shared objects compiled
 * at test time with gcc and musl-gcc. Edited objects are loaded for real:
 * a small loader program (built with each libc) dlopens the edited
 * "extension" with LD_LIBRARY_PATH unset, so only the new DT_NEEDED names,
 * SONAMEs and $ORIGIN RUNPATHs can make it work; the unedited objects in
 * the same places must fail to load. binutils' readelf checks the result
 * (and must not warn), elf_inspect reads it back, and corrupted inputs must
 * give errors, never crashes.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf_inspect.h"
#include "elfedit.h"
#include "util.h"

extern char **environ;

static char tmpdir[4096];

/* ---- helpers ---- */

static void
put_file(const char *path, const void *data, size_t len, int mode)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
put_text(const char *name, const char *text)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	put_file(p, text, strlen(text), 0644);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	char *buf;

	if (util_read_file(path, 64U << 20, &buf, len) != 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return (unsigned char *)buf;
}

/*
 * Run argv in tmpdir with an environment that has no LD_LIBRARY_PATH (or
 * anything else from ours but PATH); stdout+stderr into out. Exit status,
 * or -1 if it could not run.
 */
static int
run(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C",
	    NULL };
	int pfd[2], st;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	assert_int_equal(pipe(pfd), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addchdir_np(&fa, tmpdir);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	while (got + 1 < outlen &&
	    (n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
sh(const char *cmd)
{
	char out[8192];
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	if (run(argv, out, sizeof(out)) != 0)
		fail_msg("`%s` failed:\n%s", cmd, out);
}

/* sh() of a formatted command. */
static void
shf(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	sh(cmd);
}

static char *
tpath(const char *fmt, ...)
{
	static char p[8][4200];
	static int k;
	char rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, rel);
	return p[k];
}

static void
edit_file(const char *in, const char *outpath, const struct elfedit_opts *o)
{
	unsigned char *data, *ed = NULL;
	size_t len, edlen;
	struct wwerr err = { 0 };
	int changed = -1;

	data = slurp(in, &len);
	if (elfedit_apply(data, len, o, &ed, &edlen, &changed, &err) != 0)
		fail_msg("elfedit %s: %s", in, err.msg);
	assert_int_equal(changed, 1);
	put_file(outpath, ed, edlen, 0755);
	free(data);
	free(ed);
}

static struct elf_report *
inspect(const char *path)
{
	struct elf_report *r = NULL;
	struct wwerr err = { 0 };
	unsigned char *data;
	size_t len;

	data = slurp(path, &len);
	if (elf_inspect_mem(path, data, len, &r, &err) != 0)
		fail_msg("inspect %s: %s", path, err.msg);
	free(data);
	return r;
}

/* readelf -a -W must not warn, and its output must contain every want. */
static void
readelf_has(const char *path, const char *opt, const char *want[])
{
	char out[65536];
	char *argv[] = { "readelf", (char *)opt, "-W", (char *)path, NULL };
	size_t i;

	assert_int_equal(run(argv, out, sizeof(out)), 0);
	if (strstr(out, "Warning") != NULL || strstr(out, "Error") != NULL)
		fail_msg("readelf %s %s warns:\n%s", opt, path, out);
	for (i = 0; want[i] != NULL; i++)
		if (strstr(out, want[i]) == NULL)
			fail_msg("readelf %s %s lacks \"%s\":\n%s", opt, path,
			    want[i], out);
}

static const char loader_c[] =
    "#include <dlfcn.h>\n"
    "#include <stdio.h>\n"
    "int main(int argc, char **argv) {\n"
    "  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);\n"
    "  int (*f)(void);\n"
    "  if (!h) { printf(\"dlopen: %s\\n\", dlerror()); return 3; }\n"
    "  f = (int (*)(void))dlsym(h, argv[2]);\n"
    "  if (!f) { printf(\"dlsym: %s\\n\", dlerror()); return 4; }\n"
    "  printf(\"value %d\\n\", f());\n"
    "  return 0;\n"
    "}\n";

/* Two libraries, b needed by a, versioned symbols in b (so a has a
 * .gnu.version_r entry naming libwwb.so.1), and an "extension". */
static const char b_c[] =
    "int wwb_value(void) { return 40; }\n";
static const char b_map[] =
    "WWB_1.0 { global: wwb_value; local: *; };\n";
static const char a_c[] =
    "extern int wwb_value(void);\n"
    "int wwa_value(void) { return wwb_value() + 2; }\n";
static const char ext_c[] =
    "extern int wwa_value(void);\n"
    "extern int wwb_value(void);\n"
    "int ext_value(void) { return wwa_value() * 10 + wwb_value(); }\n";

static int
have_prog(const char *name)
{
	char out[256], cmd[256];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "command -v %s", name);
	return run(argv, out, sizeof(out)) == 0;
}

/* Build the libraries and the loader with cc into tmpdir/<tag>/. */
static void
build_set(const char *cc, const char *tag)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
	    "set -e; mkdir -p %s; cd %s; "
	    "%s -O1 -o loader ../loader.c; "
	    "%s -shared -fPIC -O1 -Wl,-soname,libwwb.so.1 "
	    "-Wl,--version-script=../b.map -o libwwb.so.1 ../b.c; "
	    "%s -shared -fPIC -O1 -Wl,-soname,libwwa.so.1 -o libwwa.so.1 "
	    "../a.c -L. -l:libwwb.so.1; "
	    "%s -shared -fPIC -O1 -o ext.so ../ext.c -L. -l:libwwa.so.1 "
	    "-l:libwwb.so.1",
	    tag, tag, cc, cc, cc, cc);
	sh(cmd);
}

static int
setup(void **state)
{
	const char *t = getenv("WW_TEST_TMP");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_elfedit.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	put_text("loader.c", loader_c);
	put_text("b.c", b_c);
	put_text("b.map", b_map);
	put_text("a.c", a_c);
	put_text("ext.c", ext_c);
	build_set("gcc", "glibc");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[4300];

	(void)state;
	if (getenv("WW_KEEP_TMP") == NULL && tmpdir[0] == '/') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/*
 * The repair layout: tag/site/pkg/ext.so needs a and b from
 * tag/site/pkg.libs under hashed names.
 */
static void
repair_and_load(const char *tag)
{
	struct elfedit_rename ren[] = {
		{ "libwwa.so.1", "libwwa-0a1b2c3d.so.1" },
		{ "libwwb.so.1", "libwwb-4e5f6071.so.1" },
	};
	struct elfedit_opts ext = { ren, 2, NULL, "$ORIGIN/../pkg.libs" };
	struct elfedit_opts la = { ren, 2, "libwwa-0a1b2c3d.so.1", "$ORIGIN" };
	struct elfedit_opts lb = { ren, 2, "libwwb-4e5f6071.so.1", NULL };
	struct elf_report *r;
	char out[8192], prog[4200], obj[4200];
	char *argv[] = { prog, obj, "ext_value", NULL };
	const char *want_d[] = { "Library runpath: [$ORIGIN/../pkg.libs]",
	    "Shared library: [libwwa-0a1b2c3d.so.1]",
	    "Shared library: [libwwb-4e5f6071.so.1]", NULL };
	const char *want_a[] = { "Library soname: [libwwa-0a1b2c3d.so.1]",
	    "Shared library: [libwwb-4e5f6071.so.1]",
	    "Library runpath: [$ORIGIN]", NULL };
	const char *want_v[] = { "File: libwwb-4e5f6071.so.1", NULL };
	int rc;

	/* tpath() rotates through a few buffers: keep copies. */
	util_strlcpy(prog, tpath("%s/loader", tag), sizeof(prog));
	util_strlcpy(obj, tpath("%s/site/pkg/ext.so", tag), sizeof(obj));
	shf("mkdir -p %s/site/pkg %s/site/pkg.libs", tag, tag);
	/* Control: the unedited extension cannot find its libraries. */
	shf("cp %s/ext.so %s/site/pkg/ext.so", tag, tag);
	shf("cp %s/libwwa.so.1 %s/libwwb.so.1 %s/site/pkg.libs/", tag,
	    tag, tag);
	rc = run(argv, out, sizeof(out));
	if (rc == 0 || strstr(out, "libwwa.so.1") == NULL)
		fail_msg("%s: the unedited extension loaded (%d): %s", tag, rc,
		    out);
	shf("rm -f %s/site/pkg.libs/*", tag);

	edit_file(tpath("%s/ext.so", tag), tpath("%s/site/pkg/ext.so", tag),
	    &ext);
	edit_file(tpath("%s/libwwa.so.1", tag),
	    tpath("%s/site/pkg.libs/libwwa-0a1b2c3d.so.1", tag), &la);
	edit_file(tpath("%s/libwwb.so.1", tag),
	    tpath("%s/site/pkg.libs/libwwb-4e5f6071.so.1", tag), &lb);

	rc = run(argv, out, sizeof(out));
	if (rc != 0 || strstr(out, "value 460") == NULL)
		fail_msg("%s: the edited extension did not load and run "
		    "(%d): %s", tag, rc, out);

	readelf_has(tpath("%s/site/pkg/ext.so", tag), "-d", want_d);
	readelf_has(tpath("%s/site/pkg.libs/libwwa-0a1b2c3d.so.1", tag), "-d",
	    want_a);
	readelf_has(tpath("%s/site/pkg.libs/libwwa-0a1b2c3d.so.1", tag), "-V",
	    want_v);
	readelf_has(tpath("%s/site/pkg/ext.so", tag), "-a", (const char *[]){
	    "LOAD", NULL });

	r = inspect(tpath("%s/site/pkg/ext.so", tag));
	assert_int_equal(r->nneeded >= 2, 1);
	assert_string_equal(r->runpath, "$ORIGIN/../pkg.libs");
	assert_null(r->rpath);
	elf_report_free(r);
	r = inspect(tpath("%s/site/pkg.libs/libwwa-0a1b2c3d.so.1", tag));
	assert_string_equal(r->soname, "libwwa-0a1b2c3d.so.1");
	assert_string_equal(r->runpath, "$ORIGIN");
	elf_report_free(r);

	/* Renaming the old name back out of a hashed library: a second edit
	 * of an edited object (another segment) still loads. */
	{
		struct elfedit_opts again = { NULL, 0, "libwwb-4e5f6071.so.1",
		    "$ORIGIN/." };

		edit_file(tpath("%s/site/pkg.libs/libwwb-4e5f6071.so.1", tag),
		    tpath("%s/b2.so", tag), &again);
		shf("cp %s/b2.so %s/site/pkg.libs/libwwb-4e5f6071.so.1",
		    tag, tag);
		rc = run(argv, out, sizeof(out));
		if (rc != 0 || strstr(out, "value 460") == NULL)
			fail_msg("%s: twice-edited library: (%d) %s", tag, rc,
			    out);
	}
}

static void
test_glibc_load(void **state)
{
	(void)state;
	repair_and_load("glibc");
}

static void
test_musl_load(void **state)
{
	(void)state;
	if (!have_prog("musl-gcc"))
		fail_msg("musl-gcc missing: run .ci/install-deps");
	build_set("musl-gcc", "musl");
	repair_and_load("musl");
}

/*
 * Shrink PT_DYNAMIC to its used entries (as some linkers emit it), so
 * adding DT_SONAME/DT_RUNPATH must move the dynamic array.
 */
static void
shrink_dynamic(const char *path)
{
	unsigned char *d;
	size_t len, i, n = 0;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	Elf64_Dyn *dyn;

	d = slurp(path, &len);
	eh = (Elf64_Ehdr *)(void *)d;
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	for (i = 0; i < eh->e_phnum; i++) {
		ph = (Elf64_Phdr *)(void *)(d + eh->e_phoff + i * sizeof(*ph));
		if (ph->p_type != PT_DYNAMIC)
			continue;
		dyn = (Elf64_Dyn *)(void *)(d + ph->p_offset);
		while (dyn[n].d_tag != DT_NULL)
			n++;
		ph->p_filesz = ph->p_memsz = (n + 1) * sizeof(*dyn);
	}
	assert_true(n > 0);
	put_file(path, d, len, 0755);
	free(d);
}

static void
test_move_dynamic(void **state)
{
	struct elfedit_rename ren[] = {
		{ "libwwb.so.1", "libwwb-99999999.so.1" },
	};
	struct elfedit_opts ob = { NULL, 0, "libwwb-99999999.so.1", NULL };
	/* No SONAME, no RUNPATH: both must be added. */
	struct elfedit_opts oa = { ren, 1, "libwwa-11111111.so.1",
	    "$ORIGIN/../../libs" };
	char out[8192], prog[4200], obj[4200];
	char *argv[] = { prog, obj, "wwa_value", NULL };
	const char *want[] = { "Library soname: [libwwa-11111111.so.1]",
	    "Library runpath: [$ORIGIN/../../libs]",
	    "Shared library: [libwwb-99999999.so.1]", NULL };
	struct elf_report *r;
	int rc;

	(void)state;
	util_strlcpy(prog, tpath("mv/loader"), sizeof(prog));
	util_strlcpy(obj, tpath("mv/lib/x/a.so"), sizeof(obj));
	sh("set -e; mkdir -p mv/lib/x mv/libs; cd mv; gcc -O1 -o loader "
	    "../loader.c; gcc -shared -fPIC -Wl,-soname,libwwb.so.1 "
	    "-Wl,--version-script=../b.map -o libwwb.so.1 ../b.c; "
	    "gcc -shared -fPIC -o a.so ../a.c -L. -l:libwwb.so.1");
	shrink_dynamic(tpath("mv/a.so"));
	edit_file(tpath("mv/libwwb.so.1"), tpath("mv/libs/libwwb-99999999.so.1"),
	    &ob);
	edit_file(tpath("mv/a.so"), tpath("mv/lib/x/a.so"), &oa);
	rc = run(argv, out, sizeof(out));
	if (rc != 0 || strstr(out, "value 42") == NULL)
		fail_msg("moved .dynamic: (%d) %s", rc, out);
	readelf_has(tpath("mv/lib/x/a.so"), "-d", want);
	readelf_has(tpath("mv/lib/x/a.so"), "-l", (const char *[]){ "LOAD",
	    "DYNAMIC", NULL });
	r = inspect(tpath("mv/lib/x/a.so"));
	assert_string_equal(r->soname, "libwwa-11111111.so.1");
	assert_string_equal(r->runpath, "$ORIGIN/../../libs");
	elf_report_free(r);
}

/* DT_RPATH becomes DT_RUNPATH; nothing to do gives an unchanged copy. */
static void
test_rpath_and_noop(void **state)
{
	struct elfedit_opts o = { NULL, 0, NULL, "$ORIGIN/z" };
	struct elfedit_rename none[] = { { "libnope.so.9", "libx.so.9" } };
	struct elfedit_opts noop = { none, 1, NULL, NULL };
	unsigned char *data, *ed;
	size_t len, edlen;
	struct wwerr err = { 0 };
	struct elf_report *r;
	int changed;

	(void)state;
	sh("set -e; mkdir -p rp; cd rp; gcc -shared -fPIC "
	    "-Wl,--disable-new-dtags -Wl,-rpath,/opt/build/lib -o r.so ../b.c");
	r = inspect(tpath("rp/r.so"));
	assert_string_equal(r->rpath, "/opt/build/lib");
	assert_null(r->runpath);
	elf_report_free(r);
	edit_file(tpath("rp/r.so"), tpath("rp/r2.so"), &o);
	r = inspect(tpath("rp/r2.so"));
	assert_null(r->rpath);
	assert_string_equal(r->runpath, "$ORIGIN/z");
	elf_report_free(r);

	data = slurp(tpath("rp/r.so"), &len);
	assert_int_equal(elfedit_apply(data, len, &noop, &ed, &edlen, &changed,
	    &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(edlen, len);
	assert_memory_equal(ed, data, len);
	free(ed);
	free(data);
}

/* Foreign machines and big-endian objects from the ELF fixtures. */
static void
test_foreign(void **state)
{
	const char *names[] = { "ppc64be.so", "armv7.so", "a64_228.so",
	    "s390x.so", "mips64.so", "i686.so", "nosect.so" };
	struct elfedit_rename ren[] = { { "libc.so.6", "libc-00000000.so.6" } };
	struct elfedit_opts o = { ren, 1, "libnew-12345678.so.3",
	    "$ORIGIN/../x.libs" };
	const char *b = getenv("WW_BUILD_DIR");
	char path[4096];
	unsigned char *data, *ed;
	size_t len, edlen, i, k;
	struct wwerr err = { 0 };
	struct elf_report *r0, *r;
	int changed;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < WW_ARRLEN(names); i++) {
		snprintf(path, sizeof(path), "%s/fixtures/elf/%s", b, names[i]);
		data = slurp(path, &len);
		r0 = NULL;
		assert_int_equal(elf_inspect_mem(names[i], data, len, &r0,
		    &err), 0);
		if (elfedit_apply(data, len, &o, &ed, &edlen, &changed, &err)
		    != 0)
			fail_msg("%s: %s", names[i], err.msg);
		assert_int_equal(changed, 1);
		r = NULL;
		if (elf_inspect_mem(names[i], ed, edlen, &r, &err) != 0)
			fail_msg("%s edited: %s", names[i], err.msg);
		assert_int_equal(r->machine, r0->machine);
		assert_int_equal(r->little_endian, r0->little_endian);
		assert_string_equal(r->soname, "libnew-12345678.so.3");
		assert_string_equal(r->runpath, "$ORIGIN/../x.libs");
		assert_int_equal(r->nneeded, r0->nneeded);
		for (k = 0; k < r->nneeded; k++)
			assert_string_equal(r->needed[k],
			    strcmp(r0->needed[k], "libc.so.6") == 0 ?
			    "libc-00000000.so.6" : r0->needed[k]);
		/* Version needs follow the rename. */
		for (k = 0; k < r->nsymvers; k++)
			assert_string_not_equal(r->symvers[k].lib,
			    "libc.so.6");
		assert_int_equal(r->nsymvers, r0->nsymvers);
		elf_report_free(r);
		elf_report_free(r0);
		free(ed);
		free(data);
	}
}

static void
expect_err(const void *data, size_t len, int code)
{
	struct elfedit_rename ren[] = { { "libwwb.so.1", "libz-1.so.1" } };
	struct elfedit_opts o = { ren, 1, "libq.so", "$ORIGIN" };
	unsigned char *ed = (unsigned char *)"x";
	size_t edlen = 1;
	struct wwerr err = { 0 };

	assert_int_equal(elfedit_apply(data, len, &o, &ed, &edlen, NULL,
	    &err), -1);
	assert_int_equal(err.code, code);
	assert_null(ed);
	assert_true(err.msg[0] != '\0');
}

static void
test_refusals(void **state)
{
	struct elfedit_opts bad = { NULL, 0, "", NULL };
	unsigned char *data, *ed;
	size_t len, edlen;
	struct wwerr err = { 0 };

	(void)state;
	expect_err("hello", 5, ELFEDIT_E_NOT_ELF);
	sh("set -e; mkdir -p rf; cd rf; gcc -c -fPIC -o o.o ../b.c; "
	    "gcc -no-pie -o exe ../loader.c; gcc -static -o st ../loader.c "
	    "2>/dev/null || gcc -no-pie -o st ../loader.c");
	data = slurp(tpath("rf/o.o"), &len);
	expect_err(data, len, ELFEDIT_E_UNSUPPORTED);	/* ET_REL */
	free(data);
	data = slurp(tpath("rf/exe"), &len);
	expect_err(data, len, ELFEDIT_E_UNSUPPORTED);	/* ET_EXEC */
	free(data);
	data = slurp(tpath("glibc/libwwb.so.1"), &len);
	assert_int_equal(elfedit_apply(data, len, &bad, &ed, &edlen, NULL,
	    &err), -1);
	assert_int_equal(err.code, ELFEDIT_E_ARGS);
	free(data);
}

/*
 * Hostile input: every truncation and many single-byte corruptions of a
 * real object give an error or an object that elf_inspect still reads;
 * never a crash (the sanitizer build checks the reads).
 */
static void
test_corrupt(void **state)
{
	struct elfedit_rename ren[] = { { "libwwb.so.1", "libwwb-1.so.1" } };
	struct elfedit_opts o = { ren, 1, "libwwa-1.so.1", "$ORIGIN" };
	unsigned char *data, *copy, *ed;
	size_t len, edlen, i, cut;
	struct wwerr err;
	struct elf_report *r;
	unsigned int seed = 12345;

	(void)state;
	data = slurp(tpath("glibc/libwwa.so.1"), &len);
	for (cut = 0; cut < len; cut += (cut < 4096 ? 7 : 211)) {
		memset(&err, 0, sizeof(err));
		if (elfedit_apply(data, cut, &o, &ed, &edlen, NULL, &err) == 0)
			free(ed);
		else
			assert_true(err.code != 0);
	}
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < 3000; i++) {
		size_t pos;

		memcpy(copy, data, len);
		seed = seed * 1103515245u + 12345u;
		/* Mostly the headers and the dynamic data, where it matters. */
		pos = (seed >> 8) % (i % 2 ? 1024 : len);
		seed = seed * 1103515245u + 12345u;
		copy[pos] ^= (unsigned char)(1u << ((seed >> 16) % 8));
		memset(&err, 0, sizeof(err));
		if (elfedit_apply(copy, len, &o, &ed, &edlen, NULL, &err) == 0) {
			r = NULL;
			if (elf_inspect_mem("x", ed, edlen, &r, &err) == 0)
				elf_report_free(r);
			free(ed);
		}
	}
	free(copy);
	free(data);
}

/*
 * A PT_LOAD at the top of the address space (found by fuzz_elfedit): the
 * new segment's address used to wrap around to the bottom, on top of
 * another segment, and the edit "succeeded" with a string table the
 * loaders would read from the wrong bytes. It must be refused.
 */
static void
test_no_room_above(void **state)
{
	struct elfedit_rename ren[] = { { "libwwb.so.1", "libwwb-1.so.1" } };
	struct elfedit_opts o = { ren, 1, "libwwa-1.so.1", "$ORIGIN" };
	unsigned char *data, *ed = NULL, *p;
	size_t len, edlen, i, phoff, phnum, nload = 0;
	struct wwerr err = { 0 };

	(void)state;
	data = slurp(tpath("glibc/libwwa.so.1"), &len);
	assert_true(len > 64 && data[4] == 2 && data[5] == 1);	/* ELF64 LE */
	phoff = (size_t)data[0x20] | (size_t)data[0x21] << 8;
	phnum = (size_t)data[0x38] | (size_t)data[0x39] << 8;
	assert_true(phoff + phnum * 56 <= len);
	for (i = 0; i < phnum; i++) {
		p = data + phoff + i * 56;
		if (p[0] != 1 || p[1] || p[2] || p[3])	/* PT_LOAD */
			continue;
		/* The second one: the first holds .dynstr, which must stay
		 * where DT_STRTAB says. */
		if (++nload == 2) {
			memset(p + 16, 0xff, 8);	/* p_vaddr */
			p[17] = 0xe0;			/* 0xff..ffe000 */
			p[16] = 0x00;
			break;
		}
	}
	assert_int_equal(nload, 2);
	assert_int_equal(elfedit_apply(data, len, &o, &ed, &edlen, NULL,
	    &err), -1);
	assert_null(ed);
	assert_int_equal(err.code, ELFEDIT_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "address space"));
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glibc_load),
		cmocka_unit_test(test_musl_load),
		cmocka_unit_test(test_move_dynamic),
		cmocka_unit_test(test_rpath_and_noop),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_no_room_above),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
