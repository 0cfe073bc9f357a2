#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An escaped NUL ("\u0000") would silently end a cJSON string early, so a
 * password "a\u0000b" would hash as "a". Refuse the whole document. */
static bool has_escaped_nul(const char *buf, size_t len)
{
	for (size_t i = 0; i + 5 < len; i++) {
		if (buf[i] != '\\')
			continue;
		/* Count the run of backslashes: an odd run escapes the next char. */
		size_t j = i;
		while (j < len && buf[j] == '\\')
			j++;
		size_t run = j - i;
		if (run % 2 == 1 && j + 4 < len && buf[j] == 'u' && buf[j + 1] == '0' &&
		    buf[j + 2] == '0' && buf[j + 3] == '0' && buf[j + 4] == '0')
			return true;
		i = j - 1;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The next number literal of the text at *pos (outside strings): true when
 * it is an integer literal (no fraction, no exponent) of at most 2^53 in
 * magnitude, so its double is exact. The text is JSON that cJSON accepted. */
static bool next_number_is_int(const char *text, size_t *pos)
{
	size_t i = *pos;
	bool in_str = false;
	for (;; i++) {
		char c = text[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '-' || (c >= '0' && c <= '9') || c == '\0') {
			break;
		}
	}
	if (text[i] == '-')
		i++;
	size_t start = i;
	while (text[i] >= '0' && text[i] <= '9')
		i++;
	size_t digits = i - start;
	bool integer = text[i] != '.' && text[i] != 'e' && text[i] != 'E' && !(digits > 1 && text[start] == '0');
	while (text[i] && strchr("0123456789.eE+-", text[i]))
		i++;
	*pos = i;
	/* 2^53 = 9007199254740992: 16 digits. */
	if (digits > 16 || (digits == 16 && memcmp(text + start, "9007199254740992", 16) > 0))
		return false;
	return integer;
}

/* Two members of one object with the same (decoded) name. */
static bool has_duplicate_keys(const cJSON *obj)
{
	size_t n = 0;
	for (const cJSON *a = obj->child; a; a = a->next)
		n++;
	if (n < 2)
		return false;
	if (n <= 16) {
		for (const cJSON *a = obj->child; a; a = a->next)
			for (const cJSON *b = a->next; b; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return true;
		return false;
	}
	const char **keys = malloc(n * sizeof *keys);
	if (!keys)
		return true; /* refuse rather than guess */
	size_t k = 0;
	for (const cJSON *a = obj->child; a; a = a->next)
		keys[k++] = a->string;
	qsort(keys, n, sizeof *keys, cmp_str);
	bool dup = false;
	for (size_t i = 1; i < n && !dup; i++)
		dup = strcmp(keys[i - 1], keys[i]) == 0;
	free(keys);
	return dup;
}

/* Walks the tree in document order: refuses duplicate keys and marks number
 * items that are not exact integer literals (JSON_NOT_INT). false: refuse. */
static bool check_tree(cJSON *item, const char *text, size_t *pos)
{
	for (; item; item = item->next) {
		if (cJSON_IsNumber(item) && !next_number_is_int(text, pos))
			item->type |= JSON_NOT_INT;
		if (cJSON_IsObject(item) && has_duplicate_keys(item))
			return false;
		if ((cJSON_IsObject(item) || cJSON_IsArray(item)) && !check_tree(item->child, text, pos))
			return false;
	}
	return true;
}

cJSON *json_parse_strict(const char *buf, size_t len)
{
	if (len == 0 || memchr(buf, '\0', len) || has_escaped_nul(buf, len) || !utf8_valid(buf, len))
		return NULL;
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	size_t pos = 0;
	if (root && !check_tree(root, copy, &pos)) {
		cJSON_Delete(root);
		root = NULL;
	}
	free(copy);
	return root;
}

cJSON *json_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

enum json_field json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *it = json_get(obj, key);
	if (!it || cJSON_IsNull(it))
		return JSON_FIELD_MISSING;
	if (!cJSON_IsNumber(it) || (it->type & JSON_NOT_INT))
		return JSON_FIELD_BAD;
	double d = it->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max ||
	    d < -(double)JSON_INT_MAX || d > (double)JSON_INT_MAX)
		return JSON_FIELD_BAD;
	*out = (int64_t)d;
	return JSON_FIELD_OK;
}

enum json_field json_get_bool(const cJSON *obj, const char *key, bool *out)
{
	const cJSON *it = json_get(obj, key);
	if (!it || cJSON_IsNull(it))
		return JSON_FIELD_MISSING;
	if (!cJSON_IsBool(it))
		return JSON_FIELD_BAD;
	*out = cJSON_IsTrue(it);
	return JSON_FIELD_OK;
}

enum json_field json_get_str(const cJSON *obj, const char *key, size_t max_len, bool no_control,
	const char **out)
{
	const cJSON *it = json_get(obj, key);
	if (!it || cJSON_IsNull(it))
		return JSON_FIELD_MISSING;
	if (!cJSON_IsString(it) || !it->valuestring)
		return JSON_FIELD_BAD;
	size_t len = strlen(it->valuestring);
	if (len > max_len || !utf8_valid(it->valuestring, len))
		return JSON_FIELD_BAD;
	if (no_control && !text_printable(it->valuestring))
		return JSON_FIELD_BAD;
	*out = it->valuestring;
	return JSON_FIELD_OK;
}

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool text_printable(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm);
 * no gmtime/strftime: the list path formats tens of thousands of these. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDT" of a day since 1970-01-01 at o (11 bytes), or -1 when
 * its year has no four digits. */
static int put_date(char *o, int64_t days)
{
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -1;
	int yy = (int)y;
	char date[] = {(char)('0' + yy / 1000), (char)('0' + yy / 100 % 10), (char)('0' + yy / 10 % 10),
		(char)('0' + yy % 10), '-', (char)('0' + m / 10), (char)('0' + m % 10), '-', (char)('0' + d / 10),
		(char)('0' + d % 10), 'T'};
	memcpy(o, date, sizeof date);
	return 0;
}

char *time_format_rfc3339(int64_t t, char *buf, size_t size)
{
	/* The date of the last day formatted, per thread: the times of one
	 * reply mostly share a day, and the calendar was half of the cost of
	 * a list's times. */
	static _Thread_local struct {
		int64_t days;
		char date[11];
		bool valid;
	} last;
	if (size < 21) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int secs = (int)(t - days * 86400);
	if (!last.valid || last.days != days) {
		if (put_date(last.date, days) < 0) {
			buf[0] = '\0';
			return buf;
		}
		last.days = days;
		last.valid = true;
	}
	int h = secs / 3600, mi = secs / 60 % 60, s = secs % 60;
	char *o = buf;
	memcpy(o, last.date, sizeof last.date);
	o += sizeof last.date;
	*o++ = (char)('0' + h / 10);
	*o++ = (char)('0' + h % 10);
	*o++ = ':';
	*o++ = (char)('0' + mi / 10);
	*o++ = (char)('0' + mi % 10);
	*o++ = ':';
	*o++ = (char)('0' + s / 10);
	*o++ = (char)('0' + s % 10);
	*o++ = 'Z';
	*o = '\0';
	return buf;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	/* Exactly "YYYY-MM-DDTHH:MM:SSZ": fast, and no locale or TZ lookups. */
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int v[20];
	for (int i = 0; i < 20; i++) {
		if (!s[i])
			return -1;
		if (shape[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v[i] = s[i] - '0';
		} else if (s[i] != shape[i]) {
			return -1;
		}
	}
	if (s[20])
		return -1;
	int64_t y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], mo = v[5] * 10 + v[6], d = v[8] * 10 + v[9];
	int64_t h = v[11] * 10 + v[12], mi = v[14] * 10 + v[15], se = v[17] * 10 + v[18];
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

cJSON *json_add_time(cJSON *obj, const char *key, int64_t t)
{
	if (t <= 0)
		return cJSON_AddNullToObject(obj, key);
	char buf[32];
	return cJSON_AddStringToObject(obj, key, time_format_rfc3339(t, buf, sizeof buf));
}

cJSON *json_create_int(int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_CreateRaw(buf);
}

cJSON *json_add_int(cJSON *obj, const char *key, int64_t v)
{
	cJSON *it = json_create_int(v);
	if (!it || !cJSON_AddItemToObject(obj, key, it)) {
		cJSON_Delete(it);
		return NULL;
	}
	return it;
}

/* Number items that hold an exact integer become raw decimal text. */
static bool exact_ints(cJSON *item)
{
	for (; item; item = item->next) {
		if (cJSON_IsNumber(item) && !(item->type & JSON_NOT_INT)) {
			double d = item->valuedouble;
			if (isfinite(d) && d == floor(d) && fabs(d) <= (double)JSON_INT_MAX) {
				char buf[24];
				snprintf(buf, sizeof buf, "%lld", (long long)d);
				char *text = strdup(buf);
				if (!text)
					return false;
				item->type = cJSON_Raw;
				item->valuestring = text;
			}
		}
		if ((cJSON_IsObject(item) || cJSON_IsArray(item)) && !exact_ints(item->child))
			return false;
	}
	return true;
}

int json_exact_ints(cJSON *tree)
{
	return tree && exact_ints(tree) ? 0 : -1;
}

size_t utf8_prefix(const char *s, size_t max)
{
	size_t ok = 0;
	while (ok < max && s[ok]) {
		unsigned char c = (unsigned char)s[ok];
		size_t n = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
			: (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		if (n == 0 || ok + n > max || memchr(s + ok, '\0', n) || !utf8_valid(s + ok, n))
			break;
		ok += n;
	}
	return ok;
}
