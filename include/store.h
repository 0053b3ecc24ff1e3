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
};

int	 store_open(const char *datadir, struct store **out, struct wwerr *err);
void	 store_close(struct store *s);
const char *store_datadir(const struct store *s);
const char *store_tmpdir(const struct store *s);
/* DATA/catalog.sqlite */
const char *store_catalog_path(const struct store *s);
/* Absolute path of a stored file; -1 if the name is unsafe. */
int	 store_path(const struct store *s, const char *filename, char *out,
	    size_t outlen);

/*
 * Copy src into the store as filename (and metadata as filename.metadata
 * if metadata != NULL), atomically and without replacing anything.
 * sha256 is the expected hex digest of src. Returns 0 stored, 1 already
 * present with identical bytes, -1 error (STORE_E_EXISTS on mismatch).
 */
int	 store_put(struct store *s, const char *src, const char *filename,
	    const char *sha256, const void *metadata, size_t metadata_len,
	    struct wwerr *err);
/* Remove a file and its metadata (only used to undo a failed ingest). */
int	 store_remove(struct store *s, const char *filename);

/* Make a unique temp file under DATA/tmp; returns fd, path in out. */
int	 store_mktemp(struct store *s, const char *prefix, char *out,
	    size_t outlen);

#endif
