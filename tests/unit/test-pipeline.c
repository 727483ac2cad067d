// SPDX-License-Identifier: GPL-2.0-or-later
/* The ordered parallel loop: order kept, bounded slots, errors and cancel stop it. */
#include "collector/pipeline.h"
#include "collector/progress.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define CHUNKS 500

struct user {
	uint64_t next, limit;
	uint64_t consumed;
	uint64_t order_errors;
	int fail_work_at, fail_consume_at; /* chunk numbers, or -1 */
	volatile sig_atomic_t cancel;
	int cancel_at;
	pthread_mutex_t lock;
	unsigned busy, max_busy; /* slots held: filled and not yet consumed */
};

struct slot {
	uint64_t pfn;
	uint64_t value;
};

static bool next(void *u, uint64_t *pfn, uint32_t *n)
{
	struct user *x = u;

	if (x->next >= x->limit)
		return false;
	*pfn = x->next++ * 10;
	*n = 10;
	return true;
}

static int work(void *u, void *worker, void *slot, uint64_t pfn, uint32_t n)
{
	struct user *x = u;
	struct slot *s = slot;

	/* uneven work: later chunks often finish first */
	if ((pfn / 10) % 7 == 0)
		usleep(200);
	if (x->fail_work_at >= 0 && pfn / 10 == (uint64_t)x->fail_work_at)
		return -ENOMEM;
	s->pfn = pfn;
	s->value = pfn * 3;
	pthread_mutex_lock(&x->lock);
	x->busy++;
	x->max_busy = MAX(x->max_busy, x->busy);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static int consume(void *u, void *slot, uint64_t pfn, uint32_t n)
{
	struct user *x = u;
	struct slot *s = slot;

	pthread_mutex_lock(&x->lock);
	x->busy--;
	pthread_mutex_unlock(&x->lock);
	if (s->pfn != pfn || pfn != x->consumed * 10 || s->value != pfn * 3)
		x->order_errors++;
	if (x->fail_consume_at >= 0 && x->consumed == (uint64_t)x->fail_consume_at)
		return -ENOSPC;
	x->consumed++;
	if (x->cancel_at >= 0 && x->consumed == (uint64_t)x->cancel_at)
		x->cancel = 1;
	return 0;
}

static const struct pipeline_ops ops = { .next = next, .work = work, .consume = consume };

static int run(struct user *x, unsigned workers, unsigned n_slots)
{
	struct slot mem[16];
	void *slots[16], *states[8] = {};
	struct pipeline_params p = {
		.ops = &ops,
		.user = x,
		.workers = states,
		.n_workers = workers,
		.slots = slots,
		.n_slots = n_slots,
		.cancel = &x->cancel,
	};

	for (unsigned i = 0; i < n_slots; i++)
		slots[i] = &mem[i];
	return pipeline_run(&p);
}

static void init(struct user *x)
{
	*x = (struct user){
		.limit = CHUNKS, .fail_work_at = -1, .fail_consume_at = -1, .cancel_at = -1
	};
	pthread_mutex_init(&x->lock, NULL);
}

static void test_order(void **state)
{
	struct user x;

	for (unsigned w = 1; w <= 8; w *= 2) {
		init(&x);
		assert_int_equal(run(&x, w, 2 * w), 0);
		assert_int_equal(x.consumed, CHUNKS);
		assert_int_equal(x.order_errors, 0);
		assert_true(x.max_busy <= 2 * w);
	}
	init(&x);
	x.limit = 0;
	assert_int_equal(run(&x, 3, 6), 0);
	assert_int_equal(x.consumed, 0);
}

static void test_errors(void **state)
{
	struct user x;

	init(&x);
	x.fail_work_at = 123;
	assert_int_equal(run(&x, 4, 8), -ENOMEM);
	/* everything before the failed chunk may be consumed, nothing after it */
	assert_true(x.consumed <= 123);
	assert_int_equal(x.order_errors, 0);

	init(&x);
	x.fail_consume_at = 77;
	assert_int_equal(run(&x, 4, 8), -ENOSPC);
	assert_int_equal(x.consumed, 77);

	init(&x);
	x.cancel_at = 50;
	assert_int_equal(run(&x, 2, 4), -EINTR);
	assert_int_equal(x.consumed, 50);

	init(&x);
	assert_int_equal(run(&x, 0, 4), -EINVAL);
	assert_int_equal(run(&x, 1, 0), -EINVAL);
}

static void test_progress_format(void **state)
{
	char buf[128];

	progress_format(0, 524288, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0% of 2.0 GiB");
	progress_format(131072, 524288, 2.0, buf, sizeof(buf));
	assert_string_equal(buf, "25% of 2.0 GiB, 268 MB/s, 6 s left");
	progress_format(524288, 524288, 4.0, buf, sizeof(buf));
	assert_string_equal(buf, "100% of 2.0 GiB, 537 MB/s, 4.0 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_progress_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
