/*
 * fuzz_version.c: libFuzzer target for PEP 440 version parsing. Whatever
 * parses must normalize to a string that reparses to itself and compares
 * equal; the order must be antisymmetric and agree with equality of the
 * normalized forms. Input: one version, or two separated by a newline.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct version *
roundtrip(const char *s, size_t len)
{
	struct version *v, *w;
	char buf[VERSION_STR_MAX];
	struct wwerr err;

	if (version_parsen(s, len, &v, &err) == -1) {
		if (err.msg[0] == '\0')
			abort();	/* every failure says why */
		return NULL;
	}
	if (version_parse(version_str(v), &w) == -1 ||
	    strcmp(version_str(v), version_str(w)) != 0 ||
	    version_cmp(v, w) != 0 || version_cmp_public(v, w) != 0)
		abort();
	version_free(w);
	/* The public and base forms are versions of their own. */
	if (version_parse(version_public(v), &w) == -1 ||
	    version_has_local(w) || version_cmp_public(v, w) != 0)
		abort();
	version_free(w);
	if (version_parse(version_base(v), &w) == -1 ||
	    version_cmp_base(v, w) != 0 || version_is_prerelease(w) ||
	    version_is_postrelease(w))
		abort();
	version_free(w);
	/* canonicalize_version drops trailing zeros: still equal. */
	if (version_canonical(v, 1, 1, buf, sizeof(buf)) == -1 ||
	    version_parse(buf, &w) == -1 || version_cmp(v, w) != 0)
		abort();
	version_free(w);
	if ((version_local(v) != NULL) != version_has_local(v))
		abort();
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	struct version *a, *b;
	size_t alen;
	int ab, ba;

	if (size > 2 * VERSION_MAX_LEN + 8)
		return 0;
	nl = memchr(s, '\n', size);
	alen = nl ? (size_t)(nl - s) : size;
	if ((a = roundtrip(s, alen)) == NULL || nl == NULL) {
		version_free(a);
		return 0;
	}
	if ((b = roundtrip(nl + 1, size - alen - 1)) != NULL) {
		ab = version_cmp(a, b);
		ba = version_cmp(b, a);
		if (ab != -ba || ab < -1 || ab > 1)
			abort();
		if ((strcmp(version_str(a), version_str(b)) == 0) && ab != 0)
			abort();
		version_free(b);
	}
	version_free(a);
	return 0;
}
