// SPDX-License-Identifier: GPL-2.0-or-later
/* The hotplug debounce, driven by a simulated clock. */
#include "loader/debounce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define MS 1000ULL
#define S 1000000ULL

/*
 * A simulated daemon: events at the given times (microseconds, ascending);
 * the clock jumps from event to event and to each due time, as sd-event
 * would wake the daemon. Returns how many reloads happened before end, and
 * when (reload_at) with how many events each (reload_events).
 */
static unsigned simulate(uint64_t quiet, uint64_t max_delay, const uint64_t *events, size_t n,
			 uint64_t end, uint64_t *reload_at, unsigned *reload_events, size_t max)
{
	struct debounce d;
	unsigned reloads = 0, count;
	size_t i = 0;

	debounce_init(&d, quiet, max_delay);
	for (;;) {
		uint64_t next_event = i < n ? events[i] : UINT64_MAX;
		uint64_t due = debounce_due(&d);
		uint64_t now = MIN(next_event, due);

		if (now > end)
			break;
		if (due <= next_event) {
			assert_true(debounce_fire(&d, now, &count));
			if (reloads < max) {
				reload_at[reloads] = now;
				reload_events[reloads] = count;
			}
			reloads++;
		} else
			debounce_event(&d, events[i++]);
	}
	return reloads;
}

static void test_idle(void **state)
{
	struct debounce d;

	debounce_init(&d, 1 * S, 10 * S);
	assert_int_equal(debounce_due(&d), DEBOUNCE_NEVER);
	assert_false(debounce_fire(&d, 0, NULL));
	assert_false(debounce_fire(&d, UINT64_MAX, NULL));
}

static void test_one_event(void **state)
{
	struct debounce d;
	unsigned n = 99;

	debounce_init(&d, 1 * S, 10 * S);
	assert_int_equal(debounce_event(&d, 5 * S), 6 * S);
	assert_false(debounce_fire(&d, 6 * S - 1, &n));
	assert_int_equal(n, 99); /* untouched when not due */
	assert_true(debounce_fire(&d, 6 * S, &n));
	assert_int_equal(n, 1);
	/* Fired once: nothing pending any more. */
	assert_false(debounce_fire(&d, 7 * S, &n));
	assert_int_equal(debounce_due(&d), DEBOUNCE_NEVER);
}

/* 32 memory-block events within one second: one reload, a quiet period after the last. */
static void test_storm_is_one_reload(void **state)
{
	uint64_t events[32], at[4];
	unsigned counts[4];

	for (size_t i = 0; i < 32; i++)
		events[i] = 100 * S + i * 31 * MS; /* 0 .. 961 ms */
	assert_int_equal(simulate(1 * S, 10 * S, events, 32, 200 * S, at, counts, 4), 1);
	assert_int_equal(at[0], 100 * S + 961 * MS + 1 * S);
	assert_int_equal(counts[0], 32);
}

/* Two bursts far apart: two reloads. */
static void test_two_bursts(void **state)
{
	const uint64_t events[] = { 1 * S, 1 * S + 200 * MS, 1 * S + 400 * MS, 30 * S,
				    30 * S + 5 * MS };
	uint64_t at[4];
	unsigned counts[4];

	assert_int_equal(
		simulate(1 * S, 10 * S, events, ELEMENTSOF(events), 100 * S, at, counts, 4), 2);
	assert_int_equal(at[0], 2 * S + 400 * MS);
	assert_int_equal(counts[0], 3);
	assert_int_equal(at[1], 31 * S + 5 * MS);
	assert_int_equal(counts[1], 2);
}

/* A steady stream (one event every 500 ms for 35 s) reloads every max_delay, not never. */
static void test_stream_capped_by_max_delay(void **state)
{
	uint64_t events[70], at[8];
	unsigned counts[8];

	for (size_t i = 0; i < 70; i++)
		events[i] = i * 500 * MS;
	/* Each burst is cut at 10 s after its first event. */
	assert_int_equal(simulate(1 * S, 10 * S, events, 70, 100 * S, at, counts, 8), 4);
	assert_int_equal(at[0], 10 * S);
	assert_int_equal(counts[0], 20); /* 0, 0.5, ..., 9.5 s */
	/* The event at exactly 10 s comes after that reload and starts the next burst. */
	assert_int_equal(at[1], 20 * S);
	assert_int_equal(counts[1], 20);
	assert_int_equal(at[2], 30 * S);
	assert_int_equal(counts[2], 20);
	/* The last burst (30 .. 34.5 s) ends by the quiet period. */
	assert_int_equal(at[3], 34 * S + 500 * MS + 1 * S);
	assert_int_equal(counts[3], 10);
}

static void test_zero_quiet_reloads_at_once(void **state)
{
	struct debounce d;
	unsigned n;

	debounce_init(&d, 0, 10 * S);
	assert_int_equal(debounce_event(&d, 7 * S), 7 * S);
	assert_true(debounce_fire(&d, 7 * S, &n));
	assert_int_equal(n, 1);
}

/* max_delay below quiet: max_delay wins. */
static void test_max_delay_below_quiet(void **state)
{
	struct debounce d;

	debounce_init(&d, 5 * S, 2 * S);
	assert_int_equal(debounce_event(&d, 1 * S), 3 * S);
	assert_int_equal(debounce_event(&d, 2 * S), 3 * S);
	assert_false(debounce_fire(&d, 3 * S - 1, NULL));
	assert_true(debounce_fire(&d, 3 * S, NULL));
}

static void test_cancel_and_clock_going_back(void **state)
{
	struct debounce d;
	unsigned n;

	debounce_init(&d, 1 * S, 10 * S);
	debounce_event(&d, 50 * S);
	debounce_cancel(&d);
	assert_int_equal(debounce_due(&d), DEBOUNCE_NEVER);
	assert_false(debounce_fire(&d, 100 * S, NULL));
	/* A new burst counts from its own first event. */
	assert_int_equal(debounce_event(&d, 60 * S), 61 * S);
	/* An event stamped earlier than the last does not pull the due time back. */
	assert_int_equal(debounce_event(&d, 59 * S), 61 * S);
	assert_true(debounce_fire(&d, 61 * S, &n));
	assert_int_equal(n, 2);
}

static void test_no_overflow_near_the_end_of_time(void **state)
{
	struct debounce d;

	debounce_init(&d, UINT64_MAX, UINT64_MAX);
	assert_true(debounce_event(&d, UINT64_MAX - 5) < DEBOUNCE_NEVER);
	assert_false(debounce_fire(&d, UINT64_MAX - 5, NULL));
	assert_true(debounce_fire(&d, UINT64_MAX - 1, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_one_event),
		cmocka_unit_test(test_storm_is_one_reload),
		cmocka_unit_test(test_two_bursts),
		cmocka_unit_test(test_stream_capped_by_max_delay),
		cmocka_unit_test(test_zero_quiet_reloads_at_once),
		cmocka_unit_test(test_max_delay_below_quiet),
		cmocka_unit_test(test_cancel_and_clock_going_back),
		cmocka_unit_test(test_no_overflow_near_the_end_of_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
