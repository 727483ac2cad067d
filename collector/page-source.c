// SPDX-License-Identifier: GPL-2.0-or-later
#include "page-source.h"
#include "log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct page_source {
	struct dump *dump;
	int fd;
	uint64_t file_size;
	bool elf;
	bool procfs; /* /proc/vmcore: mapping is the fast way to every page */
	bool map_files; /* map a saved vmcore too (tests: the /proc/vmcore path on a file) */
	uint32_t window; /* the most pages one mapping of part of a run covers */
	const struct dump_segment *seg;
	size_t n_seg;
	atomic_bool mmap_ok;
	/* The dump reader keeps state (a segment hint, caches): one caller at a time. */
	pthread_mutex_t reader_lock;
	atomic_uint_fast64_t n_mapped, n_windows, n_read;
};

struct page_reader {
	struct page_source *src;
	struct dump *own;
	void *map;
	size_t map_len;
	uint8_t *buf; /* PAGE_SOURCE_MAX_PAGES pages, allocated when first needed */
	size_t hint; /* segment index of the last chunk */
};

int page_source_new(struct dump *d, bool no_mmap, struct page_source **ret)
{
	struct page_source *s;
	struct stat st;

	if (fstat(dump_fd(d), &st) < 0)
		return negative_errno();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dump = d;
	s->fd = dump_fd(d);
	s->file_size = (uint64_t)st.st_size;
	s->elf = dump_get_format(d) == DUMP_FORMAT_ELF;
	s->procfs = dump_is_procfs(d);
	s->window = PAGE_SOURCE_MAP_WINDOW;
	s->seg = dump_segments(d, &s->n_seg);
	atomic_init(&s->mmap_ok, !no_mmap && s->elf);
	atomic_init(&s->n_mapped, 0);
	atomic_init(&s->n_windows, 0);
	atomic_init(&s->n_read, 0);
	pthread_mutex_init(&s->reader_lock, NULL);
	*ret = s;
	return 0;
}

struct page_source *page_source_free(struct page_source *s)
{
	if (!s)
		return NULL;
	pthread_mutex_destroy(&s->reader_lock);
	free(s);
	return NULL;
}

void page_source_map_files(struct page_source *s, bool on)
{
	s->map_files = on;
}

int page_source_set_map_window(struct page_source *s, uint32_t pages)
{
	if (pages == 0 || pages > PAGE_SOURCE_MAX_PAGES)
		return -EINVAL;
	s->window = pages;
	return 0;
}

void page_source_get_stats(struct page_source *s, struct page_source_stats *ret)
{
	*ret = (struct page_source_stats){
		.chunks_mapped = atomic_load(&s->n_mapped),
		.windows_copied = atomic_load(&s->n_windows),
		.pieces_read = atomic_load(&s->n_read),
	};
}

int page_reader_new(struct page_source *s, struct dump *own, struct page_reader **ret)
{
	struct page_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->src = s;
	r->own = own;
	*ret = r;
	return 0;
}

int page_reader_get_into(struct page_reader *r, uint64_t pfn, uint32_t n, const uint64_t *want,
			 uint64_t *unreadable, uint64_t *absent, uint8_t *buf,
			 const uint8_t **ret_base)
{
	uint8_t *own = r->buf;
	int k;

	/* The reading paths fill r->buf: lend them the caller's for this call. */
	r->buf = buf;
	k = page_reader_get(r, pfn, n, want, unreadable, absent, ret_base);
	r->buf = own;
	return k;
}

void page_reader_release(struct page_reader *r)
{
	if (r->map) {
		munmap(r->map, r->map_len);
		r->map = NULL;
	}
}

struct page_reader *page_reader_free(struct page_reader *r)
{
	if (!r)
		return NULL;
	page_reader_release(r);
	free(r->buf);
	free(r);
	return NULL;
}

static bool seg_holds(const struct page_source *s, const struct dump_segment *g, uint64_t paddr,
		      uint64_t len)
{
	uint64_t rel = paddr - g->phys_start;

	return paddr >= g->phys_start && rel < g->file_size && len <= g->file_size - rel &&
	       g->file_offset + rel + len <= s->file_size;
}

/* A PT_LOAD whose bytes in the file hold all of [paddr, paddr + len), or NULL. */
static const struct dump_segment *segment_for(struct page_reader *r, uint64_t paddr, uint64_t len)
{
	const struct page_source *s = r->src;
	size_t lo = 0, hi = s->n_seg;

	if (r->hint < s->n_seg && seg_holds(s, &s->seg[r->hint], paddr, len))
		return &s->seg[r->hint];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seg[mid].phys_start <= paddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Overlapping PT_LOADs (the kernel image inside System RAM): look further back. */
	while (lo > 0)
		if (seg_holds(s, &s->seg[--lo], paddr, len)) {
			r->hint = lo;
			return &s->seg[lo];
		}
	return NULL;
}

/* How many whole pages from paddr (which g holds) g has in the file. */
static uint64_t seg_pages_from(const struct page_source *s, const struct dump_segment *g,
			       uint64_t paddr)
{
	uint64_t rel = paddr - g->phys_start, off = g->file_offset + rel;

	return MIN(g->file_size - rel, s->file_size - off) / DUMP_PAGE_SIZE;
}

static uint64_t file_offset(const struct dump_segment *g, uint64_t paddr)
{
	return g->file_offset + paddr - g->phys_start;
}

static int ensure_buf(struct page_reader *r)
{
	if (!r->buf) {
		r->buf = malloc(PAGE_SOURCE_MAX_PAGES * DUMP_PAGE_SIZE);
		if (!r->buf)
			return -ENOMEM;
	}
	return 0;
}

/*
 * /proc/vmcore maps old memory whole at mmap time, and its read() maps each
 * page on its own: always map it. Its read() also refuses ("ioremap on RAM")
 * old pages that the crash kernel counts as its own RAM, such as DIMMs
 * hot-added to the dead kernel that it found in the ACPI tables; a mapping
 * has no such check. A file in the page cache is read: a mapping costs a
 * fault or a PTE per page and a TLB miss per page touched, and on the 2-CPU
 * VM that benchmarks us scanning mapped pages ran at a third of pread's speed
 * (mapped and populated 400 MiB: 0.58 s; pread and scan: 0.18 s).
 */
static bool mapping_wanted(struct page_source *s)
{
	return s->elf && (s->procfs || s->map_files) && atomic_load(&s->mmap_ok);
}

/* One mapping of the vmcore; when mmap fails, the source reads from then on. */
static void *map_pages(struct page_source *s, uint64_t pfn, uint64_t off, uint32_t n)
{
	size_t len = (size_t)n * DUMP_PAGE_SIZE;
	void *p;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | (s->procfs ? 0 : MAP_POPULATE), s->fd,
		 (off_t)off);
	if (p != MAP_FAILED)
		return p;
	if (atomic_exchange(&s->mmap_ok, false))
		log_debug_errno(errno,
				"Cannot map pfn %#" PRIx64 "-%#" PRIx64 " (file offset %#" PRIx64
				", %zu bytes) of the vmcore, reading it from now on: %m",
				pfn, pfn + n - 1, off, len);
	return NULL;
}

/* Through the dump reader: a piece at once, else page by page; pages it cannot read are marked. */
static void read_slow(struct page_reader *r, uint64_t pfn, uint32_t first, uint32_t end,
		      uint64_t *unreadable, uint64_t *absent)
{
	struct page_source *s = r->src;
	struct dump *d = r->own ? r->own : s->dump;
	uint8_t *out = r->buf + (size_t)first * DUMP_PAGE_SIZE;
	uint32_t bad = 0, first_bad = 0;
	int k, err = 0;

	if (!r->own)
		pthread_mutex_lock(&s->reader_lock);
	k = dump_read_phys(d, (pfn + first) * DUMP_PAGE_SIZE, out,
			   (size_t)(end - first) * DUMP_PAGE_SIZE);
	for (uint32_t i = first; k < 0 && i < end; i++) {
		int e = dump_read_phys(d, (pfn + i) * DUMP_PAGE_SIZE,
				       r->buf + (size_t)i * DUMP_PAGE_SIZE, DUMP_PAGE_SIZE);

		if (e == -ENOENT)
			pagebit_set(absent, i);
		else if (e < 0) {
			pagebit_set(unreadable, i);
			if (bad++ == 0) {
				first_bad = i;
				err = e;
			}
		}
	}
	if (!r->own)
		pthread_mutex_unlock(&s->reader_lock);
	if (bad > 0)
		log_debug_errno(err,
				"%" PRIu32 " of pfns %#" PRIx64 "-%#" PRIx64
				" cannot be read, the first pfn %#" PRIx64 ": %m",
				bad, pfn + first, pfn + end - 1, pfn + first_bad);
}

/* Pages [first, end) of the chunk with pread when g holds them, else through the reader. */
static void read_piece(struct page_reader *r, uint64_t pfn, uint32_t first, uint32_t end,
		       const struct dump_segment *g, uint64_t *unreadable, uint64_t *absent)
{
	struct page_source *s = r->src;
	uint64_t paddr = (pfn + first) * DUMP_PAGE_SIZE;
	size_t len = (size_t)(end - first) * DUMP_PAGE_SIZE, got = 0;
	int k;

	atomic_fetch_add(&s->n_read, 1);
	if (g) {
		k = pread_full(s->fd, r->buf + (size_t)first * DUMP_PAGE_SIZE, len,
			       (off_t)file_offset(g, paddr), &got);
		if (k >= 0 && got == len)
			return;
		log_debug_errno(k < 0 ? k : -ENODATA,
				"Cannot read pfn %#" PRIx64 "-%#" PRIx64 " at file offset %#" PRIx64
				" of the vmcore (%zu of %zu bytes): %m; reading page by page",
				pfn + first, pfn + end - 1, file_offset(g, paddr), got, len);
	}
	read_slow(r, pfn, first, end, unreadable, absent);
}

/*
 * Copies pages [first, end) of the chunk, all in g, through mappings of at
 * most a window each, unmapped at once so that a long run costs no more
 * address space than a short one. Returns where it stopped: end, or the
 * first page it did not copy (mapping refused: the caller reads the rest).
 */
static uint32_t copy_mapped(struct page_reader *r, uint64_t pfn, uint32_t first, uint32_t end,
			    const struct dump_segment *g)
{
	struct page_source *s = r->src;
	uint64_t off = file_offset(g, (pfn + first) * DUMP_PAGE_SIZE);

	/* mmap takes page-aligned offsets only (RAM PT_LOADs of /proc/vmcore have them). */
	if (off % DUMP_PAGE_SIZE)
		return first;
	while (first < end && atomic_load(&s->mmap_ok)) {
		uint32_t n = MIN(end - first, s->window);
		void *p = map_pages(s, pfn + first, off, n);

		if (!p)
			break;
		memcpy(r->buf + (size_t)first * DUMP_PAGE_SIZE, p, (size_t)n * DUMP_PAGE_SIZE);
		(void)munmap(p, (size_t)n * DUMP_PAGE_SIZE);
		atomic_fetch_add(&s->n_windows, 1);
		first += n;
		off += (uint64_t)n * DUMP_PAGE_SIZE;
	}
	return first;
}

/*
 * One run of wanted pages into the buffer, split where the PT_LOAD holding
 * it in the file changes: each piece is copied from mappings or read with
 * pread, and pages no PT_LOAD holds go through the reader (holes between
 * PT_LOADs, a file cut short).
 */
static void read_run(struct page_reader *r, uint64_t pfn, uint32_t first, uint32_t end,
		     uint64_t *unreadable, uint64_t *absent)
{
	struct page_source *s = r->src;

	if (!s->elf) {
		read_slow(r, pfn, first, end, unreadable, absent);
		atomic_fetch_add(&s->n_read, 1);
		return;
	}
	while (first < end) {
		uint64_t paddr = (pfn + first) * DUMP_PAGE_SIZE;
		const struct dump_segment *g = segment_for(r, paddr, DUMP_PAGE_SIZE);
		uint32_t stop = first + 1, done = first;

		if (!g) {
			while (stop < end &&
			       !segment_for(r, (pfn + stop) * DUMP_PAGE_SIZE, DUMP_PAGE_SIZE))
				stop++;
			read_piece(r, pfn, first, stop, NULL, unreadable, absent);
			first = stop;
			continue;
		}
		stop = first + (uint32_t)MIN((uint64_t)(end - first), seg_pages_from(s, g, paddr));
		if (mapping_wanted(s))
			done = copy_mapped(r, pfn, first, stop, g);
		if (done < stop)
			read_piece(r, pfn, done, stop, g, unreadable, absent);
		first = stop;
	}
}

/* The whole chunk as one mapping, handed out as is: when one PT_LOAD holds it. */
static bool try_map(struct page_reader *r, uint64_t pfn, uint32_t n, const uint64_t *want,
		    const uint8_t **ret_base)
{
	struct page_source *s = r->src;
	uint64_t paddr = pfn * DUMP_PAGE_SIZE, len = (uint64_t)n * DUMP_PAGE_SIZE, off;
	const struct dump_segment *g;
	unsigned wanted = 0;
	void *p;

	if (!mapping_wanted(s))
		return false;
	g = segment_for(r, paddr, len);
	if (!g)
		return false;
	off = file_offset(g, paddr);
	if (off % DUMP_PAGE_SIZE)
		return false;
	if (want)
		for (uint32_t w = 0; w < PAGE_BITMAP_WORDS(n); w++)
			wanted += __builtin_popcountll(want[w]);
	/* A file's sparse chunk: populating the whole mapping would cost more than the runs. */
	if (want && wanted * 2 <= n && !s->procfs)
		return false;
	p = map_pages(s, pfn, off, n);
	if (!p)
		return false;
	atomic_fetch_add(&s->n_mapped, 1);
	r->map = p;
	r->map_len = len;
	*ret_base = p;
	return true;
}

int page_reader_get(struct page_reader *r, uint64_t pfn, uint32_t n, const uint64_t *want,
		    uint64_t *unreadable, uint64_t *absent, const uint8_t **ret_base)
{
	int k;

	if (n == 0 || n > PAGE_SOURCE_MAX_PAGES)
		return -EINVAL;
	page_reader_release(r);
	memset(unreadable, 0, PAGE_BITMAP_WORDS(n) * sizeof(uint64_t));
	memset(absent, 0, PAGE_BITMAP_WORDS(n) * sizeof(uint64_t));
	if (try_map(r, pfn, n, want, ret_base))
		return 0;

	k = ensure_buf(r);
	if (k < 0)
		return k;
	for (uint32_t i = 0; i < n;) {
		uint32_t end;

		if (want && !pagebit_test(want, i)) {
			i++;
			continue;
		}
		for (end = i + 1; end < n && (!want || pagebit_test(want, end)); end++)
			;
		read_run(r, pfn, i, end, unreadable, absent);
		i = end;
	}
	*ret_base = r->buf;
	return 0;
}
