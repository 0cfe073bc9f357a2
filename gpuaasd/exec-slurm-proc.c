/* The Slurm commands (sbatch, squeue, sacct, scancel) as child processes
 * on the loop: forked and exec'd without a shell, their stdout and stderr
 * read through non-blocking pipes, reaped on SIGCHLD, killed at a timeout.
 * The loop never waits for one. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/exec-slurm.h"
#include "gpuaasd/loop.h"

struct sproc {
	struct sproc *next;
	struct sprocs *set;
	pid_t pid;
	int fd[2]; /* stdout, stderr; -1 once closed */
	char *buf[2];
	size_t len[2], cap[2];
	bool reaped;
	bool timed_out;
	int status;
	int64_t started_ms;
	struct timer *timer;
	sproc_done_fn done;
	void *arg;
	bool free_arg;
};

struct sprocs {
	struct loop *loop;
	size_t out_cap;
	struct sproc *list;
};

struct sprocs *sprocs_create(struct loop *loop, size_t out_cap)
{
	struct sprocs *set = calloc(1, sizeof *set);
	if (set) {
		set->loop = loop;
		set->out_cap = out_cap;
	}
	return set;
}

static void close_fd(struct sproc *p, int i)
{
	if (p->fd[i] < 0)
		return;
	loop_del(p->set->loop, p->fd[i]);
	close(p->fd[i]);
	p->fd[i] = -1;
}

static void proc_free(struct sproc *p)
{
	close_fd(p, 0);
	close_fd(p, 1);
	loop_timer_cancel(p->set->loop, p->timer);
	free(p->buf[0]);
	free(p->buf[1]);
	free(p);
}

void sprocs_destroy(struct sprocs *set)
{
	if (!set)
		return;
	while (set->list) {
		struct sproc *p = set->list;
		set->list = p->next;
		if (p->free_arg)
			free(p->arg);
		proc_free(p);
	}
	free(set);
}

/* Calls the callbacks of children that are done, one at a time: a
 * callback may start others. */
static void finish_done(struct sprocs *set)
{
	for (;;) {
		struct sproc **pp = &set->list;
		while (*pp && !((*pp)->reaped && (*pp)->fd[0] < 0 && (*pp)->fd[1] < 0))
			pp = &(*pp)->next;
		struct sproc *p = *pp;
		if (!p)
			return;
		*pp = p->next;
		struct sproc_result r = {
			.status = p->status,
			.timed_out = p->timed_out,
			.out = p->buf[0] ? p->buf[0] : "",
			.out_len = p->len[0],
			.err = p->buf[1] ? p->buf[1] : "",
			.err_len = p->len[1],
			.took_ms = loop_now_ms() - p->started_ms,
		};
		p->done(p->arg, &r);
		proc_free(p);
	}
}

/* Keeps up to the set's cap of what the child wrote (the rest is read and
 * dropped, so that the child never blocks on a full pipe). */
static void keep(struct sproc *p, int i, const char *data, size_t n)
{
	size_t room = p->set->out_cap > p->len[i] ? p->set->out_cap - p->len[i] : 0;
	if (n > room)
		n = room;
	if (n == 0)
		return;
	if (p->len[i] + n + 1 > p->cap[i]) {
		size_t cap = p->cap[i] ? p->cap[i] * 2 : 4096;
		while (cap < p->len[i] + n + 1)
			cap *= 2;
		char *grown = realloc(p->buf[i], cap);
		if (!grown)
			return;
		p->buf[i] = grown;
		p->cap[i] = cap;
	}
	memcpy(p->buf[i] + p->len[i], data, n);
	p->len[i] += n;
	p->buf[i][p->len[i]] = '\0';
}

static void on_output(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct sproc *p = data;
	(void)loop;
	(void)events;
	int i = fd == p->fd[0] ? 0 : 1;
	char chunk[16384];
	for (int round = 0; round < 64; round++) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n > 0) {
			keep(p, i, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break; /* EOF or an error: this output is over */
	}
	close_fd(p, i);
	finish_done(p->set);
}

static void on_timeout(struct loop *loop, void *data)
{
	struct sproc *p = data;
	(void)loop;
	p->timer = NULL;
	p->timed_out = true;
	if (!p->reaped && kill(p->pid, SIGKILL) < 0)
		log_event(LOG_WARN, "exec.slurm.kill", "pid=%d error=\"%s\"", (int)p->pid, strerror(errno));
}

/* Moves fd above 0..2 (a daemon started with them closed gets low pipe
 * ends, which the child's dup2 calls would clobber). The fd, or -1. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

/* The forked child: only async-signal-safe calls until execve. */
static _Noreturn void child(const struct sproc_spec *spec, pid_t parent, int in, int out, int err)
{
	static const char fail[] = "gpuaasd: cannot run the Slurm command\n";
	sigset_t none;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || sigaction(SIGPIPE, &dfl, NULL) < 0 ||
	    dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* Every fd of the daemon is close-on-exec; this is the second lock. */
	if (close_range(3, ~0U, 0) < 0 && errno != ENOSYS)
		_exit(126);
	const struct slurm_ident *who = spec->who;
	if (who && who->drop &&
	    (setgroups((size_t)who->ngroups, who->groups) < 0 || setgid(who->gid) < 0 || setuid(who->uid) < 0)) {
		(void)!write(2, fail, sizeof fail - 1);
		_exit(126);
	}
	/* It dies with the daemon (set after setuid, which clears it): an
	 * sbatch of a daemon killed with -9 cannot submit behind the back of
	 * the next one, which looks its jobs up by name. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || chdir("/") < 0)
		_exit(126);
	execve(spec->argv[0], spec->argv, spec->envp);
	(void)!write(2, fail, sizeof fail - 1);
	_exit(127);
}

/* The parent's side after the fork: watch both outputs and the timeout. */
static int watch(struct sprocs *set, struct sproc *p, const struct sproc_spec *spec)
{
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(p->fd[i], F_GETFL);
		if (fl < 0 || fcntl(p->fd[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    loop_add(set->loop, p->fd[i], EPOLLIN, on_output, p) < 0)
			return -1;
	}
	p->timer = loop_timer_at(set->loop, loop_now_ms() + spec->timeout_ms, on_timeout, p);
	return p->timer ? 0 : -1;
}

int sprocs_start(struct sprocs *set, const struct sproc_spec *spec, sproc_done_fn done, void *arg)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, in = spec->stdin_fd, null_fd = -1, rc = -1, saved;
	struct sproc *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	p->set = set;
	p->fd[0] = p->fd[1] = -1;
	p->done = done;
	p->arg = arg;
	p->free_arg = spec->free_arg;
	p->started_ms = loop_now_ms();
	if (in < 0)
		in = null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		out[i] = above_stdio(out[i]);
		err[i] = above_stdio(err[i]);
	}
	if (out[0] < 0 || out[1] < 0 || err[0] < 0 || err[1] < 0)
		goto out;
	pid_t parent = getpid();
	p->pid = fork();
	if (p->pid < 0)
		goto out;
	if (p->pid == 0)
		child(spec, parent, in, out[1], err[1]);
	p->fd[0] = out[0];
	p->fd[1] = err[0];
	out[0] = err[0] = -1;
	p->next = set->list;
	set->list = p;
	if (watch(set, p, spec) < 0) {
		/* The child runs unwatched: kill it; it is reaped as usual and
		 * its callback reports the failure. */
		if (kill(p->pid, SIGKILL) < 0)
			log_event(LOG_WARN, "exec.slurm.kill", "pid=%d error=\"%s\"", (int)p->pid, strerror(errno));
		p->timed_out = true;
		close_fd(p, 0);
		close_fd(p, 1);
	}
	p = NULL;
	rc = 0;
out:
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (null_fd >= 0)
		close(null_fd);
	free(p);
	errno = saved;
	return rc;
}

void sprocs_reap(struct sprocs *set)
{
	bool any = false;
	for (struct sproc *p = set->list; p; p = p->next) {
		int status;
		if (p->reaped)
			continue;
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->reaped = true;
			p->status = r == p->pid ? status : -1;
			any = true;
		}
	}
	if (any)
		finish_done(set);
}
