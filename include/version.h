/*
 * version.h: PEP 440 versions. Parsing accepts every form the spec (and
 * Python's packaging) accepts - epochs, pre/post/dev releases, implicit
 * separators, local labels - and yields a normalized string and a total
 * order identical to packaging.version.Version.
 */
#ifndef WW_VERSION_H
#define WW_VERSION_H

#include <stddef.h>

#define VERSION_MAX_LEN		256	/* longest version string accepted */

struct version;			/* opaque; defined in version.c */

/* Parse s. 0 and *out set, or -1 if s is not a valid PEP 440 version. */
int	 version_parse(const char *s, struct version **out);
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
unsigned long version_epoch(const struct version *v);
/* Release segment count and value (values beyond 64 bits saturate). */
size_t	 version_release_len(const struct version *v);
unsigned long long version_release_at(const struct version *v, size_t i);
/* Convenience: normalize a string into out. -1 if invalid / too small. */
int	 version_normalize(const char *s, char *out, size_t outlen);

#endif
