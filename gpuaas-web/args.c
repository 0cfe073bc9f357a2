#include "gpuaas-web/args.h"

#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "gpuaas-web/jspan.h"

void args_init(struct args *a)
{
	strbuf_init(&a->b, 0);
	strbuf_addc(&a->b, '{');
	a->n = 0;
}

void args_finish(struct args *a)
{
	strbuf_finish(&a->b);
}

int args_close(struct args *a)
{
	strbuf_addc(&a->b, '}');
	return a->b.failed ? -1 : 0;
}

static void key(struct args *a, const char *k)
{
	if (a->n++)
		strbuf_addc(&a->b, ',');
	strbuf_add_json_str(&a->b, k);
	strbuf_addc(&a->b, ':');
}

void args_int(struct args *a, const char *k, int64_t v)
{
	key(a, k);
	strbuf_add_int(&a->b, v);
}

void args_str(struct args *a, const char *k, const char *s)
{
	key(a, k);
	strbuf_add_json_str(&a->b, s);
}

void args_bool(struct args *a, const char *k, bool v)
{
	key(a, k);
	strbuf_adds(&a->b, v ? "true" : "false");
}

void args_raw(struct args *a, const char *k, const char *json, size_t len)
{
	key(a, k);
	strbuf_add(&a->b, json, len);
}

int args_from_body(struct args *a, const char *body, size_t len, const char *const *keys, char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	cJSON *tree = json_parse_strict(body, len);
	bool object = tree && cJSON_IsObject(tree);
	cJSON_Delete(tree);
	if (!object) {
		snprintf(err, errlen, "the request body must be one JSON object (UTF-8, no duplicate keys)");
		return -1;
	}
	/* Well formed, one object, no duplicate keys: each wanted member is
	 * found at most once, as written. */
	struct jspan obj = {body, len}, v;
	for (const char *const *k = keys; *k; k++)
		if (jspan_member(obj, *k, &v) == 0)
			args_raw(a, *k, v.p, v.n);
	if (a->b.failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
