/* The parking service (see park.h). Entries hang in hash buckets by key on
 * doubly linked lists, so a request that ends (answered, timed out, client
 * gone) leaves in O(1) whatever else is parked. */
#include "gpuaasd/park.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/server.h"

#define PARK_BUCKETS 4096

struct park_entry {
	struct park_entry *prev, *next; /* in its bucket */
	struct park *park;
	struct op_ctx *ctx;
	struct timer *timer;
	park_answer_fn answer;
	int64_t key;
	int64_t user_id;
	unsigned kinds;
};

struct park_signal_mark {
	int64_t key;
	unsigned kind;
};

/* Parked requests per user: open addressing, linear probing. Entries whose
 * count drops to 0 stay (one per user who ever parked). */
struct user_slot {
	int64_t user_id; /* 0: empty */
	int n;
};

struct park {
	struct loop *loop;
	struct park_entry *buckets[PARK_BUCKETS];
	size_t count;
	int max_per_user;
	struct park_signal_mark *marks;
	size_t nmarks, capmarks;
	struct user_slot *users;
	size_t capusers, nusers;
};

static size_t bucket_of(int64_t key)
{
	uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 52) % PARK_BUCKETS;
}

struct park *park_create(struct loop *loop, int max_per_user)
{
	struct park *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->loop = loop;
	p->max_per_user = max_per_user;
	return p;
}

void park_set_limit(struct park *p, int max_per_user)
{
	p->max_per_user = max_per_user;
}

/* ---- per-user counts ------------------------------------------------------ */

static struct user_slot *user_find(struct user_slot *slots, size_t cap, int64_t user_id)
{
	size_t i = (size_t)(((uint64_t)user_id * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
	while (slots[i].user_id != 0 && slots[i].user_id != user_id)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int users_grow(struct park *p)
{
	size_t cap = p->capusers ? p->capusers * 2 : 64;
	struct user_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < p->capusers; i++)
		if (p->users[i].user_id != 0)
			*user_find(slots, cap, p->users[i].user_id) = p->users[i];
	free(p->users);
	p->users = slots;
	p->capusers = cap;
	return 0;
}

/* The count of user_id, created at 0 when absent; NULL on ENOMEM. */
static int *user_count(struct park *p, int64_t user_id)
{
	if ((p->nusers + 1) * 2 > p->capusers && users_grow(p) < 0)
		return NULL;
	struct user_slot *s = user_find(p->users, p->capusers, user_id);
	if (s->user_id == 0) {
		s->user_id = user_id;
		p->nusers++;
	}
	return &s->n;
}

int park_count_of_user(const struct park *p, int64_t user_id)
{
	if (!p->capusers)
		return 0;
	const struct user_slot *s = user_find(p->users, p->capusers, user_id);
	return s->user_id == user_id ? s->n : 0;
}

size_t park_count(const struct park *p)
{
	return p->count;
}

/* ---- entries ----------------------------------------------------------------- */

static void entry_unlink(struct park *p, struct park_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		p->buckets[bucket_of(e->key)] = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
	int *n = user_count(p, e->user_id);
	if (n && *n > 0)
		(*n)--;
	p->count--;
	loop_timer_cancel(p->loop, e->timer);
	e->timer = NULL;
	e->ctx->parked = NULL;
	e->ctx->req->abandon = NULL;
}

/* Takes e off the service and completes its request with st. */
static void entry_end(struct park *p, struct park_entry *e, enum status st)
{
	struct op_ctx *ctx = e->ctx;
	entry_unlink(p, e);
	free(e);
	op_finish(ctx, st);
}

/* Answers e unless its answer says "not yet" (final false). A caller whose
 * account or role changed while it waited is judged as it is now. */
static void entry_answer(struct park *p, struct park_entry *e, bool final)
{
	struct op_ctx *ctx = e->ctx;
	enum status st = op_recheck(ctx);
	if (st == ST_OK)
		st = e->answer(ctx, final);
	if (st == OP_PENDING && final)
		st = op_fail(ctx, ST_INTERNAL, "parked request could not be answered");
	if (st != OP_PENDING)
		entry_end(p, e, st);
}

static void entry_timeout(struct loop *loop, void *data)
{
	struct park_entry *e = data;
	(void)loop;
	e->timer = NULL; /* fired: the loop freed it */
	entry_answer(e->park, e, true);
}

static void entry_abandon(struct request *r)
{
	struct op_ctx *ctx = r->ctx;
	struct park_entry *e = ctx->parked;
	entry_end(e->park, e, ST_UNAVAILABLE);
}

enum status park_add(struct park *p, struct op_ctx *ctx, unsigned kinds, int64_t key, int64_t timeout_ms,
	park_answer_fn answer)
{
	int64_t user_id = ctx->user.id;
	int *n = user_count(p, user_id);
	if (!n)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	if (*n >= p->max_per_user)
		return op_fail(ctx, ST_RATE_LIMITED,
			"too many waiting requests: %d is the most one user may have at once; try again later",
			p->max_per_user);
	struct park_entry *e = calloc(1, sizeof *e);
	if (!e)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	if (timeout_ms >= 0) {
		e->timer = loop_timer_at(p->loop, loop_now_ms() + timeout_ms, entry_timeout, e);
		if (!e->timer) {
			free(e);
			return op_fail(ctx, ST_INTERNAL, "out of memory");
		}
	}
	*e = (struct park_entry){.park = p, .ctx = ctx, .timer = e->timer, .answer = answer, .key = key,
		.user_id = user_id, .kinds = kinds};
	struct park_entry **head = &p->buckets[bucket_of(key)];
	e->next = *head;
	if (*head)
		(*head)->prev = e;
	*head = e;
	(*n)++;
	p->count++;
	ctx->parked = e;
	ctx->req->abandon = entry_abandon;
	return OP_PENDING;
}

/* ---- signals ------------------------------------------------------------------- */

void park_signal(struct park *p, enum park_kind kind, int64_t key)
{
	if (!p)
		return;
	/* A burst of output signals the same key over and over: keep one. */
	if (p->nmarks > 0 && p->marks[p->nmarks - 1].key == key && p->marks[p->nmarks - 1].kind == (unsigned)kind)
		return;
	if (p->nmarks == p->capmarks) {
		size_t cap = p->capmarks ? p->capmarks * 2 : 64;
		struct park_signal_mark *m = realloc(p->marks, cap * sizeof *m);
		if (!m) {
			log_event(LOG_ERROR, "park.oom", "key=%lld", (long long)key);
			return;
		}
		p->marks = m;
		p->capmarks = cap;
	}
	p->marks[p->nmarks++] = (struct park_signal_mark){key, (unsigned)kind};
}

/* Answers the requests parked on key that listen to kind. */
static void wake_key(struct park *p, int64_t key, unsigned kind)
{
	struct park_entry *e = p->buckets[bucket_of(key)];
	while (e) {
		/* Replies are queued, clients torn down later: answering e ends
		 * only e, so its successor stays valid. */
		struct park_entry *next = e->next;
		if (e->key == key && (e->kinds & kind))
			entry_answer(p, e, false);
		e = next;
	}
}

void park_flush(struct park *p)
{
	if (!p || p->nmarks == 0)
		return;
	/* Signals raised while answering wait for the next round. */
	struct park_signal_mark *marks = p->marks;
	size_t n = p->nmarks;
	p->marks = NULL;
	p->nmarks = p->capmarks = 0;
	for (size_t i = 0; i < n; i++)
		wake_key(p, marks[i].key, marks[i].kind);
	free(marks);
}

void park_abandon_all(struct park *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < PARK_BUCKETS; i++)
		while (p->buckets[i])
			entry_end(p, p->buckets[i], ST_UNAVAILABLE);
}

void park_destroy(struct park *p)
{
	if (!p)
		return;
	park_abandon_all(p);
	free(p->marks);
	free(p->users);
	free(p);
}
