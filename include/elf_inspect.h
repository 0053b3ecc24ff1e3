/*
 * elf_inspect.h: what a shared object in a wheel needs from the system,
 * read with libelf from memory (the bytes come straight out of the archive):
 * machine, PT_INTERP, DT_NEEDED, SONAME, RPATH/RUNPATH, versioned symbol
 * requirements (GLIBC_, GLIBCXX_, CXXABI_, GCC_), libc flavour, and signs of
 * a statically linked libc.
 */
#ifndef WW_ELF_INSPECT_H
#define WW_ELF_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

enum elf_libc { ELF_LIBC_NONE, ELF_LIBC_GLIBC, ELF_LIBC_MUSL };

struct elf_symver {
	char	*lib;		/* "libc.so.6" */
	char	*version;	/* "GLIBC_2.17" */
};

struct elf_report {
	char		 *path;		/* member path inside the wheel */
	uint16_t	  machine;	/* e_machine */
	int		  elfclass;	/* 32 or 64 */
	int		  little_endian;
	const char	 *arch;		/* "x86_64", "aarch64", ... or "unknown" */
	char		 *interp;	/* PT_INTERP or NULL */
	char		 *soname;	/* DT_SONAME or NULL */
	char		 *runpath;	/* DT_RUNPATH or NULL */
	char		 *rpath;	/* DT_RPATH or NULL */
	char		**needed;	/* DT_NEEDED */
	size_t		  nneeded;
	struct elf_symver *symvers;	/* from .gnu.version_r */
	size_t		  nsymvers;
	enum elf_libc	  libc;
	/* Defined (exported) libc-internal symbols such as memcpy/malloc:
	 * a libc linked in statically. NULL-terminated list, or NULL. */
	char		**static_libc_syms;
	size_t		  nstatic_libc_syms;
};

/* 1 if data starts with the ELF magic. */
int	 elf_is_elf(const void *data, size_t len);
int	 elf_inspect_mem(const char *path, const void *data, size_t len,
	    struct elf_report **out, struct wwerr *err);
void	 elf_report_free(struct elf_report *r);
/* Map e_machine (+class) to the wheel arch name, "unknown" if none. */
const char *elf_machine_arch(uint16_t machine, int elfclass);

#endif
