/*
 * catalog.c: the SQLite catalog (see catalog.h). One connection per
 * struct catalog, WAL so readers (indexd) never wait for the writer,
 * a busy timeout so short write transactions from builderd, indexd and
 * indexctl queue up instead of failing, and statements prepared once per
 * connection. The schema evolves only by appending to catalog_migrations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "catalog.h"
#include "db.h"
#include "hash.h"
#include "util.h"

/* "WWC1": tells our database apart from any other SQLite file. */
#define CATALOG_APP_ID		0x57574331
#define CATALOG_BUSY_MS		5000
#define TOKEN_PREFIX		"ww-"
#define TOKEN_RANDOM_BYTES	32
#define TOKEN_SECRET_LEN	(3 + 43)
#define TOKEN_NAME_MAX		64
#define TOKEN_TOUCH_US		(60LL * 1000000)	/* last_used precision */

/*
 * Migration i takes the schema from user_version i to i+1. Append only:
 * never edit a step that has shipped, because databases in the field have
 * already run it.
 */
static const char *const catalog_migrations[] = {
	/* 1: projects, files, tokens, generations, module schema versions */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO meta(key, value) VALUES ('generation', 0);"
	"CREATE TABLE schema_modules ("
	"  module TEXT PRIMARY KEY,"
	"  version INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE projects ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"		/* PEP 503 normalized */
	"  display TEXT NOT NULL,"
	"  generation INTEGER NOT NULL DEFAULT 0,"
	"  created_us INTEGER NOT NULL"
	");"
	"CREATE TABLE files ("
	"  id INTEGER PRIMARY KEY,"
	"  project_id INTEGER NOT NULL REFERENCES projects(id),"
	"  filename TEXT NOT NULL UNIQUE,"
	"  version TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('w', 's')),"
	"  python_tag TEXT, abi_tag TEXT, platform_tag TEXT, build_tag TEXT,"
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
	"  size INTEGER NOT NULL CHECK (size >= 0),"
	"  requires_python TEXT,"
	"  has_metadata INTEGER NOT NULL DEFAULT 0,"
	"  metadata_sha256 TEXT,"
	"  upload_time_us INTEGER NOT NULL,"
	"  yanked INTEGER NOT NULL DEFAULT 0,"
	"  yanked_reason TEXT,"
	"  origin TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX files_by_project ON files(project_id, filename);"
	"CREATE INDEX files_by_release ON files(project_id, version);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  scope TEXT NOT NULL CHECK (scope IN ('upload', 'submit', 'admin')),"
	"  project TEXT,"
	"  created_us INTEGER NOT NULL,"
	"  revoked_us INTEGER NOT NULL DEFAULT 0,"
	"  last_used_us INTEGER NOT NULL DEFAULT 0"
	");",
};
#define CATALOG_SCHEMA	((int)WW_ARRLEN(catalog_migrations))

#define FILE_COLUMNS \
	"SELECT f.id, p.name, p.display, f.version, f.filename, f.kind," \
	" f.python_tag, f.abi_tag, f.platform_tag, f.build_tag, f.sha256," \
	" f.size, f.requires_python, f.has_metadata, f.metadata_sha256," \
	" f.upload_time_us, f.yanked, f.yanked_reason, f.origin" \
	" FROM files f JOIN projects p ON p.id = f.project_id"

#define TOKEN_COLUMNS \
	"SELECT id, name, scope, project, created_us, revoked_us," \
	" last_used_us, hash FROM tokens"

enum stmt_id {
	S_FILE_GET,
	S_FILE_EXISTING,
	S_PROJECT_INSERT,
	S_PROJECT_ID,
	S_FILE_INSERT,
	S_BUMP_GLOBAL,
	S_BUMP_PROJECT,
	S_PROJECTS_ALL,
	S_FILES_OF_PROJECT,
	S_FILES_ALL,
	S_PROJECT_GEN,
	S_GLOBAL_GEN,
	S_YANK_FILE,
	S_YANK_RELEASE,
	S_FILE_PROJECT_ID,
	S_RELEASE_EXISTS,
	S_STATS,
	S_TOKEN_INSERT,
	S_TOKEN_BY_HASH,
	S_TOKEN_TOUCH,
	S_TOKEN_REVOKE,
	S_TOKEN_STATE,
	S_TOKENS_ALL,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_FILE_GET] = FILE_COLUMNS " WHERE f.filename = ?1",
	[S_FILE_EXISTING] = "SELECT sha256, size FROM files WHERE filename = ?1",
	[S_PROJECT_INSERT] = "INSERT INTO projects(name, display, created_us)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
	[S_PROJECT_ID] = "SELECT id FROM projects WHERE name = ?1",
	[S_FILE_INSERT] = "INSERT INTO files(project_id, filename, version,"
	    " kind, python_tag, abi_tag, platform_tag, build_tag, sha256, size,"
	    " requires_python, has_metadata, metadata_sha256, upload_time_us,"
	    " yanked, yanked_reason, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
	[S_BUMP_GLOBAL] = "UPDATE meta SET value = value + 1"
	    " WHERE key = 'generation' RETURNING value",
	[S_BUMP_PROJECT] = "UPDATE projects SET generation = ?1 WHERE id = ?2",
	[S_PROJECTS_ALL] = "SELECT name, display, generation FROM projects"
	    " ORDER BY name",
	[S_FILES_OF_PROJECT] = FILE_COLUMNS
	    " WHERE p.name = ?1 ORDER BY f.filename",
	[S_FILES_ALL] = FILE_COLUMNS " ORDER BY f.id",
	[S_PROJECT_GEN] = "SELECT generation, display FROM projects"
	    " WHERE name = ?1",
	[S_GLOBAL_GEN] = "SELECT value FROM meta WHERE key = 'generation'",
	[S_YANK_FILE] = "UPDATE files SET yanked = ?1, yanked_reason = ?2"
	    " WHERE filename = ?3"
	    " AND (yanked IS NOT ?1 OR yanked_reason IS NOT ?2)"
	    " RETURNING project_id",
	[S_YANK_RELEASE] = "UPDATE files SET yanked = ?1, yanked_reason = ?2"
	    " WHERE project_id = ?3 AND version = ?4"
	    " AND (yanked IS NOT ?1 OR yanked_reason IS NOT ?2)"
	    " RETURNING project_id",
	[S_FILE_PROJECT_ID] = "SELECT project_id FROM files WHERE filename = ?1",
	[S_RELEASE_EXISTS] = "SELECT count(*) FROM files"
	    " WHERE project_id = ?1 AND version = ?2",
	[S_STATS] = "SELECT (SELECT count(*) FROM projects),"
	    " count(*), coalesce(sum(size), 0) FROM files",
	[S_TOKEN_INSERT] = "INSERT INTO tokens(name, hash, scope, project,"
	    " created_us) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TOKEN_BY_HASH] = TOKEN_COLUMNS " WHERE hash = ?1",
	[S_TOKEN_TOUCH] = "UPDATE tokens SET last_used_us = ?1 WHERE id = ?2",
	[S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_us = ?1"
	    " WHERE name = ?2 AND revoked_us = 0",
	[S_TOKEN_STATE] = "SELECT revoked_us FROM tokens WHERE name = ?1",
	[S_TOKENS_ALL] = TOKEN_COLUMNS " ORDER BY id",
};

struct catalog {
	sqlite3		*db;
	struct db_ctx	 dx;		/* db with our error prefix */
	char		*path;
	char		*who;		/* "catalog PATH", dx.who */
	int		 flags;
	int		 busy_ms;
	sqlite3_stmt	*stmts[S__COUNT];
};

/* A statement from the cache, or a private one if the cached one is in use
 * (a callback of a foreach calling back into the catalog). */
struct cstmt {
	sqlite3_stmt	*st;
	int		 owned;
};

static int
stmt_get(struct catalog *c, enum stmt_id id, struct cstmt *cs,
    struct wwerr *err)
{
	sqlite3_stmt **slot = &c->stmts[id];

	cs->owned = 0;
	if (*slot != NULL && !sqlite3_stmt_busy(*slot)) {
		cs->st = *slot;
		return 0;
	}
	if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &cs->st, NULL) != SQLITE_OK)
		return db_fail(&c->dx, err, "prepare");
	if (*slot == NULL)
		*slot = cs->st;
	else
		cs->owned = 1;
	return 0;
}

static void
stmt_done(struct cstmt *cs)
{
	if (cs->st == NULL)
		return;
	if (cs->owned)
		sqlite3_finalize(cs->st);
	else {
		sqlite3_reset(cs->st);
		sqlite3_clear_bindings(cs->st);
	}
	cs->st = NULL;
}

static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	util_strlcpy(out, s ? (const char *)s : "", outlen);
}

/* Start a write (see db_tx_begin); never on a read-only catalog. */
static int
tx_begin(struct catalog *c, struct db_tx *tx, struct wwerr *err)
{
	if (c->flags & CATALOG_RDONLY)
		return wwerr_set(err, CATALOG_E_DB,
		    "catalog %s: opened read-only", c->path);
	return db_tx_begin(&c->dx, tx, err);
}

int
catalog_begin(struct catalog *c, struct wwerr *err)
{
	if (c->flags & CATALOG_RDONLY)
		return wwerr_set(err, CATALOG_E_DB,
		    "catalog %s: opened read-only", c->path);
	if (!sqlite3_get_autocommit(c->db))
		return wwerr_set(err, CATALOG_E_INVALID,
		    "catalog %s: transaction already open", c->path);
	return db_exec(&c->dx, "BEGIN IMMEDIATE", err);
}

int
catalog_commit(struct catalog *c, struct wwerr *err)
{
	if (sqlite3_get_autocommit(c->db))
		return wwerr_set(err, CATALOG_E_INVALID,
		    "catalog %s: no transaction open", c->path);
	if (db_exec(&c->dx, "COMMIT", err) == -1) {
		catalog_rollback(c);
		return -1;
	}
	return 0;
}

void
catalog_rollback(struct catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
pragma_int(struct catalog *c, const char *sql, int *out, struct wwerr *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(&c->dx, err, sql);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(&c->dx, err, sql);
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
catalog_schema_version(struct catalog *c)
{
	int v;

	if (pragma_int(c, "PRAGMA user_version", &v, NULL) == -1)
		return -1;
	return v;
}

void
catalog_set_busy_timeout(struct catalog *c, int ms)
{
	c->busy_ms = ms;
	sqlite3_busy_timeout(c->db, ms);
}

void *
catalog_db(struct catalog *c)
{
	return c->db;
}

/* Refuse SQLite files that are not ours rather than adding tables to them. */
static int
check_identity(struct catalog *c, int version, struct wwerr *err)
{
	int appid, ntables;

	if (pragma_int(c, "PRAGMA application_id", &appid, err) == -1)
		return -1;
	if (version > 0 && appid == CATALOG_APP_ID)
		return 0;
	if (version > 0 || appid != 0)
		return wwerr_set(err, CATALOG_E_SCHEMA,
		    "catalog %s: not a Wheelwright catalog (application_id "
		    "%#x, user_version %d)", c->path, (unsigned)appid, version);
	if (pragma_int(c, "SELECT count(*) FROM sqlite_schema", &ntables,
	    err) == -1)
		return -1;
	if (ntables != 0)
		return wwerr_set(err, CATALOG_E_SCHEMA,
		    "catalog %s: not a Wheelwright catalog (has other tables)",
		    c->path);
	return 0;
}

static int
migrate(struct catalog *c, struct wwerr *err)
{
	char sql[64];
	int v;

	if (pragma_int(c, "PRAGMA user_version", &v, err) == -1)
		return -1;
	if (check_identity(c, v, err) == -1)
		return -1;
	if (v > CATALOG_SCHEMA)
		goto newer;
	if (v < CATALOG_SCHEMA && (c->flags & CATALOG_RDONLY))
		return wwerr_set(err, CATALOG_E_SCHEMA, "catalog %s: schema "
		    "version %d needs migrating to %d; open it read-write once",
		    c->path, v, CATALOG_SCHEMA);
	while (v < CATALOG_SCHEMA) {
		if (db_exec(&c->dx, "BEGIN IMMEDIATE", err) == -1)
			return -1;
		/* Another process may have migrated while we waited. */
		if (pragma_int(c, "PRAGMA user_version", &v, err) == -1)
			goto fail;
		if (v >= CATALOG_SCHEMA) {
			catalog_rollback(c);
			break;
		}
		if (db_exec(&c->dx, catalog_migrations[v], err) == -1) {
			wwerr_prefix(err, "migration %d", v + 1);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (db_exec(&c->dx, sql, err) == -1)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
		    CATALOG_APP_ID);
		if (db_exec(&c->dx, sql, err) == -1 ||
		    db_exec(&c->dx, "COMMIT", err) == -1)
			goto fail;
		v++;
	}
	if (v > CATALOG_SCHEMA)
		goto newer;
	return 0;
newer:
	return wwerr_set(err, CATALOG_E_SCHEMA, "catalog %s: schema version %d "
	    "is newer than this program's %d; upgrade Wheelwright", c->path, v,
	    CATALOG_SCHEMA);
fail:
	catalog_rollback(c);
	return -1;
}

int
catalog_open(const char *path, int flags, struct catalog **out,
    struct wwerr *err)
{
	struct catalog *c;
	int oflags, rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL ||
	    asprintf(&c->who, "catalog %s", path) == -1) {
		if (c != NULL)
			free(c->path);
		free(c);
		return wwerr_set(err, CATALOG_E_DB, "catalog %s: out of memory",
		    path);
	}
	c->dx.code = CATALOG_E_DB;
	c->dx.who = c->who;
	c->dx.savepoint = "catalog_sp";
	c->flags = flags;
	oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	if (flags & CATALOG_RDONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &c->db, oflags, NULL);
	c->dx.h = c->db;
	if (rc != SQLITE_OK) {
		if (c->db == NULL)
			wwerr_set(err, CATALOG_E_DB, "catalog %s: cannot open",
			    path);
		else
			db_fail(&c->dx, err, "open");
		goto fail;
	}
	c->busy_ms = CATALOG_BUSY_MS;
	sqlite3_busy_timeout(c->db, c->busy_ms);
	sqlite3_extended_result_codes(c->db, 1);
	if (db_exec(&c->dx, "PRAGMA foreign_keys = ON", err) == -1)
		goto fail;
	if (!(flags & CATALOG_RDONLY)) {
		/* FULL: a commit that a client was told about survives power
		 * loss; writes are rare (imports, uploads, builds). */
		if (db_exec(&c->dx, "PRAGMA journal_mode = WAL", err) == -1 ||
		    db_exec(&c->dx, "PRAGMA synchronous = FULL", err) == -1)
			goto fail;
	} else if (db_exec(&c->dx, "PRAGMA query_only = ON", err) == -1)
		goto fail;
	if (migrate(c, err) == -1)
		goto fail;
	*out = c;
	return 0;
fail:
	catalog_close(c);
	return -1;
}

void
catalog_close(struct catalog *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	sqlite3_close(c->db);
	free(c->path);
	free(c->who);
	free(c);
}

int
catalog_migrate(struct catalog *c, const char *module,
    const char *const *steps, size_t nsteps, struct wwerr *err)
{
	sqlite3_stmt *get = NULL, *set = NULL;
	int64_t v;
	int rc;

	if (module == NULL || *module == '\0')
		return wwerr_set(err, CATALOG_E_INVALID, "catalog_migrate: "
		    "no module name");
	if (sqlite3_prepare_v2(c->db, "SELECT version FROM schema_modules"
	    " WHERE module = ?1", -1, &get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT INTO schema_modules(module,"
	    " version) VALUES (?1, ?2) ON CONFLICT(module) DO UPDATE"
	    " SET version = excluded.version", -1, &set, NULL) != SQLITE_OK) {
		db_fail(&c->dx, err, "prepare");
		goto fail;
	}
	for (;;) {
		if (!(c->flags & CATALOG_RDONLY) &&
		    db_exec(&c->dx, "BEGIN IMMEDIATE", err) == -1)
			goto fail;
		sqlite3_bind_text(get, 1, module, -1, SQLITE_STATIC);
		rc = sqlite3_step(get);
		if (rc == SQLITE_ROW)
			v = sqlite3_column_int64(get, 0);
		else if (rc == SQLITE_DONE)
			v = 0;
		else {
			db_fail(&c->dx, err, module);
			goto fail;
		}
		sqlite3_reset(get);
		if (v > (int64_t)nsteps) {
			wwerr_set(err, CATALOG_E_SCHEMA, "catalog %s: %s schema "
			    "version %lld is newer than this program's %zu; "
			    "upgrade Wheelwright", c->path, module,
			    (long long)v, nsteps);
			goto fail;
		}
		if (v == (int64_t)nsteps)
			break;
		if (c->flags & CATALOG_RDONLY) {
			wwerr_set(err, CATALOG_E_SCHEMA, "catalog %s: %s schema "
			    "needs migrating; open it read-write once", c->path,
			    module);
			goto fail;
		}
		if (db_exec(&c->dx, steps[v], err) == -1) {
			wwerr_prefix(err, "%s migration %lld", module,
			    (long long)v + 1);
			goto fail;
		}
		sqlite3_bind_text(set, 1, module, -1, SQLITE_STATIC);
		sqlite3_bind_int64(set, 2, v + 1);
		rc = sqlite3_step(set);
		sqlite3_reset(set);
		if (rc != SQLITE_DONE) {
			db_fail(&c->dx, err, module);
			goto fail;
		}
		if (db_exec(&c->dx, "COMMIT", err) == -1)
			goto fail;
	}
	if (!(c->flags & CATALOG_RDONLY))
		catalog_rollback(c);
	sqlite3_finalize(get);
	sqlite3_finalize(set);
	return 0;
fail:
	catalog_rollback(c);
	sqlite3_finalize(get);
	sqlite3_finalize(set);
	return -1;
}

/* --- validation ------------------------------------------------------ */

/* Normalized PEP 503 name: [a-z0-9] runs joined by single '-'. */
static int
valid_normalized(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '-' && i > 0 && i + 1 < n && s[i - 1] != '-')
			continue;
		return 0;
	}
	return 1;
}

static int
valid_filename(const char *s)
{
	size_t n;
	const unsigned char *p;

	if (s == NULL || (n = strlen(s)) == 0 || n > 255 || s[0] == '.')
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
valid_text(const char *s, size_t max)
{
	size_t n;

	return s != NULL && (n = strlen(s)) > 0 && n <= max;
}

static int
valid_token_name(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > TOKEN_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* --- files ----------------------------------------------------------- */

void
catalog_file_free(struct catalog_file *f)
{
	if (f == NULL)
		return;
	free(f->project);
	free(f->project_display);
	free(f->version);
	free(f->filename);
	free(f->python_tag);
	free(f->abi_tag);
	free(f->platform_tag);
	free(f->build_tag);
	free(f->requires_python);
	free(f->yanked_reason);
	free(f->origin);
	memset(f, 0, sizeof(*f));
}

static int
row_to_file(sqlite3_stmt *st, struct catalog_file *f)
{
	const unsigned char *k;

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(st, 0);
	f->project = db_col_strdup(st, 1);
	f->project_display = db_col_strdup(st, 2);
	f->version = db_col_strdup(st, 3);
	f->filename = db_col_strdup(st, 4);
	k = sqlite3_column_text(st, 5);
	f->kind = k ? (char)k[0] : 0;
	f->python_tag = db_col_strdup(st, 6);
	f->abi_tag = db_col_strdup(st, 7);
	f->platform_tag = db_col_strdup(st, 8);
	f->build_tag = db_col_strdup(st, 9);
	col_copy(st, 10, f->sha256, sizeof(f->sha256));
	f->size = (uint64_t)sqlite3_column_int64(st, 11);
	f->requires_python = db_col_strdup(st, 12);
	f->has_metadata = sqlite3_column_int(st, 13);
	col_copy(st, 14, f->metadata_sha256, sizeof(f->metadata_sha256));
	f->upload_time_us = sqlite3_column_int64(st, 15);
	f->yanked = sqlite3_column_int(st, 16);
	f->yanked_reason = db_col_strdup(st, 17);
	f->origin = db_col_strdup(st, 18);
	if (f->project == NULL || f->project_display == NULL ||
	    f->version == NULL || f->filename == NULL || f->origin == NULL ||
	    (sqlite3_column_type(st, 17) != SQLITE_NULL &&
	    f->yanked_reason == NULL)) {
		catalog_file_free(f);
		return -1;
	}
	return 0;
}

/* Bump the global generation and stamp it on the project, so project
 * generations are unique and increase with every change anywhere. */
static int
bump(struct catalog *c, int64_t project_id, struct wwerr *err)
{
	struct cstmt g = { 0 }, p = { 0 };
	int64_t gen;

	if (stmt_get(c, S_BUMP_GLOBAL, &g, err) == -1)
		return -1;
	if (sqlite3_step(g.st) != SQLITE_ROW) {
		db_fail(&c->dx, err, "generation");
		goto fail;
	}
	gen = sqlite3_column_int64(g.st, 0);
	/* Step to completion so the RETURNING statement finishes. */
	while (sqlite3_step(g.st) == SQLITE_ROW)
		;
	stmt_done(&g);
	if (stmt_get(c, S_BUMP_PROJECT, &p, err) == -1)
		goto fail;
	sqlite3_bind_int64(p.st, 1, gen);
	sqlite3_bind_int64(p.st, 2, project_id);
	if (sqlite3_step(p.st) != SQLITE_DONE) {
		db_fail(&c->dx, err, "project generation");
		goto fail;
	}
	stmt_done(&p);
	return 0;
fail:
	stmt_done(&g);
	stmt_done(&p);
	return -1;
}

static int
project_id(struct catalog *c, const char *name, int64_t *id,
    struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	if (stmt_get(c, S_PROJECT_ID, &s, err) == -1)
		return -1;
	db_bind_text(s.st, 1, name);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s.st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(&c->dx, err, "project lookup");
	stmt_done(&s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int
check_file(const struct catalog_file *f, struct wwerr *err)
{
	const char *what = NULL;

	if (!valid_filename(f->filename))
		what = "filename";
	else if (!valid_normalized(f->project))
		what = "project (not a normalized name)";
	else if (!valid_text(f->project_display, 200))
		what = "project display name";
	else if (!valid_text(f->version, 256))
		what = "version";
	else if (f->kind != 'w' && f->kind != 's')
		what = "kind";
	else if (!hash_is_hex64(f->sha256))
		what = "sha256";
	else if (f->size > INT64_MAX)
		what = "size";
	else if (f->has_metadata && !hash_is_hex64(f->metadata_sha256))
		what = "metadata sha256";
	else if (f->kind == 'w' && (!valid_text(f->python_tag, 255) ||
	    !valid_text(f->abi_tag, 255) || !valid_text(f->platform_tag, 255)))
		what = "wheel tags";
	if (what == NULL)
		return 0;
	return wwerr_set(err, CATALOG_E_INVALID, "catalog: %s: invalid %s",
	    f->filename ? f->filename : "(null)", what);
}

int
catalog_add_file(struct catalog *c, const struct catalog_file *f,
    struct wwerr *err)
{
	struct cstmt s = { 0 };
	struct db_tx tx;
	int64_t pid;
	const char *reason;
	int rc;

	if (check_file(f, err) == -1)
		return -1;
	if (tx_begin(c, &tx, err) == -1)
		return -1;

	if (stmt_get(c, S_FILE_EXISTING, &s, err) == -1)
		goto fail;
	db_bind_text(s.st, 1, f->filename);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		const char *have = (const char *)sqlite3_column_text(s.st, 0);

		if (have != NULL && strcmp(have, f->sha256) == 0 &&
		    (uint64_t)sqlite3_column_int64(s.st, 1) == f->size) {
			stmt_done(&s);
			db_tx_abort(&c->dx, &tx);
			return 1;
		}
		wwerr_set(err, CATALOG_E_CONFLICT, "%s already exists with "
		    "different contents (sha256 %s, not %s)", f->filename,
		    have ? have : "?", f->sha256);
		goto fail;
	} else if (rc != SQLITE_DONE) {
		db_fail(&c->dx, err, f->filename);
		goto fail;
	}
	stmt_done(&s);

	if (stmt_get(c, S_PROJECT_INSERT, &s, err) == -1)
		goto fail;
	db_bind_text(s.st, 1, f->project);
	db_bind_text(s.st, 2, f->project_display);
	sqlite3_bind_int64(s.st, 3, util_now_us());
	if (sqlite3_step(s.st) != SQLITE_DONE) {
		db_fail(&c->dx, err, f->project);
		goto fail;
	}
	stmt_done(&s);
	if ((rc = project_id(c, f->project, &pid, err)) != 0) {
		if (rc == 1)
			wwerr_set(err, CATALOG_E_DB, "catalog %s: project %s "
			    "vanished", c->path, f->project);
		goto fail;
	}

	if (stmt_get(c, S_FILE_INSERT, &s, err) == -1)
		goto fail;
	reason = f->yanked && f->yanked_reason && *f->yanked_reason ?
	    f->yanked_reason : NULL;
	sqlite3_bind_int64(s.st, 1, pid);
	db_bind_text(s.st, 2, f->filename);
	db_bind_text(s.st, 3, f->version);
	db_bind_text(s.st, 4, f->kind == 'w' ? "w" : "s");
	db_bind_text(s.st, 5, f->kind == 'w' ? f->python_tag : NULL);
	db_bind_text(s.st, 6, f->kind == 'w' ? f->abi_tag : NULL);
	db_bind_text(s.st, 7, f->kind == 'w' ? f->platform_tag : NULL);
	db_bind_text(s.st, 8, f->kind == 'w' && f->build_tag && *f->build_tag ?
	    f->build_tag : NULL);
	db_bind_text(s.st, 9, f->sha256);
	sqlite3_bind_int64(s.st, 10, (int64_t)f->size);
	db_bind_text(s.st, 11, f->requires_python);
	sqlite3_bind_int(s.st, 12, f->has_metadata ? 1 : 0);
	db_bind_text(s.st, 13, f->has_metadata ? f->metadata_sha256 : NULL);
	sqlite3_bind_int64(s.st, 14, f->upload_time_us ? f->upload_time_us :
	    util_now_us());
	sqlite3_bind_int(s.st, 15, f->yanked ? 1 : 0);
	db_bind_text(s.st, 16, reason);
	db_bind_text(s.st, 17, f->origin ? f->origin : "");
	if (sqlite3_step(s.st) != SQLITE_DONE) {
		db_fail(&c->dx, err, f->filename);
		goto fail;
	}
	stmt_done(&s);
	if (bump(c, pid, err) == -1)
		goto fail;
	return db_tx_commit(&c->dx, &tx, err);
fail:
	stmt_done(&s);
	db_tx_abort(&c->dx, &tx);
	return -1;
}

int
catalog_get_file(struct catalog *c, const char *filename,
    struct catalog_file *out, struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc, ret;

	memset(out, 0, sizeof(*out));
	if (stmt_get(c, S_FILE_GET, &s, err) == -1)
		return -1;
	db_bind_text(s.st, 1, filename);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		ret = 0;
		if (row_to_file(s.st, out) == -1)
			ret = wwerr_set(err, CATALOG_E_DB, "%s: out of memory",
			    filename);
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		ret = db_fail(&c->dx, err, filename);
	stmt_done(&s);
	return ret;
}

static int
foreach_files(struct catalog *c, enum stmt_id id, const char *project,
    catalog_file_cb cb, void *arg, struct wwerr *err)
{
	struct cstmt s = { 0 };
	struct catalog_file f;
	int rc, stop;

	if (stmt_get(c, id, &s, err) == -1)
		return -1;
	if (project != NULL)
		db_bind_text(s.st, 1, project);
	while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
		if (row_to_file(s.st, &f) == -1) {
			stmt_done(&s);
			return wwerr_set(err, CATALOG_E_DB, "catalog: out of "
			    "memory");
		}
		stop = cb(&f, arg);
		catalog_file_free(&f);
		if (stop) {
			stmt_done(&s);
			return 0;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(&c->dx, err, "file list");
	stmt_done(&s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
catalog_foreach_file(struct catalog *c, const char *project,
    catalog_file_cb cb, void *arg, struct wwerr *err)
{
	return foreach_files(c, S_FILES_OF_PROJECT, project, cb, arg, err);
}

int
catalog_foreach_all_files(struct catalog *c, catalog_file_cb cb, void *arg,
    struct wwerr *err)
{
	return foreach_files(c, S_FILES_ALL, NULL, cb, arg, err);
}

int
catalog_foreach_project(struct catalog *c, catalog_project_cb cb, void *arg,
    struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	if (stmt_get(c, S_PROJECTS_ALL, &s, err) == -1)
		return -1;
	while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
		if (cb((const char *)sqlite3_column_text(s.st, 0),
		    (const char *)sqlite3_column_text(s.st, 1),
		    sqlite3_column_int64(s.st, 2), arg)) {
			stmt_done(&s);
			return 0;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(&c->dx, err, "project list");
	stmt_done(&s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
catalog_project_generation(struct catalog *c, const char *project,
    int64_t *gen, char *display, size_t displaylen, struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	if (stmt_get(c, S_PROJECT_GEN, &s, err) == -1)
		return -1;
	db_bind_text(s.st, 1, project);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		*gen = sqlite3_column_int64(s.st, 0);
		if (display != NULL && displaylen > 0)
			col_copy(s.st, 1, display, displaylen);
	} else if (rc != SQLITE_DONE)
		db_fail(&c->dx, err, project);
	stmt_done(&s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int
catalog_global_generation(struct catalog *c, int64_t *gen, struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	if (stmt_get(c, S_GLOBAL_GEN, &s, err) == -1)
		return -1;
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW)
		*gen = sqlite3_column_int64(s.st, 0);
	else
		db_fail(&c->dx, err, "generation");
	stmt_done(&s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Run a yank UPDATE ... RETURNING project_id; bump if anything changed. */
static int
yank_apply(struct catalog *c, struct cstmt *s, int64_t pid, const char *what,
    struct wwerr *err)
{
	int rc, n = 0;

	while ((rc = sqlite3_step(s->st)) == SQLITE_ROW) {
		pid = sqlite3_column_int64(s->st, 0);
		n++;
	}
	if (rc != SQLITE_DONE)
		return db_fail(&c->dx, err, what);
	stmt_done(s);
	if (n > 0 && bump(c, pid, err) == -1)
		return -1;
	return n;
}

int
catalog_yank_file(struct catalog *c, const char *filename, int yank,
    const char *reason, struct wwerr *err)
{
	struct cstmt s = { 0 };
	struct db_tx tx;
	int rc, n;

	if (!valid_filename(filename))
		return wwerr_set(err, CATALOG_E_INVALID, "invalid filename "
		    "\"%s\"", filename ? filename : "");
	if (tx_begin(c, &tx, err) == -1)
		return -1;
	if (stmt_get(c, S_FILE_PROJECT_ID, &s, err) == -1)
		goto fail;
	db_bind_text(s.st, 1, filename);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_DONE) {
		wwerr_set(err, CATALOG_E_NOTFOUND, "%s: no such file in the "
		    "catalog", filename);
		goto fail;
	} else if (rc != SQLITE_ROW) {
		db_fail(&c->dx, err, filename);
		goto fail;
	}
	stmt_done(&s);
	if (stmt_get(c, S_YANK_FILE, &s, err) == -1)
		goto fail;
	sqlite3_bind_int(s.st, 1, yank ? 1 : 0);
	db_bind_text(s.st, 2, yank && reason && *reason ? reason : NULL);
	db_bind_text(s.st, 3, filename);
	if ((n = yank_apply(c, &s, 0, filename, err)) == -1)
		goto fail;
	if (db_tx_commit(&c->dx, &tx, err) == -1)
		return -1;
	return n;
fail:
	stmt_done(&s);
	db_tx_abort(&c->dx, &tx);
	return -1;
}

int
catalog_yank_release(struct catalog *c, const char *project,
    const char *version, int yank, const char *reason, struct wwerr *err)
{
	struct cstmt s = { 0 };
	struct db_tx tx;
	int64_t pid;
	int rc, n;

	if (!valid_normalized(project) || !valid_text(version, 256))
		return wwerr_set(err, CATALOG_E_INVALID, "invalid release "
		    "\"%s==%s\"", project ? project : "",
		    version ? version : "");
	if (tx_begin(c, &tx, err) == -1)
		return -1;
	if ((rc = project_id(c, project, &pid, err)) == -1)
		goto fail;
	if (rc == 1)
		goto notfound;
	if (stmt_get(c, S_RELEASE_EXISTS, &s, err) == -1)
		goto fail;
	sqlite3_bind_int64(s.st, 1, pid);
	db_bind_text(s.st, 2, version);
	if (sqlite3_step(s.st) != SQLITE_ROW) {
		db_fail(&c->dx, err, project);
		goto fail;
	}
	if (sqlite3_column_int64(s.st, 0) == 0)
		goto notfound;
	stmt_done(&s);
	if (stmt_get(c, S_YANK_RELEASE, &s, err) == -1)
		goto fail;
	sqlite3_bind_int(s.st, 1, yank ? 1 : 0);
	db_bind_text(s.st, 2, yank && reason && *reason ? reason : NULL);
	sqlite3_bind_int64(s.st, 3, pid);
	db_bind_text(s.st, 4, version);
	if ((n = yank_apply(c, &s, pid, project, err)) == -1)
		goto fail;
	if (db_tx_commit(&c->dx, &tx, err) == -1)
		return -1;
	return n;
notfound:
	wwerr_set(err, CATALOG_E_NOTFOUND, "%s==%s: no such release in the "
	    "catalog", project, version);
fail:
	stmt_done(&s);
	db_tx_abort(&c->dx, &tx);
	return -1;
}

int
catalog_stats(struct catalog *c, struct catalog_stats *st, struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	if (stmt_get(c, S_STATS, &s, err) == -1)
		return -1;
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_ROW) {
		st->projects = sqlite3_column_int64(s.st, 0);
		st->files = sqlite3_column_int64(s.st, 1);
		st->bytes = sqlite3_column_int64(s.st, 2);
	} else
		db_fail(&c->dx, err, "stats");
	stmt_done(&s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* --- tokens ---------------------------------------------------------- */

const char *
token_scope_name(enum token_scope s)
{
	switch (s) {
	case TOKEN_UPLOAD:
		return "upload";
	case TOKEN_SUBMIT:
		return "submit";
	case TOKEN_ADMIN:
		return "admin";
	}
	return "unknown";
}

int
token_scope_parse(const char *s, enum token_scope *out)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "upload") == 0)
		*out = TOKEN_UPLOAD;
	else if (strcmp(s, "submit") == 0)
		*out = TOKEN_SUBMIT;
	else if (strcmp(s, "admin") == 0)
		*out = TOKEN_ADMIN;
	else
		return -1;
	return 0;
}

void
catalog_token_free(struct catalog_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->project);
	memset(t, 0, sizeof(*t));
}

static int
row_to_token(sqlite3_stmt *st, struct catalog_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	t->name = db_col_strdup(st, 1);
	if (token_scope_parse((const char *)sqlite3_column_text(st, 2),
	    &t->scope) == -1)
		t->scope = 0;
	t->project = db_col_strdup(st, 3);
	t->created_us = sqlite3_column_int64(st, 4);
	t->revoked_us = sqlite3_column_int64(st, 5);
	t->last_used_us = sqlite3_column_int64(st, 6);
	if (t->name == NULL || (sqlite3_column_type(st, 3) != SQLITE_NULL &&
	    t->project == NULL)) {
		catalog_token_free(t);
		return -1;
	}
	return 0;
}

int
catalog_token_create(struct catalog *c, const char *name,
    enum token_scope scope, const char *project, char **secret_out,
    struct wwerr *err)
{
	unsigned char rnd[TOKEN_RANDOM_BYTES], digest[HASH_SHA256_LEN];
	char b64[4 * ((TOKEN_RANDOM_BYTES + 2) / 3) + 1];
	char *secret = NULL;
	struct cstmt s = { 0 };
	int rc;

	*secret_out = NULL;
	if (!valid_token_name(name))
		return wwerr_set(err, CATALOG_E_INVALID, "invalid token name "
		    "\"%s\": use 1-%d of A-Z a-z 0-9 . _ -", name ? name : "",
		    TOKEN_NAME_MAX);
	if (scope != TOKEN_UPLOAD && scope != TOKEN_SUBMIT &&
	    scope != TOKEN_ADMIN)
		return wwerr_set(err, CATALOG_E_INVALID, "invalid token scope "
		    "%d", (int)scope);
	if (project != NULL && !valid_normalized(project))
		return wwerr_set(err, CATALOG_E_INVALID, "invalid project "
		    "\"%s\" for token %s (not a normalized name)", project,
		    name);
	if (c->flags & CATALOG_RDONLY)
		return wwerr_set(err, CATALOG_E_DB, "catalog %s: opened "
		    "read-only", c->path);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return wwerr_set(err, CATALOG_E_DB, "token %s: no randomness "
		    "from OpenSSL", name);
	hash_b64url(rnd, sizeof(rnd), b64);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if ((secret = malloc(TOKEN_SECRET_LEN + 1)) == NULL)
		return wwerr_set(err, CATALOG_E_DB, "out of memory");
	snprintf(secret, TOKEN_SECRET_LEN + 1, "%s%s", TOKEN_PREFIX, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	if (hash_sha256_mem(secret, strlen(secret), digest) == -1) {
		wwerr_set(err, CATALOG_E_DB, "token %s: sha256 failed", name);
		goto fail;
	}
	if (stmt_get(c, S_TOKEN_INSERT, &s, err) == -1)
		goto fail;
	db_bind_text(s.st, 1, name);
	sqlite3_bind_blob(s.st, 2, digest, sizeof(digest), SQLITE_TRANSIENT);
	db_bind_text(s.st, 3, token_scope_name(scope));
	db_bind_text(s.st, 4, project);
	sqlite3_bind_int64(s.st, 5, util_now_us());
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		wwerr_set(err, CATALOG_E_CONFLICT, "a token named %s already "
		    "exists (names are never reused, even after revocation)",
		    name);
		goto fail;
	} else if (rc != SQLITE_DONE) {
		db_fail(&c->dx, err, name);
		goto fail;
	}
	stmt_done(&s);
	*secret_out = secret;
	return 0;
fail:
	stmt_done(&s);
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	return -1;
}

int
catalog_token_check(struct catalog *c, const char *secret,
    struct catalog_token *out, struct wwerr *err)
{
	unsigned char digest[HASH_SHA256_LEN];
	struct catalog_token t;
	struct cstmt s = { 0 };
	const void *stored;
	int rc, ret;
	int64_t now;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (secret == NULL || strlen(secret) != TOKEN_SECRET_LEN ||
	    strncmp(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return 1;
	if (hash_sha256_mem(secret, TOKEN_SECRET_LEN, digest) == -1)
		return wwerr_set(err, CATALOG_E_DB, "token: sha256 failed");
	/*
	 * The index lookup is on the hash, which an attacker cannot steer
	 * byte by byte, so its timing reveals nothing about stored secrets;
	 * the final comparison is constant-time all the same.
	 */
	if (stmt_get(c, S_TOKEN_BY_HASH, &s, err) == -1)
		return -1;
	sqlite3_bind_blob(s.st, 1, digest, sizeof(digest), SQLITE_TRANSIENT);
	rc = sqlite3_step(s.st);
	if (rc == SQLITE_DONE) {
		stmt_done(&s);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		db_fail(&c->dx, err, "token lookup");
		stmt_done(&s);
		return -1;
	}
	stored = sqlite3_column_blob(s.st, 7);
	if (stored == NULL || sqlite3_column_bytes(s.st, 7) != HASH_SHA256_LEN ||
	    util_ct_memcmp(stored, digest, HASH_SHA256_LEN) != 0) {
		stmt_done(&s);
		return 1;
	}
	if (row_to_token(s.st, &t) == -1) {
		stmt_done(&s);
		return wwerr_set(err, CATALOG_E_DB, "token: out of memory");
	}
	stmt_done(&s);
	ret = t.revoked_us != 0 ? 2 : 0;
	now = util_now_us();
	if (ret == 0 && !(c->flags & CATALOG_RDONLY) &&
	    now - t.last_used_us >= TOKEN_TOUCH_US) {
		/*
		 * Best effort, and never waiting: indexd checks tokens on its
		 * event loop, and a busy database must neither stall it nor
		 * refuse a good token. Throttled to keep writes rare.
		 */
		sqlite3_busy_timeout(c->db, 0);
		if (stmt_get(c, S_TOKEN_TOUCH, &s, NULL) == 0) {
			sqlite3_bind_int64(s.st, 1, now);
			sqlite3_bind_int64(s.st, 2, t.id);
			if (sqlite3_step(s.st) == SQLITE_DONE)
				t.last_used_us = now;
			stmt_done(&s);
		}
		sqlite3_busy_timeout(c->db, c->busy_ms);
	}
	if (out != NULL)
		*out = t;
	else
		catalog_token_free(&t);
	return ret;
}

int
catalog_token_revoke(struct catalog *c, const char *name, struct wwerr *err)
{
	struct cstmt s = { 0 };
	int rc;

	if (!valid_token_name(name))
		return wwerr_set(err, CATALOG_E_INVALID, "invalid token name "
		    "\"%s\"", name ? name : "");
	if (c->flags & CATALOG_RDONLY)
		return wwerr_set(err, CATALOG_E_DB, "catalog %s: opened "
		    "read-only", c->path);
	if (stmt_get(c, S_TOKEN_REVOKE, &s, err) == -1)
		return -1;
	sqlite3_bind_int64(s.st, 1, util_now_us());
	db_bind_text(s.st, 2, name);
	rc = sqlite3_step(s.st);
	stmt_done(&s);
	if (rc != SQLITE_DONE)
		return db_fail(&c->dx, err, name);
	if (sqlite3_changes(c->db) > 0)
		return 0;
	if (stmt_get(c, S_TOKEN_STATE, &s, err) == -1)
		return -1;
	db_bind_text(s.st, 1, name);
	rc = sqlite3_step(s.st);
	stmt_done(&s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return wwerr_set(err, CATALOG_E_NOTFOUND, "no token named %s",
		    name);
	return db_fail(&c->dx, err, name);
}

int
catalog_foreach_token(struct catalog *c, catalog_token_cb cb, void *arg,
    struct wwerr *err)
{
	struct cstmt s = { 0 };
	struct catalog_token t;
	int rc, stop;

	if (stmt_get(c, S_TOKENS_ALL, &s, err) == -1)
		return -1;
	while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
		if (row_to_token(s.st, &t) == -1) {
			stmt_done(&s);
			return wwerr_set(err, CATALOG_E_DB, "out of memory");
		}
		stop = cb(&t, arg);
		catalog_token_free(&t);
		if (stop)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_fail(&c->dx, err, "token list");
	stmt_done(&s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}
