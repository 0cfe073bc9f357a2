/* The GPU inventory: types with their device counts, from --gpus
 * ("A100:2,V100:2,T4:4"). Types are case-insensitive on input and canonical
 * upper-case everywhere else; order is kept (the first type is submit's
 * default). */
#ifndef GPUAAS_GPUAASD_INVENTORY_H
#define GPUAAS_GPUAASD_INVENTORY_H

#include <stddef.h>

#define INVENTORY_MAX_TYPES 32
#define INVENTORY_MAX_PER_TYPE 1024
#define GPU_TYPE_MAX 16

struct gpu_type_info {
	char name[GPU_TYPE_MAX + 1];
	int total;
};

struct inventory {
	struct gpu_type_info types[INVENTORY_MAX_TYPES];
	int ntypes;
};

/* Parses a spec; -1 with a message naming the problem. */
int inventory_parse(const char *spec, struct inventory *out, char *err, size_t errlen);
/* Index of the type named (any case), or -1. */
int inventory_find(const struct inventory *inv, const char *name);
/* Writes "A100, V100, T4" into buf. */
char *inventory_type_list(const struct inventory *inv, char *buf, size_t size);

#endif
