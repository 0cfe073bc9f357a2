#include "gpuaasd/inventory.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
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
		t->first_index = out->ntypes ? out->types[out->ntypes - 1].first_index + out->types[out->ntypes - 1].total : 0;
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

void inventory_type_from_model(const char *model, char *out, size_t size)
{
	/* Most specific first: "L40S" before "L40", "A100" before "A10". */
	static const char *const known[] = {"GH200", "H200", "H100", "H800", "H20", "A100", "A800", "A40", "A30",
		"A16", "A10G", "A10", "A2", "L40S", "L40", "L20", "L4", "V100", "T4", "P100", "P40", "P4", "K80",
		"B200", "B100", "GB200", "RTX 6000 ADA", "RTX A6000", "RTX A5000", "RTX A4000", "RTX 4090",
		"RTX 3090", "TITAN"};
	char upper[128];
	size_t n = 0;
	for (const char *p = model; *p && n + 1 < sizeof upper; p++)
		upper[n++] = (char)toupper((unsigned char)*p);
	upper[n] = '\0';
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		const char *hit = strstr(upper, known[i]);
		if (!hit)
			continue;
		/* Whole token: "A10" must not match inside "A100". */
		char after = hit[strlen(known[i])];
		if (isalnum((unsigned char)after))
			continue;
		size_t k = 0;
		for (const char *p = known[i]; *p && k + 1 < size && k < GPU_TYPE_MAX; p++)
			out[k++] = *p == ' ' ? '-' : *p;
		out[k] = '\0';
		return;
	}
	/* Unknown: its own name, sanitized ("NVIDIA Foo Bar" -> "FOO-BAR"). */
	const char *p = upper;
	if (strncmp(p, "NVIDIA ", 7) == 0)
		p += 7;
	size_t k = 0;
	for (; *p && k + 1 < size && k < GPU_TYPE_MAX; p++) {
		if (isalnum((unsigned char)*p) || *p == '_')
			out[k++] = *p;
		else if (k > 0 && out[k - 1] != '-')
			out[k++] = '-';
	}
	while (k > 0 && out[k - 1] == '-')
		k--;
	if (k == 0)
		out[k++] = 'G', out[k++] = 'P', out[k++] = 'U';
	out[k] = '\0';
}

static int cmp_dev(const void *a, const void *b)
{
	const struct gpu_device *x = a, *y = b;
	if (x->type_idx != y->type_idx)
		return x->type_idx - y->type_idx;
	return x->index - y->index;
}

int inventory_from_smi_csv(const char *csv, struct inventory *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	size_t cap = 16;
	out->devices = calloc(cap, sizeof *out->devices);
	if (!out->devices) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *line = csv;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[512];
		snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
		line = eol ? eol + 1 : line + len;
		char *fields[4] = {0};
		int nf = 0;
		char *save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t && nf < 4; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			char *e = t + strlen(t);
			while (e > t && (e[-1] == ' ' || e[-1] == '\r'))
				*--e = '\0';
			fields[nf++] = t;
		}
		if (nf < 3 || !isdigit((unsigned char)fields[0][0]))
			continue;
		if (out->ndevices == (int)cap) {
			cap *= 2;
			struct gpu_device *nd = realloc(out->devices, cap * sizeof *nd);
			if (!nd) {
				snprintf(err, errlen, "out of memory");
				inventory_finish(out);
				return -1;
			}
			out->devices = nd;
		}
		struct gpu_device *dev = &out->devices[out->ndevices];
		memset(dev, 0, sizeof *dev);
		dev->index = atoi(fields[0]);
		snprintf(dev->uuid, sizeof dev->uuid, "%s", fields[1]);
		snprintf(dev->model, sizeof dev->model, "%s", fields[2]);
		dev->mem_mib = nf > 3 ? atol(fields[3]) : 0;
		char type[GPU_TYPE_MAX + 1];
		inventory_type_from_model(dev->model, type, sizeof type);
		int idx = inventory_find(out, type);
		if (idx < 0) {
			if (out->ntypes == INVENTORY_MAX_TYPES)
				continue;
			idx = out->ntypes++;
			snprintf(out->types[idx].name, sizeof out->types[idx].name, "%s", type);
		}
		out->types[idx].total++;
		dev->type_idx = idx;
		out->ndevices++;
	}
	if (out->ndevices == 0) {
		snprintf(err, errlen, "nvidia-smi listed no GPUs");
		inventory_finish(out);
		return -1;
	}
	qsort(out->devices, (size_t)out->ndevices, sizeof *out->devices, cmp_dev);
	return 0;
}

int inventory_discover(struct inventory *out, char *err, size_t errlen)
{
	FILE *p = popen("nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits 2>/dev/null",
		"r");
	if (!p) {
		snprintf(err, errlen, "cannot run nvidia-smi");
		return -1;
	}
	char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	int rc = pclose(p);
	if (rc != 0) {
		/* 127: the shell found no nvidia-smi. */
		if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
			return 1;
		snprintf(err, errlen, "nvidia-smi failed (status %d)", rc);
		return -1;
	}
	return inventory_from_smi_csv(buf, out, err, errlen);
}

const struct gpu_device *inventory_device(const struct inventory *inv, int type_idx, int k)
{
	if (!inv->devices)
		return NULL;
	int seen = 0;
	for (int i = 0; i < inv->ndevices; i++) {
		if (inv->devices[i].type_idx != type_idx)
			continue;
		if (seen++ == k)
			return &inv->devices[i];
	}
	return NULL;
}

int inventory_device_index(const struct inventory *inv, int type_idx, int k)
{
	const struct gpu_device *dev = inventory_device(inv, type_idx, k);
	return dev ? dev->index : inv->types[type_idx].first_index + k;
}

void inventory_finish(struct inventory *inv)
{
	free(inv->devices);
	inv->devices = NULL;
	inv->ndevices = 0;
}

#define WEIGHT_MAX 1000000

/* One "TYPE=N" item of a weight spec (len bytes at p) into weights[]. */
static int weight_item(const struct inventory *inv, const char *p, size_t len, int64_t *weights, char *err,
	size_t errlen)
{
	const char *eq = memchr(p, '=', len);
	char type[GPU_TYPE_MAX + 1];
	size_t tlen = eq ? (size_t)(eq - p) : 0;
	if (!eq || tlen == 0 || tlen > GPU_TYPE_MAX) {
		snprintf(err, errlen, "bad GPU weight '%.*s': expected TYPE=N", (int)(len > 64 ? 64 : len), p);
		return -1;
	}
	memcpy(type, p, tlen);
	type[tlen] = '\0';
	int idx = inventory_find(inv, type);
	if (idx < 0) {
		snprintf(err, errlen, "GPU weight for %s, which is not in the inventory", type);
		return -1;
	}
	int64_t n = 0;
	const char *q = eq + 1, *end = p + len;
	if (q == end) {
		snprintf(err, errlen, "bad weight for GPU type %s: expected a whole number from 1 to %d", type, WEIGHT_MAX);
		return -1;
	}
	for (; q < end; q++) {
		if (!isdigit((unsigned char)*q) || (n = n * 10 + (*q - '0')) > WEIGHT_MAX) {
			snprintf(err, errlen, "bad weight for GPU type %s: expected a whole number from 1 to %d", type,
				WEIGHT_MAX);
			return -1;
		}
	}
	if (n < 1) {
		snprintf(err, errlen, "bad weight for GPU type %s: expected a whole number from 1 to %d", type, WEIGHT_MAX);
		return -1;
	}
	weights[idx] = n;
	return 0;
}

int inventory_set_weights(struct inventory *inv, const char *spec, char *err, size_t errlen)
{
	int64_t weights[INVENTORY_MAX_TYPES];
	for (int i = 0; i < inv->ntypes; i++)
		weights[i] = 1;
	for (const char *p = spec ? spec : ""; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (weight_item(inv, p, len, weights, err, errlen) < 0)
			return -1;
		p += len + (comma ? 1 : 0);
	}
	for (int i = 0; i < inv->ntypes; i++)
		inv->types[i].weight = weights[i];
	return 0;
}

bool inventory_weighted(const struct inventory *inv)
{
	for (int i = 0; i < inv->ntypes; i++)
		if (inv->types[i].weight != 1)
			return true;
	return false;
}
