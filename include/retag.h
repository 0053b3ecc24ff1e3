/*
 * retag.h: rewrite a wheel with a new platform tag (linux_x86_64 ->
 * manylinux_2_17_x86_64) and/or build tag: new WHEEL Tag lines (and Build),
 * RECORD updated, new filename, written atomically, then verified again
 * with the same verifier.
 */
#ifndef WW_RETAG_H
#define WW_RETAG_H

#include <stddef.h>

#include "verify.h"
#include "wwerr.h"

struct retag_opts {
	const char	*platform;	/* new compressed platform tag, or NULL */
	const char	*build;		/* new build tag, or NULL to keep */
	/* Extra members to add, e.g. bundled libraries from repair, and
	 * members to replace (same path): both in memory. */
	const struct retag_member *add;
	size_t		 nadd;
};

struct retag_member {
	const char	*path;		/* path inside the wheel */
	const void	*data;
	size_t		 len;
	int		 mode;		/* e.g. 0755; 0 for 0644 */
};

/*
 * Errors: the source failing verification keeps its enum verify_err code;
 * so does the rewritten wheel failing it (message "retagged wheel: ...");
 * the rest are these, numbered apart from verify_err.
 */
enum retag_err {
	RETAG_E_ARGS = 100,	/* bad platform/build tag or member path */
	RETAG_E_EXISTS,		/* the output file already exists */
	RETAG_E_IO,		/* reading the source, writing outdir */
	RETAG_E_NOMEM,
};

const char *retag_err_name(int code);

/*
 * opts->build: NULL keeps the build tag, "" removes it. opts->platform
 * NULL keeps the platform tags. Added members may not go into the
 * .dist-info (RECORD and WHEEL are the retagger's) and must pass the
 * verifier's path rules.
 *
 * Write the rewritten wheel into outdir; *out_path (malloc'd) is the new
 * file. The result is verified with lim; on failure nothing is left behind.
 */
int	 retag_wheel(const char *src, const char *outdir,
	    const struct retag_opts *opts, const struct limits *lim,
	    char **out_path, struct wwerr *err);

#endif
