/* Estimated starts under strict FIFO: the count earliest devices, never
 * before the job ahead, jobs that can never fit, and peeking without
 * taking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gpuaasd/estimate.h"

static void test_fifo_on_two_devices(void **state)
{
	(void)state;
	/* Device 0 busy until 100, device 1 until 50; now is 10. */
	int64_t free_at[2] = {100, 50};
	struct estimate_state e;
	estimate_begin(&e, free_at, 2, 10);
	/* One GPU: the first to free up (50), runs 30. */
	assert_int_equal(estimate_add(&e, 1, 30), 50);
	/* Two GPUs: both are free at max(80, 100) = 100. */
	assert_int_equal(estimate_add(&e, 2, 10), 100);
	/* One GPU after that: not before the job ahead (100), both free at 110. */
	assert_int_equal(estimate_peek(&e, 1), 110);
	assert_int_equal(estimate_add(&e, 1, 5), 110);
	/* FIFO: a small job never starts before the one ahead of it, even when
	 * a device is free earlier. */
	assert_int_equal(estimate_add(&e, 1, 5), 110);
	assert_int_equal(estimate_add(&e, 1, 5), 115);
}

static void test_free_devices_start_now_and_never_fit(void **state)
{
	(void)state;
	int64_t free_at[3] = {0, 0, 500};
	struct estimate_state e;
	estimate_begin(&e, free_at, 3, 200);
	assert_int_equal(estimate_peek(&e, 2), 200);
	assert_int_equal(estimate_peek(&e, 3), 500);
	assert_int_equal(estimate_add(&e, 4, 10), ESTIMATE_NEVER);
	assert_int_equal(estimate_add(&e, 0, 10), ESTIMATE_NEVER);
	/* The state is unchanged by a job that can never run. */
	assert_int_equal(estimate_add(&e, 2, 100), 200);
	assert_int_equal(estimate_add(&e, 1, 1), 300);
}

/* Many waiting jobs: starts never go backwards and each is when enough
 * devices are free by the model (a brute-force check on 4 devices). */
static void test_matches_brute_force(void **state)
{
	(void)state;
	int64_t free_at[4] = {40, 10, 70, 0}, sim[4] = {40, 10, 70, 0};
	struct estimate_state e;
	estimate_begin(&e, free_at, 4, 0);
	int64_t last = 0;
	for (int i = 0; i < 200; i++) {
		int count = 1 + (i * 7) % 4;
		int64_t dur = 5 + (i * 13) % 50;
		int64_t got = estimate_add(&e, count, dur);
		/* Brute force: sort the simulated free times, take count smallest. */
		for (int a = 0; a < 4; a++)
			for (int b = a + 1; b < 4; b++)
				if (sim[b] < sim[a]) {
					int64_t t = sim[a];
					sim[a] = sim[b];
					sim[b] = t;
				}
		int64_t want = sim[count - 1] > last ? sim[count - 1] : last;
		for (int k = 0; k < count; k++)
			sim[k] = want + dur;
		assert_int_equal(got, want);
		assert_true(got >= last);
		last = got;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_on_two_devices),
		cmocka_unit_test(test_free_devices_start_now_and_never_fit),
		cmocka_unit_test(test_matches_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
