/*
 * tags.h: compatibility tags (PEP 425), platform tags for glibc and musl
 * Linux (PEP 600 manylinux_X_Y with the legacy manylinux1/2010/2014
 * aliases, PEP 656 musllinux_X_Y), and the list of tags a target accepts
 * in pip's priority order.
 */
#ifndef WW_TAGS_H
#define WW_TAGS_H

#include <stddef.h>

#include "wwerr.h"

#define TAG_PART_MAX	64
/* Most tags one compressed set may expand to; more is refused. */
#define TAGSET_MAX	4096

enum tags_err {
	TAGS_OK = 0,
	TAGS_E_INVALID,		/* empty or bad component, bad characters */
	TAGS_E_TOOMANY,		/* expands to more than TAGSET_MAX tags */
	TAGS_E_NOMEM,
};

struct tag {
	char	python[TAG_PART_MAX];
	char	abi[TAG_PART_MAX];
	char	platform[TAG_PART_MAX * 2];
};

struct tagset {
	struct tag *tags;
	size_t	    ntags;
};

/*
 * Expand compressed sets "py2.py3-none-any" into each combination, in
 * python, abi, platform order, lowercased (as packaging.tags.Tag does) and
 * without duplicates. Each component is '.'-joined runs of [A-Za-z0-9_].
 * out is always initialized; free it with tagset_free.
 */
int	 tagset_expand(const char *python, const char *abi, const char *platform,
	    struct tagset *out, struct wwerr *err);
void	 tagset_free(struct tagset *ts);

enum platform_kind {
	PLAT_ANY,		/* "any" */
	PLAT_LINUX,		/* linux_<arch> (not installable from an index) */
	PLAT_MANYLINUX,		/* manylinux_X_Y_<arch> and legacy aliases */
	PLAT_MUSLLINUX,		/* musllinux_X_Y_<arch> */
	PLAT_OTHER,		/* macosx, win, ... */
};

struct platform {
	enum platform_kind kind;
	int	major, minor;	/* glibc / musl version, 0 for any/linux */
	char	arch[32];	/* "x86_64", "aarch64", "i686", ... */
	int	legacy;		/* spelled manylinux1/2010/2014 */
};

/*
 * Parse a single platform tag. manylinux2014_x86_64 -> manylinux 2.17.
 * Case-insensitive; no '.' sets. -1 if it is not [A-Za-z0-9_]+ or is a
 * malformed manylinux_/musllinux_ tag (missing or zero-padded version
 * numbers, no arch). Unknown families (macosx_..., win_amd64) are
 * PLAT_OTHER with arch "".
 */
int	 platform_parse(const char *tag, struct platform *out);
/*
 * Canonical PEP 600/656 spelling ("manylinux_2_17_x86_64"); -1 for
 * PLAT_OTHER, which keeps no spelling.
 */
int	 platform_format(const struct platform *p, char *out, size_t outlen);
/*
 * The legacy alias of a manylinux platform if it has one (PEP 513/571/599:
 * manylinux1 and manylinux2010 for x86_64/i686, manylinux2014 for the
 * arches PEP 599 lists), e.g. for "manylinux_2_17_x86_64.manylinux2014_x86_64".
 * 0 and out set, or -1 if there is none.
 */
int	 platform_legacy_alias(const struct platform *p, char *out,
	    size_t outlen);

/* A build/install target: what pip on that machine would accept. */
enum libc_kind { LIBC_GLIBC, LIBC_MUSL };

struct target_env {
	int		py_major, py_minor;	/* 3, 11 */
	const char     *interpreter;		/* "cp" */
	enum libc_kind	libc;
	int		libc_major, libc_minor;	/* glibc 2.36, musl 1.2 */
	const char     *arch;			/* "x86_64" */
};

/*
 * The tags pip would accept on env, most preferred first (as in
 * packaging.tags.sys_tags): cpXY-cpXY-<plat>, abi3, none, then pyXY/py3
 * none-any. Platforms include every manylinux_2_Y down to 2_5 (with legacy
 * aliases) or musllinux_1_Y down to 1_0, then linux_<arch> is NOT included
 * (indexes must not serve it).
 *
 * Exactly packaging's order (cpython_tags + compatible_tags with the
 * platforms of _manylinux.platform_tags / _musllinux.platform_tags):
 * glibc tags go down to 2_5 on x86_64/i686 and to 2_17 elsewhere, and only
 * for the arches packaging knows a manylinux ABI for (x86_64, i686,
 * aarch64, armv7l, ppc64, ppc64le, s390x, riscv64, loongarch64). Python
 * 3.0-3.7 get the pymalloc ABI "cp3Xm". interpreter must be NULL or "cp";
 * -1 for an unsupported or out-of-range env (out is then empty).
 */
int	 tags_supported(const struct target_env *env, struct tagset *out);
/*
 * Rank of the best tag in the compressed tag triple for env: 0 is best,
 * -1 if not installable on env (or the tags are malformed). supported is
 * tags_supported(env) computed once by the caller; NULL computes it here.
 */
int	 tags_rank(const struct target_env *env, const struct tagset *supported,
	    const char *python, const char *abi, const char *platform);

/* Index of tag (python, abi, platform; case-insensitive) in ts, or -1. */
int	 tagset_find(const struct tagset *ts, const char *python,
	    const char *abi, const char *platform);
/* "py3-none-any". */
int	 tag_format(const struct tag *t, char *out, size_t outlen);

#endif
