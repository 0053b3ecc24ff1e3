/*
 * repair_fetch.c: copy the libraries a wheel needs out of its build
 * container for repair; see repair_fetch.h.
 *
 * Why resolve sonames ourselves instead of running `ldconfig -p` in the
 * container: the build container has exited by now and starting another
 * costs seconds; and the answer would be text printed by a program in an
 * environment the build controlled. Reading the loader's configuration and
 * asking the engine for candidate files (a HEAD per miss) is cheap, needs
 * nothing running, and every byte that comes back is checked here: each
 * candidate is parsed as ELF and must be a shared object for the target's
 * machine, as the loader itself would insist.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>

#include "buf.h"
#include "engine.h"
#include "repair_fetch.h"
#include "strv.h"
#include "util.h"

#define FETCH_MAX_LIBS		256
#define FETCH_MAX_DIRS		128
#define FETCH_MAX_CONF		(256 * 1024)	/* one loader config file */
#define FETCH_MAX_INCLUDES	64
#define FETCH_MAX_INTERP	128

struct fctx {
	struct engine	*e;
	const char	*cid;
	const struct repair_target *t;
	const struct repair_fetch_opts *o;
	struct wwerr	*err;
	uint64_t	 max_lib, max_total, total;
	struct strv	 sysdirs;	/* the loader's search path */
	struct repair_fetched *out;
	size_t		 libs_alloc;
};

/* ---- files out of the container ---- */

/*
 * Copy a file (following symlinks) into memory. 1 if it does not exist
 * (or is a directory), 0 with *data set, -1 on engine failure.
 */
static int
fetch_file(struct fctx *c, const char *path, uint64_t max,
    unsigned char **data, size_t *len, char *resolved, size_t reslen)
{
	struct wwerr eerr;
	struct stat st;
	unsigned char *p = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, ret = -1;

	*data = NULL;
	*len = 0;
	if ((fd = memfd_create("ww-repair", MFD_CLOEXEC)) == -1)
		return wwerr_set(c->err, REPAIR_E_IO, "memfd_create: %s",
		    strerror(errno));
	wwerr_clear(&eerr);
	if (engine_copy_file(c->e, c->cid, path, fd, max, resolved, reslen,
	    &eerr) == -1) {
		if (eerr.code == ENGINE_E_NOTFOUND ||
		    (eerr.code == ENGINE_E_ARG && strstr(eerr.msg,
		    "directory") != NULL)) {
			ret = 1;
			goto done;
		}
		*c->err = eerr;
		goto done;
	}
	if (fstat(fd, &st) == -1 || (uint64_t)st.st_size > max) {
		wwerr_set(c->err, REPAIR_E_IO, "%s: copied file too big", path);
		goto done;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		wwerr_set(c->err, REPAIR_E_NOMEM, "out of memory");
		goto done;
	}
	while (got < (size_t)st.st_size) {
		n = pread(fd, p + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0) {
			wwerr_set(c->err, REPAIR_E_IO, "%s: reading the copy: %s",
			    path, n < 0 ? strerror(errno) : "short");
			goto done;
		}
		got += (size_t)n;
	}
	p[got] = '\0';
	*data = p;
	*len = got;
	p = NULL;
	ret = 0;
done:
	free(p);
	close(fd);
	return ret;
}

/* ---- the loader's search path ---- */

static int
add_dirs(struct fctx *c, struct strv *dirs, const char *list,
    const char *seps, const char *origin)
{
	const char *p = list, *e;
	char d[1024];
	size_t n;

	while (*p != '\0') {
		p += strspn(p, seps);
		if (*p == '\0')
			break;
		e = p + strcspn(p, seps);
		n = (size_t)(e - p);
		if (n >= 7 && (strncmp(p, "$ORIGIN", 7) == 0 ||
		    (n >= 9 && strncmp(p, "${ORIGIN}", 9) == 0))) {
			size_t skip = p[1] == '{' ? 9 : 7;

			if (origin != NULL && snprintf(d, sizeof(d), "%s%.*s",
			    origin, (int)(n - skip), p + skip) <
			    (int)sizeof(d) && dirs->n < FETCH_MAX_DIRS &&
			    strv_addu(dirs, d) == -1)
				goto nomem;
		} else if (*p == '/' && memchr(p, '$', n) == NULL &&
		    n < sizeof(d) && dirs->n < FETCH_MAX_DIRS) {
			snprintf(d, sizeof(d), "%.*s", (int)n, p);
			while (strlen(d) > 1 && d[strlen(d) - 1] == '/')
				d[strlen(d) - 1] = '\0';
			if (strv_addu(dirs, d) == -1)
				goto nomem;
		}
		p = e;
	}
	return 0;
nomem:
	return wwerr_set(c->err, REPAIR_E_NOMEM, "out of memory");
}

struct confdir {
	struct fctx	*c;
	const char	*pattern;	/* absolute glob */
	const char	*parent;	/* what the tar's names are under */
	struct strv	*texts;
	int		 count;
};

/* Each file of the included directory that matches the glob. */
static int
confdir_cb(void *arg, struct archive *a, struct archive_entry *ent,
    struct wwerr *err)
{
	struct confdir *d = arg;
	char full[2048];
	struct buf b;
	const char *name = archive_entry_pathname(ent);
	la_ssize_t n;
	char blk[4096];

	(void)err;
	if (name == NULL || archive_entry_filetype(ent) != AE_IFREG)
		return 0;
	snprintf(full, sizeof(full), "%s/%s", d->parent, name);
	if (fnmatch(d->pattern, full, FNM_PATHNAME) != 0)
		return 0;
	if (++d->count > FETCH_MAX_INCLUDES)
		return 1;
	buf_init(&b, FETCH_MAX_CONF);
	while ((n = archive_read_data(a, blk, sizeof(blk))) > 0)
		if (buf_add(&b, blk, (size_t)n) == -1)
			break;
	if (strv_addn(d->texts, buf_cstr(&b), b.len) == -1) {
		buf_free(&b);
		return wwerr_set(d->c->err, REPAIR_E_NOMEM, "out of memory");
	}
	buf_free(&b);
	return 0;
}

/* glibc's ld.so.conf: directories, "include GLOB", "hwcap ..." lines. */
static int
parse_ldconf(struct fctx *c, const char *text, int depth)
{
	struct strv texts = { 0 };
	const char *p = text, *eol;
	char line[2048], *s, *q;
	size_t n, i;
	int ret = -1;

	for (; *p != '\0'; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		n = (size_t)(eol - p);
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		if ((q = strchr(line, '#')) != NULL)
			*q = '\0';
		s = line + strspn(line, " \t");
		if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' ||
		    s[7] == '\t')) {
			struct confdir d;
			struct wwerr eerr;
			char dir[1024], parent[1024], *sl;

			s += 8;
			s += strspn(s, " \t");
			s[strcspn(s, " \t")] = '\0';
			if (depth >= 3 || *s != '/' || strlen(s) >= sizeof(dir))
				continue;
			/* "/etc/ld.so.conf.d/\*.conf": the directory is
			 * fetched as a tar whose names start with its own
			 * name ("ld.so.conf.d/libc.conf"), under parent. */
			util_strlcpy(dir, s, sizeof(dir));
			if ((sl = strrchr(dir, '/')) == NULL || sl == dir)
				continue;
			*sl = '\0';
			if (strpbrk(dir, "*?[") != NULL)
				continue;	/* globbed directories: rare */
			util_strlcpy(parent, dir, sizeof(parent));
			sl = strrchr(parent, '/');
			*sl = '\0';
			memset(&d, 0, sizeof(d));
			d.c = c;
			d.pattern = s;
			d.parent = parent;
			d.texts = &texts;
			wwerr_clear(&eerr);
			if (engine_archive_get(c->e, c->cid, dir,
			    4 * 1024 * 1024, confdir_cb, &d, &eerr) == -1) {
				if (eerr.code == ENGINE_E_NOTFOUND)
					continue;
				*c->err = eerr;
				goto done;
			}
			continue;
		}
		if (strncmp(s, "hwcap", 5) == 0)
			continue;
		if (add_dirs(c, &c->sysdirs, s, " \t:,", NULL) == -1)
			goto done;
	}
	for (i = 0; i < texts.n; i++)
		if (parse_ldconf(c, texts.v[i], depth + 1) == -1)
			goto done;
	ret = 0;
done:
	strv_free(&texts);
	return ret;
}

/* Debian/Ubuntu multiarch directory names. */
static const char *
multiarch(const char *arch)
{
	static const struct {
		const char *arch, *triplet;
	} m[] = {
		{ "x86_64", "x86_64-linux-gnu" },
		{ "aarch64", "aarch64-linux-gnu" },
		{ "i686", "i386-linux-gnu" },
		{ "armv7l", "arm-linux-gnueabihf" },
		{ "ppc64le", "powerpc64le-linux-gnu" },
		{ "s390x", "s390x-linux-gnu" },
		{ "riscv64", "riscv64-linux-gnu" },
	};
	size_t i;

	for (i = 0; i < WW_ARRLEN(m); i++)
		if (strcmp(m[i].arch, arch) == 0)
			return m[i].triplet;
	return NULL;
}

/* The name in musl's /etc/ld-musl-NAME.path. */
static const char *
musl_arch(const char *arch)
{
	if (strcmp(arch, "i686") == 0)
		return "i386";
	if (strcmp(arch, "armv7l") == 0)
		return "armhf";
	return arch;
}

static int
system_dirs(struct fctx *c)
{
	unsigned char *text = NULL;
	size_t len;
	char path[256];
	const char *tr;
	int rc;

	if (c->t->libc == POLICY_LIBC_MUSL) {
		snprintf(path, sizeof(path), "/etc/ld-musl-%s.path",
		    musl_arch(c->t->arch));
		if ((rc = fetch_file(c, path, FETCH_MAX_CONF, &text, &len,
		    NULL, 0)) == -1)
			return -1;
		if (rc == 0 && add_dirs(c, &c->sysdirs, (char *)text,
		    " \t\n:", NULL) == -1) {
			free(text);
			return -1;
		}
		free(text);
		/* musl's built-in path when there is no file. */
		if (rc == 1 && add_dirs(c, &c->sysdirs,
		    "/lib:/usr/local/lib:/usr/lib", ":", NULL) == -1)
			return -1;
		return 0;
	}
	if ((rc = fetch_file(c, "/etc/ld.so.conf", FETCH_MAX_CONF, &text,
	    &len, NULL, 0)) == -1)
		return -1;
	if (rc == 0 && parse_ldconf(c, (char *)text, 0) == -1) {
		free(text);
		return -1;
	}
	free(text);
	/* glibc's trusted directories, Debian's multiarch first. */
	if ((tr = multiarch(c->t->arch)) != NULL) {
		snprintf(path, sizeof(path), "/lib/%s:/usr/lib/%s", tr, tr);
		if (add_dirs(c, &c->sysdirs, path, ":", NULL) == -1)
			return -1;
	}
	if (strstr(c->t->arch, "64") != NULL && add_dirs(c, &c->sysdirs,
	    "/lib64:/usr/lib64", ":", NULL) == -1)
		return -1;
	return add_dirs(c, &c->sysdirs, "/lib:/usr/lib", ":", NULL);
}

/* ---- resolving one soname ---- */

/*
 * Find soname for an object with report r (NULL: no object-specific
 * path) whose container directory is origin (NULL: not in the
 * container). 1 if not found.
 */
static int
resolve(struct fctx *c, const char *soname, const struct elf_report *r,
    const char *origin, unsigned char **data, size_t *len, char *resolved,
    size_t reslen, struct elf_report **rep)
{
	struct strv dirs = { 0 };
	struct wwerr ierr;
	char path[2048];
	size_t i;
	int rc, ret = -1;

	*data = NULL;
	*rep = NULL;
	if (strchr(soname, '/') != NULL || strcmp(soname, ".") == 0 ||
	    strcmp(soname, "..") == 0)
		return 1;
	/* glibc: RUNPATH hides RPATH; musl treats them alike. */
	if (r != NULL && r->runpath != NULL) {
		if (add_dirs(c, &dirs, r->runpath, ":", origin) == -1)
			goto done;
	} else if (r != NULL && r->rpath != NULL &&
	    add_dirs(c, &dirs, r->rpath, ":", origin) == -1)
		goto done;
	for (i = 0; i < c->sysdirs.n; i++)
		if (strv_addu(&dirs, c->sysdirs.v[i]) == -1) {
			wwerr_set(c->err, REPAIR_E_NOMEM, "out of memory");
			goto done;
		}
	for (i = 0; i < dirs.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs.v[i], soname);
		rc = fetch_file(c, path, c->max_lib, data, len, resolved,
		    reslen);
		if (rc == -1)
			goto done;
		if (rc == 1)
			continue;
		wwerr_clear(&ierr);
		if (elf_inspect_mem(resolved, *data, *len, rep, &ierr) == 0 &&
		    (*rep)->type == ET_DYN &&
		    strcmp((*rep)->arch, c->t->arch) == 0) {
			ret = 0;
			goto done;
		}
		/* Another machine or not a shared object: the loader
		 * would go on too. */
		elf_report_free(*rep);
		*rep = NULL;
		free(*data);
		*data = NULL;
	}
	ret = 1;
done:
	strv_free(&dirs);
	return ret;
}

static char *
dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		return strdup(".");
	if (sl == path)
		return strdup("/");
	return strndup(path, (size_t)(sl - path));
}

/* ---- the interpreter ---- */

static int
interp_libs(struct fctx *c, struct strv *names)
{
	struct strv q = { 0 };
	struct elf_report *r = NULL, *lr;
	unsigned char *data = NULL;
	size_t len, i, k;
	char resolved[1024], path[1024], *org = NULL;
	const char *py = c->o->python_bin;
	const char *const bins[] = { "/usr/local/bin", "/usr/bin", "/bin" };
	struct wwerr ierr;
	int rc = 1, ret = -1;

	if (py == NULL || *py == '\0')
		return 0;
	for (i = 0; i < (py[0] == '/' ? 1 : WW_ARRLEN(bins)); i++) {
		if (py[0] == '/')
			util_strlcpy(path, py, sizeof(path));
		else
			snprintf(path, sizeof(path), "%s/%s", bins[i], py);
		if ((rc = fetch_file(c, path, c->max_lib, &data, &len,
		    resolved, sizeof(resolved))) != 1)
			break;
	}
	if (rc == -1)
		return -1;
	if (rc == 1)
		return 0;	/* none: nothing counts as its own */
	wwerr_clear(&ierr);
	if (elf_inspect_mem(resolved, data, len, &r, &ierr) == -1) {
		free(data);
		return 0;	/* a script or wrapper: no ELF needs */
	}
	free(data);
	data = NULL;
	/* Breadth first through what it loads, a few levels deep. */
	for (i = 0; i < r->nneeded; i++)
		if (strv_addu(&q, r->needed[i]) == -1)
			goto nomem;
	if ((org = dir_of(resolved)) == NULL)
		goto nomem;
	for (i = 0; i < q.n && i < FETCH_MAX_INTERP; i++) {
		const char *n = q.v[i];
		char why[256];

		if (strv_addu(names, n) == -1)
			goto nomem;
		/* Never read the C library itself. */
		if (repair_refusal(&(struct repair_target){ c->t->db,
		    c->t->arch, c->t->libc, c->t->musl_minor, NULL }, n, why,
		    sizeof(why)) && strncmp(n, "libpython", 9) != 0)
			continue;
		rc = resolve(c, n, r, org, &data, &len, resolved,
		    sizeof(resolved), &lr);
		if (rc == -1)
			goto done;
		if (rc == 1)
			continue;
		free(data);
		data = NULL;
		for (k = 0; k < lr->nneeded && q.n < FETCH_MAX_INTERP; k++)
			if (strv_addu(&q, lr->needed[k]) == -1) {
				elf_report_free(lr);
				goto nomem;
			}
		elf_report_free(lr);
	}
	ret = 0;
	goto done;
nomem:
	wwerr_set(c->err, REPAIR_E_NOMEM, "out of memory");
done:
	free(data);
	free(org);
	elf_report_free(r);
	strv_free(&q);
	return ret;
}

/* ---- the closure ---- */

static int
satisfied_in_wheel(struct elf_report *const *elfs, size_t nelfs,
    const char *soname)
{
	size_t i;
	const char *b;

	for (i = 0; i < nelfs; i++) {
		b = strrchr(elfs[i]->path, '/');
		b = b ? b + 1 : elfs[i]->path;
		if ((elfs[i]->soname && strcmp(elfs[i]->soname, soname) == 0) ||
		    strcmp(b, soname) == 0)
			return 1;
	}
	return 0;
}

static int
add_lib(struct fctx *c, const char *soname, const char *origin,
    unsigned char *data, size_t len)
{
	struct repair_fetched *f = c->out;
	struct repair_lib *nl;

	if (f->nlibs == c->libs_alloc) {
		size_t na = c->libs_alloc ? c->libs_alloc * 2 : 8;

		if ((nl = realloc(f->libs, na * sizeof(*nl))) == NULL)
			return -1;
		f->libs = nl;
		c->libs_alloc = na;
	}
	nl = &f->libs[f->nlibs];
	memset(nl, 0, sizeof(*nl));
	if ((nl->soname = strdup(soname)) == NULL)
		return -1;
	if ((nl->origin = strdup(origin)) == NULL) {
		free((char *)nl->soname);
		return -1;
	}
	nl->data = data;
	nl->len = len;
	f->nlibs++;
	return 0;
}

int
repair_fetch(struct engine *e, const char *cid,
    const struct repair_target *t, struct elf_report *const *elfs,
    size_t nelfs, const struct repair_fetch_opts *o,
    struct repair_fetched **out, struct wwerr *err)
{
	struct fctx c;
	struct repair_target tt;
	struct policy_result pr;
	struct strv queue = { 0 }, interp = { 0 }, missing = { 0 };
	struct strv wheeldirs = { 0 };
	struct buf sp;
	struct elf_report *rep = NULL;
	unsigned char *data = NULL;
	const struct elf_report *from;
	char resolved[1024], why[512], **needs = NULL, *org = NULL;
	size_t len, nneeds, i, k;
	int rc, ret = -1;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	memset(&pr, 0, sizeof(pr));
	buf_init(&sp, 64 * 1024);
	c.e = e;
	c.cid = cid;
	c.t = t;
	c.o = o;
	c.err = err;
	c.max_lib = o->max_lib ? o->max_lib : 256ULL << 20;
	c.max_total = o->max_total ? o->max_total : 1ULL << 30;
	if ((c.out = calloc(1, sizeof(*c.out))) == NULL)
		goto nomem;

	if (system_dirs(&c) == -1 || interp_libs(&c, &interp) == -1)
		goto done;
	tt = *t;
	tt.interp_libs = (const char *const *)interp.v;

	/* The wheel's own absolute RPATH/RUNPATH entries come first for the
	 * libraries it needs directly. */
	for (i = 0; i < nelfs; i++) {
		const char *rp = elfs[i]->runpath ? elfs[i]->runpath :
		    elfs[i]->rpath;

		if (rp != NULL && add_dirs(&c, &wheeldirs, rp, ":", NULL) ==
		    -1)
			goto done;
	}
	if (policy_evaluate_target(t->db, elfs, nelfs, t->arch, t->libc,
	    t->musl_minor, &pr, err) == -1)
		goto done;
	for (i = 0; i < pr.nexternal_libs; i++)
		if (strv_addu(&queue, pr.external_libs[i]) == -1)
			goto nomem;

	for (i = 0; i < queue.n; i++) {
		const char *name = queue.v[i];
		struct elf_report fake;

		if (i >= FETCH_MAX_LIBS) {
			wwerr_set(err, REPAIR_E_ARGS, "more than %d libraries "
			    "to bundle", FETCH_MAX_LIBS);
			goto done;
		}
		/* Refused names are not fetched: repair says why. */
		if (repair_refusal(&tt, name, why, sizeof(why)))
			continue;
		/* Who needs it decides the first directories searched. */
		from = NULL;
		free(org);
		org = NULL;
		memset(&fake, 0, sizeof(fake));
		if (i < pr.nexternal_libs && wheeldirs.n > 0) {
			struct buf rp;

			buf_init(&rp, 64 * 1024);
			for (k = 0; k < wheeldirs.n; k++)
				if (buf_printf(&rp, "%s%s", k ? ":" : "",
				    wheeldirs.v[k]) == -1)
					break;
			fake.runpath = buf_steal(&rp);
			from = &fake;
		} else if (i >= pr.nexternal_libs) {
			/* A dependency of a fetched library: search its
			 * RUNPATH with $ORIGIN = its directory. The first
			 * fetched library that needs it is the one. */
			for (k = 0; k < c.out->nlibs && from == NULL; k++) {
				struct elf_report *lr = NULL;
				struct wwerr ierr;
				size_t j;

				wwerr_clear(&ierr);
				if (elf_inspect_mem("x", c.out->libs[k].data,
				    c.out->libs[k].len, &lr, &ierr) == -1)
					continue;
				for (j = 0; j < lr->nneeded; j++)
					if (strcmp(lr->needed[j], name) == 0)
						break;
				if (j < lr->nneeded && (lr->runpath ||
				    lr->rpath)) {
					fake.runpath = strdup(lr->runpath ?
					    lr->runpath : lr->rpath);
					org = dir_of(c.out->libs[k].origin);
					if (fake.runpath == NULL || org == NULL) {
						free(fake.runpath);
						elf_report_free(lr);
						goto nomem;
					}
					from = &fake;
				}
				elf_report_free(lr);
			}
		}
		rc = resolve(&c, name, from, org, &data, &len, resolved,
		    sizeof(resolved), &rep);
		free(fake.runpath);
		if (rc == -1)
			goto done;
		if (rc == 1) {
			if (strv_addu(&missing, name) == -1)
				goto nomem;
			continue;
		}
		elf_report_free(rep);
		rep = NULL;
		c.total += len;
		if (c.total > c.max_total) {
			wwerr_set(err, REPAIR_E_ARGS, "the libraries to bundle "
			    "exceed %llu bytes (at %s)",
			    (unsigned long long)c.max_total, resolved);
			goto done;
		}
		if (add_lib(&c, name, resolved, data, len) == -1)
			goto nomem;
		data = NULL;
		if (repair_lib_needs(&tt, name, c.out->libs[c.out->nlibs - 1].data,
		    len, &needs, &nneeds, err) == -1) {
			wwerr_prefix(err, "%s (%s)", name, resolved);
			goto done;
		}
		for (k = 0; k < nneeds; k++)
			if (!satisfied_in_wheel(elfs, nelfs, needs[k]) &&
			    strv_addu(&queue, needs[k]) == -1)
				goto nomem;
		repair_strv_free(needs);
		needs = NULL;
	}

	for (i = 0; i < c.sysdirs.n; i++)
		if (buf_printf(&sp, "%s%s", i ? ":" : "", c.sysdirs.v[i]) == -1)
			break;
	if ((c.out->search = buf_steal(&sp)) == NULL)
		goto nomem;
	if (interp.v == NULL && (interp.v = calloc(1, sizeof(char *))) == NULL)
		goto nomem;
	c.out->interp_libs = interp.v;
	memset(&interp, 0, sizeof(interp));
	if (missing.v == NULL && (missing.v = calloc(1, sizeof(char *))) ==
	    NULL)
		goto nomem;
	c.out->missing = missing.v;
	c.out->nmissing = missing.n;
	memset(&missing, 0, sizeof(missing));
	*out = c.out;
	c.out = NULL;
	ret = 0;
	goto done;
nomem:
	wwerr_set(err, REPAIR_E_NOMEM, "out of memory");
done:
	repair_fetched_free(c.out);
	repair_strv_free(needs);
	free(data);
	free(org);
	elf_report_free(rep);
	policy_result_free(&pr);
	strv_free(&queue);
	strv_free(&interp);
	strv_free(&missing);
	strv_free(&wheeldirs);
	strv_free(&c.sysdirs);
	buf_free(&sp);
	return ret;
}

void
repair_fetched_free(struct repair_fetched *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nlibs; i++) {
		free((char *)f->libs[i].soname);
		free((char *)f->libs[i].origin);
		free((void *)f->libs[i].data);
	}
	free(f->libs);
	repair_strv_free(f->interp_libs);
	repair_strv_free(f->missing);
	free(f->search);
	free(f);
}

int
repair_container(struct engine *e, const char *cid, const char *wheel,
    const char *outdir, const struct repair_target *t,
    struct elf_report *const *elfs, size_t nelfs,
    const struct repair_fetch_opts *fo, const char *build,
    const struct limits *lim, struct repair_result *out, struct wwerr *err)
{
	struct repair_fetched *f = NULL;
	struct repair_target tt;
	struct repair_opts ro;
	int ret;

	memset(out, 0, sizeof(*out));
	if (repair_fetch(e, cid, t, elfs, nelfs, fo, &f, err) == -1)
		return -1;
	tt = *t;
	tt.interp_libs = (const char *const *)f->interp_libs;
	memset(&ro, 0, sizeof(ro));
	ro.target = &tt;
	ro.libs = f->libs;
	ro.nlibs = f->nlibs;
	ro.build = build;
	ret = repair_wheel(wheel, outdir, &ro, lim, out, err);
	if (ret == -1 && err->code == REPAIR_E_MISSING) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n, " (searched %s)",
		    f->search);
	}
	repair_fetched_free(f);
	return ret;
}
