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
	/* Not strbuf_add: a memcpy call of one byte, once a row of a list. */
	if (!grow(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Decimal digits of u (at least one). */
static size_t decimal_digits(uint64_t u)
{
	size_t n = 1;
	for (; u >= 10000; u /= 10000)
		n += 4;
	return n + (u >= 10) + (u >= 100) + (u >= 1000);
}

char *strbuf_put_int(char *o, int64_t v)
{
	/* By hand, two digits a step, straight into place: snprintf, then a
	 * digit at a time through a scratch copy, were each a tenth of a
	 * 10,000-row list on both sides of the socket. */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		*o++ = '-';
	char *end = o + decimal_digits(u), *p = end;
	for (; u >= 100; u /= 100) {
		const char *d = &pairs[(u % 100) * 2];
		*--p = d[1];
		*--p = d[0];
	}
	if (u >= 10) {
		*--p = pairs[u * 2 + 1];
		*--p = pairs[u * 2];
	} else {
		*--p = (char)('0' + u);
	}
	return end;
}

void strbuf_add_int(struct strbuf *b, int64_t v)
{
	char *o = strbuf_room(b, STRBUF_INT_MAX);
	if (o)
		strbuf_commit(b, strbuf_put_int(o, v));
}

/* Bytes a JSON string cannot hold as they are: controls, DEL, '"', '\\'. */
static const bool needs_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

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
	/* A byte at a time through a table: the strings are short (names,
	 * states), where a memcpy call per run cost more than the copy, and
	 * eight bytes at a time gained nothing. */
	for (const unsigned char *p = (const unsigned char *)s, *end = p + n; p < end; p++) {
		if (needs_escape[*p])
			o = escape_byte(o, *p);
		else
			*o++ = (char)*p;
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
