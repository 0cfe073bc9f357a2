#include "gpuaasd/auth.h"

#include <cjson/cJSON.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"

static int random_bytes(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = getrandom((char *)buf + got, len - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int auth_key_load(const char *state_dir, struct auth_key *key, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/jwt.key", state_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		unsigned char fresh[AUTH_KEY_LEN];
		if (random_bytes(fresh, sizeof fresh) < 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (wfd < 0 || write(wfd, fresh, sizeof fresh) != (ssize_t)sizeof fresh || fsync(wfd) < 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			if (wfd >= 0)
				close(wfd);
			unlink(tmp);
			return -1;
		}
		close(wfd);
		/* link() fails if another process created the key meanwhile. */
		if (link(tmp, path) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			unlink(tmp);
			return -1;
		}
		unlink(tmp);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != AUTH_KEY_LEN) {
		close(fd);
		snprintf(err, errlen, "%s must be a regular file of exactly %d bytes", path, AUTH_KEY_LEN);
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(err, errlen, "%s is readable by others (mode %03o); run chmod 600 on it", path,
			(unsigned)(st.st_mode & 0777));
		return -1;
	}
	ssize_t n = read(fd, key->bytes, AUTH_KEY_LEN);
	close(fd);
	if (n != AUTH_KEY_LEN) {
		snprintf(err, errlen, "cannot read %s", path);
		return -1;
	}
	return 0;
}

int auth_token_issue(const struct auth_key *key, const struct token_claims *c, char **out)
{
	jwt_t *jwt = NULL;
	char *tok = NULL;
	int result = -1;
	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grant(jwt, "sub", c->username) != 0 || jwt_add_grant_int(jwt, "uid", (long)c->uid) != 0 ||
	    jwt_add_grant_int(jwt, "tv", (long)c->token_version) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 || jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0 ||
	    jwt_add_grant(jwt, "iss", "gpuaasd") != 0)
		goto out;
	/* If the algorithm were not set, libjwt would emit an unsigned token. */
	if (jwt_set_alg(jwt, JWT_ALG_HS256, key->bytes, AUTH_KEY_LEN) != 0)
		goto out;
	tok = jwt_encode_str(jwt);
	if (!tok)
		goto out;
	const char *dot = strrchr(tok, '.');
	if (!dot || dot[1] == '\0')
		goto out; /* no signature segment: never hand that out */
	*out = tok;
	tok = NULL;
	result = 0;
out:
	free(tok);
	jwt_free(jwt);
	return result;
}

static bool claim_int(const cJSON *obj, const char *name, int64_t min, int64_t *out)
{
	return json_get_int(obj, name, min, JSON_INT_MAX, out) == JSON_FIELD_OK;
}

bool auth_claims_current(const struct token_claims *claims, int64_t now, const char **why)
{
	/* libjwt 1.10 checks no time claims at all. Allow 60 s of clock skew
	 * for iat; exp is exact. */
	if (claims->exp <= now) {
		*why = "token expired: run `gpuctl login`";
		return false;
	}
	if (claims->iat > now + 60) {
		*why = "token issued in the future";
		return false;
	}
	*why = NULL;
	return true;
}

enum status auth_token_verify(const struct auth_key *key, const char *token, int64_t now,
	struct token_claims *claims, const char **why)
{
	jwt_t *jwt = NULL;
	char *grants = NULL;
	cJSON *obj = NULL;
	enum status st = ST_UNAUTHENTICATED;
	*why = "invalid token";
	size_t len = token ? strlen(token) : 0;
	/* libjwt allocas the token length: cap it before the call. */
	if (len == 0 || len > AUTH_TOKEN_MAX)
		goto out;
	int dots = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = token[i];
		if (ch == '.')
			dots++;
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			     ch == '-' || ch == '_'))
			goto out;
	}
	if (dots != 2 || token[len - 1] == '.')
		goto out;
	/* Never without our key: with an empty key libjwt accepts anything. */
	if (jwt_decode(&jwt, token, key->bytes, AUTH_KEY_LEN) != 0 || !jwt)
		goto out;
	/* libjwt takes the algorithm from the header: pin it. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants)
		goto out;
	obj = cJSON_Parse(grants);
	const char *sub = NULL;
	if (!cJSON_IsObject(obj) || json_get_str(obj, "sub", 32, true, &sub) != JSON_FIELD_OK ||
	    !claim_int(obj, "uid", 1, &claims->uid) || !claim_int(obj, "tv", 0, &claims->token_version) ||
	    !claim_int(obj, "iat", 0, &claims->iat) || !claim_int(obj, "exp", 1, &claims->exp)) {
		*why = "malformed token claims";
		goto out;
	}
	snprintf(claims->username, sizeof claims->username, "%s", sub);
	if (auth_claims_current(claims, now, why))
		st = ST_OK;
out:
	cJSON_Delete(obj);
	free(grants);
	jwt_free(jwt);
	return st;
}

bool auth_password_acceptable(const char *pw, const char **why)
{
	size_t len = pw ? strlen(pw) : 0;
	if (len == 0) {
		*why = "password must not be empty";
		return false;
	}
	if (len > AUTH_PASSWORD_MAX) {
		*why = "password longer than 72 bytes (bcrypt would ignore the rest)";
		return false;
	}
	if (!utf8_valid(pw, len)) {
		*why = "password is not valid UTF-8";
		return false;
	}
	return true;
}

bool auth_username_valid(const char *name)
{
	if (!name || !*name || strlen(name) > 32)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (const char *p = name + 1; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int auth_hash_password(const char *pw, int cost, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = NULL;
	int result = -1;
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof setting))
		goto out;
	data = calloc(1, sizeof *data); /* 32 KiB: not on the stack */
	if (!data)
		goto out;
	const char *h = crypt_rn(pw, setting, data, sizeof *data);
	if (!h || h[0] == '*' || strncmp(h, "$2b$", 4) != 0 || strlen(h) >= outlen)
		goto out;
	strcpy(out, h);
	result = 0;
out:
	if (data)
		explicit_bzero(data, sizeof *data);
	free(data);
	return result;
}

bool auth_hash_sound(const char *stored)
{
	return stored && strncmp(stored, "$2b$", 4) == 0 && strlen(stored) == 60 &&
		crypt_checksalt(stored) == CRYPT_SALT_OK;
}

int auth_verify_password(const char *pw, const char *stored)
{
	/* A damaged hash would make crypt fall back to DES: never verify one. */
	if (!auth_hash_sound(stored))
		return 0;
	struct crypt_data *data = calloc(1, sizeof *data);
	if (!data)
		return -1;
	int result = -1;
	const char *h = crypt_rn(pw, stored, data, sizeof *data);
	if (h && h[0] != '*') {
		size_t a = strlen(h), b = strlen(stored);
		unsigned char diff = (unsigned char)(a != b);
		for (size_t i = 0; i < a && i < b; i++)
			diff |= (unsigned char)(h[i] ^ stored[i]);
		result = diff == 0;
	}
	explicit_bzero(data, sizeof *data);
	free(data);
	return result;
}

int auth_random_password(char *buf, size_t len)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	const size_t n = sizeof alphabet - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char b;
		do {
			if (random_bytes(&b, 1) < 0)
				return -1;
		} while (b >= 256 - 256 % n); /* no modulo bias */
		buf[i] = alphabet[b % n];
	}
	buf[len] = '\0';
	return 0;
}
