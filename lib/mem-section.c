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
/* Sections read at most: 512 TiB of RAM in 128 MiB sections. */
#define MAX_SECTIONS (1ULL << 22)
/* Flat SPARSEMEM: sections read at once. */
#define WALK_BLOCK_SECTIONS 256
/* Page-table walks per read: at most this many 4 KiB pages of struct page at once. */
#define READ_WINDOW_PAGES 64

/* A present section: its number and section_mem_map without flags. */
struct section {
	uint64_t nr;
	uint64_t coded;
};

struct mem_sections {
	struct section *sections; /* sorted by nr */
	size_t n_present;
	unsigned pfn_shift; /* log2 of pages per section */
	uint64_t nr_max; /* NR_MEM_SECTIONS */
	size_t page_size; /* SIZE(page) */
	bool linear;
	uint64_t linear_base;
};

/* Sections [first, end) that RAM covers. */
struct span {
	uint64_t first, end;
};

struct mem_sections *mem_sections_free(struct mem_sections *ms)
{
	if (!ms)
		return NULL;
	free(ms->sections);
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
	ms->nr_max = physmem_bits - section_bits >= 63 ? UINT64_MAX :
							 1ULL << (physmem_bits - section_bits);

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

/*
 * The sections the dump's RAM lies in, merged and sorted. Only those are
 * read: a vmcore whose PT_LOADs claim memory at absurd addresses costs
 * nothing but a refusal.
 */
static int ram_spans(struct dump *d, const struct mem_sections *ms, struct span **ret,
		     size_t *ret_n)
{
	size_t n_seg, n = 0;
	const struct dump_segment *seg = dump_segments(d, &n_seg);
	_cleanup_free_ struct span *spans = calloc(MAX(n_seg, 1U), sizeof(*spans));
	uint64_t total = 0;

	if (!spans)
		return -ENOMEM;
	for (size_t i = 0; i < n_seg; i++) {
		uint64_t first, end;

		if (seg[i].mem_size == 0)
			continue;
		first = seg[i].phys_start >> DUMP_PAGE_SHIFT >> ms->pfn_shift;
		end = ((seg[i].phys_start + seg[i].mem_size - 1) >> DUMP_PAGE_SHIFT >>
		       ms->pfn_shift) +
		      1;
		end = MIN(end, ms->nr_max);
		if (first >= end)
			continue;
		/* segments come sorted by start */
		if (n > 0 && first <= spans[n - 1].end)
			spans[n - 1].end = MAX(spans[n - 1].end, end);
		else
			spans[n++] = (struct span){ first, end };
	}
	for (size_t i = 0; i < n; i++)
		total += spans[i].end - spans[i].first;
	if (total > MAX_SECTIONS)
		return -E2BIG;
	*ret = TAKE_PTR(spans);
	*ret_n = n;
	return 0;
}

static int add_section(struct mem_sections *ms, size_t *cap, uint64_t nr, uint64_t map)
{
	if (!(map & SECTION_MARKED_PRESENT))
		return 0;
	/* sparse_encode_mem_map: the map less the section's first pfn */
	map &= SECTION_MAP_MASK;
	if (!is_kernel_addr(map + (nr << ms->pfn_shift) * ms->page_size))
		return -EINVAL;
	if (ms->n_present == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct section *grown = realloc(ms->sections, c * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		ms->sections = grown;
		*cap = c;
	}
	ms->sections[ms->n_present++] = (struct section){ nr, map };
	return 0;
}

/* Reads the sections of spans from the table at table_addr; returns present sections or < 0. */
static int walk(struct dump *d, const struct layout *l, uint64_t table_addr,
		const struct span *spans, size_t n_spans, struct mem_sections *ms)
{
	_cleanup_free_ uint8_t *block = NULL;
	uint64_t per_root = l->sections_per_root, root_read = UINT64_MAX, root_addr = 0;
	size_t cap = 0;
	int r;

	free(ms->sections);
	ms->sections = NULL;
	ms->n_present = 0;
	block = malloc(WALK_BLOCK_SECTIONS * l->ms_size);
	if (!block)
		return -ENOMEM;
	for (size_t s = 0; s < n_spans; s++)
		for (uint64_t nr = spans[s].first; nr < spans[s].end;) {
			uint64_t root = nr / per_root, first, n, addr;

			if (l->extreme) {
				/* one root: a page of sections, or none */
				first = root * per_root;
				n = per_root;
				if (root != root_read) {
					r = dump_read_virt(d, table_addr + root * 8, &root_addr, 8);
					if (r < 0)
						return log_debug_errno(r,
								       "mem_section root %" PRIu64
								       ": %m",
								       root);
					if (root_addr && !is_kernel_addr(root_addr))
						return -EINVAL;
					root_read = root;
					if (root_addr) {
						r = dump_read_virt(d, root_addr, block,
								   n * l->ms_size);
						if (r < 0)
							return log_debug_errno(
								r,
								"mem_section root at 0x%" PRIx64
								": %m",
								root_addr);
					}
				}
				if (!root_addr) {
					nr = first + per_root;
					continue;
				}
			} else {
				first = nr;
				n = MIN((uint64_t)WALK_BLOCK_SECTIONS, spans[s].end - nr);
				addr = table_addr + nr * l->ms_size;
				r = dump_read_virt(d, addr, block, n * l->ms_size);
				if (r < 0)
					return log_debug_errno(
						r, "mem_section at 0x%" PRIx64 ": %m", addr);
			}
			for (; nr < spans[s].end && nr < first + n; nr++) {
				uint64_t map;

				memcpy(&map, block + (nr - first) * l->ms_size + l->map_offset, 8);
				r = add_section(ms, &cap, nr, map);
				if (r < 0)
					return r;
			}
		}
	return (int)MIN(ms->n_present, (size_t)INT32_MAX);
}

int mem_sections_load(struct dump *d, struct mem_sections **ret, const char **ret_why)
{
	_cleanup_mem_sections_ struct mem_sections *ms = NULL;
	_cleanup_free_ struct span *spans = NULL;
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	const char *why = NULL;
	struct layout l = {};
	size_t n_spans = 0;
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
	r = ram_spans(d, ms, &spans, &n_spans);
	if (r == -E2BIG) {
		*ret_why = "the dump's memory is too large or too scattered for mem_section";
		return r;
	}
	if (r < 0)
		return r;
	if (n_spans == 0) {
		*ret_why = "the dump describes no memory";
		return -ENODATA;
	}

	/*
	 * VMCOREINFO names the root array itself since 4.15; some older
	 * kernels wrote the address of the pointer to it. Try both, as
	 * makedumpfile does.
	 */
	r = walk(d, &l, l.symbol, spans, n_spans, ms);
	if (r <= 0 && r != -ENOMEM && l.extreme && dump_read_virt(d, l.symbol, &ptr, 8) >= 0 &&
	    is_kernel_addr(ptr))
		r = walk(d, &l, ptr, spans, n_spans, ms);
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
	ms->linear = true;
	ms->linear_base = ms->sections[0].coded;
	for (size_t i = 1; i < ms->n_present; i++)
		if (ms->sections[i].coded != ms->linear_base)
			ms->linear = false;
	log_debug("mem_section: %zu sections present, %s, struct page %zu bytes%s", ms->n_present,
		  l.extreme ? "SPARSEMEM_EXTREME" : "SPARSEMEM", ms->page_size,
		  ms->linear ? ", one vmemmap" : "");
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

/* Index of the last present section numbered nr or below; -1 when none. */
static ssize_t find_at_or_below(const struct mem_sections *ms, uint64_t nr)
{
	size_t lo = 0, hi = ms->n_present;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->sections[mid].nr <= nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

static const struct section *find(const struct mem_sections *ms, uint64_t nr)
{
	ssize_t i = find_at_or_below(ms, nr);

	return i >= 0 && ms->sections[i].nr == nr ? &ms->sections[i] : NULL;
}

int mem_sections_page_addr(const struct mem_sections *ms, uint64_t pfn, uint64_t *ret)
{
	const struct section *s = find(ms, pfn >> ms->pfn_shift);

	if (!s)
		return -ENOENT;
	*ret = s->coded + pfn * ms->page_size;
	return 0;
}

int mem_sections_addr_to_pfn(const struct mem_sections *ms, uint64_t addr, uint64_t near_pfn,
			     uint64_t *ret_pfn)
{
	uint64_t near = near_pfn >> ms->pfn_shift;

	for (ssize_t i = find_at_or_below(ms, near);
	     i >= 0 && near - ms->sections[i].nr < HEAD_SEARCH_SECTIONS; i--) {
		const struct section *s = &ms->sections[i];
		uint64_t off = addr - s->coded, pfn;

		if (off % ms->page_size)
			continue;
		pfn = off / ms->page_size;
		if (pfn >> ms->pfn_shift == s->nr) {
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
		uint64_t p = pfn + done, nr = p >> ms->pfn_shift, addr;
		ssize_t i = find_at_or_below(ms, nr);
		/* a run ends where its section ends, unless all sections share one vmemmap */
		uint64_t end = (nr + 1) << ms->pfn_shift;
		size_t m;

		if (i < 0 || ms->sections[i].nr != nr) {
			/* no memory map here: up to the next section */
			m = (size_t)MIN((uint64_t)(n - done), end - p);
			memset(out + done * ms->page_size, 0, m * ms->page_size);
			memset(ret_ok + done, 0, m * sizeof(*ret_ok));
			done += m;
			continue;
		}
		if (ms->linear)
			/* through the following sections while they are present */
			for (size_t j = i + 1;
			     j < ms->n_present && ms->sections[j].nr == nr + (j - i) &&
			     end - p < n - done;
			     j++)
				end = (ms->sections[j].nr + 1) << ms->pfn_shift;
		m = (size_t)MIN((uint64_t)(n - done), end - p);
		addr = ms->sections[i].coded + p * ms->page_size;
		got += read_run(d, ms->page_size, addr, m, out + done * ms->page_size,
				ret_ok + done);
		done += m;
	}
	return got;
}
