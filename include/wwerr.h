/*
 * wwerr.h: an error code plus a human message, filled in by core functions
 * that return -1, so callers can both branch on the reason and show it.
 * Codes are module-specific enums (see verify.h etc.); 0 means no error.
 */
#ifndef WW_WWERR_H
#define WW_WWERR_H

#include <stdarg.h>

struct wwerr {
	int	code;
	char	msg[512];
};

/* Safe with e == NULL. Always returns -1 so "return wwerr_set(...)" works. */
int	wwerr_set(struct wwerr *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	wwerr_setv(struct wwerr *e, int code, const char *fmt, va_list ap);
/* Prefix the existing message with "prefix: ". */
void	wwerr_prefix(struct wwerr *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	wwerr_clear(struct wwerr *e);

#endif
