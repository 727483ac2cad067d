// SPDX-License-Identifier: GPL-2.0-or-later
#include "debounce.h"

void debounce_init(struct debounce *d, uint64_t quiet_usec, uint64_t max_delay_usec)
{
	*d = (struct debounce){ .quiet_usec = quiet_usec, .max_delay_usec = max_delay_usec };
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX - 1 : a + b;
}

uint64_t debounce_due(const struct debounce *d)
{
	if (!d->pending)
		return DEBOUNCE_NEVER;
	return MIN(add_sat(d->last_usec, d->quiet_usec), add_sat(d->first_usec, d->max_delay_usec));
}

uint64_t debounce_event(struct debounce *d, uint64_t now)
{
	if (!d->pending) {
		d->pending = true;
		d->first_usec = now;
		d->events = 0;
	}
	/* A clock that went back (it should not) must not stretch the burst. */
	d->last_usec = MAX(now, d->last_usec);
	d->events++;
	return debounce_due(d);
}

bool debounce_fire(struct debounce *d, uint64_t now, unsigned *ret_events)
{
	if (!d->pending || now < debounce_due(d))
		return false;
	if (ret_events)
		*ret_events = d->events;
	debounce_cancel(d);
	return true;
}

void debounce_cancel(struct debounce *d)
{
	d->pending = false;
	d->events = 0;
	d->first_usec = d->last_usec = 0;
}
