/*
 * cache.c: the page cache (chained hash + LRU list under one mutex; pages
 * refcounted with atomics so responses can hold them past eviction) and
 * the file-facts cache (chained hash; when full it is simply emptied,
 * since every entry can be re-read from the catalog).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexd_cache.h"

#define PAGE_OVERHEAD	128	/* bytes charged per page besides body */

struct fentry {
	struct fentry	*next;
	struct fileinfo	 fi;
	char		 name[];
};

struct page_cache {
	pthread_mutex_t	 mtx;
	char		*tmpdir;
	size_t		 max_bytes;
	size_t		 bytes;
	size_t		 npages;
	struct page	**buckets;
	size_t		 nbuckets;
	struct page	*lru_head, *lru_tail;	/* head = most recent */
	struct fentry	**fbuckets;
	size_t		 nfbuckets;
	size_t		 nfiles;
	size_t		 max_files;
	uint64_t	 hits, misses, renders, evictions;
};

static uint64_t
strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int
page_cache_new(size_t max_bytes, size_t max_files, const char *tmpdir,
    struct page_cache **out)
{
	struct page_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if (tmpdir != NULL && (c->tmpdir = strdup(tmpdir)) == NULL) {
		free(c);
		return -1;
	}
	pthread_mutex_init(&c->mtx, NULL);
	c->max_bytes = max_bytes;
	c->max_files = max_files;
	c->nbuckets = 1024;
	c->nfbuckets = 4096;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->fbuckets = calloc(c->nfbuckets, sizeof(*c->fbuckets));
	if (c->buckets == NULL || c->fbuckets == NULL) {
		free(c->buckets);
		free(c->fbuckets);
		free(c->tmpdir);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int
page_file(struct page_cache *c)
{
	int fd = -1;

	if (c != NULL && c->tmpdir != NULL)
		fd = open(c->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1)
		fd = memfd_create("indexd-page", MFD_CLOEXEC);
	return fd;
}

struct page *
page_new(struct page_cache *c, const void *body, size_t len, int64_t gen)
{
	unsigned char d[HASH_SHA256_LEN];
	char hex[HASH_SHA256_LEN * 2 + 1];
	struct page *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->fd = -1;
	if (len >= PAGE_FD_MIN && (p->fd = page_file(c)) != -1) {
		const char *b = body;
		size_t left = len;
		ssize_t n;

		while (left > 0) {
			n = write(p->fd, b, left);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			b += n;
			left -= (size_t)n;
		}
		if (left > 0) {		/* disk full: keep it in memory */
			close(p->fd);
			p->fd = -1;
		}
	}
	if (p->fd == -1) {
		if ((p->body = malloc(len ? len : 1)) == NULL) {
			free(p);
			return NULL;
		}
		memcpy(p->body, body, len);
	}
	p->len = len;
	p->gen = gen;
	p->refs = 1;
	hash_sha256_mem(body, len, d);
	hash_hex(d, 12, hex);
	snprintf(p->etag, sizeof(p->etag), "\"%s\"", hex);
	return p;
}

void
page_ref(struct page *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void
page_unref(struct page *p)
{
	if (p == NULL)
		return;
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		if (p->fd != -1)
			close(p->fd);
		free(p->key);
		free(p->body);
		free(p);
	}
}

void
page_release_cb(const void *data, size_t len, void *arg)
{
	page_unref(arg);
}

void
page_set_checked(struct page *p, int64_t g)
{
	__atomic_store_n(&p->checked, g, __ATOMIC_RELAXED);
}

int64_t
page_checked(struct page *p)
{
	return __atomic_load_n(&p->checked, __ATOMIC_RELAXED);
}

static void
lru_unlink(struct page_cache *c, struct page *p)
{
	if (p->lprev)
		p->lprev->lnext = p->lnext;
	else
		c->lru_head = p->lnext;
	if (p->lnext)
		p->lnext->lprev = p->lprev;
	else
		c->lru_tail = p->lprev;
	p->lprev = p->lnext = NULL;
}

static void
lru_push(struct page_cache *c, struct page *p)
{
	p->lprev = NULL;
	p->lnext = c->lru_head;
	if (c->lru_head)
		c->lru_head->lprev = p;
	c->lru_head = p;
	if (c->lru_tail == NULL)
		c->lru_tail = p;
}

/* Remove p from the hash and LRU and drop the cache's reference. */
static void
cache_remove(struct page_cache *c, struct page *p)
{
	struct page **pp = &c->buckets[strhash(p->key) & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp == p)
		*pp = p->hnext;
	lru_unlink(c, p);
	p->cached = 0;
	c->bytes -= p->len + strlen(p->key) + PAGE_OVERHEAD;
	c->npages--;
	page_unref(p);
}

static void
cache_grow(struct page_cache *c)
{
	struct page **nb, *p, *next;
	size_t n = c->nbuckets * 2, i;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* longer chains; still correct */
	for (i = 0; i < c->nbuckets; i++)
		for (p = c->buckets[i]; p != NULL; p = next) {
			next = p->hnext;
			p->hnext = nb[strhash(p->key) & (n - 1)];
			nb[strhash(p->key) & (n - 1)] = p;
		}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

struct page *
page_cache_get(struct page_cache *c, const char *key)
{
	struct page *p;

	pthread_mutex_lock(&c->mtx);
	for (p = c->buckets[strhash(key) & (c->nbuckets - 1)]; p != NULL;
	    p = p->hnext)
		if (strcmp(p->key, key) == 0)
			break;
	if (p != NULL) {
		page_ref(p);
		if (c->lru_head != p) {
			lru_unlink(c, p);
			lru_push(c, p);
		}
		c->hits++;
	} else
		c->misses++;
	pthread_mutex_unlock(&c->mtx);
	return p;
}

void
page_cache_put(struct page_cache *c, const char *key, struct page *p)
{
	struct page *old;
	size_t cost;
	char *k;

	cost = p->len + strlen(key) + PAGE_OVERHEAD;
	if (cost > c->max_bytes / 2 || p->key != NULL)
		return;
	if ((k = strdup(key)) == NULL)
		return;
	pthread_mutex_lock(&c->mtx);
	for (old = c->buckets[strhash(key) & (c->nbuckets - 1)]; old != NULL;
	    old = old->hnext)
		if (strcmp(old->key, key) == 0)
			break;
	if (old != NULL)
		cache_remove(c, old);
	while (c->bytes + cost > c->max_bytes && c->lru_tail != NULL) {
		cache_remove(c, c->lru_tail);
		c->evictions++;
	}
	p->key = k;
	p->cached = 1;
	page_ref(p);
	p->hnext = c->buckets[strhash(key) & (c->nbuckets - 1)];
	c->buckets[strhash(key) & (c->nbuckets - 1)] = p;
	lru_push(c, p);
	c->bytes += cost;
	c->npages++;
	if (c->npages > c->nbuckets)
		cache_grow(c);
	pthread_mutex_unlock(&c->mtx);
}

void
page_cache_count_render(struct page_cache *c)
{
	__atomic_add_fetch(&c->renders, 1, __ATOMIC_RELAXED);
}

void
page_cache_set_max(struct page_cache *c, size_t max_bytes)
{
	pthread_mutex_lock(&c->mtx);
	c->max_bytes = max_bytes;
	while (c->bytes > c->max_bytes && c->lru_tail != NULL) {
		cache_remove(c, c->lru_tail);
		c->evictions++;
	}
	pthread_mutex_unlock(&c->mtx);
}

static void
files_clear(struct page_cache *c)
{
	struct fentry *e, *next;
	size_t i;

	for (i = 0; i < c->nfbuckets; i++) {
		for (e = c->fbuckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		c->fbuckets[i] = NULL;
	}
	c->nfiles = 0;
}

int
fileinfo_get(struct page_cache *c, const char *filename, struct fileinfo *out)
{
	struct fentry *e;
	int found = 0;

	pthread_mutex_lock(&c->mtx);
	for (e = c->fbuckets[strhash(filename) & (c->nfbuckets - 1)];
	    e != NULL; e = e->next)
		if (strcmp(e->name, filename) == 0) {
			*out = e->fi;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&c->mtx);
	return found;
}

/* Under the lock. */
static void
fileinfo_put_locked(struct page_cache *c, const char *filename,
    const struct fileinfo *fi)
{
	struct fentry *e, **head;
	size_t len = strlen(filename);

	head = &c->fbuckets[strhash(filename) & (c->nfbuckets - 1)];
	for (e = *head; e != NULL; e = e->next)
		if (strcmp(e->name, filename) == 0) {
			e->fi = *fi;
			return;
		}
	if (c->nfiles >= c->max_files) {
		files_clear(c);
		head = &c->fbuckets[strhash(filename) & (c->nfbuckets - 1)];
	}
	if ((e = malloc(sizeof(*e) + len + 1)) != NULL) {
		e->fi = *fi;
		memcpy(e->name, filename, len + 1);
		e->next = *head;
		*head = e;
		c->nfiles++;
	}
}

void
fileinfo_put(struct page_cache *c, const char *filename,
    const struct fileinfo *fi)
{
	pthread_mutex_lock(&c->mtx);
	fileinfo_put_locked(c, filename, fi);
	pthread_mutex_unlock(&c->mtx);
}

void
fileinfo_put_many(struct page_cache *c, const char *const *filenames,
    const struct fileinfo *fi, size_t n)
{
	size_t i;

	pthread_mutex_lock(&c->mtx);
	for (i = 0; i < n; i++)
		fileinfo_put_locked(c, filenames[i], &fi[i]);
	pthread_mutex_unlock(&c->mtx);
}

void
page_cache_stats(struct page_cache *c, struct cache_stats *st)
{
	pthread_mutex_lock(&c->mtx);
	st->pages = c->npages;
	st->page_bytes = c->bytes;
	st->hits = c->hits;
	st->misses = c->misses;
	st->evictions = c->evictions;
	st->files = c->nfiles;
	pthread_mutex_unlock(&c->mtx);
	st->renders = __atomic_load_n(&c->renders, __ATOMIC_RELAXED);
}

void
page_cache_free(struct page_cache *c)
{
	if (c == NULL)
		return;
	while (c->lru_tail != NULL)
		cache_remove(c, c->lru_tail);
	files_clear(c);
	free(c->buckets);
	free(c->fbuckets);
	free(c->tmpdir);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}
