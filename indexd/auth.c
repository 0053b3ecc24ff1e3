/*
 * auth.c: Basic auth for API tokens. The secret never leaves this stack
 * frame except into the catalog's hash-and-compare, and is wiped after.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "hash.h"
#include "indexd_auth.h"
#include "util.h"

int
auth_parse_basic(const char *h, char *user, size_t userlen, char *pass,
    size_t passlen)
{
	unsigned char dec[1024];
	const char *p, *e;
	size_t n, ulen;
	unsigned char *colon;

	if (h == NULL)
		return -1;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
		return -1;
	p = h + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (hash_b64_decode(p, (size_t)(e - p), dec, sizeof(dec) - 1,
	    &n) == -1)
		return -1;
	dec[n] = '\0';
	if (memchr(dec, '\0', n) != NULL ||
	    (colon = memchr(dec, ':', n)) == NULL) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return -1;
	}
	ulen = (size_t)(colon - dec);
	if (ulen >= userlen || n - ulen - 1 >= passlen) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return -1;
	}
	memcpy(user, dec, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, n - ulen - 1);
	pass[n - ulen - 1] = '\0';
	OPENSSL_cleanse(dec, sizeof(dec));
	return 0;
}

static void
deny(struct auth_result *r, int status, const char *reason)
{
	r->status = status;
	util_strlcpy(r->reason, reason, sizeof(r->reason));
}

int
auth_check(struct catalog *c, const char *authorization, unsigned scopes,
    struct auth_result *r, struct wwerr *err)
{
	char user[128], secret[AUTH_MAX_SECRET];
	struct catalog_token tok;
	int rc;

	memset(r, 0, sizeof(*r));
	if (authorization == NULL) {
		deny(r, 401, "authentication required: use username __token__ "
		    "and an API token as the password");
		return 0;
	}
	if (auth_parse_basic(authorization, user, sizeof(user), secret,
	    sizeof(secret)) == -1) {
		deny(r, 401, "malformed Authorization header: expected Basic "
		    "credentials");
		return 0;
	}
	if (strcmp(user, AUTH_TOKEN_USER) != 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		deny(r, 403, "invalid credentials: the username must be "
		    "__token__ and the password an API token");
		return 0;
	}
	memset(&tok, 0, sizeof(tok));
	rc = catalog_token_check(c, secret, &tok, err);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc == -1)
		return -1;
	if (rc == 1) {
		deny(r, 403, "invalid or non-existent API token");
		return 0;
	}
	if (rc == 2) {
		util_strlcpy(r->token_name, tok.name ? tok.name : "",
		    sizeof(r->token_name));
		catalog_token_free(&tok);
		deny(r, 403, "API token has been revoked");
		return 0;
	}
	util_strlcpy(r->token_name, tok.name ? tok.name : "",
	    sizeof(r->token_name));
	util_strlcpy(r->project, tok.project ? tok.project : "",
	    sizeof(r->project));
	r->scope = tok.scope;
	catalog_token_free(&tok);
	if ((scopes & (1u << r->scope)) == 0) {
		char why[160];
		snprintf(why, sizeof(why), "API token scope \"%s\" does not "
		    "allow this", token_scope_name(r->scope));
		deny(r, 403, why);
		return 0;
	}
	r->status = 0;
	return 0;
}
