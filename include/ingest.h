/*
 * ingest.h: the one path by which a distribution enters the index, shared
 * by indexctl import, indexd uploads and builderd: verify, store (atomic),
 * then record in the catalog in one transaction.
 */
#ifndef WW_INGEST_H
#define WW_INGEST_H

#include "catalog.h"
#include "store.h"
#include "verify.h"
#include "wwerr.h"

enum ingest_status {
	INGEST_ADDED = 0,
	INGEST_EXISTS = 1,	/* same filename and bytes: no-op */
};

struct ingest_opts {
	const char	*filename;	/* NULL: basename of path */
	const char	*origin;	/* provenance, e.g. "upload:ci-token" */
	const char	*expect_sha256;	/* NULL, or the digest the client sent */
	const char	*project;	/* NULL, or restrict to this project */
	int		 allow_linux_tag; /* accept linux_<arch> wheels */
};

enum ingest_err {
	/*
	 * err->code is an enum verify_err (< 100: the file itself is bad),
	 * or one of these; catalog and store failures are mapped here so
	 * the numeric spaces of those modules never collide with verify's.
	 */
	INGEST_E_DIGEST = 100,	/* expect_sha256 mismatch */
	INGEST_E_PLATFORM,	/* linux_<arch> not allowed in an index */
	INGEST_E_PROJECT,	/* not the project the token allows */
	INGEST_E_CONFLICT,	/* same filename, different bytes */
	INGEST_E_DB,		/* catalog (SQLite) failure: server side */
	INGEST_E_STORE,		/* file store I/O failure: server side */
};

/*
 * Verify path, then store and record it. Nothing is written unless the
 * file verifies; the store file is written before the catalog row, so an
 * interruption at any point leaves at most a stray store file (which
 * `indexctl verify` reports as unknown), never a row without its file.
 * If the catalog step fails, the file this call created is removed again,
 * but only after checking under the write lock that no row refers to it.
 * Sdists are stored without a .metadata file (their PKG-INFO may not be
 * reliable; PEP 658 metadata is served for wheels).
 * An existing row with the same bytes whose store file went missing is
 * repaired (the file is stored again) and reported as INGEST_EXISTS.
 * Returns enum ingest_status or -1. *result (optional) gets the verify
 * result when the return is not -1 (else NULL); free it with
 * verify_result_free().
 */
int	 ingest_file(struct store *s, struct catalog *c, const char *path,
	    const struct ingest_opts *opts, const struct limits *lim,
	    struct verify_result **result, struct wwerr *err);

/* Short stable name of an err->code from ingest_file ("record-hash",
 * "conflict", ...), for JSON output and logs. */
const char *ingest_err_name(int code);

#endif
