/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Turning a burst of hotplug events into one reload. A burst ends when no
 * event came for the quiet period, but a steady stream of events must not
 * hold a reload off for ever: the reload is due at the latest max_delay
 * after the burst's first event. Pure logic: the caller passes the time (a
 * monotonic clock in microseconds), so tests drive it with a simulated one.
 */
#pragma once

#include "util.h"

#define DEBOUNCE_NEVER UINT64_MAX

struct debounce {
	uint64_t quiet_usec;
	uint64_t max_delay_usec;
	bool pending; /* a burst is under way */
	uint64_t first_usec; /* its first event */
	uint64_t last_usec; /* its latest event */
	unsigned events; /* events in it */
};

void debounce_init(struct debounce *d, uint64_t quiet_usec, uint64_t max_delay_usec);
/* Records an event at now; returns when the burst is due (debounce_due()). */
uint64_t debounce_event(struct debounce *d, uint64_t now);
/* When the pending burst is due, or DEBOUNCE_NEVER when none is pending. */
uint64_t debounce_due(const struct debounce *d);
/*
 * Whether the burst is due at now. When it is, the burst ends (the caller
 * reloads) and ret_events (may be NULL) gets how many events it held.
 */
bool debounce_fire(struct debounce *d, uint64_t now, unsigned *ret_events);
/* Forgets a pending burst (a reload for another reason covered it). */
void debounce_cancel(struct debounce *d);
