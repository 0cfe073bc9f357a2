/* Output, errors and passwords for the commands. */
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
