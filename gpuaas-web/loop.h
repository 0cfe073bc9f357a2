/* The gateway's event loop: one epoll set for the HTTP side (libmicrohttpd's
 * own epoll descriptor), the gpuaasd connections and the signals. Callbacks
 * run on the loop's thread; there is no other thread. */
#ifndef GPUAAS_WEB_LOOP_H
#define GPUAAS_WEB_LOOP_H

#include <stdint.h>

struct loop;

typedef void (*loop_fd_fn)(void *arg, uint32_t events);

/* One watched descriptor; embedded in its owner, which outlives the watch. */
struct loop_watch {
	int fd;
	loop_fd_fn fn;
	void *arg;
};

/* Creates a loop; NULL on failure (errno set). */
struct loop *loop_create(void);
/* Closes the epoll set; the watches are not touched. NULL is a no-op. */
void loop_destroy(struct loop *l);
/* Watches w->fd for events (EPOLLIN, EPOLLOUT); 0, or -1 with errno. */
int loop_add(struct loop *l, struct loop_watch *w, uint32_t events);
/* Changes the events watched; 0, or -1 with errno. */
int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events);
/* Stops watching w (the descriptor stays open). Safe inside a callback,
 * also for a watch whose event is still pending in this round. */
void loop_del(struct loop *l, struct loop_watch *w);
/* Waits up to timeout_ms (-1: no limit) and runs the callbacks of what is
 * ready. 0, or -1 when epoll_wait fails (EINTR is not a failure). */
int loop_wait(struct loop *l, int timeout_ms);
/* Monotonic clock in milliseconds. */
int64_t loop_now_ms(void);
/* Monotonic clock in nanoseconds. */
int64_t loop_now_ns(void);

#endif
