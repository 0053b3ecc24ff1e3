/*
 * coremeta.c: RFC 822-style header blocks of METADATA, PKG-INFO and WHEEL;
 * see coremeta.h. Stricter than Python's email parser on purpose: a line
 * that is neither "Key: value" nor a continuation, or a NUL byte, makes
 * the file malformed instead of being silently dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "coremeta.h"

#define HDRS_MAX_VALUE	(16 * 1024 * 1024)

void
hdrs_free(struct hdrs *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->h[i].key);
		free(hs->h[i].value);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim and store the value collected in v into the last header. */
static int
finish(struct hdrs *hs, struct buf *v)
{
	const char *s = buf_cstr(v);
	size_t n = v->len;
	char *out;

	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if ((out = strndup(s, n)) == NULL)
		return -1;
	hs->h[hs->n - 1].value = out;
	buf_reset(v);
	return 0;
}

int
hdrs_parse(const char *data, size_t len, struct hdrs *out, const char **why,
    size_t *line)
{
	const char *p = data, *end = data + len, *eol, *colon, *k;
	struct hdr *nh;
	struct buf v;
	size_t alloc = 0, ln = 0, llen;
	int open = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&v, HDRS_MAX_VALUE);
	if (memchr(data, '\0', len) != NULL) {
		*why = "NUL byte in file";
		*line = 0;
		goto fail;
	}
	while (p < end) {
		ln++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		llen = (size_t)(eol - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen == 0)
			break;			/* end of headers */
		if (is_blank(*p)) {
			if (!open) {
				*why = "continuation line before any header";
				goto bad;
			}
			if (buf_addc(&v, ' ') == -1 ||
			    buf_add(&v, p, llen) == -1) {
				*why = "header value too long";
				goto bad;
			}
		} else {
			if (open && finish(out, &v) == -1)
				goto nomem;
			open = 0;
			colon = memchr(p, ':', llen);
			if (colon == NULL || colon == p) {
				*why = "line is not \"Key: value\"";
				goto bad;
			}
			for (k = p; k < colon; k++) {
				if ((unsigned char)*k <= ' ' ||
				    (unsigned char)*k >= 127) {
					*why = "bad character in header name";
					goto bad;
				}
			}
			if (out->n == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				nh = reallocarray(out->h, alloc, sizeof(*nh));
				if (nh == NULL)
					goto nomem;
				out->h = nh;
			}
			nh = &out->h[out->n];
			memset(nh, 0, sizeof(*nh));
			out->n++;
			nh->line = ln;
			if ((nh->key = strndup(p, (size_t)(colon - p))) == NULL)
				goto nomem;
			if (buf_add(&v, colon + 1,
			    llen - (size_t)(colon + 1 - p)) == -1) {
				*why = "header value too long";
				goto bad;
			}
			open = 1;
		}
		p = eol < end ? eol + 1 : end;
	}
	if (open && finish(out, &v) == -1)
		goto nomem;
	buf_free(&v);
	return 0;
nomem:
	*why = "out of memory";
bad:
	*line = ln;
fail:
	/* A header whose value was never finished has value NULL. */
	buf_free(&v);
	hdrs_free(out);
	return -1;
}

const char *
hdrs_get(const struct hdrs *hs, const char *key)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		if (strcasecmp(hs->h[i].key, key) == 0)
			return hs->h[i].value;
	return NULL;
}

size_t
hdrs_count(const struct hdrs *hs, const char *key)
{
	size_t i, n = 0;

	for (i = 0; i < hs->n; i++)
		if (strcasecmp(hs->h[i].key, key) == 0)
			n++;
	return n;
}
