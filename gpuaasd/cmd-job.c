/* job.* and gpu.list: submit, list, get, cancel, wait, logs, approve,
 * reject. Every reply here is JSON text written straight into the reply
 * buffer (op_raw): a job object has one writer, job_write, used by single
 * jobs and by lists of thousands alike. */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/jobs.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/park.h"
#include "gpuaasd/sched.h"

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

static void add_str(struct strbuf *b, const char *key, const char *v)
{
	add_key(b, key);
	strbuf_add_json_str(b, v);
}

static void add_int(struct strbuf *b, const char *key, int64_t v)
{
	add_key(b, key);
	strbuf_add_int(b, v);
}

/* An integer, or null when there is none. */
static void add_opt_int(struct strbuf *b, const char *key, bool has, int64_t v)
{
	add_key(b, key);
	if (has)
		strbuf_add_int(b, v);
	else
		strbuf_adds(b, "null");
}

/* A time as RFC 3339 UTC, or null when unset. */
static void add_time(struct strbuf *b, const char *key, int64_t t)
{
	char ts[40];
	add_key(b, key);
	if (t > 0)
		strbuf_add_json_str(b, time_format_rfc3339(t, ts, sizeof ts));
	else
		strbuf_adds(b, "null");
}

/* Why a job is where it is. A waiting job's position changes with every
 * start, so it is computed now, not stored. */
static const char *job_reason(struct daemon *d, const struct job_row *j, char *why, size_t size)
{
	if (strcmp(j->status, "APPROVED") == 0) {
		int idx = inventory_find(&d->inv, j->gpu_type);
		int pos = sched_queue_position(d->sched, idx, j->approve_seq);
		if (pos <= 0)
			return "starting";
		snprintf(why, size, "waiting for %lld free %s (position %d)", (long long)j->gpu_count, j->gpu_type, pos);
		return why;
	}
	if (strcmp(j->status, "RUNNING") == 0 && j->devices) {
		snprintf(why, size, "running on %s device%s %s", j->gpu_type, j->gpu_count > 1 ? "s" : "", j->devices);
		return why;
	}
	return j->reason;
}

/* Writes a job object (the shape and key order of docs/PROTOCOL.md). The
 * list path writes thousands of these per reply, so it is text, not a cJSON
 * tree. */
static void job_write(struct strbuf *b, struct daemon *d, const struct job_row *j)
{
	char why[600];
	strbuf_adds(b, "{\"id\":");
	strbuf_add_int(b, j->id);
	add_str(b, "name", j->name);
	add_str(b, "owner", j->owner);
	add_str(b, "gpu_type", j->gpu_type);
	add_int(b, "gpu_count", j->gpu_count);
	add_int(b, "time_limit", j->time_limit);
	add_str(b, "status", j->status);
	add_str(b, "reason", job_reason(d, j, why, sizeof why));
	add_time(b, "created_at", j->created_at);
	add_time(b, "approved_at", j->approved_at);
	add_str(b, "approved_by", j->approved_by);
	add_time(b, "started_at", j->started_at);
	add_time(b, "finished_at", j->finished_at);
	add_opt_int(b, "charged_seconds", j->has_charged, j->charged_seconds);
	add_opt_int(b, "exit_code", j->has_exit_code, j->exit_code);
	/* Stored as the compact JSON array we produced at submit. */
	add_key(b, "command");
	strbuf_adds(b, j->command ? j->command : "null");
	strbuf_addc(b, '}');
}

/* A row of a brief list: [id, name, owner, gpu_type, gpu_count, time_limit,
 * status, created_at], what gpuctl's table shows. */
static void brief_write(struct strbuf *b, const struct job_row *row)
{
	const char *strs[] = {row->name, row->owner, row->gpu_type};
	const int64_t nums[] = {row->gpu_count, row->time_limit};
	strbuf_addc(b, '[');
	strbuf_add_int(b, row->id);
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		strbuf_addc(b, ',');
		strbuf_add_json_str(b, strs[i]);
	}
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		strbuf_addc(b, ',');
		strbuf_add_int(b, nums[i]);
	}
	strbuf_addc(b, ',');
	strbuf_add_json_str(b, row->status);
	strbuf_addc(b, ',');
	strbuf_add_int(b, row->created_at);
	strbuf_addc(b, ']');
}

/* Reading one job as the caller may see it (owners see their own, admins
 * everything; anyone else gets NOT_FOUND, as if it did not exist). */
enum job_reply { JOB_REPLY_NONE, JOB_REPLY_ALWAYS, JOB_REPLY_IF_FINAL };

struct job_read {
	struct op_ctx *ctx;
	enum job_reply reply;
	bool visible;
	bool final;
};

static int job_read_cb(void *arg, const struct job_row *row)
{
	struct job_read *r = arg;
	const struct user_row *caller = &r->ctx->user;
	enum job_state state;
	r->visible = caller->is_admin || row->owner_id == caller->id;
	r->final = job_state_parse(row->status, &state) == 0 && job_state_final(state);
	if (!r->visible || r->reply == JOB_REPLY_NONE || (r->reply == JOB_REPLY_IF_FINAL && !r->final))
		return 0;
	struct strbuf *b = op_raw(r->ctx);
	if (!b)
		return -1;
	job_write(b, r->ctx->d, row);
	return b->failed ? -1 : 0;
}

/* Reads job id; writes it as the reply data when `reply` says so. *final
 * (may be NULL): whether the job is in a final state. */
static enum status job_read(struct op_ctx *ctx, int64_t id, enum job_reply reply, bool *final)
{
	struct job_read r = {.ctx = ctx, .reply = reply};
	int rc = db_job_get(ctx->d->db, id, job_read_cb, &r);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND || !r.visible)
		return op_fail(ctx, ST_NOT_FOUND, "no job %lld", (long long)id);
	if (final)
		*final = r.final;
	return ST_OK;
}

static enum status reply_job(struct op_ctx *ctx, int64_t id)
{
	return job_read(ctx, id, JOB_REPLY_ALWAYS, NULL);
}

/* The reply to a transition that returned st: the job as it is now, or the
 * error (a database error is told apart from a refused transition). */
static enum status reply_changed(struct op_ctx *ctx, enum status st, int64_t id)
{
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	return st == ST_OK ? reply_job(ctx, id) : st;
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
	if (!command && d->executor->needs_command)
		return op_fail(ctx, ST_BAD_REQUEST, "this daemon runs jobs for real (executor %s): give the "
			"command to run (gpuctl submit ... -- CMD [ARG...])", d->executor->name);
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
	return reply_changed(ctx, st, id);
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
	if (l->brief)
		brief_write(l->b, row);
	else
		job_write(l->b, l->d, row);
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
	if ((st = job_read(ctx, id, JOB_REPLY_NONE, NULL)) != ST_OK)
		return st;
	return reply_changed(ctx, sched_cancel(ctx->d->sched, id, ctx->user.username, ctx->err, sizeof ctx->err), id);
}

static enum status job_approve(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	return reply_changed(ctx, sched_approve(ctx->d->sched, id, ctx->user.id, ctx->err, sizeof ctx->err), id);
}

static enum status job_reject(struct op_ctx *ctx)
{
	int64_t id;
	const char *reason = NULL;
	enum status st;
	if ((st = arg_job_id(ctx, &id)) != ST_OK ||
	    (st = arg_str(ctx, "reason", false, REASON_MAX_LEN, true, &reason)) != ST_OK)
		return st;
	return reply_changed(ctx, jobs_reject(ctx->d, id, reason, ctx->err, sizeof ctx->err), id);
}

/* ---- wait: parked until the job is final --------------------------------- */

static enum status wait_answer(struct op_ctx *ctx, bool timed_out)
{
	bool final = false;
	enum status st = job_read(ctx, ctx->state.job.job_id, timed_out ? JOB_REPLY_ALWAYS : JOB_REPLY_IF_FINAL,
		&final);
	if (st == ST_OK && !final && !timed_out)
		return OP_PENDING;
	return st;
}

static enum status job_wait(struct op_ctx *ctx)
{
	int64_t id, timeout = -1;
	enum status st;
	if ((st = arg_job_id(ctx, &id)) != ST_OK ||
	    (st = arg_int(ctx, "timeout", false, 0, DURATION_MAX, &timeout)) != ST_OK)
		return st;
	ctx->state.job.job_id = id;
	st = wait_answer(ctx, timeout == 0);
	if (st != OP_PENDING)
		return st;
	return park_add(ctx->d->park, ctx, PARK_JOB_STATE, id, timeout < 0 ? -1 : timeout * 1000, wait_answer);
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

/* Reads up to LOG_CHUNK bytes of the job's output at offset into buf.
 * Only a regular file is read, opened without blocking: whatever a job does
 * to its directory, a read never stalls the daemon. */
static ssize_t read_log(struct daemon *d, int64_t id, int64_t offset, unsigned char *buf)
{
	char path[4300];
	if (!d->executor->log_path || d->executor->log_path(&d->cfg, id, path, sizeof path) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	struct stat st;
	ssize_t n = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = pread(fd, buf, LOG_CHUNK, (off_t)offset);
	close(fd);
	if (n < 0)
		return 0;
	/* Do not split a UTF-8 sequence at the end of a chunk. */
	if (n == LOG_CHUNK) {
		ssize_t k = n;
		while (k > n - 4 && k > 0 && (buf[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && buf[k - 1] >= 0xc0)
			n = k - 1;
	}
	return n;
}

/* Answers with what the log holds at the offset; OP_PENDING when following,
 * there is nothing new yet and the wait is not over. */
static enum status logs_answer(struct op_ctx *ctx, bool timed_out)
{
	int64_t id = ctx->state.job.job_id, offset = ctx->state.job.offset;
	bool final = false;
	enum status st = job_read(ctx, id, JOB_REPLY_NONE, &final);
	if (st != ST_OK)
		return st;
	unsigned char *buf = malloc(LOG_CHUNK);
	if (!buf)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	ssize_t n = read_log(ctx->d, id, offset, buf);
	if (n == 0 && !final && !timed_out && ctx->state.job.follow) {
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
	strbuf_adds(b, final && n == 0 ? "true" : "false");
	strbuf_addc(b, '}');
	free(buf);
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
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
	ctx->state.job.job_id = id;
	ctx->state.job.offset = offset;
	ctx->state.job.follow = follow;
	st = logs_answer(ctx, false);
	if (st != OP_PENDING)
		return st;
	/* Nothing new yet: parked until the job writes or ends (no polling). */
	return park_add(ctx->d->park, ctx, PARK_JOB_STATE | PARK_JOB_OUTPUT, id, timeout * 1000, logs_answer);
}

/* ---- gpus ------------------------------------------------------------------ */

/* One device of a type: {index, uuid, model, memory_mib (when discovered), job}. */
static void device_write(struct strbuf *b, struct daemon *d, int type_idx, int k)
{
	const struct gpu_device *gd = inventory_device(&d->inv, type_idx, k);
	strbuf_adds(b, "{\"index\":");
	strbuf_add_int(b, inventory_device_index(&d->inv, type_idx, k));
	if (gd) {
		add_str(b, "uuid", gd->uuid);
		add_str(b, "model", gd->model);
		add_int(b, "memory_mib", gd->mem_mib);
	}
	int64_t holder = sched_device_holder(d->sched, type_idx, k);
	add_opt_int(b, "job", holder != 0, holder);
	strbuf_addc(b, '}');
}

static enum status gpu_list(struct op_ctx *ctx)
{
	struct daemon *d = ctx->d;
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"gpus\":[");
	for (int i = 0; i < d->inv.ntypes; i++) {
		int total = d->inv.types[i].total, busy = sched_busy(d->sched, i);
		strbuf_adds(b, i ? ",{\"type\":" : "{\"type\":");
		strbuf_add_json_str(b, d->inv.types[i].name);
		add_int(b, "total", total);
		add_int(b, "busy", busy);
		add_int(b, "free", total - busy);
		/* Each device and who holds it. */
		add_key(b, "devices");
		strbuf_addc(b, '[');
		for (int k = 0; k < total; k++) {
			if (k)
				strbuf_addc(b, ',');
			device_write(b, d, i, k);
		}
		strbuf_adds(b, "]}");
	}
	strbuf_adds(b, "]}");
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
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
