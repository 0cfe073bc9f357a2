/* The token cache (FILES in gpuctl(1), docs/man/gpuctl.1.tail.scd): a 0600
 * file in a 0700 dir, written atomically; a cache that is a symlink, not ours
 * or readable by others is refused. $GPUAAS_TOKEN wins over the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "gpuctl/ctl.h"

int token_path(char *buf, size_t size)
{
	const char *env = getenv("GPUAAS_TOKEN_FILE");
	int w;
	if (env && *env)
		w = snprintf(buf, size, "%s", env);
	else if (getenv("XDG_RUNTIME_DIR") && *getenv("XDG_RUNTIME_DIR"))
		w = snprintf(buf, size, "%s/gpuaas/token", getenv("XDG_RUNTIME_DIR"));
	else {
		char dir[4096];
		if (paths_user_state_dir(dir, sizeof dir) < 0)
			return -1;
		w = snprintf(buf, size, "%s/token", dir);
	}
	return (w < 0 || (size_t)w >= size) ? -1 : 0;
}

char *token_load(struct ctl *c)
{
	const char *env = getenv("GPUAAS_TOKEN");
	if (env && *env) {
		char *t = strdup(env);
		if (t)
			t[strcspn(t, "\r\n")] = '\0';
		return t;
	}
	char path[4096];
	if (token_path(path, sizeof path) < 0) {
		snprintf(c->err, sizeof c->err, "cannot work out the token file path");
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(c->err, sizeof c->err, "not logged in: run `gpuctl login`");
		else if (errno == ELOOP)
			snprintf(c->err, sizeof c->err, "refusing token file %s: it is a symlink", path);
		else
			snprintf(c->err, sizeof c->err, "cannot read token file %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char *tok = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(c->err, sizeof c->err, "refusing token file %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != getuid()) {
		snprintf(c->err, sizeof c->err, "refusing token file %s: owned by uid %u, not you", path,
			(unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(c->err, sizeof c->err,
			"refusing token file %s: readable by others (mode %03o); run `chmod 600 %s` or `gpuctl login`",
			path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > 8192) {
		snprintf(c->err, sizeof c->err, "not logged in: token file %s is empty or damaged; run `gpuctl login`",
			path);
		goto out;
	}
	tok = calloc(1, (size_t)st.st_size + 1);
	if (!tok)
		goto out;
	ssize_t n = read(fd, tok, (size_t)st.st_size);
	if (n <= 0) {
		free(tok);
		tok = NULL;
		snprintf(c->err, sizeof c->err, "cannot read token file %s", path);
		goto out;
	}
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
out:
	close(fd);
	return tok;
}

int token_store(struct ctl *c, const char *token)
{
	char path[4096], dir[4096], tmp[4200];
	if (token_path(path, sizeof path) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (paths_mkdir_p(dir, 0700) < 0) {
			snprintf(c->err, sizeof c->err, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
		struct stat st;
		if (stat(dir, &st) == 0 && st.st_uid == getuid() && (st.st_mode & 077) && !getenv("GPUAAS_TOKEN_FILE"))
			chmod(dir, 0700);
	}
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(c->err, sizeof c->err, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(token);
	bool ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		snprintf(c->err, sizeof c->err, "cannot write token file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int token_remove(struct ctl *c)
{
	char path[4096];
	if (token_path(path, sizeof path) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(c->err, sizeof c->err, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
