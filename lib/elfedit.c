/*
 * elfedit.c: rename DT_NEEDED, set DT_SONAME and DT_RUNPATH of a shared
 * object in memory; see elfedit.h.
 *
 * Why here and not patchelf in the build container: the musl image has no
 * patchelf (Debian's is a glibc program linked to libstdc++), a container
 * run per repair would cost seconds and an engine round trip, and the
 * result would come back from the build environment, which we treat as
 * hostile and would have to check anyway. The edit needs only a few
 * hundred lines when done the way the loaders read objects:
 *
 *   - The new names need room in the dynamic string table, and .dynstr
 *     sits between other sections in the first segment. So the whole
 *     table is copied, the new strings appended, and the copy placed at
 *     the end of the file. Every old string keeps its offset, so .dynsym,
 *     .gnu.version_d/r and the untouched dynamic entries stay valid; only
 *     DT_STRTAB/DT_STRSZ and the edited entries change.
 *   - The copy is mapped by a new PT_LOAD after the highest address of
 *     the object, with p_offset and p_vaddr congruent modulo the largest
 *     p_align (glibc refuses the object otherwise). PT_LOADs stay sorted
 *     by address: glibc sizes the mapping from the first and last one.
 *   - The program header table grows by that entry and cannot grow in
 *     place (sections follow it), so it moves into the new segment too,
 *     where the loaders find it through e_phoff and, once loaded, in
 *     memory (dl_iterate_phdr users such as unwinders need that). A
 *     PT_PHDR, if any, follows it. musl reads at most 832 bytes of
 *     program headers: more than that is refused here, not at load time.
 *   - A DT_SONAME or DT_RUNPATH that did not exist needs a dynamic entry.
 *     If PT_DYNAMIC has no spare DT_NULL slot, the dynamic array moves
 *     into the new segment as well, which is then writable: glibc before
 *     2.35 relocates .dynamic in place, so it must never be read-only.
 *   - Section headers (optional for the loader, but readelf, strip and
 *     debuggers read them) are updated to the moved .dynstr/.dynamic.
 *
 * The input is read with libelf (headers, program headers, sections, the
 * dynamic array in either byte order); the output is written field by
 * field, since libelf's writer lays out files by sections only and cannot
 * express a moved program header table or objects without section headers.
 */
#include <gelf.h>
#include <libelf.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfedit.h"

#define MAX_PHDRS	4096
#define MAX_DYN		(1U << 16)
#define MAX_VERNEED	4096
#define MAX_NAME	4096
/* musl's map_library reads the program headers into a 896-byte buffer
 * after one size_t. */
#define MUSL_PHDR_MAX	(896 - 64)

#define EHDR_SIZE(e)	((e)->cls == ELFCLASS64 ? 64U : 52U)

struct dent {
	int64_t		 tag;
	uint64_t	 val;
};

struct ed {
	const unsigned char *img;
	size_t		 len;
	struct wwerr	*err;
	int		 cls;		/* ELFCLASS32/64 */
	int		 le;
	GElf_Ehdr	 eh;
	GElf_Phdr	*ph;
	size_t		 nph;
	/* PT_DYNAMIC */
	size_t		 dyn_idx;	/* index in ph */
	size_t		 dyn_cap;	/* entries we may write in place */
	size_t		 dentsz;
	struct dent	*dyn;		/* up to, not including, DT_NULL */
	size_t		 ndyn;
	/* dynamic string table */
	uint64_t	 strtab_vaddr, strtab_off, strsz;
	/* .gnu.version_r */
	uint64_t	 verneed_off, verneed_avail, verneednum;
	int		 has_verneed;
	/* sections to follow the move, or SIZE_MAX */
	size_t		 dynstr_sec, dynamic_sec;
};

/* ---- byte order ---- */

static uint64_t
rd(const struct ed *e, const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[e->le ? i : n - 1 - i] << (8 * i);
	return v;
}

static void
wr(const struct ed *e, unsigned char *p, int n, uint64_t v)
{
	int i;

	for (i = 0; i < n; i++)
		p[e->le ? i : n - 1 - i] = (unsigned char)(v >> (8 * i));
}

static int
in_bounds(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}

/* [a, a+an) and [b, b+bn) share a byte (no overflow: both are checked
 * against the file size before). */
static int
overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return an > 0 && bn > 0 && a < b + bn && b < a + an;
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* ---- reading ---- */

static int
vaddr_to_off(const struct ed *e, uint64_t addr, uint64_t *off,
    uint64_t *avail)
{
	size_t i;

	for (i = 0; i < e->nph; i++) {
		const GElf_Phdr *p = &e->ph[i];

		if (p->p_type == PT_LOAD && addr >= p->p_vaddr &&
		    addr - p->p_vaddr < p->p_filesz) {
			*off = p->p_offset + (addr - p->p_vaddr);
			*avail = p->p_filesz - (addr - p->p_vaddr);
			return 0;
		}
	}
	return -1;
}

static int
read_headers(struct ed *e, Elf *elf)
{
	size_t i, n;

	if (gelf_getehdr(elf, &e->eh) == NULL)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "unreadable ELF header: %s", elf_errmsg(-1));
	e->cls = gelf_getclass(elf);
	e->le = e->eh.e_ident[EI_DATA] == ELFDATA2LSB;
	if (e->cls != ELFCLASS32 && e->cls != ELFCLASS64)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED,
		    "unknown ELF class %d", e->cls);
	if (e->eh.e_type != ET_DYN)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED,
		    "not a shared object (e_type %u)", e->eh.e_type);
	if (e->eh.e_phnum == PN_XNUM)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED,
		    "extended program header numbering");
	if (elf_getphdrnum(elf, &n) != 0)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "unreadable program headers: %s", elf_errmsg(-1));
	if (n == 0 || n > MAX_PHDRS)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED,
		    "%zu program headers", n);
	if (e->eh.e_phentsize != gelf_fsize(elf, ELF_T_PHDR, 1, EV_CURRENT))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "program header size %u", e->eh.e_phentsize);
	/* One more for the new segment. */
	if ((e->ph = calloc(n + 1, sizeof(*e->ph))) == NULL)
		return wwerr_set(e->err, ELFEDIT_E_NOMEM, "out of memory");
	e->dyn_idx = SIZE_MAX;
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(elf, (int)i, &e->ph[i]) == NULL)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "program header %zu: %s", i, elf_errmsg(-1));
		if (e->ph[i].p_type == PT_LOAD &&
		    !in_bounds(e->ph[i].p_offset, e->ph[i].p_filesz, e->len))
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "PT_LOAD %zu extends past the end of the file", i);
		if (e->ph[i].p_type == PT_DYNAMIC) {
			if (e->dyn_idx != SIZE_MAX)
				return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
				    "more than one PT_DYNAMIC");
			e->dyn_idx = i;
		}
	}
	e->nph = n;
	if (e->dyn_idx == SIZE_MAX)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED,
		    "no PT_DYNAMIC (a static object)");
	return 0;
}

static int
read_dynamic(struct ed *e, Elf *elf)
{
	const GElf_Phdr *ph = &e->ph[e->dyn_idx];
	Elf_Data *d;
	GElf_Dyn dyn;
	uint64_t strtab = 0, strsz = 0, verneed = 0, avail;
	int has_strtab = 0, has_strsz = 0;
	size_t i, n;

	if (!in_bounds(ph->p_offset, ph->p_filesz, e->len))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "PT_DYNAMIC extends past the end of the file");
	e->dentsz = gelf_fsize(elf, ELF_T_DYN, 1, EV_CURRENT);
	if (e->dentsz == 0)
		return wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED, "%s",
		    elf_errmsg(-1));
	n = ph->p_filesz / e->dentsz;
	if (n == 0 || n > MAX_DYN)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "%zu dynamic entries", n);
	d = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, n * e->dentsz,
	    ELF_T_DYN);
	if (d == NULL)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "unreadable PT_DYNAMIC: %s", elf_errmsg(-1));
	if ((e->dyn = calloc(n, sizeof(*e->dyn))) == NULL)
		return wwerr_set(e->err, ELFEDIT_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (gelf_getdyn(d, (int)i, &dyn) == NULL)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "dynamic entry %zu: %s", i, elf_errmsg(-1));
		if (dyn.d_tag == DT_NULL)
			break;
		e->dyn[e->ndyn].tag = dyn.d_tag;
		e->dyn[e->ndyn].val = dyn.d_un.d_val;
		e->ndyn++;
		switch (dyn.d_tag) {
		case DT_STRTAB:
			strtab = dyn.d_un.d_ptr;
			has_strtab = 1;
			break;
		case DT_STRSZ:
			strsz = dyn.d_un.d_val;
			has_strsz = 1;
			break;
		case DT_VERNEED:
			verneed = dyn.d_un.d_ptr;
			e->has_verneed = 1;
			break;
		case DT_VERNEEDNUM:
			e->verneednum = dyn.d_un.d_val;
			break;
		}
	}
	if (i == n)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "PT_DYNAMIC has no DT_NULL terminator");
	/*
	 * Room to grow in place: the terminator and the DT_NULL entries
	 * right after it (GNU ld leaves a few). Whatever follows is not
	 * ours to overwrite, whatever p_filesz claims.
	 */
	for (i++; i < n; i++)
		if (gelf_getdyn(d, (int)i, &dyn) == NULL ||
		    dyn.d_tag != DT_NULL)
			break;
	e->dyn_cap = i;
	if (!has_strtab || !has_strsz || strsz == 0)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "no dynamic string table (DT_STRTAB/DT_STRSZ)");
	if (vaddr_to_off(e, strtab, &e->strtab_off, &avail) != 0 ||
	    strsz > avail || !in_bounds(e->strtab_off, strsz, e->len))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "DT_STRTAB 0x%llx (%llu bytes) is not in the file",
		    (unsigned long long)strtab, (unsigned long long)strsz);
	if (e->img[e->strtab_off + strsz - 1] != '\0')
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "the dynamic string table does not end with NUL");
	e->strtab_vaddr = strtab;
	e->strsz = strsz;
	if (e->has_verneed) {
		if (vaddr_to_off(e, verneed, &e->verneed_off,
		    &e->verneed_avail) != 0)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "DT_VERNEED 0x%llx is not in the file",
			    (unsigned long long)verneed);
		if (e->verneednum > MAX_VERNEED)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "DT_VERNEEDNUM %llu",
			    (unsigned long long)e->verneednum);
	}
	return 0;
}

/* The sections that describe .dynstr and .dynamic, to keep them true. */
static int
read_sections(struct ed *e, Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const GElf_Phdr *dp = &e->ph[e->dyn_idx];
	uint64_t shlen;
	size_t i;

	e->dynstr_sec = e->dynamic_sec = SIZE_MAX;
	if (e->eh.e_shoff == 0 && e->eh.e_shnum == 0)
		return 0;
	if (e->eh.e_shoff == 0)
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT, "%u section "
		    "headers at offset 0", e->eh.e_shnum);
	/* Appending to the file would bring a table that hangs past its
	 * end into view, garbage and all. (e_shnum 0 means the count is in
	 * section 0: that header at least must be there.) */
	if (!in_bounds(e->eh.e_shoff, (uint64_t)e->eh.e_shentsize *
	    (e->eh.e_shnum ? e->eh.e_shnum : 1), e->len))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "the section header table extends past the end of the "
		    "file");
	if (e->eh.e_shentsize != gelf_fsize(elf, ELF_T_SHDR, 1, EV_CURRENT))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
		    "section header size %u", e->eh.e_shentsize);
	/* Sections describe the file; they never lie inside what is loaded
	 * (or the headers). Overlaps would have our writes to one structure
	 * corrupt another. */
	shlen = (uint64_t)e->eh.e_shentsize * (e->eh.e_shnum ? e->eh.e_shnum :
	    1);
	if (overlaps(e->eh.e_shoff, shlen, 0, EHDR_SIZE(e)) ||
	    overlaps(e->eh.e_shoff, shlen, e->eh.e_phoff,
	    (uint64_t)e->eh.e_phentsize * e->nph))
		return wwerr_set(e->err, ELFEDIT_E_CORRUPT, "the section "
		    "header table overlaps the ELF or program headers");
	for (i = 0; i < e->nph; i++)
		if ((e->ph[i].p_type == PT_LOAD ||
		    e->ph[i].p_type == PT_DYNAMIC) && overlaps(e->eh.e_shoff,
		    shlen, e->ph[i].p_offset, e->ph[i].p_filesz))
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT, "the "
			    "section header table overlaps a segment");
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    "section header: %s", elf_errmsg(-1));
		if (sh.sh_type == SHT_STRTAB && (sh.sh_flags & SHF_ALLOC) &&
		    sh.sh_addr == e->strtab_vaddr &&
		    e->dynstr_sec == SIZE_MAX)
			e->dynstr_sec = elf_ndxscn(scn);
		if (sh.sh_type == SHT_DYNAMIC && sh.sh_addr == dp->p_vaddr &&
		    e->dynamic_sec == SIZE_MAX)
			e->dynamic_sec = elf_ndxscn(scn);
	}
	return 0;
}

static const char *
str_at(const struct ed *e, uint64_t idx)
{
	if (idx >= e->strsz)
		return NULL;
	/* The table ends with NUL (checked), so this is terminated. */
	return (const char *)e->img + e->strtab_off + idx;
}

/* ---- the new string table ---- */

struct strs {
	unsigned char	*p;
	size_t		 len, alloc;
};

/* Offset of s in the table, appending it if no earlier addition has it. */
static int
strs_add(struct strs *t, size_t base, const char *s, uint64_t *off)
{
	size_t n = strlen(s) + 1, i;
	unsigned char *np;

	for (i = base; i < t->len; i += strlen((char *)t->p + i) + 1)
		if (strcmp((char *)t->p + i, s) == 0) {
			*off = i;
			return 0;
		}
	if (t->len + n > t->alloc) {
		size_t na = (t->len + n) * 2;

		if ((np = realloc(t->p, na)) == NULL)
			return -1;
		t->p = np;
		t->alloc = na;
	}
	memcpy(t->p + t->len, s, n);
	*off = t->len;
	t->len += n;
	return 0;
}

static int
check_name(const char *s, const char *what, struct wwerr *err)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > MAX_NAME)
		return wwerr_set(err, ELFEDIT_E_ARGS, "%s: empty or longer "
		    "than %d bytes", what, MAX_NAME);
	return 0;
}

/* ---- writing ---- */

static void
put_phdr(const struct ed *e, unsigned char *p, const GElf_Phdr *ph)
{
	if (e->cls == ELFCLASS64) {
		wr(e, p, 4, ph->p_type);
		wr(e, p + 4, 4, ph->p_flags);
		wr(e, p + 8, 8, ph->p_offset);
		wr(e, p + 16, 8, ph->p_vaddr);
		wr(e, p + 24, 8, ph->p_paddr);
		wr(e, p + 32, 8, ph->p_filesz);
		wr(e, p + 40, 8, ph->p_memsz);
		wr(e, p + 48, 8, ph->p_align);
	} else {
		wr(e, p, 4, ph->p_type);
		wr(e, p + 4, 4, ph->p_offset);
		wr(e, p + 8, 4, ph->p_vaddr);
		wr(e, p + 12, 4, ph->p_paddr);
		wr(e, p + 16, 4, ph->p_filesz);
		wr(e, p + 20, 4, ph->p_memsz);
		wr(e, p + 24, 4, ph->p_flags);
		wr(e, p + 28, 4, ph->p_align);
	}
}

static void
put_dyn(const struct ed *e, unsigned char *p, const struct dent *d)
{
	int w = e->cls == ELFCLASS64 ? 8 : 4;

	wr(e, p, w, (uint64_t)d->tag);
	wr(e, p + w, w, d->val);
}

/* sh_addr, sh_offset and sh_size of section idx. */
static void
put_shdr(const struct ed *e, unsigned char *out, size_t idx, uint64_t addr,
    uint64_t off, uint64_t size)
{
	unsigned char *p = out + e->eh.e_shoff + idx * e->eh.e_shentsize;

	if (e->cls == ELFCLASS64) {
		wr(e, p + 0x10, 8, addr);
		wr(e, p + 0x18, 8, off);
		wr(e, p + 0x20, 8, size);
	} else {
		wr(e, p + 0x0c, 4, addr);
		wr(e, p + 0x10, 4, off);
		wr(e, p + 0x14, 4, size);
	}
}

/*
 * Point each .gnu.version_r entry naming a renamed library at its new
 * name (out != NULL), or only mark which renames it names (used). Walks
 * the chain the way glibc does, with every step bounded.
 */
static int
rename_verneed(const struct ed *e, unsigned char *out,
    const struct elfedit_opts *o, const uint64_t *to_off, int *used,
    uint64_t *lo, uint64_t *hi)
{
	uint64_t off = e->verneed_off, left = e->verneed_avail, next;
	uint64_t i, file;
	const char *name;
	size_t k;

	for (i = 0; i < e->verneednum; i++) {
		if (left < 16 || !in_bounds(off, 16, e->len))
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    ".gnu.version_r entry %llu is outside the file",
			    (unsigned long long)i);
		file = rd(e, e->img + off + 4, 4);
		next = rd(e, e->img + off + 12, 4);
		if (lo != NULL && off < *lo)
			*lo = off;
		if (hi != NULL && off + 16 > *hi)
			*hi = off + 16;
		if ((name = str_at(e, file)) == NULL)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    ".gnu.version_r file name offset %llu is outside "
			    "the string table", (unsigned long long)file);
		for (k = 0; k < o->nrename; k++)
			if (strcmp(name, o->rename[k].from) == 0) {
				if (out != NULL)
					wr(e, out + off + 4, 4, to_off[k]);
				else if (used != NULL)
					used[k] = 1;
				break;
			}
		if (next == 0)
			break;
		if (next > left)
			return wwerr_set(e->err, ELFEDIT_E_CORRUPT,
			    ".gnu.version_r chain leaves its segment");
		off += next;
		left -= next;
	}
	return 0;
}

static int
edit(struct ed *e, const struct elfedit_opts *o, unsigned char **out,
    size_t *outlen, int *changed)
{
	struct strs t = { 0 };
	struct dent *nd = NULL;
	uint64_t *to_off = NULL, soname_off = 0, runpath_off = 0, off;
	uint64_t maxend = 0, align = 0x1000, seg_off, seg_vaddr, seg_size;
	uint64_t dyn_at = 0, ph_at, total, doff, vn_lo = UINT64_MAX, vn_hi = 0;
	size_t nnd = 0, i, k, last_load = 0, nph;
	int need_soname = o->soname != NULL, need_runpath = o->runpath != NULL;
	int dirty = 0, move_dyn, have_runpath = 0, ret = -1, *used = NULL;
	const char *s;
	unsigned char *img = NULL;
	GElf_Phdr seg;

	/* The old table, then the new strings. */
	t.alloc = e->strsz + 1024;
	if ((t.p = malloc(t.alloc)) == NULL)
		goto nomem;
	memcpy(t.p, e->img + e->strtab_off, e->strsz);
	t.len = e->strsz;
	if (o->nrename > 0 &&
	    (to_off = calloc(o->nrename, sizeof(*to_off))) == NULL)
		goto nomem;

	/* The new dynamic array: at most two entries more. */
	if ((nd = calloc(e->ndyn + 3, sizeof(*nd))) == NULL)
		goto nomem;
	for (i = 0; i < e->ndyn; i++)
		if (e->dyn[i].tag == DT_RUNPATH)
			have_runpath = 1;
	for (i = 0; i < e->ndyn; i++) {
		struct dent d = e->dyn[i];

		switch (d.tag) {
		case DT_NEEDED:
			if ((s = str_at(e, d.val)) == NULL) {
				wwerr_set(e->err, ELFEDIT_E_CORRUPT, "DT_NEEDED "
				    "name offset %llu is outside the string "
				    "table", (unsigned long long)d.val);
				goto fail;
			}
			for (k = 0; k < o->nrename; k++)
				if (strcmp(s, o->rename[k].from) == 0)
					break;
			if (k < o->nrename) {
				if (to_off[k] == 0 && strs_add(&t, e->strsz,
				    o->rename[k].to, &to_off[k]) == -1)
					goto nomem;
				d.val = to_off[k];
				dirty = 1;
			}
			break;
		case DT_SONAME:
			if (o->soname == NULL)
				break;
			need_soname = 0;
			if ((s = str_at(e, d.val)) != NULL &&
			    strcmp(s, o->soname) == 0)
				break;
			if (soname_off == 0 && strs_add(&t, e->strsz,
			    o->soname, &soname_off) == -1)
				goto nomem;
			d.val = soname_off;
			dirty = 1;
			break;
		case DT_RPATH:
		case DT_RUNPATH:
			if (o->runpath == NULL)
				break;
			if (d.tag == DT_RPATH && have_runpath) {
				dirty = 1;
				continue;	/* ignored beside RUNPATH */
			}
			need_runpath = 0;
			if (d.tag == DT_RUNPATH && (s = str_at(e, d.val)) !=
			    NULL && strcmp(s, o->runpath) == 0)
				break;
			if (runpath_off == 0 && strs_add(&t, e->strsz,
			    o->runpath, &runpath_off) == -1)
				goto nomem;
			d.tag = DT_RUNPATH;
			d.val = runpath_off;
			dirty = 1;
			break;
		}
		nd[nnd++] = d;
	}
	if (need_soname) {
		if (strs_add(&t, e->strsz, o->soname, &soname_off) == -1)
			goto nomem;
		nd[nnd++] = (struct dent){ DT_SONAME, soname_off };
		dirty = 1;
	}
	if (need_runpath) {
		if (runpath_off == 0 && strs_add(&t, e->strsz, o->runpath,
		    &runpath_off) == -1)
			goto nomem;
		nd[nnd++] = (struct dent){ DT_RUNPATH, runpath_off };
		dirty = 1;
	}
	if (!dirty) {
		if ((*out = malloc(e->len ? e->len : 1)) == NULL)
			goto nomem;
		memcpy(*out, e->img, e->len);
		*outlen = e->len;
		*changed = 0;
		ret = 0;
		goto done;
	}
	/* Renames whose name only appears in .gnu.version_r; and where the
	 * entries we may write are. */
	if (e->has_verneed) {
		if (o->nrename > 0 &&
		    (used = calloc(o->nrename, sizeof(*used))) == NULL)
			goto nomem;
		if (rename_verneed(e, NULL, o, NULL, used, &vn_lo, &vn_hi) ==
		    -1)
			goto fail;
		if (vn_hi > vn_lo && overlaps(vn_lo, vn_hi - vn_lo, 0,
		    EHDR_SIZE(e))) {
			wwerr_set(e->err, ELFEDIT_E_CORRUPT, ".gnu.version_r "
			    "overlaps the ELF header");
			goto fail;
		}
		for (k = 0; k < o->nrename; k++)
			if (used[k] && to_off[k] == 0 && strs_add(&t,
			    e->strsz, o->rename[k].to, &to_off[k]) == -1)
				goto nomem;
	}
	for (i = 0; i < nnd; i++) {
		if (nd[i].tag == DT_STRTAB)
			nd[i].val = 0;		/* set below */
		else if (nd[i].tag == DT_STRSZ)
			nd[i].val = t.len;
	}
	/* In place only where it cannot clobber the ELF header or the
	 * version needs we rewrite; else the array moves. */
	doff = e->ph[e->dyn_idx].p_offset;
	move_dyn = nnd + 1 > e->dyn_cap ||
	    overlaps(doff, e->dyn_cap * e->dentsz, 0, EHDR_SIZE(e)) ||
	    (vn_hi > vn_lo && overlaps(doff, e->dyn_cap * e->dentsz, vn_lo,
	    vn_hi - vn_lo));

	/* Where the new segment goes. */
	for (i = 0; i < e->nph; i++) {
		const GElf_Phdr *p = &e->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		last_load = i;
		if (p->p_align > align)
			align = p->p_align;
		if (p->p_vaddr + p->p_memsz < p->p_vaddr) {
			wwerr_set(e->err, ELFEDIT_E_CORRUPT, "PT_LOAD %zu "
			    "wraps around the address space", i);
			goto fail;
		}
		if (p->p_vaddr + p->p_memsz > maxend)
			maxend = p->p_vaddr + p->p_memsz;
	}
	if (align & (align - 1) || align > (1ULL << 30)) {
		wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED, "segment alignment "
		    "0x%llx", (unsigned long long)align);
		goto fail;
	}
	nph = e->nph + 1;
	if (nph * e->eh.e_phentsize > MUSL_PHDR_MAX) {
		wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED, "%zu program headers "
		    "after the edit: more than musl's loader reads", nph);
		goto fail;
	}
	seg_off = align_up(e->len, 16);
	seg_size = align_up(t.len, 16);
	if (move_dyn) {
		dyn_at = seg_size;
		seg_size += align_up((nnd + 1) * e->dentsz, 16);
	}
	ph_at = seg_size;
	seg_size += nph * e->eh.e_phentsize;
	/* A PT_LOAD near the top of the address space leaves no room above
	 * it: the new segment must not wrap around onto existing ones. */
	if (maxend > UINT64_MAX - 2 * align - seg_size) {
		wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED, "no address space "
		    "above the last segment (ends at 0x%llx)",
		    (unsigned long long)maxend);
		goto fail;
	}
	seg_vaddr = align_up(maxend, align) + seg_off % align;
	total = seg_off + seg_size;
	if (total > SIZE_MAX / 2 || (e->cls == ELFCLASS32 &&
	    (seg_vaddr + seg_size > UINT32_MAX || total > UINT32_MAX))) {
		wwerr_set(e->err, ELFEDIT_E_UNSUPPORTED, "the edited object "
		    "would not fit its address space");
		goto fail;
	}
	for (i = 0; i < nnd; i++)
		if (nd[i].tag == DT_STRTAB)
			nd[i].val = seg_vaddr;

	if ((img = calloc(1, (size_t)total)) == NULL)
		goto nomem;
	memcpy(img, e->img, e->len);
	memcpy(img + seg_off, t.p, t.len);

	/* Dynamic array: in place, or moved. */
	if (move_dyn) {
		off = seg_off + dyn_at;
		e->ph[e->dyn_idx].p_offset = off;
		e->ph[e->dyn_idx].p_vaddr = seg_vaddr + dyn_at;
		e->ph[e->dyn_idx].p_paddr = seg_vaddr + dyn_at;
		e->ph[e->dyn_idx].p_filesz = (nnd + 1) * e->dentsz;
		e->ph[e->dyn_idx].p_memsz = (nnd + 1) * e->dentsz;
	} else {
		off = e->ph[e->dyn_idx].p_offset;
		memset(img + off, 0, e->dyn_cap * e->dentsz);
	}
	for (i = 0; i < nnd; i++)
		put_dyn(e, img + off + i * e->dentsz, &nd[i]);
	/* DT_NULL: already zero. */

	if (e->has_verneed && o->nrename > 0 &&
	    rename_verneed(e, img, o, to_off, NULL, NULL, NULL) == -1)
		goto fail;

	/* Program headers: the new PT_LOAD right after the last one. */
	memset(&seg, 0, sizeof(seg));
	seg.p_type = PT_LOAD;
	seg.p_flags = PF_R | (move_dyn ? PF_W : 0);
	seg.p_offset = seg_off;
	seg.p_vaddr = seg.p_paddr = seg_vaddr;
	seg.p_filesz = seg.p_memsz = seg_size;
	seg.p_align = align;
	memmove(&e->ph[last_load + 2], &e->ph[last_load + 1],
	    (e->nph - last_load - 1) * sizeof(*e->ph));
	e->ph[last_load + 1] = seg;
	e->nph = nph;
	for (i = 0; i < nph; i++)
		if (e->ph[i].p_type == PT_PHDR) {
			e->ph[i].p_offset = seg_off + ph_at;
			e->ph[i].p_vaddr = e->ph[i].p_paddr = seg_vaddr + ph_at;
			e->ph[i].p_filesz = e->ph[i].p_memsz =
			    nph * e->eh.e_phentsize;
		}
	for (i = 0; i < nph; i++)
		put_phdr(e, img + seg_off + ph_at + i * e->eh.e_phentsize,
		    &e->ph[i]);
	if (e->cls == ELFCLASS64) {
		wr(e, img + 0x20, 8, seg_off + ph_at);
		wr(e, img + 0x38, 2, nph);
	} else {
		wr(e, img + 0x1c, 4, seg_off + ph_at);
		wr(e, img + 0x2c, 2, nph);
	}

	/* Sections follow what moved. */
	if (e->dynstr_sec != SIZE_MAX)
		put_shdr(e, img, e->dynstr_sec, seg_vaddr, seg_off, t.len);
	if (e->dynamic_sec != SIZE_MAX && move_dyn)
		put_shdr(e, img, e->dynamic_sec, seg_vaddr + dyn_at,
		    seg_off + dyn_at, (nnd + 1) * e->dentsz);
	*out = img;
	img = NULL;
	*outlen = (size_t)total;
	*changed = 1;
	ret = 0;
	goto done;
nomem:
	wwerr_set(e->err, ELFEDIT_E_NOMEM, "out of memory");
fail:
done:
	free(img);
	free(t.p);
	free(nd);
	free(to_off);
	free(used);
	return ret;
}

int
elfedit_apply(const void *in, size_t len, const struct elfedit_opts *o,
    unsigned char **out, size_t *outlen, int *changed, struct wwerr *err)
{
	struct ed e;
	Elf *elf = NULL;
	char *copy = NULL;
	size_t k;
	int dummy, ret = -1;

	*out = NULL;
	*outlen = 0;
	if (changed == NULL)
		changed = &dummy;
	*changed = 0;
	memset(&e, 0, sizeof(e));
	e.err = err;
	e.img = in;
	e.len = len;
	for (k = 0; k < o->nrename; k++)
		if (check_name(o->rename[k].from, "old library name", err) ==
		    -1 || check_name(o->rename[k].to, "new library name",
		    err) == -1)
			return -1;
	if ((o->soname != NULL && check_name(o->soname, "soname", err) ==
	    -1) || (o->runpath != NULL && check_name(o->runpath, "runpath",
	    err) == -1))
		return -1;
	if (len < EI_NIDENT || memcmp(in, ELFMAG, SELFMAG) != 0)
		return wwerr_set(err, ELFEDIT_E_NOT_ELF, "not an ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return wwerr_set(err, ELFEDIT_E_UNSUPPORTED, "libelf: %s",
		    elf_errmsg(-1));
	/* libelf may convert byte order in its own buffers, never in ours,
	 * but elf_memory() takes a non-const pointer: give it a copy. */
	if ((copy = malloc(len)) == NULL)
		return wwerr_set(err, ELFEDIT_E_NOMEM, "out of memory");
	memcpy(copy, in, len);
	if ((elf = elf_memory(copy, len)) == NULL ||
	    elf_kind(elf) != ELF_K_ELF) {
		wwerr_set(err, ELFEDIT_E_CORRUPT, "unreadable ELF: %s",
		    elf_errmsg(-1));
		goto done;
	}
	if (read_headers(&e, elf) == -1 || read_dynamic(&e, elf) == -1 ||
	    read_sections(&e, elf) == -1)
		goto done;
	elf_end(elf);
	elf = NULL;
	ret = edit(&e, o, out, outlen, changed);
done:
	if (elf != NULL)
		elf_end(elf);
	free(copy);
	free(e.ph);
	free(e.dyn);
	return ret;
}
