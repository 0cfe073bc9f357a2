/* One GPU type's queue of approved jobs, in approval order (by seq): a
 * sorted array whose live part is [head, len), so taking the head is O(1),
 * and finding a job's position or removing it by seq is a binary search.
 * Pure data structure: no database, no loop (unit-tested alone). */
#ifndef GPUAAS_GPUAASD_JOBQUEUE_H
#define GPUAAS_GPUAASD_JOBQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queued {
	int64_t job_id;
	int64_t seq;
	int count;          /* GPUs it needs */
	int64_t time_limit; /* seconds (for estimated starts) */
};

struct job_queue {
	struct queued *q;
	size_t head, len, cap;
};

/* Adds a job at its place by seq (usually the end). 0 or -1 on ENOMEM. */
int jobqueue_insert(struct job_queue *jq, int64_t job_id, int64_t seq, int count, int64_t time_limit);
/* Removes the job with this seq and id; false when it is not queued. */
bool jobqueue_remove(struct job_queue *jq, int64_t job_id, int64_t seq);
/* 1-based position of the job with this seq; 0 when not queued. */
int jobqueue_position(const struct job_queue *jq, int64_t seq);
/* The first job, or NULL when empty. */
const struct queued *jobqueue_head(const struct job_queue *jq);
/* The job at 0-based index i from the head (i < jobqueue_length). */
const struct queued *jobqueue_at(const struct job_queue *jq, size_t i);
/* Drops the first job (no-op when empty). */
void jobqueue_pop(struct job_queue *jq);
/* Number of queued jobs. */
size_t jobqueue_length(const struct job_queue *jq);
/* Empties the queue, keeping its memory. */
void jobqueue_clear(struct job_queue *jq);
/* Frees the memory. */
void jobqueue_finish(struct job_queue *jq);

#endif
