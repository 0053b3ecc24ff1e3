/*
 * cmd-log.c: indexctl log: print a job's build log (the current attempt,
 * or --attempt N); --follow keeps printing while the job runs, like
 * tail -f, and stops once it has finished and the log is drained.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "indexctl.h"
#include "jobs.h"
#include "store.h"
#include "util.h"

static int cmd_log_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_log_entry = {
	"log",
	"log [--follow] [--attempt N] JOB",
	"print the build log of a job",
	cmd_log_exec
};

/*
 * Copy what fd has from here to stdout; -1 on error. A log shorter than
 * what was already printed was rewritten (builderd replaces a container
 * log that the engine's follow stream garbled): print it again whole.
 */
static int
drain(int fd)
{
	char buf[65536];
	ssize_t n;
	struct stat st;
	off_t pos;

	if ((pos = lseek(fd, 0, SEEK_CUR)) > 0 && fstat(fd, &st) == 0 &&
	    st.st_size < pos) {
		fflush(stdout);
		fprintf(stderr, "indexctl: log: the log was rewritten; "
		    "printing it again\n");
		if (lseek(fd, 0, SEEK_SET) == -1)
			return -1;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (util_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
			return -1;
	}
}

/* The log of attempt N: same directory and naming as the current one. */
static int
attempt_path(const struct job *j, int attempt, char *out, size_t outlen)
{
	const char *slash = strrchr(j->log_path, '/');
	int dlen = slash ? (int)(slash - j->log_path) : 1;

	if ((size_t)snprintf(out, outlen, "%.*s/job-%lld.%d.log", dlen,
	    slash ? j->log_path : ".", (long long)j->id, attempt) >= outlen)
		return -1;
	return 0;
}

static int
cmd_log_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "attempt", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct timespec nap = { 0, 250 * 1000000L };
	char path[PATH_MAX];
	struct store *s;
	struct catalog *c;
	struct jobs *js;
	struct wwerr err;
	struct job j;
	int64_t id, attempt = 0;
	int ch, fd = -1, follow = 0, rc = 1;

	if (cmd_want_help(&cmd_log_entry, argc, argv))
		return 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "fa:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'a':
			if (util_parse_i64(optarg, 1, 1000, &attempt) == -1) {
				fprintf(stderr, "indexctl: log: --attempt \"%s\" "
				    "is not a number\n", optarg);
				return 2;
			}
			break;
		default:
			return cmd_usage(&cmd_log_entry);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_log_entry);
	if (ctl_parse_job_id(argv[optind], &id) == -1) {
		fprintf(stderr, "indexctl: log: \"%s\" is not a job id\n",
		    argv[optind]);
		return 2;
	}
	if (ctl_open_jobs(ctx, CTL_RDONLY, &s, &c, &js) == -1)
		return 1;
	if ((rc = jobs_get(js, id, &j, &err)) != 0) {
		if (rc == -1)
			fprintf(stderr, "indexctl: log: %s\n", err.msg);
		else
			fprintf(stderr, "indexctl: log: no job %lld\n",
			    (long long)id);
		ctl_close_jobs(s, c, js);
		return 1;
	}
	rc = 1;
	if (j.log_path == NULL) {
		fprintf(stderr, "indexctl: log: job %lld has no log yet (%s)\n",
		    (long long)id, job_state_name(j.state));
		goto done;
	}
	if (attempt > 0) {
		if (attempt_path(&j, (int)attempt, path, sizeof(path)) == -1) {
			fprintf(stderr, "indexctl: log: path too long\n");
			goto done;
		}
		follow = follow && attempt == j.attempts;
	} else
		util_strlcpy(path, j.log_path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 &&
	    !(follow && errno == ENOENT && j.state == JOB_RUNNING)) {
		fprintf(stderr, "indexctl: log: job %lld: %s: %s\n",
		    (long long)id, path, strerror(errno));
		goto done;
	}
	for (;;) {
		if (fd == -1)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd != -1 && drain(fd) == -1) {
			fprintf(stderr, "indexctl: log: %s: %s\n", path,
			    strerror(errno));
			goto done;
		}
		/* A finished job writes no more: that drain was the last. */
		if (!follow || j.state != JOB_RUNNING)
			break;
		nanosleep(&nap, NULL);
		job_free(&j);
		if (jobs_get(js, id, &j, &err) != 0) {
			fprintf(stderr, "indexctl: log: job %lld vanished\n",
			    (long long)id);
			goto done;
		}
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	job_free(&j);
	ctl_close_jobs(s, c, js);
	return rc;
}
