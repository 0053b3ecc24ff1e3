/*
 * wheelname.h: wheel and sdist filenames per the binary distribution format
 * and the source distribution format specs: escaping, optional build tag,
 * compressed tag sets ("py2.py3-none-any").
 */
#ifndef WW_WHEELNAME_H
#define WW_WHEELNAME_H

#include <stddef.h>

#include "wwerr.h"

#define WHEELNAME_MAX	255	/* longest filename accepted (NAME_MAX) */

enum wheelname_err {
	WHEELNAME_OK = 0,
	WHEELNAME_E_SUFFIX,	/* not .whl / .tar.gz / .zip */
	WHEELNAME_E_PARTS,	/* wrong number of '-' separated parts */
	WHEELNAME_E_NAME,	/* invalid project name */
	WHEELNAME_E_VERSION,	/* invalid PEP 440 version */
	WHEELNAME_E_BUILD,	/* build tag does not start with a digit */
	WHEELNAME_E_TAG,	/* empty or invalid tag component */
	WHEELNAME_E_LENGTH,	/* too long or contains '/' or NUL */
};

struct wheelname {
	char	name[201];	/* as in the filename (escaped form) */
	char	normalized[201];/* PEP 503 normalized project name */
	char	version[257];	/* as in the filename */
	char	build[64];	/* "" if none */
	unsigned long build_num;/* leading digits of build, 0 if none */
	char	python[64];	/* compressed tag set, e.g. "py2.py3" */
	char	abi[64];
	char	platform[128];
};

int	 wheelname_parse(const char *filename, struct wheelname *out,
	    struct wwerr *err);
/*
 * Format a filename from parts: name is escaped, version normalized and
 * '-' replaced, so the result is canonical. build may be "".
 */
int	 wheelname_format(const struct wheelname *wn, char *out, size_t outlen);
/* 1 if the filename is in canonical form (escaped name, normalized version). */
int	 wheelname_is_canonical(const struct wheelname *wn);
/* The .dist-info directory name for the wheel: "{name}-{version}.dist-info". */
int	 wheelname_distinfo(const struct wheelname *wn, char *out, size_t outlen);

struct sdistname {
	char	name[201];
	char	normalized[201];
	char	version[257];
	char	suffix[8];	/* ".tar.gz" or ".zip" */
};

int	 sdistname_parse(const char *filename, struct sdistname *out,
	    struct wwerr *err);

/* Which kind of distribution a filename is: 'w' wheel, 's' sdist, 0 neither. */
int	 distname_kind(const char *filename);

#endif
