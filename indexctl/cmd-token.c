/*
 * cmd-token.c: indexctl token create|list|revoke. Tokens authenticate
 * uploads and job submissions to indexd; the secret is printed once at
 * creation and only its SHA-256 is kept in the catalog.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "catalog.h"
#include "indexctl.h"
#include "name.h"
#include "store.h"
#include "util.h"

static int cmd_token_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_token_entry = {
	"token",
	"token create NAME --scope upload|submit|admin [--project P] [--json]\n"
	"       indexctl token list [--json]\n"
	"       indexctl token revoke NAME",
	"manage upload/submit/admin tokens (the secret is shown only once)",
	cmd_token_exec
};

static json_t *
json_time(int64_t us)
{
	char buf[64];

	if (us == 0)
		return json_null();
	util_format_time_us(us, buf, sizeof(buf));
	return json_string(buf);
}

static int
token_create(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "project", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *scope_s = NULL, *project_s = NULL;
	char project[NAME_MAX_LEN + 1], *secret = NULL;
	enum token_scope scope;
	struct store *s;
	struct catalog *c;
	struct wwerr err;
	int ch, rc = 1;

	optind = 0;	/* 0: full getopt re-init (main used "+") */
	while ((ch = getopt_long(argc, argv, "s:p:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			scope_s = optarg;
			break;
		case 'p':
			project_s = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return cmd_usage(&cmd_token_entry);
		}
	}
	if (optind != argc - 1 || scope_s == NULL)
		return cmd_usage(&cmd_token_entry);
	if (token_scope_parse(scope_s, &scope) == -1) {
		fprintf(stderr, "indexctl: token create: invalid scope \"%s\" "
		    "(upload, submit or admin)\n", scope_s);
		return 2;
	}
	if (project_s != NULL && name_normalize(project_s, project,
	    sizeof(project)) == -1) {
		fprintf(stderr, "indexctl: token create: invalid project name "
		    "\"%s\"\n", project_s);
		return 2;
	}
	if (ctl_open_data(ctx, CTL_CREATE, &s, &c) == -1)
		return 1;
	if (catalog_token_create(c, argv[optind], scope,
	    project_s ? project : NULL, &secret, &err) == -1) {
		fprintf(stderr, "indexctl: token create: %s\n", err.msg);
		goto out;
	}
	if (ctx->json) {
		rc = ctl_json_print(json_pack("{s:s, s:s, s:o, s:s}", "name",
		    argv[optind], "scope", token_scope_name(scope), "project",
		    project_s ? json_string(project) : json_null(), "token",
		    secret));
	} else {
		printf("%s\n", secret);
		fprintf(stderr, "indexctl: created %s token \"%s\"%s%s; the "
		    "secret above is shown only this once\n",
		    token_scope_name(scope), argv[optind],
		    project_s ? " for project " : "", project_s ? project : "");
		rc = 0;
	}
	fflush(stdout);
out:
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	ctl_close_data(s, c);
	return rc;
}

struct list_ctx {
	json_t			*arr;		/* --json */
	struct ctl_table	*table;		/* text */
	int			 n;
};

static int
list_one(const struct catalog_token *t, void *arg)
{
	struct list_ctx *l = arg;
	char created[64], used[64];

	if (l->arr != NULL) {
		json_array_append_new(l->arr, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:o, s:o, s:b}", "name", t->name, "scope",
		    token_scope_name(t->scope), "project",
		    t->project ? json_string(t->project) : json_null(),
		    "created", json_time(t->created_us), "last_used",
		    json_time(t->last_used_us), "revoked",
		    json_time(t->revoked_us), "active", t->revoked_us == 0));
		return 0;
	}
	l->n++;
	util_format_time_us(t->created_us, created, sizeof(created));
	created[19] = '\0';	/* seconds are enough for a table */
	if (t->last_used_us) {
		util_format_time_us(t->last_used_us, used, sizeof(used));
		used[19] = '\0';
	} else
		util_strlcpy(used, "never", sizeof(used));
	return ctl_table_row(l->table, (const char *[]){ t->name,
	    token_scope_name(t->scope), t->project ? t->project : "*", created,
	    used, t->revoked_us ? "revoked" : "active" }) == -1;
}

static int
token_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct list_ctx l = { NULL, NULL, 0 };
	struct store *s;
	struct catalog *c;
	struct wwerr err;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			ctx->json = 1;
		else
			return cmd_usage(&cmd_token_entry);
	}
	if (ctl_open_data(ctx, CTL_RDONLY, &s, &c) == -1)
		return 1;
	if (ctx->json ? (l.arr = json_array()) == NULL :
	    (l.table = ctl_table_new(6, NULL)) == NULL ||
	    ctl_table_row(l.table, (const char *[]){ "NAME", "SCOPE",
	    "PROJECT", "CREATED", "LAST USED", "STATUS" }) == -1) {
		fprintf(stderr, "indexctl: token list: out of memory\n");
		ctl_table_free(l.table);
		ctl_close_data(s, c);
		return 1;
	}
	/* a row that did not fit in memory fails ctl_table_print */
	if (catalog_foreach_token(c, list_one, &l, &err) == -1) {
		fprintf(stderr, "indexctl: token list: %s\n", err.msg);
		json_decref(l.arr);
		ctl_table_free(l.table);
		ctl_close_data(s, c);
		return 1;
	}
	ctl_close_data(s, c);
	if (ctx->json)
		return ctl_json_print(l.arr);
	if (l.n == 0)
		fprintf(stderr, "indexctl: no tokens\n");
	else if (ctl_table_print(l.table, NULL) == -1) {
		fprintf(stderr, "indexctl: token list: out of memory\n");
		ctl_table_free(l.table);
		return 1;
	}
	ctl_table_free(l.table);
	return 0;
}

static int
token_revoke(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct store *s;
	struct catalog *c;
	struct wwerr err;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_token_entry);
	if (ctl_open_data(ctx, 0, &s, &c) == -1)
		return 1;
	rc = catalog_token_revoke(c, argv[1], &err);
	ctl_close_data(s, c);
	if (rc == -1) {
		fprintf(stderr, "indexctl: token revoke: %s\n", err.msg);
		return 1;
	}
	if (rc == 1)
		printf("token \"%s\" was already revoked\n", argv[1]);
	else
		printf("revoked token \"%s\"\n", argv[1]);
	return 0;
}

static int
cmd_token_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (cmd_want_help(&cmd_token_entry, argc, argv))
		return 0;
	if (argc < 2)
		return cmd_usage(&cmd_token_entry);
	if (strcmp(argv[1], "create") == 0)
		return token_create(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return token_list(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return token_revoke(ctx, argc - 1, argv + 1);
	fprintf(stderr, "indexctl: token: unknown subcommand \"%s\"\n",
	    argv[1]);
	return cmd_usage(&cmd_token_entry);
}
