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

struct pathlist {
	char	**v;
	size_t	  n, alloc;
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
pl_add(struct walk *w, const char *path)
{
	char **nv;

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
	if ((w->files.v[w->files.n] = strdup(path)) == NULL)
		goto oom;
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
walk_dir(struct walk *w, const char *dir, int depth)
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
			if (walk_dir(w, path, depth + 1) == -1)
				break;
		} else if (S_ISREG(st.st_mode) &&
		    distname_kind(de->d_name) != 0) {
			if (pl_add(w, path) == -1) {
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
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->files.n; i++)
		free(w->files.v[i]);
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
			walk_dir(&w, argv[i], 0);
		else if (pl_add(&w, argv[i]) == -1 && !w.oom)
			bad_add(&w, argv[i], "too many files in one import");
	}
	if (w.oom) {
		fprintf(stderr, "indexctl: import: out of memory\n");
		goto out;
	}
	/* Sorted and unique: deterministic order, each file once. */
	qsort(w.files.v, w.files.n, sizeof(char *), strp_cmp);
	for (j = 0, n = 0; j < w.files.n; j++) {
		if (n > 0 && strcmp(w.files.v[n - 1], w.files.v[j]) == 0) {
			free(w.files.v[j]);
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
		const char *path = w.files.v[j];

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
		r = NULL;
		wwerr_clear(&err);
		switch (ingest_file(s, c, path, &io, &ctx->conf->limits, &r,
		    &err)) {
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
