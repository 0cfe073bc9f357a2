/* Times, GPU-hours, plurals and colour for text output (fmt.h). */
#include "gpuctl/fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"

char *fmt_when(int64_t t, int64_t now, char *buf, size_t size)
{
	time_t tt = (time_t)t, nn = (time_t)now;
	struct tm tm, today;
	if (!localtime_r(&tt, &tm) || !localtime_r(&nn, &today)) {
		snprintf(buf, size, "-");
		return buf;
	}
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(buf, size, "%H:%M:%S", &tm);
	else
		strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

char *fmt_stamp(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

char *fmt_age(int64_t t, int64_t now, char *buf, size_t size)
{
	int64_t d = now - t;
	bool future = d < 0;
	if (future)
		d = -d;
	if (d == 0) {
		snprintf(buf, size, "now");
		return buf;
	}
	static const struct { int64_t secs; char unit; } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	char amount[32] = "";
	size_t off = 0;
	int shown = 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0] && shown < 2; i++) {
		int64_t n = d / units[i].secs;
		if (n == 0 && shown == 0)
			continue;
		d %= units[i].secs;
		shown++;
		if (n == 0)
			break;
		int w = snprintf(amount + off, sizeof amount - off, "%lld%c", (long long)n, units[i].unit);
		if (w < 0 || (size_t)w >= sizeof amount - off)
			break;
		off += (size_t)w;
	}
	snprintf(buf, size, future ? "in %s" : "%s ago", amount);
	return buf;
}

char *fmt_when_age(int64_t t, int64_t now, char *buf, size_t size)
{
	if (t <= 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	char when[48], age[48];
	snprintf(buf, size, "%s (%s)", fmt_when(t, now, when, sizeof when), fmt_age(t, now, age, sizeof age));
	return buf;
}

int64_t fmt_member_time(const void *o, const char *key)
{
	const cJSON *it = json_get(o, key);
	int64_t t = 0;
	if (!cJSON_IsString(it) || time_parse_rfc3339(it->valuestring, &t) < 0)
		return 0;
	return t;
}

char *fmt_gpu_hours(int64_t secs, char *buf, size_t size)
{
	/* Tenths of an hour, rounded half up, in integers: no float surprises. */
	bool neg = secs < 0;
	uint64_t s = neg ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
	uint64_t tenths = (s * 10 + 1800) / 3600;
	snprintf(buf, size, "%s%llu.%llu GPU-h", neg ? "-" : "", (unsigned long long)(tenths / 10),
		(unsigned long long)(tenths % 10));
	return buf;
}

char *fmt_count(int64_t n, const char *word, char *buf, size_t size)
{
	snprintf(buf, size, "%lld %s%s", (long long)n, word, n == 1 ? "" : "s");
	return buf;
}

bool fmt_colour_on(void)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (no && *no)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

const char *fmt_colour_start(enum colour k)
{
	switch (k) {
	case COLOUR_GREEN: return "\033[32m";
	case COLOUR_YELLOW: return "\033[33m";
	case COLOUR_RED: return "\033[31m";
	case COLOUR_BLUE: return "\033[34m";
	case COLOUR_DIM: return "\033[2m";
	default: return "";
	}
}

enum colour fmt_status_colour(const char *status)
{
	static const struct {
		const char *name;
		enum colour colour;
	} states[] = {
		{"PENDING", COLOUR_YELLOW}, {"APPROVED", COLOUR_YELLOW}, {"RUNNING", COLOUR_GREEN},
		{"COMPLETED", COLOUR_GREEN}, {"FAILED", COLOUR_RED}, {"REJECTED", COLOUR_RED},
		{"CANCELLED", COLOUR_DIM}, {"EXPIRED", COLOUR_DIM},
	};
	/* The first letter before the whole word: this runs on every row. */
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (status[0] == states[i].name[0] && strcmp(status, states[i].name) == 0)
			return states[i].colour;
	return COLOUR_NONE;
}
