/* gpuaas-web's options: one table for the command line and the config
 * file (key = value lines, '#' comments, each long option a key with '-'
 * written '_'; the command line wins), as gpuaasd reads its own. */
#ifndef GPUAAS_WEB_OPTIONS_H
#define GPUAAS_WEB_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define WEB_DEFAULT_CONFIG "/etc/gpuaas/gpuaas-web.conf"
#define WEB_OPTIONS_MAX 32

struct web_options {
	char *config_path;
	char *listen;      /* ADDR:PORT */
	char *socket_path; /* gpuaasd's socket */
	char *tls_cert, *tls_key;
	char *web_root;
	char *metrics_token;
	char *cors_origin;
	char *trusted_proxy; /* ADDR[,ADDR...]: believe their X-Forwarded-For */
	int64_t max_connections;
	int64_t max_connections_per_ip; /* 0: half of max_connections */
	int64_t max_sse_clients;
	int64_t sse_heartbeat;   /* seconds */
	int64_t request_timeout; /* seconds: headers and body of one request, and keep-alive idling */
	int64_t idle_timeout;    /* seconds without any traffic on a connection */
	int64_t upstream_connections;
	int64_t login_max_failures; /* per client address and minute */
	int64_t login_lockout;      /* seconds */
	enum log_level log_level;
	bool routes;       /* print the routes and exit */
	bool check_config; /* validate and exit */
	bool set_on_cmdline[WEB_OPTIONS_MAX];
};

enum options_result { OPTIONS_OK, OPTIONS_EXIT_OK, OPTIONS_ERROR };

/* Fills the defaults (the socket as gpuctl finds it). */
void options_init(struct web_options *o);
/* Frees the strings. */
void options_finish(struct web_options *o);
/* Parses argv; OPTIONS_EXIT_OK after --help or --version (printed). */
enum options_result options_parse_args(struct web_options *o, int argc, char **argv, char *err, size_t errlen);
/* Reads --config FILE, or WEB_DEFAULT_CONFIG when it exists; keys set on
 * the command line are kept. */
enum options_result options_load_file(struct web_options *o, char *err, size_t errlen);
/* SIGHUP: reads the config file again and takes its log_level (unless
 * --log-level was given); other keys need a restart. */
enum options_result options_reload(struct web_options *o, char *err, size_t errlen);
/* Checks the combination (TLS needs both files, no CORS origin "*"). */
enum options_result options_validate(const struct web_options *o, char *err, size_t errlen);

#endif
