/* The event log (see events.h). */
#include "gpuaasd/events.h"

#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "gpuaasd/db.h"
#include "gpuaasd/park.h"
#include "gpuaasd/state.h"

void event_detail_init(struct event_detail *e)
{
	strbuf_init(&e->b, 0);
	strbuf_addc(&e->b, '{');
	e->any = false;
}

static void detail_key(struct event_detail *e, const char *key)
{
	if (e->any)
		strbuf_addc(&e->b, ',');
	e->any = true;
	strbuf_add_json_str(&e->b, key);
	strbuf_addc(&e->b, ':');
}

void event_detail_str(struct event_detail *e, const char *key, const char *value)
{
	detail_key(e, key);
	if (value)
		strbuf_add_json_str(&e->b, value);
	else
		strbuf_adds(&e->b, "null");
}

void event_detail_int(struct event_detail *e, const char *key, int64_t n)
{
	detail_key(e, key);
	strbuf_add_int(&e->b, n);
}

void event_detail_finish(struct event_detail *e)
{
	strbuf_finish(&e->b);
}

int events_add(struct daemon *d, const char *actor, const char *kind, int64_t job_id, int64_t user_id,
	struct event_detail *detail)
{
	const char *text = "{}";
	if (detail) {
		strbuf_addc(&detail->b, '}');
		if (detail->b.failed)
			return -1;
		text = detail->b.data;
	}
	if (db_event_insert(d->db, (int64_t)time(NULL), actor, kind, job_id, user_id, text, NULL) < 0)
		return -1;
	park_signal(d->park, PARK_EVENTS, 0);
	return 0;
}

int events_prune(struct daemon *d, int64_t now)
{
	if (d->cfg.event_retention <= 0)
		return 0;
	int64_t n = 0;
	if (db_event_prune(d->db, now - d->cfg.event_retention, 10000, &n) < 0)
		return -1;
	if (n > 0)
		log_event(LOG_INFO, "events.pruned", "count=%lld", (long long)n);
	return 0;
}
