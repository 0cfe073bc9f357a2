#include "gpuaas-web/query.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t pct_decode(char *s, size_t len, bool plus_is_space)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
			if (lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		s[out++] = (char)c;
	}
	if (out < len)
		s[out] = '\0';
	return (ssize_t)out;
}

/* Decodes one "key=value" piece of buf in place into the next parameter. */
static int add_param(struct query *q, char *piece, size_t len)
{
	if (len == 0)
		return 0;
	if (q->n == QUERY_MAX_PARAMS)
		return -1;
	char *eq = memchr(piece, '=', len);
	size_t klen = eq ? (size_t)(eq - piece) : len;
	char *val = eq ? eq + 1 : piece + len;
	size_t vlen = eq ? len - klen - 1 : 0;
	ssize_t kd = pct_decode(piece, klen, true), vd = pct_decode(val, vlen, true);
	if (kd < 0 || vd < 0)
		return -1;
	piece[kd] = '\0';
	val[vd] = '\0';
	q->p[q->n++] = (struct query_param){piece, val};
	return 0;
}

int query_parse(struct query *q, const char *raw, size_t len)
{
	memset(q, 0, sizeof *q);
	if (len == 0)
		return 0;
	q->buf = malloc(len + 1);
	if (!q->buf)
		return -1;
	memcpy(q->buf, raw, len);
	q->buf[len] = '\0';
	char *start = q->buf;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && q->buf[i] != '&')
			continue;
		/* Each piece ends at '&' or the NUL after the buffer. */
		if (add_param(q, start, (size_t)(q->buf + i - start)) < 0) {
			q->n = 0;
			return -1;
		}
		start = q->buf + i + 1;
	}
	return 0;
}

void query_free(struct query *q)
{
	free(q->buf);
	memset(q, 0, sizeof *q);
}

const char *query_get(const struct query *q, const char *key)
{
	for (int i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			return q->p[i].value;
	return NULL;
}

int query_int(const struct query *q, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const char *v = query_get(q, key);
	if (!v || !*v)
		return 1;
	size_t n = strlen(v);
	if (n > 18)
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

int query_bool(const struct query *q, const char *key, bool *out)
{
	const char *v = query_get(q, key);
	if (!v || !*v)
		return 1;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		return -1;
	return 0;
}
