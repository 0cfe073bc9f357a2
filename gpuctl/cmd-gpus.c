/* gpus: the inventory per type, then which job holds each device. */
#include <stdio.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/table.h"

/* TYPE TOTAL BUSY FREE, one row per type. */
static void type_table(const cJSON *gpus)
{
	static const char *const heads[] = {"TYPE", ">TOTAL", ">BUSY", ">FREE"};
	struct table t;
	table_init(&t, 4, heads);
	const cJSON *g;
	cJSON_ArrayForEach(g, gpus)
	{
		table_add(&t, jstr(g, "type"));
		table_add_int(&t, jint(g, "total"));
		table_add_int(&t, jint(g, "busy"));
		table_add_int(&t, jint(g, "free"));
	}
	table_print(&t, stdout, false);
	table_free(&t);
}

/* DEVICE TYPE JOB UUID MEMORY, one row per device. */
static void device_table(const cJSON *gpus)
{
	static const char *const heads[] = {">DEVICE", "TYPE", ">JOB", "UUID", ">MEMORY"};
	struct table t;
	table_init(&t, 5, heads);
	const cJSON *g, *dv;
	cJSON_ArrayForEach(g, gpus)
	{
		cJSON_ArrayForEach(dv, json_get(g, "devices"))
		{
			char mem[32] = "";
			if (jint(dv, "memory_mib") > 0)
				snprintf(mem, sizeof mem, "%lld MiB", (long long)jint(dv, "memory_mib"));
			table_add_int(&t, jint(dv, "index"));
			table_add(&t, jstr(g, "type"));
			if (cJSON_IsNumber(json_get(dv, "job")))
				table_add_int(&t, jint(dv, "job"));
			else
				table_add(&t, "-");
			table_add(&t, jstr(dv, "uuid"));
			table_add(&t, mem);
		}
	}
	table_print(&t, stdout, false);
	table_free(&t);
}

int cmd_gpus(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "gpu.list", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	const cJSON *gpus = json_get(data, "gpus"), *g;
	if (ctl_structured(c)) {
		ctl_emit(c, data);
	} else if (c->out == OUT_NAME) {
		cJSON_ArrayForEach(g, gpus) printf("%s\n", jstr(g, "type"));
	} else {
		type_table(gpus);
		putchar('\n');
		device_table(gpus);
	}
	cJSON_Delete(data);
	return 0;
}
