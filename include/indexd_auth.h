/*
 * indexd_auth.h: HTTP Basic credentials carrying API tokens (username
 * "__token__", as on PyPI), checked against the catalog, which stores only
 * token hashes and compares them in constant time.
 */
#ifndef WW_INDEXD_AUTH_H
#define WW_INDEXD_AUTH_H

#include <stddef.h>

#include "catalog.h"

#define AUTH_TOKEN_USER		"__token__"
#define AUTH_MAX_SECRET		512

/*
 * Parse an Authorization header "Basic base64(user:password)".
 * 0 and user/pass filled, or -1 if absent or malformed.
 */
int	 auth_parse_basic(const char *header, char *user, size_t userlen,
	    char *pass, size_t passlen);

struct auth_result {
	int	 status;	/* 0 ok, else 401 or 403 */
	char	 reason[160];	/* for the response */
	char	 token_name[128];
	char	 project[256];	/* "" if the token is not project-bound */
	enum token_scope scope;
};

/*
 * Check a request's Authorization header for a token with one of the
 * scopes in `scopes` (bit (1 << scope)). Returns 0 (r->status says
 * whether access is granted) or -1 on a catalog error.
 */
int	 auth_check(struct catalog *c, const char *authorization,
	    unsigned scopes, struct auth_result *r, struct wwerr *err);

#endif
