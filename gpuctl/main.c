/* gpuctl: the command-line client of gpuaasd. main() reads the global
 * options and hands the command line to ctl_run (run.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/run.h"

/* Reads the global options before the command into c; *sock: the --socket
 * value or NULL. Returns the index of the command word, or -(exit code + 1)
 * when gpuctl is done (--help, --version, a usage error). */
static int global_options(struct ctl *c, int argc, char **argv, const char **sock)
{
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "gpuctl: %s needs a path\n", a);
				return -(EXIT_USAGE + 1);
			}
			*sock = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			*sock = a + 9;
		} else if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctl_print_usage(stdout);
			return -1;
		} else if (strcmp(a, "--version") == 0) {
			printf("gpuctl %s\n", GPUAAS_VERSION);
			return -1;
		} else if (a[0] == '-') {
			fprintf(stderr, "gpuctl: unknown option '%s' (global options come before the command)\n", a);
			return -(EXIT_USAGE + 1);
		} else {
			break;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	struct ctl c;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	const char *sock = NULL;
	int i = global_options(&c, argc, argv, &sock);
	if (i < 0)
		return -i - 1;
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
