/*
 * ctl-jobs.c: what the job commands (jobs, log, cancel, status, rebuild)
 * share: opening the job store, job ids as typed by people, one JSON
 * shape for a job, and times as people read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "indexctl.h"
#include "jobs.h"
#include "store.h"
#include "util.h"

int
ctl_open_jobs(struct cmd_ctx *ctx, int flags, struct store **sp,
    struct catalog **cp, struct jobs **jp)
{
	struct wwerr err;

	*jp = NULL;
	if (ctl_open_data(ctx, flags, sp, cp) == -1)
		return -1;
	if (jobs_open(*cp, jp, &err) == -1) {
		fprintf(stderr, "indexctl: %s\n", err.msg);
		ctl_close_data(*sp, *cp);
		*sp = NULL;
		*cp = NULL;
		return -1;
	}
	return 0;
}

void
ctl_close_jobs(struct store *s, struct catalog *c, struct jobs *js)
{
	jobs_close(js);
	ctl_close_data(s, c);
}

int
ctl_parse_job_id(const char *s, int64_t *id)
{
	if (s == NULL)
		return -1;
	if (!strncmp(s, "job-", 4))
		s += 4;
	else if (*s == '#')
		s++;
	return util_parse_i64(s, 1, INT64_MAX, id);
}

void
ctl_time(int64_t us, char *out, size_t outlen)
{
	char buf[64], *dot;

	if (us == 0) {
		util_strlcpy(out, "-", outlen);
		return;
	}
	util_format_time_us(us, buf, sizeof(buf));
	/* Seconds are enough for people; JSON keeps microseconds. */
	if ((dot = strchr(buf, '.')) != NULL) {
		dot[0] = 'Z';
		dot[1] = '\0';
	}
	util_strlcpy(out, buf, outlen);
}

void
ctl_duration(int64_t us, char *out, size_t outlen)
{
	int64_t s = us / 1000000;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, outlen, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, outlen, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, outlen, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s / 60 % 60));
	else
		snprintf(out, outlen, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s / 3600 % 24));
}

static json_t *
jtime(int64_t us)
{
	char buf[64];

	if (us == 0)
		return json_null();
	util_format_time_us(us, buf, sizeof(buf));
	return json_string(buf);
}

struct json_t *
ctl_job_json(const struct job *j)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:i, s:s, s:i, s:i, s:i,"
	    " s:i, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
	    " s:o, s:o}",
	    "id", (json_int_t)j->id,
	    "project", util_json_text(j->project),
	    "version", util_json_text(j->version),
	    "requirement", util_json_text(j->requirement),
	    "target", util_json_text(j->target),
	    "build_number", j->build_number,
	    "state", job_state_name(j->state),
	    "priority", j->priority,
	    "attempts", j->attempts,
	    "max_attempts", j->max_attempts,
	    "requeues", j->requeues,
	    "next_attempt", j->state == JOB_QUEUED ?
	    jtime(j->next_attempt_us) : json_null(),
	    "engine", util_json_text(j->engine),
	    "container_id", util_json_text(j->container_id),
	    "cancel_requested", j->cancel_requested,
	    "created", jtime(j->created_us),
	    "started", jtime(j->started_us),
	    "finished", jtime(j->finished_us),
	    "exit_status", j->has_exit_status ?
	    json_integer(j->exit_status) : json_null(),
	    "failure", j->failure != JOB_FAIL_NONE ?
	    json_string(job_failure_name(j->failure)) : json_null(),
	    "message", util_json_text(j->message),
	    "log", util_json_text(j->log_path),
	    "wheel", util_json_text(j->wheel),
	    "origin", util_json_text(j->origin));
}

int
ctl_json_print(struct json_t *j)
{
	int rc;

	if (j == NULL) {
		fprintf(stderr, "indexctl: out of memory\n");
		return 1;
	}
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	printf("\n");
	return rc == 0 ? 0 : 1;
}
