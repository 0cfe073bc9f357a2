/* A growable byte buffer for writing JSON text directly (the hot list path
 * would spend most of its time building and printing cJSON trees). */
#ifndef GPUAAS_COMMON_STRBUF_H
#define GPUAAS_COMMON_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *data; /* NUL-terminated when non-NULL; owned */
	size_t len, cap;
	bool failed; /* an allocation failed: the content is incomplete */
};

/* Reserves reserve bytes in front (e.g. a frame header). */
void strbuf_init(struct strbuf *b, size_t reserve);
void strbuf_finish(struct strbuf *b);
void strbuf_add(struct strbuf *b, const char *s, size_t n);
/* Makes room for extra more bytes (plus the NUL) and returns where they go,
 * or NULL after an allocation failure. The caller writes them and then calls
 * strbuf_commit: one capacity check for a run of small writes. */
char *strbuf_room(struct strbuf *b, size_t extra);
void strbuf_commit(struct strbuf *b, char *end);
/* Writers into room taken with strbuf_room; each returns the end of what
 * it wrote. At most STRBUF_INT_MAX bytes for an integer; for a JSON string
 * of n bytes (quotes and escapes, or null for NULL), STRBUF_JSON_STR_MAX(n). */
#define STRBUF_INT_MAX 21
#define STRBUF_JSON_STR_MAX(n) ((n) * 6 + 2 + 4)
char *strbuf_put_int(char *o, int64_t v);
char *strbuf_put_json_str(char *o, const char *s, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addc(struct strbuf *b, char c);
void strbuf_add_int(struct strbuf *b, int64_t v);
/* Appends s as a JSON string literal (quotes and escapes), or null. */
void strbuf_add_json_str(struct strbuf *b, const char *s);

#endif
