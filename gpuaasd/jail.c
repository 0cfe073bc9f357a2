/* A local job between fork and exec (see jail.h). Every function whose
 * name ends in _or_die runs in a child and ends it with 126 on failure,
 * after writing "gpuaas: <what>: <why>" to the job's output. */
#include "gpuaasd/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpuaasd/config.h"

static const char *const control_nodes[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"};

static const struct {
	const char *name;
	unsigned major, minor;
} pseudo_nodes[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

/* Adds gpu_dev_dir/name when it is a character device: 1 added, 0 absent,
 * -1 no room. */
static int add_node(struct jail_spec *spec, const char *dir, const char *name)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;
	if (spec->nnodes == JAIL_MAX_NODES)
		return -1;
	struct jail_node *n = &spec->nodes[spec->nnodes++];
	snprintf(n->name, sizeof n->name, "%s", name);
	n->mode = st.st_mode & 0666;
	n->rdev = st.st_rdev;
	return 1;
}

int jail_prepare_nodes(struct jail_spec *spec, const struct config *cfg, const int *gpu_index, int ngpus,
	char *err, size_t errlen)
{
	spec->nnodes = 0;
	for (size_t i = 0; i < sizeof pseudo_nodes / sizeof pseudo_nodes[0]; i++) {
		struct jail_node *n = &spec->nodes[spec->nnodes++];
		snprintf(n->name, sizeof n->name, "%s", pseudo_nodes[i].name);
		n->mode = 0666;
		n->rdev = makedev(pseudo_nodes[i].major, pseudo_nodes[i].minor);
	}
	/* A GPU without a node here (--gpus on a machine without the driver)
	 * gets none: there is nothing to open and nothing to hide. */
	for (int i = 0; i < ngpus; i++) {
		char name[32];
		if (gpu_index[i] < 0) {
			snprintf(err, errlen, "device index %d is not valid", gpu_index[i]);
			return -1;
		}
		snprintf(name, sizeof name, "nvidia%d", gpu_index[i]);
		if (add_node(spec, cfg->gpu_dev_dir, name) < 0)
			goto full;
	}
	for (size_t i = 0; i < sizeof control_nodes / sizeof control_nodes[0]; i++)
		if (add_node(spec, cfg->gpu_dev_dir, control_nodes[i]) < 0)
			goto full;
	return 0;
full:
	snprintf(err, errlen, "more than %d device nodes", JAIL_MAX_NODES);
	return -1;
}

static void __attribute__((noreturn)) die(int fd, const char *what, const char *arg)
{
	int e = errno;
	dprintf(fd, "gpuaas: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(e));
	_exit(126);
}

/* mkdir -p of path, each missing directory 0755 (inside our tmpfs mounts). */
static int mkdir_p(const char *path)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s", path);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		if (c == '\0')
			return 0;
		*p = c;
	}
}

static void mount_or_die(int fd, const char *src, const char *target, const char *type, unsigned long flags,
	const char *opts)
{
	if (mount(src, target, type, flags, opts) < 0)
		die(fd, "mount", target);
}

/* /dev: a tmpfs with only the prepared nodes, a private devpts and shm,
 * and the usual links into /proc/self. */
static void make_dev_or_die(const struct jail_spec *s)
{
	int fd = s->out_fd;
	mount_or_die(fd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m");
	for (int i = 0; i < s->nnodes; i++) {
		char path[64];
		snprintf(path, sizeof path, "/dev/%s", s->nodes[i].name);
		if (mknod(path, S_IFCHR | s->nodes[i].mode, s->nodes[i].rdev) < 0 || chmod(path, s->nodes[i].mode) < 0)
			die(fd, "mknod", path);
	}
	if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0)
		die(fd, "mkdir", "/dev/pts, /dev/shm");
	mount_or_die(fd, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
	mount_or_die(fd, "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	static const char *const links[][2] = {{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			die(fd, "symlink", links[i][1]);
}

/* A private tmpfs on dir when dir exists here. */
static void cover_or_die(int fd, const char *dir, const char *opts, unsigned long flags)
{
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		mount_or_die(fd, "tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | flags, opts);
}

/* The job's file system view, in its new mount namespace. */
static void private_mounts_or_die(const struct jail_spec *s)
{
	int fd = s->out_fd;
	/* The job's directory, held before anything covers its path. */
	int wfd = open(s->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0)
		die(fd, "open", s->workdir);
	mount_or_die(fd, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	make_dev_or_die(s);
	cover_or_die(fd, "/tmp", "mode=1777", 0);
	cover_or_die(fd, "/var/tmp", "mode=1777", 0);
	/* The database, the key and other jobs' directories: out of sight. */
	cover_or_die(fd, s->state_dir, "mode=0755", MS_NOEXEC);
	if (strcmp(s->gpu_dev_dir, "/dev") != 0)
		cover_or_die(fd, s->gpu_dev_dir, "mode=0755", MS_NOEXEC | MS_RDONLY);
	/* Then the job's own directory again, at its path. */
	char src[64];
	snprintf(src, sizeof src, "/proc/self/fd/%d", wfd);
	if (mkdir_p(s->workdir) < 0)
		die(fd, "mkdir", s->workdir);
	mount_or_die(fd, src, s->workdir, NULL, MS_BIND, NULL);
	close(wfd);
}

/* Default dispositions (the daemon ignores SIGPIPE) and no blocked
 * signals, as a freshly started program expects. */
static void reset_signals(int fd)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL); /* EINVAL for the C library's own signals */
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		die(fd, "sigprocmask", NULL);
}

/* Drops to the job's identity; checked, since a half-done drop is worse
 * than none. */
static void drop_or_die(const struct jail_spec *s)
{
	const struct job_ident *w = s->who;
	if (!w->drop)
		return;
	if (setgroups((size_t)w->ngroups, w->groups) < 0 || setgid(w->gid) < 0 || setuid(w->uid) < 0)
		die(2, "cannot switch to user", w->user);
	if (getuid() == 0 || geteuid() == 0 || getgid() != w->gid || getegid() != w->gid) {
		errno = EPERM;
		die(2, "still privileged after the switch to", w->user);
	}
}

/* The command itself: stdio, directory, identity, exec. */
static void __attribute__((noreturn)) run_command(const struct jail_spec *s)
{
	reset_signals(s->out_fd);
	if (setsid() < 0)
		die(s->out_fd, "setsid", NULL);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(s->out_fd, 1) < 0 || dup2(s->out_fd, 2) < 0)
		die(s->out_fd, "stdio", NULL);
	close_range(3, ~0U, 0);
	/* chdir first: without isolation the 0700 state dir cannot be
	 * traversed once unprivileged, but the job keeps where it is. */
	if (chdir(s->workdir) < 0)
		die(2, "cannot enter", s->workdir);
	drop_or_die(s);
	/* The submit's directory is entered as the job's user: only what that
	 * user may enter. */
	if (s->start_dir && chdir(s->start_dir) < 0)
		die(2, "cannot enter", s->start_dir);
	/* After setuid: changing credentials clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(2, "prctl", "PR_SET_PDEATHSIG");
	if (s->isolate) {
		/* No setuid program can give a job back what it was denied. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			die(2, "prctl", "PR_SET_NO_NEW_PRIVS");
	} else if (getppid() != s->daemon_pid) {
		_exit(126); /* the daemon died before we got here */
	}
	execvpe(s->argv[0], s->argv, s->envp);
	dprintf(2, "gpuaas: cannot run %s: %s\n", s->argv[0], strerror(errno));
	_exit(127);
}

static void job_signals(sigset_t *set)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
	sigemptyset(set);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(set, sigs[i]);
}

/* PID 1 of the job's namespace: mounts its /proc, starts the command,
 * passes signals on to every process of the namespace, reaps, and ends
 * when the command does (the kernel then kills the rest). */
static void __attribute__((noreturn)) run_init(const struct jail_spec *s, int alive_fd)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(s->out_fd, "prctl", "PR_SET_PDEATHSIG");
	struct pollfd p = {.fd = alive_fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 0)
		_exit(126); /* the supervisor is already gone */
	(void)prctl(PR_SET_NAME, "gpuaas-init"); /* a name for ps only */
	mount_or_die(s->out_fd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	pid_t cmd = fork();
	if (cmd < 0)
		die(s->out_fd, "fork", NULL);
	if (cmd == 0)
		run_command(s);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	close(s->out_fd);
	sigset_t set;
	job_signals(&set);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)kill(-1, sig); /* ESRCH: nothing else runs */
			continue;
		}
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid != cmd)
				continue;
			if (write(s->status_fd, &st, sizeof st) != (ssize_t)sizeof st)
				_exit(125);
			(void)kill(-1, SIGKILL); /* ESRCH: nothing else runs */
			_exit(0);
		}
	}
}

/* Ends this process the way its child ended. */
static void __attribute__((noreturn)) mirror(int st)
{
	if (WIFSIGNALED(st)) {
		sigset_t none;
		sigemptyset(&none);
		if (signal(WTERMSIG(st), SIG_DFL) != SIG_ERR && sigprocmask(SIG_SETMASK, &none, NULL) == 0)
			raise(WTERMSIG(st));
		_exit(128 + WTERMSIG(st));
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 126);
}

/* The supervisor, in the daemon's PID namespace: what the daemon signals
 * and reaps. It passes signals to init and ends when init does. */
static void __attribute__((noreturn)) supervise(pid_t init)
{
	(void)prctl(PR_SET_NAME, "gpuaas-job"); /* a name for ps only */
	sigset_t set;
	job_signals(&set);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)kill(init, sig); /* ESRCH: init is ending */
			continue;
		}
		int st;
		if (waitpid(init, &st, WNOHANG) == init)
			mirror(st);
	}
}

/* Isolated: new namespaces, the private mounts, then init. */
static void __attribute__((noreturn)) run_isolated(const struct jail_spec *s)
{
	int fd = s->out_fd;
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) < 0)
		die(fd, "unshare", "(mount, PID and IPC namespaces)");
	private_mounts_or_die(s);
	sigset_t set;
	job_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die(fd, "sigprocmask", NULL);
	int alive[2];
	if (pipe2(alive, O_CLOEXEC) < 0)
		die(fd, "pipe", NULL);
	pid_t init = fork();
	if (init < 0)
		die(fd, "fork", NULL);
	if (init == 0) {
		close(alive[1]);
		run_init(s, alive[0]);
	}
	close(alive[0]);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	close(s->out_fd);
	close(s->status_fd);
	supervise(init);
}

/* Closes every descriptor above 2 but a and b (a < b): the daemon's
 * sockets, database and epoll must not live on in the job's processes. */
static void close_others(int a, int b)
{
	int lo = 3;
	int keep[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			close_range((unsigned)lo, (unsigned)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
}

void jail_run(const struct jail_spec *s)
{
	/* First into the job's cgroup: everything it starts stays there. */
	if (s->cgroup_procs_fd >= 0 && write(s->cgroup_procs_fd, "0", 1) != 1)
		die(s->out_fd, "cannot join the job's cgroup", NULL);
	close_others(s->out_fd < s->status_fd ? s->out_fd : s->status_fd,
		s->out_fd < s->status_fd ? s->status_fd : s->out_fd);
	if (!s->isolate)
		run_command(s);
	if (setsid() < 0)
		die(s->out_fd, "setsid", NULL);
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(s->out_fd, "prctl", "PR_SET_PDEATHSIG");
	if (getppid() != s->daemon_pid)
		_exit(126);
	run_isolated(s);
}

/* The probe's child: each step a jail needs, the first failure reported on
 * fd. */
static void __attribute__((noreturn)) probe_child(int fd)
{
	const char *step = "mount, PID and IPC namespaces (unshare)";
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) < 0)
		goto fail;
	step = "a private mount tree (mount --make-rprivate /)";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = "a tmpfs /dev (mount -t tmpfs)";
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		goto fail;
	step = "device nodes (mknod /dev/null)";
	int nfd = -1;
	if (mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)) < 0 || (nfd = open("/dev/null", O_RDWR)) < 0)
		goto fail;
	close(nfd);
	step = "a private devpts (mount -t devpts -o newinstance)";
	if (mkdir("/dev/pts", 0755) < 0 || mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
						   "newinstance,ptmxmode=0666,mode=0620") < 0)
		goto fail;
	step = "a PID namespace with its own /proc (fork, mount -t proc)";
	errno = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(getpid() == 1 && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0 ? 0
													     : 1);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		goto fail;
	_exit(0);
fail:
	dprintf(fd, "%s: %s", step, strerror(errno ? errno : EPERM));
	_exit(1);
}

int jail_probe(const struct config *cfg, char *why, size_t whylen)
{
	(void)cfg;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe_child(p[1]);
	}
	close(p[1]);
	char msg[512] = "";
	ssize_t n = pid < 0 ? -1 : read(p[0], msg, sizeof msg - 1);
	close(p[0]);
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	snprintf(why, whylen, "%s", msg[0] ? msg : pid < 0 ? "fork failed" : "the probe died");
	return -1;
}
