/*
 * cmd-status.c: indexctl status: job counts per target and state, what
 * runs where, and the last failures.
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
#include "store.h"
#include "util.h"

static int cmd_status_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_status_entry = {
	"status",
	"status [--failures N] [--json]",
	"job counts per target and state, running jobs, last failures",
	cmd_status_exec
};

struct walk {
	int			 json;
	json_t			*arr;		/* --json */
	struct ctl_table	*table;		/* text */
	int64_t			 now;
	int			 n;
	int64_t			 waiting;	/* queued, in backoff */
	int			 count_only;
};

static void
release(const struct job *j, char *out, size_t outlen)
{
	if (j->build_number > 0)
		snprintf(out, outlen, "%s==%s #%d", j->project, j->version,
		    j->build_number);
	else
		snprintf(out, outlen, "%s==%s", j->project, j->version);
}

static int
waiting_cb(const struct job *j, void *arg)
{
	struct walk *w = arg;

	if (j->next_attempt_us > w->now)
		w->waiting++;
	return 0;
}

static int
running_cb(const struct job *j, void *arg)
{
	struct walk *w = arg;
	char pv[300], dur[32], ctr[32], id[24];

	w->n++;
	if (w->json)
		return json_array_append_new(w->arr, ctl_job_json(j)) == -1;
	release(j, pv, sizeof(pv));
	ctl_duration(w->now - j->started_us, dur, sizeof(dur));
	snprintf(ctr, sizeof(ctr), "%.15s%s", j->container_id ?
	    j->container_id : "-", j->cancel_requested ? " (cancelling)" :
	    "");
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	return ctl_table_row(w->table, (const char *[]){ j->engine ?
	    j->engine : "?", id, j->target, pv, dur, ctr }) == -1;
}

static int
failure_cb(const struct job *j, void *arg)
{
	struct walk *w = arg;
	char pv[300], when[64], msg[81], id[24];
	size_t n;

	w->n++;
	if (w->json)
		return json_array_append_new(w->arr, ctl_job_json(j)) == -1;
	release(j, pv, sizeof(pv));
	ctl_time(j->finished_us, when, sizeof(when));
	/* First line of the message, shortened. */
	util_strlcpy(msg, j->message ? j->message : "", sizeof(msg));
	n = strcspn(msg, "\n\r");
	msg[n] = '\0';
	snprintf(id, sizeof(id), "%lld", (long long)j->id);
	return ctl_table_row(w->table, (const char *[]){ id, j->target, pv,
	    job_failure_name(j->failure), when, msg }) == -1;
}

/* Print the walk's table (under title, if it has rows) and drop it. */
static int
table_done(struct walk *w, const char *title, const char *indent)
{
	int rc = 0;

	if (w->n > 0 || title == NULL) {
		fputs(title != NULL ? title : "", stdout);
		rc = ctl_table_print(w->table, indent);
	}
	ctl_table_free(w->table);
	w->table = NULL;
	return rc;
}

static json_t *
counts_json(const struct jobs_count *c, int configured)
{
	json_t *o = json_object();
	int s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "target", json_string(c->target));
	json_object_set_new(o, "configured", json_boolean(configured));
	for (s = 0; s < JOB__NSTATES; s++)
		json_object_set_new(o, job_state_name((enum job_state)s),
		    json_integer(c->n[s]));
	return o;
}

static int
counts_line(struct ctl_table *t, const struct jobs_count *c, int configured)
{
	static const enum job_state order[] = { JOB_QUEUED, JOB_RUNNING,
	    JOB_SUCCEEDED, JOB_FAILED, JOB_CANCELLED };
	char num[WW_ARRLEN(order)][24];
	size_t i;

	for (i = 0; i < WW_ARRLEN(order); i++)
		snprintf(num[i], sizeof(num[i]), "%lld",
		    (long long)c->n[order[i]]);
	return ctl_table_row(t, (const char *[]){ c->target, num[0], num[1],
	    num[2], num[3], num[4], configured ? "" : "(not configured)" });
}

static int
cmd_status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failures", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct config *conf = ctx->conf;
	struct jobs_count *counts = NULL, zero;
	struct job_filter f;
	struct walk w;
	struct store *s;
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	json_t *root = NULL, *tarr = NULL;
	uint64_t nfail = 10;
	size_t n = 0, i, k;
	int ch, rc = 1;

	if (cmd_want_help(&cmd_status_entry, argc, argv))
		return 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (util_parse_u64(optarg, 10000, &nfail) == -1) {
				fprintf(stderr, "indexctl: status: --failures "
				    "\"%s\" is not a number\n", optarg);
				return 2;
			}
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(&cmd_status_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_status_entry);
	memset(&w, 0, sizeof(w));
	w.now = util_now_us();
	if (ctl_open_jobs(ctx, CTL_RDONLY, &s, &c, &js) == -1)
		return 1;
	if (jobs_counts(js, &counts, &n, &err) == -1)
		goto dberr;
	job_filter_init(&f);
	f.state = JOB_QUEUED;
	if (jobs_foreach(js, &f, waiting_cb, &w, &err) == -1)
		goto dberr;

	if (ctx->json) {
		if ((root = json_object()) == NULL ||
		    (tarr = json_array()) == NULL)
			goto nomem;
		json_object_set_new(root, "targets", tarr);
	} else if ((w.table = ctl_table_new(7, "lrrrrr")) == NULL ||
	    ctl_table_row(w.table, (const char *[]){ "TARGET", "QUEUED",
	    "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", NULL }) == -1)
		goto nomem;
	/* Configured targets first (in config order), then any others
	 * jobs still name. */
	for (k = 0; conf != NULL && k < conf->ntargets; k++) {
		const struct jobs_count *cc = NULL;
		for (i = 0; i < n; i++)
			if (!strcmp(counts[i].target, conf->targets[k].name))
				cc = &counts[i];
		if (cc == NULL) {
			memset(&zero, 0, sizeof(zero));
			util_strlcpy(zero.target, conf->targets[k].name,
			    sizeof(zero.target));
			cc = &zero;
		}
		if (ctx->json)
			json_array_append_new(tarr, counts_json(cc, 1));
		else if (counts_line(w.table, cc, 1) == -1)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		if (conf != NULL && config_target(conf, counts[i].target))
			continue;
		if (ctx->json)
			json_array_append_new(tarr, counts_json(&counts[i], 0));
		else if (counts_line(w.table, &counts[i], 0) == -1)
			goto nomem;
	}
	if (!ctx->json && table_done(&w, NULL, NULL) == -1)
		goto nomem;
	if (ctx->json)
		json_object_set_new(root, "queued_in_backoff",
		    json_integer(w.waiting));
	else if (w.waiting > 0)
		printf("(%lld queued jobs are waiting out a retry backoff)\n",
		    (long long)w.waiting);

	w.json = ctx->json;
	w.n = 0;
	if (ctx->json && (w.arr = json_array()) == NULL)
		goto nomem;
	if (!ctx->json && ((w.table = ctl_table_new(6, "lr")) == NULL ||
	    ctl_table_row(w.table, (const char *[]){ "ENGINE", "JOB",
	    "TARGET", "RELEASE", "FOR", "CONTAINER" }) == -1))
		goto nomem;
	job_filter_init(&f);
	f.state = JOB_RUNNING;
	wwerr_set(&err, 0, "out of memory");
	if (jobs_foreach(js, &f, running_cb, &w, &err) != 0)
		goto dberr;
	if (!ctx->json && table_done(&w, "\nrunning:\n", "  ") == -1)
		goto nomem;
	if (ctx->json) {
		json_object_set_new(root, "running", w.arr);
		if ((w.arr = json_array()) == NULL)
			goto nomem;
	} else if (w.n == 0)
		printf("\nnothing running\n");
	w.n = 0;
	if (!ctx->json && ((w.table = ctl_table_new(6, "r")) == NULL ||
	    ctl_table_row(w.table, (const char *[]){ "JOB", "TARGET",
	    "RELEASE", "CLASS", "FINISHED", "MESSAGE" }) == -1))
		goto nomem;
	wwerr_set(&err, 0, "out of memory");
	if (nfail > 0 && jobs_last_failures(js, (size_t)nfail, failure_cb, &w,
	    &err) != 0)
		goto dberr;
	if (!ctx->json && table_done(&w, "\nlast failures:\n", "  ") == -1)
		goto nomem;
	if (ctx->json) {
		json_object_set_new(root, "failures", w.arr);
		w.arr = NULL;
	} else if (nfail > 0 && w.n == 0)
		printf("\nno failures\n");
	rc = 0;
	if (ctx->json) {
		rc = ctl_json_print(root);
		root = NULL;
	}
	goto done;
dberr:
	fprintf(stderr, "indexctl: status: %s\n", err.msg);
	goto done;
nomem:
	fprintf(stderr, "indexctl: status: out of memory\n");
done:
	ctl_table_free(w.table);
	json_decref(w.arr);
	json_decref(root);
	free(counts);
	ctl_close_jobs(s, c, js);
	return rc;
}
