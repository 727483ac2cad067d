// SPDX-License-Identifier: GPL-2.0-or-later
#include "crashmem.h"

#include "log.h"

void mem_ranges_done(struct mem_ranges *l)
{
	free(l->ranges);
	*l = (struct mem_ranges){};
}

int mem_ranges_add(struct mem_ranges *l, uint64_t start, uint64_t end)
{
	if (end < start)
		return -EINVAL;
	if (l->count == l->allocated) {
		size_t n = l->allocated ? l->allocated * 2 : 16;
		struct mem_range *grown = reallocarray(l->ranges, n, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->ranges = grown;
		l->allocated = n;
	}
	l->ranges[l->count++] = (struct mem_range){ start, end };
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct mem_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

void mem_ranges_sort(struct mem_ranges *l)
{
	if (l->count > 0)
		qsort(l->ranges, l->count, sizeof(*l->ranges), cmp_range);
}

void mem_ranges_normalize(struct mem_ranges *l)
{
	size_t out = 0;

	if (l->count == 0)
		return;
	mem_ranges_sort(l);
	for (size_t i = 1; i < l->count; i++) {
		struct mem_range *last = &l->ranges[out];

		/* end + 1 cannot overflow unless end is the last address, which merges anyway */
		if (l->ranges[i].start <= last->end || l->ranges[i].start - 1 == last->end)
			last->end = MAX(last->end, l->ranges[i].end);
		else
			l->ranges[++out] = l->ranges[i];
	}
	l->count = out + 1;
}

int mem_ranges_exclude(struct mem_ranges *l, uint64_t start, uint64_t end)
{
	if (end < start)
		return -EINVAL;
	for (size_t i = 0; i < l->count; i++) {
		struct mem_range *r = &l->ranges[i];
		int k;

		if (end < r->start || start > r->end)
			continue;
		if (start <= r->start && end >= r->end) {
			/* Swallowed whole. */
			memmove(r, r + 1, (l->count - i - 1) * sizeof(*r));
			l->count--;
			i--;
		} else if (start <= r->start) {
			r->start = end + 1;
		} else if (end >= r->end) {
			r->end = start - 1;
		} else {
			/* Split in two: the upper part goes in at the end, order restored below. */
			uint64_t upper_end = r->end;

			r->end = start - 1;
			k = mem_ranges_add(l, end + 1, upper_end);
			if (k < 0)
				return k;
		}
	}
	mem_ranges_sort(l);
	return 0;
}

void mem_ranges_drop_smaller(struct mem_ranges *l, uint64_t min_size)
{
	size_t out = 0;

	for (size_t i = 0; i < l->count; i++)
		if (mem_range_size(&l->ranges[i]) >= min_size)
			l->ranges[out++] = l->ranges[i];
	l->count = out;
}

uint64_t mem_ranges_total(const struct mem_ranges *l)
{
	uint64_t total = 0;

	for (size_t i = 0; i < l->count; i++)
		total += mem_range_size(&l->ranges[i]);
	return total;
}

int mem_ranges_copy(const struct mem_ranges *from, struct mem_ranges *ret)
{
	struct mem_ranges l = {};

	if (from->count > 0) {
		l.ranges = reallocarray(NULL, from->count, sizeof(*l.ranges));
		if (!l.ranges)
			return -ENOMEM;
		memcpy(l.ranges, from->ranges, from->count * sizeof(*l.ranges));
		l.count = l.allocated = from->count;
	}
	*ret = l;
	return 0;
}

void crash_memory_done(struct crash_memory *m)
{
	mem_ranges_done(&m->ram);
	mem_ranges_done(&m->acpi);
	mem_ranges_done(&m->nvs);
	mem_ranges_done(&m->reserved);
	*m = (struct crash_memory){};
}

/* Whether r sits inside another "System RAM" range (hot-added kmem inside dax, say). */
static bool inside_system_ram(const struct iomem *io, const struct iomem_range *r)
{
	for (size_t p = r->parent; p != IOMEM_NO_PARENT; p = io->ranges[p].parent)
		if (streq(io->ranges[p].name, "System RAM"))
			return true;
	return false;
}

static bool is_system_ram(const char *name)
{
	/* "System RAM (kmem)" is RAM the kernel manages too: it belongs in the dump. */
	return streq(name, "System RAM") || startswith(name, "System RAM (");
}

/* Fills m from io; the crash ranges only when required or present. */
static int memory_from_iomem(const struct iomem *io, bool need_crash, struct crash_memory *ret)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	struct iomem_crash_ranges crash = {};
	const struct iomem_range *r;
	int k;

	k = iomem_crash_ranges(io, &crash);
	if (k < 0 && (need_crash || k != -ENOENT))
		return k;

	iomem_foreach(r, io) {
		struct mem_ranges *to = NULL;

		if (is_system_ram(r->name) && !inside_system_ram(io, r))
			to = &m.ram;
		else if (streq(r->name, "ACPI Tables"))
			to = &m.acpi;
		else if (streq(r->name, "ACPI Non-volatile Storage"))
			to = &m.nvs;
		else if (streq(r->name, "Reserved") || streq(r->name, "reserved"))
			to = &m.reserved;
		if (!to)
			continue;
		k = mem_ranges_add(to, r->start, r->end);
		if (k < 0)
			return k;
	}
	mem_ranges_sort(&m.ram);

	if (crash.main) {
		m.crash = (struct mem_range){ crash.main->start, crash.main->end };
		m.has_crash = true;
	}
	if (crash.low) {
		m.crash_low = (struct mem_range){ crash.low->start, crash.low->end };
		m.has_crash_low = true;
	}
	*ret = m;
	m = (struct crash_memory){};
	return 0;
}

int crash_memory_from_iomem(const struct iomem *io, struct crash_memory *ret)
{
	return memory_from_iomem(io, true, ret);
}

int crash_memory_read(const char *root, struct crash_memory *ret)
{
	_cleanup_(iomem_done) struct iomem io = {};
	int k;

	k = iomem_read(root, &io, NULL);
	if (k < 0)
		return k;
	return crash_memory_from_iomem(&io, ret);
}

int system_memory_read(const char *root, struct crash_memory *ret)
{
	_cleanup_(iomem_done) struct iomem io = {};
	int k;

	k = iomem_read(root, &io, NULL);
	if (k < 0)
		return k;
	return memory_from_iomem(&io, false, ret);
}
