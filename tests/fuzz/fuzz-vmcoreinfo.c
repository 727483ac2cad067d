// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target for the VMCOREINFO reader (lib/vmcoreinfo.c) and what reads
 * its numbers: the page-classification rules (lib/page-class.c). The text
 * comes from the dead kernel's memory, so any bytes must parse or fail
 * cleanly, and any numbers that load must classify any struct page bytes
 * without reading outside them.
 *
 * Input: the VMCOREINFO text; its first bytes double as struct page bytes.
 *
 * With -DCRASHCAP_LIBFUZZER, libFuzzer drives LLVMFuzzerTestOneInput.
 * Without, main() runs it over the files named on the command line, every
 * prefix of each, every line of each left out once, and every byte of the
 * first 4 KiB changed to a few values; --quick takes fewer (for make check).
 */
#include <assert.h>

#include "page-class.h"
#include "vmcoreinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"OSRELEASE",
	"PAGESIZE",
	"SYMBOL(mem_section)",
	"LENGTH(mem_section)",
	"SIZE(mem_section)",
	"OFFSET(mem_section.section_mem_map)",
	"NUMBER(SECTION_SIZE_BITS)",
	"NUMBER(MAX_PHYSMEM_BITS)",
	"SIZE(page)",
	"OFFSET(page.flags)",
	"OFFSET(page._mapcount)",
	"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)",
	"CRASHTIME",
};

static void exercise(const struct vmcoreinfo *vi, const uint8_t *data, size_t size)
{
	static const int levels[] = { 0, 1, 2, 4, 8, 16, 31 };
	uint8_t page[1024] = {};
	uint64_t u;
	int64_t n;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const char *v = vmcoreinfo_get(vi, keys[i]);

		assert(!v || strlen(v) < size + 1);
	}
	(void)vmcoreinfo_osrelease(vi);
	(void)vmcoreinfo_symbol(vi, "mem_section", &u);
	(void)vmcoreinfo_size(vi, "page", &u);
	(void)vmcoreinfo_offset(vi, "page.flags", &u);
	(void)vmcoreinfo_length(vi, "zone.free_area", &u);
	(void)vmcoreinfo_number(vi, "PAGE_BUDDY_MAPCOUNT_VALUE", &n);

	/* struct page bytes: the input again, so that the fuzzer steers both */
	memcpy(page, data, MIN(size, sizeof(page)));
	for (size_t l = 0; l < ELEMENTSOF(levels); l++) {
		struct page_rules r;
		const char *why = NULL;
		int level = -1;

		if (page_rules_load(vi, levels[l], &r, &level, &why) < 0) {
			assert(why && *why);
			continue;
		}
		assert(level >= 0 && (level & ~levels[l]) == 0);
		assert(level == levels[l] || (why && *why));
		assert(r.size >= 32 && r.size <= 512);
		for (uint64_t pfn = 0; pfn < 4; pfn++) {
			struct page_view v;
			enum page_filter_class cls;
			uint64_t nr, cnr;

			page_view_read(&r, page + pfn * 8, &v);
			if (page_classify(&r, level, pfn << 9, &v, page + r.size, &cls, &nr,
					  &cnr)) {
				assert(cls >= 0 && cls < _PAGE_CLASS_MAX);
				assert(nr >= 1);
			}
			(void)page_classify(&r, level, pfn, &v, NULL, &cls, &nr, &cnr);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmcoreinfo *vi = NULL;

	if (vmcoreinfo_parse((const char *)data, size, &vi) < 0)
		return 0;
	exercise(vi, data, size);
	vmcoreinfo_free(vi);
	return 0;
}

#ifndef CRASHCAP_LIBFUZZER
static void variants(const uint8_t *data, size_t size, bool quick)
{
	static const uint8_t values[] = { 0, '\n', '=', '(', ')', '-', '9', 'x', 0xff };
	_cleanup_free_ uint8_t *copy = malloc(size + 1);

	assert(copy);
	LLVMFuzzerTestOneInput(data, size);
	for (size_t len = 0; len < size; len += quick ? 17 : 1)
		LLVMFuzzerTestOneInput(data, len);
	/* each line left out once */
	for (size_t start = 0; start < size;) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;

		memcpy(copy, data, start);
		memcpy(copy + start, data + end, size - end);
		LLVMFuzzerTestOneInput(copy, size - (end - start));
		start = end;
	}
	for (size_t i = 0; i < size && i < 4096; i += quick ? 5 : 1)
		for (size_t k = 0; k < ELEMENTSOF(values); k += quick ? 3 : 1) {
			memcpy(copy, data, size);
			copy[i] = values[k];
			LLVMFuzzerTestOneInput(copy, size);
		}
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && streq(argv[1], "--quick");
	unsigned n = 0;

	for (int i = quick ? 2 : 1; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		size_t size;
		int r = read_full_file(argv[i], 1 << 20, &data, &size);

		if (r < 0) {
			fprintf(stderr, "fuzz-vmcoreinfo: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		variants((const uint8_t *)data, size, quick);
		n++;
	}
	printf("fuzz-vmcoreinfo: %u inputs and their variants, no crash\n", n);
	return 0;
}
#endif
