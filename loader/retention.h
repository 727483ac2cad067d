/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Retention: keep at most N dumps and at most so many bytes of them,
 * removing the oldest first, but never the newest complete dump (it may be
 * the only one that tells what happened).
 */
#pragma once

#include "dumps.h"

/*
 * Marks in remove[] (l->count entries) the dumps to delete for keep (0: any
 * number) and max_bytes (0: any size). Returns how many are marked. When the
 * limits cannot be met without the newest complete dump, it stays and the
 * limit is exceeded.
 */
size_t retention_plan(const struct dump_list *l, unsigned keep, uint64_t max_bytes, bool *remove);

struct retention_result {
	unsigned removed;
	uint64_t freed; /* bytes */
	unsigned failed; /* dumps that could not be removed */
	unsigned kept;
	uint64_t kept_bytes;
};

/*
 * Applies the settings' keep_dumps and max_dumps_size to the dumps in dir,
 * logging each removal. Errors removing one dump are logged and counted;
 * the others still go.
 */
int retention_apply(const char *dir, unsigned keep, uint64_t max_bytes,
		    struct retention_result *ret);
