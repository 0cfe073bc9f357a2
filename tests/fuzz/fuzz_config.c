/* libFuzzer: the config file parser (file:line errors, never a crash). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpuaasd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("gpuaasd.conf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct config cfg;
	config_init(&cfg);
	cfg.config_path = strdup(path);
	char err[1024];
	if (config_load_file(&cfg, true, err, sizeof err) == CONFIG_OK)
		config_validate(&cfg, err, sizeof err);
	config_finish(&cfg);
	close(fd);
	return 0;
}
