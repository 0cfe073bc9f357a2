/* One line per event on stderr, key=value style:
 * "ts=2026-11-26T13:54:27Z level=info event=job.approved job=42 by=admin". */
#ifndef GPUAAS_COMMON_LOG_H
#define GPUAAS_COMMON_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the most verbose level printed. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);
/* Logs event with the already-formatted key=value fields in fmt. */
void log_event(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
