// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Module symbols, for backtraces through drivers: each loaded module keeps
 * its own ELF symbol table in memory (module->kallsyms, a struct
 * mod_kallsyms: symtab, num_symtab, strtab), whose functions (STT_FUNC,
 * with their sizes) name addresses as "name+0xoff/0xsize [module]". The
 * Elf64_Sym layout is the ELF ABI; everything else comes from BTF.
 */
#include "analyze-internal.h"
#include "log.h"

#include <elf.h>
#include <inttypes.h>

#define MAX_MODULES 10000
#define MAX_MODULE_SYMS 200000
#define NAME_MAX_LEN 128

struct modsym {
	uint64_t addr, size;
	char *name; /* "name [module]" */
};

struct modsyms {
	struct modsym *v;
	size_t n, cap;
	uint64_t kallsyms_off, symtab_off, num_off, strtab_off, name_off, name_size;
	size_t total;
};

static int add_module_syms(struct actx *c, uint64_t mod, void *userdata)
{
	struct modsyms *m = userdata;
	_cleanup_free_ Elf64_Sym *syms = NULL;
	char module[64] = {};
	uint64_t ks, symtab, strtab, num = 0;
	uint32_t num32;
	int r;

	if (ax_read(c, mod + m->name_off, module, MIN(m->name_size, sizeof(module) - 1)) < 0 ||
	    ax_read(c, mod + m->kallsyms_off, &ks, sizeof(ks)) < 0 || !ks ||
	    ax_read(c, ks + m->symtab_off, &symtab, sizeof(symtab)) < 0 ||
	    ax_read(c, ks + m->strtab_off, &strtab, sizeof(strtab)) < 0 ||
	    ax_read(c, ks + m->num_off, &num32, sizeof(num32)) < 0)
		return 0; /* this module's symbols are out of reach: its addresses stay bare */
	num = num32;
	if (num == 0 || m->total + num > MAX_MODULE_SYMS)
		return 0;
	m->total += num;
	syms = calloc(num, sizeof(*syms));
	if (!syms)
		return -ENOMEM;
	if (ax_read(c, symtab, syms, num * sizeof(*syms)) < 0)
		return 0;
	for (uint64_t i = 0; i < num; i++) {
		char name[NAME_MAX_LEN] = {};

		if (ELF64_ST_TYPE(syms[i].st_info) != STT_FUNC || syms[i].st_size == 0 ||
		    syms[i].st_value == 0)
			continue;
		if (ax_read(c, strtab + syms[i].st_name, name, sizeof(name) - 1) < 0 || !name[0])
			continue;
		if (m->n == m->cap) {
			struct modsym *grown;

			m->cap = m->cap ? m->cap * 2 : 256;
			grown = realloc(m->v, m->cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			m->v = grown;
		}
		r = asprintf(&m->v[m->n].name, "%s [%s]", name, module);
		if (r < 0)
			return -ENOMEM;
		m->v[m->n].addr = syms[i].st_value;
		m->v[m->n].size = syms[i].st_size;
		m->n++;
	}
	return 0;
}

static int modsym_cmp(const void *a, const void *b)
{
	const struct modsym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int analyze_modsyms_load(struct actx *c)
{
	struct modsyms m = {};
	struct kbtf_member f;
	uint64_t head, list_off;
	int r;

	if (!c->ks || !c->btf || ax_sym(c, "modules", &head) < 0)
		return 0;
	if (ax_member(c, "module.list", &f) < 0)
		return 0;
	list_off = f.offset;
	if (ax_member(c, "module.name", &f) < 0)
		return 0;
	m.name_off = f.offset;
	m.name_size = f.size;
	if (ax_member(c, "module.kallsyms", &f) < 0)
		return 0;
	m.kallsyms_off = f.offset;
	if (ax_member(c, "mod_kallsyms.symtab", &f) < 0)
		return 0;
	m.symtab_off = f.offset;
	if (ax_member(c, "mod_kallsyms.strtab", &f) < 0)
		return 0;
	m.strtab_off = f.offset;
	if (ax_member(c, "mod_kallsyms.num_symtab", &f) < 0 || f.size != 4)
		return 0;
	m.num_off = f.offset;

	r = ax_list_walk(c, head, list_off, MAX_MODULES, add_module_syms, &m);
	if (r == -ENOMEM) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i].name);
		free(m.v);
		return r;
	}
	if (r < 0)
		log_debug_errno(r, "Module list unreadable for module symbols: %m");
	if (m.n > 0)
		qsort(m.v, m.n, sizeof(*m.v), modsym_cmp);
	c->modsyms = m.v;
	c->n_modsyms = m.n;
	return 0;
}

void analyze_modsyms_free(struct actx *c)
{
	for (size_t i = 0; i < c->n_modsyms; i++)
		free(c->modsyms[i].name);
	free(c->modsyms);
	c->modsyms = NULL;
	c->n_modsyms = 0;
}

static const struct modsym *find(const struct actx *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n_modsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->modsyms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	lo--;
	return addr - c->modsyms[lo].addr < c->modsyms[lo].size ? &c->modsyms[lo] : NULL;
}

bool analyze_modsyms_contains(const struct actx *c, uint64_t addr)
{
	return find(c, addr) != NULL;
}

int analyze_modsyms_format(const struct actx *c, uint64_t addr, char **ret)
{
	const struct modsym *s = find(c, addr);
	char *name, *bracket;

	if (!s)
		return -ENOENT;
	/* "name [module]" becomes "name+0xoff/0xsize [module]". */
	bracket = strrchr(s->name, '[');
	if (asprintf(&name, "%.*s+0x%" PRIx64 "/0x%" PRIx64 " %s",
		     (int)(bracket ? bracket - s->name - 1 : (long)strlen(s->name)), s->name,
		     addr - s->addr, s->size, bracket ? bracket : "") < 0)
		return -ENOMEM;
	*ret = name;
	return 0;
}
