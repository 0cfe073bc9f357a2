/* Wire framing: a 4-byte big-endian length N (1 <= N <= FRAME_MAX), then N
 * bytes of JSON. The limit is checked before any allocation, on both sides. */
#ifndef GPUAAS_COMMON_FRAME_H
#define GPUAAS_COMMON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER 4
#define FRAME_MAX (1024u * 1024u)

enum frame_result {
	FRAME_READY,     /* a whole frame is available */
	FRAME_PARTIAL,   /* need more bytes */
	FRAME_EMPTY,     /* header announced length 0 */
	FRAME_TOO_BIG,   /* header announced length > FRAME_MAX */
};

/* Incremental decoder for a nonblocking reader. Bytes are read straight into
 * its buffer (frame_decoder_space + frame_decoder_commit); complete frames are
 * taken out with frame_decoder_next. Its buffer never exceeds
 * FRAME_HEADER + FRAME_MAX bytes. */
struct frame_decoder {
	uint8_t *buf;
	size_t cap;
	size_t start; /* first unconsumed byte */
	size_t end;   /* one past the last byte read */
};

/* Zeroes the decoder; no allocation yet. */
void frame_decoder_init(struct frame_decoder *d);
/* Frees the buffer; the decoder may be reused after frame_decoder_init. */
void frame_decoder_finish(struct frame_decoder *d);
/* Gives a writable area of at least one byte for the next read, growing the
 * buffer only as far as the frame being read needs. Returns -1 on ENOMEM or
 * when the pending frame is invalid (the caller must call _next first). */
int frame_decoder_space(struct frame_decoder *d, uint8_t **ptr, size_t *avail);
/* Records that n bytes were written into the area from _space. */
void frame_decoder_commit(struct frame_decoder *d, size_t n);
/* Copies bytes in (for tests and fuzzers: arbitrary chunking). Returns how
 * many were taken: fewer than n when the buffer holds complete frames that
 * must be taken out first, or when the pending header is invalid. */
size_t frame_decoder_feed(struct frame_decoder *d, const void *data, size_t n);
/* Takes the next frame. On FRAME_READY *payload points into the decoder's
 * buffer, valid until the next call on the decoder. */
enum frame_result frame_decoder_next(struct frame_decoder *d, const char **payload, size_t *len);
/* True when _next would return something other than FRAME_PARTIAL. */
bool frame_decoder_ready(const struct frame_decoder *d);
/* Bytes buffered but not yet returned as a frame (a half-sent frame). */
size_t frame_decoder_pending(const struct frame_decoder *d);

/* Writes the 4-byte header for a payload of len bytes. */
void frame_header_encode(uint8_t out[FRAME_HEADER], uint32_t len);
/* Reads the length from a 4-byte header. */
uint32_t frame_header_decode(const uint8_t in[FRAME_HEADER]);

/* Blocking I/O for the CLI. frame_write: header then payload, retrying short
 * writes and EINTR; returns 0 or -1 (errno set). frame_read: returns 0 and a
 * malloc'd NUL-terminated payload in *out (caller frees), 1 on clean EOF
 * before any byte, or -1 on error (errno: EPROTO for a bad length, EIO for EOF
 * inside a frame). */
int frame_write(int fd, const char *payload, size_t len);
int frame_read(int fd, char **out, size_t *len);

#endif
