/*
 * wheelname.c: wheel and sdist filenames (binary distribution format spec,
 * sdist spec). Filenames come from uploads, upstream indexes and archives,
 * so every part is bounded and checked byte by byte before anything else
 * looks at it.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "name.h"
#include "util.h"
#include "version.h"
#include "wheelname.h"

/* Show a hostile filename safely: printable ASCII kept, the rest \xNN. */
static const char *
wn_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Bytes allowed anywhere in a distribution filename: what the wheel and
 * sdist grammars can produce. Everything else (path separators, spaces,
 * controls, non-ASCII) is refused before splitting.
 */
static int
fn_byte_ok(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '!' ||
	    c == '+';
}

/* Check length and bytes of a whole filename; E_LENGTH on failure. */
static int
fn_check(const char *fn, size_t len, const char *what, struct wwerr *err)
{
	char q[128];
	size_t i;

	if (len == 0)
		return wwerr_set(err, WHEELNAME_E_LENGTH, "empty %s filename",
		    what);
	if (len > WHEELNAME_MAX)
		return wwerr_set(err, WHEELNAME_E_LENGTH,
		    "%s: %s filename longer than %d bytes",
		    wn_quote(fn, len, q, sizeof(q)), what, WHEELNAME_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)fn[i];

		if (fn_byte_ok(c))
			continue;
		if (c == '\0')
			return wwerr_set(err, WHEELNAME_E_LENGTH,
			    "%s: NUL byte at offset %zu of %s filename",
			    wn_quote(fn, len, q, sizeof(q)), i, what);
		if (c == '/' || c == '\\')
			return wwerr_set(err, WHEELNAME_E_LENGTH,
			    "%s: path separator in %s filename",
			    wn_quote(fn, len, q, sizeof(q)), what);
		return wwerr_set(err, WHEELNAME_E_LENGTH,
		    "%s: byte 0x%02x at offset %zu is not allowed in a %s "
		    "filename", wn_quote(fn, len, q, sizeof(q)), c, i, what);
	}
	return 0;
}

/*
 * Normalize a version that may be spelled as in a filename. Wheel tools
 * escape '-' to '_' in versions, so a legacy "1.0_1" means "1.0-1"
 * (1.0.post1), as pip reads it.
 */
static int
version_norm_fn(const char *v, size_t len, char *out, size_t outlen)
{
	char tmp[VERSION_MAX_LEN + 1];
	size_t i;
	int under = 0;

	if (len == 0 || len > VERSION_MAX_LEN)
		return -1;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (version_normalize(tmp, out, outlen) == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (tmp[i] == '_') {
			tmp[i] = '-';
			under = 1;
		}
	}
	if (under && version_normalize(tmp, out, outlen) == 0)
		return 0;
	return -1;
}

/* A tag component: '.'-joined non-empty runs of [A-Za-z0-9_]. */
static int
tagpart_ok(const char *s, size_t len)
{
	size_t i, run = 0;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (run == 0)
				return 0;
			run = 0;
		} else if (is_alnum(c) || c == '_') {
			run++;
		} else {
			return 0;
		}
	}
	return run > 0;
}

static int
buildtag_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_digit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '.' && c != '_')
			return 0;
	}
	return 1;
}

/* Copy a part into a field, refusing one that does not fit. */
static int
copy_part(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int
wheelname_parsen(const char *fn, size_t len, struct wheelname *out,
    struct wwerr *err)
{
	const char *part[6];
	size_t plen[6], stem, i, np;
	const char *ver, *bld, *py, *abi, *plat;
	size_t verlen, bldlen = 0, pylen, abilen, platlen;
	char q[128], numbuf[32];
	uint64_t num;

	memset(out, 0, sizeof(*out));
	if (fn == NULL)
		return wwerr_set(err, WHEELNAME_E_LENGTH, "no wheel filename");
	if (len > WHEELNAME_MAX || memchr(fn, '\0', len) != NULL ||
	    !util_has_suffix(fn, len, ".whl")) {
		/* Length/byte problems first: they say more than "suffix". */
		if (fn_check(fn, len, "wheel", err) == -1)
			return -1;
		return wwerr_set(err, WHEELNAME_E_SUFFIX,
		    "%s: a wheel filename must end in .whl",
		    wn_quote(fn, len, q, sizeof(q)));
	}
	if (fn_check(fn, len, "wheel", err) == -1)
		return -1;
	stem = len - 4;

	np = 0;
	part[0] = fn;
	for (i = 0; i < stem; i++) {
		if (fn[i] != '-')
			continue;
		if (np == 5)
			return wwerr_set(err, WHEELNAME_E_PARTS,
			    "%s: too many '-' separated parts (a wheel has 5, "
			    "or 6 with a build tag)",
			    wn_quote(fn, len, q, sizeof(q)));
		plen[np] = (size_t)(fn + i - part[np]);
		part[++np] = fn + i + 1;
	}
	plen[np] = (size_t)(fn + stem - part[np]);
	np++;
	if (np != 5 && np != 6)
		return wwerr_set(err, WHEELNAME_E_PARTS,
		    "%s: %zu '-' separated parts, a wheel has 5 "
		    "(name-version-python-abi-platform) or 6 with a build tag",
		    wn_quote(fn, len, q, sizeof(q)), np);

	ver = part[1];
	verlen = plen[1];
	bld = np == 6 ? part[2] : NULL;
	bldlen = np == 6 ? plen[2] : 0;
	py = part[np - 3];
	pylen = plen[np - 3];
	abi = part[np - 2];
	abilen = plen[np - 2];
	plat = part[np - 1];
	platlen = plen[np - 1];

	if (plen[0] == 0 || plen[0] > NAME_MAX_LEN ||
	    !name_validn(part[0], plen[0]))
		return wwerr_set(err, WHEELNAME_E_NAME,
		    "%s: \"%.*s\" is not a valid project name",
		    wn_quote(fn, len, q, sizeof(q)),
		    (int)(plen[0] > 64 ? 64 : plen[0]), part[0]);
	if (copy_part(out->name, sizeof(out->name), part[0], plen[0]) == -1 ||
	    name_normalizen(part[0], plen[0], out->normalized,
	    sizeof(out->normalized)) == -1)
		return wwerr_set(err, WHEELNAME_E_NAME,
		    "%s: project name cannot be normalized",
		    wn_quote(fn, len, q, sizeof(q)));

	if (verlen == 0 || copy_part(out->version, sizeof(out->version), ver,
	    verlen) == -1 || version_norm_fn(ver, verlen, out->version_norm,
	    sizeof(out->version_norm)) == -1)
		return wwerr_set(err, WHEELNAME_E_VERSION,
		    "%s: \"%.*s\" is not a valid PEP 440 version",
		    wn_quote(fn, len, q, sizeof(q)),
		    (int)(verlen > 64 ? 64 : verlen), ver);

	if (bld != NULL) {
		if (!buildtag_ok(bld, bldlen))
			return wwerr_set(err, WHEELNAME_E_BUILD,
			    "%s: build tag \"%.*s\" must start with a digit "
			    "and hold only letters, digits, '.' and '_'",
			    wn_quote(fn, len, q, sizeof(q)),
			    (int)(bldlen > 64 ? 64 : bldlen), bld);
		if (copy_part(out->build, sizeof(out->build), bld,
		    bldlen) == -1)
			return wwerr_set(err, WHEELNAME_E_LENGTH,
			    "%s: build tag longer than %zu bytes",
			    wn_quote(fn, len, q, sizeof(q)),
			    sizeof(out->build) - 1);
		for (i = 0; i < bldlen && is_digit((unsigned char)bld[i]); i++)
			;
		if (i < sizeof(numbuf)) {
			memcpy(numbuf, bld, i);
			numbuf[i] = '\0';
		}
		if (i >= sizeof(numbuf) ||
		    util_parse_u64(numbuf, ULONG_MAX, &num) == -1)
			return wwerr_set(err, WHEELNAME_E_BUILD,
			    "%s: build number \"%.*s\" is too large",
			    wn_quote(fn, len, q, sizeof(q)), (int)i, bld);
		out->build_num = (unsigned long)num;
	}

	if (!tagpart_ok(py, pylen) || !tagpart_ok(abi, abilen) ||
	    !tagpart_ok(plat, platlen))
		return wwerr_set(err, WHEELNAME_E_TAG,
		    "%s: tags \"%.*s-%.*s-%.*s\" are not '.'-separated runs "
		    "of letters, digits and '_'",
		    wn_quote(fn, len, q, sizeof(q)), (int)pylen, py,
		    (int)abilen, abi, (int)platlen, plat);
	if (copy_part(out->python, sizeof(out->python), py, pylen) == -1 ||
	    copy_part(out->abi, sizeof(out->abi), abi, abilen) == -1 ||
	    copy_part(out->platform, sizeof(out->platform), plat,
	    platlen) == -1)
		return wwerr_set(err, WHEELNAME_E_LENGTH,
		    "%s: tag set too long (python/abi at most %zu bytes, "
		    "platform %zu)", wn_quote(fn, len, q, sizeof(q)),
		    sizeof(out->python) - 1, sizeof(out->platform) - 1);
	wwerr_clear(err);
	return 0;
}

int
wheelname_parse(const char *fn, struct wheelname *out, struct wwerr *err)
{
	if (fn == NULL) {
		memset(out, 0, sizeof(*out));
		return wwerr_set(err, WHEELNAME_E_LENGTH, "no wheel filename");
	}
	/* strnlen: a hostile string longer than any filename stops early. */
	return wheelname_parsen(fn, strnlen(fn, WHEELNAME_MAX + 1), out, err);
}

/* Lowercase a tag component into out; -1 if invalid or it does not fit. */
static int
tag_lower(const char *s, char *out, size_t outlen)
{
	size_t i, len = strlen(s);

	if (!tagpart_ok(s, len) || len >= outlen)
		return -1;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	return 0;
}

int
wheelname_format(const struct wheelname *wn, char *out, size_t outlen)
{
	char name[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];
	char py[sizeof(wn->python)], abi[sizeof(wn->abi)];
	char plat[sizeof(wn->platform)];
	size_t vlen;
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (name_escape(wn->name, name, sizeof(name)) == -1)
		return -1;
	vlen = strnlen(wn->version, sizeof(wn->version));
	if (vlen == sizeof(wn->version) ||
	    version_norm_fn(wn->version, vlen, ver, sizeof(ver)) == -1)
		return -1;
	if (wn->build[0] != '\0' &&
	    !buildtag_ok(wn->build, strnlen(wn->build, sizeof(wn->build))))
		return -1;
	if (tag_lower(wn->python, py, sizeof(py)) == -1 ||
	    tag_lower(wn->abi, abi, sizeof(abi)) == -1 ||
	    tag_lower(wn->platform, plat, sizeof(plat)) == -1)
		return -1;
	if (wn->build[0] != '\0')
		n = snprintf(out, outlen, "%s-%s-%s-%s-%s-%s.whl", name, ver,
		    wn->build, py, abi, plat);
	else
		n = snprintf(out, outlen, "%s-%s-%s-%s-%s.whl", name, ver, py,
		    abi, plat);
	if (n < 0 || (size_t)n >= outlen || n > WHEELNAME_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	return 0;
}

int
wheelname_is_canonical(const struct wheelname *wn)
{
	char name[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];

	if (name_escape(wn->name, name, sizeof(name)) == -1 ||
	    strcmp(name, wn->name) != 0)
		return 0;
	if (version_normalize(wn->version, ver, sizeof(ver)) == -1 ||
	    strcmp(ver, wn->version) != 0)
		return 0;
	if (has_upper(wn->python) || has_upper(wn->abi) ||
	    has_upper(wn->platform))
		return 0;
	return 1;
}

static int
wn_dir(const struct wheelname *wn, const char *suffix, char *out,
    size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "%s-%s%s", wn->name, wn->version, suffix);
	if (n < 0 || (size_t)n >= outlen || wn->name[0] == '\0' ||
	    wn->version[0] == '\0') {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
wheelname_distinfo(const struct wheelname *wn, char *out, size_t outlen)
{
	return wn_dir(wn, ".dist-info", out, outlen);
}

int
wheelname_datadir(const struct wheelname *wn, char *out, size_t outlen)
{
	return wn_dir(wn, ".data", out, outlen);
}

static int
wn_dir_matches(const struct wheelname *wn, const char *dir, size_t len,
    const char *suffix)
{
	char norm[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];
	char want[VERSION_MAX_LEN + 1], wnorm[NAME_MAX_LEN + 1];
	size_t stem, i;

	if (dir == NULL || !util_has_suffix(dir, len, suffix))
		return 0;
	stem = len - strlen(suffix);
	/* Versions hold no '-', so the name ends at the last one. */
	for (i = stem; i > 0 && dir[i - 1] != '-'; i--)
		;
	if (i < 2 || i == stem || memchr(dir, '\0', stem) != NULL)
		return 0;
	/* wn may have been filled by hand: normalize its parts here. */
	if (name_normalize(wn->name, wnorm, sizeof(wnorm)) == -1)
		return 0;
	if (!name_validn(dir, i - 1) ||
	    name_normalizen(dir, i - 1, norm, sizeof(norm)) == -1 ||
	    strcmp(norm, wnorm) != 0)
		return 0;
	if (version_norm_fn(dir + i, stem - i, ver, sizeof(ver)) == -1)
		return 0;
	if (version_norm_fn(wn->version, strnlen(wn->version,
	    sizeof(wn->version)), want, sizeof(want)) == -1)
		return 0;
	return strcmp(ver, want) == 0;
}

int
wheelname_distinfo_matches(const struct wheelname *wn, const char *dir,
    size_t len)
{
	return wn_dir_matches(wn, dir, len, ".dist-info");
}

int
wheelname_datadir_matches(const struct wheelname *wn, const char *dir,
    size_t len)
{
	return wn_dir_matches(wn, dir, len, ".data");
}

int
sdistname_parse(const char *fn, struct sdistname *out, struct wwerr *err)
{
	static const char *const suffixes[] = { ".tar.gz", ".zip" };
	const char *suffix = NULL;
	size_t len, stem, i;
	char q[128], ver[VERSION_MAX_LEN + 1];
	int sawdash = 0;

	memset(out, 0, sizeof(*out));
	if (fn == NULL)
		return wwerr_set(err, WHEELNAME_E_LENGTH, "no sdist filename");
	len = strnlen(fn, WHEELNAME_MAX + 1);
	if (fn_check(fn, len, "sdist", err) == -1)
		return -1;
	for (i = 0; i < WW_ARRLEN(suffixes); i++)
		if (util_has_suffix(fn, len, suffixes[i]))
			suffix = suffixes[i];
	if (suffix == NULL)
		return wwerr_set(err, WHEELNAME_E_SUFFIX,
		    "%s: an sdist filename must end in .tar.gz (or legacy .zip)",
		    wn_quote(fn, len, q, sizeof(q)));
	util_strlcpy(out->suffix, suffix, sizeof(out->suffix));
	stem = len - strlen(suffix);

	/* Rightmost '-' whose remainder is a version: names may hold '-'. */
	for (i = stem; i > 0; i--) {
		if (fn[i - 1] != '-')
			continue;
		sawdash = 1;
		/*
		 * Strict PEP 440 here: '_' for '-' is a wheel convention,
		 * and pip never read an sdist's "1.0_1" as 1.0.post1.
		 */
		if (stem - i > VERSION_MAX_LEN)
			continue;
		memcpy(ver, fn + i, stem - i);
		ver[stem - i] = '\0';
		if (version_normalize(ver, out->version_norm,
		    sizeof(out->version_norm)) == -1)
			continue;
		if (i - 1 == 0 || i - 1 > NAME_MAX_LEN ||
		    !name_validn(fn, i - 1))
			return wwerr_set(err, WHEELNAME_E_NAME,
			    "%s: \"%.*s\" is not a valid project name",
			    wn_quote(fn, len, q, sizeof(q)),
			    (int)(i - 1 > 64 ? 64 : i - 1), fn);
		if (copy_part(out->name, sizeof(out->name), fn, i - 1) == -1 ||
		    name_normalizen(fn, i - 1, out->normalized,
		    sizeof(out->normalized)) == -1 ||
		    copy_part(out->version, sizeof(out->version), fn + i,
		    stem - i) == -1)
			return wwerr_set(err, WHEELNAME_E_NAME,
			    "%s: project name cannot be normalized",
			    wn_quote(fn, len, q, sizeof(q)));
		wwerr_clear(err);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (!sawdash)
		return wwerr_set(err, WHEELNAME_E_PARTS,
		    "%s: no '-' between name and version",
		    wn_quote(fn, len, q, sizeof(q)));
	return wwerr_set(err, WHEELNAME_E_VERSION,
	    "%s: no valid PEP 440 version after any '-'",
	    wn_quote(fn, len, q, sizeof(q)));
}

int
sdistname_format(const char *name, const char *version, char *out,
    size_t outlen)
{
	char esc[NAME_MAX_LEN + 1], ver[VERSION_MAX_LEN + 1];
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (name == NULL || version == NULL ||
	    name_escape(name, esc, sizeof(esc)) == -1 ||
	    version_normalize(version, ver, sizeof(ver)) == -1)
		return -1;
	n = snprintf(out, outlen, "%s-%s.tar.gz", esc, ver);
	if (n < 0 || (size_t)n >= outlen || n > WHEELNAME_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
distname_kind(const char *fn)
{
	size_t len;

	if (fn == NULL)
		return 0;
	len = strnlen(fn, WHEELNAME_MAX + 1);
	if (len > WHEELNAME_MAX)
		return 0;
	if (util_has_suffix(fn, len, ".whl"))
		return 'w';
	if (util_has_suffix(fn, len, ".tar.gz") || util_has_suffix(fn, len, ".zip"))
		return 's';
	return 0;
}
