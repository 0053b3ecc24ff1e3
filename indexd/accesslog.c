/*
 * accesslog.c: combined-format access log. Strings from the client are
 * escaped like nginx does ("\x22" for quotes, \xHH for non-printables) so
 * that a hostile User-Agent cannot forge log lines.
 */
#include <errno.h>
#include <stdint.h>
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
safe_char(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static int
add_escaped(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p, *run;
	char esc[4] = { '\\', 'x', 0, 0 };
	int rc = 0;

	if (s == NULL || *s == '\0')
		return buf_addc(out, '-');
	for (p = (const unsigned char *)s; *p; ) {
		for (run = p; *p && safe_char(*p); p++)
			;
		rc |= buf_add(out, run, (size_t)(p - run));
		if (*p) {
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			rc |= buf_add(out, esc, 4);
			p++;
		}
	}
	return rc;
}

int
accesslog_format(struct buf *out, const struct http_log_entry *e,
    struct accesslog_clock *clk)
{
	struct accesslog_clock local;
	struct tm tm;
	int64_t sec = e->start_us / 1000000;
	time_t t = (time_t)sec;
	int rc = 0;

	if (clk == NULL) {
		clk = &local;
		clk->sec = -1;
	}
	if (clk->sec != sec) {
		localtime_r(&t, &tm);
		strftime(clk->str, sizeof(clk->str), "%d/%b/%Y:%H:%M:%S %z",
		    &tm);
		clk->sec = sec;
	}
	rc |= buf_addstr(out, e->peer ? e->peer : "-");
	rc |= buf_add(out, " - ", 3);
	rc |= add_escaped(out, e->user);
	rc |= buf_add(out, " [", 2);
	rc |= buf_addstr(out, clk->str);
	rc |= buf_add(out, "] \"", 3);
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
	rc |= buf_add(out, "\" ", 2);
	rc |= buf_add_u64(out, (uint64_t)(e->status < 0 ? 0 : e->status));
	rc |= buf_addc(out, ' ');
	rc |= buf_add_u64(out, e->body_bytes);
	rc |= buf_add(out, " \"", 2);
	rc |= add_escaped(out, e->referer);
	rc |= buf_add(out, "\" \"", 3);
	rc |= add_escaped(out, e->user_agent);
	rc |= buf_add(out, "\"\n", 2);
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
