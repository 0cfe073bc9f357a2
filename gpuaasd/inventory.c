#include "gpuaasd/inventory.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int inventory_parse(const char *spec, struct inventory *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	const char *p = spec;
	if (!*p) {
		snprintf(err, errlen, "empty GPU inventory (expected TYPE:COUNT[,TYPE:COUNT...])");
		return -1;
	}
	while (*p) {
		const char *colon = strchr(p, ':');
		const char *comma = strchr(p, ',');
		if (!colon || (comma && comma < colon)) {
			snprintf(err, errlen, "bad GPU inventory '%s': expected TYPE:COUNT[,TYPE:COUNT...]", spec);
			return -1;
		}
		size_t nlen = (size_t)(colon - p);
		if (nlen == 0 || nlen > GPU_TYPE_MAX) {
			snprintf(err, errlen, "bad GPU type in '%s': 1 to %d characters", spec, GPU_TYPE_MAX);
			return -1;
		}
		if (out->ntypes == INVENTORY_MAX_TYPES) {
			snprintf(err, errlen, "too many GPU types (max %d)", INVENTORY_MAX_TYPES);
			return -1;
		}
		struct gpu_type_info *t = &out->types[out->ntypes];
		for (size_t i = 0; i < nlen; i++) {
			unsigned char ch = (unsigned char)p[i];
			if (!isalnum(ch) && ch != '_' && ch != '-') {
				snprintf(err, errlen, "bad GPU type '%.*s': letters, digits, '-' and '_' only",
					(int)nlen, p);
				return -1;
			}
			t->name[i] = (char)toupper(ch);
		}
		t->name[nlen] = '\0';
		const char *q = colon + 1;
		long n = 0;
		if (!isdigit((unsigned char)*q)) {
			snprintf(err, errlen, "bad count for GPU type %s: expected 1 to %d", t->name,
				INVENTORY_MAX_PER_TYPE);
			return -1;
		}
		while (isdigit((unsigned char)*q) && n <= INVENTORY_MAX_PER_TYPE)
			n = n * 10 + (*q++ - '0');
		if (n < 1 || n > INVENTORY_MAX_PER_TYPE || (*q && *q != ',')) {
			snprintf(err, errlen, "bad count for GPU type %s: expected 1 to %d", t->name,
				INVENTORY_MAX_PER_TYPE);
			return -1;
		}
		if (inventory_find(out, t->name) >= 0) {
			snprintf(err, errlen, "GPU type %s listed twice", t->name);
			return -1;
		}
		t->total = (int)n;
		out->ntypes++;
		if (*q == ',') {
			q++;
			if (!*q) {
				snprintf(err, errlen, "bad GPU inventory '%s': trailing comma", spec);
				return -1;
			}
		}
		p = q;
	}
	return 0;
}

int inventory_find(const struct inventory *inv, const char *name)
{
	for (int i = 0; i < inv->ntypes; i++)
		if (strcasecmp(inv->types[i].name, name) == 0)
			return i;
	return -1;
}

char *inventory_type_list(const struct inventory *inv, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < inv->ntypes && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", inv->types[i].name);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}
