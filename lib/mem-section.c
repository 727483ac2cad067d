// SPDX-License-Identifier: GPL-2.0-or-later
#include "mem-section.h"
#include "log.h"

#include <inttypes.h>

/*
 * The low bits of section_mem_map are flags: PRESENT (bit 0), HAS_MEM_MAP,
 * IS_ONLINE, IS_EARLY, TAINT_ZONE_DEVICE (5.12+) and IS_VMEMMAP_PREINIT
 * (6.15+). The encoded pointer is at least page aligned (vmemmap, or a
 * page-aligned memory map less a multiple of a section's struct pages), so
 * masking six bits is right for every version.
 */
#define SECTION_MARKED_PRESENT 0x1ULL
#define SECTION_FLAG_BITS 6
#define SECTION_MAP_MASK (~((1ULL << SECTION_FLAG_BITS) - 1))
/* x86_64 defaults for kernels that do not export them (before 5.9). */
#define X86_64_SECTION_SIZE_BITS 27
#define X86_64_MAX_PHYSMEM_BITS_L4 46
#define X86_64_MAX_PHYSMEM_BITS_L5 52
#define KERNEL_HALF 0xff00000000000000ULL
/* A compound page spans at most 1 GiB: eight 128 MiB sections. */
#define HEAD_SEARCH_SECTIONS 16
/* Page-table walks per read: at most this many 4 KiB pages of struct page at once. */
#define READ_WINDOW_PAGES 64

struct mem_sections {
	uint64_t *coded; /* per section: section_mem_map without flags; 0 = no memory map */
	size_t n_sections;
	size_t n_present;
	unsigned pfn_shift; /* log2 of pages per section */
	size_t page_size; /* SIZE(page) */
	bool linear;
	uint64_t linear_base;
};

struct mem_sections *mem_sections_free(struct mem_sections *ms)
{
	if (!ms)
		return NULL;
	free(ms->coded);
	free(ms);
	return NULL;
}

struct layout {
	uint64_t symbol, ms_size, map_offset;
	uint64_t sections_per_root, n_roots;
	bool extreme;
};

static int read_layout(const struct vmcoreinfo *vi, struct mem_sections *ms, struct layout *l,
		       const char **why)
{
	uint64_t section_bits, physmem_bits, length, page_size;
	int64_t num;
	bool has_length;

	if (vmcoreinfo_symbol(vi, "mem_section", &l->symbol) < 0) {
		*why = "VMCOREINFO has no SYMBOL(mem_section) (not a SPARSEMEM kernel?)";
		return -ENOENT;
	}
	if (vmcoreinfo_size(vi, "mem_section", &l->ms_size) < 0 ||
	    vmcoreinfo_offset(vi, "mem_section.section_mem_map", &l->map_offset) < 0) {
		*why = "VMCOREINFO has no SIZE(mem_section) or OFFSET(mem_section.section_mem_map)";
		return -ENOENT;
	}
	if (vmcoreinfo_size(vi, "page", &page_size) < 0) {
		*why = "VMCOREINFO has no SIZE(page)";
		return -ENOENT;
	}
	if (l->ms_size < 8 || l->ms_size > DUMP_PAGE_SIZE || l->map_offset > l->ms_size - 8 ||
	    page_size < 32 || page_size > 512 || page_size % 8) {
		*why = "VMCOREINFO: SIZE(mem_section), its offset or SIZE(page) is implausible";
		return -EINVAL;
	}
	ms->page_size = page_size;

	section_bits = X86_64_SECTION_SIZE_BITS;
	if (vmcoreinfo_number(vi, "SECTION_SIZE_BITS", &num) >= 0)
		section_bits = num;
	physmem_bits = X86_64_MAX_PHYSMEM_BITS_L4;
	if (vmcoreinfo_number(vi, "pgtable_l5_enabled", &num) >= 0 && num)
		physmem_bits = X86_64_MAX_PHYSMEM_BITS_L5;
	if (vmcoreinfo_number(vi, "MAX_PHYSMEM_BITS", &num) >= 0)
		physmem_bits = num;
	if (section_bits <= DUMP_PAGE_SHIFT || section_bits > 40 || physmem_bits > 64 ||
	    physmem_bits < section_bits) {
		*why = "VMCOREINFO: SECTION_SIZE_BITS or MAX_PHYSMEM_BITS is implausible";
		return -EINVAL;
	}
	ms->pfn_shift = section_bits - DUMP_PAGE_SHIFT;

	/*
	 * SPARSEMEM_EXTREME: LENGTH is the number of roots, each a page of
	 * sections (or the entry is missing, in old kernels); flat SPARSEMEM:
	 * one section per root.
	 */
	l->sections_per_root = DUMP_PAGE_SIZE / l->ms_size;
	has_length = vmcoreinfo_length(vi, "mem_section", &length) >= 0;
	l->extreme = !has_length || length == DIV_ROUND_UP(1ULL << (physmem_bits - section_bits),
							   l->sections_per_root);
	if (!l->extreme)
		l->sections_per_root = 1;
	return 0;
}

static bool is_kernel_addr(uint64_t addr)
{
	return addr >= KERNEL_HALF;
}

/* Fills ms->coded from the root array at roots_addr; returns present sections or < 0. */
static int walk(struct dump *d, const struct layout *l, uint64_t roots_addr,
		struct mem_sections *ms)
{
	_cleanup_free_ uint64_t *roots = NULL;
	_cleanup_free_ uint8_t *block = NULL;
	uint64_t per_root = l->sections_per_root;
	size_t n_roots = DIV_ROUND_UP(ms->n_sections, per_root), present = 0;
	int r;

	memset(ms->coded, 0, ms->n_sections * sizeof(*ms->coded));
	block = malloc(per_root * l->ms_size);
	if (!block)
		return -ENOMEM;
	if (l->extreme) {
		roots = calloc(n_roots, sizeof(*roots));
		if (!roots)
			return -ENOMEM;
		r = dump_read_virt(d, roots_addr, roots, n_roots * sizeof(*roots));
		if (r < 0)
			return log_debug_errno(r, "mem_section roots at 0x%" PRIx64 ": %m",
					       roots_addr);
	}
	for (size_t root = 0; root < n_roots; root++) {
		uint64_t addr = l->extreme ? roots[root] : roots_addr + root * l->ms_size;

		if (addr == 0)
			continue; /* no memory in these sections */
		if (!is_kernel_addr(addr))
			return -EINVAL;
		r = dump_read_virt(d, addr, block, per_root * l->ms_size);
		if (r < 0)
			return log_debug_errno(r, "mem_section root %zu at 0x%" PRIx64 ": %m", root,
					       addr);
		for (size_t i = 0; i < per_root; i++) {
			size_t nr = root * per_root + i;
			uint64_t map, start_pfn;

			if (nr >= ms->n_sections)
				break;
			memcpy(&map, block + i * l->ms_size + l->map_offset, sizeof(map));
			if (!(map & SECTION_MARKED_PRESENT))
				continue;
			/* sparse_encode_mem_map: the map less the section's first pfn */
			map &= SECTION_MAP_MASK;
			start_pfn = (uint64_t)nr << ms->pfn_shift;
			if (!is_kernel_addr(map + start_pfn * ms->page_size))
				return -EINVAL;
			ms->coded[nr] = map;
			present++;
		}
	}
	return (int)MIN(present, (size_t)INT32_MAX);
}

int mem_sections_load(struct dump *d, uint64_t max_pfn, struct mem_sections **ret,
		      const char **ret_why)
{
	_cleanup_mem_sections_ struct mem_sections *ms = NULL;
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	const char *why = NULL;
	struct layout l = {};
	uint64_t ptr;
	int r;

	if (!vi) {
		*ret_why = "the dump has no VMCOREINFO";
		return -ENOENT;
	}
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	r = read_layout(vi, ms, &l, &why);
	if (r < 0) {
		*ret_why = why;
		return r;
	}
	ms->n_sections = DIV_ROUND_UP(max_pfn, 1ULL << ms->pfn_shift);
	if (ms->n_sections == 0) {
		*ret_why = "the dump describes no memory";
		return -ENODATA;
	}
	ms->coded = calloc(ms->n_sections, sizeof(*ms->coded));
	if (!ms->coded)
		return -ENOMEM;

	/*
	 * VMCOREINFO names the root array itself since 4.15; some older
	 * kernels wrote the address of the pointer to it. Try both, as
	 * makedumpfile does.
	 */
	r = walk(d, &l, l.symbol, ms);
	if (r <= 0 && r != -ENOMEM && l.extreme && dump_read_virt(d, l.symbol, &ptr, 8) >= 0 &&
	    is_kernel_addr(ptr))
		r = walk(d, &l, ptr, ms);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret_why = "cannot read mem_section at SYMBOL(mem_section)";
		return -EIO;
	}
	if (r == 0) {
		*ret_why = "mem_section holds no present section with a memory map";
		return -ENODATA;
	}
	ms->n_present = r;
	ms->linear = true;
	for (size_t i = 0; i < ms->n_sections; i++) {
		if (!ms->coded[i])
			continue;
		if (!ms->linear_base)
			ms->linear_base = ms->coded[i];
		else if (ms->coded[i] != ms->linear_base)
			ms->linear = false;
	}
	log_debug("mem_section: %zu of %zu sections present, %s, struct page %zu bytes%s",
		  ms->n_present, ms->n_sections, l.extreme ? "SPARSEMEM_EXTREME" : "SPARSEMEM",
		  ms->page_size, ms->linear ? ", one vmemmap" : "");
	*ret = TAKE_PTR(ms);
	return 0;
}

size_t mem_sections_page_size(const struct mem_sections *ms)
{
	return ms->page_size;
}

uint64_t mem_sections_pages_per_section(const struct mem_sections *ms)
{
	return 1ULL << ms->pfn_shift;
}

size_t mem_sections_present(const struct mem_sections *ms)
{
	return ms->n_present;
}

bool mem_sections_linear(const struct mem_sections *ms, uint64_t *ret_base)
{
	if (ms->linear && ret_base)
		*ret_base = ms->linear_base;
	return ms->linear;
}

int mem_sections_page_addr(const struct mem_sections *ms, uint64_t pfn, uint64_t *ret)
{
	uint64_t nr = pfn >> ms->pfn_shift;

	if (nr >= ms->n_sections || !ms->coded[nr])
		return -ENOENT;
	*ret = ms->coded[nr] + pfn * ms->page_size;
	return 0;
}

int mem_sections_addr_to_pfn(const struct mem_sections *ms, uint64_t addr, uint64_t near_pfn,
			     uint64_t *ret_pfn)
{
	uint64_t nr = near_pfn >> ms->pfn_shift;

	for (unsigned i = 0; i < HEAD_SEARCH_SECTIONS && i <= nr; i++) {
		uint64_t s = nr - i, off, pfn;

		if (s >= ms->n_sections || !ms->coded[s])
			continue;
		off = addr - ms->coded[s];
		if (off % ms->page_size)
			continue;
		pfn = off / ms->page_size;
		if (pfn >> ms->pfn_shift == s) {
			*ret_pfn = pfn;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Reads [vaddr, vaddr + len) of kernel virtual memory, at most
 * READ_WINDOW_PAGES pages, in one dump_read_phys() per physically
 * contiguous run; page_ok[i] says whether the i-th 4 KiB page (counted from
 * the page holding vaddr) was read.
 */
static void read_window(struct dump *d, uint64_t vaddr, uint8_t *buf, size_t len, bool *page_ok)
{
	uint64_t first = vaddr & ~(DUMP_PAGE_SIZE - 1);
	size_t n_pages = DIV_ROUND_UP(vaddr + len - first, DUMP_PAGE_SIZE);
	uint64_t phys[READ_WINDOW_PAGES];
	bool mapped[READ_WINDOW_PAGES];

	for (size_t i = 0; i < n_pages; i++)
		mapped[i] = dump_vtop(d, first + i * DUMP_PAGE_SIZE, &phys[i]) >= 0;

	for (size_t i = 0; i < n_pages;) {
		size_t j = i + 1;
		uint64_t from, to, off;

		if (!mapped[i]) {
			page_ok[i++] = false;
			continue;
		}
		while (j < n_pages && mapped[j] && phys[j] == phys[i] + (j - i) * DUMP_PAGE_SIZE)
			j++;
		/* the bytes of pages [i, j) that the caller wants */
		from = MAX(vaddr, first + i * DUMP_PAGE_SIZE);
		to = MIN(vaddr + len, first + j * DUMP_PAGE_SIZE);
		off = from - vaddr;
		if (dump_read_phys(d, phys[i] + (from - (first + i * DUMP_PAGE_SIZE)), buf + off,
				   to - from) >= 0) {
			for (size_t k = i; k < j; k++)
				page_ok[k] = true;
		} else {
			/* one bad page must not cost its neighbours */
			for (size_t k = i; k < j; k++) {
				uint64_t pf = MAX(vaddr, first + k * DUMP_PAGE_SIZE);
				uint64_t pt = MIN(vaddr + len, first + (k + 1) * DUMP_PAGE_SIZE);

				page_ok[k] = dump_read_phys(d,
							    phys[k] + (pf & (DUMP_PAGE_SIZE - 1)),
							    buf + (pf - vaddr), pt - pf) >= 0;
			}
		}
		i = j;
	}
}

/* Reads struct pages of n pfns whose memory map is virtually contiguous from vaddr. */
static size_t read_run(struct dump *d, size_t page_size, uint64_t vaddr, size_t n, uint8_t *buf,
		       bool *ret_ok)
{
	/* whole struct pages per window, so none straddles two windows */
	size_t per_window = (READ_WINDOW_PAGES - 1) * DUMP_PAGE_SIZE / page_size, got = 0;
	bool page_ok[READ_WINDOW_PAGES];

	for (size_t done = 0; done < n;) {
		size_t m = MIN(per_window, n - done);
		uint64_t va = vaddr + done * page_size;
		uint64_t first = va & ~(DUMP_PAGE_SIZE - 1);

		memset(buf + done * page_size, 0, m * page_size);
		read_window(d, va, buf + done * page_size, m * page_size, page_ok);
		for (size_t i = 0; i < m; i++) {
			uint64_t a = va + i * page_size;
			size_t p0 = (a - first) / DUMP_PAGE_SIZE;
			size_t p1 = (a + page_size - 1 - first) / DUMP_PAGE_SIZE;
			bool ok = true;

			for (size_t p = p0; p <= p1; p++)
				ok = ok && page_ok[p];
			ret_ok[done + i] = ok;
			got += ok;
		}
		done += m;
	}
	return got;
}

size_t mem_sections_read(struct dump *d, const struct mem_sections *ms, uint64_t pfn, size_t n,
			 void *buf, bool *ret_ok)
{
	uint8_t *out = buf;
	size_t got = 0;

	for (size_t done = 0; done < n;) {
		uint64_t p = pfn + done, addr;
		/* a run ends where the section ends, unless all sections share one vmemmap */
		uint64_t section_end = ((p >> ms->pfn_shift) + 1) << ms->pfn_shift;
		size_t m = ms->linear ? n - done :
					(size_t)MIN((uint64_t)(n - done), section_end - p);

		if (mem_sections_page_addr(ms, p, &addr) < 0) {
			/* no memory map here: up to the next section */
			m = (size_t)MIN((uint64_t)(n - done), section_end - p);
			memset(out + done * ms->page_size, 0, m * ms->page_size);
			memset(ret_ok + done, 0, m * sizeof(*ret_ok));
		} else {
			if (ms->linear) {
				/* up to the next section without a memory map */
				uint64_t end = p + m, s = p >> ms->pfn_shift;

				while (((s + 1) << ms->pfn_shift) < end && s + 1 < ms->n_sections &&
				       ms->coded[s + 1])
					s++;
				m = (size_t)MIN(end, (s + 1) << ms->pfn_shift) - p;
			}
			got += read_run(d, ms->page_size, addr, m, out + done * ms->page_size,
					ret_ok + done);
		}
		done += m;
	}
	return got;
}
