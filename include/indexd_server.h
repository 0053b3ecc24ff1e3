/*
 * indexd_server.h: the indexd process: shared state (store, caches,
 * metrics, access log, TLS, connection cap), worker threads (each with
 * its own event loop, catalog connection and SO_REUSEPORT listeners), the
 * routes, and signal handling (SIGHUP reload, SIGTERM/SIGINT graceful
 * stop) in the main thread.
 */
#ifndef WW_INDEXD_SERVER_H
#define WW_INDEXD_SERVER_H

#include "config.h"
#include "wwerr.h"

struct indexd;

/* Checks what `indexd -n` checks beyond parsing: TLS files load, the
 * data directory exists, listen addresses resolve. */
int	 indexd_check_config(const struct config *conf, struct wwerr *err);
/* Takes ownership of conf. Opens the store and catalog, binds. */
int	 indexd_new(struct config *conf, struct indexd **out,
	    struct wwerr *err);
/* Runs until SIGTERM/SIGINT; returns the exit status. */
int	 indexd_run(struct indexd *d);
void	 indexd_free(struct indexd *d);

#endif
