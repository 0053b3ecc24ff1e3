/*
 * accesslog.c: combined-format access log. Strings from the client are
 * escaped like nginx does ("\x22" for quotes, \xHH for non-printables) so
 * that a hostile User-Agent cannot forge log lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "indexd_accesslog.h"
#include "log.h"
#include "util.h"

struct accesslog {
	int	 fd;		/* -1: disabled */
	int	 owned;		/* we opened it (not stdout) */
	char	 path[1024];
};

static int
open_log(const char *path, int *fd, int *owned, struct wwerr *err)
{
	if (!strcmp(path, "-")) {
		*fd = -1;
		*owned = 0;
		return 0;
	}
	if (path[0] == '\0') {
		*fd = STDOUT_FILENO;
		*owned = 0;
		return 0;
	}
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (*fd == -1)
		return wwerr_set(err, errno, "access log %s: %s", path,
		    strerror(errno));
	*owned = 1;
	return 0;
}

int
accesslog_open(const char *path, struct accesslog **out, struct wwerr *err)
{
	struct accesslog *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return wwerr_set(err, ENOMEM, "out of memory");
	if (open_log(path, &a->fd, &a->owned, err) == -1) {
		free(a);
		return -1;
	}
	util_strlcpy(a->path, path, sizeof(a->path));
	*out = a;
	return 0;
}

int
accesslog_reopen(struct accesslog *a, const char *path, struct wwerr *err)
{
	int fd, owned;

	if (open_log(path, &fd, &owned, err) == -1)
		return -1;
	/* Switching between "off", stdout and a file needs the old fd to
	 * stay valid for writers: only file->file swaps in place. */
	if (a->owned && owned) {
		if (dup2(fd, a->fd) == -1) {
			close(fd);
			return wwerr_set(err, errno, "access log %s: dup2: %s",
			    path, strerror(errno));
		}
		close(fd);
	} else if (!a->owned && !owned && a->fd == fd) {
		/* unchanged */
	} else {
		if (owned)
			close(fd);
		return wwerr_set(err, EINVAL, "access log: switching between "
		    "a file, stdout and off needs a restart");
	}
	util_strlcpy(a->path, path, sizeof(a->path));
	return 0;
}

int
accesslog_enabled(const struct accesslog *a)
{
	return a != NULL && a->fd != -1;
}

void
accesslog_free(struct accesslog *a)
{
	if (a == NULL)
		return;
	if (a->owned)
		close(a->fd);
	free(a);
}

static int
add_escaped(struct buf *out, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	if (s == NULL || *s == '\0')
		return buf_addc(out, '-');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			rc |= buf_printf(out, "\\x%02X", *p);
		else
			rc |= buf_addc(out, (char)*p);
	}
	return rc;
}

int
accesslog_format(struct buf *out, const struct http_log_entry *e)
{
	char when[64];
	struct tm tm;
	time_t t = (time_t)(e->start_us / 1000000);
	int rc = 0;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	rc |= buf_addstr(out, e->peer ? e->peer : "-");
	rc |= buf_addstr(out, " - ");
	rc |= add_escaped(out, e->user);
	rc |= buf_printf(out, " [%s] \"", when);
	if (e->method != NULL && e->target != NULL) {
		rc |= add_escaped(out, e->method);
		rc |= buf_addc(out, ' ');
		rc |= add_escaped(out, e->target);
		if (e->version != NULL) {
			rc |= buf_addc(out, ' ');
			rc |= add_escaped(out, e->version);
		}
	} else
		rc |= buf_addc(out, '-');
	rc |= buf_printf(out, "\" %d %llu \"", e->status,
	    (unsigned long long)e->body_bytes);
	rc |= add_escaped(out, e->referer);
	rc |= buf_addstr(out, "\" \"");
	rc |= add_escaped(out, e->user_agent);
	rc |= buf_addstr(out, "\"\n");
	return rc ? -1 : 0;
}

void
accesslog_flush(struct accesslog *a, struct buf *out)
{
	const char *p = out->ptr;
	size_t left = out->len;
	ssize_t n;

	if (a != NULL && a->fd != -1) {
		while (left > 0) {
			n = write(a->fd, p, left);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				log_warn("%s: access log", __func__);
				break;
			}
			p += n;
			left -= (size_t)n;
		}
	}
	buf_reset(out);
}
