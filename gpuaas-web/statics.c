#include "gpuaas-web/statics.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "common/log.h"
#include "gpuaas-web/query.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"

#define PATH_MAX_LEN 1024
#define GZIP_MAX_INPUT (4u << 20) /* larger text files are sent as they are */
#define GZIP_MIN_INPUT 256

struct statics {
	int root_fd;
};

static const struct {
	const char *ext, *type;
	bool text;
} mime_types[] = {
	{"html", "text/html; charset=utf-8", true}, {"htm", "text/html; charset=utf-8", true},
	{"css", "text/css; charset=utf-8", true}, {"js", "text/javascript; charset=utf-8", true},
	{"mjs", "text/javascript; charset=utf-8", true}, {"json", "application/json", true},
	{"map", "application/json", true}, {"svg", "image/svg+xml", true}, {"txt", "text/plain; charset=utf-8", true},
	{"yaml", "application/yaml", true}, {"webmanifest", "application/manifest+json", true},
	{"xml", "application/xml", true}, {"png", "image/png", false}, {"jpg", "image/jpeg", false},
	{"jpeg", "image/jpeg", false}, {"gif", "image/gif", false}, {"webp", "image/webp", false},
	{"avif", "image/avif", false}, {"ico", "image/vnd.microsoft.icon", false}, {"woff", "font/woff", false},
	{"woff2", "font/woff2", false}, {"ttf", "font/ttf", false}, {"otf", "font/otf", false},
	{"wasm", "application/wasm", false}, {"pdf", "application/pdf", false},
};

static int mime_index(const char *name)
{
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
	if (!dot || (slash && dot < slash))
		return -1;
	for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
		if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
			return (int)i;
	return -1;
}

const char *statics_mime(const char *name)
{
	int i = mime_index(name);
	return i < 0 ? "application/octet-stream" : mime_types[i].type;
}

struct statics *statics_open(const char *root, char *err, size_t errlen)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--web-root %s: %s", root, strerror(errno));
		return NULL;
	}
	struct statics *s = malloc(sizeof *s);
	if (!s) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->root_fd = fd;
	return s;
}

void statics_close(struct statics *s)
{
	if (!s)
		return;
	close(s->root_fd);
	free(s);
}

/* Appends one decoded segment; -1 for names never served. */
static int add_segment(char *seg, size_t n, char *out, size_t size, size_t *off)
{
	ssize_t d = pct_decode(seg, n, false);
	if (d < 0)
		return -1;
	if (d == 0)
		return 0; /* "//" */
	if (seg[0] == '.' || memchr(seg, '/', (size_t)d) || memchr(seg, '\\', (size_t)d))
		return -1; /* ".", "..", hidden files, and separators smuggled in as %2f */
	if (*off + (size_t)d + 2 > size)
		return -1;
	if (*off)
		out[(*off)++] = '/';
	memcpy(out + *off, seg, (size_t)d);
	*off += (size_t)d;
	out[*off] = '\0';
	return 0;
}

int statics_rel_path(const char *raw, size_t len, char *out, size_t size)
{
	char buf[PATH_MAX_LEN + 1];
	size_t off = 0;
	out[0] = '\0';
	if (len == 0 || raw[0] != '/' || len > PATH_MAX_LEN || size < 16)
		return -1;
	memcpy(buf, raw, len);
	buf[len] = '\0';
	for (size_t start = 1, i = 1; i <= len; i++) {
		if (i < len && buf[i] != '/')
			continue;
		if (add_segment(buf + start, i - start, out, size, &off) < 0)
			return -1;
		start = i + 1;
	}
	if (raw[len - 1] == '/' && off + sizeof "/index.html" <= size) {
		snprintf(out + off, size - off, "%sindex.html", off ? "/" : "");
	}
	return 0;
}

/* Opens rel beneath dir: symlinks are followed only while they stay inside. */
static int open_beneath(int dir, const char *rel)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, dir, rel, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS) /* before Linux 5.6: no symlinks at all */
		fd = openat(dir, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	return (int)fd;
}

/* Opens the file to send, a regular file, with st filled: 0 and *fd; 1
 * when rel is a directory (to be asked for with a trailing '/'); -1 when
 * there is nothing to send. */
static int open_file(struct statics *s, const char *rel, int *fd, struct stat *st)
{
	*fd = open_beneath(s->root_fd, *rel ? rel : ".");
	if (*fd < 0)
		return -1;
	int rc = fstat(*fd, st) < 0 ? -1 : S_ISDIR(st->st_mode) ? 1 : S_ISREG(st->st_mode) ? 0 : -1;
	if (rc != 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

static void etag_of(const struct stat *st, const char *variant, char *buf, size_t size)
{
	snprintf(buf, size, "\"%llx-%llx-%llx%s\"", (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
		(unsigned long long)st->st_mtim.tv_sec * 1000000000ull + (unsigned long long)st->st_mtim.tv_nsec, variant);
}

/* True when If-None-Match names etag (or is "*"). */
static bool not_modified(const struct request *r, const char *etag)
{
	const char *inm = request_header(r, "If-None-Match");
	if (!inm)
		return false;
	size_t n = strlen(etag);
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' || strncmp(p, etag, n) == 0)
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

/* True when Accept-Encoding allows gzip (a q of 0 refuses it). */
static bool accepts_gzip(const struct request *r)
{
	const char *ae = request_header(r, "Accept-Encoding");
	for (const char *p = ae; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",;");
		bool gz = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
		const char *end = p + strcspn(p, ",");
		const char *q = strstr(p, "q=");
		bool zero = q && q < end && strtod(q + 2, NULL) == 0.0;
		if (gz)
			return !zero;
		p = end;
	}
	return false;
}

/* Reads and gzips the whole file. A malloc'd buffer, or NULL. */
static char *gzip_file(int fd, size_t size, size_t *out_len)
{
	char *in = malloc(size ? size : 1), *out = NULL;
	size_t got = 0;
	while (in && got < size) {
		ssize_t n = pread(fd, in + got, size - got, (off_t)got);
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	z_stream z = {0};
	if (!in || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		goto fail;
	uLong cap = deflateBound(&z, (uLong)size);
	out = malloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)size;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	int rc = out ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		goto fail;
	free(in);
	return out;
fail:
	free(in);
	free(out);
	return NULL;
}

/* The body: the precompressed FILE.gz, the file gzipped now, or the file. */
static struct MHD_Response *body_of(struct statics *s, const char *rel, int fd, const struct stat *st, bool gzip,
	bool *gzipped, char *etag, size_t etag_size)
{
	*gzipped = false;
	etag_of(st, "", etag, etag_size);
	if (gzip) {
		char gz[PATH_MAX_LEN + 16];
		struct stat gst;
		snprintf(gz, sizeof gz, "%s.gz", *rel ? rel : "index.html");
		int gfd = strlen(rel) + 4 < sizeof gz ? open_beneath(s->root_fd, gz) : -1;
		if (gfd >= 0 && fstat(gfd, &gst) == 0 && S_ISREG(gst.st_mode)) {
			*gzipped = true;
			etag_of(&gst, "-gz", etag, etag_size);
			return MHD_create_response_from_fd64((uint64_t)gst.st_size, gfd);
		}
		if (gfd >= 0)
			close(gfd);
		size_t len = 0;
		char *z = st->st_size >= GZIP_MIN_INPUT && (size_t)st->st_size <= GZIP_MAX_INPUT ?
			gzip_file(fd, (size_t)st->st_size, &len) : NULL;
		if (z) {
			*gzipped = true;
			etag_of(st, "-z", etag, etag_size);
			return MHD_create_response_from_buffer(len, z, MHD_RESPMEM_MUST_FREE);
		}
	}
	return NULL;
}

static int add_headers(struct MHD_Response *resp, const char *type, const char *etag, bool text, bool gzipped)
{
	int bad = MHD_add_response_header(resp, "ETag", etag) != MHD_YES;
	bad |= MHD_add_response_header(resp, "Cache-Control", "no-cache") != MHD_YES;
	if (type)
		bad |= MHD_add_response_header(resp, "Content-Type", type) != MHD_YES;
	if (text)
		bad |= MHD_add_response_header(resp, "Vary", "Accept-Encoding") != MHD_YES;
	if (gzipped)
		bad |= MHD_add_response_header(resp, "Content-Encoding", "gzip") != MHD_YES;
	return bad ? -1 : 0;
}

/* Sends the open file fd (taken). */
static enum MHD_Result send_file(struct statics *s, struct request *r, const char *rel, int fd, const struct stat *st)
{
	int mi = mime_index(*rel ? rel : "index.html");
	bool text = mi >= 0 && mime_types[mi].text, gzipped = false;
	char etag[96];
	struct MHD_Response *resp = body_of(s, rel, fd, st, text && accepts_gzip(r), &gzipped, etag, sizeof etag);
	unsigned status = 200;
	if (not_modified(r, etag)) {
		if (resp)
			MHD_destroy_response(resp);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = 304;
		close(fd);
	} else if (resp) {
		close(fd);
	} else {
		resp = MHD_create_response_from_fd64((uint64_t)st->st_size, fd); /* takes fd */
		if (!resp)
			close(fd);
	}
	if (!resp)
		return MHD_NO;
	const char *type = status == 304 ? NULL : mi < 0 ? "application/octet-stream" : mime_types[mi].type;
	if (add_headers(resp, type, etag, text, gzipped) < 0) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, status, resp);
}

/* 301 to the directory's URL with a trailing '/'. */
static enum MHD_Result redirect_dir(struct request *r, size_t path_len)
{
	if (path_len >= 2 && r->target[1] == '/') /* "//host" would send the browser elsewhere */
		return respond_error(r, 404, ST_NOT_FOUND, "no such file");
	char *loc = malloc(path_len + 2);
	if (!loc)
		return MHD_NO;
	memcpy(loc, r->target, path_len);
	memcpy(loc + path_len, "/", 2);
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_NO;
	if (resp && MHD_add_response_header(resp, "Location", loc) == MHD_YES)
		ret = respond_queue(r, 301, resp);
	else if (resp)
		MHD_destroy_response(resp);
	free(loc);
	return ret;
}

enum MHD_Result statics_serve(struct statics *s, struct request *r)
{
	char rel[PATH_MAX_LEN + 16];
	size_t len = strcspn(r->target, "?#");
	if (!s)
		return respond_error(r, 404, ST_NOT_FOUND, "no such page (no web root is configured)");
	if (statics_rel_path(r->target, len, rel, sizeof rel) < 0)
		return respond_error(r, 404, ST_NOT_FOUND, "no such file");
	struct stat st;
	int fd, rc = open_file(s, rel, &fd, &st);
	if (rc == 1)
		return redirect_dir(r, len);
	if (rc < 0)
		return respond_error(r, 404, ST_NOT_FOUND, "no such file");
	return send_file(s, r, rel, fd, &st);
}
