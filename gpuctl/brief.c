/* The job.list brief reply parsed in place (brief.h). */
#include "gpuctl/brief.h"

#include <stdlib.h>
#include <string.h>

static void skip_ws(char **p)
{
	/* gpuaasd writes none: one test on the way past. */
	if ((unsigned char)**p > ' ')
		return;
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static bool lit(char **p, const char *s)
{
	skip_ws(p);
	size_t n = strlen(s);
	if (strncmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/* One punctuation character: lit without strlen and strncmp, which were
 * an eighth of a 10,000-row list. */
static bool ch(char **p, char c)
{
	skip_ws(p);
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool parse_int(char **p, int64_t *out)
{
	skip_ws(p);
	char *s = *p;
	bool neg = *s == '-';
	if (neg)
		s++;
	if (*s < '0' || *s > '9')
		return false;
	/* 18 digits cannot overflow: only a longer number is checked. */
	int64_t v = 0;
	for (int k = 0; k < 18 && *s >= '0' && *s <= '9'; k++, s++)
		v = v * 10 + (*s - '0');
	while (*s >= '0' && *s <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s++ - '0');
	}
	if (*s == '.' || *s == 'e' || *s == 'E')
		return false;
	*out = neg ? -v : v;
	*p = s;
	return true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool read_hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

/* What a byte of a JSON string is to parse_str: STR_CONT a UTF-8
 * continuation byte (no width of its own), STR_STOP one that needs a look:
 * the closing quote, a backslash, a control character or DEL. */
#define STR_CONT 1
#define STR_STOP 2
#define SIXTEEN(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const uint8_t str_class[256] = {
	SIXTEEN(STR_STOP), SIXTEEN(STR_STOP),                        /* 0x00-0x1f */
	0, 0, STR_STOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       /* 0x20-0x2f: '"' */
	SIXTEEN(0), SIXTEEN(0),                                      /* 0x30-0x4f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, STR_STOP, 0, 0, 0,       /* 0x50-0x5f: '\\' */
	SIXTEEN(0),                                                  /* 0x60-0x6f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, STR_STOP,       /* 0x70-0x7f: DEL */
	SIXTEEN(STR_CONT), SIXTEEN(STR_CONT), SIXTEEN(STR_CONT), SIXTEEN(STR_CONT), /* 0x80-0xbf */
	SIXTEEN(0), SIXTEEN(0), SIXTEEN(0), SIXTEEN(0),              /* 0xc0-0xff */
};

/* Decodes a JSON string in place (the output never outgrows the input),
 * counting its bytes and characters on the way (*len BRIEF_UNMEASURED:
 * control characters, or too long). */
static bool parse_str(char **p, const char **out, uint16_t *len, uint16_t *width)
{
	skip_ws(p);
	if (**p != '"')
		return false;
	char *r = *p + 1, *w = r;
	size_t cont = 0; /* UTF-8 continuation bytes: no width of their own */
	bool control = false;
	*out = w;
	for (;;) {
		unsigned char c = (unsigned char)*r;
		unsigned k = str_class[c];
		if (!(k & STR_STOP)) { /* nearly every byte: one lookup */
			cont += k;
			*w++ = *r++;
			continue;
		}
		if (c == '"')
			break;
		if (c < 0x20) /* NUL, or a raw control character: not JSON */
			return false;
		if (c == 0x7f) {
			control = true;
			*w++ = *r++;
			continue;
		}
		r++;
		control |= *r == 'b' || *r == 'f' || *r == 'n' || *r == 'r' || *r == 't' || *r == 'u';
		switch (*r) {
		case '"': *w++ = '"'; r++; break;
		case '\\': *w++ = '\\'; r++; break;
		case '/': *w++ = '/'; r++; break;
		case 'b': *w++ = '\b'; r++; break;
		case 'f': *w++ = '\f'; r++; break;
		case 'n': *w++ = '\n'; r++; break;
		case 'r': *w++ = '\r'; r++; break;
		case 't': *w++ = '\t'; r++; break;
		case 'u': {
			unsigned cp;
			if (!read_hex4(r + 1, &cp))
				return false;
			r += 5;
			if (cp >= 0xd800 && cp <= 0xdbff && r[0] == '\\' && r[1] == 'u') {
				unsigned lo;
				if (!read_hex4(r + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				r += 6;
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) /* NUL, or a surrogate left alone */
				return false;
			if (cp < 0x80) {
				*w++ = (char)cp;
			} else if (cp < 0x800) {
				*w++ = (char)(0xc0 | cp >> 6);
				*w++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*w++ = (char)(0xe0 | cp >> 12);
				*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*w++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*w++ = (char)(0xf0 | cp >> 18);
				*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
				*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*w++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return false;
		}
	}
	*p = r + 1;
	*w = '\0';
	/* A \u escape (rare: gpuaasd writes UTF-8 as it is) is measured by
	 * the table, as are control characters. */
	size_t n = (size_t)(w - *out);
	*len = control || n >= BRIEF_UNMEASURED ? BRIEF_UNMEASURED : (uint16_t)n;
	*width = (uint16_t)(n - cont);
	return true;
}

int brief_parse(char *text, struct brief_row **rows, size_t *n, size_t *cap, int64_t *next_before_id)
{
	char *p = text;
	if (!lit(&p, "{") || !lit(&p, "\"jobs\"") || !lit(&p, ":") || !lit(&p, "["))
		return -1;
	skip_ws(&p);
	if (*p != ']') {
		for (;;) {
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 1024;
				struct brief_row *nr = realloc(*rows, nc * sizeof *nr);
				if (!nr)
					return -1;
				*rows = nr;
				*cap = nc;
			}
			struct brief_row *r = &(*rows)[*n];
			r->started_at = 0;
			uint16_t *l = r->lens, *wd = r->widths;
			if (!ch(&p, '[') || !parse_int(&p, &r->id) || !ch(&p, ',') ||
			    !parse_str(&p, &r->name, &l[BRIEF_NAME], &wd[BRIEF_NAME]) || !ch(&p, ',') ||
			    !parse_str(&p, &r->owner, &l[BRIEF_OWNER], &wd[BRIEF_OWNER]) || !ch(&p, ',') ||
			    !parse_str(&p, &r->type, &l[BRIEF_TYPE], &wd[BRIEF_TYPE]) || !ch(&p, ',') ||
			    !parse_int(&p, &r->count) || !ch(&p, ',') || !parse_int(&p, &r->time_limit) || !ch(&p, ',') ||
			    !parse_str(&p, &r->status, &l[BRIEF_STATUS], &wd[BRIEF_STATUS]) || !ch(&p, ',') ||
			    !parse_int(&p, &r->created_at) || !ch(&p, ']'))
				return -1;
			(*n)++;
			if (ch(&p, ','))
				continue;
			break;
		}
	}
	if (!lit(&p, "]") || !lit(&p, ",") || !lit(&p, "\"next_before_id\"") || !lit(&p, ":"))
		return -1;
	*next_before_id = 0;
	if (!lit(&p, "null") && !parse_int(&p, next_before_id))
		return -1;
	return lit(&p, "}") ? 0 : -1;
}

int64_t brief_tail_cursor(const char *text, size_t len)
{
	static const char key[] = "\"next_before_id\":";
	const size_t klen = sizeof key - 1;
	if (len < klen + 2 || text[len - 1] != '}')
		return -1;
	size_t end = len - 1, p = end;
	while (p > 0 && text[p - 1] >= '0' && text[p - 1] <= '9')
		p--;
	if (p == end) {
		bool null = end >= 4 + klen && memcmp(text + end - 4, "null", 4) == 0 &&
			    memcmp(text + end - 4 - klen, key, klen) == 0;
		return null ? 0 : -1;
	}
	if (p < klen || memcmp(text + p - klen, key, klen) != 0)
		return -1;
	int64_t v = 0;
	for (size_t i = p; i < end; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return v;
}
