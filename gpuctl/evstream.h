/* The event log as a stream: pages of event.list, or event.watch parked
 * on the daemon until there is something new (no polling). Following
 * survives a daemon restart: the connection is made again and the stream
 * goes on after the last event seen. Shared by events, admin audit and
 * list --watch. */
#ifndef GPUAAS_GPUCTL_EVSTREAM_H
#define GPUAAS_GPUCTL_EVSTREAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpuctl/ctl.h"

struct evstream {
	const cJSON *filter; /* job, kinds, user, since_time (borrowed; NULL: none) */
	int64_t since;       /* the seq of the last event seen: the stream goes on after it */
	bool follow;         /* event.watch, reconnecting after a lost connection */
	bool done;           /* without follow: the last page has been read */
	bool answered;       /* the daemon answered once (only then is a lost connection retried) */
	bool lost;           /* "reconnecting" was said and "back" is not yet */
};

/* The next events after s->since: *data is the reply ({"events": [...],
 * "last_seq"}; caller frees). Without follow the last page may be empty;
 * with it the call returns only with events (or an error, or Ctrl-C:
 * EXIT_INTERRUPTED). 0 or an exit code (reported). */
int evstream_next(struct ctl *c, struct evstream *s, cJSON **data);
/* The seq of the newest event the caller may see (0 when there is none),
 * found with a few one-event reads. 0 or an exit code (reported). */
int evstream_last_seq(struct ctl *c, int64_t *seq);
/* In argv mode, makes Ctrl-C end a follow cleanly (the command returns
 * EXIT_INTERRUPTED; output so far is flushed); the shell has its own
 * handler that does the same. Undo with evstream_sigint_restore. */
void evstream_sigint_install(struct ctl *c);
/* Puts back the Ctrl-C handling evstream_sigint_install replaced. */
void evstream_sigint_restore(struct ctl *c);

#endif
