/*
 * indexd_metrics.h: counters for /metrics in the Prometheus text format:
 * requests by route and status, bytes sent, request durations, uploads by
 * result, plus gauges the caller supplies at scrape time (connections,
 * cache, the catalog's size).
 */
#ifndef WW_INDEXD_METRICS_H
#define WW_INDEXD_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "indexd_cache.h"

enum metrics_route {
	ROUTE_INDEX, ROUTE_PROJECT, ROUTE_FILE, ROUTE_METADATA, ROUTE_UPLOAD,
	ROUTE_HEALTHZ, ROUTE_METRICS, ROUTE_REDIRECT, ROUTE_API, ROUTE_OTHER,
	ROUTE__COUNT
};

enum metrics_upload {
	UPLOAD_ADDED, UPLOAD_EXISTS, UPLOAD_REJECTED, UPLOAD_UNAUTHORIZED,
	UPLOAD_ERROR, UPLOAD__COUNT
};

struct metrics;

struct metrics_gauges {
	int64_t			 connections;
	int64_t			 workers;
	int64_t			 start_time;	/* unix seconds */
	int			 have_catalog;
	struct catalog_stats	 catalog;
	int64_t			 generation;
	struct cache_stats	 cache;
};

/*
 * One slot of counters per worker thread: each slot has one writer, so
 * counting needs no locked instructions and no cache line is shared on
 * the request path; /metrics sums the slots.
 */
int	 metrics_new(int nslots, struct metrics **out);
void	 metrics_free(struct metrics *m);
/* route: enum metrics_route, or -1 (counted as "other"). */
void	 metrics_request(struct metrics *m, int slot, int route, int status,
	    uint64_t bytes, int64_t duration_us);
void	 metrics_upload(struct metrics *m, int slot, enum metrics_upload r);
const char *metrics_route_name(int route);
int	 metrics_render(struct metrics *m, const struct metrics_gauges *g,
	    struct buf *out);

#endif
