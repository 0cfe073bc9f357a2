/* `gpuctl list` reads job.list's brief rows ([id, name, owner, gpu_type,
 * gpu_count, time_limit, status, created_at]), parsed in place from the
 * reply text: at 10,000 jobs, building cJSON trees cost more than the
 * daemon's whole query. */
#ifndef GPUAAS_GPUCTL_BRIEF_H
#define GPUAAS_GPUCTL_BRIEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The four strings of a brief row, for lens and widths. */
enum { BRIEF_NAME, BRIEF_OWNER, BRIEF_TYPE, BRIEF_STATUS, BRIEF_STRS };
#define BRIEF_UNMEASURED UINT16_MAX

struct brief_row {
	int64_t id, count, time_limit, created_at;
	const char *name, *owner, *type, *status; /* point into the parsed text */
	int64_t started_at;                       /* not in the brief row: filled in for RUNNING jobs, else 0 */
	/* Each string's bytes and characters, counted while it was decoded
	 * (a table need not count them again); len BRIEF_UNMEASURED when it
	 * holds control characters or is longer. */
	uint16_t lens[BRIEF_STRS], widths[BRIEF_STRS];
};

/* Parses a job.list brief reply ({"jobs":[[...],...],"next_before_id":N})
 * in place, appending rows to *rows (grown with realloc). Returns 0, or -1
 * when the text is not of that shape. */
int brief_parse(char *text, struct brief_row **rows, size_t *n, size_t *cap, int64_t *next_before_id);
/* next_before_id read backwards from the end of a job.list reply text
 * ("...,\"next_before_id\":N}"), without reading the rows, so that the
 * next page can be asked for first: N, 0 for null, -1 when the text does
 * not end that way. */
int64_t brief_tail_cursor(const char *text, size_t len);

#endif
