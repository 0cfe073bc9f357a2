/* list and admin pending -q: tables sized to their content from brief rows
 * (the fast path), whole objects for JSON, YAML and -o wide. A list cut at
 * -n says so on stderr in a terminal; an empty one says "no jobs". list
 * --watch draws it again on every event (evstream.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/evstream.h"
#include "gpuctl/fmt.h"
#include "gpuctl/jobs.h"
#include "gpuctl/table.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000000
#define HINT_COUNT_MAX 10000 /* rows counted past -n for "showing 100 of N" */

struct list_req {
	cJSON *base;         /* all, user, states; owned */
	int64_t limit;
	const char *pattern; /* --name, or NULL */
	bool quiet;          /* ids only */
	bool oldest_first;   /* admin pending */
};

/* Finds a brief row by id; rows are newest (highest id) first. */
static struct brief_row *row_by_id(struct brief_set *s, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rows[mid].id == id)
			return &s->rows[mid];
		if (s->rows[mid].id > id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Brief rows carry no start time: one more request, for the RUNNING jobs
 * only (at most one per GPU), gives ELAPSED. */
static void fill_started(struct ctl *c, const cJSON *base, struct brief_set *s, size_t shown)
{
	cJSON *args = cJSON_Duplicate(base, 1), *data = NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(args, "states");
	if (!cJSON_AddStringToObject(args, "states", "RUNNING") || !json_add_int(args, "limit", 100000)) {
		cJSON_Delete(args);
		return;
	}
	if (ctl_call(c, "job.list", args, true, &data) != ST_OK) {
		c->err[0] = '\0';
		return;
	}
	const cJSON *j;
	cJSON_ArrayForEach(j, json_get(data, "jobs"))
	{
		struct brief_row *r = row_by_id(s, shown, jint(j, "id"));
		if (r)
			r->started_at = fmt_member_time(j, "started_at");
	}
	cJSON_Delete(data);
}

/* The brief rows being rendered, and the buffers of one row's cells. */
struct brief_print {
	const struct brief_set *s;
	int64_t now;
	int64_t keys[2];                /* what cache holds: created_at, time_limit */
	char cache[2][48];              /* formatted times, reused by the next rows */
	struct table_text cached[2];    /* the same, measured once */
	char id[24], count[24], elapsed[32];
};

/* A cell the table measures itself. */
static struct table_text unmeasured(const char *s)
{
	return (struct table_text){s, TABLE_UNMEASURED, 0, COLOUR_NONE};
}

/* A string of the brief row, with the length and width the parse counted. */
static struct table_text brief_text(const struct brief_row *r, const char *s, int which)
{
	if (r->lens[which] == BRIEF_UNMEASURED)
		return unmeasured(s);
	return (struct table_text){s, r->lens[which], r->widths[which], COLOUR_NONE};
}

/* An integer as a cell: digits are as wide as they are long. */
static struct table_text int_text(char *buf, int64_t v)
{
	char *end = strbuf_put_int(buf, v);
	*end = '\0';
	uint32_t n = (uint32_t)(end - buf);
	return (struct table_text){buf, n, n, COLOUR_NONE};
}

/* A formatted time kept in slot i of the cache while its key holds. */
static struct table_text cached_text(struct brief_print *p, int i, int64_t key, bool when)
{
	if (key != p->keys[i] || !p->cache[i][0]) {
		if (when)
			fmt_when(key, p->now, p->cache[i], sizeof p->cache[i]);
		else
			duration_format(key, p->cache[i], sizeof p->cache[i]);
		p->keys[i] = key;
		/* Measured once here rather than on every row that shares it. */
		p->cached[i] = table_text_measured(p->cache[i], COLOUR_NONE);
	}
	return p->cached[i];
}

/* One brief row's cells (table_row_fn). */
static void brief_cells(void *arg, size_t k, struct table_text *cells)
{
	struct brief_print *p = arg;
	const struct brief_row *r = &p->s->rows[k];
	p->elapsed[0] = '\0';
	if (r->started_at > 0)
		duration_format(p->now > r->started_at ? p->now - r->started_at : 0, p->elapsed, sizeof p->elapsed);
	cells[0] = int_text(p->id, r->id);
	cells[1] = brief_text(r, r->name, BRIEF_NAME);
	cells[2] = brief_text(r, r->owner, BRIEF_OWNER);
	cells[3] = brief_text(r, r->type, BRIEF_TYPE);
	cells[4] = int_text(p->count, r->count);
	cells[5] = cached_text(p, 1, r->time_limit, false);
	cells[6] = unmeasured(p->elapsed);
	cells[7] = brief_text(r, r->status, BRIEF_STATUS);
	cells[7].colour = fmt_status_colour(r->status);
	cells[8] = cached_text(p, 0, r->created_at, true);
}

/* Prints the first n rows as ids (-q, -o name). */
static int print_ids(struct ctl *c, const struct brief_set *s, size_t n, bool reverse)
{
	struct strbuf b;
	strbuf_init(&b, 0);
	for (size_t k = 0; k < n; k++) {
		strbuf_add_int(&b, s->rows[reverse ? n - 1 - k : k].id);
		strbuf_addc(&b, '\n');
	}
	bool ok = !b.failed;
	if (ok)
		fwrite(b.data, 1, b.len, stdout);
	strbuf_finish(&b);
	return ok ? 0 : ctl_fail(c, ST_INTERNAL, "out of memory");
}

/* A brief table in the making: each page's rows rendered compactly as it
 * arrives, while gpuaasd makes the next page, so that what is left after
 * the last page is writing the lines out. */
struct brief_table {
	struct ctl *c;
	struct table t;
	struct brief_print p;
	size_t limit;  /* rows shown at most */
	bool running;  /* a shown row is RUNNING: ELAPSED needs start times */
};

/* brief_fetch's page callback: renders the new rows. */
static int render_page(void *arg, struct brief_set *s, size_t first)
{
	struct brief_table *bt = arg;
	size_t to = s->n < bt->limit ? s->n : bt->limit;
	for (size_t k = first; k < to && !bt->running; k++)
		bt->running = strcmp(s->rows[k].status, "RUNNING") == 0;
	if (first < to && table_render_rows(&bt->t, first, to, brief_cells, &bt->p) < 0)
		return ctl_fail(bt->c, ST_INTERNAL, "out of memory");
	return 0;
}

/* ELAPSED of the RUNNING rows, rendered without it; then the table. */
static int print_brief(struct brief_table *bt, const cJSON *base, struct brief_set *s, size_t shown, bool reverse)
{
	if (bt->running) {
		fill_started(bt->c, base, s, shown);
		for (size_t k = 0; k < shown; k++)
			if (s->rows[k].started_at > 0 && table_render_rows(&bt->t, k, k + 1, brief_cells, &bt->p) < 0)
				return ctl_fail(bt->c, ST_INTERNAL, "out of memory");
	}
	if (table_write_rendered(&bt->t, shown, reverse, stdout, fmt_colour_on()) < 0)
		return ctl_fail(bt->c, ST_INTERNAL, "out of memory");
	return 0;
}

/* "showing 100 of 110 (use -n)" on stderr: counts the jobs after the last
 * one shown, up to a bound. */
static void cut_hint(struct ctl *c, struct list_req *q, int64_t last_shown)
{
	struct brief_set s = {0};
	int64_t before = last_shown;
	if (brief_fetch(c, q->base, q->pattern, HINT_COUNT_MAX, &before, &s, NULL, NULL) == 0) {
		long long shown = (long long)q->limit, total = shown + (long long)s.n;
		fflush(stdout);
		if ((int64_t)s.n >= HINT_COUNT_MAX && before > 0)
			fprintf(stderr, "showing %lld of more than %lld (use -n)\n", shown, total);
		else
			fprintf(stderr, "showing %lld of %lld (use -n)\n", shown, total);
	}
	brief_set_free(&s);
}

/* The table or ids from brief rows. */
static int list_brief(struct ctl *c, struct list_req *q)
{
	static const char *const heads[] = {"ID", "NAME", "OWNER", "TYPE", ">COUNT", ">TIME", ">ELAPSED", "STATUS",
		"CREATED"};
	struct brief_set s = {0};
	int64_t before = 0;
	bool ids_only = q->quiet || c->out == OUT_NAME;
	struct brief_table bt = {.c = c, .limit = (size_t)q->limit};
	table_init(&bt.t, 9, heads);
	bt.p = (struct brief_print){.s = &s, .now = (int64_t)time(NULL)};
	/* One row more than asked tells whether the list was cut. */
	int64_t want = q->limit < LIST_MAX ? q->limit + 1 : q->limit;
	int rc = brief_fetch(c, q->base, q->pattern, want, &before, &s, ids_only ? NULL : render_page, &bt);
	if (rc != 0)
		goto out;
	bool cut = (int64_t)s.n > q->limit;
	size_t shown = cut ? (size_t)q->limit : s.n;
	if (ids_only) {
		rc = print_ids(c, &s, shown, q->oldest_first);
		goto out;
	}
	if (shown == 0) {
		fprintf(stderr, "no jobs\n");
		goto out;
	}
	rc = print_brief(&bt, q->base, &s, shown, q->oldest_first);
	if (rc == 0 && cut && isatty(STDOUT_FILENO))
		cut_hint(c, q, s.rows[shown - 1].id);
out:
	table_free(&bt.t);
	brief_set_free(&s);
	return rc;
}

/* One whole job as a -o wide row. */
static void wide_cells(struct table *t, const cJSON *j, int64_t now)
{
	char b[5][64];
	int64_t started = fmt_member_time(j, "started_at"), finished = fmt_member_time(j, "finished_at");
	const char *status = jstr(j, "status");
	b[1][0] = b[2][0] = b[3][0] = '\0';
	if (started > 0) {
		duration_format((finished > 0 ? finished : now) - started, b[1], sizeof b[1]);
		fmt_when(started, now, b[2], sizeof b[2]);
	}
	if (finished > 0) {
		fmt_when(finished, now, b[3], sizeof b[3]);
	} else if (started > 0 && strcmp(status, "RUNNING") == 0) {
		char w[48];
		snprintf(b[3], sizeof b[3], "by %s", fmt_when(started + jint(j, "time_limit"), now, w, sizeof w));
	}
	table_add_int(t, jint(j, "id"));
	table_add(t, jstr(j, "name"));
	table_add(t, jstr(j, "owner"));
	table_add(t, jstr(j, "gpu_type"));
	table_add_int(t, jint(j, "gpu_count"));
	table_add(t, duration_format(jint(j, "time_limit"), b[0], sizeof b[0]));
	table_add(t, b[1]);
	table_add(t, status);
	table_colour(t, fmt_status_colour(status));
	table_add(t, fmt_when(fmt_member_time(j, "created_at"), now, b[4], sizeof b[4]));
	table_add(t, b[2]);
	table_add(t, b[3]);
	table_add(t, jstr(j, "reason"));
}

/* Whole objects: JSON or YAML ({"jobs": [...]}) or the wide table. */
static int list_full(struct ctl *c, struct list_req *q)
{
	cJSON *jobs = NULL;
	/* -o wide is a table for people: one job more tells whether it was cut. */
	bool wide = c->out == OUT_WIDE;
	int rc = jobs_fetch_full(c, q->base, q->pattern, wide && q->limit < LIST_MAX ? q->limit + 1 : q->limit, &jobs);
	if (rc != 0)
		return rc;
	bool cut = wide && cJSON_GetArraySize(jobs) > q->limit;
	if (cut)
		cJSON_DeleteItemFromArray(jobs, (int)q->limit);
	if (q->oldest_first) {
		cJSON *rev = cJSON_CreateArray(), *j;
		while ((j = cJSON_DetachItemFromArray(jobs, 0)) != NULL)
			cJSON_InsertItemInArray(rev, 0, j);
		cJSON_Delete(jobs);
		jobs = rev;
	}
	if (ctl_structured(c)) {
		ctl_emit_list(c, "jobs", jobs);
		return 0;
	}
	static const char *const heads[] = {"ID", "NAME", "OWNER", "TYPE", ">COUNT", ">TIME", ">ELAPSED", "STATUS",
		"CREATED", "STARTED", "END", "REASON"};
	struct table t;
	table_init(&t, 12, heads);
	int64_t now = (int64_t)time(NULL);
	const cJSON *j;
	cJSON_ArrayForEach(j, jobs) wide_cells(&t, j, now);
	if (table_rows(&t) == 0)
		fprintf(stderr, "no jobs\n");
	else
		table_print(&t, stdout, fmt_colour_on());
	if (cut && isatty(STDOUT_FILENO))
		cut_hint(c, q, jint(cJSON_GetArrayItem(jobs, (int)q->limit - 1), "id"));
	table_free(&t);
	cJSON_Delete(jobs);
	return 0;
}

/* --json list: pages are spliced as text, never parsed and printed again. */
static int list_json_text(struct ctl *c, struct list_req *q)
{
	static const char head[] = "{\"jobs\":[", tail[] = "],\"next_before_id\":";
	int64_t have = 0, before = 0;
	bool first = true;
	struct strbuf out;
	strbuf_init(&out, 0);
	strbuf_adds(&out, head);
	while (have < q->limit) {
		cJSON *args = cJSON_Duplicate(q->base, 1);
		json_add_int(args, "limit", (q->limit - have));
		if (before)
			json_add_int(args, "before_id", before);
		char *text = NULL;
		size_t len = 0;
		enum status st = ctl_call_text(c, "job.list", args, &text, &len);
		if (st != ST_OK) {
			strbuf_finish(&out);
			return ctl_report(c, st);
		}
		/* {"jobs":[ ... ],"next_before_id":N} */
		char *t = NULL;
		for (char *p = text; (p = strstr(p, tail)) != NULL; p++)
			t = p;
		if (strncmp(text, head, sizeof head - 1) != 0 || !t) {
			free(text);
			strbuf_finish(&out);
			return ctl_fail(c, ST_INTERNAL, "unexpected job.list reply layout");
		}
		const char *items = text + sizeof head - 1;
		size_t ilen = (size_t)(t - items);
		if (ilen > 0) {
			if (!first)
				strbuf_addc(&out, ',');
			strbuf_add(&out, items, ilen);
			first = false;
			/* Count the rows: one '{"id":' per job at depth 1. */
			for (const char *p = items; (p = strstr(p, "{\"id\":")) && p < t; p++)
				have++;
		}
		before = strtoll(t + sizeof tail - 1, NULL, 10);
		free(text);
		if (before <= 0)
			break;
	}
	strbuf_adds(&out, "]}\n");
	if (out.failed) {
		strbuf_finish(&out);
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	fwrite(out.data, 1, out.len, stdout);
	strbuf_finish(&out);
	return 0;
}

/* Prints the list once, in the form -o asks for. */
static int list_once(struct ctl *c, struct list_req *q)
{
	if (c->out == OUT_JSON && !q->pattern && !q->oldest_first)
		return list_json_text(c, q);
	if (ctl_structured(c) || c->out == OUT_WIDE)
		return list_full(c, q);
	return list_brief(c, q);
}

static int list_run(struct ctl *c, struct list_req *q)
{
	int rc = list_once(c, q);
	cJSON_Delete(q->base);
	return rc;
}

/* list --watch: the list, drawn again each time an event the caller may
 * see happens (event.watch parks on the daemon: no polling), until Ctrl-C.
 * In a terminal each drawing replaces the last. */
static int list_watch(struct ctl *c, struct list_req *q)
{
	struct evstream s = {.follow = true};
	bool tty = isatty(STDOUT_FILENO) == 1;
	int rc = evstream_last_seq(c, &s.since);
	evstream_sigint_install(c);
	for (int round = 0; rc == 0; round++) {
		char now[48];
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (round > 0 && !ctl_structured(c))
			putchar('\n');
		if (!ctl_structured(c) && c->out != OUT_NAME && !q->quiet)
			printf("%s  (gpuctl list --watch: redrawn on every change; Ctrl-C stops)\n\n",
				fmt_stamp((int64_t)time(NULL), now, sizeof now));
		rc = list_once(c, q);
		fflush(stdout);
		cJSON *data = NULL;
		if (rc == 0)
			rc = evstream_next(c, &s, &data);
		cJSON_Delete(data);
	}
	evstream_sigint_restore(c);
	cJSON_Delete(q->base);
	return rc;
}

int cmd_list(struct ctl *c, const struct ctl_args *a)
{
	const char *states = args_get(a, "state"), *user = args_get(a, "user"), *limit = args_get(a, "limit");
	struct list_req q = {.limit = LIST_DEFAULT, .pattern = args_get(a, "name"), .quiet = args_has(a, "quiet")};
	if (limit && parse_count_opt(c, "--limit", limit, 1, LIST_MAX, &q.limit) < 0)
		return EXIT_USAGE;
	q.base = cJSON_CreateObject();
	if (args_has(a, "all"))
		cJSON_AddTrueToObject(q.base, "all");
	if (user)
		cJSON_AddStringToObject(q.base, "user", user);
	if (states)
		cJSON_AddStringToObject(q.base, "states", states);
	return args_has(a, "watch") ? list_watch(c, &q) : list_run(c, &q);
}

int cmd_admin_pending(struct ctl *c, const struct ctl_args *a)
{
	if (!args_has(a, "quiet") && c->out != OUT_NAME)
		return pending_inbox(c);
	struct list_req q = {.limit = LIST_MAX, .quiet = args_has(a, "quiet"), .oldest_first = true};
	q.base = cJSON_CreateObject();
	cJSON_AddTrueToObject(q.base, "all");
	cJSON_AddStringToObject(q.base, "states", "PENDING");
	return list_run(c, &q);
}
