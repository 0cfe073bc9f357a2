#include "gpuaas-web/gateway.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaas-web/follow.h"
#include "gpuaas-web/guard.h"
#include "gpuaas-web/metrics.h"
#include "gpuaas-web/pool.h"
#include "gpuaas-web/server.h"
#include "gpuaas-web/sse.h"
#include "gpuaas-web/statics.h"
#include "gpuaas-web/throttle.h"
#include "gpuaas-web/web.h"

#define TICK_MS 500
#define SLOW_LANE_CONNECTIONS 2
#define THROTTLE_SLOTS 8192
#define PEM_MAX (1u << 20)
#define FD_RESERVE 256 /* descriptors kept for gpuaasd, streams and files */
/* A pool call unanswered this long: gpuaasd hangs. Also a log follow's,
 * which gpuaasd answers within FOLLOW_TIMEOUT_MAX. */
#define UPSTREAM_HUNG_MS 60000
_Static_assert(UPSTREAM_HUNG_MS >= 2 * FOLLOW_TIMEOUT_MAX * 1000, "a follow must not look hung");

/* Raises the descriptor limit to the hard limit, and --max-connections
 * to what it allows. */
static void fit_fd_limit(struct web *w)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > (1u << 20) ? (1u << 20) : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
	}
	/* Each event stream and each log follow holds a connection to gpuaasd. */
	int64_t room = (int64_t)rl.rlim_cur - FD_RESERVE - 2 * w->opt.max_sse_clients;
	if (room < w->opt.max_connections) {
		log_event(LOG_WARN, "http.limit_lowered", "max_connections=%lld fd_limit=%llu",
			(long long)(room > 16 ? room : 16), (unsigned long long)rl.rlim_cur);
		w->opt.max_connections = room > 16 ? room : 16;
	}
}

/* A PEM file, whole and NUL-terminated. NULL with err. */
static char *read_pem(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = f ? malloc(PEM_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
	if (!f || !buf || n == 0 || n > PEM_MAX || ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, !f ? strerror(errno) : "empty, unreadable or over 1 MiB");
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	if (f)
		fclose(f);
	return buf;
}

static void on_signal(void *arg, uint32_t events)
{
	struct web *w = arg;
	struct signalfd_siginfo si;
	(void)events;
	char err[512];
	while (read(w->signal_watch.fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo != SIGHUP) {
			log_event(LOG_INFO, "web.stopping", "signal=%s", si.ssi_signo == SIGINT ? "INT" : "TERM");
			w->stop = true;
		} else if (options_reload(&w->opt, err, sizeof err) == OPTIONS_OK) {
			log_set_level(w->opt.log_level);
			log_event(LOG_INFO, "web.reloaded", "%s", "");
		} else {
			log_event(LOG_WARN, "web.reload_failed", "error=\"%s\"", err);
		}
	}
}

/* SIGTERM, SIGINT and SIGHUP through a signalfd; SIGPIPE ignored. */
static int watch_signals(struct web *w, char *err, size_t errlen)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		return -1;
	}
	w->signal_watch = (struct loop_watch){.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC), .fn = on_signal,
		.arg = w};
	if (w->signal_watch.fd < 0 || loop_add(w->loop, &w->signal_watch, EPOLLIN) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The modules with no I/O of their own. */
static int create_parts(struct web *w, char *err, size_t errlen)
{
	w->metrics = metrics_create();
	w->guard = guard_create(w->opt.request_timeout * 1000);
	w->throttle = throttle_create(THROTTLE_SLOTS, w->opt.login_max_failures, w->opt.login_lockout * 1000);
	/* Checked by options_validate already; parsed again here to keep. */
	if (w->opt.trusted_proxy && proxy_set_parse(&w->proxies, w->opt.trusted_proxy, err, errlen) < 0)
		return -1;
	w->pool = pool_create(w->loop, w->opt.socket_path, (int)w->opt.upstream_connections, SLOW_LANE_CONNECTIONS);
	if (!w->metrics || !w->guard || !w->throttle || !w->pool) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (w->opt.web_root && !(w->statics = statics_open(w->opt.web_root, err, errlen)))
		return -1;
	if (w->opt.tls_cert) {
		w->tls = true;
		if (!(w->tls_cert_pem = read_pem(w->opt.tls_cert, err, errlen)) ||
		    !(w->tls_key_pem = read_pem(w->opt.tls_key, err, errlen)))
			return -1;
	}
	return 0;
}

int gateway_init(struct web *w, char *err, size_t errlen)
{
	w->listen_fd = -1;
	w->signal_watch.fd = -1;
	log_set_level(w->opt.log_level);
	fit_fd_limit(w);
	if (!(w->loop = loop_create())) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	if (watch_signals(w, err, errlen) < 0 || create_parts(w, err, errlen) < 0 ||
	    server_listen(w, err, errlen) < 0 || server_start(w, err, errlen) < 0)
		return -1;
	log_event(LOG_INFO, "web.listening", "addr=%s tls=%s socket=%s web_root=%s", w->listen_addr,
		w->tls ? "yes" : "no", w->opt.socket_path, w->opt.web_root ? w->opt.web_root : "-");
	(void)sd_notify(0, "READY=1"); /* not under systemd: nothing to tell */
	return 0;
}

static void tick(struct web *w, int64_t now)
{
	guard_tick(w->guard, now);
	pool_check(w->pool, now, UPSTREAM_HUNG_MS);
	parked_check(&w->follows, now, UPSTREAM_HUNG_MS);
	sse_tick(w, now);
}

/* The end: no new connections, every waiting request answered or closed,
 * then libmicrohttpd stopped (it must not hold suspended connections). */
static void stop(struct web *w)
{
	(void)sd_notify(0, "STOPPING=1");
	server_quiesce(w);
	sse_end_all(w);
	follow_end_all(w);
	pool_close(w->pool);
	for (int i = 0; i < 4; i++) /* let the answers out */
		server_run(w);
	if (w->suspended)
		log_event(LOG_ERROR, "web.stop", "suspended=%zu", w->suspended);
	else
		server_stop(w);
}

int gateway_run(struct web *w, char *err, size_t errlen)
{
	while (!w->stop) {
		pool_flush(w->pool);
		int64_t now = loop_now_ms();
		if (now >= w->next_tick_ms) {
			tick(w, now);
			w->next_tick_ms = now + TICK_MS;
		}
		int timeout = server_timeout_ms(w);
		int64_t until_tick = w->next_tick_ms - now;
		if (timeout < 0 || timeout > until_tick)
			timeout = (int)until_tick;
		if (loop_wait(w->loop, timeout) < 0) {
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			stop(w);
			return -1;
		}
		server_run(w);
	}
	stop(w);
	return 0;
}

void gateway_finish(struct web *w)
{
	server_stop(w);
	pool_destroy(w->pool);
	statics_close(w->statics);
	throttle_destroy(w->throttle);
	guard_destroy(w->guard);
	metrics_destroy(w->metrics);
	if (w->signal_watch.fd >= 0)
		close(w->signal_watch.fd);
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	loop_destroy(w->loop);
	free(w->tls_cert_pem);
	free(w->tls_key_pem);
	options_finish(&w->opt);
}
