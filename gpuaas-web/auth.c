#include "gpuaas-web/auth.h"

#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gpuaas-web/request.h"

bool auth_token_well_formed(const char *s, size_t len)
{
	if (len == 0 || len > AUTH_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_' || c == '.'))
			return false;
	}
	return true;
}

enum auth_result auth_find(struct request *r)
{
	const char *h = request_header(r, "Authorization");
	r->token = NULL;
	r->cookie_auth = false;
	if (h) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return AUTH_MALFORMED;
		h += 7;
		while (*h == ' ')
			h++;
		if (!auth_token_well_formed(h, strlen(h)))
			return AUTH_MALFORMED;
		r->token = h;
		return AUTH_OK;
	}
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, AUTH_COOKIE);
	if (!c || !*c)
		return AUTH_NONE;
	if (!auth_token_well_formed(c, strlen(c)))
		return AUTH_MALFORMED;
	r->token = c;
	r->cookie_auth = true;
	return AUTH_OK;
}

int auth_csrf(const char *token, size_t len, char out[AUTH_CSRF_LEN + 1])
{
	static const char domain[] = "gpuaas-csrf-v1:";
	unsigned char digest[32];
	gnutls_hash_hd_t h;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	int rc = gnutls_hash(h, domain, sizeof domain - 1);
	if (rc >= 0)
		rc = gnutls_hash(h, token, len);
	gnutls_hash_deinit(h, digest);
	if (rc < 0)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

bool auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0 && lb > 0;
}

bool auth_csrf_ok(const struct request *r)
{
	const char *given = request_header(r, "X-CSRF-Token");
	char want[AUTH_CSRF_LEN + 1];
	if (!given || !r->token || auth_csrf(r->token, strlen(r->token), want) < 0)
		return false;
	return auth_equal(given, want);
}

void auth_cookie(char *buf, size_t size, const char *token, size_t len, int64_t max_age, bool secure)
{
	snprintf(buf, size, "%s=%.*s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", AUTH_COOKIE, (int)len,
		token ? token : "", (long long)(max_age > 0 ? max_age : 0), secure ? "; Secure" : "");
}
