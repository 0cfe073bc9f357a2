/* Requests that expire: a job still PENDING --pending-ttl after its submit
 * becomes EXPIRED (reservation released, nothing charged, an event). Run
 * on a timer set for the oldest pending job, and at start, so it survives
 * restarts; SIGHUP re-reads the TTL. The same timer prunes old events
 * (--event-retention). */
#ifndef GPUAAS_GPUAASD_EXPIRY_H
#define GPUAAS_GPUAASD_EXPIRY_H

struct daemon;
struct expiry;

/* NULL on ENOMEM. */
struct expiry *expiry_create(struct daemon *d);
/* Cancels the timer and frees. NULL is a no-op. */
void expiry_destroy(struct expiry *x);
/* Expires what is due now (into the batch) and sets the timer for the
 * next one: at start and after a configuration reload. */
void expiry_kick(struct expiry *x);

#endif
