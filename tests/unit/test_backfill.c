/* Conservative backfill: the decision (which later jobs may start now) and
 * its promise — no job ahead of a backfilled one starts later than the
 * estimate it had when that one was backfilled — over random queues, with
 * ties, with jobs that end early, and with a time limit longer than the
 * head's wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpuaasd/backfill.h"
#include "gpuaasd/estimate.h"

/* The case that opened the issue: 2 A100, one busy until 100; job 7 needs
 * both (it starts at 100); job 8 needs one. */
static void test_job8_runs_on_the_free_a100_only_if_it_ends_in_time(void **state)
{
	(void)state;
	int64_t free_at[2] = {100, 0};
	bool chosen[3];
	struct bf_job fits[3] = {{2, 60}, {1, 50}, {1, 100}};
	/* Job 8 ends at 50, before job 7 can start at 100. */
	assert_int_equal(backfill_choose(free_at, 2, 0, fits, 3, chosen), 1);
	assert_false(chosen[0]);
	assert_true(chosen[1]);
	assert_false(chosen[2]); /* the free device is taken by job 8 now */
	/* A tie: ending exactly when job 7 would start delays nobody. */
	struct bf_job tie[2] = {{2, 60}, {1, 100}};
	assert_int_equal(backfill_choose(free_at, 2, 0, tie, 2, chosen), 1);
	/* A time limit longer than the head's wait: it would delay job 7. */
	struct bf_job too_long[2] = {{2, 60}, {1, 101}};
	assert_int_equal(backfill_choose(free_at, 2, 0, too_long, 2, chosen), 0);
}

/* Uses GPUs the reservations ahead do not need: 4 devices, head needs 3
 * (one busy until 100); a 1-GPU job of any length fits beside it. */
static void test_spare_devices_can_run_long_jobs(void **state)
{
	(void)state;
	int64_t free_at[4] = {100, 100, 0, 0};
	bool chosen[2];
	struct bf_job jobs[2] = {{3, 50}, {1, 100000}};
	assert_int_equal(backfill_choose(free_at, 4, 0, jobs, 2, chosen), 1);
	assert_true(chosen[1]);
}

/* FIFO starts of every job with the chosen ones running from now. */
static void starts_of(const int64_t *dev, int ndev, const struct bf_job *jobs, int n, const bool *skip,
	int64_t *out)
{
	int64_t heap[16];
	struct estimate_state e;
	memcpy(heap, dev, (size_t)ndev * sizeof *heap);
	estimate_begin(&e, heap, ndev, 0);
	for (int j = 0; j < n; j++)
		out[j] = skip && skip[j] ? -1 : estimate_add(&e, jobs[j].count, jobs[j].duration_ms);
}

static void test_random_queues_never_delay_anyone_ahead(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 2000; round++) {
		int ndev = 1 + rand() % 8, n = 2 + rand() % 20;
		int64_t dev[16], after[16], base[BACKFILL_DEPTH], with[BACKFILL_DEPTH];
		struct bf_job jobs[BACKFILL_DEPTH];
		bool chosen[BACKFILL_DEPTH];
		for (int k = 0; k < ndev; k++)
			dev[k] = rand() % 3 == 0 ? 0 : rand() % 200;
		for (int j = 0; j < n; j++)
			jobs[j] = (struct bf_job){1 + rand() % ndev, 1 + rand() % 150};
		starts_of(dev, ndev, jobs, n, NULL, base);
		backfill_choose(dev, ndev, 0, jobs, n, chosen);
		/* The chosen run from now on devices free now. */
		memcpy(after, dev, sizeof after);
		for (int j = 0; j < n; j++)
			for (int k = 0, c = chosen[j] ? jobs[j].count : 0; k < ndev && c > 0; k++)
				if (after[k] <= 0)
					after[k] = jobs[j].duration_ms, c--;
		starts_of(after, ndev, jobs, n, chosen, with);
		int last = -1;
		for (int j = 0; j < n; j++)
			if (chosen[j])
				last = j;
		for (int j = 0; j < last; j++)
			if (!chosen[j])
				assert_true(with[j] <= base[j]);
	}
}

/* A small event-driven run: jobs start by FIFO and backfill, end at their
 * real run time (often well before their limit); whenever a job is
 * backfilled, every job ahead of it must start by its estimate then. */
static void test_early_ends_keep_the_promise(void **state)
{
	(void)state;
	srand(11);
	for (int round = 0; round < 300; round++) {
		enum { NDEV = 4, N = 24 };
		struct bf_job jobs[N];
		int64_t run[N], started[N], promise[N], dev[NDEV] = {0}, now = 0;
		bool done[N] = {false};
		for (int j = 0; j < N; j++) {
			jobs[j] = (struct bf_job){1 + rand() % NDEV, 10 + rand() % 100};
			run[j] = 1 + rand() % jobs[j].duration_ms;
			started[j] = -1;
			promise[j] = INT64_MAX;
		}
		for (int steps = 0; steps < 10 * N; steps++) {
			/* The waiting ones, in order; start heads that fit. */
			int wait[N], nw = 0;
			for (int j = 0; j < N; j++)
				if (started[j] < 0)
					wait[nw++] = j;
			if (nw == 0)
				break;
			int freec = 0;
			for (int k = 0; k < NDEV; k++)
				freec += dev[k] <= now;
			while (nw > 0 && jobs[wait[0]].count <= freec) {
				int j = wait[0];
				for (int k = 0, c = jobs[j].count; k < NDEV && c > 0; k++)
					if (dev[k] <= now)
						dev[k] = now + run[j], c--;
				started[j] = now;
				freec -= jobs[j].count;
				memmove(wait, wait + 1, (size_t)--nw * sizeof *wait);
			}
			struct bf_job q[N];
			bool chosen[N];
			int64_t est[N], limits[NDEV];
			for (int i = 0; i < nw; i++)
				q[i] = jobs[wait[i]];
			/* Estimates assume whole limits: devices free at start + limit. */
			for (int k = 0; k < NDEV; k++)
				limits[k] = dev[k];
			if (nw > 1 && backfill_choose(limits, NDEV, now, q, nw, chosen) > 0) {
				int64_t heap[NDEV];
				struct estimate_state e;
				memcpy(heap, limits, sizeof heap);
				estimate_begin(&e, heap, NDEV, now);
				for (int i = 0; i < nw; i++)
					est[i] = estimate_add(&e, q[i].count, q[i].duration_ms);
				int last = 0;
				for (int i = 0; i < nw; i++)
					last = chosen[i] ? i : last;
				for (int i = 0; i < last; i++)
					if (!chosen[i] && est[i] < promise[wait[i]])
						promise[wait[i]] = est[i];
				for (int i = 0; i < nw; i++) {
					if (!chosen[i])
						continue;
					for (int k = 0, c = q[i].count; k < NDEV && c > 0; k++)
						if (dev[k] <= now)
							dev[k] = now + run[wait[i]], c--;
					started[wait[i]] = now;
				}
			}
			/* Next event: the earliest device that frees up later. */
			int64_t next = INT64_MAX;
			for (int k = 0; k < NDEV; k++)
				if (dev[k] > now && dev[k] < next)
					next = dev[k];
			now = next == INT64_MAX ? now + 1 : next;
			(void)done;
		}
		for (int j = 0; j < N; j++)
			if (promise[j] != INT64_MAX)
				assert_true(started[j] >= 0 && started[j] <= promise[j]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job8_runs_on_the_free_a100_only_if_it_ends_in_time),
		cmocka_unit_test(test_spare_devices_can_run_long_jobs),
		cmocka_unit_test(test_random_queues_never_delay_anyone_ahead),
		cmocka_unit_test(test_early_ends_keep_the_promise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
