/*
 * fuzz_wheelname.c: libFuzzer target for wheel/sdist filename parsing.
 * Beyond "no crash": whatever parses must format to a canonical name that
 * parses back to the same project, version, build and tags, and formatting
 * is idempotent; tag sets and platform tags round-trip the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "tags.h"
#include "version.h"
#include "wheelname.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static void
lower(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) :
		    s[i];
	out[i] = '\0';
}

static void
check_platforms(const char *set)
{
	char one[TAG_PART_MAX * 2], out[TAG_PART_MAX * 2];
	struct platform p, p2;
	const char *s = set, *dot;
	size_t n;

	for (;;) {
		dot = strchr(s, '.');
		n = dot ? (size_t)(dot - s) : strlen(s);
		CHECK(n < sizeof(one));
		memcpy(one, s, n);
		one[n] = '\0';
		if (platform_parse(one, &p) == 0 &&
		    platform_format(&p, out, sizeof(out)) == 0) {
			CHECK(platform_parse(out, &p2) == 0);
			CHECK(p2.kind == p.kind && p2.major == p.major &&
			    p2.minor == p.minor && p2.legacy == 0);
			CHECK(strcmp(p2.arch, p.arch) == 0);
			if (platform_legacy_alias(&p, out, sizeof(out)) == 0) {
				CHECK(platform_parse(out, &p2) == 0);
				CHECK(p2.legacy && p2.major == p.major &&
				    p2.minor == p.minor);
			}
		}
		if (dot == NULL)
			break;
		s = dot + 1;
	}
}

static void
check_wheel(const uint8_t *data, size_t size)
{
	struct wheelname wn, wn2;
	struct tagset ts, ts2;
	char out[WHEELNAME_MAX + 1], out2[WHEELNAME_MAX + 1];
	char esc[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];
	char di[600], a[TAG_PART_MAX * 4], b[TAG_PART_MAX * 4];
	struct wwerr err;
	size_t want, i;

	if (wheelname_parsen((const char *)data, size, &wn, NULL) == -1)
		return;
	CHECK(size <= WHEELNAME_MAX);
	CHECK(name_valid(wn.name));
	CHECK(version_normalize(wn.version_norm, ver, sizeof(ver)) == 0);
	CHECK(strcmp(ver, wn.version_norm) == 0);
	CHECK(wheelname_distinfo(&wn, di, sizeof(di)) == 0);
	CHECK(wheelname_distinfo_matches(&wn, di, strlen(di)) == 1);

	/* Parsed tags expand unless there are too many combinations. */
	if (tagset_expand(wn.python, wn.abi, wn.platform, &ts, &err) == -1)
		CHECK(err.code == TAGS_E_TOOMANY);
	check_platforms(wn.platform);

	CHECK(name_escape(wn.name, esc, sizeof(esc)) == 0);
	want = strlen(esc) + 1 + strlen(wn.version_norm) + 1 +
	    (wn.build[0] ? strlen(wn.build) + 1 : 0) + strlen(wn.python) + 1 +
	    strlen(wn.abi) + 1 + strlen(wn.platform) + 4;
	if (wheelname_format(&wn, out, sizeof(out)) == -1) {
		/* Only a normalized version longer than the original. */
		CHECK(want > WHEELNAME_MAX);
		tagset_free(&ts);
		return;
	}
	CHECK(strlen(out) == want);
	CHECK(wheelname_is_canonical(&wn) ==
	    (memcmp(out, data, size) == 0 && strlen(out) == size));

	CHECK(wheelname_parse(out, &wn2, NULL) == 0);
	CHECK(wheelname_is_canonical(&wn2));
	CHECK(strcmp(wn2.normalized, wn.normalized) == 0);
	CHECK(strcmp(wn2.version_norm, wn.version_norm) == 0);
	CHECK(strcmp(wn2.build, wn.build) == 0);
	CHECK(wn2.build_num == wn.build_num);
	lower(wn.python, a, sizeof(a));
	CHECK(strcmp(wn2.python, a) == 0);
	lower(wn.abi, a, sizeof(a));
	CHECK(strcmp(wn2.abi, a) == 0);
	lower(wn.platform, a, sizeof(a));
	CHECK(strcmp(wn2.platform, a) == 0);
	/* Either spelling's .dist-info matches the other wheel name. */
	CHECK(wheelname_distinfo_matches(&wn2, di, strlen(di)) == 1);
	CHECK(wheelname_format(&wn2, out2, sizeof(out2)) == 0);
	CHECK(strcmp(out, out2) == 0);

	if (ts.tags != NULL) {
		CHECK(tagset_expand(wn2.python, wn2.abi, wn2.platform, &ts2,
		    NULL) == 0);
		CHECK(ts2.ntags == ts.ntags);
		for (i = 0; i < ts.ntags; i++) {
			CHECK(tag_format(&ts.tags[i], a, sizeof(a)) == 0);
			CHECK(tag_format(&ts2.tags[i], b, sizeof(b)) == 0);
			CHECK(strcmp(a, b) == 0);
		}
		tagset_free(&ts2);
	}
	tagset_free(&ts);
}

static void
check_sdist(const char *s)
{
	struct sdistname sn, sn2;
	char out[WHEELNAME_MAX + 1];

	if (sdistname_parse(s, &sn, NULL) == -1)
		return;
	CHECK(name_valid(sn.name));
	if (sdistname_format(sn.name, sn.version, out, sizeof(out)) == -1)
		return;	/* normalized version made it too long */
	CHECK(sdistname_parse(out, &sn2, NULL) == 0);
	CHECK(strcmp(sn2.normalized, sn.normalized) == 0);
	CHECK(strcmp(sn2.version_norm, sn.version_norm) == 0);
	CHECK(strcmp(sn2.suffix, ".tar.gz") == 0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	check_wheel(data, size);
	if (size > 4 * WHEELNAME_MAX)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_sdist(s);
	(void)distname_kind(s);
	free(s);
	return 0;
}
