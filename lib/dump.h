/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one reader of dump memory. It opens an ELF vmcore (/proc/vmcore or a
 * saved copy), kdump-compressed files and flattened ones (makedumpfile -F
 * saved to a file) behind the same calls: the collector, `crashcapctl analyze` and the tests all
 * read physical and kernel-virtual memory through here.
 *
 * x86_64 only; pages are 4096 bytes.
 */
#pragma once

#include "util.h"
#include "vmcoreinfo.h"

#define DUMP_PAGE_SIZE 4096ULL
#define DUMP_PAGE_SHIFT 12

enum dump_format {
	DUMP_FORMAT_ELF,
	DUMP_FORMAT_KDUMP,
};

/* A range of physical memory the dump holds (a PT_LOAD of an ELF vmcore). */
struct dump_segment {
	uint64_t phys_start;
	uint64_t mem_size; /* bytes of memory the segment describes */
	uint64_t file_offset; /* ELF: where its bytes start in the file */
	uint64_t file_size; /* bytes present in the file; the rest reads as zeros */
	uint64_t virt_start; /* p_vaddr as the header gives it (may be 0) */
};

struct dump;

/* Opens and checks a dump; errors: -ENOEXEC not a dump we understand. */
int dump_open(const char *path, struct dump **ret);
struct dump *dump_free(struct dump *d);
static inline void dump_freep(struct dump **d)
{
	dump_free(*d);
}
#define _cleanup_dump_ _cleanup_(dump_freep)

enum dump_format dump_get_format(const struct dump *d);
/* The open dump file (for mmap or pread by the collector); owned by d. */
int dump_fd(const struct dump *d);
/* The ELF notes exactly as stored (all PT_NOTE segments, concatenated). */
const void *dump_notes(const struct dump *d, size_t *ret_size);
/* Offset of the VMCOREINFO note's descriptor inside dump_notes(), or -ENOENT. */
int dump_vmcoreinfo_note_offset(const struct dump *d, size_t *ret_offset, size_t *ret_size);
/* Parsed VMCOREINFO, or NULL when the dump carries none. */
const struct vmcoreinfo *dump_vmcoreinfo(const struct dump *d);
const struct dump_segment *dump_segments(const struct dump *d, size_t *ret_count);
/* One past the highest page frame number any segment covers. */
uint64_t dump_max_pfn(const struct dump *d);
/* NT_PRSTATUS notes: one per CPU that was online at the crash. */
unsigned dump_nr_cpus(const struct dump *d);
/* The file is /proc/vmcore (in a crash kernel), not a saved copy. */
bool dump_is_procfs(const struct dump *d);
/* The file is shorter than its headers say (a copy cut short). */
bool dump_is_truncated(const struct dump *d);
/* kdump-compressed: the header says INCOMPLETE (the dump was interrupted). */
bool dump_is_incomplete(const struct dump *d);

/*
 * Reads physical memory. -ENOENT: some of the range is not RAM in this dump,
 * or (kdump-compressed) a page the dump excluded; -ENODATA: the range lies
 * past the end of a truncated file, or in a page an INCOMPLETE dump never
 * wrote; -EBADMSG: page data that does not decompress. A struct dump keeps
 * a small page cache: one thread at a time.
 */
int dump_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len);
/*
 * Kernel virtual address to physical, through the dumped kernel's page tables
 * (or, when VMCOREINFO names none, the PT_LOADs' virtual addresses).
 * -EFAULT: nothing is mapped at vaddr. dump_read_virt() also fails as
 * dump_read_phys() does.
 */
int dump_vtop(struct dump *d, uint64_t vaddr, uint64_t *ret_paddr);
int dump_read_virt(struct dump *d, uint64_t vaddr, void *buf, size_t len);
