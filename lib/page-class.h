/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rules that say what a struct page is (free, page cache, anonymous,
 * hugetlbfs, slab, poisoned, offline; head or tail of a compound page), as
 * the dumped kernel's version defines them. Every offset and number comes
 * from VMCOREINFO; which entries exist tells the version apart. See
 * page-class.c for the kernel change behind each rule.
 */
#pragma once

#include "page-filter.h"
#include "vmcoreinfo.h"

/* A page type kept in page->_mapcount (page_type). */
struct page_type_rule {
	bool known;
	bool top_byte; /* 6.12+: the type is the top byte; else the exact value */
	uint32_t value;
};

enum order_rule {
	ORDER_UNKNOWN,
	ORDER_TAIL_BYTE, /* a byte of the first tail page at order_offset (4.16 .. 6.5) */
	ORDER_FLAGS1_BYTE, /* low byte of the first tail page's flags, folio._flags_1 (6.6+) */
};

enum hugetlb_rule {
	HUGETLB_UNKNOWN,
	HUGETLB_DTOR_BYTE, /* compound_dtor byte in the first tail page == HUGETLB_PAGE_DTOR */
	HUGETLB_FLAGS1_BIT, /* PG_hugetlb in folio._flags_1 (6.6 .. 6.8) */
	HUGETLB_PAGE_TYPE, /* page type of the head page (6.9+) */
};

struct page_rules {
	size_t size; /* SIZE(page) */
	size_t off_flags, off_mapping, off_mapcount, off_private, off_compound_head;
	bool has_mapcount, has_private, has_compound_head;

	uint64_t lru, private_, swapcache, swapbacked, slab, hwpoison; /* flag masks; 0: none */
	bool has_swapbacked;
	uint64_t head_mask;

	struct page_type_rule buddy, offline, slab_type, hugetlb_type, unaccepted;
	unsigned nr_orders; /* LENGTH(zone.free_area): buddy orders are below it */

	enum order_rule order_rule;
	size_t order_offset;
	enum hugetlb_rule hugetlb_rule;
	size_t dtor_offset;
	unsigned dtor_value;
	uint64_t hugetlb_flag;
};

/* The fields of one struct page that the rules read. */
struct page_view {
	uint64_t flags, mapping, private_, compound_head;
	uint32_t mapcount;
};

/*
 * Reads the rules for dump_level from vi. *ret_level is the level they can
 * decide (bit 1 always). On a rule that cannot be had, *ret_why names the
 * first missing or implausible entry; -ENOENT/-EINVAL when not even the
 * struct page basics (SIZE(page), OFFSET(page.flags)) are usable.
 */
int page_rules_load(const struct vmcoreinfo *vi, int dump_level, struct page_rules *ret,
		    int *ret_level, const char **ret_why);

void page_view_read(const struct page_rules *r, const uint8_t *page, struct page_view *ret);

static inline bool page_is_tail(const struct page_rules *r, const struct page_view *v)
{
	return r->has_compound_head && (v->compound_head & 1);
}

/* The struct page address of a tail page's head. */
static inline uint64_t page_tail_head(const struct page_view *v)
{
	return v->compound_head - 1;
}

/*
 * What a page that is no tail says about itself at level: returns true and
 * sets *ret_class when it (and *ret_nr pages from it, 1 or more) is left
 * out. next is the struct page after it (the first tail page of a compound
 * page), or NULL when unreadable. *ret_compound_nr is the compound page's
 * size when the page is a head whose order is known, else 0; the caller
 * leaves out its tails with it.
 */
bool page_classify(const struct page_rules *r, int level, uint64_t pfn, const struct page_view *v,
		   const uint8_t *next, enum page_filter_class *ret_class, uint64_t *ret_nr,
		   uint64_t *ret_compound_nr);
