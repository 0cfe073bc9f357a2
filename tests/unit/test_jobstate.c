/* The job state machine, the quota arithmetic and the inventory parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gpuaasd/inventory.h"
#include "gpuaasd/jobstate.h"

static void test_transitions(void **state)
{
	(void)state;
	/* The whole table, so a new edge cannot slip in unnoticed. */
	const bool allowed[JOB__COUNT][JOB__COUNT] = {
		[JOB_PENDING] = {[JOB_APPROVED] = true, [JOB_REJECTED] = true, [JOB_CANCELLED] = true, [JOB_EXPIRED] = true},
		[JOB_APPROVED] = {[JOB_RUNNING] = true, [JOB_CANCELLED] = true},
		[JOB_RUNNING] = {[JOB_COMPLETED] = true, [JOB_FAILED] = true, [JOB_CANCELLED] = true},
	};
	for (int f = 0; f < JOB__COUNT; f++)
		for (int t = 0; t < JOB__COUNT; t++)
			assert_int_equal(job_transition_allowed((enum job_state)f, (enum job_state)t), allowed[f][t]);
	assert_true(job_state_final(JOB_COMPLETED));
	assert_true(job_state_final(JOB_REJECTED));
	assert_true(job_state_final(JOB_EXPIRED));
	assert_false(job_state_final(JOB_RUNNING));
	enum job_state s;
	assert_int_equal(job_state_parse("running", &s), 0);
	assert_int_equal(s, JOB_RUNNING);
	assert_int_equal(job_state_parse("RUNNIN", &s), -1);
	assert_string_equal(job_state_name(JOB_CANCELLED), "CANCELLED");
	assert_null(job_state_name(JOB__COUNT));
}

static void test_quota_maths(void **state)
{
	(void)state;
	int64_t n;
	assert_true(quota_need(2, 3600, &n));
	assert_int_equal(n, 7200);
	assert_false(quota_need(0, 10, &n));
	assert_false(quota_need(1, 0, &n));
	assert_false(quota_need(-1, 10, &n));
	assert_false(quota_need(INT64_MAX / 2, 3, &n)); /* overflow refused, not wrapped */
	assert_true(quota_need(INT64_MAX / 2, 2, &n));
	assert_int_equal(quota_available(100, 30), 70);
	assert_int_equal(quota_available(10, 30), 0); /* never negative */
	assert_int_equal(quota_charge(2, 10, 100), 20);
	assert_int_equal(quota_charge(2, 10, 15), 15); /* capped at remaining */
	assert_int_equal(quota_charge(2, 0, 100), 0);
	assert_int_equal(quota_charge(INT64_MAX, INT64_MAX, 5), 5);
	assert_int_equal(sim_nominal_seconds(1000, 0.01, 3600), 100);
	assert_int_equal(sim_nominal_seconds(1001, 1.0, 3600), 2); /* rounded up */
	assert_int_equal(sim_nominal_seconds(10000000, 1.0, 60), 60); /* capped */
	assert_int_equal(sim_nominal_seconds(0, 1.0, 60), 0);
}

static void test_inventory(void **state)
{
	(void)state;
	struct inventory inv;
	char err[256];
	assert_int_equal(inventory_parse("a100:2,V100:2,t4:4", &inv, err, sizeof err), 0);
	assert_int_equal(inv.ntypes, 3);
	assert_string_equal(inv.types[0].name, "A100");
	assert_int_equal(inv.types[2].total, 4);
	assert_int_equal(inventory_find(&inv, "t4"), 2);
	assert_int_equal(inventory_find(&inv, "H100"), -1);
	const char *bad[] = {"", "A100", "A100:", "A100:0", "A100:x", ":2", "A100:2,", "A100:2,A100:1",
		"A 100:1", "A100:99999", "A100:2;T4:1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(inventory_parse(bad[i], &inv, err, sizeof err), -1);
}

static void test_gpu_models(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{"NVIDIA A100-SXM4-80GB", "A100"}, {"NVIDIA A100 80GB PCIe", "A100"}, {"NVIDIA H100 80GB HBM3", "H100"},
		{"NVIDIA H200", "H200"}, {"Tesla V100-SXM2-32GB", "V100"}, {"Tesla T4", "T4"}, {"NVIDIA L4", "L4"},
		{"NVIDIA L40S", "L40S"}, {"NVIDIA A10G", "A10G"}, {"NVIDIA A10", "A10"},
		{"NVIDIA GeForce RTX 4090", "RTX-4090"}, {"NVIDIA Frobnicator X", "FROBNICATOR-X"},
	};
	char out[32];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		inventory_type_from_model(cases[i][0], out, sizeof out);
		assert_string_equal(out, cases[i][1]);
	}
}

static void test_smi_csv(void **state)
{
	(void)state;
	struct inventory inv;
	char err[128];
	const char *csv = "0, GPU-aaa, NVIDIA H100 80GB HBM3, 81559\n"
			  "1, GPU-bbb, NVIDIA H100 80GB HBM3, 81559\n"
			  "2, GPU-ccc, Tesla T4, 15360\n";
	assert_int_equal(inventory_from_smi_csv(csv, &inv, err, sizeof err), 0);
	assert_int_equal(inv.ntypes, 2);
	assert_string_equal(inv.types[0].name, "H100");
	assert_int_equal(inv.types[0].total, 2);
	assert_int_equal(inv.types[1].total, 1);
	const struct gpu_device *dev = inventory_device(&inv, 1, 0);
	assert_non_null(dev);
	assert_string_equal(dev->uuid, "GPU-ccc");
	assert_int_equal(inventory_device_index(&inv, 0, 1), 1);
	assert_int_equal(inv.devices[0].mem_mib, 81559);
	inventory_finish(&inv);
	assert_int_equal(inventory_from_smi_csv("", &inv, err, sizeof err), -1);
	assert_int_equal(inventory_from_smi_csv("No devices were found\n", &inv, err, sizeof err), -1);
	/* --gpus numbering: devices 0..N-1 in spec order. */
	assert_int_equal(inventory_parse("T4:2,A100:1", &inv, err, sizeof err), 0);
	assert_int_equal(inventory_device_index(&inv, 1, 0), 2);
	assert_null(inventory_device(&inv, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_quota_maths),
		cmocka_unit_test(test_inventory),
		cmocka_unit_test(test_gpu_models),
		cmocka_unit_test(test_smi_csv),
	};
	return cmocka_run_group_tests_name("jobstate", tests, NULL, NULL);
}
