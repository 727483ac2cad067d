// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmcoreinfo.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char text[] = "OSRELEASE=6.1.0-28-amd64\n"
			   "BUILD-ID=0123abcd\n"
			   "PAGESIZE=4096\n"
			   "SYMBOL(init_uts_ns)=ffffffff82a13000\n"
			   "SYMBOL(prb)=ffffffff8286b0a8\n"
			   "SIZE(printk_info)=88\n"
			   "OFFSET(printk_info.ts_nsec)=8\n"
			   "LENGTH(free_area)=11\n"
			   "NUMBER(phys_base)=-16777216\n"
			   "NUMBER(pgtable_l5_enabled)=0\n"
			   "this line has no key\n"
			   "=novalue\n"
			   "\n"
			   "KERNELOFFSET=1e000000\n"
			   "SIZE(printk_info)=99\n"
			   "SYMBOL(bad)=xyz\n"
			   "SIZE(bad)=12x\n"
			   "NUMBER(bad)=1.5\n"
			   "NUMBER(hex)=0xffff800000000000\n"
			   "NUMBER(emptyhex)=0x\n"
			   "CRASHTIME=1700000000";

static void test_parse(void **state)
{
	_cleanup_vmcoreinfo_ struct vmcoreinfo *vi = NULL;
	uint64_t u;
	int64_t s;

	assert_int_equal(vmcoreinfo_parse(text, sizeof(text) - 1, &vi), 0);
	assert_string_equal(vmcoreinfo_osrelease(vi), "6.1.0-28-amd64");
	assert_string_equal(vmcoreinfo_get(vi, "BUILD-ID"), "0123abcd");
	assert_string_equal(vmcoreinfo_get(vi, "KERNELOFFSET"), "1e000000");
	/* the last line has no newline */
	assert_string_equal(vmcoreinfo_get(vi, "CRASHTIME"), "1700000000");
	/* lines without KEY= are skipped */
	assert_null(vmcoreinfo_get(vi, "this line has no key"));
	assert_null(vmcoreinfo_get(vi, ""));

	assert_int_equal(vmcoreinfo_symbol(vi, "init_uts_ns", &u), 0);
	assert_int_equal(u, 0xffffffff82a13000ULL);
	assert_int_equal(vmcoreinfo_size(vi, "printk_info", &u), 0);
	/* the first of two wins */
	assert_int_equal(u, 88);
	assert_int_equal(vmcoreinfo_offset(vi, "printk_info.ts_nsec", &u), 0);
	assert_int_equal(u, 8);
	assert_int_equal(vmcoreinfo_length(vi, "free_area", &u), 0);
	assert_int_equal(u, 11);
	assert_int_equal(vmcoreinfo_number(vi, "phys_base", &s), 0);
	assert_int_equal(s, -16777216);
	assert_int_equal(vmcoreinfo_number(vi, "pgtable_l5_enabled", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(vmcoreinfo_number(vi, "hex", &s), 0);
	assert_int_equal(s, (int64_t)0xffff800000000000ULL);
}

static void test_missing_and_bad(void **state)
{
	_cleanup_vmcoreinfo_ struct vmcoreinfo *vi = NULL;
	uint64_t u = 7;
	int64_t s = 7;

	assert_int_equal(vmcoreinfo_parse(text, sizeof(text) - 1, &vi), 0);
	assert_int_equal(vmcoreinfo_symbol(vi, "nope", &u), -ENOENT);
	assert_int_equal(vmcoreinfo_size(vi, "nope", &u), -ENOENT);
	assert_int_equal(vmcoreinfo_offset(vi, "nope.x", &u), -ENOENT);
	assert_int_equal(vmcoreinfo_length(vi, "nope", &u), -ENOENT);
	assert_int_equal(vmcoreinfo_number(vi, "nope", &s), -ENOENT);
	/* SYMBOL(x) is not SIZE(x) */
	assert_int_equal(vmcoreinfo_size(vi, "init_uts_ns", &u), -ENOENT);
	assert_int_equal(vmcoreinfo_symbol(vi, "bad", &u), -EINVAL);
	assert_int_equal(vmcoreinfo_size(vi, "bad", &u), -EINVAL);
	assert_int_equal(vmcoreinfo_number(vi, "bad", &s), -EINVAL);
	assert_int_equal(vmcoreinfo_number(vi, "emptyhex", &s), -EINVAL);
	/* ret_* untouched on failure */
	assert_int_equal(u, 7);
	assert_int_equal(s, 7);
	assert_null(vmcoreinfo_get(NULL, "OSRELEASE"));
}

static void test_nul_padding(void **state)
{
	/* the note descriptor is NUL-padded; text after the NUL is not parsed */
	static const char padded[] = "OSRELEASE=5.10\n\0\0\0SYMBOL(x)=1\n";
	_cleanup_vmcoreinfo_ struct vmcoreinfo *vi = NULL;
	uint64_t u;

	assert_int_equal(vmcoreinfo_parse(padded, sizeof(padded) - 1, &vi), 0);
	assert_string_equal(vmcoreinfo_osrelease(vi), "5.10");
	assert_int_equal(vmcoreinfo_symbol(vi, "x", &u), -ENOENT);
}

static void test_empty(void **state)
{
	_cleanup_vmcoreinfo_ struct vmcoreinfo *vi = NULL;

	assert_int_equal(vmcoreinfo_parse("", 0, &vi), 0);
	assert_non_null(vi);
	assert_null(vmcoreinfo_osrelease(vi));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_missing_and_bad),
		cmocka_unit_test(test_nul_padding),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
