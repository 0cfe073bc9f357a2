/* Failed-login throttle: after max failures for one username within a
 * window, further attempts are refused for a cool-down. Keys are whatever
 * string was tried, known user or not, so replies and timing tell nothing
 * about which usernames exist. Memory is capped (oldest entries go first). */
#ifndef GPUAAS_GPUAASD_RATELIMIT_H
#define GPUAAS_GPUAASD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* NULL on ENOMEM. */
struct ratelimit *ratelimit_create(int max_failures, int64_t window_s, int64_t lockout_s);
void ratelimit_destroy(struct ratelimit *rl);
/* Changes the limits (SIGHUP). */
void ratelimit_configure(struct ratelimit *rl, int max_failures, int64_t lockout_s);
/* Seconds left of a lockout for key at now, 0 when not locked. */
int64_t ratelimit_locked(struct ratelimit *rl, const char *key, int64_t now);
/* Records a failure; starts the lockout when the limit is reached. */
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now);
/* Forgets a key (after a successful login). */
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
