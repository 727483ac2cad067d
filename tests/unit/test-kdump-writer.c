// SPDX-License-Identifier: GPL-2.0-or-later
#include "kdump-read.h"
#include "kdump_writer.h"
#include "vmcore-synth.h"

#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <zstd.h>

#define VMCOREINFO_TEXT "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n"

struct fixture {
	char path[64];
	int fd;
	void *notes;
	size_t notes_size;
	size_t vmcoreinfo_offset;
	struct kdump_writer_params params;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ void *core = NULL, *vi = NULL;
	uint8_t prstatus[336] = { 1 };
	size_t core_size, vi_size;

	assert_non_null(f);
	strcpy(f->path, "/tmp/test-kdump-writer.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);

	assert_int_equal(
		synth_note("CORE", NT_PRSTATUS, prstatus, sizeof(prstatus), &core, &core_size), 0);
	assert_int_equal(synth_note("VMCOREINFO", 0, VMCOREINFO_TEXT, strlen(VMCOREINFO_TEXT), &vi,
				    &vi_size),
			 0);
	f->notes_size = core_size + vi_size;
	f->notes = malloc(f->notes_size);
	assert_non_null(f->notes);
	memcpy(f->notes, core, core_size);
	memcpy((uint8_t *)f->notes + core_size, vi, vi_size);
	/* note header (12) + "VMCOREINFO\0" padded to 12 */
	f->vmcoreinfo_offset = core_size + 12 + 12;

	f->params = (struct kdump_writer_params){
		.timestamp_sec = 1700000000,
		.nr_cpus = 3,
		.phys_base = 0x1fe00000,
		.dump_level = 1,
		.compression = COMPRESSION_ZSTD,
		.max_mapnr = 100,
		.notes = f->notes,
		.notes_size = f->notes_size,
		.vmcoreinfo_offset = f->vmcoreinfo_offset,
		.vmcoreinfo_size = strlen(VMCOREINFO_TEXT),
	};
	strcpy(f->params.utsname.sysname, "Linux");
	strcpy(f->params.utsname.nodename, "guest");
	strcpy(f->params.utsname.release, "6.1.0-test");
	strcpy(f->params.utsname.version, "#1 SMP Debian");
	strcpy(f->params.utsname.machine, "x86_64");
	strcpy(f->params.utsname.domainname, "(none)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	unlink(f->path);
	free(f->notes);
	free(f);
	return 0;
}

static void fill_random(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

static void add_raw(struct kdump_writer *w, uint64_t pfn, const void *page)
{
	struct kdump_page p = { .data = page, .size = KDUMP_BLOCK_SIZE };

	assert_int_equal(kdump_writer_add_page(w, pfn, &p), 0);
}

static void add_compressed(struct kdump_writer *w, struct kdump_compressor *c, uint64_t pfn,
			   const void *page)
{
	uint8_t buf[KDUMP_BLOCK_SIZE];
	struct kdump_page p;

	kdump_compress_page(c, page, buf, &p);
	assert_int_equal(kdump_writer_add_page(w, pfn, &p), 0);
}

/* Every header and sub-header field at its offset, the notes copy and both bitmaps. */
static void test_layout(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
	uint8_t page[KDUMP_BLOCK_SIZE], out[KDUMP_BLOCK_SIZE];
	struct kdump_writer_stats st;
	struct kd_file k;
	struct kd_desc d;
	uint64_t data_off;

	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 10), 0);
	assert_int_equal(kdump_writer_set_ram(w, 20, 50), 0);
	assert_int_equal(kdump_writer_set_ram(w, 45, 52), 0); /* overlaps */
	assert_int_equal(kdump_writer_ram_pages(w), 42);
	assert_int_equal(kdump_writer_reserve(w, 42, true), 0);
	assert_int_equal(kdump_compressor_new(COMPRESSION_ZSTD, 3, &c), 0);

	memset(page, 'A', sizeof(page));
	add_compressed(w, c, 0, page);
	assert_int_equal(kdump_writer_add_zero_page(w, 1), 0);
	fill_random(page, sizeof(page), 7);
	add_compressed(w, c, 5, page);
	synth_pattern_fill(51 * KDUMP_BLOCK_SIZE, page, sizeof(page));
	add_raw(w, 51, page);
	assert_int_equal(kdump_writer_finish(w, false), 0);
	kdump_writer_get_stats(w, &st);
	assert_int_equal(st.pages_data, 3);
	assert_int_equal(st.pages_zero, 1);

	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(st.file_size, k.size);
	assert_memory_equal(k.buf, "KDUMP   ", 8);
	assert_int_equal(kd_u32(&k, 8), 6);
	assert_string_equal((char *)k.buf + 12, "Linux");
	assert_string_equal((char *)k.buf + 12 + 65, "guest");
	assert_string_equal((char *)k.buf + 12 + 2 * 65, "6.1.0-test");
	assert_string_equal((char *)k.buf + 12 + 3 * 65, "#1 SMP Debian");
	assert_string_equal((char *)k.buf + 12 + 4 * 65, "x86_64");
	assert_string_equal((char *)k.buf + 12 + 5 * 65, "(none)");
	assert_int_equal(kd_u64(&k, 408), 1700000000);
	assert_int_equal(kd_u64(&k, 416), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD);
	assert_int_equal(k.block_size, 4096);
	/* 104 + notes fit in one block */
	assert_int_equal(k.sub_hdr_size, 1);
	assert_int_equal(k.bitmap_blocks, 2);
	assert_int_equal(k.max_mapnr32, 100);
	for (uint64_t off = 444; off < 460; off += 4)
		assert_int_equal(kd_u32(&k, off), 0);
	assert_int_equal(k.nr_cpus, 3);

	/* sub-header */
	assert_int_equal(kd_u64(&k, 4096 + 0), 0x1fe00000);
	assert_int_equal(kd_u32(&k, 4096 + 8), 1);
	assert_int_equal(kd_u32(&k, 4096 + 12), 0);
	assert_int_equal(kd_u64(&k, 4096 + 32), 4096 + 104 + f->vmcoreinfo_offset);
	assert_int_equal(kd_u64(&k, 4096 + 40), strlen(VMCOREINFO_TEXT));
	assert_int_equal(kd_u64(&k, 4096 + 48), 4096 + 104);
	assert_int_equal(kd_u64(&k, 4096 + 56), f->notes_size);
	assert_int_equal(kd_u64(&k, 4096 + 64), 0);
	assert_int_equal(kd_u64(&k, 4096 + 72), 0);
	assert_int_equal(kd_u64(&k, 4096 + 96), 100);
	assert_memory_equal(k.buf + 4096 + 104, f->notes, f->notes_size);
	assert_memory_equal(k.buf + kd_u64(&k, 4096 + 32), VMCOREINFO_TEXT,
			    strlen(VMCOREINFO_TEXT));

	/* bitmaps start at block 2, bitmap 2 one block later */
	assert_ptr_equal(k.bitmap1, k.buf + 2 * 4096);
	assert_ptr_equal(k.bitmap2, k.buf + 3 * 4096);
	assert_int_equal(k.bitmap1[0], 0xff);
	assert_int_equal(k.bitmap1[1], 0x03); /* pfns 8, 9 */
	assert_int_equal(k.bitmap1[2], 0xf0); /* 20..23 */
	assert_int_equal(k.bitmap1[6], 0x0f); /* 48..51 */
	assert_int_equal(k.bitmap1[7], 0);
	assert_int_equal(k.bitmap2[0], 0x23); /* 0, 1, 5 */
	assert_int_equal(k.bitmap2[6], 0x08); /* 51 */
	assert_int_equal(kd_count_dumped(&k), 4);

	/* descriptors in block 4, 42 of them reserved; data follows, zero page first */
	assert_int_equal(k.desc_offset, 4 * 4096);
	data_off = 4 * 4096 + 42 * 24;
	assert_int_equal(kd_desc(&k, 1, &d), 0);
	assert_int_equal(d.offset, data_off);
	assert_int_equal(d.size, 4096);
	assert_int_equal(d.flags, 0);
	memset(page, 0, sizeof(page));
	assert_memory_equal(k.buf + data_off, page, sizeof(page));
	assert_int_equal(kd_desc(&k, 0, &d), 0);
	assert_int_equal(d.offset, data_off + 4096);
	assert_int_equal(d.flags, KDUMP_FLAG_ZSTD);
	assert_true(d.size < 100);
	assert_int_equal(d.page_flags, 0);

	assert_int_equal(kd_read_page(&k, 0, out), 0);
	memset(page, 'A', sizeof(page));
	assert_memory_equal(out, page, sizeof(page));
	assert_int_equal(kd_read_page(&k, 1, out), 0);
	memset(page, 0, sizeof(page));
	assert_memory_equal(out, page, sizeof(page));

	/* random bytes do not compress: stored raw */
	assert_int_equal(kd_desc(&k, 5, &d), 0);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.size, 4096);
	assert_int_equal(kd_read_page(&k, 5, out), 0);
	fill_random(page, sizeof(page), 7);
	assert_memory_equal(out, page, sizeof(page));

	assert_int_equal(kd_read_page(&k, 51, out), 0);
	synth_pattern_fill(51 * KDUMP_BLOCK_SIZE, page, sizeof(page));
	assert_memory_equal(out, page, sizeof(page));
	/* the last page's data ends the file */
	assert_int_equal(kd_desc(&k, 51, &d), 0);
	assert_int_equal(d.offset + d.size, k.size);

	assert_int_equal(kd_read_page(&k, 2, out), -ENODATA);
	assert_int_equal(kd_read_page(&k, 12, out), -ENOENT);
	kd_close(&k);
}

static void test_no_notes_uncompressed(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
	uint8_t page[KDUMP_BLOCK_SIZE], out[KDUMP_BLOCK_SIZE];
	struct kd_file k;
	struct kd_desc d;

	f->params.notes = NULL;
	f->params.notes_size = 0;
	f->params.vmcoreinfo_size = 0;
	f->params.compression = COMPRESSION_NONE;
	f->params.dump_level = 0;
	f->params.nr_cpus = 0;
	/* 40000 pfns need 5000 bitmap bytes: two blocks per bitmap */
	f->params.max_mapnr = 40000;
	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 39990, 40000), 0);
	assert_int_equal(kdump_writer_reserve(w, 10, false), 0);
	assert_int_equal(kdump_compressor_new(COMPRESSION_NONE, 0, &c), 0);
	memset(page, 'A', sizeof(page));
	add_compressed(w, c, 39999, page);
	assert_int_equal(kdump_writer_finish(w, false), 0);

	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(k.status, 0);
	assert_int_equal(k.sub_hdr_size, 1);
	assert_int_equal(k.bitmap_blocks, 4);
	assert_int_equal(k.nr_cpus, 1); /* never 0 */
	assert_int_equal(kd_u64(&k, 4096 + 32), 0);
	assert_int_equal(kd_u64(&k, 4096 + 48), 0);
	assert_int_equal(kd_u64(&k, 4096 + 56), 0);
	assert_int_equal(k.desc_offset, 6 * 4096);
	assert_int_equal(kd_desc(&k, 39999, &d), 0);
	assert_int_equal(d.offset, 6 * 4096 + 10 * 24);
	assert_int_equal(d.flags, 0);
	assert_int_equal(kd_read_page(&k, 39999, out), 0);
	assert_memory_equal(out, page, sizeof(page));
	kd_close(&k);
}

/* Notes bigger than a block push the bitmaps out: sub_hdr_size counts blocks. */
static void test_big_notes(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_free_ uint8_t *notes = calloc(1, 9000);
	struct kd_file k;

	assert_non_null(notes);
	memset(notes, 'n', 9000);
	f->params.notes = notes;
	f->params.notes_size = 9000;
	f->params.vmcoreinfo_offset = 8000;
	f->params.vmcoreinfo_size = 1000;
	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 1), 0);
	assert_int_equal(kdump_writer_reserve(w, 1, true), 0);
	assert_int_equal(kdump_writer_add_zero_page(w, 0), 0);
	assert_int_equal(kdump_writer_finish(w, true), 0);

	assert_int_equal(kd_open(f->path, &k), 0);
	/* ceil((104 + 9000) / 4096) */
	assert_int_equal(k.sub_hdr_size, 3);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD | KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_u64(&k, 4096 + 32), 4096 + 104 + 8000);
	assert_memory_equal(k.buf + 4096 + 104, notes, 9000);
	assert_ptr_equal(k.bitmap1, k.buf + 4 * 4096);
	assert_true(kd_is_dumped(&k, 0));
	kd_close(&k);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	struct kdump_writer *w2 = NULL;
	struct kdump_compressor *c = NULL;
	struct kdump_writer_params p = f->params;
	uint8_t page[KDUMP_BLOCK_SIZE] = { 0 };
	struct kdump_page raw = { .data = page, .size = KDUMP_BLOCK_SIZE };
	struct kdump_page short_raw = { .data = page, .size = 100 };
	struct kdump_page lzo = { .data = page, .size = 100, .flags = KDUMP_FLAG_LZO };

	p.compression = (enum compression)99;
	assert_int_equal(kdump_writer_new(f->fd, &p, &w2), -EOPNOTSUPP);
	assert_int_equal(kdump_compressor_new((enum compression)99, 0, &c), -EOPNOTSUPP);
	assert_int_equal(kdump_compressor_new(COMPRESSION_ZSTD, 99, &c), -EINVAL);
	p = f->params;
	p.vmcoreinfo_offset = f->notes_size - 4;
	assert_int_equal(kdump_writer_new(f->fd, &p, &w2), -EINVAL);
	p = f->params;
	p.max_mapnr = 0;
	assert_int_equal(kdump_writer_new(f->fd, &p, &w2), -EINVAL);
	p = f->params;
	p.dump_level = 32;
	assert_int_equal(kdump_writer_new(f->fd, &p, &w2), -EINVAL);
	assert_null(w2);

	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 101), -EINVAL);
	assert_int_equal(kdump_writer_set_ram(w, 0, 4), 0);
	/* adding before the layout is fixed */
	assert_int_equal(kdump_writer_add_page(w, 0, &raw), -EINVAL);
	assert_int_equal(kdump_writer_finish(w, false), -EINVAL);
	assert_int_equal(kdump_writer_reserve(w, 3, false), 0);
	assert_int_equal(kdump_writer_reserve(w, 3, false), -EINVAL);
	assert_int_equal(kdump_writer_set_ram(w, 5, 6), -EINVAL);
	assert_int_equal(kdump_writer_add_zero_page(w, 0), -EINVAL); /* no zero page */
	assert_int_equal(kdump_writer_add_page(w, 4, &raw), -EINVAL); /* not RAM */
	assert_int_equal(kdump_writer_add_page(w, 1, &short_raw), -EINVAL);
	assert_int_equal(kdump_writer_add_page(w, 1, &lzo), -EINVAL);
	assert_int_equal(kdump_writer_add_page(w, 1, &raw), 0);
	assert_int_equal(kdump_writer_add_page(w, 1, &raw), -EINVAL); /* not increasing */
	assert_int_equal(kdump_writer_add_page(w, 0, &raw), -EINVAL);
	assert_int_equal(kdump_writer_add_page(w, 2, &raw), 0);
	assert_int_equal(kdump_writer_add_page(w, 3, &raw), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 4), -EINVAL);
	assert_int_equal(kdump_writer_finish(w, false), 0);
	assert_int_equal(kdump_writer_finish(w, false), -EINVAL);
	assert_int_equal(kdump_writer_add_page(w, 3, &raw), -EINVAL);
}

static void test_too_many_pages(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;

	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 10), 0);
	assert_int_equal(kdump_writer_reserve(w, 2, true), 0);
	assert_int_equal(kdump_writer_add_zero_page(w, 0), 0);
	assert_int_equal(kdump_writer_add_zero_page(w, 1), 0);
	assert_int_equal(kdump_writer_add_zero_page(w, 2), -E2BIG);
	assert_int_equal(kdump_writer_finish(w, false), 0);
}

/*
 * A flush commits pages: their bitmap-2 bits reach the file at once, while
 * the header still says INCOMPLETE, so a file cut short there reads.
 */
static void test_flush_commits(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	uint8_t out[KDUMP_BLOCK_SIZE], zero[KDUMP_BLOCK_SIZE] = { 0 };
	struct kd_file k;

	f->params.max_mapnr = 70000;
	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 70000), 0);
	assert_int_equal(kdump_writer_reserve(w, 70000, true), 0);
	for (uint64_t pfn = 0; pfn < 65536 + 10; pfn++)
		assert_int_equal(kdump_writer_add_zero_page(w, pfn), 0);

	/* 65536 descriptors fill the queue: committed; the last 10 are not */
	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD | KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_count_dumped(&k), 65536);
	assert_int_equal(kd_read_page(&k, 65535, out), 0);
	assert_memory_equal(out, zero, sizeof(out));
	assert_int_equal(kd_read_page(&k, 65536, out), -ENODATA);
	kd_close(&k);

	assert_int_equal(kdump_writer_finish(w, false), 0);
	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD);
	assert_int_equal(kd_count_dumped(&k), 65546);
	kd_close(&k);
}

/*
 * A write that fails half-way (here: the file size limit, as a full disk
 * would) leaves a readable INCOMPLETE dump of the pages committed before.
 */
static void test_write_failure(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_free_ uint8_t *pages = malloc(3000 * KDUMP_BLOCK_SIZE);
	uint8_t out[KDUMP_BLOCK_SIZE];
	struct kdump_writer_stats st;
	struct rlimit old, lim;
	struct kd_file k;
	uint64_t pfn;
	int r = 0;

	assert_non_null(pages);
	f->params.compression = COMPRESSION_NONE;
	f->params.max_mapnr = 3000;
	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 3000), 0);
	assert_int_equal(kdump_writer_reserve(w, 3000, true), 0);

	/* room for the 4 MiB buffer (1024 raw pages) once, not twice */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 6 << 20;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (pfn = 0; pfn < 3000 && r == 0; pfn++) {
		struct kdump_page p = { .data = pages + pfn * KDUMP_BLOCK_SIZE,
					.size = KDUMP_BLOCK_SIZE };

		synth_pattern_fill(pfn * KDUMP_BLOCK_SIZE, pages + pfn * KDUMP_BLOCK_SIZE,
				   KDUMP_BLOCK_SIZE);
		r = kdump_writer_add_page(w, pfn, &p);
	}
	/* the second flush, at pfn 2048, fails */
	assert_int_equal(r, -EFBIG);
	assert_int_equal(pfn, 2049);
	assert_int_equal(kdump_writer_add_zero_page(w, 2999), -EFBIG); /* sticky */
	assert_int_equal(kdump_writer_finish(w, false), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	kdump_writer_get_stats(w, &st);
	assert_int_equal(st.pages_data, 1024);
	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(k.status, KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_count_dumped(&k), 1024);
	for (pfn = 0; pfn < 1024; pfn++) {
		assert_int_equal(kd_read_page(&k, pfn, out), 0);
		assert_memory_equal(out, pages + pfn * KDUMP_BLOCK_SIZE, KDUMP_BLOCK_SIZE);
	}
	assert_true(kd_is_ram(&k, 1024));
	assert_int_equal(kd_read_page(&k, 1024, out), -ENODATA);
	kd_close(&k);
}

/*
 * RAM given in pieces, out of order and overlapping, far apart: bitmap 1 is
 * written from ranges and bitmap 2 through a window that has to slide
 * (the writer holds neither bitmap whole).
 */
static void test_far_apart(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	uint8_t page[KDUMP_BLOCK_SIZE], out[KDUMP_BLOCK_SIZE];
	const uint64_t far = 5000000, top = 9000000;
	struct kd_file k;

	f->params.max_mapnr = top + 1;
	assert_int_equal(kdump_writer_new(f->fd, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, far, far + 10), 0);
	assert_int_equal(kdump_writer_set_ram(w, 3, 8), 0);
	assert_int_equal(kdump_writer_set_ram(w, top, top + 1), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 5), 0);
	assert_int_equal(kdump_writer_set_ram(w, 5, 5), 0);
	assert_int_equal(kdump_writer_ram_pages(w), 8 + 10 + 1);
	assert_int_equal(kdump_writer_reserve(w, 19, true), 0);
	for (uint64_t pfn = 0; pfn < 8; pfn++)
		assert_int_equal(kdump_writer_add_zero_page(w, pfn), 0);
	for (uint64_t pfn = far; pfn < far + 10; pfn += 2) {
		synth_pattern_fill(pfn * KDUMP_BLOCK_SIZE, page, sizeof(page));
		add_raw(w, pfn, page);
	}
	assert_int_equal(kdump_writer_add_zero_page(w, far + 5), -EINVAL); /* not increasing */
	assert_int_equal(kdump_writer_add_zero_page(w, 8), -EINVAL); /* not RAM, and behind */
	assert_int_equal(kdump_writer_add_zero_page(w, top - 1), -EINVAL); /* not RAM */
	assert_int_equal(kdump_writer_add_zero_page(w, top), 0);
	assert_int_equal(kdump_writer_finish(w, false), 0);

	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(k.max_mapnr, top + 1);
	assert_int_equal(kd_count_dumped(&k), 8 + 5 + 1);
	for (uint64_t pfn = 0; pfn < top + 1;
	     pfn += pfn < 20 || (pfn >= far - 5 && pfn < far + 20) ? 1 : 4093) {
		bool ram = pfn < 8 || (pfn >= far && pfn < far + 10) || pfn == top;
		bool dumped = pfn < 8 || (pfn >= far && pfn < far + 10 && !((pfn - far) & 1)) ||
			      pfn == top;

		assert_int_equal(kd_is_ram(&k, pfn), ram);
		assert_int_equal(kd_is_dumped(&k, pfn), dumped);
	}
	assert_true(kd_is_ram(&k, top));
	assert_true(kd_is_dumped(&k, top));
	assert_int_equal(kd_read_page(&k, far + 4, out), 0);
	synth_pattern_fill((far + 4) * KDUMP_BLOCK_SIZE, page, sizeof(page));
	assert_memory_equal(out, page, sizeof(page));
	kd_close(&k);
}

/* The same writer into the flattened stream: replayed, the same bytes. */
static void test_flat_sink(void **state)
{
	struct fixture *f = *state;
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_sink_ struct sink *s = NULL;
	_cleanup_free_ char *stream = NULL;
	uint8_t page[KDUMP_BLOCK_SIZE];
	size_t size;

	assert_int_equal(sink_new_flat(f->fd, &s), 0);
	assert_int_equal(kdump_writer_new_sink(s, &f->params, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 4), 0);
	assert_int_equal(kdump_writer_reserve(w, 4, true), 0);
	synth_pattern_fill(0, page, sizeof(page));
	add_raw(w, 1, page);
	assert_int_equal(kdump_writer_add_zero_page(w, 3), 0);
	assert_int_equal(kdump_writer_finish(w, false), 0);
	assert_int_equal(read_full_file(f->path, 1 << 24, &stream, &size), 0);
	assert_memory_equal(stream, "makedumpfile", 12);
	assert_int_equal(size, sink_bytes(s));
	/* the end marker */
	assert_memory_equal(stream + size - 16,
			    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
	assert_int_equal(kdump_writer_new_sink(NULL, &f->params, &w), -EINVAL);
}

static void test_page_helpers(void **state)
{
	_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
	uint8_t page[KDUMP_BLOCK_SIZE] = { 0 }, buf[KDUMP_BLOCK_SIZE], out[KDUMP_BLOCK_SIZE];
	struct kdump_page p;

	assert_true(kdump_page_is_zero(page));
	page[4095] = 1;
	assert_false(kdump_page_is_zero(page));
	page[4095] = 0;
	page[0] = 1;
	assert_false(kdump_page_is_zero(page));

	assert_int_equal(kdump_compressor_new(COMPRESSION_ZSTD, 19, &c), 0);
	synth_pattern_fill(0x123000, page, sizeof(page));
	kdump_compress_page(c, page, buf, &p);
	assert_ptr_equal(p.data, buf);
	assert_int_equal(p.flags, KDUMP_FLAG_ZSTD);
	assert_true(p.size < KDUMP_BLOCK_SIZE);
	assert_int_equal(ZSTD_decompress(out, sizeof(out), buf, p.size), KDUMP_BLOCK_SIZE);
	assert_memory_equal(out, page, sizeof(page));

	fill_random(page, sizeof(page), 99);
	kdump_compress_page(c, page, buf, &p);
	assert_ptr_equal(p.data, page);
	assert_int_equal(p.size, KDUMP_BLOCK_SIZE);
	assert_int_equal(p.flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_notes_uncompressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_far_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flat_sink, setup, teardown),
		cmocka_unit_test(test_page_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
