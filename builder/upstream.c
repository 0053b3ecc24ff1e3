/*
 * upstream.c: upstream indexes (see upstream.h). PEP 691 JSON and PEP 503
 * HTML project pages over libcurl with an on-disk ETag cache, and local
 * "dir:" upstreams. Parsing trusts nothing: links must resolve (CURLU) to
 * http(s) URLs whose last path component is a wheel or sdist of the
 * requested project, and every count and length is bounded.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "hash.h"
#include "log.h"
#include "name.h"
#include "upstream.h"
#include "util.h"
#include "version.h"
#include "wheelname.h"

#define ACCEPT_SIMPLE	"application/vnd.pypi.simple.v1+json, " \
			"application/vnd.pypi.simple.v1+html;q=0.2, " \
			"text/html;q=0.1"
#define USER_AGENT	"wheelwright-builderd/0.1"
#define ATTR_MAX	(64 * 1024)	/* longest HTML attribute value */
#define TEXT_MAX	4096		/* requires-python, yanked reason */
#define URL_MAX		8192
#define META_MAX	(16 * 1024)	/* cache .meta file */
#define RETRY_CAP_MS	(60 * 1000)
#define DIR_MAX_ENTRIES	1000000

struct dir_entry {
	char	*project;	/* normalized */
	char	*name;		/* file or subdirectory name */
	int	 isdir;
};

struct upstream {
	char		 name[64];
	char		 url[1024];	/* base, with a trailing '/' (http) */
	char		 dirpath[PATH_MAX];	/* dir: upstreams */
	int		 isdir;
	int		 timeout;
	int		 retries;
	uint64_t	 max_response;
	long		 retry_ms;
	long		 max_fresh;
	char		*cachedir;	/* CACHEDIR/NAME or NULL */
	CURL		*curl;
	/* dir: index of the top level, rebuilt when its mtime changes */
	struct dir_entry *dents;
	size_t		 ndents;
	struct timespec	 dmtime;
	int		 dscanned;
};

struct upstream_set {
	struct upstream	**u;
	size_t		  n;
};

/* --- pages ------------------------------------------------------------- */

static void
file_free(struct upstream_file *f)
{
	free(f->filename);
	free(f->url);
	free(f->version);
	free(f->requires_python);
	free(f->yanked_reason);
}

void
upstream_page_free(struct upstream_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nfiles; i++)
		file_free(&p->files[i]);
	free(p->files);
	free(p->project);
	free(p->upstream);
	free(p);
}

static struct upstream_page *
page_new(const char *project, enum upstream_format fmt)
{
	struct upstream_page *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->project = strdup(project)) == NULL) {
		free(p);
		return NULL;
	}
	p->format = fmt;
	return p;
}

/* Room for one more file; NULL if out of memory or over the bound. */
static struct upstream_file *
page_grow(struct upstream_page *p, size_t *alloc)
{
	struct upstream_file *nf;
	size_t na;

	if (p->nfiles >= UPSTREAM_MAX_FILES)
		return NULL;
	if (p->nfiles == *alloc) {
		na = *alloc ? *alloc * 2 : 16;
		if ((nf = realloc(p->files, na * sizeof(*nf))) == NULL)
			return NULL;
		p->files = nf;
		*alloc = na;
	}
	memset(&p->files[p->nfiles], 0, sizeof(p->files[0]));
	p->files[p->nfiles].size = -1;
	return &p->files[p->nfiles];
}

/*
 * Is filename a wheel or sdist of project? Sets kind and the normalized
 * version. Anything else (other projects, eggs, installers, bad names)
 * is not ours.
 */
static int
classify(const char *project, const char *filename, char *kind,
    char *version, size_t versionlen)
{
	struct wheelname wn;
	struct sdistname sn;

	switch (distname_kind(filename)) {
	case 'w':
		if (wheelname_parse(filename, &wn, NULL) == -1 ||
		    strcmp(wn.normalized, project) != 0)
			return -1;
		*kind = 'w';
		return util_strlcpy(version, wn.version_norm, versionlen) <
		    versionlen ? 0 : -1;
	case 's':
		if (sdistname_parse(filename, &sn, NULL) == -1 ||
		    strcmp(sn.normalized, project) != 0)
			return -1;
		*kind = 's';
		return util_strlcpy(version, sn.version_norm, versionlen) <
		    versionlen ? 0 : -1;
	default:
		return -1;
	}
}

/* Short printable text (requires-python, yanked reason); else NULL. */
static char *
text_dup(const char *s)
{
	const unsigned char *p;

	if (s == NULL || strlen(s) > TEXT_MAX)
		return NULL;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t')
			return NULL;
	return strdup(s);
}

/*
 * The sha256 of a "#sha256=HEX" fragment (the first one, among other
 * '&'-separated keys as pip reads it), lowercased; 0 or -1. The key is
 * case-sensitive like pip's.
 */
static int
parse_hash_pair(const char *s, char out[HASH_SHA256_HEXLEN])
{
	size_t i, n;

	while (s != NULL && *s != '\0') {
		n = strcspn(s, "&");
		if (n == 7 + 64 && strncmp(s, "sha256=", 7) == 0) {
			for (i = 0; i < 64; i++) {
				if (!isxdigit((unsigned char)s[7 + i]))
					return -1;
				out[i] = (char)tolower((unsigned char)s[7 + i]);
			}
			out[64] = '\0';
			return 0;
		}
		if (n > 7 && strncmp(s, "sha256=", 7) == 0)
			return -1;	/* the first sha256 is malformed */
		s += n;
		if (*s == '&')
			s++;
	}
	return -1;
}

static int
hex64_lower(const char *s, char out[HASH_SHA256_HEXLEN])
{
	size_t i;

	if (s == NULL || strlen(s) != 64)
		return -1;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[64] = '\0';
	return 0;
}

/*
 * Resolve href against base (a CURLU holding the page or <base> URL).
 * Gives the absolute URL without fragment, the fragment (for #sha256=),
 * and the decoded last path component. -1 if it does not resolve to an
 * http(s) URL with a sane filename.
 */
static int
resolve_link(CURLU *base, const char *href, char **url, char **fragment,
    char **filename)
{
	CURLU *h;
	char *scheme = NULL, *path = NULL, *frag = NULL, *u = NULL;
	const char *slash;
	int rc = -1;

	*url = *fragment = *filename = NULL;
	if (strlen(href) > URL_MAX || (h = curl_url_dup(base)) == NULL)
		return -1;
	if (curl_url_set(h, CURLUPART_URL, href, CURLU_URLENCODE) != CURLUE_OK)
		goto done;
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")))
		goto done;
	if (curl_url_get(h, CURLUPART_FRAGMENT, &frag, 0) != CURLUE_OK)
		frag = NULL;
	if (curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &path, CURLU_URLDECODE) !=
	    CURLUE_OK || curl_url_get(h, CURLUPART_URL, &u, 0) != CURLUE_OK)
		goto done;
	slash = strrchr(path, '/');
	slash = slash ? slash + 1 : path;
	if (*slash == '\0' || strlen(slash) > WHEELNAME_MAX)
		goto done;
	if ((*filename = strdup(slash)) == NULL || (*url = strdup(u)) == NULL)
		goto done;
	if (frag != NULL && (*fragment = strdup(frag)) == NULL)
		goto done;
	rc = 0;
done:
	if (rc == -1) {
		free(*url);
		free(*filename);
		*url = *filename = NULL;
	}
	curl_free(scheme);
	curl_free(path);
	curl_free(frag);
	curl_free(u);
	curl_url_cleanup(h);
	return rc;
}

/* Fill f from a link; -1 means "not ours, skip it". */
static int
link_to_file(const char *project, CURLU *base, const char *href,
    struct upstream_file *f)
{
	char version[VERSION_STR_MAX], *frag = NULL;

	if (resolve_link(base, href, &f->url, &frag, &f->filename) == -1)
		return -1;
	if (classify(project, f->filename, &f->kind, version,
	    sizeof(version)) == -1 || (f->version = strdup(version)) == NULL) {
		free(frag);
		file_free(f);
		memset(f, 0, sizeof(*f));
		return -1;
	}
	/* Only sha256 is used; other hash names (md5) are ignored. */
	if (frag != NULL && parse_hash_pair(frag, f->sha256) == -1)
		f->sha256[0] = '\0';
	free(frag);
	return 0;
}

static CURLU *
base_url(const char *page_url)
{
	CURLU *h;
	char *scheme = NULL;
	int ok;

	if ((h = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(h, CURLUPART_URL, page_url, CURLU_URLENCODE) !=
	    CURLUE_OK || curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) !=
	    CURLUE_OK) {
		curl_url_cleanup(h);
		return NULL;
	}
	ok = !strcmp(scheme, "http") || !strcmp(scheme, "https");
	curl_free(scheme);
	if (!ok) {
		curl_url_cleanup(h);
		return NULL;
	}
	return h;
}

/* --- PEP 691 JSON -------------------------------------------------------- */

int
upstream_parse_json(const char *project, const char *page_url,
    const char *body, size_t len, struct upstream_page **out,
    struct wwerr *err)
{
	struct upstream_page *p = NULL;
	struct upstream_file *f;
	json_t *root = NULL, *meta, *v, *files, *e, *h, *md;
	json_error_t jerr;
	CURLU *base = NULL;
	const char *av, *s;
	size_t i, alloc = 0;
	char *dot;
	long major;

	*out = NULL;
	if ((base = base_url(page_url)) == NULL)
		return wwerr_set(err, UPSTREAM_E_ARG, "%s: not an http(s) URL",
		    page_url);
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		wwerr_set(err, UPSTREAM_E_PARSE, "%s: not JSON: line %d: %s",
		    page_url, jerr.line, jerr.text);
		goto fail;
	}
	if (!json_is_object(root) ||
	    !json_is_object(meta = json_object_get(root, "meta")) ||
	    !json_is_string(v = json_object_get(meta, "api-version"))) {
		wwerr_set(err, UPSTREAM_E_PARSE, "%s: not a PEP 691 page "
		    "(no meta.api-version)", page_url);
		goto fail;
	}
	av = json_string_value(v);
	errno = 0;
	major = strtol(av, &dot, 10);
	if (errno || dot == av || (*dot != '.' && *dot != '\0') || major != 1) {
		wwerr_set(err, UPSTREAM_E_PARSE, "%s: unsupported PEP 691 "
		    "api-version \"%.32s\"", page_url, av);
		goto fail;
	}
	if (!json_is_array(files = json_object_get(root, "files"))) {
		wwerr_set(err, UPSTREAM_E_PARSE, "%s: PEP 691 page without a "
		    "files array", page_url);
		goto fail;
	}
	if ((p = page_new(project, UPSTREAM_FMT_JSON)) == NULL)
		goto nomem;
	json_array_foreach(files, i, e) {
		if (!json_is_object(e) ||
		    !json_is_string(v = json_object_get(e, "url")) ||
		    !json_is_object(h = json_object_get(e, "hashes"))) {
			p->nskipped++;
			continue;
		}
		if ((f = page_grow(p, &alloc)) == NULL) {
			if (p->nfiles >= UPSTREAM_MAX_FILES) {
				wwerr_set(err, UPSTREAM_E_TOOBIG, "%s: more "
				    "than %d files", page_url,
				    UPSTREAM_MAX_FILES);
				goto fail;
			}
			goto nomem;
		}
		if (link_to_file(project, base, json_string_value(v), f) == -1) {
			p->nskipped++;
			continue;
		}
		/* The filename key must agree with the URL when given. */
		if (json_is_string(v = json_object_get(e, "filename")) &&
		    strcmp(json_string_value(v), f->filename) != 0) {
			file_free(f);
			p->nskipped++;
			continue;
		}
		if (json_is_string(v = json_object_get(h, "sha256"))) {
			if (hex64_lower(json_string_value(v), f->sha256) == -1) {
				/* A malformed hash is not "no hash". */
				file_free(f);
				p->nskipped++;
				continue;
			}
		}
		if (json_is_string(v = json_object_get(e, "requires-python")) &&
		    *(s = json_string_value(v)) != '\0')
			f->requires_python = text_dup(s);
		v = json_object_get(e, "yanked");
		if (json_is_true(v))
			f->yanked = 1;
		else if (json_is_string(v) && *json_string_value(v) != '\0') {
			f->yanked = 1;
			f->yanked_reason = text_dup(json_string_value(v));
		}
		md = json_object_get(e, "core-metadata");
		if (md == NULL)
			md = json_object_get(e, "dist-info-metadata");
		if (json_is_true(md))
			f->has_metadata = 1;
		else if (json_is_object(md)) {
			f->has_metadata = 1;
			v = json_object_get(md, "sha256");
			if (json_is_string(v) && hex64_lower(json_string_value(v),
			    f->metadata_sha256) == -1)
				f->metadata_sha256[0] = '\0';
		}
		v = json_object_get(e, "size");
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			f->size = (int64_t)json_integer_value(v);
		p->nfiles++;
	}
	json_decref(root);
	curl_url_cleanup(base);
	*out = p;
	return 0;
nomem:
	wwerr_set(err, UPSTREAM_E_NOMEM, "%s: out of memory", page_url);
fail:
	json_decref(root);
	curl_url_cleanup(base);
	upstream_page_free(p);
	return -1;
}

/* --- PEP 503 HTML ------------------------------------------------------- */

static int
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80)
		return buf_addc(b, (char)cp);
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		return buf_add(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return buf_add(b, u, 3);
	}
	u[0] = (char)(0xf0 | (cp >> 18));
	u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return buf_add(b, u, 4);
}

/*
 * HTML character references in an attribute value: numeric ones and the
 * few named ones an index uses (&amp; &lt; &gt; &quot; &apos;, the first
 * four also without ';' as HTML5 allows). Others are kept as written.
 */
static int
html_unescape(const char *s, size_t len, struct buf *out)
{
	static const struct {
		const char	*name;
		char		 c;
		int		 legacy;	/* valid without ';' */
	} ents[] = {
		{ "amp", '&', 1 }, { "lt", '<', 1 }, { "gt", '>', 1 },
		{ "quot", '"', 1 }, { "apos", '\'', 0 },
	};
	size_t i = 0, j, k, n;
	unsigned long cp;
	int hex, digits;

	while (i < len) {
		if (s[i] != '&') {
			if (buf_addc(out, s[i++]) == -1)
				return -1;
			continue;
		}
		if (i + 1 < len && s[i + 1] == '#') {
			j = i + 2;
			hex = j < len && (s[j] == 'x' || s[j] == 'X');
			if (hex)
				j++;
			cp = 0;
			digits = 0;
			while (j < len && (hex ? isxdigit((unsigned char)s[j]) :
			    isdigit((unsigned char)s[j]))) {
				if (cp < 0x110000)
					cp = cp * (hex ? 16 : 10) + (unsigned long)
					    (isdigit((unsigned char)s[j]) ?
					    s[j] - '0' :
					    tolower((unsigned char)s[j]) - 'a' + 10);
				j++;
				digits++;
			}
			if (digits > 0) {
				if (j < len && s[j] == ';')
					j++;
				if (put_utf8(out, cp) == -1)
					return -1;
				i = j;
				continue;
			}
		} else {
			for (k = 0; k < WW_ARRLEN(ents); k++) {
				n = strlen(ents[k].name);
				if (i + 1 + n > len ||
				    memcmp(s + i + 1, ents[k].name, n) != 0)
					continue;
				if (i + 1 + n < len && s[i + 1 + n] == ';') {
					i += n + 2;
					break;
				}
				if (ents[k].legacy) {
					i += n + 1;
					break;
				}
			}
			if (k < WW_ARRLEN(ents)) {
				if (buf_addc(out, ents[k].c) == -1)
					return -1;
				continue;
			}
		}
		if (buf_addc(out, s[i++]) == -1)
			return -1;
	}
	return 0;
}

#define A_HREF		0
#define A_REQPY		1
#define A_YANKED	2
#define A_CORE_MD	3
#define A_DIST_MD	4
#define A__COUNT	5

struct tag {
	char	 name[16];
	/* Raw (still escaped) values of the attributes we use; present[]
	 * says whether the attribute occurred (maybe without a value). */
	const char *val[A__COUNT];
	size_t	 vlen[A__COUNT];
	int	 present[A__COUNT];
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * Parse one start tag at s[i] == '<' (followed by a letter). Stores the
 * tag name lowercased and the attributes we care about; for <a> the last
 * duplicate wins and for <base> the first (as Python's HTMLParser-based
 * pip does). Returns the index after '>', or len with an empty name if
 * the tag is cut off.
 */
static size_t
parse_tag(const char *s, size_t len, size_t i, struct tag *t)
{
	static const char *const names[A__COUNT] = {
		"href", "data-requires-python", "data-yanked",
		"data-core-metadata", "data-dist-info-metadata"
	};
	size_t n = 0, an, k, vs, ve;
	const char *a;
	char q;
	int first_wins, hasval;

	memset(t, 0, sizeof(*t));
	i++;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-' ||
	    s[i] == ':' || s[i] == '_')) {
		if (n + 1 < sizeof(t->name))
			t->name[n++] = (char)tolower((unsigned char)s[i]);
		i++;
	}
	t->name[n] = '\0';
	first_wins = !strcmp(t->name, "base");
	for (;;) {
		while (i < len && (is_space(s[i]) || s[i] == '/'))
			i++;
		if (i >= len)
			goto cut;
		if (s[i] == '>')
			return i + 1;
		a = s + i;
		an = 0;
		while (i < len && !is_space(s[i]) && s[i] != '=' &&
		    s[i] != '>' && (an == 0 || s[i] != '/')) {
			i++;
			an++;
		}
		while (i < len && is_space(s[i]))
			i++;
		vs = ve = 0;
		hasval = 0;
		if (i < len && s[i] == '=') {
			hasval = 1;
			i++;
			while (i < len && is_space(s[i]))
				i++;
			if (i < len && (s[i] == '"' || s[i] == '\'')) {
				q = s[i++];
				vs = i;
				while (i < len && s[i] != q)
					i++;
				if (i >= len)
					goto cut;	/* unterminated */
				ve = i++;
			} else {
				vs = i;
				while (i < len && !is_space(s[i]) && s[i] != '>')
					i++;
				ve = i;
			}
		}
		for (k = 0; k < A__COUNT; k++) {
			if (strlen(names[k]) != an ||
			    strncasecmp(a, names[k], an) != 0)
				continue;
			if (first_wins && t->present[k])
				break;
			t->present[k] = 1;
			t->val[k] = hasval ? s + vs : NULL;
			t->vlen[k] = ve - vs;
			break;
		}
	}
cut:
	/* A tag cut off by the end of the page is no tag (as HTMLParser
	 * leaves it unprocessed). */
	t->name[0] = '\0';
	return len;
}

/* Skip past the end of raw text elements (<script>, <style>). */
static size_t
skip_raw(const char *s, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, n) == 0)
			return i;
	return len;
}

static int
attr_value(const struct tag *t, int k, struct buf *b)
{
	buf_reset(b);
	if (t->vlen[k] > ATTR_MAX)
		return -1;
	if (t->val[k] == NULL)
		return buf_add(b, "", 0);
	return html_unescape(t->val[k], t->vlen[k], b);
}

int
upstream_parse_html(const char *project, const char *page_url,
    const char *body, size_t len, struct upstream_page **out,
    struct wwerr *err)
{
	struct upstream_page *p = NULL;
	struct upstream_file *f;
	struct tag t;
	struct buf b;
	CURLU *base = NULL, *nb;
	size_t i = 0, alloc = 0;
	int have_base = 0;
	const char *v;

	*out = NULL;
	buf_init(&b, ATTR_MAX * 8);
	if ((base = base_url(page_url)) == NULL)
		return wwerr_set(err, UPSTREAM_E_ARG, "%s: not an http(s) URL",
		    page_url);
	if ((p = page_new(project, UPSTREAM_FMT_HTML)) == NULL)
		goto nomem;
	while (i < len) {
		if (body[i] != '<') {
			const char *lt = memchr(body + i, '<', len - i);
			i = lt ? (size_t)(lt - body) : len;
			continue;
		}
		if (i + 3 < len && !memcmp(body + i, "<!--", 4)) {
			const char *end = memmem(body + i + 4, len - i - 4, "-->",
			    3);
			i = end ? (size_t)(end - body) + 3 : len;
			continue;
		}
		if (i + 1 >= len || !isalpha((unsigned char)body[i + 1])) {
			/* </x>, <!doctype>, <?x>, stray '<': skip the '<'. */
			i++;
			continue;
		}
		i = parse_tag(body, len, i, &t);
		if (!strcmp(t.name, "script") || !strcmp(t.name, "style")) {
			i = skip_raw(body, len, i, t.name);
			continue;
		}
		if (!strcmp(t.name, "base") && !have_base && t.present[A_HREF]) {
			have_base = 1;
			if (attr_value(&t, A_HREF, &b) == -1)
				continue;
			if ((nb = curl_url_dup(base)) == NULL)
				goto nomem;
			if (curl_url_set(nb, CURLUPART_URL, buf_cstr(&b),
			    CURLU_URLENCODE) == CURLUE_OK) {
				curl_url_cleanup(base);
				base = nb;
			} else
				curl_url_cleanup(nb);
			continue;
		}
		if (strcmp(t.name, "a") != 0 || !t.present[A_HREF] ||
		    t.vlen[A_HREF] == 0)
			continue;
		if ((f = page_grow(p, &alloc)) == NULL) {
			if (p->nfiles >= UPSTREAM_MAX_FILES) {
				wwerr_set(err, UPSTREAM_E_TOOBIG, "%s: more than "
				    "%d links", page_url, UPSTREAM_MAX_FILES);
				goto fail;
			}
			goto nomem;
		}
		if (attr_value(&t, A_HREF, &b) == -1 ||
		    link_to_file(project, base, buf_cstr(&b), f) == -1) {
			p->nskipped++;
			continue;
		}
		if (t.present[A_REQPY] && attr_value(&t, A_REQPY, &b) == 0 &&
		    b.len > 0)
			f->requires_python = text_dup(buf_cstr(&b));
		/* PEP 592: the attribute's presence means yanked. */
		if (t.present[A_YANKED]) {
			f->yanked = 1;
			if (attr_value(&t, A_YANKED, &b) == 0 && b.len > 0)
				f->yanked_reason = text_dup(buf_cstr(&b));
		}
		if (t.present[A_CORE_MD] || t.present[A_DIST_MD]) {
			int k = t.present[A_CORE_MD] ? A_CORE_MD : A_DIST_MD;
			if (attr_value(&t, k, &b) == 0) {
				v = buf_cstr(&b);
				if (parse_hash_pair(v, f->metadata_sha256) == 0)
					f->has_metadata = 1;
				else {
					f->metadata_sha256[0] = '\0';
					f->has_metadata = strcmp(v, "false") != 0;
				}
			}
		}
		p->nfiles++;
	}
	buf_free(&b);
	curl_url_cleanup(base);
	*out = p;
	return 0;
nomem:
	wwerr_set(err, UPSTREAM_E_NOMEM, "%s: out of memory", page_url);
fail:
	buf_free(&b);
	curl_url_cleanup(base);
	upstream_page_free(p);
	return -1;
}

/* --- open / close ---------------------------------------------------------- */

static int
valid_upstream_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && s[0] != '.' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

int
upstream_open(const struct config_upstream *cu, const char *cachedir,
    struct upstream **out, struct wwerr *err)
{
	struct upstream *u;
	char path[PATH_MAX];
	size_t n;

	*out = NULL;
	if (!valid_upstream_name(cu->name))
		return wwerr_set(err, UPSTREAM_E_ARG, "[upstream %s]: the name "
		    "must be letters, digits, '.', '_' or '-'", cu->name);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: out of "
		    "memory", cu->name);
	util_strlcpy(u->name, cu->name, sizeof(u->name));
	u->timeout = cu->timeout > 0 ? cu->timeout : 30;
	u->retries = cu->retries >= 0 ? cu->retries : 3;
	u->max_response = cu->max_response ? cu->max_response :
	    64ULL * 1024 * 1024;
	u->retry_ms = 500;
	u->max_fresh = 3600;
	if (!strncmp(cu->url, "dir:", 4)) {
		u->isdir = 1;
		if (cu->url[4] != '/' ||
		    util_strlcpy(u->dirpath, cu->url + 4, sizeof(u->dirpath)) >=
		    sizeof(u->dirpath)) {
			wwerr_set(err, UPSTREAM_E_ARG, "[upstream %s]: \"%s\": "
			    "dir: needs an absolute path", cu->name, cu->url);
			goto fail;
		}
		*out = u;
		return 0;
	}
	if (strncmp(cu->url, "http://", 7) && strncmp(cu->url, "https://", 8)) {
		wwerr_set(err, UPSTREAM_E_ARG, "[upstream %s]: \"%s\": expected "
		    "http(s):// or dir:/path", cu->name, cu->url);
		goto fail;
	}
	n = util_strlcpy(u->url, cu->url, sizeof(u->url));
	if (n + 2 > sizeof(u->url)) {
		wwerr_set(err, UPSTREAM_E_ARG, "[upstream %s]: url too long",
		    cu->name);
		goto fail;
	}
	if (u->url[n - 1] != '/')
		util_strlcat(u->url, "/", sizeof(u->url));
	if ((u->curl = curl_easy_init()) == NULL) {
		wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: cannot "
		    "initialize libcurl", cu->name);
		goto fail;
	}
	if (cachedir != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cachedir,
		    cu->name) >= sizeof(path) - 300) {
			wwerr_set(err, UPSTREAM_E_ARG, "upstream %s: cache "
			    "directory path too long", cu->name);
			goto fail;
		}
		if (util_mkdirs(path, 0755) == -1) {
			wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: %s",
			    cu->name, path, strerror(errno));
			goto fail;
		}
		if ((u->cachedir = strdup(path)) == NULL) {
			wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: out of "
			    "memory", cu->name);
			goto fail;
		}
	}
	*out = u;
	return 0;
fail:
	upstream_close(u);
	return -1;
}

static void
dir_index_free(struct upstream *u)
{
	size_t i;

	for (i = 0; i < u->ndents; i++) {
		free(u->dents[i].project);
		free(u->dents[i].name);
	}
	free(u->dents);
	u->dents = NULL;
	u->ndents = 0;
	u->dscanned = 0;
}

void
upstream_close(struct upstream *u)
{
	if (u == NULL)
		return;
	if (u->curl != NULL)
		curl_easy_cleanup(u->curl);
	dir_index_free(u);
	free(u->cachedir);
	free(u);
}

const char *
upstream_name(const struct upstream *u)
{
	return u->name;
}

void
upstream_set_retry_delay(struct upstream *u, long ms)
{
	u->retry_ms = ms < 0 ? 0 : ms;
}

void
upstream_set_max_fresh(struct upstream *u, long seconds)
{
	u->max_fresh = seconds < 0 ? 0 : seconds;
}

/* --- the page cache --------------------------------------------------------- */

struct cache_meta {
	char	 req[URL_MAX];		/* URL asked for (config may change) */
	char	 url[URL_MAX];		/* effective URL of the body */
	char	 etag[1024];		/* "" if none */
	char	 type[256];		/* Content-Type */
	int64_t	 fetched_us;		/* last 200 or 304 */
	int64_t	 max_age;		/* seconds fresh after fetched_us */
	char	 sha256[HASH_SHA256_HEXLEN];
	uint64_t size;
};

static int
cache_paths(const struct upstream *u, const char *project, char *body,
    char *meta)
{
	if (u->cachedir == NULL)
		return -1;
	if ((size_t)snprintf(body, PATH_MAX, "%s/%s.body", u->cachedir,
	    project) >= PATH_MAX || (size_t)snprintf(meta, PATH_MAX,
	    "%s/%s.meta", u->cachedir, project) >= PATH_MAX)
		return -1;
	return 0;
}

/* Header values come from the network: one line, printable, bounded. */
static int
safe_value(const char *s, size_t max)
{
	const unsigned char *p;

	if (strlen(s) >= max)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
cache_read_meta(const struct upstream *u, const char *project,
    struct cache_meta *m)
{
	char body[PATH_MAX], meta[PATH_MAX], *data = NULL, *line, *save, *sp;
	size_t len;
	int64_t v;
	uint64_t uv;
	int version = 0;

	memset(m, 0, sizeof(*m));
	if (cache_paths(u, project, body, meta) == -1 ||
	    util_read_file(meta, META_MAX, &data, &len) == -1)
		return -1;
	for (line = strtok_r(data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (!strcmp(line, "ww-upstream-cache"))
			version = !strcmp(sp, "1");
		else if (!strcmp(line, "req"))
			util_strlcpy(m->req, sp, sizeof(m->req));
		else if (!strcmp(line, "url"))
			util_strlcpy(m->url, sp, sizeof(m->url));
		else if (!strcmp(line, "etag"))
			util_strlcpy(m->etag, strcmp(sp, "-") ? sp : "",
			    sizeof(m->etag));
		else if (!strcmp(line, "type"))
			util_strlcpy(m->type, sp, sizeof(m->type));
		else if (!strcmp(line, "fetched") &&
		    util_parse_i64(sp, 0, INT64_MAX, &v) == 0)
			m->fetched_us = v;
		else if (!strcmp(line, "maxage") &&
		    util_parse_i64(sp, 0, INT64_MAX, &v) == 0)
			m->max_age = v;
		else if (!strcmp(line, "sha256") && hash_is_hex64(sp))
			util_strlcpy(m->sha256, sp, sizeof(m->sha256));
		else if (!strcmp(line, "size") &&
		    util_parse_u64(sp, UINT64_MAX, &uv) == 0)
			m->size = uv;
	}
	free(data);
	if (!version || m->url[0] == '\0' || m->sha256[0] == '\0')
		return -1;
	return 0;
}

/* The cached body, if it is intact (size and sha256 as recorded). */
static int
cache_read_body(const struct upstream *u, const char *project,
    const struct cache_meta *m, char **data, size_t *len)
{
	char body[PATH_MAX], meta[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	unsigned char d[HASH_SHA256_LEN];

	*data = NULL;
	if (cache_paths(u, project, body, meta) == -1 ||
	    m->size > u->max_response ||
	    util_read_file(body, (size_t)u->max_response, data, len) == -1)
		return -1;
	if (*len != m->size || hash_sha256_mem(*data, *len, d) == -1)
		goto bad;
	hash_hex(d, sizeof(d), hex);
	if (strcmp(hex, m->sha256) != 0)
		goto bad;
	return 0;
bad:
	free(*data);
	*data = NULL;
	return -1;
}

static int
cache_write_meta(const struct upstream *u, const char *project,
    const struct cache_meta *m)
{
	char body[PATH_MAX], meta[PATH_MAX];
	struct buf b;
	int rc;

	if (cache_paths(u, project, body, meta) == -1)
		return -1;
	buf_init(&b, META_MAX);
	rc = buf_printf(&b, "ww-upstream-cache 1\nreq %s\nurl %s\netag %s\n"
	    "type %s\nfetched %lld\nmaxage %lld\nsha256 %s\nsize %llu\n",
	    m->req, m->url,
	    m->etag[0] ? m->etag : "-", m->type[0] ? m->type : "-",
	    (long long)m->fetched_us, (long long)m->max_age, m->sha256,
	    (unsigned long long)m->size);
	if (rc == 0)
		rc = util_write_atomic(meta, b.ptr, b.len);
	buf_free(&b);
	return rc;
}

/* Body first, then the meta that vouches for it (by sha256), so a crash
 * in between leaves a meta that rejects the new body, never a lie. */
static int
cache_write(const struct upstream *u, const char *project,
    struct cache_meta *m, const char *data, size_t len)
{
	char body[PATH_MAX], meta[PATH_MAX];
	unsigned char d[HASH_SHA256_LEN];

	if (cache_paths(u, project, body, meta) == -1)
		return -1;
	if (hash_sha256_mem(data, len, d) == -1)
		return -1;
	hash_hex(d, sizeof(d), m->sha256);
	m->size = len;
	if (util_write_atomic(body, data, len) == -1)
		return -1;
	return cache_write_meta(u, project, m);
}

/* --- HTTP ------------------------------------------------------------------- */

struct sink {
	struct buf	 body;		/* pages */
	int		 fd;		/* downloads: -1 for pages */
	struct sha256	 h;
	uint64_t	 n;
	uint64_t	 max;
	int		 toobig;
	int		 ioerr;
};

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t len = size * nmemb, off = 0;
	ssize_t w;

	if (len > s->max || s->n > s->max - len) {
		s->toobig = 1;
		return 0;
	}
	s->n += len;
	if (s->fd == -1) {
		if (buf_add(&s->body, ptr, len) == -1) {
			s->toobig = errno == E2BIG;
			s->ioerr = !s->toobig;
			return 0;
		}
		return len;
	}
	if (sha256_update(&s->h, ptr, len) == -1) {
		s->ioerr = 1;
		return 0;
	}
	while (off < len) {
		if ((w = write(s->fd, ptr + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			s->ioerr = 1;
			return 0;
		}
		off += (size_t)w;
	}
	return len;
}

static int
sink_reset(struct sink *s)
{
	s->n = 0;
	s->toobig = s->ioerr = 0;
	buf_reset(&s->body);
	if (s->fd != -1) {
		sha256_final(&s->h, NULL);
		if (sha256_init(&s->h) == -1 || ftruncate(s->fd, 0) == -1 ||
		    lseek(s->fd, 0, SEEK_SET) == -1)
			return -1;
	}
	return 0;
}

struct http_resp {
	long	status;
	char	type[256];
	char	etag[1024];
	char	url[URL_MAX];	/* effective */
	int64_t	max_age;	/* -1: none given */
	long	retry_after_ms;	/* -1: none */
};

static int
transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int
transient_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 ||
	    st == 503 || st == 504;
}

static const char *
header(CURL *c, const char *name)
{
	struct curl_header *h;

	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	return h->value;
}

/* max-age from Cache-Control; 0 for no-cache / no-store; -1 if none. */
static int64_t
cache_control_max_age(const char *cc)
{
	const char *p;
	int64_t v;
	char num[24];
	size_t n;

	if (cc == NULL)
		return -1;
	if (strcasestr(cc, "no-cache") != NULL ||
	    strcasestr(cc, "no-store") != NULL)
		return 0;
	if ((p = strcasestr(cc, "max-age=")) == NULL)
		return -1;
	p += 8;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (util_parse_i64(num, 0, INT64_MAX, &v) == -1)
		return -1;
	return v;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * GET url into the sink, retrying transient failures with backoff.
 * Returns 0 with r->status set for any final HTTP answer (the caller
 * judges it), -1 with err set when no answer came or the sink refused.
 */
static int
http_get(struct upstream *u, const char *url, const char *accept,
    const char *etag, struct sink *s, struct http_resp *r,
    struct wwerr *err)
{
	struct curl_slist *hdrs = NULL, *nh;
	char line[1100], ebuf[CURL_ERROR_SIZE];
	const char *v;
	char *eff;
	CURLcode cc = CURLE_OK;
	long delay = u->retry_ms, wait;
	int attempt, rc = -1;
	int64_t ra;

	memset(r, 0, sizeof(*r));
	if (accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", accept);
		if ((nh = curl_slist_append(hdrs, line)) == NULL)
			goto nomem;
		hdrs = nh;
	}
	if (etag != NULL && *etag != '\0') {
		snprintf(line, sizeof(line), "If-None-Match: %s", etag);
		if ((nh = curl_slist_append(hdrs, line)) == NULL)
			goto nomem;
		hdrs = nh;
	}
	curl_easy_reset(u->curl);
	curl_easy_setopt(u->curl, CURLOPT_URL, url);
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(u->curl, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(u->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(u->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(u->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(u->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(u->curl, CURLOPT_TIMEOUT, (long)u->timeout);
	curl_easy_setopt(u->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)(u->timeout < 10 ? u->timeout : 10));
	curl_easy_setopt(u->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(u->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(s->max > (uint64_t)INT64_MAX ? INT64_MAX :
	    (int64_t)s->max));
	curl_easy_setopt(u->curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(u->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(u->curl, CURLOPT_NOSIGNAL, 1L);
	for (attempt = 0; attempt <= u->retries; attempt++) {
		if (attempt > 0) {
			wait = r->retry_after_ms > delay ? r->retry_after_ms :
			    delay;
			log_debug("upstream %s: %s: retry %d in %ld ms", u->name,
			    url, attempt, wait);
			sleep_ms(wait);
			if (delay < RETRY_CAP_MS / 2)
				delay *= 2;
		}
		if (sink_reset(s) == -1) {
			wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: cannot "
			    "reset the output: %s", u->name, url,
			    strerror(errno));
			goto done;
		}
		ebuf[0] = '\0';
		r->retry_after_ms = -1;
		cc = curl_easy_perform(u->curl);
		if (s->toobig || cc == CURLE_FILESIZE_EXCEEDED) {
			wwerr_set(err, UPSTREAM_E_TOOBIG, "upstream %s: %s: "
			    "response larger than %llu bytes", u->name, url,
			    (unsigned long long)s->max);
			goto done;
		}
		if (s->ioerr) {
			wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: cannot "
			    "store the response: %s", u->name, url,
			    strerror(errno));
			goto done;
		}
		if (cc != CURLE_OK) {
			wwerr_set(err, UPSTREAM_E_UNREACHABLE, "upstream %s: "
			    "%s: %s", u->name, url, ebuf[0] ? ebuf :
			    curl_easy_strerror(cc));
			if (transient_curl(cc))
				continue;
			goto done;
		}
		curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &r->status);
		if (transient_status(r->status)) {
			wwerr_set(err, UPSTREAM_E_HTTP, "upstream %s: %s: HTTP "
			    "%ld", u->name, url, r->status);
			if ((v = header(u->curl, "Retry-After")) != NULL &&
			    util_parse_i64(v, 0, 3600, &ra) == 0)
				r->retry_after_ms = ra * 1000 > RETRY_CAP_MS ?
				    RETRY_CAP_MS : (long)ra * 1000;
			continue;
		}
		break;
	}
	if (attempt > u->retries) {
		wwerr_prefix(err, "after %d attempts", attempt);
		if (err != NULL && err->code == UPSTREAM_E_HTTP)
			err->code = UPSTREAM_E_UNREACHABLE;
		goto done;
	}
	if ((v = header(u->curl, "Content-Type")) != NULL &&
	    safe_value(v, sizeof(r->type)))
		util_strlcpy(r->type, v, sizeof(r->type));
	if ((v = header(u->curl, "ETag")) != NULL &&
	    safe_value(v, sizeof(r->etag)))
		util_strlcpy(r->etag, v, sizeof(r->etag));
	r->max_age = cache_control_max_age(header(u->curl, "Cache-Control"));
	if (curl_easy_getinfo(u->curl, CURLINFO_EFFECTIVE_URL, &eff) ==
	    CURLE_OK && eff != NULL && safe_value(eff, sizeof(r->url)))
		util_strlcpy(r->url, eff, sizeof(r->url));
	else
		util_strlcpy(r->url, url, sizeof(r->url));
	rc = 0;
	goto done;
nomem:
	wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: out of memory", u->name);
done:
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

static int
is_json_type(const char *type, const char *body, size_t len)
{
	size_t i;

	if (type != NULL && *type != '\0') {
		if (strncasecmp(type, "application/vnd.pypi.simple.", 28) == 0 &&
		    strcasestr(type, "+json") != NULL)
			return 1;
		if (strncasecmp(type, "application/json", 16) == 0)
			return 1;
		return 0;
	}
	/* No type: sniff. */
	for (i = 0; i < len && is_space(body[i]); i++)
		;
	return i < len && body[i] == '{';
}

static int
parse_page(const char *project, const char *url, const char *type,
    const char *body, size_t len, struct upstream_page **out,
    struct wwerr *err)
{
	if (is_json_type(type, body, len))
		return upstream_parse_json(project, url, body, len, out, err);
	return upstream_parse_html(project, url, body, len, out, err);
}

static int
page_finish(struct upstream *u, struct upstream_page *p,
    enum upstream_source src, struct upstream_page **out, struct wwerr *err)
{
	p->source = src;
	if ((p->upstream = strdup(u->name)) == NULL) {
		upstream_page_free(p);
		return wwerr_set(err, UPSTREAM_E_NOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

static int
from_cache(struct upstream *u, const char *project, const struct cache_meta *m,
    enum upstream_source src, struct upstream_page **out, struct wwerr *err)
{
	struct upstream_page *p;
	char *data;
	size_t len;
	int rc;

	if (cache_read_body(u, project, m, &data, &len) == -1)
		return wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: cached "
		    "page is missing or damaged", u->name, project);
	rc = parse_page(project, m->url, m->type, data, len, &p, err);
	free(data);
	if (rc == -1)
		return -1;
	return page_finish(u, p, src, out, err);
}

static int get_dir_project(struct upstream *, const char *,
    struct upstream_page **, struct wwerr *);

int
upstream_get_project(struct upstream *u, const char *project, int flags,
    struct upstream_page **out, struct wwerr *err)
{
	char norm[NAME_MAX_LEN + 1], url[2048];
	struct cache_meta m;
	struct http_resp r;
	struct sink s;
	struct upstream_page *p = NULL;
	struct wwerr e;
	int have_cache, rc = -1;
	int64_t now, age;

	*out = NULL;
	if (project == NULL || name_normalize(project, norm, sizeof(norm)) == -1)
		return wwerr_set(err, UPSTREAM_E_ARG, "upstream %s: \"%s\" is "
		    "not a valid project name", u->name, project ? project : "");
	if (u->isdir)
		return get_dir_project(u, norm, out, err);
	if ((size_t)snprintf(url, sizeof(url), "%s%s/", u->url, norm) >=
	    sizeof(url))
		return wwerr_set(err, UPSTREAM_E_ARG, "upstream %s: URL too "
		    "long", u->name);
	now = util_now_us();
	/* A copy fetched from another URL (the config changed) is no copy. */
	have_cache = cache_read_meta(u, norm, &m) == 0 &&
	    strcmp(m.req, url) == 0;
	if (have_cache && !(flags & UPSTREAM_REVALIDATE)) {
		age = m.max_age < u->max_fresh ? m.max_age : u->max_fresh;
		if ((flags & UPSTREAM_CACHE_ONLY) ||
		    (m.fetched_us <= now && now - m.fetched_us < age * 1000000))
			if (from_cache(u, norm, &m, UPSTREAM_CACHED, out,
			    NULL) == 0)
				return 0;
	}
	if (flags & UPSTREAM_CACHE_ONLY)
		return wwerr_set(err, UPSTREAM_E_UNREACHABLE, "upstream %s: %s: "
		    "not in the cache", u->name, norm);
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.max = u->max_response;
	buf_init(&s.body, (size_t)u->max_response);
	if (http_get(u, url, ACCEPT_SIMPLE, have_cache ? m.etag : NULL, &s, &r,
	    &e) == -1) {
		if (have_cache && e.code == UPSTREAM_E_UNREACHABLE &&
		    from_cache(u, norm, &m, UPSTREAM_STALE, out, NULL) == 0) {
			log_warnx("%s; using the cached page", e.msg);
			rc = 0;
		} else
			wwerr_set(err, e.code, "%s", e.msg);
		goto done;
	}
	if (r.status == 304) {
		if (have_cache) {
			m.fetched_us = now;
			if (r.max_age >= 0)
				m.max_age = r.max_age;
			if (r.etag[0] != '\0')
				util_strlcpy(m.etag, r.etag, sizeof(m.etag));
			if (from_cache(u, norm, &m, UPSTREAM_REVALIDATED, out,
			    NULL) == 0) {
				if (cache_write_meta(u, norm, &m) == -1)
					log_warn("upstream %s: %s: cache", u->name,
					    norm);
				rc = 0;
				goto done;
			}
		}
		/* Our copy went bad (or we never sent an ETag): ask again,
		 * unconditionally. */
		if (http_get(u, url, ACCEPT_SIMPLE, NULL, &s, &r, err) == -1)
			goto done;
	}
	if (r.status != 200)
		goto status;

	if (parse_page(norm, r.url, r.type, s.body.ptr ? s.body.ptr : "",
	    s.body.len, &p, err) == -1)
		goto done;
	if (u->cachedir != NULL) {
		memset(&m, 0, sizeof(m));
		util_strlcpy(m.req, url, sizeof(m.req));
		util_strlcpy(m.url, r.url, sizeof(m.url));
		util_strlcpy(m.etag, r.etag, sizeof(m.etag));
		util_strlcpy(m.type, r.type, sizeof(m.type));
		m.fetched_us = now;
		m.max_age = r.max_age >= 0 ? r.max_age : 0;
		if (cache_write(u, norm, &m, s.body.ptr ? s.body.ptr : "",
		    s.body.len) == -1)
			log_warn("upstream %s: %s: cache", u->name, norm);
	}
	rc = page_finish(u, p, UPSTREAM_FETCHED, out, err);
	goto done;
status:
	if (r.status == 404 || r.status == 410)
		rc = 1;
	else
		wwerr_set(err, UPSTREAM_E_HTTP, "upstream %s: %s: HTTP %ld",
		    u->name, url, r.status);
done:
	buf_free(&s.body);
	return rc;
}

/* --- dir: upstreams ------------------------------------------------------ */

static int
dent_cmp(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;
	int c = strcmp(x->project, y->project);

	return c ? c : strcmp(x->name, y->name);
}

/* Which project a top-level name belongs to: a subdirectory's name, or
 * the project of a wheel/sdist filename. */
static int
entry_project(const char *name, int isdir, char *out, size_t outlen)
{
	struct wheelname wn;
	struct sdistname sn;

	if (isdir)
		return name_normalize(name, out, outlen);
	switch (distname_kind(name)) {
	case 'w':
		if (wheelname_parse(name, &wn, NULL) == -1)
			return -1;
		return util_strlcpy(out, wn.normalized, outlen) < outlen ? 0 : -1;
	case 's':
		if (sdistname_parse(name, &sn, NULL) == -1)
			return -1;
		return util_strlcpy(out, sn.normalized, outlen) < outlen ? 0 : -1;
	default:
		return -1;
	}
}

static int
dir_scan(struct upstream *u, struct wwerr *err)
{
	char proj[NAME_MAX_LEN + 1], path[PATH_MAX];
	struct dir_entry *nd;
	struct dirent *de;
	struct stat st;
	size_t alloc = 0;
	DIR *d;

	if (stat(u->dirpath, &st) == -1 || !S_ISDIR(st.st_mode))
		return wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: %s",
		    u->name, u->dirpath, errno ? strerror(errno) :
		    "not a directory");
	if (u->dscanned && st.st_mtim.tv_sec == u->dmtime.tv_sec &&
	    st.st_mtim.tv_nsec == u->dmtime.tv_nsec)
		return 0;
	dir_index_free(u);
	if ((d = opendir(u->dirpath)) == NULL)
		return wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: %s",
		    u->name, u->dirpath, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		int isdir;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", u->dirpath,
		    de->d_name) >= sizeof(path) || stat(path, &st) == -1)
			continue;
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		isdir = S_ISDIR(st.st_mode);
		if (entry_project(de->d_name, isdir, proj, sizeof(proj)) == -1)
			continue;
		if (u->ndents >= DIR_MAX_ENTRIES)
			break;
		if (u->ndents == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			if ((nd = realloc(u->dents, alloc * sizeof(*nd))) ==
			    NULL)
				goto nomem;
			u->dents = nd;
		}
		nd = &u->dents[u->ndents];
		nd->isdir = isdir;
		nd->project = strdup(proj);
		nd->name = strdup(de->d_name);
		if (nd->project == NULL || nd->name == NULL) {
			free(nd->project);
			free(nd->name);
			goto nomem;
		}
		u->ndents++;
	}
	closedir(d);
	qsort(u->dents, u->ndents, sizeof(*u->dents), dent_cmp);
	/* The mtime from before the scan: a change during it rescans. */
	if (stat(u->dirpath, &st) == 0)
		u->dmtime = st.st_mtim;
	u->dscanned = 1;
	return 0;
nomem:
	closedir(d);
	dir_index_free(u);
	return wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: out of memory",
	    u->name);
}

static int
dir_add_file(struct upstream_page *p, size_t *alloc, const char *project,
    const char *dirpath, const char *name)
{
	char version[VERSION_STR_MAX], path[PATH_MAX];
	struct upstream_file *f;
	struct stat st;
	char kind;

	if (name[0] == '.')
		return 0;
	if (classify(project, name, &kind, version, sizeof(version)) == -1) {
		p->nskipped++;
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirpath, name) >=
	    sizeof(path) || stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		p->nskipped++;
		return 0;
	}
	if ((f = page_grow(p, alloc)) == NULL)
		return -1;
	f->kind = kind;
	f->size = (int64_t)st.st_size;
	if ((f->filename = strdup(name)) == NULL ||
	    (f->url = strdup(path)) == NULL ||
	    (f->version = strdup(version)) == NULL) {
		file_free(f);
		return -1;
	}
	p->nfiles++;
	return 0;
}

static int
get_dir_project(struct upstream *u, const char *project,
    struct upstream_page **out, struct wwerr *err)
{
	struct upstream_page *p;
	struct dir_entry key, *e;
	char sub[PATH_MAX];
	struct dirent *de;
	size_t i, lo, alloc = 0;
	DIR *d;

	if (dir_scan(u, err) == -1)
		return -1;
	if ((p = page_new(project, UPSTREAM_FMT_DIR)) == NULL)
		return wwerr_set(err, UPSTREAM_E_NOMEM, "out of memory");
	key.project = (char *)project;
	key.name = "";
	/* First entry of the project: lower bound by project name. */
	lo = 0;
	{
		size_t hi = u->ndents;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(u->dents[mid].project, key.project) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	for (i = lo; i < u->ndents && !strcmp(u->dents[i].project, project);
	    i++) {
		e = &u->dents[i];
		if (!e->isdir) {
			if (dir_add_file(p, &alloc, project, u->dirpath,
			    e->name) == -1)
				goto nomem;
			continue;
		}
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", u->dirpath,
		    e->name) >= sizeof(sub) || (d = opendir(sub)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (dir_add_file(p, &alloc, project, sub,
			    de->d_name) == -1) {
				closedir(d);
				goto nomem;
			}
		closedir(d);
	}
	if (p->nfiles == 0) {
		upstream_page_free(p);
		return 1;
	}
	return page_finish(u, p, UPSTREAM_LOCAL, out, err);
nomem:
	upstream_page_free(p);
	return wwerr_set(err, UPSTREAM_E_NOMEM, "upstream %s: %s: out of "
	    "memory or too many files", u->name, project);
}

/* --- downloads ------------------------------------------------------------- */

static int
download_local(struct upstream *u, const struct upstream_file *f,
    struct sink *s, struct wwerr *err)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(f->url, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return wwerr_set(err, errno == ENOENT ? UPSTREAM_E_NOTFOUND :
		    UPSTREAM_E_IO, "upstream %s: %s: %s", u->name, f->url,
		    strerror(errno));
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sink_write(buf, 1, (size_t)n, s) != (size_t)n)
			break;
	}
	close(fd);
	if (s->toobig)
		return wwerr_set(err, UPSTREAM_E_TOOBIG, "upstream %s: %s: "
		    "larger than %llu bytes", u->name, f->url,
		    (unsigned long long)s->max);
	if (n == -1 || s->ioerr)
		return wwerr_set(err, UPSTREAM_E_IO, "upstream %s: %s: %s",
		    u->name, f->url, strerror(errno));
	return 0;
}

int
upstream_download(struct upstream *u, const struct upstream_file *f,
    const char *dest, uint64_t max_bytes, char sha256[HASH_SHA256_HEXLEN],
    struct wwerr *err)
{
	unsigned char d[HASH_SHA256_LEN];
	char tmp[PATH_MAX], hex[HASH_SHA256_HEXLEN];
	struct http_resp r;
	struct sink s;
	int rc = -1;

	sha256[0] = '\0';
	memset(&s, 0, sizeof(s));
	buf_init(&s.body, 0);
	s.max = max_bytes;
	if (f->size >= 0 && (uint64_t)f->size > max_bytes)
		return wwerr_set(err, UPSTREAM_E_TOOBIG, "upstream %s: %s: %lld "
		    "bytes is over the limit of %llu", u->name, f->filename,
		    (long long)f->size, (unsigned long long)max_bytes);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.part.XXXXXX", dest) >=
	    sizeof(tmp))
		return wwerr_set(err, UPSTREAM_E_ARG, "%s: path too long", dest);
	if ((s.fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return wwerr_set(err, UPSTREAM_E_IO, "%s: %s", tmp,
		    strerror(errno));
	if (sha256_init(&s.h) == -1) {
		wwerr_set(err, UPSTREAM_E_NOMEM, "sha256: out of memory");
		goto fail;
	}
	if (u->isdir) {
		if (download_local(u, f, &s, err) == -1)
			goto fail;
	} else {
		if (http_get(u, f->url, NULL, NULL, &s, &r, err) == -1)
			goto fail;
		if (r.status != 200) {
			wwerr_set(err, r.status == 404 || r.status == 410 ?
			    UPSTREAM_E_NOTFOUND : UPSTREAM_E_HTTP, "upstream %s: "
			    "%s: HTTP %ld", u->name, f->url, r.status);
			goto fail;
		}
	}
	if (sha256_final(&s.h, d) == -1) {
		s.h.ctx = NULL;
		wwerr_set(err, UPSTREAM_E_IO, "sha256 failed");
		goto fail;
	}
	s.h.ctx = NULL;
	hash_hex(d, sizeof(d), hex);
	if (f->sha256[0] != '\0' && strcmp(hex, f->sha256) != 0) {
		wwerr_set(err, UPSTREAM_E_DIGEST, "upstream %s: %s: sha256 is "
		    "%s, the index said %s", u->name, f->filename, hex,
		    f->sha256);
		goto fail;
	}
	if (fchmod(s.fd, 0644) == -1 || fsync(s.fd) == -1) {
		wwerr_set(err, UPSTREAM_E_IO, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(s.fd) == -1) {
		s.fd = -1;
		wwerr_set(err, UPSTREAM_E_IO, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	s.fd = -1;
	if (rename(tmp, dest) == -1) {
		wwerr_set(err, UPSTREAM_E_IO, "%s: %s", dest, strerror(errno));
		goto fail;
	}
	util_fsync_dir(dest);
	util_strlcpy(sha256, hex, HASH_SHA256_HEXLEN);
	rc = 0;
	goto done;
fail:
	if (s.fd != -1)
		close(s.fd);
	unlink(tmp);
done:
	if (s.h.ctx != NULL)
		sha256_final(&s.h, NULL);
	buf_free(&s.body);
	return rc;
}

/* --- sets --------------------------------------------------------------- */

static int
prio_cmp(const void *a, const void *b)
{
	const struct config_upstream *x = *(const struct config_upstream *const *)a;
	const struct config_upstream *y = *(const struct config_upstream *const *)b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x < y ? -1 : x > y;	/* stable: file order */
}

int
upstream_set_open(const struct config *c, const char *cachedir,
    struct upstream_set **out, struct wwerr *err)
{
	const struct config_upstream *order[CONFIG_MAX_LIST];
	struct upstream_set *s;
	size_t i;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (c->nupstreams > 0 &&
	    (s->u = calloc(c->nupstreams, sizeof(*s->u))) == NULL)) {
		free(s);
		return wwerr_set(err, UPSTREAM_E_NOMEM, "out of memory");
	}
	for (i = 0; i < c->nupstreams; i++)
		order[i] = &c->upstreams[i];
	qsort(order, c->nupstreams, sizeof(order[0]), prio_cmp);
	for (i = 0; i < c->nupstreams; i++) {
		if (upstream_open(order[i], cachedir, &s->u[i], err) == -1) {
			upstream_set_close(s);
			return -1;
		}
		s->n++;
	}
	*out = s;
	return 0;
}

void
upstream_set_close(struct upstream_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		upstream_close(s->u[i]);
	free(s->u);
	free(s);
}

size_t
upstream_set_count(const struct upstream_set *s)
{
	return s->n;
}

struct upstream *
upstream_set_at(struct upstream_set *s, size_t i)
{
	return i < s->n ? s->u[i] : NULL;
}

struct upstream *
upstream_set_find(struct upstream_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->u[i]->name, name))
			return s->u[i];
	return NULL;
}

int
upstream_set_get_project(struct upstream_set *s, const char *project,
    int flags, struct upstream_page **out, struct upstream **from,
    struct wwerr *err)
{
	size_t i;
	int rc;

	*out = NULL;
	if (from != NULL)
		*from = NULL;
	for (i = 0; i < s->n; i++) {
		rc = upstream_get_project(s->u[i], project, flags, out, err);
		if (rc == 1)
			continue;
		if (rc == 0 && from != NULL)
			*from = s->u[i];
		return rc;
	}
	return 1;
}
