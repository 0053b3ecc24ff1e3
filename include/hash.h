/*
 * hash.h: SHA-256 through OpenSSL EVP, with the encodings the packaging
 * specs use: lowercase hex (index URLs, catalog) and urlsafe base64 without
 * padding (wheel RECORD files); and a standard base64 decoder (HTTP).
 */
#ifndef WW_HASH_H
#define WW_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA256_LEN		32
#define HASH_SHA256_HEXLEN	65	/* 64 + NUL */
#define HASH_SHA256_B64LEN	44	/* 43 + NUL */

struct sha256 {
	void	*ctx;		/* EVP_MD_CTX */
	uint64_t len;		/* bytes hashed so far */
};

int	 sha256_init(struct sha256 *h);
int	 sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finalises and frees the context. digest may be NULL (just free). */
int	 sha256_final(struct sha256 *h, unsigned char digest[HASH_SHA256_LEN]);

int	 hash_sha256_mem(const void *data, size_t len,
	    unsigned char digest[HASH_SHA256_LEN]);
/* Hash a whole file; also returns its size if size != NULL. */
int	 hash_sha256_file(const char *path, char hex[HASH_SHA256_HEXLEN],
	    uint64_t *size);
int	 hash_sha256_fd(int fd, char hex[HASH_SHA256_HEXLEN], uint64_t *size);

void	 hash_hex(const unsigned char *d, size_t n, char *out);
/* urlsafe base64 without '=' padding; out needs 4*ceil(n/3)+1 bytes. */
void	 hash_b64url(const unsigned char *d, size_t n, char *out);
/* Decode urlsafe base64 (padding optional); -1 on bad input or overflow. */
int	 hash_b64url_decode(const char *in, unsigned char *out, size_t outmax,
	    size_t *outlen);
/*
 * Decode standard base64 (RFC 4648 alphabet and padding: optional, but
 * if present at most "==" and to a multiple of 4), e.g. HTTP Basic
 * credentials; in need not be NUL-terminated. -1 on bad input, on
 * non-canonical trailing bits or when more than outmax bytes.
 */
int	 hash_b64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outmax, size_t *outlen);
/* Is s exactly 64 lowercase hex digits? */
int	 hash_is_hex64(const char *s);

#endif
