/* Login, logout, who am I, password change: the routes that hand out or
 * renew the session cookie and the CSRF token (docs/openapi.yaml,
 * "Authentication"). Failed logins count against the client address. */
#ifndef GPUAAS_WEB_SESSION_H
#define GPUAAS_WEB_SESSION_H

#include <microhttpd.h>

struct request;
struct reply;

/* Login throttle per client address: 429 while it waits. */
int session_login_before(struct request *r, enum MHD_Result *ret);
/* Counts a refused password against the client address. */
void session_login_failed(struct request *r, const struct reply *rep);
/* {token, expires_at, user, csrf_token} and the cookie. */
enum MHD_Result session_login_finish(struct request *r, const struct reply *rep);
/* whoami plus csrf_token. */
enum MHD_Result session_me_finish(struct request *r, const struct reply *rep);
/* The new token, its csrf_token, and a new cookie for a cookie session. */
enum MHD_Result session_password_finish(struct request *r, const struct reply *rep);
/* POST /api/v1/logout: clears the cookie (204). */
enum MHD_Result session_logout(struct request *r);

#endif
