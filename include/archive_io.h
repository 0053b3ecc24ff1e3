/*
 * archive_io.h: the byte source under libarchive for the verifier and
 * retag, and our own reading of a zip's central directory.
 *
 * The source feeds libarchive from a file descriptor or from memory, with
 * a seek callback (the seekable zip reader needs it), and hashes every byte
 * of the file exactly once, in file order, as libarchive consumes it: the
 * whole-file SHA-256 and size come out of the same pass that verifies the
 * members (see archive_io.c for how seeks are handled).
 *
 * The central directory is parsed independently of libarchive so the
 * verifier can bound the entry count before libarchive allocates anything,
 * tell a truncated zip from a non-zip, and check that the names libarchive
 * reports (from local headers) are the names pip will see (from the
 * central directory).
 *
 * For the verifier's zip data pass: the local header checks, and
 * whole-buffer decoding of stored and deflated members with libdeflate
 * (faster than libarchive's zlib stream; see archive_io.c for the split).
 */
#ifndef WW_ARCHIVE_IO_H
#define WW_ARCHIVE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "wwerr.h"

struct archive;
struct aio_src;			/* opaque; archive_io.c */

/* Read from fd (not closed by aio_free). size is the file size to use. */
int	 aio_open_fd(int fd, uint64_t size, struct aio_src **out);
/* Read from memory; data must outlive the source. */
int	 aio_open_mem(const void *data, size_t len, struct aio_src **out);
void	 aio_free(struct aio_src *s);
uint64_t aio_size(const struct aio_src *s);
/* Read exactly len bytes at off (not hashed); -1 on error or short file. */
int	 aio_pread(struct aio_src *s, void *buf, size_t len, uint64_t off);
/*
 * Open a with s as its client (read, seek). Rewinds s to offset 0; the
 * whole-file hash restarts only if restart_hash is set.
 */
int	 aio_archive_open(struct aio_src *s, struct archive *a,
	    int restart_hash);
/*
 * Hash whatever libarchive did not read (trailer, central directory) and
 * return the whole-file digest. -1 on read errors.
 */
int	 aio_hash_final(struct aio_src *s, unsigned char d[HASH_SHA256_LEN]);
/*
 * With tracking off, reads are not hashed; aio_hash_final then hashes the
 * whole file in one sequential pass of its own (for readers that skip
 * around, such as the verifier's header pass and data workers).
 */
void	 aio_set_tracking(struct aio_src *s, int on);
/* Bytes re-read to fill gaps libarchive skipped (for the benchmark). */
uint64_t aio_gap_bytes(const struct aio_src *s);

/* One central directory entry, in local-header-offset order. */
struct zipcd_entry {
	char		*name;		/* raw bytes, NUL-terminated */
	size_t		 namelen;
	uint64_t	 local_off;
	uint64_t	 csize, usize;
	uint32_t	 crc32;
	uint32_t	 ext_attr;
	uint16_t	 flags;		/* general purpose bit flags */
	uint16_t	 method;
	uint8_t		 system;	/* "version made by" high byte */
};

struct zipcd {
	struct zipcd_entry *e;
	size_t		 n;
	uint64_t	 cd_off, cd_size;
};

enum zipcd_status {
	ZIPCD_OK = 0,
	ZIPCD_NOT_ZIP,		/* no zip signature at all */
	ZIPCD_TRUNCATED,	/* starts like a zip, no end record */
	ZIPCD_CORRUPT,		/* inconsistent directory */
	ZIPCD_TOO_MANY,		/* entry count over max_entries */
	ZIPCD_TOO_BIG,		/* central directory over our cap */
	ZIPCD_IO,
	ZIPCD_NOMEM,
	ZIPCD_ENCRYPTED,	/* a local header flags encryption */
	ZIPCD_BAD_DATA,		/* member data: corrupt, wrong size or CRC */
};

/*
 * Parse the central directory of the zip in s. Returns a zipcd_status;
 * msg (may be NULL) gets the reason.
 */
int	 zipcd_read(struct aio_src *s, uint64_t max_entries,
	    struct zipcd **out, char *msg, size_t msglen);
void	 zipcd_free(struct zipcd *cd);

/*
 * Where the data of entry e begins. p[0..avail) are the file's bytes from
 * e's local header on (at least the header and name, if the file has
 * them), and span is how far e may extend: to the next entry's local
 * header, or to the central directory. The local header must agree with
 * the central directory on the name, the method and encryption, and the
 * data (e->csize bytes: sizes come from the central directory, as in
 * pip's zipfile) must end within span. Returns a zipcd_status;
 * *data_off is relative to p.
 */
int	 zip_local_data(const struct zipcd_entry *e, const unsigned char *p,
	    size_t avail, uint64_t span, size_t *data_off, char *msg,
	    size_t msglen);

/*
 * Whole-buffer decoding of stored and deflated members (libdeflate), for
 * members whose sizes are at most max (compressed and unpacked). One per
 * thread.
 */
struct zip_inflater;		/* opaque; archive_io.c */

int	 zip_inflater_new(uint64_t max, struct zip_inflater **out);
void	 zip_inflater_free(struct zip_inflater *z);
/* Can e go through zip_inflate (method and sizes)? */
int	 zip_inflater_fits(const struct zip_inflater *z,
	    const struct zipcd_entry *e);
/*
 * Decode e's data (e->csize bytes at data) into exactly e->usize bytes
 * and check the CRC-32 against the central directory's. *out is data
 * itself for stored members, else the inflater's buffer, valid until the
 * next call. Returns ZIPCD_OK, ZIPCD_BAD_DATA (msg says why) or
 * ZIPCD_NOMEM.
 */
int	 zip_inflate(struct zip_inflater *z, const struct zipcd_entry *e,
	    const unsigned char *data, const unsigned char **out, char *msg,
	    size_t msglen);

#endif
