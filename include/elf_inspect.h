/*
 * elf_inspect.h: what a shared object in a wheel needs from the system,
 * read with libelf from memory (the bytes come straight out of the archive):
 * machine, PT_INTERP, DT_NEEDED, SONAME, RPATH/RUNPATH, versioned symbol
 * requirements (GLIBC_, GLIBCXX_, CXXABI_, GCC_), libc flavour, and signs of
 * a statically linked libc.
 *
 * The dynamic entries and version requirements are read the way the dynamic
 * loader reads them (PT_DYNAMIC, addresses mapped through PT_LOAD), not from
 * section headers, which can be stripped or lie. Every offset is checked
 * against the buffer; hostile input yields an error, never a crash.
 */
#ifndef WW_ELF_INSPECT_H
#define WW_ELF_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

enum elf_libc { ELF_LIBC_NONE, ELF_LIBC_GLIBC, ELF_LIBC_MUSL };

/* err->code values of elf_inspect_mem(). */
enum elf_err {
	ELFI_OK = 0,
	ELFI_E_NOT_ELF,		/* no ELF magic */
	ELFI_E_CORRUPT,		/* truncated, out-of-bounds offsets, ... */
	ELFI_E_UNSUPPORTED,	/* valid ELF we cannot read (e.g. version) */
	ELFI_E_NOMEM,
	ELFI_E_LIMIT		/* more entries than any real object has */
};

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
	 * a libc linked in statically. NULL-terminated list, or NULL. Only
	 * set when a core libc function (string, stdio, startup, syscall
	 * wrapper) is defined: an allocator alone (jemalloc) does not count. */
	char		**static_libc_syms;
	size_t		  nstatic_libc_syms;

	/* Additions (after the original contract). */
	uint16_t	  type;		/* e_type: ET_DYN, ET_EXEC, ET_REL */
	int		  mixed_libc;	/* needs both glibc and musl */
	/* Undefined dynamic symbols (names only), for the policy
	 * blacklists: sorted (strcmp), unique, NULL-terminated, or NULL. */
	char		**undefined;
	size_t		  nundefined;
};

/* All string arrays above (needed, undefined, static_libc_syms) are also
 * NULL-terminated when non-NULL. */

/* 1 if data starts with the ELF magic. */
int	 elf_is_elf(const void *data, size_t len);
int	 elf_inspect_mem(const char *path, const void *data, size_t len,
	    struct elf_report **out, struct wwerr *err);
void	 elf_report_free(struct elf_report *r);
/* Map e_machine (+class) to the wheel arch name, "unknown" if none.
 * Bi-endian machines get their little-endian name (ppc64le); use
 * elf_arch_name() when the byte order is known. */
const char *elf_machine_arch(uint16_t machine, int elfclass);
const char *elf_arch_name(uint16_t machine, int elfclass, int little_endian);
/* "glibc", "musl" or "none". */
const char *elf_libc_name(enum elf_libc libc);

#endif
