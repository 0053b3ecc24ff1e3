/*
 * main.c: indexd's entry point: options, config, -n check, then the
 * server (indexd_server.h) until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "indexd_server.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CONFIG	"/etc/wheelwright/wheelwright.conf"

static void
usage(void)
{
	fprintf(stderr, "usage: indexd [-nv] [-c config] [-d datadir]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct config *conf;
	struct indexd *d;
	struct wwerr err;
	const char *path = NULL, *datadir = NULL;
	int ch, check = 0, verbose = 0, rc;

	/* Uploads are verified with libarchive, whose date conversion makes
	 * glibc stat /etc/localtime per member unless TZ is set. */
	setenv("TZ", ":/etc/localtime", 0);
	log_init("indexd", 0);
	while ((ch = getopt(argc, argv, "c:d:nv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'n':
			check = 1;
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
	if (datadir != NULL &&
	    util_strlcpy(conf->datadir, datadir, sizeof(conf->datadir)) >=
	    sizeof(conf->datadir)) {
		log_warnx("-d %s: path too long", datadir);
		config_free(conf);
		return 1;
	}
	log_setverbose(verbose ? verbose : conf->verbose);
	if (check) {
		rc = indexd_check_config(conf, &err);
		if (rc == -1)
			log_warnx("%s", err.msg);
		else
			fprintf(stderr, "indexd: %s: configuration OK\n", path);
		config_free(conf);
		return rc == -1 ? 1 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (indexd_new(conf, &d, &err) == -1) {
		log_warnx("%s", err.msg);
		return 1;
	}
	rc = indexd_run(d);
	indexd_free(d);
	return rc;
}
