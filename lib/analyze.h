/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debuginfo-free triage of a dump: why the machine died and what it was
 * doing, from the dump alone. Symbols come from the kernel's kallsyms,
 * structure layouts from its BTF, both read from dump memory; nothing is
 * hard-coded about the dumped kernel's structures.
 *
 * analyze_dump() always produces a report: a section whose inputs are
 * missing (no kallsyms in VMCOREINFO, truncated BTF, pages excluded from the
 * dump) carries an error text naming what is missing, and the rest is
 * still filled in.
 */
#pragma once

#include "dump.h"

#include <sys/user.h>

#define ANALYZE_LOG_LINES 50
#define ANALYZE_COMM_LEN 16

struct analyze_frame {
	uint64_t addr;
	char *symbol; /* "name+0xoff/0xsize", or NULL when no symbol holds addr */
	bool unsure; /* found by a stack scan, not preceded by a call: "?" */
};

struct analyze_stack {
	struct analyze_frame *frames;
	size_t n_frames;
	char *error; /* why the stack could not be read, or NULL */
};

struct analyze_task {
	uint64_t address; /* of its task_struct */
	int pid, tgid, ppid;
	char state; /* as ps: R S D T t X Z P I */
	int cpu;
	char comm[ANALYZE_COMM_LEN + 1];
	uint64_t rss_kb;
	bool kernel_thread;
	struct analyze_stack stack; /* D-state tasks only */
};

struct analyze_meminfo {
	const char *name; /* "MemTotal", as /proc/meminfo */
	uint64_t kb;
};

struct analyze_module {
	char *name;
	uint64_t size;
	char *state; /* "Live", "Loading", "Unloading", "Unformed" */
};

struct analyze_report {
	/* system */
	char *release, *version, *hostname, *machine;
	bool has_uptime;
	double uptime; /* seconds since boot at the crash */
	bool has_crash_time;
	int64_t crash_time; /* seconds since the epoch (VMCOREINFO CRASHTIME) */
	unsigned nr_cpus; /* CPUs online at the crash */
	struct analyze_meminfo *meminfo;
	size_t n_meminfo;
	bool incomplete, truncated; /* the dump file's own state */
	char *system_error, *memory_error;

	/* panic */
	char *panic_message;
	int panic_cpu; /* -1 unknown */
	int panic_pid;
	char panic_comm[ANALYZE_COMM_LEN + 1];
	bool has_regs;
	struct user_regs_struct regs;
	struct analyze_stack backtrace;
	char *panic_error;

	/* tasks */
	struct analyze_task *tasks;
	size_t n_tasks;
	char *tasks_error;

	/* modules and taint */
	struct analyze_module *modules;
	size_t n_modules;
	bool has_taint;
	uint64_t taint_mask;
	char *taint; /* letters as the kernel prints them, "G" when none */
	char **taint_words; /* NULL-terminated */
	char *modules_error;

	/* log */
	char **log; /* the last ANALYZE_LOG_LINES lines */
	size_t n_log;
	char *log_error;

	/* what could not be read at all: kallsyms, BTF (shown once, on top) */
	char *symbols_error, *types_error;
};

/* -ENOMEM only: everything else lands in the report's error fields. */
int analyze_dump(struct dump *d, struct analyze_report **ret);
struct analyze_report *analyze_report_free(struct analyze_report *r);
static inline void analyze_report_freep(struct analyze_report **r)
{
	analyze_report_free(*r);
}
#define _cleanup_analyze_report_ _cleanup_(analyze_report_freep)

/* The report for a person. */
int analyze_print_text(const struct analyze_report *r, FILE *out);
/* The report as JSON; the keys are documented in README.md ("crashcapctl analyze"). */
int analyze_print_json(const struct analyze_report *r, FILE *out);
