/* Estimated starts (see estimate.h). */
#include "gpuaasd/estimate.h"

#include <string.h>

#include "gpuaasd/inventory.h"

static void sift_down(int64_t *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l] < h[m])
			m = l;
		if (r < n && h[r] < h[m])
			m = r;
		if (m == i)
			return;
		int64_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(int64_t *h, int i)
{
	while (i > 0 && h[(i - 1) / 2] > h[i]) {
		int p = (i - 1) / 2;
		int64_t t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

void estimate_begin(struct estimate_state *e, int64_t *free_at, int ndev, int64_t now)
{
	e->free_at = free_at;
	e->ndev = ndev;
	e->last_start = now;
	for (int i = 0; i < ndev; i++)
		if (free_at[i] < now)
			free_at[i] = now;
	for (int i = ndev / 2 - 1; i >= 0; i--)
		sift_down(free_at, ndev, i);
}

int64_t estimate_add(struct estimate_state *e, int count, int64_t duration_ms)
{
	if (count < 1 || count > e->ndev)
		return ESTIMATE_NEVER;
	/* Take the count earliest devices off the heap; the job starts when
	 * the last of them is free (and not before the job ahead of it). */
	int64_t start = e->last_start;
	int n = e->ndev;
	for (int k = 0; k < count; k++) {
		if (e->free_at[0] > start)
			start = e->free_at[0];
		e->free_at[0] = e->free_at[--n];
		sift_down(e->free_at, n, 0);
	}
	int64_t end = duration_ms > INT64_MAX - start ? INT64_MAX : start + duration_ms;
	for (int k = 0; k < count; k++) {
		e->free_at[n] = end;
		sift_up(e->free_at, n++);
	}
	e->last_start = start;
	return start;
}

int64_t estimate_peek(const struct estimate_state *e, int count)
{
	if (count < 1 || count > e->ndev)
		return ESTIMATE_NEVER;
	int64_t scratch[INVENTORY_MAX_PER_TYPE];
	struct estimate_state copy = *e;
	memcpy(scratch, e->free_at, (size_t)e->ndev * sizeof *scratch);
	copy.free_at = scratch;
	return estimate_add(&copy, count, 0);
}
