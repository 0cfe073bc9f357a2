#include "gpuaas-web/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static const unsigned codes[] = {200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 409, 413, 414, 415,
	429, 431, 500, 501, 502, 503, 504, 505};
#define NCODES (sizeof codes / sizeof codes[0] + 1) /* the last slot: any other status */

static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

static const char *const job_states[] = {"PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED",
	"REJECTED", "EXPIRED"};
#define NSTATES (sizeof job_states / sizeof job_states[0])

struct histogram {
	uint64_t buckets[NBOUNDS + 1]; /* not cumulative; the last one is +Inf */
	uint64_t count;
	int64_t sum_ns;
};

struct metrics {
	uint64_t requests[R__COUNT][M_COUNT][NCODES];
	struct histogram latency[R__COUNT];
};

struct metrics *metrics_create(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_destroy(struct metrics *m)
{
	free(m);
}

static size_t code_slot(unsigned status)
{
	for (size_t i = 0; i < NCODES - 1; i++)
		if (codes[i] == status)
			return i;
	return NCODES - 1;
}

static int method_slot(enum http_method m)
{
	for (int i = 0; i < M_COUNT; i++)
		if ((unsigned)m == 1u << i)
			return i;
	return M_COUNT - 1;
}

void metrics_observe(struct metrics *m, enum route_id route, enum http_method method, unsigned status, int64_t ns,
	bool timed)
{
	if ((unsigned)route >= R__COUNT)
		route = R_NONE;
	m->requests[route][method_slot(method)][code_slot(status)]++;
	if (!timed)
		return;
	struct histogram *h = &m->latency[route];
	double s = (double)ns / 1e9;
	size_t b = 0;
	while (b < NBOUNDS && s > bounds[b])
		b++;
	h->buckets[b]++;
	h->count++;
	h->sum_ns += ns;
}

/* A label value, escaped as the text format wants. */
static void label(struct strbuf *b, const char *s, size_t n)
{
	strbuf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' || c == '"')
			strbuf_addc(b, '\\');
		if (c == '\n') {
			strbuf_adds(b, "\\n");
			continue;
		}
		strbuf_addc(b, c);
	}
	strbuf_addc(b, '"');
}

static void head(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_adds(b, "# HELP ");
	strbuf_adds(b, name);
	strbuf_addc(b, ' ');
	strbuf_adds(b, help);
	strbuf_adds(b, "\n# TYPE ");
	strbuf_adds(b, name);
	strbuf_addc(b, ' ');
	strbuf_adds(b, type);
	strbuf_addc(b, '\n');
}

static void value(struct strbuf *b, int64_t v)
{
	strbuf_addc(b, ' ');
	strbuf_add_int(b, v);
	strbuf_addc(b, '\n');
}

static void render_requests(const struct metrics *m, struct strbuf *b)
{
	head(b, "gpuaas_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.");
	for (int r = 0; r < R__COUNT; r++) {
		const char *route = router_label((enum route_id)r);
		for (int k = 0; k < M_COUNT; k++) {
			for (size_t c = 0; c < NCODES; c++) {
				if (!m->requests[r][k][c])
					continue;
				char code[16];
				snprintf(code, sizeof code, "%u", c < NCODES - 1 ? codes[c] : 0);
				strbuf_adds(b, "gpuaas_http_requests_total{route=");
				label(b, route, strlen(route));
				strbuf_adds(b, ",method=\"");
				strbuf_adds(b, router_method_name((enum http_method)(1u << k)));
				strbuf_adds(b, "\",code=\"");
				strbuf_adds(b, c < NCODES - 1 ? code : "other");
				strbuf_adds(b, "\"}");
				value(b, (int64_t)m->requests[r][k][c]);
			}
		}
	}
}

static void render_latency(const struct metrics *m, struct strbuf *b)
{
	head(b, "gpuaas_http_request_duration_seconds", "histogram",
		"Time from a request's headers to the end of its response, by route pattern.");
	for (int r = 0; r < R__COUNT; r++) {
		const struct histogram *h = &m->latency[r];
		if (!h->count)
			continue;
		const char *route = router_label((enum route_id)r);
		uint64_t cum = 0;
		char le[32], sum[64];
		for (size_t i = 0; i <= NBOUNDS; i++) {
			cum += h->buckets[i];
			if (i < NBOUNDS)
				snprintf(le, sizeof le, "%g", bounds[i]);
			strbuf_adds(b, "gpuaas_http_request_duration_seconds_bucket{route=");
			label(b, route, strlen(route));
			strbuf_adds(b, ",le=\"");
			strbuf_adds(b, i < NBOUNDS ? le : "+Inf");
			strbuf_adds(b, "\"}");
			value(b, (int64_t)cum);
		}
		snprintf(sum, sizeof sum, " %.9f\n", (double)h->sum_ns / 1e9);
		strbuf_adds(b, "gpuaas_http_request_duration_seconds_sum{route=");
		label(b, route, strlen(route));
		strbuf_addc(b, '}');
		strbuf_adds(b, sum);
		strbuf_adds(b, "gpuaas_http_request_duration_seconds_count{route=");
		label(b, route, strlen(route));
		strbuf_addc(b, '}');
		value(b, (int64_t)h->count);
	}
}

static void gauge(struct strbuf *b, const char *name, const char *help, int64_t v)
{
	head(b, name, "gauge", help);
	strbuf_adds(b, name);
	value(b, v);
}

/* One sample "name{type="T"[,state="S"]} v". */
static void typed(struct strbuf *b, const char *name, const cJSON *type, const char *state, int64_t v)
{
	strbuf_adds(b, name);
	strbuf_adds(b, "{type=");
	label(b, type->valuestring, strlen(type->valuestring));
	if (state) {
		strbuf_adds(b, ",state=");
		label(b, state, strlen(state));
	}
	strbuf_addc(b, '}');
	value(b, v);
}

static int64_t int_of(const cJSON *obj, const char *key)
{
	int64_t v = 0;
	return json_get_int(obj, key, -JSON_INT_MAX, JSON_INT_MAX, &v) == JSON_FIELD_OK ? v : 0;
}

/* gpuaas_gpus, gpuaas_queue_depth, gpuaas_oldest_pending_age_seconds. */
static int render_gpus(struct strbuf *b, const cJSON *gpus)
{
	static const char *const fields[] = {"total", "busy", "free"};
	const cJSON *g;
	head(b, "gpuaas_gpus", "gauge", "GPUs per type: total, busy (held by running jobs), free.");
	cJSON_ArrayForEach(g, gpus)
	{
		const cJSON *type = json_get(g, "type");
		if (!cJSON_IsString(type))
			return -1;
		for (int i = 0; i < 3; i++)
			typed(b, "gpuaas_gpus", type, fields[i], int_of(g, fields[i]));
	}
	head(b, "gpuaas_queue_depth", "gauge", "Approved jobs waiting for GPUs, per type.");
	cJSON_ArrayForEach(g, gpus)
	typed(b, "gpuaas_queue_depth", json_get(g, "type"), NULL, int_of(g, "queued"));
	head(b, "gpuaas_oldest_pending_age_seconds", "gauge", "Age of the oldest job waiting for approval, per type.");
	cJSON_ArrayForEach(g, gpus)
	typed(b, "gpuaas_oldest_pending_age_seconds", json_get(g, "type"), NULL, int_of(g, "oldest_pending_age"));
	return 0;
}

/* gpuaas_jobs for every state and type (zeros included). */
static int render_jobs(struct strbuf *b, const cJSON *gpus, const cJSON *jobs)
{
	const cJSON *g, *j;
	head(b, "gpuaas_jobs", "gauge", "Jobs per state and GPU type.");
	for (size_t s = 0; s < NSTATES; s++) {
		cJSON_ArrayForEach(g, gpus)
		{
			const cJSON *type = json_get(g, "type");
			int64_t n = 0;
			cJSON_ArrayForEach(j, jobs)
			{
				const cJSON *st = json_get(j, "state"), *ty = json_get(j, "type");
				if (cJSON_IsString(st) && cJSON_IsString(ty) && strcmp(st->valuestring, job_states[s]) == 0 &&
				    strcmp(ty->valuestring, type->valuestring) == 0)
					n += int_of(j, "count");
			}
			strbuf_adds(b, "gpuaas_jobs{state=\"");
			strbuf_adds(b, job_states[s]);
			strbuf_adds(b, "\",type=");
			label(b, type->valuestring, strlen(type->valuestring));
			strbuf_addc(b, '}');
			value(b, n);
		}
	}
	return 0;
}

/* What sys.stats reports. -1 when it does not have that shape. */
static int render_stats(struct strbuf *b, const char *stats, size_t len)
{
	cJSON *tree = json_parse_strict(stats, len);
	const cJSON *gpus = json_get(tree, "gpus"), *jobs = json_get(tree, "jobs"), *version = json_get(tree, "version");
	int rc = -1;
	if (!cJSON_IsArray(gpus) || !cJSON_IsArray(jobs))
		goto out;
	if (render_gpus(b, gpus) < 0 || render_jobs(b, gpus, jobs) < 0)
		goto out;
	head(b, "gpuaas_events_total", "counter", "Events written by gpuaasd (the last event's sequence number).");
	strbuf_adds(b, "gpuaas_events_total");
	value(b, int_of(tree, "events_total"));
	gauge(b, "gpuaas_parked_requests", "Requests waiting in gpuaasd (job.wait, followed logs, event watches).",
		int_of(tree, "parked"));
	if (cJSON_IsString(version)) {
		head(b, "gpuaas_daemon_info", "gauge", "gpuaasd's version.");
		strbuf_adds(b, "gpuaas_daemon_info{version=");
		label(b, version->valuestring, strlen(version->valuestring));
		strbuf_adds(b, "} 1\n");
	}
	rc = 0;
out:
	cJSON_Delete(tree);
	return rc;
}

int metrics_render(const struct metrics *m, const struct metrics_gauges *g, const char *stats, size_t len,
	struct strbuf *out)
{
	struct strbuf daemon;
	strbuf_init(&daemon, 0);
	int rc = stats ? render_stats(&daemon, stats, len) : 0;
	gauge(out, "gpuaas_up", "1 when gpuaasd answered this scrape, else 0.", stats && rc == 0);
	strbuf_add(out, daemon.data, rc == 0 && stats ? daemon.len : 0);
	strbuf_finish(&daemon);
	render_requests(m, out);
	render_latency(m, out);
	gauge(out, "gpuaas_http_connections", "HTTP connections open.", g->connections);
	gauge(out, "gpuaas_sse_clients", "Event streams open.", g->sse_clients);
	gauge(out, "gpuaas_log_follows", "Log follows waiting for output.", g->log_follows);
	gauge(out, "gpuaas_upstream_inflight", "Calls waiting for gpuaasd's reply.", g->upstream_inflight);
	head(out, "gpuaas_web_info", "gauge", "The gateway's version.");
	strbuf_adds(out, "gpuaas_web_info{version=\"" GPUAAS_VERSION "\"} 1\n");
	return rc;
}
