/*
 * archive_io.c: the byte source under libarchive (fd or memory, seekable)
 * with the whole-file SHA-256 computed as libarchive reads, an
 * independent parser for a zip's end record and central directory, and
 * the zip pieces the verifier's fast data pass needs: local header checks
 * and whole-buffer member decoding with libdeflate.
 *
 * Where the whole-file hash comes from. With tracking on (tar.gz sdists:
 * one sequential pass), each block is hashed the first time the bytes at
 * the "hashed up to" offset come by; a forward seek is filled in by
 * reading the gap, bytes read again after a backward seek are not hashed
 * twice, and aio_hash_final hashes what was never read. So the digest is
 * of every byte in file order at no extra read. Zips are read by a header
 * pass that skips around and then by the data pass (verify.c), which
 * reads the file once, front to back, in chunks and hashes them in order;
 * there tracking is off and only aio_pread is used.
 *
 * Why libdeflate next to libarchive. libarchive is the archive library
 * (formats, headers, filters, every compression method); it inflates zip
 * members with zlib, in a stream. On big wheels inflating is most of the
 * verifier's CPU, and libdeflate inflates 2-3x faster than zlib, but only
 * whole buffers. Since the central directory and local headers are parsed
 * here anyway, members that are stored or deflated and small enough to
 * hold (limits.whole_member_max) are decoded by zip_inflate in one call,
 * into a buffer of exactly the declared size; the rest still stream
 * through libarchive. zip_local_data applies the same local header checks
 * to both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <libdeflate.h>

#include "archive_io.h"

/*
 * Read sizes. Sequential reads grow to large blocks to keep the syscall
 * count down (on the 110 MB bench wheel 256 KiB, 1 MiB and 4 MiB cost the
 * same CPU within noise: inflating dominates); the first read after a
 * seek is small, because a reader that skips members (the verifier's
 * header pass and its data workers) needs only a local header there.
 */
#define AIO_BLOCK	(1024 * 1024)
#define AIO_MIN_BLOCK	(4 * 1024)
/* Central directories larger than this are refused (about 600k names). */
#define ZIPCD_MAX_SIZE	(64ULL * 1024 * 1024)

struct aio_src {
	int		 fd;		/* -1 for memory */
	const unsigned char *mem;
	uint64_t	 size;
	uint64_t	 pos;		/* next offset libarchive reads */
	uint64_t	 last_end;	/* end of the previous read */
	size_t		 blk;		/* current read size */
	int		 tracking;	/* hash what libarchive reads */
	unsigned char	*buf;		/* fd only */
	struct sha256	 h;
	int		 hashing;
	uint64_t	 hashed;	/* bytes [0, hashed) are in h */
	uint64_t	 gap;		/* bytes read only to fill gaps */
	int		 err;		/* errno of a failed read */
};

static int
src_init(struct aio_src *s)
{
	if (sha256_init(&s->h) == -1)
		return -1;
	s->hashing = 1;
	s->tracking = 1;
	s->hashed = 0;
	s->blk = AIO_MIN_BLOCK;
	return 0;
}

void
aio_set_tracking(struct aio_src *s, int on)
{
	s->tracking = on;
}

int
aio_open_fd(int fd, uint64_t size, struct aio_src **out)
{
	struct aio_src *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->fd = fd;
	s->size = size;
	if ((s->buf = malloc(AIO_BLOCK)) == NULL || src_init(s) == -1) {
		free(s->buf);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
aio_open_mem(const void *data, size_t len, struct aio_src **out)
{
	struct aio_src *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->fd = -1;
	s->mem = data;
	s->size = len;
	if (src_init(s) == -1) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
aio_free(struct aio_src *s)
{
	if (s == NULL)
		return;
	if (s->hashing)
		sha256_final(&s->h, NULL);
	free(s->buf);
	free(s);
}

uint64_t
aio_size(const struct aio_src *s)
{
	return s->size;
}

uint64_t
aio_gap_bytes(const struct aio_src *s)
{
	return s->gap;
}

int
aio_pread(struct aio_src *s, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	if (off > s->size || len > s->size - off) {
		errno = EIO;
		return -1;
	}
	if (s->fd == -1) {
		memcpy(buf, s->mem + off, len);
		return 0;
	}
	while (done < len) {
		r = pread(s->fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {		/* file shrank under us */
			errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* Hash [s->hashed, upto) by reading it ourselves. */
static int
fill_gap(struct aio_src *s, uint64_t upto)
{
	size_t n;

	while (s->hashed < upto) {
		n = upto - s->hashed > AIO_BLOCK ? AIO_BLOCK :
		    (size_t)(upto - s->hashed);
		if (s->fd == -1) {
			sha256_update(&s->h, s->mem + s->hashed, n);
		} else {
			if (aio_pread(s, s->buf, n, s->hashed) == -1)
				return -1;
			sha256_update(&s->h, s->buf, n);
		}
		s->hashed += n;
		s->gap += n;
	}
	return 0;
}

/* Account for bytes [off, off+n) at p passing through to libarchive. */
static void
track(struct aio_src *s, uint64_t off, const unsigned char *p, size_t n)
{
	uint64_t skip;

	if (!s->hashing || !s->tracking || off > s->hashed ||
	    off + n <= s->hashed)
		return;
	skip = s->hashed - off;
	sha256_update(&s->h, p + skip, n - (size_t)skip);
	s->hashed = off + n;
}

static la_ssize_t
aio_read_cb(struct archive *a, void *cd, const void **buffer)
{
	struct aio_src *s = cd;
	size_t n;

	if (s->pos >= s->size)
		return 0;
	if (s->pos != s->last_end)
		s->blk = AIO_MIN_BLOCK;
	else if (s->blk < AIO_BLOCK)
		s->blk *= 2;
	n = s->size - s->pos > s->blk ? s->blk : (size_t)(s->size - s->pos);
	if (s->hashing && s->tracking && s->pos > s->hashed &&
	    fill_gap(s, s->pos) == -1)
		goto fail;
	if (s->fd == -1) {
		*buffer = s->mem + s->pos;
	} else {
		if (aio_pread(s, s->buf, n, s->pos) == -1)
			goto fail;
		*buffer = s->buf;
	}
	track(s, s->pos, *buffer, n);
	s->pos += n;
	s->last_end = s->pos;
	return (la_ssize_t)n;
fail:
	s->err = errno;
	archive_set_error(a, errno, "read error: %s", strerror(errno));
	return -1;
}

static la_int64_t
aio_seek_cb(struct archive *a, void *cd, la_int64_t off, int whence)
{
	struct aio_src *s = cd;
	int64_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)s->pos; break;
	case SEEK_END: base = (int64_t)s->size; break;
	default: return ARCHIVE_FATAL;
	}
	if ((off < 0 && -off > base) || base + off > (int64_t)s->size) {
		archive_set_error(a, EINVAL, "seek outside the file");
		return ARCHIVE_FATAL;
	}
	s->pos = (uint64_t)(base + off);
	return (la_int64_t)s->pos;
}

int
aio_archive_open(struct aio_src *s, struct archive *a, int restart_hash)
{
	s->pos = 0;
	s->last_end = 0;
	s->blk = AIO_MIN_BLOCK;
	if (restart_hash) {
		if (s->hashing)
			sha256_final(&s->h, NULL);
		s->hashing = 0;
		if (src_init(s) == -1)
			return -1;
	}
	if (archive_read_set_read_callback(a, aio_read_cb) != ARCHIVE_OK ||
	    archive_read_set_seek_callback(a, aio_seek_cb) != ARCHIVE_OK ||
	    archive_read_set_callback_data(a, s) != ARCHIVE_OK)
		return -1;
	return archive_read_open1(a) == ARCHIVE_OK ? 0 : -1;
}

int
aio_hash_final(struct aio_src *s, unsigned char d[HASH_SHA256_LEN])
{
	int rc;

	if (!s->hashing)
		return -1;
	if (fill_gap(s, s->size) == -1)
		return -1;
	/* The gap count is for seeks, not for the expected tail. */
	rc = sha256_final(&s->h, d);
	s->hashing = 0;
	return rc;
}

/* ---- central directory ---- */

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int
cd_fail(char *msg, size_t msglen, int status, const char *reason)
{
	if (msg != NULL)
		snprintf(msg, msglen, "%s", reason);
	return status;
}

static int
cmp_off(const void *a, const void *b)
{
	const struct zipcd_entry *x = a, *y = b;

	if (x->local_off != y->local_off)
		return x->local_off < y->local_off ? -1 : 1;
	return 0;
}

void
zipcd_free(struct zipcd *cd)
{
	size_t i;

	if (cd == NULL)
		return;
	for (i = 0; i < cd->n; i++)
		free(cd->e[i].name);
	free(cd->e);
	free(cd);
}

/* Apply the Zip64 extended information extra field (0x0001). */
static int
zip64_extra(struct zipcd_entry *e, const unsigned char *x, size_t xlen,
    int need_u, int need_c, int need_o)
{
	size_t off = 0, dlen, p;

	while (off + 4 <= xlen) {
		dlen = le16(x + off + 2);
		if (off + 4 + dlen > xlen)
			return -1;
		if (le16(x + off) == 0x0001) {
			p = off + 4;
			if (need_u) {
				if (p + 8 > off + 4 + dlen)
					return -1;
				e->usize = le64(x + p);
				p += 8;
			}
			if (need_c) {
				if (p + 8 > off + 4 + dlen)
					return -1;
				e->csize = le64(x + p);
				p += 8;
			}
			if (need_o) {
				if (p + 8 > off + 4 + dlen)
					return -1;
				e->local_off = le64(x + p);
			}
			return 0;
		}
		off += 4 + dlen;
	}
	return (need_u || need_c || need_o) ? -1 : 0;
}

int
zipcd_read(struct aio_src *s, uint64_t max_entries, struct zipcd **out,
    char *msg, size_t msglen)
{
	/* libarchive looks for the end record in the last 16 KiB only. */
	unsigned char tail[16 * 1024], head[4], loc[20], e64[56], *cdb = NULL;
	struct zipcd *cd = NULL;
	struct zipcd_entry *e;
	size_t tlen, i, nlen, xlen, clen, p;
	uint64_t eocd_off, end_off, nent, cd_size, cd_off, size = s->size;
	int found = 0, st, looks_zip;
	uint16_t clen16;

	*out = NULL;
	looks_zip = size >= 4 && aio_pread(s, head, 4, 0) == 0 &&
	    memcmp(head, "PK\003\004", 4) == 0;
	if (size < 22)
		return cd_fail(msg, msglen, looks_zip ? ZIPCD_TRUNCATED :
		    ZIPCD_NOT_ZIP, "too short for a zip file");
	tlen = size < sizeof(tail) ? (size_t)size : sizeof(tail);
	if (aio_pread(s, tail, tlen, size - tlen) == -1)
		return cd_fail(msg, msglen, ZIPCD_IO, strerror(errno));
	/* The last end record whose comment runs exactly to end of file. */
	for (i = tlen - 22 + 1; i-- > 0;) {
		if (memcmp(tail + i, "PK\005\006", 4) != 0)
			continue;
		clen16 = le16(tail + i + 20);
		if (i + 22 + clen16 == tlen) {
			found = 1;
			break;
		}
	}
	if (!found) {
		if (looks_zip)
			return cd_fail(msg, msglen, ZIPCD_TRUNCATED,
			    "no end of central directory record (truncated?)");
		return cd_fail(msg, msglen, ZIPCD_NOT_ZIP, "not a zip file");
	}
	eocd_off = size - tlen + i;
	if (le16(tail + i + 4) != 0 || le16(tail + i + 6) != 0 ||
	    le16(tail + i + 8) != le16(tail + i + 10))
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "multi-disk zip archives are not supported");
	nent = le16(tail + i + 10);
	cd_size = le32(tail + i + 12);
	cd_off = le32(tail + i + 16);
	end_off = eocd_off;
	if (nent == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) {
		if (eocd_off < 20 + 56 ||
		    aio_pread(s, loc, sizeof(loc), eocd_off - 20) == -1 ||
		    memcmp(loc, "PK\006\007", 4) != 0)
			return cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "zip64 end of central directory locator missing");
		end_off = le64(loc + 8);
		if (le32(loc + 4) != 0 || le32(loc + 16) != 1 ||
		    end_off > eocd_off - 20 - 56 ||
		    aio_pread(s, e64, sizeof(e64), end_off) == -1 ||
		    memcmp(e64, "PK\006\006", 4) != 0 ||
		    le32(e64 + 16) != 0 || le32(e64 + 20) != 0 ||
		    le64(e64 + 24) != le64(e64 + 32))
			return cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "bad zip64 end of central directory record");
		nent = le64(e64 + 32);
		cd_size = le64(e64 + 40);
		cd_off = le64(e64 + 48);
	}
	/*
	 * No bytes between the directory and its end record, and none
	 * prepended: libarchive and Python's zipfile both "correct" offsets
	 * for prepended data, each in its own way; a wheel has no reason to
	 * need it, and refusing it removes a class of polyglot files.
	 */
	if (cd_off > end_off || cd_size != end_off - cd_off)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "central directory offset/size do not match its end "
		    "record (prepended or appended data?)");
	if (nent > max_entries)
		return cd_fail(msg, msglen, ZIPCD_TOO_MANY,
		    "central directory lists more entries than allowed");
	if (cd_size > ZIPCD_MAX_SIZE)
		return cd_fail(msg, msglen, ZIPCD_TOO_BIG,
		    "central directory over 64 MiB");
	if (nent > cd_size / 46)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "entry count does not fit the central directory");
	if ((cd = calloc(1, sizeof(*cd))) == NULL ||
	    (cd->e = calloc(nent ? nent : 1, sizeof(*cd->e))) == NULL ||
	    (cdb = malloc(cd_size ? cd_size : 1)) == NULL) {
		st = ZIPCD_NOMEM;
		cd_fail(msg, msglen, st, "out of memory");
		goto fail;
	}
	cd->cd_off = cd_off;
	cd->cd_size = cd_size;
	if (aio_pread(s, cdb, (size_t)cd_size, cd_off) == -1) {
		st = cd_fail(msg, msglen, ZIPCD_IO, strerror(errno));
		goto fail;
	}
	for (p = 0; cd->n < nent; cd->n++) {
		e = &cd->e[cd->n];
		if (p + 46 > cd_size || memcmp(cdb + p, "PK\001\002", 4) != 0) {
			st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "bad central directory entry");
			goto fail;
		}
		e->system = cdb[p + 5];
		e->flags = le16(cdb + p + 8);
		e->method = le16(cdb + p + 10);
		e->csize = le32(cdb + p + 20);
		e->crc32 = le32(cdb + p + 16);
		e->usize = le32(cdb + p + 24);
		nlen = le16(cdb + p + 28);
		xlen = le16(cdb + p + 30);
		clen = le16(cdb + p + 32);
		e->ext_attr = le32(cdb + p + 38);
		e->local_off = le32(cdb + p + 42);
		if (p + 46 + nlen + xlen + clen > cd_size) {
			st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "central directory entry overruns the directory");
			goto fail;
		}
		if (zip64_extra(e, cdb + p + 46 + nlen, xlen,
		    e->usize == 0xffffffff, e->csize == 0xffffffff,
		    e->local_off == 0xffffffff) == -1) {
			st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "bad zip64 extra field");
			goto fail;
		}
		if ((e->name = malloc(nlen + 1)) == NULL) {
			st = cd_fail(msg, msglen, ZIPCD_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(e->name, cdb + p + 46, nlen);
		e->name[nlen] = '\0';
		e->namelen = nlen;
		p += 46 + nlen + xlen + clen;
	}
	if (p != cd_size) {
		st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "central directory has bytes after its last entry");
		goto fail;
	}
	free(cdb);
	cdb = NULL;
	qsort(cd->e, cd->n, sizeof(*cd->e), cmp_off);
	/*
	 * Entries must not share or overlap their data: overlapping entries
	 * are the "non-recursive zip bomb" (Fifield), and libarchive silently
	 * drops a second entry at the same offset.
	 */
	for (i = 0; i < cd->n; i++) {
		uint64_t next = i + 1 < cd->n ? cd->e[i + 1].local_off : cd_off;

		if (cd->e[i].local_off >= next || next - cd->e[i].local_off <
		    30 + cd->e[i].namelen + cd->e[i].csize) {
			st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
			    "zip entries overlap");
			goto fail;
		}
	}
	if (cd->n > 0 && cd->e[0].local_off != 0) {
		st = cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "data before the first zip entry");
		goto fail;
	}
	*out = cd;
	return ZIPCD_OK;
fail:
	free(cdb);
	zipcd_free(cd);
	return st;
}

/* ---- member data, whole-buffer ---- */

int
zip_local_data(const struct zipcd_entry *e, const unsigned char *p,
    size_t avail, uint64_t span, size_t *data_off, char *msg, size_t msglen)
{
	size_t nlen, off;

	if (avail < 30 || span < 30 || memcmp(p, "PK\003\004", 4) != 0)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "no local header where the central directory puts it");
	if ((le16(p + 6) & 0x0041) != 0)
		return cd_fail(msg, msglen, ZIPCD_ENCRYPTED,
		    "local header flags encryption");
	if (le16(p + 8) != e->method)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "local header and central directory give different "
		    "compression methods");
	nlen = le16(p + 26);
	/* zipfile compares these names too (BadZipFile otherwise). */
	if (nlen != e->namelen || 30 + nlen > avail ||
	    memcmp(p + 30, e->name, nlen) != 0)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "local header name differs from the central directory's");
	off = 30 + nlen + le16(p + 28);
	if (off > span || e->csize > span - off)
		return cd_fail(msg, msglen, ZIPCD_CORRUPT,
		    "member data overruns the next entry");
	*data_off = off;
	return ZIPCD_OK;
}

struct zip_inflater {
	struct libdeflate_decompressor *d;
	unsigned char	*out;
	size_t		 alloc;
	uint64_t	 max;
};

int
zip_inflater_new(uint64_t max, struct zip_inflater **out)
{
	struct zip_inflater *z;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return -1;
	if ((z->d = libdeflate_alloc_decompressor()) == NULL) {
		free(z);
		return -1;
	}
	z->max = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : max;
	*out = z;
	return 0;
}

void
zip_inflater_free(struct zip_inflater *z)
{
	if (z == NULL)
		return;
	libdeflate_free_decompressor(z->d);
	free(z->out);
	free(z);
}

int
zip_inflater_fits(const struct zip_inflater *z, const struct zipcd_entry *e)
{
	return (e->method == 0 || e->method == 8) && e->csize <= z->max &&
	    e->usize <= z->max;
}

int
zip_inflate(struct zip_inflater *z, const struct zipcd_entry *e,
    const unsigned char *data, const unsigned char **out, char *msg,
    size_t msglen)
{
	static const unsigned char none[1];
	enum libdeflate_result r;
	size_t used, got, want;
	unsigned char *nb;
	uint32_t crc;

	*out = NULL;
	if (!zip_inflater_fits(z, e))
		return cd_fail(msg, msglen, ZIPCD_BAD_DATA,
		    "method or size not for whole-buffer decoding");
	want = (size_t)e->usize;
	if (e->method == 0) {
		if (e->csize != e->usize) {
			if (msg != NULL)
				snprintf(msg, msglen, "stored member of %llu "
				    "bytes in %llu bytes of data",
				    (unsigned long long)e->usize,
				    (unsigned long long)e->csize);
			return ZIPCD_BAD_DATA;
		}
		*out = want ? data : none;
	} else {
		if (want > z->alloc || z->out == NULL) {
			/* Grow to the largest member so far, not per call. */
			if ((nb = realloc(z->out, want ? want : 1)) == NULL)
				return cd_fail(msg, msglen, ZIPCD_NOMEM,
				    "out of memory");
			z->out = nb;
			z->alloc = want ? want : 1;
		}
		/*
		 * The output buffer is exactly the declared size: a member
		 * that inflates to more stops there (INSUFFICIENT_SPACE),
		 * never writing past it, so a lying size cannot grow memory.
		 */
		r = libdeflate_deflate_decompress_ex(z->d,
		    e->csize ? data : none, (size_t)e->csize, z->out, want,
		    &used, &got);
		switch (r) {
		case LIBDEFLATE_SUCCESS:
			break;
		case LIBDEFLATE_INSUFFICIENT_SPACE:
			if (msg != NULL)
				snprintf(msg, msglen, "inflates to more than "
				    "the %llu bytes the central directory "
				    "declares", (unsigned long long)e->usize);
			return ZIPCD_BAD_DATA;
		default:
			return cd_fail(msg, msglen, ZIPCD_BAD_DATA,
			    "corrupt deflate data");
		}
		if (got != want) {
			if (msg != NULL)
				snprintf(msg, msglen, "inflates to %zu bytes, "
				    "the central directory declares %llu", got,
				    (unsigned long long)e->usize);
			return ZIPCD_BAD_DATA;
		}
		*out = z->out;
	}
	crc = (uint32_t)libdeflate_crc32(0, *out, want);
	if (crc != e->crc32) {
		if (msg != NULL)
			snprintf(msg, msglen, "CRC-32 is %08x, the central "
			    "directory says %08x", crc, e->crc32);
		*out = NULL;
		return ZIPCD_BAD_DATA;
	}
	return ZIPCD_OK;
}
