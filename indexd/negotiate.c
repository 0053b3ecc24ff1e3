/*
 * negotiate.c: PEP 691 content negotiation. Each offered type takes the
 * q-value of the most specific media range that matches it; the highest
 * q > 0 wins, ties go by server preference.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "indexd_negotiate.h"

#define NFMT	3

static const char *const fmt_types[NFMT] = {
	"text/html",
	NEGOTIATE_HTML_V1_TYPE,
	NEGOTIATE_JSON_TYPE,
};

const char *
negotiate_content_type(enum simple_format f)
{
	switch (f) {
	case SIMPLE_FMT_HTML:
		return "text/html; charset=utf-8";
	case SIMPLE_FMT_HTML_V1:
		return NEGOTIATE_HTML_V1_TYPE;
	case SIMPLE_FMT_JSON_V1:
		return NEGOTIATE_JSON_TYPE;
	default:
		return "text/plain; charset=utf-8";
	}
}

int
negotiate_is_json(enum simple_format f)
{
	return f == SIMPLE_FMT_JSON_V1;
}

/* Map one concrete media type to a format, or SIMPLE_FMT_NONE. */
static enum simple_format
type_format(const char *t, size_t len)
{
	static const struct {
		const char		*type;
		enum simple_format	 fmt;
	} map[] = {
		{ "text/html", SIMPLE_FMT_HTML },
		{ "application/vnd.pypi.simple.v1+html", SIMPLE_FMT_HTML_V1 },
		{ "application/vnd.pypi.simple.latest+html",
		    SIMPLE_FMT_HTML_V1 },
		{ "application/vnd.pypi.simple.v1+json", SIMPLE_FMT_JSON_V1 },
		{ "application/vnd.pypi.simple.latest+json",
		    SIMPLE_FMT_JSON_V1 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].type) == len &&
		    strncasecmp(map[i].type, t, len) == 0)
			return map[i].fmt;
	return SIMPLE_FMT_NONE;
}

/* q-value "0", "0.5", "1", "1.000": in thousandths, or -1. */
static int
parse_q(const char *s, size_t len)
{
	int v = 0, digits = 0;
	size_t i = 0;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	v = (s[0] - '0') * 1000;
	i = 1;
	if (i < len) {
		if (s[i++] != '.')
			return -1;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' || ++digits > 3)
				return -1;
			if (digits == 1)
				v += (s[i] - '0') * 100;
			else if (digits == 2)
				v += (s[i] - '0') * 10;
			else
				v += s[i] - '0';
		}
	}
	return v > 1000 ? -1 : v;
}

static const char *
skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *
trim_end(const char *start, const char *end)
{
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end;
}

/*
 * One media range p..end ("type/sub;a=b;q=0.5"). Updates the best
 * specificity/q per format.
 */
static void
apply_range(const char *p, const char *end, int spec[NFMT], int q[NFMT])
{
	const char *semi, *tend, *slash, *param, *pend, *eq;
	int rq = 1000, s, i, extra = 0;
	size_t tlen;

	p = skip_ows(p, end);
	if (p >= end)
		return;
	semi = memchr(p, ';', (size_t)(end - p));
	tend = trim_end(p, semi ? semi : end);
	if (tend <= p)
		return;
	tlen = (size_t)(tend - p);
	/* parameters: q, and others (which make a range more specific) */
	for (param = semi; param != NULL && param < end; param = pend) {
		param = skip_ows(param + 1, end);
		if (param >= end)
			break;
		pend = memchr(param, ';', (size_t)(end - param));
		if (pend == NULL)
			pend = end;
		eq = memchr(param, '=', (size_t)(pend - param));
		if (eq == NULL)
			continue;
		if (trim_end(param, eq) - param == 1 &&
		    (*param == 'q' || *param == 'Q')) {
			const char *v = skip_ows(eq + 1, pend);
			rq = parse_q(v, (size_t)(trim_end(v, pend) - v));
			if (rq < 0)
				return;	/* invalid q: ignore this range */
			break;		/* accept-ext after q: ignored */
		}
		extra = 1;
	}
	if ((slash = memchr(p, '/', tlen)) == NULL)
		return;
	for (i = 0; i < NFMT; i++) {
		const char *t = fmt_types[i];
		size_t major = (size_t)(strchr(t, '/') - t);

		if (tlen == 3 && !strncmp(p, "*/*", 3))
			s = 1;
		else if ((size_t)(slash - p) == major &&
		    !strncasecmp(p, t, major) && tend - slash == 2 &&
		    slash[1] == '*')
			s = 2;
		else if (type_format(p, tlen) == (enum simple_format)i)
			s = 3 + extra;
		else
			continue;
		if (s > spec[i]) {
			spec[i] = s;
			q[i] = rq;
		}
	}
}

enum simple_format
negotiate_simple(const char *accept, const char *format)
{
	return negotiate_simple_among(accept, format, 0x7);
}

enum simple_format
negotiate_simple_among(const char *accept, const char *format,
    unsigned allowed)
{
	int spec[NFMT] = { 0, 0, 0 }, q[NFMT] = { 0, 0, 0 };
	const char *p, *comma, *end;
	int best = SIMPLE_FMT_NONE, i;
	enum simple_format f;

	if (format != NULL) {
		if (!strcasecmp(format, "json"))
			f = SIMPLE_FMT_JSON_V1;
		else if (!strcasecmp(format, "html"))
			f = SIMPLE_FMT_HTML;
		else
			f = type_format(format, strlen(format));
		return f != SIMPLE_FMT_NONE && (allowed & (1u << f)) ? f :
		    SIMPLE_FMT_NONE;
	}
	if (accept == NULL || *skip_ows(accept, accept + strlen(accept)) ==
	    '\0')
		return allowed & (1u << SIMPLE_FMT_HTML) ? SIMPLE_FMT_HTML :
		    allowed & (1u << SIMPLE_FMT_HTML_V1) ? SIMPLE_FMT_HTML_V1 :
		    allowed & (1u << SIMPLE_FMT_JSON_V1) ? SIMPLE_FMT_JSON_V1 :
		    SIMPLE_FMT_NONE;
	end = accept + strlen(accept);
	for (p = accept; p < end; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		apply_range(p, comma, spec, q);
	}
	for (i = 0; i < NFMT; i++)
		if ((allowed & (1u << i)) && spec[i] > 0 && q[i] > 0 &&
		    (best == SIMPLE_FMT_NONE ||
		    q[i] > q[best]))
			best = i;
	return (enum simple_format)best;
}
