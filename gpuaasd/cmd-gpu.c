/* gpu.list: per GPU type, total, busy and free, and each device with the
 * job that holds it. Other users' job ids stay hidden from non-admins: their
 * devices read as busy without a job. */
#include <string.h>

#include "gpuaasd/job-reply.h"
#include "gpuaasd/sched.h"

/* One device of a type: {index, uuid, model, memory_mib (when
 * discovered), busy, job}. The job id shows to admins and to its owner. */
static void device_write(struct strbuf *b, struct op_ctx *ctx, int type_idx, int k)
{
	struct daemon *d = ctx->d;
	const struct gpu_device *gd = inventory_device(&d->inv, type_idx, k);
	strbuf_adds(b, "{\"index\":");
	strbuf_add_int(b, inventory_device_index(&d->inv, type_idx, k));
	if (gd) {
		out_str(b, "uuid", gd->uuid);
		out_str(b, "model", gd->model);
		out_int(b, "memory_mib", gd->mem_mib);
	}
	int64_t holder = sched_device_holder(d->sched, type_idx, k);
	int64_t owner = sched_device_owner(d->sched, type_idx, k);
	bool shown = holder != 0 && (ctx->user.is_admin || owner == ctx->user.id);
	strbuf_adds(b, holder ? ",\"busy\":true" : ",\"busy\":false");
	out_opt_int(b, "job", shown, holder);
	strbuf_addc(b, '}');
}

static enum status gpu_list(struct op_ctx *ctx)
{
	struct daemon *d = ctx->d;
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"gpus\":[");
	for (int i = 0; i < d->inv.ntypes; i++) {
		int total = d->inv.types[i].total, busy = sched_busy(d->sched, i);
		strbuf_adds(b, i ? ",{\"type\":" : "{\"type\":");
		strbuf_add_json_str(b, d->inv.types[i].name);
		out_int(b, "total", total);
		out_int(b, "busy", busy);
		out_int(b, "free", total - busy);
		/* Each device and who holds it. */
		out_key(b, "devices");
		strbuf_addc(b, '[');
		for (int k = 0; k < total; k++) {
			if (k)
				strbuf_addc(b, ',');
			device_write(b, ctx, i, k);
		}
		strbuf_adds(b, "]}");
	}
	strbuf_adds(b, "]}");
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

const struct op gpu_ops[] = {
	{"gpu.list", gpu_list, 0},
	{NULL, NULL, 0},
};
