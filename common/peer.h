/* Whom a client may hand a token: the daemon at the other end of a Unix
 * socket, checked by its credentials (gpuctl and gpuaas-web both ask). */
#ifndef GPUAAS_COMMON_PEER_H
#define GPUAAS_COMMON_PEER_H

#include <stdbool.h>

/* True when the peer of the connected socket fd runs as root, as us, as the
 * owner of the socket file at path, or as the gpuaas system user: never
 * whoever managed to bind a socket at that path. */
bool peer_trusted(int fd, const char *path);

#endif
