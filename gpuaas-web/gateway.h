/* The wiring: creates the modules in order, runs the loop's rounds
 * (flush the gpuaasd connections, wait, run libmicrohttpd, the periodic
 * tick), and stops cleanly on SIGTERM or SIGINT. */
#ifndef GPUAAS_WEB_GATEWAY_H
#define GPUAAS_WEB_GATEWAY_H

#include <stddef.h>

struct web;

/* Sets everything up from w->opt (already parsed). 0, or -1 with err. */
int gateway_init(struct web *w, char *err, size_t errlen);
/* Serves until a stop signal; then stops cleanly. 0, or -1 with err. */
int gateway_run(struct web *w, char *err, size_t errlen);
/* Frees everything gateway_init made; safe after a partial init. */
void gateway_finish(struct web *w);

#endif
