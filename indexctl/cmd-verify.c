/*
 * cmd-verify.c: indexctl verify. Re-hashes every stored file (and its
 * .metadata) against the catalog and reports what is missing, corrupt
 * (hash or size differ) or unknown (in the store, not in the catalog).
 * The catalog is read once up front so no read transaction stays open
 * while gigabytes are hashed.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"
#include "hash.h"
#include "indexctl.h"
#include "store.h"
#include "util.h"

static int cmd_verify_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_verify_entry = {
	"verify",
	"verify [--json] [--quiet]",
	"re-hash the store against the catalog; report missing, corrupt and "
	"unknown files",
	cmd_verify_exec
};

struct vfile {
	char	*filename;
	char	 sha256[HASH_SHA256_HEXLEN];
	uint64_t size;
	int	 has_metadata;
	char	 metadata_sha256[HASH_SHA256_HEXLEN];
};

struct vstate {
	struct vfile	*files;
	size_t		 nfiles, alloc;
	char		**known;	/* sorted names the catalog accounts for */
	size_t		 nknown;
	int		 oom;
	/* results */
	uint64_t	 ok, bytes, nmissing, ncorrupt, nunknown;
	json_t		*jmissing, *jcorrupt, *junknown;
	int		 json, quiet, progress;
};

static int
collect(const struct catalog_file *f, void *arg)
{
	struct vstate *v = arg;
	struct vfile *nf;

	if (v->nfiles == v->alloc) {
		size_t n = v->alloc ? v->alloc * 2 : 256;

		if ((nf = reallocarray(v->files, n, sizeof(*nf))) == NULL) {
			v->oom = 1;
			return 1;
		}
		v->files = nf;
		v->alloc = n;
	}
	nf = &v->files[v->nfiles];
	memset(nf, 0, sizeof(*nf));
	if ((nf->filename = strdup(f->filename)) == NULL) {
		v->oom = 1;
		return 1;
	}
	memcpy(nf->sha256, f->sha256, sizeof(nf->sha256));
	nf->size = f->size;
	nf->has_metadata = f->has_metadata;
	memcpy(nf->metadata_sha256, f->metadata_sha256,
	    sizeof(nf->metadata_sha256));
	v->nfiles++;
	return 0;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
build_known(struct vstate *v)
{
	size_t i, n = 0;
	char buf[PATH_MAX];

	if ((v->known = calloc(v->nfiles * 2 + 1, sizeof(char *))) == NULL)
		return -1;
	/* nknown counts as it goes: vstate_free frees a partial list. */
	for (i = 0; i < v->nfiles; i++) {
		if ((v->known[v->nknown] = strdup(v->files[i].filename)) ==
		    NULL)
			return -1;
		v->nknown++;
		if (v->files[i].has_metadata) {
			snprintf(buf, sizeof(buf), "%s.metadata",
			    v->files[i].filename);
			if ((v->known[v->nknown] = strdup(buf)) == NULL)
				return -1;
			v->nknown++;
		}
	}
	n = v->nknown;
	qsort(v->known, n, sizeof(char *), strp_cmp);
	return 0;
}

static void
problem(struct vstate *v, const char *kind, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct vstate *v, const char *kind, const char *name,
    const char *fmt, ...)
{
	char detail[512] = "";
	va_list ap;
	json_t *arr;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (strcmp(kind, "missing") == 0) {
		v->nmissing++;
		arr = v->jmissing;
	} else if (strcmp(kind, "corrupt") == 0) {
		v->ncorrupt++;
		arr = v->jcorrupt;
	} else {
		v->nunknown++;
		arr = v->junknown;
	}
	if (v->json) {
		json_array_append_new(arr, json_pack("{s:s, s:s}", "file", name,
		    "detail", detail));
		return;
	}
	if (v->progress)
		fprintf(stderr, "\r\033[K");
	printf("%-8s %s%s%s\n", kind, name, detail[0] ? ": " : "", detail);
	fflush(stdout);
}

/* Hash one stored file: 0 ok, 1 problem reported, -1 fatal. */
static int
check_one(struct vstate *v, struct store *s, const char *name,
    const char *want_sha, int check_size, uint64_t want_size)
{
	char path[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	struct stat st;
	uint64_t size;
	int fd;

	if (store_path(s, name, path, sizeof(path)) == -1) {
		problem(v, "corrupt", name, "unsafe file name in the catalog");
		return 1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			problem(v, "missing", name, NULL);
		else
			problem(v, "corrupt", name, "cannot open: %s",
			    strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		problem(v, "corrupt", name, "not a regular file");
		return 1;
	}
	if (check_size && (uint64_t)st.st_size != want_size) {
		close(fd);
		problem(v, "corrupt", name, "size %lld, expected %llu",
		    (long long)st.st_size, (unsigned long long)want_size);
		return 1;
	}
	if (hash_sha256_fd(fd, hex, &size) == -1) {
		close(fd);
		problem(v, "corrupt", name, "read error: %s", strerror(errno));
		return 1;
	}
	close(fd);
	v->bytes += size;
	if (strcmp(hex, want_sha) != 0) {
		problem(v, "corrupt", name, "sha256 %s, expected %s", hex,
		    want_sha);
		return 1;
	}
	return 0;
}

/* Entries in the files directory that the catalog does not account for;
 * re-checked against the live catalog so a concurrent import is not
 * reported. */
static int
scan_unknown(struct vstate *v, struct store *s, struct catalog *c)
{
	struct catalog_file f;
	struct dirent *de;
	struct wwerr err;
	char base[PATH_MAX];
	const char *name;
	size_t n;
	DIR *d;

	if ((d = opendir(store_filesdir(s))) == NULL) {
		fprintf(stderr, "indexctl: verify: %s: %s\n",
		    store_filesdir(s), strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (bsearch(&name, v->known, v->nknown, sizeof(char *),
		    strp_cmp) != NULL)
			continue;
		util_strlcpy(base, name, sizeof(base));
		n = strlen(base);
		if (n > 9 && strcmp(base + n - 9, ".metadata") == 0)
			base[n - 9] = '\0';
		if (catalog_get_file(c, base, &f, &err) == 0) {
			int late = strcmp(base, name) == 0 || f.has_metadata;

			catalog_file_free(&f);
			if (late)
				continue;
		}
		problem(v, "unknown", name, "in the store but not in the "
		    "catalog");
	}
	closedir(d);
	return 0;
}

static void
vstate_free(struct vstate *v)
{
	size_t i;

	for (i = 0; i < v->nfiles; i++)
		free(v->files[i].filename);
	free(v->files);
	for (i = 0; i < v->nknown; i++)
		free(v->known[i]);
	free(v->known);
	json_decref(v->jmissing);
	json_decref(v->jcorrupt);
	json_decref(v->junknown);
}

static int
cmd_verify_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct vstate v;
	struct store *s;
	struct catalog *c;
	struct wwerr err;
	size_t i;
	int ch, rc = 1, stale;

	if (cmd_want_help(&cmd_verify_entry, argc, argv))
		return 0;
	memset(&v, 0, sizeof(v));
	optind = 0;	/* 0: full getopt re-init (main used "+") */
	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx->json = 1;
			break;
		case 'q':
			v.quiet = 1;
			break;
		default:
			return cmd_usage(&cmd_verify_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_verify_entry);
	v.json = ctx->json;
	v.progress = isatty(STDERR_FILENO) && !v.json && !v.quiet;
	if (v.json && ((v.jmissing = json_array()) == NULL ||
	    (v.jcorrupt = json_array()) == NULL ||
	    (v.junknown = json_array()) == NULL)) {
		vstate_free(&v);
		return 1;
	}
	if (ctl_open_data(ctx, CTL_RDONLY, &s, &c) == -1) {
		vstate_free(&v);
		return 1;
	}
	if (catalog_foreach_all_files(c, collect, &v, &err) == -1) {
		fprintf(stderr, "indexctl: verify: %s\n", err.msg);
		goto out;
	}
	if (v.oom || build_known(&v) == -1) {
		fprintf(stderr, "indexctl: verify: out of memory\n");
		goto out;
	}
	for (i = 0; i < v.nfiles; i++) {
		struct vfile *f = &v.files[i];
		char meta[PATH_MAX];

		if (v.progress) {
			fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", i + 1,
			    v.nfiles, f->filename);
			fflush(stderr);
		}
		if (check_one(&v, s, f->filename, f->sha256, 1, f->size) != 0)
			continue;
		if (f->has_metadata) {
			snprintf(meta, sizeof(meta), "%s.metadata", f->filename);
			if (check_one(&v, s, meta, f->metadata_sha256, 0, 0) !=
			    0)
				continue;
		}
		v.ok++;
	}
	if (v.progress)
		fprintf(stderr, "\r\033[K");
	if (scan_unknown(&v, s, c) == -1)
		goto out;
	stale = 0;
	{
		DIR *d = opendir(store_tmpdir(s));
		struct dirent *de;

		while (d != NULL && (de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				stale++;
		if (d != NULL)
			closedir(d);
	}
	if (v.json) {
		json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
		    "checked", (json_int_t)v.nfiles, "ok", (json_int_t)v.ok,
		    "bytes", (json_int_t)v.bytes, "temp_files",
		    (json_int_t)stale, "missing", json_incref(v.jmissing),
		    "corrupt", json_incref(v.jcorrupt), "unknown",
		    json_incref(v.junknown));

		if (ctl_json_print(j) != 0)
			goto out;
	} else {
		printf("verified %zu files (%llu bytes): ok %llu, missing %llu, "
		    "corrupt %llu, unknown %llu\n", v.nfiles,
		    (unsigned long long)v.bytes, (unsigned long long)v.ok,
		    (unsigned long long)v.nmissing,
		    (unsigned long long)v.ncorrupt,
		    (unsigned long long)v.nunknown);
		if (stale > 0 && !v.quiet)
			printf("note: %d leftover temporary file%s in %s "
			    "(from interrupted writes; safe to delete when "
			    "nothing is running)\n", stale, stale == 1 ? "" :
			    "s", store_tmpdir(s));
	}
	rc = (v.nmissing || v.ncorrupt || v.nunknown) ? 1 : 0;
out:
	ctl_close_data(s, c);
	vstate_free(&v);
	return rc;
}
