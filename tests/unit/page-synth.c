// SPDX-License-Identifier: GPL-2.0-or-later
#include "page-synth.h"
#include "vmcore-synth.h"

#include <assert.h>
#include <inttypes.h>

#define PAGE 4096ULL
#define START_KERNEL_MAP 0xffffffff80000000ULL
#define STRUCT_PAGE 64ULL
#define META_FIRST_PFN (PSYNTH_META_SECTION * PSYNTH_SECTION_PAGES)
#define PTE_FLAGS 0x63ULL
#define PTE_PSE 0x80ULL
/* section_mem_map flags as a booted kernel leaves them: PRESENT, HAS_MEM_MAP, ONLINE, EARLY */
#define SECTION_FLAGS 0xfULL

/* struct page layout and numbers of the two kernels (their VMCOREINFO, measured) */
struct kernel_facts {
	const char *release;
	unsigned pg_lru, pg_private, pg_swapcache, pg_swapbacked, pg_hwpoison, pg_head;
	int pg_slab; /* -1: slab is a page type */
	int64_t buddy, offline, slab_type, hugetlb_type;
	unsigned ms_size;
};

static const struct kernel_facts facts_61 = {
	.release = "6.1.0-56-amd64",
	.pg_lru = 4,
	.pg_private = 13,
	.pg_swapcache = 10,
	.pg_swapbacked = 19,
	.pg_hwpoison = 23,
	.pg_head = 16,
	.pg_slab = 9,
	.buddy = -129,
	.offline = -257,
	.ms_size = 32,
};

/* the same numbers, as far as the rules care, with other exports */
static const struct kernel_facts facts_63 = {
	.release = "6.3.0-synth",
	.pg_lru = 4,
	.pg_private = 13,
	.pg_swapcache = 10,
	.pg_swapbacked = 19,
	.pg_hwpoison = 23,
	.pg_head = 16,
	.pg_slab = 9,
	.buddy = -129,
	.offline = -257,
	.ms_size = 32,
};

static const struct kernel_facts facts_68 = {
	.release = "6.8.0-synth",
	.pg_lru = 4,
	.pg_private = 13,
	.pg_swapcache = 10,
	.pg_swapbacked = 19,
	.pg_hwpoison = 23,
	.pg_head = 16,
	.pg_slab = 9,
	.buddy = -129,
	.offline = -257,
	.ms_size = 32,
};

static const struct kernel_facts facts_612 = {
	.release = "6.12.95+deb12-amd64",
	.pg_lru = 5,
	.pg_private = 14,
	.pg_swapcache = 10,
	.pg_swapbacked = 17,
	.pg_hwpoison = 20,
	.pg_head = 6,
	.pg_slab = -1,
	.buddy = -268435456,
	.offline = -251658240,
	.slab_type = -184549376,
	.hugetlb_type = -201326592,
	.ms_size = 16,
};

/* struct page offsets, the same in both */
enum {
	OFF_FLAGS = 0,
	OFF_COMPOUND_HEAD = 8,
	OFF_DTOR = 16, /* 6.1, first tail page */
	OFF_ORDER = 17, /* 6.1, first tail page */
	OFF_MAPPING = 24,
	OFF_PRIVATE = 40,
	OFF_MAPCOUNT = 48,
	OFF_REFCOUNT = 52,
};

#define HUGETLB_PAGE_DTOR 2
/* 6.6 .. 6.8: a flag of the first tail page (above the order byte) */
#define PG_HUGETLB_68 15
#define ANON_VMA 0xffff888012340000ULL
#define ADDRESS_SPACE 0xffff888056780000ULL
#define KMEM_CACHE 0xffff88809abc0000ULL

struct psynth {
	struct psynth_spec spec;
	const struct kernel_facts *k;
	uint8_t *ram;
	uint64_t next_meta; /* bump allocator, physical */
	uint64_t top_pgt;
	uint64_t vmemmap_phys[PSYNTH_PAGES * STRUCT_PAGE / PAGE]; /* 0: unmapped */
	uint64_t memmap_phys[PSYNTH_SECTIONS]; /* classic */
	uint64_t mem_section_symbol;
	char *vmcoreinfo;
};

static uint64_t meta_alloc(struct psynth *ps, uint64_t pages)
{
	uint64_t p = ps->next_meta;

	ps->next_meta += pages * PAGE;
	assert(ps->next_meta <= PSYNTH_PAGES * PAGE);
	return p;
}

static uint64_t *table(struct psynth *ps, uint64_t paddr)
{
	return (uint64_t *)(ps->ram + paddr);
}

static void map(struct psynth *ps, uint64_t va, uint64_t pa, uint64_t size)
{
	uint64_t t = ps->top_pgt;
	int leaf = size == (2ULL << 20) ? 2 : 1;

	for (int level = 4; level > leaf; level--) {
		uint64_t *e = &table(ps, t)[(va >> (12 + 9 * (level - 1))) & 511];

		if (!(*e & 1))
			*e = meta_alloc(ps, 1) | PTE_FLAGS;
		t = *e & 0x000ffffffffff000ULL;
	}
	table(ps, t)[(va >> (12 + 9 * (leaf - 1))) & 511] = pa | PTE_FLAGS |
							    (leaf > 1 ? PTE_PSE : 0);
}

static bool section_present(unsigned s)
{
	return s != PSYNTH_HOLE_SECTION;
}

static uint64_t direct(uint64_t pa)
{
	return PSYNTH_PAGE_OFFSET + pa;
}

static void build_memmap(struct psynth *ps)
{
	uint64_t per_section = PSYNTH_SECTION_PAGES * STRUCT_PAGE / PAGE;

	if (ps->spec.memmap == PSYNTH_VMEMMAP_2M) {
		/* first, so that it gets the 2 MiB aligned start of the metadata section */
		uint64_t base = meta_alloc(ps, 512);

		assert(base % (2 << 20) == 0);
		ps->top_pgt = meta_alloc(ps, 1);
		map(ps, PSYNTH_VMEMMAP, base, 2 << 20);
		for (size_t i = 0; i < ELEMENTSOF(ps->vmemmap_phys); i++)
			ps->vmemmap_phys[i] = base + i * PAGE;
		return;
	}
	ps->top_pgt = meta_alloc(ps, 1);
	if (ps->spec.memmap == PSYNTH_CLASSIC) {
		for (unsigned s = 0; s < PSYNTH_SECTIONS; s++)
			if (section_present(s))
				ps->memmap_phys[s] = meta_alloc(ps, per_section);
		return;
	}
	/* backwards, so that no two neighbours are physically adjacent */
	for (unsigned s = PSYNTH_SECTIONS; s-- > 0;) {
		if (!section_present(s))
			continue;
		for (uint64_t i = per_section; i-- > 0;) {
			uint64_t idx = s * per_section + i;

			if (idx == PSYNTH_UNMAPPED_FIRST * STRUCT_PAGE / PAGE)
				continue;
			ps->vmemmap_phys[idx] = meta_alloc(ps, 2); /* a gap after each */
			map(ps, PSYNTH_VMEMMAP + idx * PAGE, ps->vmemmap_phys[idx], PAGE);
		}
	}
}

static uint64_t coded_mem_map(struct psynth *ps, unsigned s)
{
	uint64_t first = (uint64_t)s * PSYNTH_SECTION_PAGES;

	if (ps->spec.memmap == PSYNTH_CLASSIC)
		return direct(ps->memmap_phys[s]) - first * STRUCT_PAGE;
	return PSYNTH_VMEMMAP + (ps->spec.memmap_unmapped ? 1ULL << 40 : 0);
}

static void build_mem_section(struct psynth *ps)
{
	unsigned size = ps->k->ms_size;
	uint64_t array = meta_alloc(ps, 1), roots = 0, ptr;

	for (unsigned s = 0; s < PSYNTH_SECTIONS; s++) {
		uint64_t v = section_present(s) ? coded_mem_map(ps, s) | SECTION_FLAGS : 0;

		memcpy(ps->ram + array + s * size, &v, 8);
	}
	if (ps->spec.flat) {
		ps->mem_section_symbol = direct(array);
		return;
	}
	/* EXTREME: a root array whose first root is our page of sections */
	roots = meta_alloc(ps, 1);
	ptr = direct(array);
	memcpy(ps->ram + roots, &ptr, 8);
	ps->mem_section_symbol = direct(roots);
	if (ps->spec.symbol_is_pointer) {
		uint64_t p = meta_alloc(ps, 1);

		ptr = direct(roots);
		memcpy(ps->ram + p, &ptr, 8);
		ps->mem_section_symbol = direct(p);
	}
}

static bool dropped(const struct psynth *ps, const char *line)
{
	for (const char *const *k = ps->spec.vmcoreinfo_drop; k && *k; k++)
		if (startswith(line, *k) && line[strlen(*k)] == '=')
			return true;
	return false;
}

static void build_vmcoreinfo(struct psynth *ps)
{
	const struct kernel_facts *k = ps->k;
	enum psynth_kernel kernel = ps->spec.kernel;
	bool v612 = kernel == PSYNTH_6_12;
	/* NR_SECTION_ROOTS for MAX_PHYSMEM_BITS 46, SECTION_SIZE_BITS 22 */
	uint64_t nr_sections = 1ULL << (46 - 22);
	uint64_t length = ps->spec.flat ? nr_sections : nr_sections / (PAGE / k->ms_size);
	char *text = NULL, *out, *line, *save;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert(f);
	fprintf(f, "%s", ps->spec.vmcoreinfo_prepend ?: "");
	fprintf(f,
		"OSRELEASE=%s\nPAGESIZE=4096\n"
		"SYMBOL(mem_section)=%" PRIx64 "\nLENGTH(mem_section)=%" PRIu64 "\n"
		"SIZE(mem_section)=%u\nOFFSET(mem_section.section_mem_map)=0\n"
		"NUMBER(SECTION_SIZE_BITS)=22\nNUMBER(MAX_PHYSMEM_BITS)=46\n"
		"SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\n"
		"OFFSET(page.mapping)=24\nOFFSET(page.lru)=8\nOFFSET(page._mapcount)=48\n"
		"OFFSET(page.private)=40\n",
		k->release, ps->mem_section_symbol, length, k->ms_size);
	if (kernel == PSYNTH_6_1)
		fprintf(f, "OFFSET(page.compound_dtor)=16\nOFFSET(page.compound_order)=17\n");
	if (kernel == PSYNTH_6_3)
		fprintf(f, "OFFSET(folio._folio_dtor)=80\nOFFSET(folio._folio_order)=81\n");
	fprintf(f,
		"OFFSET(page.compound_head)=8\nLENGTH(zone.free_area)=11\n"
		"NUMBER(NR_FREE_PAGES)=0\nNUMBER(PG_lru)=%u\nNUMBER(PG_private)=%u\n"
		"NUMBER(PG_swapcache)=%u\nNUMBER(PG_swapbacked)=%u\n",
		k->pg_lru, k->pg_private, k->pg_swapcache, k->pg_swapbacked);
	if (v612)
		fprintf(f, "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=%" PRId64 "\n", k->slab_type);
	else
		fprintf(f, "NUMBER(PG_slab)=%d\n", k->pg_slab);
	fprintf(f,
		"NUMBER(PG_hwpoison)=%u\nNUMBER(PG_head_mask)=%llu\n"
		"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=%" PRId64 "\n",
		k->pg_hwpoison, 1ULL << k->pg_head, k->buddy);
	if (v612)
		fprintf(f, "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=%" PRId64 "\n", k->hugetlb_type);
	else if (kernel == PSYNTH_6_8)
		fprintf(f, "NUMBER(PG_hugetlb)=%d\n", PG_HUGETLB_68);
	else
		fprintf(f, "NUMBER(HUGETLB_PAGE_DTOR)=%d\n", HUGETLB_PAGE_DTOR);
	fprintf(f,
		"NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=%" PRId64 "\n"
		"NUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=%" PRIx64 "\n"
		"NUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\nNUMBER(sme_mask)=0\n",
		k->offline, (uint64_t)(START_KERNEL_MAP + ps->top_pgt));
	fclose(f);

	out = calloc(1, size + 1);
	assert(out);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!dropped(ps, line))
			strcat(strcat(out, line), "\n");
	free(text);
	ps->vmcoreinfo = out;
}

struct psynth *psynth_new(const struct psynth_spec *spec)
{
	struct psynth *ps = calloc(1, sizeof(*ps));

	assert(ps);
	ps->spec = *spec;
	ps->k = spec->kernel == PSYNTH_6_12 ? &facts_612 :
		spec->kernel == PSYNTH_6_3  ? &facts_63 :
		spec->kernel == PSYNTH_6_8  ? &facts_68 :
					      &facts_61;
	ps->ram = calloc(PSYNTH_PAGES, PAGE);
	assert(ps->ram);
	ps->next_meta = META_FIRST_PFN * PAGE;
	build_memmap(ps);
	/* the direct map, 2 MiB pages over all of memory */
	for (uint64_t pa = 0; pa < PSYNTH_PAGES * PAGE; pa += 2 << 20)
		map(ps, direct(pa), pa, 2 << 20);
	build_mem_section(ps);
	build_vmcoreinfo(ps);
	return ps;
}

void psynth_free(struct psynth *ps)
{
	if (!ps)
		return;
	free(ps->ram);
	free(ps->vmcoreinfo);
	free(ps);
}

uint8_t *psynth_page(struct psynth *ps, uint64_t pfn)
{
	unsigned s = pfn >> PSYNTH_SECTION_SHIFT;
	uint64_t off = pfn * STRUCT_PAGE;

	assert(pfn < PSYNTH_PAGES && section_present(s));
	if (ps->spec.memmap == PSYNTH_CLASSIC)
		return ps->ram + ps->memmap_phys[s] +
		       (pfn - s * PSYNTH_SECTION_PAGES) * STRUCT_PAGE;
	assert(ps->vmemmap_phys[off / PAGE]);
	return ps->ram + ps->vmemmap_phys[off / PAGE] + off % PAGE;
}

uint64_t psynth_page_vaddr(struct psynth *ps, uint64_t pfn)
{
	return coded_mem_map(ps, pfn >> PSYNTH_SECTION_SHIFT) + pfn * STRUCT_PAGE;
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void set_flag(uint8_t *p, unsigned bit)
{
	uint64_t v;

	memcpy(&v, p + OFF_FLAGS, 8);
	put64(p, OFF_FLAGS, v | 1ULL << bit);
}

void psynth_buddy_raw(struct psynth *ps, uint64_t pfn, uint64_t private_value)
{
	uint8_t *p = psynth_page(ps, pfn);

	put32(p, OFF_MAPCOUNT, (uint32_t)ps->k->buddy);
	put64(p, OFF_PRIVATE, private_value);
}

void psynth_buddy(struct psynth *ps, uint64_t pfn, unsigned order)
{
	psynth_buddy_raw(ps, pfn, order);
	/* the rest of a free block: nothing (mapcount -1, as the kernel leaves it) */
	for (uint64_t i = 1; i < 1ULL << order; i++)
		put32(psynth_page(ps, pfn + i), OFF_MAPCOUNT, UINT32_MAX);
}

void psynth_buddy_low_bits(struct psynth *ps, uint64_t pfn, unsigned order, uint32_t low)
{
	psynth_buddy(ps, pfn, order);
	put32(psynth_page(ps, pfn), OFF_MAPCOUNT, (uint32_t)ps->k->buddy | low);
}

void psynth_cache(struct psynth *ps, uint64_t pfn, bool with_private)
{
	uint8_t *p = psynth_page(ps, pfn);

	set_flag(p, ps->k->pg_lru);
	if (with_private) {
		set_flag(p, ps->k->pg_private);
		put64(p, OFF_PRIVATE, 0xffff8880aaaa0000ULL); /* buffer heads */
	}
	put64(p, OFF_MAPPING, ADDRESS_SPACE);
}

void psynth_swapcache(struct psynth *ps, uint64_t pfn, bool swapbacked)
{
	uint8_t *p = psynth_page(ps, pfn);

	set_flag(p, ps->k->pg_swapcache);
	if (swapbacked)
		set_flag(p, ps->k->pg_swapbacked);
}

void psynth_anon(struct psynth *ps, uint64_t pfn)
{
	uint8_t *p = psynth_page(ps, pfn);

	set_flag(p, ps->k->pg_lru);
	set_flag(p, ps->k->pg_swapbacked);
	put64(p, OFF_MAPPING, ANON_VMA | 1);
}

void psynth_ksm(struct psynth *ps, uint64_t pfn)
{
	psynth_anon(ps, pfn);
	put64(psynth_page(ps, pfn), OFF_MAPPING, ANON_VMA | 3);
}

static void compound(struct psynth *ps, uint64_t head, unsigned order)
{
	uint8_t *first_tail = psynth_page(ps, head + 1);

	set_flag(psynth_page(ps, head), ps->k->pg_head);
	for (uint64_t i = 1; i < 1ULL << order; i++) {
		uint8_t *t = psynth_page(ps, head + i);

		put64(t, OFF_COMPOUND_HEAD, psynth_page_vaddr(ps, head) + 1);
		put64(t, OFF_MAPPING, 0x400); /* TAIL_MAPPING poison */
	}
	if (ps->spec.kernel == PSYNTH_6_12 || ps->spec.kernel == PSYNTH_6_8) {
		uint64_t flags1;

		/* folio._flags_1: the order in the low byte, other bits above */
		memcpy(&flags1, first_tail + OFF_FLAGS, 8);
		put64(first_tail, OFF_FLAGS, flags1 | 0x4000 | order);
	} else
		first_tail[OFF_ORDER] = order;
}

void psynth_thp(struct psynth *ps, uint64_t head, unsigned order, enum psynth_kind kind)
{
	if (kind == PSYNTH_ANON)
		psynth_anon(ps, head);
	else
		psynth_cache(ps, head, kind == PSYNTH_CACHE_PRIVATE);
	compound(ps, head, order);
}

void psynth_hugetlb(struct psynth *ps, uint64_t head, unsigned order)
{
	uint8_t *p = psynth_page(ps, head);

	compound(ps, head, order);
	/* hugetlbfs folios are not on the LRU and not anonymous */
	put64(p, OFF_MAPPING, ADDRESS_SPACE);
	if (ps->spec.kernel == PSYNTH_6_12)
		put32(p, OFF_MAPCOUNT, (uint32_t)ps->k->hugetlb_type);
	else if (ps->spec.kernel == PSYNTH_6_8)
		set_flag(psynth_page(ps, head + 1), PG_HUGETLB_68);
	else
		psynth_page(ps, head + 1)[OFF_DTOR] = HUGETLB_PAGE_DTOR;
}

void psynth_slab(struct psynth *ps, uint64_t pfn)
{
	uint8_t *p = psynth_page(ps, pfn);

	/* slab_cache where mapping is, with bit 0 set to tempt the anon test */
	put64(p, OFF_MAPPING, KMEM_CACHE | 1);
	if (ps->k->pg_slab >= 0) {
		set_flag(p, ps->k->pg_slab);
		/* and a mapcount that reads as the buddy type */
		put32(p, OFF_MAPCOUNT, (uint32_t)ps->k->buddy);
		put64(p, OFF_PRIVATE, 0);
	} else
		put32(p, OFF_MAPCOUNT, (uint32_t)ps->k->slab_type);
}

void psynth_offline(struct psynth *ps, uint64_t pfn)
{
	put32(psynth_page(ps, pfn), OFF_MAPCOUNT, (uint32_t)ps->k->offline);
}

void psynth_hwpoison(struct psynth *ps, uint64_t pfn)
{
	set_flag(psynth_page(ps, pfn), ps->k->pg_hwpoison);
}

const char *psynth_vmcoreinfo(struct psynth *ps)
{
	return ps->vmcoreinfo;
}

char *psynth_write(struct psynth *ps)
{
	const uint64_t hole = PSYNTH_HOLE_SECTION * PSYNTH_SECTION_PAGES * PAGE;
	const uint64_t after = (PSYNTH_HOLE_SECTION + 1) * PSYNTH_SECTION_PAGES * PAGE;
	const struct synth_segment segs[] = {
		{ .phys_start = 0, .mem_size = hole, .data = ps->ram },
		{ .phys_start = after,
		  .mem_size = PSYNTH_PAGES * PAGE - after,
		  .data = ps->ram + after },
		{ .phys_start = ps->spec.extra_ram_start,
		  .mem_size = ps->spec.extra_ram_size,
		  .file_size = SYNTH_NO_FILE_DATA },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = ps->spec.no_vmcoreinfo ? NULL : ps->vmcoreinfo,
		.nr_cpus = 1,
		.segments = segs,
		.n_segments = ps->spec.extra_ram_size ? 3 : 2,
	};
	char *path = NULL;
	int r = synth_vmcore_tmpfile(&spec, &path);

	assert(r == 0);
	return path;
}
