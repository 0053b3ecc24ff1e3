/*
 * main.c: builderd's entry point: options, config, the -n check, then
 * the scheduler (scheduler.h) until SIGTERM. SIGHUP reloads the config.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "scheduler.h"
#include "util.h"

#define DEFAULT_CONFIG	"/etc/wheelwright/wheelwright.conf"

static void
usage(void)
{
	fprintf(stderr, "usage: builderd [-1nNv] [-c config] [-d datadir]\n"
	    "  -1  exit once nothing is queued or running\n"
	    "  -n  check the configuration and exit\n"
	    "  -N  do not reconcile the requirement list (run queued jobs "
	    "only)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct config *conf;
	struct sched_opts opts;
	struct sched *s;
	struct wwerr err;
	const char *path = NULL, *datadir = NULL;
	int ch, check = 0, verbose = 0, rc, problems;

	/* An explicit zone file: otherwise libarchive's date conversion
	 * (localtime) stats /etc/localtime again for every archive member. */
	setenv("TZ", ":/etc/localtime", 0);
	log_init("builderd", 0);
	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt(argc, argv, "1c:d:nNv")) != -1) {
		switch (ch) {
		case '1':
			opts.once = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'N':
			opts.no_reconcile = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (path == NULL && (path = getenv("WHEELWRIGHT_CONFIG")) == NULL)
		path = DEFAULT_CONFIG;
	if (config_load(path, &conf, &err) == -1) {
		log_warnx("%s", err.msg);
		return 1;
	}
	if (datadir != NULL) {
		if (util_strlcpy(conf->datadir, datadir,
		    sizeof(conf->datadir)) >= sizeof(conf->datadir) ||
		    (size_t)snprintf(conf->logdir, sizeof(conf->logdir),
		    "%s/logs", datadir) >= sizeof(conf->logdir)) {
			log_warnx("-d %s: path too long", datadir);
			config_free(conf);
			return 1;
		}
	}
	log_setverbose(verbose ? verbose : conf->verbose);
	if (check) {
		problems = sched_check_config(conf);
		if (problems == 0)
			fprintf(stderr, "builderd: %s: configuration OK\n",
			    path);
		else
			fprintf(stderr, "builderd: %s: %d problem%s\n", path,
			    problems, problems == 1 ? "" : "s");
		config_free(conf);
		return problems ? 1 : 0;
	}
	if (conf->nrequirements == 0 && !opts.no_reconcile)
		log_info("%s: no requirements file: only jobs from indexctl "
		    "and the API run", path);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_warnx("curl_global_init failed");
		config_free(conf);
		return 1;
	}
	opts.config_path = path;
	if (sched_new(conf, &opts, &s, &err) == -1) {
		log_warnx("%s", err.msg);
		curl_global_cleanup();
		return 1;
	}
	rc = sched_run(s);
	sched_free(s);
	curl_global_cleanup();
	return rc;
}
