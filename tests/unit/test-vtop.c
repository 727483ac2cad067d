// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page tables built by hand in a synthetic vmcore: 4-level with 4 KiB,
 * 2 MiB and 1 GiB mappings, 5-level, and the PT_LOAD fallback.
 */
#include "dump.h"
#include "vmcore-synth.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define MEM_SIZE (32ULL << 20)
#define PHYS_BASE 0x800000ULL
#define TOP_PGT_VADDR 0xffffffff81400000ULL
#define TOP_PGT_PHYS (TOP_PGT_VADDR - 0xffffffff80000000ULL + PHYS_BASE)
#define SME_BIT (1ULL << 47)
#define HIGH_PHYS 0x100000000ULL /* 4 GiB: target of the 1 GiB page */

struct mem {
	uint8_t *ram; /* physical [0, MEM_SIZE) */
	uint64_t next_table; /* bump allocator for page-table pages */
	int levels;
	uint64_t entry_bits; /* ORed into every entry (the SME bit) */
};

static uint64_t *table_at(struct mem *m, uint64_t paddr)
{
	assert_true(paddr + 4096 <= MEM_SIZE);
	return (uint64_t *)(m->ram + paddr);
}

/* Maps va to pa with a page of size 4K, 2M or 1G; extra goes into the leaf entry. */
static void map(struct mem *m, uint64_t va, uint64_t pa, uint64_t size, uint64_t extra)
{
	uint64_t table = TOP_PGT_PHYS;
	int leaf = size == (1ULL << 30) ? 3 : size == (2ULL << 20) ? 2 : 1;

	for (int level = m->levels; level > leaf; level--) {
		uint64_t *e = &table_at(m, table)[(va >> (12 + 9 * (level - 1))) & 511];

		if (!(*e & 1)) {
			*e = m->next_table | 0x63 | m->entry_bits;
			m->next_table += 4096;
		}
		table = *e & 0x000ffffffffff000ULL & ~m->entry_bits;
	}
	table_at(m, table)[(va >> (12 + 9 * (leaf - 1))) & 511] =
		pa | 0x63 | (leaf > 1 ? 0x80 : 0) | extra | m->entry_bits;
}

static struct mem *mem_new(int levels, uint64_t entry_bits)
{
	struct mem *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->ram = calloc(1, MEM_SIZE);
	assert_non_null(m->ram);
	m->next_table = TOP_PGT_PHYS + 4096;
	m->levels = levels;
	m->entry_bits = entry_bits;
	/* something to recognise in each target */
	synth_pattern_fill(0, m->ram, 0x1c00000);
	return m;
}

static void mem_free(struct mem *m)
{
	free(m->ram);
	free(m);
}

static struct dump *open_mem(struct mem *m, const char *vmcoreinfo, bool with_page_tables)
{
	const struct synth_segment segs[] = {
		{ .phys_start = 0,
		  .mem_size = MEM_SIZE,
		  .data = m->ram,
		  .virt_start = with_page_tables ? 0 : 0xffff888000000000ULL },
		{ .phys_start = HIGH_PHYS + 0x12345000, .mem_size = 0x2000 },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo,
		.nr_cpus = 1,
		.segments = segs,
		.n_segments = ELEMENTSOF(segs),
	};
	_cleanup_free_ char *path = NULL;
	struct dump *d = NULL;

	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	return d;
}

static void expect_vtop(struct dump *d, uint64_t va, uint64_t pa)
{
	uint64_t got = 0;
	int r = dump_vtop(d, va, &got);

	if (r < 0)
		fail_msg("vtop 0x%" PRIx64 ": %s", va, strerror(-r));
	if (got != pa)
		fail_msg("vtop 0x%" PRIx64 " = 0x%" PRIx64 ", expected 0x%" PRIx64, va, got, pa);
}

static const char vi_4level[] = "OSRELEASE=6.1.0\n"
				"NUMBER(phys_base)=8388608\n"
				"SYMBOL(init_top_pgt)=ffffffff81400000\n"
				"NUMBER(pgtable_l5_enabled)=0\n"
				"KERNELOFFSET=0\n"
				"NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
				"NUMBER(sme_mask)=140737488355328\n";

static void test_4level(void **state)
{
	struct mem *m = mem_new(4, SME_BIT);
	struct dump *d;
	uint8_t buf[0x30], expect[0x30];
	uint64_t pa;

	/* 4 KiB pages, two virtually adjacent pages backed far apart */
	map(m, 0xffffc90000123000ULL, 0x300000, 4096, 0);
	map(m, 0xffffc90000124000ULL, 0x0a5000, 4096, 0);
	/* 2 MiB page with the PAT bit (bit 12) set, which is not an address bit */
	map(m, 0xffffc90000400000ULL, 0x600000, 2 << 20, 1 << 12);
	/* 1 GiB page at 4 GiB */
	map(m, 0xffff888100000000ULL, HIGH_PHYS, 1 << 30, 0);
	d = open_mem(m, vi_4level, true);

	expect_vtop(d, 0xffffc90000123456ULL, 0x300456);
	expect_vtop(d, 0xffffc90000124000ULL, 0x0a5000);
	expect_vtop(d, 0xffffc900004aacdeULL, 0x6aacde);
	expect_vtop(d, 0xffff888112345678ULL, HIGH_PHYS + 0x12345678);
	/* the kernel image: linear, no walk */
	expect_vtop(d, 0xffffffff81000123ULL, 0x1000123 + PHYS_BASE);
	expect_vtop(d, TOP_PGT_VADDR, TOP_PGT_PHYS);

	/* not mapped */
	assert_int_equal(dump_vtop(d, 0xffffc90000125000ULL, &pa), -EFAULT);
	assert_int_equal(dump_vtop(d, 0xffffc90000600000ULL, &pa), -EFAULT);
	assert_int_equal(dump_vtop(d, 0xffffea0000000000ULL, &pa), -EFAULT);
	/* not canonical with 4 levels */
	assert_int_equal(dump_vtop(d, 0xff11000000000000ULL, &pa), -EFAULT);
	assert_int_equal(dump_vtop(d, 0x0000900000000000ULL, &pa), -EFAULT);

	/* a read across the two 4 KiB pages */
	assert_int_equal(dump_read_virt(d, 0xffffc90000123ff0ULL, buf, sizeof(buf)), 0);
	synth_pattern_fill(0x300ff0, expect, 0x10);
	synth_pattern_fill(0x0a5000, expect + 0x10, 0x20);
	assert_memory_equal(buf, expect, sizeof(buf));
	/* through the 1 GiB page into the second segment, and past it */
	assert_int_equal(dump_read_virt(d, 0xffff888112345ff8ULL, buf, 16), 0);
	synth_pattern_fill(HIGH_PHYS + 0x12345ff8, expect, 16);
	assert_memory_equal(buf, expect, 16);
	assert_int_equal(dump_read_virt(d, 0xffff888112347000ULL, buf, 16), -ENOENT);
	/* a read running into an unmapped page */
	assert_int_equal(dump_read_virt(d, 0xffffc90000124ff0ULL, buf, 0x20), -EFAULT);

	dump_free(d);
	mem_free(m);
}

static const char vi_5level[] = "OSRELEASE=6.12.0\n"
				"NUMBER(phys_base)=8388608\n"
				"SYMBOL(init_top_pgt)=ffffffff81400000\n"
				"NUMBER(pgtable_l5_enabled)=1\n";

static void test_5level(void **state)
{
	struct mem *m = mem_new(5, 0);
	struct dump *d;
	uint64_t pa;
	uint8_t buf[8], expect[8];

	map(m, 0xff11000000001000ULL, 0x345000, 4096, 0);
	map(m, 0xff11000000200000ULL, 0x400000, 2 << 20, 0);
	map(m, 0xff11000040000000ULL, HIGH_PHYS, 1 << 30, 0);
	/* same low 48 bits as the first mapping: only the fifth level tells them apart */
	map(m, 0xff12000000001000ULL, 0x346000, 4096, 0);
	d = open_mem(m, vi_5level, true);

	expect_vtop(d, 0xff11000000001abcULL, 0x345abc);
	expect_vtop(d, 0xff12000000001abcULL, 0x346abc);
	expect_vtop(d, 0xff110000003fffffULL, 0x5fffff);
	expect_vtop(d, 0xff11000052345000ULL, HIGH_PHYS + 0x12345000);
	assert_int_equal(dump_vtop(d, 0xff13000000001000ULL, &pa), -EFAULT);
	/* without KERNEL_IMAGE_SIZE the image area is 512 MiB; above it the walk decides */
	expect_vtop(d, 0xffffffff9ffff000ULL, 0x1ffff000 + PHYS_BASE);
	assert_int_equal(dump_vtop(d, 0xffffffffa0000000ULL, &pa), -EFAULT);
	assert_int_equal(dump_read_virt(d, 0xff11000000001ff8ULL, buf, 8), 0);
	synth_pattern_fill(0x345ff8, expect, 8);
	assert_memory_equal(buf, expect, 8);

	dump_free(d);
	mem_free(m);
}

static void test_no_page_tables(void **state)
{
	struct mem *m = mem_new(4, 0);
	struct dump *d = open_mem(m, "OSRELEASE=6.1.0\n", false);
	uint64_t pa;

	/* the direct map, from p_vaddr */
	expect_vtop(d, 0xffff888000345678ULL, 0x345678);
	assert_int_equal(dump_vtop(d, 0xffff888002000000ULL, &pa), -EFAULT);
	/* the second segment has no p_vaddr */
	assert_int_equal(dump_vtop(d, 0xffff888112345000ULL, &pa), -EFAULT);
	dump_free(d);
	mem_free(m);
}

static void test_no_vmcoreinfo(void **state)
{
	struct mem *m = mem_new(4, 0);
	struct dump *d = open_mem(m, NULL, false);
	uint8_t buf[4];

	assert_int_equal(dump_read_virt(d, 0xffff888000001000ULL, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], synth_pattern(0x1000));
	assert_int_equal(dump_read_virt(d, 0xffffffff81000000ULL, buf, sizeof(buf)), -EFAULT);
	dump_free(d);
	mem_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4level),
		cmocka_unit_test(test_5level),
		cmocka_unit_test(test_no_page_tables),
		cmocka_unit_test(test_no_vmcoreinfo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
