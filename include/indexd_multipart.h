/*
 * indexd_multipart.h: a streaming multipart/form-data parser (RFC 7578)
 * for uploads (twine's legacy API). Bytes go in as they arrive, in chunks
 * of any size; the parser never holds more than one part's header block
 * (bounded), so file parts can stream straight to disk.
 */
#ifndef WW_INDEXD_MULTIPART_H
#define WW_INDEXD_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_BOUNDARY	70	/* RFC 2046 */
#define MULTIPART_MAX_HEADER	8192	/* one part's header block */
#define MULTIPART_MAX_PARTS	4096

struct multipart;		/* opaque */

struct multipart_part {
	const char	*name;		/* form field name */
	const char	*filename;	/* NULL unless a file field */
	const char	*content_type;	/* NULL if not given */
};

/* Callbacks return 0 to go on, -1 to stop parsing (an error). */
struct multipart_callbacks {
	int	(*begin)(const struct multipart_part *p, void *arg);
	int	(*data)(const void *data, size_t len, void *arg);
	int	(*end)(void *arg);
};

/*
 * Extract the boundary from a Content-Type header value; -1 unless it is
 * multipart/form-data with a valid boundary parameter.
 */
int	 multipart_boundary(const char *content_type, char *out,
	    size_t outlen);
int	 multipart_new(const char *boundary, const struct multipart_callbacks *cb,
	    void *arg, struct multipart **out);
/* 0, or -1 with multipart_error() saying why (or a callback stopped). */
int	 multipart_feed(struct multipart *m, const void *data, size_t len);
/* End of input: -1 if the closing boundary was never seen. */
int	 multipart_finish(struct multipart *m);
const char *multipart_error(const struct multipart *m);
void	 multipart_free(struct multipart *m);

#endif
