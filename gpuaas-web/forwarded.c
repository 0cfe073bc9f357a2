/* X-Forwarded-For from trusted proxies only (see forwarded.h). */
#include "gpuaas-web/forwarded.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void net_addr_v4(const void *in_addr, struct net_addr *out)
{
	memset(out->b, 0, 10);
	out->b[10] = out->b[11] = 0xff;
	memcpy(out->b + 12, in_addr, 4);
}

bool net_addr_of(const struct sockaddr *sa, struct net_addr *out)
{
	if (sa && sa->sa_family == AF_INET) {
		net_addr_v4(&((const struct sockaddr_in *)sa)->sin_addr, out);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out->b, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
		return true;
	}
	return false;
}

bool net_addr_parse(const char *text, size_t len, struct net_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	while (len && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	struct in_addr v4;
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		net_addr_v4(&v4, out);
		return true;
	}
	return inet_pton(AF_INET6, buf, out->b) == 1;
}

void net_addr_format(const struct net_addr *a, char *buf, size_t size)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool v4 = memcmp(a->b, mapped, sizeof mapped) == 0;
	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a->b + 12 : a->b, buf, (socklen_t)size) && size)
		buf[0] = '\0';
}

int proxy_set_parse(struct proxy_set *set, const char *list, char *err, size_t errlen)
{
	set->n = 0;
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (set->n == FORWARDED_MAX_PROXIES) {
			snprintf(err, errlen, "--trusted-proxy takes at most %d addresses", FORWARDED_MAX_PROXIES);
			return -1;
		}
		if (!net_addr_parse(p, len, &set->addr[set->n])) {
			snprintf(err, errlen, "--trusted-proxy: '%.*s' is not an IPv4 or IPv6 address", (int)(len > 64 ? 64 : len),
				p);
			return -1;
		}
		set->n++;
		p += len + (comma ? 1 : 0);
		if (comma && !*p) {
			snprintf(err, errlen, "--trusted-proxy: an address is missing after the last comma");
			return -1;
		}
	}
	return 0;
}

bool proxy_set_has(const struct proxy_set *set, const struct net_addr *a)
{
	for (size_t i = 0; i < set->n; i++)
		if (memcmp(set->addr[i].b, a->b, sizeof a->b) == 0)
			return true;
	return false;
}

struct net_addr forwarded_client(const struct proxy_set *set, const struct net_addr *peer, const char *xff)
{
	struct net_addr client = *peer;
	if (!xff || !proxy_set_has(set, peer))
		return client;
	/* From the right: each hop is an address a trusted proxy saw. */
	const char *end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;
		while (start > xff && start[-1] != ',')
			start--;
		struct net_addr hop;
		if (!net_addr_parse(start, (size_t)(end - start), &hop))
			break; /* garbage: keep the last address known to be right */
		client = hop;
		if (!proxy_set_has(set, &hop))
			break;
		end = start > xff ? start - 1 : start;
	}
	return client;
}
