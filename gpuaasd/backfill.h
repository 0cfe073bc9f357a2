/* Conservative backfill, the decision alone (pure: no clock, no database).
 * The head of a type's queue does not fit the free GPUs; a job further
 * back may start now only if it fits the GPUs free now and no job ahead of
 * it would start later than it would without it — judged, as Slurm's
 * conservative backfill does, with every job using its whole time limit
 * and the strict FIFO estimate (estimate.h) as each job's reservation.
 * Only the first jobs of a queue are looked at (a bounded depth), so a
 * round costs at most depth² heap steps. */
#ifndef GPUAAS_GPUAASD_BACKFILL_H
#define GPUAAS_GPUAASD_BACKFILL_H

#include <stdbool.h>
#include <stdint.h>

/* Waiting jobs a scheduling round looks at for backfill. */
#define BACKFILL_DEPTH 64

struct bf_job {
	int count;           /* GPUs it needs */
	int64_t duration_ms; /* its whole time limit, in wall time */
};

/* jobs[0..n) in queue order (n <= BACKFILL_DEPTH); free_at[0..ndev) when
 * each device frees up (<= now: free now). Sets chosen[i] for the jobs that
 * may start now, in queue order, each judged with the ones chosen before
 * it already running. Returns how many were chosen. */
int backfill_choose(const int64_t *free_at, int ndev, int64_t now, const struct bf_job *jobs, int n, bool *chosen);

#endif
