// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmcoreinfo.h"

#include "log.h"

#include <ctype.h>

struct vmcoreinfo_entry {
	const char *key;
	const char *value;
};

struct vmcoreinfo {
	char *text; /* a copy, with '=' and '\n' replaced by NULs */
	struct vmcoreinfo_entry *entries;
	size_t n_entries;
};

struct vmcoreinfo *vmcoreinfo_free(struct vmcoreinfo *vi)
{
	if (!vi)
		return NULL;
	free(vi->text);
	free(vi->entries);
	free(vi);
	return NULL;
}

/*
 * Lines without '=' are skipped, not rejected: the note is written by the
 * dead kernel and one odd line must not cost us everything else in it.
 */
int vmcoreinfo_parse(const char *text, size_t len, struct vmcoreinfo **ret)
{
	_cleanup_vmcoreinfo_ struct vmcoreinfo *vi = NULL;
	size_t cap = 0;
	char *p, *end;

	/* The note's descriptor is NUL-padded: the text ends at the first NUL. */
	len = strnlen(text, len);
	vi = calloc(1, sizeof(*vi));
	if (!vi)
		return -ENOMEM;
	vi->text = malloc(len + 1);
	if (!vi->text)
		return -ENOMEM;
	memcpy(vi->text, text, len);
	vi->text[len] = 0;

	for (p = vi->text, end = vi->text + len; p < end;) {
		char *nl = memchr(p, '\n', end - p), *eq;

		if (nl)
			*nl = 0;
		eq = strchr(p, '=');
		if (!eq || eq == p) {
			if (*p)
				log_debug("VMCOREINFO: ignoring line without KEY=: \"%s\"", p);
		} else {
			if (vi->n_entries == cap) {
				struct vmcoreinfo_entry *grown;

				cap = cap ? cap * 2 : 64;
				grown = realloc(vi->entries, cap * sizeof(*grown));
				if (!grown)
					return -ENOMEM;
				vi->entries = grown;
			}
			*eq = 0;
			vi->entries[vi->n_entries++] = (struct vmcoreinfo_entry){ p, eq + 1 };
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	*ret = TAKE_PTR(vi);
	return 0;
}

const char *vmcoreinfo_get(const struct vmcoreinfo *vi, const char *key)
{
	if (!vi)
		return NULL;
	/* The first occurrence wins, as in makedumpfile. */
	for (size_t i = 0; i < vi->n_entries; i++)
		if (streq(vi->entries[i].key, key))
			return vi->entries[i].value;
	return NULL;
}

static int get_u64(const struct vmcoreinfo *vi, const char *kind, const char *name, int base,
		   uint64_t *ret)
{
	char key[256];
	const char *v;
	uint64_t x;
	int r;

	if ((size_t)snprintf(key, sizeof(key), "%s(%s)", kind, name) >= sizeof(key))
		return -EINVAL;
	v = vmcoreinfo_get(vi, key);
	if (!v)
		return -ENOENT;
	r = parse_u64(v, base, &x);
	if (r < 0)
		return log_debug_errno(r, "VMCOREINFO: bad value for %s: \"%s\"", key, v);
	*ret = x;
	return 0;
}

int vmcoreinfo_symbol(const struct vmcoreinfo *vi, const char *name, uint64_t *ret)
{
	return get_u64(vi, "SYMBOL", name, 16, ret);
}

int vmcoreinfo_size(const struct vmcoreinfo *vi, const char *type, uint64_t *ret)
{
	return get_u64(vi, "SIZE", type, 10, ret);
}

int vmcoreinfo_offset(const struct vmcoreinfo *vi, const char *type_member, uint64_t *ret)
{
	return get_u64(vi, "OFFSET", type_member, 10, ret);
}

int vmcoreinfo_length(const struct vmcoreinfo *vi, const char *name, uint64_t *ret)
{
	return get_u64(vi, "LENGTH", name, 10, ret);
}

int vmcoreinfo_number(const struct vmcoreinfo *vi, const char *name, int64_t *ret)
{
	char key[256], *e;
	const char *v;
	long long x;

	if ((size_t)snprintf(key, sizeof(key), "NUMBER(%s)", name) >= sizeof(key))
		return -EINVAL;
	v = vmcoreinfo_get(vi, key);
	if (!v)
		return -ENOENT;
	errno = 0;
	/* x86_64 prints NUMBER()s with %ld; other architectures use 0x%lx for some. */
	if (startswith(v, "0x")) {
		v += 2;
		x = (long long)strtoull(v, &e, 16);
	} else
		x = strtoll(v, &e, 10);
	if (errno || e == v || *e || isspace((unsigned char)*v))
		return log_debug_errno(errno ? -errno : -EINVAL,
				       "VMCOREINFO: bad value for %s: \"%s\"", key, v);
	*ret = x;
	return 0;
}

const char *vmcoreinfo_osrelease(const struct vmcoreinfo *vi)
{
	return vmcoreinfo_get(vi, "OSRELEASE");
}
