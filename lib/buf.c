/* buf.c: bounded dynamic buffers; see buf.h for why they are bounded. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	/* Room for the NUL: max + 1 must not wrap. */
	b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	size_t need, nalloc;
	char *p;

	if (len > b->max || b->len > b->max - len) {
		errno = E2BIG;
		return -1;
	}
	need = b->len + len + 1;
	if (need > b->alloc) {
		nalloc = b->alloc ? b->alloc : 64;
		while (nalloc < need)
			nalloc *= 2;
		if (nalloc > b->max + 1)
			nalloc = b->max + 1;
		if ((p = realloc(b->ptr, nalloc)) == NULL)
			return -1;
		b->ptr = p;
		b->alloc = nalloc;
	}
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_add_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return buf_add(b, tmp + i, sizeof(tmp) - i);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256], *big;
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if ((size_t)n > b->max) {
		errno = E2BIG;
		return -1;
	}
	if ((big = malloc((size_t)n + 1)) == NULL)
		return -1;
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	rc = buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
buf_cstr(const struct buf *b)
{
	return b->ptr ? b->ptr : "";
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->ptr;

	if (p == NULL)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = b->alloc = 0;
	return p;
}
