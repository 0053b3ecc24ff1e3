/*
 * buf.h: bounded dynamic buffers (curl dynbuf style). Every buffer has a
 * hard maximum; appending past it fails with errno = E2BIG instead of
 * growing without limit, so hostile input cannot exhaust memory.
 * The contents are always NUL-terminated for convenience.
 */
#ifndef WW_BUF_H
#define WW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*ptr;
	size_t	 len;
	size_t	 alloc;
	size_t	 max;
};

/* max is capped at SIZE_MAX / 2, so size arithmetic cannot wrap. */
void	 buf_init(struct buf *b, size_t max);
int	 buf_add(struct buf *b, const void *data, size_t len);
int	 buf_addstr(struct buf *b, const char *s);
int	 buf_addc(struct buf *b, char c);
/* v in decimal, without printf (response headers, pages, log lines). */
int	 buf_add_u64(struct buf *b, uint64_t v);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Empty string, never NULL. */
const char *buf_cstr(const struct buf *b);
void	 buf_reset(struct buf *b);
void	 buf_free(struct buf *b);
/* Hand the allocation to the caller (NUL-terminated); b becomes empty. */
char	*buf_steal(struct buf *b);

#endif
