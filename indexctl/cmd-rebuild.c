/*
 * cmd-rebuild.c: indexctl rebuild: build a release again with the next
 * wheel build number (the optional build tag in the filename), so the
 * new wheel never takes an old filename, old hashes stay valid and pip
 * prefers the new build. Every target of one rebuild shares the number.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "config.h"
#include "indexctl.h"
#include "jobs.h"
#include "name.h"
#include "store.h"
#include "version.h"

#define REBUILD_PRIORITY	10	/* ahead of reconcile's jobs */

static int cmd_rebuild_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_rebuild_entry = {
	"rebuild",
	"rebuild PROJECT [--version V] [--target T]... [--json]",
	"build a release again with the next build number (default: the "
	"newest release in the catalog, every configured target)",
	cmd_rebuild_exec
};

struct newest {
	struct version	*v;
	char		 str[VERSION_STR_MAX];
};

static int
newest_cb(const struct catalog_file *f, void *arg)
{
	struct newest *n = arg;
	struct version *v;

	if (version_parse(f->version, &v) == -1)
		return 0;
	if (n->v == NULL || version_cmp(v, n->v) > 0) {
		version_free(n->v);
		n->v = v;
		snprintf(n->str, sizeof(n->str), "%s", f->version);
	} else
		version_free(v);
	return 0;
}

static int
cmd_rebuild_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'V' },
		{ "target", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct config *conf = ctx->conf;
	const char *targets[CONFIG_MAX_LIST], *version = NULL;
	char project[NAME_MAX_LEN + 1], vnorm[VERSION_STR_MAX];
	char reqtext[NAME_MAX_LEN + VERSION_STR_MAX + 3];
	int64_t ids[CONFIG_MAX_LIST];
	struct job_spec spec;
	struct newest nw;
	struct store *s;
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	size_t nt = 0, i;
	int ch, build, rc = 1;

	if (cmd_want_help(&cmd_rebuild_entry, argc, argv))
		return 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "V:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			version = optarg;
			break;
		case 't':
			if (config_target(conf, optarg) == NULL) {
				fprintf(stderr, "indexctl: rebuild: no target "
				    "\"%s\" in %s\n", optarg, conf->path[0] ?
				    conf->path : "the configuration (use -c)");
				return 2;
			}
			for (i = 0; i < nt; i++)
				if (!strcmp(targets[i], optarg))
					break;
			if (i == nt && nt < CONFIG_MAX_LIST)
				targets[nt++] = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(&cmd_rebuild_entry);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_rebuild_entry);
	if (name_normalize(argv[optind], project, sizeof(project)) == -1) {
		fprintf(stderr, "indexctl: rebuild: \"%s\" is not a valid "
		    "project name\n", argv[optind]);
		return 2;
	}
	if (version != NULL && version_normalize(version, vnorm,
	    sizeof(vnorm)) == -1) {
		fprintf(stderr, "indexctl: rebuild: \"%s\" is not a PEP 440 "
		    "version\n", version);
		return 2;
	}
	if (nt == 0) {
		for (i = 0; i < conf->ntargets; i++)
			targets[nt++] = conf->targets[i].name;
		if (nt == 0) {
			fprintf(stderr, "indexctl: rebuild: no [target] in %s\n",
			    conf->path[0] ? conf->path :
			    "the configuration (use -c)");
			return 2;
		}
	}
	if (ctl_open_jobs(ctx, 0, &s, &c, &js) == -1)
		return 1;
	if (version == NULL) {
		memset(&nw, 0, sizeof(nw));
		if (catalog_foreach_file(c, project, newest_cb, &nw, &err) ==
		    -1) {
			fprintf(stderr, "indexctl: rebuild: %s\n", err.msg);
			goto done;
		}
		if (nw.v == NULL) {
			fprintf(stderr, "indexctl: rebuild: %s has no release "
			    "in the catalog; name one with --version\n",
			    project);
			goto done;
		}
		version_free(nw.v);
		snprintf(vnorm, sizeof(vnorm), "%s", nw.str);
	}
	snprintf(reqtext, sizeof(reqtext), "%s==%s", project, vnorm);
	memset(&spec, 0, sizeof(spec));
	spec.project = project;
	spec.requirement = reqtext;
	spec.version = vnorm;
	spec.max_attempts = conf->max_attempts > 0 ? conf->max_attempts : 1;
	spec.priority = REBUILD_PRIORITY;
	spec.origin = "indexctl";
	if (jobs_enqueue_rebuild(js, &spec, targets, nt, ids, &build,
	    &err) == -1) {
		fprintf(stderr, "indexctl: rebuild: %s\n", err.msg);
		goto done;
	}
	if (ctx->json) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:[]}", "project",
		    project, "version", vnorm, "build_number", build, "jobs");
		json_t *arr = o ? json_object_get(o, "jobs") : NULL;
		for (i = 0; arr != NULL && i < nt; i++)
			json_array_append_new(arr, json_pack("{s:I, s:s}", "id",
			    (json_int_t)ids[i], "target", targets[i]));
		rc = ctl_json_print(o);
		goto done;
	}
	printf("rebuild %s with build number %d:\n", reqtext, build);
	for (i = 0; i < nt; i++)
		printf("  job %lld  %s\n", (long long)ids[i], targets[i]);
	rc = 0;
done:
	ctl_close_jobs(s, c, js);
	return rc;
}
