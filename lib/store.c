/*
 * store.c: the immutable file store (see store.h). A file appears under
 * its final name only through link(), which fails if the name exists, so a
 * stored file is never replaced and a reader never sees a partial one.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "store.h"
#include "util.h"

#define METADATA_SUFFIX	".metadata"
#define COPY_BUF	(256 * 1024)

struct store {
	char	*datadir;
	char	*filesdir;
	char	*tmpdir;
	char	*catalog;
};

static char *
path_join(const char *a, const char *b)
{
	char *p;
	size_t n = strlen(a) + strlen(b) + 2;

	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

int
store_open(const char *datadir, struct store **out, struct wwerr *err)
{
	struct store *s;
	char real[PATH_MAX];

	*out = NULL;
	if (datadir == NULL || *datadir == '\0')
		return wwerr_set(err, STORE_E_NAME, "store: no data directory");
	if (util_mkdirs(datadir, 0755) == -1)
		return wwerr_set(err, STORE_E_IO, "store: mkdir %s: %s",
		    datadir, strerror(errno));
	if (realpath(datadir, real) == NULL)
		return wwerr_set(err, STORE_E_IO, "store: %s: %s", datadir,
		    strerror(errno));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return wwerr_set(err, STORE_E_IO, "store: out of memory");
	s->datadir = strdup(real);
	s->filesdir = path_join(real, "files");
	s->tmpdir = path_join(real, "tmp");
	s->catalog = path_join(real, "catalog.sqlite");
	if (s->datadir == NULL || s->filesdir == NULL || s->tmpdir == NULL ||
	    s->catalog == NULL) {
		store_close(s);
		return wwerr_set(err, STORE_E_IO, "store: out of memory");
	}
	if (util_mkdirs(s->filesdir, 0755) == -1 ||
	    util_mkdirs(s->tmpdir, 0700) == -1) {
		wwerr_set(err, STORE_E_IO, "store: mkdir under %s: %s", real,
		    strerror(errno));
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	free(s->datadir);
	free(s->filesdir);
	free(s->tmpdir);
	free(s->catalog);
	free(s);
}

const char *
store_datadir(const struct store *s)
{
	return s->datadir;
}

const char *
store_tmpdir(const struct store *s)
{
	return s->tmpdir;
}

const char *
store_filesdir(const struct store *s)
{
	return s->filesdir;
}

const char *
store_catalog_path(const struct store *s)
{
	return s->catalog;
}

int
store_name_ok(const char *name)
{
	const unsigned char *p;
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > 255 ||
	    name[0] == '.')
		return 0;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
store_path(const struct store *s, const char *filename, char *out,
    size_t outlen)
{
	if (!store_name_ok(filename))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%s", s->filesdir, filename) >=
	    outlen)
		return -1;
	return 0;
}

/*
 * Hash an existing stored file. 0 absent, 1 present (hex filled in),
 * -1 error. Does not follow symlinks: the store holds regular files only.
 */
static int
hash_existing(const char *path, char hex[HASH_SHA256_HEXLEN],
    struct wwerr *err)
{
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return wwerr_set(err, STORE_E_IO, "store: %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wwerr_set(err, STORE_E_IO, "store: %s: not a regular "
		    "file", path);
	}
	rc = hash_sha256_fd(fd, hex, NULL);
	close(fd);
	if (rc == -1)
		return wwerr_set(err, STORE_E_IO, "store: reading %s: %s", path,
		    strerror(errno));
	return 1;
}

int
store_mktemp(struct store *s, const char *prefix, char *out, size_t outlen)
{
	if (prefix == NULL || !store_name_ok(prefix)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(out, outlen, "%s/%s-XXXXXX", s->tmpdir, prefix) >=
	    outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(out, O_CLOEXEC);
}

/* Finish a temp file: read-only mode (stored files never change), fsync. */
static int
seal(int fd)
{
	if (fchmod(fd, 0444) == -1 || fsync(fd) == -1)
		return -1;
	return 0;
}

/* Copy src into a new temp file, hashing on the way. */
static int
copy_to_tmp(struct store *s, int sfd, const char *src, char *tmp,
    size_t tmplen, char hex[HASH_SHA256_HEXLEN], struct wwerr *err)
{
	unsigned char *buf = NULL, d[HASH_SHA256_LEN];
	struct sha256 h = { 0 };
	ssize_t r;
	int fd;

	tmp[0] = '\0';
	if ((fd = store_mktemp(s, "put", tmp, tmplen)) == -1) {
		wwerr_set(err, STORE_E_IO, "store: temp file in %s: %s",
		    s->tmpdir, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	if ((buf = malloc(COPY_BUF)) == NULL || sha256_init(&h) == -1) {
		wwerr_set(err, STORE_E_IO, "store: out of memory");
		goto fail;
	}
	for (;;) {
		r = read(sfd, buf, COPY_BUF);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			wwerr_set(err, STORE_E_IO, "store: reading %s: %s", src,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		sha256_update(&h, buf, (size_t)r);
		if (util_write_all(fd, buf, (size_t)r) == -1) {
			wwerr_set(err, STORE_E_IO, "store: writing %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
	}
	if (sha256_final(&h, d) == -1) {
		wwerr_set(err, STORE_E_IO, "store: sha256 failed");
		goto fail;
	}
	hash_hex(d, sizeof(d), hex);
	if (seal(fd) == -1) {
		wwerr_set(err, STORE_E_IO, "store: syncing %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		wwerr_set(err, STORE_E_IO, "store: closing %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	free(buf);
	return 0;
fail:
	if (h.ctx != NULL)
		sha256_final(&h, NULL);
	free(buf);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	tmp[0] = '\0';
	return -1;
}

/* Is the directory holding path our tmp dir (so link() can be used)? */
static int
in_tmpdir(const struct store *s, const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat a, b;

	if (util_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &a) == -1 || stat(s->tmpdir, &b) == -1)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * link(tmp, dst). 0 linked, 1 dst existed with identical bytes, -1 error
 * (STORE_E_EXISTS if it existed with different bytes).
 */
static int
link_new(const char *tmp, const char *dst, const char *hex,
    const char *what, struct wwerr *err)
{
	char have[HASH_SHA256_HEXLEN];
	int rc;

	if (link(tmp, dst) == 0)
		return 0;
	if (errno != EEXIST)
		return wwerr_set(err, STORE_E_IO, "store: link %s: %s", dst,
		    strerror(errno));
	if ((rc = hash_existing(dst, have, err)) == -1)
		return -1;
	if (rc == 0)	/* removed meanwhile: undo of a failed ingest */
		return link(tmp, dst) == 0 ? 0 : wwerr_set(err, STORE_E_IO,
		    "store: link %s: %s", dst, strerror(errno));
	if (strcmp(have, hex) != 0)
		return wwerr_set(err, STORE_E_EXISTS, "%s already exists in the "
		    "store with different contents (sha256 %s, not %s)", what,
		    have, hex);
	return 1;
}

/* Store bytes under name (the .metadata file). Same return as link_new. */
static int
put_bytes(struct store *s, const char *name, const void *data, size_t len,
    struct wwerr *err)
{
	char dst[PATH_MAX], tmp[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	char have[HASH_SHA256_HEXLEN];
	unsigned char d[HASH_SHA256_LEN];
	int fd, rc;

	if (store_path(s, name, dst, sizeof(dst)) == -1)
		return wwerr_set(err, STORE_E_NAME, "store: unsafe name \"%s\"",
		    name);
	if (hash_sha256_mem(data, len, d) == -1)
		return wwerr_set(err, STORE_E_IO, "store: sha256 failed");
	hash_hex(d, sizeof(d), hex);
	if ((rc = hash_existing(dst, have, err)) == -1)
		return -1;
	if (rc == 1) {
		if (strcmp(have, hex) != 0)
			return wwerr_set(err, STORE_E_EXISTS, "%s already exists "
			    "in the store with different contents", name);
		return 1;
	}
	if ((fd = store_mktemp(s, "meta", tmp, sizeof(tmp))) == -1)
		return wwerr_set(err, STORE_E_IO, "store: temp file in %s: %s",
		    s->tmpdir, strerror(errno));
	if (util_write_all(fd, data, len) == -1 || seal(fd) == -1) {
		wwerr_set(err, STORE_E_IO, "store: writing %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1) {
		wwerr_set(err, STORE_E_IO, "store: writing %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	rc = link_new(tmp, dst, hex, name, err);
	unlink(tmp);
	return rc;
}

int
store_put(struct store *s, const char *src, const char *filename,
    const char *sha256, const void *metadata, size_t metadata_len,
    struct wwerr *err)
{
	char dst[PATH_MAX], tmp[PATH_MAX] = "", hex[HASH_SHA256_HEXLEN];
	char have[HASH_SHA256_HEXLEN], meta[PATH_MAX];
	const char *expect = sha256;
	struct stat st;
	int sfd = -1, rc, created = 0;

	if (!store_name_ok(filename) || util_has_suffix(filename, strlen(filename), METADATA_SUFFIX) ||
	    (metadata != NULL && strlen(filename) + strlen(METADATA_SUFFIX) >
	    255))
		return wwerr_set(err, STORE_E_NAME, "store: \"%s\" is not a safe "
		    "file name", filename ? filename : "");
	if (sha256 != NULL && !hash_is_hex64(sha256))
		return wwerr_set(err, STORE_E_DIGEST, "store: %s: expected "
		    "sha256 \"%s\" is not 64 lowercase hex digits", filename,
		    sha256);
	if (store_path(s, filename, dst, sizeof(dst)) == -1)
		return wwerr_set(err, STORE_E_NAME, "store: \"%s\": path too "
		    "long", filename);
	/* O_NONBLOCK: a FIFO must fail the check below, not hang us. */
	if ((sfd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return wwerr_set(err, STORE_E_IO, "store: %s: %s", src,
		    strerror(errno));
	if (fstat(sfd, &st) == -1 || !S_ISREG(st.st_mode)) {
		wwerr_set(err, STORE_E_IO, "store: %s: not a regular file", src);
		goto fail;
	}
	if (expect == NULL) {
		if (hash_sha256_fd(sfd, hex, NULL) == -1 ||
		    lseek(sfd, 0, SEEK_SET) == -1) {
			wwerr_set(err, STORE_E_IO, "store: reading %s: %s", src,
			    strerror(errno));
			goto fail;
		}
		expect = hex;
	}

	/* Cheap no-op for a re-import: the file is already there. */
	if ((rc = hash_existing(dst, have, err)) == -1)
		goto fail;
	if (rc == 1 && strcmp(have, expect) != 0) {
		wwerr_set(err, STORE_E_EXISTS, "%s already exists in the store "
		    "with different contents (sha256 %s, not %s)", filename,
		    have, expect);
		goto fail;
	}
	if (rc == 0) {
		if (in_tmpdir(s, src)) {
			/* Already ours (an upload): seal and link, no copy. */
			if (hash_sha256_fd(sfd, hex, NULL) == -1) {
				wwerr_set(err, STORE_E_IO, "store: reading %s: "
				    "%s", src, strerror(errno));
				goto fail;
			}
			if (seal(sfd) == -1) {
				wwerr_set(err, STORE_E_IO, "store: syncing %s: "
				    "%s", src, strerror(errno));
				goto fail;
			}
		} else if (copy_to_tmp(s, sfd, src, tmp, sizeof(tmp), hex,
		    err) == -1)
			goto fail;
		if (strcmp(hex, expect) != 0) {
			wwerr_set(err, STORE_E_DIGEST, "%s: sha256 is %s, "
			    "expected %s (changed while being stored?)", src, hex,
			    expect);
			goto fail;
		}
		rc = link_new(tmp[0] ? tmp : src, dst, hex, filename, err);
		if (rc == -1)
			goto fail;
		created = rc == 0;
		if (tmp[0]) {
			unlink(tmp);
			tmp[0] = '\0';
		}
	}
	if (metadata != NULL) {
		snprintf(meta, sizeof(meta), "%s%s", filename, METADATA_SUFFIX);
		if (put_bytes(s, meta, metadata, metadata_len, err) == -1) {
			if (created)
				unlink(dst);
			created = 0;
			goto fail;
		}
	}
	if (util_fsync_dir(s->filesdir) == -1) {
		wwerr_set(err, STORE_E_IO, "store: fsync %s: %s", s->filesdir,
		    strerror(errno));
		if (created)
			store_remove(s, filename);
		created = 0;
		goto fail;
	}
	close(sfd);
	return created ? 0 : 1;
fail:
	if (tmp[0])
		unlink(tmp);
	if (sfd != -1)
		close(sfd);
	return -1;
}

int
store_remove(struct store *s, const char *filename)
{
	char path[PATH_MAX];
	int rc = 0;

	if (store_path(s, filename, path, sizeof(path)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		rc = -1;
	if (strlen(path) + strlen(METADATA_SUFFIX) < sizeof(path)) {
		util_strlcat(path, METADATA_SUFFIX, sizeof(path));
		if (unlink(path) == -1 && errno != ENOENT)
			rc = -1;
	}
	if (util_fsync_dir(s->filesdir) == -1)
		rc = -1;
	return rc;
}

int
store_clean_tmp(struct store *s, int64_t min_age)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	time_t now = time(NULL);
	int dfd, n = 0;

	if ((d = opendir(s->tmpdir)) == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    S_ISDIR(st.st_mode))
			continue;
		if ((int64_t)(now - st.st_mtime) < min_age)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}
