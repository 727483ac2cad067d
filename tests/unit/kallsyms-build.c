// SPDX-License-Identifier: GPL-2.0-or-later
#include "kallsyms-build.h"

/* Tokens 0x80.. are these substrings; every other byte value is itself. */
static const char *const multi[] = { "sys", "rq_", "handle_", "crash", "__", "task" };

static size_t token_of(const char *s, unsigned *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(multi); i++)
		if (startswith(s, multi[i])) {
			*ret = 0x80 + i;
			return strlen(multi[i]);
		}
	*ret = (uint8_t)s[0];
	return 1;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

int kallsyms_build(const struct ksym_spec *syms, size_t n, uint64_t relative_base,
		   bool absolute_percpu, struct kallsyms_built *ret)
{
	struct kallsyms_built b = {};
	size_t tpos = 0, npos = 0, cap = 16;

	b.token_table = calloc(1, 4096);
	b.token_index = calloc(1, 512);
	b.offsets = calloc(n ? n : 1, 4);
	for (size_t i = 0; i < n; i++)
		cap += 2 + strlen(syms[i].name);
	b.names = calloc(1, cap);
	if (!b.token_table || !b.token_index || !b.offsets || !b.names) {
		kallsyms_built_free(&b);
		return -ENOMEM;
	}
	for (unsigned t = 0; t < 256; t++) {
		put_le(b.token_index + 2 * t, tpos, 2);
		if (t >= 0x80 && t - 0x80 < ELEMENTSOF(multi)) {
			strcpy((char *)b.token_table + tpos, multi[t - 0x80]);
			tpos += strlen(multi[t - 0x80]) + 1;
		} else {
			b.token_table[tpos++] = t ? t : '?';
			b.token_table[tpos++] = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t codes[1024];
		size_t len = 0;
		int64_t off;

		for (const char *s = syms[i].name; *s;) {
			unsigned code;

			s += token_of(s, &code);
			codes[len++] = code;
		}
		if (len > 0x7f) {
			b.names[npos++] = 0x80 | (len & 0x7f);
			b.names[npos++] = len >> 7;
		} else
			b.names[npos++] = len;
		memcpy(b.names + npos, codes, len);
		npos += len;
		if (!absolute_percpu)
			off = (uint32_t)(syms[i].addr - relative_base);
		else if (syms[i].addr < relative_base)
			off = syms[i].addr;
		else
			off = -(int64_t)(syms[i].addr - relative_base) - 1;
		put_le(b.offsets + 4 * i, (uint32_t)off, 4);
	}
	b.t = (struct kallsyms_tables){
		.num_syms = n,
		.names = b.names,
		.names_size = npos,
		.token_table = b.token_table,
		.token_table_size = tpos,
		.token_index = b.token_index,
		.offsets = b.offsets,
		.relative_base = relative_base,
	};

	b.off_offsets = 0;
	b.off_relative_base = ALIGN_UP(4 * n, 8);
	b.off_num_syms = b.off_relative_base + 8;
	b.off_names = b.off_num_syms + 8;
	b.off_token_table = ALIGN_UP(b.off_names + npos, 8);
	b.off_token_index = ALIGN_UP(b.off_token_table + tpos, 8);
	b.image_size = b.off_token_index + 512;
	b.image = calloc(1, b.image_size);
	if (!b.image) {
		kallsyms_built_free(&b);
		return -ENOMEM;
	}
	memcpy(b.image + b.off_offsets, b.offsets, 4 * n);
	put_le(b.image + b.off_relative_base, relative_base, 8);
	put_le(b.image + b.off_num_syms, n, 4);
	memcpy(b.image + b.off_names, b.names, npos);
	memcpy(b.image + b.off_token_table, b.token_table, tpos);
	memcpy(b.image + b.off_token_index, b.token_index, 512);
	*ret = b;
	return 0;
}

void kallsyms_built_free(struct kallsyms_built *b)
{
	free(b->names);
	free(b->token_table);
	free(b->token_index);
	free(b->offsets);
	free(b->image);
	*b = (struct kallsyms_built){};
}
