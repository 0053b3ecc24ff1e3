/*
 * fuzz_verify.c: libFuzzer over the wheel/sdist verifier (verify_mem) and
 * the parsers under it (RECORD, RFC 822 headers). Zip-looking input is
 * verified as a wheel and as a zip sdist, gzip-looking input as a tar.gz
 * sdist; anything else goes through the RECORD and header parsers and the
 * wheel path. Limits are lowered so a bomb costs milliseconds, not memory.
 * Each input runs with zip members decoded whole (libdeflate) and with
 * every member streamed through libarchive: the verdicts must agree.
 * Seeds: tests/corpus/verify/ (real small wheels/sdists and RECORDs).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coremeta.h"
#include "record.h"
#include "verify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
verify_with(const uint8_t *data, size_t size, const char *name,
    uint64_t whole, struct verify_result **r, struct wwerr *err)
{
	struct limits lim;
	int rc;

	limits_default(&lim);
	lim.max_member_size = 8 << 20;
	lim.max_total_size = 32 << 20;
	lim.max_elf_size = 4 << 20;
	lim.max_metadata_size = 1 << 20;
	lim.max_members = 5000;
	lim.whole_member_max = whole;
	/* Both the sequential and the threaded data pass. */
	lim.threads = 1 + (size & 1);
	wwerr_clear(err);
	rc = verify_mem(data, size, name, &lim, r, err);
	if (rc == 0) {
		/* An accepted file has consistent results. */
		if (*r == NULL || (*r)->metadata == NULL ||
		    (*r)->size != size || strlen((*r)->sha256) != 64)
			__builtin_trap();
	} else if (*r != NULL || err->code <= 0 ||
	    err->code >= VERIFY_E__COUNT || err->msg[0] == '\0') {
		__builtin_trap();
	}
	return rc;
}

/*
 * Zip members are decoded whole by libdeflate or streamed by libarchive
 * (zlib), by size: both must accept the same files, with the same
 * results. (Which error a rejected file gets may differ, when the two
 * notice different faults first.)
 */
static void
one(const uint8_t *data, size_t size, const char *name)
{
	struct verify_result *r1 = NULL, *r2 = NULL;
	struct wwerr e1, e2;
	int rc1, rc2;

	rc1 = verify_with(data, size, name, 32 << 20, &r1, &e1);
	rc2 = verify_with(data, size, name, 0, &r2, &e2);
	if (rc1 != rc2)
		__builtin_trap();
	if (rc1 == 0 && (strcmp(r1->sha256, r2->sha256) != 0 ||
	    r1->uncompressed != r2->uncompressed ||
	    r1->members != r2->members || r1->nelfs != r2->nelfs))
		__builtin_trap();
	verify_result_free(r1);
	verify_result_free(r2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record *rec;
	struct hdrs hs;
	struct wwerr err;
	const char *why;
	size_t line;

	if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
		one(data, size, "demo_pkg-1.0-py3-none-any.whl");
		one(data, size, "demo_pkg-1.0-py3-none-linux_x86_64.whl");
		one(data, size, "demo_pkg-1.0.zip");
		return 0;
	}
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		one(data, size, "demo_pkg-1.0.tar.gz");
		return 0;
	}
	if (record_parse((const char *)data, size, "RECORD", &rec, &err) == 0)
		record_free(rec);
	if (hdrs_parse((const char *)data, size, &hs, &why, &line) == 0)
		hdrs_free(&hs);
	one(data, size, "demo_pkg-1.0-py3-none-linux_x86_64.whl");
	return 0;
}
