/* The client behind a trusted reverse proxy.
 *
 * Behind nginx or another proxy every connection comes from the proxy, so
 * the per-address login throttle would lock every user out at once, and the
 * access log would name the proxy. With --trusted-proxy ADDR[,ADDR...] the
 * gateway believes X-Forwarded-For, but only on a connection from one of
 * those addresses, and only as far as the proxies go: the header is read
 * from the right (each proxy appends the address it saw), trusted proxies
 * are skipped, and the first other address is the client. Anything the
 * client itself wrote further left is never believed. A malformed entry
 * stops the walk at the last address known to be right. Pure: no I/O. */
#ifndef GPUAAS_WEB_FORWARDED_H
#define GPUAAS_WEB_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>

#define FORWARDED_MAX_PROXIES 16

/* An address as 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d). */
struct net_addr {
	unsigned char b[16];
};

struct proxy_set {
	struct net_addr addr[FORWARDED_MAX_PROXIES];
	size_t n;
};

/* Parses "ADDR[,ADDR...]" (IPv4 or IPv6, spaces allowed after commas).
 * 0, or -1 with the reason in err. */
int proxy_set_parse(struct proxy_set *set, const char *list, char *err, size_t errlen);
bool proxy_set_has(const struct proxy_set *set, const struct net_addr *a);
struct sockaddr;
/* A connection's peer address; false when it is not IPv4 or IPv6. */
bool net_addr_of(const struct sockaddr *sa, struct net_addr *out);
/* Parses one textual address; false when it is none. */
bool net_addr_parse(const char *text, size_t len, struct net_addr *out);
/* Writes a as text (IPv4 for a mapped address). */
void net_addr_format(const struct net_addr *a, char *buf, size_t size);
/* The client's address given the connection's peer and its X-Forwarded-For
 * header (NULL when absent): the peer itself unless it is a trusted proxy. */
struct net_addr forwarded_client(const struct proxy_set *set, const struct net_addr *peer, const char *xff);

#endif
