/*
 * name.c: PEP 503 project names. Validity follows the PEP 508 name grammar
 * (ASCII only, like packaging's requirement parser); normalization is
 * packaging.utils.canonicalize_name; escaping is the wheel filename rule.
 */
#include <string.h>

#include "name.h"

static int
name_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
name_sep(unsigned char c)
{
	return c == '-' || c == '_' || c == '.';
}

static unsigned char
name_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int
name_validn(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > NAME_MAX_LEN)
		return 0;
	if (!name_alnum((unsigned char)s[0]) ||
	    !name_alnum((unsigned char)s[len - 1]))
		return 0;
	for (i = 1; i + 1 < len; i++)
		if (!name_alnum((unsigned char)s[i]) &&
		    !name_sep((unsigned char)s[i]))
			return 0;
	return 1;
}

int
name_valid(const char *s)
{
	if (s == NULL)
		return 0;
	return name_validn(s, strnlen(s, NAME_MAX_LEN + 1));
}

/* Collapse runs of -_. into sep and lowercase; s must be valid. */
static int
name_fold(const char *s, size_t len, char sep, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (!name_validn(s, len) || out == NULL || outlen == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (name_sep(c)) {
			while (i + 1 < len && name_sep((unsigned char)s[i + 1]))
				i++;
			c = (unsigned char)sep;
		} else
			c = name_lower(c);
		if (o + 1 >= outlen) {
			out[0] = '\0';
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int
name_normalizen(const char *s, size_t len, char *out, size_t outlen)
{
	return name_fold(s, len, '-', out, outlen);
}

int
name_normalize(const char *s, char *out, size_t outlen)
{
	if (s == NULL)
		return -1;
	return name_fold(s, strnlen(s, NAME_MAX_LEN + 1), '-', out, outlen);
}

int
name_escape(const char *s, char *out, size_t outlen)
{
	if (s == NULL)
		return -1;
	return name_fold(s, strnlen(s, NAME_MAX_LEN + 1), '_', out, outlen);
}

int
name_equal(const char *a, const char *b)
{
	char na[NAME_MAX_LEN + 1], nb[NAME_MAX_LEN + 1];

	if (name_normalize(a, na, sizeof(na)) == -1 ||
	    name_normalize(b, nb, sizeof(nb)) == -1)
		return 0;
	return strcmp(na, nb) == 0;
}
