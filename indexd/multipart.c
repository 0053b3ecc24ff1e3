/*
 * multipart.c: streaming multipart/form-data. The delimiter is
 * "\r\n--" BOUNDARY; since a boundary can contain neither CR nor LF, a CR
 * only ever starts a match, so a partial match is just a length and the
 * held bytes are always a prefix of the delimiter (no look-behind buffer).
 * The body is treated as if preceded by CRLF so that the first boundary
 * needs no special case.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "indexd_multipart.h"
#include "util.h"

enum mp_state {
	MP_PREAMBLE,
	MP_AFTER_DELIM,		/* "--" (end) or padding + CRLF (a part) */
	MP_AFTER_DASH,
	MP_AFTER_CR,
	MP_HEADERS,
	MP_BODY,
	MP_DONE,
	MP_ERROR,
};

struct multipart {
	struct multipart_callbacks cb;
	void		*arg;
	char		 delim[4 + MULTIPART_MAX_BOUNDARY + 1];
	size_t		 dlen;
	size_t		 match;		/* bytes of delim matched so far */
	enum mp_state	 state;
	char		 hdr[MULTIPART_MAX_HEADER + 1];
	size_t		 hlen;
	size_t		 nparts;
	char		 err[256];
};

static int
bchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

/*
 * Read a parameter value (token or quoted-string) at *pp into out.
 * Returns 0, or -1 on a malformed or too long value.
 */
static int
param_value(const char **pp, char *out, size_t outlen)
{
	const char *p = *pp;
	size_t o = 0;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p;
		}
		p++;
	} else {
		while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*pp = p;
	return 0;
}

/*
 * Walk "type; a=b; c="d"" parameters. For each parameter whose name is in
 * want[i], copy its value into vals[i]. Returns -1 on syntax errors.
 */
static int
parse_params(const char *p, const char *const *want, char **vals,
    const size_t *vlen, size_t nwant)
{
	char name[64];
	size_t n, i;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p != ';')
			return -1;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;	/* trailing ';' */
		for (n = 0; *p != '\0' && *p != '=' && *p != ';' &&
		    *p != ' ' && *p != '\t'; p++) {
			if (n + 1 >= sizeof(name))
				return -1;
			name[n++] = *p;
		}
		name[n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			return -1;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		for (i = 0; i < nwant; i++)
			if (strcasecmp(name, want[i]) == 0)
				break;
		if (i < nwant) {
			if (param_value(&p, vals[i], vlen[i]) == -1)
				return -1;
		} else {
			char skip[1024];
			if (param_value(&p, skip, sizeof(skip)) == -1)
				return -1;
		}
	}
}

int
multipart_boundary(const char *ct, char *out, size_t outlen)
{
	static const char *const want[] = { "boundary" };
	char *vals[1];
	size_t vlen[1], i, len;

	if (ct == NULL)
		return -1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -1;
	ct += 19;
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	vals[0] = out;
	vlen[0] = outlen;
	if (parse_params(ct, want, vals, vlen, 1) == -1)
		return -1;
	len = strlen(out);
	if (len == 0 || len > MULTIPART_MAX_BOUNDARY || out[len - 1] == ' ')
		return -1;
	for (i = 0; i < len; i++)
		if (!bchar((unsigned char)out[i]))
			return -1;
	return 0;
}

int
multipart_new(const char *boundary, const struct multipart_callbacks *cb,
    void *arg, struct multipart **out)
{
	struct multipart *m;
	size_t blen = strlen(boundary), i;

	if (blen == 0 || blen > MULTIPART_MAX_BOUNDARY)
		return -1;
	for (i = 0; i < blen; i++)
		if (!bchar((unsigned char)boundary[i]))
			return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->cb = *cb;
	m->arg = arg;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, blen);
	m->dlen = 4 + blen;
	m->delim[m->dlen] = '\0';
	m->state = MP_PREAMBLE;
	m->match = 2;		/* as if the body began after a CRLF */
	*out = m;
	return 0;
}

void
multipart_free(struct multipart *m)
{
	free(m);
}

const char *
multipart_error(const struct multipart *m)
{
	return m->err[0] ? m->err : "no error";
}

static int
mp_fail(struct multipart *m, const char *msg)
{
	if (m->err[0] == '\0')
		util_strlcpy(m->err, msg, sizeof(m->err));
	m->state = MP_ERROR;
	return -1;
}

/* Parse the header block of one part and announce it. */
static int
part_headers(struct multipart *m)
{
	static const char *const want[] = { "name", "filename" };
	char name[256], filename[1024], ctype[256];
	char *vals[2] = { name, filename };
	size_t vlen[2] = { sizeof(name), sizeof(filename) };
	struct multipart_part part;
	char *p = m->hdr, *line, *nl, *colon, *v;
	int have_disp = 0, have_ctype = 0;

	name[0] = filename[0] = ctype[0] = '\0';
	m->hdr[m->hlen] = '\0';
	while ((nl = strstr(p, "\r\n")) != NULL) {
		*nl = '\0';
		line = p;
		p = nl + 2;
		if (*line == '\0')
			break;
		if ((colon = strchr(line, ':')) == NULL)
			return mp_fail(m, "part header line without ':'");
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (have_disp++)
				return mp_fail(m, "two Content-Disposition "
				    "headers in one part");
			if (strncasecmp(v, "form-data", 9) != 0 ||
			    (v[9] != '\0' && v[9] != ';' && v[9] != ' '))
				return mp_fail(m, "part is not form-data");
			/* filename[0] == 1 marks "no filename parameter" */
			filename[0] = '\001';
			filename[1] = '\0';
			if (parse_params(v + 9, want, vals, vlen, 2) == -1)
				return mp_fail(m, "malformed Content-Disposition");
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (util_strlcpy(ctype, v, sizeof(ctype)) >=
			    sizeof(ctype))
				return mp_fail(m, "part Content-Type too long");
			have_ctype = 1;
		}
	}
	if (!have_disp)
		return mp_fail(m, "part without Content-Disposition");
	if (name[0] == '\0')
		return mp_fail(m, "part without a field name");
	if (++m->nparts > MULTIPART_MAX_PARTS)
		return mp_fail(m, "too many parts");
	part.name = name;
	part.filename = filename[0] == '\001' ? NULL : filename;
	part.content_type = have_ctype ? ctype : NULL;
	if (m->cb.begin != NULL && m->cb.begin(&part, m->arg) == -1)
		return mp_fail(m, "rejected by the handler");
	return 0;
}

static int
emit(struct multipart *m, const void *data, size_t len)
{
	if (len == 0 || m->state != MP_BODY || m->cb.data == NULL)
		return 0;
	if (m->cb.data(data, len, m->arg) == -1)
		return mp_fail(m, "rejected by the handler");
	return 0;
}

/*
 * Scan for the delimiter from *pp; bytes that are not part of it go to
 * emit() (in MP_BODY) or nowhere (MP_PREAMBLE). Returns 1 when the whole
 * delimiter matched (*pp just past it), 0 at the end of input, -1.
 */
static int
scan_delim(struct multipart *m, const unsigned char **pp,
    const unsigned char *end)
{
	const unsigned char *p = *pp, *q;

	while (p < end) {
		if (m->match == 0) {
			q = memchr(p, '\r', (size_t)(end - p));
			if (q == NULL) {
				if (emit(m, p, (size_t)(end - p)) == -1)
					return -1;
				p = end;
				break;
			}
			if (emit(m, p, (size_t)(q - p)) == -1)
				return -1;
			p = q + 1;
			m->match = 1;
			continue;
		}
		if (*p == (unsigned char)m->delim[m->match]) {
			p++;
			if (++m->match == m->dlen) {
				m->match = 0;
				*pp = p;
				return 1;
			}
			continue;
		}
		/* the held prefix was data after all; p is looked at again */
		if (emit(m, m->delim, m->match) == -1)
			return -1;
		m->match = 0;
	}
	*pp = p;
	return 0;
}

int
multipart_feed(struct multipart *m, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	int rc;

	while (p < end) {
		switch (m->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			if ((rc = scan_delim(m, &p, end)) == -1)
				return -1;
			if (rc == 0)
				return 0;
			if (m->state == MP_BODY && m->cb.end != NULL &&
			    m->cb.end(m->arg) == -1)
				return mp_fail(m, "rejected by the handler");
			m->state = MP_AFTER_DELIM;
			break;
		case MP_AFTER_DELIM:
			if (*p == '-')
				m->state = MP_AFTER_DASH;
			else if (*p == '\r')
				m->state = MP_AFTER_CR;
			else if (*p == '\n') {
				m->state = MP_HEADERS;
				m->hlen = 0;
			} else if (*p != ' ' && *p != '\t')
				return mp_fail(m, "garbage after a boundary");
			p++;
			break;
		case MP_AFTER_DASH:
			if (*p != '-')
				return mp_fail(m, "garbage after a boundary");
			p++;
			m->state = MP_DONE;
			break;
		case MP_AFTER_CR:
			if (*p != '\n')
				return mp_fail(m, "CR without LF after a "
				    "boundary");
			p++;
			m->state = MP_HEADERS;
			m->hlen = 0;
			break;
		case MP_HEADERS:
			if (m->hlen >= MULTIPART_MAX_HEADER)
				return mp_fail(m, "part header block too large");
			m->hdr[m->hlen++] = (char)*p++;
			if ((m->hlen == 2 && !memcmp(m->hdr, "\r\n", 2)) ||
			    (m->hlen >= 4 &&
			    !memcmp(m->hdr + m->hlen - 4, "\r\n\r\n", 4))) {
				if (part_headers(m) == -1)
					return -1;
				m->state = MP_BODY;
				m->match = 0;
			}
			break;
		case MP_DONE:
			return 0;	/* the epilogue is ignored */
		case MP_ERROR:
			return -1;
		}
	}
	return m->state == MP_ERROR ? -1 : 0;
}

int
multipart_finish(struct multipart *m)
{
	switch (m->state) {
	case MP_DONE:
		return 0;
	case MP_ERROR:
		return -1;
	case MP_PREAMBLE:
		return mp_fail(m, "no multipart boundary in the body");
	default:
		return mp_fail(m, "body ends before the closing boundary");
	}
}
