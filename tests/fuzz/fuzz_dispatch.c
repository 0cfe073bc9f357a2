/* libFuzzer: one request frame through the whole dispatcher (parse, gates,
 * handlers, SQLite, scheduler) against a real database in a tmpfs dir.
 * "@ADMIN@", "@USER@" and "@OLD@" in the input are replaced by a valid admin
 * token, a valid user token and a revoked one, so every op is reached with
 * and without a good token. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/auth.h"
#include "gpuaasd/daemon.h"
#include "gpuaasd/db.h"
#include "gpuaasd/dispatch.h"
#include "gpuaasd/hasher.h"
#include "gpuaasd/park.h"
#include "gpuaasd/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon d;
static char *tok_admin, *tok_user, *tok_old;

static char *token_for(int64_t uid, const char *name, int64_t tv)
{
	struct token_claims c = {.uid = uid, .token_version = tv, .iat = time(NULL), .exp = time(NULL) + 86400};
	snprintf(c.username, sizeof c.username, "%s", name);
	char *t = NULL;
	if (auth_token_issue(&d.key, &c, &t) < 0)
		abort();
	return t;
}

/* The daemon as gpuaasd wires it (daemon_init_core), on a tmpfs state dir,
 * with an admin and a user whose tokens the input can name. */
static void setup(void)
{
	char dir[] = "/dev/shm/gpuaas-fuzz-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	setenv("GPUAAS_INITIAL_ADMIN_PASSWORD", "fuzz-admin-pw", 1);
	config_init(&d.cfg);
	free(d.cfg.state_dir);
	d.cfg.state_dir = strdup(dir);
	d.cfg.bcrypt_cost = 4;
	d.cfg.sim_time_scale = 0.001;
	d.cfg.login_max_failures = 1000000;
	log_set_level(LOG_ERROR + 0);
	char err[512];
	if (daemon_configure(&d, err, sizeof err) < 0 || daemon_init_core(&d, 1, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz setup: %s\n", err);
		abort();
	}
	char h[128];
	auth_hash_password("pw", 4, h, sizeof h);
	int64_t user;
	if (db_begin(d.db) < 0 || db_user_insert(d.db, "alice", h, false, 100000, time(NULL), 0, &user) != 0 ||
	    db_commit(d.db) < 0)
		abort();
	tok_admin = token_for(1, "admin", 1);
	tok_user = token_for(user, "alice", 1);
	tok_old = token_for(user, "alice", 0);
}

/* Replaces every occurrence of pat in s (size n) by rep; malloc'd result. */
static char *replace_all(const char *s, size_t n, const char *pat, const char *rep, size_t *out_n)
{
	size_t pl = strlen(pat), rl = strlen(rep), count = 0;
	for (size_t i = 0; i + pl <= n; i++)
		if (memcmp(s + i, pat, pl) == 0)
			count++, i += pl - 1;
	char *out = malloc(n + count * rl + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (i + pl <= n && memcmp(s + i, pat, pl) == 0) {
			memcpy(out + o, rep, rl);
			o += rl;
			i += pl;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	*out_n = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	if (size == 0 || size > 65536)
		return 0;
	size_t n1, n2, n3;
	char *a = replace_all((const char *)data, size, "@ADMIN@", tok_admin, &n1);
	char *b = a ? replace_all(a, n1, "@USER@", tok_user, &n2) : NULL;
	char *c = b ? replace_all(b, n2, "@OLD@", tok_old, &n3) : NULL;
	if (c) {
		struct request *r = calloc(1, sizeof *r);
		if (r) {
			/* No client: the reply is built, checked and dropped. */
			dispatch_request(d.disp, r, c, n3);
			hasher_drain(d.hasher);
			daemon_round(&d);
			park_abandon_all(d.park);
			daemon_round(&d);
		}
	}
	free(a);
	free(b);
	free(c);
	return 0;
}
