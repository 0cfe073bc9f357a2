/* epoll with safe removal: a watch removed during a round is struck from
 * the events not yet dispatched, so no callback runs for freed memory. */
#include "gpuaas-web/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 128

struct loop {
	int epfd;
	struct epoll_event ready[LOOP_BATCH];
	int nready, cursor; /* the round being dispatched */
};

struct loop *loop_create(void)
{
	struct loop *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_destroy(struct loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

int loop_add(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_del(struct loop *l, struct loop_watch *w)
{
	/* Removal fails only for a descriptor that is not watched: nothing to undo. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	for (int i = l->cursor; i < l->nready; i++)
		if (l->ready[i].data.ptr == w)
			l->ready[i].data.ptr = NULL;
}

int loop_wait(struct loop *l, int timeout_ms)
{
	int n = epoll_wait(l->epfd, l->ready, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	l->nready = n;
	for (l->cursor = 0; l->cursor < l->nready;) {
		struct epoll_event ev = l->ready[l->cursor++];
		struct loop_watch *w = ev.data.ptr;
		if (w)
			w->fn(w->arg, ev.events);
	}
	l->nready = l->cursor = 0;
	return 0;
}

int64_t loop_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t loop_now_ms(void)
{
	return loop_now_ns() / 1000000;
}
