/* `gpuctl list` as a table: brief rows ([id, name, owner, gpu_type,
 * gpu_count, time_limit, status, created_at]) are parsed in place from the
 * reply text and printed through one buffer: at 10,000 jobs, building cJSON
 * trees and printf per field cost more than the daemon's whole query. */
#ifndef GPUAAS_GPUCTL_TABLE_H
#define GPUAAS_GPUCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct brief_row {
	int64_t id, count, time_limit, created_at;
	const char *name, *owner, *type, *status; /* point into the parsed text */
};

/* Parses a job.list brief reply ({"jobs":[[...],...],"next_before_id":N})
 * in place, appending rows to *rows (grown with realloc). Returns 0, or -1
 * when the text is not of that shape (the caller falls back to cJSON). */
int brief_parse(char *text, struct brief_row **rows, size_t *n, size_t *cap, int64_t *next_before_id);
/* Prints the header and rows (or ids only), newest first or reversed. */
void brief_print(const struct brief_row *rows, size_t n, bool reverse, bool quiet);

#endif
