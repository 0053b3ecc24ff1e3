/*
 * cmd-cancel.c: indexctl cancel: a queued job is cancelled at once; for a
 * running one a cancel is requested and builderd kills its container.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "indexctl.h"
#include "jobs.h"
#include "store.h"

static int cmd_cancel_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_cancel_entry = {
	"cancel",
	"cancel [--json] JOB...",
	"cancel build jobs (running ones are stopped by builderd)",
	cmd_cancel_exec
};

static int
cmd_cancel_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const said[] = {
		"cancelled", "cancel requested", "already finished"
	};
	struct store *s;
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	struct job j;
	json_t *arr = NULL;
	int64_t id;
	int ch, i, rc, status = 0;

	if (cmd_want_help(&cmd_cancel_entry, argc, argv))
		return 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return cmd_usage(&cmd_cancel_entry);
		ctx->json = 1;
	}
	if (optind >= argc)
		return cmd_usage(&cmd_cancel_entry);
	for (i = optind; i < argc; i++)
		if (ctl_parse_job_id(argv[i], &id) == -1) {
			fprintf(stderr, "indexctl: cancel: \"%s\" is not a job "
			    "id\n", argv[i]);
			return 2;
		}
	if (ctl_open_jobs(ctx, 0, &s, &c, &js) == -1)
		return 1;
	if (ctx->json && (arr = json_array()) == NULL) {
		ctl_close_jobs(s, c, js);
		return 1;
	}
	for (i = optind; i < argc; i++) {
		ctl_parse_job_id(argv[i], &id);
		rc = jobs_cancel(js, id, &err);
		if (rc == -1) {
			fprintf(stderr, "indexctl: cancel: %s\n", err.msg);
			status = 1;
			continue;
		}
		if (jobs_get(js, id, &j, &err) != 0) {
			fprintf(stderr, "indexctl: cancel: job %lld vanished\n",
			    (long long)id);
			status = 1;
			continue;
		}
		if (ctx->json) {
			json_t *o = ctl_job_json(&j);
			if (o != NULL)
				json_object_set_new(o, "result",
				    json_string(said[rc]));
			json_array_append_new(arr, o);
		} else if (rc == 1)
			printf("job %lld: %s (running on %s; builderd stops "
			    "it)\n", (long long)id, said[rc],
			    j.engine ? j.engine : "?");
		else if (rc == 2)
			printf("job %lld: %s (%s)\n", (long long)id, said[rc],
			    job_state_name(j.state));
		else
			printf("job %lld: %s\n", (long long)id, said[rc]);
		job_free(&j);
	}
	ctl_close_jobs(s, c, js);
	if (ctx->json && ctl_json_print(arr) != 0)
		return 1;
	return status;
}
