#include "gpuaas-web/pool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct pool {
	char *path;
	bool closed;
	int n[2];
	struct upstream **conns[2];
};

struct pool *pool_create(struct loop *loop, const char *path, int nfast, int nslow)
{
	struct pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->path = strdup(path);
	p->conns[LANE_FAST] = calloc((size_t)nfast, sizeof *p->conns[0]);
	p->conns[LANE_SLOW] = calloc((size_t)nslow, sizeof *p->conns[0]);
	if (!p->path || !p->conns[LANE_FAST] || !p->conns[LANE_SLOW])
		goto fail;
	for (int lane = 0; lane < 2; lane++) {
		int want = lane == LANE_FAST ? nfast : nslow;
		for (; p->n[lane] < want; p->n[lane]++) {
			p->conns[lane][p->n[lane]] = upstream_create(loop, path);
			if (!p->conns[lane][p->n[lane]])
				goto fail;
		}
	}
	return p;
fail:
	pool_destroy(p);
	return NULL;
}

void pool_destroy(struct pool *p)
{
	if (!p)
		return;
	for (int lane = 0; lane < 2; lane++) {
		for (int i = 0; i < p->n[lane]; i++)
			upstream_destroy(p->conns[lane][i]);
		free(p->conns[lane]);
	}
	free(p->path);
	free(p);
}

enum status pool_call(struct pool *p, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len, upstream_reply_fn fn, void *arg, struct upstream_call **handle)
{
	struct upstream *best = NULL;
	size_t least = POOL_CONN_INFLIGHT_MAX;
	if (p->closed)
		return ST_UNAVAILABLE;
	for (int i = 0; i < p->n[lane]; i++) {
		size_t n = upstream_inflight(p->conns[lane][i]);
		if (n < least) {
			least = n;
			best = p->conns[lane][i];
		}
	}
	if (!best)
		return ST_UNAVAILABLE;
	return upstream_call(best, op, token, args, args_len, fn, arg, handle);
}

void pool_close(struct pool *p)
{
	p->closed = true;
	for (int lane = 0; lane < 2; lane++)
		for (int i = 0; i < p->n[lane]; i++)
			upstream_reset(p->conns[lane][i], ST_UNAVAILABLE);
}

void pool_check(struct pool *p, int64_t now_ms, int64_t limit_ms)
{
	for (int lane = 0; lane < 2; lane++) {
		for (int i = 0; i < p->n[lane]; i++) {
			if (upstream_oldest_ms(p->conns[lane][i], now_ms) <= limit_ms)
				continue;
			log_event(LOG_WARN, "upstream.hung", "socket=%s waited_ms=%lld", p->path,
				(long long)upstream_oldest_ms(p->conns[lane][i], now_ms));
			upstream_reset(p->conns[lane][i], ST_UNREACHABLE);
		}
	}
}

void pool_flush(struct pool *p)
{
	for (int lane = 0; lane < 2; lane++)
		for (int i = 0; i < p->n[lane]; i++)
			upstream_flush(p->conns[lane][i]);
}

size_t pool_inflight(const struct pool *p)
{
	size_t n = 0;
	for (int lane = 0; lane < 2; lane++)
		for (int i = 0; i < p->n[lane]; i++)
			n += upstream_inflight(p->conns[lane][i]);
	return n;
}

const char *pool_socket(const struct pool *p)
{
	return p->path;
}
