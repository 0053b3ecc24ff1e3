/*
 * test_catalog.c: unit tests for the SQLite catalog on real database files
 * in temporary directories: migrations, schema refusal, files, conflicts,
 * generations, yanking, tokens and two connections (and two processes)
 * writing at once.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "catalog.h"
#include "hash.h"
#include "util.h"

struct fixture {
	char	dir[PATH_MAX];
	char	db[PATH_MAX];
	struct catalog *c;
};

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int
setup(void **state)
{
	struct fixture *fx;
	struct wwerr err;
	const char *base = getenv("WW_TEST_TMP");

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	if (base == NULL)
		base = "/tmp";
	util_mkdirs(base, 0755);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_catalog.XXXXXX", base);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/catalog.sqlite", fx->dir);
	if (catalog_open(fx->db, 0, &fx->c, &err) == -1)
		fail_msg("catalog_open: %s", err.msg);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	catalog_close(fx->c);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* A file record with a sha256 derived from seed, so tests can make
 * "same" and "different" bytes. */
static void
mkfile(struct catalog_file *f, const char *project, const char *display,
    const char *version, const char *filename, const char *seed)
{
	unsigned char d[HASH_SHA256_LEN];

	memset(f, 0, sizeof(*f));
	f->project = (char *)project;
	f->project_display = (char *)display;
	f->version = (char *)version;
	f->filename = (char *)filename;
	if (strstr(filename, ".whl") != NULL) {
		f->kind = 'w';
		f->python_tag = "py3";
		f->abi_tag = "none";
		f->platform_tag = "any";
	} else
		f->kind = 's';
	hash_sha256_mem(seed, strlen(seed), d);
	hash_hex(d, sizeof(d), f->sha256);
	f->size = strlen(seed) * 1000;
	f->has_metadata = 1;
	hash_sha256_mem(filename, strlen(filename), d);
	hash_hex(d, sizeof(d), f->metadata_sha256);
	f->requires_python = ">=3.8";
	f->origin = "test";
}

static int64_t
project_gen(struct catalog *c, const char *name)
{
	struct wwerr err;
	int64_t g = -1;
	int rc;

	rc = catalog_project_generation(c, name, &g, NULL, 0, &err);
	if (rc == -1)
		fail_msg("project_generation: %s", err.msg);
	return rc == 0 ? g : -1;
}

static int64_t
global_gen(struct catalog *c)
{
	struct wwerr err;
	int64_t g;

	if (catalog_global_generation(c, &g, &err) == -1)
		fail_msg("global_generation: %s", err.msg);
	return g;
}

static int
raw_exec(const char *db, const char *sql)
{
	sqlite3 *h;
	int rc;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
test_migrate_from_empty_and_reopen(void **state)
{
	struct fixture *fx = *state;
	struct catalog *c2;
	struct wwerr err;
	sqlite3_stmt *st;
	int v, n = 0;
	const char *want[] = { "files", "meta", "projects", "schema_modules",
	    "tokens" };

	v = catalog_schema_version(fx->c);
	assert_true(v >= 1);
	assert_int_equal(sqlite3_prepare_v2(catalog_db(fx->c),
	    "SELECT name FROM sqlite_schema WHERE type = 'table' "
	    "ORDER BY name", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(n < (int)WW_ARRLEN(want));
		assert_string_equal(sqlite3_column_text(st, 0), want[n]);
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, (int)WW_ARRLEN(want));

	/* WAL and foreign keys are on for every connection. */
	assert_int_equal(sqlite3_prepare_v2(catalog_db(fx->c),
	    "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(catalog_db(fx->c),
	    "PRAGMA foreign_keys", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	assert_int_equal(global_gen(fx->c), 0);

	/* Reopen: no migration runs again, data stays. */
	catalog_close(fx->c);
	fx->c = NULL;
	if (catalog_open(fx->db, 0, &fx->c, &err) == -1)
		fail_msg("reopen: %s", err.msg);
	assert_int_equal(catalog_schema_version(fx->c), v);
	if (catalog_open(fx->db, CATALOG_RDONLY, &c2, &err) == -1)
		fail_msg("open read-only: %s", err.msg);
	assert_int_equal(catalog_schema_version(c2), v);
	catalog_close(c2);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *fx = *state;
	struct catalog *c2 = NULL;
	struct wwerr err;
	char sql[64];
	int v = catalog_schema_version(fx->c);

	catalog_close(fx->c);
	fx->c = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
	assert_int_equal(raw_exec(fx->db, sql), 0);
	assert_int_equal(catalog_open(fx->db, 0, &c2, &err), -1);
	assert_null(c2);
	assert_int_equal(err.code, CATALOG_E_SCHEMA);
	assert_non_null(strstr(err.msg, "newer"));
	assert_int_equal(catalog_open(fx->db, CATALOG_RDONLY, &c2, &err), -1);
	assert_int_equal(err.code, CATALOG_E_SCHEMA);
	/* Untouched: still the newer version. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	assert_int_equal(raw_exec(fx->db, sql), 0);
	if (catalog_open(fx->db, 0, &fx->c, &err) == -1)
		fail_msg("reopen: %s", err.msg);
}

static void
test_foreign_database_refused(void **state)
{
	struct fixture *fx = *state;
	struct catalog *c2 = NULL;
	struct wwerr err;
	char other[PATH_MAX];

	snprintf(other, sizeof(other), "%s/other.sqlite", fx->dir);
	assert_int_equal(raw_exec(other, "CREATE TABLE t(x)"), 0);
	assert_int_equal(catalog_open(other, 0, &c2, &err), -1);
	assert_int_equal(err.code, CATALOG_E_SCHEMA);
	assert_non_null(strstr(err.msg, "not a Wheelwright catalog"));
	/* The foreign file was not modified. */
	assert_int_equal(raw_exec(other, "SELECT x FROM t"), 0);

	snprintf(other, sizeof(other), "%s/missing.sqlite", fx->dir);
	assert_int_equal(catalog_open(other, CATALOG_RDONLY, &c2, &err), -1);
	assert_int_equal(err.code, CATALOG_E_DB);
	assert_int_equal(access(other, F_OK), -1);
}

static void
test_module_migrations(void **state)
{
	struct fixture *fx = *state;
	struct wwerr err;
	const char *v2[] = {
		"CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)",
		"ALTER TABLE jobs ADD COLUMN state TEXT",
	};
	const char *bad[] = {
		v2[0], v2[1],
		"CREATE TABLE job_logs (id INTEGER PRIMARY KEY);"
		"THIS IS NOT SQL",
	};
	sqlite3 *db = catalog_db(fx->c);

	if (catalog_migrate(fx->c, "jobs", v2, 1, &err) == -1)
		fail_msg("migrate 1: %s", err.msg);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO jobs(name) "
	    "VALUES ('a')", NULL, NULL, NULL), SQLITE_OK);
	if (catalog_migrate(fx->c, "jobs", v2, 2, &err) == -1)
		fail_msg("migrate 2: %s", err.msg);
	/* Idempotent. */
	if (catalog_migrate(fx->c, "jobs", v2, 2, &err) == -1)
		fail_msg("migrate 2 again: %s", err.msg);
	assert_int_equal(sqlite3_exec(db, "UPDATE jobs SET state = 'x'",
	    NULL, NULL, NULL), SQLITE_OK);
	/* A failing step rolls back entirely and the version stays. */
	assert_int_equal(catalog_migrate(fx->c, "jobs", bad, 3, &err), -1);
	assert_int_equal(err.code, CATALOG_E_DB);
	assert_non_null(strstr(err.msg, "jobs migration 3"));
	assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM job_logs", NULL,
	    NULL, NULL), SQLITE_OK);
	/* A program that knows fewer steps refuses the newer schema. */
	assert_int_equal(catalog_migrate(fx->c, "jobs", v2, 1, &err), -1);
	assert_int_equal(err.code, CATALOG_E_SCHEMA);
	/* No transaction is left open. */
	assert_int_equal(sqlite3_get_autocommit(db), 1);
}

static void
test_add_get_conflict(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f, g, got;
	struct wwerr err;
	int64_t before;

	mkfile(&f, "foo-bar", "Foo.Bar", "1.0", "foo_bar-1.0-py3-none-any.whl",
	    "bytes-a");
	f.build_tag = "";
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	assert_int_equal(catalog_get_file(fx->c, f.filename, &got, &err), 0);
	assert_string_equal(got.project, "foo-bar");
	assert_string_equal(got.project_display, "Foo.Bar");
	assert_string_equal(got.version, "1.0");
	assert_int_equal(got.kind, 'w');
	assert_string_equal(got.python_tag, "py3");
	assert_string_equal(got.abi_tag, "none");
	assert_string_equal(got.platform_tag, "any");
	assert_null(got.build_tag);
	assert_string_equal(got.sha256, f.sha256);
	assert_int_equal(got.size, f.size);
	assert_string_equal(got.requires_python, ">=3.8");
	assert_int_equal(got.has_metadata, 1);
	assert_string_equal(got.metadata_sha256, f.metadata_sha256);
	assert_true(got.upload_time_us > 1600000000LL * 1000000);
	assert_true(got.upload_time_us <= util_now_us());
	assert_int_equal(got.yanked, 0);
	assert_null(got.yanked_reason);
	assert_string_equal(got.origin, "test");
	catalog_file_free(&got);

	before = global_gen(fx->c);
	/* Same bytes again: no-op, no generation bump. */
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 1);
	assert_int_equal(global_gen(fx->c), before);
	/* Same name, different bytes: refused, nothing changes. */
	mkfile(&g, "foo-bar", "Foo.Bar", "1.0", f.filename, "bytes-b");
	assert_int_equal(catalog_add_file(fx->c, &g, &err), -1);
	assert_int_equal(err.code, CATALOG_E_CONFLICT);
	assert_non_null(strstr(err.msg, f.filename));
	assert_int_equal(global_gen(fx->c), before);
	assert_int_equal(catalog_get_file(fx->c, f.filename, &got, &err), 0);
	assert_string_equal(got.sha256, f.sha256);
	catalog_file_free(&got);

	/* Sdists carry no tags. */
	mkfile(&g, "foo-bar", "Foo.Bar", "1.0", "foo_bar-1.0.tar.gz", "sd");
	g.python_tag = "py3";
	assert_int_equal(catalog_add_file(fx->c, &g, &err), 0);
	assert_int_equal(catalog_get_file(fx->c, g.filename, &got, &err), 0);
	assert_int_equal(got.kind, 's');
	assert_null(got.python_tag);
	catalog_file_free(&got);

	assert_int_equal(catalog_get_file(fx->c, "nope-1.0.tar.gz", &got,
	    &err), 1);
}

static void
test_add_invalid(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f;
	struct catalog_stats st;
	struct wwerr err;
	struct {
		const char *project, *filename, *sha;
	} bad[] = {
		{ "Foo", "foo-1.0.tar.gz", NULL },	/* not normalized */
		{ "foo_bar", "foo-1.0.tar.gz", NULL },
		{ "-foo", "foo-1.0.tar.gz", NULL },
		{ "foo", "../foo-1.0.tar.gz", NULL },
		{ "foo", "a/b.tar.gz", NULL },
		{ "foo", ".hidden.tar.gz", NULL },
		{ "foo", "", NULL },
		{ "foo", "foo-1.0.tar.gz", "ABCD" },
	};
	size_t i;

	for (i = 0; i < WW_ARRLEN(bad); i++) {
		mkfile(&f, bad[i].project, "Foo", "1.0", bad[i].filename, "x");
		if (bad[i].sha)
			util_strlcpy(f.sha256, bad[i].sha, sizeof(f.sha256));
		assert_int_equal(catalog_add_file(fx->c, &f, &err), -1);
		assert_int_equal(err.code, CATALOG_E_INVALID);
	}
	mkfile(&f, "foo", "Foo", "1.0", "foo-1.0-py3-none-any.whl", "x");
	f.platform_tag = NULL;
	assert_int_equal(catalog_add_file(fx->c, &f, &err), -1);
	assert_int_equal(err.code, CATALOG_E_INVALID);
	assert_int_equal(catalog_stats(fx->c, &st, &err), 0);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.projects, 0);
}

static void
test_generations(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f;
	struct wwerr err;
	char display[64];
	int64_t a1, a2, b1, g;

	assert_int_equal(project_gen(fx->c, "alpha"), -1);
	mkfile(&f, "alpha", "Alpha", "1.0", "alpha-1.0.tar.gz", "a1");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	a1 = project_gen(fx->c, "alpha");
	assert_true(a1 > 0);
	assert_int_equal(global_gen(fx->c), a1);

	mkfile(&f, "beta", "Beta", "1.0", "beta-1.0.tar.gz", "b1");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	b1 = project_gen(fx->c, "beta");
	assert_true(b1 > a1);
	/* Another project's change leaves alpha's generation alone. */
	assert_int_equal(project_gen(fx->c, "alpha"), a1);

	mkfile(&f, "alpha", "Alpha", "2.0", "alpha-2.0.tar.gz", "a2");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	a2 = project_gen(fx->c, "alpha");
	assert_true(a2 > b1);
	assert_int_equal(project_gen(fx->c, "beta"), b1);
	g = global_gen(fx->c);
	assert_int_equal(g, a2);

	/* Yank changes the generation; a no-op yank does not. */
	assert_int_equal(catalog_yank_file(fx->c, "alpha-1.0.tar.gz", 1,
	    "broken", &err), 1);
	assert_true(project_gen(fx->c, "alpha") > a2);
	assert_int_equal(project_gen(fx->c, "beta"), b1);
	g = global_gen(fx->c);
	assert_int_equal(catalog_yank_file(fx->c, "alpha-1.0.tar.gz", 1,
	    "broken", &err), 0);
	assert_int_equal(global_gen(fx->c), g);

	/* The display name comes back with the generation. */
	assert_int_equal(catalog_project_generation(fx->c, "alpha", &a1,
	    display, sizeof(display), &err), 0);
	assert_string_equal(display, "Alpha");
	assert_int_equal(catalog_project_generation(fx->c, "gamma", &a1,
	    display, sizeof(display), &err), 1);
}

static void
test_yank_file_and_release(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f, got;
	struct wwerr err;
	const char *names[] = {
		"pkg-1.0.tar.gz", "pkg-1.0-py3-none-any.whl",
		"pkg-2.0.tar.gz",
	};
	size_t i;

	for (i = 0; i < WW_ARRLEN(names); i++) {
		mkfile(&f, "pkg", "pkg", i < 2 ? "1.0" : "2.0", names[i],
		    names[i]);
		assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	}
	/* By file. */
	assert_int_equal(catalog_yank_file(fx->c, "pkg-2.0.tar.gz", 1, NULL,
	    &err), 1);
	assert_int_equal(catalog_get_file(fx->c, "pkg-2.0.tar.gz", &got, &err),
	    0);
	assert_int_equal(got.yanked, 1);
	assert_null(got.yanked_reason);
	catalog_file_free(&got);
	/* A new reason is a change. */
	assert_int_equal(catalog_yank_file(fx->c, "pkg-2.0.tar.gz", 1,
	    "CVE-2024-1", &err), 1);
	assert_int_equal(catalog_get_file(fx->c, "pkg-2.0.tar.gz", &got, &err),
	    0);
	assert_string_equal(got.yanked_reason, "CVE-2024-1");
	catalog_file_free(&got);

	/* By release: both 1.0 files, 2.0 untouched. */
	assert_int_equal(catalog_yank_release(fx->c, "pkg", "1.0", 1,
	    "bad release", &err), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(catalog_get_file(fx->c, names[i], &got, &err),
		    0);
		assert_int_equal(got.yanked, 1);
		assert_string_equal(got.yanked_reason, "bad release");
		catalog_file_free(&got);
	}
	assert_int_equal(catalog_yank_release(fx->c, "pkg", "1.0", 0, NULL,
	    &err), 2);
	assert_int_equal(catalog_yank_release(fx->c, "pkg", "1.0", 0, NULL,
	    &err), 0);
	assert_int_equal(catalog_get_file(fx->c, names[1], &got, &err), 0);
	assert_int_equal(got.yanked, 0);
	assert_null(got.yanked_reason);
	catalog_file_free(&got);
	assert_int_equal(catalog_get_file(fx->c, "pkg-2.0.tar.gz", &got, &err),
	    0);
	assert_int_equal(got.yanked, 1);
	catalog_file_free(&got);
	/* Unyank a file clears the reason. */
	assert_int_equal(catalog_yank_file(fx->c, "pkg-2.0.tar.gz", 0, "x",
	    &err), 1);
	assert_int_equal(catalog_get_file(fx->c, "pkg-2.0.tar.gz", &got, &err),
	    0);
	assert_int_equal(got.yanked, 0);
	assert_null(got.yanked_reason);
	catalog_file_free(&got);

	/* Unknown file, release, project. */
	assert_int_equal(catalog_yank_file(fx->c, "pkg-3.0.tar.gz", 1, NULL,
	    &err), -1);
	assert_int_equal(err.code, CATALOG_E_NOTFOUND);
	assert_int_equal(catalog_yank_release(fx->c, "pkg", "3.0", 1, NULL,
	    &err), -1);
	assert_int_equal(err.code, CATALOG_E_NOTFOUND);
	assert_int_equal(catalog_yank_release(fx->c, "nope", "1.0", 1, NULL,
	    &err), -1);
	assert_int_equal(err.code, CATALOG_E_NOTFOUND);
	assert_int_equal(catalog_yank_release(fx->c, "Pkg", "1.0", 1, NULL,
	    &err), -1);
	assert_int_equal(err.code, CATALOG_E_INVALID);
}

struct collect {
	char	 names[16][128];
	int	 n;
	int	 stop_after;
	struct catalog *c;
	int	 inner;
};

static int
collect_file(const struct catalog_file *f, void *arg)
{
	struct collect *k = arg;

	util_strlcpy(k->names[k->n++], f->filename, sizeof(k->names[0]));
	return k->stop_after && k->n >= k->stop_after;
}

static int
count_inner(const struct catalog_file *f, void *arg)
{
	(void)f;
	(*(int *)arg)++;
	return 0;
}

static int
collect_project_noop(const char *name, const char *display, int64_t gen,
    void *arg)
{
	(void)name;
	(void)display;
	(void)gen;
	(void)arg;
	return 0;
}

static int
collect_project(const char *name, const char *display, int64_t gen,
    void *arg)
{
	struct collect *k = arg;
	struct wwerr err;

	(void)display;
	assert_true(gen > 0);
	util_strlcpy(k->names[k->n++], name, sizeof(k->names[0]));
	/* Re-entering the catalog from a callback must work. */
	if (catalog_foreach_file(k->c, name, count_inner, &k->inner,
	    &err) == -1)
		fail_msg("inner foreach: %s", err.msg);
	if (catalog_foreach_project(k->c, collect_project_noop, NULL,
	    &err) == -1)
		fail_msg("nested project foreach: %s", err.msg);
	return 0;
}

/* A page row equals the full row in every column a page shows, and the
 * borrowed strings survive another statement run from the callback. */
static int
check_page_row(const struct catalog_file *f, void *arg)
{
	struct collect *k = arg;
	struct catalog_file full;
	struct wwerr err;

	assert_null(f->project);
	assert_null(f->project_display);
	assert_null(f->python_tag);
	assert_null(f->platform_tag);
	assert_null(f->origin);
	assert_int_equal(catalog_get_file(k->c, f->filename, &full, &err), 0);
	assert_int_equal(f->id, full.id);
	assert_string_equal(f->version, full.version);
	assert_int_equal(f->kind, full.kind);
	assert_string_equal(f->sha256, full.sha256);
	assert_int_equal(f->size, full.size);
	assert_string_equal(f->requires_python, full.requires_python);
	assert_int_equal(f->has_metadata, full.has_metadata);
	assert_string_equal(f->metadata_sha256, full.metadata_sha256);
	assert_int_equal(f->upload_time_us, full.upload_time_us);
	assert_int_equal(f->yanked, full.yanked);
	assert_string_equal(f->filename, full.filename);
	catalog_file_free(&full);
	util_strlcpy(k->names[k->n++], f->filename, sizeof(k->names[0]));
	return k->stop_after && k->n >= k->stop_after;
}

static void
test_foreach_and_stats(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f;
	struct catalog_stats st;
	struct collect k;
	struct wwerr err;

	mkfile(&f, "zeta", "Zeta", "1.0", "zeta-1.0.tar.gz", "z");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	mkfile(&f, "alpha", "Alpha", "1.0", "alpha-1.0.tar.gz", "a");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	mkfile(&f, "alpha", "Alpha", "1.0", "alpha-1.0-py3-none-any.whl",
	    "aw");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);

	memset(&k, 0, sizeof(k));
	k.c = fx->c;
	assert_int_equal(catalog_foreach_project(fx->c, collect_project, &k,
	    &err), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.names[0], "alpha");
	assert_string_equal(k.names[1], "zeta");
	assert_int_equal(k.inner, 3);

	memset(&k, 0, sizeof(k));
	assert_int_equal(catalog_foreach_file(fx->c, "alpha", collect_file,
	    &k, &err), 0);
	assert_int_equal(k.n, 2);	/* ordered by filename */
	assert_string_equal(k.names[0], "alpha-1.0-py3-none-any.whl");
	assert_string_equal(k.names[1], "alpha-1.0.tar.gz");

	/* the page columns only, borrowed */
	memset(&k, 0, sizeof(k));
	k.c = fx->c;
	assert_int_equal(catalog_foreach_page_file(fx->c, "alpha",
	    check_page_row, &k, &err), 0);
	assert_int_equal(k.n, 2);	/* ordered by filename */
	assert_string_equal(k.names[0], "alpha-1.0-py3-none-any.whl");
	assert_string_equal(k.names[1], "alpha-1.0.tar.gz");
	memset(&k, 0, sizeof(k));
	k.c = fx->c;
	k.stop_after = 1;
	assert_int_equal(catalog_foreach_page_file(fx->c, "alpha",
	    check_page_row, &k, &err), 0);
	assert_int_equal(k.n, 1);
	memset(&k, 0, sizeof(k));
	k.c = fx->c;
	assert_int_equal(catalog_foreach_page_file(fx->c, "nope",
	    check_page_row, &k, &err), 0);
	assert_int_equal(k.n, 0);

	memset(&k, 0, sizeof(k));
	assert_int_equal(catalog_foreach_all_files(fx->c, collect_file, &k,
	    &err), 0);
	assert_int_equal(k.n, 3);	/* ordered by id */
	assert_string_equal(k.names[0], "zeta-1.0.tar.gz");

	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(catalog_foreach_all_files(fx->c, collect_file, &k,
	    &err), 0);
	assert_int_equal(k.n, 1);
	/* The statement was reset: iterating again starts over. */
	memset(&k, 0, sizeof(k));
	assert_int_equal(catalog_foreach_all_files(fx->c, collect_file, &k,
	    &err), 0);
	assert_int_equal(k.n, 3);

	assert_int_equal(catalog_stats(fx->c, &st, &err), 0);
	assert_int_equal(st.projects, 2);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.bytes, 1000 * (1 + 1 + 2));
}

struct tokcount {
	int	n, revoked;
	char	last[80];
};

static int
count_token(const struct catalog_token *t, void *arg)
{
	struct tokcount *k = arg;

	k->n++;
	if (t->revoked_us)
		k->revoked++;
	util_strlcpy(k->last, t->name, sizeof(k->last));
	return 0;
}

/* 1 if needle occurs anywhere in the file's bytes. */
static int
file_contains(const char *path, const char *needle)
{
	char *data;
	size_t len, n = strlen(needle);
	int found = 0;

	if (util_read_file(path, 64 * 1024 * 1024, &data, &len) == -1)
		return 0;
	found = memmem(data, len, needle, n) != NULL;
	free(data);
	return found;
}

static void
test_tokens(void **state)
{
	struct fixture *fx = *state;
	struct catalog_token t;
	struct tokcount k;
	struct wwerr err;
	enum token_scope sc;
	char *s1 = NULL, *s2 = NULL, *s3 = NULL, wal[PATH_MAX], wrong[64];
	unsigned char d[HASH_SHA256_LEN];
	int64_t before;

	assert_int_equal(token_scope_parse("upload", &sc), 0);
	assert_int_equal(sc, TOKEN_UPLOAD);
	assert_int_equal(token_scope_parse("submit", &sc), 0);
	assert_int_equal(token_scope_parse("admin", &sc), 0);
	assert_string_equal(token_scope_name(sc), "admin");
	assert_int_equal(token_scope_parse("root", &sc), -1);

	before = util_now_us();
	assert_int_equal(catalog_token_create(fx->c, "ci-upload", TOKEN_UPLOAD,
	    "foo-bar", &s1, &err), 0);
	assert_int_equal(catalog_token_create(fx->c, "admin", TOKEN_ADMIN,
	    NULL, &s2, &err), 0);
	assert_int_equal(strlen(s1), 46);
	assert_memory_equal(s1, "ww-", 3);
	assert_int_equal(strspn(s1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(s1, s2);

	assert_int_equal(catalog_token_check(fx->c, s1, &t, &err), 0);
	assert_string_equal(t.name, "ci-upload");
	assert_int_equal(t.scope, TOKEN_UPLOAD);
	assert_string_equal(t.project, "foo-bar");
	assert_true(t.created_us >= before);
	assert_int_equal(t.revoked_us, 0);
	assert_true(t.last_used_us >= t.created_us);
	catalog_token_free(&t);
	assert_int_equal(catalog_token_check(fx->c, s2, &t, &err), 0);
	assert_int_equal(t.scope, TOKEN_ADMIN);
	assert_null(t.project);
	catalog_token_free(&t);
	assert_int_equal(catalog_token_check(fx->c, s2, NULL, &err), 0);

	/* Unknown: one character off, wrong length, no prefix, empty. */
	util_strlcpy(wrong, s1, sizeof(wrong));
	wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
	assert_int_equal(catalog_token_check(fx->c, wrong, &t, &err), 1);
	assert_int_equal(catalog_token_check(fx->c, "ww-short", &t, &err), 1);
	assert_int_equal(catalog_token_check(fx->c, s1 + 3, &t, &err), 1);
	assert_int_equal(catalog_token_check(fx->c, "", &t, &err), 1);
	assert_int_equal(catalog_token_check(fx->c, NULL, &t, &err), 1);

	/* Names are unique, even after revocation; bad names/scopes fail. */
	assert_int_equal(catalog_token_create(fx->c, "admin", TOKEN_UPLOAD,
	    NULL, &s3, &err), -1);
	assert_int_equal(err.code, CATALOG_E_CONFLICT);
	assert_null(s3);
	assert_int_equal(catalog_token_create(fx->c, "bad name", TOKEN_UPLOAD,
	    NULL, &s3, &err), -1);
	assert_int_equal(err.code, CATALOG_E_INVALID);
	assert_int_equal(catalog_token_create(fx->c, "x", (enum token_scope)9,
	    NULL, &s3, &err), -1);
	assert_int_equal(err.code, CATALOG_E_INVALID);
	assert_int_equal(catalog_token_create(fx->c, "x", TOKEN_UPLOAD,
	    "Not_Normal", &s3, &err), -1);
	assert_int_equal(err.code, CATALOG_E_INVALID);

	/* Revoke. */
	assert_int_equal(catalog_token_revoke(fx->c, "ci-upload", &err), 0);
	assert_int_equal(catalog_token_check(fx->c, s1, &t, &err), 2);
	assert_string_equal(t.name, "ci-upload");
	assert_true(t.revoked_us > 0);
	catalog_token_free(&t);
	assert_int_equal(catalog_token_revoke(fx->c, "ci-upload", &err), 1);
	assert_int_equal(catalog_token_revoke(fx->c, "nobody", &err), -1);
	assert_int_equal(err.code, CATALOG_E_NOTFOUND);
	assert_int_equal(catalog_token_check(fx->c, s2, NULL, &err), 0);

	memset(&k, 0, sizeof(k));
	assert_int_equal(catalog_foreach_token(fx->c, count_token, &k, &err),
	    0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.revoked, 1);
	assert_string_equal(k.last, "admin");

	/* Only the hash is stored: the secret appears nowhere on disk, its
	 * SHA-256 does. */
	catalog_close(fx->c);
	fx->c = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", fx->db);
	assert_false(file_contains(fx->db, s1));
	assert_false(file_contains(fx->db, s1 + 3));
	assert_false(file_contains(wal, s1 + 3));
	assert_false(file_contains(fx->db, s2 + 3));
	hash_sha256_mem(s2, strlen(s2), d);
	{
		char needle[HASH_SHA256_LEN + 1];

		memcpy(needle, d, sizeof(d));
		needle[sizeof(d)] = '\0';
		/* Blob bytes; skip if the digest has a NUL (cannot strstr). */
		if (memchr(d, 0, sizeof(d)) == NULL)
			assert_true(file_contains(fx->db, needle) ||
			    file_contains(wal, needle));
	}
	if (catalog_open(fx->db, 0, &fx->c, &err) == -1)
		fail_msg("reopen: %s", err.msg);
	assert_int_equal(catalog_token_check(fx->c, s2, NULL, &err), 0);
	free(s1);
	free(s2);
}

static void
test_explicit_transaction(void **state)
{
	struct fixture *fx = *state;
	struct catalog_file f;
	struct catalog_stats st;
	struct wwerr err;

	assert_int_equal(catalog_begin(fx->c, &err), 0);
	assert_int_equal(catalog_begin(fx->c, &err), -1);
	mkfile(&f, "txn", "txn", "1.0", "txn-1.0.tar.gz", "t1");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	/* A failing call inside rolls back only its own savepoint. */
	mkfile(&f, "txn", "txn", "1.0", "txn-1.0.tar.gz", "t2");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), -1);
	assert_int_equal(err.code, CATALOG_E_CONFLICT);
	mkfile(&f, "txn", "txn", "2.0", "txn-2.0.tar.gz", "t3");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	catalog_rollback(fx->c);
	assert_int_equal(catalog_stats(fx->c, &st, &err), 0);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.projects, 0);
	assert_int_equal(global_gen(fx->c), 0);

	assert_int_equal(catalog_begin(fx->c, &err), 0);
	mkfile(&f, "txn", "txn", "1.0", "txn-1.0.tar.gz", "t1");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	assert_int_equal(catalog_commit(fx->c, &err), 0);
	assert_int_equal(catalog_commit(fx->c, &err), -1);
	assert_int_equal(catalog_stats(fx->c, &st, &err), 0);
	assert_int_equal(st.files, 1);
}

static void
test_two_connections(void **state)
{
	struct fixture *fx = *state;
	struct catalog *b, *ro;
	struct catalog_file f, got;
	struct catalog_token tok;
	struct wwerr err;
	char *secret;
	int64_t t0;

	if (catalog_open(fx->db, 0, &b, &err) == -1)
		fail_msg("second connection: %s", err.msg);
	if (catalog_open(fx->db, CATALOG_RDONLY, &ro, &err) == -1)
		fail_msg("read-only connection: %s", err.msg);
	assert_int_equal(catalog_token_create(b, "t", TOKEN_UPLOAD, NULL,
	    &secret, &err), 0);

	/* A holds the write lock with an uncommitted file. */
	assert_int_equal(catalog_begin(fx->c, &err), 0);
	/* Token checks never wait for the lock (indexd's event loop): the
	 * last-use update is skipped instead of taking the 5 s timeout. */
	t0 = util_now_us();
	assert_int_equal(catalog_token_check(b, secret, &tok, &err), 0);
	assert_true(util_now_us() - t0 < 1000000);
	assert_int_equal(tok.last_used_us, 0);
	catalog_token_free(&tok);
	free(secret);
	catalog_set_busy_timeout(b, 100);
	mkfile(&f, "conc", "conc", "1.0", "conc-1.0.tar.gz", "c1");
	assert_int_equal(catalog_add_file(fx->c, &f, &err), 0);
	/* B and the reader read without waiting and do not see it (WAL). */
	assert_int_equal(catalog_get_file(b, f.filename, &got, &err), 1);
	assert_int_equal(catalog_get_file(ro, f.filename, &got, &err), 1);
	/* B cannot write meanwhile: it waits its busy timeout, then fails. */
	mkfile(&f, "conc", "conc", "2.0", "conc-2.0.tar.gz", "c2");
	assert_int_equal(catalog_add_file(b, &f, &err), -1);
	assert_int_equal(err.code, CATALOG_E_DB);
	assert_int_equal(catalog_commit(fx->c, &err), 0);
	/* Now everyone sees A's file, and B can write. */
	assert_int_equal(catalog_get_file(b, "conc-1.0.tar.gz", &got, &err), 0);
	catalog_file_free(&got);
	assert_int_equal(catalog_get_file(ro, "conc-1.0.tar.gz", &got, &err),
	    0);
	catalog_file_free(&got);
	assert_int_equal(catalog_add_file(b, &f, &err), 0);
	assert_int_equal(catalog_get_file(fx->c, f.filename, &got, &err), 0);
	catalog_file_free(&got);
	assert_int_equal(global_gen(ro), 2);

	/* The read-only connection refuses writes. */
	mkfile(&f, "conc", "conc", "3.0", "conc-3.0.tar.gz", "c3");
	assert_int_equal(catalog_add_file(ro, &f, &err), -1);
	assert_int_equal(catalog_yank_file(ro, "conc-1.0.tar.gz", 1, NULL,
	    &err), -1);
	catalog_close(ro);
	catalog_close(b);
}

#define NPROC	4
#define NPERPROC 40

static void
test_concurrent_processes(void **state)
{
	struct fixture *fx = *state;
	struct catalog_stats st;
	struct wwerr err;
	pid_t pids[NPROC];
	int i, j, status;

	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			struct catalog *c;
			struct catalog_file f;
			char fn[64], seed[64];
			int bad = 0;

			if (catalog_open(fx->db, 0, &c, &err) == -1)
				_exit(10);
			for (j = 0; j < NPERPROC; j++) {
				/* Every process adds the shared file too. */
				if (j % 2)
					snprintf(fn, sizeof(fn), "p%d-%d.tar.gz",
					    i, j);
				else
					snprintf(fn, sizeof(fn),
					    "shared-%d.tar.gz", j);
				snprintf(seed, sizeof(seed), "%s", fn);
				mkfile(&f, j % 2 ? "proc" : "shared", "P",
				    "1.0", fn, seed);
				if (catalog_add_file(c, &f, &err) == -1) {
					fprintf(stderr, "child %d: %s\n", i,
					    err.msg);
					bad = 1;
				}
			}
			catalog_close(c);
			_exit(bad);
		}
	}
	for (i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(catalog_stats(fx->c, &st, &err), 0);
	/* NPERPROC/2 shared files once, NPERPROC/2 own files per process. */
	assert_int_equal(st.files, NPERPROC / 2 + NPROC * (NPERPROC / 2));
	assert_int_equal(st.projects, 2);
	/* Each addition bumped the global generation exactly once. */
	assert_int_equal(global_gen(fx->c), st.files);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_migrate_from_empty_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_migrations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_get_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_invalid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_generations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_yank_file_and_release,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_and_stats, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_transaction,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_processes,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
