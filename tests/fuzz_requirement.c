/*
 * fuzz_requirement.c: libFuzzer target for PEP 508 requirement lines and
 * markers. Beyond not crashing or leaking: a valid line's canonical text
 * must parse back to the same canonical text and evaluate the same under
 * several targets; the same holds for the input read as a bare marker.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "requirement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const targets[][3] = {
	{ "3.8.18", "x86_64", NULL }, { "3.11.2", "aarch64", NULL },
	{ "3.12.1", "x86_64", "test" }, { "3.13.0rc1", "aarch64", "Docs_X" },
};

/* marker_eval of a and b agree under every target. */
static void
same_meaning(const struct marker *a, const struct marker *b)
{
	struct marker_env env;
	struct marker_env_storage st;
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		marker_env_linux(&env, &st, targets[i][0], targets[i][1]);
		env.extra = targets[i][2];
		if (marker_eval(a, &env, NULL) != marker_eval(b, &env, NULL))
			abort();
		if (marker_evaluate(a, &env) != marker_evaluate(b, &env))
			abort();
	}
}

static void
check_requirement(const char *s)
{
	struct requirement *r, *r2;
	struct wwerr err;

	if (requirement_parse(s, &r, &err) == -1) {
		if (err.code == 0 || err.msg[0] == '\0')
			abort();
		return;
	}
	if (r->name == NULL || r->normalized == NULL || r->spec == NULL ||
	    r->text == NULL || r->canonical == NULL)
		abort();
	if (requirement_parse(requirement_str(r), &r2, &err) == -1)
		abort();
	if (strcmp(requirement_str(r), requirement_str(r2)) != 0 ||
	    strcmp(r->normalized, r2->normalized) != 0 ||
	    r->nextras != r2->nextras || (r->marker == NULL) !=
	    (r2->marker == NULL) || (r->url == NULL) != (r2->url == NULL))
		abort();
	if (r->marker != NULL)
		same_meaning(r->marker, r2->marker);
	requirement_free(r2);
	requirement_free(r);
}

static void
check_marker(const char *s)
{
	struct marker *m, *m2;
	struct wwerr err;

	if (marker_parse(s, &m, &err) == -1)
		return;
	if (marker_parse(marker_str(m), &m2, &err) == -1)
		abort();
	if (strcmp(marker_str(m), marker_str(m2)) != 0)
		abort();
	same_meaning(m, m2);
	marker_free(m2);
	marker_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > REQ_MAX_LINE + 16)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_requirement(s);
	check_marker(s);
	free(s);
	return 0;
}
