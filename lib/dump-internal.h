/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the format readers (dump-elf.c, later dump-kdump.c) and dump.c share. */
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
};

struct dump {
	enum dump_format format;
	int fd;
	uint64_t file_size;
	bool truncated;

	void *notes;
	size_t notes_size;
	struct vmcoreinfo *vmcoreinfo;
	unsigned nr_cpus;

	struct dump_segment *segments; /* sorted by phys_start */
	size_t n_segments;
	size_t last_segment; /* a hint: reads come in runs */

	struct dump_vtop_info vtop;
};

/* Fills d->segments, d->notes, d->truncated; -ENOEXEC if fd is no ELF64 x86_64 core. */
int dump_elf_load(struct dump *d);
int dump_elf_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len);
