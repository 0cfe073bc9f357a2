#include "gpuaas-web/upstream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/log.h"
#include "common/peer.h"
#include "common/strbuf.h"
#include "gpuaas-web/jspan.h"
#include "gpuaas-web/loop.h"

#define UPSTREAM_IDLE_REUSE_MS 60000

struct upstream_call {
	struct upstream_call *next;
	int64_t id;
	int64_t sent_ms;
	upstream_reply_fn fn;
	void *arg;
};

struct upstream {
	struct loop *loop;
	struct loop_watch watch; /* watch.fd: -1 while not connected */
	char *path;
	struct frame_decoder dec;
	struct strbuf out;
	size_t out_off;
	struct upstream_call *head, *tail;
	size_t inflight;
	int64_t next_id;
	uint32_t events;
	int64_t last_used_ms; /* last request sent or reply read */
	int busy;    /* callbacks of this connection running */
	bool doomed; /* destroyed inside a callback: freed when they return */
};

static void on_event(void *arg, uint32_t events);

struct upstream *upstream_create(struct loop *loop, const char *path)
{
	struct upstream *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->path = strdup(path);
	if (!u->path) {
		free(u);
		return NULL;
	}
	u->loop = loop;
	u->watch = (struct loop_watch){.fd = -1, .fn = on_event, .arg = u};
	frame_decoder_init(&u->dec);
	strbuf_init(&u->out, 0);
	return u;
}

/* Connects now (a Unix socket connects at once or not at all). */
static int connect_now(struct upstream *u)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(u->path) >= sizeof addr.sun_path)
		return -1;
	strcpy(addr.sun_path, u->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		log_event(LOG_DEBUG, "upstream.connect_failed", "socket=%s error=\"%s\"", u->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!peer_trusted(fd, u->path)) {
		log_event(LOG_ERROR, "upstream.untrusted_peer", "socket=%s", u->path);
		close(fd);
		return -1;
	}
	u->watch.fd = fd;
	u->events = EPOLLIN;
	if (loop_add(u->loop, &u->watch, u->events) < 0) {
		close(fd);
		u->watch.fd = -1;
		return -1;
	}
	return 0;
}

static void free_now(struct upstream *u);

/* Every public entry that may run callbacks holds the connection busy, so
 * that a callback destroying it leaves the freeing to the outermost entry;
 * callers do not touch u after leave(). */
static void enter(struct upstream *u)
{
	u->busy++;
}

static void leave(struct upstream *u)
{
	if (--u->busy == 0 && u->doomed)
		free_now(u);
}

static void reset(struct upstream *u, enum status st)
{
	if (u->watch.fd >= 0) {
		loop_del(u->loop, &u->watch);
		close(u->watch.fd);
		u->watch.fd = -1;
		log_event(LOG_DEBUG, "upstream.closed", "socket=%s pending=%zu", u->path, u->inflight);
	}
	frame_decoder_finish(&u->dec);
	frame_decoder_init(&u->dec);
	u->out.len = 0;
	u->out_off = 0;
	struct upstream_call *c = u->head;
	u->head = u->tail = NULL;
	u->inflight = 0;
	u->busy++;
	while (c) {
		struct upstream_call *next = c->next;
		if (c->fn)
			c->fn(c->arg, st, NULL, 0);
		free(c);
		c = next;
	}
	u->busy--;
}

void upstream_reset(struct upstream *u, enum status st)
{
	enter(u);
	reset(u, st);
	leave(u);
}

static void free_now(struct upstream *u)
{
	frame_decoder_finish(&u->dec);
	strbuf_finish(&u->out);
	free(u->path);
	free(u);
}

void upstream_destroy(struct upstream *u)
{
	if (!u || u->doomed)
		return;
	u->doomed = true;
	enter(u);
	reset(u, ST_UNAVAILABLE);
	leave(u);
}

/* Appends one request frame to the output buffer. */
static enum status queue_frame(struct upstream *u, int64_t id, const char *op, const char *token, const char *args,
	size_t args_len)
{
	size_t start = u->out.len;
	strbuf_add(&u->out, "\0\0\0\0", FRAME_HEADER);
	strbuf_adds(&u->out, "{\"v\":1,\"id\":");
	strbuf_add_int(&u->out, id);
	strbuf_adds(&u->out, ",\"op\":");
	strbuf_add_json_str(&u->out, op);
	if (token) {
		strbuf_adds(&u->out, ",\"token\":");
		strbuf_add_json_str(&u->out, token);
	}
	if (args) {
		strbuf_adds(&u->out, ",\"args\":");
		strbuf_add(&u->out, args, args_len);
	}
	strbuf_addc(&u->out, '}');
	size_t len = u->out.len - start - FRAME_HEADER;
	if (u->out.failed || len > FRAME_MAX) {
		enum status st = u->out.failed ? ST_INTERNAL : ST_BAD_REQUEST;
		u->out.failed = false;
		u->out.len = start;
		return st;
	}
	frame_header_encode((uint8_t *)u->out.data + start, (uint32_t)len);
	return ST_OK;
}

enum status upstream_call(struct upstream *u, const char *op, const char *token, const char *args, size_t args_len,
	upstream_reply_fn fn, void *arg, struct upstream_call **handle)
{
	int64_t now = loop_now_ms();
	if (u->doomed)
		return ST_UNAVAILABLE;
	/* gpuaasd closes connections idle for --idle-timeout (10 min), and may
	 * close idle ones when it is full: a request written just then would be
	 * lost. A connection idle for a while is opened afresh instead. */
	if (u->watch.fd >= 0 && !u->head && now - u->last_used_ms > UPSTREAM_IDLE_REUSE_MS)
		reset(u, ST_UNREACHABLE);
	if (u->watch.fd < 0 && connect_now(u) < 0)
		return ST_UNREACHABLE;
	u->last_used_ms = now;
	struct upstream_call *c = malloc(sizeof *c);
	if (!c)
		return ST_INTERNAL;
	*c = (struct upstream_call){.id = ++u->next_id, .sent_ms = now, .fn = fn, .arg = arg};
	enum status st = queue_frame(u, c->id, op, token, args, args_len);
	if (st != ST_OK) {
		free(c);
		return st;
	}
	if (u->tail)
		u->tail->next = c;
	else
		u->head = c;
	u->tail = c;
	u->inflight++;
	if (handle)
		*handle = c;
	return ST_OK;
}

void upstream_cancel(struct upstream_call *c)
{
	if (c)
		c->fn = NULL;
}

size_t upstream_inflight(const struct upstream *u)
{
	return u->inflight;
}

int64_t upstream_oldest_ms(const struct upstream *u, int64_t now_ms)
{
	return u->head ? now_ms - u->head->sent_ms : 0;
}

/* Watches for writability only while output waits. */
static void want_write(struct upstream *u, bool on)
{
	uint32_t ev = EPOLLIN | (on ? EPOLLOUT : 0);
	if (ev == u->events || u->watch.fd < 0)
		return;
	if (loop_mod(u->loop, &u->watch, ev) < 0) {
		reset(u, ST_UNREACHABLE);
		return;
	}
	u->events = ev;
}

static void flush(struct upstream *u)
{
	while (u->watch.fd >= 0 && u->out_off < u->out.len) {
		ssize_t n = send(u->watch.fd, u->out.data + u->out_off, u->out.len - u->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			u->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_write(u, true);
			return;
		}
		reset(u, ST_UNREACHABLE);
		return;
	}
	u->out.len = u->out_off = 0;
	if (u->out.cap > (256u << 10)) { /* give back what a large request grew */
		strbuf_finish(&u->out);
		strbuf_init(&u->out, 0);
	}
	want_write(u, false);
}

void upstream_flush(struct upstream *u)
{
	enter(u);
	flush(u);
	leave(u);
}

/* Hands one reply to the oldest waiting call. -1 on a protocol error. */
static int deliver(struct upstream *u, const char *payload, size_t len)
{
	struct upstream_call *c = u->head;
	struct jspan id;
	int64_t got = 0;
	if (!c || jspan_member((struct jspan){payload, len}, "id", &id) < 0)
		return -1;
	/* "id": null answers a request the daemon could not read (e.g. "too
	 * many connections" just before it closes): it is the oldest one's. */
	if (!(id.n == 4 && memcmp(id.p, "null", 4) == 0) && (jspan_int(id, &got) < 0 || got != c->id))
		return -1;
	u->head = c->next;
	if (!u->head)
		u->tail = NULL;
	u->inflight--;
	u->last_used_ms = loop_now_ms();
	char *copy = c->fn ? malloc(len + 1) : NULL;
	if (copy) {
		memcpy(copy, payload, len);
		copy[len] = '\0';
		c->fn(c->arg, ST_OK, copy, len);
	} else if (c->fn) {
		c->fn(c->arg, ST_INTERNAL, NULL, 0);
	}
	free(c);
	return 0;
}

/* Reads what is there and delivers every complete frame. */
static void read_ready(struct upstream *u)
{
	for (;;) {
		const char *payload;
		size_t len;
		enum frame_result fr;
		while ((fr = frame_decoder_next(&u->dec, &payload, &len)) == FRAME_READY) {
			if (deliver(u, payload, len) < 0) {
				log_event(LOG_ERROR, "upstream.protocol_error", "socket=%s", u->path);
				reset(u, ST_UNREACHABLE);
				return;
			}
			if (u->watch.fd < 0 || u->doomed)
				return;
		}
		uint8_t *space;
		size_t avail;
		if (fr != FRAME_PARTIAL || frame_decoder_space(&u->dec, &space, &avail) < 0) {
			reset(u, ST_UNREACHABLE);
			return;
		}
		ssize_t n = read(u->watch.fd, space, avail);
		if (n > 0) {
			frame_decoder_commit(&u->dec, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		reset(u, ST_UNREACHABLE); /* end of file or error: gpuaasd went away */
		return;
	}
}

static void on_event(void *arg, uint32_t events)
{
	struct upstream *u = arg;
	enter(u);
	if (events & EPOLLOUT)
		flush(u);
	if (u->watch.fd >= 0 && !u->doomed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_ready(u);
	leave(u);
}
