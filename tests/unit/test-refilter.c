// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Re-filtering: a kdump-compressed dump (regular or flattened, any page
 * compression) as crashcap-collect's input. On a synthetic 6.1 machine
 * (tests/unit/page-synth.h) with free blocks, page cache, anonymous pages
 * and zero pages: -d 31 of the vmcore and -d 31 of a lower-level dump of
 * it keep the same pfns with the same bytes; pages the input left out
 * stay out (never read as zeros); the header's level is the union of the
 * input's and the one asked, with a note when the input's left out more;
 * a truncated input and an INCOMPLETE one give a readable INCOMPLETE dump.
 */
#include "collector/collect-internal.h"
#include "collector/page-source-kdump.h"
#include "kdump-read.h"
#include "kdump_writer.h"
#include "page-synth.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <cmocka.h>

#define FREE_HEAD 1024 /* a free block of order 9: 512 pages */
#define FREE_SMALL 3200 /* order 4 */
#define CACHE 3500
#define CACHE_PRIVATE 3502
#define ANON 3501
#define ANON_THP 4096 /* order 9 */

struct fixture {
	char *vmcore;
	char dir[64];
};

/* Bytes of the data pages: most have content that says their pfn, every fifth is zero. */
static void fill_page(uint64_t pfn, uint8_t *p)
{
	if (pfn % 5 == 0) {
		memset(p, 0, 4096);
		return;
	}
	for (size_t i = 0; i < 4096; i += 8) {
		uint64_t v = (pfn << 12 | i) * 0x9e3779b97f4a7c15ULL;

		memcpy(p + i, &v, 8);
	}
}

/*
 * page-synth's RAM is zeros but for the page tables and memory maps in
 * the last section: give the data sections content, in the file itself.
 */
static void fill_data_pages(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	Elf64_Ehdr eh;
	uint8_t page[4096];

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		assert_int_equal(pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)),
				 sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		for (uint64_t off = 0; off < ph.p_filesz; off += 4096) {
			uint64_t pfn = (ph.p_paddr + off) / 4096;

			if (pfn >= PSYNTH_META_SECTION * PSYNTH_SECTION_PAGES)
				break;
			fill_page(pfn, page);
			assert_int_equal(pwrite(fd, page, 4096, ph.p_offset + off), 4096);
		}
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct psynth *ps = psynth_new(&(struct psynth_spec){ .kernel = PSYNTH_6_1 });

	assert_non_null(f);
	psynth_buddy(ps, FREE_HEAD, 9);
	psynth_buddy(ps, FREE_SMALL, 4);
	psynth_cache(ps, CACHE, false);
	psynth_cache(ps, CACHE_PRIVATE, true);
	psynth_anon(ps, ANON);
	psynth_thp(ps, ANON_THP, 9, PSYNTH_ANON);
	f->vmcore = psynth_write(ps);
	psynth_free(ps);
	fill_data_pages(f->vmcore);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-refilter.%d", getpid());
	assert_int_equal(mkdir_p(f->dir, 0700), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	unlink(f->vmcore);
	free(f->vmcore);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *out_path(const struct fixture *f, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	return p;
}

/* collect in → out at level with compression c (flat: the flattened format); returns out. */
static char *collect(const struct fixture *f, const char *in, const char *name, int level,
		     enum compression c, bool flat, struct collect_result *ret)
{
	struct collect_result res;
	struct collect_options o = {
		.vmcore_path = in,
		.output_path = out_path(f, name),
		.dump_level = level,
		.compression = c,
		.zstd_level = 3,
		.flat = flat,
		.threads = 2,
	};

	assert_int_equal(collect_dump(&o, ret ? ret : &res), 0);
	return (char *)o.output_path;
}

static int header_level(const char *path)
{
	struct kd_file k;
	int level;

	assert_int_equal(kd_open(path, &k), 0);
	level = (int)kd_u32(&k, k.block_size + 8);
	kd_close(&k);
	return level;
}

/* The same pfns dumped, each with the same bytes; returns how many. */
static uint64_t assert_same_pages(const char *a_path, const char *b_path)
{
	uint8_t a_page[4096], b_page[4096];
	struct kd_file a, b;
	uint64_t n = 0;

	assert_int_equal(kd_open(a_path, &a), 0);
	assert_int_equal(kd_open(b_path, &b), 0);
	assert_int_equal(a.max_mapnr, b.max_mapnr);
	for (uint64_t pfn = 0; pfn < a.max_mapnr; pfn++) {
		int ra = kd_read_page(&a, pfn, a_page), rb = kd_read_page(&b, pfn, b_page);

		if (ra != rb)
			fail_msg("pfn %" PRIu64 ": %d in %s, %d in %s", pfn, ra, a_path, rb,
				 b_path);
		if (ra == 0) {
			assert_memory_equal(a_page, b_page, 4096);
			n++;
		}
	}
	kd_close(&a);
	kd_close(&b);
	return n;
}

static bool dumped(const char *path, uint64_t pfn)
{
	struct kd_file k;
	bool d;

	assert_int_equal(kd_open(path, &k), 0);
	d = kd_is_dumped(&k, pfn);
	kd_close(&k);
	return d;
}

static void test_same_as_direct(void **state)
{
	static const enum compression inputs[] = { COMPRESSION_ZSTD, COMPRESSION_ZLIB,
						   COMPRESSION_LZO, COMPRESSION_SNAPPY,
						   COMPRESSION_NONE };
	struct fixture *f = *state;
	struct collect_result res;
	_cleanup_free_ char *direct =
		collect(f, f->vmcore, "direct", 31, COMPRESSION_NONE, false, &res);
	uint64_t kept;

	assert_int_equal(res.dump_level, 31);
	/* The synthetic memory's classes all went. */
	assert_false(dumped(direct, FREE_HEAD + 100));
	assert_false(dumped(direct, CACHE));
	assert_false(dumped(direct, ANON));
	assert_true(dumped(direct, CACHE + 11));
	for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
		_cleanup_free_ char *d1 = collect(f, f->vmcore, "d1", 1, inputs[i], false, NULL);
		_cleanup_free_ char *re = collect(f, d1, "re", 31, COMPRESSION_NONE, false, &res);

		assert_int_equal(res.dump_level, 31);
		assert_string_equal(res.fallback, "");
		assert_int_equal(header_level(re), 31);
		kept = assert_same_pages(direct, re);
		assert_true(kept > 1000);
	}
	/* Re-written with another compression: zstd out of an uncompressed input. */
	{
		_cleanup_free_ char *z = collect(f, direct, "z", 31, COMPRESSION_ZSTD, false, NULL);
		_cleanup_free_ char *back = collect(f, z, "back", 0, COMPRESSION_NONE, false, &res);

		assert_int_equal(res.dump_level, 31);
		assert_int_equal(assert_same_pages(direct, back), kept);
	}
}

static void test_flattened_input(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *direct =
		collect(f, f->vmcore, "direct", 31, COMPRESSION_NONE, false, NULL);
	_cleanup_free_ char *flat = collect(f, f->vmcore, "flat", 1, COMPRESSION_ZSTD, true, NULL);
	_cleanup_free_ char *re = collect(f, flat, "re", 31, COMPRESSION_NONE, false, NULL);
	int level;

	assert_int_equal(kdump_input_level(flat, &level), 0);
	assert_int_equal(level, 1);
	assert_same_pages(direct, re);
}

static void test_absent_stays_absent(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	_cleanup_free_ char *free16 =
		collect(f, f->vmcore, "free16", 16, COMPRESSION_ZSTD, false, NULL);
	_cleanup_free_ char *all = collect(f, free16, "all", 0, COMPRESSION_NONE, false, &res);
	uint8_t page[4096];
	struct kd_file k;

	/* Level 0 asks for every page: the free ones are gone from the input, not zeros. */
	assert_int_equal(res.dump_level, 16);
	assert_string_equal(res.fallback, "free16 was written at dump level 16, and the pages it "
					  "left out cannot come back");
	assert_int_equal(header_level(all), 16);
	assert_same_pages(free16, all);
	assert_int_equal(kd_open(all, &k), 0);
	for (uint64_t pfn = FREE_HEAD; pfn < FREE_HEAD + 512; pfn++) {
		assert_true(kd_is_ram(&k, pfn));
		assert_int_equal(kd_read_page(&k, pfn, page), -ENODATA);
	}
	assert_int_equal(kd_read_page(&k, FREE_SMALL + 3, page), -ENODATA);
	assert_int_equal(kd_read_page(&k, CACHE, page), 0);
	kd_close(&k);
	assert_true(res.pages_nodata + page_filter_counts_total(&res.excluded) >= 512 + 16);
}

static void test_level_union(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	_cleanup_free_ char *free16 =
		collect(f, f->vmcore, "free16", 16, COMPRESSION_ZSTD, false, NULL);
	_cleanup_free_ char *u = collect(f, free16, "u", 1 | 2, COMPRESSION_NONE, false, &res);
	_cleanup_free_ char *direct =
		collect(f, f->vmcore, "d19", 19, COMPRESSION_NONE, false, NULL);
	_cleanup_free_ char *up = NULL;

	assert_int_equal(res.dump_level, 19);
	assert_int_equal(header_level(u), 19);
	assert_string_equal(res.fallback, "free16 was written at dump level 16, and the pages it "
					  "left out cannot come back");
	assert_same_pages(direct, u);
	/* Asking for more than the input has: no note. */
	up = collect(f, u, "up", 31, COMPRESSION_NONE, false, &res);
	assert_int_equal(res.dump_level, 31);
	assert_string_equal(res.fallback, "");
	assert_int_equal(header_level(up), 31);
}

static void test_truncated_and_incomplete(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	_cleanup_free_ char *d1 = collect(f, f->vmcore, "d1", 1, COMPRESSION_NONE, false, NULL);
	_cleanup_free_ char *cut = out_path(f, "cut"), *re = NULL, *again = NULL;
	uint8_t page[4096], want[4096];
	struct stat st;
	struct kd_file k;
	uint64_t readable = 0;

	/* The second half of the page data is gone. */
	assert_int_equal(stat(d1, &st), 0);
	assert_int_equal(truncate(d1, st.st_size * 2 / 3), 0);
	assert_int_equal(rename(d1, cut), 0);
	re = collect(f, cut, "re", 31, COMPRESSION_NONE, false, &res);
	assert_true(res.incomplete);
	assert_true(res.pages_unreadable > 0);
	assert_int_equal(kd_open(re, &k), 0);
	assert_true(k.status & KDUMP_STATUS_INCOMPLETE);
	for (uint64_t pfn = 0; pfn < k.max_mapnr; pfn++) {
		if (kd_read_page(&k, pfn, page) < 0)
			continue;
		if (pfn < PSYNTH_META_SECTION * PSYNTH_SECTION_PAGES) {
			fill_page(pfn, want);
			assert_memory_equal(page, want, 4096);
		}
		readable++;
	}
	kd_close(&k);
	assert_true(readable > 100);

	/* An INCOMPLETE input: what it holds is read, the result is INCOMPLETE as well. */
	again = collect(f, re, "again", 31, COMPRESSION_ZSTD, false, &res);
	assert_true(res.incomplete);
	assert_int_equal(res.pages_unreadable, 0);
	assert_same_pages(re, again);
}

static void test_input_level(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *d2 = collect(f, f->vmcore, "d2", 2, COMPRESSION_NONE, false, NULL);
	_cleanup_free_ char *text = out_path(f, "text");
	struct kd_file k;
	int level, fd;

	assert_int_equal(kdump_input_level(d2, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(kdump_input_level(f->vmcore, &level), -ENOEXEC);
	assert_int_equal(kdump_input_level(text, &level), -ENOENT);

	/* A level no makedumpfile writes. */
	assert_int_equal(kd_open(d2, &k), 0);
	fd = open(d2, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &(int32_t){ 99 }, 4, k.block_size + 8), 4);
	close(fd);
	kd_close(&k);
	assert_int_equal(kdump_input_level(d2, &level), -EBADMSG);
	/* A header cut short. */
	assert_int_equal(truncate(d2, 600), 0);
	assert_int_equal(kdump_input_level(d2, &level), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_as_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flattened_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_stays_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_union, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_level, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
