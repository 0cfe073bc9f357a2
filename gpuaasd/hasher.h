/* bcrypt off the event loop: a few worker threads take hash and verify jobs
 * and report back through an eventfd, so the loop keeps answering everyone
 * else in milliseconds while logins hash for ~200 ms each. */
#ifndef GPUAAS_GPUAASD_HASHER_H
#define GPUAAS_GPUAASD_HASHER_H

#include <stdbool.h>

#include "gpuaasd/loop.h"

struct hasher;

/* Called on the loop's thread. For a hash job: ok and the new hash (valid
 * during the call). For a verify job: ok == match. error: the work failed. */
typedef void (*hasher_done_cb)(void *arg, bool ok, bool error, const char *hash);

/* Starts threads workers. NULL on failure. */
struct hasher *hasher_create(struct loop *loop, int threads);
/* Stops the workers; every job still queued gets its callback with
 * error = true, finished ones their result. NULL is a no-op. */
void hasher_destroy(struct hasher *h);
/* Blocks until every queued job has finished, then runs their callbacks
 * here (tests and fuzzers, which run no loop). */
void hasher_drain(struct hasher *h);
/* Queues a new-hash job of password at cost. 0, or -1 when the queue is full
 * (the caller answers UNAVAILABLE). The password is copied and wiped. */
int hasher_hash(struct hasher *h, const char *password, int cost, hasher_done_cb cb, void *arg);
/* Queues a verify job of password against stored. Same returns. */
int hasher_verify(struct hasher *h, const char *password, const char *stored, hasher_done_cb cb, void *arg);

#endif
