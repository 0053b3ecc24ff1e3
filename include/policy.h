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

/* Load the embedded tables (or a JSON file when path != NULL). */
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
	/* Every reason the content is not allowed (or limits the tag), one
	 * sentence each: "links libfoo.so.1, which no manylinux policy allows". */
	char	**violations;
	size_t	  nviolations;
	/* Libraries outside every policy (candidates for repair). */
	char	**external_libs;
	size_t	  nexternal_libs;
	int	  pure;		/* no ELF at all */
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
void	 policy_result_free(struct policy_result *r);

/* 1 if the library name is allowed by the given policy tag. */
int	 policy_lib_allowed(const struct policy_db *db, const char *tag,
	    const char *lib);

#endif
