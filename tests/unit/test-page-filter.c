// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page filtering on synthetic machines laid out as 6.1 and 6.12 kernels lay
 * out theirs: every rule once (free blocks of several orders, page cache
 * with and without private data, swap cache, anonymous and KSM pages, THPs
 * of both kinds, hugetlb, slab, offline, poisoned), at every level, with
 * runs cut at awkward places and classified in any order; the fallbacks
 * when VMCOREINFO is missing, garbled or incomplete; several threads.
 */
#include "dump.h"
#include "page-filter.h"
#include "page-synth.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define NONE 0xff
#define RAM2_FIRST ((PSYNTH_HOLE_SECTION + 1) * PSYNTH_SECTION_PAGES)

/* What each pfn should be at a level: its class, or NONE. */
struct expect {
	uint8_t cls[PSYNTH_PAGES];
};

struct scenario {
	struct psynth *ps;
	/* pfns left out at level 31 and the class each goes under */
	uint8_t at31[PSYNTH_PAGES];
	bool unreadable[PSYNTH_PAGES];
};

static void mark(struct scenario *s, uint64_t pfn, uint64_t n, enum page_filter_class c)
{
	for (uint64_t i = 0; i < n; i++)
		s->at31[pfn + i] = c;
}

static struct scenario *scenario_new(const struct psynth_spec *spec, bool gigantic)
{
	struct scenario *s = calloc(1, sizeof(*s));
	struct psynth *ps;

	assert_non_null(s);
	memset(s->at31, NONE, sizeof(s->at31));
	s->ps = ps = psynth_new(spec);

	psynth_buddy(ps, 8, 3);
	mark(s, 8, 8, PAGE_CLASS_FREE);
	psynth_buddy(ps, 20, 0);
	mark(s, 20, 1, PAGE_CLASS_FREE);
	psynth_buddy_raw(ps, 30, 11); /* no such order: kept */
	for (uint64_t p = 40; p < 50; p++)
		psynth_cache(ps, p, false);
	mark(s, 40, 10, PAGE_CLASS_CACHE);
	for (uint64_t p = 50; p < 55; p++)
		psynth_cache(ps, p, true);
	mark(s, 50, 5, PAGE_CLASS_CACHE_PRIVATE);
	psynth_swapcache(ps, 55, true);
	mark(s, 55, 1, PAGE_CLASS_CACHE);
	psynth_swapcache(ps, 56, false); /* PG_swapcache alone is another flag's alias */
	for (uint64_t p = 60; p < 64; p++)
		psynth_anon(ps, p);
	mark(s, 60, 4, PAGE_CLASS_USER);
	psynth_ksm(ps, 64);
	mark(s, 64, 1, PAGE_CLASS_USER);
	psynth_slab(ps, 70);
	psynth_offline(ps, 80);
	mark(s, 80, 1, PAGE_CLASS_OFFLINE);
	psynth_hwpoison(ps, 81);
	mark(s, 81, 1, PAGE_CLASS_HWPOISON);
	psynth_thp(ps, 96, 5, PSYNTH_CACHE);
	mark(s, 96, 32, PAGE_CLASS_CACHE);
	psynth_thp(ps, 128, 4, PSYNTH_CACHE_PRIVATE);
	mark(s, 128, 16, PAGE_CLASS_CACHE_PRIVATE);
	psynth_thp(ps, 512, 9, PSYNTH_ANON);
	mark(s, 512, 512, PAGE_CLASS_USER);
	/* the largest order fills section 1 */
	psynth_buddy(ps, 1024, 10);
	mark(s, 1024, 1024, PAGE_CLASS_FREE);
	if (gigantic) {
		/* a hugetlb page over two sections, whose memory maps may lie apart */
		psynth_hugetlb(ps, 4096, 11);
		mark(s, 4096, 2048, PAGE_CLASS_HUGETLB);
	} else {
		psynth_hugetlb(ps, RAM2_FIRST, 9);
		mark(s, RAM2_FIRST, 512, PAGE_CLASS_HUGETLB);
		psynth_buddy(ps, RAM2_FIRST + 512, 9);
		mark(s, RAM2_FIRST + 512, 512, PAGE_CLASS_FREE);
		psynth_buddy(ps, 4352, 8);
		mark(s, 4352, 256, PAGE_CLASS_FREE);
		psynth_anon(ps, 4100);
		psynth_buddy(ps, 4608, 2);
		mark(s, 4608, 4, PAGE_CLASS_FREE);
	}
	if (spec->kernel == PSYNTH_6_12 && !gigantic) {
		/* 6.12: a type may use the low 24 bits; only the top byte says buddy */
		psynth_buddy_low_bits(ps, 4616, 3, 0x123);
		mark(s, 4616, 8, PAGE_CLASS_FREE);
	}
	if (spec->memmap == PSYNTH_VMEMMAP_4K) {
		/* their struct pages cannot be read: kept, and counted */
		for (uint64_t p = PSYNTH_UNMAPPED_FIRST;
		     p < PSYNTH_UNMAPPED_FIRST + PSYNTH_UNMAPPED_PAGES; p++) {
			s->unreadable[p] = true;
			s->at31[p] = NONE;
		}
		psynth_anon(ps, 4100); /* outside the hole: still found */
	}
	if (!gigantic)
		mark(s, 4100, 1, PAGE_CLASS_USER);
	return s;
}

static void scenario_free(struct scenario *s)
{
	psynth_free(s->ps);
	free(s);
}

static bool class_in_level(enum page_filter_class c, int level)
{
	switch (c) {
	case PAGE_CLASS_CACHE:
		return level & (PAGE_FILTER_CACHE | PAGE_FILTER_CACHE_PRIVATE);
	case PAGE_CLASS_CACHE_PRIVATE:
		return level & PAGE_FILTER_CACHE_PRIVATE;
	case PAGE_CLASS_USER:
	case PAGE_CLASS_HUGETLB:
		return level & PAGE_FILTER_USER;
	case PAGE_CLASS_FREE:
		return level & PAGE_FILTER_FREE;
	default:
		return true; /* poisoned and offline: every level */
	}
}

static struct dump *open_path(const char *path)
{
	struct dump *d = NULL;

	assert_int_equal(dump_open(path, &d), 0);
	return d;
}

static bool is_ram(uint64_t pfn)
{
	return pfn >> PSYNTH_SECTION_SHIFT != PSYNTH_HOLE_SECTION;
}

enum order {
	IN_ORDER,
	REVERSED,
	SCATTERED,
};

/* Classifies the RAM pfns in calls of step pfns taken in the given order. */
static void classify_all(struct page_filter_ctx *c, size_t step, enum order order, uint8_t *got,
			 struct page_filter_counts *counts)
{
	const uint64_t ranges[2][2] = { { 0, PSYNTH_HOLE_SECTION * PSYNTH_SECTION_PAGES },
					{ RAM2_FIRST, PSYNTH_PAGES } };
	uint64_t starts[PSYNTH_PAGES];
	size_t n = 0;
	uint64_t bits[PSYNTH_PAGES / 64 + 1];

	for (size_t r = 0; r < 2; r++)
		for (uint64_t p = ranges[r][0]; p < ranges[r][1]; p += step)
			starts[n++] = p;
	memset(got, NONE, PSYNTH_PAGES);
	for (size_t k = 0; k < n; k++) {
		/* scattered: a stride coprime with the number of calls */
		size_t i = order == IN_ORDER ? k : order == REVERSED ? n - 1 - k : (k * 7919) % n;
		uint64_t start = starts[i],
			 end = is_ram(start) && start < RAM2_FIRST ? ranges[0][1] : ranges[1][1];
		size_t m = MIN(step, end - start);
		struct page_filter_counts one = {};

		assert_int_equal(page_filter_classify(c, start, m, bits, &one), 0);
		for (size_t j = 0; j < m; j++)
			if (bits[j / 64] >> (j % 64) & 1)
				got[start + j] = 1; /* the class is checked through the counts */
		page_filter_counts_add(counts, &one);
	}
}

static void check_level(struct scenario *s, const char *path, int level, size_t step,
			enum order order)
{
	struct dump *d = open_path(path);
	struct page_filter *f = NULL;
	struct page_filter_ctx *c = NULL;
	struct page_filter_counts counts = {}, want = {};
	const char *why = (const char *)1;
	uint8_t got[PSYNTH_PAGES];

	assert_int_equal(page_filter_new(d, level, &f, &why), 0);
	assert_null(why);
	assert_int_equal(page_filter_level(f), level);
	assert_true(page_filter_active(f));
	assert_int_equal(page_filter_ctx_new(f, d, &c), 0);
	classify_all(c, step, order, got, &counts);

	for (uint64_t p = 0; p < PSYNTH_PAGES; p++) {
		bool out = s->at31[p] != NONE && class_in_level(s->at31[p], level) && is_ram(p);

		if (out)
			want.pages[s->at31[p]]++;
		want.unreadable += s->unreadable[p];
		if ((got[p] != NONE) != out)
			fail_msg("level %d, step %zu, order %d: pfn %zu %s, expected %s", level,
				 step, order, (size_t)p, got[p] != NONE ? "left out" : "kept",
				 out ? page_filter_class_to_string(s->at31[p]) : "kept");
	}
	for (int k = 0; k < _PAGE_CLASS_MAX; k++)
		if (counts.pages[k] != want.pages[k])
			fail_msg("level %d, step %zu, order %d: %s %zu, expected %zu", level, step,
				 order, page_filter_class_to_string(k), (size_t)counts.pages[k],
				 (size_t)want.pages[k]);
	assert_int_equal(counts.unreadable, want.unreadable);
	assert_int_equal(page_filter_counts_total(&counts), page_filter_counts_total(&want));

	page_filter_ctx_free(c);
	page_filter_free(f);
	dump_free(d);
}

static void check_scenario(const struct psynth_spec *spec, bool gigantic)
{
	static const int levels[] = { 0, 1, 2, 4, 6, 8, 16, 31 };
	/* whole ranges; cuts inside free blocks and THPs; tiny runs */
	static const size_t steps[] = { PSYNTH_PAGES, 1000, 333, 7 };
	struct scenario *s = scenario_new(spec, gigantic);
	_cleanup_free_ char *path = psynth_write(s->ps);

	for (size_t l = 0; l < ELEMENTSOF(levels); l++)
		check_level(s, path, levels[l], PSYNTH_PAGES, IN_ORDER);
	for (size_t i = 0; i < ELEMENTSOF(steps); i++)
		for (enum order o = IN_ORDER; o <= SCATTERED; o++) {
			check_level(s, path, 31, steps[i], o);
			check_level(s, path, 8, steps[i], o);
		}
	unlink(path);
	scenario_free(s);
}

static void test_rules_6_1(void **state)
{
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_1 }, false);
}

static void test_rules_6_12(void **state)
{
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_12 }, false);
}

/* The versions between: the order and hugetlb found the way each exports them. */
static void test_rules_6_3_and_6_8(void **state)
{
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_3 }, false);
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_8, .flat = true }, false);
}

static void test_unreadable_memmap(void **state)
{
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_12, .memmap = PSYNTH_VMEMMAP_4K },
		       false);
}

static void test_gigantic_classic(void **state)
{
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_1,
					      .memmap = PSYNTH_CLASSIC,
					      .flat = true },
		       true);
	check_scenario(&(struct psynth_spec){ .kernel = PSYNTH_6_12, .memmap = PSYNTH_VMEMMAP_2M },
		       true);
}

static bool drops(const struct psynth_spec *spec, const char *key)
{
	for (const char *const *k = spec->vmcoreinfo_drop; k && *k; k++)
		if (streq(*k, key))
			return true;
	return false;
}

/* The filter a spec gives at level, and its reason. */
static void expect_filter(const struct psynth_spec *spec, int level, int level_applied, bool active,
			  const char *why_expected)
{
	struct scenario *s = scenario_new(spec, false);
	_cleanup_free_ char *path = psynth_write(s->ps);
	struct dump *d = open_path(path);
	struct page_filter *f = NULL;
	struct page_filter_ctx *c = NULL;
	struct page_filter_counts counts = {};
	const char *why = NULL;
	uint64_t bits[PSYNTH_PAGES / 64 + 1];

	assert_int_equal(page_filter_new(d, level, &f, &why), 0);
	if (why_expected) {
		assert_non_null(why);
		assert_string_equal(why, why_expected);
	} else
		assert_null(why);
	assert_int_equal(page_filter_level(f), level_applied);
	assert_int_equal(page_filter_active(f), active);

	assert_int_equal(page_filter_ctx_new(f, d, &c), 0);
	memset(bits, 0xff, sizeof(bits));
	assert_int_equal(page_filter_classify(c, 0, PSYNTH_HOLE_SECTION * PSYNTH_SECTION_PAGES,
					      bits, &counts),
			 0);
	if (!active) {
		/* a fallback leaves everything in: the caller's zero pages are all it does */
		for (size_t i = 0; i < 2 * PSYNTH_SECTION_PAGES / 64; i++)
			assert_true(bits[i] == 0);
		assert_int_equal(page_filter_counts_total(&counts), 0);
	} else {
		/* offline pages go at every level, when _mapcount can be read */
		assert_true(counts.pages[PAGE_CLASS_OFFLINE] ==
			    !drops(spec, "OFFSET(page._mapcount)"));
		assert_true(counts.pages[PAGE_CLASS_HWPOISON] == 1);
		assert_true(counts.pages[PAGE_CLASS_FREE] ==
			    (level_applied & PAGE_FILTER_FREE ? 8 + 1 + 1024 : 0));
		assert_true(counts.pages[PAGE_CLASS_USER] ==
			    (level_applied & PAGE_FILTER_USER ? 5 + 512 : 0));
	}
	page_filter_ctx_free(c);
	page_filter_free(f);
	dump_free(d);
	unlink(path);
	scenario_free(s);
}

static void test_fallback(void **state)
{
	static const char *const no_buddy[] = { "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", NULL };
	static const char *const no_lru[] = { "NUMBER(PG_lru)", NULL };
	static const char *const no_private[] = { "NUMBER(PG_private)", NULL };
	static const char *const no_flags[] = { "OFFSET(page.flags)", NULL };
	static const char *const no_mapcount[] = { "OFFSET(page._mapcount)", NULL };
	static const char *const no_symbol[] = { "SYMBOL(mem_section)", NULL };

	expect_filter(&(struct psynth_spec){ .no_vmcoreinfo = true }, 31, 1, false,
		      "the dump has no VMCOREINFO");
	expect_filter(&(struct psynth_spec){ .no_vmcoreinfo = true }, 30, 0, false,
		      "the dump has no VMCOREINFO");
	/* nothing asked for is lost at levels 0 and 1: no reason to give */
	expect_filter(&(struct psynth_spec){ .no_vmcoreinfo = true }, 1, 1, false, NULL);
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_symbol }, 0, 0, false, NULL);
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_symbol }, 31, 1, false,
		      "VMCOREINFO has no SYMBOL(mem_section) (not a SPARSEMEM kernel?)");
	/* garbled: the numbers are there, and wrong */
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_prepend =
						     "SYMBOL(mem_section)=ffffc90000000000\n" },
		      31, 1, false, "cannot read mem_section at SYMBOL(mem_section)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_prepend = "SIZE(page)=sixty-four\n" }, 31,
		      1, false, "VMCOREINFO has no plausible SIZE(page)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_flags }, 31, 1, false,
		      "VMCOREINFO has no OFFSET(page.flags)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_prepend = "OFFSET(page.flags)=60\n" }, 31,
		      1, false, "VMCOREINFO: OFFSET(page.flags) is implausible");
	/* the struct pages are where VMCOREINFO says, but no page of them can be read */
	expect_filter(&(struct psynth_spec){ .memmap_unmapped = true }, 31, 1, false,
		      "no struct page of the dump's memory can be read (memory map not mapped?)");

	/* partly: the rules whose numbers are missing are dropped, the others stay */
	expect_filter(&(struct psynth_spec){ .kernel = PSYNTH_6_12, .vmcoreinfo_drop = no_buddy },
		      31, 15, true, "VMCOREINFO has no NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_mapcount }, 24, 8, true,
		      "VMCOREINFO has no OFFSET(page._mapcount) or OFFSET(page.private)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_lru }, 31, 25, true,
		      "VMCOREINFO has no NUMBER(PG_lru)");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_prepend = "NUMBER(PG_lru)=64\n" }, 31, 25,
		      true, "VMCOREINFO: PG_lru is implausible");
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_private }, 2, 0, true,
		      "VMCOREINFO has no NUMBER(PG_private)");
	/* level 4 needs no PG_private: all page cache goes */
	expect_filter(&(struct psynth_spec){ .vmcoreinfo_drop = no_private }, 6, 6, true, NULL);
	expect_filter(&(struct psynth_spec){ .kernel = PSYNTH_6_12 }, 31, 31, true, NULL);
}

static void test_bad_level(void **state)
{
	struct psynth *ps = psynth_new(&(struct psynth_spec){});
	_cleanup_free_ char *path = psynth_write(ps);
	struct dump *d = open_path(path);
	struct page_filter *f = NULL;
	const char *why = NULL;

	assert_int_equal(page_filter_new(d, 32, &f, &why), -EINVAL);
	assert_int_equal(page_filter_new(d, -1, &f, &why), -EINVAL);
	assert_null(f);
	dump_free(d);
	unlink(path);
	psynth_free(ps);
}

static void test_bitmap_words(void **state)
{
	struct scenario *s = scenario_new(&(struct psynth_spec){ .kernel = PSYNTH_6_1 }, false);
	_cleanup_free_ char *path = psynth_write(s->ps);
	struct dump *d = open_path(path);
	struct page_filter *f = NULL;
	struct page_filter_ctx *c = NULL;
	const char *why = NULL;
	uint64_t bits[3];

	assert_int_equal(page_filter_new(d, 16, &f, &why), 0);
	assert_int_equal(page_filter_ctx_new(f, d, &c), 0);
	/* 70 pfns from 2: words 0 and 1 are written, word 2 is not the callee's */
	memset(bits, 0xaa, sizeof(bits));
	assert_int_equal(page_filter_classify(c, 2, 70, bits, NULL), 0);
	/* pfns 8..15 and 20 are free: bits 6..13 and 18 */
	assert_true(bits[0] == (0x3fc0ULL | 1ULL << 18));
	assert_true(bits[1] == 0);
	assert_true(bits[2] == 0xaaaaaaaaaaaaaaaaULL);
	/* a run inside a free block, not continuing the last call: found by looking back */
	assert_int_equal(page_filter_classify(c, 1500, 3, bits, NULL), 0);
	assert_true(bits[0] == 7);
	assert_int_equal(page_filter_classify(c, 2047, 2, bits, NULL), 0);
	assert_true(bits[0] == 1);
	assert_int_equal(page_filter_classify(c, 0, 0, bits, NULL), 0);

	page_filter_ctx_free(c);
	page_filter_free(f);
	dump_free(d);
	unlink(path);
	scenario_free(s);
}

static void test_counts(void **state)
{
	struct page_filter_counts a = { .pages = { 1, 2, 3, 4, 5, 6, 7 }, .unreadable = 8 }, b = a;
	static const char *const names[] = { "cache", "cache_private", "user",	 "hugetlb",
					     "free",  "hwpoison",      "offline" };

	page_filter_counts_add(&a, &b);
	assert_int_equal(page_filter_counts_total(&a), 56);
	assert_int_equal(a.unreadable, 16);
	for (int k = 0; k < _PAGE_CLASS_MAX; k++)
		assert_string_equal(page_filter_class_to_string(k), names[k]);
	assert_null(page_filter_class_to_string(_PAGE_CLASS_MAX));
	assert_null(page_filter_class_to_string(-1));
}

/* Threads, each with its own dump handle and context, over interleaved windows. */
struct worker {
	const struct page_filter *f;
	const char *path;
	unsigned index, n_threads;
	uint8_t got[PSYNTH_PAGES];
	struct page_filter_counts counts;
	int r;
};

#define WINDOW 256

static void *work(void *arg)
{
	struct worker *w = arg;
	struct dump *d = NULL;
	struct page_filter_ctx *c = NULL;
	uint64_t bits[WINDOW / 64];

	w->r = dump_open(w->path, &d);
	if (w->r >= 0)
		w->r = page_filter_ctx_new(w->f, d, &c);
	for (uint64_t p = (uint64_t)w->index * WINDOW; w->r >= 0 && p < PSYNTH_PAGES;
	     p += (uint64_t)w->n_threads * WINDOW) {
		if (!is_ram(p))
			continue;
		w->r = page_filter_classify(c, p, WINDOW, bits, &w->counts);
		for (size_t j = 0; j < WINDOW; j++)
			w->got[p + j] = bits[j / 64] >> (j % 64) & 1;
	}
	page_filter_ctx_free(c);
	dump_free(d);
	return NULL;
}

static void test_threads(void **state)
{
	struct scenario *s = scenario_new(&(struct psynth_spec){ .kernel = PSYNTH_6_12 }, false);
	_cleanup_free_ char *path = psynth_write(s->ps);
	struct dump *d = open_path(path);
	struct page_filter *f = NULL;
	const char *why = NULL;
	struct worker w[3] = {};
	pthread_t t[3];
	struct page_filter_counts sum = {};

	assert_int_equal(page_filter_new(d, 31, &f, &why), 0);
	for (unsigned i = 0; i < 3; i++) {
		w[i] = (struct worker){ .f = f, .path = path, .index = i, .n_threads = 3 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].r, 0);
		page_filter_counts_add(&sum, &w[i].counts);
	}
	for (uint64_t p = 0; p < PSYNTH_PAGES; p++) {
		unsigned owner = (p / WINDOW) % 3;

		assert_int_equal(w[owner].got[p], s->at31[p] != NONE && is_ram(p));
	}
	assert_int_equal(sum.pages[PAGE_CLASS_FREE], 8 + 1 + 1024 + 512 + 256 + 4 + 8);
	assert_int_equal(sum.pages[PAGE_CLASS_USER], 5 + 512 + 1);
	assert_int_equal(sum.pages[PAGE_CLASS_HUGETLB], 512);
	page_filter_free(f);
	dump_free(d);
	unlink(path);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_6_1),
		cmocka_unit_test(test_rules_6_12),
		cmocka_unit_test(test_rules_6_3_and_6_8),
		cmocka_unit_test(test_unreadable_memmap),
		cmocka_unit_test(test_gigantic_classic),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_bad_level),
		cmocka_unit_test(test_bitmap_words),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
