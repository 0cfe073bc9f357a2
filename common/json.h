/* Strict JSON helpers over cJSON that guard its traps (cJSON looks keys up
 * case-insensitively, keeps integers in a double and ignores what follows the
 * first value): case-sensitive lookup only, integers read from valuedouble
 * with range checks, trailing garbage rejected, strings checked for UTF-8 and
 * control bytes. The rules they enforce are those of docs/PROTOCOL.md. */
#ifndef GPUAAS_COMMON_JSON_H
#define GPUAAS_COMMON_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest integer a JSON number (a double) holds exactly: 2^53. */
#define JSON_INT_MAX INT64_C(9007199254740992)

/* A type bit json_parse_strict sets on number items whose literal is not an
 * exact integer (a fraction or exponent such as 3.0 or 1e+15, a leading zero,
 * or a magnitude over 2^53): json_get_int refuses them. */
#define JSON_NOT_INT (1 << 12)

/* Parses exactly one JSON value spanning all len bytes (no trailing garbage,
 * no NUL byte, no escaped \u0000 anywhere, valid UTF-8 throughout, no object
 * with two members of the same name at any depth). Number items whose
 * literal is not an exact integer carry JSON_NOT_INT. Returns a tree the
 * caller frees with cJSON_Delete, or NULL. */
cJSON *json_parse_strict(const char *buf, size_t len);

/* Case-sensitive member lookup; NULL when obj is not an object. */
cJSON *json_get(const cJSON *obj, const char *key);

/* Result of reading a typed member. */
enum json_field {
	JSON_FIELD_OK = 0,
	JSON_FIELD_MISSING, /* absent or null */
	JSON_FIELD_BAD,     /* present with the wrong type or out of range */
};

/* Reads an integer in [min, max] (both within ±JSON_INT_MAX). With a tree
 * from json_parse_strict only integer literals count: 3.0 and 1e+15 are
 * JSON_FIELD_BAD. */
enum json_field json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out);
/* Reads a boolean. */
enum json_field json_get_bool(const cJSON *obj, const char *key, bool *out);
/* Reads a string of at most max_len bytes that is valid UTF-8; with
 * no_control, bytes below 0x20 and 0x7f are refused too. *out points into obj. */
enum json_field json_get_str(const cJSON *obj, const char *key, size_t max_len, bool no_control,
	const char **out);

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* True when s has no C0 control bytes and no DEL. */
bool text_printable(const char *s);
/* The length of the longest prefix of s, at most max bytes, that is valid
 * UTF-8 and ends on a character boundary (it stops at NUL and at the first
 * invalid byte): echo client strings as "%.*s", (int)utf8_prefix(s, 32), s. */
size_t utf8_prefix(const char *s, size_t max);

/* An exact integer item (raw decimal text: cJSON would print 1e15 as
 * "1e+15"); the caller owns it. NULL when out of memory. It is a raw item,
 * not a number: cJSON_IsNumber and json_get_int do not see it. */
cJSON *json_create_int(int64_t v);
/* Adds "key": v as an exact JSON integer; the item, or NULL (nothing added).
 * Use it instead of cJSON_AddNumberToObject for every integer. */
cJSON *json_add_int(cJSON *obj, const char *key, int64_t v);
/* Turns every number of the tree that holds an exact integer into raw
 * decimal text, so printing it writes integers as integers (a client that
 * re-prints a parsed reply). 0, or -1 when out of memory. */
int json_exact_ints(cJSON *tree);

/* Formats a Unix time as RFC 3339 UTC ("2026-11-26T13:54:27Z") into buf. */
char *time_format_rfc3339(int64_t t, char *buf, size_t size);
/* Parses what time_format_rfc3339 writes; -1 on anything else. */
int time_parse_rfc3339(const char *s, int64_t *out);

/* Adds "key": t as RFC 3339, or null when t <= 0. Returns the item or NULL. */
cJSON *json_add_time(cJSON *obj, const char *key, int64_t t);

#endif
