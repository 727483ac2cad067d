// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The crash kernel's e820 map and what feeds it: range lists, the first
 * kernel's memory from /proc/iomem fixtures (a QEMU guest, a NUMA server
 * with a ,high + ,low reservation, firmware with many holes), overlaps,
 * and the segments that must survive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loader/crashmem.h"
#include "loader/e820.h"

#define QEMU "tests/fixtures/kexec/qemu-1g"
#define NUMA "tests/fixtures/kexec/numa-high-low"
#define MANY "tests/fixtures/kexec/many-e820"

#define R E820_TYPE_RAM
#define X E820_TYPE_RESERVED
#define A E820_TYPE_ACPI
#define N E820_TYPE_NVS

static void assert_table(const struct e820_table *t, const struct e820_entry *want, size_t n)
{
	for (size_t i = 0; i < MIN(t->count, n); i++) {
		if (t->entries[i].addr != want[i].addr || t->entries[i].size != want[i].size ||
		    t->entries[i].type != want[i].type)
			fail_msg("entry %zu: got 0x%lx+0x%lx type %u, want 0x%lx+0x%lx type %u", i,
				 t->entries[i].addr, t->entries[i].size, t->entries[i].type,
				 want[i].addr, want[i].size, want[i].type);
	}
	assert_int_equal(t->count, n);
}

static void assert_ranges(const struct mem_ranges *l, const struct mem_range *want, size_t n)
{
	for (size_t i = 0; i < MIN(l->count, n); i++)
		if (l->ranges[i].start != want[i].start || l->ranges[i].end != want[i].end)
			fail_msg("range %zu: got 0x%lx-0x%lx, want 0x%lx-0x%lx", i,
				 l->ranges[i].start, l->ranges[i].end, want[i].start, want[i].end);
	assert_int_equal(l->count, n);
}

static void test_ranges(void **state)
{
	_cleanup_(mem_ranges_done) struct mem_ranges l = {}, copy = {};

	assert_int_equal(mem_ranges_add(&l, 10, 9), -EINVAL);
	/* more than the first allocation, unsorted, some touching, one overlapping */
	for (uint64_t i = 40; i > 0; i--)
		assert_int_equal(mem_ranges_add(&l, i * 0x1000, i * 0x1000 + 0xfff), 0);
	assert_int_equal(mem_ranges_add(&l, 0x100000, 0x1fffff), 0);
	assert_int_equal(mem_ranges_add(&l, 0x180000, 0x2fffff), 0);
	assert_int_equal(mem_ranges_copy(&l, &copy), 0);
	assert_int_equal(copy.count, 42);

	mem_ranges_normalize(&l);
	assert_ranges(&l, (struct mem_range[]){ { 0x1000, 0x28fff }, { 0x100000, 0x2fffff } }, 2);
	assert_int_equal(mem_ranges_total(&l), 0x28000 + 0x200000);

	mem_ranges_sort(&copy);
	assert_int_equal(copy.ranges[0].start, 0x1000);
	assert_int_equal(copy.ranges[41].start, 0x180000);

	/* middle split, left trim, right trim, swallow whole */
	assert_int_equal(mem_ranges_exclude(&l, 0x2000, 0x2fff), 0);
	assert_int_equal(mem_ranges_exclude(&l, 0x0, 0x1fff), 0);
	assert_int_equal(mem_ranges_exclude(&l, 0x200000, 0x3fffff), 0);
	assert_ranges(&l, (struct mem_range[]){ { 0x3000, 0x28fff }, { 0x100000, 0x1fffff } }, 2);
	assert_int_equal(mem_ranges_exclude(&l, 0x100000, 0x1fffff), 0);
	assert_ranges(&l, (struct mem_range[]){ { 0x3000, 0x28fff } }, 1);
	assert_int_equal(mem_ranges_exclude(&l, 5, 4), -EINVAL);

	assert_int_equal(mem_ranges_add(&l, 0x100000, 0x100fff), 0);
	mem_ranges_drop_smaller(&l, 0x2000);
	assert_ranges(&l, (struct mem_range[]){ { 0x3000, 0x28fff } }, 1);
}

static void test_iomem_qemu(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};

	assert_int_equal(crash_memory_read(QEMU, &m), 0);
	assert_ranges(&m.ram, (struct mem_range[]){ { 0x1000, 0x9fbff }, { 0x100000, 0x3ffdcfff } },
		      2);
	assert_int_equal(m.reserved.count, 6);
	assert_int_equal(m.acpi.count, 0);
	assert_int_equal(m.nvs.count, 0);
	assert_int_equal(m.crash.start, 0x20000000);
	assert_int_equal(m.crash.end, 0x2fffffff);
	assert_false(m.has_crash_low);
}

static void test_iomem_numa(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};

	assert_int_equal(crash_memory_read(NUMA, &m), 0);
	/* One per resource as the kernel walks them, "RAM buffer" not among them. */
	assert_ranges(&m.ram,
		      (struct mem_range[]){ { 0x1000, 0x9ffff },
					    { 0x100000, 0x6e9f8017 },
					    { 0x6e9f8018, 0x6ea08057 },
					    { 0x6ea08058, 0x71a7efff },
					    { 0x723ff000, 0x723fffff },
					    { 0x100000000, 0x87fffffff },
					    { 0x880000000, 0x107f37ffff } },
		      7);
	/* "Reserved" nested under PCI MMCONFIG counts too: the kernel walks by type. */
	assert_int_equal(m.reserved.count, 7);
	assert_ranges(&m.acpi, (struct mem_range[]){ { 0x7237f000, 0x723fefff } }, 1);
	assert_ranges(&m.nvs, (struct mem_range[]){ { 0x71f7f000, 0x7237efff } }, 1);
	assert_int_equal(m.crash.start, 0x1040000000);
	assert_int_equal(m.crash.end, 0x105fffffff);
	assert_true(m.has_crash_low);
	assert_int_equal(m.crash_low.start, 0x5e000000);
	assert_int_equal(m.crash_low.end, 0x6dffffff);
}

static void test_iomem_no_reservation(void **state)
{
	_cleanup_(iomem_done) struct iomem io = {};
	_cleanup_(crash_memory_done) struct crash_memory m = {};

	assert_int_equal(iomem_parse("00001000-0009ffff : System RAM\n"
				     "00100000-3fffffff : System RAM\n",
				     &io, NULL),
			 0);
	assert_int_equal(crash_memory_from_iomem(&io, &m), -ENOENT);
}

static void test_iomem_nested_ram(void **state)
{
	_cleanup_(iomem_done) struct iomem io = {};
	_cleanup_(crash_memory_done) struct crash_memory m = {};

	/* Hot-added memory shows as System RAM (kmem) inside a dax range; not twice. */
	assert_int_equal(iomem_parse("00100000-3fffffff : System RAM\n"
				     "  20000000-2fffffff : Crash kernel\n"
				     "100000000-13fffffff : Persistent Memory\n"
				     "  100000000-13fffffff : dax0.0\n"
				     "    100000000-13fffffff : System RAM (kmem)\n"
				     "140000000-17fffffff : System RAM\n"
				     "  140000000-14fffffff : System RAM\n",
				     &io, NULL),
			 0);
	assert_int_equal(crash_memory_from_iomem(&io, &m), 0);
	assert_ranges(&m.ram,
		      (struct mem_range[]){ { 0x100000, 0x3fffffff },
					    { 0x100000000, 0x13fffffff },
					    { 0x140000000, 0x17fffffff } },
		      3);
}

static void test_e820_qemu(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(e820_table_done) struct e820_table t = {};
	const struct mem_range keep = { 0x20000000, 0x20000fff };

	assert_int_equal(crash_memory_read(QEMU, &m), 0);
	assert_int_equal(e820_build_crash(&m, &keep, 1, &t), 0);
	assert_table(&t,
		     (struct e820_entry[]){
			     /* RAM first: low memory (the real-mode trampoline), the reservation */
			     { 0x1000, 0x9ec00, R },
			     { 0x20001000, 0xffff000, R },
			     { 0x0, 0x1000, X },
			     { 0x9fc00, 0x400, X },
			     { 0xf0000, 0x10000, X },
			     { 0x3ffdd000, 0x23000, X },
			     { 0xfffc0000, 0x40000, X },
			     { 0xfd00000000, 0x300000000, X },
		     },
		     8);
	/* No first-kernel RAM above 1 MiB outside the reservation. */
	assert_int_equal(e820_total(&t, R), 0x9ec00 + 0xffff000);
}

static void test_e820_high_low(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(e820_table_done) struct e820_table t = {};
	const struct mem_range keep = { 0x1040000000, 0x10400e0fff };

	assert_int_equal(crash_memory_read(NUMA, &m), 0);
	assert_int_equal(e820_build_crash(&m, &keep, 1, &t), 0);
	assert_table(&t,
		     (struct e820_entry[]){
			     { 0x1000, 0x9f000, R },
			     /* the ,low range: RAM for the crash kernel, no segment in it */
			     { 0x5e000000, 0x10000000, R },
			     { 0x10400e1000, 0x1ff1f000, R },
			     { 0x0, 0x1000, X },
			     { 0xa0000, 0x60000, X },
			     { 0x71a7f000, 0x500000, X },
			     { 0x71f7f000, 0x400000, N },
			     { 0x7237f000, 0x80000, A },
			     { 0x72400000, 0x5c00000, X },
			     { 0xe0000000, 0x10000000, X },
			     { 0xfd000000, 0x1800000, X },
			     { 0xff000000, 0x1000000, X },
		     },
		     12);
}

static void test_e820_many(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(e820_table_done) struct e820_table t = {};
	const struct mem_range keep = { 0x20000000, 0x20000fff };
	size_t ram = 0;

	assert_int_equal(crash_memory_read(MANY, &m), 0);
	assert_int_equal(m.ram.count, 152);
	assert_int_equal(e820_build_crash(&m, &keep, 1, &t), 0);
	/* 2 RAM + 2 low reserved + 150 holes: more than boot_params' 128 slots */
	assert_int_equal(t.count, 154);
	for (size_t i = 0; i < 128; i++)
		ram += t.entries[i].type == R;
	assert_int_equal(ram, 2);
	assert_int_equal(t.entries[0].type, R);
	assert_int_equal(t.entries[1].type, R);
	assert_int_equal(t.entries[2].addr, 0);
	assert_int_equal(t.entries[153].addr, 0x40000000ULL + 149 * 0x4000000ULL + 0x3c00000);
	assert_int_equal(t.entries[153].type, N); /* hole 149: kinds cycle X, A, N */
}

static void test_e820_overlaps(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {
		.crash = { 0x1000000, 0x1ffffff },
	};
	_cleanup_(e820_table_done) struct e820_table t = {};

	assert_int_equal(mem_ranges_add(&m.ram, 0x1000, 0x9ffff), 0);
	/* reserved over the end of low RAM and into the reservation; ACPI over reserved */
	assert_int_equal(mem_ranges_add(&m.reserved, 0x9f000, 0xfffff), 0);
	assert_int_equal(mem_ranges_add(&m.reserved, 0x1800000, 0x18fffff), 0);
	assert_int_equal(mem_ranges_add(&m.acpi, 0xa0000, 0xa0fff), 0);
	/* twice the same NVS range, and one touching it: merged */
	assert_int_equal(mem_ranges_add(&m.nvs, 0x3000000, 0x3000fff), 0);
	assert_int_equal(mem_ranges_add(&m.nvs, 0x3000000, 0x3000fff), 0);
	assert_int_equal(mem_ranges_add(&m.nvs, 0x3001000, 0x3001fff), 0);

	assert_int_equal(e820_build_crash(&m, NULL, 0, &t), 0);
	assert_table(&t,
		     (struct e820_entry[]){
			     { 0x1000, 0x9e000, R },
			     { 0x1000000, 0x800000, R },
			     { 0x1900000, 0x700000, R },
			     { 0x9f000, 0x1000, X },
			     { 0xa0000, 0x1000, A },
			     { 0xa1000, 0x5f000, X },
			     { 0x1800000, 0x100000, X },
			     { 0x3000000, 0x2000, N },
		     },
		     8);
}

static void test_e820_keep(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {
		.crash = { 0x1000000, 0x1ffffff },
	};
	_cleanup_(e820_table_done) struct e820_table t = {};
	const struct mem_range keep[] = {
		{ 0x1400000, 0x14fffff }, /* splits the reservation */
		{ 0x1000800, 0x13fffff }, /* leaves a 2 KiB sliver at its start: dropped */
	};

	assert_int_equal(e820_build_crash(&m, keep, 2, &t), 0);
	assert_table(&t, (struct e820_entry[]){ { 0x1500000, 0xb00000, R } }, 1);
}

static void test_e820_table_add(void **state)
{
	_cleanup_(e820_table_done) struct e820_table t = {};

	assert_int_equal(e820_table_add(&t, 0x1000, 0, R), -EINVAL);
	assert_int_equal(e820_table_add(&t, UINT64_MAX, 2, R), -EINVAL);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(e820_table_add(&t, i * 0x2000ULL, 0x1000, X), 0);
	assert_int_equal(t.count, 1000);
	assert_int_equal(e820_total(&t, X), 1000 * 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_iomem_qemu),
		cmocka_unit_test(test_iomem_numa),
		cmocka_unit_test(test_iomem_no_reservation),
		cmocka_unit_test(test_iomem_nested_ram),
		cmocka_unit_test(test_e820_qemu),
		cmocka_unit_test(test_e820_high_low),
		cmocka_unit_test(test_e820_many),
		cmocka_unit_test(test_e820_overlaps),
		cmocka_unit_test(test_e820_keep),
		cmocka_unit_test(test_e820_table_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
