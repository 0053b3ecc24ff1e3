/*
 * requirement.h: PEP 508 dependency specifiers and environment markers,
 * and pip-style requirements files (comments, line continuations, -r and -c
 * includes). Errors carry file:line.
 */
#ifndef WW_REQUIREMENT_H
#define WW_REQUIREMENT_H

#include <stddef.h>

#include "specifier.h"
#include "wwerr.h"

#define REQ_MAX_LINE		8192	/* longest logical line accepted */
#define REQ_MAX_INCLUDE_DEPTH	16

/* The values markers are evaluated against (one build target). */
struct marker_env {
	const char *python_version;		/* "3.11" */
	const char *python_full_version;	/* "3.11.2" */
	const char *platform_machine;		/* "x86_64", "aarch64" */
	const char *sys_platform;		/* "linux" */
	const char *platform_system;		/* "Linux" */
	const char *platform_python_implementation; /* "CPython" */
	const char *platform_release;		/* "" if unknown */
	const char *platform_version;		/* "" if unknown */
	const char *implementation_name;	/* "cpython" */
	const char *implementation_version;	/* "3.11.2" */
	const char *os_name;			/* "posix" */
	const char *extra;			/* NULL: no extra requested */
};

/* Fill env for CPython X.Y.Z on Linux/arch. Strings point into storage. */
struct marker_env_storage {
	char	py[16];
	char	pyfull[32];
	char	machine[32];
};
void	 marker_env_linux(struct marker_env *env, struct marker_env_storage *st,
	    const char *python_full_version, const char *machine);

struct marker;			/* opaque parsed marker expression */

int	 marker_parse(const char *s, struct marker **out, struct wwerr *err);
void	 marker_free(struct marker *m);
/* 1 true, 0 false. */
int	 marker_evaluate(const struct marker *m, const struct marker_env *env);
/* Canonical text of the marker. Owned by m. */
const char *marker_str(const struct marker *m);

struct requirement {
	char		 *name;		/* as written */
	char		 *normalized;	/* PEP 503 normalized */
	char		**extras;	/* normalized, sorted */
	size_t		  nextras;
	struct specset	 *spec;		/* never NULL (may be empty) */
	char		 *url;		/* "name @ url" form, else NULL */
	struct marker	 *marker;	/* NULL: always applies */
	char		 *text;		/* the original line, trimmed */
};

int	 requirement_parse(const char *s, struct requirement **out,
	    struct wwerr *err);
void	 requirement_free(struct requirement *r);
/* 1 if the requirement's marker is true in env (or it has none). */
int	 requirement_applies(const struct requirement *r,
	    const struct marker_env *env);

struct reqfile_entry {
	struct requirement *req;
	char		   *file;	/* file it came from */
	unsigned	    line;	/* 1-based line where it starts */
	int		    constraint;	/* from a -c file */
};

struct reqfile {
	struct reqfile_entry *entries;
	size_t		      nentries;
};

/*
 * Load path, following -r (requirements) and -c (constraints) relative to
 * the including file. Unknown options (--index-url etc.) are errors, except
 * those listed in reqfile.c as ignorable. On error err->msg is
 * "file:line: reason".
 */
int	 reqfile_load(const char *path, struct reqfile **out, struct wwerr *err);
/* Parse from memory; name is used in error messages and for -r paths. */
int	 reqfile_parse(const char *name, const char *data, size_t len,
	    struct reqfile **out, struct wwerr *err);
void	 reqfile_free(struct reqfile *rf);

#endif
