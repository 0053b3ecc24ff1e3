/*
 * strv.h: a growable, NULL-terminated vector of malloc'd strings, as the
 * ELF inspector, the policy checker and repair collect names (libraries,
 * symbols, directories). { 0 } is an empty vector; v stays NULL until the
 * first string, and after that always ends with a NULL, so it can be
 * handed out as a char ** (freed with one loop, e.g. repair_strv_free).
 */
#ifndef WW_STRV_H
#define WW_STRV_H

#include <stddef.h>

struct strv {
	char	**v;
	size_t	  n, alloc;
	size_t	  max;		/* 0: unbounded; else more fails (E2BIG) */
};

/* Append a copy of str (strv_addn: of its first len bytes); 0 or -1. */
int	 strv_add(struct strv *s, const char *str);
int	 strv_addn(struct strv *s, const char *str, size_t len);
/* Append a copy unless an equal string is there already; 0 or -1. */
int	 strv_addu(struct strv *s, const char *str);
int	 strv_has(const struct strv *s, const char *str);
/* Free the strings and the vector; s becomes empty (max is kept). */
void	 strv_free(struct strv *s);

#endif
