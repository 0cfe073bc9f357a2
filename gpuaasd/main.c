/* gpuaasd: start-up, the signal handling and the clean stop. */
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
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "gpuaasd/daemon.h"
#include "gpuaasd/db.h"
#include "gpuaasd/dispatch.h"
#include "gpuaasd/hasher.h"
#include "gpuaasd/jobs.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/ratelimit.h"
#include "gpuaasd/sched.h"
#include "gpuaasd/server.h"

static void die(const char *message)
{
	fprintf(stderr, "gpuaasd: %s\n", message);
}

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

/* CONTRACT §3: the first start on an empty database creates "admin". */
static int ensure_admin(struct daemon *d, char *err, size_t errlen)
{
	int64_t n = 0;
	if (db_user_count(d->db, &n) < 0) {
		snprintf(err, errlen, "cannot count users");
		return -1;
	}
	if (n > 0)
		return 0;
	char password[128];
	const char *env = getenv("GPUAAS_INITIAL_ADMIN_PASSWORD");
	const char *why = NULL;
	bool from_env = env && *env;
	if (from_env) {
		if (!auth_password_acceptable(env, &why)) {
			snprintf(err, errlen, "GPUAAS_INITIAL_ADMIN_PASSWORD rejected: %s", why);
			return -1;
		}
		snprintf(password, sizeof password, "%s", env);
	} else if (auth_random_password(password, 20) < 0) {
		snprintf(err, errlen, "cannot generate a password: %s", strerror(errno));
		return -1;
	}
	char hash[128];
	if (auth_hash_password(password, (int)d->cfg.bcrypt_cost, hash, sizeof hash) < 0) {
		snprintf(err, errlen, "cannot hash the initial admin password");
		return -1;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/initial-admin-password", d->cfg.state_dir);
	if (!from_env) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		size_t len = strlen(password);
		password[len] = '\n';
		if (fd < 0 || write(fd, password, len + 1) != (ssize_t)(len + 1) || fsync(fd) < 0) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	explicit_bzero(password, sizeof password);
	if (db_begin(d->db) < 0 || db_user_insert(d->db, "admin", hash, true, 0, time(NULL), 0, NULL) != 0 ||
	    db_commit(d->db) < 0) {
		db_rollback(d->db);
		snprintf(err, errlen, "cannot create the admin user");
		return -1;
	}
	if (from_env)
		log_event(LOG_INFO, "admin.created", "user=admin password=from-GPUAAS_INITIAL_ADMIN_PASSWORD");
	else
		log_event(LOG_INFO, "admin.created", "user=admin password_file=%s", path);
	return 0;
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
		case SIGHUP: {
			char err[1024];
			if (config_reload(&d->cfg, err, sizeof err) != CONFIG_OK) {
				log_event(LOG_ERROR, "config.reload_failed", "error=\"%s\"", err);
				break;
			}
			log_set_level(d->cfg.log_level);
			struct server_limits lim = limits_from(&d->cfg);
			server_set_limits(d->server, &lim);
			ratelimit_configure(d->logins, (int)d->cfg.login_max_failures, d->cfg.login_lockout);
			log_event(LOG_INFO, "config.reloaded", "file=%s", d->cfg.config_path ? d->cfg.config_path : "-");
			break;
		}
		case SIGCHLD:
			sched_on_sigchld(d->sched);
			break;
		default:
			break;
		}
	}
}

static void after_commit(struct daemon *d, bool committed)
{
	sched_after_commit(d, committed);
	job_waiters_flush(d, committed);
}

static void wake_noop(struct loop *loop, void *data)
{
	(void)loop;
	(void)data;
}

/* Commit the batch, then send replies; sending may let waiting frames in,
 * whose writes need one more commit: go round until quiet. */
static void before_wait(struct loop *loop, void *data)
{
	struct daemon *d = data;
	for (int round = 0; round < 8; round++) {
		sched_pump(d->sched);
		dispatch_commit(d->disp);
		bool more = server_flush(d->server);
		if (!more && !dispatch_batch_open(d->disp))
			return;
	}
	loop_timer_at(loop, 0, wake_noop, NULL);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct daemon d;
	memset(&d, 0, sizeof d);
	char err[2048] = "";
	int status = 1;
	int listen_fd = -1, sig_fd = -1;
	bool socket_activated = false, socket_created = false;

	config_init(&d.cfg);
	enum config_result cr = config_parse_args(&d.cfg, argc, argv, err, sizeof err);
	if (cr == CONFIG_EXIT_OK) {
		status = 0;
		goto out;
	}
	bool explicit_config = d.cfg.config_path != NULL;
	if (cr == CONFIG_ERROR || config_load_file(&d.cfg, explicit_config, err, sizeof err) != CONFIG_OK ||
	    config_validate(&d.cfg, err, sizeof err) != CONFIG_OK) {
		die(err);
		status = 2;
		goto out;
	}
	if (strcmp(d.cfg.executor, "local") == 0 && !d.cfg.gpus_explicit) {
		/* Real GPUs: ask nvidia-smi which there are. */
		int rc = inventory_discover(&d.inv, err, sizeof err);
		if (rc != 0) {
			if (rc > 0)
				snprintf(err, sizeof err, "--executor local: nvidia-smi not found; name the GPUs with --gpus TYPE:N");
			die(err);
			status = 2;
			goto out;
		}
		char types[512];
		inventory_type_list(&d.inv, types, sizeof types);
		log_event(LOG_INFO, "gpus.discovered", "devices=%d types=\"%s\"", d.inv.ndevices, types);
	} else if (inventory_parse(d.cfg.gpus, &d.inv, err, sizeof err) < 0) {
		die(err);
		status = 2;
		goto out;
	}
	log_set_level(d.cfg.log_level);
	if (d.cfg.check_config) {
		printf("configuration OK\n");
		status = 0;
		goto out;
	}

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

	if (prepare_state_dir(d.cfg.state_dir, err, sizeof err) < 0)
		goto fail;
	char path[4200];
	snprintf(path, sizeof path, "%s/gpuaas.db", d.cfg.state_dir);
	if (db_open(path, &d.db, err, sizeof err) < 0)
		goto fail;
	if (auth_key_load(d.cfg.state_dir, &d.key, err, sizeof err) < 0)
		goto fail;
	if (auth_hash_password("gpuaas-dummy-password-never-matches", (int)d.cfg.bcrypt_cost, d.dummy_hash,
		    sizeof d.dummy_hash) < 0) {
		snprintf(err, sizeof err, "bcrypt is not available");
		goto fail;
	}
	if (ensure_admin(&d, err, sizeof err) < 0)
		goto fail;

	d.loop = loop_create();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = ncpu < 2 ? 2 : (ncpu > 8 ? 8 : (int)ncpu);
	d.hasher = d.loop ? hasher_create(d.loop, threads) : NULL;
	d.logins = ratelimit_create((int)d.cfg.login_max_failures, 60, d.cfg.login_lockout);
	d.disp = dispatch_create(&d);
	if (!d.loop || !d.hasher || !d.logins || !d.disp) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	if (sched_create(&d, &d.sched, err, sizeof err) < 0)
		goto fail;
	dispatch_on_commit(d.disp, after_commit);

	int n = sd_listen_fds(1);
	if (n > 1) {
		snprintf(err, sizeof err, "socket activation passed %d sockets; expected one", n);
		goto fail;
	}
	if (n == 1) {
		listen_fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(err, sizeof err, "the socket passed by systemd is not a listening Unix stream socket");
			goto fail;
		}
		fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
		socket_activated = true;
	} else {
		/* The socket's directory: world-searchable for a root daemon (any
		 * user may connect, the token decides), private otherwise. */
		char dir[4200];
		snprintf(dir, sizeof dir, "%s", d.cfg.socket_path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (paths_mkdir_p(dir, getuid() == 0 ? 0755 : 0700) < 0) {
				snprintf(err, sizeof err, "cannot create socket dir %s: %s", dir, strerror(errno));
				goto fail;
			}
		}
		listen_fd = server_listen(d.cfg.socket_path, getuid() == 0 ? 0666 : 0600, err, sizeof err);
		if (listen_fd < 0)
			goto fail;
		socket_created = true;
	}
	struct server_limits lim = limits_from(&d.cfg);
	d.server = server_create(d.loop, listen_fd, &lim, dispatch_request, d.disp);
	if (!d.server) {
		snprintf(err, sizeof err, "cannot start the server");
		close(listen_fd);
		goto fail;
	}
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0 || loop_add(d.loop, sig_fd, EPOLLIN, on_signal, &d) < 0 ||
	    loop_add_before_wait(d.loop, before_wait, &d) < 0) {
		snprintf(err, sizeof err, "signalfd: %s", strerror(errno));
		goto fail;
	}
	if (sched_start(d.sched) < 0) {
		snprintf(err, sizeof err, "cannot recover jobs from the database");
		goto fail;
	}
	char types[512];
	log_event(LOG_INFO, "daemon.ready", "socket=%s state_dir=%s executor=%s gpus=\"%s\" version=%s",
		socket_activated ? "(systemd)" : d.cfg.socket_path, d.cfg.state_dir, d.cfg.executor,
		inventory_type_list(&d.inv, types, sizeof types), GPUAAS_VERSION);
	sd_notify(0, "READY=1");
	if (loop_run(d.loop) < 0) {
		snprintf(err, sizeof err, "event loop failed: %s", strerror(errno));
		goto fail;
	}
	sd_notify(0, "STOPPING=1");
	status = 0;
	goto shutdown;
fail:
	die(err);
	status = 1;
shutdown:
	/* Order matters: answer outstanding hash jobs, commit, flush, close. */
	if (d.server)
		server_stop_accepting(d.server);
	hasher_destroy(d.hasher);
	if (d.disp)
		dispatch_commit(d.disp);
	sched_shutdown(d.sched);
	if (d.disp)
		dispatch_commit(d.disp);
	sched_destroy(d.sched);
	if (d.disp)
		dispatch_commit(d.disp);
	server_destroy(d.server);
	if (socket_created && status == 0)
		unlink(d.cfg.socket_path);
	dispatch_destroy(d.disp);
	ratelimit_destroy(d.logins);
	if (sig_fd >= 0)
		close(sig_fd);
	loop_destroy(d.loop);
	db_close(d.db);
	job_waiters_shutdown();
	explicit_bzero(&d.key, sizeof d.key);
	if (status == 0)
		log_event(LOG_INFO, "daemon.stopped", "%s", "");
out:
	inventory_finish(&d.inv);
	config_finish(&d.cfg);
	return status;
}
