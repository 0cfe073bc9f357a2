/* The gateway's own numbers (requests by route, method and status; a
 * latency histogram per route) and the Prometheus text exposition of
 * /metrics, which adds gpuaasd's aggregates from one sys.stats reply (GPUs,
 * jobs per state and type, queues, events). No usernames, no ids: every
 * label takes a bounded set of values. */
#ifndef GPUAAS_WEB_METRICS_H
#define GPUAAS_WEB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "gpuaas-web/router.h"

struct metrics;

/* Gauges the caller reads at scrape time. */
struct metrics_gauges {
	int64_t connections;       /* HTTP connections open */
	int64_t sse_clients;       /* event streams open */
	int64_t log_follows;       /* log follows waiting */
	int64_t upstream_inflight; /* calls waiting for gpuaasd */
};

/* NULL when out of memory. */
struct metrics *metrics_create(void);
/* NULL is a no-op. */
void metrics_destroy(struct metrics *m);
/* Counts one finished request; with timed, its duration goes into the
 * histogram (event streams and log follows are counted, not timed). */
void metrics_observe(struct metrics *m, enum route_id route, enum http_method method, unsigned status, int64_t ns,
	bool timed);
/* Writes the exposition. stats is sys.stats's data object text (NULL when
 * gpuaasd did not answer: gpuaas_up 0 and the gateway's numbers only).
 * -1 when stats is not what sys.stats returns (out is then incomplete). */
int metrics_render(const struct metrics *m, const struct metrics_gauges *g, const char *stats, size_t len,
	struct strbuf *out);

#endif
