// SPDX-License-Identifier: GPL-2.0-or-later
#include "crashkernel-arg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* Parses, checks it round-trips to canon, returns the parsed value. */
static struct crashkernel_arg parse_ok(const char *value, const char *canon)
{
	_cleanup_free_ char *error = NULL;
	struct crashkernel_arg a;
	char buf[256];

	assert_int_equal(crashkernel_arg_parse(value, &a, &error), 0);
	assert_null(error);
	assert_int_equal(crashkernel_arg_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canon);
	return a;
}

static void parse_bad(const char *value, int want, const char *message)
{
	_cleanup_free_ char *error = NULL;
	struct crashkernel_arg a = { .size = 12345 };

	assert_int_equal(crashkernel_arg_parse(value, &a, &error), want);
	assert_non_null(error);
	assert_string_equal(error, message);
	/* ret_* untouched on failure */
	assert_int_equal(a.size, 12345);
}

static void test_plain(void **state)
{
	struct crashkernel_arg a;

	a = parse_ok("192M", "192M");
	assert_int_equal(a.size, 192 * MIB);
	assert_int_equal(a.n_ranges, 0);
	assert_int_equal(a.suffix, CRASHKERNEL_PLAIN);
	assert_false(a.has_offset);

	a = parse_ok("1G", "1G");
	assert_int_equal(a.size, GIB);
	a = parse_ok("1024m", "1G");
	a = parse_ok("196608k", "192M");
	a = parse_ok("1536M", "1536M");
	a = parse_ok("201326592", "192M");
	assert_int_equal(a.size, 192 * MIB);
	a = parse_ok("0x10000000", "256M");
	a = parse_ok("1000", "1000");
	a = parse_ok("2t", "2048G");
}

static void test_offset_and_suffixes(void **state)
{
	struct crashkernel_arg a;

	a = parse_ok("256M@64M", "256M@64M");
	assert_true(a.has_offset);
	assert_int_equal(a.offset, 64 * MIB);
	a = parse_ok("512M,high", "512M,high");
	assert_int_equal(a.suffix, CRASHKERNEL_HIGH);
	assert_int_equal(a.size, 512 * MIB);
	a = parse_ok("128M,low", "128M,low");
	assert_int_equal(a.suffix, CRASHKERNEL_LOW);
	/* The kernel documents 0,low as "no low part". */
	a = parse_ok("0,low", "0,low");
	assert_int_equal(a.size, 0);
}

static void test_ranges(void **state)
{
	struct crashkernel_arg a;

	a = parse_ok("1G-4G:160M,4G-:256M", "1G-4G:160M,4G-:256M");
	assert_int_equal(a.n_ranges, 2);
	assert_int_equal(a.ranges[0].start, GIB);
	assert_int_equal(a.ranges[0].end, 4 * GIB);
	assert_int_equal(a.ranges[0].size, 160 * MIB);
	assert_int_equal(a.ranges[1].start, 4 * GIB);
	assert_int_equal(a.ranges[1].end, UINT64_MAX);
	assert_int_equal(a.ranges[1].size, 256 * MIB);

	/* Debian kdump-tools' default, and gaps between ranges are fine. */
	parse_ok("384M-:128M", "384M-:128M");
	parse_ok("512M-2G:64M,2G-64G:128M,128G-:512M", "512M-2G:64M,2G-64G:128M,128G-:512M");
	a = parse_ok("1G-:256M@16M", "1G-:256M@16M");
	assert_true(a.has_offset);
	assert_int_equal(a.offset, 16 * MIB);
}

static void test_size_for(void **state)
{
	struct crashkernel_arg a;

	a = parse_ok("1G-4G:160M,4G-:256M", "1G-4G:160M,4G-:256M");
	assert_int_equal(crashkernel_arg_size_for(&a, 512 * MIB), 0);
	assert_int_equal(crashkernel_arg_size_for(&a, 2 * GIB), 160 * MIB);
	assert_int_equal(crashkernel_arg_size_for(&a, 4 * GIB), 256 * MIB);
	assert_int_equal(crashkernel_arg_size_for(&a, 64 * GIB), 256 * MIB);
	/* 3.9 GiB of RAM rounds up to 4 GiB (128 MiB steps), as the kernel does. */
	assert_int_equal(crashkernel_arg_size_for(&a, 4 * GIB - 100 * MIB), 256 * MIB);
	/* 1 GiB less a firmware hole still counts as 1 GiB. */
	assert_int_equal(crashkernel_arg_size_for(&a, GIB - 130 * 1024), 160 * MIB);
	a = parse_ok("192M", "192M");
	assert_int_equal(crashkernel_arg_size_for(&a, 2 * GIB), 192 * MIB);
}

static void test_bad(void **state)
{
	parse_bad("", -EINVAL,
		  "crashkernel= is empty: give a size, such as 192M, 1G-4G:160M,4G-:256M or "
		  "256M,high");
	parse_bad("lots", -EINVAL,
		  "crashkernel=lots: not a size: give a size, such as 192M, 1G-4G:160M,4G-:256M "
		  "or 256M,high");
	parse_bad("192MB", -EINVAL,
		  "crashkernel=192MB: unexpected 'B' after the size: give a size, such as 192M, "
		  "1G-4G:160M,4G-:256M or 256M,high");
	parse_bad("-192M", -EINVAL,
		  "crashkernel=-192M: not a size: give a size, such as 192M, 1G-4G:160M,4G-:256M "
		  "or 256M,high");
	parse_bad("0", -EINVAL,
		  "crashkernel=0 reserves nothing: give a size such as 192M (or run crashcapctl "
		  "unreserve)");
	parse_bad("0M", -EINVAL,
		  "crashkernel=0M reserves nothing: give a size such as 192M (or run crashcapctl "
		  "unreserve)");
	parse_bad("192 M", -EINVAL,
		  "crashkernel=192 M: white space or quotes in the value: give a size, such as "
		  "192M, 1G-4G:160M,4G-:256M or 256M,high");
	parse_bad("99999999999999999999", -ERANGE,
		  "crashkernel=99999999999999999999: the size is too large");
	parse_bad("20000000E", -ERANGE, "crashkernel=20000000E: the size is too large");
	parse_bad("256M@", -EINVAL,
		  "crashkernel=256M@: a size is expected after '@', such as 192M@64M");
	parse_bad("256M@1M", -EINVAL,
		  "crashkernel=256M@1M: the offset must be a multiple of 16M (x86_64 places the "
		  "crash kernel at 16 MiB boundaries)");
	parse_bad("256M@64Mx", -EINVAL, "crashkernel=256M@64Mx: unexpected 'x' after the offset");
	parse_bad("256M@64M,high", -EINVAL,
		  "crashkernel=256M@64M,high: @OFFSET cannot go with ,high or ,low");
	parse_bad("1G-:256M,high", -EINVAL,
		  "crashkernel=1G-:256M,high: ,high and ,low take one size, not ranges (such as "
		  "256M,high)");
}

static void test_bad_ranges(void **state)
{
	parse_bad("1G-4G:160M,2G-:256M", -EINVAL,
		  "crashkernel=1G-4G:160M,2G-:256M: ranges 1 and 2 overlap: each range must start "
		  "where the one before ends or later");
	parse_bad("1G-:160M,4G-:256M", -EINVAL,
		  "crashkernel=1G-:160M,4G-:256M: ranges 1 and 2 overlap: each range must start "
		  "where the one before ends or later");
	parse_bad("4G-:256M,1G-4G:160M", -EINVAL,
		  "crashkernel=4G-:256M,1G-4G:160M: range 2 starts below range 1: list the ranges "
		  "in increasing order");
	parse_bad("1G-4G:,4G-:256M", -EINVAL,
		  "crashkernel=1G-4G:,4G-:256M: range 1: the size to reserve is missing after ':' "
		  "(such as 1G-4G:160M)");
	parse_bad("1G-4G", -EINVAL,
		  "crashkernel=1G-4G: a range needs ':' and the size to reserve, such as "
		  "1G-4G:160M");
	parse_bad("1G:160M", -EINVAL,
		  "crashkernel=1G:160M: range 1: '-' expected after the start (the form is "
		  "START-[END]:SIZE, such as 1G-4G:160M)");
	parse_bad("-4G:160M", -EINVAL,
		  "crashkernel=-4G:160M: range 1: a RAM size is expected at '-4G:160M' (the form "
		  "is START-[END]:SIZE, such as 1G-4G:160M)");
	parse_bad("4G-1G:160M", -EINVAL, "crashkernel=4G-1G:160M: range 1 ends before it starts");
	parse_bad("1G-4Gx:160M", -EINVAL,
		  "crashkernel=1G-4Gx:160M: range 1: ':' and a size expected after the range (such "
		  "as 1G-4G:160M)");
	parse_bad("1G-4G:0", -EINVAL,
		  "crashkernel=1G-4G:0: range 1 reserves 0 bytes: leave the range out instead");
	parse_bad("512M-1G:1G", -EINVAL,
		  "crashkernel=512M-1G:1G: range 1 reserves 1G, not less than the RAM it applies "
		  "to: the kernel would refuse it");
	parse_bad("1G-4G:160M;4G-:256M", -EINVAL,
		  "crashkernel=1G-4G:160M;4G-:256M: unexpected ';4G-:256M' after range 1");
	parse_bad("1G-4G:160M,", -EINVAL,
		  "crashkernel=1G-4G:160M,: range 2: a RAM size is expected at '' (the form is "
		  "START-[END]:SIZE, such as 1G-4G:160M)");
	parse_bad("1G-:256M@3M", -EINVAL,
		  "crashkernel=1G-:256M@3M: the offset must be a multiple of 16M (x86_64 places "
		  "the crash kernel at 16 MiB boundaries)");
	parse_bad("0-1G:64M,1G-2G:64M,2G-3G:64M,3G-4G:64M,4G-5G:64M,5G-6G:64M,6G-7G:64M,"
		  "7G-8G:64M,8G-9G:64M,9G-10G:64M,10G-11G:64M,11G-12G:64M,12G-13G:64M,"
		  "13G-14G:64M,14G-15G:64M,15G-16G:64M,16G-:64M",
		  -E2BIG,
		  "crashkernel=0-1G:64M,1G-2G:64M,2G-3G:64M,3G-4G:64M,4G-5G:64M,5G-6G:64M,"
		  "6G-7G:64M,7G-8G:64M,8G-9G:64M,9G-10G:64M,10G-11G:64M,11G-12G:64M,12G-13G:64M,"
		  "13G-14G:64M,14G-15G:64M,15G-16G:64M,16G-:64M: more than 16 ranges");
}

static void test_format_size(void **state)
{
	char b[32];

	assert_string_equal(crashkernel_format_size(0, b, sizeof(b)), "0");
	assert_string_equal(crashkernel_format_size(4096, b, sizeof(b)), "4K");
	assert_string_equal(crashkernel_format_size(4097, b, sizeof(b)), "4097");
	assert_string_equal(crashkernel_format_size(160 * MIB, b, sizeof(b)), "160M");
	assert_string_equal(crashkernel_format_size(3 * GIB, b, sizeof(b)), "3G");
	assert_int_equal(crashkernel_arg_format(&(struct crashkernel_arg){ .size = 192 * MIB }, b,
						4),
			 -ENOBUFS);
}

static void test_cmdline_find(void **state)
{
	const char *line = "BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=128M quiet "
			   "xcrashkernel=1G crashkernel=256M,high crashkernel=192M "
			   "crashkernel=64M,low crashkernel=1G,cma\n";
	const char *v;
	size_t n;

	v = crashkernel_cmdline_find(line, CRASHKERNEL_PLAIN, &n);
	assert_non_null(v);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "192M", 4);
	v = crashkernel_cmdline_find(line, CRASHKERNEL_HIGH, &n);
	assert_int_equal(n, 9);
	assert_memory_equal(v, "256M,high", 9);
	v = crashkernel_cmdline_find(line, CRASHKERNEL_LOW, &n);
	assert_memory_equal(v, "64M,low", 7);
	assert_null(crashkernel_cmdline_find("root=/dev/vda1 quiet", CRASHKERNEL_PLAIN, &n));
	assert_null(crashkernel_cmdline_find("crashkernel= quiet", CRASHKERNEL_PLAIN, &n));
	assert_null(crashkernel_cmdline_find(NULL, CRASHKERNEL_PLAIN, &n));
}

static void test_cmdline_eval(void **state)
{
	_cleanup_free_ char *error = NULL;
	struct crashkernel_setting s;

	/* The last plain one wins. */
	assert_int_equal(crashkernel_cmdline_eval("quiet crashkernel=128M crashkernel=384M-:192M",
						  2 * GIB, &s, &error),
			 0);
	assert_true(s.present);
	assert_false(s.high);
	assert_string_equal(s.value, "384M-:192M");
	assert_int_equal(s.size, 192 * MIB);

	/* A plain one beats ,high; ,high without ,low gets 256M low. */
	assert_int_equal(crashkernel_cmdline_eval("crashkernel=512M,high crashkernel=160M", 8 * GIB,
						  &s, &error),
			 0);
	assert_false(s.high);
	assert_int_equal(s.size, 160 * MIB);
	assert_int_equal(crashkernel_cmdline_eval("crashkernel=512M,high", 8 * GIB, &s, &error), 0);
	assert_true(s.high);
	assert_int_equal(s.size, 512 * MIB);
	assert_int_equal(s.low_size, 256 * MIB);
	assert_int_equal(crashkernel_cmdline_eval("crashkernel=0,low crashkernel=512M,high",
						  8 * GIB, &s, &error),
			 0);
	assert_int_equal(s.low_size, 0);
	assert_int_equal(crashkernel_cmdline_eval("crashkernel=512M,high crashkernel=96M,low",
						  8 * GIB, &s, &error),
			 0);
	assert_int_equal(s.low_size, 96 * MIB);

	/* Ranges that do not match this RAM reserve nothing. */
	assert_int_equal(crashkernel_cmdline_eval("crashkernel=4G-:256M", 2 * GIB, &s, &error), 0);
	assert_false(s.present);
	assert_int_equal(crashkernel_cmdline_eval("root=/dev/vda1", 2 * GIB, &s, &error), 0);
	assert_false(s.present);

	assert_int_equal(crashkernel_cmdline_eval("crashkernel=lots", 2 * GIB, &s, &error),
			 -EINVAL);
	assert_string_equal(error, "crashkernel=lots: not a size: give a size, such as 192M, "
				   "1G-4G:160M,4G-:256M or 256M,high");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),	     cmocka_unit_test(test_offset_and_suffixes),
		cmocka_unit_test(test_ranges),	     cmocka_unit_test(test_size_for),
		cmocka_unit_test(test_bad),	     cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_format_size),  cmocka_unit_test(test_cmdline_find),
		cmocka_unit_test(test_cmdline_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
