/*
 * log.h: logging to stderr for every Wheelwright program (OpenBSD style).
 * log_warn appends strerror(errno); log_warnx does not. fatal() is for
 * start-up failures and broken invariants only.
 */
#ifndef WW_LOG_H
#define WW_LOG_H

#include <stdarg.h>

#define WW_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *progname, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *fmt, ...) WW_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) WW_PRINTF(1, 2);
void	log_info(const char *fmt, ...) WW_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) WW_PRINTF(1, 2);
void	vlog(int pri, const char *fmt, va_list ap);
__attribute__((noreturn)) void fatal(const char *fmt, ...) WW_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) WW_PRINTF(1, 2);

#endif
