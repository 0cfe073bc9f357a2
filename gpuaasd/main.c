/* gpuaasd: parses the options and the config file, then runs the daemon
 * (daemon.c). Exit status: 0 after a clean stop, 1 when start-up or the
 * loop failed, 2 for a configuration error. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "gpuaasd/daemon.h"

static void print_error(const char *message)
{
	fprintf(stderr, "gpuaasd: %s\n", message);
}

/* 0 to go on, or the exit status (after --help, --version, a bad option,
 * or --check-config). */
static int configure(struct daemon *d, int argc, char **argv, char *err, size_t errlen)
{
	config_init(&d->cfg);
	enum config_result cr = config_parse_args(&d->cfg, argc, argv, err, errlen);
	if (cr == CONFIG_EXIT_OK)
		return -1;
	bool explicit_config = d->cfg.config_path != NULL;
	if (cr == CONFIG_ERROR || config_load_file(&d->cfg, explicit_config, err, errlen) != CONFIG_OK ||
	    config_validate(&d->cfg, err, errlen) != CONFIG_OK || daemon_configure(d, err, errlen) < 0) {
		print_error(err);
		return 2;
	}
	log_set_level(d->cfg.log_level);
	if (d->cfg.check_config) {
		printf("configuration OK\n");
		return -1;
	}
	return 0;
}

/* A long list builds a reply of up to a megabyte. glibc serves blocks that
 * large with a fresh mmap each time, so every such reply paid a page fault
 * per 4 KiB (about 2.5 µs each on our VMs: 0.5 ms of a 10,000-row list).
 * From the heap, and with up to 2 MiB of free heap kept rather than given
 * back, the same pages serve the next reply. Blocks allocated per request
 * must stay under this threshold (SQLite's statement journal chunk, db.c).
 * Only a speed setting: if it is refused, say so and go on. */
static void tune_malloc(void)
{
	if (mallopt(M_MMAP_THRESHOLD, 4 << 20) != 1)
		log_event(LOG_WARN, "malloc.tune_failed", "setting=mmap_threshold");
	if (mallopt(M_TRIM_THRESHOLD, 2 << 20) != 1)
		log_event(LOG_WARN, "malloc.tune_failed", "setting=trim_threshold");
}

int main(int argc, char **argv)
{
	tune_malloc();
	struct daemon d;
	memset(&d, 0, sizeof d);
	d.signal_fd = -1;
	char err[2048] = "";
	int status = configure(&d, argc, argv, err, sizeof err);
	if (status != 0) {
		daemon_finish(&d, false);
		return status < 0 ? 0 : status;
	}
	if (daemon_init(&d, err, sizeof err) < 0 || daemon_run(&d, err, sizeof err) < 0) {
		print_error(err);
		status = 1;
	}
	daemon_finish(&d, status == 0);
	if (status == 0)
		log_event(LOG_INFO, "daemon.stopped", "%s", "");
	return status;
}
