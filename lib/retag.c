/*
 * retag.c: rewrite a verified wheel with new platform/build tags and
 * extra members; see retag.h.
 *
 * The source is verified first, so everything copied is known good. The
 * new wheel is written with libarchive's zip writer in the order the
 * binary distribution format recommends: package files, then added
 * members, then the .dist-info with RECORD last. Member data is recompressed
 * (libarchive cannot copy raw deflate streams) and hashed as it is
 * written, which gives the new RECORD. The file goes to a temp name in
 * outdir, is fsync'd, verified again under its final name, and only then
 * linked into place with link(2), which never replaces an existing file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive_io.h"
#include "buf.h"
#include "record.h"
#include "retag.h"
#include "tags.h"
#include "util.h"
#include "wheelname.h"

const char *
retag_err_name(int code)
{
	switch (code) {
	case RETAG_E_ARGS: return "retag-args";
	case RETAG_E_EXISTS: return "retag-exists";
	case RETAG_E_IO: return "retag-io";
	case RETAG_E_NOMEM: return "retag-nomem";
	default: return verify_err_name(code);
	}
}

struct rctx {
	const struct retag_opts *opts;
	const struct limits *lim;
	struct wwerr	*err;
	struct archive	*w;
	struct buf	 record;	/* the new RECORD */
	char		*distinfo;	/* source .dist-info, as spelled */
	struct buf	 wheel;		/* source WHEEL */
	struct tagset	 tags;		/* new tags, expanded */
	const char	*build;		/* new build tag ("" none) */
	time_t		 mtime;		/* for added members */
};

static int
in_distinfo(const struct rctx *c, const char *path)
{
	size_t n = strlen(c->distinfo);

	return strncmp(path, c->distinfo, n) == 0 &&
	    (path[n] == '/' || path[n] == '\0');
}

static const struct retag_member *
find_add(const struct rctx *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->opts->nadd; i++)
		if (strcmp(c->opts->add[i].path, path) == 0)
			return &c->opts->add[i];
	return NULL;
}

static int
werr(struct rctx *c, const char *path)
{
	return wwerr_set(c->err, RETAG_E_IO, "writing \"%s\": %s", path,
	    archive_error_string(c->w) ? archive_error_string(c->w) :
	    "error");
}

/* Start a regular-file entry in the output. */
static int
begin_file(struct rctx *c, const char *path, int perm, time_t mtime,
    uint64_t size)
{
	struct archive_entry *e;
	int r;

	if ((e = archive_entry_new()) == NULL)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	archive_entry_set_pathname_utf8(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (mode_t)(perm ? perm & 0777 : 0644));
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	r = archive_write_header(c->w, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : werr(c, path);
}

static int
write_all(struct rctx *c, const char *path, const void *p, size_t n,
    struct sha256 *h)
{
	const char *q = p;
	la_ssize_t w;

	sha256_update(h, p, n);
	while (n > 0) {
		if ((w = archive_write_data(c->w, q, n)) <= 0)
			return werr(c, path);
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
end_file(struct rctx *c, const char *path, struct sha256 *h, int record)
{
	unsigned char d[HASH_SHA256_LEN];
	uint64_t len = h->len;

	if (sha256_final(h, d) == -1)
		return wwerr_set(c->err, RETAG_E_NOMEM, "hash failure");
	if (archive_write_finish_entry(c->w) != ARCHIVE_OK)
		return werr(c, path);
	if (record && record_add_row(&c->record, path, d, len) == -1)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	return 0;
}

static int
put_mem(struct rctx *c, const char *path, const void *p, size_t n,
    int perm, time_t mtime)
{
	struct sha256 h;

	if (begin_file(c, path, perm, mtime, n) == -1)
		return -1;
	if (sha256_init(&h) == -1)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	if (write_all(c, path, p, n, &h) == -1) {
		sha256_final(&h, NULL);
		return -1;
	}
	return end_file(c, path, &h, 1);
}

/* Copy the current entry of r into the output. */
static int
copy_entry(struct rctx *c, struct archive *r, struct archive_entry *e,
    const char *path)
{
	struct sha256 h;
	const void *blk;
	size_t n;
	la_int64_t off;
	int rc;

	if (begin_file(c, path, (int)archive_entry_perm(e),
	    archive_entry_mtime(e), (uint64_t)archive_entry_size(e)) == -1)
		return -1;
	if (sha256_init(&h) == -1)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	for (;;) {
		rc = archive_read_data_block(r, &blk, &n, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			sha256_final(&h, NULL);
			return wwerr_set(c->err, RETAG_E_IO, "reading \"%s\": "
			    "%s", path, archive_error_string(r));
		}
		if (write_all(c, path, blk, n, &h) == -1) {
			sha256_final(&h, NULL);
			return -1;
		}
	}
	return end_file(c, path, &h, 1);
}

static int
put_dir(struct rctx *c, struct archive_entry *se, const char *path)
{
	struct archive_entry *e;
	int r;

	if ((e = archive_entry_new()) == NULL)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	archive_entry_set_pathname_utf8(e, path);
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_mtime(e, archive_entry_mtime(se), 0);
	archive_entry_set_size(e, 0);
	r = archive_write_header(c->w, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK || archive_write_finish_entry(c->w) != ARCHIVE_OK)
		return werr(c, path);
	return 0;
}

/* The source WHEEL with its Tag and Build lines replaced. */
static int
new_wheel_file(struct rctx *c, struct buf *out)
{
	const char *p = buf_cstr(&c->wheel), *end = p + c->wheel.len, *eol;
	size_t i, klen;
	int skipping = 0, tags_done = 0;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		klen = strcspn(p, ":\n");
		if (*p == ' ' || *p == '\t') {
			/* continuation: follows its header's fate */
		} else if ((klen == 3 && strncasecmp(p, "Tag", 3) == 0) ||
		    (klen == 5 && strncasecmp(p, "Build", 5) == 0)) {
			skipping = 1;
			if (klen == 3 && !tags_done) {
				for (i = 0; i < c->tags.ntags; i++)
					if (buf_printf(out, "Tag: %s-%s-%s\n",
					    c->tags.tags[i].python,
					    c->tags.tags[i].abi,
					    c->tags.tags[i].platform) == -1)
						return -1;
				tags_done = 1;
			}
		} else {
			skipping = 0;
		}
		if (!skipping) {
			size_t n = (size_t)(eol - p);

			if (n > 0 && p[n - 1] == '\r')
				n--;
			if (n == 0)
				break;	/* end of headers */
			if (buf_add(out, p, n) == -1 || buf_addc(out, '\n') == -1)
				return -1;
		}
		p = eol < end ? eol + 1 : end;
	}
	if (*c->build != '\0' && buf_printf(out, "Build: %s\n", c->build) == -1)
		return -1;
	return 0;
}

/*
 * One pass over the source. Pass 0: everything outside the .dist-info
 * (and not replaced), learning the .dist-info name and WHEEL on the way.
 * Pass 1: the .dist-info, WHEEL rewritten, RECORD and signatures dropped.
 */
static int
copy_pass(struct rctx *c, struct aio_src *src, int pass)
{
	struct archive *r;
	struct archive_entry *e;
	const char *path, *rel;
	int st, rc = -1;

	if ((r = archive_read_new()) == NULL)
		return wwerr_set(c->err, RETAG_E_NOMEM, "out of memory");
	archive_read_support_format_zip_seekable(r);
	if (aio_archive_open(src, r, 0) == -1) {
		wwerr_set(c->err, RETAG_E_IO, "reading source: %s",
		    archive_error_string(r));
		goto done;
	}
	for (;;) {
		st = archive_read_next_header(r, &e);
		if (st == ARCHIVE_EOF)
			break;
		if (st != ARCHIVE_OK) {
			wwerr_set(c->err, RETAG_E_IO, "reading source: %s",
			    archive_error_string(r));
			goto done;
		}
		path = archive_entry_pathname(e);
		if (path == NULL) {
			wwerr_set(c->err, RETAG_E_IO, "reading source: bad name");
			goto done;
		}
		if (pass == 0 && c->distinfo == NULL) {
			const char *sl = strchr(path, '/');
			size_t tl = sl ? (size_t)(sl - path) : strlen(path);

			if (tl > 10 && memcmp(path + tl - 10, ".dist-info",
			    10) == 0 &&
			    (c->distinfo = strndup(path, tl)) == NULL) {
				wwerr_set(c->err, RETAG_E_NOMEM,
				    "out of memory");
				goto done;
			}
		}
		if (archive_entry_filetype(e) == AE_IFDIR) {
			if (pass == 0 && (c->distinfo == NULL ||
			    !in_distinfo(c, path)) && put_dir(c, e, path) == -1)
				goto done;
			continue;
		}
		if (pass == 0) {
			if (c->distinfo != NULL && in_distinfo(c, path))
				continue;
			if (find_add(c, path) != NULL)
				continue;
			if (copy_entry(c, r, e, path) == -1)
				goto done;
			continue;
		}
		if (!in_distinfo(c, path))
			continue;
		rel = path + strlen(c->distinfo) + 1;
		if (strcmp(rel, "RECORD") == 0 ||
		    strcmp(rel, "RECORD.jws") == 0 ||
		    strcmp(rel, "RECORD.p7s") == 0)
			continue;	/* signatures of the old RECORD */
		if (strcmp(rel, "WHEEL") == 0) {
			struct buf nw;
			const void *blk;
			size_t n;
			la_int64_t off;

			buf_reset(&c->wheel);
			while ((st = archive_read_data_block(r, &blk, &n,
			    &off)) == ARCHIVE_OK)
				if (buf_add(&c->wheel, blk, n) == -1)
					break;
			if (st != ARCHIVE_EOF) {
				wwerr_set(c->err, RETAG_E_IO,
				    "reading \"%s\": %s", path,
				    archive_error_string(r) ?
				    archive_error_string(r) : "too big");
				goto done;
			}
			buf_init(&nw, c->lim->max_metadata_size);
			if (new_wheel_file(c, &nw) == -1 ||
			    put_mem(c, path, nw.ptr, nw.len,
			    (int)archive_entry_perm(e),
			    archive_entry_mtime(e)) == -1) {
				if (c->err->code == 0)
					wwerr_set(c->err, RETAG_E_NOMEM,
					    "out of memory");
				buf_free(&nw);
				goto done;
			}
			buf_free(&nw);
			continue;
		}
		if (copy_entry(c, r, e, path) == -1)
			goto done;
	}
	rc = 0;
done:
	archive_read_free(r);
	return rc;
}

static int
check_tag_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '.'))
			return -1;
	return 0;
}

int
retag_wheel(const char *src, const char *outdir,
    const struct retag_opts *opts, const struct limits *lim,
    char **out_path, struct wwerr *err)
{
	struct rctx c;
	struct verify_result *vr = NULL, *vr2 = NULL;
	struct aio_src *as = NULL;
	struct wheelname wn;
	struct stat st;
	char newname[WHEELNAME_MAX + 1], final[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	locale_t utf8, old = (locale_t)0;
	int sfd = -1, tfd = -1, rc = -1, linked = 0;
	size_t i;

	*out_path = NULL;
	tmp[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.lim = lim;
	c.err = err;
	buf_init(&c.record, SIZE_MAX / 2);
	buf_init(&c.wheel, lim->max_metadata_size);
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8 != (locale_t)0)
		old = uselocale(utf8);

	if (verify_file(src, NULL, lim, &vr, err) == -1)
		goto done;
	if (vr->kind != DIST_WHEEL) {
		wwerr_set(err, RETAG_E_ARGS, "%s: not a wheel", src);
		goto done;
	}
	base = strrchr(src, '/');
	base = base ? base + 1 : src;
	if (wheelname_parse(base, &wn, err) == -1) {
		err->code = RETAG_E_ARGS;
		goto done;
	}
	if (opts->platform != NULL) {
		if (check_tag_chars(opts->platform) == -1 ||
		    strlen(opts->platform) >= sizeof(wn.platform)) {
			wwerr_set(err, RETAG_E_ARGS, "bad platform tag \"%s\"",
			    opts->platform);
			goto done;
		}
		snprintf(wn.platform, sizeof(wn.platform), "%s",
		    opts->platform);
	}
	if (opts->build != NULL) {
		if (strlen(opts->build) >= sizeof(wn.build)) {
			wwerr_set(err, RETAG_E_ARGS, "build tag too long");
			goto done;
		}
		snprintf(wn.build, sizeof(wn.build), "%s", opts->build);
	}
	c.build = wn.build;
	if (tagset_expand(wn.python, wn.abi, wn.platform, &c.tags, err) ==
	    -1 || wheelname_format(&wn, newname, sizeof(newname)) == -1) {
		wwerr_set(err, RETAG_E_ARGS, "cannot form a wheel name with "
		    "platform \"%s\" and build \"%s\"", wn.platform, wn.build);
		goto done;
	}
	for (i = 0; i < opts->nadd; i++) {
		const char *p = opts->add[i].path;
		const char *sl = strchr(p, '/');
		size_t tl = sl ? (size_t)(sl - p) : strlen(p);

		if (verify_check_path(p, err) == -1) {
			err->code = RETAG_E_ARGS;
			goto done;
		}
		if (tl >= 10 && memcmp(p + tl - 10, ".dist-info", 10) == 0) {
			wwerr_set(err, RETAG_E_ARGS, "added member \"%s\": "
			    "the .dist-info belongs to the retagger", p);
			goto done;
		}
	}
	if (snprintf(final, sizeof(final), "%s/%s", outdir, newname) >=
	    (int)sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s/.retag-XXXXXX", outdir) >=
	    (int)sizeof(tmp)) {
		tmp[0] = '\0';
		wwerr_set(err, RETAG_E_ARGS, "output path too long");
		goto done;
	}
	if (lstat(final, &st) == 0) {
		tmp[0] = '\0';
		wwerr_set(err, RETAG_E_EXISTS, "%s already exists", final);
		goto done;
	}
	if ((tfd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		wwerr_set(err, RETAG_E_IO, "%s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		goto done;
	}
	(void)fchmod(tfd, 0644);
	if ((sfd = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(sfd, &st) == -1) {
		wwerr_set(err, RETAG_E_IO, "%s: %s", src, strerror(errno));
		goto done;
	}
	c.mtime = st.st_mtime;
	if (aio_open_fd(sfd, (uint64_t)st.st_size, &as) == -1 ||
	    (c.w = archive_write_new()) == NULL) {
		wwerr_set(err, RETAG_E_NOMEM, "out of memory");
		goto done;
	}
	if (archive_write_set_format_zip(c.w) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_deflate(c.w) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(c.w, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(c.w, tfd) != ARCHIVE_OK) {
		werr(&c, tmp);
		goto done;
	}
	if (copy_pass(&c, as, 0) == -1)
		goto done;
	if (c.distinfo == NULL) {
		wwerr_set(err, RETAG_E_IO, "%s: no .dist-info", src);
		goto done;
	}
	for (i = 0; i < opts->nadd; i++)
		if (put_mem(&c, opts->add[i].path, opts->add[i].data,
		    opts->add[i].len, opts->add[i].mode, c.mtime) == -1)
			goto done;
	if (copy_pass(&c, as, 1) == -1)
		goto done;
	{
		char rp[PATH_MAX];
		struct sha256 h;

		snprintf(rp, sizeof(rp), "%s/RECORD", c.distinfo);
		if (record_add_row(&c.record, rp, NULL, 0) == -1) {
			wwerr_set(err, RETAG_E_NOMEM, "out of memory");
			goto done;
		}
		if (begin_file(&c, rp, 0644, c.mtime, c.record.len) == -1 ||
		    sha256_init(&h) == -1)
			goto done;
		if (write_all(&c, rp, c.record.ptr, c.record.len, &h) == -1 ||
		    end_file(&c, rp, &h, 0) == -1)
			goto done;
	}
	if (archive_write_close(c.w) != ARCHIVE_OK) {
		werr(&c, tmp);
		goto done;
	}
	if (fsync(tfd) == -1) {
		wwerr_set(err, RETAG_E_IO, "%s: fsync: %s", tmp,
		    strerror(errno));
		goto done;
	}
	if (verify_file(tmp, newname, lim, &vr2, err) == -1) {
		wwerr_prefix(err, "retagged wheel");
		goto done;
	}
	/* link(2) fails with EEXIST instead of replacing a file. */
	if (link(tmp, final) == -1) {
		wwerr_set(err, errno == EEXIST ? RETAG_E_EXISTS : RETAG_E_IO,
		    "%s: %s", final, strerror(errno));
		goto done;
	}
	linked = 1;
	if (unlink(tmp) == -1 || util_fsync_dir(outdir) == -1) {
		wwerr_set(err, RETAG_E_IO, "%s: %s", outdir, strerror(errno));
		goto done;
	}
	tmp[0] = '\0';
	if ((*out_path = strdup(final)) == NULL) {
		wwerr_set(err, RETAG_E_NOMEM, "out of memory");
		goto done;
	}
	rc = 0;
done:
	if (c.w != NULL)
		archive_write_free(c.w);
	if (tfd != -1)
		close(tfd);
	if (tmp[0] != '\0')
		unlink(tmp);
	if (rc == -1 && linked)
		unlink(final);
	aio_free(as);
	if (sfd != -1)
		close(sfd);
	verify_result_free(vr);
	verify_result_free(vr2);
	tagset_free(&c.tags);
	buf_free(&c.record);
	buf_free(&c.wheel);
	free(c.distinfo);
	if (utf8 != (locale_t)0) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}
