#include "common/peer.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

bool peer_trusted(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0 || cred.uid == getuid())
		return true;
	struct stat st;
	if (stat(path, &st) == 0 && st.st_uid == cred.uid)
		return true;
	struct passwd *pw = getpwnam("gpuaas");
	return pw && pw->pw_uid == cred.uid;
}
