/* The event log as a stream (evstream.h). */
#include "gpuctl/evstream.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/json.h"

#define EVENT_PAGE 1000    /* events per request (the daemon's most) */
#define WATCH_TIMEOUT 300  /* seconds a watch stays parked before it is asked again */
#define RETRY_FIRST_MS 100 /* after a lost connection: the first pause, doubled up to */
#define RETRY_MAX_MS 2000

/* One event.list or event.watch after since, with filter's arguments. */
static enum status ask(struct ctl *c, const cJSON *filter, bool watch, int64_t since, int64_t limit, cJSON **data)
{
	cJSON *args = filter ? cJSON_Duplicate(filter, 1) : cJSON_CreateObject();
	*data = NULL;
	if (!args || !json_add_int(args, "since", since) || !json_add_int(args, "limit", limit) ||
	    (watch && !json_add_int(args, "timeout", WATCH_TIMEOUT))) {
		cJSON_Delete(args);
		snprintf(c->err, sizeof c->err, "out of memory");
		return ST_INTERNAL;
	}
	return ctl_call(c, watch ? "event.watch" : "event.list", args, true, data);
}

/* Sleeps ms milliseconds; false when Ctrl-C came first. */
static bool pause_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (!ctl_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !ctl_interrupted;
}

/* Says once that the daemon went away, and once that it is back. */
static void say_lost(struct ctl *c, struct evstream *s, bool lost)
{
	if (lost == s->lost)
		return;
	s->lost = lost;
	fflush(stdout);
	if (lost)
		fprintf(stderr, "gpuctl: lost gpuaasd at %s; reconnecting (Ctrl-C stops)\n", c->socket_path);
	else
		fprintf(stderr, "gpuctl: gpuaasd is back; going on after event %lld\n", (long long)s->since);
}

int evstream_next(struct ctl *c, struct evstream *s, cJSON **data)
{
	int64_t pause = RETRY_FIRST_MS;
	for (;;) {
		enum status st = ask(c, s->filter, s->follow, s->since, EVENT_PAGE, data);
		if (st == ST_OK) {
			int n = cJSON_GetArraySize(json_get(*data, "events"));
			s->answered = true;
			say_lost(c, s, false);
			if (n > 0)
				s->since = jint(*data, "last_seq");
			s->done = !s->follow && n < EVENT_PAGE;
			if (n > 0 || !s->follow)
				return 0;
			cJSON_Delete(*data); /* the watch timed out: park again */
			continue;
		}
		if (ctl_interrupted)
			return EXIT_INTERRUPTED;
		/* A restart (or a moment of a busy database): wait, connect again, go on. */
		if (!s->follow || !s->answered || (st != ST_UNREACHABLE && st != ST_UNAVAILABLE))
			return ctl_report(c, st);
		say_lost(c, s, true);
		if (!pause_ms(pause))
			return EXIT_INTERRUPTED;
		pause = pause * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : pause * 2;
	}
}

/* The seq of the first event after since that the caller may see, 0 when
 * there is none, or -1 with the exit code in *rc. */
static int64_t probe(struct ctl *c, int64_t since, int *rc)
{
	cJSON *data = NULL;
	enum status st = ask(c, NULL, false, since, 1, &data);
	if (st != ST_OK) {
		*rc = ctl_report(c, st);
		return -1;
	}
	int64_t seq = cJSON_GetArraySize(json_get(data, "events")) > 0 ? jint(data, "last_seq") : 0;
	cJSON_Delete(data);
	return seq;
}

/* A point well past seq, within the protocol's integers. */
static int64_t beyond(int64_t seq)
{
	return seq > (JSON_INT_MAX - 1024) / 2 ? JSON_INT_MAX : seq * 2 + 1024;
}

int evstream_last_seq(struct ctl *c, int64_t *seq)
{
	int rc = 0;
	int64_t lo = probe(c, 0, &rc), hi, e;
	*seq = 0;
	if (lo <= 0)
		return rc;
	/* lo is an event; find hi with none after it, then narrow down. */
	for (hi = beyond(lo); (e = probe(c, hi, &rc)) > 0; hi = beyond(e))
		lo = e;
	while (e >= 0 && lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if ((e = probe(c, mid, &rc)) > 0)
			lo = e;
		else
			hi = mid;
	}
	if (e < 0)
		return rc;
	*seq = lo;
	return 0;
}

static struct ctl *sigint_ctl;
static struct sigaction sigint_old;

static void on_sigint(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
	/* A read blocked on a parked watch returns at once. */
	if (sigint_ctl && sigint_ctl->fd >= 0)
		shutdown(sigint_ctl->fd, SHUT_RDWR);
}

void evstream_sigint_install(struct ctl *c)
{
	if (c->in_shell)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint; /* no SA_RESTART: blocking calls return EINTR */
	sigemptyset(&sa.sa_mask);
	sigint_ctl = c;
	sigaction(SIGINT, &sa, &sigint_old);
}

void evstream_sigint_restore(struct ctl *c)
{
	if (c->in_shell)
		return;
	sigaction(SIGINT, &sigint_old, NULL);
	sigint_ctl = NULL;
}
