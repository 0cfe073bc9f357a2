/* One cached token per daemon and account, beside the current token's
 * file: <token file>.accounts/<daemon>/<user>, where <daemon> is the
 * socket path with every byte other than letters, digits, '.', '_' and '-'
 * written %XX. `gpuctl login` keeps the new token there too and makes it
 * current; `gpuctl switch NAME` copies NAME's back into the current file.
 * Every file gets the token cache's checks (token.c); every directory must
 * be ours and closed to others (0700), else it is refused. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "gpuctl/ctl.h"

#define KEY_MAX 200 /* bytes of the escaped socket path kept in a file name */

/* The socket path as one file name: escaped, and when that is longer than
 * KEY_MAX, cut and ended with a hash of the whole path. */
static void daemon_key(const char *sock, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3 * 4096 + 1];
	size_t o = 0;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = sock; *p && o + 4 < sizeof esc; p++) {
		unsigned char ch = (unsigned char)*p;
		h = (h ^ ch) * 1099511628211ULL;
		bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    ch == '.' || ch == '_' || ch == '-';
		if (keep) {
			esc[o++] = (char)ch;
		} else {
			esc[o++] = '%';
			esc[o++] = hex[ch >> 4];
			esc[o++] = hex[ch & 15];
		}
	}
	esc[o] = '\0';
	if (o <= KEY_MAX)
		snprintf(buf, size, "%s", esc);
	else
		snprintf(buf, size, "%.*s~%016llx", KEY_MAX - 17, esc, (unsigned long long)h);
}

/* This daemon's account directory into buf. 0 or -1 (c->err set). */
static int account_dir(struct ctl *c, char *buf, size_t size)
{
	char tok[4096], key[KEY_MAX + 32];
	if (token_path(tok, sizeof tok) < 0) {
		snprintf(c->err, sizeof c->err, "cannot work out the token file path");
		return -1;
	}
	daemon_key(c->socket_path, key, sizeof key);
	int w = snprintf(buf, size, "%s.accounts/%s", tok, key);
	if (w < 0 || (size_t)w >= size) {
		snprintf(c->err, sizeof c->err, "token file path too long");
		return -1;
	}
	return 0;
}

/* Refuses a directory that is a symlink, not ours, or open to others. */
static int check_dir(struct ctl *c, const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0) {
		snprintf(c->err, sizeof c->err, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		snprintf(c->err, sizeof c->err, "refusing account directory %s: it must be a directory of yours "
			"with mode 0700", dir);
		return -1;
	}
	return 0;
}

/* Checks this daemon's account directory and its parent (<token>.accounts). */
static int check_dirs(struct ctl *c, const char *dir)
{
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	return check_dir(c, parent) < 0 || check_dir(c, dir) < 0 ? -1 : 0;
}

/* The file of user's account into buf; user must be a plain name. */
static int account_file(struct ctl *c, const char *user, char *buf, size_t size, char *dir, size_t dsize)
{
	if (!*user || user[0] == '.' || strchr(user, '/') || strlen(user) > 64) {
		snprintf(c->err, sizeof c->err, "'%.64s' is not a user name", user);
		return -1;
	}
	if (account_dir(c, dir, dsize) < 0)
		return -1;
	int w = snprintf(buf, size, "%s/%s", dir, user);
	return w < 0 || (size_t)w >= size ? -1 : 0;
}

/* Creates dir and its parent (<token>.accounts) with mode 0700, and the
 * token file's directory above them as the token cache does. */
static int make_dirs(struct ctl *c, const char *dir)
{
	char parent[4400], top[4400];
	snprintf(parent, sizeof parent, "%s", dir);
	*strrchr(parent, '/') = '\0';
	snprintf(top, sizeof top, "%s", parent);
	char *slash = strrchr(top, '/');
	if (slash && slash != top) {
		*slash = '\0';
		if (paths_mkdir_p(top, 0700) < 0)
			goto fail;
	}
	if ((mkdir(parent, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		goto fail;
	return 0;
fail:
	snprintf(c->err, sizeof c->err, "cannot create %s: %s", dir, strerror(errno));
	return -1;
}

int account_save(struct ctl *c, const char *user, const char *token)
{
	char dir[4400], file[4500];
	if (account_file(c, user, file, sizeof file, dir, sizeof dir) < 0)
		return -1;
	if (make_dirs(c, dir) < 0)
		return -1;
	if (check_dirs(c, dir) < 0 || token_write_file(c, file, token) < 0)
		return -1;
	return token_store(c, token);
}

char *account_token(struct ctl *c, const char *user, bool *missing)
{
	char dir[4400], file[4500];
	*missing = false;
	if (account_file(c, user, file, sizeof file, dir, sizeof dir) < 0)
		return NULL;
	struct stat st;
	if (lstat(dir, &st) < 0 && errno == ENOENT) {
		*missing = true;
		return NULL;
	}
	if (check_dirs(c, dir) < 0)
		return NULL;
	return token_read_file(c, file, missing);
}

int account_forget(struct ctl *c, const char *user)
{
	char dir[4400], file[4500];
	if (account_file(c, user, file, sizeof file, dir, sizeof dir) < 0)
		return -1;
	if (unlink(file) < 0 && errno != ENOENT) {
		snprintf(c->err, sizeof c->err, "cannot remove %s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The account names in dir (malloc'd array of malloc'd names), sorted. */
static int read_names(struct ctl *c, const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	if (!d) {
		*out = NULL;
		if (errno == ENOENT)
			return 0;
		snprintf(c->err, sizeof c->err, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0))
			continue;
		char **nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
		char *name = nn ? strdup(e->d_name) : NULL;
		if (nn)
			names = nn;
		if (!name)
			break;
		names[n++] = name;
	}
	closedir(d);
	if (n > 1)
		qsort(names, (size_t)n, sizeof *names, cmp_names);
	*out = names;
	return n;
}

int account_list(struct ctl *c, void (*fn)(void *arg, const char *user, bool current), void *arg)
{
	char dir[4400], tok[4096];
	if (account_dir(c, dir, sizeof dir) < 0 || token_path(tok, sizeof tok) < 0)
		return -1;
	struct stat st;
	if (lstat(dir, &st) < 0 && errno == ENOENT)
		return 0;
	if (check_dirs(c, dir) < 0)
		return -1;
	char **names = NULL;
	int n = read_names(c, dir, &names);
	bool missing;
	char *current = token_read_file(c, tok, &missing);
	for (int i = 0; i < n; i++) {
		char *t = account_token(c, names[i], &missing);
		fn(arg, names[i], t && current && strcmp(t, current) == 0);
		free(t);
		free(names[i]);
	}
	free(names);
	free(current);
	c->err[0] = '\0';
	return n;
}

/* account_list's callback for account_current. */
static void note_current(void *arg, const char *user, bool current)
{
	char *buf = arg;
	if (current && !buf[0])
		snprintf(buf, 65, "%s", user);
}

void account_current(struct ctl *c, char *buf, size_t size)
{
	char name[65] = "";
	account_list(c, note_current, name);
	snprintf(buf, size, "%s", name);
}
