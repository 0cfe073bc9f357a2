/* -o yaml: the JSON objects of the wire protocol written as YAML (block
 * style). Strings are plain when YAML would read them back as the same
 * string, else double-quoted with JSON's escapes (valid YAML). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuctl/ctl.h"

static void emit(FILE *out, const cJSON *v, int indent, bool in_seq);

/* Whether s would be read back by YAML as this very string without quotes. */
static bool plain_ok(const char *s)
{
	static const char *const words[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"};
	if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[strlen(s) - 1] == ' ')
		return false;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	/* Numbers, times, dates (YAML reads "1:30" and "2026-11-27" as such): quoted. */
	const char *d = s[0] == '+' ? s + 1 : s;
	if ((*d >= '0' && *d <= '9') || *d == '.')
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch < 0x20 || ch == 0x7f || (*p == ':' && (p[1] == ' ' || !p[1])) || (*p == ' ' && p[1] == '#'))
			return false;
	}
	return true;
}

static void scalar(FILE *out, const cJSON *v)
{
	if (cJSON_IsString(v) && plain_ok(v->valuestring)) {
		fputs(v->valuestring, out);
		return;
	}
	char *s = cJSON_PrintUnformatted(v);
	fputs(s ? s : "null", out);
	free(s);
}

static bool is_container(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child;
}

/* An object's members, or an array's items, at indent. in_seq: the first
 * line already follows a "- ". */
static void emit(FILE *out, const cJSON *v, int indent, bool in_seq)
{
	bool first = true;
	const cJSON *it;
	cJSON_ArrayForEach(it, v)
	{
		if (!(first && in_seq))
			fprintf(out, "%*s", indent, "");
		first = false;
		if (cJSON_IsObject(v)) {
			fprintf(out, "%s:", it->string);
			if (is_container(it)) {
				fputc('\n', out);
				emit(out, it, indent + 2, false);
				continue;
			}
			fputc(' ', out);
		} else {
			fputs("- ", out);
			if (is_container(it)) {
				if (cJSON_IsArray(it)) {
					fputc('\n', out);
					emit(out, it, indent + 2, false);
				} else {
					emit(out, it, indent + 2, true);
				}
				continue;
			}
		}
		if (cJSON_IsObject(it))
			fputs("{}", out);
		else if (cJSON_IsArray(it))
			fputs("[]", out);
		else
			scalar(out, it);
		fputc('\n', out);
	}
}

void yaml_print(FILE *out, const cJSON *v)
{
	fputs("---\n", out);
	if (is_container(v))
		emit(out, v, 0, false);
	else if (cJSON_IsObject(v))
		fputs("{}\n", out);
	else if (cJSON_IsArray(v))
		fputs("[]\n", out);
	else {
		scalar(out, v);
		fputc('\n', out);
	}
}
