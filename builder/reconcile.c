/*
 * reconcile.c: requirement list x targets -> build jobs (see reconcile.h).
 * The catalog is consulted first and once per project, so a pass in
 * which nothing changed costs a few SQLite reads per project and no
 * network; upstream pages are fetched at most once per project per pass
 * and through the upstream cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "jobs.h"
#include "log.h"
#include "name.h"
#include "reconcile.h"
#include "requirement.h"
#include "specifier.h"
#include "tags.h"
#include "upstream.h"
#include "util.h"
#include "version.h"
#include "wheelname.h"

#define DETAIL_MAX	512

static const char *const action_names[RECON__NACTIONS] = {
	"skip_marker", "satisfied", "job_exists", "enqueued", "no_candidate",
	"not_found", "upstream_error", "unsupported"
};

const char *
reconcile_action_name(enum reconcile_action a)
{
	if ((int)a < 0 || a >= RECON__NACTIONS)
		return NULL;
	return action_names[a];
}

/*
 * The tags a target accepts, as a hash set of "python-abi-platform"
 * (lowercase): deciding whether a wheel installs is then a few lookups
 * instead of a scan of the hundreds of tags a manylinux target accepts,
 * which is what keeps a no-op pass fast.
 */
struct tagindex {
	char	**keys;
	size_t	  cap;		/* power of two */
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int
tag_key(const char *py, const char *abi, const char *plat, char *out,
    size_t outlen)
{
	size_t i;

	if ((size_t)snprintf(out, outlen, "%s-%s-%s", py, abi, plat) >= outlen)
		return -1;
	for (i = 0; out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	return 0;
}

static void
tagindex_free(struct tagindex *ti)
{
	size_t i;

	for (i = 0; ti->keys != NULL && i < ti->cap; i++)
		free(ti->keys[i]);
	free(ti->keys);
	memset(ti, 0, sizeof(*ti));
}

static int
tagindex_build(const struct tagset *ts, struct tagindex *ti)
{
	char key[TAG_PART_MAX * 5];
	size_t i, h;

	ti->cap = 16;
	while (ti->cap < ts->ntags * 2)
		ti->cap *= 2;
	if ((ti->keys = calloc(ti->cap, sizeof(*ti->keys))) == NULL)
		return -1;
	for (i = 0; i < ts->ntags; i++) {
		if (tag_key(ts->tags[i].python, ts->tags[i].abi,
		    ts->tags[i].platform, key, sizeof(key)) == -1)
			continue;
		for (h = fnv1a(key) & (ti->cap - 1); ti->keys[h] != NULL;
		    h = (h + 1) & (ti->cap - 1))
			if (!strcmp(ti->keys[h], key))
				break;
		if (ti->keys[h] == NULL && (ti->keys[h] = strdup(key)) == NULL)
			return -1;
	}
	return 0;
}

static int
tagindex_has(const struct tagindex *ti, const char *key)
{
	size_t h;

	for (h = fnv1a(key) & (ti->cap - 1); ti->keys[h] != NULL;
	    h = (h + 1) & (ti->cap - 1))
		if (!strcmp(ti->keys[h], key))
			return 1;
	return 0;
}

/* Does any tag of a (compressed) wheel tag triple install on ti's target? */
static int
tags_install(const struct tagindex *ti, const char *py, const char *abi,
    const char *plat)
{
	struct tagset ts;
	char key[TAG_PART_MAX * 5];
	size_t i;
	int ok = 0;

	if (tagset_expand(py, abi, plat, &ts, NULL) == -1)
		return 0;
	for (i = 0; i < ts.ntags && !ok; i++)
		ok = tag_key(ts.tags[i].python, ts.tags[i].abi,
		    ts.tags[i].platform, key, sizeof(key)) == 0 &&
		    tagindex_has(ti, key);
	tagset_free(&ts);
	return ok;
}

/* One configured target, prepared once per pass. */
struct rtarget {
	const struct config_target *ct;
	struct target_env	 env;
	struct tagset		 supported;
	struct tagindex		 index;		/* supported, hashed */
	struct marker_env	 menv;
	struct marker_env_storage mst;
	struct version		*python;	/* full version, for Requires-Python */
};

/* A wheel of the project in the catalog. */
struct cwheel {
	struct version	*version;
	char		*vstr;
	char		*filename;
	char		*python, *abi, *platform;
	struct specset	*requires_python;	/* NULL: none or unparsable */
	int		 yanked;
	char		**keys;		/* expanded tags, as tag_key() */
	size_t		 nkeys;
};

struct cwheels {
	struct cwheel	*w;
	size_t		 n, alloc;
	int		 failed;
};

/* All lines (requirements and constraints) naming one project. */
struct rproject {
	char		 name[NAME_MAX_LEN + 1];
	const struct reqfile_entry **reqs;
	size_t		 nreqs;
	const struct reqfile_entry **cons;
	size_t		 ncons;
	int		 pre;		/* --pre in the file of a line */
};

int
reconcile_target_env(const struct config_target *t, struct target_env *env,
    struct wwerr *err)
{
	int a, b, c, n = 0;

	memset(env, 0, sizeof(*env));
	if (sscanf(t->python, "%d.%d.%d%n", &a, &b, &c, &n) != 3 ||
	    t->python[n] != '\0')
		return wwerr_set(err, RECONCILE_E_ARG, "[target %s]: python "
		    "\"%s\" is not X.Y.Z", t->name, t->python);
	env->py_major = a;
	env->py_minor = b;
	env->interpreter = "cp";
	env->arch = t->arch;
	if (!strcmp(t->policy, "musllinux")) {
		env->libc = LIBC_MUSL;
		env->libc_major = 1;
		env->libc_minor = 2;
	} else if (!strcmp(t->policy, "manylinux")) {
		env->libc = LIBC_GLIBC;
		env->libc_major = 2;
		env->libc_minor = 36;
	} else
		return wwerr_set(err, RECONCILE_E_ARG, "[target %s]: policy "
		    "\"%s\" is not manylinux or musllinux", t->name, t->policy);
	if (t->libc[0] != '\0') {
		if (sscanf(t->libc, "%d.%d%n", &a, &b, &n) != 2 ||
		    t->libc[n] != '\0')
			return wwerr_set(err, RECONCILE_E_ARG, "[target %s]: "
			    "libc \"%s\" is not X.Y", t->name, t->libc);
		env->libc_major = a;
		env->libc_minor = b;
	}
	return 0;
}

static void
rtargets_free(struct rtarget *rt, size_t n)
{
	size_t i;

	for (i = 0; rt != NULL && i < n; i++) {
		tagset_free(&rt[i].supported);
		tagindex_free(&rt[i].index);
		version_free(rt[i].python);
	}
	free(rt);
}

static int
rtargets_init(const struct config *conf, const struct reconcile_opts *o,
    struct rtarget **out, size_t *nout, struct wwerr *err)
{
	struct rtarget *rt;
	const struct config_target *ct;
	size_t i, n = 0, want;

	*out = NULL;
	*nout = 0;
	want = o->targets ? o->ntargets : conf->ntargets;
	if (want == 0)
		return 0;
	if ((rt = calloc(want, sizeof(*rt))) == NULL)
		return wwerr_set(err, RECONCILE_E_NOMEM, "out of memory");
	for (i = 0; i < want; i++) {
		ct = o->targets ? config_target(conf, o->targets[i]) :
		    &conf->targets[i];
		if (ct == NULL) {
			wwerr_set(err, RECONCILE_E_ARG, "no target \"%s\" in "
			    "the configuration", o->targets[i]);
			goto fail;
		}
		rt[n].ct = ct;
		if (reconcile_target_env(ct, &rt[n].env, err) == -1)
			goto fail;
		if (tags_supported(&rt[n].env, &rt[n].supported) == -1) {
			wwerr_set(err, RECONCILE_E_ARG, "[target %s]: no "
			    "compatible tags for python %s on %s %s", ct->name,
			    ct->python, ct->policy, ct->arch);
			goto fail;
		}
		if (tagindex_build(&rt[n].supported, &rt[n].index) == -1) {
			wwerr_set(err, RECONCILE_E_NOMEM, "out of memory");
			goto fail;
		}
		if (version_parse(ct->python, &rt[n].python) == -1) {
			wwerr_set(err, RECONCILE_E_ARG, "[target %s]: python "
			    "\"%s\" is not a version", ct->name, ct->python);
			goto fail;
		}
		marker_env_linux(&rt[n].menv, &rt[n].mst, ct->python, ct->arch);
		n++;
	}
	*out = rt;
	*nout = n;
	return 0;
fail:
	rtargets_free(rt, n + 1);
	return -1;
}

/* --- catalog wheels ------------------------------------------------------ */

static void
cwheels_free(struct cwheels *cw)
{
	size_t i, k;

	for (i = 0; i < cw->n; i++) {
		version_free(cw->w[i].version);
		free(cw->w[i].vstr);
		free(cw->w[i].filename);
		free(cw->w[i].python);
		free(cw->w[i].abi);
		free(cw->w[i].platform);
		specset_free(cw->w[i].requires_python);
		for (k = 0; k < cw->w[i].nkeys; k++)
			free(cw->w[i].keys[k]);
		free(cw->w[i].keys);
	}
	free(cw->w);
	memset(cw, 0, sizeof(*cw));
}

static int
cwheel_cb(const struct catalog_file *f, void *arg)
{
	struct cwheels *cw = arg;
	struct cwheel *w, *nw;
	struct tagset ts;
	char key[TAG_PART_MAX * 5];
	size_t i;

	if (f->kind != 'w' || f->python_tag == NULL || f->abi_tag == NULL ||
	    f->platform_tag == NULL)
		return 0;
	if (cw->n == cw->alloc) {
		size_t na = cw->alloc ? cw->alloc * 2 : 8;
		if ((nw = realloc(cw->w, na * sizeof(*nw))) == NULL) {
			cw->failed = 1;
			return 1;
		}
		cw->w = nw;
		cw->alloc = na;
	}
	w = &cw->w[cw->n];
	memset(w, 0, sizeof(*w));
	if (version_parse(f->version, &w->version) == -1)
		return 0;	/* cannot match any requirement */
	w->vstr = strdup(f->version);
	w->filename = strdup(f->filename);
	w->python = strdup(f->python_tag);
	w->abi = strdup(f->abi_tag);
	w->platform = strdup(f->platform_tag);
	w->yanked = f->yanked;
	if (f->requires_python != NULL && *f->requires_python != '\0')
		(void)specset_parse(f->requires_python, &w->requires_python,
		    NULL);
	cw->n++;
	if (w->vstr == NULL || w->filename == NULL || w->python == NULL ||
	    w->abi == NULL || w->platform == NULL) {
		cw->failed = 1;
		return 1;
	}
	/* Expanded once here, looked up per target. */
	if (tagset_expand(w->python, w->abi, w->platform, &ts, NULL) == 0) {
		if ((w->keys = calloc(ts.ntags ? ts.ntags : 1,
		    sizeof(*w->keys))) == NULL) {
			tagset_free(&ts);
			cw->failed = 1;
			return 1;
		}
		for (i = 0; i < ts.ntags; i++) {
			if (tag_key(ts.tags[i].python, ts.tags[i].abi,
			    ts.tags[i].platform, key, sizeof(key)) == -1)
				continue;
			if ((w->keys[w->nkeys] = strdup(key)) == NULL) {
				tagset_free(&ts);
				cw->failed = 1;
				return 1;
			}
			w->nkeys++;
		}
		tagset_free(&ts);
	}
	return 0;
}

/*
 * A catalog wheel of version v that installs on target t; NULL if none.
 * Yanked wheels count: they are ours, and pip installs them for an exact
 * pin; replacing one is `indexctl rebuild`'s job.
 */
static const struct cwheel *
catalog_has(const struct cwheels *cw, const struct version *v,
    const struct rtarget *t)
{
	const struct cwheel *best = NULL;
	size_t i, k;

	for (i = 0; i < cw->n; i++) {
		const struct cwheel *w = &cw->w[i];
		if (version_cmp(w->version, v) != 0)
			continue;
		if (w->requires_python != NULL && !specset_contains(
		    w->requires_python, t->python, SPEC_PRE_ALLOW))
			continue;
		for (k = 0; k < w->nkeys; k++)
			if (tagindex_has(&t->index, w->keys[k]))
				break;
		if (k == w->nkeys)
			continue;
		if (best == NULL || (best->yanked && !w->yanked))
			best = w;
	}
	return best;
}

/* --- requirements ---------------------------------------------------------- */

static void
rprojects_free(struct rproject *p, size_t n)
{
	size_t i;

	for (i = 0; p != NULL && i < n; i++) {
		free(p[i].reqs);
		free(p[i].cons);
	}
	free(p);
}

static int
push_entry(const struct reqfile_entry ***arr, size_t *n,
    const struct reqfile_entry *e)
{
	const struct reqfile_entry **na;

	if ((na = realloc(*arr, (*n + 1) * sizeof(*na))) == NULL)
		return -1;
	na[(*n)++] = e;
	*arr = na;
	return 0;
}

/*
 * Group every line by project, in the order projects first appear as
 * requirements. Projects that appear only as constraints are not built.
 * A hash of names keeps this linear for long lists.
 */
static int
rprojects_build(const struct reqfile *const *rfs, size_t nrf,
    struct rproject **out, size_t *nout)
{
	struct rproject *p = NULL, *np;
	size_t *slot = NULL, cap = 64, total = 0, n = 0, alloc = 0, f, i, h, k;
	int pass;

	for (f = 0; f < nrf; f++)
		total += rfs[f]->nentries;
	while (cap < total * 2)
		cap *= 2;
	/* slot[h] is project index + 1, 0 when free. */
	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return -1;
	/* Pass 0 creates projects from requirements, pass 1 attaches
	 * constraints to them. */
	for (pass = 0; pass < 2; pass++)
		for (f = 0; f < nrf; f++)
			for (i = 0; i < rfs[f]->nentries; i++) {
				const struct reqfile_entry *e =
				    &rfs[f]->entries[i];
				const char *name = e->req->normalized;

				if (e->constraint != pass)
					continue;
				for (h = fnv1a(name) & (cap - 1); slot[h] != 0 &&
				    strcmp(p[slot[h] - 1].name, name) != 0;
				    h = (h + 1) & (cap - 1))
					;
				if (slot[h] == 0) {
					if (pass == 1)
						continue;
					if (n == alloc) {
						alloc = alloc ? alloc * 2 : 64;
						np = realloc(p, alloc *
						    sizeof(*np));
						if (np == NULL)
							goto nomem;
						p = np;
					}
					memset(&p[n], 0, sizeof(p[n]));
					util_strlcpy(p[n].name, name,
					    sizeof(p[n].name));
					slot[h] = ++n;
				}
				k = slot[h] - 1;
				if (rfs[f]->pre)
					p[k].pre = 1;
				if (push_entry(pass ? &p[k].cons : &p[k].reqs,
				    pass ? &p[k].ncons : &p[k].nreqs, e) == -1)
					goto nomem;
			}
	free(slot);
	*out = p;
	*nout = n;
	return 0;
nomem:
	free(slot);
	rprojects_free(p, n);
	return -1;
}

/*
 * The version an exact pin names ("==1.2" but not "==1.*"; "===1.2"), or
 * NULL. Read from the canonical specifier text, which lists each
 * specifier as operator + version joined by ','.
 */
static int
exact_pin(const struct specset *ss, char *out, size_t outlen, int *arbitrary)
{
	const char *s = specset_str(ss), *end;
	size_t len;

	while (s != NULL && *s != '\0') {
		end = strchr(s, ',');
		len = end ? (size_t)(end - s) : strlen(s);
		if (len > 3 && !strncmp(s, "===", 3)) {
			if (len - 3 >= outlen)
				return -1;
			memcpy(out, s + 3, len - 3);
			out[len - 3] = '\0';
			*arbitrary = 1;
			return 0;
		}
		if (len > 2 && !strncmp(s, "==", 2) && s[len - 1] != '*') {
			if (len - 2 >= outlen)
				return -1;
			memcpy(out, s + 2, len - 2);
			out[len - 2] = '\0';
			*arbitrary = 0;
			return 0;
		}
		s = end ? end + 1 : NULL;
	}
	return -1;
}

/* Lines of project p that apply on target t. */
struct applicable {
	const struct reqfile_entry *first;
	const struct specset	*specs[256];
	size_t			 nspecs;
	int			 pre;		/* pre-releases allowed */
	int			 url;		/* a "name @ url" line */
	const char		*pin;		/* exact pin, or NULL */
	char			 pinbuf[VERSION_STR_MAX];
	int			 pin_arbitrary;	/* "===" */
	char		*const	*hashes[64];	/* sha256:<hex> lists */
	size_t			 nhashes[64];
	size_t			 nhashsets;
};

static void
applicable(const struct rproject *p, const struct rtarget *t,
    struct applicable *a)
{
	const struct reqfile_entry *e;
	size_t i, pass;

	memset(a, 0, sizeof(*a));
	a->pre = p->pre;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < (pass ? p->ncons : p->nreqs); i++) {
			e = pass ? p->cons[i] : p->reqs[i];
			if (!requirement_applies(e->req, &t->menv))
				continue;
			if (pass == 0 && a->first == NULL)
				a->first = e;
			if (e->req->url != NULL && pass == 0)
				a->url = 1;
			if (a->nspecs < WW_ARRLEN(a->specs))
				a->specs[a->nspecs++] = e->req->spec;
			if (specset_mentions_prerelease(e->req->spec))
				a->pre = 1;
			if (a->pin == NULL && exact_pin(e->req->spec, a->pinbuf,
			    sizeof(a->pinbuf), &a->pin_arbitrary) == 0)
				a->pin = a->pinbuf;
			if (e->nhashes > 0 && a->nhashsets < WW_ARRLEN(a->hashes)) {
				a->hashes[a->nhashsets] = e->hashes;
				a->nhashes[a->nhashsets++] = e->nhashes;
			}
		}
}

static int
all_contain(const struct applicable *a, const struct version *v, int pre)
{
	size_t i;

	for (i = 0; i < a->nspecs; i++)
		if (!specset_contains(a->specs[i], v, pre ? SPEC_PRE_ALLOW :
		    SPEC_PRE_DENY))
			return 0;
	return 1;
}

/* With --hash lines, the file's sha256 must be in every hash set. */
static int
hash_ok(const struct applicable *a, const char *sha256)
{
	size_t s, i, nsha;
	int found;

	for (s = 0; s < a->nhashsets; s++) {
		found = 0;
		nsha = 0;
		for (i = 0; i < a->nhashes[s]; i++) {
			if (strncmp(a->hashes[s][i], "sha256:", 7) != 0)
				continue;
			nsha++;
			if (sha256[0] != '\0' &&
			    !strcmp(a->hashes[s][i] + 7, sha256))
				found = 1;
		}
		/* Only sha384/512 given: the index cannot tell; the build
		 * checks the download. */
		if (nsha > 0 && !found)
			return 0;
	}
	return 1;
}

/* --- choosing a release ------------------------------------------------ */

struct vgroup {
	struct version	*v;
	size_t		*files;		/* indexes into page->files */
	size_t		 nfiles;
};

struct vfile {
	struct version	*v;
	size_t		 idx;
};

static int
vfile_cmp(const void *x, const void *y)
{
	const struct vfile *a = x, *b = y;
	int c = version_cmp(b->v, a->v);	/* newest first */

	if (c == 0)
		c = strcmp(version_str(a->v), version_str(b->v));
	if (c == 0)
		c = a->idx < b->idx ? -1 : a->idx > b->idx;
	return c;
}

static void
vgroups_free(struct vgroup *g, size_t n)
{
	size_t i;

	for (i = 0; g != NULL && i < n; i++) {
		version_free(g[i].v);
		free(g[i].files);
	}
	free(g);
}

/*
 * Group a page's files by release, newest first: sort once, then cut
 * runs of equal versions (O(n log n); big projects list thousands).
 */
static int
vgroups_build(const struct upstream_page *pg, struct vgroup **out,
    size_t *nout)
{
	struct vfile *vf;
	struct vgroup *g = NULL;
	size_t nv = 0, n = 0, i, j;

	*out = NULL;
	*nout = 0;
	if (pg->nfiles == 0)
		return 0;
	if ((vf = calloc(pg->nfiles, sizeof(*vf))) == NULL)
		return -1;
	for (i = 0; i < pg->nfiles; i++)
		if (version_parse(pg->files[i].version, &vf[nv].v) == 0)
			vf[nv++].idx = i;
	qsort(vf, nv, sizeof(*vf), vfile_cmp);
	if (nv > 0 && (g = calloc(nv, sizeof(*g))) == NULL)
		goto nomem;
	for (i = 0; i < nv; i = j) {
		for (j = i + 1; j < nv && version_cmp(vf[i].v, vf[j].v) == 0 &&
		    !strcmp(version_str(vf[i].v), version_str(vf[j].v)); j++)
			;
		if ((g[n].files = calloc(j - i, sizeof(size_t))) == NULL)
			goto nomem;
		g[n].v = vf[i].v;
		vf[i].v = NULL;
		for (; i < j; i++) {
			g[n].files[g[n].nfiles++] = vf[i].idx;
			version_free(vf[i].v);
			vf[i].v = NULL;
		}
		n++;
	}
	free(vf);
	*out = g;
	*nout = n;
	return 0;
nomem:
	for (i = 0; i < nv; i++)
		version_free(vf[i].v);
	free(vf);
	vgroups_free(g, n);
	return -1;
}

/* Does f admit the target's Python? Unparsable specifiers are ignored,
 * as pip ignores them. */
static int
python_ok(const struct upstream_file *f, const struct rtarget *t)
{
	struct specset *ss;
	int ok;

	if (f->requires_python == NULL)
		return 1;
	if (specset_parse(f->requires_python, &ss, NULL) == -1)
		return 1;
	ok = specset_contains(ss, t->python, SPEC_PRE_ALLOW);
	specset_free(ss);
	return ok;
}

static int
wheel_installs(const struct upstream_file *f, const struct rtarget *t)
{
	struct wheelname wn;

	if (wheelname_parse(f->filename, &wn, NULL) == -1)
		return 0;
	return tags_install(&t->index, wn.python, wn.abi, wn.platform);
}

/*
 * The newest release on the page that fits. Returns its group index or
 * -1, with a reason in detail.
 */
static int
choose(const struct upstream_page *pg, const struct vgroup *g, size_t ng,
    const struct applicable *a, const struct rtarget *t, char *detail,
    size_t dlen)
{
	size_t i, k;
	size_t n_spec = 0, n_yanked = 0, n_python = 0, n_dist = 0, n_hash = 0;
	int yank_ok, usable, saw_unyanked, saw_python, saw_dist;

	for (i = 0; i < ng; i++) {
		if (!all_contain(a, g[i].v, a->pre))
			continue;
		n_spec++;
		/* PEP 592: yanked files count only for an exact pin. */
		yank_ok = a->pin != NULL;
		usable = saw_unyanked = saw_python = saw_dist = 0;
		for (k = 0; k < g[i].nfiles && !usable; k++) {
			const struct upstream_file *f = &pg->files[g[i].files[k]];
			if (f->yanked && !yank_ok)
				continue;
			saw_unyanked = 1;
			if (!python_ok(f, t))
				continue;
			saw_python = 1;
			if (f->kind != 's' && !wheel_installs(f, t))
				continue;
			saw_dist = 1;
			if (!hash_ok(a, f->sha256))
				continue;
			usable = 1;
		}
		if (usable)
			return (int)i;
		if (!saw_unyanked)
			n_yanked++;
		else if (!saw_python)
			n_python++;
		else if (!saw_dist)
			n_dist++;
		else
			n_hash++;
	}
	if (ng == 0)
		snprintf(detail, dlen, "the index lists no wheels or sdists");
	else if (n_spec == 0)
		snprintf(detail, dlen, "none of %zu releases matches the "
		    "specifiers%s", ng, a->pre ? "" :
		    " (pre-releases excluded)");
	else
		snprintf(detail, dlen, "%zu releases match the specifiers: "
		    "%zu yanked, %zu need another Python than %s, %zu have no "
		    "sdist or wheel for %s, %zu fail the --hash pins", n_spec,
		    n_yanked, n_python, t->ct->python, n_dist, t->ct->name,
		    n_hash);
	return -1;
}

/* --- the pass ------------------------------------------------------------ */

struct pstate {
	const struct rproject	*p;
	struct cwheels		 cw;
	int			 cw_loaded;
	struct upstream_page	*page;
	struct vgroup		*groups;
	size_t			 ngroups;
	int			 page_rc;	/* 0, 1 not found, -1 error */
	int			 page_tried;
	char			 page_err[DETAIL_MAX];
};

static void
pstate_clear(struct pstate *ps)
{
	cwheels_free(&ps->cw);
	upstream_page_free(ps->page);
	vgroups_free(ps->groups, ps->ngroups);
	memset(ps, 0, sizeof(*ps));
}

static void
emit(reconcile_cb cb, void *arg, struct reconcile_stats *st,
    const struct rproject *p, const struct applicable *a,
    const struct rtarget *t, enum reconcile_action act, const char *version,
    int64_t job, const char *detail)
{
	struct reconcile_item it;
	const struct reqfile_entry *e = a->first ? a->first : p->reqs[0];

	st->items++;
	st->by_action[act]++;
	if (cb == NULL)
		return;
	memset(&it, 0, sizeof(it));
	it.project = p->name;
	it.requirement = e->req->text;
	it.file = e->file;
	it.line = e->line;
	it.target = t->ct->name;
	it.action = act;
	it.version = version;
	it.job_id = job;
	it.detail = detail ? detail : "";
	cb(&it, arg);
}

static int
load_page(struct upstream_set *ups, struct pstate *ps,
    const struct reconcile_opts *o, struct reconcile_stats *st)
{
	struct wwerr e;
	int flags = o->upstream_flags | (o->offline ? UPSTREAM_CACHE_ONLY : 0);

	if (ps->page_tried)
		return ps->page_rc;
	ps->page_tried = 1;
	st->upstream_pages++;
	if (ups == NULL || upstream_set_count(ups) == 0) {
		snprintf(ps->page_err, sizeof(ps->page_err), "no upstream is "
		    "configured");
		return ps->page_rc = -1;
	}
	ps->page_rc = upstream_set_get_project(ups, ps->p->name, flags,
	    &ps->page, NULL, &e);
	if (ps->page_rc == -1)
		util_strlcpy(ps->page_err, e.msg, sizeof(ps->page_err));
	else if (ps->page_rc == 0 && vgroups_build(ps->page, &ps->groups,
	    &ps->ngroups) == -1) {
		snprintf(ps->page_err, sizeof(ps->page_err), "out of memory");
		ps->page_rc = -1;
	}
	return ps->page_rc;
}

static int
decide(const struct config *conf, struct catalog *cat, struct jobs *js,
    struct upstream_set *ups, struct pstate *ps, const struct rtarget *t,
    const struct reconcile_opts *o, reconcile_cb cb, void *arg,
    struct reconcile_stats *st, struct wwerr *err)
{
	const struct rproject *p = ps->p;
	const struct cwheel *w;
	struct applicable a;
	struct version *pinv = NULL;
	struct job_spec spec;
	char detail[DETAIL_MAX];
	const char *version;
	int64_t id = 0;
	int rc, i;

	applicable(p, t, &a);
	if (a.first == NULL) {
		emit(cb, arg, st, p, &a, t, RECON_SKIP_MARKER, NULL, 0,
		    "the environment marker is false on this target");
		return 0;
	}
	if (a.url) {
		emit(cb, arg, st, p, &a, t, RECON_UNSUPPORTED, NULL, 0,
		    "direct URL requirements are not built");
		return 0;
	}
	if (!ps->cw_loaded) {
		ps->cw_loaded = 1;
		if (catalog_foreach_file(cat, p->name, cwheel_cb, &ps->cw,
		    err) == -1 || ps->cw.failed) {
			if (ps->cw.failed)
				wwerr_set(err, RECONCILE_E_NOMEM, "%s: out of "
				    "memory", p->name);
			else if (err != NULL)
				err->code = RECONCILE_E_DB;
			return -1;
		}
	}

	/* The fast path: an exact pin the catalog already satisfies. */
	if (a.pin != NULL && !a.pin_arbitrary &&
	    version_parse(a.pin, &pinv) == 0) {
		if (all_contain(&a, pinv, 1) &&
		    (w = catalog_has(&ps->cw, pinv, t)) != NULL) {
			snprintf(detail, sizeof(detail), "the catalog has %s%s",
			    w->filename, w->yanked ? " (yanked)" : "");
			emit(cb, arg, st, p, &a, t, RECON_SATISFIED, w->vstr, 0,
			    detail);
			version_free(pinv);
			return 0;
		}
		version_free(pinv);
	}

	rc = load_page(ups, ps, o, st);
	if (rc == 1) {
		emit(cb, arg, st, p, &a, t, RECON_NOT_FOUND, NULL, 0,
		    "no upstream has this project");
		return 0;
	}
	if (rc == -1) {
		emit(cb, arg, st, p, &a, t, RECON_UPSTREAM_ERROR, NULL, 0,
		    ps->page_err);
		return 0;
	}
	if ((i = choose(ps->page, ps->groups, ps->ngroups, &a, t, detail,
	    sizeof(detail))) < 0) {
		emit(cb, arg, st, p, &a, t, RECON_NO_CANDIDATE, NULL, 0, detail);
		return 0;
	}
	version = version_str(ps->groups[i].v);
	if ((w = catalog_has(&ps->cw, ps->groups[i].v, t)) != NULL) {
		snprintf(detail, sizeof(detail), "the catalog has %s%s",
		    w->filename, w->yanked ? " (yanked)" : "");
		emit(cb, arg, st, p, &a, t, RECON_SATISFIED, version, 0, detail);
		return 0;
	}
	rc = jobs_release_blocked(js, p->name, version, t->ct->name, &id, err);
	if (rc == -1) {
		if (err != NULL)
			err->code = RECONCILE_E_DB;
		return -1;
	}
	if (rc == 1) {
		snprintf(detail, sizeof(detail), "job %lld covers it",
		    (long long)id);
		emit(cb, arg, st, p, &a, t, RECON_JOB_EXISTS, version, id, detail);
		return 0;
	}
	if (o->dry_run) {
		emit(cb, arg, st, p, &a, t, RECON_ENQUEUED, version, 0,
		    "would enqueue (dry run)");
		return 0;
	}
	memset(&spec, 0, sizeof(spec));
	spec.project = p->name;
	spec.requirement = a.first->req->text;
	spec.version = version;
	spec.target = t->ct->name;
	spec.max_attempts = o->max_attempts > 0 ? o->max_attempts :
	    conf->max_attempts > 0 ? conf->max_attempts : 1;
	spec.origin = o->origin ? o->origin : "reconcile";
	rc = jobs_enqueue(js, &spec, &id, err);
	if (rc == -1) {
		if (err != NULL)
			err->code = RECONCILE_E_DB;
		return -1;
	}
	snprintf(detail, sizeof(detail), "%s job %lld from %s",
	    rc == 0 ? "new" : "existing", (long long)id, ps->page->upstream);
	emit(cb, arg, st, p, &a, t, RECON_ENQUEUED, version, id, detail);
	return 0;
}

int
reconcile_run(const struct config *conf, struct catalog *cat,
    struct jobs *js, struct upstream_set *ups,
    const struct reqfile *const *rfs, size_t nrf,
    const struct reconcile_opts *opts, reconcile_cb cb, void *arg,
    struct reconcile_stats *st, struct wwerr *err)
{
	struct reconcile_opts defaults;
	struct reconcile_stats local;
	struct rproject *projects = NULL;
	struct rtarget *targets = NULL;
	struct pstate ps;
	size_t np = 0, nt = 0, i, k;
	int64_t t0 = util_now_us();
	int rc = -1;

	if (opts == NULL) {
		memset(&defaults, 0, sizeof(defaults));
		opts = &defaults;
	}
	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof(*st));
	memset(&ps, 0, sizeof(ps));
	if (rtargets_init(conf, opts, &targets, &nt, err) == -1)
		return -1;
	if (rprojects_build(rfs, nrf, &projects, &np) == -1) {
		wwerr_set(err, RECONCILE_E_NOMEM, "out of memory");
		goto done;
	}
	st->projects = np;
	for (i = 0; i < np; i++) {
		ps.p = &projects[i];
		for (k = 0; k < nt; k++)
			if (decide(conf, cat, js, ups, &ps, &targets[k], opts, cb,
			    arg, st, err) == -1) {
				wwerr_prefix(err, "reconcile %s on %s",
				    projects[i].name, targets[k].ct->name);
				pstate_clear(&ps);
				goto done;
			}
		pstate_clear(&ps);
	}
	rc = 0;
done:
	st->elapsed_us = util_now_us() - t0;
	rprojects_free(projects, np);
	rtargets_free(targets, nt);
	return rc;
}
