#include "gpuaas-web/jspan.h"

#include <string.h>

static size_t skip_blank(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The index just past the closing quote of the string opening at s[i], or
 * 0. Raw control bytes inside are refused, as JSON does. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c == '\\' && ++i >= len)
			return 0;
	}
	return 0;
}

/* Numbers, true, false, null: the run of their characters. */
static size_t skip_scalar(const char *s, size_t len, size_t i)
{
	size_t start = i;
	while (i < len && (strchr("+-.0123456789eE", s[i]) || (s[i] >= 'a' && s[i] <= 'z')) && s[i])
		i++;
	return i > start ? i : 0;
}

/* Containers: brackets matched on a stack of their kinds, strings skipped.
 * Commas and colons are not checked here; the texts come from a JSON
 * writer (gpuaasd) or passed json_parse_strict first. */
static size_t skip_container(const char *s, size_t len, size_t i)
{
	unsigned char stack[JSPAN_MAX_DEPTH];
	size_t depth = 0;
	while (i < len) {
		char c = s[i];
		if (c == '"') {
			if (!(i = skip_string(s, len, i)))
				return 0;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth == JSPAN_MAX_DEPTH)
				return 0;
			stack[depth++] = (unsigned char)(c == '{' ? '}' : ']');
		} else if (c == '}' || c == ']') {
			if (depth == 0 || stack[depth - 1] != (unsigned char)c)
				return 0;
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return 0;
}

size_t jspan_value(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	size_t end;
	if (s[0] == '"')
		end = skip_string(s, len, 0);
	else if (s[0] == '{' || s[0] == '[')
		end = skip_container(s, len, 0);
	else
		end = skip_scalar(s, len, 0);
	return end;
}

/* The span without blanks around it. */
static struct jspan trim(struct jspan v)
{
	size_t i = skip_blank(v.p, v.n, 0);
	size_t n = v.n;
	while (n > i && (v.p[n - 1] == ' ' || v.p[n - 1] == '\t' || v.p[n - 1] == '\n' || v.p[n - 1] == '\r'))
		n--;
	return (struct jspan){v.p + i, n - i};
}

/* Steps over one element (key: value when in_object) at *pos of the
 * container c (which starts with its bracket). 1 with the key and value
 * spans, 0 at the closing bracket, -1 when malformed. */
static int next_item(struct jspan c, size_t *pos, bool in_object, struct jspan *key, struct jspan *val)
{
	size_t i = *pos ? *pos : 1;
	i = skip_blank(c.p, c.n, i);
	if (i < c.n && c.p[i] == (in_object ? '}' : ']'))
		return 0;
	if (in_object) {
		size_t k = i < c.n && c.p[i] == '"' ? skip_string(c.p, c.n, i) : 0;
		if (!k)
			return -1;
		*key = (struct jspan){c.p + i + 1, k - i - 2};
		i = skip_blank(c.p, c.n, k);
		if (i >= c.n || c.p[i] != ':')
			return -1;
		i = skip_blank(c.p, c.n, i + 1);
	}
	size_t n = i < c.n ? jspan_value(c.p + i, c.n - i) : 0;
	if (!n)
		return -1;
	*val = (struct jspan){c.p + i, n};
	i = skip_blank(c.p, c.n, i + n);
	if (i < c.n && c.p[i] == ',')
		i++;
	else if (i >= c.n || c.p[i] != (in_object ? '}' : ']'))
		return -1;
	*pos = i;
	return 1;
}

int jspan_member(struct jspan obj, const char *key, struct jspan *out)
{
	obj = trim(obj);
	if (obj.n < 2 || obj.p[0] != '{' || obj.p[obj.n - 1] != '}')
		return -1;
	size_t klen = strlen(key), pos = 0;
	struct jspan k, v;
	int rc;
	while ((rc = next_item(obj, &pos, true, &k, &v)) == 1) {
		if (k.n == klen && memcmp(k.p, key, klen) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

int jspan_array_next(struct jspan arr, size_t *pos, struct jspan *elem)
{
	arr = trim(arr);
	if (arr.n < 2 || arr.p[0] != '[' || arr.p[arr.n - 1] != ']')
		return -1;
	struct jspan k;
	return next_item(arr, pos, false, &k, elem);
}

int jspan_int(struct jspan v, int64_t *out)
{
	v = trim(v);
	size_t i = 0;
	bool neg = v.n > 0 && v.p[0] == '-';
	if (neg)
		i++;
	if (i >= v.n || v.n - i > 18)
		return -1;
	int64_t x = 0;
	for (; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (v.p[i] - '0');
	}
	*out = neg ? -x : x;
	return 0;
}

bool jspan_is_true(struct jspan v)
{
	v = trim(v);
	return v.n == 4 && memcmp(v.p, "true", 4) == 0;
}

int jspan_plain_str(struct jspan v, struct jspan *out)
{
	v = trim(v);
	if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"' || memchr(v.p + 1, '\\', v.n - 2))
		return -1;
	*out = (struct jspan){v.p + 1, v.n - 2};
	return 0;
}

bool jspan_str_eq(struct jspan v, const char *s)
{
	struct jspan in;
	size_t n = strlen(s);
	return jspan_plain_str(v, &in) == 0 && in.n == n && memcmp(in.p, s, n) == 0;
}
