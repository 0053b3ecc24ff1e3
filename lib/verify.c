/*
 * verify.c: streaming verification of wheels and sdists with libarchive;
 * see verify.h. Sdists (tar.gz) take one pass: libarchive reads the file
 * through archive_io's source (which hashes the whole file as it goes),
 * every member is checked (path, type, layout, limits) and read while it
 * streams. Zips take a header pass through libarchive and then a data
 * pass that reads the file once more, in order, hashing it whole and
 * decoding and hashing each member (see "the data pass" below: small
 * members are decoded whole by libdeflate, big ones stream through
 * libarchive). What needs the whole archive (RECORD against the members,
 * the single .dist-info, WHEEL, METADATA) is checked at the end. Nothing
 * is written to disk; only metadata files, ELF objects and members being
 * decoded (bounded by the limits) are held in memory.
 *
 * Zips are read with libarchive's seekable reader, which walks the
 * central directory like pip's zipfile does, instead of the streaming
 * reader, which trusts local headers: a zip whose local headers disagree
 * with its central directory would otherwise be verified as one thing and
 * installed as another. We also parse the central directory ourselves
 * (archive_io.c) and require every name libarchive reports to be the
 * central directory's, in order, so extra fields (Info-ZIP Unicode path)
 * or duplicate offsets cannot make the two views differ.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive_io.h"
#include "buf.h"
#include "coremeta.h"
#include "name.h"
#include "record.h"
#include "tags.h"
#include "util.h"
#include "verify.h"
#include "version.h"
#include "wheelname.h"

/*
 * The compression ratio is enforced only past this many unpacked bytes:
 * a small archive cannot be a bomb, and a few KiB of zeros compress far
 * beyond any sane ratio in perfectly good wheels.
 */
#define RATIO_FLOOR	(1024ULL * 1024)
#define PATH_MAX_LEN	4096

static const char *const err_names[VERIFY_E__COUNT] = {
	[VERIFY_OK] = "ok",
	[VERIFY_E_IO] = "io",
	[VERIFY_E_FILENAME] = "filename",
	[VERIFY_E_FORMAT] = "format",
	[VERIFY_E_TRUNCATED] = "truncated",
	[VERIFY_E_ABSOLUTE_PATH] = "absolute-path",
	[VERIFY_E_TRAVERSAL] = "traversal",
	[VERIFY_E_LINK] = "link",
	[VERIFY_E_DUPLICATE] = "duplicate",
	[VERIFY_E_ENCRYPTED] = "encrypted",
	[VERIFY_E_LAYOUT] = "layout",
	[VERIFY_E_FILE_TOO_BIG] = "file-too-big",
	[VERIFY_E_MEMBER_TOO_BIG] = "member-too-big",
	[VERIFY_E_TOO_MANY_MEMBERS] = "too-many-members",
	[VERIFY_E_RATIO] = "ratio",
	[VERIFY_E_DISTINFO_MISSING] = "distinfo-missing",
	[VERIFY_E_DISTINFO_MULTIPLE] = "distinfo-multiple",
	[VERIFY_E_DISTINFO_NAME] = "distinfo-name",
	[VERIFY_E_WHEEL_FILE] = "wheel-file",
	[VERIFY_E_WHEEL_VERSION] = "wheel-version",
	[VERIFY_E_TAGS] = "tags",
	[VERIFY_E_METADATA] = "metadata",
	[VERIFY_E_METADATA_MISMATCH] = "metadata-mismatch",
	[VERIFY_E_RECORD_MISSING] = "record-missing",
	[VERIFY_E_RECORD_SYNTAX] = "record-syntax",
	[VERIFY_E_RECORD_HASH_ALGO] = "record-hash-algo",
	[VERIFY_E_RECORD_HASH] = "record-hash",
	[VERIFY_E_RECORD_SIZE] = "record-size",
	[VERIFY_E_RECORD_UNLISTED] = "record-unlisted",
	[VERIFY_E_RECORD_EXTRA] = "record-extra",
	[VERIFY_E_RECORD_DUPLICATE] = "record-duplicate",
	[VERIFY_E_ELF] = "elf",
	[VERIFY_E_NOMEM] = "nomem",
};

const char *
verify_err_name(int code)
{
	if (code < 0 || code >= VERIFY_E__COUNT || err_names[code] == NULL)
		return "unknown";
	return err_names[code];
}

/* One archive member as seen while streaming. */
struct member {
	char		*path;		/* no trailing '/' */
	unsigned char	 digest[HASH_SHA256_LEN];
	uint64_t	 size;
	uint64_t	 expect;	/* size from the header, 0 unknown */
	struct elf_report *elf;		/* ELF objects: the report */
	uint8_t		 is_dir;
	uint8_t		 listed;	/* seen in RECORD */
	uint8_t		 cap;		/* enum capture, by name */
	uint8_t		 owner;		/* data worker */
};

/* A regular member whose data the data pass reads: entry index, member. */
struct work {
	size_t		 ent;
	size_t		 mi;
	int		 fast;		/* whole-buffer path (libdeflate) */
};

/* What a member is to the wheel layout. */
enum mclass {
	MC_PACKAGE,		/* anything under the install root */
	MC_DISTINFO,		/* inside our .dist-info */
	MC_OTHER_DISTINFO,	/* inside some other *.dist-info */
	MC_DATA,		/* inside our .data/<known subdir>/ */
};

/* Which captured file a member is. */
enum capture {
	CAP_NONE,
	CAP_WHEEL,
	CAP_METADATA,
	CAP_RECORD,
	CAP_PKGINFO,
	CAP_ELF,
};

struct vctx {
	const struct limits *lim;
	struct wwerr	*err;
	struct verify_result *r;
	int		 is_zip;
	uint64_t	 file_size;
	/* From the filename. */
	char		 norm_name[NAME_MAX_LEN + 1];
	char		 norm_version[VERSION_MAX_LEN + 1];
	/* Members, with an open-addressing index by path. */
	struct member	*m;
	size_t		 nm, am;
	size_t		*ht;		/* member index + 1; 0 = empty */
	size_t		 htcap;
	_Atomic uint64_t total;		/* bytes unpacked so far */
	/* Zips: what the data pass reads, and how. */
	int		 phased;
	struct work	*work;
	size_t		 nwork, awork;
	uint64_t	 declared;	/* sum of central directory sizes */
	_Atomic size_t	 stop_at;	/* lowest entry that failed */
	unsigned	 nstarted;	/* workers running besides worker 0 */
	/* The data pass's chunks, taken in order under order_mu. */
	struct chunk	*chunks;
	size_t		 nchunks, achunks;
	uint64_t	 chunk_max;
	pthread_mutex_t	 order_mu;
	size_t		 next_chunk;
	int		 order_stop;
	struct sha256	 whole;		/* whole-file digest, in chunk order */
	int		 whole_open;
	struct aio_src	*data_src;	/* pread by the data pass */
	pthread_mutex_t	 elf_mu;	/* libelf is not known thread-safe */
	locale_t	 utf8;
	int		 fd;		/* the source, for the data workers */
	const void	*mem;
	/* Zip: the central directory and where we are in it. */
	struct zipcd	*cd;
	size_t		 cdi;
	/* Wheel layout. */
	char		*distinfo;	/* our .dist-info, as spelled */
	char		*distinfo2;	/* a second spelling of ours */
	char		*other_distinfo;/* first foreign *.dist-info */
	size_t		 n_other_distinfo;
	char		*datadir;
	/* Sdist layout. */
	char		*topdir;
	/* Captured files. */
	struct buf	 wheel, metadata, record;
	int		 have_wheel, have_metadata, have_record;
	char		*record_path;
};

/* A printable, bounded copy of an archive-supplied string for messages. */
static const char *
san(const char *s, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (s[i] != '\0' && o + 4 >= outlen) {
		out[o++] = '.';
		out[o++] = '.';
		out[o++] = '.';
	}
	out[o] = '\0';
	return out;
}

/*
 * Does s[0..len) spell "{name}-{version}" of our distribution? Older
 * tools did not escape names, so try every '-' and compare the
 * normalized name and version.
 */
static int
names_dist(const struct vctx *v, const char *s, size_t len)
{
	char nn[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];
	char nv[VERSION_MAX_LEN + 1];
	size_t i;

	for (i = 1; i + 1 < len; i++) {
		if (s[i] != '-')
			continue;
		if (len - i - 1 >= sizeof(ver))
			continue;
		if (name_normalizen(s, i, nn, sizeof(nn)) == -1 ||
		    strcmp(nn, v->norm_name) != 0)
			continue;
		memcpy(ver, s + i + 1, len - i - 1);
		ver[len - i - 1] = '\0';
		if (version_normalize(ver, nv, sizeof(nv)) == 0 &&
		    strcmp(nv, v->norm_version) == 0)
			return 1;
	}
	return 0;
}

/* ---- member index ---- */

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct member *
member_find(struct vctx *v, const char *path)
{
	size_t i, ix;

	if (v->htcap == 0)
		return NULL;
	for (i = fnv1a(path) & (v->htcap - 1);; i = (i + 1) & (v->htcap - 1)) {
		if ((ix = v->ht[i]) == 0)
			return NULL;
		if (strcmp(v->m[ix - 1].path, path) == 0)
			return &v->m[ix - 1];
	}
}

static int
ht_insert(size_t *ht, size_t cap, const char *path, size_t ix)
{
	size_t i;

	for (i = fnv1a(path) & (cap - 1); ht[i] != 0; i = (i + 1) & (cap - 1))
		;
	ht[i] = ix;
	return 0;
}

/* Add a member; the caller has checked it is not a duplicate. */
static struct member *
member_add(struct vctx *v, const char *path)
{
	struct member *nm;
	size_t *nht, ncap, i;

	if (v->nm == v->am) {
		v->am = v->am ? v->am * 2 : 64;
		if ((nm = reallocarray(v->m, v->am, sizeof(*nm))) == NULL)
			return NULL;
		v->m = nm;
	}
	if ((v->nm + 1) * 2 > v->htcap) {
		ncap = v->htcap ? v->htcap * 2 : 128;
		if ((nht = calloc(ncap, sizeof(*nht))) == NULL)
			return NULL;
		for (i = 0; i < v->nm; i++)
			ht_insert(nht, ncap, v->m[i].path, i + 1);
		free(v->ht);
		v->ht = nht;
		v->htcap = ncap;
	}
	nm = &v->m[v->nm];
	memset(nm, 0, sizeof(*nm));
	if ((nm->path = strdup(path)) == NULL)
		return NULL;
	v->nm++;
	ht_insert(v->ht, v->htcap, path, v->nm);
	return nm;
}

/* ---- path checks ---- */

/*
 * Check a member path and return a normalized copy in *out (no trailing
 * '/', sdists also without a leading "./"). Backslashes count as
 * separators for the checks, since an archive made on Windows means them
 * as such and some extractors do too.
 */
static int
check_path(struct vctx *v, const char *path, int sdist, char **out)
{
	char sp[256];
	const char *p = path, *c, *end;
	size_t len, clen;

	*out = NULL;
	if (sdist)
		while (p[0] == '.' && p[1] == '/')
			p += 2;
	len = strlen(p);
	if (len == 0 || len > PATH_MAX_LEN)
		return wwerr_set(v->err, VERIFY_E_LAYOUT,
		    "member \"%s\": empty or over-long name",
		    san(path, sp, sizeof(sp)));
	if (p[0] == '/' || p[0] == '\\' ||
	    (len >= 2 && p[1] == ':' && ((p[0] | 0x20) >= 'a' &&
	    (p[0] | 0x20) <= 'z')))
		return wwerr_set(v->err, VERIFY_E_ABSOLUTE_PATH,
		    "member \"%s\": absolute path", san(path, sp, sizeof(sp)));
	for (c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": control character in name",
			    san(path, sp, sizeof(sp)));
	/* A trailing separator marks a directory; drop it. */
	if (p[len - 1] == '/')
		len--;
	for (c = p, end = p + len; c <= end;) {
		const char *s = c;

		while (c < end && *c != '/' && *c != '\\')
			c++;
		clen = (size_t)(c - s);
		if (clen == 2 && s[0] == '.' && s[1] == '.')
			return wwerr_set(v->err, VERIFY_E_TRAVERSAL,
			    "member \"%s\": \"..\" in path",
			    san(path, sp, sizeof(sp)));
		if (clen == 0 || (clen == 1 && s[0] == '.'))
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": empty or \".\" path component",
			    san(path, sp, sizeof(sp)));
		c++;
	}
	if ((*out = strndup(p, len)) == NULL)
		return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
	return 0;
}

int
verify_check_path(const char *path, struct wwerr *err)
{
	struct vctx v;
	char *out = NULL;

	memset(&v, 0, sizeof(v));
	v.err = err;
	if (check_path(&v, path, 0, &out) == -1)
		return -1;
	free(out);
	return 0;
}

/* Classify a wheel member; may fail with a layout error. */
static int
wheel_layout(struct vctx *v, const char *path, int is_dir, enum mclass *mc,
    enum capture *cap)
{
	static const char *const datasub[] = {
		"purelib", "platlib", "headers", "scripts", "data",
	};
	char sp[256];
	const char *slash = strchr(path, '/'), *rest, *s2;
	size_t toplen = slash ? (size_t)(slash - path) : strlen(path), i;
	char **slot;

	*mc = MC_PACKAGE;
	*cap = CAP_NONE;
	rest = slash ? slash + 1 : NULL;
	if (util_has_suffix(path, toplen, ".dist-info")) {
		if (rest == NULL && !is_dir)
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": a file named like a .dist-info "
			    "directory", san(path, sp, sizeof(sp)));
		if (!names_dist(v, path, toplen - strlen(".dist-info"))) {
			*mc = MC_OTHER_DISTINFO;
			if (v->other_distinfo == NULL &&
			    (v->other_distinfo = strndup(path, toplen)) == NULL)
				return wwerr_set(v->err, VERIFY_E_NOMEM,
				    "out of memory");
			if (strlen(v->other_distinfo) != toplen ||
			    strncmp(v->other_distinfo, path, toplen) != 0)
				v->n_other_distinfo = 2;
			else if (v->n_other_distinfo == 0)
				v->n_other_distinfo = 1;
			return 0;
		}
		*mc = MC_DISTINFO;
		slot = &v->distinfo;
		if (*slot != NULL && (strlen(*slot) != toplen ||
		    strncmp(*slot, path, toplen) != 0))
			slot = &v->distinfo2;
		if (*slot == NULL && (*slot = strndup(path, toplen)) == NULL)
			return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
		if (rest != NULL && !is_dir && slot == &v->distinfo) {
			if (strcmp(rest, "WHEEL") == 0)
				*cap = CAP_WHEEL;
			else if (strcmp(rest, "METADATA") == 0)
				*cap = CAP_METADATA;
			else if (strcmp(rest, "RECORD") == 0)
				*cap = CAP_RECORD;
		}
		return 0;
	}
	if (util_has_suffix(path, toplen, ".data")) {
		if (!names_dist(v, path, toplen - strlen(".data")))
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": .data directory does not match "
			    "the wheel's {name}-{version}.data",
			    san(path, sp, sizeof(sp)));
		if (v->datadir == NULL &&
		    (v->datadir = strndup(path, toplen)) == NULL)
			return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
		if (strlen(v->datadir) != toplen ||
		    strncmp(v->datadir, path, toplen) != 0)
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": a second .data directory",
			    san(path, sp, sizeof(sp)));
		if (rest == NULL) {
			if (is_dir)
				return 0;
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": a file named like a .data "
			    "directory", san(path, sp, sizeof(sp)));
		}
		s2 = strchr(rest, '/');
		for (i = 0; i < WW_ARRLEN(datasub); i++) {
			size_t n = strlen(datasub[i]);

			if (strncmp(rest, datasub[i], n) == 0 &&
			    (rest[n] == '\0' || rest[n] == '/'))
				break;
		}
		if (i == WW_ARRLEN(datasub))
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": unknown .data subdirectory (only "
			    "purelib, platlib, headers, scripts, data)",
			    san(path, sp, sizeof(sp)));
		if (s2 == NULL && !is_dir)
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": a file in place of a .data "
			    "subdirectory", san(path, sp, sizeof(sp)));
		/* purelib/platlib install into site-packages, beside ours. */
		if (s2 != NULL && i <= 1) {
			const char *s3 = strchr(s2 + 1, '/');
			size_t l3 = s3 ? (size_t)(s3 - s2 - 1) : strlen(s2 + 1);

			if (util_has_suffix(s2 + 1, l3, ".dist-info"))
				return wwerr_set(v->err,
				    VERIFY_E_DISTINFO_MULTIPLE,
				    "member \"%s\": a .dist-info directory "
				    "installed through .data",
				    san(path, sp, sizeof(sp)));
		}
		*mc = MC_DATA;
		return 0;
	}
	return 0;
}

/* ---- member data ---- */

/* total > max_ratio * file size (max_ratio 0: no limit). */
static int
ratio_exceeded(const struct vctx *v, uint64_t total)
{
	uint64_t fs = v->file_size ? v->file_size : 1;

	if (v->lim->max_ratio == 0 || total <= RATIO_FLOOR ||
	    v->lim->max_ratio > UINT64_MAX / fs)
		return 0;
	return total > v->lim->max_ratio * fs;
}

/* Size keep for a member of known size, saving the doubling copies. */
static int
reserve(struct buf *b, uint64_t n)
{
	char *p;

	if (n > b->max) {
		errno = E2BIG;
		return -1;
	}
	if (n == 0 || n + 1 <= b->alloc)
		return 0;
	if ((p = realloc(b->ptr, (size_t)n + 1)) == NULL)
		return -1;
	b->ptr = p;
	b->alloc = (size_t)n + 1;
	return 0;
}

/*
 * Count n more bytes of a member (got so far, n included) against the
 * size and ratio limits. err is the caller's (data workers run this in
 * parallel; the total is shared).
 */
static int
count_bytes(struct vctx *v, struct wwerr *err, const char *path,
    uint64_t got, uint64_t n)
{
	char sp[256];
	uint64_t total = atomic_fetch_add(&v->total, n) + n;

	if (got > v->lim->max_member_size)
		return wwerr_set(err, VERIFY_E_MEMBER_TOO_BIG,
		    "member \"%s\": more than %llu bytes unpacked",
		    san(path, sp, sizeof(sp)),
		    (unsigned long long)v->lim->max_member_size);
	if (total > v->lim->max_total_size)
		return wwerr_set(err, VERIFY_E_MEMBER_TOO_BIG,
		    "at member \"%s\": more than %llu bytes unpacked in total",
		    san(path, sp, sizeof(sp)),
		    (unsigned long long)v->lim->max_total_size);
	if (ratio_exceeded(v, total))
		return wwerr_set(err, VERIFY_E_RATIO,
		    "at member \"%s\": %llu bytes unpacked from a %llu-byte "
		    "file, over the %llu:1 compression ratio limit",
		    san(path, sp, sizeof(sp)), (unsigned long long)total,
		    (unsigned long long)v->file_size,
		    (unsigned long long)v->lim->max_ratio);
	return 0;
}

/*
 * Stream one regular member: hash it (wheels), count it against the
 * limits, and keep its bytes if cap says so (or if it turns out to be an
 * ELF object, for wheels). err is the caller's: data workers run this in
 * parallel.
 */
static int
read_member(struct vctx *v, struct wwerr *err, struct archive *a,
    const char *path, int hash, enum capture *cap, struct buf *keep,
    struct member *m)
{
	char sp[256];
	const void *blk;
	size_t n, headlen = 0, take;
	la_int64_t off;
	uint64_t got = 0;
	unsigned char head[4];
	struct sha256 h;
	int r, decided = *cap != CAP_NONE || !hash, rc = -1;

	if (hash && sha256_init(&h) == -1)
		return wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
	for (;;) {
		r = archive_read_data_block(a, &blk, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			wwerr_set(err, VERIFY_E_TRUNCATED,
			    "member \"%s\": %s", san(path, sp, sizeof(sp)),
			    archive_error_string(a) ? archive_error_string(a) :
			    "read error");
			goto done;
		}
		if (off < 0 || (uint64_t)off < got) {
			wwerr_set(err, VERIFY_E_TRUNCATED,
			    "member \"%s\": data blocks out of order",
			    san(path, sp, sizeof(sp)));
			goto done;
		}
		if ((uint64_t)off > got) {
			/* A hole (sparse tar member): zeros. Zips have none. */
			if (hash) {
				wwerr_set(err, VERIFY_E_TRUNCATED,
				    "member \"%s\": hole in member data",
				    san(path, sp, sizeof(sp)));
				goto done;
			}
			atomic_fetch_add(&v->total, (uint64_t)off - got);
			got = (uint64_t)off;
		}
		got += n;
		if (count_bytes(v, err, path, got, n) == -1)
			goto done;
		if (hash)
			sha256_update(&h, blk, n);
		if (!decided) {
			/* Sniff the ELF magic; a member's data may come in
			 * blocks shorter than 4 bytes. */
			take = n < sizeof(head) - headlen ? n :
			    sizeof(head) - headlen;
			memcpy(head + headlen, blk, take);
			headlen += take;
			if (headlen == sizeof(head)) {
				decided = 1;
				if (elf_is_elf(head, headlen)) {
					*cap = CAP_ELF;
					if (reserve(keep, m->expect) == -1)
						goto toobig;
					/* Bytes before this block are the
					 * first headlen - take of head. */
					if (buf_add(keep, head,
					    headlen - take) == -1)
						goto toobig;
				}
			}
		}
		if (*cap != CAP_NONE && buf_add(keep, blk, n) == -1)
			goto toobig;
	}
	m->size = got;
	if (hash && sha256_final(&h, m->digest) == -1) {
		wwerr_set(err, VERIFY_E_NOMEM, "hash failure");
		hash = 0;
		goto done;
	}
	hash = 0;
	rc = 0;
	goto done;
toobig:
	if (errno == E2BIG) {
		if (*cap == CAP_ELF)
			wwerr_set(err, VERIFY_E_ELF,
			    "member \"%s\": ELF object over %llu bytes, too "
			    "big to inspect", san(path, sp, sizeof(sp)),
			    (unsigned long long)v->lim->max_elf_size);
		else
			wwerr_set(err, VERIFY_E_MEMBER_TOO_BIG,
			    "member \"%s\": metadata file over %llu bytes",
			    san(path, sp, sizeof(sp)),
			    (unsigned long long)v->lim->max_metadata_size);
	} else {
		wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
	}
done:
	if (hash)
		sha256_final(&h, NULL);
	return rc;
}

/* The ELF report of a member's bytes, kept in m. */
static int
inspect_elf(struct vctx *v, struct wwerr *err, const char *path,
    const void *data, size_t len, struct member *m)
{
	struct wwerr e;
	char sp[256];
	int rc;

	wwerr_clear(&e);
	pthread_mutex_lock(&v->elf_mu);
	rc = elf_inspect_mem(path, data, len, &m->elf, &e);
	pthread_mutex_unlock(&v->elf_mu);
	if (rc == -1) {
		const char *why = e.msg;
		size_t pl = strlen(path);

		/* The ELF module names the path itself. */
		if (strncmp(why, path, pl) == 0 && why[pl] == ':')
			why += pl + (why[pl + 1] == ' ' ? 2 : 1);
		return wwerr_set(err, VERIFY_E_ELF, "member \"%s\": %s",
		    san(path, sp, sizeof(sp)), why);
	}
	return 0;
}

/* Keep what read_member captured: a metadata file, or an ELF report. */
static int
finish_member(struct vctx *v, struct wwerr *err, const char *path,
    enum capture cap, struct buf *keep, struct member *m)
{

	switch (cap) {
	case CAP_WHEEL:
		buf_free(&v->wheel);
		v->wheel = *keep;
		v->have_wheel = 1;
		break;
	case CAP_METADATA:
	case CAP_PKGINFO:
		buf_free(&v->metadata);
		v->metadata = *keep;
		v->have_metadata = 1;
		break;
	case CAP_RECORD:
		buf_free(&v->record);
		v->record = *keep;
		v->have_record = 1;
		break;
	case CAP_ELF:
		return inspect_elf(v, err, path, keep->ptr, keep->len, m);
	case CAP_NONE:
		return 0;
	}
	/* The buffer now belongs to v. */
	buf_init(keep, 0);
	return 0;
}

/* ---- sdist links ---- */

/*
 * A symlink in an sdist is allowed when its target is relative and stays
 * inside the top-level directory, lexically - the rule pip applies when
 * it unpacks sdists (unpacking.py: is_symlink_target_in_tar). Real sdists
 * do contain such links (docs/, tests/); absolute or escaping ones are
 * refused.
 */
static int
symlink_inside(const char *path, const char *target)
{
	const char *c, *s;
	size_t depth = 0, clen;

	if (*target == '\0' || *target == '/')
		return 0;
	/* Depth of the directory holding the link (top-level dir is 1). */
	for (c = path; *c; c++)
		if (*c == '/')
			depth++;
	for (c = target; *c;) {
		s = c;
		while (*c && *c != '/')
			c++;
		clen = (size_t)(c - s);
		if (clen == 2 && s[0] == '.' && s[1] == '.') {
			if (depth <= 1)
				return 0;
			depth--;
		} else if (clen > 0 && !(clen == 1 && s[0] == '.')) {
			depth++;
		}
		if (*c == '/')
			c++;
	}
	return 1;
}

/* ---- archive walk ---- */

static int	work_add(struct vctx *, size_t, size_t);

/*
 * The member libarchive is at must be the next central directory entry,
 * by name. libarchive turns backslashes into slashes in names that have
 * no slash; pip (zipfile on Linux) does not, so the central directory's
 * raw name is what the checks use (*name).
 */
static int
check_cd_name(struct vctx *v, const char *path, const char **name,
    int *encrypted)
{
	const struct zipcd_entry *ce;
	char sp[256], sp2[256];
	size_t i, n = strlen(path);
	int same;

	if (v->cdi >= v->cd->n)
		return wwerr_set(v->err, VERIFY_E_FORMAT,
		    "member \"%s\": not in the central directory",
		    san(path, sp, sizeof(sp)));
	ce = &v->cd->e[v->cdi++];
	same = n == ce->namelen;
	for (i = 0; same && i < n; i++)
		if (path[i] != ce->name[i] && !(path[i] == '/' &&
		    ce->name[i] == '\\' && strchr(ce->name, '/') == NULL))
			same = 0;
	if (!same)
		return wwerr_set(v->err, VERIFY_E_FORMAT,
		    "member \"%s\": local header name differs from the "
		    "central directory's \"%s\"", san(path, sp, sizeof(sp)),
		    san(ce->name, sp2, sizeof(sp2)));
	/* Non-ASCII names must be flagged UTF-8, or zipfile reads cp437. */
	if (!(ce->flags & 0x0800)) {
		const char *c;

		for (c = ce->name; *c; c++)
			if ((unsigned char)*c >= 0x80)
				return wwerr_set(v->err, VERIFY_E_LAYOUT,
				    "member \"%s\": non-ASCII name not "
				    "flagged as UTF-8", san(path, sp,
				    sizeof(sp)));
	}
	*encrypted = (ce->flags & 0x0041) != 0 || ce->method == 99;
	*name = ce->name;
	return 0;
}

static int
check_sdist_top(struct vctx *v, const char *path, int is_dir)
{
	char sp[256];
	const char *slash = strchr(path, '/');
	size_t toplen = slash ? (size_t)(slash - path) : strlen(path);

	if (slash == NULL && !is_dir)
		return wwerr_set(v->err, VERIFY_E_LAYOUT,
		    "member \"%s\": a file at the top level (sdists have a "
		    "single {name}-{version}/ directory)",
		    san(path, sp, sizeof(sp)));
	if (v->topdir == NULL) {
		if (!names_dist(v, path, toplen))
			return wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": top-level directory does not "
			    "match the filename's {name}-{version}",
			    san(path, sp, sizeof(sp)));
		if ((v->topdir = strndup(path, toplen)) == NULL)
			return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
	} else if (strlen(v->topdir) != toplen ||
	    strncmp(v->topdir, path, toplen) != 0) {
		return wwerr_set(v->err, VERIFY_E_LAYOUT,
		    "member \"%s\": outside the single top-level directory "
		    "\"%s\"", san(path, sp, sizeof(sp)), v->topdir);
	}
	return 0;
}

static int
walk(struct vctx *v, struct archive *a)
{
	struct archive_entry *e;
	struct member *m;
	struct buf keep;
	enum capture cap;
	enum mclass mc;
	char *path = NULL, sp[256];
	const char *raw;
	mode_t type;
	uint64_t count = 0;
	int r, enc_cd, sdist = v->r->kind == DIST_SDIST, is_dir;

	buf_init(&keep, 0);
	for (;;) {
		free(path);
		path = NULL;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			/* Warnings are inconsistencies (local header vs
			 * central directory, names that are not UTF-8);
			 * errors are damage or early end. */
			wwerr_set(v->err, r == ARCHIVE_WARN ? VERIFY_E_FORMAT :
			    VERIFY_E_TRUNCATED,
			    "after %llu members: %s", (unsigned long long)count,
			    archive_error_string(a) ? archive_error_string(a) :
			    "corrupt archive");
			goto fail;
		}
		if (++count > v->lim->max_members) {
			wwerr_set(v->err, VERIFY_E_TOO_MANY_MEMBERS,
			    "more than %llu members",
			    (unsigned long long)v->lim->max_members);
			goto fail;
		}
		if ((raw = archive_entry_pathname(e)) == NULL) {
			wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member %llu: name is not valid UTF-8",
			    (unsigned long long)count);
			goto fail;
		}
		enc_cd = 0;
		if (v->cd != NULL && check_cd_name(v, raw, &raw, &enc_cd) == -1)
			goto fail;
		if (enc_cd || archive_entry_is_encrypted(e)) {
			wwerr_set(v->err, VERIFY_E_ENCRYPTED,
			    "member \"%s\": encrypted", san(raw, sp, sizeof(sp)));
			goto fail;
		}
		if (check_path(v, raw, sdist, &path) == -1)
			goto fail;
		type = archive_entry_filetype(e);
		is_dir = type == AE_IFDIR;
		if (archive_entry_hardlink(e) != NULL) {
			const char *t = archive_entry_hardlink(e);
			char *tp = NULL;
			struct member *tm;

			if (!sdist) {
				wwerr_set(v->err, VERIFY_E_LINK,
				    "member \"%s\": hard link",
				    san(raw, sp, sizeof(sp)));
				goto fail;
			}
			/* Only to a regular file seen before, in the tree. */
			if (check_path(v, t, 1, &tp) == -1 ||
			    (tm = member_find(v, tp)) == NULL || tm->is_dir) {
				free(tp);
				wwerr_set(v->err, VERIFY_E_LINK,
				    "member \"%s\": hard link to \"%s\", not "
				    "an earlier file of the archive",
				    san(raw, sp, sizeof(sp)), t);
				goto fail;
			}
			free(tp);
			type = AE_IFREG;
		} else if (type == AE_IFLNK) {
			const char *t = archive_entry_symlink(e);

			if (!sdist || t == NULL || !symlink_inside(path, t)) {
				wwerr_set(v->err, VERIFY_E_LINK,
				    "member \"%s\": symbolic link%s%s",
				    san(raw, sp, sizeof(sp)),
				    sdist ? " pointing outside the tree: " :
				    "", sdist && t ? t : "");
				goto fail;
			}
		} else if (type != AE_IFREG && type != AE_IFDIR) {
			wwerr_set(v->err, VERIFY_E_LAYOUT,
			    "member \"%s\": not a regular file or directory",
			    san(raw, sp, sizeof(sp)));
			goto fail;
		}
		if ((m = member_find(v, path)) != NULL) {
			/* Repeated directory entries are harmless. */
			if (is_dir && m->is_dir)
				continue;
			wwerr_set(v->err, VERIFY_E_DUPLICATE,
			    "member \"%s\": appears more than once",
			    san(raw, sp, sizeof(sp)));
			goto fail;
		}
		cap = CAP_NONE;
		mc = MC_PACKAGE;
		if (sdist) {
			if (check_sdist_top(v, path, is_dir) == -1)
				goto fail;
			if (type == AE_IFREG &&
			    strcmp(path + strlen(v->topdir), "/PKG-INFO") == 0)
				cap = CAP_PKGINFO;
		} else if (wheel_layout(v, path, is_dir, &mc, &cap) == -1) {
			goto fail;
		}
		if ((m = member_add(v, path)) == NULL) {
			wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
			goto fail;
		}
		m->is_dir = (uint8_t)is_dir;
		if (type != AE_IFREG)
			continue;
		if (archive_entry_size_is_set(e) &&
		    (uint64_t)archive_entry_size(e) > v->lim->max_member_size) {
			wwerr_set(v->err, VERIFY_E_MEMBER_TOO_BIG,
			    "member \"%s\": %lld bytes, over the %llu-byte "
			    "limit", san(raw, sp, sizeof(sp)),
			    (long long)archive_entry_size(e),
			    (unsigned long long)v->lim->max_member_size);
			goto fail;
		}
		m->cap = (uint8_t)cap;
		m->expect = archive_entry_size_is_set(e) ?
		    (uint64_t)archive_entry_size(e) : 0;
		if (cap == CAP_RECORD && v->record_path == NULL &&
		    (v->record_path = strdup(path)) == NULL) {
			wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
			goto fail;
		}
		if (v->phased) {
			/* The data pass reads it; libarchive skips it here. */
			if (work_add(v, (size_t)count - 1,
			    (size_t)(m - v->m)) == -1)
				goto fail;
			continue;
		}
		buf_reset(&keep);
		keep.max = cap != CAP_NONE ? v->lim->max_metadata_size :
		    v->lim->max_elf_size;
		if (read_member(v, v->err, a, path, !sdist, &cap, &keep,
		    m) == -1 ||
		    finish_member(v, v->err, path, cap, &keep, m) == -1)
			goto fail;
	}
	if (v->cd != NULL && v->cdi != v->cd->n) {
		wwerr_set(v->err, VERIFY_E_FORMAT,
		    "central directory lists %zu entries, libarchive read %zu",
		    v->cd->n, v->cdi);
		goto fail;
	}
	v->r->members = count;
	buf_free(&keep);
	return 0;
fail:
	free(path);
	buf_free(&keep);
	return -1;
}

/* ---- the data pass (zips) ---- */

/*
 * Zips are verified in two passes. The header pass (walk) checks every
 * member's name, type and place in the layout in archive order, through
 * libarchive, reading only headers: its seekable reader skips data with a
 * seek. The data pass then reads the file once, front to back, in chunks
 * of about CHUNK bytes cut at member boundaries: each chunk is read and
 * added to the whole-file SHA-256 in file order (under order_mu, so the
 * digest is of the bytes in order, read once), and then, outside the
 * lock, the members inside it are decoded, hashed and counted. Up to four
 * workers take chunks in turn, so on idle cores they decode in parallel
 * while reading and the whole-file hash stay sequential.
 *
 * Why two decoders. libarchive is the archive library: it walks the
 * headers, and it decodes every member the fast path does not take (other
 * methods, members over limits.whole_member_max, tar.gz sdists), through
 * zlib, streaming. But zlib's inflate (and its CRC-32) was ~65% of our CPU
 * on the 110 MB bench wheel, and libdeflate inflates 2-3x faster, only as
 * a whole-buffer call. Since we parse the central directory and the local
 * headers ourselves anyway (archive_io.c), a member that fits is decoded
 * in one call from the chunk into a buffer of exactly its declared size
 * (libdeflate stops at the end of the buffer, so a size that lies cannot
 * grow memory, and a short or long result is an error), its CRC-32 is
 * checked (libdeflate_crc32) and its SHA-256 taken from that buffer.
 * Memory per worker: a chunk (CHUNK, or one member's span) plus one
 * member's unpacked size, both at most whole_member_max plus headers.
 *
 * Small archives stay on one thread. The error reported is the one of the
 * lowest entry, as a sequential pass would report, except for the total
 * size and ratio limits, which depend on the order the workers progress.
 */
#define CHUNK		(4ULL * 1024 * 1024)
/* Local header, name and extra field, at most. */
#define LOCAL_MAX	(30ULL + 65535 + 65535)

struct chunk {
	uint64_t	 off, len;
	size_t		 w0, w1;	/* work items [w0, w1) start inside */
};

struct worker {
	struct vctx	*v;
	unsigned	 k;
	pthread_t	 tid;
	size_t		 err_ent;	/* SIZE_MAX: none */
	struct wwerr	 err;
	struct zip_inflater *z;
	unsigned char	*cbuf;		/* chunk bytes (fd sources) */
	size_t		 cbuf_alloc;
};

static int
work_add(struct vctx *v, size_t ent, size_t mi)
{
	struct work *nw;

	if (v->nwork == v->awork) {
		v->awork = v->awork ? v->awork * 2 : 256;
		if ((nw = reallocarray(v->work, v->awork, sizeof(*nw))) ==
		    NULL)
			return wwerr_set(v->err, VERIFY_E_NOMEM,
			    "out of memory");
		v->work = nw;
	}
	v->work[v->nwork].ent = ent;
	v->work[v->nwork].mi = mi;
	v->work[v->nwork].fast = 0;
	v->nwork++;
	return 0;
}

/* Where entry ent's bytes end: the next entry or the directory. */
static uint64_t
entry_end(const struct vctx *v, size_t ent)
{
	return ent + 1 < v->cd->n ? v->cd->e[ent + 1].local_off :
	    v->cd->cd_off;
}

static int
chunk_add(struct vctx *v, uint64_t off, uint64_t end, size_t w0, size_t w1)
{
	struct chunk *nc;

	if (v->nchunks == v->achunks) {
		v->achunks = v->achunks ? v->achunks * 2 : 64;
		if ((nc = reallocarray(v->chunks, v->achunks,
		    sizeof(*nc))) == NULL)
			return wwerr_set(v->err, VERIFY_E_NOMEM,
			    "out of memory");
		v->chunks = nc;
	}
	nc = &v->chunks[v->nchunks++];
	nc->off = off;
	nc->len = end - off;
	nc->w0 = w0;
	nc->w1 = w1;
	if (nc->len > v->chunk_max)
		v->chunk_max = nc->len;
	return 0;
}

/* Bytes [off, end) with no member to decode: hashed only. */
static int
chunk_plain(struct vctx *v, uint64_t off, uint64_t end, size_t w)
{
	while (off < end) {
		uint64_t n = end - off > CHUNK ? CHUNK : end - off;

		if (chunk_add(v, off, off + n, w, w) == -1)
			return -1;
		off += n;
	}
	return 0;
}

/*
 * Mark the members the fast path decodes and cut the file into chunks:
 * every byte of the file is in exactly one chunk, in order; a fast
 * member's local header and data are always inside one chunk, which
 * is CHUNK long at most unless one member alone needs more.
 */
static int
plan_chunks(struct vctx *v)
{
	uint64_t max = v->lim->whole_member_max, start = 0, a, b, end = 0;
	size_t i, first = SIZE_MAX;

	for (i = 0; i < v->nwork; i++) {
		const struct zipcd_entry *ce = &v->cd->e[v->work[i].ent];

		a = ce->local_off;
		b = entry_end(v, v->work[i].ent);
		if (max == 0 || (ce->method != 0 && ce->method != 8) ||
		    ce->csize > max || ce->usize > max ||
		    b - a > max + LOCAL_MAX)
			continue;
		v->work[i].fast = 1;
		if (first != SIZE_MAX && b - start > CHUNK) {
			/* Close the chunk [start, end) before this one. */
			if (chunk_add(v, start, end, first, i) == -1 ||
			    chunk_plain(v, end, a, i) == -1)
				return -1;
			start = a;
			first = SIZE_MAX;
		}
		if (first == SIZE_MAX) {
			if (chunk_plain(v, start, a, i) == -1)
				return -1;
			start = a;
			first = i;
		}
		end = b;
	}
	if (first != SIZE_MAX) {
		if (chunk_add(v, start, end, first, v->nwork) == -1)
			return -1;
		start = end;
	}
	return chunk_plain(v, start, v->file_size, v->nwork);
}

static int
open_source(struct vctx *v, struct aio_src **out)
{
	if (v->mem != NULL)
		return aio_open_mem(v->mem, (size_t)v->file_size, out);
	return aio_open_fd(v->fd, v->file_size, out);
}

static void
worker_fail(struct worker *w, size_t ent)
{
	size_t cur = atomic_load(&w->v->stop_at);

	w->err_ent = ent;
	while (ent < cur &&
	    !atomic_compare_exchange_weak(&w->v->stop_at, &cur, ent))
		;
}

static int
local_fail(struct wwerr *err, const char *path, int st, const char *msg)
{
	char sp[256];

	return wwerr_set(err, st == ZIPCD_ENCRYPTED ? VERIFY_E_ENCRYPTED :
	    st == ZIPCD_IO ? VERIFY_E_IO : VERIFY_E_FORMAT,
	    "member \"%s\": %s", san(path, sp, sizeof(sp)), msg);
}

/*
 * The local header of a member libarchive will decode: the same checks
 * as the fast path's, so both paths judge a file alike (libarchive itself
 * follows the local header's method, where zipfile follows the central
 * directory's).
 */
static int
check_local(struct vctx *v, struct aio_src *src, struct wwerr *err,
    const struct work *wk, const char *path)
{
	const struct zipcd_entry *ce = &v->cd->e[wk->ent];
	unsigned char hdr[30 + 65535];
	uint64_t span = entry_end(v, wk->ent) - ce->local_off;
	size_t avail, doff;
	char msg[160];
	int st;

	avail = 30 + ce->namelen;
	if (avail > span)
		avail = (size_t)span;
	if (aio_pread(src, hdr, avail, ce->local_off) == -1) {
		snprintf(msg, sizeof(msg), "read error: %s", strerror(errno));
		return local_fail(err, path, ZIPCD_IO, msg);
	}
	if ((st = zip_local_data(ce, hdr, avail, span, &doff, msg,
	    sizeof(msg))) != ZIPCD_OK)
		return local_fail(err, path, st, msg);
	return 0;
}

/* Decode, hash, count and capture one fast member; p is its chunk. */
static int
fast_member(struct worker *w, const struct work *wk, const struct chunk *c,
    const unsigned char *p)
{
	struct vctx *v = w->v;
	const struct zipcd_entry *ce = &v->cd->e[wk->ent];
	struct member *m = &v->m[wk->mi];
	const unsigned char *out;
	enum capture cap = (enum capture)m->cap;
	struct buf keep;
	char sp[256], msg[160];
	size_t doff, n;
	uint64_t rel = ce->local_off - c->off, span;
	int st;

	span = entry_end(v, wk->ent) - ce->local_off;
	st = zip_local_data(ce, p + rel, (size_t)span, span, &doff, msg,
	    sizeof(msg));
	if (st != ZIPCD_OK)
		return local_fail(&w->err, m->path, st, msg);
	st = zip_inflate(w->z, ce, p + rel + doff, &out, msg, sizeof(msg));
	if (st != ZIPCD_OK)
		return wwerr_set(&w->err, st == ZIPCD_NOMEM ? VERIFY_E_NOMEM :
		    VERIFY_E_TRUNCATED, "member \"%s\": %s",
		    san(m->path, sp, sizeof(sp)), msg);
	n = (size_t)ce->usize;
	if (count_bytes(v, &w->err, m->path, n, n) == -1)
		return -1;
	m->size = n;
	if (v->r->kind != DIST_WHEEL)
		;		/* sdists: no RECORD, no ELF inspection */
	else if (hash_sha256_mem(out, n, m->digest) == -1)
		return wwerr_set(&w->err, VERIFY_E_NOMEM, "hash failure");
	else if (cap == CAP_NONE && elf_is_elf(out, n)) {
		if (n > v->lim->max_elf_size)
			return wwerr_set(&w->err, VERIFY_E_ELF,
			    "member \"%s\": ELF object over %llu bytes, too "
			    "big to inspect", san(m->path, sp, sizeof(sp)),
			    (unsigned long long)v->lim->max_elf_size);
		return inspect_elf(v, &w->err, m->path, out, n, m);
	}
	if (cap == CAP_NONE)
		return 0;
	buf_init(&keep, v->lim->max_metadata_size);
	if (buf_add(&keep, out, n) == -1) {
		buf_free(&keep);
		if (errno == E2BIG)
			return wwerr_set(&w->err, VERIFY_E_MEMBER_TOO_BIG,
			    "member \"%s\": metadata file over %llu bytes",
			    san(m->path, sp, sizeof(sp)),
			    (unsigned long long)v->lim->max_metadata_size);
		return wwerr_set(&w->err, VERIFY_E_NOMEM, "out of memory");
	}
	if (finish_member(v, &w->err, m->path, cap, &keep, m) == -1) {
		buf_free(&keep);
		return -1;
	}
	buf_free(&keep);
	return 0;
}

/*
 * Take chunks in file order until none is left: read one and add it to
 * the whole-file hash (in order, under the lock), then decode its fast
 * members.
 */
static void
chunk_run(struct worker *w, struct aio_src *src)
{
	struct vctx *v = w->v;
	const struct chunk *c;
	const unsigned char *p;
	unsigned char *nb;
	size_t wi;

	for (;;) {
		pthread_mutex_lock(&v->order_mu);
		if (v->next_chunk >= v->nchunks || v->order_stop ||
		    atomic_load(&v->stop_at) != SIZE_MAX) {
			v->order_stop = 1;
			pthread_mutex_unlock(&v->order_mu);
			return;
		}
		c = &v->chunks[v->next_chunk++];
		if (v->mem != NULL) {
			p = (const unsigned char *)v->mem + c->off;
		} else {
			if (c->len > w->cbuf_alloc) {
				if ((nb = realloc(w->cbuf, (size_t)c->len)) ==
				    NULL) {
					v->order_stop = 1;
					pthread_mutex_unlock(&v->order_mu);
					wwerr_set(&w->err, VERIFY_E_NOMEM,
					    "out of memory");
					worker_fail(w, 0);
					return;
				}
				w->cbuf = nb;
				w->cbuf_alloc = (size_t)c->len;
			}
			if (aio_pread(src, w->cbuf, (size_t)c->len,
			    c->off) == -1) {
				v->order_stop = 1;
				pthread_mutex_unlock(&v->order_mu);
				wwerr_set(&w->err, VERIFY_E_IO,
				    "read error at offset %llu: %s",
				    (unsigned long long)c->off,
				    strerror(errno));
				worker_fail(w, 0);
				return;
			}
			p = w->cbuf;
		}
		sha256_update(&v->whole, p, (size_t)c->len);
		pthread_mutex_unlock(&v->order_mu);
		for (wi = c->w0; wi < c->w1; wi++) {
			const struct work *wk = &v->work[wi];

			if (!wk->fast)
				continue;
			if (wk->ent >= atomic_load(&v->stop_at))
				return;
			if (fast_member(w, wk, c, p) == -1) {
				worker_fail(w, wk->ent);
				return;
			}
		}
	}
}

/* The members the fast path does not take, through libarchive. */
static void
slow_run(struct worker *w)
{
	struct vctx *v = w->v;
	struct aio_src *src = NULL;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct buf keep;
	size_t ent = 0, wi;
	int r, hash = v->r->kind == DIST_WHEEL;

	buf_init(&keep, 0);
	for (wi = 0; wi < v->nwork; wi++) {
		const struct work *wk = &v->work[wi];
		struct member *m = &v->m[wk->mi];
		enum capture cap;

		if (wk->ent >= atomic_load(&v->stop_at))
			break;
		/* Worker 0 also takes those of workers that did not start. */
		if (wk->fast || (m->owner != w->k &&
		    !(w->k == 0 && m->owner > v->nstarted)))
			continue;
		if (a == NULL) {
			if (open_source(v, &src) == -1 ||
			    (a = archive_read_new()) == NULL) {
				wwerr_set(&w->err, VERIFY_E_NOMEM,
				    "out of memory");
				worker_fail(w, wk->ent);
				goto done;
			}
			aio_set_tracking(src, 0);
			archive_read_support_format_zip_seekable(a);
			if (aio_archive_open(src, a, 0) == -1) {
				wwerr_set(&w->err, VERIFY_E_FORMAT, "%s",
				    archive_error_string(a) ?
				    archive_error_string(a) :
				    "not a readable archive");
				worker_fail(w, wk->ent);
				goto done;
			}
		}
		/* Skip to the entry (data is skipped too). */
		while (ent <= wk->ent) {
			r = archive_read_next_header(a, &e);
			if (r != ARCHIVE_OK) {
				wwerr_set(&w->err, VERIFY_E_TRUNCATED,
				    "member \"%s\": %s", m->path,
				    archive_error_string(a) ?
				    archive_error_string(a) : "missing");
				worker_fail(w, wk->ent);
				goto done;
			}
			ent++;
		}
		buf_reset(&keep);
		cap = (enum capture)m->cap;
		keep.max = cap != CAP_NONE ? v->lim->max_metadata_size :
		    v->lim->max_elf_size;
		if (check_local(v, src, &w->err, wk, m->path) == -1 ||
		    read_member(v, &w->err, a, m->path, hash, &cap, &keep,
		    m) == -1 ||
		    finish_member(v, &w->err, m->path, cap, &keep, m) == -1) {
			worker_fail(w, wk->ent);
			goto done;
		}
	}
done:
	buf_free(&keep);
	if (a != NULL)
		archive_read_free(a);
	aio_free(src);
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct vctx *v = w->v;
	locale_t old = (locale_t)0;

	if (v->utf8 != (locale_t)0)
		old = uselocale(v->utf8);
	if (zip_inflater_new(v->lim->whole_member_max, &w->z) == -1) {
		wwerr_set(&w->err, VERIFY_E_NOMEM, "out of memory");
		worker_fail(w, 0);
		pthread_mutex_lock(&v->order_mu);
		v->order_stop = 1;
		pthread_mutex_unlock(&v->order_mu);
	} else {
		chunk_run(w, v->data_src);
		/* The chunk buffer is not needed any more. */
		free(w->cbuf);
		w->cbuf = NULL;
		w->cbuf_alloc = 0;
		slow_run(w);
	}
	zip_inflater_free(w->z);
	w->z = NULL;
	if (v->utf8 != (locale_t)0)
		uselocale(old);
	return NULL;
}

static unsigned
data_threads(const struct vctx *v)
{
	long n;

	if (v->lim->threads != 0)
		return v->lim->threads > 16 ? 16 : (unsigned)v->lim->threads;
	if (v->declared < 16ULL * 1024 * 1024)
		return 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 1 : n > 4 ? 4 : (unsigned)n;
}

/*
 * Read every regular member's data and compute the whole-file digest d;
 * src is the header pass's source (not tracking), read with pread.
 */
static int
data_pass(struct vctx *v, struct aio_src *src, unsigned char *d)
{
	struct worker *w = NULL;
	uint64_t *load = NULL;
	unsigned nthreads = data_threads(v), k, best;
	size_t i, started = 0;
	int rc = -1;

	if (sha256_init(&v->whole) == -1)
		return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
	v->whole_open = 1;
	if (plan_chunks(v) == -1)
		goto done;
	if (nthreads > v->nchunks)
		nthreads = v->nchunks ? (unsigned)v->nchunks : 1;
	if ((w = calloc(nthreads, sizeof(*w))) == NULL ||
	    (load = calloc(nthreads, sizeof(*load))) == NULL) {
		wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
		goto done;
	}
	/* Members for libarchive: biggest share to the least loaded. */
	for (i = 0; i < v->nwork; i++) {
		struct member *m = &v->m[v->work[i].mi];

		if (v->work[i].fast)
			continue;
		for (best = 0, k = 1; k < nthreads; k++)
			if (load[k] < load[best])
				best = k;
		m->owner = (uint8_t)best;
		load[best] += m->expect + 4096;
	}
	atomic_store(&v->stop_at, SIZE_MAX);
	v->data_src = src;
	for (k = 0; k < nthreads; k++) {
		w[k].v = v;
		w[k].k = k;
		w[k].err_ent = SIZE_MAX;
	}
	for (k = 1; k < nthreads; k++) {
		if (pthread_create(&w[k].tid, NULL, worker_run, &w[k]) != 0)
			break;
		started++;
	}
	v->nstarted = (unsigned)started;
	worker_run(&w[0]);
	for (k = 1; k <= started; k++)
		pthread_join(w[k].tid, NULL);
	for (best = 0, k = 1; k < nthreads; k++)
		if (w[k].err_ent < w[best].err_ent)
			best = k;
	if (w[best].err_ent != SIZE_MAX) {
		*v->err = w[best].err;
		goto done;
	}
	if (v->next_chunk != v->nchunks) {
		/* Cannot happen without an error above; do not hash less. */
		wwerr_set(v->err, VERIFY_E_IO, "data pass stopped early");
		goto done;
	}
	v->whole_open = 0;
	if (sha256_final(&v->whole, d) == -1) {
		wwerr_set(v->err, VERIFY_E_NOMEM, "hash failure");
		goto done;
	}
	rc = 0;
done:
	free(w);
	free(load);
	return rc;
}

/* ELF reports in member order, handed to the result. */
static int
collect_elfs(struct vctx *v)
{
	struct elf_report **ne;
	size_t i, n = 0;

	for (i = 0; i < v->nm; i++)
		if (v->m[i].elf != NULL)
			n++;
	if (n == 0)
		return 0;
	if ((ne = calloc(n, sizeof(*ne))) == NULL)
		return wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
	v->r->elfs = ne;
	for (i = 0; i < v->nm; i++) {
		if (v->m[i].elf != NULL) {
			ne[v->r->nelfs++] = v->m[i].elf;
			v->m[i].elf = NULL;
		}
	}
	return 0;
}

/* ---- whole-archive checks ---- */

static int
is_signature(const char *rel)
{
	return strcmp(rel, "RECORD.jws") == 0 || strcmp(rel, "RECORD.p7s") == 0;
}

static int
check_record(struct vctx *v)
{
	struct record *rec = NULL;
	struct record_entry *re;
	struct member *m;
	char sp[256], what[300];
	const char *rel;
	size_t i, dl = strlen(v->distinfo);
	int rc = -1;

	if (!v->have_record)
		return wwerr_set(v->err, VERIFY_E_RECORD_MISSING,
		    "%s/RECORD missing", v->distinfo);
	snprintf(what, sizeof(what), "%s", v->record_path);
	if (record_parse(v->record.ptr ? v->record.ptr : "", v->record.len,
	    what, &rec, v->err) == -1)
		return -1;
	for (i = 0; i < rec->n; i++) {
		re = &rec->e[i];
		if ((m = member_find(v, re->path)) == NULL || m->is_dir) {
			wwerr_set(v->err, VERIFY_E_RECORD_EXTRA,
			    "%s row %zu: \"%s\" is not a file in the archive",
			    what, re->row, san(re->path, sp, sizeof(sp)));
			goto done;
		}
		if (m->listed) {
			wwerr_set(v->err, VERIFY_E_RECORD_DUPLICATE,
			    "%s row %zu: \"%s\" listed more than once", what,
			    re->row, san(re->path, sp, sizeof(sp)));
			goto done;
		}
		m->listed = 1;
		rel = NULL;
		if (strncmp(re->path, v->distinfo, dl) == 0 &&
		    re->path[dl] == '/')
			rel = re->path + dl + 1;
		if (!re->has_hash) {
			if (rel != NULL && (strcmp(rel, "RECORD") == 0 ||
			    is_signature(rel)))
				continue;
			wwerr_set(v->err, VERIFY_E_RECORD_SYNTAX,
			    "%s row %zu: \"%s\" has no hash and size", what,
			    re->row, san(re->path, sp, sizeof(sp)));
			goto done;
		}
		if (memcmp(re->digest, m->digest, HASH_SHA256_LEN) != 0) {
			char want[HASH_SHA256_B64LEN], got[HASH_SHA256_B64LEN];

			hash_b64url(re->digest, HASH_SHA256_LEN, want);
			hash_b64url(m->digest, HASH_SHA256_LEN, got);
			wwerr_set(v->err, VERIFY_E_RECORD_HASH,
			    "member \"%s\": sha256 is %s, RECORD says %s",
			    san(re->path, sp, sizeof(sp)), got, want);
			goto done;
		}
		if (re->size != m->size) {
			wwerr_set(v->err, VERIFY_E_RECORD_SIZE,
			    "member \"%s\": %llu bytes, RECORD says %llu",
			    san(re->path, sp, sizeof(sp)),
			    (unsigned long long)m->size,
			    (unsigned long long)re->size);
			goto done;
		}
	}
	for (i = 0; i < v->nm; i++) {
		if (!v->m[i].is_dir && !v->m[i].listed) {
			wwerr_set(v->err, VERIFY_E_RECORD_UNLISTED,
			    "member \"%s\": not listed in %s",
			    san(v->m[i].path, sp, sizeof(sp)), what);
			goto done;
		}
	}
	rc = 0;
done:
	record_free(rec);
	return rc;
}

static int
check_wheel_file(struct vctx *v)
{
	struct hdrs hs;
	struct tagset want, got;
	const char *why, *wv, *rp, *build;
	const char *fb = v->r->build_tag;
	size_t line, i, j;
	uint64_t major;
	char maj[16];
	int rc = -1;

	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	if (!v->have_wheel)
		return wwerr_set(v->err, VERIFY_E_WHEEL_FILE,
		    "%s/WHEEL missing", v->distinfo);
	if (hdrs_parse(buf_cstr(&v->wheel), v->wheel.len, &hs, &why,
	    &line) == -1)
		return wwerr_set(v->err, VERIFY_E_WHEEL_FILE,
		    "%s/WHEEL line %zu: %s", v->distinfo, line, why);
	if ((wv = hdrs_get(&hs, "Wheel-Version")) == NULL) {
		wwerr_set(v->err, VERIFY_E_WHEEL_FILE,
		    "%s/WHEEL: no Wheel-Version", v->distinfo);
		goto done;
	}
	i = strspn(wv, "0123456789");
	if (i == 0 || i >= sizeof(maj) || wv[i] != '.' ||
	    wv[i + 1 + strspn(wv + i + 1, "0123456789")] != '\0' ||
	    wv[i + 1] == '\0') {
		wwerr_set(v->err, VERIFY_E_WHEEL_VERSION,
		    "%s/WHEEL: Wheel-Version \"%s\" is not N.N", v->distinfo,
		    wv);
		goto done;
	}
	memcpy(maj, wv, i);
	maj[i] = '\0';
	if (util_parse_u64(maj, 1000, &major) == -1 || major != 1) {
		wwerr_set(v->err, VERIFY_E_WHEEL_VERSION,
		    "%s/WHEEL: Wheel-Version %s, only 1.x is supported",
		    v->distinfo, wv);
		goto done;
	}
	if (hdrs_count(&hs, "Wheel-Version") != 1 ||
	    hdrs_count(&hs, "Root-Is-Purelib") != 1 ||
	    hdrs_count(&hs, "Build") > 1) {
		wwerr_set(v->err, VERIFY_E_WHEEL_FILE,
		    "%s/WHEEL: Wheel-Version and Root-Is-Purelib must appear "
		    "exactly once, Build at most once", v->distinfo);
		goto done;
	}
	rp = hdrs_get(&hs, "Root-Is-Purelib");
	if (strcasecmp(rp, "true") == 0)
		v->r->root_is_purelib = 1;
	else if (strcasecmp(rp, "false") == 0)
		v->r->root_is_purelib = 0;
	else {
		wwerr_set(v->err, VERIFY_E_WHEEL_FILE,
		    "%s/WHEEL: Root-Is-Purelib \"%s\" is not true/false",
		    v->distinfo, rp);
		goto done;
	}
	if (tagset_expand(v->r->python_tag, v->r->abi_tag,
	    v->r->platform_tag, &want, v->err) == -1) {
		v->err->code = VERIFY_E_FILENAME;
		goto done;
	}
	for (i = 0; i < hs.n; i++) {
		struct tagset one;
		char py[TAG_PART_MAX], abi[TAG_PART_MAX];
		char plat[TAG_PART_MAX * 2];
		const char *t = hs.h[i].value, *d1, *d2;
		struct tag *nt;

		if (strcasecmp(hs.h[i].key, "Tag") != 0)
			continue;
		d1 = strchr(t, '-');
		d2 = d1 ? strchr(d1 + 1, '-') : NULL;
		if (d2 == NULL || strchr(d2 + 1, '-') != NULL ||
		    (size_t)(d1 - t) >= sizeof(py) ||
		    (size_t)(d2 - d1 - 1) >= sizeof(abi) ||
		    strlen(d2 + 1) >= sizeof(plat)) {
			wwerr_set(v->err, VERIFY_E_TAGS,
			    "%s/WHEEL: bad Tag \"%s\"", v->distinfo, t);
			goto done;
		}
		memcpy(py, t, (size_t)(d1 - t));
		py[d1 - t] = '\0';
		memcpy(abi, d1 + 1, (size_t)(d2 - d1 - 1));
		abi[d2 - d1 - 1] = '\0';
		snprintf(plat, sizeof(plat), "%s", d2 + 1);
		if (tagset_expand(py, abi, plat, &one, v->err) == -1) {
			wwerr_set(v->err, VERIFY_E_TAGS,
			    "%s/WHEEL: bad Tag \"%s\"", v->distinfo, t);
			goto done;
		}
		nt = reallocarray(got.tags, got.ntags + one.ntags,
		    sizeof(*nt));
		if (nt == NULL) {
			tagset_free(&one);
			wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
			goto done;
		}
		got.tags = nt;
		memcpy(got.tags + got.ntags, one.tags,
		    one.ntags * sizeof(*nt));
		got.ntags += one.ntags;
		tagset_free(&one);
	}
	if (got.ntags == 0) {
		wwerr_set(v->err, VERIFY_E_TAGS, "%s/WHEEL: no Tag lines",
		    v->distinfo);
		goto done;
	}
	/* Equal as sets: each side's tags all appear on the other side. */
	for (j = 0; j < 2; j++) {
		const struct tagset *a = j ? &got : &want;
		const struct tagset *b = j ? &want : &got;

		for (i = 0; i < a->ntags; i++) {
			size_t k;

			for (k = 0; k < b->ntags; k++)
				if (!strcmp(a->tags[i].python, b->tags[k].python) &&
				    !strcmp(a->tags[i].abi, b->tags[k].abi) &&
				    !strcmp(a->tags[i].platform,
				    b->tags[k].platform))
					break;
			if (k == b->ntags) {
				wwerr_set(v->err, VERIFY_E_TAGS,
				    "%s/WHEEL: tag %s-%s-%s %s", v->distinfo,
				    a->tags[i].python, a->tags[i].abi,
				    a->tags[i].platform, j ?
				    "is not in the filename" :
				    "from the filename has no Tag line");
				goto done;
			}
		}
	}
	build = hdrs_get(&hs, "Build");
	if ((build != NULL || *fb != '\0') &&
	    (build == NULL || strcmp(build, fb) != 0)) {
		wwerr_set(v->err, VERIFY_E_TAGS,
		    "%s/WHEEL: Build \"%s\" but the filename's build tag is "
		    "\"%s\"", v->distinfo, build ? build : "", fb);
		goto done;
	}
	rc = 0;
done:
	tagset_free(&want);
	tagset_free(&got);
	hdrs_free(&hs);
	return rc;
}

static int
check_metadata(struct vctx *v, const char *what)
{
	struct verify_result *r = v->r;
	struct hdrs hs;
	const char *why, *mv, *name, *ver;
	char nn[NAME_MAX_LEN + 1], nv[VERSION_MAX_LEN + 1];
	unsigned char d[HASH_SHA256_LEN];
	size_t line, i, n;
	int rc = -1;

	if (!v->have_metadata)
		return wwerr_set(v->err, VERIFY_E_METADATA, "%s missing",
		    what);
	if (hdrs_parse(buf_cstr(&v->metadata), v->metadata.len, &hs, &why,
	    &line) == -1)
		return wwerr_set(v->err, VERIFY_E_METADATA, "%s line %zu: %s",
		    what, line, why);
	mv = hdrs_get(&hs, "Metadata-Version");
	name = hdrs_get(&hs, "Name");
	ver = hdrs_get(&hs, "Version");
	if (mv == NULL || name == NULL || ver == NULL ||
	    hdrs_count(&hs, "Name") != 1 || hdrs_count(&hs, "Version") != 1 ||
	    hdrs_count(&hs, "Metadata-Version") != 1 ||
	    hdrs_count(&hs, "Requires-Python") > 1) {
		wwerr_set(v->err, VERIFY_E_METADATA,
		    "%s: Metadata-Version, Name and Version must appear "
		    "exactly once (Requires-Python at most once)", what);
		goto done;
	}
	if (!(mv[0] == '1' || mv[0] == '2') || mv[1] != '.') {
		wwerr_set(v->err, VERIFY_E_METADATA,
		    "%s: unsupported Metadata-Version \"%s\"", what, mv);
		goto done;
	}
	if (name_normalize(name, nn, sizeof(nn)) == -1 ||
	    strcmp(nn, v->norm_name) != 0) {
		wwerr_set(v->err, VERIFY_E_METADATA_MISMATCH,
		    "%s: Name \"%s\" does not match the filename's \"%s\"",
		    what, name, v->norm_name);
		goto done;
	}
	if (version_normalize(ver, nv, sizeof(nv)) == -1 ||
	    strcmp(nv, v->norm_version) != 0) {
		wwerr_set(v->err, VERIFY_E_METADATA_MISMATCH,
		    "%s: Version \"%s\" does not match the filename's \"%s\"",
		    what, ver, v->norm_version);
		goto done;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (hdrs_get(&hs, "Requires-Python") != NULL &&
	    (r->requires_python = strdup(hdrs_get(&hs, "Requires-Python"))) ==
	    NULL)
		goto nomem;
	n = hdrs_count(&hs, "Requires-Dist");
	if (n > 0) {
		if ((r->requires_dist = calloc(n, sizeof(char *))) == NULL)
			goto nomem;
		for (i = 0; i < hs.n; i++) {
			if (strcasecmp(hs.h[i].key, "Requires-Dist") != 0)
				continue;
			if ((r->requires_dist[r->nrequires_dist] =
			    strdup(hs.h[i].value)) == NULL)
				goto nomem;
			r->nrequires_dist++;
		}
	}
	/* The exact bytes, for PEP 658. */
	r->metadata_len = v->metadata.len;
	r->metadata = buf_steal(&v->metadata);
	if (r->metadata == NULL)
		goto nomem;
	hash_sha256_mem(r->metadata, r->metadata_len, d);
	hash_hex(d, sizeof(d), r->metadata_sha256);
	rc = 0;
	goto done;
nomem:
	wwerr_set(v->err, VERIFY_E_NOMEM, "out of memory");
done:
	hdrs_free(&hs);
	return rc;
}

/* Every ELF object must be for the architecture of the platform tags. */
static int
check_elf_arch(struct vctx *v)
{
	char plat[sizeof(v->r->platform_tag)], *p, *save = NULL;
	struct platform pl;
	size_t i;

	snprintf(plat, sizeof(plat), "%s", v->r->platform_tag);
	for (p = strtok_r(plat, ".", &save); p != NULL;
	    p = strtok_r(NULL, ".", &save)) {
		if (platform_parse(p, &pl) == -1 || pl.arch[0] == '\0' ||
		    (pl.kind != PLAT_LINUX && pl.kind != PLAT_MANYLINUX &&
		    pl.kind != PLAT_MUSLLINUX))
			continue;
		for (i = 0; i < v->r->nelfs; i++) {
			const struct elf_report *er = v->r->elfs[i];

			if (strcmp(er->arch, pl.arch) != 0)
				return wwerr_set(v->err, VERIFY_E_ELF,
				    "member \"%s\": ELF for %s in a wheel "
				    "tagged %s", er->path, er->arch, p);
		}
	}
	return 0;
}

static int
check_wheel(struct vctx *v)
{
	if (v->distinfo == NULL && v->other_distinfo == NULL)
		return wwerr_set(v->err, VERIFY_E_DISTINFO_MISSING,
		    "no .dist-info directory");
	if (v->distinfo2 != NULL || v->n_other_distinfo > 1 ||
	    (v->distinfo != NULL && v->other_distinfo != NULL))
		return wwerr_set(v->err, VERIFY_E_DISTINFO_MULTIPLE,
		    "more than one .dist-info directory (%s and %s)",
		    v->distinfo ? v->distinfo : v->other_distinfo,
		    v->distinfo2 ? v->distinfo2 : v->other_distinfo);
	if (v->distinfo == NULL)
		return wwerr_set(v->err, VERIFY_E_DISTINFO_NAME,
		    "%s does not match the filename's %s %s",
		    v->other_distinfo, v->norm_name, v->norm_version);
	if (check_record(v) == -1 || check_wheel_file(v) == -1)
		return -1;
	{
		char what[300];

		snprintf(what, sizeof(what), "%s/METADATA", v->distinfo);
		if (check_metadata(v, what) == -1)
			return -1;
	}
	return check_elf_arch(v);
}

/* ---- entry points ---- */

void
verify_result_free(struct verify_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->metadata);
	free(r->requires_python);
	for (i = 0; i < r->nrequires_dist; i++)
		free(r->requires_dist[i]);
	free(r->requires_dist);
	for (i = 0; i < r->nelfs; i++)
		elf_report_free(r->elfs[i]);
	free(r->elfs);
	free(r);
}

static void
vctx_free(struct vctx *v)
{
	size_t i;

	for (i = 0; i < v->nm; i++) {
		free(v->m[i].path);
		if (v->m[i].elf != NULL)
			elf_report_free(v->m[i].elf);
	}
	free(v->m);
	free(v->ht);
	free(v->work);
	free(v->chunks);
	if (v->whole_open)
		sha256_final(&v->whole, NULL);
	zipcd_free(v->cd);
	free(v->distinfo);
	free(v->distinfo2);
	free(v->other_distinfo);
	free(v->datadir);
	free(v->topdir);
	free(v->record_path);
	buf_free(&v->wheel);
	buf_free(&v->metadata);
	buf_free(&v->record);
}

static int
parse_filename(struct vctx *v, const char *filename)
{
	struct verify_result *r = v->r;
	struct wheelname wn;
	struct sdistname sn;
	const char *ver;

	if (strlen(filename) >= sizeof(r->filename))
		return wwerr_set(v->err, VERIFY_E_FILENAME, "name too long");
	snprintf(r->filename, sizeof(r->filename), "%s", filename);
	switch (distname_kind(filename)) {
	case 'w':
		if (wheelname_parse(filename, &wn, v->err) == -1)
			break;
		r->kind = DIST_WHEEL;
		v->is_zip = 1;
		snprintf(v->norm_name, sizeof(v->norm_name), "%s",
		    wn.normalized);
		snprintf(r->python_tag, sizeof(r->python_tag), "%s", wn.python);
		snprintf(r->abi_tag, sizeof(r->abi_tag), "%s", wn.abi);
		snprintf(r->platform_tag, sizeof(r->platform_tag), "%s",
		    wn.platform);
		snprintf(r->build_tag, sizeof(r->build_tag), "%s", wn.build);
		ver = wn.version;
		goto version;
	case 's':
		if (sdistname_parse(filename, &sn, v->err) == -1)
			break;
		r->kind = DIST_SDIST;
		v->is_zip = strcmp(sn.suffix, ".zip") == 0;
		snprintf(v->norm_name, sizeof(v->norm_name), "%s",
		    sn.normalized);
		ver = sn.version;
		goto version;
	default:
		wwerr_set(v->err, VERIFY_E_FILENAME,
		    "not a wheel (.whl) or sdist (.tar.gz, .zip) name");
		break;
	}
	v->err->code = VERIFY_E_FILENAME;
	return -1;
version:
	if (version_normalize(ver, v->norm_version,
	    sizeof(v->norm_version)) == -1)
		return wwerr_set(v->err, VERIFY_E_FILENAME,
		    "version \"%s\" is not PEP 440", ver);
	snprintf(r->normalized, sizeof(r->normalized), "%s", v->norm_name);
	snprintf(r->version, sizeof(r->version), "%s", v->norm_version);
	return 0;
}

static int
map_cd_status(struct vctx *v, int st, const char *msg)
{
	static const int codes[] = {
		[ZIPCD_NOT_ZIP] = VERIFY_E_FORMAT,
		[ZIPCD_TRUNCATED] = VERIFY_E_TRUNCATED,
		[ZIPCD_CORRUPT] = VERIFY_E_FORMAT,
		[ZIPCD_TOO_MANY] = VERIFY_E_TOO_MANY_MEMBERS,
		[ZIPCD_TOO_BIG] = VERIFY_E_TOO_MANY_MEMBERS,
		[ZIPCD_IO] = VERIFY_E_IO,
		[ZIPCD_NOMEM] = VERIFY_E_NOMEM,
		[ZIPCD_ENCRYPTED] = VERIFY_E_ENCRYPTED,
		[ZIPCD_BAD_DATA] = VERIFY_E_TRUNCATED,
	};

	return wwerr_set(v->err, codes[st], "%s", msg);
}

/*
 * From the central directory, before inflating anything: encrypted
 * members, and declared sizes (refuse an obvious bomb early; the real
 * sizes are counted again while streaming, since these can lie).
 */
static int
check_cd(struct vctx *v)
{
	uint64_t sum = 0;
	size_t i;
	char sp[256];

	for (i = 0; i < v->cd->n; i++) {
		const struct zipcd_entry *ce = &v->cd->e[i];

		/* Traditional PKWARE (bit 0), strong (bit 6), WinZip AES. */
		if ((ce->flags & 0x0041) != 0 || ce->method == 99)
			return wwerr_set(v->err, VERIFY_E_ENCRYPTED,
			    "member \"%s\": encrypted",
			    san(ce->name, sp, sizeof(sp)));
		if (ce->usize > v->lim->max_member_size)
			return wwerr_set(v->err, VERIFY_E_MEMBER_TOO_BIG,
			    "member \"%s\": %llu bytes, over the %llu-byte "
			    "limit", san(ce->name, sp, sizeof(sp)),
			    (unsigned long long)ce->usize,
			    (unsigned long long)v->lim->max_member_size);
		sum += ce->usize;
		v->declared = sum;
		if (sum > v->lim->max_total_size)
			return wwerr_set(v->err, VERIFY_E_MEMBER_TOO_BIG,
			    "members total more than %llu bytes unpacked",
			    (unsigned long long)v->lim->max_total_size);
	}
	if (ratio_exceeded(v, sum))
		return wwerr_set(v->err, VERIFY_E_RATIO,
		    "members declare %llu bytes unpacked from a %llu-byte "
		    "file, over the %llu:1 compression ratio limit",
		    (unsigned long long)sum, (unsigned long long)v->file_size,
		    (unsigned long long)v->lim->max_ratio);
	return 0;
}

static int
verify_src(struct aio_src *src, int fd, const void *mem,
    const char *filename, const struct limits *lim,
    struct verify_result **out, struct wwerr *err)
{
	struct vctx v;
	struct archive *a = NULL;
	struct verify_result *r;
	struct wwerr local;
	unsigned char d[HASH_SHA256_LEN];
	char msg[256];
	locale_t utf8, old = (locale_t)0;
	int st, rc = -1;

	*out = NULL;
	if (err == NULL)
		err = &local;
	memset(&v, 0, sizeof(v));
	v.lim = lim;
	v.err = err;
	v.fd = fd;
	v.mem = mem;
	v.file_size = aio_size(src);
	pthread_mutex_init(&v.elf_mu, NULL);
	pthread_mutex_init(&v.order_mu, NULL);
	buf_init(&v.wheel, 0);
	buf_init(&v.metadata, 0);
	buf_init(&v.record, 0);
	/*
	 * libarchive converts member names to the current locale; in the C
	 * locale non-ASCII UTF-8 names fail to convert. Use C.UTF-8 for this
	 * thread only, so names arrive as their exact UTF-8 bytes and
	 * invalid UTF-8 is refused.
	 */
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8 != (locale_t)0)
		old = uselocale(utf8);
	v.utf8 = utf8;
	if ((r = v.r = calloc(1, sizeof(*r))) == NULL) {
		wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
		goto done;
	}
	if (parse_filename(&v, filename) == -1)
		goto done;
	if (v.file_size > lim->max_file_size) {
		wwerr_set(err, VERIFY_E_FILE_TOO_BIG,
		    "%llu bytes, over the %llu-byte limit",
		    (unsigned long long)v.file_size,
		    (unsigned long long)lim->max_file_size);
		goto done;
	}
	if (v.is_zip) {
		st = zipcd_read(src, lim->max_members, &v.cd, msg, sizeof(msg));
		if (st != ZIPCD_OK) {
			map_cd_status(&v, st, msg);
			goto done;
		}
		if (check_cd(&v) == -1)
			goto done;
	}
	if ((a = archive_read_new()) == NULL) {
		wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
		goto done;
	}
	if (v.is_zip) {
		/* Header pass: reads skip around; hashing comes later. */
		v.phased = 1;
		aio_set_tracking(src, 0);
		archive_read_support_format_zip_seekable(a);
	} else {
		archive_read_support_filter_gzip(a);
		archive_read_support_format_tar(a);
	}
	if (aio_archive_open(src, a, 0) == -1) {
		wwerr_set(err, VERIFY_E_FORMAT, "%s",
		    archive_error_string(a) ? archive_error_string(a) :
		    "not a readable archive");
		goto done;
	}
	if (!v.is_zip && (archive_filter_count(a) < 2 ||
	    archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)) {
		wwerr_set(err, VERIFY_E_FORMAT, "not a gzip-compressed tar");
		goto done;
	}
	if (walk(&v, a) == -1)
		goto done;
	if (v.phased && data_pass(&v, src, d) == -1)
		goto done;
	r->uncompressed = atomic_load(&v.total);
	if (collect_elfs(&v) == -1)
		goto done;
	if (r->kind == DIST_WHEEL) {
		if (check_wheel(&v) == -1)
			goto done;
	} else {
		char what[300];

		if (v.topdir == NULL) {
			wwerr_set(err, VERIFY_E_LAYOUT, "empty archive");
			goto done;
		}
		snprintf(what, sizeof(what), "%s/PKG-INFO", v.topdir);
		if (check_metadata(&v, what) == -1)
			goto done;
	}
	if (!v.phased && aio_hash_final(src, d) == -1) {
		wwerr_set(err, VERIFY_E_IO, "read error: %s", strerror(errno));
		goto done;
	}
	hash_hex(d, sizeof(d), r->sha256);
	r->size = v.file_size;
	*out = r;
	r = NULL;
	rc = 0;
done:
	if (rc == -1) {
		char sp[256];

		if (err != NULL && err->code == 0)
			err->code = VERIFY_E_IO;
		san(filename, sp, sizeof(sp));
		if (err != NULL && strncmp(err->msg, sp, strlen(sp)) != 0)
			wwerr_prefix(err, "%s", sp);
	}
	if (a != NULL)
		archive_read_free(a);
	vctx_free(&v);
	pthread_mutex_destroy(&v.elf_mu);
	pthread_mutex_destroy(&v.order_mu);
	verify_result_free(r);
	if (utf8 != (locale_t)0) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}

int
verify_file(const char *path, const char *filename,
    const struct limits *lim, struct verify_result **out, struct wwerr *err)
{
	struct aio_src *src = NULL;
	struct stat st;
	const char *base;
	int fd, rc;

	*out = NULL;
	if (filename == NULL) {
		base = strrchr(path, '/');
		filename = base ? base + 1 : path;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return wwerr_set(err, VERIFY_E_IO, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wwerr_set(err, VERIFY_E_IO, "%s: not a regular file",
		    path);
	}
	if (aio_open_fd(fd, (uint64_t)st.st_size, &src) == -1) {
		close(fd);
		return wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
	}
	/* Tell the kernel we read front to back, for deeper readahead. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = verify_src(src, fd, NULL, filename, lim, out, err);
	aio_free(src);
	close(fd);
	return rc;
}

int
verify_mem(const void *data, size_t len, const char *filename,
    const struct limits *lim, struct verify_result **out, struct wwerr *err)
{
	struct aio_src *src = NULL;
	int rc;

	*out = NULL;
	if (aio_open_mem(data, len, &src) == -1)
		return wwerr_set(err, VERIFY_E_NOMEM, "out of memory");
	rc = verify_src(src, -1, data, filename, lim, out, err);
	aio_free(src);
	return rc;
}
