// SPDX-License-Identifier: GPL-2.0-or-later
#include "e820.h"

#define LOW_1M (1ULL << 20)
#define PAGE_4K 4096ULL

void e820_table_done(struct e820_table *t)
{
	free(t->entries);
	*t = (struct e820_table){};
}

int e820_table_add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || addr + size - 1 < addr)
		return -EINVAL;
	if (t->count == t->allocated) {
		size_t n = t->allocated ? t->allocated * 2 : 32;
		struct e820_entry *grown = reallocarray(t->entries, n, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->entries = grown;
		t->allocated = n;
	}
	t->entries[t->count++] = (struct e820_entry){ addr, size, type };
	return 0;
}

uint64_t e820_total(const struct e820_table *t, uint32_t type)
{
	uint64_t total = 0;

	for (size_t i = 0; i < t->count; i++)
		if (t->entries[i].type == type)
			total += t->entries[i].size;
	return total;
}

static int add_ranges(struct e820_table *t, const struct mem_ranges *l, uint32_t type)
{
	for (size_t i = 0; i < l->count; i++) {
		int k = e820_table_add(t, l->ranges[i].start, mem_range_size(&l->ranges[i]), type);

		if (k < 0)
			return k;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The kernel's e820 sanitizer resolves overlaps by giving each piece of
 * memory the highest type that covers it; so do we, once, here, so that
 * what we hand over is already clean. Cut the address space at every
 * boundary, give each piece its highest type, merge equal neighbours.
 * Quadratic in the entry count, which stays in the hundreds.
 */
static int resolve_overlaps(const struct e820_table *in, struct e820_table *ret)
{
	_cleanup_free_ uint64_t *cuts = NULL;
	struct e820_table out = {};
	size_t n = 0;
	int k = 0;

	if (in->count == 0) {
		*ret = out;
		return 0;
	}
	cuts = reallocarray(NULL, in->count, 2 * sizeof(uint64_t));
	if (!cuts)
		return -ENOMEM;
	for (size_t i = 0; i < in->count; i++) {
		cuts[n++] = in->entries[i].addr;
		/* One past the end; an entry reaching 2^64 - 1 keeps its last byte out. */
		cuts[n++] = in->entries[i].addr + in->entries[i].size;
	}
	qsort(cuts, n, sizeof(*cuts), cmp_u64);

	for (size_t c = 0; c + 1 < n && k >= 0; c++) {
		uint64_t lo = cuts[c], hi = cuts[c + 1];
		uint32_t type = 0;

		if (lo == hi)
			continue;
		for (size_t i = 0; i < in->count; i++) {
			const struct e820_entry *e = &in->entries[i];

			if (e->addr <= lo && hi <= e->addr + e->size && e->type > type)
				type = e->type;
		}
		if (type == 0)
			continue;
		if (out.count > 0 && out.entries[out.count - 1].type == type &&
		    out.entries[out.count - 1].addr + out.entries[out.count - 1].size == lo)
			out.entries[out.count - 1].size += hi - lo;
		else
			k = e820_table_add(&out, lo, hi - lo, type);
	}
	if (k < 0) {
		e820_table_done(&out);
		return k;
	}
	*ret = out;
	return 0;
}

static int cmp_ram_first(const void *a, const void *b)
{
	const struct e820_entry *x = a, *y = b;
	bool xr = x->type == E820_TYPE_RAM, yr = y->type == E820_TYPE_RAM;

	if (xr != yr)
		return xr ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Adds the firmware ranges to all (which holds the RAM), resolves overlaps, orders RAM first. */
static int finish(struct e820_table *all, const struct crash_memory *mem, struct e820_table *ret)
{
	struct e820_table out;
	int k;

	k = add_ranges(all, &mem->acpi, E820_TYPE_ACPI);
	if (k >= 0)
		k = add_ranges(all, &mem->nvs, E820_TYPE_NVS);
	if (k >= 0)
		k = add_ranges(all, &mem->reserved, E820_TYPE_RESERVED);
	if (k < 0)
		return k;

	k = resolve_overlaps(all, &out);
	if (k < 0)
		return k;
	if (out.count > 0)
		qsort(out.entries, out.count, sizeof(*out.entries), cmp_ram_first);
	*ret = out;
	return 0;
}

int e820_build_crash(const struct crash_memory *mem, const struct mem_range *keep, size_t n_keep,
		     struct e820_table *ret)
{
	_cleanup_(e820_table_done) struct e820_table all = {};
	_cleanup_(mem_ranges_done) struct mem_ranges low = {}, crash = {};
	int k;

	/* The System RAM below 1 MiB, cut at 1 MiB, as the kernel's own loader does. */
	for (size_t i = 0; i < mem->ram.count; i++) {
		const struct mem_range *r = &mem->ram.ranges[i];

		if (r->start >= LOW_1M)
			continue;
		k = mem_ranges_add(&low, r->start, MIN(r->end, LOW_1M - 1));
		if (k < 0)
			return k;
	}

	k = mem_ranges_add(&crash, mem->crash.start, mem->crash.end);
	if (k >= 0 && mem->has_crash_low)
		k = mem_ranges_add(&crash, mem->crash_low.start, mem->crash_low.end);
	for (size_t i = 0; k >= 0 && i < n_keep; i++)
		k = mem_ranges_exclude(&crash, keep[i].start, keep[i].end);
	if (k < 0)
		return k;
	/* Slivers under a page are no use to the crash kernel; the kernel drops them too. */
	mem_ranges_drop_smaller(&crash, PAGE_4K);

	k = add_ranges(&all, &low, E820_TYPE_RAM);
	if (k >= 0)
		k = add_ranges(&all, &crash, E820_TYPE_RAM);
	if (k < 0)
		return k;
	return finish(&all, mem, ret);
}

int e820_build_plain(const struct crash_memory *mem, struct e820_table *ret)
{
	_cleanup_(e820_table_done) struct e820_table all = {};
	int k;

	k = add_ranges(&all, &mem->ram, E820_TYPE_RAM);
	if (k < 0)
		return k;
	return finish(&all, mem, ret);
}
