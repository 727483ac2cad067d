// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kdump-compressed reader (makedumpfile's default output and crashcap's
 * own), as a regular file or flattened. A page is present when its bit is
 * set in bitmap 2; its descriptor is the one whose index is the number of
 * bits set below it. Bitmap 1 (RAM) becomes the dump's segments. Facts from
 * makedumpfile's diskdump_mod.h and crash's diskdump.c; see
 * /work/shared/notes/kdump-compressed-format.md.
 */
#include "dump-internal.h"
#include "log.h"

#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#define KDUMP_SIGNATURE "KDUMP   "
#define FLAG_ZLIB 0x1U
#define FLAG_LZO 0x2U
#define FLAG_SNAPPY 0x4U
#define FLAG_INCOMPLETE 0x8U
#define FLAG_ZSTD 0x20U

#define DESC_SIZE 24
#define DESCS_PER_CHUNK 170 /* 4080 bytes: one read serves a run of pages */
#define RANK_BITS 4096 /* pfns per rank entry */
#define CACHE_PAGES 8
#define NOTES_MAX (64ULL << 20)

struct cached_page {
	uint64_t pfn;
	bool valid;
	uint8_t data[DUMP_PAGE_SIZE];
};

struct dump_kdump {
	struct dump_flat *flat; /* NULL: a regular file */
	uint32_t header_version, status, block_size;
	uint64_t max_mapnr;
	uint64_t bitmap_offset, bitmap_size; /* of each bitmap */
	uint64_t desc_offset;
	uint8_t *bitmap2;
	uint64_t *rank; /* bits set in bitmap 2 below pfn i * RANK_BITS */
	uint64_t n_dumped;
	bool split;
	uint64_t split_start, split_end;

	uint64_t desc_chunk; /* UINT64_MAX: none */
	uint8_t descs[DESCS_PER_CHUNK * DESC_SIZE];
	struct cached_page cache[CACHE_PAGES];
	unsigned cache_next;
	uint8_t cbuf[DUMP_PAGE_SIZE];
	ZSTD_DCtx *zstd;
};

struct dump_kdump *dump_kdump_free(struct dump_kdump *k)
{
	if (!k)
		return NULL;
	dump_flat_free(k->flat);
	free(k->bitmap2);
	free(k->rank);
	ZSTD_freeDCtx(k->zstd);
	free(k);
	return NULL;
}

/* Reads bytes of the regular file (through the pieces of a flattened one). */
static int kread(struct dump *d, uint64_t off, void *buf, size_t len, size_t *ret_got)
{
	if (d->kdump->flat)
		return dump_flat_pread(d->kdump->flat, d->fd, buf, len, off, ret_got);
	return pread_full(d->fd, buf, len, off, ret_got);
}

static int kread_all(struct dump *d, uint64_t off, void *buf, size_t len)
{
	size_t got;
	int r;

	r = kread(d, off, buf, len, &got);
	if (r < 0)
		return r;
	return got == len ? 0 : -ENODATA;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint64_t popcount_bytes(const uint8_t *p, size_t n)
{
	uint64_t c = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		c += __builtin_popcountll(get_u64(p + i));
	for (; i < n; i++)
		c += __builtin_popcount(p[i]);
	return c;
}

static bool bit_set(const uint8_t *bitmap, uint64_t pfn)
{
	return bitmap[pfn >> 3] & (1U << (pfn & 7));
}

static int load_bitmap2(struct dump *d)
{
	struct dump_kdump *k = d->kdump;
	uint64_t n_rank = DIV_ROUND_UP(k->bitmap_size * 8, RANK_BITS) + 1;
	const uint64_t chunk = RANK_BITS / 8;
	int r;

	k->bitmap2 = malloc(k->bitmap_size);
	k->rank = calloc(n_rank, sizeof(*k->rank));
	if (!k->bitmap2 || !k->rank)
		return -ENOMEM;
	r = kread_all(d, k->bitmap_offset + k->bitmap_size, k->bitmap2, k->bitmap_size);
	if (r < 0)
		return log_debug_errno(r, "Cannot read bitmap 2: %m");
	for (uint64_t i = 0; i + 1 < n_rank; i++) {
		uint64_t from = i * chunk;

		k->rank[i + 1] = k->rank[i] + popcount_bytes(k->bitmap2 + from,
							     MIN(chunk, k->bitmap_size - from));
	}
	k->n_dumped = k->rank[n_rank - 1];
	return 0;
}

static int add_segment(struct dump *d, uint64_t pfn_start, uint64_t pfn_end, size_t *cap)
{
	if (d->n_segments == *cap) {
		struct dump_segment *grown;

		*cap = *cap ? *cap * 2 : 16;
		grown = realloc(d->segments, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		d->segments = grown;
	}
	d->segments[d->n_segments++] = (struct dump_segment){
		.phys_start = pfn_start << DUMP_PAGE_SHIFT,
		.mem_size = (pfn_end - pfn_start) << DUMP_PAGE_SHIFT,
		.file_size = (pfn_end - pfn_start) << DUMP_PAGE_SHIFT,
	};
	return 0;
}

/* Runs of RAM in bitmap 1 become segments, read in chunks: bitmap 1 is not kept. */
static int load_segments(struct dump *d)
{
	struct dump_kdump *k = d->kdump;
	_cleanup_free_ uint8_t *buf = NULL;
	const size_t chunk = 64 << 10;
	uint64_t run_start = UINT64_MAX;
	size_t cap = 0;
	int r;

	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < k->bitmap_size; off += chunk) {
		size_t n = MIN(chunk, k->bitmap_size - off);

		r = kread_all(d, k->bitmap_offset + off, buf, n);
		if (r < 0)
			return log_debug_errno(r, "Cannot read bitmap 1: %m");
		for (size_t i = 0; i < n; i++) {
			uint64_t pfn0 = (off + i) * 8;

			/* Whole bytes first: RAM comes in long runs. */
			if ((buf[i] == 0xff && run_start != UINT64_MAX) ||
			    (buf[i] == 0 && run_start == UINT64_MAX))
				continue;
			for (unsigned b = 0; b < 8; b++) {
				uint64_t pfn = pfn0 + b;
				bool ram = (buf[i] & (1U << b)) && pfn < k->max_mapnr;

				if (ram && run_start == UINT64_MAX)
					run_start = pfn;
				else if (!ram && run_start != UINT64_MAX) {
					r = add_segment(d, run_start, pfn, &cap);
					if (r < 0)
						return r;
					run_start = UINT64_MAX;
				}
			}
		}
	}
	if (run_start != UINT64_MAX)
		return add_segment(d, run_start, MIN(k->bitmap_size * 8, k->max_mapnr), &cap);
	return 0;
}

/* The notes copy, or at least the VMCOREINFO text when the header is older. */
static int load_notes(struct dump *d, const uint8_t *sub)
{
	struct dump_kdump *k = d->kdump;
	uint64_t off = 0, size = 0;
	int r;

	if (k->header_version >= 4) {
		off = get_u64(sub + 48);
		size = get_u64(sub + 56);
	}
	if (off > 0 && size > 0) {
		if (size > NOTES_MAX)
			return log_debug_errno(-EBADMSG,
					       "Notes of %" PRIu64 " bytes: corrupt header", size);
		d->notes = malloc(size + 1);
		if (!d->notes)
			return -ENOMEM;
		r = kread_all(d, off, d->notes, size);
		if (r < 0)
			return log_debug_errno(r, "Cannot read the notes at %" PRIu64 ": %m", off);
		d->notes_size = size;
		return 0;
	}
	if (k->header_version >= 3) {
		_cleanup_free_ char *text = NULL;

		off = get_u64(sub + 32);
		size = get_u64(sub + 40);
		if (off == 0 || size == 0)
			return 0;
		if (size > NOTES_MAX)
			return -EBADMSG;
		text = malloc(size + 1);
		if (!text)
			return -ENOMEM;
		r = kread_all(d, off, text, size);
		if (r < 0)
			return r;
		text[size] = 0;
		return vmcoreinfo_parse(text, size, &d->vmcoreinfo);
	}
	return 0;
}

static int open_file(struct dump *d)
{
	struct dump_kdump *k = d->kdump;
	struct stat st;
	char sig[8];
	size_t got;
	int r;

	if (fstat(d->fd, &st) < 0)
		return negative_errno();
	r = dump_flat_open(d->fd, st.st_size, &k->flat);
	if (r < 0 && r != -ENOEXEC)
		return r;
	if (k->flat) {
		d->file_size = dump_flat_size(k->flat);
		d->truncated = dump_flat_truncated(k->flat);
	} else
		d->file_size = st.st_size;
	r = kread(d, 0, sig, sizeof(sig), &got);
	if (r < 0)
		return r;
	if (got < sizeof(sig) || memcmp(sig, KDUMP_SIGNATURE, sizeof(sig)) != 0)
		return log_debug_errno(-ENOEXEC, k->flat ? "Flattened file does not hold a "
							   "kdump-compressed dump" :
							   "No kdump-compressed signature");
	return 0;
}

int dump_kdump_load(struct dump *d)
{
	_cleanup_free_ uint8_t *hdr = NULL;
	struct dump_kdump *k;
	uint8_t sub[104] = {};
	uint32_t sub_hdr_size, bitmap_blocks;
	uint64_t dumped_end;
	int32_t nr_cpus;
	size_t got;
	int r;

	k = d->kdump = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->desc_chunk = UINT64_MAX;
	r = open_file(d);
	if (r < 0)
		return r;

	hdr = malloc(DUMP_PAGE_SIZE);
	if (!hdr)
		return -ENOMEM;
	r = kread(d, 0, hdr, 464, &got);
	if (r < 0)
		return r;
	if (got < 464)
		return log_debug_errno(-ENOEXEC, "kdump header cut short");
	k->header_version = get_u32(hdr + 8);
	k->status = get_u32(hdr + 424);
	k->block_size = get_u32(hdr + 428);
	sub_hdr_size = get_u32(hdr + 432);
	bitmap_blocks = get_u32(hdr + 436);
	k->max_mapnr = get_u32(hdr + 440);
	nr_cpus = (int32_t)get_u32(hdr + 460);
	if (k->block_size != DUMP_PAGE_SIZE)
		return log_debug_errno(-ENOEXEC, "kdump block size %" PRIu32 " is not 4096",
				       k->block_size);
	if (bitmap_blocks == 0 || bitmap_blocks % 2)
		return log_debug_errno(-EBADMSG, "kdump header: %" PRIu32 " bitmap blocks",
				       bitmap_blocks);

	r = kread(d, DUMP_PAGE_SIZE, sub, sizeof(sub), &got);
	if (r < 0)
		return r;
	if (got < sizeof(sub))
		return log_debug_errno(-EBADMSG, "kdump sub-header cut short");
	if (k->header_version >= 6 && get_u64(sub + 96) > 0)
		k->max_mapnr = get_u64(sub + 96);
	if ((int32_t)get_u32(sub + 12)) {
		k->split = true;
		k->split_start = k->header_version >= 6 ? get_u64(sub + 80) : get_u64(sub + 16);
		k->split_end = k->header_version >= 6 ? get_u64(sub + 88) : get_u64(sub + 24);
	}
	k->bitmap_offset = (1ULL + sub_hdr_size) * k->block_size;
	k->bitmap_size = (uint64_t)bitmap_blocks * k->block_size / 2;
	k->desc_offset = k->bitmap_offset + 2 * k->bitmap_size;
	if (k->max_mapnr > k->bitmap_size * 8)
		return log_debug_errno(-EBADMSG,
				       "kdump header: %" PRIu64 " pfns but bitmaps for %" PRIu64,
				       k->max_mapnr, k->bitmap_size * 8);

	r = load_notes(d, sub);
	if (r < 0)
		return r;
	r = load_bitmap2(d);
	if (r < 0)
		return r;
	r = load_segments(d);
	if (r < 0)
		return r;
	d->nr_cpus = nr_cpus > 0 ? (unsigned)nr_cpus : 0;

	dumped_end = k->desc_offset + k->n_dumped * DESC_SIZE;
	if (dumped_end > d->file_size)
		d->truncated = true;
	k->zstd = ZSTD_createDCtx();
	if (!k->zstd)
		return -ENOMEM;
	if (lzo_init() != LZO_E_OK)
		return -ENOTSUP;
	log_debug("kdump-compressed dump: version %" PRIu32 ", status 0x%" PRIx32 ", %" PRIu64
		  " pfns, %" PRIu64 " pages dumped%s%s",
		  k->header_version, k->status, k->max_mapnr, k->n_dumped,
		  k->flat ? ", flattened" : "", d->truncated ? ", file cut short" : "");
	return 0;
}

bool dump_kdump_incomplete(const struct dump *d)
{
	return d->kdump && (d->kdump->status & FLAG_INCOMPLETE);
}

static int read_desc(struct dump *d, uint64_t index, uint8_t ret[DESC_SIZE])
{
	struct dump_kdump *k = d->kdump;
	uint64_t chunk = index / DESCS_PER_CHUNK;
	size_t got;
	int r;

	if (chunk != k->desc_chunk) {
		k->desc_chunk = UINT64_MAX;
		memset(k->descs, 0, sizeof(k->descs));
		r = kread(d, k->desc_offset + chunk * sizeof(k->descs), k->descs, sizeof(k->descs),
			  &got);
		if (r < 0)
			return r;
		k->desc_chunk = chunk;
	}
	memcpy(ret, k->descs + (index % DESCS_PER_CHUNK) * DESC_SIZE, DESC_SIZE);
	return 0;
}

static int decompress(struct dump_kdump *k, uint32_t flags, const uint8_t *in, size_t in_size,
		      uint8_t *out)
{
	if (flags & FLAG_ZSTD) {
		size_t n = ZSTD_decompressDCtx(k->zstd, out, DUMP_PAGE_SIZE, in, in_size);

		return !ZSTD_isError(n) && n == DUMP_PAGE_SIZE ? 0 : -EBADMSG;
	}
	if (flags & FLAG_ZLIB) {
		uLongf n = DUMP_PAGE_SIZE;

		return uncompress(out, &n, in, in_size) == Z_OK && n == DUMP_PAGE_SIZE ? 0 :
											 -EBADMSG;
	}
	if (flags & FLAG_LZO) {
		lzo_uint n = DUMP_PAGE_SIZE;

		return lzo1x_decompress_safe(in, in_size, out, &n, NULL) == LZO_E_OK &&
				       n == DUMP_PAGE_SIZE ?
			       0 :
			       -EBADMSG;
	}
	if (flags & FLAG_SNAPPY) {
		size_t n = DUMP_PAGE_SIZE;

		return snappy_uncompress((const char *)in, in_size, (char *)out, &n) == SNAPPY_OK &&
				       n == DUMP_PAGE_SIZE ?
			       0 :
			       -EBADMSG;
	}
	return -EBADMSG;
}

static int read_page(struct dump *d, uint64_t pfn, uint8_t *out)
{
	struct dump_kdump *k = d->kdump;
	uint8_t desc[DESC_SIZE];
	uint64_t index, offset;
	uint32_t size, flags;
	int r;

	if (pfn >= k->max_mapnr || !bit_set(k->bitmap2, pfn))
		return -ENOENT;
	if (k->split && (pfn < k->split_start || pfn >= k->split_end))
		return -ENOENT;
	index = k->rank[pfn / RANK_BITS] +
		popcount_bytes(k->bitmap2 + (pfn / RANK_BITS) * (RANK_BITS / 8),
			       (pfn % RANK_BITS) / 8);
	for (uint64_t p = pfn & ~7ULL; p < pfn; p++)
		index += bit_set(k->bitmap2, p);
	if (k->split)
		index -= k->rank[k->split_start / RANK_BITS] +
			 popcount_bytes(k->bitmap2 + (k->split_start / RANK_BITS) * (RANK_BITS / 8),
					(k->split_start % RANK_BITS) / 8);

	r = read_desc(d, index, desc);
	if (r < 0)
		return r;
	offset = get_u64(desc);
	size = get_u32(desc + 8);
	flags = get_u32(desc + 12);
	/* An interrupted dump may hold descriptors never filled in. */
	if (offset == 0 || offset >= d->file_size || size > d->file_size - offset)
		return -ENODATA;
	if (size > DUMP_PAGE_SIZE || size == 0)
		return log_debug_errno(-EBADMSG, "pfn 0x%" PRIx64 ": descriptor size %" PRIu32, pfn,
				       size);
	if (size == DUMP_PAGE_SIZE && !(flags & (FLAG_ZLIB | FLAG_LZO | FLAG_SNAPPY | FLAG_ZSTD)))
		return kread_all(d, offset, out, DUMP_PAGE_SIZE);
	r = kread_all(d, offset, k->cbuf, size);
	if (r < 0)
		return r;
	r = decompress(k, flags, k->cbuf, size, out);
	if (r < 0)
		return log_debug_errno(r,
				       "pfn 0x%" PRIx64 ": page data (flags 0x%" PRIx32
				       ") does not decompress",
				       pfn, flags);
	return 0;
}

static int cached_page(struct dump *d, uint64_t pfn, const uint8_t **ret)
{
	struct dump_kdump *k = d->kdump;
	struct cached_page *c;
	int r;

	for (unsigned i = 0; i < CACHE_PAGES; i++)
		if (k->cache[i].valid && k->cache[i].pfn == pfn) {
			*ret = k->cache[i].data;
			return 0;
		}
	c = &k->cache[k->cache_next];
	c->valid = false;
	r = read_page(d, pfn, c->data);
	if (r < 0)
		return r;
	c->pfn = pfn;
	c->valid = true;
	k->cache_next = (k->cache_next + 1) % CACHE_PAGES;
	*ret = c->data;
	return 0;
}

int dump_kdump_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		uint64_t in_page = paddr & (DUMP_PAGE_SIZE - 1);
		size_t n = MIN(len, DUMP_PAGE_SIZE - in_page);
		const uint8_t *page;
		int r;

		r = cached_page(d, paddr >> DUMP_PAGE_SHIFT, &page);
		if (r < 0)
			return r;
		memcpy(out, page + in_page, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return 0;
}
