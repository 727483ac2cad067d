// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf-build.h"

#include <bpf/btf.h>

int btf_build_sample(void **ret, size_t *ret_size)
{
	struct btf *b = btf__new_empty();
	int uint, chr, lng, lh, lhp, comm, anon_s, anon_u, task, mm, cvmm, pmm, rss, rssa, cnt;
	const void *raw;
	uint32_t size;
	void *copy;

	if (!b)
		return -ENOMEM;
	uint = btf__add_int(b, "unsigned int", 4, 0);
	chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	lng = btf__add_int(b, "long", 8, BTF_INT_SIGNED);

	/* Fields follow their struct at once: the pointer comes first, to the next id. */
	lhp = btf__add_ptr(b, btf__type_cnt(b) + 1);
	lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", lhp, 0, 0);
	btf__add_field(b, "prev", lhp, 64, 0);

	comm = btf__add_array(b, uint, chr, 16);
	anon_s = btf__add_struct(b, NULL, 16);
	btf__add_field(b, "comm", comm, 0, 0);
	anon_u = btf__add_union(b, NULL, 16);
	btf__add_field(b, NULL, anon_s, 0, 0);
	btf__add_field(b, "x", lng, 0, 0);

	mm = btf__add_fwd(b, "mm", BTF_FWD_STRUCT);
	cvmm = btf__add_volatile(b, btf__add_const(b, mm));
	pmm = btf__add_ptr(b, cvmm);

	cnt = btf__add_array(b, uint, lng, 4);
	rss = btf__add_struct(b, "rss", 32);
	btf__add_field(b, "count", cnt, 0, 0);
	rssa = btf__add_array(b, uint, rss, 2);

	task = btf__add_struct(b, "task_struct", 128);
	btf__add_field(b, "__state", uint, 0, 0);
	btf__add_field(b, NULL, anon_u, 64, 0);
	btf__add_field(b, "tasks", lh, 192, 0);
	btf__add_field(b, "mm", pmm, 320, 0);
	btf__add_field(b, "flag_a", uint, 384, 3);
	btf__add_field(b, "flag_b", uint, 387, 5);
	btf__add_field(b, "rss_stat", rssa, 448, 0);
	btf__add_typedef(b, "task_t", task);

	btf__add_enum(b, "zone_stat_item", 4);
	btf__add_enum_value(b, "NR_FREE_PAGES", 0);
	btf__add_enum_value(b, "NR_ZONE_LRU_BASE", 1);
	btf__add_enum_value(b, "NR_VM_ZONE_STAT_ITEMS", 2);
	btf__add_enum64(b, "big", 8, false);
	btf__add_enum64_value(b, "BIG_VALUE", 0x100000000ULL);

	/* A forward declaration first, the full type after it. */
	btf__add_fwd(b, "fwd_only", BTF_FWD_STRUCT);
	btf__add_struct(b, "fwd_only", 8);
	btf__add_field(b, "val", lng, 0, 0);

	raw = btf__raw_data(b, &size);
	copy = raw ? malloc(size) : NULL;
	if (!copy) {
		btf__free(b);
		return -ENOMEM;
	}
	memcpy(copy, raw, size);
	btf__free(b);
	*ret = copy;
	*ret_size = size;
	return 0;
}
