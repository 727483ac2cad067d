// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a struct page is, per kernel version. The rules follow the kernel's
 * include/linux/page-flags.h and mm_types.h; the kernel tells its own
 * numbers through VMCOREINFO (kernel/crash_core.c, kernel/vmcore_info.c
 * since 6.9), and which entries it exports tells the versions apart:
 *
 *  - Free pages: the head of a free block has the buddy page type in
 *    page->_mapcount and its order in page->private (2.6.38+). Page types
 *    were inverted bits below PAGE_TYPE_BASE, compared as the exact value
 *    NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE), until 6.12's 4ffca5a96678 ("mm:
 *    support only one page_type per page") made the type the top byte
 *    (PGTY_buddy << 24), whose low 24 bits a type may use: then only the
 *    top byte is compared.
 *  - Slab: PG_slab in flags until 6.10's 46df8e73a4a3 ("mm: free up
 *    PG_slab") made it a page type (NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)).
 *    Slab pages are never free, anonymous or offline, whatever their other
 *    fields hold.
 *  - Page cache: PG_lru, or PG_swapcache together with PG_swapbacked
 *    (4.10+: PG_swapcache alone is an alias of another flag), and not
 *    anonymous; "private" is PG_private.
 *  - Anonymous: bit 0 (PAGE_MAPPING_ANON) of page->mapping, KSM included.
 *  - Compound pages: a tail has bit 0 of page->compound_head set (4.6+;
 *    renamed compound_info in 7.1) and the rest points at the head's struct
 *    page. A tail is left out exactly when its head is. The order sits in
 *    the first tail page: a compound_order byte (OFFSET(page.compound_order),
 *    4.16 .. 6.2), folio._folio_order (6.3 .. 6.5, 1c5509be58f6 "mm: remove
 *    'First tail page' members from struct page"), then the low byte of
 *    folio._flags_1 (6.6+, ebc1baf5c9b4 "mm: free up a word in the first
 *    tail page"), which has no VMCOREINFO entry: the 6.6+ exports
 *    (NUMBER(PG_hugetlb), NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)) stand for it.
 *  - hugetlbfs: compound_dtor == HUGETLB_PAGE_DTOR in the first tail page
 *    (until 6.5), PG_hugetlb in folio._flags_1 (6.6 .. 6.8, 9c5ccf2db04b
 *    "mm: remove HUGETLB_PAGE_DTOR"), then a page type of the head (6.9+,
 *    d99e3140a4d3 "mm: turn folio_test_hugetlb into a PageType").
 *  - Poisoned (PG_hwpoison) and offline (page type, 5.0+) pages are left
 *    out at every level; unaccepted memory (page type, 6.16+) counts as free
 *    in blocks of the largest order.
 *
 * The order of the tests, and that a compound page goes with its head,
 * are makedumpfile's (__exclude_unnecessary_pages), so that the two agree
 * page for page.
 */
#include "page-class.h"
#include "log.h"

#define PAGE_MAPPING_ANON 0x1ULL
/* x86_64's NR_PAGE_ORDERS (MAX_ORDER + 1) when LENGTH(zone.free_area) is missing. */
#define DEFAULT_NR_ORDERS 11
#define MAX_ORDER_PLAUSIBLE 20

static uint64_t read_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

void page_view_read(const struct page_rules *r, const uint8_t *page, struct page_view *ret)
{
	*ret = (struct page_view){ .flags = read_u64(page + r->off_flags) };
	if (r->off_mapping != SIZE_MAX)
		ret->mapping = read_u64(page + r->off_mapping);
	if (r->has_private)
		ret->private_ = read_u64(page + r->off_private);
	if (r->has_compound_head)
		ret->compound_head = read_u64(page + r->off_compound_head);
	if (r->has_mapcount)
		memcpy(&ret->mapcount, page + r->off_mapcount, sizeof(ret->mapcount));
}

static bool type_is(const struct page_type_rule *t, uint32_t mapcount)
{
	if (!t->known)
		return false;
	if (t->top_byte)
		return mapcount >> 24 == t->value >> 24;
	return mapcount == t->value;
}

static bool is_slab(const struct page_rules *r, const struct page_view *v)
{
	return (v->flags & r->slab) || (r->has_mapcount && type_is(&r->slab_type, v->mapcount));
}

static bool is_anon(const struct page_rules *r, const struct page_view *v)
{
	return (v->mapping & PAGE_MAPPING_ANON) && !is_slab(r, v);
}

static bool is_cache(const struct page_rules *r, const struct page_view *v)
{
	if (v->flags & r->lru)
		return true;
	return (v->flags & r->swapcache) && (!r->has_swapbacked || (v->flags & r->swapbacked));
}

/* The order of a compound head from its first tail page; -1 when unknown. */
static int head_order(const struct page_rules *r, uint64_t pfn, const uint8_t *next)
{
	unsigned order;

	if (!next || r->order_rule == ORDER_UNKNOWN)
		return -1;
	if (r->order_rule == ORDER_FLAGS1_BYTE)
		order = read_u64(next + r->off_flags) & 0xff;
	else
		order = next[r->order_offset];
	/* as makedumpfile: an order the pfn is not aligned to is no order */
	if (order >= 64 || (pfn & ((1ULL << order) - 1)))
		return 0;
	return (int)order;
}

static bool is_hugetlb(const struct page_rules *r, const struct page_view *v, const uint8_t *next)
{
	switch (r->hugetlb_rule) {
	case HUGETLB_PAGE_TYPE:
		return r->has_mapcount && type_is(&r->hugetlb_type, v->mapcount);
	case HUGETLB_FLAGS1_BIT:
		return next && (read_u64(next + r->off_flags) & r->hugetlb_flag);
	case HUGETLB_DTOR_BYTE:
		return next && next[r->dtor_offset] == r->dtor_value;
	default:
		return false;
	}
}

bool page_classify(const struct page_rules *r, int level, uint64_t pfn, const struct page_view *v,
		   const uint8_t *next, enum page_filter_class *ret_class, uint64_t *ret_nr,
		   uint64_t *ret_compound_nr)
{
	bool head = r->head_mask && (v->flags & r->head_mask);
	int order = head ? head_order(r, pfn, next) : -1;
	enum page_filter_class c;

	*ret_nr = 1;
	*ret_compound_nr = !head ? 1 : order < 0 ? 0 : 1ULL << order;

	if ((level & PAGE_FILTER_FREE) && r->has_mapcount && !is_slab(r, v)) {
		if (type_is(&r->buddy, v->mapcount)) {
			/* a bad order keeps the page, and nothing else is asked of it */
			if (v->private_ >= r->nr_orders)
				return false;
			*ret_nr = 1ULL << v->private_;
			*ret_class = PAGE_CLASS_FREE;
			return true;
		}
		if (type_is(&r->unaccepted, v->mapcount)) {
			*ret_nr = 1ULL << (r->nr_orders - 1);
			*ret_class = PAGE_CLASS_FREE;
			return true;
		}
	}
	if ((level & PAGE_FILTER_CACHE) && is_cache(r, v) && !(v->flags & r->private_) &&
	    !is_anon(r, v))
		c = PAGE_CLASS_CACHE;
	else if ((level & PAGE_FILTER_CACHE_PRIVATE) && is_cache(r, v) && !is_anon(r, v))
		c = (v->flags & r->private_) ? PAGE_CLASS_CACHE_PRIVATE : PAGE_CLASS_CACHE;
	else if ((level & PAGE_FILTER_USER) && is_anon(r, v))
		c = PAGE_CLASS_USER;
	else if ((level & PAGE_FILTER_USER) && head && is_hugetlb(r, v, next))
		c = PAGE_CLASS_HUGETLB;
	else if (v->flags & r->hwpoison)
		c = PAGE_CLASS_HWPOISON;
	else if (r->has_mapcount && !is_slab(r, v) && type_is(&r->offline, v->mapcount))
		c = PAGE_CLASS_OFFLINE;
	else
		return false;
	*ret_class = c;
	return true;
}

/* --- reading the rules from VMCOREINFO ------------------------------------ */

struct loader {
	const struct vmcoreinfo *vi;
	size_t size;
	const char *why; /* the first problem met */
};

static void problem(struct loader *l, const char *why)
{
	if (!l->why)
		l->why = why;
}

/* An OFFSET() of a field of width bytes inside struct page; SIZE_MAX when absent or bad. */
static size_t field(struct loader *l, const char *name, size_t width, const char *why_missing,
		    const char *why_bad)
{
	uint64_t off;
	int r = vmcoreinfo_offset(l->vi, name, &off);

	if (r == -ENOENT) {
		if (why_missing)
			problem(l, why_missing);
		return SIZE_MAX;
	}
	if (r < 0 || off > l->size - width) {
		problem(l, why_bad);
		return SIZE_MAX;
	}
	return off;
}

/* A PG_ bit as a mask; 0 when absent or bad. */
static uint64_t flag(struct loader *l, const char *name, const char *why_missing,
		     const char *why_bad)
{
	int64_t n;
	int r = vmcoreinfo_number(l->vi, name, &n);

	if (r == -ENOENT) {
		if (why_missing)
			problem(l, why_missing);
		return 0;
	}
	if (r < 0 || n < 0 || n > 63) {
		problem(l, why_bad);
		return 0;
	}
	return 1ULL << n;
}

static struct page_type_rule page_type(struct loader *l, const char *name, const char *why_bad)
{
	struct page_type_rule t = {};
	int64_t n;
	int r = vmcoreinfo_number(l->vi, name, &n);

	if (r == -ENOENT)
		return t;
	/* a 32-bit value, printed signed (-129) or, by some, unsigned */
	if (r < 0 || n < INT32_MIN || n > UINT32_MAX) {
		problem(l, why_bad);
		return t;
	}
	t.known = true;
	t.value = (uint32_t)n;
	/* the byte encoding leaves the low 24 bits clear; the inverted bits never do */
	t.top_byte = (t.value & 0xffffff) == 0;
	return t;
}

/*
 * A one-byte member of struct folio that lies in its first tail page
 * (folio offsets count from the head page); its offset in that page, or
 * SIZE_MAX when absent or bad.
 */
static size_t tail_field(struct loader *l, const char *name, const char *why_bad)
{
	uint64_t off;
	int r = vmcoreinfo_offset(l->vi, name, &off);

	if (r == -ENOENT)
		return SIZE_MAX;
	if (r < 0 || off < l->size || off >= 2 * l->size) {
		problem(l, why_bad);
		return SIZE_MAX;
	}
	return off - l->size;
}

static void load_compound(struct loader *l, struct page_rules *r)
{
	bool v66 = vmcoreinfo_get(l->vi, "NUMBER(PG_hugetlb)") ||
		   vmcoreinfo_get(l->vi, "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)");
	size_t off;
	int64_t n;

	r->off_compound_head = field(l, "page.compound_head", 8, NULL,
				     "VMCOREINFO: OFFSET(page.compound_head) is implausible");
	if (r->off_compound_head == SIZE_MAX)
		r->off_compound_head =
			field(l, "page.compound_info", 8, NULL,
			      "VMCOREINFO: OFFSET(page.compound_info) is implausible");
	r->has_compound_head = r->off_compound_head != SIZE_MAX;
	r->head_mask = 0;
	if (vmcoreinfo_number(l->vi, "PG_head_mask", &n) >= 0 && n > 0 && !(n & (n - 1)))
		r->head_mask = n;

	off = tail_field(l, "folio._folio_order",
			 "VMCOREINFO: OFFSET(folio._folio_order) is implausible");
	if (off != SIZE_MAX) {
		r->order_rule = ORDER_TAIL_BYTE;
		r->order_offset = off;
	} else if ((off = field(l, "page.compound_order", 1, NULL,
				"VMCOREINFO: OFFSET(page.compound_order) is implausible")) !=
		   SIZE_MAX) {
		r->order_rule = ORDER_TAIL_BYTE;
		r->order_offset = off;
	} else if (v66)
		r->order_rule = ORDER_FLAGS1_BYTE;

	if (vmcoreinfo_number(l->vi, "PAGE_HUGETLB_MAPCOUNT_VALUE", &n) >= 0) {
		r->hugetlb_type =
			page_type(l, "PAGE_HUGETLB_MAPCOUNT_VALUE",
				  "VMCOREINFO: PAGE_HUGETLB_MAPCOUNT_VALUE is implausible");
		if (r->hugetlb_type.known)
			r->hugetlb_rule = HUGETLB_PAGE_TYPE;
	} else if ((r->hugetlb_flag =
			    flag(l, "PG_hugetlb", NULL, "VMCOREINFO: PG_hugetlb is implausible")))
		r->hugetlb_rule = HUGETLB_FLAGS1_BIT;
	else if (vmcoreinfo_number(l->vi, "HUGETLB_PAGE_DTOR", &n) >= 0 && n >= 0 && n < 256) {
		off = tail_field(l, "folio._folio_dtor",
				 "VMCOREINFO: OFFSET(folio._folio_dtor) is implausible");
		if (off == SIZE_MAX)
			off = field(l, "page.compound_dtor", 1, NULL,
				    "VMCOREINFO: OFFSET(page.compound_dtor) is implausible");
		if (off != SIZE_MAX) {
			r->hugetlb_rule = HUGETLB_DTOR_BYTE;
			r->dtor_offset = off;
			r->dtor_value = n;
		}
	}
}

int page_rules_load(const struct vmcoreinfo *vi, int dump_level, struct page_rules *ret,
		    int *ret_level, const char **ret_why)
{
	struct page_rules r = {};
	struct loader l = { .vi = vi };
	int level = dump_level;
	uint64_t size, length;

	if (!vi) {
		*ret_why = "the dump has no VMCOREINFO";
		return -ENOENT;
	}
	if (vmcoreinfo_size(vi, "page", &size) < 0 || size < 32 || size > 512) {
		*ret_why = "VMCOREINFO has no plausible SIZE(page)";
		return vmcoreinfo_get(vi, "SIZE(page)") ? -EINVAL : -ENOENT;
	}
	r.size = l.size = size;
	r.off_flags = field(&l, "page.flags", 8, "VMCOREINFO has no OFFSET(page.flags)",
			    "VMCOREINFO: OFFSET(page.flags) is implausible");
	if (r.off_flags == SIZE_MAX) {
		*ret_why = l.why;
		return -EINVAL;
	}

	r.off_mapping = field(&l, "page.mapping", 8,
			      (level & 14) ? "VMCOREINFO has no OFFSET(page.mapping)" : NULL,
			      "VMCOREINFO: OFFSET(page.mapping) is implausible");
	r.off_mapcount = field(&l, "page._mapcount", 4, NULL,
			       "VMCOREINFO: OFFSET(page._mapcount) is implausible");
	r.has_mapcount = r.off_mapcount != SIZE_MAX;
	r.off_private = field(&l, "page.private", 8, NULL,
			      "VMCOREINFO: OFFSET(page.private) is implausible");
	r.has_private = r.off_private != SIZE_MAX;

	r.lru = flag(&l, "PG_lru", (level & 6) ? "VMCOREINFO has no NUMBER(PG_lru)" : NULL,
		     "VMCOREINFO: PG_lru is implausible");
	r.private_ = flag(&l, "PG_private",
			  (level & 6) == 2 ? "VMCOREINFO has no NUMBER(PG_private)" : NULL,
			  "VMCOREINFO: PG_private is implausible");
	r.swapcache = flag(&l, "PG_swapcache", NULL, "VMCOREINFO: PG_swapcache is implausible");
	r.swapbacked = flag(&l, "PG_swapbacked", NULL, "VMCOREINFO: PG_swapbacked is implausible");
	r.has_swapbacked = r.swapbacked != 0;
	r.slab = flag(&l, "PG_slab", NULL, "VMCOREINFO: PG_slab is implausible");
	r.hwpoison = flag(&l, "PG_hwpoison", NULL, "VMCOREINFO: PG_hwpoison is implausible");

	r.buddy = page_type(&l, "PAGE_BUDDY_MAPCOUNT_VALUE",
			    "VMCOREINFO: PAGE_BUDDY_MAPCOUNT_VALUE is implausible");
	r.offline = page_type(&l, "PAGE_OFFLINE_MAPCOUNT_VALUE",
			      "VMCOREINFO: PAGE_OFFLINE_MAPCOUNT_VALUE is implausible");
	r.slab_type = page_type(&l, "PAGE_SLAB_MAPCOUNT_VALUE",
				"VMCOREINFO: PAGE_SLAB_MAPCOUNT_VALUE is implausible");
	r.unaccepted = page_type(&l, "PAGE_UNACCEPTED_MAPCOUNT_VALUE",
				 "VMCOREINFO: PAGE_UNACCEPTED_MAPCOUNT_VALUE is implausible");
	r.nr_orders = DEFAULT_NR_ORDERS;
	if (vmcoreinfo_length(vi, "zone.free_area", &length) >= 0) {
		if (length >= 1 && length <= MAX_ORDER_PLAUSIBLE)
			r.nr_orders = length;
		else
			problem(&l, "VMCOREINFO: LENGTH(zone.free_area) is implausible");
	}
	load_compound(&l, &r);

	/* what each level bit needs */
	if (r.off_mapping == SIZE_MAX)
		level &= ~(PAGE_FILTER_CACHE | PAGE_FILTER_CACHE_PRIVATE | PAGE_FILTER_USER);
	if (!r.lru)
		level &= ~(PAGE_FILTER_CACHE | PAGE_FILTER_CACHE_PRIVATE);
	if (!r.private_ && !(level & PAGE_FILTER_CACHE_PRIVATE))
		level &= ~PAGE_FILTER_CACHE;
	if (level & PAGE_FILTER_FREE) {
		if (!r.buddy.known)
			problem(&l, "VMCOREINFO has no NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
		else if (!r.has_mapcount || !r.has_private)
			problem(&l,
				"VMCOREINFO has no OFFSET(page._mapcount) or OFFSET(page.private)");
		if (!r.buddy.known || !r.has_mapcount || !r.has_private)
			level &= ~PAGE_FILTER_FREE;
	}
	if (!r.has_mapcount)
		r.offline = r.slab_type = r.hugetlb_type = r.unaccepted = (struct page_type_rule){};

	*ret = r;
	*ret_level = level;
	*ret_why = level == dump_level ? NULL :
		   l.why	       ? l.why :
					 "VMCOREINFO lacks what the dump level needs";
	return 0;
}
