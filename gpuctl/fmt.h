/* How gpuctl writes times, quotas and counts for people: local time (with
 * the date when not today) and ages ("5m ago"); GPU-hours with one decimal
 * ("100.0 GPU-h"); plurals; colour only on a terminal without NO_COLOR.
 * JSON and YAML keep the wire's RFC 3339 UTC strings and integer seconds. */
#ifndef GPUAAS_GPUCTL_FMT_H
#define GPUAAS_GPUCTL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "14:02:05" today, "2026-11-26 14:02" another day (local time). */
char *fmt_when(int64_t t, int64_t now, char *buf, size_t size);
/* "2026-11-27 14:02:05": the local date and time, for logs (events). */
char *fmt_stamp(int64_t t, char *buf, size_t size);
/* "5m ago", "2h10m ago", "in 3h", "now": the two largest units. */
char *fmt_age(int64_t t, int64_t now, char *buf, size_t size);
/* "14:02:05 (5m ago)"; "-" for t <= 0. */
char *fmt_when_age(int64_t t, int64_t now, char *buf, size_t size);
/* An RFC 3339 member of o as Unix time; 0 when absent or null. */
int64_t fmt_member_time(const void *o, const char *key);
/* "100.0 GPU-h": GPU-seconds as GPU-hours, one decimal, rounded. */
char *fmt_gpu_hours(int64_t secs, char *buf, size_t size);
/* "1 job", "3 jobs": n and the word, plural when n != 1 (word + "s"). */
char *fmt_count(int64_t n, const char *word, char *buf, size_t size);

/* Colours for table cells (0: none). */
enum colour { COLOUR_NONE = 0, COLOUR_GREEN, COLOUR_YELLOW, COLOUR_RED, COLOUR_BLUE, COLOUR_DIM };
/* Whether stdout gets colour: a terminal, NO_COLOR unset or empty, TERM not "dumb". */
bool fmt_colour_on(void);
/* The escape sequence that starts colour k ("" for none). */
const char *fmt_colour_start(enum colour k);
/* The colour a job status is shown in. */
enum colour fmt_status_colour(const char *status);

#endif
