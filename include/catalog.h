/*
 * catalog.h: the SQLite catalog shared by builderd, indexd and indexctl:
 * projects, files, tokens (and, from later migrations, build jobs).
 * Versioned migrations via PRAGMA user_version, WAL mode, busy_timeout.
 * Transactions stay short; nobody holds a write lock across network or
 * engine I/O.
 */
#ifndef WW_CATALOG_H
#define WW_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "wwerr.h"

struct catalog;			/* opaque; defined in catalog.c */

enum catalog_err {
	CATALOG_OK = 0,
	CATALOG_E_DB,		/* SQLite error */
	CATALOG_E_SCHEMA,	/* database newer than this program */
	CATALOG_E_CONFLICT,	/* same filename, different bytes */
	CATALOG_E_NOTFOUND,
	CATALOG_E_INVALID,	/* bad argument (name, scope, ...) */
};

#define CATALOG_RDONLY	0x1	/* no writes, no migrations; must exist */

/*
 * Open (creating if needed, unless CATALOG_RDONLY) and migrate to the
 * current schema. A database written by a newer program is refused with
 * CATALOG_E_SCHEMA. One connection per thread: a struct catalog and its
 * cached statements must not be shared between threads.
 */
int	 catalog_open(const char *path, int flags, struct catalog **out,
	    struct wwerr *err);
void	 catalog_close(struct catalog *c);
int	 catalog_schema_version(struct catalog *c);
/* Milliseconds a write waits for another writer (default 5000). */
void	 catalog_set_busy_timeout(struct catalog *c, int ms);

/*
 * Schema migrations of another module (e.g. builder jobs) sharing this
 * database: steps[i] takes the module from version i to i+1, each in its
 * own transaction. Versions are kept per module in the schema_modules
 * table (user_version belongs to the catalog itself). A database whose
 * module version is above nsteps is refused with CATALOG_E_SCHEMA.
 */
int	 catalog_migrate(struct catalog *c, const char *module,
	    const char *const *steps, size_t nsteps, struct wwerr *err);

/*
 * Explicit transactions for callers that group several writes. begin takes
 * the write lock at once (BEGIN IMMEDIATE), so keep them short and never
 * span network or engine I/O. Functions called inside nest as savepoints.
 */
int	 catalog_begin(struct catalog *c, struct wwerr *err);
int	 catalog_commit(struct catalog *c, struct wwerr *err);
void	 catalog_rollback(struct catalog *c);

struct catalog_file {
	int64_t	 id;
	char	*project;		/* normalized name */
	char	*project_display;	/* name as in metadata */
	char	*version;		/* normalized */
	char	*filename;
	char	 kind;			/* 'w' or 's' */
	char	*python_tag, *abi_tag, *platform_tag, *build_tag; /* wheels */
	char	 sha256[HASH_SHA256_HEXLEN];
	uint64_t size;
	char	*requires_python;	/* NULL if none */
	int	 has_metadata;
	char	 metadata_sha256[HASH_SHA256_HEXLEN];
	int64_t	 upload_time_us;	/* UTC microseconds */
	int	 yanked;
	char	*yanked_reason;		/* NULL or "" if none */
	char	*origin;		/* "import:/path", "upload:token-name",
					   "build:job-42", ... */
};

void	 catalog_file_free(struct catalog_file *f);	/* frees members */

/*
 * Record a file. Returns 0 if added, 1 if the same filename with the same
 * sha256 already exists (no-op), -1 on error (CATALOG_E_CONFLICT when the
 * same filename exists with different bytes). Creates the project if new
 * and bumps its generation.
 */
int	 catalog_add_file(struct catalog *c, const struct catalog_file *f,
	    struct wwerr *err);
/* 0 found, 1 not found, -1 error. */
int	 catalog_get_file(struct catalog *c, const char *filename,
	    struct catalog_file *out, struct wwerr *err);

/* Iterate; callbacks return 0 to continue, non-zero to stop. */
typedef int (*catalog_file_cb)(const struct catalog_file *f, void *arg);
typedef int (*catalog_project_cb)(const char *normalized, const char *display,
	    int64_t generation, void *arg);

int	 catalog_foreach_project(struct catalog *c, catalog_project_cb cb,
	    void *arg, struct wwerr *err);
/* Files of one project (normalized name), ordered by filename. */
int	 catalog_foreach_file(struct catalog *c, const char *project,
	    catalog_file_cb cb, void *arg, struct wwerr *err);
/*
 * The same files as a simple page shows them: id, version, filename,
 * kind, sha256, size, requires_python, metadata, upload time and yank
 * state are set, every other member is NULL. The strings are SQLite's
 * own, valid only during the callback: nothing is copied, so a project
 * with thousands of files costs no allocation per file.
 */
int	 catalog_foreach_page_file(struct catalog *c, const char *project,
	    catalog_file_cb cb, void *arg, struct wwerr *err);
/* Every file, ordered by id. */
int	 catalog_foreach_all_files(struct catalog *c, catalog_file_cb cb,
	    void *arg, struct wwerr *err);

/*
 * Generation counters for ETags and caches: the project's changes whenever
 * its files or yank state change; the global one whenever any project does.
 * 0 found, 1 unknown project, -1 error.
 */
int	 catalog_project_generation(struct catalog *c, const char *project,
	    int64_t *gen, char *display, size_t displaylen, struct wwerr *err);
int	 catalog_global_generation(struct catalog *c, int64_t *gen,
	    struct wwerr *err);

/*
 * Yank (reason may be NULL) or unyank by filename, or by project+version
 * (all files of that release; both normalized). Returns the number of
 * files whose state changed (0 if already so; a new reason counts as a
 * change), -1 on error (CATALOG_E_NOTFOUND if no such file or release).
 */
int	 catalog_yank_file(struct catalog *c, const char *filename, int yank,
	    const char *reason, struct wwerr *err);
int	 catalog_yank_release(struct catalog *c, const char *project,
	    const char *version, int yank, const char *reason,
	    struct wwerr *err);

struct catalog_stats {
	int64_t	projects;
	int64_t	files;
	int64_t	bytes;
};
int	 catalog_stats(struct catalog *c, struct catalog_stats *st,
	    struct wwerr *err);

/* Tokens: only a SHA-256 of the secret is stored. */
enum token_scope { TOKEN_UPLOAD = 1, TOKEN_SUBMIT = 2, TOKEN_ADMIN = 3 };

struct catalog_token {
	int64_t	 id;
	char	*name;
	enum token_scope scope;
	char	*project;	/* NULL: any project */
	int64_t	 created_us;
	int64_t	 revoked_us;	/* 0 if active */
	int64_t	 last_used_us;
};

const char *token_scope_name(enum token_scope s);
int	 token_scope_parse(const char *s, enum token_scope *out);
/*
 * Create; *secret_out (malloc'd) is the only copy of the secret:
 * "ww-" + 43 urlsafe-base64 characters (32 random bytes). Names are
 * 1-64 of [A-Za-z0-9._-] and unique forever (CATALOG_E_CONFLICT), even
 * after revocation. project (normalized) restricts the token, or NULL.
 */
int	 catalog_token_create(struct catalog *c, const char *name,
	    enum token_scope scope, const char *project, char **secret_out,
	    struct wwerr *err);
/*
 * Look up a presented secret (constant-time compare of hashes).
 * 0 found and active, 1 unknown, 2 revoked, -1 error. Records last use
 * (at most once a minute, never waiting for a busy database).
 */
int	 catalog_token_check(struct catalog *c, const char *secret,
	    struct catalog_token *out, struct wwerr *err);
/* 0 revoked, 1 already revoked, -1 error (CATALOG_E_NOTFOUND). */
int	 catalog_token_revoke(struct catalog *c, const char *name,
	    struct wwerr *err);
typedef int (*catalog_token_cb)(const struct catalog_token *t, void *arg);
int	 catalog_foreach_token(struct catalog *c, catalog_token_cb cb,
	    void *arg, struct wwerr *err);
void	 catalog_token_free(struct catalog_token *t);

/* The raw handle for modules that add their own tables via migrations
 * (jobs). Returns sqlite3 *. */
void	*catalog_db(struct catalog *c);

#endif
