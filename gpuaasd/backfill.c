/* Conservative backfill (see backfill.h). */
#include "gpuaasd/backfill.h"

#include <string.h>

#include "gpuaasd/estimate.h"
#include "gpuaasd/inventory.h"

/* The FIFO starts of the not-chosen jobs before `upto`, from the device
 * free times dev (copied: dev is left as it is). */
static void fifo_starts(const int64_t *dev, int ndev, int64_t now, const struct bf_job *jobs, const bool *chosen,
	int upto, int64_t *starts)
{
	int64_t heap[INVENTORY_MAX_PER_TYPE];
	struct estimate_state e;
	memcpy(heap, dev, (size_t)ndev * sizeof *heap);
	estimate_begin(&e, heap, ndev, now);
	for (int j = 0; j < upto; j++)
		starts[j] = chosen[j] ? 0 : estimate_add(&e, jobs[j].count, jobs[j].duration_ms);
}

/* Devices free at now. */
static int free_now(const int64_t *dev, int ndev, int64_t now)
{
	int n = 0;
	for (int k = 0; k < ndev; k++)
		n += dev[k] <= now;
	return n;
}

/* dev with job taking count of the devices free now until now + duration. */
static void occupy(int64_t *dev, int ndev, int64_t now, int count, int64_t duration_ms)
{
	for (int k = 0; k < ndev && count > 0; k++) {
		if (dev[k] <= now) {
			dev[k] = now + duration_ms;
			count--;
		}
	}
}

int backfill_choose(const int64_t *free_at, int ndev, int64_t now, const struct bf_job *jobs, int n, bool *chosen)
{
	int64_t dev[INVENTORY_MAX_PER_TYPE], trial[INVENTORY_MAX_PER_TYPE];
	int64_t base[BACKFILL_DEPTH], with[BACKFILL_DEPTH];
	int picked = 0;
	if (ndev > INVENTORY_MAX_PER_TYPE || n > BACKFILL_DEPTH)
		return 0;
	memcpy(dev, free_at, (size_t)ndev * sizeof *dev);
	for (int i = 0; i < n; i++)
		chosen[i] = false;
	/* jobs[0] is the head that does not fit: it is never chosen here. */
	for (int i = 1; i < n; i++) {
		if (jobs[i].count > free_now(dev, ndev, now))
			continue;
		memcpy(trial, dev, (size_t)ndev * sizeof *trial);
		occupy(trial, ndev, now, jobs[i].count, jobs[i].duration_ms);
		fifo_starts(dev, ndev, now, jobs, chosen, i, base);
		fifo_starts(trial, ndev, now, jobs, chosen, i, with);
		bool delays = false;
		for (int j = 0; j < i && !delays; j++)
			delays = !chosen[j] && with[j] > base[j];
		if (delays)
			continue;
		chosen[i] = true;
		memcpy(dev, trial, (size_t)ndev * sizeof *dev);
		picked++;
	}
	return picked;
}
