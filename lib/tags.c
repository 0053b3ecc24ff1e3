/*
 * tags.c: compatibility tags. tags_supported() reproduces the list that
 * packaging.tags.sys_tags() (and so pip) builds on a CPython Linux machine,
 * in the same order, so "which wheel does pip pick on that target" can be
 * answered without that machine: builderd uses it to skip targets already
 * covered, indexd to pick files per target.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tags.h"
#include "util.h"

static int
t_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static char
t_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* '.'-joined non-empty runs of [A-Za-z0-9_]; each run shorter than max. */
static int
component_ok(const char *s, size_t max)
{
	size_t run = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (run == 0)
				return 0;
			run = 0;
		} else if (t_alnum((unsigned char)*s) || *s == '_') {
			if (++run >= max)
				return 0;
		} else {
			return 0;
		}
	}
	return run > 0;
}

static size_t
count_runs(const char *s)
{
	size_t n = 1;

	for (; *s != '\0'; s++)
		if (*s == '.')
			n++;
	return n;
}

/* Copy the i-th '.' run of s, lowercased, into out (checked to fit). */
static void
nth_run(const char *s, size_t i, char *out, size_t outlen)
{
	size_t o = 0;

	for (; i > 0; s++)
		if (*s == '.')
			i--;
	for (; *s != '\0' && *s != '.' && o + 1 < outlen; s++)
		out[o++] = t_lower(*s);
	out[o] = '\0';
}

void
tagset_free(struct tagset *ts)
{
	if (ts == NULL)
		return;
	free(ts->tags);
	ts->tags = NULL;
	ts->ntags = 0;
}

int
tagset_find(const struct tagset *ts, const char *python, const char *abi,
    const char *platform)
{
	size_t i;

	if (ts == NULL || python == NULL || abi == NULL || platform == NULL)
		return -1;
	for (i = 0; i < ts->ntags && i <= INT32_MAX; i++) {
		const struct tag *t = &ts->tags[i];

		if (strcasecmp(t->platform, platform) == 0 &&
		    strcasecmp(t->abi, abi) == 0 &&
		    strcasecmp(t->python, python) == 0)
			return (int)i;
	}
	return -1;
}

int
tag_format(const struct tag *t, char *out, size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "%s-%s-%s", t->python, t->abi, t->platform);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
tagset_expand(const char *python, const char *abi, const char *platform,
    struct tagset *out, struct wwerr *err)
{
	size_t npy, nabi, nplat, total, i, j, k;
	struct tag t;

	out->tags = NULL;
	out->ntags = 0;
	if (!component_ok(python, TAG_PART_MAX) ||
	    !component_ok(abi, TAG_PART_MAX) ||
	    !component_ok(platform, TAG_PART_MAX * 2))
		return wwerr_set(err, TAGS_E_INVALID,
		    "tag set \"%.64s-%.64s-%.64s\": each part must be "
		    "'.'-separated runs of letters, digits and '_'",
		    python ? python : "", abi ? abi : "",
		    platform ? platform : "");
	npy = count_runs(python);
	nabi = count_runs(abi);
	nplat = count_runs(platform);
	/* Each count is below 128 (component length bounds it). */
	total = npy * nabi * nplat;
	if (total > TAGSET_MAX)
		return wwerr_set(err, TAGS_E_TOOMANY,
		    "tag set \"%.64s-%.64s-%.64s\" expands to %zu tags, more "
		    "than %d", python, abi, platform, total, TAGSET_MAX);
	out->tags = calloc(total, sizeof(*out->tags));
	if (out->tags == NULL)
		return wwerr_set(err, TAGS_E_NOMEM, "%s: %s", __func__,
		    strerror(errno));
	for (i = 0; i < npy; i++) {
		nth_run(python, i, t.python, sizeof(t.python));
		for (j = 0; j < nabi; j++) {
			nth_run(abi, j, t.abi, sizeof(t.abi));
			for (k = 0; k < nplat; k++) {
				nth_run(platform, k, t.platform,
				    sizeof(t.platform));
				if (tagset_find(out, t.python, t.abi,
				    t.platform) != -1)
					continue;
				out->tags[out->ntags++] = t;
			}
		}
	}
	wwerr_clear(err);
	return 0;
}

/* Platform tags. */

static const struct legacy {
	const char *name;	/* "manylinux2014" */
	int	    major, minor;
	const char *arches[8];	/* where the PEP defines it */
} legacies[] = {
	{ "manylinux1", 2, 5, { "x86_64", "i686", NULL } },
	{ "manylinux2010", 2, 12, { "x86_64", "i686", NULL } },
	{ "manylinux2014", 2, 17, { "x86_64", "i686", "aarch64", "armv7l",
	    "ppc64", "ppc64le", "s390x", NULL } },
};

/* An arch part: [a-z0-9_]+ that fits struct platform. */
static int
arch_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0 && n < sizeof(((struct platform *)0)->arch);
}

/* "X_Y_arch" with X, Y decimal without leading zeros. */
static int
parse_xy_arch(const char *s, struct platform *out)
{
	uint64_t v[2];
	char num[8];
	size_t n;
	int i;

	for (i = 0; i < 2; i++) {
		for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
			;
		if (n == 0 || n >= sizeof(num) || s[n] != '_' ||
		    (n > 1 && s[0] == '0'))
			return -1;
		memcpy(num, s, n);
		num[n] = '\0';
		if (util_parse_u64(num, 999999, &v[i]) == -1)
			return -1;
		s += n + 1;
	}
	if (!arch_ok(s))
		return -1;
	out->major = (int)v[0];
	out->minor = (int)v[1];
	util_strlcpy(out->arch, s, sizeof(out->arch));
	return 0;
}

int
platform_parse(const char *tag, struct platform *out)
{
	char buf[TAG_PART_MAX * 2];
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (tag == NULL)
		return -1;
	n = strnlen(tag, sizeof(buf));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (i = 0; i <= n; i++) {
		buf[i] = t_lower(tag[i]);
		if (i < n && !t_alnum((unsigned char)tag[i]) && tag[i] != '_')
			return -1;
	}
	if (strcmp(buf, "any") == 0) {
		out->kind = PLAT_ANY;
		return 0;
	}
	if (strncmp(buf, "linux_", 6) == 0) {
		if (!arch_ok(buf + 6))
			return -1;
		out->kind = PLAT_LINUX;
		util_strlcpy(out->arch, buf + 6, sizeof(out->arch));
		return 0;
	}
	if (strncmp(buf, "manylinux_", 10) == 0) {
		out->kind = PLAT_MANYLINUX;
		if (parse_xy_arch(buf + 10, out) == -1) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		return 0;
	}
	if (strncmp(buf, "musllinux_", 10) == 0) {
		out->kind = PLAT_MUSLLINUX;
		if (parse_xy_arch(buf + 10, out) == -1) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		return 0;
	}
	for (i = 0; i < WW_ARRLEN(legacies); i++) {
		size_t ln = strlen(legacies[i].name);

		if (strncmp(buf, legacies[i].name, ln) != 0 || buf[ln] != '_')
			continue;
		if (!arch_ok(buf + ln + 1))
			return -1;
		out->kind = PLAT_MANYLINUX;
		out->major = legacies[i].major;
		out->minor = legacies[i].minor;
		out->legacy = 1;
		util_strlcpy(out->arch, buf + ln + 1, sizeof(out->arch));
		return 0;
	}
	out->kind = PLAT_OTHER;
	return 0;
}

int
platform_format(const struct platform *p, char *out, size_t outlen)
{
	int n = -1;

	if (outlen > 0)
		out[0] = '\0';
	switch (p->kind) {
	case PLAT_ANY:
		n = snprintf(out, outlen, "any");
		break;
	case PLAT_LINUX:
		if (arch_ok(p->arch))
			n = snprintf(out, outlen, "linux_%s", p->arch);
		break;
	case PLAT_MANYLINUX:
	case PLAT_MUSLLINUX:
		if (arch_ok(p->arch) && p->major >= 0 && p->minor >= 0)
			n = snprintf(out, outlen, "%s_%d_%d_%s",
			    p->kind == PLAT_MANYLINUX ? "manylinux" :
			    "musllinux", p->major, p->minor, p->arch);
		break;
	case PLAT_OTHER:
		break;
	}
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
platform_legacy_alias(const struct platform *p, char *out, size_t outlen)
{
	size_t i, j;
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (p->kind != PLAT_MANYLINUX)
		return -1;
	for (i = 0; i < WW_ARRLEN(legacies); i++) {
		if (legacies[i].major != p->major ||
		    legacies[i].minor != p->minor)
			continue;
		for (j = 0; legacies[i].arches[j] != NULL; j++) {
			if (strcmp(legacies[i].arches[j], p->arch) != 0)
				continue;
			n = snprintf(out, outlen, "%s_%s", legacies[i].name,
			    p->arch);
			if (n < 0 || (size_t)n >= outlen) {
				if (outlen > 0)
					out[0] = '\0';
				return -1;
			}
			return 0;
		}
	}
	return -1;
}

/* Supported tags. */

/* A growing list of tags, bounded by construction (see env_check). */
struct tlist {
	struct tagset *ts;
	size_t	       cap;
};

static int
tl_add(struct tlist *l, const char *py, const char *abi, const char *plat)
{
	struct tag *t;

	if (l->ts->ntags == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;

		t = reallocarray(l->ts->tags, ncap, sizeof(*t));
		if (t == NULL)
			return -1;
		l->ts->tags = t;
		l->cap = ncap;
	}
	t = &l->ts->tags[l->ts->ntags++];
	util_strlcpy(t->python, py, sizeof(t->python));
	util_strlcpy(t->abi, abi, sizeof(t->abi));
	util_strlcpy(t->platform, plat, sizeof(t->platform));
	return 0;
}

/*
 * Where packaging._manylinux._have_compatible_abi() says a manylinux ABI
 * exists. (On armv7l and i686 it also checks the interpreter is a 32-bit
 * hard-float / i386 ELF, which a target of that arch is.) riscv64 and
 * loongarch64 were added by packaging releases after 23.0.
 */
static const char *const manylinux_arches[] = {
	"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x",
	"riscv64", "loongarch64",
};

/* packaging guesses the last minor of a finished glibc major as 50. */
#define LAST_GLIBC_MINOR	50

static int
manylinux_platforms(const struct target_env *env, struct tlist *pl)
{
	char tag[TAG_PART_MAX * 2];
	int known = 0, too_old_minor, major, minor, maxminor, minminor;
	size_t i, j;

	for (i = 0; i < WW_ARRLEN(manylinux_arches); i++)
		if (strcmp(env->arch, manylinux_arches[i]) == 0)
			known = 1;
	if (!known)
		return 0;
	/* The oldest glibc supported: 2.5 on x86, 2.17 elsewhere. */
	too_old_minor = (strcmp(env->arch, "x86_64") == 0 ||
	    strcmp(env->arch, "i686") == 0) ? 4 : 16;
	for (major = env->libc_major; major >= 2; major--) {
		maxminor = major == env->libc_major ? env->libc_minor :
		    LAST_GLIBC_MINOR;
		minminor = major == 2 ? too_old_minor : -1;
		for (minor = maxminor; minor > minminor; minor--) {
			snprintf(tag, sizeof(tag), "manylinux_%d_%d_%s", major,
			    minor, env->arch);
			if (tl_add(pl, "", "", tag) == -1)
				return -1;
			for (j = 0; j < WW_ARRLEN(legacies); j++) {
				if (legacies[j].major != major ||
				    legacies[j].minor != minor)
					continue;
				snprintf(tag, sizeof(tag), "%s_%s",
				    legacies[j].name, env->arch);
				if (tl_add(pl, "", "", tag) == -1)
					return -1;
			}
		}
	}
	return 0;
}

static int
musllinux_platforms(const struct target_env *env, struct tlist *pl)
{
	char tag[TAG_PART_MAX * 2];
	int minor;

	for (minor = env->libc_minor; minor >= 0; minor--) {
		snprintf(tag, sizeof(tag), "musllinux_%d_%d_%s", env->libc_major,
		    minor, env->arch);
		if (tl_add(pl, "", "", tag) == -1)
			return -1;
	}
	return 0;
}

/*
 * Bounds keep the list small (at most a few thousand tags): CPython 3.x
 * minors below 100, glibc 2.x-9.x minors below 100, musl 1.x minors below
 * 100, an arch that fits a tag.
 */
static int
env_check(const struct target_env *env)
{
	if (env == NULL || env->arch == NULL || !arch_ok(env->arch))
		return -1;
	if (env->interpreter != NULL && strcmp(env->interpreter, "cp") != 0)
		return -1;
	if (env->py_major != 3 || env->py_minor < 0 || env->py_minor > 99)
		return -1;
	if (env->libc_minor < 0 || env->libc_minor > 99)
		return -1;
	if (env->libc == LIBC_GLIBC)
		return (env->libc_major >= 2 && env->libc_major <= 9) ? 0 : -1;
	if (env->libc == LIBC_MUSL)
		return (env->libc_major >= 1 && env->libc_major <= 9) ? 0 : -1;
	return -1;
}

#define PY_RANGE_MAX	102	/* py3X, py3 and 100 older minors */

/* packaging.tags._py_interpreter_range(), newest first. */
static size_t
py_range(const struct target_env *env, char pys[PY_RANGE_MAX][16])
{
	size_t n = 0;
	int minor;

	snprintf(pys[n++], 16, "py%d%d", env->py_major, env->py_minor);
	snprintf(pys[n++], 16, "py%d", env->py_major);
	for (minor = env->py_minor - 1; minor >= 0; minor--)
		snprintf(pys[n++], 16, "py%d%d", env->py_major, minor);
	return n;
}

int
tags_supported(const struct target_env *env, struct tagset *out)
{
	struct tagset plats = { NULL, 0 };
	struct tlist pl = { &plats, 0 }, l = { out, 0 };
	char interp[16], abi[16], other[16], pys[PY_RANGE_MAX][16];
	size_t p, i, npy;
	int minor, rc = -1;

	out->tags = NULL;
	out->ntags = 0;
	if (env_check(env) == -1)
		return -1;
	if ((env->libc == LIBC_GLIBC ? manylinux_platforms(env, &pl) :
	    musllinux_platforms(env, &pl)) == -1)
		goto fail;

	/* cpython_tags(): own ABI, abi3, none, then older abi3. */
	snprintf(interp, sizeof(interp), "cp%d%d", env->py_major,
	    env->py_minor);
	snprintf(abi, sizeof(abi), "%s%s", interp, env->py_minor < 8 ?
	    "m" : "");
	for (p = 0; p < plats.ntags; p++)
		if (tl_add(&l, interp, abi, plats.tags[p].platform) == -1)
			goto fail;
	if (env->py_minor >= 2)
		for (p = 0; p < plats.ntags; p++)
			if (tl_add(&l, interp, "abi3",
			    plats.tags[p].platform) == -1)
				goto fail;
	for (p = 0; p < plats.ntags; p++)
		if (tl_add(&l, interp, "none", plats.tags[p].platform) == -1)
			goto fail;
	if (env->py_minor >= 2) {
		for (minor = env->py_minor - 1; minor > 1; minor--) {
			snprintf(other, sizeof(other), "cp%d%d", env->py_major,
			    minor);
			for (p = 0; p < plats.ntags; p++)
				if (tl_add(&l, other, "abi3",
				    plats.tags[p].platform) == -1)
					goto fail;
		}
	}

	/*
	 * compatible_tags(): the py range (py3X, py3, py3(X-1)..py30) with
	 * each platform, then cp3X-none-any, then the py range with "any".
	 */
	npy = py_range(env, pys);
	for (i = 0; i < npy; i++)
		for (p = 0; p < plats.ntags; p++)
			if (tl_add(&l, pys[i], "none",
			    plats.tags[p].platform) == -1)
				goto fail;
	if (tl_add(&l, interp, "none", "any") == -1)
		goto fail;
	for (i = 0; i < npy; i++)
		if (tl_add(&l, pys[i], "none", "any") == -1)
			goto fail;
	rc = 0;
fail:
	tagset_free(&plats);
	if (rc == -1)
		tagset_free(out);
	return rc;
}

int
tags_rank(const struct target_env *env, const struct tagset *supported,
    const char *python, const char *abi, const char *platform)
{
	struct tagset own = { NULL, 0 }, wheel;
	size_t i;
	int best = -1, r;

	if (supported == NULL) {
		if (tags_supported(env, &own) == -1)
			return -1;
		supported = &own;
	}
	if (tagset_expand(python, abi, platform, &wheel, NULL) == -1) {
		tagset_free(&own);
		return -1;
	}
	for (i = 0; i < wheel.ntags; i++) {
		r = tagset_find(supported, wheel.tags[i].python,
		    wheel.tags[i].abi, wheel.tags[i].platform);
		if (r != -1 && (best == -1 || r < best))
			best = r;
	}
	tagset_free(&wheel);
	tagset_free(&own);
	return best;
}
