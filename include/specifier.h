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

/* Parse a comma-separated set; "" is the empty set (matches everything). */
int	 specset_parse(const char *s, struct specset **out, struct wwerr *err);
void	 specset_free(struct specset *ss);
/* Canonical text, specifiers sorted and joined by ",". Owned by ss. */
const char *specset_str(const struct specset *ss);
size_t	 specset_count(const struct specset *ss);

#define SPEC_PRE_DEFAULT	(-1)	/* allow only if a specifier names one */
#define SPEC_PRE_DENY		0
#define SPEC_PRE_ALLOW		1

/* 1 if v is contained. prereleases: one of SPEC_PRE_*. */
int	 specset_contains(const struct specset *ss, const struct version *v,
	    int prereleases);
/* Same, parsing the version string; invalid versions match only ===. */
int	 specset_contains_str(const struct specset *ss, const char *v,
	    int prereleases);
/* 1 if any specifier mentions a pre-release (so pre-releases are allowed). */
int	 specset_mentions_prerelease(const struct specset *ss);

#endif
