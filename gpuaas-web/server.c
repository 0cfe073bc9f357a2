#include "gpuaas-web/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaas-web/api.h"
#include "gpuaas-web/follow.h"
#include "gpuaas-web/guard.h"
#include "gpuaas-web/metrics.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/sse.h"
#include "gpuaas-web/upstream.h"
#include "gpuaas-web/web.h"

/* Per-connection memory: the request line and headers must fit (431
 * otherwise). Above 32 KiB libmicrohttpd maps it, so an idle connection
 * costs only the pages it touches. */
#define CONNECTION_MEMORY (64u * 1024u)
/* A body over the limit is read and dropped up to this, then the
 * connection is cut. */
#define DISCARD_MAX (16u << 20)

/* Writes the bound address of fd as "ADDR:PORT" into w->listen_addr. */
static void describe(struct web *w, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(w->listen_addr, sizeof w->listen_addr, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* Splits "ADDR:PORT" / "[V6]:PORT" / ":PORT". -1 when malformed. */
static int split_listen(const char *spec, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(spec, ':');
	if (!colon || !colon[1] || strlen(colon + 1) >= psize)
		return -1;
	const char *h = spec;
	size_t hl = (size_t)(colon - spec);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= hsize)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

/* Binds and listens on --listen. */
static int bind_listen(struct web *w, char *err, size_t errlen)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res = NULL;
	if (split_listen(w->opt.listen, host, sizeof host, port, sizeof port) < 0) {
		snprintf(err, errlen, "--listen %s: expected ADDR:PORT", w->opt.listen);
		return -1;
	}
	int rc = getaddrinfo(*host && strcmp(host, "*") ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "--listen %s: %s", w->opt.listen, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
		snprintf(err, errlen, "--listen %s: %s", w->opt.listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	w->listen_fd = fd;
	return 0;
}

int server_listen(struct web *w, char *err, size_t errlen)
{
	int n = sd_listen_fds(1);
	if (n > 1) {
		snprintf(err, errlen, "systemd passed %d sockets; gpuaas-web takes one", n);
		return -1;
	}
	if (n == 1) {
		int fd = SD_LISTEN_FDS_START;
		int flags = fcntl(fd, F_GETFL);
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 || flags < 0 ||
		    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
			snprintf(err, errlen, "the socket systemd passed is not a listening stream socket");
			return -1;
		}
		w->listen_fd = fd;
	} else if (bind_listen(w, err, errlen) < 0) {
		return -1;
	}
	describe(w, w->listen_fd);
	return 0;
}

/* The request line is in: a request with its raw target. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	return request_create(cls, c, uri);
}

/* Paths and queries stay encoded: the gateway decodes them itself. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	struct request *r = *req_cls;
	(void)cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO; /* no memory for it at the request line */
	if (!r->headers_done) {
		r->headers_done = true;
		guard_headers_done(c, loop_now_ms());
		return api_begin(r, method);
	}
	if (*upload_size) {
		if (!r->answered)
			request_take_body(r, upload, *upload_size);
		*upload_size = 0;
		return r->body_discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	guard_busy(c);
	return api_handle(r);
}

static void access_log(const struct request *r, unsigned status, int64_t ns)
{
	char client[64];
	request_client(r, client, sizeof client);
	/* The path only: no query, never a header (tokens stay out of logs). */
	log_event(LOG_DEBUG, "http.request", "method=%s route=%s status=%u us=%lld client=%s",
		router_method_name(r->method), r->route.label, status, (long long)(ns / 1000), client);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct request *r = *req_cls;
	(void)toe;
	if (!r)
		return;
	unsigned status = r->status;
	if (!status) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
		status = ci ? ci->http_status : 0;
	}
	int64_t ns = loop_now_ns() - r->t0_ns;
	if (status)
		metrics_observe(w->metrics, r->route.id, r->method, status, ns, !r->sse && !r->follow);
	if (log_get_level() >= LOG_DEBUG)
		access_log(r, status, ns);
	guard_idle(c, loop_now_ms());
	upstream_cancel(r->call);
	r->call = NULL;
	sse_destroy(r);
	follow_destroy(r);
	request_destroy(r);
	*req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '"')
			*p = '\'';
	log_event(LOG_DEBUG, "http.library", "message=\"%s\"", msg);
}

/* libmicrohttpd's descriptor became ready: the loop runs it after the wait. */
static void on_ready(void *arg, uint32_t events)
{
	(void)arg;
	(void)events;
}

int server_start(struct web *w, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (w->tls ? MHD_USE_TLS : 0);
	int64_t per_ip = w->opt.max_connections_per_ip ? w->opt.max_connections_per_ip : w->opt.max_connections / 2;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, w->tls_cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, w->tls_key_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)w->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)w->opt.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)(per_ip > 0 ? per_ip : 1),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)w->opt.idle_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
		MHD_OPTION_NOTIFY_CONNECTION, guard_notify, w->guard,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
		MHD_OPTION_ARRAY, w->tls ? tls : tls + 2,
		MHD_OPTION_END);
	if (!w->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server on %s%s", w->listen_addr,
			w->tls ? " (check the TLS certificate and key)" : "");
		return -1;
	}
	w->listen_fd = -1; /* libmicrohttpd's now; server_quiesce hands it back */
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	w->mhd_watch = (struct loop_watch){.fd = di ? di->epoll_fd : -1, .fn = on_ready, .arg = w};
	if (w->mhd_watch.fd < 0 || loop_add(w->loop, &w->mhd_watch, EPOLLIN) < 0) {
		snprintf(err, errlen, "cannot watch the HTTP server's epoll descriptor");
		return -1;
	}
	return 0;
}

void server_run(struct web *w)
{
	if (MHD_run(w->mhd) != MHD_YES)
		log_event(LOG_DEBUG, "http.run_failed", "%s", "");
}

int server_timeout_ms(struct web *w)
{
	MHD_UNSIGNED_LONG_LONG t = 0;
	if (MHD_get_timeout(w->mhd, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void server_quiesce(struct web *w)
{
	if (w->mhd && w->listen_fd < 0)
		w->listen_fd = MHD_quiesce_daemon(w->mhd); /* ours again: closed at the end */
}

void server_stop(struct web *w)
{
	if (!w->mhd || w->suspended) /* stopping with suspended connections would abort */
		return;
	loop_del(w->loop, &w->mhd_watch);
	MHD_stop_daemon(w->mhd);
	w->mhd = NULL;
}
