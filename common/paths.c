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

/* Copies path into buf: 0, or -1 when it does not fit. */
static int copy_path(char *buf, size_t size, const char *path)
{
	return fit(snprintf(buf, size, "%s", path), size);
}

/* The variable's value when it is set and not empty, else NULL. */
static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static const char *home_dir(void)
{
	const char *h = env_nonempty("HOME");
	if (h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_dir : "/";
}

int paths_user_socket(char *buf, size_t size)
{
	const char *xdg = env_nonempty("XDG_RUNTIME_DIR");
	if (xdg)
		return fit(snprintf(buf, size, "%s/gpuaas/gpuaasd.sock", xdg), size);
	return fit(snprintf(buf, size, "/tmp/gpuaas-%u/gpuaasd.sock", (unsigned)getuid()), size);
}

int paths_daemon_socket(char *buf, size_t size)
{
	if (getuid() == 0)
		return copy_path(buf, size, PATHS_ROOT_SOCKET);
	return paths_user_socket(buf, size);
}

int paths_client_socket(char *buf, size_t size)
{
	const char *env = env_nonempty("GPUAAS_SOCKET");
	if (env)
		return copy_path(buf, size, env);
	if (access(PATHS_ROOT_SOCKET, F_OK) == 0)
		return copy_path(buf, size, PATHS_ROOT_SOCKET);
	return paths_user_socket(buf, size);
}

int paths_user_state_dir(char *buf, size_t size)
{
	const char *xdg = env_nonempty("XDG_STATE_HOME");
	if (xdg)
		return fit(snprintf(buf, size, "%s/gpuaas", xdg), size);
	return fit(snprintf(buf, size, "%s/.local/state/gpuaas", home_dir()), size);
}

int paths_state_dir(char *buf, size_t size)
{
	if (getuid() == 0)
		return copy_path(buf, size, PATHS_ROOT_STATE);
	return paths_user_state_dir(buf, size);
}

int paths_mkdir_p(const char *dir, unsigned mode)
{
	char tmp[4096];
	if (copy_path(tmp, sizeof tmp, dir) < 0) {
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
