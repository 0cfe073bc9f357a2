/* libFuzzer: duration parsing; whatever parses must format and parse back
 * to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t v;
	if (duration_parse(s, &v) == 0) {
		if (v < 0 || v > DURATION_MAX)
			abort();
		char buf[64];
		int64_t back;
		if (duration_parse(duration_format(v, buf, sizeof buf), &back) != 0 || back != v)
			abort();
	}
	free(s);
	return 0;
}
