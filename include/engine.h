/*
 * engine.h: a client for the Docker Engine API (v1.41) over libcurl, for
 * dockerd and for podman's API service, on a unix socket or on TCP with TLS
 * client certificates. builderd runs every build through it: create a
 * container from a spec (argv array, never a shell string; no network by
 * default; resource limits; bind mounts), start it, follow its logs into a
 * file while waiting with a wall-clock deadline (killing it at the
 * deadline), read how it ended (exit code, OOM kill), copy files out of it,
 * and find and remove its containers by label after a crash.
 *
 * Everything the engine sends is treated as hostile: every response body
 * has a size bound, every request a timeout, and every archive entry is
 * checked. Errors (struct wwerr, codes enum engine_error) name the engine
 * URL, the request, and the HTTP status and the engine's message, e.g.
 *   engine unix:///run/ww/engine.sock: POST /containers/create: HTTP 404:
 *   no such image: localhost/nope:1
 *
 * A build, in calls (see tests/tool_builder_engine.c for a complete one):
 *   engine_open(cfg->url, &tls, &e, &err);
 *   engine_container_create(e, &spec, id, &err);  spec.labels: job id
 *   engine_container_start(e, id, &err);
 *   engine_container_wait(e, id, &(struct engine_waitopts){ .timeout_ms =
 *       t * 1000, .log_fd = logfd }, &res, &err);
 *   res.state.exit_code, res.timed_out, res.oom -> the failure class
 *   engine_container_remove(e, id, &err);
 * and after a crash: engine_container_list(e, "wheelwright.job", ...) and
 * remove what is found.
 *
 * A struct engine is one libcurl handle with its connection: it is not
 * thread-safe; open one per thread (or per process). All calls block,
 * bounded by their timeouts; a cancel flag (engine_set_cancel) makes the
 * call in progress return ENGINE_E_CANCELLED soon after it is raised, e.g.
 * from a SIGTERM handler.
 */
#ifndef WW_ENGINE_H
#define WW_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "wwerr.h"

struct archive;
struct archive_entry;

#define ENGINE_API_VERSION	"1.41"
#define ENGINE_ID_MAX		128	/* container ids are 64 hex chars */

enum engine_error {
	ENGINE_E_ARG = 1,	/* invalid argument or spec */
	ENGINE_E_CONNECT,	/* engine unreachable (socket, TCP, TLS) */
	ENGINE_E_TIMEOUT,	/* request exceeded its time limit */
	ENGINE_E_HTTP,		/* engine answered with an error status */
	ENGINE_E_NOTFOUND,	/* 404: no such container, image or path */
	ENGINE_E_CONFLICT,	/* 409: e.g. name in use */
	ENGINE_E_PROTO,		/* malformed or unexpected response */
	ENGINE_E_TOOBIG,	/* response larger than its bound */
	ENGINE_E_IO,		/* local I/O failed (log file, output fd) */
	ENGINE_E_CANCELLED,	/* the caller's cancel flag was raised */
	ENGINE_E_NOMEM,
	ENGINE_E_ARCHIVE	/* bad tar from the engine, or entry refused */
};

struct engine;

/* TLS client configuration for https:// (and tcp://) engines. */
struct engine_tls {
	const char	*ca_file;	/* CA bundle to verify the engine; NULL = system */
	const char	*cert_file;	/* client certificate (PEM) */
	const char	*key_file;	/* its private key (PEM) */
};

/*
 * url: unix:///abs/path/engine.sock, https://host:port (TLS; tls may give
 * client certs), http://host:port (plain TCP: only for tests), or
 * tcp://host:port (https when tls has a cert, else http, as docker does).
 * Does not connect: engine_ping() does. tls may be NULL.
 */
int	 engine_open(const char *url, const struct engine_tls *tls,
	    struct engine **out, struct wwerr *err);
void	 engine_close(struct engine *e);
/* The URL as given (for messages). */
const char *engine_url(const struct engine *e);
/*
 * Defaults: connect 10 s, ordinary requests 60 s, JSON responses 4 MiB.
 * Log streams, waits and archives take their own limits.
 */
void	 engine_set_timeouts(struct engine *e, long connect_ms, long request_ms);
void	 engine_set_max_response(struct engine *e, size_t bytes);
/* While *flag is non-zero, calls in progress abort with ENGINE_E_CANCELLED. */
void	 engine_set_cancel(struct engine *e, const volatile sig_atomic_t *flag);

/* GET /_ping: 0 when the engine answers OK. */
int	 engine_ping(struct engine *e, struct wwerr *err);

struct engine_version {
	char	version[64];		/* "4.3.1", "24.0.7" */
	char	api_version[16];	/* highest API version it speaks */
	char	min_api_version[16];
	char	os[32];			/* "linux" */
	char	arch[32];		/* Go names: "amd64", "arm64" */
	char	kernel[128];
	int	podman;			/* 1 if it is podman's API service */
};
int	 engine_version(struct engine *e, struct engine_version *out,
	    struct wwerr *err);

struct engine_image {
	char	id[ENGINE_ID_MAX];	/* "sha256:..." */
	char	os[32];
	char	arch[32];		/* "amd64", "arm64" (OCI/Go names) */
	char	variant[16];		/* "v8" or "" */
	char	user[64];		/* Config.User, "" if unset */
	int64_t	size;			/* bytes */
};
/* ENGINE_E_NOTFOUND when the image is absent. */
int	 engine_image_inspect(struct engine *e, const char *ref,
	    struct engine_image *out, struct wwerr *err);
/* *exists = 0/1; -1 only when the engine could not say. */
int	 engine_image_exists(struct engine *e, const char *ref, int *exists,
	    struct wwerr *err);

struct engine_kv {
	const char	*key;
	const char	*value;
};

struct engine_mount {
	const char	*source;	/* absolute host path */
	const char	*target;	/* absolute container path */
	int		 readonly;
};

/*
 * What to run. Conventional mounts for a wheel build (the builder image has
 * these directories): the sdist directory read-only at /ww/src, the output
 * directory writable at /ww/out (owned by the build user, uid 10001 in
 * Wheelwright's images), a local wheel index read-only at /ww/index.
 */
struct engine_spec {
	const char		*image;		/* required */
	const char *const	*argv;		/* required, NULL-terminated */
	const char *const	*env;		/* "NAME=value", NULL-terminated */
	const char		*workdir;	/* NULL: image default */
	const char		*user;		/* "uid:gid"; NULL: image default */
	const char		*name;		/* NULL: engine picks one */
	const struct engine_kv	*labels;	/* e.g. wheelwright.job=42 */
	size_t			 nlabels;
	const struct engine_mount *mounts;
	size_t			 nmounts;
	const char		*network;	/* NULL: "none"; or "bridge", ... */
	int64_t			 memory;	/* bytes, 0: unlimited; no swap */
	int64_t			 nano_cpus;	/* 1000000000 = 1 CPU; 0: no limit */
	int64_t			 pids_limit;	/* 0: no limit */
	const char		*platform;	/* "linux/arm64"; NULL: default */
	/*
	 * By default every capability is dropped and no-new-privileges is
	 * set; a build needs neither. keep_caps = 1 leaves the engine's
	 * defaults.
	 */
	int			 keep_caps;
	/*
	 * A read-only root filesystem; give the build writable scratch space
	 * with tmpfs: container paths, "PATH" or "PATH:OPTIONS" (e.g.
	 * "/tmp:rw,size=1g,exec"), NULL-terminated.
	 */
	int			 readonly_rootfs;
	const char *const	*tmpfs;
};

/*
 * Creates the container (not started). id receives its full id. Warnings
 * the engine returns are logged at debug level.
 */
int	 engine_container_create(struct engine *e,
	    const struct engine_spec *spec, char id[ENGINE_ID_MAX],
	    struct wwerr *err);
/* Starting a running container is not an error. */
int	 engine_container_start(struct engine *e, const char *id,
	    struct wwerr *err);
/* signal: "KILL" (NULL), "TERM", ... Killing a stopped container is 0. */
int	 engine_container_kill(struct engine *e, const char *id,
	    const char *signal, struct wwerr *err);
/* Force-removes (kills if running) with its anonymous volumes. Absent is 0. */
int	 engine_container_remove(struct engine *e, const char *id,
	    struct wwerr *err);

struct engine_state {
	char	status[32];	/* "created", "running", "exited", ... */
	int	running;
	int	exit_code;	/* -1 while running or unknown */
	int	oom_killed;	/* the kernel OOM killer hit it */
	char	error[256];	/* engine's State.Error (e.g. exec failure) */
	int64_t	started_us;	/* epoch microseconds, 0 if never */
	int64_t	finished_us;	/* 0 while running */
	int64_t	memory_limit;	/* HostConfig.Memory, bytes; 0: none */
};
/* GET /containers/ID/json: the state part. */
int	 engine_container_inspect(struct engine *e, const char *id,
	    struct engine_state *out, struct wwerr *err);

/* Log streams: how the bytes from /logs are framed. */
enum engine_stream_mode {
	ENGINE_STREAM_AUTO = 0,	/* detect from the first 8 bytes */
	ENGINE_STREAM_MUX,	/* Docker's 8-byte-header multiplexed frames */
	ENGINE_STREAM_RAW	/* TTY containers: raw bytes, all stdout */
};

struct engine_logopts {
	int	 follow;	/* keep streaming until the container stops */
	int64_t	 timeout_ms;	/* whole request; 0: none (follow) or default */
	uint64_t max_bytes;	/* written to the fds; the rest is counted and
				 * dropped; 0: 64 MiB */
	int	 mode;		/* enum engine_stream_mode */
};

struct engine_logstat {
	uint64_t written;	/* payload bytes written to the fds */
	uint64_t dropped;	/* payload bytes beyond max_bytes */
};

/*
 * Streams the container's stdout into out_fd and stderr into err_fd (they
 * may be the same fd; -1 discards that stream), demultiplexed. With follow
 * and a timeout it returns ENGINE_E_TIMEOUT at the deadline, having written
 * everything received until then. st may be NULL.
 */
int	 engine_container_logs(struct engine *e, const char *id, int out_fd,
	    int err_fd, const struct engine_logopts *o, struct engine_logstat *st,
	    struct wwerr *err);

struct engine_waitopts {
	int64_t	 timeout_ms;	/* wall clock from the call; 0: no limit */
	int	 log_fd;	/* >= 0: follow stdout+stderr into it */
	uint64_t log_max;	/* as engine_logopts.max_bytes */
};

struct engine_result {
	struct engine_state state;	/* after it stopped */
	int	timed_out;		/* killed at the deadline */
	/*
	 * Out of memory, best judgment: state.oom_killed, or else SIGKILL
	 * (exit code 137) in a memory-limited container that we did not
	 * kill. The inference is needed because podman on cgroup v1 hosts
	 * reports OOMKilled false even when the kernel OOM-killed the
	 * container's process; oom_inferred tells the two apart.
	 */
	int	oom;
	int	oom_inferred;
	struct engine_logstat log;
	int64_t	wall_us;		/* time spent in engine_container_wait */
};

/*
 * Waits for a started container to stop, following its logs into
 * o->log_fd meanwhile. At the deadline it kills the container (SIGKILL),
 * waits for it to stop and sets timed_out. Returns 0 whenever the container
 * stopped, whatever its exit code: look at out->state.exit_code,
 * .oom_killed and out->timed_out. -1 means the engine failed us (the
 * container may still be running; remove it).
 */
int	 engine_container_wait(struct engine *e, const char *id,
	    const struct engine_waitopts *o, struct engine_result *out,
	    struct wwerr *err);

/* A container as listed. */
struct engine_container {
	char	  id[ENGINE_ID_MAX];
	char	  name[256];
	char	  image[256];
	char	  state[32];	/* "running", "exited", "created", ... */
	int64_t	  created;	/* seconds since the epoch */
	char	**labels;	/* "key=value", NULL-terminated */
};
/*
 * All containers (running or not) carrying label, given as "key" (any
 * value) or "key=value"; label NULL lists every container. *out is one
 * allocation set freed by engine_container_list_free().
 */
int	 engine_container_list(struct engine *e, const char *label,
	    struct engine_container **out, size_t *n, struct wwerr *err);
void	 engine_container_list_free(struct engine_container *list, size_t n);
/* The value of a listed container's label, or NULL. */
const char *engine_container_label(const struct engine_container *c,
	    const char *key);

/* What the engine says about a path inside a container (HEAD archive). */
struct engine_pathstat {
	char	 name[256];
	int64_t	 size;
	uint32_t perm;		/* permission bits (0777) */
	int	 is_dir;
	int	 is_symlink;
	char	 link_target[1024];
};
int	 engine_archive_stat(struct engine *e, const char *id, const char *path,
	    struct engine_pathstat *out, struct wwerr *err);

/*
 * Called for each entry of the tar the engine streams for a path; may
 * archive_read_data() the entry. Return 0 to go on, -1 (with err set) to
 * stop, 1 to stop without error.
 */
typedef int (*engine_archive_fn)(void *arg, struct archive *a,
	    struct archive_entry *ent, struct wwerr *err);
/*
 * GET /containers/ID/archive?path=PATH, streamed into libarchive as it
 * arrives. max_bytes bounds the tar (0: 256 MiB).
 */
int	 engine_archive_get(struct engine *e, const char *id, const char *path,
	    uint64_t max_bytes, engine_archive_fn fn, void *arg,
	    struct wwerr *err);
/*
 * Copies one regular file out of a container into fd, following symlinks
 * in the container (at most 8), e.g. libfoo.so.1 -> libfoo.so.1.2.3.
 * resolved (may be NULL) receives the final path. At most max_bytes (0:
 * 256 MiB).
 */
int	 engine_copy_file(struct engine *e, const char *id, const char *path,
	    int fd, uint64_t max_bytes, char *resolved, size_t resolvedlen,
	    struct wwerr *err);

/*
 * Pure parts, public for unit tests and fuzzers.
 */

/* The POST /containers/create body for spec (jansson). *out: free(). */
int	 engine_spec_json(const struct engine_spec *spec, char **out,
	    struct wwerr *err);

/*
 * Stream demultiplexer. Feed it the /logs (or /attach) body in chunks of
 * any size; it calls sink with each payload piece: stream 1 is stdout, 2
 * stderr (0 stdin, 3 the engine's own errors). A sink returning -1 stops
 * the demuxer with ENGINE_E_IO.
 */
typedef int (*engine_sink_fn)(void *arg, int stream, const char *data,
	    size_t len);

struct engine_demux {
	int		 mode;		/* enum engine_stream_mode */
	unsigned char	 hdr[8];
	size_t		 hdrlen;
	int		 stream;
	uint32_t	 remaining;	/* payload bytes left in this frame */
	engine_sink_fn	 sink;
	void		*arg;
	int		 failed;
};
void	 engine_demux_init(struct engine_demux *d, int mode,
	    engine_sink_fn sink, void *arg);
int	 engine_demux_feed(struct engine_demux *d, const void *data,
	    size_t len, struct wwerr *err);
/* End of stream: a frame cut short is an ENGINE_E_PROTO error. */
int	 engine_demux_finish(struct engine_demux *d, struct wwerr *err);

/* RFC 3339 with optional fraction (to ns) and offset -> epoch us; 0 for
 * Go's zero time "0001-01-01T00:00:00Z". -1 on a malformed string. */
int	 engine_parse_time(const char *s, int64_t *us);

#endif
