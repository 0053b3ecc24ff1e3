/*
 * indexd_pagerows.h: the catalog rows a simple-API page is rendered from,
 * copied out of the catalog in one go, for indexd (which renders and
 * caches pages) and `indexctl export-static` (which writes them), so that
 * both read exactly the same rows the same way.
 */
#ifndef WW_INDEXD_PAGEROWS_H
#define WW_INDEXD_PAGEROWS_H

#include <stddef.h>

#include "catalog.h"
#include "indexd_render.h"
#include "wwerr.h"

struct pagerows_chunk;

/*
 * A project's files, ordered by filename. Only what a page shows is
 * filled in (id, version, filename, kind, hashes, size, requires_python,
 * metadata, upload time, yank state); project, tags and origin are NULL.
 * The strings live in a few 64 KB chunks owned by the list, so a
 * 2000-file project costs a handful of allocations, not thousands.
 */
struct pagerows_files {
	struct catalog_file	*v;
	size_t			 n, cap;
	int			 oom;		/* set: out of memory */
	struct pagerows_chunk	*chunks;
};

/* Every project, ordered by normalized name. */
struct pagerows_projects {
	struct render_project	*v;
	size_t			 n, cap;
	int			 oom;
	struct pagerows_chunk	*chunks;
};

/*
 * Load into *out (overwritten). 0, or -1 with err set: a catalog error,
 * or out of memory (then out->oom is set too, for a 500 instead of a 503).
 * Free with the matching _free, whatever the result.
 */
int	 pagerows_load_files(struct catalog *c, const char *normalized,
	    struct pagerows_files *out, struct wwerr *err);
void	 pagerows_files_free(struct pagerows_files *l);
int	 pagerows_load_projects(struct catalog *c,
	    struct pagerows_projects *out, struct wwerr *err);
void	 pagerows_projects_free(struct pagerows_projects *l);

#endif
