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

#include <inttypes.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the format is written in host order");

/* makedumpfile writes data in large chunks too: fewer, larger writes. */
#define DATA_BUF_SIZE (4U << 20)
#define PENDING_MAX 65536U
#define SUB_HEADER_SIZE 104U
/*
 * Bitmap bytes held in memory at a time: bitmap 1 is written piece by piece
 * from the RAM ranges, bitmap 2 through a window that slides with the pfns
 * added. A 64 TiB machine has 2 GiB bitmaps; the writer keeps 512 KiB.
 */
#define BITMAP_PIECE (256U << 10)

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

struct pfn_range {
	uint64_t start, end;
};

struct kdump_writer {
	struct sink *sink;
	struct sink *own_sink; /* made by kdump_writer_new() from an fd */
	int error; /* the first write error; sticky */
	bool reserved, finished;
	struct disk_header header;
	uint32_t compression_flag;

	uint64_t max_mapnr;
	uint64_t bitmap_len; /* bytes of one bitmap */
	uint64_t bitmap_offset, desc_offset, data_offset;

	/* RAM (bitmap 1): sorted and merged at reserve time */
	struct pfn_range *ram;
	size_t n_ram, ram_cap, ram_cursor;

	/* Bitmap 2 bytes [win_start, win_start + BITMAP_PIECE); bytes below are in the file. */
	uint8_t *win;
	uint64_t win_start;
	uint64_t dirty_lo, dirty_hi; /* bytes of the window set since they were last written */

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

static void bitmap_set_range(uint8_t *map, uint64_t start, uint64_t end)
{
	for (; start < end && (start & 7); start++)
		map[start >> 3] |= 1U << (start & 7);
	if (end - start >= 8) {
		memset(map + (start >> 3), 0xff, (end - start) >> 3);
		start += (end - start) & ~7ULL;
	}
	for (; start < end; start++)
		map[start >> 3] |= 1U << (start & 7);
}

static int range_cmp(const void *a, const void *b)
{
	const struct pfn_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts and merges the RAM ranges in place. */
static void ram_normalize(struct kdump_writer *w)
{
	size_t n = 0;

	if (w->n_ram > 1)
		qsort(w->ram, w->n_ram, sizeof(*w->ram), range_cmp);
	for (size_t i = 0; i < w->n_ram; i++) {
		if (n > 0 && w->ram[i].start <= w->ram[n - 1].end)
			w->ram[n - 1].end = MAX(w->ram[n - 1].end, w->ram[i].end);
		else
			w->ram[n++] = w->ram[i];
	}
	w->n_ram = n;
}

/* pfn is RAM. Pages come in pfn order: the range of the last hit is tried first. */
static bool ram_contains(struct kdump_writer *w, uint64_t pfn)
{
	size_t lo = 0, hi = w->n_ram;

	if (w->ram_cursor < w->n_ram && w->ram[w->ram_cursor].start <= pfn &&
	    pfn < w->ram[w->ram_cursor].end)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->ram[mid].end <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == w->n_ram || w->ram[lo].start > pfn)
		return false;
	w->ram_cursor = lo;
	return true;
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
	return sink_write(w->sink, buf, len, 0);
}

int kdump_writer_new_sink(struct sink *sink, const struct kdump_writer_params *p,
			  struct kdump_writer **ret)
{
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	uint64_t sub_blocks, bitmap_blocks;
	uint32_t flag;
	int r;

	if (!sink || !p || p->max_mapnr == 0 || p->dump_level < 0 || p->dump_level > 31)
		return -EINVAL;
	if (p->notes_size > 0 && !p->notes)
		return -EINVAL;
	if (p->vmcoreinfo_size > 0 && (p->vmcoreinfo_offset > p->notes_size ||
				       p->vmcoreinfo_size > p->notes_size - p->vmcoreinfo_offset))
		return -EINVAL;
	r = kdump_compression_flag(p->compression, &flag);
	if (r < 0)
		return r;
	sub_blocks = DIV_ROUND_UP(SUB_HEADER_SIZE + (uint64_t)p->notes_size, KDUMP_BLOCK_SIZE);
	bitmap_blocks = 2 * DIV_ROUND_UP(DIV_ROUND_UP(p->max_mapnr, 8), KDUMP_BLOCK_SIZE);
	if (sub_blocks > INT32_MAX || bitmap_blocks > UINT32_MAX)
		return -EFBIG;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sink = sink;
	w->compression_flag = flag;
	w->max_mapnr = p->max_mapnr;
	w->bitmap_len = bitmap_blocks / 2 * KDUMP_BLOCK_SIZE;
	w->bitmap_offset = (1 + sub_blocks) * KDUMP_BLOCK_SIZE;
	w->desc_offset = w->bitmap_offset + 2 * w->bitmap_len;
	w->win = calloc(1, BITMAP_PIECE);
	w->data = malloc(DATA_BUF_SIZE);
	w->pending = malloc(PENDING_MAX * sizeof(*w->pending));
	w->pending_pfn = malloc(PENDING_MAX * sizeof(*w->pending_pfn));
	if (!w->win || !w->data || !w->pending || !w->pending_pfn)
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

int kdump_writer_new(int fd, const struct kdump_writer_params *p, struct kdump_writer **ret)
{
	_cleanup_sink_ struct sink *s = NULL;
	struct kdump_writer *w;
	int r;

	if (fd < 0)
		return -EINVAL;
	r = sink_new_file(fd, &s);
	if (r < 0)
		return r;
	r = kdump_writer_new_sink(s, p, &w);
	if (r < 0)
		return r;
	w->own_sink = TAKE_PTR(s);
	*ret = w;
	return 0;
}

struct kdump_writer *kdump_writer_free(struct kdump_writer *w)
{
	if (!w)
		return NULL;
	sink_free(w->own_sink);
	free(w->ram);
	free(w->win);
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
	if (pfn_start == pfn_end)
		return 0;
	if (w->n_ram == w->ram_cap) {
		size_t cap = w->ram_cap ? w->ram_cap * 2 : 16;
		struct pfn_range *grown = realloc(w->ram, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		w->ram = grown;
		w->ram_cap = cap;
	}
	w->ram[w->n_ram++] = (struct pfn_range){ pfn_start, pfn_end };
	return 0;
}

uint64_t kdump_writer_ram_pages(struct kdump_writer *w)
{
	uint64_t n = 0;

	ram_normalize(w);
	for (size_t i = 0; i < w->n_ram; i++)
		n += w->ram[i].end - w->ram[i].start;
	return n;
}

/* Bitmap 1, a piece at a time, from the merged RAM ranges. */
static int write_bitmap1(struct kdump_writer *w)
{
	_cleanup_free_ uint8_t *piece = malloc(BITMAP_PIECE);
	size_t i = 0;
	int r;

	if (!piece)
		return -ENOMEM;
	for (uint64_t off = 0; off < w->bitmap_len; off += BITMAP_PIECE) {
		uint64_t len = MIN((uint64_t)BITMAP_PIECE, w->bitmap_len - off);
		uint64_t first = off * 8, last = (off + len) * 8;
		bool any = false;

		memset(piece, 0, len);
		while (i < w->n_ram && w->ram[i].end <= first)
			i++;
		for (size_t j = i; j < w->n_ram && w->ram[j].start < last; j++) {
			bitmap_set_range(piece, MAX(w->ram[j].start, first) - first,
					 MIN(w->ram[j].end, last) - first);
			any = true;
		}
		/* A sparse file's holes are zeros already. */
		if (!any && sink_reads_zeros(w->sink))
			continue;
		r = sink_write(w->sink, piece, len, w->bitmap_offset + off);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Bitmap 2 starts all zeros; only a device that held something needs them written. */
static int clear_bitmap2(struct kdump_writer *w)
{
	_cleanup_free_ uint8_t *zeros = NULL;
	int r;

	if (sink_reads_zeros(w->sink))
		return 0;
	zeros = calloc(1, BITMAP_PIECE);
	if (!zeros)
		return -ENOMEM;
	for (uint64_t off = 0; off < w->bitmap_len; off += BITMAP_PIECE) {
		r = sink_write(w->sink, zeros, MIN((uint64_t)BITMAP_PIECE, w->bitmap_len - off),
			       w->bitmap_offset + w->bitmap_len + off);
		if (r < 0)
			return r;
	}
	return 0;
}

int kdump_writer_reserve(struct kdump_writer *w, uint64_t max_pages, bool zero_page)
{
	static const uint8_t zeros[KDUMP_BLOCK_SIZE];
	uint64_t end;
	int r;

	if (w->reserved || max_pages > w->max_mapnr)
		return -EINVAL;
	ram_normalize(w);
	w->max_pages = max_pages;
	w->data_offset = w->desc_offset + max_pages * sizeof(struct disk_page_desc);
	w->data_end = w->data_offset;
	end = w->data_offset + (zero_page ? KDUMP_BLOCK_SIZE : 0);

	r = sink_reserve(w->sink, end);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot allocate %" PRIu64 " bytes: %m",
				       end);
	r = write_bitmap1(w);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot write bitmap 1: %m");
	r = clear_bitmap2(w);
	if (r < 0)
		return log_debug_errno(r, "kdump writer: cannot clear bitmap 2: %m");
	if (zero_page) {
		r = sink_write(w->sink, zeros, sizeof(zeros), w->data_end);
		if (r < 0)
			return log_debug_errno(r, "kdump writer: cannot write the zero page: %m");
		w->zero_offset = w->data_end;
		w->data_end += KDUMP_BLOCK_SIZE;
	}
	w->zero_page = zero_page;
	w->reserved = true;
	return 0;
}

/* The window's bytes set since the last write, to the file. */
static int window_write(struct kdump_writer *w)
{
	int r;

	if (w->dirty_hi <= w->dirty_lo)
		return 0;
	r = sink_write(w->sink, w->win + w->dirty_lo, w->dirty_hi - w->dirty_lo,
		       w->bitmap_offset + w->bitmap_len + w->win_start + w->dirty_lo);
	w->dirty_lo = w->dirty_hi = 0;
	return r;
}

/* Sets pfn's bit in bitmap 2; pfns come in increasing order. */
static int bitmap2_set(struct kdump_writer *w, uint64_t pfn)
{
	uint64_t byte = pfn >> 3;
	int r;

	if (byte >= w->win_start + BITMAP_PIECE) {
		r = window_write(w);
		if (r < 0)
			return r;
		memset(w->win, 0, BITMAP_PIECE);
		w->win_start = byte - byte % BITMAP_PIECE;
	}
	byte -= w->win_start;
	w->win[byte] |= 1U << (pfn & 7);
	if (w->dirty_hi == 0)
		w->dirty_lo = byte;
	w->dirty_hi = byte + 1;
	return 0;
}

static int writer_flush(struct kdump_writer *w)
{
	int r;

	if (w->error)
		return w->error;
	if (w->n_pending == 0)
		return 0;

	/* Data before descriptors: a descriptor never points at bytes not yet written. */
	if (w->data_len > 0) {
		r = sink_write(w->sink, w->data, w->data_len, w->data_end);
		if (r < 0)
			return writer_fail(w, r);
		w->data_end += w->data_len;
		w->data_len = 0;
	}
	r = sink_write(w->sink, w->pending, w->n_pending * sizeof(*w->pending),
		       w->desc_offset + w->committed * sizeof(*w->pending));
	if (r < 0)
		return writer_fail(w, r);

	/* The new bits, so that a file cut short here is readable up to this point. */
	for (size_t i = 0; i < w->n_pending; i++) {
		r = bitmap2_set(w, w->pending_pfn[i]);
		if (r < 0)
			return writer_fail(w, r);
		w->committed++;
		if (w->zero_page && (uint64_t)w->pending[i].offset == w->zero_offset)
			w->pages_zero++;
	}
	w->n_pending = 0;
	r = window_write(w);
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
	if (pfn < w->next_pfn || pfn >= w->max_mapnr || !ram_contains(w, pfn))
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
	/* Every committed bit is in the file once the last flush is. */
	(void)writer_flush(w);

	w->header.status = w->compression_flag;
	if (incomplete || w->error)
		w->header.status |= KDUMP_STATUS_INCOMPLETE;
	r = sink_write(w->sink, &w->header, sizeof(w->header), 0);
	if (r < 0)
		other = log_debug_errno(r, "kdump writer: cannot write the final header: %m");

	r = sink_finish(w->sink);
	if (r < 0 && !other)
		other = log_debug_errno(r, "kdump writer: cannot finish the output: %m");
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
