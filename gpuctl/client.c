/* The connection to gpuaasd: connect with a peer check, one request at a
 * time or pipelined. Reads and writes give up when the shell's Ctrl-C sets
 * ctl_interrupted; the connection is then closed, which ends whatever the
 * daemon had parked for it (a wait, a followed log). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/json.h"
#include "common/peer.h"
#include "gpuctl/ctl.h"

volatile sig_atomic_t ctl_interrupted;

/* Reads or writes exactly len bytes. 0, 1 on end of input before the
 * first byte, or -1 (errno set; EINTR when interrupted). */
static int full_io(int fd, char *buf, size_t len, bool writing)
{
	size_t done = 0;
	while (done < len) {
		if (ctl_interrupted) {
			errno = EINTR;
			return -1;
		}
		ssize_t n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL) : read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR && !ctl_interrupted)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return done == 0 ? 1 : -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* One frame out: header and payload in one buffer, one write. */
static int write_frame(int fd, const char *payload, size_t len)
{
	char *buf = malloc(FRAME_HEADER + len);
	if (!buf)
		return -1;
	frame_header_encode((uint8_t *)buf, (uint32_t)len);
	memcpy(buf + FRAME_HEADER, payload, len);
	int rc = full_io(fd, buf, FRAME_HEADER + len, true);
	free(buf);
	return rc == 0 ? 0 : -1;
}

/* One frame in: 0 and a malloc'd NUL-terminated payload, 1 on a clean
 * end of input, or -1 (errno: EPROTO for a bad length). */
static int read_frame(int fd, char **out, size_t *len)
{
	uint8_t hdr[FRAME_HEADER];
	int rc = full_io(fd, (char *)hdr, sizeof hdr, false);
	if (rc != 0)
		return rc;
	uint32_t n = frame_header_decode(hdr);
	if (n == 0 || n > FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	char *buf = malloc((size_t)n + 1);
	if (!buf)
		return -1;
	if (full_io(fd, buf, n, false) != 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

enum status ctl_connect(struct ctl *c)
{
	if (c->fd >= 0)
		return ST_OK;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(c->socket_path) >= sizeof addr.sun_path) {
		snprintf(c->err, sizeof c->err, "socket path too long: %s", c->socket_path);
		return ST_UNREACHABLE;
	}
	strcpy(addr.sun_path, c->socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(c->err, sizeof c->err, "socket: %s", strerror(errno));
		return ST_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		snprintf(c->err, sizeof c->err, "cannot reach gpuaasd at %s: is it running? (%s)", c->socket_path,
			strerror(errno));
		close(fd);
		return ST_UNREACHABLE;
	}
	if (!peer_trusted(fd, c->socket_path)) {
		snprintf(c->err, sizeof c->err,
			"the process at %s is not run by root, you, or the socket's owner; not talking to it",
			c->socket_path);
		close(fd);
		return ST_UNREACHABLE;
	}
	c->fd = fd;
	return ST_OK;
}

void ctl_disconnect(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Sends one request; token: the one to attach (NULL: the cached one when
 * with_token). */
static enum status send_request(struct ctl *c, const char *op, cJSON *args, bool with_token, const char *token,
	int64_t *id)
{
	enum status st = ST_OK;
	char *text = NULL;
	cJSON *req = cJSON_CreateObject();
	if (!req) {
		cJSON_Delete(args);
		snprintf(c->err, sizeof c->err, "out of memory");
		return ST_INTERNAL;
	}
	*id = ++c->next_id;
	json_add_int(req, "v", 1);
	json_add_int(req, "id", *id);
	cJSON_AddStringToObject(req, "op", op);
	if (with_token && !token) {
		if (!c->token)
			c->token = token_load(c);
		if (!c->token) {
			cJSON_Delete(args);
			st = ST_UNAUTHENTICATED;
			goto out;
		}
		token = c->token;
	}
	if (token)
		cJSON_AddStringToObject(req, "token", token);
	cJSON_AddItemToObject(req, "args", args ? args : cJSON_CreateObject());
	text = cJSON_PrintUnformatted(req);
	if (!text) {
		snprintf(c->err, sizeof c->err, "out of memory");
		st = ST_INTERNAL;
		goto out;
	}
	size_t len = strlen(text);
	if (len > FRAME_MAX) {
		snprintf(c->err, sizeof c->err, "request too large (%zu bytes; the limit is 1 MiB)", len);
		st = ST_USAGE;
		goto out;
	}
	if ((st = ctl_connect(c)) != ST_OK)
		goto out;
	if (write_frame(c->fd, text, len) < 0) {
		snprintf(c->err, sizeof c->err, "lost the connection to gpuaasd at %s: %s", c->socket_path,
			strerror(errno));
		ctl_disconnect(c);
		st = ST_UNREACHABLE;
	}
out:
	free(text);
	cJSON_Delete(req);
	return st;
}

static enum status read_reply(struct ctl *c, int64_t want_id, cJSON **data, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_frame(c->fd, &buf, &len);
	if (rc != 0) {
		snprintf(err, errlen, "lost the connection to gpuaasd at %s%s%s", c->socket_path, rc < 0 ? ": " : "",
			rc < 0 ? strerror(errno) : " (closed)");
		ctl_disconnect(c);
		return ST_UNREACHABLE;
	}
	cJSON *reply = json_parse_strict(buf, len);
	free(buf);
	enum status st = ST_INTERNAL;
	if (!cJSON_IsObject(reply)) {
		snprintf(err, errlen, "malformed reply from gpuaasd");
		goto out;
	}
	int64_t id = 0;
	if (json_get_int(reply, "id", -JSON_INT_MAX, JSON_INT_MAX, &id) == JSON_FIELD_OK && id != want_id) {
		snprintf(err, errlen, "reply out of order from gpuaasd");
		goto out;
	}
	cJSON *ok = json_get(reply, "ok");
	if (cJSON_IsTrue(ok)) {
		if (data) {
			*data = cJSON_DetachItemFromObjectCaseSensitive(reply, "data");
			if (!*data)
				*data = cJSON_CreateObject();
		}
		st = ST_OK;
		goto out;
	}
	cJSON *e = json_get(reply, "error");
	const char *code = jstr(e, "code");
	const char *msg = jstr(e, "message");
	st = status_from_code(code);
	if (st == ST_OK)
		st = ST_INTERNAL;
	snprintf(err, errlen, "%s", *msg ? msg : status_message(st));
	/* A protocol-level error closes the connection on the daemon's side. */
	if (st == ST_BAD_FRAME)
		ctl_disconnect(c);
out:
	cJSON_Delete(reply);
	return st;
}

/* "{"id":N,"ok":true,"data":" -> offset of the data, or 0. */
static size_t ok_prefix(const char *buf, size_t len, int64_t want_id)
{
	char head[64];
	int n = snprintf(head, sizeof head, "{\"id\":%lld,\"ok\":true,\"data\":", (long long)want_id);
	if (n < 0 || (size_t)n >= len || memcmp(buf, head, (size_t)n) != 0 || buf[len - 1] != '}')
		return 0;
	return (size_t)n;
}

enum status ctl_send(struct ctl *c, const char *op, cJSON *args, int64_t *id)
{
	return send_request(c, op, args, true, NULL, id);
}

enum status ctl_call_text(struct ctl *c, const char *op, cJSON *args, char **text, size_t *len)
{
	*text = NULL;
	int64_t id;
	enum status st = send_request(c, op, args, true, NULL, &id);
	return st == ST_OK ? ctl_read_text(c, id, text, len) : st;
}

enum status ctl_read_text(struct ctl *c, int64_t id, char **text, size_t *len)
{
	*text = NULL;
	enum status st;
	char *buf = NULL;
	size_t n = 0;
	int rc = read_frame(c->fd, &buf, &n);
	if (rc != 0) {
		snprintf(c->err, sizeof c->err, "lost the connection to gpuaasd at %s", c->socket_path);
		ctl_disconnect(c);
		return ST_UNREACHABLE;
	}
	size_t off = ok_prefix(buf, n, id);
	if (off) {
		/* The data text, verbatim: no parse, no print. */
		memmove(buf, buf + off, n - off - 1);
		buf[n - off - 1] = '\0';
		*text = buf;
		*len = n - off - 1;
		return ST_OK;
	}
	/* Anything else (an error, another layout): the careful path. */
	cJSON *reply = json_parse_strict(buf, n);
	free(buf);
	st = ST_INTERNAL;
	snprintf(c->err, sizeof c->err, "malformed reply from gpuaasd");
	int64_t got = 0;
	if (cJSON_IsObject(reply) &&
	    json_get_int(reply, "id", -JSON_INT_MAX, JSON_INT_MAX, &got) == JSON_FIELD_OK && got != id) {
		snprintf(c->err, sizeof c->err, "reply out of order from gpuaasd");
		ctl_disconnect(c); /* the reply to id may still come, and meet the next call */
	} else if (cJSON_IsObject(reply)) {
		if (cJSON_IsTrue(json_get(reply, "ok"))) {
			char *t = cJSON_PrintUnformatted(json_get(reply, "data"));
			if (t) {
				*text = t;
				*len = strlen(t);
				st = ST_OK;
			}
		} else {
			cJSON *e = json_get(reply, "error");
			st = status_from_code(jstr(e, "code"));
			if (st == ST_OK)
				st = ST_INTERNAL;
			snprintf(c->err, sizeof c->err, "%s", *jstr(e, "message") ? jstr(e, "message") : status_message(st));
		}
	}
	cJSON_Delete(reply);
	return st;
}

enum status ctl_call(struct ctl *c, const char *op, cJSON *args, bool with_token, cJSON **data)
{
	if (data)
		*data = NULL;
	int64_t id;
	enum status st = send_request(c, op, args, with_token, NULL, &id);
	if (st != ST_OK)
		return st;
	return read_reply(c, id, data, c->err, sizeof c->err);
}

enum status ctl_call_as(struct ctl *c, const char *token, const char *op, cJSON *args, cJSON **data)
{
	if (data)
		*data = NULL;
	int64_t id;
	enum status st = send_request(c, op, args, true, token, &id);
	if (st != ST_OK)
		return st;
	return read_reply(c, id, data, c->err, sizeof c->err);
}

enum status ctl_call_many(struct ctl *c, const char *op, cJSON **args, size_t n, enum status *st, cJSON **data,
	char (*errs)[256])
{
	int64_t first = c->next_id + 1;
	size_t sent = 0;
	enum status result = ST_OK;
	for (; sent < n; sent++) {
		int64_t id;
		enum status s = send_request(c, op, args[sent], true, NULL, &id);
		args[sent] = NULL;
		if (s != ST_OK) {
			result = s;
			break;
		}
	}
	for (size_t i = sent; i < n; i++) {
		cJSON_Delete(args[i]);
		args[i] = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		data[i] = NULL;
		if (i >= sent || c->fd < 0) {
			st[i] = result != ST_OK ? result : ST_UNREACHABLE;
			snprintf(errs[i], 256, "%s", c->err);
			continue;
		}
		st[i] = read_reply(c, first + (int64_t)i, &data[i], errs[i], 256);
		if (st[i] == ST_UNREACHABLE)
			snprintf(c->err, sizeof c->err, "%s", errs[i]);
	}
	return result;
}
