/*
 * fuzz_elf.c: libFuzzer target for elf_inspect_mem(), the parser that sees
 * every shared object of every uploaded or built wheel. Each report that
 * parses is also run through the policy decision, for every target libc,
 * so that code meets odd reports too. libFuzzer itself fails the run if
 * the target ever writes to its const input (libelf gets it read-only).
 *
 * Seeds: tests/corpus/elf/ (small real objects from the ELF fixtures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elf_inspect.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once: the tables are constant and this is test code. */
static struct policy_db *db;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_report *r;
	struct policy_result res;
	struct wwerr err;
	enum policy_libc t;

	if (db == NULL && policy_db_load(NULL, &db, &err) != 0)
		abort();
	if (elf_inspect_mem("fuzz.so", data, size, &r, &err) != 0)
		return 0;
	for (t = POLICY_LIBC_NONE; t <= POLICY_LIBC_MUSL; t++) {
		if (policy_evaluate_target(db, &r, 1, r->arch, t, -1, &res,
		    &err) != 0)
			abort();	/* only out-of-memory may fail */
		policy_result_free(&res);
	}
	elf_report_free(r);
	return 0;
}
