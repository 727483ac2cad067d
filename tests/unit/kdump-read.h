/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: an independent, minimal reader of kdump-compressed files,
 * written from the format's offsets (not from lib/kdump_writer.c's
 * structures) so that tests check the bytes a real reader would see.
 */
#pragma once

#include "util.h"

struct kd_file {
	uint8_t *buf; /* the whole file */
	size_t size;
	uint32_t status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr32;
	int32_t nr_cpus;
	uint64_t max_mapnr; /* from the sub-header */
	const uint8_t *bitmap1, *bitmap2;
	uint64_t desc_offset;
	uint64_t *rank; /* dumped pages below pfn 8*i */
};

int kd_open(const char *path, struct kd_file *ret);
void kd_close(struct kd_file *k);

uint32_t kd_u32(const struct kd_file *k, uint64_t off);
uint64_t kd_u64(const struct kd_file *k, uint64_t off);
bool kd_is_ram(const struct kd_file *k, uint64_t pfn);
bool kd_is_dumped(const struct kd_file *k, uint64_t pfn);
/* Pages with a bit in bitmap 2. */
uint64_t kd_count_dumped(const struct kd_file *k);

struct kd_desc {
	int64_t offset;
	uint32_t size, flags;
	uint64_t page_flags;
};

/* The descriptor of a dumped pfn; -ENODATA when it has no bit in bitmap 2. */
int kd_desc(const struct kd_file *k, uint64_t pfn, struct kd_desc *ret);
/*
 * Reads one page as crash does: -ENOENT not RAM, -ENODATA not dumped,
 * -EBADMSG a descriptor or compressed data that does not decode.
 */
int kd_read_page(const struct kd_file *k, uint64_t pfn, void *out);
