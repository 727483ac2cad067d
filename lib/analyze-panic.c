// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The panic: its message from the log, the CPU that panicked (panic_cpu),
 * the task running there, its registers from that CPU's crash note
 * (NT_PRSTATUS, whose layout is the ELF core ABI of <sys/procfs.h>), and a
 * backtrace of its stack.
 */
#include "analyze-internal.h"
#include "dmesg.h"
#include "elfnote.h"
#include "log.h"

#include <elf.h>
#include <inttypes.h>
#include <sys/procfs.h>

struct note {
	int pid;
	struct user_regs_struct regs;
};

static int read_notes(struct dump *d, struct note **ret, size_t *ret_n)
{
	_cleanup_free_ struct note *v = NULL;
	size_t size, off = 0, n = 0;
	const void *notes = dump_notes(d, &size);
	struct elf_note en;

	while (elf_note_next(notes, size, &off, &en) > 0) {
		struct elf_prstatus st;
		struct note *grown;

		if (en.type != NT_PRSTATUS || !elf_note_name_is(&en, "CORE") ||
		    en.desc_size < sizeof(st))
			continue;
		memcpy(&st, en.desc, sizeof(st));
		grown = realloc(v, (n + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		v = grown;
		v[n].pid = st.pr_pid;
		memcpy(&v[n].regs, &st.pr_reg, sizeof(v[n].regs));
		n++;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* The panicking CPU's task: pid and comm from its task_struct. */
static int current_task(struct actx *c, int cpu, uint64_t *ret_task)
{
	struct analyze_report *r = c->r;
	struct kbtf_member m;
	uint64_t task, pid;
	int e;

	e = ax_cpu_current(c, cpu, &task);
	if (e < 0)
		return e;
	e = ax_read_member(c, task, "task_struct.pid", &pid);
	if (e < 0)
		return e;
	e = ax_member(c, "task_struct.comm", &m);
	if (e < 0)
		return e;
	e = ax_read(c, task + m.offset, r->panic_comm, MIN(m.size, ANALYZE_COMM_LEN));
	if (e < 0)
		return e;
	r->panic_pid = (int)pid;
	*ret_task = task;
	return 0;
}

int analyze_panic(struct actx *c)
{
	struct analyze_report *r = c->r;
	_cleanup_free_ struct note *notes = NULL;
	uint64_t sym, task = 0, stack = 0;
	size_t n = 0, pick = SIZE_MAX;
	int32_t cpu = -1;
	int e;

	e = dmesg_find_panic(c->d, &r->panic_message);
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		(void)ax_error(&r->panic_error, "no panic message in the kernel log");

	e = read_notes(c->d, &notes, &n);
	if (e < 0)
		return e;
	if (ax_sym(c, "panic_cpu", &sym) >= 0 && ax_read(c, sym, &cpu, sizeof(cpu)) >= 0 &&
	    cpu >= 0)
		r->panic_cpu = cpu;
	if (r->panic_cpu >= 0 && c->btf && current_task(c, r->panic_cpu, &task) >= 0) {
		/* The note holding this pid; the CPU's own index first among equals (idle: 0). */
		for (size_t i = 0; i < n; i++)
			if (notes[i].pid == r->panic_pid &&
			    (pick == SIZE_MAX || i == (size_t)r->panic_cpu))
				pick = i;
	} else if (r->panic_cpu >= 0 && (size_t)r->panic_cpu < n) {
		pick = r->panic_cpu;
		r->panic_pid = notes[pick].pid;
	}
	if (pick == SIZE_MAX)
		return ax_error(&r->panic_error,
				n == 0		 ? "the dump has no crash notes (NT_PRSTATUS)" :
				r->panic_cpu < 0 ? "panic_cpu is not readable" :
						   "no crash note matches the panicking task");
	r->regs = notes[pick].regs;
	r->has_regs = true;
	if (!c->ks)
		return ax_error(&r->backtrace.error, "no kernel symbols for a backtrace");
	if (task)
		(void)ax_read_member(c, task, "task_struct.stack", &stack);
	return analyze_stack_scan(c,
				  &(struct analyze_unwind_start){ .regs = &r->regs,
								  .ip = r->regs.rip,
								  .sp = r->regs.rsp,
								  .bp = r->regs.rbp,
								  .print_ip = true,
								  .scan_from = r->regs.rsp,
								  .stack_base = stack },
				  &r->backtrace);
}
