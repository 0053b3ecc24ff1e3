/*
 * tool_pep440.c: line-oriented front end to the name, version and
 * specifier modules, driven by it_pep440_differential.py, which feeds the
 * same inputs to Python's packaging and compares the answers.
 *
 *   tool_pep440 names      NAME per line -> "ok\tNORMALIZED\tESCAPED" | "invalid"
 *   tool_pep440 versions   VERSION per line ->
 *       "ok\tSTR\tPUBLIC\tBASE\tLOCAL\tPRE POST DEV" | "invalid"
 *   tool_pep440 sort       VERSION per line (all valid) -> input indices in
 *                          ascending order, ties kept in input order
 *   tool_pep440 cmp        A and B on consecutive lines -> "-1" | "0" | "1"
 *   tool_pep440 specs      SPECSET per line -> "ok\tCANONICAL\tCOUNT\tMENTIONS"
 *                          | "invalid"
 *   tool_pep440 contains   first a line "N", then N specifier sets, then
 *                          versions; prints, per version, one line with a
 *                          3-character word per set: prereleases
 *                          default/allow/deny, each '1' or '0'
 *   tool_pep440 filter     "SPECSET\tPRE\tV1 V2 ..." per line -> kept
 *                          indices, space separated
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "specifier.h"
#include "util.h"
#include "version.h"

static char *
next_line(char **line, size_t *cap, FILE *f)
{
	ssize_t n;

	if ((n = getline(line, cap, f)) == -1)
		return NULL;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[n - 1] = '\0';
	return *line;
}

static int
do_names(void)
{
	char *line = NULL, norm[NAME_MAX_LEN + 1], esc[NAME_MAX_LEN + 1];
	size_t cap = 0;

	while (next_line(&line, &cap, stdin) != NULL) {
		if (!name_valid(line)) {
			puts("invalid");
			continue;
		}
		if (name_normalize(line, norm, sizeof(norm)) == -1 ||
		    name_escape(line, esc, sizeof(esc)) == -1) {
			puts("error");
			continue;
		}
		printf("ok\t%s\t%s\n", norm, esc);
	}
	free(line);
	return 0;
}

static int
do_versions(void)
{
	struct version *v;
	char *line = NULL;
	size_t cap = 0;

	while (next_line(&line, &cap, stdin) != NULL) {
		if (version_parse(line, &v) == -1) {
			puts("invalid");
			continue;
		}
		printf("ok\t%s\t%s\t%s\t%s\t%d %d %d\n", version_str(v),
		    version_public(v), version_base(v),
		    version_local(v) ? version_local(v) : "",
		    version_is_prerelease(v), version_is_postrelease(v),
		    version_is_devrelease(v));
		version_free(v);
	}
	free(line);
	return 0;
}

struct item {
	struct version	*v;
	size_t		 idx;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = version_cmp(x->v, y->v);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
do_sort(void)
{
	struct item *items = NULL, *tmp;
	size_t n = 0, alloc = 0, i, cap = 0;
	char *line = NULL;
	int rc = 1;

	while (next_line(&line, &cap, stdin) != NULL) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			if ((tmp = realloc(items, alloc * sizeof(*items))) ==
			    NULL)
				goto fail;
			items = tmp;
		}
		if (version_parse(line, &items[n].v) == -1) {
			fprintf(stderr, "sort: invalid version '%s'\n", line);
			goto fail;
		}
		items[n].idx = n;
		n++;
	}
	qsort(items, n, sizeof(*items), item_cmp);
	for (i = 0; i < n; i++)
		printf("%zu\n", items[i].idx);
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		version_free(items[i].v);
	free(items);
	free(line);
	return rc;
}

static int
do_cmp(void)
{
	struct version *a, *b;
	char *line = NULL;
	size_t cap = 0;

	while (next_line(&line, &cap, stdin) != NULL) {
		if (version_parse(line, &a) == -1)
			goto fail;
		if (next_line(&line, &cap, stdin) == NULL ||
		    version_parse(line, &b) == -1) {
			version_free(a);
			goto fail;
		}
		printf("%d\n", version_cmp(a, b));
		version_free(a);
		version_free(b);
	}
	free(line);
	return 0;
fail:
	fprintf(stderr, "cmp: invalid version '%s'\n", line ? line : "");
	free(line);
	return 1;
}

static int
do_specs(void)
{
	struct specset *ss;
	struct wwerr err;
	char *line = NULL;
	size_t cap = 0;

	while (next_line(&line, &cap, stdin) != NULL) {
		if (specset_parse(line, &ss, &err) == -1) {
			printf("invalid\t%s\n", err.msg);
			continue;
		}
		printf("ok\t%s\t%zu\t%d\n", specset_str(ss), specset_count(ss),
		    specset_mentions_prerelease(ss));
		specset_free(ss);
	}
	free(line);
	return 0;
}

static int
do_contains(void)
{
	struct specset **sets = NULL;
	struct version *v;
	struct wwerr err;
	char *line = NULL, *out = NULL;
	size_t cap = 0, n = 0, i, got = 0;
	uint64_t count;
	int rc = 1;

	if (next_line(&line, &cap, stdin) == NULL ||
	    util_parse_u64(line, 100000, &count) == -1)
		goto fail;
	n = (size_t)count;
	if ((sets = calloc(n ? n : 1, sizeof(*sets))) == NULL ||
	    (out = malloc(3 * n + 1)) == NULL)
		goto fail;
	for (got = 0; got < n; got++) {
		if (next_line(&line, &cap, stdin) == NULL)
			goto fail;
		if (specset_parse(line, &sets[got], &err) == -1) {
			fprintf(stderr, "contains: %s\n", err.msg);
			goto fail;
		}
	}
	while (next_line(&line, &cap, stdin) != NULL) {
		if (version_parse(line, &v) == -1) {
			fprintf(stderr, "contains: invalid version '%s'\n", line);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			out[3 * i] = (char)('0' +
			    specset_contains(sets[i], v, SPEC_PRE_DEFAULT));
			out[3 * i + 1] = (char)('0' +
			    specset_contains(sets[i], v, SPEC_PRE_ALLOW));
			out[3 * i + 2] = (char)('0' +
			    specset_contains(sets[i], v, SPEC_PRE_DENY));
		}
		out[3 * n] = '\0';
		puts(out);
		version_free(v);
	}
	rc = 0;
fail:
	for (i = 0; i < got; i++)
		specset_free(sets[i]);
	free(sets);
	free(out);
	free(line);
	return rc;
}

static int
do_filter(void)
{
	struct version *vs[256];
	struct specset *ss;
	struct wwerr err;
	unsigned char keep[256];
	char *line = NULL, *t1, *t2, *tok, *save;
	size_t cap = 0, n, i;
	int pre, rc = 1;

	while (next_line(&line, &cap, stdin) != NULL) {
		if ((t1 = strchr(line, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL)
			goto fail;
		*t1 = *t2 = '\0';
		pre = t1[1] == 'd' ? SPEC_PRE_DEFAULT : t1[1] == 'a' ?
		    SPEC_PRE_ALLOW : SPEC_PRE_DENY;
		if (specset_parse(line, &ss, &err) == -1)
			goto fail;
		n = 0;
		for (tok = strtok_r(t2 + 1, " ", &save); tok != NULL && n < 256;
		    tok = strtok_r(NULL, " ", &save))
			if (version_parse(tok, &vs[n]) == 0)
				n++;
		specset_filter(ss, (const struct version *const *)vs, n, pre,
		    keep);
		for (i = 0; i < n; i++) {
			if (keep[i])
				printf("%zu ", i);
			version_free(vs[i]);
		}
		putchar('\n');
		specset_free(ss);
	}
	rc = 0;
fail:
	free(line);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} cmds[] = {
		{ "names", do_names }, { "versions", do_versions },
		{ "sort", do_sort }, { "cmp", do_cmp }, { "specs", do_specs },
		{ "contains", do_contains }, { "filter", do_filter },
	};
	size_t i;

	if (argc == 2)
		for (i = 0; i < WW_ARRLEN(cmds); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn();
	fprintf(stderr, "usage: tool_pep440 names|versions|sort|cmp|specs|"
	    "contains|filter < input\n");
	return 2;
}
