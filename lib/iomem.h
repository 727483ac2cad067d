/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /proc/iomem: the physical memory map as the kernel's resource tree. Each
 * line is "START-END : NAME" in hex, END inclusive, nested ranges indented
 * by two spaces per level. Readers without CAP_SYS_ADMIN see every address
 * as zero; iomem_parse() says so with -EPERM instead of returning a map of
 * zeros.
 */
#pragma once

#include "util.h"

#define IOMEM_NO_PARENT SIZE_MAX

struct iomem_range {
	uint64_t start;
	uint64_t end; /* inclusive, as /proc/iomem prints it */
	char *name;
	unsigned depth; /* 0: top level; one more per two spaces of indentation */
	size_t parent; /* index of the enclosing range, IOMEM_NO_PARENT at depth 0 */
};

/* The ranges in file order (so a parent comes before its children). */
struct iomem {
	struct iomem_range *ranges;
	size_t count;
};

#define iomem_foreach(r, m) for ((r) = (m)->ranges; (r) < (m)->ranges + (m)->count; (r)++)

/* The reserved crash kernel memory: "Crash kernel" ranges, one or two. */
struct iomem_crash_ranges {
	/* Where kexec places the crash kernel (crashkernel=X or X,high). */
	const struct iomem_range *main;
	/* The ",low" part of crashkernel=X,high + Y,low, or NULL. */
	const struct iomem_range *low;
};

void iomem_done(struct iomem *m);
/*
 * Parses text in /proc/iomem format. -EINVAL for a malformed line (its
 * 1-based number goes to *error_line when error_line is not NULL); -EPERM
 * when every address is zero (the view of a reader that is not root).
 */
int iomem_parse(const char *text, struct iomem *ret, unsigned *error_line);
/* Reads and parses root + /proc/iomem; errors as iomem_parse() or from open/read. */
int iomem_read(const char *root, struct iomem *ret, unsigned *error_line);

static inline uint64_t iomem_range_size(const struct iomem_range *r)
{
	return r->end - r->start + 1;
}

/* The first range named name after "after" (NULL: from the start), at any depth. */
const struct iomem_range *iomem_find(const struct iomem *m, const char *name,
				     const struct iomem_range *after);
/* Bytes in all ranges named name. */
uint64_t iomem_total(const struct iomem *m, const char *name);
/*
 * The "Crash kernel" ranges: with one, it is main; with two (X,high + Y,low)
 * the higher one is main. -ENOENT when nothing is reserved.
 */
int iomem_crash_ranges(const struct iomem *m, struct iomem_crash_ranges *ret);
