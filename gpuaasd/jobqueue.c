/* A type's queue of approved jobs (see jobqueue.h). */
#include "gpuaasd/jobqueue.h"

#include <stdlib.h>
#include <string.h>

static void compact(struct job_queue *jq)
{
	if (jq->head == 0)
		return;
	memmove(jq->q, jq->q + jq->head, (jq->len - jq->head) * sizeof *jq->q);
	jq->len -= jq->head;
	jq->head = 0;
}

/* First live index whose seq >= seq. */
static size_t lower_bound(const struct job_queue *jq, int64_t seq)
{
	size_t lo = jq->head, hi = jq->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (jq->q[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int jobqueue_insert(struct job_queue *jq, int64_t job_id, int64_t seq, int count, int64_t time_limit)
{
	if (jq->len == jq->cap) {
		compact(jq);
		if (jq->len == jq->cap) {
			size_t n = jq->cap ? jq->cap * 2 : 64;
			struct queued *nq = realloc(jq->q, n * sizeof *nq);
			if (!nq)
				return -1;
			jq->q = nq;
			jq->cap = n;
		}
	}
	size_t at = lower_bound(jq, seq);
	memmove(jq->q + at + 1, jq->q + at, (jq->len - at) * sizeof *jq->q);
	jq->q[at] = (struct queued){job_id, seq, count, time_limit};
	jq->len++;
	return 0;
}

bool jobqueue_remove(struct job_queue *jq, int64_t job_id, int64_t seq)
{
	size_t i = lower_bound(jq, seq);
	if (i >= jq->len || jq->q[i].seq != seq || jq->q[i].job_id != job_id)
		return false;
	memmove(jq->q + i, jq->q + i + 1, (jq->len - i - 1) * sizeof *jq->q);
	jq->len--;
	return true;
}

int jobqueue_position(const struct job_queue *jq, int64_t seq)
{
	size_t i = lower_bound(jq, seq);
	if (i < jq->len && jq->q[i].seq == seq)
		return (int)(i - jq->head) + 1;
	return 0;
}

const struct queued *jobqueue_head(const struct job_queue *jq)
{
	return jq->head < jq->len ? &jq->q[jq->head] : NULL;
}

const struct queued *jobqueue_at(const struct job_queue *jq, size_t i)
{
	return &jq->q[jq->head + i];
}

void jobqueue_pop(struct job_queue *jq)
{
	if (jq->head < jq->len)
		jq->head++;
	if (jq->head == jq->len)
		jq->head = jq->len = 0;
}

size_t jobqueue_length(const struct job_queue *jq)
{
	return jq->len - jq->head;
}

void jobqueue_clear(struct job_queue *jq)
{
	jq->head = jq->len = 0;
}

void jobqueue_finish(struct job_queue *jq)
{
	free(jq->q);
	memset(jq, 0, sizeof *jq);
}
