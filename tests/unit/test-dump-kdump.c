// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kdump-compressed backend of the dump reader: files from lib's writer
 * (zstd, none), the same with pages recompressed here with zlib, lzo and
 * snappy (the writer makes neither), flattened copies of them (pieces out of
 * order, rewritten ranges, holes), and damaged files.
 */
#include "dump.h"
#include "kdump-read.h"
#include "kdump_writer.h"
#include "vmcore-synth.h"

#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <lzo/lzo1x.h>
#include <setjmp.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>

#define VMCOREINFO_TEXT "OSRELEASE=6.1.0-kdump-test\nPAGESIZE=4096\n"
#define MAX_MAPNR 120
#define PG 4096

/* RAM: pfns 0..29 and 40..99. Excluded: multiples of 7. Zero pages: multiples of 5. */
static bool is_ram(uint64_t pfn)
{
	return pfn < 30 || (pfn >= 40 && pfn < 100);
}

static bool is_dumped(uint64_t pfn)
{
	return is_ram(pfn) && pfn % 7 != 0;
}

static void fill_random(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

static void expected_page(uint64_t pfn, uint8_t *page)
{
	if (pfn % 5 == 0)
		memset(page, 0, PG);
	else if (pfn % 11 == 0)
		fill_random(page, PG, pfn); /* does not compress: stored raw */
	else
		synth_pattern_fill(pfn * PG, page, PG);
}

struct fixture {
	char path[64], flat[64];
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	strcpy(f->path, "/tmp/test-dump-kdump.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	strcpy(f->flat, "/tmp/test-dump-kdump-flat.XXXXXX");
	fd = mkstemp(f->flat);
	assert_true(fd >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	unlink(f->path);
	unlink(f->flat);
	free(f);
	return 0;
}

/* Writes the dump described above with lib's writer. */
static void build(struct fixture *f, enum compression c, bool incomplete)
{
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_kdump_compressor_ struct kdump_compressor *comp = NULL;
	_cleanup_free_ void *core = NULL, *vi = NULL, *notes = NULL;
	uint8_t prstatus[336] = { 0 }, page[PG], buf[PG];
	size_t core_size, vi_size;
	struct kdump_writer_params p = {
		.timestamp_sec = 1700000000,
		.nr_cpus = 3,
		.phys_base = 0x1000000,
		.dump_level = 1,
		.compression = c,
		.max_mapnr = MAX_MAPNR,
	};

	assert_int_equal(
		synth_note("CORE", NT_PRSTATUS, prstatus, sizeof(prstatus), &core, &core_size), 0);
	assert_int_equal(synth_note("VMCOREINFO", 0, VMCOREINFO_TEXT, strlen(VMCOREINFO_TEXT), &vi,
				    &vi_size),
			 0);
	notes = malloc(core_size + vi_size);
	assert_non_null(notes);
	memcpy(notes, core, core_size);
	memcpy((uint8_t *)notes + core_size, vi, vi_size);
	p.notes = notes;
	p.notes_size = core_size + vi_size;
	p.vmcoreinfo_offset = core_size + 24;
	p.vmcoreinfo_size = strlen(VMCOREINFO_TEXT);
	strcpy(p.utsname.release, "6.1.0-kdump-test");

	assert_int_equal(ftruncate(f->fd, 0), 0);
	assert_int_equal(kdump_writer_new(f->fd, &p, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 30), 0);
	assert_int_equal(kdump_writer_set_ram(w, 40, 100), 0);
	assert_int_equal(kdump_writer_reserve(w, 90, true), 0);
	assert_int_equal(kdump_compressor_new(c, 3, &comp), 0);
	for (uint64_t pfn = 0; pfn < MAX_MAPNR; pfn++) {
		struct kdump_page kp;

		if (!is_dumped(pfn))
			continue;
		expected_page(pfn, page);
		if (kdump_page_is_zero(page)) {
			assert_int_equal(kdump_writer_add_zero_page(w, pfn), 0);
			continue;
		}
		kdump_compress_page(comp, page, buf, &kp);
		assert_int_equal(kdump_writer_add_page(w, pfn, &kp), 0);
	}
	assert_int_equal(kdump_writer_finish(w, incomplete), 0);
}

static uint64_t desc_pos(const struct kd_file *k, uint64_t pfn)
{
	uint64_t pos = k->rank[pfn >> 3];

	for (uint64_t i = pfn & ~7ULL; i < pfn; i++)
		pos += kd_is_dumped(k, i);
	return k->desc_offset + pos * 24;
}

static size_t compress_with(uint32_t flag, const uint8_t *page, uint8_t *out, size_t cap)
{
	if (flag == KDUMP_FLAG_ZLIB) {
		uLongf n = cap;

		assert_int_equal(compress2(out, &n, page, PG, 6), Z_OK);
		return n;
	}
	if (flag == KDUMP_FLAG_LZO) {
		static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
		lzo_uint n = cap;

		assert_int_equal(lzo_init(), LZO_E_OK);
		assert_int_equal(lzo1x_1_compress(page, PG, out, &n, wrk), LZO_E_OK);
		return n;
	}
	size_t n = cap;

	assert_int_equal(snappy_compress((const char *)page, PG, (char *)out, &n), SNAPPY_OK);
	return n;
}

/*
 * Rewrites every raw page but the shared zero page compressed with flag: the
 * data goes to the end of the file and the descriptor is patched, as a
 * makedumpfile built with that library would have written it.
 */
static unsigned recompress(struct fixture *f, uint32_t flag)
{
	struct kd_file k;
	uint8_t out[2 * PG];
	uint64_t end;
	unsigned n = 0;

	build(f, COMPRESSION_NONE, false);
	assert_int_equal(kd_open(f->path, &k), 0);
	end = k.size;
	for (uint64_t pfn = 0; pfn < MAX_MAPNR; pfn++) {
		uint8_t page[PG];
		struct kd_desc d;
		size_t size;
		uint8_t desc[24];

		if (!is_dumped(pfn) || pfn % 5 == 0)
			continue;
		assert_int_equal(kd_desc(&k, pfn, &d), 0);
		assert_int_equal(d.flags, 0);
		memcpy(page, k.buf + d.offset, PG);
		size = compress_with(flag, page, out, sizeof(out));
		if (size >= PG)
			continue;
		assert_int_equal(pwrite_full(f->fd, out, size, end), 0);
		memcpy(desc, &end, 8);
		memcpy(desc + 8, &(uint32_t){ size }, 4);
		memcpy(desc + 12, &flag, 4);
		memset(desc + 16, 0, 8);
		assert_int_equal(pwrite_full(f->fd, desc, sizeof(desc), desc_pos(&k, pfn)), 0);
		end += size;
		n++;
	}
	assert_int_equal(pwrite_full(f->fd, &flag, 4, 424), 0);
	kd_close(&k);
	return n;
}

static void check_dump(const char *path)
{
	_cleanup_dump_ struct dump *d = NULL;
	const struct dump_segment *s;
	uint8_t page[PG], want[PG], two[3 * PG];
	size_t n;

	assert_int_equal(dump_open(path, &d), 0);
	assert_int_equal(dump_get_format(d), DUMP_FORMAT_KDUMP);
	assert_false(dump_is_truncated(d));
	assert_false(dump_is_incomplete(d));
	assert_int_equal(dump_nr_cpus(d), 3);
	assert_non_null(dump_vmcoreinfo(d));
	assert_string_equal(vmcoreinfo_osrelease(dump_vmcoreinfo(d)), "6.1.0-kdump-test");
	assert_int_equal(dump_vmcoreinfo_note_offset(d, NULL, &n), 0);
	assert_int_equal(n, strlen(VMCOREINFO_TEXT));

	s = dump_segments(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].phys_start, 0);
	assert_int_equal(s[0].mem_size, 30 * PG);
	assert_int_equal(s[1].phys_start, 40 * PG);
	assert_int_equal(s[1].mem_size, 60 * PG);
	assert_int_equal(dump_max_pfn(d), 100);

	for (uint64_t pfn = 0; pfn < MAX_MAPNR + 8; pfn++) {
		int r = dump_read_phys(d, pfn * PG, page, PG);

		if (!is_dumped(pfn)) {
			assert_int_equal(r, -ENOENT);
			continue;
		}
		assert_int_equal(r, 0);
		expected_page(pfn, want);
		assert_memory_equal(page, want, PG);
	}
	/* A read across pages 1..3, not aligned; then one that meets an excluded page. */
	assert_int_equal(dump_read_phys(d, PG + 100, two, 2 * PG), 0);
	expected_page(1, want);
	assert_memory_equal(two, want + 100, PG - 100);
	expected_page(3, want);
	assert_memory_equal(two + 2 * PG - 100, want, 100);
	assert_int_equal(dump_read_phys(d, 5 * PG, two, 3 * PG), -ENOENT);
}

static void test_zstd(void **state)
{
	struct fixture *f = *state;

	build(f, COMPRESSION_ZSTD, false);
	check_dump(f->path);
}

static void test_none(void **state)
{
	struct fixture *f = *state;

	build(f, COMPRESSION_NONE, false);
	check_dump(f->path);
}

static void test_zlib(void **state)
{
	struct fixture *f = *state;

	/* 90 RAM pages: 14 excluded, 16 zero, 6 random (raw), 54 recompressed. */
	assert_int_equal(recompress(f, KDUMP_FLAG_ZLIB), 54);
	check_dump(f->path);
}

static void test_lzo(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(recompress(f, KDUMP_FLAG_LZO), 54);
	check_dump(f->path);
}

static void test_snappy(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(recompress(f, KDUMP_FLAG_SNAPPY), 54);
	check_dump(f->path);
}

static void put_record(int fd, uint64_t *pos, int64_t off, int64_t size, const void *data)
{
	int64_t rec[2] = { (int64_t)htobe64(off), (int64_t)htobe64(size) };

	assert_int_equal(pwrite_full(fd, rec, sizeof(rec), *pos), 0);
	*pos += sizeof(rec);
	if (size > 0) {
		assert_int_equal(pwrite_full(fd, data, size, *pos), 0);
		*pos += size;
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void put_be64(uint8_t *p, int64_t v)
{
	v = (int64_t)htobe64(v);
	memcpy(p, &v, 8);
}

/*
 * Writes src as a flattened stream: a garbage record over the headers that
 * later records replace, pieces of odd sizes (with reorder, the first piece
 * last), zero pieces left out (holes), the sub-header rewritten, then the
 * end marker unless cut.
 */
static uint64_t flatten(const char *src, const char *dst, bool reorder, bool end_marker)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int fd = -1;
	uint8_t header[4096] = "makedumpfile", garbage[3 * PG];
	const size_t piece = 5000;
	size_t size;
	uint64_t pos = 0;

	assert_int_equal(read_full_file(src, 1 << 30, &data, &size), 0);
	fd = open(dst, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	put_be64(header + 16, 1);
	put_be64(header + 24, 1);
	assert_int_equal(pwrite_full(fd, header, sizeof(header), 0), 0);
	pos = sizeof(header);

	memset(garbage, 0xee, sizeof(garbage));
	put_record(fd, &pos, 100, sizeof(garbage), garbage);
	if (!reorder)
		put_record(fd, &pos, 0, piece, data);
	for (size_t off = piece; off < size; off += piece) {
		size_t n = MIN(piece, size - off);

		if (!all_zero((uint8_t *)data + off, n))
			put_record(fd, &pos, off, n, data + off);
	}
	if (reorder)
		put_record(fd, &pos, 0, piece, data);
	/* The sub-header once more, as makedumpfile rewrites it at the end. */
	put_record(fd, &pos, PG, 104, data + PG);
	if (end_marker)
		put_record(fd, &pos, -1, -1, NULL);
	return pos;
}

static void test_flattened(void **state)
{
	struct fixture *f = *state;

	build(f, COMPRESSION_ZSTD, false);
	flatten(f->path, f->flat, true, true);
	check_dump(f->flat);
	flatten(f->path, f->flat, false, true);
	check_dump(f->flat);
	assert_int_equal(recompress(f, KDUMP_FLAG_LZO), 54);
	flatten(f->path, f->flat, true, true);
	check_dump(f->flat);
}

static void test_flattened_cut(void **state)
{
	struct fixture *f = *state;
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t page[PG], want[PG];
	uint64_t size;

	build(f, COMPRESSION_NONE, false);
	size = flatten(f->path, f->flat, false, false);
	/* Cut inside the records that hold the data of the last pages (97 and 99). */
	assert_int_equal(truncate(f->flat, size - 3 * PG), 0);
	assert_int_equal(dump_open(f->flat, &d), 0);
	assert_true(dump_is_truncated(d));
	assert_int_equal(dump_read_phys(d, 1 * PG, page, PG), 0);
	expected_page(1, want);
	assert_memory_equal(page, want, PG);
	assert_int_equal(dump_read_phys(d, 99 * PG, page, PG), -ENODATA);
	assert_int_equal(dump_read_phys(d, 97 * PG, page, PG), -ENODATA);
	assert_int_equal(dump_read_phys(d, 98 * PG, page, PG), -ENOENT);
}

static void test_truncated_incomplete(void **state)
{
	struct fixture *f = *state;
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t page[PG], want[PG];
	struct stat st;

	build(f, COMPRESSION_NONE, true);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(ftruncate(f->fd, st.st_size - 2 * PG), 0);
	assert_int_equal(dump_open(f->path, &d), 0);
	assert_true(dump_is_incomplete(d));
	assert_int_equal(dump_read_phys(d, 2 * PG, page, PG), 0);
	expected_page(2, want);
	assert_memory_equal(page, want, PG);
	/* Raw pages: the last two in the file, 99 and 97, are gone; 98 was excluded. */
	assert_int_equal(dump_read_phys(d, 99 * PG, page, PG), -ENODATA);
	assert_int_equal(dump_read_phys(d, 97 * PG, page, PG), -ENODATA);
	assert_int_equal(dump_read_phys(d, 98 * PG, page, PG), -ENOENT);
	assert_int_equal(dump_read_phys(d, 96 * PG, page, PG), 0);
	expected_page(96, want);
	assert_memory_equal(page, want, PG);
}

static void test_corrupt_page(void **state)
{
	struct fixture *f = *state;
	_cleanup_dump_ struct dump *d = NULL;
	struct kd_file k;
	struct kd_desc desc;
	uint8_t page[PG], junk[64];

	build(f, COMPRESSION_ZSTD, false);
	assert_int_equal(kd_open(f->path, &k), 0);
	assert_int_equal(kd_desc(&k, 2, &desc), 0);
	assert_int_equal(desc.flags, KDUMP_FLAG_ZSTD);
	kd_close(&k);
	memset(junk, 0x55, sizeof(junk));
	assert_int_equal(pwrite_full(f->fd, junk, MIN(sizeof(junk), desc.size), desc.offset), 0);
	assert_int_equal(dump_open(f->path, &d), 0);
	assert_int_equal(dump_read_phys(d, 2 * PG, page, PG), -EBADMSG);
	assert_int_equal(dump_read_phys(d, 3 * PG, page, PG), 0);
}

static void test_bad_headers(void **state)
{
	struct fixture *f = *state;
	struct dump *d = NULL;
	uint8_t flat[4096] = "makedumpfile";
	uint32_t v;

	/* A block size other than the page size. */
	build(f, COMPRESSION_ZSTD, false);
	v = 8192;
	assert_int_equal(pwrite_full(f->fd, &v, 4, 428), 0);
	assert_int_equal(dump_open(f->path, &d), -ENOEXEC);
	/* No bitmap blocks. */
	build(f, COMPRESSION_ZSTD, false);
	v = 0;
	assert_int_equal(pwrite_full(f->fd, &v, 4, 436), 0);
	assert_int_equal(dump_open(f->path, &d), -EBADMSG);
	/* More pfns than the bitmaps have bits. */
	build(f, COMPRESSION_ZSTD, false);
	assert_int_equal(pwrite_full(f->fd, &(uint64_t){ 1 << 20 }, 8, PG + 96), 0);
	assert_int_equal(dump_open(f->path, &d), -EBADMSG);
	/* Flattened, of another type; then flattened with no kdump inside. */
	put_be64(flat + 16, 2);
	assert_int_equal(ftruncate(f->fd, 0), 0);
	assert_int_equal(pwrite_full(f->fd, flat, sizeof(flat), 0), 0);
	assert_int_equal(dump_open(f->path, &d), -ENOEXEC);
	put_be64(flat + 16, 1);
	assert_int_equal(pwrite_full(f->fd, flat, sizeof(flat), 0), 0);
	assert_int_equal(pwrite_full(f->fd, (int64_t[]){ htobe64(0), htobe64(8) }, 16, 4096), 0);
	assert_int_equal(pwrite_full(f->fd, "\177ELF\2\1\1\0", 8, 4096 + 16), 0);
	assert_int_equal(dump_open(f->path, &d), -ENOEXEC);
	/* A record with a negative size. */
	assert_int_equal(pwrite_full(f->fd, (int64_t[]){ htobe64(0), htobe64(-5) }, 16, 4096), 0);
	assert_int_equal(dump_open(f->path, &d), -EBADMSG);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zlib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lzo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snappy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flattened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flattened_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
