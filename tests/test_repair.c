/*
 * test_repair.c: unit tests for repair_wheel on real wheels. At test time
 * gcc builds two libraries (libwwa.so.1 needs libwwb.so.1, which has
 * versioned symbols) and CPython extensions that link them; the wheels are
 * made by tests/lib/wheelfactory.py. A repaired wheel must carry both
 * libraries under hashed names, pass the verifier (RECORD hashes) and the
 * policy with a manylinux tag, and - installed with Debian's real pip into
 * a directory, with nothing on LD_LIBRARY_PATH - import and run the C code
 * that calls into both libraries; the unrepaired wheel installed the same
 * way must fail to import. musl-built objects go the same way to a
 * musllinux tag and are loaded by a musl program. Refusals (libc, glibc
 * parts, the loader, libpython, policy libraries, the interpreter's own
 * libraries), missing libraries and unfixable content fail with the
 * library's name and leave nothing in the output directory.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
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
#include "hash.h"
#include "policy.h"
#include "repair.h"
#include "util.h"
#include "verify.h"

static char tmpdir[4096];
static struct policy_db *db;
static struct limits lim;

/* ---- helpers ---- */

static int
run(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8",
	    "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1",
	    "PIP_DISABLE_PIP_VERSION_CHECK=1", NULL };
	int pfd[2], st;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	if (pipe(pfd) != 0)
		return -1;
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

static int
shq(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[8192];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run(argv, out, outlen);
}

static void
shf(const char *fmt, ...)
{
	char cmd[8192], out[16384];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (run(argv, out, sizeof(out)) != 0)
		fail_msg("`%s` failed:\n%s", cmd, out);
}

static const char *
tp(const char *rel)
{
	static char p[4][4300];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, rel);
	return p[k];
}

static void
put_text(const char *name, const char *text)
{
	FILE *f = fopen(tp(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	char *buf;

	if (util_read_file(path, 64U << 20, &buf, len) != 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return (unsigned char *)buf;
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A fresh, empty directory under tmpdir. */
static const char *
fresh(const char *name)
{
	const char *d = tp(name);

	shf("rm -rf '%s' && mkdir -p '%s'", d, d);
	return d;
}

/*
 * Make a wheel with wheelfactory: members "path=file" (file relative to
 * tmpdir). Returns its path.
 */
static const char *
mkwheel(const char *dir, const char *name, const char *tag,
    const char *members)
{
	static char path[4400];
	const char *src = getenv("WW_SOURCE_DIR");

	assert_non_null(src);
	shf("mkdir -p %s && /usr/bin/python3 - %s/tests/lib %s %s %s %s "
	    "<<'EOF'\n"
	    "import os, sys\n"
	    "sys.path.insert(0, sys.argv[1])\n"
	    "import wheelfactory as w\n"
	    "out, name, tag, members = sys.argv[2:6]\n"
	    "files = {name + '/__init__.py': b'from . import _ext\\n'}\n"
	    "for m in members.split(','):\n"
	    "    p, f = m.split('=')\n"
	    "    files[p] = open(f, 'rb').read()\n"
	    "fn = w.wheel_filename(name, '1.0', tag)\n"
	    "open(os.path.join(out, fn), 'wb').write(\n"
	    "    w.wheel_bytes(name, '1.0', tag, files=files))\n"
	    "print(fn)\n"
	    "EOF", dir, src, dir, name, tag, members);
	snprintf(path, sizeof(path), "%s/%s-1.0-%s.whl", dir, name, tag);
	return path;
}

static const char ext_c[] =
    "#define PY_SSIZE_T_CLEAN\n"
    "#include <Python.h>\n"
    "extern int wwa_value(void);\n"
    "extern int wwb_value(void);\n"
    "static PyObject *value(PyObject *s, PyObject *a)\n"
    "{ (void)s; (void)a; return PyLong_FromLong(wwa_value() * 10 +\n"
    "    wwb_value()); }\n"
    "static PyMethodDef m[] = { { \"value\", value, METH_NOARGS, NULL },\n"
    "    { NULL, NULL, 0, NULL } };\n"
    "static struct PyModuleDef d = { PyModuleDef_HEAD_INIT, MODNAME,\n"
    "    NULL, -1, m };\n"
    "PyMODINIT_FUNC INITFN(void) { return PyModule_Create(&d); }\n";
static const char b_c[] = "int wwb_value(void) { return 40; }\n";
static const char b_map[] = "WWB_1.0 { global: wwb_value; local: *; };\n";
static const char a_c[] =
    "extern int wwb_value(void);\n"
    "int wwa_value(void) { return wwb_value() + 2; }\n";
static const char plain_c[] =
    "extern int wwa_value(void);\n"
    "int plain_value(void) { return wwa_value(); }\n";
static const char libc_only_c[] =
    "#include <string.h>\n"
    "int only(const char *s) { return (int)strlen(s); }\n";
static const char loader_c[] =
    "#include <dlfcn.h>\n"
    "#include <stdio.h>\n"
    "int main(int argc, char **argv) {\n"
    "  void *h = dlopen(argv[1], RTLD_NOW);\n"
    "  int (*f)(void);\n"
    "  if (!h) { printf(\"dlopen: %s\\n\", dlerror()); return 3; }\n"
    "  f = (int (*)(void))dlsym(h, argv[2]);\n"
    "  if (!f) { printf(\"dlsym: %s\\n\", dlerror()); return 4; }\n"
    "  printf(\"value %d\\n\", f());\n"
    "  return 0;\n"
    "}\n";

#define EXT	".cpython-311-x86_64-linux-gnu.so"

static int
setup(void **state)
{
	const char *t = getenv("WW_TEST_TMP");
	struct wwerr err = { 0 };
	char out[16384];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_repair.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	put_text("ext.c", ext_c);
	put_text("b.c", b_c);
	put_text("b.map", b_map);
	put_text("a.c", a_c);
	put_text("plain.c", plain_c);
	put_text("libc_only.c", libc_only_c);
	put_text("loader.c", loader_c);
	put_text("empty.py", "");
	if (shq(out, sizeof(out), "set -e; mkdir -p g m; cd g; "
	    "gcc -shared -fPIC -O1 -Wl,-soname,libwwb.so.1 "
	    "-Wl,--version-script=../b.map -o libwwb.so.1 ../b.c; "
	    "gcc -shared -fPIC -O1 -Wl,-soname,libwwa.so.1 -o libwwa.so.1 "
	    "../a.c -L. -l:libwwb.so.1; "
	    "gcc -shared -fPIC -O1 -I/usr/include/python3.11 "
	    "-DMODNAME='\"_ext\"' -DINITFN=PyInit__ext -o ext.so ../ext.c "
	    "-L. -l:libwwa.so.1 -l:libwwb.so.1; "
	    "gcc -shared -fPIC -O1 -I/usr/include/python3.11 "
	    "-DMODNAME='\"_deep\"' -DINITFN=PyInit__deep "
	    "-Wl,-rpath,'$ORIGIN/keep':/build/lib -o deep.so ../ext.c "
	    "-L. -l:libwwa.so.1 -l:libwwb.so.1; "
	    "gcc -shared -fPIC -O1 -o libc_only.so ../libc_only.c; "
	    "cd ../m; musl-gcc -O1 -o loader ../loader.c; "
	    "musl-gcc -shared -fPIC -O1 -Wl,-soname,libwwb.so.1 "
	    "-Wl,--version-script=../b.map -o libwwb.so.1 ../b.c; "
	    "musl-gcc -shared -fPIC -O1 -Wl,-soname,libwwa.so.1 "
	    "-o libwwa.so.1 ../a.c -L. -l:libwwb.so.1; "
	    "musl-gcc -shared -fPIC -O1 -o plain.so ../plain.c -L. "
	    "-l:libwwa.so.1") != 0) {
		fprintf(stderr, "building the test objects failed:\n%s\n", out);
		return -1;
	}
	limits_default(&lim);
	if (policy_db_load(NULL, &db, &err) == -1) {
		fprintf(stderr, "policy: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char out[1024];

	(void)state;
	policy_db_free(db);
	if (getenv("WW_KEEP_TMP") == NULL && tmpdir[0] == '/')
		return shq(out, sizeof(out), "rm -rf '%s'", tmpdir) == 0 ? 0 :
		    -1;
	return 0;
}

struct libs {
	unsigned char	*a, *b;
	size_t		 alen, blen;
	struct repair_lib v[2];
};

static void
load_libs(struct libs *l, const char *dir)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/libwwa.so.1", dir);
	l->a = slurp(tp(p), &l->alen);
	snprintf(p, sizeof(p), "%s/libwwb.so.1", dir);
	l->b = slurp(tp(p), &l->blen);
	l->v[0] = (struct repair_lib){ "libwwa.so.1",
	    "/usr/lib/x86_64-linux-gnu/libwwa.so.1", l->a, l->alen };
	l->v[1] = (struct repair_lib){ "libwwb.so.1",
	    "/usr/lib/x86_64-linux-gnu/libwwb.so.1.0", l->b, l->blen };
}

static void
free_libs(struct libs *l)
{
	free(l->a);
	free(l->b);
}

/* Install with pip into dir and run value() of module mod. */
static int
pip_import(const char *wheel, const char *dir, const char *mod, char *out,
    size_t outlen)
{
	if (shq(out, outlen, "/usr/bin/python3 -m pip install -q --no-index "
	    "--no-deps --target '%s' '%s'", dir, wheel) != 0)
		fail_msg("pip install %s failed:\n%s", wheel, out);
	return shq(out, outlen, "cd '%s' && /usr/bin/python3 -c 'import %s as "
	    "m; print(\"value\", m.value())'", dir, mod);
}

/* ---- tests ---- */

static void
test_refusal_rules(void **state)
{
	const char *interp[] = { "libexpat.so.1", "libffi.so.8", NULL };
	struct repair_target g = { db, "x86_64", POLICY_LIBC_GLIBC, -1,
	    interp };
	struct repair_target mu = { db, "x86_64", POLICY_LIBC_MUSL, 2, NULL };
	char why[512];

	(void)state;
	assert_int_equal(repair_refusal(&g, "libc.so.6", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "C library"));
	assert_int_equal(repair_refusal(&g, "libm.so.6", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "glibc"));
	assert_int_equal(repair_refusal(&g, "libpthread.so.0", why,
	    sizeof(why)), 1);
	assert_int_equal(repair_refusal(&g, "libnss_files.so.2", why,
	    sizeof(why)), 1);
	assert_int_equal(repair_refusal(&g, "ld-linux-x86-64.so.2", why,
	    sizeof(why)), 1);
	assert_non_null(strstr(why, "loader"));
	assert_int_equal(repair_refusal(&mu, "ld-musl-x86_64.so.1", why,
	    sizeof(why)), 1);
	assert_int_equal(repair_refusal(&mu, "libc.musl-x86_64.so.1", why,
	    sizeof(why)), 1);
	assert_int_equal(repair_refusal(&mu, "libc.so", why, sizeof(why)), 1);
	assert_int_equal(repair_refusal(&g, "libpython3.11.so.1.0", why,
	    sizeof(why)), 1);
	assert_non_null(strstr(why, "interpreter"));
	assert_int_equal(repair_refusal(&g, "libffi.so.8", why, sizeof(why)),
	    1);
	assert_non_null(strstr(why, "interpreter"));
	assert_int_equal(repair_refusal(&g, "libz.so.1", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "manylinux policy"));
	assert_int_equal(repair_refusal(&mu, "libz.so.1", why, sizeof(why)),
	    1);
	assert_non_null(strstr(why, "musllinux policy"));
	assert_int_equal(repair_refusal(&g, "libstdc++.so.6", why,
	    sizeof(why)), 1);
	/* Not in the musllinux policy: auditwheel bundles it for musl. */
	assert_int_equal(repair_refusal(&mu, "libstdc++.so.6", why,
	    sizeof(why)), 0);
	assert_int_equal(repair_refusal(&g, "libyaml-0.so.2", why,
	    sizeof(why)), 0);
	assert_int_equal(repair_refusal(&g, "libcrypt.so.1", why,
	    sizeof(why)), 0);
	assert_int_equal(repair_refusal(&g, "libcares.so.2", why,
	    sizeof(why)), 0);
}

static void
test_hashed_name(void **state)
{
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEXLEN], want[64], got[64];

	(void)state;
	assert_int_equal(hash_sha256_mem("abc", 3, d), 0);
	hash_hex(d, sizeof(d), hex);
	snprintf(want, sizeof(want), "libyaml-0-%.8s.so.2", hex);
	assert_int_equal(repair_hashed_name("libyaml-0.so.2", "abc", 3, got,
	    sizeof(got)), 0);
	assert_string_equal(got, want);
	assert_string_equal(got, "libyaml-0-ba7816bf.so.2");
	assert_int_equal(repair_hashed_name("libfoo", "abc", 3, got,
	    sizeof(got)), 0);
	assert_string_equal(got, "libfoo-ba7816bf");
	assert_int_equal(repair_hashed_name("libyaml-0.so.2", "abc", 3, got,
	    10), -1);
}

/* The whole repair, glibc: bundle, verify, tag, install, import. */
static void
test_repair_glibc(void **state)
{
	struct libs l;
	struct repair_target t = { db, "x86_64", POLICY_LIBC_GLIBC, -1, NULL };
	struct repair_opts o;
	struct repair_result res;
	struct verify_result *vr = NULL;
	struct policy_result pr;
	struct wwerr err = { 0 };
	const char *src, *out;
	char buf[16384], hex[HASH_SHA256_HEXLEN], want[128], **bundled;
	char srcbuf[4400];
	unsigned char d[HASH_SHA256_LEN], *before, *after;
	size_t n, i, blen, alen;
	int rc, found = 0;

	(void)state;
	load_libs(&l, "g");
	util_strlcpy(srcbuf, mkwheel(tp("w1"), "wwrep",
	    "cp311-cp311-linux_x86_64", "wwrep/_ext" EXT "=g/ext.so,"
	    "wwrep/sub/_deep" EXT "=g/deep.so,wwrep/sub/__init__.py=empty.py"),
	    sizeof(srcbuf));
	src = srcbuf;
	before = slurp(src, &blen);
	out = fresh("out1");
	memset(&o, 0, sizeof(o));
	o.target = &t;
	o.libs = l.v;
	o.nlibs = 2;
	if (repair_wheel(src, out, &o, &lim, &res, &err) != 0)
		fail_msg("repair: %s (%s)", err.msg, repair_err_name(err.code));

	/* The name and tag: manylinux, with the legacy alias. */
	assert_non_null(strstr(res.path, "wwrep-1.0-cp311-cp311-manylinux_"));
	assert_non_null(strstr(res.tag, "manylinux_2_"));
	assert_non_null(strstr(res.path, res.tag));
	assert_int_equal(count_entries(out), 1);
	/* The source is untouched. */
	after = slurp(src, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(after);
	free(before);

	/* Both libraries, under hashed names, in wwrep.libs/. */
	assert_int_equal(res.nbundled, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(hash_sha256_mem(l.v[i].data, l.v[i].len, d),
		    0);
		hash_hex(d, sizeof(d), hex);
		snprintf(want, sizeof(want), "wwrep.libs/%.6s-%.8s.so.1",
		    l.v[i].soname, hex);
		assert_string_equal(res.bundled[i].path, want);
		assert_string_equal(res.bundled[i].sha256, hex);
		assert_string_equal(res.bundled[i].origin, l.v[i].origin);
	}
	assert_int_equal(res.nedited, 2);

	/* Verified again from disk: RECORD, tag, policy, bundled list. */
	if (verify_file(res.path, NULL, &lim, &vr, &err) != 0)
		fail_msg("verify: %s", err.msg);
	assert_int_equal(vr->nelfs, 4);
	assert_int_equal(policy_evaluate(db, vr->elfs, vr->nelfs, "x86_64", -1,
	    &pr, &err), 0);
	assert_int_equal(pr.nviolations, 0);
	assert_int_equal(pr.nexternal_libs, 0);
	snprintf(want, sizeof(want), "%s.%s", pr.tag, pr.legacy_tag);
	assert_string_equal(pr.legacy_tag[0] ? want : pr.tag, res.tag);
	policy_result_free(&pr);
	assert_int_equal(repair_list_bundled(vr, &bundled, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(bundled[0], res.bundled[0].path) ;
	repair_strv_free(bundled);
	for (i = 0; i < vr->nelfs; i++) {
		const struct elf_report *r = vr->elfs[i];

		if (strcmp(r->path, "wwrep/sub/_deep" EXT) == 0) {
			/* Ours first; $ORIGIN entries kept; /build gone. */
			assert_string_equal(r->runpath,
			    "$ORIGIN/../../wwrep.libs:$ORIGIN/keep");
			assert_null(r->rpath);
			found++;
		} else if (strcmp(r->path, "wwrep/_ext" EXT) == 0) {
			assert_string_equal(r->runpath, "$ORIGIN/../wwrep.libs");
			found++;
		} else if (strstr(r->path, "libwwa-") != NULL) {
			assert_string_equal(r->soname, strrchr(r->path, '/') + 1);
			assert_string_equal(r->runpath, "$ORIGIN");
			found++;
		} else if (strstr(r->path, "libwwb-") != NULL) {
			assert_string_equal(r->soname, strrchr(r->path, '/') +
			    1);
			assert_null(r->runpath);
			found++;
		}
	}
	assert_int_equal(found, 4);
	verify_result_free(vr);

	/* Installed by pip, nothing on the library path: it runs. */
	rc = pip_import(res.path, fresh("site1"), "wwrep._ext", buf,
	    sizeof(buf));
	if (rc != 0 || strstr(buf, "value 460") == NULL)
		fail_msg("repaired wheel does not import (%d):\n%s", rc, buf);
	rc = pip_import(res.path, fresh("site1b"), "wwrep.sub._deep", buf,
	    sizeof(buf));
	if (rc != 0 || strstr(buf, "value 460") == NULL)
		fail_msg("repaired subpackage does not import (%d):\n%s", rc,
		    buf);
	/* Control: the wheel as built cannot find its libraries. */
	rc = pip_import(src, fresh("site2"), "wwrep._ext", buf, sizeof(buf));
	if (rc == 0 || strstr(buf, "libwwa.so.1") == NULL)
		fail_msg("the unrepaired wheel imported (%d):\n%s", rc, buf);

	/* Repairing into the same place again: the name exists. */
	repair_result_free(&res);
	assert_int_equal(repair_wheel(src, out, &o, &lim, &res, &err), -1);
	assert_int_equal(count_entries(out), 1);
	free_libs(&l);
}

/* musl: the objects go to musllinux_1_2 and a musl program loads them. */
static void
test_repair_musl(void **state)
{
	struct libs l;
	struct repair_target t = { db, "x86_64", POLICY_LIBC_MUSL, 2, NULL };
	struct repair_opts o;
	struct repair_result res;
	struct wwerr err = { 0 };
	const char *src, *out;
	char buf[16384];
	int rc;

	(void)state;
	load_libs(&l, "m");
	src = mkwheel(tp("w2"), "wwmusl", "cp311-cp311-linux_x86_64",
	    "wwmusl/_ext" EXT "=m/plain.so");
	out = fresh("out2");
	memset(&o, 0, sizeof(o));
	o.target = &t;
	o.libs = l.v;
	o.nlibs = 2;
	if (repair_wheel(src, out, &o, &lim, &res, &err) != 0)
		fail_msg("repair: %s", err.msg);
	assert_string_equal(res.tag, "musllinux_1_2_x86_64");
	assert_int_equal(res.nbundled, 2);
	shf("rm -rf mu && mkdir mu && cd mu && /usr/bin/python3 -m zipfile "
	    "-e '%s' .", res.path);
	rc = shq(buf, sizeof(buf), "m/loader $PWD/mu/wwmusl/_ext" EXT
	    " plain_value");
	if (rc != 0 || strstr(buf, "value 42") == NULL)
		fail_msg("musl loader: (%d) %s", rc, buf);
	/* musl 1.1 target: the tag follows the build image's musl. */
	repair_result_free(&res);
	t.musl_minor = 1;
	out = fresh("out2b");
	if (repair_wheel(src, out, &o, &lim, &res, &err) != 0)
		fail_msg("repair: %s", err.msg);
	assert_string_equal(res.tag, "musllinux_1_1_x86_64");
	repair_result_free(&res);
	/* A glibc target refuses musl content. */
	t.libc = POLICY_LIBC_GLIBC;
	out = fresh("out2c");
	assert_int_equal(repair_wheel(src, out, &o, &lim, &res, &err), -1);
	assert_int_equal(err.code, REPAIR_E_POLICY);
	assert_non_null(strstr(err.msg, "musl"));
	assert_int_equal(count_entries(out), 0);
	free_libs(&l);
}

static void
expect_fail(const char *src, struct repair_opts *o, int code,
    const char *mention, const char *mention2)
{
	struct repair_result res;
	struct wwerr err = { 0 };
	const char *out = fresh("outf");

	if (repair_wheel(src, out, o, &lim, &res, &err) != -1)
		fail_msg("repair of %s succeeded: %s", src, res.path);
	if (err.code != code)
		fail_msg("code %s, wanted %s: %s", repair_err_name(err.code),
		    repair_err_name(code), err.msg);
	if (strstr(err.msg, mention) == NULL ||
	    (mention2 && strstr(err.msg, mention2) == NULL))
		fail_msg("message lacks \"%s\"/\"%s\": %s", mention,
		    mention2 ? mention2 : "", err.msg);
	assert_int_equal(count_entries(out), 0);
	assert_null(res.path);
}

static void
test_failures(void **state)
{
	struct libs l;
	const char *interp[] = { "libwwb.so.1", NULL };
	struct repair_target t = { db, "x86_64", POLICY_LIBC_GLIBC, -1, NULL };
	struct repair_opts o;
	const char *plain, *ok;
	const char *b = getenv("WW_BUILD_DIR");
	char fx[4096], src[4400];

	(void)state;
	load_libs(&l, "g");
	/* mkwheel() returns a static buffer: keep a copy. */
	util_strlcpy(src, mkwheel(tp("w3"), "wwfail",
	    "cp311-cp311-linux_x86_64", "wwfail/_ext" EXT "=g/ext.so"),
	    sizeof(src));
	memset(&o, 0, sizeof(o));
	o.target = &t;
	o.libs = l.v;
	o.nlibs = 2;

	/* A dependency of a dependency the interpreter already has. */
	t.interp_libs = interp;
	expect_fail(src, &o, REPAIR_E_REFUSED, "libwwb.so.1", "interpreter");
	t.interp_libs = NULL;

	/* Not provided: named, with who needs it. */
	o.nlibs = 1;
	expect_fail(src, &o, REPAIR_E_MISSING, "libwwb.so.1", "not found");
	o.libs = &l.v[1];
	expect_fail(src, &o, REPAIR_E_MISSING, "libwwa.so.1", "_ext");
	o.libs = l.v;
	o.nlibs = 2;

	/* Nothing to bundle. */
	ok = mkwheel(tp("w4"), "wwok", "cp311-cp311-linux_x86_64",
	    "wwok/_ext" EXT "=g/libc_only.so");
	expect_fail(ok, &o, REPAIR_E_NOTHING, "needs no library", NULL);

	/* What bundling cannot fix: a symbol version newer than any policy,
	 * and a libc linked in statically. */
	assert_non_null(b);
	snprintf(fx, sizeof(fx), "%s/fixtures/elf/glibc299.so", b);
	shf("cp '%s' g/glibc299.so", fx);
	plain = mkwheel(tp("w5"), "wwnew", "cp311-cp311-linux_x86_64",
	    "wwnew/_ext" EXT "=g/ext.so,wwnew/_new" EXT "=g/glibc299.so");
	expect_fail(plain, &o, REPAIR_E_POLICY, "GLIBC_2.99", NULL);
	t.libc = POLICY_LIBC_MUSL;
	snprintf(fx, sizeof(fx), "%s/fixtures/elf/muslstatic.so", b);
	shf("cp '%s' g/muslstatic.so", fx);
	plain = mkwheel(tp("w6"), "wwstatic", "cp311-cp311-linux_x86_64",
	    "wwstatic/_s" EXT "=g/muslstatic.so");
	expect_fail(plain, &o, REPAIR_E_POLICY, "statically links libc",
	    "memcpy");
	t.libc = POLICY_LIBC_GLIBC;

	/* A library for the wrong machine. */
	snprintf(fx, sizeof(fx), "%s/fixtures/elf/a64_217.so", b);
	{
		unsigned char *a64;
		size_t n;
		struct repair_lib bad[2];

		a64 = slurp(fx, &n);
		bad[0] = (struct repair_lib){ "libwwa.so.1", "x", a64, n };
		bad[1] = l.v[1];
		o.libs = bad;
		expect_fail(src, &o, REPAIR_E_POLICY, "aarch64", NULL);
		o.libs = l.v;
		free(a64);
	}
	free_libs(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusal_rules),
		cmocka_unit_test(test_hashed_name),
		cmocka_unit_test(test_repair_glibc),
		cmocka_unit_test(test_repair_musl),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
