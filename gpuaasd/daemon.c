/* The daemon's life cycle: wiring the layers together in one place (the
 * redis initServer shape), the loop's before-wait round, signals and the
 * clean stop. main.c only parses options; the fuzz target calls the same
 * functions. */
#include "gpuaasd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "gpuaasd/batch.h"
#include "gpuaasd/db.h"
#include "gpuaasd/dispatch.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/expiry.h"
#include "gpuaasd/hasher.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/park.h"
#include "gpuaasd/ratelimit.h"
#include "gpuaasd/sched.h"
#include "gpuaasd/server.h"

static struct server_limits limits_from(const struct config *cfg)
{
	return (struct server_limits){
		.max_connections = (int)cfg->max_connections,
		.max_inflight = 128,
		.out_cap = 1u << 20,
		.idle_timeout_ms = cfg->idle_timeout * 1000,
		.frame_timeout_ms = cfg->frame_timeout * 1000,
		.write_timeout_ms = 30000,
	};
}

int daemon_configure(struct daemon *d, char *err, size_t errlen)
{
	d->signal_fd = -1;
	d->executor = exec_find(d->cfg.executor);
	if (!d->executor) {
		snprintf(err, errlen, "unknown executor '%s': valid executors are %s", d->cfg.executor, exec_names());
		return -1;
	}
	if (!d->executor->discovers_gpus || d->cfg.gpus_explicit) {
		if (inventory_parse(d->cfg.gpus, &d->inv, err, errlen) < 0)
			return -1;
		return inventory_set_weights(&d->inv, d->cfg.gpu_weights, err, errlen);
	}
	/* Real GPUs: ask nvidia-smi which there are. */
	int rc = inventory_discover(&d->inv, err, errlen);
	if (rc > 0)
		snprintf(err, errlen, "--executor %s: nvidia-smi not found; name the GPUs with --gpus TYPE:N",
			d->executor->name);
	if (rc != 0)
		return -1;
	char types[512];
	inventory_type_list(&d->inv, types, sizeof types);
	log_event(LOG_INFO, "gpus.discovered", "devices=%d types=\"%s\"", d->inv.ndevices, types);
	return inventory_set_weights(&d->inv, d->cfg.gpu_weights, err, errlen);
}

/* The state dir holds the key and every password hash: 0700, ours. */
static int prepare_state_dir(const char *dir, char *err, size_t errlen)
{
	if (paths_mkdir_p(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot create state dir %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state dir %s is not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "state dir %s belongs to uid %u, not to this daemon (uid %u)", dir,
			(unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot chmod 0700 %s: %s", dir, strerror(errno));
		return -1;
	}
	if (access(dir, W_OK) < 0) {
		snprintf(err, errlen, "state dir %s is not writable: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The first admin's password: from GPUAAS_INITIAL_ADMIN_PASSWORD, or random
 * and written to <state>/initial-admin-password (0600). */
static int initial_password(struct daemon *d, char *password, size_t size, bool *from_env, char *err,
	size_t errlen)
{
	const char *env = getenv("GPUAAS_INITIAL_ADMIN_PASSWORD");
	const char *why = NULL;
	*from_env = env && *env;
	if (*from_env) {
		if (!auth_password_acceptable(env, &why)) {
			snprintf(err, errlen, "GPUAAS_INITIAL_ADMIN_PASSWORD rejected: %s", why);
			return -1;
		}
		snprintf(password, size, "%s", env);
		return 0;
	}
	if (auth_random_password(password, 20) < 0) {
		snprintf(err, errlen, "cannot generate a password: %s", strerror(errno));
		return -1;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/initial-admin-password", d->cfg.state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t len = strlen(password);
	bool ok = fd >= 0 && write(fd, password, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The first start on an empty database creates the user "admin". */
static int ensure_admin(struct daemon *d, char *err, size_t errlen)
{
	int64_t n = 0;
	if (db_user_count(d->db, &n) < 0) {
		snprintf(err, errlen, "cannot count users");
		return -1;
	}
	if (n > 0)
		return 0;
	char password[128], hash[128];
	bool from_env = false;
	if (initial_password(d, password, sizeof password, &from_env, err, errlen) < 0)
		return -1;
	int rc = auth_hash_password(password, (int)d->cfg.bcrypt_cost, hash, sizeof hash);
	explicit_bzero(password, sizeof password);
	if (rc < 0) {
		snprintf(err, errlen, "cannot hash the initial admin password");
		return -1;
	}
	if (db_begin(d->db) < 0 || db_user_insert(d->db, "admin", hash, true, 0, time(NULL), 0, NULL) != 0 ||
	    db_commit(d->db) < 0) {
		db_rollback(d->db);
		snprintf(err, errlen, "cannot create the admin user");
		return -1;
	}
	if (from_env)
		log_event(LOG_INFO, "admin.created", "user=admin password=from-GPUAAS_INITIAL_ADMIN_PASSWORD");
	else
		log_event(LOG_INFO, "admin.created", "user=admin password_file=%s/initial-admin-password",
			d->cfg.state_dir);
	return 0;
}

static void reload_config(struct daemon *d)
{
	char err[1024];
	if (config_reload(&d->cfg, err, sizeof err) != CONFIG_OK) {
		log_event(LOG_ERROR, "config.reload_failed", "error=\"%s\"", err);
		return;
	}
	log_set_level(d->cfg.log_level);
	/* New weights apply to jobs submitted from now on (a job keeps its own). */
	if (inventory_set_weights(&d->inv, d->cfg.gpu_weights, err, sizeof err) < 0)
		log_event(LOG_ERROR, "config.reload_weights", "error=\"%s\" (the old weights stay)", err);
	struct server_limits lim = limits_from(&d->cfg);
	server_set_limits(d->server, &lim);
	ratelimit_configure(d->logins, (int)d->cfg.login_max_failures, d->cfg.login_lockout);
	park_set_limit(d->park, (int)d->cfg.max_parked_per_user);
	expiry_kick(d->expiry);
	log_event(LOG_INFO, "config.reloaded", "file=%s", d->cfg.config_path ? d->cfg.config_path : "-");
}

static void on_signal(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct daemon *d = data;
	(void)events;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_event(LOG_INFO, "daemon.stopping", "signal=%s", si.ssi_signo == SIGTERM ? "TERM" : "INT");
			server_stop_accepting(d->server);
			loop_stop(loop);
			break;
		case SIGHUP:
			reload_config(d);
			break;
		case SIGCHLD:
			sched_on_sigchld(d->sched);
			break;
		default:
			break;
		}
	}
}

/* Commits the batch and tells each layer, in order: held replies go out
 * first (a client's replies keep their order), then the scheduler acts on
 * what is durable, then parked requests are answered from it. */
static void commit(struct daemon *d)
{
	enum batch_result result = batch_commit(d->batch);
	if (d->disp)
		dispatch_after_commit(d->disp, result);
	if (result != BATCH_EMPTY)
		sched_after_commit(d->sched, result == BATCH_COMMITTED);
	if (result == BATCH_FAILED || result == BATCH_FAILED_TRANSIENT)
		d->rules_live = -1; /* a rolled-back rule change: count again */
	park_flush(d->park);
}

bool daemon_round(struct daemon *d)
{
	sched_pump(d->sched);
	commit(d);
	bool more = d->server ? server_flush(d->server) : false;
	return more || batch_is_open(d->batch);
}

static void wake_noop(struct loop *loop, void *data)
{
	(void)loop;
	(void)data;
}

/* Sending replies may let waiting frames in, whose writes need one more
 * commit: go round until quiet, a bounded number of times per wake-up. */
static void before_wait(struct loop *loop, void *data)
{
	struct daemon *d = data;
	for (int round = 0; round < 8; round++)
		if (!daemon_round(d))
			return;
	loop_timer_at(loop, 0, wake_noop, NULL);
}

int daemon_init_core(struct daemon *d, int hasher_threads, char *err, size_t errlen)
{
	char path[4200];
	d->rules_live = -1;
	if (prepare_state_dir(d->cfg.state_dir, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/gpuaas.db", d->cfg.state_dir);
	if (db_open(path, &d->db, err, errlen) < 0 || auth_key_load(d->cfg.state_dir, &d->key, err, errlen) < 0)
		return -1;
	if (auth_hash_password("gpuaas-dummy-password-never-matches", (int)d->cfg.bcrypt_cost, d->dummy_hash,
		    sizeof d->dummy_hash) < 0) {
		snprintf(err, errlen, "bcrypt is not available");
		return -1;
	}
	if (ensure_admin(d, err, errlen) < 0)
		return -1;
	d->loop = loop_create();
	d->batch = batch_create(d->db);
	d->hasher = d->loop ? hasher_create(d->loop, hasher_threads) : NULL;
	d->logins = ratelimit_create((int)d->cfg.login_max_failures, 60, d->cfg.login_lockout);
	d->park = d->loop ? park_create(d->loop, (int)d->cfg.max_parked_per_user) : NULL;
	d->disp = dispatch_create(d);
	if (!d->loop || !d->batch || !d->hasher || !d->logins || !d->park || !d->disp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sched_create(d, &d->sched, err, errlen) < 0)
		return -1;
	if (sched_start(d->sched) < 0) {
		snprintf(err, errlen, "cannot recover jobs from the database");
		return -1;
	}
	d->expiry = expiry_create(d);
	if (!d->expiry) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	expiry_kick(d->expiry); /* what expired while the daemon was down */
	commit(d);
	return 0;
}

/* The listening socket: the one systemd passed, or ours at cfg.socket_path. */
static int open_socket(struct daemon *d, char *err, size_t errlen)
{
	int n = sd_listen_fds(1);
	if (n > 1) {
		snprintf(err, errlen, "socket activation passed %d sockets; expected one", n);
		return -1;
	}
	if (n == 1) {
		int fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(err, errlen, "the socket passed by systemd is not a listening Unix stream socket");
			return -1;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			snprintf(err, errlen, "fcntl on the systemd socket: %s", strerror(errno));
			return -1;
		}
		return fd;
	}
	/* The socket's directory: world-searchable for a root daemon (any user
	 * may connect, the token decides), private otherwise. */
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", d->cfg.socket_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (paths_mkdir_p(dir, getuid() == 0 ? 0755 : 0700) < 0) {
			snprintf(err, errlen, "cannot create socket dir %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	int fd = server_listen(d->cfg.socket_path, getuid() == 0 ? 0666 : 0600, err, errlen);
	d->socket_created = fd >= 0;
	return fd;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int daemon_init(struct daemon *d, char *err, size_t errlen)
{
	/* Signals are read through a signalfd on the loop; block them first so
	 * every thread created later inherits the mask. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (daemon_init_core(d, ncpu < 2 ? 2 : (ncpu > 8 ? 8 : (int)ncpu), err, errlen) < 0)
		return -1;
	int listen_fd = open_socket(d, err, errlen);
	if (listen_fd < 0)
		return -1;
	struct server_limits lim = limits_from(&d->cfg);
	d->server = server_create(d->loop, listen_fd, &lim, dispatch_request, d->disp);
	if (!d->server) {
		snprintf(err, errlen, "cannot start the server");
		close(listen_fd);
		return -1;
	}
	d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0 || loop_add(d->loop, d->signal_fd, EPOLLIN, on_signal, d) < 0 ||
	    loop_add_before_wait(d->loop, before_wait, d) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	char types[512];
	log_event(LOG_INFO, "daemon.ready", "socket=%s state_dir=%s executor=%s gpus=\"%s\" version=%s",
		d->socket_created ? d->cfg.socket_path : "(systemd)", d->cfg.state_dir, d->executor->name,
		inventory_type_list(&d->inv, types, sizeof types), GPUAAS_VERSION);
	sd_notify(0, "READY=1");
	return 0;
}

int daemon_run(struct daemon *d, char *err, size_t errlen)
{
	if (loop_run(d->loop) < 0) {
		snprintf(err, errlen, "event loop failed: %s", strerror(errno));
		return -1;
	}
	sd_notify(0, "STOPPING=1");
	return 0;
}

void daemon_finish(struct daemon *d, bool clean)
{
	/* Order matters: answer outstanding hash jobs, commit, end the jobs that
	 * cannot outlive us (recorded), answer parked requests, close. */
	if (d->server)
		server_stop_accepting(d->server);
	hasher_destroy(d->hasher);
	d->hasher = NULL;
	if (d->batch) {
		commit(d);
		sched_shutdown(d->sched);
		commit(d);
	}
	expiry_destroy(d->expiry);
	d->expiry = NULL;
	sched_destroy(d->sched);
	d->sched = NULL;
	if (d->batch)
		commit(d);
	park_destroy(d->park); /* parked requests end UNAVAILABLE */
	d->park = NULL;
	if (d->disp)
		dispatch_after_commit(d->disp, BATCH_EMPTY);
	server_destroy(d->server);
	if (d->socket_created && clean)
		unlink(d->cfg.socket_path);
	dispatch_destroy(d->disp);
	batch_destroy(d->batch);
	ratelimit_destroy(d->logins);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	loop_destroy(d->loop);
	db_close(d->db);
	explicit_bzero(&d->key, sizeof d->key);
	token_cache_clear(&d->tokens);
	inventory_finish(&d->inv);
	config_finish(&d->cfg);
}
