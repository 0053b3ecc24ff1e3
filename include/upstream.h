/*
 * upstream.h: the indexes builderd takes sdists (and wheels) from, in
 * priority order: PyPI-style simple repositories spoken to as PEP 691 JSON
 * with a fallback to PEP 503 HTML, through libcurl; or "dir:/path", a
 * local directory of sdists and wheels (flat, or one subdirectory per
 * project) for air-gapped sites.
 *
 * Project pages are cached on disk (CACHEDIR/NAME/PROJECT.{body,meta}):
 * within the page's Cache-Control max-age no request is made; after it a
 * conditional request (If-None-Match) revalidates; if the index cannot be
 * reached the stale copy is used. Every response has a size bound and
 * every request a timeout; transient failures (connection errors, 429,
 * 5xx) are retried with exponential backoff. Everything an index sends is
 * hostile: URLs are resolved with CURLU and must stay http(s), filenames
 * must parse as this project's wheels or sdists, hashes must be 64 hex.
 *
 * A struct upstream holds one libcurl handle: one per thread.
 */
#ifndef WW_UPSTREAM_H
#define WW_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "wwerr.h"

struct config;
struct config_upstream;

enum upstream_err {
	UPSTREAM_OK = 0,
	UPSTREAM_E_ARG,		/* bad argument or configuration */
	UPSTREAM_E_UNREACHABLE,	/* connect/DNS/TLS/timeout, after retries */
	UPSTREAM_E_HTTP,	/* unexpected HTTP status */
	UPSTREAM_E_TOOBIG,	/* response or file over its size bound */
	UPSTREAM_E_PARSE,	/* malformed page */
	UPSTREAM_E_IO,		/* local file or cache I/O */
	UPSTREAM_E_DIGEST,	/* downloaded bytes do not match the hash */
	UPSTREAM_E_NOTFOUND,	/* no such file (download) */
	UPSTREAM_E_NOMEM,
};

enum upstream_format {
	UPSTREAM_FMT_JSON = 1,	/* PEP 691 */
	UPSTREAM_FMT_HTML,	/* PEP 503 */
	UPSTREAM_FMT_DIR,	/* dir: upstream */
};

/* How a page was obtained. */
enum upstream_source {
	UPSTREAM_FETCHED = 1,	/* 200 from the index */
	UPSTREAM_REVALIDATED,	/* 304: the cached body is current */
	UPSTREAM_CACHED,	/* fresh by max-age: no request made */
	UPSTREAM_STALE,		/* index unreachable: old cached copy */
	UPSTREAM_LOCAL,		/* dir: upstream */
};

struct upstream_file {
	char	*filename;	/* a validated wheel or sdist filename */
	char	*url;		/* absolute http(s) URL, or a path (dir:) */
	char	 kind;		/* 'w' wheel or 's' sdist */
	char	*version;	/* PEP 440 normalized, from the filename */
	char	 sha256[HASH_SHA256_HEXLEN];	/* "" if unknown */
	char	*requires_python;	/* unescaped; NULL if none */
	int	 yanked;
	char	*yanked_reason;	/* NULL if none given */
	int	 has_metadata;	/* PEP 658/714 .metadata available */
	char	 metadata_sha256[HASH_SHA256_HEXLEN]; /* "" if unknown */
	int64_t	 size;		/* bytes, -1 if unknown */
};

struct upstream_page {
	char			*project;	/* normalized */
	char			*upstream;	/* name of the index that answered */
	enum upstream_format	 format;
	enum upstream_source	 source;
	struct upstream_file	*files;
	size_t			 nfiles;
	size_t			 nskipped;	/* links that were not ours */
};

void	 upstream_page_free(struct upstream_page *p);

/*
 * Parsers (also used by the fuzzers). page_url is the absolute URL the
 * body came from (relative links resolve against it, or against an HTML
 * <base href>). Files that are not wheels/sdists of project, or whose URL
 * is not http(s), are skipped and counted. -1 (UPSTREAM_E_PARSE) only
 * for pages that are not valid JSON / PEP 691 at all, or exceed bounds.
 */
#define UPSTREAM_MAX_FILES	200000
int	 upstream_parse_json(const char *project, const char *page_url,
	    const char *body, size_t len, struct upstream_page **out,
	    struct wwerr *err);
int	 upstream_parse_html(const char *project, const char *page_url,
	    const char *body, size_t len, struct upstream_page **out,
	    struct wwerr *err);

struct upstream;

/*
 * One index. cachedir (created if needed) holds its page cache; NULL
 * disables caching. Does not connect.
 */
int	 upstream_open(const struct config_upstream *cu, const char *cachedir,
	    struct upstream **out, struct wwerr *err);
void	 upstream_close(struct upstream *u);
const char *upstream_name(const struct upstream *u);
/* First retry waits this long, doubling each time (default 500 ms). */
void	 upstream_set_retry_delay(struct upstream *u, long ms);
/* Longest a page counts as fresh whatever its max-age (default 3600 s);
 * 0 revalidates every time. */
void	 upstream_set_max_fresh(struct upstream *u, long seconds);

#define UPSTREAM_REVALIDATE	0x1	/* ignore max-age: always ask */
#define UPSTREAM_CACHE_ONLY	0x2	/* never ask: cached copy or fail */

/*
 * The project's files. 0 and *out, 1 if the index does not have the
 * project (404/410, or no files in a dir:), -1 error.
 */
int	 upstream_get_project(struct upstream *u, const char *project,
	    int flags, struct upstream_page **out, struct wwerr *err);

/*
 * Fetch f (from a page of this upstream) to dest, atomically (temp file
 * in dest's directory, fsync, rename), refusing more than max_bytes, and
 * verify its sha256 when the index gave one. sha256 receives the digest
 * of what was written. A mismatch leaves nothing at dest.
 */
int	 upstream_download(struct upstream *u, const struct upstream_file *f,
	    const char *dest, uint64_t max_bytes,
	    char sha256[HASH_SHA256_HEXLEN], struct wwerr *err);

/* All configured upstreams, in priority order. */
struct upstream_set;

int	 upstream_set_open(const struct config *c, const char *cachedir,
	    struct upstream_set **out, struct wwerr *err);
void	 upstream_set_close(struct upstream_set *s);
size_t	 upstream_set_count(const struct upstream_set *s);
struct upstream *upstream_set_at(struct upstream_set *s, size_t i);
struct upstream *upstream_set_find(struct upstream_set *s, const char *name);
/*
 * Ask the upstreams in priority order; the first that has the project
 * answers alone (pages are never merged, so a lower-priority index
 * cannot inject files for a name a higher one owns). An index that fails
 * stops the search with its error instead of falling through, for the
 * same reason. *from (may be NULL) gets the upstream that answered.
 * 0, 1 (no upstream has it), -1.
 */
int	 upstream_set_get_project(struct upstream_set *s, const char *project,
	    int flags, struct upstream_page **out, struct upstream **from,
	    struct wwerr *err);

#endif
