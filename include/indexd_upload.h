/*
 * indexd_upload.h: the legacy upload API as twine speaks it: POST with
 * multipart/form-data, ":action" = "file_upload", the distribution in the
 * "content" part. The body streams to a temp file under the store (never
 * whole in memory), bounded by max_upload_size; then the file goes through
 * ingest_file() (verify, store, catalog) like every other way in.
 */
#ifndef WW_INDEXD_UPLOAD_H
#define WW_INDEXD_UPLOAD_H

#include <stdint.h>

#include "catalog.h"
#include "indexd_http.h"
#include "indexd_metrics.h"
#include "store.h"
#include "verify.h"

struct upload_env {
	struct store		*store;
	struct catalog		*cat;
	const struct limits	*limits;
	uint64_t		 max_upload_size;
	struct metrics		*metrics;
	int			 metrics_slot;
	/* runs after a file was added, so pages are re-checked */
	void			(*changed)(void *arg);
	void			*arg;
};

/*
 * Handle one upload request. Answers at once (401/403/411/413/415...) or
 * reads the body and answers when it is complete. env must outlive the
 * request (the worker's).
 */
void	 upload_handle(const struct upload_env *env, struct http_request *r);

/* The HTTP status for an ingest_file() failure code. */
int	 upload_status_for(int ingest_code);

#endif
