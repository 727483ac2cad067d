/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: a small synthetic machine whose vmcore has real x86_64 page
 * tables, a mem_section table and struct page arrays laid out as a 6.1 or a
 * 6.12 kernel lays them out, with the VMCOREINFO that kernel would export.
 * Tests mark pfns as free blocks, page cache, anonymous memory, THPs,
 * hugetlb pages and so on, write the vmcore and classify it.
 *
 * Memory: PSYNTH_SECTIONS sections of PSYNTH_SECTION_PAGES pages
 * (NUMBER(SECTION_SIZE_BITS) is 22: 4 MiB sections, small enough for a
 * unit test, large enough for a buddy block of the largest order). Section
 * PSYNTH_HOLE_SECTION is no RAM (no PT_LOAD, no memory map); the last one
 * holds the page tables, mem_section and the memory maps.
 *
 *	struct psynth *ps = psynth_new(&(struct psynth_spec){ .kernel = PSYNTH_6_12 });
 *	psynth_buddy(ps, 1024, 10);
 *	psynth_thp(ps, 512, 9, PSYNTH_ANON);
 *	_cleanup_free_ char *path = psynth_write(ps);
 */
#pragma once

#include "util.h"

#define PSYNTH_SECTION_SHIFT 10
#define PSYNTH_SECTION_PAGES (1ULL << PSYNTH_SECTION_SHIFT)
#define PSYNTH_SECTIONS 6
#define PSYNTH_HOLE_SECTION 2
#define PSYNTH_META_SECTION (PSYNTH_SECTIONS - 1)
#define PSYNTH_PAGES (PSYNTH_SECTIONS * PSYNTH_SECTION_PAGES)
#define PSYNTH_VMEMMAP 0xffffea0000000000ULL
#define PSYNTH_PAGE_OFFSET 0xffff888000000000ULL

enum psynth_kernel {
	PSYNTH_6_1, /* 6.1.0-56-amd64's VMCOREINFO: page types as inverted bits, PG_slab, dtor */
	PSYNTH_6_12, /* 6.12: page type in the top byte, folio order in _flags_1 */
	PSYNTH_6_3, /* 6.3 .. 6.5: OFFSET(folio._folio_order) and _folio_dtor */
	PSYNTH_6_8, /* 6.6 .. 6.8: order in _flags_1, NUMBER(PG_hugetlb), no offsets */
};

enum psynth_memmap {
	PSYNTH_VMEMMAP_2M, /* one vmemmap, mapped by a 2 MiB page */
	PSYNTH_VMEMMAP_4K, /* one vmemmap, 4 KiB pages scattered, one left unmapped */
	PSYNTH_CLASSIC, /* a memory map per section in the direct map (no vmemmap) */
};

struct psynth_spec {
	enum psynth_kernel kernel;
	enum psynth_memmap memmap;
	bool flat; /* SPARSEMEM without EXTREME */
	bool symbol_is_pointer; /* SYMBOL(mem_section) names the pointer (old kernels' bug) */
	/* VMCOREINFO lines put first (the first of a key wins: overrides) */
	const char *vmcoreinfo_prepend;
	/* keys ("NUMBER(PG_lru)") whose lines are left out */
	const char *const *vmcoreinfo_drop;
	bool no_vmcoreinfo;
	/* mem_section points at a vmemmap that nothing maps */
	bool memmap_unmapped;
	/* one more PT_LOAD without bytes in the file (memory far away, or absurd) */
	uint64_t extra_ram_start, extra_ram_size;
};

/* The pfns the 4 KiB vmemmap leaves without a readable struct page. */
#define PSYNTH_UNMAPPED_FIRST (4 * PSYNTH_SECTION_PAGES + 64)
#define PSYNTH_UNMAPPED_PAGES 64

enum psynth_kind {
	PSYNTH_ANON,
	PSYNTH_CACHE,
	PSYNTH_CACHE_PRIVATE,
};

struct psynth;

struct psynth *psynth_new(const struct psynth_spec *spec);
void psynth_free(struct psynth *ps);

/* The struct page of pfn, to edit by hand. */
uint8_t *psynth_page(struct psynth *ps, uint64_t pfn);
/* Its kernel virtual address (what compound_head points at). */
uint64_t psynth_page_vaddr(struct psynth *ps, uint64_t pfn);

void psynth_buddy(struct psynth *ps, uint64_t pfn, unsigned order);
/* A free block's head whose page->private holds order as given (even a bad one). */
void psynth_buddy_raw(struct psynth *ps, uint64_t pfn, uint64_t private_value);
void psynth_cache(struct psynth *ps, uint64_t pfn, bool with_private);
/* PG_swapcache, with or without PG_swapbacked, not on the LRU, not anonymous */
void psynth_swapcache(struct psynth *ps, uint64_t pfn, bool swapbacked);
void psynth_anon(struct psynth *ps, uint64_t pfn);
/* KSM: mapping has PAGE_MAPPING_ANON and PAGE_MAPPING_MOVABLE */
void psynth_ksm(struct psynth *ps, uint64_t pfn);
/* A compound page of 1 << order pages (head and tails) of kind. */
void psynth_thp(struct psynth *ps, uint64_t head, unsigned order, enum psynth_kind kind);
void psynth_hugetlb(struct psynth *ps, uint64_t head, unsigned order);
/* A slab page whose other fields look anonymous and free: it must stay. */
void psynth_slab(struct psynth *ps, uint64_t pfn);
void psynth_offline(struct psynth *ps, uint64_t pfn);
void psynth_hwpoison(struct psynth *ps, uint64_t pfn);
/* Sets the page type of pfn to the buddy type with these low 24 bits (6.12 only). */
void psynth_buddy_low_bits(struct psynth *ps, uint64_t pfn, unsigned order, uint32_t low);

/* The VMCOREINFO text the vmcore will carry. */
const char *psynth_vmcoreinfo(struct psynth *ps);
/* Writes the vmcore to a new temporary file; the caller unlinks and frees the path. */
char *psynth_write(struct psynth *ps);
