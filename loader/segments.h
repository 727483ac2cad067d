/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kexec_load segments: placing them in the crash reservation, and the
 * kernel's rules checked in user space first (kernel/kexec_core.c
 * sanity_check_segment_list, kimage_crash_alloc), so that a refusal comes
 * with a message naming the segment and the rule instead of a bare errno
 * from the syscall, and before the syscall unloads the working image.
 */
#pragma once

#include <linux/kexec.h>

#include "crashmem.h"

/* x86's value; the generic 0x8 is refused with EINVAL on x86 6.6-6.9. */
#ifndef KEXEC_UPDATE_ELFCOREHDR
#define KEXEC_UPDATE_ELFCOREHDR 0x00000004
#endif

#define KEXEC_PAGE_SIZE 4096ULL

struct kexec_limits {
	/* The main "Crash kernel" range for a crash load; NULL for a plain kexec. */
	const struct mem_range *crash;
	/* The ",low" range, which kexec_load refuses; NULL when there is none. */
	const struct mem_range *crash_low;
	/* The kernel's RAM for the half-of-RAM rule; 0 skips that rule. */
	uint64_t ram_bytes;
};

/*
 * The kernel's rules: at most KEXEC_SEGMENT_MAX segments (-EINVAL); page-
 * aligned mem and memsz (-EADDRNOTAVAIL); no overlap (-EINVAL); bufsz <=
 * memsz (-EINVAL); the total at most half of RAM (-EINVAL); for a crash
 * load every segment and the entry point inside the main crash range
 * (-EADDRNOTAVAIL). names[i] names segment i in messages (NULL: "#i").
 * *error gets the message; the caller frees it.
 */
int kexec_segments_check(const struct kexec_segment *segs, const char *const *names, size_t n,
			 unsigned long entry, const struct kexec_limits *lim, char **error);

/* Bottom-up placement in one range. */
struct segment_layout {
	struct mem_range range;
	uint64_t next; /* lowest free address */
};

void segment_layout_init(struct segment_layout *l, const struct mem_range *range);
/*
 * Takes memsz bytes at the lowest address >= min_addr that is a multiple
 * of align (a power of two). -ENOSPC when the range has no room left.
 */
int segment_layout_take(struct segment_layout *l, uint64_t memsz, uint64_t align, uint64_t min_addr,
			uint64_t *ret_addr);
/* Bytes left above the last placed segment. */
uint64_t segment_layout_left(const struct segment_layout *l);
