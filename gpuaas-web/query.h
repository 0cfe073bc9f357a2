/* Percent-decoding and query strings. libmicrohttpd is told not to decode
 * anything (its decoder turns %00 into an early end of string): the
 * gateway decodes the raw request target itself, refusing what it cannot
 * represent. */
#ifndef GPUAAS_WEB_QUERY_H
#define GPUAAS_WEB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QUERY_MAX_PARAMS 32

struct query_param {
	const char *key, *value; /* decoded, NUL-terminated, inside the query's buffer */
};

struct query {
	int n;
	struct query_param p[QUERY_MAX_PARAMS];
	char *buf; /* owned */
};

/* Decodes %XX escapes (and '+' as a space when plus_is_space) of s[0..len)
 * in place. The new length, or -1 for a malformed escape, a decoded NUL or
 * a control byte. */
ssize_t pct_decode(char *s, size_t len, bool plus_is_space);
/* Splits and decodes the raw query string (what follows '?'). 0, or -1
 * for malformed escapes, NUL or control bytes, more than QUERY_MAX_PARAMS
 * parameters, or no memory. q is valid (possibly empty) either way; free it
 * with query_free. */
int query_parse(struct query *q, const char *raw, size_t len);
/* Frees the buffer; q may be parsed again. */
void query_free(struct query *q);
/* The first value of key, or NULL. */
const char *query_get(const struct query *q, const char *key);
/* The integer value of key in [min, max] (plain decimal digits): 0 and *out
 * set, 1 when absent or empty, -1 when malformed or out of range. */
int query_int(const struct query *q, const char *key, int64_t min, int64_t max, int64_t *out);
/* A boolean: 1/true/yes or 0/false/no. 0 and *out set, 1 when absent or
 * empty, -1 otherwise. */
int query_bool(const struct query *q, const char *key, bool *out);

#endif
