/*
 * elfedit.h: rewrite the dynamic section of a shared object in memory, for
 * repair (bundling libraries into a wheel, as auditwheel does with
 * patchelf): rename DT_NEEDED entries (and the matching .gnu.version_r
 * file names), set DT_SONAME, set DT_RUNPATH. New strings go into a grown
 * copy of .dynstr mapped by a new PT_LOAD segment at the end of the file;
 * see elfedit.c for the layout and why it is done here instead of by
 * patchelf.
 *
 * The input is hostile (it comes out of a build): every offset is checked,
 * and anything unusual is refused with a specific error rather than guessed.
 */
#ifndef WW_ELFEDIT_H
#define WW_ELFEDIT_H

#include <stddef.h>

#include "wwerr.h"

/* err->code values. */
enum elfedit_err {
	ELFEDIT_E_ARGS = 1,	/* bad options (empty or overlong names) */
	ELFEDIT_E_NOT_ELF,
	ELFEDIT_E_CORRUPT,	/* offsets out of bounds, no DT_NULL, ... */
	ELFEDIT_E_UNSUPPORTED,	/* not ET_DYN, no PT_DYNAMIC, too many
				 * program headers for musl's loader, ... */
	ELFEDIT_E_NOMEM
};

struct elfedit_rename {
	const char	*from;	/* "libyaml-0.so.2" */
	const char	*to;	/* "libyaml-0-1a2b3c4d.so.2" */
};

struct elfedit_opts {
	/* DT_NEEDED entries named from become to; so do .gnu.version_r
	 * entries (glibc finds a version's library by that name). Names
	 * the object does not need are ignored. */
	const struct elfedit_rename *rename;
	size_t		 nrename;
	/* New DT_SONAME (added if absent), or NULL to keep. */
	const char	*soname;
	/* New DT_RUNPATH, or NULL to keep. A DT_RPATH is replaced by it
	 * (turned into DT_RUNPATH, or dropped when a DT_RUNPATH exists). */
	const char	*runpath;
};

/*
 * Apply o to the shared object in (len bytes). *out (malloc'd, *outlen
 * bytes) is the edited object; when nothing needs changing it is an
 * unchanged copy and *changed is 0 (changed may be NULL).
 */
int	 elfedit_apply(const void *in, size_t len, const struct elfedit_opts *o,
	    unsigned char **out, size_t *outlen, int *changed,
	    struct wwerr *err);

#endif
