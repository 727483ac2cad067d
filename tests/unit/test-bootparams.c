// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * boot_params for the crash kernel: every field the loader sets, the
 * setup_data chain for e820 maps past 128 entries, the command line limit,
 * and where the ACPI RSDP comes from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loader/bootparams.h"

#define NUMA "tests/fixtures/kexec/numa-high-low"
#define QEMU "tests/fixtures/kexec/qemu-1g"

static struct bzimage *image(void)
{
	static uint8_t b[4 * 512 + 0x3000];
	static struct bzimage img;
	uint16_t v = 0x020f, xlf = 0x7f, flag = 0xaa55;

	b[0x1f1] = 3;
	memcpy(b + 0x1fe, &flag, 2);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &v, 2);
	b[0x210] = 0x11; /* type_of_loader, as a bootloader left it: we overwrite it */
	b[0x211] = 0x81; /* LOADED_HIGH | CAN_USE_HEAP: we clear them */
	memcpy(b + 0x230, &(uint32_t){ 0x200000 }, 4);
	b[0x234] = 1;
	memcpy(b + 0x236, &xlf, 2);
	memcpy(b + 0x238, &(uint32_t){ 64 }, 4); /* a short cmdline_size to test the limit */
	memcpy(b + 0x258, &(uint64_t){ 0x1000000 }, 8);
	memcpy(b + 0x260, &(uint32_t){ 0x3f98000 }, 4);
	memcpy(b + 0x264, &(uint32_t){ 0x7c8db0 }, 4); /* handover_offset: copied as is */
	assert_int_equal(bzimage_parse(b, sizeof(b), &img, NULL), 0);
	return &img;
}

static void test_fields(void **state)
{
	_cleanup_(e820_table_done) struct e820_table t = {};
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t first[BOOT_PARAMS_SIZE] = {};
	const struct x86_boot_params *bp;
	struct bootparams_config c = {
		.image = image(),
		.addr = 0x1234567000,
		.cmdline = "elfcorehdr=0x20000000 console=ttyS0",
		.initrd_addr = 0x1100000000,
		.initrd_size = 0x100000123,
		.e820 = &t,
		.acpi_rsdp = 0x723fe014,
		.first = first,
		.first_size = sizeof(first),
	};
	size_t size;
	uint16_t ext_mem_k;

	assert_int_equal(e820_table_add(&t, 0x1000, 0x9e000, E820_TYPE_RAM), 0);
	/* RAM across 1 MiB: what old code reads as ext_mem_k / alt_mem_k */
	assert_int_equal(e820_table_add(&t, 0x100000, 0x3ff00000, E820_TYPE_RAM), 0);
	assert_int_equal(e820_table_add(&t, 0x0, 0x1000, E820_TYPE_RESERVED), 0);
	first[0x0f] = 0x70; /* screen_info.orig_video_isVGA = EFI framebuffer */
	memcpy(first + 0x1f1 + offsetof(struct bzimage_setup_header, hardware_subarch),
	       &(uint32_t){ 3 }, 4);
	first[0x1e9] = 2; /* eddbuf_entries */
	first[0xd00] = 0x80;

	assert_int_equal(bootparams_build(&c, &buf, &size, NULL), 0);
	assert_int_equal(size, BOOT_PARAMS_SIZE + strlen(c.cmdline) + 1);
	assert_int_equal(size, bootparams_segment_size(strlen(c.cmdline), t.count));
	bp = (const struct x86_boot_params *)buf;

	assert_memory_equal(&bp->hdr.header, "HdrS", 4);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xd0);
	assert_int_equal(bp->hdr.loadflags, 0);
	assert_int_equal(bp->hdr.handover_offset, 0x7c8db0);
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->hdr.cmd_line_ptr, 0x34567000 + 4096);
	assert_int_equal(bp->ext_cmd_line_ptr, 0x12);
	assert_string_equal((const char *)buf + 4096, c.cmdline);
	assert_int_equal(bp->hdr.ramdisk_image, 0x00000000);
	assert_int_equal(bp->ext_ramdisk_image, 0x11);
	assert_int_equal(bp->hdr.ramdisk_size, 0x123);
	assert_int_equal(bp->ext_ramdisk_size, 0x1);
	assert_int_equal(bp->acpi_rsdp_addr, 0x723fe014);
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[1].addr, 0x100000);
	assert_int_equal(bp->e820_table[1].size, 0x3ff00000);
	assert_int_equal(bp->e820_table[1].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[2].type, E820_TYPE_RESERVED);
	memcpy(&ext_mem_k, bp->screen_info + 2, 2);
	assert_int_equal(ext_mem_k, 0xfc00);
	assert_int_equal(bp->alt_mem_k, (0x3fffffff >> 10) - 1024);
	/* from the first kernel */
	assert_int_equal(bp->screen_info[0x0f], 0x70);
	assert_int_equal(bp->hdr.hardware_subarch, 3);
	assert_int_equal(bp->eddbuf_entries, 2);
	assert_int_equal(bp->eddbuf[0], 0x80);
	/* and nothing else of it: its e820 and efi_info stay out */
	assert_int_equal(bp->efi_info[0], 0);
}

static void test_no_initrd_no_first(void **state)
{
	_cleanup_(e820_table_done) struct e820_table t = {};
	_cleanup_free_ uint8_t *buf = NULL;
	const struct x86_boot_params *bp;
	size_t size;
	struct bootparams_config c = {
		.image = image(),
		.addr = 0x20000000,
		.cmdline = "",
		.e820 = &t,
	};

	assert_int_equal(e820_table_add(&t, 0x1000, 0x9e000, E820_TYPE_RAM), 0);
	assert_int_equal(bootparams_build(&c, &buf, &size, NULL), 0);
	bp = (const struct x86_boot_params *)buf;
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0);
	assert_int_equal(bp->hdr.hardware_subarch, 0);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->alt_mem_k, 0);
	assert_int_equal(buf[4096], 0);
}

static void test_cmdline_limit(void **state)
{
	_cleanup_(e820_table_done) struct e820_table t = {};
	uint8_t *buf = NULL;
	size_t size;
	const char *reason = NULL;
	char line[66];
	struct bootparams_config c = { .image = image(), .addr = 0x20000000, .e820 = &t };

	memset(line, 'x', 64);
	line[64] = 0;
	c.cmdline = line; /* exactly cmdline_size: fits */
	assert_int_equal(bootparams_build(&c, &buf, &size, &reason), 0);
	free(buf);
	buf = NULL;
	line[64] = 'x';
	line[65] = 0;
	assert_int_equal(bootparams_build(&c, &buf, &size, &reason), -E2BIG);
	assert_null(buf);
	assert_string_equal(reason, "the crash kernel's command line is longer than the image "
				    "accepts (cmdline_size)");
}

static void test_e820_setup_data(void **state)
{
	_cleanup_(e820_table_done) struct e820_table t = {};
	_cleanup_free_ uint8_t *buf = NULL;
	const struct x86_boot_params *bp;
	const struct x86_setup_data *sd;
	const struct boot_e820_entry *ext;
	struct bootparams_config c = {
		.image = image(),
		.addr = 0x20400000,
		.cmdline = "abc",
		.e820 = &t,
	};
	size_t size, sd_off;

	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(e820_table_add(&t, 0x100000000ULL + i * 0x200000ULL, 0x100000,
						i % 2 ? E820_TYPE_RESERVED : E820_TYPE_RAM),
				 0);
	assert_int_equal(bootparams_build(&c, &buf, &size, NULL), 0);
	bp = (const struct x86_boot_params *)buf;
	assert_int_equal(bp->e820_entries, 128);
	assert_int_equal(bp->e820_table[127].addr, 0x100000000ULL + 127 * 0x200000ULL);

	/* One SETUP_E820_EXT node, 16-aligned after the command line, with the other 172 */
	sd_off = bp->hdr.setup_data - c.addr;
	assert_int_equal(sd_off, ALIGN_UP(4096 + 4, 16));
	assert_int_equal(sd_off % 16, 0);
	sd = (const struct x86_setup_data *)(buf + sd_off);
	assert_int_equal(sd->type, SETUP_TYPE_E820_EXT);
	assert_int_equal(sd->next, 0);
	assert_int_equal(sd->len, 172 * 20);
	assert_int_equal(size, sd_off + 16 + 172 * 20);
	assert_int_equal(size, bootparams_segment_size(3, 300));
	ext = (const struct boot_e820_entry *)(sd + 1);
	for (unsigned i = 0; i < 172; i++) {
		assert_int_equal(ext[i].addr, 0x100000000ULL + (128 + i) * 0x200000ULL);
		assert_int_equal(ext[i].size, 0x100000);
		assert_int_equal(ext[i].type, i % 2 ? E820_TYPE_RESERVED : E820_TYPE_RAM);
	}
}

static void test_rsdp(void **state)
{
	_cleanup_free_ uint8_t *first = NULL;
	uint8_t mine[BOOT_PARAMS_SIZE] = {};
	size_t first_size;
	uint64_t rsdp = 0;

	/* EFI machine: boot_params has none, systab names ACPI 2.0's first */
	assert_int_equal(bootparams_read_first(NUMA, &first, &first_size), 0);
	assert_int_equal(first_size, 4096);
	assert_int_equal(bootparams_read_rsdp(NUMA, first, first_size, &rsdp), 0);
	assert_int_equal(rsdp, 0x723fe014);

	/* boot_params' own value wins when a loader set it */
	memcpy(mine + 0x70, &(uint64_t){ 0x7fb7e014 }, 8);
	assert_int_equal(bootparams_read_rsdp(NUMA, mine, sizeof(mine), &rsdp), 0);
	assert_int_equal(rsdp, 0x7fb7e014);

	/* BIOS machine: nothing to pass, the crash kernel scans low memory */
	rsdp = 1;
	assert_int_equal(bootparams_read_rsdp(QEMU, NULL, 0, &rsdp), -ENOENT);
	assert_int_equal(rsdp, 1);
	assert_int_equal(bootparams_read_rsdp("tests/fixtures/kexec/nowhere", NULL, 0, &rsdp),
			 -ENOENT);
	free(first);
	first = NULL;
	assert_int_equal(bootparams_read_first("tests/fixtures/kexec/many-e820", &first,
					       &first_size),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),	      cmocka_unit_test(test_no_initrd_no_first),
		cmocka_unit_test(test_cmdline_limit), cmocka_unit_test(test_e820_setup_data),
		cmocka_unit_test(test_rsdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
