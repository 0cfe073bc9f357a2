/* Failed logins counted per client address (gpuaasd counts them per
 * name): after max failures within a minute, the address waits out the
 * lockout. A fixed table: when it is full the entry seen longest ago makes
 * room, so memory stays bounded whatever the number of addresses. */
#ifndef GPUAAS_WEB_THROTTLE_H
#define GPUAAS_WEB_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct throttle;

/* A table of slots entries; NULL when out of memory. */
struct throttle *throttle_create(size_t slots, int64_t max_failures, int64_t lockout_ms);
/* Frees it; NULL is a no-op. */
void throttle_destroy(struct throttle *t);
/* Milliseconds the address must still wait (0: it may try). */
int64_t throttle_wait_ms(struct throttle *t, const unsigned char key[16], int64_t now_ms);
/* Counts one failure of the address. */
void throttle_fail(struct throttle *t, const unsigned char key[16], int64_t now_ms);

#endif
