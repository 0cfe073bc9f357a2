/* The parking service: requests answered only for their key and kinds,
 * staying parked while the answer says "not yet", timeouts, the per-user
 * bound, O(1) unlinking when clients go away in any order, and ending all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpuaasd/batch.h"
#include "gpuaasd/state.h"
#include "gpuaasd/dispatch.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/park.h"
#include "gpuaasd/server.h"

static struct daemon d;
static const struct op test_op = {"test.wait", NULL, OP_NO_AUTH};

/* What the answers saw. */
static int answers, final_answers;
static bool answer_ready;

static enum status answer(struct op_ctx *ctx, bool final)
{
	(void)ctx;
	answers++;
	final_answers += final;
	return answer_ready || final ? ST_OK : OP_PENDING;
}

static int setup(void **state)
{
	(void)state;
	memset(&d, 0, sizeof d);
	d.loop = loop_create();
	d.batch = batch_create(NULL); /* never entered: replies go out at once */
	d.disp = dispatch_create(&d);
	d.park = park_create(d.loop, 3);
	assert_non_null(d.loop);
	assert_non_null(d.park);
	answers = final_answers = 0;
	answer_ready = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	park_destroy(d.park);
	dispatch_destroy(d.disp);
	batch_destroy(d.batch);
	loop_destroy(d.loop);
	return 0;
}

/* A request of a client that is gone (the reply is built and dropped),
 * as the dispatcher would hand it to a handler. */
static struct op_ctx *new_ctx(int64_t user_id)
{
	struct op_ctx *ctx = calloc(1, sizeof *ctx);
	struct request *r = calloc(1, sizeof *r);
	assert_non_null(ctx);
	assert_non_null(r);
	ctx->d = &d;
	ctx->req = r;
	ctx->op = &test_op;
	ctx->user.id = user_id;
	r->ctx = ctx;
	return ctx;
}

static void test_key_and_kinds(void **state)
{
	(void)state;
	struct op_ctx *a = new_ctx(1);
	assert_int_equal(park_add(d.park, a, PARK_JOB_STATE, 7, -1, answer), OP_PENDING);
	assert_int_equal(park_count(d.park), 1);
	park_signal(d.park, PARK_JOB_STATE, 8);  /* another key */
	park_signal(d.park, PARK_JOB_OUTPUT, 7); /* a kind it does not listen to */
	park_flush(d.park);
	assert_int_equal(answers, 0);
	/* Its key: asked, says "not yet", stays parked. */
	park_signal(d.park, PARK_JOB_STATE, 7);
	park_flush(d.park);
	assert_int_equal(answers, 1);
	assert_int_equal(park_count(d.park), 1);
	/* Nothing new signalled: nothing asked. */
	park_flush(d.park);
	assert_int_equal(answers, 1);
	answer_ready = true;
	park_signal(d.park, PARK_JOB_STATE, 7);
	park_signal(d.park, PARK_JOB_STATE, 7); /* a repeat asks once */
	park_flush(d.park);
	assert_int_equal(answers, 2);
	assert_int_equal(park_count(d.park), 0);
	assert_int_equal(park_count_of_user(d.park, 1), 0);
}

static void test_per_user_bound(void **state)
{
	(void)state;
	struct op_ctx *mine[3];
	for (int i = 0; i < 3; i++) {
		mine[i] = new_ctx(5);
		assert_int_equal(park_add(d.park, mine[i], PARK_JOB_STATE, 100 + i, -1, answer), OP_PENDING);
	}
	struct op_ctx *over = new_ctx(5);
	assert_int_equal(park_add(d.park, over, PARK_JOB_STATE, 1, -1, answer), ST_RATE_LIMITED);
	assert_non_null(strstr(over->err, "too many waiting requests"));
	/* Another user is not affected. */
	struct op_ctx *other = new_ctx(6);
	assert_int_equal(park_add(d.park, other, PARK_JOB_STATE, 1, -1, answer), OP_PENDING);
	/* One of user 5's ends (its client went away): room again. */
	mine[1]->req->abandon(mine[1]->req);
	assert_int_equal(park_count_of_user(d.park, 5), 2);
	assert_int_equal(park_add(d.park, over, PARK_JOB_STATE, 1, -1, answer), OP_PENDING);
	assert_int_equal(park_count(d.park), 4);
	park_abandon_all(d.park);
	assert_int_equal(park_count(d.park), 0);
	assert_int_equal(answers, 0);
}

/* Thousands on one key, abandoned in a scattered order: each leaves alone. */
static void test_abandon_any_order(void **state)
{
	(void)state;
	enum { N = 5000 };
	park_set_limit(d.park, N);
	struct op_ctx **ctxs = calloc(N, sizeof *ctxs);
	assert_non_null(ctxs);
	for (int i = 0; i < N; i++) {
		ctxs[i] = new_ctx(9);
		assert_int_equal(park_add(d.park, ctxs[i], PARK_JOB_STATE, 42, -1, answer), OP_PENDING);
	}
	for (int step = 0; step < N; step++) {
		int i = (int)(((int64_t)step * 2731) % N); /* 2731 is prime to N: each once */
		ctxs[i]->req->abandon(ctxs[i]->req);
		assert_int_equal(park_count(d.park), (size_t)(N - step - 1));
	}
	assert_int_equal(park_count_of_user(d.park, 9), 0);
	free(ctxs);
}

static void stop_loop(struct loop *loop, void *data)
{
	(void)data;
	loop_stop(loop);
}

static void test_timeout(void **state)
{
	(void)state;
	struct op_ctx *a = new_ctx(1), *b = new_ctx(1);
	assert_int_equal(park_add(d.park, a, PARK_JOB_STATE, 1, 10, answer), OP_PENDING);
	assert_int_equal(park_add(d.park, b, PARK_JOB_STATE, 2, 60000, answer), OP_PENDING);
	assert_non_null(loop_timer_at(d.loop, loop_now_ms() + 200, stop_loop, NULL));
	assert_int_equal(loop_run(d.loop), 0);
	/* The short one was answered as final; the long one still waits. */
	assert_int_equal(final_answers, 1);
	assert_int_equal(park_count(d.park), 1);
	park_abandon_all(d.park);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_and_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_user_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandon_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
