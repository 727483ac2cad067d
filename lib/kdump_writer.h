/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing the kdump-compressed format (header_version 6, x86_64), the file
 * makedumpfile writes by default and crash, makedumpfile and libkdumpfile
 * read. The layout is fixed before the first page: header, sub-header and
 * notes, both bitmaps, then a descriptor area sized for every page that may
 * be stored, then the page data.
 *
 * Use:
 *	kdump_writer_new()        header, sub-header and notes are written
 *	kdump_writer_set_ram()    for each RAM range (bitmap 1)
 *	kdump_writer_reserve()    bitmap 1, the descriptor area, the zero page
 *	kdump_writer_add_page()   in strictly increasing pfn order
 *	kdump_writer_add_zero_page()
 *	kdump_writer_finish()     last bitmap-2 bits, final header status, fdatasync
 *
 * Compression is separate from writing (page-compress.h): each compressing
 * thread owns a kdump_compressor and fills struct kdump_page values; one thread hands them
 * to the writer in pfn order. The writer only copies bytes.
 *
 * Until kdump_writer_finish() succeeds the header says INCOMPLETE, and every
 * buffer flush also writes the bitmap-2 bits of the pages it committed (the
 * only time bitmap 2 is written: the writer holds a small window of it), so a
 * file cut short by a power loss or a dying collector reads as an INCOMPLETE
 * dump of the pages written so far. A page counts in bitmap 2 only once its
 * data and its descriptor are both in the file: pages never written are
 * "excluded" pages to readers, never descriptors pointing nowhere (see
 * kdump_writer.c for why).
 */
#pragma once

#include "page-compress.h"
#include "settings.h"
#include "sink.h"
#include "util.h"

#define KDUMP_HEADER_VERSION 6

#define KDUMP_UTS_LEN 65

/* The kernel's struct new_utsname: six NUL-padded fields. */
struct kdump_utsname {
	char sysname[KDUMP_UTS_LEN];
	char nodename[KDUMP_UTS_LEN];
	char release[KDUMP_UTS_LEN];
	char version[KDUMP_UTS_LEN];
	char machine[KDUMP_UTS_LEN];
	char domainname[KDUMP_UTS_LEN];
};

struct kdump_writer_params {
	struct kdump_utsname utsname;
	int64_t timestamp_sec; /* the crash time */
	int64_t timestamp_usec;
	unsigned nr_cpus; /* 0 is written as 1: crash rejects 0 */
	uint64_t phys_base;
	int dump_level; /* what the file excludes (0..31) */
	enum compression compression; /* status bits; pages must carry its flag or 0 */
	uint64_t max_mapnr; /* one past the highest pfn */
	const void *notes; /* the vmcore's ELF notes, copied verbatim; may be NULL */
	size_t notes_size;
	/* Where the VMCOREINFO text is inside notes; size 0 when there is none. */
	size_t vmcoreinfo_offset;
	size_t vmcoreinfo_size;
};

struct kdump_writer_stats {
	uint64_t pages_data; /* committed pages with their own bytes */
	uint64_t pages_zero; /* committed pages that point at the shared zero page */
	uint64_t file_size; /* bytes the file spans */
};

struct kdump_writer;

/*
 * Writes the header (status INCOMPLETE), the sub-header and the notes to fd,
 * which must be empty, seekable and open for writing; fd stays the caller's.
 * -EINVAL: bad parameters; -EOPNOTSUPP: no such compression.
 */
int kdump_writer_new(int fd, const struct kdump_writer_params *p, struct kdump_writer **ret);
/* The same into a sink (a file, or the flattened stream); the sink stays the caller's. */
int kdump_writer_new_sink(struct sink *s, const struct kdump_writer_params *p,
			  struct kdump_writer **ret);
struct kdump_writer *kdump_writer_free(struct kdump_writer *w);
static inline void kdump_writer_freep(struct kdump_writer **w)
{
	kdump_writer_free(*w);
}
#define _cleanup_kdump_writer_ _cleanup_(kdump_writer_freep)

/*
 * Marks pfns [pfn_start, pfn_end) as RAM (bitmap 1); before
 * kdump_writer_reserve(). The writer keeps the ranges, not a bitmap: its
 * memory does not grow with the RAM size.
 */
int kdump_writer_set_ram(struct kdump_writer *w, uint64_t pfn_start, uint64_t pfn_end);
/* Pages marked as RAM so far. */
uint64_t kdump_writer_ram_pages(struct kdump_writer *w);

/*
 * Fixes the layout for at most max_pages stored pages, writes bitmap 1 and,
 * when zero_page, the shared zero page that starts the data area. The header,
 * bitmap and descriptor blocks are allocated now (fallocate, where the file
 * system has it) so that finishing needs no new blocks on a full disk.
 */
int kdump_writer_reserve(struct kdump_writer *w, uint64_t max_pages, bool zero_page);

/*
 * Appends a page. pfn must be RAM and above every pfn added before. Data is
 * buffered; a write error is returned by this call or a later one and is
 * sticky: every later add returns it, and kdump_writer_finish() still
 * completes the file as INCOMPLETE with the pages committed before it.
 */
int kdump_writer_add_page(struct kdump_writer *w, uint64_t pfn, const struct kdump_page *page);
/* Appends pfn as a page of zeros, stored once (needs zero_page at reserve). */
int kdump_writer_add_zero_page(struct kdump_writer *w, uint64_t pfn);

/*
 * Flushes, writes bitmap 2 and the final header, and syncs. The status says
 * INCOMPLETE when incomplete is true or any write failed. Returns the first
 * write error of the writer's life (the file is then an INCOMPLETE dump of
 * the committed pages, as far as the disk allowed), else 0.
 */
int kdump_writer_finish(struct kdump_writer *w, bool incomplete);
void kdump_writer_get_stats(const struct kdump_writer *w, struct kdump_writer_stats *ret);
