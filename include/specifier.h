/*
 * specifier.h: PEP 440 version specifier sets ("~=1.4.2, !=1.4.5, <2"):
 * ~=, == (with .*), !=, <, <=, >, >=, ===, with packaging's rules for
 * pre-releases, post-releases and local versions.
 */
#ifndef WW_SPECIFIER_H
#define WW_SPECIFIER_H

#include "version.h"
#include "wwerr.h"

struct specset;			/* opaque; defined in specifier.c */

#define SPECSET_MAX_LEN		4096	/* longest specifier set text */
#define SPECSET_MAX_SPECS	128	/* most specifiers in one set */

/* wwerr codes set by specset_parse(). */
enum spec_error {
	SPEC_ESYNTAX = 1,	/* no operator, missing version, bad shape */
	SPEC_EVERSION,		/* the version after the operator is invalid */
	SPEC_EOPERAND,		/* valid version the operator does not allow */
	SPEC_ETOOLONG,		/* over SPECSET_MAX_LEN / SPECSET_MAX_SPECS */
};

/*
 * Parse a comma-separated set; "" is the empty set (matches everything).
 * Empty items (",,") are skipped; specifiers equal in packaging's sense
 * ("==1.0" and "==1.0.0") are kept once, the first one.
 */
int	 specset_parse(const char *s, struct specset **out, struct wwerr *err);
void	 specset_free(struct specset *ss);
/*
 * Canonical text, as str(SpecifierSet): each specifier as its operator
 * plus its version text with surrounding whitespace removed, sorted and
 * joined by ",". The version text is kept as written because packaging's
 * ~= semantics depend on its spelling. Owned by ss.
 */
const char *specset_str(const struct specset *ss);
size_t	 specset_count(const struct specset *ss);

#define SPEC_PRE_DEFAULT	(-1)	/* allow only if a specifier names one */
#define SPEC_PRE_DENY		0
#define SPEC_PRE_ALLOW		1

/* 1 if v is contained. prereleases: one of SPEC_PRE_*. */
int	 specset_contains(const struct specset *ss, const struct version *v,
	    int prereleases);
/*
 * Same, parsing the version string. A string that is not a PEP 440
 * version matches only a non-empty set whose specifiers are all ===
 * naming it (ASCII case-insensitively); packaging 23 would raise.
 */
int	 specset_contains_str(const struct specset *ss, const char *v,
	    int prereleases);
/* 1 if any specifier mentions a pre-release (so pre-releases are allowed). */
int	 specset_mentions_prerelease(const struct specset *ss);
/*
 * SpecifierSet.filter(): set keep[i] to 1 for the versions vs[0..n) that
 * the set allows, else 0; returns how many. Like contains(), except that
 * with SPEC_PRE_DEFAULT an empty set falls back to the pre-releases when
 * no final release is there (PEP 440's "accept pre-releases if nothing
 * else matches"; packaging 23 applies it to the empty set only).
 */
size_t	 specset_filter(const struct specset *ss,
	    const struct version *const *vs, size_t n, int prereleases,
	    unsigned char *keep);

#endif
