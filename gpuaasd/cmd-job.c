/* job.* and gpu.list: submit, list, get, cancel, wait, approve, reject. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "gpuaasd/jobs.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/sched.h"
#include "gpuaasd/server.h"

#define NAME_MAX_LEN 128
#define REASON_MAX_LEN 500
#define COMMAND_MAX_ARGS 4096
#define COMMAND_MAX_BYTES (256 * 1024)
/* Keep list replies under the 1 MiB frame limit; the rest is paged. */
#define LIST_BUDGET (900 * 1024)

/* ---- job objects ---------------------------------------------------------- */

static void add_key(struct strbuf *b, const char *key)
{
	strbuf_addc(b, ',');
	strbuf_add_json_str(b, key);
	strbuf_addc(b, ':');
}

static void add_time(struct strbuf *b, const char *key, int64_t t)
{
	add_key(b, key);
	if (t <= 0) {
		strbuf_adds(b, "null");
		return;
	}
	char ts[40];
	strbuf_add_json_str(b, time_format_rfc3339(t, ts, sizeof ts));
}

/* Writes a job object (CONTRACT §4 shape and order). The list path writes
 * thousands of these per reply, so it is text, not a cJSON tree. */
static void job_write(struct strbuf *b, struct daemon *d, const struct job_row *j)
{
	strbuf_adds(b, "{\"id\":");
	strbuf_add_int(b, j->id);
	add_key(b, "name");
	strbuf_add_json_str(b, j->name);
	add_key(b, "owner");
	strbuf_add_json_str(b, j->owner);
	add_key(b, "gpu_type");
	strbuf_add_json_str(b, j->gpu_type);
	add_key(b, "gpu_count");
	strbuf_add_int(b, j->gpu_count);
	add_key(b, "time_limit");
	strbuf_add_int(b, j->time_limit);
	add_key(b, "status");
	strbuf_add_json_str(b, j->status);
	add_key(b, "reason");
	/* Why an approved job waits changes with every start: computed now. */
	char why[600];
	if (strcmp(j->status, "APPROVED") == 0) {
		int idx = inventory_find(&d->inv, j->gpu_type);
		int pos = sched_queue_position(d->sched, idx, j->approve_seq);
		if (pos > 0)
			snprintf(why, sizeof why, "waiting for %lld free %s (position %d)", (long long)j->gpu_count,
				j->gpu_type, pos);
		else
			snprintf(why, sizeof why, "starting");
		strbuf_add_json_str(b, why);
	} else if (strcmp(j->status, "RUNNING") == 0 && j->devices) {
		snprintf(why, sizeof why, "running on %s device%s %s", j->gpu_type, j->gpu_count > 1 ? "s" : "",
			j->devices);
		strbuf_add_json_str(b, why);
	} else {
		strbuf_add_json_str(b, j->reason);
	}
	add_time(b, "created_at", j->created_at);
	add_time(b, "approved_at", j->approved_at);
	add_key(b, "approved_by");
	strbuf_add_json_str(b, j->approved_by);
	add_time(b, "started_at", j->started_at);
	add_time(b, "finished_at", j->finished_at);
	add_key(b, "charged_seconds");
	if (j->has_charged)
		strbuf_add_int(b, j->charged_seconds);
	else
		strbuf_adds(b, "null");
	add_key(b, "exit_code");
	if (j->has_exit_code)
		strbuf_add_int(b, j->exit_code);
	else
		strbuf_adds(b, "null");
	add_key(b, "command");
	/* Stored as the compact JSON array we produced at submit. */
	strbuf_adds(b, j->command ? j->command : "null");
	strbuf_addc(b, '}');
}

static cJSON *job_json(struct daemon *d, const struct job_row *j)
{
	struct strbuf b;
	strbuf_init(&b, 0);
	job_write(&b, d, j);
	cJSON *o = b.failed ? NULL : cJSON_Parse(b.data);
	strbuf_finish(&b);
	return o;
}

struct get_ctx {
	struct daemon *d;
	cJSON *job;
	int64_t owner_id;
	bool final;
};

static int get_cb(void *arg, const struct job_row *row)
{
	struct get_ctx *g = arg;
	g->owner_id = row->owner_id;
	enum job_state s;
	g->final = job_state_parse(row->status, &s) == 0 && job_state_final(s);
	g->job = job_json(g->d, row);
	return g->job ? 0 : -1;
}

/* Loads job args.id visible to the caller into *g (owners see their own,
 * admins everything; anyone else gets NOT_FOUND, as if it did not exist). */
static enum status load_visible(struct op_ctx *ctx, int64_t id, struct get_ctx *g)
{
	memset(g, 0, sizeof *g);
	g->d = ctx->d;
	int rc = db_job_get(ctx->d->db, id, get_cb, g);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND || (!ctx->user.is_admin && g->owner_id != ctx->user.id)) {
		cJSON_Delete(g->job);
		g->job = NULL;
		return op_fail(ctx, ST_NOT_FOUND, "no job %lld", (long long)id);
	}
	return ST_OK;
}

static enum status reply_job(struct op_ctx *ctx, int64_t id)
{
	struct get_ctx g;
	enum status st = load_visible(ctx, id, &g);
	if (st != ST_OK)
		return st;
	cJSON_Delete(ctx->data);
	ctx->data = g.job;
	return ST_OK;
}

static enum status arg_job_id(struct op_ctx *ctx, int64_t *id)
{
	return arg_int(ctx, "id", true, 1, JSON_INT_MAX, id);
}

/* ---- submit ---------------------------------------------------------------- */

static enum status read_command(struct op_ctx *ctx, char **out)
{
	*out = NULL;
	cJSON *cmd = json_get(ctx->args, "command");
	if (!cmd || cJSON_IsNull(cmd))
		return ST_OK;
	if (!cJSON_IsArray(cmd))
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must be an array of strings or null");
	int n = cJSON_GetArraySize(cmd);
	if (n < 1 || n > COMMAND_MAX_ARGS)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must have 1 to %d strings", COMMAND_MAX_ARGS);
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd)
	{
		if (!cJSON_IsString(it) || !it->valuestring || !utf8_valid(it->valuestring, strlen(it->valuestring)))
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must hold only UTF-8 strings");
	}
	if (!cJSON_IsString(cmd->child) || !cmd->child->valuestring[0])
		return op_fail(ctx, ST_BAD_REQUEST, "the command's program (first string) must not be empty");
	char *text = cJSON_PrintUnformatted(cmd);
	if (!text)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	if (strlen(text) > COMMAND_MAX_BYTES) {
		free(text);
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' is over %d bytes", COMMAND_MAX_BYTES);
	}
	*out = text;
	return ST_OK;
}

static enum status job_submit(struct op_ctx *ctx)
{
	struct daemon *d = ctx->d;
	const char *type = NULL, *name = "";
	int64_t count = 1, limit = d->cfg.default_time;
	char types[512], a[32];
	enum status st;
	inventory_type_list(&d->inv, types, sizeof types);
	if ((st = arg_str(ctx, "gpu_type", false, 64, true, &type)) != ST_OK)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'gpu_type' must be a string; valid types: %s", types);
	if ((st = arg_str(ctx, "name", false, NAME_MAX_LEN, true, &name)) != ST_OK)
		return st;
	int type_idx = type ? inventory_find(&d->inv, type) : 0;
	if (type_idx < 0)
		return op_fail(ctx, ST_BAD_REQUEST, "unknown GPU type '%.32s'; valid types: %s", type, types);
	int total = d->inv.types[type_idx].total;
	const char *tname = d->inv.types[type_idx].name;
	if (json_get_int(ctx->args, "gpu_count", -JSON_INT_MAX, JSON_INT_MAX, &count) == JSON_FIELD_BAD ||
	    count < 1 || count > total)
		return op_fail(ctx, ST_BAD_REQUEST, "gpu_count must be from 1 to %d (the %s GPUs in the inventory)",
			total, tname);
	if (json_get_int(ctx->args, "time_limit", -JSON_INT_MAX, JSON_INT_MAX, &limit) == JSON_FIELD_BAD ||
	    limit < 1 || limit > d->cfg.max_time)
		return op_fail(ctx, ST_BAD_REQUEST, "time_limit must be from 1s to %s (%lld seconds)",
			duration_format(d->cfg.max_time, a, sizeof a), (long long)d->cfg.max_time);
	char *command = NULL;
	if ((st = read_command(ctx, &command)) != ST_OK)
		return st;
	if (!command && strcmp(d->cfg.executor, "local") == 0)
		return op_fail(ctx, ST_BAD_REQUEST, "this daemon runs jobs on its GPUs (executor local): give the "
			"command to run (gpuctl submit ... -- CMD [ARG...])");
	struct job_request req = {
		.owner_id = ctx->user.id,
		.type_idx = type_idx,
		.gpu_count = count,
		.time_limit = limit,
		.name = name ? name : "",
		.command_json = command,
	};
	int64_t id = 0;
	st = jobs_submit(d, &req, &id, ctx->err, sizeof ctx->err);
	free(command);
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

/* ---- list ------------------------------------------------------------------- */

struct list_ctx {
	struct daemon *d;
	struct strbuf *b;
	bool brief;
	int64_t rows;
	int64_t last_id;
	bool full;
};

static int list_cb(void *arg, const struct job_row *row)
{
	struct list_ctx *l = arg;
	size_t before = l->b->len;
	if (l->rows > 0)
		strbuf_addc(l->b, ',');
	if (l->brief) {
		/* [id, name, owner, gpu_type, gpu_count, time_limit, status, created_at] */
		strbuf_addc(l->b, '[');
		strbuf_add_int(l->b, row->id);
		strbuf_addc(l->b, ',');
		strbuf_add_json_str(l->b, row->name);
		strbuf_addc(l->b, ',');
		strbuf_add_json_str(l->b, row->owner);
		strbuf_addc(l->b, ',');
		strbuf_add_json_str(l->b, row->gpu_type);
		strbuf_addc(l->b, ',');
		strbuf_add_int(l->b, row->gpu_count);
		strbuf_addc(l->b, ',');
		strbuf_add_int(l->b, row->time_limit);
		strbuf_addc(l->b, ',');
		strbuf_add_json_str(l->b, row->status);
		strbuf_addc(l->b, ',');
		strbuf_add_int(l->b, row->created_at);
		strbuf_addc(l->b, ']');
	} else {
		job_write(l->b, l->d, row);
	}
	if (l->b->failed)
		return -1;
	/* Keep the reply inside one frame; the client pages on. */
	if (l->rows > 0 && l->b->len > LIST_BUDGET) {
		l->b->len = before;
		l->b->data[before] = '\0';
		l->full = true;
		return 1;
	}
	l->rows++;
	l->last_id = row->id;
	return 0;
}

static enum status parse_states(struct op_ctx *ctx, unsigned *mask)
{
	*mask = 0;
	cJSON *states = json_get(ctx->args, "states");
	if (!states || cJSON_IsNull(states))
		return ST_OK;
	char valid[] = "PENDING, APPROVED, RUNNING, COMPLETED, FAILED, CANCELLED, REJECTED";
	if (cJSON_IsString(states)) {
		/* "RUNNING,PENDING" is accepted too. */
		char buf[256];
		snprintf(buf, sizeof buf, "%s", states->valuestring);
		char *save = NULL;
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			enum job_state s;
			if (job_state_parse(tok, &s) < 0)
				return op_fail(ctx, ST_BAD_REQUEST, "unknown state '%.32s'; valid states: %s", tok, valid);
			*mask |= 1u << s;
		}
		return ST_OK;
	}
	if (!cJSON_IsArray(states))
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'states' must be an array of state names");
	const cJSON *it;
	cJSON_ArrayForEach(it, states)
	{
		enum job_state s;
		if (!cJSON_IsString(it) || job_state_parse(it->valuestring, &s) < 0)
			return op_fail(ctx, ST_BAD_REQUEST, "unknown state in 'states'; valid states: %s", valid);
		*mask |= 1u << s;
	}
	return ST_OK;
}

static enum status job_list(struct op_ctx *ctx)
{
	bool all = false, brief = false;
	const char *user = NULL;
	int64_t limit = 50, before = 0;
	enum status st;
	if ((st = arg_bool(ctx, "all", false, &all)) != ST_OK ||
	    (st = arg_bool(ctx, "brief", false, &brief)) != ST_OK ||
	    (st = arg_str(ctx, "user", false, 64, true, &user)) != ST_OK ||
	    (st = arg_int(ctx, "limit", false, 1, 1000000, &limit)) != ST_OK ||
	    (st = arg_int(ctx, "before_id", false, 1, JSON_INT_MAX, &before)) != ST_OK)
		return st;
	struct job_filter f = {.owner_id = ctx->user.id, .before_id = before, .limit = limit, .brief = brief};
	if ((st = parse_states(ctx, &f.state_mask)) != ST_OK)
		return st;
	if ((all || user) && !ctx->user.is_admin)
		return op_fail(ctx, ST_FORBIDDEN, "only admins can list other users' jobs");
	if (all)
		f.owner_id = 0;
	if (user) {
		struct user_row u;
		int rc = db_user_by_name(ctx->d->db, user, &u);
		if (rc < 0)
			return op_db_error(ctx);
		if (rc == DB_NOTFOUND)
			return op_fail(ctx, ST_NOT_FOUND, "no user '%.40s'", user);
		f.owner_id = u.id;
	}
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return ST_INTERNAL;
	strbuf_adds(b, "{\"jobs\":[");
	struct list_ctx l = {.d = ctx->d, .b = b, .brief = brief};
	int rc = db_job_list(ctx->d->db, &f, list_cb, &l);
	if (rc < 0)
		return op_db_error(ctx);
	/* More rows than fit one frame: the client asks again from here. */
	strbuf_adds(b, "],\"next_before_id\":");
	if (l.full)
		strbuf_add_int(b, l.last_id);
	else
		strbuf_adds(b, "null");
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status job_get(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

static enum status job_cancel(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	struct get_ctx g;
	if ((st = load_visible(ctx, id, &g)) != ST_OK)
		return st;
	cJSON_Delete(g.job);
	st = jobs_cancel(ctx->d, id, ctx->user.username, ctx->err, sizeof ctx->err);
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

static enum status job_approve(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	st = jobs_approve(ctx->d, id, ctx->user.id, ctx->err, sizeof ctx->err);
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

static enum status job_reject(struct op_ctx *ctx)
{
	int64_t id;
	const char *reason = NULL;
	enum status st;
	if ((st = arg_job_id(ctx, &id)) != ST_OK ||
	    (st = arg_str(ctx, "reason", false, REASON_MAX_LEN, true, &reason)) != ST_OK)
		return st;
	st = jobs_reject(ctx->d, id, reason, ctx->err, sizeof ctx->err);
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

/* ---- wait: parked on the server until the job is final --------------------- */

#define WAIT_BUCKETS 256
static struct op_ctx *wait_buckets[WAIT_BUCKETS];
static struct op_ctx *log_waiters;
static int64_t *wake_ids;
static size_t nwake, capwake;

static struct op_ctx **bucket_of(int64_t job_id)
{
	return &wait_buckets[(uint64_t)job_id % WAIT_BUCKETS];
}

/* ---- parked requests (job.wait, job.logs -f) ------------------------------
 * A parked request sits on a list until its job changes (park_wake), its
 * timeout passes, or its client goes away; then answer() builds the reply
 * from the current state. ctx->aux[0] is the job id. */

static void park_unlink(struct op_ctx *ctx)
{
	for (struct op_ctx **pp = ctx->park_head; pp && *pp; pp = &(*pp)->wait_next) {
		if (*pp == ctx) {
			*pp = ctx->wait_next;
			ctx->wait_next = NULL;
			return;
		}
	}
}

static void park_end(struct op_ctx *ctx)
{
	park_unlink(ctx);
	loop_timer_cancel(ctx->d->loop, ctx->timer);
	ctx->timer = NULL;
	ctx->req->abandon = NULL;
	op_finish(ctx, ctx->park_answer(ctx));
}

static void park_timeout(struct loop *loop, void *data)
{
	struct op_ctx *ctx = data;
	(void)loop;
	ctx->timer = NULL; /* fired: the loop freed it */
	park_end(ctx);
}

static void park_abandon(struct request *r)
{
	struct op_ctx *ctx = r->ctx;
	park_unlink(ctx);
	loop_timer_cancel(ctx->d->loop, ctx->timer);
	ctx->timer = NULL;
	op_finish(ctx, ST_UNAVAILABLE);
}

/* Parks ctx on *head; timeout_s < 0: no timeout. Returns OP_PENDING. */
static enum status park(struct op_ctx *ctx, struct op_ctx **head, int64_t timeout_s,
	enum status (*answer)(struct op_ctx *ctx))
{
	if (timeout_s >= 0) {
		ctx->timer = loop_timer_at(ctx->d->loop, loop_now_ms() + timeout_s * 1000, park_timeout, ctx);
		if (!ctx->timer)
			return op_fail(ctx, ST_INTERNAL, "out of memory");
	}
	ctx->park_head = head;
	ctx->park_answer = answer;
	ctx->wait_next = *head;
	*head = ctx;
	ctx->req->abandon = park_abandon;
	return OP_PENDING;
}

/* Answers every request parked on *head for this job. */
static void park_wake(struct op_ctx **head, int64_t job_id)
{
	struct op_ctx **pp = head;
	while (*pp) {
		struct op_ctx *ctx = *pp;
		if (ctx->aux[0] != job_id) {
			pp = &ctx->wait_next;
			continue;
		}
		park_end(ctx); /* unlinks ctx: *pp is the next one */
	}
}

static enum status wait_answer(struct op_ctx *ctx)
{
	return reply_job(ctx, ctx->aux[0]);
}

static enum status job_wait(struct op_ctx *ctx)
{
	int64_t id, timeout = -1;
	enum status st;
	if ((st = arg_job_id(ctx, &id)) != ST_OK ||
	    (st = arg_int(ctx, "timeout", false, 0, DURATION_MAX, &timeout)) != ST_OK)
		return st;
	struct get_ctx g;
	if ((st = load_visible(ctx, id, &g)) != ST_OK)
		return st;
	if (g.final || timeout == 0) {
		cJSON_Delete(ctx->data);
		ctx->data = g.job;
		return ST_OK;
	}
	cJSON_Delete(g.job);
	ctx->aux[0] = id;
	return park(ctx, bucket_of(id), timeout, wait_answer);
}

void job_waiters_wake(struct daemon *d, int64_t job_id)
{
	(void)d;
	/* Answered after the commit, from what was committed. */
	if (nwake == capwake) {
		size_t n = capwake ? capwake * 2 : 64;
		int64_t *nw = realloc(wake_ids, n * sizeof *nw);
		if (!nw)
			return;
		wake_ids = nw;
		capwake = n;
	}
	wake_ids[nwake++] = job_id;
}

void job_waiters_flush(struct daemon *d, bool committed)
{
	size_t n = nwake;
	nwake = 0;
	if (!committed)
		return;
	for (size_t i = 0; i < n; i++) {
		park_wake(bucket_of(wake_ids[i]), wake_ids[i]);
		job_log_wake(d, wake_ids[i]);
	}
	(void)d;
	if (n == 0 && capwake > 4096) {
		free(wake_ids);
		wake_ids = NULL;
		capwake = 0;
	}
}

void job_parked_abandon_all(void)
{
	for (int i = 0; i < WAIT_BUCKETS; i++)
		while (wait_buckets[i])
			park_abandon(wait_buckets[i]->req);
	while (log_waiters)
		park_abandon(log_waiters->req);
}

void job_waiters_shutdown(void)
{
	free(wake_ids);
	wake_ids = NULL;
	nwake = capwake = 0;
}

/* ---- logs: chunks of the job's output, optionally followed ---------------- */

#define LOG_CHUNK (256 * 1024)

/* Appends bytes as a JSON string, with invalid UTF-8 and NUL shown as
 * U+FFFD (logs are text for people; the offset still counts raw bytes). */
static void add_log_text(struct strbuf *b, const unsigned char *p, size_t n)
{
	char *clean = malloc(n * 3 + 1);
	if (!clean) {
		b->failed = true;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80 ? 1 : (p[i] >= 0xc2 && p[i] <= 0xdf) ? 2 : (p[i] >= 0xe0 && p[i] <= 0xef) ? 3
			: (p[i] >= 0xf0 && p[i] <= 0xf4) ? 4 : 0;
		if (p[i] != 0 && len > 0 && i + len <= n && utf8_valid((const char *)p + i, len)) {
			memcpy(clean + o, p + i, len);
			o += len;
			i += len;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	clean[o] = '\0';
	strbuf_add_json_str(b, clean);
	free(clean);
}

/* Answers with what the log holds at the offset. Returns OP_PENDING when
 * following and there is nothing new yet. */
static enum status logs_answer(struct op_ctx *ctx, bool may_park)
{
	int64_t id = ctx->aux[0], offset = ctx->aux[1];
	struct get_ctx g;
	enum status st = load_visible(ctx, id, &g);
	if (st != ST_OK)
		return st;
	cJSON_Delete(g.job);
	char path[4300];
	snprintf(path, sizeof path, "%s/jobs/%lld/output.log", ctx->d->cfg.state_dir, (long long)id);
	unsigned char *buf = malloc(LOG_CHUNK);
	if (!buf)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = pread(fd, buf, LOG_CHUNK, (off_t)offset);
		close(fd);
		if (n < 0)
			n = 0;
	}
	/* Do not split a UTF-8 sequence at the end of a chunk. */
	if (n == LOG_CHUNK) {
		ssize_t k = n;
		while (k > n - 4 && k > 0 && (buf[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && buf[k - 1] >= 0xc0)
			n = k - 1;
	}
	if (n == 0 && !g.final && may_park && ctx->aux[2]) {
		free(buf);
		return OP_PENDING;
	}
	struct strbuf *b = op_raw(ctx);
	if (!b) {
		free(buf);
		return ST_INTERNAL;
	}
	strbuf_adds(b, "{\"id\":");
	strbuf_add_int(b, id);
	strbuf_adds(b, ",\"data\":");
	add_log_text(b, buf, (size_t)n);
	strbuf_adds(b, ",\"offset\":");
	strbuf_add_int(b, offset + n);
	strbuf_adds(b, ",\"eof\":");
	strbuf_adds(b, g.final && n == 0 ? "true" : "false");
	strbuf_addc(b, '}');
	free(buf);
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status logs_answer_final(struct op_ctx *ctx)
{
	return logs_answer(ctx, false);
}

static enum status job_logs(struct op_ctx *ctx)
{
	int64_t id, offset = 0, timeout = 30;
	bool follow = false;
	enum status st;
	if ((st = arg_job_id(ctx, &id)) != ST_OK ||
	    (st = arg_int(ctx, "offset", false, 0, JSON_INT_MAX, &offset)) != ST_OK ||
	    (st = arg_bool(ctx, "follow", false, &follow)) != ST_OK ||
	    (st = arg_int(ctx, "timeout", false, 1, 3600, &timeout)) != ST_OK)
		return st;
	ctx->aux[0] = id;
	ctx->aux[1] = offset;
	ctx->aux[2] = follow;
	st = logs_answer(ctx, true);
	if (st != OP_PENDING)
		return st;
	/* Nothing new yet: parked until the job writes or ends (no polling). */
	return park(ctx, &log_waiters, timeout, logs_answer_final);
}

void job_log_wake(struct daemon *d, int64_t job_id)
{
	(void)d;
	park_wake(&log_waiters, job_id);
}

/* ---- gpus ------------------------------------------------------------------ */

static enum status gpu_list(struct op_ctx *ctx)
{
	cJSON *data = op_data(ctx);
	cJSON *arr = data ? cJSON_AddArrayToObject(data, "gpus") : NULL;
	if (!arr)
		return ST_INTERNAL;
	for (int i = 0; i < ctx->d->inv.ntypes; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return ST_INTERNAL;
		int total = ctx->d->inv.types[i].total, busy = sched_busy(ctx->d->sched, i);
		cJSON_AddStringToObject(o, "type", ctx->d->inv.types[i].name);
		cJSON_AddNumberToObject(o, "total", total);
		cJSON_AddNumberToObject(o, "busy", busy);
		cJSON_AddNumberToObject(o, "free", total - busy);
		/* Each device and who holds it (an addition to the contract's shape). */
		cJSON *devs = cJSON_AddArrayToObject(o, "devices");
		for (int k = 0; devs && k < total; k++) {
			cJSON *dv = cJSON_CreateObject();
			if (!dv)
				break;
			const struct gpu_device *gd = inventory_device(&ctx->d->inv, i, k);
			cJSON_AddNumberToObject(dv, "index", inventory_device_index(&ctx->d->inv, i, k));
			if (gd) {
				cJSON_AddStringToObject(dv, "uuid", gd->uuid);
				cJSON_AddStringToObject(dv, "model", gd->model);
				cJSON_AddNumberToObject(dv, "memory_mib", (double)gd->mem_mib);
			}
			int64_t holder = sched_device_holder(ctx->d->sched, i, k);
			if (holder)
				cJSON_AddNumberToObject(dv, "job", (double)holder);
			else
				cJSON_AddNullToObject(dv, "job");
			cJSON_AddItemToArray(devs, dv);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return ST_OK;
}

const struct op job_ops[] = {
	{"gpu.list", gpu_list, 0},
	{"job.approve", job_approve, OP_ADMIN | OP_WRITE},
	{"job.cancel", job_cancel, OP_WRITE},
	{"job.get", job_get, 0},
	{"job.list", job_list, 0},
	{"job.logs", job_logs, 0},
	{"job.reject", job_reject, OP_ADMIN | OP_WRITE},
	{"job.submit", job_submit, OP_WRITE},
	{"job.wait", job_wait, 0},
	{NULL, NULL, 0},
};
