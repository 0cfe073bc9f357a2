#include "gpuaas-web/reply.h"

#include <string.h>

int reply_parse(const char *text, size_t len, struct reply *out)
{
	struct jspan all = {text, len}, ok, code;
	memset(out, 0, sizeof *out);
	if (jspan_member(all, "ok", &ok) < 0)
		return -1;
	out->ok = jspan_is_true(ok);
	if (out->ok) {
		out->st = ST_OK;
		return jspan_member(all, "data", &out->data);
	}
	if (jspan_member(all, "error", &out->error) < 0 || jspan_member(out->error, "code", &code) < 0)
		return -1;
	struct jspan c;
	char name[32];
	if (jspan_plain_str(code, &c) < 0 || c.n >= sizeof name)
		return -1;
	memcpy(name, c.p, c.n);
	name[c.n] = '\0';
	out->st = status_from_code(name);
	if (out->st == ST_OK)
		out->st = ST_INTERNAL;
	return 0;
}

int64_t reply_retry_after(const struct reply *rep, int64_t fallback)
{
	static const char mark[] = "try again in ";
	struct jspan msg;
	if (rep->ok || jspan_member(rep->error, "message", &msg) < 0)
		return fallback;
	for (size_t i = 0; i + sizeof mark - 1 < msg.n; i++) {
		if (memcmp(msg.p + i, mark, sizeof mark - 1) != 0)
			continue;
		int64_t v = 0;
		size_t j = i + sizeof mark - 1, digits = 0;
		for (; j < msg.n && msg.p[j] >= '0' && msg.p[j] <= '9' && digits < 9; j++, digits++)
			v = v * 10 + (msg.p[j] - '0');
		return digits && v > 0 ? v : fallback;
	}
	return fallback;
}
