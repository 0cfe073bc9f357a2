#include "gpuaas-web/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/paths.h"
#include "gpuaas-web/forwarded.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_DURATION, OPT_LOGLEVEL, OPT_FLAG };

struct opt {
	const char *name;
	enum opt_type type;
	size_t offset;
	int64_t min, max;
	const char *help; /* "METAVAR  description", or a description */
};

#define OFF(f) offsetof(struct web_options, f)
static const struct opt opts[] = {
	{"config", OPT_STRING, OFF(config_path), 0, 0, "FILE  config file (key = value lines; default " WEB_DEFAULT_CONFIG
		" if it exists)"},
	{"listen", OPT_STRING, OFF(listen), 0, 0, "ADDR:PORT  where to listen for HTTP (127.0.0.1:8080; [::1]:8080 for IPv6)"},
	{"socket", OPT_STRING, OFF(socket_path), 0, 0, "PATH  gpuaasd's socket (found as gpuctl finds it)"},
	{"tls-cert", OPT_STRING, OFF(tls_cert), 0, 0, "FILE  serve HTTPS with this PEM certificate (chain)"},
	{"tls-key", OPT_STRING, OFF(tls_key), 0, 0, "FILE  the certificate's PEM private key"},
	{"web-root", OPT_STRING, OFF(web_root), 0, 0, "DIR  static files (the dashboard) served at /"},
	{"max-connections", OPT_INT, OFF(max_connections), 1, 1000000, "N  HTTP connections open at once (4096)"},
	{"max-connections-per-ip", OPT_INT, OFF(max_connections_per_ip), 0, 1000000,
		"N  connections from one client address (0: half of --max-connections)"},
	{"metrics-token", OPT_STRING, OFF(metrics_token), 0, 0, "TOKEN  /metrics asks for 'Authorization: Bearer TOKEN' (open)"},
	{"cors-origin", OPT_STRING, OFF(cors_origin), 0, 0, "ORIGIN  the one origin allowed cross-origin requests (none)"},
	{"trusted-proxy", OPT_STRING, OFF(trusted_proxy), 0, 0,
		"ADDR[,ADDR...]  reverse proxies whose X-Forwarded-For names the client (none: the peer is the client)"},
	{"log-level", OPT_LOGLEVEL, OFF(log_level), 0, 0, "LEVEL  error, warn, info or debug (info; debug logs each request)"},
	{"max-sse-clients", OPT_INT, OFF(max_sse_clients), 1, 100000,
		"N  event streams open at once, and log follows waiting, each; more get 503 (64)"},
	{"sse-heartbeat", OPT_DURATION, OFF(sse_heartbeat), 1, 3600, "DURATION  comment sent on a quiet event stream (15s)"},
	{"request-timeout", OPT_DURATION, OFF(request_timeout), 1, 3600,
		"DURATION  a request's headers and body must arrive within it; also the keep-alive idle limit (10s)"},
	{"idle-timeout", OPT_DURATION, OFF(idle_timeout), 1, 86400,
		"DURATION  a connection with no traffic either way is closed (60s)"},
	{"upstream-connections", OPT_INT, OFF(upstream_connections), 1, 64,
		"N  persistent connections to gpuaasd for ordinary requests (4)"},
	{"login-max-failures", OPT_INT, OFF(login_max_failures), 1, 1000000,
		"N  failed logins from one client address within a minute before it must wait (20)"},
	{"login-lockout", OPT_DURATION, OFF(login_lockout), 1, 86400, "DURATION  how long it waits (60s)"},
	{"routes", OPT_FLAG, OFF(routes), 0, 0, "print the routes served, METHOD PATTERN per line, and exit"},
	{"check-config", OPT_FLAG, OFF(check_config), 0, 0, "validate the options and config file and exit"},
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

/* Durations and integers within the option's range. */
static int set_number(int64_t *field, const struct opt *d, const char *value, char *why, size_t whylen)
{
	int64_t v;
	char *end;
	if (d->type == OPT_DURATION) {
		if (duration_parse(value, &v) < 0 || v < d->min || v > d->max) {
			snprintf(why, whylen, "'%s' is not a duration from %llds to %llds (like 90s, 15m, 2h)", value,
				(long long)d->min, (long long)d->max);
			return -1;
		}
	} else {
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end || v < d->min || v > d->max) {
			snprintf(why, whylen, "'%s' is not an integer from %lld to %lld", value, (long long)d->min,
				(long long)d->max);
			return -1;
		}
	}
	*field = v;
	return 0;
}

static int opt_set(struct web_options *o, const struct opt *d, const char *value, char *why, size_t whylen)
{
	void *field = (char *)o + d->offset;
	switch (d->type) {
	case OPT_STRING: {
		char *copy = *value ? strdup(value) : NULL;
		if (!copy) {
			snprintf(why, whylen, *value ? "out of memory" : "empty value");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case OPT_INT:
	case OPT_DURATION:
		return set_number(field, d, value, why, whylen);
	case OPT_LOGLEVEL:
		if (log_level_parse(value, field) < 0) {
			snprintf(why, whylen, "'%s': valid levels are error, warn, info, debug", value);
			return -1;
		}
		return 0;
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	}
	return -1;
}

static void print_help(void)
{
	printf("Usage: gpuaas-web [OPTION]...\n"
	       "HTTP gateway of gpuaas: the REST API, the event stream, Prometheus metrics and the dashboard,\n"
	       "forwarding every request to gpuaasd over its Unix socket.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const char *h = opts[i].help, *gap = strstr(h, "  ");
		if (gap)
			printf("  --%s %.*s\n      %s\n", opts[i].name, (int)(gap - h), h, gap + 2);
		else
			printf("  --%s\n      %s\n", opts[i].name, h);
	}
	printf("  --help       show this help\n  --version    show the version\n\n"
	       "Every long option can be set in the config file as key = value, with '-' written '_'.\n"
	       "See gpuaas-web(8).\n");
}

static const struct opt *opt_named(const char *name, size_t len, bool underscores, size_t *idx)
{
	for (size_t k = 0; k < NOPTS; k++) {
		const char *n = opts[k].name;
		if (strlen(n) != len)
			continue;
		size_t i = 0;
		while (i < len && (n[i] == name[i] || (underscores && n[i] == '-' && name[i] == '_')))
			i++;
		if (i == len) {
			*idx = k;
			return &opts[k];
		}
	}
	return NULL;
}

/* One argument (and maybe its value, argv[*i + 1]). */
static enum options_result parse_one(struct web_options *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i];
	if (strncmp(arg, "--", 2) != 0) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
		return OPTIONS_ERROR;
	}
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t idx = 0, nlen = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *d = opt_named(name, nlen, false, &idx);
	if (!d) {
		snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen, name);
		return OPTIONS_ERROR;
	}
	const char *value = eq ? eq + 1 : "true";
	if (d->type == OPT_FLAG && eq) {
		snprintf(err, errlen, "option --%s takes no value", d->name);
		return OPTIONS_ERROR;
	}
	if (d->type != OPT_FLAG && !eq) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "option --%s needs a value", d->name);
			return OPTIONS_ERROR;
		}
		value = argv[++*i];
	}
	char why[512];
	if (opt_set(o, d, value, why, sizeof why) < 0) {
		snprintf(err, errlen, "--%s: %s", d->name, why);
		return OPTIONS_ERROR;
	}
	o->set_on_cmdline[idx] = true;
	return OPTIONS_OK;
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
		enum options_result r = parse_one(o, argc, argv, &i, err, errlen);
		if (r != OPTIONS_OK)
			return r;
	}
	return OPTIONS_OK;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One "key = value" line. */
static int parse_line(struct web_options *o, char *s, const char *path, int lineno, char *err, size_t errlen)
{
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
		return -1;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	size_t vl = strlen(value), idx = 0;
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value[vl - 1] = '\0';
		value++;
	}
	const struct opt *d = opt_named(key, strlen(key), true, &idx);
	if (!d || d->type == OPT_FLAG || d->offset == OFF(config_path)) {
		snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
		return -1;
	}
	if (o->set_on_cmdline[idx])
		return 0;
	char why[512];
	if (opt_set(o, d, value, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%d: bad value for %s: %s", path, lineno, key, why);
		return -1;
	}
	return 0;
}

enum options_result options_load_file(struct web_options *o, char *err, size_t errlen)
{
	const char *path = o->config_path;
	if (!path && access(WEB_DEFAULT_CONFIG, F_OK) != 0)
		return OPTIONS_OK;
	path = path ? path : WEB_DEFAULT_CONFIG;
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return OPTIONS_ERROR;
	}
	enum options_result res = OPTIONS_OK;
	char line[4096];
	int lineno = 0;
	while (res == OPTIONS_OK && fgets(line, sizeof line, f)) {
		lineno++;
		if (strlen(line) == sizeof line - 1 && line[sizeof line - 2] != '\n') {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			res = OPTIONS_ERROR;
			break;
		}
		char *s = trim(line);
		if (*s && *s != '#' && parse_line(o, s, path, lineno, err, errlen) < 0)
			res = OPTIONS_ERROR;
	}
	if (res == OPTIONS_OK && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		res = OPTIONS_ERROR;
	}
	fclose(f);
	return res;
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
	enum options_result r = o->config_path && !fresh.config_path ? OPTIONS_ERROR : options_load_file(&fresh, err, errlen);
	if (r == OPTIONS_OK && opt_named("log-level", 9, false, &idx) && !o->set_on_cmdline[idx])
		o->log_level = fresh.log_level;
	options_finish(&fresh);
	return r;
}
