// SPDX-License-Identifier: GPL-2.0-or-later
#include "collector/collect-internal.h"
#include "dump.h"
#include "kdump-read.h"
#include "kdump_writer.h"
#include "page-filter.h"
#include "page-synth.h"
#include "vmcore-synth.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <cmocka.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define UTS_PADDR 0x101000ULL /* where the fixture's init_uts_ns lives */

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-test\n"
				      "PAGESIZE=4096\n"
				      "SYMBOL(init_uts_ns)=ffffffff80101000\n"
				      "OFFSET(uts_namespace.name)=0\n"
				      "NUMBER(phys_base)=0\n"
				      "CRASHTIME=1700000123\n";

/* Before 5.11: no OFFSET(uts_namespace.name), the name follows a 4-byte kref. */
static const char vmcoreinfo_old[] = "OSRELEASE=4.19.0-old\n"
				     "SYMBOL(init_uts_ns)=ffffffff80101000\n"
				     "NUMBER(phys_base)=0\n";

struct fill_ctx {
	size_t uts_offset;
	const char *release;
};

static void fill_uts(char *base, const char *release)
{
	strcpy(base, "Linux");
	strcpy(base + 65, "crashhost");
	strcpy(base + 2 * 65, release);
	strcpy(base + 3 * 65, "#1 SMP PREEMPT_DYNAMIC Debian");
	strcpy(base + 4 * 65, "x86_64");
	strcpy(base + 5 * 65, "example.org");
}

/*
 * Memory: the address pattern, except [0x104000, 0x10c000) zeros, one page
 * of random bytes at 0x10c000, and a utsname at UTS_PADDR.
 */
static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	const struct fill_ctx *c = userdata;
	uint8_t *p = buf;

	synth_pattern_fill(paddr, buf, len);
	for (size_t i = 0; i < len; i++) {
		uint64_t a = paddr + i;

		if (a >= 0x104000 && a < 0x10c000)
			p[i] = 0;
		else if (a >= 0x10c000 && a < 0x10d000) {
			/* splitmix64 of the address: incompressible */
			uint64_t x = a * 0x9e3779b97f4a7c15ULL;

			x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
			x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
			p[i] = (uint8_t)((x ^ (x >> 31)) >> 56);
		}
	}
	if (c && UTS_PADDR >= paddr && UTS_PADDR + 4096 <= paddr + len) {
		memset(p + (UTS_PADDR - paddr), 0, 4096);
		fill_uts((char *)p + (UTS_PADDR - paddr) + c->uts_offset, c->release);
	}
}

static void expected_page(uint64_t pfn, const struct fill_ctx *c, uint8_t *out)
{
	fill(pfn * 4096, out, 4096, (void *)c);
}

struct fixture {
	char *vmcore;
	char out[64];
	struct fill_ctx ctx;
	struct synth_segment segs[3];
	struct synth_vmcore spec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = (struct fill_ctx){ .uts_offset = 0, .release = "6.1.0-test" };
	/* 64 pages at 1 MiB, 16 with no file data (zeros) at 2 MiB, 8 at 4 MiB */
	f->segs[0] = (struct synth_segment){ .phys_start = 0x100000,
					     .mem_size = 64 * 4096,
					     .virt_start = 0xff11000000100000ULL,
					     .fill = fill,
					     .userdata = &f->ctx };
	f->segs[1] = (struct synth_segment){ .phys_start = 0x200000,
					     .mem_size = 16 * 4096,
					     .file_size = SYNTH_NO_FILE_DATA };
	f->segs[2] = (struct synth_segment){ .phys_start = 0x400000, .mem_size = 8 * 4096 };
	f->spec = (struct synth_vmcore){
		.vmcoreinfo = vmcoreinfo_text,
		.nr_cpus = 2,
		.segments = f->segs,
		.n_segments = 3,
	};
	snprintf(f->out, sizeof(f->out), "/tmp/test-collect-out.%d", getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->vmcore)
		unlink(f->vmcore);
	free(f->vmcore);
	unlink(f->out);
	free(f);
	return 0;
}

static void write_vmcore(struct fixture *f)
{
	assert_int_equal(synth_vmcore_tmpfile(&f->spec, &f->vmcore), 0);
}

static struct collect_options options(struct fixture *f, int level, enum compression c)
{
	return (struct collect_options){
		.vmcore_path = f->vmcore,
		.output_path = f->out,
		.dump_level = level,
		.compression = c,
		.zstd_level = 3,
	};
}

static bool pfn_in_fixture(uint64_t pfn)
{
	return (pfn >= 0x100 && pfn < 0x140) || (pfn >= 0x200 && pfn < 0x210) ||
	       (pfn >= 0x400 && pfn < 0x408);
}

/* Segment 1 has no bytes in the file (p_filesz 0): RAM, but not in the dump, as makedumpfile. */
static void check_pages(const struct kd_file *k, const struct fixture *f)
{
	uint8_t page[4096], want[4096];

	for (uint64_t pfn = 0; pfn < 0x408; pfn++) {
		if (!pfn_in_fixture(pfn)) {
			assert_false(kd_is_ram(k, pfn));
			continue;
		}
		assert_true(kd_is_ram(k, pfn));
		if (pfn >= 0x200 && pfn < 0x210) {
			assert_int_equal(kd_read_page(k, pfn, page), -ENODATA);
			continue;
		}
		assert_int_equal(kd_read_page(k, pfn, page), 0);
		expected_page(pfn, &f->ctx, want);
		assert_memory_equal(page, want, 4096);
	}
}

static void test_level1_zstd(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	_cleanup_dump_ struct dump *d = NULL;
	const void *notes;
	size_t notes_size;
	struct kd_file k;
	struct kd_desc desc, zero;
	struct stat st;

	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_string_equal(res.release, "6.1.0-test");
	assert_int_equal(res.pages_total, 88);
	assert_int_equal(res.ram_bytes, 88 * 4096);
	/* 8 zero pages in segment 0; the 16 of segment 1 have no data */
	assert_int_equal(res.pages_zero, 8);
	assert_int_equal(res.pages_written, 64);
	assert_int_equal(res.pages_nodata, 16);
	assert_int_equal(res.pages_unreadable, 0);
	assert_string_equal(res.fallback, "");
	assert_int_equal(page_filter_counts_total(&res.excluded), 0);
	assert_true(res.threads >= 1);
	assert_true(res.peak_rss_bytes > 0);
	assert_false(res.incomplete);
	assert_int_equal(res.write_error, 0);
	assert_int_equal(res.dump_level, 1);
	assert_true(res.seconds >= 0);
	assert_int_equal(stat(f->out, &st), 0);
	assert_int_equal(res.output_bytes, st.st_size);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD);
	assert_int_equal(k.max_mapnr, 0x408);
	assert_int_equal(k.nr_cpus, 2);
	assert_string_equal((char *)k.buf + 12, "Linux");
	assert_string_equal((char *)k.buf + 12 + 65, "crashhost");
	assert_string_equal((char *)k.buf + 12 + 2 * 65, "6.1.0-test");
	assert_string_equal((char *)k.buf + 12 + 3 * 65, "#1 SMP PREEMPT_DYNAMIC Debian");
	assert_string_equal((char *)k.buf + 12 + 4 * 65, "x86_64");
	assert_string_equal((char *)k.buf + 12 + 5 * 65, "example.org");
	assert_int_equal(kd_u64(&k, 408), 1700000123);
	assert_int_equal(kd_u32(&k, 4096 + 8), 1);

	/* the notes, verbatim; VMCOREINFO found inside the copy */
	assert_int_equal(dump_open(f->vmcore, &d), 0);
	notes = dump_notes(d, &notes_size);
	assert_int_equal(kd_u64(&k, 4096 + 56), notes_size);
	assert_memory_equal(k.buf + kd_u64(&k, 4096 + 48), notes, notes_size);
	assert_memory_equal(k.buf + kd_u64(&k, 4096 + 32), vmcoreinfo_text,
			    strlen(vmcoreinfo_text));
	assert_int_equal(kd_u64(&k, 4096 + 40), strlen(vmcoreinfo_text));

	check_pages(&k, f);
	assert_int_equal(kd_count_dumped(&k), 72);
	/* zero pages share one page at the start of the data */
	assert_int_equal(kd_desc(&k, 0x104, &zero), 0);
	assert_int_equal(zero.offset, k.desc_offset + 72 * 24);
	assert_int_equal(kd_desc(&k, 0x10b, &desc), 0);
	assert_int_equal(desc.offset, zero.offset);
	assert_int_equal(kd_desc(&k, 0x20f, &desc), -ENODATA);
	assert_int_equal(kd_desc(&k, 0x100, &desc), 0);
	assert_int_equal(desc.flags, KDUMP_FLAG_ZSTD);
	assert_int_equal(desc.offset, zero.offset + 4096);
	/* the random page did not compress */
	assert_int_equal(kd_desc(&k, 0x10c, &desc), 0);
	assert_int_equal(desc.flags, 0);
	assert_int_equal(desc.size, 4096);
	kd_close(&k);
}

static void test_level0_none(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;
	struct kd_desc desc;

	write_vmcore(f);
	o = options(f, 0, COMPRESSION_NONE);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(res.pages_written, 72);
	assert_int_equal(res.pages_zero, 0);
	assert_int_equal(res.pages_nodata, 16);
	assert_int_equal(res.dump_level, 0);
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(k.status, 0);
	assert_int_equal(kd_u32(&k, 4096 + 8), 0);
	check_pages(&k, f);
	/* no shared zero page: the first descriptor points at the data start */
	assert_int_equal(kd_desc(&k, 0x100, &desc), 0);
	assert_int_equal(desc.offset, k.desc_offset + 72 * 24);
	for (uint64_t pfn = 0x100; pfn < 0x408; pfn++)
		if (kd_desc(&k, pfn, &desc) == 0)
			assert_int_equal(desc.flags, 0);
	assert_int_equal(res.output_bytes, k.desc_offset + 72 * 24 + 72 * 4096);
	assert_int_equal(res.output_bytes, k.size);
	kd_close(&k);
}

static void test_level_fallback(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;

	write_vmcore(f);
	o = options(f, 31, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(res.dump_level, 1);
	assert_int_equal(res.pages_zero, 8);
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(kd_u32(&k, 4096 + 8), 1);
	kd_close(&k);

	o = options(f, 30, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(res.dump_level, 0);
	assert_int_equal(res.pages_zero, 0);
}

static void test_old_utsname(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;

	f->ctx = (struct fill_ctx){ .uts_offset = 4, .release = "4.19.0-old" };
	f->spec.vmcoreinfo = vmcoreinfo_old;
	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_string_equal(res.release, "4.19.0-old");
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_string_equal((char *)k.buf + 12 + 65, "crashhost");
	assert_string_equal((char *)k.buf + 12 + 5 * 65, "example.org");
	assert_int_equal(kd_u64(&k, 408), 0); /* no CRASHTIME */
	kd_close(&k);
}

/* A utsname that disagrees with OSRELEASE is not trusted: the fields stay empty. */
static void test_utsname_mismatch(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;

	f->ctx.release = "5.10.0-other";
	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_string_equal((char *)k.buf + 12, "Linux");
	assert_string_equal((char *)k.buf + 12 + 65, "");
	assert_string_equal((char *)k.buf + 12 + 2 * 65, "6.1.0-test");
	assert_string_equal((char *)k.buf + 12 + 3 * 65, "");
	kd_close(&k);
}

/* A vmcore cut short: the pages before the cut are in the dump, INCOMPLETE is set. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	uint8_t page[4096], want[4096];
	struct kd_file k;

	/* 5 of segment 2's 8 pages stay in the file, and half of the sixth */
	f->spec.truncate_at = synth_segment_file_offset(&f->spec, 2) + 5 * 4096 + 2048;
	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_true(res.incomplete);
	assert_int_equal(res.write_error, 0);
	assert_int_equal(res.pages_unreadable, 3);
	assert_int_equal(res.pages_total, 88);
	assert_int_equal(res.pages_written + res.pages_zero, 69);

	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD | KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_count_dumped(&k), 69);
	for (uint64_t pfn = 0x400; pfn < 0x405; pfn++) {
		assert_int_equal(kd_read_page(&k, pfn, page), 0);
		expected_page(pfn, &f->ctx, want);
		assert_memory_equal(page, want, 4096);
	}
	for (uint64_t pfn = 0x405; pfn < 0x408; pfn++) {
		assert_true(kd_is_ram(&k, pfn));
		assert_int_equal(kd_read_page(&k, pfn, page), -ENODATA);
	}
	assert_int_equal(kd_read_page(&k, 0x13f, page), 0);
	kd_close(&k);
}

/*
 * The kernel image is often described twice (its own PT_LOAD, early in the
 * file, and inside a RAM PT_LOAD): when the cut removes the RAM copy, the
 * pages come from the other one.
 */
static void test_truncated_overlap(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[2] = {
		{ .phys_start = 0x180000, .mem_size = 16 * 4096, .virt_start = START_KERNEL_MAP },
		{ .phys_start = 0x100000, .mem_size = 256 * 4096 },
	};
	struct collect_options o;
	struct collect_result res;
	uint8_t page[4096], want[4096];
	struct kd_file k;

	f->spec.segments = segs;
	f->spec.n_segments = 2;
	f->spec.truncate_at = synth_segment_file_offset(&f->spec, 1) + 64 * 4096;
	write_vmcore(f);
	o = options(f, 0, COMPRESSION_NONE);
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_true(res.incomplete);
	assert_int_equal(res.pages_total, 256);
	assert_int_equal(res.pages_written, 64 + 16);
	assert_int_equal(res.pages_unreadable, 256 - 80);

	assert_int_equal(kd_open(f->out, &k), 0);
	for (uint64_t pfn = 0x100; pfn < 0x200; pfn++) {
		bool present = pfn < 0x140 || (pfn >= 0x180 && pfn < 0x190);

		assert_true(kd_is_ram(&k, pfn));
		if (!present) {
			assert_int_equal(kd_read_page(&k, pfn, page), -ENODATA);
			continue;
		}
		assert_int_equal(kd_read_page(&k, pfn, page), 0);
		synth_pattern_fill(pfn * 4096, want, sizeof(want));
		assert_memory_equal(page, want, 4096);
	}
	kd_close(&k);
}

/* The disk fills up (here: a file size limit): the file stays, an INCOMPLETE dump. */
static void test_write_error(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct rlimit old, lim;
	struct kd_file k;
	int r;

	write_vmcore(f);
	o = options(f, 1, COMPRESSION_NONE);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	/* headers, bitmaps, descriptors and the zero page fit; the pages do not */
	lim.rlim_cur = 5 * 4096 + 88 * 24 + 4096 + 10 * 4096;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = collect_dump(&o, &res);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	assert_int_equal(r, 0);
	assert_true(res.incomplete);
	assert_int_equal(res.write_error, -EFBIG);
	assert_int_equal(res.pages_unreadable, 0);
	assert_int_equal(res.pages_written, 0);
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(k.status, KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_count_dumped(&k), 0);
	assert_true(kd_is_ram(&k, 0x100));
	kd_close(&k);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	_cleanup_free_ char *content = NULL;
	struct stat st;
	int fd;

	/* not ELF: an existing output file is left alone */
	write_vmcore(f);
	fd = open(f->vmcore, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, world\n", 13), 13);
	close(fd);
	fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), -ENOEXEC);
	assert_int_equal(read_full_file(f->out, 100, &content, NULL), 0);
	assert_string_equal(content, "keep");

	o.vmcore_path = "/nonexistent/vmcore";
	assert_int_equal(collect_dump(&o, &res), -ENOENT);

	o = options(f, 32, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), -EINVAL);
	o = options(f, -1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), -EINVAL);
	o = options(f, 1, (enum compression)99);
	assert_int_equal(collect_dump(&o, &res), -EOPNOTSUPP);
	o = options(f, 1, COMPRESSION_ZSTD);
	o.output_path = NULL;
	assert_int_equal(collect_dump(&o, &res), -EINVAL);

	/* an output directory that does not exist */
	free(f->vmcore);
	f->vmcore = NULL;
	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	o.output_path = "/nonexistent/dir/out";
	assert_int_equal(collect_dump(&o, &res), -ENOENT);
	assert_int_equal(stat("/nonexistent/dir/out", &st), -1);
}

static bool same_file(const char *a, const char *b)
{
	_cleanup_free_ char *x = NULL, *y = NULL;
	size_t xs, ys;

	assert_int_equal(read_full_file(a, 1ULL << 30, &x, &xs), 0);
	assert_int_equal(read_full_file(b, 1ULL << 30, &y, &ys), 0);
	return xs == ys && memcmp(x, y, xs) == 0;
}

/*
 * Many chunks: any number of threads, mapped or read, gives the same bytes
 * (pages are written in pfn order whatever finishes first).
 */
static void test_threads_same_output(void **state)
{
	struct fixture *f = *state;
	struct synth_segment segs[2] = {
		{ .phys_start = 0x100000, .mem_size = 5000 * 4096, .fill = fill },
		{ .phys_start = 0x40000000, .mem_size = 3000 * 4096 },
	};
	struct collect_options o;
	struct collect_result res, one;
	char ref[80];
	static const struct {
		unsigned threads;
		bool no_mmap, map_files;
	} runs[] = {
		{ 2, false, false }, { 7, false, true }, { 3, true, false }, { 0, false, true }
	};

	f->spec.segments = segs;
	f->spec.n_segments = 2;
	write_vmcore(f);
	snprintf(ref, sizeof(ref), "%s.ref", f->out);
	o = options(f, 1, COMPRESSION_ZSTD);
	o.output_path = ref;
	o.threads = 1;
	assert_int_equal(collect_dump(&o, &one), 0);
	assert_int_equal(one.threads, 1);
	assert_int_equal(one.pages_zero, 8);
	assert_int_equal(one.pages_written, 8000 - 8);
	for (size_t i = 0; i < ELEMENTSOF(runs); i++) {
		o = options(f, 1, COMPRESSION_ZSTD);
		o.threads = runs[i].threads;
		o.no_mmap = runs[i].no_mmap;
		o.map_files = runs[i].map_files;
		assert_int_equal(collect_dump(&o, &res), 0);
		if (runs[i].threads)
			assert_int_equal(res.threads, runs[i].threads);
		assert_true(same_file(ref, f->out));
	}
	unlink(ref);
}

/* Cancelled (SIGINT/SIGTERM in the command): the file is an INCOMPLETE dump. */
static void test_cancel(void **state)
{
	struct fixture *f = *state;
	volatile sig_atomic_t cancel = 1;
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;

	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	o.cancel = &cancel;
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(res.write_error, -EINTR);
	assert_true(res.incomplete);
	assert_int_equal(kd_open(f->out, &k), 0);
	assert_int_equal(k.status, KDUMP_FLAG_ZSTD | KDUMP_STATUS_INCOMPLETE);
	assert_int_equal(kd_count_dumped(&k), res.pages_written + res.pages_zero);
	kd_close(&k);
}

/* No PT_LOAD at all: nothing to dump, and no file left behind. */
/* Verdict bitmaps: runs at any bit offset, shared words or-ed, "all set" exact. */
static void test_bits(void **state)
{
	uint64_t map[8] = {}, src[3], got[3];

	(void)state;
	/* 100 bits from 60: words 0..2 */
	src[0] = 0xf000000000000001ULL; /* bits 0, 60..63 -> 60, 120..123 */
	src[1] = 0x8000000000000001ULL; /* bits 64, 127 -> 124, 187 (past n: dropped) */
	collect_bits_or(map, 60, src, 100);
	assert_int_equal(map[0], 1ULL << 60);
	assert_int_equal(map[1], 0xfULL << 56 | 1ULL << 60);
	assert_int_equal(map[2], 0);
	/* a neighbour sharing word 2 keeps what is there */
	map[2] = 1ULL << 63;
	src[0] = 1;
	collect_bits_or(map, 160, src, 1);
	assert_int_equal(map[2], 1ULL << 63 | 1ULL << 32);

	assert_false(collect_bits_get(map, 60, 100, got));
	assert_int_equal(got[0], 0xf000000000000001ULL);
	assert_int_equal(got[1], 1); /* bit 124 - 60; bits past n clear */
	assert_false(collect_bits_get(map, 0, 3, got));
	assert_int_equal(got[0], 0);

	memset(map, 0xff, sizeof(map));
	map[7] = 0;
	assert_true(collect_bits_get(map, 5, 130, got));
	assert_int_equal(got[0], ~0ULL);
	assert_int_equal(got[2], 3);
	/* the first clear bit, at the end of the run */
	assert_false(collect_bits_get(map, 7 * 64 - 10, 11, got));
	assert_int_equal(got[0], 0x3ff);
	assert_true(collect_bits_get(map, 7 * 64 - 10, 10, got));
}

/* Pages of random bytes in runs of 24 (a multiple of 8 pfns), the address pattern between. */
static void fill_random_runs(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	uint8_t *p = buf;

	(void)userdata;
	synth_pattern_fill(paddr, buf, len);
	for (size_t i = 0; i < len; i++) {
		uint64_t a = paddr + i, x = a * 0x9e3779b97f4a7c15ULL;

		if ((a / 4096) % 40 >= 24)
			continue;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (uint8_t)((x ^ (x >> 31)) >> 56);
	}
}

/*
 * Runs of incompressible pages: stored raw (after the first ones of each
 * run and of each 64-pfn group, without asking zstd), compressible pages
 * around them compressed, every page read back equal, and the same bytes
 * whatever the threads.
 */
static void test_random_pages(void **state)
{
	struct fixture *f = *state;
	struct synth_segment seg = { .phys_start = 0x100000 + 5 * 4096,
				     .mem_size = 1000 * 4096,
				     .fill = fill_random_runs };
	struct collect_options o;
	struct collect_result res;
	struct kd_file k;
	char ref[80];
	uint8_t page[4096], want[4096];
	uint64_t first = 0x100 + 5;

	f->spec.segments = &seg;
	f->spec.n_segments = 1;
	write_vmcore(f);
	snprintf(ref, sizeof(ref), "%s.ref", f->out);
	o = options(f, 1, COMPRESSION_ZSTD);
	o.output_path = ref;
	o.threads = 1;
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(res.pages_written, 1000);
	assert_int_equal(kd_open(ref, &k), 0);
	for (uint64_t pfn = first; pfn < first + 1000; pfn++) {
		struct kd_desc d;
		bool random = (pfn % 40) < 24;

		assert_int_equal(kd_desc(&k, pfn, &d), 0);
		if (random != (d.flags == 0))
			fail_msg("pfn %" PRIu64 ": flags %u", pfn, d.flags);
		assert_int_equal(d.size, random ? 4096 : d.size);
		assert_int_equal(kd_read_page(&k, pfn, page), 0);
		fill_random_runs(pfn * 4096, want, 4096, NULL);
		assert_memory_equal(page, want, 4096);
	}
	kd_close(&k);
	for (unsigned t = 2; t <= 5; t += 3) {
		o = options(f, 1, COMPRESSION_ZSTD);
		o.threads = t;
		assert_int_equal(collect_dump(&o, &res), 0);
		assert_true(same_file(ref, f->out));
	}
	unlink(ref);
}

/*
 * With the page filter: the counting pass's verdicts, the chunks it leaves
 * out whole (skipped by the dump pass) and the pages kept are the filter's
 * own, whatever the threads (and so the chunk sizes) and the reading.
 */
static void test_filter_threads(void **state)
{
	struct psynth *ps = psynth_new(&(struct psynth_spec){ .kernel = PSYNTH_6_12 });
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ uint64_t *exclude = calloc(PSYNTH_PAGES / 64, sizeof(uint64_t));
	struct page_filter_ctx *ctx = NULL;
	struct page_filter *f = NULL;
	struct page_filter_counts counts = {};
	struct dump *d = NULL;
	const char *why = NULL;
	char out[64];
	static const struct {
		unsigned threads;
		bool map_files;
	} runs[] = { { 1, false }, { 2, true }, { 5, false }, { 3, true } };

	(void)state;
	psynth_buddy(ps, 8, 3);
	psynth_thp(ps, 512, 9, PSYNTH_ANON);
	psynth_buddy(ps, 1024, 10); /* a whole chunk or more: skipped */
	for (uint64_t p = 3 * PSYNTH_SECTION_PAGES; p < 3 * PSYNTH_SECTION_PAGES + 700; p += 3)
		psynth_cache(ps, p, false);
	psynth_anon(ps, 4 * PSYNTH_SECTION_PAGES + 1);
	path = psynth_write(ps);
	assert_non_null(path);

	assert_int_equal(dump_open(path, &d), 0);
	assert_int_equal(page_filter_new(d, 30, &f, &why), 0);
	assert_int_equal(page_filter_ctx_new(f, d, &ctx), 0);
	assert_int_equal(page_filter_classify(ctx, 0, PSYNTH_PAGES, exclude, &counts), 0);
	assert_int_equal(counts.pages[PAGE_CLASS_FREE], 8 + 1024);
	assert_int_equal(counts.pages[PAGE_CLASS_USER], 512 + 1);
	assert_int_equal(counts.pages[PAGE_CLASS_CACHE], 234);

	snprintf(out, sizeof(out), "/tmp/test-collect-filter.%d", getpid());
	for (size_t i = 0; i < ELEMENTSOF(runs); i++) {
		struct collect_options o = {
			.vmcore_path = path,
			.output_path = out,
			.dump_level = 30,
			.compression = COMPRESSION_ZSTD,
			.zstd_level = 1,
			.threads = runs[i].threads,
			.map_files = runs[i].map_files,
		};
		struct collect_result res;
		struct kd_file k;

		assert_int_equal(collect_dump(&o, &res), 0);
		assert_int_equal(res.dump_level, 30);
		assert_int_equal(page_filter_counts_total(&res.excluded),
				 page_filter_counts_total(&counts));
		assert_int_equal(res.excluded.pages[PAGE_CLASS_CACHE], 234);
		assert_int_equal(kd_open(out, &k), 0);
		for (uint64_t p = 0; p < PSYNTH_PAGES; p++) {
			if (p >> PSYNTH_SECTION_SHIFT == PSYNTH_HOLE_SECTION)
				continue;
			if (kd_is_dumped(&k, p) != !pagebit_test(exclude, (uint32_t)p))
				fail_msg("run %zu: pfn %" PRIu64 " dumped %d", i, p,
					 kd_is_dumped(&k, p));
		}
		kd_close(&k);
	}
	unlink(out);
	unlink(path);
	page_filter_ctx_free(ctx);
	page_filter_free(f);
	dump_free(d);
	psynth_free(ps);
}

static void test_no_memory(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct stat st;

	f->spec.n_segments = 0;
	write_vmcore(f);
	o = options(f, 1, COMPRESSION_ZSTD);
	assert_int_equal(collect_dump(&o, &res), -ENODATA);
	assert_int_equal(stat(f->out, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_filter_threads),
		cmocka_unit_test_setup_teardown(test_random_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level1_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level0_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_utsname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utsname_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_same_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
