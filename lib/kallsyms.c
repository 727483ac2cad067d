// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kallsyms from dump memory. Facts from the kernel's scripts/kallsyms.c and
 * kernel/kallsyms.c (v6.1, v6.12): each name is a length (one byte, or two
 * when the first has bit 7 set: (b0 & 0x7f) | b1 << 7) and that many token
 * numbers; token n is the NUL-terminated string at
 * kallsyms_token_table[kallsyms_token_index[n]]. The first character of the
 * expanded name is the symbol type. With KALLSYMS_ABSOLUTE_PERCPU (x86_64
 * SMP), offsets >= 0 are absolute values (per-CPU symbols) and negative
 * ones mean relative_base - 1 - offset; without it every offset is an
 * unsigned distance from relative_base. The kernel image always has
 * negative offsets in the first form, so their presence decides.
 */
#include "kallsyms.h"
#include "log.h"

#include <inttypes.h>

#define MAX_SYMS (8U << 20)
#define MAX_NAME 4096
#define NAMES_CHUNK (256U << 10)
#define NAMES_MAX (64U << 20)
#define TOKEN_TABLE_MAX (64U << 10)

struct sym {
	uint64_t addr;
	uint32_t name; /* offset in strtab: the type character, then the name */
	uint32_t index; /* in the kernel's table: orders aliases */
};

struct kallsyms {
	struct sym *syms; /* by address */
	size_t n;
	char *strtab;
	size_t strtab_size;
	uint32_t *by_name; /* hash table of indexes into syms + 1; built on first use */
	size_t by_name_size;
};

struct kallsyms *kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return NULL;
	free(k->syms);
	free(k->strtab);
	free(k->by_name);
	free(k);
	return NULL;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Where the name after *pos ends; -EBADMSG when it runs past the buffer. */
static int name_span(const uint8_t *names, size_t size, size_t *pos, size_t *ret_len)
{
	size_t p = *pos, len;

	if (p >= size)
		return -EBADMSG;
	len = names[p++];
	if (len & 0x80) {
		if (p >= size)
			return -EBADMSG;
		len = (len & 0x7f) | (size_t)names[p++] << 7;
	}
	if (len == 0 || len > size - p)
		return -EBADMSG;
	*ret_len = len;
	*pos = p;
	return 0;
}

static int strtab_append(struct kallsyms *k, size_t *cap, const char *s, size_t len)
{
	if (k->strtab_size + len + 1 > *cap) {
		size_t want = MAX(*cap * 2, k->strtab_size + len + 1 + 4096);
		char *grown;

		if (want > UINT32_MAX)
			return -EBADMSG;
		grown = realloc(k->strtab, want);
		if (!grown)
			return -ENOMEM;
		k->strtab = grown;
		*cap = want;
	}
	memcpy(k->strtab + k->strtab_size, s, len);
	k->strtab_size += len;
	return 0;
}

static int expand(const struct kallsyms_tables *t, const uint8_t *codes, size_t n, char *out,
		  size_t *ret_len)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t off = le16(t->token_index + 2 * codes[i]);
		const uint8_t *tok, *end;

		if (off >= t->token_table_size)
			return -EBADMSG;
		tok = t->token_table + off;
		end = memchr(tok, 0, t->token_table_size - off);
		if (!end || len + (size_t)(end - tok) > MAX_NAME)
			return -EBADMSG;
		memcpy(out + len, tok, end - tok);
		len += end - tok;
	}
	if (len == 0)
		return -EBADMSG;
	*ret_len = len;
	return 0;
}

static uint64_t sym_address(const struct kallsyms_tables *t, uint32_t i, bool absolute_percpu)
{
	int32_t off;

	if (!t->offsets)
		return le64(t->addresses + 8 * (size_t)i);
	off = (int32_t)le32(t->offsets + 4 * (size_t)i);
	if (!absolute_percpu)
		return t->relative_base + (uint32_t)off;
	if (off >= 0)
		return (uint64_t)off;
	return t->relative_base - 1 - (int64_t)off;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int kallsyms_decode(const struct kallsyms_tables *t, struct kallsyms **ret)
{
	struct kallsyms *k _cleanup_(kallsyms_freep) = NULL;
	_cleanup_free_ char *name = NULL;
	bool absolute_percpu = false;
	size_t pos = 0, cap = 0;
	int r;

	if (t->num_syms == 0 || t->num_syms > MAX_SYMS || !t->names || !t->token_table ||
	    !t->token_index || (!t->offsets && !t->addresses))
		return -EBADMSG;
	k = calloc(1, sizeof(*k));
	name = malloc(MAX_NAME + 1);
	if (!k || !name)
		return -ENOMEM;
	k->syms = calloc(t->num_syms, sizeof(*k->syms));
	if (!k->syms)
		return -ENOMEM;
	if (t->offsets)
		for (uint32_t i = 0; i < t->num_syms && !absolute_percpu; i++)
			absolute_percpu = (int32_t)le32(t->offsets + 4 * (size_t)i) < 0;

	for (uint32_t i = 0; i < t->num_syms; i++) {
		size_t n, len;

		r = name_span(t->names, t->names_size, &pos, &n);
		if (r < 0)
			return log_debug_errno(r, "kallsyms: name %" PRIu32 " runs past the table",
					       i);
		r = expand(t, t->names + pos, n, name, &len);
		if (r < 0)
			return log_debug_errno(r, "kallsyms: name %" PRIu32 " has a bad token", i);
		pos += n;
		k->syms[i] = (struct sym){ .addr = sym_address(t, i, absolute_percpu),
					   .name = k->strtab_size,
					   .index = i };
		r = strtab_append(k, &cap, name, len + 1);
		if (r < 0)
			return r;
		k->strtab[k->strtab_size - 1] = 0;
	}
	k->n = t->num_syms;
	qsort(k->syms, k->n, sizeof(*k->syms), sym_cmp);
	*ret = TAKE_PTR(k);
	return 0;
}

size_t kallsyms_count(const struct kallsyms *k)
{
	return k->n;
}

void kallsyms_get(const struct kallsyms *k, size_t i, struct kallsyms_symbol *ret)
{
	const struct sym *s = &k->syms[i];
	uint64_t size = 0;

	/* Aliases share an address: the size runs to the next different one. */
	for (size_t j = i + 1; j < k->n; j++)
		if (k->syms[j].addr != s->addr) {
			size = k->syms[j].addr - s->addr;
			break;
		}
	*ret = (struct kallsyms_symbol){
		.name = k->strtab + s->name + 1,
		.type = k->strtab[s->name],
		.addr = s->addr,
		.size = size,
	};
}

int kallsyms_lookup_addr(const struct kallsyms *k, uint64_t addr, struct kallsyms_symbol *ret,
			 uint64_t *ret_offset)
{
	size_t lo = 0, hi = k->n;
	struct kallsyms_symbol s;

	/* The first symbol above addr... */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	/* ...then back to the first alias of the one below it. */
	lo--;
	while (lo > 0 && k->syms[lo - 1].addr == k->syms[lo].addr)
		lo--;
	kallsyms_get(k, lo, &s);
	if (s.size == 0 || addr - s.addr >= s.size)
		return -ENOENT;
	if (ret)
		*ret = s;
	if (ret_offset)
		*ret_offset = addr - s.addr;
	return 0;
}

const char *kallsyms_format(const struct kallsyms *k, uint64_t addr, char *buf, size_t len)
{
	struct kallsyms_symbol s;
	uint64_t off;

	if (k && kallsyms_lookup_addr(k, addr, &s, &off) >= 0)
		snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64, s.name, off, s.size);
	else
		snprintf(buf, len, "0x%016" PRIx64, addr);
	return buf;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static const char *sym_name(const struct kallsyms *k, uint32_t i)
{
	return k->strtab + k->syms[i].name + 1;
}

/* Open addressing over indexes into syms (+1; 0 is empty); of equal names, the kernel's first. */
static int build_name_index(struct kallsyms *k)
{
	size_t size = 16;

	while (size < 2 * k->n)
		size *= 2;
	k->by_name = calloc(size, sizeof(*k->by_name));
	if (!k->by_name)
		return -ENOMEM;
	k->by_name_size = size;
	for (uint32_t i = 0; i < k->n; i++) {
		const char *name = sym_name(k, i);

		for (size_t h = name_hash(name) & (size - 1);; h = (h + 1) & (size - 1)) {
			uint32_t *slot = &k->by_name[h];

			if (*slot == 0) {
				*slot = i + 1;
				break;
			}
			if (streq(sym_name(k, *slot - 1), name)) {
				if (k->syms[i].index < k->syms[*slot - 1].index)
					*slot = i + 1;
				break;
			}
		}
	}
	return 0;
}

int kallsyms_lookup_name(struct kallsyms *k, const char *name, uint64_t *ret_addr)
{
	int r;

	if (!k->by_name) {
		r = build_name_index(k);
		if (r < 0)
			return r;
	}
	for (size_t h = name_hash(name) & (k->by_name_size - 1);;
	     h = (h + 1) & (k->by_name_size - 1)) {
		uint32_t slot = k->by_name[h];

		if (slot == 0)
			return -ENOENT;
		if (streq(sym_name(k, slot - 1), name)) {
			*ret_addr = k->syms[slot - 1].addr;
			return 0;
		}
	}
}

const char *kallsyms_missing(const struct vmcoreinfo *vi)
{
	static const char *const need[] = { "kallsyms_names", "kallsyms_num_syms",
					    "kallsyms_token_table", "kallsyms_token_index" };
	uint64_t a;

	if (!vi)
		return "VMCOREINFO";
	for (size_t i = 0; i < ELEMENTSOF(need); i++)
		if (vmcoreinfo_symbol(vi, need[i], &a) < 0)
			return need[i];
	if (vmcoreinfo_symbol(vi, "kallsyms_addresses", &a) >= 0)
		return NULL;
	if (vmcoreinfo_symbol(vi, "kallsyms_offsets", &a) < 0)
		return "kallsyms_offsets";
	if (vmcoreinfo_symbol(vi, "kallsyms_relative_base", &a) < 0)
		return "kallsyms_relative_base";
	return NULL;
}

static uint64_t symbol(const struct vmcoreinfo *vi, const char *name)
{
	uint64_t a = 0;

	(void)vmcoreinfo_symbol(vi, name, &a);
	return a;
}

/*
 * kallsyms_names has no recorded size: read it a chunk at a time until the
 * lengths of all num_syms names are inside. The table that follows it in
 * the image bounds the reads when it is close.
 */
static int read_names(struct dump *d, uint64_t addr, uint64_t bound, uint32_t num, uint8_t **ret,
		      size_t *ret_size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t size = 0, pos = 0;
	uint32_t seen = 0;
	int r;

	while (seen < num) {
		size_t n = MIN((size_t)NAMES_CHUNK, bound - size), len;
		uint8_t *grown;

		if (n == 0)
			return log_debug_errno(-EBADMSG,
					       "kallsyms_names: %" PRIu32
					       " names do not fit in %zu bytes",
					       num, size);
		grown = realloc(buf, size + n);
		if (!grown)
			return -ENOMEM;
		buf = grown;
		r = dump_read_virt(d, addr + size, buf + size, n);
		if (r < 0)
			return log_debug_errno(r, "Cannot read kallsyms_names at 0x%" PRIx64 ": %m",
					       addr + size);
		size += n;
		while (seen < num) {
			size_t p = pos;

			if (name_span(buf, size, &p, &len) < 0 || p + len > size)
				break;
			pos = p + len;
			seen++;
		}
	}
	*ret = TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

int kallsyms_load(struct dump *d, struct kallsyms **ret)
{
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	_cleanup_free_ uint8_t *names = NULL, *table = NULL, *offsets = NULL;
	uint8_t index[512], num[4], base[8];
	struct kallsyms_tables t = {};
	uint64_t a_names, a_table, a_index, a_offsets, bound, table_size = 0;
	const char *missing;
	bool absolute;
	int r;

	missing = kallsyms_missing(vi);
	if (missing)
		return log_debug_errno(-ENOENT, "VMCOREINFO lacks %s", missing);
	a_names = symbol(vi, "kallsyms_names");
	a_table = symbol(vi, "kallsyms_token_table");
	a_index = symbol(vi, "kallsyms_token_index");
	absolute = vmcoreinfo_symbol(vi, "kallsyms_addresses", &a_offsets) >= 0;
	if (!absolute)
		a_offsets = symbol(vi, "kallsyms_offsets");

	r = dump_read_virt(d, symbol(vi, "kallsyms_num_syms"), num, sizeof(num));
	if (r < 0)
		return log_debug_errno(r, "Cannot read kallsyms_num_syms: %m");
	t.num_syms = le32(num);
	if (t.num_syms == 0 || t.num_syms > MAX_SYMS)
		return log_debug_errno(-EBADMSG, "kallsyms_num_syms is %" PRIu32, t.num_syms);

	r = dump_read_virt(d, a_index, index, sizeof(index));
	if (r < 0)
		return log_debug_errno(r, "Cannot read kallsyms_token_index: %m");
	for (unsigned i = 0; i < 256; i++)
		table_size = MAX(table_size, le16(index + 2 * i) + 256ULL);
	/* The index follows the table in every layout so far: read no further. */
	if (a_index > a_table && a_index - a_table < table_size)
		table_size = a_index - a_table;
	table = malloc(table_size);
	if (!table)
		return -ENOMEM;
	r = dump_read_virt(d, a_table, table, table_size);
	if (r < 0)
		return log_debug_errno(r, "Cannot read kallsyms_token_table: %m");

	bound = a_table > a_names && a_table - a_names < NAMES_MAX ? a_table - a_names : NAMES_MAX;
	r = read_names(d, a_names, bound, t.num_syms, &names, &t.names_size);
	if (r < 0)
		return r;

	offsets = malloc((size_t)t.num_syms * (absolute ? 8 : 4));
	if (!offsets)
		return -ENOMEM;
	r = dump_read_virt(d, a_offsets, offsets, (size_t)t.num_syms * (absolute ? 8 : 4));
	if (r < 0)
		return log_debug_errno(r, "Cannot read %s: %m",
				       absolute ? "kallsyms_addresses" : "kallsyms_offsets");
	if (!absolute) {
		r = dump_read_virt(d, symbol(vi, "kallsyms_relative_base"), base, sizeof(base));
		if (r < 0)
			return log_debug_errno(r, "Cannot read kallsyms_relative_base: %m");
		t.relative_base = le64(base);
		t.offsets = offsets;
	} else
		t.addresses = offsets;
	t.names = names;
	t.token_table = table;
	t.token_table_size = table_size;
	t.token_index = index;
	return kallsyms_decode(&t, ret);
}
