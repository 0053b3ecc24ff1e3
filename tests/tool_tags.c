/*
 * tool_tags.c: a command-line face of wheelname and tags for the
 * differential test against Python's packaging (it_tags_differential.py).
 *
 *   tool_tags supported 3.11 glibc 2.36 x86_64   tags, one per line
 *   tool_tags wheel  < filenames                 one result line each
 *   tool_tags sdist  < filenames
 *   tool_tags platform < platform tags
 *   tool_tags rank 3.11 musl 1.2 aarch64 < "py-abi-plat" lines
 *
 * Result lines are tab-separated: "ok\t..." or "err\t<code>\t<message>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"
#include "util.h"
#include "wheelname.h"

static int
parse_pair(const char *s, int *a, int *b)
{
	char buf[32];
	char *dot;
	uint64_t x, y;

	if (util_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	dot = strchr(buf, '.');
	if (dot == NULL)
		return -1;
	*dot = '\0';
	if (util_parse_u64(buf, 1000, &x) == -1 ||
	    util_parse_u64(dot + 1, 1000, &y) == -1)
		return -1;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

static int
parse_env(char **argv, struct target_env *env)
{
	memset(env, 0, sizeof(*env));
	env->interpreter = "cp";
	if (parse_pair(argv[0], &env->py_major, &env->py_minor) == -1)
		return -1;
	if (strcmp(argv[1], "glibc") == 0)
		env->libc = LIBC_GLIBC;
	else if (strcmp(argv[1], "musl") == 0)
		env->libc = LIBC_MUSL;
	else
		return -1;
	if (parse_pair(argv[2], &env->libc_major, &env->libc_minor) == -1)
		return -1;
	env->arch = argv[3];
	return 0;
}

/* Read a line without its newline; 0 at EOF. Lines may hold any byte. */
static int
read_line(char **line, size_t *cap, size_t *len)
{
	ssize_t n = getline(line, cap, stdin);

	if (n < 0)
		return 0;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[--n] = '\0';
	*len = (size_t)n;
	return 1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
print_tags(const char *py, const char *abi, const char *plat)
{
	struct tagset ts;
	struct wwerr err;
	char (*s)[TAG_PART_MAX * 4];
	char **p;
	size_t i;

	if (tagset_expand(py, abi, plat, &ts, &err) == -1) {
		printf("!%s", err.msg);
		return;
	}
	s = calloc(ts.ntags, sizeof(*s));
	p = calloc(ts.ntags, sizeof(*p));
	if (s == NULL || p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	for (i = 0; i < ts.ntags; i++) {
		tag_format(&ts.tags[i], s[i], sizeof(s[i]));
		p[i] = s[i];
	}
	qsort(p, ts.ntags, sizeof(*p), cmp_str);
	for (i = 0; i < ts.ntags; i++)
		printf("%s%s", i ? "," : "", p[i]);
	free(p);
	free(s);
	tagset_free(&ts);
}

static int
cmd_wheel(void)
{
	struct wheelname wn;
	struct wwerr err;
	char *line = NULL, canon[WHEELNAME_MAX + 1], di[600];
	size_t cap = 0, len;

	while (read_line(&line, &cap, &len)) {
		if (wheelname_parsen(line, len, &wn, &err) == -1) {
			printf("err\t%d\t%s\n", err.code, err.msg);
			continue;
		}
		if (wheelname_format(&wn, canon, sizeof(canon)) == -1)
			util_strlcpy(canon, "-", sizeof(canon));
		if (wheelname_distinfo(&wn, di, sizeof(di)) == -1)
			util_strlcpy(di, "-", sizeof(di));
		printf("ok\t%s\t%s\t%s\t%lu\t%s\t", wn.normalized,
		    wn.version_norm, wn.build[0] ? "1" : "0", wn.build_num,
		    wn.build);
		print_tags(wn.python, wn.abi, wn.platform);
		printf("\t%s\t%d\t%s\n", canon, wheelname_is_canonical(&wn),
		    di);
	}
	free(line);
	return 0;
}

static int
cmd_sdist(void)
{
	struct sdistname sn;
	struct wwerr err;
	char *line = NULL, canon[WHEELNAME_MAX + 1];
	size_t cap = 0, len;

	while (read_line(&line, &cap, &len)) {
		if (memchr(line, '\0', len) != NULL) {
			printf("err\t%d\tNUL in filename\n", WHEELNAME_E_LENGTH);
			continue;
		}
		if (sdistname_parse(line, &sn, &err) == -1) {
			printf("err\t%d\t%s\n", err.code, err.msg);
			continue;
		}
		if (sdistname_format(sn.name, sn.version, canon,
		    sizeof(canon)) == -1)
			util_strlcpy(canon, "-", sizeof(canon));
		printf("ok\t%s\t%s\t%s\t%s\n", sn.normalized, sn.version_norm,
		    sn.suffix, canon);
	}
	free(line);
	return 0;
}

static int
cmd_platform(void)
{
	static const char *const kinds[] = { "any", "linux", "manylinux",
	    "musllinux", "other" };
	struct platform p;
	char *line = NULL, fmt[160], alias[160];
	size_t cap = 0, len;

	while (read_line(&line, &cap, &len)) {
		if (memchr(line, '\0', len) != NULL ||
		    platform_parse(line, &p) == -1) {
			printf("err\n");
			continue;
		}
		if (platform_format(&p, fmt, sizeof(fmt)) == -1)
			util_strlcpy(fmt, "-", sizeof(fmt));
		if (platform_legacy_alias(&p, alias, sizeof(alias)) == -1)
			util_strlcpy(alias, "-", sizeof(alias));
		printf("ok\t%s\t%d\t%d\t%s\t%d\t%s\t%s\n", kinds[p.kind],
		    p.major, p.minor, p.arch[0] ? p.arch : "-", p.legacy, fmt,
		    alias);
	}
	free(line);
	return 0;
}

static int
cmd_rank(const struct target_env *env)
{
	struct tagset sup;
	char *line = NULL, *d1, *d2;
	size_t cap = 0, len;

	if (tags_supported(env, &sup) == -1) {
		fprintf(stderr, "tool_tags: unsupported target\n");
		return 1;
	}
	while (read_line(&line, &cap, &len)) {
		d1 = strchr(line, '-');
		d2 = d1 ? strchr(d1 + 1, '-') : NULL;
		if (d2 == NULL || strchr(d2 + 1, '-') != NULL) {
			printf("bad\n");
			continue;
		}
		*d1 = *d2 = '\0';
		printf("%d\t%d\n", tags_rank(env, &sup, line, d1 + 1, d2 + 1),
		    tags_rank(env, NULL, line, d1 + 1, d2 + 1));
	}
	free(line);
	tagset_free(&sup);
	return 0;
}

static int
cmd_supported(const struct target_env *env)
{
	struct tagset ts;
	char buf[TAG_PART_MAX * 4];
	size_t i;

	if (tags_supported(env, &ts) == -1) {
		fprintf(stderr, "tool_tags: unsupported target\n");
		return 1;
	}
	for (i = 0; i < ts.ntags; i++) {
		tag_format(&ts.tags[i], buf, sizeof(buf));
		printf("%s\n", buf);
	}
	tagset_free(&ts);
	return 0;
}

int
main(int argc, char **argv)
{
	struct target_env env;

	if (argc == 2 && strcmp(argv[1], "wheel") == 0)
		return cmd_wheel();
	if (argc == 2 && strcmp(argv[1], "sdist") == 0)
		return cmd_sdist();
	if (argc == 2 && strcmp(argv[1], "platform") == 0)
		return cmd_platform();
	if (argc == 6 && (strcmp(argv[1], "supported") == 0 ||
	    strcmp(argv[1], "rank") == 0)) {
		if (parse_env(argv + 2, &env) == -1) {
			fprintf(stderr, "tool_tags: bad target\n");
			return 2;
		}
		return argv[1][0] == 's' ? cmd_supported(&env) :
		    cmd_rank(&env);
	}
	fprintf(stderr, "usage: tool_tags supported|rank PY glibc|musl X.Y "
	    "ARCH | wheel | sdist | platform\n");
	return 2;
}
