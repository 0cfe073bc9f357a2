/* The batch transaction on a real SQLite database: units of work kept or
 * undone alone, nothing visible to another connection before the commit,
 * everything after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "gpuaasd/batch.h"
#include "gpuaasd/db.h"

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
	struct batch *batch;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/gpuaas-batch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/gpuaas.db", f->dir);
	char err[256];
	assert_int_equal(db_open(f->path, &f->db, err, sizeof err), 0);
	f->batch = batch_create(f->db);
	assert_non_null(f->batch);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	batch_destroy(f->batch);
	db_close(f->db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int add_user(struct db *db, const char *name)
{
	return db_user_insert(db, name, "$2b$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false, 0, 1, 0, NULL);
}

/* Users as another connection sees them: only committed rows. */
static int committed_users(const char *path)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(c, "SELECT count(*) FROM users", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(c);
	return n;
}

static bool user_exists(struct db *db, const char *name)
{
	struct user_row u;
	return db_user_by_name(db, name, &u) == 0;
}

static void test_empty_commit(void **state)
{
	struct fixture *f = *state;
	assert_false(batch_is_open(f->batch));
	assert_int_equal(batch_commit(f->batch), BATCH_EMPTY);
}

static void test_units_kept_and_undone(void **state)
{
	struct fixture *f = *state;
	int base = committed_users(f->path);
	assert_int_equal(batch_enter(f->batch), 0);
	assert_true(batch_is_open(f->batch));
	assert_int_equal(add_user(f->db, "alice"), 0);
	assert_int_equal(batch_leave(f->batch, true), 0);
	/* A failed unit takes only its own writes with it. */
	assert_int_equal(batch_enter(f->batch), 0);
	assert_int_equal(add_user(f->db, "bob"), 0);
	assert_true(user_exists(f->db, "bob"));
	assert_int_equal(batch_leave(f->batch, false), 0);
	assert_false(user_exists(f->db, "bob"));
	assert_true(user_exists(f->db, "alice"));
	assert_int_equal(batch_units(f->batch), 2);
	/* Nothing is visible outside before the commit... */
	assert_int_equal(committed_users(f->path), base);
	assert_int_equal(batch_commit(f->batch), BATCH_COMMITTED);
	assert_false(batch_is_open(f->batch));
	/* ...and exactly the kept unit after it. */
	assert_int_equal(committed_users(f->path), base + 1);
}

struct run_arg {
	struct db *db;
	const char *name;
	int result;
};

static int run_fn(void *arg)
{
	struct run_arg *a = arg;
	if (add_user(a->db, a->name) != 0)
		return -1;
	return a->result;
}

static void test_batch_run(void **state)
{
	struct fixture *f = *state;
	struct run_arg ok = {f->db, "carol", 0}, conflict = {f->db, "dave", DB_CONFLICT};
	assert_int_equal(batch_run(f->batch, run_fn, &ok), 0);
	/* fn's own result comes back, and its writes are undone. */
	assert_int_equal(batch_run(f->batch, run_fn, &conflict), DB_CONFLICT);
	assert_int_equal(batch_commit(f->batch), BATCH_COMMITTED);
	assert_true(user_exists(f->db, "carol"));
	assert_false(user_exists(f->db, "dave"));
	/* A unit that fails inside (a duplicate name) leaves the batch usable. */
	struct run_arg dup = {f->db, "carol", 0};
	assert_int_not_equal(batch_run(f->batch, run_fn, &dup), 0);
	struct run_arg erin = {f->db, "erin", 0};
	assert_int_equal(batch_run(f->batch, run_fn, &erin), 0);
	assert_int_equal(batch_commit(f->batch), BATCH_COMMITTED);
	assert_true(user_exists(f->db, "erin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_units_kept_and_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
