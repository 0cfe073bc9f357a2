/* gpuaasd's replies, read in place: {"id", "ok": true, "data": {...}} or
 * {"id", "ok": false, "error": {"code", "message"}}. */
#ifndef GPUAAS_WEB_REPLY_H
#define GPUAAS_WEB_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "gpuaas-web/jspan.h"

struct reply {
	bool ok;
	struct jspan data;  /* ok: the data object */
	struct jspan error; /* !ok: the error object as written */
	enum status st;     /* ST_OK, or the error's code */
};

/* Reads a reply text. 0, or -1 when it is not a reply. */
int reply_parse(const char *text, size_t len, struct reply *out);
/* Seconds to wait that an error message names ("... try again in 42s"), or
 * fallback. */
int64_t reply_retry_after(const struct reply *rep, int64_t fallback);

#endif
