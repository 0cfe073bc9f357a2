/* The current token's cache (FILES in gpuctl(1), docs/man/gpuctl.1.tail.scd):
 * a 0600 file in a 0700 dir, written atomically; a cache that is a symlink,
 * not ours or readable by others is refused. $GPUAAS_TOKEN wins over the
 * file. The same checks guard every account's file (accounts.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "gpuctl/ctl.h"

#define TOKEN_MAX_BYTES 8192

int token_path(char *buf, size_t size)
{
	const char *env = getenv("GPUAAS_TOKEN_FILE");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int w;
	if (env && *env)
		w = snprintf(buf, size, "%s", env);
	else if (xdg && *xdg)
		w = snprintf(buf, size, "%s/gpuaas/token", xdg);
	else {
		char dir[4096];
		if (paths_user_state_dir(dir, sizeof dir) < 0)
			return -1;
		w = snprintf(buf, size, "%s/token", dir);
	}
	return (w < 0 || (size_t)w >= size) ? -1 : 0;
}

/* Checks an open token file: a regular file of ours that nobody else may
 * read, of a sane size. 0, or -1 with c->err set. */
static int check_file(struct ctl *c, int fd, const char *path, struct stat *st)
{
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(c->err, sizeof c->err, "refusing token file %s: not a regular file", path);
		return -1;
	}
	if (st->st_uid != getuid()) {
		snprintf(c->err, sizeof c->err, "refusing token file %s: owned by uid %u, not you", path,
			(unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & 077) {
		snprintf(c->err, sizeof c->err,
			"refusing token file %s: readable by others (mode %03o); run `chmod 600 %s` or `gpuctl login`", path,
			(unsigned)(st->st_mode & 0777), path);
		return -1;
	}
	if (st->st_size <= 0 || st->st_size > TOKEN_MAX_BYTES) {
		snprintf(c->err, sizeof c->err, "not logged in: token file %s is empty or damaged; run `gpuctl login`",
			path);
		return -1;
	}
	return 0;
}

char *token_read_file(struct ctl *c, const char *path, bool *missing)
{
	*missing = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*missing = errno == ENOENT;
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
	if (check_file(c, fd, path, &st) < 0)
		goto out;
	tok = calloc(1, (size_t)st.st_size + 1);
	if (!tok) {
		snprintf(c->err, sizeof c->err, "out of memory");
		goto out;
	}
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
	bool missing;
	return token_read_file(c, path, &missing);
}

/* Creates path's directory (0700) when the file is in one of its own. */
static int make_dir_of(struct ctl *c, const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (paths_mkdir_p(dir, 0700) < 0) {
		snprintf(c->err, sizeof c->err, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(dir, &st) == 0 && st.st_uid == getuid() && (st.st_mode & 077) && !getenv("GPUAAS_TOKEN_FILE") &&
	    chmod(dir, 0700) < 0) {
		snprintf(c->err, sizeof c->err, "cannot make %s private: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int token_write_file(struct ctl *c, const char *path, const char *token)
{
	char tmp[4200];
	if (make_dir_of(c, path) < 0)
		return -1;
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

int token_store(struct ctl *c, const char *token)
{
	char path[4096];
	if (token_path(path, sizeof path) < 0) {
		snprintf(c->err, sizeof c->err, "cannot work out the token file path");
		return -1;
	}
	return token_write_file(c, path, token);
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
