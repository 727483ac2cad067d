/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the format readers (dump-elf.c, dump-kdump.c) and dump.c share. */
#pragma once

#include "dump.h"

/* What vtop.c learns once from VMCOREINFO and keeps. */
struct dump_vtop_info {
	bool loaded;
	int error; /* < 0: translation is impossible in this dump, for this reason */
	uint64_t top_pgt; /* physical address of the kernel's top-level page table */
	bool has_top_pgt;
	bool l5; /* 5-level paging */
	uint64_t phys_base;
	bool has_phys_base;
	uint64_t kernel_image_size;
	uint64_t sme_mask; /* AMD memory encryption bit, set in page table entries */
	uint64_t leaf_va, leaf_pa, leaf_size, pte_va, pte_table; /* vtop.c's walk cache */
};

struct dump {
	enum dump_format format;
	int fd;
	uint64_t file_size;
	/*
	 * /proc/vmcore, whose read() fails for pages its mmap() gives (see
	 * dump-elf.c): set by dump_open, which tests may override after it.
	 */
	bool procfs;
	/* pread_full(), unless a test puts a failing one in its place */
	int (*pread)(int fd, void *buf, size_t len, off_t offset, size_t *ret_read);
	bool truncated;

	void *notes;
	size_t notes_size;
	struct vmcoreinfo *vmcoreinfo;
	unsigned nr_cpus;

	struct dump_segment *segments; /* sorted by phys_start */
	size_t n_segments;
	size_t last_segment; /* a hint: reads come in runs */

	struct dump_vtop_info vtop;

	struct dump_kdump *kdump; /* DUMP_FORMAT_KDUMP only */
};

/* Fills d->segments, d->notes, d->truncated; -ENOEXEC if fd is no ELF64 x86_64 core. */
int dump_elf_load(struct dump *d);
int dump_elf_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len);

/*
 * kdump-compressed, regular or flattened. Fills d->segments (from bitmap 1),
 * d->notes (or d->vmcoreinfo from an old header), d->nr_cpus, d->truncated;
 * -ENOEXEC if fd holds neither.
 */
int dump_kdump_load(struct dump *d);
int dump_kdump_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len);
bool dump_kdump_incomplete(const struct dump *d);
struct dump_kdump *dump_kdump_free(struct dump_kdump *k);

/* A flattened file (makedumpfile -F) seen as the regular file it stands for. */
struct dump_flat;
/* -ENOEXEC: no flattened header. */
int dump_flat_open(int fd, uint64_t file_size, struct dump_flat **ret);
struct dump_flat *dump_flat_free(struct dump_flat *f);
/* Size of the regular file: the end of the furthest record. */
uint64_t dump_flat_size(const struct dump_flat *f);
/* The stream ended inside a record or before its end marker. */
bool dump_flat_truncated(const struct dump_flat *f);
/* Like pread_full on the regular file: ranges no record wrote read as zeros. */
int dump_flat_pread(struct dump_flat *f, int fd, void *buf, size_t len, uint64_t off,
		    size_t *ret_read);
