/*
 * repair_fetch.h: builderd's side of repair (lib/repair.c): copy the
 * shared libraries a built wheel needs from outside its policy - and,
 * recursively, their own non-policy dependencies - out of the build
 * container through the engine's archive API (GET /containers/ID/archive,
 * read with libarchive), before the container is removed. An exited
 * container is enough: nothing runs in it.
 *
 * Sonames are resolved the way the container's dynamic loader would:
 * the requesting object's absolute DT_RPATH/DT_RUNPATH entries (and
 * $ORIGIN for libraries found in the container), then the loader's
 * configured paths read from the container (glibc: /etc/ld.so.conf and its
 * includes; musl: /etc/ld-musl-ARCH.path), then the loader's built-in
 * defaults. A candidate for another machine or ELF class is skipped, as
 * the loader skips it. The image's Python interpreter is read too, so the
 * libraries it loads itself are never bundled (repair_target.interp_libs).
 */
#ifndef WW_REPAIR_FETCH_H
#define WW_REPAIR_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "elf_inspect.h"
#include "repair.h"
#include "wwerr.h"

struct engine;

struct repair_fetch_opts {
	/* The interpreter in the image: an absolute path, or a name looked
	 * up in /usr/local/bin, /usr/bin and /bin ("python3"); NULL: do not
	 * look (then nothing counts as the interpreter's). */
	const char	*python_bin;
	uint64_t	 max_lib;	/* one library; 0: 256 MiB */
	uint64_t	 max_total;	/* all of them; 0: 1 GiB */
};

struct repair_fetched {
	/* The libraries found (soname, container path, bytes). */
	struct repair_lib *libs;
	size_t		 nlibs;
	/* What the interpreter loads, NULL-terminated (never NULL). */
	char		**interp_libs;
	/* Sonames to bundle that were not found, NULL-terminated. */
	char		**missing;
	size_t		 nmissing;
	/* The directories searched, "dir:dir:...", for messages. */
	char		*search;
};

/*
 * Fetch what the wheel's ELF reports (elfs, from the verifier) need from
 * outside t's policy. A library that is not found is listed in missing,
 * not an error: repair_wheel() then names it. -1 only when the engine
 * fails or a limit is hit.
 */
int	 repair_fetch(struct engine *e, const char *cid,
	    const struct repair_target *t, struct elf_report *const *elfs,
	    size_t nelfs, const struct repair_fetch_opts *o,
	    struct repair_fetched **out, struct wwerr *err);
void	 repair_fetched_free(struct repair_fetched *f);

/*
 * Everything the executor needs after a build whose wheel (at wheel, with
 * the ELF reports elfs) has external libraries: fetch from the container
 * cid, then repair_wheel() into outdir with build as its build tag (NULL
 * keeps). t->interp_libs is ignored (taken from the image). err->code is
 * an enum repair_err (or the engine's/verifier's code), and the message
 * names the library and the reason, plus the search path when a library
 * was not found.
 */
int	 repair_container(struct engine *e, const char *cid, const char *wheel,
	    const char *outdir, const struct repair_target *t,
	    struct elf_report *const *elfs, size_t nelfs,
	    const struct repair_fetch_opts *fo, const char *build,
	    const struct limits *lim, struct repair_result *out,
	    struct wwerr *err);

#endif
