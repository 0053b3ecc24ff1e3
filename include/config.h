/*
 * config.h: the one configuration file (inih) shared by indexd, builderd
 * and indexctl. Sections:
 *   [global]            datadir, verbose
 *   [limits]            archive limits (see verify.h)
 *   [indexd]            listen, tls_*, timeouts, sizes, access_log
 *   [builderd]          requirements, constraints, intervals
 *   [upstream NAME]     url (https://.../simple/ or dir:/path), priority
 *   [engine NAME]       url (unix:///path or https://host:port), jobs
 *   [target NAME]       python, policy, arch, image, engines, flags,
 *                       repair, ...
 * Errors name file:line. The loaded config is the only global state the
 * programs keep, and SIGHUP replaces it wholesale.
 */
#ifndef WW_CONFIG_H
#define WW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "verify.h"
#include "wwerr.h"

#define CONFIG_MAX_LISTEN	8
#define CONFIG_MAX_LIST		32

struct config_listen {
	char	host[256];
	char	port[16];
	int	tls;
};

struct config_upstream {
	char	name[64];
	char	url[1024];	/* http(s)://.../simple/ or dir:/abs/path */
	int	priority;	/* lower first; default: order in file */
	int	timeout;	/* seconds per request */
	int	retries;
	uint64_t max_response;	/* bytes */
};

struct config_engine {
	char	name[64];
	char	url[1024];	/* unix:///run/podman.sock, https://h:2376 */
	int	jobs;		/* concurrent job limit */
	char	tls_ca[1024], tls_cert[1024], tls_key[1024];
};

struct config_target {
	char	name[64];
	char	python[16];	/* full version "3.11.2" */
	char	policy[16];	/* "manylinux" or "musllinux" */
	char	arch[32];	/* "x86_64", "aarch64" */
	char	image[256];	/* engine image reference */
	char	engines[CONFIG_MAX_LIST][64];
	size_t	nengines;
	char	cflags[512];
	char	ldflags[512];
	int	network;	/* 1: allow network in build container */
	int	timeout;	/* seconds wall clock */
	uint64_t memory;	/* bytes */
	double	cpus;
	int	pids;
	char	user[64];	/* "" = image default; else uid:gid */
	char	python_bin[256];/* interpreter path in the image */
	char	libc[16];	/* the image's glibc/musl "X.Y"; "" = default
				   (2.36 manylinux, 1.2 musllinux) */
	/* 1 (default): a wheel that needs libraries outside the policy gets
	 * them bundled (repair.h); 0: it fails verification naming them. */
	int	repair;
};

struct config {
	char	path[1024];	/* file it was read from */
	/* [global] */
	char	datadir[1024];
	int	verbose;
	/* [limits] */
	struct limits limits;
	/* [indexd] */
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t	nlisten;
	char	tls_cert[1024], tls_key[1024];
	int	max_connections;
	int	header_timeout;		/* seconds to receive headers */
	int	read_timeout;		/* seconds idle while reading body */
	int	write_timeout;
	uint64_t max_header_size;
	uint64_t max_url_len;
	uint64_t max_upload_size;
	int	file_max_age;		/* Cache-Control for files */
	int	page_max_age;		/* Cache-Control for index pages */
	char	access_log[1024];	/* "" = stdout, "-" = off */
	int	workers;		/* indexd threads; 0 = one per CPU */
	uint64_t page_cache_size;	/* bytes of rendered pages cached */
	/* [builderd] */
	char	requirements[CONFIG_MAX_LIST][1024];
	size_t	nrequirements;
	int	reconcile_interval;	/* seconds */
	int	max_attempts;
	int	backoff_base;		/* seconds; doubles per attempt */
	char	logdir[1024];		/* default DATA/logs */
	/* "key=value" labels put on every build container (besides the
	 * job's own), e.g. to find a test run's containers. */
	char	container_labels[CONFIG_MAX_LIST][64];
	size_t	ncontainer_labels;
	/* sections */
	struct config_upstream upstreams[CONFIG_MAX_LIST];
	size_t	nupstreams;
	struct config_engine engines[CONFIG_MAX_LIST];
	size_t	nengines;
	struct config_target targets[CONFIG_MAX_LIST];
	size_t	ntargets;
};

/* Defaults, then the file. err->msg is "file:line: reason" on error. */
int	 config_load(const char *path, struct config **out, struct wwerr *err);
void	 config_defaults(struct config *c);
void	 config_free(struct config *c);
/* Lookups by name; NULL if absent. */
const struct config_engine *config_engine(const struct config *c,
	    const char *name);
const struct config_target *config_target(const struct config *c,
	    const char *name);

#endif
