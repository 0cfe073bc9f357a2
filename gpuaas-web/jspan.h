/* Byte spans of JSON values in a text, found without building a tree. The
 * gateway hands gpuaasd's replies on as they are written (a job list is
 * passed through, not parsed and printed again): it only needs to find a
 * few members ("ok", "data", "error", "id") and walk arrays of events. */
#ifndef GPUAAS_WEB_JSPAN_H
#define GPUAAS_WEB_JSPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is treated as malformed. */
#define JSPAN_MAX_DEPTH 512

struct jspan {
	const char *p;
	size_t n;
};

/* The length of the JSON value at the start of s (no leading blanks), or 0
 * when it is malformed, truncated or nested deeper than JSPAN_MAX_DEPTH. */
size_t jspan_value(const char *s, size_t len);
/* The value of member key in the object obj (leading and trailing blanks
 * allowed). Keys are compared as written: a key spelled with escapes never
 * matches. 0 and *out set, or -1 when absent or obj is not an object. */
int jspan_member(struct jspan obj, const char *key, struct jspan *out);
/* Walks an array: *pos starts at 0. 1 and *elem set, 0 at the end, -1 when
 * arr is not a well-formed array. */
int jspan_array_next(struct jspan arr, size_t *pos, struct jspan *elem);
/* A span holding a plain decimal integer (optional '-'): 0 and *out set, or
 * -1 (anything else, or out of the int64 range). */
int jspan_int(struct jspan v, int64_t *out);
/* True when the span is exactly `true`. */
bool jspan_is_true(struct jspan v);
/* The characters of a string literal that needs no unescaping: 0 and *out
 * set (without the quotes), or -1 when v is not a string or has escapes. */
int jspan_plain_str(struct jspan v, struct jspan *out);
/* True when the span is exactly the string literal "s" (no escapes). */
bool jspan_str_eq(struct jspan v, const char *s);

#endif
