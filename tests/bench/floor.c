/* gpuaas-floor: the reference for whole-process client cost. It does the
 * least a client can do for one request: read the cached token, connect to
 * the Unix socket, send one frame, read one frame, print the reply, exit.
 * Only libc; no JSON library, no peer check, no option table. gpuctl's
 * one-shot commands are measured against it (tests/bench/run.sh).
 *
 *   gpuaas-floor SOCKET OP [ARGS_JSON]
 *
 * The token comes from $GPUAAS_TOKEN_FILE when it is set (as gpuctl's
 * does); OP is a wire op ("sys.ping", "job.submit"); ARGS_JSON is the args
 * object, verbatim. Exit 0 when the reply says "ok":true, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FLOOR_MAX (1u << 20)

/* Reads the whole token file into tok (without the newline): its length, or -1. */
static int read_token(const char *path, char *tok, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, tok, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	return (int)strlen(tok);
}

/* Writes or reads exactly len bytes; 0 or -1. */
static int full_io(int fd, char *buf, size_t len, int writing)
{
	while (len > 0) {
		ssize_t n = writing ? write(fd, buf, len) : read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One round trip of req on fd; the reply (malloc'd) in *out. 0 or -1. */
static int round_trip(int fd, char *req, size_t len, char **out, size_t *outlen)
{
	unsigned char hdr[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len};
	if (full_io(fd, (char *)hdr, 4, 1) < 0 || full_io(fd, req, len, 1) < 0 || full_io(fd, (char *)hdr, 4, 0) < 0)
		return -1;
	size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > FLOOR_MAX)
		return -1;
	char *buf = malloc(n + 1);
	if (!buf)
		return -1;
	if (full_io(fd, buf, n, 0) < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: gpuaas-floor SOCKET OP [ARGS_JSON]\n");
		return 2;
	}
	char tok[8192] = "", req[16384];
	const char *tf = getenv("GPUAAS_TOKEN_FILE");
	int have_tok = tf && *tf && read_token(tf, tok, sizeof tok) > 0;
	int len = snprintf(req, sizeof req, "{\"v\":1,\"id\":1,\"op\":\"%s\"%s%s%s,\"args\":%s}", argv[2],
		have_tok ? ",\"token\":\"" : "", have_tok ? tok : "", have_tok ? "\"" : "", argc == 4 ? argv[3] : "{}");
	if (len < 0 || (size_t)len >= sizeof req)
		return 2;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(argv[1]) >= sizeof addr.sun_path)
		return 2;
	strcpy(addr.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("gpuaas-floor: connect");
		return 7;
	}
	char *reply = NULL;
	size_t n = 0;
	if (round_trip(fd, req, (size_t)len, &reply, &n) < 0) {
		fprintf(stderr, "gpuaas-floor: lost the connection\n");
		return 7;
	}
	reply[n] = '\n';
	int ok = strstr(reply, "\"ok\":true") != NULL;
	if (full_io(1, reply, n + 1, 1) < 0)
		ok = 0;
	free(reply);
	close(fd);
	return ok ? 0 : 1;
}
