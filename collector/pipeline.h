/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An ordered parallel loop over chunks of pfns: worker threads process
 * chunks as they come (read, classify, compress), and the results are
 * consumed strictly in chunk order (written), one at a time, by the calling
 * thread, or by a worker that would otherwise wait for it. Memory stays
 * bounded: a chunk is handed out only when one of n_slots result slots is
 * free, and a slot is freed when its chunk has been consumed.
 */
#pragma once

#include "util.h"

#include <signal.h>

struct pipeline_ops {
	/*
	 * The next chunk's first pfn and page count; false when there is no
	 * more. Called with the pipeline's lock held, from any thread.
	 */
	bool (*next)(void *user, uint64_t *ret_pfn, uint32_t *ret_n);
	/* On a worker thread, for one chunk into one slot; concurrent with other chunks. */
	int (*work)(void *user, void *worker, void *slot, uint64_t pfn, uint32_t n);
	/*
	 * For each chunk in the order next() gave them, never two at once:
	 * on the calling thread, or on a worker thread.
	 */
	int (*consume)(void *user, void *slot, uint64_t pfn, uint32_t n);
};

struct pipeline_params {
	const struct pipeline_ops *ops;
	void *user;
	void **workers; /* one state per worker thread */
	unsigned n_workers;
	void **slots;
	unsigned n_slots;
	/* Checked between chunks: when it reads non-zero, the loop ends with -EINTR. */
	const volatile sig_atomic_t *cancel;
};

/*
 * Runs the loop until next() has no more chunks and every chunk is
 * consumed. The first error of work() or consume() (or -EINTR) stops the
 * loop: chunks after it are not consumed, and it is returned.
 */
int pipeline_run(const struct pipeline_params *p);
