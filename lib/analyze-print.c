// SPDX-License-Identifier: GPL-2.0-or-later
/* The report as text for a person and as JSON (keys documented in README.md). */
#include "analyze.h"
#include "json.h"

#include <inttypes.h>
#include <time.h>

static const struct {
	const char *name;
	size_t offset;
} regs[] = {
#define REG(r)                                           \
	{                                                \
#r, offsetof(struct user_regs_struct, r) \
	}
	REG(rip), REG(rsp), REG(rbp), REG(eflags), REG(rax), REG(rbx), REG(rcx),
	REG(rdx), REG(rsi), REG(rdi), REG(r8),	   REG(r9),  REG(r10), REG(r11),
	REG(r12), REG(r13), REG(r14), REG(r15),	   REG(cs),  REG(ss),  REG(orig_rax),
#undef REG
};

static uint64_t reg(const struct user_regs_struct *u, size_t i)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)u + regs[i].offset, sizeof(v));
	return v;
}

static void print_error(FILE *out, const char *error)
{
	if (error)
		fprintf(out, "  (%s)\n", error);
}

static void print_stack(FILE *out, const struct analyze_stack *s, const char *indent)
{
	for (size_t i = 0; i < s->n_frames; i++) {
		const struct analyze_frame *f = &s->frames[i];

		if (f->symbol)
			fprintf(out, "%s%s%s\n", indent, f->unsure ? "? " : "", f->symbol);
		else
			fprintf(out, "%s%s0x%016" PRIx64 "\n", indent, f->unsure ? "? " : "",
				f->addr);
	}
	if (s->error)
		fprintf(out, "%s(%s)\n", indent, s->error);
}

static const char *time_text(int64_t t, char *buf, size_t len)
{
	time_t tt = t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

static void print_system(const struct analyze_report *r, FILE *out)
{
	char buf[64];

	fprintf(out, "System\n");
	fprintf(out, "  release     %s\n", r->release ?: "?");
	if (r->version)
		fprintf(out, "  version     %s\n", r->version);
	fprintf(out, "  hostname    %s\n", r->hostname ?: "?");
	if (r->machine)
		fprintf(out, "  machine     %s\n", r->machine);
	if (r->has_uptime) {
		uint64_t s = (uint64_t)r->uptime;

		fprintf(out,
			"  uptime      %.3f s (%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
			")\n",
			r->uptime, s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	}
	if (r->has_crash_time)
		fprintf(out, "  crash time  %s\n", time_text(r->crash_time, buf, sizeof(buf)));
	fprintf(out, "  CPUs        %u\n", r->nr_cpus);
	if (r->incomplete || r->truncated)
		fprintf(out, "  dump        %s%s\n", r->incomplete ? "INCOMPLETE " : "",
			r->truncated ? "cut short" : "");
	print_error(out, r->system_error);

	fprintf(out, "\nMemory\n");
	for (size_t i = 0; i < r->n_meminfo; i++)
		fprintf(out, "  %-14s %10" PRIu64 " kB\n", r->meminfo[i].name, r->meminfo[i].kb);
	print_error(out, r->memory_error);
}

static void print_panic(const struct analyze_report *r, FILE *out)
{
	fprintf(out, "\nPanic\n");
	fprintf(out, "  message     %s\n", r->panic_message ?: "?");
	if (r->panic_cpu >= 0)
		fprintf(out, "  CPU         %d\n", r->panic_cpu);
	if (r->panic_pid >= 0)
		fprintf(out, "  task        %d (%s)\n", r->panic_pid,
			r->panic_comm[0] ? r->panic_comm : "?");
	print_error(out, r->panic_error);
	if (r->has_regs) {
		fprintf(out, "  registers");
		for (size_t i = 0; i < ELEMENTSOF(regs); i++)
			fprintf(out, "%s%-8s %016" PRIx64, i % 3 == 0 ? "\n    " : "  ",
				regs[i].name, reg(&r->regs, i));
		fprintf(out, "\n  backtrace\n");
		print_stack(out, &r->backtrace, "    ");
	}
}

static void print_tasks(const struct analyze_report *r, FILE *out)
{
	size_t d = 0;

	fprintf(out, "\nTasks (%zu)\n", r->n_tasks);
	print_error(out, r->tasks_error);
	if (r->n_tasks)
		fprintf(out, "  %7s %7s %7s S %3s %9s  COMMAND\n", "PID", "TGID", "PPID", "CPU",
			"RSS(kB)");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct analyze_task *t = &r->tasks[i];

		fprintf(out, "  %7d %7d %7d %c %3d %9" PRIu64 "  %s%s%s\n", t->pid, t->tgid,
			t->ppid, t->state, t->cpu, t->rss_kb, t->kernel_thread ? "[" : "", t->comm,
			t->kernel_thread ? "]" : "");
		d += t->state == 'D';
	}
	if (d == 0)
		return;
	fprintf(out, "\nTasks in D state (uninterruptible)\n");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct analyze_task *t = &r->tasks[i];

		if (t->state != 'D')
			continue;
		fprintf(out, "  %d (%s)\n", t->pid, t->comm);
		print_stack(out, &t->stack, "    ");
	}
}

static void print_modules(const struct analyze_report *r, FILE *out)
{
	fprintf(out, "\nModules (%zu)\n", r->n_modules);
	for (size_t i = 0; i < r->n_modules; i++)
		fprintf(out, "  %-24s %9" PRIu64 "  %s\n", r->modules[i].name, r->modules[i].size,
			r->modules[i].state);
	if (r->has_taint) {
		if (r->taint_mask == 0)
			fprintf(out, "  taint       not tainted\n");
		else
			fprintf(out, "  taint       %s (0x%" PRIx64 ")\n", r->taint, r->taint_mask);
		for (size_t i = 0; r->taint_words && r->taint_words[i]; i++)
			fprintf(out, "              %s\n", r->taint_words[i]);
	}
	print_error(out, r->modules_error);
}

int analyze_print_text(const struct analyze_report *r, FILE *out)
{
	if (r->symbols_error)
		fprintf(out, "Note: %s.\n", r->symbols_error);
	if (r->types_error)
		fprintf(out, "Note: %s.\n", r->types_error);
	if (r->symbols_error || r->types_error)
		fprintf(out, "\n");
	print_system(r, out);
	print_panic(r, out);
	print_tasks(r, out);
	print_modules(r, out);
	fprintf(out, "\nLog (last %zu lines)\n", r->n_log);
	for (size_t i = 0; i < r->n_log; i++)
		fprintf(out, "  %s\n", r->log[i]);
	print_error(out, r->log_error);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

static void json_hex(struct json *j, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	json_string(j, key, buf);
}

static void json_stack(struct json *j, const char *key, const struct analyze_stack *s)
{
	json_array_open(j, key);
	for (size_t i = 0; i < s->n_frames; i++) {
		json_object_open(j, NULL);
		json_hex(j, "address", s->frames[i].addr);
		json_string(j, "symbol", s->frames[i].symbol);
		json_bool(j, "unsure", s->frames[i].unsure);
		json_object_close(j);
	}
	json_array_close(j);
}

static void json_system(struct json *j, const struct analyze_report *r)
{
	json_object_open(j, "system");
	json_string(j, "release", r->release);
	json_string(j, "version", r->version);
	json_string(j, "hostname", r->hostname);
	json_string(j, "machine", r->machine);
	if (r->has_uptime)
		json_double(j, "uptime_seconds", r->uptime);
	else
		json_null(j, "uptime_seconds");
	if (r->has_crash_time)
		json_i64(j, "crash_time", r->crash_time);
	else
		json_null(j, "crash_time");
	json_u64(j, "cpus", r->nr_cpus);
	json_bool(j, "dump_incomplete", r->incomplete);
	json_bool(j, "dump_truncated", r->truncated);
	json_string(j, "error", r->system_error);
	json_object_close(j);

	json_object_open(j, "memory");
	json_object_open(j, "kb");
	for (size_t i = 0; i < r->n_meminfo; i++)
		json_u64(j, r->meminfo[i].name, r->meminfo[i].kb);
	json_object_close(j);
	json_string(j, "error", r->memory_error);
	json_object_close(j);
}

static void json_panic(struct json *j, const struct analyze_report *r)
{
	json_object_open(j, "panic");
	json_string(j, "message", r->panic_message);
	json_i64(j, "cpu", r->panic_cpu);
	json_i64(j, "pid", r->panic_pid);
	json_string(j, "comm", r->panic_comm[0] ? r->panic_comm : NULL);
	if (r->has_regs) {
		json_object_open(j, "registers");
		for (size_t i = 0; i < ELEMENTSOF(regs); i++)
			json_hex(j, regs[i].name, reg(&r->regs, i));
		json_object_close(j);
	} else
		json_null(j, "registers");
	json_stack(j, "backtrace", &r->backtrace);
	json_string(j, "backtrace_error", r->backtrace.error);
	json_string(j, "error", r->panic_error);
	json_object_close(j);
}

static void json_tasks(struct json *j, const struct analyze_report *r)
{
	char state[2] = {};

	json_object_open(j, "tasks");
	json_array_open(j, "list");
	for (size_t i = 0; i < r->n_tasks; i++) {
		const struct analyze_task *t = &r->tasks[i];

		json_object_open(j, NULL);
		json_i64(j, "pid", t->pid);
		json_i64(j, "tgid", t->tgid);
		json_i64(j, "ppid", t->ppid);
		state[0] = t->state;
		json_string(j, "state", state);
		json_i64(j, "cpu", t->cpu);
		json_string(j, "comm", t->comm);
		json_u64(j, "rss_kb", t->rss_kb);
		json_bool(j, "kernel_thread", t->kernel_thread);
		json_hex(j, "task_struct", t->address);
		if (t->state == 'D') {
			json_stack(j, "stack", &t->stack);
			json_string(j, "stack_error", t->stack.error);
		}
		json_object_close(j);
	}
	json_array_close(j);
	json_string(j, "error", r->tasks_error);
	json_object_close(j);
}

static void json_modules(struct json *j, const struct analyze_report *r)
{
	json_object_open(j, "modules");
	json_array_open(j, "list");
	for (size_t i = 0; i < r->n_modules; i++) {
		json_object_open(j, NULL);
		json_string(j, "name", r->modules[i].name);
		json_u64(j, "size", r->modules[i].size);
		json_string(j, "state", r->modules[i].state);
		json_object_close(j);
	}
	json_array_close(j);
	if (r->has_taint) {
		json_u64(j, "taint_mask", r->taint_mask);
		json_string(j, "taint", r->taint);
	} else {
		json_null(j, "taint_mask");
		json_null(j, "taint");
	}
	json_array_open(j, "taint_flags");
	for (size_t i = 0; r->taint_words && r->taint_words[i]; i++)
		json_string(j, NULL, r->taint_words[i]);
	json_array_close(j);
	json_string(j, "error", r->modules_error);
	json_object_close(j);
}

int analyze_print_json(const struct analyze_report *r, FILE *out)
{
	struct json j;

	json_begin(&j, out, true);
	json_object_open(&j, NULL);
	json_u64(&j, "version", 1);
	json_string(&j, "symbols_error", r->symbols_error);
	json_string(&j, "types_error", r->types_error);
	json_system(&j, r);
	json_panic(&j, r);
	json_tasks(&j, r);
	json_modules(&j, r);
	json_object_open(&j, "log");
	json_array_open(&j, "lines");
	for (size_t i = 0; i < r->n_log; i++)
		json_string(&j, NULL, r->log[i]);
	json_array_close(&j);
	json_string(&j, "error", r->log_error);
	json_object_close(&j);
	json_object_close(&j);
	return json_end(&j);
}
