#include "common/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, size_t reserve)
{
	memset(b, 0, sizeof *b);
	b->cap = reserve + 256;
	b->data = malloc(b->cap);
	if (!b->data) {
		b->failed = true;
		b->cap = 0;
		return;
	}
	b->len = reserve;
	b->data[b->len] = '\0';
}

void strbuf_finish(struct strbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static bool grow(struct strbuf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t n = b->cap ? b->cap : 256;
	while (n < b->len + extra + 1)
		n *= 2;
	char *nd = realloc(b->data, n);
	if (!nd) {
		b->failed = true;
		return false;
	}
	b->data = nd;
	b->cap = n;
	return true;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

char *strbuf_room(struct strbuf *b, size_t extra)
{
	return grow(b, extra) ? b->data + b->len : NULL;
}

void strbuf_commit(struct strbuf *b, char *end)
{
	b->len = (size_t)(end - b->data);
	b->data[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

char *strbuf_put_int(char *o, int64_t v)
{
	/* By hand: snprintf showed up in the list path's profile. */
	char tmp[24];
	char *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(tmp + sizeof tmp - p);
	memcpy(o, p, n);
	return o + n;
}

void strbuf_add_int(struct strbuf *b, int64_t v)
{
	char *o = strbuf_room(b, STRBUF_INT_MAX);
	if (o)
		strbuf_commit(b, strbuf_put_int(o, v));
}

/* Bytes a JSON string cannot hold as they are: controls, DEL, '"', '\\'. */
static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}

/* Writes the escape of c at o; returns the end. */
static char *escape_byte(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	*o++ = '\\';
	switch (c) {
	case '"': *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	case '\b': *o++ = 'b'; break;
	case '\f': *o++ = 'f'; break;
	default:
		*o++ = 'u'; *o++ = '0'; *o++ = '0';
		*o++ = hex[c >> 4]; *o++ = hex[c & 15];
	}
	return o;
}

char *strbuf_put_json_str(char *o, const char *s, size_t n)
{
	if (!s) {
		memcpy(o, "null", 4);
		return o + 4;
	}
	*o++ = '"';
	/* Runs that need no escape (nearly everything) are copied whole. */
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && !needs_escape(*p))
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p < end)
			o = escape_byte(o, *p++);
	}
	*o++ = '"';
	return o;
}

void strbuf_add_json_str(struct strbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *o = strbuf_room(b, STRBUF_JSON_STR_MAX(n));
	if (o)
		strbuf_commit(b, strbuf_put_json_str(o, s, n));
}
