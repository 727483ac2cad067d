// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The walk over struct pages: runs of pfns are read a chunk at a time
 * (one read per physically contiguous piece of the memory map), each page
 * is classified by page-class.c, a free block's head leaves out its whole
 * block, and a compound page's tails go with their head. What a run needs
 * from before its start (a free block or a compound page that began
 * earlier) is found by looking back, or carried over from the previous
 * call when the run continues it.
 */
#include "page-filter.h"
#include "log.h"
#include "mem-section.h"
#include "page-class.h"

#include <inttypes.h>

/* pfns per read: 4096 struct pages of 64 bytes = 256 KiB per context */
#define CHUNK_PAGES 4096U
/* pfns whose struct page page_filter_new() tries to read before trusting the map */
#define PROBE_PAGES 16
#define WHY_SIZE 160

struct page_filter {
	int level;
	bool active;
	struct page_rules rules;
	struct mem_sections *ms;
	char why[WHY_SIZE];
};

struct page_filter_ctx {
	const struct page_filter *f;
	struct dump *d;
	uint8_t *buf; /* CHUNK_PAGES + 1 struct pages */
	bool *ok;
	uint8_t head_buf[2 * 512];

	bool continues; /* next_pfn is where the previous call ended */
	uint64_t next_pfn;
	uint64_t cover_end; /* a free block that started earlier reaches up to here */
	enum page_filter_class cover_class;

	bool head_known; /* the last compound head looked at, and its verdict */
	uint64_t head_pfn, head_nr;
	bool head_excluded;
	enum page_filter_class head_class;
};

static const char *const class_names[_PAGE_CLASS_MAX] = {
	[PAGE_CLASS_CACHE] = "cache",	  [PAGE_CLASS_CACHE_PRIVATE] = "cache_private",
	[PAGE_CLASS_USER] = "user",	  [PAGE_CLASS_HUGETLB] = "hugetlb",
	[PAGE_CLASS_FREE] = "free",	  [PAGE_CLASS_HWPOISON] = "hwpoison",
	[PAGE_CLASS_OFFLINE] = "offline",
};

const char *page_filter_class_to_string(enum page_filter_class c)
{
	return c >= 0 && c < _PAGE_CLASS_MAX ? class_names[c] : NULL;
}

void page_filter_counts_add(struct page_filter_counts *sum, const struct page_filter_counts *c)
{
	for (size_t i = 0; i < _PAGE_CLASS_MAX; i++)
		sum->pages[i] += c->pages[i];
	sum->unreadable += c->unreadable;
}

uint64_t page_filter_counts_total(const struct page_filter_counts *c)
{
	uint64_t t = 0;

	for (size_t i = 0; i < _PAGE_CLASS_MAX; i++)
		t += c->pages[i];
	return t;
}

/* Some RAM pfns, spread over the segments, must have a readable struct page. */
static bool probe(struct dump *d, const struct mem_sections *ms)
{
	size_t n_seg;
	const struct dump_segment *seg = dump_segments(d, &n_seg);
	uint8_t page[512];

	for (size_t i = 0; i < n_seg && i < PROBE_PAGES; i++) {
		uint64_t first = DIV_ROUND_UP(seg[i].phys_start, DUMP_PAGE_SIZE);
		uint64_t end = (seg[i].phys_start + seg[i].mem_size) / DUMP_PAGE_SIZE;
		bool ok = false;

		if (first >= end)
			continue;
		if (mem_sections_read(d, ms, first, 1, page, &ok) == 1 ||
		    mem_sections_read(d, ms, first + (end - first) / 2, 1, page, &ok) == 1)
			return true;
	}
	return false;
}

static void set_why(struct page_filter *f, const char *why)
{
	snprintf(f->why, sizeof(f->why), "%s", why);
}

int page_filter_new(struct dump *d, int dump_level, struct page_filter **ret,
		    const char **ret_why_fallback)
{
	_cleanup_free_ struct page_filter *f = NULL;
	const char *why = NULL;
	int r, level;

	if (dump_level < 0 || dump_level > PAGE_FILTER_ALL)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->level = dump_level & PAGE_FILTER_ZERO;

	r = page_rules_load(dump_vmcoreinfo(d), dump_level, &f->rules, &level, &why);
	if (r >= 0) {
		const char *why_ms = NULL;

		r = mem_sections_load(d, &f->ms, &why_ms);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			why = why_ms;
		else if (!probe(d, f->ms)) {
			why = "no struct page of the dump's memory can be read (memory map not mapped?)";
			f->ms = mem_sections_free(f->ms);
			r = -EIO;
		}
	}
	if (r >= 0) {
		f->active = true;
		f->level = level;
	}
	if (why)
		set_why(f, why);
	log_debug("page filter: level %d asked, %d applied%s%s", dump_level, f->level,
		  why ? ": " : "", why ?: "");
	/* at levels 0 and 1 nothing the caller asked for is lost (poisoned pages go unseen) */
	*ret_why_fallback = why && f->level != dump_level ? f->why : NULL;
	*ret = TAKE_PTR(f);
	return 0;
}

struct page_filter *page_filter_free(struct page_filter *f)
{
	if (!f)
		return NULL;
	mem_sections_free(f->ms);
	free(f);
	return NULL;
}

int page_filter_level(const struct page_filter *f)
{
	return f->level;
}

bool page_filter_active(const struct page_filter *f)
{
	return f->active;
}

int page_filter_ctx_new(const struct page_filter *f, struct dump *d, struct page_filter_ctx **ret)
{
	_cleanup_page_filter_ctx_ struct page_filter_ctx *c = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->f = f;
	c->d = d;
	if (f->active) {
		c->buf = malloc((CHUNK_PAGES + 1) * f->rules.size);
		c->ok = malloc((CHUNK_PAGES + 1) * sizeof(*c->ok));
		if (!c->buf || !c->ok)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

struct page_filter_ctx *page_filter_ctx_free(struct page_filter_ctx *c)
{
	if (!c)
		return NULL;
	free(c->buf);
	free(c->ok);
	free(c);
	return NULL;
}

static void exclude(uint64_t *bitmap, size_t i, enum page_filter_class cls,
		    struct page_filter_counts *counts)
{
	bitmap[i / 64] |= 1ULL << (i % 64);
	counts->pages[cls]++;
}

/*
 * A free block that begins before start and reaches it has its head at
 * start rounded down to its order: try each order, largest (lowest pfn)
 * first, as a walk from below would have met them.
 */
static void look_back(struct page_filter_ctx *c, uint64_t start)
{
	const struct page_rules *r = &c->f->rules;
	uint64_t last = UINT64_MAX;

	c->cover_end = 0;
	if (!(c->f->level & PAGE_FILTER_FREE))
		return;
	for (int k = (int)r->nr_orders - 1; k >= 1; k--) {
		uint64_t cand = start & ~((1ULL << k) - 1), nr, cnr;
		enum page_filter_class cls;
		struct page_view v;
		bool ok = false;

		if (cand == start || cand == last)
			continue;
		last = cand;
		if (mem_sections_read(c->d, c->f->ms, cand, 1, c->head_buf, &ok) != 1)
			continue;
		page_view_read(r, c->head_buf, &v);
		if (page_is_tail(r, &v))
			continue;
		if (page_classify(r, c->f->level, cand, &v, NULL, &cls, &nr, &cnr) && nr > 1 &&
		    cand + nr > start) {
			c->cover_end = cand + nr;
			c->cover_class = cls;
			return;
		}
	}
}

static void remember_head(struct page_filter_ctx *c, uint64_t pfn, bool excluded,
			  enum page_filter_class cls, uint64_t compound_nr)
{
	c->head_known = true;
	c->head_pfn = pfn;
	c->head_excluded = excluded;
	c->head_class = cls;
	c->head_nr = compound_nr;
}

/* A tail goes with its head: *ret_class when the head is left out. */
static bool tail_excluded(struct page_filter_ctx *c, uint64_t pfn, const struct page_view *v,
			  enum page_filter_class *ret_class)
{
	const struct page_rules *r = &c->f->rules;
	uint64_t head, nr, cnr;
	struct page_view hv;
	enum page_filter_class cls = 0;
	bool ok[2] = {}, excluded;

	if (mem_sections_addr_to_pfn(c->f->ms, page_tail_head(v), pfn, &head) < 0 || head >= pfn)
		return false;
	if (!c->head_known || c->head_pfn != head) {
		/* a head before this chunk (the chunk's own heads are remembered as met) */
		if (mem_sections_read(c->d, c->f->ms, head, 2, c->head_buf, ok) == 0 || !ok[0])
			return false;
		page_view_read(r, c->head_buf, &hv);
		excluded = !page_is_tail(r, &hv) &&
			   page_classify(r, c->f->level, head, &hv,
					 ok[1] ? c->head_buf + r->size : NULL, &cls, &nr, &cnr);
		remember_head(c, head, excluded, cls, page_is_tail(r, &hv) ? 1 : cnr);
	}
	if (!c->head_excluded || (c->head_nr && pfn >= c->head_pfn + c->head_nr))
		return false;
	*ret_class = c->head_class;
	return true;
}

static void classify_chunk(struct page_filter_ctx *c, uint64_t start, size_t m, uint64_t *bitmap,
			   size_t bit0, struct page_filter_counts *counts)
{
	const struct page_rules *r = &c->f->rules;
	int level = c->f->level;

	/* one more struct page: the first tail page of a head at the end */
	mem_sections_read(c->d, c->f->ms, start, m + 1, c->buf, c->ok);
	for (size_t i = 0; i < m; i++) {
		uint64_t pfn = start + i, nr, cnr;
		enum page_filter_class cls;
		struct page_view v;
		bool excluded;

		if (pfn < c->cover_end) {
			exclude(bitmap, bit0 + i, c->cover_class, counts);
			continue;
		}
		if (!c->ok[i]) {
			counts->unreadable++;
			continue;
		}
		page_view_read(r, c->buf + i * r->size, &v);
		if (page_is_tail(r, &v)) {
			if (tail_excluded(c, pfn, &v, &cls))
				exclude(bitmap, bit0 + i, cls, counts);
			continue;
		}
		excluded = page_classify(r, level, pfn, &v,
					 c->ok[i + 1] ? c->buf + (i + 1) * r->size : NULL, &cls,
					 &nr, &cnr);
		if (r->head_mask && (v.flags & r->head_mask))
			remember_head(c, pfn, excluded, cls, cnr);
		if (!excluded)
			continue;
		exclude(bitmap, bit0 + i, cls, counts);
		if (nr > 1) {
			c->cover_end = pfn + nr;
			c->cover_class = cls;
		}
	}
}

int page_filter_classify(struct page_filter_ctx *c, uint64_t start_pfn, size_t n,
			 uint64_t *ret_exclude, struct page_filter_counts *counts)
{
	struct page_filter_counts local = {};

	memset(ret_exclude, 0, DIV_ROUND_UP(n, 64) * sizeof(*ret_exclude));
	if (!c->f->active || n == 0)
		return 0;
	if (!c->continues || c->next_pfn != start_pfn)
		look_back(c, start_pfn);
	for (size_t done = 0; done < n; done += CHUNK_PAGES)
		classify_chunk(c, start_pfn + done, MIN((size_t)CHUNK_PAGES, n - done), ret_exclude,
			       done, &local);
	c->continues = true;
	c->next_pfn = start_pfn + n;
	if (counts)
		page_filter_counts_add(counts, &local);
	return 0;
}
