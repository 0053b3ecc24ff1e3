/*
 * policy.c: decide the best manylinux (PEP 600) or musllinux (PEP 656)
 * platform tag that a wheel's ELF content allows, and say in words why
 * content is refused. See policy.h.
 *
 * The policy tables are data, not code: lib/data/manylinux-policy.json and
 * lib/data/musllinux-policy.json are verbatim copies of pypa/auditwheel's
 * src/auditwheel/policy/manylinux-policy.json (at commit
 * 2d1ad6396bff90cfff09321a4a4480b3955fe6a5) and musllinux-policy.json (at
 * commit 3332e9414d8419de3d5cf3b55f7279df87899681), MIT licensed,
 * Copyright (c) 2016 Robert T. McGibbon and the auditwheel contributors.
 * lib/CMakeLists.txt embeds them as ww_data_manylinux_policy and
 * ww_data_musllinux_policy. To update, copy the new upstream files over
 * them; policy_db_load() re-checks their shape and monotonicity.
 *
 * The rules follow auditwheel: a policy (for the target arch) allows the
 * content when every DT_NEEDED outside the wheel is in its lib_whitelist,
 * every required symbol version whose prefix (GLIBC, GLIBCXX, CXXABI, GCC,
 * ZLIB, LIBATOMIC) the policy lists is in its list, and no undefined symbol
 * is blacklisted for a library that is needed. The dynamic loader itself
 * (ld-linux*, ld64.so.*, ld-musl-*) and libpythonX.Y are never counted.
 * Of the policies that allow the content, the most compatible one (highest
 * priority, i.e. oldest glibc) gives the tag.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <elf.h>
#include <jansson.h>

#include "buf.h"
#include "policy.h"
#include "strv.h"
#include "util.h"

extern const unsigned char ww_data_manylinux_policy[];
extern const size_t ww_data_manylinux_policy_len;
extern const unsigned char ww_data_musllinux_policy[];
extern const size_t ww_data_musllinux_policy_len;

#define POLICY_FILE_MAX		(16U * 1024 * 1024)
#define MSG_MAX			1024

enum family { FAM_MANY, FAM_MUSL };

struct pol {
	const char	*name;		/* "manylinux_2_17" (owned by json) */
	int		 major, minor;
	json_int_t	 priority;
	json_t		*aliases;	/* array of strings */
	json_t		*symvers;	/* arch -> prefix -> [versions] */
	json_t		*whitelist;	/* array of strings */
	json_t		*blacklist;	/* lib -> [symbols] */
};

struct polset {
	json_t		*root;
	struct pol	*p;		/* "linux" excluded; priority desc */
	size_t		 n;
};

struct policy_db {
	struct polset	 set[2];	/* FAM_MANY, FAM_MUSL */
};

static const char *
fam_name(enum family f)
{
	return f == FAM_MUSL ? "musllinux" : "manylinux";
}

/* ---- loading and checking the tables ---- */

/* "manylinux_2_17" -> 2, 17 for the given prefix. */
static int
parse_policy_name(const char *name, const char *prefix, int *major,
    int *minor)
{
	size_t pl = strlen(prefix);
	const char *p;
	char *end;
	long a, b;

	if (strncmp(name, prefix, pl) != 0 || name[pl] != '_')
		return -1;
	p = name + pl + 1;
	if (!isdigit((unsigned char)*p))
		return -1;
	a = strtol(p, &end, 10);
	if (*end != '_' || !isdigit((unsigned char)end[1]) || a > 1000)
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || b > 10000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

static int
is_string_array(const json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return 0;
	return 1;
}

static int
array_has(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
cmp_pol(const void *a, const void *b)
{
	const struct pol *x = a, *y = b;

	return x->priority < y->priority ? 1 : x->priority > y->priority ?
	    -1 : 0;
}

/* Shape of one policy object; fills p (name etc. point into json). */
static int
check_policy(const json_t *o, size_t idx, const char *what,
    enum family fam, struct pol *p, struct wwerr *err)
{
	json_t *name, *prio, *archv, *lst;
	const char *arch, *pfx, *lib;

	if (!json_is_object(o))
		return wwerr_set(err, POLICY_E_TABLE,
		    "%s: entry %zu is not an object", what, idx);
	name = json_object_get(o, "name");
	prio = json_object_get(o, "priority");
	if (!json_is_string(name) || !json_is_integer(prio))
		return wwerr_set(err, POLICY_E_TABLE,
		    "%s: entry %zu lacks a name or an integer priority",
		    what, idx);
	memset(p, 0, sizeof(*p));
	p->name = json_string_value(name);
	p->priority = json_integer_value(prio);
	if (p->priority < 0 || p->priority > 1000)
		return wwerr_set(err, POLICY_E_TABLE,
		    "%s: %s: priority %lld out of range", what, p->name,
		    (long long)p->priority);
	p->aliases = json_object_get(o, "aliases");
	p->symvers = json_object_get(o, "symbol_versions");
	p->whitelist = json_object_get(o, "lib_whitelist");
	p->blacklist = json_object_get(o, "blacklist");
	if (!is_string_array(p->aliases) || !json_is_object(p->symvers) ||
	    !is_string_array(p->whitelist) || !json_is_object(p->blacklist))
		return wwerr_set(err, POLICY_E_TABLE,
		    "%s: %s: aliases, symbol_versions, lib_whitelist or "
		    "blacklist missing or of the wrong type", what, p->name);
	if (strcmp(p->name, "linux") != 0 &&
	    parse_policy_name(p->name, fam_name(fam), &p->major,
	    &p->minor) != 0)
		return wwerr_set(err, POLICY_E_TABLE,
		    "%s: policy name \"%s\" is not %s_X_Y", what, p->name,
		    fam_name(fam));
	json_object_foreach(p->symvers, arch, archv) {
		if (!json_is_object(archv))
			return wwerr_set(err, POLICY_E_TABLE,
			    "%s: %s: symbol_versions.%s is not an object",
			    what, p->name, arch);
		json_object_foreach(archv, pfx, lst)
			if (!is_string_array(lst))
				return wwerr_set(err, POLICY_E_TABLE,
				    "%s: %s: symbol_versions.%s.%s is not a "
				    "list of strings", what, p->name, arch,
				    pfx);
	}
	json_object_foreach(p->blacklist, lib, lst)
		if (!is_string_array(lst))
			return wwerr_set(err, POLICY_E_TABLE,
			    "%s: %s: blacklist.%s is not a list of strings",
			    what, p->name, lib);
	return 0;
}

/*
 * PEP 600 monotonicity, as auditwheel checks it: walking from the oldest
 * policy to the newest, nothing allowed before may disappear.
 */
static int
check_monotonic(const struct polset *s, const char *what, struct wwerr *err)
{
	size_t i, j, k;
	json_t *lst, *archv, *older_archv, *v;
	const char *arch, *pfx;

	for (i = 1; i < s->n; i++) {
		for (j = 0; j < i; j++) {
			json_array_foreach(s->p[j].whitelist, k, v)
				if (!array_has(s->p[i].whitelist,
				    json_string_value(v)))
					return wwerr_set(err, POLICY_E_TABLE,
					    "%s: %s drops whitelisted library "
					    "%s allowed by %s", what,
					    s->p[i].name, json_string_value(v),
					    s->p[j].name);
			json_object_foreach(s->p[i].symvers, arch, archv) {
				older_archv = json_object_get(s->p[j].symvers,
				    arch);
				if (older_archv == NULL)
					continue;
				json_object_foreach(older_archv, pfx, lst) {
					json_t *newer = json_object_get(archv,
					    pfx);
					json_array_foreach(lst, k, v) {
						if (newer != NULL &&
						    array_has(newer,
						    json_string_value(v)))
							continue;
						return wwerr_set(err,
						    POLICY_E_TABLE, "%s: %s "
						    "drops %s_%s for %s, "
						    "allowed by %s", what,
						    s->p[i].name, pfx,
						    json_string_value(v), arch,
						    s->p[j].name);
					}
				}
			}
		}
		if (s->p[i].priority == s->p[i - 1].priority)
			return wwerr_set(err, POLICY_E_TABLE,
			    "%s: %s and %s share priority %lld", what,
			    s->p[i - 1].name, s->p[i].name,
			    (long long)s->p[i].priority);
	}
	return 0;
}

/* Takes ownership of root. */
static int
polset_build(struct polset *s, json_t *root, enum family fam,
    const char *what, struct wwerr *err)
{
	size_t i, n;
	struct pol p;

	memset(s, 0, sizeof(*s));
	s->root = root;
	if (!json_is_array(root) || json_array_size(root) == 0) {
		wwerr_set(err, POLICY_E_TABLE,
		    "%s: not a non-empty JSON array of policies", what);
		goto fail;
	}
	n = json_array_size(root);
	if ((s->p = calloc(n, sizeof(*s->p))) == NULL) {
		wwerr_set(err, POLICY_E_NOMEM, "%s: out of memory", what);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (check_policy(json_array_get(root, i), i, what, fam, &p,
		    err) != 0)
			goto fail;
		if (strcmp(p.name, "linux") == 0)
			continue;
		s->p[s->n++] = p;
	}
	if (s->n == 0) {
		wwerr_set(err, POLICY_E_TABLE, "%s: no %s policies", what,
		    fam_name(fam));
		goto fail;
	}
	qsort(s->p, s->n, sizeof(*s->p), cmp_pol);
	if (check_monotonic(s, what, err) != 0)
		goto fail;
	return 0;
fail:
	free(s->p);
	json_decref(s->root);
	memset(s, 0, sizeof(*s));
	return -1;
}

static void
polset_free(struct polset *s)
{
	free(s->p);
	json_decref(s->root);
	memset(s, 0, sizeof(*s));
}

static json_t *
parse_json(const char *data, size_t len, const char *what, struct wwerr *err)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		wwerr_set(err, POLICY_E_TABLE, "%s: line %d: %s", what,
		    je.line, je.text);
	return root;
}

/* Which family a table from a file describes, by its policy names. */
static int
table_family(const json_t *root, enum family *fam)
{
	size_t i;
	json_t *o, *name;
	const char *s;

	if (!json_is_array(root))
		return -1;
	json_array_foreach(root, i, o) {
		name = json_object_get(o, "name");
		if (!json_is_string(name))
			continue;
		s = json_string_value(name);
		if (strncmp(s, "musllinux_", 10) == 0) {
			*fam = FAM_MUSL;
			return 0;
		}
		if (strncmp(s, "manylinux_", 10) == 0) {
			*fam = FAM_MANY;
			return 0;
		}
	}
	return -1;
}

int
policy_db_load(const char *path, struct policy_db **out,
    struct wwerr *err)
{
	struct policy_db *db;
	json_t *root, *file_root = NULL;
	enum family ffam = FAM_MANY;
	char *data = NULL;
	size_t len;

	*out = NULL;
	if (path != NULL) {
		if (util_read_file(path, POLICY_FILE_MAX, &data, &len) != 0)
			return wwerr_set(err, POLICY_E_IO, "%s: %s", path,
			    errno == EFBIG || errno == E2BIG ?
			    "policy table too large" : strerror(errno));
		file_root = parse_json(data, len, path, err);
		free(data);
		if (file_root == NULL)
			return -1;
		if (table_family(file_root, &ffam) != 0) {
			json_decref(file_root);
			return wwerr_set(err, POLICY_E_TABLE,
			    "%s: names no manylinux_X_Y or musllinux_X_Y "
			    "policy", path);
		}
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		json_decref(file_root);
		return wwerr_set(err, POLICY_E_NOMEM, "out of memory");
	}
	if (file_root != NULL && ffam == FAM_MANY)
		root = file_root;
	else if ((root = parse_json((const char *)ww_data_manylinux_policy,
	    ww_data_manylinux_policy_len, "embedded manylinux-policy.json",
	    err)) == NULL)
		goto fail;
	if (polset_build(&db->set[FAM_MANY], root, FAM_MANY,
	    root == file_root ? path : "embedded manylinux-policy.json",
	    err) != 0) {
		if (root == file_root)
			file_root = NULL;	/* consumed */
		goto fail;
	}
	if (root == file_root)
		file_root = NULL;
	if (file_root != NULL && ffam == FAM_MUSL)
		root = file_root;
	else if ((root = parse_json((const char *)ww_data_musllinux_policy,
	    ww_data_musllinux_policy_len, "embedded musllinux-policy.json",
	    err)) == NULL)
		goto fail;
	if (polset_build(&db->set[FAM_MUSL], root, FAM_MUSL,
	    root == file_root ? path : "embedded musllinux-policy.json",
	    err) != 0) {
		if (root == file_root)
			file_root = NULL;
		goto fail;
	}
	if (root == file_root)
		file_root = NULL;
	*out = db;
	return 0;
fail:
	json_decref(file_root);
	policy_db_free(db);
	return -1;
}

void
policy_db_free(struct policy_db *db)
{
	if (db == NULL)
		return;
	polset_free(&db->set[FAM_MANY]);
	polset_free(&db->set[FAM_MUSL]);
	free(db);
}

/* ---- evaluation helpers ---- */

/* A formatted message, once: the same finding in several files is one. */
static int
add_msg(struct strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
add_msg(struct strv *s, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return strv_addu(s, msg);
}

/* The dynamic loader is provided by the system with the libc. */
static int
is_loader(const char *lib)
{
	return strncmp(lib, "ld-linux", 8) == 0 ||
	    strcmp(lib, "ld64.so.1") == 0 || strcmp(lib, "ld64.so.2") == 0 ||
	    strncmp(lib, "ld-musl-", 8) == 0;
}

/* libpythonX.Y[m].so[.N]: provided by the interpreter (auditwheel's
 * LIBPYTHON_RE). */
static int
is_libpython(const char *lib)
{
	const char *p = lib;

	if (strncmp(p, "libpython", 9) != 0)
		return 0;
	p += 9;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == 'm')
		p++;
	if (strncmp(p, ".so", 3) != 0)
		return 0;
	p += 3;
	while (*p == '.' && isdigit((unsigned char)p[1])) {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* musl's libc soname per arch (auditwheel's _fixup_musl_libc_soname); the
 * policy tables say "libc.so", which is what musl-gcc links. */
static const char *
musl_libc_soname(const char *arch)
{
	static const struct {
		const char *arch, *soname;
	} map[] = {
		{ "x86_64", "libc.musl-x86_64.so.1" },
		{ "i686", "libc.musl-x86.so.1" },
		{ "aarch64", "libc.musl-aarch64.so.1" },
		{ "s390x", "libc.musl-s390x.so.1" },
		{ "ppc64le", "libc.musl-ppc64le.so.1" },
		{ "armv7l", "libc.musl-armv7.so.1" },
		{ "riscv64", "libc.musl-riscv64.so.1" },
		{ "loongarch64", "libc.musl-loongarch64.so.1" },
	};
	size_t i;

	for (i = 0; i < WW_ARRLEN(map); i++)
		if (strcmp(map[i].arch, arch) == 0)
			return map[i].soname;
	return NULL;
}

static int
whitelisted(const struct pol *p, enum family fam, const char *arch,
    const char *lib)
{
	const char *ms;

	if (array_has(p->whitelist, lib))
		return 1;
	if (fam == FAM_MUSL && (ms = musl_libc_soname(arch)) != NULL &&
	    strcmp(lib, ms) == 0)
		return array_has(p->whitelist, "libc.so");
	return 0;
}

/* "GLIBC_2.17": prefix "GLIBC"; the policy lists versions without it. */
static int
version_allowed(const struct pol *p, const char *arch, const char *ver,
    int *known)
{
	const json_t *archv, *lst;
	const char *us;
	char pfx[64];
	size_t pl;

	*known = 0;
	if ((archv = json_object_get(p->symvers, arch)) == NULL)
		return 0;
	if ((us = strchr(ver, '_')) == NULL)
		return 1;
	pl = (size_t)(us - ver);
	if (pl >= sizeof(pfx))
		return 1;
	memcpy(pfx, ver, pl);
	pfx[pl] = '\0';
	if ((lst = json_object_get(archv, pfx)) == NULL)
		return 1;	/* a prefix the policy does not govern */
	*known = 1;
	return array_has(lst, us + 1);
}

/* Compare dotted numeric versions ("2.38" vs "2.36"); non-numeric parts
 * make the version "not comparable" (-2). */
static int
cmp_dotted(const char *a, const char *b)
{
	unsigned long x, y;
	char *ea, *eb;

	for (;;) {
		if (!isdigit((unsigned char)*a) || !isdigit((unsigned char)*b))
			return -2;
		x = strtoul(a, &ea, 10);
		y = strtoul(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*ea == '\0' && *eb == '\0')
			return 0;
		if (*ea == '\0')
			return -1;
		if (*eb == '\0')
			return 1;
		if (*ea != '.' || *eb != '.')
			return -2;
		a = ea + 1;
		b = eb + 1;
	}
}

/* 1 if ver ("GLIBC_2.38") is numerically newer than every version of its
 * prefix in p for arch. */
static int
version_newer_than_all(const struct pol *p, const char *arch,
    const char *ver)
{
	const json_t *archv, *lst, *v;
	const char *us;
	char pfx[64];
	size_t pl, i;
	int c, any = 0;

	if ((archv = json_object_get(p->symvers, arch)) == NULL ||
	    (us = strchr(ver, '_')) == NULL ||
	    (pl = (size_t)(us - ver)) >= sizeof(pfx))
		return 0;
	memcpy(pfx, ver, pl);
	pfx[pl] = '\0';
	if ((lst = json_object_get(archv, pfx)) == NULL)
		return 0;
	json_array_foreach(lst, i, v) {
		c = cmp_dotted(us + 1, json_string_value(v));
		if (c == -2)
			continue;
		if (c <= 0)
			return 0;
		any = 1;
	}
	return any;
}

/* A required library or symbol version, with where it came from. */
struct req {
	const char	*name;		/* "libfoo.so.1" / "GLIBC_2.17" */
	const char	*from;		/* member path */
	size_t		 nfrom;		/* how many members need it */
};

struct reqs {
	struct req	*v;
	size_t		 n, alloc;
};

static int
reqs_add(struct reqs *r, const char *name, const char *from)
{
	struct req *nv;
	size_t i, na;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0) {
			if (strcmp(r->v[i].from, from) != 0)
				r->v[i].nfrom++;
			return 0;
		}
	if (r->n == r->alloc) {
		na = r->alloc ? r->alloc * 2 : 16;
		if ((nv = realloc(r->v, na * sizeof(*nv))) == NULL)
			return -1;
		r->v = nv;
		r->alloc = na;
	}
	r->v[r->n].name = name;
	r->v[r->n].from = from;
	r->v[r->n].nfrom = 1;
	r->n++;
	return 0;
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(char *const *)b);
}

/* A blacklisted symbol hit: which policies it rules out is per policy. */
static int
blacklist_hit(const struct pol *p, struct elf_report *const *elfs,
    size_t nelfs, const struct strv *internal, const char **sym,
    const char **lib, const char **from)
{
	size_t e, i, k;
	const json_t *bl, *v;
	const struct elf_report *r;
	const char *key;
	char **hit;

	for (e = 0; e < nelfs; e++) {
		r = elfs[e];
		for (i = 0; i < r->nneeded; i++) {
			if (strv_has(internal, r->needed[i]))
				continue;
			bl = json_object_get(p->blacklist, r->needed[i]);
			if (bl == NULL)
				continue;
			json_array_foreach(bl, k, v) {
				/* elf_inspect sorts the undefined names */
				key = json_string_value(v);
				hit = r->nundefined == 0 ? NULL :
				    bsearch(&key, r->undefined, r->nundefined,
				    sizeof(*r->undefined), cmp_strp);
				if (hit == NULL)
					continue;
				*sym = *hit;
				*lib = r->needed[i];
				*from = r->path;
				return 1;
			}
		}
	}
	return 0;
}

static void
fmt_from(char *out, size_t outlen, const struct req *q)
{
	if (q->nfrom > 1)
		snprintf(out, outlen, "%s and %zu more", q->from,
		    q->nfrom - 1);
	else
		snprintf(out, outlen, "%s", q->from);
}

static int
nomem(struct wwerr *err)
{
	return wwerr_set(err, POLICY_E_NOMEM, "policy: out of memory");
}

/*
 * The musllinux table entry for musl 1.Y: the entry for Y, else the
 * nearest older one, else the oldest (Y is the build environment's musl
 * and may be newer than the table).
 */
static const struct pol *
musl_choose(const struct polset *set, int y)
{
	const struct pol *best = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct pol *p = &set->p[i];

		if (oldest == NULL || p->major < oldest->major ||
		    (p->major == oldest->major && p->minor < oldest->minor))
			oldest = p;
		if (p->major != 1 || p->minor > y)
			continue;
		if (best == NULL || p->minor > best->minor)
			best = p;
	}
	return best != NULL ? best : oldest;
}

/* ---- evaluation ---- */

int
policy_evaluate(const struct policy_db *db, struct elf_report *const *elfs,
    size_t nelfs, const char *arch, int musl_minor,
    struct policy_result *out, struct wwerr *err)
{
	return policy_evaluate_target(db, elfs, nelfs, arch,
	    POLICY_LIBC_NONE, musl_minor, out, err);
}

int
policy_evaluate_target(const struct policy_db *db,
    struct elf_report *const *elfs, size_t nelfs, const char *arch,
    enum policy_libc target, int musl_minor, struct policy_result *out,
    struct wwerr *err)
{
	struct strv viol = { 0 }, limits = { 0 }, ext = { 0 };
	struct strv internal = { 0 };
	struct reqs libs = { 0 }, vers = { 0 };
	const struct elf_report *glibc_elf = NULL, *musl_elf = NULL, *r;
	const struct polset *set;
	const struct pol **cand = NULL;
	const struct pol *best = NULL, *best_rep = NULL, *musl_pol = NULL;
	enum family fam;
	size_t ncand = 0, e, i, k, nonlib_viol;
	int y, known, ok_libs, ok_vers, ok_black, any_known;
	char from[512], names[256];
	const char *sym, *lib, *bfrom;

	memset(out, 0, sizeof(*out));
	if (db == NULL || arch == NULL || *arch == '\0')
		return wwerr_set(err, POLICY_E_ARG,
		    "policy: no policy tables or no target arch");
	if (nelfs == 0) {
		out->pure = 1;
		return 0;
	}

	/* Libraries the wheel brings itself satisfy DT_NEEDED. */
	for (e = 0; e < nelfs; e++) {
		r = elfs[e];
		if (r->soname != NULL && !strv_has(&internal, r->soname) &&
		    strv_add(&internal, r->soname) != 0)
			goto nomem;
		if (r->path != NULL && !strv_has(&internal,
		    util_base_name(r->path)) &&
		    strv_add(&internal, util_base_name(r->path)) != 0)
			goto nomem;
	}

	/* Which libc the content needs. */
	for (e = 0; e < nelfs; e++) {
		r = elfs[e];
		if (r->libc == ELF_LIBC_GLIBC && glibc_elf == NULL)
			glibc_elf = r;
		if (r->libc == ELF_LIBC_MUSL && musl_elf == NULL)
			musl_elf = r;
		if (r->mixed_libc && add_msg(&viol,
		    "%s mixes glibc and musl (needs both libcs)", r->path) != 0)
			goto nomem;
	}
	if (glibc_elf != NULL && musl_elf != NULL &&
	    add_msg(&viol, "mixes glibc and musl (%s needs glibc, %s "
	    "needs musl)", glibc_elf->path, musl_elf->path) != 0)
		goto nomem;
	out->libc = glibc_elf != NULL ? POLICY_LIBC_GLIBC :
	    musl_elf != NULL ? POLICY_LIBC_MUSL : POLICY_LIBC_NONE;
	if (target == POLICY_LIBC_MUSL && glibc_elf != NULL &&
	    add_msg(&viol, "needs glibc (%s), but the target is "
	    "musllinux", glibc_elf->path) != 0)
		goto nomem;
	if (target == POLICY_LIBC_GLIBC && musl_elf != NULL &&
	    add_msg(&viol, "needs musl (%s), but the target is "
	    "manylinux", musl_elf->path) != 0)
		goto nomem;
	if (target == POLICY_LIBC_MUSL)
		fam = FAM_MUSL;
	else if (target == POLICY_LIBC_GLIBC)
		fam = FAM_MANY;
	else
		fam = out->libc == POLICY_LIBC_MUSL ? FAM_MUSL : FAM_MANY;

	/*
	 * Machine and a libc linked in by mistake. Relocatable objects
	 * (ET_REL: eBPF programs, .o files shipped as data) are never loaded
	 * by the dynamic loader, so their machine does not constrain the
	 * platform.
	 */
	for (e = 0; e < nelfs; e++) {
		r = elfs[e];
		if (r->type != ET_REL && strcmp(r->arch, arch) != 0 &&
		    add_msg(&viol,
		    "%s: machine %s does not match target %s", r->path,
		    r->arch, arch) != 0)
			goto nomem;
		if (r->nstatic_libc_syms > 0) {
			names[0] = '\0';
			for (i = 0; i < r->nstatic_libc_syms && i < 4; i++) {
				if (i > 0)
					util_strlcat(names, ", ",
					    sizeof(names));
				util_strlcat(names, r->static_libc_syms[i],
				    sizeof(names));
			}
			if (r->nstatic_libc_syms > 4)
				util_strlcat(names, ", ...", sizeof(names));
			if (add_msg(&viol, "%s statically links libc "
			    "(defines %s)", r->path, names) != 0)
				goto nomem;
		}
	}

	/* The candidate policies for this family and arch, oldest first. */
	set = &db->set[fam];
	if ((cand = calloc(set->n, sizeof(*cand))) == NULL)
		goto nomem;
	if (fam == FAM_MUSL) {
		/* musllinux_1_Y: Y is the build environment's musl; its
		 * whitelist is the table entry for Y, or the nearest older. */
		y = musl_minor < 0 ? 2 : musl_minor;
		musl_pol = musl_choose(set, y);
		if (json_object_get(musl_pol->symvers, arch) != NULL)
			cand[ncand++] = musl_pol;
	} else {
		for (i = 0; i < set->n; i++)
			if (json_object_get(set->p[i].symvers, arch) != NULL)
				cand[ncand++] = &set->p[i];
	}
	if (ncand == 0 && add_msg(&viol, "no %s policy covers arch %s",
	    fam_name(fam), arch) != 0)
		goto nomem;

	/* What the content needs from outside the wheel. A member built for
	 * another machine is already refused; its needs would only add
	 * confusing sentences about the wrong arch's versions. */
	for (e = 0; e < nelfs; e++) {
		r = elfs[e];
		if (strcmp(r->arch, arch) != 0 || r->type == ET_REL)
			continue;
		for (i = 0; i < r->nneeded; i++) {
			lib = r->needed[i];
			if (strv_has(&internal, lib) || is_loader(lib) ||
			    is_libpython(lib))
				continue;
			if (reqs_add(&libs, lib, r->path) != 0)
				goto nomem;
		}
		for (i = 0; i < r->nsymvers; i++) {
			lib = r->symvers[i].lib;
			if (strv_has(&internal, lib) || is_loader(lib))
				continue;
			if (reqs_add(&vers, r->symvers[i].version, r->path) !=
			    0)
				goto nomem;
		}
	}

	/* Requirements no candidate allows are violations. */
	for (i = 0; i < libs.n; i++) {
		for (k = 0; k < ncand; k++)
			if (whitelisted(cand[k], fam, arch, libs.v[i].name))
				break;
		if (k < ncand || ncand == 0)
			continue;
		fmt_from(from, sizeof(from), &libs.v[i]);
		if (add_msg(&viol, "links %s, which no %s policy allows "
		    "(needed by %s)", libs.v[i].name, fam_name(fam), from) !=
		    0 || (!strv_has(&ext, libs.v[i].name) &&
		    strv_add(&ext, libs.v[i].name) != 0))
			goto nomem;
	}
	nonlib_viol = viol.n - ext.n;
	for (i = 0; i < vers.n; i++) {
		any_known = 0;
		for (k = 0; k < ncand; k++) {
			if (version_allowed(cand[k], arch, vers.v[i].name,
			    &known))
				break;
			any_known |= known;
		}
		if (k < ncand || !any_known)
			continue;
		fmt_from(from, sizeof(from), &vers.v[i]);
		if (version_newer_than_all(cand[ncand - 1], arch,
		    vers.v[i].name)) {
			if (add_msg(&viol, "needs %s (from %s), newer than "
			    "any %s policy for %s", vers.v[i].name, from,
			    fam_name(fam), arch) != 0)
				goto nomem;
		} else if (add_msg(&viol, "needs %s (from %s), which no "
		    "%s policy for %s allows", vers.v[i].name, from,
		    fam_name(fam), arch) != 0)
			goto nomem;
		nonlib_viol++;
	}
	if (ncand > 0 && blacklist_hit(cand[ncand - 1], elfs, nelfs,
	    &internal, &sym, &lib, &bfrom)) {
		if (add_msg(&viol, "uses %s from %s (in %s), which no %s "
		    "policy allows", sym, lib, bfrom, fam_name(fam)) != 0)
			goto nomem;
		nonlib_viol++;
	}
	if (ncand == 0)
		nonlib_viol = viol.n - ext.n;

	/* The most compatible policy that allows everything. */
	for (k = 0; k < ncand; k++) {
		const struct pol *p = cand[k];

		ok_libs = ok_vers = 1;
		for (i = 0; ok_libs && i < libs.n; i++)
			ok_libs = whitelisted(p, fam, arch, libs.v[i].name);
		for (i = 0; ok_vers && i < vers.n; i++)
			ok_vers = version_allowed(p, arch, vers.v[i].name,
			    &known);
		ok_black = !blacklist_hit(p, elfs, nelfs, &internal, &sym,
		    &lib, &bfrom);
		if (ok_vers && ok_black && best_rep == NULL)
			best_rep = p;
		if (ok_libs && ok_vers && ok_black) {
			best = p;
			break;
		}
	}

	/* Why not the next older policy: informational limits. */
	if (best != NULL && fam == FAM_MANY && best != cand[0]) {
		const struct pol *prev = NULL;

		for (k = 0; k < ncand && cand[k] != best; k++)
			prev = cand[k];
		for (i = 0; i < libs.n; i++)
			if (!whitelisted(prev, fam, arch, libs.v[i].name) &&
			    add_msg(&limits, "%s links %s, which %s_%s "
			    "does not allow", libs.v[i].from, libs.v[i].name,
			    prev->name, arch) != 0)
				goto nomem;
		for (i = 0; i < vers.n; i++)
			if (!version_allowed(prev, arch, vers.v[i].name,
			    &known) && add_msg(&limits, "%s needs %s, "
			    "which %s_%s lacks", vers.v[i].from,
			    vers.v[i].name, prev->name, arch) != 0)
				goto nomem;
		if (blacklist_hit(prev, elfs, nelfs, &internal, &sym, &lib,
		    &bfrom) && add_msg(&limits, "%s uses %s from %s, "
		    "which %s_%s does not allow", bfrom, sym, lib, prev->name,
		    arch) != 0)
			goto nomem;
	}

	if (fam == FAM_MUSL) {
		y = musl_minor < 0 ? 2 : musl_minor;
		if (viol.n == 0 && best != NULL) {
			snprintf(out->tag, sizeof(out->tag),
			    "musllinux_1_%d_%s", y, arch);
			out->major = 1;
			out->minor = y;
		}
		if (nonlib_viol == 0 && best_rep != NULL)
			snprintf(out->repair_tag, sizeof(out->repair_tag),
			    "musllinux_1_%d_%s", y, arch);
	} else {
		if (viol.n == 0 && best != NULL) {
			snprintf(out->tag, sizeof(out->tag), "%s_%s",
			    best->name, arch);
			out->major = best->major;
			out->minor = best->minor;
			if (json_array_size(best->aliases) > 0)
				snprintf(out->legacy_tag,
				    sizeof(out->legacy_tag), "%s_%s",
				    json_string_value(json_array_get(
				    best->aliases, 0)), arch);
		}
		if (nonlib_viol == 0 && best_rep != NULL)
			snprintf(out->repair_tag, sizeof(out->repair_tag),
			    "%s_%s", best_rep->name, arch);
	}
	if (out->tag[0] == '\0' && viol.n == 0 &&
	    add_msg(&viol, "no %s policy for %s allows this content",
	    fam_name(fam), arch) != 0)
		goto nomem;

	out->violations = viol.v;
	out->nviolations = viol.n;
	out->external_libs = ext.v;
	out->nexternal_libs = ext.n;
	out->limits = limits.v;
	out->nlimits = limits.n;
	free(cand);
	free(libs.v);
	free(vers.v);
	strv_free(&internal);
	return 0;
nomem:
	free(cand);
	free(libs.v);
	free(vers.v);
	strv_free(&internal);
	strv_free(&viol);
	strv_free(&limits);
	strv_free(&ext);
	memset(out, 0, sizeof(*out));
	return nomem(err);
}

void
policy_result_free(struct policy_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nviolations; i++)
		free(r->violations[i]);
	free(r->violations);
	for (i = 0; i < r->nexternal_libs; i++)
		free(r->external_libs[i]);
	free(r->external_libs);
	for (i = 0; i < r->nlimits; i++)
		free(r->limits[i]);
	free(r->limits);
	memset(r, 0, sizeof(*r));
}

/* ---- lookups by tag ---- */

/* "musllinux_1_2" or "musllinux_1_2_x86_64": minor and arch (or NULL). */
static int
parse_musl_tag(const char *tag, int *minor, const char **arch)
{
	const char *p = tag + strlen("musllinux_");
	char *end;
	long a, b;

	if (strncmp(tag, "musllinux_", 10) != 0 || !isdigit((unsigned char)*p))
		return -1;
	a = strtol(p, &end, 10);
	if (a != 1 || *end != '_' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtol(end + 1, &end, 10);
	if (b > 10000 || (*end != '\0' && *end != '_'))
		return -1;
	*minor = (int)b;
	*arch = *end == '_' ? end + 1 : NULL;
	return 0;
}

int
policy_lib_allowed(const struct policy_db *db, const char *tag,
    const char *lib)
{
	const struct polset *set;
	const struct pol *p;
	const char *arch, *name;
	size_t i, k, nl;
	int minor;

	if (db == NULL || tag == NULL || lib == NULL)
		return 0;
	if (strncmp(tag, "musllinux", 9) == 0) {
		if (parse_musl_tag(tag, &minor, &arch) != 0)
			return 0;
		p = musl_choose(&db->set[FAM_MUSL], minor);
		if (arch == NULL)
			return array_has(p->whitelist, lib);
		if (json_object_get(p->symvers, arch) == NULL)
			return 0;
		return whitelisted(p, FAM_MUSL, arch, lib);
	}
	set = &db->set[FAM_MANY];
	for (i = 0; i < set->n; i++) {
		p = &set->p[i];
		/* The policy name or an alias, alone or followed by _ARCH
		 * for an arch the policy covers (so that "manylinux_2_1"
		 * cannot match "manylinux_2_17_x86_64"). */
		for (k = 0; k <= json_array_size(p->aliases); k++) {
			name = k == 0 ? p->name : json_string_value(
			    json_array_get(p->aliases, k - 1));
			nl = strlen(name);
			if (strncmp(tag, name, nl) != 0)
				continue;
			if (tag[nl] == '\0')
				return array_has(p->whitelist, lib);
			arch = tag + nl + 1;
			if (tag[nl] == '_' &&
			    json_object_get(p->symvers, arch) != NULL)
				return whitelisted(p, FAM_MANY, arch, lib);
		}
	}
	return 0;
}
