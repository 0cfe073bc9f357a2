#include "gpuaasd/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct fd_entry {
	loop_fd_cb cb;
	void *data;
};

struct timer {
	int64_t at;
	uint64_t seq; /* ties broken by arming order */
	size_t index; /* position in the heap */
	loop_timer_cb cb;
	void *data;
};

struct hook {
	loop_hook_cb cb;
	void *data;
};

struct loop {
	int epfd;
	bool stop;
	struct fd_entry *fds;
	size_t nfds;
	struct timer **heap;
	size_t nheap, capheap;
	uint64_t seq;
	struct hook hooks[8];
	size_t nhooks;
};

int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_create(void)
{
	struct loop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void loop_destroy(struct loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < loop->nheap; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->fds);
	close(loop->epfd);
	free(loop);
}

static int fd_slot(struct loop *loop, int fd)
{
	if (fd < 0)
		return -1;
	if ((size_t)fd >= loop->nfds) {
		size_t n = loop->nfds ? loop->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct fd_entry *nf = realloc(loop->fds, n * sizeof *nf);
		if (!nf)
			return -1;
		memset(nf + loop->nfds, 0, (n - loop->nfds) * sizeof *nf);
		loop->fds = nf;
		loop->nfds = n;
	}
	return 0;
}

int loop_add(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *data)
{
	if (fd_slot(loop, fd) < 0)
		return -1;
	struct epoll_event ev = {.events = events, .data.fd = fd};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	loop->fds[fd].cb = cb;
	loop->fds[fd].data = data;
	return 0;
}

int loop_mod(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del(struct loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfds)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd].cb = NULL;
	loop->fds[fd].data = NULL;
}

static bool timer_less(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_swap(struct loop *loop, size_t i, size_t j)
{
	struct timer *t = loop->heap[i];
	loop->heap[i] = loop->heap[j];
	loop->heap[j] = t;
	loop->heap[i]->index = i;
	loop->heap[j]->index = j;
}

static void heap_up(struct loop *loop, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!timer_less(loop->heap[i], loop->heap[p]))
			break;
		heap_swap(loop, i, p);
		i = p;
	}
}

static void heap_down(struct loop *loop, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < loop->nheap && timer_less(loop->heap[l], loop->heap[m]))
			m = l;
		if (r < loop->nheap && timer_less(loop->heap[r], loop->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(loop, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *loop, size_t i)
{
	loop->nheap--;
	if (i != loop->nheap) {
		loop->heap[i] = loop->heap[loop->nheap];
		loop->heap[i]->index = i;
		heap_down(loop, i);
		heap_up(loop, i);
	}
}

struct timer *loop_timer_at(struct loop *loop, int64_t at_ms, loop_timer_cb cb, void *data)
{
	if (loop->nheap == loop->capheap) {
		size_t n = loop->capheap ? loop->capheap * 2 : 64;
		struct timer **nh = realloc(loop->heap, n * sizeof *nh);
		if (!nh)
			return NULL;
		loop->heap = nh;
		loop->capheap = n;
	}
	struct timer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->at = at_ms;
	t->seq = loop->seq++;
	t->cb = cb;
	t->data = data;
	t->index = loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, t->index);
	return t;
}

void loop_timer_cancel(struct loop *loop, struct timer *t)
{
	if (!t)
		return;
	heap_remove(loop, t->index);
	free(t);
}

int loop_add_before_wait(struct loop *loop, loop_hook_cb cb, void *data)
{
	if (loop->nhooks == sizeof loop->hooks / sizeof loop->hooks[0])
		return -1;
	loop->hooks[loop->nhooks++] = (struct hook){cb, data};
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

static void run_due_timers(struct loop *loop)
{
	int64_t now = loop_now_ms();
	/* A timer armed by a callback for "now" runs in the next round, so a
	 * callback that re-arms itself cannot starve the loop. */
	uint64_t limit = loop->seq;
	while (loop->nheap > 0 && loop->heap[0]->at <= now && loop->heap[0]->seq < limit) {
		struct timer *t = loop->heap[0];
		heap_remove(loop, 0);
		loop_timer_cb cb = t->cb;
		void *data = t->data;
		free(t);
		cb(loop, data);
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event events[256];
	while (!loop->stop) {
		for (size_t i = 0; i < loop->nhooks; i++)
			loop->hooks[i].cb(loop, loop->hooks[i].data);
		if (loop->stop)
			break;
		int timeout = -1;
		if (loop->nheap > 0) {
			int64_t d = loop->heap[0]->at - loop_now_ms();
			timeout = d < 0 ? 0 : (d > 60000 ? 60000 : (int)d);
		}
		int n = epoll_wait(loop->epfd, events, 256, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			if ((size_t)fd >= loop->nfds || !loop->fds[fd].cb)
				continue; /* removed by an earlier callback */
			loop->fds[fd].cb(loop, fd, events[i].events, loop->fds[fd].data);
		}
		run_due_timers(loop);
	}
	/* Let the hooks flush what the last iteration produced. */
	for (size_t i = 0; i < loop->nhooks; i++)
		loop->hooks[i].cb(loop, loop->hooks[i].data);
	return 0;
}
