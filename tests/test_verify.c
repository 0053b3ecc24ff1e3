/*
 * test_verify.c: the wheel/sdist verifier against real wheels (Debian's
 * pip, setuptools and wheel) and against every fixture that
 * tests/lib/wheelfactory.py generates at test time: each malformed file
 * must be rejected with its own error code and a message naming the
 * culprit, every code must be exercised, and reading from a file and
 * from memory must agree. Also RECORD and header parsing on their own,
 * and truncations/bit flips of a real wheel (no crash, no acceptance of
 * a truncated file). Every fixture is also verified from memory, with
 * three data threads and with every member streamed through libarchive
 * instead of decoded whole by libdeflate: all must agree. And the
 * whole-buffer decoder and local-header check (archive_io) on their own.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
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
#include <jansson.h>
#include <libdeflate.h>

#include "archive_io.h"
#include "coremeta.h"
#include "hash.h"
#include "record.h"
#include "util.h"
#include "verify.h"

extern char **environ;

#define WHEELS_DIR	"/usr/share/python-wheels"

static char fixdir[1024];

static int
run_factory(void **state)
{
	const char *src = getenv("WW_SOURCE_DIR"), *tmp = getenv("WW_TEST_TMP");
	char script[1024];
	char *argv[4];
	pid_t pid;
	int st;

	(void)state;
	if (src == NULL || tmp == NULL) {
		fprintf(stderr, "WW_SOURCE_DIR/WW_TEST_TMP not set\n");
		return -1;
	}
	snprintf(script, sizeof(script), "%s/tests/lib/wheelfactory.py", src);
	snprintf(fixdir, sizeof(fixdir), "%s/verify-fixtures-%ld", tmp,
	    (long)getpid());
	argv[0] = "/usr/bin/python3";
	argv[1] = script;
	argv[2] = fixdir;
	argv[3] = NULL;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "wheelfactory.py failed\n");
		return -1;
	}
	return 0;
}

static int
rm_fixtures(void **state)
{
	char cmd[1200];

	(void)state;
	if (fixdir[0] != '\0' && getenv("WW_KEEP_FIXTURES") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* The path of the fixture with this note (manifest.json). */
static const char *
fixture(const char *note)
{
	static char path[1200];
	char mpath[1100];
	json_t *m, *c;
	json_error_t je;
	size_t i;

	snprintf(mpath, sizeof(mpath), "%s/manifest.json", fixdir);
	m = json_load_file(mpath, 0, &je);
	assert_non_null(m);
	path[0] = '\0';
	json_array_foreach(m, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "note")),
		    note) == 0)
			snprintf(path, sizeof(path), "%s", json_string_value(
			    json_object_get(c, "file")));
	}
	json_decref(m);
	if (path[0] == '\0')
		fail_msg("no fixture \"%s\"", note);
	return path;
}

static void
load(const char *path, char **data, size_t *len)
{
	assert_int_equal(util_read_file(path, 512 * 1024 * 1024, data, len), 0);
}

/* Check what must hold for every accepted file. */
static void
check_result(const char *path, const struct verify_result *r)
{
	char hex[HASH_SHA256_HEXLEN];
	unsigned char d[HASH_SHA256_LEN];
	uint64_t size;
	struct stat st;
	const char *base = strrchr(path, '/') + 1;

	assert_int_equal(hash_sha256_file(path, hex, &size), 0);
	assert_string_equal(r->sha256, hex);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(r->size, (uint64_t)st.st_size);
	assert_string_equal(r->filename, base);
	assert_non_null(r->metadata);
	assert_true(r->metadata_len > 0);
	hash_sha256_mem(r->metadata, r->metadata_len, d);
	hash_hex(d, sizeof(d), hex);
	assert_string_equal(r->metadata_sha256, hex);
	assert_true(strncmp(r->metadata, "Metadata-Version: ", 18) == 0);
	assert_true(r->name[0] != '\0');
	assert_true(r->members > 0);
}

static void
test_real_wheels(void **state)
{
	struct limits lim;
	struct verify_result *r, *rm;
	struct wwerr err;
	struct dirent *de;
	DIR *d;
	char path[1024], *data;
	size_t len, n = 0;

	(void)state;
	limits_default(&lim);
	d = opendir(WHEELS_DIR);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 4 || strcmp(de->d_name + l - 4, ".whl") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", WHEELS_DIR, de->d_name);
		wwerr_clear(&err);
		if (verify_file(path, NULL, &lim, &r, &err) == -1)
			fail_msg("%s: %s (%s)", path, err.msg,
			    verify_err_name(err.code));
		check_result(path, r);
		assert_int_equal(r->kind, DIST_WHEEL);
		assert_true(strncmp(de->d_name, r->normalized,
		    strlen(r->normalized)) == 0);
		assert_string_equal(r->platform_tag, "any");
		assert_int_equal(r->root_is_purelib, 1);
		assert_int_equal(r->nelfs, 0);
		if (strncmp(de->d_name, "pip-", 4) == 0) {
			assert_string_equal(r->name, "pip");
			assert_non_null(r->requires_python);
			assert_string_equal(r->requires_python, ">=3.7");
		}
		/* The memory source must see exactly the same. */
		load(path, &data, &len);
		assert_int_equal(verify_mem(data, len, de->d_name, &lim, &rm,
		    &err), 0);
		assert_string_equal(rm->sha256, r->sha256);
		assert_string_equal(rm->metadata_sha256, r->metadata_sha256);
		assert_int_equal(rm->members, r->members);
		assert_int_equal(rm->uncompressed, r->uncompressed);
		verify_result_free(rm);
		free(data);
		verify_result_free(r);
		n++;
	}
	closedir(d);
	/* pip, setuptools and wheel (python3-*-whl) */
	assert_true(n >= 3);
}

static int
set_limit(struct limits *l, const char *k, uint64_t v)
{
	if (!strcmp(k, "max_file_size"))
		l->max_file_size = v;
	else if (!strcmp(k, "max_member_size"))
		l->max_member_size = v;
	else if (!strcmp(k, "max_total_size"))
		l->max_total_size = v;
	else if (!strcmp(k, "max_members"))
		l->max_members = v;
	else if (!strcmp(k, "max_ratio"))
		l->max_ratio = v;
	else if (!strcmp(k, "max_metadata_size"))
		l->max_metadata_size = v;
	else if (!strcmp(k, "max_elf_size"))
		l->max_elf_size = v;
	else if (!strcmp(k, "whole_member_max"))
		l->whole_member_max = v;
	else
		return -1;
	return 0;
}

static void
test_fixtures(void **state)
{
	char mpath[1100], *data;
	json_t *m, *c, *lims, *v;
	json_error_t je;
	const char *k;
	size_t i, len, nok = 0;
	int seen[VERIFY_E__COUNT] = { 0 }, code;

	(void)state;
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", fixdir);
	m = json_load_file(mpath, 0, &je);
	assert_non_null(m);
	assert_true(json_array_size(m) > 50);
	json_array_foreach(m, i, c) {
		const char *file = json_string_value(json_object_get(c, "file"));
		const char *expect = json_string_value(json_object_get(c,
		    "expect"));
		const char *mention = json_string_value(json_object_get(c,
		    "mention"));
		const char *note = json_string_value(json_object_get(c, "note"));
		const char *base = strrchr(file, '/') + 1;
		struct limits lim;
		struct verify_result *r = NULL, *rm = NULL;
		struct wwerr err, errm;
		int rc, rcm;

		limits_default(&lim);
		lims = json_object_get(c, "limits");
		json_object_foreach(lims, k, v)
			assert_int_equal(set_limit(&lim, k,
			    (uint64_t)json_integer_value(v)), 0);
		wwerr_clear(&err);
		rc = verify_file(file, NULL, &lim, &r, &err);
		if (strcmp(expect, "ok") == 0) {
			if (rc != 0)
				fail_msg("%s (%s): rejected: %s", note, file,
				    err.msg);
			check_result(file, r);
			nok++;
		} else {
			if (rc != -1)
				fail_msg("%s (%s): accepted, expected %s", note,
				    file, expect);
			assert_null(r);
			if (strcmp(verify_err_name(err.code), expect) != 0)
				fail_msg("%s: got %s (%s), expected %s", note,
				    verify_err_name(err.code), err.msg, expect);
			/* The message names the file and the culprit. */
			assert_non_null(strstr(err.msg, base));
			if (mention != NULL && strstr(err.msg, mention) == NULL)
				fail_msg("%s: message \"%s\" does not name "
				    "\"%s\"", note, err.msg, mention);
			seen[err.code] = 1;
		}
		/* File and memory sources agree on every case. */
		load(file, &data, &len);
		wwerr_clear(&errm);
		rcm = verify_mem(data, len, base, &lim, &rm, &errm);
		assert_int_equal(rcm, rc);
		if (rc == 0)
			assert_string_equal(rm->sha256, r->sha256);
		else
			assert_int_equal(errm.code, err.code);
		free(data);
		verify_result_free(rm);
		rm = NULL;
		/* So do three data workers (small files use one). */
		lim.threads = 3;
		wwerr_clear(&errm);
		rcm = verify_file(file, NULL, &lim, &rm, &errm);
		if (rcm != rc || (rc == -1 && errm.code != err.code))
			fail_msg("%s: with 3 threads %s (%s)", note,
			    verify_err_name(errm.code), errm.msg);
		if (rc == 0) {
			size_t e;

			assert_string_equal(rm->sha256, r->sha256);
			assert_int_equal(rm->uncompressed, r->uncompressed);
			assert_int_equal(rm->nelfs, r->nelfs);
			for (e = 0; e < r->nelfs; e++)
				assert_string_equal(rm->elfs[e]->path,
				    r->elfs[e]->path);
		}
		verify_result_free(rm);
		rm = NULL;
		/*
		 * And every member streamed through libarchive instead of
		 * decoded whole with libdeflate: the two decoders must judge
		 * every file alike.
		 */
		lim.threads = 0;
		lim.whole_member_max = 0;
		wwerr_clear(&errm);
		rcm = verify_file(file, NULL, &lim, &rm, &errm);
		if (rcm != rc || (rc == -1 && errm.code != err.code))
			fail_msg("%s: streamed: %s (%s)", note,
			    verify_err_name(errm.code), errm.msg);
		if (rc == 0) {
			assert_string_equal(rm->sha256, r->sha256);
			assert_int_equal(rm->uncompressed, r->uncompressed);
			assert_int_equal(rm->nelfs, r->nelfs);
		}
		verify_result_free(r);
		verify_result_free(rm);
	}
	json_decref(m);
	assert_true(nok >= 10);
	/* Every rejection has a fixture, except those no file can cause. */
	for (code = 1; code < VERIFY_E__COUNT; code++) {
		if (code == VERIFY_E_IO || code == VERIFY_E_NOMEM)
			continue;
		if (!seen[code])
			fail_msg("no fixture is rejected with %s",
			    verify_err_name(code));
	}
}

/* The accepted fixtures' details, beyond "it verified". */
static void
test_fixture_details(void **state)
{
	char path[1200];
	struct limits lim;
	struct verify_result *r;
	struct wwerr err;
	const char *body;

	(void)state;
	limits_default(&lim);
	snprintf(path, sizeof(path), "%s", fixture("minimal pure wheel"));
	assert_int_equal(verify_file(path, NULL, &lim, &r, &err), 0);
	assert_string_equal(r->name, "demo_pkg");
	assert_string_equal(r->normalized, "demo-pkg");
	assert_string_equal(r->version, "1.0");
	assert_string_equal(r->python_tag, "py3");
	assert_string_equal(r->requires_python, ">=3.7");
	assert_int_equal(r->nrequires_dist, 2);
	assert_string_equal(r->requires_dist[0], "packaging (>=20)");
	assert_string_equal(r->requires_dist[1],
	    "colorama ; platform_system == \"Windows\"");
	/* Exact bytes, body included, nothing appended. */
	body = "\nLong description\n  with indented lines\n";
	assert_true(r->metadata_len > strlen(body));
	assert_memory_equal(r->metadata + r->metadata_len - strlen(body), body,
	    strlen(body));
	verify_result_free(r);

	snprintf(path, sizeof(path), "%s", fixture("build tag"));
	assert_int_equal(verify_file(path, NULL, &lim, &r, &err), 0);
	assert_string_equal(r->build_tag, "1local");
	verify_result_free(r);

	snprintf(path, sizeof(path), "%s",
	    fixture("ELF member of the host arch"));
	assert_int_equal(verify_file(path, NULL, &lim, &r, &err), 0);
	assert_int_equal(r->nelfs, 1);
	assert_string_equal(r->elfs[0]->path, "demo_pkg/_lib.so");
	assert_non_null(strstr(r->platform_tag, r->elfs[0]->arch));
	verify_result_free(r);

	snprintf(path, sizeof(path), "%s", fixture("sdist with inside links"));
	assert_int_equal(verify_file(path, NULL, &lim, &r, &err), 0);
	assert_int_equal(r->kind, DIST_SDIST);
	assert_int_equal(r->nrequires_dist, 1);
	assert_string_equal(r->requires_dist[0], "idna");
	verify_result_free(r);

	/* Another filename for the same bytes (uploads under temp names). */
	snprintf(path, sizeof(path), "%s", fixture("minimal pure wheel"));
	assert_int_equal(verify_file(path, "demo_pkg-1.0-py3-none-any.whl",
	    &lim, &r, &err), 0);
	verify_result_free(r);
	assert_int_equal(verify_file(path, "other-1.0-py3-none-any.whl", &lim,
	    &r, &err), -1);
	assert_int_equal(err.code, VERIFY_E_DISTINFO_NAME);
}

static void
test_io_errors(void **state)
{
	struct limits lim;
	struct verify_result *r;
	struct wwerr err;

	(void)state;
	limits_default(&lim);
	assert_int_equal(verify_file("/nonexistent/x-1.0-py3-none-any.whl",
	    NULL, &lim, &r, &err), -1);
	assert_int_equal(err.code, VERIFY_E_IO);
	assert_null(r);
	assert_non_null(strstr(err.msg, "/nonexistent/x-1.0"));
	assert_int_equal(verify_file("/tmp", "x-1.0-py3-none-any.whl", &lim,
	    &r, &err), -1);
	assert_int_equal(err.code, VERIFY_E_IO);
	assert_int_equal(verify_mem("", 0, "x-1.0-py3-none-any.whl", &lim, &r,
	    &err), -1);
	assert_int_equal(err.code, VERIFY_E_FORMAT);
	assert_int_equal(verify_mem("", 0, "x.txt", &lim, &r, &err), -1);
	assert_int_equal(err.code, VERIFY_E_FILENAME);
}

/*
 * Every prefix of a real wheel is refused (it lost its end record), and
 * every single-byte corruption of a small one is either refused or, if it
 * hit a byte nothing depends on (timestamps, attributes), accepted with
 * the new file hash: never a crash, never an accepted change of content.
 */
static void
test_truncations_and_flips(void **state)
{
	char path[1200], *data;
	size_t len, i;
	struct limits lim;
	struct verify_result *r, *orig;
	struct wwerr err;
	unsigned accepted = 0;

	(void)state;
	limits_default(&lim);
	snprintf(path, sizeof(path), "%s", fixture("minimal pure wheel"));
	load(path, &data, &len);
	assert_int_equal(verify_mem(data, len, "demo_pkg-1.0-py3-none-any.whl",
	    &lim, &orig, &err), 0);
	for (i = 0; i < len; i++) {
		if (verify_mem(data, i, "demo_pkg-1.0-py3-none-any.whl", &lim,
		    &r, &err) == 0)
			fail_msg("prefix of %zu/%zu bytes accepted", i, len);
		assert_true(err.code == VERIFY_E_TRUNCATED ||
		    err.code == VERIFY_E_FORMAT);
	}
	for (i = 0; i < len; i++) {
		data[i] ^= 0x20;
		if (verify_mem(data, len, "demo_pkg-1.0-py3-none-any.whl",
		    &lim, &r, &err) == 0) {
			accepted++;
			assert_string_not_equal(r->sha256, orig->sha256);
			assert_int_equal(r->uncompressed, orig->uncompressed);
			assert_string_equal(r->metadata_sha256,
			    orig->metadata_sha256);
			verify_result_free(r);
		} else {
			assert_true(err.code > 0 && err.code < VERIFY_E__COUNT);
		}
		data[i] ^= 0x20;
	}
	/* Most bytes matter. */
	assert_true(accepted < len / 4);
	verify_result_free(orig);
	free(data);
}

static void
test_record_parse(void **state)
{
	struct record *rec;
	struct wwerr err;
	const char *ok =
	    "a/b.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\n"
	    "\"we,ird \"\"q\"\".txt\",sha256="
	    "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
	    "\n"
	    "x.dist-info/RECORD,,";
	static const struct {
		const char *text;
		int code;
	} bad[] = {
		{ "a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0,x\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,md5=1B2M2Y8AsgTpgAmY7PhCfg,0\n",
		  VERIFY_E_RECORD_HASH_ALGO },
		{ "a,sha1=2jmj7l5rSw0yVb_vlWAYkK_YBwk,0\n",
		  VERIFY_E_RECORD_HASH_ALGO },
		{ "a,sha512=abc,0\n", VERIFY_E_RECORD_HASH_ALGO },
		{ "a,SHA256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n",
		  VERIFY_E_RECORD_HASH_ALGO },
		{ "a,sha256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU,0\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hS,0\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,-1\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,\n",
		  VERIFY_E_RECORD_SYNTAX },
		{ "a,,5\n", VERIFY_E_RECORD_SYNTAX },
		{ ",,\n", VERIFY_E_RECORD_SYNTAX },
		{ "a\"b,,\n", VERIFY_E_RECORD_SYNTAX },
		{ "\"a\"b,,\n", VERIFY_E_RECORD_SYNTAX },
		{ "\"a,,\n", VERIFY_E_RECORD_SYNTAX },
		{ "a,sha256,0\n", VERIFY_E_RECORD_SYNTAX },
	};
	size_t i;

	(void)state;
	assert_int_equal(record_parse(ok, strlen(ok), "RECORD", &rec, &err), 0);
	assert_int_equal(rec->n, 3);
	assert_string_equal(rec->e[0].path, "a/b.py");
	assert_int_equal(rec->e[0].has_hash, 1);
	assert_int_equal(rec->e[0].size, 0);
	assert_string_equal(rec->e[1].path, "we,ird \"q\".txt");
	assert_int_equal(rec->e[1].row, 2);
	assert_string_equal(rec->e[2].path, "x.dist-info/RECORD");
	assert_int_equal(rec->e[2].has_hash, 0);
	assert_int_equal(rec->e[2].row, 4);
	record_free(rec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wwerr_clear(&err);
		if (record_parse(bad[i].text, strlen(bad[i].text), "RECORD",
		    &rec, &err) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (err.code != bad[i].code)
			fail_msg("%s: code %s, want %s (%s)", bad[i].text,
			    verify_err_name(err.code),
			    verify_err_name(bad[i].code), err.msg);
		assert_non_null(strstr(err.msg, "RECORD row 1"));
	}
}

static void
test_record_write(void **state)
{
	struct buf b;
	struct record *rec;
	struct wwerr err;
	unsigned char d[HASH_SHA256_LEN];

	(void)state;
	buf_init(&b, 1 << 20);
	hash_sha256_mem("", 0, d);
	assert_int_equal(record_add_row(&b, "plain/path.py", d, 0), 0);
	assert_int_equal(record_add_row(&b, "we,ird \"q\"\n.txt", d, 7), 0);
	assert_int_equal(record_add_row(&b, "x.dist-info/RECORD", NULL, 0), 0);
	assert_string_equal(buf_cstr(&b),
	    "plain/path.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
	    "\"we,ird \"\"q\"\"\n.txt\",sha256="
	    "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,7\n"
	    "x.dist-info/RECORD,,\n");
	/* Round trip. */
	assert_int_equal(record_parse(b.ptr, b.len, "RECORD", &rec, &err), 0);
	assert_int_equal(rec->n, 3);
	assert_string_equal(rec->e[1].path, "we,ird \"q\"\n.txt");
	assert_int_equal(rec->e[1].size, 7);
	assert_memory_equal(rec->e[1].digest, d, sizeof(d));
	record_free(rec);
	buf_free(&b);
}

static void
test_headers(void **state)
{
	struct hdrs hs;
	const char *why;
	size_t line;
	const char *t =
	    "Metadata-Version: 2.1\r\n"
	    "Name:   spaced  \r\n"
	    "Requires-Dist: a\n"
	    "requires-dist: b;\n"
	    "  python_version < \"3\"\n"
	    "Description: first\n"
	    "        |second\n"
	    "\n"
	    "Body: not a header\n";
	static const char *const bad[] = {
		" leading continuation\n",
		"Key value without colon\n",
		": empty key\n",
		"Bad Key: v\n",
	};
	size_t i;

	(void)state;
	assert_int_equal(hdrs_parse(t, strlen(t), &hs, &why, &line), 0);
	assert_int_equal(hs.n, 5);
	assert_string_equal(hdrs_get(&hs, "name"), "spaced");
	assert_int_equal(hdrs_count(&hs, "Requires-Dist"), 2);
	assert_string_equal(hs.h[3].value, "b;   python_version < \"3\"");
	assert_string_equal(hdrs_get(&hs, "Description"),
	    "first         |second");
	assert_null(hdrs_get(&hs, "Body"));
	hdrs_free(&hs);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (hdrs_parse(bad[i], strlen(bad[i]), &hs, &why, &line) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(line, 1);
	}
	assert_int_equal(hdrs_parse("A: b\0c\n", 7, &hs, &why, &line), -1);
}

static void
test_err_names(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < VERIFY_E__COUNT; i++) {
		assert_string_not_equal(verify_err_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(verify_err_name(i),
			    verify_err_name(j));
	}
	assert_string_equal(verify_err_name(VERIFY_E__COUNT), "unknown");
	assert_string_equal(verify_err_name(-1), "unknown");
}

static void
test_check_path(void **state)
{
	struct wwerr err;
	static const struct {
		const char *p;
		int code;
	} cases[] = {
		{ "pkg/mod.py", 0 },
		{ "pkg.libs/libfoo-1a2b3c.so.1", 0 },
		{ "/abs", VERIFY_E_ABSOLUTE_PATH },
		{ "\\abs", VERIFY_E_ABSOLUTE_PATH },
		{ "c:/abs", VERIFY_E_ABSOLUTE_PATH },
		{ "..", VERIFY_E_TRAVERSAL },
		{ "a/../b", VERIFY_E_TRAVERSAL },
		{ "a\\..\\b", VERIFY_E_TRAVERSAL },
		{ "a/..", VERIFY_E_TRAVERSAL },
		{ "a/./b", VERIFY_E_LAYOUT },
		{ "a//b", VERIFY_E_LAYOUT },
		{ "", VERIFY_E_LAYOUT },
		{ "a\nb", VERIFY_E_LAYOUT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wwerr_clear(&err);
		assert_int_equal(verify_check_path(cases[i].p, &err),
		    cases[i].code ? -1 : 0);
		if (err.code != cases[i].code)
			fail_msg("\"%s\": %s, want %s", cases[i].p,
			    verify_err_name(err.code),
			    verify_err_name(cases[i].code));
	}
}

/*
 * The whole-buffer decoder on its own: exact sizes both ways, CRC-32,
 * corrupt and cut deflate streams, stored members, what it refuses to
 * take, and a bomb that lies about its size (the output buffer is the
 * declared size; ASan would see a write past it).
 */
static void
test_zip_inflate(void **state)
{
	struct libdeflate_compressor *c;
	struct zip_inflater *z;
	struct zipcd_entry e, t;
	const unsigned char *out;
	unsigned char *plain, *comp, *zeros;
	size_t i, n = 200000, clen, zlen;
	char msg[160];

	(void)state;
	plain = malloc(n);
	comp = malloc(n + 1024);
	zeros = calloc(1, 8 << 20);
	assert_non_null(plain);
	assert_non_null(comp);
	assert_non_null(zeros);
	for (i = 0; i < n; i++)
		plain[i] = (unsigned char)("def return self value\n"[i % 22] +
		    (i / 4099) % 3);
	assert_non_null(c = libdeflate_alloc_compressor(6));
	clen = libdeflate_deflate_compress(c, plain, n, comp, n + 1024);
	assert_true(clen > 0 && clen < n);
	assert_int_equal(zip_inflater_new(1 << 20, &z), 0);
	memset(&e, 0, sizeof(e));
	e.method = 8;
	e.csize = clen;
	e.usize = n;
	e.crc32 = (uint32_t)libdeflate_crc32(0, plain, n);
	assert_true(zip_inflater_fits(z, &e));
	assert_int_equal(zip_inflate(z, &e, comp, &out, msg, sizeof(msg)),
	    ZIPCD_OK);
	assert_memory_equal(out, plain, n);

	t = e;
	t.usize = n + 1;
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "inflates to 200000 bytes"));
	t.usize = n - 1;
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "more than the 199999 bytes"));
	t = e;
	t.crc32 ^= 0x80000000u;
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "CRC-32"));
	assert_null(out);
	t = e;
	t.csize = clen / 2;
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	/* Block type 3 does not exist: corrupt at the first bits. */
	comp[0] |= 0x06;
	assert_int_equal(zip_inflate(z, &e, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "corrupt deflate data"));

	/* Stored: the data itself, sizes must agree. */
	t = e;
	t.method = 0;
	t.csize = t.usize = n;
	assert_int_equal(zip_inflate(z, &t, plain, &out, msg, sizeof(msg)),
	    ZIPCD_OK);
	assert_ptr_equal(out, plain);
	t.csize = n - 1;
	assert_int_equal(zip_inflate(z, &t, plain, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "stored member"));

	/* Empty members, stored and deflated. */
	t = e;
	t.method = 0;
	t.csize = t.usize = 0;
	t.crc32 = 0;
	assert_int_equal(zip_inflate(z, &t, plain, &out, msg, sizeof(msg)),
	    ZIPCD_OK);
	t.method = 8;
	t.csize = libdeflate_deflate_compress(c, plain, 0, comp, 64);
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_OK);

	/* Not for this decoder: other methods, sizes over its maximum. */
	t = e;
	t.method = 12;
	assert_false(zip_inflater_fits(z, &t));
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	t = e;
	t.usize = (1 << 20) + 1;
	assert_false(zip_inflater_fits(z, &t));

	/* 8 MiB of zeros declared as 1000 bytes: stops at 1000. */
	zlen = libdeflate_deflate_compress(c, zeros, 8 << 20, comp, n);
	assert_true(zlen > 0);
	t = e;
	t.csize = zlen;
	t.usize = 1000;
	t.crc32 = (uint32_t)libdeflate_crc32(0, zeros, 1000);
	assert_int_equal(zip_inflate(z, &t, comp, &out, msg, sizeof(msg)),
	    ZIPCD_BAD_DATA);
	assert_non_null(strstr(msg, "more than the 1000 bytes"));

	zip_inflater_free(z);
	libdeflate_free_compressor(c);
	free(plain);
	free(comp);
	free(zeros);
}

/* A local header, then name, extra field and data, as a zip has them. */
static size_t
local_header(unsigned char *p, uint16_t flags, uint16_t method,
    const char *name, uint16_t xlen)
{
	size_t nlen = strlen(name);

	memset(p, 0, 30);
	memcpy(p, "PK\003\004", 4);
	p[4] = 20;
	p[6] = (unsigned char)flags;
	p[7] = (unsigned char)(flags >> 8);
	p[8] = (unsigned char)method;
	p[26] = (unsigned char)nlen;
	p[28] = (unsigned char)xlen;
	p[29] = (unsigned char)(xlen >> 8);
	memcpy(p + 30, name, nlen);
	return 30 + nlen + xlen;
}

/* The local header must agree with the central directory entry. */
static void
test_zip_local_data(void **state)
{
	unsigned char p[512];
	struct zipcd_entry e;
	size_t off;
	char msg[160];

	(void)state;
	memset(&e, 0, sizeof(e));
	e.name = "pkg/a.py";
	e.namelen = strlen(e.name);
	e.method = 8;
	e.csize = 100;
	memset(p, 'x', sizeof(p));
	assert_int_equal(local_header(p, 0x0808, 8, "pkg/a.py", 4), 42);
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_OK);
	assert_int_equal(off, 42);
	/* Data one byte past the next entry. */
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 141, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	assert_non_null(strstr(msg, "overruns"));
	/* Only the header read: enough when the span is known. */
	assert_int_equal(zip_local_data(&e, p, 38, 142, &off, msg,
	    sizeof(msg)), ZIPCD_OK);
	assert_int_equal(zip_local_data(&e, p, 29, 142, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	local_header(p, 0, 0, "pkg/a.py", 4);
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	assert_non_null(strstr(msg, "compression methods"));
	local_header(p, 0x0001, 8, "pkg/a.py", 4);
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_ENCRYPTED);
	local_header(p, 0, 8, "pkg/b.py", 4);
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	assert_non_null(strstr(msg, "name differs"));
	local_header(p, 0, 8, "pkg/a.pyc", 3);
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	local_header(p, 0, 8, "pkg/a.py", 4);
	p[2] = 9;
	assert_int_equal(zip_local_data(&e, p, sizeof(p), 142, &off, msg,
	    sizeof(msg)), ZIPCD_CORRUPT);
	assert_non_null(strstr(msg, "no local header"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_record_parse),
		cmocka_unit_test(test_record_write),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_check_path),
		cmocka_unit_test(test_zip_inflate),
		cmocka_unit_test(test_zip_local_data),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_real_wheels),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_fixture_details),
		cmocka_unit_test(test_truncations_and_flips),
	};

	return cmocka_run_group_tests(tests, run_factory, rm_fixtures);
}
