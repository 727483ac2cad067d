/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the analyze-*.c files share: the dump, its symbols and types, helpers. */
#pragma once

#include "analyze.h"
#include "btf-dump.h"
#include "kallsyms.h"

struct modsym;
struct orc;

struct actx {
	struct dump *d;
	struct kallsyms *ks; /* NULL: no symbols (r->symbols_error says why) */
	struct kbtf *btf; /* NULL: no types (r->types_error says why) */
	struct analyze_report *r;
	uint64_t thread_size; /* a kernel stack's size */
	uint64_t text_start, text_end; /* _stext.._etext */
	struct modsym *modsyms; /* functions of loaded modules, by address */
	size_t n_modsyms;
	struct orc *orc; /* the ORC unwind tables, loaded on first use */
	bool orc_tried;
};

/* Sets *field to the formatted text, or appends it after "; ". -ENOMEM only. */
int ax_error(char **field, const char *fmt, ...) _printf_(2, 3);
/* A short phrase for an errno of the dump reader: "not in the dump", ... */
const char *ax_strerror(int r);

/* Fails with a section error when symbols or types are missing. */
int ax_need(struct actx *c, char **field, bool types);

int ax_sym(struct actx *c, const char *name, uint64_t *ret);
/* The offset and size of a member path (see kbtf_member()). */
int ax_member(struct actx *c, const char *path, struct kbtf_member *ret);
int ax_read(struct actx *c, uint64_t vaddr, void *buf, size_t len);
/* An integer or pointer (1, 2, 4 or 8 bytes, or a bitfield) of buf, zero-extended. */
int ax_get(const void *buf, size_t buf_len, const struct kbtf_member *m, uint64_t *ret);
/* Reads the member at path of the object at vaddr. */
int ax_read_member(struct actx *c, uint64_t vaddr, const char *path, uint64_t *ret);
/* The address of a per-CPU variable (the symbol's offset) on a CPU. */
int ax_percpu(struct actx *c, unsigned cpu, uint64_t sym_offset, uint64_t *ret);
/* The task running on a CPU at the crash. */
int ax_cpu_current(struct actx *c, unsigned cpu, uint64_t *ret_task);
bool ax_is_text(const struct actx *c, uint64_t addr);
int ax_strdup(char **dst, const char *s);

/* Module function symbols (best effort: a module out of reach has none). -ENOMEM only. */
int analyze_modsyms_load(struct actx *c);
void analyze_modsyms_free(struct actx *c);
bool analyze_modsyms_contains(const struct actx *c, uint64_t addr);
/* "name+0xoff/0xsize [module]"; -ENOENT: no module function holds addr. */
int analyze_modsyms_format(const struct actx *c, uint64_t addr, char **ret);

void analyze_system(struct actx *c);
int analyze_memory(struct actx *c);
int analyze_tasks(struct actx *c);
int analyze_panic(struct actx *c);
int analyze_modules(struct actx *c);
int analyze_log(struct actx *c);
/* ORC: -ENOENT when the dump lacks the tables or BTF their layout. */
int analyze_orc_load(struct actx *c, struct orc **ret);
void analyze_orc_free(struct orc *o);
/*
 * Unwinds from ip/sp/bp (regs: the full registers of that frame, or NULL
 * for a blocked task's saved frame); fills slots with the stack addresses
 * holding each caller's return address, at most *n_slots, and sets
 * *n_slots. Stops early where the tables end or memory is missing.
 */
int analyze_orc_unwind(struct actx *c, const struct orc *o, const struct user_regs_struct *regs,
		       uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *slots, size_t *n_slots);

struct analyze_unwind_start {
	const struct user_regs_struct *regs; /* the crash note's registers, or NULL */
	uint64_t ip, sp, bp; /* where unwinding starts */
	uint64_t ip_slot; /* the stack slot holding ip (a blocked task's), or 0 */
	bool print_ip; /* list ip first: it is not on the stack */
	uint64_t scan_from; /* the first stack word to scan */
	uint64_t stack_base; /* the task's stack */
};
/* Lists the return addresses on a kernel stack, sure or unsure ("?"). */
int analyze_stack_scan(struct actx *c, const struct analyze_unwind_start *u,
		       struct analyze_stack *ret);

/*
 * Walks a list_head list: fn gets each entry's address (the node minus
 * link_offset). Stops at the head, after max entries (-ELOOP), on a read
 * error, or when fn returns non-zero (returned).
 */
typedef int (*ax_list_fn)(struct actx *c, uint64_t entry, void *userdata);
int ax_list_walk(struct actx *c, uint64_t head, uint64_t link_offset, size_t max, ax_list_fn fn,
		 void *userdata);
