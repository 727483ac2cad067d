// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page compression: each compression as makedumpfile writes it (the same
 * library calls and levels), raw pages when compressing does not help, the
 * header status and descriptor flags, round trips through lib's dump reader,
 * and the crash initramfs' settings key reaching the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "collector/init-steps.h"
#include "config.h"
#include "dump.h"
#include "kdump-read.h"
#include "kdump_writer.h"
#include "vmcore-synth.h"

#define PG KDUMP_BLOCK_SIZE
#define NPAGES 48

static const enum compression all[] = { COMPRESSION_NONE, COMPRESSION_ZSTD, COMPRESSION_ZLIB,
					COMPRESSION_LZO, COMPRESSION_SNAPPY };
static const uint32_t all_flags[] = { 0, KDUMP_FLAG_ZSTD, KDUMP_FLAG_ZLIB, KDUMP_FLAG_LZO,
				      KDUMP_FLAG_SNAPPY };

static void fill_random(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		/* splitmix64: incompressible for every library here */
		uint64_t x = (seed + i) * 0x9e3779b97f4a7c15ULL;

		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (uint8_t)((x ^ (x >> 31)) >> 56);
	}
}

/* Page pfn of the test memory: every 4th random, every 7th zero, the others patterned. */
static void test_page(uint64_t pfn, uint8_t *page)
{
	if (pfn % 4 == 3)
		fill_random(page, PG, pfn << 12);
	else if (pfn % 7 == 5)
		memset(page, 0, PG);
	else
		synth_pattern_fill(pfn << 12, page, PG);
}

static bool page_is_raw(uint64_t pfn)
{
	return pfn % 4 == 3;
}

/* Decompresses with the library itself, not with lib's reader. */
static void decompress(uint32_t flag, const void *in, size_t size, uint8_t *out)
{
	size_t n = 0;

	switch (flag) {
	case KDUMP_FLAG_ZLIB: {
		uLongf zn = PG;

		assert_int_equal(uncompress(out, &zn, in, size), Z_OK);
		n = zn;
		break;
	}
	case KDUMP_FLAG_LZO: {
		lzo_uint ln = PG;

		assert_int_equal(lzo1x_decompress_safe(in, size, out, &ln, NULL), LZO_E_OK);
		n = ln;
		break;
	}
	case KDUMP_FLAG_SNAPPY:
		n = PG;
		assert_int_equal(snappy_uncompress(in, size, (char *)out, &n), SNAPPY_OK);
		break;
	case KDUMP_FLAG_ZSTD:
		n = ZSTD_decompress(out, PG, in, size);
		break;
	default:
		fail_msg("no such flag %#x", flag);
	}
	assert_int_equal(n, PG);
}

static void test_flags(void **state)
{
	uint32_t flag = 77;

	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		assert_int_equal(kdump_compression_flag(all[i], &flag), 0);
		assert_int_equal(flag, all_flags[i]);
	}
	/* the format's numbers, not just distinct ones */
	assert_int_equal(KDUMP_FLAG_ZLIB, 0x1);
	assert_int_equal(KDUMP_FLAG_LZO, 0x2);
	assert_int_equal(KDUMP_FLAG_SNAPPY, 0x4);
	assert_int_equal(KDUMP_FLAG_ZSTD, 0x20);
	flag = 77;
	assert_int_equal(kdump_compression_flag((enum compression)5, &flag), -EOPNOTSUPP);
	assert_int_equal(kdump_compression_flag((enum compression) - 1, &flag), -EOPNOTSUPP);
	assert_int_equal(flag, 77);
}

/* Each compression: a patterned page compressed and decoded back, a random one raw. */
static void test_each_page(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
		uint8_t page[PG], buf[PG], out[PG];
		struct kdump_page p;

		assert_int_equal(kdump_compressor_new(all[i], 1, &c), 0);
		/* twice: the second page proves the state is reset between pages */
		for (int round = 0; round < 2; round++) {
			synth_pattern_fill(0x5000 + round * PG, page, PG);
			memset(buf, 0xaa, sizeof(buf));
			kdump_compress_page(c, page, buf, &p);
			if (all[i] == COMPRESSION_NONE) {
				assert_ptr_equal(p.data, page);
				assert_int_equal(p.size, PG);
				assert_int_equal(p.flags, 0);
				continue;
			}
			assert_ptr_equal(p.data, buf);
			assert_int_equal(p.flags, all_flags[i]);
			assert_true(p.size > 0 && p.size < PG);
			decompress(p.flags, buf, p.size, out);
			assert_memory_equal(out, page, PG);
		}

		fill_random(page, PG, 42);
		kdump_compress_page(c, page, buf, &p);
		assert_ptr_equal(p.data, page);
		assert_int_equal(p.size, PG);
		assert_int_equal(p.flags, 0);

		/* a zero page compresses with every library */
		memset(page, 0, PG);
		kdump_compress_page(c, page, buf, &p);
		assert_int_equal(p.flags, all_flags[i]);
	}
}

/* zlib at Z_BEST_SPEED and zstd at the level given: the bytes makedumpfile -c / -z write. */
static void test_same_bytes_as_makedumpfile(void **state)
{
	_cleanup_kdump_compressor_ struct kdump_compressor *z = NULL, *zs = NULL, *l = NULL;
	uint8_t page[PG], buf[PG], want[2 * PG];
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	struct kdump_page p;
	uLongf n = sizeof(want);
	lzo_uint ln = sizeof(want);

	synth_pattern_fill(0x123000, page, PG);
	assert_int_equal(kdump_compressor_new(COMPRESSION_ZLIB, 19, &z), 0); /* level ignored */
	kdump_compress_page(z, page, buf, &p);
	assert_int_equal(compress2(want, &n, page, PG, Z_BEST_SPEED), Z_OK);
	assert_int_equal(p.size, n);
	assert_memory_equal(buf, want, n);
	/* not the default level's bytes */
	n = sizeof(want);
	assert_int_equal(compress2(want, &n, page, PG, Z_DEFAULT_COMPRESSION), Z_OK);
	assert_true(n != p.size || memcmp(buf, want, n) != 0);

	assert_int_equal(kdump_compressor_new(COMPRESSION_ZSTD, 1, &zs), 0);
	kdump_compress_page(zs, page, buf, &p);
	n = ZSTD_compress(want, sizeof(want), page, PG, 1);
	assert_int_equal(p.size, n);
	assert_memory_equal(buf, want, n);

	assert_int_equal(kdump_compressor_new(COMPRESSION_LZO, 0, &l), 0);
	kdump_compress_page(l, page, buf, &p);
	assert_int_equal(lzo1x_1_compress(page, PG, want, &ln, wrk), LZO_E_OK);
	assert_int_equal(p.size, ln);
	assert_memory_equal(buf, want, ln);
}

/* A page that compresses to exactly a page or a little less: the boundary. */
static void test_almost_incompressible(void **state)
{
	for (size_t i = 1; i < ELEMENTSOF(all); i++) {
		_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
		uint8_t page[PG], buf[PG], out[PG];
		struct kdump_page p;
		bool seen_raw = false, seen_small = false;

		assert_int_equal(kdump_compressor_new(all[i], 3, &c), 0);
		/* more and more zero bytes in a random page: from raw to just compressed */
		for (size_t zeros = 0; zeros <= 1024; zeros += 16) {
			fill_random(page, PG, zeros);
			memset(page, 0, zeros);
			kdump_compress_page(c, page, buf, &p);
			assert_true(p.size <= PG);
			if (p.flags == 0) {
				assert_ptr_equal(p.data, page);
				assert_int_equal(p.size, PG);
				seen_raw = true;
			} else {
				assert_int_equal(p.flags, all_flags[i]);
				assert_true(p.size < PG);
				decompress(p.flags, buf, p.size, out);
				assert_memory_equal(out, page, PG);
				seen_small = true;
			}
		}
		assert_true(seen_raw);
		assert_true(seen_small);
	}
}

static void test_bad_input(void **state)
{
	struct kdump_compressor *c = NULL;

	assert_int_equal(kdump_compressor_new(COMPRESSION_ZSTD, ZSTD_maxCLevel() + 1, &c), -EINVAL);
	assert_int_equal(kdump_compressor_new((enum compression)5, 1, &c), -EOPNOTSUPP);
	assert_null(c);
	/* the level is only zstd's */
	assert_int_equal(kdump_compressor_new(COMPRESSION_LZO, 9999, &c), 0);
	c = kdump_compressor_free(c);
	assert_null(c);
	assert_null(kdump_compressor_free(NULL));
}

/* Writes NPAGES test pages with compression c, then reads them back with lib's reader. */
static void round_trip(enum compression c, uint32_t flag)
{
	_cleanup_kdump_compressor_ struct kdump_compressor *comp = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	char path[] = "/tmp/test-page-compress.XXXXXX";
	struct kdump_writer_params p = {
		.timestamp_sec = 1700000000,
		.nr_cpus = 1,
		.dump_level = 1,
		.compression = c,
		.max_mapnr = NPAGES,
	};
	struct kdump_writer *w = NULL;
	struct kd_file k;
	uint8_t page[PG], buf[PG], out[PG];
	unsigned compressed = 0;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	strcpy(p.utsname.release, "6.1.0-compress");
	assert_int_equal(kdump_writer_new(fd, &p, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, NPAGES), 0);
	assert_int_equal(kdump_writer_reserve(w, NPAGES, true), 0);
	assert_int_equal(kdump_compressor_new(c, 1, &comp), 0);
	for (uint64_t pfn = 0; pfn < NPAGES; pfn++) {
		struct kdump_page kp;

		test_page(pfn, page);
		if (kdump_page_is_zero(page)) {
			assert_int_equal(kdump_writer_add_zero_page(w, pfn), 0);
			continue;
		}
		kdump_compress_page(comp, page, buf, &kp);
		assert_int_equal(kdump_writer_add_page(w, pfn, &kp), 0);
	}
	assert_int_equal(kdump_writer_finish(w, false), 0);
	kdump_writer_free(w);
	close(fd);

	/* the bytes, with the test's own reader */
	assert_int_equal(kd_open(path, &k), 0);
	assert_int_equal(k.status, flag);
	for (uint64_t pfn = 0; pfn < NPAGES; pfn++) {
		struct kd_desc desc;

		test_page(pfn, page);
		assert_int_equal(kd_desc(&k, pfn, &desc), 0);
		if (kdump_page_is_zero(page)) {
			/* the shared zero page, raw */
			assert_int_equal(desc.flags, 0);
			assert_int_equal(desc.size, PG);
		} else if (page_is_raw(pfn) || flag == 0) {
			assert_int_equal(desc.flags, 0);
			assert_int_equal(desc.size, PG);
			assert_memory_equal(k.buf + desc.offset, page, PG);
		} else {
			assert_int_equal(desc.flags, flag);
			assert_true(desc.size < PG);
			decompress(flag, k.buf + desc.offset, desc.size, out);
			assert_memory_equal(out, page, PG);
			compressed++;
		}
		assert_int_equal(desc.page_flags, 0);
	}
	kd_close(&k);
	/* 48 pages: 12 random, 5 zero, 31 patterned */
	assert_int_equal(compressed, flag ? 31 : 0);

	/* and with lib's dump reader, which serves re-filtering and analyze */
	assert_int_equal(dump_open(path, &d), 0);
	assert_false(dump_is_incomplete(d));
	for (uint64_t pfn = 0; pfn < NPAGES; pfn++) {
		test_page(pfn, page);
		assert_int_equal(dump_read_phys(d, pfn * PG, out, PG), 0);
		assert_memory_equal(out, page, PG);
	}
	unlink(path);
}

static void test_round_trips(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(all); i++)
		round_trip(all[i], all_flags[i]);
}

/* A writer for one compression refuses pages flagged with another. */
static void test_writer_mismatch(void **state)
{
	char path[] = "/tmp/test-page-compress.XXXXXX";
	struct kdump_writer_params p = { .dump_level = 0,
					 .compression = COMPRESSION_LZO,
					 .max_mapnr = 4 };
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	uint8_t page[PG] = { 0 };
	struct kdump_page zlib = { .data = page, .size = 100, .flags = KDUMP_FLAG_ZLIB };
	struct kdump_page lzo = { .data = page, .size = 100, .flags = KDUMP_FLAG_LZO };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(kdump_writer_new(fd, &p, &w), 0);
	assert_int_equal(kdump_writer_set_ram(w, 0, 4), 0);
	assert_int_equal(kdump_writer_reserve(w, 4, false), 0);
	assert_int_equal(kdump_writer_add_page(w, 0, &zlib), -EINVAL);
	assert_int_equal(kdump_writer_add_page(w, 0, &lzo), 0);
	assert_int_equal(kdump_writer_finish(w, false), 0);
	close(fd);
	unlink(path);
}

/* --- the crash initramfs: the settings key reaches the file ---------------- */

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-test\n"
				      "PAGESIZE=4096\n"
				      "CRASHTIME=1700000123\n";

static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	for (size_t off = 0; off < len; off += PG)
		test_page((paddr + off) / PG, (uint8_t *)buf + off);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void test_settings_key(void **state)
{
	static const struct synth_segment segs[] = {
		{ .phys_start = 0x100000, .mem_size = NPAGES * PG, .fill = fill },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo_text, .nr_cpus = 1, .segments = segs, .n_segments = 1
	};
	_cleanup_free_ char *vmcore = NULL;
	char dir[] = "/tmp/test-page-compress-target.XXXXXX";

	assert_non_null(mkdtemp(dir));
	assert_int_equal(synth_vmcore_tmpfile(&spec, &vmcore), 0);
	for (size_t i = 0; i < ELEMENTSOF(all); i++) {
		_cleanup_(settings_done) struct settings s;
		_cleanup_(config_done) struct config cfg = {};
		_cleanup_(init_capture_done) struct init_capture c = {};
		_cleanup_free_ char *text = NULL, *file = NULL;
		struct config_error err = {};
		struct kd_file k;
		unsigned compressed = 0;

		settings_init(&s);
		assert_true(
			asprintf(&text,
				 "compression = %s\nthreads = 2\ndump_level = 1\npath = /c%zu\n",
				 compression_to_string(all[i]), i) > 0);
		assert_int_equal(config_parse_string(&cfg, text, "crashcap.conf", &err), 0);
		assert_int_equal(settings_from_config(&s, &cfg, &err), 0);
		assert_int_equal(s.compression, all[i]);

		assert_int_equal(init_capture_dump(&s, vmcore, dir, 0, &c), 0);
		assert_int_equal(c.result, SUMMARY_OK);
		assert_true(asprintf(&file, "%s/vmcore", c.dir) > 0);
		assert_int_equal(kd_open(file, &k), 0);
		assert_int_equal(k.status, all_flags[i]);
		for (uint64_t pfn = 0x100; pfn < 0x100 + NPAGES; pfn++) {
			struct kd_desc desc;

			if (kd_desc(&k, pfn, &desc) < 0)
				continue; /* zero pages at level 31 */
			assert_true(desc.flags == 0 || desc.flags == all_flags[i]);
			compressed += desc.flags != 0;
		}
		kd_close(&k);
		if (all[i] == COMPRESSION_NONE)
			assert_int_equal(compressed, 0);
		else
			assert_true(compressed >= 25);
	}
	unlink(vmcore);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_each_page),
		cmocka_unit_test(test_same_bytes_as_makedumpfile),
		cmocka_unit_test(test_almost_incompressible),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_writer_mismatch),
		cmocka_unit_test(test_settings_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
