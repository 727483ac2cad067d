// SPDX-License-Identifier: GPL-2.0-or-later
#include "segments.h"

#include <inttypes.h>

#include "errmsg.h"

static const char *seg_name(const char *const *names, size_t i, char *buf, size_t size)
{
	if (names && names[i])
		return names[i];
	snprintf(buf, size, "#%zu", i);
	return buf;
}

/* Two buffers: a message may name two unnamed segments. */
#define NAME(i) seg_name(names, (i), nb[0], sizeof(nb[0]))
#define NAME2(i) seg_name(names, (i), nb[1], sizeof(nb[1]))

int kexec_segments_check(const struct kexec_segment *segs, const char *const *names, size_t n,
			 unsigned long entry, const struct kexec_limits *lim, char **error)
{
	uint64_t total_pages = 0;
	char nb[2][24];

	if (n > KEXEC_SEGMENT_MAX)
		return errmsg_set(error, -EINVAL, "%zu segments: kexec_load takes at most %d", n,
				  KEXEC_SEGMENT_MAX);

	for (size_t i = 0; i < n; i++) {
		uint64_t mem = (uintptr_t)segs[i].mem, memsz = segs[i].memsz;

		if (mem + memsz < mem)
			return errmsg_set(error, -EADDRNOTAVAIL,
					  "segment %s: 0x%" PRIx64 " + 0x%" PRIx64
					  " runs past the end of the address space",
					  NAME(i), mem, memsz);
		if (mem % KEXEC_PAGE_SIZE)
			return errmsg_set(error, -EADDRNOTAVAIL,
					  "segment %s: address 0x%" PRIx64 " is not page-aligned",
					  NAME(i), mem);
		if (memsz % KEXEC_PAGE_SIZE)
			return errmsg_set(error, -EADDRNOTAVAIL,
					  "segment %s: memsz 0x%" PRIx64
					  " is not a multiple of the page size",
					  NAME(i), memsz);
	}

	for (size_t i = 0; i < n; i++) {
		uint64_t a = (uintptr_t)segs[i].mem, a_end = a + segs[i].memsz;

		for (size_t j = 0; j < i; j++) {
			uint64_t b = (uintptr_t)segs[j].mem, b_end = b + segs[j].memsz;

			if (a_end > b && a < b_end)
				return errmsg_set(error, -EINVAL,
						  "segments %s (0x%" PRIx64 "-0x%" PRIx64
						  ") and %s (0x%" PRIx64 "-0x%" PRIx64 ") overlap",
						  NAME(j), b, b_end - 1, NAME2(i), a, a_end - 1);
		}
	}

	for (size_t i = 0; i < n; i++)
		if (segs[i].bufsz > segs[i].memsz)
			return errmsg_set(error, -EINVAL,
					  "segment %s: bufsz 0x%zx is larger than memsz 0x%zx",
					  NAME(i), segs[i].bufsz, segs[i].memsz);

	if (lim && lim->ram_bytes > 0) {
		uint64_t half = lim->ram_bytes / KEXEC_PAGE_SIZE / 2;
		char a[32], b[32];

		for (size_t i = 0; i < n; i++)
			total_pages += DIV_ROUND_UP((uint64_t)segs[i].memsz, KEXEC_PAGE_SIZE);
		if (total_pages > half)
			return errmsg_set(error, -EINVAL,
					  "the segments take %s, more than half of RAM (%s): "
					  "kexec_load refuses that",
					  format_size(total_pages * KEXEC_PAGE_SIZE, a, sizeof(a)),
					  format_size(lim->ram_bytes, b, sizeof(b)));
	}

	if (lim && lim->crash) {
		const struct mem_range *c = lim->crash, *low = lim->crash_low;

		for (size_t i = 0; i < n; i++) {
			uint64_t s = (uintptr_t)segs[i].mem;
			uint64_t e = s + segs[i].memsz - (segs[i].memsz > 0);

			if (s >= c->start && e <= c->end)
				continue;
			if (low && s >= low->start && e <= low->end)
				return errmsg_set(
					error, -EADDRNOTAVAIL,
					"segment %s (0x%" PRIx64 "-0x%" PRIx64
					") is in the \",low\" crash range: kexec_load places "
					"segments only in the main \"Crash kernel\" range 0x%" PRIx64
					"-0x%" PRIx64,
					NAME(i), s, e, c->start, c->end);
			return errmsg_set(error, -EADDRNOTAVAIL,
					  "segment %s (0x%" PRIx64 "-0x%" PRIx64
					  ") lies outside the \"Crash kernel\" range 0x%" PRIx64
					  "-0x%" PRIx64,
					  NAME(i), s, e, c->start, c->end);
		}
		if (entry < c->start || entry > c->end)
			return errmsg_set(
				error, -EADDRNOTAVAIL,
				"entry point 0x%lx lies outside the \"Crash kernel\" range 0x%" PRIx64
				"-0x%" PRIx64,
				entry, c->start, c->end);
	}
	return 0;
}

void segment_layout_init(struct segment_layout *l, const struct mem_range *range)
{
	l->range = *range;
	l->next = ALIGN_UP(range->start, KEXEC_PAGE_SIZE);
}

int segment_layout_take(struct segment_layout *l, uint64_t memsz, uint64_t align, uint64_t min_addr,
			uint64_t *ret_addr)
{
	uint64_t at = MAX(l->next, min_addr);

	if (align == 0 || (align & (align - 1)) || memsz == 0)
		return -EINVAL;
	at = ALIGN_UP(at, align);
	if (at < l->next || at > l->range.end || memsz - 1 > l->range.end - at)
		return -ENOSPC;
	l->next = at + memsz;
	*ret_addr = at;
	return 0;
}

uint64_t segment_layout_left(const struct segment_layout *l)
{
	return l->next > l->range.end ? 0 : l->range.end - l->next + 1;
}
