#include "gpuaas-web/throttle.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define WINDOW_MS 60000
#define PROBES 8

struct slot {
	unsigned char key[16];
	bool used;
	int64_t count, window_start, locked_until, last_seen;
};

struct throttle {
	struct slot *slots;
	size_t n;
	int64_t max_failures, lockout_ms;
	uint64_t seed; /* keeps the slot of an address unguessable */
};

struct throttle *throttle_create(size_t slots, int64_t max_failures, int64_t lockout_ms)
{
	struct throttle *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->slots = calloc(slots, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->n = slots;
	t->max_failures = max_failures;
	t->lockout_ms = lockout_ms;
	if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != sizeof t->seed)
		t->seed = (uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15u;
	return t;
}

void throttle_destroy(struct throttle *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static size_t hash(const struct throttle *t, const unsigned char key[16])
{
	uint64_t h = 0xcbf29ce484222325u ^ t->seed;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	return (size_t)(h % t->n);
}

/* The slot of key; with create, a new or the stalest probed one. */
static struct slot *find(struct throttle *t, const unsigned char key[16], bool create, int64_t now)
{
	size_t h = hash(t, key);
	struct slot *stalest = NULL;
	for (size_t i = 0; i < PROBES && i < t->n; i++) {
		struct slot *s = &t->slots[(h + i) % t->n];
		if (s->used && memcmp(s->key, key, 16) == 0)
			return s;
		if (!stalest || !s->used || (stalest->used && s->last_seen < stalest->last_seen))
			stalest = s;
	}
	if (!create)
		return NULL;
	memset(stalest, 0, sizeof *stalest);
	memcpy(stalest->key, key, 16);
	stalest->used = true;
	stalest->window_start = now;
	return stalest;
}

int64_t throttle_wait_ms(struct throttle *t, const unsigned char key[16], int64_t now_ms)
{
	struct slot *s = find(t, key, false, now_ms);
	return s && s->locked_until > now_ms ? s->locked_until - now_ms : 0;
}

void throttle_fail(struct throttle *t, const unsigned char key[16], int64_t now_ms)
{
	struct slot *s = find(t, key, true, now_ms);
	s->last_seen = now_ms;
	if (now_ms - s->window_start > WINDOW_MS) {
		s->window_start = now_ms;
		s->count = 0;
	}
	if (++s->count >= t->max_failures) {
		s->locked_until = now_ms + t->lockout_ms;
		s->count = 0;
		s->window_start = now_ms;
	}
}
