/*
 * specifier.c: PEP 440 version specifier sets with the exact semantics of
 * Python's packaging.specifiers.SpecifierSet (23.x), quirks included,
 * because pip and the rest of the ecosystem resolve with that code and
 * our answers must agree with theirs:
 *  - ~= and == .* match on string segments the way packaging's
 *    _version_split/_pad_version do (so "~=1.0.c1" and "~=1.0rc1" differ,
 *    and "==1!2.0.*" does not pad), computed from the text as written;
 *  - <V excludes pre-releases of V unless V is one; >V excludes
 *    post-releases of V unless V is one, and local versions of V;
 *  - == without a local label, <= and >= ignore the candidate's label;
 *  - === compares the normalized candidate case-insensitively;
 *  - pre-releases are allowed when asked, or by default when a ==, >=,
 *    <=, ~= or === specifier names one.
 * Matching never allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "specifier.h"
#include "util.h"

enum spec_op { OP_COMPAT, OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT, OP_ARB };

static const char *op_text[] = { "~=", "==", "!=", "<=", ">=", "<", ">",
    "===" };

struct seg {
	const char	*p;
	size_t		 len;
};

/* Segments of a prefix ("1.0" of "==1.0.*", "1.4" of "~=1.4.5"). */
#define SEG_MAX		(VERSION_STR_MAX + 2)

struct spec {
	enum spec_op	 op;
	int		 wildcard;	/* == or != with .* */
	struct version	*v;		/* NULL for === with a non-version */
	char		*text;		/* version text as written, trimmed */
	char		*canon;		/* packaging's _canonical_spec part */
	int		 mentions_pre;
	char		*pfx;		/* normalized prefix for .* and ~= */
	struct seg	*segs;
	size_t		 nsegs;
	size_t		 nnum;		/* leading all-digit segments */
};

struct specset {
	struct spec	*specs;
	size_t		 n;
	char		*str;
	int		 mentions_pre;
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
all_digits(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_digit(p[i]))
			return 0;
	return 1;
}

/* ^([0-9]+)((?:a|b|c|rc)[0-9]+)$, case-sensitive: where it splits. */
static size_t
prefix_split_at(const char *p, size_t len)
{
	size_t i = 0, j;

	while (i < len && is_digit(p[i]))
		i++;
	if (i == 0 || i == len)
		return 0;
	j = i;
	if (p[j] == 'a' || p[j] == 'b' || p[j] == 'c')
		j++;
	else if (len - j >= 2 && p[j] == 'r' && p[j + 1] == 'c')
		j += 2;
	else
		return 0;
	return all_digits(p + j, len - j) ? i : 0;
}

/* packaging's _version_split(): "." items, "1rc2" split to "1", "rc2". */
static size_t
version_split(const char *s, size_t len, struct seg *out, size_t max)
{
	const char *p = s, *e = s + len, *dot;
	size_t n = 0, at;

	for (;;) {
		if ((dot = memchr(p, '.', (size_t)(e - p))) == NULL)
			dot = e;
		if (n + 2 > max)
			return n;
		if ((at = prefix_split_at(p, (size_t)(dot - p))) > 0) {
			out[n].p = p;
			out[n++].len = at;
			out[n].p = p + at;
			out[n++].len = (size_t)(dot - p) - at;
		} else {
			out[n].p = p;
			out[n++].len = (size_t)(dot - p);
		}
		if (dot == e)
			return n;
		p = dot + 1;
	}
}

static int
starts_with(const struct seg *s, const char *w)
{
	size_t n = strlen(w);

	return s->len >= n && memcmp(s->p, w, n) == 0;
}

/* _is_not_suffix(), case-sensitive as in packaging. */
static int
is_suffix(const struct seg *s)
{
	return starts_with(s, "dev") || starts_with(s, "a") ||
	    starts_with(s, "b") || starts_with(s, "rc") ||
	    starts_with(s, "post");
}

/*
 * canonicalize_version(s, strip_trailing_zero): the normalized version,
 * or s unchanged when it is not a valid version.
 */
static char *
canonicalize(const char *s, size_t len, int strip)
{
	struct version *v;
	char buf[VERSION_STR_MAX];

	if (version_parsen(s, len, &v, NULL) == 0) {
		if (version_canonical(v, strip, 1, buf, sizeof(buf)) == -1) {
			version_free(v);
			return NULL;
		}
		version_free(v);
		return strdup(buf);
	}
	return strndup(s, len);
}

/* Prepare the spec side of _compare_equal(prospective, prefix + ".*"). */
static int
spec_set_prefix(struct spec *sp, const char *prefix, size_t len)
{
	struct seg tmp[SEG_MAX];
	size_t i;

	if ((sp->pfx = canonicalize(prefix, len, 0)) == NULL)
		return -1;
	sp->nsegs = version_split(sp->pfx, strlen(sp->pfx), tmp, SEG_MAX);
	if ((sp->segs = calloc(sp->nsegs ? sp->nsegs : 1,
	    sizeof(*sp->segs))) == NULL)
		return -1;
	memcpy(sp->segs, tmp, sp->nsegs * sizeof(*tmp));
	for (i = 0; i < sp->nsegs && all_digits(tmp[i].p, tmp[i].len); i++)
		;
	sp->nnum = i;
	return 0;
}

/* _compare_compatible's prefix: drop suffixes and the last segment. */
static int
spec_set_compat_prefix(struct spec *sp)
{
	struct seg segs[SEG_MAX];
	size_t n, keep, i;
	struct buf b;
	int rc;

	n = version_split(sp->text, strlen(sp->text), segs, SEG_MAX);
	for (keep = 0; keep < n && !is_suffix(&segs[keep]); keep++)
		;
	if (keep > 0)
		keep--;
	buf_init(&b, VERSION_STR_MAX * 2);
	for (i = 0; i < keep; i++)
		if ((i > 0 && buf_addc(&b, '.') == -1) ||
		    buf_add(&b, segs[i].p, segs[i].len) == -1) {
			buf_free(&b);
			return -1;
		}
	rc = spec_set_prefix(sp, buf_cstr(&b), b.len);
	buf_free(&b);
	return rc;
}

static int
seg_eq(const struct seg *a, const char *p, size_t len)
{
	return a->len == len && memcmp(a->p, p, len) == 0;
}

/*
 * _compare_equal with a ".*" spec: the candidate's public version, with
 * trailing zeros stripped, split, its leading numbers padded with "0" to
 * the spec's count, cut to the spec's length and compared segmentwise.
 */
static int
prefix_match(const struct spec *sp, const struct version *v)
{
	char buf[VERSION_STR_MAX];
	struct seg left[SEG_MAX];
	size_t nl, lnum, pad, k;

	if (version_canonical(v, 1, 0, buf, sizeof(buf)) == -1)
		return 0;
	nl = version_split(buf, strlen(buf), left, SEG_MAX);
	for (lnum = 0; lnum < nl && all_digits(left[lnum].p, left[lnum].len);
	    lnum++)
		;
	pad = sp->nnum > lnum ? sp->nnum - lnum : 0;
	if (nl + pad < sp->nsegs)
		return 0;
	for (k = 0; k < sp->nsegs; k++) {
		if (k < lnum) {
			if (!seg_eq(&sp->segs[k], left[k].p, left[k].len))
				return 0;
		} else if (k < lnum + pad) {
			if (!seg_eq(&sp->segs[k], "0", 1))
				return 0;
		} else if (!seg_eq(&sp->segs[k], left[k - pad].p,
		    left[k - pad].len))
			return 0;
	}
	return 1;
}

static int
is_kelvin(const char *p, size_t len)
{
	return len >= 3 && memcmp(p, "\xe2\x84\xaa", 3) == 0;
}

/* ASCII case-insensitive; U+212A KELVIN SIGN lowercases to 'k' in Python. */
static int
arbitrary_eq(const char *text, const char *s, size_t slen)
{
	size_t i = 0, j = 0;

	while (text[i] != '\0' && j < slen) {
		char a = text[i], b = s[j];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a == b) {
			i++;
			j++;
			continue;
		}
		if (b == 'k' && is_kelvin(text + i, strlen(text + i))) {
			i += 3;
			j++;
			continue;
		}
		if (a == 'k' && is_kelvin(s + j, slen - j)) {
			i++;
			j += 3;
			continue;
		}
		return 0;
	}
	return text[i] == '\0' && j == slen;
}

static int
spec_match(const struct spec *sp, const struct version *v)
{
	const char *s;
	int r;

	switch (sp->op) {
	case OP_EQ:
	case OP_NE:
		if (sp->wildcard)
			r = prefix_match(sp, v);
		else if (version_has_local(sp->v))
			r = version_cmp(v, sp->v) == 0;
		else
			r = version_cmp_public(v, sp->v) == 0;
		return sp->op == OP_EQ ? r : !r;
	case OP_COMPAT:
		return version_cmp_public(v, sp->v) >= 0 && prefix_match(sp, v);
	case OP_LE:
		return version_cmp_public(v, sp->v) <= 0;
	case OP_GE:
		return version_cmp_public(v, sp->v) >= 0;
	case OP_LT:
		if (version_cmp(v, sp->v) >= 0)
			return 0;
		if (!version_is_prerelease(sp->v) && version_is_prerelease(v) &&
		    version_cmp_base(v, sp->v) == 0)
			return 0;
		return 1;
	case OP_GT:
		if (version_cmp(v, sp->v) <= 0)
			return 0;
		if (!version_is_postrelease(sp->v) &&
		    version_is_postrelease(v) && version_cmp_base(v, sp->v) == 0)
			return 0;
		if (version_has_local(v) && version_cmp_base(v, sp->v) == 0)
			return 0;
		return 1;
	case OP_ARB:
		s = version_str(v);
		return arbitrary_eq(sp->text, s, strlen(s));
	}
	return 0;
}

static void
spec_clear(struct spec *sp)
{
	version_free(sp->v);
	free(sp->text);
	free(sp->canon);
	free(sp->pfx);
	free(sp->segs);
	memset(sp, 0, sizeof(*sp));
}

/* Parse one trimmed, non-empty specifier like Specifier._regex does. */
static int
spec_parse(const char *s, size_t len, struct spec *sp, struct wwerr *err)
{
	static const struct { const char *t; enum spec_op op; } ops[] = {
		{ "===", OP_ARB }, { "~=", OP_COMPAT }, { "==", OP_EQ },
		{ "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "<", OP_LT }, { ">", OP_GT },
	};
	const char *p = s, *e = s + len, *t;
	struct wwerr verr;
	char q[160], vq[96];
	size_t i, n, tlen;

	memset(sp, 0, sizeof(*sp));
	util_quote(s, len, q, sizeof(q));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].t);
		if (len >= n && memcmp(s, ops[i].t, n) == 0)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0]))
		return wwerr_set(err, SPEC_ESYNTAX, "invalid specifier '%s': "
		    "expected an operator (~= == != <= >= < > ===) first", q);
	sp->op = ops[i].op;
	p += strlen(ops[i].t);
	while ((n = version_space_len(p, (size_t)(e - p))) > 0)
		p += n;
	tlen = (size_t)(e - p);
	if ((sp->text = strndup(p, tlen)) == NULL)
		return wwerr_set(err, SPEC_ESYNTAX, "specifier: out of memory");
	util_quote(p, tlen, vq, sizeof(vq));

	if (sp->op == OP_ARB) {
		/* [^\s;)]*: anything but whitespace, ';' and ')'. */
		for (t = p; t < e; t++)
			if (*t == ';' || *t == ')' ||
			    version_space_len(t, (size_t)(e - t)) > 0) {
				wwerr_set(err, SPEC_ESYNTAX, "invalid specifier "
				    "'%s': whitespace, ';' or ')' in the "
				    "arbitrary version '%s'", q, vq);
				goto fail;
			}
		if (version_parsen(p, tlen, &sp->v, NULL) == 0)
			sp->mentions_pre = version_is_prerelease(sp->v);
		goto done;
	}
	if (tlen == 0) {
		wwerr_set(err, SPEC_ESYNTAX, "invalid specifier '%s': no version "
		    "after '%s'", q, op_text[sp->op]);
		goto fail;
	}
	if (tlen >= 2 && p[tlen - 2] == '.' && p[tlen - 1] == '*') {
		if (sp->op != OP_EQ && sp->op != OP_NE) {
			wwerr_set(err, SPEC_EOPERAND, "invalid specifier '%s': "
			    "'.*' is only allowed with == and !=", q);
			goto fail;
		}
		if (version_parsen(p, tlen - 2, &sp->v, &verr) == -1) {
			wwerr_set(err, SPEC_EVERSION, "invalid specifier '%s': "
			    "%s", q, verr.msg);
			goto fail;
		}
		if (!is_digit(p[tlen - 3]) || version_is_prerelease(sp->v) ||
		    version_is_postrelease(sp->v) || version_has_local(sp->v)) {
			wwerr_set(err, SPEC_EOPERAND, "invalid specifier '%s': "
			    "'.*' must follow a plain release such as 1.2", q);
			goto fail;
		}
		sp->wildcard = 1;
		if (spec_set_prefix(sp, p, tlen - 2) == -1) {
			wwerr_set(err, SPEC_ESYNTAX, "specifier: out of memory");
			goto fail;
		}
		goto done;
	}
	if (version_parsen(p, tlen, &sp->v, &verr) == -1) {
		wwerr_set(err, SPEC_EVERSION, "invalid specifier '%s': %s", q,
		    verr.msg);
		goto fail;
	}
	if (sp->op != OP_EQ && sp->op != OP_NE && version_has_local(sp->v)) {
		wwerr_set(err, SPEC_EOPERAND, "invalid specifier '%s': a local "
		    "version label is only allowed with == and !=", q);
		goto fail;
	}
	if (sp->op == OP_COMPAT) {
		if (version_release_len(sp->v) < 2) {
			wwerr_set(err, SPEC_EOPERAND, "invalid specifier '%s': "
			    "~= needs at least two release numbers, e.g. ~=%s.0",
			    q, vq);
			goto fail;
		}
		if (spec_set_compat_prefix(sp) == -1) {
			wwerr_set(err, SPEC_ESYNTAX, "specifier: out of memory");
			goto fail;
		}
	}
	if (sp->op == OP_EQ || sp->op == OP_GE || sp->op == OP_LE ||
	    sp->op == OP_COMPAT)
		sp->mentions_pre = version_is_prerelease(sp->v);
done:
	if ((sp->canon = canonicalize(sp->text, tlen, sp->op != OP_COMPAT)) ==
	    NULL) {
		wwerr_set(err, SPEC_ESYNTAX, "specifier: out of memory");
		goto fail;
	}
	return 0;
fail:
	spec_clear(sp);
	return -1;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
specset_build_str(struct specset *ss)
{
	char **items = NULL;
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, SPECSET_MAX_LEN + 1);
	if ((items = calloc(ss->n ? ss->n : 1, sizeof(*items))) == NULL)
		goto fail;
	for (i = 0; i < ss->n; i++) {
		buf_reset(&b);
		if (buf_printf(&b, "%s%s", op_text[ss->specs[i].op],
		    ss->specs[i].text) == -1 ||
		    (items[i] = buf_steal(&b)) == NULL)
			goto fail;
	}
	qsort(items, ss->n, sizeof(*items), str_cmp);
	buf_reset(&b);
	for (i = 0; i < ss->n; i++)
		if ((i > 0 && buf_addc(&b, ',') == -1) ||
		    buf_addstr(&b, items[i]) == -1)
			goto fail;
	if ((ss->str = strdup(buf_cstr(&b))) == NULL)
		goto fail;
	rc = 0;
fail:
	for (i = 0; items != NULL && i < ss->n; i++)
		free(items[i]);
	free(items);
	buf_free(&b);
	return rc;
}

int
specset_parse(const char *s, struct specset **out, struct wwerr *err)
{
	struct specset *ss = NULL;
	struct spec sp;
	const char *p, *e, *comma, *a, *z;
	size_t len, n, i;
	char q[96];

	*out = NULL;
	if (s == NULL)
		return wwerr_set(err, SPEC_ESYNTAX, "specifier set: missing");
	if ((len = strnlen(s, SPECSET_MAX_LEN + 1)) > SPECSET_MAX_LEN) {
		util_quote(s, 40, q, sizeof(q));
		return wwerr_set(err, SPEC_ETOOLONG, "invalid specifier set "
		    "'%s': longer than %d bytes", q, SPECSET_MAX_LEN);
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL ||
	    (ss->specs = calloc(SPECSET_MAX_SPECS, sizeof(*ss->specs))) ==
	    NULL) {
		wwerr_set(err, SPEC_ESYNTAX, "specifier set: out of memory");
		goto fail;
	}
	for (p = s, e = s + len; p <= e; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(e - p))) == NULL)
			comma = e;
		a = p;
		z = comma;
		while ((n = version_space_len(a, (size_t)(z - a))) > 0)
			a += n;
		while (z > a) {
			for (n = 1; n <= 3 && (size_t)(z - a) >= n; n++)
				if (version_space_len(z - n, n) == n)
					break;
			if (n > 3 || (size_t)(z - a) < n)
				break;
			z -= n;
		}
		if (z == a)
			continue;
		if (ss->n == SPECSET_MAX_SPECS) {
			util_quote(s, len, q, sizeof(q));
			wwerr_set(err, SPEC_ETOOLONG, "invalid specifier set "
			    "'%s': more than %d specifiers", q,
			    SPECSET_MAX_SPECS);
			goto fail;
		}
		if (spec_parse(a, (size_t)(z - a), &sp, err) == -1)
			goto fail;
		/* A set: packaging keeps the first of equal specifiers. */
		for (i = 0; i < ss->n; i++)
			if (ss->specs[i].op == sp.op &&
			    strcmp(ss->specs[i].canon, sp.canon) == 0)
				break;
		if (i < ss->n) {
			spec_clear(&sp);
			continue;
		}
		ss->specs[ss->n++] = sp;
		if (sp.mentions_pre)
			ss->mentions_pre = 1;
	}
	if (specset_build_str(ss) == -1) {
		wwerr_set(err, SPEC_ETOOLONG, "specifier set: out of memory");
		goto fail;
	}
	*out = ss;
	return 0;
fail:
	specset_free(ss);
	return -1;
}

void
specset_free(struct specset *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++)
		spec_clear(&ss->specs[i]);
	free(ss->specs);
	free(ss->str);
	free(ss);
}

const char *
specset_str(const struct specset *ss)
{
	return ss->str;
}

size_t
specset_count(const struct specset *ss)
{
	return ss->n;
}

int
specset_mentions_prerelease(const struct specset *ss)
{
	return ss->mentions_pre;
}

int
specset_contains(const struct specset *ss, const struct version *v,
    int prereleases)
{
	size_t i;
	int allow;

	allow = prereleases == SPEC_PRE_DEFAULT ? ss->mentions_pre :
	    prereleases != SPEC_PRE_DENY;
	if (!allow && version_is_prerelease(v))
		return 0;
	for (i = 0; i < ss->n; i++)
		if (!spec_match(&ss->specs[i], v))
			return 0;
	return 1;
}

int
specset_contains_str(const struct specset *ss, const char *s,
    int prereleases)
{
	struct version *v;
	size_t i;
	int r;

	if (s == NULL)
		return 0;
	if (version_parse(s, &v) == 0) {
		r = specset_contains(ss, v, prereleases);
		version_free(v);
		return r;
	}
	/* Not a version: only === can name it. */
	if (ss->n == 0)
		return 0;
	for (i = 0; i < ss->n; i++)
		if (ss->specs[i].op != OP_ARB ||
		    !arbitrary_eq(ss->specs[i].text, s, strlen(s)))
			return 0;
	return 1;
}

size_t
specset_filter(const struct specset *ss, const struct version *const *vs,
    size_t n, int prereleases, unsigned char *keep)
{
	size_t i, kept = 0, finals = 0;

	if (ss->n > 0 || prereleases != SPEC_PRE_DEFAULT) {
		for (i = 0; i < n; i++) {
			keep[i] = (unsigned char)specset_contains(ss, vs[i],
			    prereleases);
			kept += keep[i];
		}
		return kept;
	}
	for (i = 0; i < n; i++)
		if (!version_is_prerelease(vs[i]))
			finals++;
	for (i = 0; i < n; i++) {
		keep[i] = (unsigned char)(finals == 0 ||
		    !version_is_prerelease(vs[i]));
		kept += keep[i];
	}
	return kept;
}
