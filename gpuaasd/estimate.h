/* Estimated starts under the scheduler's strict per-type FIFO: an upper
 * bound that assumes every running and waiting job uses its whole time
 * limit. Devices are a min-heap of the times they become free; each job in
 * queue order takes the `count` that free up first and starts when the last
 * of them does, never before the job ahead of it. Pure functions (no
 * database, no clock): the scheduler feeds them and caches the results. */
#ifndef GPUAAS_GPUAASD_ESTIMATE_H
#define GPUAAS_GPUAASD_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

/* Never: the job needs more devices than the type has. */
#define ESTIMATE_NEVER INT64_MAX

/* The state after some jobs: when each device frees up (a heap), and when
 * the last job started (the next cannot start before it). */
struct estimate_state {
	int64_t *free_at; /* ndev entries, owned by the caller */
	int ndev;
	int64_t last_start;
};

/* Sets up the state from each device's free time (now for a free device).
 * Takes free_at (ndev entries) as the heap's storage. */
void estimate_begin(struct estimate_state *e, int64_t *free_at, int ndev, int64_t now);
/* The start of the next job in line (count devices for duration_ms), and
 * the state after it. ESTIMATE_NEVER (state unchanged) when count > ndev. */
int64_t estimate_add(struct estimate_state *e, int count, int64_t duration_ms);
/* The start the next job would get, without taking it into the state. */
int64_t estimate_peek(const struct estimate_state *e, int count);

#endif
