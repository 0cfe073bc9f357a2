/* Reading job lists page by page (job.list follows next_before_id across
 * frames): brief rows for tables and ids, whole job objects for JSON, YAML
 * and -o wide. Shared by list, admin pending and cancel --all. */
#ifndef GPUAAS_GPUCTL_JOBS_H
#define GPUAAS_GPUCTL_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuctl/brief.h"
#include "gpuctl/ctl.h"

/* Brief rows newest first, and the reply texts they point into. */
struct brief_set {
	struct brief_row *rows; /* owned */
	size_t n, cap;
	char **texts;           /* owned, each owned */
	size_t ntexts, tcap;
};

/* Called after each page with the rows it added, s->rows[first..s->n):
 * 0 to go on, or the exit code after an error. */
typedef int (*brief_page_fn)(void *arg, struct brief_set *s, size_t first);
/* Fetches brief rows of job.list with base's arguments (all, user, states)
 * from *before on (0: the newest), keeping those whose name matches
 * pattern (NULL: all), until s holds want rows or the jobs end; on_page
 * (may be NULL) sees each page as it comes, while gpuaasd makes the next.
 * *before is left where the next page starts (-1: there is nothing after).
 * 0, or the exit code after the error. */
int brief_fetch(struct ctl *c, const cJSON *base, const char *pattern, int64_t want, int64_t *before,
	struct brief_set *s, brief_page_fn on_page, void *arg);
/* Frees s's rows and texts. */
void brief_set_free(struct brief_set *s);
/* Fetches up to limit whole job objects, newest first, whose name matches
 * pattern (NULL: all), into *out (a cJSON array; caller frees). 0, or the
 * exit code after the error. */
int jobs_fetch_full(struct ctl *c, const cJSON *base, const char *pattern, int64_t limit, cJSON **out);
/* admin pending without -q: the approval inbox (cmd-pending.c), as a
 * table or {"jobs": [...]}. 0 or the exit code after the error. */
int pending_inbox(struct ctl *c);
/* Whether a job status is final. */
bool job_status_final(const char *status);

#endif
