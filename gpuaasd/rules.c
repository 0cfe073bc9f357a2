/* Auto-approval rules (see rules.h). */
#include "gpuaasd/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/duration.h"
#include "gpuaasd/events.h"
#include "gpuaasd/state.h"

/* True when item is one of the comma-separated names in list (any case). */
static bool in_list(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncasecmp(p, item, n) == 0)
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}

/* Everything but the cap: does rule r cover this job at all? */
static bool covers(const struct rule_row *r, const struct rule_ask *ask)
{
	if (r->gpu_types && !in_list(r->gpu_types, ask->gpu_type))
		return false;
	if ((r->max_count > 0 && ask->gpu_count > r->max_count) || (r->max_time > 0 && ask->time_limit > r->max_time))
		return false;
	if (strcmp(r->scope, "users") == 0)
		return in_list(r->users, ask->owner->username);
	if (strcmp(r->scope, "non_admins") == 0)
		return !ask->owner->is_admin;
	return true;
}

struct candidates {
	const struct rule_ask *ask;
	int64_t ids[64];
	int64_t caps[64];
	int n;
};

static int collect(void *arg, const struct rule_row *r)
{
	struct candidates *c = arg;
	if (covers(r, c->ask) && c->n < (int)(sizeof c->ids / sizeof c->ids[0])) {
		c->ids[c->n] = r->id;
		c->caps[c->n++] = r->daily_cap;
	}
	return 0;
}

int rules_match(struct daemon *d, const struct rule_ask *ask, int64_t *rule_id, char *why, size_t whylen)
{
	struct candidates c = {.ask = ask};
	why[0] = '\0';
	if (d->rules_live < 0 && db_rule_count(d->db, &d->rules_live) < 0)
		return -1;
	if (d->rules_live == 0)
		return 0;
	if (db_rule_list(d->db, collect, &c) < 0)
		return -1;
	for (int i = 0; i < c.n; i++) {
		if (c.caps[i] <= 0) {
			*rule_id = c.ids[i];
			return 1;
		}
		int64_t used = 0;
		if (db_rule_approved_since(d->db, c.ids[i], ask->owner->id, ask->now - 86400, &used) < 0)
			return -1;
		if (used + ask->reserved <= c.caps[i]) {
			*rule_id = c.ids[i];
			return 1;
		}
		if (!why[0]) {
			char cap[32], u[32];
			snprintf(why, whylen, "rule %lld's daily cap of %s for %s is used up (%s approved in the last 24h)",
				(long long)c.ids[i], duration_format(c.caps[i], cap, sizeof cap), ask->owner->username,
				duration_format(used, u, sizeof u));
		}
	}
	return 0;
}

enum status rules_add(struct daemon *d, const struct user_row *by, const struct rule_row *r, int64_t *id, char *msg,
	size_t msglen)
{
	d->rules_live = -1; /* counted again at the next submit, whatever the commit does */
	if (db_rule_insert(d->db, r, by->id, id) < 0)
		return ST_INTERNAL;
	struct event_detail e;
	event_detail_init(&e);
	event_detail_int(&e, "rule", *id);
	event_detail_str(&e, "gpu_types", r->gpu_types);
	event_detail_int(&e, "max_count", r->max_count);
	event_detail_int(&e, "max_time", r->max_time);
	event_detail_str(&e, "scope", r->scope);
	event_detail_str(&e, "users", r->users);
	event_detail_int(&e, "daily_cap", r->daily_cap);
	int rc = events_add(d, by->username, "rule.added", 0, 0, &e);
	event_detail_finish(&e);
	(void)msg;
	(void)msglen;
	return rc < 0 ? ST_INTERNAL : ST_OK;
}

enum status rules_delete(struct daemon *d, const struct user_row *by, int64_t id, char *msg, size_t msglen)
{
	d->rules_live = -1;
	int rc = db_rule_delete(d->db, id, (int64_t)time(NULL));
	if (rc == DB_NOTFOUND) {
		snprintf(msg, msglen, "no rule %lld", (long long)id);
		return ST_NOT_FOUND;
	}
	if (rc < 0)
		return ST_INTERNAL;
	struct event_detail e;
	event_detail_init(&e);
	event_detail_int(&e, "rule", id);
	rc = events_add(d, by->username, "rule.deleted", 0, 0, &e);
	event_detail_finish(&e);
	return rc < 0 ? ST_INTERNAL : ST_OK;
}
