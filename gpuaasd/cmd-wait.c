/* job.wait and job.logs: requests that may park until their job ends or
 * writes (the parking service answers them after the commit). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/park.h"

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
/* JSON text of one chunk at most: well inside the 1 MiB frame. */
#define LOG_REPLY_BUDGET (700 * 1024)

/* Appends bytes as a JSON string, with invalid UTF-8 and NUL shown as
 * U+FFFD (logs are text for people; the offset still counts raw bytes). */
/* Bytes of the UTF-8 character starting at p[i] (n bytes in all), or 0
 * when no valid one starts there (it is then shown as U+FFFD). */
static size_t char_len(const unsigned char *p, size_t i, size_t n)
{
	size_t len = p[i] < 0x80 ? 1 : (p[i] >= 0xc2 && p[i] <= 0xdf) ? 2 : (p[i] >= 0xe0 && p[i] <= 0xef) ? 3
		: (p[i] >= 0xf0 && p[i] <= 0xf4) ? 4 : 0;
	return p[i] != 0 && len > 0 && i + len <= n && utf8_valid((const char *)p + i, len) ? len : 0;
}

/* How many of the n raw bytes fit a reply once written as a JSON string:
 * control bytes grow six-fold (\u00XX), so a chunk is sized by its
 * encoded length, cut at a character boundary. */
static size_t fitting_prefix(const unsigned char *p, size_t n, size_t budget)
{
	size_t i = 0, out = 0;
	while (i < n) {
		size_t len = char_len(p, i, n), enc;
		if (len == 0)
			enc = 3, len = 1; /* U+FFFD */
		else if (len > 1)
			enc = len;
		else
			enc = p[i] == '"' || p[i] == '\\' ? 2 : p[i] < 0x20 || p[i] == 0x7f ? 6 : 1;
		if (out + enc > budget)
			break;
		out += enc;
		i += len;
	}
	return i;
}

static void add_log_text(struct strbuf *b, const unsigned char *p, size_t n)
{
	char *clean = malloc(n * 3 + 1);
	if (!clean) {
		b->failed = true;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = char_len(p, i, n);
		if (len > 0) {
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
	if (n > 0)
		n = (ssize_t)fitting_prefix(buf, (size_t)n, LOG_REPLY_BUDGET);
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

const struct op wait_ops[] = {
	{"job.logs", job_logs, 0},
	{"job.wait", job_wait, 0},
	{NULL, NULL, 0},
};
