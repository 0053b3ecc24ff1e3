/*
 * indexd_negotiate.h: picking the representation of a simple-API page
 * (PEP 691): Accept header with q-values and wildcards, or the "format"
 * query parameter, among text/html, application/vnd.pypi.simple.v1+html
 * and application/vnd.pypi.simple.v1+json ("latest" aliases included).
 */
#ifndef WW_INDEXD_NEGOTIATE_H
#define WW_INDEXD_NEGOTIATE_H

enum simple_format {
	SIMPLE_FMT_NONE = -1,		/* nothing acceptable: 406 */
	SIMPLE_FMT_HTML = 0,		/* text/html (PEP 503) */
	SIMPLE_FMT_HTML_V1 = 1,		/* application/vnd.pypi.simple.v1+html */
	SIMPLE_FMT_JSON_V1 = 2,		/* application/vnd.pypi.simple.v1+json */
};

#define NEGOTIATE_JSON_TYPE	"application/vnd.pypi.simple.v1+json"
#define NEGOTIATE_HTML_V1_TYPE	"application/vnd.pypi.simple.v1+html"

/*
 * accept: the Accept header or NULL (= anything); format: the "format"
 * query parameter or NULL. The parameter wins when present; it takes a
 * media type or the short forms "json" and "html". Ties between equally
 * acceptable types go to text/html, then v1+html, then v1+json.
 */
enum simple_format negotiate_simple(const char *accept, const char *format);
/* The same, choosing only among formats whose bit (1 << fmt) is set. */
enum simple_format negotiate_simple_among(const char *accept,
		    const char *format, unsigned allowed);
/* Content-Type for a format (with charset for text/html). */
const char	*negotiate_content_type(enum simple_format f);
/* 1 if the body is JSON. */
int		 negotiate_is_json(enum simple_format f);

#endif
