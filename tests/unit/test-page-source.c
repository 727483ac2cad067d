// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The page source on synthetic ELF vmcores: a chunk one PT_LOAD holds is
 * handed out as one mapping; any other chunk is copied run by run, each run
 * split where the PT_LOAD holding it changes and into windows of a bounded
 * size, from mappings when mapping is on (a saved file told to map, as
 * /proc/vmcore always is) and with pread otherwise; holes, p_filesz tails,
 * cut files and unaligned offsets go the reading way. Every page is checked
 * against the bytes the file holds, and the stats count the exact pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include <fcntl.h>

#include "collector/page-source.h"
#include "dump.h"
#include "vmcore-synth.h"

#define PG DUMP_PAGE_SIZE
#define BASE_PFN 0x100ULL

struct fixture {
	char *path;
	struct dump *dump;
	struct page_source *src;
	struct page_reader *reader;
	uint8_t *buf;
	uint64_t unreadable[PAGE_BITMAP_WORDS(PAGE_SOURCE_MAX_PAGES)];
	uint64_t absent[PAGE_BITMAP_WORDS(PAGE_SOURCE_MAX_PAGES)];
	struct page_source_stats before;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->buf = malloc(PAGE_SOURCE_MAX_PAGES * PG);
	if (!f->buf) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	page_reader_free(f->reader);
	page_source_free(f->src);
	dump_free(f->dump);
	if (f->path)
		unlink(f->path);
	free(f->path);
	free(f->buf);
	free(f);
	return 0;
}

static void write_core(struct fixture *f, const struct synth_segment *segs, size_t n,
		       uint64_t truncate_at)
{
	struct synth_vmcore spec = {
		.vmcoreinfo = "OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n",
		.nr_cpus = 1,
		.segments = segs,
		.n_segments = n,
		.truncate_at = truncate_at,
	};

	assert_int_equal(synth_vmcore_tmpfile(&spec, &f->path), 0);
}

/* Opens the file written; map: as /proc/vmcore is read (map_files), window 0: the default. */
static void open_source(struct fixture *f, bool no_mmap, bool map, uint32_t window)
{
	assert_int_equal(dump_open(f->path, &f->dump), 0);
	assert_int_equal(page_source_new(f->dump, no_mmap, &f->src), 0);
	page_source_map_files(f->src, map);
	if (window)
		assert_int_equal(page_source_set_map_window(f->src, window), 0);
	assert_int_equal(page_reader_new(f->src, NULL, &f->reader), 0);
}

static const uint8_t *get(struct fixture *f, uint64_t pfn, uint32_t n, const uint64_t *want)
{
	const uint8_t *base = NULL;

	page_source_get_stats(f->src, &f->before);
	assert_int_equal(page_reader_get_into(f->reader, pfn, n, want, f->unreadable, f->absent,
					      f->buf, &base),
			 0);
	assert_non_null(base);
	return base;
}

/* What the last get() cost: whole chunks mapped, windows copied, pieces read. */
static void assert_cost(struct fixture *f, uint64_t chunks, uint64_t windows, uint64_t reads)
{
	struct page_source_stats now;

	page_source_get_stats(f->src, &now);
	assert_int_equal(now.chunks_mapped - f->before.chunks_mapped, chunks);
	assert_int_equal(now.windows_copied - f->before.windows_copied, windows);
	assert_int_equal(now.pieces_read - f->before.pieces_read, reads);
}

/* Pages [first, end) of the chunk at base hold the pattern of their addresses. */
static void assert_pattern(const uint8_t *base, uint64_t pfn, uint32_t first, uint32_t end)
{
	uint8_t want[PG];

	for (uint32_t i = first; i < end; i++) {
		synth_pattern_fill((pfn + i) * PG, want, PG);
		if (memcmp(base + (size_t)i * PG, want, PG) != 0)
			fail_msg("page %u (pfn %#llx) holds the wrong bytes", i,
				 (unsigned long long)(pfn + i));
	}
}

static void assert_bits(const uint64_t *map, uint32_t n, uint32_t first, uint32_t end)
{
	for (uint32_t i = 0; i < n; i++)
		if (pagebit_test(map, i) != (i >= first && i < end))
			fail_msg("bit %u is %d", i, pagebit_test(map, i));
}

static void assert_clean(struct fixture *f, uint32_t n)
{
	assert_bits(f->unreadable, n, 0, 0);
	assert_bits(f->absent, n, 0, 0);
}

/* pfn range [from, from + pages) as a segment of pattern bytes. */
static struct synth_segment seg(uint64_t from, uint64_t pages)
{
	return (struct synth_segment){ .phys_start = from * PG, .mem_size = pages * PG };
}

/* A chunk one PT_LOAD holds is the mapping itself: nothing copied. */
static void test_one_segment_chunk_mapped(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN, 300) };
	const uint8_t *base;

	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 0);
	base = get(f, BASE_PFN + 10, 64, NULL);
	assert_ptr_not_equal(base, f->buf);
	assert_cost(f, 1, 0, 0);
	assert_pattern(base, BASE_PFN + 10, 0, 64);
	assert_clean(f, 64);
	page_reader_release(f->reader);
}

/*
 * Two PT_LOADs next to each other in memory but not in the file (the
 * second's bytes come first): a chunk across them is one window each, or
 * several when the window is smaller than the piece.
 */
static void test_split_at_pt_load(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN + 40, 100), seg(BASE_PFN, 40) };
	const uint8_t *base;

	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 0);
	base = get(f, BASE_PFN + 8, 64, NULL);
	assert_ptr_equal(base, f->buf);
	assert_cost(f, 0, 2, 0);
	assert_pattern(base, BASE_PFN + 8, 0, 64);
	assert_clean(f, 64);

	/* 32 + 32 pages through windows of 10: 10 10 10 2, twice */
	assert_int_equal(page_source_set_map_window(f->src, 10), 0);
	memset(f->buf, 0, 64 * PG);
	base = get(f, BASE_PFN + 8, 64, NULL);
	assert_cost(f, 0, 8, 0);
	assert_pattern(base, BASE_PFN + 8, 0, 64);
	assert_clean(f, 64);

	/* one page a window */
	assert_int_equal(page_source_set_map_window(f->src, 1), 0);
	base = get(f, BASE_PFN + 36, 8, NULL);
	assert_cost(f, 0, 8, 0);
	assert_pattern(base, BASE_PFN + 36, 0, 8);
}

/* The largest chunk across two PT_LOADs with the default window: 600 + 424 pages. */
static void test_default_window(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN + 600, 500), seg(BASE_PFN, 600) };
	const uint8_t *base;

	assert_int_equal(PAGE_SOURCE_MAP_WINDOW, 256);
	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 0);
	base = get(f, BASE_PFN, PAGE_SOURCE_MAX_PAGES, NULL);
	/* 256 256 88, then 256 168 */
	assert_cost(f, 0, 5, 0);
	assert_pattern(base, BASE_PFN, 0, PAGE_SOURCE_MAX_PAGES);
	assert_clean(f, PAGE_SOURCE_MAX_PAGES);
}

/* Only wanted pages: runs [0,5) [10,40) [50,64), the middle one split at the PT_LOAD (32). */
static void test_wanted_runs(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN + 40, 100), seg(BASE_PFN, 40) };
	uint64_t want[1] = { 0 };
	const uint8_t *base;

	for (uint32_t i = 0; i < 64; i++)
		if (i < 5 || (i >= 10 && i < 40) || i >= 50)
			pagebit_set(want, i);
	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 8);
	memset(f->buf, 0x5a, 64 * PG);
	base = get(f, BASE_PFN + 8, 64, want);
	/* 5: 1; 22: 8 8 6; 8: 1; 14: 8 6 */
	assert_cost(f, 0, 7, 0);
	assert_pattern(base, BASE_PFN + 8, 0, 5);
	assert_pattern(base, BASE_PFN + 8, 10, 40);
	assert_pattern(base, BASE_PFN + 8, 50, 64);
	/* pages nobody wants are not touched */
	for (uint32_t i = 5; i < 10; i++)
		assert_int_equal(base[(size_t)i * PG + 100], 0x5a);
	assert_clean(f, 64);
}

/*
 * A hole of 8 pages between two PT_LOADs: absent, read through the reader;
 * the pages around it mapped. Then a PT_LOAD whose last 10 pages are not in
 * the file (p_filesz < p_memsz): zeros, read.
 */
static void test_hole_and_filesz_tail(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN, 40), seg(BASE_PFN + 48, 40),
					seg(BASE_PFN + 200, 40) };
	const uint8_t *base;

	segs[2].file_size = 30 * PG;
	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 0);
	base = get(f, BASE_PFN + 8, 64, NULL);
	assert_cost(f, 0, 2, 1);
	assert_pattern(base, BASE_PFN + 8, 0, 32);
	assert_pattern(base, BASE_PFN + 8, 40, 64);
	assert_bits(f->absent, 64, 32, 40);
	assert_bits(f->unreadable, 64, 0, 0);

	memset(f->buf, 0x5a, 20 * PG);
	base = get(f, BASE_PFN + 220, 20, NULL);
	assert_cost(f, 0, 1, 1);
	assert_pattern(base, BASE_PFN + 220, 0, 10);
	for (size_t i = 10 * PG; i < 20 * PG; i++)
		if (base[i] != 0)
			fail_msg("byte %zu past p_filesz is %#x", i, base[i]);
	assert_clean(f, 20);
}

/* A file cut 100 bytes into page 50 of its only PT_LOAD: pages 50.. are unreadable. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN, 100) };
	struct synth_vmcore spec = { .vmcoreinfo = "OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n",
				     .nr_cpus = 1,
				     .segments = segs,
				     .n_segments = 1 };
	const uint8_t *base;

	write_core(f, segs, ELEMENTSOF(segs), synth_segment_file_offset(&spec, 0) + 50 * PG + 100);
	open_source(f, false, true, 0);
	assert_true(dump_is_truncated(f->dump));
	base = get(f, BASE_PFN + 40, 20, NULL);
	assert_cost(f, 0, 1, 1);
	assert_pattern(base, BASE_PFN + 40, 0, 10);
	assert_bits(f->unreadable, 20, 10, 20);
	assert_bits(f->absent, 20, 0, 0);
}

/*
 * The first PT_LOAD's p_offset moved 8 bytes on: mmap cannot take it, so
 * its piece is read (the bytes at the offset the header gives); the second
 * PT_LOAD's piece is still mapped.
 */
static void test_unaligned_offset(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN, 40), seg(BASE_PFN + 40, 100) };
	uint64_t off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_offset);
	uint64_t p_offset, got;
	uint8_t *want;
	const uint8_t *base;
	int fd;

	write_core(f, segs, ELEMENTSOF(segs), 0);
	fd = open(f->path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &p_offset, 8, (off_t)off), 8);
	p_offset += 8;
	assert_int_equal(pwrite(fd, &p_offset, 8, (off_t)off), 8);
	want = malloc(32 * PG);
	assert_non_null(want);
	assert_int_equal(pread_full(fd, want, 32 * PG, (off_t)(p_offset + 8 * PG), &got), 0);
	assert_int_equal(got, 32 * PG);
	close(fd);

	open_source(f, false, true, 0);
	base = get(f, BASE_PFN + 8, 64, NULL);
	assert_cost(f, 0, 1, 1);
	assert_memory_equal(base, want, 32 * PG);
	assert_pattern(base, BASE_PFN + 8, 32, 64);
	assert_clean(f, 64);
	/* a chunk inside it alone is not mapped either */
	base = get(f, BASE_PFN, 8, NULL);
	assert_cost(f, 0, 0, 1);
	assert_ptr_equal(base, f->buf);
	free(want);
}

/* --no-mmap, even told to map files, and a saved file as production reads it: pread only. */
static void test_read_paths(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN + 40, 100), seg(BASE_PFN, 40) };
	static const struct {
		bool no_mmap, map;
	} modes[] = { { true, true }, { true, false }, { false, false } };
	const uint8_t *base;

	write_core(f, segs, ELEMENTSOF(segs), 0);
	for (size_t m = 0; m < ELEMENTSOF(modes); m++) {
		open_source(f, modes[m].no_mmap, modes[m].map, 4);
		memset(f->buf, 0, 64 * PG);
		base = get(f, BASE_PFN + 8, 64, NULL);
		assert_cost(f, 0, 0, 2);
		assert_pattern(base, BASE_PFN + 8, 0, 64);
		assert_clean(f, 64);
		/* inside one PT_LOAD: one pread, no mapping */
		base = get(f, BASE_PFN + 50, 16, NULL);
		assert_cost(f, 0, 0, 1);
		assert_ptr_equal(base, f->buf);
		assert_pattern(base, BASE_PFN + 50, 0, 16);
		f->reader = page_reader_free(f->reader);
		f->src = page_source_free(f->src);
		f->dump = dump_free(f->dump);
	}
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[] = { seg(BASE_PFN, 40) };
	const uint8_t *base = NULL;

	write_core(f, segs, ELEMENTSOF(segs), 0);
	open_source(f, false, true, 0);
	assert_int_equal(page_source_set_map_window(f->src, 0), -EINVAL);
	assert_int_equal(page_source_set_map_window(f->src, PAGE_SOURCE_MAX_PAGES + 1), -EINVAL);
	assert_int_equal(page_source_set_map_window(f->src, PAGE_SOURCE_MAX_PAGES), 0);
	assert_int_equal(page_reader_get(f->reader, BASE_PFN, 0, NULL, f->unreadable, f->absent,
					 &base),
			 -EINVAL);
	assert_int_equal(page_reader_get(f->reader, BASE_PFN, PAGE_SOURCE_MAX_PAGES + 1, NULL,
					 f->unreadable, f->absent, &base),
			 -EINVAL);
	assert_null(base);
	/* a chunk no PT_LOAD touches: all absent */
	base = get(f, BASE_PFN + 1000, 10, NULL);
	assert_cost(f, 0, 0, 1);
	assert_bits(f->absent, 10, 0, 10);
	assert_bits(f->unreadable, 10, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_segment_chunk_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_at_pt_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wanted_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole_and_filesz_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
