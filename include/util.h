/*
 * util.h: small helpers used everywhere: bounded number parsing (instead of
 * atoi), UTC time in microseconds, atomic file writes and directory fsync.
 */
#ifndef WW_UTIL_H
#define WW_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define WW_ARRLEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a whole decimal string into [min,max]. 0 on success, -1 otherwise. */
int	 util_parse_u64(const char *s, uint64_t max, uint64_t *out);
int	 util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Sizes with optional K/M/G suffix (powers of 1024), e.g. "64M". */
int	 util_parse_size(const char *s, uint64_t *out);

/* Microseconds since the epoch, UTC. */
int64_t	 util_now_us(void);
/* "2026-11-25T21:30:24.123456Z" (RFC 3339, microseconds). */
void	 util_format_time_us(int64_t us, char *out, size_t outlen);

/* mkdir -p with the given mode; 0 or -1 (errno set). */
int	 util_mkdirs(const char *path, int mode);
/* fsync the directory containing path (or path itself if a directory). */
int	 util_fsync_dir(const char *dir);
/*
 * Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync the directory. Never leaves a partial file at path.
 */
int	 util_write_atomic(const char *path, const void *data, size_t len);
/*
 * Open root/rel without following a symlink in any component of rel
 * (root itself is opened as given): every directory of rel is opened
 * with O_NOFOLLOW relative to the one before, so a path swapped for a
 * symlink meanwhile fails with ELOOP instead of leading elsewhere.
 * flags are open(2) flags for the last component (O_RDONLY, O_NONBLOCK,
 * ...); O_NOFOLLOW and O_CLOEXEC are added. Returns the fd or -1.
 */
int	 util_open_beneath(const char *root, const char *rel, int flags);
/* write(2) all of data, retrying short writes and EINTR; 0 or -1. */
int	 util_write_all(int fd, const void *data, size_t len);
/* Read a whole file, refusing more than max bytes. NUL-terminated. */
int	 util_read_file(const char *path, size_t max, char **out, size_t *outlen);

/*
 * Quote untrusted input for an error message: printable ASCII kept
 * (except backslash and quote), the rest as \xNN, and "..." when out
 * is too small for all of it.
 */
void	 util_quote(const char *s, size_t len, char *out, size_t outlen);
/*
 * Make s valid UTF-8 in place: every byte of an invalid, overlong,
 * surrogate or out-of-range sequence becomes '?'. Text from builds and
 * the network must be JSON-safe before it is stored. Returns how many
 * bytes were replaced.
 */
size_t	 util_utf8_scrub(char *s);
/*
 * s as a JSON string (a jansson json_t): null for NULL, and text that is
 * not valid UTF-8 (build output, rows from older versions) scrubbed as by
 * util_utf8_scrub, because json_string() refuses it and a JSON document
 * must never carry it. NULL only when out of memory.
 */
struct json_t;
struct json_t *util_json_text(const char *s);
/* Does s[0..len) end with suffix? */
int	 util_has_suffix(const char *s, size_t len, const char *suffix);
/* The part of path after its last '/' (path itself if none). */
const char *util_base_name(const char *path);

/* Constant-time memory comparison for secrets; 0 when equal. */
int	 util_ct_memcmp(const void *a, const void *b, size_t len);

/* strlcpy/strlcat (not in glibc 2.36): return strlen(src) (+ dst). */
size_t	 util_strlcpy(char *dst, const char *src, size_t dsize);
size_t	 util_strlcat(char *dst, const char *src, size_t dsize);

#endif
