/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress lines for the console of the crash kernel: percent, speed and
 * time left, at most one line a second (a serial console at 115200 baud
 * writes ~11 KB/s; every line printed delays the dump).
 */
#pragma once

#include "util.h"

struct progress {
	FILE *out; /* NULL: silent */
	double start, last;
	uint64_t total; /* pages to go through */
	uint64_t done;
	bool printed;
};

double progress_now(void);
/* out NULL: every call is a no-op. */
void progress_init(struct progress *p, FILE *out, uint64_t total_pages);
/* Counts pages gone through; prints when a second has passed since the last line. */
void progress_add(struct progress *p, uint64_t pages);
/* The 100% line, when any line was printed before (short dumps stay quiet). */
void progress_end(struct progress *p);
/* The line as printed, for tests: "45% of 2.0 GiB, 812 MB/s, 2 s left". */
void progress_format(uint64_t done, uint64_t total, double elapsed, char *buf, size_t len);
