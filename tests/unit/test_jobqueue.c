/* The scheduler's per-type queue of approved jobs: approval order whatever
 * the insertion order, positions, removal by seq, head and pop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "gpuaasd/jobqueue.h"

static void test_order_and_position(void **state)
{
	(void)state;
	struct job_queue q = {0};
	assert_null(jobqueue_head(&q));
	/* Inserted out of order (a resync reloads in any order): kept by seq. */
	assert_int_equal(jobqueue_insert(&q, 30, 3, 1, 60), 0);
	assert_int_equal(jobqueue_insert(&q, 10, 1, 2, 60), 0);
	assert_int_equal(jobqueue_insert(&q, 20, 2, 4, 60), 0);
	assert_int_equal(jobqueue_length(&q), 3);
	assert_int_equal(jobqueue_head(&q)->job_id, 10);
	assert_int_equal(jobqueue_head(&q)->count, 2);
	assert_int_equal(jobqueue_position(&q, 1), 1);
	assert_int_equal(jobqueue_position(&q, 2), 2);
	assert_int_equal(jobqueue_position(&q, 3), 3);
	assert_int_equal(jobqueue_position(&q, 4), 0);
	jobqueue_pop(&q);
	assert_int_equal(jobqueue_head(&q)->job_id, 20);
	/* Positions count from the live head. */
	assert_int_equal(jobqueue_position(&q, 3), 2);
	assert_int_equal(jobqueue_position(&q, 1), 0);
	jobqueue_finish(&q);
}

static void test_remove(void **state)
{
	(void)state;
	struct job_queue q = {0};
	for (int i = 1; i <= 5; i++)
		assert_int_equal(jobqueue_insert(&q, 100 + i, i, 1, 60), 0);
	/* The wrong id for a seq, or a seq not queued: nothing moves. */
	assert_false(jobqueue_remove(&q, 999, 3));
	assert_false(jobqueue_remove(&q, 103, 9));
	assert_true(jobqueue_remove(&q, 103, 3));
	assert_false(jobqueue_remove(&q, 103, 3));
	assert_int_equal(jobqueue_length(&q), 4);
	assert_int_equal(jobqueue_position(&q, 4), 3);
	/* Removing the head makes the next one the head. */
	assert_true(jobqueue_remove(&q, 101, 1));
	assert_int_equal(jobqueue_head(&q)->job_id, 102);
	jobqueue_pop(&q);
	jobqueue_pop(&q);
	jobqueue_pop(&q);
	assert_int_equal(jobqueue_length(&q), 0);
	assert_null(jobqueue_head(&q));
	jobqueue_pop(&q); /* empty: a no-op */
	assert_int_equal(jobqueue_length(&q), 0);
	jobqueue_finish(&q);
}

/* Many jobs through pops and inserts: the array is reused (compacted), and
 * the order and count stay right. */
static void test_churn(void **state)
{
	(void)state;
	struct job_queue q = {0};
	int64_t next_seq = 1, expect_head = 1;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 50; i++, next_seq++)
			assert_int_equal(jobqueue_insert(&q, next_seq * 10, next_seq, 1, 60), 0);
		for (int i = 0; i < 45; i++, expect_head++) {
			assert_int_equal(jobqueue_head(&q)->seq, expect_head);
			jobqueue_pop(&q);
		}
	}
	assert_int_equal(jobqueue_length(&q), 200 * 5);
	assert_int_equal(jobqueue_position(&q, next_seq - 1), 1000);
	assert_true(q.cap <= 4096); /* compaction kept it near what is live */
	jobqueue_clear(&q);
	assert_int_equal(jobqueue_length(&q), 0);
	jobqueue_finish(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_position),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
