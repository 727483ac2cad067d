// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every task, as ps lists it: the process list from init_task.tasks, each
 * process's threads from signal->thread_head. Layouts from BTF. The state
 * letter is computed as fs/proc/array.c does (task_state_index()); the
 * state bits are the kernel's ABI of /proc/PID/stat, the same from 4.14
 * through 6.12 (include/linux/sched.h).
 */
#include "analyze-internal.h"
#include "log.h"

#include <inttypes.h>

#define MAX_TASKS 1000000
#define TASK_REPORT 0x7fU
#define TASK_IDLE 0x402U /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define TASK_RTLOCK_WAIT 0x1000U
#define TASK_UNINTERRUPTIBLE 0x2U
static const char state_letters[] = "RSDTtXZPI";

struct layout {
	uint64_t size;
	struct kbtf_member pid, tgid, state, exit_state, comm, real_parent, mm, cpu, stack, sp;
	uint64_t tasks_off, thread_node_off, signal_off, thread_head_off;
	struct kbtf_member rss[3]; /* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES */
	unsigned n_rss;
	uint8_t *buf;
};

static int member(struct actx *c, const char *path, struct kbtf_member *m)
{
	int r = ax_member(c, path, m);

	if (r < 0)
		log_debug_errno(r, "BTF: no %s: %m", path);
	return r;
}

static int rss_member(struct actx *c, const char *item, struct kbtf_member *m)
{
	_cleanup_free_ char *p1 = NULL, *p2 = NULL;
	int64_t idx;
	int r;

	r = kbtf_enum_value(c->btf, item, &idx);
	if (r < 0)
		return r;
	/* 6.1: struct mm_rss_stat { atomic_long_t count[]; }; 6.2+: struct percpu_counter[]. */
	if (asprintf(&p1, "mm_struct.rss_stat.count[%" PRId64 "]", idx) < 0 ||
	    asprintf(&p2, "mm_struct.rss_stat[%" PRId64 "].count", idx) < 0)
		return -ENOMEM;
	r = ax_member(c, p1, m);
	if (r < 0)
		r = ax_member(c, p2, m);
	return r;
}

static int load_layout(struct actx *c, struct layout *l)
{
	static const char *const rss_items[] = { "MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES" };
	struct kbtf_member m;
	int r;

	if ((r = kbtf_type_size(c->btf, "task_struct", &l->size)) < 0 ||
	    (r = member(c, "task_struct.pid", &l->pid)) < 0 ||
	    (r = member(c, "task_struct.tgid", &l->tgid)) < 0 ||
	    (r = member(c, "task_struct.exit_state", &l->exit_state)) < 0 ||
	    (r = member(c, "task_struct.comm", &l->comm)) < 0 ||
	    (r = member(c, "task_struct.real_parent", &l->real_parent)) < 0 ||
	    (r = member(c, "task_struct.mm", &l->mm)) < 0 ||
	    (r = member(c, "task_struct.stack", &l->stack)) < 0 ||
	    (r = member(c, "task_struct.thread.sp", &l->sp)) < 0)
		return r;
	/* Renamed in 5.14. */
	if (ax_member(c, "task_struct.__state", &l->state) < 0 &&
	    (r = member(c, "task_struct.state", &l->state)) < 0)
		return r;
	/* In thread_info since 5.16 (THREAD_INFO_IN_TASK), in task_struct before. */
	if (ax_member(c, "task_struct.thread_info.cpu", &l->cpu) < 0 &&
	    (r = member(c, "task_struct.cpu", &l->cpu)) < 0)
		return r;
	if ((r = member(c, "task_struct.tasks", &m)) < 0)
		return r;
	l->tasks_off = m.offset;
	if ((r = member(c, "task_struct.thread_node", &m)) < 0)
		return r;
	l->thread_node_off = m.offset;
	if ((r = member(c, "task_struct.signal", &m)) < 0)
		return r;
	l->signal_off = m.offset;
	if ((r = member(c, "signal_struct.thread_head", &m)) < 0)
		return r;
	l->thread_head_off = m.offset;
	for (size_t i = 0; i < ELEMENTSOF(rss_items); i++)
		if (rss_member(c, rss_items[i], &l->rss[l->n_rss]) >= 0)
			l->n_rss++;
	if (l->size > (1 << 20))
		return -EBADMSG;
	l->buf = malloc(l->size);
	return l->buf ? 0 : -ENOMEM;
}

static char state_letter(uint64_t state, uint64_t exit_state)
{
	uint32_t s = (uint32_t)state, rep = (s | (uint32_t)exit_state) & TASK_REPORT;
	unsigned i;

	if ((s & TASK_IDLE) == TASK_IDLE)
		rep = TASK_REPORT + 1;
	if (s == TASK_RTLOCK_WAIT)
		rep = TASK_UNINTERRUPTIBLE;
	i = rep ? 32 - __builtin_clz(rep) : 0;
	return i < sizeof(state_letters) - 1 ? state_letters[i] : '?';
}

static uint64_t get(const struct layout *l, const struct kbtf_member *m)
{
	uint64_t v = 0;

	(void)ax_get(l->buf, l->size, m, &v);
	return v;
}

static int read_task(struct actx *c, struct layout *l, uint64_t addr, struct analyze_task *t)
{
	uint64_t mm, parent, v;
	int r;

	r = ax_read(c, addr, l->buf, l->size);
	if (r < 0)
		return r;
	*t = (struct analyze_task){ .address = addr };
	t->pid = (int)get(l, &l->pid);
	t->tgid = (int)get(l, &l->tgid);
	t->state = state_letter(get(l, &l->state), get(l, &l->exit_state));
	t->cpu = (int)get(l, &l->cpu);
	memcpy(t->comm, l->buf + l->comm.offset, MIN(l->comm.size, ANALYZE_COMM_LEN));
	t->comm[ANALYZE_COMM_LEN] = 0;
	mm = get(l, &l->mm);
	t->kernel_thread = mm == 0;
	parent = get(l, &l->real_parent);
	t->ppid = 0;
	if (parent && parent != addr && ax_read_member(c, parent, "task_struct.tgid", &v) >= 0)
		t->ppid = (int)v;
	for (unsigned i = 0; mm && i < l->n_rss; i++) {
		uint64_t buf = 0;

		if (l->rss[i].size <= 8 &&
		    ax_read(c, mm + l->rss[i].offset, &buf, l->rss[i].size) >= 0)
			t->rss_kb += (int64_t)buf > 0 ? buf * (DUMP_PAGE_SIZE / 1024) : 0;
	}
	return 0;
}

struct walk {
	struct layout *l;
	size_t cap;
	int error; /* the first unreadable task's error */
	uint64_t error_addr;
};

static int add_task(struct actx *c, uint64_t addr, void *userdata)
{
	struct walk *w = userdata;
	struct analyze_report *r = c->r;
	struct analyze_task t;
	int e;

	/* A corrupt list could lead from thread list to thread list: one cap for all. */
	if (r->n_tasks >= MAX_TASKS)
		return -ELOOP;
	e = read_task(c, w->l, addr, &t);
	if (e < 0) {
		if (!w->error) {
			w->error = e;
			w->error_addr = addr;
		}
		return 0;
	}
	if (r->n_tasks == w->cap) {
		struct analyze_task *grown;

		w->cap = w->cap ? w->cap * 2 : 256;
		grown = realloc(r->tasks, w->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->tasks = grown;
	}
	r->tasks[r->n_tasks++] = t;
	return 0;
}

static int add_process(struct actx *c, uint64_t leader, void *userdata)
{
	struct walk *w = userdata;
	uint64_t signal;
	int e;

	e = ax_read(c, leader + w->l->signal_off, &signal, sizeof(signal));
	if (e >= 0 && signal)
		e = ax_list_walk(c, signal + w->l->thread_head_off, w->l->thread_node_off,
				 MAX_TASKS, add_task, w);
	if (e == -ENOMEM || e == -ELOOP)
		return e;
	/* The threads are out of reach: list the process itself. */
	if (e < 0 || !signal)
		return add_task(c, leader, w);
	return 0;
}

static int task_stack(struct actx *c, struct layout *l, struct analyze_task *t)
{
	struct analyze_unwind_start u = {};
	struct kbtf_member ret_addr;
	uint64_t sp, stack, frame_size;
	int r;

	r = ax_read(c, t->address, l->buf, l->size);
	if (r < 0)
		return ax_error(&t->stack.error, "task_struct is %s", ax_strerror(r));
	sp = get(l, &l->sp);
	stack = get(l, &l->stack);
	/*
	 * thread.sp points at the struct inactive_task_frame __switch_to_asm
	 * pushed: the unwinder starts from its bp and return address.
	 */
	if (kbtf_type_size(c->btf, "inactive_task_frame", &frame_size) >= 0 &&
	    ax_member(c, "inactive_task_frame.ret_addr", &ret_addr) >= 0 &&
	    ax_read_member(c, sp, "inactive_task_frame.bp", &u.bp) >= 0 &&
	    ax_read(c, sp + ret_addr.offset, &u.ip, sizeof(u.ip)) >= 0) {
		u.sp = sp + frame_size;
		u.ip_slot = sp + ret_addr.offset;
	}
	u.scan_from = sp;
	u.stack_base = stack;
	return analyze_stack_scan(c, &u, &t->stack);
}

int analyze_tasks(struct actx *c)
{
	struct analyze_report *r = c->r;
	struct layout l = {};
	struct walk w = { .l = &l };
	uint64_t init_task;
	int e;

	if (ax_need(c, &r->tasks_error, true) < 0)
		return r->tasks_error ? 0 : -ENOMEM;
	e = load_layout(c, &l);
	if (e < 0) {
		free(l.buf);
		return e == -ENOMEM ?
			       e :
			       ax_error(
				       &r->tasks_error,
				       "the kernel's BTF lacks a task_struct member analyze needs");
	}
	e = ax_sym(c, "init_task", &init_task);
	if (e >= 0)
		e = ax_list_walk(c, init_task + l.tasks_off, l.tasks_off, MAX_TASKS, add_process,
				 &w);
	if (e == -ENOMEM) {
		free(l.buf);
		return e;
	}
	if (e < 0)
		(void)ax_error(&r->tasks_error, "the task list is %s; the list is partial",
			       ax_strerror(e));
	else if (w.error)
		(void)ax_error(&r->tasks_error,
			       "task_struct at 0x%" PRIx64 " is %s; it is left out", w.error_addr,
			       ax_strerror(w.error));
	for (size_t i = 0; i < r->n_tasks; i++)
		if (r->tasks[i].state == 'D') {
			e = task_stack(c, &l, &r->tasks[i]);
			if (e < 0)
				break;
		}
	free(l.buf);
	return e == -ENOMEM ? e : 0;
}
