// SPDX-License-Identifier: GPL-2.0-or-later
#include "progress.h"
#include "dump.h"

#include <inttypes.h>
#include <time.h>

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, FILE *out, uint64_t total_pages)
{
	*p = (struct progress){ .out = out, .total = total_pages };
	p->start = p->last = progress_now();
}

void progress_format(uint64_t done, uint64_t total, double elapsed, char *buf, size_t len)
{
	char size[32];
	double rate = elapsed > 0 ? done * (double)DUMP_PAGE_SIZE / elapsed : 0;
	unsigned pct = total ? (unsigned)(MIN(done, total) * 100 / total) : 100;

	format_size(total * DUMP_PAGE_SIZE, size, sizeof(size));
	if (done >= total)
		snprintf(buf, len, "100%% of %s, %.0f MB/s, %.1f s", size, rate / 1e6, elapsed);
	else if (rate > 0)
		snprintf(buf, len, "%u%% of %s, %.0f MB/s, %.0f s left", pct, size, rate / 1e6,
			 (total - done) * (double)DUMP_PAGE_SIZE / rate + 0.5);
	else
		snprintf(buf, len, "%u%% of %s", pct, size);
}

static void progress_print(struct progress *p, double now)
{
	char line[128];

	progress_format(p->done, p->total, now - p->start, line, sizeof(line));
	fprintf(p->out, "crashcap-collect: %s\n", line);
	fflush(p->out);
	p->printed = true;
	p->last = now;
}

void progress_add(struct progress *p, uint64_t pages)
{
	double now;

	p->done += pages;
	if (!p->out)
		return;
	now = progress_now();
	if (now - p->last >= 1.0)
		progress_print(p, now);
}

void progress_end(struct progress *p)
{
	if (p->out && p->printed) {
		p->done = p->total;
		progress_print(p, progress_now());
	}
}
