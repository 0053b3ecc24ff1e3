/*
 * requirement.c: PEP 508 requirement lines and environment markers.
 *
 * The tokenizer reproduces the regular expressions of packaging 23.0's
 * _tokenizer.py rule by rule (word boundaries, the SPECIFIER regex with its
 * lookbehinds, Python's "$" that also matches before a final newline),
 * because agreeing with pip on which lines are valid matters more than
 * elegance: a line pip accepts and we refuse (or the reverse) is a bug
 * report. Where packaging 23.0 crashes or loses meaning, requirement.h says
 * what we do instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "requirement.h"
#include "specifier.h"
#include "util.h"
#include "version.h"

#define REQ_BUF_MAX	(4 * REQ_MAX_LINE + 64)	/* canonical text bound */

/* ---------------------------------------------------------------------- */
/* Character classes (ASCII; bytes >= 0x80 count as Unicode word chars). */

static int
c_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
c_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
c_word(unsigned char c)
{
	return c_alnum(c) || c == '_' || c >= 0x80;
}

/* Python's \s for ASCII: str.isspace(). */
static int
c_pyspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static int
c_sep(unsigned char c)
{
	return c == '-' || c == '_' || c == '.';
}

static unsigned char
c_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* packaging.utils.canonicalize_name: runs of -_. become "-", lowercase. */
static char *
canon_name(const char *s, size_t n)
{
	char *out, *o;
	size_t i;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i < n; i++) {
		if (c_sep((unsigned char)s[i])) {
			while (i + 1 < n && c_sep((unsigned char)s[i + 1]))
				i++;
			*o++ = '-';
		} else
			*o++ = (char)c_lower((unsigned char)s[i]);
	}
	*o = '\0';
	return out;
}

/* ---------------------------------------------------------------------- */
/* Tokenizer */

struct tk {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	const char	*what;		/* "requirement" or "marker" */
	struct wwerr	*err;
};

/* \b at p: word-ness differs on the two sides. */
static int
tk_boundary(const struct tk *t, size_t p)
{
	int before = p > 0 && c_word((unsigned char)t->s[p - 1]);
	int after = p < t->len && c_word((unsigned char)t->s[p]);

	return before != after;
}

/* Python's "$" without MULTILINE: the end, or just before a final \n. */
static int
tk_end(const struct tk *t)
{
	return t->pos == t->len ||
	    (t->pos + 1 == t->len && t->s[t->pos] == '\n');
}

static void
tk_ws(struct tk *t)
{
	while (t->pos < t->len && (t->s[t->pos] == ' ' || t->s[t->pos] == '\t'))
		t->pos++;
}

static int
tk_peekc(const struct tk *t, char c)
{
	return t->pos < t->len && t->s[t->pos] == c;
}

/* Render s[0..n) for an error message: escaped, cut at ~max bytes. */
static void
tk_show(const char *s, size_t n, char *out, size_t outlen, size_t max)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n && o + 8 < outlen; i++) {
		if (i >= max) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Fail at position p: 'what "input": at column N ("rest"): reason'. */
static int
tk_fail_at(struct tk *t, int code, size_t p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
tk_fail_at(struct tk *t, int code, size_t p, const char *fmt, ...)
{
	char reason[200], in[160], rest[48];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	tk_show(t->s, t->len, in, sizeof(in), 100);
	if (p < t->len) {
		tk_show(t->s + p, t->len - p, rest, sizeof(rest), 20);
		return wwerr_set(t->err, code,
		    "%s \"%s\": at column %zu (\"%s\"): %s", t->what, in,
		    p + 1, rest, reason);
	}
	return wwerr_set(t->err, code, "%s \"%s\": at the end: %s", t->what,
	    in, reason);
}

#define tk_fail(t, code, ...) tk_fail_at((t), (code), (t)->pos, __VA_ARGS__)

/* IDENTIFIER: \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b, with backtracking. */
static size_t
tk_ident(const struct tk *t)
{
	size_t p = t->pos, end;

	if (p >= t->len || !c_alnum((unsigned char)t->s[p]) ||
	    !tk_boundary(t, p))
		return 0;
	end = p + 1;
	while (end < t->len && (c_alnum((unsigned char)t->s[end]) ||
	    c_sep((unsigned char)t->s[end])))
		end++;
	for (; end > p; end--)
		if (tk_boundary(t, end))
			return end - p;
	return 0;
}

/* \bWORD\b at the current position. */
static int
tk_keyword(const struct tk *t, const char *w)
{
	size_t n = strlen(w);

	return t->len - t->pos >= n && memcmp(t->s + t->pos, w, n) == 0 &&
	    tk_boundary(t, t->pos) && tk_boundary(t, t->pos + n);
}

/* --- SPECIFIER: Specifier._operator_regex_str + _version_regex_str ---- */

enum spec_kind { SK_ARBITRARY, SK_EQ, SK_COMPAT, SK_OTHER };

/* Case-insensitive: the first of words[] that s starts with; its length. */
static size_t
match_word(const char *s, size_t n, const char *const *words)
{
	size_t i, k, wl;

	for (i = 0; words[i] != NULL; i++) {
		wl = strlen(words[i]);
		if (wl > n)
			continue;
		for (k = 0; k < wl; k++)
			if (c_lower((unsigned char)s[k]) !=
			    (unsigned char)words[i][k])
				break;
		if (k == wl)
			return wl;
	}
	return 0;
}

static size_t
skip_digits(const char *s, size_t n, size_t i)
{
	while (i < n && c_digit((unsigned char)s[i]))
		i++;
	return i;
}

/* [-_\.]? WORD [-_\.]? [0-9]*  (the pre-release and dev shapes) */
static size_t
match_labelled(const char *s, size_t n, size_t i, const char *const *words)
{
	size_t j = i, w;

	if (j < n && c_sep((unsigned char)s[j]))
		j++;
	if ((w = match_word(s + j, n - j, words)) == 0)
		return i;	/* without the separator no word can start */
	j += w;
	if (j < n && c_sep((unsigned char)s[j]))
		j++;
	return skip_digits(s, n, j);
}

static const char *const pre_words[] = {
	"alpha", "beta", "preview", "pre", "a", "b", "c", "rc", NULL
};
static const char *const post_words[] = { "post", "rev", "r", NULL };
static const char *const dev_words[] = { "dev", NULL };

/* The version part after the operator; length matched or -1. */
static long
match_spec_version(const char *s, size_t n, enum spec_kind kind)
{
	size_t i = 0, j, comps;

	while (i < n && c_pyspace((unsigned char)s[i]))
		i++;
	if (kind == SK_ARBITRARY) {
		while (i < n && !c_pyspace((unsigned char)s[i]) &&
		    s[i] != ';' && s[i] != ')')
			i++;
		return (long)i;
	}
	if (i < n && (s[i] == 'v' || s[i] == 'V'))
		i++;
	/* (?:[0-9]+!)? then [0-9]+: backtrack the epoch if no release. */
	j = skip_digits(s, n, i);
	if (j > i && j < n && s[j] == '!' && j + 1 < n &&
	    c_digit((unsigned char)s[j + 1]))
		i = j + 1;
	if (i >= n || !c_digit((unsigned char)s[i]))
		return -1;
	i = skip_digits(s, n, i);
	comps = 1;
	while (i + 1 < n && s[i] == '.' && c_digit((unsigned char)s[i + 1])) {
		i = skip_digits(s, n, i + 1);
		comps++;
	}
	if (kind == SK_COMPAT && comps < 2)
		return -1;
	if (kind == SK_EQ && i + 1 < n && s[i] == '.' && s[i + 1] == '*')
		return (long)(i + 2);
	i = match_labelled(s, n, i, pre_words);
	/* post: (?:-[0-9]+)|(?:[-_\.]?(post|rev|r)[-_\.]?[0-9]*) */
	if (i + 1 < n && s[i] == '-' && c_digit((unsigned char)s[i + 1]))
		i = skip_digits(s, n, i + 1);
	else
		i = match_labelled(s, n, i, post_words);
	i = match_labelled(s, n, i, dev_words);
	if (kind == SK_EQ && i + 1 < n && s[i] == '+' &&
	    c_alnum((unsigned char)s[i + 1])) {
		i++;
		while (i < n && c_alnum((unsigned char)s[i]))
			i++;
		while (i + 1 < n && c_sep((unsigned char)s[i]) &&
		    c_alnum((unsigned char)s[i + 1])) {
			i++;
			while (i < n && c_alnum((unsigned char)s[i]))
				i++;
		}
	}
	return (long)i;
}

/* Length of the SPECIFIER token at s, 0 if none. */
static size_t
spec_token(const char *s, size_t n)
{
	static const struct {
		const char	*op;
		enum spec_kind	 kind;
	} ops[] = {
		{ "~=", SK_COMPAT }, { "==", SK_EQ }, { "!=", SK_EQ },
		{ "<=", SK_OTHER }, { ">=", SK_OTHER }, { "<", SK_OTHER },
		{ ">", SK_OTHER }, { "===", SK_ARBITRARY },
	};
	size_t i, ol;
	long v;

	for (i = 0; i < WW_ARRLEN(ops); i++) {
		ol = strlen(ops[i].op);
		if (n < ol || memcmp(s, ops[i].op, ol) != 0)
			continue;
		if ((v = match_spec_version(s + ol, n - ol, ops[i].kind)) >= 0)
			return ol + (size_t)v;
	}
	return 0;
}

/* Specifier(s) would accept s: ^\s* SPECIFIER \s*$ */
static int
spec_fullmatch(const char *s)
{
	size_t n = strlen(s), i = 0, m;

	while (i < n && c_pyspace((unsigned char)s[i]))
		i++;
	if ((m = spec_token(s + i, n - i)) == 0)
		return 0;
	i += m;
	while (i < n && c_pyspace((unsigned char)s[i]))
		i++;
	return i == n;
}

/* ---------------------------------------------------------------------- */
/* Markers */

enum mvar {
	MV_NONE = -1,
	MV_PYTHON_VERSION, MV_PYTHON_FULL_VERSION, MV_OS_NAME, MV_SYS_PLATFORM,
	MV_PLATFORM_RELEASE, MV_PLATFORM_SYSTEM, MV_PLATFORM_VERSION,
	MV_PLATFORM_MACHINE, MV_PLATFORM_PYTHON_IMPLEMENTATION,
	MV_IMPLEMENTATION_NAME, MV_IMPLEMENTATION_VERSION, MV_EXTRA,
	MV_COUNT
};

static const char *const mvar_names[MV_COUNT] = {
	"python_version", "python_full_version", "os_name", "sys_platform",
	"platform_release", "platform_system", "platform_version",
	"platform_machine", "platform_python_implementation",
	"implementation_name", "implementation_version", "extra",
};

/* Spellings in the order of the VARIABLE regex's alternation. */
static const struct {
	const char	*text;
	enum mvar	 var;
} mvar_spellings[] = {
	{ "python_version", MV_PYTHON_VERSION },
	{ "python_full_version", MV_PYTHON_FULL_VERSION },
	{ "os_name", MV_OS_NAME }, { "os.name", MV_OS_NAME },
	{ "sys_platform", MV_SYS_PLATFORM },
	{ "sys.platform", MV_SYS_PLATFORM },
	{ "platform_release", MV_PLATFORM_RELEASE },
	{ "platform_system", MV_PLATFORM_SYSTEM },
	{ "platform_version", MV_PLATFORM_VERSION },
	{ "platform.version", MV_PLATFORM_VERSION },
	{ "platform_machine", MV_PLATFORM_MACHINE },
	{ "platform.machine", MV_PLATFORM_MACHINE },
	{ "platform_python_implementation", MV_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "platform.python_implementation", MV_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "python_implementation", MV_PLATFORM_PYTHON_IMPLEMENTATION },
	{ "implementation_name", MV_IMPLEMENTATION_NAME },
	{ "implementation_version", MV_IMPLEMENTATION_VERSION },
	{ "extra", MV_EXTRA },
};

enum mop {
	MO_LT, MO_LE, MO_EQ, MO_NE, MO_GE, MO_GT, MO_COMPAT, MO_ARBITRARY,
	MO_IN, MO_NOT_IN
};

static const char *const mop_names[] = {
	"<", "<=", "==", "!=", ">=", ">", "~=", "===", "in", "not in"
};

struct mnode {
	int		 is_list;
	/* item */
	enum mvar	 lvar, rvar;	/* MV_NONE: the side is a literal */
	char		*lstr, *rstr;	/* literal values */
	enum mop	 op;
	struct specset	*spec;		/* op + rstr, if that is a specifier */
	/* list: kids[0] ops[0] kids[1] ... ; ops: 0 and, 1 or */
	struct mnode	**kids;
	unsigned char	*ops;
	size_t		 nkids;
};

struct marker {
	struct mnode	*root;		/* always a list */
	char		*str;
};

static void
mnode_free(struct mnode *n)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->is_list) {
		for (i = 0; i < n->nkids; i++)
			mnode_free(n->kids[i]);
		free(n->kids);
		free(n->ops);
	} else {
		free(n->lstr);
		free(n->rstr);
		specset_free(n->spec);
	}
	free(n);
}

static int
utf8_put(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, u, n);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = c_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The value of a quoted string as ast.literal_eval gives it: Python's
 * escapes (\\ \' \" \a \b \f \n \r \t \v \ooo \xhh \uXXXX \UXXXXXXXX,
 * backslash-newline; unknown escapes stay as written). Starts at the
 * opening quote; on success t->pos is past the closing one.
 */
static int
parse_quoted(struct tk *t, char **out)
{
	struct buf b;
	size_t start = t->pos, i, end, k, nd;
	char q = t->s[t->pos];
	unsigned long cp;
	unsigned char c;
	int h;

	for (end = start + 1; end < t->len && t->s[end] != q; end++)
		;
	if (end >= t->len)
		return tk_fail(t, REQ_ERR_MARKER, "unterminated quoted string");
	buf_init(&b, REQ_MAX_LINE * 4);
	for (i = start + 1; i < end; i++) {
		c = (unsigned char)t->s[i];
		if (c == '\n' || c == '\r') {
			tk_fail_at(t, REQ_ERR_MARKER, i,
			    "line break inside a quoted string");
			goto fail;
		}
		if (c != '\\') {
			if (buf_addc(&b, (char)c) == -1)
				goto nomem;
			continue;
		}
		if (i + 1 >= end) {
			tk_fail_at(t, REQ_ERR_MARKER, i,
			    "backslash escapes the closing quote");
			goto fail;
		}
		c = (unsigned char)t->s[++i];
		cp = 0;
		switch (c) {
		case '\n':
			continue;
		case '\\': case '\'': case '"':
			cp = c;
			break;
		case 'a': cp = 7; break;
		case 'b': cp = 8; break;
		case 'f': cp = 12; break;
		case 'n': cp = 10; break;
		case 'r': cp = 13; break;
		case 't': cp = 9; break;
		case 'v': cp = 11; break;
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			for (k = 0; k < 3 && i < end && t->s[i] >= '0' &&
			    t->s[i] <= '7'; k++, i++)
				cp = cp * 8 + (unsigned long)(t->s[i] - '0');
			i--;
			break;
		case 'x': case 'u': case 'U':
			nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			for (k = 0; k < nd; k++) {
				h = i + 1 + k < end ?
				    hexval((unsigned char)t->s[i + 1 + k]) : -1;
				if (h < 0) {
					tk_fail_at(t, REQ_ERR_MARKER, i - 1,
					    "truncated \\%c escape", c);
					goto fail;
				}
				cp = cp * 16 + (unsigned long)h;
			}
			i += nd;
			if (cp > 0x10ffff) {
				tk_fail_at(t, REQ_ERR_MARKER, i - nd - 1,
				    "escape beyond U+10FFFF");
				goto fail;
			}
			break;
		case 'N':
			tk_fail_at(t, REQ_ERR_MARKER, i - 1,
			    "\\N{...} escapes are not supported");
			goto fail;
		case '\r':
			tk_fail_at(t, REQ_ERR_MARKER, i,
			    "line break inside a quoted string");
			goto fail;
		default:
			if (buf_addc(&b, '\\') == -1 ||
			    buf_addc(&b, (char)c) == -1)
				goto nomem;
			continue;
		}
		if (cp == 0) {
			tk_fail_at(t, REQ_ERR_MARKER, i,
			    "NUL character in a quoted string");
			goto fail;
		}
		if (cp >= 0xd800 && cp <= 0xdfff) {
			tk_fail_at(t, REQ_ERR_MARKER, i,
			    "lone surrogate in a quoted string");
			goto fail;
		}
		if (utf8_put(&b, cp) == -1)
			goto nomem;
	}
	if ((*out = buf_steal(&b)) == NULL &&
	    (*out = strdup("")) == NULL)
		goto nomem;
	t->pos = end + 1;
	return 0;
nomem:
	wwerr_set(t->err, REQ_ERR_NOMEM, "%s: out of memory", t->what);
fail:
	buf_free(&b);
	return -1;
}

/* marker_var = VARIABLE | QUOTED_STRING */
static int
parse_marker_var(struct tk *t, enum mvar *var, char **str)
{
	size_t i, n;

	*var = MV_NONE;
	*str = NULL;
	if (t->pos < t->len && tk_boundary(t, t->pos)) {
		for (i = 0; i < WW_ARRLEN(mvar_spellings); i++) {
			n = strlen(mvar_spellings[i].text);
			if (t->len - t->pos >= n &&
			    memcmp(t->s + t->pos, mvar_spellings[i].text,
			    n) == 0 && tk_boundary(t, t->pos + n)) {
				*var = mvar_spellings[i].var;
				t->pos += n;
				return 0;
			}
		}
	}
	if (tk_peekc(t, '\'') || tk_peekc(t, '"'))
		return parse_quoted(t, str);
	return tk_fail(t, REQ_ERR_MARKER,
	    "expected a marker variable or quoted string");
}

static int
parse_marker_op(struct tk *t, enum mop *op)
{
	static const struct {
		const char	*text;
		enum mop	 op;
	} ops[] = {
		{ "===", MO_ARBITRARY }, { "==", MO_EQ }, { "~=", MO_COMPAT },
		{ "!=", MO_NE }, { "<=", MO_LE }, { ">=", MO_GE },
		{ "<", MO_LT }, { ">", MO_GT },
	};
	size_t i, n;

	if (tk_keyword(t, "in")) {
		t->pos += 2;
		*op = MO_IN;
		return 0;
	}
	if (tk_keyword(t, "not")) {
		t->pos += 3;
		if (!tk_peekc(t, ' ') && !tk_peekc(t, '\t'))
			return tk_fail(t, REQ_ERR_MARKER,
			    "expected whitespace after 'not'");
		tk_ws(t);
		if (!tk_keyword(t, "in"))
			return tk_fail(t, REQ_ERR_MARKER,
			    "expected 'in' after 'not'");
		t->pos += 2;
		*op = MO_NOT_IN;
		return 0;
	}
	for (i = 0; i < WW_ARRLEN(ops); i++) {
		n = strlen(ops[i].text);
		if (t->len - t->pos >= n &&
		    memcmp(t->s + t->pos, ops[i].text, n) == 0) {
			t->pos += n;
			*op = ops[i].op;
			return 0;
		}
	}
	return tk_fail(t, REQ_ERR_MARKER, "expected marker operator, one of "
	    "<=, <, !=, ==, >=, >, ~=, ===, in, not in");
}

/* PEP 685: extra names compare normalized. In place; never longer. */
static void
canon_inplace(char *s)
{
	char *c = canon_name(s, strlen(s));

	if (c != NULL) {
		memcpy(s, c, strlen(c) + 1);
		free(c);
	}
}

/* marker_item = WS? marker_var WS? marker_op WS? marker_var WS? */
static int
parse_marker_item(struct tk *t, struct mnode **out)
{
	struct mnode *n;
	char *spec = NULL;
	size_t sl;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	tk_ws(t);
	if (parse_marker_var(t, &n->lvar, &n->lstr) == -1)
		goto fail;
	tk_ws(t);
	if (parse_marker_op(t, &n->op) == -1)
		goto fail;
	tk_ws(t);
	if (parse_marker_var(t, &n->rvar, &n->rstr) == -1)
		goto fail;
	tk_ws(t);
	if (n->lvar == MV_EXTRA && n->rstr != NULL)
		canon_inplace(n->rstr);
	if (n->rvar == MV_EXTRA && n->lstr != NULL)
		canon_inplace(n->lstr);
	/* Precompute the specifier packaging would build from op + value. */
	if (n->rstr != NULL && n->op != MO_IN && n->op != MO_NOT_IN &&
	    n->op != MO_ARBITRARY) {
		sl = strlen(mop_names[n->op]) + strlen(n->rstr) + 1;
		if ((spec = malloc(sl)) == NULL) {
			wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
			goto fail;
		}
		snprintf(spec, sl, "%s%s", mop_names[n->op], n->rstr);
		if (spec_fullmatch(spec) &&
		    specset_parse(spec, &n->spec, NULL) == -1)
			n->spec = NULL;
		free(spec);
	}
	*out = n;
	return 0;
fail:
	mnode_free(n);
	return -1;
}

static int parse_marker_list(struct tk *, int, struct mnode **);

/*
 * marker_atom = WS? '(' WS? marker WS? ')' WS? | WS? marker_item WS?
 * A parenthesized group of one atom is that atom: "((a))" is "a".
 */
static int
parse_marker_atom(struct tk *t, int depth, struct mnode **out)
{
	struct mnode *inner;
	size_t open;

	tk_ws(t);
	if (!tk_peekc(t, '('))
		return parse_marker_item(t, out);
	if (depth >= MARKER_MAX_DEPTH)
		return tk_fail(t, REQ_ERR_TOO_LONG,
		    "parentheses nested more than %d deep", MARKER_MAX_DEPTH);
	open = t->pos++;
	tk_ws(t);
	if (parse_marker_list(t, depth + 1, &inner) == -1)
		return -1;
	tk_ws(t);
	if (!tk_peekc(t, ')')) {
		mnode_free(inner);
		return tk_fail(t, REQ_ERR_MARKER,
		    "expected ')' to close the '(' at column %zu",
		    open + 1);
	}
	t->pos++;
	tk_ws(t);
	if (inner->nkids == 1) {
		*out = inner->kids[0];
		inner->nkids = 0;
		mnode_free(inner);
	} else
		*out = inner;
	return 0;
}

/* marker = marker_atom (BOOLOP marker_atom)* */
static int
parse_marker_list(struct tk *t, int depth, struct mnode **out)
{
	struct mnode *l, *kid = NULL, **nk;
	unsigned char *no;
	unsigned char op = 0;
	size_t cap = 0;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	l->is_list = 1;
	for (;;) {
		if (parse_marker_atom(t, depth, &kid) == -1)
			goto fail;
		if (l->nkids == cap) {
			cap = cap ? cap * 2 : 4;
			nk = reallocarray(l->kids, cap, sizeof(*nk));
			no = nk ? reallocarray(l->ops, cap, 1) : NULL;
			if (nk)
				l->kids = nk;
			if (no)
				l->ops = no;
			if (nk == NULL || no == NULL) {
				mnode_free(kid);
				wwerr_set(t->err, REQ_ERR_NOMEM,
				    "out of memory");
				goto fail;
			}
		}
		if (l->nkids > 0)
			l->ops[l->nkids - 1] = op;
		l->kids[l->nkids++] = kid;
		if (tk_keyword(t, "or")) {
			op = 1;
			t->pos += 2;
		} else if (tk_keyword(t, "and")) {
			op = 0;
			t->pos += 3;
		} else
			break;
	}
	*out = l;
	return 0;
fail:
	mnode_free(l);
	return -1;
}

/*
 * Whether "q" + v + "q" parses back to v: no quote q, no line break, and
 * every backslash followed by a character that starts no escape.
 */
static int
raw_quotable(const char *v, char q)
{
	const char *p;

	for (p = v; *p; p++) {
		if (*p == q || *p == '\n' || *p == '\r')
			return 0;
		if (*p == '\\' && (p[1] == '\0' ||
		    strchr("\\'\"abfnrtvxuUN01234567\n\r", p[1]) != NULL))
			return 0;
	}
	return 1;
}

/*
 * A value quoted so that it parses back to itself: as packaging prints it
 * ("value") whenever that is faithful, else in single quotes, else with
 * escapes.
 */
static int
quote_value(struct buf *b, const char *v)
{
	const unsigned char *p;

	if (raw_quotable(v, '"'))
		return buf_printf(b, "\"%s\"", v);
	if (raw_quotable(v, '\''))
		return buf_printf(b, "'%s'", v);
	if (buf_addc(b, '"') == -1)
		return -1;
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '\\') {
			if (buf_addstr(b, "\\\\") == -1)
				return -1;
		} else if (*p == '"' || *p == '\n' || *p == '\r') {
			if (buf_printf(b, "\\x%02x", *p) == -1)
				return -1;
		} else if (buf_addc(b, (char)*p) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

static int
format_node(struct buf *b, const struct mnode *n, int top)
{
	size_t i;

	if (!n->is_list) {
		if ((n->lvar != MV_NONE ? buf_addstr(b, mvar_names[n->lvar]) :
		    quote_value(b, n->lstr)) == -1)
			return -1;
		if (buf_printf(b, " %s ", mop_names[n->op]) == -1)
			return -1;
		return n->rvar != MV_NONE ? buf_addstr(b, mvar_names[n->rvar]) :
		    quote_value(b, n->rstr);
	}
	if (n->nkids == 1)
		return format_node(b, n->kids[0], top);
	if (!top && buf_addc(b, '(') == -1)
		return -1;
	for (i = 0; i < n->nkids; i++) {
		if (i > 0 && buf_addstr(b, n->ops[i - 1] ? " or " :
		    " and ") == -1)
			return -1;
		if (format_node(b, n->kids[i], 0) == -1)
			return -1;
	}
	return top ? 0 : buf_addc(b, ')');
}

/* Parse a marker at t->pos; used by marker_parse and requirement_parse. */
static int
marker_parse_tk(struct tk *t, struct marker **out)
{
	struct marker *m;
	struct buf b;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	if (parse_marker_list(t, 0, &m->root) == -1) {
		free(m);
		return -1;
	}
	buf_init(&b, REQ_BUF_MAX);
	if (format_node(&b, m->root, 1) == -1 ||
	    (m->str = buf_steal(&b)) == NULL) {
		buf_free(&b);
		marker_free(m);
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

int
marker_parse(const char *s, struct marker **out, struct wwerr *err)
{
	struct tk t = { s, 0, 0, "marker", err };
	struct marker *m;

	*out = NULL;
	t.len = strlen(s);
	if (t.len > REQ_MAX_LINE)
		return wwerr_set(err, REQ_ERR_TOO_LONG,
		    "marker of %zu bytes is longer than %d", t.len,
		    REQ_MAX_LINE);
	if (marker_parse_tk(&t, &m) == -1)
		return -1;
	tk_ws(&t);
	if (!tk_end(&t)) {
		marker_free(m);
		return tk_fail(&t, REQ_ERR_MARKER,
		    "expected 'and', 'or' or the end of the marker");
	}
	if (strlen(m->str) > REQ_MAX_LINE) {
		wwerr_set(err, REQ_ERR_TOO_LONG, "marker of %zu bytes is "
		    "%zu bytes once written canonically (quotes escaped), "
		    "longer than %d", t.len, strlen(m->str), REQ_MAX_LINE);
		marker_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void
marker_free(struct marker *m)
{
	if (m == NULL)
		return;
	mnode_free(m->root);
	free(m->str);
	free(m);
}

const char *
marker_str(const struct marker *m)
{
	return m->str;
}

static const char *
env_get(const struct marker_env *env, enum mvar v)
{
	const char *s = NULL;

	switch (v) {
	case MV_PYTHON_VERSION: s = env->python_version; break;
	case MV_PYTHON_FULL_VERSION: s = env->python_full_version; break;
	case MV_OS_NAME: s = env->os_name; break;
	case MV_SYS_PLATFORM: s = env->sys_platform; break;
	case MV_PLATFORM_RELEASE: s = env->platform_release; break;
	case MV_PLATFORM_SYSTEM: s = env->platform_system; break;
	case MV_PLATFORM_VERSION: s = env->platform_version; break;
	case MV_PLATFORM_MACHINE: s = env->platform_machine; break;
	case MV_PLATFORM_PYTHON_IMPLEMENTATION:
		s = env->platform_python_implementation;
		break;
	case MV_IMPLEMENTATION_NAME: s = env->implementation_name; break;
	case MV_IMPLEMENTATION_VERSION: s = env->implementation_version; break;
	case MV_EXTRA: s = env->extra; break;
	default: break;
	}
	return s ? s : "";
}

/* Python's str comparison operators; -1 for ~= and === (undefined). */
static int
string_op(enum mop op, const char *l, const char *r)
{
	int c = strcmp(l, r);

	switch (op) {
	case MO_LT: return c < 0;
	case MO_LE: return c <= 0;
	case MO_EQ: return c == 0;
	case MO_NE: return c != 0;
	case MO_GE: return c >= 0;
	case MO_GT: return c > 0;
	case MO_IN: return strstr(r, l) != NULL;
	case MO_NOT_IN: return strstr(r, l) == NULL;
	default: return -1;
	}
}

/*
 * "===": packaging's _compare_arbitrary, str(Version(lhs)).lower() ==
 * rhs.lower(); a left side that is not a version compares as written
 * (packaging 23.0 raises there). -1 if "===" + rhs is no specifier.
 */
static int
arbitrary_eq(const char *l, const char *r)
{
	struct version *v = NULL;
	char spec[REQ_MAX_LINE + 8];
	size_t a, b;
	int res;

	if (snprintf(spec, sizeof(spec), "===%s", r) >= (int)sizeof(spec) ||
	    !spec_fullmatch(spec))
		return -1;
	for (a = 0; c_pyspace((unsigned char)r[a]); a++)
		;
	for (b = strlen(r); b > a && c_pyspace((unsigned char)r[b - 1]); b--)
		;
	if (version_parse(l, &v) == 0)
		l = version_str(v);
	res = strlen(l) == b - a && strncasecmp(l, r + a, b - a) == 0;
	version_free(v);
	return res;
}

/* One comparison: 1, 0, or -1 (undefined; err set). */
static int
eval_item(const struct mnode *n, const struct marker_env *env,
    struct wwerr *err)
{
	const char *l, *r;
	char *lc = NULL, *rc = NULL, *spec = NULL;
	struct specset *ss = NULL;
	struct version *v = NULL;
	int res = -1;
	size_t sl;

	l = n->lvar != MV_NONE ? env_get(env, n->lvar) : n->lstr;
	r = n->rvar != MV_NONE ? env_get(env, n->rvar) : n->rstr;
	if (n->lvar == MV_EXTRA || n->rvar == MV_EXTRA) {
		lc = canon_name(l, strlen(l));
		rc = canon_name(r, strlen(r));
		if (lc == NULL || rc == NULL)
			goto nomem;
		l = lc;
		r = rc;
	}
	if (n->op == MO_ARBITRARY) {
		res = arbitrary_eq(l, r);
		goto done;
	}
	if (n->op != MO_IN && n->op != MO_NOT_IN) {
		/* packaging: Specifier(op + rhs).contains(lhs) if both parse */
		if (n->rvar == MV_NONE)
			ss = n->spec;
		else {
			sl = strlen(mop_names[n->op]) + strlen(r) + 1;
			if ((spec = malloc(sl)) == NULL)
				goto nomem;
			snprintf(spec, sl, "%s%s", mop_names[n->op], r);
			if (spec_fullmatch(spec) &&
			    specset_parse(spec, &ss, NULL) == -1)
				ss = NULL;
		}
		if (ss != NULL && version_parse(l, &v) == 0) {
			res = specset_contains(ss, v, SPEC_PRE_ALLOW);
			goto done;
		}
	}
	res = string_op(n->op, l, r);
done:
	if (res == -1)
		wwerr_set(err, REQ_ERR_UNDEFINED,
		    "marker: undefined comparison '%s' %s '%s' (%s needs "
		    "versions)", l, mop_names[n->op], r, mop_names[n->op]);
	goto out;
nomem:
	wwerr_set(err, REQ_ERR_NOMEM, "marker: out of memory");
	res = -1;
out:
	if (ss != n->spec)
		specset_free(ss);
	version_free(v);
	free(spec);
	free(lc);
	free(rc);
	return res;
}

/* packaging's any(all(group) for group in groups split at "or"). */
static int
eval_node(const struct mnode *n, const struct marker_env *env,
    struct wwerr *err)
{
	int any = 0, all = 1, failed = 0, r;
	size_t i;

	if (!n->is_list)
		return eval_item(n, env, err);
	for (i = 0; i < n->nkids; i++) {
		if (i > 0 && n->ops[i - 1]) {
			any |= all;
			all = 1;
		}
		if ((r = eval_node(n->kids[i], env, err)) == -1)
			failed = 1;
		else if (!r)
			all = 0;
	}
	any |= all;
	return failed ? -1 : any;
}

int
marker_eval(const struct marker *m, const struct marker_env *env,
    struct wwerr *err)
{
	return eval_node(m->root, env, err);
}

int
marker_evaluate(const struct marker *m, const struct marker_env *env)
{
	return marker_eval(m, env, NULL) == 1;
}

void
marker_env_linux(struct marker_env *env, struct marker_env_storage *st,
    const char *python_full_version, const char *machine)
{
	const char *dot;
	size_t n;

	util_strlcpy(st->pyfull, python_full_version, sizeof(st->pyfull));
	/* "3.11.2" -> "3.11"; "3.13.0rc1" -> "3.13" */
	n = strlen(st->pyfull);
	if ((dot = strchr(st->pyfull, '.')) != NULL) {
		n = (size_t)(dot - st->pyfull) + 1;
		while (st->pyfull[n] >= '0' && st->pyfull[n] <= '9')
			n++;
	}
	if (n >= sizeof(st->py))
		n = sizeof(st->py) - 1;
	memcpy(st->py, st->pyfull, n);
	st->py[n] = '\0';
	if (strcmp(machine, "amd64") == 0)
		machine = "x86_64";
	else if (strcmp(machine, "arm64") == 0)
		machine = "aarch64";
	util_strlcpy(st->machine, machine, sizeof(st->machine));

	memset(env, 0, sizeof(*env));
	env->python_version = st->py;
	env->python_full_version = st->pyfull;
	env->platform_machine = st->machine;
	env->sys_platform = "linux";
	env->platform_system = "Linux";
	env->platform_python_implementation = "CPython";
	env->platform_release = "";
	env->platform_version = "";
	env->implementation_name = "cpython";
	env->implementation_version = st->pyfull;
	env->os_name = "posix";
	env->extra = NULL;
}

/* ---------------------------------------------------------------------- */
/* URLs: packaging's check, done with urllib.parse's rules. */

static int
find_any(const char *s, size_t n, const char *set, size_t from)
{
	size_t i;

	for (i = from; i < n; i++)
		if (strchr(set, s[i]) != NULL)
			return (int)i;
	return -1;
}

/* urllib.parse._check_bracketed_host for "[...]" hosts. */
static int
bracketed_host_ok(const char *h, size_t n)
{
	char tmp[128];
	unsigned char addr[16];
	size_t i;

	if (n > 0 && h[0] == 'v') {
		/* \Av[a-fA-F0-9]+\..+\Z */
		for (i = 1; i < n && hexval((unsigned char)h[i]) >= 0; i++)
			;
		return i > 1 && i + 1 < n && h[i] == '.';
	}
	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	/* ipaddress accepts a non-empty "%scope" on IPv6 addresses. */
	for (i = 0; i < n; i++)
		if (tmp[i] == '%') {
			if (i + 1 == n)
				return 0;
			tmp[i] = '\0';
			break;
		}
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* urllib.parse._check_bracketed_netloc and the bracket balance check. */
static int
netloc_ok(const char *nl, size_t n)
{
	const char *open = memchr(nl, '[', n), *close = memchr(nl, ']', n);
	const char *hp = nl, *p, *b, *c;
	size_t hn = n;

	if ((open == NULL) != (close == NULL))
		return 0;
	if (open == NULL)
		return 1;
	/* hostname_and_port = netloc.rpartition('@')[2] */
	for (p = nl + n; p > nl; p--)
		if (p[-1] == '@') {
			hp = p;
			hn = (size_t)(nl + n - p);
			break;
		}
	if ((b = memchr(hp, '[', hn)) == NULL) {
		/* hostname = hostname_and_port.partition(':')[0] */
		c = memchr(hp, ':', hn);
		return bracketed_host_ok(hp, c ? (size_t)(c - hp) : hn);
	}
	if (b != hp)
		return 0;
	if ((c = memchr(b, ']', hn)) == NULL)
		return bracketed_host_ok(b + 1, hn - 1);
	p = c + 1;
	if (p < hp + hn && *p != ':')
		return 0;
	return bracketed_host_ok(b + 1, (size_t)(c - b - 1));
}

/*
 * packaging 23.0: file: URLs must survive urlunparse(urlparse(url))
 * unchanged; any other URL needs a scheme and a netloc.
 */
static int
url_valid(const char *url)
{
	struct buf u, r;
	const char *s, *path;
	size_t n, i, pl, nl0 = 0, nln = 0;
	int colon, q, h, ok = 0, has_nl = 0, file = 0, scheme = 0;
	const char *query = NULL, *frag = NULL;
	size_t qn = 0, fn = 0;

	buf_init(&u, REQ_MAX_LINE * 2);
	buf_init(&r, REQ_MAX_LINE * 2);
	/* lstrip C0 controls and space; drop \t \r \n everywhere */
	for (s = url; *s && (unsigned char)*s <= 0x20; s++)
		;
	for (; *s; s++)
		if (*s != '\t' && *s != '\r' && *s != '\n' &&
		    buf_addc(&u, *s) == -1)
			goto out;
	s = buf_cstr(&u);
	n = u.len;
	i = 0;
	colon = find_any(s, n, ":", 0);
	if (colon > 0 && ((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z'))) {
		for (i = 0; i < (size_t)colon; i++)
			if (!c_alnum((unsigned char)s[i]) && s[i] != '+' &&
			    s[i] != '-' && s[i] != '.')
				break;
		if (i == (size_t)colon) {
			scheme = 1;
			file = colon == 4 && strncasecmp(s, "file", 4) == 0;
			i = (size_t)colon + 1;
		} else
			i = 0;
	}
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		int d = find_any(s, n, "/?#", i + 2);

		nl0 = i + 2;
		nln = (d < 0 ? n : (size_t)d) - nl0;
		has_nl = 1;
		if (!netloc_ok(s + nl0, nln))
			goto out;
		i = nl0 + nln;
	}
	path = s + i;
	pl = n - i;
	if ((h = find_any(path, pl, "#", 0)) >= 0) {
		frag = path + h + 1;
		fn = pl - (size_t)h - 1;
		pl = (size_t)h;
	}
	if ((q = find_any(path, pl, "?", 0)) >= 0) {
		query = path + q + 1;
		qn = pl - (size_t)q - 1;
		pl = (size_t)q;
	}
	if (!file) {
		ok = scheme && has_nl && nln > 0;
		goto out;
	}
	/* urlunsplit (file is in uses_netloc, not in uses_params) */
	if (buf_addstr(&r, "file:") == -1)
		goto out;
	if (nln > 0 || pl < 2 || path[0] != '/' || path[1] != '/') {
		if (buf_addstr(&r, "//") == -1 ||
		    buf_add(&r, s + nl0, nln) == -1)
			goto out;
		if (pl > 0 && path[0] != '/' && buf_addc(&r, '/') == -1)
			goto out;
	}
	if (buf_add(&r, path, pl) == -1)
		goto out;
	if (qn > 0 && (buf_addc(&r, '?') == -1 || buf_add(&r, query, qn) == -1))
		goto out;
	if (fn > 0 && (buf_addc(&r, '#') == -1 || buf_add(&r, frag, fn) == -1))
		goto out;
	ok = strcmp(buf_cstr(&r), url) == 0;
out:
	buf_free(&u);
	buf_free(&r);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* Requirements */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_extra(struct requirement *r, const char *s, size_t n, struct tk *t)
{
	char **ne, *c;
	size_t i;

	if ((c = canon_name(s, n)) == NULL)
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	for (i = 0; i < r->nextras; i++)
		if (strcmp(r->extras[i], c) == 0) {
			free(c);
			return 0;
		}
	ne = reallocarray(r->extras, r->nextras + 1, sizeof(*ne));
	if (ne == NULL) {
		free(c);
		return wwerr_set(t->err, REQ_ERR_NOMEM, "out of memory");
	}
	r->extras = ne;
	r->extras[r->nextras++] = c;
	return 0;
}

/* extras = '[' WS? (IDENTIFIER (WS? ',' WS? IDENTIFIER)*)? WS? ']' */
static int
parse_extras(struct tk *t, struct requirement *r)
{
	size_t open = t->pos, n;

	t->pos++;
	tk_ws(t);
	if ((n = tk_ident(t)) > 0) {
		if (add_extra(r, t->s + t->pos, n, t) == -1)
			return -1;
		t->pos += n;
		for (;;) {
			tk_ws(t);
			if (tk_ident(t) > 0)
				return tk_fail(t, REQ_ERR_SYNTAX,
				    "expected comma between extra names");
			if (!tk_peekc(t, ','))
				break;
			t->pos++;
			tk_ws(t);
			if ((n = tk_ident(t)) == 0)
				return tk_fail(t, REQ_ERR_SYNTAX,
				    "expected extra name after comma");
			if (add_extra(r, t->s + t->pos, n, t) == -1)
				return -1;
			t->pos += n;
		}
	}
	tk_ws(t);
	if (!tk_peekc(t, ']'))
		return tk_fail(t, REQ_ERR_SYNTAX,
		    "expected ']' to close the '[' at column %zu", open + 1);
	t->pos++;
	if (r->nextras > 1)
		qsort(r->extras, r->nextras, sizeof(*r->extras), cmp_str);
	return 0;
}

/* version_many = (SPECIFIER (WS? ',' WS? SPECIFIER)*)?, as one string. */
static int
parse_version_many(struct tk *t, struct buf *spec)
{
	size_t n;

	while ((n = spec_token(t->s + t->pos, t->len - t->pos)) > 0) {
		if (buf_add(spec, t->s + t->pos, n) == -1)
			return wwerr_set(t->err, REQ_ERR_NOMEM,
			    "out of memory");
		t->pos += n;
		tk_ws(t);
		if (!tk_peekc(t, ','))
			break;
		if (buf_addc(spec, ',') == -1)
			return wwerr_set(t->err, REQ_ERR_NOMEM,
			    "out of memory");
		t->pos++;
		tk_ws(t);
	}
	return 0;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
parse_marker_part(struct tk *t, struct requirement *r, const char *after)
{
	if (!tk_peekc(t, ';'))
		return tk_fail(t, REQ_ERR_SYNTAX,
		    "expected end or semicolon (after %s)", after);
	t->pos++;
	if (marker_parse_tk(t, &r->marker) == -1)
		return -1;
	tk_ws(t);
	return 0;
}

static int
format_requirement(struct requirement *r)
{
	struct buf b;
	size_t i, n;
	int dash;

	buf_init(&b, REQ_BUF_MAX);
	if (buf_addstr(&b, r->name) == -1)
		goto fail;
	for (i = 0; i < r->nextras; i++) {
		/*
		 * packaging takes "a_" as an extra; normalized it is "a-",
		 * which is no identifier. "a_" normalizes back to it.
		 */
		n = strlen(r->extras[i]);
		dash = r->extras[i][n - 1] == '-';
		if (buf_addstr(&b, i == 0 ? "[" : ",") == -1 ||
		    buf_add(&b, r->extras[i], n - dash) == -1 ||
		    (dash && buf_addc(&b, '_') == -1))
			goto fail;
	}
	if (r->nextras > 0 && buf_addc(&b, ']') == -1)
		goto fail;
	if (buf_addstr(&b, specset_str(r->spec)) == -1)
		goto fail;
	if (r->url != NULL && buf_printf(&b, " @ %s", r->url) == -1)
		goto fail;
	if (r->marker != NULL && buf_printf(&b, "%s; %s",
	    r->url != NULL ? " " : "", marker_str(r->marker)) == -1)
		goto fail;
	if ((r->canonical = buf_steal(&b)) == NULL)
		goto fail;
	return 0;
fail:
	buf_free(&b);
	return -1;
}

static int
is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
requirement_parse(const char *s, struct requirement **out, struct wwerr *err)
{
	struct tk t = { s, 0, 0, "requirement", err };
	struct requirement *r;
	struct buf spec;
	struct wwerr serr;
	size_t n, a, b, urlstart, specstart;

	*out = NULL;
	t.len = strlen(s);
	if (t.len > REQ_MAX_LINE)
		return wwerr_set(err, REQ_ERR_TOO_LONG,
		    "requirement of %zu bytes is longer than %d", t.len,
		    REQ_MAX_LINE);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return wwerr_set(err, REQ_ERR_NOMEM, "out of memory");
	buf_init(&spec, REQ_MAX_LINE + 1);
	for (a = 0; a < t.len && is_trim(s[a]); a++)
		;
	for (b = t.len; b > a && is_trim(s[b - 1]); b--)
		;
	if ((r->text = xstrndup(s + a, b - a)) == NULL)
		goto nomem;

	tk_ws(&t);
	if ((n = tk_ident(&t)) == 0) {
		tk_fail(&t, REQ_ERR_SYNTAX,
		    "expected package name at the start of dependency "
		    "specifier");
		goto fail;
	}
	if ((r->name = xstrndup(s + t.pos, n)) == NULL ||
	    (r->normalized = canon_name(s + t.pos, n)) == NULL)
		goto nomem;
	t.pos += n;
	tk_ws(&t);
	if (tk_peekc(&t, '[') && parse_extras(&t, r) == -1)
		goto fail;
	tk_ws(&t);
	specstart = t.pos;
	if (tk_peekc(&t, '@')) {
		t.pos++;
		tk_ws(&t);
		urlstart = t.pos;
		while (t.pos < t.len && s[t.pos] != ' ' && s[t.pos] != '\t')
			t.pos++;
		if (t.pos == urlstart) {
			tk_fail(&t, REQ_ERR_SYNTAX, "expected URL after @");
			goto fail;
		}
		if ((r->url = xstrndup(s + urlstart, t.pos - urlstart)) == NULL)
			goto nomem;
		if (!url_valid(r->url)) {
			tk_fail_at(&t, REQ_ERR_URL, urlstart, "invalid URL%s",
			    strncmp(r->url, "file:", 5) == 0 ? " (file: URLs "
			    "must be absolute, like file:///path)" : " (it "
			    "needs a scheme and a host)");
			goto fail;
		}
		if (!tk_end(&t)) {
			tk_ws(&t);
			if (!tk_end(&t) && parse_marker_part(&t, r,
			    "URL and whitespace") == -1)
				goto fail;
		}
	} else {
		size_t open = 0;
		int paren = tk_peekc(&t, '(');

		if (paren) {
			open = t.pos;
			t.pos++;
		}
		tk_ws(&t);
		if (parse_version_many(&t, &spec) == -1)
			goto fail;
		tk_ws(&t);
		if (paren) {
			if (!tk_peekc(&t, ')')) {
				tk_fail(&t, REQ_ERR_SYNTAX,
				    "expected ')' to close the '(' at column "
				    "%zu", open + 1);
				goto fail;
			}
			t.pos++;
		}
		tk_ws(&t);
		if (!tk_end(&t) && parse_marker_part(&t, r, spec.len ?
		    "version specifier" :
		    "name and no valid version specifier") == -1)
			goto fail;
	}
	if (!tk_end(&t)) {
		tk_fail(&t, REQ_ERR_SYNTAX,
		    "expected end of dependency specifier");
		goto fail;
	}
	wwerr_clear(&serr);
	if (specset_parse(buf_cstr(&spec), &r->spec, &serr) == -1) {
		tk_fail_at(&t, REQ_ERR_SPECIFIER, specstart,
		    "invalid specifier: %s", serr.msg);
		goto fail;
	}
	if (format_requirement(r) == -1)
		goto nomem;
	/* Escaped quotes can make the canonical text up to 4x longer; it
	 * must parse back (API-submitted jobs record it as their requirement). */
	if ((n = strlen(r->canonical)) > REQ_MAX_LINE) {
		wwerr_set(err, REQ_ERR_TOO_LONG, "requirement of %zu bytes "
		    "is %zu bytes once written canonically (quotes in marker "
		    "strings escaped), longer than %d", t.len, n,
		    REQ_MAX_LINE);
		goto fail;
	}
	buf_free(&spec);
	*out = r;
	return 0;
nomem:
	wwerr_set(err, REQ_ERR_NOMEM, "requirement: out of memory");
fail:
	buf_free(&spec);
	requirement_free(r);
	return -1;
}

void
requirement_free(struct requirement *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->name);
	free(r->normalized);
	for (i = 0; i < r->nextras; i++)
		free(r->extras[i]);
	free(r->extras);
	specset_free(r->spec);
	free(r->url);
	marker_free(r->marker);
	free(r->text);
	free(r->canonical);
	free(r);
}

int
requirement_applies(const struct requirement *r, const struct marker_env *env)
{
	return r->marker == NULL || marker_evaluate(r->marker, env);
}

const char *
requirement_str(const struct requirement *r)
{
	return r->canonical;
}
