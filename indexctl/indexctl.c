/*
 * indexctl.c: entry point of the admin CLI. Parses the global options,
 * loads the config and dispatches to one command (tmux-style cmd_entry
 * table; each command lives in its own cmd-*.c file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "indexctl.h"
#include "log.h"

/* Keep sorted by name. Add new commands here and in their own file. */
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_export_static_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_inspect_entry;
extern const struct cmd_entry cmd_jobs_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_rebuild_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_token_entry;
extern const struct cmd_entry cmd_unyank_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_yank_entry;

static const struct cmd_entry *const cmd_table[] = {
	&cmd_cancel_entry,
	&cmd_export_static_entry,
	&cmd_import_entry,
	&cmd_inspect_entry,
	&cmd_jobs_entry,
	&cmd_log_entry,
	&cmd_rebuild_entry,
	&cmd_status_entry,
	&cmd_token_entry,
	&cmd_unyank_entry,
	&cmd_verify_entry,
	&cmd_version_entry,
	&cmd_yank_entry,
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: indexctl [-v] [-c config] [-d datadir] command "
	    "[args...]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		fprintf(f, "  %-12s %s\n", cmd_table[i]->name,
		    cmd_table[i]->help);
	fprintf(f, "\n'indexctl COMMAND --help' describes one command.\n");
}

int
cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: indexctl %s\n", e->usage);
	return 2;
}

int
cmd_want_help(const struct cmd_entry *e, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: indexctl %s\n\n%s\n", e->usage, e->help);
			return 1;
		}
	}
	return 0;
}

static int
cmd_version_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (cmd_want_help(&cmd_version_entry, argc, argv))
		return 0;
	if (argc != 1)
		return cmd_usage(&cmd_version_entry);
	printf("indexctl (wheelwright) 0.1.0\n");
	return 0;
}

const struct cmd_entry cmd_version_entry = {
	"version", "version", "print the version", cmd_version_exec
};

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx;
	struct wwerr err;
	const char *cmd;
	int ch, verbose = 0, rc;
	size_t i;

	/*
	 * libarchive converts zip DOS times with mktime(), and glibc stats
	 * /etc/localtime on every call unless TZ is set: naming the same
	 * zone explicitly saves a syscall per archive member (import and
	 * inspect verify wheels) without changing the zone. A TZ the user
	 * set is kept.
	 */
	setenv("TZ", ":/etc/localtime", 0);
	memset(&ctx, 0, sizeof(ctx));
	log_init("indexctl", 0);
	while ((ch = getopt(argc, argv, "+c:d:hv")) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'd':
			ctx.datadir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (ctx.config_path == NULL)
		ctx.config_path = getenv("WHEELWRIGHT_CONFIG");
	if (ctx.config_path != NULL) {
		if (config_load(ctx.config_path, &ctx.conf, &err) == -1) {
			fprintf(stderr, "indexctl: %s\n", err.msg);
			return 1;
		}
	} else {
		if ((ctx.conf = malloc(sizeof(*ctx.conf))) == NULL)
			fatal("malloc");
		config_defaults(ctx.conf);
	}
	log_setverbose(verbose ? verbose : ctx.conf->verbose);
	if (ctx.datadir == NULL)
		ctx.datadir = ctx.conf->datadir;
	ctx.isatty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);

	cmd = argv[0];
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
		if (strcmp(cmd_table[i]->name, cmd) == 0) {
			optind = 1;
			rc = cmd_table[i]->exec(&ctx, argc, argv);
			config_free(ctx.conf);
			return rc;
		}
	}
	fprintf(stderr, "indexctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	config_free(ctx.conf);
	return 2;
}
