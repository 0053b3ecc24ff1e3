/*
 * name.h: PEP 503 project names: validation (the PEP 508 name grammar) and
 * normalization (runs of -_. become "-", lowercase).
 */
#ifndef WW_NAME_H
#define WW_NAME_H

#include <stddef.h>

#define NAME_MAX_LEN	200	/* longest project name we accept */

/* 1 if s is a valid project name (ASCII letters/digits, inner -_.). */
int	 name_valid(const char *s);
int	 name_validn(const char *s, size_t len);
/* Normalize into out (PEP 503). -1 if invalid or out too small. */
int	 name_normalize(const char *s, char *out, size_t outlen);
int	 name_normalizen(const char *s, size_t len, char *out, size_t outlen);
/* Wheel/sdist filename form: runs of -_. become "_", lowercase. */
int	 name_escape(const char *s, char *out, size_t outlen);
/* 1 if a and b normalize to the same name. */
int	 name_equal(const char *a, const char *b);

#endif
