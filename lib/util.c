/* util.c: bounded parsing, time, atomic writes; see util.h. */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

int
util_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
util_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n;
	uint64_t v, mul = 1;

	if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mul = 1024ULL; break;
	case 'm': case 'M': mul = 1024ULL * 1024; break;
	case 'g': case 'G': mul = 1024ULL * 1024 * 1024; break;
	default: break;
	}
	if (mul != 1)
		num[n - 1] = '\0';
	if (util_parse_u64(num, UINT64_MAX / mul, &v) == -1)
		return -1;
	*out = v * mul;
	return 0;
}

int64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
util_format_time_us(int64_t us, char *out, size_t outlen)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%06lldZ", base, (long long)(us % 1000000));
}

int
util_mkdirs(const char *path, int mode)
{
	char tmp[PATH_MAX], *p;
	size_t n;

	n = util_strlcpy(tmp, path, sizeof(tmp));
	if (n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
util_fsync_dir(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int fd, rc;

	if (util_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		if ((slash = strrchr(dir, '/')) == NULL)
			util_strlcpy(dir, ".", sizeof(dir));
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
util_open_beneath(const char *root, const char *rel, int flags)
{
	char buf[PATH_MAX], *comp, *next;
	struct stat st;
	int dfd, nfd, saved;

	if (util_strlcpy(buf, rel, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (comp = buf; *comp == '/'; comp++)
		;
	for (;;) {
		if ((next = strchr(comp, '/')) == NULL)
			break;
		*next++ = '\0';
		while (*next == '/')
			next++;
		if (*next == '\0')
			break;		/* "dir/": open dir itself last */
		if (strcmp(comp, "..") == 0)
			goto einval;
		if (*comp != '\0' && strcmp(comp, ".") != 0) {
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (nfd == -1) {
				/* O_DIRECTORY makes Linux say ENOTDIR for a
				 * symlink: say what it is. */
				if (errno == ENOTDIR && fstatat(dfd, comp, &st,
				    AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode))
					errno = ELOOP;
				goto fail;
			}
			close(dfd);
			dfd = nfd;
		}
		comp = next;
	}
	if (*comp == '\0' || strcmp(comp, "..") == 0)
		goto einval;
	nfd = openat(dfd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
	if (nfd == -1)
		goto fail;
	close(dfd);
	return nfd;
einval:
	errno = EINVAL;
fail:
	saved = errno;
	close(dfd);
	errno = saved;
	return -1;
}

int
util_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
util_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (util_write_all(fd, data, len) == -1 || fchmod(fd, 0644) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return util_fsync_dir(path);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
util_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		r = read(fd, data + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	data[len] = '\0';
	close(fd);
	*out = data;
	if (outlen)
		*outlen = len;
	return 0;
fail:
	free(data);
	close(fd);
	return -1;
}

void
util_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

size_t
util_utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n, bad = 0;

	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0) {
			*p++ = '?';
			bad++;
		} else
			p += n;
	}
	return bad;
}

json_t *
util_json_text(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((c = strdup(s)) == NULL)
		return NULL;
	util_utf8_scrub(c);
	j = json_string(c);
	free(c);
	return j;
}

int
util_has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

const char *
util_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

int
util_ct_memcmp(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

size_t
util_strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t n = strlen(src);

	if (dsize) {
		size_t c = n < dsize - 1 ? n : dsize - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t
util_strlcat(char *dst, const char *src, size_t dsize)
{
	size_t d = strnlen(dst, dsize);

	if (d == dsize)
		return d + strlen(src);
	return d + util_strlcpy(dst + d, src, dsize - d);
}
