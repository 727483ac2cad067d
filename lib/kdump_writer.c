// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kdump-compressed writer. Field layout from makedumpfile's
 * diskdump_mod.h (struct disk_dump_header, kdump_sub_header, page_desc) as
 * laid out by the x86_64 ABI; the static asserts below pin every offset.
 *
 * Pages that were never written (a truncated vmcore, a full disk) have no
 * bit in bitmap 2. The other representation, makedumpfile's own on ENOSPC,
 * keeps the bit and leaves a descriptor of zeros; readers then disagree:
 * makedumpfile reads 0 bytes at offset 0 and returns whatever its buffer
 * held, libkdumpfile fails with "Wrong page size: 0" (a corrupt file), and
 * crash reports PAGE_INCOMPLETE. A cleared bit is what every reader already
 * knows as an excluded page: makedumpfile says "pfn ... is excluded",
 * libkdumpfile returns KDUMP_ERR_NODATA (or zeros when asked to), crash
 * reads zeros as it does for any filtered page, and its INCOMPLETE warning
 * tells the user why. Bitmap 1 keeps the bit: the page was RAM.
 *
 * Descriptors are positional (the n-th set bit of bitmap 2 owns the n-th
 * descriptor), so committing pages in pfn order and setting their bits only
 * after their data and descriptor are in the file keeps the two consistent
 * at every flush. Unused descriptor slots at the end of the area are never
 * looked at.
 */
#include "kdump_writer.h"
#include "log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <zstd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the format is written in host order");

/* makedumpfile writes data in large chunks too: fewer, larger writes. */
#define DATA_BUF_SIZE (4U << 20)
#define PENDING_MAX 65536U
#define SUB_HEADER_SIZE 104U

struct disk_header {
	char signature[8];
	int32_t header_version;
	struct kdump_utsname utsname;
	int64_t timestamp_sec; /* struct timeval */
	int64_t timestamp_usec;
	uint32_t status;
	int32_t block_size;
	int32_t sub_hdr_size;
	uint32_t bitmap_blocks;
	uint32_t max_mapnr;
	uint32_t total_ram_blocks;
	uint32_t device_blocks;
	uint32_t written_blocks;
	uint32_t current_cpu;
	int32_t nr_cpus;
};

_Static_assert(sizeof(struct kdump_utsname) == 390, "new_utsname");
_Static_assert(offsetof(struct disk_header, utsname) == 12, "utsname");
_Static_assert(offsetof(struct disk_header, timestamp_sec) == 408, "timestamp");
_Static_assert(offsetof(struct disk_header, status) == 424, "status");
_Static_assert(offsetof(struct disk_header, block_size) == 428, "block_size");
_Static_assert(offsetof(struct disk_header, bitmap_blocks) == 436, "bitmap_blocks");
_Static_assert(offsetof(struct disk_header, max_mapnr) == 440, "max_mapnr");
_Static_assert(offsetof(struct disk_header, nr_cpus) == 460, "nr_cpus");

struct disk_sub_header {
	uint64_t phys_base;
	int32_t dump_level;
	int32_t split;
	uint64_t start_pfn;
	uint64_t end_pfn;
	int64_t offset_vmcoreinfo;
	uint64_t size_vmcoreinfo;
	int64_t offset_note;
	uint64_t size_note;
	int64_t offset_eraseinfo;
	uint64_t size_eraseinfo;
	uint64_t start_pfn_64;
	uint64_t end_pfn_64;
	uint64_t max_mapnr_64;
};

_Static_assert(sizeof(struct disk_sub_header) == SUB_HEADER_SIZE, "kdump_sub_header");
_Static_assert(offsetof(struct disk_sub_header, offset_vmcoreinfo) == 32, "offset_vmcoreinfo");
_Static_assert(offsetof(struct disk_sub_header, offset_note) == 48, "offset_note");
_Static_assert(offsetof(struct disk_sub_header, max_mapnr_64) == 96, "max_mapnr_64");

struct disk_page_desc {
	int64_t offset;
	uint32_t size;
	uint32_t flags;
	uint64_t page_flags;
};

_Static_assert(sizeof(struct disk_page_desc) == 24, "page_desc");

struct kdump_writer {
	int fd;
	int error; /* the first write error; sticky */
	bool reserved, finished;
	struct disk_header header;
	uint32_t compression_flag;

	uint64_t max_mapnr;
	uint64_t bitmap_len; /* bytes of one bitmap */
	uint8_t *bitmap1, *bitmap2;
	uint64_t bitmap_offset, desc_offset, data_offset;

	uint64_t max_pages;
	uint64_t committed; /* descriptors in the file with their bit set */
	uint64_t pages_zero;
	uint64_t next_pfn; /* the lowest pfn add may take */
	bool zero_page;
	uint64_t zero_offset;

	uint8_t *data; /* page bytes waiting for data_end */
	size_t data_len;
	uint64_t data_end; /* where the next flush writes */

	struct disk_page_desc *pending;
	uint64_t *pending_pfn;
	size_t n_pending;
};

static bool bit_test(const uint8_t *map, uint64_t n)
{
	return map[n >> 3] & (1U << (n & 7));
}

static void bit_set(uint8_t *map, uint64_t n)
{
	map[n >> 3] |= 1U << (n & 7);
}

static void bitmap_set_range(uint8_t *map, uint64_t start, uint64_t end)
{
	while (start < end && (start & 7))
		bit_set(map, start++);
	if (end - start >= 8) {
		memset(map + (start >> 3), 0xff, (end - start) >> 3);
		start += (end - start) & ~7ULL;
	}
	while (start < end)
		bit_set(map, start++);
}

static uint64_t bitmap_count(const uint8_t *map, uint64_t len)
{
	uint64_t n = 0, word;

	for (uint64_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&word, map + i, 8);
		n += __builtin_popcountll(word);
	}
	return n;
}

static int compression_flag(enum compression c, uint32_t *ret)
{
	switch (c) {
	case COMPRESSION_NONE:
		*ret = 0;
		return 0;
	case COMPRESSION_ZSTD:
		*ret = KDUMP_FLAG_ZSTD;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static void copy_uts_field(char *dst, const char *src)
{
	memcpy(dst, src, KDUMP_UTS_LEN);
	dst[KDUMP_UTS_LEN - 1] = 0;
}

static int writer_fail(struct kdump_writer *w, int r)
{
	if (!w->error) {
		w->error = r;
		log_debug_errno(r, "kdump writer: write failed, dump is incomplete from here: %m");
	}
	/* The buffered pages never reach the file: their bits stay clear. */
	w->data_len = 0;
	w->n_pending = 0;
	return w->error;
}

static int write_header_blocks(struct kdump_writer *w, const struct kdump_writer_params *p)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint32_t sub_blocks = (uint32_t)(w->bitmap_offset / KDUMP_BLOCK_SIZE) - 1;
	struct disk_sub_header sh = {
		.phys_base = p->phys_base,
		.dump_level = p->dump_level,
		.max_mapnr_64 = p->max_mapnr,
	};
	size_t len = (1 + (size_t)sub_blocks) * KDUMP_BLOCK_SIZE;

	if (p->notes_size > 0) {
		sh.offset_note = KDUMP_BLOCK_SIZE + SUB_HEADER_SIZE;
		sh.size_note = p->notes_size;
		if (p->vmcoreinfo_size > 0) {
			sh.offset_vmcoreinfo = sh.offset_note + p->vmcoreinfo_offset;
			sh.size_vmcoreinfo = p->vmcoreinfo_size;
		}
	}
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &w->header, sizeof(w->header));
	memcpy(buf + KDUMP_BLOCK_SIZE, &sh, sizeof(sh));
	if (p->notes_size > 0)
		memcpy(buf + KDUMP_BLOCK_SIZE + SUB_HEADER_SIZE, p->notes, p->notes_size);
	return pwrite_full(w->fd, buf, len, 0);
}

int kdump_writer_new(int fd, const struct kdump_writer_params *p, struct kdump_writer **ret)
{
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	uint64_t sub_blocks, bitmap_blocks;
	uint32_t flag;
	int r;

	if (fd < 0 || !p || p->max_mapnr == 0 || p->dump_level < 0 || p->dump_level > 31)
		return -EINVAL;
	if (p->notes_size > 0 && !p->notes)
		return -EINVAL;
	if (p->vmcoreinfo_size > 0 && (p->vmcoreinfo_offset > p->notes_size ||
				       p->vmcoreinfo_size > p->notes_size - p->vmcoreinfo_offset))
		return -EINVAL;
	r = compression_flag(p->compression, &flag);
	if (r < 0)
		return r;
	sub_blocks = DIV_ROUND_UP(SUB_HEADER_SIZE + (uint64_t)p->notes_size, KDUMP_BLOCK_SIZE);
	bitmap_blocks = 2 * DIV_ROUND_UP(DIV_ROUND_UP(p->max_mapnr, 8), KDUMP_BLOCK_SIZE);
	if (sub_blocks > INT32_MAX || bitmap_blocks > UINT32_MAX)
		return -EFBIG;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->compression_flag = flag;
	w->max_mapnr = p->max_mapnr;
	w->bitmap_len = bitmap_blocks / 2 * KDUMP_BLOCK_SIZE;
	w->bitmap_offset = (1 + sub_blocks) * KDUMP_BLOCK_SIZE;
	w->desc_offset = w->bitmap_offset + 2 * w->bitmap_len;
	w->bitmap1 = calloc(1, w->bitmap_len);
	w->bitmap2 = calloc(1, w->bitmap_len);
	w->data = malloc(DATA_BUF_SIZE);
	w->pending = malloc(PENDING_MAX * sizeof(*w->pending));
	w->pending_pfn = malloc(PENDING_MAX * sizeof(*w->pending_pfn));
	if (!w->bitmap1 || !w->bitmap2 || !w->data || !w->pending || !w->pending_pfn)
		return -ENOMEM;

	memcpy(w->header.signature, "KDUMP   ", 8);
	w->header.header_version = KDUMP_HEADER_VERSION;
	copy_uts_field(w->header.utsname.sysname, p->utsname.sysname);
	copy_uts_field(w->header.utsname.nodename, p->utsname.nodename);
	copy_uts_field(w->header.utsname.release, p->utsname.release);
	copy_uts_field(w->header.utsname.version, p->utsname.version);
	copy_uts_field(w->header.utsname.machine, p->utsname.machine);
	copy_uts_field(w->header.utsname.domainname, p->utsname.domainname);
	w->header.timestamp_sec = p->timestamp_sec;
	w->header.timestamp_usec = p->timestamp_usec;
	/* Until finish says otherwise, whatever is in the file is a partial dump. */
	w->header.status = flag | KDUMP_STATUS_INCOMPLETE;
	w->header.block_size = KDUMP_BLOCK_SIZE;
	w->header.sub_hdr_size = (int32_t)sub_blocks;
	w->header.bitmap_blocks = (uint32_t)bitmap_blocks;
	w->header.max_mapnr = (uint32_t)MIN(p->max_mapnr, (uint64_t)UINT32_MAX);
	w->header.nr_cpus = (int32_t)MAX(p->nr_cpus, 1U);

	r = write_header_blocks(w, p);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot write the header: %m");
	*ret = TAKE_PTR(w);
	return 0;
}

struct kdump_writer *kdump_writer_free(struct kdump_writer *w)
{
	if (!w)
		return NULL;
	free(w->bitmap1);
	free(w->bitmap2);
	free(w->data);
	free(w->pending);
	free(w->pending_pfn);
	free(w);
	return NULL;
}

int kdump_writer_set_ram(struct kdump_writer *w, uint64_t pfn_start, uint64_t pfn_end)
{
	if (w->reserved || pfn_start > pfn_end || pfn_end > w->max_mapnr)
		return -EINVAL;
	bitmap_set_range(w->bitmap1, pfn_start, pfn_end);
	return 0;
}

uint64_t kdump_writer_ram_pages(const struct kdump_writer *w)
{
	return bitmap_count(w->bitmap1, w->bitmap_len);
}

/*
 * Allocates [0, len) now, so that rewriting bitmap 2, descriptors and the
 * header later needs no free blocks. Only a full disk is an error here; a
 * file system without fallocate just gets the file extended.
 */
static int preallocate(int fd, uint64_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	/* A block device is as big as it is; /dev/null takes anything. */
	if (!S_ISREG(st.st_mode))
		return 0;
	if (fallocate(fd, 0, 0, (off_t)len) < 0) {
		if (errno == ENOSPC || errno == EIO || errno == EFBIG)
			return negative_errno();
		log_debug_errno(errno, "kdump writer: fallocate failed, continuing without: %m");
	}
	if (ftruncate(fd, (off_t)len) < 0)
		return negative_errno();
	return 0;
}

int kdump_writer_reserve(struct kdump_writer *w, uint64_t max_pages, bool zero_page)
{
	static const uint8_t zeros[KDUMP_BLOCK_SIZE];
	uint64_t end;
	int r;

	if (w->reserved || max_pages > w->max_mapnr)
		return -EINVAL;
	w->max_pages = max_pages;
	w->data_offset = w->desc_offset + max_pages * sizeof(struct disk_page_desc);
	w->data_end = w->data_offset;
	end = w->data_offset + (zero_page ? KDUMP_BLOCK_SIZE : 0);

	r = preallocate(w->fd, end);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot allocate %" PRIu64 " bytes: %m",
				       end);
	r = pwrite_full(w->fd, w->bitmap1, w->bitmap_len, (off_t)w->bitmap_offset);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot write bitmap 1: %m");
	if (zero_page) {
		r = pwrite_full(w->fd, zeros, sizeof(zeros), (off_t)w->data_end);
		if (r < 0)
			return log_debug_errno(r, "kdump writer: cannot write the zero page: %m");
		w->zero_offset = w->data_end;
		w->data_end += KDUMP_BLOCK_SIZE;
	}
	w->zero_page = zero_page;
	w->reserved = true;
	return 0;
}

static int writer_flush(struct kdump_writer *w)
{
	uint64_t lo, hi;
	int r;

	if (w->error)
		return w->error;
	if (w->n_pending == 0)
		return 0;

	/* Data before descriptors: a descriptor never points at bytes not yet written. */
	if (w->data_len > 0) {
		r = pwrite_full(w->fd, w->data, w->data_len, (off_t)w->data_end);
		if (r < 0)
			return writer_fail(w, r);
		w->data_end += w->data_len;
		w->data_len = 0;
	}
	r = pwrite_full(w->fd, w->pending, w->n_pending * sizeof(*w->pending),
			(off_t)(w->desc_offset + w->committed * sizeof(*w->pending)));
	if (r < 0)
		return writer_fail(w, r);

	for (size_t i = 0; i < w->n_pending; i++) {
		bit_set(w->bitmap2, w->pending_pfn[i]);
		if (w->zero_page && (uint64_t)w->pending[i].offset == w->zero_offset)
			w->pages_zero++;
	}
	w->committed += w->n_pending;
	lo = w->pending_pfn[0] >> 3;
	hi = (w->pending_pfn[w->n_pending - 1] >> 3) + 1;
	w->n_pending = 0;

	/* The new bits, so that a file cut short here is readable up to this point. */
	r = pwrite_full(w->fd, w->bitmap2 + lo, hi - lo,
			(off_t)(w->bitmap_offset + w->bitmap_len + lo));
	if (r < 0)
		return writer_fail(w, r);
	return 0;
}

static int writer_check_add(struct kdump_writer *w, uint64_t pfn)
{
	if (!w->reserved || w->finished)
		return -EINVAL;
	if (w->error)
		return w->error;
	if (pfn < w->next_pfn || pfn >= w->max_mapnr || !bit_test(w->bitmap1, pfn))
		return -EINVAL;
	if (w->committed + w->n_pending >= w->max_pages)
		return -E2BIG;
	return 0;
}

static int writer_queue(struct kdump_writer *w, uint64_t pfn, const struct disk_page_desc *pd)
{
	w->pending[w->n_pending] = *pd;
	w->pending_pfn[w->n_pending] = pfn;
	w->n_pending++;
	w->next_pfn = pfn + 1;
	if (w->n_pending == PENDING_MAX)
		return writer_flush(w);
	return 0;
}

int kdump_writer_add_page(struct kdump_writer *w, uint64_t pfn, const struct kdump_page *page)
{
	struct disk_page_desc pd;
	int r;

	r = writer_check_add(w, pfn);
	if (r < 0)
		return r;
	if (page->size == 0 || page->size > KDUMP_BLOCK_SIZE ||
	    (page->flags == 0 && page->size != KDUMP_BLOCK_SIZE) ||
	    (page->flags != 0 && page->flags != w->compression_flag))
		return -EINVAL;

	if (w->data_len + page->size > DATA_BUF_SIZE) {
		r = writer_flush(w);
		if (r < 0)
			return r;
	}
	pd = (struct disk_page_desc){
		.offset = (int64_t)(w->data_end + w->data_len),
		.size = page->size,
		.flags = page->flags,
	};
	memcpy(w->data + w->data_len, page->data, page->size);
	w->data_len += page->size;
	return writer_queue(w, pfn, &pd);
}

int kdump_writer_add_zero_page(struct kdump_writer *w, uint64_t pfn)
{
	struct disk_page_desc pd;
	int r;

	r = writer_check_add(w, pfn);
	if (r < 0)
		return r;
	if (!w->zero_page)
		return -EINVAL;
	pd = (struct disk_page_desc){
		.offset = (int64_t)w->zero_offset,
		.size = KDUMP_BLOCK_SIZE,
	};
	return writer_queue(w, pfn, &pd);
}

int kdump_writer_finish(struct kdump_writer *w, bool incomplete)
{
	int r, other = 0;

	if (!w->reserved || w->finished)
		return -EINVAL;
	w->finished = true;
	(void)writer_flush(w);

	r = pwrite_full(w->fd, w->bitmap2, w->bitmap_len,
			(off_t)(w->bitmap_offset + w->bitmap_len));
	if (r < 0)
		writer_fail(w, r);

	w->header.status = w->compression_flag;
	if (incomplete || w->error)
		w->header.status |= KDUMP_STATUS_INCOMPLETE;
	r = pwrite_full(w->fd, &w->header, sizeof(w->header), 0);
	if (r < 0)
		other = log_debug_errno(r, "kdump writer: cannot write the final header: %m");

	/* The crash kernel reboots right after: the dump must be on the disk. */
	if (fdatasync(w->fd) < 0 && errno != EINVAL && errno != EROFS && !other)
		other = log_debug_errno(errno, "kdump writer: fdatasync failed: %m");
	return w->error ? w->error : other;
}

void kdump_writer_get_stats(const struct kdump_writer *w, struct kdump_writer_stats *ret)
{
	*ret = (struct kdump_writer_stats){
		.pages_data = w->committed - w->pages_zero,
		.pages_zero = w->pages_zero,
		.file_size = w->data_end,
	};
}

struct kdump_compressor {
	enum compression compression;
	int level;
	ZSTD_CCtx *zstd;
};

int kdump_compressor_new(enum compression c, int level, struct kdump_compressor **ret)
{
	_cleanup_kdump_compressor_ struct kdump_compressor *k = NULL;
	uint32_t flag;
	int r;

	r = compression_flag(c, &flag);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->compression = c;
	k->level = level;
	if (c == COMPRESSION_ZSTD) {
		if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
			return -EINVAL;
		k->zstd = ZSTD_createCCtx();
		if (!k->zstd)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(k);
	return 0;
}

struct kdump_compressor *kdump_compressor_free(struct kdump_compressor *c)
{
	if (!c)
		return NULL;
	ZSTD_freeCCtx(c->zstd);
	free(c);
	return NULL;
}

void kdump_compress_page(struct kdump_compressor *c, const void *page, void *buf,
			 struct kdump_page *ret)
{
	if (c->compression == COMPRESSION_ZSTD) {
		/*
		 * A destination of one page: output that would not be smaller
		 * fails with dstSize_tooSmall, and the page is stored raw.
		 */
		size_t n = ZSTD_compressCCtx(c->zstd, buf, KDUMP_BLOCK_SIZE, page, KDUMP_BLOCK_SIZE,
					     c->level);

		if (!ZSTD_isError(n) && n < KDUMP_BLOCK_SIZE) {
			*ret = (struct kdump_page){ .data = buf,
						    .size = n,
						    .flags = KDUMP_FLAG_ZSTD };
			return;
		}
	}
	*ret = (struct kdump_page){ .data = page, .size = KDUMP_BLOCK_SIZE, .flags = 0 };
}

bool kdump_page_is_zero(const void *page)
{
	const uint8_t *p = page;

	/* Each byte equals the next, and the first is zero: memcmp is vectorised. */
	return p[0] == 0 && memcmp(p, p + 1, KDUMP_BLOCK_SIZE - 1) == 0;
}
