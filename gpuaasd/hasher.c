#include "gpuaasd/hasher.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/auth.h"

/* Logins beyond this many waiting are refused with UNAVAILABLE rather than
 * queued without bound. */
#define HASHER_QUEUE_MAX 256

struct hash_job {
	struct hash_job *next;
	bool verify;
	int cost;
	char password[AUTH_PASSWORD_MAX + 1];
	char stored[128]; /* verify: the stored hash; hash: the result */
	bool ok, error;
	hasher_done_cb cb;
	void *arg;
};

struct hasher {
	struct loop *loop;
	int efd;
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct hash_job *todo_head, *todo_tail;
	int queued;
	int busy; /* jobs taken by a worker, not yet on the done list */
	pthread_cond_t idle;
	struct hash_job *done; /* finished, waiting for the loop */
};

static void *worker(void *arg)
{
	struct hasher *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		while (!h->stopping && !h->todo_head)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stopping) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		struct hash_job *j = h->todo_head;
		h->todo_head = j->next;
		if (!h->todo_head)
			h->todo_tail = NULL;
		h->busy++;
		pthread_mutex_unlock(&h->mu);

		if (j->verify) {
			int r = auth_verify_password(j->password, j->stored);
			j->ok = r == 1;
			j->error = r < 0;
		} else {
			j->ok = auth_hash_password(j->password, j->cost, j->stored, sizeof j->stored) == 0;
			j->error = !j->ok;
		}
		explicit_bzero(j->password, sizeof j->password);

		pthread_mutex_lock(&h->mu);
		j->next = h->done;
		h->done = j;
		h->busy--;
		pthread_cond_broadcast(&h->idle);
		pthread_mutex_unlock(&h->mu);
		uint64_t one = 1;
		(void)!write(h->efd, &one, sizeof one);
	}
}

static void on_done(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct hasher *h = data;
	(void)loop;
	(void)events;
	uint64_t n;
	(void)!read(fd, &n, sizeof n);
	pthread_mutex_lock(&h->mu);
	struct hash_job *list = h->done;
	h->done = NULL;
	pthread_mutex_unlock(&h->mu);
	/* The list is newest first; reverse it to answer in finishing order. */
	struct hash_job *rev = NULL;
	while (list) {
		struct hash_job *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct hash_job *j = rev;
		rev = j->next;
		h->queued--;
		j->cb(j->arg, j->ok, j->error, j->verify ? NULL : j->stored);
		explicit_bzero(j, sizeof *j);
		free(j);
	}
}

struct hasher *hasher_create(struct loop *loop, int threads)
{
	struct hasher *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->loop = loop;
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->threads = calloc((size_t)threads, sizeof *h->threads);
	if (h->efd < 0 || !h->threads)
		goto fail;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (loop_add(loop, h->efd, EPOLLIN, on_done, h) < 0)
		goto fail_sync;
	/* Workers must not take the daemon's signals (they are read through a
	 * signalfd on the loop thread). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&h->threads[i], NULL, worker, h) != 0)
			break;
		h->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->nthreads == 0) {
		loop_del(loop, h->efd);
		goto fail_sync;
	}
	return h;
fail_sync:
	pthread_cond_destroy(&h->idle);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
fail:
	if (h->efd >= 0)
		close(h->efd);
	free(h->threads);
	free(h);
	return NULL;
}

void hasher_destroy(struct hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i], NULL);
	/* Answer what is left (finished or not) so that no request is lost. */
	on_done(h->loop, h->efd, 0, h);
	for (struct hash_job *j = h->todo_head, *next; j; j = next) {
		next = j->next;
		j->cb(j->arg, false, true, NULL);
		explicit_bzero(j, sizeof *j);
		free(j);
	}
	h->todo_head = h->todo_tail = NULL;
	loop_del(h->loop, h->efd);
	close(h->efd);
	pthread_cond_destroy(&h->idle);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->threads);
	free(h);
}

void hasher_drain(struct hasher *h)
{
	pthread_mutex_lock(&h->mu);
	while (h->todo_head || h->busy > 0)
		pthread_cond_wait(&h->idle, &h->mu);
	pthread_mutex_unlock(&h->mu);
	on_done(h->loop, h->efd, 0, h);
}

static int submit(struct hasher *h, struct hash_job *j)
{
	if (h->queued >= HASHER_QUEUE_MAX) {
		explicit_bzero(j, sizeof *j);
		free(j);
		return -1;
	}
	h->queued++;
	pthread_mutex_lock(&h->mu);
	if (h->todo_tail)
		h->todo_tail->next = j;
	else
		h->todo_head = j;
	h->todo_tail = j;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

int hasher_hash(struct hasher *h, const char *password, int cost, hasher_done_cb cb, void *arg)
{
	if (strlen(password) > AUTH_PASSWORD_MAX)
		return -1;
	struct hash_job *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	strcpy(j->password, password);
	j->cost = cost;
	j->cb = cb;
	j->arg = arg;
	return submit(h, j);
}

int hasher_verify(struct hasher *h, const char *password, const char *stored, hasher_done_cb cb, void *arg)
{
	if (strlen(password) > AUTH_PASSWORD_MAX || strlen(stored) >= sizeof ((struct hash_job *)0)->stored)
		return -1;
	struct hash_job *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	j->verify = true;
	strcpy(j->password, password);
	strcpy(j->stored, stored);
	j->cb = cb;
	j->arg = arg;
	return submit(h, j);
}
