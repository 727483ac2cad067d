/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which pages a dump level leaves out, decided from the dumped kernel's own
 * struct page array, the way that kernel version defines its flags,
 * mapcount/page_type, mapping and compound fields (VMCOREINFO gives the
 * numbers and offsets; lib/page-class.c holds the rules per version,
 * lib/mem-section.c finds struct page for a pfn).
 *
 * Dump level bits: 1 zero pages (the caller's job: it sees the bytes),
 * 2 page cache without private data, 4 all page cache, 8 user (anonymous and
 * hugetlbfs) pages, 16 free pages. As makedumpfile does, hardware-poisoned
 * and logically offline pages are left out at every level: reading a
 * poisoned page can stop the machine, and an offline page (balloon,
 * virtio-mem) is not the kernel's memory any more.
 *
 * Use:
 *	page_filter_new()        once per dump, before any thread starts
 *	page_filter_ctx_new()    one per thread, each with its own struct dump
 *	page_filter_classify()   runs of pfns, in any order; in pfn order is cheapest
 *
 * The filter is read-only after page_filter_new() and shared by all
 * threads. A struct dump is used by one thread at a time (see dump.h), so
 * each context reads struct pages through the dump handle it was given:
 * the one page_filter_new() saw for a single thread, or for several
 * threads one dump_open() of the same file per thread.
 */
#pragma once

#include "dump.h"
#include "util.h"

#define PAGE_FILTER_ZERO 1
#define PAGE_FILTER_CACHE 2
#define PAGE_FILTER_CACHE_PRIVATE 4
#define PAGE_FILTER_USER 8
#define PAGE_FILTER_FREE 16
#define PAGE_FILTER_ALL 31

/* Why a page was left out; index into page_filter_counts.pages. */
enum page_filter_class {
	PAGE_CLASS_CACHE, /* page cache without private data (bit 2, or bit 4) */
	PAGE_CLASS_CACHE_PRIVATE, /* page cache with private data (bit 4) */
	PAGE_CLASS_USER, /* anonymous pages, THP tails with their head (bit 8) */
	PAGE_CLASS_HUGETLB, /* hugetlbfs pages (bit 8) */
	PAGE_CLASS_FREE, /* buddy allocator, unaccepted memory (bit 16) */
	PAGE_CLASS_HWPOISON, /* every level */
	PAGE_CLASS_OFFLINE, /* every level */
	_PAGE_CLASS_MAX,
};

struct page_filter_counts {
	uint64_t pages[_PAGE_CLASS_MAX]; /* pages left out, by class */
	uint64_t unreadable; /* pages whose struct page could not be read: kept */
};

/* "cache", "cache_private", "user", "hugetlb", "free", "hwpoison", "offline" (JSON keys). */
const char *page_filter_class_to_string(enum page_filter_class c);
/* sum += c */
void page_filter_counts_add(struct page_filter_counts *sum, const struct page_filter_counts *c);
/* Pages left out, all classes together. */
uint64_t page_filter_counts_total(const struct page_filter_counts *c);

struct page_filter;
struct page_filter_ctx;

/*
 * Builds the filter for dump_level (0..31) from d's VMCOREINFO and memory
 * (mem_section, page tables). Call it at every level, 0 and 1 included:
 * poisoned and offline pages are left out at all of them. When VMCOREINFO
 * is missing, incomplete or not understood, or mem_section cannot be read,
 * it still succeeds: the filter applies only what needs no struct page
 * (bit 1, the caller's) and, when that lowers the level asked for,
 * *ret_why_fallback says why in one line ("VMCOREINFO has no
 * SYMBOL(mem_section)", ...). A level applied partly (a rule whose numbers
 * the kernel did not export) gives a reason too; otherwise it is NULL. The
 * string lives as long as the filter. Errors: -EINVAL a level outside
 * 0..31, -ENOMEM.
 */
int page_filter_new(struct dump *d, int dump_level, struct page_filter **ret,
		    const char **ret_why_fallback);
struct page_filter *page_filter_free(struct page_filter *f);
static inline void page_filter_freep(struct page_filter **f)
{
	page_filter_free(*f);
}
#define _cleanup_page_filter_ _cleanup_(page_filter_freep)

/* The dump level actually applied: the one asked for, less what cannot be decided. */
int page_filter_level(const struct page_filter *f);
/*
 * classify can leave anything out (the filter reads struct pages). False
 * after a fallback; then page_filter_classify() only clears the bitmap.
 */
bool page_filter_active(const struct page_filter *f);

/* A per-thread context; d: see the top of this file. */
int page_filter_ctx_new(const struct page_filter *f, struct dump *d, struct page_filter_ctx **ret);
struct page_filter_ctx *page_filter_ctx_free(struct page_filter_ctx *c);
static inline void page_filter_ctx_freep(struct page_filter_ctx **c)
{
	page_filter_ctx_free(*c);
}
#define _cleanup_page_filter_ctx_ _cleanup_(page_filter_ctx_freep)

/*
 * Classifies pfns [start_pfn, start_pfn + n): sets bit i of ret_exclude
 * (bit i % 64 of word i / 64; the caller's array of DIV_ROUND_UP(n, 64)
 * words, all written) when pfn start_pfn + i is to be left out, and adds
 * what it left out to *counts (may be NULL). Runs may come in any order and
 * need not be aligned: a free block or compound page that begins before
 * start_pfn is found by looking back, and one that runs past the end is
 * remembered for a call that continues where this one stopped. Pages whose
 * struct page cannot be read are kept. Errors: -ENOMEM only; reading
 * problems never fail a call.
 */
int page_filter_classify(struct page_filter_ctx *c, uint64_t start_pfn, size_t n,
			 uint64_t *ret_exclude, struct page_filter_counts *counts);
