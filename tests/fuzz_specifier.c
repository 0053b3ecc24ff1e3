/*
 * fuzz_specifier.c: libFuzzer target for specifier sets. A set that parses
 * has a canonical text that reparses to the same text, count and
 * pre-release default, and both contain exactly the same versions.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "specifier.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *probes[] = {
	"0", "1.0", "1.0.0", "1.0a1", "1.0.post1", "1.0.dev0", "1.0+local",
	"1.1", "1.4.5", "2.0", "2.0rc1", "1!1.0", "3.10.2", "0.9.post1.dev2",
	"99999999999999999999.0",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int modes[] = { SPEC_PRE_DEFAULT, SPEC_PRE_ALLOW,
	    SPEC_PRE_DENY };
	struct specset *a, *b;
	struct version *v;
	struct wwerr err;
	unsigned char keep[sizeof(probes) / sizeof(probes[0])];
	struct version *vs[sizeof(probes) / sizeof(probes[0])];
	char *s;
	size_t i, m;

	if (size > SPECSET_MAX_LEN + 1)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	wwerr_clear(&err);
	if (specset_parse(s, &a, &err) == -1) {
		if (err.code == 0 || err.msg[0] == '\0')
			abort();	/* every failure says why */
		free(s);
		return 0;
	}
	if (specset_parse(specset_str(a), &b, &err) == -1 ||
	    strcmp(specset_str(a), specset_str(b)) != 0 ||
	    specset_count(a) != specset_count(b) ||
	    specset_mentions_prerelease(a) != specset_mentions_prerelease(b))
		abort();
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (version_parse(probes[i], &v) == -1)
			abort();
		for (m = 0; m < 3; m++)
			if (specset_contains(a, v, modes[m]) !=
			    specset_contains(b, v, modes[m]))
				abort();
		vs[i] = v;
	}
	specset_filter(a, (const struct version *const *)vs,
	    sizeof(probes) / sizeof(probes[0]), SPEC_PRE_DEFAULT, keep);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		version_free(vs[i]);
	/* Arbitrary text as a candidate: must not crash, 0 or 1. */
	if (specset_contains_str(a, s, SPEC_PRE_DEFAULT) > 1)
		abort();
	specset_free(a);
	specset_free(b);
	free(s);
	return 0;
}
