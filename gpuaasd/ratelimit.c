#include "gpuaasd/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATELIMIT_SLOTS 4096

struct entry {
	char key[65];
	int failures;
	int64_t first;     /* start of the current window */
	int64_t locked_until;
	int64_t touched;
};

struct ratelimit {
	int max_failures;
	int64_t window;
	int64_t lockout;
	struct entry *slots;
	size_t n;
};

struct ratelimit *ratelimit_create(int max_failures, int64_t window_s, int64_t lockout_s)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->slots = calloc(RATELIMIT_SLOTS, sizeof *rl->slots);
	if (!rl->slots) {
		free(rl);
		return NULL;
	}
	rl->max_failures = max_failures;
	rl->window = window_s;
	rl->lockout = lockout_s;
	return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	free(rl);
}

void ratelimit_configure(struct ratelimit *rl, int max_failures, int64_t lockout_s)
{
	rl->max_failures = max_failures;
	rl->lockout = lockout_s;
}

static struct entry *find(struct ratelimit *rl, const char *key)
{
	for (size_t i = 0; i < rl->n; i++)
		if (strncmp(rl->slots[i].key, key, sizeof rl->slots[i].key - 1) == 0)
			return &rl->slots[i];
	return NULL;
}

int64_t ratelimit_locked(struct ratelimit *rl, const char *key, int64_t now)
{
	struct entry *e = find(rl, key);
	if (!e || e->locked_until <= now)
		return 0;
	return e->locked_until - now;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	struct entry *e = find(rl, key);
	if (!e) {
		if (rl->n < RATELIMIT_SLOTS) {
			e = &rl->slots[rl->n++];
		} else {
			/* Full: reuse the least recently touched entry. */
			e = &rl->slots[0];
			for (size_t i = 1; i < rl->n; i++)
				if (rl->slots[i].touched < e->touched)
					e = &rl->slots[i];
		}
		memset(e, 0, sizeof *e);
		snprintf(e->key, sizeof e->key, "%s", key);
		e->first = now;
	}
	e->touched = now;
	if (now - e->first >= rl->window) {
		e->first = now;
		e->failures = 0;
	}
	e->failures++;
	if (e->failures >= rl->max_failures) {
		e->locked_until = now + rl->lockout;
		e->failures = 0;
		e->first = now;
	}
}

void ratelimit_clear(struct ratelimit *rl, const char *key)
{
	struct entry *e = find(rl, key);
	if (!e)
		return;
	*e = rl->slots[--rl->n];
}
