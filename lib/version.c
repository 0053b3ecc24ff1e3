/*
 * version.c: PEP 440 versions, parsed and ordered exactly like Python's
 * packaging.version.Version (23.x): the same accepted spellings, the same
 * str() normalization and the same _cmpkey total order.
 *
 * Numbers are kept as digit strings without leading zeros, compared by
 * length and then bytewise, because real release numbers (dates with
 * times, build numbers) overflow 64 bits and packaging uses Python ints.
 * A parsed version is one allocation; comparing never allocates.
 *
 * Deliberate difference: packaging's regex runs with re.IGNORECASE on
 * str, so four non-ASCII letters (U+0130, U+0131, U+017F, U+212A) match
 * [a-z] there ("1.0poſt1" parses). We accept ASCII letters only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "version.h"

struct vnum {
	const char	*p;	/* digits without leading zeros; "0" for 0 */
	size_t		 len;
};

struct vlocal {
	const char	*p;	/* lowercase label or canonical digits */
	size_t		 len;
	int		 numeric;
};

enum { PRE_NONE = 0, PRE_A, PRE_B, PRE_RC };

struct version {
	struct vnum	 epoch;
	struct vnum	*rel;
	size_t		 nrel;
	size_t		 nrelcmp;	/* release length without trailing 0s */
	int		 pre;		/* PRE_* */
	struct vnum	 pren;
	int		 has_post;
	struct vnum	 post;
	int		 has_dev;
	struct vnum	 dev;
	struct vlocal	*loc;
	size_t		 nloc;
	const char	*local;		/* into str after '+', or NULL */
	char		*str;
	char		*pub;
	char		*base;
};

/* Scratch for the normalized form: every implicit part adds <= 6. */
#define VP_OUT_MAX	(VERSION_MAX_LEN + 64)
#define VP_SEG_MAX	(VERSION_MAX_LEN / 2 + 1)

struct vspan {
	size_t		 off;
	size_t		 len;
};

/* Parser state: the input cursor and the normalized form being built. */
struct vparse {
	const char	*start;
	const char	*p;
	const char	*e;
	char		 out[VP_OUT_MAX];
	size_t		 olen;
	int		 epoch_zero;
	struct vspan	 epoch;
	struct vspan	 rel[VP_SEG_MAX];
	size_t		 nrel;
	size_t		 baselen;
	int		 pre;
	struct vspan	 pren;
	int		 has_post;
	struct vspan	 post;
	int		 has_dev;
	struct vspan	 dev;
	size_t		 publen;
	struct vspan	 loc[VP_SEG_MAX];
	int		 locnum[VP_SEG_MAX];
	size_t		 nloc;
	const char	*why;
};

static const char zero_digit[] = "0";

size_t
version_space_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0)
		return 0;
	if (u[0] == ' ' || (u[0] >= 0x09 && u[0] <= 0x0d) ||
	    (u[0] >= 0x1c && u[0] <= 0x1f))
		return 1;
	if (len >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
		return 2;
	if (len < 3)
		return 0;
	if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)	/* U+1680 */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8a) ||		/* U+2000-200A */
	    u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))	/* 2028/9, 202F */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)	/* U+205F */
		return 3;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)	/* U+3000 */
		return 3;
	return 0;
}

/* Length of the whitespace character ending just before e, or 0. */
static size_t
space_len_before(const char *b, const char *e)
{
	size_t n;

	for (n = 1; n <= 3 && (size_t)(e - b) >= n; n++)
		if (version_space_len(e - n, n) == n)
			return n;
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_sep(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int
vp_addc(struct vparse *vp, char c)
{
	if (vp->olen + 1 >= sizeof(vp->out)) {
		vp->why = "too long";
		return -1;
	}
	vp->out[vp->olen++] = c;
	return 0;
}

static int
vp_adds(struct vparse *vp, const char *s)
{
	for (; *s != '\0'; s++)
		if (vp_addc(vp, *s) == -1)
			return -1;
	return 0;
}

/* Consume a run of digits; append it without leading zeros. */
static int
vp_number(struct vparse *vp, struct vspan *sp)
{
	const char *d = vp->p;

	while (vp->p < vp->e && is_digit(*vp->p))
		vp->p++;
	if (vp->p == d)
		return -1;
	while (d + 1 < vp->p && *d == '0')
		d++;
	sp->off = vp->olen;
	sp->len = (size_t)(vp->p - d);
	for (; d < vp->p; d++)
		if (vp_addc(vp, *d) == -1)
			return -1;
	return 0;
}

/* Match one keyword case-insensitively at the cursor; advance if found. */
static int
vp_word(struct vparse *vp, const char *w)
{
	size_t n = strlen(w), i;

	if ((size_t)(vp->e - vp->p) < n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(vp->p[i]) != w[i])
			return 0;
	vp->p += n;
	return 1;
}

static void
vp_sep(struct vparse *vp)
{
	if (vp->p < vp->e && is_sep(*vp->p))
		vp->p++;
}

/* Optional number after a pre/post/dev label; the implicit number is 0. */
static int
vp_label_number(struct vparse *vp, struct vspan *sp)
{
	vp_sep(vp);
	if (vp->p < vp->e && is_digit(*vp->p))
		return vp_number(vp, sp);
	sp->off = vp->olen;
	sp->len = 1;
	return vp_addc(vp, '0');
}

static int
vp_pre(struct vparse *vp)
{
	/* Longer spellings first: the regex backtracks to them anyway. */
	static const struct { const char *w; int kind; } words[] = {
		{ "preview", PRE_RC }, { "alpha", PRE_A }, { "beta", PRE_B },
		{ "pre", PRE_RC }, { "rc", PRE_RC }, { "a", PRE_A },
		{ "b", PRE_B }, { "c", PRE_RC },
	};
	const char *save = vp->p;
	size_t i;

	vp_sep(vp);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (vp_word(vp, words[i].w))
			break;
	if (i == sizeof(words) / sizeof(words[0])) {
		vp->p = save;
		return 0;
	}
	vp->pre = words[i].kind;
	if (vp_adds(vp, vp->pre == PRE_A ? "a" : vp->pre == PRE_B ? "b" :
	    "rc") == -1)
		return -1;
	return vp_label_number(vp, &vp->pren);
}

static int
vp_post(struct vparse *vp)
{
	const char *save = vp->p;

	if (vp->e - vp->p >= 2 && vp->p[0] == '-' && is_digit(vp->p[1])) {
		/* Implicit post release: "1.0-1". */
		vp->p++;
		vp->has_post = 1;
		if (vp_adds(vp, ".post") == -1)
			return -1;
		return vp_number(vp, &vp->post);
	}
	vp_sep(vp);
	if (!vp_word(vp, "post") && !vp_word(vp, "rev") && !vp_word(vp, "r")) {
		vp->p = save;
		return 0;
	}
	vp->has_post = 1;
	if (vp_adds(vp, ".post") == -1)
		return -1;
	return vp_label_number(vp, &vp->post);
}

static int
vp_dev(struct vparse *vp)
{
	const char *save = vp->p;

	vp_sep(vp);
	if (!vp_word(vp, "dev")) {
		vp->p = save;
		return 0;
	}
	vp->has_dev = 1;
	if (vp_adds(vp, ".dev") == -1)
		return -1;
	return vp_label_number(vp, &vp->dev);
}

static int
vp_local(struct vparse *vp)
{
	const char *b;
	int numeric;

	if (vp->p == vp->e || *vp->p != '+')
		return 0;
	vp->p++;
	if (vp_addc(vp, '+') == -1)
		return -1;
	for (;;) {
		b = vp->p;
		numeric = 1;
		while (vp->p < vp->e && is_alnum(*vp->p)) {
			if (!is_digit(*vp->p))
				numeric = 0;
			vp->p++;
		}
		if (vp->p == b) {
			vp->why = "empty local version segment";
			return -1;
		}
		if (vp->nloc > 0 && vp_addc(vp, '.') == -1)
			return -1;
		vp->locnum[vp->nloc] = numeric;
		if (numeric) {
			const char *save = vp->p;

			vp->p = b;
			if (vp_number(vp, &vp->loc[vp->nloc]) == -1)
				return -1;
			vp->p = save;
		} else {
			vp->loc[vp->nloc].off = vp->olen;
			vp->loc[vp->nloc].len = (size_t)(vp->p - b);
			for (; b < vp->p; b++)
				if (vp_addc(vp, lower(*b)) == -1)
					return -1;
		}
		vp->nloc++;
		if (vp->e - vp->p >= 2 && is_sep(vp->p[0]) &&
		    is_alnum(vp->p[1]) && vp->nloc < VP_SEG_MAX)
			vp->p++;
		else
			return 0;
	}
}

static int
vp_run(struct vparse *vp)
{
	const char *q;
	struct vspan first;

	if (vp->p < vp->e && (*vp->p == 'v' || *vp->p == 'V'))
		vp->p++;
	/* Epoch: digits followed by '!'. */
	for (q = vp->p; q < vp->e && is_digit(*q); q++)
		;
	vp->epoch_zero = 1;
	if (q > vp->p && q < vp->e && *q == '!') {
		if (vp_number(vp, &vp->epoch) == -1)
			return -1;
		vp->epoch_zero = vp->epoch.len == 1 && vp->out[vp->epoch.off] ==
		    '0';
		if (vp->epoch_zero)
			vp->olen = 0;
		else if (vp_addc(vp, '!') == -1)
			return -1;
		vp->p++;
	}
	if (vp_number(vp, &first) == -1) {
		vp->why = "expected a release number";
		return -1;
	}
	vp->rel[vp->nrel++] = first;
	while (vp->e - vp->p >= 2 && vp->p[0] == '.' && is_digit(vp->p[1])) {
		if (vp->nrel == VP_SEG_MAX) {
			vp->why = "too many release segments";
			return -1;
		}
		vp->p++;
		if (vp_addc(vp, '.') == -1 ||
		    vp_number(vp, &vp->rel[vp->nrel++]) == -1)
			return -1;
	}
	vp->baselen = vp->olen;
	if (vp_pre(vp) == -1 || vp_post(vp) == -1 || vp_dev(vp) == -1)
		return -1;
	vp->publen = vp->olen;
	if (vp_local(vp) == -1)
		return -1;
	if (vp->p != vp->e) {
		vp->why = vp->nloc > 0 ? "unexpected character in local version" :
		    "unexpected character";
		return -1;
	}
	return 0;
}

static void
vnum_set(struct vnum *n, const char *str, struct vspan sp)
{
	n->p = str + sp.off;
	n->len = sp.len;
}

int
version_parsen(const char *s, size_t len, struct version **out,
    struct wwerr *err)
{
	struct vparse *vp = NULL;
	struct version *v = NULL;
	char q[128];
	size_t n, i, sz;
	char *chars;

	*out = NULL;
	if (s == NULL)
		return wwerr_set(err, VERSION_EINVAL, "version: missing");
	if (len > VERSION_MAX_LEN) {
		util_quote(s, len, q, 64);
		return wwerr_set(err, VERSION_ETOOLONG,
		    "invalid version '%s': longer than %d bytes", q,
		    VERSION_MAX_LEN);
	}
	if ((vp = calloc(1, sizeof(*vp))) == NULL)
		return wwerr_set(err, VERSION_EINVAL, "version: out of memory");
	vp->start = vp->p = s;
	vp->e = s + len;
	while ((n = version_space_len(vp->p, (size_t)(vp->e - vp->p))) > 0)
		vp->p += n;
	while (vp->e > vp->p && (n = space_len_before(vp->p, vp->e)) > 0)
		vp->e -= n;
	if (vp->p == vp->e) {
		util_quote(s, len, q, sizeof(q));
		wwerr_set(err, VERSION_EINVAL, "invalid version '%s': empty", q);
		goto fail;
	}
	if (vp_run(vp) == -1) {
		util_quote(s, len, q, sizeof(q));
		if (vp->why == NULL)
			vp->why = "unexpected character";
		if (vp->p < vp->e)
			wwerr_set(err, VERSION_EINVAL,
			    "invalid version '%s': %s at offset %zu", q,
			    vp->why, (size_t)(vp->p - s));
		else
			wwerr_set(err, VERSION_EINVAL,
			    "invalid version '%s': %s at the end", q, vp->why);
		goto fail;
	}
	vp->out[vp->olen] = '\0';
	/* Keep the normalized form parseable, so it round-trips. */
	if (vp->olen > VERSION_MAX_LEN) {
		util_quote(s, len, q, 64);
		wwerr_set(err, VERSION_ETOOLONG, "invalid version '%s': "
		    "normalized form too long (%zu bytes, at most %d)", q,
		    vp->olen, VERSION_MAX_LEN);
		goto fail;
	}

	sz = sizeof(*v) + vp->nrel * sizeof(struct vnum) +
	    vp->nloc * sizeof(struct vlocal) + 3 * (vp->olen + 1);
	if ((v = calloc(1, sz)) == NULL) {
		wwerr_set(err, VERSION_EINVAL, "version: out of memory");
		goto fail;
	}
	v->rel = (struct vnum *)(v + 1);
	v->loc = (struct vlocal *)(v->rel + vp->nrel);
	chars = (char *)(v->loc + vp->nloc);
	v->str = chars;
	memcpy(v->str, vp->out, vp->olen + 1);
	v->pub = v->str + vp->olen + 1;
	memcpy(v->pub, vp->out, vp->publen);
	v->pub[vp->publen] = '\0';
	v->base = v->pub + vp->olen + 1;
	memcpy(v->base, vp->out, vp->baselen);
	v->base[vp->baselen] = '\0';

	if (vp->epoch_zero) {
		v->epoch.p = zero_digit;
		v->epoch.len = 1;
	} else
		vnum_set(&v->epoch, v->str, vp->epoch);
	v->nrel = vp->nrel;
	v->nrelcmp = 0;
	for (i = 0; i < vp->nrel; i++) {
		vnum_set(&v->rel[i], v->str, vp->rel[i]);
		if (v->rel[i].p[0] != '0')
			v->nrelcmp = i + 1;
	}
	v->pre = vp->pre;
	if (v->pre != PRE_NONE)
		vnum_set(&v->pren, v->str, vp->pren);
	v->has_post = vp->has_post;
	if (v->has_post)
		vnum_set(&v->post, v->str, vp->post);
	v->has_dev = vp->has_dev;
	if (v->has_dev)
		vnum_set(&v->dev, v->str, vp->dev);
	v->nloc = vp->nloc;
	for (i = 0; i < vp->nloc; i++) {
		v->loc[i].p = v->str + vp->loc[i].off;
		v->loc[i].len = vp->loc[i].len;
		v->loc[i].numeric = vp->locnum[i];
	}
	v->local = vp->nloc > 0 ? v->str + vp->publen + 1 : NULL;
	free(vp);
	*out = v;
	return 0;
fail:
	free(vp);
	return -1;
}

int
version_parse_err(const char *s, struct version **out, struct wwerr *err)
{
	if (s == NULL) {
		*out = NULL;
		return wwerr_set(err, VERSION_EINVAL, "version: missing");
	}
	return version_parsen(s, strnlen(s, VERSION_MAX_LEN + 1), out, err);
}

int
version_parse(const char *s, struct version **out)
{
	return version_parse_err(s, out, NULL);
}

void
version_free(struct version *v)
{
	free(v);
}

static int
digits_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	if (alen != blen)
		return alen < blen ? -1 : 1;
	c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

static int
num_cmp(const struct vnum *a, const struct vnum *b)
{
	return digits_cmp(a->p, a->len, b->p, b->len);
}

int
version_cmp_base(const struct version *a, const struct version *b)
{
	size_t i;
	int c;

	if ((c = num_cmp(&a->epoch, &b->epoch)) != 0)
		return c;
	/* packaging drops trailing zeros, then compares tuples. */
	for (i = 0; i < a->nrelcmp && i < b->nrelcmp; i++)
		if ((c = num_cmp(&a->rel[i], &b->rel[i])) != 0)
			return c;
	if (a->nrelcmp != b->nrelcmp)
		return a->nrelcmp < b->nrelcmp ? -1 : 1;
	return 0;
}

/*
 * _cmpkey's pre slot: a dev release without pre or post sorts before any
 * pre-release (NegativeInfinity); no pre-release sorts after (Infinity).
 */
static int
pre_rank(const struct version *v)
{
	if (v->pre != PRE_NONE)
		return v->pre;
	if (!v->has_post && v->has_dev)
		return -1;
	return 100;
}

static int
cmp_public(const struct version *a, const struct version *b)
{
	int c, ra, rb;

	if ((c = version_cmp_base(a, b)) != 0)
		return c;
	ra = pre_rank(a);
	rb = pre_rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->pre != PRE_NONE && (c = num_cmp(&a->pren, &b->pren)) != 0)
		return c;
	if (a->has_post != b->has_post)
		return a->has_post ? 1 : -1;
	if (a->has_post && (c = num_cmp(&a->post, &b->post)) != 0)
		return c;
	if (a->has_dev != b->has_dev)
		return a->has_dev ? -1 : 1;
	if (a->has_dev && (c = num_cmp(&a->dev, &b->dev)) != 0)
		return c;
	return 0;
}

int
version_cmp_public(const struct version *a, const struct version *b)
{
	return cmp_public(a, b);
}

/* Numeric local segments sort after alphanumeric ones, labels bytewise. */
static int
local_cmp(const struct vlocal *a, const struct vlocal *b)
{
	size_t n;
	int c;

	if (a->numeric != b->numeric)
		return a->numeric ? 1 : -1;
	if (a->numeric)
		return digits_cmp(a->p, a->len, b->p, b->len);
	n = a->len < b->len ? a->len : b->len;
	if ((c = memcmp(a->p, b->p, n)) != 0)
		return c < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

int
version_cmp(const struct version *a, const struct version *b)
{
	size_t i;
	int c;

	if ((c = cmp_public(a, b)) != 0)
		return c;
	for (i = 0; i < a->nloc && i < b->nloc; i++)
		if ((c = local_cmp(&a->loc[i], &b->loc[i])) != 0)
			return c;
	if (a->nloc != b->nloc)
		return a->nloc < b->nloc ? -1 : 1;
	return 0;
}

const char *
version_str(const struct version *v)
{
	return v->str;
}

const char *
version_public(const struct version *v)
{
	return v->pub;
}

const char *
version_base(const struct version *v)
{
	return v->base;
}

const char *
version_local(const struct version *v)
{
	return v->local;
}

int
version_is_prerelease(const struct version *v)
{
	return v->pre != PRE_NONE || v->has_dev;
}

int
version_is_postrelease(const struct version *v)
{
	return v->has_post;
}

int
version_is_devrelease(const struct version *v)
{
	return v->has_dev;
}

int
version_has_local(const struct version *v)
{
	return v->nloc > 0;
}

static unsigned long long
num_value(const struct vnum *n)
{
	unsigned long long x = 0;
	size_t i;

	for (i = 0; i < n->len; i++) {
		unsigned d = (unsigned)(n->p[i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		x = x * 10 + d;
	}
	return x;
}

unsigned long
version_epoch(const struct version *v)
{
	unsigned long long x = num_value(&v->epoch);

	return x > (unsigned long long)~0UL ? ~0UL : (unsigned long)x;
}

size_t
version_release_len(const struct version *v)
{
	return v->nrel;
}

unsigned long long
version_release_at(const struct version *v, size_t i)
{
	if (i >= v->nrel)
		return 0;
	return num_value(&v->rel[i]);
}

int
version_canonical(const struct version *v, int strip_trailing_zero,
    int with_local, char *out, size_t outlen)
{
	size_t nrel, baselen, publen, n;

	if (out == NULL || outlen == 0)
		return -1;
	baselen = strlen(v->base);
	publen = strlen(v->pub);
	n = baselen;
	if (strip_trailing_zero) {
		/* re.sub(r"(\.0)+$", "", release): keep at least one. */
		nrel = v->nrel;
		while (nrel > 1 && v->rel[nrel - 1].len == 1 &&
		    v->rel[nrel - 1].p[0] == '0')
			nrel--;
		n = (size_t)(v->rel[nrel - 1].p + v->rel[nrel - 1].len - v->str);
	}
	if (!with_local || v->local == NULL) {
		if (n + (publen - baselen) + 1 > outlen)
			return -1;
		memcpy(out, v->str, n);
		memcpy(out + n, v->str + baselen, publen - baselen);
		out[n + publen - baselen] = '\0';
		return 0;
	}
	if (n + (strlen(v->str) - baselen) + 1 > outlen)
		return -1;
	memcpy(out, v->str, n);
	memcpy(out + n, v->str + baselen, strlen(v->str) - baselen + 1);
	return 0;
}

int
version_normalize(const char *s, char *out, size_t outlen)
{
	struct version *v;
	size_t n;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (version_parse(s, &v) == -1)
		return -1;
	n = strlen(v->str);
	if (n + 1 > outlen) {
		version_free(v);
		return -1;
	}
	memcpy(out, v->str, n + 1);
	version_free(v);
	return 0;
}
