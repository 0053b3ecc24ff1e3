/*
 * fuzz_builder_demux.c: libFuzzer target for what a container engine sends
 * back that engine.c parses itself: the multiplexed log stream (fed in
 * chunks whose sizes the input picks, in every framing mode, which must all
 * agree with one whole-buffer pass) and the RFC 3339 timestamps of the
 * container state.
 *
 * Seeds: tests/corpus/builder_demux/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	size_t	 bytes[4];
	uint64_t sum;		/* order-sensitive checksum of the payload */
};

static int
tally_sink(void *arg, int stream, const char *p, size_t n)
{
	struct tally *t = arg;
	size_t i;

	if (stream < 0 || stream > 3)
		abort();
	t->bytes[stream] += n;
	for (i = 0; i < n; i++)
		t->sum = t->sum * 31 + (unsigned char)p[i] + (uint64_t)stream;
	return 0;
}

static int
run(int mode, const uint8_t *data, size_t size, size_t chunk,
    struct tally *t)
{
	struct engine_demux d;
	struct wwerr err;
	size_t off, n;

	memset(t, 0, sizeof(*t));
	engine_demux_init(&d, mode, tally_sink, t);
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (engine_demux_feed(&d, data + off, n, &err) != 0)
			return -1;
	}
	return engine_demux_finish(&d, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole, parts;
	size_t chunk, total, i;
	char s[64];
	int64_t us;
	int mode, rc;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	for (mode = ENGINE_STREAM_AUTO; mode <= ENGINE_STREAM_RAW; mode++) {
		rc = run(mode, data, size, size ? size : 1, &whole);
		/* Chunking must never change the outcome or the bytes. */
		if (run(mode, data, size, chunk, &parts) != rc)
			abort();
		if (rc != 0)
			continue;
		if (memcmp(&whole, &parts, sizeof(whole)) != 0)
			abort();
		total = 0;
		for (i = 0; i < 4; i++)
			total += whole.bytes[i];
		if (total > size || (mode == ENGINE_STREAM_RAW && total != size))
			abort();
	}

	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		/* After 1970 (any offset) a time is never before the epoch. */
		if (engine_parse_time(s, &us) == 0 && us < 0 &&
		    strncmp(s, "1971", 4) >= 0)
			abort();
	}
	return 0;
}
