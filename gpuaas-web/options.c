#include "gpuaas-web/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/optable.h"
#include "common/paths.h"
#include "gpuaas-web/forwarded.h"

#define OFF(f) offsetof(struct web_options, f)
static const struct opt opts[] = {
	{"config", OPT_STRING, OFF(config_path), 0, 0, false, "FILE  config file (key = value lines; default " WEB_DEFAULT_CONFIG
		" if it exists)"},
	{"listen", OPT_STRING, OFF(listen), 0, 0, false, "ADDR:PORT  where to listen for HTTP (127.0.0.1:8080; [::1]:8080 for IPv6)"},
	{"socket", OPT_STRING, OFF(socket_path), 0, 0, false, "PATH  gpuaasd's socket (found as gpuctl finds it)"},
	{"tls-cert", OPT_STRING, OFF(tls_cert), 0, 0, false, "FILE  serve HTTPS with this PEM certificate (chain)"},
	{"tls-key", OPT_STRING, OFF(tls_key), 0, 0, false, "FILE  the certificate's PEM private key"},
	{"web-root", OPT_STRING, OFF(web_root), 0, 0, false, "DIR  static files (the dashboard) served at /"},
	{"max-connections", OPT_INT, OFF(max_connections), 1, 1000000, false, "N  HTTP connections open at once (4096)"},
	{"max-connections-per-ip", OPT_INT, OFF(max_connections_per_ip), 0, 1000000, false,
		"N  connections from one client address (0: half of --max-connections)"},
	{"metrics-token", OPT_STRING, OFF(metrics_token), 0, 0, false, "TOKEN  /metrics asks for 'Authorization: Bearer TOKEN' (open)"},
	{"cors-origin", OPT_STRING, OFF(cors_origin), 0, 0, false, "ORIGIN  the one origin allowed cross-origin requests (none)"},
	{"trusted-proxy", OPT_STRING, OFF(trusted_proxy), 0, 0, false,
		"ADDR[,ADDR...]  reverse proxies whose X-Forwarded-For names the client (none: the peer is the client)"},
	{"log-level", OPT_LOGLEVEL, OFF(log_level), 0, 0, false, "LEVEL  error, warn, info or debug (info; debug logs each request)"},
	{"max-sse-clients", OPT_INT, OFF(max_sse_clients), 1, 100000, false,
		"N  event streams open at once, and log follows waiting, each; more get 503 (64)"},
	{"sse-heartbeat", OPT_DURATION, OFF(sse_heartbeat), 1, 3600, false, "DURATION  comment sent on a quiet event stream (15s)"},
	{"request-timeout", OPT_DURATION, OFF(request_timeout), 1, 3600, false,
		"DURATION  a request's headers and body must arrive within it; also the keep-alive idle limit (10s)"},
	{"idle-timeout", OPT_DURATION, OFF(idle_timeout), 1, 86400, false,
		"DURATION  a connection with no traffic either way is closed (60s)"},
	{"upstream-connections", OPT_INT, OFF(upstream_connections), 1, 64, false,
		"N  persistent connections to gpuaasd for ordinary requests (4)"},
	{"login-max-failures", OPT_INT, OFF(login_max_failures), 1, 1000000, false,
		"N  failed logins from one client address within a minute before it must wait (20)"},
	{"login-lockout", OPT_DURATION, OFF(login_lockout), 1, 86400, false, "DURATION  how long it waits (60s)"},
	{"routes", OPT_FLAG, OFF(routes), 0, 0, false, "print the routes served, METHOD PATTERN per line, and exit"},
	{"check-config", OPT_FLAG, OFF(check_config), 0, 0, false, "validate the options and config file and exit"},
};
#define NOPTS (sizeof opts / sizeof opts[0])
_Static_assert(NOPTS <= WEB_OPTIONS_MAX, "set_on_cmdline too small");

void options_init(struct web_options *o)
{
	memset(o, 0, sizeof *o);
	char buf[4096];
	o->listen = strdup("127.0.0.1:8080");
	if (paths_client_socket(buf, sizeof buf) == 0)
		o->socket_path = strdup(buf);
	o->max_connections = 4096;
	o->max_sse_clients = 64;
	o->sse_heartbeat = 15;
	o->request_timeout = 10;
	o->idle_timeout = 60;
	o->upstream_connections = 4;
	o->login_max_failures = 20;
	o->login_lockout = 60;
	o->log_level = LOG_INFO;
}

void options_finish(struct web_options *o)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type == OPT_STRING) {
			char **p = (char **)((char *)o + opts[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

static const struct optable table = {opts, NOPTS, optable_set_common};

static void print_help(void)
{
	printf("Usage: gpuaas-web [OPTION]...\n"
	       "HTTP gateway of gpuaas: the REST API, the event stream, Prometheus metrics and the dashboard,\n"
	       "forwarding every request to gpuaasd over its Unix socket.\n\n");
	optable_print_help(&table);
	printf("Every long option can be set in the config file as key = value, with '-' written '_'.\n"
	       "See gpuaas-web(8).\n");
}

enum options_result options_parse_args(struct web_options *o, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help();
			return OPTIONS_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("gpuaas-web %s\n", GPUAAS_VERSION);
			return OPTIONS_EXIT_OK;
		}
		if (optable_parse_arg(&table, o, o->set_on_cmdline, argc, argv, &i, err, errlen) < 0)
			return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

static int apply_line(void *arg, const char *key, const char *value, const char *path, int lineno, char *err,
	size_t errlen)
{
	struct web_options *o = arg;
	return optable_apply_line(&table, o, o->set_on_cmdline, key, value, path, lineno, err, errlen);
}

enum options_result options_load_file(struct web_options *o, char *err, size_t errlen)
{
	const char *path = o->config_path;
	if (!path && access(WEB_DEFAULT_CONFIG, F_OK) != 0)
		return OPTIONS_OK;
	path = path ? path : WEB_DEFAULT_CONFIG;
	return optable_read_file(path, apply_line, o, err, errlen) < 0 ? OPTIONS_ERROR : OPTIONS_OK;
}

enum options_result options_validate(const struct web_options *o, char *err, size_t errlen)
{
	if (!o->tls_cert != !o->tls_key) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return OPTIONS_ERROR;
	}
	if (o->cors_origin && (strcmp(o->cors_origin, "*") == 0 || strchr(o->cors_origin, ',') ||
				      strchr(o->cors_origin, ' ') || !strstr(o->cors_origin, "://"))) {
		snprintf(err, errlen, "--cors-origin takes one origin such as https://dash.example.org (never *)");
		return OPTIONS_ERROR;
	}
	struct proxy_set proxies;
	if (o->trusted_proxy && proxy_set_parse(&proxies, o->trusted_proxy, err, errlen) < 0)
		return OPTIONS_ERROR;
	if (!o->listen) { /* the default's strdup failed */
		snprintf(err, errlen, "out of memory");
		return OPTIONS_ERROR;
	}
	if (!o->socket_path) {
		snprintf(err, errlen, "cannot work out gpuaasd's socket: give --socket");
		return OPTIONS_ERROR;
	}
	if (o->metrics_token && strlen(o->metrics_token) > 1024) {
		snprintf(err, errlen, "--metrics-token is longer than 1024 bytes");
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

enum options_result options_reload(struct web_options *o, char *err, size_t errlen)
{
	struct web_options fresh;
	size_t idx = 0;
	options_init(&fresh);
	memcpy(fresh.set_on_cmdline, o->set_on_cmdline, sizeof fresh.set_on_cmdline);
	fresh.config_path = o->config_path ? strdup(o->config_path) : NULL;
	enum options_result r = OPTIONS_ERROR;
	if (o->config_path && !fresh.config_path)
		snprintf(err, errlen, "out of memory");
	else
		r = options_load_file(&fresh, err, errlen);
	if (r == OPTIONS_OK && optable_find(&table, "log-level", 9, false, &idx) && !o->set_on_cmdline[idx])
		o->log_level = fresh.log_level;
	options_finish(&fresh);
	return r;
}
