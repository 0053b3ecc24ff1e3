/*
 * tool_pep508.c: JSON-lines front end to the requirement module, driven by
 * it_pep508_differential.py, which asks Python's packaging the same
 * questions and compares the answers.
 *
 *   tool_pep508 req [-e ENV]...      a requirement per line -> a JSON
 *                                    object per line
 *   tool_pep508 marker [-e ENV]...   a marker per line, the same way
 *   tool_pep508 reqfile FILE [-e ENV]...   one JSON object for the file
 *
 * An input line is a JSON string, or [string, [ENV...]] to evaluate that
 * line under more environments than the -e ones.
 * ENV is PYTHON_FULL_VERSION:MACHINE[:EXTRA]. Objects are
 *   {"ok": false, "code": N, "error": "..."} or {"ok": true, ...} with
 *   name/normalized/extras/specifier/url/marker/text/canonical (req),
 *   marker (marker), and "eval": one of true/false/"undefined" per ENV.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "requirement.h"
#include "util.h"

#define MAX_ENVS 256

struct envs {
	struct marker_env		env[MAX_ENVS];
	struct marker_env_storage	st[MAX_ENVS];
	char				extra[MAX_ENVS][128];
	int				n;
};

static int
add_env(struct envs *e, const char *spec)
{
	char buf[256], *machine, *extra;

	if (e->n == MAX_ENVS)
		return -1;
	util_strlcpy(buf, spec, sizeof(buf));
	if ((machine = strchr(buf, ':')) == NULL)
		return -1;
	*machine++ = '\0';
	if ((extra = strchr(machine, ':')) != NULL)
		*extra++ = '\0';
	marker_env_linux(&e->env[e->n], &e->st[e->n], buf, machine);
	if (extra != NULL) {
		util_strlcpy(e->extra[e->n], extra, sizeof(e->extra[e->n]));
		e->env[e->n].extra = e->extra[e->n];
	}
	e->n++;
	return 0;
}

static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) == NULL)	/* not UTF-8 */
		j = json_string("<invalid UTF-8>");
	return j;
}

static json_t *
evals(const struct marker *m, const struct envs *e)
{
	json_t *a = json_array();
	struct wwerr err;
	int i, r;

	for (i = 0; i < e->n; i++) {
		if (m == NULL) {
			json_array_append_new(a, json_true());
			continue;
		}
		r = marker_eval(m, &e->env[i], &err);
		/* marker_evaluate must agree, with undefined as false */
		if (marker_evaluate(m, &e->env[i]) != (r == 1)) {
			fprintf(stderr, "marker_evaluate disagrees\n");
			exit(2);
		}
		json_array_append_new(a, r == -1 ? json_string("undefined") :
		    json_boolean(r));
	}
	return a;
}

static json_t *
fail_obj(const struct wwerr *err)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "code", json_integer(err->code));
	json_object_set_new(o, "error", jstr(err->msg));
	return o;
}

static json_t *
req_obj(const struct requirement *r, const struct envs *e)
{
	json_t *o = json_object(), *ex = json_array();
	size_t i;

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "name", jstr(r->name));
	json_object_set_new(o, "normalized", jstr(r->normalized));
	for (i = 0; i < r->nextras; i++)
		json_array_append_new(ex, jstr(r->extras[i]));
	json_object_set_new(o, "extras", ex);
	json_object_set_new(o, "specifier", jstr(specset_str(r->spec)));
	json_object_set_new(o, "url", jstr(r->url));
	json_object_set_new(o, "marker",
	    r->marker ? jstr(marker_str(r->marker)) : json_null());
	json_object_set_new(o, "text", jstr(r->text));
	json_object_set_new(o, "canonical", jstr(requirement_str(r)));
	json_object_set_new(o, "eval", evals(r->marker, e));
	for (i = 0; i < (size_t)e->n; i++)
		if (requirement_applies(r, &e->env[i]) !=
		    (r->marker == NULL || marker_evaluate(r->marker, &e->env[i]))) {
			fprintf(stderr, "requirement_applies disagrees\n");
			exit(2);
		}
	return o;
}

static void
emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	puts(s ? s : "{\"ok\":false,\"error\":\"json\"}");
	free(s);
	json_decref(o);
}

static int
do_lines(int markers, const struct envs *global)
{
	static struct envs e;
	char *line = NULL;
	size_t cap = 0, k;
	ssize_t n;
	json_t *in, *o, *text, *extra;
	json_error_t jerr;
	struct wwerr err;
	struct requirement *r;
	struct marker *m;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if ((in = json_loads(line, JSON_DECODE_ANY, &jerr)) == NULL) {
			fprintf(stderr, "bad input line: %s\n", line);
			return 1;
		}
		e = *global;
		for (k = 0; k < (size_t)e.n; k++) {
			/* the copies must point into the copy's storage */
			marker_env_linux(&e.env[k], &e.st[k],
			    global->st[k].pyfull, global->st[k].machine);
			if (global->env[k].extra != NULL)
				e.env[k].extra = e.extra[k];
		}
		text = in;
		if (json_is_array(in)) {
			text = json_array_get(in, 0);
			json_array_foreach(json_array_get(in, 1), k, extra)
				if (!json_is_string(extra) ||
				    add_env(&e, json_string_value(extra)) == -1) {
					fprintf(stderr, "bad env: %s\n", line);
					return 1;
				}
		}
		if (!json_is_string(text)) {
			fprintf(stderr, "bad input line: %s\n", line);
			return 1;
		}
		wwerr_clear(&err);
		if (markers) {
			if (marker_parse(json_string_value(text), &m, &err) == -1)
				o = fail_obj(&err);
			else {
				o = json_object();
				json_object_set_new(o, "ok", json_true());
				json_object_set_new(o, "marker",
				    jstr(marker_str(m)));
				json_object_set_new(o, "eval", evals(m, &e));
				marker_free(m);
			}
		} else {
			if (requirement_parse(json_string_value(text), &r,
			    &err) == -1)
				o = fail_obj(&err);
			else {
				o = req_obj(r, &e);
				requirement_free(r);
			}
		}
		json_decref(in);
		emit(o);
	}
	free(line);
	return 0;
}

static int
do_reqfile(const char *path, const struct envs *e)
{
	struct reqfile *rf;
	struct wwerr err;
	json_t *o, *a, *eo, *h;
	size_t i, k;

	wwerr_clear(&err);
	if (reqfile_load(path, &rf, &err) == -1) {
		emit(fail_obj(&err));
		return 0;
	}
	o = json_object();
	a = json_array();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "pre", json_boolean(rf->pre));
	json_object_set_new(o, "require_hashes",
	    json_boolean(rf->require_hashes));
	for (i = 0; i < rf->nentries; i++) {
		eo = req_obj(rf->entries[i].req, e);
		json_object_set_new(eo, "file", jstr(rf->entries[i].file));
		json_object_set_new(eo, "line",
		    json_integer(rf->entries[i].line));
		json_object_set_new(eo, "constraint",
		    json_boolean(rf->entries[i].constraint));
		h = json_array();
		for (k = 0; k < rf->entries[i].nhashes; k++)
			json_array_append_new(h,
			    jstr(rf->entries[i].hashes[k]));
		json_object_set_new(eo, "hashes", h);
		json_array_append_new(a, eo);
	}
	json_object_set_new(o, "entries", a);
	reqfile_free(rf);
	emit(o);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_pep508 req|marker [-e ENV]...\n"
	    "       tool_pep508 reqfile FILE [-e ENV]...\n"
	    "ENV: PYTHON_FULL_VERSION:MACHINE[:EXTRA]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static struct envs e;
	const char *file = NULL;
	int i = 2;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "reqfile") == 0) {
		if (argc < 3)
			usage();
		file = argv[2];
		i = 3;
	} else if (strcmp(argv[1], "req") != 0 &&
	    strcmp(argv[1], "marker") != 0)
		usage();
	for (; i < argc; i += 2)	/* -e NAME=VALUE pairs */
		if (strcmp(argv[i], "-e") != 0 || i + 1 >= argc ||
		    add_env(&e, argv[i + 1]) == -1)
			usage();
	if (file != NULL)
		return do_reqfile(file, &e);
	return do_lines(strcmp(argv[1], "marker") == 0, &e);
}
