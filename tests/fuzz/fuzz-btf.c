// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target for BTF extraction (lib/btf-dump.c): the bytes between
 * __start_BTF and __stop_BTF come from a dead kernel's memory. They go
 * through our header check and libbpf, then the member-path resolver runs
 * over what came out.
 *
 * With -DCRASHCAP_LIBFUZZER, libFuzzer drives LLVMFuzzerTestOneInput.
 * Without, main() runs it over the files named on the command line and
 * over the sample BTF of tests/unit/btf-build.c: every prefix and
 * single-byte changes of it.
 */
#include <assert.h>

#include "btf-dump.h"
#include "tests/unit/btf-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"task_struct.comm",	  "task_struct.comm[3]",
		"task_struct.tasks.next", "task_struct.rss_stat[1].count[2]",
		"task_t.flag_b",	  "fwd_only.val",
		"list_head.prev",	  "task_struct.x",
	};
	struct kbtf *b = NULL;
	struct kbtf_member m;
	uint64_t v;
	int64_t e;

	if (kbtf_from_bytes(data, size, &b) < 0) {
		assert(!b);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		if (kbtf_member(b, paths[i], &m) >= 0)
			assert(m.bit_size == 0 || (m.bit_offset < 8 && m.size <= 9));
		(void)kbtf_array_len(b, paths[i], &v);
	}
	(void)kbtf_type_size(b, "task_struct", &v);
	(void)kbtf_enum_value(b, "NR_FREE_PAGES", &e);
	kbtf_free(b);
	return 0;
}

#ifndef CRASHCAP_LIBFUZZER
int main(int argc, char **argv)
{
	_cleanup_free_ uint8_t *s = NULL;
	unsigned n = 0;
	size_t size;

	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		int r = read_full_file(argv[i], 64 << 20, &data, &size);

		if (r < 0) {
			fprintf(stderr, "fuzz-btf: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, size);
		n++;
	}
	if (btf_build_sample((void **)&s, &size) < 0)
		return 1;
	LLVMFuzzerTestOneInput(s, size);
	for (size_t len = 0; len < size; len++)
		LLVMFuzzerTestOneInput(s, len);
	for (size_t i = 0; i < size; i++)
		for (unsigned v = 1; v < 256; v <<= 1) {
			uint8_t saved = s[i];

			s[i] = saved ^ v;
			LLVMFuzzerTestOneInput(s, size);
			s[i] = saved;
		}
	printf("fuzz-btf: %u inputs and the sample BTF's variants, no crash\n", n);
	return 0;
}
#endif
