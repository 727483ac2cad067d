// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backtraces as the kernel's own oops prints them: every word of the stack
 * that points into kernel or module text is listed; those in the slots
 * where the ORC unwinder (analyze-orc.c) finds return addresses are sure,
 * the others are marked "?". Without ORC tables, a return address that
 * follows a call instruction counts as sure.
 */
#include "analyze-internal.h"
#include "log.h"

#include <inttypes.h>

#define MAX_FRAMES 128
#define DEFAULT_THREAD_SIZE (16ULL << 10) /* x86_64 without KASAN */

/* The bytes before a return address form a call: e8 rel32, or ff /2 in its usual forms. */
static bool after_call(struct actx *c, uint64_t addr)
{
	uint8_t b[8];

	if (ax_read(c, addr - sizeof(b), b, sizeof(b)) < 0)
		return false;
	if (b[3] == 0xe8) /* call rel32 */
		return true;
	if (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) /* call *%reg */
		return true;
	if (b[5] == 0x41 && b[6] == 0xff && (b[7] & 0xf8) == 0xd0) /* call *%r8-15 */
		return true;
	if (b[2] == 0xff && b[3] == 0x15) /* call *disp32(%rip) */
		return true;
	if (b[5] == 0xff && (b[6] & 0xf8) == 0x50 && b[6] != 0x54) /* call *disp8(%reg) */
		return true;
	return false;
}

static int add_frame(struct actx *c, struct analyze_stack *s, uint64_t addr, bool unsure)
{
	struct analyze_frame *grown;
	char buf[256];

	if (s->n_frames >= MAX_FRAMES)
		return 0;
	grown = realloc(s->frames, (s->n_frames + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->frames = grown;
	s->frames[s->n_frames] = (struct analyze_frame){ .addr = addr, .unsure = unsure };
	if (c->ks && ax_is_text(c, addr) && kallsyms_lookup_addr(c->ks, addr, NULL, NULL) >= 0) {
		s->frames[s->n_frames].symbol =
			strdup(kallsyms_format(c->ks, addr, buf, sizeof(buf)));
		if (!s->frames[s->n_frames].symbol)
			return -ENOMEM;
	} else if (analyze_modsyms_format(c, addr, &s->frames[s->n_frames].symbol) == -ENOMEM)
		return -ENOMEM;
	s->n_frames++;
	return 0;
}

static bool in_slots(const uint64_t *slots, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i] == addr)
			return true;
	return false;
}

/*
 * Some functions have no ORC data (objtool skips those marked
 * STACK_FRAME_NON_STANDARD, __crash_kexec among them): when the first frame
 * cannot be unwound, the first return address on the stack from which ORC
 * unwinds at least one more frame starts the sure chain.
 */
static int resync(struct actx *c, const struct orc *orc, const uint64_t *words, uint64_t n,
		  uint64_t from, uint64_t bp, uint64_t *slots, size_t *n_slots, size_t max)
{
	for (uint64_t i = 0; i < n; i++) {
		size_t more = max - 1;
		int r;

		if (!ax_is_text(c, words[i]) || !after_call(c, words[i]))
			continue;
		r = analyze_orc_unwind(c, orc, NULL, words[i], from + 8 * i + 8, bp, slots + 1,
				       &more);
		if (r == -ENOMEM)
			return r;
		if (more >= 1) {
			slots[0] = from + 8 * i;
			*n_slots = more + 1;
			return 0;
		}
	}
	return 0;
}

static struct orc *orc_tables(struct actx *c)
{
	if (!c->orc_tried) {
		c->orc_tried = true;
		if (analyze_orc_load(c, &c->orc) < 0)
			c->orc = NULL;
	}
	return c->orc;
}

int analyze_stack_scan(struct actx *c, const struct analyze_unwind_start *u,
		       struct analyze_stack *ret)
{
	_cleanup_free_ uint64_t *words = NULL;
	uint64_t size = c->thread_size ? c->thread_size : DEFAULT_THREAD_SIZE, top, n, from;
	uint64_t slots[64], base = u->stack_base;
	size_t n_slots = 0;
	struct orc *orc = orc_tables(c);
	int r;

	/* The slots ORC finds return addresses in are sure; a scan finds the rest. */
	if (u->ip_slot)
		slots[n_slots++] = u->ip_slot;
	if (orc) {
		size_t more = ELEMENTSOF(slots) - n_slots;

		if (analyze_orc_unwind(c, orc, u->regs, u->ip, u->sp, u->bp, slots + n_slots,
				       &more) == -ENOMEM)
			return -ENOMEM;
		n_slots += more;
	}
	if (u->print_ip) {
		r = add_frame(c, ret, u->ip, false);
		if (r < 0)
			return r;
	}
	from = u->scan_from & ~7ULL;
	/* Outside the task's stack (an IRQ or exception stack): scan the block it is in. */
	if (from < base || from - base >= size)
		base = from & ~(size - 1);
	top = base + size;
	n = (top - from) / 8;
	words = malloc(n * 8 + 8);
	if (!words)
		return -ENOMEM;
	r = ax_read(c, from, words, n * 8);
	if (r < 0)
		return ax_error(&ret->error, "the stack at 0x%" PRIx64 " is %s", from,
				ax_strerror(r));
	if (orc && n_slots == 0) {
		r = resync(c, orc, words, n, from, u->bp, slots, &n_slots, ELEMENTSOF(slots));
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t slot = from + 8 * i;
		bool sure;

		if (!ax_is_text(c, words[i]) && !analyze_modsyms_contains(c, words[i]))
			continue;
		sure = orc ? in_slots(slots, n_slots, slot) : after_call(c, words[i]);
		/* The interrupted IP saved in a pt_regs on the stack: listed already. */
		if (u->print_ip && words[i] == u->ip && !sure)
			continue;
		r = add_frame(c, ret, words[i], !sure);
		if (r < 0)
			return r;
	}
	/* Frames ORC found on another stack (the one an interrupt came from). */
	for (size_t i = 0; i < n_slots; i++) {
		uint64_t ip;

		if (slots[i] >= from && slots[i] < top)
			continue;
		if (ax_read(c, slots[i], &ip, sizeof(ip)) >= 0) {
			r = add_frame(c, ret, ip, false);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
