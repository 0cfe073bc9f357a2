#include "gpuaas-web/request.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gpuaas-web/loop.h"
#include "gpuaas-web/upstream.h"
#include "gpuaas-web/web.h"

struct request *request_create(struct web *w, struct MHD_Connection *conn, const char *target)
{
	struct request *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->target = strdup(target ? target : "");
	if (!r->target) {
		free(r);
		return NULL;
	}
	r->w = w;
	r->conn = conn;
	r->t0_ns = loop_now_ns();
	r->route.id = R_NONE;
	r->route.label = "other";
	return r;
}

void request_destroy(struct request *r)
{
	if (!r)
		return;
	upstream_cancel(r->call);
	free(r->target);
	query_free(&r->query);
	if (r->body.data)
		strbuf_finish(&r->body);
	free(r->reply);
	free(r);
}

void request_suspend(struct request *r)
{
	if (r->suspended)
		return;
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	r->w->suspended++;
}

void request_resume(struct request *r)
{
	if (!r->suspended)
		return;
	MHD_resume_connection(r->conn);
	r->suspended = false;
	r->w->suspended--;
}

void request_take_body(struct request *r, const char *data, size_t len)
{
	if (r->body_too_large || r->body.len + len > REQUEST_BODY_MAX) {
		r->body_too_large = true;
		r->body_discarded += len;
		return;
	}
	if (!r->body.data)
		strbuf_init(&r->body, 0);
	strbuf_add(&r->body, data, len);
}

const char *request_header(const struct request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The client's address: the peer, or behind a trusted proxy the address
 * its X-Forwarded-For names (forwarded.h). False when the peer is not an
 * IP address (a Unix socket from systemd). */
static bool client_addr(const struct request *r, struct net_addr *out)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct net_addr peer;
	if (!net_addr_of(ci ? ci->client_addr : NULL, &peer))
		return false;
	*out = r->w->proxies.n ? forwarded_client(&r->w->proxies, &peer, request_header(r, "X-Forwarded-For")) : peer;
	return true;
}

void request_client(const struct request *r, char *buf, size_t size)
{
	struct net_addr a;
	buf[0] = '\0';
	if (client_addr(r, &a))
		net_addr_format(&a, buf, size);
}

int request_client_key(const struct request *r, unsigned char key[16])
{
	struct net_addr a;
	memset(key, 0, 16);
	if (!client_addr(r, &a))
		return -1;
	/* IPv4 whole; IPv6 by its /64, which one host usually holds entirely. */
	bool mapped = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a.b);
	memcpy(key, a.b, mapped ? 16 : 8);
	return 0;
}
