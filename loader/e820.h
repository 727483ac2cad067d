/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash kernel's memory map, as it goes into boot_params: the only
 * memory the crash kernel may use as RAM is the low 1 MiB (real-mode
 * trampoline) and the crash reservation(s) minus what must survive until
 * /proc/vmcore is read (the elfcorehdr). The first kernel's ACPI, ACPI NVS
 * and reserved ranges are passed along so firmware tables stay reachable;
 * everything else is the dead kernel's memory and stays out of the map.
 */
#pragma once

#include "crashmem.h"

#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI 3
#define E820_TYPE_NVS 4

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_table {
	struct e820_entry *entries;
	size_t count;
	size_t allocated;
};

void e820_table_done(struct e820_table *t);
int e820_table_add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type);

/*
 * Builds the crash kernel's map from mem. keep: ranges inside the crash
 * reservation that the crash kernel must not use as RAM (the elfcorehdr
 * segment). Overlapping input ranges resolve like the kernel's own e820
 * sanitizer does (the higher type wins), so the result has no overlaps.
 * Order: RAM entries first, then the others, each by address; when there
 * are more than fit in boot_params (128), the ones that spill into
 * setup_data are reserved ranges and the early boot code, which reads only
 * boot_params, still sees all the RAM.
 */
int e820_build_crash(const struct crash_memory *mem, const struct mem_range *keep, size_t n_keep,
		     struct e820_table *ret);

/*
 * The map for a plain kexec (a reboot into a new kernel): all of mem's
 * System RAM, and the firmware ranges as for a crash kernel, cleaned and
 * ordered the same way.
 */
int e820_build_plain(const struct crash_memory *mem, struct e820_table *ret);

/* Total bytes of entries of one type. */
uint64_t e820_total(const struct e820_table *t, uint32_t type);
