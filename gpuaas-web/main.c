/* gpuaas-web: reads the options and the config file, then runs the
 * gateway (gateway.c). Exit status: 0 after a clean stop, 1 when start-up
 * or the loop failed, 2 for a configuration error. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "gpuaas-web/gateway.h"
#include "gpuaas-web/router.h"
#include "gpuaas-web/web.h"

/* 0 to go on, -1 to exit 0 (help, version, routes, check-config), or 2. */
static int configure(struct web *w, int argc, char **argv, char *err, size_t errlen)
{
	options_init(&w->opt);
	enum options_result r = options_parse_args(&w->opt, argc, argv, err, errlen);
	if (r == OPTIONS_EXIT_OK)
		return -1;
	if (r == OPTIONS_ERROR || options_load_file(&w->opt, err, errlen) != OPTIONS_OK ||
	    options_validate(&w->opt, err, errlen) != OPTIONS_OK) {
		fprintf(stderr, "gpuaas-web: %s\n", err);
		return 2;
	}
	if (w->opt.routes) {
		router_print(stdout);
		return -1;
	}
	if (w->opt.check_config) {
		printf("configuration OK\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct web w;
	char err[1024] = "";
	int status = configure(&w, argc, argv, err, sizeof err);
	if (status != 0) {
		options_finish(&w.opt);
		return status < 0 ? 0 : status;
	}
	if (gateway_init(&w, err, sizeof err) < 0 || gateway_run(&w, err, sizeof err) < 0) {
		fprintf(stderr, "gpuaas-web: %s\n", err);
		status = 1;
	}
	gateway_finish(&w);
	if (status == 0)
		log_event(LOG_INFO, "web.stopped", "%s", "");
	return status;
}
