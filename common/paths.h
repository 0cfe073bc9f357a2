/* Default paths (socket, state dir, token cache; the "Paths" table of the
 * README and the FILES sections of gpuaasd(8) and gpuctl(1)), shared by
 * daemon and CLI. */
#ifndef GPUAAS_COMMON_PATHS_H
#define GPUAAS_COMMON_PATHS_H

#include <stddef.h>

#define PATHS_ROOT_SOCKET "/run/gpuaas/gpuaasd.sock"
#define PATHS_ROOT_STATE "/var/lib/gpuaas"
#define PATHS_ROOT_CONFIG "/etc/gpuaas/gpuaasd.conf"

/* The daemon's default socket: root's path for uid 0, else the per-user one.
 * Returns 0, or -1 when it does not fit in size. */
int paths_daemon_socket(char *buf, size_t size);
/* The per-user socket path ($XDG_RUNTIME_DIR/gpuaas/... or /tmp/gpuaas-UID/...). */
int paths_user_socket(char *buf, size_t size);
/* The client's lookup: $GPUAAS_SOCKET, else the root path if it exists, else
 * the per-user path. */
int paths_client_socket(char *buf, size_t size);
/* The daemon's default state dir for this uid. */
int paths_state_dir(char *buf, size_t size);
/* ${XDG_STATE_HOME:-$HOME/.local/state}/gpuaas */
int paths_user_state_dir(char *buf, size_t size);
/* Creates dir and its missing parents; the last component gets mode. */
int paths_mkdir_p(const char *dir, unsigned mode);

#endif
