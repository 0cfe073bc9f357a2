#include "common/duration.h"

#include <stdio.h>

static int unit_seconds(char c, int64_t *mult, int *rank)
{
	switch (c) {
	case 'd': *mult = 86400; *rank = 4; return 0;
	case 'h': *mult = 3600; *rank = 3; return 0;
	case 'm': *mult = 60; *rank = 2; return 0;
	case 's': *mult = 1; *rank = 1; return 0;
	default: return -1;
	}
}

int duration_parse(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	int64_t total = 0;
	int last_rank = 5;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -1;
		int64_t n = 0;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p - '0');
			if (n > DURATION_MAX)
				return -1;
			p++;
		}
		int64_t mult = 1;
		int rank = 0;
		if (*p == '\0') {
			/* A bare number is seconds, and only allowed alone: "1m30"
			 * could mean 30 seconds or be a typo for 1m30s... or 1h30. */
			if (last_rank != 5)
				return -1;
		} else {
			if (unit_seconds(*p, &mult, &rank) < 0 || rank >= last_rank)
				return -1;
			last_rank = rank;
			p++;
		}
		if (n > (DURATION_MAX - total) / mult)
			return -1;
		total += n * mult;
	}
	*out = total;
	return 0;
}

char *duration_format(int64_t secs, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (secs < 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	if (secs == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	static const struct { int64_t mult; char unit; } units[] = {
		{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		int64_t n = secs / units[i].mult;
		secs %= units[i].mult;
		if (n == 0)
			continue;
		int w = snprintf(buf + off, size - off, "%lld%c", (long long)n, units[i].unit);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
	return buf;
}
