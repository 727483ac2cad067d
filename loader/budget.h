/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash kernel's memory budget: what crashkernel= must hold for a
 * capture on this machine, part by part, each with where its figure comes
 * from (a file, a measurement in the last dump, or the model). Shared by
 * crashcapctl estimate, status and reserve, and by crashcapd, which shrinks
 * the reservation to it (reservation_shrink = yes). Reads everything below
 * root (NULL: the running system); logs at debug level only.
 */
#pragma once

#include "loadfile.h"
#include "settings.h"

#define BUDGET_ROUND (16ULL << 20)

enum budget_part_id {
	BUDGET_KERNEL, /* the crash kernel's init_size: what it needs to boot */
	BUDGET_INITRD, /* the initramfs as loaded (packed) */
	BUDGET_INITRD_UNPACKED, /* its files in the crash kernel's tmpfs */
	BUDGET_COLLECTOR, /* the collector's peak at the configured threads */
	BUDGET_KERNEL_RUNTIME, /* what the crash kernel allocates once booted */
	BUDGET_WRITEBACK, /* page cache while the dump is written */
	_BUDGET_PART_MAX,
};

enum budget_source {
	BUDGET_SOURCE_FILE, /* read from a file (kernel header, initramfs) */
	BUDGET_SOURCE_LOADED, /* the image loaded now (loaded.json) */
	BUDGET_SOURCE_MEASURED, /* measured in the crash kernel in an earlier dump */
	BUDGET_SOURCE_MODEL, /* a constant or formula measured on test guests */
};

struct budget_part {
	const char *name; /* "crash kernel", "initramfs", ... */
	uint64_t bytes;
	enum budget_source source;
	char source_text[160]; /* "measured in dump 2026-...", "model", a path */
	char why[300]; /* one line of reasoning */
};

struct budget {
	struct budget_part parts[_BUDGET_PART_MAX];
	char *kernel; /* the crash kernel file the budget is for */
	char *initrd; /* the initramfs; NULL when not built yet */
	uint64_t kernel_file_size; /* bytes of the bzImage */
	uint64_t initrd_files; /* files in the initramfs; 0: unknown */
	unsigned cpus; /* the crash kernel's CPUs: crash_cpus (its nr_cpus=) */
	unsigned threads; /* the collector's threads there: threads, else one per CPU */
	uint64_t ram; /* bytes of System RAM now */
	uint64_t ram_end; /* highest RAM address + 1 the budget is for (max_memory) */
	bool ram_end_from_setting; /* ram_end is max_memory, beyond today's RAM */
	uint64_t sum; /* of the parts */
	uint64_t total; /* sum + the crash kernel's own page structs */
	uint64_t proposal; /* total rounded up to BUDGET_ROUND: the crashkernel= to use */
	uint64_t reserved; /* reserved now (all ranges); 0: none or unknown */
};

void budget_done(struct budget *b);
const char *budget_source_to_string(enum budget_source s);

/*
 * Computes the budget for settings s (NULL: defaults) on the system at
 * root. On failure err (may be NULL) says what to do: the crash kernel
 * unreadable or the running release unknown.
 */
int budget_compute(const char *root, const struct settings *s, struct budget *ret,
		   struct load_error *err);
/*
 * The same for the kernel and initramfs a load is about to use (paths as
 * opened, root included; initrd NULL: none), not those loaded now.
 */
int budget_compute_image(const char *root, const struct settings *s, const char *kernel,
			 const char *initrd, struct budget *ret, struct load_error *err);
