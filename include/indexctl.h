/*
 * indexctl.h: the admin CLI's command table (tmux style): one file per
 * command under indexctl/, each exporting a struct cmd_entry.
 */
#ifndef WW_INDEXCTL_H
#define WW_INDEXCTL_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The job store on top of ctl_open_data (ctl-jobs.c), for the job
 * commands (jobs, log, cancel, status, rebuild). Errors go to stderr; -1.
 */
struct jobs;
struct job;
struct json_t;
int	 ctl_open_jobs(struct cmd_ctx *ctx, int flags, struct store **sp,
	    struct catalog **cp, struct jobs **jp);
void	 ctl_close_jobs(struct store *s, struct catalog *c, struct jobs *js);
/* A job id as given on the command line (also "job-42", "#42"); 0 / -1. */
int	 ctl_parse_job_id(const char *s, int64_t *id);
/* The job as a JSON object (NULL if out of memory). */
struct json_t *ctl_job_json(const struct job *j);
/* "2026-11-25T21:30:24Z" in out, or "-" for 0. */
void	 ctl_time(int64_t us, char *out, size_t outlen);
/* "3m12s", "2h05m", "4d03h" for a duration in microseconds. */
void	 ctl_duration(int64_t us, char *out, size_t outlen);

/*
 * A text table whose columns are as wide as their widest cell, two spaces
 * apart (ctl-table.c). align: a character a column, 'r' for right-aligned
 * (numbers), anything else left; columns past its end and all with NULL
 * are left-aligned. The first row added
 * is usually the header. Cells are copied; NULL is "". row and print
 * return -1 when out of memory (nothing printed).
 */
#define CTL_TABLE_MAXCOLS	16
struct ctl_table;
struct ctl_table *ctl_table_new(size_t ncols, const char *align);
int	 ctl_table_row(struct ctl_table *t, const char *const *cells);
/* Every line starts with indent (may be NULL). */
int	 ctl_table_print(const struct ctl_table *t, const char *indent);
void	 ctl_table_free(struct ctl_table *t);

/* Print j (sorted keys, indented) to stdout and release it; 0, or 1 on
 * error (j NULL: out of memory). Every command's --json goes through it. */
int	 ctl_json_print(struct json_t *j);
/* Print "usage: indexctl <usage>" to stderr and return 2. */
int	 cmd_usage(const struct cmd_entry *e);
/* 1 if argv holds -h or --help (then usage+help went to stdout). */
int	 cmd_want_help(const struct cmd_entry *e, int argc, char **argv);

#endif
