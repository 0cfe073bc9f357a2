/* Output, errors, passwords and option parsing for the commands. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/ctl.h"

int ctl_fail(struct ctl *c, enum status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	fprintf(stderr, "gpuctl: %s\n", c->err);
	return status_exit_code(st);
}

int ctl_report(struct ctl *c, enum status st)
{
	fprintf(stderr, "gpuctl: %s\n", c->err[0] ? c->err : status_message(st));
	return status_exit_code(st);
}

void print_json(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

int64_t jint(const cJSON *o, const char *key)
{
	int64_t v = 0;
	if (json_get_int(o, key, -JSON_INT_MAX, JSON_INT_MAX, &v) != JSON_FIELD_OK)
		return 0;
	return v;
}

const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *it = json_get(o, key);
	return cJSON_IsString(it) && it->valuestring ? it->valuestring : "";
}

char *fmt_secs(int64_t secs, char *buf, size_t size)
{
	char d[64];
	snprintf(buf, size, "%s (%lld s)", duration_format(secs, d, sizeof d), (long long)secs);
	return buf;
}

int read_password(struct ctl *c, const char *prompt, bool from_stdin, char *buf, size_t size)
{
	if (from_stdin) {
		if (!fgets(buf, (int)size, stdin)) {
			snprintf(c->err, sizeof c->err, "no password on standard input");
			return -1;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		return 0;
	}
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || !isatty(fd)) {
		if (fd >= 0)
			close(fd);
		snprintf(c->err, sizeof c->err, "no terminal to ask for the password: use --password-stdin");
		return -1;
	}
	struct termios old, quiet;
	tcgetattr(fd, &old);
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt is shown, so that nothing typed after the
	 * prompt can be echoed; TCSADRAIN keeps what was typed ahead. */
	tcsetattr(fd, TCSADRAIN, &quiet);
	(void)!write(fd, prompt, strlen(prompt));
	size_t n = 0;
	int rc = 0;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n' || ch == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	tcsetattr(fd, TCSADRAIN, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	return rc;
}

int parse_opts(struct ctl *c, int argc, char **argv, const struct opt_spec *specs, char **pos, int maxpos,
	int *npos, char ***rest, int *nrest)
{
	*npos = 0;
	if (rest) {
		*rest = NULL;
		*nrest = 0;
	}
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			if (!rest) {
				ctl_fail(c, ST_USAGE, "%s: unexpected '--'", argv[0]);
				return -1;
			}
			*rest = argv + i + 1;
			*nrest = argc - i - 1;
			return 0;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos) {
				ctl_fail(c, ST_USAGE, "%s: unexpected argument '%s' (see gpuctl %s --help)", argv[0], a,
					argv[0]);
				return -1;
			}
			pos[(*npos)++] = a;
			continue;
		}
		const struct opt_spec *s = NULL;
		const char *val = NULL;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			for (const struct opt_spec *p = specs; p && p->lng; p++)
				if (strlen(p->lng) == len && strncmp(p->lng, name, len) == 0)
					s = p;
			if (s && eq)
				val = eq + 1;
			if (s && eq && !s->has_arg) {
				ctl_fail(c, ST_USAGE, "%s: option --%s takes no value", argv[0], s->lng);
				return -1;
			}
		} else if (a[2] == '\0' || (a[1] != '\0' && a[2] != '\0')) {
			for (const struct opt_spec *p = specs; p && p->lng; p++)
				if (p->shrt && p->shrt == a[1])
					s = p;
			if (s && a[2] != '\0') {
				if (!s->has_arg) {
					ctl_fail(c, ST_USAGE, "%s: unknown option '%s'", argv[0], a);
					return -1;
				}
				val = a + 2;
			}
		}
		if (!s) {
			/* "-1" etc. are values, not options (negative numbers). */
			if ((a[1] >= '0' && a[1] <= '9') && *npos < maxpos) {
				pos[(*npos)++] = a;
				continue;
			}
			ctl_fail(c, ST_USAGE, "%s: unknown option '%s' (see gpuctl %s --help)", argv[0], a, argv[0]);
			return -1;
		}
		if (s->has_arg) {
			if (!val) {
				if (i + 1 >= argc) {
					ctl_fail(c, ST_USAGE, "%s: option --%s needs a value", argv[0], s->lng);
					return -1;
				}
				val = argv[++i];
			}
			*s->value = val;
		} else {
			*s->flag = true;
		}
	}
	return 0;
}
