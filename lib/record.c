/*
 * record.c: RECORD parsing and writing; see record.h. The CSV rules are
 * those of Python's csv module with its default dialect, which is what
 * wheel, setuptools and pip use, but stricter: a quote inside an unquoted
 * field or text after a closing quote is an error rather than being taken
 * literally, because a RECORD that parses two ways is a RECORD to refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"
#include "verify.h"

#define RECORD_MAX_FIELD	(64 * 1024)

void
record_free(struct record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->e[i].path);
	free(r->e);
	free(r);
}

/*
 * Read one CSV row at *pp into f[0..2]; *nf gets the field count (may
 * exceed 3, extra fields are dropped). 0 on success, 1 at end of data,
 * -1 on a syntax error (reason in *why).
 */
static int
csv_row(const char **pp, const char *end, struct buf f[3], size_t *nf,
    const char **why)
{
	const char *p = *pp;
	size_t i, cur = 0;
	int quoted;

	if (p >= end)
		return 1;
	for (i = 0; i < 3; i++)
		buf_reset(&f[i]);
	for (;;) {
		struct buf *fb = cur < 3 ? &f[cur] : NULL;

		quoted = 0;
		if (p < end && *p == '"') {
			quoted = 1;
			p++;
		}
		for (;;) {
			if (p >= end) {
				if (quoted) {
					*why = "unterminated quoted field";
					return -1;
				}
				break;
			}
			if (quoted) {
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						p++;
					} else {
						p++;
						if (p < end && *p != ',' &&
						    *p != '\n' && *p != '\r') {
							*why = "text after a "
							    "closing quote";
							return -1;
						}
						break;
					}
				}
			} else {
				if (*p == ',' || *p == '\n' || *p == '\r')
					break;
				if (*p == '"') {
					*why = "quote inside an unquoted field";
					return -1;
				}
			}
			if (*p == '\0') {
				*why = "NUL byte";
				return -1;
			}
			if (fb != NULL && buf_addc(fb, *p) == -1) {
				*why = "field too long";
				return -1;
			}
			p++;
		}
		cur++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	*nf = cur;
	*pp = p;
	return 0;
}

int
record_parse(const char *data, size_t len, const char *what,
    struct record **out, struct wwerr *err)
{
	struct buf f[3];
	struct record *r;
	struct record_entry *e, *ne;
	const char *p = data, *end = data + len, *why = NULL, *h;
	size_t nf = 0, row = 0, alloc = 0, dlen, i;
	int rc = -1, st;

	*out = NULL;
	for (i = 0; i < 3; i++)
		buf_init(&f[i], RECORD_MAX_FIELD);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		wwerr_set(err, VERIFY_E_NOMEM, "%s: out of memory", what);
		goto done;
	}
	for (;;) {
		st = csv_row(&p, end, f, &nf, &why);
		if (st == 1)
			break;
		row++;
		if (st == -1) {
			wwerr_set(err, VERIFY_E_RECORD_SYNTAX, "%s row %zu: %s",
			    what, row, why);
			goto done;
		}
		if (nf == 1 && f[0].len == 0)
			continue;	/* blank line */
		if (nf != 3) {
			wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
			    "%s row %zu: %zu fields, expected path,hash,size",
			    what, row, nf);
			goto done;
		}
		if (f[0].len == 0) {
			wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
			    "%s row %zu: empty path", what, row);
			goto done;
		}
		if (r->n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			if ((ne = reallocarray(r->e, alloc, sizeof(*ne))) ==
			    NULL) {
				wwerr_set(err, VERIFY_E_NOMEM,
				    "%s: out of memory", what);
				goto done;
			}
			r->e = ne;
		}
		e = &r->e[r->n];
		memset(e, 0, sizeof(*e));
		e->row = row;
		if ((e->path = buf_steal(&f[0])) == NULL) {
			wwerr_set(err, VERIFY_E_NOMEM, "%s: out of memory", what);
			goto done;
		}
		r->n++;
		h = buf_cstr(&f[1]);
		if (*h != '\0') {
			const char *eq = strchr(h, '=');

			if (eq == NULL) {
				wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
				    "%s row %zu: hash \"%s\" is not algo=value",
				    what, row, h);
				goto done;
			}
			if ((size_t)(eq - h) != 6 || strncmp(h, "sha256", 6)) {
				wwerr_set(err, VERIFY_E_RECORD_HASH_ALGO,
				    "%s row %zu (%s): hash algorithm \"%.*s\" "
				    "not allowed, sha256 required", what, row,
				    e->path, (int)(eq - h), h);
				goto done;
			}
			if (hash_b64url_decode(eq + 1, e->digest,
			    sizeof(e->digest), &dlen) == -1 ||
			    dlen != HASH_SHA256_LEN) {
				wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
				    "%s row %zu (%s): bad sha256 value \"%s\" "
				    "(urlsafe base64 of 32 bytes expected)",
				    what, row, e->path, eq + 1);
				goto done;
			}
			e->has_hash = 1;
		}
		if (f[2].len != 0) {
			if (util_parse_u64(buf_cstr(&f[2]), UINT64_MAX,
			    &e->size) == -1) {
				wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
				    "%s row %zu (%s): bad size \"%s\"", what,
				    row, e->path, buf_cstr(&f[2]));
				goto done;
			}
			e->has_size = 1;
		}
		if (e->has_hash != e->has_size) {
			wwerr_set(err, VERIFY_E_RECORD_SYNTAX,
			    "%s row %zu (%s): hash and size must both be "
			    "given or both be empty", what, row, e->path);
			goto done;
		}
	}
	*out = r;
	r = NULL;
	rc = 0;
done:
	for (i = 0; i < 3; i++)
		buf_free(&f[i]);
	record_free(r);
	return rc;
}

static int
add_field(struct buf *b, const char *s)
{
	const char *c;

	if (strpbrk(s, ",\"\r\n") == NULL)
		return buf_addstr(b, s);
	if (buf_addc(b, '"') == -1)
		return -1;
	for (c = s; *c; c++) {
		if (*c == '"' && buf_addc(b, '"') == -1)
			return -1;
		if (buf_addc(b, *c) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

int
record_add_row(struct buf *b, const char *path, const unsigned char *digest,
    uint64_t size)
{
	char b64[HASH_SHA256_B64LEN];

	if (add_field(b, path) == -1)
		return -1;
	if (digest == NULL)
		return buf_addstr(b, ",,\n");
	hash_b64url(digest, HASH_SHA256_LEN, b64);
	return buf_printf(b, ",sha256=%s,%llu\n", b64,
	    (unsigned long long)size);
}
