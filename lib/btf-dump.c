// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BTF from dump memory, parsed by libbpf. libbpf's own lookups by name walk
 * every type, and analyze asks for dozens of names in a table of ~100,000
 * types: names of composite, typedef and enum types, and all enumerators,
 * are indexed once, sorted.
 */
#include "btf-dump.h"
#include "log.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <inttypes.h>
#include <stdarg.h>

#define BTF_MAGIC_LE 0xeb9f
#define BTF_MAX_SIZE (256U << 20)
#define PATH_MAX_DEPTH 16

struct named {
	const char *name; /* owned by the btf */
	uint32_t id;
	int64_t value; /* enumerators */
};

struct kbtf {
	struct btf *btf;
	size_t size;
	struct named *types;
	size_t n_types;
	struct named *enums;
	size_t n_enums;
};

struct kbtf *kbtf_free(struct kbtf *b)
{
	if (!b)
		return NULL;
	btf__free(b->btf);
	free(b->types);
	free(b->enums);
	free(b);
	return NULL;
}

const struct btf *kbtf_btf(const struct kbtf *b)
{
	return b->btf;
}

size_t kbtf_size(const struct kbtf *b)
{
	return b->size;
}

/* libbpf reports parse errors on stderr by default; they belong in our debug log. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	log_debug("libbpf: %s", buf);
	return 0;
}

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

static int push(struct named **v, size_t *n, size_t *cap, struct named e)
{
	if (*n == *cap) {
		struct named *grown;

		*cap = *cap ? *cap * 2 : 1024;
		grown = realloc(*v, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*v = grown;
	}
	(*v)[(*n)++] = e;
	return 0;
}

static int build_index(struct kbtf *b)
{
	uint32_t n = btf__type_cnt(b->btf);
	size_t cap_t = 0, cap_e = 0;
	int r;

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b->btf, id);
		const char *name = btf__name_by_offset(b->btf, t->name_off);

		if ((btf_is_composite(t) || btf_is_typedef(t) || btf_is_any_enum(t)) && name &&
		    *name) {
			r = push(&b->types, &b->n_types, &cap_t, (struct named){ name, id, 0 });
			if (r < 0)
				return r;
		}
		for (uint16_t i = 0; btf_is_any_enum(t) && i < btf_vlen(t); i++) {
			struct named e = { .id = id };

			if (btf_is_enum(t)) {
				e.name = btf__name_by_offset(b->btf, btf_enum(t)[i].name_off);
				/* kflag: a signed enum (6.0+ BTF); older BTF has small values only. */
				e.value = btf_kflag(t) ? btf_enum(t)[i].val :
							 (int64_t)(uint32_t)btf_enum(t)[i].val;
			} else {
				e.name = btf__name_by_offset(b->btf, btf_enum64(t)[i].name_off);
				e.value = (int64_t)btf_enum64_value(&btf_enum64(t)[i]);
			}
			if (!e.name || !*e.name)
				continue;
			r = push(&b->enums, &b->n_enums, &cap_e, e);
			if (r < 0)
				return r;
		}
	}
	if (b->n_types > 0)
		qsort(b->types, b->n_types, sizeof(*b->types), named_cmp);
	if (b->n_enums > 0)
		qsort(b->enums, b->n_enums, sizeof(*b->enums), named_cmp);
	return 0;
}

/* The BTF header's own account of its size, so a cut-short copy is named as such. */
static int check_header(const uint8_t *p, size_t size)
{
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	uint64_t end;

	if (size < 24)
		return log_debug_errno(-EBADMSG, "BTF of %zu bytes is shorter than its header",
				       size);
	if ((p[0] | p[1] << 8) != BTF_MAGIC_LE)
		return log_debug_errno(-EBADMSG, "No BTF magic (0x%02x%02x)", p[1], p[0]);
	memcpy(&hdr_len, p + 4, 4);
	memcpy(&type_off, p + 8, 4);
	memcpy(&type_len, p + 12, 4);
	memcpy(&str_off, p + 16, 4);
	memcpy(&str_len, p + 20, 4);
	end = (uint64_t)hdr_len + MAX((uint64_t)type_off + type_len, (uint64_t)str_off + str_len);
	if (hdr_len < 24 || end > size)
		return log_debug_errno(-EBADMSG,
				       "BTF is truncated: its header says %" PRIu64
				       " bytes, %zu are there",
				       end, size);
	return 0;
}

int kbtf_from_bytes(const void *data, size_t size, struct kbtf **ret)
{
	_cleanup_kbtf_ struct kbtf *b = NULL;
	int r;

	r = check_header(data, size);
	if (r < 0)
		return r;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	libbpf_set_print(libbpf_log);
	b->btf = btf__new(data, size);
	if (!b->btf) {
		r = errno > 0 ? -errno : -EBADMSG;
		return log_debug_errno(r == -ENOMEM ? r : -EBADMSG, "libbpf rejects the BTF: %m");
	}
	b->size = size;
	r = build_index(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

int kbtf_load(struct dump *d, struct kallsyms *k, struct kbtf **ret)
{
	_cleanup_free_ uint8_t *data = NULL;
	uint64_t start, stop;
	int r;

	if (kallsyms_lookup_name(k, "__start_BTF", &start) < 0 ||
	    kallsyms_lookup_name(k, "__stop_BTF", &stop) < 0)
		return log_debug_errno(-ENOENT, "kallsyms has no __start_BTF/__stop_BTF");
	if (stop <= start || stop - start > BTF_MAX_SIZE)
		return log_debug_errno(-EBADMSG, "__stop_BTF - __start_BTF is %" PRId64 " bytes",
				       (int64_t)(stop - start));
	data = malloc(stop - start);
	if (!data)
		return -ENOMEM;
	r = dump_read_virt(d, start, data, stop - start);
	if (r < 0)
		return log_debug_errno(r, "Cannot read BTF at 0x%" PRIx64 "..0x%" PRIx64 ": %m",
				       start, stop);
	return kbtf_from_bytes(data, stop - start, ret);
}

static const struct named *find(const struct named *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && streq(v[lo].name, name) ? &v[lo] : NULL;
}

/* The type a name stands for, preferring a struct or union over a typedef of it. */
static int find_type(const struct kbtf *b, const char *name, uint32_t *ret)
{
	const struct named *e = find(b->types, b->n_types, name);
	uint32_t fallback = 0;

	for (; e && e < b->types + b->n_types && streq(e->name, name); e++) {
		const struct btf_type *t = btf__type_by_id(b->btf, e->id);

		/* A forward declaration has no members; the full one comes elsewhere. */
		if (btf_is_composite(t) && btf_vlen(t) > 0) {
			*ret = e->id;
			return 0;
		}
		if (!fallback)
			fallback = e->id;
	}
	if (!fallback)
		return -ENOENT;
	*ret = fallback;
	return 0;
}

/* Strips typedefs and qualifiers. */
static uint32_t skip_mods(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < 32; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t || !(btf_is_typedef(t) || btf_is_mod(t)))
			break;
		id = t->type;
	}
	return id;
}

/* Finds name among t's members, looking into anonymous ones; adds its bit offset. */
static int find_member(const struct btf *btf, uint32_t id, const char *name, int depth,
		       uint64_t *bits, uint32_t *ret_type, uint32_t *ret_bitfield)
{
	const struct btf_type *t = btf__type_by_id(btf, skip_mods(btf, id));
	const struct btf_member *m;

	if (!t || !btf_is_composite(t) || depth > PATH_MAX_DEPTH)
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const char *mname = btf__name_by_offset(btf, m[i].name_off);
		uint64_t inner = 0;

		if (mname && *mname) {
			if (!streq(mname, name))
				continue;
			*bits += btf_member_bit_offset(t, i);
			*ret_type = m[i].type;
			*ret_bitfield = btf_member_bitfield_size(t, i);
			return 0;
		}
		if (find_member(btf, m[i].type, name, depth + 1, &inner, ret_type, ret_bitfield) >=
		    0) {
			*bits += btf_member_bit_offset(t, i) + inner;
			return 0;
		}
	}
	return -ENOENT;
}

/* Splits "name[3]" into name and index; index UINT64_MAX when there is none. */
static int parse_component(char *s, uint64_t *ret_index)
{
	char *open = strchr(s, '['), *end;

	*ret_index = UINT64_MAX;
	if (!open)
		return *s ? 0 : -EINVAL;
	if (open == s)
		return -EINVAL;
	*open = 0;
	errno = 0;
	*ret_index = strtoull(open + 1, &end, 10);
	if (errno || end == open + 1 || !streq(end, "]"))
		return -EINVAL;
	return 0;
}

static int resolve(const struct kbtf *b, const char *path, struct kbtf_member *ret,
		   uint64_t *ret_array_len)
{
	_cleanup_free_ char *copy = strdup(path);
	char *type, *rest, *comp;
	uint64_t bits = 0, index;
	uint32_t id, bitfield = 0;
	int r;

	if (!copy)
		return -ENOMEM;
	rest = strchr(copy, '.');
	if (!rest || rest == copy)
		return -EINVAL;
	*rest++ = 0;
	type = copy;
	r = find_type(b, type, &id);
	if (r < 0)
		return r;
	while ((comp = strsep(&rest, "."))) {
		const struct btf_type *t;

		r = parse_component(comp, &index);
		if (r < 0)
			return r;
		r = find_member(b->btf, id, comp, 0, &bits, &id, &bitfield);
		if (r < 0)
			return r;
		if (ret_array_len && !rest && index == UINT64_MAX) {
			t = btf__type_by_id(b->btf, skip_mods(b->btf, id));
			if (!t || !btf_is_array(t))
				return -EINVAL;
			*ret_array_len = btf_array(t)->nelems;
		}
		if (index == UINT64_MAX)
			continue;
		t = btf__type_by_id(b->btf, skip_mods(b->btf, id));
		if (!t || !btf_is_array(t) || index >= btf_array(t)->nelems)
			return -EINVAL;
		id = btf_array(t)->type;
		r = btf__resolve_size(b->btf, id);
		if (r < 0)
			return r;
		bits += index * (uint64_t)r * 8;
		bitfield = 0;
	}
	if (ret) {
		int64_t size = btf__resolve_size(b->btf, id);

		if (size < 0)
			return (int)size;
		*ret = (struct kbtf_member){ .offset = bits / 8, .size = size, .type_id = id };
		/* A bitfield: the bytes that hold it, whatever its declared type's size. */
		if (bitfield > 64)
			return -EBADMSG;
		if (bitfield) {
			ret->bit_offset = bits % 8;
			ret->bit_size = bitfield;
			ret->size = DIV_ROUND_UP(bits % 8 + bitfield, 8);
		}
	}
	return 0;
}

int kbtf_member(const struct kbtf *b, const char *path, struct kbtf_member *ret)
{
	return resolve(b, path, ret, NULL);
}

int kbtf_array_len(const struct kbtf *b, const char *path, uint64_t *ret)
{
	return resolve(b, path, NULL, ret);
}

int kbtf_type_size(const struct kbtf *b, const char *type, uint64_t *ret)
{
	int64_t size;
	uint32_t id;
	int r;

	r = find_type(b, type, &id);
	if (r < 0)
		return r;
	size = btf__resolve_size(b->btf, id);
	if (size < 0)
		return (int)size;
	*ret = size;
	return 0;
}

int kbtf_enum_value(const struct kbtf *b, const char *name, int64_t *ret)
{
	const struct named *e = find(b->enums, b->n_enums, name);

	if (!e)
		return -ENOENT;
	*ret = e->value;
	return 0;
}
