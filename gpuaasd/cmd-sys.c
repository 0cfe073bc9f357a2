/* sys.* ops. */
#include "gpuaasd/ops.h"

static enum status sys_ping(struct op_ctx *ctx)
{
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	cJSON_AddTrueToObject(data, "pong");
	cJSON_AddStringToObject(data, "version", GPUAAS_VERSION);
	return ST_OK;
}

const struct op sys_ops[] = {
	{"sys.ping", sys_ping, OP_NO_AUTH},
	{NULL, NULL, 0},
};
