/* A small epoll event loop in the spirit of redis's ae.c: file descriptor
 * callbacks, one-shot timers on a min-heap, and a hook that runs before each
 * sleep (where the dispatcher commits its batch and replies go out). */
#ifndef GPUAAS_GPUAASD_LOOP_H
#define GPUAAS_GPUAASD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct timer;

typedef void (*loop_fd_cb)(struct loop *loop, int fd, uint32_t events, void *data);
typedef void (*loop_timer_cb)(struct loop *loop, void *data);
typedef void (*loop_hook_cb)(struct loop *loop, void *data);

/* Creates a loop; NULL on failure. Destroy with loop_destroy. */
struct loop *loop_create(void);
/* Frees the loop and any timers still armed (their callbacks do not run). */
void loop_destroy(struct loop *loop);
/* Watches fd for events (EPOLLIN/EPOLLOUT); 0 or -1. */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *data);
/* Changes the events watched on fd. */
int loop_mod(struct loop *loop, int fd, uint32_t events);
/* Stops watching fd (does not close it). Safe inside callbacks. */
void loop_del(struct loop *loop, int fd);
/* Arms a one-shot timer at an absolute loop_now_ms() time. The loop owns the
 * timer until it fires or is cancelled; NULL on ENOMEM. */
struct timer *loop_timer_at(struct loop *loop, int64_t at_ms, loop_timer_cb cb, void *data);
/* Disarms and frees a timer that has not fired yet; NULL is a no-op. */
void loop_timer_cancel(struct loop *loop, struct timer *t);
/* Adds a hook run before every wait (several allowed, run in order added). */
int loop_add_before_wait(struct loop *loop, loop_hook_cb cb, void *data);
/* Runs until loop_stop; 0, or -1 when epoll fails. */
int loop_run(struct loop *loop);
/* Makes loop_run return after the current iteration. */
void loop_stop(struct loop *loop);
/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

#endif
