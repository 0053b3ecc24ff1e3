/* wwerr.c: the error-with-reason record used across the core library. */
#include <stdio.h>
#include <string.h>

#include "wwerr.h"

int
wwerr_setv(struct wwerr *e, int code, const char *fmt, va_list ap)
{
	if (e == NULL)
		return -1;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int
wwerr_set(struct wwerr *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wwerr_setv(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
wwerr_prefix(struct wwerr *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
}

void
wwerr_clear(struct wwerr *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
