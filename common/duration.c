#include "common/duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* Reads 1 to max_digits digits at *p into *v (no overflow: callers bound
 * max_digits). Returns the number of digits read (0: none). */
static int read_digits(const char **p, int max_digits, int64_t *v)
{
	int n = 0;
	*v = 0;
	while (**p >= '0' && **p <= '9' && n < max_digits) {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n;
}

/* Slurm's clock forms: [D-]HH[:MM[:SS]] with a day part, MM:SS or HH:MM:SS
 * without one. */
static enum duration_error parse_clock(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t f[4] = {0, 0, 0, 0}, days = 0;
	bool has_days = strchr(s, '-') != NULL;
	if (has_days) {
		if (read_digits(&p, 12, &days) == 0 || *p++ != '-')
			return DURATION_JUNK;
	}
	int n = 0;
	for (;;) {
		/* The first field may be long (minutes or hours); the others 1-2 digits. */
		if (read_digits(&p, n == 0 && !has_days ? 12 : 2, &f[n]) == 0)
			return DURATION_JUNK;
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ':' || n == 3)
			return DURATION_JUNK;
	}
	if (!has_days && n < 2)
		return DURATION_JUNK;
	/* Without days: MM:SS or HH:MM:SS. With days: HH, HH:MM or HH:MM:SS. */
	int64_t h = 0, m = 0, sec = 0;
	if (has_days) {
		h = f[0], m = n > 1 ? f[1] : 0, sec = n > 2 ? f[2] : 0;
		if (h >= 24)
			return DURATION_FIELD;
	} else if (n == 2) {
		m = f[0], sec = f[1];
	} else {
		h = f[0], m = f[1], sec = f[2];
		if (m >= 60)
			return DURATION_FIELD;
	}
	if (sec >= 60 || (has_days && m >= 60))
		return DURATION_FIELD;
	if (days > DURATION_MAX / 86400 || h > DURATION_MAX / 3600 || m > DURATION_MAX / 60)
		return DURATION_TOO_BIG;
	int64_t total = days * 86400 + h * 3600 + m * 60 + sec;
	if (total > DURATION_MAX)
		return DURATION_TOO_BIG;
	*out = total;
	return DURATION_OK;
}

/* One "<digits>[.<digits>]<unit>" at *p, added to *total. */
static enum duration_error parse_unit_part(const char **p, int *last_rank, int64_t *total)
{
	int64_t whole, frac = 0, scale = 1;
	if (read_digits(p, 12, &whole) == 0)
		return DURATION_JUNK;
	if (**p == '.') {
		(*p)++;
		const char *start = *p;
		if (read_digits(p, 9, &frac) == 0 || (**p >= '0' && **p <= '9'))
			return DURATION_JUNK;
		for (const char *q = start; q < *p; q++)
			scale *= 10;
	}
	if (**p == '\0')
		return DURATION_BARE;
	int64_t mult;
	int rank;
	if (unit_seconds(**p, &mult, &rank) < 0 || rank >= *last_rank)
		return DURATION_JUNK;
	(*p)++;
	*last_rank = rank;
	if (whole > DURATION_MAX / mult)
		return DURATION_TOO_BIG;
	/* (whole + frac/scale) * mult must be whole seconds. */
	if ((frac * mult) % scale != 0)
		return DURATION_NOT_WHOLE;
	int64_t add = whole * mult + frac * mult / scale;
	if (add > DURATION_MAX - *total)
		return DURATION_TOO_BIG;
	*total += add;
	return DURATION_OK;
}

enum duration_error duration_parse_cli(const char *s, int64_t *out)
{
	if (!s || !*s)
		return DURATION_JUNK;
	if (strchr(s, ':') || strchr(s, '-'))
		return parse_clock(s, out);
	int64_t total = 0;
	int last_rank = 5;
	const char *p = s;
	while (*p) {
		enum duration_error e = parse_unit_part(&p, &last_rank, &total);
		/* "1h30" is as ambiguous as "90"; both are bare numbers. */
		if (e != DURATION_OK)
			return e;
	}
	*out = total;
	return DURATION_OK;
}
