// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk number seq lives in slot seq % n_slots; a worker may take chunk
 * seq only once chunk seq - n_slots has been consumed. One lock guards the
 * counters; the work itself runs unlocked.
 *
 * The calling thread consumes, so that writing (which may block on the
 * disk) overlaps the work of every worker. But a worker that finds every
 * slot taken and the oldest chunk ready, with nobody consuming, consumes
 * it (and the ready ones after it) itself rather than wait: on a loaded
 * machine the calling thread, woken once per chunk, was often not
 * scheduled, and the workers sat waiting for it (on the 2-CPU VM at load
 * 6, 0.8 s of a 3.2 CPU-second dump). Chunks are consumed one at a time,
 * whoever does it.
 */
#include "pipeline.h"
#include "log.h"

#include <pthread.h>
#include <time.h>

/* The calling thread looks at the cancel flag at least this often while it waits. */
#define CANCEL_POLL_NS (100 * 1000 * 1000L)

struct slot_info {
	bool ready;
	uint64_t pfn;
	uint32_t n;
};

struct pipeline {
	const struct pipeline_params *p;
	pthread_mutex_t lock;
	pthread_cond_t slot_free; /* workers wait for a slot */
	pthread_cond_t chunk_ready; /* the calling thread waits for the oldest chunk, or the end */
	uint64_t taken; /* chunks handed to workers */
	uint64_t consumed;
	bool consuming; /* a worker is consuming: chunks are consumed one at a time */
	/* A wake-up costs a futex call: only a waiting thread is signalled. */
	unsigned workers_waiting;
	bool consumer_waiting;
	bool exhausted; /* next() said there is no more */
	bool stop;
	int error;
	struct slot_info *info;
};

struct worker_arg {
	struct pipeline *pl;
	void *state;
};

static bool cancelled(const struct pipeline *pl)
{
	return pl->p->cancel && *pl->p->cancel;
}

static bool finished(const struct pipeline *pl)
{
	return pl->stop || (pl->exhausted && pl->consumed == pl->taken);
}

/* With the lock held. */
static void pipeline_fail(struct pipeline *pl, int r)
{
	if (!pl->error)
		pl->error = r;
	pl->stop = true;
	pthread_cond_broadcast(&pl->slot_free);
	pthread_cond_signal(&pl->chunk_ready);
}

/* With the lock held. */
static bool oldest_ready(const struct pipeline *pl)
{
	return !pl->consuming && pl->consumed < pl->taken &&
	       pl->info[pl->consumed % pl->p->n_slots].ready;
}

/*
 * With the lock held: consumes the ready chunks in order, unless another
 * worker is at it (it will see the chunks made ready meanwhile: it looks
 * again, under the lock, after each one).
 */
static void consume_ready(struct pipeline *pl)
{
	const struct pipeline_params *p = pl->p;

	if (pl->consuming)
		return;
	pl->consuming = true;
	while (!pl->stop && pl->consumed < pl->taken) {
		struct slot_info *si = &pl->info[pl->consumed % p->n_slots];
		unsigned slot = pl->consumed % p->n_slots;
		int r;

		if (!si->ready)
			break;
		/* Nothing is written after the cancel flag is seen. */
		if (cancelled(pl)) {
			pipeline_fail(pl, -EINTR);
			break;
		}
		pthread_mutex_unlock(&pl->lock);

		r = p->ops->consume(p->user, p->slots[slot], si->pfn, si->n);

		pthread_mutex_lock(&pl->lock);
		si->ready = false;
		pl->consumed++;
		if (pl->workers_waiting)
			pthread_cond_signal(&pl->slot_free);
		if (r < 0)
			pipeline_fail(pl, r);
	}
	pl->consuming = false;
	if (finished(pl))
		pthread_cond_signal(&pl->chunk_ready);
}

static void *worker_main(void *arg)
{
	struct worker_arg *a = arg;
	struct pipeline *pl = a->pl;
	const struct pipeline_params *p = pl->p;

	pthread_mutex_lock(&pl->lock);
	for (;;) {
		struct slot_info *si;
		uint64_t pfn;
		uint32_t n;
		unsigned slot;
		int r;

		if (pl->stop || pl->exhausted)
			break;
		if (cancelled(pl)) {
			pipeline_fail(pl, -EINTR);
			break;
		}
		if (pl->taken >= pl->consumed + p->n_slots) {
			if (oldest_ready(pl)) {
				consume_ready(pl);
				continue;
			}
			pl->workers_waiting++;
			pthread_cond_wait(&pl->slot_free, &pl->lock);
			pl->workers_waiting--;
			continue;
		}
		if (!p->ops->next(p->user, &pfn, &n)) {
			pl->exhausted = true;
			if (finished(pl))
				pthread_cond_signal(&pl->chunk_ready);
			break;
		}
		slot = pl->taken % p->n_slots;
		pl->taken++;
		si = &pl->info[slot];
		*si = (struct slot_info){ .pfn = pfn, .n = n };
		pthread_mutex_unlock(&pl->lock);

		r = p->ops->work(p->user, a->state, p->slots[slot], pfn, n);

		pthread_mutex_lock(&pl->lock);
		if (r < 0) {
			pipeline_fail(pl, r);
			break;
		}
		si->ready = true;
		if (pl->consumer_waiting && oldest_ready(pl))
			pthread_cond_signal(&pl->chunk_ready);
	}
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

static void deadline_from_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += CANCEL_POLL_NS;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The calling thread: consumes until the end, and stops the loop when cancelled. */
static void consume_all(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->lock);
	while (!finished(pl)) {
		struct timespec ts;

		if (cancelled(pl)) {
			pipeline_fail(pl, -EINTR);
			break;
		}
		if (oldest_ready(pl)) {
			consume_ready(pl);
			continue;
		}
		deadline_from_now(&ts);
		pl->consumer_waiting = true;
		pthread_cond_timedwait(&pl->chunk_ready, &pl->lock, &ts);
		pl->consumer_waiting = false;
	}
	pthread_mutex_unlock(&pl->lock);
}

int pipeline_run(const struct pipeline_params *p)
{
	_cleanup_free_ struct slot_info *info = NULL;
	_cleanup_free_ pthread_t *tids = NULL;
	_cleanup_free_ struct worker_arg *args = NULL;
	struct pipeline pl = { .p = p };
	unsigned started = 0;
	int r;

	if (!p->ops || p->n_workers == 0 || p->n_slots == 0)
		return -EINVAL;
	info = calloc(p->n_slots, sizeof(*info));
	tids = calloc(p->n_workers, sizeof(*tids));
	args = calloc(p->n_workers, sizeof(*args));
	if (!info || !tids || !args)
		return -ENOMEM;
	pl.info = info;
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.slot_free, NULL);
	pthread_cond_init(&pl.chunk_ready, NULL);

	for (; started < p->n_workers; started++) {
		args[started] = (struct worker_arg){ .pl = &pl, .state = p->workers[started] };
		r = -pthread_create(&tids[started], NULL, worker_main, &args[started]);
		if (r < 0) {
			log_debug_errno(r, "Cannot start worker thread %u: %m", started);
			break;
		}
	}
	if (started == 0) {
		pl.error = -EAGAIN;
		pl.stop = true;
	} else
		consume_all(&pl);

	/* The workers end once the loop is stopped or exhausted; wake any still waiting. */
	pthread_mutex_lock(&pl.lock);
	pl.stop = true;
	pthread_cond_broadcast(&pl.slot_free);
	pthread_mutex_unlock(&pl.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);

	pthread_cond_destroy(&pl.chunk_ready);
	pthread_cond_destroy(&pl.slot_free);
	pthread_mutex_destroy(&pl.lock);
	return pl.error;
}
