/*
 * fuzz_indexd_multipart.c: libFuzzer target for the streaming multipart
 * parser. Input: one byte choosing a chunk size, a boundary line, then the
 * body. Besides crashes and sanitizer reports it checks a property: the
 * events (parts, their bytes, success or failure) must not depend on how
 * the body is split into chunks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "indexd_multipart.h"

struct ev {
	struct buf	log;
};

static int
ev_begin(const struct multipart_part *p, void *arg)
{
	struct ev *e = arg;

	buf_printf(&e->log, "B%s|%s|%s\n", p->name,
	    p->filename ? p->filename : "-",
	    p->content_type ? p->content_type : "-");
	return 0;
}

static int
ev_data(const void *d, size_t len, void *arg)
{
	struct ev *e = arg;

	if (buf_add(&e->log, d, len) == -1)
		return -1;
	return 0;
}

static int
ev_end(void *arg)
{
	struct ev *e = arg;

	return buf_addstr(&e->log, "\nE\n");
}

static const struct multipart_callbacks cbs = { ev_begin, ev_data, ev_end };

static int
run(const char *boundary, const uint8_t *body, size_t len, size_t chunk,
    struct ev *e)
{
	struct multipart *m;
	size_t off, n;
	int rc = 0;

	buf_init(&e->log, 1 << 22);
	if (multipart_new(boundary, &cbs, e, &m) == -1)
		return -2;
	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off < chunk ? len - off : chunk;
		rc = multipart_feed(m, body + off, n);
	}
	if (rc == 0)
		rc = multipart_finish(m);
	multipart_free(m);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char boundary[MULTIPART_MAX_BOUNDARY + 1];
	const uint8_t *nl;
	struct ev a, b;
	size_t chunk, blen;
	int ra, rb;

	if (size < 2)
		return 0;
	chunk = (size_t)(data[0] % 64) + 1;
	data++;
	size--;
	nl = memchr(data, '\n', size < sizeof(boundary) ? size :
	    sizeof(boundary));
	if (nl == NULL)
		return 0;
	blen = (size_t)(nl - data);
	memcpy(boundary, data, blen);
	boundary[blen] = '\0';
	data = nl + 1;
	size -= blen + 1;

	ra = run(boundary, data, size, size ? size : 1, &a);
	rb = run(boundary, data, size, chunk, &b);
	if (ra != rb || (ra == 0 && (a.log.len != b.log.len ||
	    memcmp(a.log.ptr, b.log.ptr, a.log.len) != 0)))
		abort();	/* chunking changed the result */
	buf_free(&a.log);
	buf_free(&b.log);
	return 0;
}
