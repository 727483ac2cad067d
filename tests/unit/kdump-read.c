// SPDX-License-Identifier: GPL-2.0-or-later
#include "kdump-read.h"

#include <zstd.h>

int kd_open(const char *path, struct kd_file *ret)
{
	struct kd_file k = {};
	char *data;
	uint64_t bitmap_off, half;
	int r;

	r = read_full_file(path, 1ULL << 32, &data, &k.size);
	if (r < 0)
		return r;
	k.buf = (uint8_t *)data;
	if (k.size < 2 * 4096 || memcmp(k.buf, "KDUMP   ", 8) != 0) {
		free(data);
		return -EBADMSG;
	}
	k.status = kd_u32(&k, 424);
	k.block_size = kd_u32(&k, 428);
	k.sub_hdr_size = kd_u32(&k, 432);
	k.bitmap_blocks = kd_u32(&k, 436);
	k.max_mapnr32 = kd_u32(&k, 440);
	k.nr_cpus = (int32_t)kd_u32(&k, 460);
	k.max_mapnr = kd_u64(&k, 4096 + 96);
	bitmap_off = (1ULL + k.sub_hdr_size) * k.block_size;
	half = (uint64_t)k.bitmap_blocks * k.block_size / 2;
	if (k.block_size != 4096 || bitmap_off + 2 * half > k.size) {
		free(data);
		return -EBADMSG;
	}
	k.bitmap1 = k.buf + bitmap_off;
	k.bitmap2 = k.buf + bitmap_off + half;
	k.desc_offset = bitmap_off + 2 * half;
	k.rank = calloc(half + 1, sizeof(*k.rank));
	if (!k.rank) {
		free(data);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < half; i++)
		k.rank[i + 1] = k.rank[i] + __builtin_popcount(k.bitmap2[i]);
	*ret = k;
	return 0;
}

void kd_close(struct kd_file *k)
{
	free(k->buf);
	free(k->rank);
	k->buf = NULL;
	k->rank = NULL;
}

uint32_t kd_u32(const struct kd_file *k, uint64_t off)
{
	uint32_t v;

	memcpy(&v, k->buf + off, 4);
	return v;
}

uint64_t kd_u64(const struct kd_file *k, uint64_t off)
{
	uint64_t v;

	memcpy(&v, k->buf + off, 8);
	return v;
}

bool kd_is_ram(const struct kd_file *k, uint64_t pfn)
{
	return pfn < k->max_mapnr && (k->bitmap1[pfn >> 3] & (1U << (pfn & 7)));
}

bool kd_is_dumped(const struct kd_file *k, uint64_t pfn)
{
	return pfn < k->max_mapnr && (k->bitmap2[pfn >> 3] & (1U << (pfn & 7)));
}

uint64_t kd_count_dumped(const struct kd_file *k)
{
	uint64_t n = 0;

	for (uint64_t pfn = 0; pfn < k->max_mapnr; pfn++)
		n += kd_is_dumped(k, pfn);
	return n;
}

int kd_desc(const struct kd_file *k, uint64_t pfn, struct kd_desc *ret)
{
	uint64_t pos, off;

	if (!kd_is_dumped(k, pfn))
		return -ENODATA;
	pos = k->rank[pfn >> 3];
	for (uint64_t i = pfn & ~7ULL; i < pfn; i++)
		pos += kd_is_dumped(k, i);
	off = k->desc_offset + pos * 24;
	if (off + 24 > k->size)
		return -EBADMSG;
	ret->offset = (int64_t)kd_u64(k, off);
	ret->size = kd_u32(k, off + 8);
	ret->flags = kd_u32(k, off + 12);
	ret->page_flags = kd_u64(k, off + 16);
	return 0;
}

int kd_read_page(const struct kd_file *k, uint64_t pfn, void *out)
{
	struct kd_desc d;
	int r;

	if (!kd_is_ram(k, pfn))
		return -ENOENT;
	r = kd_desc(k, pfn, &d);
	if (r < 0)
		return r;
	if (d.offset <= 0 || d.size == 0 || d.size > 4096 || (uint64_t)d.offset + d.size > k->size)
		return -EBADMSG;
	if (d.flags == 0) {
		if (d.size != 4096)
			return -EBADMSG;
		memcpy(out, k->buf + d.offset, 4096);
		return 0;
	}
	if (d.flags != 0x20)
		return -EBADMSG;
	if (ZSTD_decompress(out, 4096, k->buf + d.offset, d.size) != 4096)
		return -EBADMSG;
	return 0;
}
