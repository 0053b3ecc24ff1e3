/*
 * indexd_render.h: the simple repository pages as bytes, shared by indexd
 * (which caches them) and `indexctl export-static` (which writes them):
 *   - PEP 503 HTML with the PEP 629 repository-version meta, #sha256=
 *     fragments, data-requires-python (escaped), PEP 658/714
 *     data-dist-info-metadata / data-core-metadata and PEP 592 data-yanked;
 *   - PEP 691 JSON at api-version 1.1 (PEP 700: versions, size,
 *     upload-time; PEP 714: "core-metadata" only, never the old
 *     "dist-info-metadata" key, on which pip 22.3-23.1 crash).
 * File URLs are relative ("../../files/NAME") so that the same pages work
 * behind a proxy, under a path prefix and as a static tree.
 */
#ifndef WW_INDEXD_RENDER_H
#define WW_INDEXD_RENDER_H

#include <stddef.h>

#include "buf.h"
#include "catalog.h"

#define RENDER_API_VERSION	"1.1"

struct render_project {
	const char	*normalized;
	const char	*display;
};

/* /simple/ */
int	 render_index_html(struct buf *out, const struct render_project *p,
	    size_t n);
int	 render_index_json(struct buf *out, const struct render_project *p,
	    size_t n);
/* /simple/<project>/ : files in the order given (catalog: by filename). */
int	 render_project_html(struct buf *out, const char *normalized,
	    const struct catalog_file *files, size_t n);
int	 render_project_json(struct buf *out, const char *normalized,
	    const struct catalog_file *files, size_t n);
/* A 404 body in either form. */
int	 render_not_found(struct buf *out, int json, const char *what);

/* Escapers (appending); exposed for tests and other pages. */
int	 render_html_escape(struct buf *out, const char *s);
/* JSON string with quotes; invalid UTF-8 becomes U+FFFD. */
int	 render_json_string(struct buf *out, const char *s);
/* Percent-encode everything but RFC 3986 unreserved characters. */
int	 render_url_escape(struct buf *out, const char *s);
/* Does this file get a .metadata link? (wheels with stored metadata) */
int	 render_has_metadata(const struct catalog_file *f);

#endif
