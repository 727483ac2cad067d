// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-page compression with the calls and settings makedumpfile uses
 * (makedumpfile.c, write_kdump_pages*): zlib's deflate at Z_BEST_SPEED on
 * a stream reset for every page (its compress_mdf), lzo1x_1_compress,
 * snappy_compress and ZSTD_compressCCtx; a result of page size or more is
 * stored raw.
 *
 * zlib and zstd can be told the output must fit in a page and fail when it
 * does not, so they write straight into the caller's buffer. lzo1x_1 and
 * snappy cannot: they need room for their worst case (more than a page), so
 * they write into the compressor's scratch buffer and the result is copied
 * out only when it is smaller than a page.
 */
#include "page-compress.h"

#include <errno.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* lzo1x_1's worst case for one page, from lzo's documentation (as makedumpfile sizes it). */
#define LZO_BOUND (KDUMP_BLOCK_SIZE + KDUMP_BLOCK_SIZE / 16 + 64 + 3)

struct kdump_compressor {
	enum compression compression;
	int level;
	ZSTD_CCtx *zstd;
	z_stream *zlib; /* initialised for deflate when set */
	void *wrkmem; /* lzo */
	uint8_t *scratch; /* lzo and snappy */
	size_t scratch_size;
};

int kdump_compression_flag(enum compression c, uint32_t *ret)
{
	static const uint32_t flags[] = {
		[COMPRESSION_NONE] = 0,
		[COMPRESSION_ZSTD] = KDUMP_FLAG_ZSTD,
		[COMPRESSION_ZLIB] = KDUMP_FLAG_ZLIB,
		[COMPRESSION_LZO] = KDUMP_FLAG_LZO,
		[COMPRESSION_SNAPPY] = KDUMP_FLAG_SNAPPY,
	};

	if ((unsigned)c >= ELEMENTSOF(flags))
		return -EOPNOTSUPP;
	*ret = flags[c];
	return 0;
}

static int scratch_new(struct kdump_compressor *k, size_t size)
{
	k->scratch = malloc(size);
	if (!k->scratch)
		return -ENOMEM;
	k->scratch_size = size;
	return 0;
}

static int compressor_init(struct kdump_compressor *k, int level)
{
	switch (k->compression) {
	case COMPRESSION_NONE:
		return 0;
	case COMPRESSION_ZSTD:
		if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
			return -EINVAL;
		k->zstd = ZSTD_createCCtx();
		return k->zstd ? 0 : -ENOMEM;
	case COMPRESSION_ZLIB:
		k->zlib = calloc(1, sizeof(*k->zlib));
		if (!k->zlib)
			return -ENOMEM;
		if (deflateInit(k->zlib, Z_BEST_SPEED) != Z_OK) {
			/* Nothing to end: the stream never became usable. */
			free(k->zlib);
			k->zlib = NULL;
			return -ENOMEM;
		}
		return 0;
	case COMPRESSION_LZO:
		if (lzo_init() != LZO_E_OK)
			return -EOPNOTSUPP;
		k->wrkmem = malloc(LZO1X_1_MEM_COMPRESS);
		if (!k->wrkmem)
			return -ENOMEM;
		return scratch_new(k, LZO_BOUND);
	case COMPRESSION_SNAPPY:
		return scratch_new(k, snappy_max_compressed_length(KDUMP_BLOCK_SIZE));
	}
	return -EOPNOTSUPP;
}

int kdump_compressor_new(enum compression c, int level, struct kdump_compressor **ret)
{
	_cleanup_kdump_compressor_ struct kdump_compressor *k = NULL;
	uint32_t flag;
	int r;

	r = kdump_compression_flag(c, &flag);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->compression = c;
	k->level = level;
	r = compressor_init(k, level);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

struct kdump_compressor *kdump_compressor_free(struct kdump_compressor *c)
{
	if (!c)
		return NULL;
	ZSTD_freeCCtx(c->zstd);
	if (c->zlib) {
		deflateEnd(c->zlib);
		free(c->zlib);
	}
	free(c->wrkmem);
	free(c->scratch);
	free(c);
	return NULL;
}

/* Bytes of compressed output at buf, or 0 when the page is to be stored raw. */
static size_t compress_zlib(z_stream *z, const void *page, void *buf)
{
	size_t n = 0;
	int r;

	z->next_in = (Bytef *)page;
	z->avail_in = KDUMP_BLOCK_SIZE;
	z->next_out = buf;
	z->avail_out = KDUMP_BLOCK_SIZE;
	r = deflate(z, Z_FINISH);
	/* Z_OK here means the page of output filled up before the end. */
	if (r == Z_STREAM_END)
		n = z->total_out;
	(void)deflateReset(z);
	return n;
}

static size_t compress_lzo(struct kdump_compressor *c, const void *page)
{
	lzo_uint n = c->scratch_size;

	if (lzo1x_1_compress(page, KDUMP_BLOCK_SIZE, c->scratch, &n, c->wrkmem) != LZO_E_OK)
		return 0;
	return n;
}

static size_t compress_snappy(struct kdump_compressor *c, const void *page)
{
	size_t n = c->scratch_size;

	if (snappy_compress(page, KDUMP_BLOCK_SIZE, (char *)c->scratch, &n) != SNAPPY_OK)
		return 0;
	return n;
}

static size_t compress_zstd(struct kdump_compressor *c, const void *page, void *buf)
{
	/* A destination of one page: larger output fails with dstSize_tooSmall. */
	size_t n =
		ZSTD_compressCCtx(c->zstd, buf, KDUMP_BLOCK_SIZE, page, KDUMP_BLOCK_SIZE, c->level);

	return ZSTD_isError(n) ? 0 : n;
}

void kdump_compress_page(struct kdump_compressor *c, const void *page, void *buf,
			 struct kdump_page *ret)
{
	size_t n = 0;
	uint32_t flag = 0;

	switch (c->compression) {
	case COMPRESSION_NONE:
		break;
	case COMPRESSION_ZSTD:
		n = compress_zstd(c, page, buf);
		flag = KDUMP_FLAG_ZSTD;
		break;
	case COMPRESSION_ZLIB:
		n = compress_zlib(c->zlib, page, buf);
		flag = KDUMP_FLAG_ZLIB;
		break;
	case COMPRESSION_LZO:
		n = compress_lzo(c, page);
		flag = KDUMP_FLAG_LZO;
		break;
	case COMPRESSION_SNAPPY:
		n = compress_snappy(c, page);
		flag = KDUMP_FLAG_SNAPPY;
		break;
	}
	if (n == 0 || n >= KDUMP_BLOCK_SIZE) {
		*ret = (struct kdump_page){ .data = page, .size = KDUMP_BLOCK_SIZE, .flags = 0 };
		return;
	}
	if (c->scratch)
		memcpy(buf, c->scratch, n);
	*ret = (struct kdump_page){ .data = buf, .size = (uint32_t)n, .flags = flag };
}

bool kdump_page_is_zero(const void *page)
{
	const uint64_t *p = page;

	/* 64 bytes at a time: most pages that are not zero say so in their first line. */
	for (size_t i = 0; i < KDUMP_BLOCK_SIZE / 8; i += 8)
		if (p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] |
		    p[i + 7])
			return false;
	return true;
}
