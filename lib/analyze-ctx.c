// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers of the analysis: errors as text, typed reads through BTF, per-CPU data. */
#include "analyze-internal.h"
#include "log.h"

#include <stdarg.h>

int ax_error(char **field, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	char *joined;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0) {
		text = NULL;
		return -ENOMEM;
	}
	if (!*field) {
		*field = TAKE_PTR(text);
		return 0;
	}
	/* A section can lack several things: say each once. */
	if (strstr(*field, text))
		return 0;
	if (asprintf(&joined, "%s; %s", *field, text) < 0)
		return -ENOMEM;
	free(*field);
	*field = joined;
	return 0;
}

const char *ax_strerror(int r)
{
	switch (r) {
	case -ENOENT:
		return "not in the dump (excluded or never captured)";
	case -ENODATA:
		return "past the end of the cut-short dump file";
	case -EFAULT:
		return "not mapped by the kernel's page tables";
	case -EBADMSG:
		return "corrupt";
	case -ELOOP:
		return "a loop (or implausibly long)";
	default:
		return strerror(r < 0 ? -r : r);
	}
}

int ax_strdup(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -ENOMEM : 0;
}

int ax_need(struct actx *c, char **field, bool types)
{
	int r;

	if (!c->ks) {
		r = ax_error(field, "needs the kernel's symbols, which are unavailable");
		return r < 0 ? r : -ENOENT;
	}
	if (types && !c->btf) {
		r = ax_error(field, "needs the kernel's types (BTF), which are unavailable");
		return r < 0 ? r : -ENOENT;
	}
	return 0;
}

int ax_sym(struct actx *c, const char *name, uint64_t *ret)
{
	if (!c->ks)
		return -ENOENT;
	return kallsyms_lookup_name(c->ks, name, ret);
}

int ax_member(struct actx *c, const char *path, struct kbtf_member *ret)
{
	if (!c->btf)
		return -ENOENT;
	return kbtf_member(c->btf, path, ret);
}

int ax_read(struct actx *c, uint64_t vaddr, void *buf, size_t len)
{
	return dump_read_virt(c->d, vaddr, buf, len);
}

int ax_get(const void *buf, size_t buf_len, const struct kbtf_member *m, uint64_t *ret)
{
	uint64_t v = 0;

	if (m->size > 8 || m->size == 0 || m->offset > buf_len || m->size > buf_len - m->offset)
		return -EINVAL;
	/* x86_64 is little-endian: the low bytes first. */
	memcpy(&v, (const uint8_t *)buf + m->offset, m->size);
	if (m->bit_size) {
		v >>= m->bit_offset;
		if (m->bit_size < 64)
			v &= (1ULL << m->bit_size) - 1;
	}
	*ret = v;
	return 0;
}

int ax_read_member(struct actx *c, uint64_t vaddr, const char *path, uint64_t *ret)
{
	struct kbtf_member m;
	uint8_t buf[8];
	int r;

	r = ax_member(c, path, &m);
	if (r < 0)
		return r;
	if (m.size > sizeof(buf))
		return -EINVAL;
	r = ax_read(c, vaddr + m.offset, buf, m.size);
	if (r < 0)
		return r;
	m.offset = 0;
	return ax_get(buf, sizeof(buf), &m, ret);
}

int ax_percpu(struct actx *c, unsigned cpu, uint64_t sym_offset, uint64_t *ret)
{
	uint64_t table, off;
	int r;

	r = ax_sym(c, "__per_cpu_offset", &table);
	if (r < 0)
		return r;
	r = ax_read(c, table + 8ULL * cpu, &off, sizeof(off));
	if (r < 0)
		return r;
	*ret = sym_offset + off;
	return 0;
}

int ax_cpu_current(struct actx *c, unsigned cpu, uint64_t *ret_task)
{
	struct kbtf_member m;
	uint64_t sym, addr, task;
	int r;

	/* 6.2+ keeps it in pcpu_hot (until 6.15); before, a per-CPU variable of its own. */
	if (ax_sym(c, "pcpu_hot", &sym) >= 0 && ax_member(c, "pcpu_hot.current_task", &m) >= 0)
		sym += m.offset;
	else {
		r = ax_sym(c, "current_task", &sym);
		if (r < 0)
			return r;
	}
	r = ax_percpu(c, cpu, sym, &addr);
	if (r < 0)
		return r;
	r = ax_read(c, addr, &task, sizeof(task));
	if (r < 0)
		return r;
	*ret_task = task;
	return 0;
}

bool ax_is_text(const struct actx *c, uint64_t addr)
{
	return c->text_end > c->text_start && addr >= c->text_start && addr < c->text_end;
}

int ax_list_walk(struct actx *c, uint64_t head, uint64_t link_offset, size_t max, ax_list_fn fn,
		 void *userdata)
{
	struct kbtf_member next;
	uint64_t node;
	size_t n = 0;
	int r;

	r = ax_member(c, "list_head.next", &next);
	if (r < 0)
		return r;
	r = ax_read(c, head + next.offset, &node, sizeof(node));
	if (r < 0)
		return r;
	while (node != head) {
		if (n++ >= max)
			return -ELOOP;
		if (node < link_offset)
			return -EFAULT;
		r = fn(c, node - link_offset, userdata);
		if (r != 0)
			return r;
		r = ax_read(c, node + next.offset, &node, sizeof(node));
		if (r < 0)
			return r;
	}
	return 0;
}
