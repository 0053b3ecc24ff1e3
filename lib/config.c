/*
 * config.c: load the Wheelwright config file with inih. Each key is
 * validated as it is read so that errors can name file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "util.h"

struct config_ctx {
	struct config	*c;
	char		 err[400];
	int		 errline;
	int		 line;		/* approximate, counted by handler */
	void		*cur;		/* current named section struct */
	char		 cursect[128];
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	util_strlcpy(c->datadir, "/var/lib/wheelwright", sizeof(c->datadir));
	limits_default(&c->limits);
	c->max_connections = 1024;
	c->header_timeout = 10;
	c->read_timeout = 30;
	c->write_timeout = 60;
	c->max_header_size = 16 * 1024;
	c->max_url_len = 4096;
	c->max_upload_size = 256ULL * 1024 * 1024;
	c->file_max_age = 365 * 24 * 3600;
	c->page_max_age = 600;
	c->page_cache_size = 32ULL * 1024 * 1024;
	c->reconcile_interval = 300;
	c->max_attempts = 4;
	c->backoff_base = 30;
}

static int
cfg_err(struct config_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cfg_err(struct config_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(x->err, sizeof(x->err), fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih: handler failure */
}

static int
set_str(struct config_ctx *x, const char *key, char *dst, size_t dstlen,
    const char *value)
{
	if (util_strlcpy(dst, value, dstlen) >= dstlen)
		return cfg_err(x, "%s: value too long (max %zu bytes)", key,
		    dstlen - 1);
	return 1;
}

static int
set_int(struct config_ctx *x, const char *key, int *dst, int64_t min,
    int64_t max, const char *value)
{
	int64_t v;

	if (util_parse_i64(value, min, max, &v) == -1)
		return cfg_err(x, "%s: \"%s\" is not an integer in [%lld, %lld]",
		    key, value, (long long)min, (long long)max);
	*dst = (int)v;
	return 1;
}

static int
set_size(struct config_ctx *x, const char *key, uint64_t *dst,
    const char *value)
{
	if (util_parse_size(value, dst) == -1)
		return cfg_err(x, "%s: \"%s\" is not a size (e.g. 512, 64K, 10M, 1G)",
		    key, value);
	return 1;
}

static int
set_bool(struct config_ctx *x, const char *key, int *dst, const char *value)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") ||
	    !strcmp(value, "1") || !strcmp(value, "on"))
		*dst = 1;
	else if (!strcmp(value, "no") || !strcmp(value, "false") ||
	    !strcmp(value, "0") || !strcmp(value, "off"))
		*dst = 0;
	else
		return cfg_err(x, "%s: \"%s\" is not yes/no", key, value);
	return 1;
}

/* "host:port", "[v6]:port" or ":port". */
static int
parse_listen(struct config_ctx *x, const char *value, int tls)
{
	struct config *c = x->c;
	struct config_listen *l;
	const char *colon, *host, *end;
	size_t hlen;
	uint64_t port;

	if (c->nlisten >= CONFIG_MAX_LISTEN)
		return cfg_err(x, "listen: more than %d addresses",
		    CONFIG_MAX_LISTEN);
	l = &c->listen[c->nlisten];
	if (value[0] == '[') {
		if ((end = strchr(value, ']')) == NULL || end[1] != ':')
			return cfg_err(x, "listen: \"%s\": expected [addr]:port",
			    value);
		host = value + 1;
		hlen = (size_t)(end - host);
		colon = end + 1;
	} else {
		if ((colon = strrchr(value, ':')) == NULL)
			return cfg_err(x, "listen: \"%s\": expected host:port",
			    value);
		host = value;
		hlen = (size_t)(colon - value);
	}
	if (hlen >= sizeof(l->host))
		return cfg_err(x, "listen: host too long");
	if (util_parse_u64(colon + 1, 65535, &port) == -1)
		return cfg_err(x, "listen: \"%s\": bad port", value);
	memcpy(l->host, host, hlen);
	l->host[hlen] = '\0';
	if (hlen == 0)
		util_strlcpy(l->host, "0.0.0.0", sizeof(l->host));
	snprintf(l->port, sizeof(l->port), "%llu", (unsigned long long)port);
	l->tls = tls;
	c->nlisten++;
	return 1;
}

static int
parse_list(struct config_ctx *x, const char *key, const char *value,
    char (*dst)[64], size_t max, size_t *n)
{
	char tmp[1024], *p, *tok, *save = NULL;

	if (util_strlcpy(tmp, value, sizeof(tmp)) >= sizeof(tmp))
		return cfg_err(x, "%s: value too long", key);
	*n = 0;
	for (p = tmp; (tok = strtok_r(p, ", \t", &save)) != NULL; p = NULL) {
		if (*n >= max)
			return cfg_err(x, "%s: more than %zu entries", key, max);
		if (util_strlcpy(dst[*n], tok, 64) >= 64)
			return cfg_err(x, "%s: \"%s\" too long", key, tok);
		(*n)++;
	}
	return 1;
}

static int
h_global(struct config_ctx *x, const char *k, const char *v)
{
	struct config *c = x->c;

	if (!strcmp(k, "datadir"))
		return set_str(x, k, c->datadir, sizeof(c->datadir), v);
	if (!strcmp(k, "verbose"))
		return set_int(x, k, &c->verbose, -1, 3, v);
	return cfg_err(x, "unknown key \"%s\" in [global]", k);
}

static int
h_limits(struct config_ctx *x, const char *k, const char *v)
{
	struct limits *l = &x->c->limits;

	if (!strcmp(k, "max_file_size"))
		return set_size(x, k, &l->max_file_size, v);
	if (!strcmp(k, "max_member_size"))
		return set_size(x, k, &l->max_member_size, v);
	if (!strcmp(k, "max_total_size"))
		return set_size(x, k, &l->max_total_size, v);
	if (!strcmp(k, "max_members"))
		return set_size(x, k, &l->max_members, v);
	if (!strcmp(k, "max_ratio"))
		return set_size(x, k, &l->max_ratio, v);
	if (!strcmp(k, "max_metadata_size"))
		return set_size(x, k, &l->max_metadata_size, v);
	if (!strcmp(k, "max_elf_size"))
		return set_size(x, k, &l->max_elf_size, v);
	/* Not limits, but tuning of the same verifier (see verify.h). */
	if (!strcmp(k, "threads")) {
		if (util_parse_u64(v, 64, &l->threads) == -1)
			return cfg_err(x, "threads: \"%s\" is not an integer in "
			    "[0, 64] (0: automatic)", v);
		return 1;
	}
	if (!strcmp(k, "whole_member_max"))
		return set_size(x, k, &l->whole_member_max, v);
	return cfg_err(x, "unknown key \"%s\" in [limits]", k);
}

static int
h_indexd(struct config_ctx *x, const char *k, const char *v)
{
	struct config *c = x->c;

	if (!strcmp(k, "listen"))
		return parse_listen(x, v, 0);
	if (!strcmp(k, "listen_tls"))
		return parse_listen(x, v, 1);
	if (!strcmp(k, "tls_cert"))
		return set_str(x, k, c->tls_cert, sizeof(c->tls_cert), v);
	if (!strcmp(k, "tls_key"))
		return set_str(x, k, c->tls_key, sizeof(c->tls_key), v);
	if (!strcmp(k, "max_connections"))
		return set_int(x, k, &c->max_connections, 1, 1000000, v);
	if (!strcmp(k, "header_timeout"))
		return set_int(x, k, &c->header_timeout, 1, 3600, v);
	if (!strcmp(k, "read_timeout"))
		return set_int(x, k, &c->read_timeout, 1, 3600, v);
	if (!strcmp(k, "write_timeout"))
		return set_int(x, k, &c->write_timeout, 1, 3600, v);
	if (!strcmp(k, "max_header_size"))
		return set_size(x, k, &c->max_header_size, v);
	if (!strcmp(k, "max_url_length"))
		return set_size(x, k, &c->max_url_len, v);
	if (!strcmp(k, "max_upload_size"))
		return set_size(x, k, &c->max_upload_size, v);
	if (!strcmp(k, "file_max_age"))
		return set_int(x, k, &c->file_max_age, 0, 100000000, v);
	if (!strcmp(k, "page_max_age"))
		return set_int(x, k, &c->page_max_age, 0, 100000000, v);
	if (!strcmp(k, "access_log"))
		return set_str(x, k, c->access_log, sizeof(c->access_log), v);
	if (!strcmp(k, "workers"))
		return set_int(x, k, &c->workers, 0, 64, v);
	if (!strcmp(k, "page_cache_size"))
		return set_size(x, k, &c->page_cache_size, v);
	return cfg_err(x, "unknown key \"%s\" in [indexd]", k);
}

static int
h_builderd(struct config_ctx *x, const char *k, const char *v)
{
	struct config *c = x->c;

	if (!strcmp(k, "requirements")) {
		char joined[sizeof(c->requirements[0])];
		const char *slash = strrchr(c->path, '/');

		if (c->nrequirements >= CONFIG_MAX_LIST)
			return cfg_err(x, "requirements: too many files");
		/* Relative to the config file's directory, not the cwd. */
		if (v[0] != '/' && slash != NULL) {
			if ((size_t)snprintf(joined, sizeof(joined), "%.*s/%s",
			    (int)(slash - c->path), c->path, v) >=
			    sizeof(joined))
				return cfg_err(x, "requirements: path too long");
			v = joined;
		}
		return set_str(x, k, c->requirements[c->nrequirements++],
		    sizeof(c->requirements[0]), v);
	}
	if (!strcmp(k, "reconcile_interval"))
		return set_int(x, k, &c->reconcile_interval, 1, 86400 * 7, v);
	if (!strcmp(k, "max_attempts"))
		return set_int(x, k, &c->max_attempts, 1, 100, v);
	if (!strcmp(k, "backoff_base"))
		return set_int(x, k, &c->backoff_base, 0, 86400, v);
	if (!strcmp(k, "logdir"))
		return set_str(x, k, c->logdir, sizeof(c->logdir), v);
	if (!strcmp(k, "labels")) {
		size_t i;

		if (!parse_list(x, k, v, c->container_labels, CONFIG_MAX_LIST,
		    &c->ncontainer_labels))
			return 0;
		for (i = 0; i < c->ncontainer_labels; i++) {
			const char *l = c->container_labels[i];
			const char *eq = strchr(l, '=');

			if (eq == NULL || eq == l ||
			    !strncmp(l, "wheelwright.job=", 16) ||
			    !strncmp(l, "wheelwright.attempt=", 20) ||
			    !strncmp(l, "wheelwright.builder=", 20) ||
			    !strncmp(l, "wheelwright.engine=", 19) ||
			    strspn(l, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-=") !=
			    strlen(l))
				return cfg_err(x, "labels: \"%s\": expected "
				    "key=value ([A-Za-z0-9._-]; wheelwright.job, "
				    ".attempt, .builder and .engine are "
				    "builderd's own)", l);
		}
		return 1;
	}
	return cfg_err(x, "unknown key \"%s\" in [builderd]", k);
}

static int
h_upstream(struct config_ctx *x, struct config_upstream *u, const char *k,
    const char *v)
{
	if (!strcmp(k, "url")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8) &&
		    strncmp(v, "dir:", 4))
			return cfg_err(x, "url: \"%s\": expected http(s):// or "
			    "dir:/path", v);
		return set_str(x, k, u->url, sizeof(u->url), v);
	}
	if (!strcmp(k, "priority"))
		return set_int(x, k, &u->priority, 0, 1000, v);
	if (!strcmp(k, "timeout"))
		return set_int(x, k, &u->timeout, 1, 3600, v);
	if (!strcmp(k, "retries"))
		return set_int(x, k, &u->retries, 0, 20, v);
	if (!strcmp(k, "max_response"))
		return set_size(x, k, &u->max_response, v);
	return cfg_err(x, "unknown key \"%s\" in [upstream]", k);
}

static int
h_engine(struct config_ctx *x, struct config_engine *e, const char *k,
    const char *v)
{
	if (!strcmp(k, "url")) {
		if (strncmp(v, "unix://", 7) && strncmp(v, "http://", 7) &&
		    strncmp(v, "https://", 8))
			return cfg_err(x, "url: \"%s\": expected unix:///path, "
			    "http:// or https://", v);
		return set_str(x, k, e->url, sizeof(e->url), v);
	}
	if (!strcmp(k, "jobs"))
		return set_int(x, k, &e->jobs, 1, 1024, v);
	if (!strcmp(k, "tls_ca"))
		return set_str(x, k, e->tls_ca, sizeof(e->tls_ca), v);
	if (!strcmp(k, "tls_cert"))
		return set_str(x, k, e->tls_cert, sizeof(e->tls_cert), v);
	if (!strcmp(k, "tls_key"))
		return set_str(x, k, e->tls_key, sizeof(e->tls_key), v);
	return cfg_err(x, "unknown key \"%s\" in [engine]", k);
}

static int
h_target(struct config_ctx *x, struct config_target *t, const char *k,
    const char *v)
{
	if (!strcmp(k, "python")) {
		int a, b, cc, n = 0;
		if (sscanf(v, "%d.%d.%d%n", &a, &b, &cc, &n) != 3 ||
		    v[n] != '\0')
			return cfg_err(x, "python: \"%s\": expected X.Y.Z", v);
		return set_str(x, k, t->python, sizeof(t->python), v);
	}
	if (!strcmp(k, "policy")) {
		if (strcmp(v, "manylinux") && strcmp(v, "musllinux"))
			return cfg_err(x, "policy: \"%s\": expected manylinux "
			    "or musllinux", v);
		return set_str(x, k, t->policy, sizeof(t->policy), v);
	}
	if (!strcmp(k, "arch"))
		return set_str(x, k, t->arch, sizeof(t->arch), v);
	if (!strcmp(k, "image"))
		return set_str(x, k, t->image, sizeof(t->image), v);
	if (!strcmp(k, "engines"))
		return parse_list(x, k, v, t->engines, CONFIG_MAX_LIST,
		    &t->nengines);
	if (!strcmp(k, "cflags"))
		return set_str(x, k, t->cflags, sizeof(t->cflags), v);
	if (!strcmp(k, "ldflags"))
		return set_str(x, k, t->ldflags, sizeof(t->ldflags), v);
	if (!strcmp(k, "network"))
		return set_bool(x, k, &t->network, v);
	if (!strcmp(k, "repair"))
		return set_bool(x, k, &t->repair, v);
	if (!strcmp(k, "timeout"))
		return set_int(x, k, &t->timeout, 1, 86400, v);
	if (!strcmp(k, "memory"))
		return set_size(x, k, &t->memory, v);
	if (!strcmp(k, "cpus")) {
		char *end;
		errno = 0;
		t->cpus = strtod(v, &end);
		if (errno || *end || t->cpus <= 0 || t->cpus > 1024)
			return cfg_err(x, "cpus: \"%s\" is not a number in "
			    "(0, 1024]", v);
		return 1;
	}
	if (!strcmp(k, "pids"))
		return set_int(x, k, &t->pids, 1, 1000000, v);
	if (!strcmp(k, "user"))
		return set_str(x, k, t->user, sizeof(t->user), v);
	if (!strcmp(k, "python_bin"))
		return set_str(x, k, t->python_bin, sizeof(t->python_bin), v);
	if (!strcmp(k, "libc")) {
		int a, b, n = 0;
		if (sscanf(v, "%d.%d%n", &a, &b, &n) != 2 || v[n] != '\0' ||
		    a < 1 || a > 99 || b < 0 || b > 999)
			return cfg_err(x, "libc: \"%s\": expected the image's "
			    "glibc or musl version X.Y", v);
		return set_str(x, k, t->libc, sizeof(t->libc), v);
	}
	return cfg_err(x, "unknown key \"%s\" in [target]", k);
}

/* Characters of a section name inih keeps (its MAX_SECTION - 1). */
#define CONFIG_INI_SECTION_KEPT	49

/* A new "[kind NAME]" section: allocate its slot. */
static int
new_section(struct config_ctx *x, const char *section)
{
	struct config *c = x->c;
	const char *sp = strchr(section, ' ');
	const char *name;
	size_t kindlen;

	x->cur = NULL;
	if (sp == NULL)
		return cfg_err(x, "unknown section [%s]", section);
	kindlen = (size_t)(sp - section);
	name = sp + 1;
	while (*name == ' ')
		name++;
	if (*name == '\0' || strlen(name) >= 64 || strpbrk(name, " /\"'"))
		return cfg_err(x, "[%s]: bad section name", section);
#define NEWSEC(kw, arr, n) \
	if (kindlen == strlen(kw) && !strncmp(section, kw, kindlen)) { \
		size_t i; \
		for (i = 0; i < c->n; i++) \
			if (!strcmp(c->arr[i].name, name)) \
				return cfg_err(x, "[%s]: duplicate section", \
				    section); \
		if (c->n >= CONFIG_MAX_LIST) \
			return cfg_err(x, "[%s]: too many " kw " sections", \
			    section); \
		x->cur = &c->arr[c->n++]; \
		memset(x->cur, 0, sizeof(c->arr[0])); \
		util_strlcpy(c->arr[c->n - 1].name, name, 64); \
		return 1; \
	}
	NEWSEC("upstream", upstreams, nupstreams)
	NEWSEC("engine", engines, nengines)
	NEWSEC("target", targets, ntargets)
#undef NEWSEC
	return cfg_err(x, "unknown section [%s]", section);
}

static void
init_section_defaults(struct config *c, const char *kind, void *p)
{
	if (!strcmp(kind, "upstream")) {
		struct config_upstream *u = p;
		u->priority = (int)c->nupstreams;
		u->timeout = 30;
		u->retries = 3;
		u->max_response = 64ULL * 1024 * 1024;
	} else if (!strcmp(kind, "engine")) {
		struct config_engine *e = p;
		e->jobs = 2;
	} else if (!strcmp(kind, "target")) {
		struct config_target *t = p;
		util_strlcpy(t->python, "3.11.2", sizeof(t->python));
		util_strlcpy(t->policy, "manylinux", sizeof(t->policy));
		util_strlcpy(t->arch, "x86_64", sizeof(t->arch));
		util_strlcpy(t->python_bin, "python3", sizeof(t->python_bin));
		t->timeout = 1800;
		t->memory = 2ULL * 1024 * 1024 * 1024;
		t->cpus = 1;
		t->pids = 512;
		t->repair = 1;
	}
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_ctx *x = user;

	if (name == NULL && value == NULL) {
		/* INI_CALL_HANDLER_ON_NEW_SECTION builds only; unused. */
		return 1;
	}
	if (strcmp(section, x->cursect) != 0) {
		/*
		 * inih keeps the first 49 characters of a section name and
		 * drops the rest without a word: a longer [target NAME]
		 * would silently be another name. Refuse what may be cut.
		 */
		if (strlen(section) >= CONFIG_INI_SECTION_KEPT)
			return cfg_err(x, "[%s...]: section name too long "
			    "(at most %d characters)", section,
			    CONFIG_INI_SECTION_KEPT - 1);
		util_strlcpy(x->cursect, section, sizeof(x->cursect));
		x->cur = NULL;
		if (strcmp(section, "global") && strcmp(section, "limits") &&
		    strcmp(section, "indexd") && strcmp(section, "builderd") &&
		    section[0] != '\0') {
			if (!new_section(x, section))
				return 0;
			init_section_defaults(x->c, section[0] == 'u' ?
			    "upstream" : section[0] == 'e' ? "engine" : "target",
			    x->cur);
		}
	}
	if (section[0] == '\0' || !strcmp(section, "global"))
		return h_global(x, name, value);
	if (!strcmp(section, "limits"))
		return h_limits(x, name, value);
	if (!strcmp(section, "indexd"))
		return h_indexd(x, name, value);
	if (!strcmp(section, "builderd"))
		return h_builderd(x, name, value);
	if (x->cur == NULL)
		return cfg_err(x, "key \"%s\" in bad section [%s]", name,
		    section);
	if (!strncmp(section, "upstream ", 9))
		return h_upstream(x, x->cur, name, value);
	if (!strncmp(section, "engine ", 7))
		return h_engine(x, x->cur, name, value);
	return h_target(x, x->cur, name, value);
}

static int
config_check(struct config *c, char *msg, size_t msglen)
{
	size_t i, j;

	for (i = 0; i < c->nupstreams; i++)
		if (c->upstreams[i].url[0] == '\0') {
			snprintf(msg, msglen, "[upstream %s]: url is required",
			    c->upstreams[i].name);
			return -1;
		}
	for (i = 0; i < c->nengines; i++)
		if (c->engines[i].url[0] == '\0') {
			snprintf(msg, msglen, "[engine %s]: url is required",
			    c->engines[i].name);
			return -1;
		}
	for (i = 0; i < c->ntargets; i++) {
		struct config_target *t = &c->targets[i];
		if (t->image[0] == '\0') {
			snprintf(msg, msglen, "[target %s]: image is required",
			    t->name);
			return -1;
		}
		for (j = 0; j < t->nengines; j++)
			if (config_engine(c, t->engines[j]) == NULL) {
				snprintf(msg, msglen, "[target %s]: engine "
				    "\"%s\" is not defined", t->name,
				    t->engines[j]);
				return -1;
			}
	}
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		snprintf(msg, msglen, "[indexd]: tls_cert and tls_key go together");
		return -1;
	}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls && c->tls_cert[0] == '\0') {
			snprintf(msg, msglen, "[indexd]: listen_tls needs "
			    "tls_cert and tls_key");
			return -1;
		}
	return 0;
}

int
config_load(const char *path, struct config **out, struct wwerr *err)
{
	struct config_ctx x;
	struct config *c;
	char msg[512];
	FILE *f;
	int line;

	if ((c = malloc(sizeof(*c))) == NULL)
		return wwerr_set(err, ENOMEM, "%s: out of memory", path);
	config_defaults(c);
	util_strlcpy(c->path, path, sizeof(c->path));
	memset(&x, 0, sizeof(x));
	x.c = c;
	if ((f = fopen(path, "r")) == NULL) {
		wwerr_set(err, errno, "%s: %s", path, strerror(errno));
		free(c);
		return -1;
	}
	line = ini_parse_file(f, config_handler, &x);
	fclose(f);
	if (line != 0) {
		if (line < 0)
			wwerr_set(err, EIO, "%s: cannot read", path);
		else
			wwerr_set(err, EINVAL, "%s:%d: %s", path, line,
			    x.err[0] ? x.err : "syntax error");
		free(c);
		return -1;
	}
	if (c->logdir[0] == '\0' &&
	    (size_t)snprintf(c->logdir, sizeof(c->logdir), "%.1000s/logs",
	    c->datadir) >= sizeof(c->logdir)) {
		wwerr_set(err, EINVAL, "%s: datadir too long", path);
		free(c);
		return -1;
	}
	if (config_check(c, msg, sizeof(msg)) == -1) {
		wwerr_set(err, EINVAL, "%s: %s", path, msg);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
config_free(struct config *c)
{
	free(c);
}

const struct config_engine *
config_engine(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nengines; i++)
		if (!strcmp(c->engines[i].name, name))
			return &c->engines[i];
	return NULL;
}

const struct config_target *
config_target(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ntargets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}
