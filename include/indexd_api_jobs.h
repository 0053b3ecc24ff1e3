/*
 * indexd_api_jobs.h: the CI-agent build-job API of indexd.
 *
 *   POST /api/v1/jobs           {"requirement": "name==version",
 *                                "targets": ["t1", ...],   (default: all)
 *                                "rebuild": false}         (optional)
 *       -> 202 {"jobs": [{"id", "target", "state", "existing", "url",
 *                         "log_url", ...}]}
 *   GET  /api/v1/jobs/ID        -> 200 the job (JSON)
 *   GET  /api/v1/jobs/ID/log    -> 200 text/plain, the current attempt's log
 *
 * Every route needs a token of scope submit (or admin) by HTTP Basic auth,
 * username __token__, as uploads do: 401 without one, 403 for another
 * scope or a project-bound token naming another project. Malformed
 * requests get 400 with a JSON body {"error": ..., "field": ...} naming
 * the field. Jobs go into the same job store builderd dispatches from; a
 * release that already has a job (queued, running, or built) for a
 * target is answered with that job ("existing": true) unless "rebuild" is
 * true, which builds again with the next wheel build number.
 */
#ifndef WW_INDEXD_API_JOBS_H
#define WW_INDEXD_API_JOBS_H

#include "catalog.h"
#include "indexd_http.h"

struct config;
struct jobs;

#define API_JOBS_PREFIX		"/api/v1/jobs"
#define API_JOBS_MAX_BODY	(64 * 1024)

/* One per indexd worker thread (it uses the worker's catalog). */
struct api_jobs_env {
	struct catalog			*cat;
	const struct config *const	*conf;	/* the worker's current one */
	struct jobs			*jobs;	/* opened on first use */
};

void	 api_jobs_env_init(struct api_jobs_env *env, struct catalog *cat,
	    const struct config *const *conf);
void	 api_jobs_env_free(struct api_jobs_env *env);
/* 1 if path belongs to this API. */
int	 api_jobs_match(const char *path);
/* Handle a request whose path api_jobs_match()ed. */
void	 api_jobs_handle(struct api_jobs_env *env, struct http_request *r,
	    const char *path);

#endif
