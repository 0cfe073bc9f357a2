/* Options from a table, shared by gpuaasd and gpuaas-web: --name VALUE,
 * --name=VALUE and flags on the command line; "key = value" lines in a
 * config file (a key writes '-' as '_'; '#' starts a comment line; a value
 * may be "quoted"); --help text from the same table. Each program keeps its
 * own table and struct, and adds value types of its own through set. */
#ifndef GPUAAS_COMMON_OPTABLE_H
#define GPUAAS_COMMON_OPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_type {
	OPT_STRING,   /* char *, owned; never empty */
	OPT_INT,      /* int64_t in [min, max] */
	OPT_DURATION, /* int64_t seconds in [min, max]: 90s, 15m, 2h, 1h30m, 1d */
	OPT_LOGLEVEL, /* enum log_level */
	OPT_FLAG,     /* bool, command line only: set when given */
	OPT_BOOL,     /* bool: on/off, true/false, yes/no, 1/0 */
	OPT_OWN,      /* the program's own types are OPT_OWN and up */
};

struct opt {
	const char *name; /* the long option, without "--" */
	int type;         /* an enum opt_type */
	size_t offset;    /* of the field in the program's struct */
	int64_t min, max; /* for OPT_INT and OPT_DURATION */
	bool reloadable;  /* SIGHUP may change it (gpuaasd) */
	const char *help; /* "METAVAR  description", or a description */
};

struct optable {
	const struct opt *opts;
	size_t n;
	/* Stores value into the option's field of base: 0, or -1 with a reason
	 * in why. optable_set_common serves the common types. */
	int (*set)(void *base, const struct opt *o, const char *value, char *why, size_t whylen);
};

int optable_set_common(void *base, const struct opt *o, const char *value, char *why, size_t whylen);
/* The option named name[0..len) (a file key: '_' may stand for '-'), with
 * its index; NULL when none. */
const struct opt *optable_find(const struct optable *t, const char *name, size_t len, bool file_key, size_t *idx);
/* argv[*i], and its value when it takes one (*i then moves past it); marks
 * set_on_cmdline[index]. 0, or -1 with the reason in err. */
int optable_parse_arg(const struct optable *t, void *base, bool *set_on_cmdline, int argc, char **argv, int *i,
	char *err, size_t errlen);
/* Reads path's "key = value" lines, calling line for each. 0, or -1 with
 * err ("path:N: ..."). */
typedef int (*optable_line_fn)(void *arg, const char *key, const char *value, const char *path, int lineno, char *err,
	size_t errlen);
int optable_read_file(const char *path, optable_line_fn line, void *arg, char *err, size_t errlen);
/* The option a file key names, or NULL with "path:N: unknown key" in err
 * (flags and "config" are not file keys). */
const struct opt *optable_file_key(const struct optable *t, const char *key, const char *path, int lineno,
	size_t *idx, char *err, size_t errlen);
/* One file line applied with t->set. */
int optable_apply_line(const struct optable *t, void *base, const bool *set_on_cmdline, const char *key,
	const char *value, const char *path, int lineno, char *err, size_t errlen);
/* The options part of --help. */
void optable_print_help(const struct optable *t);

#endif
