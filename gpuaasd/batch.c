/* The batch transaction (see batch.h). */
#include "gpuaasd/batch.h"

#include <stdlib.h>

#include "common/log.h"
#include "gpuaasd/db.h"

struct batch {
	struct db *db;
	bool open;
	unsigned units;
};

struct batch *batch_create(struct db *db)
{
	struct batch *b = calloc(1, sizeof *b);
	if (b)
		b->db = db;
	return b;
}

void batch_destroy(struct batch *b)
{
	if (!b)
		return;
	if (b->open)
		batch_commit(b);
	free(b);
}

bool batch_is_open(const struct batch *b)
{
	return b->open;
}

unsigned batch_units(const struct batch *b)
{
	return b->units;
}

int batch_enter(struct batch *b)
{
	if (!b->open) {
		if (db_begin(b->db) < 0)
			return -1;
		b->open = true;
		b->units = 0;
	}
	if (db_savepoint(b->db) < 0)
		return -1;
	b->units++;
	return 0;
}

int batch_leave(struct batch *b, bool keep)
{
	if (keep && db_release(b->db) == 0)
		return 0;
	/* Undone alone: the savepoint's writes go, the rest of the batch stays. */
	if (db_rollback_to(b->db) < 0)
		log_event(LOG_ERROR, "db.rollback_to_failed", "units=%u", b->units);
	return keep ? -1 : 0;
}

int batch_run(struct batch *b, int (*fn)(void *arg), void *arg)
{
	if (batch_enter(b) < 0)
		return -1;
	int rc = fn(arg);
	if (batch_leave(b, rc == 0) < 0)
		return -1;
	return rc;
}

enum batch_result batch_commit(struct batch *b)
{
	if (!b->open)
		return BATCH_EMPTY;
	b->open = false;
	if (db_commit(b->db) == 0)
		return BATCH_COMMITTED;
	bool transient = db_error_is_transient(b->db);
	db_rollback(b->db);
	log_event(LOG_ERROR, "db.commit_failed", "units=%u transient=%d", b->units, transient);
	return transient ? BATCH_FAILED_TRANSIENT : BATCH_FAILED;
}
