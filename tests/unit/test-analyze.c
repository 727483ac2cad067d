// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * analyze on synthetic dumps whose inputs are missing or damaged: every
 * case must still give a report, with the missing part named. (The full
 * report is checked against real kernels in tests/qemu/test-analyze*.py.)
 */
#include "analyze.h"
#include "btf-build.h"
#include "kallsyms-build.h"
#include "vmcore-synth.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define BASE UINT64_C(0xffffffff81000000)
#define PHYS UINT64_C(0x1000000)
#define TABLES UINT64_C(0x80000)
#define BTF_AT UINT64_C(0x20000)

enum variant {
	NO_KALLSYMS, /* VMCOREINFO names no kallsyms tables */
	TABLES_MISSING, /* it does, but their pages are not in the dump */
	BTF_TRUNCATED, /* __stop_BTF cuts the BTF short */
	BTF_SAMPLE, /* a BTF without the kernel's real types */
};

static char *make_vmcore(enum variant v)
{
	_cleanup_free_ void *btf = NULL;
	_cleanup_free_ char *vi = NULL;
	size_t btf_size;
	struct kallsyms_built kb;
	uint8_t *mem = calloc(1, 0x100000);
	char *path = NULL;

	assert_non_null(mem);
	assert_int_equal(btf_build_sample(&btf, &btf_size), 0);
	const struct ksym_spec syms[] = {
		{ "T_stext", BASE },
		{ "Tsysrq_handle_crash", BASE + 0x100 },
		{ "T_etext", BASE + 0x1000 },
		{ "R__start_BTF", BASE + BTF_AT },
		{ "R__stop_BTF", BASE + BTF_AT + (v == BTF_TRUNCATED ? btf_size / 2 : btf_size) },
		{ "B_end", BASE + 0x100000 },
	};
	struct synth_segment segs[2] = {
		{ .phys_start = PHYS, .mem_size = 0x100000, .data = mem },
	};
	struct synth_vmcore spec = { .nr_cpus = 2, .segments = segs, .n_segments = 1 };

	assert_int_equal(kallsyms_build(syms, ELEMENTSOF(syms), BASE, true, &kb), 0);
	memcpy(mem + TABLES, kb.image, kb.image_size);
	memcpy(mem + BTF_AT, btf, btf_size);
	if (v == NO_KALLSYMS)
		assert_true(asprintf(&vi, "OSRELEASE=6.1.0-synth\nCRASHTIME=1700000000\n") > 0);
	else
		assert_true(asprintf(&vi,
				     "OSRELEASE=6.1.0-synth\nCRASHTIME=1700000000\n"
				     "NUMBER(phys_base)=0\n"
				     "SYMBOL(kallsyms_offsets)=%" PRIx64 "\n"
				     "SYMBOL(kallsyms_relative_base)=%" PRIx64 "\n"
				     "SYMBOL(kallsyms_num_syms)=%" PRIx64 "\n"
				     "SYMBOL(kallsyms_names)=%" PRIx64 "\n"
				     "SYMBOL(kallsyms_token_table)=%" PRIx64 "\n"
				     "SYMBOL(kallsyms_token_index)=%" PRIx64 "\n",
				     BASE + TABLES + kb.off_offsets,
				     BASE + TABLES + kb.off_relative_base,
				     BASE + TABLES + kb.off_num_syms, BASE + TABLES + kb.off_names,
				     BASE + TABLES + kb.off_token_table,
				     BASE + TABLES + kb.off_token_index) > 0);
	if (v == TABLES_MISSING) {
		/* RAM stops short of the tables; the rest of the image is elsewhere. */
		segs[0].mem_size = TABLES;
		segs[1] = (struct synth_segment){ .phys_start = PHYS + 0x90000,
						  .mem_size = 0x70000,
						  .data = mem + 0x90000 };
		spec.n_segments = 2;
	}
	spec.vmcoreinfo = vi;
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	kallsyms_built_free(&kb);
	free(mem);
	return path;
}

static struct analyze_report *run(enum variant v, char **ret_text, char **ret_json)
{
	_cleanup_free_ char *path = make_vmcore(v);
	_cleanup_dump_ struct dump *d = NULL;
	struct analyze_report *r = NULL;
	size_t size;
	FILE *f;

	assert_int_equal(dump_open(path, &d), 0);
	assert_int_equal(analyze_dump(d, &r), 0);
	unlink(path);
	f = open_memstream(ret_text, &size);
	assert_int_equal(analyze_print_text(r, f), 0);
	fclose(f);
	f = open_memstream(ret_json, &size);
	assert_int_equal(analyze_print_json(r, f), 0);
	fclose(f);
	return r;
}

/* What every variant still reports: VMCOREINFO's facts and the crash notes. */
static void check_common(struct analyze_report *r, const char *text, const char *json)
{
	assert_string_equal(r->release, "6.1.0-synth");
	assert_true(r->has_crash_time);
	assert_int_equal(r->crash_time, 1700000000);
	assert_int_equal(r->nr_cpus, 2);
	assert_int_equal(r->n_tasks, 0);
	assert_non_null(r->log_error);
	assert_string_equal(r->log_error, "the kernel log is not described by VMCOREINFO");
	assert_non_null(strstr(text, "  release     6.1.0-synth\n"));
	assert_non_null(strstr(text, "  crash time  2023-11-14 22:13:20 UTC\n"));
	assert_non_null(strstr(json, "\"release\": \"6.1.0-synth\""));
	assert_non_null(strstr(json, "\"crash_time\": 1700000000"));
}

static void test_no_kallsyms(void **state)
{
	_cleanup_free_ char *text = NULL, *json = NULL;
	struct analyze_report *r = run(NO_KALLSYMS, &text, &json);

	check_common(r, text, json);
	assert_string_equal(r->symbols_error, "no kernel symbols: VMCOREINFO lacks "
					      "SYMBOL(kallsyms_names) (a kernel before 6.0?)");
	assert_null(r->types_error);
	assert_string_equal(r->tasks_error, "needs the kernel's symbols, which are unavailable");
	assert_string_equal(r->modules_error, "needs the kernel's symbols, which are unavailable");
	assert_string_equal(r->memory_error, "needs the kernel's symbols, which are unavailable");
	assert_string_equal(r->panic_error,
			    "no panic message in the kernel log; panic_cpu is not readable");
	assert_false(r->has_regs);
	assert_non_null(strstr(text, "Note: no kernel symbols: VMCOREINFO lacks "
				     "SYMBOL(kallsyms_names) (a kernel before 6.0?).\n"));
	assert_non_null(strstr(json, "\"symbols_error\": \"no kernel symbols: VMCOREINFO lacks "
				     "SYMBOL(kallsyms_names) (a kernel before 6.0?)\""));
	analyze_report_free(r);
}

static void test_tables_missing(void **state)
{
	_cleanup_free_ char *text = NULL, *json = NULL;
	struct analyze_report *r = run(TABLES_MISSING, &text, &json);

	check_common(r, text, json);
	assert_string_equal(
		r->symbols_error,
		"no kernel symbols: the kallsyms tables VMCOREINFO names are not in the "
		"dump (excluded or never captured)");
	assert_string_equal(r->tasks_error, "needs the kernel's symbols, which are unavailable");
	analyze_report_free(r);
}

static void test_btf_truncated(void **state)
{
	_cleanup_free_ char *text = NULL, *json = NULL;
	struct analyze_report *r = run(BTF_TRUNCATED, &text, &json);

	check_common(r, text, json);
	assert_null(r->symbols_error);
	assert_string_equal(r->types_error, "no kernel types: the BTF between __start_BTF and "
					    "__stop_BTF is truncated or corrupt");
	assert_string_equal(r->tasks_error,
			    "needs the kernel's types (BTF), which are unavailable");
	assert_string_equal(r->modules_error,
			    "needs the kernel's types (BTF), which are unavailable");
	assert_non_null(strstr(text, "Note: no kernel types: the BTF between __start_BTF and "
				     "__stop_BTF is truncated or corrupt.\n"));
	/* kallsyms has no panic_cpu here: no crash note can be picked. */
	assert_string_equal(r->panic_error,
			    "no panic message in the kernel log; panic_cpu is not readable");
	analyze_report_free(r);
}

static void test_btf_without_kernel_types(void **state)
{
	_cleanup_free_ char *text = NULL, *json = NULL;
	struct analyze_report *r = run(BTF_SAMPLE, &text, &json);

	check_common(r, text, json);
	assert_null(r->symbols_error);
	assert_null(r->types_error);
	assert_string_equal(r->tasks_error,
			    "the kernel's BTF lacks a task_struct member analyze needs");
	assert_string_equal(r->memory_error,
			    "kallsyms lacks vm_zone_stat, vm_node_stat or _totalram_pages");
	assert_string_equal(r->modules_error, "kallsyms has no tainted_mask; the module list is "
					      "not described by kallsyms/BTF");
	assert_non_null(strstr(text, "Tasks (0)\n  (the kernel's BTF lacks a task_struct member "
				     "analyze needs)\n"));
	analyze_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_kallsyms),
		cmocka_unit_test(test_tables_missing),
		cmocka_unit_test(test_btf_truncated),
		cmocka_unit_test(test_btf_without_kernel_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
