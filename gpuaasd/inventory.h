/* The GPU inventory: types with their device counts, from --gpus
 * ("A100:2,V100:2,T4:4"). Types are case-insensitive on input and canonical
 * upper-case everywhere else; order is kept (the first type is submit's
 * default). */
#ifndef GPUAAS_GPUAASD_INVENTORY_H
#define GPUAAS_GPUAASD_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INVENTORY_MAX_TYPES 32
#define INVENTORY_MAX_PER_TYPE 1024
#define GPU_TYPE_MAX 16

struct gpu_type_info {
	char name[GPU_TYPE_MAX + 1];
	int total;
	int first_index; /* --gpus: devices are numbered 0..N-1 in spec order */
	int64_t weight;  /* charge weight (--gpu-weights), 1 unless set */
};

/* One physical device found by nvidia-smi. */
struct gpu_device {
	int index;       /* nvidia-smi index */
	char uuid[64];
	char model[96];  /* marketing name */
	long mem_mib;
	int type_idx;
};

struct inventory {
	struct gpu_type_info types[INVENTORY_MAX_TYPES];
	int ntypes;
	/* Discovered devices grouped by type (type order, then index); NULL
	 * when the inventory comes from --gpus. Owned; inventory_finish frees. */
	struct gpu_device *devices;
	int ndevices;
};

/* Parses a spec; -1 with a message naming the problem. */
int inventory_parse(const char *spec, struct inventory *out, char *err, size_t errlen);
/* Maps a marketing name ("NVIDIA A100-SXM4-80GB") to a type ("A100");
 * unknown names keep a sanitized form of their own name. */
void inventory_type_from_model(const char *model, char *out, size_t size);
/* Builds an inventory from nvidia-smi CSV lines (index, uuid, name,
 * memory.total). -1 with err when nothing usable is in it. */
int inventory_from_smi_csv(const char *csv, struct inventory *out, char *err, size_t errlen);
/* Runs nvidia-smi; 1 when it is not installed, 0 with an inventory, -1. */
int inventory_discover(struct inventory *out, char *err, size_t errlen);
/* The device of a type's local slot k (NULL without discovery). */
const struct gpu_device *inventory_device(const struct inventory *inv, int type_idx, int k);
/* The global device index of a type's local slot k. */
int inventory_device_index(const struct inventory *inv, int type_idx, int k);
void inventory_finish(struct inventory *inv);

/* Sets every type's charge weight from a spec "A100=4,V100=2" (types not
 * named weigh 1; NULL or "": all 1). -1 with err, inv unchanged, when the
 * spec is bad or names a type the inventory does not have. */
int inventory_set_weights(struct inventory *inv, const char *spec, char *err, size_t errlen);
/* True when some type weighs other than 1. */
bool inventory_weighted(const struct inventory *inv);

/* Index of the type named (any case), or -1. */
int inventory_find(const struct inventory *inv, const char *name);
/* Writes "A100, V100, T4" into buf. */
char *inventory_type_list(const struct inventory *inv, char *buf, size_t size);

#endif
