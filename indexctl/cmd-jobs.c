/*
 * cmd-jobs.c: indexctl jobs: list build jobs, newest first, filtered by
 * state, project and target.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "indexctl.h"
#include "jobs.h"
#include "name.h"
#include "store.h"
#include "util.h"

static int cmd_jobs_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_jobs_entry = {
	"jobs",
	"jobs [--state S] [--project P] [--target T] [--limit N] [--json]",
	"list build jobs (S: queued, running, succeeded, failed, cancelled)",
	cmd_jobs_exec
};

struct listing {
	int			 json;
	json_t			*arr;		/* --json */
	struct ctl_table	*table;		/* text */
	int			 n;
	int64_t			 now;
};

static int
list_cb(const struct job *j, void *arg)
{
	struct listing *l = arg;
	char when[64], pv[300], state[32], why[96], id[24], tries[32];
	json_t *o;

	l->n++;
	if (l->json) {
		/* non-zero stops the walk: 1 is out of memory */
		if ((o = ctl_job_json(j)) == NULL ||
		    json_array_append_new(l->arr, o) == -1)
			return 1;
		return 0;
	}
	if (j->build_number > 0)
		snprintf(pv, sizeof(pv), "%s==%s (build %d)", j->project,
		    j->version, j->build_number);
	else
		snprintf(pv, sizeof(pv), "%s==%s", j->project, j->version);
	snprintf(state, sizeof(state), "%s%s", job_state_name(j->state),
	    j->cancel_requested && j->state == JOB_RUNNING ? "*" : "");
	why[0] = '\0';
	switch (j->state) {
	case JOB_QUEUED:
		if (j->next_attempt_us > l->now) {
			ctl_duration(j->next_attempt_us - l->now, when,
			    sizeof(when));
			snprintf(why, sizeof(why), "retry in %s", when);
		}
		ctl_time(j->created_us, when, sizeof(when));
		break;
	case JOB_RUNNING:
		ctl_duration(l->now - j->started_us, when, sizeof(when));
		snprintf(why, sizeof(why), "on %s for %s",
		    j->engine ? j->engine : "?", when);
		ctl_time(j->started_us, when, sizeof(when));
		break;
	default:
		ctl_time(j->finished_us, when, sizeof(when));
		if (j->state == JOB_SUCCEEDED && j->wheel)
			snprintf(why, sizeof(why), "%s", j->wheel);
		break;
	}
	if (j->failure != JOB_FAIL_NONE && j->state != JOB_SUCCEEDED &&
	    why[0] == '\0')
		snprintf(why, sizeof(why), "%s", job_failure_name(j->failure));
	else if (j->failure != JOB_FAIL_NONE && j->state == JOB_QUEUED) {
		size_t n = strlen(why);
		snprintf(why + n, sizeof(why) - n, " after %s",
		    job_failure_name(j->failure));
	}
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	snprintf(tries, sizeof(tries), "%d/%d", j->attempts, j->max_attempts);
	return ctl_table_row(l->table, (const char *[]){ id, state,
	    j->target, pv, tries, when, why }) == -1 ? 1 : 0;
}

static int
cmd_jobs_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "project", required_argument, NULL, 'p' },
		{ "target", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct job_filter f;
	struct listing l;
	struct store *s;
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	enum job_state st;
	uint64_t lim;
	int ch, rc;

	if (cmd_want_help(&cmd_jobs_entry, argc, argv))
		return 0;
	job_filter_init(&f);
	f.newest_first = 1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:p:t:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (job_state_parse(optarg, &st) == -1) {
				fprintf(stderr, "indexctl: jobs: unknown state "
				    "\"%s\" (queued, running, succeeded, "
				    "failed, cancelled)\n", optarg);
				return 2;
			}
			f.state = (int)st;
			break;
		case 'p':
			if (!name_valid(optarg)) {
				fprintf(stderr, "indexctl: jobs: \"%s\" is not a "
				    "valid project name\n", optarg);
				return 2;
			}
			f.project = optarg;
			break;
		case 't':
			f.target = optarg;
			break;
		case 'n':
			if (util_parse_u64(optarg, 1000000000, &lim) == -1) {
				fprintf(stderr, "indexctl: jobs: --limit \"%s\" "
				    "is not a number\n", optarg);
				return 2;
			}
			f.limit = (size_t)lim;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(&cmd_jobs_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_jobs_entry);
	if (ctl_open_jobs(ctx, CTL_RDONLY, &s, &c, &js) == -1)
		return 1;
	memset(&l, 0, sizeof(l));
	l.json = ctx->json;
	l.now = util_now_us();
	if (l.json ? (l.arr = json_array()) == NULL :
	    (l.table = ctl_table_new(7, "r")) == NULL ||
	    ctl_table_row(l.table, (const char *[]){ "ID", "STATE", "TARGET",
	    "RELEASE", "TRIES", "SINCE", "DETAIL" }) == -1) {
		fprintf(stderr, "indexctl: jobs: out of memory\n");
		ctl_table_free(l.table);
		ctl_close_jobs(s, c, js);
		return 1;
	}
	rc = jobs_foreach(js, &f, list_cb, &l, &err);
	ctl_close_jobs(s, c, js);
	if (rc == 0 && !l.json && ctl_table_print(l.table, NULL) == -1)
		rc = 1;
	ctl_table_free(l.table);
	if (rc != 0) {
		if (rc == -1)
			fprintf(stderr, "indexctl: jobs: %s\n", err.msg);
		else
			fprintf(stderr, "indexctl: jobs: out of memory\n");
		json_decref(l.arr);
		return 1;
	}
	if (l.json)
		return ctl_json_print(l.arr);
	return 0;
}
