/* Durations as users type them. The daemon's configuration takes "90"
 * (seconds), "90s", "15m", "2h", "1h30m", "1d" (duration_parse); gpuctl
 * takes those with units, decimals ("1.5h") and Slurm's clock forms, and
 * refuses a bare number (duration_parse_cli). */
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
/* What duration_parse_cli found wrong. */
enum duration_error {
	DURATION_OK = 0,
	DURATION_JUNK = -1,      /* not a duration at all */
	DURATION_BARE = -2,      /* a number without a unit ("90"): seconds or minutes? */
	DURATION_TOO_BIG = -3,   /* above DURATION_MAX */
	DURATION_NOT_WHOLE = -4, /* a decimal that is not a whole number of seconds ("0.5s") */
	DURATION_FIELD = -5,     /* a clock field out of range ("1:75", "1-25") */
};

/* Parses a duration typed on gpuctl's command line into whole seconds:
 * "90s", "15m", "1h30m", "1.5h", "1d" (units d h m s, largest first, each at
 * most once, decimals allowed where the result is whole seconds), or Slurm's
 * "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS" (fields after the
 * first below 60, hours after "D-" below 24). A bare number is refused:
 * Slurm reads "90" as minutes, the daemon's configuration as seconds.
 * Returns DURATION_OK or one of the errors above. */
enum duration_error duration_parse_cli(const char *s, int64_t *out);
/* Formats seconds compactly ("1h30m", "0s") into buf; returns buf. */
char *duration_format(int64_t secs, char *buf, size_t size);

#endif
