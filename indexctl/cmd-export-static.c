/*
 * cmd-export-static.c: indexctl export-static DIR. Writes the index as a
 * static tree that nginx or an object store can serve, with the very
 * pages indexd renders (indexd/render.c):
 *
 *   DIR/simple/index.html, DIR/simple/index.json
 *   DIR/simple/<project>/index.html, .../index.json
 *   DIR/files/<filename>, DIR/files/<filename>.metadata (wheels)
 *   DIR/.wheelwright-export    marks the tree as ours
 *
 * Everything goes to a sibling temp directory first (files hard-linked
 * from the store when on the same filesystem, else copied), is synced,
 * then swapped in with one renameat2(RENAME_EXCHANGE); the old tree is
 * removed afterwards. A reader sees the old tree or the new one, never a
 * mix. bench/nginx-simple.conf shows how to serve it with negotiation.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "catalog.h"
#include "indexctl.h"
#include "indexd_pagerows.h"
#include "indexd_render.h"
#include "store.h"
#include "util.h"

#define EXPORT_MARKER	".wheelwright-export"
#define PAGE_MAX	(512 * 1024 * 1024)

static int cmd_export_static_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_export_static_entry = {
	"export-static",
	"export-static [--copy] DIR",
	"write the index as a static tree (HTML, JSON, files, .metadata) and "
	"swap it into DIR atomically",
	cmd_export_static_exec
};

struct exp {
	struct store	*store;
	struct catalog	*cat;
	char		 tmp[PATH_MAX];
	int		 copy;		/* never hard-link */
	uint64_t	 nfiles, nbytes, nprojects, linked;
	struct buf	 page;
};

static int
write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "indexctl: %s: %s\n", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Hard-link src to dst, or copy it; check the size either way. */
static int
place_file(struct exp *x, const char *src, const char *dst, int64_t size)
{
	char buf[65536];
	struct stat st;
	ssize_t n, w;
	int in, out;

	if (stat(src, &st) == -1) {
		fprintf(stderr, "indexctl: %s: %s (run indexctl verify)\n",
		    src, strerror(errno));
		return -1;
	}
	if (size >= 0 && st.st_size != size) {
		fprintf(stderr, "indexctl: %s is %lld bytes but the catalog "
		    "says %lld (run indexctl verify)\n", src,
		    (long long)st.st_size, (long long)size);
		return -1;
	}
	if (!x->copy && link(src, dst) == 0) {
		x->linked++;
		return 0;
	}
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", src, strerror(errno));
		return -1;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", dst, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (w = 0; w < n; ) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k <= 0) {
				fprintf(stderr, "indexctl: %s: %s\n", dst,
				    strerror(errno));
				close(in);
				close(out);
				return -1;
			}
			w += k;
		}
	}
	close(in);
	if (n < 0 || close(out) == -1) {
		fprintf(stderr, "indexctl: copying %s: %s\n", src,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
export_project(const char *normalized, const char *display, int64_t gen,
    void *arg)
{
	struct exp *x = arg;
	struct pagerows_files l;
	struct wwerr err;
	char dir[PATH_MAX], path[PATH_MAX], src[PATH_MAX];
	size_t i;

	if (pagerows_load_files(x->cat, normalized, &l, &err) == -1) {
		fprintf(stderr, "indexctl: %s\n", l.oom ? "out of memory" :
		    err.msg);
		goto fail;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/simple/%s", x->tmp,
	    normalized) >= sizeof(dir) || mkdir(dir, 0755) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	buf_reset(&x->page);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	if (render_project_html(&x->page, normalized, l.v, l.n) == -1 ||
	    write_file(path, x->page.ptr, x->page.len) == -1)
		goto fail;
	buf_reset(&x->page);
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (render_project_json(&x->page, normalized, l.v, l.n) == -1 ||
	    write_file(path, x->page.ptr, x->page.len) == -1)
		goto fail;
	for (i = 0; i < l.n; i++) {
		const struct catalog_file *f = &l.v[i];

		if (store_path(x->store, f->filename, src, sizeof(src)) ==
		    -1 || (size_t)snprintf(path, sizeof(path), "%s/files/%s",
		    x->tmp, f->filename) >= sizeof(path)) {
			fprintf(stderr, "indexctl: %s: unsafe file name\n",
			    f->filename);
			goto fail;
		}
		if (place_file(x, src, path, (int64_t)f->size) == -1)
			goto fail;
		x->nfiles++;
		x->nbytes += f->size;
		if (render_has_metadata(f)) {
			util_strlcat(src, ".metadata", sizeof(src));
			util_strlcat(path, ".metadata", sizeof(path));
			if (place_file(x, src, path, -1) == -1)
				goto fail;
		}
	}
	x->nprojects++;
	pagerows_files_free(&l);
	return 0;
fail:
	pagerows_files_free(&l);
	return 1;	/* stop: the caller sees the failure */
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (remove(path) == -1 && errno != ENOENT) {
		fprintf(stderr, "indexctl: removing %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	return 0;
}

static int
rm_tree(const char *path)
{
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* DIR may be replaced only if it is missing, empty or an earlier export. */
static int
check_target(const char *dir, int *exists)
{
	char marker[PATH_MAX];
	struct stat st;
	int empty;

	*exists = 0;
	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "indexctl: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "indexctl: %s exists and is not a directory\n",
		    dir);
		return -1;
	}
	*exists = 1;
	snprintf(marker, sizeof(marker), "%s/" EXPORT_MARKER, dir);
	if (access(marker, F_OK) == 0)
		return 0;
	{
		DIR *d = opendir(dir);
		struct dirent *de;

		empty = 1;
		if (d == NULL) {
			fprintf(stderr, "indexctl: %s: %s\n", dir,
			    strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
	}
	if (!empty) {
		fprintf(stderr, "indexctl: %s is not empty and not an earlier "
		    "export (no %s); refusing to replace it\n", dir,
		    EXPORT_MARKER);
		return -1;
	}
	return 0;
}

static int
cmd_export_static_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "copy", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *e = &cmd_export_static_entry;
	char target[PATH_MAX], parent[PATH_MAX], path[PATH_MAX], *slash;
	struct pagerows_projects pl;
	struct wwerr err;
	struct exp x;
	int ch, exists, dfd, rc = 1, made_tmp = 0;

	if (cmd_want_help(e, argc, argv))
		return 0;
	memset(&x, 0, sizeof(x));
	memset(&pl, 0, sizeof(pl));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'c')
			x.copy = 1;
		else
			return cmd_usage(e);
	}
	if (argc - optind != 1)
		return cmd_usage(e);
	if (util_strlcpy(target, argv[optind], sizeof(target)) >=
	    sizeof(target) - 32) {
		fprintf(stderr, "indexctl: %s: path too long\n", argv[optind]);
		return 1;
	}
	while (strlen(target) > 1 && target[strlen(target) - 1] == '/')
		target[strlen(target) - 1] = '\0';
	if (check_target(target, &exists) == -1)
		return 1;
	util_strlcpy(parent, target, sizeof(parent));
	if ((slash = strrchr(parent, '/')) == NULL)
		util_strlcpy(parent, ".", sizeof(parent));
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';

	if (ctl_open_data(ctx, CTL_RDONLY, &x.store, &x.cat) == -1)
		return 1;
	buf_init(&x.page, PAGE_MAX);
	snprintf(x.tmp, sizeof(x.tmp), "%s.tmp-XXXXXX", target);
	if (mkdtemp(x.tmp) == NULL) {
		fprintf(stderr, "indexctl: %s: %s\n", x.tmp, strerror(errno));
		goto done;
	}
	made_tmp = 1;
	chmod(x.tmp, 0755);
	snprintf(path, sizeof(path), "%s/simple", x.tmp);
	if (mkdir(path, 0755) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", path, strerror(errno));
		goto done;
	}
	snprintf(path, sizeof(path), "%s/files", x.tmp);
	if (mkdir(path, 0755) == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", path, strerror(errno));
		goto done;
	}

	/* One read transaction would be ideal; instead the project list is
	 * read first and each project afterwards, so a page never lists a
	 * file that is not in the tree. */
	if (pagerows_load_projects(x.cat, &pl, &err) == -1) {
		fprintf(stderr, "indexctl: %s\n", pl.oom ? "out of memory" :
		    err.msg);
		goto done;
	}
	{
		size_t i;

		for (i = 0; i < pl.n; i++)
			if (export_project(pl.v[i].normalized,
			    pl.v[i].display, 0, &x) != 0)
				goto done;
	}
	buf_reset(&x.page);
	snprintf(path, sizeof(path), "%s/simple/index.html", x.tmp);
	if (render_index_html(&x.page, pl.v, pl.n) == -1 ||
	    write_file(path, x.page.ptr, x.page.len) == -1)
		goto done;
	buf_reset(&x.page);
	snprintf(path, sizeof(path), "%s/simple/index.json", x.tmp);
	if (render_index_json(&x.page, pl.v, pl.n) == -1 ||
	    write_file(path, x.page.ptr, x.page.len) == -1)
		goto done;
	snprintf(path, sizeof(path), "%s/" EXPORT_MARKER, x.tmp);
	if (write_file(path, "wheelwright static export\n", 26) == -1)
		goto done;

	/* durable before visible */
	if ((dfd = open(x.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(dfd) == -1) {
		fprintf(stderr, "indexctl: sync %s: %s\n", x.tmp,
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		goto done;
	}
	close(dfd);
	if (exists) {
		if (renameat2(AT_FDCWD, x.tmp, AT_FDCWD, target,
		    RENAME_EXCHANGE) == -1) {
			fprintf(stderr, "indexctl: swapping %s into %s: %s\n",
			    x.tmp, target, strerror(errno));
			goto done;
		}
		/* x.tmp now holds the previous export */
	} else {
		if (rename(x.tmp, target) == -1) {
			fprintf(stderr, "indexctl: renaming %s to %s: %s\n",
			    x.tmp, target, strerror(errno));
			goto done;
		}
		made_tmp = 0;
	}
	util_fsync_dir(parent);
	printf("exported %llu project(s), %llu file(s), %llu bytes to %s "
	    "(%llu hard-linked)\n", (unsigned long long)x.nprojects,
	    (unsigned long long)x.nfiles, (unsigned long long)x.nbytes,
	    target, (unsigned long long)x.linked);
	rc = 0;
done:
	if (made_tmp && rm_tree(x.tmp) == -1)
		fprintf(stderr, "indexctl: could not remove %s\n", x.tmp);
	pagerows_projects_free(&pl);
	buf_free(&x.page);
	ctl_close_data(x.store, x.cat);
	return rc;
}
