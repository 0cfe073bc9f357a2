/* Options from a table (see optable.h). */
#include "common/optable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/log.h"

static int set_string(char **field, const char *value, char *why, size_t whylen)
{
	if (!*value) {
		snprintf(why, whylen, "empty value");
		return -1;
	}
	char *copy = strdup(value);
	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int set_number(int64_t *field, const struct opt *o, const char *value, char *why, size_t whylen)
{
	int64_t v;
	if (o->type == OPT_DURATION) {
		if (duration_parse(value, &v) < 0 || v < o->min || v > o->max) {
			char a[32], b[32];
			snprintf(why, whylen, "'%s' is not a duration between %s and %s (like 90s, 15m, 2h, 1h30m, 1d)",
				value, duration_format(o->min, a, sizeof a), duration_format(o->max, b, sizeof b));
			return -1;
		}
	} else {
		char *end;
		errno = 0;
		long long n = strtoll(value, &end, 10);
		if (errno || end == value || *end || n < o->min || n > o->max) {
			snprintf(why, whylen, "'%s' is not an integer between %lld and %lld", value, (long long)o->min,
				(long long)o->max);
			return -1;
		}
		v = n;
	}
	*field = v;
	return 0;
}

static int set_bool(bool *field, const char *value, char *why, size_t whylen)
{
	static const char *const yes[] = {"true", "1", "yes", "on"}, *const no[] = {"false", "0", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*field = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(why, whylen, "'%s' is not a boolean (on/off, true/false, yes/no, 1/0)", value);
	return -1;
}

int optable_set_common(void *base, const struct opt *o, const char *value, char *why, size_t whylen)
{
	void *field = (char *)base + o->offset;
	switch (o->type) {
	case OPT_STRING:
		return set_string(field, value, why, whylen);
	case OPT_INT:
	case OPT_DURATION:
		return set_number(field, o, value, why, whylen);
	case OPT_LOGLEVEL:
		if (log_level_parse(value, field) < 0) {
			snprintf(why, whylen, "'%s': valid levels are error, warn, info, debug", value);
			return -1;
		}
		return 0;
	case OPT_FLAG:
	case OPT_BOOL:
		return set_bool(field, value, why, whylen);
	default:
		snprintf(why, whylen, "no setter for this option");
		return -1;
	}
}

const struct opt *optable_find(const struct optable *t, const char *name, size_t len, bool file_key, size_t *idx)
{
	for (size_t k = 0; k < t->n; k++) {
		const char *n = t->opts[k].name;
		if (strlen(n) != len)
			continue;
		size_t i = 0;
		while (i < len && (n[i] == name[i] || (file_key && n[i] == '-' && name[i] == '_')))
			i++;
		if (i == len) {
			*idx = k;
			return &t->opts[k];
		}
	}
	return NULL;
}

int optable_parse_arg(const struct optable *t, void *base, bool *set_on_cmdline, int argc, char **argv, int *i,
	char *err, size_t errlen)
{
	const char *arg = argv[*i];
	if (strncmp(arg, "--", 2) != 0) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
		return -1;
	}
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t idx = 0, nlen = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *o = optable_find(t, name, nlen, false, &idx);
	if (!o) {
		snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen, name);
		return -1;
	}
	const char *value = eq ? eq + 1 : "true";
	if (o->type == OPT_FLAG && eq) {
		snprintf(err, errlen, "option --%s takes no value", o->name);
		return -1;
	}
	if (o->type != OPT_FLAG && !eq) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "option --%s needs a value", o->name);
			return -1;
		}
		value = argv[++*i];
	}
	char why[512];
	if (t->set(base, o, value, why, sizeof why) < 0) {
		snprintf(err, errlen, "--%s: %s", o->name, why);
		return -1;
	}
	set_on_cmdline[idx] = true;
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One non-empty, non-comment line: key and value split, trimmed, unquoted. */
static int split_line(char *s, optable_line_fn line, void *arg, const char *path, int lineno, char *err,
	size_t errlen)
{
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
		return -1;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	size_t vl = strlen(value);
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') { /* paths with spaces */
		value[vl - 1] = '\0';
		value++;
	}
	return line(arg, key, value, path, lineno, err, errlen);
}

int optable_read_file(const char *path, optable_line_fn line, void *arg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0, lineno = 0;
	char buf[4096];
	while (rc == 0 && fgets(buf, sizeof buf, f)) {
		lineno++;
		if (strlen(buf) == sizeof buf - 1 && buf[sizeof buf - 2] != '\n') {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		char *s = trim(buf);
		if (*s && *s != '#')
			rc = split_line(s, line, arg, path, lineno, err, errlen);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

const struct opt *optable_file_key(const struct optable *t, const char *key, const char *path, int lineno,
	size_t *idx, char *err, size_t errlen)
{
	const struct opt *o = optable_find(t, key, strlen(key), true, idx);
	if (!o || o->type == OPT_FLAG || strcmp(o->name, "config") == 0) {
		snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
		return NULL;
	}
	return o;
}

int optable_apply_line(const struct optable *t, void *base, const bool *set_on_cmdline, const char *key,
	const char *value, const char *path, int lineno, char *err, size_t errlen)
{
	size_t idx;
	const struct opt *o = optable_file_key(t, key, path, lineno, &idx, err, errlen);
	if (!o)
		return -1;
	if (set_on_cmdline[idx]) /* the command line wins */
		return 0;
	char why[512];
	if (t->set(base, o, value, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%d: bad value for %s: %s", path, lineno, key, why);
		return -1;
	}
	return 0;
}

void optable_print_help(const struct optable *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const char *h = t->opts[i].help, *gap = strstr(h, "  ");
		if (gap)
			printf("  --%s %.*s\n      %s\n", t->opts[i].name, (int)(gap - h), h, gap + 2);
		else
			printf("  --%s\n      %s\n", t->opts[i].name, h);
	}
	printf("  --help       show this help\n  --version    show the version\n\n");
}
