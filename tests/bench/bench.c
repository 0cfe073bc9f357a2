/* gpuaas-bench: a load generator speaking the wire protocol.
 *
 *   gpuaas-bench -s SOCK -t TOKEN --op ping|whoami|submit|list|approve|get
 *                [--conns N] [--seconds S] [--ids FILE]
 *   gpuaas-bench --exec N -- PROGRAM ARGS...      (times whole processes)
 *   gpuaas-bench --exec N -- PROG_A ARGS... --vs PROG_B ARGS...
 *                (A and B in turn, N each: both medians and the median of
 *                the A/B ratios, pair by pair, so that drift cancels)
 *   gpuaas-bench -s SOCK -t TOKEN --op starts --jobs K  (approve K waiting
 *                sim jobs and time until all have started and completed)
 *
 * Prints one line of key=value results: requests/s and p50/p99 latency. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/json.h"

static const char *sock_path, *token, *op = "ping", *ids_file;
static int conns = 8;
static double seconds = 3;
static int64_t *ids;
static size_t nids;

struct worker {
	pthread_t th;
	int idx;
	double *lat;
	size_t n, cap;
	long errors;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int build_request(char *buf, size_t size, int64_t rid, int64_t target)
{
	if (strcmp(op, "ping") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"sys.ping\"}", (long long)rid);
	if (strcmp(op, "whoami") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"auth.whoami\",\"token\":\"%s\"}",
			(long long)rid, token);
	else if (strcmp(op, "submit") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"job.submit\",\"token\":\"%s\",\"args\":"
			"{\"gpu_type\":\"T4\",\"time_limit\":60,\"name\":\"bench\"}}", (long long)rid, token);
	else if (strcmp(op, "list") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"job.list\",\"token\":\"%s\",\"args\":"
			"{\"all\":true,\"limit\":50}}", (long long)rid, token);
	else if (strcmp(op, "approve") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"job.approve\",\"token\":\"%s\",\"args\":{\"id\":%lld}}",
			(long long)rid, token, (long long)target);
	else if (strcmp(op, "get") == 0)
		return snprintf(buf, size, "{\"v\":1,\"id\":%lld,\"op\":\"job.get\",\"token\":\"%s\",\"args\":{\"id\":%lld}}",
			(long long)rid, token, (long long)target);
	else {
		fprintf(stderr, "unknown op %s\n", op);
		exit(2);
	}
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	int fd = dial();
	char req[4096];
	double end = now_s() + seconds;
	int64_t rid = 0;
	size_t next_target = (size_t)w->idx;
	while (now_s() < end) {
		int64_t target = 0;
		if (strcmp(op, "approve") == 0) {
			if (next_target >= nids)
				break;
			target = ids[next_target];
			next_target += (size_t)conns;
		} else if (strcmp(op, "get") == 0 && nids) {
			target = ids[(size_t)rid % nids];
		}
		int n = build_request(req, sizeof req, ++rid, target);
		double t0 = now_s();
		char *reply = NULL;
		size_t len = 0;
		if (frame_write(fd, req, (size_t)n) < 0 || frame_read(fd, &reply, &len) != 0) {
			fprintf(stderr, "connection lost\n");
			exit(1);
		}
		double dt = now_s() - t0;
		if (!strstr(reply, "\"ok\":true"))
			w->errors++;
		free(reply);
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
		}
		w->lat[w->n++] = dt;
	}
	close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void load_ids(void)
{
	FILE *f = fopen(ids_file, "r");
	if (!f) {
		perror(ids_file);
		exit(1);
	}
	long long v;
	size_t cap = 0;
	while (fscanf(f, "%lld", &v) == 1) {
		if (nids == cap) {
			cap = cap ? cap * 2 : 1024;
			ids = realloc(ids, cap * sizeof *ids);
		}
		ids[nids++] = v;
	}
	fclose(f);
}

static int run_load(void)
{
	struct worker *w = calloc((size_t)conns, sizeof *w);
	double t0 = now_s();
	for (int i = 0; i < conns; i++) {
		w[i].idx = i;
		pthread_create(&w[i].th, NULL, run_worker, &w[i]);
	}
	size_t total = 0;
	long errors = 0;
	for (int i = 0; i < conns; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	double elapsed = now_s() - t0;
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < conns; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_double);
	double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)((double)total * 0.99)] : 0;
	printf("op=%s conns=%d requests=%zu errors=%ld seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f\n", op, conns, total,
		errors, elapsed, (double)total / elapsed, p50 * 1e3, p99 * 1e3);
	free(all);
	free(w);
	return errors ? 1 : 0;
}

/* Runs argv once with stdout to /dev/null; its wall time in seconds, or
 * -1 when it did not exit 0. */
static double run_once(char **argv)
{
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	double t = now_s() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

/* Spawns the program n times in a row (with vs: A and B in turn); prints
 * the median wall times. */
static int run_exec(int n, char **argv, char **vs)
{
	double *t = calloc((size_t)n, sizeof *t), *u = calloc((size_t)n, sizeof *u), *r = calloc((size_t)n, sizeof *r);
	int failures = 0;
	for (int i = 0; i < n; i++) {
		t[i] = run_once(argv);
		u[i] = vs ? run_once(vs) : 1;
		failures += t[i] < 0 || u[i] < 0;
		r[i] = t[i] / u[i];
	}
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	if (!vs) {
		printf("exec=%s runs=%d failures=%d p50_ms=%.3f p90_ms=%.3f min_ms=%.3f\n", argv[0], n, failures,
			t[n / 2] * 1e3, t[(n * 9) / 10] * 1e3, t[0] * 1e3);
	} else {
		qsort(u, (size_t)n, sizeof *u, cmp_double);
		qsort(r, (size_t)n, sizeof *r, cmp_double);
		printf("exec=%s %s vs=%s %s runs=%d failures=%d a_p50_ms=%.3f b_p50_ms=%.3f ratio_p50=%.3f\n", argv[0],
			argv[1] ? argv[1] : "", vs[0], vs[1] && vs[2] ? vs[2] : "", n, failures, t[n / 2] * 1e3,
			u[n / 2] * 1e3, r[n / 2]);
	}
	free(t);
	free(u);
	free(r);
	return failures ? 1 : 0;
}

/* Approves every id (pipelined on one connection) and waits (job.wait) for
 * the last one: starts/s = jobs / elapsed. */
static int run_starts(void)
{
	if (nids == 0) {
		printf("op=starts jobs=0\n");
		return 0;
	}
	int fd = dial();
	char req[512];
	double t0 = now_s();
	/* Pipeline in windows so the daemon's in-flight cap never stalls us. */
	size_t sent = 0, got = 0;
	while (got < nids) {
		while (sent < nids && sent - got < 100) {
			int n = snprintf(req, sizeof req,
				"{\"v\":1,\"id\":%zu,\"op\":\"job.approve\",\"token\":\"%s\",\"args\":{\"id\":%lld}}", sent,
				token, (long long)ids[sent]);
			if (frame_write(fd, req, (size_t)n) < 0)
				exit(1);
			sent++;
		}
		char *reply;
		size_t len;
		if (frame_read(fd, &reply, &len) != 0)
			exit(1);
		free(reply);
		got++;
	}
	double approved = now_s();
	/* One type, FIFO: when the last approved job has completed, every job
	 * before it has started and (same length) completed. */
	int n = snprintf(req, sizeof req, "{\"v\":1,\"id\":1,\"op\":\"job.wait\",\"token\":\"%s\",\"args\":{\"id\":%lld,"
		"\"timeout\":600}}", token, (long long)ids[nids - 1]);
	char *reply;
	size_t len;
	if (frame_write(fd, req, (size_t)n) < 0 || frame_read(fd, &reply, &len) != 0)
		exit(1);
	if (!strstr(reply, "\"status\":\"COMPLETED\"")) {
		fprintf(stderr, "job %lld did not complete: %.200s\n", (long long)ids[nids - 1], reply);
		free(reply);
		return 1;
	}
	free(reply);
	double done = now_s();
	if (nids == 0) {
		printf("op=starts jobs=0\n");
		return 0;
	}
	printf("op=starts jobs=%zu approve_s=%.3f total_s=%.3f starts_per_s=%.0f\n", nids, approved - t0, done - t0,
		(double)nids / (done - t0));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int exec_runs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			if (!exec_runs)
				break;
			char **vs = NULL;
			for (int k = i + 1; k < argc; k++)
				if (strcmp(argv[k], "--vs") == 0) {
					argv[k] = NULL;
					vs = argv + k + 1;
				}
			return run_exec(exec_runs, argv + i + 1, vs);
		} else if (!v) {
			fprintf(stderr, "%s needs a value\n", a);
			return 2;
		} else if (strcmp(a, "-s") == 0) {
			sock_path = v;
		} else if (strcmp(a, "-t") == 0) {
			token = v;
		} else if (strcmp(a, "--op") == 0) {
			op = v;
		} else if (strcmp(a, "--conns") == 0) {
			conns = atoi(v);
		} else if (strcmp(a, "--seconds") == 0) {
			seconds = atof(v);
		} else if (strcmp(a, "--ids") == 0) {
			ids_file = v;
		} else if (strcmp(a, "--exec") == 0) {
			exec_runs = atoi(v);
		} else {
			fprintf(stderr, "unknown argument %s\n", a);
			return 2;
		}
		i++;
	}
	if (!sock_path || conns < 1) {
		fprintf(stderr, "usage: see the comment at the top of tests/bench/bench.c\n");
		return 2;
	}
	if (!token)
		token = "";
	if (ids_file)
		load_ids();
	if (strcmp(op, "starts") == 0)
		return run_starts();
	return run_load();
}
