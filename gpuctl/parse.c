/* Arguments as people type them: job ids, durations, counts. Errors name
 * the command and the option. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"

static const char *cmd_name(const struct ctl *c)
{
	return c->cmd ? c->cmd->name : "gpuctl";
}

int parse_id(struct ctl *c, const char *what, const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > JSON_INT_MAX) {
		ctl_fail(c, ST_USAGE, "%s: '%s' is not a %s id (a positive whole number)", cmd_name(c), text, what);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_job_id(struct ctl *c, const char *text, int64_t *out)
{
	return parse_id(c, "job", text, out);
}

int parse_duration_opt(struct ctl *c, const char *opt, const char *text, int64_t *out)
{
	const char *name = cmd_name(c);
	switch (duration_parse_cli(text, out)) {
	case DURATION_OK:
		return 0;
	case DURATION_BARE:
		ctl_fail(c, ST_USAGE, "%s: %s %s: write %ss or %sm (a bare number could be seconds or, as in Slurm, "
			"minutes)", name, opt, text, text, text);
		return -1;
	case DURATION_TOO_BIG:
		ctl_fail(c, ST_USAGE, "%s: %s '%s' is too long (at most 100 years)", name, opt, text);
		return -1;
	case DURATION_NOT_WHOLE:
		ctl_fail(c, ST_USAGE, "%s: %s '%s' is not a whole number of seconds", name, opt, text);
		return -1;
	case DURATION_FIELD:
		ctl_fail(c, ST_USAGE, "%s: %s '%s': minutes and seconds go up to 59, the hours after D- up to 23",
			name, opt, text);
		return -1;
	default:
		ctl_fail(c, ST_USAGE, "%s: %s '%s' is not a duration (like 90s, 15m, 1h30m, 1.5h, 1d, MM:SS, HH:MM:SS, "
			"D-HH[:MM[:SS]])", name, opt, text);
		return -1;
	}
}

int parse_when_opt(struct ctl *c, const char *opt, const char *text, int64_t *out)
{
	static const char *const forms[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d"};
	int64_t secs;
	if (duration_parse_cli(text, &secs) == DURATION_OK) {
		*out = (int64_t)time(NULL) - secs;
		return 0;
	}
	if (time_parse_rfc3339(text, out) == 0)
		return 0;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		const char *end = strptime(text, forms[i], &tm);
		if (!end || *end)
			continue;
		tm.tm_isdst = -1; /* local time, summer or not */
		time_t t = mktime(&tm);
		if (t != (time_t)-1) {
			*out = (int64_t)t;
			return 0;
		}
	}
	ctl_fail(c, ST_USAGE, "%s: %s '%s' is not a date or a duration (like 2026-11-27, \"2026-11-27 14:00\" in "
		"local time, 2026-11-27T13:00:00Z, or 7d for 7 days ago)", cmd_name(c), opt, text);
	return -1;
}

int parse_count_opt(struct ctl *c, const char *opt, const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end) {
		ctl_fail(c, ST_USAGE, "%s: %s '%s' is not a whole number", cmd_name(c), opt, text);
		return -1;
	}
	if (v < min || v > max) {
		ctl_fail(c, ST_USAGE, "%s: %s must be from %lld to %lld", cmd_name(c), opt, (long long)min,
			(long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int read_new_password(struct ctl *c, const char *prompt, const char *again_prompt, bool from_stdin, char *pw,
	size_t size)
{
	char again[4096];
	if (read_password(c, prompt, from_stdin, pw, size) < 0)
		return ctl_report(c, ST_USAGE);
	if (!password_acceptable(c, pw))
		return EXIT_USAGE;
	if (from_stdin)
		return 0;
	if (read_password(c, again_prompt, false, again, sizeof again) < 0) {
		explicit_bzero(again, sizeof again);
		return ctl_report(c, ST_USAGE);
	}
	bool same = strcmp(again, pw) == 0;
	explicit_bzero(again, sizeof again);
	return same ? 0 : ctl_fail(c, ST_USAGE, "%s: the passwords do not match", cmd_name(c));
}

bool password_acceptable(struct ctl *c, const char *pw)
{
	size_t chars = 0;
	for (const char *p = pw; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	if (chars >= PASSWORD_MIN_CHARS)
		return true;
	ctl_fail(c, ST_USAGE, "%s: the password is too short: at least %d characters, this one has %zu", cmd_name(c),
		PASSWORD_MIN_CHARS, chars);
	return false;
}
