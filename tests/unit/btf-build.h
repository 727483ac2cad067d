/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: a small kernel-like BTF built with libbpf's writer API, for
 * the BTF reader's tests, the fuzz seed and synthetic vmcores:
 *
 *	struct list_head { struct list_head *next, *prev; };            16 bytes
 *	struct task_struct {                                             128 bytes
 *		unsigned int __state;                          0
 *		union { struct { char comm[16]; }; long x; };  8 (anonymous)
 *		struct list_head tasks;                        24
 *		const volatile struct mm *mm;                  40
 *		unsigned int flag_a:3, flag_b:5;               48 (bits 0, 3)
 *		struct rss { long count[4]; } rss_stat[2];     56
 *	};
 *	typedef struct task_struct task_t;
 *	enum zone_stat_item { NR_FREE_PAGES = 0, NR_ZONE_LRU_BASE = 1, NR_VM_ZONE_STAT_ITEMS = 2 };
 *	enum64 big { BIG_VALUE = 0x100000000 };
 *	struct fwd_only;  (a forward declaration, and later the full struct)
 */
#pragma once

#include "util.h"

/* The raw BTF bytes (malloc'ed). */
int btf_build_sample(void **ret, size_t *ret_size);
