/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing a dump: a vmcore in, a kdump-compressed file (or an ELF core, or
 * either as makedumpfile's flattened stream) out. Used by the command-line
 * mode on a saved vmcore and by the /init mode on /proc/vmcore. Never
 * prints except progress lines when asked.
 *
 * Pages go through a pipeline (collector/pipeline.h): worker threads read
 * a chunk of the vmcore (mapped when it is /proc/vmcore), classify its
 * pages (lib/page-filter.h), check for zero pages and compress; the chunks
 * are written in pfn order, by the calling thread or by a worker that
 * would otherwise wait for it. Memory stays bounded whatever the RAM size:
 * a few chunks in flight, and bitmaps written piece by piece.
 */
#pragma once

#include "page-filter.h"
#include "settings.h"

#include <signal.h>

enum collect_format {
	COLLECT_FORMAT_KDUMP, /* kdump-compressed, as makedumpfile writes by default */
	COLLECT_FORMAT_ELF, /* an ELF64 core like /proc/vmcore, excluded pages left out */
};

struct collect_options {
	const char *vmcore_path;
	const char *output_path; /* created, or replaced; "-" with flat: standard output */
	enum collect_format format;
	bool flat; /* makedumpfile's flattened format, for pipes (makedumpfile -R rebuilds) */
	int dump_level;
	enum compression compression; /* kdump format only */
	int zstd_level;
	unsigned threads; /* 0: every CPU */
	bool progress; /* a line on stderr at most once per second */
	/* When it reads non-zero, the dump stops and is finished as INCOMPLETE. */
	const volatile sig_atomic_t *cancel;
	bool no_mmap; /* read the vmcore with pread only */
	bool map_files; /* map a saved vmcore file as /proc/vmcore is (tests); else pread */
	/* Bound on chunk results in flight, all together; 0: COLLECT_INFLIGHT_DEFAULT. */
	uint64_t inflight_bytes;
};

#define COLLECT_INFLIGHT_DEFAULT (8U << 20)
/* Below this a chunk slot would be smaller than CHUNK_PAGES_MIN pages for 2 threads. */
#define COLLECT_INFLIGHT_MIN (1U << 20)

struct collect_result {
	char release[65]; /* OSRELEASE of the dumped kernel, "" if unknown */
	uint64_t ram_bytes; /* memory the vmcore describes */
	uint64_t pages_total; /* pages of RAM in the vmcore */
	uint64_t pages_written; /* pages whose bytes are in the output */
	uint64_t pages_zero; /* left out as zero pages */
	uint64_t pages_unreadable; /* past the end of a truncated vmcore */
	/* RAM the vmcore has no bytes for (p_filesz < p_memsz, or excluded by a dump it was read from) */
	uint64_t pages_nodata;
	struct page_filter_counts excluded; /* left out by the page filter, by class */
	uint64_t output_bytes;
	double seconds;
	bool incomplete; /* INCOMPLETE set in the header */
	int write_error; /* < 0: writing stopped (-ENOSPC, -EINTR...); the file is an INCOMPLETE dump */
	int dump_level; /* what was applied (may be lower than asked: fallback) */
	char fallback[200]; /* why dump_level is lower than asked; "" when it is not */
	unsigned threads; /* worker threads used */
	uint64_t inflight_bytes; /* chunk memory the pipeline may hold, as sized */
	uint64_t peak_rss_bytes; /* the process's peak resident set (getrusage) at the end */
};

int collect_dump(const struct collect_options *o, struct collect_result *ret);
