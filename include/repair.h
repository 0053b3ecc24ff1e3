/*
 * repair.h: the equivalent of `auditwheel repair` for our pipeline. A
 * wheel whose extensions need shared libraries outside the target's
 * manylinux/musllinux policy gets copies of those libraries (and,
 * recursively, of their own non-policy dependencies) bundled under
 * "<name>.libs/" with names made unique by a hash of their content
 * (libyaml-0.so.2 -> libyaml-0-1a2b3c4d.so.2). Every ELF file that needs
 * one is rewritten (lib/elfedit.c): DT_NEEDED points to the new names,
 * DT_RUNPATH to "$ORIGIN/<relative path to the .libs dir>", and each copy
 * gets its new name as DT_SONAME. The policy is evaluated again on the
 * repaired content, bundled libraries included, and the wheel is rewritten
 * by retag_wheel() with the tag now satisfied: RECORD updated, written
 * atomically, verified again.
 *
 * This module knows nothing of containers: the library bytes come from
 * the caller (builder/repair_fetch.c copies them out of the build
 * container). Libraries that must come from the system are refused, with
 * the library's name and the reason.
 */
#ifndef WW_REPAIR_H
#define WW_REPAIR_H

#include <stddef.h>

#include "policy.h"
#include "verify.h"
#include "wwerr.h"

/* err->code values, numbered apart from verify_err and retag_err (a
 * failure of the final retag keeps its retag/verify code). */
enum repair_err {
	REPAIR_E_ARGS = 200,	/* bad arguments, or a layout we cannot fix */
	REPAIR_E_NOTHING,	/* no library outside the policy: nothing to
				 * bundle (retag instead) */
	REPAIR_E_REFUSED,	/* a library that may not be bundled */
	REPAIR_E_MISSING,	/* a library to bundle was not provided */
	REPAIR_E_POLICY,	/* violations bundling cannot fix */
	REPAIR_E_ELF,		/* an ELF file cannot be read or edited */
	REPAIR_E_IO,
	REPAIR_E_NOMEM,
};

const char *repair_err_name(int code);

/* What is being repaired for. */
struct repair_target {
	const struct policy_db	*db;
	const char		*arch;		/* "x86_64" */
	enum policy_libc	 libc;		/* GLIBC (manylinux) or MUSL
						 * (musllinux); NONE: decide
						 * from the content */
	int			 musl_minor;	/* musl 1.Y of the build
						 * image, -1 unknown */
	/* Libraries the target's Python interpreter itself loads (by
	 * soname), NULL-terminated, or NULL: never bundled, because the
	 * process already has one and a second copy would clash. */
	const char *const	*interp_libs;
};

/* One library offered for bundling. */
struct repair_lib {
	const char	*soname;	/* the name ELF files need it by */
	const char	*origin;	/* where it came from, for messages
					 * ("/usr/lib/x86_64-linux-gnu/..."),
					 * or NULL */
	const void	*data;
	size_t		 len;
};

/*
 * 1 if soname may not be bundled for t, with the reason in why ("it is
 * part of glibc and must come from the system", ...); 0 if it may.
 */
int	 repair_refusal(const struct repair_target *t, const char *soname,
	    char *why, size_t whylen);

/*
 * The libraries a library needs that the policy does not provide (its
 * candidates for bundling too). data is the library. *out: malloc'd
 * NULL-terminated array of malloc'd names (free with repair_strv_free).
 */
int	 repair_lib_needs(const struct repair_target *t, const char *soname,
	    const void *data, size_t len, char ***out, size_t *nout,
	    struct wwerr *err);
void	 repair_strv_free(char **v);

/*
 * auditwheel's unique name for a bundled copy: the first 8 hex digits of
 * the SHA-256 of data inserted before the first '.' of soname
 * ("libyaml-0.so.2" -> "libyaml-0-1a2b3c4d.so.2"). -1 if out is too small.
 */
int	 repair_hashed_name(const char *soname, const void *data, size_t len,
	    char *out, size_t outlen);

struct repair_opts {
	const struct repair_target *target;
	const struct repair_lib	*libs;	/* by soname; unused ones ignored */
	size_t			 nlibs;
	const char		*build;	/* build tag: NULL keeps, "" drops */
};

struct repair_bundled {
	char	*soname;	/* as needed: "libyaml-0.so.2" */
	char	*path;		/* in the wheel: "pkg.libs/libyaml-0-....so.2" */
	char	*origin;	/* as given, or NULL */
	char	 sha256[65];	/* of the original library */
};

struct repair_result {
	char			*path;		/* the repaired wheel */
	char			 tag[200];	/* its platform tag(s) */
	struct repair_bundled	*bundled;
	size_t			 nbundled;
	/* ELF members of the wheel that were rewritten. */
	char			**edited;
	size_t			 nedited;
};

/*
 * Repair the wheel at src into outdir (see the top of this file). On
 * success out->path is the new wheel (its name carries the policy tag);
 * src is left alone. Nothing is left in outdir on failure.
 */
int	 repair_wheel(const char *src, const char *outdir,
	    const struct repair_opts *o, const struct limits *lim,
	    struct repair_result *out, struct wwerr *err);
void	 repair_result_free(struct repair_result *r);

/*
 * The libraries bundled in a verified wheel, as repair (or auditwheel)
 * leaves them: ELF members in a "*.libs" directory that another ELF
 * member of the wheel needs. *out: NULL-terminated member paths
 * (repair_strv_free); 0 with *n = 0 when there are none.
 */
int	 repair_list_bundled(const struct verify_result *vr, char ***out,
	    size_t *n);

#endif
