/*
 * test_builder_build.c: the parts of builderd's executor and scheduler
 * that need no engine: the container argv (no shell, hermetic index), the
 * driver's probe lines (and that build output cannot forge them), failure
 * classification from real pip output, which failure classes are retried,
 * missing build dependencies, arch
 * and QEMU names, the binfmt_misc check (against a directory laid out as
 * the kernel's), and the instance id.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "build.h"
#include "deps.h"
#include "engine.h"
#include "scheduler.h"

static void
test_argv_offline(void **state)
{
	const char *argv[BUILD_ARGV_MAX];
	int n, i, noindex = 0, onlybin = 0, fl = 0;

	(void)state;
	n = build_argv("python3", "/ww/src/x-1.0.tar.gz", 0, argv,
	    BUILD_ARGV_MAX);
	assert_true(n > 5);
	assert_null(argv[n]);
	assert_string_equal(argv[0], "python3");
	assert_string_equal(argv[1], "-c");
	/* The sdist is its own argv element, last: never part of a string
	 * that a shell or the driver would interpret. */
	assert_string_equal(argv[n - 1], "/ww/src/x-1.0.tar.gz");
	for (i = 0; i < n; i++) {
		if (!strcmp(argv[i], "--no-index"))
			noindex = 1;
		if (!strcmp(argv[i], "--only-binary") &&
		    !strcmp(argv[i + 1], ":all:"))
			onlybin = 1;
		if (!strcmp(argv[i], "--find-links") &&
		    !strcmp(argv[i + 1], BUILD_INDEX_DIR))
			fl = 1;
		if (i > 2)
			assert_null(strstr(argv[i], "sh -c"));
	}
	assert_true(noindex && onlybin && fl);
	assert_non_null(strstr(argv[2], "'-m', 'pip'"));
	assert_int_equal(build_argv("python3", "/x", 0, argv, 5), -1);
}

static void
test_argv_network(void **state)
{
	const char *argv[BUILD_ARGV_MAX];
	int n, i;

	(void)state;
	n = build_argv("/usr/local/bin/python3.11", "/ww/src/y.tar.gz", 1,
	    argv, BUILD_ARGV_MAX);
	assert_true(n > 0);
	assert_string_equal(argv[0], "/usr/local/bin/python3.11");
	for (i = 0; i < n; i++) {
		assert_string_not_equal(argv[i], "--no-index");
		assert_string_not_equal(argv[i], ":all:");
	}
}

static void
test_probe(void **state)
{
	struct build_probe p;
	const char glibc[] =
	    "wheelwright: python 3.11.2\n"
	    "wheelwright: glibc 2.36\n"
	    "wheelwright: running pip\n"
	    "wheelwright: musl 1.9\n"		/* from the build: ignored */
	    "wheelwright: python 2.7\n";
	const char musl[] =
	    "wheelwright: python 3.11.2\r\n"
	    "wheelwright: musl 1.2\r\n"
	    "wheelwright: running pip\r\n";
	const char cut[] = "wheelwright: python 3.12.0\nwheelwright: musl 1.";

	(void)state;
	build_probe_parse(glibc, sizeof(glibc) - 1, &p);
	assert_int_equal(p.py_major, 3);
	assert_int_equal(p.py_minor, 11);
	assert_int_equal(p.glibc_major, 2);
	assert_int_equal(p.glibc_minor, 36);
	assert_int_equal(p.musl_major, -1);

	build_probe_parse(musl, sizeof(musl) - 1, &p);
	assert_int_equal(p.musl_major, 1);
	assert_int_equal(p.musl_minor, 2);
	assert_int_equal(p.glibc_major, -1);

	/* An unfinished last line is not trusted. */
	build_probe_parse(cut, sizeof(cut) - 1, &p);
	assert_int_equal(p.py_minor, 12);
	assert_int_equal(p.musl_major, -1);

	build_probe_parse("", 0, &p);
	assert_int_equal(p.py_major, -1);
}

/* Real pip 23.0.1 output from the builder image, build deps missing. */
static const char pip_missing[] =
    "Looking in links: /ww/index\n"
    "Processing /ww/src/wwdemo-cext-0.3.1.tar.gz\n"
    "  Installing build dependencies: started\n"
    "  Installing build dependencies: finished with status 'error'\n"
    "  error: subprocess-exited-with-error\n"
    "  \n"
    "  \xc3\x97 pip subprocess to install build dependencies did not run "
    "successfully.\n"
    "  \xe2\x94\x82 exit code: 1\n"
    "  \xe2\x95\xb0\xe2\x94\x80> [3 lines of output]\n"
    "      Looking in links: /ww/index\n"
    "      ERROR: Could not find a version that satisfies the requirement "
    "setuptools>=61 (from versions: none)\n"
    "      ERROR: No matching distribution found for setuptools>=61\n"
    "      [end of output]\n"
    "  \n"
    "  note: This error originates from a subprocess, and is likely not a "
    "problem with pip.\n"
    "error: subprocess-exited-with-error\n";

static void
test_classify(void **state)
{
	struct engine_result r;
	char dep[128];
	const char compile[] = "  src/x.c:8:59: error: invalid operands\n"
	    "  error: command '/usr/bin/x86_64-linux-gnu-gcc' failed\n";

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state.exit_code = 0;
	assert_int_equal(build_classify(&r, NULL, 0, dep, sizeof(dep)),
	    JOB_FAIL_NONE);
	r.state.exit_code = 1;
	assert_int_equal(build_classify(&r, compile, sizeof(compile) - 1, dep,
	    sizeof(dep)), JOB_FAIL_BUILD_ERROR);
	assert_string_equal(dep, "");
	assert_int_equal(build_classify(&r, pip_missing,
	    sizeof(pip_missing) - 1, dep, sizeof(dep)), JOB_FAIL_MISSING_DEP);
	assert_string_equal(dep, "setuptools>=61");
	/* A deadline beats whatever the log says; so does OOM. */
	r.timed_out = 1;
	r.state.exit_code = 137;
	assert_int_equal(build_classify(&r, pip_missing,
	    sizeof(pip_missing) - 1, dep, sizeof(dep)), JOB_FAIL_TIMEOUT);
	r.timed_out = 0;
	r.oom = 1;
	assert_int_equal(build_classify(&r, NULL, 0, dep, sizeof(dep)),
	    JOB_FAIL_OOM);
}

static void
test_retry(void **state)
{
	int a;

	(void)state;
	for (a = 1; a <= 5; a++) {
		/* The package's own fault: the same build fails the same way. */
		assert_int_equal(build_failure_retry(JOB_FAIL_BUILD_ERROR, a), 0);
		assert_int_equal(build_failure_retry(JOB_FAIL_VERIFY, a), 0);
		/* Outside causes that may pass. */
		assert_int_equal(build_failure_retry(JOB_FAIL_UPSTREAM, a), 1);
		assert_int_equal(build_failure_retry(JOB_FAIL_MISSING_DEP, a), 1);
		assert_int_equal(build_failure_retry(JOB_FAIL_ENGINE_LOST, a), 1);
		/* Load may cause them: one more try only. */
		assert_int_equal(build_failure_retry(JOB_FAIL_TIMEOUT, a), a < 2);
		assert_int_equal(build_failure_retry(JOB_FAIL_OOM, a), a < 2);
	}
	assert_int_equal(build_failure_retry(JOB_FAIL_NONE, 1), 0);
	assert_int_equal(build_failure_retry(JOB__NFAILURES, 1), 0);
}

static void
test_parse_missing(void **state)
{
	char req[64];
	const char two[] = "ERROR: No matching distribution found for wheel\n"
	    "x\nERROR: No matching distribution found for flit_core<4,>=3.2  \r\n";
	const char ctl[] = "No matching distribution found for a\x01" "b\n";
	const char noeol[] = "No matching distribution found for cython";

	(void)state;
	assert_int_equal(deps_parse_missing(two, sizeof(two) - 1, req,
	    sizeof(req)), 1);
	assert_string_equal(req, "flit_core<4,>=3.2");
	assert_int_equal(deps_parse_missing(noeol, sizeof(noeol) - 1, req,
	    sizeof(req)), 1);
	assert_string_equal(req, "cython");
	assert_int_equal(deps_parse_missing(ctl, sizeof(ctl) - 1, req,
	    sizeof(req)), 0);
	assert_int_equal(deps_parse_missing("nothing\n", 8, req, sizeof(req)),
	    0);
	/* Too long for the buffer: refused, not cut. */
	assert_int_equal(deps_parse_missing(two, sizeof(two) - 1, req, 8), 0);
}

static void
test_arches(void **state)
{
	(void)state;
	assert_false(build_arch_foreign("x86_64", "amd64"));
	assert_false(build_arch_foreign("aarch64", "arm64"));
	assert_true(build_arch_foreign("aarch64", "amd64"));
	assert_true(build_arch_foreign("x86_64", "aarch64"));
	assert_string_equal(build_oci_platform("aarch64"), "linux/arm64");
	assert_string_equal(build_oci_platform("x86_64"), "linux/amd64");
	assert_null(build_oci_platform("sparc"));
	assert_string_equal(build_qemu_name("aarch64"), "qemu-aarch64");
	assert_string_equal(build_qemu_name("arm64"), "qemu-aarch64");
	assert_null(build_qemu_name("vax"));
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_binfmt(void **state)
{
	char dir[] = "/tmp/ww-binfmt-XXXXXX", path[256], why[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Not mounted: no register file. */
	assert_int_equal(sched_binfmt_check(dir, "aarch64", why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "not mounted"));
	snprintf(path, sizeof(path), "%s/register", dir);
	write_file(path, "");
	/* Mounted, handler missing: the message names it and the fix. */
	assert_int_equal(sched_binfmt_check(dir, "aarch64", why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "qemu-aarch64"));
	assert_non_null(strstr(why, "docker/binfmt.sh aarch64"));
	snprintf(path, sizeof(path), "%s/qemu-aarch64", dir);
	write_file(path, "disabled\ninterpreter /usr/libexec/qemu-binfmt/"
	    "aarch64-binfmt-P\nflags: POCF\n");
	assert_int_equal(sched_binfmt_check(dir, "aarch64", why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "disabled"));
	write_file(path, "enabled\ninterpreter /usr/libexec/qemu-binfmt/"
	    "aarch64-binfmt-P\nflags: POCF\n");
	assert_int_equal(sched_binfmt_check(dir, "aarch64", why, sizeof(why)),
	    0);
	assert_int_equal(sched_binfmt_check(dir, "sparc", why, sizeof(why)),
	    -1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/register", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_instance(void **state)
{
	char dir[] = "/tmp/ww-inst-XXXXXX", a[13], b[13], link[64];
	struct wwerr err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sched_instance_id(dir, a, &err), 0);
	assert_int_equal(strlen(a), 12);
	assert_int_equal(strspn(a, "0123456789abcdef"), 12);
	/* The same directory by another path is the same instance. */
	snprintf(link, sizeof(link), "%s/../%s", dir, strrchr(dir, '/') + 1);
	assert_int_equal(sched_instance_id(link, b, &err), 0);
	assert_string_equal(a, b);
	rmdir(dir);
	assert_int_equal(sched_instance_id(dir, b, &err), -1);
	assert_non_null(strstr(err.msg, dir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_offline),
		cmocka_unit_test(test_argv_network),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_parse_missing),
		cmocka_unit_test(test_arches),
		cmocka_unit_test(test_binfmt),
		cmocka_unit_test(test_instance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
