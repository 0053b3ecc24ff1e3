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
	/* err->code is an enum verify_err, catalog_err, store_err, or: */
	INGEST_E_DIGEST = 100,	/* expect_sha256 mismatch */
	INGEST_E_PLATFORM,	/* linux_<arch> not allowed in an index */
	INGEST_E_PROJECT,	/* not the project the token allows */
	INGEST_E_CONFLICT,	/* same filename, different bytes */
};

/* Returns enum ingest_status or -1. *result (optional) gets the verify result. */
int	 ingest_file(struct store *s, struct catalog *c, const char *path,
	    const struct ingest_opts *opts, const struct limits *lim,
	    struct verify_result **result, struct wwerr *err);

#endif
