#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"

static enum log_level current_level = LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
	current_level = lvl;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_event(enum log_level lvl, const char *event, const char *fmt, ...)
{
	if (lvl > current_level)
		return;
	char ts[32];
	char line[2048];
	time_format_rfc3339((int64_t)time(NULL), ts, sizeof ts);
	int off = snprintf(line, sizeof line, "ts=%s level=%s event=%s", ts, level_names[lvl], event);
	if (off < 0)
		return;
	if (fmt && *fmt && (size_t)off < sizeof line - 2) {
		line[off++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		int w = vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
		va_end(ap);
		if (w > 0)
			off += w;
		if ((size_t)off >= sizeof line)
			off = sizeof line - 1;
	}
	/* One write per line so that concurrent writers do not interleave. */
	line[off] = '\0';
	fprintf(stderr, "%s\n", line);
}
