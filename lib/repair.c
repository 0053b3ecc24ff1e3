/*
 * repair.c: bundle the libraries a wheel needs from outside its policy;
 * see repair.h.
 *
 * The order of work keeps failures cheap and honest: the policy decides
 * what is external before anything is read; every library to bundle is
 * checked against the refusal rules and found among the offered ones
 * before any ELF is edited; the repaired content is evaluated against the
 * policy in memory (bundled copies included, since their own symbol
 * versions limit the tag) before retag_wheel() writes anything; and the
 * written wheel is verified and evaluated once more, so the tag in its name
 * is the one its bytes allow.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "elf_inspect.h"
#include "elfedit.h"
#include "hash.h"
#include "repair.h"
#include "retag.h"
#include "strv.h"
#include "util.h"
#include "wheelname.h"

/* More bundled libraries than any real wheel has (numpy's openblas
 * build bundles 2-3, the biggest known wheels a few dozen). */
#define REPAIR_MAX_LIBS		256
#define REPAIR_MAX_RUNPATH	4096

const char *
repair_err_name(int code)
{
	switch (code) {
	case REPAIR_E_ARGS: return "repair-args";
	case REPAIR_E_NOTHING: return "repair-nothing";
	case REPAIR_E_REFUSED: return "repair-refused";
	case REPAIR_E_MISSING: return "repair-missing";
	case REPAIR_E_POLICY: return "repair-policy";
	case REPAIR_E_ELF: return "repair-elf";
	case REPAIR_E_IO: return "repair-io";
	case REPAIR_E_NOMEM: return "repair-nomem";
	default: return retag_err_name(code);
	}
}

void
repair_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static int
sha256_hex(const void *data, size_t len, char hex[HASH_SHA256_HEXLEN])
{
	unsigned char d[HASH_SHA256_LEN];

	if (hash_sha256_mem(data, len, d) == -1)
		return -1;
	hash_hex(d, sizeof(d), hex);
	return 0;
}

/* ---- what may be bundled ---- */

/* "libfoo.so" followed by nothing or ".N...". */
static int
soname_is(const char *name, const char *stem)
{
	size_t n = strlen(stem);

	return strncmp(name, stem, n) == 0 &&
	    (name[n] == '\0' || name[n] == '.');
}

static int
is_glibc_part(const char *n)
{
	static const char *const parts[] = {
		"libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so",
		"libutil.so", "libresolv.so", "libnsl.so", "libanl.so",
		"libmvec.so", "libBrokenLocale.so", "libthread_db.so",
		"libc_malloc_debug.so", "libmemusage.so", "libpcprofile.so",
		"libcidn.so",
	};
	size_t i;

	for (i = 0; i < WW_ARRLEN(parts); i++)
		if (soname_is(n, parts[i]))
			return 1;
	return strncmp(n, "libnss_", 7) == 0;
}

static int
is_loader(const char *n)
{
	return strncmp(n, "ld-linux", 8) == 0 || strncmp(n, "ld64.so", 7) ==
	    0 || strncmp(n, "ld-musl-", 8) == 0 || soname_is(n, "ld.so") ||
	    soname_is(n, "ld-uClibc.so");
}

static int
is_libpython(const char *n)
{
	return strncmp(n, "libpython", 9) == 0 &&
	    isdigit((unsigned char)n[9]);
}

/* Does the target policy provide lib? Asked the way the policy module
 * answers for a wheel: one object that needs only lib. */
static int
in_policy(const struct repair_target *t, const char *lib, int *yes,
    struct wwerr *err)
{
	struct elf_report r;
	struct elf_report *rp = &r;
	struct policy_result pr;
	char *needed[2];

	memset(&r, 0, sizeof(r));
	needed[0] = (char *)lib;
	needed[1] = NULL;
	r.path = "probe";
	r.arch = t->arch;
	r.machine = 0;
	r.elfclass = 64;
	r.little_endian = 1;
	r.type = ET_DYN;
	r.needed = needed;
	r.nneeded = 1;
	r.libc = t->libc == POLICY_LIBC_MUSL ? ELF_LIBC_MUSL : ELF_LIBC_GLIBC;
	if (policy_evaluate_target(t->db, &rp, 1, t->arch, t->libc ==
	    POLICY_LIBC_NONE ? POLICY_LIBC_GLIBC : t->libc, t->musl_minor,
	    &pr, err) == -1)
		return -1;
	*yes = pr.nexternal_libs == 0;
	policy_result_free(&pr);
	return 0;
}

int
repair_refusal(const struct repair_target *t, const char *soname,
    char *why, size_t whylen)
{
	struct wwerr err;
	size_t i;
	int yes = 0;

	if (is_loader(soname)) {
		snprintf(why, whylen, "it is the dynamic loader, which comes "
		    "with the system's C library");
		return 1;
	}
	if (soname_is(soname, "libc") || strncmp(soname, "libc.musl-", 10) ==
	    0) {
		snprintf(why, whylen, "it is the C library, which must come "
		    "from the system");
		return 1;
	}
	if (is_glibc_part(soname)) {
		snprintf(why, whylen, "it is part of glibc and must come from "
		    "the system with the matching libc.so.6");
		return 1;
	}
	if (is_libpython(soname)) {
		snprintf(why, whylen, "it is the Python interpreter's own "
		    "library");
		return 1;
	}
	for (i = 0; t->interp_libs != NULL && t->interp_libs[i] != NULL; i++)
		if (strcmp(t->interp_libs[i], soname) == 0) {
			snprintf(why, whylen, "the Python interpreter of the "
			    "build image links it itself, so the process "
			    "already has one; a second copy would clash");
			return 1;
		}
	wwerr_clear(&err);
	if (in_policy(t, soname, &yes, &err) == 0 && yes) {
		snprintf(why, whylen, "the %s policy lists it as a system "
		    "library", t->libc == POLICY_LIBC_MUSL ? "musllinux" :
		    "manylinux");
		return 1;
	}
	return 0;
}

int
repair_lib_needs(const struct repair_target *t, const char *soname,
    const void *data, size_t len, char ***out, size_t *nout,
    struct wwerr *err)
{
	struct elf_report *r = NULL;
	struct policy_result pr;
	struct strv s = { 0 };
	size_t i;
	int ret = -1;

	*out = NULL;
	*nout = 0;
	memset(&pr, 0, sizeof(pr));
	if (elf_inspect_mem(soname, data, len, &r, err) == -1) {
		err->code = REPAIR_E_ELF;
		return -1;
	}
	if (policy_evaluate_target(t->db, &r, 1, t->arch, t->libc, t->musl_minor,
	    &pr, err) == -1) {
		err->code = REPAIR_E_POLICY;
		goto done;
	}
	for (i = 0; i < pr.nexternal_libs; i++)
		if (strv_add(&s, pr.external_libs[i]) == -1) {
			wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
			goto done;
		}
	if (s.v == NULL && (s.v = calloc(1, sizeof(*s.v))) == NULL) {
		wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
		goto done;
	}
	*out = s.v;
	*nout = s.n;
	s.v = NULL;
	ret = 0;
done:
	repair_strv_free(s.v);
	policy_result_free(&pr);
	elf_report_free(r);
	return ret;
}

int
repair_hashed_name(const char *soname, const void *data, size_t len,
    char *out, size_t outlen)
{
	char hex[HASH_SHA256_HEXLEN];
	const char *dot;
	int n;

	if (sha256_hex(data, len, hex) == -1)
		return -1;
	hex[8] = '\0';
	dot = strchr(soname, '.');
	if (dot == NULL)
		n = snprintf(out, outlen, "%s-%s", soname, hex);
	else
		n = snprintf(out, outlen, "%.*s-%s%s", (int)(dot - soname),
		    soname, hex, dot);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* ---- the wheel's ELF members ---- */

struct member {
	char		*path;		/* in the wheel */
	unsigned char	*data;		/* original bytes */
	size_t		 len;
	unsigned char	*ed;		/* edited bytes, or NULL */
	size_t		 edlen;
	struct elf_report *rep;		/* from the verifier (borrowed) */
	struct elf_report *newrep;	/* of ed */
};

/* Read the listed members' bytes out of the wheel. */
static int
read_members(const char *src, struct member *m, size_t n,
    const struct limits *lim, struct wwerr *err)
{
	struct archive *a;
	struct archive_entry *e;
	const char *p;
	size_t i, got;
	la_ssize_t r;
	int st, ret = -1;
	uint64_t size;

	if ((a = archive_read_new()) == NULL)
		return wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, src, 65536) != ARCHIVE_OK) {
		wwerr_set(err, REPAIR_E_IO, "%s: %s", src,
		    archive_error_string(a));
		goto done;
	}
	while ((st = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if ((p = archive_entry_pathname(e)) == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (m[i].data == NULL && strcmp(m[i].path, p) == 0)
				break;
		if (i == n)
			continue;
		size = (uint64_t)archive_entry_size(e);
		if (size > lim->max_elf_size || size > SIZE_MAX / 2) {
			wwerr_set(err, REPAIR_E_ARGS, "%s: member %s is over the "
			    "ELF size limit", src, p);
			goto done;
		}
		if ((m[i].data = malloc(size ? size : 1)) == NULL) {
			wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
			goto done;
		}
		for (got = 0; got < size; got += (size_t)r)
			if ((r = archive_read_data(a, m[i].data + got,
			    size - got)) <= 0) {
				wwerr_set(err, REPAIR_E_IO, "%s: reading %s: %s",
				    src, p, r < 0 ? archive_error_string(a) :
				    "short member");
				goto done;
			}
		m[i].len = size;
	}
	if (st != ARCHIVE_EOF) {
		wwerr_set(err, REPAIR_E_IO, "%s: %s", src,
		    archive_error_string(a));
		goto done;
	}
	for (i = 0; i < n; i++)
		if (m[i].data == NULL) {
			wwerr_set(err, REPAIR_E_IO, "%s: member %s vanished",
			    src, m[i].path);
			goto done;
		}
	ret = 0;
done:
	archive_read_free(a);
	return ret;
}

/*
 * Where a member lands relative to site-packages: the wheel root, or
 * "<name>.data/purelib|platlib/..." with that prefix removed. *prefix_len
 * gets the length of the prefix in the member path. -1 for anything that
 * is installed elsewhere (scripts, headers, data).
 */
static int
install_rel(const char *path, size_t *prefix_len)
{
	const char *sl = strchr(path, '/');
	size_t tl = sl ? (size_t)(sl - path) : strlen(path);

	*prefix_len = 0;
	if (sl == NULL || tl < 5 || memcmp(path + tl - 5, ".data", 5) != 0)
		return 0;
	if (strncmp(sl + 1, "purelib/", 8) == 0 ||
	    strncmp(sl + 1, "platlib/", 8) == 0) {
		*prefix_len = tl + 1 + 8;
		return 0;
	}
	return -1;
}

/*
 * RUNPATH for member path: ours first, then the old entries that stay
 * inside the wheel ($ORIGIN-relative); absolute ones point into the
 * build environment and are dropped.
 */
static int
make_runpath(const char *path, const char *libdir, const char *old,
    char *out, size_t outlen)
{
	size_t pl, i, depth = 0;
	const char *rel, *p, *e;
	int n;

	if (install_rel(path, &pl) == -1)
		return -1;
	rel = path + pl;
	for (i = 0; rel[i] != '\0'; i++)
		if (rel[i] == '/')
			depth++;
	n = snprintf(out, outlen, "$ORIGIN");
	for (i = 0; i < depth && n >= 0 && (size_t)n < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, "/..");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	n += snprintf(out + n, outlen - (size_t)n, "/%s", libdir);
	for (p = old; p != NULL && *p != '\0' && n >= 0 && (size_t)n <
	    outlen; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		if (strncmp(p, "$ORIGIN", 7) != 0 &&
		    strncmp(p, "${ORIGIN}", 9) != 0)
			continue;
		if ((size_t)(e - p) == strlen(out) && strncmp(p, out,
		    (size_t)(e - p)) == 0)
			continue;
		n += snprintf(out + n, outlen - (size_t)n, ":%.*s",
		    (int)(e - p), p);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* ---- bundling ---- */

struct blib {
	const struct repair_lib *lib;
	char		 newname[512];
	char		 path[1024];	/* in the wheel */
	char		 sha256[HASH_SHA256_HEXLEN];
	char		**needs;	/* its external needs */
	size_t		 nneeds;
	char		 needed_by[256];
	unsigned char	*ed;
	size_t		 edlen;
	struct elf_report *rep;
};

static const struct repair_lib *
find_lib(const struct repair_opts *o, const char *soname)
{
	size_t i;

	for (i = 0; i < o->nlibs; i++)
		if (o->libs[i].soname != NULL &&
		    strcmp(o->libs[i].soname, soname) == 0)
			return &o->libs[i];
	return NULL;
}

/* Satisfied by a member of the wheel itself (by soname or file name). */
static int
in_wheel(const struct verify_result *vr, const char *soname)
{
	size_t i;

	for (i = 0; i < vr->nelfs; i++)
		if ((vr->elfs[i]->soname != NULL &&
		    strcmp(vr->elfs[i]->soname, soname) == 0) ||
		    strcmp(util_base_name(vr->elfs[i]->path), soname) == 0)
			return 1;
	return 0;
}

static void
join_violations(const struct policy_result *pr, char *out, size_t outlen)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < pr->nviolations && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s",
		    i ? "; " : "", pr->violations[i]);
}

/* "tag" or "tag.legacy". */
static void
platform_of(const struct policy_result *pr, char *out, size_t outlen)
{
	if (pr->legacy_tag[0] != '\0')
		snprintf(out, outlen, "%s.%s", pr->tag, pr->legacy_tag);
	else
		snprintf(out, outlen, "%s", pr->tag);
}

static int
rename_table(struct blib *b, size_t nb, struct elfedit_rename **out)
{
	size_t i;

	if ((*out = calloc(nb ? nb : 1, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < nb; i++) {
		(*out)[i].from = b[i].lib->soname;
		(*out)[i].to = b[i].newname;
	}
	return 0;
}

static int
needs_any(const struct elf_report *r, const struct blib *b, size_t nb)
{
	size_t i, k;

	for (i = 0; i < r->nneeded; i++)
		for (k = 0; k < nb; k++)
			if (strcmp(r->needed[i], b[k].lib->soname) == 0)
				return 1;
	return 0;
}

int
repair_wheel(const char *src, const char *outdir,
    const struct repair_opts *o, const struct limits *lim,
    struct repair_result *out, struct wwerr *err)
{
	const struct repair_target *t = o->target;
	struct verify_result *vr = NULL, *vr2 = NULL;
	struct policy_result pr, pr2, pr3;
	struct wheelname wn;
	struct blib *b = NULL;
	struct member *m = NULL;
	struct elfedit_rename *ren = NULL;
	struct elf_report **reps = NULL;
	struct retag_member *add = NULL;
	struct retag_opts ro;
	struct strv queue = { 0 };
	char why[2048], libdir[300], libprefix[600], runpath[REPAIR_MAX_RUNPATH];
	char platform[200], tag2[200];
	const char *oldrp;
	size_t nb = 0, nm = 0, i, k, q, nrep = 0, nadd = 0, pl = 0, total = 0;
	int first_pl = -1, ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&pr, 0, sizeof(pr));
	memset(&pr2, 0, sizeof(pr2));
	memset(&pr3, 0, sizeof(pr3));
	if (t == NULL || t->db == NULL || t->arch == NULL)
		return wwerr_set(err, REPAIR_E_ARGS, "repair: no target");

	if (verify_file(src, NULL, lim, &vr, err) == -1)
		return -1;
	if (vr->kind != DIST_WHEEL || vr->nelfs == 0) {
		wwerr_set(err, REPAIR_E_NOTHING, "%s has no ELF files to "
		    "repair", vr->filename);
		goto done;
	}
	if (wheelname_parse(vr->filename, &wn, err) == -1) {
		err->code = REPAIR_E_ARGS;
		goto done;
	}
	if (policy_evaluate_target(t->db, vr->elfs, vr->nelfs, t->arch,
	    t->libc, t->musl_minor, &pr, err) == -1) {
		err->code = REPAIR_E_POLICY;
		goto done;
	}
	if (pr.nexternal_libs == 0) {
		if (pr.nviolations == 0) {
			wwerr_set(err, REPAIR_E_NOTHING, "%s needs no library "
			    "outside the policy (it is %s as it is)",
			    vr->filename, pr.tag);
			goto done;
		}
	}
	if (pr.repair_tag[0] == '\0') {
		join_violations(&pr, why, sizeof(why));
		wwerr_set(err, REPAIR_E_POLICY, "%s: bundling libraries cannot "
		    "make it fit a policy: %s", vr->filename, why);
		goto done;
	}

	/*
	 * The closure: what the wheel needs from outside the policy, then
	 * what those need, breadth first. Each is checked before any work.
	 */
	for (i = 0; i < pr.nexternal_libs; i++)
		if (strv_add(&queue, pr.external_libs[i]) == -1)
			goto nomem;
	if ((b = calloc(REPAIR_MAX_LIBS, sizeof(*b))) == NULL)
		goto nomem;
	for (q = 0; q < queue.n; q++) {
		const char *name = queue.v[q];
		const char *by = "the wheel";

		if (nb == REPAIR_MAX_LIBS) {
			wwerr_set(err, REPAIR_E_ARGS, "%s: more than %d "
			    "libraries to bundle", vr->filename,
			    REPAIR_MAX_LIBS);
			goto done;
		}
		for (i = 0; i < nb; i++)
			for (k = 0; k < b[i].nneeds; k++)
				if (strcmp(b[i].needs[k], name) == 0)
					by = b[i].lib->soname;
		for (i = 0; q < pr.nexternal_libs && i < vr->nelfs; i++)
			for (k = 0; k < vr->elfs[i]->nneeded; k++)
				if (strcmp(vr->elfs[i]->needed[k], name) == 0)
					by = vr->elfs[i]->path;
		if (repair_refusal(t, name, why, sizeof(why))) {
			wwerr_set(err, REPAIR_E_REFUSED, "cannot bundle %s "
			    "(needed by %s): %s", name, by, why);
			goto done;
		}
		if ((b[nb].lib = find_lib(o, name)) == NULL) {
			wwerr_set(err, REPAIR_E_MISSING, "cannot bundle %s "
			    "(needed by %s): it was not found in the build "
			    "environment", name, by);
			goto done;
		}
		util_strlcpy(b[nb].needed_by, by, sizeof(b[nb].needed_by));
		total += b[nb].lib->len;
		if (b[nb].lib->len > lim->max_elf_size ||
		    total > lim->max_total_size) {
			wwerr_set(err, REPAIR_E_ARGS, "cannot bundle %s: the "
			    "libraries exceed the size limits", name);
			goto done;
		}
		if (repair_lib_needs(t, name, b[nb].lib->data, b[nb].lib->len,
		    &b[nb].needs, &b[nb].nneeds, err) == -1) {
			wwerr_prefix(err, "cannot bundle %s (from %s)", name,
			    b[nb].lib->origin ? b[nb].lib->origin : "?");
			goto done;
		}
		for (k = 0; k < b[nb].nneeds; k++)
			if (!strv_has(&queue, b[nb].needs[k]) &&
			    !in_wheel(vr, b[nb].needs[k]) &&
			    strv_add(&queue, b[nb].needs[k]) == -1)
				goto nomem;
		nb++;
	}

	/* Which wheel members change, and where they install. */
	if ((m = calloc(vr->nelfs, sizeof(*m))) == NULL)
		goto nomem;
	for (i = 0; i < vr->nelfs; i++) {
		if (!needs_any(vr->elfs[i], b, nb))
			continue;
		if (install_rel(vr->elfs[i]->path, &pl) == -1) {
			wwerr_set(err, REPAIR_E_ARGS, "%s needs bundled "
			    "libraries but is installed outside "
			    "site-packages, where no relative RUNPATH can "
			    "reach them", vr->elfs[i]->path);
			goto done;
		}
		if (first_pl == -1)
			first_pl = (int)pl;
		else if (first_pl != (int)pl ||
		    strncmp(vr->elfs[i]->path, m[0].path, pl) != 0)
			first_pl = 0;	/* mixed: the wheel root */
		m[nm].rep = vr->elfs[i];
		if ((m[nm].path = strdup(vr->elfs[i]->path)) == NULL)
			goto nomem;
		nm++;
	}
	if (read_members(src, m, nm, lim, err) == -1)
		goto done;

	/* Names and places of the copies. */
	snprintf(libdir, sizeof(libdir), "%s.libs", wn.name);
	snprintf(libprefix, sizeof(libprefix), "%.*s%s",
	    first_pl > 0 ? first_pl : 0, nm > 0 ? m[0].path : "", libdir);
	for (i = 0; i < nb; i++) {
		if (repair_hashed_name(b[i].lib->soname, b[i].lib->data,
		    b[i].lib->len, b[i].newname, sizeof(b[i].newname)) == -1 ||
		    sha256_hex(b[i].lib->data, b[i].lib->len,
		    b[i].sha256) == -1 ||
		    snprintf(b[i].path, sizeof(b[i].path), "%s/%s", libprefix,
		    b[i].newname) >= (int)sizeof(b[i].path)) {
			wwerr_set(err, REPAIR_E_ARGS, "cannot name the copy of "
			    "%s", b[i].lib->soname);
			goto done;
		}
		for (k = 0; k < vr->nelfs; k++)
			if (strcmp(vr->elfs[k]->path, b[i].path) == 0) {
				wwerr_set(err, REPAIR_E_ARGS, "%s already has "
				    "a member %s", vr->filename, b[i].path);
				goto done;
			}
	}
	if (rename_table(b, nb, &ren) == -1)
		goto nomem;

	/* Edit: the wheel's members, then the copies. */
	for (i = 0; i < nm; i++) {
		struct elfedit_opts eo;

		oldrp = m[i].rep->runpath ? m[i].rep->runpath : m[i].rep->rpath;
		if (make_runpath(m[i].path, libdir, oldrp, runpath,
		    sizeof(runpath)) == -1) {
			wwerr_set(err, REPAIR_E_ARGS, "%s: RUNPATH too long",
			    m[i].path);
			goto done;
		}
		memset(&eo, 0, sizeof(eo));
		eo.rename = ren;
		eo.nrename = nb;
		eo.runpath = runpath;
		if (elfedit_apply(m[i].data, m[i].len, &eo, &m[i].ed,
		    &m[i].edlen, NULL, err) == -1) {
			wwerr_prefix(err, "editing %s", m[i].path);
			err->code = REPAIR_E_ELF;
			goto done;
		}
		if (elf_inspect_mem(m[i].path, m[i].ed, m[i].edlen,
		    &m[i].newrep, err) == -1) {
			wwerr_prefix(err, "edited %s", m[i].path);
			err->code = REPAIR_E_ELF;
			goto done;
		}
	}
	for (i = 0; i < nb; i++) {
		struct elfedit_opts eo;
		struct elf_report *orig = NULL;

		if (elf_inspect_mem(b[i].lib->soname, b[i].lib->data,
		    b[i].lib->len, &orig, err) == -1) {
			err->code = REPAIR_E_ELF;
			goto done;
		}
		memset(&eo, 0, sizeof(eo));
		eo.rename = ren;
		eo.nrename = nb;
		eo.soname = b[i].newname;
		/* $ORIGIN finds its bundled siblings; an old absolute path
		 * would reach into the installing machine. */
		if (needs_any(orig, b, nb) || orig->runpath || orig->rpath)
			eo.runpath = "$ORIGIN";
		elf_report_free(orig);
		if (elfedit_apply(b[i].lib->data, b[i].lib->len, &eo, &b[i].ed,
		    &b[i].edlen, NULL, err) == -1) {
			wwerr_prefix(err, "editing %s (from %s)",
			    b[i].lib->soname, b[i].lib->origin ?
			    b[i].lib->origin : "?");
			err->code = REPAIR_E_ELF;
			goto done;
		}
		if (elf_inspect_mem(b[i].path, b[i].ed, b[i].edlen, &b[i].rep,
		    err) == -1) {
			err->code = REPAIR_E_ELF;
			goto done;
		}
	}

	/* The repaired content, judged as a whole before anything is
	 * written. */
	if ((reps = calloc(vr->nelfs + nb, sizeof(*reps))) == NULL)
		goto nomem;
	for (i = 0; i < vr->nelfs; i++) {
		reps[nrep] = vr->elfs[i];
		for (k = 0; k < nm; k++)
			if (m[k].rep == vr->elfs[i])
				reps[nrep] = m[k].newrep;
		nrep++;
	}
	for (i = 0; i < nb; i++)
		reps[nrep++] = b[i].rep;
	if (policy_evaluate_target(t->db, reps, nrep, t->arch, t->libc,
	    t->musl_minor, &pr2, err) == -1) {
		err->code = REPAIR_E_POLICY;
		goto done;
	}
	if (pr2.nviolations > 0 || pr2.tag[0] == '\0') {
		join_violations(&pr2, why, sizeof(why));
		wwerr_set(err, REPAIR_E_POLICY, "%s with its libraries bundled "
		    "is still outside the policy: %s", vr->filename,
		    why[0] ? why : "no policy allows it");
		goto done;
	}
	platform_of(&pr2, platform, sizeof(platform));

	/* Write: replaced members and the copies, through retag. */
	if ((add = calloc(nm + nb, sizeof(*add))) == NULL)
		goto nomem;
	for (i = 0; i < nm; i++)
		add[nadd++] = (struct retag_member){ m[i].path, m[i].ed,
		    m[i].edlen, 0755 };
	for (i = 0; i < nb; i++)
		add[nadd++] = (struct retag_member){ b[i].path, b[i].ed,
		    b[i].edlen, 0755 };
	memset(&ro, 0, sizeof(ro));
	ro.platform = platform;
	ro.build = o->build;
	ro.add = add;
	ro.nadd = nadd;
	if (retag_wheel(src, outdir, &ro, lim, &out->path, err) == -1)
		goto done;

	/* Verify again: the bytes written allow the tag in the name. */
	if (verify_file(out->path, NULL, lim, &vr2, err) == -1) {
		wwerr_prefix(err, "repaired wheel");
		goto undo;
	}
	if (policy_evaluate_target(t->db, vr2->elfs, vr2->nelfs, t->arch,
	    t->libc, t->musl_minor, &pr3, err) == -1) {
		err->code = REPAIR_E_POLICY;
		goto undo;
	}
	platform_of(&pr3, tag2, sizeof(tag2));
	if (pr3.nviolations > 0 || strcmp(tag2, platform) != 0) {
		join_violations(&pr3, why, sizeof(why));
		wwerr_set(err, REPAIR_E_POLICY, "repaired wheel %s: policy "
		    "gives \"%s\", not \"%s\"%s%s", vr2->filename, tag2,
		    platform, why[0] ? ": " : "", why);
		goto undo;
	}

	util_strlcpy(out->tag, platform, sizeof(out->tag));
	if ((out->bundled = calloc(nb ? nb : 1, sizeof(*out->bundled))) ==
	    NULL || (out->edited = calloc(nm + 1, sizeof(*out->edited))) ==
	    NULL)
		goto nomem_undo;
	for (i = 0; i < nb; i++) {
		struct repair_bundled *rb = &out->bundled[out->nbundled++];

		if ((rb->soname = strdup(b[i].lib->soname)) == NULL ||
		    (rb->path = strdup(b[i].path)) == NULL ||
		    (b[i].lib->origin != NULL &&
		    (rb->origin = strdup(b[i].lib->origin)) == NULL))
			goto nomem_undo;
		util_strlcpy(rb->sha256, b[i].sha256, sizeof(rb->sha256));
	}
	for (i = 0; i < nm; i++) {
		out->edited[i] = m[i].path;
		m[i].path = NULL;
		out->nedited++;
	}
	ret = 0;
	goto done;
nomem_undo:
	wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
undo:
	if (out->path != NULL)
		(void)unlink(out->path);
	repair_result_free(out);
	goto done;
nomem:
	wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
done:
	if (ret == -1 && out->path != NULL) {
		(void)unlink(out->path);
		repair_result_free(out);
	}
	for (i = 0; b != NULL && i < nb + 1 && i < REPAIR_MAX_LIBS; i++) {
		repair_strv_free(b[i].needs);
		free(b[i].ed);
		elf_report_free(b[i].rep);
	}
	free(b);
	for (i = 0; m != NULL && i < vr->nelfs; i++) {
		free(m[i].path);
		free(m[i].data);
		free(m[i].ed);
		elf_report_free(m[i].newrep);
	}
	free(m);
	free(ren);
	free(reps);
	free(add);
	repair_strv_free(queue.v);
	policy_result_free(&pr);
	policy_result_free(&pr2);
	policy_result_free(&pr3);
	verify_result_free(vr);
	verify_result_free(vr2);
	return ret;
}

void
repair_result_free(struct repair_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->path);
	for (i = 0; i < r->nbundled; i++) {
		free(r->bundled[i].soname);
		free(r->bundled[i].path);
		free(r->bundled[i].origin);
	}
	free(r->bundled);
	for (i = 0; i < r->nedited; i++)
		free(r->edited[i]);
	free(r->edited);
	memset(r, 0, sizeof(*r));
}

int
repair_list_bundled(const struct verify_result *vr, char ***out, size_t *n)
{
	struct strv s = { 0 };
	const struct elf_report *r, *o;
	const char *p, *sl;
	size_t i, k, j;
	int needed;

	*out = NULL;
	*n = 0;
	for (i = 0; i < vr->nelfs; i++) {
		r = vr->elfs[i];
		p = r->path;
		if ((sl = strrchr(p, '/')) == NULL || sl - p < 5 ||
		    memcmp(sl - 5, ".libs", 5) != 0)
			continue;
		needed = 0;
		for (k = 0; !needed && k < vr->nelfs; k++) {
			o = vr->elfs[k];
			if (o == r)
				continue;
			for (j = 0; j < o->nneeded; j++)
				if (strcmp(o->needed[j], sl + 1) == 0 ||
				    (r->soname != NULL &&
				    strcmp(o->needed[j], r->soname) == 0))
					needed = 1;
		}
		if (needed && strv_add(&s, p) == -1) {
			repair_strv_free(s.v);
			return -1;
		}
	}
	*out = s.v;
	*n = s.n;
	return 0;
}
