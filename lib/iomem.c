// SPDX-License-Identifier: GPL-2.0-or-later
#include "iomem.h"

#include <ctype.h>

#include "log.h"
#include "rootfs.h"

/* Machines with many devices have a few thousand lines; this is far beyond. */
#define IOMEM_MAX_SIZE (16U << 20)

void iomem_done(struct iomem *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->count; i++)
		free(m->ranges[i].name);
	free(m->ranges);
	m->ranges = NULL;
	m->count = 0;
}

/* Hex digits without a 0x prefix, as the kernel prints them; moves *p past them. */
static int parse_hex(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;

	for (; isxdigit((unsigned char)*s); s++, n++) {
		if (n == 16)
			return -EINVAL;
		v = v * 16 + (isdigit((unsigned char)*s) ? *s - '0' : tolower(*s) - 'a' + 10);
	}
	if (n == 0)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

static int parse_line(const char *l, struct iomem_range *ret)
{
	struct iomem_range r = {};
	const char *p = l;
	size_t spaces = 0;

	while (*p == ' ') {
		p++;
		spaces++;
	}
	if (spaces % 2)
		return -EINVAL;
	r.depth = spaces / 2;
	if (parse_hex(&p, &r.start) < 0 || *p++ != '-' || parse_hex(&p, &r.end) < 0)
		return -EINVAL;
	if (!startswith(p, " : ") || r.end < r.start)
		return -EINVAL;
	r.name = strdup(p + 3);
	if (!r.name)
		return -ENOMEM;
	*ret = r;
	return 0;
}

static int append_range(struct iomem *m, size_t *cap, struct iomem_range *r)
{
	if (m->count == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct iomem_range *grown = realloc(m->ranges, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		m->ranges = grown;
		*cap = n;
	}
	m->ranges[m->count++] = *r;
	return 0;
}

/* The enclosing range: the nearest earlier one a level up. -EINVAL for a level skipped. */
static int find_parent(const struct iomem *m, unsigned depth, size_t *ret)
{
	if (depth == 0) {
		*ret = IOMEM_NO_PARENT;
		return 0;
	}
	if (m->count == 0 || m->ranges[m->count - 1].depth + 1 < depth)
		return -EINVAL;
	for (size_t i = m->count; i > 0; i--)
		if (m->ranges[i - 1].depth == depth - 1) {
			*ret = i - 1;
			return 0;
		}
	return -EINVAL;
}

int iomem_parse(const char *text, struct iomem *ret, unsigned *error_line)
{
	_cleanup_(iomem_done) struct iomem m = {};
	size_t cap = 0;
	bool all_zero = true;
	unsigned line = 0;
	int r;

	for (const char *p = text; *p;) {
		const char *nl = strchrnul(p, '\n');
		_cleanup_free_ char *l = strndup(p, nl - p);
		struct iomem_range range;

		line++;
		p = *nl ? nl + 1 : nl;
		if (!l)
			return -ENOMEM;
		r = parse_line(l, &range);
		if (r >= 0) {
			r = find_parent(&m, range.depth, &range.parent);
			if (r < 0)
				free(range.name);
		}
		if (r == -EINVAL) {
			log_debug("iomem: line %u is malformed: \"%s\"", line, l);
			if (error_line)
				*error_line = line;
		}
		if (r < 0)
			return r;
		r = append_range(&m, &cap, &range);
		if (r < 0) {
			free(range.name);
			return r;
		}
		if (range.start || range.end)
			all_zero = false;
	}
	if (m.count > 0 && all_zero) {
		log_debug("iomem: every address is zero: the file was read without CAP_SYS_ADMIN");
		return -EPERM;
	}
	*ret = m;
	m = (struct iomem){};
	return 0;
}

int iomem_read(const char *root, struct iomem *ret, unsigned *error_line)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = root_read_file(root, "/proc/iomem", IOMEM_MAX_SIZE, &text, NULL);
	if (r < 0)
		return log_debug_errno(r, "iomem: cannot read %s/proc/iomem: %m", root ? root : "");
	return iomem_parse(text, ret, error_line);
}

const struct iomem_range *iomem_find(const struct iomem *m, const char *name,
				     const struct iomem_range *after)
{
	const struct iomem_range *r = after ? after + 1 : m->ranges;

	for (; r < m->ranges + m->count; r++)
		if (streq(r->name, name))
			return r;
	return NULL;
}

uint64_t iomem_total(const struct iomem *m, const char *name)
{
	const struct iomem_range *r = NULL;
	uint64_t total = 0;

	while ((r = iomem_find(m, name, r)))
		total += iomem_range_size(r);
	return total;
}

int iomem_crash_ranges(const struct iomem *m, struct iomem_crash_ranges *ret)
{
	const struct iomem_range *a, *b, *c;

	a = iomem_find(m, "Crash kernel", NULL);
	if (!a)
		return -ENOENT;
	b = iomem_find(m, "Crash kernel", a);
	c = b ? iomem_find(m, "Crash kernel", b) : NULL;
	if (c)
		/* The kernel has two crash resources; a third is a map we do not understand. */
		return log_debug_errno(-EINVAL, "iomem: more than two \"Crash kernel\" ranges");
	if (!b)
		*ret = (struct iomem_crash_ranges){ .main = a };
	else if (a->start > b->start)
		*ret = (struct iomem_crash_ranges){ .main = a, .low = b };
	else
		*ret = (struct iomem_crash_ranges){ .main = b, .low = a };
	return 0;
}
