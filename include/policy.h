/*
 * policy.h: manylinux (PEP 600) and musllinux (PEP 656) policies. The
 * tables (allowed libraries, maximum symbol versions per policy and arch)
 * are data copied from pypa/auditwheel, embedded at build time; this module
 * decides the best platform tag a wheel's ELF content allows and lists every
 * violation in words.
 */
#ifndef WW_POLICY_H
#define WW_POLICY_H

#include <stddef.h>

#include "elf_inspect.h"
#include "wwerr.h"

struct policy_db;		/* opaque; loaded from the embedded tables */

/* err->code values of this module. */
enum policy_err {
	POLICY_OK = 0,
	POLICY_E_IO,		/* cannot read the table file */
	POLICY_E_TABLE,		/* table is not valid JSON / not a policy table */
	POLICY_E_ARG,		/* bad argument (e.g. empty arch) */
	POLICY_E_NOMEM
};

/*
 * Load the embedded tables (or a JSON file when path != NULL: a manylinux
 * or musllinux table in auditwheel's format, which replaces the embedded
 * table of its family, told apart by its policy names). Tables are checked
 * for shape and for PEP 600 monotonicity (each newer policy allows at
 * least what the older ones do).
 */
int	 policy_db_load(const char *path, struct policy_db **out,
	    struct wwerr *err);
void	 policy_db_free(struct policy_db *db);

enum policy_libc { POLICY_LIBC_NONE, POLICY_LIBC_GLIBC, POLICY_LIBC_MUSL };

struct policy_result {
	enum policy_libc libc;	/* what the extensions need */
	/* Best (most compatible) tag allowed, e.g. "manylinux_2_17_x86_64",
	 * "musllinux_1_2_aarch64"; "" if no policy allows the content. */
	char	 tag[96];
	int	 major, minor;	/* of tag */
	/* Every reason the content is not allowed, one sentence each:
	 * "links libfoo.so.1, which no manylinux policy allows (needed by
	 * pkg/_foo.so)". tag is "" exactly when this list is non-empty
	 * (except for a pure wheel). What merely limits the tag goes to
	 * limits below. */
	char	**violations;
	size_t	  nviolations;
	/* Libraries outside every policy (candidates for repair). */
	char	**external_libs;
	size_t	  nexternal_libs;
	int	  pure;		/* no ELF at all */

	/* Additions (after the original contract). All arrays are also
	 * NULL-terminated when non-NULL. */
	/* Legacy alias of tag for old pip ("manylinux2014_x86_64"), or "". */
	char	 legacy_tag[96];
	/* Best tag once external_libs are bundled into the wheel (repair),
	 * "" if other violations remain or no policy would allow it. */
	char	 repair_tag[96];
	/* Why the tag is not an older (more compatible) policy, one sentence
	 * each: "pkg/_x.so needs GLIBC_2.34, which manylinux_2_31_x86_64
	 * lacks". Informational, not violations. */
	char	**limits;
	size_t	  nlimits;
};

/*
 * Evaluate the ELF reports of one wheel for arch ("x86_64").
 * musl_minor: the musl 1.Y version of the build environment, or -1 if
 * unknown (then 1.2 is assumed for musllinux). Returns 0 even if there are
 * violations; -1 only on internal error.
 */
int	 policy_evaluate(const struct policy_db *db,
	    struct elf_report *const *elfs, size_t nelfs, const char *arch,
	    int musl_minor, struct policy_result *out, struct wwerr *err);
/*
 * The same for a known target libc: POLICY_LIBC_GLIBC (manylinux) or
 * POLICY_LIBC_MUSL (musllinux). Content needing the other libc is a
 * violation ("needs glibc ..., but the target is musllinux"); content that
 * needs no libc at all gets the target's family. POLICY_LIBC_NONE means
 * "decide from the content" (policy_evaluate), glibc if it needs none.
 */
int	 policy_evaluate_target(const struct policy_db *db,
	    struct elf_report *const *elfs, size_t nelfs, const char *arch,
	    enum policy_libc target, int musl_minor, struct policy_result *out,
	    struct wwerr *err);
void	 policy_result_free(struct policy_result *r);

/* 1 if the library name is allowed by the given policy tag
 * ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_2_x86_64"
 * or without the arch), 0 if not or if the tag names no known policy. */
int	 policy_lib_allowed(const struct policy_db *db, const char *tag,
	    const char *lib);

#endif
