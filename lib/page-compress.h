/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Page compression for the kdump-compressed format: every page on its own,
 * with zlib, lzo1x_1, snappy or zstd, as makedumpfile's -c, -l, -p and -z
 * write them. A page whose compressed form is not smaller than the page is
 * stored raw (flags 0), as every reader expects.
 *
 * Each compressing thread owns a kdump_compressor (its library state and a
 * scratch buffer); the writer (kdump_writer.h) only copies the bytes.
 */
#pragma once

#include "settings.h"
#include "util.h"

#define KDUMP_BLOCK_SIZE 4096U

/* Header status bits, and (compression bits only) page descriptor flags. */
#define KDUMP_FLAG_ZLIB 0x1U
#define KDUMP_FLAG_LZO 0x2U
#define KDUMP_FLAG_SNAPPY 0x4U
#define KDUMP_STATUS_INCOMPLETE 0x8U
#define KDUMP_STATUS_EXCLUDED_VMEMMAP 0x10U
#define KDUMP_FLAG_ZSTD 0x20U

/* One page as it goes into the file. */
struct kdump_page {
	const void *data;
	uint32_t size; /* bytes at data; KDUMP_BLOCK_SIZE when raw */
	uint32_t flags; /* 0 (raw) or the compression's KDUMP_FLAG_* */
};

/*
 * The header status bit and descriptor flag of a compression (0 for none).
 * -EOPNOTSUPP for a value that names no compression.
 */
int kdump_compression_flag(enum compression c, uint32_t *ret);

struct kdump_compressor;

/*
 * level: the zstd level (makedumpfile -z uses 1). zlib always uses
 * Z_BEST_SPEED, as makedumpfile -c does; lzo and snappy have no level.
 * -EINVAL: a zstd level out of range; -EOPNOTSUPP: no such compression.
 */
int kdump_compressor_new(enum compression c, int level, struct kdump_compressor **ret);
struct kdump_compressor *kdump_compressor_free(struct kdump_compressor *c);
static inline void kdump_compressor_freep(struct kdump_compressor **c)
{
	kdump_compressor_free(*c);
}
#define _cleanup_kdump_compressor_ _cleanup_(kdump_compressor_freep)

/*
 * Compresses one KDUMP_BLOCK_SIZE page into buf (KDUMP_BLOCK_SIZE bytes,
 * the caller's, so a thread can fill a batch) and describes the result in
 * *ret: ret->data is buf and ret->flags the compression's flag, or
 * ret->data is page itself with flags 0 when compression does not make the
 * page smaller (or fails): then it is stored raw.
 */
void kdump_compress_page(struct kdump_compressor *c, const void *page, void *buf,
			 struct kdump_page *ret);

/* The page is all zero bytes. */
bool kdump_page_is_zero(const void *page);
