// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory figures as /proc/meminfo computes them (fs/proc/meminfo.c, v6.1
 * and v6.12) from the kernel's global counters: vm_zone_stat[] and
 * vm_node_stat[], indexed by the enumerators of enum zone_stat_item and
 * enum node_stat_item (from BTF), _totalram_pages, and the page cache of
 * block devices for Buffers. Like /proc/meminfo, the per-CPU deltas not yet
 * folded into the counters are left out.
 */
#include "analyze-internal.h"
#include "log.h"

#define MAX_BLOCKDEV_INODES 100000
#define PAGE_KB (DUMP_PAGE_SIZE / 1024)

struct counters {
	uint64_t zone, node, elem_size;
};

/* Pages in vm_zone_stat[item] or vm_node_stat[item]; -ENOENT when this kernel has no such item. */
static int counter(struct actx *c, const struct counters *k, bool node, const char *item,
		   int64_t *ret)
{
	int64_t idx, v = 0;
	int r;

	r = kbtf_enum_value(c->btf, item, &idx);
	if (r < 0)
		return r;
	if (idx < 0 || idx > 4096)
		return -EBADMSG;
	r = ax_read(c, (node ? k->node : k->zone) + idx * k->elem_size, &v, MIN(k->elem_size, 8));
	if (r < 0)
		return r;
	/* Counters can dip below zero between folds; meminfo shows 0 then. */
	*ret = v < 0 ? 0 : v;
	return 0;
}

struct buffers {
	uint64_t sb_list_off, mapping_off, nrpages_off, pages;
};

static int add_inode_pages(struct actx *c, uint64_t inode, void *userdata)
{
	struct buffers *b = userdata;
	uint64_t mapping, nrpages;
	int r;

	r = ax_read(c, inode + b->mapping_off, &mapping, sizeof(mapping));
	if (r < 0)
		return r;
	r = ax_read(c, mapping + b->nrpages_off, &nrpages, sizeof(nrpages));
	if (r < 0)
		return r;
	b->pages += nrpages;
	return 0;
}

/* nr_blockdev_pages(): the page cache of every block device inode. */
static int blockdev_pages(struct actx *c, uint64_t *ret)
{
	struct kbtf_member m, s_inodes;
	struct buffers b = {};
	uint64_t sym, sb;
	int r;

	r = ax_sym(c, "blockdev_superblock", &sym);
	if (r < 0)
		return r;
	r = ax_read(c, sym, &sb, sizeof(sb));
	if (r < 0)
		return r;
	if ((r = ax_member(c, "super_block.s_inodes", &s_inodes)) < 0 ||
	    (r = ax_member(c, "inode.i_sb_list", &m)) < 0)
		return r;
	b.sb_list_off = m.offset;
	if ((r = ax_member(c, "inode.i_mapping", &m)) < 0)
		return r;
	b.mapping_off = m.offset;
	if ((r = ax_member(c, "address_space.nrpages", &m)) < 0)
		return r;
	b.nrpages_off = m.offset;
	r = ax_list_walk(c, sb + s_inodes.offset, b.sb_list_off, MAX_BLOCKDEV_INODES,
			 add_inode_pages, &b);
	if (r < 0)
		return r;
	*ret = b.pages;
	return 0;
}

static int add(struct analyze_report *r, const char *name, int64_t kb)
{
	struct analyze_meminfo *grown;

	grown = realloc(r->meminfo, (r->n_meminfo + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->meminfo = grown;
	r->meminfo[r->n_meminfo++] = (struct analyze_meminfo){ name, kb < 0 ? 0 : kb };
	return 0;
}

int analyze_memory(struct actx *c)
{
	struct analyze_report *r = c->r;
	struct counters k = {};
	int64_t total = 0, free_pages, file, swapcache = 0, anon, mapped, shmem, srec, sunrec,
		misc = 0, stack_kb, pagetables;
	uint64_t sym, buffers = 0;
	int e;

	if (ax_need(c, &r->memory_error, true) < 0)
		return r->memory_error ? 0 : -ENOMEM;
	if (ax_sym(c, "vm_zone_stat", &k.zone) < 0 || ax_sym(c, "vm_node_stat", &k.node) < 0 ||
	    ax_sym(c, "_totalram_pages", &sym) < 0)
		return ax_error(&r->memory_error,
				"kallsyms lacks vm_zone_stat, vm_node_stat or _totalram_pages");
	if (kbtf_type_size(c->btf, "atomic_long_t", &k.elem_size) < 0 || k.elem_size == 0)
		k.elem_size = 8;
	e = ax_read(c, sym, &total, MIN(k.elem_size, 8));
	if (e < 0)
		return ax_error(&r->memory_error, "_totalram_pages is %s", ax_strerror(e));
	if ((e = counter(c, &k, false, "NR_FREE_PAGES", &free_pages)) < 0 ||
	    (e = counter(c, &k, true, "NR_FILE_PAGES", &file)) < 0 ||
	    (e = counter(c, &k, true, "NR_ANON_MAPPED", &anon)) < 0 ||
	    (e = counter(c, &k, true, "NR_FILE_MAPPED", &mapped)) < 0 ||
	    (e = counter(c, &k, true, "NR_SHMEM", &shmem)) < 0 ||
	    (e = counter(c, &k, true, "NR_SLAB_RECLAIMABLE_B", &srec)) < 0 ||
	    (e = counter(c, &k, true, "NR_SLAB_UNRECLAIMABLE_B", &sunrec)) < 0 ||
	    (e = counter(c, &k, true, "NR_KERNEL_STACK_KB", &stack_kb)) < 0 ||
	    (e = counter(c, &k, true, "NR_PAGETABLE", &pagetables)) < 0)
		return ax_error(&r->memory_error, "the kernel's memory counters are %s",
				e == -ENOENT ? "not all known to its BTF" : ax_strerror(e));
	(void)counter(c, &k, true, "NR_SWAPCACHE", &swapcache);
	(void)counter(c, &k, true, "NR_KERNEL_MISC_RECLAIMABLE", &misc);
	e = blockdev_pages(c, &buffers);
	if (e < 0) {
		log_debug_errno(e, "Block device page cache unreadable, Buffers counted as 0: %m");
		buffers = 0;
	}

	if ((e = add(r, "MemTotal", total * PAGE_KB)) < 0 ||
	    (e = add(r, "MemFree", free_pages * PAGE_KB)) < 0 ||
	    (e = add(r, "Buffers", buffers * PAGE_KB)) < 0 ||
	    (e = add(r, "Cached", (file - swapcache - (int64_t)buffers) * PAGE_KB)) < 0 ||
	    (e = add(r, "SwapCached", swapcache * PAGE_KB)) < 0 ||
	    (e = add(r, "AnonPages", anon * PAGE_KB)) < 0 ||
	    (e = add(r, "Mapped", mapped * PAGE_KB)) < 0 ||
	    (e = add(r, "Shmem", shmem * PAGE_KB)) < 0 ||
	    (e = add(r, "KReclaimable", (srec + misc) * PAGE_KB)) < 0 ||
	    (e = add(r, "Slab", (srec + sunrec) * PAGE_KB)) < 0 ||
	    (e = add(r, "SReclaimable", srec * PAGE_KB)) < 0 ||
	    (e = add(r, "SUnreclaim", sunrec * PAGE_KB)) < 0 ||
	    (e = add(r, "KernelStack", stack_kb)) < 0 ||
	    (e = add(r, "PageTables", pagetables * PAGE_KB)) < 0)
		return e;
	return 0;
}
