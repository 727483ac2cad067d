/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The steps of the collector's /init mode (collector/init.c), split out so
 * that unit tests run them against a temporary directory standing in for
 * the mounted target, with the fake syscall seam for finit_module and
 * reboot. Mounting and waiting for the target device run only in QEMU.
 */
#pragma once

#include "dump.h"
#include "settings.h"
#include "summary.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4 /* linux/module.h, 6.2+: the kernel decompresses */
#endif

#define INIT_CONFIG_PATH "/etc/crashcap.conf"
#define INIT_MODULES_LIST "/etc/crashcap/modules"
#define INIT_TARGET_DIR "/target"
#define INIT_VMCORE "/proc/vmcore"
/* Bound on waiting for the dump target's device to appear. */
#define INIT_TARGET_TIMEOUT_SEC 60

/* finit_module flags for a module file: compressed ones are decompressed in-kernel. */
int init_module_flags(const char *path);

/*
 * Loads the modules listed in root+list (one absolute path, below root, a
 * line; '#' comments and blank lines skipped) in order. A module already
 * loaded counts as loaded; one that fails is logged and the next tried.
 * A missing list loads nothing. Errors: reading the list.
 */
int init_load_modules(const char *root, const char *list, unsigned *ret_loaded,
		      unsigned *ret_failed);

/*
 * Unlinks the module files listed in root+list (as init_load_modules reads
 * it), once loaded: in the crash kernel they sit in tmpfs, in the scarce
 * reserved memory, and are never read again. Files already gone count as
 * removed. Errors: reading the list, or the first unlink that failed.
 */
int init_drop_module_files(const char *root, const char *list, unsigned *ret_removed);

/* MemAvailable from root/proc/meminfo, in bytes. */
int init_read_mem_available(const char *root, uint64_t *ret);
/*
 * The collector's bound on chunks in flight for a crash kernel with this
 * much memory available: a sixteenth of it, between COLLECT_INFLIGHT_MIN and
 * COLLECT_INFLIGHT_DEFAULT; the default when unknown (0).
 */
uint64_t init_inflight_for(uint64_t mem_available);

/* What the dump says about the crash. Fields are NULL when unknown. */
struct crash_info {
	char *release; /* VMCOREINFO OSRELEASE */
	char *hostname; /* init_uts_ns nodename */
	char *panic; /* the panic line, from the dead kernel's log */
	int64_t crash_time; /* VMCOREINFO CRASHTIME, else this clock */
	bool crash_time_from_dump;
};
void crash_info_done(struct crash_info *ci);
/* d may be NULL (no readable vmcore): then only the clock. */
int init_crash_info(struct dump *d, struct crash_info *ret);

/* "YYYY-MM-DD-HH:MM:SS-<release>" in UTC; "unknown" for a NULL or empty release. */
int init_dump_dir_name(int64_t crash_time, const char *release, char **ret);
/*
 * Creates target_root/path/crashcap/name (parents 0755, the dump's own
 * directory 0700). A name already taken gets "-2", "-3", ... appended.
 */
int init_make_output_dir(const char *target_root, const char *path, const char *name,
			 char **ret_dir);

struct init_capture {
	char *dir; /* the dump's directory, below target_root */
	enum summary_result result;
	uint64_t output_bytes;
	double dump_seconds;
	char error[256]; /* what went wrong, when result is not SUMMARY_OK */
};
void init_capture_done(struct init_capture *c);
/*
 * Steps 5 and 6 of /init: the output directory, the dump (vmcore.incomplete,
 * fsync'ed, renamed to vmcore when complete), dmesg.txt and summary.json,
 * all fsync'ed. start: CLOCK_MONOTONIC seconds when /init began. Returns 0
 * once a directory exists to report in (ret->result says how the dump went),
 * or the error that left nothing on the target.
 */
int init_capture_dump(const struct settings *s, const char *vmcore, const char *target_root,
		      double start, struct init_capture *ret);
/* The same, with the collector's chunks in flight bounded (0: its default). */
int init_capture_dump_bounded(const struct settings *s, const char *vmcore, const char *target_root,
			      double start, uint64_t inflight_bytes, struct init_capture *ret);

/* RB_AUTOBOOT, RB_POWER_OFF or RB_HALT_SYSTEM. */
int init_reboot_command(enum final_action a);
/* sync(), then the action through the seam; returns only when that failed. */
int init_final_action(enum final_action a);

/* CLOCK_MONOTONIC in seconds. */
double init_now(void);
