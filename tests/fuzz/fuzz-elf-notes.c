// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target for the ELF vmcore reader and what reads a dump's own
 * description of itself: the ELF headers and PT_LOADs (lib/dump-elf.c), the
 * notes (lib/elfnote.c), VMCOREINFO, and, through it, mem_section and
 * struct page (lib/mem-section.c, lib/page-filter.c). A vmcore is written
 * by a dying kernel and copied by hand: any bytes must open or be refused
 * cleanly, and a dump that opens must filter without reading out of bounds
 * or failing.
 *
 * Input: a whole ELF vmcore.
 *
 * With -DCRASHCAP_LIBFUZZER, libFuzzer drives LLVMFuzzerTestOneInput.
 * Without, main() runs it over two built-in tiny machines (a 6.1 and a 6.12
 * VMCOREINFO, struct pages of every kind) and the files named on the
 * command line, each with every prefix and byte changes in its headers and
 * notes; --quick takes fewer of them (for make check).
 */
#include <assert.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "dump.h"
#include "elfnote.h"
#include "page-filter.h"
#include "tests/unit/vmcore-synth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the last dump that opened was filtered to (for the seeds' own check). */
static struct page_filter_counts last_counts;
static bool last_active;

static void walk_notes(const uint8_t *data, size_t size)
{
	struct elf_note n;
	size_t off = 0;

	while (elf_note_next(data, size, &off, &n) > 0) {
		assert(n.desc_offset + n.desc_size <= size);
		assert(off <= size);
		(void)elf_note_name_is(&n, "VMCOREINFO");
	}
	if (elf_note_find(data, size, "VMCOREINFO", &n) >= 0)
		assert(n.desc_offset + n.desc_size <= size);
}

static void filter(struct dump *d, const struct dump_segment *seg, size_t n_seg)
{
	struct page_filter *f = NULL;
	struct page_filter_ctx *c = NULL;
	struct page_filter_counts counts = {};
	const char *why = NULL;
	uint64_t bits[256 / 64];
	uint64_t total = 0;

	assert(page_filter_new(d, 31, &f, &why) == 0);
	assert(page_filter_level(f) >= 0 && page_filter_level(f) <= 31);
	assert(page_filter_active(f) || (why && *why && page_filter_level(f) == 1));
	assert(page_filter_ctx_new(f, d, &c) == 0);
	for (size_t i = 0; i < n_seg && i < 4; i++) {
		uint64_t pfn = seg[i].phys_start / DUMP_PAGE_SIZE;
		size_t n = (size_t)MIN(256ULL, seg[i].mem_size / DUMP_PAGE_SIZE);

		assert(page_filter_classify(c, pfn, n, bits, &counts) == 0);
		total += n;
		/* from the middle too: the look-back */
		assert(page_filter_classify(c, pfn + 5, 7, bits, &counts) == 0);
		total += 7;
	}
	assert(page_filter_counts_total(&counts) + counts.unreadable <= total);
	last_counts = counts;
	last_active = page_filter_active(f);
	page_filter_ctx_free(c);
	page_filter_free(f);
}

static void exercise(struct dump *d)
{
	const struct dump_segment *seg;
	size_t n_seg, size, off, vsize;
	const void *notes = dump_notes(d, &size);
	uint8_t page[64];
	uint64_t pa;

	assert(size == 0 || notes);
	if (dump_vmcoreinfo_note_offset(d, &off, &vsize) >= 0)
		assert(off + vsize <= size);
	seg = dump_segments(d, &n_seg);
	for (size_t i = 0; i < n_seg && i < 8; i++)
		(void)dump_read_phys(d, seg[i].phys_start, page, sizeof(page));
	(void)dump_max_pfn(d);
	(void)dump_nr_cpus(d);
	if (dump_vtop(d, 0xffff888000001000ULL, &pa) >= 0)
		(void)dump_read_virt(d, 0xffff888000001000ULL, page, sizeof(page));
	filter(d, seg, n_seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dump *d = NULL;
	char path[64];
	int fd;

	walk_notes(data, size);
	fd = memfd_create("fuzz-elf-notes", MFD_CLOEXEC);
	assert(fd >= 0);
	assert(write_full_fd(fd, data, size) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (dump_open(path, &d) >= 0) {
		exercise(d);
		dump_free(d);
	}
	close(fd);
	return 0;
}

#ifndef CRASHCAP_LIBFUZZER
/* A tiny machine: 64 pages in four 16-page sections, no page tables (PT_LOAD addresses). */
#define TINY_PAGES 64
#define TINY_MEMMAP 0x3000
#define TINY_VMEMMAP 0xffffea0000000000ULL

static const char vi_common[] = "PAGESIZE=4096\n"
				"SYMBOL(mem_section)=ffff888000001000\n"
				"LENGTH(mem_section)=1073741824\n"
				"SIZE(mem_section)=16\n"
				"OFFSET(mem_section.section_mem_map)=0\n"
				"NUMBER(SECTION_SIZE_BITS)=16\n"
				"NUMBER(MAX_PHYSMEM_BITS)=46\n"
				"SIZE(page)=64\n"
				"OFFSET(page.flags)=0\n"
				"OFFSET(page.mapping)=24\n"
				"OFFSET(page._mapcount)=48\n"
				"OFFSET(page.private)=40\n"
				"OFFSET(page.compound_head)=8\n"
				"LENGTH(zone.free_area)=11\n";

static const char vi_61[] =
	"OSRELEASE=6.1.0-fuzz\n"
	"OFFSET(page.compound_dtor)=16\n"
	"OFFSET(page.compound_order)=17\n"
	"NUMBER(PG_lru)=4\nNUMBER(PG_private)=13\nNUMBER(PG_swapcache)=10\n"
	"NUMBER(PG_swapbacked)=19\nNUMBER(PG_slab)=9\nNUMBER(PG_hwpoison)=23\n"
	"NUMBER(PG_head_mask)=65536\nNUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
	"NUMBER(HUGETLB_PAGE_DTOR)=2\nNUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n";

static const char vi_612[] = "OSRELEASE=6.12.0-fuzz\n"
			     "NUMBER(PG_lru)=5\nNUMBER(PG_private)=14\nNUMBER(PG_swapcache)=10\n"
			     "NUMBER(PG_swapbacked)=17\n"
			     "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=-184549376\nNUMBER(PG_hwpoison)=20\n"
			     "NUMBER(PG_head_mask)=64\n"
			     "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456\n"
			     "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=-201326592\n"
			     "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-251658240\n";

static void put(uint8_t *ram, uint64_t pfn, unsigned off, uint64_t v, unsigned width)
{
	memcpy(ram + TINY_MEMMAP + pfn * 64 + off, &v, width);
}

static int seed(bool v612, uint8_t **ret, size_t *ret_size)
{
	static uint8_t ram[TINY_PAGES * 4096];
	char vi[2048];
	const struct synth_segment segs[] = {
		{ .phys_start = 0,
		  .mem_size = sizeof(ram),
		  .data = ram,
		  .virt_start = 0xffff888000000000ULL },
		{ .phys_start = TINY_MEMMAP,
		  .mem_size = 4096,
		  .data = ram + TINY_MEMMAP,
		  .virt_start = TINY_VMEMMAP },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = vi, .nr_cpus = 1, .segments = segs, .n_segments = ELEMENTSOF(segs)
	};
	_cleanup_free_ char *path = NULL;
	uint64_t lru = v612 ? 5 : 4, head = v612 ? 64 : 65536;
	uint32_t buddy = v612 ? 0xf0000000 : 0xffffff7f;
	size_t size;
	int r;

	snprintf(vi, sizeof(vi), "%s%s", v612 ? vi_612 : vi_61, vi_common);
	memset(ram, 0, sizeof(ram));
	for (uint64_t s = 0; s < 4; s++) {
		uint64_t map = TINY_VMEMMAP | 0xf;

		memcpy(ram + 0x1000 + s * 16, &map, 8);
	}
	for (uint64_t pfn = 0; pfn < TINY_PAGES; pfn++)
		put(ram, pfn, 48, UINT32_MAX, 4);
	put(ram, 8, 48, buddy, 4); /* free, order 3 */
	put(ram, 8, 40, 3, 8);
	put(ram, 16, 0, 1ULL << lru | head, 8); /* anonymous, compound, order 4 */
	put(ram, 16, 24, 0xffff888012340001ULL, 8);
	for (uint64_t t = 17; t < 32; t++)
		put(ram, t, 8, TINY_VMEMMAP + 16 * 64 + 1, 8);
	if (v612)
		put(ram, 17, 0, 4, 8);
	else
		put(ram, 17, 17, 4, 1);
	put(ram, 40, 0, 1ULL << lru, 8); /* page cache */
	put(ram, 40, 24, 0xffff888056780000ULL, 8);
	put(ram, 41, 48, v612 ? 0xf1000000 : 0xfffffeff, 4); /* offline */

	r = synth_vmcore_tmpfile(&spec, &path);
	if (r < 0)
		return r;
	r = read_full_file(path, 1 << 20, (char **)ret, &size);
	unlink(path);
	*ret_size = size;
	return r;
}

static unsigned run_variants(const uint8_t *data, size_t size, bool quick)
{
	static const uint8_t values[] = { 0, 1, 0x7f, 0x80, 0xff };
	_cleanup_free_ uint8_t *copy = malloc(size);
	size_t head = MIN(size, (size_t)(quick ? 512 : 4096)), step = quick ? 61 : 1;
	unsigned runs = 0;

	assert(copy);
	LLVMFuzzerTestOneInput(data, size);
	for (size_t len = 0; len < head; len += step, runs++)
		LLVMFuzzerTestOneInput(data, len);
	/* the headers and notes: every byte (quick: every few) changed */
	for (size_t i = 0; i < head; i += quick ? 3 : 1)
		for (size_t k = 0; k < ELEMENTSOF(values); k += quick ? 2 : 1, runs++) {
			memcpy(copy, data, size);
			copy[i] = values[k];
			LLVMFuzzerTestOneInput(copy, size);
		}
	return runs + 1;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && streq(argv[1], "--quick");
	unsigned runs = 0, inputs = 0;

	for (int v = 0; v < 2; v++) {
		_cleanup_free_ uint8_t *data = NULL;
		size_t size;

		if (seed(v, &data, &size) < 0) {
			fprintf(stderr, "fuzz-elf-notes: cannot build the seed\n");
			return 1;
		}
		/*
		 * The seed itself reaches every reader: its pages are told apart.
		 * Free: pfns 8..15 from the RAM segment, 8..11 and 8..14 from the
		 * runs at 5 and at 8 (the memory map's own segment starts at pfn 3).
		 */
		last_active = false;
		LLVMFuzzerTestOneInput(data, size);
		if (!last_active || last_counts.pages[PAGE_CLASS_FREE] != 8 + 4 + 7 ||
		    last_counts.pages[PAGE_CLASS_USER] != 16 ||
		    last_counts.pages[PAGE_CLASS_CACHE] != 1 ||
		    last_counts.pages[PAGE_CLASS_OFFLINE] != 1) {
			fprintf(stderr, "fuzz-elf-notes: seed %d is not filtered as built\n", v);
			return 1;
		}
		runs += run_variants(data, size, quick);
		inputs++;
	}
	for (int i = quick ? 2 : 1; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		size_t size;
		int r = read_full_file(argv[i], 64 << 20, &data, &size);

		if (r < 0) {
			fprintf(stderr, "fuzz-elf-notes: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		runs += run_variants((const uint8_t *)data, size, quick);
		inputs++;
	}
	printf("fuzz-elf-notes: %u inputs, %u runs, no crash\n", inputs, runs);
	return 0;
}
#endif
