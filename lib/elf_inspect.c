/*
 * elf_inspect.c: read what a shared object needs from the system, from
 * bytes in memory, with libelf. See elf_inspect.h.
 *
 * Why PT_DYNAMIC and not the .dynamic section: the dynamic loader only
 * looks at program headers. A build that strips or forges section headers
 * must not be able to hide a DT_NEEDED or a GLIBC_2.x requirement from the
 * policy check, so requirements come from PT_DYNAMIC, with DT_STRTAB and
 * DT_VERNEED mapped to file offsets through PT_LOAD, exactly as ld.so
 * resolves them. Symbols (for the static-libc check and the policy
 * blacklists) come from the SHT_DYNSYM section, which is only a hint.
 *
 * All offsets are checked here against the buffer; libelf checks its own.
 */
#include <gelf.h>
#include <libelf.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_inspect.h"
#include "strv.h"

/* Caps far above anything a real object has, so hostile input cannot make
 * the report grow without bound. */
#define MAX_PHDRS		4096
#define MAX_NEEDED		4096
#define MAX_VERNEED		4096
#define MAX_VERNAUX		65536
#define MAX_UNDEFINED		(1U << 20)
#define MAX_DYN_ENTRIES		(1U << 20)

/*
 * Functions only a libc defines. An extension that exports one of these
 * carries its own copy of libc (e.g. musl's libc.a linked in because the
 * build root lacked libc.so), which breaks as soon as it meets the real
 * libc of the interpreter. Allocator names alone are not enough: jemalloc
 * and friends export malloc/free on purpose.
 */
static const char *const libc_core_syms[] = {
	"memcpy", "memset", "memmove", "memcmp", "memchr",
	"strlen", "strcmp", "strncmp", "strchr", "strrchr", "strcpy",
	"strncpy", "strcat", "strstr", "strerror",
	"printf", "fprintf", "sprintf", "snprintf", "vsnprintf", "vfprintf",
	"puts", "fputs", "fopen", "fclose", "fread", "fwrite", "fflush",
	"exit", "_exit", "abort", "atexit", "getenv", "qsort",
	"__libc_start_main", "__libc_malloc", "__errno_location",
	"__stack_chk_fail", "__cxa_finalize",
	"open", "close", "read", "write", "mmap", "munmap",
	"pthread_create", "pthread_mutex_lock", "dlopen", "dlsym",
};
static const char *const libc_alloc_syms[] = {
	"malloc", "free", "calloc", "realloc", "posix_memalign",
	"aligned_alloc", "memalign",
};
#define WW_ARRLEN_CORE	(sizeof(libc_core_syms) / sizeof(libc_core_syms[0]))
#define WW_ARRLEN_ALLOC	(sizeof(libc_alloc_syms) / sizeof(libc_alloc_syms[0]))

struct insp {
	const char		*path;
	Elf			*elf;
	const unsigned char	*img;
	size_t			 len;
	int			 cls, le;
	struct elf_report	*r;
	struct wwerr		*err;
	/* PT_LOAD segments, for address -> offset mapping. */
	GElf_Phdr		*loads;
	size_t			 nloads;
	/* dynamic string table */
	const char		*strtab;
	size_t			 strsz;
};

/* ---- small helpers ---- */

/* off + n <= len without overflow. */
static int
in_bounds(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static uint16_t
rd16(const struct insp *x, const unsigned char *p)
{
	return x->le ? (uint16_t)(p[0] | p[1] << 8) :
	    (uint16_t)(p[1] | p[0] << 8);
}

static uint32_t
rd32(const struct insp *x, const unsigned char *p)
{
	if (x->le)
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 |
	    (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static int
fail_errno(struct insp *x, const char *what)
{
	if (errno == E2BIG)
		return wwerr_set(x->err, ELFI_E_LIMIT, "%s: too many %s",
		    x->path, what);
	return wwerr_set(x->err, ELFI_E_NOMEM, "%s: out of memory (%s)",
	    x->path, what);
}

/* Map a virtual address to a file offset through PT_LOAD, as ld.so would
 * find it in memory (only the file-backed part counts). */
static int
vaddr_to_off(const struct insp *x, uint64_t addr, uint64_t *off,
    uint64_t *avail)
{
	size_t i;
	const GElf_Phdr *p;

	for (i = 0; i < x->nloads; i++) {
		p = &x->loads[i];
		if (addr >= p->p_vaddr && addr - p->p_vaddr < p->p_filesz) {
			*off = p->p_offset + (addr - p->p_vaddr);
			*avail = p->p_filesz - (addr - p->p_vaddr);
			return 0;
		}
	}
	return -1;
}

/* NUL-terminated string at idx of the dynamic string table. */
static const char *
dynstr(struct insp *x, uint64_t idx, const char *what)
{
	const char *s, *nul;

	if (x->strtab == NULL) {
		wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: %s refers to a missing DT_STRTAB", x->path, what);
		return NULL;
	}
	if (idx >= x->strsz) {
		wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: %s name offset %llu is outside the string table "
		    "(%zu bytes)", x->path, what, (unsigned long long)idx,
		    x->strsz);
		return NULL;
	}
	s = x->strtab + idx;
	if ((nul = memchr(s, '\0', x->strsz - idx)) == NULL) {
		wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: %s name is not terminated inside the string table",
		    x->path, what);
		return NULL;
	}
	return s;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *c = malloc(n + 1);

	if (c != NULL)
		memcpy(c, s, n + 1);
	return c;
}

/* ---- arch and libc names ---- */

const char *
elf_arch_name(uint16_t machine, int elfclass, int little_endian)
{
	int is64 = elfclass == 64;

	switch (machine) {
	case EM_X86_64:
		return is64 ? "x86_64" : "x32";
	case EM_386:
		return is64 ? "unknown" : "i686";
	case EM_AARCH64:
		if (!is64)
			return "unknown";
		return little_endian ? "aarch64" : "aarch64_be";
	case EM_ARM:
		if (is64)
			return "unknown";
		return little_endian ? "armv7l" : "armv7b";
	case EM_PPC64:
		if (!is64)
			return "unknown";
		return little_endian ? "ppc64le" : "ppc64";
	case EM_PPC:
		return is64 ? "unknown" : (little_endian ? "ppcle" : "ppc");
	case EM_S390:
		return is64 ? "s390x" : "s390";
	case EM_RISCV:
		return is64 ? "riscv64" : "riscv32";
	case EM_LOONGARCH:
		return is64 ? "loongarch64" : "loongarch32";
	case EM_MIPS:
		if (is64)
			return little_endian ? "mips64el" : "mips64";
		return little_endian ? "mipsel" : "mips";
	case EM_SPARCV9:
		return is64 ? "sparc64" : "unknown";
	case EM_IA_64:
		return is64 ? "ia64" : "unknown";
	case EM_BPF:
		return "bpf";
	default:
		return "unknown";
	}
}

const char *
elf_machine_arch(uint16_t machine, int elfclass)
{
	/* The big-endian variants are rare enough that the contract-era
	 * function may assume little-endian for bi-endian machines. */
	if (machine == EM_S390 || machine == EM_SPARCV9)
		return elf_arch_name(machine, elfclass, 0);
	return elf_arch_name(machine, elfclass, 1);
}

const char *
elf_libc_name(enum elf_libc libc)
{
	switch (libc) {
	case ELF_LIBC_GLIBC:
		return "glibc";
	case ELF_LIBC_MUSL:
		return "musl";
	default:
		return "none";
	}
}

int
elf_is_elf(const void *data, size_t len)
{
	return data != NULL && len >= SELFMAG &&
	    memcmp(data, ELFMAG, SELFMAG) == 0;
}

/* ---- libc flavour ---- */

static int
name_is_glibc(const char *n)
{
	/* ld.so names per arch: ld-linux*.so.*, ld64.so.1 (ppc64/s390x),
	 * ld.so.1 (ppc32/s390/mips). */
	return strcmp(n, "libc.so.6") == 0 ||
	    strncmp(n, "ld-linux", 8) == 0 ||
	    strcmp(n, "ld64.so.1") == 0 || strcmp(n, "ld64.so.2") == 0 ||
	    strcmp(n, "ld.so.1") == 0;
}

static int
name_is_musl(const char *n)
{
	/* musl-gcc links "libc.so"; Alpine's libc is libc.musl-ARCH.so.1
	 * and its loader ld-musl-ARCH.so.1. */
	return strcmp(n, "libc.so") == 0 ||
	    strncmp(n, "libc.musl-", 10) == 0 ||
	    strncmp(n, "ld-musl-", 8) == 0;
}

static const char *
basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static void
classify_libc(struct elf_report *r)
{
	int glibc = 0, musl = 0;
	size_t i;

	if (r->interp != NULL) {
		glibc |= name_is_glibc(basename_of(r->interp));
		musl |= name_is_musl(basename_of(r->interp));
	}
	for (i = 0; i < r->nneeded; i++) {
		glibc |= name_is_glibc(r->needed[i]);
		musl |= name_is_musl(r->needed[i]);
	}
	for (i = 0; i < r->nsymvers; i++)
		if (strncmp(r->symvers[i].version, "GLIBC_", 6) == 0)
			glibc = 1;
	r->mixed_libc = glibc && musl;
	if (glibc)
		r->libc = ELF_LIBC_GLIBC;
	else if (musl)
		r->libc = ELF_LIBC_MUSL;
	else
		r->libc = ELF_LIBC_NONE;
}

/* ---- program headers and the dynamic segment ---- */

static int
read_phdrs(struct insp *x, GElf_Phdr *dyn, int *have_dyn)
{
	size_t n, i;
	GElf_Phdr ph;
	const char *s;

	*have_dyn = 0;
	if (elf_getphdrnum(x->elf, &n) != 0)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: unreadable program headers: %s", x->path,
		    elf_errmsg(-1));
	if (n > MAX_PHDRS)
		return wwerr_set(x->err, ELFI_E_LIMIT,
		    "%s: %zu program headers (limit %d)", x->path, n,
		    MAX_PHDRS);
	if (n > 0 && (x->loads = calloc(n, sizeof(*x->loads))) == NULL)
		return fail_errno(x, "program headers");
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(x->elf, (int)i, &ph) == NULL)
			return wwerr_set(x->err, ELFI_E_CORRUPT,
			    "%s: program header %zu: %s", x->path, i,
			    elf_errmsg(-1));
		switch (ph.p_type) {
		case PT_LOAD:
			if (!in_bounds(ph.p_offset, ph.p_filesz, x->len))
				return wwerr_set(x->err, ELFI_E_CORRUPT,
				    "%s: PT_LOAD %zu extends past the end of "
				    "the file", x->path, i);
			x->loads[x->nloads++] = ph;
			break;
		case PT_INTERP:
			if (x->r->interp != NULL)
				break;
			if (ph.p_filesz == 0 ||
			    !in_bounds(ph.p_offset, ph.p_filesz, x->len))
				return wwerr_set(x->err, ELFI_E_CORRUPT,
				    "%s: PT_INTERP is outside the file",
				    x->path);
			s = (const char *)x->img + ph.p_offset;
			if (memchr(s, '\0', ph.p_filesz) == NULL)
				return wwerr_set(x->err, ELFI_E_CORRUPT,
				    "%s: PT_INTERP is not NUL-terminated",
				    x->path);
			if ((x->r->interp = xstrdup(s)) == NULL)
				return fail_errno(x, "PT_INTERP");
			break;
		case PT_DYNAMIC:
			if (*have_dyn)
				return wwerr_set(x->err, ELFI_E_CORRUPT,
				    "%s: more than one PT_DYNAMIC", x->path);
			*dyn = ph;
			*have_dyn = 1;
			break;
		}
	}
	return 0;
}

struct dyninfo {
	uint64_t	 strtab, strsz, verneed, verneednum;
	int		 has_strtab, has_strsz, has_verneed;
	uint64_t	*needed;	/* string offsets */
	size_t		 nneeded;
	uint64_t	 soname, rpath, runpath;
	int		 has_soname, has_rpath, has_runpath;
};

static int
read_dynamic(struct insp *x, const GElf_Phdr *ph, struct dyninfo *di)
{
	Elf_Data *d;
	GElf_Dyn dyn;
	size_t ent, n, i;

	if (!in_bounds(ph->p_offset, ph->p_filesz, x->len))
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: PT_DYNAMIC extends past the end of the file",
		    x->path);
	if (ph->p_filesz == 0)
		return 0;
	if ((ent = gelf_fsize(x->elf, ELF_T_DYN, 1, EV_CURRENT)) == 0)
		return wwerr_set(x->err, ELFI_E_UNSUPPORTED,
		    "%s: %s", x->path, elf_errmsg(-1));
	n = ph->p_filesz / ent;
	if (n > MAX_DYN_ENTRIES)
		return wwerr_set(x->err, ELFI_E_LIMIT,
		    "%s: %zu dynamic entries", x->path, n);
	if (n == 0)
		return 0;
	/* libelf converts byte order and checks alignment for us. */
	d = elf_getdata_rawchunk(x->elf, (int64_t)ph->p_offset, n * ent,
	    ELF_T_DYN);
	if (d == NULL)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: unreadable PT_DYNAMIC: %s", x->path, elf_errmsg(-1));
	if ((di->needed = calloc(n, sizeof(*di->needed))) == NULL)
		return fail_errno(x, "dynamic entries");
	for (i = 0; i < n; i++) {
		if (gelf_getdyn(d, (int)i, &dyn) == NULL)
			return wwerr_set(x->err, ELFI_E_CORRUPT,
			    "%s: dynamic entry %zu: %s", x->path, i,
			    elf_errmsg(-1));
		switch (dyn.d_tag) {
		case DT_NULL:
			return 0;
		case DT_NEEDED:
			if (di->nneeded >= MAX_NEEDED)
				return wwerr_set(x->err, ELFI_E_LIMIT,
				    "%s: more than %d DT_NEEDED", x->path,
				    MAX_NEEDED);
			di->needed[di->nneeded++] = dyn.d_un.d_val;
			break;
		case DT_STRTAB:
			di->strtab = dyn.d_un.d_ptr;
			di->has_strtab = 1;
			break;
		case DT_STRSZ:
			di->strsz = dyn.d_un.d_val;
			di->has_strsz = 1;
			break;
		case DT_SONAME:
			if (!di->has_soname) {
				di->soname = dyn.d_un.d_val;
				di->has_soname = 1;
			}
			break;
		case DT_RPATH:
			if (!di->has_rpath) {
				di->rpath = dyn.d_un.d_val;
				di->has_rpath = 1;
			}
			break;
		case DT_RUNPATH:
			if (!di->has_runpath) {
				di->runpath = dyn.d_un.d_val;
				di->has_runpath = 1;
			}
			break;
		case DT_VERNEED:
			di->verneed = dyn.d_un.d_ptr;
			di->has_verneed = 1;
			break;
		case DT_VERNEEDNUM:
			di->verneednum = dyn.d_un.d_val;
			break;
		}
	}
	/* No DT_NULL: ld.so would run off the segment. */
	return wwerr_set(x->err, ELFI_E_CORRUPT,
	    "%s: PT_DYNAMIC has no DT_NULL terminator", x->path);
}

static int
map_strtab(struct insp *x, const struct dyninfo *di)
{
	uint64_t off, avail;

	if (!di->has_strtab)
		return 0;
	if (!di->has_strsz)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: DT_STRTAB without DT_STRSZ", x->path);
	if (vaddr_to_off(x, di->strtab, &off, &avail) != 0)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: DT_STRTAB address 0x%llx is not in any PT_LOAD",
		    x->path, (unsigned long long)di->strtab);
	if (di->strsz > avail || !in_bounds(off, di->strsz, x->len))
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: dynamic string table (%llu bytes) extends past its "
		    "segment", x->path, (unsigned long long)di->strsz);
	x->strtab = (const char *)x->img + off;
	x->strsz = (size_t)di->strsz;
	return 0;
}

static int
add_symver(struct insp *x, const char *lib, const char *ver)
{
	struct elf_report *r = x->r;
	struct elf_symver *nv;
	size_t i;

	for (i = 0; i < r->nsymvers; i++)
		if (strcmp(r->symvers[i].lib, lib) == 0 &&
		    strcmp(r->symvers[i].version, ver) == 0)
			return 0;
	if (r->nsymvers >= MAX_VERNAUX) {
		errno = E2BIG;
		return fail_errno(x, "version requirements");
	}
	nv = realloc(r->symvers, (r->nsymvers + 1) * sizeof(*nv));
	if (nv == NULL)
		return fail_errno(x, "version requirements");
	r->symvers = nv;
	nv = &r->symvers[r->nsymvers];
	nv->lib = xstrdup(lib);
	nv->version = xstrdup(ver);
	if (nv->lib == NULL || nv->version == NULL) {
		free(nv->lib);
		free(nv->version);
		return fail_errno(x, "version requirements");
	}
	r->nsymvers++;
	return 0;
}

/*
 * Elf32_Verneed and Elf64_Verneed have the same layout (and so do the
 * Vernaux records), so one reader with explicit byte order serves all
 * classes: vn_version:2 vn_cnt:2 vn_file:4 vn_aux:4 vn_next:4, and
 * vna_hash:4 vna_flags:2 vna_other:2 vna_name:4 vna_next:4.
 */
static int
read_verneed(struct insp *x, const struct dyninfo *di)
{
	uint64_t off, avail, cur, aux, seen = 0;
	const unsigned char *p;
	const char *file, *name;
	uint32_t vn_cnt, vn_file, vn_aux, vn_next, vna_name, vna_next;
	uint64_t i, j;

	if (!di->has_verneed)
		return 0;
	if (di->verneednum > MAX_VERNEED)
		return wwerr_set(x->err, ELFI_E_LIMIT,
		    "%s: DT_VERNEEDNUM %llu", x->path,
		    (unsigned long long)di->verneednum);
	if (vaddr_to_off(x, di->verneed, &off, &avail) != 0)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: DT_VERNEED address 0x%llx is not in any PT_LOAD",
		    x->path, (unsigned long long)di->verneed);
	cur = off;
	for (i = 0; i < di->verneednum; i++) {
		if (!in_bounds(cur, 16, x->len))
			return wwerr_set(x->err, ELFI_E_CORRUPT,
			    "%s: version requirement %llu is outside the "
			    "file", x->path, (unsigned long long)i);
		p = x->img + cur;
		if (rd16(x, p) != 1)
			return wwerr_set(x->err, ELFI_E_UNSUPPORTED,
			    "%s: version requirement %llu has version %u "
			    "(expected 1)", x->path, (unsigned long long)i,
			    rd16(x, p));
		vn_cnt = rd16(x, p + 2);
		vn_file = rd32(x, p + 4);
		vn_aux = rd32(x, p + 8);
		vn_next = rd32(x, p + 12);
		if ((file = dynstr(x, vn_file, "version requirement")) ==
		    NULL)
			return -1;
		aux = cur + vn_aux;
		for (j = 0; j < vn_cnt; j++) {
			if (++seen > MAX_VERNAUX)
				return wwerr_set(x->err, ELFI_E_LIMIT,
				    "%s: more than %d version requirements",
				    x->path, MAX_VERNAUX);
			if (!in_bounds(aux, 16, x->len))
				return wwerr_set(x->err, ELFI_E_CORRUPT,
				    "%s: version requirement of %s is outside "
				    "the file", x->path, file);
			p = x->img + aux;
			vna_name = rd32(x, p + 8);
			vna_next = rd32(x, p + 12);
			if ((name = dynstr(x, vna_name, "version")) == NULL)
				return -1;
			if (add_symver(x, file, name) != 0)
				return -1;
			if (vna_next == 0)
				break;
			aux += vna_next;
		}
		if (vn_next == 0)
			break;
		cur += vn_next;
	}
	return 0;
}

static int
fill_dynamic(struct insp *x, const struct dyninfo *di)
{
	struct elf_report *r = x->r;
	struct strv needed = { .max = MAX_NEEDED };
	const char *s;
	size_t i;

	if (map_strtab(x, di) != 0)
		return -1;
	for (i = 0; i < di->nneeded; i++) {
		if ((s = dynstr(x, di->needed[i], "DT_NEEDED")) == NULL)
			goto fail;
		if (*s == '\0') {
			wwerr_set(x->err, ELFI_E_CORRUPT,
			    "%s: empty DT_NEEDED name", x->path);
			goto fail;
		}
		if (strv_has(&needed, s))
			continue;
		if (strv_add(&needed, s) != 0) {
			fail_errno(x, "DT_NEEDED");
			goto fail;
		}
	}
	r->needed = needed.v;
	r->nneeded = needed.n;
	needed.v = NULL;
	if (di->has_soname) {
		if ((s = dynstr(x, di->soname, "DT_SONAME")) == NULL)
			return -1;
		if ((r->soname = xstrdup(s)) == NULL)
			return fail_errno(x, "DT_SONAME");
	}
	if (di->has_rpath) {
		if ((s = dynstr(x, di->rpath, "DT_RPATH")) == NULL)
			return -1;
		if ((r->rpath = xstrdup(s)) == NULL)
			return fail_errno(x, "DT_RPATH");
	}
	if (di->has_runpath) {
		if ((s = dynstr(x, di->runpath, "DT_RUNPATH")) == NULL)
			return -1;
		if ((r->runpath = xstrdup(s)) == NULL)
			return fail_errno(x, "DT_RUNPATH");
	}
	return read_verneed(x, di);
fail:
	strv_free(&needed);
	return -1;
}

/* ---- symbols ---- */

static int
list_index(const char *const *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return (int)i;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
read_dynsym(struct insp *x)
{
	struct elf_report *r = x->r;
	struct strv undef = { .max = MAX_UNDEFINED };
	/* Which libc names the object defines, by list position. */
	unsigned char core[WW_ARRLEN_CORE], alloc[WW_ARRLEN_ALLOC];
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	GElf_Sym sym;
	size_t ent, n, i, k, ncore = 0;
	const char *name;
	int bind, type, vis, idx;
	struct strv found = { .max = WW_ARRLEN_CORE + WW_ARRLEN_ALLOC };

	memset(core, 0, sizeof(core));
	memset(alloc, 0, sizeof(alloc));
	while ((scn = elf_nextscn(x->elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL)
			return wwerr_set(x->err, ELFI_E_CORRUPT,
			    "%s: unreadable section header: %s", x->path,
			    elf_errmsg(-1));
		if (sh.sh_type == SHT_DYNSYM)
			break;
	}
	if (scn == NULL)
		return 0;
	if (sh.sh_size == 0)
		return 0;
	if (!in_bounds(sh.sh_offset, sh.sh_size, x->len))
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: .dynsym extends past the end of the file", x->path);
	if ((d = elf_getdata(scn, NULL)) == NULL || d->d_type != ELF_T_SYM ||
	    d->d_buf == NULL)
		return wwerr_set(x->err, ELFI_E_CORRUPT,
		    "%s: unreadable .dynsym: %s", x->path, elf_errmsg(-1));
	if ((ent = gelf_fsize(x->elf, ELF_T_SYM, 1, EV_CURRENT)) == 0)
		return wwerr_set(x->err, ELFI_E_UNSUPPORTED, "%s: %s",
		    x->path, elf_errmsg(-1));
	n = d->d_size / ent;
	for (i = 1; i < n; i++) {
		if (gelf_getsym(d, (int)i, &sym) == NULL)
			break;
		/* elf_strptr checks the index against sh_link's section. */
		name = elf_strptr(x->elf, sh.sh_link, sym.st_name);
		if (name == NULL || *name == '\0')
			continue;
		bind = GELF_ST_BIND(sym.st_info);
		type = GELF_ST_TYPE(sym.st_info);
		vis = GELF_ST_VISIBILITY(sym.st_other);
		if (sym.st_shndx == SHN_UNDEF) {
			if (strv_add(&undef, name) != 0) {
				fail_errno(x, "undefined symbols");
				goto fail;
			}
			continue;
		}
		if (bind != STB_GLOBAL && bind != STB_WEAK &&
		    bind != STB_GNU_UNIQUE)
			continue;
		if (vis != STV_DEFAULT && vis != STV_PROTECTED)
			continue;
		if (type != STT_FUNC && type != STT_OBJECT &&
		    type != STT_GNU_IFUNC)
			continue;
		if ((idx = list_index(libc_core_syms, WW_ARRLEN_CORE,
		    name)) >= 0) {
			if (!core[idx])
				ncore++;
			core[idx] = 1;
		} else if ((idx = list_index(libc_alloc_syms,
		    WW_ARRLEN_ALLOC, name)) >= 0)
			alloc[idx] = 1;
	}
	if (ncore > 0) {
		/* The most telling names first: memcpy, then malloc, ... */
		for (k = 0; k < WW_ARRLEN_CORE; k++) {
			if (k == 1)
				for (i = 0; i < WW_ARRLEN_ALLOC; i++)
					if (alloc[i] && strv_add(&found,
					    libc_alloc_syms[i]) != 0)
						goto nomem;
			if (core[k] && strv_add(&found, libc_core_syms[k]) != 0)
				goto nomem;
		}
		r->static_libc_syms = found.v;
		r->nstatic_libc_syms = found.n;
		found.v = NULL;
	}
	/* Sorted and unique, so the policy blacklists can bsearch. */
	if (undef.n > 1) {
		qsort(undef.v, undef.n, sizeof(*undef.v), cmp_str);
		for (i = 1, k = 1; i < undef.n; i++) {
			if (strcmp(undef.v[i], undef.v[k - 1]) == 0)
				free(undef.v[i]);
			else
				undef.v[k++] = undef.v[i];
		}
		undef.n = k;
		undef.v[k] = NULL;
	}
	r->undefined = undef.v;
	r->nundefined = undef.n;
	return 0;
nomem:
	fail_errno(x, "symbols");
fail:
	strv_free(&found);
	strv_free(&undef);
	return -1;
}

/* ---- entry points ---- */

void
elf_report_free(struct elf_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->path);
	free(r->interp);
	free(r->soname);
	free(r->runpath);
	free(r->rpath);
	for (i = 0; i < r->nneeded; i++)
		free(r->needed[i]);
	free(r->needed);
	for (i = 0; i < r->nsymvers; i++) {
		free(r->symvers[i].lib);
		free(r->symvers[i].version);
	}
	free(r->symvers);
	for (i = 0; i < r->nstatic_libc_syms; i++)
		free(r->static_libc_syms[i]);
	free(r->static_libc_syms);
	for (i = 0; i < r->nundefined; i++)
		free(r->undefined[i]);
	free(r->undefined);
	free(r);
}

int
elf_inspect_mem(const char *path, const void *data, size_t len,
    struct elf_report **out, struct wwerr *err)
{
	struct insp x;
	struct elf_report *r = NULL;
	struct dyninfo di;
	GElf_Ehdr eh;
	GElf_Phdr dyn;
	int have_dyn;
	const unsigned char *id;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	memset(&di, 0, sizeof(di));
	if (path == NULL)
		path = "(memory)";
	x.path = path;
	x.err = err;
	x.img = data;
	x.len = len;
	if (!elf_is_elf(data, len))
		return wwerr_set(err, ELFI_E_NOT_ELF, "%s: not an ELF file",
		    path);
	if (len < EI_NIDENT)
		return wwerr_set(err, ELFI_E_CORRUPT,
		    "%s: truncated ELF identification", path);
	id = data;
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return wwerr_set(err, ELFI_E_UNSUPPORTED,
		    "%s: unknown ELF class %u", path, id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)
		return wwerr_set(err, ELFI_E_UNSUPPORTED,
		    "%s: unknown ELF byte order %u", path, id[EI_DATA]);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return wwerr_set(err, ELFI_E_UNSUPPORTED,
		    "%s: libelf: %s", path, elf_errmsg(-1));
	/*
	 * elf_memory() takes a non-const pointer but, opened read-only
	 * (ELF_C_READ_MMAP_PRIVATE), libelf converts into its own buffers
	 * and never writes the image; the fuzzer checks that it stays so.
	 */
	if ((x.elf = elf_memory((char *)(uintptr_t)data, len)) == NULL)
		return wwerr_set(err, ELFI_E_CORRUPT, "%s: %s", path,
		    elf_errmsg(-1));
	if (elf_kind(x.elf) != ELF_K_ELF ||
	    gelf_getehdr(x.elf, &eh) == NULL) {
		wwerr_set(err, ELFI_E_CORRUPT, "%s: bad ELF header: %s", path,
		    elf_errmsg(-1));
		goto fail;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = xstrdup(path)) == NULL) {
		wwerr_set(err, ELFI_E_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	x.r = r;
	x.cls = id[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	x.le = id[EI_DATA] == ELFDATA2LSB;
	r->machine = eh.e_machine;
	r->type = eh.e_type;
	r->elfclass = x.cls;
	r->little_endian = x.le;
	r->arch = elf_arch_name(eh.e_machine, x.cls, x.le);

	if (read_phdrs(&x, &dyn, &have_dyn) != 0)
		goto fail;
	if (have_dyn && (read_dynamic(&x, &dyn, &di) != 0 ||
	    fill_dynamic(&x, &di) != 0))
		goto fail;
	if (read_dynsym(&x) != 0)
		goto fail;
	classify_libc(r);

	free(di.needed);
	free(x.loads);
	elf_end(x.elf);
	*out = r;
	return 0;
fail:
	free(di.needed);
	free(x.loads);
	if (x.elf != NULL)
		elf_end(x.elf);
	elf_report_free(r);
	return -1;
}
