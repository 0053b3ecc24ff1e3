/*
 * coremeta.h: the RFC 822-style "Key: value" header block shared by core
 * metadata (METADATA, PKG-INFO) and a wheel's WHEEL file: continuation
 * lines, case-insensitive keys, repeated keys (Requires-Dist, Tag). The
 * body after the first blank line (the long description) is not parsed.
 */
#ifndef WW_COREMETA_H
#define WW_COREMETA_H

#include <stddef.h>

struct hdr {
	char	*key;		/* as written */
	char	*value;		/* unfolded, surrounding blanks trimmed */
	size_t	 line;		/* 1-based line of the key */
};

struct hdrs {
	struct hdr *h;
	size_t	 n;
};

/*
 * Parse the header block of data. -1 on malformed input with *why and
 * *line set (line is 1-based), or out of memory (*why "out of memory").
 */
int	 hdrs_parse(const char *data, size_t len, struct hdrs *out,
	    const char **why, size_t *line);
void	 hdrs_free(struct hdrs *hs);
/* The first value for key (case-insensitive), or NULL. */
const char *hdrs_get(const struct hdrs *hs, const char *key);
size_t	 hdrs_count(const struct hdrs *hs, const char *key);

#endif
