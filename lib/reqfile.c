/*
 * reqfile.c: pip-style requirements files: comments, continuations,
 * -r/-c includes, --hash, and the options a builder can honour or must
 * refuse (requirement.h lists them and says why). Line handling copies
 * pip 23's req_file.py (join_lines, ignore_comments, break_args_options)
 * so that a file means here what it means to pip.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "requirement.h"
#include "util.h"

#define RF_MAX_TOKENS	256	/* option words on one line */

struct rf_frame {
	char		*real;		/* realpath, for cycle detection */
	const char	*name;		/* as we name it in messages */
};

struct rf_ctx {
	struct reqfile	*rf;
	size_t		 cap;
	size_t		 total;		/* bytes of all files read */
	struct wwerr	*err;
	struct rf_frame	 stack[REQ_MAX_INCLUDE_DEPTH + 1];
	int		 depth;		/* frames in use */
	char		 rh_file[256];	/* where --require-hashes was seen */
	unsigned	 rh_line;
};

static int rf_parse_data(struct rf_ctx *, const char *, const char *, size_t,
    int);

static int
rf_fail(struct rf_ctx *c, int code, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
rf_fail(struct rf_ctx *c, int code, const char *file, unsigned line,
    const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return wwerr_set(c->err, code, "%s:%u: %s", file, line, msg);
	return wwerr_set(c->err, code, "%s: %s", file, msg);
}

static int
is_space(unsigned char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r') ||
	    (ch >= 0x1c && ch <= 0x1f);
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
add_entry(struct rf_ctx *c, struct requirement *req, const char *file,
    unsigned line, int constraint, char **hashes, size_t nhashes)
{
	struct reqfile *rf = c->rf;
	struct reqfile_entry *ne, *e;
	size_t ncap;

	if (rf->nentries == c->cap) {
		ncap = c->cap ? c->cap * 2 : 64;
		if ((ne = reallocarray(rf->entries, ncap, sizeof(*ne))) == NULL)
			return -1;
		rf->entries = ne;
		c->cap = ncap;
	}
	e = &rf->entries[rf->nentries];
	memset(e, 0, sizeof(*e));
	if ((e->file = strdup(file)) == NULL)
		return -1;
	e->req = req;
	e->line = line;
	e->constraint = constraint;
	e->hashes = hashes;
	e->nhashes = nhashes;
	rf->nentries++;
	return 0;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * shlex.split (POSIX mode), which pip applies to the options part of a
 * line. Returns the number of words, or -1 with *why set.
 */
static int
shell_split(const char *s, char **words, int max, const char **why)
{
	struct buf w;
	int n = 0, in_word;
	char q;

	buf_init(&w, REQ_MAX_LINE);
	while (*s) {
		while (*s && is_space((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		buf_reset(&w);
		in_word = 1;
		while (*s && in_word) {
			if (is_space((unsigned char)*s)) {
				in_word = 0;
				continue;
			}
			if (*s == '\'' || *s == '"') {
				q = *s++;
				while (*s && *s != q) {
					if (q == '"' && *s == '\\' &&
					    (s[1] == '"' || s[1] == '\\'))
						s++;
					if (buf_addc(&w, *s++) == -1)
						goto nomem;
				}
				if (*s != q) {
					*why = "no closing quotation";
					goto fail;
				}
				s++;
				continue;
			}
			if (*s == '\\') {
				if (s[1] == '\0') {
					*why = "no escaped character after \\";
					goto fail;
				}
				s++;
			}
			if (buf_addc(&w, *s++) == -1)
				goto nomem;
		}
		if (n == max) {
			*why = "too many words";
			goto fail;
		}
		if ((words[n] = strdup(buf_cstr(&w))) == NULL)
			goto nomem;
		n++;
	}
	buf_free(&w);
	return n;
nomem:
	*why = "out of memory";
fail:
	buf_free(&w);
	while (n > 0)
		free(words[--n]);
	return -1;
}

enum opt_action {
	OA_REQUIREMENT, OA_CONSTRAINT, OA_HASH, OA_PRE, OA_REQUIRE_HASHES,
	OA_IGNORE, OA_REFUSE_INDEX, OA_REFUSE_EDITABLE, OA_REFUSE_BUILD
};

static const struct rf_option {
	const char	*lng;
	char		 shrt;
	int		 takes_value;
	enum opt_action	 action;
} rf_options[] = {
	{ "requirement", 'r', 1, OA_REQUIREMENT },
	{ "constraint", 'c', 1, OA_CONSTRAINT },
	{ "hash", 0, 1, OA_HASH },
	{ "pre", 0, 0, OA_PRE },
	{ "require-hashes", 0, 0, OA_REQUIRE_HASHES },
	{ "prefer-binary", 0, 0, OA_IGNORE },
	{ "only-binary", 0, 1, OA_IGNORE },
	{ "no-binary", 0, 1, OA_IGNORE },
	{ "use-feature", 0, 1, OA_IGNORE },
	{ "index-url", 'i', 1, OA_REFUSE_INDEX },
	{ "extra-index-url", 0, 1, OA_REFUSE_INDEX },
	{ "no-index", 0, 0, OA_REFUSE_INDEX },
	{ "find-links", 'f', 1, OA_REFUSE_INDEX },
	{ "trusted-host", 0, 1, OA_REFUSE_INDEX },
	{ "editable", 'e', 1, OA_REFUSE_EDITABLE },
	{ "global-option", 0, 1, OA_REFUSE_BUILD },
	{ "install-option", 0, 1, OA_REFUSE_BUILD },
	{ "config-settings", 0, 1, OA_REFUSE_BUILD },
};

/* "sha256:<hex>" -> lowercased copy in *out; -1 with *why. */
static int
check_hash(const char *v, char **out, const char **why)
{
	static const struct {
		const char	*alg;
		size_t		 hexlen;
	} algs[] = { { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 } };
	const char *colon = strchr(v, ':');
	size_t i, al;
	char *h;

	if (colon == NULL) {
		*why = "must be ALGORITHM:HEX, like --hash=sha256:abcd...";
		return -1;
	}
	al = (size_t)(colon - v);
	for (i = 0; i < WW_ARRLEN(algs); i++)
		if (strlen(algs[i].alg) == al &&
		    memcmp(v, algs[i].alg, al) == 0)
			break;
	if (i == WW_ARRLEN(algs)) {
		*why = "algorithm refused: only sha256, sha384 and sha512 are "
		    "allowed (md5 and sha1 are too weak)";
		return -1;
	}
	if (strlen(colon + 1) != algs[i].hexlen) {
		*why = "digest has the wrong length for its algorithm";
		return -1;
	}
	if ((h = strdup(v)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = al + 1; h[i]; i++) {
		if (h[i] >= 'A' && h[i] <= 'F')
			h[i] = (char)(h[i] + 32);
		if (!((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f'))) {
			free(h);
			*why = "digest is not hexadecimal";
			return -1;
		}
	}
	*out = h;
	return 0;
}

/*
 * util_read_file, refusing what is not a regular file: opening a FIFO
 * would block for ever, and a device has no meaningful size.
 */
static int
read_regular(const char *path, char **data, size_t *len)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	return util_read_file(path, REQ_MAX_FILE, data, len);
}

static int
is_remote(const char *p)
{
	return strstr(p, "://") != NULL || strncmp(p, "file:", 5) == 0 ||
	    strncmp(p, "http:", 5) == 0 || strncmp(p, "https:", 6) == 0;
}

/*
 * Say where the failing file was included from. Deep paths must not cut
 * that off: when both do not fit, the middle of the message gives way.
 */
static void
rf_included_from(struct wwerr *err, const char *file, unsigned line)
{
	char suffix[sizeof(err->msg)], msg[sizeof(err->msg)];
	size_t n, keep;

	snprintf(suffix, sizeof(suffix), " (included from %s:%u)", file, line);
	n = strlen(err->msg);
	if (n + strlen(suffix) < sizeof(msg))
		snprintf(msg, sizeof(msg), "%s%s", err->msg, suffix);
	else {
		keep = sizeof(msg) - 1 > strlen(suffix) + 3 ?
		    sizeof(msg) - 1 - strlen(suffix) - 3 : 0;
		snprintf(msg, sizeof(msg), "%.*s...%s", (int)keep, err->msg,
		    suffix);
	}
	memcpy(err->msg, msg, sizeof(msg));
}

/* -r/-c: read the file relative to the including one and parse it. */
static int
rf_include(struct rf_ctx *c, const char *file, unsigned line,
    const char *opt, const char *target, int constraint)
{
	char *path = NULL, *real = NULL, *data = NULL;
	const char *slash;
	struct buf chain;
	size_t len = 0, dl;
	int i, r = -1;

	if (*target == '\0')
		return rf_fail(c, REQ_ERR_OPTION, file, line,
		    "%s needs a file name", opt);
	if (is_remote(target))
		return rf_fail(c, REQ_ERR_INCLUDE, file, line,
		    "%s %s: remote requirements files are not supported; "
		    "download it and include the local copy", opt, target);
	if (c->depth > REQ_MAX_INCLUDE_DEPTH)
		return rf_fail(c, REQ_ERR_INCLUDE, file, line,
		    "%s %s: includes nested more than %d deep", opt, target,
		    REQ_MAX_INCLUDE_DEPTH);
	/* pip: os.path.join(os.path.dirname(filename), req_path) */
	slash = strrchr(file, '/');
	dl = (target[0] == '/' || slash == NULL) ? 0 :
	    (size_t)(slash - file) + 1;
	if (dl + strlen(target) >= PATH_MAX)
		return rf_fail(c, REQ_ERR_INCLUDE, file, line,
		    "%s %s: path too long", opt, target);
	if ((path = malloc(dl + strlen(target) + 1)) == NULL)
		return rf_fail(c, REQ_ERR_NOMEM, file, line, "out of memory");
	memcpy(path, file, dl);
	memcpy(path + dl, target, strlen(target) + 1);

	if ((real = realpath(path, NULL)) == NULL) {
		rf_fail(c, REQ_ERR_IO, file, line, "%s %s: cannot open %s: %s",
		    opt, target, path, strerror(errno));
		goto out;
	}
	for (i = 0; i < c->depth; i++) {
		if (c->stack[i].real == NULL ||
		    strcmp(c->stack[i].real, real) != 0)
			continue;
		buf_init(&chain, 400);
		for (; i < c->depth; i++)
			buf_printf(&chain, "%s -> ", c->stack[i].name);
		buf_addstr(&chain, path);
		rf_fail(c, REQ_ERR_INCLUDE, file, line,
		    "%s %s: include cycle: %s", opt, target, buf_cstr(&chain));
		buf_free(&chain);
		goto out;
	}
	if (read_regular(path, &data, &len) == -1) {
		if (errno == EINVAL)
			rf_fail(c, REQ_ERR_IO, file, line, "%s %s: %s is not "
			    "a regular file", opt, target, path);
		else if (errno == EFBIG)
			rf_fail(c, REQ_ERR_TOO_LARGE, file, line,
			    "%s %s: %s is larger than %u bytes", opt, target,
			    path, REQ_MAX_FILE);
		else
			rf_fail(c, REQ_ERR_IO, file, line,
			    "%s %s: cannot read %s: %s", opt, target, path,
			    strerror(errno));
		goto out;
	}
	c->stack[c->depth].real = real;
	real = NULL;
	if ((r = rf_parse_data(c, path, data, len, constraint)) == -1 &&
	    c->err != NULL && strstr(c->err->msg, "(included from ") == NULL)
		rf_included_from(c->err, file, line);
	free(c->stack[c->depth].real);
	c->stack[c->depth].real = NULL;
out:
	free(data);
	free(real);
	free(path);
	return r;
}

/* Options on an option-only line (or after a requirement: hashes). */
static int
rf_options_line(struct rf_ctx *c, const char *file, unsigned line,
    const char *opts, int after_req, char ***hashes,
    size_t *nhashes)
{
	char *words[RF_MAX_TOKENS], *h, **nh;
	const struct rf_option *o;
	const char *why, *w, *val, *eq;
	char optname[64];
	int n, i, r = -1;
	size_t k, ln;

	if ((n = shell_split(opts, words, RF_MAX_TOKENS, &why)) == -1)
		return rf_fail(c, REQ_ERR_OPTION, file, line,
		    "cannot split options \"%.60s\": %s", opts, why);
	for (i = 0; i < n; i++) {
		w = words[i];
		val = NULL;
		o = NULL;
		if (strncmp(w, "--", 2) == 0 && w[2] != '\0') {
			eq = strchr(w, '=');
			ln = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
			for (k = 0; k < WW_ARRLEN(rf_options); k++)
				if (strlen(rf_options[k].lng) == ln &&
				    memcmp(rf_options[k].lng, w + 2, ln) == 0)
					o = &rf_options[k];
			snprintf(optname, sizeof(optname), "--%.*s", (int)ln,
			    w + 2);
			if (o != NULL && eq != NULL) {
				if (!o->takes_value) {
					rf_fail(c, REQ_ERR_OPTION, file, line,
					    "%s takes no value", optname);
					goto out;
				}
				val = eq + 1;
			}
		} else if (w[0] == '-' && w[1] != '\0' && w[1] != '-') {
			for (k = 0; k < WW_ARRLEN(rf_options); k++)
				if (rf_options[k].shrt == w[1])
					o = &rf_options[k];
			snprintf(optname, sizeof(optname), "-%c", w[1]);
			if (o != NULL && w[2] != '\0')
				val = w + 2;
		} else {
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "unexpected \"%.60s\" among options%s", w,
			    after_req ? " (one requirement per line)" : "");
			goto out;
		}
		if (o == NULL) {
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "unknown option %.60s", w);
			goto out;
		}
		if (o->takes_value && val == NULL) {
			if (i + 1 >= n) {
				rf_fail(c, REQ_ERR_OPTION, file, line,
				    "%s needs a value", optname);
				goto out;
			}
			val = words[++i];
		}
		if (after_req && o->action != OA_HASH &&
		    o->action != OA_REFUSE_BUILD) {
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "%s cannot follow a requirement on the same line "
			    "(only --hash can)", optname);
			goto out;
		}
		switch (o->action) {
		case OA_REQUIREMENT:
		case OA_CONSTRAINT:
			if (rf_include(c, file, line, optname, val,
			    o->action == OA_CONSTRAINT) == -1)
				goto out;
			break;
		case OA_HASH:
			if (!after_req) {
				rf_fail(c, REQ_ERR_HASH, file, line,
				    "--hash must follow a requirement on the "
				    "same line");
				goto out;
			}
			if (check_hash(val, &h, &why) == -1) {
				rf_fail(c, REQ_ERR_HASH, file, line,
				    "--hash=%.80s: %s", val, why);
				goto out;
			}
			if ((nh = reallocarray(*hashes, *nhashes + 1,
			    sizeof(*nh))) == NULL) {
				free(h);
				rf_fail(c, REQ_ERR_NOMEM, file, line,
				    "out of memory");
				goto out;
			}
			*hashes = nh;
			(*hashes)[(*nhashes)++] = h;
			break;
		case OA_PRE:
			c->rf->pre = 1;
			break;
		case OA_REQUIRE_HASHES:
			if (!c->rf->require_hashes) {
				c->rf->require_hashes = 1;
				snprintf(c->rh_file, sizeof(c->rh_file), "%s",
				    file);
				c->rh_line = line;
			}
			break;
		case OA_IGNORE:
			break;
		case OA_REFUSE_INDEX:
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "%s is not supported in requirements files: "
			    "upstream indexes are set in builderd's "
			    "configuration", optname);
			goto out;
		case OA_REFUSE_EDITABLE:
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "%s: editable requirements cannot be built into "
			    "wheels", optname);
			goto out;
		case OA_REFUSE_BUILD:
			rf_fail(c, REQ_ERR_OPTION, file, line,
			    "%s: per-package build options are not supported",
			    optname);
			goto out;
		}
	}
	r = 0;
out:
	for (i = 0; i < n; i++)
		free(words[i]);
	return r;
}

static int
looks_like_path_or_url(const char *s)
{
	size_t n = strlen(s);

	return s[0] == '.' || s[0] == '/' || s[0] == '~' ||
	    strstr(s, "://") != NULL ||
	    (n > 4 && strcmp(s + n - 4, ".whl") == 0) ||
	    (n > 7 && strcmp(s + n - 7, ".tar.gz") == 0) ||
	    (n > 4 && strcmp(s + n - 4, ".zip") == 0);
}

/* One logical line, comments already removed and stripped. */
static int
rf_line(struct rf_ctx *c, const char *file, unsigned line, char *text,
    int constraint)
{
	struct requirement *req = NULL;
	struct wwerr rerr;
	char **hashes = NULL, *opts, *p;
	size_t nhashes = 0;

	/* pip's break_args_options: split at the first " -" word. */
	opts = NULL;
	if (text[0] == '-')
		opts = text;
	else
		for (p = text; (p = strchr(p, ' ')) != NULL; p++)
			if (p[1] == '-') {
				*p = '\0';
				opts = p + 1;
				break;
			}
	if (opts == text)
		return rf_options_line(c, file, line, opts, 0, NULL, NULL);

	wwerr_clear(&rerr);
	if (requirement_parse(text, &req, &rerr) == -1) {
		if (looks_like_path_or_url(text))
			return rf_fail(c, REQ_ERR_SYNTAX, file, line,
			    "\"%.100s\" is not a PEP 508 requirement (bare "
			    "paths and URLs are not supported: write "
			    "\"name @ URL\")", text);
		return rf_fail(c, rerr.code, file, line, "%s", rerr.msg);
	}
	if (constraint && req->nextras > 0) {
		rf_fail(c, REQ_ERR_CONSTRAINT, file, line,
		    "constraint \"%.100s\": constraints cannot have extras",
		    req->text);
		goto fail;
	}
	if (opts != NULL && rf_options_line(c, file, line, opts, 1, &hashes,
	    &nhashes) == -1)
		goto fail;
	if (add_entry(c, req, file, line, constraint, hashes, nhashes) == -1) {
		rf_fail(c, REQ_ERR_NOMEM, file, line, "out of memory");
		goto fail;
	}
	return 0;
fail:
	free_strv(hashes, nhashes);
	requirement_free(req);
	return -1;
}

/* pip's COMMENT_RE "(^|\s+)#.*$" removed, then strip(). In place. */
static char *
strip_comment(char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		if (s[i] == '#' && i == 0) {
			s[0] = '\0';
			break;
		}
		if (is_space((unsigned char)s[i])) {
			size_t j = i;

			while (j < n && is_space((unsigned char)s[j]))
				j++;
			if (j < n && s[j] == '#') {
				s[i] = '\0';
				break;
			}
			i = j - 1;
		}
	}
	while (*s && is_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * Length of the line break at p, 0 if none: what Python's
 * str.splitlines() splits at (\n, \r\n, \r, \v, \f, \x1c-\x1e, U+0085,
 * U+2028, U+2029), as pip reads files with it.
 */
static size_t
linebreak(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n = (size_t)(end - p);

	if (n == 0)
		return 0;
	if (u[0] == '\r')
		return (n > 1 && u[1] == '\n') ? 2 : 1;
	if (u[0] == '\n' || u[0] == '\v' || u[0] == '\f' ||
	    (u[0] >= 0x1c && u[0] <= 0x1e))
		return 1;
	if (n > 1 && u[0] == 0xc2 && u[1] == 0x85)
		return 2;
	if (n > 2 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 ||
	    u[2] == 0xa9))
		return 3;
	return 0;
}

/* COMMENT_RE.match(line): the line starts with "#" or spaces then "#". */
static int
is_comment_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_space((unsigned char)s[i]))
		i++;
	return i < n && s[i] == '#';
}

static int
rf_logical(struct rf_ctx *c, const char *file, unsigned line,
    struct buf *logical, int constraint)
{
	char *text;

	text = strip_comment(logical->ptr ? logical->ptr : (char *)"");
	if (*text == '\0')
		return 0;
	return rf_line(c, file, line, text, constraint);
}

static int
rf_parse_data(struct rf_ctx *c, const char *file, const char *data,
    size_t len, int constraint)
{
	struct buf logical;
	const char *p = data, *end = data + len, *nl, *q;
	size_t n, k, seq;
	unsigned lineno = 0, primary = 0;
	int joining = 0, r = -1;

	if (len > REQ_MAX_FILE)
		return rf_fail(c, REQ_ERR_TOO_LARGE, file, 0,
		    "larger than %u bytes", REQ_MAX_FILE);
	if (len > REQ_MAX_TOTAL - c->total)
		return rf_fail(c, REQ_ERR_TOO_LARGE, file, 0,
		    "the included files add up to more than %u bytes",
		    REQ_MAX_TOTAL);
	c->total += len;
	c->stack[c->depth].name = file;
	c->depth++;
	buf_init(&logical, REQ_MAX_LINE);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		lineno++;
		for (nl = p; nl < end && linebreak(nl, end) == 0; nl++)
			;
		n = (size_t)(nl - p);
		for (k = 0; k < n; k += seq) {
			if (p[k] == '\0') {
				rf_fail(c, REQ_ERR_ENCODING, file, lineno,
				    "NUL byte at column %zu (not a text file?)",
				    k + 1);
				goto out;
			}
			if ((seq = utf8_seq((const unsigned char *)p + k,
			    n - k)) == 0) {
				rf_fail(c, REQ_ERR_ENCODING, file, lineno,
				    "invalid UTF-8 at column %zu", k + 1);
				goto out;
			}
		}
		/* pip's join_lines */
		if (n == 0 || p[n - 1] != '\\' || is_comment_line(p, n)) {
			if (joining && is_comment_line(p, n) &&
			    buf_addc(&logical, ' ') == -1)
				goto toolong;
			if (!joining) {
				buf_reset(&logical);
				primary = lineno;
			}
			if (buf_add(&logical, p, n) == -1)
				goto toolong;
			if (rf_logical(c, file, primary, &logical,
			    constraint) == -1)
				goto out;
			buf_reset(&logical);
			joining = 0;
		} else {
			if (!joining) {
				buf_reset(&logical);
				primary = lineno;
				joining = 1;
			}
			/* line.strip("\\") */
			for (q = p; q < p + n && *q == '\\'; q++)
				;
			while (n > 0 && p[n - 1] == '\\')
				n--;
			if (q < p + n && buf_add(&logical, q,
			    (size_t)(p + n - q)) == -1)
				goto toolong;
		}
		p = nl + linebreak(nl, end);
	}
	if (joining && rf_logical(c, file, primary, &logical, constraint) == -1)
		goto out;
	r = 0;
	goto out;
toolong:
	rf_fail(c, REQ_ERR_TOO_LONG, file, joining ? primary : lineno,
	    "line longer than %d bytes", REQ_MAX_LINE);
out:
	buf_free(&logical);
	c->depth--;
	return r;
}

/* --require-hashes: what pip checks before installing anything. */
static int
rf_check_hashes(struct rf_ctx *c)
{
	const struct reqfile_entry *e;
	const char *s;
	size_t i, n;

	for (i = 0; i < c->rf->nentries; i++) {
		e = &c->rf->entries[i];
		if (e->constraint)
			continue;
		if (e->nhashes == 0)
			return rf_fail(c, REQ_ERR_HASH, e->file, e->line,
			    "%s has no --hash, but --require-hashes is set "
			    "(%s:%u)", e->req->name, c->rh_file, c->rh_line);
		if (e->req->url != NULL)
			continue;
		s = specset_str(e->req->spec);
		n = strlen(s);
		if (specset_count(e->req->spec) != 1 ||
		    strncmp(s, "==", 2) != 0 ||
		    (n >= 2 && strcmp(s + n - 2, ".*") == 0))
			return rf_fail(c, REQ_ERR_HASH, e->file, e->line,
			    "%s is not pinned with ==, but --require-hashes "
			    "is set (%s:%u)", e->req->text, c->rh_file,
			    c->rh_line);
	}
	return 0;
}

static int
rf_run(const char *name, const char *data, size_t len, char *real,
    struct reqfile **out, struct wwerr *err)
{
	struct rf_ctx c;
	int r;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.err = err;
	if ((c.rf = calloc(1, sizeof(*c.rf))) == NULL) {
		free(real);
		return wwerr_set(err, REQ_ERR_NOMEM, "%s: out of memory", name);
	}
	c.stack[0].real = real;
	r = rf_parse_data(&c, name, data, len, 0);
	if (r == 0 && c.rf->require_hashes)
		r = rf_check_hashes(&c);
	free(c.stack[0].real);
	if (r == -1) {
		reqfile_free(c.rf);
		return -1;
	}
	*out = c.rf;
	return 0;
}

int
reqfile_load(const char *path, struct reqfile **out, struct wwerr *err)
{
	char *data = NULL, *real;
	size_t len = 0;
	int r;

	*out = NULL;
	if (read_regular(path, &data, &len) == -1) {
		if (errno == EINVAL)
			return wwerr_set(err, REQ_ERR_IO,
			    "%s: not a regular file", path);
		if (errno == EFBIG)
			return wwerr_set(err, REQ_ERR_TOO_LARGE,
			    "%s: larger than %u bytes", path, REQ_MAX_FILE);
		return wwerr_set(err, REQ_ERR_IO, "%s: cannot read: %s", path,
		    strerror(errno));
	}
	real = realpath(path, NULL);
	r = rf_run(path, data, len, real, out, err);
	free(data);
	return r;
}

int
reqfile_parse(const char *name, const char *data, size_t len,
    struct reqfile **out, struct wwerr *err)
{
	return rf_run(name, data, len, realpath(name, NULL), out, err);
}

void
reqfile_free(struct reqfile *rf)
{
	size_t i;

	if (rf == NULL)
		return;
	for (i = 0; i < rf->nentries; i++) {
		requirement_free(rf->entries[i].req);
		free(rf->entries[i].file);
		free_strv(rf->entries[i].hashes, rf->entries[i].nhashes);
	}
	free(rf->entries);
	free(rf);
}
