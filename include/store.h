/*
 * store.h: the immutable file store under the data directory. Layout:
 *   DATA/files/<filename>            the distribution
 *   DATA/files/<filename>.metadata   its core metadata (PEP 658)
 *   DATA/tmp/                        staging for atomic writes
 *   DATA/catalog.sqlite              the catalog
 * Writes are temp + fsync + link/rename; an existing filename is never
 * replaced.
 */
#ifndef WW_STORE_H
#define WW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

struct store;			/* opaque; defined in store.c */

enum store_err {
	STORE_OK = 0,
	STORE_E_IO,
	STORE_E_EXISTS,		/* filename exists with different bytes */
	STORE_E_NAME,		/* filename not a safe single path component */
	STORE_E_DIGEST,		/* src does not have the expected sha256 */
};

int	 store_open(const char *datadir, struct store **out, struct wwerr *err);
void	 store_close(struct store *s);
const char *store_datadir(const struct store *s);
const char *store_tmpdir(const struct store *s);
const char *store_filesdir(const struct store *s);
/* DATA/catalog.sqlite */
const char *store_catalog_path(const struct store *s);
/*
 * 1 if name is a safe single path component for the store: 1-255 bytes,
 * no '/', '\\' or control characters, not starting with '.'.
 */
int	 store_name_ok(const char *name);
/* Absolute path of a stored file (or "X.metadata"); -1 if unsafe. */
int	 store_path(const struct store *s, const char *filename, char *out,
	    size_t outlen);

/*
 * Copy src into the store as filename (and metadata as filename.metadata
 * if metadata != NULL), atomically and without replacing anything:
 * temp file in DATA/tmp, fsync, link() to the final name, fsync the
 * directory. sha256 is the expected hex digest of src (NULL: no
 * expectation); a src that does not match it fails with STORE_E_DIGEST.
 * A src inside DATA/tmp (see store_mktemp) is linked instead of copied,
 * so the caller must not write to it afterwards.
 * Returns 0 if it created the distribution file, 1 if the file was
 * already present with identical bytes (a missing .metadata is then still
 * added), -1 error (STORE_E_EXISTS when filename or its .metadata exists
 * with different bytes; STORE_E_NAME for an unsafe or ".metadata" name).
 */
int	 store_put(struct store *s, const char *src, const char *filename,
	    const char *sha256, const void *metadata, size_t metadata_len,
	    struct wwerr *err);
/* Remove a file and its metadata (only used to undo a failed ingest). */
int	 store_remove(struct store *s, const char *filename);

/* Make a unique temp file under DATA/tmp; returns fd, path in out. */
int	 store_mktemp(struct store *s, const char *prefix, char *out,
	    size_t outlen);
/* Remove files in DATA/tmp older than min_age seconds (left by crashes);
 * returns how many were removed, -1 on error. */
int	 store_clean_tmp(struct store *s, int64_t min_age);

#endif
