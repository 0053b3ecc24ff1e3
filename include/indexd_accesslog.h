/*
 * indexd_accesslog.h: the access log in the combined format (Apache/nginx):
 *   host - user [time] "request" status bytes "referer" "user-agent"
 * Workers format lines into their own buffer and write whole buffers with
 * one write(2) on an O_APPEND descriptor, so lines never interleave.
 * Reopening (SIGHUP, log rotation) swaps the descriptor with dup2(), which
 * is atomic for writers in other threads.
 */
#ifndef WW_INDEXD_ACCESSLOG_H
#define WW_INDEXD_ACCESSLOG_H

#include <stddef.h>

#include "buf.h"
#include "indexd_http.h"
#include "wwerr.h"

struct accesslog;

/* path: a file, "" for stdout, "-" for no log. */
int	 accesslog_open(const char *path, struct accesslog **out,
	    struct wwerr *err);
int	 accesslog_reopen(struct accesslog *a, const char *path,
	    struct wwerr *err);
int	 accesslog_enabled(const struct accesslog *a);
void	 accesslog_free(struct accesslog *a);
/* The formatted time of the last second seen (one per worker). */
struct accesslog_clock {
	int64_t	 sec;
	char	 str[40];
};
/* Append one line for e to out. clk may be NULL. */
int	 accesslog_format(struct buf *out, const struct http_log_entry *e,
	    struct accesslog_clock *clk);
/* Write out's bytes and empty it. */
void	 accesslog_flush(struct accesslog *a, struct buf *out);

#endif
