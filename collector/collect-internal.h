/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What collect.c and the output formats (output-kdump.c, output-elf.c) share. */
#pragma once

#include "collect.h"
#include "dump.h"
#include "kdump_writer.h"
#include "page-source.h"
#include "pipeline.h"
#include "progress.h"
#include "sink.h"

#define CHUNK_WORDS PAGE_BITMAP_WORDS(PAGE_SOURCE_MAX_PAGES)

struct pfn_range {
	uint64_t start, end;
};

/* One worker thread's tools. */
struct collect_worker {
	struct dump *dump; /* its own handle of the vmcore */
	struct page_reader *reader;
	struct kdump_compressor *compressor; /* kdump format only */
	struct page_filter_ctx *filter; /* NULL: no page filter */
};

struct collect {
	const struct collect_options *o;
	struct collect_result *res;
	struct dump *dump;
	int level; /* applied */
	unsigned threads;
	unsigned n_slots;
	uint32_t chunk_pages;
	struct pfn_range *ram; /* RAM pfns (bitmap 1), sorted and merged */
	size_t n_ram;
	struct pfn_range *data; /* RAM pfns the vmcore holds bytes for */
	size_t n_data;
	uint64_t data_pages;
	struct page_source *src;
	struct page_filter *filter; /* NULL when nothing needs struct page */
	struct collect_worker **workers;
	struct progress progress;
};

/* Walks ranges in chunks of at most chunk pages that never cross a multiple of chunk. */
struct chunk_cursor {
	const struct pfn_range *r;
	size_t n, i;
	uint64_t pfn;
	uint32_t chunk;
};

void chunk_cursor_init(struct chunk_cursor *c, const struct pfn_range *r, size_t n, uint32_t chunk);
bool chunk_cursor_next(struct chunk_cursor *c, uint64_t *ret_pfn, uint32_t *ret_n);

/*
 * The page filter's verdict on pfns [pfn, pfn + n) (n bits of exclude;
 * all clear without a filter), with the pages left out added to counts.
 */
int collect_classify(struct collect *c, struct collect_worker *w, uint64_t pfn, uint32_t n,
		     uint64_t *exclude, struct page_filter_counts *counts);
/* Pages kept of n, given the exclude bits. */
uint32_t collect_count_kept(const uint64_t *exclude, uint32_t n);
/*
 * Bitmaps of pfns shared by threads: n bits of src or-ed into dst from bit
 * pos (atomically: chunks of two threads may share a word at their ends),
 * and n bits of src from bit pos copied out into ret (whole words, the
 * rest of the last one clear); true when all n are set.
 */
void collect_bits_or(uint64_t *dst, uint64_t pos, const uint64_t *src, uint32_t n);
bool collect_bits_get(const uint64_t *src, uint64_t pos, uint32_t n, uint64_t *ret);
/* Runs the pipeline over c's workers and the given slots (c->n_slots of them). */
int collect_run(struct collect *c, const struct pipeline_ops *ops, void *user, void **slots);

/* The dumped kernel's utsname, crash time, notes...: the kdump header's fields. */
void collect_writer_params(struct collect *c, struct kdump_writer_params *p);

/* Writes the dump into s; 0 also when writing stopped early (see res->write_error). */
int output_kdump(struct collect *c, struct sink *s);
int output_elf(struct collect *c, struct sink *s);
