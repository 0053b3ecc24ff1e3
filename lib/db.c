/* db.c: SQLite plumbing shared by catalog.c and jobs.c; see db.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

int
db_exec(const struct db_ctx *d, const char *sql, struct wwerr *err)
{
	char *msg = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		wwerr_set(err, d->code, "%s: %s", d->who,
		    msg ? msg : sqlite3_errmsg(d->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
db_fail(const struct db_ctx *d, struct wwerr *err, const char *what)
{
	return wwerr_set(err, d->code, "%s: %s: %s", d->who, what,
	    sqlite3_errmsg(d->h));
}

int
db_tx_begin(const struct db_ctx *d, struct db_tx *tx, struct wwerr *err)
{
	char sql[96];

	tx->own = sqlite3_get_autocommit(d->h) != 0;
	if (tx->own)
		return db_exec(d, "BEGIN IMMEDIATE", err);
	snprintf(sql, sizeof(sql), "SAVEPOINT %s", d->savepoint);
	return db_exec(d, sql, err);
}

void
db_tx_abort(const struct db_ctx *d, struct db_tx *tx)
{
	char sql[160];

	if (tx->own) {
		if (!sqlite3_get_autocommit(d->h))
			sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	} else {
		snprintf(sql, sizeof(sql), "ROLLBACK TO %s; RELEASE %s",
		    d->savepoint, d->savepoint);
		sqlite3_exec(d->h, sql, NULL, NULL, NULL);
	}
}

int
db_tx_commit(const struct db_ctx *d, struct db_tx *tx, struct wwerr *err)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "RELEASE %s", d->savepoint);
	if (db_exec(d, tx->own ? "COMMIT" : sql, err) == -1) {
		db_tx_abort(d, tx);
		return -1;
	}
	return 0;
}

int
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *
db_col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? strdup((const char *)s) : NULL;
}
