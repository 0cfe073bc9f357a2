/* Request bodies to protocol arguments. A body must be one JSON object
 * (checked strictly, as gpuaasd checks frames); the members a route takes
 * are copied into the op's args as they were written, so the daemon judges
 * exactly what the client sent (3.0 stays 3.0 and is refused there). Other
 * members are dropped: a body can never override a path parameter. */
#ifndef GPUAAS_WEB_ARGS_H
#define GPUAAS_WEB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

/* The args object under construction: "{" then members. */
struct args {
	struct strbuf b;
	int n;
};

/* Starts an empty object. */
void args_init(struct args *a);
/* Frees it. */
void args_finish(struct args *a);
/* Closes the object; its text is a->b.data, a->b.len bytes. -1 when out of memory. */
int args_close(struct args *a);
/* Adds "key": v as an integer. */
void args_int(struct args *a, const char *key, int64_t v);
/* Adds "key": "s" (escaped). */
void args_str(struct args *a, const char *key, const char *s);
/* Adds "key": true|false. */
void args_bool(struct args *a, const char *key, bool v);
/* Adds "key": followed by raw JSON text. */
void args_raw(struct args *a, const char *key, const char *json, size_t len);
/* Copies the members of the body named in keys (a NULL-terminated list)
 * into a. An empty body counts as {}. 0, or -1 with a message in err when
 * the body is not one JSON object. */
int args_from_body(struct args *a, const char *body, size_t len, const char *const *keys, char *err, size_t errlen);

#endif
