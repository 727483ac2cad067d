// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dump.h"
#include "utsname.h"
#include "vmcore-synth.h"

#define UTS_PADDR 0x101000ULL /* SYMBOL ffffffff80101000 with phys_base 0 */

/* What the fixture's memory holds at UTS_PADDR + offset. */
struct uts_bytes {
	size_t offset;
	const char *sysname, *release;
	bool unterminated; /* nodename fills all 65 bytes */
};

static void put(char *base, int field, const char *s)
{
	memcpy(base + field * KDUMP_UTS_LEN, s, strlen(s));
}

static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	const struct uts_bytes *u = userdata;
	char *p;

	memset(buf, 0, len);
	if (UTS_PADDR < paddr || UTS_PADDR + 4096 > paddr + len)
		return;
	p = (char *)buf + (UTS_PADDR - paddr) + u->offset;
	put(p, 0, u->sysname);
	if (u->unterminated)
		memset(p + KDUMP_UTS_LEN, 'n', KDUMP_UTS_LEN);
	else
		put(p, 1, "crashhost");
	put(p, 2, u->release);
	put(p, 3, "#1 SMP PREEMPT_DYNAMIC Debian");
	put(p, 4, "x86_64");
	put(p, 5, "example.org");
}

/* dump_read_utsname() on a vmcore with this VMCOREINFO and these bytes. */
static int read_from(const char *vmcoreinfo, const struct uts_bytes *u, struct kdump_utsname *ret)
{
	struct synth_segment seg = {
		.phys_start = 0x100000, .mem_size = 8 * 4096, .fill = fill, .userdata = (void *)u
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo, .nr_cpus = 1, .segments = &seg, .n_segments = 1
	};
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	int r;

	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	r = dump_read_utsname(d, ret);
	unlink(path);
	return r;
}

static const struct uts_bytes good = { 0, "Linux", "6.1.0-test", false };

static void assert_fields(const struct kdump_utsname *u, const char *release)
{
	assert_string_equal(u->sysname, "Linux");
	assert_string_equal(u->nodename, "crashhost");
	assert_string_equal(u->release, release);
	assert_string_equal(u->version, "#1 SMP PREEMPT_DYNAMIC Debian");
	assert_string_equal(u->machine, "x86_64");
	assert_string_equal(u->domainname, "example.org");
}

static void test_init_uts_ns_with_offset(void **state)
{
	struct kdump_utsname u;
	struct uts_bytes at8 = good;

	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &good, &u),
			 0);
	assert_fields(&u, "6.1.0-test");
	at8.offset = 8;
	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=8\nNUMBER(phys_base)=0\n",
				   &at8, &u),
			 0);
	assert_fields(&u, "6.1.0-test");
}

/* Before 5.11: no OFFSET(uts_namespace.name), the name follows a 4-byte kref. */
static void test_old_kernel_kref(void **state)
{
	struct uts_bytes old = { 4, "Linux", "4.19.0-old", false };
	struct kdump_utsname u;

	assert_int_equal(read_from("OSRELEASE=4.19.0-old\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "NUMBER(phys_base)=0\n",
				   &old, &u),
			 0);
	assert_fields(&u, "4.19.0-old");
}

/* Kernels before 2.6.19: system_utsname is the struct itself, and wins. */
static void test_system_utsname(void **state)
{
	struct uts_bytes old = { 0, "Linux", "2.6.18", false };
	struct kdump_utsname u;

	assert_int_equal(read_from("OSRELEASE=2.6.18\nSYMBOL(system_utsname)=ffffffff80101000\n"
				   "SYMBOL(init_uts_ns)=ffffffff80102000\nNUMBER(phys_base)=0\n",
				   &old, &u),
			 0);
	assert_fields(&u, "2.6.18");
}

/* A field with no NUL of its own is cut at 64 bytes; the others stay intact. */
static void test_unterminated_field(void **state)
{
	struct uts_bytes long_name = good;
	struct kdump_utsname u;
	char want[KDUMP_UTS_LEN];

	long_name.unterminated = true;
	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &long_name, &u),
			 0);
	memset(want, 'n', sizeof(want) - 1);
	want[sizeof(want) - 1] = 0;
	assert_string_equal(u.nodename, want);
	assert_string_equal(u.release, "6.1.0-test");
}

static void test_not_this_dumps_utsname(void **state)
{
	struct kdump_utsname u = { .nodename = "untouched" };
	struct uts_bytes other = good;

	/* Another kernel's release: the symbol or offset is wrong. */
	assert_int_equal(read_from("OSRELEASE=6.1.0-other\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &good, &u),
			 -EBADMSG);
	/* The right offset would be 4: these bytes start inside sysname. */
	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "NUMBER(phys_base)=0\n",
				   &good, &u),
			 -EBADMSG);
	other.sysname = "FreeBSD";
	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &other, &u),
			 -EBADMSG);
	/* No OSRELEASE to compare with: "Linux" is enough. */
	assert_int_equal(read_from("SYMBOL(init_uts_ns)=ffffffff80101000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &good, &u),
			 0);
	assert_string_equal(u.release, "6.1.0-test");
}

static void test_nothing_to_read(void **state)
{
	struct kdump_utsname u = { .nodename = "untouched" };

	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nNUMBER(phys_base)=0\n", &good, &u),
			 -ENOENT);
	assert_int_equal(read_from(NULL, &good, &u), -ENOENT);
	/* The symbol points at memory the dump does not hold. */
	assert_int_equal(read_from("OSRELEASE=6.1.0-test\nSYMBOL(init_uts_ns)=ffffffff80901000\n"
				   "OFFSET(uts_namespace.name)=0\nNUMBER(phys_base)=0\n",
				   &good, &u),
			 -ENOENT); /* dump_read_phys(): not RAM in this dump */
	assert_string_equal(u.nodename, "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_uts_ns_with_offset),
		cmocka_unit_test(test_old_kernel_kref),
		cmocka_unit_test(test_system_utsname),
		cmocka_unit_test(test_unterminated_field),
		cmocka_unit_test(test_not_this_dumps_utsname),
		cmocka_unit_test(test_nothing_to_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
