/* What Slurm prints, read: squeue and sacct lines, elapsed times, sbatch's
 * job id and errors, and what each Slurm job state means for gpuaas (the
 * mapping the README documents). Pure functions. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "gpuaasd/exec-slurm.h"

/* A decimal number of at most 18 digits spanning [s, end); -1 otherwise. */
static int64_t number(const char *s, const char *end)
{
	int64_t v = 0;
	if (s >= end || end - s > 18)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int64_t slurm_parse_elapsed(const char *s)
{
	int64_t days = 0, parts[3], total = 0;
	int n = 0;
	const char *dash = strchr(s, '-');
	if (dash) {
		days = number(s, dash);
		if (days < 0)
			return -1;
		s = dash + 1;
	}
	for (const char *p = s;; p++) {
		if (*p != ':' && *p != '\0')
			continue;
		if (n == 3 || (parts[n] = number(s, p)) < 0)
			return -1;
		n++;
		if (*p == '\0')
			break;
		s = p + 1;
	}
	for (int i = 0; i < n; i++)
		total = total * 60 + parts[i];
	return days * 86400 + total;
}

/* Copies [s, end) into buf (cut to fit). */
static void field(char *buf, size_t len, const char *s, const char *end)
{
	size_t n = (size_t)(end - s);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* gpuaas-ID: ID, else 0. */
static int64_t gpuaas_id(const char *s, const char *end)
{
	if (end - s < 8 || strncmp(s, "gpuaas-", 7) != 0)
		return 0;
	int64_t id = number(s + 7, end);
	return id > 0 ? id : 0;
}

/* Splits line at '|' into n fields [f[i], e[i]); the last one runs to the
 * end of the line (less a final '|'). false when there are fewer. */
static bool split(const char *line, const char **f, const char **e, int n)
{
	const char *p = line;
	for (int i = 0; i < n - 1; i++) {
		const char *bar = strchr(p, '|');
		if (!bar)
			return false;
		f[i] = p;
		e[i] = bar;
		p = bar + 1;
	}
	f[n - 1] = p;
	e[n - 1] = p + strlen(p);
	if (e[n - 1] > p && e[n - 1][-1] == '|')
		e[n - 1]--;
	return true;
}

int slurm_parse_squeue_line(const char *line, struct slurm_row *row)
{
	const char *f[7], *e[7];
	char used[32], status[32];
	memset(row, 0, sizeof *row);
	/* Six fields that hold no '|', then the comment. */
	if (!split(line, f, e, 7))
		return -1;
	row->slurm_id = number(f[0], e[0]);
	row->gpuaas_id = gpuaas_id(f[1], e[1]);
	field(row->state, sizeof row->state, f[2], e[2]);
	field(row->reason, sizeof row->reason, f[3], e[3]);
	field(used, sizeof used, f[4], e[4]);
	field(status, sizeof status, f[5], e[5]);
	field(row->comment, sizeof row->comment, f[6], e[6]);
	row->used = slurm_parse_elapsed(used);
	row->wait_status = (int)number(status, status + strlen(status));
	return row->slurm_id > 0 && row->used >= 0 ? 0 : -1;
}

int slurm_parse_sacct_line(const char *line, struct slurm_row *row)
{
	const char *f[5], *e[5];
	memset(row, 0, sizeof *row);
	if (!split(line, f, e, 5))
		return -1;
	row->slurm_id = number(f[0], e[0]);
	/* "CANCELLED by 1000": the state is the first word. */
	const char *space = memchr(f[1], ' ', (size_t)(e[1] - f[1]));
	field(row->state, sizeof row->state, f[1], space ? space : e[1]);
	/* ExitCode "code:signal". */
	const char *colon = memchr(f[2], ':', (size_t)(e[2] - f[2]));
	int64_t code = colon ? number(f[2], colon) : -1, sig = colon ? number(colon + 1, e[2]) : -1;
	row->wait_status = code < 0 || sig < 0 || code > 255 || sig > 127 ? -1 : sig ? (int)sig : (int)code << 8;
	row->used = number(f[3], e[3]);
	field(row->reason, sizeof row->reason, f[4], e[4]);
	return row->slurm_id > 0 && row->used >= 0 ? 0 : -1;
}

/* "exit code 3" or "killed by signal SIGKILL (9)"; the exit code or -1. */
static int describe_status(int st, char *buf, size_t len)
{
	if (st < 0) {
		snprintf(buf, len, "failed");
		return -1;
	}
	if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		snprintf(buf, len, "killed by signal SIG%s (%d)", abbrev ? abbrev : "?", WTERMSIG(st));
		return -1;
	}
	snprintf(buf, len, "exit code %d", WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/* FAILED: the exit code or signal, and Slurm's reason when it says more. */
static void failed_reason(const struct slurm_row *row, char *reason, size_t len, int *exit_code)
{
	char what[64];
	*exit_code = describe_status(row->wait_status, what, sizeof what);
	if (row->reason[0] && strcmp(row->reason, "None") != 0 && strcmp(row->reason, "NonZeroExitCode") != 0)
		snprintf(reason, len, "%s (Slurm: %s)", what, row->reason);
	else
		snprintf(reason, len, "%s", what);
}

static const char *const live_states[] = {
	"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "STOPPED", "REQUEUED", "REQUEUE_HOLD",
	"REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE",
	"UPDATE_DB",
};

enum slurm_fate slurm_state_fate(const struct slurm_row *row, enum job_state *to, char *reason, size_t len,
	int *exit_code)
{
	const char *s = row->state;
	*exit_code = -1;
	*to = JOB_FAILED;
	for (size_t i = 0; i < sizeof live_states / sizeof live_states[0]; i++)
		if (strcmp(s, live_states[i]) == 0)
			return SLURM_LIVE;
	if (strcmp(s, "PREEMPTED") == 0)
		return SLURM_REQUEUE;
	if (strcmp(s, "COMPLETED") == 0) {
		*to = JOB_COMPLETED;
		*exit_code = 0;
		snprintf(reason, len, "completed");
	} else if (strcmp(s, "FAILED") == 0) {
		failed_reason(row, reason, len, exit_code);
	} else if (strcmp(s, "OUT_OF_MEMORY") == 0) {
		snprintf(reason, len, "out of memory");
	} else if (strcmp(s, "TIMEOUT") == 0) {
		snprintf(reason, len, "time limit");
	} else if (strcmp(s, "CANCELLED") == 0) {
		*to = JOB_CANCELLED;
		snprintf(reason, len, "cancelled in Slurm");
	} else if (strcmp(s, "NODE_FAIL") == 0 || strcmp(s, "BOOT_FAIL") == 0) {
		snprintf(reason, len, "node failure");
	} else if (strcmp(s, "DEADLINE") == 0 || strcmp(s, "REVOKED") == 0) {
		snprintf(reason, len, "ended by Slurm: %s", s);
	} else {
		return SLURM_LIVE; /* a state this gpuaas does not know: wait for a known one */
	}
	return SLURM_END;
}

int slurm_parse_sbatch_id(const char *out, int64_t *id)
{
	const char *end = out;
	while (*end >= '0' && *end <= '9')
		end++;
	if (*end != '\0' && *end != ';' && *end != '\n')
		return -1;
	*id = number(out, end);
	return *id > 0 ? 0 : -1;
}

/* Errors that mean "the controller is not there or busy", not "no". */
static const char *const transient[] = {
	"unable to contact slurm controller", "socket timed out", "connection refused", "temporarily unable",
	"temporarily unavailable", "zero bytes were transmitted", "munge", "standby", "communication connection",
	"connection timed out", "transport endpoint", "try again", "network is unreachable", "no route to host",
	"connection reset", "controller not responding",
};

bool slurm_error_transient(const char *err)
{
	for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
		if (strcasestr(err, transient[i]))
			return true;
	return false;
}

void slurm_error_text(const char *err, char *buf, size_t len)
{
	static const char *const noise[] = {"sbatch: error: ", "squeue: error: ", "sacct: error: ",
		"scancel: error: ", "Batch job submission failed: "};
	size_t o = 0;
	buf[0] = '\0';
	for (const char *line = err; *line && o + 1 < len;) {
		size_t n = strcspn(line, "\n");
		const char *s = line;
		for (size_t k = 0; k < sizeof noise / sizeof noise[0]; k++)
			if (strncmp(s, noise[k], strlen(noise[k])) == 0 && (size_t)(s - line) + strlen(noise[k]) <= n)
				s += strlen(noise[k]);
		size_t m = n - (size_t)(s - line);
		if (m > 0 && o > 0 && o + 2 < len) {
			buf[o++] = ';';
			buf[o++] = ' ';
		}
		for (size_t k = 0; k < m && o + 1 < len; k++)
			buf[o++] = s[k] == '"' ? '\'' : isprint((unsigned char)s[k]) ? s[k] : ' ';
		buf[o] = '\0';
		line += n;
		if (*line == '\n')
			line++;
	}
	if (o == 0)
		snprintf(buf, len, "no message");
}
