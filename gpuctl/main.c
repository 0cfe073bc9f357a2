/* gpuctl: the command-line client of gpuaasd. main() reads the global
 * options before the command and hands the command line to ctl_run (run.c),
 * which takes global options found after it too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/run.h"

int main(int argc, char **argv)
{
	struct ctl c;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	int i = ctl_global_prefix(&c, argc, argv);
	if (i < 0)
		return -i - 1;
	/* -s after the command replaces this default when it is parsed. */
	if (!c.socket_path[0] && paths_client_socket(c.socket_path, sizeof c.socket_path) < 0) {
		fprintf(stderr, "gpuctl: cannot work out the socket path\n");
		return EXIT_USAGE;
	}
	int rc = ctl_run(&c, argc - i, argv + i);
	ctl_disconnect(&c);
	free(c.token);
	return rc;
}
