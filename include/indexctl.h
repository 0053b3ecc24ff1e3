/*
 * indexctl.h: the admin CLI's command table (tmux style): one file per
 * command under indexctl/, each exporting a struct cmd_entry.
 */
#ifndef WW_INDEXCTL_H
#define WW_INDEXCTL_H

struct config;

struct cmd_ctx {
	const char	*config_path;	/* -c, or NULL for defaults */
	struct config	*conf;		/* loaded config (defaults if none) */
	const char	*datadir;	/* -d overrides conf->datadir */
	int		 json;		/* --json */
	int		 isatty;	/* stdout is a terminal */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* "import [--json] PATH..." */
	const char	*help;		/* one-line summary */
	/* argv[0] is the command name. Returns the process exit status. */
	int		(*exec)(struct cmd_ctx *ctx, int argc, char **argv);
};

struct store;
struct catalog;

/*
 * Open the data directory's store and catalog for a command (ctl-data.c).
 * Without CTL_CREATE a missing catalog is an error, so a mistyped -d does
 * not silently create an empty index. Errors go to stderr; -1.
 */
#define CTL_CREATE	0x1
#define CTL_RDONLY	0x2
int	 ctl_open_data(struct cmd_ctx *ctx, int flags, struct store **sp,
	    struct catalog **cp);
void	 ctl_close_data(struct store *s, struct catalog *c);

/* Print "usage: indexctl <usage>" to stderr and return 2. */
int	 cmd_usage(const struct cmd_entry *e);
/* 1 if argv holds -h or --help (then usage+help went to stdout). */
int	 cmd_want_help(const struct cmd_entry *e, int argc, char **argv);

#endif
