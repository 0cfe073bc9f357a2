/* The daemon's shared state, handed to every layer that needs more than its
 * own module. Owned by main.c. */
#ifndef GPUAAS_GPUAASD_DAEMON_H
#define GPUAAS_GPUAASD_DAEMON_H

#include "gpuaasd/auth.h"
#include "gpuaasd/config.h"
#include "gpuaasd/inventory.h"

struct loop;
struct db;
struct hasher;
struct server;
struct dispatcher;
struct sched;
struct ratelimit;

struct daemon {
	struct config cfg;
	struct loop *loop;
	struct db *db;
	struct hasher *hasher;
	struct server *server;
	struct dispatcher *disp;
	struct sched *sched;
	struct ratelimit *logins;
	struct auth_key key;
	struct inventory inv;
	/* A real bcrypt hash at the configured cost that no password matches:
	 * logins for unknown users verify against it, so they cost the same. */
	char dummy_hash[128];
};

#endif
