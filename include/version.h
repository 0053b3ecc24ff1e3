/*
 * version.h: PEP 440 versions. Parsing accepts every form the spec (and
 * Python's packaging) accepts - epochs, pre/post/dev releases, implicit
 * separators, local labels - and yields a normalized string and a total
 * order identical to packaging.version.Version.
 */
#ifndef WW_VERSION_H
#define WW_VERSION_H

#include <stddef.h>

#include "wwerr.h"

#define VERSION_MAX_LEN		256	/* longest version string accepted */
/*
 * Buffer size for any normalized form, NUL included. Versions whose
 * normalized form (implicit numbers added) would exceed VERSION_MAX_LEN
 * are refused, so every normalized form parses again.
 */
#define VERSION_STR_MAX		(VERSION_MAX_LEN + 1)

/* wwerr codes set by version_parse_err(). */
enum version_error {
	VERSION_EINVAL = 1,	/* not PEP 440 */
	VERSION_ETOOLONG,	/* input or normalized form too long */
};

struct version;			/* opaque; defined in version.c */

/* Parse s. 0 and *out set, or -1 if s is not a valid PEP 440 version. */
int	 version_parse(const char *s, struct version **out);
/* Same, and on failure err says why (names the input and the offset). */
int	 version_parse_err(const char *s, struct version **out,
	    struct wwerr *err);
/* Same for a string that is not NUL-terminated (len bytes). */
int	 version_parsen(const char *s, size_t len, struct version **out,
	    struct wwerr *err);
void	 version_free(struct version *v);
/* <0, 0, >0 like strcmp, in PEP 440 order (1.0 == 1.0.0). */
int	 version_cmp(const struct version *a, const struct version *b);
/* Normalized form, e.g. "1.0rc1.post2.dev3+abc.5". Owned by v. */
const char *version_str(const struct version *v);
/* Public part (no local label), normalized. Owned by v. */
const char *version_public(const struct version *v);
/* Base version "epoch!release", normalized. Owned by v. */
const char *version_base(const struct version *v);
int	 version_is_prerelease(const struct version *v);	/* pre or dev */
int	 version_is_postrelease(const struct version *v);
int	 version_is_devrelease(const struct version *v);
int	 version_has_local(const struct version *v);
/* Normalized local label ("abc.5"), or NULL if none. Owned by v. */
const char *version_local(const struct version *v);
unsigned long version_epoch(const struct version *v);
/* Release segment count and value (values beyond 64 bits saturate). */
size_t	 version_release_len(const struct version *v);
unsigned long long version_release_at(const struct version *v, size_t i);
/* Order ignoring the local labels of both (packaging's Version(v.public)). */
int	 version_cmp_public(const struct version *a, const struct version *b);
/* Order of the base versions only (epoch and release). */
int	 version_cmp_base(const struct version *a, const struct version *b);
/*
 * packaging.utils.canonicalize_version(v): the normalized form with, if
 * strip_trailing_zero, trailing ".0" release segments removed ("1.0.0" ->
 * "1"). with_local 0 leaves the local label out. -1 if out is too small.
 */
int	 version_canonical(const struct version *v, int strip_trailing_zero,
	    int with_local, char *out, size_t outlen);
/* Convenience: normalize a string into out. -1 if invalid / too small. */
int	 version_normalize(const char *s, char *out, size_t outlen);

/*
 * Byte length of the whitespace character at s (at most len bytes), or 0.
 * Whitespace is what Python's str.isspace() accepts (ASCII and the UTF-8
 * encoded Unicode spaces), since packaging strips exactly that around
 * versions and specifiers.
 */
size_t	 version_space_len(const char *s, size_t len);

#endif
