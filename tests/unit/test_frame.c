/* Framing: split, merged, oversize and zero frames; blocking I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/frame.h"

static size_t build(uint8_t *out, const char *payload)
{
	size_t n = strlen(payload);
	frame_header_encode(out, (uint32_t)n);
	memcpy(out + 4, payload, n);
	return n + 4;
}

/* Fixture: *state is a fresh decoder, finished after the test. */
static int decoder_setup(void **state)
{
	struct frame_decoder *d = malloc(sizeof *d);
	if (!d)
		return -1;
	frame_decoder_init(d);
	*state = d;
	return 0;
}

static int decoder_teardown(void **state)
{
	frame_decoder_finish(*state);
	free(*state);
	return 0;
}

static void test_header_roundtrip(void **state)
{
	(void)state;
	uint8_t h[4];
	frame_header_encode(h, 0x01020304);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[3], 4);
	assert_int_equal(frame_header_decode(h), 0x01020304);
}

static void test_split_byte_by_byte(void **state)
{
	struct frame_decoder *d = *state;
	uint8_t buf[64];
	size_t n = build(buf, "{\"op\":\"sys.ping\"}");
	const char *p;
	size_t len;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_PARTIAL);
		assert_int_equal(frame_decoder_feed(d, buf + i, 1), 1);
	}
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_READY);
	assert_int_equal(len, n - 4);
	assert_memory_equal(p, "{\"op\":\"sys.ping\"}", len);
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_PARTIAL);
	assert_int_equal(frame_decoder_pending(d), 0);
}

static void test_merged_frames(void **state)
{
	struct frame_decoder *d = *state;
	uint8_t buf[256];
	size_t n = build(buf, "{\"a\":1}");
	n += build(buf + n, "{\"b\":2}");
	n += build(buf + n, "{\"c\"");
	n -= 2; /* the third frame is cut short */
	assert_int_equal(frame_decoder_feed(d, buf, n), n);
	const char *p;
	size_t len;
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_READY);
	assert_memory_equal(p, "{\"a\":1}", len);
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_READY);
	assert_memory_equal(p, "{\"b\":2}", len);
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_PARTIAL);
	assert_true(frame_decoder_pending(d) > 0);
}

static void test_zero_and_oversize(void **state)
{
	(void)state;
	struct frame_decoder d;
	const char *p;
	size_t len;
	uint8_t zero[4] = {0, 0, 0, 0};
	frame_decoder_init(&d);
	frame_decoder_feed(&d, zero, 4);
	assert_int_equal(frame_decoder_next(&d, &p, &len), FRAME_EMPTY);
	frame_decoder_finish(&d);

	uint8_t big[4];
	frame_header_encode(big, FRAME_MAX + 1);
	frame_decoder_init(&d);
	frame_decoder_feed(&d, big, 4);
	assert_int_equal(frame_decoder_next(&d, &p, &len), FRAME_TOO_BIG);
	/* No allocation follows a bad header: no space is offered. */
	uint8_t *sp;
	size_t avail;
	assert_int_equal(frame_decoder_space(&d, &sp, &avail), -1);
	assert_true(d.cap <= 16384);
	frame_decoder_finish(&d);

	uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
	frame_decoder_init(&d);
	frame_decoder_feed(&d, huge, 4);
	assert_int_equal(frame_decoder_next(&d, &p, &len), FRAME_TOO_BIG);
	frame_decoder_finish(&d);
}

static void test_max_frame_accepted(void **state)
{
	struct frame_decoder *d = *state;
	uint8_t *buf = malloc(FRAME_MAX + 4);
	assert_non_null(buf);
	frame_header_encode(buf, FRAME_MAX);
	memset(buf + 4, 'x', FRAME_MAX);
	size_t off = 0;
	while (off < FRAME_MAX + 4) {
		size_t chunk = (off % 3 + 1) * 7919;
		if (chunk > FRAME_MAX + 4 - off)
			chunk = FRAME_MAX + 4 - off;
		assert_int_equal(frame_decoder_feed(d, buf + off, chunk), chunk);
		off += chunk;
	}
	const char *p;
	size_t len;
	assert_int_equal(frame_decoder_next(d, &p, &len), FRAME_READY);
	assert_int_equal(len, FRAME_MAX);
	assert_true(d->cap <= FRAME_MAX + 4);
	free(buf);
}

static void test_blocking_io(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(frame_write(sv[0], "{\"x\":1}", 7), 0);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(frame_read(sv[1], &out, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(out, "{\"x\":1}");
	free(out);
	/* EOF in the middle of a frame is an error, not a short frame. */
	uint8_t h[4];
	frame_header_encode(h, 10);
	assert_int_equal(write(sv[0], h, 4), 4);
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(frame_read(sv[1], &out, &len), -1);
	assert_int_equal(errno, EIO);
	close(sv[1]);
	/* Clean EOF before any byte. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	assert_int_equal(frame_read(sv[1], &out, &len), 1);
	close(sv[1]);
	/* An oversize announced length is refused before any allocation. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	frame_header_encode(h, FRAME_MAX + 1);
	assert_int_equal(write(sv[0], h, 4), 4);
	assert_int_equal(frame_read(sv[1], &out, &len), -1);
	assert_int_equal(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);
	/* frame_write refuses empty and oversize payloads. */
	assert_int_equal(frame_write(1, "", 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test_setup_teardown(test_split_byte_by_byte, decoder_setup, decoder_teardown),
		cmocka_unit_test_setup_teardown(test_merged_frames, decoder_setup, decoder_teardown),
		cmocka_unit_test(test_zero_and_oversize),
		cmocka_unit_test_setup_teardown(test_max_frame_accepted, decoder_setup, decoder_teardown),
		cmocka_unit_test(test_blocking_io),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
