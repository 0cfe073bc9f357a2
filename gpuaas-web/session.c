#include "gpuaas-web/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "gpuaas-web/api.h"
#include "gpuaas-web/auth.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/throttle.h"
#include "gpuaas-web/web.h"

int session_login_before(struct request *r, enum MHD_Result *ret)
{
	unsigned char key[16];
	if (request_client_key(r, key) < 0)
		return 0;
	int64_t wait = throttle_wait_ms(r->w->throttle, key, loop_now_ms());
	if (wait <= 0)
		return 0;
	int64_t secs = (wait + 999) / 1000;
	*ret = respond_error_retry(r, 429, ST_RATE_LIMITED, secs, "too many failed logins from this address; try again in %llds",
		(long long)secs);
	return 1;
}

void session_login_failed(struct request *r, const struct reply *rep)
{
	unsigned char key[16];
	if ((rep->st == ST_UNAUTHENTICATED || rep->st == ST_RATE_LIMITED) && request_client_key(r, key) == 0)
		throttle_fail(r->w->throttle, key, loop_now_ms());
}

/* data without its closing brace, then ,"csrf_token":"..." }. NULL when
 * out of memory or the token cannot be hashed. */
static char *with_csrf(const struct reply *rep, const char *token, size_t token_len, size_t *len)
{
	char csrf[AUTH_CSRF_LEN + 1];
	struct jspan d = rep->data;
	while (d.n && d.p[d.n - 1] != '}')
		d.n--;
	if (d.n < 2 || auth_csrf(token, token_len, csrf) < 0)
		return NULL;
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_add(&b, d.p, d.n - 1);
	strbuf_adds(&b, d.n > 2 ? ",\"csrf_token\":\"" : "\"csrf_token\":\"");
	strbuf_adds(&b, csrf);
	strbuf_adds(&b, "\"}");
	if (b.failed) {
		strbuf_finish(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

/* The token and its lifetime in a login or password reply. -1 when absent. */
static int token_of(const struct reply *rep, struct jspan *token, int64_t *max_age)
{
	struct jspan t, exp, e;
	char buf[40];
	int64_t at;
	if (jspan_member(rep->data, "token", &t) < 0 || jspan_plain_str(t, token) < 0 ||
	    !auth_token_well_formed(token->p, token->n))
		return -1;
	*max_age = 0;
	if (jspan_member(rep->data, "expires_at", &exp) == 0 && jspan_plain_str(exp, &e) == 0 && e.n < sizeof buf) {
		memcpy(buf, e.p, e.n);
		buf[e.n] = '\0';
		if (time_parse_rfc3339(buf, &at) == 0)
			*max_age = at - (int64_t)time(NULL);
	}
	return 0;
}

/* 200 with data + csrf_token; with set_cookie, the session cookie too. */
static enum MHD_Result reply_with_session(struct request *r, const struct reply *rep, bool set_cookie)
{
	struct jspan token;
	int64_t max_age;
	size_t len = 0;
	if (token_of(rep, &token, &max_age) < 0)
		return respond_error(r, 502, ST_UNAVAILABLE, "gpuaasd's reply has no token");
	char *body = with_csrf(rep, token.p, token.n, &len);
	if (!body)
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	char cookie[AUTH_TOKEN_MAX + 200];
	auth_cookie(cookie, sizeof cookie, token.p, token.n, max_age, r->w->tls);
	if (MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES ||
	    (set_cookie && MHD_add_response_header(resp, "Set-Cookie", cookie) != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 200, resp);
}

enum MHD_Result session_login_finish(struct request *r, const struct reply *rep)
{
	return reply_with_session(r, rep, true);
}

enum MHD_Result session_password_finish(struct request *r, const struct reply *rep)
{
	return reply_with_session(r, rep, r->cookie_auth);
}

enum MHD_Result session_me_finish(struct request *r, const struct reply *rep)
{
	size_t len = 0;
	char *body = with_csrf(rep, r->token, strlen(r->token), &len);
	if (!body)
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	return respond_json_owned(r, 200, body, len);
}

enum MHD_Result session_logout(struct request *r)
{
	/* A cookie session may only be ended by its own pages (CSRF). */
	if (auth_find(r) == AUTH_OK && r->cookie_auth && !auth_csrf_ok(r))
		return respond_error(r, 403, ST_FORBIDDEN, "logging out with the session cookie needs the X-CSRF-Token header");
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	char cookie[200];
	auth_cookie(cookie, sizeof cookie, "", 0, 0, r->w->tls);
	if (!resp || MHD_add_response_header(resp, "Set-Cookie", cookie) != MHD_YES) {
		if (resp)
			MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 204, resp);
}
