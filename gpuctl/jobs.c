/* Job lists page by page (jobs.h). */
#include "gpuctl/jobs.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define FILTER_PAGE 10000 /* rows per request when a name filter throws some away */
/* Rows per request otherwise: each next request goes out as soon as a
 * page arrives, so gpuaasd makes page k+1 while gpuctl reads page k. */
#define BRIEF_PAGE 2000
#define LIMIT_MAX 1000000 /* the most rows job.list gives in one reply */

/* Keeps the text the rows of one page point into. */
static int keep_text(struct brief_set *s, char *text)
{
	if (s->ntexts == s->tcap) {
		size_t nc = s->tcap ? s->tcap * 2 : 8;
		char **nt = realloc(s->texts, nc * sizeof *nt);
		if (!nt)
			return -1;
		s->texts = nt;
		s->tcap = nc;
	}
	s->texts[s->ntexts++] = text;
	return 0;
}

/* Drops the rows from first on whose name does not match pattern. */
static void filter_rows(struct brief_set *s, size_t first, const char *pattern)
{
	size_t w = first;
	for (size_t r = first; r < s->n; r++)
		if (fnmatch(pattern, s->rows[r].name, 0) == 0)
			s->rows[w++] = s->rows[r];
	s->n = w;
}

/* The arguments of one page: base's, brief, limit and before_id. */
static cJSON *page_args(const cJSON *base, bool brief, int64_t limit, int64_t before)
{
	cJSON *args = cJSON_Duplicate(base, 1);
	/* A failed add would widen the request: the caller gets NULL instead. */
	bool ok = args && (!brief || cJSON_AddTrueToObject(args, "brief")) &&
		  json_add_int(args, "limit", limit) &&
		  (before <= 0 || json_add_int(args, "before_id", before));
	if (ok)
		return args;
	cJSON_Delete(args);
	return NULL;
}

/* Sends the request for one page of brief rows. */
static enum status send_page(struct ctl *c, const cJSON *base, int64_t ask, int64_t before, int64_t *id)
{
	cJSON *args = page_args(base, true, ask, before);
	if (!args) {
		snprintf(c->err, sizeof c->err, "out of memory");
		return ST_INTERNAL;
	}
	return ctl_send(c, "job.list", args, id);
}

/* Where a walk through job.list's brief pages stands. */
struct page_walk {
	const cJSON *base;  /* all, user, states */
	int64_t page;       /* rows a request asks for at most */
	int64_t id, ask;    /* the request in flight (id 0: none) and the rows it asked for */
	int64_t before;     /* where the next page starts: 0 the newest, -1 nothing after */
	bool new_daemon;    /* gpuaasd gave a cursor after a full page */
};

/* Reads, keeps and parses the page answering the request in flight into
 * s. On the way, once the reply is in but before its rows are read, sends
 * the request for the next page when want_more rows are still wanted:
 * gpuaasd makes that page while this one is parsed and rendered. */
static int take_page(struct ctl *c, struct page_walk *w, int64_t want_more, struct brief_set *s)
{
	int64_t id = w->id, ask = w->ask;
	char *text = NULL;
	size_t len = 0;
	w->id = w->ask = 0;
	enum status st = ctl_read_text(c, id, &text, &len);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (keep_text(s, text) < 0) {
		free(text);
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	int64_t cursor = brief_tail_cursor(text, len);
	if (cursor > 0 && want_more > 0) {
		w->ask = want_more < w->page ? want_more : w->page;
		if ((st = send_page(c, w->base, w->ask, cursor, &w->id)) != ST_OK)
			return ctl_report(c, st);
	}
	int64_t next = 0;
	size_t n0 = s->n;
	if (brief_parse(text, &s->rows, &s->n, &s->cap, &next) < 0 || next != cursor)
		return ctl_fail(c, ST_INTERNAL, "malformed job.list reply from gpuaasd");
	/* null ends the list, except after a full page from a gpuaasd of an
	 * earlier release, which said null there even when more jobs were
	 * left. One that gave a cursor after a full page is not of those. */
	bool full = s->n > n0 && (int64_t)(s->n - n0) == ask;
	w->new_daemon = w->new_daemon || (full && next > 0);
	w->before = next > 0 ? next : full && !w->new_daemon ? s->rows[s->n - 1].id : -1;
	return 0;
}

int brief_fetch(struct ctl *c, const cJSON *base, const char *pattern, int64_t want, int64_t *before,
	struct brief_set *s, brief_page_fn on_page, void *arg)
{
	/* Pages of BRIEF_PAGE rows, pipelined, when each page has work to do as
	 * it comes (a table to render); else all in one request. */
	struct page_walk w = {.base = base, .page = on_page ? BRIEF_PAGE : LIMIT_MAX, .before = *before};
	int rc = 0;
	while (rc == 0 && (w.id || ((int64_t)s->n < want && w.before >= 0))) {
		if (!w.id) {
			w.ask = pattern ? FILTER_PAGE : want - (int64_t)s->n;
			if (!pattern && w.ask > w.page)
				w.ask = w.page;
			enum status st = send_page(c, base, w.ask, w.before, &w.id);
			if (st != ST_OK)
				return ctl_report(c, st);
		}
		size_t n0 = s->n;
		/* Assumes this page full: a page cut short by the frame size only
		 * means one more request later. A name filter reads on only as
		 * far as it must. */
		int64_t more = pattern ? 0 : want - ((int64_t)n0 + w.ask);
		rc = take_page(c, &w, more, s);
		if (rc == 0 && pattern)
			filter_rows(s, n0, pattern);
		if (rc == 0 && on_page)
			rc = on_page(arg, s, n0);
	}
	*before = w.before;
	/* Gave up with a request in flight: its reply must not meet the next call. */
	if (rc != 0 && w.id)
		ctl_disconnect(c);
	return rc;
}

void brief_set_free(struct brief_set *s)
{
	for (size_t i = 0; i < s->ntexts; i++)
		free(s->texts[i]);
	free(s->texts);
	free(s->rows);
	memset(s, 0, sizeof *s);
}

/* Moves the jobs of one page's data into all (those matching pattern, up
 * to limit; *kept counts them). Returns how many the page held, and the id
 * of its last job in *last. */
static int64_t take_jobs(cJSON *data, cJSON *all, const char *pattern, int64_t limit, int64_t *kept, int64_t *last)
{
	cJSON *jobs = json_get(data, "jobs"), *j;
	int64_t got = 0;
	while ((j = cJSON_DetachItemFromArray(jobs, 0)) != NULL) {
		got++;
		*last = jint(j, "id");
		if (*kept < limit && (!pattern || fnmatch(pattern, jstr(j, "name"), 0) == 0)) {
			cJSON_AddItemToArray(all, j);
			(*kept)++;
		} else {
			cJSON_Delete(j);
		}
	}
	return got;
}

int jobs_fetch_full(struct ctl *c, const cJSON *base, const char *pattern, int64_t limit, cJSON **out)
{
	cJSON *all = cJSON_CreateArray();
	int64_t before = 0, kept = 0;
	bool first_page = true;
	while (kept < limit && (first_page || before > 0)) {
		first_page = false;
		int64_t ask = pattern ? FILTER_PAGE : limit - kept, last = 0;
		cJSON *data = NULL, *args = page_args(base, false, ask, before);
		if (!args) {
			cJSON_Delete(all);
			return ctl_fail(c, ST_INTERNAL, "out of memory");
		}
		enum status st = ctl_call(c, "job.list", args, true, &data);
		if (st != ST_OK) {
			cJSON_Delete(all);
			return ctl_report(c, st);
		}
		int64_t next = jint(data, "next_before_id");
		int64_t got = take_jobs(data, all, pattern, limit, &kept, &last);
		cJSON_Delete(data);
		before = next > 0 ? next : (got == ask && got > 0 ? last : 0);
	}
	*out = all;
	return 0;
}

bool job_status_final(const char *status)
{
	return strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0 || strcmp(status, "CANCELLED") == 0 ||
	       strcmp(status, "REJECTED") == 0 || strcmp(status, "EXPIRED") == 0;
}
