#include "gpuaas-web/guard.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/log.h"
#include "gpuaas-web/loop.h"

enum phase { WAITING_HEADERS, READING_BODY, BUSY };

struct guarded {
	struct guarded *prev, *next;
	int fd;
	enum phase phase;
	int64_t since_ms;
	bool cut;
};

struct guard {
	struct guarded *head;
	size_t count;
	int64_t timeout_ms;
};

struct guard *guard_create(int64_t request_timeout_ms)
{
	struct guard *g = calloc(1, sizeof *g);
	if (g)
		g->timeout_ms = request_timeout_ms;
	return g;
}

void guard_destroy(struct guard *g)
{
	if (!g)
		return;
	while (g->head) {
		struct guarded *next = g->head->next;
		free(g->head);
		g->head = next;
	}
	free(g);
}

void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	struct guard *g = cls;
	struct guarded *e = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		e = calloc(1, sizeof *e);
		if (!e) /* unguarded: libmicrohttpd's own timeout still applies */
			return;
		e->fd = ci ? ci->connect_fd : -1;
		e->since_ms = loop_now_ms();
		e->next = g->head;
		if (g->head)
			g->head->prev = e;
		g->head = e;
		g->count++;
		*socket_context = e;
		return;
	}
	if (!e)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	g->count--;
	free(e);
	*socket_context = NULL;
}

static struct guarded *of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void guard_headers_done(struct MHD_Connection *c, int64_t now_ms)
{
	struct guarded *e = of(c);
	if (e) {
		e->phase = READING_BODY;
		e->since_ms = now_ms;
	}
}

void guard_busy(struct MHD_Connection *c)
{
	struct guarded *e = of(c);
	if (e)
		e->phase = BUSY;
}

void guard_idle(struct MHD_Connection *c, int64_t now_ms)
{
	struct guarded *e = of(c);
	if (e) {
		e->phase = WAITING_HEADERS;
		e->since_ms = now_ms;
	}
}

int guard_tick(struct guard *g, int64_t now_ms)
{
	int cut = 0;
	for (struct guarded *e = g->head; e; e = e->next) {
		if (e->phase == BUSY || e->cut || e->fd < 0 || now_ms - e->since_ms < g->timeout_ms)
			continue;
		/* Failure means the peer is gone already: libmicrohttpd closes it anyway. */
		(void)shutdown(e->fd, SHUT_RDWR);
		e->cut = true;
		cut++;
	}
	if (cut)
		log_event(LOG_DEBUG, "http.cut", "connections=%d reason=request_timeout", cut);
	return cut;
}

size_t guard_count(const struct guard *g)
{
	return g->count;
}
