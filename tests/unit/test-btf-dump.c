// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf-build.h"
#include "btf-dump.h"
#include "kallsyms-build.h"
#include "vmcore-synth.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void check_member(struct kbtf *b, const char *path, uint64_t offset, uint64_t size)
{
	struct kbtf_member m;

	assert_int_equal(kbtf_member(b, path, &m), 0);
	assert_int_equal(m.offset, offset);
	assert_int_equal(m.size, size);
	assert_int_equal(m.bit_size, 0);
}

static void test_paths(void **state)
{
	_cleanup_kbtf_ struct kbtf *b = NULL;
	_cleanup_free_ void *raw = NULL;
	struct kbtf_member m;
	uint64_t v;
	int64_t e;
	size_t size;

	assert_int_equal(btf_build_sample(&raw, &size), 0);
	assert_int_equal(kbtf_from_bytes(raw, size, &b), 0);
	assert_int_equal(kbtf_size(b), size);
	assert_non_null(kbtf_btf(b));

	check_member(b, "task_struct.__state", 0, 4);
	/* through an anonymous union and an anonymous struct in it */
	check_member(b, "task_struct.comm", 8, 16);
	check_member(b, "task_struct.comm[3]", 11, 1);
	check_member(b, "task_struct.x", 8, 8);
	check_member(b, "task_struct.tasks", 24, 16);
	check_member(b, "task_struct.tasks.prev", 32, 8);
	check_member(b, "task_struct.mm", 40, 8);
	check_member(b, "task_struct.rss_stat[1].count[2]", 56 + 32 + 16, 8);
	check_member(b, "task_t.tasks.next", 24, 8);
	check_member(b, "fwd_only.val", 0, 8);

	assert_int_equal(kbtf_member(b, "task_struct.flag_b", &m), 0);
	assert_int_equal(m.offset, 48);
	assert_int_equal(m.size, 1);
	assert_int_equal(m.bit_offset, 3);
	assert_int_equal(m.bit_size, 5);

	assert_int_equal(kbtf_array_len(b, "task_struct.rss_stat", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(kbtf_array_len(b, "task_struct.rss_stat[0].count", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(kbtf_array_len(b, "task_struct.tasks", &v), -EINVAL);

	assert_int_equal(kbtf_member(b, "task_struct.nope", &m), -ENOENT);
	assert_int_equal(kbtf_member(b, "task_struct.tasks.nope", &m), -ENOENT);
	assert_int_equal(kbtf_member(b, "nope.x", &m), -ENOENT);
	assert_int_equal(kbtf_member(b, "task_struct", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, ".comm", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, "task_struct.comm[16]", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, "task_struct.comm[x]", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, "task_struct.comm[1", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, "task_struct.tasks[0]", &m), -EINVAL);
	assert_int_equal(kbtf_member(b, "task_struct..comm", &m), -EINVAL);

	assert_int_equal(kbtf_type_size(b, "task_struct", &v), 0);
	assert_int_equal(v, 128);
	assert_int_equal(kbtf_type_size(b, "task_t", &v), 0);
	assert_int_equal(v, 128);
	assert_int_equal(kbtf_type_size(b, "list_head", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(kbtf_type_size(b, "nope", &v), -ENOENT);

	assert_int_equal(kbtf_enum_value(b, "NR_FREE_PAGES", &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(kbtf_enum_value(b, "NR_VM_ZONE_STAT_ITEMS", &e), 0);
	assert_int_equal(e, 2);
	assert_int_equal(kbtf_enum_value(b, "BIG_VALUE", &e), 0);
	assert_int_equal(e, 0x100000000LL);
	assert_int_equal(kbtf_enum_value(b, "NR_NOPE", &e), -ENOENT);
}

static void test_bad_bytes(void **state)
{
	_cleanup_free_ uint8_t *raw = NULL;
	struct kbtf *b = NULL;
	uint32_t type_off;
	size_t size;

	assert_int_equal(btf_build_sample((void **)&raw, &size), 0);
	assert_int_equal(kbtf_from_bytes(raw, size - 1, &b), -EBADMSG);
	assert_int_equal(kbtf_from_bytes(raw, 23, &b), -EBADMSG);
	assert_int_equal(kbtf_from_bytes(raw, 0, &b), -EBADMSG);
	raw[0] ^= 0xff;
	assert_int_equal(kbtf_from_bytes(raw, size, &b), -EBADMSG);
	raw[0] ^= 0xff;
	/* The first type's kind made impossible: libbpf refuses it. */
	memcpy(&type_off, raw + 8, 4);
	raw[24 + type_off + 7] = 0x1f;
	assert_int_equal(kbtf_from_bytes(raw, size, &b), -EBADMSG);
	assert_null(b);
}

/* kallsyms with __start_BTF/__stop_BTF around the BTF bytes, all in a synthetic kernel image. */
static char *image_vmcore(const void *btf, size_t btf_size, bool with_btf_syms, uint64_t mem_size)
{
	const uint64_t base = 0xffffffff81000000ULL, phys = 0x1000000, btf_at = 0x20000;
	const struct ksym_spec syms[] = {
		{ "Tstartup_64", base },
		{ with_btf_syms ? "R__start_BTF" : "Rsomething", base + btf_at },
		{ with_btf_syms ? "R__stop_BTF" : "Rsomething_else", base + btf_at + btf_size },
		{ "B_end", base + 0x100000 },
	};
	struct kallsyms_built kb;
	uint8_t *mem = calloc(1, 0x100000);
	const uint64_t tables = 0x80000;
	struct synth_segment seg = { .phys_start = phys, .mem_size = mem_size, .data = mem };
	struct synth_vmcore spec = { .nr_cpus = 1, .segments = &seg, .n_segments = 1 };
	_cleanup_free_ char *vi = NULL;
	char *path = NULL;

	assert_non_null(mem);
	assert_int_equal(kallsyms_build(syms, ELEMENTSOF(syms), base, true, &kb), 0);
	memcpy(mem + tables, kb.image, kb.image_size);
	memcpy(mem + btf_at, btf, btf_size);
	assert_true(asprintf(&vi,
			     "OSRELEASE=6.1.0\nNUMBER(phys_base)=0\n"
			     "SYMBOL(kallsyms_offsets)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_relative_base)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_num_syms)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_names)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_token_table)=%" PRIx64 "\n"
			     "SYMBOL(kallsyms_token_index)=%" PRIx64 "\n",
			     base + tables + kb.off_offsets, base + tables + kb.off_relative_base,
			     base + tables + kb.off_num_syms, base + tables + kb.off_names,
			     base + tables + kb.off_token_table,
			     base + tables + kb.off_token_index) > 0);
	spec.vmcoreinfo = vi;
	/* mem_size below the tables: the kallsyms tables live in a second segment. */
	struct synth_segment segs[2] = {
		seg, { .phys_start = phys + tables, .mem_size = 0x10000, .data = mem + tables }
	};
	if (mem_size < tables) {
		spec.segments = segs;
		spec.n_segments = 2;
	}
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	kallsyms_built_free(&kb);
	free(mem);
	return path;
}

static void test_load_from_dump(void **state)
{
	_cleanup_free_ void *raw = NULL;
	size_t size;
	struct {
		bool syms;
		uint64_t mem_size;
		int expect;
	} cases[] = {
		{ true, 0x100000, 0 },
		{ false, 0x100000, -ENOENT }, /* no __start_BTF in kallsyms */
		{ true, 0, -ENOENT }, /* the dump ends inside the BTF */
	};

	assert_int_equal(btf_build_sample(&raw, &size), 0);
	cases[2].mem_size = 0x20000 + size / 2;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *path =
			image_vmcore(raw, size, cases[i].syms, cases[i].mem_size);
		_cleanup_dump_ struct dump *d = NULL;
		_cleanup_kallsyms_ struct kallsyms *k = NULL;
		_cleanup_kbtf_ struct kbtf *b = NULL;

		assert_int_equal(dump_open(path, &d), 0);
		assert_int_equal(kallsyms_load(d, &k), 0);
		assert_int_equal(kbtf_load(d, k, &b), cases[i].expect);
		if (cases[i].expect == 0)
			check_member(b, "task_struct.comm", 8, 16);
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_load_from_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
