/* Tracking Slurm jobs: one squeue call per poll covers every job of this
 * daemon, whatever their number (by name, --states=all so that jobs that
 * just ended are listed with their state, exit code and time used). The
 * poll interval is --slurm-poll, longer when squeue itself is slow (at most
 * a tenth of the time is spent in it), doubling after failures, at most a
 * minute (or --slurm-poll when that is longer). A failed
 * squeue never ends a job. Jobs that squeue no longer lists are asked of
 * sacct (when Slurm keeps accounting) in one call; a job neither knows is
 * lost. The same pass finds jobs by name (adoption after a restart) and
 * sends the scancel a cancelled job still needs. A second timer checks
 * the sizes of the running jobs' logs each second and wakes `logs -f`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "gpuaasd/exec-slurm.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/park.h"
#include "gpuaasd/state.h"

/* No two polls start closer than this. */
#define MIN_GAP_MS 1000
/* A poll never waits longer than this after failures (unless --slurm-poll
 * is longer). */
#define BACKOFF_MAX_MS 60000
/* How often the logs' sizes are checked. */
#define LOG_CHECK_MS 1000
/* Above this, the names are not passed to squeue: it lists every job and
 * ours are picked by their --comment. */
#define NAMES_MAX (256u << 10)
#define COMMAND_TIMEOUT_MS 120000

static void start_poll(struct slurm *sx);

/* ---- when to poll -------------------------------------------------------- */

static int64_t poll_interval_ms(const struct slurm *sx)
{
	int64_t poll = sx->d->cfg.slurm_poll * 1000, base = poll;
	int64_t cap = poll > BACKOFF_MAX_MS ? poll : BACKOFF_MAX_MS;
	if (base < 10 * sx->last_took_ms)
		base = 10 * sx->last_took_ms;
	if (sx->poll_failures > 0) {
		int shift = sx->poll_failures < 6 ? sx->poll_failures : 6;
		base = poll << shift;
	}
	return base > cap ? cap : base;
}

static void poll_due(struct loop *loop, void *data)
{
	struct slurm *sx = data;
	(void)loop;
	sx->poll_timer = NULL;
	start_poll(sx);
}

void slurm_poll_soon(struct slurm *sx, int64_t delay_ms)
{
	int64_t now = loop_now_ms(), at = now + delay_ms;
	if (sx->poll_started_ms > 0 && at < sx->poll_started_ms + MIN_GAP_MS)
		at = sx->poll_started_ms + MIN_GAP_MS;
	if (sx->poll_failures > 0 && at < now + poll_interval_ms(sx) && sx->poll_started_ms > 0)
		at = sx->poll_started_ms + poll_interval_ms(sx);
	if (sx->polling) {
		/* Asked again once this one is done. */
		if (!sx->poll_again_at || at < sx->poll_again_at)
			sx->poll_again_at = at;
		return;
	}
	if (sx->poll_timer && sx->poll_timer_at <= at)
		return;
	loop_timer_cancel(sx->d->loop, sx->poll_timer);
	sx->poll_timer = loop_timer_at(sx->d->loop, at, poll_due, sx);
	sx->poll_timer_at = at;
	if (!sx->poll_timer)
		log_event(LOG_ERROR, "exec.slurm.poll", "error=\"out of memory\"");
}

/* The poll is over: the next one at the interval, or sooner when asked. */
static void poll_finished(struct slurm *sx)
{
	sx->polling = false;
	bool any = false;
	for (struct sjob *j = sx->jobs; j && !any; j = j->next)
		any = j->phase == SJ_TRACKED || j->phase == SJ_LOOKUP;
	int64_t again = sx->poll_again_at;
	sx->poll_again_at = 0;
	if (!any)
		return;
	int64_t delay = poll_interval_ms(sx);
	if (again && again - loop_now_ms() < delay)
		delay = again - loop_now_ms();
	slurm_poll_soon(sx, delay < 0 ? 0 : delay);
}

/* ---- ending and adopting from what Slurm says ------------------------------- */

/* Applies a Slurm row to a tracked job: it goes on, ends, or is submitted
 * again (preempted). */
static void apply_row(struct slurm *sx, struct sjob *j, const struct slurm_row *row)
{
	char reason[256];
	enum job_state to;
	int exit_code;
	j->used = row->used;
	switch (slurm_state_fate(row, &to, reason, sizeof reason, &exit_code)) {
	case SLURM_END:
		slurm_job_end(sx, j, to, reason, j->carried + row->used, exit_code);
		return;
	case SLURM_REQUEUE:
		log_event(LOG_INFO, "job.slurm_preempted", "job=%lld slurm_job=%lld ran=%lld", (long long)j->job_id,
			(long long)j->slurm_id, (long long)row->used);
		j->carried += row->used;
		j->used = 0;
		slurm_submit_later(sx, j);
		return;
	case SLURM_LIVE:
		break;
	}
	if (strcmp(j->slurm_state, row->state) != 0 || strcmp(j->slurm_reason, row->reason) != 0) {
		log_event(LOG_INFO, "job.slurm_state", "job=%lld slurm_job=%lld state=%s reason=\"%s\"",
			(long long)j->job_id, (long long)j->slurm_id, row->state, row->reason);
		snprintf(j->slurm_state, sizeof j->slurm_state, "%s", row->state);
		snprintf(j->slurm_reason, sizeof j->slurm_reason, "%s", row->reason);
	}
	if (j->cancel && !j->scancel_sent)
		slurm_send_scancel(sx, j);
}

/* Neither squeue nor sacct knows the job: charged what it was last seen
 * to have run. */
static void job_lost(struct slurm *sx, struct sjob *j)
{
	char reason[160];
	snprintf(reason, sizeof reason, "lost: Slurm no longer knows job %lld%s", (long long)j->slurm_id,
		sx->no_sacct ? " (it keeps no accounting to ask)" : "");
	slurm_job_end(sx, j, j->cancel ? JOB_CANCELLED : JOB_FAILED, reason, j->carried + j->used, -1);
}

/* ---- parsing a listing --------------------------------------------------- */

struct rows {
	struct slurm_row *v;
	size_t n, cap;
};

static int by_slurm_id(const void *a, const void *b)
{
	const struct slurm_row *x = a, *y = b;
	return x->slurm_id < y->slurm_id ? -1 : x->slurm_id > y->slurm_id;
}

/* Every parsable line of text (squeue's or sacct's), sorted by Slurm id;
 * ours only (by comment) when mine is set. -1 on ENOMEM. */
static int parse_rows(struct rows *rows, const char *text, bool sacct, const char *mine)
{
	char line[1024];
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (n < sizeof line) {
			memcpy(line, p, n);
			line[n] = '\0';
			struct slurm_row row;
			int rc = sacct ? slurm_parse_sacct_line(line, &row) : slurm_parse_squeue_line(line, &row);
			if (rc == 0 && (!mine || strcmp(row.comment, mine) == 0)) {
				if (rows->n == rows->cap) {
					size_t cap = rows->cap ? rows->cap * 2 : 64;
					struct slurm_row *v = realloc(rows->v, cap * sizeof *v);
					if (!v)
						return -1;
					rows->v = v;
					rows->cap = cap;
				}
				rows->v[rows->n++] = row;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (rows->n > 1)
		qsort(rows->v, rows->n, sizeof *rows->v, by_slurm_id);
	return 0;
}

static const struct slurm_row *row_of(const struct rows *rows, int64_t slurm_id)
{
	struct slurm_row key = {.slurm_id = slurm_id};
	return rows->n ? bsearch(&key, rows->v, rows->n, sizeof *rows->v, by_slurm_id) : NULL;
}

/* The Slurm job named gpuaas-ID of ours: a live one first, else the newest. */
static const struct slurm_row *row_named(const struct rows *rows, int64_t job_id)
{
	const struct slurm_row *best = NULL;
	char reason[256];
	enum job_state to;
	int code;
	for (size_t i = 0; i < rows->n; i++) {
		const struct slurm_row *r = &rows->v[i];
		if (r->gpuaas_id != job_id)
			continue;
		bool live = slurm_state_fate(r, &to, reason, sizeof reason, &code) == SLURM_LIVE;
		if (!best || live || slurm_state_fate(best, &to, reason, sizeof reason, &code) != SLURM_LIVE)
			best = r;
	}
	return best;
}

/* ---- squeue --------------------------------------------------------------- */

static void ask_sacct(struct slurm *sx);

/* A job looked up by name: adopted when Slurm has it, else submitted (or,
 * cancelled meanwhile, ended). */
static void resolve_lookup(struct slurm *sx, struct sjob *j, const struct rows *rows)
{
	const struct slurm_row *row = row_named(rows, j->job_id);
	if (row) {
		log_event(LOG_INFO, "job.slurm_found", "job=%lld slurm_job=%lld state=%s", (long long)j->job_id,
			(long long)row->slurm_id, row->state);
		slurm_job_adopt(sx, j, row->slurm_id);
		apply_row(sx, j, row);
	} else if (j->cancel) {
		slurm_job_end(sx, j, JOB_CANCELLED, "cancelled", j->carried, -1);
	} else {
		slurm_submit_later(sx, j);
	}
}

/* Goes through every job with one listing. Jobs may end (and be freed)
 * on the way: the next one is taken before. */
static void apply_listing(struct slurm *sx, const struct rows *rows, int64_t started_ms)
{
	sx->in_pass = true;
	for (struct sjob *j = sx->jobs, *next; j; j = next) {
		next = j->next;
		if (j->phase == SJ_LOOKUP) {
			resolve_lookup(sx, j, rows);
			continue;
		}
		if (j->phase != SJ_TRACKED)
			continue;
		const struct slurm_row *row = row_of(rows, j->slurm_id);
		/* Missing: listed by no squeue that began after sbatch. */
		j->missing = !row && j->known_since <= started_ms;
		if (row)
			apply_row(sx, j, row);
	}
	sx->in_pass = false;
	slurm_pump(sx);
}

static void squeue_done(void *arg, const struct sproc_result *r)
{
	struct slurm *sx = arg;
	struct rows rows = {0};
	if (r->status != 0 || r->timed_out) {
		char text[512];
		slurm_error_text(r->timed_out ? "squeue timed out" : r->err, text, sizeof text);
		sx->poll_failures++;
		log_event(sx->poll_failures == 1 ? LOG_WARN : LOG_DEBUG, "exec.slurm.squeue_failed",
			"failures=%d next_ms=%lld error=\"%s\"", sx->poll_failures, (long long)poll_interval_ms(sx), text);
		poll_finished(sx);
		return;
	}
	if (sx->poll_failures > 0)
		log_event(LOG_INFO, "exec.slurm.squeue_back", "after_failures=%d", sx->poll_failures);
	sx->poll_failures = 0;
	sx->last_took_ms = r->took_ms; /* a slow squeue spaces the polls out */
	if (parse_rows(&rows, r->out, false, sx->instance) < 0) {
		log_event(LOG_ERROR, "exec.slurm.squeue", "error=\"out of memory\"");
		poll_finished(sx);
		return;
	}
	apply_listing(sx, &rows, sx->poll_started_ms);
	free(rows.v);
	ask_sacct(sx);
}

/* "--name=gpuaas-1,gpuaas-2,..." for the jobs tracked or looked up; ""
 * when there are none; NULL (list everything) when it would be huge. */
static char *names_arg(struct slurm *sx, bool *none)
{
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_adds(&b, "--name=");
	*none = true;
	for (struct sjob *j = sx->jobs; j; j = j->next) {
		if (j->phase != SJ_TRACKED && j->phase != SJ_LOOKUP)
			continue;
		if (!*none)
			strbuf_addc(&b, ',');
		*none = false;
		strbuf_adds(&b, "gpuaas-");
		strbuf_add_int(&b, j->job_id);
		if (b.len > NAMES_MAX) {
			strbuf_finish(&b);
			return NULL;
		}
	}
	if (b.failed) {
		strbuf_finish(&b);
		return NULL;
	}
	return b.data;
}

static void start_poll(struct slurm *sx)
{
	if (sx->polling)
		return;
	bool none;
	char *names = names_arg(sx, &none);
	if (none) {
		free(names);
		return; /* nothing to ask about: the next adoption polls again */
	}
	char states[] = "--states=all", noheader[] = "-h", format[] = "--Format=" SQUEUE_FORMAT;
	char *argv[] = {sx->squeue, noheader, states, format, names, NULL};
	struct sproc_spec spec = {.argv = argv, .envp = sx->env, .stdin_fd = -1, .timeout_ms = COMMAND_TIMEOUT_MS};
	sx->polling = true;
	sx->poll_started_ms = loop_now_ms();
	if (sprocs_start(sx->procs, &spec, squeue_done, sx) < 0) {
		log_event(LOG_ERROR, "exec.slurm.squeue", "error=\"cannot run squeue: %s\"", strerror(errno));
		sx->poll_failures++;
		poll_finished(sx);
	}
	free(names);
}

/* ---- sacct for the jobs squeue no longer lists ---------------------------- */

static void sacct_done(void *arg, const struct sproc_result *r)
{
	struct slurm *sx = arg;
	struct rows rows = {0};
	if (r->status != 0 || r->timed_out) {
		char text[512];
		slurm_error_text(r->timed_out ? "sacct timed out" : r->err, text, sizeof text);
		/* "Slurm accounting storage is disabled": ask no more. */
		if (!r->timed_out && !slurm_error_transient(r->err))
			sx->no_sacct = true;
		log_event(LOG_WARN, "exec.slurm.sacct_failed", "error=\"%s\" accounting=%s", text,
			sx->no_sacct ? "none" : "retried at the next poll");
	} else if (parse_rows(&rows, r->out, true, NULL) < 0) {
		log_event(LOG_ERROR, "exec.slurm.sacct", "error=\"out of memory\"");
	}
	sx->in_pass = true;
	for (struct sjob *j = sx->jobs, *next; j; j = next) {
		next = j->next;
		if (j->phase != SJ_TRACKED || !j->missing)
			continue;
		const struct slurm_row *row = row_of(&rows, j->slurm_id);
		if (row) {
			j->missing = false;
			apply_row(sx, j, row);
		} else if (sx->no_sacct || r->status == 0) {
			job_lost(sx, j);
		}
	}
	sx->in_pass = false;
	slurm_pump(sx);
	free(rows.v);
	poll_finished(sx);
}

/* One sacct call for every missing job; without accounting they are lost. */
static void ask_sacct(struct slurm *sx)
{
	struct strbuf ids;
	strbuf_init(&ids, 0);
	strbuf_adds(&ids, "--jobs=");
	bool any = false;
	for (struct sjob *j = sx->jobs, *next; j; j = next) {
		next = j->next;
		if (j->phase != SJ_TRACKED || !j->missing)
			continue;
		if (sx->no_sacct) {
			job_lost(sx, j);
			continue;
		}
		if (any)
			strbuf_addc(&ids, ',');
		strbuf_add_int(&ids, j->slurm_id);
		any = true;
	}
	char a1[] = "-n", a2[] = "-P", a3[] = "-X", a4[] = "--format=JobIDRaw,State,ExitCode,ElapsedRaw,Reason";
	char *argv[] = {sx->sacct, a1, a2, a3, a4, ids.data, NULL};
	struct sproc_spec spec = {.argv = argv, .envp = sx->env, .stdin_fd = -1, .timeout_ms = COMMAND_TIMEOUT_MS};
	if (!any || ids.failed || sprocs_start(sx->procs, &spec, sacct_done, sx) < 0) {
		if (any)
			log_event(LOG_ERROR, "exec.slurm.sacct", "error=\"cannot run sacct\"");
		poll_finished(sx);
	}
	strbuf_finish(&ids);
}

/* ---- scancel ------------------------------------------------------------- */

struct scancel_ctx {
	struct slurm *sx;
	int64_t job_id;
};

static void scancel_done(void *arg, const struct sproc_result *r)
{
	struct scancel_ctx *c = arg;
	struct slurm *sx = c->sx;
	struct sjob *j = NULL;
	for (j = sx->jobs; j && j->job_id != c->job_id; j = j->next)
		;
	if (r->status != 0 || r->timed_out) {
		char text[512];
		slurm_error_text(r->timed_out ? "scancel timed out" : r->err, text, sizeof text);
		log_event(LOG_WARN, "exec.slurm.scancel_failed", "job=%lld error=\"%s\" (tried again at the next poll)",
			(long long)c->job_id, text);
		if (j)
			j->scancel_sent = false;
	}
	free(c);
	/* Its end is seen by the next squeue: soon. */
	if (j)
		slurm_poll_soon(sx, 0);
}

void slurm_send_scancel(struct slurm *sx, struct sjob *j)
{
	struct scancel_ctx *c = malloc(sizeof *c);
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)j->slurm_id);
	char *argv[] = {sx->scancel, id, NULL};
	struct sproc_spec spec = {.argv = argv, .envp = sx->env, .stdin_fd = -1, .timeout_ms = COMMAND_TIMEOUT_MS,
		.free_arg = true};
	j->scancel_sent = true;
	if (c) {
		c->sx = sx;
		c->job_id = j->job_id;
	}
	if (!c || sprocs_start(sx->procs, &spec, scancel_done, c) < 0) {
		log_event(LOG_ERROR, "exec.slurm.scancel", "job=%lld error=\"cannot run scancel\"", (long long)j->job_id);
		free(c);
		j->scancel_sent = false;
	}
	log_event(LOG_INFO, "job.slurm_cancel", "job=%lld slurm_job=%lld", (long long)j->job_id,
		(long long)j->slurm_id);
}

/* ---- logs ---------------------------------------------------------------- */

static void check_logs(struct loop *loop, void *data)
{
	struct slurm *sx = data;
	sx->log_timer = NULL;
	bool any = false;
	for (struct sjob *j = sx->jobs; j; j = j->next) {
		if (j->phase != SJ_TRACKED)
			continue;
		any = true;
		char name[32];
		struct stat st;
		snprintf(name, sizeof name, "%lld.log", (long long)j->job_id);
		if (fstatat(sx->log_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size != j->log_size) {
			j->log_size = st.st_size;
			park_signal(sx->d->park, PARK_JOB_OUTPUT, j->job_id);
		}
	}
	if (any)
		sx->log_timer = loop_timer_at(loop, loop_now_ms() + LOG_CHECK_MS, check_logs, sx);
}

void slurm_logs_watch(struct slurm *sx)
{
	if (!sx->log_timer)
		sx->log_timer = loop_timer_at(sx->d->loop, loop_now_ms() + LOG_CHECK_MS, check_logs, sx);
}

void slurm_track_stop(struct slurm *sx)
{
	if (!sx->d)
		return;
	loop_timer_cancel(sx->d->loop, sx->poll_timer);
	loop_timer_cancel(sx->d->loop, sx->log_timer);
	sx->poll_timer = sx->log_timer = NULL;
}
