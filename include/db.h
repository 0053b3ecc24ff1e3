/*
 * db.h: the SQLite plumbing the catalog and the job store share, so both
 * report errors and take write locks the same way: exec with a wwerr,
 * "our own IMMEDIATE transaction or a savepoint inside the caller's",
 * and NULL-aware binding and column copies.
 */
#ifndef WW_DB_H
#define WW_DB_H

#include <sqlite3.h>

#include "wwerr.h"

/* A connection as a module sees it: errors get code and "who: " first. */
struct db_ctx {
	sqlite3		*h;
	int		 code;		/* wwerr code for SQLite failures */
	const char	*who;		/* "catalog /data/catalog.sqlite", "jobs" */
	const char	*savepoint;	/* this module's savepoint name */
};

/*
 * A write of several statements. IMMEDIATE takes the lock up front, so
 * the busy handler applies; a deferred read-then-write upgrade in WAL
 * fails instead of waiting.
 */
struct db_tx {
	int	own;	/* our transaction (else a savepoint) */
};

/* sqlite3_exec; errors as "who: message". 0 / -1. */
int	 db_exec(const struct db_ctx *d, const char *sql, struct wwerr *err);
/* Always -1: err = "who: what: sqlite3_errmsg". */
int	 db_fail(const struct db_ctx *d, struct wwerr *err, const char *what);

int	 db_tx_begin(const struct db_ctx *d, struct db_tx *tx,
	    struct wwerr *err);
/* Commits (or releases); on failure rolls back and returns -1. */
int	 db_tx_commit(const struct db_ctx *d, struct db_tx *tx,
	    struct wwerr *err);
void	 db_tx_abort(const struct db_ctx *d, struct db_tx *tx);

/* Binds s, or NULL when s is NULL. */
int	 db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* A copy of column i, NULL for SQL NULL (or out of memory). */
char	*db_col_strdup(sqlite3_stmt *st, int i);

#endif
