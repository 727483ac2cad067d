// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loaded modules as /proc/modules shows them (kernel/module/procfs.c: the
 * size is the sum of the module's memory regions: mem[] since 6.4,
 * core_layout + init_layout (+ data_layout) before), and the taint flags:
 * letters from the kernel's own taint_flags[] table, words from the
 * documented bit numbers (Documentation/admin-guide/tainted-kernels.rst).
 */
#include "analyze-internal.h"
#include "log.h"

#include <inttypes.h>

#define MAX_MODULES 10000
#define MAX_TAINT_BITS 64

static const struct {
	char letter;
	const char *word;
} taint_bits[] = {
	{ 'P', "proprietary module was loaded" },
	{ 'F', "module was force loaded" },
	{ 'S', "kernel running on an out of specification system" },
	{ 'R', "module was force unloaded" },
	{ 'M', "processor reported a Machine Check Exception" },
	{ 'B', "bad page referenced or some unexpected page flags" },
	{ 'U', "taint requested by userspace application" },
	{ 'D', "kernel died recently, i.e. there was an OOPS or BUG" },
	{ 'A', "an ACPI table was overridden by user" },
	{ 'W', "kernel issued warning" },
	{ 'C', "staging driver was loaded" },
	{ 'I', "workaround for bug in platform firmware applied" },
	{ 'O', "externally-built (\"out-of-tree\") module was loaded" },
	{ 'E', "unsigned module was loaded" },
	{ 'L', "soft lockup occurred" },
	{ 'K', "kernel has been live patched" },
	{ 'X', "auxiliary taint, defined for and used by distros" },
	{ 'T', "kernel was built with the struct randomization plugin" },
	{ 'N', "an in-kernel test has been run" },
	{ 'J', "userspace used a mutating debug operation in fwctl" },
};

struct mod_layout {
	struct kbtf_member name, state;
	const char *size_paths[8];
	size_t n_size_paths;
	char paths_buf[8][64];
	size_t cap;
};

static const char *state_name(struct actx *c, uint64_t v)
{
	static const struct {
		const char *enumerator, *name;
	} states[] = {
		{ "MODULE_STATE_LIVE", "Live" },
		{ "MODULE_STATE_COMING", "Loading" },
		{ "MODULE_STATE_GOING", "Unloading" },
		{ "MODULE_STATE_UNFORMED", "Unformed" },
	};
	int64_t e;

	for (size_t i = 0; i < ELEMENTSOF(states); i++)
		if (kbtf_enum_value(c->btf, states[i].enumerator, &e) >= 0 && (uint64_t)e == v)
			return states[i].name;
	return "unknown";
}

static int add_module(struct actx *c, uint64_t mod, void *userdata)
{
	struct mod_layout *l = userdata;
	struct analyze_report *r = c->r;
	struct analyze_module *m;
	char name[128] = {};
	uint64_t state = 0, size = 0, v;
	int e;

	e = ax_read(c, mod + l->name.offset, name, MIN(l->name.size, sizeof(name) - 1));
	if (e < 0)
		return e;
	(void)ax_read_member(c, mod, "module.state", &state);
	for (size_t i = 0; i < l->n_size_paths; i++)
		if (ax_read_member(c, mod, l->size_paths[i], &v) >= 0)
			size += v;
	if (r->n_modules == l->cap) {
		struct analyze_module *grown;

		l->cap = l->cap ? l->cap * 2 : 32;
		grown = realloc(r->modules, l->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->modules = grown;
	}
	m = &r->modules[r->n_modules];
	*m = (struct analyze_module){ .name = strdup(name),
				      .size = size,
				      .state = strdup(state_name(c, state)) };
	if (!m->name || !m->state) {
		free(m->name);
		free(m->state);
		return -ENOMEM;
	}
	r->n_modules++;
	return 0;
}

static int size_paths(struct actx *c, struct mod_layout *l)
{
	static const char *const old[] = { "module.core_layout.size", "module.init_layout.size",
					   "module.data_layout.size" };
	struct kbtf_member m;
	uint64_t n;

	if (kbtf_array_len(c->btf, "module.mem", &n) >= 0) {
		for (uint64_t i = 0; i < n && i < ELEMENTSOF(l->paths_buf); i++) {
			snprintf(l->paths_buf[i], sizeof(l->paths_buf[i]),
				 "module.mem[%" PRIu64 "].size", i);
			l->size_paths[l->n_size_paths++] = l->paths_buf[i];
		}
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(old); i++)
		if (ax_member(c, old[i], &m) >= 0)
			l->size_paths[l->n_size_paths++] = old[i];
	return l->n_size_paths > 0 ? 0 : -ENOENT;
}

static int taint(struct actx *c)
{
	struct analyze_report *r = c->r;
	struct kbtf_member c_true, c_false;
	struct kallsyms_symbol s;
	uint64_t mask_addr, table = 0, elem = 0, count = 0;
	char letters[MAX_TAINT_BITS + 1] = {};
	size_t n = 0, w = 0;
	int e;

	if (ax_sym(c, "tainted_mask", &mask_addr) < 0)
		return ax_error(&r->modules_error, "kallsyms has no tainted_mask");
	e = ax_read(c, mask_addr, &r->taint_mask, sizeof(r->taint_mask));
	if (e < 0)
		return ax_error(&r->modules_error, "tainted_mask is %s", ax_strerror(e));
	r->has_taint = true;
	/* The kernel's letters where its table is readable; the table's size from kallsyms. */
	if (ax_sym(c, "taint_flags", &table) >= 0 &&
	    kallsyms_lookup_addr(c->ks, table, &s, NULL) >= 0 &&
	    kbtf_type_size(c->btf, "taint_flag", &elem) >= 0 && elem > 0 &&
	    ax_member(c, "taint_flag.c_true", &c_true) >= 0 &&
	    ax_member(c, "taint_flag.c_false", &c_false) >= 0)
		count = MIN(s.size / elem, (uint64_t)MAX_TAINT_BITS);
	r->taint_words = calloc(MAX_TAINT_BITS + 1, sizeof(char *));
	if (!r->taint_words)
		return -ENOMEM;
	for (unsigned bit = 0; bit < MAX_TAINT_BITS; bit++) {
		char ch = 0;

		if (!(r->taint_mask & (1ULL << bit)))
			continue;
		if (bit < count)
			(void)ax_read(c, table + bit * elem + c_true.offset, &ch, 1);
		if (!ch && bit < ELEMENTSOF(taint_bits))
			ch = taint_bits[bit].letter;
		letters[n++] = ch ? ch : '?';
		if (asprintf(&r->taint_words[w++], "%s",
			     bit < ELEMENTSOF(taint_bits) ? taint_bits[bit].word : "unknown flag") <
		    0) {
			r->taint_words[--w] = NULL;
			return -ENOMEM;
		}
	}
	return ax_strdup(&r->taint, letters);
}

int analyze_modules(struct actx *c)
{
	struct analyze_report *r = c->r;
	struct mod_layout l = {};
	struct kbtf_member list;
	uint64_t head;
	int e;

	if (ax_need(c, &r->modules_error, true) < 0)
		return r->modules_error ? 0 : -ENOMEM;
	e = taint(c);
	if (e < 0)
		return e;
	if (ax_sym(c, "modules", &head) < 0 || ax_member(c, "module.list", &list) < 0 ||
	    ax_member(c, "module.name", &l.name) < 0 || size_paths(c, &l) < 0)
		return ax_error(&r->modules_error,
				"the module list is not described by kallsyms/BTF");
	e = ax_list_walk(c, head, list.offset, MAX_MODULES, add_module, &l);
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		return ax_error(&r->modules_error, "the module list is %s; the list is partial",
				ax_strerror(e));
	return 0;
}
