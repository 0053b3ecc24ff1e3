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

struct json_t *
ctl_job_json(const struct job *j)
{
	json_t *o;

	if ((o = job_json(j)) == NULL)
		return NULL;
	/* the admin's view: local paths and engine details too */
	if (json_object_set_new(o, "requeues", json_integer(j->requeues)) ==
	    -1 || json_object_set_new(o, "container_id",
	    util_json_text(j->container_id)) == -1 ||
	    json_object_set_new(o, "log", util_json_text(j->log_path)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
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
