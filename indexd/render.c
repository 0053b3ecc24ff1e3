/*
 * render.c: simple-API pages (PEP 503/629/658/714/592 HTML, PEP 691/700
 * JSON). Pure functions from catalog rows to bytes: no I/O, so indexd's
 * cache and export-static produce identical pages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "indexd_render.h"
#include "util.h"
#include "version.h"

#define FILE_BASE	"../../files/"

int
render_html_escape(struct buf *out, const char *s)
{
	const char *p, *run = s;
	int rc = 0;

	for (p = s; *p != '\0'; p++) {
		const char *rep;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		rc |= buf_add(out, run, (size_t)(p - run));
		rc |= buf_addstr(out, rep);
		run = p + 1;
	}
	rc |= buf_add(out, run, (size_t)(p - run));
	return rc ? -1 : 0;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p)
{
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		cp = ((uint32_t)(p[0] & 0x0f) << 12) |
		    ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		cp = ((uint32_t)(p[0] & 0x07) << 18) |
		    ((uint32_t)(p[1] & 0x3f) << 12) |
		    ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		if (cp < 0x10000 || cp > 0x10ffff)
			return 0;
		return 4;
	}
	return 0;
}

int
render_json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run;
	int rc = 0;
	size_t n;

	rc |= buf_addc(out, '"');
	while (*p != '\0') {
		/* plain ASCII runs in one copy */
		for (run = p; *p >= 0x20 && *p < 0x7f && *p != '"' &&
		    *p != '\\'; p++)
			;
		if (p > run)
			rc |= buf_add(out, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			rc |= buf_addc(out, '\\');
			rc |= buf_addc(out, (char)*p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			switch (*p) {
			case '\n': rc |= buf_addstr(out, "\\n"); break;
			case '\r': rc |= buf_addstr(out, "\\r"); break;
			case '\t': rc |= buf_addstr(out, "\\t"); break;
			default:
				rc |= buf_printf(out, "\\u%04x", *p);
			}
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			rc |= buf_addstr(out, "\\ufffd");
			p++;
		} else {
			rc |= buf_add(out, p, n);
			p += n;
		}
	}
	rc |= buf_addc(out, '"');
	return rc ? -1 : 0;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

int
render_url_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run;
	char esc[3] = { '%', 0, 0 };
	int rc = 0;

	while (*p != '\0') {
		for (run = p; *p != '\0' && unreserved(*p); p++)
			;
		if (p > run)
			rc |= buf_add(out, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		rc |= buf_add(out, esc, 3);
		p++;
	}
	return rc ? -1 : 0;
}

/* "2023-11-14T22:13:20.123456Z" (PEP 700) without gmtime/printf. */
static int
add_time(struct buf *b, int64_t us)
{
	char t[32];
	int64_t secs, days, rem, y, m, d, era, doe, yoe, doy, mp;
	int64_t frac;
	int i;

	if (us < 0)
		us = 0;
	secs = us / 1000000;
	frac = us % 1000000;
	days = secs / 86400;
	rem = secs % 86400;
	/* civil_from_days (H. Hinnant) */
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	if (y > 9999)
		y = 9999;
	t[0] = (char)('0' + y / 1000);
	t[1] = (char)('0' + y / 100 % 10);
	t[2] = (char)('0' + y / 10 % 10);
	t[3] = (char)('0' + y % 10);
	t[4] = '-';
	t[5] = (char)('0' + m / 10);
	t[6] = (char)('0' + m % 10);
	t[7] = '-';
	t[8] = (char)('0' + d / 10);
	t[9] = (char)('0' + d % 10);
	t[10] = 'T';
	t[11] = (char)('0' + rem / 36000);
	t[12] = (char)('0' + rem / 3600 % 10);
	t[13] = ':';
	t[14] = (char)('0' + rem % 3600 / 600);
	t[15] = (char)('0' + rem % 3600 / 60 % 10);
	t[16] = ':';
	t[17] = (char)('0' + rem % 60 / 10);
	t[18] = (char)('0' + rem % 10);
	t[19] = '.';
	for (i = 25; i >= 20; i--) {
		t[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	t[26] = 'Z';
	return buf_add(b, t, 27);
}

int
render_has_metadata(const struct catalog_file *f)
{
	/*
	 * Only wheels: an sdist's PKG-INFO may leave dependencies dynamic
	 * (PEP 643), and pip would trust a .metadata file blindly.
	 */
	return f->has_metadata && f->kind == 'w' &&
	    hash_is_hex64(f->metadata_sha256);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html>\n  <head>\n"
    "    <meta name=\"pypi:repository-version\" content=\""
    RENDER_API_VERSION "\">\n";

int
render_index_html(struct buf *out, const struct render_project *p, size_t n)
{
	size_t i;
	int rc = 0;

	rc |= buf_addstr(out, html_head);
	rc |= buf_addstr(out, "    <title>Simple index</title>\n  </head>\n"
	    "  <body>\n    <h1>Simple index</h1>\n");
	for (i = 0; i < n; i++) {
		rc |= buf_addstr(out, "    <a href=\"");
		rc |= render_url_escape(out, p[i].normalized);
		rc |= buf_addstr(out, "/\">");
		rc |= render_html_escape(out, p[i].display ? p[i].display :
		    p[i].normalized);
		rc |= buf_addstr(out, "</a><br>\n");
	}
	rc |= buf_addstr(out, "  </body>\n</html>\n");
	return rc ? -1 : 0;
}

int
render_index_json(struct buf *out, const struct render_project *p, size_t n)
{
	size_t i;
	int rc = 0;

	rc |= buf_addstr(out, "{\"meta\":{\"api-version\":\""
	    RENDER_API_VERSION "\"},\"projects\":[");
	for (i = 0; i < n; i++) {
		rc |= buf_addstr(out, i ? ",{\"name\":" : "{\"name\":");
		rc |= render_json_string(out, p[i].display ? p[i].display :
		    p[i].normalized);
		rc |= buf_addc(out, '}');
	}
	rc |= buf_addstr(out, "]}\n");
	return rc ? -1 : 0;
}

int
render_project_html(struct buf *out, const char *normalized,
    const struct catalog_file *files, size_t n)
{
	const struct catalog_file *f;
	size_t i;
	int rc = 0;

	rc |= buf_addstr(out, html_head);
	rc |= buf_addstr(out, "    <title>Links for ");
	rc |= render_html_escape(out, normalized);
	rc |= buf_addstr(out, "</title>\n  </head>\n  <body>\n"
	    "    <h1>Links for ");
	rc |= render_html_escape(out, normalized);
	rc |= buf_addstr(out, "</h1>\n");
	for (i = 0; i < n; i++) {
		f = &files[i];
		rc |= buf_addstr(out, "    <a href=\"" FILE_BASE);
		rc |= render_url_escape(out, f->filename);
		rc |= buf_add(out, "#sha256=", 8);
		rc |= buf_add(out, f->sha256, 64);
		rc |= buf_addc(out, '"');
		if (f->requires_python != NULL &&
		    f->requires_python[0] != '\0') {
			rc |= buf_addstr(out, " data-requires-python=\"");
			rc |= render_html_escape(out, f->requires_python);
			rc |= buf_addc(out, '"');
		}
		if (render_has_metadata(f)) {
			rc |= buf_add(out, " data-dist-info-metadata=\"sha256=",
			    33);
			rc |= buf_add(out, f->metadata_sha256, 64);
			rc |= buf_add(out, "\" data-core-metadata=\"sha256=", 29);
			rc |= buf_add(out, f->metadata_sha256, 64);
			rc |= buf_addc(out, '"');
		}
		if (f->yanked) {
			rc |= buf_addstr(out, " data-yanked=\"");
			if (f->yanked_reason != NULL)
				rc |= render_html_escape(out, f->yanked_reason);
			rc |= buf_addc(out, '"');
		}
		rc |= buf_addc(out, '>');
		rc |= render_html_escape(out, f->filename);
		rc |= buf_addstr(out, "</a><br>\n");
	}
	rc |= buf_addstr(out, "  </body>\n</html>\n");
	return rc ? -1 : 0;
}

struct ver_item {
	const char	*str;
	struct version	*v;	/* NULL if it does not parse */
};

static int
ver_item_cmp(const void *a, const void *b)
{
	const struct ver_item *x = a, *y = b;
	int c;

	if (x->v != NULL && y->v != NULL) {
		if ((c = version_cmp(x->v, y->v)) != 0)
			return c;
	} else if (x->v != NULL)
		return -1;
	else if (y->v != NULL)
		return 1;
	return strcmp(x->str, y->str);
}

static int
ver_str_cmp(const void *a, const void *b)
{
	const struct ver_item *x = a, *y = b;

	return strcmp(x->str, y->str);
}

/* The distinct versions of the files, in PEP 440 order. */
static int
render_versions(struct buf *out, const struct catalog_file *files, size_t n)
{
	struct ver_item *items;
	size_t i, m = 0;
	int rc = 0;

	if (n == 0)
		return buf_addstr(out, "[]");
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		items[i].str = files[i].version ? files[i].version : "";
	qsort(items, n, sizeof(*items), ver_str_cmp);
	for (i = 0; i < n; i++)
		if (m == 0 || strcmp(items[m - 1].str, items[i].str) != 0)
			items[m++] = items[i];
	for (i = 0; i < m; i++)
		if (version_parse(items[i].str, &items[i].v) == -1)
			items[i].v = NULL;
	qsort(items, m, sizeof(*items), ver_item_cmp);
	rc |= buf_addc(out, '[');
	for (i = 0; i < m; i++) {
		if (i)
			rc |= buf_addc(out, ',');
		rc |= render_json_string(out, items[i].str);
		version_free(items[i].v);
	}
	rc |= buf_addc(out, ']');
	free(items);
	return rc ? -1 : 0;
}

int
render_project_json(struct buf *out, const char *normalized,
    const struct catalog_file *files, size_t n)
{
	const struct catalog_file *f;
	size_t i;
	int rc = 0;

	rc |= buf_addstr(out, "{\"meta\":{\"api-version\":\""
	    RENDER_API_VERSION "\"},\"name\":");
	rc |= render_json_string(out, normalized);
	rc |= buf_addstr(out, ",\"versions\":");
	rc |= render_versions(out, files, n);
	rc |= buf_addstr(out, ",\"files\":[");
	for (i = 0; i < n; i++) {
		f = &files[i];
		rc |= buf_addstr(out, i ? ",{\"filename\":" : "{\"filename\":");
		rc |= render_json_string(out, f->filename);
		rc |= buf_addstr(out, ",\"url\":\"" FILE_BASE);
		rc |= render_url_escape(out, f->filename);
		rc |= buf_add(out, "\",\"hashes\":{\"sha256\":\"", 22);
		rc |= buf_add(out, f->sha256, 64);
		rc |= buf_add(out, "\"}", 2);
		if (f->requires_python != NULL &&
		    f->requires_python[0] != '\0') {
			rc |= buf_addstr(out, ",\"requires-python\":");
			rc |= render_json_string(out, f->requires_python);
		}
		/*
		 * PEP 714: JSON carries only "core-metadata"; pip 22.3-23.1
		 * crash on a "dist-info-metadata" object (pip#12042).
		 */
		if (render_has_metadata(f)) {
			rc |= buf_add(out, ",\"core-metadata\":{\"sha256\":\"",
			    28);
			rc |= buf_add(out, f->metadata_sha256, 64);
			rc |= buf_add(out, "\"}", 2);
		} else
			rc |= buf_addstr(out, ",\"core-metadata\":false");
		rc |= buf_add(out, ",\"size\":", 8);
		rc |= buf_add_u64(out, f->size);
		if (f->upload_time_us > 0) {
			rc |= buf_add(out, ",\"upload-time\":\"", 16);
			rc |= add_time(out, f->upload_time_us);
			rc |= buf_addc(out, '"');
		}
		if (f->yanked && f->yanked_reason != NULL &&
		    f->yanked_reason[0] != '\0') {
			rc |= buf_addstr(out, ",\"yanked\":");
			rc |= render_json_string(out, f->yanked_reason);
		} else
			rc |= buf_addstr(out, f->yanked ? ",\"yanked\":true" :
			    ",\"yanked\":false");
		rc |= buf_addc(out, '}');
	}
	rc |= buf_addstr(out, "]}\n");
	return rc ? -1 : 0;
}

int
render_not_found(struct buf *out, int json, const char *what)
{
	int rc = 0;

	if (json) {
		rc |= buf_addstr(out, "{\"meta\":{\"api-version\":\""
		    RENDER_API_VERSION "\"},\"status\":404,\"message\":");
		rc |= render_json_string(out, what);
		rc |= buf_addstr(out, "}\n");
	} else {
		rc |= buf_addstr(out, html_head);
		rc |= buf_addstr(out, "    <title>404 Not Found</title>\n"
		    "  </head>\n  <body>\n    <h1>404 Not Found</h1>\n    <p>");
		rc |= render_html_escape(out, what);
		rc |= buf_addstr(out, "</p>\n  </body>\n</html>\n");
	}
	return rc ? -1 : 0;
}
