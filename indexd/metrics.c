/*
 * metrics.c: lock-free counters (relaxed atomics) and their Prometheus
 * text exposition. Statuses are counted in a dense [route][status] table
 * so that recording a request is two atomic adds and no lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "indexd_metrics.h"

#define NSTATUS		600
static const double dur_buckets[] = {
	0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5
};
#define NBUCKETS	(sizeof(dur_buckets) / sizeof(dur_buckets[0]))

struct mslot {
	uint64_t	 req[ROUTE__COUNT][NSTATUS];
	uint64_t	 bytes[ROUTE__COUNT];
	uint64_t	 dur_le[ROUTE__COUNT][NBUCKETS + 1];
	uint64_t	 dur_sum_us[ROUTE__COUNT];
	uint64_t	 uploads[UPLOAD__COUNT];
	char		 pad[64];	/* keep slots off each other's lines */
};

struct metrics {
	int		 nslots;
	struct mslot	*slots;
};

static const char *const route_names[ROUTE__COUNT] = {
	"index", "project", "file", "metadata", "upload", "healthz",
	"metrics", "redirect", "api", "other"
};

static const char *const upload_names[UPLOAD__COUNT] = {
	"added", "exists", "rejected", "unauthorized", "error"
};

const char *
metrics_route_name(int route)
{
	if (route < 0 || route >= ROUTE__COUNT)
		return "other";
	return route_names[route];
}

int
metrics_new(int nslots, struct metrics **out)
{
	struct metrics *m;

	if (nslots < 1 || (m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if ((m->slots = calloc((size_t)nslots, sizeof(*m->slots))) == NULL) {
		free(m);
		return -1;
	}
	m->nslots = nslots;
	*out = m;
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

/* Single writer per slot: a relaxed load and store, readable by others. */
static void
bump(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n,
	    __ATOMIC_RELAXED);
}

void
metrics_request(struct metrics *m, int slot, int route, int status,
    uint64_t bytes, int64_t duration_us)
{
	struct mslot *s;
	size_t b;
	double secs;

	if (slot < 0 || slot >= m->nslots)
		slot = 0;
	s = &m->slots[slot];
	if (route < 0 || route >= ROUTE__COUNT)
		route = ROUTE_OTHER;
	if (status < 0 || status >= NSTATUS)
		status = 0;
	bump(&s->req[route][status], 1);
	bump(&s->bytes[route], bytes);
	if (duration_us < 0)
		duration_us = 0;
	secs = (double)duration_us / 1e6;
	for (b = 0; b < NBUCKETS; b++)
		if (secs <= dur_buckets[b])
			break;
	bump(&s->dur_le[route][b], 1);
	bump(&s->dur_sum_us[route], (uint64_t)duration_us);
}

void
metrics_upload(struct metrics *m, int slot, enum metrics_upload r)
{
	if (slot < 0 || slot >= m->nslots)
		slot = 0;
	if ((int)r >= 0 && r < UPLOAD__COUNT)
		bump(&m->slots[slot].uploads[r], 1);
}

/* Sum of one counter over all slots. */
#define SUM(m, field) ({						\
	uint64_t _t = 0;						\
	int _i;								\
	for (_i = 0; _i < (m)->nslots; _i++)				\
		_t += __atomic_load_n(&(m)->slots[_i].field,		\
		    __ATOMIC_RELAXED);					\
	_t; })

int
metrics_render(struct metrics *m, const struct metrics_gauges *g,
    struct buf *out)
{
	uint64_t cum, n;
	size_t r, s, b;
	int rc = 0;

	rc |= buf_addstr(out, "# HELP indexd_requests_total HTTP requests "
	    "answered, by route and status.\n"
	    "# TYPE indexd_requests_total counter\n");
	for (r = 0; r < ROUTE__COUNT; r++)
		for (s = 0; s < NSTATUS; s++)
			if ((n = SUM(m, req[r][s])) != 0)
				rc |= buf_printf(out, "indexd_requests_total{"
				    "route=\"%s\",status=\"%zu\"} %llu\n",
				    route_names[r], s, (unsigned long long)n);
	rc |= buf_addstr(out, "# HELP indexd_sent_bytes_total Bytes sent "
	    "(headers and bodies), by route.\n"
	    "# TYPE indexd_sent_bytes_total counter\n");
	for (r = 0; r < ROUTE__COUNT; r++)
		rc |= buf_printf(out, "indexd_sent_bytes_total{route=\"%s\"} "
		    "%llu\n", route_names[r],
		    (unsigned long long)SUM(m, bytes[r]));
	rc |= buf_addstr(out, "# HELP indexd_request_duration_seconds Time "
	    "from request head to response queued.\n"
	    "# TYPE indexd_request_duration_seconds histogram\n");
	for (r = 0; r < ROUTE__COUNT; r++) {
		cum = 0;
		for (b = 0; b < NBUCKETS; b++) {
			cum += SUM(m, dur_le[r][b]);
			rc |= buf_printf(out, "indexd_request_duration_seconds_"
			    "bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    route_names[r], dur_buckets[b],
			    (unsigned long long)cum);
		}
		cum += SUM(m, dur_le[r][NBUCKETS]);
		rc |= buf_printf(out, "indexd_request_duration_seconds_bucket{"
		    "route=\"%s\",le=\"+Inf\"} %llu\n", route_names[r],
		    (unsigned long long)cum);
		rc |= buf_printf(out, "indexd_request_duration_seconds_sum{"
		    "route=\"%s\"} %.6f\n", route_names[r],
		    (double)SUM(m, dur_sum_us[r]) / 1e6);
		rc |= buf_printf(out, "indexd_request_duration_seconds_count{"
		    "route=\"%s\"} %llu\n", route_names[r],
		    (unsigned long long)cum);
	}
	rc |= buf_addstr(out, "# HELP indexd_uploads_total Uploads by "
	    "result.\n# TYPE indexd_uploads_total counter\n");
	for (r = 0; r < UPLOAD__COUNT; r++)
		rc |= buf_printf(out, "indexd_uploads_total{result=\"%s\"} "
		    "%llu\n", upload_names[r],
		    (unsigned long long)SUM(m, uploads[r]));
	rc |= buf_printf(out,
	    "# HELP indexd_connections Open client connections.\n"
	    "# TYPE indexd_connections gauge\nindexd_connections %lld\n"
	    "# HELP indexd_workers Worker threads.\n"
	    "# TYPE indexd_workers gauge\nindexd_workers %lld\n"
	    "# HELP indexd_start_time_seconds Start time (unix).\n"
	    "# TYPE indexd_start_time_seconds gauge\n"
	    "indexd_start_time_seconds %lld\n",
	    (long long)g->connections, (long long)g->workers,
	    (long long)g->start_time);
	if (g->have_catalog)
		rc |= buf_printf(out,
		    "# HELP indexd_catalog_projects Projects in the catalog.\n"
		    "# TYPE indexd_catalog_projects gauge\n"
		    "indexd_catalog_projects %lld\n"
		    "# HELP indexd_catalog_files Files in the catalog.\n"
		    "# TYPE indexd_catalog_files gauge\n"
		    "indexd_catalog_files %lld\n"
		    "# HELP indexd_catalog_bytes Bytes of files in the "
		    "catalog.\n# TYPE indexd_catalog_bytes gauge\n"
		    "indexd_catalog_bytes %lld\n"
		    "# HELP indexd_catalog_generation Catalog change "
		    "counter.\n# TYPE indexd_catalog_generation gauge\n"
		    "indexd_catalog_generation %lld\n",
		    (long long)g->catalog.projects,
		    (long long)g->catalog.files, (long long)g->catalog.bytes,
		    (long long)g->generation);
	rc |= buf_printf(out,
	    "# HELP indexd_page_cache_pages Rendered pages cached.\n"
	    "# TYPE indexd_page_cache_pages gauge\n"
	    "indexd_page_cache_pages %llu\n"
	    "# HELP indexd_page_cache_bytes Bytes charged to the page cache.\n"
	    "# TYPE indexd_page_cache_bytes gauge\n"
	    "indexd_page_cache_bytes %llu\n"
	    "# HELP indexd_page_cache_hits_total Page cache hits.\n"
	    "# TYPE indexd_page_cache_hits_total counter\n"
	    "indexd_page_cache_hits_total %llu\n"
	    "# HELP indexd_page_cache_misses_total Page cache misses.\n"
	    "# TYPE indexd_page_cache_misses_total counter\n"
	    "indexd_page_cache_misses_total %llu\n"
	    "# HELP indexd_page_renders_total Pages rendered from the "
	    "catalog.\n# TYPE indexd_page_renders_total counter\n"
	    "indexd_page_renders_total %llu\n"
	    "# HELP indexd_page_cache_evictions_total Pages evicted.\n"
	    "# TYPE indexd_page_cache_evictions_total counter\n"
	    "indexd_page_cache_evictions_total %llu\n",
	    (unsigned long long)g->cache.pages,
	    (unsigned long long)g->cache.page_bytes,
	    (unsigned long long)g->cache.hits,
	    (unsigned long long)g->cache.misses,
	    (unsigned long long)g->cache.renders,
	    (unsigned long long)g->cache.evictions);
	return rc ? -1 : 0;
}
