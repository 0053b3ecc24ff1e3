/*
 * indexd_cache.h: indexd's in-memory caches, shared by the worker threads.
 *  - Rendered pages, keyed by format and project, each tagged with the
 *    generation it was rendered from; bounded in bytes, LRU. Pages are
 *    refcounted and immutable, so a response can send the bytes by
 *    reference while the cache replaces or evicts the entry.
 *  - Per-file facts (sha256, size, metadata hash) for /files/, which are
 *    immutable once a file is in the catalog; bounded in entries.
 */
#ifndef WW_INDEXD_CACHE_H
#define WW_INDEXD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct page_cache;		/* opaque */

struct page {
	int		 refs;		/* atomic */
	int64_t		 gen;		/* generation rendered from */
	int64_t		 checked;	/* global gen it was last valid at */
	char		 etag[48];	/* quoted strong ETag */
	size_t		 len;
	char		*body;		/* NULL when the bytes are in fd */
	int		 fd;		/* memfd, or -1 */
	/* cache bookkeeping (owned by the cache, under its lock) */
	char		*key;
	struct page	*hnext;
	struct page	*lprev, *lnext;
	int		 cached;
};

struct fileinfo {
	uint64_t	 size;
	unsigned char	 sha256[HASH_SHA256_LEN];
	unsigned char	 metadata_sha256[HASH_SHA256_LEN];
	int		 has_metadata;	/* a .metadata file is served */
};

struct cache_stats {
	uint64_t	 pages;
	uint64_t	 page_bytes;
	uint64_t	 hits;
	uint64_t	 misses;
	uint64_t	 renders;
	uint64_t	 evictions;
	uint64_t	 files;
};

/* tmpdir: where big pages live as O_TMPFILE files (NULL: memfd). */
int	 page_cache_new(size_t max_bytes, size_t max_files, const char *tmpdir,
	    struct page_cache **out);
void	 page_cache_free(struct page_cache *c);
void	 page_cache_set_max(struct page_cache *c, size_t max_bytes);

/*
 * A new page owning a copy of body; refs = 1; ETag from its SHA-256.
 * Pages of PAGE_FD_MIN bytes or more are kept in an unlinked file instead
 * (O_TMPFILE in the cache's tmpdir, else a memfd), so that responses can
 * sendfile() them without copying through user space. A regular file on
 * the data's filesystem, because sendfile from shmem measured ~20% slower.
 */
#define PAGE_FD_MIN	(16 * 1024)
struct page *page_new(struct page_cache *c, const void *body, size_t len,
	    int64_t gen);
void	 page_ref(struct page *p);
void	 page_unref(struct page *p);
/* For http_response_end_ref(): drops the reference held by a response. */
void	 page_release_cb(const void *data, size_t len, void *arg);

/* Returns a referenced page or NULL. */
struct page *page_cache_get(struct page_cache *c, const char *key);
/* Inserts (replacing any page with that key); the cache takes its own
 * reference. A page larger than the whole cache is not kept. */
void	 page_cache_put(struct page_cache *c, const char *key, struct page *p);
/* Mark a page as still valid at global generation g. */
void	 page_set_checked(struct page *p, int64_t g);
int64_t	 page_checked(struct page *p);
void	 page_cache_count_render(struct page_cache *c);

/* 1 found, 0 not. */
int	 fileinfo_get(struct page_cache *c, const char *filename,
	    struct fileinfo *out);
void	 fileinfo_put(struct page_cache *c, const char *filename,
	    const struct fileinfo *fi);
/* Many at once under one lock. */
void	 fileinfo_put_many(struct page_cache *c, const char *const *filenames,
	    const struct fileinfo *fi, size_t n);

void	 page_cache_stats(struct page_cache *c, struct cache_stats *st);

#endif
