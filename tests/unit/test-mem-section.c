// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mem_section on synthetic machines: SPARSEMEM_EXTREME and flat, one
 * vmemmap (2 MiB or scattered 4 KiB pages with a hole) and a memory map per
 * section, a section without memory, and VMCOREINFO that lies.
 */
#include "dump.h"
#include "mem-section.h"
#include "page-synth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define HOLE_FIRST (PSYNTH_HOLE_SECTION * PSYNTH_SECTION_PAGES)

static struct dump *open_synth(struct psynth *ps)
{
	_cleanup_free_ char *path = psynth_write(ps);
	struct dump *d = NULL;

	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	return d;
}

static bool in_ram(uint64_t pfn)
{
	return pfn < PSYNTH_PAGES && pfn >> PSYNTH_SECTION_SHIFT != PSYNTH_HOLE_SECTION;
}

static bool in_ram_mapped(uint64_t pfn)
{
	return in_ram(pfn) && (pfn < PSYNTH_UNMAPPED_FIRST ||
			       pfn >= PSYNTH_UNMAPPED_FIRST + PSYNTH_UNMAPPED_PAGES);
}

/* Every struct page carries its pfn in _refcount, so reads can be checked. */
static void stamp(struct psynth *ps, bool (*mapped)(uint64_t))
{
	for (uint64_t pfn = 0; pfn < PSYNTH_PAGES; pfn++)
		if (mapped(pfn)) {
			uint32_t v = (uint32_t)pfn + 1;

			memcpy(psynth_page(ps, pfn) + 52, &v, 4);
		}
}

static void check_read(struct dump *d, struct mem_sections *ms, uint64_t pfn, size_t n,
		       bool (*expect_ok)(uint64_t))
{
	_cleanup_free_ uint8_t *buf = malloc(n * 64);
	_cleanup_free_ bool *ok = malloc(n * sizeof(bool));
	size_t want = 0;

	assert_non_null(buf);
	assert_non_null(ok);
	for (size_t i = 0; i < n; i++)
		want += expect_ok(pfn + i);
	assert_int_equal(mem_sections_read(d, ms, pfn, n, buf, ok), want);
	for (size_t i = 0; i < n; i++) {
		uint32_t v;

		memcpy(&v, buf + i * 64 + 52, 4);
		if (ok[i] != expect_ok(pfn + i))
			fail_msg("pfn %zu: read %d, expected %d", (size_t)(pfn + i), ok[i],
				 expect_ok(pfn + i));
		assert_int_equal(v, ok[i] ? (uint32_t)(pfn + i) + 1 : 0);
	}
}

static void check_layout(const struct psynth_spec *spec)
{
	struct psynth *ps = psynth_new(spec);
	struct dump *d;
	struct mem_sections *ms = NULL;
	const char *why = NULL;
	uint64_t addr, pfn, base;

	stamp(ps, spec->memmap == PSYNTH_VMEMMAP_4K ? in_ram_mapped : in_ram);
	d = open_synth(ps);
	assert_int_equal(mem_sections_load(d, &ms, &why), 0);
	assert_int_equal(mem_sections_present(ms), PSYNTH_SECTIONS - 1);
	assert_int_equal(mem_sections_pages_per_section(ms), PSYNTH_SECTION_PAGES);
	assert_int_equal(mem_sections_page_size(ms), 64);
	assert_int_equal(mem_sections_linear(ms, &base), spec->memmap != PSYNTH_CLASSIC);
	if (spec->memmap != PSYNTH_CLASSIC)
		assert_true(base == PSYNTH_VMEMMAP);

	for (uint64_t p = 0; p < PSYNTH_PAGES; p += 37) {
		if (!in_ram(p)) {
			assert_int_equal(mem_sections_page_addr(ms, p, &addr), -ENOENT);
			continue;
		}
		assert_int_equal(mem_sections_page_addr(ms, p, &addr), 0);
		assert_true(addr == psynth_page_vaddr(ps, p));
		assert_int_equal(mem_sections_addr_to_pfn(ms, addr, p, &pfn), 0);
		assert_int_equal(pfn, p);
	}
	assert_int_equal(mem_sections_page_addr(ms, PSYNTH_PAGES, &addr), -ENOENT);
	/* a pointer into the middle of a struct page is none */
	assert_int_equal(mem_sections_addr_to_pfn(ms, psynth_page_vaddr(ps, 5) + 8, 5, &pfn),
			 -ENOENT);
	/* a head in a lower section than the tail (a gigantic page) */
	assert_int_equal(mem_sections_addr_to_pfn(ms, psynth_page_vaddr(ps, 3072), 4500, &pfn), 0);
	assert_int_equal(pfn, 3072);

	/* runs across section boundaries, the hole and the end */
	check_read(d, ms, 0, PSYNTH_PAGES,
		   spec->memmap == PSYNTH_VMEMMAP_4K ? in_ram_mapped : in_ram);
	check_read(d, ms, 1000, 100, in_ram);
	check_read(d, ms, HOLE_FIRST - 10, PSYNTH_SECTION_PAGES + 20, in_ram);
	check_read(d, ms, PSYNTH_PAGES - 3, 10, in_ram);
	if (spec->memmap == PSYNTH_VMEMMAP_4K)
		check_read(d, ms, PSYNTH_UNMAPPED_FIRST - 5, 200, in_ram_mapped);

	mem_sections_free(ms);
	dump_free(d);
	psynth_free(ps);
}

static void test_extreme_vmemmap(void **state)
{
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_1 });
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_12 });
}

static void test_flat(void **state)
{
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_1, .flat = true });
	check_layout(&(struct psynth_spec){
		.kernel = PSYNTH_6_12, .flat = true, .memmap = PSYNTH_CLASSIC });
}

static void test_classic(void **state)
{
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_1, .memmap = PSYNTH_CLASSIC });
}

static void test_vmemmap_4k(void **state)
{
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_12, .memmap = PSYNTH_VMEMMAP_4K });
}

static void test_symbol_is_pointer(void **state)
{
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_1, .symbol_is_pointer = true });
}

static void test_far_ram(void **state)
{
	/* RAM far above the rest, in a section mem_section does not have: no harm */
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_12,
					    .extra_ram_start = 1ULL << 44,
					    .extra_ram_size = 1ULL << 30 });
}

static void test_length_missing(void **state)
{
	static const char *const drop[] = { "LENGTH(mem_section)", NULL };

	/* old kernels: no LENGTH means EXTREME */
	check_layout(&(struct psynth_spec){ .kernel = PSYNTH_6_1, .vmcoreinfo_drop = drop });
}

static void expect_failure(const struct psynth_spec *spec, int error, const char *why_expected)
{
	struct psynth *ps = psynth_new(spec);
	struct dump *d = open_synth(ps);
	struct mem_sections *ms = NULL;
	const char *why = NULL;

	assert_int_equal(mem_sections_load(d, &ms, &why), error);
	assert_null(ms);
	assert_non_null(why);
	assert_string_equal(why, why_expected);
	dump_free(d);
	psynth_free(ps);
}

static void test_bad_vmcoreinfo(void **state)
{
	static const char *const no_symbol[] = { "SYMBOL(mem_section)", NULL };
	static const char *const no_size[] = { "SIZE(mem_section)", NULL };
	static const char *const no_page[] = { "SIZE(page)", NULL };

	expect_failure(&(struct psynth_spec){ .no_vmcoreinfo = true }, -ENOENT,
		       "the dump has no VMCOREINFO");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_drop = no_symbol }, -ENOENT,
		       "VMCOREINFO has no SYMBOL(mem_section) (not a SPARSEMEM kernel?)");
	expect_failure(
		&(struct psynth_spec){ .vmcoreinfo_drop = no_size }, -ENOENT,
		"VMCOREINFO has no SIZE(mem_section) or OFFSET(mem_section.section_mem_map)");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_drop = no_page }, -ENOENT,
		       "VMCOREINFO has no SIZE(page)");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend = "SIZE(mem_section)=5000\n" },
		       -EINVAL,
		       "VMCOREINFO: SIZE(mem_section), its offset or SIZE(page) is implausible");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend = "SIZE(page)=12\n" }, -EINVAL,
		       "VMCOREINFO: SIZE(mem_section), its offset or SIZE(page) is implausible");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend =
						      "NUMBER(SECTION_SIZE_BITS)=9\n" },
		       -EINVAL, "VMCOREINFO: SECTION_SIZE_BITS or MAX_PHYSMEM_BITS is implausible");
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend =
						      "NUMBER(MAX_PHYSMEM_BITS)=80\n" },
		       -EINVAL, "VMCOREINFO: SECTION_SIZE_BITS or MAX_PHYSMEM_BITS is implausible");
	/* nothing mapped there */
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend =
						      "SYMBOL(mem_section)=ffffc90000000000\n" },
		       -EIO, "cannot read mem_section at SYMBOL(mem_section)");
	/* a user-space address */
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend =
						      "SYMBOL(mem_section)=7f0000001000\n" },
		       -EIO, "cannot read mem_section at SYMBOL(mem_section)");
	/* RAM at 2^45 and 32 TiB more of it: more sections than anyone has */
	expect_failure(&(struct psynth_spec){ .extra_ram_start = 1ULL << 45,
					      .extra_ram_size = 1ULL << 45 },
		       -E2BIG, "the dump's memory is too large or too scattered for mem_section");
	/* readable, but all zeros: a page of the direct map nobody uses */
	expect_failure(&(struct psynth_spec){ .vmcoreinfo_prepend =
						      "SYMBOL(mem_section)=ffff888000003000\n" },
		       -ENODATA, "mem_section holds no present section with a memory map");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extreme_vmemmap),	  cmocka_unit_test(test_flat),
		cmocka_unit_test(test_classic),		  cmocka_unit_test(test_vmemmap_4k),
		cmocka_unit_test(test_symbol_is_pointer), cmocka_unit_test(test_length_missing),
		cmocka_unit_test(test_far_ram),		  cmocka_unit_test(test_bad_vmcoreinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
