/* Durations as users type them: "90", "90s", "15m", "2h", "1h30m", "1d". */
#ifndef GPUAAS_COMMON_DURATION_H
#define GPUAAS_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Largest duration accepted: 100 years, far below any overflow of the
 * GPU-seconds arithmetic done with it. */
#define DURATION_MAX INT64_C(3153600000)

/* Parses s into seconds. Returns 0, or -1 for junk, negatives, empty input,
 * a unit used twice or out of order, or a value above DURATION_MAX. */
int duration_parse(const char *s, int64_t *out);
/* Formats seconds compactly ("1h30m", "0s") into buf; returns buf. */
char *duration_format(int64_t secs, char *buf, size_t size);

#endif
