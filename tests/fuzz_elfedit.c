/*
 * fuzz_elfedit.c: libFuzzer target for elfedit_apply(), which rewrites
 * shared objects that come out of builds (hostile input). Every input is
 * edited with a rename, a new soname and a new runpath; an edit that
 * succeeds on an object elf_inspect reads must give one it reads too, with
 * the new names in place; and the edit is idempotent (editing the result
 * again changes nothing).
 *
 * Seeds: tests/corpus/elfedit/ (small real objects from the ELF fixtures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_inspect.h"
#include "elfedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct elfedit_rename ren[] = {
		{ "libc.so.6", "libc-0a1b2c3d.so.6" },
		{ "libhelper.so.1", "libhelper-0a1b2c3d.so.1" },
	};
	struct elfedit_opts o = { ren, 2, "libnew-12345678.so.1",
	    "$ORIGIN/../pkg.libs" };
	struct elf_report *r = NULL, *r0 = NULL;
	struct wwerr err;
	unsigned char *out = NULL, *out2 = NULL;
	size_t len, len2, i;
	int changed;

	if (elf_inspect_mem("in.so", data, size, &r0, &err) != 0)
		r0 = NULL;
	if (elfedit_apply(data, size, &o, &out, &len, &changed, &err) != 0) {
		elf_report_free(r0);
		return 0;
	}
	if (!changed) {
		/* Nothing to do is an unchanged copy. */
		if (len != size || memcmp(out, data, size) != 0)
			abort();
		free(out);
		elf_report_free(r0);
		return 0;
	}
	if (elf_inspect_mem("fuzz.so", out, len, &r, &err) != 0) {
		if (r0 != NULL)
			abort();	/* readable in, unreadable out */
		free(out);
		return 0;
	}
	if (r->soname == NULL || strcmp(r->soname, o.soname) != 0 ||
	    r->runpath == NULL || strcmp(r->runpath, o.runpath) != 0)
		abort();
	for (i = 0; i < r->nneeded; i++)
		if (strcmp(r->needed[i], "libc.so.6") == 0 ||
		    strcmp(r->needed[i], "libhelper.so.1") == 0)
			abort();
	if (elfedit_apply(out, len, &o, &out2, &len2, &changed, &err) != 0 ||
	    changed || len2 != len || memcmp(out2, out, len) != 0)
		abort();
	free(out2);
	elf_report_free(r);
	elf_report_free(r0);
	free(out);
	return 0;
}
