/* libFuzzer: the incremental frame decoder fed arbitrary bytes in arbitrary
 * chunkings. The first byte seeds the chunk sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	data++;
	size--;
	struct frame_decoder d;
	frame_decoder_init(&d);
	size_t off = 0;
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = 1 + (seed >> 16) % 97;
		if (chunk > size - off)
			chunk = size - off;
		size_t took = frame_decoder_feed(&d, data + off, chunk);
		off += took;
		const char *p;
		size_t len;
		enum frame_result r;
		while ((r = frame_decoder_next(&d, &p, &len)) == FRAME_READY) {
			if (len < 1 || len > FRAME_MAX)
				abort();
			volatile char first = p[0], last = p[len - 1];
			(void)first;
			(void)last;
		}
		if (r == FRAME_EMPTY || r == FRAME_TOO_BIG)
			break; /* the server closes here */
		if (took == 0 && r == FRAME_PARTIAL)
			abort(); /* no progress although a frame is incomplete */
		/* The buffer never exceeds one maximal frame. */
		if (d.cap > FRAME_HEADER + FRAME_MAX)
			abort();
	}
	frame_decoder_finish(&d);
	return 0;
}
