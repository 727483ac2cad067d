/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The first kernel's physical memory as a crash image needs it: which
 * ranges are RAM (for the dump's PT_LOADs), which are firmware tables and
 * reserved (for the crash kernel's e820), and where the crash reservation
 * is. Filled from /proc/iomem (lib/iomem.h), or by hand in tests.
 *
 * Ranges are inclusive [start, end], as /proc/iomem prints them; lists grow
 * as needed, with no fixed limit.
 */
#pragma once

#include "iomem.h"
#include "util.h"

struct mem_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct mem_ranges {
	struct mem_range *ranges;
	size_t count;
	size_t allocated;
};

static inline uint64_t mem_range_size(const struct mem_range *r)
{
	return r->end - r->start + 1;
}

void mem_ranges_done(struct mem_ranges *l);
/* Appends [start, end]; -EINVAL when end < start. */
int mem_ranges_add(struct mem_ranges *l, uint64_t start, uint64_t end);
/* Sorts by start (then end). */
void mem_ranges_sort(struct mem_ranges *l);
/* Sorts and merges ranges that overlap or touch. */
void mem_ranges_normalize(struct mem_ranges *l);
/* Removes [start, end] from every range, splitting where it falls inside one. */
int mem_ranges_exclude(struct mem_ranges *l, uint64_t start, uint64_t end);
/* Drops ranges smaller than min_size. */
void mem_ranges_drop_smaller(struct mem_ranges *l, uint64_t min_size);
uint64_t mem_ranges_total(const struct mem_ranges *l);
int mem_ranges_copy(const struct mem_ranges *from, struct mem_ranges *ret);

struct crash_memory {
	/* "System RAM", outermost ones only, sorted, one per resource as the kernel's walk gives them */
	struct mem_ranges ram;
	struct mem_ranges acpi; /* "ACPI Tables" */
	struct mem_ranges nvs; /* "ACPI Non-volatile Storage" */
	struct mem_ranges reserved; /* "Reserved" (the e820 type; "reserved" on older kernels) */
	struct mem_range crash; /* where kexec_load places segments: the main (high) range */
	bool has_crash; /* always true from crash_memory_*(); system_memory_read() may leave it false */
	struct mem_range crash_low; /* the ",low" range of crashkernel=X,high + Y,low */
	bool has_crash_low;
};

void crash_memory_done(struct crash_memory *m);
/* -ENOENT when nothing is reserved for a crash kernel. */
int crash_memory_from_iomem(const struct iomem *io, struct crash_memory *ret);
/* iomem_read() and the above. */
int crash_memory_read(const char *root, struct crash_memory *ret);
/*
 * The same for a plain kexec, which needs no reservation: the crash ranges
 * are filled in (has_crash, has_crash_low) only when the system has them.
 */
int system_memory_read(const char *root, struct crash_memory *ret);
