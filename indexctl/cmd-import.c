/*
 * cmd-import.c: indexctl import PATH... Walks files and directories
 * (recursively, not following symlinks inside directories), verifies each
 * wheel and sdist and records it through ingest_file(), the same path
 * uploads and builds take. Files already present are skipped; every
 * rejected file gets its reason.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "indexctl.h"
#include "ingest.h"
#include "store.h"
#include "util.h"
#include "verify.h"
#include "wheelname.h"

#define IMPORT_MAX_DEPTH	64
#define IMPORT_MAX_FILES	(1024 * 1024)

static int cmd_import_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_import_entry = {
	"import",
	"import [--json] [--allow-linux-tag] [--origin TEXT] PATH...",
	"verify and record wheels and sdists from files or directories "
	"(recursive); skips what is already there",
	cmd_import_exec
};

/*
 * A file to import. Files found by walking a directory remember where
 * the named directory ends (rootlen), so they are opened again below it
 * without following any symlink: the tree may be writable by others, and
 * swapping a directory or file for a symlink between the walk and the
 * import must not publish something else (say, a private file of the
 * user running the import). Files named on the command line (rootlen 0)
 * are opened as given.
 */
struct entry {
	char	*path;
	size_t	 rootlen;
};

struct pathlist {
	struct entry	*v;
	size_t		 n, alloc;
};

/* A path that could not even be looked at: rejected with its reason. */
struct badpath {
	char	*path;
	char	*reason;
};

struct walk {
	struct pathlist	 files;
	struct badpath	*bad;
	size_t		 nbad, badalloc;
	int		 oom;
};

static int
pl_add(struct walk *w, const char *path, size_t rootlen)
{
	struct entry *nv;

	if (w->files.n >= IMPORT_MAX_FILES) {
		errno = E2BIG;
		return -1;
	}
	if (w->files.n == w->files.alloc) {
		size_t n = w->files.alloc ? w->files.alloc * 2 : 64;

		if ((nv = reallocarray(w->files.v, n, sizeof(*nv))) == NULL)
			goto oom;
		w->files.v = nv;
		w->files.alloc = n;
	}
	if ((w->files.v[w->files.n].path = strdup(path)) == NULL)
		goto oom;
	w->files.v[w->files.n].rootlen = rootlen;
	w->files.n++;
	return 0;
oom:
	w->oom = 1;
	return -1;
}

static void
bad_add(struct walk *w, const char *path, const char *reason)
{
	struct badpath *nb;

	if (w->nbad == w->badalloc) {
		size_t n = w->badalloc ? w->badalloc * 2 : 16;

		if ((nb = reallocarray(w->bad, n, sizeof(*nb))) == NULL) {
			w->oom = 1;
			return;
		}
		w->bad = nb;
		w->badalloc = n;
	}
	w->bad[w->nbad].path = strdup(path);
	w->bad[w->nbad].reason = strdup(reason);
	if (w->bad[w->nbad].path == NULL || w->bad[w->nbad].reason == NULL) {
		free(w->bad[w->nbad].path);
		free(w->bad[w->nbad].reason);
		w->oom = 1;
		return;
	}
	w->nbad++;
}

static int
walk_dir(struct walk *w, const char *dir, size_t rootlen, int depth)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX], reason[PATH_MAX + 64];
	DIR *d;

	if (depth > IMPORT_MAX_DEPTH) {
		bad_add(w, dir, "directories nested too deeply");
		return 0;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(reason, sizeof(reason), "cannot read directory: %s",
		    strerror(errno));
		bad_add(w, dir, reason);
		return 0;
	}
	while ((de = readdir(d)) != NULL && !w->oom) {
		/* Hidden entries: VCS directories, partial downloads. */
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name) >=
		    sizeof(path)) {
			bad_add(w, de->d_name, "path too long");
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (walk_dir(w, path, rootlen, depth + 1) == -1)
				break;
		} else if (S_ISREG(st.st_mode) &&
		    distname_kind(de->d_name) != 0) {
			if (pl_add(w, path, rootlen) == -1) {
				if (!w->oom)
					bad_add(w, path, "too many files in one "
					    "import");
				break;
			}
		}
	}
	closedir(d);
	return w->oom ? -1 : 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
	    ((const struct entry *)b)->path);
}

/*
 * Open e for reading: a regular file, never a FIFO or device (O_NONBLOCK
 * keeps a FIFO from hanging us before the check), and below a walked
 * directory through no symlink. -1 with reason filled in.
 */
static int
open_entry(const struct entry *e, char *reason, size_t reasonlen)
{
	char root[PATH_MAX];
	struct stat st;
	int fd = -1;

	if (e->rootlen == 0) {
		fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd == -1)
			goto sys;
	} else {
		if (util_strlcpy(root, e->path, sizeof(root)) >= sizeof(root)) {
			errno = ENAMETOOLONG;
			goto sys;
		}
		root[e->rootlen] = '\0';
		fd = util_open_beneath(root, e->path + e->rootlen,
		    O_RDONLY | O_NONBLOCK);
		if (fd == -1) {
			if (errno == ELOOP)
				goto moved;
			goto sys;
		}
	}
	if (fstat(fd, &st) == -1)
		goto sys;
	if (!S_ISREG(st.st_mode)) {
		snprintf(reason, reasonlen, "not a regular file");
		goto fail;
	}
	return fd;
moved:
	snprintf(reason, reasonlen, "became a symbolic link while the "
	    "directory was read (symlinks inside directories are not "
	    "followed)");
	goto fail;
sys:
	snprintf(reason, reasonlen, "%s", strerror(errno));
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

/* Put path back where a message names /proc/self/fd/N instead. */
static void
unproc(char *msg, size_t msglen, const char *proc, const char *path)
{
	const char *m = msg, *p;
	size_t n = strlen(proc);
	struct buf b;

	if (strstr(msg, proc) == NULL)
		return;
	buf_init(&b, 4 * msglen);
	while ((p = strstr(m, proc)) != NULL) {
		buf_add(&b, m, (size_t)(p - m));
		buf_addstr(&b, path);
		m = p + n;
	}
	buf_addstr(&b, m);
	if (b.ptr != NULL)
		util_strlcpy(msg, b.ptr, msglen);
	buf_free(&b);
}

static void
walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->files.n; i++)
		free(w->files.v[i].path);
	free(w->files.v);
	for (i = 0; i < w->nbad; i++) {
		free(w->bad[i].path);
		free(w->bad[i].reason);
	}
	free(w->bad);
}

struct counts {
	unsigned long	 imported, skipped, rejected;
	json_t		*jimported, *jskipped, *jrejected;
	struct buf	 reasons;
};

static void
reject(struct counts *k, int json, const char *path, const char *code,
    const char *msg)
{
	k->rejected++;
	if (json)
		json_array_append_new(k->jrejected, json_pack("{s:s, s:s, s:s}",
		    "path", path, "error", code, "message", msg));
	else
		buf_printf(&k->reasons, "rejected %s: %s [%s]\n", path, msg,
		    code);
}

static int
cmd_import_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "allow-linux-tag", no_argument, NULL, 'L' },
		{ "origin", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct walk w;
	struct counts k;
	struct ingest_opts io;
	struct verify_result *r;
	struct store *s = NULL;
	struct catalog *c = NULL;
	struct wwerr err;
	struct stat st;
	char abspath[PATH_MAX], origin[PATH_MAX + 16], reason[512];
	const char *origin_opt = NULL;
	int ch, i, allow_linux = 0, progress, rc = 1;
	size_t j, n;

	if (cmd_want_help(&cmd_import_entry, argc, argv))
		return 0;
	optind = 0;	/* 0: full getopt re-init (main used "+") */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx->json = 1;
			break;
		case 'L':
			allow_linux = 1;
			break;
		case 'o':
			origin_opt = optarg;
			break;
		default:
			return cmd_usage(&cmd_import_entry);
		}
	}
	if (optind >= argc)
		return cmd_usage(&cmd_import_entry);

	memset(&w, 0, sizeof(w));
	memset(&k, 0, sizeof(k));
	buf_init(&k.reasons, 64 * 1024 * 1024);
	for (i = optind; i < argc && !w.oom; i++) {
		if (stat(argv[i], &st) == -1) {
			snprintf(reason, sizeof(reason), "%s", strerror(errno));
			bad_add(&w, argv[i], reason);
		} else if (S_ISDIR(st.st_mode))
			walk_dir(&w, argv[i], strlen(argv[i]), 0);
		else if (pl_add(&w, argv[i], 0) == -1 && !w.oom)
			bad_add(&w, argv[i], "too many files in one import");
	}
	if (w.oom) {
		fprintf(stderr, "indexctl: import: out of memory\n");
		goto out;
	}
	/* Sorted and unique: deterministic order, each file once. */
	qsort(w.files.v, w.files.n, sizeof(w.files.v[0]), entry_cmp);
	for (j = 0, n = 0; j < w.files.n; j++) {
		if (n > 0 && strcmp(w.files.v[n - 1].path,
		    w.files.v[j].path) == 0) {
			free(w.files.v[j].path);
			continue;
		}
		w.files.v[n++] = w.files.v[j];
	}
	w.files.n = n;

	if (ctx->json && ((k.jimported = json_array()) == NULL ||
	    (k.jskipped = json_array()) == NULL ||
	    (k.jrejected = json_array()) == NULL)) {
		fprintf(stderr, "indexctl: import: out of memory\n");
		goto out;
	}
	for (j = 0; j < w.nbad; j++)
		reject(&k, ctx->json, w.bad[j].path, "io", w.bad[j].reason);
	if (ctl_open_data(ctx, CTL_CREATE, &s, &c) == -1)
		goto out;

	/* Progress goes to stderr: shown whenever that is a terminal. */
	progress = isatty(STDERR_FILENO) && !ctx->json;
	for (j = 0; j < w.files.n; j++) {
		const char *path = w.files.v[j].path;
		const char *src;
		char proc[64];
		int fd;

		if (progress) {
			fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", j + 1,
			    w.files.n, path);
			fflush(stderr);
		}
		memset(&io, 0, sizeof(io));
		io.allow_linux_tag = allow_linux;
		if (origin_opt != NULL)
			io.origin = origin_opt;
		else {
			if (realpath(path, abspath) == NULL)
				util_strlcpy(abspath, path, sizeof(abspath));
			snprintf(origin, sizeof(origin), "import:%s", abspath);
			io.origin = origin;
		}
		if ((fd = open_entry(&w.files.v[j], reason,
		    sizeof(reason))) == -1) {
			reject(&k, ctx->json, path, "io", reason);
			continue;
		}
		/* Verify and store exactly the inode opened above (by its
		 * path only where there is no /proc). */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		src = access(proc, R_OK) == 0 ? proc : path;
		io.filename = util_base_name(path);
		r = NULL;
		wwerr_clear(&err);
		rc = ingest_file(s, c, src, &io, &ctx->conf->limits, &r, &err);
		close(fd);
		unproc(err.msg, sizeof(err.msg), proc, path);
		switch (rc) {
		case INGEST_ADDED:
			k.imported++;
			if (ctx->json)
				json_array_append_new(k.jimported, json_pack(
				    "{s:s, s:s, s:s, s:s, s:s, s:I}", "path",
				    path, "filename", r->filename, "project",
				    r->normalized, "version", r->version,
				    "sha256", r->sha256, "size",
				    (json_int_t)r->size));
			break;
		case INGEST_EXISTS:
			k.skipped++;
			if (ctx->json)
				json_array_append_new(k.jskipped, json_pack(
				    "{s:s, s:s, s:s}", "path", path, "filename",
				    r->filename, "sha256", r->sha256));
			break;
		default:
			reject(&k, ctx->json, path, ingest_err_name(err.code),
			    err.msg);
			break;
		}
		verify_result_free(r);
	}
	rc = 1;
	if (progress)
		fprintf(stderr, "\r\033[K");

	if (ctx->json) {
		json_t *jo = json_pack("{s:{s:i, s:i, s:i}, s:O, s:O, s:O}",
		    "counts", "imported", (int)k.imported, "skipped",
		    (int)k.skipped, "rejected", (int)k.rejected, "imported",
		    k.jimported, "skipped", k.jskipped, "rejected",
		    k.jrejected);

		if (ctl_json_print(jo) != 0)
			goto out;
	} else {
		fputs(buf_cstr(&k.reasons), stdout);
		printf("imported %lu, skipped %lu, rejected %lu\n", k.imported,
		    k.skipped, k.rejected);
	}
	rc = k.rejected ? 1 : 0;
out:
	if (s != NULL)
		ctl_close_data(s, c);
	json_decref(k.jimported);
	json_decref(k.jskipped);
	json_decref(k.jrejected);
	buf_free(&k.reasons);
	walk_free(&w);
	return rc;
}
