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
	char	version_norm[257];/* PEP 440 normalized (added by wheelname.c) */
	char	build[64];	/* "" if none */
	unsigned long build_num;/* leading digits of build, 0 if none */
	char	python[64];	/* compressed tag set, e.g. "py2.py3" */
	char	abi[64];
	char	platform[128];
};

/*
 * Parse a wheel filename (the last path component only). Lenient like pip
 * about legacy spellings: any case, '.' in names, a '_' standing for '-'
 * inside a version ("1.0_1" is 1.0.post1). Strict about everything else:
 * the name must be a valid project name, the version valid PEP 440, each
 * tag component [A-Za-z0-9_] (compressed sets joined by '.'), a build tag
 * [A-Za-z0-9._] starting with a digit, and no '/', '\\', space, control
 * or non-ASCII byte anywhere. err->code is an enum wheelname_err.
 */
int	 wheelname_parse(const char *filename, struct wheelname *out,
	    struct wwerr *err);
/* The same for a filename of len bytes that may hold a NUL (refused). */
int	 wheelname_parsen(const char *filename, size_t len,
	    struct wheelname *out, struct wwerr *err);
/*
 * Format a filename from parts: name is escaped, version normalized and
 * '-' replaced, so the result is canonical. build may be "".
 */
int	 wheelname_format(const struct wheelname *wn, char *out, size_t outlen);
/* 1 if the filename is in canonical form (escaped name, normalized version). */
int	 wheelname_is_canonical(const struct wheelname *wn);
/*
 * The .dist-info directory name for the wheel: "{name}-{version}.dist-info",
 * spelled as in the filename (what bdist_wheel writes).
 */
int	 wheelname_distinfo(const struct wheelname *wn, char *out, size_t outlen);
/* The .data directory name: "{name}-{version}.data". */
int	 wheelname_datadir(const struct wheelname *wn, char *out, size_t outlen);
/*
 * 1 if the directory name dir (len bytes, no trailing '/') is the wheel's
 * .dist-info (resp. .data) directory up to normalization: the name equal
 * after PEP 503 normalization and the version equal after PEP 440
 * normalization ("MarkupSafe-2.1.2.dist-info" in markupsafe-2.1.2-...whl).
 * 0 otherwise.
 */
int	 wheelname_distinfo_matches(const struct wheelname *wn, const char *dir,
	    size_t len);
int	 wheelname_datadir_matches(const struct wheelname *wn, const char *dir,
	    size_t len);

struct sdistname {
	char	name[201];
	char	normalized[201];
	char	version[257];
	char	version_norm[257];/* PEP 440 normalized (added by wheelname.c) */
	char	suffix[8];	/* ".tar.gz" or ".zip" */
};

/*
 * Parse "{name}-{version}.tar.gz" (or legacy ".zip"). Legacy names may hold
 * '-', so the split is at the last '-' whose remainder is a valid PEP 440
 * version; the part before it must be a valid project name.
 */
int	 sdistname_parse(const char *filename, struct sdistname *out,
	    struct wwerr *err);
/* Canonical sdist filename "{escaped name}-{normalized version}.tar.gz". */
int	 sdistname_format(const char *name, const char *version, char *out,
	    size_t outlen);

/*
 * Which kind of distribution a filename is by its suffix alone: 'w' wheel
 * (.whl), 's' sdist (.tar.gz / .zip), 0 neither. Parse it to validate.
 */
int	 distname_kind(const char *filename);

#endif
