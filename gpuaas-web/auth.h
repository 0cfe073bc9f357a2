/* Who the caller is, as far as the gateway needs to know: the token it
 * presents (checked by gpuaasd, never here), from "Authorization: Bearer"
 * or the session cookie. A cookie-authenticated change must carry
 * X-CSRF-Token: a SHA-256 of the session token, so the gateway keeps no
 * state and no key of its own, and a page on another site, which can make
 * the browser send the cookie but cannot read it, cannot forge it. */
#ifndef GPUAAS_WEB_AUTH_H
#define GPUAAS_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct request;

#define AUTH_COOKIE "gpuaas_session"
#define AUTH_TOKEN_MAX 4096
#define AUTH_CSRF_LEN 64

enum auth_result { AUTH_NONE, AUTH_OK, AUTH_MALFORMED };

/* Finds the caller's token: a Bearer header wins over the cookie. On
 * AUTH_OK r->token and r->cookie_auth are set. */
enum auth_result auth_find(struct request *r);
/* True when s could be a token (JWT characters, 1 to AUTH_TOKEN_MAX bytes). */
bool auth_token_well_formed(const char *s, size_t len);
/* The CSRF token of a session token: AUTH_CSRF_LEN hex digits and a NUL.
 * 0, or -1 when hashing failed. */
int auth_csrf(const char *token, size_t len, char out[AUTH_CSRF_LEN + 1]);
/* True when the request's X-CSRF-Token matches its session token. */
bool auth_csrf_ok(const struct request *r);
/* Constant-time comparison of two strings. */
bool auth_equal(const char *a, const char *b);
/* The Set-Cookie value holding token for max_age seconds (0: clears it). */
void auth_cookie(char *buf, size_t size, const char *token, size_t len, int64_t max_age, bool secure);

#endif
