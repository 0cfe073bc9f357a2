#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

cJSON *json_parse_strict(const char *buf, size_t len)
{
	if (len == 0 || memchr(buf, '\0', len) || has_escaped_nul(buf, len))
		return NULL;
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
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
	if (!cJSON_IsNumber(it))
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

char *time_format_rfc3339(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (size)
			buf[0] = '\0';
	}
	return buf;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

cJSON *json_add_time(cJSON *obj, const char *key, int64_t t)
{
	if (t <= 0)
		return cJSON_AddNullToObject(obj, key);
	char buf[32];
	return cJSON_AddStringToObject(obj, key, time_format_rfc3339(t, buf, sizeof buf));
}
