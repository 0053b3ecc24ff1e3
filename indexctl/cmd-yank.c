/*
 * cmd-yank.c: indexctl yank / unyank (PEP 592). A target is one file by
 * its filename, or a whole release as PROJECT==VERSION (any spelling of
 * the name and version; both are normalized). indexd shows the change at
 * once because yanking bumps the project's generation.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "indexctl.h"
#include "name.h"
#include "store.h"
#include "version.h"

static int cmd_yank_exec(struct cmd_ctx *, int, char **);
static int cmd_unyank_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_yank_entry = {
	"yank",
	"yank FILE|PROJECT==VERSION [--reason TEXT] [--json]",
	"mark a file or a whole release as yanked (PEP 592)",
	cmd_yank_exec
};

const struct cmd_entry cmd_unyank_entry = {
	"unyank",
	"unyank FILE|PROJECT==VERSION [--json]",
	"undo a yank of a file or a whole release",
	cmd_unyank_exec
};

/*
 * The stored version strings of project that equal want in PEP 440
 * terms ("1.1.0" is release 1.1), so the admin need not guess how the
 * release was spelled. Distinct, at most WW_ARRLEN(out).
 */
struct release_match {
	const struct version	*want;
	char			 found[8][VERSION_MAX_LEN + 1];
	size_t			 n;
	int			 overflow;
};

static int
release_cb(const struct catalog_file *f, void *arg)
{
	struct release_match *m = arg;
	struct version *v;
	size_t i;

	if (version_parse(f->version, &v) == -1)
		return 0;
	if (version_cmp(v, m->want) == 0) {
		for (i = 0; i < m->n; i++)
			if (strcmp(m->found[i], f->version) == 0)
				break;
		if (i == m->n) {
			if (m->n == sizeof(m->found) / sizeof(m->found[0]))
				m->overflow = 1;
			else
				snprintf(m->found[m->n++], sizeof(m->found[0]),
				    "%s", f->version);
		}
	}
	version_free(v);
	return 0;
}

static int
yank_release(struct catalog *c, const char *project, const char *version,
    int yank, const char *reason, char *shown, size_t shownlen,
    struct wwerr *err)
{
	struct release_match m;
	struct version *want;
	size_t i;
	int n, total = 0;

	memset(&m, 0, sizeof(m));
	if (version_parse(version, &want) == -1)
		return wwerr_set(err, CATALOG_E_INVALID, "invalid version %s",
		    version);
	m.want = want;
	n = catalog_foreach_file(c, project, release_cb, &m, err);
	version_free(want);
	if (n == -1)
		return -1;
	if (m.overflow)
		return wwerr_set(err, CATALOG_E_INVALID, "%s==%s matches too "
		    "many spellings of the version", project, version);
	if (m.n == 0)
		return wwerr_set(err, CATALOG_E_NOTFOUND, "%s==%s: no such "
		    "release in the catalog", project, version);
	/* One transaction: all spellings change together, or none. */
	if (catalog_begin(c, err) == -1)
		return -1;
	for (i = 0; i < m.n; i++) {
		if ((n = catalog_yank_release(c, project, m.found[i], yank,
		    reason, err)) == -1) {
			catalog_rollback(c);
			return -1;
		}
		total += n;
	}
	if (catalog_commit(c, err) == -1)
		return -1;
	snprintf(shown, shownlen, "%s==%s", project, m.found[0]);
	return total;
}

static int
yank_main(const struct cmd_entry *e, int yank, struct cmd_ctx *ctx,
    int argc, char **argv)
{
	static const struct option yopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option uopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	char project[NAME_MAX_LEN + 1], version[VERSION_MAX_LEN + 1];
	char target[NAME_MAX_LEN + VERSION_MAX_LEN + 3];
	const char *arg, *reason = NULL, *sep;
	struct store *s;
	struct catalog *c;
	struct wwerr err;
	int ch, n, release;

	if (cmd_want_help(e, argc, argv))
		return 0;
	optind = 0;	/* 0: full getopt re-init (main used "+") */
	while ((ch = getopt_long(argc, argv, yank ? "r:" : "",
	    yank ? yopts : uopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reason = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(e);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(e);
	arg = argv[optind];
	if (reason != NULL && strlen(reason) > 1024) {
		fprintf(stderr, "indexctl: %s: reason longer than 1024 bytes\n",
		    e->name);
		return 2;
	}

	if ((sep = strstr(arg, "==")) != NULL) {
		release = 1;
		if (name_normalizen(arg, (size_t)(sep - arg), project,
		    sizeof(project)) == -1) {
			fprintf(stderr, "indexctl: %s: \"%.*s\" is not a valid "
			    "project name\n", e->name, (int)(sep - arg), arg);
			return 2;
		}
		if (version_normalize(sep + 2, version, sizeof(version)) == -1) {
			fprintf(stderr, "indexctl: %s: \"%s\" is not a valid "
			    "PEP 440 version\n", e->name, sep + 2);
			return 2;
		}
		snprintf(target, sizeof(target), "%s==%s", project, version);
	} else {
		release = 0;
		if (!store_name_ok(arg)) {
			fprintf(stderr, "indexctl: %s: \"%s\" is neither a file "
			    "name nor PROJECT==VERSION\n", e->name, arg);
			return 2;
		}
		snprintf(target, sizeof(target), "%s", arg);
	}

	if (ctl_open_data(ctx, 0, &s, &c) == -1)
		return 1;
	if (release)
		n = yank_release(c, project, version, yank, reason, target,
		    sizeof(target), &err);
	else
		n = catalog_yank_file(c, arg, yank, reason, &err);
	ctl_close_data(s, c);
	if (n == -1) {
		fprintf(stderr, "indexctl: %s: %s\n", e->name, err.msg);
		return 1;
	}
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:o, s:i}", "target",
		    target, "kind", release ? "release" : "file", "yanked",
		    yank, "reason", yank && reason ? json_string(reason) :
		    json_null(), "changed", n);

		if (ctl_json_print(j) != 0)
			return 1;
	} else if (n == 0)
		printf("%s: already %s\n", target, yank ? "yanked" :
		    "not yanked");
	else
		printf("%s %s: %d file%s%s%s%s\n", yank ? "yanked" : "unyanked",
		    target, n, n == 1 ? "" : "s", yank && reason ? " (reason: " :
		    "", yank && reason ? reason : "", yank && reason ? ")" : "");
	return 0;
}

static int
cmd_yank_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return yank_main(&cmd_yank_entry, 1, ctx, argc, argv);
}

static int
cmd_unyank_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return yank_main(&cmd_unyank_entry, 0, ctx, argc, argv);
}
