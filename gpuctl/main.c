/* gpuctl: the command-line client of gpuaasd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "gpuctl/complete.h"
#include "gpuctl/ctl.h"
#include "gpuctl/shell.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: gpuctl [-s|--socket PATH] [-j|--json] COMMAND [ARGS...]\n"
		     "       gpuctl help [COMMAND]    gpuctl --version\n\n"
		     "GPU-as-a-Service client: ask for GPU time, wait for approval, run, get charged.\n\n"
		     "Commands:\n");
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		fprintf(out, "  %s\n", c->usage);
	fprintf(out, "  shell\n  ping\n  help [COMMAND]\n\n"
		     "Exit codes: 0 ok, 1 failed, 2 usage, 3 not authenticated, 4 forbidden, 5 not found,\n"
		     "6 quota exceeded, 7 daemon unreachable, 8 timed out, 9 try again later.\n"
		     "See gpuctl(1).\n");
}

static void print_candidate(void *arg, const char *s)
{
	(void)arg;
	printf("%s\n", s);
}

/* Writes s escaped for scdoc (which gives '*', '_' and '\\' meaning). */
static void scd_escaped(const char *s)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

/* The COMMANDS section of gpuctl(1), from the same table as `help`, so the
 * man page and the help can never disagree (built by meson). */
static void print_man_commands(void)
{
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		putchar('*');
		scd_escaped(c->usage);
		printf("*\n\t");
		scd_escaped(c->help);
		printf("\n\n");
	}
}

/* Runs one command line (argv mode and the shell share this). */
int ctl_run(struct ctl *c, int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "ping") == 0) {
		cJSON *data = NULL;
		enum status st = ctl_call(c, "sys.ping", NULL, false, &data);
		cJSON_Delete(data);
		if (st != ST_OK)
			return ctl_report(c, st);
		if (!c->in_shell)
			printf(c->json ? "{\"pong\":true}\n" : "gpuaasd at %s answers\n", c->socket_path);
		return 0;
	}
	if (strcmp(argv[0], "__complete") == 0) {
		/* For the bash and zsh completion scripts: __complete WORDS... -- CURRENT */
		int dash = argc;
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--") == 0)
				dash = i;
		const char *text = dash + 1 < argc ? argv[dash + 1] : "";
		ctl_complete(c, argv + 1, dash - 1, text, print_candidate, NULL);
		return 0;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 2 && strcmp(argv[1], "--man") == 0) {
			print_man_commands();
			return 0;
		}
		if (argc == 1) {
			usage(stdout);
			return 0;
		}
		int used = 0;
		const struct ctl_cmd *cmd = ctl_find(argc - 1, argv + 1, &used);
		if (!cmd)
			return ctl_fail(c, ST_USAGE, "help: unknown command '%s'", argv[1]);
		ctl_print_help(cmd, stdout);
		return 0;
	}
	if (strcmp(argv[0], "shell") == 0) {
		if (c->in_shell)
			return ctl_fail(c, ST_USAGE, "already in the shell");
		return ctl_shell(c);
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(argc, argv, &used);
	if (!cmd) {
		if (strcmp(argv[0], "admin") == 0)
			return ctl_fail(c, ST_USAGE, "admin: unknown or missing subcommand (see gpuctl help)");
		return ctl_fail(c, ST_USAGE, "unknown command '%s' (see gpuctl help)", argv[0]);
	}
	/* "gpuctl COMMAND --help" before any "--". */
	for (int i = used; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			ctl_print_help(cmd, stdout);
			return 0;
		}
	}
	/* Handlers see their own name as argv[0]. */
	char *saved = argv[used - 1];
	argv[used - 1] = (char *)cmd->name;
	int rc = cmd->fn(c, argc - used + 1, argv + used - 1);
	argv[used - 1] = saved;
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	const char *sock = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "gpuctl: %s needs a path\n", a);
				return EXIT_USAGE;
			}
			sock = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			sock = a + 9;
		} else if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			c.json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("gpuctl %s\n", GPUAAS_VERSION);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "gpuctl: unknown option '%s' (global options come before the command)\n", a);
			return EXIT_USAGE;
		} else {
			break;
		}
	}
	if (sock)
		snprintf(c.socket_path, sizeof c.socket_path, "%s", sock);
	else if (paths_client_socket(c.socket_path, sizeof c.socket_path) < 0) {
		fprintf(stderr, "gpuctl: cannot work out the socket path\n");
		return EXIT_USAGE;
	}
	int rc = ctl_run(&c, argc - i, argv + i);
	ctl_disconnect(&c);
	free(c.token);
	return rc;
}
