#include "common/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void frame_header_encode(uint8_t out[FRAME_HEADER], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

uint32_t frame_header_decode(const uint8_t in[FRAME_HEADER])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

void frame_decoder_init(struct frame_decoder *d)
{
	memset(d, 0, sizeof *d);
}

void frame_decoder_finish(struct frame_decoder *d)
{
	if (!d)
		return;
	free(d->buf);
	memset(d, 0, sizeof *d);
}

size_t frame_decoder_pending(const struct frame_decoder *d)
{
	return d->end - d->start;
}

/* How many bytes the frame at d->start needs in total, or 0 when the header is
 * not complete yet, or SIZE_MAX when the header is invalid. */
static size_t frame_needed(const struct frame_decoder *d)
{
	size_t have = d->end - d->start;
	if (have < FRAME_HEADER)
		return FRAME_HEADER;
	uint32_t n = frame_header_decode(d->buf + d->start);
	if (n == 0 || n > FRAME_MAX)
		return SIZE_MAX;
	return FRAME_HEADER + (size_t)n;
}

bool frame_decoder_ready(const struct frame_decoder *d)
{
	size_t need = frame_needed(d);
	return need == SIZE_MAX || d->end - d->start >= need;
}

int frame_decoder_space(struct frame_decoder *d, uint8_t **ptr, size_t *avail)
{
	size_t need = frame_needed(d);
	if (need == SIZE_MAX)
		return -1;
	/* Move the unconsumed tail to the front before growing. */
	if (d->start > 0) {
		memmove(d->buf, d->buf + d->start, d->end - d->start);
		d->end -= d->start;
		d->start = 0;
	}
	/* Read in chunks of at least 16 KiB so that many small pipelined
	 * frames arrive in one read, but never beyond one maximal frame. */
	size_t want = need < 16384 ? 16384 : need;
	if (want > FRAME_HEADER + FRAME_MAX)
		want = FRAME_HEADER + FRAME_MAX;
	if (d->cap < want) {
		uint8_t *nb = realloc(d->buf, want);
		if (!nb)
			return -1;
		d->buf = nb;
		d->cap = want;
	}
	if (d->end >= d->cap)
		return -1; /* cannot happen: need <= cap and frame not complete */
	*ptr = d->buf + d->end;
	*avail = d->cap - d->end;
	return 0;
}

void frame_decoder_commit(struct frame_decoder *d, size_t n)
{
	d->end += n;
}

size_t frame_decoder_feed(struct frame_decoder *d, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t taken = 0;
	while (taken < n) {
		uint8_t *dst;
		size_t avail;
		if (frame_decoder_space(d, &dst, &avail) < 0)
			break;
		size_t take = n - taken < avail ? n - taken : avail;
		memcpy(dst, p + taken, take);
		frame_decoder_commit(d, take);
		taken += take;
	}
	return taken;
}

enum frame_result frame_decoder_next(struct frame_decoder *d, const char **payload, size_t *len)
{
	size_t have = d->end - d->start;
	if (have < FRAME_HEADER)
		return FRAME_PARTIAL;
	uint32_t n = frame_header_decode(d->buf + d->start);
	if (n == 0)
		return FRAME_EMPTY;
	if (n > FRAME_MAX)
		return FRAME_TOO_BIG;
	if (have < FRAME_HEADER + (size_t)n)
		return FRAME_PARTIAL;
	*payload = (const char *)d->buf + d->start + FRAME_HEADER;
	*len = n;
	d->start += FRAME_HEADER + (size_t)n;
	if (d->start == d->end)
		d->start = d->end = 0;
	return FRAME_READY;
}

int frame_write(int fd, const char *payload, size_t len)
{
	if (len == 0 || len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t hdr[FRAME_HEADER];
	frame_header_encode(hdr, (uint32_t)len);
	struct iovec iov[2] = {{hdr, FRAME_HEADER}, {(void *)payload, len}};
	int iovcnt = 2;
	struct iovec *v = iov;
	while (iovcnt > 0) {
		ssize_t w = writev(fd, v, iovcnt);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		size_t left = (size_t)w;
		while (iovcnt > 0 && left >= v->iov_len) {
			left -= v->iov_len;
			v++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			v->iov_base = (char *)v->iov_base + left;
			v->iov_len -= left;
		}
	}
	return 0;
}

/* Reads exactly n bytes. Returns n, 0 for EOF before any byte, or -1. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EIO;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int frame_read(int fd, char **out, size_t *len)
{
	uint8_t hdr[FRAME_HEADER];
	ssize_t r = read_full(fd, hdr, FRAME_HEADER);
	if (r == 0)
		return 1;
	if (r < 0)
		return -1;
	uint32_t n = frame_header_decode(hdr);
	if (n == 0 || n > FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	char *buf = malloc((size_t)n + 1);
	if (!buf)
		return -1;
	r = read_full(fd, buf, n);
	if (r <= 0) {
		if (r == 0)
			errno = EIO;
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
