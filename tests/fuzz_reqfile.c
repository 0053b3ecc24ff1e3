/*
 * fuzz_reqfile.c: libFuzzer target for requirements files read from
 * memory. No crash, no leak, a reason on every error, and every entry's
 * canonical text (and its original text) parses to the same canonical
 * text. The name lies in a directory that does not exist, so relative
 * includes fail cleanly instead of reading the fuzzer's own files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "requirement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char name[] = "/nonexistent-fuzz-dir/requirements.txt";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reqfile *rf;
	struct requirement *r;
	struct wwerr err;
	size_t i, k;

	if (reqfile_parse(name, (const char *)data, size, &rf, &err) == -1) {
		/* "name: reason" or "name:line: reason" */
		if (err.code == 0 || strncmp(err.msg, name, sizeof(name) - 1) ||
		    err.msg[sizeof(name) - 1] != ':')
			abort();
		return 0;
	}
	for (i = 0; i < rf->nentries; i++) {
		const struct reqfile_entry *e = &rf->entries[i];

		if (e->line == 0 || e->file == NULL || e->constraint)
			abort();
		for (k = 0; k < e->nhashes; k++)
			if (strncmp(e->hashes[k], "sha", 3) != 0)
				abort();
		if (requirement_parse(requirement_str(e->req), &r, &err) == -1)
			abort();
		if (strcmp(requirement_str(r), requirement_str(e->req)) != 0)
			abort();
		requirement_free(r);
		if (requirement_parse(e->req->text, &r, &err) == -1)
			abort();
		if (strcmp(requirement_str(r), requirement_str(e->req)) != 0)
			abort();
		requirement_free(r);
	}
	reqfile_free(rf);
	return 0;
}
