// SPDX-License-Identifier: GPL-2.0-or-later
#include "kallsyms-build.h"
#include "kallsyms.h"
#include "vmcore-synth.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define BASE 0xffffffff81000000ULL

static char big_name[202];

static const struct ksym_spec *specs(size_t *n)
{
	static struct ksym_spec s[] = {
		{ "Afixed_percpu_data", 0 },	  { "Acurrent_task", 0x1fb80 },
		{ "Tstartup_64", BASE },	  { "Tsysrq_handle_crash", BASE + 0x100 },
		{ "tsysrq_alias", BASE + 0x100 }, { "T__task_pid_nr_ns", BASE + 0x200 },
		{ NULL, BASE + 0x300 }, /* the big name */
		{ "Dinit_task", BASE + 0x10000 }, { "B_end", BASE + 0x20000 },
	};

	memset(big_name, 'x', sizeof(big_name) - 1);
	big_name[0] = 'T';
	s[6].name = big_name;
	*n = ELEMENTSOF(s);
	return s;
}

static void check_table(struct kallsyms *k)
{
	struct kallsyms_symbol s;
	uint64_t addr, off;
	char buf[300];

	assert_int_equal(kallsyms_count(k), 9);
	assert_int_equal(kallsyms_lookup_name(k, "sysrq_handle_crash", &addr), 0);
	assert_int_equal(addr, BASE + 0x100);
	assert_int_equal(kallsyms_lookup_name(k, "current_task", &addr), 0);
	assert_int_equal(addr, 0x1fb80);
	assert_int_equal(kallsyms_lookup_name(k, "init_task", &addr), 0);
	assert_int_equal(addr, BASE + 0x10000);
	assert_int_equal(kallsyms_lookup_name(k, big_name + 1, &addr), 0);
	assert_int_equal(addr, BASE + 0x300);
	assert_int_equal(kallsyms_lookup_name(k, "sysrq_handle", &addr), -ENOENT);
	assert_int_equal(kallsyms_lookup_name(k, "zzz", &addr), -ENOENT);

	/* Aliases: the first in the kernel's order names the address. */
	assert_int_equal(kallsyms_lookup_addr(k, BASE + 0x123, &s, &off), 0);
	assert_string_equal(s.name, "sysrq_handle_crash");
	assert_int_equal(s.type, 'T');
	assert_int_equal(s.addr, BASE + 0x100);
	assert_int_equal(s.size, 0x100);
	assert_int_equal(off, 0x23);
	assert_string_equal(kallsyms_format(k, BASE + 0x123, buf, sizeof(buf)),
			    "sysrq_handle_crash+0x23/0x100");
	assert_string_equal(kallsyms_format(k, BASE + 0x210, buf, sizeof(buf)),
			    "__task_pid_nr_ns+0x10/0x100");
	assert_string_equal(kallsyms_format(k, BASE, buf, sizeof(buf)), "startup_64+0x0/0x100");
	/* Past the last symbol (no size), and before none. */
	assert_int_equal(kallsyms_lookup_addr(k, BASE + 0x20000, &s, &off), -ENOENT);
	assert_string_equal(kallsyms_format(k, BASE + 0x20008, buf, sizeof(buf)),
			    "0xffffffff81020008");
	kallsyms_get(k, 0, &s);
	assert_string_equal(s.name, "fixed_percpu_data");
	assert_int_equal(s.type, 'A');
	assert_int_equal(s.size, 0x1fb80);
	kallsyms_get(k, 8, &s);
	assert_string_equal(s.name, "_end");
	assert_int_equal(s.type, 'B');
	assert_int_equal(s.size, 0);
}

static void test_absolute_percpu(void **state)
{
	_cleanup_kallsyms_ struct kallsyms *k = NULL;
	struct kallsyms_built b;
	size_t n;
	const struct ksym_spec *s = specs(&n);

	assert_int_equal(kallsyms_build(s, n, BASE, true, &b), 0);
	/* a 201-token name takes a two-byte length */
	assert_int_equal(kallsyms_decode(&b.t, &k), 0);
	check_table(k);
	kallsyms_built_free(&b);
}

static void test_relative(void **state)
{
	_cleanup_kallsyms_ struct kallsyms *k = NULL;
	struct kallsyms_built b;
	struct ksym_spec s[9];
	size_t n;

	memcpy(s, specs(&n), sizeof(s));
	/* No absolute per-CPU values: every address at or above the base. */
	s[0].addr = BASE - 0x40000;
	s[1].addr = BASE - 0x40000 + 0x1fb80;
	assert_int_equal(kallsyms_build(s, n, BASE - 0x40000, false, &b), 0);
	assert_int_equal(kallsyms_decode(&b.t, &k), 0);
	assert_int_equal(kallsyms_lookup_name(k, "current_task", &(uint64_t){ 0 }), 0);
	kallsyms_built_free(&b);
	k = kallsyms_free(k);

	/* The older absolute kallsyms_addresses. */
	uint64_t addrs[9];

	for (size_t i = 0; i < n; i++)
		addrs[i] = specs(&n)[i].addr;
	assert_int_equal(kallsyms_build(specs(&n), n, BASE, true, &b), 0);
	b.t.offsets = NULL;
	b.t.addresses = (const uint8_t *)addrs;
	assert_int_equal(kallsyms_decode(&b.t, &k), 0);
	check_table(k);
	kallsyms_built_free(&b);
}

static void test_bad_tables(void **state)
{
	struct kallsyms *k = NULL;
	struct kallsyms_built b;
	size_t n;
	const struct ksym_spec *s = specs(&n);
	struct kallsyms_tables t;

	assert_int_equal(kallsyms_build(s, n, BASE, true, &b), 0);
	t = b.t;
	t.num_syms = 0;
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	t = b.t;
	t.names_size--; /* the last name runs past the table */
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	t = b.t;
	t.num_syms++; /* one name more than the table holds */
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	t = b.t;
	t.token_table_size = 100; /* tokens past the end of the table */
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	t = b.t;
	t.offsets = NULL;
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	/* A zero-length name. */
	t = b.t;
	b.names[0] = 0;
	assert_int_equal(kallsyms_decode(&t, &k), -EBADMSG);
	assert_null(k);
	kallsyms_built_free(&b);
}

/* The tables in a synthetic vmcore's kernel image, found through VMCOREINFO. */
static void test_load_from_dump(void **state)
{
	_cleanup_free_ char *path = NULL, *vi = NULL, *vi_missing = NULL;
	_cleanup_kallsyms_ struct kallsyms *k = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	struct kallsyms_built b;
	size_t n;
	const struct ksym_spec *s = specs(&n);
	const uint64_t image = 0xffffffff82000000ULL, phys = 0x2000000;
	struct synth_segment seg = { .phys_start = phys, .mem_size = 0x10000 };
	struct synth_vmcore spec = { .nr_cpus = 1, .segments = &seg, .n_segments = 1 };
	uint64_t addr;
	uint8_t *mem;

	assert_int_equal(kallsyms_build(s, n, BASE, true, &b), 0);
	mem = calloc(1, seg.mem_size);
	assert_non_null(mem);
	memcpy(mem, b.image, b.image_size);
	seg.data = mem;
	assert_true(asprintf(&vi_missing,
			     "OSRELEASE=6.1.0\nNUMBER(phys_base)=0\n"
			     "SYMBOL(kallsyms_offsets)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_relative_base)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_num_syms)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_names)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_token_table)=%" PRIx64 "\n",
			     image + b.off_offsets, image + b.off_relative_base,
			     image + b.off_num_syms, image + b.off_names,
			     image + b.off_token_table) > 0);
	assert_true(asprintf(&vi, "%sSYMBOL(kallsyms_token_index)=%" PRIx64 "\n", vi_missing,
			     image + b.off_token_index) > 0);

	spec.vmcoreinfo = vi;
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	assert_null(kallsyms_missing(dump_vmcoreinfo(d)));
	assert_int_equal(kallsyms_load(d, &k), 0);
	check_table(k);
	assert_int_equal(kallsyms_lookup_name(k, "startup_64", &addr), 0);
	assert_int_equal(addr, BASE);
	d = dump_free(d);
	unlink(path);
	free(TAKE_PTR(path));
	k = kallsyms_free(k);

	/* VMCOREINFO without the token index. */
	spec.vmcoreinfo = vi_missing;
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	assert_string_equal(kallsyms_missing(dump_vmcoreinfo(d)), "kallsyms_token_index");
	assert_int_equal(kallsyms_load(d, &k), -ENOENT);
	d = dump_free(d);
	unlink(path);
	free(TAKE_PTR(path));

	/* The tables' memory is not in the dump (the segment ends inside the names). */
	seg.mem_size = 0x1000;
	seg.phys_start = phys + 0x2000;
	spec.vmcoreinfo = vi;
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	assert_int_equal(kallsyms_load(d, &k), -ENOENT);
	assert_null(k);
	unlink(path);
	free(mem);
	kallsyms_built_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_percpu),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_load_from_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
