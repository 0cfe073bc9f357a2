/* Static files under --web-root (the dashboard): no way out of the root
 * (".." and "." segments are refused after percent-decoding, so %2e%2e is
 * "..", hidden files are not served, and files are opened with
 * openat2(RESOLVE_BENEATH), which refuses symlinks leading out), MIME
 * types by extension, strong ETags and 304, gzip for text when the client
 * accepts it (a precompressed FILE.gz next to the file, else compressed on
 * the fly). */
#ifndef GPUAAS_WEB_STATICS_H
#define GPUAAS_WEB_STATICS_H

#include <microhttpd.h>
#include <stddef.h>

struct statics;
struct request;

/* Opens the root directory. NULL with a message in err. */
struct statics *statics_open(const char *root, char *err, size_t errlen);
/* Closes it; NULL is a no-op. */
void statics_close(struct statics *s);
/* Answers a GET or HEAD of the request's path. */
enum MHD_Result statics_serve(struct statics *s, struct request *r);
/* The MIME type of a file name, by its extension. */
const char *statics_mime(const char *name);
/* Turns a raw URL path into a path relative to the root ("" for the root
 * itself; a trailing '/' adds "index.html"). 0, or -1 when it is not one
 * to serve (escapes, "..", ".", hidden names, NUL, too long). */
int statics_rel_path(const char *raw, size_t len, char *out, size_t size);

#endif
