// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target for the kallsyms decoder (lib/kallsyms.c): the tables come
 * from a dead kernel's memory, so any bytes must decode or fail cleanly.
 *
 * Input: u32 num_syms, u32 flags (bit 0: absolute addresses), u64
 * relative_base, 512 bytes of token index, u32 token table size and the
 * table, u32 names size and the names, then the offsets (or addresses);
 * whatever is missing reads as zeros.
 *
 * With -DCRASHCAP_LIBFUZZER, libFuzzer drives LLVMFuzzerTestOneInput.
 * Without, main() runs it over the files named on the command line and
 * over a table built by tests/unit/kallsyms-build.c, every prefix of it and
 * every single-byte change of its first 4 KiB.
 */
#include <assert.h>
#include <inttypes.h>

#include "kallsyms.h"
#include "tests/unit/kallsyms-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const uint8_t *p;
	size_t left;
};

static size_t take(struct reader *r, uint8_t *out, size_t n)
{
	size_t got = MIN(n, r->left);

	memcpy(out, r->p, got);
	memset(out + got, 0, n - got);
	r->p += got;
	r->left -= got;
	return got;
}

static uint32_t take32(struct reader *r)
{
	uint8_t b[4];

	take(r, b, 4);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void exercise(struct kallsyms *k)
{
	size_t n = kallsyms_count(k);
	struct kallsyms_symbol s, s2;
	uint64_t off, addr;
	char buf[128];

	for (size_t i = 0; i < n; i++) {
		kallsyms_get(k, i, &s);
		assert(s.name && strlen(s.name) < 4096);
		if (i > 0) {
			kallsyms_get(k, i - 1, &s2);
			assert(s2.addr <= s.addr);
		}
		if (kallsyms_lookup_addr(k, s.addr, &s2, &off) >= 0)
			assert(s2.addr == s.addr && off == 0);
		(void)kallsyms_format(k, s.addr + 1, buf, sizeof(buf));
		if (i < 64)
			assert(kallsyms_lookup_name(k, s.name, &addr) == 0);
	}
	(void)kallsyms_lookup_name(k, "sysrq_handle_crash", &addr);
	(void)kallsyms_format(k, UINT64_MAX, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct kallsyms_tables t = {};
	_cleanup_free_ uint8_t *table = NULL, *names = NULL, *values = NULL;
	struct kallsyms *k = NULL;
	uint8_t index[512], base[8];
	uint32_t flags;
	size_t n;

	t.num_syms = take32(&r) % 100000;
	flags = take32(&r);
	take(&r, base, 8);
	memcpy(&t.relative_base, base, 8);
	take(&r, index, sizeof(index));
	t.token_index = index;
	t.token_table_size = take32(&r) % (1 << 20);
	table = malloc(t.token_table_size + 1);
	t.token_table_size = take(&r, table, t.token_table_size);
	t.token_table = table;
	t.names_size = take32(&r) % (4 << 20);
	names = malloc(t.names_size + 1);
	t.names_size = take(&r, names, t.names_size);
	t.names = names;
	n = (size_t)t.num_syms * ((flags & 1) ? 8 : 4);
	values = malloc(n + 1);
	take(&r, values, n);
	if (flags & 1)
		t.addresses = values;
	else
		t.offsets = values;

	if (kallsyms_decode(&t, &k) >= 0) {
		assert(kallsyms_count(k) == t.num_syms);
		exercise(k);
		kallsyms_free(k);
	}
	return 0;
}

#ifndef CRASHCAP_LIBFUZZER
static void put32(uint8_t **p, uint32_t v)
{
	memcpy(*p, &v, 4);
	*p += 4;
}

/* A well-formed input from the test helper's tables. */
static int seed(uint8_t **ret, size_t *ret_size)
{
	static const struct ksym_spec syms[] = {
		{ "Afixed_percpu_data", 0 },
		{ "Acurrent_task", 0x1fb80 },
		{ "Tstartup_64", 0xffffffff81000000 },
		{ "Tsysrq_handle_crash", 0xffffffff81000100 },
		{ "tsysrq_alias", 0xffffffff81000100 },
		{ "T__task_pid_nr_ns", 0xffffffff81000200 },
		{ "Dinit_task", 0xffffffff81010000 },
		{ "B_end", 0xffffffff81020000 },
	};
	struct kallsyms_built b;
	uint8_t *buf, *p;
	int r;

	r = kallsyms_build(syms, ELEMENTSOF(syms), 0xffffffff81000000, true, &b);
	if (r < 0)
		return r;
	buf = p = malloc(16 + 512 + 8 + b.t.token_table_size + b.t.names_size + 4 * b.t.num_syms);
	if (!buf)
		return -ENOMEM;
	put32(&p, b.t.num_syms);
	put32(&p, 0);
	memcpy(p, &b.t.relative_base, 8);
	p += 8;
	memcpy(p, b.t.token_index, 512);
	p += 512;
	put32(&p, b.t.token_table_size);
	memcpy(p, b.t.token_table, b.t.token_table_size);
	p += b.t.token_table_size;
	put32(&p, b.t.names_size);
	memcpy(p, b.t.names, b.t.names_size);
	p += b.t.names_size;
	memcpy(p, b.t.offsets, 4 * b.t.num_syms);
	p += 4 * b.t.num_syms;
	*ret_size = p - buf;
	*ret = buf;
	kallsyms_built_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ uint8_t *s = NULL;
	unsigned n = 0;
	size_t size;

	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		int r = read_full_file(argv[i], 64 << 20, &data, &size);

		if (r < 0) {
			fprintf(stderr, "fuzz-kallsyms: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, size);
		n++;
	}
	if (seed(&s, &size) < 0)
		return 1;
	LLVMFuzzerTestOneInput(s, size);
	for (size_t len = 0; len < size; len++)
		LLVMFuzzerTestOneInput(s, len);
	for (size_t i = 0; i < size && i < 4096; i++)
		for (unsigned v = 0; v < 256; v += 37) {
			uint8_t saved = s[i];

			s[i] = saved ^ (v | 1);
			LLVMFuzzerTestOneInput(s, size);
			s[i] = saved;
		}
	printf("fuzz-kallsyms: %u inputs and the built-in seed's variants, no crash\n", n);
	return 0;
}
#endif
