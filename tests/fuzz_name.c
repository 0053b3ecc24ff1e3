/*
 * fuzz_name.c: libFuzzer target for project names. Valid names normalize
 * and escape to valid names, normalization is idempotent, and the
 * length-bounded and NUL-terminated entry points agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[NAME_MAX_LEN + 2], norm[NAME_MAX_LEN + 1], norm2[NAME_MAX_LEN + 1];
	char esc[NAME_MAX_LEN + 1];
	int valid;

	if (size > NAME_MAX_LEN + 1)
		return 0;
	valid = name_validn((const char *)data, size);
	memcpy(s, data, size);
	s[size] = '\0';
	if (memchr(data, '\0', size) == NULL && name_valid(s) != valid)
		abort();
	if (!valid) {
		if (name_normalizen((const char *)data, size, norm,
		    sizeof(norm)) != -1)
			abort();
		return 0;
	}
	if (name_normalizen((const char *)data, size, norm, sizeof(norm)) ==
	    -1 || !name_valid(norm) ||
	    name_normalize(norm, norm2, sizeof(norm2)) == -1 ||
	    strcmp(norm, norm2) != 0 || !name_equal(s, norm))
		abort();
	if (name_escape(s, esc, sizeof(esc)) == -1 || !name_valid(esc) ||
	    !name_equal(esc, norm) || strchr(esc, '-') || strchr(esc, '.'))
		abort();
	if (strlen(norm) > size || strlen(esc) != strlen(norm))
		abort();
	return 0;
}
