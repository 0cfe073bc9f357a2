/* The HTTP server: libmicrohttpd on one listening socket (systemd's, or
 * --listen), in external epoll mode: its epoll descriptor sits in the
 * gateway's loop, no thread of its own, and a request waiting for gpuaasd
 * is a suspended connection. Limits: --max-connections (and per client
 * address), --idle-timeout, request headers within a 64 KiB connection
 * buffer (431 beyond), bodies of 1 MiB, and the guard's deadlines. */
#ifndef GPUAAS_WEB_SERVER_H
#define GPUAAS_WEB_SERVER_H

#include <stddef.h>

struct web;

/* Takes the socket systemd passed, or binds --listen. 0, or -1 with err. */
int server_listen(struct web *w, char *err, size_t errlen);
/* Starts libmicrohttpd on it and watches it from the loop. 0, or -1. */
int server_start(struct web *w, char *err, size_t errlen);
/* Runs what libmicrohttpd has to do now. */
void server_run(struct web *w);
/* Milliseconds until libmicrohttpd must run again; -1 for no limit. */
int server_timeout_ms(struct web *w);
/* Stops accepting connections. */
void server_quiesce(struct web *w);
/* Stops libmicrohttpd (every suspended connection must have been resumed). */
void server_stop(struct web *w);

#endif
