/*
 * ctl-data.c: opening the data directory (store + catalog) for indexctl
 * commands, with one wording for the errors every command can hit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "indexctl.h"
#include "store.h"

int
ctl_open_data(struct cmd_ctx *ctx, int flags, struct store **sp,
    struct catalog **cp)
{
	char path[PATH_MAX];
	struct wwerr err;
	struct stat st;

	*sp = NULL;
	*cp = NULL;
	if (ctx->datadir == NULL || *ctx->datadir == '\0') {
		fprintf(stderr, "indexctl: no data directory (use -d or "
		    "datadir in the config)\n");
		return -1;
	}
	if (!(flags & CTL_CREATE)) {
		if ((size_t)snprintf(path, sizeof(path), "%s/catalog.sqlite",
		    ctx->datadir) >= sizeof(path)) {
			fprintf(stderr, "indexctl: %s: path too long\n",
			    ctx->datadir);
			return -1;
		}
		if (stat(path, &st) == -1) {
			fprintf(stderr, "indexctl: %s: no catalog here (%s: %s);"
			    " check -d or import something first\n",
			    ctx->datadir, path, strerror(errno));
			return -1;
		}
	}
	if (store_open(ctx->datadir, sp, &err) == -1) {
		fprintf(stderr, "indexctl: %s\n", err.msg);
		return -1;
	}
	if (catalog_open(store_catalog_path(*sp),
	    (flags & CTL_RDONLY) ? CATALOG_RDONLY : 0, cp, &err) == -1) {
		fprintf(stderr, "indexctl: %s\n", err.msg);
		store_close(*sp);
		*sp = NULL;
		return -1;
	}
	return 0;
}

void
ctl_close_data(struct store *s, struct catalog *c)
{
	catalog_close(c);
	store_close(s);
}
