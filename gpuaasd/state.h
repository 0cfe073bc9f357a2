/* The daemon's shared state: one struct handed to every layer that needs
 * more than its own module (config, inventory, the database, the loop, the
 * services). It is only data; daemon.c builds it and tears it down. */
#ifndef GPUAAS_GPUAASD_STATE_H
#define GPUAAS_GPUAASD_STATE_H

#include <stdbool.h>

#include "gpuaasd/auth.h"
#include "gpuaasd/config.h"
#include "gpuaasd/inventory.h"
#include "gpuaasd/tokencache.h"

struct loop;
struct db;
struct batch;
struct hasher;
struct server;
struct dispatcher;
struct park;
struct sched;
struct ratelimit;
struct executor;
struct expiry;

struct daemon {
	struct config cfg;
	struct inventory inv;
	const struct executor *executor; /* chosen by cfg.executor */
	struct loop *loop;
	struct db *db;
	struct batch *batch;
	struct hasher *hasher;
	struct server *server;
	struct dispatcher *disp;
	struct park *park;
	struct sched *sched;
	struct expiry *expiry;
	struct ratelimit *logins;
	struct auth_key key;
	struct token_cache tokens; /* tokens whose signature was checked */
	/* A real bcrypt hash at the configured cost that no password matches:
	 * logins for unknown users verify against it, so they cost the same. */
	char dummy_hash[128];
	/* Live auto-approval rules, or -1 when unknown (after a change): most
	 * daemons have none, and then a submit asks the database nothing. */
	int64_t rules_live;
	int signal_fd;
	bool socket_created; /* ours to unlink at a clean stop */
};

#endif
