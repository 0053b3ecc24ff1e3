/*
 * fuzz_builder_upstream_json.c: libFuzzer target for the PEP 691 JSON
 * project-page parser. Beyond "no crash": every file it returns must be a
 * wheel or sdist of the requested project at an http(s) URL, with a hash
 * that is empty or 64 lowercase hex digits and printable text fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"
#include "wheelname.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 || *s == '\t');
}

static void
check_hex(const char *s)
{
	size_t i, n = strlen(s);

	CHECK(n == 0 || n == 64);
	for (i = 0; i < n; i++)
		CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_page *p = NULL;
	const struct upstream_file *f;
	struct wheelname wn;
	struct sdistname sn;
	size_t i;

	if (upstream_parse_json("pkg", "https://idx.example/simple/pkg/",
	    (const char *)data, size, &p, NULL) == -1) {
		CHECK(p == NULL);
		return 0;
	}
	CHECK(p != NULL && p->nfiles <= UPSTREAM_MAX_FILES);
	for (i = 0; i < p->nfiles; i++) {
		f = &p->files[i];
		CHECK(!strncmp(f->url, "http://", 7) ||
		    !strncmp(f->url, "https://", 8));
		CHECK(strchr(f->url, '#') == NULL);
		CHECK(strchr(f->filename, '/') == NULL);
		if (f->kind == 'w')
			CHECK(wheelname_parse(f->filename, &wn, NULL) == 0 &&
			    !strcmp(wn.normalized, "pkg") &&
			    !strcmp(wn.version_norm, f->version));
		else
			CHECK(f->kind == 's' &&
			    sdistname_parse(f->filename, &sn, NULL) == 0 &&
			    !strcmp(sn.normalized, "pkg") &&
			    !strcmp(sn.version_norm, f->version));
		check_hex(f->sha256);
		check_hex(f->metadata_sha256);
		check_text(f->requires_python);
		check_text(f->yanked_reason);
		CHECK(f->yanked || f->yanked_reason == NULL);
	}
	upstream_page_free(p);
	return 0;
}
