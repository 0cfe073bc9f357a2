/* logs ID [-f] [--tail N] [-t]: a job's output, as docker logs shows a
 * container's. What is there is read first (--tail keeps its last lines),
 * then -f follows the job until it ends. An empty log is explained on
 * stderr: the job has not started, or wrote nothing (every job of the
 * simulated executor). -o json prints {"id", "data", "offset", "eof"}:
 * once for what is there, then once per chunk with -f. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/jobs.h"

struct logs {
	int64_t id, offset, tail; /* tail: lines to keep, -1 for all */
	bool follow, stamps, eof;
	bool at_line_start;       /* -t: the next byte starts a line */
	int64_t bytes;            /* output seen in all */
	struct strbuf kept;       /* what was there, when it is printed at once (--tail, JSON) */
};

/* Writes data to stdout, each line after the time it was received (-t). */
static void write_text(struct logs *l, const char *data, size_t len)
{
	if (!l->stamps) {
		fwrite(data, 1, len, stdout);
		return;
	}
	char when[48];
	fmt_when((int64_t)time(NULL), (int64_t)time(NULL), when, sizeof when);
	for (size_t i = 0; i < len;) {
		if (l->at_line_start)
			printf("%s ", when);
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
		fwrite(data + i, 1, n, stdout);
		l->at_line_start = nl != NULL;
		i += n;
	}
}

/* Where the last n lines of s start (a final line without '\n' counts). */
static size_t last_lines(const char *s, size_t len, int64_t n)
{
	size_t i = len;
	if (i > 0 && s[i - 1] == '\n')
		i--;
	for (; i > 0; i--)
		if (s[i - 1] == '\n' && --n == 0)
			return i;
	return 0;
}

/* One job.logs request at l->offset; *data: the reply's data (caller frees). */
static enum status fetch(struct ctl *c, struct logs *l, bool follow, cJSON **data)
{
	cJSON *args = cJSON_CreateObject();
	json_add_int(args, "id", l->id);
	json_add_int(args, "offset", l->offset);
	if (follow)
		cJSON_AddTrueToObject(args, "follow");
	return ctl_call(c, "job.logs", args, true, data);
}

/* Prints one chunk as JSON or YAML ({"id", "data", "offset", "eof"}). */
static void emit_chunk(const struct ctl *c, const struct logs *l, const char *text, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	char *copy = strndup(text, len);
	json_add_int(o, "id", l->id);
	cJSON_AddStringToObject(o, "data", copy ? copy : "");
	json_add_int(o, "offset", l->offset);
	cJSON_AddBoolToObject(o, "eof", l->eof);
	ctl_emit(c, o);
	cJSON_Delete(o);
	free(copy);
}

/* Reads chunks from l->offset: without follow, until nothing more is
 * there; with it, until the job ends. keep: collect them in l->kept. */
static int read_chunks(struct ctl *c, struct logs *l, bool follow, bool keep)
{
	while (!l->eof) {
		cJSON *data = NULL;
		enum status st = fetch(c, l, follow, &data);
		if (st != ST_OK)
			return ctl_report(c, st);
		const char *text = jstr(data, "data");
		size_t len = strlen(text);
		int64_t next = jint(data, "offset");
		bool progress = next != l->offset;
		l->eof = cJSON_IsTrue(json_get(data, "eof"));
		l->offset = next;
		l->bytes += (int64_t)len;
		if (keep)
			strbuf_add(&l->kept, text, len);
		else if (ctl_structured(c) && (len > 0 || l->eof))
			emit_chunk(c, l, text, len);
		else
			write_text(l, text, len);
		fflush(stdout);
		cJSON_Delete(data);
		if (!follow && !progress)
			break;
	}
	return 0;
}

/* Says on stderr why a log is empty: not started yet, or nothing written. */
static void explain_empty(struct ctl *c, const struct logs *l)
{
	cJSON *args = cJSON_CreateObject(), *j = NULL;
	json_add_int(args, "id", l->id);
	if (ctl_call(c, "job.get", args, true, &j) != ST_OK)
		return;
	const char *s = jstr(j, "status");
	fflush(stdout);
	if (strcmp(s, "PENDING") == 0 || strcmp(s, "APPROVED") == 0)
		fprintf(stderr, "gpuctl: job %lld has not started (%s: %s)%s\n", (long long)l->id, s, jstr(j, "reason"),
			l->follow ? "; waiting for its output" : "; nothing to show yet (-f waits for it)");
	else if (!job_status_final(s))
		fprintf(stderr, "gpuctl: job %lld has written nothing yet%s (under the simulated executor jobs never "
			"write)\n", (long long)l->id, l->follow ? "; waiting for its output" : "");
	else
		fprintf(stderr, "gpuctl: job %lld (%s) wrote no output (under the simulated executor jobs never write)\n",
			(long long)l->id, s);
	cJSON_Delete(j);
}

/* What was there, collected: its last --tail lines, as text or one object. */
static void print_kept(const struct ctl *c, struct logs *l)
{
	size_t from = l->tail < 0 ? 0 : l->tail == 0 ? l->kept.len : last_lines(l->kept.data ? l->kept.data : "", l->kept.len, l->tail);
	const char *text = l->kept.data ? l->kept.data + from : "";
	size_t len = l->kept.len - from;
	if (ctl_structured(c))
		emit_chunk(c, l, text, len);
	else
		write_text(l, text, len);
	fflush(stdout);
}

int cmd_logs(struct ctl *c, const struct ctl_args *a)
{
	struct logs l = {.tail = -1, .follow = args_has(a, "follow"), .stamps = args_has(a, "timestamps"),
		.at_line_start = true};
	const char *tail = args_get(a, "tail");
	if (c->out == OUT_NAME || c->out == OUT_WIDE)
		c->out = OUT_TEXT;
	if (parse_job_id(c, a->pos[0], &l.id) < 0 ||
	    (tail && parse_count_opt(c, "--tail", tail, 0, 1000000000, &l.tail) < 0))
		return EXIT_USAGE;
	strbuf_init(&l.kept, 0);
	bool keep = tail || ctl_structured(c);
	int rc = read_chunks(c, &l, false, keep);
	if (rc == 0 && keep)
		print_kept(c, &l);
	if (rc == 0 && l.bytes == 0)
		explain_empty(c, &l);
	if (rc == 0 && l.follow)
		rc = read_chunks(c, &l, true, false);
	strbuf_finish(&l.kept);
	return rc;
}
