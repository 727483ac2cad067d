// SPDX-License-Identifier: GPL-2.0-or-later
#include "iomem.h"
#include "rootfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define FIX "tests/fixtures/iomem/"

static int parse_fixture(const char *name, struct iomem *ret, unsigned *error_line)
{
	_cleanup_free_ char *text = NULL, *path = NULL;

	assert_true(asprintf(&path, FIX "%s", name) > 0);
	assert_int_equal(read_full_file(path, 1 << 20, &text, NULL), 0);
	return iomem_parse(text, ret, error_line);
}

static void test_qemu_nested(void **state)
{
	_cleanup_(iomem_done) struct iomem m = {};
	const struct iomem_range *r, *ram;
	struct iomem_crash_ranges crash;
	unsigned max_depth = 0;

	assert_int_equal(parse_fixture("qemu-1g-crashkernel-256m.txt", &m, NULL), 0);
	assert_int_equal(m.count, 37);
	assert_int_equal(m.ranges[0].start, 0);
	assert_int_equal(m.ranges[0].end, 0xfff);
	assert_string_equal(m.ranges[0].name, "Reserved");
	assert_int_equal(m.ranges[0].parent, IOMEM_NO_PARENT);

	r = iomem_find(&m, "Kernel code", NULL);
	assert_non_null(r);
	assert_int_equal(r->start, 0x18800000);
	assert_int_equal(r->end, 0x19602ef6);
	assert_int_equal(r->depth, 1);
	ram = &m.ranges[r->parent];
	assert_string_equal(ram->name, "System RAM");
	assert_int_equal(ram->start, 0x100000);

	/* Three levels: PCI bus, device, driver. */
	r = iomem_find(&m, "virtio-pci-modern", NULL);
	assert_non_null(r);
	assert_int_equal(r->depth, 2);
	assert_string_equal(m.ranges[r->parent].name, "0000:00:03.0");
	assert_string_equal(m.ranges[m.ranges[r->parent].parent].name, "PCI Bus 0000:00");
	assert_int_equal(m.ranges[m.ranges[r->parent].parent].start, 0xc0000000);
	iomem_foreach(r, &m)
		max_depth = MAX(max_depth, r->depth);
	assert_int_equal(max_depth, 2);

	/* Names keep their colons, brackets and spaces. */
	assert_non_null(iomem_find(&m, "PCI MMCONFIG 0000 [bus 00-ff]", NULL));
	/* 64-bit addresses wider than eight digits. */
	for (const struct iomem_range *b = NULL; (b = iomem_find(&m, "PCI Bus 0000:00", b));)
		r = b;
	assert_int_equal(r->start, 0x100000000ULL);
	assert_int_equal(r->end, 0x17fffffffULL);

	assert_int_equal(iomem_total(&m, "System RAM"), 1073212416ULL);
	assert_int_equal(iomem_total(&m, "Nothing"), 0);

	assert_int_equal(iomem_crash_ranges(&m, &crash), 0);
	assert_non_null(crash.main);
	assert_null(crash.low);
	assert_int_equal(crash.main->start, 0x2b000000);
	assert_int_equal(crash.main->end, 0x3affffff);
	assert_int_equal(iomem_range_size(crash.main), 256ULL << 20);
	assert_string_equal(m.ranges[crash.main->parent].name, "System RAM");
}

static void test_high_and_low(void **state)
{
	_cleanup_(iomem_done) struct iomem m = {};
	struct iomem_crash_ranges crash;
	const struct iomem_range *r;

	assert_int_equal(parse_fixture("server-64g-crashkernel-high-low.txt", &m, NULL), 0);
	assert_int_equal(m.count, 43);
	assert_int_equal(iomem_crash_ranges(&m, &crash), 0);
	/* The low range comes first in the file; the high one is where kexec loads. */
	assert_int_equal(crash.main->start, 0x1040000000ULL);
	assert_int_equal(crash.main->end, 0x105fffffffULL);
	assert_int_equal(iomem_range_size(crash.main), 512ULL << 20);
	assert_non_null(crash.low);
	assert_int_equal(crash.low->start, 0x5e000000);
	assert_int_equal(iomem_range_size(crash.low), 256ULL << 20);
	assert_int_equal(iomem_total(&m, "Crash kernel"), 768ULL << 20);
	assert_int_equal(iomem_total(&m, "System RAM"), 68465324032ULL);

	r = iomem_find(&m, "efifb", NULL);
	assert_non_null(r);
	assert_int_equal(r->depth, 3);
	r = iomem_find(&m, "pnp 00:05", NULL);
	assert_int_equal(r->depth, 2);
	/* After a depth-3 line, a depth-0 line finds no parent. */
	r = iomem_find(&m, "PCI MMCONFIG 0000 [bus 00-ff]", NULL);
	assert_int_equal(r->depth, 0);
	assert_int_equal(r->parent, IOMEM_NO_PARENT);
}

static void test_no_crash_kernel(void **state)
{
	_cleanup_(iomem_done) struct iomem m = {};
	struct iomem_crash_ranges crash = {};

	assert_int_equal(parse_fixture("no-crashkernel.txt", &m, NULL), 0);
	assert_int_equal(iomem_crash_ranges(&m, &crash), -ENOENT);
	assert_null(crash.main);
	assert_non_null(iomem_find(&m, "Kernel code", NULL));
}

static void test_zeroed_view(void **state)
{
	struct iomem m = { .ranges = NULL, .count = 4242 };

	assert_int_equal(parse_fixture("nonroot-zeroed.txt", &m, NULL), -EPERM);
	/* Untouched on failure. */
	assert_int_equal(m.count, 4242);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *file;
		unsigned line;
	} cases[] = {
		{ "malformed-no-separator.txt", 3 },  { "malformed-odd-indent.txt", 2 },
		{ "malformed-skipped-level.txt", 2 }, { "malformed-end-before-start.txt", 2 },
		{ "malformed-0x-prefix.txt", 2 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(iomem_done) struct iomem m = {};
		unsigned line = 0;

		assert_int_equal(parse_fixture(cases[i].file, &m, &line), -EINVAL);
		assert_int_equal(line, cases[i].line);
		assert_int_equal(m.count, 0);
	}
}

static void test_strings(void **state)
{
	_cleanup_(iomem_done) struct iomem empty = {};
	struct iomem m = {};
	struct iomem_crash_ranges crash;
	unsigned line = 0;

	/* An empty map is no error: a fixture of a machine that shows nothing. */
	assert_int_equal(iomem_parse("", &empty, NULL), 0);
	assert_int_equal(empty.count, 0);
	/* The first line cannot be nested. */
	assert_int_equal(iomem_parse("  00000000-00000fff : Reserved\n", &m, &line), -EINVAL);
	assert_int_equal(line, 1);
	/* No trailing newline; upper-case hex; a name with " : " inside. */
	assert_int_equal(iomem_parse("00000000-0000FFFF : a : b", &m, NULL), 0);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.ranges[0].end, 0xffff);
	assert_string_equal(m.ranges[0].name, "a : b");
	iomem_done(&m);
	/* A blank line in the middle is malformed. */
	assert_int_equal(iomem_parse("00000000-00000fff : A\n\n00001000-00001fff : B\n", &m, &line),
			 -EINVAL);
	assert_int_equal(line, 2);
	/* 17 hex digits do not fit 64 bits. */
	assert_int_equal(iomem_parse("00000000000000000-1 : A\n", &m, NULL), -EINVAL);
	/* Three "Crash kernel" ranges: a map we do not understand. */
	assert_int_equal(iomem_parse("00001000-00001fff : Crash kernel\n"
				     "00002000-00002fff : Crash kernel\n"
				     "00003000-00003fff : Crash kernel\n",
				     &m, NULL),
			 0);
	assert_int_equal(iomem_crash_ranges(&m, &crash), -EINVAL);
	iomem_done(&m);
	iomem_done(&m);
}

static void test_read_root(void **state)
{
	_cleanup_(iomem_done) struct iomem m = {};

	assert_int_equal(iomem_read("tests/fixtures/roots/reserved", &m, NULL), 0);
	assert_non_null(iomem_find(&m, "Crash kernel", NULL));
	assert_int_equal(iomem_read("tests/fixtures/roots/does-not-exist", &m, NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_nested),	cmocka_unit_test(test_high_and_low),
		cmocka_unit_test(test_no_crash_kernel), cmocka_unit_test(test_zeroed_view),
		cmocka_unit_test(test_malformed),	cmocka_unit_test(test_strings),
		cmocka_unit_test(test_read_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
