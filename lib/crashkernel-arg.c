// SPDX-License-Identifier: GPL-2.0-or-later
#include "crashkernel-arg.h"

#include <ctype.h>

#include "errmsg.h"

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
/* The kernel rounds RAM up to this before matching ranges (parse_crashkernel_mem()). */
#define RANGE_RAM_ROUND (128 * MIB)
/*
 * x86_64 6.9+ places a fixed crash region at CRASH_ALIGN (16 MiB)
 * boundaries inside [OFFSET, OFFSET+SIZE), so an unaligned OFFSET fails at
 * boot; 6.1 used 1 MiB. Requiring 16 MiB works on both.
 */
#define OFFSET_ALIGN (16 * MIB)
/* x86_64's default ",low" part when only ",high" is given: 256 MiB (swiotlb + DMA). */
#define DEFAULT_LOW_SIZE (256 * MIB)
#define EXAMPLES "such as 192M, 1G-4G:160M,4G-:256M or 256M,high"

/* The kernel's memparse(): strtoull base 0, then an optional binary suffix. */
static int memparse(const char *s, const char **ret_end, uint64_t *ret)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'E':
	case 'e':
		shift = 60;
		break;
	case 'P':
	case 'p':
		shift = 50;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	}
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
		end++;
	}
	*ret_end = end;
	*ret = v;
	return 0;
}

static bool endswith(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static int parse_offset(const char *p, const char *value, struct crashkernel_arg *a, char **error)
{
	const char *end;

	if (memparse(p, &end, &a->offset) < 0)
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s: a size is expected after '@', such as 192M@64M",
				  value);
	if (*end)
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s: unexpected '%s' after the offset", value, end);
	if (a->offset % OFFSET_ALIGN)
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s: the offset must be a multiple of 16M (x86_64 "
				  "places the crash kernel at 16 MiB boundaries)",
				  value);
	a->has_offset = true;
	return 0;
}

static int parse_ranges(const char *body, const char *value, struct crashkernel_arg *a,
			char **error)
{
	const char *p = body, *end;
	char sz[32];

	for (;;) {
		struct crashkernel_range *r,
			*prev = a->n_ranges ? &a->ranges[a->n_ranges - 1] : NULL;

		if (a->n_ranges >= CRASHKERNEL_MAX_RANGES)
			return errmsg_set(error, -E2BIG, "crashkernel=%s: more than %d ranges",
					  value, CRASHKERNEL_MAX_RANGES);
		r = &a->ranges[a->n_ranges];
		if (memparse(p, &end, &r->start) < 0)
			return errmsg_set(
				error, -EINVAL,
				"crashkernel=%s: range %zu: a RAM size is expected at '%s' "
				"(the form is START-[END]:SIZE, such as 1G-4G:160M)",
				value, a->n_ranges + 1, p);
		p = end;
		if (*p != '-')
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: range %zu: '-' expected after the start "
					  "(the form is START-[END]:SIZE, such as 1G-4G:160M)",
					  value, a->n_ranges + 1);
		p++;
		r->end = UINT64_MAX;
		if (*p != ':') {
			if (memparse(p, &end, &r->end) < 0)
				return errmsg_set(error, -EINVAL,
						  "crashkernel=%s: range %zu: a RAM size or ':' is "
						  "expected after '-'",
						  value, a->n_ranges + 1);
			p = end;
			if (r->end <= r->start)
				return errmsg_set(error, -EINVAL,
						  "crashkernel=%s: range %zu ends before it starts",
						  value, a->n_ranges + 1);
		}
		if (*p != ':')
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: range %zu: ':' and a size expected "
					  "after the range (such as 1G-4G:160M)",
					  value, a->n_ranges + 1);
		p++;
		if (memparse(p, &end, &r->size) < 0)
			return errmsg_set(
				error, -EINVAL,
				"crashkernel=%s: range %zu: the size to reserve is missing "
				"after ':' (such as 1G-4G:160M)",
				value, a->n_ranges + 1);
		p = end;
		if (r->size == 0)
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: range %zu reserves 0 bytes: leave the "
					  "range out instead",
					  value, a->n_ranges + 1);
		if (r->end != UINT64_MAX && r->size >= r->end)
			return errmsg_set(
				error, -EINVAL,
				"crashkernel=%s: range %zu reserves %s, not less than the "
				"RAM it applies to: the kernel would refuse it",
				value, a->n_ranges + 1,
				crashkernel_format_size(r->size, sz, sizeof(sz)));
		if (prev && r->start < prev->start)
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: range %zu starts below range %zu: list "
					  "the ranges in increasing order",
					  value, a->n_ranges + 1, a->n_ranges);
		/* The kernel takes the first match: an overlap hides part of a range. */
		if (prev && r->start < prev->end)
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: ranges %zu and %zu overlap: each range "
					  "must start where the one before ends or later",
					  value, a->n_ranges, a->n_ranges + 1);
		a->n_ranges++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '@')
			return parse_offset(p + 1, value, a, error);
		if (*p)
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: unexpected '%s' after range %zu", value,
					  p, a->n_ranges);
		return 0;
	}
}

int crashkernel_arg_parse(const char *value, struct crashkernel_arg *ret, char **error)
{
	struct crashkernel_arg a = {};
	_cleanup_free_ char *body = NULL;
	const char *end;
	size_t len;
	int r;

	if (!value || !*value)
		return errmsg_set(error, -EINVAL, "crashkernel= is empty: give a size, %s",
				  EXAMPLES);
	for (const char *p = value; *p; p++)
		if (isspace((unsigned char)*p) || *p == '"' || *p == '\'')
			return errmsg_set(
				error, -EINVAL,
				"crashkernel=%s: white space or quotes in the value: give "
				"a size, %s",
				value, EXAMPLES);
	len = strlen(value);
	if (endswith(value, len, ",high")) {
		a.suffix = CRASHKERNEL_HIGH;
		len -= strlen(",high");
	} else if (endswith(value, len, ",low")) {
		a.suffix = CRASHKERNEL_LOW;
		len -= strlen(",low");
	}
	body = strndup(value, len);
	if (!body)
		return -ENOMEM;

	if (strchr(body, ':')) {
		if (a.suffix != CRASHKERNEL_PLAIN)
			return errmsg_set(
				error, -EINVAL,
				"crashkernel=%s: ,high and ,low take one size, not ranges "
				"(such as 256M,high)",
				value);
		r = parse_ranges(body, value, &a, error);
		if (r < 0)
			return r;
		*ret = a;
		return 0;
	}

	r = memparse(body, &end, &a.size);
	if (r == -ERANGE)
		return errmsg_set(error, -ERANGE, "crashkernel=%s: the size is too large", value);
	if (r < 0)
		return errmsg_set(error, -EINVAL, "crashkernel=%s: not a size: give a size, %s",
				  value, EXAMPLES);
	/* "0,low" is the documented way to reserve no low part. */
	if (a.size == 0 && a.suffix != CRASHKERNEL_LOW)
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s reserves nothing: give a size such as 192M (or "
				  "run crashcapctl unreserve)",
				  value);
	if (*end == '@') {
		if (a.suffix != CRASHKERNEL_PLAIN)
			return errmsg_set(error, -EINVAL,
					  "crashkernel=%s: @OFFSET cannot go with ,high or ,low",
					  value);
		r = parse_offset(end + 1, value, &a, error);
		if (r < 0)
			return r;
	} else if (*end == '-')
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s: a range needs ':' and the size to reserve, "
				  "such as 1G-4G:160M",
				  value);
	else if (*end)
		return errmsg_set(error, -EINVAL,
				  "crashkernel=%s: unexpected '%s' after the size: give a size, %s",
				  value, end, EXAMPLES);
	*ret = a;
	return 0;
}

const char *crashkernel_format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes && bytes % GIB == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes / GIB));
	else if (bytes && bytes % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes / MIB));
	else if (bytes && bytes % KIB == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes / KIB));
	else
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

int crashkernel_arg_format(const struct crashkernel_arg *a, char *buf, size_t len)
{
	char s1[32], s2[32], s3[32];
	size_t n = 0;
	int k;

#define APPEND(...)                                          \
	do {                                                 \
		k = snprintf(buf + n, len - n, __VA_ARGS__); \
		if (k < 0 || (size_t)k >= len - n)           \
			return -ENOBUFS;                     \
		n += k;                                      \
	} while (0)

	if (len == 0)
		return -ENOBUFS;
	buf[0] = 0;
	if (a->n_ranges == 0)
		APPEND("%s", crashkernel_format_size(a->size, s1, sizeof(s1)));
	for (size_t i = 0; i < a->n_ranges; i++) {
		const struct crashkernel_range *r = &a->ranges[i];

		APPEND("%s%s-%s:%s", i ? "," : "",
		       crashkernel_format_size(r->start, s1, sizeof(s1)),
		       r->end == UINT64_MAX ? "" : crashkernel_format_size(r->end, s2, sizeof(s2)),
		       crashkernel_format_size(r->size, s3, sizeof(s3)));
	}
	if (a->has_offset)
		APPEND("@%s", crashkernel_format_size(a->offset, s1, sizeof(s1)));
	if (a->suffix == CRASHKERNEL_HIGH)
		APPEND(",high");
	else if (a->suffix == CRASHKERNEL_LOW)
		APPEND(",low");
#undef APPEND
	return 0;
}

uint64_t crashkernel_arg_size_for(const struct crashkernel_arg *a, uint64_t system_ram)
{
	uint64_t ram = ALIGN_UP(system_ram, RANGE_RAM_ROUND);

	if (a->n_ranges == 0)
		return a->size;
	for (size_t i = 0; i < a->n_ranges; i++)
		if (ram >= a->ranges[i].start && ram < a->ranges[i].end)
			return a->ranges[i].size;
	return 0;
}

static enum crashkernel_suffix token_suffix(const char *v, size_t len, bool *ret_other)
{
	*ret_other = false;
	if (endswith(v, len, ",high"))
		return CRASHKERNEL_HIGH;
	if (endswith(v, len, ",low"))
		return CRASHKERNEL_LOW;
	/* 6.17's ",cma" and any other suffix never count as the plain form. */
	*ret_other = endswith(v, len, ",cma");
	return CRASHKERNEL_PLAIN;
}

const char *crashkernel_cmdline_find(const char *cmdline, enum crashkernel_suffix suffix,
				     size_t *ret_len)
{
	const char *p = cmdline, *found = NULL;
	size_t found_len = 0;

	if (!cmdline)
		return NULL;
	while (*p) {
		size_t n;

		while (*p && isspace((unsigned char)*p))
			p++;
		n = strcspn(p, " \t\n\r");
		if (n > strlen("crashkernel=") && startswith(p, "crashkernel=")) {
			const char *v = p + strlen("crashkernel=");
			size_t vlen = n - strlen("crashkernel=");
			bool other;

			if (token_suffix(v, vlen, &other) == suffix && !other) {
				found = v;
				found_len = vlen;
			}
		}
		p += n;
	}
	if (found && ret_len)
		*ret_len = found_len;
	return found;
}

static int eval_token(const char *v, size_t len, struct crashkernel_arg *a,
		      struct crashkernel_setting *s, char **error)
{
	if (len >= sizeof(s->value))
		return errmsg_set(error, -EINVAL, "crashkernel=%.40s...: too long", v);
	memcpy(s->value, v, len);
	s->value[len] = 0;
	return crashkernel_arg_parse(s->value, a, error);
}

int crashkernel_cmdline_eval(const char *cmdline, uint64_t system_ram,
			     struct crashkernel_setting *ret, char **error)
{
	struct crashkernel_setting s = {};
	struct crashkernel_arg a;
	const char *v;
	size_t len;
	int r;

	v = crashkernel_cmdline_find(cmdline, CRASHKERNEL_PLAIN, &len);
	if (v) {
		r = eval_token(v, len, &a, &s, error);
		if (r < 0)
			return r;
		s.size = crashkernel_arg_size_for(&a, system_ram);
		/* A range list that does not match this RAM leaves ",high" to decide. */
		if (s.size) {
			s.present = true;
			*ret = s;
			return 0;
		}
	}
	v = crashkernel_cmdline_find(cmdline, CRASHKERNEL_HIGH, &len);
	if (!v) {
		*ret = (struct crashkernel_setting){ .present = false };
		return 0;
	}
	r = eval_token(v, len, &a, &s, error);
	if (r < 0)
		return r;
	s.present = s.high = true;
	s.size = a.size;
	s.low_size = DEFAULT_LOW_SIZE;
	v = crashkernel_cmdline_find(cmdline, CRASHKERNEL_LOW, &len);
	if (v) {
		struct crashkernel_setting low = {};
		struct crashkernel_arg la;

		r = eval_token(v, len, &la, &low, error);
		if (r < 0)
			return r;
		s.low_size = la.size;
	}
	*ret = s;
	return 0;
}
