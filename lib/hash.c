/* hash.c: SHA-256 via OpenSSL EVP and the encodings wheels and indexes use. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hash.h"

int
sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *ctx;

	h->len = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	h->ctx = ctx;
	return 0;
}

int
sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, data, len) != 1)
		return -1;
	h->len += len;
	return 0;
}

int
sha256_final(struct sha256 *h, unsigned char digest[HASH_SHA256_LEN])
{
	unsigned int n = 0;
	int rc = 0;

	if (h->ctx == NULL)
		return -1;
	if (digest != NULL && EVP_DigestFinal_ex(h->ctx, digest, &n) != 1)
		rc = -1;
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return rc;
}

int
hash_sha256_mem(const void *data, size_t len,
    unsigned char digest[HASH_SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) == 1 ?
	    0 : -1;
}

int
hash_sha256_fd(int fd, char hex[HASH_SHA256_HEXLEN], uint64_t *size)
{
	unsigned char buf[256 * 1024], d[HASH_SHA256_LEN];
	struct sha256 h;
	ssize_t r;

	if (sha256_init(&h) == -1)
		return -1;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			sha256_final(&h, NULL);
			return -1;
		}
		if (r == 0)
			break;
		sha256_update(&h, buf, (size_t)r);
	}
	if (size)
		*size = h.len;
	if (sha256_final(&h, d) == -1)
		return -1;
	hash_hex(d, sizeof(d), hex);
	return 0;
}

int
hash_sha256_file(const char *path, char hex[HASH_SHA256_HEXLEN], uint64_t *size)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	rc = hash_sha256_fd(fd, hex, size);
	close(fd);
	return rc;
}

void
hash_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
hash_b64url(const unsigned char *d, size_t n, char *out)
{
	size_t i;
	char *o = out;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		*o++ = b64u[(v >> 18) & 63];
		*o++ = b64u[(v >> 12) & 63];
		*o++ = b64u[(v >> 6) & 63];
		*o++ = b64u[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)d[i] << 16;
		*o++ = b64u[(v >> 18) & 63];
		*o++ = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
		*o++ = b64u[(v >> 18) & 63];
		*o++ = b64u[(v >> 12) & 63];
		*o++ = b64u[(v >> 6) & 63];
	}
	*o = '\0';
}

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

/*
 * The one decoder for both alphabets. strict_pad: RFC 4648 padding (at
 * most two '=', and then a length that is a multiple of 4); otherwise any
 * trailing '=' are ignored, as RECORD files are written without them.
 * Non-canonical trailing bits are refused either way.
 */
static int
b64_decode(const char *alphabet, int strict_pad, const char *in, size_t n,
    unsigned char *out, size_t outmax, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (n > 0 && in[n - 1] == '=') {
		n--;
		pad++;
	}
	if (strict_pad && (pad > 2 || (pad > 0 && (n + pad) % 4 != 0)))
		return -1;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64_val(alphabet, in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)		/* non-canonical trailing bits */
		return -1;
	*outlen = o;
	return 0;
}

int
hash_b64url_decode(const char *in, unsigned char *out, size_t outmax,
    size_t *outlen)
{
	return b64_decode(b64u, 0, in, strlen(in), out, outmax, outlen);
}

int
hash_b64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	return b64_decode(b64std, 1, in, inlen, out, outmax, outlen);
}

int
hash_is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}
