/* Job objects in replies: the one writer of the job object (the shape and
 * key order of docs/PROTOCOL.md), written as JSON text straight into the
 * reply buffer, for single jobs and lists of thousands alike; and reading a
 * job as the caller may see it. Used by the job handlers (cmd-job.c,
 * cmd-wait.c, cmd-gpu.c). */
#ifndef GPUAAS_GPUAASD_JOB_REPLY_H
#define GPUAAS_GPUAASD_JOB_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "gpuaasd/db.h"
#include "gpuaasd/ops.h"

/* ,"key": and the value kinds a reply writes (a leading comma: never the
 * first key of an object). */
void out_key(struct strbuf *b, const char *key);
void out_str(struct strbuf *b, const char *key, const char *v);
void out_int(struct strbuf *b, const char *key, int64_t v);
/* An integer, or null when there is none. */
void out_opt_int(struct strbuf *b, const char *key, bool has, int64_t v);
/* Seconds since the epoch as RFC 3339 UTC, or null when <= 0. */
void out_time(struct strbuf *b, const char *key, int64_t t);

/* Writes the job object, leaving it open (no closing brace) so callers may
 * add fields; job_write closes it. */
void job_write_open(struct strbuf *b, struct daemon *d, const struct job_row *j);
void job_write(struct strbuf *b, struct daemon *d, const struct job_row *j);
/* Adds ,"expires_at": when a PENDING job expires (--pending-ttl), or null. */
void job_write_expiry(struct strbuf *b, struct daemon *d, const struct job_row *j);
/* A row of a brief list: [id, name, owner, gpu_type, gpu_count,
 * time_limit, status, created_at]. */
void brief_write(struct strbuf *b, const struct job_row *row);

/* Whether reading a job also writes it as the reply's data. */
enum job_reply { JOB_REPLY_NONE, JOB_REPLY_ALWAYS, JOB_REPLY_IF_FINAL };
/* Reads job id as the caller may see it (owners see their own, admins
 * everything; anyone else gets NOT_FOUND, as if it did not exist). *final
 * (may be NULL): whether it is in a final state. */
enum status job_read(struct op_ctx *ctx, int64_t id, enum job_reply reply, bool *final);
/* The job as the reply's data. */
enum status reply_job(struct op_ctx *ctx, int64_t id);
/* The reply to a transition that returned st: the job as it is now, or the
 * error (a database error is told apart from a refused transition). */
enum status reply_changed(struct op_ctx *ctx, enum status st, int64_t id);
/* Reads args.id, a job id. */
enum status arg_job_id(struct op_ctx *ctx, int64_t *id);

#endif
