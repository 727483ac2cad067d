/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * summary.json, written next to each dump by the collector's /init mode:
 * what was captured, how, how long it took, and whether it worked, for
 * people and for scripts (the QEMU tests read it).
 */
#pragma once

#include "settings.h"

#include "page-filter.h"
#include "version.h"

enum summary_result {
	SUMMARY_OK, /* a complete dump was saved */
	SUMMARY_INCOMPLETE, /* a dump was saved but misses pages (vmcore.incomplete) */
	SUMMARY_FAILED, /* no usable dump */
};

struct summary {
	const char *kernel_release; /* of the crashed kernel; NULL: unknown */
	const char *hostname; /* NULL: unknown */
	int64_t crash_time; /* seconds since the epoch (UTC); < 0: unknown */
	bool crash_time_from_dump; /* VMCOREINFO CRASHTIME, not the crash kernel's clock */
	const char *panic_message; /* NULL: none found */
	int dump_level_asked;
	int dump_level_applied; /* < 0: no dump was written */
	enum compression compression;
	uint64_t ram_bytes;
	uint64_t pages_total, pages_written, pages_zero, pages_unreadable;
	uint64_t output_bytes;
	const char *dump_file; /* "vmcore", "vmcore.incomplete", or NULL */
	double dump_seconds; /* collect_dump() alone */
	double total_seconds; /* since /init started */
	bool incomplete;
	enum summary_result result;
	const char *error; /* NULL when nothing went wrong */
	uint64_t peak_rss_bytes;
	const char *level_fallback; /* why the level applied is lower than asked; NULL: it is not */
	const struct page_filter_counts *excluded; /* left out by class; NULL: no filter ran */
	uint64_t pages_nodata; /* RAM the vmcore held no bytes for */
	unsigned threads; /* worker threads that wrote the dump */
};

const char *summary_result_to_string(enum summary_result r);
/* The process's peak resident set so far (getrusage), in bytes. */
uint64_t summary_peak_rss_bytes(void);
/* The JSON object, pretty-printed, to out. */
int summary_write(const struct summary *s, FILE *out);
/* The same to path, through a temporary file, fsync'ed, then renamed. */
int summary_write_file(const struct summary *s, const char *path);
