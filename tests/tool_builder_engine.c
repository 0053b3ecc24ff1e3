/*
 * tool_builder_engine.c: a command-line driver for builder/engine.c, so the
 * end-to-end tests (tests/e2e_engine.py) exercise the real client against a
 * real engine. Each command prints one JSON document on stdout; errors go
 * to stderr with exit 1 (2 for usage, 3 for "not found").
 *
 *   tool_builder_engine URL ping|version
 *   tool_builder_engine URL image REF
 *   tool_builder_engine URL run [opts] -- ARGV...
 *       --image REF --user U --workdir D --network N --name N
 *       --memory BYTES --cpus NANO --pids N --platform P
 *       --env K=V --label K=V --mount SRC:DST[:ro] --tmpfs PATH[:OPTS]
 *       (repeatable)   --read-only (read-only root filesystem)
 *       --timeout-ms MS --log FILE --log-max BYTES
 *       --stdout FILE --stderr FILE  (fetch logs again, split, after it ran)
 *       --detach (create+start, print id)   --keep (do not remove)
 *   tool_builder_engine URL list [LABEL]
 *   tool_builder_engine URL inspect|kill|rm ID
 *   tool_builder_engine URL stat ID PATH
 *   tool_builder_engine URL cp ID PATH OUTFILE [MAX]
 *   tool_builder_engine URL tar ID PATH [MAX]   (lists the entries)
 * TLS (https:// and tcp:// engines): WW_TLS_CA, WW_TLS_CERT and WW_TLS_KEY
 * name the CA bundle, client certificate and key.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "engine.h"
#include "log.h"
#include "util.h"

#define MAXV 64

static void
usage(void)
{
	fprintf(stderr, "usage: tool_builder_engine URL COMMAND ... "
	    "(see the comment at the top of tests/tool_builder_engine.c)\n");
	exit(2);
}

static int
fail(const struct wwerr *err)
{
	fprintf(stderr, "tool_builder_engine: %s\n", err->msg);
	return err->code == ENGINE_E_NOTFOUND ? 3 : 1;
}

static void
emit(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
}

static int64_t
num(const char *s)
{
	int64_t v;

	if (util_parse_i64(s, 0, INT64_MAX, &v) == -1) {
		fprintf(stderr, "tool_builder_engine: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static json_t *
state_json(const struct engine_state *st)
{
	return json_pack("{s:s, s:b, s:i, s:b, s:s, s:I, s:I, s:I}",
	    "status", st->status, "running", st->running,
	    "exit_code", st->exit_code, "oom_killed", st->oom_killed,
	    "error", st->error, "started_us", (json_int_t)st->started_us,
	    "finished_us", (json_int_t)st->finished_us,
	    "memory_limit", (json_int_t)st->memory_limit);
}

static int
cmd_run(struct engine *e, int argc, char **argv)
{
	struct engine_spec spec;
	struct engine_kv labels[MAXV];
	struct engine_mount mounts[MAXV];
	struct engine_waitopts wo;
	struct engine_result res;
	struct engine_logopts lo;
	struct engine_logstat ls;
	struct wwerr err;
	const char *env[MAXV + 1], *tmpfs[MAXV + 1], *logpath = NULL;
	const char *outpath = NULL;
	const char *errpath = NULL;
	char id[ENGINE_ID_MAX], *p, *q;
	size_t nenv = 0, ntmpfs = 0;
	int i, detach = 0, keep = 0, logfd = -1, ofd, efd, rc = 1;
	json_t *j;

	memset(&spec, 0, sizeof(spec));
	memset(&wo, 0, sizeof(wo));
	wo.log_fd = -1;
	wwerr_clear(&err);
	for (i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(o, "--detach") == 0) {
			detach = 1;
			continue;
		}
		if (strcmp(o, "--keep") == 0) {
			keep = 1;
			continue;
		}
		if (strcmp(o, "--read-only") == 0) {
			spec.readonly_rootfs = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(o, "--image") == 0)
			spec.image = v;
		else if (strcmp(o, "--user") == 0)
			spec.user = v;
		else if (strcmp(o, "--workdir") == 0)
			spec.workdir = v;
		else if (strcmp(o, "--network") == 0)
			spec.network = v;
		else if (strcmp(o, "--name") == 0)
			spec.name = v;
		else if (strcmp(o, "--platform") == 0)
			spec.platform = v;
		else if (strcmp(o, "--memory") == 0)
			spec.memory = num(v);
		else if (strcmp(o, "--cpus") == 0)
			spec.nano_cpus = num(v);
		else if (strcmp(o, "--pids") == 0)
			spec.pids_limit = num(v);
		else if (strcmp(o, "--timeout-ms") == 0)
			wo.timeout_ms = num(v);
		else if (strcmp(o, "--log-max") == 0)
			wo.log_max = (uint64_t)num(v);
		else if (strcmp(o, "--log") == 0)
			logpath = v;
		else if (strcmp(o, "--stdout") == 0)
			outpath = v;
		else if (strcmp(o, "--stderr") == 0)
			errpath = v;
		else if (strcmp(o, "--env") == 0 && nenv < MAXV)
			env[nenv++] = v;
		else if (strcmp(o, "--tmpfs") == 0 && ntmpfs < MAXV)
			tmpfs[ntmpfs++] = v;
		else if (strcmp(o, "--label") == 0 && spec.nlabels < MAXV) {
			if ((p = strchr(v, '=')) == NULL)
				usage();
			*p = '\0';
			labels[spec.nlabels].key = v;
			labels[spec.nlabels++].value = p + 1;
		} else if (strcmp(o, "--mount") == 0 && spec.nmounts < MAXV) {
			if ((p = strchr(v, ':')) == NULL)
				usage();
			*p++ = '\0';
			mounts[spec.nmounts].source = v;
			mounts[spec.nmounts].target = p;
			mounts[spec.nmounts].readonly = 0;
			if ((q = strchr(p, ':')) != NULL) {
				*q++ = '\0';
				mounts[spec.nmounts].readonly =
				    strcmp(q, "ro") == 0;
			}
			spec.nmounts++;
		} else
			usage();
	}
	env[nenv] = NULL;
	tmpfs[ntmpfs] = NULL;
	spec.tmpfs = ntmpfs ? tmpfs : NULL;
	if (i >= argc)
		usage();
	spec.argv = (const char *const *)(argv + i);
	spec.env = nenv ? env : NULL;
	spec.labels = labels;
	spec.mounts = mounts;

	if (engine_container_create(e, &spec, id, &err) == -1)
		return fail(&err);
	if (engine_container_start(e, id, &err) == -1) {
		rc = fail(&err);
		goto out;
	}
	if (detach) {
		emit(json_pack("{s:s}", "id", id));
		return 0;
	}
	if (logpath && (logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) == -1) {
		perror(logpath);
		goto out;
	}
	wo.log_fd = logfd;
	if (engine_container_wait(e, id, &wo, &res, &err) == -1) {
		rc = fail(&err);
		goto out;
	}
	j = json_pack("{s:s, s:o, s:b, s:b, s:b, s:I, s:I, s:I}", "id", id,
	    "state", state_json(&res.state), "timed_out", res.timed_out,
	    "oom", res.oom, "oom_inferred", res.oom_inferred,
	    "log_written", (json_int_t)res.log.written,
	    "log_dropped", (json_int_t)res.log.dropped,
	    "wall_us", (json_int_t)res.wall_us);
	if (outpath || errpath) {
		ofd = outpath ? open(outpath, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644) : -1;
		efd = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644) : -1;
		memset(&lo, 0, sizeof(lo));
		lo.max_bytes = wo.log_max;
		if (engine_container_logs(e, id, ofd, efd, &lo, &ls,
		    &err) == -1) {
			json_decref(j);
			rc = fail(&err);
			goto out;
		}
		if (ofd >= 0)
			close(ofd);
		if (efd >= 0)
			close(efd);
		json_object_set_new(j, "split_written",
		    json_integer((json_int_t)ls.written));
		json_object_set_new(j, "split_dropped",
		    json_integer((json_int_t)ls.dropped));
	}
	emit(j);
	rc = 0;
out:
	if (logfd >= 0)
		close(logfd);
	if (!keep && engine_container_remove(e, id, &err) == -1) {
		fprintf(stderr, "tool_builder_engine: remove: %s\n", err.msg);
		rc = 1;
	}
	return rc;
}

static int
tar_cb(void *arg, struct archive *a, struct archive_entry *ent,
    struct wwerr *err)
{
	json_t *list = arg;
	const char *type = "other";

	(void)a;
	(void)err;
	switch (archive_entry_filetype(ent)) {
	case AE_IFREG: type = "file"; break;
	case AE_IFDIR: type = "dir"; break;
	case AE_IFLNK: type = "symlink"; break;
	}
	json_array_append_new(list, json_pack("{s:s, s:I, s:s}", "name",
	    archive_entry_pathname(ent), "size",
	    (json_int_t)archive_entry_size(ent), "type", type));
	return 0;
}

int
main(int argc, char **argv)
{
	struct engine *e = NULL;
	struct engine_tls tls;
	struct engine_version v;
	struct engine_image img;
	struct engine_state st;
	struct engine_pathstat ps;
	struct engine_container *list;
	struct wwerr err;
	char resolved[1024];
	const char *cmd;
	json_t *arr, *labels;
	size_t n, i, k;
	int rc = 1, fd;

	log_init("tool_builder_engine", getenv("WW_DEBUG") ? 2 : 0);
	if (argc < 3)
		usage();
	wwerr_clear(&err);
	tls.ca_file = getenv("WW_TLS_CA");
	tls.cert_file = getenv("WW_TLS_CERT");
	tls.key_file = getenv("WW_TLS_KEY");
	if (engine_open(argv[1], tls.ca_file || tls.cert_file ? &tls : NULL,
	    &e, &err) == -1)
		return fail(&err);
	cmd = argv[2];
	argc -= 3;
	argv += 3;
	if (strcmp(cmd, "ping") == 0) {
		if (engine_ping(e, &err) == -1)
			goto err;
		emit(json_pack("{s:b}", "ok", 1));
	} else if (strcmp(cmd, "version") == 0) {
		if (engine_version(e, &v, &err) == -1)
			goto err;
		emit(json_pack("{s:s, s:s, s:s, s:s, s:b}", "version",
		    v.version, "api_version", v.api_version, "os", v.os,
		    "arch", v.arch, "podman", v.podman));
	} else if (strcmp(cmd, "image") == 0 && argc == 1) {
		if (engine_image_inspect(e, argv[0], &img, &err) == -1)
			goto err;
		emit(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", img.id,
		    "os", img.os, "arch", img.arch, "variant", img.variant,
		    "user", img.user, "size", (json_int_t)img.size));
	} else if (strcmp(cmd, "run") == 0) {
		rc = cmd_run(e, argc, argv);
		goto out;
	} else if (strcmp(cmd, "list") == 0 && argc <= 1) {
		if (engine_container_list(e, argc ? argv[0] : NULL, &list, &n,
		    &err) == -1)
			goto err;
		arr = json_array();
		for (i = 0; i < n; i++) {
			labels = json_object();
			for (k = 0; list[i].labels[k]; k++) {
				char *eq = strchr(list[i].labels[k], '=');

				*eq = '\0';
				json_object_set_new(labels, list[i].labels[k],
				    json_string(eq + 1));
				*eq = '=';
			}
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:I, s:o}", "id", list[i].id, "name",
			    list[i].name, "image", list[i].image, "state",
			    list[i].state, "created",
			    (json_int_t)list[i].created, "labels", labels));
		}
		engine_container_list_free(list, n);
		emit(arr);
	} else if (strcmp(cmd, "inspect") == 0 && argc == 1) {
		if (engine_container_inspect(e, argv[0], &st, &err) == -1)
			goto err;
		emit(state_json(&st));
	} else if (strcmp(cmd, "kill") == 0 && argc == 1) {
		if (engine_container_kill(e, argv[0], NULL, &err) == -1)
			goto err;
		emit(json_pack("{s:b}", "ok", 1));
	} else if (strcmp(cmd, "rm") == 0 && argc == 1) {
		if (engine_container_remove(e, argv[0], &err) == -1)
			goto err;
		emit(json_pack("{s:b}", "ok", 1));
	} else if (strcmp(cmd, "stat") == 0 && argc == 2) {
		if (engine_archive_stat(e, argv[0], argv[1], &ps, &err) == -1)
			goto err;
		emit(json_pack("{s:s, s:I, s:i, s:b, s:b, s:s}", "name",
		    ps.name, "size", (json_int_t)ps.size, "perm", ps.perm,
		    "is_dir", ps.is_dir, "is_symlink", ps.is_symlink,
		    "link_target", ps.link_target));
	} else if (strcmp(cmd, "cp") == 0 && (argc == 3 || argc == 4)) {
		if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1) {
			perror(argv[2]);
			goto out;
		}
		if (engine_copy_file(e, argv[0], argv[1], fd, argc == 4 ?
		    (uint64_t)num(argv[3]) : 0, resolved, sizeof(resolved),
		    &err) == -1) {
			close(fd);
			goto err;
		}
		close(fd);
		emit(json_pack("{s:s}", "resolved", resolved));
	} else if (strcmp(cmd, "tar") == 0 && (argc == 2 || argc == 3)) {
		arr = json_array();
		if (engine_archive_get(e, argv[0], argv[1], argc == 3 ?
		    (uint64_t)num(argv[2]) : 0, tar_cb, arr, &err) == -1) {
			json_decref(arr);
			goto err;
		}
		emit(arr);
	} else {
		usage();
	}
	rc = 0;
	goto out;
err:
	rc = fail(&err);
out:
	engine_close(e);
	return rc;
}
