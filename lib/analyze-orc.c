// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's ORC unwinder, replayed on dump memory: which stack slots
 * hold the return addresses of real frames. The tables are in the dump
 * (__start_orc_unwind_ip: 32-bit offsets to the instruction each entry
 * starts at, sorted; __start_orc_unwind: struct orc_entry, layout from BTF).
 * The rules follow arch/x86/kernel/unwind_orc.c (v6.1, v6.12); the register
 * and type numbers are the ORC format's (arch/x86/include/asm/orc_types.h):
 * types were renumbered in 6.3, when the `end` bit became the
 * END_OF_STACK type; BTF tells which by the member that exists.
 */
#include "analyze-internal.h"
#include "log.h"

#include <inttypes.h>

#define MAX_ORC_ENTRIES (4U << 20)
#define MAX_UNWIND_FRAMES 64

enum {
	REG_UNDEFINED,
	REG_PREV_SP,
	REG_DX,
	REG_DI,
	REG_BP,
	REG_SP,
	REG_R10,
	REG_R13,
	REG_BP_INDIRECT,
	REG_SP_INDIRECT
};

struct orc {
	int32_t *ip; /* the table itself: entry i starts at ip_base + 4 * i + ip[i] */
	uint8_t *entries;
	uint64_t ip_base, n, entry_size;
	struct kbtf_member sp_offset, bp_offset, sp_reg, bp_reg, type, end;
	bool old_types; /* before 6.3: CALL 0, REGS 1, REGS_PARTIAL 2, and an end bit */
	struct kbtf_member regs_ip, regs_sp, regs_bp, regs_dx, regs_di, regs_r10, regs_r13;
	uint64_t ip_offset_in_regs;
};

enum frame_type { T_UNDEFINED, T_END, T_CALL, T_REGS, T_REGS_PARTIAL };

struct orc_entry {
	int16_t sp_offset, bp_offset;
	unsigned sp_reg, bp_reg;
	enum frame_type type;
};

void analyze_orc_free(struct orc *o)
{
	if (!o)
		return;
	free(o->ip);
	free(o->entries);
	free(o);
}

static int load_layout(struct actx *c, struct orc *o)
{
	int r;

	if ((r = kbtf_type_size(c->btf, "orc_entry", &o->entry_size)) < 0 ||
	    (r = ax_member(c, "orc_entry.sp_offset", &o->sp_offset)) < 0 ||
	    (r = ax_member(c, "orc_entry.bp_offset", &o->bp_offset)) < 0 ||
	    (r = ax_member(c, "orc_entry.sp_reg", &o->sp_reg)) < 0 ||
	    (r = ax_member(c, "orc_entry.bp_reg", &o->bp_reg)) < 0 ||
	    (r = ax_member(c, "orc_entry.type", &o->type)) < 0 ||
	    (r = ax_member(c, "pt_regs.ip", &o->regs_ip)) < 0 ||
	    (r = ax_member(c, "pt_regs.sp", &o->regs_sp)) < 0 ||
	    (r = ax_member(c, "pt_regs.bp", &o->regs_bp)) < 0 ||
	    (r = ax_member(c, "pt_regs.dx", &o->regs_dx)) < 0 ||
	    (r = ax_member(c, "pt_regs.di", &o->regs_di)) < 0 ||
	    (r = ax_member(c, "pt_regs.r10", &o->regs_r10)) < 0 ||
	    (r = ax_member(c, "pt_regs.r13", &o->regs_r13)) < 0)
		return r;
	o->old_types = ax_member(c, "orc_entry.end", &o->end) >= 0;
	o->ip_offset_in_regs = o->regs_ip.offset;
	return o->entry_size > 0 && o->entry_size <= 16 ? 0 : -EBADMSG;
}

int analyze_orc_load(struct actx *c, struct orc **ret)
{
	struct orc *o;
	uint64_t start, stop, entries;
	int r;

	if (!c->ks || !c->btf)
		return -ENOENT;
	if (ax_sym(c, "__start_orc_unwind_ip", &start) < 0 ||
	    ax_sym(c, "__stop_orc_unwind_ip", &stop) < 0 ||
	    ax_sym(c, "__start_orc_unwind", &entries) < 0 || stop <= start ||
	    (stop - start) / 4 > MAX_ORC_ENTRIES)
		return -ENOENT;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	r = load_layout(c, o);
	if (r < 0)
		goto fail;
	o->n = (stop - start) / 4;
	o->ip_base = start;
	o->ip = malloc(o->n * 4);
	o->entries = malloc(o->n * o->entry_size);
	r = -ENOMEM;
	if (!o->ip || !o->entries)
		goto fail;
	r = ax_read(c, start, o->ip, o->n * 4);
	if (r >= 0)
		r = ax_read(c, entries, o->entries, o->n * o->entry_size);
	if (r < 0)
		goto fail;
	*ret = o;
	return 0;
fail:
	log_debug_errno(r, "No ORC unwinding: %m");
	analyze_orc_free(o);
	return r;
}

static uint64_t entry_ip(const struct orc *o, uint64_t i)
{
	return o->ip_base + 4 * i + (int64_t)o->ip[i];
}

static int find(const struct orc *o, uint64_t ip, struct orc_entry *ret)
{
	const uint8_t *e;
	uint64_t lo = 0, hi = o->n, v;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (entry_ip(o, mid) <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	e = o->entries + (lo - 1) * o->entry_size;
	*ret = (struct orc_entry){};
	if (ax_get(e, o->entry_size, &o->sp_offset, &v) < 0)
		return -EBADMSG;
	ret->sp_offset = (int16_t)v;
	if (ax_get(e, o->entry_size, &o->bp_offset, &v) < 0)
		return -EBADMSG;
	ret->bp_offset = (int16_t)v;
	if (ax_get(e, o->entry_size, &o->sp_reg, &v) < 0)
		return -EBADMSG;
	ret->sp_reg = v;
	if (ax_get(e, o->entry_size, &o->bp_reg, &v) < 0)
		return -EBADMSG;
	ret->bp_reg = v;
	if (ax_get(e, o->entry_size, &o->type, &v) < 0)
		return -EBADMSG;
	if (o->old_types) {
		uint64_t end = 0;

		(void)ax_get(e, o->entry_size, &o->end, &end);
		ret->type = end ? T_END : v == 0 ? T_CALL : v == 1 ? T_REGS : T_REGS_PARTIAL;
		if (!end && ret->sp_reg == REG_UNDEFINED)
			ret->type = T_UNDEFINED;
	} else
		ret->type = v == 0 ? T_UNDEFINED :
			    v == 1 ? T_END :
			    v == 2 ? T_CALL :
			    v == 3 ? T_REGS :
			    v == 4 ? T_REGS_PARTIAL :
				     T_UNDEFINED;
	return 0;
}

struct state {
	uint64_t ip, sp, bp;
	uint64_t regs; /* address of the pt_regs of the last REGS frame, or 0 */
	bool full_regs, signal;
	const struct user_regs_struct *first; /* registers of the first frame, or NULL */
};

static int read_u64(struct actx *c, uint64_t addr, uint64_t *ret)
{
	return ax_read(c, addr, ret, sizeof(*ret));
}

/* A register of the interrupted context, when the frame has one. */
static int get_reg(struct actx *c, const struct orc *o, const struct state *s,
		   const struct kbtf_member *m, uint64_t first_value, uint64_t *ret)
{
	if (s->first) {
		*ret = first_value;
		return 0;
	}
	if (!s->regs || (!s->full_regs && m->offset < o->ip_offset_in_regs))
		return -ENOENT;
	return read_u64(c, s->regs + m->offset, ret);
}

static int cfa(struct actx *c, const struct orc *o, const struct state *s,
	       const struct orc_entry *e, uint64_t *ret)
{
	const struct user_regs_struct *u = s->first;
	uint64_t sp;
	int r;

	switch (e->sp_reg) {
	case REG_SP:
		*ret = s->sp + e->sp_offset;
		return 0;
	case REG_BP:
		*ret = s->bp + e->sp_offset;
		return 0;
	case REG_SP_INDIRECT:
		r = read_u64(c, s->sp, &sp);
		*ret = sp + e->sp_offset;
		return r;
	case REG_BP_INDIRECT:
		return read_u64(c, s->bp + e->sp_offset, ret);
	case REG_R10:
		r = get_reg(c, o, s, &o->regs_r10, u ? u->r10 : 0, &sp);
		break;
	case REG_R13:
		r = get_reg(c, o, s, &o->regs_r13, u ? u->r13 : 0, &sp);
		break;
	case REG_DI:
		r = get_reg(c, o, s, &o->regs_di, u ? u->rdi : 0, &sp);
		break;
	case REG_DX:
		r = get_reg(c, o, s, &o->regs_dx, u ? u->rdx : 0, &sp);
		break;
	default:
		return -EBADMSG;
	}
	*ret = sp;
	return r;
}

/* One step; the slot that held the new ip goes to *ret_slot. 1: the end of the stack. */
static int step(struct actx *c, const struct orc *o, struct state *s, uint64_t *ret_slot)
{
	struct orc_entry e;
	uint64_t sp, bp = s->bp, v;
	int r;

	r = find(o, s->signal || s->first ? s->ip : s->ip - 1, &e);
	if (r < 0)
		return r;
	if (e.type == T_END)
		return 1;
	if (e.type == T_UNDEFINED)
		return -ENOENT;
	r = cfa(c, o, s, &e, &sp);
	if (r < 0)
		return r;
	switch (e.bp_reg) {
	case REG_UNDEFINED:
		if (get_reg(c, o, s, &o->regs_bp, s->first ? s->first->rbp : 0, &v) >= 0)
			bp = v;
		break;
	case REG_PREV_SP:
		r = read_u64(c, sp + e.bp_offset, &bp);
		break;
	case REG_BP:
		r = read_u64(c, s->bp + e.bp_offset, &bp);
		break;
	default:
		return -EBADMSG;
	}
	if (r < 0)
		return r;
	switch (e.type) {
	case T_CALL:
		*ret_slot = sp - 8;
		r = read_u64(c, sp - 8, &s->ip);
		s->sp = sp;
		s->regs = 0;
		s->signal = false;
		break;
	case T_REGS:
	case T_REGS_PARTIAL:
		/* REGS_PARTIAL: sp points at the iret frame, inside a pt_regs. */
		s->regs = e.type == T_REGS ? sp : sp - o->ip_offset_in_regs;
		s->full_regs = e.type == T_REGS;
		*ret_slot = s->regs + o->regs_ip.offset;
		r = read_u64(c, *ret_slot, &s->ip);
		if (r >= 0)
			r = read_u64(c, s->regs + o->regs_sp.offset, &s->sp);
		s->signal = true;
		break;
	default:
		return -EBADMSG;
	}
	s->bp = bp;
	s->first = NULL;
	return r;
}

int analyze_orc_unwind(struct actx *c, const struct orc *o, const struct user_regs_struct *regs,
		       uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *slots, size_t *n_slots)
{
	struct state s = { .ip = ip, .sp = sp, .bp = bp, .first = regs };
	size_t n = 0;
	int r = 0;

	while (n < *n_slots && n < MAX_UNWIND_FRAMES) {
		uint64_t slot;

		r = step(c, o, &s, &slot);
		if (r != 0)
			break;
		/* Into user space: the syscall's pt_regs end the kernel stack. */
		if (s.ip < 0xff00000000000000ULL) {
			r = 1;
			break;
		}
		slots[n++] = slot;
	}
	*n_slots = n;
	return r < 0 ? r : 0;
}
