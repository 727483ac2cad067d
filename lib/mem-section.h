/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the dumped kernel keeps struct page for a pfn: the SPARSEMEM
 * mem_section table (flat or SPARSEMEM_EXTREME roots), whose entries encode
 * each present section's memory map. With SPARSEMEM_VMEMMAP every section
 * encodes the same base (vmemmap), so struct page lies at base + pfn *
 * SIZE(page) for all of memory and a run of pfns is one virtual range.
 * Facts from the kernel's include/linux/mmzone.h (sparse_encode_mem_map,
 * SECTION_* bits) and kernel/vmcore_info.c (what VMCOREINFO exports).
 */
#pragma once

#include "dump.h"
#include "util.h"

struct mem_sections;

/*
 * Reads the mem_section entries of the sections d's RAM (its segments)
 * lies in. On failure returns a negative errno and sets *ret_why to a
 * one-line reason: -ENOENT a VMCOREINFO entry is missing, -EINVAL one is
 * implausible, -E2BIG the segments span too many sections, -EIO
 * mem_section cannot be read, -ENODATA no section holds a memory map.
 */
int mem_sections_load(struct dump *d, struct mem_sections **ret, const char **ret_why);
struct mem_sections *mem_sections_free(struct mem_sections *ms);
static inline void mem_sections_freep(struct mem_sections **ms)
{
	mem_sections_free(*ms);
}
#define _cleanup_mem_sections_ _cleanup_(mem_sections_freep)

/* SIZE(page). */
size_t mem_sections_page_size(const struct mem_sections *ms);
/* Pages per section (a power of two). */
uint64_t mem_sections_pages_per_section(const struct mem_sections *ms);
/* Sections that hold a memory map. */
size_t mem_sections_present(const struct mem_sections *ms);
/* Every section encodes the same base (SPARSEMEM_VMEMMAP); *ret_base is it. */
bool mem_sections_linear(const struct mem_sections *ms, uint64_t *ret_base);

/* Kernel virtual address of pfn's struct page; -ENOENT when its section has no memory map. */
int mem_sections_page_addr(const struct mem_sections *ms, uint64_t pfn, uint64_t *ret);
/*
 * The pfn whose struct page is at addr (a compound_head pointer), looking
 * in near_pfn's section and the sections just below it. -ENOENT: none.
 */
int mem_sections_addr_to_pfn(const struct mem_sections *ms, uint64_t addr, uint64_t near_pfn,
			     uint64_t *ret_pfn);

/*
 * Reads the struct pages of pfns [pfn, pfn + n) into buf (n * SIZE(page)
 * bytes), as few reads as the mappings allow. ret_ok[i] says whether pfn + i
 * was read whole; what could not be read is zeros. Returns the number read.
 */
size_t mem_sections_read(struct dump *d, const struct mem_sections *ms, uint64_t pfn, size_t n,
			 void *buf, bool *ret_ok);
