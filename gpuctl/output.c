/* Output, errors, passwords and questions for the commands. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"

int ctl_fail(struct ctl *c, enum status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "gpuctl: %s\n", c->err);
	return status_exit_code(st);
}

int ctl_report(struct ctl *c, enum status st)
{
	/* Ctrl-C in the shell: the terminal showed ^C; nothing more to say. */
	if (ctl_interrupted)
		return EXIT_INTERRUPTED;
	if (!c->err[0])
		snprintf(c->err, sizeof c->err, "%s", status_message(st));
	errmap_rewrite(c->cmd, st, c->err, sizeof c->err);
	fflush(stdout);
	fprintf(stderr, "gpuctl: %s\n", c->err);
	return status_exit_code(st);
}

int ctl_ask(struct ctl *c, const char *op, cJSON *args, cJSON **data)
{
	enum status st = ctl_call(c, op, args, true, data);
	return st == ST_OK ? 0 : ctl_report(c, st);
}

bool ctl_structured(const struct ctl *c)
{
	return c->out == OUT_JSON || c->out == OUT_YAML;
}

void ctl_emit(const struct ctl *c, const cJSON *v)
{
	if (c->out == OUT_YAML)
		yaml_print(stdout, v);
	else
		print_json(v);
}

void ctl_emit_list(const struct ctl *c, const char *key, cJSON *list)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !list || !cJSON_AddItemToObject(o, key, list)) {
		cJSON_Delete(o);
		cJSON_Delete(list);
		fprintf(stderr, "gpuctl: out of memory\n");
		return;
	}
	ctl_emit(c, o);
	cJSON_Delete(o);
}

int ctl_no_names(struct ctl *c)
{
	return ctl_fail(c, ST_USAGE, "%s: -o name does not apply (it prints no ids or names); try -o json",
		c->cmd ? c->cmd->name : "gpuctl");
}

void print_json(const cJSON *v)
{
	/* Integers as integers: cJSON would write 10^15 as 1e+15. */
	cJSON *copy = cJSON_Duplicate(v, 1);
	char *s = copy && json_exact_ints(copy) == 0 ? cJSON_PrintUnformatted(copy) : NULL;
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	cJSON_Delete(copy);
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

/* Reads one line from the terminal fd into buf (without the newline).
 * 0, or -1 when Ctrl-C (in the shell) or end of input cut it short. */
static int tty_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	int rc = 0;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR && !ctl_interrupted)
			continue;
		if (r <= 0) {
			rc = n > 0 && r == 0 ? 0 : -1;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return rc;
}

/* Opens the controlling terminal for a question; -1 when there is none. */
static int open_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && !isatty(fd)) {
		close(fd);
		return -1;
	}
	return fd;
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
	int fd = open_tty();
	if (fd < 0) {
		snprintf(c->err, sizeof c->err, "no terminal to ask for the password: use --password-stdin");
		return -1;
	}
	struct termios old, quiet;
	bool have_old = tcgetattr(fd, &old) == 0;
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt is shown, so that nothing typed after the
	 * prompt can be echoed; TCSADRAIN keeps what was typed ahead. */
	if (have_old && tcsetattr(fd, TCSADRAIN, &quiet) < 0)
		have_old = false;
	(void)!write(fd, prompt, strlen(prompt));
	int rc = tty_line(fd, buf, size);
	if (have_old)
		tcsetattr(fd, TCSADRAIN, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	if (rc < 0)
		snprintf(c->err, sizeof c->err, "no password given");
	return rc;
}

bool ask_yes(struct ctl *c, const char *question, bool *no_tty)
{
	*no_tty = false;
	int fd = open_tty();
	if (fd < 0 || !isatty(STDIN_FILENO)) {
		if (fd >= 0)
			close(fd);
		*no_tty = true;
		return false;
	}
	fflush(stdout);
	(void)!write(fd, question, strlen(question));
	(void)!write(fd, " [y/N] ", 7);
	char answer[16];
	int rc = tty_line(fd, answer, sizeof answer);
	close(fd);
	(void)c;
	return rc == 0 && (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0);
}

void ctl_print_quota(const struct ctl *c, const cJSON *q, const char *indent)
{
	static const char *const keys[] = {"remaining", "reserved", "available"};
	for (size_t i = 0; i < 3; i++) {
		char b[64];
		printf("%s%s:%*s%s", indent, keys[i], (int)(10 - strlen(keys[i])), "",
			fmt_gpu_hours(jint(q, keys[i]), b, sizeof b));
		if (c->out == OUT_WIDE)
			printf(" (%lld GPU-seconds)", (long long)jint(q, keys[i]));
		putchar('\n');
	}
}
