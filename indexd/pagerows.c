/*
 * pagerows.c: the rows of one simple-API page copied out of the catalog;
 * see indexd_pagerows.h. The catalog lends each row to a callback, so
 * what a page needs is copied into an arena that later loads reuse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "indexd_pagerows.h"

#define CHUNK_SIZE	65536

/* Arena chunks: pointers into them stay put until the list is freed. */
struct pagerows_chunk {
	struct pagerows_chunk	*next;
	size_t			 used, cap;
	char			 data[];
};

/* Empty the arena for a new load, keeping its chunks. */
static void
chunks_reset(struct pagerows_chunk *head, struct pagerows_chunk **cur)
{
	struct pagerows_chunk *c;

	for (c = head; c != NULL; c = c->next)
		c->used = 0;
	*cur = head;
}

static char *
chunk_strdup(struct pagerows_chunk **head, struct pagerows_chunk **cur,
    int *oom, const char *s)
{
	struct pagerows_chunk *c = *cur, **tail;
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	while (c != NULL && c->cap - c->used < len)
		c = c->next;		/* reused chunks: all were reset */
	if (c == NULL) {
		size_t cap = len > CHUNK_SIZE ? len : CHUNK_SIZE;

		if ((c = malloc(sizeof(*c) + cap)) == NULL) {
			*oom = 1;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = NULL;
		for (tail = head; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = c;
	}
	*cur = c;
	memcpy(c->data + c->used, s, len);
	c->used += len;
	return c->data + c->used - len;
}

static void
chunks_free(struct pagerows_chunk *c)
{
	struct pagerows_chunk *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

/* v with room for element n (capacity doubling from first), or NULL. */
static void *
grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : first;
	if ((v = reallocarray(v, ncap, size)) != NULL)
		*cap = ncap;
	return v;
}

static int
collect_file(const struct catalog_file *f, void *arg)
{
	struct pagerows_files *l = arg;
	struct catalog_file *c, *nv;

	if ((nv = grow(l->v, l->n, &l->cap, sizeof(*nv), 64)) == NULL) {
		l->oom = 1;
		return 1;
	}
	l->v = nv;
	c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	c->id = f->id;
	c->kind = f->kind;
	memcpy(c->sha256, f->sha256, sizeof(c->sha256));
	memcpy(c->metadata_sha256, f->metadata_sha256,
	    sizeof(c->metadata_sha256));
	c->size = f->size;
	c->has_metadata = f->has_metadata;
	c->upload_time_us = f->upload_time_us;
	c->yanked = f->yanked;
	c->version = chunk_strdup(&l->chunks, &l->cur, &l->oom,
	    f->version ? f->version : "");
	c->filename = chunk_strdup(&l->chunks, &l->cur, &l->oom,
	    f->filename ? f->filename : "");
	c->requires_python = chunk_strdup(&l->chunks, &l->cur, &l->oom,
	    f->requires_python);
	c->yanked_reason = chunk_strdup(&l->chunks, &l->cur, &l->oom,
	    f->yanked_reason);
	return l->oom;
}

int
pagerows_load_files(struct catalog *c, const char *normalized,
    struct pagerows_files *out, struct wwerr *err)
{
	out->n = 0;
	out->oom = 0;
	chunks_reset(out->chunks, &out->cur);
	if (catalog_foreach_page_file(c, normalized, collect_file, out,
	    err) == -1)
		return -1;
	if (out->oom)
		return wwerr_set(err, CATALOG_E_DB, "%s: out of memory while "
		    "loading its files", normalized);
	return 0;
}

void
pagerows_files_free(struct pagerows_files *l)
{
	chunks_free(l->chunks);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
collect_project(const char *normalized, const char *display, int64_t gen,
    void *arg)
{
	struct pagerows_projects *l = arg;
	struct render_project *p, *nv;

	(void)gen;
	if ((nv = grow(l->v, l->n, &l->cap, sizeof(*nv), 256)) == NULL) {
		l->oom = 1;
		return 1;
	}
	l->v = nv;
	p = &l->v[l->n++];
	p->normalized = chunk_strdup(&l->chunks, &l->cur, &l->oom, normalized);
	p->display = chunk_strdup(&l->chunks, &l->cur, &l->oom, display);
	if (p->normalized == NULL)
		l->oom = 1;
	return l->oom;
}

int
pagerows_load_projects(struct catalog *c, struct pagerows_projects *out,
    struct wwerr *err)
{
	out->n = 0;
	out->oom = 0;
	chunks_reset(out->chunks, &out->cur);
	if (catalog_foreach_project(c, collect_project, out, err) == -1)
		return -1;
	if (out->oom)
		return wwerr_set(err, CATALOG_E_DB, "the project list: out of "
		    "memory");
	return 0;
}

void
pagerows_projects_free(struct pagerows_projects *l)
{
	chunks_free(l->chunks);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
