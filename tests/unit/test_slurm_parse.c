/* What the Slurm executor reads from Slurm's commands: squeue and sacct
 * lines, elapsed times, sbatch's id, the state mapping, and minutes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "gpuaasd/exec-slurm.h"

static void test_elapsed_and_minutes(void **state)
{
	(void)state;
	assert_int_equal(slurm_parse_elapsed("45"), 45);
	assert_int_equal(slurm_parse_elapsed("02:03"), 123);
	assert_int_equal(slurm_parse_elapsed("01:02:03"), 3723);
	assert_int_equal(slurm_parse_elapsed("2-01:02:03"), 2 * 86400 + 3723);
	assert_int_equal(slurm_parse_elapsed("x1"), -1);
	/* Slurm counts minutes: a limit is rounded up, never down. */
	assert_int_equal(slurm_time_minutes(1), 1);
	assert_int_equal(slurm_time_minutes(60), 1);
	assert_int_equal(slurm_time_minutes(61), 2);
	assert_int_equal(slurm_time_minutes(5400), 90);
}

static void test_squeue_and_sbatch(void **state)
{
	(void)state;
	struct slurm_row r;
	assert_int_equal(slurm_parse_squeue_line("123|gpuaas-42|RUNNING|None|01:00|0|gpuaas:abc|", &r), 0);
	assert_int_equal(r.slurm_id, 123);
	assert_int_equal(r.gpuaas_id, 42);
	assert_string_equal(r.state, "RUNNING");
	assert_int_equal(r.used, 60);
	assert_string_equal(r.comment, "gpuaas:abc");
	/* Another job's name is not ours. */
	assert_int_equal(slurm_parse_squeue_line("124|train|PENDING|Resources|0:00|0||", &r), 0);
	assert_int_equal(r.gpuaas_id, 0);
	assert_int_equal(slurm_parse_squeue_line("garbage", &r), -1);
	int64_t id = 0;
	assert_int_equal(slurm_parse_sbatch_id("4242\n", &id), 0);
	assert_int_equal(id, 4242);
	assert_int_equal(slurm_parse_sbatch_id("4243;cluster\n", &id), 0);
	assert_int_equal(id, 4243);
	assert_int_equal(slurm_parse_sbatch_id("sbatch: error: x", &id), -1);
}

static void test_states_map(void **state)
{
	(void)state;
	struct slurm_row r;
	enum job_state to;
	char reason[128];
	int code;
	memset(&r, 0, sizeof r);
	strcpy(r.state, "PENDING");
	assert_int_equal(slurm_state_fate(&r, &to, reason, sizeof reason, &code), SLURM_LIVE);
	strcpy(r.state, "COMPLETED");
	assert_int_equal(slurm_state_fate(&r, &to, reason, sizeof reason, &code), SLURM_END);
	assert_int_equal(to, JOB_COMPLETED);
	strcpy(r.state, "TIMEOUT");
	assert_int_equal(slurm_state_fate(&r, &to, reason, sizeof reason, &code), SLURM_END);
	assert_int_equal(to, JOB_FAILED);
	assert_string_equal(reason, "time limit");
	strcpy(r.state, "CANCELLED");
	assert_int_equal(slurm_state_fate(&r, &to, reason, sizeof reason, &code), SLURM_END);
	assert_int_equal(to, JOB_CANCELLED);
	strcpy(r.state, "OUT_OF_MEMORY");
	assert_int_equal(slurm_state_fate(&r, &to, reason, sizeof reason, &code), SLURM_END);
	assert_string_equal(reason, "out of memory");
	assert_true(slurm_error_transient("sbatch: error: Batch job submission failed: Unable to contact slurm "
					  "controller (connect failure)"));
	assert_false(slurm_error_transient("sbatch: error: Batch job submission failed: Invalid partition name "
					   "specified"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elapsed_and_minutes),
		cmocka_unit_test(test_squeue_and_sbatch),
		cmocka_unit_test(test_states_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
