/* The routes the gateway answers from its own state or from one fixed
 * gpuaasd op without a token: /healthz (sys.ping), /metrics (sys.stats),
 * /api/v1/openapi.yaml (built in) and the static files. */
#ifndef GPUAAS_WEB_OWN_H
#define GPUAAS_WEB_OWN_H

#include <microhttpd.h>

struct request;

/* GET /healthz: 200 {"status": "ok", "gpuaasd": sys.ping's data} when
 * gpuaasd answers, else 503. */
enum MHD_Result own_healthz(struct request *r);
/* GET /metrics: the Prometheus text; 401 without --metrics-token's token. */
enum MHD_Result own_metrics(struct request *r);
/* GET /api/v1/openapi.yaml. */
enum MHD_Result own_openapi(struct request *r);
/* GET / and every other path outside /api/: the web root. */
enum MHD_Result own_static(struct request *r);

#endif
