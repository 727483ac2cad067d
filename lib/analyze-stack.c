// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backtraces by stack scan, as the kernel's own oops printer falls back to:
 * every word of the stack that points into kernel text is a candidate
 * return address. One that follows a call instruction is likely a real
 * frame; the others are marked unsure ("?"), like the kernel marks what its
 * unwinder did not confirm.
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

int analyze_stack_scan(struct actx *c, uint64_t start, uint64_t sp, uint64_t stack_base,
		       struct analyze_stack *ret)
{
	_cleanup_free_ uint64_t *words = NULL;
	uint64_t size = c->thread_size ? c->thread_size : DEFAULT_THREAD_SIZE, top, n;
	int r;

	if (start) {
		r = add_frame(c, ret, start, false);
		if (r < 0)
			return r;
	}
	/* sp outside the task's stack (an IRQ or exception stack): scan the block it is in. */
	if (sp < stack_base || sp - stack_base >= size)
		stack_base = sp & ~(size - 1);
	top = stack_base + size;
	sp &= ~7ULL;
	n = (top - sp) / 8;
	words = malloc(n * 8 + 8);
	if (!words)
		return -ENOMEM;
	r = ax_read(c, sp, words, n * 8);
	if (r < 0)
		return ax_error(&ret->error, "the stack at 0x%" PRIx64 " is %s", sp,
				ax_strerror(r));
	for (uint64_t i = 0; i < n; i++) {
		if (!ax_is_text(c, words[i]) && !analyze_modsyms_contains(c, words[i]))
			continue;
		r = add_frame(c, ret, words[i], !after_call(c, words[i]));
		if (r < 0)
			return r;
	}
	return 0;
}
