// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kdump-compressed output. The descriptor area comes before the page
 * data and holds one descriptor per page in bitmap 2, so the number of
 * pages kept must be known before the first page is written: with a page
 * filter, a first pass classifies every chunk and only counts (struct
 * pages are 1/64 of the memory, and no page is read), as makedumpfile's
 * cyclic mode does. Its verdicts are kept for the second pass when their
 * bitmap is small (up to 128 GiB of memory), else the second pass
 * classifies again: memory stays bounded. The second pass skips the
 * chunks the verdicts leave out whole, reads the pages kept, finds zero
 * pages and compresses, on every worker thread; the results go to the
 * writer in pfn order (see collector/pipeline.h).
 */
#include "collect-internal.h"
#include "log.h"

#include <inttypes.h>

/* Pfns whose verdicts the first pass keeps for the second: a 4 MiB bitmap. */
#define VERDICT_PFNS_MAX (32ULL << 20)
/*
 * The counting pass hands out larger chunks than the dump pass: its work
 * per pfn is tiny (1/64 of a page read), and each chunk costs a hand-over
 * between threads. 64 Ki pfns: 4 MiB of struct pages, an 8 KiB bitmap.
 */
#define COUNT_CHUNK_PAGES (64U * 1024U)

enum page_kind {
	PAGE_EXCLUDED, /* by the page filter */
	PAGE_ABSENT, /* not in the vmcore (a dump that excluded it) */
	PAGE_UNREADABLE,
	PAGE_ZERO,
	PAGE_DATA,
};

struct kslot {
	uint8_t kind[PAGE_SOURCE_MAX_PAGES];
	uint16_t size[PAGE_SOURCE_MAX_PAGES]; /* DATA: bytes at page i's place in buf; 0: 4096 */
	uint8_t flags[PAGE_SOURCE_MAX_PAGES]; /* DATA: the descriptor flag the compressor chose */
	/*
	 * Page i's bytes at buf + i * 4096, compressed or not: pages are read
	 * straight into it, and an incompressible page is never copied.
	 */
	uint8_t *buf;
	struct page_filter_counts counts;
	uint32_t kept; /* the counting pass */
};

struct kdump_out {
	struct collect *c;
	struct sink *sink;
	struct kdump_writer *w;
	struct chunk_cursor cur;
	struct chunk_cursor done; /* the consumer's: pages gone through, for progress */
	uint64_t *verdicts; /* pfns the filter leaves out, from the first pass; or NULL */
	uint64_t kept;
	uint64_t unreadable, absent;
};

static void counts_add(struct page_filter_counts *sum, const struct page_filter_counts *c)
{
	for (unsigned i = 0; i < _PAGE_CLASS_MAX; i++)
		sum->pages[i] += c->pages[i];
	sum->unreadable += c->unreadable;
}

static bool next_chunk(void *user, uint64_t *ret_pfn, uint32_t *ret_n)
{
	struct kdump_out *k = user;

	return chunk_cursor_next(&k->cur, ret_pfn, ret_n);
}

static int count_work(void *user, void *worker, void *slot, uint64_t pfn, uint32_t n)
{
	struct kdump_out *k = user;
	struct kslot *s = slot;
	uint64_t exclude[PAGE_BITMAP_WORDS(COUNT_CHUNK_PAGES)];
	int r;

	s->counts = (struct page_filter_counts){};
	r = collect_classify(k->c, worker, pfn, n, exclude, &s->counts);
	if (r < 0)
		return r;
	s->kept = collect_count_kept(exclude, n);
	if (k->verdicts)
		collect_bits_or(k->verdicts, pfn, exclude, n);
	return 0;
}

static int count_consume(void *user, void *slot, uint64_t pfn, uint32_t n)
{
	struct kdump_out *k = user;
	struct kslot *s = slot;

	k->kept += s->kept;
	/* The second pass takes the verdicts, not the filter: count them here. */
	if (k->verdicts)
		counts_add(&k->c->res->excluded, &s->counts);
	return 0;
}

/*
 * With the first pass's verdicts, chunks that keep nothing are not handed
 * out at all: at dump level 31 most are, and each costs a hand-over.
 */
static bool next_dump_chunk(void *user, uint64_t *ret_pfn, uint32_t *ret_n)
{
	struct kdump_out *k = user;
	uint64_t exclude[CHUNK_WORDS];
	uint64_t pfn;
	uint32_t n;

	while (chunk_cursor_next(&k->cur, &pfn, &n))
		if (!k->verdicts || !collect_bits_get(k->verdicts, pfn, n, exclude)) {
			*ret_pfn = pfn;
			*ret_n = n;
			return true;
		}
	return false;
}

/*
 * Incompressible pages (random or already compressed data: three quarters
 * of the pages kept at dump level 1 on the 6.1 bench vmcore) cost zstd
 * ~5 us each to find out; a histogram of every 4th byte says it in ~0.6 us.
 * Bytes spread evenly over all 256 values (the sum of the squared counts
 * within 4% of a uniform draw's, 1.25 n^2 / 256 for n samples) leave an
 * entropy coder nothing, and such a page is stored as it is. Only after
 * RAW_RUN_MIN pages in a row came out raw, so that compressible memory
 * never pays for the test, and only within one aligned group of 64 pfns,
 * so that the output does not depend on how pages are split into chunks
 * (chunks start on a multiple of 64 pfns or where RAM starts).
 */
#define RAW_RUN_MIN 2
#define RANDOM_SQ_PERCENT 130ULL

static bool looks_random(const uint8_t *page)
{
	const uint64_t n = DUMP_PAGE_SIZE / 4;
	uint16_t count[256] = {};
	uint64_t sq = 0;

	for (size_t i = 0; i < DUMP_PAGE_SIZE; i += 4)
		count[page[i]]++;
	for (size_t i = 0; i < 256; i++)
		sq += (uint64_t)count[i] * count[i];
	return sq * 256 * 100 <= RANDOM_SQ_PERCENT * n * n;
}

static int dump_work(void *user, void *worker, void *slot, uint64_t pfn, uint32_t n)
{
	struct kdump_out *k = user;
	struct collect_worker *w = worker;
	struct kslot *s = slot;
	uint64_t exclude[CHUNK_WORDS], want[CHUNK_WORDS], unreadable[CHUNK_WORDS],
		absent[CHUNK_WORDS];
	bool zero_pages = k->c->level & PAGE_FILTER_ZERO;
	bool compress = k->c->o->compression != COMPRESSION_NONE;
	const uint8_t *base;
	unsigned raw_run = 0;
	uint8_t tmp[DUMP_PAGE_SIZE];
	bool any = false;
	int r;

	s->counts = (struct page_filter_counts){};
	if (k->verdicts)
		(void)collect_bits_get(k->verdicts, pfn, n, exclude);
	else {
		r = collect_classify(k->c, w, pfn, n, exclude, &s->counts);
		if (r < 0)
			return r;
	}
	for (uint32_t i = 0; i < PAGE_BITMAP_WORDS(n); i++) {
		want[i] = ~exclude[i];
		if (i == (n - 1) / 64 && n % 64)
			want[i] &= (1ULL << (n % 64)) - 1;
		any = any || want[i];
	}
	if (!any) {
		memset(s->kind, PAGE_EXCLUDED, n);
		return 0;
	}
	r = page_reader_get_into(w->reader, pfn, n, want, unreadable, absent, s->buf, &base);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *page = base + (size_t)i * DUMP_PAGE_SIZE;
		uint8_t *dst = s->buf + (size_t)i * DUMP_PAGE_SIZE;
		struct kdump_page p;

		if ((pfn + i) % 64 == 0)
			raw_run = 0;
		if (!pagebit_test(want, i))
			s->kind[i] = PAGE_EXCLUDED;
		else if (pagebit_test(absent, i))
			s->kind[i] = PAGE_ABSENT;
		else if (pagebit_test(unreadable, i))
			s->kind[i] = PAGE_UNREADABLE;
		else if (zero_pages && kdump_page_is_zero(page))
			s->kind[i] = PAGE_ZERO;
		else {
			s->kind[i] = PAGE_DATA;
			if (compress && raw_run >= RAW_RUN_MIN && looks_random(page))
				p = (struct kdump_page){ .data = page, .size = DUMP_PAGE_SIZE };
			else {
				/* Not into dst: the page may be there, and it is the input. */
				kdump_compress_page(w->compressor, page, tmp, &p);
				raw_run = p.flags ? 0 : raw_run + 1;
			}
			/* A page read into place and stored raw stays where it is. */
			if (p.data != dst)
				memcpy(dst, p.data, p.size);
			s->size[i] = p.size == DUMP_PAGE_SIZE ? 0 : (uint16_t)p.size;
			s->flags[i] = (uint8_t)p.flags;
		}
	}
	page_reader_release(w->reader);
	return 0;
}

/* Progress counts the chunks skipped before this one too. */
static void progress_through(struct kdump_out *k, uint64_t end)
{
	uint64_t pfn, pages = 0;
	uint32_t n;

	while (k->done.i < k->done.n && k->done.pfn < end && chunk_cursor_next(&k->done, &pfn, &n))
		pages += n;
	progress_add(&k->c->progress, pages);
}

static int dump_consume(void *user, void *slot, uint64_t pfn, uint32_t n)
{
	struct kdump_out *k = user;
	struct kslot *s = slot;
	int r = 0;

	for (uint32_t i = 0; i < n && r >= 0; i++) {
		struct kdump_page p;

		switch (s->kind[i]) {
		case PAGE_EXCLUDED:
			break;
		case PAGE_ABSENT:
			k->absent++;
			break;
		case PAGE_UNREADABLE:
			k->unreadable++;
			break;
		case PAGE_ZERO:
			r = kdump_writer_add_zero_page(k->w, pfn + i);
			break;
		default:
			p = (struct kdump_page){
				.data = s->buf + (size_t)i * DUMP_PAGE_SIZE,
				.size = s->size[i] ? s->size[i] : DUMP_PAGE_SIZE,
				.flags = s->flags[i],
			};
			r = kdump_writer_add_page(k->w, pfn + i, &p);
		}
	}
	counts_add(&k->c->res->excluded, &s->counts);
	progress_through(k, pfn + n);
	return r;
}

static const struct pipeline_ops count_ops = {
	.next = next_chunk,
	.work = count_work,
	.consume = count_consume,
};

static const struct pipeline_ops dump_ops = {
	.next = next_dump_chunk,
	.work = dump_work,
	.consume = dump_consume,
};

static void slots_free(struct kslot **slots, unsigned n)
{
	for (unsigned i = 0; slots && i < n; i++)
		if (slots[i]) {
			free(slots[i]->buf);
			free(slots[i]);
		}
	free(slots);
}

static int slots_new(struct collect *c, bool with_buf, struct kslot ***ret)
{
	struct kslot **slots = calloc(c->n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (unsigned i = 0; i < c->n_slots; i++) {
		slots[i] = calloc(1, sizeof(**slots));
		if (slots[i] && with_buf)
			slots[i]->buf = malloc((size_t)c->chunk_pages * DUMP_PAGE_SIZE);
		if (!slots[i] || (with_buf && !slots[i]->buf)) {
			slots_free(slots, c->n_slots);
			return -ENOMEM;
		}
	}
	*ret = slots;
	return 0;
}

/* Pages the dump will hold: every page with data, less what the filter leaves out. */
static int count_pages(struct kdump_out *k)
{
	struct collect *c = k->c;
	struct kslot **slots = NULL;
	int r;

	if (!c->filter) {
		k->kept = c->data_pages;
		return 0;
	}
	r = slots_new(c, false, &slots);
	if (r < 0)
		return r;
	chunk_cursor_init(&k->cur, c->data, c->n_data, COUNT_CHUNK_PAGES);
	r = collect_run(c, &count_ops, k, (void **)slots);
	slots_free(slots, c->n_slots);
	return r;
}

static void finish(struct kdump_out *k, int r)
{
	struct collect_result *res = k->c->res;
	struct dump *d = k->c->dump;
	struct kdump_writer_stats st;

	/* A write error ends the copy but not the file: finish makes it an INCOMPLETE dump. */
	if (r < 0)
		res->write_error = r;
	res->pages_unreadable = k->unreadable;
	res->pages_nodata += k->absent;
	res->incomplete = dump_is_truncated(d) || dump_is_incomplete(d) || k->unreadable > 0 ||
			  r < 0;
	r = kdump_writer_finish(k->w, res->incomplete);
	if (r < 0) {
		res->incomplete = true;
		if (!res->write_error)
			res->write_error = r;
	}
	kdump_writer_get_stats(k->w, &st);
	res->pages_written = st.pages_data;
	res->pages_zero = st.pages_zero;
	/* A stream's length is what went down the pipe, records and all. */
	res->output_bytes = sink_is_stream(k->sink) ? sink_bytes(k->sink) : st.file_size;
}

int output_kdump(struct collect *c, struct sink *sink)
{
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	struct collect_result *res = c->res;
	struct kdump_writer_params p;
	struct kdump_out k = { .c = c, .sink = sink };
	_cleanup_free_ uint64_t *verdicts = NULL;
	struct kslot **slots = NULL;
	int r;

	if (c->filter && dump_max_pfn(c->dump) <= VERDICT_PFNS_MAX) {
		verdicts = calloc(DIV_ROUND_UP(dump_max_pfn(c->dump), 64), sizeof(uint64_t));
		if (!verdicts)
			return -ENOMEM;
		k.verdicts = verdicts;
	}

	collect_writer_params(c, &p);
	snprintf(res->release, sizeof(res->release), "%s", p.utsname.release);
	r = kdump_writer_new_sink(sink, &p, &w);
	if (r < 0)
		return r;
	k.w = w;
	for (size_t i = 0; i < c->n_ram; i++) {
		r = kdump_writer_set_ram(w, c->ram[i].start, c->ram[i].end);
		if (r < 0)
			return r;
	}
	res->pages_total = kdump_writer_ram_pages(w);
	res->ram_bytes = res->pages_total * DUMP_PAGE_SIZE;
	res->pages_nodata = res->pages_total - c->data_pages;

	r = count_pages(&k);
	if (r < 0)
		return r;
	r = kdump_writer_reserve(w, k.kept, c->level & PAGE_FILTER_ZERO);
	if (r < 0)
		return r;

	r = slots_new(c, true, &slots);
	if (r < 0)
		return r;
	chunk_cursor_init(&k.cur, c->data, c->n_data, c->chunk_pages);
	chunk_cursor_init(&k.done, c->data, c->n_data, c->chunk_pages);
	r = collect_run(c, &dump_ops, &k, (void **)slots);
	if (r >= 0)
		progress_through(&k, UINT64_MAX);
	slots_free(slots, c->n_slots);
	finish(&k, r);
	return 0;
}
