/*
 * record.h: a wheel's RECORD file (the binary distribution format spec):
 * CSV rows "path,sha256=<urlsafe b64 nopad>,size", parsed with the rules of
 * Python's csv module (which writes them), and written the same way.
 * Errors use enum verify_err codes (verify.h).
 */
#ifndef WW_RECORD_H
#define WW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hash.h"
#include "wwerr.h"

struct record_entry {
	char		*path;
	size_t		 row;		/* 1-based row number */
	int		 has_hash;
	unsigned char	 digest[HASH_SHA256_LEN];
	int		 has_size;
	uint64_t	 size;
};

struct record {
	struct record_entry *e;
	size_t		 n;
};

/*
 * Parse RECORD bytes; what names the file in messages. md5/sha1 (and any
 * algorithm but sha256) are VERIFY_E_RECORD_HASH_ALGO, bad CSV, bad
 * base64 or sizes VERIFY_E_RECORD_SYNTAX. A row may leave hash and size
 * empty; whether that is allowed for the path is the caller's decision.
 */
int	 record_parse(const char *data, size_t len, const char *what,
	    struct record **out, struct wwerr *err);
void	 record_free(struct record *r);

/* Append a row; digest NULL writes empty hash and size (RECORD itself). */
int	 record_add_row(struct buf *b, const char *path,
	    const unsigned char *digest, uint64_t size);

#endif
