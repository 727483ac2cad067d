// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bzImage setup-header parser: a crafted header for each refusal, a
 * crafted image with the Debian 6.1 kernel's exact header, and the real
 * Debian kernel when the developer cache has it (the crafted twin runs the
 * same checks, so nothing silently skips).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <glob.h>

#include "loader/bzimage.h"

struct craft {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t alignment;
	uint32_t init_size;
	uint8_t setup_sects;
	uint8_t jump_to; /* byte at 0x201 */
	uint64_t pref_address;
	size_t size;
};

/* The header of Debian's vmlinuz-6.1.0-56-amd64, read with a hex dump. */
static const struct craft debian_6_1 = {
	.version = 0x020f,
	.loadflags = 0x01,
	.xloadflags = 0x7f,
	.relocatable = 1,
	.alignment = 0x200000,
	.init_size = 0x3f98000,
	.setup_sects = 39,
	.jump_to = 0x6a,
	.pref_address = 0x1000000,
	.size = 8247232,
};

static uint8_t *craft(const struct craft *c)
{
	uint8_t *b = calloc(1, c->size);
	uint16_t flag = 0xaa55;
	const char banner[] = "6.1.0-crafted (crashcap@tests) #1 SMP";

	assert_non_null(b);
	b[0x1f1] = c->setup_sects;
	memcpy(b + 0x1fe, &flag, 2);
	b[0x200] = 0xeb;
	b[0x201] = c->jump_to;
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &c->version, 2);
	b[0x211] = c->loadflags;
	memcpy(b + 0x230, &c->alignment, 4);
	b[0x234] = c->relocatable;
	memcpy(b + 0x236, &c->xloadflags, 2);
	memcpy(b + 0x238, &(uint32_t){ 2047 }, 4);
	memcpy(b + 0x258, &c->pref_address, 8);
	memcpy(b + 0x260, &c->init_size, 4);
	/* kernel_version points at a banner, less 0x200 */
	memcpy(b + 0x20e, &(uint16_t){ 0x300 }, 2);
	memcpy(b + 0x500, banner, sizeof(banner));
	return b;
}

static struct craft small(void)
{
	struct craft c = debian_6_1;

	c.setup_sects = 3;
	c.size = 4 * 512 + 0x3000;
	return c;
}

static const char *refusal(const uint8_t *data, size_t size, int expect_errno)
{
	struct bzimage b;
	const char *reason = NULL;

	assert_int_equal(bzimage_parse(data, size, &b, &reason), expect_errno);
	assert_non_null(reason);
	return reason;
}

static void check_debian_like(const uint8_t *data, size_t size)
{
	struct bzimage b;
	const char *reason = "unset";
	char buf[128];

	assert_int_equal(bzimage_parse(data, size, &b, &reason), 0);
	assert_string_equal(reason, "unset"); /* untouched on success */
	assert_int_equal(b.version, 0x020f);
	assert_int_equal(b.hdr_size, 0x26c - 0x1f1);
	assert_int_equal(b.setup_size, 40 * 512);
	assert_ptr_equal(b.kernel, data + 40 * 512);
	assert_int_equal(b.kernel_size, size - 40 * 512);
	assert_int_equal(b.alignment, 0x200000);
	assert_int_equal(b.min_address, 0x1000000);
	assert_int_equal(b.memsz, 0x3f98000);
	assert_int_equal(b.hdr.xloadflags, 0x7f);
	assert_int_equal(b.hdr.cmdline_size, 2047);
	assert_non_null(bzimage_kernel_version(data, size, buf, sizeof(buf)));
	assert_true(startswith(buf, "6.1."));
	/* Its placements: 2 MiB-aligned at 512 MiB in a 5-level kernel; above 4 GiB. */
	assert_int_equal(bzimage_check_placement(&b, 0x20200000, 0x30000000, true, NULL), 0);
	assert_int_equal(bzimage_check_placement(&b, 0x1040200000, 0x1060000000, false, NULL), 0);
}

static void test_debian_crafted(void **state)
{
	_cleanup_free_ uint8_t *b = craft(&debian_6_1);

	check_debian_like(b, debian_6_1.size);
}

static void test_debian_real(void **state)
{
	const char *patterns[] = { "build/cache/kernel-6.1/boot/vmlinuz-*",
				   "/root/.cache/crashcap/kernel-6.1/boot/vmlinuz-*" };
	_cleanup_free_ char *data = NULL;
	size_t size = 0;

	for (size_t i = 0; i < ELEMENTSOF(patterns) && !data; i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) == 0 && g.gl_pathc > 0)
			assert_int_equal(read_full_file(g.gl_pathv[0], 64 << 20, &data, &size), 0);
		globfree(&g);
	}
	if (!data)
		skip(); /* test_debian_crafted runs the same checks on its twin */
	check_debian_like((uint8_t *)data, size);
}

static void test_refusals(void **state)
{
	struct craft c = small();
	_cleanup_free_ uint8_t *b = craft(&c);
	size_t size = c.size;

	assert_string_equal(refusal(b, 1023, -ENOEXEC),
			    "file too short to be a bzImage (under 1024 bytes)");
	assert_string_equal(refusal(NULL, 0, -ENOEXEC),
			    "file too short to be a bzImage (under 1024 bytes)");

	b[0x205] = 'X';
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "not a bzImage: no \"HdrS\" setup header signature at 0x202");
	b[0x205] = 'S';
	b[0x1ff] = 0;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "not a bzImage: no 0xAA55 boot sector signature at 0x1fe");
	b[0x1ff] = 0xaa;

	b[0x206] = 0x0b; /* 2.11 */
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "boot protocol older than 2.12 (kernel before 3.8): no 64-bit entry "
			    "point to start it from kexec");
	b[0x206] = 0x0c; /* 2.12 is enough */
	assert_int_equal(bzimage_parse(b, size, &(struct bzimage){}, NULL), 0);

	b[0x200] = 0x90;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "no short jump at 0x200: cannot tell where the setup header ends");
	b[0x200] = 0xeb;
	b[0x201] = 0x50;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "setup header too short: it ends before init_size (0x264)");
	b[0x201] = 0x6a;

	b[0x211] = 0;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "a zImage loaded low (LOADED_HIGH not set), not a bzImage");
	b[0x211] = 1;

	b[0x236] = 0x7e;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "no 64-bit entry point (XLF_KERNEL_64 not set): a 32-bit kernel cannot "
			    "be a crash kernel here");
	b[0x236] = 0x7f;

	b[0x234] = 0;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "kernel not relocatable (CONFIG_RELOCATABLE=n): it cannot run from the "
			    "crash kernel reservation");
	b[0x234] = 1;

	memcpy(b + 0x230, &(uint32_t){ 0x3000 }, 4);
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "kernel_alignment is not a power of two of at least 4 KiB");
	memcpy(b + 0x230, &(uint32_t){ 0x800 }, 4);
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "kernel_alignment is not a power of two of at least 4 KiB");
	memcpy(b + 0x230, &(uint32_t){ 0x200000 }, 4);

	b[0x1f1] = 60;
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "truncated: the setup code runs past the end of the file");
	b[0x1f1] = 3;
	assert_string_equal(refusal(b, 4 * 512 + 0x200, -ENOEXEC),
			    "truncated: the kernel ends before its 64-bit entry point");

	memcpy(b + 0x260, &(uint32_t){ 0 }, 4);
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "init_size is zero: the image does not say how much memory it needs");
	memcpy(b + 0x260, &(uint32_t){ 0x1000 }, 4);
	assert_string_equal(refusal(b, size, -ENOEXEC),
			    "init_size is smaller than the kernel itself");
	memcpy(b + 0x260, &(uint32_t){ 0x3f98000 }, 4);

	assert_int_equal(bzimage_parse(b, size, &(struct bzimage){}, NULL), 0);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct craft c = small();
	_cleanup_free_ uint8_t *b = NULL;
	struct bzimage img;

	c.setup_sects = 0;
	c.size = 5 * 512 + 0x1000;
	b = craft(&c);
	assert_int_equal(bzimage_parse(b, c.size, &img, NULL), 0);
	assert_int_equal(img.setup_size, 5 * 512);
	assert_int_equal(img.kernel_size, 0x1000);
}

static void test_header_copy_stops_at_jump(void **state)
{
	/* An older header that ends right after init_size: later bytes are not header. */
	struct craft c = small();
	_cleanup_free_ uint8_t *b = NULL;
	struct bzimage img;

	c.jump_to = 0x264 - 0x202;
	b = craft(&c);
	memset(b + 0x264, 0xee, 8);
	assert_int_equal(bzimage_parse(b, c.size, &img, NULL), 0);
	assert_int_equal(img.hdr_size, 0x264 - 0x1f1);
	assert_int_equal(img.hdr.init_size, 0x3f98000);
	assert_int_equal(img.hdr.handover_offset, 0);
	assert_int_equal(img.hdr.kernel_info_offset, 0);
}

static void test_min_address(void **state)
{
	struct craft c = small();
	_cleanup_free_ uint8_t *b = NULL;
	struct bzimage img;

	c.pref_address = 0; /* old images: the floor is 1 MiB */
	b = craft(&c);
	assert_int_equal(bzimage_parse(b, c.size, &img, NULL), 0);
	assert_int_equal(img.min_address, 0x100000);
}

static void test_placement(void **state)
{
	struct craft c = small();
	_cleanup_free_ uint8_t *b = craft(&c);
	struct bzimage img;
	const char *reason = NULL;

	assert_int_equal(bzimage_parse(b, c.size, &img, NULL), 0);
	assert_int_equal(bzimage_check_placement(&img, 0x20100000, 0x30000000, false, &reason),
			 -EINVAL);
	assert_string_equal(
		reason, "kernel load address is not a multiple of the image's kernel_alignment");
	assert_int_equal(bzimage_check_placement(&img, 0x800000, 0x30000000, false, &reason),
			 -EINVAL);
	assert_string_equal(reason, "kernel load address is below the image's pref_address "
				    "(where it would decompress itself)");

	img.hdr.xloadflags &= ~BZIMAGE_XLF_CAN_BE_LOADED_ABOVE_4G;
	assert_int_equal(bzimage_check_placement(&img, 0x20200000, 0x100000000, false, NULL), 0);
	assert_int_equal(bzimage_check_placement(&img, 0x20200000, 0x100000001, false, &reason),
			 -EINVAL);
	assert_string_equal(reason, "the crash kernel range is above 4 GiB but the image cannot be "
				    "loaded there (XLF_CAN_BE_LOADED_ABOVE_4G not set)");

	img.hdr.xloadflags &= ~BZIMAGE_XLF_5LEVEL;
	assert_int_equal(bzimage_check_placement(&img, 0x20200000, 0x30000000, false, NULL), 0);
	assert_int_equal(bzimage_check_placement(&img, 0x20200000, 0x30000000, true, &reason),
			 -EINVAL);
	assert_string_equal(reason, "the running kernel uses 5-level paging and the image cannot "
				    "start in it (XLF_5LEVEL not set)");
}

static void test_kernel_version(void **state)
{
	struct craft c = small();
	_cleanup_free_ uint8_t *b = craft(&c);
	char buf[64], tiny[8];

	assert_string_equal(bzimage_kernel_version(b, c.size, buf, sizeof(buf)),
			    "6.1.0-crafted (crashcap@tests) #1 SMP");
	assert_string_equal(bzimage_kernel_version(b, c.size, tiny, sizeof(tiny)), "6.1.0-c");
	memset(b + 0x20e, 0, 2);
	assert_null(bzimage_kernel_version(b, c.size, buf, sizeof(buf)));
}

/* The fuzz corpus (tests/fixtures/kexec/bzimage): valid.img parses, the others do not. */
static void test_fixture_files(void **state)
{
	DIR *d = opendir("tests/fixtures/kexec/bzimage");
	struct dirent *de;
	unsigned valid = 0, refused = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *data = NULL;
		struct bzimage img;
		size_t size;
		const char *reason = NULL;
		int r;

		if (de->d_name[0] == '.')
			continue;
		assert_true(asprintf(&path, "tests/fixtures/kexec/bzimage/%s", de->d_name) > 0);
		assert_int_equal(read_full_file(path, 1 << 20, &data, &size), 0);
		r = bzimage_parse(data, size, &img, &reason);
		if (streq(de->d_name, "valid.img")) {
			assert_int_equal(r, 0);
			valid++;
		} else {
			assert_int_equal(r, -ENOEXEC);
			assert_non_null(reason);
			refused++;
		}
	}
	closedir(d);
	assert_int_equal(valid, 1);
	assert_int_equal(refused, 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_crafted),
		cmocka_unit_test(test_debian_real),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_setup_sects_zero_means_four),
		cmocka_unit_test(test_header_copy_stops_at_jump),
		cmocka_unit_test(test_min_address),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_kernel_version),
		cmocka_unit_test(test_fixture_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
