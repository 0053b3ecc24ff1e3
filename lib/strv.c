/* strv.c: growable NULL-terminated string vectors; see strv.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

int
strv_addn(struct strv *s, const char *str, size_t len)
{
	char **nv, *c;
	size_t na;

	if (s->max != 0 && s->n >= s->max) {
		errno = E2BIG;
		return -1;
	}
	if (s->n + 2 > s->alloc) {
		na = s->alloc ? s->alloc * 2 : 8;
		if ((nv = reallocarray(s->v, na, sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
		s->alloc = na;
	}
	if ((c = strndup(str, len)) == NULL)
		return -1;
	s->v[s->n++] = c;
	s->v[s->n] = NULL;
	return 0;
}

int
strv_add(struct strv *s, const char *str)
{
	return strv_addn(s, str, strlen(str));
}

int
strv_has(const struct strv *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

int
strv_addu(struct strv *s, const char *str)
{
	return strv_has(s, str) ? 0 : strv_add(s, str);
}

void
strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; s->v != NULL && i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}
