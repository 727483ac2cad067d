/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ELF64 core header that describes the panicked kernel to the crash
 * kernel, passed as elfcorehdr=<address>; the crash kernel builds
 * /proc/vmcore from it. Same content as the kernel's own kexec_file_load
 * path: a PT_NOTE per CPU (its crash_notes buffer), a PT_NOTE for
 * VMCOREINFO, a PT_LOAD for the kernel text mapping, and a PT_LOAD per
 * System RAM range minus the low 1 MiB and the crash reservation(s).
 *
 * Everything is read through a root directory (tests use fixture trees):
 *   /sys/devices/system/cpu/possible, cpuN/crash_notes, crash_notes_size
 *   /sys/kernel/vmcoreinfo                 "address size" in hex
 *   /proc/kcore (program headers only)     kernel text and PAGE_OFFSET
 *   /sys/kernel/crash_elfcorehdr_size      only with CONFIG_CRASH_HOTPLUG
 */
#pragma once

#include "crashmem.h"

struct crash_cpu_note {
	unsigned cpu;
	uint64_t addr;
	uint64_t size;
};

struct elfcorehdr_info {
	struct crash_cpu_note *notes;
	size_t n_notes;
	uint64_t vmcoreinfo_addr;
	uint64_t vmcoreinfo_size;
	/* The kernel's own mapping: _text and _end - _text, as /proc/kcore has it. */
	uint64_t text_vaddr;
	uint64_t text_paddr;
	uint64_t text_size;
	uint64_t page_offset; /* the direct map's base: PT_LOAD vaddr = page_offset + paddr */
	bool five_level; /* the direct map lies below the 4-level kernel half */
	struct mem_ranges ram; /* what the PT_LOADs cover */
	/* /sys/kernel/crash_elfcorehdr_size; 0 when the kernel has no crash hotplug. */
	uint64_t hotplug_size;
};

void elfcorehdr_info_done(struct elfcorehdr_info *info);

/*
 * Reads everything above from root. *error (when not NULL) gets a
 * one-line message on failure; the caller frees it.
 */
int elfcorehdr_collect(const char *root, const struct crash_memory *mem,
		       struct elfcorehdr_info *ret, char **error);

/*
 * Only the kernel's mapping from /proc/kcore: text_*, page_offset and
 * five_level (a plain kexec needs the paging mode, nothing else).
 */
int elfcorehdr_kernel_map(const char *root, struct elfcorehdr_info *info, char **error);

/* The RAM ranges the dump covers: mem's System RAM minus low 1 MiB and the crash ranges. */
int elfcorehdr_ram_ranges(const struct crash_memory *mem, struct mem_ranges *ret);

/* Parses a CPU list as sysfs prints it ("0-3,8,10-11"); cpus[] grows as needed. */
int elfcorehdr_parse_cpu_list(const char *s, unsigned **ret_cpus, size_t *ret_n);

/* The header bytes: ret_size is the exact size (the segment's bufsz). */
int elfcorehdr_build(const struct elfcorehdr_info *info, uint8_t **ret_buf, size_t *ret_size);

/*
 * The memory the segment needs: bufsz page-aligned, or, when the kernel
 * will rewrite the header on hotplug, room for the largest header it can
 * write (the ELF header plus crash_elfcorehdr_size bytes of program headers).
 */
uint64_t elfcorehdr_memsz(const struct elfcorehdr_info *info, size_t bufsz, bool hotplug);
