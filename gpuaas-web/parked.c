#include "gpuaas-web/parked.h"

#include <microhttpd.h>
#include <sys/epoll.h>

#include "common/log.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/upstream.h"

bool parked_room(const struct parked_set *set, int64_t cap)
{
	return set->n < cap;
}

int parked_join(struct parked_set *set, struct parked *p, struct loop *loop, struct request *r, const char *path,
	parked_hangup_fn hung_up)
{
	*p = (struct parked){.set = set, .loop = loop, .r = r, .hung_up = hung_up, .client = {.fd = -1}};
	p->next = set->head;
	if (set->head)
		set->head->prev = p;
	set->head = p;
	set->n++;
	p->up = upstream_create(loop, path);
	return p->up ? 0 : -1;
}

static void unwatch_client(struct parked *p)
{
	if (p->client.fd < 0)
		return;
	loop_del(p->loop, &p->client);
	p->client.fd = -1;
}

static void on_client(void *arg, uint32_t events)
{
	struct parked *p = arg;
	(void)events;
	unwatch_client(p); /* once: the socket stays readable at its end */
	p->hung_up(p);
}

void parked_watch_client(struct parked *p)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(p->r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (p->client.fd >= 0 || !ci)
		return;
	p->client = (struct loop_watch){.fd = ci->connect_fd, .fn = on_client, .arg = p};
	/* Without the watch the request still ends, only later: when gpuaasd
	 * answers, or at the next write to the client. */
	if (loop_add(p->loop, &p->client, EPOLLRDHUP) < 0)
		p->client.fd = -1;
}

void parked_leave(struct parked *p)
{
	if (!p->set)
		return;
	upstream_destroy(p->up);
	p->up = NULL;
	unwatch_client(p); /* before libmicrohttpd closes the socket */
	if (p->prev)
		p->prev->next = p->next;
	else
		p->set->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->set->n--;
	p->set = NULL;
}

void parked_close_all(struct parked_set *set, enum status st)
{
	set->closed = true;
	for (struct parked *p = set->head; p; p = p->next)
		if (p->up)
			upstream_reset(p->up, st);
}

void parked_check(struct parked_set *set, int64_t now_ms, int64_t limit_ms)
{
	for (struct parked *p = set->head; p; p = p->next) {
		if (!p->up || upstream_oldest_ms(p->up, now_ms) <= limit_ms)
			continue;
		log_event(LOG_WARN, "upstream.hung", "waited_ms=%lld parked=1",
			(long long)upstream_oldest_ms(p->up, now_ms));
		upstream_reset(p->up, ST_UNREACHABLE);
	}
}
