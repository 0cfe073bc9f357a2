#include "gpuaasd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/log.h"

struct client {
	struct server *srv;
	int fd;
	uint64_t serial;
	uid_t uid; /* the peer's, read at accept: for the logs */
	struct frame_decoder dec;
	struct request *head, *tail;
	int inflight; /* requests in the queue, done or not */
	char *out;
	size_t out_off, out_len, out_cap;
	int64_t last_activity;
	int64_t partial_since; /* 0 when no half-sent frame */
	int64_t write_stalled_since;
	uint32_t events;
	bool read_eof;     /* peer shut down its side; answer what is queued */
	bool closing;      /* protocol error: close once the queue is flushed */
	bool dead;         /* torn down at the next flush */
	bool on_flush_list;
	struct client *prev, *next;     /* all clients */
	struct client *flush_next;      /* clients with replies or frames pending */
};

struct server {
	struct loop *loop;
	int listen_fd;
	bool accepting;
	struct server_limits limits;
	server_request_cb cb;
	void *cb_data;
	struct client *clients;
	uint64_t next_serial;
	struct client *flush_list;
	struct timer *housekeeping;
	struct timer *accept_backoff;
};

static void client_on_event(struct loop *loop, int fd, uint32_t events, void *data);
static void client_process_frames(struct client *c);

/* ---- listening socket ---------------------------------------------------- */

int server_listen(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(err, errlen, "socket path too long (max %zu bytes): %s",
			sizeof addr.sun_path - 1, path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
			goto fail;
		}
		/* A live daemon answers; a stale file refuses the connection. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			goto fail;
		}
		int rc = connect(probe, (struct sockaddr *)&addr, sizeof addr);
		int saved = errno;
		close(probe);
		if (rc == 0) {
			snprintf(err, errlen, "another gpuaasd is already listening on %s", path);
			goto fail;
		}
		if (saved != ECONNREFUSED && saved != ENOENT) {
			snprintf(err, errlen, "cannot probe %s: %s", path, strerror(saved));
			goto fail;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	/* The file is created with the right mode from the start: no window
	 * where others could connect to a socket meant to be private. */
	mode_t old = umask((mode_t)(~mode & 0777));
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	int saved = errno;
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(saved));
		goto fail;
	}
	if (listen(fd, 512) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- clients --------------------------------------------------------------- */

static void schedule_flush(struct client *c)
{
	if (c->on_flush_list)
		return;
	c->on_flush_list = true;
	c->flush_next = c->srv->flush_list;
	c->srv->flush_list = c;
}

static void client_update_events(struct client *c)
{
	if (c->dead)
		return;
	uint32_t ev = 0;
	bool room = c->inflight < c->srv->limits.max_inflight &&
		c->out_len - c->out_off < c->srv->limits.out_cap;
	if (!c->read_eof && !c->closing && room)
		ev |= EPOLLIN;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		if (loop_mod(c->srv->loop, c->fd, ev) == 0)
			c->events = ev;
	}
}

/* Marks a client for teardown; the memory goes at the next flush so that no
 * callback up the stack is left holding a freed client. */
static void client_kill(struct client *c, const char *why)
{
	if (c->dead)
		return;
	log_event(LOG_DEBUG, "conn.close", "conn=%llu uid=%u why=%s", (unsigned long long)c->serial,
		(unsigned)c->uid, why);
	c->dead = true;
	loop_del(c->srv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	schedule_flush(c);
}

static void client_free(struct client *c)
{
	struct server *srv = c->srv;
	struct request *r = c->head;
	c->head = c->tail = NULL;
	while (r) {
		struct request *next = r->next;
		r->next = NULL;
		r->client = NULL;
		if (r->done) {
			free(r->out);
			free(r);
		} else if (r->abandon) {
			r->abandon(r); /* ends in server_request_complete, which frees */
		}
		/* else: async work still holds it; freed when it completes. */
		r = next;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	frame_decoder_finish(&c->dec);
	free(c->out);
	free(c);
}

static int out_append(struct client *c, const char *data, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_len + len > c->out_cap) {
			size_t n = c->out_cap ? c->out_cap : 4096;
			while (n < c->out_len + len)
				n *= 2;
			char *nb = realloc(c->out, n);
			if (!nb)
				return -1;
			c->out = nb;
			c->out_cap = n;
		}
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

/* sock_io's answer when the socket is not ready (EAGAIN). */
#define IO_AGAIN (-2)

/* send() (out) or recv() on the client's non-blocking socket, retried on
 * EINTR: the byte count (0: EOF on a read), IO_AGAIN, or -1 on an error. */
static ssize_t sock_io(int fd, void *buf, size_t len, bool out)
{
	for (;;) {
		ssize_t n = out ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -1;
	}
}

/* Moves finished replies from the head of the queue into the output buffer
 * and writes as much as the socket takes. */
static void client_flush(struct client *c)
{
	while (c->head && c->head->done) {
		struct request *r = c->head;
		char *frame = r->out ? r->out + r->out_skip : NULL;
		size_t left = r->out ? r->out_len : 0;
		/* Alone (nothing queued ahead of it, no finished reply behind
		 * it to batch with): straight from the reply, and only what the
		 * socket does not take now is copied (a 50-row list was copied
		 * whole, once more than it had to be). */
		if (left && c->out_len == c->out_off && !(r->next && r->next->done)) {
			ssize_t w = sock_io(c->fd, frame, left, true);
			if (w < 0 && w != IO_AGAIN) {
				client_kill(c, "write-error");
				return;
			}
			if (w > 0) {
				frame += w;
				left -= (size_t)w;
				c->write_stalled_since = 0;
			}
		}
		if (left && out_append(c, frame, left) < 0) {
			client_kill(c, "out-of-memory");
			return;
		}
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->inflight--;
		free(r->out);
		free(r);
	}
	int64_t now = loop_now_ms();
	while (c->out_len > c->out_off) {
		ssize_t w = sock_io(c->fd, c->out + c->out_off, c->out_len - c->out_off, true);
		if (w == IO_AGAIN)
			break;
		if (w < 0) {
			client_kill(c, "write-error");
			return;
		}
		c->out_off += (size_t)w;
		c->write_stalled_since = 0;
	}
	if (c->out_len > c->out_off) {
		if (!c->write_stalled_since)
			c->write_stalled_since = now;
	} else {
		c->out_off = c->out_len = 0;
		/* Don't hold on to a large buffer after a big reply. */
		if (c->out_cap > 65536) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	if ((c->closing || (c->read_eof && !frame_decoder_ready(&c->dec))) && !c->head &&
	    c->out_len == c->out_off) {
		client_kill(c, c->closing ? "protocol-error" : "eof");
		return;
	}
	client_update_events(c);
}

static struct request *request_new(struct client *c)
{
	struct request *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->client = c;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->inflight++;
	return r;
}

char *server_reply_alloc(size_t len)
{
	return malloc(FRAME_HEADER + len + 1);
}

void server_request_complete(struct request *r, char *frame, size_t payload_len)
{
	server_request_complete_at(r, frame, 0, payload_len);
}

void server_request_complete_at(struct request *r, char *frame, size_t skip, size_t payload_len)
{
	struct client *c = r->client;
	r->abandon = NULL;
	if (!c || !frame) {
		free(frame);
		if (!c) {
			free(r);
			return;
		}
		/* A request of a live client must get a reply. */
		frame = NULL;
	}
	if (frame) {
		frame_header_encode((uint8_t *)frame + skip, (uint32_t)payload_len);
		r->out = frame;
		r->out_skip = skip;
		r->out_len = FRAME_HEADER + payload_len;
	} else {
		r->out_skip = 0;
		static const char fallback[] =
			"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"INTERNAL\",\"message\":\"internal error\"}}";
		size_t n = sizeof fallback - 1;
		r->out = malloc(FRAME_HEADER + n);
		if (r->out) {
			frame_header_encode((uint8_t *)r->out, (uint32_t)n);
			memcpy(r->out + FRAME_HEADER, fallback, n);
			r->out_len = FRAME_HEADER + n;
		}
	}
	r->done = true;
	schedule_flush(c);
}

/* A protocol error: queue a BAD_FRAME reply and close once it is written. */
static void client_bad_frame(struct client *c, const char *message)
{
	struct request *r = request_new(c);
	c->closing = true;
	if (!r) {
		client_kill(c, "out-of-memory");
		return;
	}
	char body[256];
	int n = snprintf(body, sizeof body,
		"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"BAD_FRAME\",\"message\":\"%s\"}}", message);
	char *frame = server_reply_alloc((size_t)n);
	if (frame)
		memcpy(frame + FRAME_HEADER, body, (size_t)n);
	server_request_complete(r, frame, (size_t)n);
}

static bool client_has_room(const struct client *c)
{
	return c->inflight < c->srv->limits.max_inflight &&
		c->out_len - c->out_off < c->srv->limits.out_cap;
}

static void client_process_frames(struct client *c)
{
	while (!c->dead && !c->closing && client_has_room(c)) {
		const char *payload;
		size_t len;
		enum frame_result fr = frame_decoder_next(&c->dec, &payload, &len);
		if (fr == FRAME_PARTIAL)
			break;
		if (fr == FRAME_EMPTY) {
			client_bad_frame(c, "frame length 0: must be 1 to 1048576 bytes");
			break;
		}
		if (fr == FRAME_TOO_BIG) {
			client_bad_frame(c, "frame length over 1048576 bytes");
			break;
		}
		struct request *r = request_new(c);
		if (!r) {
			client_kill(c, "out-of-memory");
			return;
		}
		c->last_activity = loop_now_ms();
		c->srv->cb(c->srv->cb_data, r, payload, len);
	}
	if (!c->dead)
		c->partial_since = frame_decoder_pending(&c->dec) > 0 ?
			(c->partial_since ? c->partial_since : loop_now_ms()) : 0;
	client_update_events(c);
}

static void client_read(struct client *c)
{
	/* Read only while there is room: a client that pipelines without reading
	 * its replies is paused here, which bounds its memory. */
	while (!c->dead && !c->read_eof && !c->closing && client_has_room(c)) {
		uint8_t *buf;
		size_t avail;
		if (frame_decoder_space(&c->dec, &buf, &avail) < 0) {
			/* Either a bad header (handled by process) or frames wait. */
			client_process_frames(c);
			if (frame_decoder_space(&c->dec, &buf, &avail) < 0)
				break;
		}
		ssize_t n = sock_io(c->fd, buf, avail, false);
		if (n == IO_AGAIN)
			break;
		if (n < 0) {
			client_kill(c, "read-error");
			return;
		}
		if (n == 0) {
			c->read_eof = true;
			break;
		}
		frame_decoder_commit(&c->dec, (size_t)n);
		client_process_frames(c);
		if ((size_t)n < avail)
			break;
	}
	if (c->dead)
		return;
	schedule_flush(c);
}

static void client_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct client *c = data;
	(void)loop;
	(void)fd;
	if (c->dead)
		return;
	if (events & EPOLLIN)
		client_read(c);
	if (c->dead)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		if (!(events & EPOLLIN)) {
			client_kill(c, "hangup");
			return;
		}
	}
	if (events & EPOLLOUT)
		schedule_flush(c);
}

/* When the table is full, the longest-idle connection with nothing in
 * flight makes room: otherwise hundreds of idle sockets would lock every
 * well-behaved client out. */
static bool evict_idle(struct server *srv)
{
	struct client *victim = NULL;
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->dead || c->head || c->out_len > c->out_off)
			continue;
		if (!victim || c->last_activity < victim->last_activity)
			victim = c;
	}
	if (!victim)
		return false;
	client_kill(victim, "evicted-at-connection-limit");
	return true;
}

static void server_on_accept(struct loop *loop, int fd, uint32_t events, void *data);

static void accept_resume(struct loop *loop, void *data)
{
	struct server *srv = data;
	srv->accept_backoff = NULL;
	if (srv->accepting)
		loop_add(loop, srv->listen_fd, EPOLLIN, server_on_accept, srv);
}

static void server_on_accept(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct server *srv = data;
	(void)events;
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: pause accepting briefly (tmux does
				 * the same) instead of spinning on a readable socket. */
				log_event(LOG_WARN, "accept.backoff", "error=\"%s\"", strerror(errno));
				loop_del(loop, fd);
				srv->accept_backoff = loop_timer_at(loop, loop_now_ms() + 100, accept_resume, srv);
			}
			return;
		}
		struct ucred cred;
		socklen_t clen = sizeof cred;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			close(cfd);
			continue;
		}
		int live = 0;
		for (struct client *c = srv->clients; c; c = c->next)
			live += !c->dead;
		if (live >= srv->limits.max_connections && !evict_idle(srv)) {
			static const char full[] = "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"UNAVAILABLE\","
				"\"message\":\"too many connections\"}}";
			uint8_t hdr[FRAME_HEADER];
			frame_header_encode(hdr, sizeof full - 1);
			char msg[FRAME_HEADER + sizeof full];
			memcpy(msg, hdr, FRAME_HEADER);
			memcpy(msg + FRAME_HEADER, full, sizeof full - 1);
			(void)!send(cfd, msg, FRAME_HEADER + sizeof full - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
			log_event(LOG_WARN, "conn.refused", "uid=%u why=connection-limit", (unsigned)cred.uid);
			continue;
		}
		struct client *c = calloc(1, sizeof *c);
		if (!c) {
			close(cfd);
			continue;
		}
		c->srv = srv;
		c->fd = cfd;
		c->serial = ++srv->next_serial;
		c->uid = cred.uid;
		c->last_activity = loop_now_ms();
		frame_decoder_init(&c->dec);
		c->events = EPOLLIN;
		if (loop_add(loop, cfd, EPOLLIN, client_on_event, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = srv->clients;
		if (srv->clients)
			srv->clients->prev = c;
		srv->clients = c;
		log_event(LOG_DEBUG, "conn.open", "conn=%llu uid=%u", (unsigned long long)c->serial,
			(unsigned)c->uid);
	}
}

static void housekeeping(struct loop *loop, void *data)
{
	struct server *srv = data;
	int64_t now = loop_now_ms();
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->partial_since && now - c->partial_since > srv->limits.frame_timeout_ms)
			client_kill(c, "half-sent-frame-timeout");
		else if (c->write_stalled_since && now - c->write_stalled_since > srv->limits.write_timeout_ms)
			client_kill(c, "write-timeout");
		else if (!c->head && c->out_len == c->out_off && !c->partial_since &&
			 now - c->last_activity > srv->limits.idle_timeout_ms)
			client_kill(c, "idle-timeout");
	}
	srv->housekeeping = loop_timer_at(loop, now + 1000, housekeeping, srv);
}

struct server *server_create(struct loop *loop, int listen_fd, const struct server_limits *limits,
	server_request_cb cb, void *cb_data)
{
	struct server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return NULL;
	srv->loop = loop;
	srv->listen_fd = listen_fd;
	srv->limits = *limits;
	srv->cb = cb;
	srv->cb_data = cb_data;
	srv->accepting = true;
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    loop_add(loop, listen_fd, EPOLLIN, server_on_accept, srv) < 0) {
		free(srv);
		return NULL;
	}
	srv->housekeeping = loop_timer_at(loop, loop_now_ms() + 1000, housekeeping, srv);
	return srv;
}

void server_set_limits(struct server *srv, const struct server_limits *limits)
{
	srv->limits = *limits;
}

void server_stop_accepting(struct server *srv)
{
	if (!srv || !srv->accepting)
		return;
	srv->accepting = false;
	loop_del(srv->loop, srv->listen_fd);
	loop_timer_cancel(srv->loop, srv->accept_backoff);
	srv->accept_backoff = NULL;
}

bool server_flush(struct server *srv)
{
	bool processed = false;
	/* Flushing can free room and so process waiting frames, whose replies
	 * put the client back on the list: take the list, then go again. */
	for (int round = 0; round < 4 && srv->flush_list; round++) {
		struct client *list = srv->flush_list;
		srv->flush_list = NULL;
		struct client *dead = NULL;
		for (struct client *c = list, *next; c; c = next) {
			next = c->flush_next;
			c->on_flush_list = false;
			if (!c->dead) {
				client_flush(c);
				if (!c->dead && !c->closing && client_has_room(c) &&
				    frame_decoder_ready(&c->dec)) {
					int before = c->inflight;
					client_process_frames(c);
					processed |= c->inflight != before;
					/* Room again: read what the socket still holds. */
					if (!c->dead && client_has_room(c) && !c->read_eof)
						client_update_events(c);
				}
			}
			if (c->dead && !c->on_flush_list) {
				c->flush_next = dead;
				dead = c;
			}
		}
		for (struct client *c = dead, *next; c; c = next) {
			next = c->flush_next;
			client_free(c);
		}
		if (processed)
			break;
	}
	return processed;
}

void server_destroy(struct server *srv)
{
	if (!srv)
		return;
	server_stop_accepting(srv);
	loop_timer_cancel(srv->loop, srv->housekeeping);
	/* Write what is ready; then tear every connection down. */
	for (struct client *c = srv->clients; c; c = c->next)
		if (!c->dead)
			client_flush(c);
	while (srv->clients) {
		struct client *c = srv->clients;
		if (!c->dead) {
			loop_del(srv->loop, c->fd);
			close(c->fd);
			c->dead = true;
		}
		client_free(c);
	}
	close(srv->listen_fd);
	free(srv);
}
