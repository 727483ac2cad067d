/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: builds kallsyms tables the way scripts/kallsyms.c lays them
 * out (token table and index, names as token numbers with one- or two-byte
 * lengths, offsets from a relative base with absolute per-CPU values), for
 * the decoder's tests, the fuzz seeds and synthetic vmcores.
 */
#pragma once

#include "kallsyms.h"

struct ksym_spec {
	const char *name; /* type character first: "Tsysrq_handle_crash" */
	uint64_t addr;
};

struct kallsyms_built {
	struct kallsyms_tables t;
	uint8_t *names, *token_table, *token_index, *offsets;
	/* One buffer laid out as in the kernel image: offsets, relative_base,
	 * num_syms, names, token_table, token_index; each 8-byte aligned. */
	uint8_t *image;
	size_t image_size;
	size_t off_offsets, off_relative_base, off_num_syms, off_names, off_token_table,
		off_token_index;
};

/*
 * absolute_percpu: encode addresses below relative_base as absolute values
 * (they must fit in 31 bits) and the rest as negative offsets; else every
 * address as an unsigned offset from relative_base.
 */
int kallsyms_build(const struct ksym_spec *syms, size_t n, uint64_t relative_base,
		   bool absolute_percpu, struct kallsyms_built *ret);
void kallsyms_built_free(struct kallsyms_built *b);
