#include "common/paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fit(int w, size_t size)
{
	return (w < 0 || (size_t)w >= size) ? -1 : 0;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_dir : "/";
}

int paths_user_socket(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg)
		return fit(snprintf(buf, size, "%s/gpuaas/gpuaasd.sock", xdg), size);
	return fit(snprintf(buf, size, "/tmp/gpuaas-%u/gpuaasd.sock", (unsigned)getuid()), size);
}

int paths_daemon_socket(char *buf, size_t size)
{
	if (getuid() == 0)
		return fit(snprintf(buf, size, "%s", PATHS_ROOT_SOCKET), size);
	return paths_user_socket(buf, size);
}

int paths_client_socket(char *buf, size_t size)
{
	const char *env = getenv("GPUAAS_SOCKET");
	if (env && *env)
		return fit(snprintf(buf, size, "%s", env), size);
	if (access(PATHS_ROOT_SOCKET, F_OK) == 0)
		return fit(snprintf(buf, size, "%s", PATHS_ROOT_SOCKET), size);
	return paths_user_socket(buf, size);
}

int paths_user_state_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg)
		return fit(snprintf(buf, size, "%s/gpuaas", xdg), size);
	return fit(snprintf(buf, size, "%s/.local/state/gpuaas", home_dir()), size);
}

int paths_state_dir(char *buf, size_t size)
{
	if (getuid() == 0)
		return fit(snprintf(buf, size, "%s", PATHS_ROOT_STATE), size);
	return paths_user_state_dir(buf, size);
}

int paths_mkdir_p(const char *dir, unsigned mode)
{
	char tmp[4096];
	if (fit(snprintf(tmp, sizeof tmp, "%s", dir), sizeof tmp) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}
