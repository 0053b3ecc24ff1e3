/*
 * requirement.h: PEP 508 dependency specifiers and environment markers,
 * and pip-style requirements files (comments, line continuations, -r and -c
 * includes). Errors carry file:line.
 *
 * Requirement lines are parsed exactly as Python's packaging 23.0
 * (packaging.requirements.Requirement) parses them, quirks included: the
 * same token rules (so "foo>=1," and "foo_" are accepted, "foo-" is not),
 * the same URL checks for "name @ url", Python string-literal escapes in
 * quoted marker values. Deliberate differences, mostly where packaging
 * 23.0 raises an unexpected exception or prints text that does not
 * re-parse to the same meaning:
 *  - marker_parse() requires the whole string to be a marker (packaging's
 *    Marker() silently ignores trailing garbage);
 *  - quoted values may not contain NUL, lone surrogates or \N{...}
 *    escapes;
 *  - "extra" values are normalized (PEP 685) in every comparison, not only
 *    in the first one;
 *  - canonical text always re-parses to the same meaning: redundant
 *    parentheses are dropped but needed ones never are, and a value is
 *    quoted or escaped differently only where packaging's text would not
 *    read back as the same value;
 *  - marker evaluation follows PEP 508 where packaging 23.0 raises: if the
 *    left side is not a valid version, <, <=, ==, !=, >=, > compare as
 *    strings; "===" compares the strings case-insensitively; "~=" on a
 *    non-version is an undefined comparison (an error). Two literals, or
 *    two variables, compare their values (packaging looks the literal up
 *    as a variable name);
 *  - input is bytes: every byte >= 0x80 counts as a word character for the
 *    grammar's \b (Python asks Unicode), and non-ASCII URL hosts are not
 *    NFKC-checked as urllib does.
 * tests/it_pep508_differential.py checks all of this against packaging.
 */
#ifndef WW_REQUIREMENT_H
#define WW_REQUIREMENT_H

#include <stddef.h>

#include "specifier.h"
#include "wwerr.h"

#define REQ_MAX_LINE		8192	/* longest logical line accepted */
#define REQ_MAX_INCLUDE_DEPTH	16
#define REQ_MAX_FILE		(16u << 20)	/* one requirements file */
#define REQ_MAX_TOTAL		(64u << 20)	/* all files of one load */
#define MARKER_MAX_DEPTH	64	/* nested parentheses in a marker */

/* err->code values set by this module. */
enum req_err {
	REQ_ERR_SYNTAX = 1,	/* not PEP 508 */
	REQ_ERR_URL,		/* "name @ url" with an unusable URL */
	REQ_ERR_SPECIFIER,	/* version specifier rejected */
	REQ_ERR_MARKER,		/* marker syntax */
	REQ_ERR_TOO_LONG,	/* line over REQ_MAX_LINE, nesting too deep */
	REQ_ERR_UNDEFINED,	/* marker comparison has no defined result */
	REQ_ERR_IO,		/* cannot read a file */
	REQ_ERR_TOO_LARGE,	/* file over REQ_MAX_FILE / REQ_MAX_TOTAL */
	REQ_ERR_ENCODING,	/* NUL byte or invalid UTF-8 in a file */
	REQ_ERR_INCLUDE,	/* -r/-c: depth, cycle, remote file */
	REQ_ERR_OPTION,		/* option unknown, unsupported or malformed */
	REQ_ERR_HASH,		/* --hash malformed or weak; --require-hashes */
	REQ_ERR_CONSTRAINT,	/* constraint with extras */
	REQ_ERR_NOMEM
};

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

/*
 * Fill env for CPython X.Y.Z on Linux/arch. Strings point into storage.
 * python_version is the first two components of python_full_version;
 * machine "amd64" and "arm64" are taken as "x86_64" and "aarch64" (the
 * names Linux reports). NULL members of env are read as "".
 */
struct marker_env_storage {
	char	py[16];
	char	pyfull[32];
	char	machine[32];
};
void	 marker_env_linux(struct marker_env *env, struct marker_env_storage *st,
	    const char *python_full_version, const char *machine);

struct marker;			/* opaque parsed marker expression */

/* The whole of s must be a marker expression. */
int	 marker_parse(const char *s, struct marker **out, struct wwerr *err);
void	 marker_free(struct marker *m);
/* 1 true, 0 false. An undefined comparison counts as false. */
int	 marker_evaluate(const struct marker *m, const struct marker_env *env);
/*
 * 1 true, 0 false, -1 (REQ_ERR_UNDEFINED) if any comparison in the marker
 * has no defined result, e.g. platform_machine ~= "x86": like packaging,
 * every comparison is evaluated, so the error does not depend on order.
 */
int	 marker_eval(const struct marker *m, const struct marker_env *env,
	    struct wwerr *err);
/* Canonical text of the marker. Owned by m. */
const char *marker_str(const struct marker *m);

struct requirement {
	char		 *name;		/* as written */
	char		 *normalized;	/* PEP 503 normalized */
	char		**extras;	/* normalized, sorted, unique */
	size_t		  nextras;
	struct specset	 *spec;		/* never NULL (may be empty) */
	char		 *url;		/* "name @ url" form, else NULL */
	struct marker	 *marker;	/* NULL: always applies */
	char		 *text;		/* the original line, trimmed */
	char		 *canonical;	/* see requirement_str() */
};

/* s is one requirement; at most REQ_MAX_LINE bytes. */
int	 requirement_parse(const char *s, struct requirement **out,
	    struct wwerr *err);
void	 requirement_free(struct requirement *r);
/* 1 if the requirement's marker is true in env (or it has none). */
int	 requirement_applies(const struct requirement *r,
	    const struct marker_env *env);
/*
 * Canonical text: name as written, normalized extras, the canonical
 * specifier set, " @ url", then "; marker" (" ; marker" after a URL).
 * Parsing it gives the same canonical text again. Owned by r.
 */
const char *requirement_str(const struct requirement *r);

struct reqfile_entry {
	struct requirement *req;
	char		   *file;	/* file it came from */
	unsigned	    line;	/* 1-based line where it starts */
	int		    constraint;	/* from a -c file */
	char		  **hashes;	/* --hash values, "sha256:<hex>" */
	size_t		    nhashes;
};

struct reqfile {
	struct reqfile_entry *entries;
	size_t		      nentries;
	int		      pre;		/* --pre: allow pre-releases */
	int		      require_hashes;	/* --require-hashes given */
};

/*
 * Load path, following -r (requirements) and -c (constraints) relative to
 * the including file. On error err->msg is "file:line: reason" (plus
 * "(included from file:line)" for nested files).
 *
 * The format is pip's: "#" starts a comment at the start of a line or
 * after whitespace (so "pkg @ https://host/f.whl#sha256=..." keeps its
 * fragment); a line ending in "\" continues on the next; a requirement
 * line is split from its options at the first space-separated word that
 * starts with "-", and options are split like a POSIX shell. A UTF-8 BOM is
 * skipped; NUL bytes and invalid UTF-8 are errors; lines over REQ_MAX_LINE
 * and files over REQ_MAX_FILE are errors. ${VAR} is NOT expanded.
 *
 * Options:
 *  -r/--requirement F, -c/--constraint F   include F (relative to this
 *      file's directory; "-rF", "--requirement=F" also work). As in pip,
 *      -c makes the included entries constraints and -r includes
 *      requirements, even inside a constraints file. Includes nest at
 *      most REQ_MAX_INCLUDE_DEPTH deep; a file including itself (directly
 *      or not) is an error, not an endless loop; remote (URL) includes and
 *      non-regular files (a FIFO would block) are refused. Constraints may
 *      not have extras (pip refuses them too).
 *  --hash=ALG:HEX (after a requirement, repeatable)   stored on the
 *      entry, hex lowercased. ALG is sha256, sha384 or sha512; md5, sha1
 *      and sha224 are refused as weak.
 *  --require-hashes   every requirement (not constraint) must then have a
 *      --hash and be pinned with == (no wildcard) or ===, as pip demands.
 *  --pre   sets reqfile.pre.
 *  --prefer-binary, --only-binary, --no-binary, --use-feature   ignored:
 *      they choose between wheels and sdists at pip install time, and a
 *      builder always builds from the sdist.
 *  Refused with an error naming the option: -i/--index-url,
 *      --extra-index-url, --no-index, -f/--find-links, --trusted-host
 *      (upstream indexes are set in builderd's config, and silently using
 *      another index than the file names would be worse); -e/--editable;
 *      --global-option, --install-option, --config-settings (per-package
 *      build options are not supported); anything unknown. Bare paths or
 *      URLs without "name @" are refused as not PEP 508.
 * Duplicate names are kept as separate entries; merging is the caller's.
 */
int	 reqfile_load(const char *path, struct reqfile **out,
	    struct wwerr *err);
/* Parse from memory; name is used in error messages and for -r paths. */
int	 reqfile_parse(const char *name, const char *data, size_t len,
	    struct reqfile **out, struct wwerr *err);
void	 reqfile_free(struct reqfile *rf);

#endif
