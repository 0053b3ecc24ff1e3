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

struct tag {
	char	python[TAG_PART_MAX];
	char	abi[TAG_PART_MAX];
	char	platform[TAG_PART_MAX * 2];
};

struct tagset {
	struct tag *tags;
	size_t	    ntags;
};

/* Expand compressed sets "py2.py3-none-any" into each combination. */
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

/* Parse a single platform tag. manylinux2014_x86_64 -> manylinux 2.17. */
int	 platform_parse(const char *tag, struct platform *out);
/* Canonical PEP 600/656 spelling ("manylinux_2_17_x86_64"). */
int	 platform_format(const struct platform *p, char *out, size_t outlen);

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
 */
int	 tags_supported(const struct target_env *env, struct tagset *out);
/*
 * Rank of the best tag in the compressed tag triple for env: 0 is best,
 * -1 if not installable on env.
 */
int	 tags_rank(const struct target_env *env, const struct tagset *supported,
	    const char *python, const char *abi, const char *platform);

#endif
