// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86_64 kernel virtual to physical translation. The kernel image is
 * mapped linearly at __START_KERNEL_map + (paddr - phys_base), which is
 * how the page tables themselves (init_top_pgt) are found; everything else
 * goes through a 4- or 5-level walk of those tables. Facts from the
 * kernel's arch/x86/include/asm/pgtable_64_types.h and
 * arch/x86/kernel/machine_kexec_64.c (arch_crash_save_vmcoreinfo).
 */
#include "dump-internal.h"
#include "log.h"

#include <inttypes.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
/* Without KASLR the image area is 512 MiB; VMCOREINFO says when it is 1 GiB. */
#define DEFAULT_KERNEL_IMAGE_SIZE (512ULL << 20)
/* __PHYSICAL_MASK_SHIFT is 52; the low 12 bits of an entry are flags. */
#define PTE_PFN_MASK 0x000ffffffffff000ULL
#define PTE_PRESENT (1ULL << 0)
#define PTE_PSE (1ULL << 7)
#define KERNEL_HALF 0xff00000000000000ULL

static int vtop_load(struct dump *d)
{
	struct dump_vtop_info *v = &d->vtop;
	const struct vmcoreinfo *vi = d->vmcoreinfo;
	const struct dump_segment *s;
	uint64_t sym;
	int64_t num;
	size_t n;
	int r;

	if (v->loaded)
		return v->error;
	*v = (struct dump_vtop_info){ .loaded = true,
				      .kernel_image_size = DEFAULT_KERNEL_IMAGE_SIZE };
	s = dump_segments(d, &n);

	if (vmcoreinfo_number(vi, "phys_base", &num) >= 0) {
		v->phys_base = num;
		v->has_phys_base = true;
	} else {
		/* The PT_LOAD that maps the kernel image tells phys_base too. */
		for (size_t i = 0; i < n; i++)
			if (s[i].virt_start >= START_KERNEL_MAP) {
				v->phys_base =
					s[i].phys_start - (s[i].virt_start - START_KERNEL_MAP);
				v->has_phys_base = true;
				break;
			}
	}
	if (vmcoreinfo_number(vi, "KERNEL_IMAGE_SIZE", &num) >= 0 && num > 0)
		v->kernel_image_size = num;
	if (vmcoreinfo_number(vi, "sme_mask", &num) >= 0)
		v->sme_mask = num;
	if (vmcoreinfo_number(vi, "pgtable_l5_enabled", &num) >= 0)
		v->l5 = num != 0;

	r = vmcoreinfo_symbol(vi, "init_top_pgt", &sym);
	if (r >= 0 && v->has_phys_base && sym >= START_KERNEL_MAP) {
		v->top_pgt = sym - START_KERNEL_MAP + v->phys_base;
		v->has_top_pgt = true;
	} else
		log_debug(
			"No kernel page table in VMCOREINFO; translating through PT_LOAD addresses only.");
	log_debug("vtop: phys_base=0x%" PRIx64 " top_pgt=0x%" PRIx64 " %d-level", v->phys_base,
		  v->top_pgt, v->l5 ? 5 : 4);
	return 0;
}

/*
 * The tables of a dead kernel do not change: the last leaf walked (a 2 MiB
 * or 1 GiB page maps a whole vmemmap piece) and the last PTE table are
 * kept, so runs of addresses cost one walk per leaf, not four reads per
 * page.
 */
static bool walk_cached(const struct dump_vtop_info *v, uint64_t vaddr, uint64_t *ret)
{
	if (v->leaf_size && vaddr - v->leaf_va < v->leaf_size) {
		*ret = v->leaf_pa + (vaddr - v->leaf_va);
		return true;
	}
	return false;
}

static void remember_leaf(struct dump_vtop_info *v, uint64_t vaddr, uint64_t paddr, unsigned shift)
{
	uint64_t mask = (1ULL << shift) - 1;

	v->leaf_va = vaddr & ~mask;
	v->leaf_pa = paddr & ~mask;
	v->leaf_size = mask + 1;
}

static int walk(struct dump *d, uint64_t vaddr, uint64_t *ret)
{
	struct dump_vtop_info *v = &d->vtop;
	uint64_t table = v->top_pgt, entry = 0;
	int level = v->l5 ? 5 : 4;

	if (walk_cached(v, vaddr, ret))
		return 0;
	/* A PTE table lives at a physical address above 0 (page 0 is the firmware's). */
	if (v->pte_table && (vaddr >> 21) == (v->pte_va >> 21)) {
		table = v->pte_table;
		level = 1;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t idx = (vaddr >> shift) & 511;
		int r;

		r = dump_read_phys(d, table + idx * 8, &entry, sizeof(entry));
		if (r < 0)
			return log_debug_errno(r,
					       "vtop 0x%" PRIx64
					       ": cannot read level-%d table at 0x%" PRIx64 ": %m",
					       vaddr, level, table);
		if (!(entry & PTE_PRESENT))
			return -EFAULT;
		entry &= ~v->sme_mask;
		/* PSE in a PUD (1 GiB) or PMD (2 MiB) entry ends the walk early. */
		if ((level == 3 || level == 2) && (entry & PTE_PSE)) {
			uint64_t mask = (1ULL << shift) - 1;

			*ret = (entry & PTE_PFN_MASK & ~mask) | (vaddr & mask);
			remember_leaf(v, vaddr, *ret, shift);
			return 0;
		}
		table = entry & PTE_PFN_MASK;
		if (level == 2) {
			v->pte_va = vaddr;
			v->pte_table = table;
		}
	}
	*ret = table | (vaddr & 0xfff);
	remember_leaf(v, vaddr, *ret, 12);
	return 0;
}

static bool canonical(uint64_t vaddr, bool l5)
{
	int bits = l5 ? 57 : 48;
	int64_t s = (int64_t)(vaddr << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == vaddr;
}

int dump_vtop(struct dump *d, uint64_t vaddr, uint64_t *ret_paddr)
{
	const struct dump_vtop_info *v = &d->vtop;
	const struct dump_segment *s;
	size_t n;
	int r;

	r = vtop_load(d);
	if (r < 0)
		return r;
	if (v->has_phys_base && vaddr >= START_KERNEL_MAP &&
	    vaddr - START_KERNEL_MAP < v->kernel_image_size) {
		*ret_paddr = vaddr - START_KERNEL_MAP + v->phys_base;
		return 0;
	}
	if (!canonical(vaddr, v->l5))
		return -EFAULT;
	if (v->has_top_pgt)
		return walk(d, vaddr, ret_paddr);

	/* No page tables: the kernel-half p_vaddr of each PT_LOAD (its direct-map address). */
	s = dump_segments(d, &n);
	for (size_t i = 0; i < n; i++)
		if (s[i].virt_start >= KERNEL_HALF && vaddr >= s[i].virt_start &&
		    vaddr - s[i].virt_start < s[i].mem_size) {
			*ret_paddr = s[i].phys_start + (vaddr - s[i].virt_start);
			return 0;
		}
	return -EFAULT;
}

int dump_read_virt(struct dump *d, uint64_t vaddr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t n = MIN(len, DUMP_PAGE_SIZE - (vaddr & (DUMP_PAGE_SIZE - 1)));
		uint64_t paddr;
		int r;

		r = dump_vtop(d, vaddr, &paddr);
		if (r < 0)
			return r;
		r = dump_read_phys(d, paddr, out, n);
		if (r < 0)
			return r;
		out += n;
		vaddr += n;
		len -= n;
	}
	return 0;
}
