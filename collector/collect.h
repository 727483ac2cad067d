/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing a dump: a vmcore in, a kdump-compressed file out. Used by the
 * command-line mode on a saved vmcore and by the /init mode on /proc/vmcore.
 * Never prints except progress lines when asked.
 */
#pragma once

#include "settings.h"

struct collect_options {
	const char *vmcore_path;
	const char *output_path; /* created, or replaced */
	int dump_level;
	enum compression compression;
	int zstd_level;
	unsigned threads; /* 0: every CPU */
	bool progress; /* a line on stderr at most once per second */
};

struct collect_result {
	char release[65]; /* OSRELEASE of the dumped kernel, "" if unknown */
	uint64_t ram_bytes; /* memory the vmcore describes */
	uint64_t pages_total; /* pages of RAM in the vmcore */
	uint64_t pages_written; /* pages whose bytes are in the output */
	uint64_t pages_zero; /* left out as zero pages */
	uint64_t pages_unreadable; /* past the end of a truncated vmcore */
	uint64_t output_bytes;
	double seconds;
	bool incomplete; /* INCOMPLETE set in the header */
	int write_error; /* < 0: writing stopped (e.g. -ENOSPC); the file is an INCOMPLETE dump */
	int dump_level; /* what was applied (may be lower than asked: fallback) */
};

int collect_dump(const struct collect_options *o, struct collect_result *ret);
