// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kexec_load segments: every rule of the kernel broken once, with its
 * message; placement; and whole crash images built from fixture roots and
 * "loaded" through fake syscalls that capture what kexec_load would get.
 * Nothing here reaches the real syscall: the fakes go in before any load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <glob.h>

#include "kexec_syscall.h"
#include "loader/bootparams.h"
#include "loader/loadseg.h"
#include "loader/purgatory.h"
#include "loader/segments.h"
#include "loader/sha256.h"

#define QEMU "tests/fixtures/kexec/qemu-1g"
#define NUMA "tests/fixtures/kexec/numa-high-low"
#define MANY "tests/fixtures/kexec/many-e820"
#define MIB (1ULL << 20)

/* What the fake kexec_load saw. */
static struct {
	unsigned calls;
	unsigned long entry, nr, flags;
	struct kexec_segment segs[KEXEC_SEGMENT_MAX];
	int result;
} seen;

static int fake_kexec_load(unsigned long entry, unsigned long nr, const struct kexec_segment *segs,
			   unsigned long flags)
{
	seen.calls++;
	seen.entry = entry;
	seen.nr = nr;
	seen.flags = flags;
	memcpy(seen.segs, segs, MIN(nr, (unsigned long)KEXEC_SEGMENT_MAX) * sizeof(*segs));
	return seen.result;
}

static int fake_kexec_file_load(int kfd, int ifd, const char *cmdline, unsigned long flags)
{
	fail_msg("kexec_file_load called");
	return -ENOSYS;
}

static int fake_reboot(int cmd)
{
	fail_msg("reboot called");
	return -ENOSYS;
}

static int fake_finit_module(int fd, const char *params, int flags)
{
	fail_msg("finit_module called");
	return -ENOSYS;
}

static const struct kexec_syscall_ops fake_ops = {
	.kexec_file_load = fake_kexec_file_load,
	.kexec_load = fake_kexec_load,
	.reboot = fake_reboot,
	.finit_module = fake_finit_module,
};

static int setup(void **state)
{
	kexec_syscall_set_ops(&fake_ops);
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static struct kexec_segment seg(uint64_t mem, uint64_t memsz, size_t bufsz)
{
	return (struct kexec_segment){
		.buf = NULL, .bufsz = bufsz, .mem = (const void *)(uintptr_t)mem, .memsz = memsz
	};
}

static void rule(const struct kexec_segment *s, size_t n, unsigned long entry, int want_r,
		 const char *want)
{
	static const char *const names[] = { "elfcorehdr", "kernel", "initrd", "boot_params",
					     "purgatory" };
	const struct mem_range crash = { 0x20000000, 0x2fffffff }, low = { 0x5e000000, 0x6dffffff };
	struct kexec_limits lim = { .crash = &crash, .crash_low = &low, .ram_bytes = 1ULL << 30 };
	_cleanup_free_ char *error = NULL;

	assert_int_equal(kexec_segments_check(s, n <= 5 ? names : NULL, n, entry, &lim, &error),
			 want_r);
	if (want) {
		assert_non_null(error);
		assert_string_equal(error, want);
	} else {
		assert_null(error);
	}
}

static void test_rules(void **state)
{
	struct kexec_segment s[KEXEC_SEGMENT_MAX + 1];
	const unsigned long entry = 0x20400000;

	/* A good set: the reference every case below breaks in one way. */
	s[0] = seg(0x20000000, 0x1000, 400);
	s[1] = seg(0x20200000, 0x200000, 0x1000);
	s[2] = seg(0x20400000, 0x2000, 0x1800);
	rule(s, 3, entry, 0, NULL);

	for (size_t i = 0; i < ELEMENTSOF(s); i++)
		s[i] = seg(0x20000000 + i * 0x1000, 0x1000, 0);
	rule(s, 17, entry, -EINVAL, "17 segments: kexec_load takes at most 16");
	rule(s, 16, 0x20000000, 0, NULL);

	s[0] = seg(0x20000000, 0x1000, 400);
	s[1] = seg(0x20200800, 0x200000, 0x1000);
	rule(s, 3, entry, -EADDRNOTAVAIL, "segment kernel: address 0x20200800 is not page-aligned");
	s[1] = seg(0x20200000, 0x200800, 0x1000);
	rule(s, 3, entry, -EADDRNOTAVAIL,
	     "segment kernel: memsz 0x200800 is not a multiple of the page size");
	s[1] = seg(0xfffffffffffff000, 0x2000, 0);
	rule(s, 3, entry, -EADDRNOTAVAIL,
	     "segment kernel: 0xfffffffffffff000 + 0x2000 runs past the end of the address space");

	s[1] = seg(0x20200000, 0x201000, 0x1000);
	s[2] = seg(0x20400000, 0x2000, 0x1800);
	rule(s, 3, entry, -EINVAL,
	     "segments kernel (0x20200000-0x20400fff) and initrd (0x20400000-0x20401fff) overlap");
	s[1] = seg(0x20200000, 0x200000, 0x1000);

	s[2] = seg(0x20400000, 0x2000, 0x2001);
	rule(s, 3, entry, -EINVAL, "segment initrd: bufsz 0x2001 is larger than memsz 0x2000");
	s[2] = seg(0x20400000, 0x2000, 0x1800);

	/* half of 1 GiB is 512 MiB: one page more is refused */
	s[2] = seg(0x40000000, 512 * MIB - 0x201000 + 0x1000, 0);
	rule(s, 3, entry, -EINVAL,
	     "the segments take 512.0 MiB, more than half of RAM (1.0 GiB): kexec_load refuses "
	     "that");
	s[2] = seg(0x20400000, 0x2000, 0x1800);

	s[2] = seg(0x2ffff000, 0x2000, 0);
	rule(s, 3, entry, -EADDRNOTAVAIL,
	     "segment initrd (0x2ffff000-0x30000fff) lies outside the \"Crash kernel\" range "
	     "0x20000000-0x2fffffff");
	s[2] = seg(0x1000000, 0x1000, 0);
	rule(s, 3, entry, -EADDRNOTAVAIL,
	     "segment initrd (0x1000000-0x1000fff) lies outside the \"Crash kernel\" range "
	     "0x20000000-0x2fffffff");
	s[2] = seg(0x5e000000, 0x2000, 0x1800);
	rule(s, 3, entry, -EADDRNOTAVAIL,
	     "segment initrd (0x5e000000-0x5e001fff) is in the \",low\" crash range: kexec_load "
	     "places segments only in the main \"Crash kernel\" range 0x20000000-0x2fffffff");
	s[2] = seg(0x20400000, 0x2000, 0x1800);

	rule(s, 3, 0x30000000, -EADDRNOTAVAIL,
	     "entry point 0x30000000 lies outside the \"Crash kernel\" range "
	     "0x20000000-0x2fffffff");
	rule(s, 3, 0x2fffffff, 0, NULL);

	/* unnamed segments get numbers, one buffer each */
	for (size_t i = 0; i < 7; i++)
		s[i] = seg(0x20000000 + i * 0x10000, 0x1000, 0);
	s[6] = seg(0x20000000 + 2 * 0x10000, 0x1000, 0);
	rule(s, 7, entry, -EINVAL,
	     "segments #2 (0x20020000-0x20020fff) and #6 (0x20020000-0x20020fff) overlap");
}

static void test_rules_plain_kexec(void **state)
{
	/* No crash range: anywhere goes, the other rules stay. */
	struct kexec_segment s[] = { seg(0x1000000, 0x1000, 10), seg(0x100000000, 0x2000, 0) };
	struct kexec_limits lim = {};

	assert_int_equal(kexec_segments_check(s, NULL, 2, 0x1000000, &lim, NULL), 0);
	assert_int_equal(kexec_segments_check(s, NULL, 2, 0x1000000, NULL, NULL), 0);
	s[1].bufsz = 0x3000;
	assert_int_equal(kexec_segments_check(s, NULL, 2, 0x1000000, &lim, NULL), -EINVAL);
}

static void test_layout(void **state)
{
	struct segment_layout l;
	uint64_t a;

	segment_layout_init(&l, &(struct mem_range){ 0x20000800, 0x21ffffff });
	assert_int_equal(segment_layout_take(&l, 0x1000, 0x1000, 0, &a), 0);
	assert_int_equal(a, 0x20001000);
	assert_int_equal(segment_layout_take(&l, 0x100000, 0x200000, 0x1000000, &a), 0);
	assert_int_equal(a, 0x20200000);
	assert_int_equal(segment_layout_take(&l, 0x1000, 0x1000, 0x20400000, &a), 0);
	assert_int_equal(a, 0x20400000);
	assert_int_equal(segment_layout_left(&l), 0x21ffffff - 0x20401000 + 1);
	assert_int_equal(segment_layout_take(&l, 0x1c00000, 0x1000, 0, &a), -ENOSPC);
	assert_int_equal(segment_layout_take(&l, 0x1bff000, 0x1000, 0, &a), 0);
	assert_int_equal(a, 0x20401000);
	assert_int_equal(segment_layout_left(&l), 0);
	assert_int_equal(segment_layout_take(&l, 0x1000, 0x1000, 0, &a), -ENOSPC);
	assert_int_equal(segment_layout_take(&l, 0x1000, 0x3000, 0, &a), -EINVAL);
	assert_int_equal(segment_layout_take(&l, 0, 0x1000, 0, &a), -EINVAL);
}

/* A small image with the Debian 6.1 header; xloadflags and protocol adjustable. */
static uint8_t *kernel_image(uint16_t version, uint16_t xlf, size_t *ret_size)
{
	size_t size = 4 * 512 + 0x3000;
	uint8_t *b = calloc(1, size);

	assert_non_null(b);
	b[0x1f1] = 3;
	memcpy(b + 0x1fe, &(uint16_t){ 0xaa55 }, 2);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &version, 2);
	b[0x211] = 1;
	memcpy(b + 0x230, &(uint32_t){ 0x200000 }, 4);
	b[0x234] = 1;
	memcpy(b + 0x236, &xlf, 2);
	memcpy(b + 0x238, &(uint32_t){ 2047 }, 4);
	memcpy(b + 0x258, &(uint64_t){ 0x1000000 }, 8);
	memcpy(b + 0x260, &(uint32_t){ 0x3f98000 }, 4);
	for (size_t i = 4 * 512; i < size; i++)
		b[i] = i * 7;
	*ret_size = size;
	return b;
}

static uint8_t *initrd_image(size_t size)
{
	uint8_t *b = malloc(size);

	assert_non_null(b);
	for (size_t i = 0; i < size; i++)
		b[i] = i * 13 + 1;
	return b;
}

static uint64_t seg_mem(const struct loadseg_image *img, size_t i)
{
	return (uintptr_t)img->segments[i].mem;
}

static void assert_digests(const struct loadseg_image *img, bool skip_elfcorehdr)
{
	size_t psize = img->segments[img->nr_segments - 1].bufsz;
	const uint8_t *pimg = img->segments[img->nr_segments - 1].buf;
	struct purgatory_params p;
	unsigned r = 0;

	assert_int_equal(purgatory_get_params(pimg, psize, &p), 0);
	assert_int_equal(p.kernel_entry, img->addr[LOADSEG_KERNEL] + 0x200);
	assert_int_equal(p.boot_params, img->addr[LOADSEG_BOOT_PARAMS]);
	for (size_t i = 0; i + 1 < img->nr_segments; i++) {
		uint8_t d[32];

		if (skip_elfcorehdr && i == 0)
			continue;
		sha256(img->segments[i].buf, img->segments[i].bufsz, d);
		assert_int_equal(p.regions[r].start, seg_mem(img, i));
		assert_int_equal(p.regions[r].len, img->segments[i].bufsz);
		assert_memory_equal(p.regions[r].sha256, d, 32);
		r++;
	}
	assert_int_equal(p.nr_regions, r);
	assert_int_equal(img->nr_digests, r);
}

static void test_image_qemu(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_free_ char *error = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	_cleanup_free_ uint8_t *initrd = initrd_image(MIB + 5);
	const struct x86_boot_params *bp;
	struct loadseg_options o = {
		.root = QEMU,
		.kernel = kernel,
		.kernel_size = ksize,
		.initrd = initrd,
		.initrd_size = MIB + 5,
		.cmdline = "console=ttyS0 reset_devices",
		.hotplug = true, /* asked for, but 6.1 cannot: no flag */
	};

	assert_int_equal(loadseg_build(&o, &img, &error), 0);
	assert_null(error);
	assert_int_equal(img->nr_segments, 5);
	assert_string_equal(img->names[0], "elfcorehdr");
	assert_int_equal(seg_mem(img, 0), 0x20000000);
	assert_int_equal(img->segments[0].memsz, 0x1000);
	assert_int_equal(img->segments[0].bufsz, 64 + 6 * 56);
	assert_string_equal(img->names[1], "kernel");
	assert_int_equal(seg_mem(img, 1), 0x20200000);
	assert_int_equal(img->segments[1].memsz, 0x3f98000);
	assert_ptr_equal(img->segments[1].buf, kernel + 4 * 512);
	assert_int_equal(img->segments[1].bufsz, 0x3000);
	assert_string_equal(img->names[2], "initrd");
	assert_int_equal(seg_mem(img, 2), 0x24198000);
	assert_int_equal(img->segments[2].memsz, 0x101000);
	assert_ptr_equal(img->segments[2].buf, initrd);
	assert_string_equal(img->names[3], "boot_params");
	assert_int_equal(seg_mem(img, 3), 0x24299000);
	assert_int_equal(img->segments[3].memsz, 0x2000);
	assert_string_equal(img->names[4], "purgatory");
	assert_int_equal(seg_mem(img, 4), 0x2429b000);
	assert_int_equal(img->entry, 0x2429b000);
	assert_int_equal(img->flags, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64);
	assert_false(img->update_elfcorehdr);
	assert_string_equal(img->cmdline, "elfcorehdr=0x20000000 console=ttyS0 reset_devices");
	assert_digests(img, false);

	bp = img->segments[3].buf;
	assert_int_equal(bp->hdr.cmd_line_ptr, 0x24299000 + 4096);
	assert_string_equal((const char *)bp + 4096, img->cmdline);
	assert_int_equal(bp->hdr.ramdisk_image, 0x24198000);
	assert_int_equal(bp->hdr.ramdisk_size, MIB + 5);
	assert_int_equal(bp->acpi_rsdp_addr, 0); /* BIOS: the crash kernel finds it */
	assert_int_equal(bp->screen_info[0x0f], 0x22); /* from the first kernel's boot_params */
	assert_int_equal(bp->e820_entries, 8);
	assert_int_equal(bp->e820_table[1].addr, 0x20001000);
	assert_int_equal(bp->e820_table[1].size, 0xffff000);

	/* "Load" it: the fake sees exactly the image. */
	assert_int_equal(loadseg_load(img, &error), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.entry, img->entry);
	assert_int_equal(seen.nr, 5);
	assert_int_equal(seen.flags, 0x3e0001);
	assert_memory_equal(seen.segs, img->segments, 5 * sizeof(struct kexec_segment));
}

static void test_image_refusals(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_free_ char *error = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *no5 = kernel_image(0x020f, 0x1f, &ksize);
	_cleanup_free_ uint8_t *no4g = kernel_image(0x020f, 0x7d, &ksize);
	_cleanup_free_ uint8_t *old = kernel_image(0x020b, 0x7f, &ksize);
	struct loadseg_options o = { .root = QEMU };

	o.kernel = old;
	o.kernel_size = ksize;
	assert_int_equal(loadseg_build(&o, &img, &error), -ENOEXEC);
	assert_string_equal(error, "kernel image refused: boot protocol older than 2.12 (kernel "
				   "before 3.8): no 64-bit entry point to start it from kexec");

	/* The QEMU guest runs with 5-level paging: an image without XLF_5LEVEL cannot start. */
	o.kernel = no5;
	assert_int_equal(loadseg_build(&o, &img, &error), -EINVAL);
	assert_string_equal(error, "kernel image refused: the running kernel uses 5-level paging "
				   "and the image cannot start in it (XLF_5LEVEL not set)");

	/* Above 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G */
	o.root = NUMA;
	o.kernel = no4g;
	assert_int_equal(loadseg_build(&o, &img, &error), -EINVAL);
	assert_string_equal(error,
			    "kernel image refused: the crash kernel range is above 4 GiB "
			    "but the image cannot be loaded there (XLF_CAN_BE_LOADED_ABOVE_4G "
			    "not set)");

	o.kernel = no5; /* fine on the 4-level server */
	o.test_corrupt = true;
	o.test_corrupt_region = 7;
	assert_int_equal(loadseg_build(&o, &img, &error), -ENOENT);
	assert_string_equal(error, "no purgatory region 7 to corrupt");
	assert_null(img);

	o.root = "tests/fixtures/roots/no-reservation";
	assert_int_equal(loadseg_build(&o, &img, &error), -ENOENT);
	assert_string_equal(error, "no \"Crash kernel\" range in /proc/iomem: boot with "
				   "crashkernel= (crashcapctl reserve) first");
}

static void test_image_high_low_hotplug(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL, *plain = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	_cleanup_free_ uint8_t *initrd = initrd_image(3 * MIB);
	const struct x86_boot_params *bp;
	struct loadseg_options o = {
		.root = NUMA,
		.kernel = kernel,
		.kernel_size = ksize,
		.initrd = initrd,
		.initrd_size = 3 * MIB,
		.cmdline = "console=ttyS0",
		.hotplug = true,
	};

	assert_int_equal(loadseg_build(&o, &img, NULL), 0);
	/* Everything in the high range; the low one only shows up as RAM in the e820. */
	for (size_t i = 0; i < img->nr_segments; i++) {
		assert_true(seg_mem(img, i) >= 0x1040000000);
		assert_true(seg_mem(img, i) + img->segments[i].memsz - 1 <= 0x105fffffff);
	}
	assert_int_equal(seg_mem(img, 0), 0x1040000000);
	assert_int_equal(img->segments[0].memsz, 0xe1000); /* room for the kernel's rewrites */
	assert_int_equal(seg_mem(img, 1), 0x1040200000);
	assert_true(img->update_elfcorehdr);
	assert_int_equal(img->flags, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64 | KEXEC_UPDATE_ELFCOREHDR);
	/* The kernel rewrites the elfcorehdr on hotplug: it cannot be in the digest. */
	assert_digests(img, true);
	assert_int_equal(img->nr_digests, 3);

	bp = img->segments[3].buf;
	assert_int_equal(bp->acpi_rsdp_addr, 0x723fe014); /* EFI: from systab */
	assert_int_equal(bp->screen_info[0x0f], 0x70);
	assert_int_equal(bp->e820_table[1].addr, 0x5e000000);
	assert_int_equal(bp->e820_table[1].size, 0x10000000);
	assert_int_equal(bp->e820_table[1].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[2].addr, 0x10400e1000);
	assert_int_equal(bp->ext_cmd_line_ptr, 0x10);
	assert_string_equal(img->cmdline, "elfcorehdr=0x1040000000 console=ttyS0");

	/* Without hotplug: no flag, a one-page header, and the digest covers it. */
	o.hotplug = false;
	assert_int_equal(loadseg_build(&o, &plain, NULL), 0);
	assert_int_equal(plain->flags, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64);
	assert_int_equal(plain->segments[0].memsz, 0x1000);
	assert_digests(plain, false);
	assert_int_equal(plain->nr_digests, 4);
}

static void test_image_old_protocol_rsdp(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020d, 0x7f, &ksize);
	struct loadseg_options o = { .root = NUMA, .kernel = kernel, .kernel_size = ksize };

	/* 2.13 has no acpi_rsdp_addr: the command line carries it; no initrd at all. */
	assert_int_equal(loadseg_build(&o, &img, NULL), 0);
	assert_string_equal(img->cmdline, "elfcorehdr=0x1040000000 acpi_rsdp=0x723fe014");
	assert_int_equal(img->nr_segments, 4);
	assert_int_equal(img->addr[LOADSEG_INITRD], 0);
	assert_string_equal(img->names[2], "boot_params");
}

static void test_image_many_e820(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	const struct x86_boot_params *bp;
	const struct x86_setup_data *sd;
	struct loadseg_options o = { .root = MANY, .kernel = kernel, .kernel_size = ksize };

	assert_int_equal(loadseg_build(&o, &img, NULL), 0);
	assert_int_equal(img->e820.count, 154);
	bp = img->segments[2].buf;
	assert_int_equal(bp->e820_entries, 128);
	assert_int_not_equal(bp->hdr.setup_data, 0);
	sd = (const void *)((const uint8_t *)bp + (bp->hdr.setup_data - seg_mem(img, 2)));
	assert_int_equal(sd->type, SETUP_TYPE_E820_EXT);
	assert_int_equal(sd->len, 26 * 20);
	assert_true(img->segments[2].bufsz <= img->segments[2].memsz);
}

static void test_image_too_small(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ char *error = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	struct loadseg_options o = { .kernel = kernel, .kernel_size = ksize };

	assert_int_equal(crash_memory_read(QEMU, &m), 0);
	assert_int_equal(elfcorehdr_collect(QEMU, &m, &info, NULL), 0);

	m.crash = (struct mem_range){ 0x20000000, 0x21ffffff }; /* 32 MiB */
	assert_int_equal(loadseg_build_from(&o, &m, &info, NULL, 0, 0, &img, &error), -ENOSPC);
	assert_string_equal(error,
			    "the crash kernel range (32.0 MiB at 0x20000000) has no room "
			    "left for the kernel (63.6 MiB): reserve more with crashkernel=");

	/* Room for every segment but not for the kernel's control pages. */
	m.crash = (struct mem_range){ 0x20000000, 0x20000000 + 0x200000 + 0x3f98000 + 0x4000 - 1 };
	assert_int_equal(loadseg_build_from(&o, &m, &info, NULL, 0, 0, &img, &error), -ENOSPC);
	assert_string_equal(error,
			    "the crash kernel range is full: the kernel needs about 1 MiB "
			    "more in it for its control pages: reserve more with crashkernel=");
	m.crash.end += MIB;
	assert_int_equal(loadseg_build_from(&o, &m, &info, NULL, 0, 0, &img, &error), 0);
}

static void test_image_corrupt_digest(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL, *good = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	struct loadseg_options o = { .root = QEMU, .kernel = kernel, .kernel_size = ksize };
	struct purgatory_params a, b;
	size_t n;

	assert_int_equal(loadseg_build(&o, &good, NULL), 0);
	o.test_corrupt = true;
	o.test_corrupt_region = 1;
	o.test_exit_port = true;
	o.purgatory_verbose = true;
	assert_int_equal(loadseg_build(&o, &img, NULL), 0);
	n = img->nr_segments - 1;
	assert_int_equal(purgatory_get_params(good->segments[n].buf, good->segments[n].bufsz, &a),
			 0);
	assert_int_equal(purgatory_get_params(img->segments[n].buf, img->segments[n].bufsz, &b), 0);
	assert_int_equal(a.flags, 0);
	assert_int_equal(b.flags, PURGATORY_FLAG_VERBOSE | PURGATORY_FLAG_TEST_EXIT);
	assert_memory_equal(a.regions[0].sha256, b.regions[0].sha256, 32);
	assert_memory_not_equal(a.regions[1].sha256, b.regions[1].sha256, 32);
	assert_int_equal(a.regions[1].sha256[0] ^ b.regions[1].sha256[0], 1);
}

static void test_load_errors(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_free_ char *error = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	struct loadseg_options o = { .root = QEMU, .kernel = kernel, .kernel_size = ksize };

	assert_int_equal(loadseg_build(&o, &img, NULL), 0);
	seen.result = -EPERM;
	assert_int_equal(loadseg_load(img, &error), -EPERM);
	assert_string_equal(error,
			    "kexec_load refused: it needs CAP_SYS_BOOT, "
			    "kernel.kexec_load_disabled must be 0, and lockdown (Secure Boot) "
			    "forbids it: use --method file");
	seen.result = -EBUSY;
	assert_int_equal(loadseg_load(img, &error), -EBUSY);
	assert_string_equal(error, "kexec_load: the crash kernel is busy (being loaded or used)");
	seen.result = -EADDRNOTAVAIL;
	assert_int_equal(loadseg_load(img, &error), -EADDRNOTAVAIL);
	assert_string_equal(error, "kexec_load refused the segments (Cannot assign requested "
				   "address) although they passed crashcap's checks: please report "
				   "this");
	assert_int_equal(seen.calls, 3);
}

static void test_load_files(void **state)
{
	_cleanup_free_ char *error = NULL, *data = NULL;
	const char *kernel = "tests/fixtures/kexec/bzimage/valid.img";
	struct loadseg_options o = { .root = QEMU, .cmdline = "console=ttyS0" };
	unsigned long flags = 0;
	size_t size;
	glob_t g;

	/* The real Debian kernel when the cache has it, else the crafted one. */
	if (glob("/root/.cache/crashcap/kernel-6.1/boot/vmlinuz-*", 0, NULL, &g) == 0 &&
	    g.gl_pathc > 0)
		kernel = strdupa(g.gl_pathv[0]);
	globfree(&g);
	assert_int_equal(read_full_file(kernel, 64 << 20, &data, &size), 0);

	assert_int_equal(loadseg_load_files(&o, kernel, "tests/fixtures/kexec/make-fixtures.py",
					    &flags, &error),
			 0);
	assert_null(error);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.nr, 5);
	assert_int_equal(seen.flags, 0x3e0001);
	assert_int_equal(flags, 0x3e0001);
	assert_int_equal((uintptr_t)seen.segs[1].mem, 0x20200000);
	assert_int_equal(seen.segs[1].bufsz, size - (data[0x1f1] + 1) * 512);

	assert_int_equal(loadseg_load_files(&o, "/nonexistent/vmlinuz", NULL, NULL, &error),
			 -ENOENT);
	assert_string_equal(error, "cannot read the kernel /nonexistent/vmlinuz: No such file or "
				   "directory");
	assert_int_equal(loadseg_load_files(&o, kernel, "/nonexistent/initrd", NULL, &error),
			 -ENOENT);
	assert_string_equal(error, "cannot read the initrd /nonexistent/initrd: No such file or "
				   "directory");
	assert_int_equal(loadseg_load_files(&o, "tests/fixtures/kexec/bzimage/zimage.img", NULL,
					    NULL, &error),
			 -ENOEXEC);
	assert_string_equal(error, "kernel image refused: a zImage loaded low (LOADED_HIGH not "
				   "set), not a bzImage");
	assert_int_equal(seen.calls, 1);
}

static void test_image_reboot(void **state)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL, *numa = NULL, *bare = NULL;
	_cleanup_free_ char *error = NULL;
	size_t ksize;
	_cleanup_free_ uint8_t *kernel = kernel_image(0x020f, 0x7f, &ksize);
	_cleanup_free_ uint8_t *initrd = initrd_image(MIB + 5);
	const struct x86_boot_params *bp;
	struct loadseg_options o = {
		.root = QEMU,
		.kernel = kernel,
		.kernel_size = ksize,
		.initrd = initrd,
		.initrd_size = MIB + 5,
		.cmdline = "console=ttyS0 root=/dev/vda",
		.hotplug = true, /* no meaning without a crash image */
		.reboot = true,
	};

	assert_int_equal(loadseg_build(&o, &img, &error), 0);
	assert_null(error);
	/* No elfcorehdr; all in [1 MiB, 512 MiB), the larger piece of RAM beside the reservation. */
	assert_int_equal(img->nr_segments, 4);
	assert_string_equal(img->names[0], "kernel");
	assert_int_equal(seg_mem(img, 0), 0x1000000); /* pref_address */
	assert_string_equal(img->names[1], "initrd");
	assert_int_equal(seg_mem(img, 1), 0x1000000 + 0x3f98000);
	assert_string_equal(img->names[2], "boot_params");
	assert_string_equal(img->names[3], "purgatory");
	for (size_t i = 0; i < img->nr_segments; i++)
		assert_true(seg_mem(img, i) + img->segments[i].memsz - 1 < 0x20000000);
	assert_int_equal(img->entry, seg_mem(img, 3));
	assert_int_equal(img->flags, KEXEC_ARCH_X86_64);
	assert_false(img->update_elfcorehdr);
	assert_string_equal(img->cmdline, "console=ttyS0 root=/dev/vda");
	assert_digests(img, false);
	assert_int_equal(img->nr_digests, 3);

	/* The new kernel gets all the RAM, the reservation included, and the firmware ranges. */
	bp = img->segments[2].buf;
	assert_int_equal(bp->e820_table[0].addr, 0x1000);
	assert_int_equal(bp->e820_table[0].size, 0x9fc00 - 0x1000);
	assert_int_equal(bp->e820_table[0].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[1].addr, 0x100000);
	assert_int_equal(bp->e820_table[1].size, 0x3ffdd000 - 0x100000);
	assert_int_equal(bp->e820_table[1].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[2].type, E820_TYPE_RESERVED);
	assert_int_equal(e820_total(&img->e820, E820_TYPE_RAM), 0x9ec00 + 0x3fedd000);
	assert_int_equal(bp->hdr.ramdisk_image, seg_mem(img, 1));
	assert_string_equal((const char *)bp + 4096, "console=ttyS0 root=/dev/vda");

	/* ,high + ,low: neither range is used; everything stays below 4 GiB. */
	o.root = NUMA;
	assert_int_equal(loadseg_build(&o, &numa, NULL), 0);
	for (size_t i = 0; i < numa->nr_segments; i++) {
		uint64_t end = seg_mem(numa, i) + numa->segments[i].memsz - 1;

		assert_true(end < (1ULL << 32));
		assert_true(end < 0x5e000000 || seg_mem(numa, i) > 0x6dffffff);
	}

	/* No reservation and no /proc/kcore: a plain kexec needs neither. */
	o.root = "tests/fixtures/roots/no-reservation";
	assert_int_equal(loadseg_build(&o, &bare, &error), 0);
	assert_int_equal(seg_mem(bare, 0), 0x1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rules, setup),
		cmocka_unit_test_setup(test_rules_plain_kexec, setup),
		cmocka_unit_test_setup(test_layout, setup),
		cmocka_unit_test_setup(test_image_qemu, setup),
		cmocka_unit_test_setup(test_image_refusals, setup),
		cmocka_unit_test_setup(test_image_high_low_hotplug, setup),
		cmocka_unit_test_setup(test_image_old_protocol_rsdp, setup),
		cmocka_unit_test_setup(test_image_many_e820, setup),
		cmocka_unit_test_setup(test_image_too_small, setup),
		cmocka_unit_test_setup(test_image_corrupt_digest, setup),
		cmocka_unit_test_setup(test_image_reboot, setup),
		cmocka_unit_test_setup(test_load_errors, setup),
		cmocka_unit_test_setup(test_load_files, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
