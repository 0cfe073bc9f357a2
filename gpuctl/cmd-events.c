/* events and admin audit: the event log. events prints one line per event
 * (as docker events does) or one JSON object per line, and with -f follows
 * the log through event.watch until Ctrl-C, across daemon restarts. admin
 * audit is the admin actions as a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/evstream.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

#define DETAIL_MAX 160 /* bytes of an event's detail shown in text */

/* The admin actions, for admin audit. */
static const char AUDIT_KINDS[] = "user.created,user.deleted,user.role,quota.set,quota.added,rule.added,"
				  "rule.deleted,job.approved,job.rejected";

/* Whether a string can be shown bare in "key=value" (no quoting needed). */
static bool bare_word(const char *s)
{
	if (!*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"\\,()=", *p))
			return false;
	return true;
}

/* An event's detail as "k=v, k=v" (nulls left out; strings quoted when
 * they need it), cut with "…" past DETAIL_MAX bytes. */
static void detail_text(const cJSON *detail, struct strbuf *out)
{
	struct strbuf b;
	strbuf_init(&b, 0);
	const cJSON *v;
	cJSON_ArrayForEach(v, detail)
	{
		if (cJSON_IsNull(v) || !v->string)
			continue;
		strbuf_adds(&b, b.len ? ", " : "");
		strbuf_adds(&b, v->string);
		strbuf_addc(&b, '=');
		if (cJSON_IsString(v) && bare_word(v->valuestring)) {
			strbuf_adds(&b, v->valuestring);
		} else if (cJSON_IsString(v)) {
			strbuf_add_json_str(&b, v->valuestring);
		} else {
			char *text = cJSON_PrintUnformatted(v);
			strbuf_adds(&b, text ? text : "?");
			free(text);
		}
	}
	if (b.len > DETAIL_MAX && b.data) {
		b.len = utf8_prefix(b.data, DETAIL_MAX);
		strbuf_adds(&b, "…");
	}
	if (b.len && b.data)
		strbuf_add(out, b.data, b.len);
	strbuf_finish(&b);
}

/* "2026-11-27 10:12:00 41 rule:3 job.approved job=12 user=alice (rule=3)". */
static void event_line(const cJSON *e, struct strbuf *out)
{
	char when[48];
	strbuf_adds(out, fmt_stamp(fmt_member_time(e, "at"), when, sizeof when));
	strbuf_addc(out, ' ');
	strbuf_add_int(out, jint(e, "seq"));
	strbuf_addc(out, ' ');
	strbuf_adds(out, jstr(e, "actor"));
	strbuf_addc(out, ' ');
	strbuf_adds(out, jstr(e, "kind"));
	if (jint(e, "job_id") > 0) {
		strbuf_adds(out, " job=");
		strbuf_add_int(out, jint(e, "job_id"));
	}
	if (*jstr(e, "user")) {
		strbuf_adds(out, " user=");
		strbuf_adds(out, jstr(e, "user"));
	}
	size_t before = out->len;
	strbuf_adds(out, " (");
	detail_text(json_get(e, "detail"), out);
	if (out->len == before + 2)
		out->len = before;
	else
		strbuf_addc(out, ')');
	strbuf_addc(out, '\n');
}

/* Prints a reply's events as they come: lines, seqs (-o name), or one
 * JSON object (YAML document) each. */
static void print_events(const struct ctl *c, const cJSON *data)
{
	struct strbuf out;
	strbuf_init(&out, 0);
	const cJSON *e;
	cJSON_ArrayForEach(e, json_get(data, "events"))
	{
		if (ctl_structured(c)) {
			ctl_emit(c, e);
		} else if (c->out == OUT_NAME) {
			strbuf_add_int(&out, jint(e, "seq"));
			strbuf_addc(&out, '\n');
		} else {
			event_line(e, &out);
		}
	}
	if (out.len && out.data)
		fwrite(out.data, 1, out.len, stdout);
	strbuf_finish(&out);
	fflush(stdout);
}

int cmd_events(struct ctl *c, const struct ctl_args *a)
{
	const char *since = args_get(a, "since"), *job = args_get(a, "job");
	struct evstream s = {.follow = args_has(a, "follow")};
	int64_t id = 0;
	if ((since && parse_count_opt(c, "--since", since, 0, JSON_INT_MAX, &s.since) < 0) ||
	    (job && parse_job_id(c, job, &id) < 0))
		return EXIT_USAGE;
	cJSON *filter = cJSON_CreateObject();
	if (!filter || (id && !json_add_int(filter, "job", id))) {
		cJSON_Delete(filter);
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	s.filter = filter;
	if (s.follow)
		evstream_sigint_install(c);
	int rc = 0;
	while (rc == 0 && !s.done) {
		cJSON *data = NULL;
		rc = evstream_next(c, &s, &data);
		if (rc == 0)
			print_events(c, data);
		cJSON_Delete(data);
	}
	if (s.follow)
		evstream_sigint_restore(c);
	cJSON_Delete(filter);
	return rc;
}

/* Every event of filter's, all pages, into *all (an array; caller frees). */
static int read_all(struct ctl *c, const cJSON *filter, cJSON **all)
{
	struct evstream s = {.filter = filter};
	int rc = 0;
	*all = cJSON_CreateArray();
	while (rc == 0 && !s.done && *all) {
		cJSON *data = NULL, *e;
		rc = evstream_next(c, &s, &data);
		while (rc == 0 && (e = cJSON_DetachItemFromArray(json_get(data, "events"), 0)) != NULL)
			cJSON_AddItemToArray(*all, e);
		cJSON_Delete(data);
	}
	return rc == 0 && !*all ? ctl_fail(c, ST_INTERNAL, "out of memory") : rc;
}

/* The admin actions as a table: when, who, what, about which job and user. */
static void print_audit(const cJSON *events)
{
	static const char *const heads[] = {"TIME", "ACTOR", "ACTION", ">JOB", "USER", "DETAIL"};
	struct table t;
	table_init(&t, 6, heads);
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		char when[48];
		struct strbuf d;
		strbuf_init(&d, 0);
		detail_text(json_get(e, "detail"), &d);
		table_add(&t, fmt_stamp(fmt_member_time(e, "at"), when, sizeof when));
		table_add(&t, jstr(e, "actor"));
		table_add(&t, jstr(e, "kind"));
		table_add_opt(&t, jint(e, "job_id") > 0, jint(e, "job_id"));
		table_add(&t, jstr(e, "user"));
		table_add(&t, d.data ? d.data : "");
		strbuf_finish(&d);
	}
	table_print(&t, stdout, false);
	table_free(&t);
}

/* event.list shows a user their own events: the audit log is an admin's,
 * so the role is checked first. 0 or an exit code. */
static int need_admin(struct ctl *c)
{
	cJSON *me = NULL;
	int rc = ctl_ask(c, "auth.whoami", NULL, &me);
	bool admin = cJSON_IsTrue(json_get(me, "is_admin"));
	cJSON_Delete(me);
	if (rc != 0)
		return rc;
	return admin ? 0 : ctl_fail(c, ST_FORBIDDEN, "gpuctl %s needs the admin role", c->cmd->name);
}

int cmd_admin_audit(struct ctl *c, const struct ctl_args *a)
{
	const char *user = args_get(a, "user"), *since = args_get(a, "since");
	int64_t t = 0;
	if (c->out == OUT_NAME)
		return ctl_no_names(c);
	if (since && parse_when_opt(c, "--since", since, &t) < 0)
		return EXIT_USAGE;
	int rc = need_admin(c);
	if (rc != 0)
		return rc;
	cJSON *filter = cJSON_CreateObject(), *events = NULL;
	cJSON_AddStringToObject(filter, "kinds", AUDIT_KINDS);
	if (user)
		cJSON_AddStringToObject(filter, "user", user);
	if (since)
		json_add_int(filter, "since_time", t > 0 ? t : 0);
	rc = read_all(c, filter, &events);
	if (rc == 0 && ctl_structured(c)) {
		ctl_emit_list(c, "events", events);
		events = NULL;
	} else if (rc == 0 && cJSON_GetArraySize(events) == 0) {
		fprintf(stderr, "no admin actions%s\n", user || since ? " that match" : "");
	} else if (rc == 0) {
		print_audit(events);
	}
	cJSON_Delete(events);
	cJSON_Delete(filter);
	return rc;
}
