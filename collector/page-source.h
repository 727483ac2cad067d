/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the dumped memory in chunks, from several threads at once. An ELF
 * vmcore's pages are mapped straight from the file (/proc/vmcore supports
 * mmap since Linux 3.12), so a chunk costs no copy and excluded pages are
 * never touched. A chunk that is not one piece of one PT_LOAD is copied into
 * a buffer run by run, each run split where the PT_LOAD holding it changes:
 * from mappings of at most a window each when the chunk could have been
 * mapped, else with pread; pages no PT_LOAD holds in the file go through the
 * dump reader (one thread at a time), as does every page of the cases it
 * alone handles: a truncated file, other dump formats.
 */
#pragma once

#include "dump.h"

/* The most pages one page_reader_get() may ask for. */
#define PAGE_SOURCE_MAX_PAGES 1024U
/* The most pages one mapping of part of a run covers, unless set otherwise. */
#define PAGE_SOURCE_MAP_WINDOW 256U
#define PAGE_BITMAP_WORDS(n) (((n) + 63) / 64)

static inline bool pagebit_test(const uint64_t *map, uint32_t i)
{
	return map[i / 64] & (1ULL << (i % 64));
}

static inline void pagebit_set(uint64_t *map, uint32_t i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

struct page_source;

/* d must outlive the source; no_mmap: pread only (tests, and the mmap-refused fallback). */
int page_source_new(struct dump *d, bool no_mmap, struct page_source **ret);
struct page_source *page_source_free(struct page_source *s);
static inline void page_source_freep(struct page_source **s)
{
	page_source_free(*s);
}
#define _cleanup_page_source_ _cleanup_(page_source_freep)
/*
 * A saved vmcore file is read with pread (faster than mapping the page
 * cache); on: map its chunks and runs as /proc/vmcore's are (tests).
 */
void page_source_map_files(struct page_source *s, bool on);
/* The most pages (1 .. PAGE_SOURCE_MAX_PAGES) one mapping of part of a run may cover (tests). */
int page_source_set_map_window(struct page_source *s, uint32_t pages);

struct page_source_stats {
	uint64_t chunks_mapped; /* whole chunks handed out as a mapping */
	uint64_t windows_copied; /* mappings of part of a run, copied into the buffer */
	uint64_t pieces_read; /* pieces of runs read with pread or the dump reader */
};
void page_source_get_stats(struct page_source *s, struct page_source_stats *ret);

/* One thread's reading state: its mapping or its buffer. */
struct page_reader;

/*
 * own: a dump handle of the same file for this reader alone (a struct dump
 * is used by one thread at a time), or NULL to share the source's, one
 * reader at a time.
 */
int page_reader_new(struct page_source *s, struct dump *own, struct page_reader **ret);
struct page_reader *page_reader_free(struct page_reader *r);
static inline void page_reader_freep(struct page_reader **r)
{
	page_reader_free(*r);
}
#define _cleanup_page_reader_ _cleanup_(page_reader_freep)

/*
 * Makes pages [pfn, pfn + n) readable: page i at *ret_base + i * 4096, until
 * the next call or page_reader_release(). want (n bits, NULL: all) says
 * which pages the caller will look at; others may hold anything. Wanted
 * pages that cannot be read (past the end of a truncated file, bad data)
 * get their bit in unreadable, and pages the dump does not hold at all (a
 * kdump-compressed input that excluded them) in absent (n bits each,
 * cleared first). Errors: -EINVAL (n too large), -ENOMEM.
 */
int page_reader_get(struct page_reader *r, uint64_t pfn, uint32_t n, const uint64_t *want,
		    uint64_t *unreadable, uint64_t *absent, const uint8_t **ret_base);
/*
 * As page_reader_get(), but pages that are read (not mapped) go into buf
 * (n pages, page i at buf + i * 4096): a caller that keeps them there
 * saves a copy. *ret_base is buf or a mapping.
 */
int page_reader_get_into(struct page_reader *r, uint64_t pfn, uint32_t n, const uint64_t *want,
			 uint64_t *unreadable, uint64_t *absent, uint8_t *buf,
			 const uint8_t **ret_base);
void page_reader_release(struct page_reader *r);
